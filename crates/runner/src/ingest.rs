//! The one event path shared by file and live input: decoded events and
//! their positions in, batches (records, alerts, the checkpoint after them)
//! out.
//!
//! [`Ingest`] follows transactions (GTID/BEGIN … XID/COMMIT/DDL, XA), runs
//! each row change of a monitored table through the [`Pipeline`] (filter,
//! record, masking, rules) and hands the results to the [`Batcher`], which
//! cuts batches only at transaction boundaries. Inputs differ only in how
//! they describe where an event is ([`EventAt`]): a file reader knows file
//! offsets; a live source knows the server's positions, the schema-resolved
//! table map, and the GTID state at each commit.

use std::sync::Arc;
use std::time::Instant;

use binlog::events::gtid::GtidKind;
use binlog::events::rows::{RowChange, RowsEvent, RowsKind, STMT_END_F};
use binlog::events::{Event, TableMap};
use binlog::stream::EventRef;
use binlog::txn::{classify_statement, ClosedTxn, Gtid, StatementKind, TxnEnd, TxnTracker, XaId};
use pipeline::config::BatchSettings;
use pipeline::{Batch, Batcher, Checkpoint, Operation, Pipeline, RowContext};
use source::Position;

use crate::error::{Result, RunError};

/// Where an event is, as its input knows it.
#[derive(Debug, Clone, Copy)]
pub struct EventAt<'a> {
    /// Binlog file name (no directory): `binlog_file` of the records and of
    /// checkpoints.
    pub file: &'a str,
    /// Offset of the event (of its TRANSACTION_PAYLOAD for inner events).
    pub pos: u64,
    /// Offset just past the event (past its TRANSACTION_PAYLOAD for inner
    /// events): where reading resumes after it.
    pub end: u64,
    /// For rows events, the table map to decode with (a live source's has
    /// the schema history applied).
    pub table: Option<&'a Arc<TableMap>>,
    /// Live input: the position the source commits at this event, with its
    /// GTID state. Files: `None` (the checkpoint is `file:end`).
    pub committed: Option<&'a Position>,
}

/// Counters of what went through, for status and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub events: u64,
    /// Row changes decoded (monitored tables and operations only).
    pub rows: u64,
    /// Records the pipeline produced.
    pub records: u64,
    pub transactions: u64,
    pub ddl: u64,
}

/// See the module docs.
pub struct Ingest {
    pipeline: Pipeline,
    batcher: Batcher,
    tracker: TxnTracker,
    gtid_text: Option<String>,
    /// The open transaction was opened by a MariaDB GTID event (its BEGIN
    /// query, if any, is not a new transaction).
    opened_by_gtid: bool,
    /// ANNOTATE_ROWS / ROWS_QUERY text of the statement in progress.
    query: Option<String>,
    /// The position after the last transaction seen to end.
    last_checkpoint: Checkpoint,
    /// Rows numbered so far inside the current TRANSACTION_PAYLOAD: its
    /// inner rows events share the payload's offset, so their rows are
    /// numbered on from one event to the next to keep change keys unique.
    payload_rows: u32,
    out: Vec<Batch>,
    counts: IngestCounts,
    /// Events per type code since the last [`Ingest::take_event_types`].
    by_type: Box<[u64; 256]>,
    schema_changed: bool,
    last_timestamp: u32,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("counts", &self.counts)
            .field("last_checkpoint", &self.last_checkpoint)
            .finish_non_exhaustive()
    }
}

impl Ingest {
    /// `start`: where reading starts (a transaction boundary).
    pub fn new(pipeline: Pipeline, settings: BatchSettings, start: Checkpoint) -> Ingest {
        Ingest {
            pipeline,
            batcher: Batcher::new(settings, start.clone()),
            tracker: TxnTracker::new(),
            gtid_text: None,
            opened_by_gtid: false,
            query: None,
            last_checkpoint: start,
            payload_rows: 0,
            out: Vec::new(),
            counts: IngestCounts::default(),
            by_type: Box::new([0; 256]),
            schema_changed: false,
            last_timestamp: 0,
        }
    }

    pub fn counts(&self) -> IngestCounts {
        self.counts
    }

    /// Header time of the last event (seconds since the epoch).
    pub fn last_timestamp(&self) -> u32 {
        self.last_timestamp
    }

    /// Whether a transaction is open (a stop position is only honoured
    /// between transactions).
    pub fn in_transaction(&self) -> bool {
        self.tracker.current().is_some()
    }

