//! `parse --format text`: like `mysqlbinlog -v`, with column names.
//!
//! ```text
//! # at 612
//! #2022-04-20T22:18:04Z server id 1  end_log_pos 671  WRITE_ROWS  GTID 0-1-1
//! #Q> insert into outbox (topic) values ('foo')
//! ### INSERT INTO `toddy_test`.`outbox`
//! ### SET
//! ###   @1=62 /* id */
//! ###   @2='foo' /* topic */
//! ```

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;
use binlog::events::rows::{RowChange, RowsKind};
use binlog::events::{RowsEvent, TableMap};
use binlog::txn::{TxnEnd, XaId};
use binlog::value::{write_text_value, Value};

use super::{push_u64, Ctx, Ending, Opening, Sink, StatementRecord};
use crate::time::IsoCache;

pub struct TextSink<W: Write> {
    out: W,
    iso: IsoCache,
    buf: Vec<u8>,
    with_query: bool,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        TextSink {
            out,
            iso: IsoCache::default(),
            buf: Vec::with_capacity(64 * 1024),
            with_query: true,
        }
    }

    /// Whether rows show the statement that made them (default yes).
    pub fn with_query(mut self, yes: bool) -> Self {
        self.with_query = yes;
        self
    }

    fn header(&mut self, ctx: &Ctx<'_>, type_name: &str) {
        let b = &mut self.buf;
        b.extend_from_slice(b"# at ");
        push_u64(b, ctx.pos);
        b.extend_from_slice(b"\n#");
        b.extend_from_slice(self.iso.get(ctx.timestamp));
        b.extend_from_slice(b" server id ");
        push_u64(b, ctx.server_id as u64);
        if ctx.end_log_pos != 0 {
            b.extend_from_slice(b"  end_log_pos ");
            push_u64(b, ctx.end_log_pos as u64);
        }
        b.extend_from_slice(b"  ");
        b.extend_from_slice(type_name.as_bytes());
        if let Some(g) = ctx.gtid {
            b.extend_from_slice(b"  GTID ");
            b.extend_from_slice(g.as_bytes());
        }
        b.push(b'\n');
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// `X'…',X'…',N`, the form the server logs and `XA COMMIT` accepts.
fn write_xid_sql(out: &mut Vec<u8>, xid: &XaId) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, part) in [&xid.gtrid, &xid.bqual].into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"X'");
        for &c in part.iter() {
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 15) as usize]);
        }
        out.push(b'\'');
    }
    out.push(b',');
    super::push_i64(out, xid.format_id);
}

fn quote_ident(out: &mut Vec<u8>, name: &str) {
    out.push(b'`');
    for c in name.bytes() {
        if c == b'`' {
            out.push(b'`');
        }
        out.push(c);
    }
    out.push(b'`');
}

