//! Decoding binlogs with `mysql_common`, the reference implementation the
//! differential test compares against, and the peer program of the decode
//! benchmark.
//!
//! mysql_common is driven through its public API only: `BinlogFile` (an
//! iterator of events over a `BufRead`), `EventStreamReader::read_decompressed`
//! for the events inside a TRANSACTION_PAYLOAD, and `RowsEventData::rows`
//! with the TABLE_MAP the reader keeps. It may panic on some inputs (it
//! indexes column metadata), so every walk runs under `catch_unwind`.

use std::io::{self, BufRead};
use std::panic::{catch_unwind, AssertUnwindSafe};

use base64::Engine as _;
use mysql_common::binlog::consts::BinlogVersion;
use mysql_common::binlog::events::{EventData, RowsEventData, TableMapEvent};
use mysql_common::binlog::jsonb::{JsonContainer, JsonDom, JsonNumber, JsonScalar};
use mysql_common::binlog::jsondiff::JsonDiffOperation;
use mysql_common::binlog::row::BinlogRow;
use mysql_common::binlog::value::BinlogValue;
use mysql_common::binlog::BinlogFile;
use mysql_common::constants::ColumnType;
use mysql_common::value::Value;

use crate::canon::{self, CJson, CanonRow, DiffOp, Op};

/// Where and why mysql_common stopped before the end of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct McError {
    /// Offset of the event being read when it failed.
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for McError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.message)
    }
}

/// Counters of one walk over a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WalkStats {
    /// Top-level events read (payload events count once).
    pub events: u64,
    /// Offset just past the last event read: less than the file length when
    /// mysql_common stopped early (it treats a truncated tail as end of file).
    pub end_offset: u64,
}

/// One rows event as the visitor sees it.
pub struct RowsEventCtx<'a> {
    /// File offset of the event (of the enclosing payload event for events
    /// inside a TRANSACTION_PAYLOAD).
    pub offset: u64,
    pub event: &'a RowsEventData<'a>,
    pub table: &'a TableMapEvent<'static>,
}

