//! The committed MariaDB sample (examples/binlogs/sample.000001, made from
//! sample.sql): transactions, XA, DDL, filters, text output, stats.

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn sample_records_in_order_with_xids_and_gtids() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &[]);
    let ev = events(&recs);
    assert_eq!(&ev[..4], ["ddl", "ddl", "ddl", "ddl"]);
    // 10 ordinary transactions, the ALTER, one more, then the two XA groups.
    assert_eq!(ev.iter().filter(|e| *e == "begin").count(), 11);
    assert_eq!(ev.iter().filter(|e| *e == "commit").count(), 11);
    assert_eq!(
        ev[ev.len() - 8..],
        [
            "xa_start",
            "xa_end",
            "xa_prepare",
            "xa_commit",
            "xa_start",
            "xa_end",
            "xa_prepare",
            "xa_rollback"
        ]
    );

    // The first transaction: 4 users, each row carrying the commit's XID.
    let first_commit = recs.iter().find(|r| r["event"] == "commit").unwrap();
    assert_eq!(first_commit["gtid"], "0-1-5");
    let xid = first_commit["xid"].as_u64().unwrap();
    let users: Vec<&Value> = row_changes(&recs)
        .into_iter()
        .filter(|r| r["gtid"] == "0-1-5")
        .collect();
    assert_eq!(users.len(), 4);
    assert!(users.iter().all(|r| r["xid"] == xid));
    assert_eq!(users[2]["new_data"]["username"], "张伟");
    assert_eq!(users[1]["new_data"]["phone"], Value::Null);
    assert_eq!(users[0]["primary_key"], json!({"id": 1}));
    assert_eq!(users[0]["timestamp"], "2025-01-01T09:01:00Z");
    assert!(users[0]["query"]
        .as_str()
        .unwrap()
        .starts_with("INSERT INTO users"));

    // The begin record sits at the GTID event that opened the transaction.
    let begin = recs.iter().find(|r| r["event"] == "begin").unwrap();
    assert_eq!(begin["binlog_pos"], 1733);
    assert_eq!(begin["binlog_file"], "sample.000001");
}

#[test]
fn sample_update_changes_only_list_changed_columns() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &[]);
    let paid = row_changes(&recs)
        .into_iter()
        .find(|r| r["gtid"] == "0-1-8")
        .unwrap();
    assert_eq!(paid["operation"], "UPDATE");
    assert_eq!(paid["table"], "orders");
    assert_eq!(paid["primary_key"], json!({"id": 1}));
    assert_eq!(
        paid["changes"],
        json!({"status": {"old": "pending", "new": "paid"}})
    );
    assert_eq!(paid["old_data"]["amount"], "179.80");
    assert_eq!(paid["new_data"]["created_at"], "2025-01-01 09:03:00.000000");

    let banned = row_changes(&recs)
        .into_iter()
        .find(|r| r["gtid"] == "0-1-9")
        .unwrap();
    assert_eq!(
        banned["changes"],
        json!({
            "status": {"old": "inactive", "new": "banned"},
            "updated_at": {"old": null, "new": "2025-01-01T09:04:00.000Z"}
        })
    );
    // The high-value order.
    assert!(row_changes(&recs)
        .iter()
        .any(|r| r["table"] == "orders" && r["new_data"]["amount"] == "12999.00"));
}

#[test]
fn sample_xa_transaction_is_one_distributed_transaction_with_its_xid() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &[]);
    let trx1 = json!({"format_id": 1, "gtrid": "trx1", "bqual": "b1"});
    let trx2 = json!({"format_id": 1, "gtrid": "trx2", "bqual": "b1"});
    let xa: Vec<&Value> = recs
        .iter()
        .filter(|r| r["event"].as_str().is_some_and(|e| e.starts_with("xa_")))
        .collect();
    let xids: Vec<&Value> = xa.iter().map(|r| &r["xid"]).collect();
    assert_eq!(
        xids,
        [&trx1, &trx1, &trx1, &trx1, &trx2, &trx2, &trx2, &trx2]
    );
    // The prepared part and the commit are separate GTID groups.
    assert_eq!(xa[0]["gtid"], "0-1-17");
    assert_eq!(xa[2]["gtid"], "0-1-17");
    assert_eq!(xa[3]["event"], "xa_commit");
    assert_eq!(xa[3]["gtid"], "0-1-18");
    // Rows inside carry the XA XID.
    let inside: Vec<&Value> = row_changes(&recs)
        .into_iter()
        .filter(|r| r["gtid"] == "0-1-17")
        .collect();
    assert_eq!(inside.len(), 2);
    assert!(inside.iter().all(|r| r["xid"] == trx1));
    assert_eq!(inside[0]["new_data"]["amount"], "25000.50");
}

