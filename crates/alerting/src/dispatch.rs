//! The delivery machinery: a bounded ingest queue, one dispatcher task
//! (deduplication, rate limiting, the log line, fan-out) and one worker
//! task per channel (delivery with retries and backoff).
//!
//! ```text
//! ingest ──send()──▶ [queue, drop-oldest] ──▶ dispatcher ──▶ [queue] ──▶ webhook worker
//!  (never waits)                                  │      └──▶ [queue] ──▶ slack worker
//!                                                 └─ log      └──▶ [queue] ──▶ email worker
//! ```
//!
//! `send` takes a short lock and returns: a full queue drops its oldest
//! alert and counts it. A channel that fails retries with exponential
//! backoff while its own bounded queue absorbs new alerts (dropping the
//! oldest when full), so neither ingest nor the other channels wait for it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::json;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::channel::ChannelTarget;
use crate::notification::{AlertState, Notification};
use crate::{DeliveryError, SetupError};

/// Limits and timings of delivery.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Alerts waiting for the dispatcher.
    pub queue_capacity: usize,
    /// Alerts waiting for one channel.
    pub channel_queue_capacity: usize,
    /// Tries per alert and channel before giving up.
    pub max_attempts: u32,
    /// First retry delay; doubles per retry up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Deadline of one delivery attempt.
    pub request_timeout: Duration,
    /// The same alert (see [`Notification::dedup_key`]) within this time
    /// is delivered once.
    pub dedup_window: Duration,
    /// Keys remembered for deduplication at most.
    pub dedup_capacity: usize,
    /// Alerts of one group (rule, or threshold alert and table) delivered
    /// in a burst; then one per `rate_refill`. The rest is summarised in a
    /// digest when the limit allows again.
    pub rate_burst: u32,
    pub rate_refill: Duration,
    /// Delivery outcomes kept for [`AlertHandle::recent`].
    pub recent_capacity: usize,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            queue_capacity: 1024,
            channel_queue_capacity: 256,
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            dedup_window: Duration::from_secs(600),
            dedup_capacity: 10_000,
            rate_burst: 10,
            rate_refill: Duration::from_secs(6),
            recent_capacity: 200,
        }
    }
}

/// A bounded FIFO that drops its oldest item when full.
struct DropOldestQueue<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    notify: Notify,
    dropped: AtomicU64,
}

impl<T> DropOldestQueue<T> {
    fn new(capacity: usize) -> Self {
        DropOldestQueue {
            items: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            notify: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Returns the item dropped to make room, if any.
    fn push(&self, item: T) -> Option<T> {
        let dropped = {
            let mut q = lock(&self.items);
            let dropped = if q.len() >= self.capacity {
                q.pop_front()
            } else {
                None
            };
            q.push_back(item);
            dropped
        };
        if dropped.is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        // Stores a permit when nobody waits, so a wake-up is never lost.
        self.notify.notify_one();
        dropped
    }

    fn pop(&self) -> Option<T> {
        lock(&self.items).pop_front()
    }

    fn len(&self) -> usize {
        lock(&self.items).len()
    }
}

/// A poisoned lock only means another task panicked while holding it; the
/// data (counters, queues) is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// Counters of one channel.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ChannelStats {
    pub name: String,
    /// `webhook`, `slack`, `email`.
    pub kind: String,
    pub delivered: u64,
    /// Alerts given up on (permanent error or attempts exhausted).
    pub failed: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
    /// Alerts dropped because this channel's queue was full.
    pub dropped: u64,
    pub queued: usize,
    /// True while an alert waits for its next attempt.
    pub retrying: bool,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<u32>,
    pub last_failed_at: Option<u32>,
}

/// Counters of the whole delivery.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Alerts handed to [`AlertHandle::send`].
    pub accepted: u64,
    /// Alerts dropped because the ingest queue was full.
    pub dropped: u64,
    pub deduplicated: u64,
    /// Alerts held back by rate limiting (counted in digests).
    pub rate_limited: u64,
    pub digests: u64,
    pub queued: usize,
    pub channels: Vec<ChannelStats>,
}

