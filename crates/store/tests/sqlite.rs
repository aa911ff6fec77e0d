//! The SQLite store against real files in a temp directory.

mod common;

use common::*;
use pipeline::record::Operation;
use serde_json::json;
use store::config::{SqliteConfig, StorageConfig, StoreConfig};
use store::sqlite::{SqliteQueries, SqliteStore};
use store::*;

fn open(dir: &tempfile::TempDir) -> (SqliteStore, SqliteQueries, SqliteConfig) {
    let cfg = SqliteConfig::new(dir.path().join("data"));
    let w = SqliteStore::open(&cfg).unwrap();
    let q = SqliteQueries::open(&cfg).unwrap();
    (w, q, cfg)
}

fn count(cfg: &SqliteConfig, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(cfg.path()).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn every_query_answers_exactly_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, _) = open(&dir);
    assert_eq!(w.checkpoint().unwrap(), None);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp2.clone()));
    check_queries(&q, &fx);
}

#[test]
fn rewriting_a_batch_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, cfg) = open(&dir);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let again = w.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
    assert_eq!(
        (again.inserted, again.skipped, again.alerts_inserted),
        (0, 6, 0)
    );
    // A batch overlapping old and new records stores only the new.
    let mut mixed = fx.batch2.clone();
    let mut r6 = fx.batch2[0].clone();
    r6.key.event_pos = 400;
    mixed.push(r6);
    let o = w.write_batch(&mixed, &[], &fx.cp2).unwrap();
    assert_eq!((o.inserted, o.skipped), (1, 1));
    assert_eq!(count(&cfg, "SELECT count(*) FROM changes"), 8);
    assert_eq!(count(&cfg, "SELECT count(*) FROM alerts"), 2);
    // Rollups counted only what was inserted.
    assert_eq!(
        q.table_stats("ecommerce", "users", TimeRange::all())
            .unwrap()
            .total_changes,
        6
    );
    assert_eq!(q.health().changes, Some(8));
    // After reopening (new writer, fresh caches) still idempotent.
    drop(w);
    let mut w = SqliteStore::open(&cfg).unwrap();
    let o = w.write_batch(&fx.all(), &fx.alerts1, &fx.cp2).unwrap();
    assert_eq!((o.inserted, o.skipped), (0, 7));
    assert_eq!(count(&cfg, "SELECT count(*) FROM changes"), 8);
}

#[test]
fn a_failing_record_rolls_back_the_batch_and_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, cfg) = open(&dir);
    let fx = Fixture::new();
    w.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
    // A database name longer than MySQL allows violates the tables CHECK,
    // after r5 was already inserted in the same transaction.
    let mut bad = fx.batch2[0].clone();
    bad.key.event_pos = 160;
    bad.database = "x".repeat(65);
    let batch = vec![fx.batch2[0].clone(), bad];
    let err = w.write_batch(&batch, &[], &fx.cp2).unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp1.clone()));
    assert_eq!(count(&cfg, "SELECT count(*) FROM changes"), 6);
    assert_eq!(
        count(
            &cfg,
            "SELECT count(*) FROM changes_fts WHERE changes_fts MATCH 'bobby'"
        ),
        1
    );
    assert_eq!(
        q.table_stats("ecommerce", "users", TimeRange::all())
            .unwrap()
            .total_changes,
        4
    );
    // A trigger that aborts mid-batch (a constraint of the engine itself).
    let c = rusqlite::Connection::open(cfg.path()).unwrap();
    c.execute_batch(
        "CREATE TRIGGER poison BEFORE INSERT ON changes WHEN NEW.event_pos = 130
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
    )
    .unwrap();
    let mut poisoned = fx.batch2[0].clone();
    poisoned.key.event_pos = 130;
    let err = w
        .write_batch(&[fx.batch2[0].clone(), poisoned], &fx.alerts1, &fx.cp2)
        .unwrap_err();
    assert!(err.to_string().contains("poisoned row"), "{err}");
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp1.clone()));
    assert_eq!(count(&cfg, "SELECT count(*) FROM changes"), 6);
    c.execute_batch("DROP TRIGGER poison").unwrap();
    // The writer recovers: the same batch now commits whole.
    let o = w.write_batch(&fx.batch2, &[], &fx.cp2).unwrap();
    assert_eq!(o.inserted, 1);
    check_queries(&q, &fx);
}

