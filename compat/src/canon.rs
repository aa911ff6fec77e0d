//! The canonical textual form that row values of both decoders are mapped to
//! before comparison. Each function here is one row of the normalization
//! table in `compat/README.md`; both sides call the same function, so a
//! difference in the compared strings is a difference in decoded values,
//! never in formatting.

use std::fmt::Write as _;

/// A column that is not part of the row image (partial images, MINIMAL
/// row image, NDB). Distinct from SQL NULL.
pub const ABSENT: &str = "<absent>";
pub const NULL: &str = "NULL";

/// Row operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "INSERT",
            Op::Update => "UPDATE",
            Op::Delete => "DELETE",
        }
    }
}

/// One row change with every value in canonical form. Images are indexed by
/// column position; columns missing from an image are [`ABSENT`].
#[derive(Debug, Clone, PartialEq)]
pub struct CanonRow {
    /// Offset of the rows event in the file (for events inside a compressed
    /// transaction payload: the offset of the payload event).
    pub event_offset: u64,
    /// `db.table`.
    pub table: String,
    pub op: Op,
    pub before: Option<Vec<String>>,
    pub after: Option<Vec<String>>,
}

pub fn int(v: i64) -> String {
    v.to_string()
}

pub fn uint(v: u64) -> String {
    v.to_string()
}

/// FLOAT: shortest text that round-trips the f32 (both sides hold the same
/// f32 bits, so this is exact).
pub fn float(v: f32) -> String {
    format!("f32:{v:?}")
}

pub fn double(v: f64) -> String {
    format!("f64:{v:?}")
}

/// DECIMAL: the exact digits with the column's scale, e.g. `dec:-10.5500`.
pub fn decimal(text: &str) -> String {
    format!("dec:{text}")
}

pub fn year(y: u16) -> String {
    format!("year:{y:04}")
}

pub fn date(y: u16, m: u8, d: u8) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// Fraction printed only when non-zero and always with 6 digits: mysql_common
/// does not carry the column's fractional precision, so precision is not
/// compared (the value is).
fn push_micros(out: &mut String, micros: u32) {
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
}

pub fn datetime(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, micros: u32) -> String {
    let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    push_micros(&mut out, micros);
    out
}

/// TIME as a signed duration; `hours` may exceed 24 (up to 838).
pub fn time(negative: bool, hours: u64, m: u8, s: u8, micros: u32) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let _ = write!(out, "{hours:02}:{m:02}:{s:02}");
    push_micros(&mut out, micros);
    out
}

/// TIMESTAMP as the UTC instant in Unix seconds (no time zone involved).
pub fn timestamp(seconds: u64, micros: u32) -> String {
    let mut out = format!("ts:{seconds}");
    push_micros(&mut out, micros);
    out
}

pub fn text(s: &str) -> String {
    format!("{s:?}")
}

pub fn bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(3 + 2 * b.len());
    out.push_str("x'");
    for byte in b {
        let _ = write!(out, "{byte:02x}");
    }
    out.push('\'');
    out
}

pub fn enum_index(i: u64) -> String {
    format!("enum:{i}")
}

pub fn set_bits(bits: u64) -> String {
    format!("set:{bits:#x}")
}

pub fn bit(bits: u64) -> String {
    format!("bit:{bits:#x}")
}

/// Decode string bytes the way the column's collation says, for the side
/// (mysql_common) that only hands out raw bytes. Binary collation, invalid
/// bytes and unknown multi-byte charsets stay bytes.
pub fn text_or_bytes(raw: &[u8], collation: u16) -> String {
    match collation {
        63 => bytes(raw),
        // latin1_* collations: MySQL's latin1 is Windows-1252.
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => {
            let (s, _, had_errors) = encoding_rs::WINDOWS_1252.decode(raw);
            if had_errors {
                bytes(raw)
            } else {
                text(&s)
            }
        }
        28 | 87 => decode_with(encoding_rs::GBK, raw),
        248..=250 => decode_with(encoding_rs::GB18030, raw),
        _ => match std::str::from_utf8(raw) {
            Ok(s) => text(s),
            Err(_) => bytes(raw),
        },
    }
}

fn decode_with(enc: &'static encoding_rs::Encoding, raw: &[u8]) -> String {
    match enc.decode_without_bom_handling_and_without_replacement(raw) {
        Some(s) => text(&s),
        None => bytes(raw),
    }
}

