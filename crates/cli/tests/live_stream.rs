//! `binlog-analyzer stream` and `check` against private MariaDB servers
//! (crates/testkit). Without MariaDB the tests skip with a note; under
//! CI=true they fail instead. Every run of the binary is bounded in time.
//!
//! The reference for `stream` is `parse` of the same server's binlog files:
//! the live path must produce the same records. What may legitimately
//! differ, and is asserted as such:
//! - with `binlog_row_metadata=FULL` nothing: every record is equal;
//! - without it, `parse` can only say `@1`, `@2`, … and has no primary key,
//!   while `stream` names the columns (and the key) from its schema history.
//!   Keys and `primary_key` differ; values and every other field are equal.
//!   The history starts from a snapshot taken on connecting, so rows older
//!   than their table's last ALTER keep `@N` names (with one warning).

mod common;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{MariaDb, Options};

use common::bin;

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";
/// No single run of the binary may take longer.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn start(extra: &[&str]) -> Option<MariaDb> {
    let db = MariaDb::start_or_skip(Options::new().args(extra.iter().copied()))?;
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
    ))
    .expect("create the replication user");
    Some(db)
}

/// Transactions of every shape the output frames differently, an ALTER in
/// the middle, and a rotation.
fn workload(db: &MariaDb) {
    db.exec(
        "CREATE DATABASE app; USE app; \
         CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40), n INT UNSIGNED); \
         CREATE TABLE u (k VARCHAR(10) PRIMARY KEY, amount DECIMAL(10,2)); \
         INSERT INTO t VALUES (1,'a',10),(2,'b',20),(3,'c',30); \
         BEGIN; UPDATE t SET v='bb' WHERE id=2; INSERT INTO u VALUES ('x', 1.50); COMMIT; \
         DELETE FROM t WHERE id=3; \
         XA START 'xa1'; INSERT INTO t VALUES (4,'xa',40); XA END 'xa1'; XA PREPARE 'xa1'; \
         XA COMMIT 'xa1'; \
         ALTER TABLE t ADD COLUMN extra VARCHAR(10) DEFAULT 'e'; \
         UPDATE t SET extra='z', n=n+1 WHERE id<=2",
    )
    .expect("workload, part 1");
    db.flush_logs().expect("FLUSH LOGS");
    db.exec(
        "USE app; INSERT INTO t VALUES (5,'after rotate',50,'r'); \
         BEGIN; DELETE FROM u; UPDATE t SET v=NULL WHERE id=1; COMMIT",
    )
    .expect("workload, part 2");
}

