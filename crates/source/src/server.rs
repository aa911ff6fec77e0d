//! The side connection (`mysql_async`): facts about the server, binlog
//! listings, and anything else that is an ordinary query.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

use crate::config::{SourceConfig, TlsMode};
use crate::error::{classify_server_error, DefiniteError, SourceError, TransientError};
use crate::position::Position;

/// What the source server is and how it logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub mariadb: bool,
    pub server_id: u32,
    pub log_bin: bool,
    /// `NONE` or `CRC32`.
    pub binlog_checksum: String,
}

impl ServerInfo {
    /// (major, minor, patch) of the version string.
    pub fn version_tuple(&self) -> (u8, u8, u8) {
        binlog::fde::version_split(&self.version)
    }
}

/// Open a side connection. `preferred` TLS falls back to plain TCP when the
/// server has no TLS, as the MySQL client does.
pub async fn connect(cfg: &SourceConfig) -> Result<Conn, SourceError> {
    let opts = cfg.mysql_opts().map_err(DefiniteError::Config)?;
    let attempt = tokio::time::timeout(cfg.connect_timeout, new_conn(opts)).await;
    let result = match attempt {
        Err(_) => {
            return Err(TransientError::Connect {
                addr: cfg.addr(),
                message: format!("timed out after {:?}", cfg.connect_timeout),
            }
            .into())
        }
        Ok(r) => r,
    };
    match result {
        Ok(conn) => Ok(conn),
        // verify-ca checks the issuer, not the name. mysql_async 0.37's
        // "skip domain validation" misses rustls' current name error, so
        // the first attempt fails on the name — which rustls checks only
        // after the chain verified. Connect again checking a name the
        // certificate presents: the chain is verified again, as it must be.
        Err(e) if cfg.tls == TlsMode::VerifyCa => match presented_name(&e) {
            Some(name) => {
                let opts = cfg
                    .mysql_opts_verifying(Some(name))
                    .map_err(DefiniteError::Config)?;
                tokio::time::timeout(cfg.connect_timeout, new_conn(opts))
                    .await
                    .map_err(|_| TransientError::Connect {
                        addr: cfg.addr(),
                        message: format!("timed out after {:?}", cfg.connect_timeout),
                    })?
                    .map_err(|e| map_err(cfg, e))
            }
            None => Err(map_err(cfg, e)),
        },
        // Only "the server has no TLS" falls back: a failed handshake with a
        // server that offers TLS must not silently downgrade.
        Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
            if cfg.tls == TlsMode::Preferred =>
        {
            let mut plain = cfg.clone();
            plain.tls = TlsMode::Off;
            let opts = plain.mysql_opts().map_err(DefiniteError::Config)?;
            new_conn(opts).await.map_err(|e| map_err(cfg, e))
        }
        Err(e) => Err(map_err(cfg, e)),
    }
}

/// `Conn::new`, once more after "access denied". mysql_common 0.37 drops
/// the last byte of an auth switch's data when it is 0; ed25519's nonce is
/// 32 random bytes, so 1 login in 256 of an ed25519 account is refused, and
/// a second login gets a new nonce. (Our replication connection parses the
/// switch itself: `protocol::parse_auth_switch`.) The cost is that a wrong
/// password counts two failed logins.
pub async fn new_conn(opts: mysql_async::Opts) -> Result<Conn, mysql_async::Error> {
    match Conn::new(opts.clone()).await {
        Err(mysql_async::Error::Server(e)) if e.code == 1045 => Conn::new(opts).await,
        other => other,
    }
}

/// When `e` is "certificate not valid for this name", a name the
/// certificate does present (rustls lists them as `DnsName("db.example")`
/// or `IpAddress(10.0.0.5)`), usable as a server name.
fn presented_name(e: &mysql_async::Error) -> Option<String> {
    let mysql_async::Error::Io(mysql_async::IoError::Io(io)) = e else {
        return None;
    };
    let rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
        presented,
        ..
    }) = crate::protocol::rustls_error(io)?
    else {
        return None;
    };
    presented.iter().find_map(|p| {
        let name = if let Some(dns) = p.strip_prefix("DnsName(\"") {
            // A wildcard matches any one label in its place.
            dns.strip_suffix("\")")?.replacen("*.", "x.", 1)
        } else {
            p.strip_prefix("IpAddress(")?.strip_suffix(')')?.to_string()
        };
        rustls::pki_types::ServerName::try_from(name.as_str()).ok()?;
        Some(name)
    })
}

