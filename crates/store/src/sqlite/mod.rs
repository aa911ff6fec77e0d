//! Embedded default store: one SQLite file (WAL) under a data directory.
//!
//! [`SqliteStore`] is the writer; [`SqliteQueries`] serves reads and runs
//! retention on its own connections (WAL readers never block the writer;
//! purge takes the write lock one small chunk at a time).

mod migrate;
mod query;
mod schema;
mod write;

pub use query::SqliteQueries;
pub use write::SqliteStore;

use pipeline::record::{primary_key_text, ChangeKey, ChangeRecord, Checkpoint, JsonText};
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::Map;

use crate::error::{Result, StoreError};
use crate::types::{SchemaPosition, SchemaSnapshot, StoredChange};
use crate::util::op_from_code;

pub(crate) fn read_checkpoint(conn: &Connection) -> Result<Option<Checkpoint>> {
    Ok(conn
        .query_row(
            "SELECT binlog_file, binlog_pos, gtid_set FROM checkpoint WHERE id = 1",
            [],
            |r| {
                Ok(Checkpoint {
                    binlog_file: r.get(0)?,
                    binlog_pos: r.get::<_, i64>(1)? as u64,
                    gtid_set: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn schema_at(conn: &Connection, at: &SchemaPosition) -> Result<Option<SchemaSnapshot>> {
    schema_picked(conn, |keys| crate::util::newest_at_or_before(keys, at))
}

pub(crate) fn schema_earliest(conn: &Connection) -> Result<Option<SchemaSnapshot>> {
    schema_picked(conn, crate::util::oldest)
}

/// The schema document at the position `pick` chooses among those saved.
fn schema_picked(
    conn: &Connection,
    pick: impl FnOnce(Vec<(String, i64)>) -> Option<(String, i64)>,
) -> Result<Option<SchemaSnapshot>> {
    let keys = conn
        .prepare_cached("SELECT file, pos FROM schema_history")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let Some((file, pos)) = pick(keys) else {
        return Ok(None);
    };
    Ok(
        write::load_schema_doc(conn, &file, pos)?.map(|document| SchemaSnapshot {
            at: SchemaPosition {
                binlog_file: file,
                binlog_pos: pos as u64,
            },
            document,
        }),
    )
}

/// Columns every change query selects, in the order [`change_from_row`]
/// reads them.
pub(crate) const CHANGE_COLUMNS: &str =
    "c.id, t.db, t.name, c.ts, c.op, f.name, c.event_pos, c.row_index, \
     c.pk, c.old_data, c.new_data, c.diff, c.tags, s.gtid, s.xid, s.query";

/// Joins that [`CHANGE_COLUMNS`] needs after `FROM changes c ...`.
pub(crate) const CHANGE_JOINS: &str = "JOIN tables t ON t.id = c.table_id \
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

pub(crate) fn change_from_row(r: &Row<'_>) -> Result<StoredChange> {
    let seq: i64 = r.get(0)?;
    let ts: i64 = r.get(3)?;
    let event_pos: i64 = r.get(6)?;
    let row_index: i64 = r.get(7)?;
    let tags: Option<String> = r.get(12)?;
    let pk = json_map(Some(r.get(8)?))?.unwrap_or_default();
    let record = ChangeRecord {
        key: ChangeKey {
            binlog_file: r.get(5)?,
            event_pos: event_pos as u64,
            row_index: u32::try_from(row_index)
                .map_err(|_| StoreError::Layout("row index".into()))?,
        },
        timestamp: u32::try_from(ts).map_err(|_| StoreError::Layout("timestamp".into()))?,
        operation: op_from_code(r.get(4)?)?,
        database: r.get(1)?,
        table: r.get(2)?,
        pk_text: primary_key_text(&pk),
        primary_key: JsonText::from_map(&pk),
        old_data: json_text(r.get(9)?)?,
        new_data: json_text(r.get(10)?)?,
        changes: json_text(r.get(11)?)?.unwrap_or_default(),
        gtid: r.get(13)?,
        xid: r.get::<_, Option<i64>>(14)?.map(|x| x as u64),
        query: r.get(15)?,
        tags: tags
            .map(|t| serde_json::from_str(&t))
            .transpose()?
            .unwrap_or_default(),
    };
    Ok(StoredChange { seq, record })
}
