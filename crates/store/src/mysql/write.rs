//! The MySQL writer.

use std::collections::{HashMap, HashSet};

use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use pipeline::record::{ChangeRecord, Checkpoint, JsonText};

use super::{check_layout, params, read_checkpoint, Client};
use crate::config::MysqlConfig;
use crate::error::{Result, StoreError};
use crate::types::{Alert, SchemaPosition, SchemaSnapshot, WriteOutcome};
use crate::util::{self, op_code, RollupDelta};
use crate::Store;

/// Rows per multi-row INSERT (well under the 65535 placeholder limit).
const ROWS_PER_INSERT: usize = 500;

pub struct MysqlStore {
    client: Client,
    ids: Interned,
}

type LastStatement = (Option<String>, Option<u64>, Option<String>, i64);

#[derive(Default)]
struct Interned {
    tables: HashMap<(String, String), i64>,
    files: HashMap<String, i64>,
    rules: HashMap<String, i64>,
    /// (gtid, xid, query, id) of the last statement row written.
    last_stmt: Option<LastStatement>,
    next_seq: i64,
    next_stmt: i64,
}

impl MysqlStore {
    /// Connects to the storage database, which [`super::init_db`] must have
    /// created.
    pub fn open(config: &MysqlConfig) -> Result<MysqlStore> {
        let client = Client::connect(config, true)?;
        let mut store = MysqlStore {
            client,
            ids: Interned::default(),
        };
        store.reload()?;
        Ok(store)
    }

    fn reload(&mut self) -> Result<()> {
        let client = &self.client;
        let (next_seq, next_stmt) = client.block_on(async {
            let mut conn = client.conn().await?;
            check_layout(&mut conn, &client.database).await?;
            let seq: Option<i64> = conn
                .query_first("SELECT v FROM meta WHERE k = 'next_seq'")
                .await?;
            let stmt: Option<i64> = conn
                .query_first("SELECT v FROM meta WHERE k = 'next_stmt'")
                .await?;
            Ok::<_, StoreError>((seq.unwrap_or(1), stmt.unwrap_or(1)))
        })?;
        self.ids = Interned {
            next_seq,
            next_stmt,
            ..Interned::default()
        };
        Ok(())
    }
}

/// Interns `name` in a `(id AUTO_INCREMENT, name UNIQUE)` table. A duplicate
/// is fine; any other error (a name too long in strict mode) fails the batch.
async fn intern(conn: &mut Conn, table: &str, name: &str) -> Result<i64> {
    conn.exec_drop(
        format!("INSERT INTO {table} (name) VALUES (?) ON DUPLICATE KEY UPDATE id = id"),
        (name,),
    )
    .await?;
    let id: Option<i64> = conn
        .exec_first(format!("SELECT id FROM {table} WHERE name = ?"), (name,))
        .await?;
    id.ok_or_else(|| StoreError::Layout(format!("{table}: {name} vanished")))
}

async fn table_id(ids: &mut Interned, conn: &mut Conn, db: &str, table: &str) -> Result<i64> {
    if let Some(id) = ids.tables.get(&(db.to_string(), table.to_string())) {
        return Ok(*id);
    }
    conn.exec_drop(
        "INSERT INTO tracked_tables (db, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = id",
        (db, table),
    )
    .await?;
    let id: Option<i64> = conn
        .exec_first(
            "SELECT id FROM tracked_tables WHERE db = ? AND name = ?",
            (db, table),
        )
        .await?;
    let id = id.ok_or_else(|| StoreError::Layout("tracked_tables row vanished".into()))?;
    ids.tables.insert((db.to_string(), table.to_string()), id);
    Ok(id)
}

async fn file_id(ids: &mut Interned, conn: &mut Conn, name: &str) -> Result<i64> {
    if let Some(id) = ids.files.get(name) {
        return Ok(*id);
    }
    let id = intern(conn, "binlog_files", name).await?;
    ids.files.insert(name.to_string(), id);
    Ok(id)
}

async fn rule_id(ids: &mut Interned, conn: &mut Conn, name: &str) -> Result<i64> {
    if let Some(id) = ids.rules.get(name) {
        return Ok(*id);
    }
    let id = intern(conn, "rules", name).await?;
    ids.rules.insert(name.to_string(), id);
    Ok(id)
}

/// Runs `INSERT INTO <head> VALUES (...),(...) <tail>` in chunks.
async fn insert_rows(
    conn: &mut Conn,
    head: &str,
    tail: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let one = format!("({})", vec!["?"; width].join(","));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut values = Vec::new();
        let mut n = 0;
        for row in rows.by_ref().take(ROWS_PER_INSERT) {
            values.extend(row);
            n += 1;
        }
        let sql = format!(
            "INSERT INTO {head} VALUES {} {tail}",
            vec![one.as_str(); n].join(",")
        );
        conn.exec_drop(sql, params(values)).await?;
    }
    Ok(())
}

