//! Authentication of the replication connection against a private MariaDB
//! (testkit): accounts that can only log in with MariaDB's ed25519 plugin
//! or with mysql_native_password stream, pass the preflight, and are
//! refused with a definite error on a wrong password. The MySQL-only
//! caching_sha2_password path is covered by unit tests in protocol.rs.

mod support;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use source::{CheckStatus, DefiniteError, Source, SourceError, StartPosition, TlsMode};
use support::*;

/// The privileges the README asks for, nothing more: a user with only these
/// must be able to stream and pass `check`.
const GRANTS: &str = "REPLICATION SLAVE, REPLICATION CLIENT, SELECT";

/// Create `user`@127.0.0.1 that authenticates with `plugin` only, and check
/// the server recorded that plugin (so a successful login proves the
/// plugin's exchange worked, not a fallback).
fn create_user(db: &testkit::MariaDb, user: &str, plugin: &str, password: &str) {
    db.exec(&format!(
        "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED VIA {plugin} USING PASSWORD('{password}'); \
         GRANT {GRANTS} ON *.* TO '{user}'@'127.0.0.1'"
    ))
    .unwrap_or_else(|e| panic!("create {user} via {plugin}: {e}"));
    let recorded = db
        .query_value(&format!(
            "SELECT plugin FROM mysql.user WHERE user = '{user}' AND host = '127.0.0.1'"
        ))
        .unwrap();
    assert_eq!(recorded.as_deref(), Some(plugin), "{user}'s plugin");
}

fn user_config(
    port: u16,
    server_id: u32,
    user: &str,
    password: &str,
    tls: TlsMode,
) -> source::SourceConfig {
    let mut cfg = config(port, server_id);
    cfg.user = user.into();
    cfg.password = password.into();
    cfg.tls = tls;
    cfg.start = StartPosition::Earliest;
    // A wrong password must fail at once, not after retries.
    cfg.max_retries = Some(2);
    cfg
}

/// Stream the whole binlog as `cfg`'s user and compare the rebuilt table
/// with SELECT; then the preflight as the same user.
async fn streams_and_passes_check(cfg: source::SourceConfig, expect_changes: usize) {
    let who = format!("{} (tls {:?})", cfg.user, cfg.tls);
    let mut conn = sql_conn(cfg.port).await;
    let end = binlog_end(&mut conn).await;
    let mut src = Source::connect(cfg.clone())
        .await
        .unwrap_or_else(|e| panic!("{who} connects: {e}"));
    let mut model = Model::default();
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(30)).await;
    conn.query_drop("USE app").await.unwrap();
    assert_eq!(model.rows, select_model(&mut conn, "t").await, "{who}");
    assert_eq!(model.changes, expect_changes, "{who}");
    // Column names come from the schema snapshot, read over the side
    // connection (mysql_async) as the same user: it authenticated too.
    assert_eq!(model.column_names, vec![vec!["id", "v", "n"]], "{who}");

    let items = source::check(&cfg).await;
    for name in ["connect", "privileges"] {
        let item = items
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{who}: no `{name}` check in {items:?}"));
        assert_eq!(item.status, CheckStatus::Pass, "{who}: {item:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_and_native_password_accounts_stream_and_wrong_passwords_are_refused() {
    let Some(db) = start(&[]) else { return };
    // MariaDB ships the ed25519 server plugin as a loadable library.
    db.exec("INSTALL SONAME 'auth_ed25519'")
        .expect("INSTALL SONAME 'auth_ed25519'");
    create_user(&db, "ed", "ed25519", "ed-pw");
    create_user(&db, "nat", "mysql_native_password", "nat-pw");
    db.exec("CREATE DATABASE app; USE app; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40), n INT UNSIGNED)")
        .unwrap();
    let port = db.port();
    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 0, 5).await;

    // Plain TCP and TLS-if-offered (testkit's server offers none, so both
    // run the plugin's exchange in clear, which ed25519 is designed for).
    streams_and_passes_check(user_config(port, 301, "ed", "ed-pw", TlsMode::Off), 25).await;
    streams_and_passes_check(
        user_config(port, 302, "ed", "ed-pw", TlsMode::Preferred),
        25,
    )
    .await;
    streams_and_passes_check(user_config(port, 303, "nat", "nat-pw", TlsMode::Off), 25).await;

    for (user, id) in [("ed", 304), ("nat", 305)] {
        let cfg = user_config(port, id, user, "not-the-password", TlsMode::Off);
        match Source::connect(cfg.clone()).await {
            Err(SourceError::Definite(DefiniteError::AccessDenied { user: u, message })) => {
                assert_eq!(u, user);
                assert!(message.contains("Access denied"), "{message}");
            }
            Err(other) => panic!("{user}: expected AccessDenied, got {other:?}"),
            Ok(_) => panic!("{user} connected with a wrong password"),
        }
        let items = source::check(&cfg).await;
        assert_eq!(items[0].name, "connect", "{items:?}");
        assert_eq!(items[0].status, CheckStatus::Fail, "{items:?}");
    }
}

/// ed25519's nonce is 32 random bytes with no terminator; the replication
/// connection used to drop a last byte of 0 as if it were one, so 1 login
/// in 256 was refused. 1500 logins would have hit that with probability
/// 99.7 %; each one must succeed now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_logins_succeed_whatever_the_nonce_ends_with() {
    let Some(db) = start(&[]) else { return };
    db.exec("INSTALL SONAME 'auth_ed25519'")
        .expect("INSTALL SONAME 'auth_ed25519'");
    create_user(&db, "ed", "ed25519", "ed-pw");
    let cfg = user_config(db.port(), 306, "ed", "ed-pw", TlsMode::Off);
    for attempt in 1..=1500 {
        if let Err(e) = source::protocol::DumpConn::connect(&cfg).await {
            panic!("login {attempt} of 1500 as ed: {e}");
        }
    }
}
