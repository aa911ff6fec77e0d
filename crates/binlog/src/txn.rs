//! Transaction grouping: which events belong together, and how each
//! transaction ends.
//!
//! The binlog has no single "transaction" event. A transaction is framed by
//! some of: a GTID event (MySQL GTID/ANONYMOUS_GTID/GTID_TAGGED or MariaDB
//! GTID), a `BEGIN` query, row/statement events, and an end — an XID event
//! (transactional engines), a `COMMIT`/`ROLLBACK` query (non-transactional
//! engines, MariaDB DDL-less groups), or, for DDL, the statement itself.
//! XA transactions add `XA START … XA END`, then `XA PREPARE` (MySQL: event
//! 38; MariaDB: a query in a GTID group flagged "prepared XA") and later a
//! separate `XA COMMIT`/`XA ROLLBACK` group.
//!
//! [`TxnTracker`] is fed those facts in order and reports boundaries; it is
//! deliberately independent of how events are decoded.

use std::fmt;

/// A global transaction id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Gtid {
    /// MySQL `uuid:gno` or tagged `uuid:tag:gno` (8.4+).
    Mysql {
        sid: [u8; 16],
        tag: Option<String>,
        gno: u64,
    },
    /// MariaDB `domain-server-seq`.
    Maria { domain: u32, server: u32, seq: u64 },
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gtid::Mysql { sid, tag, gno } => {
                write_uuid(f, sid)?;
                if let Some(tag) = tag {
                    write!(f, ":{tag}")?;
                }
                write!(f, ":{gno}")
            }
            Gtid::Maria {
                domain,
                server,
                seq,
            } => write!(f, "{domain}-{server}-{seq}"),
        }
    }
}

/// Formats 16 bytes as a canonical lower-case UUID.
pub fn write_uuid(f: &mut impl fmt::Write, b: &[u8; 16]) -> fmt::Result {
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            f.write_char('-')?;
        }
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

/// An XA transaction id (`XID`): format id, global transaction id, branch qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XaId {
    pub format_id: i64,
    pub gtrid: Vec<u8>,
    pub bqual: Vec<u8>,
}

impl XaId {
    /// Parse the XID of an `XA …` statement as servers log it:
    /// `X'6774',X'62',1`, or user-written `'gtrid','bqual',1`, with optional
    /// bqual and format id.
    pub fn parse_sql(s: &str) -> Option<XaId> {
        let mut p = SqlLexer {
            s: s.as_bytes(),
            i: 0,
        };
        let gtrid = p.string()?;
        let mut bqual = Vec::new();
        let mut format_id = 1;
        if p.comma() {
            bqual = p.string()?;
            if p.comma() {
                format_id = p.integer()?;
            }
        }
        Some(XaId {
            format_id,
            gtrid,
            bqual,
        })
    }
}

impl fmt::Display for XaId {
    /// `gtrid:bqual` when both are printable, else the SQL hex form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let printable = |b: &[u8]| b.iter().all(|c| c.is_ascii_graphic() || *c == b' ');
        if printable(&self.gtrid) && printable(&self.bqual) {
            write!(
                f,
                "{}:{}",
                String::from_utf8_lossy(&self.gtrid),
                String::from_utf8_lossy(&self.bqual)
            )
        } else {
            f.write_str("X'")?;
            for b in &self.gtrid {
                write!(f, "{b:02x}")?;
            }
            f.write_str("',X'")?;
            for b in &self.bqual {
                write!(f, "{b:02x}")?;
            }
            write!(f, "',{}", self.format_id)
        }
    }
}

struct SqlLexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl SqlLexer<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn comma(&mut self) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b',') {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn string(&mut self) -> Option<Vec<u8>> {
        self.ws();
        match self.s.get(self.i)? {
            b'X' | b'x' if self.s.get(self.i + 1) == Some(&b'\'') => {
                self.i += 2;
                let start = self.i;
                while *self.s.get(self.i)? != b'\'' {
                    self.i += 1;
                }
                let hex = &self.s[start..self.i];
                self.i += 1;
                if !hex.len().is_multiple_of(2) {
                    return None;
                }
                hex.chunks(2)
                    .map(|pair| {
                        let h = std::str::from_utf8(pair).ok()?;
                        u8::from_str_radix(h, 16).ok()
                    })
                    .collect()
            }
            q @ (b'\'' | b'"') => {
                let quote = *q;
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    let c = *self.s.get(self.i)?;
                    self.i += 1;
                    if c == b'\\' {
                        out.push(*self.s.get(self.i)?);
                        self.i += 1;
                    } else if c == quote {
                        if self.s.get(self.i) == Some(&quote) {
                            out.push(quote);
                            self.i += 1;
                        } else {
                            return Some(out);
                        }
                    } else {
                        out.push(c);
                    }
                }
            }
            _ => None,
        }
    }
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
}

