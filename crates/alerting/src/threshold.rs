//! The seed's threshold alerts, evaluated from observations the runner
//! feeds in:
//!
//! - `binlog_lag`: fires when an observed lag exceeds `threshold` seconds,
//!   resolves when a later observation is at or under it.
//! - `error_rate`: share of failed events among all events over the last
//!   `window`; fires above `threshold` (0–1), resolves at or under it (also
//!   when the window empties with time, see [`ThresholdMonitor::tick`]).
//! - `bulk_operations`: row changes to one table over the last `window`;
//!   fires above `threshold`, per table, and resolves when the count falls
//!   back.
//!
//! Each condition notifies on its transitions (firing, resolved), plus a
//! reminder while it keeps firing every `repeat_interval` (default 1 h), so
//! a stuck condition is not forgotten and a steady one does not flood.
//!
//! Windows are kept in 60 buckets (at least one second wide), so a window
//! is exact to 1/60 of its length. Time is passed in (seconds since the
//! epoch), which keeps the monitor deterministic and testable.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use pipeline::config::AlertsConfig;
use pipeline::record::Operation;
use pipeline::rules::Priority;
use serde_json::json;

use crate::notification::{
    AlertState, Notification, KIND_BINLOG_LAG, KIND_BULK_OPERATIONS, KIND_ERROR_RATE,
};

const BUCKETS_PER_WINDOW: u64 = 60;

/// Counts over a sliding time window, in buckets.
#[derive(Debug, Clone)]
struct Window<const N: usize> {
    span: u64,
    width: u64,
    /// (bucket start, counters), oldest first.
    buckets: VecDeque<(u64, [u64; N])>,
}

impl<const N: usize> Window<N> {
    fn new(span: Duration) -> Self {
        let span = span.as_secs().max(1);
        Window {
            span,
            width: (span / BUCKETS_PER_WINDOW).max(1),
            buckets: VecDeque::new(),
        }
    }

    fn add(&mut self, now: u64, index: usize, n: u64) {
        let start = now - now % self.width;
        match self.buckets.back_mut() {
            Some((s, counts)) if *s == start => {
                if let Some(c) = counts.get_mut(index) {
                    *c = c.saturating_add(n);
                }
            }
            // A clock step backwards lands in the newest bucket.
            Some((s, counts)) if *s > start => {
                if let Some(c) = counts.get_mut(index) {
                    *c = c.saturating_add(n);
                }
            }
            _ => {
                let mut counts = [0u64; N];
                if let Some(c) = counts.get_mut(index) {
                    *c = n;
                }
                self.buckets.push_back((start, counts));
            }
        }
        self.expire(now);
    }