/// Walk every rows event of a binlog (including those inside compressed
/// transaction payloads) and hand each to `visit` with its TABLE_MAP.
/// Returns the stats and the error that stopped the walk, if any; panics
/// inside mysql_common are caught and reported as errors.
pub fn walk_rows_events<R: BufRead>(
    input: R,
    mut visit: impl FnMut(&RowsEventCtx<'_>) -> io::Result<()>,
) -> (WalkStats, Option<McError>) {
    let mut stats = WalkStats {
        events: 0,
        end_offset: 4,
    };
    let mut current = 4u64;
    let result = catch_unwind(AssertUnwindSafe(|| {
        walk_inner(input, &mut visit, &mut stats, &mut current)
    }));
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(McError {
            offset: current,
            message,
        }),
        Err(panic) => Some(McError {
            offset: current,
            message: format!("mysql_common panicked: {}", panic_message(&panic)),
        }),
    };
    (stats, error)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn walk_inner<R: BufRead>(
    input: R,
    visit: &mut impl FnMut(&RowsEventCtx<'_>) -> io::Result<()>,
    stats: &mut WalkStats,
    current: &mut u64,
) -> Result<(), String> {
    let mut file =
        BinlogFile::new(BinlogVersion::Version4, input).map_err(|e| format!("header: {e}"))?;
    while let Some(event) = file.next() {
        let event = event.map_err(|e| format!("reading event: {e}"))?;
        let offset = *current;
        let next = offset + u64::from(event.header().event_size());
        stats.events += 1;
        let data = event.read_data().map_err(|e| {
            format!(
                "decoding event type {}: {e}",
                event.header().event_type_raw()
            )
        })?;
        match data {
            Some(EventData::RowsEvent(rows)) => {
                visit_rows(&file, offset, &rows, visit)?;
            }
            Some(EventData::TransactionPayloadEvent(payload)) => {
                let mut inner_input = payload
                    .decompressed()
                    .map_err(|e| format!("decompressing payload: {e}"))?;
                loop {
                    let inner = file
                        .reader_mut()
                        .read_decompressed(&mut inner_input)
                        .map_err(|e| format!("reading payload event: {e}"))?;
                    let Some(inner) = inner else { break };
                    let inner_data = inner
                        .read_data()
                        .map_err(|e| format!("decoding payload event: {e}"))?;
                    if let Some(EventData::RowsEvent(rows)) = inner_data {
                        visit_rows(&file, offset, &rows, visit)?;
                    }
                }
            }
            _ => {}
        }
        *current = next;
        stats.end_offset = next;
    }
    Ok(())
}

fn visit_rows<R: BufRead>(
    file: &BinlogFile<R>,
    offset: u64,
    rows: &RowsEventData<'_>,
    visit: &mut impl FnMut(&RowsEventCtx<'_>) -> io::Result<()>,
) -> Result<(), String> {
    let table = file
        .reader()
        .get_tme(rows.table_id())
        .ok_or_else(|| format!("rows event for unknown table id {}", rows.table_id()))?;
    visit(&RowsEventCtx {
        offset,
        event: rows,
        table,
    })
    .map_err(|e| format!("decoding rows: {e}"))
}

/// Result of decoding a whole file into canonical rows.
#[derive(Debug, Clone, Default)]
pub struct McOutcome {
    pub rows: Vec<CanonRow>,
    pub stats: WalkStats,
    pub error: Option<McError>,
}

/// Decode every row of a binlog held in memory into canonical form.
pub fn decode_canonical(bytes: &[u8]) -> McOutcome {
    let mut rows = Vec::new();
    let (stats, error) = walk_rows_events(bytes, |ctx| {
        let op = match ctx.event {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => Op::Insert,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => Op::Delete,
            _ => Op::Update,
        };
        let table = format!("{}.{}", ctx.table.database_name(), ctx.table.table_name());
        let ncols = ctx.event.num_columns() as usize;
        let before_bits = ctx.event.columns_before_image().map(|b| {
            (0..ncols)
                .map(|i| b.get(i).map(|x| *x).unwrap_or(false))
                .collect::<Vec<_>>()
        });
        let after_bits = ctx.event.columns_after_image().map(|b| {
            (0..ncols)
                .map(|i| b.get(i).map(|x| *x).unwrap_or(false))
                .collect::<Vec<_>>()
        });
        for row in ctx.event.rows(ctx.table) {
            let (before, after) = row?;
            let before = match (before, &before_bits) {
                (Some(row), Some(bits)) => Some(canon_image(&row, bits, ctx.table, None)?),
                _ => None,
            };
            let after = match (after, &after_bits) {
                (Some(row), Some(bits)) => Some(canon_image(
                    &row,
                    bits,
                    ctx.table,
                    before.as_ref().map(|(_, json)| json.as_slice()),
                )?),
                _ => None,
            };
            rows.push(CanonRow {
                event_offset: ctx.offset,
                table: table.clone(),
                op,
                before: before.map(|(text, _)| text),
                after: after.map(|(text, _)| text),
            });
        }
        Ok(())
    });
    McOutcome { rows, stats, error }
}

type Image = (Vec<String>, Vec<Option<CJson>>);

/// Canonical values of one row image, indexed by column; also each JSON
/// column's document so an after image's partial-update diffs can be applied
/// to the before image.
fn canon_image(
    row: &BinlogRow,
    present: &[bool],
    table: &TableMapEvent<'_>,
    before_json: Option<&[Option<CJson>]>,
) -> io::Result<Image> {
    let mut text = Vec::with_capacity(present.len());
    let mut json = Vec::with_capacity(present.len());
    let mut k = 0usize;
    let has_vector = (0..present.len()).any(|i| {
        matches!(
            table.get_column_type(i),
            Ok(Some(ColumnType::MYSQL_TYPE_VECTOR))
        )
    });
    for (i, &is_present) in present.iter().enumerate() {
        if !is_present {
            text.push(canon::ABSENT.to_string());
            json.push(None);
            continue;
        }
        let column_type = table
            .get_column_type(i)
            .ok()
            .flatten()
            .unwrap_or(ColumnType::MYSQL_TYPE_NULL);
        // mysql_common 0.38 does not count VECTOR columns as character
        // columns when it reads the charset metadata, so in tables with a
        // VECTOR column it gives the other columns the wrong collations:
        // there its collation is ignored (0 = read as UTF-8 when valid).
        let charset = if has_vector {
            0
        } else {
            row.columns_ref()
                .get(k)
                .map(|c| c.character_set())
                .unwrap_or(0)
        };
        let value = row.as_ref(k).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "row has fewer values than bitmap",
            )
        })?;
        k += 1;
        let (t, j) = match value {
            BinlogValue::JsonDiff(diffs) => {
                let mut parsed = Vec::with_capacity(diffs.len());
                for diff in diffs {
                    let op = match diff.operation() {
                        JsonDiffOperation::REPLACE => DiffOp::Replace,
                        JsonDiffOperation::INSERT => DiffOp::Insert,
                        JsonDiffOperation::REMOVE => DiffOp::Remove,
                    };
                    let value = match diff.value() {
                        Some(v) => Some(jsonb_to_cjson(v.clone())?),
                        None => None,
                    };
                    parsed.push((op, diff.path_str().into_owned(), value));
                }
                match before_json.and_then(|b| b.get(i).cloned().flatten()) {
                    Some(mut doc) => {
                        for (op, path, value) in parsed {
                            canon::apply_json_diff(&mut doc, &path, op, value)
                                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                        }
                        (canon::json(&doc), Some(doc))
                    }
                    // MINIMAL before image: nothing to apply the diffs to.
                    None => (canon::json_diffs(&parsed), None),
                }
            }
            other => canon_value(other, column_type, charset),
        };
        text.push(t);
        json.push(j);
    }
    Ok((text, json))
}

