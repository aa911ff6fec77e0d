//! Live tests against a private MariaDB (testkit). Each test is bounded in
//! time; without MariaDB installed they skip (under CI=true they fail).

mod support;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use source::{DefiniteError, Source, SourceError, StartPosition};
use support::*;

const TABLE_DDL: &str = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40), n INT UNSIGNED)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_streaming_arrive_complete_in_commit_order_and_equal_select() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut src = Source::connect(config(port, 101)).await.unwrap();

    // Two writers committing concurrently: the binlog order is the commit order.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            tokio::spawn(async move {
                let mut c = sql_conn(port).await;
                c.query_drop("USE app").await.unwrap();
                workload(&mut c, "t", w * 1000, 40).await;
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut conn = sql_conn(port).await;
    let end = binlog_end(&mut conn).await;
    let mut model = Model::default();
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(60)).await;

    conn.query_drop("USE app").await.unwrap();
    assert_eq!(model.rows, select_model(&mut conn, "t").await);
    assert_eq!(model.changes, 80 * 5);
    // Commit order with nothing missing: consecutive sequence numbers.
    let seqs: Vec<u64> = model
        .gtids
        .iter()
        .map(|g| g.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seqs.len(), 80);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    // ANNOTATE_ROWS (requested with dump flag 2) carries the statements.
    assert!(
        model
            .statements
            .iter()
            .any(|s| s.starts_with("INSERT INTO t VALUES")),
        "{:?}",
        model.statements
    );
    // Names come from the schema history (binlog_row_metadata is not FULL).
    assert_eq!(model.column_names, vec![vec!["id", "v", "n"]]);
    // Caught up: after a heartbeat the lag is 0.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let waited = tokio::time::timeout(Duration::from_secs(2), src.next()).await;
    assert!(waited.is_err(), "no more events");
    assert_eq!(src.lag_seconds(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_file_position_and_from_mariadb_gtid_loses_and_repeats_nothing() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut conn = sql_conn(port).await;
    let start_pos = binlog_end(&mut conn).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 0, 30).await;
    let end = binlog_end(&mut conn).await;

    let mut cfg = config(port, 102);
    cfg.start = StartPosition::FilePos {
        file: start_pos.file.clone(),
        pos: start_pos.pos,
    };
    let mut first = Model::default();
    {
        let mut src = Source::connect(cfg.clone()).await.unwrap();
        stream_commits(&mut src, &mut first, "t", 12, Duration::from_secs(30)).await;
    }
    let saved = first.last_committed.clone().unwrap();
    assert!(
        saved.gtid.is_some(),
        "MariaDB positions carry the GTID state: {saved}"
    );
    let expected = select_model(&mut conn, "t").await;

    // From the saved file+position.
    let mut by_pos = Model {
        rows: first.rows.clone(),
        gtids: first.gtids.clone(),
        changes: first.changes,
        ..Model::default()
    };
    cfg.start = StartPosition::Resume(source::Position::new(saved.file.clone(), saved.pos));
    let mut src = Source::connect(cfg.clone()).await.unwrap();
    stream_until(&mut src, &mut by_pos, "t", &end, Duration::from_secs(30)).await;
    drop(src);
    assert_eq!(by_pos.rows, expected);
    assert_eq!(by_pos.changes, 30 * 5);
    assert_eq!(seqs(&by_pos.gtids).len(), 30);
    assert!(consecutive(&seqs(&by_pos.gtids)), "{:?}", by_pos.gtids);

    // From the saved GTID list alone (empty file name + @slave_connect_state).
    let Some(source::GtidState::Maria(list)) = saved.gtid.clone() else {
        panic!("not a MariaDB GTID: {saved}")
    };
    let mut by_gtid = Model {
        rows: first.rows.clone(),
        gtids: first.gtids.clone(),
        changes: first.changes,
        ..Model::default()
    };
    cfg.start = StartPosition::MariaGtid(list);
    let mut src = Source::connect(cfg).await.unwrap();
    stream_until(&mut src, &mut by_gtid, "t", &end, Duration::from_secs(30)).await;
    assert_eq!(by_gtid.rows, expected);
    assert_eq!(by_gtid.changes, 30 * 5);
    assert!(consecutive(&seqs(&by_gtid.gtids)), "{:?}", by_gtid.gtids);
    assert_eq!(by_gtid.gtids, by_pos.gtids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_dump_connection_mid_workload_recovers_without_loss_or_duplicate() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut src = Source::connect(config(port, 103)).await.unwrap();
    let writer = tokio::spawn(async move {
        let mut c = sql_conn(port).await;
        c.query_drop("USE app").await.unwrap();
        // Paced, so that a KILL lands while transactions are still coming.
        for chunk in 0..12 {
            workload(&mut c, "t", chunk * 5, 5).await;
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    });
    let mut admin = sql_conn(port).await;
    let mut model = Model::default();
    let mut kills = 0;
    let mut last_killed = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while model.gtids.len() < 60 {
        assert!(
            std::time::Instant::now() < deadline,
            "stalled at {}",
            src.committed()
        );
        let ev = tokio::time::timeout(Duration::from_secs(30), src.next())
            .await
            .expect("event")
            .unwrap()
            .unwrap();
        // Kill inside a transaction (right after a row event), three times.
        let inside = ev.committed.is_none() && ev.gtid.is_some();
        model.apply(&ev, "t");
        // Events already in the socket buffer still arrive after a KILL:
        // kill each connection once.
        let id = src.connection_id();
        if inside && kills < 3 && model.gtids.len() >= 10 * (kills + 1) && id != last_killed {
            admin.query_drop(format!("KILL {id}")).await.unwrap();
            last_killed = id;
            kills += 1;
        }
    }
    writer.await.unwrap();
    assert_eq!(kills, 3);
    assert!(src.reconnects() >= 3, "reconnects: {}", src.reconnects());
    admin.query_drop("USE app").await.unwrap();
    assert_eq!(model.rows, select_model(&mut admin, "t").await);
    assert_eq!(model.changes, 60 * 5, "no row change lost or repeated");
    assert!(consecutive(&seqs(&model.gtids)), "{:?}", model.gtids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_workload_recovers_without_loss_or_duplicate() {
    let Some(mut server) = RestartableServer::start() else {
        return;
    };
    server.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"));
    let port = server.port;
    let mut src = Source::connect(config(port, 104)).await.unwrap();
    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 0, 20).await;
    drop(conn);
    let mut model = Model::default();
    stream_commits(&mut src, &mut model, "t", 8, Duration::from_secs(30)).await;

    server.restart();

    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 100, 20).await;
    let end = binlog_end(&mut conn).await;
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(60)).await;
    assert!(src.reconnects() >= 1);
    assert_eq!(model.rows, select_model(&mut conn, "t").await);
    assert_eq!(model.changes, 40 * 5);
    assert_eq!(model.gtids.len(), 40);
    assert!(consecutive(&seqs(&model.gtids)), "{:?}", model.gtids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purged_binlog_past_the_saved_position_is_a_definite_error_naming_the_oldest_log() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut conn = sql_conn(port).await;
    let saved = binlog_end(&mut conn).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 0, 3).await;
    conn.query_drop("FLUSH BINARY LOGS").await.unwrap();
    conn.query_drop("FLUSH BINARY LOGS").await.unwrap();
    let current = binlog_end(&mut conn).await;
    // MariaDB keeps a log until its binlog checkpoint moved past it
    // (asynchronously after FLUSH): purge until it is really gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        conn.query_drop(format!("PURGE BINARY LOGS TO '{}'", current.file))
            .await
            .unwrap();
        let logs: Vec<mysql_async::Row> = conn.query("SHOW BINARY LOGS").await.unwrap();
        if source::server::cell(&logs[0], 0).as_deref() == Some(current.file.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "PURGE did not remove the old logs"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut cfg = config(port, 105);
    cfg.start = StartPosition::Resume(saved.clone());
    // The server may send its artificial ROTATE before the error.
    let result = match Source::connect(cfg).await {
        Err(e) => Err(e),
        Ok(mut src) => loop {
            match tokio::time::timeout(Duration::from_secs(20), src.next())
                .await
                .expect("error arrives")
            {
                Ok(Some(ev)) => assert!(ev.artificial, "unexpected event {ev:?}"),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        },
    };
    let err = result.expect_err("purged position must fail");
    let msg = err.to_string();
    match &err {
        SourceError::Definite(DefiniteError::BinlogPurged { oldest, .. }) => {
            assert_eq!(oldest.as_deref(), Some(current.file.as_str()));
        }
        other => panic!("expected BinlogPurged, got {other:?}"),
    }
    assert!(
        msg.contains(&current.file) && msg.contains(&saved.file),
        "{msg}"
    );
}

/// Column names and the text of every cell of the rows events of `table`,
/// as the stream decodes them, until `end`.
async fn decoded_rows(
    src: &mut Source,
    table: &str,
    end: &source::Position,
) -> Vec<(Vec<String>, Vec<Option<String>>)> {
    let mut out = Vec::new();
    while src.committed().cmp_file_pos(end).is_lt() {
        let ev = tokio::time::timeout(Duration::from_secs(20), src.next())
            .await
            .expect("event")
            .unwrap()
            .unwrap();
        let binlog::events::Event::Rows(rows) = &ev.event.event else {
            continue;
        };
        let Some(map) = &ev.table else { continue };
        if map.table != table {
            continue;
        }
        let names: Vec<String> = (0..map.columns.len()).map(|i| map.column_name(i)).collect();
        for change in rows.rows(map, ev.pos) {
            let after = change.unwrap().after.unwrap();
            out.push((names.clone(), after.iter().map(text).collect()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_with_minimal_metadata_then_replay_from_before_the_alter_decodes_rows_with_their_own_columns(
) {
    let Some(db) = start(&["--binlog-row-metadata=MINIMAL"]) else {
        return;
    };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut cfg = config(port, 106);
    let mut src = Source::connect(cfg.clone()).await.unwrap();
    let before_alter = src.committed().clone();

    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    for sql in [
        "INSERT INTO t VALUES (1, 'one', 4294967295)",
        "ALTER TABLE t ADD COLUMN extra VARCHAR(10) AFTER id",
        "INSERT INTO t VALUES (2, 'x2', 'two', 2)",
        "ALTER TABLE t DROP COLUMN v",
        "INSERT INTO t VALUES (3, 'x3', 3)",
        "ALTER TABLE t MODIFY COLUMN n BIGINT NOT NULL",
        "INSERT INTO t VALUES (4, 'x4', -4)",
    ] {
        conn.query_drop(sql).await.unwrap();
    }
    let end = binlog_end(&mut conn).await;
    let expected: Vec<(Vec<String>, Vec<Option<String>>)> = vec![
        (names(&["id", "v", "n"]), cells(&["1", "one", "4294967295"])),
        (
            names(&["id", "extra", "v", "n"]),
            cells(&["2", "x2", "two", "2"]),
        ),
        (names(&["id", "extra", "n"]), cells(&["3", "x3", "3"])),
        (names(&["id", "extra", "n"]), cells(&["4", "x4", "-4"])),
    ];
    let live = decoded_rows(&mut src, "t", &end).await;
    assert_eq!(live, expected);
    let history = src.schema_history().to_json();
    drop(src);

    // Restart from before the ALTERs with the saved history: every row
    // decodes with the columns of its time.
    cfg.start = StartPosition::Resume(before_alter.clone());
    let restored = source::SchemaHistory::from_json(&history).unwrap();
    let mut src = Source::connect_with_history(cfg.clone(), Some(restored))
        .await
        .unwrap();
    assert_eq!(decoded_rows(&mut src, "t", &end).await, expected);
    assert!(
        src.schema_history().warnings.is_empty(),
        "{:?}",
        src.schema_history().warnings
    );
    drop(src);

    // Without the history, today's snapshot cannot describe the old rows:
    // they decode from the table map alone (@N names), with a warning —
    // never with the wrong column names.
    let mut src = Source::connect(cfg).await.unwrap();
    let rows = decoded_rows(&mut src, "t", &end).await;
    assert_eq!(rows[0].0, names(&["@1", "@2", "@3"]));
    assert_eq!(rows[3], expected[3]);
    assert!(!src.schema_history().warnings.is_empty());
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn cells(c: &[&str]) -> Vec<Option<String>> {
    c.iter().map(|s| Some(s.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_end_stops_at_the_binlog_end_and_start_by_timestamp_skips_older_transactions() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    workload(&mut conn, "t", 0, 5).await;
    conn.query_drop("FLUSH BINARY LOGS").await.unwrap();
    workload(&mut conn, "t", 10, 5).await;
    // Transactions in separate seconds on both sides of `t`.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    workload(&mut conn, "t", 20, 4).await;

    let mut cfg = config(port, 107);
    cfg.until_end = true;
    cfg.start = StartPosition::Earliest;
    let mut src = Source::connect(cfg.clone()).await.unwrap();
    let mut all = Model::default();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), src.next())
        .await
        .expect("until_end must not wait for new events")
        .unwrap()
    {
        all.apply(&ev, "t");
    }
    assert_eq!(all.rows, select_model(&mut conn, "t").await);
    assert_eq!(src.lag_seconds(), 0);

    cfg.start = StartPosition::Timestamp(t);
    let mut src = Source::connect(cfg).await.unwrap();
    let mut recent = Model::default();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), src.next())
        .await
        .expect("bounded")
        .unwrap()
    {
        recent.apply(&ev, "t");
    }
    assert_eq!(recent.changes, 4 * 5, "only the transactions after {t}");
    assert_eq!(recent.rows.keys().next(), Some(&200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_reports_pass_warn_and_fail_with_advice() {
    let Some(db) = start(&["--binlog-row-image=MINIMAL"]) else {
        return;
    };
    db.exec(
        "CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'weak-pw'; \
         GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'",
    )
    .unwrap();
    let mut cfg = config(db.port(), 108);
    cfg.start = StartPosition::FilePos {
        file: "mysql-bin.999999".into(),
        pos: 4,
    };
    let items = source::check(&cfg).await;
    let status = |name: &str| {
        items
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("no {name} in {items:#?}"))
            .status
    };
    use source::CheckStatus::*;
    assert_eq!(status("log_bin"), Pass);
    assert_eq!(status("binlog_format"), Pass);
    assert_eq!(status("binlog_row_image"), Warn);
    assert_eq!(status("binlog_row_metadata"), Warn);
    assert_eq!(status("privileges"), Pass);
    assert_eq!(status("server_id"), Pass);
    assert_eq!(status("start_position"), Fail);
    assert_eq!(source::worst(&items), Fail);

    cfg.user = "weak".into();
    cfg.password = "weak-pw".into();
    cfg.server_id = 1;
    cfg.start = StartPosition::End;
    let items = source::check(&cfg).await;
    let privileges = items.iter().find(|i| i.name == "privileges").unwrap();
    assert_eq!(privileges.status, Fail);
    assert!(
        privileges.detail.contains("REPLICATION SLAVE"),
        "{privileges:?}"
    );
    assert!(privileges
        .advice
        .as_deref()
        .unwrap()
        .starts_with("GRANT REPLICATION SLAVE"));
    assert_eq!(
        items.iter().find(|i| i.name == "server_id").unwrap().status,
        Fail
    );

    cfg.password = "wrong".into();
    let items = source::check(&cfg).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, Fail);
    assert!(items[0].detail.contains("Access denied"), "{:?}", items[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_and_own_server_id_are_definite_errors() {
    let Some(db) = start(&[]) else { return };
    let mut cfg = config(db.port(), 109);
    cfg.password = "wrong".into();
    match Source::connect(cfg.clone()).await {
        Err(SourceError::Definite(DefiniteError::AccessDenied { .. })) => {}
        Err(other) => panic!("expected AccessDenied, got {other:?}"),
        Ok(_) => panic!("connected with a wrong password"),
    }
    cfg.password = PASSWORD.into();
    cfg.server_id = 1;
    match Source::connect(cfg).await {
        Err(SourceError::Definite(DefiniteError::DuplicateServerId { .. })) => {}
        Err(other) => panic!("expected DuplicateServerId, got {other:?}"),
        Ok(_) => panic!("server_id 1 is the server's own"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_management_and_other_non_table_statements_leave_no_schema_warnings() {
    let Some(db) = start(&[]) else { return };
    db.exec(&format!("CREATE DATABASE app; USE app; {TABLE_DDL}"))
        .unwrap();
    let port = db.port();
    let mut src = Source::connect(config(port, 108)).await.unwrap();
    let mut conn = sql_conn(port).await;
    conn.query_drop("USE app").await.unwrap();
    // Each is logged as a QUERY event, as MariaDB rewrites it.
    for sql in [
        "CREATE USER 'app_ro'@'%' IDENTIFIED BY 'secret'",
        "CREATE USER IF NOT EXISTS 'app_rw'@'10.0.0.%' IDENTIFIED BY 'x' \
         WITH MAX_USER_CONNECTIONS 5 PASSWORD EXPIRE INTERVAL 90 DAY",
        "GRANT SELECT ON app.* TO 'app_ro'@'%'",
        "GRANT SELECT (id, v), UPDATE (v) ON app.t TO 'app_rw'@'10.0.0.%' WITH GRANT OPTION",
        "GRANT ALL PRIVILEGES ON *.* TO 'app_rw'@'10.0.0.%'",
        "REVOKE UPDATE (v) ON app.t FROM 'app_rw'@'10.0.0.%'",
        "CREATE ROLE auditor",
        "GRANT auditor TO 'app_ro'@'%'",
        "SET PASSWORD FOR 'app_ro'@'%' = PASSWORD('other')",
        "ALTER USER 'app_ro'@'%' ACCOUNT LOCK",
        "RENAME USER 'app_ro'@'%' TO 'app_read'@'%'",
        "FLUSH PRIVILEGES",
        "ANALYZE TABLE t",
        "OPTIMIZE TABLE t",
        "CREATE VIEW v AS SELECT id, v FROM t",
        "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.v = IFNULL(NEW.v, 'dflt')",
        "CREATE PROCEDURE p() SELECT 1",
        "DROP PROCEDURE p",
        "DROP TRIGGER trg",
        "DROP VIEW v",
        "DROP ROLE auditor",
        "DROP USER 'app_read'@'%', 'app_rw'@'10.0.0.%'",
    ] {
        // As root: the replication user has no GRANT OPTION.
        db.exec(&format!("USE app; {sql}"))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    workload(&mut conn, "t", 0, 3).await;
    let end = binlog_end(&mut conn).await;
    let mut model = Model::default();
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(30)).await;
    assert_eq!(model.changes, 3 * 5);
    assert_eq!(model.column_names, vec![vec!["id", "v", "n"]]);
    assert!(
        src.schema_history().warnings.is_empty(),
        "{:?}",
        src.schema_history().warnings
    );

    // Table DDL the parser cannot follow still warns (MariaDB's system
    // versioning is beyond sqlparser's MySQL dialect).
    conn.query_drop("ALTER TABLE t ADD SYSTEM VERSIONING")
        .await
        .unwrap();
    let end = binlog_end(&mut conn).await;
    stream_until(&mut src, &mut model, "t", &end, Duration::from_secs(30)).await;
    let warnings = &src.schema_history().warnings;
    assert_eq!(warnings.total(), 1, "{warnings:?}");
    let w = warnings.recent().next().unwrap();
    assert!(
        w.contains("cannot follow DDL") && w.contains("SYSTEM VERSIONING"),
        "{w}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binlogging_off_is_a_definite_error_and_fails_the_check() {
    // testkit turns --log-bin on; the later option wins.
    let Some(db) = start(&["--skip-log-bin"]) else {
        return;
    };
    assert_eq!(
        db.query_value("SELECT @@log_bin").unwrap().as_deref(),
        Some("0")
    );
    for start in [
        StartPosition::End,
        StartPosition::Earliest,
        StartPosition::FilePos {
            file: "mysql-bin.000001".into(),
            pos: 4,
        },
    ] {
        let mut cfg = config(db.port(), 110);
        cfg.start = start.clone();
        match Source::connect(cfg).await {
            Err(e @ SourceError::Definite(DefiniteError::BinlogOff)) => {
                // What the DBA reads says what to change.
                assert!(e.to_string().contains("--log-bin"), "{e}");
            }
            Err(other) => panic!("{start:?}: expected BinlogOff, got {other:?}"),
            Ok(_) => panic!("{start:?}: connected to a server without a binlog"),
        }
    }
    let items = source::check(&config(db.port(), 110)).await;
    let log_bin = items.iter().find(|i| i.name == "log_bin").unwrap();
    assert_eq!(log_bin.status, source::CheckStatus::Fail, "{log_bin:?}");
    assert!(
        log_bin
            .advice
            .as_deref()
            .is_some_and(|a| a.contains("--log-bin")),
        "{log_bin:?}"
    );
    assert_eq!(source::worst(&items), source::CheckStatus::Fail);
}
