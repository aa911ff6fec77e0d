//! Our decoder's side of the differential tests: decode a binlog with the
//! `binlog` crate and map every value to the canonical form of
//! `binlog_compat::canon` (the same functions the mysql_common side uses).

#![allow(dead_code)] // each test binary uses part of this module

use std::panic::{catch_unwind, AssertUnwindSafe};

use binlog::column::ColumnDef;
use binlog::events::rows::{RowChange, RowsKind};
use binlog::events::Event;
use binlog::stream::BinlogStream;
use binlog::value::json::JsonDiffOp;
use binlog::value::{Json, Value};
use binlog_compat::canon::{self, CJson, CanonRow, DiffOp, Op};

/// Our decoder's rows of one file.
#[derive(Debug, Default)]
pub struct OursOutcome {
    pub rows: Vec<CanonRow>,
    /// Rows of the pre-GA rows events (5.1 alcatel builds), which
    /// mysql_common does not decode; kept apart so the sequences align.
    pub pre_ga_rows: Vec<CanonRow>,
    pub events: u64,
    /// The error that ended decoding (file offset, message).
    pub error: Option<(Option<u64>, String)>,
}

/// Decode every row of `bytes` with our decoder. Panics are turned into a
/// descriptive panic naming the last good offset.
pub fn decode_ours(bytes: &[u8]) -> OursOutcome {
    let mut out = OursOutcome::default();
    let mut last_offset = 0u64;
    let result = catch_unwind(AssertUnwindSafe(|| {
        decode_into(bytes, &mut out, &mut last_offset)
    }));
    if let Err(panic) = result {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("our decoder PANICKED after the event at offset {last_offset}: {msg}");
    }
    out
}

fn decode_into(bytes: &[u8], out: &mut OursOutcome, last_offset: &mut u64) {
    let mut stream = match BinlogStream::new(bytes) {
        Ok(stream) => stream,
        Err(e) => {
            out.error = Some((e.offset(), e.to_string()));
            return;
        }
    };
    loop {
        let event = match stream.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(e) => {
                out.error = Some((e.offset(), e.to_string()));
                return;
            }
        };
        out.events += 1;
        *last_offset = event.offset;
        let (Event::Rows(rows), Some(table)) = (&event.event, event.table.as_deref()) else {
            continue;
        };
        let op = match rows.kind {
            RowsKind::Write => Op::Insert,
            RowsKind::Delete => Op::Delete,
            RowsKind::Update | RowsKind::PartialUpdate => Op::Update,
        };
        let name = format!("{}.{}", table.database, table.table);
        let mut iter = rows.rows(table, event.offset);
        // Row buffers borrow the event, so they live per event.
        let mut change = RowChange::default();
        loop {
            match iter.next_into(&mut change) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    out.error = Some((e.offset(), e.to_string()));
                    return;
                }
            }
            let row = CanonRow {
                event_offset: event.offset,
                table: name.clone(),
                op,
                before: change
                    .before
                    .as_ref()
                    .map(|img| canon_image(img, &table.columns)),
                after: change
                    .after
                    .as_ref()
                    .map(|img| canon_image(img, &table.columns)),
            };
            if rows.version == 0 {
                out.pre_ga_rows.push(row);
            } else {
                out.rows.push(row);
            }
        }
    }
}

