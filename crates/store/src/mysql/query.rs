//! Reads and retention for the MySQL store.

use std::collections::HashMap;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use pipeline::record::{
    primary_key_text, ChangeKey, ChangeRecord, Checkpoint, JsonText, Operation,
};
use serde_json::Map;

use super::{check_layout, col, params, read_checkpoint, Client};
use crate::config::MysqlConfig;
use crate::error::{Result, StoreError};
use crate::types::*;
use crate::util::{self, check_limit, check_range, op_code, op_from_code};
use crate::QueryStore;

/// Read side of a MySQL store: a connection pool on a private runtime.
pub struct MysqlQueries {
    client: Client,
}

impl MysqlQueries {
    pub fn open(config: &MysqlConfig) -> Result<MysqlQueries> {
        let client = Client::connect(config, true)?;
        client.block_on(async {
            let mut conn = client.conn().await?;
            check_layout(&mut conn, &client.database).await
        })?;
        Ok(MysqlQueries { client })
    }

    fn run<T>(&self, f: impl AsyncFnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let client = &self.client;
        client.block_on(async {
            let mut conn = client.conn().await?;
            f(&mut conn).await
        })
    }
}

const CHANGE_COLUMNS: &str = "c.id, t.db, t.name, c.ts, c.op, f.name, c.event_pos, c.row_index, \
     c.pk, c.old_data, c.new_data, c.diff, c.tags, s.gtid, s.xid, s.query";

const CHANGE_JOINS: &str = "JOIN tracked_tables t ON t.id = c.table_id \
     JOIN binlog_files f ON f.id = c.file_id \
     LEFT JOIN statements s ON s.id = c.stmt_id";

fn json_text(text: Option<String>) -> Result<Option<JsonText>> {
    text.map(JsonText::parse)
        .transpose()
        .map_err(StoreError::from)
}

fn json_map(text: Option<String>) -> Result<Option<Map<String, serde_json::Value>>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(StoreError::from)
}

fn change_from_row(mut r: Row) -> Result<StoredChange> {
    let seq: i64 = col(&mut r, 0)?;
    let tags: Option<String> = col(&mut r, 12)?;
    let pk = json_map(Some(col(&mut r, 8)?))?.unwrap_or_default();
    let record = ChangeRecord {
        key: ChangeKey {
            binlog_file: col(&mut r, 5)?,
            event_pos: col(&mut r, 6)?,
            row_index: col(&mut r, 7)?,
        },
        timestamp: col(&mut r, 3)?,
        operation: op_from_code(col(&mut r, 4)?)?,
        database: col(&mut r, 1)?,
        table: col(&mut r, 2)?,
        pk_text: primary_key_text(&pk),
        primary_key: JsonText::from_map(&pk),
        old_data: json_text(col(&mut r, 9)?)?,
        new_data: json_text(col(&mut r, 10)?)?,
        changes: json_text(col(&mut r, 11)?)?.unwrap_or_default(),
        gtid: col(&mut r, 13)?,
        xid: col(&mut r, 14)?,
        query: col(&mut r, 15)?,
        tags: tags
            .map(|t| serde_json::from_str(&t))
            .transpose()?
            .unwrap_or_default(),
    };
    Ok(StoredChange { seq, record })
}

async fn table_id(conn: &mut Conn, db: &str, table: &str) -> Result<Option<i64>> {
    Ok(conn
        .exec_first(
            "SELECT id FROM tracked_tables WHERE db = ? AND name = ?",
            (db, table),
        )
        .await?)
}

async fn require_table(conn: &mut Conn, db: &str, table: &str) -> Result<i64> {
    table_id(conn, db, table)
        .await?
        .ok_or_else(|| StoreError::unknown_table(db, table))
}

