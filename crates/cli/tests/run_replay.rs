//! `init-db`, `run --until-end` into a MySQL store and `replay` against a
//! private MariaDB (testkit): the sample workload (examples/binlogs/
//! sample.sql: the seed's tables, a multi-statement transaction, an ALTER,
//! XA commit and rollback) stored by the CLI and replayed into an empty copy
//! gives tables whose `CHECKSUM TABLE` equals the source's. Skipped without
//! MariaDB (CI=true: fails).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, stderr};
use testkit::{MariaDb, Options};

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn checksum(db: &MariaDb, table: &str) -> String {
    db.query(&format!("CHECKSUM TABLE {table}"))
        .unwrap()
        .first()
        .and_then(|r| r.get(1).cloned().flatten())
        .unwrap_or_default()
}

#[test]
fn stored_changes_replay_into_an_empty_copy_with_equal_checksums() {
    // The run starts after the workload (ALTER included) is done: with full
    // row metadata every row event names its own columns. (Following an
    // ALTER live without it is the crash test's business.)
    let Some(db) = MariaDb::start_or_skip(Options::new().arg("--binlog-row-metadata=FULL")) else {
        return;
    };
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
    ))
    .unwrap();
    let sql = std::fs::read_to_string(repo().join("examples/binlogs/sample.sql")).unwrap();
    db.exec(&sql).expect("sample workload");
    db.exec("SET TIMESTAMP = DEFAULT").unwrap();

    let dir = common::scratch("run-replay");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            r#"mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "${{SOURCE_PW}}"
    binlog:
      server_id: 4320
      log_file: "mysql-bin.000001"
  storage:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    database: "ba_replay"
tables:
  include: ["ecommerce.*"]
storage:
  primary: mysql
  data_dir: "{data}"
"#,
            port = db.port(),
            data = dir.join("data").display()
        ),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        Command::new(bin())
            .args(args)
            .env("SOURCE_PW", PASSWORD)
            .env("BINLOG_ANALYZER_REPLAY_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    };
    let cfg = config.to_str().unwrap();

    // Before init-db the MySQL store refuses to start, saying what to do.
    let early = cli(&["run", "--config", cfg, "--until-end", "--no-api"]);
    assert!(!early.status.success());
    assert!(stderr(&early).contains("init-db"), "{}", stderr(&early));

    let init = cli(&["init-db", "--config", cfg]);
    assert!(init.status.success(), "{}", stderr(&init));
    let run = cli(&["run", "--config", cfg, "--until-end", "--no-api"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(" 24 changes stored"),
        "{}",
        stderr(&run)
    );

    let mut create = String::from("CREATE DATABASE ecommerce_copy;");
    for t in ["users", "orders", "products"] {
        create.push_str(&format!(
            "CREATE TABLE ecommerce_copy.{t} LIKE ecommerce.{t};"
        ));
    }
    db.exec(&create).unwrap();
    let port = db.port().to_string();
    let replay = cli(&[
        "replay",
        "--config",
        cfg,
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        USER,
        "--map",
        "ecommerce=ecommerce_copy",
    ]);
    let err = stderr(&replay);
    assert!(replay.status.success(), "{err}");
    assert!(err.contains("replayed 24 changes into 3 tables"), "{err}");
    for t in ["users", "orders", "products"] {
        let source = checksum(&db, &format!("ecommerce.{t}"));
        assert!(!source.is_empty(), "{t}");
        assert_eq!(
            checksum(&db, &format!("ecommerce_copy.{t}")),
            source,
            "{t} differs after replay"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
