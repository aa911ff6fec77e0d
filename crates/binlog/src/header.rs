//! The common v4 event header (19 bytes) and event type codes.

use crate::bytes::ByteReader;
use crate::error::BodyError;

/// Every binlog file starts with these four bytes.
pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
/// Size of the v4 common header.
pub const HEADER_LEN: usize = 19;

/// Event header flag: the binlog was not closed cleanly (set in the FDE
/// while the server writes the file). The FDE checksum is computed with it
/// cleared.
pub const LOG_EVENT_BINLOG_IN_USE_F: u16 = 0x1;
/// Event header flag: an event a reader may skip if it does not know it.
pub const LOG_EVENT_IGNORABLE_F: u16 = 0x80;
/// Header length of binlog format v1 (MySQL 3.23): no log_pos, no flags.
pub const OLD_HEADER_LEN: usize = 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    pub timestamp: u32,
    /// Type code as written in the file (before any pre-GA permutation).
    pub type_code: u8,
    pub server_id: u32,
    /// Total size including header and checksum.
    pub event_size: u32,
    /// Position of the next event (master's position in relay logs).
    pub log_pos: u32,
    pub flags: u16,
}

impl EventHeader {
    /// Parse a v4 (19-byte) header.
    pub fn parse(buf: &[u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(buf);
        Ok(EventHeader {
            timestamp: r.u32()?,
            type_code: r.u8()?,
            server_id: r.u32()?,
            event_size: r.u32()?,
            log_pos: r.u32()?,
            flags: r.u16()?,
        })
    }

    /// Parse a header of `header_len` bytes: 19 (v3/v4, longer headers
    /// have unknown trailing fields) or 13 (v1, without log_pos and flags).
    pub fn parse_with_len(buf: &[u8], header_len: usize) -> Result<Self, BodyError> {
        if header_len >= HEADER_LEN {
            return Self::parse(buf);
        }
        let mut r = ByteReader::new(buf);
        Ok(EventHeader {
            timestamp: r.u32()?,
            type_code: r.u8()?,
            server_id: r.u32()?,
            event_size: r.u32()?,
            log_pos: 0,
            flags: 0,
        })
    }

    /// True if the server marked the event as safe to skip when unknown.
    pub fn is_ignorable(&self) -> bool {
        self.flags & LOG_EVENT_IGNORABLE_F != 0
    }
}

/// Event type codes (MySQL `Log_event_type`, MariaDB additions from 160).
pub mod event_type {
    pub const UNKNOWN: u8 = 0;
    pub const START_V3: u8 = 1;
    pub const QUERY: u8 = 2;
    pub const STOP: u8 = 3;
    pub const ROTATE: u8 = 4;
    pub const INTVAR: u8 = 5;
    pub const LOAD: u8 = 6;
    pub const SLAVE: u8 = 7;
    pub const CREATE_FILE: u8 = 8;
    pub const APPEND_BLOCK: u8 = 9;
    pub const EXEC_LOAD: u8 = 10;
    pub const DELETE_FILE: u8 = 11;
    pub const NEW_LOAD: u8 = 12;
    pub const RAND: u8 = 13;
    pub const USER_VAR: u8 = 14;
    pub const FORMAT_DESCRIPTION: u8 = 15;
    pub const XID: u8 = 16;
    pub const BEGIN_LOAD_QUERY: u8 = 17;
    pub const EXECUTE_LOAD_QUERY: u8 = 18;
    pub const TABLE_MAP: u8 = 19;
    pub const PRE_GA_WRITE_ROWS: u8 = 20;
    pub const PRE_GA_UPDATE_ROWS: u8 = 21;
    pub const PRE_GA_DELETE_ROWS: u8 = 22;
    pub const WRITE_ROWS_V1: u8 = 23;
    pub const UPDATE_ROWS_V1: u8 = 24;
    pub const DELETE_ROWS_V1: u8 = 25;
    pub const INCIDENT: u8 = 26;
    pub const HEARTBEAT: u8 = 27;
    pub const IGNORABLE: u8 = 28;
    pub const ROWS_QUERY: u8 = 29;
    pub const WRITE_ROWS: u8 = 30;
    pub const UPDATE_ROWS: u8 = 31;
    pub const DELETE_ROWS: u8 = 32;
    pub const GTID: u8 = 33;
    pub const ANONYMOUS_GTID: u8 = 34;
    pub const PREVIOUS_GTIDS: u8 = 35;
    pub const TRANSACTION_CONTEXT: u8 = 36;
    pub const VIEW_CHANGE: u8 = 37;
    pub const XA_PREPARE: u8 = 38;
    pub const PARTIAL_UPDATE_ROWS: u8 = 39;
    pub const TRANSACTION_PAYLOAD: u8 = 40;
    pub const HEARTBEAT_V2: u8 = 41;
    pub const GTID_TAGGED: u8 = 42;
    /// Amazon Aurora's padding event (ignorable).
    pub const AURORA_PADDING: u8 = 100;
    pub const MARIA_ANNOTATE_ROWS: u8 = 160;
    pub const MARIA_BINLOG_CHECKPOINT: u8 = 161;
    pub const MARIA_GTID: u8 = 162;
    pub const MARIA_GTID_LIST: u8 = 163;
    pub const MARIA_START_ENCRYPTION: u8 = 164;
    pub const MARIA_QUERY_COMPRESSED: u8 = 165;
    pub const MARIA_WRITE_ROWS_COMPRESSED_V1: u8 = 166;
    pub const MARIA_UPDATE_ROWS_COMPRESSED_V1: u8 = 167;
    pub const MARIA_DELETE_ROWS_COMPRESSED_V1: u8 = 168;
    pub const MARIA_WRITE_ROWS_COMPRESSED: u8 = 169;
    pub const MARIA_UPDATE_ROWS_COMPRESSED: u8 = 170;
    pub const MARIA_DELETE_ROWS_COMPRESSED: u8 = 171;

