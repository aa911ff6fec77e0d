//! `parse --format jsonl`: one JSON object per line.
//!
//! Row values are rendered with `binlog::value::render` straight into byte
//! buffers (never through `serde_json::Value`): this is the hot path.
//!
//! A row change's `xid` is only known when its transaction commits, so a
//! transaction's records are held back until its end event. The hold is
//! bounded: past `max_buffered_rows` row changes the held records are
//! written with `"xid":null` and the rest of the transaction streams
//! through the same way, so memory stays flat on huge transactions.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;
use binlog::column::ColumnDef;
use binlog::events::rows::{RowBuffers, RowChange, RowsKind};
use binlog::events::{RowsEvent, TableMap};
use binlog::stream::TableIdMap;
use binlog::txn::{TxnEnd, XaId};
use binlog::value::{write_json_str, write_json_value, Value};

use super::{push_u64, truncate_str, Ctx, Ending, Opening, Sink, StatementRecord};
use crate::time::IsoCache;

/// Statements longer than this are cut in each row's `query` field (the
/// statement of a bulk INSERT would otherwise be repeated per row).
pub const MAX_QUERY_BYTES: usize = 4096;

/// Pre-escaped JSON keys of one table map.
struct TableKeys {
    table: Arc<TableMap>,
    /// `"database":"…","table":"…",`
    header: Vec<u8>,
    /// `"name":` per column (`"@N":` when the name is not logged).
    columns: Vec<Vec<u8>>,
}

impl TableKeys {
    fn new(table: &Arc<TableMap>) -> Self {
        let mut header = Vec::with_capacity(32 + table.database.len() + table.table.len());
        header.extend_from_slice(b"\"database\":");
        write_json_str(&mut header, &table.database);
        header.extend_from_slice(b",\"table\":");
        write_json_str(&mut header, &table.table);
        header.push(b',');
        let columns = (0..table.columns.len())
            .map(|i| {
                let mut k = Vec::new();
                write_json_str(&mut k, &table.column_name(i));
                k.push(b':');
                k
            })
            .collect();
        TableKeys {
            table: Arc::clone(table),
            header,
            columns,
        }
    }

    /// Same names as `other` (servers re-send an identical TABLE_MAP every
    /// transaction; rebuilding the keys each time would cost per row on
    /// one-row transactions).
    fn same_names(&self, other: &TableMap) -> bool {
        let t = &self.table;
        t.database == other.database
            && t.table == other.table
            && t.columns.len() == other.columns.len()
            && t.columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.name == b.name)
    }
}

