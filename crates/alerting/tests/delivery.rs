//! Delivery against local receivers these tests start: an HTTP listener
//! (axum) standing in for a webhook and a Slack incoming webhook, one that
//! fails and recovers, one that never answers, and an SMTP sink (Python's
//! aiosmtpd writing to a maildir).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alerting::{
    channels_from_config, AlertHandle, AlertState, ChannelTarget, DeliveryOptions, Notification,
    ThresholdMonitor,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use pipeline::config::{AlertsConfig, ChannelConfig, ChannelKind, LagAlert, Secret};
use pipeline::record::Operation;
use pipeline::rules::{Alert, Priority};
use serde_json::{json, Map, Value as Json};
use tokio::net::TcpListener;

/// An HTTP receiver: records every POST body by path; answers 500 to the
/// first `fail_first` requests.
#[derive(Default)]
struct Receiver {
    received: Mutex<Vec<(String, Json)>>,
    requests: AtomicUsize,
    fail_first: AtomicUsize,
}

impl Receiver {
    fn bodies(&self, path: &str) -> Vec<Json> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> (StatusCode, &'static str) {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    if n < r.fail_first.load(Ordering::SeqCst) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "receiver down for maintenance",
        );
    }
    let json: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
    r.received
        .lock()
        .unwrap()
        .push((uri.path().to_string(), json));
    (StatusCode::OK, "ok")
}

async fn unknown_path(State(r): State<Arc<Receiver>>) -> (StatusCode, &'static str) {
    r.requests.fetch_add(1, Ordering::SeqCst);
    (StatusCode::NOT_FOUND, "no such webhook")
}

async fn start_receiver(fail_first: usize) -> (SocketAddr, Arc<Receiver>) {
    let r = Arc::new(Receiver::default());
    r.fail_first.store(fail_first, Ordering::SeqCst);
    let app = Router::new()
        .route("/hook", post(receive))
        .route("/slack/T000/B000/XXXX", post(receive))
        .fallback(unknown_path)
        .with_state(r.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, r)
}

/// Accepts connections and never answers (a receiver that hangs).
async fn start_black_hole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    addr
}

fn channel(url: &str, to: &[&str]) -> ChannelConfig {
    ChannelConfig {
        kind: None,
        url: Some(Secret::new(url)),
        to: to.iter().map(|s| s.to_string()).collect(),
    }
}

fn channels(entries: &[(&str, ChannelConfig)]) -> BTreeMap<String, ChannelTarget> {
    let mut config = AlertsConfig::default();
    for (name, ch) in entries {
        config.channels.insert(name.to_string(), ch.clone());
    }
    channels_from_config(&config, &|_| None, Duration::from_secs(2)).unwrap()
}

fn fast_options() -> DeliveryOptions {
    DeliveryOptions {
        initial_backoff: Duration::from_millis(40),
        max_backoff: Duration::from_millis(200),
        request_timeout: Duration::from_millis(500),
        ..DeliveryOptions::default()
    }
}

