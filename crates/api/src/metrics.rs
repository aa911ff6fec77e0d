//! Prometheus metrics: a small registry the pipeline updates and the text
//! exposition format (0.0.4) at `/metrics`.
//!
//! Counters are monotonic (use `rate()` for per-second figures); label
//! sets are created on first use. Update per batch rather than per row
//! where a count is at hand: each labelled update takes a read lock and a
//! map lookup.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pipeline::record::Operation;

use crate::AppState;

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.inc_by(1);
    }
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A float gauge (stored as bits).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    pub fn add(&self, d: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((f64::from_bits(b) + d).to_bits())
            });
    }
}

/// Latency buckets in seconds, 1 ms to 30 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Non-cumulative counts per bound; cumulated when rendered.
    counts: Box<[AtomicU64]>,
    overflow: AtomicU64,
    sum: Gauge,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            overflow: AtomicU64::new(0),
            sum: Gauge::default(),
        }
    }

    pub fn observe(&self, v: f64) {
        match self.bounds.iter().position(|b| v <= *b) {
            Some(i) => {
                if let Some(c) = self.counts.get(i) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                self.overflow.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum.add(v);
    }

    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    pub fn count(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum::<u64>()
            + self.overflow.load(Ordering::Relaxed)
    }
}

/// One metric name with a label set per child.
struct Family<M> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    children: RwLock<BTreeMap<Vec<String>, Arc<M>>>,
    make: fn() -> M,
}

