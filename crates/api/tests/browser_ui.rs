//! The web UI in headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver with fantoccini): the page
//! loads offline, charts render, the row history shows old and new values
//! highlighted, the live stream shows a change pushed into the broadcast
//! channel within a second, alerts arrive live, and a token-protected
//! server asks for its token.
//!
//! The server is the real router over a SQLite store filled here.
//! Screenshots are kept under `$CARGO_TARGET_TMPDIR/browser-screenshots/`
//! (inside the target directory, never committed).
//!
//! Without chromium/chromedriver the tests are skipped with a note, unless
//! CI=true, where that is a failure (scripts/install-test-deps installs
//! them).

mod browser_support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use api::{ApiSettings, AppState};
use browser_support::{browser_programs, canvas_ink, Browser};
use fantoccini::Locator;
use pipeline::record::{ChangeKey, ChangeRecord, Checkpoint, Operation};
use serde_json::{json, Map, Value as Json};
use store::config::SqliteConfig;
use store::sqlite::{SqliteQueries, SqliteStore};
use store::Store;
use tokio::sync::Mutex;

/// One browser at a time: the machine has two cores.
static BROWSER_LOCK: Mutex<()> = Mutex::const_new(());

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

struct Change<'a> {
    pos: u64,
    at: u32,
    op: Operation,
    table: &'a str,
    pk: Json,
    old: Option<Json>,
    new: Option<Json>,
}

fn record(c: Change<'_>) -> ChangeRecord {
    let old = c.old.map(obj);
    let new = c.new.map(obj);
    let mut changes = Map::new();
    if let (Operation::Update, Some(o), Some(n)) = (c.op, &old, &new) {
        for (k, nv) in n {
            if o.get(k) != Some(nv) {
                changes.insert(k.clone(), json!({"old": o.get(k), "new": nv}));
            }
        }
    }
    ChangeRecord {
        key: ChangeKey {
            binlog_file: "mysql-bin.000042".into(),
            event_pos: c.pos,
            row_index: 0,
        },
        timestamp: c.at,
        operation: c.op,
        database: "ecommerce".into(),
        table: c.table.into(),
        pk_text: pipeline::record::primary_key_text(&obj(c.pk.clone())),
        primary_key: obj(c.pk).into(),
        old_data: old.map(pipeline::record::JsonText::from),
        new_data: new.map(pipeline::record::JsonText::from),
        changes: changes.into(),
        gtid: Some(format!("0-1-{}", c.pos)),
        xid: Some(c.pos),
        query: None,
        tags: vec![],
    }
}

