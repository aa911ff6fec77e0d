//! `stream` and `check`: the live source (crates/source) on a tokio
//! runtime, feeding the same [`Processor`] and sinks as file input.

use std::collections::HashSet;
use std::future::Future;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use source::{CheckItem, CheckStatus, Position, Source, SourceConfig, SourceError};

use crate::driver::{EventAt, Processor, Selection};
use crate::output::Sink;

/// Output waits at most this long in the buffer when the server goes quiet.
const IDLE_FLUSH: Duration = Duration::from_millis(100);
/// While events flow, flush at a commit at most this often.
const BUSY_FLUSH: Duration = Duration::from_millis(500);

/// How a stream ended (errors aside).
#[derive(Debug)]
pub struct StreamEnd {
    /// Stopped by Ctrl-C / SIGTERM rather than by reaching `--until-end`.
    pub interrupted: bool,
    /// The last transaction boundary read; `None` when interrupted before
    /// the connection was up.
    pub committed: Option<Position>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Stream from the server until `--until-end`'s end, a signal or an error,
/// writing records to `sink`. Whatever was read before the end is written.
pub fn stream(cfg: SourceConfig, selection: &Selection, sink: &mut dyn Sink) -> Result<StreamEnd> {
    runtime()?.block_on(stream_with_stop(cfg, selection, sink, shutdown_signal()))
}

async fn stream_with_stop(
    cfg: SourceConfig,
    selection: &Selection,
    sink: &mut dyn Sink,
    stop: impl Future<Output = ()>,
) -> Result<StreamEnd> {
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let mut stop = std::pin::pin!(stop);
    // Connecting can take up to the connect timeout: a signal cuts it short.
    let connected = tokio::select! {
        biased;
        _ = &mut stop => None,
        r = Source::connect(cfg) => Some(r),
    };
    let mut src = match connected {
        None => {
            return Ok(StreamEnd {
                interrupted: true,
                committed: None,
            })
        }
        Some(r) => r.map_err(|e| source_error(e, format!("cannot stream from {addr}")))?,
    };
    let mut xa_written = HashSet::new();
    let mut processor = Processor::new(selection, 0, &mut xa_written);
    let result = follow(&mut src, &mut processor, sink, &mut stop, &addr).await;
    // Records decoded before the end (or an error) are written.
    sink.abandon_transaction()?;
    sink.finish()?;
    let interrupted = match result {
        Ok(interrupted) => interrupted,
        Err(e) => {
            return Err(e.context(format!(
                "streaming from {addr} stopped after {}",
                src.committed()
            )))
        }
    };
    Ok(StreamEnd {
        interrupted,
        committed: Some(src.committed().clone()),
    })
}

/// The event loop. `Ok(true)` when stopped by the signal, `Ok(false)` at
/// the end of an `until_end` stream.
async fn follow(
    src: &mut Source,
    processor: &mut Processor<'_>,
    sink: &mut dyn Sink,
    stop: &mut (impl Future<Output = ()> + Unpin),
    addr: &str,
) -> Result<bool> {
    let mut unflushed = false;
    let mut last_flush = Instant::now();
    let mut reconnects = 0;
    let mut warned = Warnings::default();
    loop {
        let step = {
            let mut next = std::pin::pin!(src.next());
            loop {
                tokio::select! {
                    biased;
                    _ = &mut *stop => break None,
                    r = &mut next => break Some(r),
                    _ = tokio::time::sleep(IDLE_FLUSH), if unflushed => {
                        sink.flush()?;
                        unflushed = false;
                        last_flush = Instant::now();
                    }
                }
            }
        };
        let Some(r) = step else {
            return Ok(true);
        };
        let Some(ev) = r.map_err(|e| source_error(e, "the source failed".into()))? else {
            return Ok(false);
        };
        // The ROTATE/FORMAT_DESCRIPTION the server makes up on every
        // connect are not in the binlog: `parse` never sees them.
        if ev.artificial {
            continue;
        }
        let at = EventAt {
            file: ev.file,
            pos: ev.pos,
            end: ev.next_pos,
            table: ev.table.as_ref(),
        };
        processor
            .event(&at, &ev.event, sink)
            .with_context(|| format!("{}:{}", ev.file, ev.pos))?;
        unflushed = true;
        if ev.committed.is_some() && last_flush.elapsed() >= BUSY_FLUSH {
            sink.flush()?;
            unflushed = false;
            last_flush = Instant::now();
        }
        warned.report(&src.schema_history().warnings);
        if src.reconnects() != reconnects {
            reconnects = src.reconnects();
            eprintln!(
                "binlog-analyzer: reconnected to {addr} after a transient failure; resumed after {}",
                src.committed()
            );
        }
    }
}

/// Schema history warnings (e.g. rows older than the schema snapshot,
/// decoded without column names) on stderr, each kind once: the same
/// warning comes for every table map of the table.
#[derive(Default)]
struct Warnings {
    seen: usize,
    kinds: HashSet<String>,
}

impl Warnings {
    fn report(&mut self, all: &source::schema::Warnings) {
        if all.total() == self.seen {
            return;
        }
        let (dropped, new) = all.since(self.seen);
        for w in new {
            // "file:pos: message": the message without its position.
            let kind = w.split_once(": ").map_or(w, |(_, m)| m);
            if self.kinds.insert(kind.to_string()) {
                eprintln!("binlog-analyzer: warning: {w} (repeats are not shown)");
            }
        }
        if dropped > 0 {
            eprintln!(
                "binlog-analyzer: warning: {dropped} more schema warning(s) came too fast to show"
            );
        }
        self.seen = all.total();
    }
}

/// A source error for the user: definite errors carry what to do.
fn source_error(e: SourceError, context: String) -> anyhow::Error {
    anyhow::Error::new(e).context(context)
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; never when no handler can be set.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Run the preflight checks (a connection failure is itself a failed item).
pub fn check(cfg: &SourceConfig) -> Result<Vec<CheckItem>> {
    Ok(runtime()?.block_on(source::check(cfg)))
}

/// One line per check (`PASS name detail`), its advice under it, then
/// the overall result.
pub fn write_check_text(out: &mut dyn Write, items: &[CheckItem]) -> io::Result<()> {
    let width = items.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for item in items {
        writeln!(
            out,
            "{:<4}  {:<width$}  {}",
            status_word(item.status),
            item.name,
            item.detail
        )?;
        if let Some(advice) = &item.advice {
            writeln!(out, "{:<4}  {:<width$}  fix: {advice}", "", "")?;
        }
    }
    let count = |s: CheckStatus| items.iter().filter(|i| i.status == s).count();
    writeln!(
        out,
        "result: {} ({} passed, {} warnings, {} failed)",
        status_word(source::worst(items)),
        count(CheckStatus::Pass),
        count(CheckStatus::Warn),
        count(CheckStatus::Fail)
    )
}

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "PASS",
        CheckStatus::Warn => "WARN",
        CheckStatus::Fail => "FAIL",
    }
}

