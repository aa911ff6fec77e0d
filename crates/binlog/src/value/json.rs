//! MySQL's binary JSON format (JSONB) and partial-update JSON diffs.
//!
//! Binary format (sql/json_binary.h): a document is a type byte followed by
//! the value. Objects and arrays come in a small form (2-byte counts, sizes
//! and offsets, for values under 64 KB) and a large form (4-byte). A
//! container is `count, size, [key entries], value entries, keys, values`;
//! key entries are (offset, u16 length), value entries are (type byte,
//! offset or inlined value). Offsets are relative to the container's first
//! byte after its type byte. Literals and 16-bit integers are always
//! inlined; 32-bit integers are inlined in the large form only. Strings and
//! opaque values carry a variable-length length (7 bits per byte, low group
//! first, at most 5 bytes).
//!
//! Parsing is bounds-checked throughout: every offset must lie inside its
//! container, nesting is limited to [`MAX_DEPTH`], and a document cannot
//! expand to more nodes or bytes than it occupies (so crafted offsets that
//! share sub-values cannot blow up memory).
//!
//! Rendering matches MySQL's `CAST(doc AS CHAR)`: `{"a": 1, "b": [1, 2]}`,
//! doubles as MySQL prints them (`1.5`, `1e100`, `2.0`), opaque DECIMAL as
//! the number, opaque temporal values as quoted strings with six fraction
//! digits, and other opaque values as `"base64:type<N>:<base64>"`.

use std::cmp::Ordering;

use base64::Engine;

use crate::column::column_type as ct;
use crate::error::BodyError;
use crate::value::decimal;
use crate::value::render::write_json_str;
use crate::value::temporal;

/// A decoded JSON document. Keeps MySQL's scalar distinctions (int vs uint
/// vs double, opaque DECIMAL/temporal values) so rendering matches MySQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    String(String),
    Array(Vec<Json>),
    /// Keys in the order stored (MySQL sorts keys by length, then bytes).
    Object(Vec<(String, Json)>),
    /// Opaque value: MySQL field type code plus raw bytes (DECIMAL, DATE, TIME,
    /// DATETIME, BLOB, …), rendered according to the type.
    Opaque {
        type_code: u8,
        data: Vec<u8>,
    },
}

mod jsonb_type {
    pub const SMALL_OBJECT: u8 = 0x00;
    pub const LARGE_OBJECT: u8 = 0x01;
    pub const SMALL_ARRAY: u8 = 0x02;
    pub const LARGE_ARRAY: u8 = 0x03;
    pub const LITERAL: u8 = 0x04;
    pub const INT16: u8 = 0x05;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const DOUBLE: u8 = 0x0b;
    pub const STRING: u8 = 0x0c;
    pub const OPAQUE: u8 = 0x0f;

    pub const LITERAL_NULL: u8 = 0x00;
    pub const LITERAL_TRUE: u8 = 0x01;
    pub const LITERAL_FALSE: u8 = 0x02;
}
use jsonb_type as jt;

/// Deepest container nesting accepted. MySQL itself refuses documents
/// deeper than 100; the margin only keeps corrupt input from exhausting
/// the stack.
pub const MAX_DEPTH: usize = 150;

fn corrupt(msg: impl Into<String>) -> BodyError {
    BodyError::Invalid(format!("corrupt binary JSON: {}", msg.into()))
}

/// Parse a binary JSON document. An empty document is JSON `null`, as MySQL
/// reads an empty JSON column value.
pub fn parse_binary(doc: &[u8]) -> Result<Json, BodyError> {
    let Some((&t, rest)) = doc.split_first() else {
        return Ok(Json::Null);
    };
    // A genuine document holds each node and each string byte once; the
    // budgets stop offsets that share sub-values from expanding it.
    let mut p = Parser {
        nodes_left: doc.len() + 1,
        bytes_left: doc.len(),
    };
    p.value(t, rest, 0)
}

struct Parser {
    nodes_left: usize,
    bytes_left: usize,
}

impl Parser {
    fn count_node(&mut self) -> Result<(), BodyError> {
        self.nodes_left = self
            .nodes_left
            .checked_sub(1)
            .ok_or_else(|| corrupt("values are shared between containers"))?;
        Ok(())
    }

    fn count_bytes(&mut self, n: usize) -> Result<(), BodyError> {
        self.bytes_left = self
            .bytes_left
            .checked_sub(n)
            .ok_or_else(|| corrupt("values are shared between containers"))?;
        Ok(())
    }

    fn value(&mut self, t: u8, data: &[u8], depth: usize) -> Result<Json, BodyError> {
        match t {
            jt::SMALL_OBJECT | jt::LARGE_OBJECT | jt::SMALL_ARRAY | jt::LARGE_ARRAY => {
                self.container(t, data, depth + 1)
            }
            _ => self.scalar(t, data),
        }
    }

    fn scalar(&mut self, t: u8, data: &[u8]) -> Result<Json, BodyError> {
        self.count_node()?;
        let fixed = |n: usize| -> Result<&[u8], BodyError> {
            data.get(..n)
                .ok_or_else(|| corrupt(format!("scalar of type {t:#04x} needs {n} bytes")))
        };
        Ok(match t {
            jt::LITERAL => match fixed(1)?[0] {
                jt::LITERAL_NULL => Json::Null,
                jt::LITERAL_TRUE => Json::Bool(true),
                jt::LITERAL_FALSE => Json::Bool(false),
                other => return Err(corrupt(format!("unknown literal {other:#04x}"))),
            },
            jt::INT16 => Json::Int(i16::from_le_bytes(arr(fixed(2)?)) as i64),
            jt::UINT16 => Json::UInt(u16::from_le_bytes(arr(fixed(2)?)) as u64),
            jt::INT32 => Json::Int(i32::from_le_bytes(arr(fixed(4)?)) as i64),
            jt::UINT32 => Json::UInt(u32::from_le_bytes(arr(fixed(4)?)) as u64),
            jt::INT64 => Json::Int(i64::from_le_bytes(arr(fixed(8)?))),
            jt::UINT64 => Json::UInt(u64::from_le_bytes(arr(fixed(8)?))),
            jt::DOUBLE => Json::Double(f64::from_le_bytes(arr(fixed(8)?))),
            jt::STRING => {
                let (len, n) = read_variable_length(data)?;
                let bytes =
                    slice(data, n, len).ok_or_else(|| corrupt("string runs past its container"))?;
                self.count_bytes(bytes.len())?;
                Json::String(utf8(bytes)?)
            }
            jt::OPAQUE => {
                let (&type_code, rest) = data
                    .split_first()
                    .ok_or_else(|| corrupt("empty opaque value"))?;
                let (len, n) = read_variable_length(rest)?;
                let bytes = slice(rest, n, len)
                    .ok_or_else(|| corrupt("opaque value runs past its container"))?;
                self.count_bytes(bytes.len())?;
                Json::Opaque {
                    type_code,
                    data: bytes.to_vec(),
                }
            }
            other => return Err(corrupt(format!("unknown value type {other:#04x}"))),
        })
    }

