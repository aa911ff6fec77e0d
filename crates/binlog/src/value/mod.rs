//! Row values: the decoded form of one column of one row image, and its
//! rendering to JSON (the product-wide value contract, see `VALUES.md`) and
//! to text (`mysqlbinlog -v` style).
//!
//! Values borrow from the event buffer where they can (text that is already
//! UTF-8, blobs), so decoding a row allocates little.
//!
//! - [`decode`]: one value from a row image, per column type and metadata.
//! - [`charset`]: collation id -> character set -> text.
//! - [`decimal`], [`temporal`], [`json`]: the server's binary formats.
//! - [`render`]: JSON and text output.

pub mod charset;
pub mod decimal;
pub mod decode;
pub mod json;
pub mod render;
pub mod temporal;

#[cfg(test)]
mod corpus_tests;

use std::borrow::Cow;

pub use decode::{decode_json_diff, decode_value};
pub use json::{Json, JsonDiff};
pub use render::{write_json_str, write_json_value, write_text_value};
pub use temporal::{Date, DateTime, Time, Timestamp};

/// The text of a DECIMAL value. A string that keeps up to 24 bytes inline
/// (every DECIMAL of precision 22 or less), so the common DECIMAL column
/// costs no allocation per value; it dereferences to `str`.
pub type DecimalText = compact_str::CompactString;

/// One decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    /// Signed integers of every width.
    Int(i64),
    /// Unsigned integers of every width (exact up to u64::MAX).
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL/NUMERIC exactly as the server would print it, e.g. "-10.5500".
    Decimal(DecimalText),
    /// YEAR; 0 is the zero year "0000".
    Year(u16),
    Date(Date),
    Time(Time),
    DateTime(DateTime),
    /// TIMESTAMP: a UTC instant.
    Timestamp(Timestamp),
    /// Text decoded from the column's charset.
    Text(Cow<'a, str>),
    /// Binary strings and blobs, and text whose bytes are not valid in their
    /// charset (kept losslessly rather than replaced).
    Bytes(Cow<'a, [u8]>),
    /// BIT(width): the bits as an integer.
    Bit {
        bits: u64,
        width: u16,
    },
    /// ENUM: 1-based index into the column's labels (0 = the empty error value).
    Enum(u16),
    /// SET: bit i set means label i is present.
    Set(u64),
    Json(Json),
    /// A JSON column of a PARTIAL_UPDATE_ROWS after image that holds only
    /// the changes (see [`decode_json_diff`]), for when no full before
    /// image is available to apply them to.
    JsonDiff(Vec<JsonDiff>),
    /// GEOMETRY: SRID followed by the WKB bytes.
    Geometry {
        srid: u32,
        wkb: Cow<'a, [u8]>,
    },
    /// VECTOR: little-endian float32 elements.
    Vector(Cow<'a, [u8]>),
    /// MariaDB UUID, bytes in canonical (text) order.
    Uuid([u8; 16]),
    /// MariaDB INET4, network byte order.
    Inet4([u8; 4]),
    /// MariaDB INET6, network byte order.
    Inet6([u8; 16]),
}

impl Value<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Detach from the event buffer.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Int(v) => Value::Int(v),
            Value::UInt(v) => Value::UInt(v),
            Value::Float(v) => Value::Float(v),
            Value::Double(v) => Value::Double(v),
            Value::Decimal(v) => Value::Decimal(v),
            Value::Year(v) => Value::Year(v),
            Value::Date(v) => Value::Date(v),
            Value::Time(v) => Value::Time(v),
            Value::DateTime(v) => Value::DateTime(v),
            Value::Timestamp(v) => Value::Timestamp(v),
            Value::Text(v) => Value::Text(Cow::Owned(v.into_owned())),
            Value::Bytes(v) => Value::Bytes(Cow::Owned(v.into_owned())),
            Value::Bit { bits, width } => Value::Bit { bits, width },
            Value::Enum(v) => Value::Enum(v),
            Value::Set(v) => Value::Set(v),
            Value::Json(v) => Value::Json(v),
            Value::JsonDiff(v) => Value::JsonDiff(v),
            Value::Geometry { srid, wkb } => Value::Geometry {
                srid,
                wkb: Cow::Owned(wkb.into_owned()),
            },
            Value::Vector(v) => Value::Vector(Cow::Owned(v.into_owned())),
            Value::Uuid(v) => Value::Uuid(v),
            Value::Inet4(v) => Value::Inet4(v),
            Value::Inet6(v) => Value::Inet6(v),
        }
    }
}
