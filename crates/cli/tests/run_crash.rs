//! Crash test: `binlog-analyzer run` is killed with SIGKILL at random
//! moments while a workload keeps writing to a private MariaDB (testkit),
//! at least 20 times, and restarted each time. Afterwards the stores — the
//! embedded SQLite store and a MySQL store (a backup of the same run, in
//! the same server) — hold every row change of the binlog exactly once,
//! with column names across an ALTER TABLE (the schema history is saved
//! and resumed through the stores), and the masked values appear nowhere:
//! not in the SQLite files, not in the MySQL tables, not in the logs.
//!
//! `RUN_CRASH_SEED=N` replays a run's kill timings; `RUN_CRASH_CYCLES`
//! changes the number of kills (default 22).

mod common;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipeline::mask::{MaskSpec, MaskStrategy, Masker};
use serde_json::Value;
use store::config::StoreConfig;
use store::QueryStore;
use testkit::{MariaDb, Options};

use common::bin;

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";
const HASH_KEY: &str = "crash-test-key-0123456789abcdef";

/// xorshift64*: reproducible kill timings from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn email(i: u64) -> String {
    format!("crash.person{i}@hidden.example")
}

fn phone(i: u64) -> String {
    format!("+86-188{i:08}")
}

/// One step of the workload: small transactions of every shape, a large
/// one (split by `max_events_in_memory`) every tenth step, an ALTER once.
fn step(db: &MariaDb, i: u64) {
    let mut sql = String::from("USE ecommerce;");
    if i.is_multiple_of(5) {
        sql.push_str(&format!(
            "INSERT INTO users (username, email, phone, password, created_at) VALUES \
             ('u{i}', '{}', '{}', 'pw-{i}-secret', NOW());",
            email(i),
            phone(i)
        ));
    }
    if i % 7 == 3 {
        sql.push_str(&format!(
            "UPDATE users SET phone = '{}' WHERE id = (SELECT MAX(id) FROM (SELECT id FROM users) x);",
            phone(i + 1_000_000)
        ));
    }
    sql.push_str(&format!(
        "BEGIN; INSERT INTO orders (user_id, amount, status, created_at) VALUES \
         ({i}, {}.50, 'pending', NOW(6)), ({i}, 12.25, 'pending', NOW(6)); \
         UPDATE orders SET status = 'paid' WHERE id = {}; COMMIT;",
        i * 3 % 20000,
        1 + i % 500
    ));
    if i % 10 == 9 {
        sql.push_str(&format!(
            "INSERT INTO orders (user_id, amount, status, created_at) \
             SELECT {i}, seq / 7, 'bulk', NOW(6) FROM seq_1_to_400;"
        ));
    }
    if i % 13 == 12 {
        sql.push_str(&format!(
            "DELETE FROM orders WHERE id % 97 = {} LIMIT 20;",
            i % 97
        ));
    }
    if i == 30 {
        sql.push_str("ALTER TABLE orders ADD COLUMN note VARCHAR(20) NULL DEFAULT 'n';");
    }
    db.exec(&sql).expect("workload step");
}

/// A stored image against the raw one `parse` decoded: the same columns
/// in the same order, named (the schema history gives names across the
/// ALTER and the restarts), every value equal — but for the masked columns
/// of `users` — email partial and phone hashed with the run's key, each
/// exactly as the masker makes it; password masked by the default, never
/// the raw value — and its ENUM, an index in a binlog without metadata.
fn same_image(table: &str, raw: Option<&Value>, stored: Option<&Value>) -> Result<(), String> {
    let masker = Masker::new(HASH_KEY.as_bytes());
    let (raw, stored) = match (raw, stored) {
        (None, None) => return Ok(()),
        (Some(Value::Object(r)), Some(Value::Object(s))) => (r, s),
        (r, s) => return Err(format!("image {r:?} stored as {s:?}")),
    };
    if raw.len() != stored.len() {
        return Err(format!("{} columns stored as {}", raw.len(), stored.len()));
    }
    for (j, ((_, r), (name, s))) in raw.iter().zip(stored).enumerate() {
        if name.starts_with('@') {
            return Err(format!("no column name for {name}"));
        }
        let ok = match (table, j) {
            ("users", 2) => *s == masker.mask(r, &MaskSpec::new(MaskStrategy::Partial)),
            ("users", 3) => *s == masker.mask(r, &MaskSpec::new(MaskStrategy::Hash)),
            ("users", 4) => (r.is_null() && s.is_null()) || (!s.is_null() && s != r),
            ("users", 5) => match r.as_u64() {
                Some(i) => {
                    ["active", "inactive"]
                        .get(i as usize - 1)
                        .map(|l| Value::from(*l))
                        .as_ref()
                        == Some(s)
                }
                None => r == s,
            },
            _ => r == s,
        };
        if !ok {
            return Err(format!("{name}: {r} stored as {s}"));
        }
    }
    Ok(())
}