/// A store with a user whose row changed twice, orders over the last day,
/// a deleted user and the rule alert it raised.
fn fill_store(dir: &Path, t: u32) -> SqliteConfig {
    let config = SqliteConfig::new(dir);
    let mut writer = SqliteStore::open(&config).expect("open store");
    let user = |status: &str, email: &str| json!({"id": 12345, "username": "alice", "email": email, "status": status});
    let mut records = vec![
        record(Change {
            pos: 100,
            at: t - 5 * 3600,
            op: Operation::Insert,
            table: "users",
            pk: json!({"id": 12345}),
            old: None,
            new: Some(user("inactive", "old@email.com")),
        }),
        record(Change {
            pos: 200,
            at: t - 3 * 3600,
            op: Operation::Update,
            table: "users",
            pk: json!({"id": 12345}),
            old: Some(user("inactive", "old@email.com")),
            new: Some(user("active", "new@email.com")),
        }),
        record(Change {
            pos: 300,
            at: t - 3600,
            op: Operation::Update,
            table: "users",
            pk: json!({"id": 12345}),
            old: Some(user("active", "new@email.com")),
            new: Some(user("suspended", "new@email.com")),
        }),
    ];
    for i in 0..40u32 {
        let id = 5000 + u64::from(i);
        let at = t - 23 * 3600 + i * 2000;
        let order = |status: &str| json!({"id": id, "user_id": 12345, "amount": format!("{}.50", 100 + i * 37), "status": status});
        records.push(record(Change {
            pos: 1000 + u64::from(i) * 10,
            at,
            op: Operation::Insert,
            table: "orders",
            pk: json!({ "id": id }),
            old: None,
            new: Some(order("new")),
        }));
        if i % 3 == 0 {
            records.push(record(Change {
                pos: 1001 + u64::from(i) * 10,
                at: at + 600,
                op: Operation::Update,
                table: "orders",
                pk: json!({ "id": id }),
                old: Some(order("new")),
                new: Some(order("paid")),
            }));
        }
    }
    let deleted = record(Change {
        pos: 5000,
        at: t - 1800,
        op: Operation::Delete,
        table: "users",
        pk: json!({"id": 777}),
        old: Some(
            json!({"id": 777, "username": "mallory", "email": "m@example.com", "status": "banned"}),
        ),
        new: None,
    });
    let alert = pipeline::rules::Alert {
        rule: "user_deletion".into(),
        priority: pipeline::rules::Priority::High,
        database: "ecommerce".into(),
        table: "users".into(),
        change_id: deleted.id(),
        operation: Operation::Delete,
        timestamp: deleted.timestamp,
        primary_key: deleted.primary_key.to_map(),
        channels: vec!["webhook".into()],
        message: "user_deletion: DELETE on ecommerce.users id=777".into(),
    };
    records.push(deleted);
    records.sort_by_key(|r| (r.timestamp, r.key.event_pos));
    let checkpoint = Checkpoint {
        binlog_file: "mysql-bin.000042".into(),
        binlog_pos: 9000,
        gtid_set: Some("0-1-5000".into()),
    };
    writer
        .write_batch(&records, &[store::Alert::from_rule(&alert)], &checkpoint)
        .expect("write batch");
    config
}

