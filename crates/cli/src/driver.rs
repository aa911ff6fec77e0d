//! The event loop shared by `parse` and `stats`: reads each input, follows
//! transactions, applies the filters and hands records to a [`Sink`].
//!
//! Filter semantics (documented for users in the README):
//! - `--database`/`--table` select row changes by their table map; DDL and
//!   statements by their default database, and not at all with `--table`.
//! - positions and times select events; a transaction's `begin`/`xa_start`
//!   is written just before its first selected record and its end record
//!   whenever something of it was written, so every written transaction is
//!   framed.
//! - `--include-gtids` selects whole transactions.
//! - `xa_commit`/`xa_rollback` of a separate XA group are written when the
//!   group passes the filters and, under `--table`, only when the prepared
//!   part of that XA transaction was written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use binlog::events::gtid::GtidKind;
use binlog::events::rows::STMT_END_F;
use binlog::events::{Event, TableMap};
use binlog::stream::{BinlogStream, EventRef};
use binlog::txn::{classify_statement, ClosedTxn, Gtid, StatementKind, TxnEnd, TxnTracker, XaId};
use indicatif::ProgressBar;

use crate::filter::{TableFilter, Window};
use crate::gtid_filter::{GtidRef, GtidSet};
use crate::input::InputSpec;
use crate::output::{Ctx, Ending, Opening, Sink, StatementRecord};

pub struct RunConfig {
    pub inputs: Vec<InputSpec>,
    pub tables: TableFilter,
    pub window: Window,
    pub gtids: Option<GtidSet>,
    pub progress: Option<ProgressBar>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Events read (inner events of transaction payloads included).
    pub events: u64,
    /// Row changes handed to the sink.
    pub rows: u64,
}

/// Process every input in order.
pub fn run(cfg: &RunConfig, sink: &mut dyn Sink) -> Result<RunSummary> {
    let mut summary = RunSummary::default();
    let mut xa_written: HashSet<XaId> = HashSet::new();
    let count = cfg.inputs.len();
    for (index, input) in cfg.inputs.iter().enumerate() {
        if let Some(bar) = &cfg.progress {
            bar.set_message(input.display_name.clone());
        }
        let (start_pos, stop_pos) = cfg.window.positions_for_file(index, count);
        let reader = input.open(cfg.progress.as_ref())?;
        let mut stream = BinlogStream::new(reader).map_err(|e| anyhow!("{}: {e}", input.shown_path()))?;
        let mut file = FileRun::new(cfg, &input.display_name, start_pos, &mut xa_written);
        let result = loop {
            let ev = match stream.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break Ok(()),
                Err(e) => break Err(anyhow!("{}: {e}", input.shown_path())),
            };
            if ev.offset >= stop_pos {
                break Ok(());
            }
            summary.events += 1;
            if let Err(e) = file.event(&ev, sink) {
                break Err(e.context(format!("{}", input.shown_path())));
            }
        };
        summary.rows += file.total_rows;
        // Records decoded before an error (or the end) are written.
        sink.abandon_transaction()?;
        result?;
    }
    if let Some(bar) = &cfg.progress {
        bar.finish_and_clear();
    }
    sink.finish()?;
    Ok(summary)
}

/// Per-file state: the transaction in progress and what of it was written.
struct FileRun<'c> {
    cfg: &'c RunConfig,
    file: &'c str,
    start_pos: u64,
    xa_written: &'c mut HashSet<XaId>,
    tracker: TxnTracker,
    /// GTID of the current transaction, rendered.
    gtid_text: Option<String>,
    /// The current transaction passes `--include-gtids`.
    gtid_ok: bool,
    /// Opening record not yet written (written before the first record).
    pending_opening: Option<Opening>,
    opening_written: bool,
    /// The current transaction was opened by a MariaDB GTID event.
    opened_by_gtid: bool,
    /// Something of the current transaction was written.
    written: bool,
    rows_written: u64,
    total_rows: u64,
    /// ROWS_QUERY / ANNOTATE_ROWS text for the statement in progress.
    query: Option<String>,
    /// File position just past the current top-level event.
    top_end: u64,
    /// `--table`/`--database` verdict per table id, for the map it was computed on.
    table_verdicts: HashMap<u64, (Arc<TableMap>, bool)>,
}