#[test]
fn table_filter_with_wildcards() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &["--table", "ord*"]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 9);
    assert!(rows.iter().all(|r| r["table"] == "orders"));
    let ev = events(&recs);
    assert!(
        !ev.contains(&"ddl".to_string()),
        "DDL is left out under --table"
    );
    // Every written transaction is framed; both XA groups touched orders.
    assert_eq!(
        ev.iter().filter(|e| *e == "begin").count(),
        ev.iter().filter(|e| *e == "commit").count()
    );
    assert!(ev.contains(&"xa_commit".to_string()));
    assert!(ev.contains(&"xa_rollback".to_string()));

    let recs = jsonl(&f, &["--table", "ecommerce.us?rs", "--table", "nosuch.*"]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r["table"] == "users"));
    // users is not in the XA transactions: their commit is not written either.
    assert!(!events(&recs).iter().any(|e| e.starts_with("xa_")));

    let recs = jsonl(&f, &["--table", "products"]);
    let ev = events(&recs);
    assert!(
        ev.contains(&"xa_commit".to_string()),
        "trx1 updated products"
    );
    assert!(!ev.contains(&"xa_rollback".to_string()), "trx2 did not");
}

#[test]
fn database_filter() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &["--database", "ECOM*"]);
    assert_eq!(row_changes(&recs).len(), 25);
    assert_eq!(events(&recs).iter().filter(|e| *e == "ddl").count(), 5);
    let recs = jsonl(&f, &["--database", "other"]);
    assert!(recs.is_empty());
}

#[test]
fn position_filters() {
    let Some(f) = sample() else { return };
    // GTID 0-1-8 starts at 4050; GTID 0-1-9 at 4403.
    let recs = jsonl(&f, &["--start-position", "4050", "--stop-position", "4403"]);
    assert_eq!(events(&recs), ["begin", "commit"]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["gtid"], "0-1-8");
    assert!(recs.iter().all(|r| {
        let p = r["binlog_pos"].as_u64().unwrap();
        (4050..4403).contains(&p)
    }));
    // Stopping inside a transaction: rows before the stop are written, without xid.
    let recs = jsonl(&f, &["--start-position", "1733", "--stop-position", "3000"]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["xid"].is_null()));
    assert_eq!(events(&recs), ["begin"]);
}

#[test]
fn datetime_filters_with_and_without_offsets() {
    let Some(f) = sample() else { return };
    for (start, stop) in [
        ("2025-01-01 09:04:00", "2025-01-01 09:05:00"),
        ("2025-01-01T09:04:00Z", "2025-01-01T09:04:59Z"),
        ("2025-01-01T10:04:00+01:00", "2025-01-01T04:05:00-05:00"),
    ] {
        let recs = jsonl(&f, &["--start-datetime", start, "--stop-datetime", stop]);
        let rows = row_changes(&recs);
        assert_eq!(rows.len(), 2, "{start} .. {stop}");
        assert!(rows
            .iter()
            .all(|r| r["timestamp"] == "2025-01-01T09:04:00Z"));
        assert_eq!(events(&recs), ["begin", "commit", "begin", "commit"]);
    }
}

#[test]
fn mariadb_gtid_filter_keeps_transactions_up_to_seq() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &["--include-gtids", "0-1-6"]);
    let gtids: std::collections::BTreeSet<&str> =
        recs.iter().map(|r| r["gtid"].as_str().unwrap()).collect();
    assert_eq!(
        gtids.into_iter().collect::<Vec<_>>(),
        ["0-1-1", "0-1-2", "0-1-3", "0-1-4", "0-1-5", "0-1-6"]
    );
    assert_eq!(row_changes(&recs).len(), 8);
    // Another server id in the same domain is not included.
    let recs = jsonl(&f, &["--include-gtids", "0-2-100"]);
    assert!(recs.is_empty());
}

