//! `backfill`: store the changes of a range of binlog files or positions,
//! from the server or from local files, through the same path as `run`
//! (same records). Resumable: progress is saved after every committed
//! batch in `<data_dir>/backfill-<range>.json`, and running the same
//! command again continues from there (stores skip what they hold).
//!
//! The stores' own resume position (where `run` continues) is left as it
//! is; on stores that never ran, it becomes the end of the backfill.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeline::Checkpoint;
use runner::{Input, Observer, Resume, RunEnd, RunOptions, Runner, StopAt};
use serde_json::json;
use source::StartPosition;

use crate::run::{runtime, shutdown_signal, ConfigArgs};
use crate::UsageError;

#[derive(Debug, Args)]
pub struct BackfillArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Local binlog files to read, in order [default: the config's
    /// mysql.source.files, else its server]
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Start at this binlog file (at --from-pos, default its first event).
    #[arg(long, value_name = "FILE", conflicts_with = "from_start")]
    pub from_file: Option<String>,

    /// Offset in --from-file: a transaction boundary.
    #[arg(long, value_name = "OFFSET", requires = "from_file", value_parser = clap::value_parser!(u64).range(4..))]
    pub from_pos: Option<u64>,

    /// Start at the oldest binlog the server still has (files: their start,
    /// the default).
    #[arg(long)]
    pub from_start: bool,

    /// Stop before the first transaction at or after --to-file/--to-pos
    /// [default: the end of the files; a server's binlog end as of starting]
    #[arg(long, value_name = "FILE")]
    pub to_file: Option<String>,

    /// Offset in --to-file [default: its end]
    #[arg(long, value_name = "OFFSET", requires = "to_file")]
    pub to_pos: Option<u64>,

    /// Start the range over instead of resuming an interrupted backfill.
    #[arg(long)]
    pub restart: bool,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Saved progress of one range.
#[derive(Debug)]
struct Progress {
    range: String,
    position: Option<Checkpoint>,
    done: bool,
}

fn progress_path(data_dir: &Path, range: &str) -> PathBuf {
    // FNV-1a: a stable short name for the range.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in range.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    data_dir.join(format!("backfill-{h:016x}.json"))
}

fn save(path: &Path, p: &Progress) -> std::io::Result<()> {
    let doc = json!({"range": p.range, "position": p.position, "done": p.done});
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap_or_default())?;
    std::fs::rename(&tmp, path)
}

fn load(path: &Path) -> Option<Progress> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    Some(Progress {
        range: doc.get("range")?.as_str()?.to_string(),
        position: serde_json::from_value(doc.get("position")?.clone()).ok()?,
        done: doc.get("done")?.as_bool()?,
    })
}

/// Logs through the progress bar so lines do not tear it.
struct BarObserver(ProgressBar);

impl Observer for BarObserver {
    fn notice(&self, message: &str) {
        self.0.suspend(|| eprintln!("binlog-analyzer: {message}"));
    }
}

pub fn backfill(args: &BackfillArgs) -> Result<ExitCode> {
    let cfg = args.config.load()?;
    let mut input = if !args.files.is_empty() {
        Input::Files(args.files.clone())
    } else {
        Input::from_config(&cfg)?
    };
    let from = args.from_file.as_ref().map(|f| Checkpoint {
        binlog_file: f.clone(),
        binlog_pos: args.from_pos.unwrap_or(4),
        gtid_set: None,
    });
    let to = args.to_file.as_ref().map(|f| Checkpoint {
        binlog_file: f.clone(),
        binlog_pos: args.to_pos.unwrap_or(u64::MAX),
        gtid_set: None,
    });
    if let Input::Live(c) = &mut input {
        c.until_end = true;
        if args.from_start {
            c.start = StartPosition::Earliest;
        } else if from.is_none() {
            return Err(UsageError(
                "backfill from a server needs --from-file FILE [--from-pos N] or --from-start"
                    .into(),
            )
            .into());
        }
    }
    let range = json!({
        "input": input.describe(),
        "from": from,
        "from_start": args.from_start,
        "to": to,
    })
    .to_string();
    std::fs::create_dir_all(&cfg.storage.data_dir)
        .with_context(|| format!("creating {}", cfg.storage.data_dir.display()))?;
    let path = progress_path(&cfg.storage.data_dir, &range);
    let saved: Option<Progress> = if args.restart {
        None
    } else {
        load(&path).filter(|p| p.range == range)
    };
    if let Some(p) = &saved {
        if p.done {
            eprintln!(
                "binlog-analyzer: this range was backfilled already ({}); --restart does it again",
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    let start = saved.as_ref().and_then(|p| p.position.clone()).or(from);
    if let Some(p) = &saved {
        if let Some(cp) = &p.position {
            eprintln!(
                "binlog-analyzer: resuming the backfill after {}:{}",
                cp.binlog_file, cp.binlog_pos
            );
        }
    }

    let bar = if args.no_progress {
        ProgressBar::hidden()
    } else {
        let bar = match &input {
            Input::Files(f) => ProgressBar::new(runner::files::total_bytes(f)).with_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            Input::Live(_) => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar
    };
    let progress_file = path.clone();
    let range_for_hook = range.clone();
    let last = Arc::new(std::sync::Mutex::new(start.clone()));
    let last_in_hook = Arc::clone(&last);
    let options = RunOptions {
        resume: Resume::From(start),
        stop_at: to.map(StopAt::Position),
        retention: false,
        on_commit: Some(Box::new(move |cp: &Checkpoint| {
            *last_in_hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(cp.clone());
            save(
                &progress_file,
                &Progress {
                    range: range_for_hook.clone(),
                    position: Some(cp.clone()),
                    done: false,
                },
            )
            .map_err(|e| runner::RunError::Config(format!("saving backfill progress: {e}")))
        })),
        ..RunOptions::default()
    };
    let observer: Arc<dyn Observer> = Arc::new(BarObserver(bar.clone()));
    let runner = Runner::with_observer(cfg, input, options, observer)?;
    let handle = runner.handle();
    let rt = runtime()?;
    let summary = rt.block_on(async {
        let ticker = {
            let handle = handle.clone();
            let bar = bar.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let s = handle.status();
                    if s.bytes_total > 0 {
                        bar.set_position(s.bytes_done);
                    } else {
                        bar.tick();
                    }
                    bar.set_message(format!(
                        "{}:{} · {} changes stored",
                        s.read_file.as_deref().unwrap_or("-"),
                        s.read_pos.unwrap_or(0),
                        s.records_committed
                    ));
                }
            })
        };
        let stopper = {
            let handle = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                handle.stop();
            })
        };
        let r = runner.run().await;
        ticker.abort();
        stopper.abort();
        r
    });
    bar.finish_and_clear();
    let summary = summary?;
    let done = summary.end == RunEnd::EndOfInput;
    save(
        &path,
        &Progress {
            range,
            position: last.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            done,
        },
    )
    .with_context(|| format!("saving {}", path.display()))?;
    eprintln!(
        "binlog-analyzer: backfill {}: {} changes stored ({} already held) in {:.2} s",
        if done {
            "complete"
        } else {
            "interrupted (run the same command to continue)"
        },
        summary.writes.inserted,
        summary.writes.skipped,
        summary.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
