//! Rough per-row cost of `Pipeline::process` (seed-like orders table with
//! two rules, one sensitive column): `cargo run --release -p pipeline
//! --example process_rate`.

use std::borrow::Cow;
use std::time::Instant;

use binlog::column::{column_type as ct, ColumnDef};
use binlog::events::rows::RowChange;
use binlog::events::TableMap;
use binlog::value::{DateTime, Value};
use pipeline::{Config, Operation, Pipeline, RowContext};

fn main() {
    let tables = r#"
tables:
  shop.orders:
    track_columns: [id, user_id, amount, status, created_at]
    sensitive_columns: [note]
    rules:
      - {name: big, condition: "NEW.amount > 10000", alert: true}
      - {name: st, condition: "OLD.status != NEW.status", track: true}
"#;
    let cfg = Config::from_yaml("", "c.yaml", Some((tables, "t.yaml")), &|_| None).unwrap();
    let mut p = Pipeline::new(&cfg, b"0123456789abcdef").unwrap();
    let col = |t: u8, n: &str| {
        let mut c = ColumnDef::new(t, 0);
        c.name = Some(n.into());
        c.charset = Some(45);
        c
    };
    let map = TableMap {
        table_id: 1,
        flags: 0,
        database: "shop".into(),
        table: "orders".into(),
        columns: vec![
            col(ct::LONGLONG, "id"),
            col(ct::LONG, "user_id"),
            col(ct::NEWDECIMAL, "amount"),
            col(ct::VARCHAR, "status"),
            col(ct::DATETIME2, "created_at"),
            col(ct::VARCHAR, "note"),
        ],
        primary_key: vec![0],
        has_column_names: true,
        has_signedness: true,
    };
    let dt = Value::DateTime(DateTime {
        year: 2025,
        month: 1,
        day: 1,
        hour: 9,
        minute: 3,
        second: 0,
        micros: 0,
        fsp: 6,
    });
    let image = |status: &'static str| {
        vec![
            Some(Value::UInt(12345)),
            Some(Value::Int(77)),
            Some(Value::Decimal("179.80".into())),
            Some(Value::Text(Cow::Borrowed(status))),
            Some(dt.clone()),
            Some(Value::Text(Cow::Borrowed("call 13800138000"))),
        ]
    };
    let change = RowChange {
        before: Some(image("pending")),
        after: Some(image("paid")),
    };
    let t = p.table(&map).unwrap();
    let n = 300_000u32;
    let start = Instant::now();
    let mut bytes = 0usize;
    for i in 0..n {
        let ctx = RowContext {
            binlog_file: "bin.000001",
            event_pos: 4,
            row_index: i,
            timestamp: 0,
            gtid: None,
            xid: None,
            query: Some("UPDATE orders SET status = 'paid' WHERE id = 12345"),
        };
        let out = p
            .process(&t, &map, Operation::Update, &change, &ctx)
            .unwrap();
        bytes += out.record.changes.as_str().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.0} rows/s ({:.2} µs/row, {bytes})",
        f64::from(n) / secs,
        secs * 1e6 / f64::from(n)
    );
}