async fn seq_bounds(conn: &mut Conn, tid: i64, range: &TimeRange) -> Result<Option<(i64, i64)>> {
    if range.start.is_none() && range.end.is_none() {
        return Ok(Some((i64::MIN, i64::MAX)));
    }
    let (first, last) = range.minutes();
    let row: Option<(Option<i64>, Option<i64>)> = conn
        .exec_first(
            "SELECT MIN(min_seq), MAX(max_seq) FROM rollups WHERE table_id = ? AND minute >= ? AND minute < ?",
            (tid, first, last),
        )
        .await?;
    Ok(row.and_then(|(a, b)| a.zip(b)))
}

#[derive(Default)]
struct Filter {
    sql: String,
    params: Vec<Value>,
}

impl Filter {
    fn and(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
        self.params.extend(values);
    }

    fn time(&mut self, column: &str, range: &TimeRange) {
        if let Some(s) = range.start {
            self.and(&format!("{column} >= ?"), [s.into()]);
        }
        if let Some(e) = range.end {
            self.and(&format!("{column} < ?"), [e.into()]);
        }
    }

    fn ops(&mut self, ops: &[Operation]) {
        if !ops.is_empty() {
            let codes: Vec<String> = ops.iter().map(|o| op_code(*o).to_string()).collect();
            self.and(&format!("c.op IN ({})", codes.join(",")), []);
        }
    }

    fn seq_window(&mut self, column: &str, lo: i64, hi: i64, order: Order, cursor: Option<i64>) {
        let (mut lo, mut hi) = (lo, hi);
        match (order, cursor) {
            (Order::Asc, Some(c)) => lo = lo.max(c.saturating_add(1)),
            (Order::Desc, Some(c)) => hi = hi.min(c.saturating_sub(1)),
            _ => {}
        }
        self.and(&format!("{column} BETWEEN ? AND ?"), [lo.into(), hi.into()]);
    }
}

fn order_sql(order: Order) -> &'static str {
    match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    }
}

fn paginate<T>(mut items: Vec<T>, limit: u32, seq: impl Fn(&T) -> i64) -> Page<T> {
    let limit = limit as usize;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&seq)
    } else {
        None
    };
    Page { items, next }
}