impl<M> Family<M> {
    fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        make: fn() -> M,
    ) -> Self {
        Family {
            name,
            help,
            labels,
            children: RwLock::new(BTreeMap::new()),
            make,
        }
    }

    /// The child for these label values (created on first use).
    fn with(&self, values: &[&str]) -> Arc<M> {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        if let Some(m) = self
            .children
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return m.clone();
        }
        self.children
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_insert_with(|| Arc::new((self.make)()))
            .clone()
    }

    fn snapshot(&self) -> Vec<(Vec<String>, Arc<M>)> {
        self.children
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Everything `/metrics` shows. Shared as `Arc<Metrics>` (`AppState::metrics`).
pub struct Metrics {
    /// `binlog_lag_seconds`: how far the reader is behind the source (0
    /// when caught up).
    pub lag_seconds: Gauge,
    /// `binlog_last_event_timestamp_seconds`: commit time of the last event read.
    pub last_event_timestamp: Gauge,
    /// `binlog_batch_seconds`: from a batch's first change to its commit in
    /// every store.
    pub batch_seconds: Histogram,
    events: Family<Counter>,
    rows: Family<Counter>,
    stored: Family<Counter>,
    queue: Family<Gauge>,
    errors: Family<Counter>,
    store_write: Family<Histogram>,
    alerts: Family<Counter>,
    deliveries: Family<Counter>,
    started: f64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            lag_seconds: Gauge::default(),
            last_event_timestamp: Gauge::default(),
            batch_seconds: latency_histogram(),
            events: Family::new(
                "binlog_events_processed_total",
                "Binlog events read, by event type.",
                &["type"],
                Counter::default,
            ),
            rows: Family::new(
                "binlog_rows_processed_total",
                "Row changes that passed the filters, by table and operation.",
                &["database", "table", "operation"],
                Counter::default,
            ),
            stored: Family::new(
                "binlog_changes_stored_total",
                "Change records committed, by store (records a store already held are not counted).",
                &["store"],
                Counter::default,
            ),
            queue: Family::new(
                "binlog_queue_size",
                "Items waiting in an internal queue (events, storage, alerts).",
                &["queue"],
                Gauge::default,
            ),
            errors: Family::new(
                "binlog_errors_total",
                "Errors by kind (source, decode, store, alert_delivery, ...).",
                &["kind"],
                Counter::default,
            ),
            store_write: Family::new(
                "binlog_store_write_seconds",
                "Time to commit one batch, by store.",
                &["store"],
                latency_histogram,
            ),
            alerts: Family::new(
                "binlog_alerts_total",
                "Alerts raised, by alert name and priority.",
                &["name", "priority"],
                Counter::default,
            ),
            deliveries: Family::new(
                "binlog_alert_deliveries_total",
                "Alert deliveries by channel and result (ok, failed, dropped).",
                &["channel", "result"],
                Counter::default,
            ),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        }
    }

    /// `n` events of one type (`WRITE_ROWS`, `QUERY`, `XID`, ...).
    pub fn events(&self, event_type: &str, n: u64) {
        self.events.with(&[event_type]).inc_by(n);
    }

    /// The counter for one event type, to keep on a hot path.
    pub fn events_counter(&self, event_type: &str) -> Arc<Counter> {
        self.events.with(&[event_type])
    }

    pub fn rows(&self, database: &str, table: &str, op: Operation, n: u64) {
        self.rows.with(&[database, table, op.as_str()]).inc_by(n);
    }

    /// Counts a batch's records by table and operation (one update per
    /// table and operation, not per row).
    pub fn batch_rows(&self, records: &[pipeline::record::ChangeRecord]) {
        let mut counts: BTreeMap<(&str, &str, Operation), u64> = BTreeMap::new();
        for r in records {
            *counts
                .entry((r.database.as_str(), r.table.as_str(), r.operation))
                .or_default() += 1;
        }
        for ((db, table, op), n) in counts {
            self.rows(db, table, op, n);
        }
    }

    pub fn stored(&self, store: &str, n: u64) {
        self.stored.with(&[store]).inc_by(n);
    }

    pub fn set_queue_size(&self, queue: &str, size: usize) {
        self.queue.with(&[queue]).set(size as f64);
    }

    pub fn error(&self, kind: &str) {
        self.errors.with(&[kind]).inc();
    }

    pub fn store_write(&self, store: &str, took: Duration) {
        self.store_write.with(&[store]).observe_duration(took);
    }

    pub fn alert(&self, name: &str, priority: &str) {
        self.alerts.with(&[name, priority]).inc();
    }

    /// `result`: `ok`, `failed` (after retries) or `dropped` (rate limit,
    /// duplicate, full queue).
    pub fn alert_delivery(&self, channel: &str, result: &str) {
        self.deliveries.with(&[channel, result]).inc();
    }

    /// The exposition text. `live_subscribers` is read at render time.
    pub fn render(&self, live_subscribers: usize) -> String {
        let mut out = String::with_capacity(4096);
        gauge(
            &mut out,
            "binlog_lag_seconds",
            "Seconds the reader is behind the source (0 when caught up).",
            self.lag_seconds.get(),
        );
        gauge(
            &mut out,
            "binlog_last_event_timestamp_seconds",
            "Commit time of the last binlog event read (Unix seconds).",
            self.last_event_timestamp.get(),
        );
        counter_family(&mut out, &self.events);
        counter_family(&mut out, &self.rows);
        counter_family(&mut out, &self.stored);
        family_header(&mut out, self.queue.name, self.queue.help, "gauge");
        for (values, g) in self.queue.snapshot() {
            sample(
                &mut out,
                self.queue.name,
                self.queue.labels,
                &values,
                None,
                g.get(),
            );
        }
        family_header(
            &mut out,
            "binlog_batch_seconds",
            "Seconds from a batch's first change to its commit in every store.",
            "histogram",
        );
        histogram(
            &mut out,
            "binlog_batch_seconds",
            &[],
            &[],
            &self.batch_seconds,
        );
        family_header(
            &mut out,
            self.store_write.name,
            self.store_write.help,
            "histogram",
        );
        for (values, h) in self.store_write.snapshot() {
            histogram(
                &mut out,
                self.store_write.name,
                self.store_write.labels,
                &values,
                &h,
            );
        }
        counter_family(&mut out, &self.errors);
        counter_family(&mut out, &self.alerts);
        counter_family(&mut out, &self.deliveries);
        gauge(
            &mut out,
            "binlog_api_live_subscribers",
            "Open live streams (SSE and GraphQL subscriptions).",
            live_subscribers as f64,
        );
        gauge(
            &mut out,
            "process_start_time_seconds",
            "Start time of the process (Unix seconds).",
            self.started,
        );
        if let Some(mem) = ProcessMemory::read() {
            gauge(
                &mut out,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                mem.resident_bytes as f64,
            );
            gauge(
                &mut out,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                mem.virtual_bytes as f64,
            );
        }
        family_header(
            &mut out,
            "binlog_analyzer_build_info",
            "Version of the running binary.",
            "gauge",
        );
        sample(
            &mut out,
            "binlog_analyzer_build_info",
            &["version"],
            &[env!("CARGO_PKG_VERSION").to_string()],
            None,
            1.0,
        );
        out
    }
}

