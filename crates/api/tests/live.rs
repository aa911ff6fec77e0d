//! Live delivery: SSE through the router, GraphQL subscriptions over a
//! real WebSocket on a real socket, and shutdown ending open streams.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use pipeline::Operation;
use serde_json::{json, Value as Json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt;

const WAIT: Duration = Duration::from_secs(5);

async fn wait_for_subscribers(
    live: &tokio::sync::broadcast::Sender<Arc<pipeline::ChangeRecord>>,
    n: usize,
) {
    tokio::time::timeout(WAIT, async {
        while live.receiver_count() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("subscriber in time");
}

/// Reads SSE frames until `want` events of interest arrived.
async fn read_events(body: &mut Body, want: usize) -> Vec<(String, Json)> {
    let mut buf = String::new();
    let mut events = Vec::new();
    tokio::time::timeout(WAIT, async {
        while events.len() < want {
            let frame = body.frame().await.expect("stream open").expect("frame");
            if let Some(data) = frame.data_ref() {
                buf.push_str(&String::from_utf8_lossy(data));
            }
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                if let Some(name) = name {
                    events.push((name, serde_json::from_str(&data).expect("JSON data")));
                }
            }
        }
    })
    .await
    .expect("events in time");
    events
}

#[tokio::test]
async fn sse_stream_delivers_filtered_changes_and_alerts() {
    let f = fixture();
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/api/stream?database=ecommerce&table=orders&operation=UPDATE")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = response.into_body();
    wait_for_subscribers(&f.state.live, 1).await;
    // Everything goes out; only orders UPDATEs (and alerts) come back.
    f.state.publish_changes(&f.records);
    f.state.publish_alert(&lag_alert());
    let expected: Vec<&pipeline::ChangeRecord> = f
        .records
        .iter()
        .filter(|r| r.table == "orders" && r.operation == Operation::Update)
        .collect();
    let events = read_events(&mut body, expected.len() + 1).await;
    let changes: Vec<&Json> = events
        .iter()
        .filter(|(n, _)| n == "change")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(changes.len(), expected.len());
    for (got, want) in changes.iter().zip(&expected) {
        assert_eq!(got["id"], want.id());
        assert_eq!(got["operation"], "UPDATE");
        assert_eq!(got["table"], "orders");
        assert!(got["changes"]["status"].is_object());
    }
    let alert = events
        .iter()
        .find(|(n, _)| n == "alert")
        .expect("alert event");
    assert_eq!(alert.1["name"], "binlog_lag");
}

#[tokio::test]
async fn sse_tells_a_slow_client_how_many_it_missed() {
    let f = fixture();
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/api/stream?alerts=false")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = response.into_body();
    wait_for_subscribers(&f.state.live, 1).await;
    let rec = Arc::new(f.records[0].clone());
    for _ in 0..api::LIVE_CAPACITY + 10 {
        let _ = f.state.live.send(rec.clone());
    }
    let events = read_events(&mut body, 1).await;
    assert_eq!(events[0].0, "lagged");
    assert_eq!(events[0].1, json!({"skipped": 10}));
}

async fn start_server(
    f: &Fixture,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = api::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve_on(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

#[tokio::test]
async fn graphql_subscription_over_websocket_then_shutdown_closes_it() {
    let f = fixture_with(api::ApiSettings {
        token: Some(TOKEN.into()),
        cors_origins: vec![],
    });
    let (addr, stop, server) = start_server(&f).await;

    // Without the token the upgrade is refused.
    let mut req = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let refused = tokio_tungstenite::connect_async(req).await;
    assert!(refused.is_err());

    let mut req = format!("ws://{addr}/graphql/ws?access_token={TOKEN}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    ws.send(Message::text(
        json!({"type": "connection_init"}).to_string(),
    ))
    .await
    .unwrap();
    let ack = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Json>(ack.to_text().unwrap()).unwrap()["type"],
        "connection_ack"
    );
    ws.send(Message::text(
        json!({
            "id": "1",
            "type": "subscribe",
            "payload": {"query": "subscription { changes(database: \"ecommerce\", table: \"orders\") { id operation primaryKey changes { column oldValue newValue } } }"}
        })
        .to_string(),
    ))
    .await
    .unwrap();
    wait_for_subscribers(&f.state.live, 1).await;
    let users = f.records.iter().find(|r| r.table == "users").unwrap();
    let paid = f
        .records
        .iter()
        .find(|r| r.table == "orders" && r.operation == Operation::Update)
        .unwrap();
    let _ = f.state.live.send(Arc::new(users.clone()));
    let _ = f.state.live.send(Arc::new(paid.clone()));
    let msg = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let msg: Json = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    assert_eq!(msg["type"], "next");
    assert_eq!(msg["id"], "1");
    let change = &msg["payload"]["data"]["changes"];
    assert_eq!(change["id"], paid.id());
    assert_eq!(
        change["changes"],
        json!([{"column": "status", "oldValue": "pending", "newValue": "paid"}])
    );

    // Shutdown: the subscription completes and the server returns in time.
    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    let done = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("server reacts");
    if let Some(Ok(m)) = done {
        if let Ok(text) = m.to_text() {
            if !text.is_empty() {
                assert_eq!(
                    serde_json::from_str::<Json>(text).unwrap()["type"],
                    "complete"
                );
            }
        }
    }
    tokio::time::timeout(api::SHUTDOWN_GRACE + WAIT, server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < api::SHUTDOWN_GRACE + Duration::from_secs(2));
}

#[tokio::test]
async fn open_sse_streams_end_when_the_server_shuts_down() {
    let f = fixture();
    let (addr, stop, server) = start_server(&f).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    // The stream ends (EOF) well before the grace period would force it.
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut rest))
        .await
        .expect("stream closed")
        .unwrap();
    server.await.unwrap().unwrap();
    assert!(
        started.elapsed() < api::SHUTDOWN_GRACE,
        "{:?}",
        started.elapsed()
    );
}