fn write_image(out: &mut Vec<u8>, image: &[Option<Value<'_>>], table: &TableMap) {
    for (i, (slot, col)) in image.iter().zip(&table.columns).enumerate() {
        let Some(v) = slot else { continue };
        out.extend_from_slice(b"###   @");
        push_u64(out, i as u64 + 1);
        out.push(b'=');
        write_text_value(out, v, col);
        if let Some(name) = &col.name {
            out.extend_from_slice(b" /* ");
            // A name cannot end the comment early.
            out.extend_from_slice(name.replace("*/", "* /").as_bytes());
            out.extend_from_slice(b" */");
        }
        out.push(b'\n');
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn wants_query(&self) -> bool {
        self.with_query
    }

    fn rows(&mut self, ctx: &Ctx<'_>, table: &Arc<TableMap>, rows: &RowsEvent<'_>) -> Result<u64> {
        self.header(ctx, ctx.type_name);
        if let Some(q) = ctx.query {
            for line in q.lines() {
                self.buf.extend_from_slice(b"#Q> ");
                self.buf.extend_from_slice(line.as_bytes());
                self.buf.push(b'\n');
            }
        }
        let mut name = Vec::with_capacity(table.database.len() + table.table.len() + 5);
        quote_ident(&mut name, &table.database);
        name.push(b'.');
        quote_ident(&mut name, &table.table);
        let (verb, first, second): (&[u8], &[u8], &[u8]) = match rows.kind {
            RowsKind::Write => (b"### INSERT INTO ", b"### SET\n", b""),
            RowsKind::Update | RowsKind::PartialUpdate => {
                (b"### UPDATE ", b"### WHERE\n", b"### SET\n")
            }
            RowsKind::Delete => (b"### DELETE FROM ", b"### WHERE\n", b""),
        };
        let mut iter = rows.rows(table, ctx.pos);
        let mut row = RowChange::default();
        let mut n = 0u64;
        while iter.next_into(&mut row)? {
            n += 1;
            let b = &mut self.buf;
            b.extend_from_slice(verb);
            b.extend_from_slice(&name);
            b.push(b'\n');
            let (img1, img2) = match rows.kind {
                RowsKind::Write => (row.after.as_deref(), None),
                RowsKind::Delete => (row.before.as_deref(), None),
                _ => (row.before.as_deref(), row.after.as_deref()),
            };
            b.extend_from_slice(first);
            if let Some(img) = img1 {
                write_image(b, img, table);
            }
            if let Some(img) = img2 {
                b.extend_from_slice(second);
                write_image(b, img, table);
            }
            if self.buf.len() > 1 << 20 {
                self.flush_buf()?;
            }
        }
        self.buf.extend_from_slice(b"# Number of rows: ");
        push_u64(&mut self.buf, n);
        self.buf.push(b'\n');
        self.flush_buf()?;
        Ok(n)
    }

    fn opening(&mut self, ctx: &Ctx<'_>, opening: &Opening) -> io::Result<()> {
        match opening {
            Opening::Begin => {
                self.header(ctx, "BEGIN");
                self.buf.extend_from_slice(b"BEGIN;\n");
            }
            Opening::XaStart(xid) => {
                self.header(ctx, "XA START");
                self.buf.extend_from_slice(b"XA START ");
                write_xid_sql(&mut self.buf, xid);
                self.buf.extend_from_slice(b";\n");
            }
        }
        self.flush_buf()
    }

    fn xa_end(&mut self, ctx: &Ctx<'_>, xid: &XaId) -> io::Result<()> {
        self.header(ctx, ctx.type_name);
        self.buf.extend_from_slice(b"XA END ");
        write_xid_sql(&mut self.buf, xid);
        self.buf.extend_from_slice(b";\n");
        self.flush_buf()
    }

    fn statement(
        &mut self,
        ctx: &Ctx<'_>,
        _kind: StatementRecord,
        schema: &str,
        sql: &str,
    ) -> io::Result<()> {
        self.header(ctx, ctx.type_name);
        if !schema.is_empty() {
            self.buf.extend_from_slice(b"USE ");
            quote_ident(&mut self.buf, schema);
            self.buf.extend_from_slice(b";\n");
        }
        self.buf.extend_from_slice(sql.trim_end().as_bytes());
        self.buf.extend_from_slice(b";\n");
        self.flush_buf()
    }

    fn ending(&mut self, ctx: &Ctx<'_>, ending: &Ending<'_>) -> io::Result<()> {
        self.header(ctx, ctx.type_name);
        let b = &mut self.buf;
        match ending.end {
            TxnEnd::Xid(n) => {
                b.extend_from_slice(b"COMMIT /* xid=");
                push_u64(b, *n);
                b.extend_from_slice(b" */;\n");
            }
            TxnEnd::Commit | TxnEnd::Ddl => b.extend_from_slice(b"COMMIT;\n"),
            TxnEnd::Rollback => b.extend_from_slice(b"ROLLBACK;\n"),
            TxnEnd::XaPrepare(x) => {
                b.extend_from_slice(b"XA PREPARE ");
                write_xid_sql(b, x);
                b.extend_from_slice(b";\n");
            }
            TxnEnd::XaCommit(x) => {
                b.extend_from_slice(b"XA COMMIT ");
                write_xid_sql(b, x);
                b.extend_from_slice(b";\n");
            }
            TxnEnd::XaRollback(x) => {
                b.extend_from_slice(b"XA ROLLBACK ");
                write_xid_sql(b, x);
                b.extend_from_slice(b";\n");
            }
        }
        self.flush_buf()
    }

    fn abandon_transaction(&mut self) -> io::Result<()> {
        self.flush_buf()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.out.flush()
    }
}