#[test]
fn max_buffered_rows_bounds_the_hold() {
    let Some(f) = sample() else { return };
    let recs = jsonl(&f, &["--max-buffered-rows", "3"]);
    let rows = row_changes(&recs);
    // 4-row transactions overflow: their rows go out without the xid ...
    let big: Vec<&&Value> = rows.iter().filter(|r| r["gtid"] == "0-1-5").collect();
    assert_eq!(big.len(), 4);
    assert!(big.iter().all(|r| r["xid"].is_null()));
    // ... but keep their order and the commit still has it.
    let ids: Vec<u64> = big
        .iter()
        .map(|r| r["new_data"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let commit = recs
        .iter()
        .find(|r| r["event"] == "commit" && r["gtid"] == "0-1-5")
        .unwrap();
    assert!(commit["xid"].is_u64());
    // 2-row transactions are unaffected.
    let small: Vec<&&Value> = rows.iter().filter(|r| r["gtid"] == "0-1-7").collect();
    assert!(small.iter().all(|r| r["xid"].is_u64()));
}

#[test]
fn stdin_input_equals_file_input() {
    let Some(f) = sample() else { return };
    let bytes = std::fs::read(&f).unwrap();
    let out = run_with_stdin(&["parse", "--format", "jsonl", "-"], &bytes);
    assert!(out.status.success(), "{}", stderr(&out));
    let from_stdin = lines(&out);
    let from_file = jsonl(&f, &[]);
    assert_eq!(from_stdin.len(), from_file.len());
    for (mut a, b) in from_stdin.into_iter().zip(from_file) {
        assert_eq!(a["binlog_file"], "stdin");
        a["binlog_file"] = b["binlog_file"].clone();
        assert_eq!(a, b);
    }
}

/// `###` row blocks (verb line plus column lines, comments stripped) of
/// the tables whose types render identically in both tools.
fn row_blocks(text: &str, tables: &[&str]) -> Vec<Vec<String>> {
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut keep = false;
    for line in text.lines() {
        if !line.starts_with("###") {
            continue;
        }
        let line = match line.find(" /*") {
            Some(i) => line[..i].trim_end(),
            None => line.trim_end(),
        };
        if line.starts_with("### INSERT INTO")
            || line.starts_with("### UPDATE")
            || line.starts_with("### DELETE FROM")
        {
            keep = tables.iter().any(|t| line.ends_with(&format!("`.`{t}`")));
            if keep {
                blocks.push(Vec::new());
            }
        }
        if keep {
            if let Some(b) = blocks.last_mut() {
                b.push(line.to_string());
            }
        }
    }
    blocks
}

#[test]
fn text_output_matches_mariadb_binlog_row_blocks() {
    let Some(f) = sample() else { return };
    let out = run(&["parse", "--format", "text", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours = stdout(&out);
    let theirs =
        std::fs::read_to_string(f.with_file_name("sample.000001.mariadb-binlog.txt")).unwrap();
    let tables = ["orders", "products"];
    let (a, b) = (row_blocks(&ours, &tables), row_blocks(&theirs, &tables));
    assert_eq!(a.len(), 17);
    assert_eq!(a, b);
    // Column names from the table map, and mysqlbinlog-style headers.
    assert!(ours.contains("### UPDATE `ecommerce`.`orders`\n### WHERE\n###   @1=1 /* id */\n"));
    assert!(ours.contains("###   @4='paid' /* status */\n"));
    assert!(
        ours.contains("# at 4050\n#2025-01-01T09:04:00Z server id 1  BEGIN  GTID 0-1-8\nBEGIN;\n")
    );
    assert!(ours.contains("USE `ecommerce`;\nALTER TABLE users ADD COLUMN last_login DATETIME(3) NULL AFTER updated_at;\n"));
    assert!(ours.contains("XA PREPARE X'74727831',X'6231',1;"));
    assert!(ours.contains("COMMIT /* xid="));
}

#[test]
fn stats_totals_equal_independent_counts() {
    let Some(f) = sample() else { return };
    let s = stats_json(&f, &[]);
    // Independent count: mariadb-binlog's row blocks.
    let txt =
        std::fs::read_to_string(f.with_file_name("sample.000001.mariadb-binlog.txt")).unwrap();
    let count = |p: &str| txt.lines().filter(|l| l.starts_with(p)).count() as u64;
    assert_eq!(s["row_changes"]["INSERT"], count("### INSERT INTO "));
    assert_eq!(s["row_changes"]["UPDATE"], count("### UPDATE "));
    assert_eq!(s["row_changes"]["DELETE"], count("### DELETE FROM "));
    assert_eq!(s["row_changes"]["total"], 25);
    for t in ["orders", "products", "users"] {
        let want = txt
            .lines()
            .filter(|l| l.starts_with("###") && l.ends_with(&format!("`ecommerce`.`{t}`")))
            .count();
        let row = s["by_table"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["table"] == t)
            .unwrap();
        assert_eq!(row["total"], want as u64, "{t}");
    }
    assert_eq!(s["by_database"]["ecommerce"]["total"], 25);
    // Transactions: 13 with rows (11 BEGIN…XID groups + 2 XA prepares), 2 XA commit/rollback groups.
    assert_eq!(s["transactions"]["count"], 15);
    assert_eq!(s["transactions"]["with_rows"], 13);
    assert_eq!(s["transactions"]["by_rows"]["1"], 6);
    assert_eq!(s["transactions"]["by_rows"]["2-10"], 7);
    let largest = &s["transactions"]["largest_by_rows"][0];
    assert_eq!(largest["rows"], 4);
    assert_eq!(largest["gtid"], "0-1-5");
    assert_eq!(largest["start_pos"], 1733);
    // Bytes: from the GTID event to the end of the XID event (3007 + 31).
    assert_eq!(largest["bytes"], 3038 - 1733);
    assert_eq!(s["ddl"].as_array().unwrap().len(), 5);
    assert_eq!(
        s["ddl"][4]["query"],
        "ALTER TABLE users ADD COLUMN last_login DATETIME(3) NULL AFTER updated_at"
    );
    let minutes = s["per_minute"].as_array().unwrap();
    assert_eq!(
        minutes[0],
        json!({"minute": "2025-01-01T09:01:00Z", "INSERT": 4, "UPDATE": 0, "DELETE": 0, "total": 4})
    );
    let per_minute_total: u64 = minutes.iter().map(|m| m["total"].as_u64().unwrap()).sum();
    assert_eq!(per_minute_total, 25);
}

#[test]
fn stats_apply_the_same_filters() {
    let Some(f) = sample() else { return };
    let s = stats_json(
        &f,
        &[
            "--table",
            "orders",
            "--start-datetime",
            "2025-01-01 09:05:00",
        ],
    );
    assert_eq!(
        s["row_changes"],
        json!({"INSERT": 2, "UPDATE": 3, "DELETE": 1, "total": 6})
    );
    assert!(s["ddl"].as_array().unwrap().is_empty());
    let text = run(&["stats", f.to_str().unwrap()]);
    assert!(text.status.success());
    let text = stdout(&text);
    assert!(
        text.contains("Row changes:  25 (INSERT 12, UPDATE 11, DELETE 2)"),
        "{text}"
    );
    assert!(text.contains("ecommerce.orders"));
    assert!(text.contains("== DDL (5) =="));
}

#[test]
fn positions_apply_to_the_first_and_last_of_several_files() {
    let Some(f) = sample() else { return };
    let p = f.to_str().unwrap();
    // From the XA COMMIT group (9352) of the first file to the first
    // transaction (1733) of the second.
    let out = run(&[
        "parse",
        "--format",
        "jsonl",
        "--start-position",
        "9352",
        "--stop-position",
        "1733",
        p,
        p,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&out);
    let ev = events(&recs);
    assert_eq!(
        ev,
        [
            "xa_commit",
            "xa_start",
            "xa_end",
            "xa_prepare",
            "xa_rollback",
            "ddl",
            "ddl",
            "ddl",
            "ddl"
        ]
    );
    assert_eq!(row_changes(&recs).len(), 1);
}

#[test]
fn no_query_leaves_the_statement_out_of_rows_only() {
    let Some(f) = sample() else { return };
    let with = jsonl(&f, &[]);
    let without = jsonl(&f, &["--no-query"]);
    // The sample is MariaDB's with ANNOTATE_ROWS: rows carry the statement.
    assert!(row_changes(&with).iter().any(|r| r["query"].is_string()));
    assert!(row_changes(&without)
        .iter()
        .all(|r| r.get("query").is_none()));
    // Everything else is the same, DDL statements included.
    assert_eq!(with.len(), without.len());
    for (mut a, b) in with.into_iter().zip(without) {
        if a.get("event").is_none() {
            a.as_object_mut().unwrap().remove("query");
        }
        assert_eq!(a, b);
    }
    // Text output drops the statement line too.
    let text = |extra: &[&str]| {
        let mut args = vec!["parse", "--format", "text"];
        args.extend_from_slice(extra);
        args.push(f.to_str().unwrap());
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let (full, bare) = (text(&[]), text(&["--no-query"]));
    assert!(full.lines().any(|l| l.starts_with("#Q> INSERT INTO")));
    assert!(!bare.lines().any(|l| l.starts_with("#Q> ")));
    let kept: Vec<&str> = full.lines().filter(|l| !l.starts_with("#Q> ")).collect();
    assert_eq!(kept, bare.lines().collect::<Vec<_>>());
}