/// JSON in a form both decoders can be mapped to. Int and unsigned int of the
/// same value are the same JSON number; objects compare with keys sorted.
#[derive(Debug, Clone, PartialEq)]
pub enum CJson {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    String(String),
    /// Opaque DECIMAL, as exact digits.
    Decimal(String),
    /// Opaque DATE/TIME/DATETIME/TIMESTAMP, as MySQL prints them.
    Temporal(String),
    /// Any other opaque value: field type and raw bytes.
    Opaque {
        type_code: u8,
        data: Vec<u8>,
    },
    Array(Vec<CJson>),
    Object(Vec<(String, CJson)>),
}

/// Canonical text of a JSON document.
pub fn json(doc: &CJson) -> String {
    let mut out = String::from("json:");
    write_json(&mut out, doc);
    out
}

fn write_json(out: &mut String, doc: &CJson) {
    match doc {
        CJson::Null => out.push_str("null"),
        CJson::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        CJson::Int(i) => {
            let _ = write!(out, "{i}");
        }
        CJson::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        CJson::Double(d) => {
            let _ = write!(out, "{d:?}");
        }
        CJson::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        CJson::Decimal(s) => {
            let _ = write!(out, "decimal({s})");
        }
        CJson::Temporal(s) => {
            let _ = write!(out, "temporal({})", trim_zero_fraction(s));
        }
        CJson::Opaque { type_code, data } => {
            let _ = write!(out, "opaque({type_code},{})", bytes(data));
        }
        CJson::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        CJson::Object(members) => {
            let mut sorted: Vec<&(String, CJson)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k:?}:");
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// `12:00:00.000000` and `12:00:00` are the same instant; mysql_common always
/// prints six digits, MySQL prints the value's own precision.
fn trim_zero_fraction(s: &str) -> &str {
    match s.rsplit_once('.') {
        Some((head, frac)) if frac.bytes().all(|b| b == b'0') => head,
        _ => s,
    }
}

/// Canonical text of partial-update JSON diffs that could not be applied
/// (the before image does not hold the column: binlog_row_image=MINIMAL),
/// e.g. `json-diff:[replace $.a 1; remove $.b]`.
pub fn json_diffs(diffs: &[(DiffOp, String, Option<CJson>)]) -> String {
    let mut out = String::from("json-diff:[");
    for (i, (op, path, value)) in diffs.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{op:?} {path}");
        if let Some(v) = value {
            out.push(' ');
            write_json(&mut out, v);
        }
    }
    out.push(']');
    out
}

/// Partial-update JSON diff operation (MySQL `enum_json_diff_operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOp {
    Replace,
    Insert,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
enum PathLeg {
    Key(String),
    Index(usize),
}

/// Parse the restricted JSON path MySQL writes into partial-update diffs:
/// `$`, `.key`, `."quoted key"`, `[n]`.
fn parse_path(path: &str) -> Result<Vec<PathLeg>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("path {path:?} does not start with $"))?;
    let mut legs = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                if chars.get(i) == Some(&'"') {
                    i += 1;
                    let mut key = String::new();
                    loop {
                        match chars.get(i) {
                            None => return Err(format!("unterminated key in {path:?}")),
                            Some('\\') => {
                                if let Some(c) = chars.get(i + 1) {
                                    key.push(*c);
                                }
                                i += 2;
                            }
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some(c) => {
                                key.push(*c);
                                i += 1;
                            }
                        }
                    }
                    legs.push(PathLeg::Key(key));
                } else {
                    let start = i;
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        i += 1;
                    }
                    legs.push(PathLeg::Key(chars[start..i].iter().collect()));
                }
            }
            '[' => {
                let start = i + 1;
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
                let n: String = chars[start..i.min(chars.len())].iter().collect();
                let n = n
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad array index {n:?} in {path:?}"))?;
                legs.push(PathLeg::Index(n));
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            c => return Err(format!("unexpected {c:?} in path {path:?}")),
        }
    }
    Ok(legs)
}