/// What happened to one alert on one channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// When the outcome was known (seconds since the epoch).
    pub at: u32,
    pub channel: String,
    pub kind: String,
    pub name: String,
    pub title: String,
    /// `delivered`, `failed`, `dropped`.
    pub outcome: String,
    pub attempts: u32,
    pub error: Option<String>,
}

struct ChannelWorker {
    name: String,
    target: ChannelTarget,
    queue: DropOldestQueue<Arc<Notification>>,
    stats: Mutex<ChannelStats>,
}

struct Shared {
    options: DeliveryOptions,
    ingest: DropOldestQueue<Notification>,
    accepted: AtomicU64,
    deduplicated: AtomicU64,
    rate_limited: AtomicU64,
    digests: AtomicU64,
    channels: BTreeMap<String, Arc<ChannelWorker>>,
    recent: Mutex<VecDeque<DeliveryRecord>>,
    closed: AtomicBool,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn record(&self, r: DeliveryRecord) {
        let mut recent = lock(&self.recent);
        if recent.len() >= self.options.recent_capacity.max(1) {
            recent.pop_front();
        }
        recent.push_back(r);
    }
}

/// The sending side of alert delivery; cheap to clone and to call from
/// any thread (no runtime needed to send).
#[derive(Clone)]
pub struct AlertHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AlertHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertHandle")
            .field("channels", &self.shared.channels.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AlertHandle {
    /// Starts the dispatcher and one worker per channel on the current
    /// tokio runtime. `channels` maps channel names (as alerts name them)
    /// to targets; see [`crate::channel::channels_from_config`].
    pub fn start(
        channels: BTreeMap<String, ChannelTarget>,
        options: DeliveryOptions,
    ) -> Result<AlertHandle, SetupError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SetupError::NoRuntime)?;
        let (shutdown, _) = watch::channel(false);
        let workers = channels
            .into_iter()
            .filter(|(_, t)| t.delivers())
            .map(|(name, target)| {
                let stats = ChannelStats {
                    name: name.clone(),
                    kind: target.kind().into(),
                    ..ChannelStats::default()
                };
                let worker = ChannelWorker {
                    name: name.clone(),
                    target,
                    queue: DropOldestQueue::new(options.channel_queue_capacity),
                    stats: Mutex::new(stats),
                };
                (name, Arc::new(worker))
            })
            .collect::<BTreeMap<_, _>>();
        let shared = Arc::new(Shared {
            ingest: DropOldestQueue::new(options.queue_capacity),
            options,
            accepted: AtomicU64::new(0),
            deduplicated: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            digests: AtomicU64::new(0),
            channels: workers,
            recent: Mutex::new(VecDeque::new()),
            closed: AtomicBool::new(false),
            shutdown,
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = Vec::new();
        for worker in shared.channels.values() {
            tasks.push(runtime.spawn(run_channel(shared.clone(), worker.clone())));
        }
        tasks.push(runtime.spawn(run_dispatcher(shared.clone())));
        *lock(&shared.tasks) = tasks;
        Ok(AlertHandle { shared })
    }

    /// Queues an alert for delivery and returns at once. False when the
    /// handle is shut down. A full queue drops its oldest alert (counted in
    /// [`DeliveryStats::dropped`]).
    pub fn send(&self, n: Notification) -> bool {
        if self.shared.closed.load(Ordering::Acquire) {
            return false;
        }
        self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        self.shared.ingest.push(n);
        true
    }

    /// Queues a rule alert from the pipeline.
    pub fn send_rule(&self, alert: &pipeline::rules::Alert) -> bool {
        self.send(Notification::from_rule(alert))
    }

    /// Channel names that deliver somewhere (not log-only).
    pub fn channel_names(&self) -> Vec<String> {
        self.shared.channels.keys().cloned().collect()
    }

    pub fn stats(&self) -> DeliveryStats {
        let s = &self.shared;
        DeliveryStats {
            accepted: s.accepted.load(Ordering::Relaxed),
            dropped: s.ingest.dropped.load(Ordering::Relaxed),
            deduplicated: s.deduplicated.load(Ordering::Relaxed),
            rate_limited: s.rate_limited.load(Ordering::Relaxed),
            digests: s.digests.load(Ordering::Relaxed),
            queued: s.ingest.len(),
            channels: s
                .channels
                .values()
                .map(|w| {
                    let mut st = lock(&w.stats).clone();
                    st.queued = w.queue.len();
                    st.dropped = w.queue.dropped.load(Ordering::Relaxed);
                    st
                })
                .collect(),
        }
    }

    /// The latest delivery outcomes, oldest first.
    pub fn recent(&self) -> Vec<DeliveryRecord> {
        lock(&self.shared.recent).iter().cloned().collect()
    }

    /// Stops accepting alerts, delivers what is queued (one attempt each
    /// once retries are cut short) and waits up to `grace` for that.
    pub async fn shutdown(&self, grace: Duration) {
        self.shared.closed.store(true, Ordering::Release);
        let _ = self.shared.shutdown.send(true);
        let tasks = std::mem::take(&mut *lock(&self.shared.tasks));
        let deadline = tokio::time::Instant::now() + grace;
        for mut t in tasks {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                t.abort();
            }
        }
    }
}

