//! Opening SQLite files of layout 1 (before `changes.pk_hash`): real files
//! built from that layout's DDL, as its writer filled them.

mod common;

use common::*;
use pipeline::record::Operation;
use rusqlite::Connection;
use serde_json::json;
use store::config::SqliteConfig;
use store::sqlite::{SqliteQueries, SqliteStore};
use store::*;

/// Layout 1's DDL exactly as `schema.rs` created it (full-text index apart).
const V1_TABLES: &str = r#"
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
    tags      TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS changes_key ON changes (file_id, event_pos, row_index);
CREATE INDEX IF NOT EXISTS changes_by_table ON changes (table_id);
CREATE INDEX IF NOT EXISTS changes_by_row ON changes (table_id, pk_text);

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

/// Layout 1 file with five changes of ecommerce.users, search-indexed, as
/// its writer left them: rows 1 and 7,a\,b (a composite key's text).
fn v1_file(cfg: &SqliteConfig) -> Connection {
    std::fs::create_dir_all(&cfg.data_dir).unwrap();
    let c = Connection::open(cfg.path()).unwrap();
    c.pragma_update(None, "page_size", 16_384).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.execute_batch(V1_TABLES).unwrap();
    c.execute_batch(&format!(
        "CREATE VIRTUAL TABLE changes_fts USING fts5(
             body, content='', contentless_delete=1, detail=none,
             tokenize='unicode61 remove_diacritics 2');
         INSERT INTO changes_fts (changes_fts, rank) VALUES ('automerge', 16);
         INSERT INTO meta (key, value) VALUES ('layout_version', 1), ('next_seq', 6),
             ('next_stmt', 2), ('total_changes', 5), ('fts_through', 5);
         INSERT INTO tables (id, db, name) VALUES (1, 'ecommerce', 'users');
         INSERT INTO binlog_files (id, name) VALUES (1, 'mysql-bin.000001');
         INSERT INTO statements (id, gtid, xid, query, refs)
             VALUES (1, '0-1-100', 100, 'UPDATE users ...', 5);
         INSERT INTO changes (id, table_id, ts, op, file_id, event_pos, row_index, stmt_id,
                              pk_text, pk, old_data, new_data, diff, tags) VALUES
           (1, 1, {t0}, 1, 1, 100, 0, 1, '1', '{{\"id\":1}}', NULL,
               '{{\"id\":1,\"name\":\"alice\"}}', NULL, NULL),
           (2, 1, {t0}, 1, 1, 100, 1, 1, '7,a\\,b', '{{\"id\":7,\"sku\":\"a,b\"}}', NULL,
               '{{\"id\":7,\"sku\":\"a,b\",\"name\":\"carol\"}}', NULL, NULL),
           (3, 1, {t1}, 2, 1, 100, 2, 1, '1', '{{\"id\":1}}', '{{\"id\":1,\"name\":\"alice\"}}',
               '{{\"id\":1,\"name\":\"alicia\"}}',
               '{{\"name\":{{\"old\":\"alice\",\"new\":\"alicia\"}}}}', NULL),
           (4, 1, {t1}, 2, 1, 100, 3, 1, '7,a\\,b', '{{\"id\":7,\"sku\":\"a,b\"}}',
               '{{\"id\":7,\"sku\":\"a,b\",\"name\":\"carol\"}}',
               '{{\"id\":7,\"sku\":\"a,b\",\"name\":\"caroline\"}}',
               '{{\"name\":{{\"old\":\"carol\",\"new\":\"caroline\"}}}}', NULL),
           (5, 1, {t2}, 2, 1, 100, 4, 1, '1', '{{\"id\":1}}', '{{\"id\":1,\"name\":\"alicia\"}}',
               '{{\"id\":1,\"name\":\"ali\"}}',
               '{{\"name\":{{\"old\":\"alicia\",\"new\":\"ali\"}}}}', NULL);
         INSERT INTO changes_fts (rowid, body) VALUES (1, '1 alice'), (2, '7 a,b carol'),
             (3, '1 alice alicia'), (4, '7 a,b carol caroline'), (5, '1 alicia ali');
         INSERT INTO rollups (table_id, minute, op, n, min_seq, max_seq) VALUES
           (1, {m0}, 1, 2, 1, 2), (1, {m1}, 2, 2, 3, 4), (1, {m2}, 2, 1, 5, 5);
         INSERT INTO checkpoint (id, binlog_file, binlog_pos, gtid_set, committed_at)
             VALUES (1, 'mysql-bin.000001', 200, '0-1-100', 0);",
        t0 = T0,
        t1 = T0 + 60,
        t2 = T0 + 120,
        m0 = T0 / 60,
        m1 = T0 / 60 + 1,
        m2 = T0 / 60 + 2,
    ))
    .unwrap();
    c
}

fn meta(cfg: &SqliteConfig, key: &str) -> i64 {
    let c = Connection::open(cfg.path()).unwrap();
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .unwrap()
}

