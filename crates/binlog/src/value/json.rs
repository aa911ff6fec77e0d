//! MySQL's binary JSON format (JSONB) and partial-update JSON diffs.

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
    Opaque { type_code: u8, data: Vec<u8> },
}
