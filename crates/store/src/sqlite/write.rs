//! The SQLite writer.

use std::collections::HashMap;
use std::path::PathBuf;

use pipeline::record::{ChangeRecord, Checkpoint, JsonText};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::schema;
use crate::config::SqliteConfig;
use crate::error::{Result, StoreError};
use crate::types::{Alert, SchemaPosition, SchemaSnapshot, WriteOutcome};
use crate::util::{self, op_code, RollupDelta};
use crate::Store;

/// The embedded store's writer: one file, one connection.
pub struct SqliteStore {
    conn: Connection,
    name: String,
    path: PathBuf,
    full_text: bool,
    defer_full_text: bool,
    ids: Interned,
}

/// Interned names and the sequence counters. Only valid while in step with
/// the committed file: reloaded (all fields, the `last_*` ones included)
/// after any failed batch.
#[derive(Default)]
struct Interned {
    tables: HashMap<String, HashMap<String, i64>>,
    files: HashMap<String, i64>,
    /// The last name looked up and its id: consecutive rows are mostly of
    /// one table and one file, and comparing a short name is cheaper than
    /// hashing it.
    last_table: Option<(String, String, i64)>,
    last_file: Option<(String, i64)>,
    rules: HashMap<String, i64>,
    /// The statement of the last stored change, shared by following changes
    /// of the same statement.
    last_stmt: Option<StmtKey>,
    next_seq: i64,
    next_stmt: i64,
}

#[derive(PartialEq)]
struct StmtKey {
    gtid: Option<String>,
    xid: Option<u64>,
    query: Option<String>,
    id: i64,
}

