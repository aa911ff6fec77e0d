//! Per-row hot paths of the pipeline, in memory:
//!
//! - `process/*`: [`Pipeline::process`] of one UPDATE of a 6-column orders
//!   row — record build with the column diff (`diff`), plus hash masking of
//!   a sensitive column (`diff_mask`), plus two rules (`diff_mask_rules`).
//! - `mask/*`: [`Masker::mask`] of one value (hash = HMAC-SHA256, partial).
//! - `rules/*`: [`Condition::eval`] of compiled conditions on decoded
//!   binlog values (what `process` does per rule, before masking).
//!
//! `cargo bench -p pipeline --bench pipeline`

use std::borrow::Cow;
use std::hint::black_box;

use binlog::column::{column_type as ct, ColumnDef};
use binlog::events::rows::RowChange;
use binlog::events::TableMap;
use binlog::value::{DateTime, Value};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pipeline::mask::{MaskSpec, MaskStrategy, Masker};
use pipeline::rules::{BinlogRow, Condition, Subject};
use pipeline::{Config, Operation, Pipeline, RowContext};
use serde_json::json;

fn col(t: u8, n: &str) -> ColumnDef {
    let mut c = ColumnDef::new(t, 0);
    c.name = Some(n.into());
    c.charset = Some(45);
    c
}

fn orders_map() -> TableMap {
    TableMap {
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
    }
}

fn image(status: &'static str) -> Vec<Option<Value<'static>>> {
    vec![
        Some(Value::UInt(12345)),
        Some(Value::Int(77)),
        Some(Value::Decimal("179.80".into())),
        Some(Value::Text(Cow::Borrowed(status))),
        Some(Value::DateTime(DateTime {
            year: 2025,
            month: 1,
            day: 1,
            hour: 9,
            minute: 3,
            second: 0,
            micros: 0,
            fsp: 6,
        })),
        Some(Value::Text(Cow::Borrowed("call 13800138000"))),
    ]
}

fn bench_process(c: &mut Criterion) {
    let variants = [
        ("diff", ""),
        ("diff_mask", "    sensitive_columns: [note]\n"),
        (
            "diff_mask_rules",
            "    sensitive_columns: [note]
    rules:
      - {name: big, condition: \"NEW.amount > 10000\", alert: true}
      - {name: st, condition: \"OLD.status != NEW.status\", track: true}
",
        ),
    ];
    let map = orders_map();
    let change = RowChange {
        before: Some(image("pending")),
        after: Some(image("paid")),
    };
    let mut group = c.benchmark_group("process");
    group.throughput(Throughput::Elements(1));
    for (name, extra) in variants {
        let tables = format!(
            "tables:\n  shop.orders:\n    track_columns: [id, user_id, amount, status, created_at, note]\n{extra}"
        );
        let cfg = Config::from_yaml("", "c.yaml", Some((&tables, "t.yaml")), &|_| None)
            .unwrap_or_else(|e| panic!("bench config {name}: {e}"));
        let mut p = Pipeline::new(&cfg, b"0123456789abcdef").expect("pipeline");
        let t = p.table(&map).expect("orders is monitored");
        let ctx = RowContext {
            binlog_file: "bin.000001",
            event_pos: 4,
            row_index: 0,
            timestamp: 1_735_722_180,
            gtid: Some("0-1-42"),
            xid: None,
            query: Some("UPDATE orders SET status = 'paid' WHERE id = 12345"),
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(p.process(&t, &map, Operation::Update, &change, &ctx)))
        });
    }
    group.finish();
}

fn bench_mask(c: &mut Criterion) {
    let masker = Masker::new(b"bench-key-0123456789abcdef");
    let phone = json!("13800138000");
    let email = json!("customer-12345@example.com");
    let mut group = c.benchmark_group("mask");
    group.throughput(Throughput::Elements(1));
    let hash = MaskSpec::new(MaskStrategy::Hash);
    let partial = MaskSpec::new(MaskStrategy::Partial);
    group.bench_function("hash", |b| {
        b.iter(|| black_box(masker.mask(black_box(&phone), &hash)))
    });
    group.bench_function("partial_email", |b| {
        b.iter(|| black_box(masker.mask(black_box(&email), &partial)))
    });
    group.finish();
}

fn bench_rules(c: &mut Criterion) {
    let map = orders_map();
    let before = image("pending");
    let after = image("paid");
    let names: Vec<String> = map
        .columns
        .iter()
        .map(|c| c.name.clone().unwrap_or_default())
        .collect();
    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [
        ("decimal_compare", "NEW.amount > 10000"),
        ("column_changed", "OLD.status != NEW.status"),
        (
            "and_or_in",
            "operation = 'UPDATE' AND (NEW.status IN ('paid', 'shipped') OR NEW.amount - OLD.amount > 100)",
        ),
    ] {
        let cond = Condition::compile(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let slots = cond.resolve(&names);
        group.bench_function(name, |b| {
            b.iter(|| {
                let row = BinlogRow {
                    columns: &map.columns,
                    before: Some(&before),
                    after: Some(&after),
                    slots: &slots,
                };
                let subject = Subject {
                    operation: Operation::Update,
                    database: "shop",
                    table: "orders",
                    row: &row,
                };
                black_box(cond.eval(&subject))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_process, bench_mask, bench_rules);
criterion_main!(benches);
