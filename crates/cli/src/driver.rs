//! The event loop shared by `parse`, `stats` and `stream`: follows
//! transactions, applies the filters and hands records to a [`Sink`].
//! [`run`] feeds it from files; `crate::live` from a server, through the
//! same [`Processor`].
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

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use binlog::events::gtid::GtidKind;
use binlog::events::rows::STMT_END_F;
use binlog::events::{Event, TableMap};
use binlog::stream::{BinlogStream, EventRef, TableIdMap};
use binlog::txn::{classify_statement, ClosedTxn, Gtid, StatementKind, TxnEnd, TxnTracker, XaId};
use indicatif::ProgressBar;

use crate::filter::{TableFilter, Window};
use crate::gtid_filter::{GtidRef, GtidSet};
use crate::input::InputSpec;
use crate::output::{Ctx, Ending, Opening, Sink, StatementRecord};

/// What to select: the filters common to every input.
pub struct Selection {
    pub tables: TableFilter,
    pub window: Window,
    pub gtids: Option<GtidSet>,
}

pub struct RunConfig {
    pub inputs: Vec<InputSpec>,
    pub selection: Selection,
    pub progress: Option<ProgressBar>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Events read (inner events of transaction payloads included).
    pub events: u64,
    /// Row changes handed to the sink.
    pub rows: u64,
}

/// Where an event is, as the input knows it: a file's reader knows offsets
/// in the file; a live stream knows the server's file and positions (its
/// decoder's offsets count bytes received, not binlog positions).
#[derive(Debug, Clone, Copy)]
pub struct EventAt<'a> {
    /// `binlog_file` of the records.
    pub file: &'a str,
    /// Start of the event (of its TRANSACTION_PAYLOAD for inner events).
    pub pos: u64,
    /// Just past the event (past its TRANSACTION_PAYLOAD for inner events).
    pub end: u64,
    /// For rows events, the table map to decode with (a live stream's has
    /// the schema history applied).
    pub table: Option<&'a Arc<TableMap>>,
}

impl<'a> EventAt<'a> {
    /// An event read from a file: positions are the reader's offsets.
    pub fn in_file(file: &'a str, ev: &'a EventRef<'_>, outer_end: u64) -> Self {
        EventAt {
            file,
            pos: ev.offset,
            end: outer_end,
            table: ev.table.as_ref(),
        }
    }
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
        let (start_pos, stop_pos) = cfg.selection.window.positions_for_file(index, count);
        let reader = input.open(cfg.progress.as_ref())?;
        let mut stream =
            BinlogStream::new(reader).map_err(|e| anyhow!("{}: {e}", input.shown_path()))?;
        let mut file = Processor::new(&cfg.selection, start_pos, &mut xa_written);
        let mut outer_end = 0u64;
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
            if !ev.in_payload {
                outer_end = ev.offset + ev.header.event_size as u64;
            }
            let at = EventAt::in_file(&input.display_name, &ev, outer_end);
            if let Err(e) = file.event(&at, &ev, sink) {
                break Err(e.context(input.shown_path()));
            }
        };
        summary.rows += file.total_rows();
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

/// Stream state: the transaction in progress and what of it was written.
/// One per file for file inputs (a transaction never spans files); one for
/// a whole live stream.
pub struct Processor<'c> {
    cfg: &'c Selection,
    start_pos: u64,
    xa_written: &'c mut HashSet<XaId>,
    tracker: TxnTracker,
    /// GTID of the current transaction, rendered.
    gtid_text: TextSlot,
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
    query: TextSlot,
    /// File position just past the current top-level event.
    top_end: u64,
    /// `--table`/`--database` verdict per table id, for the map it was computed on.
    table_verdicts: TableIdMap<(Arc<TableMap>, bool)>,
}

impl<'c> Processor<'c> {
    /// `start_pos`: events starting before it are followed but not written.
    /// `xa_written` outlives the processor: an XA COMMIT may come in a later
    /// file than its prepared part.
    pub fn new(cfg: &'c Selection, start_pos: u64, xa_written: &'c mut HashSet<XaId>) -> Self {
        Processor {
            cfg,
            start_pos,
            xa_written,
            tracker: TxnTracker::new(),
            gtid_text: TextSlot::default(),
            gtid_ok: cfg.gtids.is_none(),
            pending_opening: None,
            opening_written: false,
            opened_by_gtid: false,
            written: false,
            rows_written: 0,
            total_rows: 0,
            query: TextSlot::default(),
            top_end: 0,
            table_verdicts: TableIdMap::default(),
        }
    }