fn index_columns(cfg: &SqliteConfig) -> Vec<String> {
    let c = Connection::open(cfg.path()).unwrap();
    let mut s = c
        .prepare("SELECT name FROM pragma_index_info('changes_by_row') ORDER BY seqno")
        .unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn names(page: &Page<StoredChange>) -> Vec<(i64, String)> {
    page.items
        .iter()
        .map(|c| {
            let img = c.record.new_data.as_ref().or(c.record.old_data.as_ref());
            (
                c.seq,
                img.unwrap().to_map()["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn history(q: &SqliteQueries, pk: &str, order: Order) -> Page<StoredChange> {
    let mut h = RowHistoryQuery::new("ecommerce", "users", pk);
    h.order = order;
    q.row_history(&h).unwrap()
}

fn named(v: &[(i64, &str)]) -> Vec<(i64, String)> {
    v.iter().map(|(s, n)| (*s, n.to_string())).collect()
}

#[test]
fn writer_migrates_a_v1_file_and_row_history_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(dir.path());
    drop(v1_file(&cfg));
    assert_eq!(index_columns(&cfg), ["table_id", "pk_text"]);

    let mut w = SqliteStore::open(&cfg).unwrap();
    assert_eq!(meta(&cfg, "layout_version"), 2);
    assert_eq!(index_columns(&cfg), ["table_id", "pk_hash"]);
    let q = SqliteQueries::open(&cfg).unwrap();
    assert_eq!(
        names(&history(&q, "1", Order::Asc)),
        named(&[(1, "alice"), (3, "alicia"), (5, "ali")])
    );
    assert_eq!(
        names(&history(&q, "7,a\\,b", Order::Desc)),
        named(&[(4, "caroline"), (2, "carol")])
    );
    let row = q.row_as_of("ecommerce", "users", "1", T0 + 60).unwrap();
    assert_eq!(row.row.unwrap()["name"], json!("alicia"));

    // New changes of migrated rows follow the old ones, inline search
    // indexing carries on, and search still finds the migrated changes.
    let f = "mysql-bin.000001";
    let upd = rec(
        f,
        300,
        0,
        T0 + 180,
        Operation::Update,
        "users",
        json!({"id": 1}),
        Some(json!({"id": 1, "name": "ali"})),
        Some(json!({"id": 1, "name": "al"})),
    );
    assert_eq!(w.write_batch(&[upd], &[], &cp(f, 400)).unwrap().inserted, 1);
    assert_eq!(
        names(&history(&q, "1", Order::Asc)),
        named(&[(1, "alice"), (3, "alicia"), (5, "ali"), (6, "al")])
    );
    assert_eq!(meta(&cfg, "fts_through"), 6);
    let found = q
        .search(&SearchQuery {
            text: "alicia".into(),
            table: None,
            cursor: None,
            limit: 10,
        })
        .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [5, 3]
    );

    // Reopening a migrated file changes nothing.
    drop((w, q));
    let _w = SqliteStore::open(&cfg).unwrap();
    let q = SqliteQueries::open(&cfg).unwrap();
    assert_eq!(meta(&cfg, "layout_version"), 2);
    assert_eq!(history(&q, "1", Order::Asc).items.len(), 4);
}

#[test]
fn queries_alone_migrate_a_v1_file() {
    // `serve` opens an existing store without a writer.
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(dir.path());
    drop(v1_file(&cfg));
    let q = SqliteQueries::open(&cfg).unwrap();
    assert_eq!(meta(&cfg, "layout_version"), 2);
    assert_eq!(
        names(&history(&q, "7,a\\,b", Order::Asc)),
        named(&[(2, "carol"), (4, "caroline")])
    );
}

#[test]
fn a_failed_migration_leaves_the_v1_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(dir.path());
    let c = v1_file(&cfg);
    // Fails the migration after the column was added and some rows filled.
    c.execute_batch(
        "CREATE TRIGGER poison BEFORE UPDATE ON changes WHEN OLD.id = 4
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
    )
    .unwrap();
    let err = SqliteStore::open(&cfg).err().expect("migration fails");
    assert!(err.to_string().contains("poisoned row"), "{err}");
    assert_eq!(meta(&cfg, "layout_version"), 1);
    assert_eq!(index_columns(&cfg), ["table_id", "pk_text"]);
    let columns: i64 = c
        .query_row(
            "SELECT count(*) FROM pragma_table_info('changes') WHERE name = 'pk_hash'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(columns, 0);
    // Without the obstacle the next open migrates.
    c.execute_batch("DROP TRIGGER poison").unwrap();
    let _w = SqliteStore::open(&cfg).unwrap();
    let q = SqliteQueries::open(&cfg).unwrap();
    assert_eq!(history(&q, "1", Order::Asc).items.len(), 3);
}

#[test]
fn a_newer_layout_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(dir.path());
    let c = v1_file(&cfg);
    c.execute("UPDATE meta SET value = 3 WHERE key = 'layout_version'", [])
        .unwrap();
    for err in [
        SqliteStore::open(&cfg).err().expect("writer refuses"),
        SqliteQueries::open(&cfg).err().expect("queries refuse"),
    ] {
        assert!(
            err.to_string()
                .contains("layout version 3, this build reads 2"),
            "{err}"
        );
    }
    assert_eq!(meta(&cfg, "layout_version"), 3);
    assert_eq!(index_columns(&cfg), ["table_id", "pk_text"]);
}