/// Token bucket of one rate group plus what it held back.
struct Limiter {
    tokens: f64,
    last: Instant,
    suppressed: u64,
    first_suppressed: u32,
    latest: Option<Notification>,
}

impl Limiter {
    fn take(&mut self, now: Instant, burst: f64, refill: Duration) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        let per_token = refill.as_secs_f64().max(1e-3);
        self.tokens = (self.tokens + elapsed / per_token).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct DispatchState {
    seen: HashMap<String, Instant>,
    seen_order: VecDeque<(Instant, String)>,
    limiters: HashMap<String, Limiter>,
}

async fn run_dispatcher(shared: Arc<Shared>) {
    let mut state = DispatchState {
        seen: HashMap::new(),
        seen_order: VecDeque::new(),
        limiters: HashMap::new(),
    };
    let mut shutdown = shared.shutdown.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        while let Some(n) = shared.ingest.pop() {
            dispatch(&shared, &mut state, n);
        }
        if *shutdown.borrow() {
            // Whatever was held back is summarised once more, limit or not.
            flush_digests(&shared, &mut state, true);
            return;
        }
        tokio::select! {
            _ = shared.ingest.notify.notified() => {}
            _ = tick.tick() => flush_digests(&shared, &mut state, false),
            _ = shutdown.changed() => {}
        }
    }
}

fn dispatch(shared: &Shared, state: &mut DispatchState, n: Notification) {
    let opts = &shared.options;
    let now = Instant::now();
    // Deduplication: forget keys older than the window, then look up.
    while let Some((at, _)) = state.seen_order.front() {
        let expired = now.saturating_duration_since(*at) > opts.dedup_window;
        if expired || state.seen_order.len() > opts.dedup_capacity.max(1) {
            if let Some((at, key)) = state.seen_order.pop_front() {
                if state.seen.get(&key) == Some(&at) {
                    state.seen.remove(&key);
                }
            }
        } else {
            break;
        }
    }
    let key = n.dedup_key();
    if state.seen.contains_key(&key) {
        shared.deduplicated.fetch_add(1, Ordering::Relaxed);
        return;
    }
    state.seen.insert(key.clone(), now);
    state.seen_order.push_back((now, key));

    let burst = f64::from(opts.rate_burst.max(1));
    let limiter = state.limiters.entry(n.rate_group()).or_insert(Limiter {
        tokens: burst,
        last: now,
        suppressed: 0,
        first_suppressed: 0,
        latest: None,
    });
    if !limiter.take(now, burst, opts.rate_refill) {
        shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        if limiter.suppressed == 0 {
            limiter.first_suppressed = n.timestamp;
        }
        limiter.suppressed += 1;
        limiter.latest = Some(n);
        return;
    }
    deliver(shared, n);
}

