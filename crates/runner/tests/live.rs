//! The runner against a private MariaDB (testkit): a mixed workload on the
//! seed's users/orders/products plus tables of many column types (`kinds`,
//! and `kinds2` for geometry, UUID, INET, compressed columns,
//! DECIMAL(65,30), BIT(64), big BLOB/TEXT) arrives
//! in SQLite and in a MySQL store with every change once; replaying the
//! stored changes into an empty copy of the schema gives tables whose
//! `CHECKSUM TABLE` equals the source's; with masking configured, the raw
//! values are nowhere in either store or in the log; rule tags and alerts
//! are queryable. Without MariaDB the tests skip (CI=true: they fail).
//!
//! Every value is checked, not only counts, with an oracle independent of
//! the decoder: triggers on the source tables copy every before and after
//! image, as the server saw it, into `audit.<table>_src`; the same triggers
//! on the replay target record what replaying the stored changes produced
//! there. Equal image sequences (every column, as the server returns it)
//! mean every stored image held the source's values.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use pipeline::{Config, Operation};
use runner::replay::{ReplayOptions, ReplayTarget};
use runner::{Input, Observer, RunEnd, RunOptions, Runner};
use store::config::StoreConfig;
use store::{AlertQuery, QueryStore, TaggedQuery, TimeRange};
use testkit::{MariaDb, Options};

const USER: &str = "repl";
const PASSWORD: &str = "repl-pw";
const HASH_KEY: &str = "live-test-key-0123456789abcdef";

const SCHEMA: &str = "
CREATE DATABASE ecommerce DEFAULT CHARACTER SET utf8mb4;
USE ecommerce;
CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  email VARCHAR(255) NOT NULL,
  phone VARCHAR(32) NULL,
  password CHAR(60) NOT NULL,
  status ENUM('active','inactive','banned') NOT NULL DEFAULT 'active',
  created_at DATETIME NOT NULL,
  updated_at TIMESTAMP(3) NULL DEFAULT NULL
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'pending',
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  stock INT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE kinds (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT UNSIGNED, bs BIGINT,
  f FLOAT, d DOUBLE, dec1 DECIMAL(20,6),
  dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, yr YEAR,
  ch CHAR(10), vc VARCHAR(100), tx TEXT, bl BLOB, vb VARBINARY(16), bn BINARY(4),
  en ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10), js JSON,
  lat VARCHAR(20) CHARACTER SET latin1
) ENGINE=InnoDB;
CREATE TABLE kinds2 (
  id INT NOT NULL PRIMARY KEY,
  g GEOMETRY NULL, p POINT NULL, u UUID NULL, i6 INET6 NULL, i4 INET4 NULL,
  tc TEXT COMPRESSED NULL, bc BLOB COMPRESSED NULL,
  d65 DECIMAL(65,30) NULL, b64 BIT(64) NULL, t6 TIME(6) NULL, dt0 DATETIME NULL,
  mb MEDIUMBLOB NULL, lt LONGTEXT NULL, f73 FLOAT(7,3) NULL,
  tiu TINYINT UNSIGNED NULL, miu MEDIUMINT UNSIGNED NULL, yr YEAR NULL
) ENGINE=InnoDB;
";

/// The workload; its row changes per (table, operation) are [`expected`].
const WORKLOAD: &str = "
USE ecommerce;
SET time_zone = '+00:00';
INSERT INTO users (username, email, phone, password, status, created_at)
  SELECT CONCAT('user', seq), CONCAT('secret.user', seq, '@private.example'),
    IF(seq % 4 = 0, NULL, CONCAT('+86-1391234', LPAD(seq, 4, '0'))),
    CONCAT('$2b$12$', LEFT(SHA2(seq, 256), 53)),
    ELT(1 + seq % 3, 'active', 'inactive', 'banned'),
    '2024-01-01 00:00:00' + INTERVAL seq MINUTE
  FROM seq_1_to_200;
INSERT INTO products (name, price, stock)
  SELECT CONCAT('product ', seq, IF(seq % 7 = 0, ' 🚀', ' ✓')), seq * 1.25, seq % 50 FROM seq_1_to_50;
INSERT INTO orders (user_id, amount, status, created_at)
  SELECT 1 + seq % 200, IF(seq % 10 = 0, 15000 + seq, seq * 3.5), 'pending',
    '2024-02-01 00:00:00.123456' + INTERVAL seq SECOND
  FROM seq_1_to_300;