    /// Drops buckets that ended before `now - span`.
    fn expire(&mut self, now: u64) {
        let horizon = now.saturating_sub(self.span);
        while let Some((start, _)) = self.buckets.front() {
            if start.saturating_add(self.width) <= horizon {
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    fn totals(&self) -> [u64; N] {
        let mut out = [0u64; N];
        for (_, counts) in &self.buckets {
            for (o, c) in out.iter_mut().zip(counts) {
                *o = o.saturating_add(*c);
            }
        }
        out
    }

    fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// Firing state of one condition.
#[derive(Debug, Clone, Copy, Default)]
struct Breach {
    firing: bool,
    last_sent: u32,
}

impl Breach {
    /// The transition to notify, if any.
    fn update(&mut self, breached: bool, now: u32, repeat: Option<u32>) -> Option<AlertState> {
        match (self.firing, breached) {
            (false, true) => {
                self.firing = true;
                self.last_sent = now;
                Some(AlertState::Firing)
            }
            (true, true) => match repeat {
                Some(r) if now >= self.last_sent.saturating_add(r) => {
                    self.last_sent = now;
                    Some(AlertState::Firing)
                }
                _ => None,
            },
            (true, false) => {
                self.firing = false;
                self.last_sent = now;
                Some(AlertState::Resolved)
            }
            (false, false) => None,
        }
    }
}

#[derive(Debug, Clone)]
struct LagRule {
    threshold: u64,
    channels: Vec<String>,
    breach: Breach,
    last_lag: Option<u64>,
}

#[derive(Debug, Clone)]
struct ErrorRule {
    threshold: f64,
    channels: Vec<String>,
    /// [ok, failed]
    window: Window<2>,
    breach: Breach,
}

#[derive(Debug, Clone)]
struct BulkRule {
    threshold: u64,
    span: Duration,
    channels: Vec<String>,
    /// Per table: counts per operation (INSERT, UPDATE, DELETE).
    tables: HashMap<(String, String), (Window<3>, Breach)>,
}

/// Evaluates `binlog_lag`, `error_rate` and `bulk_operations`.
#[derive(Debug, Clone)]
pub struct ThresholdMonitor {
    lag: Option<LagRule>,
    errors: Option<ErrorRule>,
    bulk: Option<BulkRule>,
    repeat: Option<u32>,
}

impl ThresholdMonitor {
    /// From the `alerts:` section; conditions not configured are off.
    pub fn new(config: &AlertsConfig) -> Self {
        ThresholdMonitor {
            lag: config.binlog_lag.as_ref().map(|l| LagRule {
                threshold: l.threshold.as_secs(),
                channels: l.channels.clone(),
                breach: Breach::default(),
                last_lag: None,
            }),
            errors: config.error_rate.as_ref().map(|r| ErrorRule {
                threshold: r.threshold,
                channels: r.channels.clone(),
                window: Window::new(r.window),
                breach: Breach::default(),
            }),
            bulk: config.bulk_operations.as_ref().map(|b| BulkRule {
                threshold: b.threshold,
                span: b.window,
                channels: b.channels.clone(),
                tables: HashMap::new(),
            }),
            repeat: Some(3600),
        }
    }

    /// How often a condition that keeps firing is reported again; `None`:
    /// only on transitions.
    pub fn with_repeat_interval(mut self, every: Option<Duration>) -> Self {
        self.repeat = every.map(|d| u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX));
        self
    }

    /// True when any threshold alert is configured.
    pub fn is_enabled(&self) -> bool {
        self.lag.is_some() || self.errors.is_some() || self.bulk.is_some()
    }

    /// A lag observation (seconds behind the source).
    pub fn observe_lag(&mut self, lag_seconds: u64, now: u32) -> Option<Notification> {
        let repeat = self.repeat;
        let rule = self.lag.as_mut()?;
        rule.last_lag = Some(lag_seconds);
        let state = rule
            .breach
            .update(lag_seconds > rule.threshold, now, repeat)?;
        let message = match state {
            AlertState::Firing => format!(
                "binlog processing is {} behind the source, above the {} threshold",
                human_secs(lag_seconds),
                human_secs(rule.threshold)
            ),
            AlertState::Resolved => format!(
                "binlog processing caught up: {} behind (threshold {})",
                human_secs(lag_seconds),
                human_secs(rule.threshold)
            ),
        };
        Some(Notification {
            kind: KIND_BINLOG_LAG.into(),
            name: KIND_BINLOG_LAG.into(),
            priority: Priority::High,
            state,
            timestamp: now,
            database: None,
            table: None,
            change_id: None,
            message,
            details: json!({
                "lag_seconds": lag_seconds,
                "threshold_seconds": rule.threshold,
            }),
            channels: rule.channels.clone(),
        })
    }

    /// Events processed (`ok`) and failed (`failed`) since the last call.
    pub fn record_events(&mut self, ok: u64, failed: u64, now: u32) -> Option<Notification> {
        let rule = self.errors.as_mut()?;
        let t = u64::from(now);
        if ok > 0 {
            rule.window.add(t, 0, ok);
        }
        if failed > 0 {
            rule.window.add(t, 1, failed);
        }
        rule.window.expire(t);
        self.evaluate_errors(now)
    }

    fn evaluate_errors(&mut self, now: u32) -> Option<Notification> {
        let repeat = self.repeat;
        let rule = self.errors.as_mut()?;
        let [ok, failed] = rule.window.totals();
        let total = ok.saturating_add(failed);
        let rate = if total == 0 {
            0.0
        } else {
            failed as f64 / total as f64
        };
        let state = rule.breach.update(rate > rule.threshold, now, repeat)?;
        let window = human_secs(rule.window.span);
        let message = match state {
            AlertState::Firing => format!(
                "error rate {} ({failed} of {total} events) over the last {window}, above {}",
                percent(rate),
                percent(rule.threshold)
            ),
            AlertState::Resolved => format!(
                "error rate back to {} ({failed} of {total} events) over the last {window} (threshold {})",
                percent(rate),
                percent(rule.threshold)
            ),
        };
        Some(Notification {
            kind: KIND_ERROR_RATE.into(),
            name: KIND_ERROR_RATE.into(),
            priority: Priority::High,
            state,
            timestamp: now,
            database: None,
            table: None,
            change_id: None,
            message,
            details: json!({
                "rate": rate,
                "failed": failed,
                "total": total,
                "threshold": rule.threshold,
                "window_seconds": rule.window.span,
            }),
            channels: rule.channels.clone(),
        })
    }

    /// `rows` row changes of `operation` to one table.
    pub fn record_changes(
        &mut self,
        database: &str,
        table: &str,
        operation: Operation,
        rows: u64,
        now: u32,
    ) -> Option<Notification> {
        let rule = self.bulk.as_mut()?;
        let key = (database.to_string(), table.to_string());
        let span = rule.span;
        let entry = rule
            .tables
            .entry(key.clone())
            .or_insert_with(|| (Window::new(span), Breach::default()));
        let index = match operation {
            Operation::Insert => 0,
            Operation::Update => 1,
            Operation::Delete => 2,
        };
        entry.0.add(u64::from(now), index, rows);
        self.evaluate_bulk(&key, now)
    }

    fn evaluate_bulk(&mut self, key: &(String, String), now: u32) -> Option<Notification> {
        let repeat = self.repeat;
        let rule = self.bulk.as_mut()?;
        let (window, breach) = rule.tables.get_mut(key)?;
        let [ins, upd, del] = window.totals();
        let total = ins.saturating_add(upd).saturating_add(del);
        let state = breach.update(total > rule.threshold, now, repeat)?;
        let (db, table) = key;
        let span = human_secs(window.span);
        let message = match state {
            AlertState::Firing => format!(
                "{} row changes to {db}.{table} within {span} (INSERT {}, UPDATE {}, DELETE {}), above {}",
                grouped(total),
                grouped(ins),
                grouped(upd),
                grouped(del),
                grouped(rule.threshold)
            ),
            AlertState::Resolved => format!(
                "row changes to {db}.{table} back to {} within {span} (threshold {})",
                grouped(total),
                grouped(rule.threshold)
            ),
        };
        Some(Notification {
            kind: KIND_BULK_OPERATIONS.into(),
            name: KIND_BULK_OPERATIONS.into(),
            priority: Priority::High,
            state,
            timestamp: now,
            database: Some(db.clone()),
            table: Some(table.clone()),
            change_id: None,
            message,
            details: json!({
                "changes": total,
                "operations": {"INSERT": ins, "UPDATE": upd, "DELETE": del},
                "threshold": rule.threshold,
                "window_seconds": window.span,
            }),
            channels: rule.channels.clone(),
        })
    }

    /// Lets time pass without observations: windows slide, so an error
    /// rate or a bulk condition whose events aged out resolves, and a
    /// still-firing condition gets its reminder. Call it every few seconds.
    pub fn tick(&mut self, now: u32) -> Vec<Notification> {
        let mut out = Vec::new();
        if let Some(rule) = self.errors.as_mut() {
            rule.window.expire(u64::from(now));
            out.extend(self.evaluate_errors(now));
        }
        if let Some(lag) = self.lag.as_ref().and_then(|l| l.last_lag) {
            // A reminder for a lag that stays high between observations.
            if self.lag.as_ref().is_some_and(|l| l.breach.firing) {
                out.extend(self.observe_lag(lag, now));
            }
        }
        let keys: Vec<(String, String)> = match self.bulk.as_mut() {
            Some(rule) => {
                for (window, _) in rule.tables.values_mut() {
                    window.expire(u64::from(now));
                }
                rule.tables.keys().cloned().collect()
            }
            None => Vec::new(),
        };
        for key in keys {
            out.extend(self.evaluate_bulk(&key, now));
        }
        if let Some(rule) = self.bulk.as_mut() {
            // Idle tables are forgotten so the map stays small.
            rule.tables
                .retain(|_, (window, breach)| breach.firing || !window.is_empty());
        }
        out
    }
}

/// `90 s`, `5 min`, `2 h`, `1 d 2 h`.
pub fn human_secs(s: u64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        _ if s.is_multiple_of(86_400) => format!("{} d", s / 86_400),
        _ if s >= 86_400 => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
        _ if s.is_multiple_of(3600) => format!("{} h", s / 3600),
        _ if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ if s.is_multiple_of(60) => format!("{} min", s / 60),
        _ => format!("{} min {} s", s / 60, s % 60),
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p != 0.0 && p < 0.1 {
        format!("{p:.3}%")
    } else {
        format!("{p:.1}%")
    }
}

/// `12,345`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::config::{BulkAlert, LagAlert, RateAlert};

    fn config() -> AlertsConfig {
        AlertsConfig {
            binlog_lag: Some(LagAlert {
                threshold: Duration::from_secs(300),
                channels: vec!["email".into(), "webhook".into()],
            }),
            error_rate: Some(RateAlert {
                threshold: 0.05,
                window: Duration::from_secs(300),
                channels: vec!["slack".into()],
            }),
            bulk_operations: Some(BulkAlert {
                threshold: 10_000,
                window: Duration::from_secs(60),
                channels: vec!["email".into(), "sms".into()],
            }),
            channels: Default::default(),
        }
    }

    const T0: u32 = 1_700_000_000;

    #[test]
    fn lag_fires_once_above_threshold_and_resolves() {
        let mut m = ThresholdMonitor::new(&config()).with_repeat_interval(None);
        assert!(m.observe_lag(300, T0).is_none(), "at the threshold is fine");
        let n = m.observe_lag(301, T0 + 1).expect("fires above");
        assert_eq!(n.state, AlertState::Firing);
        assert_eq!(n.channels, ["email", "webhook"]);
        assert_eq!(n.details["lag_seconds"], 301);
        assert!(n.message.contains("5 min"), "{}", n.message);
        assert!(
            m.observe_lag(900, T0 + 2).is_none(),
            "no repeat while firing"
        );
        let r = m.observe_lag(0, T0 + 3).expect("resolves");
        assert_eq!(r.state, AlertState::Resolved);
        assert!(m.observe_lag(0, T0 + 4).is_none());
    }

    #[test]
    fn lag_reminder_after_repeat_interval() {
        let mut m =
            ThresholdMonitor::new(&config()).with_repeat_interval(Some(Duration::from_secs(600)));
        assert!(m.observe_lag(400, T0).is_some());
        assert!(m.observe_lag(400, T0 + 599).is_none());
        let again = m.tick(T0 + 600);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].state, AlertState::Firing);
    }

