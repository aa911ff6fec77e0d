//! QUERY_EVENT (statements, BEGIN/COMMIT, DDL) and EXECUTE_LOAD_QUERY,
//! which is a QUERY with a longer post-header.
//!
//! Layout: post-header `thread_id u32 | exec_time u32 | schema_len u8 |
//! error_code u16 | status_vars_len u16` (the last only from binlog v4 on,
//! then possibly more post-header for derived events), the status
//! variables, the schema name and a NUL, and the statement to the end.

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// Post-header of QUERY in binlog v1/v3 (no status variables).
pub const QUERY_HEADER_MINIMAL_LEN: usize = 11;
/// Post-header of QUERY in binlog v4.
pub const QUERY_HEADER_LEN: usize = 13;

/// Status variable codes (MySQL `Query_event_status_vars`, MariaDB from 128).
pub mod status_code {
    pub const FLAGS2: u8 = 0;
    pub const SQL_MODE: u8 = 1;
    /// 5.0.0–5.0.3 catalog: length, bytes, NUL.
    pub const CATALOG: u8 = 2;
    pub const AUTO_INCREMENT: u8 = 3;
    pub const CHARSET: u8 = 4;
    pub const TIME_ZONE: u8 = 5;
    /// Catalog without the NUL (every server since 5.0.4).
    pub const CATALOG_NZ: u8 = 6;
    pub const LC_TIME_NAMES: u8 = 7;
    pub const CHARSET_DATABASE: u8 = 8;
    pub const TABLE_MAP_FOR_UPDATE: u8 = 9;
    pub const MASTER_DATA_WRITTEN: u8 = 10;
    pub const INVOKER: u8 = 11;
    pub const UPDATED_DB_NAMES: u8 = 12;
    pub const MICROSECONDS: u8 = 13;
    /// Reserved by MySQL and never written; MySQL's own reader stops at it.
    pub const COMMIT_TS: u8 = 14;
    pub const COMMIT_TS2: u8 = 15;
    pub const EXPLICIT_DEFAULTS_FOR_TIMESTAMP: u8 = 16;
    pub const DDL_LOGGED_WITH_XID: u8 = 17;
    pub const DEFAULT_COLLATION_FOR_UTF8MB4: u8 = 18;
    pub const SQL_REQUIRE_PRIMARY_KEY: u8 = 19;
    pub const DEFAULT_TABLE_ENCRYPTION: u8 = 20;
    /// MariaDB: microseconds of the event timestamp.
    pub const HRNOW: u8 = 128;
    /// MariaDB: XID of a DDL.
    pub const MARIA_XID: u8 = 129;
    /// MariaDB: extra GTID flags (plus a sequence number for ALTER phases).
    pub const GTID_FLAGS3: u8 = 130;
    /// MariaDB 11: character set → collation map.
    pub const CHARACTER_SET_COLLATIONS: u8 = 131;
}

/// More than this many updated databases are logged as "over max".
const MAX_DBS_IN_EVENT_MTS: u8 = 16;
/// MariaDB GTID_FLAGS3 bits that are followed by an 8-byte sequence number.
const FL_COMMIT_ALTER_E1: u8 = 4;
const FL_ROLLBACK_ALTER_E1: u8 = 8;

/// Session character sets in force for the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryCharset {
    /// `character_set_client` (a collation id of that charset).
    pub client: u16,
    pub collation_connection: u16,
    pub collation_server: u16,
}

/// Definer of a stored routine/view/trigger statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoker<'a> {
    pub user: &'a [u8],
    pub host: &'a [u8],
}

/// Databases a statement touched, for multi-threaded replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatedDbNames<'a> {
    /// More databases than the server logs; names not given.
    OverMax,
    /// `count` NUL-terminated names.
    Names { count: u8, raw: &'a [u8] },
}

impl<'a> UpdatedDbNames<'a> {
    pub fn names(&self) -> impl Iterator<Item = &'a [u8]> {
        let (count, raw) = match *self {
            UpdatedDbNames::OverMax => (0, &[][..]),
            UpdatedDbNames::Names { count, raw } => (count as usize, raw),
        };
        raw.split(|&b| b == 0).take(count)
    }
}

