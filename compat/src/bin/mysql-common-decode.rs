//! `mysql-common-decode FILE…`: decode every row event of the given binlogs
//! with mysql_common, touching every value (JSON parsed to the end), and print
//! `rows=<n>` plus the elapsed time. The peer program of the decode benchmark
//! (`bench/decode`): it is measured as a whole process, like
//! `binlog-analyzer stats`.
//!
//! Gzip files (the corpus's sakila binlog) are decompressed on the fly.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;
use std::time::Instant;

use binlog_compat::mc;

fn open(path: &str) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    let file = File::open(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() || files.iter().any(|f| f == "-h" || f == "--help") {
        eprintln!("usage: mysql-common-decode FILE…");
        return ExitCode::from(2);
    }
    let start = Instant::now();
    let (mut rows, mut values, mut digest, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut failed = false;
    for path in &files {
        let input = match open(path) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("mysql-common-decode: {path}: {e}");
                failed = true;
                continue;
            }
        };
        let (count, error) = mc::count_rows(input);
        rows += count.rows;
        values += count.values;
        digest ^= count.digest;
        bytes += count.stats.end_offset;
        if let Some(error) = error {
            eprintln!("mysql-common-decode: {path}: mysql_common stopped {error}");
            failed = true;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "rows={rows} values={values} bytes={bytes} digest={digest:016x} elapsed={elapsed:.3}s rows_per_sec={:.0}",
        rows as f64 / elapsed.max(1e-9)
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
