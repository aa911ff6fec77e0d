//! The whole path in a browser: a private MariaDB (testkit) →
//! `binlog-analyzer run` (live replica client, pipeline, SQLite store, API,
//! alert delivery) → the web UI in headless Chromium. A row inserted in
//! MariaDB shows in the live stream within a second of its commit; its
//! update shows as a highlighted diff in the row history; its deletion
//! raises the `user_deletion` rule alert, which reaches the UI live and a
//! webhook receiver this test runs.
//!
//! Needs the `binlog-analyzer` binary beside this test's executable (built
//! by `cargo test --workspace`, or `cargo build -p binlog-analyzer`),
//! MariaDB, Chromium and ChromeDriver: each missing one skips with a note,
//! or fails under CI=true.

mod browser_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use browser_support::{browser_programs, in_ci, Browser};
use serde_json::Value as Json;
use testkit::{MariaDb, Options};

const USER: &str = "ba_ui";
const PASSWORD: &str = "ba-ui-pw";

/// The CLI binary in the same target directory as this test.
fn analyzer_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/browser_run-<hash> → target/<profile>/
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join(format!("binlog-analyzer{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return Some(bin);
    }
    if in_ci() {
        panic!(
            "{} not found under CI=true (cargo test --workspace builds it)",
            bin.display()
        );
    }
    eprintln!(
        "skipping: {} not built (cargo build -p binlog-analyzer)",
        bin.display()
    );
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The analyzer process, stopped however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Hooks = Arc<Mutex<Vec<Json>>>;

async fn hook(State(hooks): State<Hooks>, body: axum::body::Bytes) -> &'static str {
    if let Ok(v) = serde_json::from_slice(&body) {
        hooks.lock().unwrap().push(v);
    }
    "ok"
}

async fn start_webhook_receiver() -> (u16, Hooks) {
    let hooks: Hooks = Arc::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(hooks.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, hooks)
}

