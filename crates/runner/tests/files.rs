//! The runner over the project's sample binlog (real MariaDB bytes, see
//! examples/binlogs/README.md) into a real SQLite store: what the workload
//! did arrives once, resumes continue exactly, rules are queryable, masked
//! values are nowhere in the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipeline::{Checkpoint, Config, Operation};
use runner::{Input, QuietObserver, Resume, RunEnd, RunOptions, Runner, StopAt};
use store::config::StoreConfig;
use store::{AlertQuery, ChangesQuery, QueryStore, TaggedQuery, TimeRange};

const HASH_KEY: &str = "runner-test-key-0123456789";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> PathBuf {
    repo().join("examples/binlogs/sample.000001")
}

/// The examples config (seed tables plus extra rules and masking), with
/// its data directory moved to `dir`.
fn config(dir: &Path, extra: &str) -> Config {
    let tables = std::fs::read_to_string(repo().join("examples/config/tables.yaml")).unwrap();
    let text = format!(
        "mysql:\n  source:\n    files: [\"{}\"]\nprocessing:\n  batch_size: 3\n  flush_interval: 1\nstorage:\n  primary: sqlite\n  data_dir: \"{}\"\n{extra}",
        sample().display(),
        dir.display()
    );
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    Config::from_yaml(&text, "config.yaml", Some((&tables, "tables.yaml")), &env)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(cfg: &Config, options: RunOptions) -> runner::Summary {
    let input = Input::from_config(cfg).unwrap();
    Runner::with_observer(cfg.clone(), input, options, Arc::new(QuietObserver))
        .unwrap()
        .run_blocking()
        .unwrap()
}

fn queries(cfg: &Config) -> Arc<dyn QueryStore> {
    StoreConfig::Sqlite(runner::stores::sqlite_config(cfg))
        .open_queries()
        .unwrap()
}

/// (table, operation) → count, over everything stored.
fn counts(q: &dyn QueryStore) -> BTreeMap<(String, &'static str), usize> {
    let mut out = BTreeMap::new();
    for t in q.tables().unwrap() {
        let mut query = ChangesQuery::new(t.database.clone(), t.table.clone());
        query.limit = 10_000;
        for c in q.changes(&query).unwrap().items {
            *out.entry((c.record.table.clone(), c.record.operation.as_str()))
                .or_default() += 1;
        }
    }
    out
}

fn expected() -> BTreeMap<(String, &'static str), usize> {
    [
        (("orders", "DELETE"), 1),
        (("orders", "INSERT"), 4),
        (("orders", "UPDATE"), 3),
        (("products", "INSERT"), 4),
        (("products", "UPDATE"), 4),
        (("users", "DELETE"), 1),
        (("users", "INSERT"), 4),
        (("users", "UPDATE"), 3),
    ]
    .into_iter()
    .map(|((t, o), n)| ((t.to_string(), o), n))
    .collect()
}

#[test]
fn sample_arrives_once_and_a_second_run_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let first = run(&cfg, RunOptions::default());
    assert_eq!(first.end, RunEnd::EndOfInput);
    assert_eq!(first.writes.inserted, 24);
    // One more was read: XA trx2's order, prepared then rolled back.
    assert_eq!(first.counts.records, 25);
    let q = queries(&cfg);
    assert_eq!(counts(q.as_ref()), expected());
    // The checkpoint is the end of the last transaction: the file's
    // closing ROTATE follows it.
    let cp = q.checkpoint().unwrap().unwrap();
    assert_eq!(cp.binlog_file, "sample.000001");
    let size = std::fs::metadata(sample()).unwrap().len();
    assert!(cp.binlog_pos < size && cp.binlog_pos > size - 100, "{cp:?}");

    let second = run(&cfg, RunOptions::default());
    assert_eq!(second.started_from, Some(cp.clone()));
    assert_eq!(second.writes.inserted, 0);
    assert_eq!(second.counts.records, 0, "nothing after the checkpoint");
    assert_eq!(counts(q.as_ref()), expected());
}

