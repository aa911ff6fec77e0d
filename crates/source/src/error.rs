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
        "the server has no binary log `{file}` (asked to start at {file}:{pos}); its binary \
         logs are {} (SHOW BINARY LOGS). Start from one of those (`--from-file FILE \
         --from-pos 4`, or mysql.source.binlog.log_file/log_pos), `--from-start` for the \
         oldest, or give no position to start at the current end",
        match (first, last) {
            (Some(f), Some(l)) if f == l => format!("only `{f}`"),
            (Some(f), Some(l)) => format!("`{f}` … `{l}` ({count} files)"),
            _ => "none at all".to_string(),
        }
    )]
    NoSuchBinlog {
        file: String,
        pos: u64,
        first: Option<String>,
        last: Option<String>,
        count: usize,
    },
    #[error(
        "position {pos} is past the end of binary log `{file}` ({size} bytes): start at a \
         position saved by this tool, or at an event boundary from \
         SHOW BINLOG EVENTS IN '{file}'"
    )]
    PositionPastEnd { file: String, pos: u64, size: u64 },
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

/// Whether `file:pos` can be a start position given SHOW BINARY LOGS
/// (`logs`, oldest first, with sizes): a file older than the oldest was
/// purged; one that is not listed otherwise (a typo, a newer file, another
/// server's name, a RESET MASTER since) does not exist; a position past the
/// file's end was never written.
pub fn check_start(logs: &[(String, u64)], file: &str, pos: u64) -> Result<(), DefiniteError> {
    if let Some((_, size)) = logs.iter().find(|(f, _)| f == file) {
        if pos > *size {
            return Err(DefiniteError::PositionPastEnd {
                file: file.to_string(),
                pos,
                size: *size,
            });
        }
        return Ok(());
    }
    let first = logs.first().map(|(f, _)| f.clone());
    let last = logs.last().map(|(f, _)| f.clone());
    let base = |f: &str| f.rsplit_once('.').map(|(b, _)| b.to_string());
    if let Some(oldest) = &first {
        // Only a file of the same series can have been purged; another base
        // name (another server's, a typo) simply does not exist here.
        if base(file) == base(oldest) && crate::position::compare_files(file, oldest).is_lt() {
            return Err(DefiniteError::BinlogPurged {
                requested: format!("{file}:{pos}"),
                oldest: first.clone(),
                server_message: "it is older than every file in SHOW BINARY LOGS".into(),
            });
        }
    }
    Err(DefiniteError::NoSuchBinlog {
        file: file.to_string(),
        pos,
        first,
        last,
        count: logs.len(),
    })
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
    fn start_positions_are_checked_against_show_binary_logs() {
        let logs = vec![
            ("mysql-bin.000003".to_string(), 900),
            ("mysql-bin.000004".to_string(), 400),
            ("mysql-bin.000010".to_string(), 365),
        ];
        assert_eq!(check_start(&logs, "mysql-bin.000004", 4), Ok(()));
        assert_eq!(check_start(&logs, "mysql-bin.000010", 365), Ok(()));
        // Older than the oldest: purged, and the oldest is named.
        let e = check_start(&logs, "mysql-bin.000002", 4).unwrap_err();
        assert!(
            matches!(&e, DefiniteError::BinlogPurged { oldest: Some(o), .. } if o == "mysql-bin.000003"),
            "{e:?}"
        );
        // Newer than the newest, a gap, another base name: does not exist,
        // and the message gives the range.
        for file in [
            "mysql-bin.000011",
            "mysql-bin.000005",
            "other.000004",
            "db1-bin.000001",
        ] {
            let e = check_start(&logs, file, 4).unwrap_err();
            let m = e.to_string();
            assert!(matches!(e, DefiniteError::NoSuchBinlog { .. }), "{e:?}");
            assert!(
                m.contains(&format!("no binary log `{file}`"))
                    && m.contains("`mysql-bin.000003` … `mysql-bin.000010` (3 files)"),
                "{m}"
            );
        }
        let e = check_start(&logs[..1], "mysql-bin.000009", 4).unwrap_err();
        assert!(e.to_string().contains("only `mysql-bin.000003`"), "{e}");
        let e = check_start(&[], "mysql-bin.000009", 4).unwrap_err();
        assert!(e.to_string().contains("none at all"), "{e}");
        // Past the end of an existing file.
        let e = check_start(&logs, "mysql-bin.000004", 401).unwrap_err();
        assert_eq!(
            e,
            DefiniteError::PositionPastEnd {
                file: "mysql-bin.000004".into(),
                pos: 401,
                size: 400
            }
        );
        assert!(e.to_string().contains("past the end"), "{e}");
    }

    #[test]
    fn shutdown_and_kill_are_transient() {
        for code in [1053, 1927, 2013] {
            assert!(classify_server_error(code, "bye", "u", 1, "x").is_transient());
        }
    }
}
