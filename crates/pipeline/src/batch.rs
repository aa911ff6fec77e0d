//! Batching at transaction boundaries.
//!
//! A [`Batcher`] collects the changes of the open transaction; on commit
//! they join the pending batch, which is handed out when it holds
//! `batch_size` changes, or `flush_interval` after its first commit
//! ([`Batcher::poll`]). Every batch ends at a commit, so its checkpoint
//! (where to resume after a restart) is a transaction boundary: a store
//! that commits a batch and its checkpoint together holds whole
//! transactions.
//!
//! Two cases move the checkpoint back rather than splitting a transaction:
//! - a transaction larger than the part size — `max_buffered` changes, or
//!   `batch_size` (at least [`MIN_PART`]) when that is smaller — is handed
//!   out in parts (`ends_at_commit: false`), each carrying the position before that
//!   transaction; after a crash it is read again and stores skip the
//!   changes they hold (they are keyed by [`crate::record::ChangeKey`]);
//! - an XA transaction is held from XA PREPARE until its XA COMMIT (then
//!   handed out) or XA ROLLBACK (dropped); while one is held, checkpoints
//!   stay at the position before it, so a restart reads it again.
//!
//! Time is passed in (`now`), so the batcher is pure and testable.

use std::time::{Duration, Instant};

use crate::build::Processed;
use crate::config::BatchSettings;
use crate::record::{ChangeRecord, Checkpoint};
use crate::rules::Alert;

/// Changes to write together with the checkpoint after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub records: Vec<ChangeRecord>,
    pub alerts: Vec<Alert>,
    /// Where to resume once this batch is committed.
    pub checkpoint: Checkpoint,
    /// False for a part of an oversized transaction (see the module docs).
    pub ends_at_commit: bool,
}

#[derive(Debug)]
struct Parked {
    xa_id: String,
    records: Vec<ChangeRecord>,
    alerts: Vec<Alert>,
    /// The checkpoint before the XA transaction began.
    floor: Checkpoint,
}

/// See the module docs.
#[derive(Debug)]
pub struct Batcher {
    batch_size: usize,
    flush_interval: Duration,
    max_buffered: usize,
    /// An open transaction this large is handed out in parts.
    part: usize,
    pending: Vec<ChangeRecord>,
    pending_alerts: Vec<Alert>,
    open: Vec<ChangeRecord>,
    open_alerts: Vec<Alert>,
    /// Position after the last commit seen.
    committed: Checkpoint,
    /// Checkpoint of the last batch handed out.
    emitted: Checkpoint,
    /// When the oldest commit not yet handed out happened.
    since: Option<Instant>,
    parked: Vec<Parked>,
}

/// Smallest part a huge transaction is cut into (when `batch_size` is
/// smaller), so that `batch_size: 1` does not mean a commit per row.
pub const MIN_PART: usize = 1_000;

impl Batcher {
    /// `start`: the position reading starts from (the stores' checkpoint).
    pub fn new(settings: BatchSettings, start: Checkpoint) -> Self {
        // A part being written and the next one being built are both in
        // memory: parts of `max_buffered` changes (100 000 in the seed's
        // config) held ~540 MB through a 5M-row transaction, parts of
        // `batch_size` hold a few MB and cost only more commits.
        let max_buffered = settings.max_buffered.max(1);
        Batcher {
            batch_size: settings.batch_size.max(1),
            flush_interval: settings.flush_interval,
            max_buffered,
            part: max_buffered.min(settings.batch_size.max(MIN_PART)),
            pending: Vec::new(),
            pending_alerts: Vec::new(),
            open: Vec::new(),
            open_alerts: Vec::new(),
            committed: start.clone(),
            emitted: start,
            since: None,
            parked: Vec::new(),
        }
    }

