//! TABLE_MAP_EVENT: binds a table id to a table's name and column layout.
//!
//! Layout: post-header (table id: 6 bytes, or 4 on servers whose FDE gives
//! this event a 6-byte post-header; flags: 2), then database and table names
//! (length byte + bytes + NUL), column count (packed int), one type byte per
//! column, a packed-length block of per-column type metadata, the nullability
//! bitmap, and — MySQL 8.0.1+ / MariaDB 10.5+ — optional metadata TLVs
//! (signedness, charsets, names, ENUM/SET labels, primary key, …).
//!
//! Very old (pre-GA 5.1) servers wrote neither the metadata block nor the
//! null bitmap; both are read only when bytes remain, as the server does.

use crate::bytes::ByteReader;
use crate::column::{column_type as ct, ColumnDef, BINARY_CHARSET};
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type;
use crate::value::decode::mariadb_type;

/// Optional metadata field ids (MySQL `Table_map_log_event::Optional_metadata_field_type`).
mod tlv {
    pub const SIGNEDNESS: u8 = 1;
    pub const DEFAULT_CHARSET: u8 = 2;
    pub const COLUMN_CHARSET: u8 = 3;
    pub const COLUMN_NAME: u8 = 4;
    pub const SET_STR_VALUE: u8 = 5;
    pub const ENUM_STR_VALUE: u8 = 6;
    pub const GEOMETRY_TYPE: u8 = 7;
    pub const SIMPLE_PRIMARY_KEY: u8 = 8;
    pub const PRIMARY_KEY_WITH_PREFIX: u8 = 9;
    pub const ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
    pub const ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;
    pub const COLUMN_VISIBILITY: u8 = 12;
    pub const VECTOR_DIMENSIONALITY: u8 = 13;
}

/// A decoded TABLE_MAP event.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMap {
    pub table_id: u64,
    pub flags: u16,
    pub database: String,
    pub table: String,
    pub columns: Vec<ColumnDef>,
    /// Primary-key column indexes in key order (empty when not logged).
    pub primary_key: Vec<usize>,
    /// Whether the server logged column names (binlog_row_metadata=FULL).
    pub has_column_names: bool,
    /// Whether the server logged signedness (MySQL 8.0.1+/MariaDB 10.5+).
    pub has_signedness: bool,
}

impl TableMap {
    pub fn parse(body: &[u8], fde: &FormatDescription) -> Result<TableMap, BodyError> {
        let mut r = ByteReader::new(body);
        let table_id = if fde.post_header_len(event_type::TABLE_MAP) == Some(6) {
            r.u32()? as u64
        } else {
            r.u48()?
        };
        let flags = r.u16()?;
        let database = read_name(&mut r)?;
        let table = read_name(&mut r)?;
        let count = r.lenenc()?;
        // Each column needs at least its type byte, which bounds the allocation.
        if count > r.remaining() as u64 {
            return Err(BodyError::Invalid(format!(
                "column count {count} exceeds the event size"
            )));
        }
        let count = count as usize;
        let types = r.take(count)?;
        let mut columns: Vec<ColumnDef> = types.iter().map(|&t| ColumnDef::new(t, 0)).collect();

        if !r.is_empty() {
            let meta = r.lenenc_bytes()?;
            read_type_metadata(&mut columns, meta)?;
        }
        if !r.is_empty() {
            let nulls = r.take(count.div_ceil(8))?;
            for (i, col) in columns.iter_mut().enumerate() {
                col.nullable = nulls[i / 8] & (1 << (i % 8)) != 0;
            }
        }
        let mut map = TableMap {
            table_id,
            flags,
            database,
            table,
            columns,
            primary_key: Vec::new(),
            has_column_names: false,
            has_signedness: false,
        };
        while !r.is_empty() {
            let kind = r.u8()?;
            let value = r.lenenc_bytes()?;
            map.apply_optional_metadata(kind, value)?;
        }
        for &i in &map.primary_key {
            if let Some(c) = map.columns.get_mut(i) {
                c.primary_key = true;
            }
        }
        Ok(map)
    }