UPDATE orders SET status = 'paid' WHERE id % 2 = 0;
UPDATE orders SET status = 'shipped' WHERE id % 6 = 0;
BEGIN;
INSERT INTO orders (user_id, amount, status, created_at) VALUES (3, 12999.00, 'pending', '2024-03-01 10:00:00.5');
UPDATE products SET stock = stock - 1 WHERE id <= 10;
UPDATE users SET phone = '+86-13900000000', updated_at = '2024-03-01 10:00:00.250' WHERE id = 5;
COMMIT;
BEGIN;
UPDATE orders SET status = 'cancelled' WHERE id < 100;
ROLLBACK;
XA START 'x1';
INSERT INTO orders (user_id, amount, status, created_at) VALUES (7, 25000.50, 'pending', '2024-03-02 00:00:00');
XA END 'x1';
XA PREPARE 'x1';
XA COMMIT 'x1';
UPDATE products SET price = price * 0.9 WHERE id % 5 = 0;
DELETE FROM orders WHERE id % 25 = 0;
DELETE FROM users WHERE id > 190;
INSERT INTO kinds VALUES
  (1, -128, 65535, -8388608, 18446744073709551615, -9223372036854775808,
   1.1, 0.30000000000000004, '-12345678901234.123456',
   '0000-00-00', '-838:59:59.500', '2024-01-15 23:24:25.123456', '2038-01-19 03:14:07.999999', 2155,
   'chars', 'text 中文 🎉 \\'q\\'', REPEAT('long text ', 50), X'00FF10', X'DEADBEEF', X'0102',
   'c', 'x,z', b'1010101010', '{\"a\": [1, 2.5, \"x\"], \"b\": null}', 'café €'),
  (2, 127, 0, 8388607, 0, 9223372036854775807,
   -3.40282e38, 1e100, '0.000001',
   '1000-01-01', '00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01', 1901,
   '', '', '', '', '', X'00000000',
   'a', '', b'0', '[]', ''),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE kinds SET vc = 'changed ✓', f = 2.5, ts = '2024-06-01 12:00:00.5', bl = X'FF' WHERE id = 2;
DELETE FROM kinds WHERE id = 3;
INSERT INTO kinds2 VALUES
  (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1.5, -2.25),
   '123e4567-e89b-12d3-a456-426614174000', '2001:db8::ff00:42:8329', '192.168.0.1',
   REPEAT('compressible ', 100), REPEAT(X'00AB', 300),
   '-12345678901234567890123456789012345.123456789012345678901234567890',
   b'1111111111111111111111111111111111111111111111111111111111111111',
   '-12:34:56.789012', '2024-02-29 12:00:00', REPEAT(X'FF00', 5000), REPEAT('長', 3000),
   1234.567, 255, 16777215, 2000),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, ST_GeomFromText('MULTIPOINT(1 1, 2 2)'), POINT(0, 0), '00000000-0000-0000-0000-000000000000',
   '::', '0.0.0.0', '', '', '0', b'0', '00:00:00', '1000-01-01 00:00:00', '', '', 0, 0, 0, 1901);
UPDATE kinds2 SET g = ST_GeomFromText('LINESTRING(0 0, 1 1)'), u = 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  tc = 'short', d65 = '1.5', i4 = NULL WHERE id = 1;
DELETE FROM kinds2 WHERE id = 3;
FLUSH BINARY LOGS;
";

fn expected() -> BTreeMap<(String, &'static str), usize> {
    [
        (("kinds", "DELETE"), 1),
        (("kinds", "INSERT"), 3),
        (("kinds", "UPDATE"), 1),
        (("kinds2", "DELETE"), 1),
        (("kinds2", "INSERT"), 3),
        (("kinds2", "UPDATE"), 1),
        (("orders", "DELETE"), 12),
        (("orders", "INSERT"), 302),
        (("orders", "UPDATE"), 200),
        (("products", "INSERT"), 50),
        (("products", "UPDATE"), 20),
        (("users", "DELETE"), 10),
        (("users", "INSERT"), 200),
        (("users", "UPDATE"), 1),
    ]
    .into_iter()
    .map(|((t, o), n)| ((t.to_string(), o), n))
    .collect()
}

/// One server with the workload done, shared by the tests.
fn server() -> Option<&'static MariaDb> {
    static READY: OnceLock<()> = OnceLock::new();
    let db = MariaDb::shared(Options::new())?;
    READY.get_or_init(|| {
        db.exec(&format!(
            "CREATE USER IF NOT EXISTS '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'"
        ))
        .expect("create the replication user");
        db.exec(SCHEMA).expect("schema");
        audit(db, "ecommerce", "src");
        db.exec(WORKLOAD).expect("workload");
    });
    Some(db)
}