    fn container(&mut self, t: u8, data: &[u8], depth: usize) -> Result<Json, BodyError> {
        if depth > MAX_DEPTH {
            return Err(corrupt(format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.count_node()?;
        let large = matches!(t, jt::LARGE_OBJECT | jt::LARGE_ARRAY);
        let is_object = matches!(t, jt::SMALL_OBJECT | jt::LARGE_OBJECT);
        let osz = if large { 4 } else { 2 };
        if data.len() < 2 * osz {
            return Err(corrupt("container header truncated"));
        }
        let count = read_offset(data, 0, large)?;
        let size = read_offset(data, osz, large)?;
        let data = data.get(..size).ok_or_else(|| {
            corrupt(format!(
                "container size {size} exceeds the {} bytes available",
                data.len()
            ))
        })?;
        let key_entry = osz + 2;
        let value_entry = 1 + osz;
        let header = (count as u64)
            .saturating_mul(if is_object {
                (key_entry + value_entry) as u64
            } else {
                value_entry as u64
            })
            .saturating_add(2 * osz as u64);
        if header > size as u64 {
            return Err(corrupt(format!(
                "{count} elements do not fit in {size} bytes"
            )));
        }
        let header = header as usize;
        let first_value_entry = 2 * osz + if is_object { count * key_entry } else { 0 };

        if is_object {
            let mut members = Vec::with_capacity(count);
            for i in 0..count {
                let ke = 2 * osz + i * key_entry;
                let key_offset = read_offset(data, ke, large)?;
                let key_len = u16::from_le_bytes(arr(&data[ke + osz..ke + osz + 2])) as usize;
                if key_offset < header {
                    return Err(corrupt("object key points into the header"));
                }
                let key = slice(data, key_offset, key_len)
                    .ok_or_else(|| corrupt("object key runs past the object"))?;
                self.count_bytes(key.len())?;
                let key = utf8(key)?;
                let value = self.entry(
                    data,
                    first_value_entry + i * value_entry,
                    header,
                    large,
                    depth,
                )?;
                members.push((key, value));
            }
            Ok(Json::Object(members))
        } else {
            let mut elements = Vec::with_capacity(count);
            for i in 0..count {
                elements.push(self.entry(
                    data,
                    first_value_entry + i * value_entry,
                    header,
                    large,
                    depth,
                )?);
            }
            Ok(Json::Array(elements))
        }
    }

    /// The value behind the value entry at `at` of a container `data`.
    fn entry(
        &mut self,
        data: &[u8],
        at: usize,
        header: usize,
        large: bool,
        depth: usize,
    ) -> Result<Json, BodyError> {
        let osz = if large { 4 } else { 2 };
        // The header check guarantees the entry lies inside `data`.
        let t = data[at];
        let inlined = matches!(t, jt::LITERAL | jt::INT16 | jt::UINT16)
            || (large && matches!(t, jt::INT32 | jt::UINT32));
        if inlined {
            return self.scalar(t, &data[at + 1..at + 1 + osz]);
        }
        let offset = read_offset(data, at + 1, large)?;
        if offset < header || offset >= data.len() {
            return Err(corrupt(format!(
                "value offset {offset} outside the container"
            )));
        }
        self.value(t, &data[offset..], depth)
    }
}

#[inline]
fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

fn slice(data: &[u8], start: usize, len: usize) -> Option<&[u8]> {
    data.get(start..start.checked_add(len)?)
}

fn utf8(bytes: &[u8]) -> Result<String, BodyError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("string is not UTF-8"))
}

fn read_offset(data: &[u8], at: usize, large: bool) -> Result<usize, BodyError> {
    let n = if large { 4 } else { 2 };
    let b = slice(data, at, n).ok_or_else(|| corrupt("offset truncated"))?;
    Ok(if large {
        u32::from_le_bytes(arr(b)) as usize
    } else {
        u16::from_le_bytes(arr(b)) as usize
    })
}

/// MySQL's variable-length length: 7 bits per byte, low group first, high
/// bit = more bytes follow; at most 5 bytes and at most u32::MAX.
fn read_variable_length(data: &[u8]) -> Result<(usize, usize), BodyError> {
    let mut len: u64 = 0;
    for i in 0..5 {
        let b = *data.get(i).ok_or_else(|| corrupt("length truncated"))?;
        len |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            if len > u32::MAX as u64 {
                return Err(corrupt("length over 4 GB"));
            }
            return Ok((len as usize, i + 1));
        }
    }
    Err(corrupt("length longer than 5 bytes"))
}

// ------------------------------------------------------------- rendering

impl Json {
    /// Append the document as MySQL prints it (`SELECT CAST(doc AS CHAR)`).
    pub fn write_mysql(&self, out: &mut Vec<u8>) {
        write_node(self, out, Style::Mysql);
    }

    /// The document as MySQL prints it.
    pub fn to_mysql_string(&self) -> String {
        let mut out = Vec::new();
        self.write_mysql(&mut out);
        // Everything written is UTF-8: strings come from String, the rest is ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Append the document as compact, valid JSON (the product's form):
    /// no spaces after separators, scalars printed as in [`Json::write_mysql`].
    pub fn write_json(&self, out: &mut Vec<u8>) {
        write_node(self, out, Style::Compact);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Mysql,
    Compact,
}

fn write_node(j: &Json, out: &mut Vec<u8>, style: Style) {
    let (comma, colon): (&[u8], &[u8]) = match style {
        Style::Mysql => (b", ", b": "),
        Style::Compact => (b",", b":"),
    };
    match j {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Json::UInt(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Json::Double(v) => write_mysql_double(out, *v),
        Json::String(s) => write_json_str(out, s),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(comma);
                }
                write_node(item, out, style);
            }
            out.push(b']');
        }
        Json::Object(members) => {
            out.push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(comma);
                }
                write_json_str(out, k);
                out.extend_from_slice(colon);
                write_node(v, out, style);
            }
            out.push(b'}');
        }
        Json::Opaque { type_code, data } => write_opaque(out, *type_code, data, style),
    }
}

