//! Helpers shared by the runner's integration tests.

use std::sync::Arc;
use std::thread::JoinHandle;

use pipeline::{ChangeRecord, Config};
use runner::{Input, Observer, RunOptions, Runner, RunnerHandle, Summary};
use store::{ChangesQuery, QueryStore};

/// Start a run of `cfg`'s own input on a thread of its own, reporting to
/// `observer`; its handle stops it, the thread returns its summary.
pub fn spawn_run(
    cfg: &Config,
    observer: Arc<dyn Observer>,
) -> (RunnerHandle, JoinHandle<runner::Result<Summary>>) {
    let runner = Runner::with_observer(
        cfg.clone(),
        Input::from_config(cfg).unwrap(),
        RunOptions::default(),
        observer,
    )
    .unwrap();
    let handle = runner.handle();
    (handle, std::thread::spawn(move || runner.run_blocking()))
}

/// Every record of a store, every page of every table, in binlog order.
pub fn all_records(q: &dyn QueryStore) -> Vec<ChangeRecord> {
    let mut out = Vec::new();
    for t in q.tables().unwrap() {
        let mut cursor = None;
        loop {
            let mut query = ChangesQuery::new(t.database.clone(), t.table.clone());
            query.limit = 1000;
            query.cursor = cursor;
            let page = q.changes(&query).unwrap();
            let empty = page.items.is_empty();
            out.extend(page.items.into_iter().map(|c| c.record));
            match page.next {
                Some(n) if !empty => cursor = Some(n),
                _ => break,
            }
        }
    }
    out.sort_by_key(|r| (r.key.binlog_file.clone(), r.key.event_pos, r.key.row_index));
    out
}
