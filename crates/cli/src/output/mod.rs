//! What the driver hands to an output: event context and the kinds of
//! records (`Sink`), and the JSONL / text / stats implementations.

pub mod jsonl;
pub mod text;

use std::io;
use std::sync::Arc;

use anyhow::Result;
use binlog::events::{RowsEvent, TableMap};
use binlog::txn::{OpenTxn, TxnEnd, XaId};

/// Where and when an event happened, plus the transaction facts every
/// record carries.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// `binlog_file`: base name of the input.
    pub file: &'a str,
    /// Offset of the event in the file (of the TRANSACTION_PAYLOAD for
    /// events inside one).
    pub pos: u64,
    pub timestamp: u32,
    pub server_id: u32,
    /// Header `log_pos`: the position after the event (the source's, in relay logs).
    pub end_log_pos: u32,
    /// Server name of the event type, e.g. "WRITE_ROWS".
    pub type_name: &'static str,
    /// GTID of the transaction, rendered (`uuid:gno`, `uuid:tag:gno`, `d-s-n`).
    pub gtid: Option<&'a str>,
    /// Statement from ROWS_QUERY / ANNOTATE_ROWS for the rows that follow it.
    pub query: Option<&'a str>,
    /// XA XID of the transaction, between XA START and its end.
    pub xa: Option<&'a XaId>,
}

/// The opening record of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    Begin,
    XaStart(XaId),
}

/// A transaction's end, with what the stats need.
#[derive(Debug, Clone, Copy)]
pub struct Ending<'a> {
    pub end: &'a TxnEnd,
    pub txn: &'a OpenTxn,
    /// Row changes output in this transaction (after filters).
    pub rows: u64,
    /// Bytes of the transaction's events in the file.
    pub bytes: u64,
}

/// What a QUERY statement is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementRecord {
    /// Schema/account changes: `"event":"ddl"`.
    Ddl,
    /// Statement-based DML, savepoints: `"event":"statement"`.
    Statement,
}

/// An output of the records the driver selected, in binlog order.
pub trait Sink {
    /// Decode every row of `rows` (every value) and output them. Returns the
    /// number of row changes.
    fn rows(&mut self, ctx: &Ctx<'_>, table: &Arc<TableMap>, rows: &RowsEvent<'_>) -> Result<u64>;
    /// BEGIN or XA START, written just before the first record of the
    /// transaction that passes the filters.
    fn opening(&mut self, ctx: &Ctx<'_>, opening: &Opening) -> io::Result<()>;
    /// `XA END`.
    fn xa_end(&mut self, ctx: &Ctx<'_>, xid: &XaId) -> io::Result<()>;
    fn statement(
        &mut self,
        ctx: &Ctx<'_>,
        kind: StatementRecord,
        schema: &str,
        sql: &str,
    ) -> io::Result<()>;
    /// The end of a transaction that had output (XID/COMMIT/ROLLBACK/XA …).
    fn ending(&mut self, ctx: &Ctx<'_>, ending: &Ending<'_>) -> io::Result<()>;
    /// The transaction stops without an end event (file ends, decode error):
    /// write whatever is held back.
    fn abandon_transaction(&mut self) -> io::Result<()>;
    /// All inputs done.
    fn finish(&mut self) -> io::Result<()>;
    /// Push what was written so far to the output (a live stream does when
    /// the server goes quiet); records held for their XID stay held.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Whether records use the statement text of ROWS_QUERY /
    /// ANNOTATE_ROWS (`Ctx::query`). Sinks that never show it say no, and
    /// the driver skips copying one statement per rows event group.
    fn wants_query(&self) -> bool {
        true
    }
}

/// Decimal text of an unsigned number.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Decimal text of a signed number.
#[inline]
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Cut `s` to at most `max` bytes at a character boundary.
pub(crate) fn truncate_str(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        push_u64(&mut out, 0);
        out.push(b' ');
        push_u64(&mut out, u64::MAX);
        out.push(b' ');
        push_i64(&mut out, i64::MIN);
        assert_eq!(out, b"0 18446744073709551615 -9223372036854775808");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_str("abc", 5), ("abc", false));
        assert_eq!(truncate_str("aé", 2), ("a", true));
        assert_eq!(truncate_str("😀x", 3), ("", true));
    }
}