fn write_opaque(out: &mut Vec<u8>, type_code: u8, data: &[u8], style: Style) {
    if render_typed_opaque(out, type_code, data) {
        return;
    }
    // MySQL's base64_encode breaks lines every 76 characters; the JSON text
    // MySQL prints keeps those raw newlines inside the quotes.
    let mut s = String::with_capacity(16 + data.len().div_ceil(3) * 4 + data.len() / 57);
    s.push_str("base64:type");
    s.push_str(itoa::Buffer::new().format(type_code));
    s.push(':');
    for (i, chunk) in data.chunks(57).enumerate() {
        if i > 0 {
            s.push('\n');
        }
        base64::engine::general_purpose::STANDARD.encode_string(chunk, &mut s);
    }
    match style {
        Style::Mysql => {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        Style::Compact => write_json_str(out, &s),
    }
}

/// Render opaque DECIMAL and temporal values; false if `data` is not a
/// valid value of that type (the caller falls back to base64).
fn render_typed_opaque(out: &mut Vec<u8>, type_code: u8, data: &[u8]) -> bool {
    match type_code {
        ct::NEWDECIMAL => {
            let [precision, scale, bin @ ..] = data else {
                return false;
            };
            match decimal::decode_decimal_bytes(bin, *precision, *scale) {
                Ok((text, _)) => {
                    out.extend_from_slice(text.as_bytes());
                    true
                }
                Err(_) => false,
            }
        }
        ct::DATE | ct::TIME | ct::DATETIME | ct::TIMESTAMP => {
            let Some(b) = data.get(..8) else {
                return false;
            };
            let packed = i64::from_le_bytes(arr(b));
            let start = out.len();
            out.push(b'"');
            let ok = match type_code {
                ct::TIME => temporal::time_from_packed(packed, 6).map(|t| t.write(out)),
                ct::DATE => temporal::datetime_from_packed(packed, 0).map(|d| {
                    temporal::Date {
                        year: d.year,
                        month: d.month,
                        day: d.day,
                    }
                    .write(out)
                }),
                _ => temporal::datetime_from_packed(packed, 6).map(|d| d.write(out)),
            };
            if ok.is_err() {
                out.truncate(start);
                return false;
            }
            out.push(b'"');
            true
        }
        _ => false,
    }
}

/// Append a double the way MySQL prints it in JSON text: the shortest
/// round-trip digits laid out by `my_gcvt` (field width 34, plain notation
/// for decimal exponents -14..=15, else `1.5e-20` style), plus ".0" when
/// the result would otherwise read as an integer. Non-finite values (which
/// JSON cannot hold) print as `null`.
pub fn write_mysql_double(out: &mut Vec<u8>, d: f64) {
    if !d.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let mut ryu_buf = ryu::Buffer::new();
    let text = ryu_buf.format_finite(d).as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // Split "ddd.ddde±x" into significant digits and decimal-point position
    // (value = 0.d1d2… × 10^decpt, dtoa's convention).
    let (mantissa, exp) = match text.iter().position(|&b| b == b'e') {
        Some(i) => (&text[..i], parse_exp(&text[i + 1..])),
        None => (text, 0),
    };
    let mut digits = [0u8; 32];
    let mut len = 0;
    let mut point = 0i32;
    let mut seen_point = false;
    for &b in mantissa {
        if b == b'.' {
            seen_point = true;
            continue;
        }
        if !seen_point {
            point += 1;
        }
        if len == 0 && b == b'0' {
            // Leading zero: shifts the point instead of being a digit.
            point -= 1;
            continue;
        }
        if len < digits.len() {
            digits[len] = b;
            len += 1;
        }
    }
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    let mut decpt = point + exp;
    if len == 0 {
        digits[0] = b'0';
        len = 1;
        decpt = 1;
    }
    let digits = &digits[..len];

    let start = out.len();
    write_gcvt(out, negative, digits, decpt);
    if !out[start..].iter().any(|&b| b == b'.' || b == b'e') {
        out.extend_from_slice(b".0");
    }
}

fn parse_exp(b: &[u8]) -> i32 {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let v = digits.iter().fold(0i32, |acc, &c| {
        acc.saturating_mul(10).saturating_add((c - b'0') as i32)
    });
    if neg {
        -v
    } else {
        v
    }
}

/// The layout decision of MySQL's `my_gcvt(x, MY_GCVT_ARG_DOUBLE,
/// MY_GCVT_MAX_FIELD_WIDTH)` for shortest digits `digits` and point `decpt`.
fn write_gcvt(out: &mut Vec<u8>, negative: bool, digits: &[u8], decpt: i32) {
    const MAX_FIELD_WIDTH: i32 = 34; // DBL_DIG + 4 + max(5, MAX_DECPT_FOR_F_FORMAT)
    const MAX_DECPT_FOR_F_FORMAT: i32 = 15; // DBL_DIG
    let width = MAX_FIELD_WIDTH - i32::from(negative);
    let len = digits.len() as i32;
    let exp_len =
        1 + i32::from(decpt >= 101 || decpt <= -99) + i32::from(decpt >= 11 || decpt <= -9);
    let f_len = if decpt <= 0 {
        len - decpt + 2
    } else if decpt < len {
        len + 1
    } else {
        decpt
    };
    let have_space = f_len <= width;
    let force_e = decpt <= 0 && width <= 2 - decpt && width >= 3 + exp_len;
    // MySQL's condition, with its redundant `!force_e` terms folded:
    // enough room for plain notation, or plain notation keeps more digits;
    // and plain notation only for moderate exponents.
    let use_f = (have_space || (decpt <= width && decpt >= -2 && !force_e))
        && (!have_space
            || (decpt > -MAX_DECPT_FOR_F_FORMAT
                && (decpt <= MAX_DECPT_FOR_F_FORMAT || len > decpt)));
    if negative {
        out.push(b'-');
    }
    if use_f {
        if decpt <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
            out.extend_from_slice(digits);
        } else {
            for (i, &d) in digits.iter().enumerate() {
                out.push(d);
                if i as i32 + 1 == decpt && (i as i32 + 1) < len {
                    out.push(b'.');
                }
            }
            for _ in len..decpt {
                out.push(b'0');
            }
        }
    } else {
        out.push(digits[0]);
        if len > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        let e = decpt - 1;
        if e < 0 {
            out.push(b'-');
        }
        out.extend_from_slice(itoa::Buffer::new().format(e.unsigned_abs()).as_bytes());
    }
}

