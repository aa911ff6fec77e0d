//! [`Config::validate`]: what a parsed config means, checked without
//! connecting anywhere.

use std::time::Duration;

use super::{ChannelKind, Config, ConfigIssue, QueryPolicy, StorageKind, Validation};
use crate::rules::Condition;

impl Config {
    /// Every semantic problem (errors) and every accepted-but-ineffective or
    /// risky setting (warnings), each naming its file and key path.
    pub fn validate(&self) -> Validation {
        let mut v = Checker {
            file: self.files.config.clone(),
            out: Validation::default(),
        };
        self.check_source(&mut v);
        self.check_storage(&mut v);
        self.check_processing(&mut v);
        self.check_alerts(&mut v);
        self.check_masking(&mut v);
        self.check_api(&mut v);
        self.check_tables(&mut v);
        v.out
    }

    fn check_source(&self, v: &mut Checker) {
        let Some(src) = &self.mysql.source else {
            v.warn(
                "mysql",
                "no mysql.source: binlogs must be given on the command line (files) to have anything to read",
            );
            return;
        };
        if src.files.is_empty() {
            if src.user.trim().is_empty() {
                v.error(
                    "mysql.source.user",
                    "required to read binlogs from a server (or list local binlog files under mysql.source.files)",
                );
            }
            if src.host.trim().is_empty() {
                v.error(
                    "mysql.source.host",
                    "expected a host name or address, got an empty string",
                );
            }
            if src.port == 0 {
                v.error("mysql.source.port", "expected a port 1-65535, got 0");
            }
            if src.binlog.server_id == 0 {
                v.error(
                    "mysql.source.binlog.server_id",
                    "expected a non-zero server id, unique among the source's replicas",
                );
            }
        } else {
            for (i, f) in src.files.iter().enumerate() {
                if !f.is_file() {
                    v.error(
                        format!("mysql.source.files[{i}]"),
                        format!("no such file: {}", f.display()),
                    );
                }
            }
        }
        // The server takes the period in nanoseconds up to 4294967 s, and
        // rounds anything under 1 ms to "no heartbeat".
        if src.heartbeat_period < Duration::from_millis(1)
            || src.heartbeat_period > Duration::from_secs(4_294_967)
        {
            v.error(
                "mysql.source.heartbeat_period",
                format!(
                    "expected a period from 1ms to 4294967s, got {:?}",
                    src.heartbeat_period
                ),
            );
        } else if src.read_timeout <= src.heartbeat_period {
            v.error(
                "mysql.source.read_timeout",
                format!(
                    "must be longer than mysql.source.heartbeat_period ({:?}), got {:?}: an idle but healthy link would be dropped",
                    src.heartbeat_period, src.read_timeout
                ),
            );
        }
        if src.binlog.log_pos < 4 {
            v.error(
                "mysql.source.binlog.log_pos",
                format!(
                    "expected an offset of at least 4 (the first event of a file), got {}",
                    src.binlog.log_pos
                ),
            );
        }
        if let Some(ca) = &src.ca_file {
            if !ca.is_file() {
                v.error(
                    "mysql.source.ca_file",
                    format!("no such file: {}", ca.display()),
                );
            }
        }
    }

    fn check_storage(&self, v: &mut Checker) {
        let s = &self.storage;
        if !s.primary.is_supported() {
            v.error(
                "storage.primary",
                format!(
                    "`{}` is not implemented by this build; expected sqlite or mysql",
                    s.primary.as_str()
                ),
            );
        }
        let mut uses_mysql = s.primary == StorageKind::Mysql;
        for (i, b) in s.backup.iter().enumerate() {
            let path = format!("storage.backup[{i}]");
            if *b == s.primary || s.backup[..i].contains(b) {
                v.error(&path, format!("`{}` is listed twice", b.as_str()));
            } else if !b.is_supported() {
                v.warn(
                    &path,
                    format!(
                        "`{}` is not implemented by this build: nothing is written there",
                        b.as_str()
                    ),
                );
            }
            uses_mysql |= *b == StorageKind::Mysql;
        }
        if uses_mysql {
            match &self.mysql.storage {
                None => v.error(
                    "storage.primary",
                    "the mysql store needs a `mysql.storage` block (host, port, user, password, database)",
                ),
                Some(m) => {
                    if m.user.trim().is_empty() {
                        v.error("mysql.storage.user", "required by the mysql store");
                    }
                    if m.database.trim().is_empty() {
                        v.error("mysql.storage.database", "expected a database name, got an empty string");
                    }
                    if m.port == 0 {
                        v.error("mysql.storage.port", "expected a port 1-65535, got 0");
                    }
                    if let Some(ca) = &m.ca_file {
                        if !ca.is_file() {
                            v.error("mysql.storage.ca_file", format!("no such file: {}", ca.display()));
                        }
                    }
                }
            }
        } else if self.mysql.storage.is_some() {
            v.warn(
                "mysql.storage",
                "set, but neither storage.primary nor storage.backup is mysql: unused",
            );
        }
        if s.retention_days > 36_500 {
            v.error(
                "storage.retention_days",
                format!(
                    "expected 0 (keep everything) to 36500 days, got {}",
                    s.retention_days
                ),
            );
        }
        if s.purge_interval.is_zero() {
            v.error("storage.purge_interval", "expected a positive duration");
        }
    }

