//! WRITE/UPDATE/DELETE_ROWS (pre-GA, v1, v2) and PARTIAL_UPDATE_ROWS.
//!
//! The event is parsed lazily: [`RowsEvent::parse`] reads only the header
//! and bitmaps; [`RowsEvent::rows`] decodes row images one at a time against
//! the table's [`TableMap`], so a 5M-row event never exists decoded in
//! memory at once.

use crate::bytes::ByteReader;
use crate::column::{column_type as ct, ColumnDef};
use crate::error::{BodyError, DecodeError};
use crate::events::table_map::TableMap;
use crate::fde::FormatDescription;
use crate::header::event_type as et;
use crate::value::decode::{decode_into, put};
use crate::value::{json, Value};

/// What a rows event does to its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    Write,
    Update,
    Delete,
    /// MySQL 8 UPDATE whose after image may hold JSON diffs (PARTIAL_JSON).
    PartialUpdate,
}

impl RowsKind {
    /// The SQL operation, as the product names it.
    pub fn operation(self) -> &'static str {
        match self {
            RowsKind::Write => "INSERT",
            RowsKind::Update | RowsKind::PartialUpdate => "UPDATE",
            RowsKind::Delete => "DELETE",
        }
    }
    fn has_before(self) -> bool {
        !matches!(self, RowsKind::Write)
    }
    fn has_after(self) -> bool {
        !matches!(self, RowsKind::Delete)
    }
}

/// Rows-event flag: last event of the statement.
pub const STMT_END_F: u16 = 0x0001;

/// The header and undecoded row data of a rows event.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsEvent<'a> {
    pub kind: RowsKind,
    /// 0 = pre-GA, 1 = v1, 2 = v2 (with extra row info).
    pub version: u8,
    pub table_id: u64,
    pub flags: u16,
    /// v2 extra row info (NDB info, partition ids), raw TLVs.
    pub extra_data: &'a [u8],
    pub column_count: usize,
    /// Columns present in the before image (DELETE/UPDATE) or the only image (INSERT).
    pub columns_before: &'a [u8],
    /// Columns present in the after image (UPDATE).
    pub columns_after: &'a [u8],
    /// The packed row images.
    pub data: &'a [u8],
}

/// One row change. Images hold one slot per table column: `None` when the
/// column is absent from the image (minimal row image), `Some(Value::Null)`
/// for SQL NULL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowChange<'a> {
    pub before: Option<Vec<Option<Value<'a>>>>,
    pub after: Option<Vec<Option<Value<'a>>>>,
}