#[test]
fn purge_removes_old_changes_rollups_and_index_entries_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, cfg) = open(&dir);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let report = q.purge_older_than(T0 + DAY, 2).unwrap();
    assert!(report.chunks >= 3, "{report:?}");
    check_after_purge(&q, report);
    assert_eq!(count(&cfg, "SELECT count(*) FROM rollups"), 1);
    assert_eq!(count(&cfg, "SELECT count(*) FROM statements"), 1);
    assert_eq!(count(&cfg, "SELECT count(*) FROM change_tags"), 0);
    // Purging again finds nothing; ingest continues normally.
    assert_eq!(q.purge_older_than(T0 + DAY, 2).unwrap().changes, 0);
    let mut later = fx.batch2[0].clone();
    later.key.event_pos = 900;
    assert_eq!(w.write_batch(&[later], &[], &fx.cp2).unwrap().inserted, 1);
    assert_eq!(q.health().changes, Some(2));
}

#[test]
fn statements_are_shared_by_consecutive_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, cfg) = open(&dir);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    // r1+r2 share one; o1 (no query but a gtid), r3, r4, o2, r5: one each.
    assert_eq!(count(&cfg, "SELECT count(*) FROM statements"), 6);
    assert_eq!(count(&cfg, "SELECT sum(refs) FROM statements"), 7);
    let all = q.changes(&ChangesQuery::new("ecommerce", "users")).unwrap();
    assert_eq!(all.items[0].record.query, all.items[1].record.query);
    assert_eq!(all.items[0].record.xid, Some(100));
}

#[test]
fn schema_documents_are_found_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, _, _) = open(&dir);
    let at = |f: &str, p| SchemaPosition {
        binlog_file: f.into(),
        binlog_pos: p,
    };
    let earliest = |w: &mut SqliteStore| w.schema_earliest().unwrap().map(|s| s.document);
    assert_eq!(earliest(&mut w), None);
    w.save_schema(&at("mysql-bin.1000000", 500), "{\"v\":3}")
        .unwrap();
    w.save_schema(&at("mysql-bin.999999", 4), "{\"v\":2}")
        .unwrap();
    // The earliest by numeric file order, not by text or by saving order.
    assert_eq!(earliest(&mut w).as_deref(), Some("{\"v\":2}"));
    w.save_schema(&at("mysql-bin.000001", 4), "{\"v\":1}")
        .unwrap();
    assert_eq!(earliest(&mut w).as_deref(), Some("{\"v\":1}"));
    let doc = |w: &mut SqliteStore, f, p| w.schema_at(&at(f, p)).unwrap().map(|s| s.document);
    assert_eq!(doc(&mut w, "mysql-bin.000001", 3), None);
    assert_eq!(
        doc(&mut w, "mysql-bin.000001", 4).as_deref(),
        Some("{\"v\":1}")
    );
    assert_eq!(
        doc(&mut w, "mysql-bin.000500", 9).as_deref(),
        Some("{\"v\":1}")
    );
    // Numeric file order: .1000000 comes after .999999.
    assert_eq!(
        doc(&mut w, "mysql-bin.1000000", 4).as_deref(),
        Some("{\"v\":2}")
    );
    assert_eq!(
        doc(&mut w, "mysql-bin.1000000", 500).as_deref(),
        Some("{\"v\":3}")
    );
    // Saving at the same position replaces.
    w.save_schema(&at("mysql-bin.000001", 4), "{\"v\":4}")
        .unwrap();
    assert_eq!(
        doc(&mut w, "mysql-bin.000002", 1).as_deref(),
        Some("{\"v\":4}")
    );
}