fn canon_image(image: &[Option<Value<'_>>], columns: &[ColumnDef]) -> Vec<String> {
    image
        .iter()
        .zip(columns)
        .map(|(v, col)| match v {
            None => canon::ABSENT.to_string(),
            Some(v) => canon_value(v, col),
        })
        .collect()
}

/// Canonical form of one of our values (see the table in compat/README.md).
pub fn canon_value(v: &Value<'_>, _col: &ColumnDef) -> String {
    match v {
        Value::Null => canon::NULL.to_string(),
        Value::Int(i) => canon::int(*i),
        Value::UInt(u) => canon::uint(*u),
        Value::Float(f) => canon::float(*f),
        Value::Double(d) => canon::double(*d),
        Value::Decimal(s) => canon::decimal(s),
        Value::Year(y) => canon::year(*y),
        Value::Date(d) => canon::date(d.year, d.month, d.day),
        Value::Time(t) => canon::time(
            t.negative,
            u64::from(t.hours),
            t.minutes,
            t.seconds,
            t.micros,
        ),
        Value::DateTime(dt) => canon::datetime(
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.micros,
        ),
        Value::Timestamp(ts) => canon::timestamp(u64::from(ts.seconds), ts.micros),
        Value::Text(s) => canon::text(s),
        Value::Bytes(b) => canon::bytes(b),
        Value::Bit { bits, .. } => canon::bit(*bits),
        Value::Enum(i) => canon::enum_index(u64::from(*i)),
        Value::Set(bits) => canon::set_bits(*bits),
        Value::Json(doc) => canon::json(&json_to_cjson(doc)),
        Value::JsonDiff(diffs) => canon::json_diffs(
            &diffs
                .iter()
                .map(|d| {
                    let op = match d.op {
                        JsonDiffOp::Replace => DiffOp::Replace,
                        JsonDiffOp::Insert => DiffOp::Insert,
                        JsonDiffOp::Remove => DiffOp::Remove,
                    };
                    (op, d.path.clone(), d.value.as_ref().map(json_to_cjson))
                })
                .collect::<Vec<_>>(),
        ),
        Value::Geometry { srid, wkb } => {
            let mut raw = srid.to_le_bytes().to_vec();
            raw.extend_from_slice(wkb);
            canon::bytes(&raw)
        }
        Value::Vector(b) => canon::bytes(b),
        Value::Uuid(b) => canon::bytes(b),
        Value::Inet4(b) => canon::bytes(b),
        Value::Inet6(b) => canon::bytes(b),
    }
}

/// Our JSON tree in canonical form. Opaque DECIMAL and temporal values are
/// rendered by our own JSON printer (the number, or the quoted string) so
/// that the comparison covers that rendering too.
pub fn json_to_cjson(doc: &Json) -> CJson {
    match doc {
        Json::Null => CJson::Null,
        Json::Bool(b) => CJson::Bool(*b),
        Json::Int(i) => CJson::Int(*i),
        Json::UInt(u) => CJson::UInt(*u),
        Json::Double(d) => CJson::Double(*d),
        Json::String(s) => CJson::String(s.clone()),
        Json::Array(items) => CJson::Array(items.iter().map(json_to_cjson).collect()),
        Json::Object(members) => CJson::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), json_to_cjson(v)))
                .collect(),
        ),
        Json::Opaque { type_code, data } => {
            let mut rendered = Vec::new();
            doc.write_json(&mut rendered);
            let rendered = String::from_utf8_lossy(&rendered).into_owned();
            match *type_code {
                246 => CJson::Decimal(rendered),
                7 | 10 | 11 | 12 => CJson::Temporal(rendered.trim_matches('"').to_string()),
                _ => CJson::Opaque {
                    type_code: *type_code,
                    data: data.clone(),
                },
            }
        }
    }
}

/// One row change of ours with its values kept (detached from the event).
pub struct OwnedRow {
    pub event_offset: u64,
    pub table: std::sync::Arc<binlog::events::TableMap>,
    pub op: Op,
    pub before: Option<Vec<Option<Value<'static>>>>,
    pub after: Option<Vec<Option<Value<'static>>>>,
}

/// Every row change of `bytes` (all rows-event versions) with its values,
/// and the error that ended decoding, if any.
pub fn decode_ours_values(bytes: &[u8]) -> (Vec<OwnedRow>, Option<String>) {
    let mut rows = Vec::new();
    let mut stream = match BinlogStream::new(bytes) {
        Ok(stream) => stream,
        Err(e) => return (rows, Some(e.to_string())),
    };
    let owned = |img: &Option<Vec<Option<Value<'_>>>>| {
        img.as_ref().map(|img| {
            img.iter()
                .map(|v| v.clone().map(Value::into_owned))
                .collect::<Vec<_>>()
        })
    };
    loop {
        let event = match stream.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return (rows, None),
            Err(e) => return (rows, Some(e.to_string())),
        };
        let (Event::Rows(ev), Some(table)) = (&event.event, event.table.as_ref()) else {
            continue;
        };
        let op = match ev.kind {
            RowsKind::Write => Op::Insert,
            RowsKind::Delete => Op::Delete,
            RowsKind::Update | RowsKind::PartialUpdate => Op::Update,
        };
        for change in ev.rows(table, event.offset) {
            let change = match change {
                Ok(change) => change,
                Err(e) => return (rows, Some(e.to_string())),
            };
            rows.push(OwnedRow {
                event_offset: event.offset,
                table: std::sync::Arc::clone(table),
                op,
                before: owned(&change.before),
                after: owned(&change.after),
            });
        }
    }
}
