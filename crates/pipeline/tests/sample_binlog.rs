//! The pipeline over the project's sample binlog (real MariaDB bytes, see
//! examples/binlogs/README.md) with the seed's config files: counts per
//! table and operation match the workload in sample.sql, the seed's rules
//! fire where SQL says they should, masked values never appear anywhere,
//! and batches end on transaction boundaries (XA included).

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use binlog::events::Event;
use binlog::stream::BinlogStream;
use binlog::txn::{classify_statement, Gtid, TxnEnd, TxnTracker};
use pipeline::config::{BatchSettings, Config};
use pipeline::{Batch, Batcher, ChangeRecord, Checkpoint, Operation, Pipeline, RowContext};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const HASH_KEY: &str = "test-key-0123456789abcdef";

fn seed_config() -> Config {
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    Config::load_with_env(
        &repo().join("config/config.example.yaml"),
        Some(&repo().join("config/tables.example.yaml")),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

struct Run {
    batches: Vec<Batch>,
    /// Positions right after each transaction.
    commit_positions: HashSet<u64>,
    warnings: Vec<String>,
}

/// A minimal file driver: events → transactions → pipeline → batcher.
fn run(cfg: &Config, batch_size: usize) -> Run {
    let file = "sample.000001";
    let mut stream = BinlogStream::new(BufReader::new(
        File::open(repo().join("examples/binlogs").join(file)).unwrap(),
    ))
    .unwrap();
    let key = cfg.load_hash_key().unwrap();
    let mut pipeline = Pipeline::new(cfg, &key).unwrap();
    let settings = BatchSettings {
        batch_size,
        flush_interval: Duration::from_secs(3600),
        max_buffered: 100_000,
    };
    let mut batcher = Batcher::new(
        settings,
        Checkpoint {
            binlog_file: file.into(),
            binlog_pos: 4,
            gtid_set: None,
        },
    );
    let mut tracker = TxnTracker::new();
    let mut annotate: Option<String> = None;
    let mut out = Run {
        batches: Vec::new(),
        commit_positions: HashSet::new(),
        warnings: Vec::new(),
    };
    let now = Instant::now();
    while let Some(ev) = stream.next_event().unwrap() {
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
                    let op = Operation::parse(rows.kind.operation()).unwrap();
                    let gtid = tracker.gtid().map(|g| g.to_string());
                    for (i, row) in rows.rows(&table, ev.offset).enumerate() {
                        let row = row.unwrap();
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
                            out.batches.extend(batcher.push(p));
                        }
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(closed) = closed {
            out.commit_positions.insert(next);
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
            out.batches.extend(batch);
        }
    }
    out.batches.extend(batcher.flush());
    out.warnings = pipeline.take_warnings();
    out
}

fn records(run: &Run) -> Vec<&ChangeRecord> {
    run.batches.iter().flat_map(|b| &b.records).collect()
}

#[test]
fn sample_counts_match_the_workload() {
    let r = run(&seed_config(), 1000);
    let mut counts: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for rec in records(&r) {
        *counts
            .entry((rec.table.clone(), rec.operation.as_str()))
            .or_default() += 1;
    }
    let expected: BTreeMap<(String, &str), usize> = [
        (("orders", "DELETE"), 1),
        (("orders", "INSERT"), 4),
        // paid; shipped ×2. trx2's 'cancelled' was rolled back.
        (("orders", "UPDATE"), 3),
        (("products", "INSERT"), 4),
        (("products", "UPDATE"), 4),
        (("users", "DELETE"), 1),
        (("users", "INSERT"), 4),
        (("users", "UPDATE"), 3),
    ]
    .into_iter()
    .map(|((t, o), n)| ((t.to_string(), o), n))
    .collect();
    assert_eq!(counts, expected);
    // Every change is there exactly once.
    let keys: HashSet<String> = records(&r).iter().map(|r| r.id()).collect();
    assert_eq!(keys.len(), records(&r).len());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn sample_records_have_images_diffs_keys_and_positions() {
    let r = run(&seed_config(), 1000);
    let recs = records(&r);
    let paid = recs
        .iter()
        .find(|r| r.table == "orders" && r.operation == Operation::Update)
        .unwrap();
    assert_eq!(paid.gtid.as_deref(), Some("0-1-8"));
    assert_eq!(paid.key.event_pos, 4271);
    assert_eq!(
        serde_json::to_string(&paid.primary_key).unwrap(),
        r#"{"id":1}"#
    );
    assert_eq!(
        serde_json::to_string(&paid.changes).unwrap(),
        r#"{"status":{"old":"pending","new":"paid"}}"#
    );
    assert_eq!(
        paid.new_data.as_ref().unwrap().as_str(),
        r#"{"id":1,"user_id":1,"amount":"179.80","status":"paid","created_at":"2025-01-01 09:03:00.000000"}"#
    );
    assert_eq!(paid.tags, ["order_status_change"]);
    assert!(paid.xid.is_some());
    assert_eq!(
        paid.query.as_deref(),
        Some("UPDATE orders SET status = ? WHERE id = ?")
    );

    // users: only tracked columns (password and the later last_login are not).
    let first_user = recs.iter().find(|r| r.table == "users").unwrap();
    let cols: Vec<String> = first_user
        .new_data
        .as_ref()
        .unwrap()
        .to_map()
        .keys()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        cols,
        [
            "id",
            "username",
            "email",
            "phone",
            "status",
            "created_at",
            "updated_at"
        ]
    );
    assert!(first_user.old_data.is_none() && first_user.changes.is_empty());

    // An UPDATE touching only an untracked column has no tracked changes.
    let last_login = recs
        .iter()
        .find(|r| {
            r.table == "users" && r.query.as_deref().is_some_and(|q| q.contains("last_login"))
        })
        .unwrap();
    assert!(last_login.changes.is_empty());

    // DELETE: before image only.
    let del = recs
        .iter()
        .find(|r| r.table == "users" && r.operation == Operation::Delete)
        .unwrap();
    assert!(del.new_data.is_none());
    assert_eq!(del.old_data.as_ref().unwrap().to_map()["username"], "bob");
}

#[test]
fn seed_rules_fire_as_sql_says() {
    let r = run(&seed_config(), 1000);
    let alerts: Vec<_> = r.batches.iter().flat_map(|b| &b.alerts).collect();
    let by_rule = |name: &str| alerts.iter().filter(|a| a.rule == name).collect::<Vec<_>>();
    // emoji_fan inactive → banned; the phone and last_login updates leave
    // status equal; INSERTs have no OLD (NULL, not fired).
    let status = by_rule("status_change");
    assert_eq!(status.len(), 1);
    assert!(
        status[0].message.contains("changed status"),
        "{}",
        status[0].message
    );
    let deletion = by_rule("user_deletion");
    assert_eq!(deletion.len(), 1);
    assert_eq!(deletion[0].priority, pipeline::Priority::High);
    // The 12999.00 insert, the XA 25000.50 insert and order 3's later
    // status update (its NEW.amount is still 12999.00).
    let high = by_rule("high_amount_order");
    assert_eq!(high.len(), 3, "{high:#?}");
    assert!(high
        .iter()
        .all(|a| a.priority == pipeline::Priority::Medium));
    // order_status_change is track-only: tags, no alerts.
    assert!(by_rule("order_status_change").is_empty());
    let tagged = records(&r)
        .into_iter()
        .filter(|r| r.tags.iter().any(|t| t == "order_status_change"))
        .count();
    assert_eq!(tagged, 3);
    // Alerts point at their change.
    let ids: HashSet<String> = records(&r).iter().map(|r| r.id()).collect();
    assert!(alerts.iter().all(|a| ids.contains(&a.change_id)));
}

#[test]
fn masked_values_never_appear_in_records_alerts_or_statements() {
    let cfg = seed_config();
    let r = run(&cfg, 3);
    let everything = serde_json::to_string(
        &r.batches
            .iter()
            .map(|b| (&b.records, &b.alerts))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for raw in [
        "+1-555-0100",
        "13800138000",
        "13900139000",
        "555-0100",
        "$2b$12$",
    ] {
        assert!(!everything.contains(raw), "raw value {raw} leaked");
    }
    let phones: Vec<serde_json::Value> = records(&r)
        .into_iter()
        .filter(|r| r.table == "users")
        .flat_map(|r| r.old_data.iter().chain(r.new_data.iter()))
        .filter_map(|m| m.to_map().get("phone").cloned())
        .collect();
    assert!(phones.iter().any(|p| p.is_null()), "NULL phones stay NULL");
    let hashed: Vec<&str> = phones.iter().filter_map(|p| p.as_str()).collect();
    assert!(
        !hashed.is_empty() && hashed.iter().all(|p| p.starts_with("hmac:")),
        "{hashed:?}"
    );
    // The phone change shows as a change of hashes.
    let phone_change = records(&r)
        .into_iter()
        .find_map(|r| r.changes.to_map().get("phone").cloned())
        .unwrap();
    assert_ne!(phone_change["old"], phone_change["new"]);
    // The same value hashes the same everywhere (the 13800138000 of the
    // insert is the before value of the phone update).
    let masker = pipeline::mask::Masker::new(HASH_KEY.as_bytes());
    assert_eq!(
        phone_change["old"],
        masker.hash(&serde_json::json!("13800138000")).as_str()
    );
}

#[test]
fn batches_end_on_transaction_boundaries() {
    for size in [1, 2, 3, 5, 1000] {
        let r = run(&seed_config(), size);
        let mut seen_gtids: HashSet<String> = HashSet::new();
        for b in &r.batches {
            assert!(b.ends_at_commit);
            assert!(
                r.commit_positions.contains(&b.checkpoint.binlog_pos),
                "batch size {size}: checkpoint {} is not a commit position",
                b.checkpoint.binlog_pos
            );
            let gtids: HashSet<String> = b.records.iter().filter_map(|r| r.gtid.clone()).collect();
            for g in &gtids {
                assert!(
                    seen_gtids.insert(g.clone()),
                    "batch size {size}: transaction {g} split across batches"
                );
            }
        }
        let last = r.batches.last().unwrap();
        assert_eq!(
            last.checkpoint.binlog_pos,
            *r.commit_positions.iter().max().unwrap()
        );
        assert_eq!(records(&r).len(), 24, "batch size {size}");
    }
}

#[test]
fn check_config_passes_for_examples_config() {
    let dir = repo().join("examples/config");
    let cfg = Config::load(&dir.join("config.yaml"), Some(&dir.join("tables.yaml")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    // Paths are relative to the config file, whatever the working directory.
    let src = cfg.mysql.source.as_ref().unwrap();
    assert_eq!(src.files, [dir.join("../binlogs/sample.000001")]);
    assert!(src.files[0].is_file());
    assert_eq!(
        cfg.storage.sqlite_path(),
        dir.join("../../data/binlog-analyzer.sqlite")
    );
}

#[test]
fn examples_config_runs_its_extra_rules_and_partial_masking() {
    let dir = repo().join("examples/config");
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    let cfg = Config::load_with_env(
        &dir.join("config.yaml"),
        Some(&dir.join("tables.yaml")),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run(&cfg, 1000);
    let recs = records(&r);
    let tagged = |rule: &str| {
        recs.iter()
            .filter(|r| r.tags.iter().any(|t| t == rule))
            .count()
    };
    assert_eq!(tagged("phone_change"), 1);
    assert_eq!(tagged("price_drop"), 2);
    let alerts: Vec<_> = r.batches.iter().flat_map(|b| &b.alerts).collect();
    let low: Vec<_> = alerts.iter().filter(|a| a.rule == "low_stock").collect();
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].primary_key["id"], 3);
    let alice = recs.iter().find(|r| r.table == "users").unwrap();
    assert_eq!(
        alice.new_data.as_ref().unwrap().to_map()["email"],
        "a***@example.com"
    );
    let everything = serde_json::to_string(&recs).unwrap();
    assert!(!everything.contains("alice@example.com") && !everything.contains("13800138000"));
    // last_login (added by the DDL) is tracked here.
    assert!(recs
        .iter()
        .any(|r| r.changes.to_map().contains_key("last_login")));
}
