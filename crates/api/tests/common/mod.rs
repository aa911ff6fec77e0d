//! A real SQLite store filled from the project's sample binlog (real
//! MariaDB bytes, examples/binlogs) through the pipeline with the seed's
//! config, plus a few hand-built records for what the sample lacks (a
//! composite key, a threshold alert), and helpers to call the router.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::{ApiSettings, AppState};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use binlog::events::Event;
use binlog::stream::BinlogStream;
use binlog::txn::{classify_statement, Gtid, TxnEnd, TxnTracker};
use http_body_util::BodyExt;
use pipeline::config::{BatchSettings, Config};
use pipeline::{
    Batch, Batcher, ChangeKey, ChangeRecord, Checkpoint, Operation, Pipeline, RowContext,
};
use serde_json::{json, Map, Value as Json};
use store::config::SqliteConfig;
use store::sqlite::{SqliteQueries, SqliteStore};
use store::Store;
use tower::ServiceExt;

/// 2025-01-02T00:00:00Z: the sample's changes (2025-01-01 09:0x UTC) are
/// within `7d` of it, and not within `1h`.
pub const NOW: u32 = 1_735_776_000;

pub const TOKEN: &str = "s3cret-token";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed_config() -> Config {
    let env = |name: &str| {
        (name == "BINLOG_ANALYZER_HASH_KEY").then(|| "test-key-0123456789abcdef".to_string())
    };
    Config::load_with_env(
        &repo().join("config/config.example.yaml"),
        Some(&repo().join("config/tables.example.yaml")),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The sample binlog through the pipeline: events → transactions →
/// records and rule alerts → batches at commit boundaries.
pub fn sample_batches() -> Vec<Batch> {
    let cfg = seed_config();
    let file = "sample.000001";
    let mut stream = BinlogStream::new(BufReader::new(
        File::open(repo().join("examples/binlogs").join(file)).expect("sample binlog"),
    ))
    .expect("binlog header");
    let key = cfg.load_hash_key().expect("hash key");
    let mut pipeline = Pipeline::new(&cfg, &key).expect("pipeline");
    let settings = BatchSettings {
        batch_size: 1000,
        flush_interval: Duration::from_secs(3600),
        max_buffered: 100_000,
    };
    let start = Checkpoint {
        binlog_file: file.into(),
        binlog_pos: 4,
        gtid_set: None,
    };
    let mut batcher = Batcher::new(settings, start);
    let mut tracker = TxnTracker::new();
    let mut annotate: Option<String> = None;
    let mut batches = Vec::new();
    let now = Instant::now();
    while let Some(ev) = stream.next_event().expect("event") {
        let next = ev.offset + u64::from(ev.header.event_size);
        let ts = ev.header.timestamp;
        let cp = Checkpoint {
            binlog_file: file.into(),
            binlog_pos: next,
            gtid_set: None,
        };
        let closed = match &ev.event {
            Event::MariaGtid(g) => {
                let gtid = Gtid::Maria {
                    domain: g.domain_id,
                    server: ev.header.server_id,
                    seq: g.seq_no,
                };
                tracker.on_gtid(gtid, ev.offset, ts);
                None
            }
            Event::Query(q) => {
                annotate = None;
                let kind = classify_statement(&String::from_utf8_lossy(q.query));
                tracker.on_statement(&kind, ev.offset, ts)
            }
            Event::AnnotateRows(r) => {
                annotate = Some(String::from_utf8_lossy(r.query).into_owned());
                None
            }
            Event::Xid(x) => tracker.on_xid(x.xid, ev.offset, ts),
            Event::Rows(rows) => {
                let table = ev.table.clone().expect("rows event has a table map");
                tracker.on_rows(0, ev.offset, ts);
                if let Some(prepared) = pipeline.table(&table) {
                    let op = Operation::parse(rows.kind.operation()).expect("operation");
                    let gtid = tracker.gtid().map(|g| g.to_string());
                    for (i, row) in rows.rows(&table, ev.offset).enumerate() {
                        let row = row.expect("row");
                        let ctx = RowContext {
                            binlog_file: file,
                            event_pos: ev.offset,
                            row_index: i as u32,
                            timestamp: ts,
                            gtid: gtid.as_deref(),
                            xid: None,
                            query: annotate.as_deref(),
                        };
                        if let Some(p) = pipeline.process(&prepared, &table, op, &row, &ctx) {
                            batches.extend(batcher.push(p));
                        }
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(closed) = closed {
            let batch = match &closed.end {
                TxnEnd::Xid(xid) => batcher.commit(cp, Some(*xid), now),
                TxnEnd::Commit | TxnEnd::Ddl => batcher.commit(cp, None, now),
                TxnEnd::Rollback => batcher.rollback(cp, now),
                TxnEnd::XaPrepare(x) => batcher.xa_prepare(&x.to_string(), cp, now),
                TxnEnd::XaCommit(x) if batcher.is_prepared(&x.to_string()) => {
                    batcher.xa_commit(&x.to_string(), cp, now)
                }
                TxnEnd::XaCommit(_) => batcher.commit(cp, None, now),
                TxnEnd::XaRollback(x) => batcher.xa_rollback(&x.to_string(), cp, now),
            };
            batches.extend(batch);
        }
    }
    batches.extend(batcher.flush());
    batches
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A change of `ecommerce.order_items`, keyed by (order_id, sku) with a
/// comma and a backslash inside the sku.
pub fn composite_key_record() -> ChangeRecord {
    ChangeRecord {
        key: ChangeKey {
            binlog_file: "sample.000002".into(),
            event_pos: 500,
            row_index: 0,
        },
        timestamp: 1_735_722_900,
        operation: Operation::Insert,
        database: "ecommerce".into(),
        table: "order_items".into(),
        pk_text: pipeline::record::primary_key_text(&obj(
            json!({"order_id": 1, "sku": "KB-1,black\\us"}),
        )),
        primary_key: obj(json!({"order_id": 1, "sku": "KB-1,black\\us"})).into(),
        old_data: None,
        new_data: Some(obj(json!({"order_id": 1, "sku": "KB-1,black\\us", "qty": 2})).into()),
        changes: pipeline::record::JsonText::empty(),
        gtid: Some("0-1-100".into()),
        xid: Some(900),
        query: None,
        tags: vec![],
    }
}

/// The composite key above as the history route takes it, URL-encoded.
pub const COMPOSITE_KEY_PATH: &str = "1%2CKB-1%5C%2Cblack%5C%5Cus";

pub fn lag_alert() -> store::Alert {
    store::Alert {
        kind: "binlog_lag".into(),
        name: "binlog_lag".into(),
        priority: "high".into(),
        timestamp: 1_735_722_950,
        database: None,
        table: None,
        change: None,
        message: "binlog lag 420 s over the 300 s threshold".into(),
        details: json!({"threshold": 300, "observed": 420}),
    }
}

pub struct Fixture {
    pub app: Router,
    pub state: AppState,
    pub records: Vec<ChangeRecord>,
    _dir: tempfile::TempDir,
}

pub fn fixture() -> Fixture {
    fixture_with(ApiSettings::default())
}

pub fn fixture_with(settings: ApiSettings) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SqliteConfig::new(dir.path());
    let mut writer = SqliteStore::open(&config).expect("open store");
    let mut records = Vec::new();
    for b in sample_batches() {
        let alerts: Vec<store::Alert> = b.alerts.iter().map(store::Alert::from_rule).collect();
        writer
            .write_batch(&b.records, &alerts, &b.checkpoint)
            .expect("write batch");
        records.extend(b.records);
    }
    let extra = composite_key_record();
    writer
        .write_batch(
            std::slice::from_ref(&extra),
            &[lag_alert()],
            &Checkpoint {
                binlog_file: "sample.000002".into(),
                binlog_pos: 600,
                gtid_set: Some("0-1-100".into()),
            },
        )
        .expect("write extra");
    records.push(extra);
    let queries = SqliteQueries::open(&config).expect("open queries");
    let state = AppState::new(Arc::new(queries), settings).with_clock(Arc::new(|| NOW));
    Fixture {
        app: api::router(state.clone()),
        state,
        records,
        _dir: dir,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).expect("request")).await
}

pub async fn get_ok(app: &Router, uri: &str) -> Json {
    let r = get(app, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
    r.json()
}

pub async fn graphql(app: &Router, query: &str) -> Json {
    let body = json!({ "query": query }).to_string();
    let r = send(
        app,
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}