pub struct JsonlSink<W: Write> {
    out: W,
    max_buffered_rows: u64,
    iso: IsoCache,
    keys: TableIdMap<TableKeys>,
    /// Held records of the current transaction; row records lack their
    /// `,"xid":…}` tail.
    held: Vec<u8>,
    /// End offset in `held` of each record, and whether it is a row record.
    held_records: Vec<(usize, bool)>,
    held_rows: u64,
    /// The hold overflowed: write rows as they come, `xid` unknown.
    streaming: bool,
    /// Per-event constant parts of row records.
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    tail: Vec<u8>,
    positions: PositionWriter,
    /// Reused for non-row records and the end of a transaction.
    record: Vec<u8>,
    end_tail: Vec<u8>,
    buffers: RowBuffers,
    with_query: bool,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, max_buffered_rows: u64) -> Self {
        JsonlSink {
            out,
            max_buffered_rows: max_buffered_rows.max(1),
            iso: IsoCache::default(),
            keys: TableIdMap::default(),
            held: Vec::with_capacity(64 * 1024),
            held_records: Vec::new(),
            held_rows: 0,
            streaming: false,
            prefix: Vec::new(),
            suffix: Vec::new(),
            tail: Vec::new(),
            positions: PositionWriter::default(),
            record: Vec::with_capacity(256),
            end_tail: Vec::with_capacity(64),
            buffers: RowBuffers::default(),
            with_query: true,
        }
    }

    /// Whether row records carry `query` (default yes).
    pub fn with_query(mut self, yes: bool) -> Self {
        self.with_query = yes;
        self
    }

    /// The keys of `table`, taken out of the cache (put them back with
    /// `self.keys.insert`).
    fn take_keys(&mut self, table: &Arc<TableMap>) -> TableKeys {
        match self.keys.remove(&table.table_id) {
            Some(mut k) if Arc::ptr_eq(&k.table, table) || k.same_names(table) => {
                k.table = Arc::clone(table);
                k
            }
            _ => TableKeys::new(table),
        }
    }

    /// Write the held records, ending each row record with `tail`.
    fn release(&mut self, tail: &[u8]) -> io::Result<()> {
        let mut start = 0;
        for &(end, is_row) in &self.held_records {
            self.out.write_all(&self.held[start..end])?;
            if is_row {
                self.out.write_all(tail)?;
            }
            start = end;
        }
        self.held.clear();
        self.held_records.clear();
        self.held_rows = 0;
        Ok(())
    }

    /// A complete non-row record in `rec`: behind held rows if any, else out.
    fn emit(&mut self, rec: &[u8]) -> io::Result<()> {
        if self.held_records.is_empty() {
            self.out.write_all(rec)
        } else {
            self.held.extend_from_slice(rec);
            self.held_records.push((self.held.len(), false));
            Ok(())
        }
    }

    /// The reusable record buffer, empty.
    fn take_record(&mut self) -> Vec<u8> {
        let mut rec = std::mem::take(&mut self.record);
        rec.clear();
        rec
    }

    /// [`JsonlSink::emit`] a record built in [`JsonlSink::take_record`]'s
    /// buffer, and keep the buffer.
    fn emit_record(&mut self, rec: Vec<u8>) -> io::Result<()> {
        let result = self.emit(&rec);
        self.record = rec;
        result
    }

    fn event_head(&mut self, out: &mut Vec<u8>, event: &str, ctx: &Ctx<'_>) {
        out.extend_from_slice(b"{\"event\":\"");
        out.extend_from_slice(event.as_bytes());
        out.extend_from_slice(b"\",\"timestamp\":\"");
        out.extend_from_slice(self.iso.get(ctx.timestamp));
        out.push(b'"');
    }
}

/// Writes `,"binlog_file":"…","binlog_pos":N,"gtid":…`. The file name and
/// the GTID are escaped once and reused while they stay the same: every
/// record of a transaction repeats them (three records per one-row
/// transaction), and escaping them anew showed in `parse` profiles.
#[derive(Default)]
struct PositionWriter {
    file: String,
    /// `,"binlog_file":"…","binlog_pos":` for `file`.
    file_json: Vec<u8>,
    gtid: Option<String>,
    /// `,"gtid":…` for `gtid`.
    gtid_json: Vec<u8>,
}

impl PositionWriter {
    fn write(&mut self, out: &mut Vec<u8>, ctx: &Ctx<'_>) {
        if self.file_json.is_empty() || self.file != ctx.file {
            self.file.clear();
            self.file.push_str(ctx.file);
            self.file_json.clear();
            self.file_json.extend_from_slice(b",\"binlog_file\":");
            write_json_str(&mut self.file_json, ctx.file);
            self.file_json.extend_from_slice(b",\"binlog_pos\":");
        }
        out.extend_from_slice(&self.file_json);
        push_u64(out, ctx.pos);
        if self.gtid_json.is_empty() || self.gtid.as_deref() != ctx.gtid {
            self.gtid_json.clear();
            self.gtid_json.extend_from_slice(b",\"gtid\":");
            match ctx.gtid {
                Some(g) => {
                    write_json_str(&mut self.gtid_json, g);
                    let cached = self.gtid.get_or_insert_with(String::new);
                    cached.clear();
                    cached.push_str(g);
                }
                None => {
                    self.gtid_json.extend_from_slice(b"null");
                    self.gtid = None;
                }
            }
        }
        out.extend_from_slice(&self.gtid_json);
    }
}