    fn check_processing(&self, v: &mut Checker) {
        let p = &self.processing;
        if p.batch_size == 0 {
            v.error("processing.batch_size", "expected at least 1");
        }
        if p.flush_interval.is_zero() {
            v.error("processing.flush_interval", "expected a positive duration");
        }
        if p.worker_threads == 0 {
            v.error("processing.worker_threads", "expected at least 1");
        }
        let perf = &self.performance;
        if let Some(bp) = &perf.batch_processing {
            if bp.batch_size == Some(0) {
                v.error(
                    "performance.batch_processing.batch_size",
                    "expected at least 1",
                );
            }
            if bp.enabled && bp.flush_interval == Some(Duration::ZERO) {
                v.error(
                    "performance.batch_processing.flush_interval",
                    "expected a positive duration",
                );
            }
        }
        if perf.memory.max_events_in_memory == 0 {
            v.error(
                "performance.memory.max_events_in_memory",
                "expected at least 1",
            );
        }
        if perf.memory.gc_threshold.is_some() {
            v.warn(
                "performance.memory.gc_threshold",
                "accepted but has no effect: there is no garbage collector to tune",
            );
        }
        let c = &perf.concurrency;
        for (key, n) in [
            ("reader_threads", c.reader_threads),
            ("processor_threads", c.processor_threads),
            ("storage_threads", c.storage_threads),
        ] {
            if n == Some(0) {
                v.error(
                    format!("performance.concurrency.{key}"),
                    "expected at least 1",
                );
            }
        }
        if perf.cache.enabled {
            v.warn(
                "performance.cache.enabled",
                "this build has no Redis cache (statistics come from rollups kept at write time): ignored",
            );
        }
    }

    fn check_alerts(&self, v: &mut Checker) {
        let a = &self.alerts;
        if let Some(lag) = &a.binlog_lag {
            if lag.threshold.is_zero() {
                v.error(
                    "alerts.binlog_lag.threshold",
                    "expected a positive number of seconds",
                );
            }
            self.check_channel_list("alerts.binlog_lag.channels", &lag.channels, v);
        }
        if let Some(rate) = &a.error_rate {
            if !(rate.threshold > 0.0 && rate.threshold <= 1.0) {
                v.error(
                    "alerts.error_rate.threshold",
                    format!(
                        "expected a fraction in (0, 1] (0.05 = 5%), got {}",
                        rate.threshold
                    ),
                );
            }
            if rate.window.is_zero() {
                v.error("alerts.error_rate.window", "expected a positive duration");
            }
            self.check_channel_list("alerts.error_rate.channels", &rate.channels, v);
        }
        if let Some(bulk) = &a.bulk_operations {
            if bulk.threshold == 0 {
                v.error(
                    "alerts.bulk_operations.threshold",
                    "expected at least 1 change",
                );
            }
            if bulk.window.is_zero() {
                v.error(
                    "alerts.bulk_operations.window",
                    "expected a positive duration",
                );
            }
            self.check_channel_list("alerts.bulk_operations.channels", &bulk.channels, v);
        }
        for (name, ch) in &a.channels {
            let path = format!("alerts.channels.{name}");
            let Some(kind) = ch.kind.or_else(|| ChannelKind::from_name(name)) else {
                v.error(
                    format!("{path}.type"),
                    "required when the channel's name is not a kind: log, webhook, slack, email or sms",
                );
                continue;
            };
            match kind {
                ChannelKind::Webhook | ChannelKind::Slack => match &ch.url {
                    None => v.error(
                        format!("{path}.url"),
                        "required for webhook and slack channels",
                    ),
                    Some(u)
                        if !(u.expose().starts_with("http://")
                            || u.expose().starts_with("https://")) =>
                    {
                        v.error(format!("{path}.url"), "expected an http:// or https:// URL")
                    }
                    Some(_) => {}
                },
                ChannelKind::Email | ChannelKind::Sms if ch.to.is_empty() => {
                    v.error(format!("{path}.to"), "expected at least one recipient")
                }
                _ => {}
            }
        }
    }

