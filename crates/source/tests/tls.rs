//! TLS against a real TLS server: a private MariaDB (testkit) started with a
//! CA and a server certificate this test makes with `openssl`, and a user
//! created `REQUIRE SSL`, so that a connection which authenticates as that
//! user is encrypted (the server refuses it otherwise; checked below).
//! Without MariaDB or openssl the tests skip (under CI=true they fail).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use source::protocol::DumpConn;
use source::{DefiniteError, Source, SourceConfig, SourceError, TlsMode};
use support::*;

const TLS_USER: &str = "tls_repl";
const TLS_PASSWORD: &str = "tls-pw";
/// The only name in the server certificate: connecting by 127.0.0.1 passes
/// verify-ca (issuer only) and fails verify-identity (name checked).
const CERT_NAME: &str = "mariadb.test";

/// A temp directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Certs {
    dir: TempDir,
}

impl Certs {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ca.pem (signs server.pem), server.pem/server-key.pem (SAN DNS:mariadb.test)
/// and other-ca.pem (signs nothing here). `None` without openssl.
fn make_certs() -> Option<Certs> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but openssl is missing"
        );
        eprintln!("skipping: openssl not found");
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "source-tls-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = Certs { dir: TempDir(dir) };
    let d = &certs.dir.0;
    for (key, pem, cn) in [
        ("ca-key.pem", "ca.pem", "/CN=binlog-analyzer test CA"),
        ("other-ca-key.pem", "other-ca.pem", "/CN=some other CA"),
    ] {
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                key,
                "-out",
                pem,
                "-subj",
                cn,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
    }
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server-key.pem",
            "-out",
            "server.csr",
            "-subj",
            &format!("/CN={CERT_NAME}"),
        ],
    );
    std::fs::write(
        d.join("server.ext"),
        format!(
            "subjectAltName=DNS:{CERT_NAME}\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    Some(certs)
}

fn tls_config(port: u16, server_id: u32, tls: TlsMode, ca: Option<PathBuf>) -> SourceConfig {
    let mut cfg = config(port, server_id);
    cfg.user = TLS_USER.into();
    cfg.password = TLS_PASSWORD.into();
    cfg.tls = tls;
    cfg.ca_file = ca;
    // A definite error must come at once, not after retries.
    cfg.max_retries = Some(0);
    cfg
}

fn definite_tls(e: &SourceError) -> &str {
    match e {
        SourceError::Definite(DefiniteError::Tls(m)) => m,
        other => panic!("expected a definite TLS error, got {other:?}: {other}"),
    }
}

/// Stream the workload of `txns` transactions made after connecting and
/// check it equals SELECT.
async fn streams(cfg: SourceConfig, first: i64) {
    let port = cfg.port;
    let mut src = Source::connect(cfg).await.expect("connect over TLS");
    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", first, 3).await;
    let end = binlog_end(&mut conn).await;
    let mut model = Model::default();
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(30)).await;
    assert_eq!(model.changes, 3 * 5);
    assert!(!model.statements.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_modes_against_a_tls_server_encrypt_and_verify() {
    let Some(certs) = make_certs() else { return };
    let ssl_args = [
        format!("--ssl-ca={}", certs.path("ca.pem").display()),
        format!("--ssl-cert={}", certs.path("server.pem").display()),
        format!("--ssl-key={}", certs.path("server-key.pem").display()),
    ];
    let args: Vec<&str> = ssl_args.iter().map(String::as_str).collect();
    let Some(db) = start(&args) else { return };
    assert_eq!(
        db.query_value("SELECT @@have_ssl").unwrap().as_deref(),
        Some("YES"),
        "the server did not enable TLS: {}",
        std::fs::read_to_string(db.error_log()).unwrap_or_default()
    );
    db.exec(&format!(
        "CREATE USER '{TLS_USER}'@'127.0.0.1' IDENTIFIED BY '{TLS_PASSWORD}' REQUIRE SSL; \
         GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, SELECT \
         ON *.* TO '{TLS_USER}'@'127.0.0.1'; \
         CREATE DATABASE app; USE app; \
         CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40), n INT UNSIGNED)"
    ))
    .unwrap();
    let port = db.port();

    // REQUIRE SSL is in force: without TLS the user is refused.
    let e = Source::connect(tls_config(port, 301, TlsMode::Off, None))
        .await
        .err()
        .expect("plain connection of a REQUIRE SSL user");
    assert!(
        matches!(e, SourceError::Definite(DefiniteError::AccessDenied { .. })),
        "{e:?}"
    );

    // required: the side connection reports a cipher, and the dump
    // connection is TLS and authenticates as the REQUIRE SSL user.
    let cfg = tls_config(port, 302, TlsMode::Required, None);
    let mut side = source::server::connect(&cfg).await.unwrap();
    let row: Option<(String, String)> = side
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .unwrap();
    let cipher = row.map(|r| r.1).unwrap_or_default();
    assert!(!cipher.is_empty(), "side connection not encrypted");
    let dump = DumpConn::connect(&cfg).await.unwrap();
    assert!(dump.tls, "dump connection not encrypted");
    drop(dump);
    streams(cfg, 0).await;

    // preferred takes TLS when offered (this user could not log in otherwise).
    streams(tls_config(port, 303, TlsMode::Preferred, None), 10).await;

    // verify-ca with the CA that signed the certificate; the name
    // (mariadb.test, not 127.0.0.1) is not checked in this mode.
    let ca = certs.path("ca.pem");
    streams(
        tls_config(port, 304, TlsMode::VerifyCa, Some(ca.clone())),
        20,
    )
    .await;

    // verify-identity checks the name too: 127.0.0.1 is not in the certificate.
    let e = Source::connect(tls_config(
        port,
        305,
        TlsMode::VerifyIdentity,
        Some(ca.clone()),
    ))
    .await
    .err()
    .expect("verify-identity with a certificate for another name");
    let m = definite_tls(&e);
    assert!(
        m.contains("does not name the host `127.0.0.1`") && m.contains("verify-ca"),
        "{m}"
    );

    // verify-ca with a CA that did not sign the server certificate: a
    // definite error naming the CA file, on the side connection and on the
    // dump connection alike.
    let other = certs.path("other-ca.pem");
    let cfg = tls_config(port, 306, TlsMode::VerifyCa, Some(other.clone()));
    let e = Source::connect(cfg.clone())
        .await
        .err()
        .expect("verify-ca with the wrong CA");
    let m = definite_tls(&e);
    assert!(
        m.contains("not signed by a CA in ca_file") && m.contains(&other.display().to_string()),
        "{m}"
    );
    let e = DumpConn::connect(&cfg)
        .await
        .err()
        .expect("dump connection with the wrong CA");
    let m = definite_tls(&e);
    assert!(m.contains("not signed by a CA in ca_file"), "{m}");

    // A CA file that does not exist is a configuration problem, named.
    let missing = certs.path("no-such-ca.pem");
    let e = Source::connect(tls_config(
        port,
        307,
        TlsMode::VerifyCa,
        Some(missing.clone()),
    ))
    .await
    .err()
    .expect("missing CA file");
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_against_a_server_without_tls_fails_clearly() {
    let Some(db) = start(&[]) else { return };
    assert_ne!(
        db.query_value("SELECT @@have_ssl").unwrap().as_deref(),
        Some("YES")
    );
    let port = db.port();
    let plain = |tls| {
        let mut cfg = config(port, 311);
        cfg.tls = tls;
        cfg.max_retries = Some(0);
        cfg
    };
    let certs = make_certs();
    for mode in [TlsMode::Required, TlsMode::VerifyCa] {
        let mut cfg = plain(mode);
        if mode == TlsMode::VerifyCa {
            let Some(certs) = &certs else { continue };
            cfg.ca_file = Some(certs.path("ca.pem"));
        }
        for e in [
            Source::connect(cfg.clone()).await.err().expect("no TLS"),
            DumpConn::connect(&cfg).await.err().expect("no TLS"),
        ] {
            let m = definite_tls(&e);
            assert!(
                m.contains(&format!("tls = {mode}"))
                    && m.contains("does not offer TLS")
                    && m.contains(&format!("127.0.0.1:{port}")),
                "{m}"
            );
        }
    }
    // preferred connects without TLS there.
    let mut src = Source::connect(plain(TlsMode::Preferred)).await.unwrap();
    let mut conn = sql_conn(port).await;
    conn.query_drop("CREATE DATABASE app").await.unwrap();
    let end = binlog_end(&mut conn).await;
    let mut model = Model::default();
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(30)).await;
}
