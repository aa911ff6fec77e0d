//! Decoding one column value from a row image.
//!
//! `ColumnDef::meta` holds the TABLE_MAP type metadata (see column.rs):
//!
//! | type | table-map bytes | `meta` |
//! |---|---|---|
//! | FLOAT, DOUBLE | 1: size | 4 / 8 (unused) |
//! | TIME2, DATETIME2, TIMESTAMP2 | 1: fsp | 0..=6 |
//! | BLOB, GEOMETRY, JSON, VECTOR, MariaDB BLOB_COMPRESSED (140) | 1: length-prefix bytes | 1..=4 |
//! | VARCHAR, VAR_STRING, MariaDB VARCHAR_COMPRESSED (141) | 2: max byte length, LE | max length; prefix is 2 bytes when > 255 |
//! | BIT | 2: [bits % 8, bytes] | `bytes << 8 \| bits`; width = bytes * 8 + bits |
//! | NEWDECIMAL | 2: [precision, scale] | `precision << 8 \| scale` |
//! | STRING (CHAR, BINARY, ENUM, SET) | 2: [byte0, byte1] | `byte0 << 8 \| byte1` (below) |
//! | ENUM, SET (if logged as themselves) | 2: [type, pack length] | `type << 8 \| pack length` |
//! | old DECIMAL (0) | none | byte length of the ASCII value, schema-supplied only |
//! | everything else | none | 0 |
//!
//! STRING: when `byte0 & 0x30 == 0x30`, byte0 is the real type (STRING,
//! ENUM or SET) and byte1 the max byte length (STRING) or pack length
//! (ENUM: 1-2, SET: 1-8). Otherwise it is a CHAR longer than 255 bytes whose
//! length high bits are folded into byte0: max length =
//! `((byte0 & 0x30) ^ 0x30) << 4 | byte1`. A STRING `meta` below 256 (no
//! real type) is taken as the max length itself, as mysqlbinlog does.

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::column::{column_type as ct, ColumnDef, LogicalType, BINARY_CHARSET};
use crate::error::BodyError;
use crate::value::charset::{decode_text, is_usual_utf8, utf8};
use crate::value::{decimal, json, temporal, Value};

/// MariaDB-only type codes, used for columns with the COMPRESSED attribute.
pub mod mariadb_type {
    /// BLOB/TEXT COMPRESSED; metadata as BLOB.
    pub const BLOB_COMPRESSED: u8 = 140;
    /// VARCHAR COMPRESSED; metadata as VARCHAR.
    pub const VARCHAR_COMPRESSED: u8 = 141;
}

fn invalid(msg: String) -> BodyError {
    BodyError::Invalid(msg)
}

/// Decode one non-NULL value of column `col`, advancing `r` past it.
pub fn decode_value<'a>(col: &ColumnDef, r: &mut ByteReader<'a>) -> Result<Value<'a>, BodyError> {
    decode_any(col, r)
}

/// [`decode_value`] straight into an image slot (the old value is
/// dropped), for the row loop.
///
/// Each common type is stored into the slot by its own arm. Returning a
/// `Value` through memory and copying it on, as a call to `decode_value`
/// does, made the row loop wait on a store-forwarding stall per value
/// (the copy reloads in 16-byte pieces what was stored field by field),
/// the largest single cost of `stats` on short rows. The arms build the
/// same values as [`decode_any`], which has every type.
#[inline]
pub(crate) fn decode_into<'a>(
    col: &ColumnDef,
    r: &mut ByteReader<'a>,
    slot: &mut Option<Value<'a>>,
) -> Result<(), BodyError> {
    if col.logical.is_some() {
        put_some(slot, decode_any(col, r)?);
        return Ok(());
    }
    let meta = col.meta;
    let unsigned = col.unsigned;
    match col.type_code {
        ct::TINY if unsigned => put_some(slot, Value::UInt(r.u8()? as u64)),
        ct::TINY => put_some(slot, Value::Int(r.i8()? as i64)),
        ct::SHORT if unsigned => put_some(slot, Value::UInt(r.u16()? as u64)),
        ct::SHORT => put_some(slot, Value::Int(r.i16()? as i64)),
        ct::INT24 if unsigned => put_some(slot, Value::UInt(r.u24()? as u64)),
        ct::INT24 => put_some(slot, Value::Int((((r.u24()? << 8) as i32) >> 8) as i64)),
        ct::LONG if unsigned => put_some(slot, Value::UInt(r.u32()? as u64)),
        ct::LONG => put_some(slot, Value::Int(r.i32()? as i64)),
        ct::LONGLONG if unsigned => put_some(slot, Value::UInt(r.u64()?)),
        ct::LONGLONG => put_some(slot, Value::Int(r.i64()?)),
        ct::NEWDECIMAL => {
            let text = decimal::decode_decimal(r, (meta >> 8) as u8, meta as u8)?;
            put_some(slot, Value::Decimal(text));
        }
        ct::DATETIME2 => {
            let dt = temporal::read_datetime2(r, meta)?;
            put_some(slot, Value::DateTime(dt));
        }
        ct::TIMESTAMP2 => {
            let ts = temporal::read_timestamp2(r, meta)?;
            put_some(slot, Value::Timestamp(ts));
        }
        ct::DATE | ct::NEWDATE => {
            let d = temporal::read_date(r)?;
            put_some(slot, Value::Date(d));
        }
        ct::VARCHAR | ct::VAR_STRING => put_text(slot, read_var_bytes(meta, r)?, col.charset),
        ct::BLOB | ct::TINY_BLOB | ct::MEDIUM_BLOB | ct::LONG_BLOB => {
            put_text(slot, read_blob(col, r)?, col.charset)
        }
        ct::STRING | ct::ENUM | ct::SET if col.charset != Some(BINARY_CHARSET) => {
            // As decode_string_family, but storing in place.
            let (real, len_param) = string_real_type(col);
            match (real, len_param) {
                (ct::ENUM, 1) => put_some(slot, Value::Enum(r.u8()? as u16)),
                (ct::ENUM, 2) => put_some(slot, Value::Enum(r.u16()?)),
                (ct::SET, 1..=8) => put_some(slot, Value::Set(r.uint_n(len_param as usize)?)),
                (ct::ENUM | ct::SET, _) => put_some(slot, decode_string_family(col, r)?),
                _ => put_text(slot, read_var_bytes(len_param, r)?, col.charset),
            }
        }
        _ => put_some(slot, decode_any(col, r)?),
    }
    Ok(())
}

