//! Catch-up of a binlog file into a fresh SQLite store through the whole
//! runner (decode, pipeline, batches, commits), without a server:
//! `cargo run --release -p runner --example catchup -- FILE [BATCH_SIZE [MAX_EVENTS_IN_MEMORY]]`.
//! Prints committed rows/s and the process's peak RSS.

use std::sync::Arc;

use pipeline::Config;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use runner::{Input, QuietObserver, RunOptions, Runner};

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: catchup FILE [BATCH_SIZE]");
        std::process::exit(2);
    };
    let batch: usize = args.get(1).and_then(|b| b.parse().ok()).unwrap_or(5000);
    let max_events: usize = args.get(2).and_then(|b| b.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("runner-catchup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let yaml = format!(
        "mysql:\n  source:\n    files: [\"{file}\"]\nprocessing:\n  batch_size: {batch}\n  flush_interval: 1\nstorage:\n  primary: sqlite\n  data_dir: \"{}\"\nperformance:\n  memory:\n    max_events_in_memory: {max_events}\nmasking:\n  hash_key: \"catchup-key-0123456789abcdef\"\n",
        dir.display()
    );
    let cfg =
        Config::from_yaml(&yaml, "catchup.yaml", None, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let input = Input::from_config(&cfg).expect("input");
    let runner = Runner::with_observer(cfg, input, RunOptions::default(), Arc::new(QuietObserver))
        .expect("runner");
    let s = runner.run_blocking().expect("run");
    let secs = s.elapsed.as_secs_f64();
    println!(
        "{} rows committed in {secs:.2} s: {:.0} rows/s; {} events; peak RSS {} MB; writer busy {:.2} s, reader waited {:.2} s",
        s.writes.inserted,
        s.writes.inserted as f64 / secs,
        s.counts.events,
        peak_rss_mb(),
        s.writes.busy.as_secs_f64(),
        s.waited_for_writer.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
