//! The store writer: its own thread, fed batches in order through a bounded
//! queue (so a slow store slows reading down instead of filling memory).
//!
//! Each batch goes to every store with the checkpoint after it, in one
//! transaction per store ([`store::Store::write_batch`]); only then are its
//! records published (live stream, observers) and its alerts handed on. A
//! failed write is retried with backoff — safe, since stores skip the
//! records they hold — and after [`MAX_ATTEMPTS`] the run stops; a restart
//! resumes from the committed checkpoint. When the queue is empty the
//! stores get time for deferred work (the SQLite search index).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipeline::{Batch, ChangeRecord, Checkpoint};
use store::{Alert, MultiStore, SchemaPosition, Store};
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit, Semaphore};

use crate::error::{Result, RunError};
use crate::observer::Observer;
use crate::status::StatusCell;

/// Batches that may wait for the writer.
pub(crate) const QUEUE: usize = 4;
/// Write attempts per batch before the run gives up.
pub(crate) const MAX_ATTEMPTS: u32 = 6;
/// A budget of records on their way to the writer (queued or being
/// written): a queue of batches alone would let large batches (parts of a
/// huge transaction) pile up in memory.
#[derive(Clone)]
pub(crate) struct Budget {
    sem: Arc<Semaphore>,
    limit: usize,
}

impl Budget {
    pub fn new(batch_size: usize) -> Budget {
        let limit = batch_size.saturating_mul(2).clamp(10_000, 1_000_000);
        Budget {
            sem: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// Waits for room for `records` (a batch larger than the whole budget
    /// takes all of it, so one such batch is in flight at a time).
    pub async fn acquire(&self, records: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(records.min(self.limit)).unwrap_or(u32::MAX);
        if n == 0 {
            return None;
        }
        Arc::clone(&self.sem).acquire_many_owned(n).await.ok()
    }
}

/// Rows of deferred store work per idle step.
const MAINTENANCE_BUDGET: usize = 5_000;

pub(crate) enum WriteMsg {
    /// A batch, and its share of the in-flight record budget (released
    /// once it is written).
    Batch(Batch, Option<OwnedSemaphorePermit>),
    /// Alerts raised outside the pipeline (threshold alerts), stored with
    /// the current checkpoint (or with the next batch when there is none
    /// yet).
    Alerts(Vec<Alert>),
    /// Persist the schema history, valid from `at`.
    Schema {
        at: SchemaPosition,
        document: String,
    },
}

/// Which checkpoint goes with each batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointPolicy {
    /// The batch's own (a run).
    Advance,
    /// Always this one (a backfill of a range into stores that already
    /// follow a source: their resume position must not move).
    Keep(Checkpoint),
}

/// What the writer did, for the run's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteTotals {
    /// Time spent committing batches.
    pub busy: Duration,
    pub batches: u64,
    pub inserted: u64,
    pub skipped: u64,
    pub alerts: u64,
}

pub(crate) type CommitHook = Box<dyn FnMut(&Checkpoint) -> Result<()> + Send>;

pub(crate) struct Writer {
    pub stores: MultiStore,
    pub policy: CheckpointPolicy,
    pub live: broadcast::Sender<Arc<ChangeRecord>>,
    pub status: Arc<StatusCell>,
    pub observer: Arc<dyn Observer>,
    /// Called after each committed batch with its checkpoint (backfill
    /// progress).
    pub on_commit: Option<CommitHook>,
    pub retry_delay: Duration,
    /// The checkpoint last committed (the start position before that).
    pub last_checkpoint: Option<Checkpoint>,
    /// Alerts waiting for a checkpoint to be stored with.
    pub pending_alerts: Vec<Alert>,
}