async fn change_page(
    conn: &mut Conn,
    sql: String,
    values: Vec<Value>,
    limit: u32,
) -> Result<Page<StoredChange>> {
    let rows: Vec<Row> = conn.exec(sql, params(values)).await?;
    let items = rows
        .into_iter()
        .map(change_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(paginate(items, limit, |c| c.seq))
}

async fn rollup_rows(
    conn: &mut Conn,
    ids: &[i64],
    range: &TimeRange,
    width: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    let (first, last) = range.minutes();
    let mut out = Vec::new();
    for id in ids {
        let rows: Vec<(i64, i64, i64)> = conn
            .exec(
                "SELECT (minute DIV ?) * ?, op, CAST(SUM(n) AS SIGNED) FROM rollups
                 WHERE table_id = ? AND minute >= ? AND minute < ? GROUP BY 1, 2",
                (width, width, id, first, last),
            )
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

pub(crate) async fn schema_at(
    conn: &mut Conn,
    at: &SchemaPosition,
) -> Result<Option<SchemaSnapshot>> {
    schema_picked(conn, |keys| util::newest_at_or_before(keys, at)).await
}

pub(crate) async fn schema_earliest(conn: &mut Conn) -> Result<Option<SchemaSnapshot>> {
    schema_picked(conn, util::oldest).await
}

/// The schema document at the position `pick` chooses among those saved.
async fn schema_picked(
    conn: &mut Conn,
    pick: impl FnOnce(Vec<(String, i64)>) -> Option<(String, i64)>,
) -> Result<Option<SchemaSnapshot>> {
    let keys: Vec<(String, u64)> = conn.query("SELECT file, pos FROM schema_history").await?;
    let keys = keys
        .into_iter()
        .filter_map(|(f, p)| Some((f, i64::try_from(p).ok()?)))
        .collect();
    let Some((file, pos)) = pick(keys) else {
        return Ok(None);
    };
    let doc: Option<String> = conn
        .exec_first(
            "SELECT document FROM schema_history WHERE file = ? AND pos = ?",
            (&file, pos),
        )
        .await?;
    Ok(doc.map(|document| SchemaSnapshot {
        at: SchemaPosition {
            binlog_file: file,
            binlog_pos: pos as u64,
        },
        document,
    }))
}

fn column_item(change: StoredChange, column: &str) -> ColumnChangeItem {
    let rec = change.record;
    let pick = |img: &Option<JsonText>| img.as_ref().and_then(|m| m.to_map().get(column).cloned());
    ColumnChangeItem {
        seq: change.seq,
        id: rec.key.id(),
        timestamp: rec.timestamp,
        operation: rec.operation,
        old: pick(&rec.old_data),
        new: pick(&rec.new_data),
        primary_key: rec.primary_key.to_map(),
    }
}

impl QueryStore for MysqlQueries {
    fn name(&self) -> &str {
        &self.client.name
    }

    fn tables(&self) -> Result<Vec<TableRef>> {
        self.run(async |conn| {
            let rows: Vec<(String, String)> = conn
                .query("SELECT db, name FROM tracked_tables ORDER BY db, name")
                .await?;
            Ok(rows.into_iter().map(|(d, t)| TableRef::new(d, t)).collect())
        })
    }

    fn changes(&self, q: &ChangesQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.run(async |conn| {
            let tid = require_table(conn, &q.database, &q.table).await?;
            let Some((lo, hi)) = seq_bounds(conn, tid, &q.range).await? else {
                return Ok(Page {
                    items: vec![],
                    next: None,
                });
            };
            let mut f = Filter::default();
            f.params.push(tid.into());
            f.seq_window("c.id", lo, hi, q.order, q.cursor);
            f.time("c.ts", &q.range);
            f.ops(&q.operations);
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c FORCE INDEX (by_table) {CHANGE_JOINS}
                 WHERE c.table_id = ? {} ORDER BY c.id {} LIMIT ?",
                f.sql,
                order_sql(q.order)
            );
            change_page(conn, sql, f.params, limit).await
        })
    }

    fn change_by_key(&self, key: &ChangeKey) -> Result<Option<StoredChange>> {
        self.run(async |conn| {
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c {CHANGE_JOINS}
                 WHERE c.file_id = (SELECT id FROM binlog_files WHERE name = ?)
                   AND c.event_pos = ? AND c.row_index = ?"
            );
            let row: Option<Row> = conn
                .exec_first(sql, (&key.binlog_file, key.event_pos, key.row_index))
                .await?;
            row.map(change_from_row).transpose()
        })
    }

    fn row_history(&self, q: &RowHistoryQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.run(async |conn| {
            let tid = require_table(conn, &q.database, &q.table).await?;
            let mut f = Filter::default();
            f.params.push(tid.into());
            f.params.push(q.primary_key.clone().into());
            f.seq_window("c.id", i64::MIN, i64::MAX, q.order, q.cursor);
            f.time("c.ts", &q.range);
            f.ops(&q.operations);
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c FORCE INDEX (by_row) {CHANGE_JOINS}
                 WHERE c.table_id = ? AND c.pk_text = ? {} ORDER BY c.id {} LIMIT ?",
                f.sql,
                order_sql(q.order)
            );
            change_page(conn, sql, f.params, limit).await
        })
    }

    fn column_changes(&self, q: &ColumnChangesQuery) -> Result<Page<ColumnChangeItem>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        let path = util::column_path(&q.column)?;
        self.run(async |conn| {
            let tid = require_table(conn, &q.database, &q.table).await?;
            let Some((lo, hi)) = seq_bounds(conn, tid, &q.range).await? else {
                return Ok(Page { items: vec![], next: None });
            };
            let mut f = Filter::default();
            f.params.push(tid.into());
            f.seq_window("c.id", lo, hi, q.order, q.cursor);
            f.time("c.ts", &q.range);
            f.and(
                "CASE c.op
                   WHEN 1 THEN JSON_CONTAINS_PATH(c.new_data, 'one', ?)
                   WHEN 3 THEN JSON_CONTAINS_PATH(c.old_data, 'one', ?)
                   ELSE COALESCE(JSON_CONTAINS_PATH(c.diff, 'one', ?), 0)
                        OR (c.diff IS NULL AND NOT (JSON_EXTRACT(c.old_data, ?) <=> JSON_EXTRACT(c.new_data, ?)))
                 END",
                [&path; 5].map(|p| Value::from(p.as_str())),
            );
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c FORCE INDEX (by_table) {CHANGE_JOINS}
                 WHERE c.table_id = ? {} ORDER BY c.id {} LIMIT ?",
                f.sql,
                order_sql(q.order)
            );
            let page = change_page(conn, sql, f.params, limit).await?;
            Ok(Page {
                items: page.items.into_iter().map(|c| column_item(c, &q.column)).collect(),
                next: page.next,
            })
        })
    }

    fn table_stats(&self, database: &str, table: &str, range: TimeRange) -> Result<TableStats> {
        check_range(&range)?;
        self.run(async |conn| {
            let tid = require_table(conn, database, table).await?;
            util::stats_from_rollups(rollup_rows(conn, &[tid], &range, 60).await?)
        })
    }

    fn trend(&self, q: &TrendQuery) -> Result<Vec<TrendPoint>> {
        check_range(&q.range)?;
        self.run(async |conn| {
            let ids = match &q.table {
                Some(t) => vec![require_table(conn, &t.database, &t.table).await?],
                None => conn.query("SELECT id FROM tracked_tables").await?,
            };
            util::trend_from_rollups(
                rollup_rows(conn, &ids, &q.range, q.bucket.minutes()).await?,
                q.bucket,
            )
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        let text = util::mysql_fulltext_query(&q.text)?;
        self.run(async |conn| {
            let mut f = Filter::default();
            f.params.push(text.into());
            if let Some(t) = &q.table {
                let tid = require_table(conn, &t.database, &t.table).await?;
                f.and("c.table_id = ?", [tid.into()]);
            }
            f.seq_window("c.id", i64::MIN, i64::MAX, Order::Desc, q.cursor);
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c {CHANGE_JOINS}
                 WHERE MATCH (c.search_text) AGAINST (? IN BOOLEAN MODE) {} ORDER BY c.id DESC LIMIT ?",
                f.sql
            );
            change_page(conn, sql, f.params, limit).await
        })
    }

    fn tagged(&self, q: &TaggedQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.run(async |conn| {
            let rule: Option<i64> = conn.exec_first("SELECT id FROM rules WHERE name = ?", (&q.rule,)).await?;
            let Some(rule) = rule else {
                return Ok(Page { items: vec![], next: None });
            };
            let mut f = Filter::default();
            f.params.push(rule.into());
            if let Some(t) = &q.table {
                let tid = require_table(conn, &t.database, &t.table).await?;
                f.and("c.table_id = ?", [tid.into()]);
            }
            f.seq_window("g.change_id", i64::MIN, i64::MAX, q.order, q.cursor);
            f.time("c.ts", &q.range);
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM change_tags g JOIN changes c ON c.id = g.change_id {CHANGE_JOINS}
                 WHERE g.rule_id = ? {} ORDER BY g.change_id {} LIMIT ?",
                f.sql,
                order_sql(q.order)
            );
            change_page(conn, sql, f.params, limit).await
        })
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Page<StoredAlert>> {
        let limit = check_limit(if q.limit == 0 { DEFAULT_LIMIT } else { q.limit })?;
        check_range(&q.range)?;
        self.run(async |conn| {
            let mut f = Filter::default();
            f.seq_window("id", i64::MIN, i64::MAX, Order::Desc, q.cursor);
            f.time("ts", &q.range);
            if let Some(t) = &q.table {
                f.and(
                    "db = ? AND tbl = ?",
                    [t.database.clone().into(), t.table.clone().into()],
                );
            }
            if let Some(n) = &q.name {
                f.and("name = ?", [n.clone().into()]);
            }
            f.params.push((i64::from(limit) + 1).into());
            let sql = format!(
                "SELECT id, ts, kind, name, priority, db, tbl, change_key, message, details
                 FROM alerts WHERE 1 {} ORDER BY id DESC LIMIT ?",
                f.sql
            );
            let rows: Vec<Row> = conn.exec(sql, params(f.params)).await?;
            let mut items = Vec::new();
            for mut r in rows {
                let key: Option<String> = col(&mut r, 7)?;
                let details: String = col(&mut r, 9)?;
                items.push(StoredAlert {
                    id: col(&mut r, 0)?,
                    alert: Alert {
                        timestamp: col(&mut r, 1)?,
                        kind: col(&mut r, 2)?,
                        name: col(&mut r, 3)?,
                        priority: col(&mut r, 4)?,
                        database: col(&mut r, 5)?,
                        table: col(&mut r, 6)?,
                        change: key.as_deref().and_then(util::parse_change_key),
                        message: col(&mut r, 8)?,
                        details: serde_json::from_str(&details)?,
                    },
                });
            }
            Ok(paginate(items, limit, |a| a.id))
        })
    }

    fn row_as_of(
        &self,
        database: &str,
        table: &str,
        primary_key: &str,
        at: u32,
    ) -> Result<RowAsOf> {
        let mut history = Vec::new();
        let mut q = RowHistoryQuery::new(database, table, primary_key);
        q.range.end = at.checked_add(1);
        q.limit = MAX_LIMIT;
        loop {
            let page = self.row_history(&q)?;
            history.extend(page.items);
            match page.next {
                Some(n) => q.cursor = Some(n),
                None => break,
            }
        }
        Ok(util::rebuild_row(history, at))
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.run(async |conn| read_checkpoint(conn).await)
    }

    fn health(&self) -> StoreHealth {
        let database = self.client.database.clone();
        let probe = self.run(async |conn| {
            let cp = read_checkpoint(conn).await?;
            let total: Option<i64> = conn.query_first("SELECT v FROM meta WHERE k = 'total_changes'").await?;
            let size: Option<Option<u64>> = conn
                .exec_first(
                    "SELECT CAST(SUM(data_length + index_length) AS UNSIGNED) FROM information_schema.tables
                     WHERE table_schema = ?",
                    (&database,),
                )
                .await?;
            Ok((cp, total, size.flatten()))
        });
        match probe {
            Ok((checkpoint, total, size)) => StoreHealth {
                name: self.client.name.clone(),
                backend: "mysql".into(),
                ok: true,
                error: None,
                checkpoint,
                changes: total.and_then(|t| u64::try_from(t).ok()),
                size_bytes: size,
                search_backlog: Some(0),
            },
            Err(e) => StoreHealth {
                name: self.client.name.clone(),
                backend: "mysql".into(),
                ok: false,
                error: Some(e.to_string()),
                checkpoint: None,
                changes: None,
                size_bytes: None,
                search_backlog: None,
            },
        }
    }

    fn purge_older_than(&self, before: u32, chunk_rows: usize) -> Result<PurgeReport> {
        let chunk = chunk_rows.clamp(1, 100_000) as i64;
        let cutoff_minute = i64::from(before) / 60;
        let cutoff_ts = cutoff_minute * 60;
        self.run(async |conn| {
            let mut report = PurgeReport::default();
            let tables: Vec<i64> = conn.query("SELECT id FROM tracked_tables").await?;
            for tid in tables {
                let bounds: Option<(Option<i64>, Option<i64>)> = conn
                    .exec_first(
                        "SELECT MIN(min_seq), MAX(max_seq) FROM rollups WHERE table_id = ? AND minute < ?",
                        (tid, cutoff_minute),
                    )
                    .await?;
                let Some((Some(lo), Some(hi))) = bounds else { continue };
                let mut after = lo - 1;
                while after < hi {
                    conn.query_drop("START TRANSACTION").await?;
                    let res = purge_chunk(conn, tid, after, hi, cutoff_ts, chunk).await;
                    let (last, deleted, rollups) = match res {
                        Ok(v) => {
                            conn.query_drop("COMMIT").await?;
                            v
                        }
                        Err(e) => {
                            let _ = conn.query_drop("ROLLBACK").await;
                            return Err(e);
                        }
                    };
                    report.changes += deleted;
                    report.rollups += rollups;
                    report.chunks += 1;
                    match last {
                        Some(s) => after = s,
                        None => break,
                    }
                }
            }
            loop {
                conn.exec_drop("DELETE FROM alerts WHERE ts < ? ORDER BY id LIMIT ?", (cutoff_ts, chunk))
                    .await?;
                let n = conn.affected_rows();
                report.alerts += n;
                if (n as i64) < chunk {
                    break;
                }
            }
            Ok(report)
        })
    }
}