/// Store `value` in an image slot.
///
/// The old value is usually one that owns nothing (a number, or text
/// borrowed from the event): it is then overwritten without running
/// `Value`'s drop glue, an out-of-line call per value that cost about 6 %
/// of `stats`. Values that own memory are dropped as usual.
#[inline(always)]
pub(crate) fn put<'a>(slot: &mut Option<Value<'a>>, value: Option<Value<'a>>) {
    let old = std::mem::replace(slot, value);
    if owns_nothing(&old) {
        std::mem::forget(old);
    }
}

#[inline(always)]
fn put_some<'a>(slot: &mut Option<Value<'a>>, value: Value<'a>) {
    put(slot, Some(value))
}

/// True when dropping `v` would free nothing.
#[inline(always)]
pub(crate) fn owns_nothing(v: &Option<Value<'_>>) -> bool {
    match v {
        None => true,
        Some(Value::Text(t)) => matches!(t, Cow::Borrowed(_)),
        Some(Value::Bytes(b)) => matches!(b, Cow::Borrowed(_)),
        Some(Value::Decimal(d)) => !d.is_heap_allocated(),
        Some(Value::Json(_) | Value::JsonDiff(_) | Value::Geometry { .. } | Value::Vector(_)) => {
            false
        }
        Some(_) => true,
    }
}

/// `decode_text` into a slot; the usual UTF-8 case stored in place.
#[inline(always)]
fn put_text<'a>(slot: &mut Option<Value<'a>>, bytes: &'a [u8], charset: Option<u16>) {
    if charset.is_some_and(is_usual_utf8) {
        match utf8(bytes) {
            Some(text) => put_some(slot, Value::Text(Cow::Borrowed(text))),
            None => put_some(slot, Value::Bytes(Cow::Borrowed(bytes))),
        }
    } else {
        put_some(slot, decode_text(bytes, charset));
    }
}

/// [`decode_value`] for every column type.
fn decode_any<'a>(col: &ColumnDef, r: &mut ByteReader<'a>) -> Result<Value<'a>, BodyError> {
    if let Some(logical) = col.logical {
        return decode_logical(col, logical, r);
    }
    let meta = col.meta;
    let unsigned = col.unsigned;
    Ok(match col.type_code {
        ct::TINY if unsigned => Value::UInt(r.u8()? as u64),
        ct::TINY => Value::Int(r.i8()? as i64),
        ct::SHORT if unsigned => Value::UInt(r.u16()? as u64),
        ct::SHORT => Value::Int(r.i16()? as i64),
        ct::INT24 if unsigned => Value::UInt(r.u24()? as u64),
        ct::INT24 => Value::Int((((r.u24()? << 8) as i32) >> 8) as i64),
        ct::LONG if unsigned => Value::UInt(r.u32()? as u64),
        ct::LONG => Value::Int(r.i32()? as i64),
        ct::LONGLONG if unsigned => Value::UInt(r.u64()?),
        ct::LONGLONG => Value::Int(r.i64()?),
        ct::FLOAT => Value::Float(r.f32()?),
        ct::DOUBLE => Value::Double(r.f64()?),
        ct::NEWDECIMAL => {
            Value::Decimal(decimal::decode_decimal(r, (meta >> 8) as u8, meta as u8)?)
        }
        ct::DECIMAL => {
            if meta == 0 {
                return Err(invalid(
                    "old DECIMAL (before MySQL 5.0.3) has no length in the binlog; supply it as the column's meta".into(),
                ));
            }
            Value::Decimal(decimal::decode_old_decimal(r.take(meta as usize)?)?)
        }
        ct::YEAR => match r.u8()? {
            0 => Value::Year(0),
            y => Value::Year(1900 + y as u16),
        },
        ct::DATE | ct::NEWDATE => Value::Date(temporal::read_date(r)?),
        ct::TIME => Value::Time(temporal::read_time_old(r)?),
        ct::TIME2 => Value::Time(temporal::read_time2(r, meta)?),
        ct::DATETIME => Value::DateTime(temporal::read_datetime_old(r)?),
        ct::DATETIME2 => Value::DateTime(temporal::read_datetime2(r, meta)?),
        ct::TIMESTAMP => Value::Timestamp(temporal::read_timestamp_old(r)?),
        ct::TIMESTAMP2 => Value::Timestamp(temporal::read_timestamp2(r, meta)?),
        ct::VARCHAR | ct::VAR_STRING => decode_text(read_var_bytes(meta, r)?, col.charset),
        ct::STRING | ct::ENUM | ct::SET => decode_string_family(col, r)?,
        ct::BLOB | ct::TINY_BLOB | ct::MEDIUM_BLOB | ct::LONG_BLOB => {
            decode_text(read_blob(col, r)?, col.charset)
        }
        ct::BIT => decode_bit(meta, r)?,
        ct::JSON => Value::Json(json::parse_binary(read_blob(col, r)?)?),
        ct::GEOMETRY => {
            let b = read_blob(col, r)?;
            match b {
                [s0, s1, s2, s3, wkb @ ..] => Value::Geometry {
                    srid: u32::from_le_bytes([*s0, *s1, *s2, *s3]),
                    wkb: Cow::Borrowed(wkb),
                },
                _ => Value::Bytes(Cow::Borrowed(b)),
            }
        }
        ct::VECTOR => {
            let b = read_blob(col, r)?;
            if b.len() % 4 == 0 {
                Value::Vector(Cow::Borrowed(b))
            } else {
                Value::Bytes(Cow::Borrowed(b))
            }
        }
        ct::NULL => Value::Null,
        mariadb_type::BLOB_COMPRESSED => mariadb_compressed(read_blob(col, r)?, col.charset)?,
        mariadb_type::VARCHAR_COMPRESSED => {
            mariadb_compressed(read_var_bytes(meta, r)?, col.charset)?
        }
        other => {
            return Err(invalid(format!(
                "cannot decode column type {other} ({}) in a row image",
                ct::name(other)
            )))
        }
    })
}

