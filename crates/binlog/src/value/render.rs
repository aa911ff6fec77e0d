//! Rendering values as JSON (the product-wide contract in VALUES.md) and as text.
//!
//! Everything writes into a caller-owned `Vec<u8>` so that rendering a row
//! allocates nothing beyond the output buffer (DECIMAL text and JSON
//! documents were already materialised by decoding).

use base64::Engine;

use crate::column::ColumnDef;
use crate::value::charset;
use crate::value::json::write_json_diffs;
use crate::value::Value;

/// Per-byte JSON escape: 0 = copy, b'u' = `\u00XX`, else the escape letter.
static JSON_ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Append `s` as a JSON string literal (quotes included). Escapes `"`, `\`
/// and control characters exactly as MySQL's JSON printer does (`\b \t \n
/// \f \r`, others as `\u00xx`); everything else, including non-ASCII, is
/// copied as UTF-8.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut i = 0;
    loop {
        // Text rarely needs escapes: copy eight bytes at a time (a fixed-size
        // append is one store, no copy call) up to the first one that does.
        while let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let found = escape_mask(u64::from_le_bytes(w));
            if found != 0 {
                let clean = (found.trailing_zeros() / 8) as usize;
                out.extend_from_slice(&w[..clean]);
                i += clean;
                break;
            }
            out.extend_from_slice(&w);
            i += 8;
        }
        // The byte needing an escape, or one of the last seven.
        let Some(&b) = bytes.get(i) else { break };
        match JSON_ESCAPE[b as usize] {
            0 => out.push(b),
            b'u' => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX_LOWER[(b >> 4) as usize],
                HEX_LOWER[(b & 0xf) as usize],
            ]),
            esc => out.extend_from_slice(&[b'\\', esc]),
        }
        i += 1;
    }
    out.push(b'"');
}

/// The high bit of each byte of `w` (little-endian: first byte lowest)
/// that needs a JSON escape: control characters, `"` and `\`. Bits above
/// the lowest one may be spurious; the lowest one is exact, and the mask is
/// zero exactly when no byte needs an escape.
#[inline]
fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte below `n` (n <= 0x80) has its high bit set in `x - n` but not
    // in `x` (a borrow only ever marks bytes above a true one); a byte equal
    // to `c` is a zero byte of `x ^ c`, i.e. below 1.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    below(w, 0x20) | below(w ^ (ONES * b'"' as u64), 1) | below(w ^ (ONES * b'\\' as u64), 1)
}

/// Append standard base64 (with padding) of `bytes`.
fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    let Some(n) = base64::encoded_len(bytes.len(), true) else {
        return;
    };
    out.resize(start + n, 0);
    // The buffer has exactly the encoded length.
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8], digits: &[u8; 16]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(digits[(b >> 4) as usize]);
        out.push(digits[(b & 0xf) as usize]);
    }
}

#[inline]
fn push_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn push_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Canonical UUID text: lower-case 8-4-4-4-12 hex, as MariaDB's SELECT shows.
pub fn write_uuid(out: &mut Vec<u8>, b: &[u8; 16]) {
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX_LOWER[(byte >> 4) as usize]);
        out.push(HEX_LOWER[(byte & 0xf) as usize]);
    }
}

/// Dotted-quad IPv4.
pub fn write_inet4(out: &mut Vec<u8>, b: &[u8; 4]) {
    for (i, byte) in b.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_int(out, *byte);
    }
}