struct Server {
    state: AppState,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(settings: ApiSettings) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = fill_store(dir.path(), now());
        let queries = SqliteQueries::open(&config).expect("open queries");
        let state = AppState::new(Arc::new(queries), settings);
        state.status.send_modify(|s| {
            s.mode = "run".into();
            s.state = "streaming".into();
            s.source = Some("127.0.0.1:3306".into());
            s.binlog_file = Some("mysql-bin.000042".into());
            s.binlog_pos = Some(9000);
            s.gtid_set = Some("0-1-5000".into());
            s.lag_seconds = Some(0.0);
            s.events_per_second = 812.5;
            s.rows_per_second = 1640.0;
            s.events_total = 123_456;
            s.rows_total = 234_567;
            s.started_at = Some(now() - 7200);
        });
        let listener = api::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve_state = state.clone();
        tokio::spawn(async move {
            let _ = api::serve_on(listener, serve_state, async {
                let _ = stopped.await;
            })
            .await;
        });
        Server {
            state,
            addr,
            stop: Some(stop),
            _dir: dir,
        }
    }

    fn url(&self, fragment: &str) -> String {
        format!("http://{}/{fragment}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_loads_offline_and_charts_render() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start(ApiSettings::default()).await;
    let b = Browser::start(&chromium, &driver).await;

    b.client
        .goto(&server.url("#/tables/ecommerce/orders?range=24h"))
        .await
        .unwrap();
    b.wait_for(
        "the app to start",
        "return document.body.dataset.ready === 'true' && typeof uPlot === 'function'",
        Duration::from_secs(10),
    )
    .await;
    // 40 inserts and 14 updates of orders in the last 24 hours.
    let total = b
        .wait_for(
            "table stats",
            "const e = document.getElementById('stat-total'); return e && e.textContent",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(total, "54");
    let ops = b
        .js("return ['insert','update','delete'].map(k => document.getElementById('stat-' + k).textContent)")
        .await;
    assert_eq!(ops, json!(["40", "14", "0"]));
    // Both charts have data and drew something: hourly bars over the day.
    let points = b
        .wait_for(
            "the trend chart",
            "const c = window.__charts.trend; return c && c.data[0].length",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        (24..=25).contains(&points.as_u64().unwrap()),
        "hour buckets over a day: {points}"
    );
    assert_eq!(
        b.js("return document.getElementById('trend-bucket').textContent")
            .await,
        "per hour"
    );
    let sums = b
        .js("return window.__charts.trend.raw.map(s => s.reduce((a, b) => a + b, 0))")
        .await;
    assert_eq!(sums, json!([40, 14, 0]));
    assert!(
        b.js(&format!("return {}", canvas_ink("#trend-chart")))
            .await
            .as_u64()
            .unwrap()
            > 500
    );
    let hourly = b
        .js("return window.__charts.hourly.data[1].reduce((a, b) => a + b, 0)")
        .await;
    assert_eq!(hourly, 54);
    assert!(
        b.js(&format!("return {}", canvas_ink("#hourly-chart")))
            .await
            .as_u64()
            .unwrap()
            > 500
    );
    // Latest changes list, newest first.
    let first_recent = b
        .js("return document.querySelector('#recent-grid tbody tr td.pk').textContent")
        .await;
    assert_eq!(first_recent, "id=5039");
    b.screenshot("tables-orders").await;

    // Another range redraws from the API, with daily bars.
    b.client
        .find(Locator::Css("#table-ranges button[data-range='30d']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for(
        "30d range",
        "return location.hash.endsWith('range=30d') && document.getElementById('trend-bucket').textContent === 'per day' && window.__charts.trend.data[0].length >= 30",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('stat-total').textContent")
            .await,
        "54"
    );

    // Dark theme renders too.
    b.client
        .find(Locator::Css("#theme-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.client
        .find(Locator::Css("#theme-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let theme = b.js("return document.documentElement.dataset.theme").await;
    assert_eq!(theme, "dark");
    b.wait_for(
        "redrawn chart",
        &format!("return {} > 500", canvas_ink("#trend-chart")),
        Duration::from_secs(5),
    )
    .await;
    b.screenshot("tables-orders-dark").await;

    // Status panel: position, lag, throughput.
    b.client.goto(&server.url("#/status")).await.unwrap();
    let eps = b
        .wait_for(
            "status cards",
            "const e = document.getElementById('status-eps'); return e && e.textContent",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(eps, "813");
    let position = b
        .js("return document.getElementById('status-position').textContent")
        .await;
    let position = position.as_str().unwrap();
    assert!(
        position.contains("mysql-bin.000042") && position.contains("9,000"),
        "{position}"
    );
    assert_eq!(
        b.js("return document.getElementById('status-lag').textContent")
            .await,
        "0 s"
    );
    assert_eq!(
        b.js("return document.getElementById('top-state').textContent")
            .await,
        "streaming"
    );
    b.screenshot("status").await;

    // Alerts list from the store.
    b.client.goto(&server.url("#/alerts")).await.unwrap();
    let alert = b
        .wait_for(
            "stored alert",
            "const r = document.querySelector('#alerts-grid tbody tr[data-name=user_deletion]'); return r && r.textContent",
            Duration::from_secs(10),
        )
        .await;
    let alert = alert.as_str().unwrap();
    assert!(
        alert.contains("high") && alert.contains("ecommerce.users"),
        "{alert}"
    );
    b.screenshot("alerts").await;

    // Nothing was fetched from anywhere but this origin.
    let foreign = b
        .js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))")
        .await;
    assert_eq!(foreign, json!([]));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_history_highlights_old_and_new_values() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start(ApiSettings::default()).await;
    let b = Browser::start(&chromium, &driver).await;
    b.client
        .goto(&server.url("#/history/ecommerce/users/12345"))
        .await
        .unwrap();
    let entries = b
        .wait_for(
            "three history entries",
            "const e = document.querySelectorAll('.timeline .entry'); return e.length === 3 && [...e].map(x => x.dataset.op)",
            Duration::from_secs(10),
        )
        .await;
    // Newest first.
    assert_eq!(entries, json!(["UPDATE", "UPDATE", "INSERT"]));
    let cell = |entry: usize, column: &str, side: &str| {
        format!(
            "const r = document.querySelectorAll('.timeline .entry')[{entry}].querySelector('tr[data-column={column}]');
             const c = r.querySelector('td.{side}');
             return {{text: c.textContent, changed: c.classList.contains('changed'), bg: getComputedStyle(c).backgroundColor}};"
        )
    };
    // The last change: status active → suspended, highlighted on both sides.
    let before = b.js(&cell(0, "status", "before")).await;
    let after = b.js(&cell(0, "status", "after")).await;
    assert_eq!(
        (&before["text"], &before["changed"]),
        (&json!("active"), &json!(true))
    );
    assert_eq!(
        (&after["text"], &after["changed"]),
        (&json!("suspended"), &json!(true))
    );
    assert_ne!(
        before["bg"], after["bg"],
        "old and new are told apart by colour"
    );
    assert_ne!(before["bg"], json!("rgba(0, 0, 0, 0)"));
    // Unchanged columns are shown (from the replayed history) but not marked.
    let email = b.js(&cell(0, "email", "after")).await;
    assert_eq!(
        (&email["text"], &email["changed"]),
        (&json!("new@email.com"), &json!(false))
    );
    // The change before: email and status.
    let old_email = b.js(&cell(1, "email", "before")).await;
    let new_email = b.js(&cell(1, "email", "after")).await;
    assert_eq!(old_email["text"], "old@email.com");
    assert_eq!(new_email["text"], "new@email.com");
    assert_eq!(old_email["changed"], true);
    // Changed columns are listed first.
    let first_cols = b
        .js("return [...document.querySelectorAll('.timeline .entry')[1].querySelectorAll('tr[data-column]')].slice(0, 2).map(r => r.dataset.column).sort()")
        .await;
    assert_eq!(first_cols, json!(["email", "status"]));
    b.screenshot("row-history").await;

    // The stored images of one change, on demand.
    b.client
        .find(Locator::Css(
            ".timeline .entry:nth-child(2) .panel-head button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for(
        "stored images",
        "const t = document.querySelectorAll('.timeline .entry')[1].querySelector('table.diff'); return t && t.textContent.includes('alice') && !t.querySelector('tr[data-column]')",
        Duration::from_secs(10),
    )
    .await;

    // A key that has no history says so; a composite-key hint is shown.
    b.client
        .goto(&server.url("#/history/ecommerce/users/999999"))
        .await
        .unwrap();
    b.wait_for(
        "empty history",
        "const r = document.getElementById('history-result'); return r.textContent.includes('No stored changes')",
        Duration::from_secs(10),
    )
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_shows_pushed_change_within_a_second() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let _one = BROWSER_LOCK.lock().await;
    let server = Server::start(ApiSettings::default()).await;
    let b = Browser::start(&chromium, &driver).await;
    b.client.goto(&server.url("#/live")).await.unwrap();
    b.wait_for(
        "stream open",
        "return document.getElementById('live-conn').dataset.state === 'open'",
        Duration::from_secs(10),
    )
    .await;
    let t = now();
    let pushed = record(Change {
        pos: 77_001,
        at: t,
        op: Operation::Update,
        table: "users",
        pk: json!({"id": 12345}),
        // A BIGINT UNSIGNED beyond 2^53 must show exactly.
        old: Some(json!({"id": 12345, "status": "suspended", "balance": 10})),
        new: Some(json!({"id": 12345, "status": "active", "balance": 18446744073709551615u64})),
    });
    let id = pushed.id();
    let sent = Instant::now();
    server.state.live.send(Arc::new(pushed)).unwrap();
    let row = b
        .wait_for(
            "the pushed change",
            &format!("const r = document.querySelector('#live-rows tr[data-id={id:?}]'); return r && r.textContent"),
            Duration::from_secs(5),
        )
        .await;
    let latency = sent.elapsed();
    assert!(latency < Duration::from_secs(1), "shown after {latency:?}");
    let row = row.as_str().unwrap();
    assert!(
        row.contains("ecommerce.users") && row.contains("id=12345"),
        "{row}"
    );
    assert!(row.contains("suspended") && row.contains("active"), "{row}");
    assert!(row.contains("18446744073709551615"), "{row}");
    eprintln!("live change shown {latency:?} after it was published");

    // Clicking a row shows the full before/after.
    b.client
        .find(Locator::Css(&format!(
            "#live-rows tr[data-id={id:?}] td.changes"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for(
        "detail",
        "const d = document.querySelector('#live-rows tr.detail-row'); return d && d.querySelector('td.after.changed')",
        Duration::from_secs(5),
    )
    .await;

    // Filters: only orders, only DELETE.
    b.js("const s = document.getElementById('live-table'); s.value = 'orders'; s.dispatchEvent(new Event('change'));")
        .await;
    for op in ["INSERT", "UPDATE"] {
        b.client
            .find(Locator::Css(&format!("#live-ops input[value={op}]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    b.wait_for(
        "filtered stream open",
        "return document.getElementById('live-conn').dataset.state === 'open'",
        Duration::from_secs(10),
    )
    .await;
    // `open` fires once the server answered, i.e. after it subscribed.
    let users_insert = record(Change {
        pos: 77_002,
        at: t,
        op: Operation::Insert,
        table: "users",
        pk: json!({"id": 1}),
        old: None,
        new: Some(json!({"id": 1})),
    });
    let orders_update = record(Change {
        pos: 77_003,
        at: t,
        op: Operation::Update,
        table: "orders",
        pk: json!({"id": 5001}),
        old: Some(json!({"id": 5001, "status": "new"})),
        new: Some(json!({"id": 5001, "status": "paid"})),
    });
    let orders_delete = record(Change {
        pos: 77_004,
        at: t,
        op: Operation::Delete,
        table: "orders",
        pk: json!({"id": 5002}),
        old: Some(json!({"id": 5002, "status": "paid"})),
        new: None,
    });
    let wanted = orders_delete.id();
    for r in [users_insert, orders_update, orders_delete] {
        server.state.live.send(Arc::new(r)).unwrap();
    }
    b.wait_for(
        "the filtered change",
        &format!("return document.querySelector('#live-rows tr[data-id={wanted:?}]')"),
        Duration::from_secs(5),
    )
    .await;
    let shown = b
        .js("return [...document.querySelectorAll('#live-rows tr[data-id]')].map(r => r.dataset.id)")
        .await;
    assert_eq!(
        shown,
        json!([wanted, id]),
        "only the DELETE on orders was added"
    );

    // An alert arrives live: toast, badge and a highlighted row.
    let alert = store::Alert {
        kind: "bulk_operations".into(),
        name: "bulk_operations".into(),
        priority: "high".into(),
        timestamp: t,
        database: Some("ecommerce".into()),
        table: Some("orders".into()),
        change: None,
        message: "12,001 row changes to ecommerce.orders within 1 min, above 10,000".into(),
        details: json!({"changes": 12001}),
    };
    server.state.alerts.send(Arc::new(alert)).unwrap();
    let toast = b
        .wait_for(
            "alert toast",
            "const t = document.querySelector('#toasts .toast'); return t && t.textContent",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        toast.as_str().unwrap().contains("bulk_operations"),
        "{toast}"
    );
    assert_eq!(
        b.js("return document.getElementById('alert-badge').textContent")
            .await,
        "1"
    );
    b.screenshot("live").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_protected_server_asks_for_the_token() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let _one = BROWSER_LOCK.lock().await;
    let settings = ApiSettings {
        token: Some("s3cret-token-for-tests".into()),
        cors_origins: Vec::new(),
    };
    let server = Server::start(settings).await;
    let b = Browser::start(&chromium, &driver).await;
    b.client
        .goto(&server.url("#/tables/ecommerce/users"))
        .await
        .unwrap();
    b.wait_for(
        "token dialog",
        "return document.getElementById('token-dialog').open",
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("token-dialog").await;
    b.client
        .find(Locator::Css("#token-input"))
        .await
        .unwrap()
        .send_keys("s3cret-token-for-tests")
        .await
        .unwrap();
    b.client
        .find(Locator::Css("#token-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // users: 1 insert, 2 updates, 1 delete.
    let total = b
        .wait_for(
            "stats with the token",
            "const e = document.getElementById('stat-total'); return e && e.textContent",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(total, "4");
    b.wait_for(
        "live stream with the token",
        "return document.getElementById('live-conn').dataset.state === 'open'",
        Duration::from_secs(10),
    )
    .await;
    b.close().await;
}