    /// The table id of a TABLE_MAP body without parsing the rest (`None`
    /// when the body is too short to hold one).
    pub fn peek_table_id(body: &[u8], fde: &FormatDescription) -> Option<u64> {
        let mut r = ByteReader::new(body);
        if fde.post_header_len(event_type::TABLE_MAP) == Some(6) {
            r.u32().ok().map(u64::from)
        } else {
            r.u48().ok()
        }
    }

    /// `db.table`, for messages.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.table)
    }

    /// Name of column `i` as known (`@N`, 1-based like mysqlbinlog, when not logged).
    pub fn column_name(&self, i: usize) -> String {
        match self.columns.get(i).and_then(|c| c.name.as_deref()) {
            Some(n) => n.to_string(),
            None => format!("@{}", i + 1),
        }
    }

    /// Fill in what the binlog did not log (names, signedness, charsets,
    /// ENUM/SET labels, logical types, primary key) from a caller-supplied
    /// schema. Logged metadata wins where both exist, since it describes the
    /// table as it was when the event was written. Errors if the schema's
    /// column count differs: decoding with the wrong schema would silently
    /// mislabel values.
    pub fn apply_schema(&mut self, schema: &[ColumnSchema]) -> Result<(), String> {
        if schema.len() != self.columns.len() {
            return Err(format!(
                "schema for {} has {} columns but the binlog's TABLE_MAP has {}",
                self.qualified_name(),
                schema.len(),
                self.columns.len()
            ));
        }
        for (col, s) in self.columns.iter_mut().zip(schema) {
            if col.name.is_none() {
                col.name = s.name.clone();
            }
            if !self.has_signedness {
                col.unsigned = s.unsigned;
            }
            if col.charset.is_none() {
                col.charset = s.charset;
            }
            if col.enum_values.is_none() {
                col.enum_values = s.enum_values.clone();
            }
            if col.set_values.is_none() {
                col.set_values = s.set_values.clone();
            }
            if col.logical.is_none() {
                col.logical = s.logical;
            }
        }
        if self.primary_key.is_empty() {
            self.primary_key = schema
                .iter()
                .enumerate()
                .filter(|(_, s)| s.primary_key)
                .map(|(i, _)| i)
                .collect();
            for &i in &self.primary_key {
                self.columns[i].primary_key = true;
            }
        }
        Ok(())
    }

    fn apply_optional_metadata(&mut self, kind: u8, value: &[u8]) -> Result<(), BodyError> {
        let mut r = ByteReader::new(value);
        match kind {
            tlv::SIGNEDNESS => {
                self.has_signedness = true;
                let numeric: Vec<usize> = self.indexes_where(is_numeric);
                for (n, &i) in numeric.iter().enumerate() {
                    // Most significant bit first.
                    let byte = value.get(n / 8).copied().unwrap_or(0);
                    self.columns[i].unsigned = byte & (0x80 >> (n % 8)) != 0;
                }
            }
            tlv::DEFAULT_CHARSET | tlv::ENUM_AND_SET_DEFAULT_CHARSET => {
                let targets = if kind == tlv::DEFAULT_CHARSET {
                    self.indexes_where(is_character)
                } else {
                    self.indexes_where(is_enum_or_set)
                };
                let default = charset_id(r.lenenc()?)?;
                for &i in &targets {
                    self.columns[i].charset = Some(default);
                }
                while !r.is_empty() {
                    let nth = r.lenenc()?;
                    let cs = charset_id(r.lenenc()?)?;
                    let col = usize::try_from(nth)
                        .ok()
                        .and_then(|n| targets.get(n))
                        .ok_or_else(|| {
                            BodyError::Invalid(format!("charset for column #{nth} out of range"))
                        })?;
                    self.columns[*col].charset = Some(cs);
                }
            }
            tlv::COLUMN_CHARSET | tlv::ENUM_AND_SET_COLUMN_CHARSET => {
                let targets = if kind == tlv::COLUMN_CHARSET {
                    self.indexes_where(is_character)
                } else {
                    self.indexes_where(is_enum_or_set)
                };
                for &i in &targets {
                    if r.is_empty() {
                        break;
                    }
                    self.columns[i].charset = Some(charset_id(r.lenenc()?)?);
                }
            }
            tlv::COLUMN_NAME => {
                self.has_column_names = true;
                for col in self.columns.iter_mut() {
                    if r.is_empty() {
                        break;
                    }
                    col.name = Some(String::from_utf8_lossy(r.lenenc_bytes()?).into_owned());
                }
            }
            tlv::SET_STR_VALUE | tlv::ENUM_STR_VALUE => {
                let want = if kind == tlv::SET_STR_VALUE {
                    ct::SET
                } else {
                    ct::ENUM
                };
                let targets = self.indexes_where(|c| c.real_type() == want);
                for &i in &targets {
                    if r.is_empty() {
                        break;
                    }
                    let n = r.lenenc()?;
                    if n > r.remaining() as u64 {
                        return Err(BodyError::Invalid(format!("{n} labels exceed the field")));
                    }
                    let mut labels = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        labels.push(r.lenenc_bytes()?.to_vec());
                    }
                    if kind == tlv::SET_STR_VALUE {
                        self.columns[i].set_values = Some(labels);
                    } else {
                        self.columns[i].enum_values = Some(labels);
                    }
                }
            }
            tlv::GEOMETRY_TYPE => {
                for i in self.indexes_where(|c| c.type_code == ct::GEOMETRY) {
                    if r.is_empty() {
                        break;
                    }
                    self.columns[i].geometry_type = Some(r.lenenc()? as u32);
                }
            }
            tlv::SIMPLE_PRIMARY_KEY => {
                while !r.is_empty() {
                    let i = self.column_index(r.lenenc()?)?;
                    self.primary_key.push(i);
                }
            }
            tlv::PRIMARY_KEY_WITH_PREFIX => {
                while !r.is_empty() {
                    let i = self.column_index(r.lenenc()?)?;
                    let _prefix_len = r.lenenc()?;
                    self.primary_key.push(i);
                }
            }
            tlv::COLUMN_VISIBILITY => {
                for (i, col) in self.columns.iter_mut().enumerate() {
                    let byte = value.get(i / 8).copied().unwrap_or(0xff);
                    col.visible = Some(byte & (0x80 >> (i % 8)) != 0);
                }
            }
            tlv::VECTOR_DIMENSIONALITY => {
                for i in self.indexes_where(|c| c.type_code == ct::VECTOR) {
                    if r.is_empty() {
                        break;
                    }
                    self.columns[i].vector_dimension = Some(r.lenenc()? as u32);
                }
            }
            // Newer servers may add fields; they are optional by definition.
            _ => {}
        }
        Ok(())
    }

    fn indexes_where(&self, pred: impl Fn(&ColumnDef) -> bool) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| pred(c))
            .map(|(i, _)| i)
            .collect()
    }

    fn column_index(&self, i: u64) -> Result<usize, BodyError> {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < self.columns.len())
            .ok_or_else(|| BodyError::Invalid(format!("primary key column {i} out of range")))
    }
}

