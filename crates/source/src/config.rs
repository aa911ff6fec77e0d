//! How to reach the source server and where to start reading.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::DefiniteError;
use crate::position::{MariaGtidList, MysqlGtidSet, Position};

/// TLS on the connections to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP.
    Off,
    /// TLS when the server offers it, without verifying its certificate.
    #[default]
    Preferred,
    /// TLS or fail; the certificate is not verified.
    Required,
    /// TLS with the server certificate verified against `ca_file` (the
    /// host name is not checked, as MySQL's `VERIFY_CA`).
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name `host`.
    VerifyIdentity,
}

impl TlsMode {
    /// The name used in configuration (as MySQL's `--ssl-mode`, lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Off => "off",
            TlsMode::Preferred => "preferred",
            TlsMode::Required => "required",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyIdentity => "verify-identity",
        }
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a new stream starts when there is no saved position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPosition {
    /// The current end of the binlog (SHOW MASTER STATUS): only new changes.
    End,
    /// The oldest binlog the server still has.
    Earliest,
    /// A file and offset (must be a transaction boundary).
    FilePos { file: String, pos: u64 },
    /// MariaDB: after these GTIDs (`@slave_connect_state`).
    MariaGtid(MariaGtidList),
    /// MySQL: everything not in this set (COM_BINLOG_DUMP_GTID).
    MysqlGtid(MysqlGtidSet),
    /// The first transaction committed at or after this UNIX time.
    Timestamp(u64),
    /// A position saved from [`crate::SourceEvent::committed`].
    Resume(Position),
}

/// Connection and stream settings (the `mysql.source` block).
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// Connection character set (collation name, e.g. `utf8mb4_general_ci`,
    /// or charset name); schema names and DDL text arrive in it.
    pub charset: String,
    /// This replica's server_id: unique among the source's replicas.
    pub server_id: u32,
    pub tls: TlsMode,
    /// PEM CA bundle for `VerifyCa` / `VerifyIdentity`.
    pub ca_file: Option<PathBuf>,
    pub start: StartPosition,
    /// Read up to the server's binlog end as of connecting, then stop
    /// (`next()` returns `None`): for backfills.
    pub until_end: bool,
    /// How often an idle server sends a heartbeat (also bounds how stale
    /// the lag figure can be).
    pub heartbeat: Duration,
    /// No packet for this long (heartbeats included) means a dead link.
    pub read_timeout: Duration,
    pub connect_timeout: Duration,
    /// Reconnect attempts after a transient failure before giving up
    /// (`None`: forever).
    pub max_retries: Option<u32>,
    /// First retry delay; doubled per failure up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Fill in names, signedness, charsets and ENUM/SET labels from a schema
    /// history (information_schema snapshot + DDL) when the binlog lacks them.
    pub track_schema: bool,
}

impl SourceConfig {
    pub fn new(host: impl Into<String>, port: u16, user: impl Into<String>) -> Self {
        SourceConfig {
            host: host.into(),
            port,
            user: user.into(),
            password: String::new(),
            charset: "utf8mb4".into(),
            server_id: 4242,
            tls: TlsMode::Preferred,
            ca_file: None,
            start: StartPosition::End,
            until_end: false,
            heartbeat: Duration::from_secs(2),
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: None,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            track_schema: true,
        }
    }

    pub(crate) fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// A TLS mode that needs TLS met a server that does not offer it.
    pub(crate) fn tls_not_offered(&self) -> DefiniteError {
        DefiniteError::Tls(format!(
            "tls = {} but the server at {} does not offer TLS (its have_ssl is not YES): \
             start the server with ssl_cert/ssl_key (and ssl_ca), or set tls = preferred/off \
             to connect without encryption",
            self.tls,
            self.addr()
        ))
    }

    /// A TLS handshake failed; `cert` is rustls' reason when it has one.
    /// Certificate problems say which setting to change.
    pub(crate) fn tls_failed(&self, detail: &str, cert: Option<&rustls::Error>) -> DefiniteError {
        let ca = self
            .ca_file
            .as_ref()
            .map_or_else(|| "(none)".to_string(), |p| p.display().to_string());
        let advice = match cert {
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if self.tls == TlsMode::VerifyCa => ": the server certificate names no host in \
                 a subjectAltName, which the query connection's TLS library needs even for \
                 verify-ca. Reissue it with a subjectAltName, or use tls = required to \
                 encrypt without verifying"
                .to_string(),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => format!(
                ": the server certificate does not name the host `{}`. Connect by a name (or \
                 IP address) the certificate lists, or use tls = verify-ca to check the \
                 issuer only",
                self.host
            ),
            Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
            | Some(rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)) => {
                format!(
                    ": the server certificate is not signed by a CA in ca_file {ca}. Set ca_file \
                 to the CA that issued the server's certificate (the server's ssl_ca), or \
                 use tls = required to encrypt without verifying"
                )
            }
            Some(rustls::Error::InvalidCertificate(_)) => format!(
                ": the server certificate was rejected (checked against ca_file {ca}); \
                 renew or fix it on the server, or use tls = required to encrypt without \
                 verifying"
            ),
            _ => String::new(),
        };
        DefiniteError::Tls(format!(
            "TLS handshake with {} failed (tls = {}): {detail}{advice}",
            self.addr(),
            self.tls
        ))
    }

    /// mysql_async options for the side connection (queries, checks,
    /// schema snapshots).
    pub(crate) fn mysql_opts(&self) -> Result<mysql_async::Opts, String> {
        self.mysql_opts_verifying(None)
    }

    /// As [`SourceConfig::mysql_opts`], checking the server certificate
    /// against `name` instead of `host` (see `server::connect`).
    pub(crate) fn mysql_opts_verifying(
        &self,
        name: Option<String>,
    ) -> Result<mysql_async::Opts, String> {
        let mut b = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .prefer_socket(false)
            .init(vec![format!("SET NAMES {}", charset_name(&self.charset))]);
        b = match self.tls {
            TlsMode::Off => b.ssl_opts(None::<mysql_async::SslOpts>),
            TlsMode::Preferred | TlsMode::Required => b.ssl_opts(Some(
                mysql_async::SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            )),
            TlsMode::VerifyCa | TlsMode::VerifyIdentity => {
                let Some(ca) = &self.ca_file else {
                    return Err("TLS verification needs `ca_file`".into());
                };
                let ca_pem = std::fs::read(ca)
                    .map_err(|e| format!("cannot read CA file {}: {e}", ca.display()))?;
                // Only the configured CA: with the built-in web roots any
                // publicly signed certificate would pass too.
                let ssl = mysql_async::SslOpts::default()
                    .with_root_certs(vec![ca_pem.into()])
                    .with_disable_built_in_roots(true)
                    .with_danger_tls_hostname_override(name);
                b.ssl_opts(Some(ssl))
            }
        };
        Ok(b.into())
    }
}

/// `utf8mb4_general_ci` -> `utf8mb4`; a bare charset name stays.
pub(crate) fn charset_name(charset: &str) -> &str {
    let c = charset.trim();
    // Only allow identifier characters: it goes into SET NAMES.
    if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
        return "utf8mb4";
    }
    c.split('_').next().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_names_from_collations() {
        assert_eq!(charset_name("utf8mb4_general_ci"), "utf8mb4");
        assert_eq!(charset_name("latin1"), "latin1");
        assert_eq!(charset_name("x; DROP TABLE t"), "utf8mb4");
    }
}