impl SqliteStore {
    /// Opens (creating if needed) `data_dir/file_name`.
    pub fn open(config: &SqliteConfig) -> Result<SqliteStore> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StoreError::Io {
            context: format!("creating data directory {}", config.data_dir.display()),
            source,
        })?;
        let path = config.path();
        let conn = Connection::open(&path)?;
        // Larger pages: fewer b-tree splits for rows of a few hundred bytes.
        // Only takes effect when the file is new.
        conn.pragma_update(None, "page_size", 16_384)?;
        schema::configure(&conn, config.fsync_every_commit)?;
        // Fewer, larger WAL checkpoints: ingest commits big transactions.
        conn.pragma_update(None, "wal_autocheckpoint", 8192)?;
        schema::create(&conn, config.full_text, config.tokenizer)?;
        let full_text = schema::has_fts(&conn)?;
        let mut store = SqliteStore {
            conn,
            name: format!("sqlite:{}", path.display()),
            path,
            full_text,
            defer_full_text: config.defer_full_text,
            ids: Interned::default(),
        };
        store.reload()?;
        Ok(store)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Whether the full-text index is maintained (fixed when the file was
    /// created).
    pub fn full_text(&self) -> bool {
        self.full_text
    }

    fn reload(&mut self) -> Result<()> {
        self.ids = Interned {
            next_seq: schema::meta(&self.conn, "next_seq")?,
            next_stmt: schema::meta(&self.conn, "next_stmt")?,
            ..Interned::default()
        };
        Ok(())
    }

    fn write(
        &mut self,
        records: &[ChangeRecord],
        alerts: &[Alert],
        cp: &Checkpoint,
    ) -> Result<WriteOutcome> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = &mut self.ids;
        let first_seq = ids.next_seq;
        // Index inline only when the index is complete up to here, so no
        // change is ever indexed twice (the backlog is `maintain`'s job).
        let index_inline = self.full_text
            && !self.defer_full_text
            && schema::meta(&tx, "fts_through")? == first_seq - 1;
        let mut outcome = WriteOutcome::default();
        let mut rollups = RollupDelta::default();
        let mut stmt_refs: HashMap<i64, i64> = HashMap::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO changes (id, table_id, ts, op, file_id, event_pos, row_index,
                                      stmt_id, pk_text, pk, old_data, new_data, diff, tags,
                                      pk_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (file_id, event_pos, row_index) DO NOTHING",
            )?;
            let mut insert_fts = if index_inline {
                Some(tx.prepare_cached("INSERT INTO changes_fts (rowid, body) VALUES (?1, ?2)")?)
            } else {
                None
            };
            let mut insert_stmt = tx.prepare_cached(
                "INSERT INTO statements (id, gtid, xid, query, refs) VALUES (?1, ?2, ?3, ?4, 0)",
            )?;
            let mut insert_tag = tx.prepare_cached(
                "INSERT OR IGNORE INTO change_tags (rule_id, change_id) VALUES (?1, ?2)",
            )?;
            for rec in records {
                let file_id = ids.file_id(&tx, &rec.key.binlog_file)?;
                let table_id = ids.table_id(&tx, &rec.database, &rec.table)?;
                let event_pos = i64::try_from(rec.key.event_pos).map_err(|_| {
                    StoreError::invalid(
                        "record",
                        format!("event position {} out of range", rec.key.event_pos),
                    )
                })?;
                let seq = ids.next_seq;
                let (stmt_id, new_stmt) = ids.statement_for(rec);
                let op = op_code(rec.operation);
                let pk_hash = schema::pk_hash(&rec.pk_text);
                let inserted = insert.execute(params![
                    seq,
                    table_id,
                    i64::from(rec.timestamp),
                    op,
                    file_id,
                    event_pos,
                    i64::from(rec.key.row_index),
                    stmt_id,
                    rec.pk_text,
                    rec.primary_key.as_str(),
                    rec.old_data.as_ref().map(JsonText::as_str),
                    rec.new_data.as_ref().map(JsonText::as_str),
                    (!rec.changes.is_empty()).then(|| rec.changes.as_str()),
                    if rec.tags.is_empty() {
                        None
                    } else {
                        Some(serde_json::to_string(&rec.tags)?)
                    },
                    pk_hash,
                ])?;
                if inserted == 0 {
                    outcome.skipped += 1;
                    continue;
                }
                ids.next_seq += 1;
                if let Some(id) = stmt_id {
                    if new_stmt {
                        insert_stmt.execute(params![
                            id,
                            rec.gtid,
                            rec.xid.map(|x| x as i64),
                            rec.query
                        ])?;
                        ids.next_stmt = id + 1;
                        ids.last_stmt = Some(StmtKey {
                            gtid: rec.gtid.clone(),
                            xid: rec.xid,
                            query: rec.query.clone(),
                            id,
                        });
                    }
                    *stmt_refs.entry(id).or_default() += 1;
                }
                if let Some(fts) = insert_fts.as_mut() {
                    fts.execute(params![seq, util::search_text(rec)])?;
                }
                for tag in &rec.tags {
                    let rule_id = ids.rule_id(&tx, tag)?;
                    insert_tag.execute(params![rule_id, seq])?;
                }
                rollups.add(table_id, rec.timestamp, op, seq);
                outcome.inserted += 1;
            }
        }
        upsert_rollups(&tx, &rollups)?;
        {
            let mut refs =
                tx.prepare_cached("UPDATE statements SET refs = refs + ?2 WHERE id = ?1")?;
            for (id, n) in &stmt_refs {
                refs.execute(params![id, n])?;
            }
            let mut insert_alert = tx.prepare_cached(
                "INSERT INTO alerts (ts, kind, name, priority, db, tbl, change_key, message, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (change_key, name) WHERE change_key IS NOT NULL DO NOTHING",
            )?;
            for a in alerts {
                outcome.alerts_inserted += insert_alert.execute(params![
                    i64::from(a.timestamp),
                    a.kind,
                    a.name,
                    a.priority,
                    a.database,
                    a.table,
                    util::alert_change_key(a),
                    a.message,
                    serde_json::to_string(&a.details)?,
                ])?;
            }
            let mut set_meta = tx.prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")?;
            set_meta.execute(params!["next_seq", ids.next_seq])?;
            set_meta.execute(params!["next_stmt", ids.next_stmt])?;
            if index_inline {
                set_meta.execute(params!["fts_through", ids.next_seq - 1])?;
            }
            tx.prepare_cached("UPDATE meta SET value = value + ?1 WHERE key = 'total_changes'")?
                .execute([outcome.inserted as i64])?;
            tx.prepare_cached(
                "INSERT INTO checkpoint (id, binlog_file, binlog_pos, gtid_set, committed_at)
                 VALUES (1, ?1, ?2, ?3, unixepoch())
                 ON CONFLICT (id) DO UPDATE SET binlog_file = excluded.binlog_file,
                     binlog_pos = excluded.binlog_pos, gtid_set = excluded.gtid_set,
                     committed_at = excluded.committed_at",
            )?
            .execute(params![
                cp.binlog_file,
                i64::try_from(cp.binlog_pos)
                    .map_err(|_| StoreError::invalid("checkpoint", "position out of range"))?,
                cp.gtid_set
            ])?;
        }
        tx.commit()?;
        Ok(outcome)
    }
}