/// Turn a `mysql_async` error into ours.
pub fn map_err(cfg: &SourceConfig, e: mysql_async::Error) -> SourceError {
    match e {
        mysql_async::Error::Server(s) => {
            classify_server_error(s.code, &s.message, &cfg.user, cfg.server_id, "")
        }
        // Certificate and handshake failures do not heal by retrying.
        mysql_async::Error::Io(mysql_async::IoError::Tls(t)) => {
            let reason = match &t {
                mysql_async::TlsError::Tls(r) => Some(r),
                _ => None,
            };
            cfg.tls_failed(&t.to_string(), reason).into()
        }
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => {
            match crate::protocol::rustls_error(&io) {
                Some(reason) => cfg.tls_failed(&io.to_string(), Some(reason)).into(),
                None => TransientError::Connect {
                    addr: cfg.addr(),
                    message: io.to_string(),
                }
                .into(),
            }
        }
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) => {
            cfg.tls_not_offered().into()
        }
        mysql_async::Error::Driver(d) => DefiniteError::Protocol(d.to_string()).into(),
        other => DefiniteError::Protocol(other.to_string()).into(),
    }
}

/// A cell as text (`None` for NULL).
pub fn cell(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(n) => Some(n.to_string()),
        Value::UInt(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// Rows of a query, every cell as text.
pub async fn query(
    conn: &mut Conn,
    cfg: &SourceConfig,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, SourceError> {
    let rows: Vec<Row> = conn.query(sql).await.map_err(|e| map_err(cfg, e))?;
    Ok(rows
        .iter()
        .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
        .collect())
}

/// The first cell of the first row.
pub async fn query_value(
    conn: &mut Conn,
    cfg: &SourceConfig,
    sql: &str,
) -> Result<Option<String>, SourceError> {
    Ok(query(conn, cfg, sql)
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}

pub async fn server_info(conn: &mut Conn, cfg: &SourceConfig) -> Result<ServerInfo, SourceError> {
    let rows = query(
        conn,
        cfg,
        "SELECT @@version, @@server_id, @@log_bin, @@global.binlog_checksum",
    )
    .await?;
    let row = rows.into_iter().next().unwrap_or_default();
    let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let version = get(0);
    Ok(ServerInfo {
        mariadb: version.contains("MariaDB"),
        server_id: get(1).parse().unwrap_or(0),
        log_bin: get(2) == "1" || get(2).eq_ignore_ascii_case("ON"),
        binlog_checksum: get(3).to_ascii_uppercase(),
        version,
    })
}

/// The binlog file being written and its end (SHOW MASTER STATUS, or
/// SHOW BINARY LOG STATUS on MySQL 8.4+ where the old name is gone).
pub async fn binlog_end(
    conn: &mut Conn,
    cfg: &SourceConfig,
) -> Result<Option<Position>, SourceError> {
    let rows = match query(conn, cfg, "SHOW MASTER STATUS").await {
        Ok(rows) => rows,
        Err(SourceError::Definite(DefiniteError::Server { code: 1064, .. })) => {
            query(conn, cfg, "SHOW BINARY LOG STATUS").await?
        }
        Err(e) => return Err(e),
    };
    Ok(rows.into_iter().next().and_then(|r| {
        let file = r.first().cloned().flatten()?;
        let pos = r.get(1).cloned().flatten()?.parse().ok()?;
        Some(Position::new(file, pos))
    }))
}

/// SHOW BINARY LOGS: (file, size), oldest first.
pub async fn binary_logs(
    conn: &mut Conn,
    cfg: &SourceConfig,
) -> Result<Vec<(String, u64)>, SourceError> {
    Ok(query(conn, cfg, "SHOW BINARY LOGS")
        .await?
        .into_iter()
        .filter_map(|r| {
            let file = r.first().cloned().flatten()?;
            let size = r
                .get(1)
                .cloned()
                .flatten()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            Some((file, size))
        })
        .collect())
}

/// Quote a string for SQL (single quotes, backslashes doubled).
pub fn sql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