/// `{"format_id":N,"gtrid":…,"bqual":…}`; gtrid/bqual as strings when
/// UTF-8, else `{"base64":…}` like binary column values.
pub fn write_xa_xid(out: &mut Vec<u8>, xid: &XaId) {
    out.extend_from_slice(b"{\"format_id\":");
    super::push_i64(out, xid.format_id);
    out.extend_from_slice(b",\"gtrid\":");
    write_xid_part(out, &xid.gtrid);
    out.extend_from_slice(b",\"bqual\":");
    write_xid_part(out, &xid.bqual);
    out.push(b'}');
}

fn write_xid_part(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => write_json_str(out, s),
        Err(_) => write_json_value(out, &Value::Bytes(Cow::Borrowed(b)), &ColumnDef::default()),
    }
}

fn write_image(out: &mut Vec<u8>, image: Option<&[Option<Value<'_>>]>, keys: &TableKeys) {
    let Some(image) = image else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'{');
    let mut first = true;
    for ((slot, key), col) in image.iter().zip(&keys.columns).zip(&keys.table.columns) {
        if let Some(v) = slot {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            write_json_value(out, v, col);
        }
    }
    out.push(b'}');
}

fn write_primary_key(out: &mut Vec<u8>, image: Option<&[Option<Value<'_>>]>, keys: &TableKeys) {
    let pk = &keys.table.primary_key;
    let mut first = true;
    if let Some(image) = image {
        for &i in pk {
            let (Some(Some(v)), Some(key), Some(col)) =
                (image.get(i), keys.columns.get(i), keys.table.columns.get(i))
            else {
                continue;
            };
            out.push(if first { b'{' } else { b',' });
            first = false;
            out.extend_from_slice(key);
            write_json_value(out, v, col);
        }
    }
    if first {
        out.extend_from_slice(b"null");
    } else {
        out.push(b'}');
    }
}

/// `"changes":{…}`: columns whose value differs between the images, and
/// columns only in the after image (old value not logged: `new` only).
fn write_changes(
    out: &mut Vec<u8>,
    before: &[Option<Value<'_>>],
    after: &[Option<Value<'_>>],
    keys: &TableKeys,
) {
    out.extend_from_slice(b",\"changes\":{");
    let mut first = true;
    for (i, new) in after.iter().enumerate() {
        let Some(new) = new else { continue };
        let old = before.get(i).and_then(Option::as_ref);
        if old == Some(new) {
            continue;
        }
        let (Some(key), Some(col)) = (keys.columns.get(i), keys.table.columns.get(i)) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(key);
        out.push(b'{');
        if let Some(old) = old {
            out.extend_from_slice(b"\"old\":");
            write_json_value(out, old, col);
            out.push(b',');
        }
        out.extend_from_slice(b"\"new\":");
        write_json_value(out, new, col);
        out.push(b'}');
    }
    out.push(b'}');
}

impl<W: Write> Sink for JsonlSink<W> {
    fn rows(&mut self, ctx: &Ctx<'_>, table: &Arc<TableMap>, rows: &RowsEvent<'_>) -> Result<u64> {
        let op = rows.kind.operation();
        // Per-event constant parts, built once.
        let mut prefix = std::mem::take(&mut self.prefix);
        let mut suffix = std::mem::take(&mut self.suffix);
        let mut tail = std::mem::take(&mut self.tail);
        prefix.clear();
        suffix.clear();
        tail.clear();
        prefix.extend_from_slice(b"{\"timestamp\":\"");
        prefix.extend_from_slice(self.iso.get(ctx.timestamp));
        prefix.extend_from_slice(b"\",\"operation\":\"");
        prefix.extend_from_slice(op.as_bytes());
        prefix.extend_from_slice(b"\",");
        let keys = self.take_keys(table);
        prefix.extend_from_slice(&keys.header);
        self.positions.write(&mut suffix, ctx);
        if let Some(q) = ctx.query {
            let (q, cut) = truncate_str(q, MAX_QUERY_BYTES);
            suffix.extend_from_slice(b",\"query\":");
            if cut {
                write_json_str(&mut suffix, &format!("{q}…"));
            } else {
                write_json_str(&mut suffix, q);
            }
        }
        // Known already inside an XA transaction; otherwise only at commit.
        tail.extend_from_slice(b",\"xid\":");
        match ctx.xa {
            Some(x) => write_xa_xid(&mut tail, x),
            None => tail.extend_from_slice(b"null"),
        }
        tail.extend_from_slice(b"}\n");

        let result = self.write_rows(ctx, &keys, rows, &prefix, &suffix, &tail);
        self.keys.insert(table.table_id, keys);
        self.prefix = prefix;
        self.suffix = suffix;
        self.tail = tail;
        result
    }

    fn opening(&mut self, ctx: &Ctx<'_>, opening: &Opening) -> io::Result<()> {
        let mut rec = self.take_record();
        match opening {
            Opening::Begin => {
                self.event_head(&mut rec, "begin", ctx);
                self.positions.write(&mut rec, ctx);
            }
            Opening::XaStart(xid) => {
                self.event_head(&mut rec, "xa_start", ctx);
                self.positions.write(&mut rec, ctx);
                rec.extend_from_slice(b",\"xid\":");
                write_xa_xid(&mut rec, xid);
            }
        }
        rec.extend_from_slice(b"}\n");
        self.emit_record(rec)
    }

    fn xa_end(&mut self, ctx: &Ctx<'_>, xid: &XaId) -> io::Result<()> {
        let mut rec = self.take_record();
        self.event_head(&mut rec, "xa_end", ctx);
        self.positions.write(&mut rec, ctx);
        rec.extend_from_slice(b",\"xid\":");
        write_xa_xid(&mut rec, xid);
        rec.extend_from_slice(b"}\n");
        self.emit_record(rec)
    }

    fn statement(
        &mut self,
        ctx: &Ctx<'_>,
        kind: StatementRecord,
        schema: &str,
        sql: &str,
    ) -> io::Result<()> {
        let mut rec = self.take_record();
        let event = match kind {
            StatementRecord::Ddl => "ddl",
            StatementRecord::Statement => "statement",
        };
        self.event_head(&mut rec, event, ctx);
        rec.extend_from_slice(b",\"database\":");
        write_json_str(&mut rec, schema);
        rec.extend_from_slice(b",\"query\":");
        write_json_str(&mut rec, sql);
        self.positions.write(&mut rec, ctx);
        rec.extend_from_slice(b"}\n");
        self.emit_record(rec)
    }

    fn ending(&mut self, ctx: &Ctx<'_>, ending: &Ending<'_>) -> io::Result<()> {
        // `,"xid":…}\n`, the tail of the held row records and of this one.
        let mut tail = std::mem::take(&mut self.end_tail);
        tail.clear();
        tail.extend_from_slice(b",\"xid\":");
        let (event, xa) = match ending.end {
            TxnEnd::Xid(_) => ("commit", None),
            TxnEnd::Commit | TxnEnd::Ddl => ("commit", ending.txn.xa.as_ref()),
            TxnEnd::Rollback => ("rollback", ending.txn.xa.as_ref()),
            TxnEnd::XaPrepare(x) => ("xa_prepare", Some(x)),
            TxnEnd::XaCommit(x) => ("xa_commit", Some(x)),
            TxnEnd::XaRollback(x) => ("xa_rollback", Some(x)),
        };
        match (ending.end, xa) {
            (TxnEnd::Xid(n), _) => push_u64(&mut tail, *n),
            (_, Some(x)) => write_xa_xid(&mut tail, x),
            (_, None) => tail.extend_from_slice(b"null"),
        }
        tail.extend_from_slice(b"}\n");
        let released = self.release(&tail);
        self.streaming = false;

        let mut rec = self.take_record();
        self.event_head(&mut rec, event, ctx);
        self.positions.write(&mut rec, ctx);
        rec.extend_from_slice(&tail);
        self.end_tail = tail;
        let written = released.and_then(|()| self.out.write_all(&rec));
        self.record = rec;
        written
    }

    fn abandon_transaction(&mut self) -> io::Result<()> {
        self.release(b",\"xid\":null}\n")?;
        self.streaming = false;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.abandon_transaction()?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn wants_query(&self) -> bool {
        self.with_query
    }
}

impl<W: Write> JsonlSink<W> {
    fn write_rows(
        &mut self,
        ctx: &Ctx<'_>,
        keys: &TableKeys,
        rows: &RowsEvent<'_>,
        prefix: &[u8],
        suffix: &[u8],
        tail: &[u8],
    ) -> Result<u64> {
        let mut row = self.buffers.take(rows.kind);
        let result = self.write_rows_with(ctx, keys, rows, &mut row, prefix, suffix, tail);
        self.buffers.put_back(row);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn write_rows_with<'a>(
        &mut self,
        ctx: &Ctx<'_>,
        keys: &TableKeys,
        rows: &RowsEvent<'a>,
        row: &mut RowChange<'a>,
        prefix: &[u8],
        suffix: &[u8],
        tail: &[u8],
    ) -> Result<u64> {
        let is_update = matches!(rows.kind, RowsKind::Update | RowsKind::PartialUpdate);
        let mut iter = rows.rows(&keys.table, ctx.pos);
        let mut n = 0u64;
        let mut direct = Vec::new();
        while iter.next_into(row)? {
            n += 1;
            if !self.streaming && self.held_rows >= self.max_buffered_rows {
                // Bound the hold: what is held goes out without its xid.
                self.release(tail)?;
                self.streaming = true;
            }
            // Row records go into `held`, or `direct` once streaming.
            let out = if self.streaming {
                &mut direct
            } else {
                &mut self.held
            };
            out.extend_from_slice(prefix);
            let before = row.before.as_deref();
            let after = row.after.as_deref();
            out.extend_from_slice(b"\"primary_key\":");
            write_primary_key(out, before.or(after), keys);
            out.extend_from_slice(b",\"old_data\":");
            write_image(out, before, keys);
            out.extend_from_slice(b",\"new_data\":");
            write_image(out, after, keys);
            if is_update {
                if let (Some(b), Some(a)) = (before, after) {
                    write_changes(out, b, a, keys);
                }
            }
            out.extend_from_slice(suffix);
            if self.streaming {
                direct.extend_from_slice(tail);
                self.out.write_all(&direct)?;
                direct.clear();
            } else {
                self.held_records.push((self.held.len(), true));
                self.held_rows += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(file: &'a str, pos: u64, gtid: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            file,
            pos,
            timestamp: 0,
            server_id: 1,
            end_log_pos: 0,
            type_name: "XID",
            gtid,
            query: None,
            xa: None,
        }
    }

    /// The cached file name and GTID must follow every change, including
    /// a transaction without a GTID between two with one.
    #[test]
    fn position_writer_follows_file_and_gtid_changes() {
        let mut w = PositionWriter::default();
        let mut render = |c: Ctx<'_>| {
            let mut out = Vec::new();
            w.write(&mut out, &c);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            render(ctx("a.000001", 4, Some("0-1-7"))),
            r#","binlog_file":"a.000001","binlog_pos":4,"gtid":"0-1-7""#
        );
        assert_eq!(
            render(ctx("a.000001", 90, Some("0-1-8"))),
            r#","binlog_file":"a.000001","binlog_pos":90,"gtid":"0-1-8""#
        );
        assert_eq!(
            render(ctx("a.000001", 120, None)),
            r#","binlog_file":"a.000001","binlog_pos":120,"gtid":null"#
        );
        assert_eq!(
            render(ctx("b\"2", 4, Some("0-1-8"))),
            r#","binlog_file":"b\"2","binlog_pos":4,"gtid":"0-1-8""#
        );
        assert_eq!(
            render(ctx("b\"2", 5, Some("0-1-8"))),
            r#","binlog_file":"b\"2","binlog_pos":5,"gtid":"0-1-8""#
        );
    }
}