fn write_config(dir: &Path, db_port: u16, api_port: u16, hook_port: u16) -> PathBuf {
    let config = format!(
        r#"mysql:
  source:
    host: "127.0.0.1"
    port: {db_port}
    user: "{USER}"
    password: "{PASSWORD}"
    binlog:
      server_id: 4711
      log_file: "mysql-bin.000001"
      log_pos: 4
processing:
  batch_size: 100
  flush_interval: "100ms"
storage:
  primary: sqlite
  data_dir: "{data}"
alerts:
  channels:
    webhook:
      url: "http://127.0.0.1:{hook_port}/hook"
api:
  enabled: true
  listen: "127.0.0.1:{api_port}"
"#,
        data = dir.join("data").display()
    );
    let tables = r#"tables:
  ecommerce.users:
    primary_key: "id"
    rules:
      - name: "status_change"
        condition: "OLD.status != NEW.status"
        track: true
      - name: "user_deletion"
        condition: "operation = 'DELETE'"
        alert: true
        priority: "high"
        channels: ["webhook"]
"#;
    let path = dir.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    std::fs::write(dir.join("tables.yaml"), tables).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_change_reaches_the_ui_within_a_second() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let Some(bin) = analyzer_binary() else {
        return;
    };
    let Some(db) = MariaDb::start_or_skip(Options::new()) else {
        return;
    };
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'; \
         CREATE DATABASE ecommerce; USE ecommerce; \
         CREATE TABLE users (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, username VARCHAR(64), \
           email VARCHAR(255), status VARCHAR(20));"
    ))
    .unwrap();

    let (hook_port, hooks) = start_webhook_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let config = write_config(dir.path(), db.port(), api_port, hook_port);
    let log_path = dir.path().join("analyzer.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut analyzer = KillOnDrop(
        std::process::Command::new(&bin)
            .arg("run")
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start binlog-analyzer run"),
    );
    let log_tail = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", api_port))
        .await
        .is_err()
    {
        if let Ok(Some(status)) = analyzer.0.try_wait() {
            panic!("binlog-analyzer run exited ({status}):\n{}", log_tail());
        }
        assert!(
            Instant::now() < deadline,
            "the API did not come up:\n{}",
            log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let b = Browser::start(&chromium, &driver).await;
    let base = format!("http://127.0.0.1:{api_port}/");
    b.client.goto(&format!("{base}#/live")).await.unwrap();
    b.wait_for(
        "stream open",
        "return document.getElementById('live-conn').dataset.state === 'open'",
        Duration::from_secs(15),
    )
    .await;
    // Wait until the reader has caught up (the CREATE statements are read).
    b.wait_for(
        "caught up",
        "return (document.getElementById('top-state').textContent || '').length > 0 && document.getElementById('top-lag').textContent === '0 s'",
        Duration::from_secs(20),
    )
    .await;

    db.exec("INSERT INTO ecommerce.users (username, email, status) VALUES ('grace', 'grace@example.com', 'active')")
        .unwrap();
    let committed = Instant::now();
    let row = b
        .wait_for(
            "the inserted row",
            "const r = [...document.querySelectorAll('#live-rows tr[data-id]')].find(r => r.textContent.includes('grace@example.com')); return r && r.textContent",
            Duration::from_secs(10),
        )
        .await;
    let latency = committed.elapsed();
    eprintln!("MariaDB commit → row in the UI: {latency:?}");
    assert!(
        latency < Duration::from_secs(1),
        "shown {latency:?} after the commit"
    );
    let row = row.as_str().unwrap();
    assert!(
        row.contains("INSERT") && row.contains("ecommerce.users") && row.contains("id=1"),
        "{row}"
    );

    db.exec(
        "UPDATE ecommerce.users SET email = 'grace@new.example', status = 'inactive' WHERE id = 1",
    )
    .unwrap();
    b.wait_for(
        "the update",
        "return [...document.querySelectorAll('#live-rows tr[data-op=UPDATE]')].some(r => r.textContent.includes('grace@new.example'))",
        Duration::from_secs(5),
    )
    .await;
    b.screenshot("run-live").await;

    b.client
        .goto(&format!("{base}#/history/ecommerce/users/1"))
        .await
        .unwrap();
    b.wait_for(
        "two history entries",
        "return document.querySelectorAll('.timeline .entry').length === 2",
        Duration::from_secs(10),
    )
    .await;
    let diff = b
        .js("const r = document.querySelector('.timeline .entry tr[data-column=email]');
             return [...r.querySelectorAll('td')].map(td => [td.textContent, td.classList.contains('changed')])")
        .await;
    assert_eq!(
        diff,
        serde_json::json!([
            ["email", false],
            ["grace@example.com", true],
            ["grace@new.example", true]
        ])
    );
    b.screenshot("run-history").await;

    // The deletion raises the rule alert: live in the UI, and on the webhook.
    db.exec("DELETE FROM ecommerce.users WHERE id = 1").unwrap();
    let toast = b
        .wait_for(
            "alert toast",
            "const t = document.querySelector('#toasts .toast'); return t && t.textContent",
            Duration::from_secs(5),
        )
        .await;
    assert!(toast.as_str().unwrap().contains("user_deletion"), "{toast}");
    b.client.goto(&format!("{base}#/alerts")).await.unwrap();
    b.wait_for(
        "stored alert",
        "return document.querySelector('#alerts-grid tbody tr[data-name=user_deletion]')",
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("run-alerts").await;
    // The header reads the run's status (state, lag, throughput).
    let header = b
        .wait_for(
            "status in the header",
            "const s = document.getElementById('top-state').textContent; return s !== 'unreachable' && s !== '…' && s",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        matches!(
            header.as_str(),
            Some("caught_up" | "streaming" | "catching_up")
        ),
        "{header}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = hooks.lock().unwrap().clone();
        if let Some(h) = got.iter().find(|h| h["name"] == "user_deletion") {
            assert_eq!(h["kind"], "rule");
            assert_eq!(h["table"], "users");
            assert_eq!(h["details"]["primary_key"]["id"], 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no webhook delivery; got {got:?}\n{}",
            log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    b.close().await;
    drop(analyzer);
}