/// The status variables of a QUERY event. Absent variables are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusVars<'a> {
    pub flags2: Option<u32>,
    pub sql_mode: Option<u64>,
    pub catalog: Option<&'a [u8]>,
    /// (auto_increment_increment, auto_increment_offset)
    pub auto_increment: Option<(u16, u16)>,
    pub charset: Option<QueryCharset>,
    pub time_zone: Option<&'a [u8]>,
    pub lc_time_names: Option<u16>,
    pub charset_database: Option<u16>,
    pub table_map_for_update: Option<u64>,
    pub master_data_written: Option<u32>,
    pub invoker: Option<Invoker<'a>>,
    pub updated_db_names: Option<UpdatedDbNames<'a>>,
    /// Microseconds of the statement start (MySQL).
    pub microseconds: Option<u32>,
    pub explicit_defaults_for_timestamp: Option<bool>,
    pub ddl_xid: Option<u64>,
    pub default_collation_for_utf8mb4: Option<u16>,
    pub sql_require_primary_key: Option<u8>,
    pub default_table_encryption: Option<u8>,
    /// MariaDB: microseconds of the event timestamp.
    pub hrnow: Option<u32>,
    /// MariaDB: XID of a DDL statement.
    pub mariadb_xid: Option<u64>,
    /// MariaDB: extra GTID flags, and the START ALTER sequence number
    /// that a COMMIT/ROLLBACK ALTER refers to.
    pub gtid_flags3: Option<u8>,
    pub start_alter_seq_no: Option<u64>,
    /// MariaDB 11: `count` pairs of (charset id u16, collation id u16).
    pub character_set_collations: Option<&'a [u8]>,
    /// The first code this decoder does not know. Status variables are
    /// written in increasing code order and carry no length, so parsing
    /// stops there, as the server's own reader does.
    pub unknown_code: Option<u8>,
}