async fn write(
    ids: &mut Interned,
    conn: &mut Conn,
    records: &[ChangeRecord],
    alerts: &[Alert],
    cp: &Checkpoint,
) -> Result<WriteOutcome> {
    let mut outcome = WriteOutcome::default();
    // Which keys are already stored: one range query per binlog file.
    let mut ranges: HashMap<i64, (u64, u64)> = HashMap::new();
    let mut file_ids = Vec::with_capacity(records.len());
    for rec in records {
        let fid = file_id(ids, conn, &rec.key.binlog_file).await?;
        file_ids.push(fid);
        let r = ranges
            .entry(fid)
            .or_insert((rec.key.event_pos, rec.key.event_pos));
        r.0 = r.0.min(rec.key.event_pos);
        r.1 = r.1.max(rec.key.event_pos);
    }
    let mut held: HashSet<(i64, u64, u32)> = HashSet::new();
    for (fid, (lo, hi)) in &ranges {
        let rows: Vec<(u64, u32)> = conn
            .exec(
                "SELECT event_pos, row_index FROM changes WHERE file_id = ? AND event_pos BETWEEN ? AND ?",
                (fid, lo, hi),
            )
            .await?;
        held.extend(rows.into_iter().map(|(p, r)| (*fid, p, r)));
    }

    let mut change_rows = Vec::new();
    let mut stmt_rows: Vec<Vec<Value>> = Vec::new();
    let mut stmt_refs: Vec<(i64, i64)> = Vec::new();
    let mut tag_rows = Vec::new();
    let mut rollups = RollupDelta::default();
    for (rec, fid) in records.iter().zip(file_ids) {
        // `insert` also catches a key repeated within the batch.
        if !held.insert((fid, rec.key.event_pos, rec.key.row_index)) {
            outcome.skipped += 1;
            continue;
        }
        let tid = table_id(ids, conn, &rec.database, &rec.table).await?;
        let seq = ids.next_seq;
        ids.next_seq += 1;
        let stmt_id = if rec.gtid.is_none() && rec.xid.is_none() && rec.query.is_none() {
            None
        } else {
            let same = matches!(&ids.last_stmt, Some((g, x, q, _)) if *g == rec.gtid && *x == rec.xid && *q == rec.query);
            if !same {
                let id = ids.next_stmt;
                ids.next_stmt += 1;
                stmt_rows.push(vec![
                    id.into(),
                    rec.gtid.clone().into(),
                    rec.xid.into(),
                    rec.query.clone().into(),
                    0i64.into(),
                ]);
                ids.last_stmt = Some((rec.gtid.clone(), rec.xid, rec.query.clone(), id));
            }
            let id = ids.last_stmt.as_ref().map(|s| s.3);
            if let Some(id) = id {
                match stmt_refs.last_mut() {
                    Some((last, n)) if *last == id => *n += 1,
                    _ => stmt_refs.push((id, 1)),
                }
            }
            id
        };
        let op = op_code(rec.operation);
        change_rows.push(vec![
            seq.into(),
            tid.into(),
            rec.timestamp.into(),
            op.into(),
            fid.into(),
            rec.key.event_pos.into(),
            rec.key.row_index.into(),
            stmt_id.into(),
            rec.pk_text.as_str().into(),
            rec.primary_key.as_str().into(),
            rec.old_data.as_ref().map(JsonText::as_str).into(),
            rec.new_data.as_ref().map(JsonText::as_str).into(),
            (!rec.changes.is_empty())
                .then(|| rec.changes.as_str())
                .into(),
            (if rec.tags.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&rec.tags)?)
            })
            .into(),
            util::search_text(rec).into(),
        ]);
        for tag in &rec.tags {
            let rid = rule_id(ids, conn, tag).await?;
            tag_rows.push(vec![rid.into(), seq.into()]);
        }
        rollups.add(tid, rec.timestamp, op, seq);
        outcome.inserted += 1;
    }
    insert_rows(
        conn,
        "changes (id, table_id, ts, op, file_id, event_pos, row_index, stmt_id, pk_text, pk, old_data, new_data, diff, tags, search_text)",
        "",
        15,
        change_rows,
    )
    .await?;
    insert_rows(
        conn,
        "statements (id, gtid, xid, query, refs)",
        "",
        5,
        stmt_rows,
    )
    .await?;
    insert_rows(
        conn,
        "statements (id, gtid, xid, query, refs)",
        "ON DUPLICATE KEY UPDATE refs = refs + VALUES(refs)",
        5,
        stmt_refs
            .into_iter()
            .map(|(id, n)| vec![id.into(), Value::NULL, Value::NULL, Value::NULL, n.into()])
            .collect(),
    )
    .await?;
    insert_rows(conn, "change_tags (rule_id, change_id)", "", 2, tag_rows).await?;
    insert_rows(
        conn,
        "rollups (table_id, minute, op, n, min_seq, max_seq)",
        "ON DUPLICATE KEY UPDATE n = n + VALUES(n), min_seq = LEAST(min_seq, VALUES(min_seq)),
             max_seq = GREATEST(max_seq, VALUES(max_seq))",
        6,
        rollups
            .cells
            .iter()
            .map(|((t, m, o), (n, lo, hi))| {
                vec![
                    (*t).into(),
                    (*m).into(),
                    (*o).into(),
                    (*n).into(),
                    (*lo).into(),
                    (*hi).into(),
                ]
            })
            .collect(),
    )
    .await?;
    for a in alerts {
        conn.exec_drop(
            "INSERT INTO alerts (ts, kind, name, priority, db, tbl, change_key, message, details)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id",
            params(vec![
                a.timestamp.into(),
                a.kind.clone().into(),
                a.name.clone().into(),
                a.priority.clone().into(),
                a.database.clone().into(),
                a.table.clone().into(),
                util::alert_change_key(a).into(),
                a.message.clone().into(),
                serde_json::to_string(&a.details)?.into(),
            ]),
        )
        .await?;
        outcome.alerts_inserted += conn.affected_rows() as usize;
    }
    conn.exec_drop(
        "UPDATE meta SET v = CASE k WHEN 'next_seq' THEN ? WHEN 'next_stmt' THEN ? ELSE v + ? END
         WHERE k IN ('next_seq', 'next_stmt', 'total_changes')",
        (ids.next_seq, ids.next_stmt, outcome.inserted as i64),
    )
    .await?;
    conn.exec_drop(
        "INSERT INTO checkpoint (id, binlog_file, binlog_pos, gtid_set, committed_at)
         VALUES (1, ?, ?, ?, UNIX_TIMESTAMP())
         ON DUPLICATE KEY UPDATE binlog_file = VALUES(binlog_file), binlog_pos = VALUES(binlog_pos),
             gtid_set = VALUES(gtid_set), committed_at = VALUES(committed_at)",
        (&cp.binlog_file, cp.binlog_pos, &cp.gtid_set),
    )
    .await?;
    Ok(outcome)
}

