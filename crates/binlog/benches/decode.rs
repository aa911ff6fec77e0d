//! Criterion benchmarks of the decoder on real corpus binlogs, in memory:
//!
//! - `decode_rows/<file>`: every event, every row, every value decoded
//!   (the work `binlog-analyzer stats` does per row);
//! - `render_json/<file>`: the same plus every value rendered to JSON (the
//!   work `binlog-analyzer parse --format jsonl` does per row).
//!
//! Files: the sakila binlog (MySQL 5.5, rows v1, 47k rows, gzipped in the
//! corpus and decompressed once here) and `mysql-bin.checksum-crc32` (5.7,
//! rows v2, CRC32). `BENCH_BINLOG=FILE` adds a file of your own (e.g. the
//! one `bench/decode` generates). The corpus is `$BINLOG_FIXTURES`, default
//! `shared/fixtures/binlog` beside the repository; without it nothing runs.
//!
//!   cargo bench -p binlog --bench decode

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};

use binlog::events::rows::RowChange;
use binlog::events::Event;
use binlog::stream::BinlogStream;
use binlog::value::render::write_json_value;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("BINLOG_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/binlog"),
    }
}

fn load(path: &Path) -> Option<Vec<u8>> {
    let raw = std::fs::read(path).ok()?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    } else {
        Some(raw)
    }
}

/// Decode every row of `data`; with `json`, render every value into `out`.
/// Returns the number of row changes (so the work cannot be skipped).
fn decode_all(data: &[u8], json: Option<&mut Vec<u8>>) -> u64 {
    let mut stream = BinlogStream::new(data).expect("benchmark file is a binlog");
    let mut rows = 0u64;
    let mut json = json;
    while let Some(event) = stream.next_event().expect("benchmark file decodes") {
        let (Event::Rows(ev), Some(table)) = (&event.event, event.table.as_deref()) else {
            continue;
        };
        let mut iter = ev.rows(table, event.offset);
        let mut row = RowChange::default();
        while iter.next_into(&mut row).expect("benchmark rows decode") {
            rows += 1;
            for image in [&row.before, &row.after].into_iter().flatten() {
                match json.as_deref_mut() {
                    Some(out) => {
                        out.clear();
                        for (v, col) in image.iter().zip(&table.columns) {
                            if let Some(v) = v {
                                write_json_value(out, v, col);
                            }
                        }
                        black_box(out.len());
                    }
                    None => {
                        black_box(image);
                    }
                }
            }
        }
    }
    rows
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = fixtures_dir();
    let mut files: Vec<(String, PathBuf)> = [
        ("sakila", "binlog-connector-java/mysql-bin.sakila.gz"),
        (
            "checksum-crc32",
            "binlog-connector-java/mysql-bin.checksum-crc32",
        ),
    ]
    .iter()
    .map(|(name, rel)| (name.to_string(), dir.join(rel)))
    .collect();
    if let Some(extra) = std::env::var_os("BENCH_BINLOG") {
        let path = PathBuf::from(extra);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, path));
    }
    let loaded: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter_map(|(name, path)| Some((name, load(&path)?)))
        .collect();
    if loaded.is_empty() {
        eprintln!(
            "decode bench: no corpus at {} (set BINLOG_FIXTURES); nothing to run",
            dir.display()
        );
    }
    loaded
}

fn benches(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("decode_rows");
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| decode_all(black_box(data), None))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("render_json");
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        let mut out = Vec::with_capacity(1 << 16);
        group.bench_function(name.as_str(), |b| {
            b.iter(|| decode_all(black_box(data), Some(&mut out)))
        });
    }
    group.finish();
}

criterion_group!(decode, benches);
criterion_main!(decode);