    #[test]
    fn error_rate_over_window_fires_and_ages_out() {
        let mut m = ThresholdMonitor::new(&config()).with_repeat_interval(None);
        assert!(m.record_events(1000, 0, T0).is_none());
        // 40 failures of 1040: 3.8%, under 5%.
        assert!(m.record_events(0, 40, T0 + 10).is_none());
        // 60 of 1060: 5.7%.
        let n = m.record_events(0, 20, T0 + 20).expect("fires above 5%");
        assert_eq!(n.kind, "error_rate");
        assert_eq!(n.details["failed"], 60);
        assert_eq!(n.details["total"], 1060);
        assert!(n.message.contains("5.7%"), "{}", n.message);
        // Five minutes (plus one 5 s bucket) later the failures left the window.
        assert!(m.tick(T0 + 20 + 299).is_empty());
        let later = m.tick(T0 + 20 + 305);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].state, AlertState::Resolved);
    }

    #[test]
    fn bulk_operations_counted_per_table_within_window() {
        let mut m = ThresholdMonitor::new(&config()).with_repeat_interval(None);
        assert!(m
            .record_changes("ecommerce", "orders", Operation::Update, 6000, T0)
            .is_none());
        assert!(m
            .record_changes("ecommerce", "users", Operation::Delete, 6000, T0)
            .is_none());
        let n = m
            .record_changes("ecommerce", "orders", Operation::Delete, 4001, T0 + 30)
            .expect("orders crossed 10,000 within a minute");
        assert_eq!(n.table.as_deref(), Some("orders"));
        assert_eq!(n.details["changes"], 10_001);
        assert_eq!(n.details["operations"]["DELETE"], 4001);
        assert!(n.message.contains("10,001"), "{}", n.message);
        // Changes older than the window do not add up.
        assert!(m
            .record_changes("ecommerce", "users", Operation::Delete, 6000, T0 + 90)
            .is_none());
        let resolved = m.tick(T0 + 30 + 61);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].state, AlertState::Resolved);
        assert_eq!(resolved[0].table.as_deref(), Some("orders"));
    }

    #[test]
    fn unconfigured_conditions_are_silent() {
        let mut m = ThresholdMonitor::new(&AlertsConfig::default());
        assert!(!m.is_enabled());
        assert!(m.observe_lag(1_000_000, T0).is_none());
        assert!(m.record_events(0, 1_000_000, T0).is_none());
        assert!(m
            .record_changes("a", "b", Operation::Insert, u64::MAX, T0)
            .is_none());
        assert!(m.tick(T0).is_empty());
    }

    #[test]
    fn human_units() {
        assert_eq!(human_secs(5), "5 s");
        assert_eq!(human_secs(300), "5 min");
        assert_eq!(human_secs(3600), "1 h");
        assert_eq!(human_secs(5400), "1 h 30 min");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(grouped(12), "12");
    }
}
