//! Email over SMTP (lettre).
//!
//! An email channel's server is an SMTP URL, in the channel's `url` or in
//! the environment variable `BINLOG_ANALYZER_SMTP_URL`:
//!
//! ```text
//! smtp://[user:password@]host[:port][?tls=opportunistic|required|none][&from=addr]
//! smtps://[user:password@]host[:port][?from=addr]
//! ```
//!
//! - `smtp://` (default port 587) upgrades with STARTTLS when the server
//!   offers it (`tls=opportunistic`, the default), insists on it
//!   (`tls=required`) or never tries (`tls=none`, for a local relay).
//! - `smtps://` (default port 465) speaks TLS from the first byte.
//! - user and password are percent-decoded; keep them out of the file with
//!   `${ENV}` interpolation.
//! - `from` is the sender address, else `BINLOG_ANALYZER_SMTP_FROM`, else
//!   `binlog-analyzer@localhost`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{DeliveryError, Notification, SetupError};

/// Environment variables consulted when the channel does not say.
pub const SMTP_URL_ENV: &str = "BINLOG_ANALYZER_SMTP_URL";
pub const SMTP_FROM_ENV: &str = "BINLOG_ANALYZER_SMTP_FROM";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS at all.
    Plain,
    /// STARTTLS when offered.
    Opportunistic,
    /// STARTTLS or fail.
    Required,
    /// TLS from connect (`smtps://`).
    Implicit,
}

/// Where and how to send mail. `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

impl SmtpSettings {
    /// Parses an SMTP URL (see the module docs). `default_from` is used
    /// when the URL has no `from`.
    pub fn from_url(url: &str, default_from: Option<&str>) -> Result<SmtpSettings, SetupError> {
        let bad = |why: &str| SetupError::Smtp(why.to_string());
        let parsed = url::Url::parse(url).map_err(|e| bad(&format!("not a URL: {e}")))?;
        let (mut security, default_port) = match parsed.scheme() {
            "smtp" => (SmtpSecurity::Opportunistic, 587),
            "smtps" => (SmtpSecurity::Implicit, 465),
            other => {
                return Err(bad(&format!(
                    "expected an smtp:// or smtps:// URL, got {other}://"
                )))
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the SMTP URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = parsed.port().unwrap_or(default_port);
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("user or password is not UTF-8 after percent-decoding"))
        };
        let username = match parsed.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = parsed.password().map(decode).transpose()?;
        let mut from = None;
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "tls" => {
                    security = match (security, v.as_ref()) {
                        (SmtpSecurity::Implicit, _) => {
                            return Err(bad("smtps:// is always TLS; `tls=` applies to smtp://"))
                        }
                        (_, "opportunistic") => SmtpSecurity::Opportunistic,
                        (_, "required") => SmtpSecurity::Required,
                        (_, "none") => SmtpSecurity::Plain,
                        (_, other) => {
                            return Err(bad(&format!(
                                "tls={other}: expected opportunistic, required or none"
                            )))
                        }
                    }
                }
                "from" => from = Some(v.into_owned()),
                other => {
                    return Err(bad(&format!(
                        "unknown parameter `{other}`: expected tls or from"
                    )))
                }
            }
        }
        let from = from
            .or_else(|| default_from.map(str::to_string))
            .unwrap_or_else(|| "binlog-analyzer@localhost".into());
        from.parse::<Mailbox>()
            .map_err(|e| bad(&format!("sender `{from}`: {e}")))?;
        Ok(SmtpSettings {
            host,
            port,
            security,
            username,
            password,
            from,
        })
    }
}

/// A configured email channel: transport and recipients.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl EmailSender {
    pub fn new(
        settings: &SmtpSettings,
        to: &[String],
        timeout: Duration,
    ) -> Result<EmailSender, SetupError> {
        let tls = |host: &str| {
            TlsParameters::new(host.to_string())
                .map_err(|e| SetupError::Smtp(format!("TLS parameters: {e}")))
        };
        let tls = match settings.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::Opportunistic => Tls::Opportunistic(tls(&settings.host)?),
            SmtpSecurity::Required => Tls::Required(tls(&settings.host)?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls(&settings.host)?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
                .port(settings.port)
                .tls(tls)
                .timeout(Some(timeout));
        if let Some(user) = &settings.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                settings.password.clone().unwrap_or_default(),
            ));
        }
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| SetupError::Smtp(format!("sender `{}`: {e}", settings.from)))?;
        let to = to
            .iter()
            .map(|t| {
                t.parse::<Mailbox>()
                    .map_err(|e| SetupError::Smtp(format!("recipient `{t}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(SetupError::Smtp(
                "an email channel needs recipients (`to`)".into(),
            ));
        }
        Ok(EmailSender {
            transport: builder.build(),
            from,
            to,
        })
    }

    pub async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let (subject, body) = n.email_text();
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .body(body)
            .map_err(|e| DeliveryError::Permanent(format!("building the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server refused this message for good (bad recipient,
            // policy); a retry would be refused again.
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(DeliveryError::Transient(format!("SMTP: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_forms() {
        let s = SmtpSettings::from_url("smtp://127.0.0.1:2525?tls=none", None).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security),
            ("127.0.0.1", 2525, SmtpSecurity::Plain)
        );
        assert_eq!(s.from, "binlog-analyzer@localhost");
        let s = SmtpSettings::from_url(
            "smtps://alerts%40corp:p%40ss@mail.example.com?from=dba@example.com",
            None,
        )
        .unwrap();
        assert_eq!(s.port, 465);
        assert_eq!(s.security, SmtpSecurity::Implicit);
        assert_eq!(s.username.as_deref(), Some("alerts@corp"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(s.from, "dba@example.com");
        assert!(
            !format!("{s:?}").contains("p@ss"),
            "Debug hides the password"
        );
        let s = SmtpSettings::from_url("smtp://mx", Some("ops@example.com")).unwrap();
        assert_eq!((s.port, s.security), (587, SmtpSecurity::Opportunistic));
        assert_eq!(s.from, "ops@example.com");
    }

    #[test]
    fn smtp_url_errors_say_what_is_wrong() {
        let err = |u: &str| SmtpSettings::from_url(u, None).unwrap_err().to_string();
        assert!(err("http://mx").contains("smtp://"));
        assert!(err("smtp://mx?tls=maybe").contains("tls=maybe"));
        assert!(err("smtp://mx?port=1").contains("unknown parameter `port`"));
        assert!(err("smtp://mx?from=not-an-address").contains("sender"));
        assert!(err("smtps://mx?tls=none").contains("always TLS"));
    }
}
