//! Decoder errors. Every failure is a value; the decoder never panics on input.
//!
//! Errors carry what a DBA needs to find the problem: the byte offset in the
//! file (or stream position) and, for row values, the table and column.

use thiserror::Error;

/// An error decoding a binlog stream, file or event.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("not a binary log: bad magic bytes at offset 0")]
    BadMagic,
    #[error("I/O error at offset {offset}: {message}")]
    Io { offset: u64, message: String },
    #[error("truncated event at offset {offset}: need {needed} bytes, {available} available")]
    Truncated {
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("checksum mismatch in event at offset {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        offset: u64,
        stored: u32,
        computed: u32,
    },
    #[error("corrupt {event} event at offset {offset}: {reason}")]
    Corrupt {
        offset: u64,
        event: &'static str,
        reason: String,
    },
    #[error("unknown event type {type_code} at offset {offset} without the ignorable flag")]
    UnknownEvent { offset: u64, type_code: u8 },
    #[error("encrypted binlog at offset {offset}: encrypted binary logs are not supported (decrypt with the server or mariadb-binlog first)")]
    Encrypted { offset: u64 },
    #[error(
        "rows event at offset {offset} refers to table id {table_id} with no preceding TABLE_MAP"
    )]
    UnknownTable { offset: u64, table_id: u64 },
    #[error("cannot decode value at offset {offset}, table {table}, column {column}: {reason}")]
    Value {
        offset: u64,
        table: String,
        column: String,
        reason: String,
    },
    #[error("decompression failed in event at offset {offset}: {reason}")]
    Decompress { offset: u64, reason: String },
}

impl DecodeError {
    /// Byte offset the error refers to.
    pub fn offset(&self) -> Option<u64> {
        match self {
            DecodeError::BadMagic => Some(0),
            DecodeError::Io { offset, .. }
            | DecodeError::Truncated { offset, .. }
            | DecodeError::Checksum { offset, .. }
            | DecodeError::Corrupt { offset, .. }
            | DecodeError::UnknownEvent { offset, .. }
            | DecodeError::Encrypted { offset }
            | DecodeError::UnknownTable { offset, .. }
            | DecodeError::Value { offset, .. }
            | DecodeError::Decompress { offset, .. } => Some(*offset),
        }
    }
}

/// A problem inside one event body, before the caller attaches the offset.
/// Event and value decoders return this; the event layer turns it into a
/// [`DecodeError`] naming the file offset.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BodyError {
    #[error("need {needed} bytes at body offset {at}, {available} available")]
    Short {
        at: usize,
        needed: usize,
        available: usize,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = DecodeError> = std::result::Result<T, E>;
