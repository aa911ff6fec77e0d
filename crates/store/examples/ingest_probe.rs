//! Committed ingest into a fresh SQLite store, in rows/s of wall-clock and
//! of CPU time (the latter is what a busy shared machine cannot distort).
//!
//! `cargo run --release -p store --example ingest_probe -- [rows] [batch] [--no-fts|--defer] [--queries] [--dir=DIR]`
//!
//! With `--defer` the search index is built after ingest by
//! `Store::maintain`, timed separately (this is how `run` configures the
//! store). With `--dir=DIR` the store is written to `DIR/binlog-analyzer.db`
//! and kept (bench/queries serves it over HTTP); DIR must not hold a store.

use std::time::{Duration, Instant};

use store::config::SqliteConfig;
use store::sqlite::{SqliteQueries, SqliteStore};
use store::*;

#[path = "../benches/gen/mod.rs"]
mod gen;

fn cpu_time() -> Duration {
    // utime + stime of this process from /proc (ticks of 1/100 s).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rows = numbers.first().copied().unwrap_or(1_000_000);
    let batch = numbers.get(1).copied().unwrap_or(10_000);
    let full_text = !args.iter().any(|a| a == "--no-fts");
    let defer_full_text = args.iter().any(|a| a == "--defer");
    let kept = args.iter().find_map(|a| a.strip_prefix("--dir="));
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = kept.map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
    let cfg = SqliteConfig {
        full_text,
        defer_full_text,
        ..SqliteConfig::new(&dir)
    };
    if cfg.path().exists() {
        eprintln!(
            "ingest_probe: {} exists; give an empty --dir",
            cfg.path().display()
        );
        std::process::exit(2);
    }
    let mut store = SqliteStore::open(&cfg).expect("open");
    let mut generator = gen::Gen::new();
    let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
    let mut written = 0;
    while written < rows {
        let (records, cp) = generator.batch(batch.min(rows - written));
        let (w0, c0) = (Instant::now(), cpu_time());
        store.write_batch(&records, &[], &cp).expect("write");
        wall += w0.elapsed();
        cpu += cpu_time().saturating_sub(c0);
        written += records.len();
    }
    let size = std::fs::metadata(cfg.path()).map(|m| m.len()).unwrap_or(0);
    println!(
        "rows={written} batch={batch} fts={full_text} wall={:.2}s -> {:.0} rows/s; cpu={:.2}s -> {:.0} rows/s; file={} MB",
        wall.as_secs_f64(),
        written as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        written as f64 / cpu.as_secs_f64().max(1e-9),
        size / 1_000_000
    );
    if defer_full_text {
        let (w0, c0) = (Instant::now(), cpu_time());
        let mut indexed = 0;
        loop {
            let n = store.maintain(50_000).expect("maintain");
            if n == 0 {
                break;
            }
            indexed += n;
        }
        let (wall, cpu) = (w0.elapsed(), cpu_time().saturating_sub(c0));
        println!(
            "deferred search indexing: {indexed} rows, wall={:.2}s -> {:.0} rows/s; cpu={:.2}s -> {:.0} rows/s",
            wall.as_secs_f64(),
            indexed as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64(),
            indexed as f64 / cpu.as_secs_f64().max(1e-9)
        );
    }
    if args.iter().any(|a| a == "--queries") {
        query_latencies(&cfg, &generator, full_text);
    }
}

/// p50/p99 of the API's main queries on the store just written.
fn query_latencies(cfg: &SqliteConfig, generator: &gen::Gen, full_text: bool) {
    let q = SqliteQueries::open(cfg).expect("open queries");
    let end = generator.ts + 1;
    type Run<'a> = (&'static str, Box<dyn Fn(u64) -> usize + 'a>);
    let mut runs: Vec<Run> = vec![
        (
            "changes(limit 100, last 10 min, desc)",
            Box::new(|_| {
                let mut cq = ChangesQuery::new("ecommerce", "orders");
                cq.range = TimeRange::between(end - 600, end);
                cq.order = Order::Desc;
                q.changes(&cq).expect("changes").items.len()
            }),
        ),
        (
            "row_history(random row)",
            Box::new(|i| {
                let id = 1 + (i * 7919) % generator.next_id;
                let table = ["users", "orders", "products"][(i % 3) as usize];
                q.row_history(&RowHistoryQuery::new("ecommerce", table, id.to_string()))
                    .expect("history")
                    .items
                    .len()
            }),
        ),
        (
            "table_stats(all time)",
            Box::new(|_| {
                q.table_stats("ecommerce", "orders", TimeRange::all())
                    .expect("stats")
                    .total_changes as usize
            }),
        ),
        (
            "column_changes(status, limit 100)",
            Box::new(|_| {
                q.column_changes(&ColumnChangesQuery::new("ecommerce", "orders", "status"))
                    .expect("column")
                    .items
                    .len()
            }),
        ),
        (
            "trend(hour buckets, all tables)",
            Box::new(|_| {
                q.trend(&TrendQuery {
                    table: None,
                    range: TimeRange::all(),
                    bucket: Bucket::Hour,
                })
                .expect("trend")
                .len()
            }),
        ),
    ];
    if full_text {
        runs.push((
            "search(\"paid\", limit 50)",
            Box::new(|_| {
                q.search(&SearchQuery {
                    text: "paid".into(),
                    table: None,
                    cursor: None,
                    limit: 50,
                })
                .expect("search")
                .items
                .len()
            }),
        ));
    }
    for (name, run) in &runs {
        let mut times: Vec<Duration> = (0..200)
            .map(|i| {
                let t = Instant::now();
                std::hint::black_box(run(i));
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{name}: p50 {:.2} ms, p99 {:.2} ms",
            times[100].as_secs_f64() * 1e3,
            times[197].as_secs_f64() * 1e3
        );
    }
}
