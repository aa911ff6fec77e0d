//! Committed ingest throughput of the SQLite store.
//!
//! `cargo bench -p store --bench write` — each iteration commits one batch
//! (records + rollups + statements + FTS + checkpoint, one transaction) into
//! a store that keeps growing, like catch-up ingest. Records look like the
//! seed's tables: 6 columns, 70% INSERT / 25% UPDATE / 5% DELETE, ten rows
//! per statement and transaction.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pipeline::record::{ChangeKey, ChangeRecord, Checkpoint, Operation};
use serde_json::{json, Map, Value as Json};
use store::config::SqliteConfig;
use store::sqlite::SqliteStore;
use store::Store;

const BATCH: usize = 10_000;

struct Gen {
    pos: u64,
    ts: u32,
    next_id: u64,
}

fn image(id: u64, status: &str) -> Map<String, Json> {
    match json!({
        "id": id,
        "user_id": id % 977,
        "amount": format!("{}.{:02}", id % 10_000, id % 100),
        "status": status,
        "created_at": "2024-01-15 10:30:00",
        "note": format!("order note {id} for customer"),
    }) {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

impl Gen {
    fn batch(&mut self) -> (Vec<ChangeRecord>, Checkpoint) {
        let tables = ["users", "orders", "products"];
        let mut out = Vec::with_capacity(BATCH);
        for i in 0..BATCH {
            // Ten rows per rows event / statement / transaction.
            if i % 10 == 0 {
                self.pos += 300;
                if i % 1000 == 0 {
                    self.ts += 1;
                }
            }
            let row = (i % 10) as u32;
            let roll = (self.pos / 300 + row as u64) % 20;
            let (op, old, new) = if roll < 14 || self.next_id < 100 {
                self.next_id += 1;
                (Operation::Insert, None, Some(image(self.next_id, "new")))
            } else if roll < 19 {
                let id = self.next_id - (roll * 7 % 90);
                (Operation::Update, Some(image(id, "new")), Some(image(id, "paid")))
            } else {
                let id = self.next_id - 95;
                (Operation::Delete, Some(image(id, "paid")), None)
            };
            let id = new.as_ref().or(old.as_ref()).and_then(|m| m.get("id")).cloned().unwrap_or(Json::Null);
            let mut changes = Map::new();
            if op == Operation::Update {
                changes.insert("status".into(), json!({"old": "new", "new": "paid"}));
            }
            out.push(ChangeRecord {
                key: ChangeKey {
                    binlog_file: "mysql-bin.000001".into(),
                    event_pos: self.pos,
                    row_index: row,
                },
                timestamp: self.ts,
                operation: op,
                database: "ecommerce".into(),
                table: tables[(self.pos / 300 % 3) as usize].into(),
                primary_key: [("id".to_string(), id)].into_iter().collect(),
                old_data: old,
                new_data: new,
                changes,
                gtid: Some(format!("0-1-{}", self.pos / 300)),
                xid: Some(self.pos / 300),
                query: Some(format!("INSERT INTO orders (id, user_id, amount, status) VALUES /* statement {} */", self.pos / 300)),
                tags: vec![],
            });
        }
        let cp = Checkpoint {
            binlog_file: "mysql-bin.000001".into(),
            binlog_pos: self.pos + 300,
            gtid_set: Some(format!("0-1-{}", self.pos / 300)),
        };
        (out, cp)
    }
}

fn bench_write(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqlite_write");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for full_text in [true, false] {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SqliteConfig {
            full_text,
            ..SqliteConfig::new(dir.path())
        };
        let mut store = SqliteStore::open(&cfg).expect("open");
        let mut generator = Gen {
            pos: 4,
            ts: 1_705_314_600,
            next_id: 0,
        };
        let name = if full_text { "batch_10k_with_fts" } else { "batch_10k_no_fts" };
        group.bench_function(name, |b| {
            b.iter_batched(
                || generator.batch(),
                |(records, cp)| black_box(store.write_batch(&records, &[], &cp).expect("write")),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_write);
criterion_main!(benches);
