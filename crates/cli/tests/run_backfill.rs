//! `backfill` against a private MariaDB (testkit) produces the same records
//! as live `run`: one workload (the sample's seed tables, an ALTER, XA, a
//! table of many column types, a bulk insert, several binlog files), stored
//! three ways into separate SQLite stores — `run --until-end` from the
//! server, `backfill` from the server (in two ranges, the second skipping
//! what the first stored, and once killed and resumed), `backfill` of the
//! server's binlog files read locally — and every field of every record
//! compared. The progress bar is checked under a pseudo-terminal (it is not
//! drawn when stderr is not a terminal). Skipped without MariaDB (CI=true:
//! fails).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, stderr};
use pipeline::ChangeRecord;
use store::config::StoreConfig;
use testkit::{MariaDb, Options};

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";
const HASH_KEY: &str = "backfill-test-key-0123456789abcdef";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const MORE: &str = "
USE ecommerce;
SET time_zone = '+00:00';
CREATE TABLE kinds (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, bi BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec1 DECIMAL(20,6),
  dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, yr YEAR,
  vc VARCHAR(100), bl BLOB, bn BINARY(4), en ENUM('a','b','c'), st SET('x','y','z'),
  bt BIT(10), js JSON, lat VARCHAR(20) CHARACTER SET latin1
) ENGINE=InnoDB;
INSERT INTO kinds VALUES
  (1, -128, 18446744073709551615, 1.1, 0.30000000000000004, '-12345678901234.123456',
   '2024-02-29', '-838:59:59.000', '2024-01-15 23:24:25.123456', '2038-01-19 03:14:07.999999', 2155,
   'text 中文 🎉', X'00FF10', X'DEADBEEF', 'c', 'x,z', b'1010101010', '{\"a\": [1, 2.5, \"x\"]}', 'café'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
FLUSH BINARY LOGS;
INSERT INTO orders (user_id, amount, status, created_at)
  SELECT 1 + seq % 4, seq / 7, 'bulk', '2025-02-01 00:00:00.5' + INTERVAL seq SECOND
  FROM seq_1_to_3000;
UPDATE orders SET status = 'paid' WHERE status = 'bulk' AND id % 3 = 0;
UPDATE kinds SET vc = 'changed', f = 2.5, bl = X'FF', js = '[]' WHERE id = 1;
FLUSH BINARY LOGS;
DELETE FROM orders WHERE status = 'bulk' AND id % 5 = 0;
DELETE FROM kinds WHERE id = 2;
FLUSH BINARY LOGS;
";

fn write_config(dir: &Path, db: &MariaDb) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            r#"mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    binlog:
      server_id: 4330
      log_file: "mysql-bin.000001"
processing:
  batch_size: 100
tables:
  include: ["ecommerce.*"]
storage:
  primary: sqlite
  data_dir: "{data}"
api:
  enabled: false
"#,
            port = db.port(),
            data = dir.join("data").display()
        ),
    )
    .unwrap();
    path
}

fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .env("BINLOG_ANALYZER_HASH_KEY", HASH_KEY)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let err = stderr(out);
    assert!(out.status.success(), "{err}");
    err
}