/// What a schema (information_schema, a DDL history, a user file) knows
/// about a column, for binlogs written without full metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnSchema {
    pub name: Option<String>,
    pub unsigned: bool,
    pub charset: Option<u16>,
    pub enum_values: Option<Vec<Vec<u8>>>,
    pub set_values: Option<Vec<Vec<u8>>>,
    pub logical: Option<crate::column::LogicalType>,
    pub primary_key: bool,
}

fn read_name(r: &mut ByteReader<'_>) -> Result<String, BodyError> {
    let len = r.u8()? as usize;
    let name = r.take(len)?;
    r.skip(1)?; // NUL terminator, written despite the length prefix
    Ok(String::from_utf8_lossy(name).into_owned())
}

fn charset_id(v: u64) -> Result<u16, BodyError> {
    u16::try_from(v).map_err(|_| BodyError::Invalid(format!("collation id {v} out of range")))
}

/// Columns the server lists in the SIGNEDNESS field.
fn is_numeric(c: &ColumnDef) -> bool {
    matches!(
        c.type_code,
        ct::TINY
            | ct::SHORT
            | ct::INT24
            | ct::LONG
            | ct::LONGLONG
            | ct::NEWDECIMAL
            | ct::FLOAT
            | ct::DOUBLE
    )
}