impl<'a> RowsEvent<'a> {
    /// Parse the header of a rows event of (normalized) type `type_code`.
    pub fn parse(
        body: &'a [u8],
        type_code: u8,
        fde: &FormatDescription,
    ) -> Result<RowsEvent<'a>, BodyError> {
        let (kind, version) = match type_code {
            et::PRE_GA_WRITE_ROWS => (RowsKind::Write, 0),
            et::PRE_GA_UPDATE_ROWS => (RowsKind::Update, 0),
            et::PRE_GA_DELETE_ROWS => (RowsKind::Delete, 0),
            et::WRITE_ROWS_V1 => (RowsKind::Write, 1),
            et::UPDATE_ROWS_V1 => (RowsKind::Update, 1),
            et::DELETE_ROWS_V1 => (RowsKind::Delete, 1),
            et::WRITE_ROWS => (RowsKind::Write, 2),
            et::UPDATE_ROWS => (RowsKind::Update, 2),
            et::DELETE_ROWS => (RowsKind::Delete, 2),
            et::PARTIAL_UPDATE_ROWS => (RowsKind::PartialUpdate, 2),
            other => {
                return Err(BodyError::Invalid(format!(
                    "event type {other} is not a rows event"
                )))
            }
        };
        let mut r = ByteReader::new(body);
        let table_id = if fde.post_header_len(type_code) == Some(6) {
            r.u32()? as u64
        } else {
            r.u48()?
        };
        let flags = r.u16()?;
        let extra_data = if version == 2 {
            // The length includes its own two bytes.
            let len = r.u16()? as usize;
            r.take(len.saturating_sub(2))?
        } else {
            &[]
        };
        let count = r.lenenc()?;
        if count > (r.remaining() as u64).saturating_mul(8) {
            return Err(BodyError::Invalid(format!(
                "column count {count} exceeds the event size"
            )));
        }
        let column_count = count as usize;
        let bitmap_len = column_count.div_ceil(8);
        let columns_before = r.take(bitmap_len)?;
        // Pre-GA update events carry a single bitmap for both images.
        let columns_after =
            if matches!(kind, RowsKind::Update | RowsKind::PartialUpdate) && version > 0 {
                r.take(bitmap_len)?
            } else {
                columns_before
            };
        Ok(RowsEvent {
            kind,
            version,
            table_id,
            flags,
            extra_data,
            column_count,
            columns_before,
            columns_after,
            data: r.rest(),
        })
    }

    /// Decode the rows one at a time. `offset` is the event's position, used
    /// in error messages.
    pub fn rows<'t>(&self, table: &'t TableMap, offset: u64) -> RowIter<'a, 't> {
        let n = table.columns.len();
        RowIter {
            event: self.clone(),
            table,
            offset,
            r: ByteReader::new(self.data),
            failed: false,
            present_before: count_bits(self.columns_before, n),
            present_after: count_bits(self.columns_after, n),
            has_json: table.columns.iter().any(|c| c.type_code == ct::JSON),
        }
    }
}

/// Image buffers kept from one rows event to the next, so that decoding a
/// stream of small events does not allocate two vectors per event.
#[derive(Debug, Default)]
pub struct RowBuffers {
    before: Vec<Option<Value<'static>>>,
    after: Vec<Option<Value<'static>>>,
}

impl RowBuffers {
    /// An empty row change for events of `kind`, ready for
    /// [`RowIter::next_into`], whose images reuse these buffers.
    pub fn take<'a>(&mut self, kind: RowsKind) -> RowChange<'a> {
        RowChange {
            before: kind.has_before().then(|| std::mem::take(&mut self.before)),
            after: kind.has_after().then(|| std::mem::take(&mut self.after)),
        }
    }

    /// Keep the buffers of `row` (its values are dropped).
    pub fn put_back(&mut self, row: RowChange<'_>) {
        if let Some(before) = row.before {
            self.before = emptied(before);
        }
        if let Some(after) = row.after {
            self.after = emptied(after);
        }
    }
}