/// True when the MySQL store has a write transaction open: the store's
/// connection (database `ba_crash`) is inside a batch.
fn store_transaction_open(db: &MariaDb) -> bool {
    db.query_value(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX t \
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
         WHERE p.DB = 'ba_crash' AND t.trx_rows_modified > 0",
    )
    .ok()
    .flatten()
    .is_some_and(|n| n != "0")
}

fn write_config(dir: &Path, db: &MariaDb) -> PathBuf {
    let port = db.port();
    let data = dir.join("data");
    let cfg = format!(
        r#"mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    binlog:
      server_id: 4310
      log_file: "mysql-bin.000001"
      log_pos: 4
  storage:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    database: "ba_crash"
processing:
  batch_size: 200
  flush_interval: "200ms"
performance:
  memory:
    max_events_in_memory: 250
storage:
  primary: sqlite
  backup: ["mysql"]
  data_dir: "{}"
api:
  enabled: false
"#,
        data.display()
    );
    let tables = r#"tables:
  ecommerce.users:
    sensitive_columns: ["password", "phone", "email"]
    masking:
      email: "partial"
      phone: "hash"
  ecommerce.orders:
    rules:
      - name: "big"
        condition: "NEW.amount > 1000"
        track: true
"#;
    let path = dir.join("config.yaml");
    std::fs::write(&path, cfg).unwrap();
    std::fs::write(dir.join("tables.yaml"), tables).unwrap();
    path
}

fn analyzer(config: &Path, log: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("run").arg("--config").arg(config).args(extra);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .env("BINLOG_ANALYZER_HASH_KEY", HASH_KEY);
    cmd
}

fn stores(config: &Path) -> Vec<Arc<dyn QueryStore>> {
    let cfg = pipeline::Config::load(
        config,
        pipeline::Config::sibling_tables_path(config).as_deref(),
    )
    .unwrap();
    vec![
        StoreConfig::Sqlite(runner::stores::sqlite_config(&cfg))
            .open_queries()
            .unwrap(),
        StoreConfig::Mysql(runner::stores::mysql_config(&cfg).unwrap())
            .open_queries()
            .unwrap(),
    ]
}

fn checkpoint_of(config: &Path) -> Option<(String, u64)> {
    let cfg = pipeline::Config::load(
        config,
        pipeline::Config::sibling_tables_path(config).as_deref(),
    )
    .ok()?;
    let path = runner::stores::sqlite_config(&cfg).path();
    if !path.is_file() {
        return None;
    }
    let q = StoreConfig::Sqlite(runner::stores::sqlite_config(&cfg))
        .open_queries()
        .ok()?;
    q.checkpoint()
        .ok()
        .flatten()
        .map(|c| (c.binlog_file, c.binlog_pos))
}

/// A change's key in the binlog: file, event offset, row in the event.
type Key = (String, u64, u32);
/// Table, operation, before image, after image.
type Change = (String, String, Option<Value>, Option<Value>);

/// Every stored change by key.
fn stored(q: &dyn QueryStore) -> BTreeMap<Key, Change> {
    let mut out = BTreeMap::new();
    for c in common::all_stored_changes(q) {
        let r = &c.record;
        let image = |m: &Option<pipeline::JsonText>| m.as_ref().map(|m| Value::Object(m.to_map()));
        let prev = out.insert(
            (r.key.binlog_file.clone(), r.key.event_pos, r.key.row_index),
            (
                r.table.clone(),
                r.operation.as_str().to_string(),
                image(&r.old_data),
                image(&r.new_data),
            ),
        );
        assert!(prev.is_none(), "{} stored twice in {}", r.id(), q.name());
    }
    out
}

