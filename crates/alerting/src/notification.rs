//! What is delivered: one alert, from a rule or a threshold, firing or
//! resolved.

use pipeline::rules::{Alert, Priority};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

/// `kind` of an alert raised by a table rule.
pub const KIND_RULE: &str = "rule";
/// `kind` of the seed's threshold alerts (also their `name`).
pub const KIND_BINLOG_LAG: &str = "binlog_lag";
pub const KIND_ERROR_RATE: &str = "error_rate";
pub const KIND_BULK_OPERATIONS: &str = "bulk_operations";

/// Whether a condition started (or still holds) or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert on its way to channels. The fields are those of the stored
/// alert (`store::types::Alert`: kind, name, priority, timestamp, database,
/// table, change, message, details) plus where it goes and its state, so a
/// runner can store and deliver the same value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `rule`, `binlog_lag`, `error_rate`, `bulk_operations`.
    pub kind: String,
    /// Rule name, or the threshold alert's name.
    pub name: String,
    pub priority: Priority,
    pub state: AlertState,
    /// Seconds since the epoch (UTC): the change's commit time for rule
    /// alerts, the observation time for threshold alerts.
    pub timestamp: u32,
    pub database: Option<String>,
    pub table: Option<String>,
    /// The change that raised a rule alert (`file:pos:row`).
    pub change_id: Option<String>,
    /// One line for humans.
    pub message: String,
    /// Context: thresholds, observed values, masked primary key, ...
    pub details: Json,
    /// Channel names (as configured); empty: logged only.
    pub channels: Vec<String>,
}

impl Notification {
    /// A rule alert from the pipeline. It holds only masked values (the
    /// pipeline masks the primary key before raising it).
    pub fn from_rule(alert: &Alert) -> Notification {
        Notification {
            kind: KIND_RULE.into(),
            name: alert.rule.clone(),
            priority: alert.priority,
            state: AlertState::Firing,
            timestamp: alert.timestamp,
            database: Some(alert.database.clone()),
            table: Some(alert.table.clone()),
            change_id: Some(alert.change_id.clone()),
            message: alert.message.clone(),
            details: json!({
                "operation": alert.operation.as_str(),
                "primary_key": alert.primary_key,
            }),
            channels: alert.channels.clone(),
        }
    }

    /// Identity for deduplication: the same change raising the same rule
    /// twice (a batch replayed after a restart) or the same threshold
    /// transition reported twice is one alert.
    pub fn dedup_key(&self) -> String {
        let mut key = format!(
            "{}\u{1f}{}\u{1f}{}",
            self.kind,
            self.name,
            self.state.as_str()
        );
        for part in [&self.database, &self.table] {
            key.push('\u{1f}');
            key.push_str(part.as_deref().unwrap_or(""));
        }
        key.push('\u{1f}');
        match &self.change_id {
            Some(id) => key.push_str(id),
            // Threshold alerts: one transition per second at most.
            None => key.push_str(&self.timestamp.to_string()),
        }
        key
    }

    /// The group rate limiting counts in: one rule, or one threshold alert
    /// (per table for `bulk_operations`).
    pub fn rate_group(&self) -> String {
        match self.kind.as_str() {
            KIND_RULE => format!("rule:{}", self.name),
            _ => format!(
                "{}:{}.{}",
                self.kind,
                self.database.as_deref().unwrap_or(""),
                self.table.as_deref().unwrap_or("")
            ),
        }
    }

    /// `ecommerce.users`, when the alert is about a table.
    pub fn table_label(&self) -> Option<String> {
        match (&self.database, &self.table) {
            (Some(d), Some(t)) => Some(format!("{d}.{t}")),
            (Some(d), None) => Some(d.clone()),
            (None, Some(t)) => Some(t.clone()),
            (None, None) => None,
        }
    }

    /// Short title: `[HIGH] user_deletion on ecommerce.users`,
    /// `[RESOLVED] binlog_lag`.
    pub fn title(&self) -> String {
        let tag = match self.state {
            AlertState::Resolved => "RESOLVED".to_string(),
            AlertState::Firing => self.priority.as_str().to_ascii_uppercase(),
        };
        match self.table_label() {
            Some(t) => format!("[{tag}] {} on {t}", self.name),
            None => format!("[{tag}] {}", self.name),
        }
    }

    /// The JSON body of the generic webhook (documented in the crate docs).
    pub fn webhook_payload(&self) -> Json {
        json!({
            "source": "binlog-analyzer",
            "kind": self.kind,
            "name": self.name,
            "state": self.state,
            "priority": self.priority,
            "title": self.title(),
            "message": self.message,
            "timestamp": self.timestamp,
            "time": rfc3339(self.timestamp),
            "database": self.database,
            "table": self.table,
            "change_id": self.change_id,
            "details": self.details,
        })
    }

