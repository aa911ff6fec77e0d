//! # binlog — a pure decoder for MySQL and MariaDB binary logs
//!
//! No async runtime and no I/O beyond [`std::io::Read`]: the same code decodes
//! files on disk, stdin, and (in `crates/source`) the bytes a server sends a
//! replica.
//!
//! Layout, bottom up:
//! - [`bytes`]: bounds-checked cursor; every read can fail, nothing panics.
//! - [`header`] and [`fde`]: the 19-byte v4 event header and the
//!   FORMAT_DESCRIPTION event that says how to read the rest (post-header
//!   lengths, checksum algorithm, pre-GA event-type permutations).
//! - [`reader`]: splits a byte stream into raw events, verifying CRC32.
//! - [`events`]: one file per event type, each borrowing from the raw event.
//!   [`events::table_map`] and [`events::rows`] turn row events into images.
//! - [`column`] and [`value`]: column descriptions and value decoding for
//!   every column type, JSON binary, decimals, temporal types and charsets.
//! - [`stream`]: [`stream::BinlogStream`] ties reader and decoder state
//!   (current FDE, table maps, compressed transaction payloads) together.
//! - [`txn`]: groups events into transactions (BEGIN…COMMIT/XID, GTIDs, XA).

pub mod bytes;
pub mod column;
pub mod error;
pub mod events;
pub mod fde;
pub mod header;
pub mod reader;
pub mod stream;
pub mod txn;
pub mod value;

pub use column::ColumnDef;
pub use error::{BodyError, DecodeError};
pub use value::Value;