impl<'c> FileRun<'c> {
    fn new(cfg: &'c RunConfig, file: &'c str, start_pos: u64, xa_written: &'c mut HashSet<XaId>) -> Self {
        FileRun {
            cfg,
            file,
            start_pos,
            xa_written,
            tracker: TxnTracker::new(),
            gtid_text: None,
            gtid_ok: cfg.gtids.is_none(),
            pending_opening: None,
            opening_written: false,
            opened_by_gtid: false,
            written: false,
            rows_written: 0,
            total_rows: 0,
            query: None,
            top_end: 0,
            table_verdicts: HashMap::new(),
        }
    }

    fn ctx<'a>(&'a self, ev: &EventRef<'_>) -> Ctx<'a> {
        Ctx {
            file: self.file,
            pos: ev.offset,
            timestamp: ev.header.timestamp,
            server_id: ev.header.server_id,
            end_log_pos: ev.header.log_pos,
            type_name: ev.type_name(),
            gtid: self.gtid_text.as_deref(),
            query: self.query.as_deref(),
            xa: self.tracker.current().and_then(|t| t.xa.as_ref()),
        }
    }

    fn event(&mut self, ev: &EventRef<'_>, sink: &mut dyn Sink) -> Result<()> {
        let ts = ev.header.timestamp;
        if !ev.in_payload {
            self.top_end = ev.offset + ev.header.event_size as u64;
        }
        let in_window = ev.offset >= self.start_pos && self.cfg.window.time_ok(ts);
        match &ev.event {
            Event::Gtid(g) => {
                self.abandon_open(sink)?;
                match g.kind {
                    GtidKind::Anonymous => {
                        self.tracker.on_anonymous_gtid();
                        self.set_gtid(None);
                    }
                    GtidKind::Gtid | GtidKind::Tagged => {
                        let gtid = Gtid::Mysql {
                            sid: g.uuid,
                            tag: g.tag.map(str::to_string),
                            gno: g.gno,
                        };
                        self.tracker.on_gtid(gtid.clone(), ev.offset, ts);
                        self.set_gtid(Some(gtid));
                    }
                }
            }
            Event::MariaGtid(m) => {
                self.abandon_open(sink)?;
                let gtid = Gtid::Maria {
                    domain: m.domain_id,
                    server: ev.header.server_id,
                    seq: m.seq_no,
                };
                self.tracker.on_gtid(gtid.clone(), ev.offset, ts);
                self.set_gtid(Some(gtid));
                // A MariaDB GTID that is not standalone stands for BEGIN.
                if !m.is_standalone() {
                    self.tracker.on_statement(&StatementKind::Begin, ev.offset, ts);
                    self.opened_by_gtid = true;
                    self.pending_opening = Some(Opening::Begin);
                    if let (true, Some(x)) = (m.is_prepared_xa(), m.xid) {
                        let xid = XaId {
                            format_id: x.format_id as i64,
                            gtrid: x.gtrid.to_vec(),
                            bqual: x.bqual.to_vec(),
                        };
                        self.tracker
                            .on_statement(&StatementKind::XaStart(xid.clone()), ev.offset, ts);
                        self.pending_opening = Some(Opening::XaStart(xid));
                    }
                }
            }
            Event::Query(q) => {
                let sql = q.query_str();
                let schema = q.schema_str();
                self.statement(ev, sink, in_window, &schema, &sql)?;
            }
            Event::ExecuteLoadQuery(e) => {
                let sql = e.query.query_str();
                let schema = e.query.schema_str();
                self.statement(ev, sink, in_window, &schema, &sql)?;
            }
            Event::Xid(x) => {
                let closed = self.tracker.on_xid(x.xid, ev.offset, ts);
                self.close(ev, sink, closed, None)?;
            }
            Event::XaPrepare(p) => {
                let xid = XaId {
                    format_id: p.xid.format_id as i64,
                    gtrid: p.xid.gtrid.to_vec(),
                    bqual: p.xid.bqual.to_vec(),
                };
                let closed = self.tracker.on_xa_prepare_event(xid, p.one_phase, ev.offset, ts);
                self.close(ev, sink, closed, None)?;
            }
            Event::Rows(rows) => {
                if let Some(table) = &ev.table {
                    self.tracker.on_rows(0, ev.offset, ts);
                    if self.gtid_ok && in_window && self.table_selected(table) {
                        self.write_opening(ev, sink)?;
                        let n = sink.rows(&self.ctx(ev), table, rows)?;
                        self.rows_written += n;
                        self.total_rows += n;
                        self.written = true;
                    }
                }
                if rows.flags & STMT_END_F != 0 {
                    self.query = None;
                }
            }
            Event::RowsQuery(q) | Event::AnnotateRows(q) => {
                self.query = Some(q.query_str().into_owned());
            }
            _ => {}
        }
        Ok(())
    }

