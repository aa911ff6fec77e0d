//! Compatibility checks for the `binlog` decoder.
//!
//! - [`corpus`]: finding and reading the real binlog corpus (`$BINLOG_FIXTURES`).
//! - [`canon`]: the common textual form both decoders' values are normalized
//!   to before they are compared (the normalization table is in README.md).
//! - [`mc`]: decoding a binlog with `mysql_common`, the reference decoder,
//!   into canonical rows; also the fast path the `mysql-common-decode`
//!   benchmark peer uses.
//! - [`mariadb_text`]: parsing the `### INSERT/UPDATE/DELETE` blocks of
//!   `mariadb-binlog -v --base64-output=decode-rows` output.
//!
//! `mysql_common` is a dependency of this crate only; the decoder never sees it.

pub mod canon;
pub mod corpus;
pub mod mariadb_text;
pub mod mc;