fn rule_alert(row: u32, channels: &[&str]) -> Alert {
    let mut pk = Map::new();
    pk.insert("id".into(), json!(12_345 + u64::from(row)));
    Alert {
        rule: "user_deletion".into(),
        priority: Priority::High,
        database: "ecommerce".into(),
        table: "users".into(),
        change_id: format!("mysql-bin.000003:4711:{row}"),
        operation: Operation::Delete,
        timestamp: 1_705_314_600,
        primary_key: pk,
        channels: channels.iter().map(|s| s.to_string()).collect(),
        message: format!(
            "user_deletion: DELETE on ecommerce.users id={}",
            12_345 + row
        ),
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_slack_receive_rule_alert() {
    let (addr, rx) = start_receiver(0).await;
    let handle = AlertHandle::start(
        channels(&[
            ("webhook", channel(&format!("http://{addr}/hook"), &[])),
            (
                "slack",
                channel(&format!("http://{addr}/slack/T000/B000/XXXX"), &[]),
            ),
        ]),
        fast_options(),
    )
    .unwrap();
    assert!(handle.send_rule(&rule_alert(0, &["webhook", "slack", "log"])));
    wait_until("both receivers", Duration::from_secs(5), || {
        rx.bodies("/hook").len() == 1 && rx.bodies("/slack/T000/B000/XXXX").len() == 1
    })
    .await;

    let hook = &rx.bodies("/hook")[0];
    assert_eq!(hook["source"], "binlog-analyzer");
    assert_eq!(hook["kind"], "rule");
    assert_eq!(hook["name"], "user_deletion");
    assert_eq!(hook["state"], "firing");
    assert_eq!(hook["priority"], "high");
    assert_eq!(hook["database"], "ecommerce");
    assert_eq!(hook["table"], "users");
    assert_eq!(hook["change_id"], "mysql-bin.000003:4711:0");
    assert_eq!(hook["details"]["primary_key"], json!({"id": 12345}));
    assert_eq!(hook["time"], "2024-01-15T10:30:00Z");

    let slack = &rx.bodies("/slack/T000/B000/XXXX")[0];
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("[HIGH] user_deletion on ecommerce.users"),
        "{text}"
    );
    assert_eq!(slack["attachments"][0]["color"], "#e01e5a");
    assert_eq!(slack["attachments"][0]["ts"], 1_705_314_600);

    wait_until("outcomes recorded", Duration::from_secs(5), || {
        handle.recent().len() == 2
    })
    .await;
    let stats = handle.stats();
    assert_eq!(stats.accepted, 1);
    for ch in &stats.channels {
        assert_eq!((ch.delivered, ch.failed, ch.retries), (1, 0, 0), "{ch:?}");
    }
    handle.shutdown(Duration::from_secs(1)).await;
    assert!(!handle.send_rule(&rule_alert(1, &["webhook"])), "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receiver_is_retried_with_backoff_until_it_recovers() {
    // 500 three times, then 200.
    let (addr, rx) = start_receiver(3).await;
    let handle = AlertHandle::start(
        channels(&[("webhook", channel(&format!("http://{addr}/hook"), &[]))]),
        fast_options(),
    )
    .unwrap();
    let started = Instant::now();
    handle.send_rule(&rule_alert(0, &["webhook"]));
    wait_until("delivery after recovery", Duration::from_secs(5), || {
        rx.bodies("/hook").len() == 1
    })
    .await;
    // Backoff 40 ms, 80 ms, 160 ms (±20%) between the four attempts.
    assert!(
        started.elapsed() >= Duration::from_millis(220),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(rx.requests.load(Ordering::SeqCst), 4);
    wait_until("outcome recorded", Duration::from_secs(2), || {
        handle.recent().len() == 1
    })
    .await;
    let stats = handle.stats();
    let ch = &stats.channels[0];
    assert_eq!((ch.delivered, ch.failed, ch.retries), (1, 0, 3));
    assert!(
        ch.last_error.as_deref().unwrap_or("").contains("500"),
        "{:?}",
        ch.last_error
    );
    let record = &handle.recent()[0];
    assert_eq!((record.outcome.as_str(), record.attempts), ("delivered", 4));
    handle.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_that_keeps_failing_is_given_up_after_max_attempts() {
    let (addr, rx) = start_receiver(usize::MAX).await;
    let options = DeliveryOptions {
        max_attempts: 3,
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[("webhook", channel(&format!("http://{addr}/hook"), &[]))]),
        options,
    )
    .unwrap();
    handle.send_rule(&rule_alert(0, &["webhook"]));
    wait_until("giving up", Duration::from_secs(5), || {
        handle.stats().channels[0].failed == 1
    })
    .await;
    assert_eq!(rx.requests.load(Ordering::SeqCst), 3);
    let record = &handle.recent()[0];
    assert_eq!((record.outcome.as_str(), record.attempts), ("failed", 3));
    assert!(record.error.as_deref().unwrap().contains("receiver down"));
    handle.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_error_is_not_retried() {
    let (addr, rx) = start_receiver(0).await;
    let handle = AlertHandle::start(
        // No such route: 404, a configuration error retrying cannot fix.
        channels(&[("webhook", channel(&format!("http://{addr}/nope"), &[]))]),
        fast_options(),
    )
    .unwrap();
    handle.send_rule(&rule_alert(0, &["webhook"]));
    wait_until("failure", Duration::from_secs(5), || {
        handle.stats().channels[0].failed == 1
    })
    .await;
    assert_eq!(rx.requests.load(Ordering::SeqCst), 1);
    assert_eq!(handle.stats().channels[0].retries, 0);
    handle.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_receiver_delays_neither_ingest_nor_other_channels() {
    let hole = start_black_hole().await;
    let (addr, rx) = start_receiver(0).await;
    let options = DeliveryOptions {
        request_timeout: Duration::from_secs(30),
        rate_burst: 1000,
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[
            ("webhook", channel(&format!("http://{hole}/hook"), &[])),
            (
                "slack",
                channel(&format!("http://{addr}/slack/T000/B000/XXXX"), &[]),
            ),
        ]),
        options,
    )
    .unwrap();
    let started = Instant::now();
    for row in 0..50 {
        assert!(handle.send_rule(&rule_alert(row, &["webhook", "slack"])));
    }
    let send_time = started.elapsed();
    assert!(
        send_time < Duration::from_millis(50),
        "sending 50 alerts took {send_time:?}"
    );
    wait_until(
        "all 50 on the healthy channel",
        Duration::from_secs(10),
        || rx.bodies("/slack/T000/B000/XXXX").len() == 50,
    )
    .await;
    let stats = handle.stats();
    let webhook = stats.channels.iter().find(|c| c.name == "webhook").unwrap();
    assert_eq!(webhook.delivered, 0, "the hung receiver answered nothing");
    assert_eq!(webhook.queued, 49, "one in flight, the rest waiting");
    // Shutdown does not wait for the hung receiver beyond its grace.
    let stopping = Instant::now();
    handle.shutdown(Duration::from_millis(300)).await;
    assert!(stopping.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_channel_queue_drops_oldest_and_counts() {
    let hole = start_black_hole().await;
    let options = DeliveryOptions {
        channel_queue_capacity: 4,
        request_timeout: Duration::from_secs(30),
        rate_burst: 1000,
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[("webhook", channel(&format!("http://{hole}/hook"), &[]))]),
        options,
    )
    .unwrap();
    // Let the worker take the first alert, so the count is exact.
    handle.send_rule(&rule_alert(0, &["webhook"]));
    wait_until("first alert in flight", Duration::from_secs(2), || {
        handle.stats().channels[0].queued == 0 && handle.stats().queued == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    for row in 1..50 {
        handle.send_rule(&rule_alert(row, &["webhook"]));
    }
    wait_until("dispatch", Duration::from_secs(2), || {
        handle.stats().queued == 0 && handle.stats().channels[0].dropped == 45
    })
    .await;
    let ch = &handle.stats().channels[0];
    assert_eq!(ch.queued, 4);
    let dropped: Vec<_> = handle
        .recent()
        .into_iter()
        .filter(|r| r.outcome == "dropped")
        .collect();
    assert_eq!(dropped.len(), 45);
    handle.shutdown(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "current_thread")]
async fn full_ingest_queue_drops_oldest_without_waiting() {
    let options = DeliveryOptions {
        queue_capacity: 10,
        ..fast_options()
    };
    let handle = AlertHandle::start(BTreeMap::new(), options).unwrap();
    // On a current-thread runtime the dispatcher cannot run while this
    // loop does: the queue fills exactly.
    let started = Instant::now();
    for row in 0..100 {
        handle.send_rule(&rule_alert(row, &[]));
    }
    assert!(started.elapsed() < Duration::from_millis(50));
    let stats = handle.stats();
    assert_eq!((stats.accepted, stats.dropped, stats.queued), (100, 90, 10));
    handle.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_delivered_once_and_bursts_summarised() {
    let (addr, rx) = start_receiver(0).await;
    let options = DeliveryOptions {
        rate_burst: 3,
        rate_refill: Duration::from_millis(300),
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[("webhook", channel(&format!("http://{addr}/hook"), &[]))]),
        options,
    )
    .unwrap();
    // The same change raising the same rule five times (a replayed batch).
    for _ in 0..5 {
        handle.send_rule(&rule_alert(0, &["webhook"]));
    }
    // Then a burst of ten distinct deletions.
    for row in 1..=10 {
        handle.send_rule(&rule_alert(row, &["webhook"]));
    }
    wait_until("burst and digest", Duration::from_secs(5), || {
        rx.bodies("/hook").len() == 4
    })
    .await;
    let bodies = rx.bodies("/hook");
    let ids: Vec<_> = bodies.iter().map(|b| b["change_id"].clone()).collect();
    assert_eq!(
        &ids[..3],
        &[
            json!("mysql-bin.000003:4711:0"),
            json!("mysql-bin.000003:4711:1"),
            json!("mysql-bin.000003:4711:2")
        ]
    );
    let digest = &bodies[3];
    assert_eq!(digest["details"]["digest"], true);
    assert_eq!(digest["details"]["suppressed"], 8);
    assert_eq!(
        digest["details"]["latest_change_id"],
        "mysql-bin.000003:4711:10"
    );
    assert!(
        digest["message"]
            .as_str()
            .unwrap()
            .starts_with("8 more `user_deletion` alerts were held back"),
        "{}",
        digest["message"]
    );
    let stats = handle.stats();
    assert_eq!(
        (stats.deduplicated, stats.rate_limited, stats.digests),
        (4, 8, 1)
    );
    handle.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threshold_alert_fires_and_resolves_on_webhook() {
    let (addr, rx) = start_receiver(0).await;
    let config = AlertsConfig {
        binlog_lag: Some(LagAlert {
            threshold: Duration::from_secs(300),
            channels: vec!["webhook".into()],
        }),
        ..AlertsConfig::default()
    };
    let mut monitor = ThresholdMonitor::new(&config);
    let handle = AlertHandle::start(
        channels(&[("webhook", channel(&format!("http://{addr}/hook"), &[]))]),
        fast_options(),
    )
    .unwrap();
    let t0 = 1_700_000_000;
    for (lag, t) in [(10, t0), (420, t0 + 5), (600, t0 + 10), (2, t0 + 15)] {
        if let Some(n) = monitor.observe_lag(lag, t) {
            handle.send(n);
        }
    }
    wait_until("firing and resolved", Duration::from_secs(5), || {
        rx.bodies("/hook").len() == 2
    })
    .await;
    let bodies = rx.bodies("/hook");
    assert_eq!(bodies[0]["kind"], "binlog_lag");
    assert_eq!(bodies[0]["state"], "firing");
    assert_eq!(bodies[0]["details"]["lag_seconds"], 420);
    assert_eq!(bodies[1]["state"], "resolved");
    assert_eq!(bodies[1]["title"], "[RESOLVED] binlog_lag");
    handle.shutdown(Duration::from_secs(1)).await;
}

// ---------------------------------------------------------------------------
// Email through an SMTP sink (Python's aiosmtpd).

/// Whether aiosmtpd can run here; under CI=true its absence fails.
fn aiosmtpd_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 with aiosmtpd is required under CI=true (scripts/install-test-deps installs it)");
        }
        eprintln!("skipping: python3 -m aiosmtpd is not available (pip install aiosmtpd)");
    }
    ok
}

struct SmtpSink {
    child: tokio::process::Child,
    maildir: PathBuf,
}

impl SmtpSink {
    async fn start(port: u16, maildir: &Path) -> SmtpSink {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let child = tokio::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink {
            child,
            maildir: maildir.to_path_buf(),
        }
    }

    fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "alerting-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_delivered_through_smtp_sink() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let dir = temp_dir("smtp");
    let mut sink = SmtpSink::start(port, &dir).await;
    let handle = AlertHandle::start(
        channels(&[(
            "email",
            channel(
                &format!("smtp://127.0.0.1:{port}?tls=none&from=binlog@example.com"),
                &["dba@example.com", "oncall@example.com"],
            ),
        )]),
        fast_options(),
    )
    .unwrap();
    handle.send_rule(&rule_alert(0, &["email"]));
    wait_until("mail in the maildir", Duration::from_secs(10), || {
        sink.messages().len() == 1
    })
    .await;
    let mail = &sink.messages()[0];
    assert!(
        mail.contains("Subject: [binlog-analyzer] [HIGH] user_deletion on ecommerce.users"),
        "{mail}"
    );
    assert!(mail.contains("X-MailFrom: binlog@example.com"), "{mail}");
    assert!(
        mail.contains("dba@example.com") && mail.contains("oncall@example.com"),
        "{mail}"
    );
    assert!(mail.contains("mysql-bin.000003:4711:0"), "{mail}");
    wait_until("outcome recorded", Duration::from_secs(5), || {
        handle.stats().channels[0].delivered == 1
    })
    .await;
    handle.shutdown(Duration::from_secs(1)).await;
    let _ = sink.child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_retried_until_smtp_server_comes_up() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let dir = temp_dir("smtp-late");
    let options = DeliveryOptions {
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_millis(400),
        max_attempts: 30,
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[(
            "email",
            channel(
                &format!("smtp://127.0.0.1:{port}?tls=none"),
                &["dba@example.com"],
            ),
        )]),
        options,
    )
    .unwrap();
    // Nothing listens yet: connection refused, retried.
    let sent = Notification {
        state: AlertState::Firing,
        ..Notification::from_rule(&rule_alert(7, &["email"]))
    };
    handle.send(sent);
    wait_until("a failed attempt", Duration::from_secs(5), || {
        handle.stats().channels[0].retries >= 1
    })
    .await;
    let mut sink = SmtpSink::start(port, &dir).await;
    wait_until(
        "mail after the server came up",
        Duration::from_secs(15),
        || sink.messages().len() == 1,
    )
    .await;
    // The server has the mail before the worker records the outcome.
    wait_until("outcome recorded", Duration::from_secs(5), || {
        handle.stats().channels[0].delivered == 1
    })
    .await;
    let ch = &handle.stats().channels[0];
    assert_eq!((ch.delivered, ch.failed), (1, 0));
    assert!(ch.retries >= 1);
    assert!(sink.messages()[0].contains("id=12352"));
    handle.shutdown(Duration::from_secs(1)).await;
    let _ = sink.child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_slack_receiver_is_retried_and_a_revoked_one_given_up() {
    // 500 twice, then the Slack webhook accepts.
    let (addr, rx) = start_receiver(2).await;
    // A receiver of its own: the failure count above is per receiver.
    let (gone_addr, _) = start_receiver(0).await;
    let handle = AlertHandle::start(
        channels(&[
            (
                "slack",
                channel(&format!("http://{addr}/slack/T000/B000/XXXX"), &[]),
            ),
            // A webhook Slack no longer knows answers 404: retrying cannot help.
            (
                "slack_revoked",
                ChannelConfig {
                    kind: Some(ChannelKind::Slack),
                    ..channel(&format!("http://{gone_addr}/slack/T000/B000/GONE"), &[])
                },
            ),
        ]),
        fast_options(),
    )
    .unwrap();
    handle.send_rule(&rule_alert(0, &["slack", "slack_revoked"]));
    wait_until(
        "slack delivery after failures",
        Duration::from_secs(5),
        || rx.bodies("/slack/T000/B000/XXXX").len() == 1,
    )
    .await;
    let body = &rx.bodies("/slack/T000/B000/XXXX")[0];
    assert!(
        body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("[HIGH] user_deletion")),
        "{body}"
    );
    wait_until("both outcomes", Duration::from_secs(5), || {
        handle.recent().len() == 2
    })
    .await;
    let stats = handle.stats();
    let of = |name: &str| {
        stats
            .channels
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no channel {name}: {:?}", stats.channels))
    };
    let ok = of("slack");
    assert_eq!((ok.delivered, ok.failed, ok.retries), (1, 0, 2), "{ok:?}");
    let gone = of("slack_revoked");
    assert_eq!(
        (gone.delivered, gone.failed, gone.retries),
        (0, 1, 0),
        "{gone:?}"
    );
    assert!(
        gone.last_error.as_deref().unwrap_or("").contains("404"),
        "{gone:?}"
    );
    handle.shutdown(Duration::from_secs(1)).await;
}

/// An SMTP server (aiosmtpd) whose DATA answer the test chooses: `flaky`
/// answers 451 (try again later) to the first two messages, `reject`
/// answers 550 to all. Every DATA is counted in `<maildir>/attempts`.
const REFUSING_SMTP: &str = r#"
import sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

port, maildir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Refusing(Mailbox):
    tries = 0
    async def handle_DATA(self, server, session, envelope):
        Refusing.tries += 1
        with open(maildir + "/attempts", "a") as f:
            f.write("data\n")
        if mode == "reject":
            return "550 5.1.1 mailbox unavailable"
        if mode == "flaky" and Refusing.tries <= 2:
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)

Controller(Refusing(maildir), hostname="127.0.0.1", port=port).start()
while True:
    time.sleep(3600)
"#;

async fn start_refusing_smtp(port: u16, maildir: &Path, mode: &str) -> SmtpSink {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let script = maildir.join("refusing_smtp.py");
    std::fs::write(&script, REFUSING_SMTP).unwrap();
    let child = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .arg(maildir)
        .arg(mode)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the SMTP server");
    let deadline = Instant::now() + Duration::from_secs(15);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the SMTP server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    SmtpSink {
        child,
        maildir: maildir.to_path_buf(),
    }
}

fn smtp_attempts(maildir: &Path) -> usize {
    std::fs::read_to_string(maildir.join("attempts"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_refused_for_now_is_retried_and_refused_for_good_is_given_up() {
    if !aiosmtpd_available() {
        return;
    }
    let (flaky_port, reject_port) = (free_port(), free_port());
    let (flaky_dir, reject_dir) = (temp_dir("smtp-flaky"), temp_dir("smtp-reject"));
    let mut flaky = start_refusing_smtp(flaky_port, &flaky_dir, "flaky").await;
    let mut reject = start_refusing_smtp(reject_port, &reject_dir, "reject").await;
    let handle = AlertHandle::start(
        channels(&[
            (
                "mail_flaky",
                ChannelConfig {
                    kind: Some(ChannelKind::Email),
                    ..channel(
                        &format!("smtp://127.0.0.1:{flaky_port}?tls=none"),
                        &["dba@example.com"],
                    )
                },
            ),
            (
                "mail_reject",
                ChannelConfig {
                    kind: Some(ChannelKind::Email),
                    ..channel(
                        &format!("smtp://127.0.0.1:{reject_port}?tls=none"),
                        &["nobody@example.com"],
                    )
                },
            ),
        ]),
        fast_options(),
    )
    .unwrap();
    handle.send_rule(&rule_alert(3, &["mail_flaky", "mail_reject"]));
    wait_until("mail after two 451s", Duration::from_secs(10), || {
        flaky.messages().len() == 1
    })
    .await;
    assert!(flaky.messages()[0].contains("mysql-bin.000003:4711:3"));
    wait_until("both outcomes", Duration::from_secs(5), || {
        handle.recent().len() == 2
    })
    .await;
    assert_eq!(smtp_attempts(&flaky_dir), 3);
    // 550 is final: one attempt, no retry, the server's words kept.
    assert_eq!(smtp_attempts(&reject_dir), 1);
    let stats = handle.stats();
    let of = |name: &str| stats.channels.iter().find(|c| c.name == name).unwrap();
    let f = of("mail_flaky");
    assert_eq!((f.delivered, f.failed, f.retries), (1, 0, 2), "{f:?}");
    let r = of("mail_reject");
    assert_eq!((r.delivered, r.failed, r.retries), (0, 1, 0), "{r:?}");
    assert!(
        r.last_error
            .as_deref()
            .unwrap_or("")
            .contains("mailbox unavailable"),
        "{r:?}"
    );
    handle.shutdown(Duration::from_secs(1)).await;
    let _ = flaky.child.kill().await;
    let _ = reject.child.kill().await;
    let _ = std::fs::remove_dir_all(&flaky_dir);
    let _ = std::fs::remove_dir_all(&reject_dir);
}

/// Slack answers a burst with 429 and `Retry-After`: the next attempt waits
/// that long, not the (shorter) backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_rate_limit_waits_for_retry_after() {
    let hits: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let app = Router::new()
        .route(
            "/slack/T000/B000/XXXX",
            post(|State(hits): State<Arc<Mutex<Vec<Instant>>>>| async move {
                let mut h = hits.lock().unwrap();
                h.push(Instant::now());
                if h.len() == 1 {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "1")],
                        "rate_limited",
                    )
                } else {
                    (StatusCode::OK, [("retry-after", "0")], "ok")
                }
            }),
        )
        .with_state(hits.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let options = DeliveryOptions {
        // Retry-After is honoured up to the longest backoff.
        max_backoff: Duration::from_secs(5),
        ..fast_options()
    };
    let handle = AlertHandle::start(
        channels(&[(
            "slack",
            channel(&format!("http://{addr}/slack/T000/B000/XXXX"), &[]),
        )]),
        options,
    )
    .unwrap();
    handle.send_rule(&rule_alert(0, &["slack"]));
    wait_until(
        "delivery after the rate limit",
        Duration::from_secs(5),
        || handle.stats().channels[0].delivered == 1,
    )
    .await;
    let h = hits.lock().unwrap().clone();
    assert_eq!(h.len(), 2);
    let waited = h[1] - h[0];
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, before Retry-After: 1"
    );
    let ch = &handle.stats().channels[0];
    assert_eq!((ch.delivered, ch.failed, ch.retries), (1, 0, 1), "{ch:?}");
    assert!(
        ch.last_error.as_deref().unwrap_or("").contains("429"),
        "{ch:?}"
    );
    handle.shutdown(Duration::from_secs(1)).await;
}