/// Decode the after-image value of a JSON column that a PARTIAL_UPDATE_ROWS
/// event marks as partial: a 4-byte length and the diff list.
pub fn decode_json_diff<'a>(
    col: &ColumnDef,
    r: &mut ByteReader<'a>,
) -> Result<Value<'a>, BodyError> {
    let bytes = read_blob(col, r)?;
    Ok(Value::JsonDiff(json::parse_json_diffs(bytes)?))
}

/// VARCHAR-style bytes: 1-byte length when the max length fits a byte, else 2.
/// (Always inline: a call per VARCHAR value showed when left to the compiler.)
#[inline(always)]
fn read_var_bytes<'a>(max_len: u16, r: &mut ByteReader<'a>) -> Result<&'a [u8], BodyError> {
    let len = if max_len > 255 {
        r.u16()? as usize
    } else {
        r.u8()? as usize
    };
    r.take(len)
}

/// BLOB-style bytes: a 1-4 byte length (from meta, or implied by the type).
#[inline]
fn read_blob<'a>(col: &ColumnDef, r: &mut ByteReader<'a>) -> Result<&'a [u8], BodyError> {
    let width = match (col.meta, col.type_code) {
        (1..=4, _) => col.meta as usize,
        (0, ct::TINY_BLOB) => 1,
        (0, ct::MEDIUM_BLOB) => 3,
        (0, ct::LONG_BLOB | ct::JSON | ct::GEOMETRY | ct::VECTOR) => 4,
        (m, t) => {
            return Err(invalid(format!(
                "{} column has invalid length-prefix size {m}",
                ct::name(t)
            )))
        }
    };
    let len = r.uint_n(width)?;
    let len = usize::try_from(len).map_err(|_| invalid(format!("value length {len} too large")))?;
    r.take(len)
}

/// The real type and its length parameter of a STRING/ENUM/SET column: max
/// byte length for STRING, pack length for ENUM and SET.
fn string_real_type(col: &ColumnDef) -> (u8, u16) {
    let meta = col.meta;
    if col.type_code != ct::STRING {
        return (col.type_code, meta & 0xff);
    }
    if meta < 256 {
        return (ct::STRING, meta);
    }
    let byte0 = (meta >> 8) as u8;
    let byte1 = meta & 0xff;
    if byte0 & 0x30 != 0x30 {
        // CHAR over 255 bytes: length bits 8-9 live (inverted) in byte0.
        (ct::STRING, ((((byte0 & 0x30) ^ 0x30) as u16) << 4) | byte1)
    } else {
        (byte0, byte1)
    }
}

fn decode_string_family<'a>(
    col: &ColumnDef,
    r: &mut ByteReader<'a>,
) -> Result<Value<'a>, BodyError> {
    let (real, len_param) = string_real_type(col);
    match real {
        ct::ENUM => match len_param {
            1 => Ok(Value::Enum(r.u8()? as u16)),
            2 => Ok(Value::Enum(r.u16()?)),
            n => Err(invalid(format!("ENUM with pack length {n}"))),
        },
        ct::SET => match len_param {
            1..=8 => Ok(Value::Set(r.uint_n(len_param as usize)?)),
            n => Err(invalid(format!("SET with pack length {n}"))),
        },
        _ => {
            let bytes = read_var_bytes(len_param, r)?;
            if col.charset == Some(BINARY_CHARSET) {
                // BINARY(N) is logged without its trailing zero bytes; the
                // column value (what SELECT returns) has them.
                let n = len_param as usize;
                if bytes.len() < n {
                    let mut padded = Vec::with_capacity(n);
                    padded.extend_from_slice(bytes);
                    padded.resize(n, 0);
                    return Ok(Value::Bytes(Cow::Owned(padded)));
                }
                return Ok(Value::Bytes(Cow::Borrowed(bytes)));
            }
            Ok(decode_text(bytes, col.charset))
        }
    }
}