/// The vector's allocation with no values in it, detached from the event
/// buffer's lifetime (an empty vector holds nothing borrowed; collecting
/// a vector's own `into_iter` reuses its allocation).
fn emptied(mut image: Vec<Option<Value<'_>>>) -> Vec<Option<Value<'static>>> {
    // Most values borrow from the event and own nothing: skip their drop
    // glue, as `decode::put` does (per value, it showed in `stats` on
    // streams of one-row transactions).
    for value in image.drain(..) {
        if crate::value::decode::owns_nothing(&value) {
            std::mem::forget(value);
        }
    }
    image.into_iter().map(|_| None).collect()
}

/// Set bits among the first `n` of a column bitmap.
fn count_bits(bits: &[u8], n: usize) -> usize {
    let full = n / 8;
    let mut count: usize = bits
        .iter()
        .take(full)
        .map(|b| b.count_ones() as usize)
        .sum();
    if !n.is_multiple_of(8) {
        if let Some(last) = bits.get(full) {
            count += (last & ((1u8 << (n % 8)) - 1)).count_ones() as usize;
        }
    }
    count
}

/// Iterator over the row changes of one rows event.
pub struct RowIter<'a, 't> {
    event: RowsEvent<'a>,
    table: &'t TableMap,
    offset: u64,
    r: ByteReader<'a>,
    failed: bool,
    /// Columns present in each image: the length of its null bitmap.
    present_before: usize,
    present_after: usize,
    /// The table has a JSON column (PARTIAL_UPDATE_ROWS diffs need tracking).
    has_json: bool,
}

impl<'a> RowIter<'a, '_> {
    /// Decode the next row into `out`, reusing its buffers. Returns false at
    /// the end of the event.
    pub fn next_into(&mut self, out: &mut RowChange<'a>) -> Result<bool, DecodeError> {
        if self.failed || self.r.is_empty() {
            return Ok(false);
        }
        let start = self.r.position();
        let mut result = self.decode_row(out);
        // A row that consumes no bytes (no columns present) would be decoded
        // forever from the same data: the event is corrupt.
        if result.is_ok() && self.r.position() == start {
            result = Err(self.error(
                None,
                "row image with no columns present cannot hold row data".into(),
            ));
        }
        if result.is_err() {
            self.failed = true;
        }
        result.map(|_| true)
    }

    fn decode_row(&mut self, out: &mut RowChange<'a>) -> Result<(), DecodeError> {
        let ev = &self.event;
        if ev.column_count != self.table.columns.len() {
            return Err(self.error(
                None,
                format!(
                    "rows event has {} columns but its TABLE_MAP has {}",
                    ev.column_count,
                    self.table.columns.len()
                ),
            ));
        }
        let kind = ev.kind;
        let (before_bits, after_bits) = (ev.columns_before, ev.columns_after);
        let (before_count, after_count) = (self.present_before, self.present_after);
        if kind.has_before() {
            let img = out.before.get_or_insert_with(Vec::new);
            self.decode_image(before_bits, before_count, img, None)?;
        } else {
            out.before = None;
        }
        if kind.has_after() {
            let mut img = out.after.take().unwrap_or_default();
            let partial = if kind == RowsKind::PartialUpdate {
                Some(out.before.as_deref().unwrap_or(&[]))
            } else {
                None
            };
            let res = self.decode_image(after_bits, after_count, &mut img, partial);
            out.after = Some(img);
            res?;
        } else {
            out.after = None;
        }
        Ok(())
    }

    /// Decode one image. `present_count` is the number of bits set in
    /// `present`; `partial_base` is the before image when this is the after
    /// image of a PARTIAL_UPDATE_ROWS event.
    fn decode_image(
        &mut self,
        present: &[u8],
        present_count: usize,
        img: &mut Vec<Option<Value<'a>>>,
        partial_base: Option<&[Option<Value<'a>>]>,
    ) -> Result<(), DecodeError> {
        let table = self.table;
        let n = table.columns.len();
        // Every slot is assigned below: only the length needs setting.
        if img.len() != n {
            img.clear();
            img.resize_with(n, || None);
        }

        // Which JSON columns (by ordinal among the table's JSON columns) hold diffs.
        let mut partial_bits: &[u8] = &[];
        if partial_base.is_some() {
            let options = self.r.lenenc().map_err(|e| self.body_error(None, e))?;
            if options & 1 != 0 {
                let json_cols = table
                    .columns
                    .iter()
                    .filter(|c| c.type_code == ct::JSON)
                    .count();
                partial_bits = self
                    .r
                    .take(json_cols.div_ceil(8))
                    .map_err(|e| self.body_error(None, e))?;
            }
        }

        // Pre-GA events carry the storage engine's record null bytes, whose
        // bit 0 is reserved (the MyISAM "deleted" mark): column k is bit k+1.
        let null_shift = usize::from(self.event.version == 0);
        let nulls = self
            .r
            .take((present_count + null_shift).div_ceil(8))
            .map_err(|e| self.body_error(None, e))?;
        let mut nth_null_bit = null_shift;
        let mut nth_json = 0;
        let track_json = self.has_json && !partial_bits.is_empty();
        for (i, (col, slot)) in table.columns.iter().zip(img.iter_mut()).enumerate() {
            let json_ordinal = nth_json;
            if track_json && col.type_code == ct::JSON {
                nth_json += 1;
            }
            if !bit(present, i) {
                put(slot, None);
                continue;
            }
            let is_null = bit(nulls, nth_null_bit);
            nth_null_bit += 1;
            if is_null {
                put(slot, Some(Value::Null));
                continue;
            }
            if track_json && col.type_code == ct::JSON && bit(partial_bits, json_ordinal) {
                let base = partial_base.and_then(|b| b.get(i)).and_then(|v| v.as_ref());
                let value = apply_partial_json(&mut self.r, col, base)
                    .map_err(|e| self.value_error(i, e))?;
                put(slot, Some(value));
            } else if let Err(e) = decode_into(col, &mut self.r, slot) {
                return Err(self.body_error(Some(i), e));
            }
        }
        Ok(())
    }

    #[cold]
    fn value_error(&self, column: usize, e: ValueError) -> DecodeError {
        match e {
            ValueError::Body(e) => self.body_error(Some(column), e),
            ValueError::Message(m) => self.error(Some(column), m),
        }
    }

    fn body_error(&self, column: Option<usize>, e: BodyError) -> DecodeError {
        self.error(column, e.to_string())
    }

    fn error(&self, column: Option<usize>, reason: String) -> DecodeError {
        let column = match column {
            Some(i) => {
                let c = &self.table.columns[i];
                format!(
                    "{} ({} #{})",
                    self.table.column_name(i),
                    ct::name(c.real_type()),
                    i + 1
                )
            }
            None => "-".into(),
        };
        DecodeError::Value {
            offset: self.offset,
            table: self.table.qualified_name(),
            column,
            reason,
        }
    }
}

/// Why a value did not decode: a malformed body, or a diff that does not
/// apply (the message is the whole reason).
enum ValueError {
    Body(BodyError),
    Message(String),
}

impl From<BodyError> for ValueError {
    fn from(e: BodyError) -> Self {
        ValueError::Body(e)
    }
}

/// The after value of a JSON column a PARTIAL_UPDATE_ROWS event logged as
/// a diff: applied to the before value when the image has it.
fn apply_partial_json<'a>(
    r: &mut ByteReader<'a>,
    col: &ColumnDef,
    base: Option<&Value<'a>>,
) -> Result<Value<'a>, ValueError> {
    let len = r.uint_n(col.meta as usize)?;
    let diffs = r.take(len as usize)?;
    let mut doc = match base {
        Some(Value::Json(doc)) => doc.clone(),
        // binlog_row_image=MINIMAL: the before image lacks the column, so the
        // full document cannot be rebuilt. Keep the diff itself rather than
        // invent a value.
        None => return Ok(Value::JsonDiff(json::parse_json_diffs(diffs)?)),
        Some(Value::Null) => {
            return Err(ValueError::Message(
                "JSON diff applied to a NULL before value".into(),
            ))
        }
        Some(other) => {
            return Err(ValueError::Message(format!(
                "JSON diff applied to non-JSON value {other:?}"
            )))
        }
    };
    json::apply_json_diffs(&mut doc, diffs)?;
    Ok(Value::Json(doc))
}