type PurgeRow = (i64, i64, i64, Option<i64>, Option<String>);

/// One purge transaction; see the SQLite twin.
async fn purge_chunk(
    conn: &mut Conn,
    tid: i64,
    after: i64,
    hi: i64,
    cutoff_ts: i64,
    chunk: i64,
) -> Result<(Option<i64>, u64, u64)> {
    // id, ts, op, statement (tags go with `change_tags` by id).
    let rows: Vec<PurgeRow> = conn
        .exec(
            "SELECT id, ts, op, stmt_id, tags FROM changes FORCE INDEX (by_table)
             WHERE table_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ? FOR UPDATE",
            (tid, after, hi, chunk),
        )
        .await?;
    let last = rows.last().map(|r| r.0);
    let victims: Vec<_> = rows.into_iter().filter(|r| r.1 < cutoff_ts).collect();
    if victims.is_empty() {
        return Ok((last, 0, 0));
    }
    let ids: Vec<String> = victims.iter().map(|v| v.0.to_string()).collect();
    let id_list = ids.join(",");
    conn.query_drop(format!("DELETE FROM changes WHERE id IN ({id_list})"))
        .await?;
    conn.query_drop(format!(
        "DELETE FROM change_tags WHERE change_id IN ({id_list})"
    ))
    .await?;
    let mut rollup_delta: HashMap<(i64, i64), i64> = HashMap::new();
    let mut stmt_delta: HashMap<i64, i64> = HashMap::new();
    for (_, ts, op, stmt, _) in &victims {
        *rollup_delta.entry((ts / 60, *op)).or_default() += 1;
        if let Some(s) = stmt {
            *stmt_delta.entry(*s).or_default() += 1;
        }
    }
    let mut rollups_removed = 0;
    for ((minute, op), n) in rollup_delta {
        conn.exec_drop(
            "UPDATE rollups SET n = n - ? WHERE table_id = ? AND minute = ? AND op = ?",
            (n, tid, minute, op),
        )
        .await?;
        conn.exec_drop(
            "DELETE FROM rollups WHERE table_id = ? AND minute = ? AND op = ? AND n <= 0",
            (tid, minute, op),
        )
        .await?;
        rollups_removed += conn.affected_rows();
    }
    for (s, n) in stmt_delta {
        conn.exec_drop("UPDATE statements SET refs = refs - ? WHERE id = ?", (n, s))
            .await?;
        conn.exec_drop("DELETE FROM statements WHERE id = ? AND refs <= 0", (s,))
            .await?;
    }
    conn.exec_drop(
        "UPDATE meta SET v = v - ? WHERE k = 'total_changes'",
        (victims.len() as i64,),
    )
    .await?;
    Ok((last, victims.len() as u64, rollups_removed))
}