/// Stop at every transaction boundary in turn, then finish: each run
/// resumes exactly where the previous one committed.
#[test]
fn resume_from_any_boundary_stores_every_change_once() {
    let all = {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), "");
        run(&cfg, RunOptions::default());
        let q = queries(&cfg);
        let mut ids: Vec<String> = Vec::new();
        for t in q.tables().unwrap() {
            let mut query = ChangesQuery::new(t.database, t.table);
            query.limit = 1000;
            ids.extend(
                q.changes(&query)
                    .unwrap()
                    .items
                    .iter()
                    .map(|c| c.record.id()),
            );
        }
        ids.sort();
        ids
    };
    let dir = tempfile::tempdir().unwrap();
    // One transaction per batch, so each stop point commits what precedes it.
    let cfg = config(
        dir.path(),
        "performance:\n  batch_processing:\n    enabled: false\n",
    );
    let size = std::fs::metadata(sample()).unwrap().len();
    let mut stop = 1500;
    let mut runs = 0;
    while stop < size {
        let options = RunOptions {
            stop_at: Some(StopAt::Position(Checkpoint {
                binlog_file: "sample.000001".into(),
                binlog_pos: stop,
                gtid_set: None,
            })),
            ..RunOptions::default()
        };
        run(&cfg, options);
        runs += 1;
        stop += 700;
    }
    run(&cfg, RunOptions::default());
    assert!(runs > 5);
    let q = queries(&cfg);
    let mut ids: Vec<String> = Vec::new();
    for t in q.tables().unwrap() {
        let mut query = ChangesQuery::new(t.database, t.table);
        query.limit = 1000;
        ids.extend(
            q.changes(&query)
                .unwrap()
                .items
                .iter()
                .map(|c| c.record.id()),
        );
    }
    ids.sort();
    assert_eq!(ids, all);
    assert_eq!(counts(q.as_ref()), expected());
}

#[test]
fn tagged_and_alerted_changes_are_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    run(&cfg, RunOptions::default());
    let q = queries(&cfg);
    let tagged = |rule: &str| {
        q.tagged(&TaggedQuery {
            rule: rule.into(),
            table: None,
            range: TimeRange::all(),
            order: store::Order::Asc,
            cursor: None,
            limit: 100,
        })
        .unwrap()
        .items
    };
    let status = tagged("order_status_change");
    assert_eq!(status.len(), 3);
    assert!(status
        .iter()
        .all(|c| c.record.operation == Operation::Update && c.record.table == "orders"));
    assert_eq!(tagged("price_drop").len(), 2);
    assert_eq!(tagged("phone_change").len(), 1);
    let alerts = q
        .alerts(&AlertQuery {
            limit: 100,
            ..AlertQuery::default()
        })
        .unwrap()
        .items;
    let by_rule = |name: &str| alerts.iter().filter(|a| a.alert.name == name).count();
    assert_eq!(by_rule("high_amount_order"), 3);
    assert_eq!(by_rule("status_change"), 1);
    assert_eq!(by_rule("user_deletion"), 1);
    assert_eq!(by_rule("low_stock"), 1);
    // An alert leads to its change.
    let deletion = alerts
        .iter()
        .find(|a| a.alert.name == "user_deletion")
        .unwrap();
    let change = q
        .change_by_key(deletion.alert.change.as_ref().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(change.record.operation, Operation::Delete);
    assert_eq!(deletion.alert.priority, "high");
}

#[test]
fn masked_values_are_not_in_the_sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    run(&cfg, RunOptions::default());
    // Let deferred indexing finish so the search index is there too.
    let q = queries(&cfg);
    assert!(q.health().ok);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "key") {
            bytes.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    assert!(bytes.len() > 10_000);
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    // Sanity: unmasked values are there.
    assert!(contains(b"Mechanical keyboard"));
    for raw in [
        "alice@example.com",
        "zhang.wei@example.cn",
        "+1-555-0100",
        "13800138000",
        "13900139000",
        "$2b$12$",
    ] {
        assert!(!contains(raw.as_bytes()), "raw value {raw} is in the store");
    }
}

#[test]
fn backfill_of_a_range_keeps_the_stores_position() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    // A run that stops early: the store follows the input up to there.
    let first_stop = Checkpoint {
        binlog_file: "sample.000001".into(),
        binlog_pos: 3000,
        gtid_set: None,
    };
    run(
        &cfg,
        RunOptions {
            stop_at: Some(StopAt::Position(first_stop)),
            ..RunOptions::default()
        },
    );
    let q = queries(&cfg);
    let cp = q.checkpoint().unwrap().unwrap();
    // Backfill everything: records arrive, the resume position stays.
    let s = run(
        &cfg,
        RunOptions {
            resume: Resume::From(None),
            ..RunOptions::default()
        },
    );
    assert!(s.writes.inserted > 0);
    assert_eq!(q.checkpoint().unwrap(), Some(cp));
    assert_eq!(counts(q.as_ref()), expected());
}