/// What a QUERY event's statement means for transaction framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    Begin,
    Commit,
    Rollback,
    /// `SAVEPOINT`/`ROLLBACK TO` and similar: inside a transaction, not a boundary.
    Savepoint,
    XaStart(XaId),
    XaEnd(XaId),
    XaPrepare(XaId),
    XaCommit {
        xid: XaId,
        one_phase: bool,
    },
    XaRollback(XaId),
    /// Data definition (CREATE/ALTER/DROP/RENAME/TRUNCATE, grants, …).
    Ddl,
    /// A statement-based DML (INSERT/UPDATE/DELETE/REPLACE/LOAD DATA …).
    Dml,
}

/// Classify a statement by its leading keywords (comments and whitespace skipped).
pub fn classify_statement(sql: &str) -> StatementKind {
    let words = leading_words(sql, 3);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        "BEGIN" => StatementKind::Begin,
        "START" if w(1) == "TRANSACTION" => StatementKind::Begin,
        "COMMIT" => StatementKind::Commit,
        "ROLLBACK" if w(1) == "TO" => StatementKind::Savepoint,
        "ROLLBACK" => StatementKind::Rollback,
        "SAVEPOINT" | "RELEASE" => StatementKind::Savepoint,
        "XA" => {
            let rest = after_words(sql, 2);
            let (xid_text, one_phase) = match rest.to_ascii_uppercase().rfind("ONE PHASE") {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            let xid_text = xid_text
                .trim()
                .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace());
            let xid = XaId::parse_sql(xid_text).unwrap_or(XaId {
                format_id: 1,
                gtrid: xid_text.as_bytes().to_vec(),
                bqual: Vec::new(),
            });
            match w(1) {
                "START" | "BEGIN" => StatementKind::XaStart(xid),
                "END" => StatementKind::XaEnd(xid),
                "PREPARE" => StatementKind::XaPrepare(xid),
                "COMMIT" => StatementKind::XaCommit { xid, one_phase },
                "ROLLBACK" => StatementKind::XaRollback(xid),
                _ => StatementKind::Ddl,
            }
        }
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "LOAD" | "CALL" | "DO" | "SET" | "SELECT"
        | "WITH" | "HANDLER" => StatementKind::Dml,
        _ => StatementKind::Ddl,
    }
}

/// The first `n` words of a statement, upper-cased, skipping comments.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut words = Vec::with_capacity(n);
    let mut rest = skip_space_and_comments(sql);
    while words.len() < n && !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_ascii_uppercase());
        rest = skip_space_and_comments(&rest[end..]);
    }
    words
}

/// The statement text after its first `n` words.
fn after_words(sql: &str, n: usize) -> &str {
    let mut rest = skip_space_and_comments(sql);
    for _ in 0..n {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        rest = skip_space_and_comments(&rest[end..]);
    }
    rest
}

fn skip_space_and_comments(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(body) = t.strip_prefix("/*") {
            // Executable comments (/*!50100 …*/) are statement text; keep them only if
            // they are the whole statement — good enough for leading keywords.
            match body.find("*/") {
                Some(end) => s = &body[end + 2..],
                None => return "",
            }
        } else if t.starts_with("-- ") || t.starts_with('#') {
            match t.find('\n') {
                Some(end) => s = &t[end + 1..],
                None => return "",
            }
        } else {
            return t;
        }
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnEnd {
    /// XID event (transactional engines).
    Xid(u64),
    /// `COMMIT` query.
    Commit,
    Rollback,
    /// A DDL statement, which commits implicitly and is its own transaction.
    Ddl,
    /// `XA PREPARE` (first phase of a distributed transaction).
    XaPrepare(XaId),
    XaCommit(XaId),
    XaRollback(XaId),
}

/// A transaction in progress.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenTxn {
    pub gtid: Option<Gtid>,
    /// Offset of the first event of the transaction (GTID or BEGIN).
    pub start_offset: u64,
    /// Event timestamp of the first event.
    pub start_timestamp: u32,
    /// Row changes seen so far.
    pub rows: u64,
    /// Bytes of events in the transaction so far.
    pub bytes: u64,
    /// Set between `XA START` and the end of the XA group.
    pub xa: Option<XaId>,
}

/// A finished transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedTxn {
    pub txn: OpenTxn,
    pub end: TxnEnd,
    pub end_offset: u64,
    pub end_timestamp: u32,
}

