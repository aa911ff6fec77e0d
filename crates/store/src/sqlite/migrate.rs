//! Migrations from older SQLite layouts, each run inside the transaction of
//! [`super::schema::upgrade`], which then records the new version.

use rusqlite::{params, Connection};

use super::schema::pk_hash;
use crate::error::Result;

/// Rows hashed per read, so memory stays bounded on large stores and no
/// scan of `changes` is open while its rows are updated.
const CHUNK: usize = 10_000;

/// Layout 1 → 2: `changes.pk_hash` and `changes_by_row (table_id, pk_hash)`
/// instead of `(table_id, pk_text)`.
pub(super) fn v1_to_v2(conn: &Connection) -> Result<()> {
    conn.execute_batch("ALTER TABLE changes ADD COLUMN pk_hash INTEGER NOT NULL DEFAULT 0;")?;
    let mut select =
        conn.prepare("SELECT id, pk_text FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut update = conn.prepare("UPDATE changes SET pk_hash = ?2 WHERE id = ?1")?;
    let mut after = i64::MIN;
    loop {
        let chunk = select
            .query_map(params![after, CHUNK as i64], |r| {
                Ok((r.get::<_, i64>(0)?, pk_hash(r.get_ref(1)?.as_str()?)))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, hash) in &chunk {
            update.execute(params![id, hash])?;
        }
        match chunk.last() {
            Some((id, _)) if chunk.len() == CHUNK => after = *id,
            _ => break,
        }
    }
    // Built after the fill: one sorted build instead of per-row updates.
    conn.execute_batch(
        "DROP INDEX changes_by_row;
         CREATE INDEX changes_by_row ON changes (table_id, pk_hash);",
    )?;
    Ok(())
}
