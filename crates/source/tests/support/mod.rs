//! Shared helpers for the live tests: a private MariaDB (testkit, or the
//! restartable one below), a replication user, a workload over
//! `mysql_async`, and a model of the table rebuilt from streamed changes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binlog::events::rows::RowChange;
use binlog::events::Event;
use binlog::Value;
use mysql_async::prelude::Queryable;
use source::{Source, SourceConfig, SourceEvent, StartPosition, TlsMode};

pub const USER: &str = "repl";
pub const PASSWORD: &str = "repl-pw";

/// The replication user the tests connect as (TCP, password auth).
pub const CREATE_USER: &str =
    "CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw'; \
     GRANT ALL PRIVILEGES ON *.* TO 'repl'@'127.0.0.1'";

/// A testkit server with the replication user, or `None` when MariaDB is
/// not installed (testkit prints why; under CI=true it panics instead).
pub fn start(extra: &[&str]) -> Option<testkit::MariaDb> {
    let opts = testkit::Options::new().args(extra.iter().copied());
    let db = testkit::MariaDb::start_or_skip(opts)?;
    db.exec(CREATE_USER).expect("create replication user");
    Some(db)
}

pub fn config(port: u16, server_id: u32) -> SourceConfig {
    let mut cfg = SourceConfig::new("127.0.0.1", port, USER);
    cfg.password = PASSWORD.into();
    cfg.server_id = server_id;
    cfg.tls = TlsMode::Preferred;
    cfg.heartbeat = Duration::from_millis(500);
    cfg.read_timeout = Duration::from_secs(10);
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.initial_backoff = Duration::from_millis(100);
    cfg.max_backoff = Duration::from_millis(800);
    cfg.max_retries = Some(60);
    cfg.start = StartPosition::End;
    cfg
}

pub async fn sql_conn(port: u16) -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(USER))
        .pass(Some(PASSWORD))
        .prefer_socket(false);
    mysql_async::Conn::new(opts)
        .await
        .expect("workload connection")
}

/// Text of a cell, NULL as `None`.
pub fn text(v: &Option<Value<'_>>) -> Option<String> {
    match v.as_ref()? {
        Value::Null => None,
        Value::Int(n) => Some(n.to_string()),
        Value::UInt(n) => Some(n.to_string()),
        Value::Text(s) => Some(s.to_string()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(format!("{other:?}")),
    }
}

/// What a consumer of the stream sees, accumulated.
#[derive(Default, Debug)]
pub struct Model {
    /// id -> other columns, as text.
    pub rows: BTreeMap<i64, Vec<Option<String>>>,
    /// Every committed GTID, in stream order.
    pub gtids: Vec<String>,
    /// Row changes applied.
    pub changes: usize,
    /// Statements seen on rows events (ANNOTATE_ROWS).
    pub statements: Vec<String>,
    /// Column names seen on row events' table maps.
    pub column_names: Vec<Vec<String>>,
    pub last_committed: Option<source::Position>,
}

impl Model {
    /// Apply one event of table `table` to the model (other tables ignored).
    pub fn apply(&mut self, ev: &SourceEvent<'_>, table: &str) {
        if let Some(c) = &ev.committed {
            if let Some(g) = &ev.gtid {
                self.gtids.push(g.to_string());
            }
            self.last_committed = Some(c.clone());
        }
        let Event::Rows(rows) = &ev.event.event else {
            return;
        };
        let Some(map) = &ev.table else { return };
        if map.table != table {
            return;
        }
        if let Some(s) = ev.statement {
            if self.statements.last().map(String::as_str) != Some(s) {
                self.statements.push(s.to_string());
            }
        }
        let names: Vec<String> = (0..map.columns.len()).map(|i| map.column_name(i)).collect();
        if self.column_names.last() != Some(&names) {
            self.column_names.push(names);
        }
        for change in rows.rows(map, ev.pos) {
            let change: RowChange<'_> = change.expect("row decodes");
            self.changes += 1;
            if let Some(before) = &change.before {
                let id: i64 = text(&before[0]).unwrap().parse().unwrap();
                self.rows.remove(&id);
            }
            if let Some(after) = &change.after {
                let id: i64 = text(&after[0]).unwrap().parse().unwrap();
                self.rows.insert(id, after[1..].iter().map(text).collect());
            }
        }
    }
}

/// Rows of `SELECT * … ORDER BY id` in the model's shape.
pub async fn select_model(
    conn: &mut mysql_async::Conn,
    table: &str,
) -> BTreeMap<i64, Vec<Option<String>>> {
    let rows: Vec<mysql_async::Row> = conn
        .query(format!("SELECT * FROM {table} ORDER BY 1"))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let cells: Vec<Option<String>> =
                (0..r.len()).map(|i| source::server::cell(&r, i)).collect();
            let id = cells[0].as_ref().unwrap().parse().unwrap();
            (id, cells[1..].to_vec())
        })
        .collect()
}

