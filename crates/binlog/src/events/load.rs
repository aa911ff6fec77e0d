//! The LOAD DATA INFILE family.
//!
//! - MySQL 3.23–4.x (and 5.0 for some paths): LOAD / NEW_LOAD carry the
//!   statement's parts and the file name; CREATE_FILE carries the same plus
//!   the first block of the file; APPEND_BLOCK adds blocks; EXEC_LOAD runs
//!   the load; DELETE_FILE abandons it.
//! - MySQL 5.0.3+: BEGIN_LOAD_QUERY (first block) + APPEND_BLOCK … +
//!   EXECUTE_LOAD_QUERY (a QUERY with the statement text, see
//!   [`super::query::ExecuteLoadQueryEvent`]).

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// Post-header of LOAD/NEW_LOAD: thread id, exec time, skip lines, table
/// name length, schema length, field count.
pub const LOAD_HEADER_LEN: usize = 18;

const FIELD_TERM_EMPTY: u8 = 0x1;
const ENCLOSED_EMPTY: u8 = 0x2;
const LINE_TERM_EMPTY: u8 = 0x4;
const LINE_START_EMPTY: u8 = 0x8;
const ESCAPED_EMPTY: u8 = 0x10;

/// The FIELDS/LINES clauses of the LOAD DATA statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqlEx<'a> {
    pub field_term: &'a [u8],
    pub enclosed: &'a [u8],
    pub line_term: &'a [u8],
    pub line_start: &'a [u8],
    pub escaped: &'a [u8],
    /// DUMPFILE/OPT_ENCLOSED/REPLACE/IGNORE bits.
    pub opt_flags: u8,
}

impl<'a> SqlEx<'a> {
    /// `new_format`: five length-prefixed strings (NEW_LOAD, CREATE_FILE);
    /// otherwise one byte each plus a mask of empty ones (LOAD).
    fn parse(r: &mut ByteReader<'a>, new_format: bool) -> Result<Self, BodyError> {
        if new_format {
            let mut s = || -> Result<&'a [u8], BodyError> {
                let len = r.u8()? as usize;
                r.take(len)
            };
            let (field_term, enclosed, line_term, line_start, escaped) =
                (s()?, s()?, s()?, s()?, s()?);
            Ok(SqlEx {
                field_term,
                enclosed,
                line_term,
                line_start,
                escaped,
                opt_flags: r.u8()?,
            })
        } else {
            let b = r.take(7)?;
            let one = |i: usize, empty: u8| {
                if b[6] & empty != 0 {
                    &b[i..i]
                } else {
                    &b[i..i + 1]
                }
            };
            Ok(SqlEx {
                field_term: one(0, FIELD_TERM_EMPTY),
                enclosed: one(1, ENCLOSED_EMPTY),
                line_term: one(2, LINE_TERM_EMPTY),
                line_start: one(3, LINE_START_EMPTY),
                escaped: one(4, ESCAPED_EMPTY),
                opt_flags: b[5],
            })
        }
    }
}

/// LOAD, NEW_LOAD and CREATE_FILE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadEvent<'a> {
    pub thread_id: u32,
    pub exec_time: u32,
    pub skip_lines: u32,
    pub table: &'a [u8],
    pub schema: &'a [u8],
    /// Column list of the statement (may be empty).
    pub fields: Vec<&'a [u8]>,
    pub sql_ex: SqlEx<'a>,
    /// The file name given to LOAD DATA.
    pub file_name: &'a [u8],
    /// CREATE_FILE only: the id later APPEND_BLOCK/EXEC_LOAD refer to.
    pub file_id: Option<u32>,
    /// CREATE_FILE only: the first block of the file.
    pub block: &'a [u8],
}