    /// Batches ready to be written, in order.
    pub fn take_batches(&mut self) -> std::vec::Drain<'_, Batch> {
        self.out.drain(..)
    }

    /// True once after a DDL statement went by (the schema history changed).
    pub fn take_schema_changed(&mut self) -> bool {
        std::mem::take(&mut self.schema_changed)
    }

    /// Run-time warnings of the pipeline (each once).
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.pipeline.take_warnings()
    }

    /// `(type name, count)` of the events seen since the last call.
    pub fn take_event_types(&mut self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        for (code, n) in self.by_type.iter_mut().enumerate() {
            if *n > 0 {
                let code = u8::try_from(code).unwrap_or(0);
                out.push((binlog::header::event_type::name(code), *n));
                *n = 0;
            }
        }
        out
    }

    /// The pending batch if the flush interval has passed.
    pub fn poll(&mut self, now: Instant) {
        self.out.extend(self.batcher.poll(now));
    }

    /// When [`Ingest::poll`] will next have something.
    pub fn deadline(&self) -> Option<Instant> {
        self.batcher.deadline()
    }

    /// Everything committed so far, now (end of input, shutdown). An open
    /// transaction is left out: a restart reads it again.
    pub fn finish(&mut self) {
        self.out.extend(self.batcher.flush());
    }

    /// Follow one event.
    pub fn event(&mut self, at: &EventAt<'_>, ev: &EventRef<'_>, now: Instant) -> Result<()> {
        self.counts.events += 1;
        if let Some(n) = self.by_type.get_mut(usize::from(ev.type_code)) {
            *n += 1;
        }
        if !ev.in_payload {
            self.payload_rows = 0;
        }
        let ts = ev.header.timestamp;
        if ts != 0 {
            self.last_timestamp = ts;
        }
        match &ev.event {
            Event::Gtid(g) => {
                self.abandon_open(now);
                match g.kind {
                    GtidKind::Anonymous => {
                        self.tracker.on_anonymous_gtid();
                        self.gtid_text = None;
                    }
                    GtidKind::Gtid | GtidKind::Tagged => {
                        let gtid = Gtid::Mysql {
                            sid: g.uuid,
                            tag: g.tag.map(str::to_string),
                            gno: g.gno,
                        };
                        self.gtid_text = Some(gtid.to_string());
                        self.tracker.on_gtid(gtid, at.pos, ts);
                    }
                }
            }
            Event::MariaGtid(m) => {
                self.abandon_open(now);
                let gtid = Gtid::Maria {
                    domain: m.domain_id,
                    server: ev.header.server_id,
                    seq: m.seq_no,
                };
                self.gtid_text = Some(gtid.to_string());
                self.tracker.on_gtid(gtid, at.pos, ts);
                // A MariaDB GTID that is not standalone stands for BEGIN.
                if !m.is_standalone() {
                    self.tracker.on_statement(&StatementKind::Begin, at.pos, ts);
                    self.opened_by_gtid = true;
                    if let (true, Some(x)) = (m.is_prepared_xa(), m.xid) {
                        let xid = XaId {
                            format_id: i64::from(x.format_id),
                            gtrid: x.gtrid.to_vec(),
                            bqual: x.bqual.to_vec(),
                        };
                        self.tracker
                            .on_statement(&StatementKind::XaStart(xid), at.pos, ts);
                    }
                }
            }
            Event::Query(q) => {
                let sql = q.query_str();
                self.statement(at, &sql, ts, now);
            }
            Event::ExecuteLoadQuery(e) => {
                let sql = e.query.query_str();
                self.statement(at, &sql, ts, now);
            }
            Event::Xid(x) => {
                let closed = self.tracker.on_xid(x.xid, at.pos, ts);
                self.close(at, closed, now);
            }
            Event::XaPrepare(p) => {
                let xid = XaId {
                    format_id: i64::from(p.xid.format_id),
                    gtrid: p.xid.gtrid.to_vec(),
                    bqual: p.xid.bqual.to_vec(),
                };
                let closed = self
                    .tracker
                    .on_xa_prepare_event(xid, p.one_phase, at.pos, ts);
                self.close(at, closed, now);
            }
            Event::Rows(rows) => self.rows(at, ev, rows)?,
            Event::RowsQuery(q) | Event::AnnotateRows(q) => {
                self.query = Some(q.query_str().into_owned());
            }
            _ => {}
        }
        Ok(())
    }

    fn statement(&mut self, at: &EventAt<'_>, sql: &str, ts: u32, now: Instant) {
        let kind = classify_statement(sql);
        match &kind {
            StatementKind::Begin if self.opened_by_gtid && self.tracker.current().is_some() => {
                // MariaDB's GTID event already opened it.
            }
            StatementKind::Begin => {
                // A BEGIN inside an open transaction: that one was cut off.
                self.abandon_open(now);
                self.tracker.on_statement(&kind, at.pos, ts);
            }
            StatementKind::Ddl => {
                self.counts.ddl += 1;
                self.schema_changed = true;
                let closed = self.tracker.on_statement(&kind, at.pos, ts);
                self.close(at, closed, now);
            }
            _ => {
                let closed = self.tracker.on_statement(&kind, at.pos, ts);
                self.close(at, closed, now);
            }
        }
    }

    fn rows(&mut self, at: &EventAt<'_>, ev: &EventRef<'_>, rows: &RowsEvent<'_>) -> Result<()> {
        let ts = ev.header.timestamp;
        // MySQL's dummy rows event (table id ~0) ends a statement and has no map.
        let Some(table) = at.table else {
            return Ok(());
        };
        self.tracker.on_rows(0, at.pos, ts);
        let op = match rows.kind {
            RowsKind::Write => Operation::Insert,
            RowsKind::Update | RowsKind::PartialUpdate => Operation::Update,
            RowsKind::Delete => Operation::Delete,
        };
        if let Some(prepared) = self.pipeline.table(table) {
            if prepared.wants(op) {
                let base = if ev.in_payload { self.payload_rows } else { 0 };
                let mut it = rows.rows(table, at.pos);
                let mut change = RowChange::default();
                let mut n = 0u32;
                loop {
                    let more = it
                        .next_into(&mut change)
                        .map_err(|e| RunError::input(at.file, e))?;
                    if !more {
                        break;
                    }
                    let ctx = RowContext {
                        binlog_file: at.file,
                        event_pos: at.pos,
                        row_index: base.saturating_add(n),
                        timestamp: ts,
                        gtid: self.gtid_text.as_deref(),
                        xid: None,
                        query: self.query.as_deref(),
                    };
                    n = n.saturating_add(1);
                    self.counts.rows += 1;
                    if let Some(p) = self.pipeline.process(&prepared, table, op, &change, &ctx) {
                        self.counts.records += 1;
                        self.out.extend(self.batcher.push(p));
                    }
                }
                if ev.in_payload {
                    self.payload_rows = base.saturating_add(n);
                }
            }
        }
        if rows.flags & STMT_END_F != 0 {
            self.query = None;
        }
        Ok(())
    }

    /// Where to resume after the event at `at`.
    fn checkpoint_at(&self, at: &EventAt<'_>) -> Checkpoint {
        match at.committed {
            Some(p) => Checkpoint {
                binlog_file: p.file.clone(),
                binlog_pos: p.pos,
                gtid_set: p.gtid.as_ref().map(|g| g.to_string()),
            },
            None => Checkpoint {
                binlog_file: at.file.to_string(),
                binlog_pos: at.end,
                gtid_set: None,
            },
        }
    }

    fn close(&mut self, at: &EventAt<'_>, closed: Option<ClosedTxn>, now: Instant) {
        let Some(closed) = closed else {
            return;
        };
        self.counts.transactions += 1;
        let cp = self.checkpoint_at(at);
        self.last_checkpoint = cp.clone();
        let b = &mut self.batcher;
        let batch = match &closed.end {
            TxnEnd::Xid(xid) => b.commit(cp, Some(*xid), now),
            TxnEnd::Commit | TxnEnd::Ddl => b.commit(cp, None, now),
            TxnEnd::Rollback => b.rollback(cp, now),
            TxnEnd::XaPrepare(x) => b.xa_prepare(&x.to_string(), cp, now),
            TxnEnd::XaCommit(x) if b.is_prepared(&x.to_string()) => {
                b.xa_commit(&x.to_string(), cp, now)
            }
            // Prepared before reading started: nothing of it is held here.
            TxnEnd::XaCommit(_) => b.commit(cp, None, now),
            TxnEnd::XaRollback(x) => b.xa_rollback(&x.to_string(), cp, now),
        };
        self.out.extend(batch);
        self.query = None;
        self.opened_by_gtid = false;
    }

    /// A new transaction starts while one is open: the open one was cut off
    /// (a truncated file, a relay log); its changes are dropped.
    fn abandon_open(&mut self, now: Instant) {
        if self.tracker.current().is_some() {
            let cp = self.last_checkpoint.clone();
            self.out.extend(self.batcher.rollback(cp, now));
            self.tracker = TxnTracker::new();
            self.query = None;
            self.opened_by_gtid = false;
        }
    }
}