    /// A Slack incoming-webhook body (`text` plus one attachment), which
    /// Mattermost and Rocket.Chat accept as well.
    pub fn slack_payload(&self) -> Json {
        let color = match (self.state, self.priority) {
            (AlertState::Resolved, _) => "#2eb67d",
            (_, Priority::Critical) => "#8b0000",
            (_, Priority::High) => "#e01e5a",
            (_, Priority::Medium) => "#ecb22e",
            (_, Priority::Low) => "#36c5f0",
        };
        let mut fields = vec![
            json!({"title": "Priority", "value": self.priority.as_str(), "short": true}),
            json!({"title": "State", "value": self.state.as_str(), "short": true}),
        ];
        if let Some(t) = self.table_label() {
            fields.push(json!({"title": "Table", "value": t, "short": true}));
        }
        if let Some(id) = &self.change_id {
            fields.push(json!({"title": "Change", "value": id, "short": true}));
        }
        if let Some(pk) = self.details.get("primary_key") {
            fields.push(json!({"title": "Primary key", "value": pk.to_string(), "short": true}));
        }
        json!({
            "text": format!("{}: {}", self.title(), self.message),
            "attachments": [{
                "fallback": self.message,
                "color": color,
                "title": self.title(),
                "text": self.message,
                "fields": fields,
                "footer": "binlog-analyzer",
                "ts": self.timestamp,
            }],
        })
    }

    /// Subject and plain-text body of the email.
    pub fn email_text(&self) -> (String, String) {
        let subject = format!("[binlog-analyzer] {}", self.title());
        let mut body = String::new();
        body.push_str(&self.message);
        body.push_str("\n\n");
        let mut line = |k: &str, v: &str| {
            body.push_str(&format!("{k:<12} {v}\n"));
        };
        line("Alert:", &self.name);
        line("Kind:", &self.kind);
        line("State:", self.state.as_str());
        line("Priority:", self.priority.as_str());
        line("Time:", &rfc3339(self.timestamp));
        if let Some(t) = self.table_label() {
            line("Table:", &t);
        }
        if let Some(id) = &self.change_id {
            line("Change:", id);
        }
        if !self.details.is_null() {
            let details =
                serde_json::to_string_pretty(&self.details).unwrap_or_else(|_| "{}".into());
            body.push_str("\nDetails:\n");
            body.push_str(&details);
            body.push('\n');
        }
        (subject, body)
    }
}

/// `2024-01-15T10:30:00Z` for seconds since the epoch (civil-from-days,
/// proleptic Gregorian calendar).
pub fn rfc3339(secs: u32) -> String {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::record::Operation;
    use serde_json::Map;

    fn rule_alert() -> Alert {
        let mut pk = Map::new();
        pk.insert("id".into(), json!(12345));
        Alert {
            rule: "user_deletion".into(),
            priority: Priority::High,
            database: "ecommerce".into(),
            table: "users".into(),
            change_id: "mysql-bin.000001:1234:0".into(),
            operation: Operation::Delete,
            timestamp: 1_705_314_600,
            primary_key: pk,
            channels: vec!["webhook".into()],
            message: "user_deletion: DELETE on ecommerce.users id=12345".into(),
        }
    }

    #[test]
    fn rfc3339_formats_utc_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_705_314_600), "2024-01-15T10:30:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn rule_alert_keeps_change_and_masked_key() {
        let n = Notification::from_rule(&rule_alert());
        assert_eq!(n.kind, "rule");
        assert_eq!(n.title(), "[HIGH] user_deletion on ecommerce.users");
        let body = n.webhook_payload();
        assert_eq!(body["change_id"], "mysql-bin.000001:1234:0");
        assert_eq!(body["details"]["primary_key"]["id"], 12345);
        assert_eq!(body["time"], "2024-01-15T10:30:00Z");
        assert_eq!(body["state"], "firing");
        let slack = n.slack_payload();
        assert!(slack["text"].as_str().unwrap().contains("user_deletion"));
        let (subject, text) = n.email_text();
        assert_eq!(
            subject,
            "[binlog-analyzer] [HIGH] user_deletion on ecommerce.users"
        );
        assert!(text.contains("mysql-bin.000001:1234:0"));
    }

    #[test]
    fn dedup_key_separates_changes_and_states() {
        let a = Notification::from_rule(&rule_alert());
        let mut b = a.clone();
        assert_eq!(a.dedup_key(), b.dedup_key());
        b.change_id = Some("mysql-bin.000001:1234:1".into());
        assert_ne!(a.dedup_key(), b.dedup_key());
        let mut c = a.clone();
        c.state = AlertState::Resolved;
        assert_ne!(a.dedup_key(), c.dedup_key());
        assert_eq!(a.rate_group(), b.rate_group());
    }
}