impl<'a> StatusVars<'a> {
    /// Parse the status-variable block. A variable running past the block
    /// is corruption; an unknown code ends the parse.
    pub fn parse(block: &'a [u8]) -> Result<Self, BodyError> {
        use status_code::*;
        let mut v = StatusVars::default();
        let mut r = ByteReader::new(block);
        while !r.is_empty() {
            let code = r.u8()?;
            let overrun = |e: BodyError| {
                BodyError::Invalid(format!(
                    "status variable {code} overruns the status block: {e}"
                ))
            };
            let mut field = || -> Result<bool, BodyError> {
                match code {
                    FLAGS2 => v.flags2 = Some(r.u32()?),
                    SQL_MODE => v.sql_mode = Some(r.u64()?),
                    CATALOG => {
                        let len = r.u8()? as usize;
                        v.catalog = Some(r.take(len)?);
                        r.skip(1)?; // the terminating NUL
                    }
                    AUTO_INCREMENT => v.auto_increment = Some((r.u16()?, r.u16()?)),
                    CHARSET => {
                        v.charset = Some(QueryCharset {
                            client: r.u16()?,
                            collation_connection: r.u16()?,
                            collation_server: r.u16()?,
                        })
                    }
                    TIME_ZONE => {
                        let len = r.u8()? as usize;
                        v.time_zone = Some(r.take(len)?);
                    }
                    CATALOG_NZ => {
                        let len = r.u8()? as usize;
                        v.catalog = Some(r.take(len)?);
                    }
                    LC_TIME_NAMES => v.lc_time_names = Some(r.u16()?),
                    CHARSET_DATABASE => v.charset_database = Some(r.u16()?),
                    TABLE_MAP_FOR_UPDATE => v.table_map_for_update = Some(r.u64()?),
                    MASTER_DATA_WRITTEN => v.master_data_written = Some(r.u32()?),
                    INVOKER => {
                        let ulen = r.u8()? as usize;
                        let user = r.take(ulen)?;
                        let hlen = r.u8()? as usize;
                        let host = r.take(hlen)?;
                        v.invoker = Some(Invoker { user, host });
                    }
                    UPDATED_DB_NAMES => {
                        let count = r.u8()?;
                        if count > MAX_DBS_IN_EVENT_MTS {
                            v.updated_db_names = Some(UpdatedDbNames::OverMax);
                        } else {
                            let start = r.rest();
                            for _ in 0..count {
                                r.nul_terminated()?;
                            }
                            let used = start.len() - r.remaining();
                            v.updated_db_names = Some(UpdatedDbNames::Names {
                                count,
                                raw: &start[..used],
                            });
                        }
                    }
                    MICROSECONDS => v.microseconds = Some(r.u24()?),
                    EXPLICIT_DEFAULTS_FOR_TIMESTAMP => {
                        v.explicit_defaults_for_timestamp = Some(r.u8()? != 0)
                    }
                    DDL_LOGGED_WITH_XID => v.ddl_xid = Some(r.u64()?),
                    DEFAULT_COLLATION_FOR_UTF8MB4 => {
                        v.default_collation_for_utf8mb4 = Some(r.u16()?)
                    }
                    SQL_REQUIRE_PRIMARY_KEY => v.sql_require_primary_key = Some(r.u8()?),
                    DEFAULT_TABLE_ENCRYPTION => v.default_table_encryption = Some(r.u8()?),
                    HRNOW => v.hrnow = Some(r.u24()?),
                    MARIA_XID => v.mariadb_xid = Some(r.u64()?),
                    GTID_FLAGS3 => {
                        let flags = r.u8()?;
                        v.gtid_flags3 = Some(flags);
                        if flags & (FL_COMMIT_ALTER_E1 | FL_ROLLBACK_ALTER_E1) != 0 {
                            v.start_alter_seq_no = Some(r.u64()?);
                        }
                    }
                    CHARACTER_SET_COLLATIONS => {
                        let count = r.u8()? as usize;
                        v.character_set_collations = Some(r.take(count * 4)?);
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            };
            match field() {
                Ok(true) => {}
                Ok(false) => {
                    v.unknown_code = Some(code);
                    break;
                }
                Err(e) => return Err(overrun(e)),
            }
        }
        Ok(v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryEvent<'a> {
    pub thread_id: u32,
    /// Seconds the statement ran on the source.
    pub exec_time: u32,
    pub error_code: u16,
    pub status_vars: StatusVars<'a>,
    /// Default database of the session (may be empty).
    pub schema: &'a [u8],
    /// The statement, in the client's character set.
    pub query: &'a [u8],
}

impl<'a> QueryEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let post_header_len = fde
            .post_header_len(et::QUERY)
            .map_or(QUERY_HEADER_LEN, |l| l as usize);
        Self::parse_with_post_header(body, post_header_len).map(|(q, _)| q)
    }

    /// Parse with an explicit post-header length (derived events have a
    /// longer one); also returns the post-header bytes beyond QUERY's own.
    pub fn parse_with_post_header(
        body: &'a [u8],
        post_header_len: usize,
    ) -> Result<(Self, &'a [u8]), BodyError> {
        if post_header_len < QUERY_HEADER_MINIMAL_LEN {
            return Err(BodyError::Invalid(format!(
                "QUERY post-header length {post_header_len} is below {QUERY_HEADER_MINIMAL_LEN}"
            )));
        }
        let mut r = ByteReader::new(body);
        let mut ph = ByteReader::new(r.take(post_header_len)?);
        let thread_id = ph.u32()?;
        let exec_time = ph.u32()?;
        let schema_len = ph.u8()? as usize;
        let error_code = ph.u16()?;
        let status_len = if post_header_len >= QUERY_HEADER_LEN {
            ph.u16()? as usize
        } else {
            0
        };
        let extra_post_header = ph.rest();
        if status_len > r.remaining() {
            return Err(BodyError::Invalid(format!(
                "status variables length {status_len} exceeds the {} bytes left in the event",
                r.remaining()
            )));
        }
        let status_vars = StatusVars::parse(r.take(status_len)?)?;
        let schema = r.take(schema_len).map_err(|_| {
            BodyError::Invalid(format!(
                "schema name length {schema_len} exceeds the {} bytes left in the event",
                r.remaining()
            ))
        })?;
        match r.u8() {
            Ok(0) => {}
            _ => {
                return Err(BodyError::Invalid(
                    "schema name is not NUL-terminated".into(),
                ))
            }
        }
        let query = r.take_rest();
        Ok((
            QueryEvent {
                thread_id,
                exec_time,
                error_code,
                status_vars,
                schema,
                query,
            },
            extra_post_header,
        ))
    }

    /// The schema name as text (identifiers are UTF-8 in the binlog).
    pub fn schema_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.schema)
    }

    /// The statement as text; bytes that are not UTF-8 are replaced.
    pub fn query_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.query)
    }
}

/// How LOAD DATA treats duplicate keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupHandling {
    Error,
    Ignore,
    Replace,
    Other(u8),
}