impl Writer {
    pub fn spawn(
        self,
        rx: mpsc::Receiver<WriteMsg>,
    ) -> Result<JoinHandle<(Result<WriteTotals>, MultiStore)>> {
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || self.run(rx))
            .map_err(|e| RunError::io("starting the store writer", e))
    }

    fn run(mut self, mut rx: mpsc::Receiver<WriteMsg>) -> (Result<WriteTotals>, MultiStore) {
        let mut totals = WriteTotals::default();
        // Whether the stores may have deferred work (after each batch).
        let mut maintenance = true;
        let result = loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(mpsc::error::TryRecvError::Disconnected) => break Ok(totals),
                Err(mpsc::error::TryRecvError::Empty) if maintenance => {
                    match self.stores.maintain(MAINTENANCE_BUDGET) {
                        Ok(0) => maintenance = false,
                        Ok(_) => {}
                        Err(e) => {
                            maintenance = false;
                            self.observer
                                .notice(&format!("deferred store work failed: {e}"));
                        }
                    }
                    continue;
                }
                Err(mpsc::error::TryRecvError::Empty) => match rx.blocking_recv() {
                    Some(m) => m,
                    None => break Ok(totals),
                },
            };
            self.status.update(|s| s.queue_len = rx.len());
            let step = match msg {
                WriteMsg::Batch(b, permit) => {
                    maintenance = true;
                    let r = self.batch(b, &mut totals);
                    drop(permit);
                    r
                }
                WriteMsg::Alerts(a) => self.alerts(a),
                WriteMsg::Schema { at, document } => self.schema(&at, &document),
            };
            if let Err(e) = step {
                break Err(e);
            }
        };
        // Deferred work left is done by the next run (or its idle time).
        (result, self.stores)
    }

    fn schema(&mut self, at: &SchemaPosition, document: &str) -> Result<()> {
        self.retrying("saving the schema history", |stores| {
            stores.save_schema(at, document)
        })
    }

    fn current_checkpoint(&self) -> Option<Checkpoint> {
        match &self.policy {
            CheckpointPolicy::Advance => self.last_checkpoint.clone(),
            CheckpointPolicy::Keep(c) => Some(c.clone()),
        }
    }

    fn alerts(&mut self, alerts: Vec<Alert>) -> Result<()> {
        let Some(cp) = self.current_checkpoint() else {
            self.pending_alerts.extend(alerts);
            return Ok(());
        };
        let outcome = self.retrying("storing alerts", |stores| {
            stores.write_batch(&[], &alerts, &cp)
        })?;
        self.status
            .update(|s| s.alerts_committed += outcome.alerts_inserted as u64);
        Ok(())
    }

    fn retrying<T>(
        &mut self,
        what: &str,
        mut f: impl FnMut(&mut MultiStore) -> store::Result<T>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            match f(&mut self.stores) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.observer.error("store_write", &e.to_string());
                    self.status
                        .update(|s| s.last_error = Some(format!("{what}: {e}")));
                    if attempt >= MAX_ATTEMPTS {
                        return Err(e.into());
                    }
                    let delay = self.retry_delay * 2u32.saturating_pow(attempt - 1);
                    self.observer.notice(&format!(
                        "{what} failed (attempt {attempt} of {MAX_ATTEMPTS}): {e}; retrying in {} ms",
                        delay.as_millis()
                    ));
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    fn batch(&mut self, batch: Batch, totals: &mut WriteTotals) -> Result<()> {
        let mut alerts: Vec<Alert> = std::mem::take(&mut self.pending_alerts);
        alerts.extend(batch.alerts.iter().map(Alert::from_rule));
        let checkpoint = match &self.policy {
            CheckpointPolicy::Advance => batch.checkpoint.clone(),
            CheckpointPolicy::Keep(c) => c.clone(),
        };
        let started = Instant::now();
        let outcome = self.retrying("writing a batch", |stores| {
            stores.write_batch(&batch.records, &alerts, &checkpoint)
        })?;
        let took = started.elapsed();
        self.last_checkpoint = Some(checkpoint.clone());
        for st in self.stores.status() {
            if let Some(latency) = st.last_latency {
                self.observer
                    .store_write(&st.name, latency, st.last_error.is_none());
            }
        }
        totals.busy += took;
        totals.batches += 1;
        totals.inserted += outcome.inserted as u64;
        totals.skipped += outcome.skipped as u64;
        totals.alerts += outcome.alerts_inserted as u64;
        let stores = self.stores.status().to_vec();
        self.status.update(|s| {
            s.committed = Some(checkpoint.clone());
            s.gtid_set = checkpoint.gtid_set.clone();
            s.records_committed += outcome.inserted as u64;
            s.records_skipped += outcome.skipped as u64;
            s.batches_committed += 1;
            s.alerts_committed += outcome.alerts_inserted as u64;
            s.last_batch_latency_ms = Some(took.as_secs_f64() * 1000.0);
            s.stores = stores;
            s.last_error = None;
        });
        if let Some(hook) = self.on_commit.as_mut() {
            hook(&batch.checkpoint)?;
        }
        self.observer.batch_committed(&batch, &outcome, took);
        // Every record was stored before (a restart re-read it): its alerts
        // were handed on then.
        let replayed = outcome.inserted == 0 && !batch.records.is_empty();
        if !batch.alerts.is_empty() && !replayed {
            self.observer.alerts(&batch.alerts);
        }
        if !batch.records.is_empty() {
            self.observer.records(&batch.records);
            if self.live.receiver_count() > 0 {
                for r in batch.records {
                    // An error only means nobody listens any more.
                    let _ = self.live.send(Arc::new(r));
                }
            }
        }
        Ok(())
    }
}