fn jsonb_to_cjson(v: mysql_common::binlog::jsonb::Value<'_>) -> io::Result<CJson> {
    Ok(dom_to_cjson(v.parse()?))
}

/// Canonical form of one mysql_common value of a column of `ty` (the real
/// type: ENUM/SET already unpacked from STRING metadata).
pub fn canon_value(v: &BinlogValue<'_>, ty: ColumnType, charset: u16) -> (String, Option<CJson>) {
    use ColumnType::*;
    let value = match v {
        BinlogValue::Value(value) => value,
        BinlogValue::Jsonb(j) => {
            return match jsonb_to_cjson(j.clone()) {
                Ok(doc) => (canon::json(&doc), Some(doc)),
                Err(e) => (format!("json-error:{e}"), None),
            };
        }
        BinlogValue::JsonDiff(_) => return ("json-diff-without-before-image".into(), None),
    };
    let text = match value {
        Value::NULL => canon::NULL.to_string(),
        Value::Int(i) => match ty {
            // Old TIMESTAMP: mysql_common hands out the raw seconds.
            MYSQL_TYPE_TIMESTAMP => canon::timestamp(*i as u64, 0),
            MYSQL_TYPE_ENUM => canon::enum_index(*i as u64),
            _ => canon::int(*i),
        },
        Value::UInt(u) => canon::uint(*u),
        Value::Float(f) => canon::float(*f),
        Value::Double(d) => canon::double(*d),
        Value::Date(y, mo, d, h, mi, s, us) => match ty {
            MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => canon::date(*y, *mo, *d),
            _ => canon::datetime(*y, *mo, *d, *h, *mi, *s, *us),
        },
        Value::Time(neg, days, h, m, s, us) => {
            canon::time(*neg, u64::from(*days) * 24 + u64::from(*h), *m, *s, *us)
        }
        Value::Bytes(b) => match ty {
            MYSQL_TYPE_YEAR => {
                // mysql_common prints 1900 + the stored byte, so the zero
                // year 0000 comes out as "1900" (not a valid YEAR value).
                let y: u16 = std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u16::MAX);
                canon::year(if y == 1900 { 0 } else { y })
            }
            MYSQL_TYPE_TIMESTAMP2 => {
                // "secs" or "secs.micros" (six digits).
                let s = String::from_utf8_lossy(b);
                let (secs, micros) = s.split_once('.').unwrap_or((&s, "0"));
                canon::timestamp(
                    secs.parse().unwrap_or(u64::MAX),
                    micros.parse().unwrap_or(0),
                )
            }
            MYSQL_TYPE_NEWDECIMAL => canon::decimal(&String::from_utf8_lossy(b)),
            MYSQL_TYPE_BIT => canon::bit(b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))),
            MYSQL_TYPE_SET => canon::set_bits(
                b.iter()
                    .rev()
                    .fold(0u64, |acc, x| (acc << 8) | u64::from(*x)),
            ),
            MYSQL_TYPE_GEOMETRY | MYSQL_TYPE_VECTOR => canon::bytes(b),
            _ => canon::text_or_bytes(b, charset),
        },
    };
    (text, None)
}

