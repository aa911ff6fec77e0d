//! Reads and retention for the SQLite store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use pipeline::record::{ChangeKey, Checkpoint, JsonText, Operation};
use rusqlite::types::Value;
use rusqlite::{
    params, params_from_iter, Connection, OpenFlags, OptionalExtension, TransactionBehavior,
};

use super::{change_from_row, schema, CHANGE_COLUMNS, CHANGE_JOINS};
use crate::config::SqliteConfig;
use crate::error::{Result, StoreError};
use crate::types::*;
use crate::util::{self, check_limit, check_range, op_code};
use crate::QueryStore;

/// Read side of a SQLite store: a small pool of connections, shareable
/// between threads.
pub struct SqliteQueries {
    path: PathBuf,
    name: String,
    fsync_every_commit: bool,
    pool: Mutex<Vec<Connection>>,
}

const POOL_KEEP: usize = 8;

impl SqliteQueries {
    /// Opens an existing store file (the writer creates it).
    pub fn open(config: &SqliteConfig) -> Result<SqliteQueries> {
        let path = config.path();
        let q = SqliteQueries {
            name: format!("sqlite:{}", path.display()),
            path,
            fsync_every_commit: config.fsync_every_commit,
            pool: Mutex::new(Vec::new()),
        };
        let conn = q.connect()?;
        q.pool.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        Ok(q)
    }

    fn connect(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        schema::configure(&conn, self.fsync_every_commit)?;
        // `serve` may open an old file without a writer: migrate here too.
        schema::upgrade(&conn)?;
        Ok(conn)
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let taken = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match taken {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(&mut conn);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL_KEEP {
            pool.push(conn);
        }
        result
    }
}

fn table_id(conn: &Connection, db: &str, table: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM tables WHERE db = ?1 AND name = ?2")?
        .query_row(params![db, table], |r| r.get(0))
        .optional()?)
}

fn require_table(conn: &Connection, db: &str, table: &str) -> Result<i64> {
    table_id(conn, db, table)?.ok_or_else(|| StoreError::unknown_table(db, table))
}

/// The seq interval that can hold a table's changes of `range`, from the
/// rollups' per-minute seq bounds; `None` when the range holds nothing.
fn seq_bounds(conn: &Connection, table_id: i64, range: &TimeRange) -> Result<Option<(i64, i64)>> {
    if range.start.is_none() && range.end.is_none() {
        return Ok(Some((i64::MIN, i64::MAX)));
    }
    let (first, last) = range.minutes();
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT min(min_seq), max(max_seq) FROM rollups
             WHERE table_id = ?1 AND minute >= ?2 AND minute < ?3",
        )?
        .query_row(params![table_id, first, last], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(lo.zip(hi))
}

/// WHERE pieces and their parameters.
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

    fn time(&mut self, range: &TimeRange) {
        if let Some(s) = range.start {
            self.and(
                &format!("c.ts >= ?{}", self.params.len() + 1),
                [Value::Integer(s.into())],
            );
        }
        if let Some(e) = range.end {
            self.and(
                &format!("c.ts < ?{}", self.params.len() + 1),
                [Value::Integer(e.into())],
            );
        }
    }

    fn ops(&mut self, ops: &[Operation]) {
        if !ops.is_empty() {
            let codes: Vec<String> = ops.iter().map(|o| op_code(*o).to_string()).collect();
            self.and(&format!("c.op IN ({})", codes.join(",")), []);
        }
    }

    fn next(&self) -> String {
        format!("?{}", self.params.len() + 1)
    }

    /// `col` within `[lo, hi]`, narrowed by the cursor in the page order.
    fn seq_window(&mut self, col: &str, lo: i64, hi: i64, order: Order, cursor: Option<i64>) {
        let (mut lo, mut hi) = (lo, hi);
        match (order, cursor) {
            (Order::Asc, Some(c)) => lo = lo.max(c.saturating_add(1)),
            (Order::Desc, Some(c)) => hi = hi.min(c.saturating_sub(1)),
            _ => {}
        }
        let a = self.next();
        self.and(&format!("{col} >= {a}"), [Value::Integer(lo)]);
        let b = self.next();
        self.and(&format!("{col} <= {b}"), [Value::Integer(hi)]);
    }
}