/// Stream until the committed position reaches `until` (file, pos),
/// applying events to `model`. Panics after `limit`.
pub async fn stream_until(
    src: &mut Source,
    model: &mut Model,
    table: &str,
    until: &source::Position,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    while src.committed().cmp_file_pos(until).is_lt() {
        let left = deadline.saturating_duration_since(Instant::now());
        let at = src.committed().clone();
        let ev = tokio::time::timeout(left, src.next())
            .await
            .unwrap_or_else(|_| panic!("stream did not reach {until} within {limit:?}; at {at}"))
            .expect("stream")
            .expect("stream ended early");
        model.apply(&ev, table);
    }
}

/// The server's binlog end, via SHOW MASTER STATUS.
pub async fn binlog_end(conn: &mut mysql_async::Conn) -> source::Position {
    let row: mysql_async::Row = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .unwrap();
    source::Position::new(
        source::server::cell(&row, 0).unwrap(),
        source::server::cell(&row, 1).unwrap().parse().unwrap(),
    )
}

/// A workload of `txns` transactions on `table` (id INT PRIMARY KEY,
/// v VARCHAR, n INT UNSIGNED): inserts, updates and deletes, several rows
/// per transaction.
pub async fn workload(conn: &mut mysql_async::Conn, table: &str, first: i64, txns: i64) {
    for i in first..first + txns {
        let base = i * 10;
        let sql = format!(
            "BEGIN; \
             INSERT INTO {table} VALUES ({a}, 'v{a}', {n}), ({b}, NULL, 4294967295), ({c}, 'ü{c}', 0); \
             UPDATE {table} SET v = CONCAT(IFNULL(v, 'x'), '+'), n = n DIV 2 WHERE id = {b}; \
             DELETE FROM {table} WHERE id = {c}; \
             COMMIT",
            a = base,
            b = base + 1,
            c = base + 2,
            n = i * 7
        );
        conn.query_drop(sql).await.unwrap();
    }
}

/// A MariaDB that can be killed and started again on the same datadir and
/// port (testkit has no restart). Killed and removed on drop.
pub struct RestartableServer {
    pub bins: testkit::Binaries,
    pub dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

const INNODB_ARGS: &[&str] = &[
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-data-file-path=ibdata1:12M:autoextend",
];

impl RestartableServer {
    pub fn start() -> Option<RestartableServer> {
        if !testkit::available_or_skip() {
            return None;
        }
        let bins = testkit::Binaries::find().unwrap();
        let dir = std::env::temp_dir().join(format!(
            "source-restart-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let mut install = Command::new(&bins.install_db);
        install
            .arg("--no-defaults")
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--tmpdir={}", dir.join("tmp").display()))
            .arg("--skip-test-db")
            .args(INNODB_ARGS);
        if is_root() {
            install.arg("--user=root");
        }
        let status = install
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "mariadb-install-db failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = RestartableServer {
            bins,
            dir,
            port,
            child: None,
        };
        s.spawn();
        s.exec(CREATE_USER);
        Some(s)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("s.sock")
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(&self.bins.server);
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=root");
        }
        let data = self.dir.join("data");
        cmd.arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", self.dir.join("tmp").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--pid-file={}", self.dir.join("pid").display()))
            .arg(format!(
                "--log-error={}",
                self.dir.join("error.log").display()
            ))
            .arg(format!("--log-bin={}", data.join("mysql-bin").display()))
            .arg("--binlog-format=ROW")
            .arg("--server-id=1")
            .arg("--skip-name-resolve")
            .arg("--character-set-server=utf8mb4")
            .arg("--innodb-flush-log-at-trx-commit=2")
            .args(INNODB_ARGS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.socket().exists() && self.try_exec("SELECT 1").is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not start: {}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// SIGKILL: a crash, as abrupt as it gets.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn exec(&self, sql: &str) {
        self.try_exec(sql).unwrap()
    }

    fn try_exec(&self, sql: &str) -> Result<(), String> {
        let out = Command::new(&self.bins.client)
            .arg("--no-defaults")
            .arg("--protocol=socket")
            .arg(format!("--socket={}", self.socket().display()))
            .arg("--user=root")
            .arg("-e")
            .arg(sql)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    pub fn datadir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RestartableServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Stream until `n` more transactions committed (on any table).
pub async fn stream_commits(
    src: &mut Source,
    model: &mut Model,
    table: &str,
    n: usize,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    let mut seen = 0;
    while seen < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, src.next())
            .await
            .unwrap_or_else(|_| panic!("{n} commits did not arrive within {limit:?}"))
            .expect("stream")
            .expect("stream ended early");
        if ev.committed.is_some() {
            seen += 1;
        }
        model.apply(&ev, table);
    }
}

/// Sequence numbers of MariaDB GTIDs `d-s-n`.
pub fn seqs(gtids: &[String]) -> Vec<u64> {
    gtids
        .iter()
        .map(|g| g.rsplit('-').next().unwrap().parse().unwrap())
        .collect()
}

pub fn consecutive(seqs: &[u64]) -> bool {
    seqs.windows(2).all(|w| w[1] == w[0] + 1)
}