fn upsert_rollups(conn: &Connection, delta: &RollupDelta) -> Result<()> {
    let mut up = conn.prepare_cached(
        "INSERT INTO rollups (table_id, minute, op, n, min_seq, max_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (table_id, minute, op) DO UPDATE SET n = n + excluded.n,
             min_seq = min(min_seq, excluded.min_seq), max_seq = max(max_seq, excluded.max_seq)",
    )?;
    for ((table_id, minute, op), (n, lo, hi)) in &delta.cells {
        up.execute(params![table_id, minute, op, n, lo, hi])?;
    }
    Ok(())
}

impl Interned {
    fn table_id(&mut self, conn: &Connection, db: &str, table: &str) -> Result<i64> {
        if let Some((d, t, id)) = &self.last_table {
            if d == db && t == table {
                return Ok(*id);
            }
        }
        let id = self.table_id_uncached(conn, db, table)?;
        // Reusing the buffers: rows alternating between tables miss every time.
        match &mut self.last_table {
            Some((d, t, last)) => {
                d.clear();
                d.push_str(db);
                t.clear();
                t.push_str(table);
                *last = id;
            }
            None => self.last_table = Some((db.to_string(), table.to_string(), id)),
        }
        Ok(id)
    }

    fn table_id_uncached(&mut self, conn: &Connection, db: &str, table: &str) -> Result<i64> {
        if let Some(id) = self.tables.get(db).and_then(|t| t.get(table)) {
            return Ok(*id);
        }
        conn.prepare_cached(
            "INSERT INTO tables (db, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?
        .execute(params![db, table])?;
        let id: i64 = conn
            .prepare_cached("SELECT id FROM tables WHERE db = ?1 AND name = ?2")?
            .query_row(params![db, table], |r| r.get(0))?;
        self.tables
            .entry(db.to_string())
            .or_default()
            .insert(table.to_string(), id);
        Ok(id)
    }

    fn file_id(&mut self, conn: &Connection, name: &str) -> Result<i64> {
        if let Some((n, id)) = &self.last_file {
            if n == name {
                return Ok(*id);
            }
        }
        let id = match self.files.get(name) {
            Some(id) => *id,
            None => {
                let id = intern(conn, "binlog_files", name)?;
                self.files.insert(name.to_string(), id);
                id
            }
        };
        match &mut self.last_file {
            Some((n, last)) => {
                n.clear();
                n.push_str(name);
                *last = id;
            }
            None => self.last_file = Some((name.to_string(), id)),
        }
        Ok(id)
    }

    fn rule_id(&mut self, conn: &Connection, name: &str) -> Result<i64> {
        if let Some(id) = self.rules.get(name) {
            return Ok(*id);
        }
        let id = intern(conn, "rules", name)?;
        self.rules.insert(name.to_string(), id);
        Ok(id)
    }

    /// The statement row for `rec`: the previous one when gtid, xid and
    /// query are the same (`false`), else a new id to insert (`true`).
    fn statement_for(&self, rec: &ChangeRecord) -> (Option<i64>, bool) {
        if rec.gtid.is_none() && rec.xid.is_none() && rec.query.is_none() {
            return (None, false);
        }
        match &self.last_stmt {
            Some(s) if s.gtid == rec.gtid && s.xid == rec.xid && s.query == rec.query => {
                (Some(s.id), false)
            }
            _ => (Some(self.next_stmt), true),
        }
    }
}

fn intern(conn: &Connection, table: &str, name: &str) -> Result<i64> {
    conn.prepare_cached(&format!(
        "INSERT INTO {table} (name) VALUES (?1) ON CONFLICT DO NOTHING"
    ))?
    .execute([name])?;
    Ok(conn
        .prepare_cached(&format!("SELECT id FROM {table} WHERE name = ?1"))?
        .query_row([name], |r| r.get(0))?)
}

impl Store for SqliteStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn checkpoint(&mut self) -> Result<Option<Checkpoint>> {
        super::read_checkpoint(&self.conn)
    }

