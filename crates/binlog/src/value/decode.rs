//! Decoding one column value from a row image.

use crate::bytes::ByteReader;
use crate::column::ColumnDef;
use crate::error::BodyError;
use crate::value::Value;

/// Decode one non-NULL value of column `col`, advancing `r` past it.
pub fn decode_value<'a>(col: &ColumnDef, r: &mut ByteReader<'a>) -> Result<Value<'a>, BodyError> {
    let _ = (col, r);
    Err(BodyError::Invalid("value decoding not written yet".into()))
}
