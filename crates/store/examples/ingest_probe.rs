//! Committed ingest into a fresh SQLite store, in rows/s of wall-clock and
//! of CPU time (the latter is what a busy shared machine cannot distort).
//!
//! `cargo run --release -p store --example ingest_probe -- [rows] [batch] [--no-fts]`

use std::time::{Duration, Instant};

use store::config::SqliteConfig;
use store::sqlite::SqliteStore;
use store::Store;

#[path = "../benches/gen/mod.rs"]
mod gen;

fn cpu_time() -> Duration {
    // utime + stime of this process from /proc (ticks of 1/100 s).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|i| fields.get(*i)?.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rows = numbers.first().copied().unwrap_or(1_000_000);
    let batch = numbers.get(1).copied().unwrap_or(10_000);
    let full_text = !args.iter().any(|a| a == "--no-fts");
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SqliteConfig {
        full_text,
        ..SqliteConfig::new(dir.path())
    };
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
}