/// A config reading the server from its first binlog, storing in SQLite
/// under `dir` and in the MySQL database `store_db` of the same server.
/// `server_id`: one per test, since the tests share one server and run at
/// the same time (a second replica with the same id is refused).
fn config(db: &MariaDb, dir: &Path, server_id: u32, store_db: &str, tables: &str) -> Config {
    let text = format!(
        r#"
mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    binlog:
      server_id: {server_id}
      log_file: "mysql-bin.000001"
      log_pos: 4
  storage:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    database: "{store_db}"
processing:
  batch_size: 100
  flush_interval: 1
performance:
  memory:
    max_events_in_memory: 150
storage:
  primary: sqlite
  backup: ["mysql"]
  data_dir: "{dir}"
"#,
        port = db.port(),
        dir = dir.display(),
    );
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    Config::from_yaml(&text, "config.yaml", Some((tables, "tables.yaml")), &env)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Keeps every notice, to search the log for raw values.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Observer for Recorder {
    fn notice(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

fn run_until_end(cfg: &Config, observer: Arc<Recorder>) -> runner::Summary {
    let m = runner::stores::mysql_config(cfg).unwrap();
    store::mysql::drop_db(&m).unwrap();
    store::mysql::init_db(&m).unwrap();
    let mut input = Input::from_config(cfg).unwrap();
    if let Input::Live(c) = &mut input {
        c.until_end = true;
    }
    let summary = Runner::with_observer(cfg.clone(), input, RunOptions::default(), observer)
        .unwrap()
        .run_blocking()
        .unwrap();
    assert_eq!(summary.end, RunEnd::EndOfInput);
    summary
}

fn stores(cfg: &Config) -> Vec<Arc<dyn QueryStore>> {
    vec![
        StoreConfig::Sqlite(runner::stores::sqlite_config(cfg))
            .open_queries()
            .unwrap(),
        StoreConfig::Mysql(runner::stores::mysql_config(cfg).unwrap())
            .open_queries()
            .unwrap(),
    ]
}

fn counts(q: &dyn QueryStore) -> BTreeMap<(String, &'static str), usize> {
    let mut out = BTreeMap::new();
    for r in common::all_records(q) {
        *out.entry((r.table, r.operation.as_str())).or_default() += 1;
    }
    out
}

fn checksum(db: &MariaDb, database: &str, table: &str) -> String {
    db.query(&format!("CHECKSUM TABLE `{database}`.`{table}`"))
        .unwrap()
        .first()
        .and_then(|r| r.get(1).cloned().flatten())
        .unwrap_or_default()
}

const TABLES: [&str; 5] = ["users", "orders", "products", "kinds", "kinds2"];

/// Triggers on `database`'s [`TABLES`] that append every row image — the
/// before image of an UPDATE or DELETE as `old`, the after image of an
/// INSERT or UPDATE as `new` — to `audit.<table>_<suffix>`, a table with the
/// same column types. (Two UPDATE triggers instead of one with BEGIN…END:
/// the client runs the script without DELIMITER handling.)
fn audit(db: &MariaDb, database: &str, suffix: &str) {
    let mut sql = String::from("CREATE DATABASE IF NOT EXISTS audit;");
    for t in TABLES {
        let cols: Vec<String> = db
            .query(&format!(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = '{t}' ORDER BY ORDINAL_POSITION"
            ))
            .unwrap()
            .into_iter()
            .map(|r| format!("`{}`", r[0].clone().unwrap()))
            .collect();
        let image = |row: &str| {
            cols.iter()
                .map(|c| format!("{row}.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let log = format!("audit.`{t}_{suffix}`");
        let insert = |phase: &str, row: &str| {
            format!(
                "INSERT INTO {log} (phase, {}) VALUES ('{phase}', {})",
                cols.join(", "),
                image(row)
            )
        };
        sql.push_str(&format!(
            "CREATE TABLE {log} (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, phase CHAR(3) NOT NULL DEFAULT '') \
               SELECT * FROM `{database}`.`{t}` LIMIT 0;\n\
             CREATE TRIGGER `{database}`.`audit_ai_{t}` AFTER INSERT ON `{database}`.`{t}` FOR EACH ROW {};\n\
             CREATE TRIGGER `{database}`.`audit_bu_{t}` BEFORE UPDATE ON `{database}`.`{t}` FOR EACH ROW {};\n\
             CREATE TRIGGER `{database}`.`audit_au_{t}` AFTER UPDATE ON `{database}`.`{t}` FOR EACH ROW {};\n\
             CREATE TRIGGER `{database}`.`audit_ad_{t}` AFTER DELETE ON `{database}`.`{t}` FOR EACH ROW {};\n",
            insert("new", "NEW"),
            insert("old", "OLD"),
            insert("new", "NEW"),
            insert("old", "OLD"),
        ));
    }
    db.exec(&sql).expect("audit triggers");
}

/// The images `audit` recorded for `table`, in order, without `seq` (a
/// rolled-back transaction leaves gaps in it on the source only).
fn images(db: &MariaDb, table: &str, suffix: &str) -> Vec<Vec<Option<Vec<u8>>>> {
    db.query_bytes(&format!(
        "SELECT * FROM audit.`{table}_{suffix}` ORDER BY seq"
    ))
    .unwrap()
    .into_iter()
    .map(|mut r| {
        r.remove(0);
        r
    })
    .collect()
}

fn show(row: &[Option<Vec<u8>>]) -> String {
    row.iter()
        .map(|v| match v {
            None => "NULL".to_string(),
            Some(b) => String::from_utf8_lossy(b).into_owned(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn every_change_arrives_once_and_replays_to_equal_checksums() {
    let Some(db) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Every column tracked, nothing masked: the stores hold whole images.
    let cfg = config(
        db,
        dir.path(),
        4301,
        "ba_full",
        "tables:\n  include: [\"ecommerce.*\"]\n",
    );
    let summary = run_until_end(&cfg, Arc::new(Recorder::default()));
    let total: usize = expected().values().sum();
    assert_eq!(summary.writes.inserted as usize, total);
    let stores = stores(&cfg);
    // Both stores hold the same records, field by field.
    let (a, b) = (
        common::all_records(stores[0].as_ref()),
        common::all_records(stores[1].as_ref()),
    );
    assert_eq!(a.len(), total);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "SQLite and MySQL store differ");
    }
    assert_eq!(a.len(), b.len());
    for (i, q) in stores.iter().enumerate() {
        assert_eq!(counts(q.as_ref()), expected(), "store {}", q.name());
        let copy = format!("ecommerce_copy{i}");
        let mut create = format!("CREATE DATABASE `{copy}`;");
        for t in TABLES {
            create.push_str(&format!(
                "CREATE TABLE `{copy}`.`{t}` LIKE ecommerce.`{t}`;"
            ));
        }
        db.exec(&create).unwrap();
        audit(db, &copy, &format!("copy{i}"));
        let target = ReplayTarget {
            host: "127.0.0.1".into(),
            port: db.port(),
            user: USER.into(),
            password: Some(PASSWORD.into()),
            socket: None,
        };
        let options = ReplayOptions {
            database_map: [("ecommerce".to_string(), copy.clone())].into(),
            ..ReplayOptions::default()
        };
        let report = runner::replay::replay(q.as_ref(), &target, &options, &mut |_| {}).unwrap();
        assert_eq!(report.statements() as usize, total);
        for t in TABLES {
            let source = checksum(db, "ecommerce", t);
            assert!(!source.is_empty() && source != "0", "{t}: {source}");
            assert_eq!(
                checksum(db, &copy, t),
                source,
                "{t} replayed from {} differs from the source",
                q.name()
            );
            // Every image: what the source went through, step by step,
            // equals what replaying the stored images went through.
            let (want, got) = (images(db, t, "src"), images(db, t, &format!("copy{i}")));
            let n = |op: &str| expected().get(&(t.to_string(), op)).copied().unwrap_or(0);
            assert_eq!(
                want.len(),
                n("INSERT") + n("DELETE") + 2 * n("UPDATE"),
                "{t}: images the triggers saw"
            );
            for (k, (w, g)) in want.iter().zip(&got).enumerate() {
                assert_eq!(
                    w,
                    g,
                    "{t} image {k} from {}:\n source  {}\n replay  {}",
                    q.name(),
                    show(w),
                    show(g)
                );
            }
            assert_eq!(got.len(), want.len(), "{t}: images in the replay");
        }
    }
}

#[test]
fn masked_values_never_appear_and_rules_are_queryable() {
    let Some(db) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let tables = r#"
tables:
  ecommerce.users:
    sensitive_columns: ["password", "phone", "email"]
    masking:
      email: "partial"
      phone: "hash"
    rules:
      - name: "status_change"
        condition: "OLD.status != NEW.status"
        alert: true
      - name: "user_deletion"
        condition: "operation = 'DELETE'"
        alert: true
        priority: "high"
      - name: "phone_change"
        condition: "changed(phone)"
        track: true
  ecommerce.orders:
    rules:
      - name: "high_amount_order"
        condition: "NEW.amount > 10000"
        alert: true
      - name: "order_status_change"
        condition: "OLD.status != NEW.status"
        track: true
  ecommerce.products: {}
"#;
    let cfg = config(db, dir.path(), 4303, "ba_masked", tables);
    let log = Arc::new(Recorder::default());
    run_until_end(&cfg, Arc::clone(&log));
    let raw: Vec<String> = (1..=200)
        .flat_map(|i| {
            [
                format!("secret.user{i}@private.example"),
                format!("+86-1391234{i:04}"),
            ]
        })
        .chain(["+86-13900000000".to_string(), "$2b$12$".to_string()])
        .collect();

    // SQLite: every file of the data directory (database, WAL, …) but the key.
    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "key") {
            bytes.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("private.example"),
        "partial emails keep the domain"
    );
    // MySQL: every text column of every table of the storage database.
    let mut dump = String::new();
    let cols = db
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = 'ba_masked' AND DATA_TYPE IN ('text','longtext','varchar','mediumtext')",
        )
        .unwrap();
    for c in &cols {
        let (t, col) = (c[0].clone().unwrap(), c[1].clone().unwrap());
        for row in db
            .query(&format!("SELECT `{col}` FROM ba_masked.`{t}`"))
            .unwrap()
        {
            dump.extend(row.into_iter().flatten());
            dump.push('\n');
        }
    }
    assert!(dump.contains("hmac:"), "hashed phones are stored");
    let logged = log.0.lock().unwrap().join("\n");
    for r in &raw {
        assert!(!text.contains(r.as_str()), "{r} is in the SQLite files");
        assert!(!dump.contains(r.as_str()), "{r} is in the MySQL store");
        assert!(!logged.contains(r.as_str()), "{r} is in the log");
    }

    for q in stores(&cfg) {
        let tagged = |rule: &str| {
            q.tagged(&TaggedQuery {
                rule: rule.into(),
                table: None,
                range: TimeRange::all(),
                order: store::Order::Asc,
                cursor: None,
                limit: 1000,
            })
            .unwrap()
            .items
        };
        assert_eq!(tagged("order_status_change").len(), 200, "{}", q.name());
        let phone = tagged("phone_change");
        assert_eq!(phone.len(), 1);
        assert_eq!(phone[0].record.primary_key.to_map()["id"], 5);
        assert!(phone[0].record.changes.to_map()["phone"]["new"]
            .as_str()
            .is_some_and(|h| h.starts_with("hmac:")));
        let alerts = q
            .alerts(&AlertQuery {
                limit: 1000,
                ..AlertQuery::default()
            })
            .unwrap()
            .items;
        // Alerts (what the API and webhooks send) hold masked values only.
        let sent = serde_json::to_string(&alerts).unwrap();
        for r in &raw {
            assert!(!sent.contains(r.as_str()), "{r} is in an alert");
        }
        let n = |name: &str| alerts.iter().filter(|a| a.alert.name == name).count();
        // 30 big orders inserted (ids 10, 20, …), all 30 then paid (even
        // ids), 10 of them shipped (ids divisible by 30), the 12999 order of
        // the transaction and the XA 25000.50 one.
        assert_eq!(n("high_amount_order"), 30 + 30 + 10 + 2, "{}", q.name());
        assert_eq!(n("user_deletion"), 10);
        assert_eq!(n("status_change"), 0, "no UPDATE changed a status");
        let deletion = alerts
            .iter()
            .find(|a| a.alert.name == "user_deletion")
            .unwrap();
        let change = q
            .change_by_key(deletion.alert.change.as_ref().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(change.record.operation, Operation::Delete);
        assert_eq!(change.record.table, "users");
    }
}

/// `retention_days` purges on its schedule while ingest goes on: changes
/// committed (by the source's clock) five days ago arrive and are purged
/// from both stores by the retention thread, while new changes written
/// meanwhile keep arriving — ingest never stalls for the purge.
#[test]
fn retention_purges_on_schedule_while_ingest_goes_on() {
    let Some(db) = server() else { return };
    const OLD: usize = 12_000;
    db.exec("CREATE DATABASE ret; CREATE TABLE ret.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64))")
        .unwrap();
    let (file, pos) = db.binlog_position().unwrap();
    let old = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5 * 86_400;
    let mut sql = format!("USE ret; SET TIMESTAMP = {old};");
    for _ in 0..OLD / 2000 {
        sql.push_str("INSERT INTO ret.t (v) SELECT CONCAT('old ', seq) FROM seq_1_to_2000;");
    }
    db.exec(&sql).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
mysql:
  source:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    binlog:
      server_id: 4302
      log_file: "{file}"
      log_pos: {pos}
  storage:
    host: "127.0.0.1"
    port: {port}
    user: "{USER}"
    password: "{PASSWORD}"
    database: "ba_retention"
tables:
  include: ["ret.*"]
processing:
  batch_size: 200
  flush_interval: "50ms"
storage:
  primary: sqlite
  backup: ["mysql"]
  data_dir: "{dir}"
  retention_days: 1
  purge_interval: "1s"
"#,
        port = db.port(),
        file = file.file_name().unwrap().to_string_lossy(),
        dir = dir.path().display(),
    );
    let env = |name: &str| (name == "BINLOG_ANALYZER_HASH_KEY").then(|| HASH_KEY.to_string());
    let cfg = Config::from_yaml(&text, "config.yaml", None, &env).unwrap_or_else(|e| panic!("{e}"));
    let m = runner::stores::mysql_config(&cfg).unwrap();
    store::mysql::drop_db(&m).unwrap();
    store::mysql::init_db(&m).unwrap();
    let log = Arc::new(Recorder::default());
    let (handle, running) = common::spawn_run(&cfg, Arc::clone(&log) as Arc<dyn Observer>);

    // New rows, one every 25 ms, while the old ones are ingested and purged;
    // the committed count is sampled to find the longest stall.
    let purged = |log: &Recorder| {
        log.0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.starts_with("retention: purged"))
            .filter_map(|m| m.split(' ').nth(2)?.parse::<usize>().ok())
            .sum::<usize>()
    };
    let started = std::time::Instant::now();
    let mut written = 0;
    let mut last = (started, 0);
    let mut stall = std::time::Duration::ZERO;
    let mut purge_seen_at = None;
    while started.elapsed() < std::time::Duration::from_secs(90) {
        db.exec(&format!("INSERT INTO ret.t (v) VALUES ('new {written}')"))
            .unwrap();
        written += 1;
        std::thread::sleep(std::time::Duration::from_millis(25));
        let committed = handle.status().records_committed;
        let now = std::time::Instant::now();
        if committed != last.1 {
            last = (now, committed);
        } else if last.1 as usize >= OLD {
            // Once caught up with the old rows, every pause counts.
            stall = stall.max(now - last.0);
        }
        if purge_seen_at.is_none() && purged(&log) > 0 {
            purge_seen_at = Some(started.elapsed());
        }
        // Both stores purged everything old, and new rows kept coming
        // for a while after the first purge.
        if purged(&log) >= 2 * OLD
            && purge_seen_at
                .is_some_and(|t| started.elapsed() > t + std::time::Duration::from_secs(2))
        {
            break;
        }
    }
    // Let the last new rows arrive, then stop.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (handle.status().records_committed as usize) < OLD + written
        && std::time::Instant::now() < until
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    handle.stop();
    let summary = running.join().unwrap().unwrap();
    let notices = log.0.lock().unwrap().join("\n");
    println!(
        "{written} new rows; first purge seen after {purge_seen_at:?}; longest ingest stall {stall:?}; \
         {} changes committed",
        summary.writes.inserted
    );
    assert_eq!(summary.writes.inserted as usize, OLD + written, "{notices}");
    assert_eq!(
        purged(&log),
        2 * OLD,
        "each store purged every old change: {notices}"
    );
    // Generous: the loop's own client calls set the sampling grain, and a
    // loaded machine stretches them.
    assert!(
        stall < std::time::Duration::from_secs(5),
        "ingest stalled {stall:?} during the purge"
    );
    let cfg_sqlite = StoreConfig::Sqlite(runner::stores::sqlite_config(&cfg));
    let cfg_mysql = StoreConfig::Mysql(m);
    for c in [cfg_sqlite, cfg_mysql] {
        let q = c.open_queries().unwrap();
        let left = common::all_records(q.as_ref());
        assert_eq!(
            left.len(),
            written,
            "{}: only the new rows remain",
            q.name()
        );
        assert!(left.iter().all(|r| r.timestamp as u64 > old + 86_400));
    }
}
