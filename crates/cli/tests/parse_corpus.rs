//! `parse --format jsonl` over the real corpus: the values upstream tests
//! assert (MANIFEST.md), checked through the binary's output.

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn boxercrab_update_rows_v2_before_and_after_images() {
    let Some(f) = corpus_file("boxercrab/31_update_rows_v2/log.bin") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    let r = rows[0];
    assert_eq!(r["operation"], "UPDATE");
    assert_eq!(r["database"], "default");
    assert_eq!(r["table"], "boxercrab");
    assert_eq!(r["gtid"], "e3e2a4ee-b6dc-11ea-8bcf-0242ac150002:1");
    assert_eq!(r["xid"], 1226);
    let (old, new) = (&r["old_data"], &r["new_data"]);
    // INT UNSIGNED, VARCHAR(100), VARCHAR(40), …, FLOAT, DOUBLE, DECIMAL(10,4).
    assert_eq!(old["@1"], 1);
    assert_eq!(old["@2"], "abc");
    assert_eq!(old["@3"], "abc");
    assert_eq!(old["@7"], 1.0);
    assert_eq!(old["@8"], 2.0);
    assert_eq!(old["@9"], "3.0000");
    assert_eq!(new["@1"], 1);
    assert_eq!(new["@2"], "xd");
    assert_eq!(new["@3"], "xd");
    assert_eq!(new["@7"], 4.0);
    assert_eq!(new["@8"], 4.0);
    assert_eq!(new["@9"], "4.0000");
    // TEXT/MEDIUMTEXT/LONGTEXT (no charset logged by 5.7): text or base64 bytes.
    for c in ["@4", "@5", "@6"] {
        assert!(
            old[c] == "abc" || old[c] == json!({"base64": "YWJj"}),
            "{c}: {}",
            old[c]
        );
    }
    let changes = r["changes"].as_object().unwrap();
    assert!(!changes.contains_key("@1"), "unchanged id is not a change");
    assert_eq!(changes["@9"], json!({"old": "3.0000", "new": "4.0000"}));
    assert_eq!(changes["@2"], json!({"old": "abc", "new": "xd"}));
    assert_eq!(events(&recs), ["begin", "commit"]);
}

#[test]
fn mysql_cdc_rs_update_rows_v2_integer_widths() {
    let Some(f) = corpus_file("mysql-cdc-rs/8.0/31_update_rows_v2/binlog.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 2);
    let upd = rows[1];
    assert_eq!(upd["operation"], "UPDATE");
    assert_eq!(upd["table"], "int_table");
    let image = |v: &Value| -> Vec<i64> {
        (1..=6)
            .map(|i| v[format!("@{i}")].as_i64().unwrap())
            .collect()
    };
    assert_eq!(image(&upd["old_data"]), [1, 11, 111, 1111, 11111, 1]);
    assert_eq!(image(&upd["new_data"]), [1, 22, 222, 1111, 11111, 1]);
    let changed: Vec<&String> = upd["changes"].as_object().unwrap().keys().collect();
    assert_eq!(changed, ["@2", "@3"]);
    // Anonymous GTIDs: no gtid, but the XID is known.
    assert_eq!(upd["gtid"], Value::Null);
    assert_eq!(upd["xid"], 14);
    assert_eq!(
        events(&recs),
        ["ddl", "ddl", "begin", "commit", "begin", "commit"]
    );
}

#[test]
fn minimal_row_metadata_unsigned_int_above_2_pow_31() {
    let Some(f) = corpus_file("rust_mysql_common/minimal_row_metadata.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    // MANIFEST's "column @4" is 0-based; mysqlbinlog numbering makes it @5.
    // Columns 2 and 4 are absent from the image (partial image).
    assert_eq!(
        rows[0]["new_data"],
        json!({"@1": 1, "@3": "a", "@5": 3230202323u64})
    );
}

#[test]
fn update_partial_row_images_keep_absent_columns_absent() {
    let Some(f) = corpus_file("rust_mysql_common/update-partial-row.binlog") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows[0]["table"], "ndb_apply_status");
    assert_eq!(rows[0]["new_data"]["@2"], 25769803786u64);
    let inserted: Vec<&Value> = rows
        .iter()
        .filter(|r| r["table"] == "ba" && r["operation"] == "INSERT")
        .map(|r| &r["new_data"])
        .collect();
    assert_eq!(
        inserted,
        [
            &json!({"@1": 3, "@2": 3, "@3": 3}),
            &json!({"@1": 1, "@2": 1, "@3": 1}),
            &json!({"@1": 2, "@2": 2, "@3": 2}),
            &json!({"@1": 4, "@2": 4, "@3": 4}),
        ]
    );
    let upd = rows.iter().find(|r| r["operation"] == "UPDATE").unwrap();
    assert_eq!(upd["old_data"], json!({"@1": 4, "@3": 4}));
    assert_eq!(upd["new_data"], json!({"@1": 4, "@3": 40}));
    assert_eq!(upd["changes"], json!({"@3": {"old": 4, "new": 40}}));
    let del = rows.iter().find(|r| r["operation"] == "DELETE").unwrap();
    assert_eq!(del["old_data"], json!({"@1": 2}));
    assert_eq!(del["new_data"], Value::Null);
    // BEGIN … COMMIT (a query, no XID): rows carry xid null.
    assert_eq!(events(&recs), ["begin", "commit"]);
    assert!(rows.iter().all(|r| r["xid"].is_null()));
}

/// go-mysql's decodedecimal table vs the server's own SELECT output.
#[test]
fn go_mysql_decimals_equal_the_servers_select() {
    let Some(f) = corpus_file("go-mysql/tcb-eval002c-bin.003320") else {
        return;
    };
    let select =
        std::fs::read_to_string(f.with_file_name("tcb-eval002c-bin.003320.expected-select.txt"))
            .unwrap();
    let table: Vec<Vec<String>> = select
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let header = &table[0];
    assert_eq!(header[0], "id");
    let expected = &table[1..];
    assert_eq!(expected.len(), 17);

    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 17);
    for (row, want) in rows.iter().zip(expected) {
        for (i, cell) in want.iter().enumerate() {
            let got = &row["new_data"][format!("@{}", i + 1)];
            let got_text = match got {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => panic!("unexpected {other}"),
            };
            assert_eq!(&got_text, cell, "row id {} column {}", want[0], header[i]);
        }
    }
    // DECIMALs are strings (exact), ids numbers.
    assert!(rows[0]["new_data"]["@2"].is_string());
    assert!(rows[0]["new_data"]["@1"].is_number());
}

