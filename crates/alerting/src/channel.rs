//! Channels: where an alert goes, built from `alerts.channels`.

use std::collections::BTreeMap;
use std::time::Duration;

use pipeline::config::{AlertsConfig, ChannelKind};

use crate::email::{EmailSender, SmtpSettings, SMTP_FROM_ENV, SMTP_URL_ENV};
use crate::{http, DeliveryError, Notification, SetupError};

/// One configured channel.
pub enum ChannelTarget {
    /// The log line every alert gets anyway.
    Log,
    /// Generic webhook: POST of [`Notification::webhook_payload`].
    Webhook {
        url: String,
    },
    /// Slack-compatible incoming webhook: POST of
    /// [`Notification::slack_payload`].
    Slack {
        url: String,
    },
    Email(Box<EmailSender>),
    /// No SMS provider is built in: logged only.
    Sms {
        to: Vec<String>,
    },
}

impl std::fmt::Debug for ChannelTarget {
    // Webhook URLs carry tokens (Slack's do): never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChannelTarget::{}", self.kind())
    }
}

impl ChannelTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelTarget::Log => "log",
            ChannelTarget::Webhook { .. } => "webhook",
            ChannelTarget::Slack { .. } => "slack",
            ChannelTarget::Email(_) => "email",
            ChannelTarget::Sms { .. } => "sms",
        }
    }

    /// True for channels that send somewhere (and so get a worker).
    pub fn delivers(&self) -> bool {
        matches!(
            self,
            ChannelTarget::Webhook { .. } | ChannelTarget::Slack { .. } | ChannelTarget::Email(_)
        )
    }

    /// One delivery attempt.
    pub async fn deliver(&self, n: &Notification, timeout: Duration) -> Result<(), DeliveryError> {
        let post = |url: &str, body: serde_json::Value| {
            let url = url.to_string();
            async move {
                let bytes = serde_json::to_vec(&body)
                    .map_err(|e| DeliveryError::Permanent(format!("encoding: {e}")))?;
                let response = http::post_json(&url, bytes, timeout).await?;
                http::classify(&response)
            }
        };
        match self {
            ChannelTarget::Webhook { url } => post(url, n.webhook_payload()).await,
            ChannelTarget::Slack { url } => post(url, n.slack_payload()).await,
            ChannelTarget::Email(sender) => sender.send(n).await,
            ChannelTarget::Log | ChannelTarget::Sms { .. } => Ok(()),
        }
    }
}

/// The channels configured under `alerts.channels`, by name. `env` reads
/// the environment (`BINLOG_ANALYZER_SMTP_URL`, `BINLOG_ANALYZER_SMTP_FROM`
/// for email channels without their own `url`). A channel an alert names
/// but that is not configured is not in the map: such alerts are logged
/// (and stored by the runner) only, as `binlog-analyzer check` warns.
pub fn channels_from_config(
    config: &AlertsConfig,
    env: &dyn Fn(&str) -> Option<String>,
    timeout: Duration,
) -> Result<BTreeMap<String, ChannelTarget>, SetupError> {
    let mut out = BTreeMap::new();
    for (name, ch) in &config.channels {
        let err = |message: String| SetupError::Channel {
            channel: name.clone(),
            message,
        };
        let kind = ch
            .kind
            .or_else(|| ChannelKind::from_name(name))
            .ok_or_else(|| err("`type` is required: log, webhook, slack, email or sms".into()))?;
        let url = ch
            .url
            .as_ref()
            .map(|u| u.expose().to_string())
            .filter(|u| !u.is_empty());
        let target = match kind {
            ChannelKind::Log => ChannelTarget::Log,
            ChannelKind::Webhook | ChannelKind::Slack => {
                let url = url.ok_or_else(|| err("`url` is required".into()))?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(err("`url`: expected an http:// or https:// URL".into()));
                }
                if kind == ChannelKind::Webhook {
                    ChannelTarget::Webhook { url }
                } else {
                    ChannelTarget::Slack { url }
                }
            }
            ChannelKind::Email => {
                let smtp_url = url
                    .or_else(|| env(SMTP_URL_ENV).filter(|v| !v.is_empty()))
                    .ok_or_else(|| {
                        err(format!(
                            "`url` is required: the SMTP server as smtp://host:port (or set {SMTP_URL_ENV})"
                        ))
                    })?;
                let from = env(SMTP_FROM_ENV).filter(|v| !v.is_empty());
                let settings = SmtpSettings::from_url(&smtp_url, from.as_deref())
                    .map_err(|e| err(format!("`url`: {e}")))?;
                let sender =
                    EmailSender::new(&settings, &ch.to, timeout).map_err(|e| err(e.to_string()))?;
                ChannelTarget::Email(Box::new(sender))
            }
            ChannelKind::Sms => ChannelTarget::Sms { to: ch.to.clone() },
        };
        out.insert(name.clone(), target);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::config::{ChannelConfig, Secret};

    fn channel(kind: Option<ChannelKind>, url: Option<&str>, to: &[&str]) -> ChannelConfig {
        ChannelConfig {
            kind,
            url: url.map(Secret::new),
            to: to.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[tokio::test]
    async fn builds_each_kind_from_config() {
        let mut config = AlertsConfig::default();
        config.channels.insert(
            "webhook".into(),
            channel(None, Some("http://127.0.0.1:9/hook"), &[]),
        );
        config.channels.insert(
            "ops-slack".into(),
            channel(
                Some(ChannelKind::Slack),
                Some("https://hooks.example/T/B/x"),
                &[],
            ),
        );
        config.channels.insert(
            "email".into(),
            channel(
                None,
                Some("smtp://127.0.0.1:2525?tls=none"),
                &["dba@example.com"],
            ),
        );
        config
            .channels
            .insert("sms".into(), channel(None, None, &["+100"]));
        let map = channels_from_config(&config, &no_env, Duration::from_secs(1)).unwrap();
        let kinds: Vec<_> = map.iter().map(|(k, v)| (k.as_str(), v.kind())).collect();
        assert_eq!(
            kinds,
            [
                ("email", "email"),
                ("ops-slack", "slack"),
                ("sms", "sms"),
                ("webhook", "webhook")
            ]
        );
        assert!(!format!("{:?}", map["ops-slack"]).contains("hooks.example"));
    }

    #[tokio::test]
    async fn email_server_from_environment() {
        let mut config = AlertsConfig::default();
        config
            .channels
            .insert("email".into(), channel(None, None, &["dba@example.com"]));
        let err = channels_from_config(&config, &no_env, Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("alerts.channels.email"), "{err}");
        assert!(err.to_string().contains(SMTP_URL_ENV), "{err}");
        let env = |k: &str| (k == SMTP_URL_ENV).then(|| "smtp://mx.example:25".to_string());
        let map = channels_from_config(&config, &env, Duration::from_secs(1)).unwrap();
        assert_eq!(map["email"].kind(), "email");
    }

    #[test]
    fn bad_channels_name_the_key() {
        let mut config = AlertsConfig::default();
        config
            .channels
            .insert("pager".into(), channel(None, Some("http://x"), &[]));
        let err = channels_from_config(&config, &no_env, Duration::from_secs(1)).unwrap_err();
        assert!(
            err.to_string().starts_with("alerts.channels.pager"),
            "{err}"
        );
        let mut config = AlertsConfig::default();
        config
            .channels
            .insert("webhook".into(), channel(None, Some("ftp://x"), &[]));
        let err = channels_from_config(&config, &no_env, Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("http://"), "{err}");
    }
}