/// Apply one partial-update diff to `doc` the way the server does when it
/// replays the binlog (`Json_diff_vector` application): REPLACE an existing
/// value, INSERT a new object member or array element, REMOVE a value.
pub fn apply_json_diff(
    doc: &mut CJson,
    path: &str,
    op: DiffOp,
    value: Option<CJson>,
) -> Result<(), String> {
    let legs = parse_path(path)?;
    let Some((last, parents)) = legs.split_last() else {
        return match (op, value) {
            (DiffOp::Replace, Some(v)) => {
                *doc = v;
                Ok(())
            }
            _ => Err(format!("{op:?} on the document root")),
        };
    };
    let mut node = doc;
    for leg in parents {
        node = match (node, leg) {
            (CJson::Object(members), PathLeg::Key(k)) => members
                .iter_mut()
                .find(|(mk, _)| mk == k)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("path {path:?}: no member {k:?}"))?,
            (CJson::Array(items), PathLeg::Index(n)) => items
                .get_mut(*n)
                .ok_or_else(|| format!("path {path:?}: no element {n}"))?,
            _ => return Err(format!("path {path:?} does not match the document")),
        };
    }
    match (node, last, op) {
        (CJson::Object(members), PathLeg::Key(k), DiffOp::Remove) => {
            members.retain(|(mk, _)| mk != k);
        }
        (CJson::Array(items), PathLeg::Index(n), DiffOp::Remove) => {
            if *n < items.len() {
                items.remove(*n);
            }
        }
        (CJson::Object(members), PathLeg::Key(k), DiffOp::Replace | DiffOp::Insert) => {
            let v = value.ok_or_else(|| format!("{op:?} without a value at {path:?}"))?;
            match members.iter_mut().find(|(mk, _)| mk == k) {
                Some((_, slot)) => *slot = v,
                None => members.push((k.clone(), v)),
            }
        }
        (CJson::Array(items), PathLeg::Index(n), DiffOp::Replace) => {
            let v = value.ok_or_else(|| format!("REPLACE without a value at {path:?}"))?;
            let slot = items
                .get_mut(*n)
                .ok_or_else(|| format!("path {path:?}: no element {n}"))?;
            *slot = v;
        }
        (CJson::Array(items), PathLeg::Index(n), DiffOp::Insert) => {
            let v = value.ok_or_else(|| format!("INSERT without a value at {path:?}"))?;
            let at = (*n).min(items.len());
            items.insert(at, v);
        }
        _ => return Err(format!("path {path:?} does not match the document")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_compare_with_sorted_keys() {
        let a = CJson::Object(vec![
            ("b".into(), CJson::Int(1)),
            ("a".into(), CJson::UInt(2)),
        ]);
        let b = CJson::Object(vec![
            ("a".into(), CJson::Int(2)),
            ("b".into(), CJson::UInt(1)),
        ]);
        assert_eq!(json(&a), json(&b));
        assert_eq!(json(&a), "json:{\"a\":2,\"b\":1}");
    }

    #[test]
    fn temporal_zero_fraction_is_trimmed() {
        assert_eq!(
            json(&CJson::Temporal("2020-01-01 10:00:00.000000".into())),
            json(&CJson::Temporal("2020-01-01 10:00:00".into()))
        );
        assert_ne!(
            json(&CJson::Temporal("10:00:00.500000".into())),
            json(&CJson::Temporal("10:00:00".into()))
        );
    }

    #[test]
    fn json_diff_replace_insert_remove() {
        let mut doc = CJson::Object(vec![
            ("a".into(), CJson::Array(vec![CJson::Int(1), CJson::Int(2)])),
            ("key with space".into(), CJson::Bool(true)),
        ]);
        apply_json_diff(&mut doc, "$.a[1]", DiffOp::Replace, Some(CJson::Int(5))).unwrap();
        apply_json_diff(&mut doc, "$.a[0]", DiffOp::Insert, Some(CJson::Int(0))).unwrap();
        apply_json_diff(&mut doc, "$.\"key with space\"", DiffOp::Remove, None).unwrap();
        apply_json_diff(&mut doc, "$.n", DiffOp::Insert, Some(CJson::Null)).unwrap();
        assert_eq!(json(&doc), "json:{\"a\":[0,1,5],\"n\":null}");
    }

    #[test]
    fn latin1_bytes_decode_as_windows_1252() {
        assert_eq!(text_or_bytes(b"caf\xe9", 8), text("café"));
        assert_eq!(text_or_bytes(b"caf\xe9", 45), bytes(b"caf\xe9"));
        assert_eq!(text_or_bytes(b"abc", 63), bytes(b"abc"));
    }
}