/// IPv6 text as MariaDB's `Inet6::to_string` prints it: lower-case hex
/// groups, the longest run of zero groups (first one on ties, even a single
/// group) as `::`, and IPv4-compatible (`::a.b.c.d`) and IPv4-mapped
/// (`::ffff:a.b.c.d`) addresses with a dotted tail.
pub fn write_inet6(out: &mut Vec<u8>, b: &[u8; 16]) {
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([b[2 * i], b[2 * i + 1]]));
    // Longest zero run.
    let (mut gap_pos, mut gap_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > gap_len {
                gap_pos = start;
                gap_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < 8 {
        if i == gap_pos {
            if i == 0 {
                out.push(b':');
            }
            out.push(b':');
            i += gap_len;
            continue;
        }
        if i == 6 && gap_pos == 0 && (gap_len == 6 || (gap_len == 5 && words[5] == 0xffff)) {
            write_inet4(out, &[b[12], b[13], b[14], b[15]]);
            return;
        }
        let mut buf = [0u8; 4];
        let mut n = 0;
        let w = words[i];
        for shift in [12, 8, 4, 0] {
            let d = (w >> shift) & 0xf;
            if n > 0 || d != 0 || shift == 0 {
                buf[n] = HEX_LOWER[d as usize];
                n += 1;
            }
        }
        out.extend_from_slice(&buf[..n]);
        if i + 1 != 8 {
            out.push(b':');
        }
        i += 1;
    }
}

/// Decoded ENUM label for 1-based `index`; `Some("")` for MySQL's 0 error
/// value; `None` if labels are unknown or the index/label is unusable.
fn enum_label<'c>(col: &'c ColumnDef, index: u16) -> Option<std::borrow::Cow<'c, str>> {
    let labels = col.enum_values.as_ref()?;
    if index == 0 {
        return Some(std::borrow::Cow::Borrowed(""));
    }
    let label = labels.get(index as usize - 1)?;
    charset::decode_str(label, col.charset)
}

/// SET labels joined by ','; `None` if labels are unknown or a set bit has
/// no label.
fn set_labels(col: &ColumnDef, bits: u64) -> Option<String> {
    let labels = col.set_values.as_ref()?;
    if labels.len() < 64 && bits >> labels.len() != 0 {
        return None;
    }
    let mut s = String::new();
    for (i, label) in labels.iter().enumerate().take(64) {
        if bits & (1u64 << i) != 0 {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(&charset::decode_str(label, col.charset)?);
        }
    }
    Some(s)
}

/// Append `v` (a value of column `col`) as JSON, following the product
/// contract in VALUES.md.
pub fn write_json_value(out: &mut Vec<u8>, v: &Value<'_>, col: &ColumnDef) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(i) => push_int(out, *i),
        Value::UInt(u) => push_int(out, *u),
        Value::Float(f) => push_f32(out, *f),
        Value::Double(d) => push_f64(out, *d),
        Value::Decimal(s) => write_json_str(out, s),
        Value::Year(y) => push_int(out, *y),
        Value::Date(d) => {
            out.push(b'"');
            d.write(out);
            out.push(b'"');
        }
        Value::Time(t) => {
            out.push(b'"');
            t.write(out);
            out.push(b'"');
        }
        Value::DateTime(dt) => {
            out.push(b'"');
            dt.write(out);
            out.push(b'"');
        }
        Value::Timestamp(ts) => {
            out.push(b'"');
            ts.write_iso_utc(out);
            out.push(b'"');
        }
        Value::Text(s) => write_json_str(out, s),
        Value::Bytes(b) => {
            out.extend_from_slice(b"{\"base64\":\"");
            push_base64(out, b);
            out.extend_from_slice(b"\"}");
        }
        Value::Bit { bits, .. } => push_int(out, *bits),
        Value::Enum(i) => match enum_label(col, *i) {
            Some(label) => write_json_str(out, &label),
            None => push_int(out, *i),
        },
        Value::Set(bits) => match set_labels(col, *bits) {
            Some(labels) => write_json_str(out, &labels),
            None => push_int(out, *bits),
        },
        Value::Json(doc) => doc.write_json(out),
        Value::JsonDiff(diffs) => write_json_diffs(out, diffs),
        Value::Geometry { srid, wkb } => {
            out.extend_from_slice(b"{\"srid\":");
            push_int(out, *srid);
            out.extend_from_slice(b",\"wkb\":\"");
            push_hex(out, wkb, HEX_LOWER);
            out.extend_from_slice(b"\"}");
        }
        Value::Vector(bytes) => {
            out.push(b'[');
            for (i, c) in bytes.chunks_exact(4).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_f32(out, f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
            out.push(b']');
        }
        Value::Uuid(b) => {
            out.push(b'"');
            write_uuid(out, b);
            out.push(b'"');
        }
        Value::Inet4(b) => {
            out.push(b'"');
            write_inet4(out, b);
            out.push(b'"');
        }
        Value::Inet6(b) => {
            out.push(b'"');
            write_inet6(out, b);
            out.push(b'"');
        }
    }
}

/// `v` rendered as JSON into a new string (convenience for tests and
/// one-off output; hot paths should reuse a buffer with [`write_json_value`]).
pub fn json_value_string(v: &Value<'_>, col: &ColumnDef) -> String {
    let mut out = Vec::new();
    write_json_value(&mut out, v, col);
    String::from_utf8(out).unwrap_or_default()
}

