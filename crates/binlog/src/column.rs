//! Column descriptions: what a TABLE_MAP (plus an optional caller-supplied
//! schema) tells us about each column, which is everything value decoding needs.

/// MySQL field type codes as they appear in TABLE_MAP events.
pub mod column_type {
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    pub const TYPED_ARRAY: u8 = 20;
    pub const VECTOR: u8 = 242;
    pub const INVALID: u8 = 243;
    pub const BOOL: u8 = 244;
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;

    /// SQL-ish name of a type code, for messages and text output.
    pub fn name(code: u8) -> &'static str {
        match code {
            DECIMAL => "DECIMAL",
            TINY => "TINYINT",
            SHORT => "SMALLINT",
            LONG => "INT",
            FLOAT => "FLOAT",
            DOUBLE => "DOUBLE",
            NULL => "NULL",
            TIMESTAMP => "TIMESTAMP",
            LONGLONG => "BIGINT",
            INT24 => "MEDIUMINT",
            DATE => "DATE",
            TIME => "TIME",
            DATETIME => "DATETIME",
            YEAR => "YEAR",
            NEWDATE => "NEWDATE",
            VARCHAR => "VARCHAR",
            BIT => "BIT",
            TIMESTAMP2 => "TIMESTAMP2",
            DATETIME2 => "DATETIME2",
            TIME2 => "TIME2",
            TYPED_ARRAY => "TYPED_ARRAY",
            VECTOR => "VECTOR",
            BOOL => "BOOL",
            JSON => "JSON",
            NEWDECIMAL => "NEWDECIMAL",
            ENUM => "ENUM",
            SET => "SET",
            TINY_BLOB => "TINYBLOB",
            MEDIUM_BLOB => "MEDIUMBLOB",
            LONG_BLOB => "LONGBLOB",
            BLOB => "BLOB",
            VAR_STRING => "VAR_STRING",
            STRING => "STRING",
            GEOMETRY => "GEOMETRY",
            140 => "BLOB COMPRESSED",
            141 => "VARCHAR COMPRESSED",
            _ => "UNKNOWN",
        }
    }
}

/// Collation id of the `binary` character set.
pub const BINARY_CHARSET: u16 = 63;

/// Types MariaDB (and schemas) know that travel in the binlog as another
/// type; only a caller-supplied schema can tell us about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalType {
    /// MariaDB UUID: 16 bytes as STRING/binary.
    Uuid,
    /// MariaDB INET4: 4 bytes.
    Inet4,
    /// MariaDB INET6: 16 bytes.
    Inet6,
}

/// Everything known about one column of a table at the time of an event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnDef {
    /// Type code from the TABLE_MAP (for STRING this may hide ENUM/SET; see `meta`).
    pub type_code: u8,
    /// Type metadata from the TABLE_MAP metadata block (0 when the type has none).
    /// Layout per type follows the server's `Table_map_log_event` encoding:
    /// one or two bytes read as little-endian u16, except STRING/ENUM/SET
    /// which keep the server's (real_type << 8 | length) big-endian form.
    pub meta: u16,
    pub nullable: bool,
    /// From SIGNEDNESS metadata or schema; integers are unsigned when true.
    pub unsigned: bool,
    /// Collation id (e.g. 45 utf8mb4_general_ci, 8 latin1, 28 gbk, 63 binary).
    pub charset: Option<u16>,
    pub name: Option<String>,
    /// ENUM labels in declaration order (index 1 = first label).
    pub enum_values: Option<Vec<Vec<u8>>>,
    /// SET labels in declaration order (bit 0 = first label).
    pub set_values: Option<Vec<Vec<u8>>>,
    pub geometry_type: Option<u32>,
    /// COLUMN_VISIBILITY metadata (MySQL 8.0.23+ invisible columns).
    pub visible: Option<bool>,
    pub vector_dimension: Option<u32>,
    /// Part of the primary key (SIMPLE/PREFIXED_PRIMARY_KEY metadata or schema).
    pub primary_key: bool,
    /// Schema-supplied logical type, for types not visible in the binlog.
    pub logical: Option<LogicalType>,
}

impl ColumnDef {
    pub fn new(type_code: u8, meta: u16) -> Self {
        ColumnDef {
            type_code,
            meta,
            nullable: true,
            ..Default::default()
        }
    }

    /// True if the column's values are bytes rather than text.
    pub fn is_binary(&self) -> bool {
        self.charset == Some(BINARY_CHARSET)
    }

    /// The type the value bytes are really encoded as. STRING columns
    /// carry ENUM/SET (and the high bits of long CHAR lengths) in `meta`.
    pub fn real_type(&self) -> u8 {
        if self.type_code == column_type::STRING && self.meta >= 256 {
            let byte0 = (self.meta >> 8) as u8;
            if byte0 & 0x30 != 0x30 {
                // CHAR longer than 255 bytes: high length bits folded into byte0.
                return column_type::STRING;
            }
            return byte0;
        }
        self.type_code
    }
}
