//! Hooks for what a run does, so metrics, alert delivery and logs can be
//! attached without the runner knowing them (the CLI wires the API's
//! metrics and the alerting crate here).
//!
//! Every method has a no-op default (except [`Observer::notice`], which
//! prints to stderr). Methods are called from the reader and writer
//! threads: keep them quick and never block.

use std::time::Duration;

use pipeline::rules::Alert;
use pipeline::{Batch, ChangeRecord};
use store::WriteOutcome;

pub trait Observer: Send + Sync {
    /// Something worth a line in the log (start position, reconnects,
    /// retries, purges, warnings). Never carries row values.
    fn notice(&self, message: &str) {
        eprintln!("binlog-analyzer: {message}");
    }

    /// Events read since the last call, by type name (`WRITE_ROWS`, …).
    fn events(&self, by_type: &[(&'static str, u64)]) {
        let _ = by_type;
    }

    /// Seconds behind the source (live input).
    fn lag(&self, seconds: u64) {
        let _ = seconds;
    }

    /// A batch was committed in every store, after `took`.
    fn batch_committed(&self, batch: &Batch, outcome: &WriteOutcome, took: Duration) {
        let _ = (batch, outcome, took);
    }

    /// One store's write of a batch took `took` (`ok` false: it failed).
    fn store_write(&self, store: &str, took: Duration, ok: bool) {
        let _ = (store, took, ok);
    }

    /// Committed records, for consumers that want them one by one (the
    /// live stream is also on [`crate::RunnerHandle::subscribe`]).
    fn records(&self, records: &[ChangeRecord]) {
        let _ = records;
    }

    /// Rule alerts of a committed batch, for delivery. Alerts of a batch
    /// whose every record was already stored (re-read after a restart) are
    /// not passed again.
    fn alerts(&self, alerts: &[Alert]) {
        let _ = alerts;
    }

    /// An error of some kind (`decode`, `source`, `store_write`, …) that the
    /// run survived or died of.
    fn error(&self, kind: &str, message: &str) {
        let _ = (kind, message);
    }
}

/// Logs notices to stderr, nothing else.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrObserver;

impl Observer for StderrObserver {}

/// Says nothing at all (tests, benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct QuietObserver;

impl Observer for QuietObserver {
    fn notice(&self, _message: &str) {}
}