impl<'a> LoadEvent<'a> {
    /// `type_code` is LOAD, NEW_LOAD or CREATE_FILE.
    pub fn parse(
        body: &'a [u8],
        type_code: u8,
        fde: &FormatDescription,
    ) -> Result<Self, BodyError> {
        let load_header_len = fde
            .post_header_len(et::LOAD)
            .map_or(LOAD_HEADER_LEN, |l| l as usize);
        let mut r = ByteReader::new(body);
        let mut ph = ByteReader::new(r.take(load_header_len)?);
        let thread_id = ph.u32()?;
        let exec_time = ph.u32()?;
        let skip_lines = ph.u32()?;
        let table_len = ph.u8()? as usize;
        let schema_len = ph.u8()? as usize;
        let field_count = ph.u32()? as usize;
        let file_id = if type_code == et::CREATE_FILE {
            let create_header_len = fde.post_header_len(et::CREATE_FILE).unwrap_or(4) as usize;
            let mut ch = ByteReader::new(r.take(create_header_len)?);
            Some(ch.u32()?)
        } else {
            None
        };
        let sql_ex = SqlEx::parse(&mut r, type_code != et::LOAD)?;
        if field_count > r.remaining() {
            return Err(BodyError::Invalid(format!(
                "{field_count} fields cannot fit in the {} bytes left",
                r.remaining()
            )));
        }
        let lens = r.take(field_count)?;
        let mut fields = Vec::with_capacity(field_count);
        for &len in lens {
            fields.push(r.take(len as usize)?);
            r.skip(1)?;
        }
        let table = r.take(table_len)?;
        r.skip(1)?;
        let schema = r.take(schema_len)?;
        r.skip(1)?;
        let rest = r.take_rest();
        let name_end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let file_name = &rest[..name_end];
        let block = if type_code == et::CREATE_FILE {
            rest.get(name_end + 1..).unwrap_or(&[])
        } else {
            &[]
        };
        Ok(LoadEvent {
            thread_id,
            exec_time,
            skip_lines,
            table,
            schema,
            fields,
            sql_ex,
            file_name,
            file_id,
            block,
        })
    }

    pub fn file_name_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.file_name)
    }
}

/// APPEND_BLOCK and BEGIN_LOAD_QUERY: a block of the file being loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendBlockEvent<'a> {
    pub file_id: u32,
    pub block: &'a [u8],
}

impl<'a> AppendBlockEvent<'a> {
    pub fn parse(
        body: &'a [u8],
        type_code: u8,
        fde: &FormatDescription,
    ) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let post_header_len = fde.post_header_len(type_code).unwrap_or(4) as usize;
        let mut ph = ByteReader::new(r.take(post_header_len.max(4))?);
        Ok(AppendBlockEvent {
            file_id: ph.u32()?,
            block: r.take_rest(),
        })
    }
}

/// EXEC_LOAD and DELETE_FILE: act on the file with this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdEvent {
    pub file_id: u32,
}

impl FileIdEvent {
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        Ok(FileIdEvent {
            file_id: ByteReader::new(body).u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    fn load_post_header(table: &str, schema: &str, fields: u32) -> Vec<u8> {
        let mut b = vec![];
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.push(table.len() as u8);
        b.push(schema.len() as u8);
        b.extend_from_slice(&fields.to_le_bytes());
        b
    }

    #[test]
    fn old_load_event() {
        let mut b = load_post_header("t1", "test", 2);
        b.extend_from_slice(&[
            b'\t',
            b'"',
            b'\n',
            b' ',
            b'\\',
            0,
            LINE_START_EMPTY | ENCLOSED_EMPTY,
        ]);
        b.extend_from_slice(&[1, 2]);
        b.extend_from_slice(b"a\0bc\0t1\0test\0/tmp/x.txt");
        let fde = FormatDescription::for_old_binlog(3, "4.0.18", 0);
        let e = LoadEvent::parse(&b, et::LOAD, &fde).unwrap();
        assert_eq!((e.thread_id, e.exec_time, e.skip_lines), (7, 1, 2));
        assert_eq!((e.table, e.schema), (&b"t1"[..], &b"test"[..]));
        assert_eq!(e.fields, vec![&b"a"[..], &b"bc"[..]]);
        assert_eq!(e.sql_ex.field_term, b"\t");
        assert_eq!(e.sql_ex.enclosed, b"");
        assert_eq!(e.sql_ex.line_start, b"");
        assert_eq!(e.sql_ex.escaped, b"\\");
        assert_eq!(e.file_name_str(), "/tmp/x.txt");
        assert!(LoadEvent::parse(&b[..30], et::LOAD, &fde).is_err());
    }

    #[test]
    fn create_file_event_with_block() {
        let mut b = load_post_header("t", "d", 0);
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&[1, b',', 0, 1, b'\n', 0, 0, 0]);
        b.extend_from_slice(b"t\0d\0/f\0DATA");
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let e = LoadEvent::parse(&b, et::CREATE_FILE, &fde).unwrap();
        assert_eq!(e.file_id, Some(9));
        assert_eq!(e.sql_ex.field_term, b",");
        assert_eq!(e.sql_ex.line_term, b"\n");
        assert_eq!(e.file_name, b"/f");
        assert_eq!(e.block, b"DATA");
    }

    #[test]
    fn block_and_file_id_events() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(b"1,\"abc\"\n");
        let e = AppendBlockEvent::parse(&b, et::BEGIN_LOAD_QUERY, &fde).unwrap();
        assert_eq!((e.file_id, e.block), (1, &b"1,\"abc\"\n"[..]));
        assert_eq!(FileIdEvent::parse(&5u32.to_le_bytes()).unwrap().file_id, 5);
        assert!(FileIdEvent::parse(&[1]).is_err());
    }
}