/// Columns the server lists in the (DEFAULT|COLUMN)_CHARSET fields.
fn is_character(c: &ColumnDef) -> bool {
    match c.type_code {
        ct::STRING => c.real_type() == ct::STRING,
        // MySQL 9 lists VECTOR (a binary string) among character columns:
        // vector.binlog's DEFAULT_CHARSET indexes TEXT after a VECTOR as #1.
        ct::VAR_STRING
        | ct::VARCHAR
        | ct::BLOB
        | ct::TINY_BLOB
        | ct::MEDIUM_BLOB
        | ct::LONG_BLOB
        | ct::VECTOR
        // MariaDB counts its COMPRESSED columns among character columns too.
        | mariadb_type::BLOB_COMPRESSED
        | mariadb_type::VARCHAR_COMPRESSED => true,
        _ => false,
    }
}

fn is_enum_or_set(c: &ColumnDef) -> bool {
    matches!(c.real_type(), ct::ENUM | ct::SET)
}

/// Splits the type-metadata block into each column's `meta` (encoding in
/// [`ColumnDef::meta`]).
fn read_type_metadata(columns: &mut [ColumnDef], block: &[u8]) -> Result<(), BodyError> {
    let mut r = ByteReader::new(block);
    for col in columns.iter_mut() {
        col.meta = match col.type_code {
            ct::FLOAT
            | ct::DOUBLE
            | ct::BLOB
            | ct::TINY_BLOB
            | ct::MEDIUM_BLOB
            | ct::LONG_BLOB
            | ct::GEOMETRY
            | ct::JSON
            | ct::VECTOR
            | ct::TIMESTAMP2
            | ct::DATETIME2
            | ct::TIME2
            | mariadb_type::BLOB_COMPRESSED => r.u8()? as u16,
            ct::VARCHAR | ct::VAR_STRING | ct::BIT | mariadb_type::VARCHAR_COMPRESSED => r.u16()?,
            ct::NEWDECIMAL | ct::STRING | ct::ENUM | ct::SET => {
                let hi = r.u8()? as u16;
                let lo = r.u8()? as u16;
                hi << 8 | lo
            }
            _ => 0,
        };
    }
    Ok(())
}