/// The flags that resume after `p`, for the message printed on Ctrl-C.
pub fn resume_flags(p: &Position) -> String {
    let by_file = format!("--from-file {} --from-pos {}", p.file, p.pos);
    match &p.gtid {
        Some(g) if !g.to_string().is_empty() => format!("{by_file}, or --from-gtid {g}"),
        _ => by_file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use source::{GtidState, MariaGtidList};

    #[test]
    fn check_text_has_status_detail_advice_and_result() {
        let items = vec![
            CheckItem {
                name: "log_bin".into(),
                status: CheckStatus::Pass,
                detail: "binary logging is on".into(),
                advice: None,
            },
            CheckItem {
                name: "binlog_format".into(),
                status: CheckStatus::Fail,
                detail: "STATEMENT".into(),
                advice: Some("SET GLOBAL binlog_format = 'ROW'".into()),
            },
        ];
        let mut out = Vec::new();
        write_check_text(&mut out, &items).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "PASS  log_bin        binary logging is on",
                "FAIL  binlog_format  STATEMENT",
                &format!("{}fix: SET GLOBAL binlog_format = 'ROW'", " ".repeat(21)),
                "result: FAIL (1 passed, 0 warnings, 1 failed)",
            ]
        );
    }

    #[test]
    fn resume_flags_name_file_position_and_gtid() {
        let mut p = Position::new("mysql-bin.000003", 1234);
        assert_eq!(
            resume_flags(&p),
            "--from-file mysql-bin.000003 --from-pos 1234"
        );
        p.gtid = Some(GtidState::Maria("0-1-40".parse::<MariaGtidList>().unwrap()));
        assert_eq!(
            resume_flags(&p),
            "--from-file mysql-bin.000003 --from-pos 1234, or --from-gtid 0-1-40"
        );
    }
}