    /// Add a change of the open transaction. Returns a partial batch when
    /// more than `max_buffered` changes would be held, or when the open
    /// transaction reaches the part size.
    pub fn push(&mut self, processed: Processed) -> Option<Batch> {
        self.open.push(processed.record);
        self.open_alerts.extend(processed.alerts);
        if self.open.len() + self.pending.len() < self.max_buffered && self.open.len() < self.part {
            return None;
        }
        let mut records = std::mem::take(&mut self.pending);
        records.append(&mut self.open);
        let mut alerts = std::mem::take(&mut self.pending_alerts);
        alerts.append(&mut self.open_alerts);
        // Commits already pending are covered by the resume point below
        // only up to the last commit; the open part will be re-read.
        let checkpoint = self.resume_point();
        self.emitted = checkpoint.clone();
        self.since = None;
        Some(Batch {
            records,
            alerts,
            checkpoint,
            ends_at_commit: false,
        })
    }

    /// The open transaction committed; `checkpoint` is the position just
    /// after it, `xid` its XID (set on its records).
    pub fn commit(
        &mut self,
        checkpoint: Checkpoint,
        xid: Option<u64>,
        now: Instant,
    ) -> Option<Batch> {
        for r in &mut self.open {
            if r.xid.is_none() {
                r.xid = xid;
            }
        }
        self.pending.append(&mut self.open);
        self.pending_alerts.append(&mut self.open_alerts);
        self.committed = checkpoint;
        self.since.get_or_insert(now);
        if self.pending.len() >= self.batch_size || self.flush_interval.is_zero() {
            return self.flush();
        }
        None
    }

    /// The open transaction rolled back (its changes are dropped);
    /// `checkpoint` is the position after it.
    pub fn rollback(&mut self, checkpoint: Checkpoint, now: Instant) -> Option<Batch> {
        self.open.clear();
        self.open_alerts.clear();
        self.commit(checkpoint, None, now)
    }

    /// XA PREPARE: hold the open transaction under `xa_id` until its
    /// outcome. `checkpoint` is the position after the PREPARE.
    pub fn xa_prepare(
        &mut self,
        xa_id: &str,
        checkpoint: Checkpoint,
        now: Instant,
    ) -> Option<Batch> {
        let floor = self.committed.clone();
        self.parked.push(Parked {
            xa_id: xa_id.to_string(),
            records: std::mem::take(&mut self.open),
            alerts: std::mem::take(&mut self.open_alerts),
            floor,
        });
        self.commit(checkpoint, None, now)
    }

    /// Whether an XA transaction is held (a COMMIT/ROLLBACK for an unknown
    /// one means its PREPARE came before the start of reading).
    pub fn is_prepared(&self, xa_id: &str) -> bool {
        self.parked.iter().any(|p| p.xa_id == xa_id)
    }

    /// XA COMMIT of a prepared transaction: its changes are committed now.
    pub fn xa_commit(
        &mut self,
        xa_id: &str,
        checkpoint: Checkpoint,
        now: Instant,
    ) -> Option<Batch> {
        self.open.clear();
        self.open_alerts.clear();
        if let Some(i) = self.parked.iter().position(|p| p.xa_id == xa_id) {
            let p = self.parked.remove(i);
            self.open = p.records;
            self.open_alerts = p.alerts;
        }
        self.commit(checkpoint, None, now)
    }

    /// XA ROLLBACK of a prepared transaction: its changes are dropped.
    pub fn xa_rollback(
        &mut self,
        xa_id: &str,
        checkpoint: Checkpoint,
        now: Instant,
    ) -> Option<Batch> {
        self.parked.retain(|p| p.xa_id != xa_id);
        self.rollback(checkpoint, now)
    }

    /// The pending batch if `flush_interval` has passed since its first
    /// commit.
    pub fn poll(&mut self, now: Instant) -> Option<Batch> {
        let since = self.since?;
        if now.saturating_duration_since(since) >= self.flush_interval {
            return self.flush();
        }
        None
    }

