//! The MySQL store against a private MariaDB from testkit (skipped with a
//! note when MariaDB is not installed, a failure under CI=true).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use store::config::{MysqlConfig, SqliteConfig, StorageConfig, StoreConfig};
use store::mysql::{drop_db, init_db, MysqlQueries, MysqlStore};
use store::*;
use testkit::{MariaDb, Options};

const USER: &str = "store";
const PASSWORD: &str = "store-pw";

fn server() -> Option<&'static MariaDb> {
    let db = MariaDb::shared(Options::new())?;
    db.exec(&format!(
        "CREATE USER IF NOT EXISTS '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
    ))
    .expect("create the storage user");
    Some(db)
}

/// A fresh storage database per test.
fn fresh_config(db: &MariaDb) -> MysqlConfig {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "binlog_analysis_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut cfg = MysqlConfig::new("127.0.0.1", db.port(), USER, name);
    cfg.password = Some(PASSWORD.into());
    drop_db(&cfg).unwrap();
    init_db(&cfg).unwrap();
    cfg
}

fn count(db: &MariaDb, cfg: &MysqlConfig, sql: &str) -> i64 {
    db.query_value(&format!("USE `{}`; {sql}", cfg.database))
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn every_query_answers_exactly_on_the_fixture() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let mut w = MysqlStore::open(&cfg).unwrap();
    assert_eq!(w.checkpoint().unwrap(), None);
    let fx = Fixture::new();
    fx.write_all(&mut w);
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp2.clone()));
    let q = MysqlQueries::open(&cfg).unwrap();
    check_queries(&q, &fx);
    assert!(q.health().size_bytes.unwrap_or(0) > 0);
}

#[test]
fn init_db_is_idempotent_and_open_requires_it() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    init_db(&cfg).unwrap();
    let mut missing = cfg.clone();
    missing.database = format!("{}_absent", cfg.database);
    drop_db(&missing).unwrap();
    match MysqlStore::open(&missing) {
        Err(e) => assert!(e.to_string().contains("init-db"), "{e}"),
        Ok(_) => panic!("opened a database without the schema"),
    }
    let mut wrong = cfg.clone();
    wrong.password = Some("wrong".into());
    assert!(MysqlStore::open(&wrong).is_err());
}

#[test]
fn rewriting_a_batch_stores_nothing_twice() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let mut w = MysqlStore::open(&cfg).unwrap();
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let again = w.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
    assert_eq!(
        (again.inserted, again.skipped, again.alerts_inserted),
        (0, 6, 0)
    );
    // A key repeated inside one batch is stored once.
    let mut r6 = fx.batch2[0].clone();
    r6.key.event_pos = 400;
    let o = w
        .write_batch(&[fx.batch2[0].clone(), r6.clone(), r6], &[], &fx.cp2)
        .unwrap();
    assert_eq!((o.inserted, o.skipped), (1, 2));
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM changes"), 8);
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM alerts"), 2);
    assert_eq!(count(db, &cfg, "SELECT SUM(n) FROM rollups"), 8);
    drop(w);
    let mut w = MysqlStore::open(&cfg).unwrap();
    let o = w.write_batch(&fx.all(), &fx.alerts1, &fx.cp2).unwrap();
    assert_eq!((o.inserted, o.skipped), (0, 7));
    let q = MysqlQueries::open(&cfg).unwrap();
    assert_eq!(q.health().changes, Some(8));
}

#[test]
fn a_failing_record_rolls_back_the_batch_and_its_checkpoint() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let mut w = MysqlStore::open(&cfg).unwrap();
    let fx = Fixture::new();
    w.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
    // Too long for VARCHAR(64) in strict mode, after r5's table was interned.
    let mut bad = fx.batch2[0].clone();
    bad.key.event_pos = 160;
    bad.database = "x".repeat(65);
    let err = w
        .write_batch(&[fx.batch2[0].clone(), bad], &[], &fx.cp2)
        .unwrap_err();
    assert!(err.to_string().contains("too long"), "{err}");
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp1.clone()));
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM changes"), 6);
    assert_eq!(count(db, &cfg, "SELECT SUM(n) FROM rollups"), 6);
    // A trigger rejecting one row of the multi-row INSERT.
    db.exec(&format!(
        "USE `{}`;\nDELIMITER //\nCREATE TRIGGER poison BEFORE INSERT ON changes FOR EACH ROW
         IF NEW.event_pos = 130 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row'; END IF//\nDELIMITER ",
        cfg.database
    ))
    .unwrap();
    let mut poisoned = fx.batch2[0].clone();
    poisoned.key.event_pos = 130;
    let err = w
        .write_batch(&[fx.batch2[0].clone(), poisoned], &fx.alerts1, &fx.cp2)
        .unwrap_err();
    assert!(err.to_string().contains("poisoned row"), "{err}");
    assert_eq!(w.checkpoint().unwrap(), Some(fx.cp1.clone()));
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM changes"), 6);
    db.exec(&format!("USE `{}`; DROP TRIGGER poison", cfg.database))
        .unwrap();
    assert_eq!(w.write_batch(&fx.batch2, &[], &fx.cp2).unwrap().inserted, 1);
    check_queries(&MysqlQueries::open(&cfg).unwrap(), &fx);
}

