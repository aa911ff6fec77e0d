use std::borrow::Cow;

use binlog::column::{column_type as ct, ColumnDef};
use binlog::events::rows::RowChange;
use binlog::events::TableMap;
use binlog::value::{Timestamp, Value};
use serde_json::json;

use super::*;

fn column(type_code: u8, name: Option<&str>) -> ColumnDef {
    let mut c = ColumnDef::new(type_code, 0);
    c.name = name.map(str::to_string);
    if matches!(type_code, ct::VARCHAR | ct::STRING) {
        c.charset = Some(45);
    }
    c
}

/// users(id BIGINT UNSIGNED PK, phone VARCHAR, status VARCHAR, amount DECIMAL, ts TIMESTAMP)
fn users_map(named: bool) -> TableMap {
    let n = |s: &'static str| named.then_some(s);
    let mut id = column(ct::LONGLONG, n("id"));
    id.unsigned = true;
    TableMap {
        table_id: 1,
        flags: 0,
        database: "shop".into(),
        table: "users".into(),
        columns: vec![
            id,
            column(ct::VARCHAR, n("phone")),
            column(ct::VARCHAR, n("status")),
            column(ct::NEWDECIMAL, n("amount")),
            column(ct::TIMESTAMP2, n("ts")),
        ],
        primary_key: if named { vec![0] } else { vec![] },
        has_column_names: named,
        has_signedness: true,
    }
}