// ------------------------------------------------------- paths and diffs

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathLeg {
    /// `.name` or `."quoted name"`.
    Member(String),
    /// `[n]`, or `[last]` / `[last-n]` when `from_end`.
    Cell { index: u64, from_end: bool },
}

impl PathLeg {
    /// The position this cell leg selects in an array of `len` elements,
    /// clamped to `len`, and whether it is inside the array (MySQL's
    /// `Json_array_index`).
    fn array_position(index: u64, from_end: bool, len: usize) -> (usize, bool) {
        let len64 = len as u64;
        let within = index < len64;
        let pos = if from_end {
            if within {
                (len64 - index - 1) as usize
            } else {
                0
            }
        } else {
            index.min(len64) as usize
        };
        (pos, within)
    }
}

fn path_error(path: &str, msg: &str) -> BodyError {
    BodyError::Invalid(format!("invalid JSON path {path:?}: {msg}"))
}

/// Parse a MySQL JSON path such as `$.a[1]."x y"[last-1]`. Only the simple
/// forms the server writes into JSON diffs are accepted (no wildcards,
/// ellipses or ranges).
pub fn parse_path(path: &str) -> Result<Vec<PathLeg>, BodyError> {
    let b = path.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'$') {
        return Err(path_error(path, "must start with '$'"));
    }
    i += 1;
    let mut legs = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            None => return Ok(legs),
            Some(b'.') => {
                i = skip_ws(b, i + 1);
                match b.get(i) {
                    Some(b'"') => {
                        let (name, next) = parse_quoted(path, i)?;
                        legs.push(PathLeg::Member(name));
                        i = next;
                    }
                    Some(b'*') => return Err(path_error(path, "wildcards are not allowed")),
                    Some(_) => {
                        let end = b[i..]
                            .iter()
                            .position(|&c| {
                                matches!(c, b'.' | b'[' | b'*' | b'"') || c.is_ascii_whitespace()
                            })
                            .map_or(b.len(), |p| i + p);
                        if end == i {
                            return Err(path_error(path, "empty member name"));
                        }
                        // Split at ASCII bytes only, so the slice is valid UTF-8.
                        legs.push(PathLeg::Member(path[i..end].to_string()));
                        i = end;
                    }
                    None => return Err(path_error(path, "member name missing")),
                }
            }
            Some(b'[') => {
                i = skip_ws(b, i + 1);
                let from_end = b[i..].starts_with(b"last");
                let mut index = 0;
                if from_end {
                    i = skip_ws(b, i + 4);
                    if b.get(i) == Some(&b'-') {
                        i = skip_ws(b, i + 1);
                        let (n, next) = parse_index(path, i)?;
                        index = n;
                        i = next;
                    }
                } else if b.get(i) == Some(&b'*') {
                    return Err(path_error(path, "wildcards are not allowed"));
                } else {
                    let (n, next) = parse_index(path, i)?;
                    index = n;
                    i = next;
                }
                i = skip_ws(b, i);
                if b.get(i) != Some(&b']') {
                    return Err(path_error(path, "expected ']' (ranges are not allowed)"));
                }
                i += 1;
                legs.push(PathLeg::Cell { index, from_end });
            }
            Some(b'*') => return Err(path_error(path, "ellipsis is not allowed")),
            Some(_) => return Err(path_error(path, "expected '.' or '['")),
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn parse_index(path: &str, i: usize) -> Result<(u64, usize), BodyError> {
    let b = path.as_bytes();
    let end = b[i..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(b.len(), |p| i + p);
    if end == i {
        return Err(path_error(path, "expected an array index"));
    }
    let n = path[i..end]
        .parse::<u64>()
        .map_err(|_| path_error(path, "array index too large"))?;
    Ok((n, end))
}

/// A double-quoted member name with JSON string escapes, starting at the
/// opening quote. Returns the name and the index after the closing quote.
fn parse_quoted(path: &str, start: usize) -> Result<(String, usize), BodyError> {
    let b = path.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(path_error(path, "unterminated quoted member name"));
        };
        match c {
            b'"' => return Ok((out, i + 1)),
            b'\\' => {
                let esc = *b
                    .get(i + 1)
                    .ok_or_else(|| path_error(path, "dangling escape"))?;
                i += 2;
                match esc {
                    b'"' => out.push('"'),
                    b'\\' => out.push('\\'),
                    b'/' => out.push('/'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    b'u' => {
                        let hi = hex4(path, i)?;
                        i += 4;
                        let cp = if (0xD800..0xDC00).contains(&hi) {
                            if !b[i..].starts_with(b"\\u") {
                                return Err(path_error(path, "unpaired surrogate"));
                            }
                            let lo = hex4(path, i + 2)?;
                            i += 6;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(path_error(path, "unpaired surrogate"));
                            }
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            hi
                        };
                        out.push(
                            char::from_u32(cp)
                                .ok_or_else(|| path_error(path, "invalid \\u escape"))?,
                        );
                    }
                    _ => return Err(path_error(path, "unknown escape")),
                }
            }
            _ => {
                // Copy one UTF-8 character.
                let ch_len = path[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&path[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
}

fn hex4(path: &str, i: usize) -> Result<u32, BodyError> {
    path.get(i..i + 4)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| path_error(path, "bad \\u escape"))
}

/// What a JSON diff does at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonDiffOp {
    /// Replace the existing value at the path.
    Replace,
    /// Add a member to an object, or insert into an array at the index.
    Insert,
    /// Remove the value at the path.
    Remove,
}

impl JsonDiffOp {
    /// Lower-case name used in rendered output.
    pub fn name(self) -> &'static str {
        match self {
            JsonDiffOp::Replace => "replace",
            JsonDiffOp::Insert => "insert",
            JsonDiffOp::Remove => "remove",
        }
    }
}

/// One logical change of a PARTIAL_UPDATE_ROWS JSON column.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonDiff {
    pub op: JsonDiffOp,
    /// The path as the server wrote it, e.g. `$.a[1]`.
    pub path: String,
    pub legs: Vec<PathLeg>,
    /// The new value (absent for [`JsonDiffOp::Remove`]).
    pub value: Option<Json>,
}