#[test]
fn purge_removes_old_changes_rollups_and_index_entries_in_chunks() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let mut w = MysqlStore::open(&cfg).unwrap();
    let fx = Fixture::new();
    fx.write_all(&mut w);
    let q = MysqlQueries::open(&cfg).unwrap();
    let report = q.purge_older_than(T0 + DAY, 2).unwrap();
    assert!(report.chunks >= 3, "{report:?}");
    check_after_purge(&q, report);
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM rollups"), 1);
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM statements"), 1);
    assert_eq!(count(db, &cfg, "SELECT COUNT(*) FROM change_tags"), 0);
}

#[test]
fn schema_documents_are_found_by_position() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let mut w = MysqlStore::open(&cfg).unwrap();
    let at = |f: &str, p| SchemaPosition {
        binlog_file: f.into(),
        binlog_pos: p,
    };
    assert_eq!(w.schema_earliest().unwrap(), None);
    w.save_schema(&at("mysql-bin.1000000", 500), "{\"v\":3}")
        .unwrap();
    w.save_schema(&at("mysql-bin.999999", 4), "{\"v\":2}")
        .unwrap();
    // The earliest by numeric file order, not by text or by saving order.
    let earliest = w.schema_earliest().unwrap().map(|s| s.document);
    assert_eq!(earliest.as_deref(), Some("{\"v\":2}"));
    w.save_schema(&at("mysql-bin.000001", 4), "{\"v\":1}")
        .unwrap();
    let earliest = w.schema_earliest().unwrap().map(|s| s.at);
    assert_eq!(earliest, Some(at("mysql-bin.000001", 4)));
    let mut doc = |f, p| w.schema_at(&at(f, p)).unwrap().map(|s| s.document);
    assert_eq!(doc("mysql-bin.000001", 3), None);
    assert_eq!(doc("mysql-bin.000500", 9).as_deref(), Some("{\"v\":1}"));
    assert_eq!(doc("mysql-bin.1000000", 4).as_deref(), Some("{\"v\":2}"));
    assert_eq!(doc("mysql-bin.1000000", 900).as_deref(), Some("{\"v\":3}"));
}

#[test]
fn sqlite_primary_with_mysql_backup_converge() {
    let Some(db) = server() else { return };
    let cfg = fresh_config(db);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteConfig::new(dir.path());
    let storage = StorageConfig {
        primary: StoreConfig::Sqlite(sqlite.clone()),
        backups: vec![StoreConfig::Mysql(cfg.clone())],
        retention_days: None,
    };
    storage.validate().unwrap();
    let fx = Fixture::new();
    {
        let mut multi = storage.open().unwrap();
        multi.write_batch(&fx.batch1, &fx.alerts1, &fx.cp1).unwrap();
    }
    // The backup alone got batch 2 before a crash.
    MysqlStore::open(&cfg)
        .unwrap()
        .write_batch(&fx.batch2, &[], &fx.cp2)
        .unwrap();
    let mut multi = storage.open().unwrap();
    assert_eq!(multi.resume_checkpoint().unwrap(), Some(fx.cp1.clone()));
    let o = multi.write_batch(&fx.batch2, &[], &fx.cp2).unwrap();
    assert_eq!(o.inserted, 1, "the primary stores r5");
    assert_eq!(multi.status()[1].skipped, 1, "the backup already had it");
    for s in [&storage.primary, &storage.backups[0]] {
        check_queries(s.open_queries().unwrap().as_ref(), &fx);
    }
}
