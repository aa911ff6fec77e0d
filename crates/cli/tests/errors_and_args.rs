//! Failure modes (corrupt and truncated files, bad arguments, closed pipes)
//! and MySQL GTID-set filtering.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn corrupt_relay_log_stops_with_file_and_offset_after_writing_earlier_records() {
    let Some(f) = corpus_file("rust_mysql_common/corrupt-relay-bin.000624") else {
        return;
    };
    let out = run(&["parse", "--format", "jsonl", f.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("corrupt-relay-bin.000624"), "{err}");
    assert!(err.contains("91204"), "{err}");
    let recs = lines(&out);
    assert!(
        recs.len() > 100,
        "records before the corrupt event are written"
    );
    assert!(recs
        .iter()
        .all(|r| r["binlog_pos"].as_u64().unwrap() < 91204));
}

#[test]
fn truncated_file_names_the_offset() {
    let Some(f) = corpus_file("rust_mysql_common/binlog_truncated_prev_gtid_event.000001") else {
        return;
    };
    let out = run(&["stats", f.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("binlog_truncated_prev_gtid_event.000001") && err.contains("120"),
        "{err}"
    );
}

#[test]
fn cut_sample_writes_what_came_before_the_cut() {
    let Some(f) = sample() else { return };
    let bytes = std::fs::read(&f).unwrap();
    let dir = scratch("cut");
    let cut = dir.join("cut.000001");
    // 3500 is inside the second transaction's rows event (3405..3582).
    std::fs::write(&cut, &bytes[..3500]).unwrap();
    let out = run(&["parse", "--format", "jsonl", cut.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cut.000001") && err.contains("offset 3405"),
        "{err}"
    );
    let recs = lines(&out);
    assert_eq!(
        events(&recs),
        ["ddl", "ddl", "ddl", "ddl", "begin", "commit"]
    );
    assert_eq!(row_changes(&recs).len(), 4);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn not_a_binlog_is_refused() {
    let Some(dir) = corpus() else { return };
    let out = run(&["parse", dir.join("MANIFEST.md").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a binary log"),
        "{}",
        stderr(&out)
    );
    let out = run(&["stats", "/nonexistent/binlog.000001"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/binlog.000001"));
}

#[test]
fn bad_arguments_name_the_flag() {
    for (args, flag) in [
        (
            vec!["parse", "--start-datetime", "yesterday", "x"],
            "--start-datetime",
        ),
        (
            vec!["parse", "--stop-datetime", "2024-02-30", "x"],
            "--stop-datetime",
        ),
        (
            vec!["stats", "--include-gtids", "not-a-gtid", "x"],
            "--include-gtids",
        ),
        (
            vec![
                "stats",
                "--include-gtids",
                "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-1",
                "x",
            ],
            "--include-gtids",
        ),
        (vec!["parse", "--table", "db.", "x"], "--table"),
        (
            vec!["parse", "--start-position", "12abc", "x"],
            "--start-position",
        ),
        (vec!["parse", "--format", "xml", "x"], "--format"),
        (vec!["stats", "--format", "jsonl", "x"], "--format"),
        (
            vec![
                "parse",
                "--start-position",
                "900",
                "--stop-position",
                "100",
                "x",
            ],
            "--start-position",
        ),
        (
            vec![
                "parse",
                "--start-datetime",
                "2025-01-02",
                "--stop-datetime",
                "2025-01-01",
                "x",
            ],
            "--start-datetime",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(flag), "{args:?}: {err}");
    }
    let out = run(&["parse"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("FILE"));
}

#[test]
fn closed_stdout_pipe_exits_quietly() {
    let Some(f) = corpus_file("binlog-connector-java/mysql-bin.sakila.gz") else {
        return;
    };
    let mut child = Command::new(bin())
        .args(["parse", "--format", "jsonl", f.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // like `| head -c 100`
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}, stderr {err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn mysql_gtid_set_filter() {
    let Some(f) = corpus_file("ape-binlog-connector-rust/mysql-bin.000080") else {
        return;
    };
    let all = jsonl(&f, &[]);
    assert!(all.iter().all(|r| r["gtid"]
        .as_str()
        .is_some_and(|g| g.starts_with("58cf6502-63db-11ed-8079-0242ac110002:"))));
    let recs = jsonl(
        &f,
        &[
            "--include-gtids",
            "58cf6502-63db-11ed-8079-0242ac110002:55-56:60",
        ],
    );
    assert!(!recs.is_empty());
    let mut gnos: Vec<u64> = recs
        .iter()
        .map(|r| {
            r["gtid"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    gnos.dedup();
    let expected: Vec<u64> = {
        let mut v: Vec<u64> = all
            .iter()
            .map(|r| {
                r["gtid"]
                    .as_str()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .filter(|g| [55, 56, 60].contains(g))
            .collect();
        v.dedup();
        v
    };
    assert_eq!(gnos, expected);
    let expected_records = all
        .iter()
        .filter(|r| {
            [":55", ":56", ":60"]
                .iter()
                .any(|s| r["gtid"].as_str().unwrap().ends_with(s))
        })
        .count();
    assert_eq!(recs.len(), expected_records);

    // Files without GTIDs have nothing in any set.
    let Some(anon) = corpus_file("mysql-cdc-rs/8.0/31_update_rows_v2/binlog.000001") else {
        return;
    };
    assert!(jsonl(
        &anon,
        &[
            "--include-gtids",
            "58cf6502-63db-11ed-8079-0242ac110002:1-100"
        ]
    )
    .is_empty());
}

#[test]
fn tagged_gtid_set_filter() {
    let Some(f) = corpus_file("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001") else {
        return;
    };
    let uuid = "55778904-0299-11f1-b1b8-4ef0c4956feb";
    let tagged = jsonl(&f, &["--include-gtids", &format!("{uuid}:mytag:1-3")]);
    assert_eq!(tagged.len(), 3);
    let untagged = jsonl(&f, &["--include-gtids", &format!("{uuid}:1-14")]);
    assert!(
        untagged.is_empty(),
        "an untagged range does not select tagged GTIDs"
    );
}

/// CRC-32 (IEEE), as binlog event checksums use.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn value_error_names_file_offset_and_table() {
    let Some(f) = sample() else { return };
    let mut bytes = std::fs::read(&f).unwrap();
    // The WRITE_ROWS_V1 event at 8881 (68 bytes) for ecommerce.orders:
    // header (19), table id (6), flags (2), then the column count 5.
    let (at, size) = (8881usize, 68usize);
    assert_eq!(bytes[at + 4], 23, "WRITE_ROWS_V1");
    assert_eq!(bytes[at + 27], 5);
    bytes[at + 27] = 6;
    let crc = crc32(&bytes[at..at + size - 4]);
    bytes[at + size - 4..at + size].copy_from_slice(&crc.to_le_bytes());
    let dir = scratch("value-error");
    let bad = dir.join("bad.000001");
    std::fs::write(&bad, &bytes).unwrap();
    let out = run(&["parse", "--format", "jsonl", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("bad.000001"), "{err}");
    assert!(err.contains("8881"), "{err}");
    assert!(err.contains("ecommerce.orders"), "{err}");
    // Everything before the XA transaction was written.
    let recs = lines(&out);
    assert_eq!(events(&recs).iter().filter(|e| *e == "commit").count(), 11);
    std::fs::remove_dir_all(dir).unwrap();
}