fn row(values: [Option<Value<'static>>; 5]) -> Vec<Option<Value<'static>>> {
    values.to_vec()
}

fn text(s: &'static str) -> Option<Value<'static>> {
    Some(Value::Text(Cow::Borrowed(s)))
}

fn full_row(
    id: u64,
    phone: &'static str,
    status: &'static str,
    amount: &str,
) -> Vec<Option<Value<'static>>> {
    row([
        Some(Value::UInt(id)),
        text(phone),
        text(status),
        Some(Value::Decimal(amount.into())),
        Some(Value::Timestamp(Timestamp {
            seconds: 1735722000,
            micros: 0,
            fsp: 0,
        })),
    ])
}

fn pipeline(tables_yaml: &str) -> Pipeline {
    let cfg = Config::from_yaml("", "c.yaml", Some((tables_yaml, "t.yaml")), &|_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    Pipeline::new(&cfg, b"unit-test-key-0123456789").unwrap()
}

fn ctx(query: Option<&'static str>) -> RowContext<'static> {
    RowContext {
        binlog_file: "bin.000001",
        event_pos: 100,
        row_index: 0,
        timestamp: 1735722000,
        gtid: Some("0-1-5"),
        xid: None,
        query,
    }
}

const USERS: &str = r#"
tables:
  shop.users:
    track_columns: [phone, status, amount]
    sensitive_columns: [phone]
    rules:
      - name: big
        condition: "NEW.amount > 10000"
        alert: true
        priority: critical
      - name: status
        condition: "changed(status)"
        track: true
"#;

#[test]
fn update_builds_images_diff_key_tags_and_alerts() {
    let mut p = pipeline(USERS);
    let map = users_map(true);
    let t = p.table(&map).unwrap();
    let change = RowChange {
        before: Some(full_row(
            18446744073709551615,
            "13800138000",
            "active",
            "9999.99",
        )),
        after: Some(full_row(
            18446744073709551615,
            "13900139000",
            "banned",
            "10000.01",
        )),
    };
    let out = p
        .process(&t, &map, Operation::Update, &change, &ctx(Some("UPDATE users SET phone='13900139000', status='banned', amount=10000.01 WHERE id=18446744073709551615")))
        .unwrap();
    let r = &out.record;
    // The key column is always kept, even though not tracked; u64 exact.
    assert_eq!(
        serde_json::to_string(&r.primary_key).unwrap(),
        r#"{"id":18446744073709551615}"#
    );
    let new = r.new_data.as_ref().unwrap().to_map();
    assert_eq!(
        new.keys().collect::<Vec<_>>(),
        ["id", "phone", "status", "amount"],
        "ts is not tracked"
    );
    assert_eq!(new["amount"], json!("10000.01"));
    assert!(new["phone"].as_str().unwrap().starts_with("hmac:"));
    assert_eq!(
        r.changes.to_map()["status"],
        json!({"old": "active", "new": "banned"})
    );
    assert_eq!(
        r.changes.to_map().len(),
        3,
        "phone, status, amount changed; id did not"
    );
    assert_eq!(r.tags, ["status"]);
    assert_eq!(out.alerts.len(), 1);
    let a = &out.alerts[0];
    assert_eq!(
        (a.rule.as_str(), a.priority),
        ("big", crate::rules::Priority::Critical)
    );
    assert_eq!(a.change_id, "bin.000001:100:0");
    assert!(
        a.message
            .contains("big: UPDATE on shop.users (id = 18446744073709551615)"),
        "{}",
        a.message
    );
    // Statement literals are gone (masking.query defaults to redact when
    // anything is sensitive).
    assert_eq!(
        r.query.as_deref(),
        Some("UPDATE users SET phone=?, status=?, amount=? WHERE id=?")
    );
    let all =
        serde_json::to_string(&out.record).unwrap() + &serde_json::to_string(&out.alerts).unwrap();
    assert!(
        !all.contains("13800138000") && !all.contains("13900139000"),
        "{all}"
    );
    assert_eq!(r.gtid.as_deref(), Some("0-1-5"));
}

#[test]
fn insert_and_delete_have_one_image_and_no_diff() {
    let mut p = pipeline(USERS);
    let map = users_map(true);
    let t = p.table(&map).unwrap();
    let ins = RowChange {
        before: None,
        after: Some(full_row(1, "x", "active", "1.00")),
    };
    let r = p
        .process(&t, &map, Operation::Insert, &ins, &ctx(None))
        .unwrap()
        .record;
    assert!(r.old_data.is_none() && r.changes.is_empty() && r.query.is_none());
    assert!(r.tags.is_empty(), "changed() is false for INSERT");
    let del = RowChange {
        before: Some(full_row(1, "x", "active", "1.00")),
        after: None,
    };
    let r = p
        .process(&t, &map, Operation::Delete, &del, &ctx(None))
        .unwrap()
        .record;
    assert!(r.new_data.is_none() && r.changes.is_empty());
    assert_eq!(r.primary_key.to_map()["id"], json!(1));
}

#[test]
fn minimal_row_image_keeps_what_was_logged() {
    let mut p = pipeline(USERS);
    let map = users_map(true);
    let t = p.table(&map).unwrap();
    let change = RowChange {
        before: Some(row([Some(Value::UInt(7)), None, None, None, None])),
        after: Some(row([None, None, text("banned"), None, None])),
    };
    let r = p
        .process(&t, &map, Operation::Update, &change, &ctx(None))
        .unwrap()
        .record;
    assert_eq!(r.primary_key.to_map()["id"], json!(7));
    assert_eq!(r.old_data.as_ref().unwrap().as_str(), r#"{"id":7}"#);
    assert_eq!(
        r.new_data.as_ref().unwrap().as_str(),
        r#"{"status":"banned"}"#
    );
    assert_eq!(
        r.changes.to_map()["status"],
        json!({"new": "banned"}),
        "old value not logged"
    );
    assert!(r.tags.is_empty(), "changed() is NULL without the old value");
}

#[test]
fn operations_filter_and_unmonitored_tables() {
    let mut p = pipeline("tables:\n  shop.users:\n    operations: [DELETE]\n");
    let map = users_map(true);
    let t = p.table(&map).unwrap();
    let ins = RowChange {
        before: None,
        after: Some(full_row(1, "x", "a", "1")),
    };
    assert!(p
        .process(&t, &map, Operation::Insert, &ins, &ctx(None))
        .is_none());
    let mut other = users_map(true);
    other.table = "orders".into();
    assert!(p.table(&other).is_none());
    assert!(!p.wants_table("shop", "orders"));
    assert!(p.wants_table("SHOP", "Users"));
}

#[test]
fn without_column_names_sensitive_tables_fail_closed() {
    let mut p = pipeline(USERS);
    let map = users_map(false);
    let t = p.table(&map).unwrap();
    let change = RowChange {
        before: None,
        after: Some(full_row(1, "13800138000", "active", "20000.00")),
    };
    let out = p
        .process(
            &t,
            &map,
            Operation::Insert,
            &change,
            &ctx(Some("INSERT ... '13800138000'")),
        )
        .unwrap();
    assert_eq!(out.record.new_data.as_ref().unwrap().to_map().len(), 0);
    assert!(out.record.primary_key.is_empty() && out.record.query.is_none());
    assert!(out.alerts.is_empty(), "NEW.amount is unknown without names");
    let w = p.take_warnings();
    assert!(w.iter().any(|w| w.contains("cannot be found")), "{w:?}");
    assert!(
        w.iter()
            .any(|w| w.contains("rule big names column `amount`")),
        "{w:?}"
    );
    // Reported once.
    p.table(&map);
    assert!(p.take_warnings().is_empty());
}

#[test]
fn without_column_names_other_tables_keep_everything_as_at_n() {
    let mut p = pipeline("tables:\n  shop.users:\n    track_columns: [id]\n");
    let map = users_map(false);
    let t = p.table(&map).unwrap();
    let change = RowChange {
        before: None,
        after: Some(full_row(1, "x", "a", "1.50")),
    };
    let r = p
        .process(
            &t,
            &map,
            Operation::Insert,
            &change,
            &ctx(Some("INSERT 'x'")),
        )
        .unwrap()
        .record;
    let new = r.new_data.as_ref().unwrap().to_map();
    let keys: Vec<&String> = new.keys().collect();
    assert_eq!(keys, ["@1", "@2", "@3", "@4", "@5"]);
    assert_eq!(
        r.new_data.as_ref().unwrap().to_map()["@5"],
        json!("2025-01-01T09:00:00Z")
    );
    assert_eq!(
        r.query.as_deref(),
        Some("INSERT 'x'"),
        "nothing sensitive: kept"
    );
    assert!(p
        .take_warnings()
        .iter()
        .any(|w| w.contains("track_columns cannot be applied")));
}

#[test]
fn configured_primary_key_wins_and_sensitive_keys_are_masked() {
    let mut p = pipeline(
        "tables:\n  shop.users:\n    primary_key: [phone, status]\n    sensitive_columns: [phone]\n    masking:\n      phone: partial\n",
    );
    let map = users_map(true);
    let t = p.table(&map).unwrap();
    let change = RowChange {
        before: None,
        after: Some(full_row(1, "13800138000", "a,b", "1")),
    };
    let r = p
        .process(&t, &map, Operation::Insert, &change, &ctx(None))
        .unwrap()
        .record;
    assert_eq!(
        serde_json::to_string(&r.primary_key).unwrap(),
        r#"{"phone":"138****8000","status":"a,b"}"#
    );
    assert_eq!(r.pk_text, "138****8000,a\\,b");
    let mut p = pipeline("tables:\n  shop.users:\n    primary_key: nosuch\n");
    let t = p.table(&map).unwrap();
    let r = p
        .process(&t, &map, Operation::Insert, &change, &ctx(None))
        .unwrap()
        .record;
    assert_eq!(
        r.primary_key.to_map()["id"],
        json!(1),
        "falls back to the binlog's key"
    );
    assert!(p
        .take_warnings()
        .iter()
        .any(|w| w.contains("primary_key nosuch")));
}

#[test]
fn query_policy_keep_and_drop() {
    let map = users_map(true);
    let change = RowChange {
        before: None,
        after: Some(full_row(1, "x", "a", "1")),
    };
    for (policy, expected) in [
        ("keep", Some("INSERT 'x'")),
        ("drop", None),
        ("redact", Some("INSERT ?")),
    ] {
        let cfg = Config::from_yaml(
            &format!("masking:\n  query: {policy}\n"),
            "c.yaml",
            None,
            &|_| None,
        )
        .unwrap();
        let mut p = Pipeline::new(&cfg, b"k").unwrap();
        let t = p.table(&map).unwrap();
        let r = p
            .process(
                &t,
                &map,
                Operation::Insert,
                &change,
                &ctx(Some("INSERT 'x'")),
            )
            .unwrap()
            .record;
        assert_eq!(r.query.as_deref(), expected, "{policy}");
    }
}

#[test]
fn table_shape_change_is_noticed() {
    let mut p = pipeline("tables:\n  shop.users:\n    track_columns: [id, phone]\n");
    let map = users_map(true);
    let first = p.table(&map).unwrap();
    assert!(Arc::ptr_eq(&first, &p.table(&map).unwrap()), "cached");
    let mut altered = users_map(true);
    altered.columns[1].name = Some("mobile".into());
    let second = p.table(&altered).unwrap();
    assert_eq!(second.column_keys[1], "mobile");
    assert!(p
        .take_warnings()
        .iter()
        .any(|w| w.contains("`phone`, which the table does not have")));
}

#[test]
fn values_convert_exactly() {
    let mut buf = Vec::new();
    let c = |t: u8| ColumnDef::new(t, 0);
    let cases: Vec<(Value<'_>, ColumnDef, &str)> = vec![
        (
            Value::UInt(u64::MAX),
            c(ct::LONGLONG),
            "18446744073709551615",
        ),
        (
            Value::Int(i64::MIN),
            c(ct::LONGLONG),
            "-9223372036854775808",
        ),
        (Value::Float(1.1), c(ct::FLOAT), "1.1"),
        (
            Value::Double(0.1 + 0.2),
            c(ct::DOUBLE),
            "0.30000000000000004",
        ),
        (
            Value::Decimal("-10.5500".into()),
            c(ct::NEWDECIMAL),
            "\"-10.5500\"",
        ),
        (
            Value::Bytes(Cow::Borrowed(&[0, 255, 16])),
            c(ct::BLOB),
            "{\"base64\":\"AP8Q\"}",
        ),
        (
            Value::Text(Cow::Borrowed("a\"b\\中")),
            c(ct::VARCHAR),
            "\"a\\\"b\\\\中\"",
        ),
        (Value::Null, c(ct::VARCHAR), "null"),
        (Value::Bit { bits: 5, width: 3 }, c(ct::BIT), "5"),
    ];
    for (v, col, expected) in cases {
        let j = to_json(&v, &col, &mut buf);
        assert_eq!(serde_json::to_string(&j).unwrap(), expected, "{v:?}");
        // Same text as the VALUES.md renderer.
        assert_eq!(render::json_value_string(&v, &col), expected);
    }
}