    fn check_channel_list(&self, path: &str, channels: &[String], v: &mut Checker) {
        for (i, name) in channels.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if self.alerts.channels.contains_key(name) {
                continue;
            }
            match ChannelKind::from_name(name) {
                None => v.error(
                    at,
                    format!(
                        "unknown channel `{name}`: expected log, webhook, slack, email, sms or a name under alerts.channels"
                    ),
                ),
                Some(ChannelKind::Log) => {}
                Some(_) => v.warn(
                    at,
                    format!(
                        "channel `{name}` has no settings under alerts.channels: its alerts are stored and logged only"
                    ),
                ),
            }
        }
    }

    fn check_masking(&self, v: &mut Checker) {
        let m = &self.masking;
        if m.hash_key.is_some() && m.hash_key_file.is_some() {
            v.error(
                "masking.hash_key_file",
                "set either masking.hash_key or masking.hash_key_file, not both",
            );
        }
        if let Some(k) = &m.hash_key {
            if k.expose().len() < 16 {
                v.error(
                    "masking.hash_key",
                    format!("expected at least 16 characters, got {}", k.expose().len()),
                );
            }
        }
        if m.query == QueryPolicy::Keep && self.any_sensitive() {
            v.warn(
                "masking.query",
                "`keep` stores statement text unmasked although some columns are sensitive: their raw values can appear in `query`",
            );
        }
    }

    fn check_api(&self, v: &mut Checker) {
        let api = &self.api;
        match split_host_port(&api.listen) {
            Some((host, _)) => {
                let loopback =
                    matches!(host, "127.0.0.1" | "localhost" | "::1") || host.starts_with("127.");
                if api.enabled && !loopback && api.token.is_none() {
                    v.warn(
                        "api.listen",
                        format!(
                            "`{}` is reachable from other machines and api.token is not set",
                            api.listen
                        ),
                    );
                }
            }
            None => v.error(
                "api.listen",
                format!(
                    "expected host:port (e.g. 127.0.0.1:8080), got {:?}",
                    api.listen
                ),
            ),
        }
        if api.token.as_ref().is_some_and(|t| t.is_empty()) {
            v.error("api.token", "expected a non-empty token (or leave it out)");
        }
    }

    fn check_tables(&self, v: &mut Checker) {
        for t in &self.tables.entries {
            let known = t.known_columns();
            for rule in &t.rules {
                let file = rule.origin.file.clone();
                let cond_path = format!("{}.condition", rule.origin.path);
                match Condition::compile(&rule.condition) {
                    Err(msg) => v.error_in(&file, &cond_path, msg),
                    Ok(cond) => {
                        if let Some(known) = &known {
                            for col in cond.columns() {
                                if !known.iter().any(|k| k.eq_ignore_ascii_case(col)) {
                                    v.error_in(
                                        &file,
                                        &cond_path,
                                        format!(
                                            "names column `{col}`, which {} does not list in track_columns, primary_key or sensitive_columns",
                                            t.pattern
                                        ),
                                    );
                                }
                            }
                        }
                    }
                }
                if !rule.alert && !rule.track {
                    v.warn_in(
                        &file,
                        &rule.origin.path,
                        "neither `alert: true` nor `track: true`: the rule has no effect",
                    );
                }
                if !rule.alert && !rule.channels.is_empty() {
                    v.warn_in(
                        &file,
                        format!("{}.channels", rule.origin.path),
                        "ignored without `alert: true`",
                    );
                }
                for (i, name) in rule.channels.iter().enumerate() {
                    if !self.alerts.channels.contains_key(name)
                        && ChannelKind::from_name(name).is_none()
                    {
                        v.error_in(
                            &file,
                            format!("{}.channels[{i}]", rule.origin.path),
                            format!(
                                "unknown channel `{name}`: expected log, webhook, slack, email, sms or a name under alerts.channels"
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// `host:port`, `[v6]:port`; port 1-65535.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        (h, p)
    } else {
        s.rsplit_once(':')?
    };
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    (!host.is_empty() && !host.contains(':') || s.starts_with('[')).then_some((host, port))
}

struct Checker {
    file: String,
    out: Validation,
}

impl Checker {
    fn error(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        let file = self.file.clone();
        self.error_in(&file, path, msg);
    }
    fn warn(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        let file = self.file.clone();
        self.warn_in(&file, path, msg);
    }
    fn error_in(&mut self, file: &str, path: impl Into<String>, msg: impl Into<String>) {
        self.out.errors.push(ConfigIssue::new(file, path, msg));
    }
    fn warn_in(&mut self, file: &str, path: impl Into<String>, msg: impl Into<String>) {
        self.out.warnings.push(ConfigIssue::new(file, path, msg));
    }
}
