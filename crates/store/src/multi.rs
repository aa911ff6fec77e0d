//! Fan-out to a primary store and backups.
//!
//! Every batch goes to every store, in parallel, each in its own
//! transaction. Stores can be at different checkpoints (one failed, or a
//! backup was added later): ingest resumes from the OLDEST committed
//! checkpoint and each store skips the records it already holds, so all of
//! them end with every change exactly once.

use std::time::{Duration, Instant, SystemTime};

use pipeline::record::{ChangeRecord, Checkpoint};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::types::{Alert, SchemaPosition, SchemaSnapshot, WriteOutcome};
use crate::util::compare_checkpoints;
use crate::Store;

/// Write statistics of one store, for health and metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreStatus {
    pub name: String,
    pub batches: u64,
    pub inserted: u64,
    pub skipped: u64,
    pub failures: u64,
    pub last_write: Option<SystemTime>,
    pub last_latency: Option<Duration>,
    pub last_error: Option<String>,
}

pub struct MultiStore {
    stores: Vec<Box<dyn Store>>,
    status: Vec<StoreStatus>,
    name: String,
}

impl MultiStore {
    /// `stores[0]` is the primary.
    pub fn new(stores: Vec<Box<dyn Store>>) -> MultiStore {
        let status = stores
            .iter()
            .map(|s| StoreStatus {
                name: s.name().to_string(),
                ..StoreStatus::default()
            })
            .collect();
        let name = stores
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" + ");
        MultiStore {
            stores,
            status,
            name,
        }
    }

    pub fn status(&self) -> &[StoreStatus] {
        &self.status
    }

    pub fn len(&self) -> usize {
        self.stores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// Each store's committed checkpoint.
    pub fn checkpoints(&mut self) -> Result<Vec<(String, Option<Checkpoint>)>> {
        self.stores
            .iter_mut()
            .map(|s| {
                let cp = s.checkpoint().map_err(|e| in_store(s.name(), e))?;
                Ok((s.name().to_string(), cp))
            })
            .collect()
    }

    /// Where ingest resumes: the oldest committed checkpoint; `None` when
    /// some store has committed nothing yet (start from the configured
    /// beginning, the others skip what they hold).
    pub fn resume_checkpoint(&mut self) -> Result<Option<Checkpoint>> {
        let mut oldest: Option<Checkpoint> = None;
        for (_, cp) in self.checkpoints()? {
            let Some(cp) = cp else { return Ok(None) };
            oldest = match oldest {
                Some(o) if compare_checkpoints(&o, &cp).is_le() => Some(o),
                _ => Some(cp),
            };
        }
        Ok(oldest)
    }
}

fn in_store(name: &str, e: StoreError) -> StoreError {
    StoreError::InStore {
        store: name.to_string(),
        source: Box::new(e),
    }
}

impl Store for MultiStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn checkpoint(&mut self) -> Result<Option<Checkpoint>> {
        self.resume_checkpoint()
    }

    /// Writes to all stores in parallel. Returns the primary's outcome; if
    /// any store failed, the first failure (the others may have committed —
    /// retrying the batch is safe, they skip what they hold).
    fn write_batch(
        &mut self,
        records: &[ChangeRecord],
        alerts: &[Alert],
        checkpoint: &Checkpoint,
    ) -> Result<WriteOutcome> {
        let results: Vec<(Result<WriteOutcome>, Duration)> = if self.stores.len() == 1 {
            let start = Instant::now();
            let r = self.stores[0].write_batch(records, alerts, checkpoint);
            vec![(r, start.elapsed())]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = self
                    .stores
                    .iter_mut()
                    .map(|s| {
                        scope.spawn(move || {
                            let start = Instant::now();
                            let r = s.write_batch(records, alerts, checkpoint);
                            (r, start.elapsed())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            (
                                Err(StoreError::Layout("a store's writer panicked".into())),
                                Duration::ZERO,
                            )
                        })
                    })
                    .collect()
            })
        };
        let mut first_error = None;
        let mut primary = WriteOutcome::default();
        for (i, (result, latency)) in results.into_iter().enumerate() {
            let st = &mut self.status[i];
            st.last_latency = Some(latency);
            match result {
                Ok(o) => {
                    st.batches += 1;
                    st.inserted += o.inserted as u64;
                    st.skipped += o.skipped as u64;
                    st.last_write = Some(SystemTime::now());
                    st.last_error = None;
                    if i == 0 {
                        primary = o;
                    }
                }
                Err(e) => {
                    st.failures += 1;
                    st.last_error = Some(e.to_string());
                    if first_error.is_none() {
                        first_error = Some(in_store(&st.name, e));
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(primary),
        }
    }

    fn save_schema(&mut self, at: &SchemaPosition, document: &str) -> Result<()> {
        for s in &mut self.stores {
            s.save_schema(at, document)
                .map_err(|e| in_store(s.name(), e))?;
        }
        Ok(())
    }

    fn maintain(&mut self, budget: usize) -> Result<usize> {
        let mut done = 0;
        for s in &mut self.stores {
            done += s.maintain(budget).map_err(|e| in_store(s.name(), e))?;
        }
        Ok(done)
    }

    /// From the primary.
    fn schema_at(&mut self, at: &SchemaPosition) -> Result<Option<SchemaSnapshot>> {
        match self.stores.first_mut() {
            Some(s) => s.schema_at(at),
            None => Ok(None),
        }
    }

    /// From the primary.
    fn schema_earliest(&mut self) -> Result<Option<SchemaSnapshot>> {
        match self.stores.first_mut() {
            Some(s) => s.schema_earliest(),
            None => Ok(None),
        }
    }
}