fn dom_to_cjson(dom: JsonDom) -> CJson {
    match dom {
        JsonDom::Container(JsonContainer::Array(items)) => {
            CJson::Array(items.into_iter().map(dom_to_cjson).collect())
        }
        JsonDom::Container(JsonContainer::Object(members)) => CJson::Object(
            members
                .into_iter()
                .map(|(k, v)| (k, dom_to_cjson(v)))
                .collect(),
        ),
        JsonDom::Scalar(JsonScalar::Null) => CJson::Null,
        JsonDom::Scalar(JsonScalar::Boolean(b)) => CJson::Bool(b),
        JsonDom::Scalar(JsonScalar::String(s)) => CJson::String(s),
        JsonDom::Scalar(JsonScalar::Number(JsonNumber::Int(i))) => CJson::Int(i),
        JsonDom::Scalar(JsonScalar::Number(JsonNumber::Uint(u))) => CJson::UInt(u),
        JsonDom::Scalar(JsonScalar::Number(JsonNumber::Double(d))) => CJson::Double(d),
        JsonDom::Scalar(JsonScalar::Number(JsonNumber::Decimal(d))) => {
            CJson::Decimal(d.to_string())
        }
        JsonDom::Scalar(JsonScalar::DateTime(t)) => CJson::Temporal(format!("{t:.6}")),
        JsonDom::Scalar(JsonScalar::Opaque(o)) => {
            // JsonOpaque's fields are private; its Display is
            // "base64:type<code>:<base64 data>".
            let shown = o.to_string();
            let parsed = shown
                .strip_prefix("base64:type")
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(code, data)| {
                    Some((
                        code.parse::<u8>().ok()?,
                        base64::engine::general_purpose::STANDARD
                            .decode(data)
                            .ok()?,
                    ))
                });
            match parsed {
                Some((type_code, data)) => CJson::Opaque { type_code, data },
                None => CJson::String(shown),
            }
        }
    }
}

/// What the benchmark peer counts: rows, values and a digest of every value
/// so that no decoding work can be optimized away.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McCount {
    pub rows: u64,
    pub values: u64,
    pub digest: u64,
    pub stats: WalkStats,
}

/// Decode every row of a binlog and touch every value (JSON documents are
/// parsed to the end), as fast as mysql_common allows.
pub fn count_rows<R: BufRead>(input: R) -> (McCount, Option<McError>) {
    let mut count = McCount::default();
    let (stats, error) = walk_rows_events(input, |ctx| {
        for row in ctx.event.rows(ctx.table) {
            let (before, after) = row?;
            count.rows += 1;
            for image in [before, after].into_iter().flatten() {
                for value in image.unwrap() {
                    count.values += 1;
                    count.digest = count.digest.wrapping_mul(31).wrapping_add(touch(value));
                }
            }
        }
        Ok(())
    });
    count.stats = stats;
    (count, error)
}

fn touch(value: BinlogValue<'static>) -> u64 {
    match value {
        BinlogValue::Value(v) => match v {
            Value::NULL => 1,
            Value::Bytes(b) => b.len() as u64 ^ u64::from(b.first().copied().unwrap_or(0)),
            Value::Int(i) => i as u64,
            Value::UInt(u) => u,
            Value::Float(f) => u64::from(f.to_bits()),
            Value::Double(d) => d.to_bits(),
            Value::Date(y, mo, d, h, mi, s, us) => {
                u64::from(y)
                    ^ u64::from(mo)
                    ^ u64::from(d)
                    ^ u64::from(h)
                    ^ u64::from(mi)
                    ^ u64::from(s)
                    ^ u64::from(us)
            }
            Value::Time(n, d, h, m, s, us) => {
                u64::from(n)
                    ^ u64::from(d)
                    ^ u64::from(h)
                    ^ u64::from(m)
                    ^ u64::from(s)
                    ^ u64::from(us)
            }
        },
        BinlogValue::Jsonb(j) => match j.parse() {
            Ok(dom) => json_nodes(&dom),
            Err(_) => 0,
        },
        BinlogValue::JsonDiff(d) => d.len() as u64,
    }
}

fn json_nodes(dom: &JsonDom) -> u64 {
    match dom {
        JsonDom::Container(JsonContainer::Array(items)) => {
            1 + items.iter().map(json_nodes).sum::<u64>()
        }
        JsonDom::Container(JsonContainer::Object(m)) => 1 + m.values().map(json_nodes).sum::<u64>(),
        JsonDom::Scalar(_) => 1,
    }
}