impl<'a> Iterator for RowIter<'a, '_> {
    type Item = Result<RowChange<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut row = RowChange::default();
        match self.next_into(&mut row) {
            Ok(true) => Some(Ok(row)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[inline]
fn bit(bits: &[u8], i: usize) -> bool {
    bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;
    use std::borrow::Cow;

    fn fde() -> FormatDescription {
        FormatDescription {
            binlog_version: 4,
            server_version: "8.0.40".into(),
            create_timestamp: 0,
            header_length: 19,
            post_header_lengths: vec![10; 42],
            checksum: ChecksumAlg::Crc32,
        }
    }

    fn table() -> TableMap {
        let mut id = ColumnDef::new(ct::LONG, 0);
        id.name = Some("id".into());
        let mut name = ColumnDef::new(ct::VARCHAR, 40);
        name.charset = Some(45);
        TableMap {
            table_id: 7,
            flags: 0,
            database: "db".into(),
            table: "t".into(),
            columns: vec![id, name],
            primary_key: vec![0],
            has_column_names: false,
            has_signedness: false,
        }
    }

    fn header(type_code: u8, bitmaps: &[u8]) -> Vec<u8> {
        let mut b = vec![7, 0, 0, 0, 0, 0, 1, 0];
        if matches!(
            type_code,
            et::WRITE_ROWS | et::UPDATE_ROWS | et::DELETE_ROWS
        ) {
            b.extend_from_slice(&[2, 0]); // no extra data
        }
        b.push(2);
        b.extend_from_slice(bitmaps);
        b
    }

    #[test]
    fn update_v2_decodes_before_and_after_images_with_nulls() {
        let mut b = header(et::UPDATE_ROWS, &[0b11, 0b11]);
        // before: (5, 'ab')
        b.extend_from_slice(&[0b00, 5, 0, 0, 0, 2, b'a', b'b']);
        // after: (5, NULL)
        b.extend_from_slice(&[0b10, 5, 0, 0, 0]);
        let ev = RowsEvent::parse(&b, et::UPDATE_ROWS, &fde()).unwrap();
        assert_eq!(ev.kind.operation(), "UPDATE");
        let t = table();
        let rows: Vec<_> = ev.rows(&t, 100).collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].before,
            Some(vec![
                Some(Value::Int(5)),
                Some(Value::Text(Cow::Borrowed("ab")))
            ])
        );
        assert_eq!(
            rows[0].after,
            Some(vec![Some(Value::Int(5)), Some(Value::Null)])
        );
    }

    #[test]
    fn minimal_image_marks_absent_columns_as_none() {
        // DELETE v1 with only the key column logged.
        let mut b = header(et::DELETE_ROWS_V1, &[0b01]);
        b.extend_from_slice(&[0b0, 9, 0, 0, 0, 0b0, 10, 0, 0, 0]);
        let ev = RowsEvent::parse(&b, et::DELETE_ROWS_V1, &fde()).unwrap();
        let t = table();
        let rows: Vec<_> = ev.rows(&t, 0).collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].before, Some(vec![Some(Value::Int(10)), None]));
        assert_eq!(rows[1].after, None);
    }

    #[test]
    fn truncated_row_names_table_column_and_offset() {
        let mut b = header(et::WRITE_ROWS, &[0b11]);
        b.extend_from_slice(&[0b00, 1, 0, 0, 0, 5, b'a']); // VARCHAR claims 5 bytes, has 1
        let ev = RowsEvent::parse(&b, et::WRITE_ROWS, &fde()).unwrap();
        let t = table();
        let err = ev.rows(&t, 4242).next().unwrap().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("4242") && msg.contains("db.t") && msg.contains("@2"),
            "{msg}"
        );
        assert_eq!(ev.rows(&t, 0).count(), 1, "iteration stops after the error");
    }

    #[test]
    fn rows_event_without_columns_never_advances_is_an_error_not_a_hang() {
        let mut b = header(et::WRITE_ROWS_V1, &[0b00]);
        b.extend_from_slice(&[1, 2, 3]);
        let ev = RowsEvent::parse(&b, et::WRITE_ROWS_V1, &fde()).unwrap();
        let t = table();
        let mut rows = ev.rows(&t, 0);
        assert!(rows.next().unwrap().is_err());
        assert!(rows.next().is_none());
    }

    #[test]
    fn column_count_mismatch_with_table_map_is_an_error() {
        let mut b = vec![7, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0b111];
        b.extend_from_slice(&[0, 1, 0, 0, 0]);
        let ev = RowsEvent::parse(&b, et::WRITE_ROWS, &fde()).unwrap();
        assert!(ev.rows(&table(), 0).next().unwrap().is_err());
    }
}
