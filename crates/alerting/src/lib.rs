//! # alerting — delivery of alerts to people
//!
//! Two sources of alerts:
//! - rule alerts raised by the pipeline (`alert: true` rules;
//!   [`pipeline::rules::Alert`], already masked), via
//!   [`AlertHandle::send_rule`];
//! - the seed's threshold alerts (`alerts.binlog_lag`, `alerts.error_rate`,
//!   `alerts.bulk_operations`), evaluated by [`ThresholdMonitor`] from
//!   observations the runner feeds it (lag, event outcomes, row changes per
//!   table) and sent with [`AlertHandle::send`].
//!
//! Channels (`alerts.channels.<name>`, see [`channel::channels_from_config`]):
//! - `webhook`: `POST` of JSON to `url`:
//!   `{"source":"binlog-analyzer","kind","name","state":"firing"|"resolved",
//!   "priority","title","message","timestamp","time","database","table",
//!   "change_id","details"}`;
//! - `slack`: a Slack incoming-webhook body (`text` and one coloured
//!   attachment), accepted by Mattermost and Rocket.Chat too;
//! - `email`: plain-text mail over SMTP to `to`, the server given as an
//!   SMTP URL in `url` (see [`email`]);
//! - `log`: every alert is logged once anyway (with `tracing` when a
//!   subscriber is installed, else on stderr); `sms` is logged only.
//!
//! Delivery ([`AlertHandle`]): `send` never waits (bounded queue, the
//! oldest alert dropped and counted when full); the same alert within
//! `dedup_window` is delivered once; each rule (and each threshold alert
//! per table) may send `rate_burst` alerts at once and then one per
//! `rate_refill`, the rest summarised in a digest; each channel retries
//! transient failures (connection errors, timeouts, HTTP 408/429/5xx, SMTP
//! 4xx) with exponential backoff and jitter, honouring `Retry-After`, on its
//! own task and queue, so a dead receiver delays nothing else.
//!
//! Threshold alerts are not stored here: the runner stores every
//! [`Notification`] it sends (the fields match the store's alert record).

pub mod channel;
pub mod dispatch;
pub mod email;
pub mod http;
pub mod notification;
pub mod threshold;

use std::time::Duration;

pub use channel::{channels_from_config, ChannelTarget};
pub use dispatch::{AlertHandle, ChannelStats, DeliveryOptions, DeliveryRecord, DeliveryStats};
pub use notification::{AlertState, Notification};
pub use threshold::ThresholdMonitor;

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying: connection refused, timeout, HTTP 5xx, SMTP 4xx.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help: HTTP 4xx, SMTP 5xx, a bad URL.
    #[error("{0}")]
    Permanent(String),
    /// The receiver asked to wait (HTTP 429/503 with `Retry-After`).
    #[error("{0} (retry after {secs} s)", secs = .1.as_secs())]
    RetryAfter(String, Duration),
}

/// Why delivery could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("alerts.channels.{channel}: {message}")]
    Channel { channel: String, message: String },
    #[error("{0}")]
    Smtp(String),
    #[error("alert delivery must be started inside a tokio runtime")]
    NoRuntime,
}

/// Channels from the `alerts:` section (SMTP settings may come from the
/// process environment) and delivery started with `options`.
pub fn start_from_config(
    config: &pipeline::config::AlertsConfig,
    options: DeliveryOptions,
) -> Result<AlertHandle, SetupError> {
    let env = |k: &str| std::env::var(k).ok();
    let channels = channels_from_config(config, &env, options.request_timeout)?;
    AlertHandle::start(channels, options)
}
