//! Helpers for the CLI tests: locating the corpus and the sample, running
//! the built binary, reading its JSONL.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_binlog-analyzer")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The real binlog corpus ($BINLOG_FIXTURES, default
/// /work/shared/fixtures/binlog via ../shared relative to the workspace).
/// Missing: a failure under CI=true, else a skip with a note.
pub fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("BINLOG_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/binlog"),
    };
    if dir.join("MANIFEST.md").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "binlog corpus missing at {} (CI=true requires it)",
            dir.display()
        );
    }
    eprintln!(
        "note: binlog corpus not found at {}; skipping",
        dir.display()
    );
    None
}

/// A corpus file, or None (skip) when the corpus is absent.
pub fn corpus_file(rel: &str) -> Option<PathBuf> {
    let p = corpus()?.join(rel);
    assert!(p.is_file(), "corpus file {} missing", p.display());
    Some(p)
}

/// examples/binlogs/sample.000001, captured from MariaDB and committed.
pub fn sample() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/binlogs/sample.000001");
    if p.is_file() {
        return Some(p);
    }
    if in_ci() {
        panic!("sample binlog missing at {}", p.display());
    }
    eprintln!("note: {} not found; skipping", p.display());
    None
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("binlog-analyzer runs")
}

pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binlog-analyzer starts");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("output is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run `parse --format jsonl` and parse every line; the run must succeed.
pub fn jsonl(path: &Path, extra: &[&str]) -> Vec<Value> {
    let p = path.to_str().unwrap();
    let mut args = vec!["parse", "--format", "jsonl", p];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "parse {p} {extra:?} failed: {}",
        stderr(&out)
    );
    lines(&out)
}

pub fn lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Row-change records only.
pub fn row_changes(records: &[Value]) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| r.get("operation").is_some())
        .collect()
}

/// `event` field of the non-row records, in order.
pub fn events(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| r.get("event").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `stats --format json`.
pub fn stats_json(path: &Path, extra: &[&str]) -> Value {
    let p = path.to_str().unwrap();
    let mut args = vec!["stats", "--format", "json", p];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "stats {p} failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("stats JSON")
}

/// A private scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("binlog-analyzer-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A free TCP port on 127.0.0.1 (for an API a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A spawned analyzer, killed and reaped when the test ends (also on panic).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every change a store holds, table by table, each table in seq order
/// (paged through the query API the way the REST routes page).
pub fn all_stored_changes(q: &dyn store::QueryStore) -> Vec<store::StoredChange> {
    let mut out = Vec::new();
    for t in q.tables().unwrap() {
        let mut cursor = None;
        loop {
            let mut query = store::ChangesQuery::new(t.database.clone(), t.table.clone());
            query.limit = 5000;
            query.cursor = cursor;
            let page = q.changes(&query).unwrap();
            let last_page = page.items.is_empty() || page.next.is_none();
            cursor = page.next;
            out.extend(page.items);
            if last_page {
                break;
            }
        }
    }
    out
}