fn decode_bit<'a>(meta: u16, r: &mut ByteReader<'a>) -> Result<Value<'a>, BodyError> {
    let whole_bytes = meta >> 8;
    let extra_bits = meta & 0xff;
    let width = whole_bytes * 8 + extra_bits;
    if extra_bits > 7 || width > 64 {
        return Err(invalid(format!(
            "BIT metadata {meta:#06x} describes more than 64 bits"
        )));
    }
    let n = (width as usize).div_ceil(8);
    let bits = r
        .take(n)?
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | b as u64);
    Ok(Value::Bit { bits, width })
}

/// MariaDB compressed column payload: empty, or a header byte (0 = stored
/// uncompressed, 0x80 | … = zlib) and the data. zlib payloads are returned
/// as bytes (still compressed): inflating needs a zlib implementation.
/// MariaDB `COMPRESSED` columns: one header byte, then either the raw value
/// (header 0) or, with bit 7 set, the original length in `header & 7`
/// big-endian bytes followed by a deflate stream (raw deflate when bit 3 is
/// set, zlib-wrapped otherwise).
fn mariadb_compressed(payload: &[u8], charset: Option<u16>) -> Result<Value<'_>, BodyError> {
    let Some((&header, rest)) = payload.split_first() else {
        return Ok(decode_text(payload, charset));
    };
    if header & 0x80 == 0 {
        return Ok(decode_text(rest, charset));
    }
    let len_bytes = (header & 7) as usize;
    let mut r = ByteReader::new(rest);
    let len_be = r.take(len_bytes)?;
    let original = len_be
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    // A column value is at most 4 GiB; refuse absurd sizes before allocating.
    if original > u32::MAX as usize {
        return Err(invalid(format!(
            "compressed column claims {original} bytes"
        )));
    }
    let mut out = Vec::with_capacity(original.min(1 << 20));
    let mut z = flate2::Decompress::new(header & 8 == 0);
    let input = r.rest();
    loop {
        out.reserve((original - out.len()).clamp(1, 1 << 20));
        let before = z.total_in() as usize;
        let status = z
            .decompress_vec(
                &input[before.min(input.len())..],
                &mut out,
                flate2::FlushDecompress::Finish,
            )
            .map_err(|e| invalid(format!("compressed column: {e}")))?;
        if out.len() > original {
            return Err(invalid(
                "compressed column inflates past its stated length".into(),
            ));
        }
        match status {
            flate2::Status::StreamEnd => break,
            _ if z.total_in() as usize == before && out.len() < out.capacity() => {
                return Err(invalid("compressed column stream is truncated".into()))
            }
            _ => {}
        }
    }
    if out.len() != original {
        return Err(invalid(format!(
            "compressed column inflated to {} bytes, header says {original}",
            out.len()
        )));
    }
    Ok(match decode_text(&out, charset) {
        Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
        _ => Value::Bytes(Cow::Owned(out)),
    })
}