/// Read a `net_field_length` length (the packed-integer form; 251 = NULL
/// is invalid here).
fn read_net_length(data: &[u8], at: &mut usize) -> Result<usize, BodyError> {
    let first = *data
        .get(*at)
        .ok_or_else(|| corrupt("JSON diff truncated"))?;
    let n = match first {
        0..=250 => 0,
        252 => 2,
        253 => 3,
        254 => 8,
        _ => {
            return Err(corrupt(format!(
                "bad length prefix {first:#04x} in JSON diff"
            )))
        }
    };
    let b = slice(data, *at + 1, n).ok_or_else(|| corrupt("JSON diff truncated"))?;
    *at += 1 + n;
    let v = if n == 0 {
        first as u64
    } else {
        b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
    };
    usize::try_from(v).map_err(|_| corrupt("JSON diff length overflow"))
}

/// Parse the diff list of a partially updated JSON column (the bytes after
/// the column's 4-byte length): a sequence of `op (1 byte), path length,
/// path, [value length, binary JSON value]`.
pub fn parse_json_diffs(bytes: &[u8]) -> Result<Vec<JsonDiff>, BodyError> {
    let mut diffs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let op = match bytes[at] {
            0 => JsonDiffOp::Replace,
            1 => JsonDiffOp::Insert,
            2 => JsonDiffOp::Remove,
            other => return Err(corrupt(format!("unknown JSON diff operation {other}"))),
        };
        at += 1;
        let path_len = read_net_length(bytes, &mut at)?;
        let path = slice(bytes, at, path_len).ok_or_else(|| corrupt("JSON diff path truncated"))?;
        at += path_len;
        let path = std::str::from_utf8(path)
            .map_err(|_| corrupt("JSON diff path is not UTF-8"))?
            .to_string();
        let legs = parse_path(&path)?;
        let value = if op == JsonDiffOp::Remove {
            None
        } else {
            let len = read_net_length(bytes, &mut at)?;
            let doc = slice(bytes, at, len).ok_or_else(|| corrupt("JSON diff value truncated"))?;
            at += len;
            Some(parse_binary(doc)?)
        };
        diffs.push(JsonDiff {
            op,
            path,
            legs,
            value,
        });
    }
    Ok(diffs)
}

/// Apply the diff list `diffs` (see [`parse_json_diffs`]) to `doc` in order,
/// as the server does when it applies a partial update (sql/json_diff.cc
/// `apply_json_diffs`).
pub fn apply_json_diffs(doc: &mut Json, diffs: &[u8]) -> Result<(), BodyError> {
    for diff in parse_json_diffs(diffs)? {
        apply_json_diff(doc, &diff)?;
    }
    Ok(())
}

fn rejected(diff: &JsonDiff, why: &str) -> BodyError {
    BodyError::Invalid(format!(
        "cannot apply JSON diff {} {}: {why}",
        diff.op.name(),
        diff.path
    ))
}

/// Follow `legs` exactly (no auto-wrapping), as the server's `seek_exact_path`.
fn seek<'j>(mut node: &'j mut Json, legs: &[PathLeg]) -> Option<&'j mut Json> {
    for leg in legs {
        node = match (node, leg) {
            (Json::Array(items), PathLeg::Cell { index, from_end }) => {
                let (pos, within) = PathLeg::array_position(*index, *from_end, items.len());
                if !within {
                    return None;
                }
                items.get_mut(pos)?
            }
            (Json::Object(members), PathLeg::Member(name)) => members
                .iter_mut()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)?,
            _ => return None,
        };
    }
    Some(node)
}