    /// When [`Batcher::poll`] will next have something, if anything is
    /// pending.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|s| s + self.flush_interval)
    }

    /// Hand out every committed change now (e.g. at shutdown or end of
    /// input). The open transaction stays.
    pub fn flush(&mut self) -> Option<Batch> {
        self.since = None;
        let checkpoint = self.resume_point();
        if self.pending.is_empty() && checkpoint == self.emitted {
            return None;
        }
        self.emitted = checkpoint.clone();
        Some(Batch {
            records: std::mem::take(&mut self.pending),
            alerts: std::mem::take(&mut self.pending_alerts),
            checkpoint,
            ends_at_commit: true,
        })
    }

    /// Where a restart must begin: after the last commit, or before the
    /// oldest held XA transaction.
    fn resume_point(&self) -> Checkpoint {
        match self.parked.first() {
            Some(p) => p.floor.clone(),
            None => self.committed.clone(),
        }
    }

    /// Changes of the open transaction.
    pub fn open_len(&self) -> usize {
        self.open.len()
    }

    /// Committed changes not handed out yet.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ChangeKey, JsonText, Operation};

    fn settings(batch_size: usize, secs: u64, max_buffered: usize) -> BatchSettings {
        BatchSettings {
            batch_size,
            flush_interval: Duration::from_secs(secs),
            max_buffered,
        }
    }

    fn cp(pos: u64) -> Checkpoint {
        Checkpoint {
            binlog_file: "bin.000001".into(),
            binlog_pos: pos,
            gtid_set: None,
        }
    }

    fn change(pos: u64) -> Processed {
        Processed {
            record: ChangeRecord {
                key: ChangeKey {
                    binlog_file: "bin.000001".into(),
                    event_pos: pos,
                    row_index: 0,
                },
                timestamp: 0,
                operation: Operation::Insert,
                database: "db".into(),
                table: "t".into(),
                primary_key: JsonText::empty(),
                pk_text: String::new(),
                old_data: None,
                new_data: Some(JsonText::empty()),
                changes: JsonText::empty(),
                gtid: None,
                xid: None,
                query: None,
                tags: vec![],
            },
            alerts: vec![],
        }
    }

    fn positions(b: &Batch) -> Vec<u64> {
        b.records.iter().map(|r| r.key.event_pos).collect()
    }

    #[test]
    fn batch_is_emitted_when_full_and_only_at_a_commit() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(3, 60, 1000), cp(4));
        assert!(b.push(change(10)).is_none());
        assert!(b.push(change(20)).is_none());
        assert!(b.push(change(30)).is_none());
        assert!(
            b.push(change(40)).is_none(),
            "full, but the transaction is open"
        );
        let batch = b.commit(cp(100), Some(7), t0).unwrap();
        assert_eq!(
            positions(&batch),
            vec![10, 20, 30, 40],
            "whole transaction kept together"
        );
        assert_eq!(batch.checkpoint, cp(100));
        assert!(batch.ends_at_commit);
        assert!(batch.records.iter().all(|r| r.xid == Some(7)));
        assert_eq!(b.pending_len(), 0);
    }

    #[test]
    fn interval_flushes_small_batches_and_empty_commits_advance_the_checkpoint() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(100, 5, 1000), cp(4));
        b.push(change(10));
        assert!(b.commit(cp(50), None, t0).is_none());
        assert!(b.poll(t0 + Duration::from_secs(4)).is_none());
        assert_eq!(b.deadline(), Some(t0 + Duration::from_secs(5)));
        let batch = b.poll(t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(positions(&batch), vec![10]);
        assert_eq!(batch.checkpoint, cp(50));
        assert!(
            b.poll(t0 + Duration::from_secs(60)).is_none(),
            "nothing new"
        );
        assert_eq!(b.deadline(), None);
        // A transaction of other tables: no records, checkpoint moves.
        assert!(b
            .commit(cp(90), None, t0 + Duration::from_secs(61))
            .is_none());
        let batch = b.poll(t0 + Duration::from_secs(70)).unwrap();
        assert!(batch.records.is_empty());
        assert_eq!(batch.checkpoint, cp(90));
    }

    #[test]
    fn rollback_drops_the_open_transaction() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(1, 5, 1000), cp(4));
        b.push(change(10));
        assert!(b.rollback(cp(30), t0).is_none(), "nothing to write at once");
        let batch = b.poll(t0 + Duration::from_secs(5)).unwrap();
        assert!(batch.records.is_empty());
        assert_eq!(batch.checkpoint, cp(30), "but the checkpoint moves past it");
    }

    #[test]
    fn oversized_transaction_is_split_with_the_checkpoint_before_it() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(10, 5, 3), cp(4));
        b.push(change(5));
        b.commit(cp(8), None, t0);
        assert!(b.push(change(10)).is_none());
        let part = b.push(change(11)).unwrap();
        assert_eq!(positions(&part), vec![5, 10, 11]);
        assert_eq!(part.checkpoint, cp(8), "resume before the open transaction");
        assert!(!part.ends_at_commit);
        b.push(change(12));
        let last = b.flush();
        assert!(
            last.is_none(),
            "the open rest is not handed out before its commit"
        );
        let end = b
            .commit(cp(20), None, t0)
            .unwrap_or_else(|| b.flush().unwrap());
        assert_eq!(positions(&end), vec![12]);
        assert_eq!(end.checkpoint, cp(20));
        assert!(end.ends_at_commit);
    }

    #[test]
    fn huge_transaction_is_cut_into_parts_of_batch_size_not_max_buffered() {
        // Guards peak memory: with the seed's max_events_in_memory (100 000)
        // a 5M-row transaction must not be held 100 000 changes at a time.
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(2 * MIN_PART, 5, 100_000), cp(4));
        let mut parts = Vec::new();
        for i in 0..(5 * MIN_PART as u64 + 7) {
            if let Some(part) = b.push(change(10 + i)) {
                parts.push(part);
            }
        }
        assert_eq!(parts.len(), 2, "two full parts of batch_size");
        for part in &parts {
            assert_eq!(part.records.len(), 2 * MIN_PART);
            assert_eq!(part.checkpoint, cp(4), "resume before the transaction");
            assert!(!part.ends_at_commit);
        }
        let end = b
            .commit(cp(99_999), None, t0)
            .unwrap_or_else(|| b.flush().unwrap());
        assert_eq!(end.records.len(), MIN_PART + 7);
        assert!(end.ends_at_commit);

        // Small transactions are never cut, however many are pending.
        let mut b = Batcher::new(settings(2 * MIN_PART, 5, 100_000), cp(4));
        for t in 0..(3 * MIN_PART as u64) {
            assert!(b.push(change(10 + 2 * t)).is_none());
            if let Some(batch) = b.commit(cp(11 + 2 * t), None, t0) {
                assert!(batch.ends_at_commit);
            }
        }
    }

    #[test]
    fn xa_transaction_is_held_until_commit_and_checkpoint_stays_before_it() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(1, 5, 1000), cp(4));
        // XA 'a': rows, PREPARE at 100.
        b.push(change(50));
        assert!(
            b.xa_prepare("a", cp(100), t0).is_none(),
            "held XA keeps the resume point before it: nothing new to write"
        );
        assert!(b.is_prepared("a"));
        // An ordinary transaction meanwhile.
        b.push(change(150));
        let batch = b.commit(cp(200), Some(9), t0).unwrap();
        assert_eq!(positions(&batch), vec![150]);
        assert_eq!(batch.checkpoint, cp(4));
        // XA 'b' prepared then rolled back: never handed out.
        b.push(change(250));
        b.xa_prepare("b", cp(300), t0);
        let batch = b.xa_rollback("b", cp(350), t0);
        assert!(batch.is_none_or_empty());
        // XA COMMIT 'a'.
        let batch = b.xa_commit("a", cp(400), t0).unwrap();
        assert_eq!(positions(&batch), vec![50]);
        assert_eq!(batch.checkpoint, cp(400));
        assert!(!b.is_prepared("a") && !b.is_prepared("b"));
    }

    trait NoneOrEmpty {
        fn is_none_or_empty(&self) -> bool;
    }
    impl NoneOrEmpty for Option<Batch> {
        fn is_none_or_empty(&self) -> bool {
            self.as_ref().is_none_or(|b| b.records.is_empty())
        }
    }

    #[test]
    fn disabled_batching_writes_each_transaction_at_once() {
        let t0 = Instant::now();
        let mut b = Batcher::new(settings(1, 0, 1000), cp(4));
        assert!(b.commit(cp(10), None, t0).is_some());
        b.push(change(20));
        assert_eq!(positions(&b.commit(cp(30), None, t0).unwrap()), vec![20]);
    }
}