impl Store for MysqlStore {
    fn name(&self) -> &str {
        &self.client.name
    }

    fn checkpoint(&mut self) -> Result<Option<Checkpoint>> {
        let client = &self.client;
        client.block_on(async {
            let mut conn = client.conn().await?;
            read_checkpoint(&mut conn).await
        })
    }

    fn write_batch(
        &mut self,
        records: &[ChangeRecord],
        alerts: &[Alert],
        checkpoint: &Checkpoint,
    ) -> Result<WriteOutcome> {
        let client = &self.client;
        let ids = &mut self.ids;
        let result = client.block_on(async {
            let mut conn = client.conn().await?;
            conn.query_drop("START TRANSACTION").await?;
            match write(ids, &mut conn, records, alerts, checkpoint).await {
                Ok(outcome) => {
                    conn.query_drop("COMMIT").await?;
                    Ok(outcome)
                }
                Err(e) => {
                    // A connection that cannot even roll back is not reused.
                    if conn.query_drop("ROLLBACK").await.is_err() {
                        let _ = conn.disconnect().await;
                    }
                    Err(e)
                }
            }
        });
        if result.is_err() {
            // Rolled back: forget ids and names taken in the transaction.
            self.reload()?;
        }
        result
    }

    fn save_schema(&mut self, at: &SchemaPosition, document: &str) -> Result<()> {
        let client = &self.client;
        client.block_on(async {
            let mut conn = client.conn().await?;
            conn.exec_drop(
                "INSERT INTO schema_history (file, pos, document) VALUES (?, ?, ?)
                 ON DUPLICATE KEY UPDATE document = VALUES(document)",
                (&at.binlog_file, at.binlog_pos, document),
            )
            .await?;
            Ok(())
        })
    }

    fn schema_at(&mut self, at: &SchemaPosition) -> Result<Option<SchemaSnapshot>> {
        let client = &self.client;
        client.block_on(async { super::query::schema_at(&mut client.conn().await?, at).await })
    }

    fn schema_earliest(&mut self) -> Result<Option<SchemaSnapshot>> {
        let client = &self.client;
        client.block_on(async { super::query::schema_earliest(&mut client.conn().await?).await })
    }
}