/// MySQL's key order in objects: shorter keys first, then bytewise.
fn key_order(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Apply one diff to `doc`. Errors when the server would have rejected it
/// (path not found, member already present, …).
pub fn apply_json_diff(doc: &mut Json, diff: &JsonDiff) -> Result<(), BodyError> {
    let Some((last, parent_legs)) = diff.legs.split_last() else {
        return Err(rejected(diff, "the document root cannot be the target"));
    };
    match diff.op {
        JsonDiffOp::Replace => {
            let value = diff
                .value
                .clone()
                .ok_or_else(|| rejected(diff, "no value"))?;
            let target = seek(doc, &diff.legs).ok_or_else(|| rejected(diff, "path not found"))?;
            *target = value;
        }
        JsonDiffOp::Insert => {
            let value = diff
                .value
                .clone()
                .ok_or_else(|| rejected(diff, "no value"))?;
            let parent =
                seek(doc, parent_legs).ok_or_else(|| rejected(diff, "parent not found"))?;
            match (parent, last) {
                (Json::Object(members), PathLeg::Member(name)) => {
                    if members.iter().any(|(k, _)| k == name) {
                        return Err(rejected(diff, "member already exists"));
                    }
                    let at = members
                        .iter()
                        .position(|(k, _)| key_order(k, name) == Ordering::Greater)
                        .unwrap_or(members.len());
                    members.insert(at, (name.clone(), value));
                }
                (Json::Array(items), PathLeg::Cell { index, from_end }) => {
                    let (pos, _) = PathLeg::array_position(*index, *from_end, items.len());
                    items.insert(pos, value);
                }
                _ => return Err(rejected(diff, "parent is not a matching container")),
            }
        }
        JsonDiffOp::Remove => {
            let parent =
                seek(doc, parent_legs).ok_or_else(|| rejected(diff, "parent not found"))?;
            match (parent, last) {
                (Json::Object(members), PathLeg::Member(name)) => {
                    let at = members
                        .iter()
                        .position(|(k, _)| k == name)
                        .ok_or_else(|| rejected(diff, "member not found"))?;
                    members.remove(at);
                }
                (Json::Array(items), PathLeg::Cell { index, from_end }) => {
                    let (pos, within) = PathLeg::array_position(*index, *from_end, items.len());
                    if !within {
                        return Err(rejected(diff, "index out of range"));
                    }
                    items.remove(pos);
                }
                _ => return Err(rejected(diff, "parent is not a matching container")),
            }
        }
    }
    Ok(())
}

/// Write `diffs` as a JSON array of `{"op":…,"path":…,"value":…}` objects.
pub fn write_json_diffs(out: &mut Vec<u8>, diffs: &[JsonDiff]) {
    out.push(b'[');
    for (i, d) in diffs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"op\":\"");
        out.extend_from_slice(d.op.name().as_bytes());
        out.extend_from_slice(b"\",\"path\":");
        write_json_str(out, &d.path);
        if let Some(v) = &d.value {
            out.extend_from_slice(b",\"value\":");
            v.write_json(out);
        }
        out.push(b'}');
    }
    out.push(b']');
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small binary-JSON encoder following the server's serializer
    /// (json_binary.cc `serialize_json_value`), for building test documents.
    pub(crate) fn encode(j: &Json, large: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let t = encode_value(j, large, &mut out);
        let mut doc = vec![t];
        doc.extend(out);
        doc
    }

    fn var_len(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// Appends the value bytes, returns the type byte.
    fn encode_value(j: &Json, large: bool, out: &mut Vec<u8>) -> u8 {
        match j {
            Json::Null => {
                out.push(0);
                jt::LITERAL
            }
            Json::Bool(b) => {
                out.push(if *b { 1 } else { 2 });
                jt::LITERAL
            }
            Json::Int(v) => {
                if let Ok(x) = i16::try_from(*v) {
                    out.extend(x.to_le_bytes());
                    jt::INT16
                } else if let Ok(x) = i32::try_from(*v) {
                    out.extend(x.to_le_bytes());
                    jt::INT32
                } else {
                    out.extend(v.to_le_bytes());
                    jt::INT64
                }
            }
            Json::UInt(v) => {
                if let Ok(x) = u16::try_from(*v) {
                    out.extend(x.to_le_bytes());
                    jt::UINT16
                } else if let Ok(x) = u32::try_from(*v) {
                    out.extend(x.to_le_bytes());
                    jt::UINT32
                } else {
                    out.extend(v.to_le_bytes());
                    jt::UINT64
                }
            }
            Json::Double(d) => {
                out.extend(d.to_le_bytes());
                jt::DOUBLE
            }
            Json::String(s) => {
                var_len(s.len(), out);
                out.extend(s.as_bytes());
                jt::STRING
            }
            Json::Opaque { type_code, data } => {
                out.push(*type_code);
                var_len(data.len(), out);
                out.extend(data);
                jt::OPAQUE
            }
            Json::Array(items) => {
                encode_container(items.iter().map(|v| (None, v)).collect(), large, out);
                if large {
                    jt::LARGE_ARRAY
                } else {
                    jt::SMALL_ARRAY
                }
            }
            Json::Object(members) => {
                encode_container(
                    members.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
                    large,
                    out,
                );
                if large {
                    jt::LARGE_OBJECT
                } else {
                    jt::SMALL_OBJECT
                }
            }
        }
    }

    fn encode_container(items: Vec<(Option<&str>, &Json)>, large: bool, out: &mut Vec<u8>) {
        let osz = if large { 4 } else { 2 };
        let put = |v: usize, buf: &mut Vec<u8>| {
            if large {
                buf.extend((v as u32).to_le_bytes())
            } else {
                buf.extend((v as u16).to_le_bytes())
            }
        };
        let is_obj = items.first().is_some_and(|(k, _)| k.is_some());
        let n = items.len();
        let header = 2 * osz + n * (1 + osz) + if is_obj { n * (osz + 2) } else { 0 };
        let mut tail = Vec::new();
        let mut key_entries = Vec::new();
        if is_obj {
            for (k, _) in &items {
                let k = k.unwrap();
                put(header + tail.len(), &mut key_entries);
                key_entries.extend((k.len() as u16).to_le_bytes());
                tail.extend(k.as_bytes());
            }
        }
        let mut value_entries = Vec::new();
        for (_, v) in &items {
            let inline = matches!(v, Json::Null | Json::Bool(_))
                || matches!(v, Json::Int(x) if i16::try_from(*x).is_ok() || (large && i32::try_from(*x).is_ok()))
                || matches!(v, Json::UInt(x) if u16::try_from(*x).is_ok() || (large && u32::try_from(*x).is_ok()));
            let mut buf = Vec::new();
            let t = encode_value(v, large, &mut buf);
            value_entries.push(t);
            if inline {
                buf.resize(osz, 0);
                value_entries.extend(buf);
            } else {
                put(header + tail.len(), &mut value_entries);
                tail.extend(buf);
            }
        }
        put(n, out);
        put(header + tail.len(), out);
        out.extend(key_entries);
        out.extend(value_entries);
        out.extend(tail);
    }

    fn obj(members: &[(&str, Json)]) -> Json {
        Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Json {
        Json::String(v.into())
    }

    fn mysql(j: &Json) -> String {
        j.to_mysql_string()
    }

    fn compact(j: &Json) -> String {
        let mut out = Vec::new();
        j.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn dbl(d: f64) -> String {
        let mut out = Vec::new();
        write_mysql_double(&mut out, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn known_server_bytes_small_object() {
        // SELECT CAST('{"a": 1, "b": [1, 2]}' AS JSON) stored by MySQL 8:
        // small object, 2 members.
        let doc = [
            0x00, 0x02, 0x00, 0x1e, 0x00, // count 2, size 30
            0x12, 0x00, 0x01, 0x00, // key "a" at 18, len 1
            0x13, 0x00, 0x01, 0x00, // key "b" at 19, len 1
            0x05, 0x01, 0x00, // int16 1 inlined
            0x02, 0x14, 0x00, // small array at 20
            b'a', b'b', // keys
            0x02, 0x00, 0x0a, 0x00, // array: count 2, size 10
            0x05, 0x01, 0x00, 0x05, 0x02, 0x00, // int16 1, int16 2
        ];
        let j = parse_binary(&doc).unwrap();
        assert_eq!(
            j,
            obj(&[
                ("a", Json::Int(1)),
                ("b", Json::Array(vec![Json::Int(1), Json::Int(2)]))
            ])
        );
        assert_eq!(mysql(&j), r#"{"a": 1, "b": [1, 2]}"#);
        assert_eq!(compact(&j), r#"{"a":1,"b":[1,2]}"#);
    }

    #[test]
    fn every_scalar_type_round_trips() {
        let doc = Json::Array(vec![
            Json::Null,
            Json::Bool(true),
            Json::Bool(false),
            Json::Int(-32768),
            Json::UInt(65535),
            Json::Int(i32::MIN as i64),
            Json::UInt(u32::MAX as u64),
            Json::Int(i64::MIN),
            Json::UInt(u64::MAX),
            Json::Double(-1.5),
            s("é\"\\\n\u{1}😀"),
            s(""),
            Json::Opaque {
                type_code: ct::VARCHAR,
                data: b"hello".to_vec(),
            },
        ]);
        for large in [false, true] {
            let parsed = parse_binary(&encode(&doc, large)).unwrap();
            assert_eq!(parsed, doc, "large={large}");
        }
        assert_eq!(
            mysql(&doc),
            "[null, true, false, -32768, 65535, -2147483648, 4294967295, -9223372036854775808, \
             18446744073709551615, -1.5, \"é\\\"\\\\\\n\\u0001😀\", \"\", \"base64:type15:aGVsbG8=\"]"
        );
    }

    #[test]
    fn top_level_scalars_and_empty_document() {
        assert_eq!(parse_binary(&[]).unwrap(), Json::Null);
        assert_eq!(parse_binary(&[0x04, 0x01]).unwrap(), Json::Bool(true));
        assert_eq!(parse_binary(&[0x0c, 0x02, b'h', b'i']).unwrap(), s("hi"));
        assert_eq!(parse_binary(&[0x05, 0xff, 0xff]).unwrap(), Json::Int(-1));
        let mut d = vec![0x0b];
        d.extend(1e100f64.to_le_bytes());
        assert_eq!(mysql(&parse_binary(&d).unwrap()), "1e100");
    }

    #[test]
    fn nested_and_large_documents() {
        let long = "x".repeat(70_000);
        let doc = obj(&[
            (
                "k",
                Json::Array(vec![obj(&[(
                    "deep",
                    Json::Array(vec![Json::Int(100_000), Json::UInt(70_000)]),
                )])]),
            ),
            ("long", s(&long)),
            ("n", Json::Null),
        ]);
        let bytes = encode(&doc, true);
        assert!(bytes.len() > 65_536);
        assert_eq!(bytes[0], jt::LARGE_OBJECT);
        assert_eq!(parse_binary(&bytes).unwrap(), doc);
        // Small nested encoding too.
        let small = obj(&[(
            "a",
            Json::Array(vec![Json::Array(vec![Json::Array(vec![])]), obj(&[])]),
        )]);
        let j = parse_binary(&encode(&small, false)).unwrap();
        assert_eq!(mysql(&j), r#"{"a": [[[]], {}]}"#);
    }

    #[test]
    fn string_with_multi_byte_length() {
        let text = "y".repeat(300); // length 300 = 0xAC 0x02
        let bytes = encode(&s(&text), false);
        assert_eq!(&bytes[..3], &[0x0c, 0xAC, 0x02]);
        assert_eq!(parse_binary(&bytes).unwrap(), s(&text));
    }

    #[test]
    fn opaque_values_render_like_mysql() {
        // DECIMAL(4,2) 12.50 as opaque: precision, scale, binary.
        let dec = Json::Opaque {
            type_code: ct::NEWDECIMAL,
            data: vec![4, 2, 0x80 | 12, 50],
        };
        assert_eq!(mysql(&dec), "12.50");
        let ym: i64 = 2015 * 13 + 1;
        let packed = ((((ym << 5) | 15) << 17) | ((23 << 12) | (24 << 6) | 25)) << 24;
        let date_packed = ((ym << 5) | 15) << 41;
        let dt = |t| Json::Opaque {
            type_code: t,
            data: packed.to_le_bytes().to_vec(),
        };
        assert_eq!(mysql(&dt(ct::DATETIME)), "\"2015-01-15 23:24:25.000000\"");
        assert_eq!(mysql(&dt(ct::TIMESTAMP)), "\"2015-01-15 23:24:25.000000\"");
        let date = Json::Opaque {
            type_code: ct::DATE,
            data: date_packed.to_le_bytes().to_vec(),
        };
        assert_eq!(mysql(&date), "\"2015-01-15\"");
        let hms: i64 = (23 << 12) | (24 << 6) | 25;
        let time = Json::Opaque {
            type_code: ct::TIME,
            data: (hms << 24).to_le_bytes().to_vec(),
        };
        assert_eq!(mysql(&time), "\"23:24:25.000000\"");
        // Bad DECIMAL falls back to base64.
        let bad = Json::Opaque {
            type_code: ct::NEWDECIMAL,
            data: vec![99],
        };
        assert_eq!(mysql(&bad), "\"base64:type246:Yw==\"");
    }

    #[test]
    fn long_opaque_base64_breaks_lines_like_mysql() {
        let data: Vec<u8> = (0..60u8).collect();
        let j = Json::Opaque {
            type_code: ct::BLOB,
            data,
        };
        let text = mysql(&j);
        let (first, second) = text.split_once('\n').unwrap();
        assert_eq!(first.len(), 1 + "base64:type252:".len() + 76);
        assert_eq!(second, "OTo7\"");
        // Compact JSON escapes the newline.
        assert!(compact(&j).contains("\\nOTo7\""));
    }

    #[test]
    fn doubles_print_like_mysql() {
        assert_eq!(dbl(1.5), "1.5");
        assert_eq!(dbl(2.0), "2.0");
        assert_eq!(dbl(0.0), "0.0");
        assert_eq!(dbl(-0.0), "-0.0");
        assert_eq!(dbl(1e100), "1e100");
        assert_eq!(dbl(-1e100), "-1e100");
        assert_eq!(dbl(1e15), "1e15");
        assert_eq!(dbl(1e14), "100000000000000.0");
        assert_eq!(dbl(123456789012345678.0), "1.2345678901234568e17");
        assert_eq!(dbl(1234567890123456.7), "1234567890123456.8");
        assert_eq!(dbl(0.1), "0.1");
        assert_eq!(dbl(0.0001), "0.0001");
        assert_eq!(dbl(1e-14), "0.00000000000001");
        assert_eq!(dbl(1e-15), "0.000000000000001");
        assert_eq!(dbl(1e-16), "1e-16");
        assert_eq!(dbl(1.5e-20), "1.5e-20");
        assert_eq!(dbl(123.456), "123.456");
        assert_eq!(dbl(f64::MAX), "1.7976931348623157e308");
        assert_eq!(dbl(5e-324), "5e-324");
        assert_eq!(dbl(f64::NAN), "null");
    }

    #[test]
    fn corrupt_documents_are_errors() {
        let good = encode(&obj(&[("a", Json::Array(vec![s("x")]))]), false);
        // Every truncation fails cleanly.
        for n in 1..good.len() {
            assert!(parse_binary(&good[..n]).is_err(), "truncated to {n}");
        }
        // Unknown types and literals.
        assert!(parse_binary(&[0x0d, 0]).is_err());
        assert!(parse_binary(&[0x04, 0x07]).is_err());
        // Size larger than the data.
        assert!(parse_binary(&[0x02, 0x01, 0x00, 0xff, 0x00, 0x04, 0x00, 0x00]).is_err());
        // Value offset pointing into the header.
        assert!(parse_binary(&[0x02, 0x01, 0x00, 0x08, 0x00, 0x0c, 0x01, 0x00]).is_err());
        // Variable length longer than 5 bytes.
        assert!(parse_binary(&[0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
        // Invalid UTF-8 string.
        assert!(parse_binary(&[0x0c, 0x01, 0xff]).is_err());
    }

    #[test]
    fn depth_is_limited() {
        let mut j = Json::Array(vec![]);
        for _ in 0..MAX_DEPTH {
            j = Json::Array(vec![j]);
        }
        assert!(parse_binary(&encode(&j, false)).is_err());
        let mut ok = Json::Array(vec![]);
        for _ in 0..99 {
            ok = Json::Array(vec![ok]);
        }
        assert_eq!(parse_binary(&encode(&ok, false)).unwrap(), ok);
    }

    #[test]
    fn shared_subvalues_cannot_blow_up() {
        // Each level is an array of 2 entries pointing at the same child.
        let mut child: Vec<u8> = vec![0x00, 0x00, 0x04, 0x00]; // empty small array body
        for _ in 0..40 {
            let header = 4 + 2 * 3;
            let mut body = Vec::new();
            body.extend(2u16.to_le_bytes());
            body.extend(((header + child.len()) as u16).to_le_bytes());
            for _ in 0..2 {
                body.push(jt::SMALL_ARRAY);
                body.extend((header as u16).to_le_bytes());
            }
            body.extend(&child);
            child = body;
        }
        let mut doc = vec![jt::SMALL_ARRAY];
        doc.extend(child);
        assert!(parse_binary(&doc).is_err());
    }

    #[test]
    fn paths_parse() {
        assert_eq!(parse_path("$").unwrap(), vec![]);
        assert_eq!(
            parse_path(r#"$.a[1]."x y"[last-2][last].b2"#).unwrap(),
            vec![
                PathLeg::Member("a".into()),
                PathLeg::Cell {
                    index: 1,
                    from_end: false
                },
                PathLeg::Member("x y".into()),
                PathLeg::Cell {
                    index: 2,
                    from_end: true
                },
                PathLeg::Cell {
                    index: 0,
                    from_end: true
                },
                PathLeg::Member("b2".into()),
            ]
        );
        assert_eq!(
            parse_path(r#"$."a\"b\u00e9""#).unwrap(),
            vec![PathLeg::Member("a\"bé".into())]
        );
        assert_eq!(
            parse_path("$.ключ").unwrap(),
            vec![PathLeg::Member("ключ".into())]
        );
        for bad in [
            "",
            "a",
            "$.",
            "$[",
            "$[x]",
            "$[1 to 2]",
            "$.*",
            "$[*]",
            "$**.a",
            "$.\"open",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    fn diff_bytes(op: u8, path: &str, value: Option<&Json>) -> Vec<u8> {
        let mut b = vec![op, path.len() as u8];
        b.extend(path.as_bytes());
        if let Some(v) = value {
            let enc = encode(v, false);
            b.push(enc.len() as u8);
            b.extend(enc);
        }
        b
    }

    #[test]
    fn partial_update_diffs_apply_like_the_server() {
        let mut doc = obj(&[
            ("a", Json::Int(1)),
            (
                "b",
                Json::Array(vec![Json::Int(1), Json::Int(2), Json::Int(3)]),
            ),
            ("long", s("text")),
        ]);
        let mut diffs = Vec::new();
        // JSON_REPLACE(doc, '$.a', "x")
        diffs.extend(diff_bytes(0, "$.a", Some(&s("x"))));
        // JSON_ARRAY_INSERT(doc, '$.b[1]', 9)
        diffs.extend(diff_bytes(1, "$.b[1]", Some(&Json::Int(9))));
        // JSON_REMOVE(doc, '$.b[last]')
        diffs.extend(diff_bytes(2, "$.b[last]", None));
        // JSON_SET(doc, '$.c', true): a new member, kept in MySQL key order.
        diffs.extend(diff_bytes(1, "$.c", Some(&Json::Bool(true))));
        // Insert past the end appends.
        diffs.extend(diff_bytes(1, "$.b[100]", Some(&Json::Null)));
        diffs.extend(diff_bytes(2, "$.long", None));
        apply_json_diffs(&mut doc, &diffs).unwrap();
        assert_eq!(
            mysql(&doc),
            r#"{"a": "x", "b": [1, 9, 2, null], "c": true}"#
        );

        let parsed = parse_json_diffs(&diffs).unwrap();
        assert_eq!(parsed.len(), 6);
        assert_eq!(parsed[1].op, JsonDiffOp::Insert);
        assert_eq!(parsed[1].path, "$.b[1]");
        let mut out = Vec::new();
        write_json_diffs(&mut out, &parsed[..3]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"[{"op":"replace","path":"$.a","value":"x"},{"op":"insert","path":"$.b[1]","value":9},{"op":"remove","path":"$.b[last]"}]"#
        );
    }

    #[test]
    fn rejected_diffs_are_errors() {
        let base = obj(&[("a", Json::Array(vec![Json::Int(1)]))]);
        let cases = [
            diff_bytes(0, "$.missing", Some(&Json::Null)),
            diff_bytes(0, "$.a[5]", Some(&Json::Null)),
            diff_bytes(0, "$", Some(&Json::Null)),
            diff_bytes(1, "$.a", Some(&Json::Null)),
            diff_bytes(1, "$.x.y", Some(&Json::Null)),
            diff_bytes(2, "$.a[1]", None),
            diff_bytes(2, "$.zz", None),
            diff_bytes(2, "$.a.b", None),
            vec![7, 1, b'$'],
            vec![0, 3, b'$', b'.'],
            diff_bytes(0, "$.a", Some(&Json::Null))[..5].to_vec(),
        ];
        for c in cases {
            let mut doc = base.clone();
            assert!(apply_json_diffs(&mut doc, &c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn keys_insert_in_mysql_order() {
        let mut doc = obj(&[("b", Json::Int(1)), ("aa", Json::Int(2))]);
        let diffs = [
            diff_bytes(1, "$.a", Some(&Json::Int(0))),
            diff_bytes(1, "$.ccc", Some(&Json::Int(3))),
        ]
        .concat();
        apply_json_diffs(&mut doc, &diffs).unwrap();
        assert_eq!(mysql(&doc), r#"{"a": 0, "b": 1, "aa": 2, "ccc": 3}"#);
    }
}