fn order_sql(order: Order) -> &'static str {
    match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    }
}

/// Runs a change query that selects `limit + 1` rows and turns the extra
/// row into the next cursor.
fn change_page(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    limit: u32,
) -> Result<Page<StoredChange>> {
    Ok(paginate(fetch_changes(conn, sql, params)?, limit, |c| {
        c.seq
    }))
}

fn fetch_changes(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<StoredChange>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut items = Vec::new();
    while let Some(r) = rows.next()? {
        items.push(change_from_row(r)?);
    }
    Ok(items)
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

/// A row's changes by `changes_by_row`, `limit + 1` of them. The hash
/// finds the row, the text rules out hash collisions.
fn row_history_sql(tid: i64, q: &RowHistoryQuery, limit: u32) -> (String, Vec<Value>) {
    let mut f = Filter::default();
    f.params.push(Value::Integer(tid));
    f.params
        .push(Value::Integer(schema::pk_hash(&q.primary_key)));
    f.params.push(Value::Text(q.primary_key.clone()));
    f.seq_window("c.id", i64::MIN, i64::MAX, q.order, q.cursor);
    f.time(&q.range);
    f.ops(&q.operations);
    f.params.push(Value::Integer(i64::from(limit) + 1));
    let sql = format!(
        "SELECT {CHANGE_COLUMNS} FROM changes c INDEXED BY changes_by_row {CHANGE_JOINS}
         WHERE c.table_id = ?1 AND c.pk_hash = ?2 AND c.pk_text = ?3 {} ORDER BY c.id {} LIMIT ?{}",
        f.sql,
        order_sql(q.order),
        f.params.len()
    );
    (sql, f.params)
}

fn rollup_rows(
    conn: &Connection,
    table_ids: &[i64],
    range: &TimeRange,
    width: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    let (first, last) = range.minutes();
    let mut stmt = conn.prepare_cached(
        "SELECT (minute / ?4) * ?4, op, sum(n) FROM rollups
         WHERE table_id = ?1 AND minute >= ?2 AND minute < ?3 GROUP BY 1, 2",
    )?;
    let mut out = Vec::new();
    for id in table_ids {
        let rows = stmt.query_map(params![id, first, last, width], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

impl QueryStore for SqliteQueries {
    fn name(&self) -> &str {
        &self.name
    }

    fn tables(&self) -> Result<Vec<TableRef>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached("SELECT db, name FROM tables ORDER BY db, name")?;
            let rows = stmt.query_map([], |r| {
                Ok(TableRef::new(
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn changes(&self, q: &ChangesQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.with_conn(|conn| {
            let tid = require_table(conn, &q.database, &q.table)?;
            let Some((lo, hi)) = seq_bounds(conn, tid, &q.range)? else {
                return Ok(Page {
                    items: vec![],
                    next: None,
                });
            };
            let mut f = Filter::default();
            f.params.push(Value::Integer(tid));
            f.seq_window("c.id", lo, hi, q.order, q.cursor);
            f.time(&q.range);
            f.ops(&q.operations);
            f.params.push(Value::Integer(i64::from(limit) + 1));
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c INDEXED BY changes_by_table {CHANGE_JOINS}
                 WHERE c.table_id = ?1 {} ORDER BY c.id {} LIMIT ?{}",
                f.sql,
                order_sql(q.order),
                f.params.len()
            );
            change_page(conn, &sql, &f.params, limit)
        })
    }

    fn change_by_key(&self, key: &ChangeKey) -> Result<Option<StoredChange>> {
        self.with_conn(|conn| {
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c {CHANGE_JOINS}
                 WHERE c.file_id = (SELECT id FROM binlog_files WHERE name = ?1)
                   AND c.event_pos = ?2 AND c.row_index = ?3"
            );
            let Ok(pos) = i64::try_from(key.event_pos) else {
                return Ok(None);
            };
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![key.binlog_file, pos, i64::from(key.row_index)])?;
            match rows.next()? {
                Some(r) => Ok(Some(change_from_row(r)?)),
                None => Ok(None),
            }
        })
    }

    fn row_history(&self, q: &RowHistoryQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.with_conn(|conn| {
            let tid = require_table(conn, &q.database, &q.table)?;
            let (sql, params) = row_history_sql(tid, q, limit);
            change_page(conn, &sql, &params, limit)
        })
    }

    fn column_changes(&self, q: &ColumnChangesQuery) -> Result<Page<ColumnChangeItem>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        let path = util::column_path(&q.column)?;
        self.with_conn(|conn| {
            let tid = require_table(conn, &q.database, &q.table)?;
            let Some((lo, hi)) = seq_bounds(conn, tid, &q.range)? else {
                return Ok(Page { items: vec![], next: None });
            };
            let mut f = Filter::default();
            f.params.push(Value::Integer(tid));
            f.params.push(Value::Text(path));
            f.seq_window("c.id", lo, hi, q.order, q.cursor);
            f.time(&q.range);
            f.params.push(Value::Integer(i64::from(limit) + 1));
            // An UPDATE counts when the diff names the column (or, without a
            // diff, when the images differ there).
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM changes c INDEXED BY changes_by_table {CHANGE_JOINS}
                 WHERE c.table_id = ?1 {}
                   AND CASE c.op
                       WHEN 1 THEN json_type(c.new_data, ?2) IS NOT NULL
                       WHEN 3 THEN json_type(c.old_data, ?2) IS NOT NULL
                       ELSE json_type(c.diff, ?2) IS NOT NULL
                            OR (c.diff IS NULL AND json_extract(c.old_data, ?2) IS NOT json_extract(c.new_data, ?2))
                       END
                 ORDER BY c.id {} LIMIT ?{}",
                f.sql,
                order_sql(q.order),
                f.params.len()
            );
            let page = change_page(conn, &sql, &f.params, limit)?;
            Ok(Page {
                items: page
                    .items
                    .into_iter()
                    .map(|c| column_item(c, &q.column))
                    .collect(),
                next: page.next,
            })
        })
    }

    fn table_stats(&self, database: &str, table: &str, range: TimeRange) -> Result<TableStats> {
        check_range(&range)?;
        self.with_conn(|conn| {
            let tid = require_table(conn, database, table)?;
            // Hour buckets are enough for daily and hour-of-day figures.
            util::stats_from_rollups(rollup_rows(conn, &[tid], &range, 60)?)
        })
    }

    fn trend(&self, q: &TrendQuery) -> Result<Vec<TrendPoint>> {
        check_range(&q.range)?;
        self.with_conn(|conn| {
            let ids = match &q.table {
                Some(t) => vec![require_table(conn, &t.database, &t.table)?],
                None => conn
                    .prepare_cached("SELECT id FROM tables")?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()?,
            };
            util::trend_from_rollups(
                rollup_rows(conn, &ids, &q.range, q.bucket.minutes())?,
                q.bucket,
            )
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        let plan = util::fts5_plan(&q.text)?;
        self.with_conn(|conn| {
            if !schema::has_fts(conn)? {
                return Err(StoreError::invalid("q", "full-text search is disabled for this store"));
            }
            let table = match &q.table {
                Some(t) => Some(require_table(conn, &t.database, &t.table)?),
                None => None,
            };
            // Candidates newest first, in rounds, until the page is full:
            // multi-token words are checked on the rows themselves.
            let round = i64::from(limit).max(64) + 1;
            let mut cursor = q.cursor;
            let mut items = Vec::new();
            loop {
                let mut f = Filter::default();
                f.params.push(Value::Text(plan.expression.clone()));
                if let Some(tid) = table {
                    let p = f.next();
                    f.and(&format!("c.table_id = {p}"), [Value::Integer(tid)]);
                }
                f.seq_window("x.rowid", i64::MIN, i64::MAX, Order::Desc, cursor);
                f.params.push(Value::Integer(round));
                let sql = format!(
                    "SELECT {CHANGE_COLUMNS} FROM changes_fts x JOIN changes c ON c.id = x.rowid {CHANGE_JOINS}
                     WHERE changes_fts MATCH ?1 {} ORDER BY x.rowid DESC LIMIT ?{}",
                    f.sql,
                    f.params.len()
                );
                let batch = fetch_changes(conn, &sql, &f.params)?;
                let exhausted = (batch.len() as i64) < round;
                cursor = batch.last().map(|c| c.seq).or(cursor);
                items.extend(batch.into_iter().filter(|c| plan.accepts(&c.record)));
                if exhausted || items.len() > limit as usize {
                    break;
                }
            }
            Ok(paginate(items, limit, |c| c.seq))
        })
    }

    fn tagged(&self, q: &TaggedQuery) -> Result<Page<StoredChange>> {
        let limit = check_limit(q.limit)?;
        check_range(&q.range)?;
        self.with_conn(|conn| {
            let rule: Option<i64> = conn
                .prepare_cached("SELECT id FROM rules WHERE name = ?1")?
                .query_row([&q.rule], |r| r.get(0))
                .optional()?;
            let Some(rule) = rule else {
                return Ok(Page { items: vec![], next: None });
            };
            let mut f = Filter::default();
            f.params.push(Value::Integer(rule));
            if let Some(t) = &q.table {
                let tid = require_table(conn, &t.database, &t.table)?;
                let p = f.next();
                f.and(&format!("c.table_id = {p}"), [Value::Integer(tid)]);
            }
            f.seq_window("g.change_id", i64::MIN, i64::MAX, q.order, q.cursor);
            f.time(&q.range);
            f.params.push(Value::Integer(i64::from(limit) + 1));
            let sql = format!(
                "SELECT {CHANGE_COLUMNS} FROM change_tags g JOIN changes c ON c.id = g.change_id {CHANGE_JOINS}
                 WHERE g.rule_id = ?1 {} ORDER BY g.change_id {} LIMIT ?{}",
                f.sql,
                order_sql(q.order),
                f.params.len()
            );
            change_page(conn, &sql, &f.params, limit)
        })
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Page<StoredAlert>> {
        let limit = check_limit(if q.limit == 0 { DEFAULT_LIMIT } else { q.limit })?;
        check_range(&q.range)?;
        self.with_conn(|conn| {
            let mut f = Filter::default();
            f.seq_window("id", i64::MIN, i64::MAX, Order::Desc, q.cursor);
            if let Some(s) = q.range.start {
                let p = f.next();
                f.and(&format!("ts >= {p}"), [Value::Integer(s.into())]);
            }
            if let Some(e) = q.range.end {
                let p = f.next();
                f.and(&format!("ts < {p}"), [Value::Integer(e.into())]);
            }
            if let Some(t) = &q.table {
                let (a, b) = (f.params.len() + 1, f.params.len() + 2);
                f.and(
                    &format!("db = ?{a} AND tbl = ?{b}"),
                    [
                        Value::Text(t.database.clone()),
                        Value::Text(t.table.clone()),
                    ],
                );
            }
            if let Some(n) = &q.name {
                let p = f.next();
                f.and(&format!("name = {p}"), [Value::Text(n.clone())]);
            }
            f.params.push(Value::Integer(i64::from(limit) + 1));
            let sql = format!(
                "SELECT id, ts, kind, name, priority, db, tbl, change_key, message, details
                 FROM alerts WHERE 1 {} ORDER BY id DESC LIMIT ?{}",
                f.sql,
                f.params.len()
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(f.params.iter()))?;
            let mut items = Vec::new();
            while let Some(r) = rows.next()? {
                let key: Option<String> = r.get(7)?;
                let details: String = r.get(9)?;
                items.push(StoredAlert {
                    id: r.get(0)?,
                    alert: Alert {
                        timestamp: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                        kind: r.get(2)?,
                        name: r.get(3)?,
                        priority: r.get(4)?,
                        database: r.get(5)?,
                        table: r.get(6)?,
                        change: key.as_deref().and_then(util::parse_change_key),
                        message: r.get(8)?,
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
        self.with_conn(|conn| super::read_checkpoint(conn))
    }

    fn health(&self) -> StoreHealth {
        let probe = self.with_conn(|conn| {
            let cp = super::read_checkpoint(conn)?;
            let total = schema::meta(conn, "total_changes")?;
            let backlog = if schema::has_fts(conn)? {
                Some(schema::meta(conn, "next_seq")? - 1 - schema::meta(conn, "fts_through")?)
            } else {
                None
            };
            Ok((cp, total, backlog))
        });
        let size = ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                std::fs::metadata(p).ok().map(|m| m.len())
            })
            .sum();
        match probe {
            Ok((checkpoint, total, backlog)) => StoreHealth {
                name: self.name.clone(),
                backend: "sqlite".into(),
                ok: true,
                error: None,
                checkpoint,
                changes: u64::try_from(total).ok(),
                size_bytes: Some(size),
                search_backlog: backlog.and_then(|b| u64::try_from(b).ok()),
            },
            Err(e) => StoreHealth {
                name: self.name.clone(),
                backend: "sqlite".into(),
                ok: false,
                error: Some(e.to_string()),
                checkpoint: None,
                changes: None,
                size_bytes: Some(size),
                search_backlog: None,
            },
        }
    }

    fn purge_older_than(&self, before: u32, chunk_rows: usize) -> Result<PurgeReport> {
        let chunk = chunk_rows.clamp(1, 100_000) as i64;
        let cutoff_minute = i64::from(before) / 60;
        let cutoff_ts = cutoff_minute * 60;
        self.with_conn(|conn| {
            let mut report = PurgeReport::default();
            let fts = schema::has_fts(conn)?;
            let tables: Vec<i64> = conn
                .prepare_cached("SELECT id FROM tables")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for tid in tables {
                let bounds: (Option<i64>, Option<i64>) = conn.query_row(
                    "SELECT min(min_seq), max(max_seq) FROM rollups WHERE table_id = ?1 AND minute < ?2",
                    params![tid, cutoff_minute],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let (Some(lo), Some(hi)) = bounds else { continue };
                let mut after = lo - 1;
                while after < hi {
                    let (scanned_to, deleted) = purge_chunk(conn, tid, after, hi, cutoff_ts, chunk, fts)?;
                    report.changes += deleted.changes;
                    report.rollups += deleted.rollups;
                    report.chunks += 1;
                    match scanned_to {
                        Some(s) => after = s,
                        None => break,
                    }
                }
            }
            loop {
                let n = conn.execute(
                    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE ts < ?1 LIMIT ?2)",
                    params![cutoff_ts, chunk],
                )?;
                report.alerts += n as u64;
                if (n as i64) < chunk {
                    break;
                }
            }
            Ok(report)
        })
    }
}

struct Deleted {
    changes: u64,
    rollups: u64,
}

/// One purge transaction: looks at up to `chunk` changes of one table with
/// seq in `(after, hi]` and deletes those older than `cutoff_ts`, keeping
/// rollups, tags, search entries and statements in step. Returns the last
/// seq looked at (`None` when the range is exhausted).
fn purge_chunk(
    conn: &mut Connection,
    tid: i64,
    after: i64,
    hi: i64,
    cutoff_ts: i64,
    chunk: i64,
    fts: bool,
) -> Result<(Option<i64>, Deleted)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut victims = Vec::new();
    let mut last = None;
    {
        let mut scan = tx.prepare_cached(
            "SELECT id, ts, op, stmt_id, tags FROM changes INDEXED BY changes_by_table
             WHERE table_id = ?1 AND id > ?2 AND id <= ?3 ORDER BY id LIMIT ?4",
        )?;
        let mut rows = scan.query(params![tid, after, hi, chunk])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            last = Some(id);
            let ts: i64 = r.get(1)?;
            if ts < cutoff_ts {
                victims.push((
                    id,
                    ts,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ));
            }
        }
    }
    let mut rollup_delta: HashMap<(i64, i64), i64> = HashMap::new();
    let mut stmt_delta: HashMap<i64, i64> = HashMap::new();
    {
        let mut del = tx.prepare_cached("DELETE FROM changes WHERE id = ?1")?;
        let mut del_fts = if fts {
            Some(tx.prepare_cached("DELETE FROM changes_fts WHERE rowid = ?1")?)
        } else {
            None
        };
        let mut del_tag = tx.prepare_cached(
            "DELETE FROM change_tags WHERE change_id = ?1 AND rule_id = (SELECT id FROM rules WHERE name = ?2)",
        )?;
        for (id, ts, op, stmt, tags) in &victims {
            del.execute([id])?;
            if let Some(d) = del_fts.as_mut() {
                d.execute([id])?;
            }
            if let Some(tags) = tags {
                let names: Vec<String> = serde_json::from_str(tags)?;
                for n in names {
                    del_tag.execute(params![id, n])?;
                }
            }
            *rollup_delta.entry((ts / 60, *op)).or_default() += 1;
            if let Some(s) = stmt {
                *stmt_delta.entry(*s).or_default() += 1;
            }
        }
    }
    let mut rollups_removed = 0;
    {
        let mut dec = tx.prepare_cached(
            "UPDATE rollups SET n = n - ?4 WHERE table_id = ?1 AND minute = ?2 AND op = ?3",
        )?;
        let mut drop_empty = tx.prepare_cached(
            "DELETE FROM rollups WHERE table_id = ?1 AND minute = ?2 AND op = ?3 AND n <= 0",
        )?;
        for ((minute, op), n) in &rollup_delta {
            dec.execute(params![tid, minute, op, n])?;
            rollups_removed += drop_empty.execute(params![tid, minute, op])? as u64;
        }
        let mut unref =
            tx.prepare_cached("UPDATE statements SET refs = refs - ?2 WHERE id = ?1")?;
        let mut drop_stmt =
            tx.prepare_cached("DELETE FROM statements WHERE id = ?1 AND refs <= 0")?;
        for (s, n) in &stmt_delta {
            unref.execute(params![s, n])?;
            drop_stmt.execute([s])?;
        }
        tx.prepare_cached("UPDATE meta SET value = value - ?1 WHERE key = 'total_changes'")?
            .execute([victims.len() as i64])?;
    }
    tx.commit()?;
    Ok((
        last,
        Deleted {
            changes: victims.len() as u64,
            rollups: rollups_removed,
        },
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStore;

    fn plan(conn: &Connection, sql: &str, params: &[Value]) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        stmt.query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn row_history_searches_changes_by_row_on_the_hash_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SqliteConfig::new(dir.path());
        drop(SqliteStore::open(&cfg).unwrap());
        let conn = Connection::open(cfg.path()).unwrap();
        let mut q = RowHistoryQuery::new("db", "t", "7,a\\,b");
        for (order, cursor, filtered) in [
            (Order::Asc, None, false),
            (Order::Desc, Some(10), false),
            (Order::Asc, Some(3), true),
        ] {
            q.order = order;
            q.cursor = cursor;
            if filtered {
                q.range = TimeRange {
                    start: Some(100),
                    end: Some(200),
                };
                q.operations = vec![Operation::Update];
            }
            let (sql, params) = row_history_sql(1, &q, 50);
            let steps = plan(&conn, &sql, &params);
            let on_changes: Vec<_> = steps.iter().filter(|s| s.contains(" c ")).collect();
            assert_eq!(on_changes.len(), 1, "{steps:?}");
            assert!(
                on_changes[0]
                    .starts_with("SEARCH c USING INDEX changes_by_row (table_id=? AND pk_hash=?"),
                "{steps:?}"
            );
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{steps:?}"
            );
        }
    }
}