    /// The server's name for a type code (as `mysqlbinlog` prints it),
    /// for messages. Takes a normalized code (see `FormatDescription::normalize_type`).
    pub fn name(code: u8) -> &'static str {
        match code {
            START_V3 => "START_V3",
            QUERY => "QUERY",
            STOP => "STOP",
            ROTATE => "ROTATE",
            INTVAR => "INTVAR",
            LOAD => "LOAD",
            SLAVE => "SLAVE",
            CREATE_FILE => "CREATE_FILE",
            APPEND_BLOCK => "APPEND_BLOCK",
            EXEC_LOAD => "EXEC_LOAD",
            DELETE_FILE => "DELETE_FILE",
            NEW_LOAD => "NEW_LOAD",
            RAND => "RAND",
            USER_VAR => "USER_VAR",
            FORMAT_DESCRIPTION => "FORMAT_DESCRIPTION",
            XID => "XID",
            BEGIN_LOAD_QUERY => "BEGIN_LOAD_QUERY",
            EXECUTE_LOAD_QUERY => "EXECUTE_LOAD_QUERY",
            TABLE_MAP => "TABLE_MAP",
            PRE_GA_WRITE_ROWS => "PRE_GA_WRITE_ROWS",
            PRE_GA_UPDATE_ROWS => "PRE_GA_UPDATE_ROWS",
            PRE_GA_DELETE_ROWS => "PRE_GA_DELETE_ROWS",
            WRITE_ROWS_V1 => "WRITE_ROWS_V1",
            UPDATE_ROWS_V1 => "UPDATE_ROWS_V1",
            DELETE_ROWS_V1 => "DELETE_ROWS_V1",
            INCIDENT => "INCIDENT",
            HEARTBEAT => "HEARTBEAT",
            IGNORABLE => "IGNORABLE",
            ROWS_QUERY => "ROWS_QUERY",
            WRITE_ROWS => "WRITE_ROWS",
            UPDATE_ROWS => "UPDATE_ROWS",
            DELETE_ROWS => "DELETE_ROWS",
            GTID => "GTID",
            ANONYMOUS_GTID => "ANONYMOUS_GTID",
            PREVIOUS_GTIDS => "PREVIOUS_GTIDS",
            TRANSACTION_CONTEXT => "TRANSACTION_CONTEXT",
            VIEW_CHANGE => "VIEW_CHANGE",
            XA_PREPARE => "XA_PREPARE",
            PARTIAL_UPDATE_ROWS => "PARTIAL_UPDATE_ROWS",
            TRANSACTION_PAYLOAD => "TRANSACTION_PAYLOAD",
            HEARTBEAT_V2 => "HEARTBEAT_V2",
            GTID_TAGGED => "GTID_TAGGED",
            AURORA_PADDING => "AURORA_PADDING",
            MARIA_ANNOTATE_ROWS => "ANNOTATE_ROWS",
            MARIA_BINLOG_CHECKPOINT => "BINLOG_CHECKPOINT",
            MARIA_GTID => "MARIADB_GTID",
            MARIA_GTID_LIST => "GTID_LIST",
            MARIA_START_ENCRYPTION => "START_ENCRYPTION",
            MARIA_QUERY_COMPRESSED => "QUERY_COMPRESSED",
            MARIA_WRITE_ROWS_COMPRESSED_V1 => "WRITE_ROWS_COMPRESSED_V1",
            MARIA_UPDATE_ROWS_COMPRESSED_V1 => "UPDATE_ROWS_COMPRESSED_V1",
            MARIA_DELETE_ROWS_COMPRESSED_V1 => "DELETE_ROWS_COMPRESSED_V1",
            MARIA_WRITE_ROWS_COMPRESSED => "WRITE_ROWS_COMPRESSED",
            MARIA_UPDATE_ROWS_COMPRESSED => "UPDATE_ROWS_COMPRESSED",
            MARIA_DELETE_ROWS_COMPRESSED => "DELETE_ROWS_COMPRESSED",
            _ => "UNKNOWN",
        }
    }

    /// True for every rows-event type code (normalized), compressed or not.
    pub fn is_rows(code: u8) -> bool {
        matches!(code, PRE_GA_WRITE_ROWS..=DELETE_ROWS_V1 | WRITE_ROWS..=DELETE_ROWS | PARTIAL_UPDATE_ROWS)
            || matches!(
                code,
                MARIA_WRITE_ROWS_COMPRESSED_V1..=MARIA_DELETE_ROWS_COMPRESSED
            )
    }
}
