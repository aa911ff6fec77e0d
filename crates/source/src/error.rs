//! Errors of the live source, split by what the caller should do about them.
//!
//! [`TransientError`]s (a cut connection, a server restart, a timeout) are
//! retried by [`crate::Source`] itself with backoff, resuming from the last
//! committed transaction boundary. [`DefiniteError`]s need a person: each
//! message says what is wrong and what to do.

use thiserror::Error;

/// Anything the source can fail with.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error(transparent)]
    Transient(#[from] TransientError),
    #[error(transparent)]
    Definite(#[from] DefiniteError),
}

impl SourceError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Transient(_))
    }
}

impl From<binlog::DecodeError> for SourceError {
    fn from(e: binlog::DecodeError) -> Self {
        SourceError::Definite(DefiniteError::Decode(e))
    }
}

/// A failure that reconnecting can cure.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransientError {
    #[error("cannot connect to {addr}: {message}")]
    Connect { addr: String, message: String },
    #[error("connection to the server lost: {0}")]
    ConnectionLost(String),
    #[error("no event or heartbeat from the server for {0} s")]
    Timeout(u64),
    #[error("server error {code}: {message}")]
    Server { code: u16, message: String },
}

/// A failure that retrying cannot cure; the message says what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DefiniteError {
    #[error(
        "the server no longer has the binary log at {requested}: {server_message}. \
         The oldest binary log available is {}. Restart from a position that still exists \
         (e.g. `--from-start`, or `{}:4`), and re-read from another source (a snapshot) \
         what the purged logs contained; keep binlogs longer \
         (binlog_expire_logs_seconds / expire_logs_days) than this reader can fall behind",
        oldest.as_deref().unwrap_or("(none: SHOW BINARY LOGS is empty)"),
        oldest.as_deref().unwrap_or("FILE")
    )]
    BinlogPurged {
        requested: String,
        oldest: Option<String>,
        server_message: String,
    },
    #[error(
        "access denied for user '{user}': {message}. Grant what a replica needs: \
         GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{user}'@'<host>' \
         (MariaDB 10.5+ also: BINLOG MONITOR, REPLICATION MASTER ADMIN for SHOW SLAVE HOSTS)"
    )]
    AccessDenied { user: String, message: String },
    #[error(
        "server_id {server_id} is already used: {message}. Every replica of a server needs its \
         own server_id: set a unique `binlog.server_id` (and it must differ from the source's \
         own @@server_id)"
    )]
    DuplicateServerId { server_id: u32, message: String },
    #[error(
        "binary logging is off on the server: start it with --log-bin (and \
         --binlog-format=ROW) and restart the server"
    )]
    BinlogOff,
    #[error("cannot decode the binlog: {0}")]
    Decode(#[from] binlog::DecodeError),
    #[error("schema mismatch: {0}")]
    Schema(String),
    #[error("replication protocol error: {0}")]
    Protocol(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("TLS error: {0}")]
    Tls(String),
    #[error("server error {code}: {message}")]
    Server { code: u16, message: String },
}

/// Server error codes we treat specially.
pub mod codes {
    pub const ER_DBACCESS_DENIED: u16 = 1044;
    pub const ER_ACCESS_DENIED: u16 = 1045;
    pub const ER_CON_COUNT: u16 = 1040;
    pub const ER_SERVER_SHUTDOWN: u16 = 1053;
    pub const ER_TABLEACCESS_DENIED: u16 = 1142;
    pub const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
    pub const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
    pub const ER_QUERY_INTERRUPTED: u16 = 1317;
    pub const ER_CONNECTION_KILLED: u16 = 1927;
    pub const ER_ACCOUNT_HAS_BEEN_LOCKED: u16 = 3118;
    pub const CR_SERVER_GONE: u16 = 2006;
    pub const CR_SERVER_LOST: u16 = 2013;
}

/// Classify an error the server sent in reply to a command or in the dump
/// stream. `requested` describes the position asked for (for messages).
pub(crate) fn classify_server_error(
    code: u16,
    message: &str,
    user: &str,
    server_id: u32,
    requested: &str,
) -> SourceError {
    use codes::*;
    let lower = message.to_ascii_lowercase();
    match code {
        ER_ACCESS_DENIED
        | ER_DBACCESS_DENIED
        | ER_TABLEACCESS_DENIED
        | ER_SPECIFIC_ACCESS_DENIED
        | ER_ACCOUNT_HAS_BEEN_LOCKED => DefiniteError::AccessDenied {
            user: user.to_string(),
            message: message.to_string(),
        }
        .into(),
        ER_MASTER_FATAL_ERROR_READING_BINLOG => {
            if lower.contains("same server_uuid") || lower.contains("same server_id") {
                DefiniteError::DuplicateServerId {
                    server_id,
                    message: message.to_string(),
                }
                .into()
            } else if lower.contains("binary log is not open")
                || lower.contains("binlog is not open")
            {
                DefiniteError::BinlogOff.into()
            } else if is_purged_message(&lower) {
                DefiniteError::BinlogPurged {
                    requested: requested.to_string(),
                    oldest: None,
                    server_message: message.to_string(),
                }
                .into()
            } else {
                DefiniteError::Server {
                    code,
                    message: message.to_string(),
                }
                .into()
            }
        }
        ER_SERVER_SHUTDOWN | ER_QUERY_INTERRUPTED | ER_CONNECTION_KILLED | ER_CON_COUNT
        | CR_SERVER_GONE | CR_SERVER_LOST => TransientError::Server {
            code,
            message: message.to_string(),
        }
        .into(),
        _ => DefiniteError::Server {
            code,
            message: message.to_string(),
        }
        .into(),
    }
}

/// The texts MySQL and MariaDB use when the requested log is gone.
fn is_purged_message(lower: &str) -> bool {
    lower.contains("could not find first log file")
        || lower.contains("purged")
        || lower.contains("could not find gtid state")
        || lower.contains("could not open log file")
        || lower.contains("does not exist in binlog index")
        || lower.contains("log file name not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purged_log_messages_of_both_servers_are_definite() {
        for msg in [
            "Could not find first log file name in binary log index file",
            "Cannot replicate because the source purged required binary logs. Replicate the missing transactions from elsewhere",
            "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.",
        ] {
            let e = classify_server_error(1236, msg, "u", 7, "mysql-bin.000001:4");
            assert!(
                matches!(e, SourceError::Definite(DefiniteError::BinlogPurged { .. })),
                "{msg}: {e:?}"
            );
        }
    }

    #[test]
    fn duplicate_server_id_and_access_denied_are_definite_with_advice() {
        let e = classify_server_error(
            1236,
            "A replica with the same server_uuid/server_id as this replica has connected to the source",
            "u",
            7,
            "x",
        );
        assert!(e.to_string().contains("unique `binlog.server_id`"), "{e}");
        let e = classify_server_error(
            1227,
            "Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s)",
            "repl",
            7,
            "x",
        );
        assert!(e.to_string().contains("GRANT REPLICATION SLAVE"), "{e}");
    }

    #[test]
    fn shutdown_and_kill_are_transient() {
        for code in [1053, 1927, 2013] {
            assert!(classify_server_error(code, "bye", "u", 1, "x").is_transient());
        }
    }
}