/// "N changes stored" out of a run's or a backfill's last line.
fn stored_count(err: &str) -> u64 {
    err.lines()
        .rev()
        .find_map(|l| {
            let before = &l[..l.find(" changes stored")?];
            before.rsplit(' ').next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no count in {err}"))
}

/// Every record of the store a config names, by key order.
fn records(config: &Path) -> Vec<ChangeRecord> {
    let cfg = pipeline::Config::load(config, None).unwrap();
    let q = StoreConfig::Sqlite(runner::stores::sqlite_config(&cfg))
        .open_queries()
        .unwrap();
    let mut out: Vec<ChangeRecord> = common::all_stored_changes(q.as_ref())
        .into_iter()
        .map(|c| c.record)
        .collect();
    out.sort_by_key(|r| (r.key.binlog_file.clone(), r.key.event_pos, r.key.row_index));
    out
}

fn same_records(what: &str, want: &[ChangeRecord], got: &[ChangeRecord]) {
    for (w, g) in want.iter().zip(got) {
        assert_eq!(w, g, "{what}: record {} differs from live", w.id());
    }
    assert_eq!(got.len(), want.len(), "{what}: records");
}

#[test]
fn backfill_from_server_and_from_files_store_the_same_records_as_live() {
    // Full row metadata: the binlog files name their columns, so reading
    // them without the server gives the names live reading takes from the
    // server's schema.
    let Some(db) = MariaDb::start_or_skip(Options::new().arg("--binlog-row-metadata=FULL")) else {
        return;
    };
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
    ))
    .unwrap();
    let sample = std::fs::read_to_string(repo().join("examples/binlogs/sample.sql")).unwrap();
    db.exec(&sample).expect("sample workload");
    db.exec(MORE).expect("more workload");
    let files = db.binlog_files().unwrap();
    assert!(files.len() >= 4, "{files:?}");
    let scratch = common::scratch("run-backfill");

    // Live.
    let live = write_config(&scratch.join("live"), &db);
    let err = ok(&cli(&live, &["run", "--until-end", "--no-api"]));
    let want = records(&live);
    assert_eq!(stored_count(&err) as usize, want.len());
    assert!(want.len() > 4000, "{}", want.len());
    assert!(want.iter().any(|r| r.table == "kinds"));

    // From the server: the first file, then everything (the first part is
    // held already).
    let server = write_config(&scratch.join("server"), &db);
    let first = files[0].file_name().unwrap().to_str().unwrap();
    let second = files[1].file_name().unwrap().to_str().unwrap();
    let part = ok(&cli(
        &server,
        &[
            "backfill",
            "--from-start",
            "--to-file",
            second,
            "--to-pos",
            "4",
            "--no-progress",
        ],
    ));
    let n_part = stored_count(&part);
    let in_first = want.iter().filter(|r| r.key.binlog_file == first).count();
    assert_eq!(n_part as usize, in_first, "{part}");
    let all = ok(&cli(
        &server,
        &["backfill", "--from-start", "--no-progress"],
    ));
    assert!(
        all.contains(&format!(
            "{} changes stored ({n_part} already held)",
            want.len() as u64 - n_part
        )),
        "{all}"
    );
    same_records("backfill from the server", &want, &records(&server));

    // From the server, killed once it has committed something, then the
    // same command again: it resumes from its saved progress.
    let killed = write_config(&scratch.join("killed"), &db);
    let mut child = Command::new(bin())
        .args(["backfill", "--from-start", "--no-progress", "--config"])
        .arg(&killed)
        .env("BINLOG_ANALYZER_HASH_KEY", HASH_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let data = scratch.join("killed/data");
    let until = Instant::now() + Duration::from_secs(30);
    let progress_saved = || {
        std::fs::read_dir(&data).is_ok_and(|d| {
            d.filter_map(Result::ok).any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with("backfill-") && n.ends_with(".json")
            })
        })
    };
    while !progress_saved() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
    let interrupted = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    let again = ok(&cli(
        &killed,
        &["backfill", "--from-start", "--no-progress"],
    ));
    if interrupted {
        assert!(again.contains("resuming the backfill after"), "{again}");
    } else {
        println!("note: the backfill finished before the kill; resume not exercised");
    }
    same_records("backfill killed and resumed", &want, &records(&killed));

    // From the binlog files, read locally.
    let local = write_config(&scratch.join("files"), &db);
    let mut args = vec!["backfill".to_string(), "--no-progress".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = ok(&cli(&local, &args));
    assert_eq!(stored_count(&err) as usize, want.len(), "{err}");
    same_records("backfill from files", &want, &records(&local));

    // The progress bar, on a terminal: `script` gives the backfill one.
    let shown = write_config(&scratch.join("bar"), &db);
    let mut cmd = format!("{} backfill --config {}", bin(), shown.display());
    for f in &files {
        cmd.push(' ');
        cmd.push_str(&f.display().to_string());
    }
    match Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("BINLOG_ANALYZER_HASH_KEY", HASH_KEY)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{text}");
            // The bar's template: elapsed, bytes done/total, position, count.
            assert!(text.contains("[00:00:0"), "no progress bar drawn: {text:?}");
            assert!(text.contains(" changes stored"), "{text:?}");
            assert!(text.contains("backfill complete"), "{text:?}");
        }
        Err(e) => println!("note: `script` unavailable ({e}); progress bar not checked"),
    }
    same_records("backfill with a progress bar", &want, &records(&shown));
    let _ = std::fs::remove_dir_all(&scratch);
}