#[test]
fn minimal_row_images_add_up_in_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, _) = open(&dir);
    let f = "mysql-bin.000003";
    let ins = rec(
        f,
        10,
        0,
        T0,
        Operation::Insert,
        "users",
        json!({"id": 5}),
        None,
        Some(json!({"id": 5, "a": 1, "b": "x"})),
    );
    // Minimal images: only the key before, only the changed column after.
    let upd = rec(
        f,
        20,
        0,
        T0 + 10,
        Operation::Update,
        "users",
        json!({"id": 5}),
        Some(json!({"id": 5})),
        Some(json!({"b": "y"})),
    );
    w.write_batch(&[ins, upd], &[], &cp(f, 30)).unwrap();
    let row = q.row_as_of("ecommerce", "users", "5", T0 + 10).unwrap();
    assert_eq!(row.row.unwrap(), obj(json!({"id": 5, "a": 1, "b": "y"})));
}

#[test]
fn composite_keys_use_the_documented_text() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, _) = open(&dir);
    let f = "mysql-bin.000003";
    let r = rec(
        f,
        10,
        0,
        T0,
        Operation::Insert,
        "order_items",
        json!({"order_id": 7, "sku": "a,b"}),
        None,
        Some(json!({"order_id": 7, "sku": "a,b", "qty": 2})),
    );
    w.write_batch(&[r], &[], &cp(f, 30)).unwrap();
    let h = q
        .row_history(&RowHistoryQuery::new("ecommerce", "order_items", "7,a\\,b"))
        .unwrap();
    assert_eq!(h.items.len(), 1);
}

#[test]
fn multistore_resumes_from_the_oldest_checkpoint_and_each_store_skips_what_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteConfig::new(dir.path().join("a"));
    let b = SqliteConfig::new(dir.path().join("b"));
    let storage = StorageConfig {
        primary: StoreConfig::Sqlite(a.clone()),
        backups: vec![StoreConfig::Sqlite(b.clone())],
        retention_days: Some(90),
    };
    storage.validate().unwrap();
    let fx = Fixture::new();
    {
        let mut multi = storage.open().unwrap();
        assert_eq!(multi.resume_checkpoint().unwrap(), None);
        multi.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
        assert_eq!(multi.resume_checkpoint().unwrap(), Some(fx.cp1.clone()));
    }
    // The primary alone gets batch 2 (the backup "crashed" before it).
    {
        let mut primary = SqliteStore::open(&a).unwrap();
        primary.write_batch(&fx.batch2, &[], &fx.cp2).unwrap();
    }
    let mut multi = storage.open().unwrap();
    assert_eq!(multi.resume_checkpoint().unwrap(), Some(fx.cp1.clone()));
    // Replaying from cp1: the primary skips, the backup stores.
    let o = multi.write_batch(&fx.batch2, &[], &fx.cp2).unwrap();
    assert_eq!((o.inserted, o.skipped), (0, 1));
    assert_eq!(
        (multi.status()[0].skipped, multi.status()[1].inserted),
        (1, 1)
    );
    assert_eq!(multi.resume_checkpoint().unwrap(), Some(fx.cp2.clone()));
    for cfg in [&a, &b] {
        let q = SqliteQueries::open(cfg).unwrap();
        check_queries(&q, &fx);
    }
}

#[test]
fn store_without_full_text_refuses_search_but_answers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig {
        full_text: false,
        ..SqliteConfig::new(dir.path())
    };
    let mut w = SqliteStore::open(&cfg).unwrap();
    assert!(!w.full_text());
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let q = SqliteQueries::open(&cfg).unwrap();
    let err = q
        .search(&SearchQuery {
            text: "alice".into(),
            table: None,
            cursor: None,
            limit: 5,
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::InvalidArgument { param: "q", .. }
    ));
    assert_eq!(
        q.table_stats("ecommerce", "users", TimeRange::all())
            .unwrap()
            .total_changes,
        5
    );
    assert_eq!(q.purge_older_than(T0 + DAY, 100).unwrap().changes, 6);
}

#[test]
fn queries_on_a_missing_file_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(dir.path().join("nothing-here"));
    assert!(SqliteQueries::open(&cfg).is_err());
}