/// Follows transaction boundaries through a stream of events.
#[derive(Debug, Default)]
pub struct TxnTracker {
    open: Option<OpenTxn>,
    pending_gtid: Option<(Gtid, u64, u32)>,
    last_gtid: Option<Gtid>,
}

impl TxnTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The transaction in progress, if any.
    pub fn current(&self) -> Option<&OpenTxn> {
        self.open.as_ref()
    }

    /// GTID of the current transaction (or of the last one, between transactions).
    pub fn gtid(&self) -> Option<&Gtid> {
        self.open
            .as_ref()
            .and_then(|t| t.gtid.as_ref())
            .or(self.pending_gtid.as_ref().map(|g| &g.0))
            .or(self.last_gtid.as_ref())
    }

    /// A GTID event announces the next transaction.
    pub fn on_gtid(&mut self, gtid: Gtid, offset: u64, timestamp: u32) {
        self.pending_gtid = Some((gtid, offset, timestamp));
    }

    /// An anonymous GTID (MySQL with gtid_mode=OFF) still opens a group.
    pub fn on_anonymous_gtid(&mut self) {
        self.pending_gtid = None;
    }

    /// Account an event of `bytes` belonging to the current transaction.
    pub fn on_event_bytes(&mut self, bytes: u64) {
        if let Some(t) = self.open.as_mut() {
            t.bytes += bytes;
        }
    }

    /// Row changes of a rows event; opens an implicit transaction if needed
    /// (MariaDB annotate-less groups, truncated file heads).
    pub fn on_rows(&mut self, rows: u64, offset: u64, timestamp: u32) {
        self.ensure_open(offset, timestamp);
        if let Some(t) = self.open.as_mut() {
            t.rows += rows;
        }
    }

    /// A QUERY event. Returns the closed transaction when the statement ends one.
    pub fn on_statement(
        &mut self,
        kind: &StatementKind,
        offset: u64,
        timestamp: u32,
    ) -> Option<ClosedTxn> {
        match kind {
            StatementKind::Begin => {
                // A BEGIN inside an open transaction means the previous one was cut off
                // (e.g. a truncated relay log); start afresh.
                self.open = None;
                self.ensure_open(offset, timestamp);
                None
            }
            StatementKind::XaStart(xid) => {
                self.ensure_open(offset, timestamp);
                if let Some(t) = self.open.as_mut() {
                    t.xa = Some(xid.clone());
                }
                None
            }
            StatementKind::XaEnd(_) | StatementKind::Savepoint | StatementKind::Dml => {
                self.ensure_open(offset, timestamp);
                None
            }
            StatementKind::Commit => self.close(TxnEnd::Commit, offset, timestamp),
            StatementKind::Rollback => self.close(TxnEnd::Rollback, offset, timestamp),
            StatementKind::XaPrepare(xid) => {
                self.ensure_open(offset, timestamp);
                self.close(TxnEnd::XaPrepare(xid.clone()), offset, timestamp)
            }
            StatementKind::XaCommit { xid, .. } => {
                self.ensure_open(offset, timestamp);
                self.close(TxnEnd::XaCommit(xid.clone()), offset, timestamp)
            }
            StatementKind::XaRollback(xid) => {
                self.ensure_open(offset, timestamp);
                self.close(TxnEnd::XaRollback(xid.clone()), offset, timestamp)
            }
            StatementKind::Ddl => {
                // DDL inside an explicit BEGIN (MariaDB logs some that way) still ends it.
                self.ensure_open(offset, timestamp);
                self.close(TxnEnd::Ddl, offset, timestamp)
            }
        }
    }

    /// XID event: commit of a transactional-engine transaction.
    pub fn on_xid(&mut self, xid: u64, offset: u64, timestamp: u32) -> Option<ClosedTxn> {
        self.ensure_open(offset, timestamp);
        self.close(TxnEnd::Xid(xid), offset, timestamp)
    }

    /// MySQL XA_PREPARE event (type 38).
    pub fn on_xa_prepare_event(
        &mut self,
        xid: XaId,
        one_phase: bool,
        offset: u64,
        timestamp: u32,
    ) -> Option<ClosedTxn> {
        self.ensure_open(offset, timestamp);
        let end = if one_phase {
            TxnEnd::XaCommit(xid)
        } else {
            TxnEnd::XaPrepare(xid)
        };
        self.close(end, offset, timestamp)
    }

    fn ensure_open(&mut self, offset: u64, timestamp: u32) {
        if self.open.is_none() {
            let (gtid, start_offset, start_timestamp) = match self.pending_gtid.take() {
                Some((g, o, t)) => (Some(g), o, t),
                None => (None, offset, timestamp),
            };
            self.open = Some(OpenTxn {
                gtid,
                start_offset,
                start_timestamp,
                ..OpenTxn::default()
            });
        }
    }

    fn close(&mut self, end: TxnEnd, offset: u64, timestamp: u32) -> Option<ClosedTxn> {
        let txn = self.open.take()?;
        self.last_gtid = txn.gtid.clone();
        Some(ClosedTxn {
            txn,
            end,
            end_offset: offset,
            end_timestamp: timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_boundaries_and_xa_with_hex_xids() {
        assert_eq!(classify_statement("BEGIN"), StatementKind::Begin);
        assert_eq!(
            classify_statement("  /* c */ commit"),
            StatementKind::Commit
        );
        assert_eq!(
            classify_statement("ROLLBACK TO SAVEPOINT a"),
            StatementKind::Savepoint
        );
        assert_eq!(
            classify_statement("ALTER TABLE t ADD c INT"),
            StatementKind::Ddl
        );
        assert_eq!(
            classify_statement("insert into t values (1)"),
            StatementKind::Dml
        );
        let xid = XaId {
            format_id: 1,
            gtrid: b"trx1".to_vec(),
            bqual: b"b1".to_vec(),
        };
        assert_eq!(
            classify_statement("XA START X'74727831',X'6231',1"),
            StatementKind::XaStart(xid.clone())
        );
        assert_eq!(
            classify_statement("XA END 'trx1','b1'"),
            StatementKind::XaEnd(xid.clone())
        );
        assert_eq!(
            classify_statement("XA COMMIT X'74727831',X'6231',1 ONE PHASE"),
            StatementKind::XaCommit {
                xid: xid.clone(),
                one_phase: true
            }
        );
        assert_eq!(xid.to_string(), "trx1:b1");
    }

    #[test]
    fn xa_id_parsing_rejects_garbage_without_panicking() {
        for s in [
            "",
            "X'",
            "X'zz'",
            "'unterminated",
            "X'616',1",
            ",,,",
            "'a','b',x",
        ] {
            let _ = XaId::parse_sql(s);
        }
        assert_eq!(XaId::parse_sql("X'616'"), None);
        assert_eq!(
            XaId::parse_sql("'g''x','',7").unwrap(),
            XaId {
                format_id: 7,
                gtrid: b"g'x".to_vec(),
                bqual: vec![]
            }
        );
    }

    #[test]
    fn tracker_groups_gtid_begin_rows_xid() {
        let mut t = TxnTracker::new();
        let g = Gtid::Maria {
            domain: 0,
            server: 1,
            seq: 7,
        };
        t.on_gtid(g.clone(), 100, 10);
        assert!(t.on_statement(&StatementKind::Begin, 140, 10).is_none());
        t.on_rows(3, 200, 10);
        t.on_rows(2, 300, 11);
        let closed = t.on_xid(99, 400, 12).unwrap();
        assert_eq!(closed.txn.gtid, Some(g.clone()));
        assert_eq!(closed.txn.start_offset, 100);
        assert_eq!(closed.txn.rows, 5);
        assert_eq!(closed.end, TxnEnd::Xid(99));
        assert!(t.current().is_none());
        assert_eq!(t.gtid(), Some(&g));
    }

    #[test]
    fn tracker_xa_prepare_then_commit_are_two_groups() {
        let mut t = TxnTracker::new();
        let start = classify_statement("XA START X'74727831',X'6231',1");
        t.on_statement(&start, 10, 1);
        t.on_rows(1, 20, 1);
        t.on_statement(&classify_statement("XA END X'74727831',X'6231',1"), 30, 1);
        let prepared = t
            .on_statement(
                &classify_statement("XA PREPARE X'74727831',X'6231',1"),
                40,
                1,
            )
            .unwrap();
        assert!(matches!(prepared.end, TxnEnd::XaPrepare(ref x) if x.gtrid == b"trx1"));
        assert_eq!(prepared.txn.xa.as_ref().unwrap().bqual, b"b1");
        let committed = t
            .on_statement(
                &classify_statement("XA COMMIT X'74727831',X'6231',1"),
                50,
                2,
            )
            .unwrap();
        assert_eq!(committed.end, TxnEnd::XaCommit(prepared.txn.xa.unwrap()));
    }

    #[test]
    fn gtid_display_forms() {
        let mut sid = [0u8; 16];
        sid[0] = 0x55;
        sid[15] = 0xeb;
        let g = Gtid::Mysql {
            sid,
            tag: Some("mytag".into()),
            gno: 3,
        };
        assert_eq!(
            g.to_string(),
            "55000000-0000-0000-0000-0000000000eb:mytag:3"
        );
        let m = Gtid::Maria {
            domain: 1,
            server: 10,
            seq: 12,
        };
        assert_eq!(m.to_string(), "1-10-12");
    }
}
