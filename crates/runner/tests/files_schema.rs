//! Local binlog files written with `binlog_row_metadata=MINIMAL` name no
//! columns; reading them, the runner takes names (and ENUM labels, UUID
//! types, the primary key) from the schema history an earlier live run
//! saved in the stores, and follows the DDL in the files. Against a private
//! MariaDB (testkit): a live `run` stores a workload with an ALTER … ADD
//! COLUMN and an ALTER … RENAME COLUMN; the same binlog files, read
//! locally into a copy of its store whose changes were purged (the schema
//! history stays), give the very records live reading stored, with the
//! right names on each side of each ALTER. Without a stored history the
//! columns stay `@1`, `@2`, … Skipped without MariaDB (CI=true: fails).

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipeline::{ChangeRecord, Checkpoint, Config, JsonText, Operation};
use runner::{Input, Observer, Resume, RunOptions, Runner};
use serde_json::json;
use store::config::StoreConfig;
use store::QueryStore;
use testkit::{MariaDb, Options};

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";
const HASH_KEY: &str = "files-schema-test-key-0123456789";

/// Before the live run starts: in the files, not in the live store.
const BEFORE_LIVE: &str = "
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  qty SMALLINT UNSIGNED NULL,
  kind ENUM('tool','toy') NULL,
  ref UUID NULL
) ENGINE=InnoDB;
INSERT INTO items VALUES (1, 'hammer', 65535, 'tool', '123e4567-e89b-12d3-a456-426614174000');
";