    fn write_batch(
        &mut self,
        records: &[ChangeRecord],
        alerts: &[Alert],
        checkpoint: &Checkpoint,
    ) -> Result<WriteOutcome> {
        let result = self.write(records, alerts, checkpoint);
        if result.is_err() {
            // The transaction rolled back: forget names and counters taken in it.
            self.reload()?;
        }
        result
    }

    fn save_schema(&mut self, at: &SchemaPosition, document: &str) -> Result<()> {
        let pos = i64::try_from(at.binlog_pos)
            .map_err(|_| StoreError::invalid("position", "out of range"))?;
        self.conn.execute(
            "INSERT INTO schema_history (file, pos, document) VALUES (?1, ?2, ?3)
             ON CONFLICT (file, pos) DO UPDATE SET document = excluded.document",
            params![at.binlog_file, pos, document],
        )?;
        Ok(())
    }

    fn schema_at(&mut self, at: &SchemaPosition) -> Result<Option<SchemaSnapshot>> {
        super::schema_at(&self.conn, at)
    }

    fn schema_earliest(&mut self) -> Result<Option<SchemaSnapshot>> {
        super::schema_earliest(&self.conn)
    }

    /// Indexes up to `budget` changes of the search backlog (one
    /// transaction); returns how many.
    fn maintain(&mut self, budget: usize) -> Result<usize> {
        if !self.full_text || budget == 0 {
            return Ok(0);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let through = schema::meta(&tx, "fts_through")?;
        let mut done = 0;
        let mut last = through;
        {
            let mut scan = tx.prepare_cached(
                "SELECT id, pk, old_data, new_data FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let mut insert =
                tx.prepare_cached("INSERT INTO changes_fts (rowid, body) VALUES (?1, ?2)")?;
            let mut rows = scan.query(params![through, budget as i64])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let pk: Option<String> = r.get(1)?;
                let old: Option<String> = r.get(2)?;
                let new: Option<String> = r.get(3)?;
                let text =
                    util::search_text_of_texts(old.as_deref(), new.as_deref(), pk.as_deref())?;
                insert.execute(params![id, text])?;
                last = id;
                done += 1;
            }
        }
        // Past the last row looked at, or everything when none is left.
        let through = if done < budget {
            self.ids.next_seq - 1
        } else {
            last
        };
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'fts_through'",
            [through],
        )?;
        tx.commit()?;
        Ok(done)
    }
}

pub(super) fn load_schema_doc(conn: &Connection, file: &str, pos: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT document FROM schema_history WHERE file = ?1 AND pos = ?2",
            params![file, pos],
            |r| r.get(0),
        )
        .optional()?)
}