/// Sends one digest per group that held alerts back, when its limit allows
/// (or regardless, at shutdown), and forgets idle groups.
fn flush_digests(shared: &Shared, state: &mut DispatchState, force: bool) {
    let opts = &shared.options;
    let now = Instant::now();
    let burst = f64::from(opts.rate_burst.max(1));
    let mut digests = Vec::new();
    for limiter in state.limiters.values_mut() {
        if limiter.suppressed == 0 {
            continue;
        }
        if !(limiter.take(now, burst, opts.rate_refill) || force) {
            continue;
        }
        if let Some(latest) = limiter.latest.take() {
            digests.push(digest(
                latest,
                limiter.suppressed,
                limiter.first_suppressed,
                opts,
            ));
        }
        limiter.suppressed = 0;
    }
    state.limiters.retain(|_, l| {
        l.suppressed > 0
            || now.saturating_duration_since(l.last) < opts.rate_refill * opts.rate_burst.max(1)
    });
    for d in digests {
        shared.digests.fetch_add(1, Ordering::Relaxed);
        deliver(shared, d);
    }
}

fn digest(latest: Notification, count: u64, first: u32, opts: &DeliveryOptions) -> Notification {
    let per_minute = 60.0 / opts.rate_refill.as_secs_f64().max(1e-3);
    let message = format!(
        "{count} more `{}` alert{} held back by rate limiting (at most {} at once, then {:.0}/min); latest: {}",
        latest.name,
        if count == 1 { " was" } else { "s were" },
        opts.rate_burst,
        per_minute,
        latest.message
    );
    Notification {
        state: AlertState::Firing,
        change_id: None,
        message,
        details: json!({
            "digest": true,
            "suppressed": count,
            "first_timestamp": first,
            "last_timestamp": latest.timestamp,
            "latest": latest.details,
            "latest_change_id": latest.change_id,
        }),
        ..latest
    }
}

/// The log line (every alert that passes deduplication and the rate
/// limit), then one copy per named channel that delivers.
fn deliver(shared: &Shared, n: Notification) {
    log_alert(&n);
    let n = Arc::new(n);
    let mut seen = Vec::new();
    for name in &n.channels {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let Some(worker) = shared.channels.get(name) else {
            // `log`, `sms`, or a channel without settings: logged above.
            continue;
        };
        if let Some(old) = worker.queue.push(n.clone()) {
            shared.record(DeliveryRecord {
                at: unix_now(),
                channel: worker.name.clone(),
                kind: old.kind.clone(),
                name: old.name.clone(),
                title: old.title(),
                outcome: "dropped".into(),
                attempts: 0,
                error: Some("channel queue full: oldest alert dropped".into()),
            });
        }
    }
}

fn log_alert(n: &Notification) {
    let line = format!("alert {}: {}", n.title(), n.message);
    if tracing::dispatcher::has_been_set() {
        match n.state {
            AlertState::Firing => tracing::warn!(
                target: "binlog_analyzer::alerts",
                kind = %n.kind,
                name = %n.name,
                priority = n.priority.as_str(),
                change_id = n.change_id.as_deref().unwrap_or(""),
                "{line}"
            ),
            AlertState::Resolved => tracing::info!(
                target: "binlog_analyzer::alerts",
                kind = %n.kind,
                name = %n.name,
                "{line}"
            ),
        }
    } else {
        // Without a subscriber tracing would drop it: the log channel must
        // not be silent.
        eprintln!("{line}");
    }
}