    fn statement(
        &mut self,
        ev: &EventRef<'_>,
        sink: &mut dyn Sink,
        in_window: bool,
        schema: &str,
        sql: &str,
    ) -> Result<()> {
        let (offset, ts) = (ev.offset, ev.header.timestamp);
        let kind = classify_statement(sql);
        let selected = self.gtid_ok && in_window && self.cfg.tables.matches_statement(schema);
        match &kind {
            StatementKind::Begin => {
                if self.opened_by_gtid && self.tracker.current().is_some() {
                    // MariaDB's GTID already opened it.
                    return Ok(());
                }
                if self.tracker.current().is_some() {
                    // The previous transaction never ended (cut-off relay log).
                    self.reset_txn(sink)?;
                }
                self.tracker.on_statement(&kind, offset, ts);
                self.pending_opening = Some(Opening::Begin);
            }
            StatementKind::XaStart(xid) => {
                self.tracker.on_statement(&kind, offset, ts);
                self.pending_opening = Some(Opening::XaStart(xid.clone()));
            }
            StatementKind::XaEnd(xid) => {
                self.tracker.on_statement(&kind, offset, ts);
                if self.written {
                    sink.xa_end(&self.ctx(ev), xid)?;
                }
            }
            StatementKind::Dml | StatementKind::Savepoint => {
                self.tracker.on_statement(&kind, offset, ts);
                if selected {
                    self.write_opening(ev, sink)?;
                    sink.statement(&self.ctx(ev), StatementRecord::Statement, schema, sql)?;
                    self.written = true;
                }
            }
            StatementKind::Ddl => {
                if selected {
                    if self.tracker.current().is_some() {
                        self.write_opening(ev, sink)?;
                    }
                    sink.statement(&self.ctx(ev), StatementRecord::Ddl, schema, sql)?;
                    self.written = true;
                }
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(ev, sink, closed, None)?;
            }
            StatementKind::Commit | StatementKind::Rollback | StatementKind::XaPrepare(_) => {
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(ev, sink, closed, None)?;
            }
            StatementKind::XaCommit { xid, .. } | StatementKind::XaRollback(xid) => {
                // A group of its own: no BEGIN record before it.
                self.pending_opening = None;
                let wanted = self.cfg.tables.is_empty() || self.xa_written.contains(xid);
                let write = self.gtid_ok && in_window && wanted;
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(ev, sink, closed, Some(write))?;
            }
        }
        Ok(())
    }

