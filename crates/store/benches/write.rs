//! Committed ingest throughput of the SQLite store.
//!
//! `cargo bench -p store --bench write` — each iteration commits one batch
//! of 10,000 records (records + rollups + statements + FTS + checkpoint, one
//! transaction) into a store that keeps growing, like catch-up ingest.
//! Generating the batch and dropping it are not timed. Variants: search
//! index maintained in the batch's transaction, deferred (indexed later by
//! `Store::maintain`, not timed here — see `examples/ingest_probe.rs
//! --defer`), and no search index.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use store::config::SqliteConfig;
use store::sqlite::SqliteStore;
use store::Store;

#[path = "gen/mod.rs"]
mod gen;

const BATCH: usize = 10_000;

fn bench_write(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqlite_write");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for (name, full_text, defer_full_text) in [
        ("batch_10k_with_fts", true, false),
        ("batch_10k_fts_deferred", true, true),
        ("batch_10k_no_fts", false, false),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SqliteConfig {
            full_text,
            defer_full_text,
            ..SqliteConfig::new(dir.path())
        };
        let mut store = SqliteStore::open(&cfg).expect("open");
        let mut generator = gen::Gen::new();
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || generator.batch(BATCH),
                |(records, cp)| black_box(store.write_batch(records, &[], cp).expect("write")),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_write);
criterion_main!(benches);