#[test]
fn transaction_payload_rows_are_decoded_with_their_xid() {
    let Some(f) = corpus_file("binlog-connector-java/mysql-bin.compressed") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["operation"], "UPDATE");
    assert_eq!(rows[0]["database"], "demo");
    assert_eq!(rows[0]["table"], "movies");
    assert_eq!(rows[0]["xid"], 31);
    assert_eq!(
        rows[0]["changes"],
        json!({"@5": {"old": "Western", "new": "Western|Action"}})
    );
    assert_eq!(events(&recs), ["begin", "commit"]);

    let Some(f) = corpus_file("rust_mysql_common/transaction_compression.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["database"].as_str(), rows[0]["table"].as_str()),
        (Some("test"), Some("tb1"))
    );
    assert_eq!(rows[0]["operation"], "INSERT");
}

#[test]
fn tagged_gtid_is_rendered_uuid_tag_gno() {
    let Some(f) = corpus_file("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    assert!(!recs.is_empty());
    for r in &recs {
        assert_eq!(r["gtid"], "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
    }
}

#[test]
fn mariadb_full_metadata_names_primary_key_and_annotate_query() {
    let Some(f) = corpus_file("rust_mysql_common/mariadb-bin.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 2);
    let r = rows[0];
    assert_eq!(r["primary_key"], json!({"id": 62}));
    let names: Vec<&String> = r["new_data"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["id", "topic", "event_type", "event", "created"]);
    assert_eq!(r["new_data"]["topic"], "foo");
    assert_eq!(r["gtid"], "0-1-1");
    assert_eq!(r["xid"], 800);
    assert_eq!(
        r["query"],
        "insert into outbox (topic, event_type, event) values ('foo', 'JSON', '{\"foo\":1}')"
    );
    assert_eq!(rows[1]["primary_key"], json!({"id": 63}));
    assert_eq!(rows[1]["gtid"], "0-1-2");
    assert_eq!(rows[1]["xid"], 820);
}

#[test]
fn rows_query_event_text_is_the_rows_query() {
    let Some(f) = corpus_file("boxercrab/29_row_query/log.bin") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["query"],
        "INSERT INTO `boxercrab` (`title`) VALUES ('hahhhhhhhhh')"
    );
}

#[test]
fn statement_based_file_reports_statements_and_ddl() {
    let Some(f) = corpus_file("ybinlogp/mysql-bin.default-path") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let statements: Vec<&Value> = recs.iter().filter(|r| r["event"] == "statement").collect();
    assert_eq!(statements.len(), 10);
    let last = statements.last().unwrap();
    assert_eq!(last["database"], "foobar");
    assert_eq!(
        last["query"],
        "INSERT INTO test2(x) VALUES(\"Bananas r good\")"
    );
    let ddl = recs.iter().filter(|r| r["event"] == "ddl").count();
    assert_eq!(ddl, 4, "CREATE DATABASE ×2, CREATE TABLE ×2");
    // Every statement is framed by BEGIN … COMMIT(xid).
    assert_eq!(events(&recs).iter().filter(|e| *e == "begin").count(), 10);
    assert_eq!(events(&recs).iter().filter(|e| *e == "commit").count(), 10);
    assert!(row_changes(&recs).is_empty());
}

#[test]
fn every_rows_file_in_the_corpus_decodes_like_mariadb_binlog_counts() {
    // Row-change counts per operation equal the `### INSERT/UPDATE/DELETE`
    // blocks mariadb-binlog printed, for files it decoded completely.
    for rel in [
        "binlog-connector-java/mysql-bin.checksum-crc32",
        "binlog-connector-java/mysql-bin.checksum-none",
        "canal/mysql-bin.000001",
        "ape-binlog-connector-rust/mysql-bin.000080",
        "mysql-cdc-rs/8.0/02_query_bigger/binlog.000733",
        "rust_mysql_common/mysql-enum-string-set.000001",
        "rust_mysql_common/ver_5_1_23.001",
    ] {
        let Some(f) = corpus_file(rel) else {
            return;
        };
        let txt = std::fs::read_to_string(format!("{}.mariadb-binlog.txt", f.display())).unwrap();
        let count = |prefix: &str| txt.lines().filter(|l| l.starts_with(prefix)).count();
        let want = [
            count("### INSERT INTO "),
            count("### UPDATE "),
            count("### DELETE FROM "),
        ];
        let recs = jsonl(&f, &[]);
        let rows = row_changes(&recs);
        let got = ["INSERT", "UPDATE", "DELETE"]
            .map(|op| rows.iter().filter(|r| r["operation"] == op).count());
        assert_eq!(got, want, "{rel}");
    }
}

#[test]
fn gzip_input_is_read_transparently() {
    let Some(f) = corpus_file("binlog-connector-java/mysql-bin.sakila.gz") else {
        return;
    };
    let out = run(&[
        "parse",
        "--format",
        "jsonl",
        "--table",
        "sakila.actor",
        f.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let recs = lines(&out);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 200, "sakila has 200 actors");
    assert_eq!(rows[0]["binlog_file"], "mysql-bin.sakila.gz");
    assert_eq!(rows[0]["new_data"]["@2"], "PENELOPE");
}

#[test]
fn vector_bit_enum_and_set_values_through_the_cli() {
    let Some(f) = corpus_file("rust_mysql_common/vector.binlog") else {
        return;
    };
    let recs = jsonl(&f, &["--table", "dtb.foo"]);
    let rows = row_changes(&recs);
    assert_eq!(
        rows[0]["new_data"],
        json!({"id": 1, "vector_column": [1.1, 2.2, 3.3]})
    );
    assert_eq!(
        rows[1]["new_data"],
        json!({"id": 2, "vector_column": [1.0, -1.0, 0.0]})
    );
    assert_eq!(rows[0]["primary_key"], json!({"id": 1}));

    let Some(f) = corpus_file("rust_mysql_common/mysql_type_bit.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 1);
    // BIT(3) b'100', TEXT 'foo', BIT(8) b'100000'.
    assert_eq!(rows[0]["new_data"], json!({"a": 4, "b": "foo", "c": 32}));

    let Some(f) = corpus_file("rust_mysql_common/mysql-enum-string-set.000001") else {
        return;
    };
    let recs = jsonl(&f, &[]);
    let rows = row_changes(&recs);
    assert_eq!(rows.len(), 3);
    // ENUM index 1 and SET bits 0b0101, then index 2 and bits 0b1010.
    assert_eq!(rows[0]["new_data"]["f3"], "var1");
    assert_eq!(rows[0]["new_data"]["f4"], "one,three");
    assert_eq!(rows[1]["new_data"]["f1"], "field1");
    assert_eq!(rows[1]["new_data"]["f3"], "variant2");
    assert_eq!(rows[1]["new_data"]["f4"], "two,four");
    assert_eq!(rows[2]["operation"], "DELETE");
    assert_eq!(rows[2]["old_data"], rows[1]["new_data"]);
}
