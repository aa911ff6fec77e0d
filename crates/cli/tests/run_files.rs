//! `run`, `serve`, `backfill` and `check-config` over the project's sample
//! binlog (examples/config: the README's first command), no server needed.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, free_port, stderr};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of examples/ in a scratch directory, so that the config's
/// `data_dir` (../../data) lands in the scratch directory too.
fn examples_copy(name: &str) -> PathBuf {
    let dir = common::scratch(name);
    let _ = std::fs::remove_dir_all(dir.join("data"));
    for sub in ["config", "binlogs"] {
        let to = dir.join("examples").join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(repo().join("examples").join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn analyzer(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .env_remove("BINLOG_ANALYZER_HASH_KEY")
        .output()
        .unwrap()
}

const CONFIG: &str = "examples/config/config.yaml";

#[test]
fn readme_first_command_stores_the_sample_once() {
    let dir = examples_copy("run-sample");
    let out = analyzer(&dir, &["run", "--config", CONFIG, "--no-api"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(" 24 changes stored (0 already held), 6 alerts"),
        "{err}"
    );
    assert!(dir.join("data/binlog-analyzer.sqlite").is_file());
    assert!(
        dir.join("data/masking.key").is_file(),
        "the key is generated"
    );
    // Alerts are logged, masked.
    assert!(err.contains("user_deletion"), "{err}");
    for raw in ["alice@example.com", "13800138000", "+1-555-0100", "$2b$12$"] {
        assert!(!err.contains(raw), "{raw} in the log");
    }
    // Again: the store resumes at its checkpoint; nothing is stored twice.
    let again = analyzer(&dir, &["run", "--config", CONFIG, "--no-api"]);
    let err = stderr(&again);
    assert!(again.status.success(), "{err}");
    assert!(err.contains("resuming after sample.000001:"), "{err}");
    assert!(err.contains(" 0 changes stored"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// GET over plain HTTP/1.1; the response's status code and body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

fn wait_for(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = get(port, path) {
            return r;
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn run_serve_keeps_the_api_up_and_serve_reads_an_existing_store() {
    let dir = examples_copy("run-serve");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin())
        .current_dir(&dir)
        .args(["run", "--config", CONFIG, "--serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, _) = wait_for(port, "/health");
    assert_eq!(code, 200);
    // The status reports where reading stopped.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = wait_for(port, "/api/status");
        assert_eq!(code, 200, "{body}");
        // 24 stored changes: the sample's rolled-back XA row is read (rows_total
        // counts it) but never stored.
        if body.contains("sample.000001") && body.contains("\"changes\":24") {
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // `serve` over the store the run left.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(bin())
        .current_dir(&dir)
        .args(["serve", "--config", CONFIG, "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (code, body) = wait_for(port, "/api/tables/ecommerce/orders/stats");
    // What the API serves of the masked table: the masked forms, never the
    // raw values (examples/config/tables.yaml masks users' email, phone,
    // password).
    let mut served = String::new();
    for path in [
        "/api/tables/ecommerce/users/changes?limit=100",
        "/api/tables/ecommerce/users/diffs?limit=100",
        "/api/alerts?limit=100",
        "/api/search?q=example",
        "/api/search?q=alice",
    ] {
        let (code, body) = wait_for(port, path);
        assert_eq!(code, 200, "{path}: {body}");
        served.push_str(&body);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"total_changes\":8"), "{body}");
    assert!(
        served.contains("a***@example.com") && served.contains("hmac:"),
        "{served}"
    );
    for raw in [
        "alice@example.com",
        "zhang.wei@example.cn",
        "+1-555-0100",
        "13800138000",
        "13900139000",
        "$2b$12$",
    ] {
        assert!(!served.contains(raw), "the API served the raw {raw}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backfill_of_files_is_resumable_and_stores_each_change_once() {
    let dir = examples_copy("backfill");
    let part = analyzer(
        &dir,
        &[
            "backfill",
            "--config",
            CONFIG,
            "--to-file",
            "sample.000001",
            "--to-pos",
            "5000",
            "--no-progress",
        ],
    );
    let err = stderr(&part);
    assert!(part.status.success(), "{err}");
    assert!(err.contains("backfill complete"), "{err}");
    let stored_part: u64 = err
        .split(": ")
        .find_map(|s| s.split(" changes stored").next()?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(stored_part > 0 && stored_part < 24, "{err}");
    // The same range again: nothing to do.
    let again = analyzer(
        &dir,
        &[
            "backfill",
            "--config",
            CONFIG,
            "--to-file",
            "sample.000001",
            "--to-pos",
            "5000",
        ],
    );
    assert!(
        stderr(&again).contains("backfilled already"),
        "{}",
        stderr(&again)
    );
    // The whole file: the rest arrives, the first part is skipped.
    let all = analyzer(&dir, &["backfill", "--config", CONFIG, "--no-progress"]);
    let err = stderr(&all);
    assert!(all.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "{} changes stored ({stored_part} already held)",
            24 - stored_part
        )),
        "{err}"
    );
    // A run after the backfill has nothing left to store.
    let run = analyzer(&dir, &["run", "--config", CONFIG, "--no-api"]);
    assert!(
        stderr(&run).contains(" 0 changes stored"),
        "{}",
        stderr(&run)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_config_reports_what_a_config_does_or_every_error() {
    let ok = common::run(&[
        "check-config",
        "--config",
        repo().join(CONFIG).to_str().unwrap(),
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let report = common::stdout(&ok);
    assert!(report.contains("sample.000001"), "{report}");
    // The seed's files, as written.
    let seed = common::run(&[
        "check-config",
        "--config",
        repo().join("config/config.example.yaml").to_str().unwrap(),
    ]);
    assert!(seed.status.success(), "{}", stderr(&seed));

    let dir = common::scratch("check-config");
    let bad = dir.join("config.yaml");
    std::fs::write(
        &bad,
        "mysql:\n  source:\n    host: \"db\"\n    prot: 3306\n",
    )
    .unwrap();
    let out = common::run(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("mysql.source.prot"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Status code, headers (lower-case names) and body of a response.
type Response = (u16, Vec<(String, String)>, String);

/// A raw HTTP/1.1 exchange on `addr`; `None` when nothing answers.
fn exchange(addr: (&str, u16), request: &str) -> Option<Response> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let code = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    Some((code, headers, body.to_string()))
}

/// This machine's address on its default route (no packet is sent), if it
/// has one other than loopback.
fn outward_ipv4() -> Option<std::net::Ipv4Addr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.255:9").ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// `serve` with no listen address configured binds 127.0.0.1:8080 only; a
/// token given only in the environment protects the data routes; no CORS
/// header is sent when no origins are configured.
#[test]
fn serve_binds_loopback_by_default_takes_the_token_from_the_environment_and_sends_no_cors() {
    const DEFAULT_PORT: u16 = 8080;
    const TOKEN: &str = "env-token-Qx7";
    // The default port is fixed: on a machine where something holds it the
    // test cannot tell our listener from the other one.
    if std::net::TcpListener::bind(("127.0.0.1", DEFAULT_PORT)).is_err()
        || TcpStream::connect(("127.0.0.1", DEFAULT_PORT)).is_ok()
    {
        eprintln!("skipping: 127.0.0.1:{DEFAULT_PORT} is in use by another program");
        return;
    }
    let dir = examples_copy("serve-defaults");
    let out = analyzer(&dir, &["run", "--config", CONFIG, "--no-api"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The example config without its `api:` block: every API setting is
    // the default.
    let config = std::fs::read_to_string(dir.join(CONFIG)).unwrap();
    let (without_api, _) = config
        .split_once("\napi:")
        .expect("the example has an api block");
    std::fs::write(dir.join(CONFIG), without_api).unwrap();
    let child = Command::new(bin())
        .current_dir(&dir)
        .args(["serve", "--config", CONFIG])
        .env("BINLOG_ANALYZER_API_TOKEN", TOKEN)
        .env_remove("BINLOG_ANALYZER_HASH_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = common::KillOnDrop(child);
    let (code, _) = wait_for(DEFAULT_PORT, "/health");
    assert_eq!(code, 200);

    let local = ("127.0.0.1", DEFAULT_PORT);
    let get = |path: &str, extra: &str| {
        exchange(
            local,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n"),
        )
        .unwrap_or_else(|| panic!("no answer for {path}"))
    };
    // The token from the environment is required…
    for path in [
        "/api/tables",
        "/api/tables/ecommerce/orders/stats",
        "/metrics",
        "/graphql",
    ] {
        let (code, headers, body) = get(path, "");
        assert_eq!(code, 401, "{path}: {body}");
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "www-authenticate" && v.starts_with("Bearer")),
            "{path}: {headers:?}"
        );
        let (code, _, _) = get(path, "Authorization: Bearer wrong\r\n");
        assert_eq!(code, 401, "{path} with a wrong token");
    }
    // …and accepted.
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    let (code, _, body) = get("/api/tables/ecommerce/orders/stats", &auth);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"total_changes\":8"), "{body}");

    // No CORS header for a cross-origin request, simple or preflight.
    let (code, headers, _) = get(
        "/api/tables",
        &format!("{auth}Origin: http://elsewhere.example\r\n"),
    );
    assert_eq!(code, 200);
    assert!(
        !headers
            .iter()
            .any(|(k, _)| k.starts_with("access-control-")),
        "{headers:?}"
    );
    let (_, headers, _) = exchange(
        local,
        "OPTIONS /api/tables HTTP/1.1\r\nHost: localhost\r\nOrigin: http://elsewhere.example\r\n\
         Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\
         Connection: close\r\n\r\n",
    )
    .unwrap();
    assert!(
        !headers
            .iter()
            .any(|(k, _)| k.starts_with("access-control-")),
        "{headers:?}"
    );

    // Loopback only: the machine's outward address does not answer.
    match outward_ipv4() {
        Some(ip) => assert!(
            TcpStream::connect((ip, DEFAULT_PORT)).is_err(),
            "the API answers on {ip}:{DEFAULT_PORT}"
        ),
        None => eprintln!("note: no non-loopback address to check the bind against"),
    }

    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
    let mut err = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains(&format!("on http://127.0.0.1:{DEFAULT_PORT}/")),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "the token is never printed: {err}");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check-config` validates without connecting: the source and the MySQL
/// store point at a listener of the test's own, which sees no connection.
#[test]
fn check_config_never_connects() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = common::scratch("check-config-offline");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            r#"mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "reader"
    password: "pw"
  storage:
    host: "127.0.0.1"
    port: {port}
    user: "writer"
    password: "pw"
    database: "analyzer"
storage:
  primary: mysql
  backup: ["sqlite"]
  data_dir: "{}"
"#,
            dir.join("data").display()
        ),
    )
    .unwrap();
    let out = common::run(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = common::stdout(&out);
    assert!(report.contains(&port.to_string()), "{report}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("check-config connected: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