/// MariaDB UUID/INET4/INET6 travel as BINARY(N) (STRING with the binary
/// charset): the binlog holds the canonical byte order (UUID's swapped
/// in-record order is undone before logging) with trailing zero bytes
/// trimmed.
fn decode_logical<'a>(
    col: &ColumnDef,
    logical: LogicalType,
    r: &mut ByteReader<'a>,
) -> Result<Value<'a>, BodyError> {
    let raw = match col.type_code {
        ct::STRING => read_var_bytes(string_real_type(col).1, r)?,
        ct::VARCHAR | ct::VAR_STRING => read_var_bytes(col.meta, r)?,
        ct::BLOB | ct::TINY_BLOB | ct::MEDIUM_BLOB | ct::LONG_BLOB => read_blob(col, r)?,
        other => {
            return Err(invalid(format!(
                "{logical:?} column logged as {} cannot be decoded",
                ct::name(other)
            )))
        }
    };
    let size = match logical {
        LogicalType::Uuid | LogicalType::Inet6 => 16,
        LogicalType::Inet4 => 4,
    };
    if raw.len() > size {
        return Err(invalid(format!(
            "{logical:?} value has {} bytes, expected {size}",
            raw.len()
        )));
    }
    let mut b = [0u8; 16];
    b[..raw.len()].copy_from_slice(raw);
    Ok(match logical {
        LogicalType::Uuid => Value::Uuid(b),
        LogicalType::Inet6 => Value::Inet6(b),
        LogicalType::Inet4 => Value::Inet4([b[0], b[1], b[2], b[3]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json::Json;
    use crate::value::render::json_value_string;

    fn col(t: u8, meta: u16) -> ColumnDef {
        ColumnDef::new(t, meta)
    }

    fn unsigned(t: u8) -> ColumnDef {
        ColumnDef {
            unsigned: true,
            ..col(t, 0)
        }
    }

    fn with_cs(t: u8, meta: u16, cs: u16) -> ColumnDef {
        ColumnDef {
            charset: Some(cs),
            ..col(t, meta)
        }
    }

    /// Decode exactly `bytes` (all of them must be consumed).
    fn dec<'a>(c: &ColumnDef, bytes: &'a [u8]) -> Value<'a> {
        let mut r = ByteReader::new(bytes);
        let v = decode_value(c, &mut r).unwrap();
        assert!(r.is_empty(), "{} bytes left after {v:?}", r.remaining());
        v
    }

    fn err(c: &ColumnDef, bytes: &[u8]) -> BodyError {
        decode_value(c, &mut ByteReader::new(bytes)).unwrap_err()
    }

    fn json(c: &ColumnDef, bytes: &[u8]) -> String {
        json_value_string(&dec(c, bytes), c)
    }

    #[test]
    fn integer_limits_signed_and_unsigned() {
        assert_eq!(dec(&col(ct::TINY, 0), &[0x80]), Value::Int(-128));
        assert_eq!(dec(&col(ct::TINY, 0), &[0x7f]), Value::Int(127));
        assert_eq!(dec(&unsigned(ct::TINY), &[0xff]), Value::UInt(255));
        assert_eq!(dec(&col(ct::SHORT, 0), &[0x00, 0x80]), Value::Int(-32768));
        assert_eq!(dec(&col(ct::SHORT, 0), &[0xff, 0x7f]), Value::Int(32767));
        assert_eq!(dec(&unsigned(ct::SHORT), &[0xff, 0xff]), Value::UInt(65535));
        assert_eq!(
            dec(&col(ct::INT24, 0), &[0x00, 0x00, 0x80]),
            Value::Int(-8_388_608)
        );
        assert_eq!(
            dec(&col(ct::INT24, 0), &[0xff, 0xff, 0x7f]),
            Value::Int(8_388_607)
        );
        assert_eq!(dec(&col(ct::INT24, 0), &[0xff, 0xff, 0xff]), Value::Int(-1));
        assert_eq!(
            dec(&unsigned(ct::INT24), &[0xff, 0xff, 0xff]),
            Value::UInt(16_777_215)
        );
        assert_eq!(
            dec(&col(ct::LONG, 0), &[0, 0, 0, 0x80]),
            Value::Int(i32::MIN as i64)
        );
        assert_eq!(
            dec(&col(ct::LONG, 0), &[0xff, 0xff, 0xff, 0x7f]),
            Value::Int(i32::MAX as i64)
        );
        assert_eq!(
            dec(&unsigned(ct::LONG), &[0xd3, 0xf9, 0x88, 0xc0]),
            Value::UInt(3_230_202_323)
        );
        assert_eq!(
            dec(&unsigned(ct::LONG), &[0xff; 4]),
            Value::UInt(u32::MAX as u64)
        );
        assert_eq!(
            dec(&col(ct::LONGLONG, 0), &[0, 0, 0, 0, 0, 0, 0, 0x80]),
            Value::Int(i64::MIN)
        );
        assert_eq!(dec(&col(ct::LONGLONG, 0), &[0xff; 8]), Value::Int(-1));
        assert_eq!(
            dec(&unsigned(ct::LONGLONG), &[0xff; 8]),
            Value::UInt(u64::MAX)
        );
        assert_eq!(
            json(&unsigned(ct::LONGLONG), &[0xff; 8]),
            "18446744073709551615"
        );
    }

    #[test]
    fn floats() {
        assert_eq!(json(&col(ct::FLOAT, 4), &1.1f32.to_le_bytes()), "1.1");
        assert_eq!(
            json(&col(ct::DOUBLE, 8), &(-2.5e-300f64).to_le_bytes()),
            "-2.5e-300"
        );
        assert!(matches!(
            err(&col(ct::DOUBLE, 8), &[0; 7]),
            BodyError::Short { .. }
        ));
    }

    #[test]
    fn decimal_uses_precision_and_scale_from_meta() {
        // DECIMAL(10,4): 6 integer digits (3 bytes), 4 fraction digits (2 bytes);
        // 10.5500 = 80 00 0A | 15 7C, and -10.5500 the same inverted.
        let c = col(ct::NEWDECIMAL, 10 << 8 | 4);
        let pos = [0x80, 0x00, 0x0A, 0x15, 0x7C];
        assert_eq!(dec(&c, &pos), Value::Decimal("10.5500".into()));
        let neg: Vec<u8> = pos.iter().map(|b| b ^ 0xff).collect();
        assert_eq!(json(&c, &neg), "\"-10.5500\"");
    }

    #[test]
    fn old_decimal_needs_a_length() {
        assert!(err(&col(ct::DECIMAL, 0), b"1.5")
            .to_string()
            .contains("old DECIMAL"));
        assert_eq!(
            dec(&col(ct::DECIMAL, 6), b"  -1.5"),
            Value::Decimal("-1.5".into())
        );
    }

    #[test]
    fn year_and_dates() {
        assert_eq!(dec(&col(ct::YEAR, 0), &[0]), Value::Year(0));
        assert_eq!(dec(&col(ct::YEAR, 0), &[124]), Value::Year(2024));
        assert_eq!(dec(&col(ct::YEAR, 0), &[255]), Value::Year(2155));
        assert_eq!(
            json(&col(ct::DATE, 0), &[0x2F, 0xBE, 0x0F]),
            "\"2015-01-15\""
        );
        assert_eq!(json(&col(ct::NEWDATE, 0), &[0, 0, 0]), "\"0000-00-00\"");
        assert_eq!(
            json(&col(ct::TIME, 0), &[0xA7, 0xF5, 0x7F]),
            "\"838:59:59\""
        );
        assert_eq!(
            json(&col(ct::TIME2, 3), &[0x7F, 0xFF, 0xFE, 0xEC, 0x78]),
            "\"-00:00:01.500\""
        );
        assert_eq!(
            json(&col(ct::DATETIME, 0), &20_150_115_232_425u64.to_le_bytes()),
            "\"2015-01-15 23:24:25\""
        );
        assert_eq!(
            json(&col(ct::DATETIME2, 0), &[0x80, 0, 0, 0, 0]),
            "\"0000-00-00 00:00:00\""
        );
        assert_eq!(
            json(&col(ct::TIMESTAMP, 0), &1_421_364_265u32.to_le_bytes()),
            "\"2015-01-15T23:24:25Z\""
        );
        let mut ts2 = 1_421_364_265u32.to_be_bytes().to_vec();
        ts2.extend([0x04, 0xD2]); // .1234
        assert_eq!(
            json(&col(ct::TIMESTAMP2, 4), &ts2),
            "\"2015-01-15T23:24:25.1234Z\""
        );
        assert_eq!(
            json(&col(ct::TIMESTAMP2, 0), &[0, 0, 0, 0]),
            "\"0000-00-00 00:00:00\""
        );
        assert!(err(&col(ct::TIME2, 9), &[0x80, 0, 0, 0, 0, 0, 0, 0])
            .to_string()
            .contains("precision"));
    }

    #[test]
    fn varchar_length_prefix_depends_on_max_length() {
        let short = with_cs(ct::VARCHAR, 255, 45);
        assert_eq!(dec(&short, b"\x03abc"), Value::Text(Cow::Borrowed("abc")));
        let long = with_cs(ct::VARCHAR, 256, 45);
        assert_eq!(
            dec(&long, b"\x03\x00abc"),
            Value::Text(Cow::Borrowed("abc"))
        );
        // utf8mb4 emoji, borrowed.
        let v = dec(&short, b"\x04\xF0\x9F\x98\x80");
        assert!(matches!(v, Value::Text(Cow::Borrowed("😀"))));
        // Invalid UTF-8 stays bytes.
        assert_eq!(
            dec(&short, b"\x02\xC3\x28"),
            Value::Bytes(Cow::Borrowed(b"\xC3\x28"))
        );
        // latin1 é, gbk 中文.
        assert_eq!(
            json(&with_cs(ct::VARCHAR, 10, 8), b"\x04caf\xE9"),
            "\"café\""
        );
        assert_eq!(
            json(&with_cs(ct::VAR_STRING, 10, 28), b"\x04\xD6\xD0\xCE\xC4"),
            "\"中文\""
        );
        // Truncated value.
        assert!(matches!(err(&short, b"\x05abc"), BodyError::Short { .. }));
    }

    #[test]
    fn char_and_binary_columns() {
        let c = with_cs(ct::STRING, 0xFE << 8 | 40, 255);
        assert_eq!(dec(&c, b"\x02hi"), Value::Text(Cow::Borrowed("hi")));
        // CHAR(255) utf8mb4 = 1020 = 0x3FC bytes: the inverted high bits
        // 0x300 clear both 0x30 bits of byte0 (0xFE -> 0xCE), byte1 = 0xFC.
        let long = with_cs(ct::STRING, 0xCE << 8 | 0xFC, 255);
        assert_eq!(string_real_type(&long), (ct::STRING, 1020));
        assert_eq!(dec(&long, b"\x02\x00hi"), Value::Text(Cow::Borrowed("hi")));
        assert_eq!(
            string_real_type(&col(ct::STRING, 0xEE << 8 | 0xFC)),
            (ct::STRING, 508)
        );
        assert_eq!(
            string_real_type(&col(ct::STRING, 0xDE << 8)),
            (ct::STRING, 512)
        );
        // BINARY(4) logged without trailing zeros is padded back.
        let bin = with_cs(ct::STRING, 0xFE << 8 | 4, 63);
        assert_eq!(
            dec(&bin, b"\x02\x01\x02"),
            Value::Bytes(Cow::Owned(vec![1, 2, 0, 0]))
        );
        assert_eq!(
            dec(&bin, b"\x04\x01\x02\x03\x04"),
            Value::Bytes(Cow::Borrowed(&[1, 2, 3, 4]))
        );
        // STRING meta below 256 is the max length.
        assert_eq!(
            dec(&col(ct::STRING, 10), b"\x01x"),
            Value::Text(Cow::Borrowed("x"))
        );
    }

    #[test]
    fn enum_and_set_in_string_metadata() {
        assert_eq!(
            dec(&col(ct::STRING, (ct::ENUM as u16) << 8 | 1), &[3]),
            Value::Enum(3)
        );
        assert_eq!(
            dec(&col(ct::STRING, (ct::ENUM as u16) << 8 | 2), &[0x2c, 0x01]),
            Value::Enum(300)
        );
        assert_eq!(
            dec(&col(ct::STRING, (ct::SET as u16) << 8 | 1), &[0b101]),
            Value::Set(5)
        );
        assert_eq!(
            dec(&col(ct::STRING, (ct::SET as u16) << 8 | 8), &[0xff; 8]),
            Value::Set(u64::MAX)
        );
        assert_eq!(
            dec(&col(ct::STRING, (ct::SET as u16) << 8 | 3), &[1, 0, 0x80]),
            Value::Set(0x80_0001)
        );
        // Real ENUM/SET type codes.
        assert_eq!(
            dec(&col(ct::ENUM, (ct::ENUM as u16) << 8 | 1), &[2]),
            Value::Enum(2)
        );
        assert_eq!(dec(&col(ct::SET, 2), &[1, 1]), Value::Set(0x101));
        assert!(
            err(&col(ct::STRING, (ct::ENUM as u16) << 8 | 3), &[0, 0, 0])
                .to_string()
                .contains("ENUM")
        );
        assert!(err(&col(ct::STRING, (ct::SET as u16) << 8 | 9), &[0; 9])
            .to_string()
            .contains("SET"));
    }

    #[test]
    fn blobs_and_text() {
        let blob = with_cs(ct::BLOB, 2, 63);
        assert_eq!(
            dec(&blob, b"\x03\x00\x00\xff\x01"),
            Value::Bytes(Cow::Borrowed(b"\x00\xff\x01"))
        );
        let text = with_cs(ct::BLOB, 1, 45);
        assert_eq!(dec(&text, b"\x02hi"), Value::Text(Cow::Borrowed("hi")));
        let long = with_cs(ct::BLOB, 4, 45);
        assert_eq!(
            dec(&long, b"\x01\x00\x00\x00x"),
            Value::Text(Cow::Borrowed("x"))
        );
        let medium = with_cs(ct::BLOB, 3, 45);
        assert_eq!(
            dec(&medium, b"\x01\x00\x00x"),
            Value::Text(Cow::Borrowed("x"))
        );
        assert!(err(&col(ct::BLOB, 0), b"\x00")
            .to_string()
            .contains("length-prefix"));
        // A length that runs past the event is a Short error, not a panic.
        assert!(matches!(
            err(&long, b"\xff\xff\xff\xff"),
            BodyError::Short { .. }
        ));
    }

    #[test]
    fn bit_widths() {
        // BIT(3): meta bytes [3, 0].
        assert_eq!(
            dec(&col(ct::BIT, 3), &[0b100]),
            Value::Bit { bits: 4, width: 3 }
        );
        // BIT(10): [2, 1] -> 2 bytes big-endian.
        assert_eq!(
            dec(&col(ct::BIT, 1 << 8 | 2), &[0x02, 0x01]),
            Value::Bit {
                bits: 0x201,
                width: 10
            }
        );
        // BIT(64).
        assert_eq!(
            dec(&col(ct::BIT, 8 << 8), &[0xff; 8]),
            Value::Bit {
                bits: u64::MAX,
                width: 64
            }
        );
        assert!(err(&col(ct::BIT, 9 << 8), &[0; 9])
            .to_string()
            .contains("64 bits"));
    }

    #[test]
    fn json_column_including_empty_value() {
        let c = col(ct::JSON, 4);
        assert_eq!(dec(&c, &[0, 0, 0, 0]), Value::Json(Json::Null));
        let v = dec(&c, &[2, 0, 0, 0, 0x04, 0x01]);
        assert_eq!(v, Value::Json(Json::Bool(true)));
        assert!(decode_value(&c, &mut ByteReader::new(&[2, 0, 0, 0, 0x04, 0x09])).is_err());
    }

    #[test]
    fn json_partial_diff_value() {
        let c = col(ct::JSON, 4);
        // REPLACE $.a with int16 5.
        let diff = [0u8, 3, b'$', b'.', b'a', 3, 0x05, 0x05, 0x00];
        let mut bytes = (diff.len() as u32).to_le_bytes().to_vec();
        bytes.extend(diff);
        let mut r = ByteReader::new(&bytes);
        let v = decode_json_diff(&c, &mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(
            json_value_string(&v, &c),
            r#"[{"op":"replace","path":"$.a","value":5}]"#
        );
    }

    #[test]
    fn geometry_and_vector() {
        let c = col(ct::GEOMETRY, 4);
        let mut b = 9u32.to_le_bytes().to_vec();
        b.extend(4326u32.to_le_bytes());
        b.extend([1, 1, 0, 0, 0]);
        assert_eq!(json(&c, &b), r#"{"srid":4326,"wkb":"0101000000"}"#);
        let v = col(ct::VECTOR, 4);
        let mut vb = 8u32.to_le_bytes().to_vec();
        vb.extend([0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf]);
        assert_eq!(json(&v, &vb), "[1.0,-1.0]");
        let odd = [3u8, 0, 0, 0, 1, 2, 3];
        assert!(matches!(dec(&v, &odd), Value::Bytes(_)));
    }

    #[test]
    fn mariadb_logical_types() {
        let mut c = with_cs(ct::STRING, 0xFE << 8 | 16, 63);
        c.logical = Some(LogicalType::Uuid);
        let mut b = vec![16u8];
        b.extend([
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x01,
        ]);
        assert_eq!(json(&c, &b), "\"123e4567-e89b-12d3-a456-426614174001\"");
        // Trailing zero bytes are trimmed in the binlog.
        assert_eq!(
            json(&c, &[2, 0xab, 0xcd]),
            "\"abcd0000-0000-0000-0000-000000000000\""
        );
        assert_eq!(json(&c, &[0]), "\"00000000-0000-0000-0000-000000000000\"");
        c.logical = Some(LogicalType::Inet6);
        assert_eq!(json(&c, &[2, 0x20, 0x01]), "\"2001::\"");
        let mut c4 = with_cs(ct::STRING, 0xFE << 8 | 4, 63);
        c4.logical = Some(LogicalType::Inet4);
        assert_eq!(json(&c4, &[1, 10]), "\"10.0.0.0\"");
        assert!(err(&c4, &[5, 1, 2, 3, 4, 5])
            .to_string()
            .contains("expected 4"));
    }

    #[test]
    fn mariadb_compressed_columns() {
        let c = with_cs(mariadb_type::VARCHAR_COMPRESSED, 100, 45);
        assert_eq!(dec(&c, b"\x04\x00abc"), Value::Text(Cow::Borrowed("abc")));
        assert_eq!(dec(&c, b"\x00"), Value::Text(Cow::Borrowed("")));
        // Captured from MariaDB 10.11: VARCHAR(1000) COMPRESSED holding
        // REPEAT('abc', 200): header 0x8a = compressed, raw deflate, 2 length bytes.
        let c = with_cs(mariadb_type::VARCHAR_COMPRESSED, 4001, 45);
        let mut z = vec![14, 0, 0x8a, 0x02, 0x58];
        z.extend_from_slice(&[
            0x4b, 0x4c, 0x4a, 0x4e, 0x1c, 0x45, 0xa3, 0x88, 0xda, 0x08, 0x00,
        ]);
        assert_eq!(dec(&c, &z), Value::Text(Cow::Owned("abc".repeat(200))));
        // Stated length disagreeing with the stream is an error, not a guess.
        let mut lying = z.clone();
        lying[4] = 0x59;
        assert!(err(&c, &lying).to_string().contains("601"));
        // Truncated stream.
        let mut cut = z[..10].to_vec();
        cut[0] = 8;
        assert!(err(&c, &cut).to_string().contains("compressed column"));
        let b = with_cs(mariadb_type::BLOB_COMPRESSED, 2, 45);
        assert_eq!(dec(&b, b"\x03\x00\x00hi"), Value::Text(Cow::Borrowed("hi")));
    }

    #[test]
    fn unsupported_types_are_errors_and_null_type_reads_nothing() {
        assert!(err(&col(ct::TYPED_ARRAY, 0), &[0])
            .to_string()
            .contains("TYPED_ARRAY"));
        assert!(err(&col(ct::BOOL, 0), &[0]).to_string().contains("BOOL"));
        assert!(err(&col(100, 0), &[0]).to_string().contains("100"));
        assert_eq!(dec(&col(ct::NULL, 0), &[]), Value::Null);
    }

    #[test]
    fn every_type_survives_garbage_without_panicking() {
        let types = [
            ct::DECIMAL,
            ct::TINY,
            ct::SHORT,
            ct::LONG,
            ct::FLOAT,
            ct::DOUBLE,
            ct::NULL,
            ct::TIMESTAMP,
            ct::LONGLONG,
            ct::INT24,
            ct::DATE,
            ct::TIME,
            ct::DATETIME,
            ct::YEAR,
            ct::NEWDATE,
            ct::VARCHAR,
            ct::BIT,
            ct::TIMESTAMP2,
            ct::DATETIME2,
            ct::TIME2,
            ct::TYPED_ARRAY,
            ct::VECTOR,
            ct::JSON,
            ct::NEWDECIMAL,
            ct::ENUM,
            ct::SET,
            ct::TINY_BLOB,
            ct::MEDIUM_BLOB,
            ct::LONG_BLOB,
            ct::BLOB,
            ct::VAR_STRING,
            ct::STRING,
            ct::GEOMETRY,
            140,
            141,
        ];
        let metas = [
            0u16, 1, 2, 3, 4, 6, 7, 8, 255, 256, 0x0102, 0x4104, 0xF701, 0xF808, 0xFE10, 0xEEFC,
            0xFFFF,
        ];
        let mut seed = 0x1234_5678u32;
        let mut data = [0u8; 64];
        for t in types {
            for m in metas {
                for charset in [None, Some(8), Some(63), Some(255)] {
                    for _ in 0..8 {
                        for b in data.iter_mut() {
                            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                            *b = (seed >> 16) as u8;
                        }
                        let mut c = col(t, m);
                        c.charset = charset;
                        for len in [0, 1, 3, 9, 64] {
                            let mut r = ByteReader::new(&data[..len]);
                            if let Ok(v) = decode_value(&c, &mut r) {
                                // Rendering never panics either.
                                let _ = json_value_string(&v, &c);
                            }
                        }
                    }
                }
            }
        }
    }
}