/// While the live run follows: 8 row changes around two ALTERs.
const WORKLOAD: &str = "
USE shop;
INSERT INTO items VALUES (2, 'kite', 3, 'toy', NULL),
  (3, 'saw', 40000, 'tool', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
UPDATE items SET qty = qty + 1 WHERE id = 2;
ALTER TABLE items ADD COLUMN note VARCHAR(20) NULL AFTER name;
INSERT INTO items VALUES (4, 'drill', 'cordless', 7, 'tool', NULL);
UPDATE items SET note = 'sharp' WHERE id = 3;
ALTER TABLE items RENAME COLUMN name TO title;
INSERT INTO items VALUES (5, 'yo-yo', NULL, 1, 'toy', NULL);
UPDATE items SET title = 'big saw' WHERE id = 3;
DELETE FROM items WHERE id = 2;
FLUSH BINARY LOGS;
";
const LIVE_RECORDS: usize = 8;

/// Keeps every notice.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Observer for Recorder {
    fn notice(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

impl Recorder {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A config reading the server from its current end (no `log_file`), or
/// `files`, storing in SQLite under `dir`.
fn config(db: &MariaDb, dir: &Path, files: &[PathBuf]) -> Config {
    let files = if files.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = files
            .iter()
            .map(|f| format!("\"{}\"", f.display()))
            .collect();
        format!("    files: [{}]\n", list.join(", "))
    };
    let text = format!(
        r#"
mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
{files}    binlog:
      server_id: 4311
processing:
  batch_size: 100
  flush_interval: "50ms"
tables:
  include: ["shop.*"]
storage:
  primary: sqlite
  data_dir: "{dir}"
"#,
        port = db.port(),
        dir = dir.display(),
    );
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    Config::from_yaml(&text, "config.yaml", None, &env).unwrap_or_else(|e| panic!("{e}"))
}

fn queries(cfg: &Config) -> Arc<dyn QueryStore> {
    StoreConfig::Sqlite(runner::stores::sqlite_config(cfg))
        .open_queries()
        .unwrap()
}

/// Every record of a store, in binlog order.
fn records(cfg: &Config) -> Vec<ChangeRecord> {
    common::all_records(&*queries(cfg))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the live store under `dir` with every change purged: its
/// schema history (and checkpoint) stay.
fn purged_copy(db: &MariaDb, live: &Path, dir: &Path, files: &[PathBuf]) -> Config {
    copy_dir(live, dir);
    let cfg = config(db, dir, files);
    let future = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    queries(&cfg)
        .purge_older_than(u32::try_from(future).unwrap(), 10_000)
        .unwrap();
    assert!(records(&cfg).is_empty(), "the copy keeps no change");
    cfg
}

fn backfill(cfg: &Config, from: Option<Checkpoint>) -> (runner::Summary, Vec<String>) {
    let log = Arc::new(Recorder::default());
    let options = RunOptions {
        resume: Resume::From(from),
        retention: false,
        ..RunOptions::default()
    };
    let summary = Runner::with_observer(
        cfg.clone(),
        Input::from_config(cfg).unwrap(),
        options,
        Arc::clone(&log) as Arc<dyn Observer>,
    )
    .unwrap()
    .run_blocking()
    .unwrap();
    (summary, log.all())
}

fn keys(image: &Option<JsonText>) -> Vec<String> {
    image
        .as_ref()
        .map(|m| m.to_map().keys().cloned().collect())
        .unwrap_or_default()
}

fn row(records: &[ChangeRecord], op: Operation, id: u64) -> &ChangeRecord {
    records
        .iter()
        .find(|r| r.operation == op && r.primary_key.to_map().get("id") == Some(&json!(id)))
        .unwrap_or_else(|| panic!("no {op:?} of id {id} in {records:#?}"))
}

fn older_notices(notices: &[String]) -> usize {
    notices
        .iter()
        .filter(|n| n.contains("older than the stored schema history"))
        .count()
}

#[test]
fn minimal_metadata_files_take_names_from_the_stored_schema_history_across_alters() {
    let Some(db) = MariaDb::start_or_skip(Options::new().arg("--binlog-row-metadata=MINIMAL"))
    else {
        return;
    };
    db.exec(&format!(
        "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
    ))
    .unwrap();
    db.exec(BEFORE_LIVE).unwrap();
    let (file, pos) = db.binlog_position().unwrap();
    let live_start = Checkpoint {
        binlog_file: file.file_name().unwrap().to_string_lossy().into_owned(),
        binlog_pos: pos,
        gtid_set: None,
    };
    let scratch = tempfile::tempdir().unwrap();

    // Live, from the current end: the history is a snapshot there plus the
    // workload's DDL, saved in the store.
    let live_dir = scratch.path().join("live");
    let live_cfg = config(&db, &live_dir, &[]);
    let live_log = Arc::new(Recorder::default());
    let (handle, running) =
        common::spawn_run(&live_cfg, Arc::clone(&live_log) as Arc<dyn Observer>);
    let until = Instant::now() + Duration::from_secs(60);
    while !live_log
        .all()
        .iter()
        .any(|n| n.starts_with("streaming from"))
    {
        assert!(
            Instant::now() < until,
            "live run did not connect: {:?}",
            live_log.all()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    db.exec(WORKLOAD).unwrap();
    while (handle.status().records_committed as usize) < LIVE_RECORDS {
        assert!(
            Instant::now() < until,
            "live run stored {} records: {:?}",
            handle.status().records_committed,
            live_log.all()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    handle.stop();
    running.join().unwrap().unwrap();
    let live = records(&live_cfg);
    assert_eq!(live.len(), LIVE_RECORDS, "{live:#?}");

    // What live reading stored, named by the history on each side of each ALTER.
    let first = row(&live, Operation::Insert, 2);
    assert_eq!(keys(&first.new_data), ["id", "name", "qty", "kind", "ref"]);
    assert_eq!(
        first.new_data.as_ref().unwrap().to_map()["kind"],
        json!("toy")
    );
    let saw = row(&live, Operation::Insert, 3);
    assert_eq!(saw.new_data.as_ref().unwrap().to_map()["qty"], json!(40000));
    assert_eq!(
        saw.new_data.as_ref().unwrap().to_map()["ref"],
        json!("ffffffff-ffff-ffff-ffff-ffffffffffff")
    );
    let added = row(&live, Operation::Insert, 4);
    assert_eq!(
        keys(&added.new_data),
        ["id", "name", "note", "qty", "kind", "ref"]
    );
    assert_eq!(
        added.new_data.as_ref().unwrap().to_map()["note"],
        json!("cordless")
    );
    let renamed = row(&live, Operation::Insert, 5);
    assert_eq!(
        keys(&renamed.new_data),
        ["id", "title", "note", "qty", "kind", "ref"]
    );
    let retitled = live
        .iter()
        .find(|r| r.operation == Operation::Update && r.changes.to_map().contains_key("title"))
        .unwrap_or_else(|| panic!("no update of title in {live:#?}"));
    assert_eq!(
        retitled.changes.to_map()["title"],
        json!({"old": "saw", "new": "big saw"})
    );

    let files = db.binlog_files().unwrap();

    // Every file, into a copy of the store with the history but no
    // changes: the live records again, plus the row written before the
    // live run, named from the snapshot taken after it (said once).
    let all_cfg = purged_copy(&db, &live_dir, &scratch.path().join("all"), &files);
    let (_, notices) = backfill(&all_cfg, None);
    let from_files = records(&all_cfg);
    let (before, after): (Vec<ChangeRecord>, Vec<ChangeRecord>) =
        from_files.into_iter().partition(|r| {
            (r.key.binlog_file.as_str(), r.key.event_pos)
                < (live_start.binlog_file.as_str(), live_start.binlog_pos)
        });
    assert_eq!(after, live, "records from the files differ from live");
    assert_eq!(before.len(), 1, "{before:#?}");
    let hammer = &before[0];
    assert_eq!(
        hammer.new_data,
        json!({"id": 1, "name": "hammer", "qty": 65535, "kind": "tool",
               "ref": "123e4567-e89b-12d3-a456-426614174000"})
        .as_object()
        .map(JsonText::from)
    );
    assert_eq!(older_notices(&notices), 1, "{notices:#?}");

    // From where the live run started: the snapshot saved there holds; no
    // notice.
    let from_cfg = purged_copy(&db, &live_dir, &scratch.path().join("from"), &files);
    let (_, notices) = backfill(&from_cfg, Some(live_start.clone()));
    assert_eq!(records(&from_cfg), live);
    assert_eq!(older_notices(&notices), 0, "{notices:#?}");

    // No stored history: the table maps alone, `@1`, `@2`, … as before.
    let bare_cfg = config(&db, &scratch.path().join("bare"), &files);
    let (_, notices) = backfill(&bare_cfg, None);
    let bare = records(&bare_cfg);
    assert_eq!(bare.len(), LIVE_RECORDS + 1);
    assert!(
        bare.iter()
            .all(|r| keys(&r.new_data.clone().or(r.old_data.clone()))
                .iter()
                .all(|k| k.starts_with('@'))),
        "{bare:#?}"
    );
    assert_eq!(older_notices(&notices), 0, "{notices:#?}");
}
