//! A 1M-row single transaction streams through with bounded memory: the
//! source holds one event at a time, never the transaction. (Own test
//! binary, so that the peak RSS measured is this test's alone.)

mod support;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use source::Source;
use support::*;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn million_row_transaction_streams_with_bounded_memory() {
    let Some(db) = start(&[]) else { return };
    db.exec("CREATE DATABASE app; CREATE TABLE app.big (id INT PRIMARY KEY, v BIGINT)")
        .unwrap();
    let port = db.port();
    let mut src = Source::connect(config(port, 110)).await.unwrap();
    let mut conn = sql_conn(port).await;
    conn.query_drop("INSERT INTO app.big SELECT seq, seq * 3 FROM app.seq_1_to_1000000")
        .await
        .unwrap();
    let end = binlog_end(&mut conn).await;
    let binlog_bytes = end.pos;
    let started = Instant::now();
    let mut rows = 0u64;
    let mut sum = 0i64;
    while src.committed().cmp_file_pos(&end).is_lt() {
        let ev = tokio::time::timeout(Duration::from_secs(60), src.next())
            .await
            .expect("event")
            .unwrap()
            .unwrap();
        if let binlog::events::Event::Rows(r) = &ev.event.event {
            let map = ev.table.clone().unwrap();
            for change in r.rows(&map, ev.pos) {
                let after = change.unwrap().after.unwrap();
                if let Some(binlog::Value::Int(v)) = &after[1] {
                    sum += v;
                }
                rows += 1;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(240), "too slow");
    }
    assert_eq!(rows, 1_000_000);
    assert_eq!(sum, 3 * 1_000_000 * 1_000_001 / 2);
    let peak = peak_rss_kib();
    eprintln!(
        "1M-row transaction: {binlog_bytes} binlog bytes streamed in {:?}, peak RSS {} MiB",
        started.elapsed(),
        peak / 1024
    );
    // The binlog of the transaction is ~20 MB; holding it (or its decoded
    // rows) would show. The bound leaves room for the test harness itself.
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
}
