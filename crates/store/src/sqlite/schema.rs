//! The SQLite file layout.
//!
//! Ingest speed drives it: changes get a store-assigned `INTEGER PRIMARY KEY`
//! (the rowid, so no separate key b-tree), names of tables, binlog files,
//! rules and statements are interned in small tables, and there are exactly
//! three secondary indexes on `changes`, all appended to near their right
//! edge in binlog order:
//! - `changes_key (file_id, event_pos, row_index)` UNIQUE — idempotency;
//! - `changes_by_table (table_id)` (+ rowid) — a table's changes by seq;
//! - `changes_by_row (table_id, pk_hash)` (+ rowid) — row history. An
//!   integer key instead of the text: cheaper to compare and store. A key
//!   that is one integer (auto-increment: most tables) is its own key, so
//!   new rows still append near the right edge; a hash of every key would
//!   scatter inserts over the whole index (measured: slower, file +18%).
//!   Lookups also compare `pk_text`, so hash collisions never mix rows.
//!
//! Time ranges use the rollups: each (table, minute, operation) cell keeps
//! its count and the lowest and highest seq it covers, so a time range maps
//! to a seq range of `changes_by_table` without a timestamp index.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::migrate;
use crate::config::FtsTokenizer;
use crate::error::{Result, StoreError};

/// Bumped when the file layout changes; [`upgrade`] migrates older files.
/// 2: `changes.pk_hash` and `changes_by_row (table_id, pk_hash)`.
pub(crate) const LAYOUT_VERSION: i64 = 2;

const TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS checkpoint (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    binlog_file  TEXT NOT NULL,
    binlog_pos   INTEGER NOT NULL,
    gtid_set     TEXT,
    committed_at INTEGER NOT NULL
);

-- Identifiers are at most 64 characters in MySQL; anything longer is not
-- a real table and must not be stored.
CREATE TABLE IF NOT EXISTS tables (
    id   INTEGER PRIMARY KEY,
    db   TEXT NOT NULL CHECK (length(db) BETWEEN 1 AND 64),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    UNIQUE (db, name)
);