async fn run_channel(shared: Arc<Shared>, worker: Arc<ChannelWorker>) {
    let mut shutdown = shared.shutdown.subscribe();
    let opts = shared.options.clone();
    let mut jitter = Jitter::new();
    loop {
        let Some(n) = worker.queue.pop() else {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = worker.queue.notify.notified() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        let mut attempts = 0u32;
        let mut backoff = opts.initial_backoff;
        let outcome = loop {
            attempts += 1;
            let result = worker.target.deliver(&n, opts.request_timeout).await;
            let err = match result {
                Ok(()) => break Ok(()),
                Err(e) => e,
            };
            let stopping = *shutdown.borrow();
            if matches!(err, DeliveryError::Permanent(_))
                || attempts >= opts.max_attempts
                || stopping
            {
                break Err(err);
            }
            let wait = match &err {
                DeliveryError::RetryAfter(_, after) => (*after).min(opts.max_backoff).max(backoff),
                _ => jitter.apply(backoff),
            };
            {
                let mut st = lock(&worker.stats);
                st.retries += 1;
                st.retrying = true;
                st.last_error = Some(err.to_string());
                st.last_failed_at = Some(unix_now());
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // At shutdown the pending alert gets one last attempt.
                _ = shutdown.changed() => {}
            }
            backoff = (backoff * 2).min(opts.max_backoff);
        };
        let now = unix_now();
        let error = {
            let mut st = lock(&worker.stats);
            st.retrying = false;
            match &outcome {
                Ok(()) => {
                    st.delivered += 1;
                    st.last_delivered_at = Some(now);
                    None
                }
                Err(e) => {
                    st.failed += 1;
                    st.last_failed_at = Some(now);
                    st.last_error = Some(e.to_string());
                    Some(e.to_string())
                }
            }
        };
        if let Some(e) = &error {
            let line = format!(
                "alert delivery to channel `{}` failed after {attempts} attempt(s), giving up: {} ({e})",
                worker.name,
                n.title()
            );
            if tracing::dispatcher::has_been_set() {
                tracing::error!(target: "binlog_analyzer::alerts", channel = %worker.name, "{line}");
            } else {
                eprintln!("{line}");
            }
        }
        shared.record(DeliveryRecord {
            at: now,
            channel: worker.name.clone(),
            kind: n.kind.clone(),
            name: n.name.clone(),
            title: n.title(),
            outcome: if error.is_none() {
                "delivered"
            } else {
                "failed"
            }
            .into(),
            attempts,
            error,
        });
    }
}

/// ±20% on retry delays, so channels failing together do not retry in
/// lockstep. xorshift seeded from the clock: no need for a real RNG.
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Jitter(seed | 1)
    }

    fn apply(&mut self, d: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let unit = (self.0 % 10_000) as f64 / 10_000.0; // [0, 1)
        d.mul_f64(0.8 + 0.4 * unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_drops_oldest_when_full() {
        let q = DropOldestQueue::new(2);
        assert!(q.push(1).is_none());
        assert!(q.push(2).is_none());
        assert_eq!(q.push(3), Some(1));
        assert_eq!(q.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn token_bucket_refills_over_time() {
        let t0 = Instant::now();
        let mut l = Limiter {
            tokens: 2.0,
            last: t0,
            suppressed: 0,
            first_suppressed: 0,
            latest: None,
        };
        let refill = Duration::from_secs(10);
        assert!(l.take(t0, 2.0, refill));
        assert!(l.take(t0, 2.0, refill));
        assert!(!l.take(t0, 2.0, refill));
        assert!(!l.take(t0 + Duration::from_secs(9), 2.0, refill));
        assert!(l.take(t0 + Duration::from_secs(10), 2.0, refill));
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let mut j = Jitter::new();
        for _ in 0..1000 {
            let d = j.apply(Duration::from_secs(10));
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
        }
    }
}
