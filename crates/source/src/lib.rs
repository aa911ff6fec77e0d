//! # source — a live replica source for MySQL and MariaDB
//!
//! Connects to a server as a replica, streams its binary log and decodes
//! every event with the same decoder as files (`binlog`). On top of the
//! events it keeps what a consumer needs to trust the stream:
//!
//! - positions ([`Position`]: file+offset, MySQL GTID sets with tags,
//!   MariaDB GTID lists) that only advance at transaction boundaries;
//! - reconnection with backoff on transient failures, resuming from the last
//!   boundary without losing or repeating an event; definite failures
//!   ([`DefiniteError`]) say what to do;
//! - a schema history ([`SchemaHistory`]) so rows decode with the columns of
//!   their time, even across ALTER TABLE;
//! - lag that drops to 0 when the end of the binlog is reached;
//! - preflight checks ([`check()`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), source::SourceError> {
//! use source::{Source, SourceConfig, StartPosition};
//! let mut cfg = SourceConfig::new("127.0.0.1", 3306, "repl");
//! cfg.password = "secret".into();
//! cfg.server_id = 4242;
//! cfg.start = StartPosition::Earliest;
//! let mut src = Source::connect(cfg).await?;
//! while let Some(ev) = src.next().await? {
//!     if let Some(pos) = &ev.committed {
//!         // persist `pos` and `src.schema_history().to_json()` here
//!         let _ = pos;
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod check;
pub mod config;
pub mod error;
pub mod position;
pub mod protocol;
pub mod schema;
pub mod server;
mod source;
pub mod timestamp;

pub use check::{check, worst, CheckItem, CheckStatus};
pub use config::{SourceConfig, StartPosition, TlsMode};
pub use error::{DefiniteError, SourceError, TransientError};
pub use position::{GtidState, MariaGtidList, MysqlGtidSet, Position};
pub use schema::SchemaHistory;
pub use server::ServerInfo;
pub use source::{LagProbe, Source, SourceEvent};