    /// Row changes handed to the sink so far.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    fn ctx<'a>(&'a self, at: &EventAt<'a>, ev: &EventRef<'_>) -> Ctx<'a> {
        Ctx {
            file: at.file,
            pos: at.pos,
            timestamp: ev.header.timestamp,
            server_id: ev.header.server_id,
            end_log_pos: ev.header.log_pos,
            type_name: ev.type_name(),
            gtid: self.gtid_text.get(),
            query: self.query.get(),
            xa: self.tracker.current().and_then(|t| t.xa.as_ref()),
        }
    }

    /// Follow one event, writing what it selects.
    pub fn event(
        &mut self,
        at: &EventAt<'_>,
        ev: &EventRef<'_>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let ts = ev.header.timestamp;
        if !ev.in_payload {
            self.top_end = at.end;
        }
        let in_window = at.pos >= self.start_pos && self.cfg.window.time_ok(ts);
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
                        self.tracker.on_gtid(gtid.clone(), at.pos, ts);
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
                self.tracker.on_gtid(gtid.clone(), at.pos, ts);
                self.set_gtid(Some(gtid));
                // A MariaDB GTID that is not standalone stands for BEGIN.
                if !m.is_standalone() {
                    self.tracker.on_statement(&StatementKind::Begin, at.pos, ts);
                    self.opened_by_gtid = true;
                    self.pending_opening = Some(Opening::Begin);
                    if let (true, Some(x)) = (m.is_prepared_xa(), m.xid) {
                        let xid = XaId {
                            format_id: x.format_id as i64,
                            gtrid: x.gtrid.to_vec(),
                            bqual: x.bqual.to_vec(),
                        };
                        self.tracker
                            .on_statement(&StatementKind::XaStart(xid.clone()), at.pos, ts);
                        self.pending_opening = Some(Opening::XaStart(xid));
                    }
                }
            }
            Event::Query(q) => {
                let sql = q.query_str();
                let schema = q.schema_str();
                self.statement(at, ev, sink, in_window, &schema, &sql)?;
            }
            Event::ExecuteLoadQuery(e) => {
                let sql = e.query.query_str();
                let schema = e.query.schema_str();
                self.statement(at, ev, sink, in_window, &schema, &sql)?;
            }
            Event::Xid(x) => {
                let closed = self.tracker.on_xid(x.xid, at.pos, ts);
                self.close(at, ev, sink, closed, None)?;
            }
            Event::XaPrepare(p) => {
                let xid = XaId {
                    format_id: p.xid.format_id as i64,
                    gtrid: p.xid.gtrid.to_vec(),
                    bqual: p.xid.bqual.to_vec(),
                };
                let closed = self
                    .tracker
                    .on_xa_prepare_event(xid, p.one_phase, at.pos, ts);
                self.close(at, ev, sink, closed, None)?;
            }
            Event::Rows(rows) => {
                if let Some(table) = at.table {
                    self.tracker.on_rows(0, at.pos, ts);
                    if self.gtid_ok && in_window && self.table_selected(table) {
                        self.write_opening(at, ev, sink)?;
                        let n = sink.rows(&self.ctx(at, ev), table, rows)?;
                        self.rows_written += n;
                        self.total_rows += n;
                        self.written = true;
                    }
                }
                if rows.flags & STMT_END_F != 0 {
                    self.query.unset();
                }
            }
            // One per statement: reuse the buffer, and skip the copy for
            // sinks that never show it.
            Event::RowsQuery(q) | Event::AnnotateRows(q) if sink.wants_query() => {
                self.query.set_utf8_lossy(q.query);
            }
            _ => {}
        }
        Ok(())
    }

    fn statement(
        &mut self,
        at: &EventAt<'_>,
        ev: &EventRef<'_>,
        sink: &mut dyn Sink,
        in_window: bool,
        schema: &str,
        sql: &str,
    ) -> Result<()> {
        let (offset, ts) = (at.pos, ev.header.timestamp);
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
                    sink.xa_end(&self.ctx(at, ev), xid)?;
                }
            }
            StatementKind::Dml | StatementKind::Savepoint => {
                self.tracker.on_statement(&kind, offset, ts);
                if selected {
                    self.write_opening(at, ev, sink)?;
                    sink.statement(&self.ctx(at, ev), StatementRecord::Statement, schema, sql)?;
                    self.written = true;
                }
            }
            StatementKind::Ddl => {
                if selected {
                    if self.tracker.current().is_some() {
                        self.write_opening(at, ev, sink)?;
                    }
                    sink.statement(&self.ctx(at, ev), StatementRecord::Ddl, schema, sql)?;
                    self.written = true;
                }
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(at, ev, sink, closed, None)?;
            }
            StatementKind::Commit | StatementKind::Rollback | StatementKind::XaPrepare(_) => {
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(at, ev, sink, closed, None)?;
            }
            StatementKind::XaCommit { xid, .. } | StatementKind::XaRollback(xid) => {
                // A group of its own: no BEGIN record before it.
                self.pending_opening = None;
                let wanted = self.cfg.tables.is_empty() || self.xa_written.contains(xid);
                let write = self.gtid_ok && in_window && wanted;
                let closed = self.tracker.on_statement(&kind, offset, ts);
                self.close(at, ev, sink, closed, Some(write))?;
            }
        }
        Ok(())
    }

    /// Write the pending BEGIN / XA START before the first selected record.
    fn write_opening(
        &mut self,
        at: &EventAt<'_>,
        ev: &EventRef<'_>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        if let Some(opening) = self.pending_opening.take() {
            let mut ctx = self.ctx(at, ev);
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
        at: &EventAt<'_>,
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
            let mut ctx = self.ctx(at, ev);
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
        self.query.unset();
        self.gtid_text.unset();
        self.gtid_ok = self.cfg.gtids.is_none();
    }

    /// Give up on a transaction that never ended; keep the tracker.
    fn reset_txn(&mut self, sink: &mut dyn Sink) -> Result<()> {
        sink.abandon_transaction()?;
        let gtid_text = std::mem::take(&mut self.gtid_text);
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
        match gtid {
            // MariaDB's `domain-server-seq`, as Display writes it, without
            // the formatting machinery (once per transaction).
            Some(Gtid::Maria {
                domain,
                server,
                seq,
            }) => self
                .gtid_text
                .set_parts(&[domain as u64, server as u64, seq], '-'),
            Some(g) => self.gtid_text.set_display(&g),
            None => self.gtid_text.unset(),
        }
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

/// Optional text whose buffer is kept across values: set once per
/// transaction or statement, so no allocation per set.
#[derive(Debug, Default)]
struct TextSlot {
    buf: String,
    is_set: bool,
}

impl TextSlot {
    fn get(&self) -> Option<&str> {
        self.is_set.then_some(self.buf.as_str())
    }

    fn unset(&mut self) {
        self.is_set = false;
    }

    fn set_display(&mut self, value: &impl std::fmt::Display) {
        use std::fmt::Write;
        self.buf.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.buf, "{value}");
        self.is_set = true;
    }

    /// Numbers joined by `separator`.
    fn set_parts(&mut self, parts: &[u64], separator: char) {
        self.buf.clear();
        for (i, &part) in parts.iter().enumerate() {
            if i > 0 {
                self.buf.push(separator);
            }
            self.buf.push_str(itoa::Buffer::new().format(part));
        }
        self.is_set = true;
    }

    /// Bytes as text, invalid UTF-8 replaced (as `String::from_utf8_lossy`).
    fn set_utf8_lossy(&mut self, bytes: &[u8]) {
        self.buf.clear();
        match std::str::from_utf8(bytes) {
            Ok(text) => self.buf.push_str(text),
            Err(_) => self.buf.push_str(&String::from_utf8_lossy(bytes)),
        }
        self.is_set = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    use binlog::events::rows::RowsKind;
    use binlog::events::xid::{XaPrepareEvent, XaXid, XidEvent};
    use binlog::events::{GtidEvent, QueryEvent, RowsEvent, StatusVars};
    use binlog::header::{event_type as et, EventHeader};

    use crate::filter::TablePattern;
    use crate::output::Ending;

    /// Records what the driver hands to a sink, one line per call.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Sink for Recorder {
        fn rows(
            &mut self,
            ctx: &Ctx<'_>,
            table: &Arc<TableMap>,
            _rows: &RowsEvent<'_>,
        ) -> Result<u64> {
            self.0.push(format!(
                "rows {} @{} gtid={:?} xa={:?}",
                table.table,
                ctx.pos,
                ctx.gtid,
                ctx.xa.map(|x| x.to_string())
            ));
            Ok(1)
        }
        fn opening(&mut self, ctx: &Ctx<'_>, opening: &Opening) -> io::Result<()> {
            let what = match opening {
                Opening::Begin => "begin".to_string(),
                Opening::XaStart(x) => format!("xa_start {x}"),
            };
            self.0.push(format!("{what} @{}", ctx.pos));
            Ok(())
        }
        fn xa_end(&mut self, ctx: &Ctx<'_>, xid: &XaId) -> io::Result<()> {
            self.0.push(format!("xa_end {xid} @{}", ctx.pos));
            Ok(())
        }
        fn statement(
            &mut self,
            ctx: &Ctx<'_>,
            kind: StatementRecord,
            _schema: &str,
            sql: &str,
        ) -> io::Result<()> {
            self.0.push(format!("{kind:?} {sql} @{}", ctx.pos));
            Ok(())
        }
        fn ending(&mut self, ctx: &Ctx<'_>, ending: &Ending<'_>) -> io::Result<()> {
            self.0.push(format!(
                "end {:?} @{} gtid={:?} rows={} bytes={}",
                ending.end, ctx.pos, ctx.gtid, ending.rows, ending.bytes
            ));
            Ok(())
        }
        fn abandon_transaction(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn finish(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    const UUID: [u8; 16] = [0x11; 16];

    fn header(offset: u64, type_code: u8) -> EventHeader {
        EventHeader {
            timestamp: 1_700_000_000 + offset as u32 / 100,
            type_code,
            server_id: 1,
            event_size: 100,
            log_pos: offset as u32 + 100,
            flags: 0,
        }
    }

    fn ev(
        offset: u64,
        type_code: u8,
        event: Event<'static>,
        table: Option<Arc<TableMap>>,
    ) -> EventRef<'static> {
        EventRef {
            offset,
            header: header(offset, type_code),
            type_code,
            event,
            in_payload: false,
            table,
        }
    }

    fn gtid(offset: u64, gno: u64) -> EventRef<'static> {
        let mut g = GtidEvent::parse(&[0u8; 25], false).expect("minimal GTID body");
        g.uuid = UUID;
        g.gno = gno;
        ev(offset, et::GTID, Event::Gtid(Box::new(g)), None)
    }

    fn query(offset: u64, sql: &'static str) -> EventRef<'static> {
        let q = QueryEvent {
            thread_id: 1,
            exec_time: 0,
            error_code: 0,
            status_vars: StatusVars::default(),
            schema: b"shop",
            query: sql.as_bytes(),
        };
        ev(offset, et::QUERY, Event::Query(Box::new(q)), None)
    }

    fn table(name: &str) -> Arc<TableMap> {
        Arc::new(TableMap {
            table_id: 7,
            flags: 0,
            database: "shop".into(),
            table: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            has_column_names: false,
            has_signedness: false,
        })
    }

    fn rows(offset: u64, t: &Arc<TableMap>) -> EventRef<'static> {
        let r = RowsEvent {
            kind: RowsKind::Write,
            version: 2,
            table_id: 7,
            flags: 1,
            extra_data: &[],
            column_count: 0,
            columns_before: &[],
            columns_after: &[],
            data: &[],
        };
        ev(offset, et::WRITE_ROWS, Event::Rows(r), Some(Arc::clone(t)))
    }

    const XID_A1: XaXid<'static> = XaXid {
        format_id: 1,
        gtrid: b"a1",
        bqual: b"",
    };

    fn xa_prepare(offset: u64, one_phase: bool) -> EventRef<'static> {
        let p = XaPrepareEvent {
            one_phase,
            xid: XID_A1,
        };
        ev(offset, et::XA_PREPARE, Event::XaPrepare(p), None)
    }

    fn config(tables: &[&str]) -> Selection {
        Selection {
            tables: TableFilter {
                databases: Vec::new(),
                tables: tables
                    .iter()
                    .map(|t| TablePattern::parse(t).unwrap())
                    .collect(),
            },
            window: Window::default(),
            gtids: None,
        }
    }

    fn drive(cfg: &Selection, events: &[EventRef<'static>]) -> Vec<String> {
        let mut sink = Recorder::default();
        let mut xa = HashSet::new();
        let mut run = Processor::new(cfg, 0, &mut xa);
        for e in events {
            let end = e.offset + e.header.event_size as u64;
            run.event(&EventAt::in_file("f", e, end), e, &mut sink)
                .unwrap();
        }
        sink.0
    }

    fn mysql_xa_events(one_phase: bool) -> Vec<EventRef<'static>> {
        let t = table("orders");
        let mut v = vec![
            gtid(100, 1),
            query(200, "XA START X'6131',X'',1"),
            rows(300, &t),
            query(400, "XA END X'6131',X'',1"),
            xa_prepare(500, one_phase),
        ];
        if !one_phase {
            v.push(gtid(600, 2));
            v.push(query(700, "XA COMMIT X'6131',X'',1"));
        }
        v
    }

    #[test]
    fn mysql_xa_prepare_event_then_commit_group() {
        let got = drive(&config(&[]), &mysql_xa_events(false));
        let g1 = "Some(\"11111111-1111-1111-1111-111111111111:1\")";
        let g2 = "Some(\"11111111-1111-1111-1111-111111111111:2\")";
        let xa = XaId {
            format_id: 1,
            gtrid: b"a1".to_vec(),
            bqual: Vec::new(),
        };
        assert_eq!(
            got,
            [
                "xa_start a1: @100".to_string(),
                format!("rows orders @300 gtid={g1} xa=Some(\"a1:\")"),
                "xa_end a1: @400".to_string(),
                format!("end XaPrepare({xa:?}) @500 gtid={g1} rows=1 bytes=500"),
                format!("end XaCommit({xa:?}) @700 gtid={g2} rows=0 bytes=200"),
            ]
        );
    }

    #[test]
    fn mysql_xa_one_phase_commit_ends_as_xa_commit() {
        let got = drive(&config(&[]), &mysql_xa_events(true));
        assert_eq!(got.len(), 4);
        assert!(got[3].starts_with("end XaCommit("), "{got:?}");
    }

    #[test]
    fn xa_commit_follows_the_table_filter_of_its_prepared_part() {
        let got = drive(&config(&["orders"]), &mysql_xa_events(false));
        assert_eq!(got.len(), 5, "{got:?}");
        let got = drive(&config(&["users"]), &mysql_xa_events(false));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn begin_xid_transaction_and_standalone_ddl() {
        let t = table("orders");
        let events = [
            gtid(100, 1),
            query(200, "CREATE TABLE orders (id INT)"),
            gtid(300, 2),
            query(400, "BEGIN"),
            rows(500, &t),
            rows(600, &t),
            ev(700, et::XID, Event::Xid(XidEvent { xid: 42 }), None),
        ];
        let got = drive(&config(&[]), &events);
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[0].starts_with("Ddl CREATE TABLE orders (id INT) @200"));
        assert_eq!(got[1], "begin @300", "BEGIN is placed at the GTID event");
        assert!(got[4].starts_with("end Xid(42) @700"));
        assert!(got[4].ends_with("rows=2 bytes=500"));
    }

    #[test]
    fn gtid_filter_selects_whole_transactions() {
        let t = table("orders");
        let events = [
            gtid(100, 1),
            query(200, "BEGIN"),
            rows(300, &t),
            ev(400, et::XID, Event::Xid(XidEvent { xid: 1 }), None),
            gtid(500, 2),
            query(600, "BEGIN"),
            rows(700, &t),
            ev(800, et::XID, Event::Xid(XidEvent { xid: 2 }), None),
        ];
        let mut cfg = config(&[]);
        cfg.gtids = Some(GtidSet::parse("11111111-1111-1111-1111-111111111111:2").unwrap());
        let got = drive(&cfg, &events);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], "begin @500");
        assert!(got[2].starts_with("end Xid(2) @800"));
    }
}