/// A finished run of the binary.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn records(&self) -> Vec<Value> {
        jsonl(&self.stdout)
    }
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The binary with connection flags for `db`; the password comes from the
/// environment, as recommended to users.
fn live_command(db: &MariaDb, subcommand: &str, server_id: u32) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg(subcommand)
        .args(["--host", "127.0.0.1", "--port", &db.port().to_string()])
        .args(["--user", USER, "--server-id", &server_id.to_string()])
        .env("BINLOG_ANALYZER_PASSWORD", PASSWORD)
        .env_remove("MYSQL_PWD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads a child's stdout and stderr on threads (no pipe can fill up);
/// what arrived so far can be looked at while it runs.
struct Collected {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

fn spawn(mut cmd: Command) -> Collected {
    let mut child = cmd.spawn().expect("binlog-analyzer starts");
    let collect = |mut r: Box<dyn Read + Send>, into: Arc<Mutex<Vec<u8>>>| {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let readers = vec![
        collect(Box::new(child.stdout.take().unwrap()), Arc::clone(&stdout)),
        collect(Box::new(child.stderr.take().unwrap()), Arc::clone(&stderr)),
    ];
    Collected {
        child,
        stdout,
        readers,
        stderr,
    }
}

impl Collected {
    fn stdout_so_far(&self) -> String {
        String::from_utf8(self.stdout.lock().unwrap().clone()).expect("output is UTF-8")
    }

    fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Wait for the exit; a run over [`RUN_LIMIT`] is killed and fails the test.
    fn wait(mut self) -> Run {
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "binlog-analyzer ran over {RUN_LIMIT:?}; stderr: {}",
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in std::mem::take(&mut self.readers) {
            r.join().unwrap();
        }
        Run {
            status,
            stdout: self.stdout_so_far(),
            stderr: self.stderr_so_far(),
        }
    }
}

fn run(cmd: Command) -> Run {
    spawn(cmd).wait()
}

/// `parse --format jsonl` of every binlog file of `db`, in order.
fn parse_all(db: &MariaDb, extra: &[&str]) -> Vec<Value> {
    let mut cmd = Command::new(bin());
    cmd.args(["parse", "--format", "jsonl"])
        .args(extra)
        .args(db.binlog_files().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = run(cmd);
    assert!(out.status.success(), "parse failed: {}", out.stderr);
    out.records()
}

fn stream_run(db: &MariaDb, server_id: u32, args: &[&str]) -> Run {
    let mut cmd = live_command(db, "stream", server_id);
    cmd.args(["--format", "jsonl", "--until-end"]).args(args);
    let out = run(cmd);
    assert!(
        out.status.success(),
        "stream {args:?} failed ({}): {}",
        out.status,
        out.stderr
    );
    out
}

fn stream(db: &MariaDb, server_id: u32, args: &[&str]) -> Vec<Value> {
    stream_run(db, server_id, args).records()
}

/// Records equal, with a readable first difference.
fn assert_same_records(live: &[Value], files: &[Value]) {
    for (i, (l, f)) in live.iter().zip(files).enumerate() {
        assert_eq!(l, f, "record {i} differs (left: stream, right: parse)");
    }
    assert_eq!(
        live.len(),
        files.len(),
        "record counts differ: stream {}, parse {}",
        live.len(),
        files.len()
    );
}

fn gtid_seq(record: &Value) -> Option<u64> {
    record["gtid"].as_str()?.rsplit('-').next()?.parse().ok()
}

#[test]
fn stream_until_end_equals_parse_of_the_same_binlog_with_full_metadata() {
    let Some(db) = start(&["--binlog-row-metadata=FULL"]) else {
        return;
    };
    workload(&db);
    assert!(
        db.binlog_files().unwrap().len() >= 2,
        "the workload rotates"
    );
    let files = parse_all(&db, &[]);
    let live = stream(&db, 501, &["--from-start"]);
    assert_same_records(&live, &files);
    // Everything the workload did is there (a guard against two empty outputs).
    let ops: Vec<&str> = live
        .iter()
        .filter_map(|r| r["operation"].as_str())
        .collect();
    assert_eq!(ops.iter().filter(|o| **o == "INSERT").count(), 6, "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "UPDATE").count(), 4, "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "DELETE").count(), 2, "{ops:?}");
    let events: Vec<&str> = live.iter().filter_map(|r| r["event"].as_str()).collect();
    for e in [
        "ddl",
        "begin",
        "commit",
        "xa_start",
        "xa_prepare",
        "xa_commit",
    ] {
        assert!(events.contains(&e), "no {e} record: {events:?}");
    }
    let files_seen: Vec<&str> = live
        .iter()
        .filter_map(|r| r["binlog_file"].as_str())
        .collect();
    assert!(
        files_seen.contains(&"mysql-bin.000002"),
        "rotation followed"
    );

    // The filters are the same code: same selection on both paths.
    for filter in [
        &["--table", "app.u"][..],
        &["--database", "app", "--include-gtids", "0-1-6"][..],
    ] {
        let files = parse_all(&db, filter);
        let mut args = vec!["--from-start"];
        args.extend_from_slice(filter);
        assert!(!files.is_empty(), "{filter:?} selects something");
        assert_same_records(&stream(&db, 502, &args), &files);
    }

    // Text output shares the writer too.
    let text_parse = {
        let mut cmd = Command::new(bin());
        cmd.args(["parse", "--format", "text"])
            .args(db.binlog_files().unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        run(cmd).stdout
    };
    let mut cmd = live_command(&db, "stream", 503);
    cmd.args(["--format", "text", "--until-end", "--from-start"]);
    let text_live = run(cmd);
    assert!(text_live.status.success(), "{}", text_live.stderr);
    assert_eq!(text_live.stdout, text_parse);
}

#[test]
fn stream_names_columns_from_schema_history_where_parse_cannot() {
    // Default binlog_row_metadata (MINIMAL): the table maps carry no names.
    let Some(db) = start(&[]) else { return };
    workload(&db);
    let files = parse_all(&db, &[]);
    let out = stream_run(&db, 511, &["--from-start"]);
    let live = out.records();
    assert_eq!(live.len(), files.len());
    let (mut named, mut unnamed) = (0, 0);
    for (l, f) in live.iter().zip(&files) {
        if f.get("operation").is_none() {
            assert_eq!(l, f);
            continue;
        }
        let image_len = |image: &str| f[image].as_object().map(|o| o.len());
        let names: &[&str] = if f["table"] == "u" {
            &["k", "amount"]
        } else if image_len("new_data") == Some(4) || image_len("old_data") == Some(4) {
            // After the ALTER that added `extra`.
            &["id", "v", "n", "extra"]
        } else {
            // Before the ALTER. The history starts from a snapshot taken
            // when the stream connected, where `t` already has 4 columns:
            // the reader cannot know these rows' names and says so.
            assert_eq!(l, f);
            unnamed += 1;
            continue;
        };
        for image in ["old_data", "new_data"] {
            match (&l[image], &f[image]) {
                (Value::Null, Value::Null) => {}
                (Value::Object(lo), Value::Object(fo)) => {
                    let numbered: Vec<String> =
                        (1..=names.len()).map(|i| format!("@{i}")).collect();
                    assert_eq!(
                        fo.keys().collect::<Vec<_>>(),
                        numbered.iter().collect::<Vec<_>>()
                    );
                    assert_eq!(lo.keys().collect::<Vec<_>>(), names, "{l}");
                    assert_eq!(
                        lo.values().collect::<Vec<_>>(),
                        fo.values().collect::<Vec<_>>(),
                        "same values: {l} / {f}"
                    );
                }
                other => panic!("{image} differs in kind: {other:?}"),
            }
        }
        // The key comes from the schema history; the binlog has none.
        assert_eq!(f["primary_key"], Value::Null);
        let image = if l["operation"] == "INSERT" {
            &l["new_data"]
        } else {
            &l["old_data"]
        };
        let key = names[0];
        assert_eq!(l["primary_key"], json!({ key: image[key].clone() }));
        // Everything else is equal.
        let strip = |r: &Value| {
            let mut r = r.clone();
            for k in ["old_data", "new_data", "changes", "primary_key"] {
                r.as_object_mut().unwrap().remove(k);
            }
            r
        };
        assert_eq!(strip(l), strip(f));
        named += 1;
    }
    assert_eq!((named, unnamed), (6, 6));
    // Why some rows have no names is said once, not per event.
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("schema snapshot is newer than the event"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
}

#[test]
fn from_gtid_resumes_after_that_transaction() {
    let Some(db) = start(&["--binlog-row-metadata=FULL"]) else {
        return;
    };
    workload(&db);
    let files = parse_all(&db, &[]);
    // Resume after the multi-statement transaction (UPDATE t + INSERT u).
    let after = files
        .iter()
        .find(|r| r["table"] == "u" && r["operation"] == "INSERT")
        .and_then(gtid_seq)
        .expect("the u insert has a GTID");
    let expected: Vec<Value> = files
        .iter()
        .filter(|r| gtid_seq(r).is_some_and(|s| s > after))
        .cloned()
        .collect();
    assert!(
        expected.len() > 10,
        "something left to resume: {expected:?}"
    );
    let live = stream(&db, 521, &["--from-gtid", &format!("0-1-{after}")]);
    assert_same_records(&live, &expected);

    // And from a file position: the second file's start.
    let second: Vec<Value> = files
        .iter()
        .filter(|r| r["binlog_file"] == "mysql-bin.000002")
        .cloned()
        .collect();
    let live = stream(
        &db,
        522,
        &["--from-file", "mysql-bin.000002", "--from-pos", "4"],
    );
    assert_same_records(&live, &second);
}

#[test]
fn interrupt_flushes_what_arrived_and_says_how_to_resume() {
    let Some(db) = start(&[]) else { return };
    db.exec("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)")
        .unwrap();
    let mut cmd = live_command(&db, "stream", 531);
    cmd.args(["--format", "jsonl"]);
    let mut child = spawn(cmd);
    // The stream starts at the end of the binlog as of connecting: write
    // once its dump connection is up.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(!child.exited(), "stream exited: {}", child.stderr_so_far());
        let dumps = db
            .query_value(
                "SELECT COUNT(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'",
            )
            .unwrap();
        if dumps.as_deref() == Some("1") {
            break;
        }
        assert!(Instant::now() < deadline, "the stream never connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    for id in 1..=3 {
        db.exec(&format!("INSERT INTO app.t VALUES ({id})"))
            .unwrap();
    }
    // The records show up while the stream keeps waiting for more: output
    // is flushed when the server goes quiet, not only at exit.
    loop {
        let so_far = child.stdout_so_far();
        if so_far
            .lines()
            .filter(|l| l.contains("\"event\":\"commit\""))
            .count()
            == 3
        {
            break;
        }
        assert!(!child.exited(), "stream exited: {}", child.stderr_so_far());
        assert!(
            Instant::now() < deadline,
            "records not flushed while streaming: {so_far:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait();
    assert!(out.status.success(), "{}: {}", out.status, out.stderr);
    let records = out.records();
    let ids: Vec<i64> = records
        .iter()
        .filter_map(|r| r["new_data"]["id"].as_i64())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(records.len(), 9, "begin, row, commit per insert");
    let (file, next) = db.binlog_position().unwrap();
    let hint = format!(
        "to continue: --from-file {} --from-pos {next}, or --from-gtid 0-1-",
        file.file_name().unwrap().to_string_lossy()
    );
    assert!(out.stderr.contains(&hint), "{hint} in {}", out.stderr);
}

/// `check` text lines by check name: (status word, detail line).
fn check_lines(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (status, rest) = l.split_once("  ")?;
            matches!(status, "PASS" | "WARN" | "FAIL")
                .then(|| (status.to_string(), rest.trim_start().to_string()))
        })
        .collect()
}

fn status_of<'a>(lines: &'a [(String, String)], name: &str) -> &'a str {
    lines
        .iter()
        .find(|(_, rest)| rest.split_whitespace().next() == Some(name))
        .map(|(s, _)| s.as_str())
        .unwrap_or_else(|| panic!("no {name} check in {lines:?}"))
}

#[test]
fn check_passes_a_good_server_and_fails_statement_format() {
    let Some(db) = start(&[]) else { return };
    // The connection settings from the seed's config.yaml block alone.
    let config = db.datadir().join("clilive-config.yaml");
    std::fs::write(
        &config,
        format!(
            "mysql:\n  source:\n    host: \"127.0.0.1\"\n    port: {}\n    user: \"{USER}\"\n    \
             password: \"{PASSWORD}\"\n    charset: \"utf8mb4\"\n    binlog:\n      server_id: 541\n      \
             log_file: \"\"\n      log_pos: 4\n      auto_position: true\n",
            db.port()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("check")
        .arg("--config")
        .arg(&config)
        .env_remove("BINLOG_ANALYZER_PASSWORD")
        .env_remove("BINLOG_ANALYZER_SOURCE_PASSWORD")
        .env_remove("MYSQL_PWD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = run(cmd);
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    let out = run(live_command(&db, "check", 541));
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    let lines = check_lines(&out.stdout);
    for name in [
        "connect",
        "log_bin",
        "binlog_format",
        "binlog_row_image",
        "privileges",
    ] {
        assert_eq!(status_of(&lines, name), "PASS", "{}", out.stdout);
    }
    // MINIMAL metadata: names come from the schema history, a warning.
    assert_eq!(status_of(&lines, "binlog_row_metadata"), "WARN");
    assert!(out
        .stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("result: WARN"));

    let mut cmd = live_command(&db, "check", 541);
    cmd.args(["--format", "json"]);
    let json_out = run(cmd);
    assert!(json_out.status.success());
    let doc: Value = serde_json::from_str(&json_out.stdout).unwrap();
    assert_eq!(doc["status"], "warn");
    assert!(doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "binlog_format" && c["status"] == "pass"));

    db.exec("SET GLOBAL binlog_format = 'STATEMENT'").unwrap();
    let out = run(live_command(&db, "check", 541));
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    let lines = check_lines(&out.stdout);
    assert_eq!(status_of(&lines, "binlog_format"), "FAIL");
    assert!(
        out.stdout.contains("fix: SET GLOBAL binlog_format = 'ROW'"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("result: FAIL"));

    // A start position the server does not have fails too.
    db.exec("SET GLOBAL binlog_format = 'ROW'").unwrap();
    let mut cmd = live_command(&db, "check", 541);
    cmd.args(["--from-file", "mysql-bin.999999"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    assert_eq!(
        status_of(&check_lines(&out.stdout), "start_position"),
        "FAIL"
    );
}

#[test]
fn wrong_password_is_a_clear_error() {
    let Some(db) = start(&[]) else { return };
    for subcommand in ["stream", "check"] {
        let mut cmd = live_command(&db, subcommand, 551);
        cmd.env("BINLOG_ANALYZER_PASSWORD", "not-the-password");
        if subcommand == "stream" {
            cmd.arg("--until-end");
        }
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(1), "{subcommand}: {}", out.stderr);
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(
            said.contains("ccess denied for user 'repl'"),
            "{subcommand}: {said}"
        );
        if subcommand == "check" {
            assert_eq!(status_of(&check_lines(&out.stdout), "connect"), "FAIL");
        } else {
            assert!(out.stdout.is_empty());
            assert!(out
                .stderr
                .starts_with("binlog-analyzer: error: cannot stream from 127.0.0.1:"));
        }
    }
    // --password beats the environment.
    let mut cmd = live_command(&db, "stream", 552);
    cmd.env("BINLOG_ANALYZER_PASSWORD", "not-the-password")
        .args(["--password", PASSWORD, "--until-end"]);
    let out = run(cmd);
    assert!(out.status.success(), "{}", out.stderr);
}

#[test]
fn from_file_the_server_does_not_have_is_an_error_naming_it_and_the_range() {
    let Some(db) = start(&[]) else { return };
    db.exec("CREATE DATABASE app").unwrap();
    db.flush_logs().unwrap();
    db.flush_logs().unwrap();
    // mysql-bin.000001 … mysql-bin.000003 now exist.
    let range = "`mysql-bin.000001` … `mysql-bin.000003` (3 files)";
    let expect_error = |out: &Run, file: &str, what: &str| {
        assert_eq!(out.status.code(), Some(1), "{what}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{what}: {}", out.stdout);
        assert!(
            out.stderr.contains(&format!("no binary log `{file}`")) && out.stderr.contains(range),
            "{what}: {}",
            out.stderr
        );
    };
    // Newer than the newest, and a name from another server; with and
    // without --until-end (which used to end at once with exit code 0).
    for file in ["mysql-bin.000009", "db1-bin.000002"] {
        for until_end in [true, false] {
            let mut cmd = live_command(&db, "stream", 561);
            cmd.args(["--format", "jsonl", "--from-file", file]);
            if until_end {
                cmd.arg("--until-end");
            }
            expect_error(&run(cmd), file, &format!("{file} until_end={until_end}"));
        }
    }
    // The same from the config's log_file.
    let config = db.datadir().join("fromfile-config.yaml");
    std::fs::write(
        &config,
        format!(
            "mysql:\n  source:\n    host: \"127.0.0.1\"\n    port: {}\n    user: \"{USER}\"\n    \
             password: \"{PASSWORD}\"\n    binlog:\n      server_id: 562\n      \
             log_file: \"mysql-bin.000004\"\n      log_pos: 4\n",
            db.port()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(["stream", "--format", "jsonl", "--until-end", "--config"])
        .arg(&config)
        .env_remove("BINLOG_ANALYZER_PASSWORD")
        .env_remove("MYSQL_PWD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    expect_error(&run(cmd), "mysql-bin.000004", "config log_file");

    // A position past the end of an existing file is an error too.
    let mut cmd = live_command(&db, "stream", 563);
    cmd.args(["--until-end", "--from-file", "mysql-bin.000002"])
        .args(["--from-pos", "999999"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("position 999999 is past the end of binary log `mysql-bin.000002`"),
        "{}",
        out.stderr
    );
    // And an existing file still streams.
    let out = stream_run(&db, 564, &["--from-file", "mysql-bin.000001"]);
    assert!(out.stdout.contains("CREATE DATABASE app"), "{}", out.stdout);
}

/// `stream` and `check` as accounts that can only log in with MariaDB's
/// ed25519 plugin or with mysql_native_password, holding just the
/// privileges the README asks for; both see the same changes.
#[test]
fn stream_and_check_authenticate_with_ed25519_and_native_password() {
    let Some(db) = start(&[]) else { return };
    db.exec("INSTALL SONAME 'auth_ed25519'")
        .expect("INSTALL SONAME 'auth_ed25519'");
    for (user, plugin) in [("ed", "ed25519"), ("nat", "mysql_native_password")] {
        db.exec(&format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED VIA {plugin} USING PASSWORD('{user}-pw'); \
             GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{user}'@'127.0.0.1'"
        ))
        .unwrap_or_else(|e| panic!("create {user}: {e}"));
        // The account really is bound to the plugin (no fallback to another).
        let recorded = db
            .query_value(&format!(
                "SELECT plugin FROM mysql.user WHERE user = '{user}' AND host = '127.0.0.1'"
            ))
            .unwrap();
        assert_eq!(recorded.as_deref(), Some(plugin));
    }
    workload(&db);
    let as_user = |subcommand: &str, user: &str, password: &str, server_id: u32| {
        let mut cmd = Command::new(bin());
        cmd.arg(subcommand)
            .args(["--host", "127.0.0.1", "--port", &db.port().to_string()])
            .args(["--user", user, "--server-id", &server_id.to_string()])
            .env("BINLOG_ANALYZER_PASSWORD", password)
            .env_remove("MYSQL_PWD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if subcommand == "stream" {
            cmd.args(["--format", "jsonl", "--until-end", "--from-start"]);
        }
        run(cmd)
    };
    let mut outputs = Vec::new();
    for (user, id) in [("ed", 561), ("nat", 562)] {
        let out = as_user("stream", user, &format!("{user}-pw"), id);
        assert!(out.status.success(), "{user}: {}", out.stderr);
        let records = out.records();
        let ops = records
            .iter()
            .filter(|r| r["operation"].is_string())
            .count();
        assert_eq!(ops, 12, "{user}: every row change of the workload");
        outputs.push(records);

        let out = as_user("check", user, &format!("{user}-pw"), id);
        let lines = check_lines(&out.stdout);
        assert_eq!(status_of(&lines, "connect"), "PASS", "{user}: {lines:?}");
        assert_eq!(status_of(&lines, "privileges"), "PASS", "{user}: {lines:?}");

        let out = as_user("stream", user, "not-the-password", id);
        assert_eq!(out.status.code(), Some(1), "{user}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("ccess denied for user '{user}'")),
            "{user}: {}",
            out.stderr
        );
    }
    assert_eq!(outputs[0], outputs[1], "both accounts see the same stream");
}

/// `--from-time` starts at the first transaction committed at or after the
/// time (an offset is honoured), and nothing older comes out.
#[test]
fn from_time_starts_at_the_first_transaction_at_or_after_it() {
    let Some(db) = start(&["--binlog-row-metadata=FULL"]) else {
        return;
    };
    db.exec(
        "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10)); \
         INSERT INTO app.t VALUES (1, 'old'), (2, 'old'); UPDATE app.t SET v = 'older' WHERE id = 2",
    )
    .unwrap();
    // Whole seconds apart: binlog timestamps have a resolution of one second.
    std::thread::sleep(Duration::from_millis(1100));
    // The server's clock, written with a +02:00 offset.
    let at = db
        .query_value(
            "SELECT DATE_FORMAT(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+02:00'), \
             '%Y-%m-%dT%H:%i:%s+02:00')",
        )
        .unwrap()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    db.exec(
        "INSERT INTO app.t VALUES (3, 'new'); \
         BEGIN; UPDATE app.t SET v = 'newer' WHERE id = 3; DELETE FROM app.t WHERE id = 1; COMMIT",
    )
    .unwrap();
    let files = parse_all(&db, &[]);
    let live = stream(&db, 571, &["--from-time", &at]);
    let changes = |records: &[Value]| -> Vec<(String, i64)> {
        records
            .iter()
            .filter_map(|r| {
                let image = if r["operation"] == "DELETE" {
                    &r["old_data"]
                } else {
                    &r["new_data"]
                };
                Some((r["operation"].as_str()?.to_string(), image["id"].as_i64()?))
            })
            .collect()
    };
    assert_eq!(
        changes(&live),
        [
            ("INSERT".to_string(), 3),
            ("UPDATE".to_string(), 3),
            ("DELETE".to_string(), 1)
        ],
        "from {at}"
    );
    // Record for record what `parse` says about those transactions.
    let first_gtid = live.iter().find_map(gtid_seq).expect("a GTID");
    let expected: Vec<Value> = files
        .iter()
        .filter(|r| gtid_seq(r).is_some_and(|s| s >= first_gtid))
        .cloned()
        .collect();
    assert_same_records(&live, &expected);

    // A time after the last commit: nothing (not an error).
    let out = stream_run(&db, 572, &["--from-time", "2100-01-01"]);
    assert_eq!(changes(&out.records()), []);
}