impl ColumnDef {
    /// True when the value bytes are text in some charset (not binary, not numeric).
    pub fn is_text(&self) -> bool {
        is_character(self) && self.charset != Some(BINARY_CHARSET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    fn fde() -> FormatDescription {
        FormatDescription {
            binlog_version: 4,
            server_version: "8.0.40".into(),
            create_timestamp: 0,
            header_length: 19,
            post_header_lengths: vec![8; 42],
            checksum: ChecksumAlg::Crc32,
        }
    }

    fn body(optional: &[u8]) -> Vec<u8> {
        let mut b = vec![0x2a, 0, 0, 0, 0, 0, 1, 0];
        b.extend_from_slice(&[2, b'd', b'b', 0, 1, b't', 0]);
        // id INT UNSIGNED, name VARCHAR(40), st ENUM('a','b'), amount DECIMAL(12,2)
        b.extend_from_slice(&[4, ct::LONG, ct::VARCHAR, ct::STRING, ct::NEWDECIMAL]);
        b.extend_from_slice(&[6, 40, 0, ct::ENUM, 1, 12, 2]);
        b.push(0b1110);
        b.extend_from_slice(optional);
        b
    }

    #[test]
    fn parses_names_types_metadata_and_nullability() {
        let m = TableMap::parse(&body(&[]), &fde()).unwrap();
        assert_eq!(m.table_id, 42);
        assert_eq!((m.database.as_str(), m.table.as_str()), ("db", "t"));
        let metas: Vec<u16> = m.columns.iter().map(|c| c.meta).collect();
        assert_eq!(metas, vec![0, 40, (ct::ENUM as u16) << 8 | 1, 12 << 8 | 2]);
        assert_eq!(m.columns[2].real_type(), ct::ENUM);
        let nullable: Vec<bool> = m.columns.iter().map(|c| c.nullable).collect();
        assert_eq!(nullable, vec![false, true, true, true]);
        assert_eq!(m.column_name(1), "@2");
        assert!(!m.has_column_names);
    }

    #[test]
    fn optional_metadata_signedness_charsets_names_enum_and_primary_key() {
        let mut opt = vec![tlv::SIGNEDNESS, 1, 0b1000_0000]; // id unsigned, amount signed
        opt.extend_from_slice(&[tlv::DEFAULT_CHARSET, 1, 45]);
        opt.extend_from_slice(&[tlv::ENUM_AND_SET_DEFAULT_CHARSET, 1, 8]);
        opt.extend_from_slice(&[
            tlv::COLUMN_NAME,
            18,
            2,
            b'i',
            b'd',
            4,
            b'n',
            b'a',
            b'm',
            b'e',
        ]);
        opt.extend_from_slice(&[2, b's', b't', 6, b'a', b'm', b'o', b'u', b'n', b't']);
        opt.extend_from_slice(&[tlv::ENUM_STR_VALUE, 5, 2, 1, b'a', 1, b'b']);
        opt.extend_from_slice(&[tlv::SIMPLE_PRIMARY_KEY, 1, 0]);
        let m = TableMap::parse(&body(&opt), &fde()).unwrap();
        assert!(m.columns[0].unsigned);
        assert!(!m.columns[3].unsigned);
        assert_eq!(m.columns[1].charset, Some(45));
        assert_eq!(m.columns[2].charset, Some(8));
        assert_eq!(m.columns[0].charset, None);
        assert_eq!(m.column_name(3), "amount");
        assert_eq!(
            m.columns[2].enum_values,
            Some(vec![b"a".to_vec(), b"b".to_vec()])
        );
        assert_eq!(m.primary_key, vec![0]);
        assert!(m.columns[0].primary_key);
    }

    #[test]
    fn caller_schema_fills_gaps_but_logged_metadata_wins() {
        let mut m = TableMap::parse(&body(&[tlv::COLUMN_NAME, 3, 2, b'i', b'd']), &fde()).unwrap();
        let schema = vec![
            ColumnSchema {
                name: Some("ignored".into()),
                unsigned: true,
                primary_key: true,
                ..Default::default()
            },
            ColumnSchema {
                name: Some("name".into()),
                charset: Some(28),
                ..Default::default()
            },
            ColumnSchema::default(),
            ColumnSchema::default(),
        ];
        m.apply_schema(&schema).unwrap();
        assert_eq!(m.column_name(0), "id");
        assert_eq!(m.column_name(1), "name");
        assert!(m.columns[0].unsigned);
        assert_eq!(m.columns[1].charset, Some(28));
        assert_eq!(m.primary_key, vec![0]);
        assert!(m.apply_schema(&schema[..3]).is_err());
    }

    #[test]
    fn truncated_or_lying_table_map_is_an_error_not_a_panic() {
        let full = body(&[tlv::SIMPLE_PRIMARY_KEY, 1, 9]);
        for cut in 0..full.len() - 3 {
            let _ = TableMap::parse(&full[..cut], &fde());
        }
        // Primary key naming a column that does not exist.
        assert!(TableMap::parse(&full, &fde()).is_err());
        // Column count larger than the event.
        let mut lying = full.clone();
        lying[15] = 0xfc;
        assert!(TableMap::parse(&lying, &fde()).is_err());
    }
}