/// The binlog's row changes of `ecommerce`, by key, as `parse` reads them
/// (the server logs no column names: images are `@1`, `@2`, … in order).
fn expected(db: &MariaDb) -> BTreeMap<Key, Change> {
    let files = db.binlog_files().unwrap();
    let mut args = vec!["parse".to_string(), "--format".into(), "jsonl".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.push("--database".into());
    args.push("ecommerce".into());
    let out = Command::new(bin()).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = BTreeMap::new();
    let mut per_event: BTreeMap<(String, u64), u32> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let Some(op) = v.get("operation").and_then(Value::as_str) else {
            continue;
        };
        let file = v["binlog_file"].as_str().unwrap().to_string();
        let pos = v["binlog_pos"].as_u64().unwrap();
        let n = per_event.entry((file.clone(), pos)).or_default();
        let image = |k: &str| v.get(k).filter(|i| !i.is_null()).cloned();
        rows.insert(
            (file, pos, *n),
            (
                v["table"].as_str().unwrap().to_string(),
                op.to_string(),
                image("old_data"),
                image("new_data"),
            ),
        );
        *n += 1;
    }
    rows
}

#[test]
fn kill_9_at_random_moments_keeps_every_change_exactly_once() {
    let Some(db) = MariaDb::start_or_skip(Options::new()) else {
        return;
    };
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'; \
         CREATE DATABASE ecommerce; USE ecommerce; \
         CREATE TABLE users (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, username VARCHAR(64), \
           email VARCHAR(255), phone VARCHAR(32), password VARCHAR(60), \
           status ENUM('active','inactive') DEFAULT 'active', created_at DATETIME); \
         CREATE TABLE orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_id INT, \
           amount DECIMAL(12,2), status VARCHAR(20), created_at DATETIME(6));"
    ))
    .unwrap();
    let dir = common::scratch("run-crash");
    let config = write_config(&dir, &db);
    let log = dir.join("analyzer.log");

    let init = Command::new(bin())
        .args(["init-db", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    // The workload runs for the whole kill loop.
    let stop = Arc::new(AtomicBool::new(false));
    let steps = Arc::new(AtomicU64::new(0));
    let db = Arc::new(db);
    let workload = {
        let (db, stop, steps) = (Arc::clone(&db), Arc::clone(&stop), Arc::clone(&steps));
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                step(&db, i);
                i += 1;
                steps.store(i, Ordering::SeqCst);
            }
        })
    };

    let seed = std::env::var("RUN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let cycles: usize = std::env::var("RUN_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(22);
    println!("seed {seed}, {cycles} kills (RUN_CRASH_SEED={seed} replays the timings)");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut kills = 0;
    let mut advanced = 0;
    // Kills after which the committed position was behind the server's
    // binlog end as of the kill: ingest had work in hand.
    let mut behind = 0;
    // Kills aimed at (and landing in) an open MySQL store transaction.
    let mut mid_batch = 0;
    let mut last = checkpoint_of(&config);
    while kills < cycles {
        let mut child = analyzer(&config, &log, &[]).spawn().unwrap();
        let wait = rng.between(150, 1500);
        std::thread::sleep(Duration::from_millis(wait));
        // Every other kill waits (≤ 3 s more) for the store to be inside a
        // batch, so some kills certainly land between a batch's first write
        // and its commit, not only while reading.
        let aimed = kills % 2 == 1 && {
            let until = Instant::now() + Duration::from_secs(3);
            loop {
                if store_transaction_open(&db) {
                    break true;
                }
                if Instant::now() > until {
                    break false;
                }
            }
        };
        let exited = child.try_wait().unwrap();
        assert!(
            exited.is_none(),
            "the analyzer exited by itself ({exited:?}); see {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        child.kill().unwrap(); // SIGKILL
        let at_kill = db.binlog_position().unwrap();
        child.wait().unwrap();
        kills += 1;
        mid_batch += usize::from(aimed);
        let now = checkpoint_of(&config);
        if now != last {
            advanced += 1;
        }
        let server_end = (
            at_kill
                .0
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            at_kill.1,
        );
        let was_behind = now.as_ref().is_none_or(|c| *c < server_end);
        behind += usize::from(was_behind);
        println!(
            "kill {kills} after {wait} ms{}: checkpoint {now:?}, server at {server_end:?}{}, workload step {}",
            if aimed { " + store transaction open" } else { "" },
            if was_behind { " (behind)" } else { "" },
            steps.load(Ordering::SeqCst)
        );
        last = now;
    }
    stop.store(true, Ordering::SeqCst);
    workload.join().unwrap();
    db.flush_logs().unwrap();
    println!(
        "{kills} kills in {:.1} s; the checkpoint moved in {advanced} cycles; \
         {behind} kills with ingest behind the server, {mid_batch} inside an open store transaction",
        started.elapsed().as_secs_f64()
    );
    assert!(
        advanced * 2 >= kills,
        "ingest made progress in only {advanced} of {kills} cycles"
    );
    assert!(
        behind * 2 >= kills,
        "only {behind} of {kills} kills landed while ingest had work in hand"
    );
    // Not asserted: whether a poll (a client process per query) catches a
    // store transaction of a few milliseconds depends on the machine's
    // load (7 of 11 aimed kills on one run, 0 of 11 on another). The
    // exactly-once checks below hold either way.
    if mid_batch == 0 {
        println!("note: no aimed kill caught the MySQL store inside a transaction this run");
    }

    // Catch up to the end and exit.
    let t = Instant::now();
    let done = analyzer(&config, &log, &["--until-end"]).status().unwrap();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(done.success(), "final run failed: {log_text}");
    println!("final catch-up: {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();

    let expected = expected(&db);
    assert!(
        expected.len() > 5_000,
        "workload too small: {}",
        expected.len()
    );
    println!("parse: {:.1} s", t.elapsed().as_secs_f64());
    for q in stores(&config) {
        let got = stored(q.as_ref());
        let missing: Vec<_> = expected
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .take(5)
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: {} stored, {} in the binlog; missing {missing:?}, extra {extra:?}",
            q.name(),
            got.len(),
            expected.len()
        );
        for (k, (table, op, old, new)) in &expected {
            let (t, o, got_old, got_new) = &got[k];
            assert_eq!((t, o), (table, op), "{k:?} in {}", q.name());
            for (raw, stored) in [(old, got_old), (new, got_new)] {
                if let Err(e) = same_image(table, raw.as_ref(), stored.as_ref()) {
                    panic!("{k:?} in {}: {e}", q.name());
                }
            }
        }
        println!(
            "{}: {} changes, each once (checked in {:.1} s)",
            q.name(),
            got.len(),
            t.elapsed().as_secs_f64()
        );
    }

    // Masked values: nowhere.
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir.join("data")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "key") {
            files.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    let sqlite = String::from_utf8_lossy(&files).into_owned();
    let mut mysql = String::new();
    for c in db
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = 'ba_crash' AND DATA_TYPE IN ('text','longtext','varchar','mediumtext')",
        )
        .unwrap()
    {
        let (t, col) = (c[0].clone().unwrap(), c[1].clone().unwrap());
        for row in db.query(&format!("SELECT `{col}` FROM ba_crash.`{t}`")).unwrap() {
            mysql.extend(row.into_iter().flatten());
            mysql.push('\n');
        }
    }
    assert!(sqlite.contains("hidden.example") && mysql.contains("hmac:"));
    // Every raw email, phone and password of the workload starts with one
    // of these (masked forms keep at most the first character and domain).
    for raw in ["crash.person", "+86-188", "-secret"] {
        assert!(!sqlite.contains(raw), "{raw}… in the SQLite files");
        assert!(!mysql.contains(raw), "{raw}… in the MySQL store");
        assert!(!log_text.contains(raw), "{raw}… in the logs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