    /// Write the pending BEGIN / XA START before the first selected record.
    fn write_opening(&mut self, ev: &EventRef<'_>, sink: &mut dyn Sink) -> Result<()> {
        if let Some(opening) = self.pending_opening.take() {
            let mut ctx = self.ctx(ev);
            if let Some(t) = self.tracker.current() {
                ctx.pos = t.start_offset;
                ctx.timestamp = t.start_timestamp;
            }
            // Not an event of its own: no end position to show.
            ctx.end_log_pos = 0;
            sink.opening(&ctx, &opening)?;
            self.opening_written = true;
        }
        Ok(())
    }

    /// A transaction ended. `force` overrides whether its end is written.
    fn close(
        &mut self,
        ev: &EventRef<'_>,
        sink: &mut dyn Sink,
        closed: Option<ClosedTxn>,
        force: Option<bool>,
    ) -> Result<()> {
        let Some(closed) = closed else {
            return Ok(());
        };
        let write = match force {
            Some(w) => w,
            // A DDL is its own record; frame it only if a BEGIN was written.
            None if closed.end == TxnEnd::Ddl => self.opening_written,
            None => self.written,
        };
        if write {
            let mut ctx = self.ctx(ev);
            ctx.xa = closed.txn.xa.as_ref();
            let ending = Ending {
                end: &closed.end,
                txn: &closed.txn,
                rows: self.rows_written,
                bytes: self.top_end.saturating_sub(closed.txn.start_offset),
            };
            sink.ending(&ctx, &ending)?;
            if let TxnEnd::XaPrepare(xid) = &closed.end {
                if !self.cfg.tables.is_empty() {
                    self.xa_written.insert(xid.clone());
                }
            }
        }
        self.clear_txn_state();
        Ok(())
    }

    fn clear_txn_state(&mut self) {
        self.pending_opening = None;
        self.opening_written = false;
        self.opened_by_gtid = false;
        self.written = false;
        self.rows_written = 0;
        self.query = None;
        self.gtid_text = None;
        self.gtid_ok = self.cfg.gtids.is_none();
    }

    /// Give up on a transaction that never ended; keep the tracker.
    fn reset_txn(&mut self, sink: &mut dyn Sink) -> Result<()> {
        sink.abandon_transaction()?;
        let gtid_text = self.gtid_text.take();
        let gtid_ok = self.gtid_ok;
        self.clear_txn_state();
        self.gtid_text = gtid_text;
        self.gtid_ok = gtid_ok;
        Ok(())
    }

    /// A GTID event arrived while a transaction is still open: that one
    /// was cut off. Start over.
    fn abandon_open(&mut self, sink: &mut dyn Sink) -> Result<()> {
        if self.tracker.current().is_some() {
            sink.abandon_transaction()?;
            self.clear_txn_state();
            self.tracker = TxnTracker::new();
        }
        Ok(())
    }

    fn set_gtid(&mut self, gtid: Option<Gtid>) {
        self.gtid_ok = match (&self.cfg.gtids, &gtid) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(set), Some(g)) => set.contains(gtid_ref(g)),
        };
        self.gtid_text = gtid.map(|g| g.to_string());
    }

    fn table_selected(&mut self, table: &Arc<TableMap>) -> bool {
        if self.cfg.tables.is_empty() {
            return true;
        }
        if let Some((t, verdict)) = self.table_verdicts.get(&table.table_id) {
            if Arc::ptr_eq(t, table) || (t.database == table.database && t.table == table.table) {
                return *verdict;
            }
        }
        let verdict = self.cfg.tables.matches_table(&table.database, &table.table);
        self.table_verdicts
            .insert(table.table_id, (Arc::clone(table), verdict));
        verdict
    }
}

fn gtid_ref(g: &Gtid) -> GtidRef<'_> {
    match g {
        Gtid::Mysql { sid, tag, gno } => GtidRef::Mysql {
            uuid: sid,
            tag: tag.as_deref(),
            gno: *gno,
        },
        Gtid::Maria {
            domain,
            server,
            seq,
        } => GtidRef::Maria {
            domain: *domain,
            server: *server,
            seq: *seq,
        },
    }
}
