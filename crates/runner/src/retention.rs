//! Retention: records, alerts and rollups older than `retention_days` are
//! purged on a schedule, by a thread of their own, through each store's
//! query side ([`store::QueryStore::purge_older_than`]), in small
//! transactions so that ingest waits at most one chunk.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use store::config::StoreConfig;
use store::{PurgeReport, QueryStore};

use crate::error::{Result, RunError};
use crate::observer::Observer;
use crate::status::unix_now;

/// Changes per purge transaction.
pub const CHUNK_ROWS: usize = 2_000;
/// The first purge waits this long after start, so startup is not slowed.
const FIRST_PURGE_AFTER: Duration = Duration::from_secs(2);

/// The cut-off for `days` of retention at `now` (seconds since the epoch).
pub fn cutoff(now: u64, days: u32) -> u32 {
    let cut = now.saturating_sub(u64::from(days) * 86_400);
    u32::try_from(cut).unwrap_or(u32::MAX)
}

/// Purge every store once; returns what each removed.
pub fn purge_once(
    stores: &[Arc<dyn QueryStore>],
    days: u32,
    chunk_rows: usize,
) -> Result<Vec<(String, PurgeReport)>> {
    let before = cutoff(unix_now(), days);
    let mut out = Vec::new();
    for s in stores {
        let report = s.purge_older_than(before, chunk_rows)?;
        out.push((s.name().to_string(), report));
    }
    Ok(out)
}

/// Stops the purge thread.
#[derive(Clone, Default)]
pub(crate) struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    pub fn stop(&self) {
        let (lock, cv) = &*self.0;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    /// Waits `d`; true when stopped meanwhile.
    fn wait(&self, d: Duration) -> bool {
        let (lock, cv) = &*self.0;
        let g = lock.lock().unwrap_or_else(|p| p.into_inner());
        let (g, _) = cv
            .wait_timeout_while(g, d, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        *g
    }
}

/// Start the schedule: a purge shortly after start, then every `interval`.
pub(crate) fn spawn(
    configs: Vec<StoreConfig>,
    days: u32,
    interval: Duration,
    stop: Stop,
    observer: Arc<dyn Observer>,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || {
            let mut stores: Vec<Arc<dyn QueryStore>> = Vec::new();
            let mut wait = FIRST_PURGE_AFTER;
            loop {
                if stop.wait(wait) {
                    return;
                }
                wait = interval.max(Duration::from_secs(1));
                if stores.is_empty() {
                    match configs.iter().map(|c| c.open_queries()).collect() {
                        Ok(s) => stores = s,
                        Err(e) => {
                            observer.notice(&format!("retention: cannot open the stores: {e}"));
                            continue;
                        }
                    }
                }
                match purge_once(&stores, days, CHUNK_ROWS) {
                    Ok(reports) => {
                        for (name, r) in reports {
                            if r.changes > 0 || r.alerts > 0 {
                                observer.notice(&format!(
                                    "retention: purged {} changes, {} alerts older than {days} days from {name}",
                                    r.changes, r.alerts
                                ));
                            }
                        }
                    }
                    Err(e) => observer.notice(&format!("retention: purge failed: {e}")),
                }
            }
        })
        .map_err(|e| RunError::io("starting the retention thread", e))
}