#[test]
fn deferred_search_indexing_catches_up_between_batches() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig {
        defer_full_text: true,
        ..SqliteConfig::new(dir.path())
    };
    let mut w = SqliteStore::open(&cfg).unwrap();
    let q = SqliteQueries::open(&cfg).unwrap();
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let alice = SearchQuery {
        text: "alice".into(),
        table: None,
        cursor: None,
        limit: 10,
    };
    assert!(
        q.search(&alice).unwrap().items.is_empty(),
        "not indexed yet"
    );
    assert_eq!(q.health().search_backlog, Some(7));
    assert_eq!(w.maintain(3).unwrap(), 3);
    assert_eq!(q.health().search_backlog, Some(4));
    assert_eq!(w.maintain(100).unwrap(), 4);
    assert_eq!(w.maintain(100).unwrap(), 0);
    assert_eq!(q.health().search_backlog, Some(0));
    check_queries(&q, &fx);
    // Reopened inline and caught up: new batches are indexed as they commit.
    drop(w);
    let mut w = SqliteStore::open(&SqliteConfig {
        defer_full_text: false,
        ..cfg.clone()
    })
    .unwrap();
    let mut r6 = fx.batch2[0].clone();
    r6.key.event_pos = 900;
    r6.old_data = Some(obj(json!({"id": 2, "username": "carol"})).into());
    w.write_batch(&[r6], &[], &fx.cp2).unwrap();
    assert_eq!(q.health().search_backlog, Some(0));
    let carol = SearchQuery {
        text: "carol".into(),
        ..alice.clone()
    };
    assert_eq!(q.search(&carol).unwrap().items.len(), 1);
}

#[test]
fn purge_before_deferred_indexing_leaves_a_consistent_index() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig {
        defer_full_text: true,
        ..SqliteConfig::new(dir.path())
    };
    let mut w = SqliteStore::open(&cfg).unwrap();
    let q = SqliteQueries::open(&cfg).unwrap();
    let fx = Fixture::new();
    fx.write_all(&mut w);
    assert_eq!(w.maintain(2).unwrap(), 2);
    let report = q.purge_older_than(T0 + DAY, 2).unwrap();
    assert_eq!(w.maintain(100).unwrap(), 1, "only r5 is left to index");
    check_after_purge(&q, report);
    let c = rusqlite::Connection::open(cfg.path()).unwrap();
    c.execute(
        "INSERT INTO changes_fts (changes_fts, rank) VALUES ('integrity-check', 0)",
        [],
    )
    .unwrap();
}

#[test]
fn row_history_never_mixes_rows_whose_hashes_collide() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, cfg) = open(&dir);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    // Give users row 2 the hash of row 1, as a collision would.
    let c = rusqlite::Connection::open(cfg.path()).unwrap();
    let moved = c
        .execute(
            "UPDATE changes SET pk_hash = (SELECT pk_hash FROM changes WHERE pk_text = '1' LIMIT 1)
             WHERE pk_text = '2'",
            [],
        )
        .unwrap();
    assert_eq!(moved, 3);
    let h = q
        .row_history(&RowHistoryQuery::new("ecommerce", "users", "1"))
        .unwrap();
    assert_eq!(ids(&h), [R1, R3]);
}

#[test]
fn a_failed_batch_forgets_the_names_it_interned() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, q, _) = open(&dir);
    let row = |file: &str, table: &str| {
        rec(
            file,
            10,
            0,
            T0,
            Operation::Insert,
            table,
            json!({"id": 1}),
            None,
            Some(json!({"id": 1})),
        )
    };
    let (fa, fb) = ("mysql-bin.000007", "mysql-bin.000008");
    // The rolled-back batch ends on file A / table a, names it interned.
    let mut bad = row(fa, "a");
    bad.key.event_pos = 20;
    bad.database = "x".repeat(65);
    w.write_batch(&[row(fa, "a"), bad], &[], &cp(fa, 30))
        .unwrap_err();
    // The next batch starts with the same names, then new ones that take
    // the ids the failed batch had used.
    w.write_batch(&[row(fa, "a")], &[], &cp(fa, 30)).unwrap();
    w.write_batch(&[row(fb, "b")], &[], &cp(fb, 30)).unwrap();
    for (file, table) in [(fa, "a"), (fb, "b")] {
        let page = q.changes(&ChangesQuery::new("ecommerce", table)).unwrap();
        assert_eq!(page.items.len(), 1, "{table}");
        assert_eq!(page.items[0].record.key.binlog_file, file);
    }
}
