//! `MariaDb::shared` hands every test of a binary the same server per options.

use testkit::{MariaDb, Options};

fn server() -> Option<&'static MariaDb> {
    MariaDb::shared(Options::new().arg("--binlog-row-metadata=MINIMAL"))
}

#[test]
fn shared_server_is_started_once_per_options() {
    let (Some(a), Some(b)) = (server(), server()) else {
        return;
    };
    assert!(std::ptr::eq(a, b));
    assert_eq!(
        a.query_value("SELECT @@binlog_row_metadata")
            .unwrap()
            .as_deref(),
        Some("MINIMAL")
    );
    let other = MariaDb::shared(Options::new()).unwrap();
    assert_ne!(a.port(), other.port());
}

#[test]
fn shared_server_serves_concurrent_tests() {
    let Some(db) = server() else {
        return;
    };
    db.exec("CREATE DATABASE IF NOT EXISTS shared_t; CREATE TABLE IF NOT EXISTS shared_t.t (id INT PRIMARY KEY)")
        .unwrap();
    let (file, pos) = db.binlog_position().unwrap();
    assert!(file.starts_with(db.datadir()), "{}", file.display());
    assert!(pos > 4);
}