/// Append `s` as a single-quoted SQL string literal, escaping the
/// characters MySQL's string syntax has escapes for.
pub fn write_sql_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'\'');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = match b {
            b'\'' => b'\'',
            b'\\' => b'\\',
            0 => b'0',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x1a => b'Z',
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        out.push(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'\'');
}

fn quoted(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    f(out);
    // Temporal and canonical forms are ASCII without quotes; escape anyway
    // in case a future form is not.
    let written = out.split_off(start);
    write_sql_str(out, std::str::from_utf8(&written).unwrap_or(""));
}

/// Append `v` in `mysqlbinlog -v` style: numbers bare, strings and temporal
/// values single-quoted with escapes, bytes as `X'hex'`, BIT as `b'0101'`.
pub fn write_text_value(out: &mut Vec<u8>, v: &Value<'_>, col: &ColumnDef) {
    match v {
        Value::Null => out.extend_from_slice(b"NULL"),
        Value::Int(i) => push_int(out, *i),
        Value::UInt(u) => push_int(out, *u),
        Value::Float(f) => out.extend_from_slice(ryu::Buffer::new().format(*f).as_bytes()),
        Value::Double(d) => out.extend_from_slice(ryu::Buffer::new().format(*d).as_bytes()),
        Value::Decimal(s) => out.extend_from_slice(s.as_bytes()),
        Value::Year(y) => crate::value::temporal::push_padded(out, *y as u64, 4),
        Value::Date(d) => quoted(out, |o| d.write(o)),
        Value::Time(t) => quoted(out, |o| t.write(o)),
        Value::DateTime(dt) => quoted(out, |o| dt.write(o)),
        Value::Timestamp(ts) => quoted(out, |o| ts.write_utc(o)),
        Value::Text(s) => write_sql_str(out, s),
        Value::Bytes(b) => {
            out.extend_from_slice(b"X'");
            push_hex(out, b, HEX_UPPER);
            out.push(b'\'');
        }
        Value::Bit { bits, width } => {
            out.extend_from_slice(b"b'");
            for i in (0..(*width).min(64)).rev() {
                out.push(if (bits >> i) & 1 == 1 { b'1' } else { b'0' });
            }
            out.push(b'\'');
        }
        Value::Enum(i) => match enum_label(col, *i) {
            Some(label) => write_sql_str(out, &label),
            None => push_int(out, *i),
        },
        Value::Set(bits) => match set_labels(col, *bits) {
            Some(labels) => write_sql_str(out, &labels),
            None => push_int(out, *bits),
        },
        Value::Json(doc) => write_sql_str(out, &doc.to_mysql_string()),
        Value::JsonDiff(diffs) => quoted(out, |o| write_json_diffs(o, diffs)),
        Value::Geometry { srid, wkb } => {
            out.extend_from_slice(b"X'");
            push_hex(out, &srid.to_le_bytes(), HEX_UPPER);
            push_hex(out, wkb, HEX_UPPER);
            out.push(b'\'');
        }
        Value::Vector(_) => quoted(out, |o| write_json_value(o, v, col)),
        Value::Uuid(b) => quoted(out, |o| write_uuid(o, b)),
        Value::Inet4(b) => quoted(out, |o| write_inet4(o, b)),
        Value::Inet6(b) => quoted(out, |o| write_inet6(o, b)),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::column::column_type as ct;
    use crate::value::json::Json;
    use crate::value::temporal::{Date, DateTime, Time, Timestamp};

    fn col() -> ColumnDef {
        ColumnDef::new(ct::LONG, 0)
    }

    fn json(v: &Value<'_>) -> String {
        json_value_string(v, &col())
    }

    fn text(v: &Value<'_>, c: &ColumnDef) -> String {
        let mut out = Vec::new();
        write_text_value(&mut out, v, c);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_strings_escape_like_mysql() {
        let mut out = Vec::new();
        write_json_str(&mut out, "a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}é😀\u{7f}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\t\r\b\f\u0001\u001fé😀"#.to_string() + "\u{7f}\""
        );
    }

    /// Byte-at-a-time reference for `write_json_str`.
    fn json_str_reference(s: &str) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &b in s.as_bytes() {
            match JSON_ESCAPE[b as usize] {
                0 => out.push(b),
                b'u' => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                esc => out.extend_from_slice(&[b'\\', esc]),
            }
        }
        out.push(b'"');
        out
    }

    #[test]
    fn json_string_word_scan_finds_escapes_at_every_offset() {
        // Every escapable byte and some near misses (space, DEL, UTF-8
        // bytes, `#`/`[` next to `"`/`\\`) at every position of strings
        // that span zero to three 8-byte words.
        let specials = [
            "\"", "\\", "\n", "\u{0}", "\u{1f}", " ", "!", "#", "[", "]", "\u{7f}", "é", "😀",
        ];
        for len in 0..26 {
            for pos in 0..len.max(1) {
                for sp in specials {
                    let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    if pos < s.len() {
                        s.replace_range(pos..pos + 1, sp);
                    }
                    let mut out = Vec::new();
                    write_json_str(&mut out, &s);
                    assert_eq!(out, json_str_reference(&s), "{s:?}");
                }
            }
        }
        let dense = "\"\\\n\u{1}x\"\"\\\u{1f}\u{1f} é\"".repeat(3);
        let mut out = Vec::new();
        write_json_str(&mut out, &dense);
        assert_eq!(out, json_str_reference(&dense));
    }

    #[test]
    fn numbers() {
        assert_eq!(json(&Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(json(&Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(json(&Value::Float(1.1)), "1.1");
        assert_eq!(json(&Value::Float(3.0)), "3.0");
        assert_eq!(json(&Value::Double(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(json(&Value::Double(1e100)), "1e100");
        assert_eq!(json(&Value::Double(f64::NAN)), "null");
        assert_eq!(json(&Value::Decimal("-10.5500".into())), "\"-10.5500\"");
        assert_eq!(json(&Value::Year(2024)), "2024");
        assert_eq!(json(&Value::Year(0)), "0");
        assert_eq!(json(&Value::Bit { bits: 5, width: 3 }), "5");
    }

    #[test]
    fn temporal() {
        let d = Date {
            year: 2024,
            month: 2,
            day: 29,
        };
        assert_eq!(json(&Value::Date(d)), "\"2024-02-29\"");
        let t = Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 500_000,
            fsp: 2,
        };
        assert_eq!(json(&Value::Time(t)), "\"-838:59:59.50\"");
        let dt = DateTime {
            year: 0,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
            fsp: 0,
        };
        assert_eq!(json(&Value::DateTime(dt)), "\"0000-00-00 00:00:00\"");
        let ts = Timestamp {
            seconds: 1_700_000_000,
            micros: 123_456,
            fsp: 3,
        };
        assert_eq!(json(&Value::Timestamp(ts)), "\"2023-11-14T22:13:20.123Z\"");
        let zero = Timestamp {
            seconds: 0,
            micros: 0,
            fsp: 0,
        };
        assert_eq!(json(&Value::Timestamp(zero)), "\"0000-00-00 00:00:00\"");
        assert_eq!(
            text(&Value::Timestamp(ts), &col()),
            "'2023-11-14 22:13:20.123'"
        );
        assert_eq!(text(&Value::Time(t), &col()), "'-838:59:59.50'");
    }

    #[test]
    fn strings_and_bytes() {
        assert_eq!(
            json(&Value::Text(Cow::Borrowed("中文 \"q\""))),
            r#""中文 \"q\"""#
        );
        assert_eq!(
            json(&Value::Bytes(Cow::Borrowed(&[0, 0xff, 0x10]))),
            r#"{"base64":"AP8Q"}"#
        );
        assert_eq!(json(&Value::Bytes(Cow::Borrowed(&[]))), r#"{"base64":""}"#);
        assert_eq!(
            text(&Value::Text(Cow::Borrowed("it's\\\n\0")), &col()),
            r"'it\'s\\\n\0'"
        );
        assert_eq!(
            text(&Value::Bytes(Cow::Borrowed(&[0xde, 0xad])), &col()),
            "X'DEAD'"
        );
    }

    #[test]
    fn enum_and_set_with_and_without_labels() {
        let mut c = ColumnDef::new(ct::STRING, (ct::ENUM as u16) << 8 | 1);
        assert_eq!(json_value_string(&Value::Enum(2), &c), "2");
        c.enum_values = Some(vec![b"small".to_vec(), b"large".to_vec()]);
        assert_eq!(json_value_string(&Value::Enum(2), &c), "\"large\"");
        assert_eq!(json_value_string(&Value::Enum(0), &c), "\"\"");
        assert_eq!(json_value_string(&Value::Enum(3), &c), "3");
        assert_eq!(text(&Value::Enum(1), &c), "'small'");

        let mut s = ColumnDef::new(ct::STRING, (ct::SET as u16) << 8 | 1);
        assert_eq!(json_value_string(&Value::Set(0b101), &s), "5");
        s.set_values = Some(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(json_value_string(&Value::Set(0b101), &s), "\"a,c\"");
        assert_eq!(json_value_string(&Value::Set(0), &s), "\"\"");
        assert_eq!(json_value_string(&Value::Set(0b1000), &s), "8");
        // Labels in latin1.
        s.charset = Some(8);
        s.set_values = Some(vec![vec![b'c', b'a', b'f', 0xe9]]);
        assert_eq!(json_value_string(&Value::Set(1), &s), "\"café\"");
    }

    #[test]
    fn json_geometry_vector() {
        let doc = Json::Object(vec![(
            "a".into(),
            Json::Array(vec![Json::UInt(u64::MAX), Json::Double(2.0)]),
        )]);
        assert_eq!(
            json(&Value::Json(doc.clone())),
            r#"{"a":[18446744073709551615,2.0]}"#
        );
        assert_eq!(
            text(&Value::Json(doc), &col()),
            r#"'{"a": [18446744073709551615, 2.0]}'"#
        );
        let g = Value::Geometry {
            srid: 4326,
            wkb: Cow::Borrowed(&[1, 1, 0, 0, 0]),
        };
        assert_eq!(json(&g), r#"{"srid":4326,"wkb":"0101000000"}"#);
        assert_eq!(text(&g, &col()), "X'E61000000101000000'");
        // float32 [1.1, 2.2, 3.3] as MySQL 9 stores it.
        let v = Value::Vector(Cow::Borrowed(&[
            0xcd, 0xcc, 0x8c, 0x3f, 0xcd, 0xcc, 0x0c, 0x40, 0x33, 0x33, 0x53, 0x40,
        ]));
        assert_eq!(json(&v), "[1.1,2.2,3.3]");
        assert_eq!(text(&v, &col()), "'[1.1,2.2,3.3]'");
    }

    #[test]
    fn uuid_and_inet() {
        let u = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x00,
        ];
        assert_eq!(
            json(&Value::Uuid(u)),
            "\"123e4567-e89b-12d3-a456-426614174000\""
        );
        assert_eq!(json(&Value::Inet4([192, 168, 0, 1])), "\"192.168.0.1\"");
        let v6 = |s: [u16; 8]| {
            let mut b = [0u8; 16];
            for (i, w) in s.iter().enumerate() {
                b[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
            }
            let mut out = Vec::new();
            write_inet6(&mut out, &b);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(v6([0; 8]), "::");
        assert_eq!(v6([0, 0, 0, 0, 0, 0, 0, 1]), "::1");
        assert_eq!(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), "2001:db8::1");
        assert_eq!(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), "2001:db8:0:1::1");
        assert_eq!(v6([1, 0, 2, 0, 0, 3, 0, 0]), "1:0:2::3:0:0");
        assert_eq!(v6([1, 2, 3, 4, 5, 6, 7, 0]), "1:2:3:4:5:6:7::");
        assert_eq!(v6([1, 0, 2, 3, 4, 5, 6, 7]), "1::2:3:4:5:6:7");
        assert_eq!(
            v6([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]),
            "::ffff:192.0.2.128"
        );
        assert_eq!(v6([0, 0, 0, 0, 0, 0, 0xc000, 0x0280]), "::192.0.2.128");
        assert_eq!(
            v6([0xfe80, 0, 0, 0, 0xabcd, 0x12, 0x3400, 0xff]),
            "fe80::abcd:12:3400:ff"
        );
    }

    #[test]
    fn bit_text_form() {
        assert_eq!(
            text(
                &Value::Bit {
                    bits: 0b100,
                    width: 3
                },
                &col()
            ),
            "b'100'"
        );
        assert_eq!(
            text(&Value::Bit { bits: 1, width: 10 }, &col()),
            "b'0000000001'"
        );
    }
}
