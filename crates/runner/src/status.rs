//! What a run reports while it runs: positions, lag, counts, rates, store
//! health. Written by the reader and the writer, read by the API (through
//! [`crate::RunnerHandle::status`]) and the CLI.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pipeline::Checkpoint;
use serde::Serialize;
use store::StoreStatus;

/// Phase of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    #[default]
    Starting,
    /// Reading, behind the end of the input.
    CatchingUp,
    /// Live input at the end of the binlog, waiting for new changes.
    Streaming,
    /// The source connection was lost; reconnecting.
    Reconnecting,
    /// Stopping: writing what was read.
    Stopping,
    /// Ended (end of input or a stop request), everything written.
    Finished,
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Starting => "starting",
            RunState::CatchingUp => "catching_up",
            RunState::Streaming => "streaming",
            RunState::Reconnecting => "reconnecting",
            RunState::Stopping => "stopping",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
        }
    }
}

/// A snapshot of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    pub state: RunState,
    /// `host:port` of the server, or the binlog files.
    pub source: String,
    /// The last event read.
    pub read_file: Option<String>,
    pub read_pos: Option<u64>,
    /// Header time of the last event read (seconds since the epoch).
    pub last_event_timestamp: Option<u32>,
    /// Committed in every store: where a restart resumes.
    pub committed: Option<Checkpoint>,
    /// Executed GTID set at the committed position, when known.
    pub gtid_set: Option<String>,
    /// Seconds behind the source (live input; 0 when caught up).
    pub lag_seconds: Option<u64>,
    pub events_total: u64,
    /// Row changes decoded for monitored tables.
    pub rows_total: u64,
    /// Records newly stored (the primary's count).
    pub records_committed: u64,
    /// Records a store already held (re-read after a restart).
    pub records_skipped: u64,
    pub batches_committed: u64,
    pub alerts_committed: u64,
    /// Over the last few seconds.
    pub events_per_second: f64,
    /// Committed records per second over the last few seconds.
    pub rows_per_second: f64,
    /// File input: bytes read and total.
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Batches waiting for the writer.
    pub queue_len: usize,
    pub last_batch_latency_ms: Option<f64>,
    /// Seconds since the epoch.
    pub started_at: u64,
    pub reconnects: u32,
    pub last_error: Option<String>,
    pub stores: Vec<StoreStatus>,
}

/// Samples kept for rates: one per [`SAMPLE_EVERY`], over [`RATE_WINDOW`].
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The shared status and the samples rates are computed from.
#[derive(Debug, Default)]
pub(crate) struct StatusCell {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    status: Status,
    /// (when, events_total, records_committed)
    samples: VecDeque<(Instant, u64, u64)>,
}

impl StatusCell {
    pub fn new(source: String) -> StatusCell {
        let cell = StatusCell::default();
        cell.update(|s| {
            s.source = source;
            s.started_at = unix_now();
        });
        cell
    }

    /// Change the status; rates follow the counters.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g.status);
        let now = Instant::now();
        let (events, records) = (g.status.events_total, g.status.records_committed);
        let due = g
            .samples
            .back()
            .is_none_or(|(t, _, _)| now.duration_since(*t) >= SAMPLE_EVERY);
        if due {
            g.samples.push_back((now, events, records));
            while g
                .samples
                .front()
                .is_some_and(|(t, _, _)| now.duration_since(*t) > RATE_WINDOW)
                && g.samples.len() > 2
            {
                g.samples.pop_front();
            }
            if let (Some(first), Some(last)) = (g.samples.front(), g.samples.back()) {
                let secs = last.0.duration_since(first.0).as_secs_f64();
                if secs > 0.0 {
                    let ev = last.1.saturating_sub(first.1) as f64 / secs;
                    let rows = last.2.saturating_sub(first.2) as f64 / secs;
                    g.status.events_per_second = ev;
                    g.status.rows_per_second = rows;
                }
            }
        }
    }

    pub fn get(&self) -> Status {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.status.clone()
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