/// EXECUTE_LOAD_QUERY: the LOAD DATA statement that consumes the file
/// built by BEGIN_LOAD_QUERY/APPEND_BLOCK events with the same `file_id`.
/// `fn_start..fn_end` is the part of the statement naming the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecuteLoadQueryEvent<'a> {
    pub query: QueryEvent<'a>,
    pub file_id: u32,
    pub fn_start: u32,
    pub fn_end: u32,
    pub dup_handling: DupHandling,
}

impl<'a> ExecuteLoadQueryEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let post_header_len = fde
            .post_header_len(et::EXECUTE_LOAD_QUERY)
            .map_or(QUERY_HEADER_LEN + 13, |l| l as usize);
        let (query, extra) = QueryEvent::parse_with_post_header(body, post_header_len)?;
        let mut r = ByteReader::new(extra);
        let file_id = r.u32()?;
        let fn_start = r.u32()?;
        let fn_end = r.u32()?;
        let dup_handling = match r.u8()? {
            0 => DupHandling::Error,
            1 => DupHandling::Ignore,
            2 => DupHandling::Replace,
            other => DupHandling::Other(other),
        };
        if fn_start > fn_end || fn_end as usize > query.query.len() {
            return Err(BodyError::Invalid(format!(
                "file name position {fn_start}..{fn_end} outside the {}-byte statement",
                query.query.len()
            )));
        }
        Ok(ExecuteLoadQueryEvent {
            query,
            file_id,
            fn_start,
            fn_end,
            dup_handling,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_body(status: &[u8], schema: &[u8], query: &[u8]) -> Vec<u8> {
        let mut b = vec![];
        b.extend_from_slice(&42u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.push(schema.len() as u8);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(status.len() as u16).to_le_bytes());
        b.extend_from_slice(status);
        b.extend_from_slice(schema);
        b.push(0);
        b.extend_from_slice(query);
        b
    }

    #[test]
    fn every_status_variable() {
        let mut s = vec![];
        s.push(0);
        s.extend_from_slice(&0x4000u32.to_le_bytes());
        s.push(1);
        s.extend_from_slice(&0x1234_5678_9abcu64.to_le_bytes());
        s.extend_from_slice(&[6, 3, b's', b't', b'd']);
        s.extend_from_slice(&[3, 2, 0, 1, 0]);
        s.extend_from_slice(&[4, 33, 0, 45, 0, 8, 0]);
        s.extend_from_slice(&[5, 6, b'+', b'0', b'0', b':', b'0', b'0']);
        s.extend_from_slice(&[7, 1, 0]);
        s.extend_from_slice(&[8, 28, 0]);
        s.push(9);
        s.extend_from_slice(&5u64.to_le_bytes());
        s.push(10);
        s.extend_from_slice(&99u32.to_le_bytes());
        s.extend_from_slice(&[
            11, 4, b'r', b'o', b'o', b't', 9, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't',
        ]);
        s.extend_from_slice(&[12, 2, b'a', 0, b'b', b'c', 0]);
        s.extend_from_slice(&[13, 1, 2, 3]);
        s.extend_from_slice(&[16, 1]);
        s.push(17);
        s.extend_from_slice(&77u64.to_le_bytes());
        s.extend_from_slice(&[18, 255, 0]);
        s.extend_from_slice(&[19, 1]);
        s.extend_from_slice(&[20, 0]);
        s.extend_from_slice(&[128, 0x40, 0x42, 0x0f]);
        s.push(129);
        s.extend_from_slice(&1234u64.to_le_bytes());
        s.push(130);
        s.push(FL_COMMIT_ALTER_E1);
        s.extend_from_slice(&55u64.to_le_bytes());
        s.extend_from_slice(&[131, 1, 45, 0, 46, 0]);
        let body = query_body(&s, b"db1", b"CREATE TABLE t (a INT)");
        let q = QueryEvent::parse_with_post_header(&body, 13).unwrap().0;
        let v = q.status_vars;
        assert_eq!(q.thread_id, 42);
        assert_eq!(q.exec_time, 3);
        assert_eq!(q.schema, b"db1");
        assert_eq!(q.query_str(), "CREATE TABLE t (a INT)");
        assert_eq!(v.flags2, Some(0x4000));
        assert_eq!(v.sql_mode, Some(0x1234_5678_9abc));
        assert_eq!(v.catalog, Some(&b"std"[..]));
        assert_eq!(v.auto_increment, Some((2, 1)));
        assert_eq!(
            v.charset,
            Some(QueryCharset {
                client: 33,
                collation_connection: 45,
                collation_server: 8
            })
        );
        assert_eq!(v.time_zone, Some(&b"+00:00"[..]));
        assert_eq!(v.lc_time_names, Some(1));
        assert_eq!(v.charset_database, Some(28));
        assert_eq!(v.table_map_for_update, Some(5));
        assert_eq!(v.master_data_written, Some(99));
        assert_eq!(
            v.invoker,
            Some(Invoker {
                user: b"root",
                host: b"localhost"
            })
        );
        let names: Vec<_> = v.updated_db_names.unwrap().names().collect();
        assert_eq!(names, vec![&b"a"[..], &b"bc"[..]]);
        assert_eq!(v.microseconds, Some(0x030201));
        assert_eq!(v.explicit_defaults_for_timestamp, Some(true));
        assert_eq!(v.ddl_xid, Some(77));
        assert_eq!(v.default_collation_for_utf8mb4, Some(255));
        assert_eq!(v.sql_require_primary_key, Some(1));
        assert_eq!(v.default_table_encryption, Some(0));
        assert_eq!(v.hrnow, Some(1_000_000));
        assert_eq!(v.mariadb_xid, Some(1234));
        assert_eq!(v.gtid_flags3, Some(FL_COMMIT_ALTER_E1));
        assert_eq!(v.start_alter_seq_no, Some(55));
        assert_eq!(v.character_set_collations, Some(&[45, 0, 46, 0][..]));
        assert_eq!(v.unknown_code, None);
    }

    #[test]
    fn old_catalog_form_and_over_max_db_names() {
        let s = [2, 3, b's', b't', b'd', 0, 12, 254];
        let v = StatusVars::parse(&s).unwrap();
        assert_eq!(v.catalog, Some(&b"std"[..]));
        assert_eq!(v.updated_db_names, Some(UpdatedDbNames::OverMax));
        assert_eq!(v.updated_db_names.unwrap().names().count(), 0);
    }

    #[test]
    fn unknown_status_code_stops_parsing_safely() {
        let s = [0, 1, 0, 0, 0, 99, 0xff, 0xff, 0xff];
        let v = StatusVars::parse(&s).unwrap();
        assert_eq!(v.flags2, Some(1));
        assert_eq!(v.unknown_code, Some(99));
        let body = query_body(&s, b"", b"BEGIN");
        let q = QueryEvent::parse_with_post_header(&body, 13).unwrap().0;
        assert_eq!(q.query, b"BEGIN");
        assert_eq!(q.schema, b"");
    }

    #[test]
    fn overrunning_status_variable_is_corruption() {
        assert!(StatusVars::parse(&[1, 0, 0]).is_err());
        assert!(StatusVars::parse(&[5, 10, b'x']).is_err());
    }

    #[test]
    fn status_length_beyond_event_is_corruption() {
        let mut body = query_body(&[], b"db", b"SELECT 1");
        body[11..13].copy_from_slice(&0x3531u16.to_le_bytes());
        assert!(QueryEvent::parse_with_post_header(&body, 13).is_err());
    }

    #[test]
    fn pre_v4_query_has_no_status_vars() {
        let mut b = vec![0u8; 11];
        b[8] = 2;
        b.extend_from_slice(b"db\0SELECT 1");
        let q = QueryEvent::parse_with_post_header(&b, 11).unwrap().0;
        assert_eq!(q.schema, b"db");
        assert_eq!(q.query, b"SELECT 1");
    }

    #[test]
    fn execute_load_query_extra_post_header() {
        let mut b = vec![];
        b.extend_from_slice(&23u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(1);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&5u32.to_le_bytes());
        b.extend_from_slice(&10u32.to_le_bytes());
        b.push(2);
        b.extend_from_slice(b"d\0LOAD 'abc' X");
        let mut fde = FormatDescription::default_v4(crate::fde::ChecksumAlg::Off);
        fde.post_header_lengths[et::EXECUTE_LOAD_QUERY as usize - 1] = 26;
        let e = ExecuteLoadQueryEvent::parse(&b, &fde).unwrap();
        assert_eq!((e.file_id, e.fn_start, e.fn_end), (1, 5, 10));
        assert_eq!(e.dup_handling, DupHandling::Replace);
        assert_eq!(e.query.query, b"LOAD 'abc' X");
        assert_eq!(e.query.thread_id, 23);
    }
}