CREATE TABLE IF NOT EXISTS binlog_files (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS rules (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- GTID, XID and statement text shared by consecutive changes; `refs`
-- counts the changes pointing here so purge can drop it with the last one.
CREATE TABLE IF NOT EXISTS statements (
    id    INTEGER PRIMARY KEY,
    gtid  TEXT,
    xid   INTEGER,
    query TEXT,
    refs  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS changes (
    id        INTEGER PRIMARY KEY,
    table_id  INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    op        INTEGER NOT NULL CHECK (op BETWEEN 1 AND 3),
    file_id   INTEGER NOT NULL,
    event_pos INTEGER NOT NULL,
    row_index INTEGER NOT NULL,
    stmt_id   INTEGER,
    pk_text   TEXT NOT NULL,
    pk        TEXT NOT NULL,
    old_data  TEXT,
    new_data  TEXT,
    diff      TEXT,
    tags      TEXT,
    -- pk_hash(pk_text), see `pk_hash`. Last, where layout 1 files get it
    -- from ALTER TABLE.
    pk_hash   INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS changes_key ON changes (file_id, event_pos, row_index);
CREATE INDEX IF NOT EXISTS changes_by_table ON changes (table_id);
CREATE INDEX IF NOT EXISTS changes_by_row ON changes (table_id, pk_hash);

CREATE TABLE IF NOT EXISTS rollups (
    table_id INTEGER NOT NULL,
    minute   INTEGER NOT NULL,
    op       INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    min_seq  INTEGER NOT NULL,
    max_seq  INTEGER NOT NULL,
    PRIMARY KEY (table_id, minute, op)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS change_tags (
    rule_id   INTEGER NOT NULL,
    change_id INTEGER NOT NULL,
    PRIMARY KEY (rule_id, change_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alerts (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    priority   TEXT NOT NULL,
    db         TEXT,
    tbl        TEXT,
    change_key TEXT,
    message    TEXT NOT NULL,
    details    TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_once_per_change
    ON alerts (change_key, name) WHERE change_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (ts);

CREATE TABLE IF NOT EXISTS schema_history (
    file     TEXT NOT NULL,
    pos      INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (file, pos)
);
"#;

/// Creates what is missing, migrating an older layout first, and checks the
/// layout version.
pub(crate) fn create(conn: &Connection, full_text: bool, tokenizer: FtsTokenizer) -> Result<()> {
    // Before the DDL below: its `IF NOT EXISTS` would keep an old index of
    // the same name.
    if stored_version(conn)?.is_some() {
        upgrade(conn)?;
    }
    conn.execute_batch(TABLES)?;
    if full_text {
        let tok = match tokenizer {
            FtsTokenizer::Unicode61 => "unicode61 remove_diacritics 2",
            FtsTokenizer::Trigram => "trigram",
        };

        // Contentless: the text lives only in the index (values are in
        // `changes`); contentless_delete lets purge remove entries by rowid.
        // detail=none keeps only which rows hold a token (no positions):
        // about a third cheaper to maintain; phrases are checked on the
        // candidate rows instead (see `SqliteQueries::search`). Merging 16
        // segments at a time (the most allowed) trades a little query
        // speed for ingest.
        let fresh = !has_fts(conn)?;
        conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE IF NOT EXISTS changes_fts USING fts5(
                 body, content='', contentless_delete=1, detail=none, tokenize='{tok}');"
        ))?;
        if fresh {
            conn.execute_batch(
                "INSERT INTO changes_fts (changes_fts, rank) VALUES ('automerge', 16);",
            )?;
        }
    }
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('layout_version', ?1) ON CONFLICT (key) DO NOTHING",
        [LAYOUT_VERSION],
    )?;
    // fts_through: every change with seq <= it is in the search index.
    for (key, value) in [
        ("next_seq", 1),
        ("next_stmt", 1),
        ("total_changes", 0),
        ("fts_through", 0),
    ] {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            rusqlite::params![key, value],
        )?;
    }
    check_version(conn)
}

fn check_version(conn: &Connection) -> Result<()> {
    let version = read_version(conn)?;
    if version != LAYOUT_VERSION {
        return Err(StoreError::Layout(format!(
            "layout version {version}, this build reads {LAYOUT_VERSION}"
        )));
    }
    Ok(())
}

fn read_version(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'layout_version'",
        [],
        |r| r.get(0),
    )
    .map_err(|e| StoreError::Layout(format!("not a binlog-analyzer store ({e})")))
}

/// The layout version of a file that has one (`None` for a new file).
fn stored_version(conn: &Connection) -> Result<Option<i64>> {
    let has_meta: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'layout_version'",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// Brings a file of an older layout to [`LAYOUT_VERSION`], all in one
/// transaction; refuses newer layouts and non-stores.
pub(crate) fn upgrade(conn: &Connection) -> Result<()> {
    if read_version(conn)? == LAYOUT_VERSION {
        return Ok(());
    }
    // Immediate: the writer and a reader opening the same old file at once
    // migrate it once (the second finds it done below).
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let version = read_version(&tx)?;
    match version {
        LAYOUT_VERSION => return Ok(()),
        1 => migrate::v1_to_v2(&tx)?,
        _ => {
            return Err(StoreError::Layout(format!(
                "layout version {version}, this build reads {LAYOUT_VERSION}"
            )))
        }
    }
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'layout_version'",
        [LAYOUT_VERSION],
    )?;
    tx.commit()?;
    Ok(())
}

/// The row-history key of a primary key's text: the integer itself when
/// the text is one in canonical decimal that fits i64 (what
/// `primary_key_text` writes for an integer column), else FNV-1a 64 over
/// its UTF-8 bytes, as i64 (SQLite integers are signed).
///
/// Persisted in `changes.pk_hash` and looked up by queries: it must never
/// change for a given layout version (a new function needs a new layout
/// version and a migration). Hand-written rather than `std::hash` because
/// those make no such promise. Collisions are harmless: lookups also compare
/// `pk_text`.
pub(crate) fn pk_hash(pk_text: &str) -> i64 {
    if let Some(n) = canonical_integer(pk_text) {
        return n;
    }
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in pk_text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h as i64
}

/// `text` as i64 when it is exactly how that number prints (no sign but
/// `-`, no leading zeros, no `-0`), so one integer has one key text.
fn canonical_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

pub(crate) fn has_fts(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'changes_fts'",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<i64> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
}

/// Session settings of every connection.
pub(crate) fn configure(conn: &Connection, fsync_every_commit: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        if fsync_every_commit { "FULL" } else { "NORMAL" },
    )?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pk_hash;

    /// Stored hashes must stay valid: any change here breaks every
    /// existing file's row history.
    #[test]
    fn pk_hash_is_the_integer_or_fnv1a_64_and_never_changes() {
        // Integer keys are themselves.
        assert_eq!(pk_hash("42"), 42);
        assert_eq!(pk_hash("0"), 0);
        assert_eq!(pk_hash("-7"), -7);
        assert_eq!(pk_hash("9223372036854775807"), i64::MAX);
        assert_eq!(pk_hash("-9223372036854775808"), i64::MIN);
        // Other texts hash, number-like ones included.
        assert_eq!(pk_hash("007"), 5_656_221_068_875_067_950);
        assert_eq!(pk_hash("+5"), 568_741_114_260_578_637);
        assert_eq!(pk_hash("-0"), 562_960_981_632_208_760);
        assert_eq!(pk_hash("-"), -5_808_622_843_851_602_280);
        assert_eq!(pk_hash("9223372036854775808"), -590_260_884_831_411_150);
        assert_eq!(pk_hash("1,2"), 5_005_242_015_423_130_918);
        // The FNV-1a 64 reference vectors.
        assert_eq!(pk_hash(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(pk_hash("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
        assert_eq!(pk_hash("foobar"), 0x8594_4171_f739_67e8_u64 as i64);
        // Key texts as the writer stores them (bytes of UTF-8, signed).
        assert_eq!(pk_hash(""), -3_750_763_034_362_895_579);
        assert_eq!(pk_hash("7,a\\,b"), 1_648_216_675_676_886_269);
        assert_eq!(pk_hash("ü"), 775_193_114_114_000_874);
        assert_eq!(pk_hash("NULL"), 8_049_205_518_224_136_996);
    }
}