fn family_header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(
        out,
        "# HELP {name} {}",
        help.replace('\\', "\\\\").replace('\n', "\\n")
    );
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, v: f64) {
    family_header(out, name, help, "gauge");
    sample(out, name, &[], &[], None, v);
}

fn counter_family(out: &mut String, f: &Family<Counter>) {
    family_header(out, f.name, f.help, "counter");
    for (values, c) in f.snapshot() {
        sample(out, f.name, f.labels, &values, None, c.get() as f64);
    }
}

fn histogram(out: &mut String, name: &str, labels: &[&str], values: &[String], h: &Histogram) {
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0;
    for (bound, count) in h.bounds.iter().zip(h.counts.iter()) {
        cumulative += count.load(Ordering::Relaxed);
        sample(
            out,
            &bucket,
            labels,
            values,
            Some(&number(*bound)),
            cumulative as f64,
        );
    }
    cumulative += h.overflow.load(Ordering::Relaxed);
    sample(
        out,
        &bucket,
        labels,
        values,
        Some("+Inf"),
        cumulative as f64,
    );
    sample(
        out,
        &format!("{name}_sum"),
        labels,
        values,
        None,
        h.sum.get(),
    );
    sample(
        out,
        &format!("{name}_count"),
        labels,
        values,
        None,
        cumulative as f64,
    );
}

fn sample(
    out: &mut String,
    name: &str,
    labels: &[&str],
    values: &[String],
    le: Option<&str>,
    v: f64,
) {
    out.push_str(name);
    let mut pairs: Vec<(&str, &str)> = labels
        .iter()
        .copied()
        .zip(values.iter().map(String::as_str))
        .collect();
    if let Some(le) = le {
        pairs.push(("le", le));
    }
    if !pairs.is_empty() {
        out.push('{');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&number(v));
    out.push('\n');
}

fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

struct ProcessMemory {
    resident_bytes: u64,
    virtual_bytes: u64,
}

impl ProcessMemory {
    /// From `/proc/self/status` (kB figures, so no page size is needed).
    fn read() -> Option<ProcessMemory> {
        let text = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = text.lines().find(|l| l.starts_with(name))?;
            let kb: u64 = line
                .get(name.len()..)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            kb.checked_mul(1024)
        };
        Some(ProcessMemory {
            resident_bytes: field("VmRSS:")?,
            virtual_bytes: field("VmSize:")?,
        })
    }
}

pub async fn handler(State(st): State<AppState>) -> Response {
    let body = st.metrics.render(st.live.receiver_count());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_inf_equal_to_count() {
        let m = Metrics::new();
        m.batch_seconds.observe(0.0005);
        m.batch_seconds.observe(0.2);
        m.batch_seconds.observe(100.0);
        let text = m.render(0);
        assert!(
            text.contains("binlog_batch_seconds_bucket{le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("binlog_batch_seconds_bucket{le=\"0.25\"} 2\n"));
        assert!(text.contains("binlog_batch_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("binlog_batch_seconds_count 3\n"));
        assert_eq!(m.batch_seconds.count(), 3);
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.rows("we\"ird", "t\\a\nb", Operation::Delete, 2);
        let text = m.render(0);
        assert!(
            text.contains(
                "binlog_rows_processed_total{database=\"we\\\"ird\",table=\"t\\\\a\\nb\",operation=\"DELETE\"} 2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn process_memory_is_read_from_proc() {
        let mem = ProcessMemory::read().expect("/proc/self/status");
        assert!(mem.resident_bytes > 0 && mem.virtual_bytes >= mem.resident_bytes);
    }
}
