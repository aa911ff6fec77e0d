//! The seed's config files load as written; broken variants fail naming
//! the file, the key path and what was expected.

use std::path::PathBuf;
use std::time::Duration;

use pipeline::config::{Config, ConfigError, QueryPolicy, StorageKind, TlsMode, ENV_OVERRIDES};
use pipeline::mask::MaskStrategy;
use pipeline::{check_report, Operation, Priority};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed_config() -> String {
    std::fs::read_to_string(repo().join("config/config.example.yaml")).unwrap()
}

fn seed_tables() -> String {
    std::fs::read_to_string(repo().join("config/tables.example.yaml")).unwrap()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(config: &str, tables: Option<&str>) -> Result<Config, ConfigError> {
    Config::from_yaml(
        config,
        "config.yaml",
        tables.map(|t| (t, "tables.yaml")),
        &no_env,
    )
}

/// The example files must stay byte-identical to the seed's blocks
/// (checked when the seed is beside the repository).
#[test]
fn example_files_are_the_seeds_blocks_verbatim() {
    let seeds = repo().join("../shared/seeds");
    let Some(seed) = std::fs::read_dir(&seeds).ok().and_then(|d| {
        d.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("000_"))
        })
    }) else {
        println!(
            "note: seed not found at {}; skipping the verbatim check",
            seeds.display()
        );
        return;
    };
    let text = std::fs::read_to_string(seed).unwrap();
    let blocks: Vec<&str> = text
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(
        blocks[0],
        seed_config(),
        "config/config.example.yaml differs from the seed"
    );
    assert_eq!(
        blocks[1],
        seed_tables(),
        "config/tables.example.yaml differs from the seed"
    );
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let perf = std::fs::read_to_string(data.join("seed_performance.yaml")).unwrap();
    let alerts = std::fs::read_to_string(data.join("seed_alerts.yaml")).unwrap();
    assert!(
        blocks.contains(&perf.as_str()),
        "tests/data/seed_performance.yaml"
    );
    assert!(
        blocks.contains(&alerts.as_str()),
        "tests/data/seed_alerts.yaml"
    );
}

#[test]
fn seed_config_and_tables_load_as_written_and_merge() {
    let cfg = Config::load_with_env(
        &repo().join("config/config.example.yaml"),
        Some(&repo().join("config/tables.example.yaml")),
        &no_env,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let src = cfg.mysql.source.as_ref().unwrap();
    assert_eq!((src.host.as_str(), src.port), ("localhost", 3306));
    assert_eq!(src.user, "binlog_reader");
    assert_eq!(src.password.expose(), "password");
    assert_eq!(src.charset, "utf8mb4");
    assert_eq!(src.binlog.server_id, 1001);
    assert_eq!(src.binlog.log_file, "");
    assert_eq!(src.binlog.log_pos, 4);
    assert!(src.binlog.auto_position);
    assert_eq!(src.tls, TlsMode::Preferred);
    let st = cfg.mysql.storage.as_ref().unwrap();
    assert_eq!(
        (st.user.as_str(), st.database.as_str()),
        ("storage_user", "binlog_analysis")
    );

    assert_eq!(cfg.processing.batch_size, 1000);
    assert_eq!(cfg.processing.flush_interval, Duration::from_secs(5));
    assert_eq!(cfg.processing.worker_threads, 4);
    assert_eq!(cfg.storage.primary, StorageKind::Mysql);
    assert_eq!(cfg.storage.backup, vec![StorageKind::Elasticsearch]);
    assert_eq!(cfg.storage.retention_days, 90);

    // Three tables: users and orders merged from both files, products from
    // config.yaml only.
    let names: Vec<String> = cfg
        .tables
        .entries
        .iter()
        .map(|t| t.pattern.to_string())
        .collect();
    assert_eq!(
        names,
        ["ecommerce.users", "ecommerce.orders", "ecommerce.products"]
    );
    let users = &cfg.tables.entries[0];
    assert_eq!(
        users.track_columns.as_deref().unwrap(),
        [
            "id",
            "username",
            "email",
            "phone",
            "status",
            "created_at",
            "updated_at"
        ],
        "tables.yaml's track_columns replace config.yaml's"
    );
    assert_eq!(users.sensitive_columns, ["password", "phone"]);
    assert_eq!(users.primary_key.as_deref().unwrap(), ["id"]);
    assert_eq!(users.description.as_deref(), Some("用户基础信息表"));
    assert_eq!(users.origins.len(), 2);
    assert_eq!(users.rules.len(), 2);
    assert_eq!(users.rules[0].name, "status_change");
    assert!(users.rules[0].alert && !users.rules[0].track);
    assert_eq!(users.rules[0].priority, Priority::Medium);
    assert_eq!(users.rules[1].priority, Priority::High);
    assert_eq!(
        users.rules[1].origin.path,
        "tables.ecommerce.users.rules[1]"
    );
    assert_eq!(
        users.rules[1].origin.file,
        repo()
            .join("config/tables.example.yaml")
            .display()
            .to_string()
    );
    let orders = &cfg.tables.entries[1];
    assert_eq!(orders.rules[0].condition, "NEW.amount > 10000");
    assert!(orders.rules[1].track && !orders.rules[1].alert);
    let products = &cfg.tables.entries[2];
    assert_eq!(
        products.operations,
        [Operation::Insert, Operation::Update, Operation::Delete]
    );
    assert_eq!(
        products.track_columns.as_deref().unwrap(),
        ["id", "name", "price", "stock"]
    );
    assert!(products.rules.is_empty());

    // Defaults of our own settings.
    assert_eq!(cfg.api.listen, "127.0.0.1:8080");
    assert_eq!(cfg.masking.default_strategy, MaskStrategy::Hash);
    assert_eq!(
        cfg.masking.effective_query_policy(cfg.any_sensitive()),
        QueryPolicy::Redact
    );
    assert_eq!(
        cfg.storage.sqlite_path(),
        PathBuf::from("data/binlog-analyzer.sqlite")
    );

    // Elasticsearch is accepted with a warning, not an error.
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.path == "storage.backup[0]" && w.message.contains("elasticsearch")),
        "{:?}",
        cfg.warnings
    );
    assert!(cfg
        .notes
        .iter()
        .any(|n| n.contains("ecommerce.users") && n.contains("track_columns")));

    let report = check_report(&cfg);
    assert!(report.contains("ecommerce.orders"), "{report}");
    assert!(
        report.contains("rule user_deletion [alert high]: operation = 'DELETE'"),
        "{report}"
    );
    assert!(report.contains("phone (hash)"), "{report}");
    assert!(
        report.contains("password (not tracked: never stored)"),
        "{report}"
    );
    assert!(report.trim_end().ends_with("warning(s))"), "{report}");
}

#[test]
fn seed_performance_and_alerts_blocks_are_accepted() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let text = format!(
        "{}{}{}",
        seed_config(),
        std::fs::read_to_string(data.join("seed_performance.yaml")).unwrap(),
        std::fs::read_to_string(data.join("seed_alerts.yaml")).unwrap()
    );
    let cfg = load(&text, Some(&seed_tables())).unwrap_or_else(|e| panic!("{e}"));
    let b = cfg.batch_settings();
    assert_eq!(
        (b.batch_size, b.flush_interval),
        (5000, Duration::from_secs(10))
    );
    assert_eq!(b.max_buffered, 100_000);
    let a = &cfg.alerts;
    assert_eq!(
        a.binlog_lag.as_ref().unwrap().threshold,
        Duration::from_secs(300)
    );
    assert_eq!(
        a.error_rate.as_ref().unwrap().window,
        Duration::from_secs(300)
    );
    assert_eq!(a.bulk_operations.as_ref().unwrap().threshold, 10_000);
    assert_eq!(
        a.bulk_operations.as_ref().unwrap().window,
        Duration::from_secs(60)
    );
    assert_eq!(
        cfg.performance.cache.cache_ttl,
        Some(Duration::from_secs(3600))
    );
    let warned: Vec<&str> = cfg.warnings.iter().map(|w| w.path.as_str()).collect();
    for path in [
        "performance.memory.gc_threshold",
        "performance.cache.enabled",
        "alerts.binlog_lag.channels[0]",
        "alerts.error_rate.channels[0]",
        "alerts.bulk_operations.channels[1]",
    ] {
        assert!(warned.contains(&path), "no warning for {path}: {warned:?}");
    }
    // `batch_processing.enabled: false` writes each transaction at once.
    let off = text.replace(
        "    enabled: true\n    batch_size: 5000",
        "    enabled: false\n    batch_size: 5000",
    );
    let cfg = load(&off, None).unwrap();
    assert_eq!(cfg.batch_settings().batch_size, 1);
    assert_eq!(cfg.batch_settings().flush_interval, Duration::ZERO);
}

/// Each broken variant: (what, config.yaml, tables.yaml, file, key path,
/// words of the expectation).
#[test]
fn broken_variants_name_file_key_path_and_expectation() {
    let c = seed_config();
    let t = seed_tables();
    let cases: Vec<(&str, String, String, &str, &str, &str)> = vec![
        (
            "unknown key",
            c.replace("    charset: \"utf8mb4\"", "    charset: \"utf8mb4\"\n    hostt: x"),
            t.clone(),
            "config.yaml",
            "mysql.source.hostt",
            "unknown field `hostt`, expected one of `host`",
        ),
        (
            "port not a number",
            c.replace("port: 3306\n    user: \"binlog_reader\"", "port: \"abc\"\n    user: \"binlog_reader\""),
            t.clone(),
            "config.yaml",
            "mysql.source.port",
            "expected u16",
        ),
        (
            "port out of range",
            c.replace("port: 3306\n    user: \"binlog_reader\"", "port: 70000\n    user: \"binlog_reader\""),
            t.clone(),
            "config.yaml",
            "mysql.source.port",
            "u16",
        ),
        (
            "unknown operation",
            c.replacen(
                "operations: [\"INSERT\", \"UPDATE\", \"DELETE\"]\n      track_columns: [\"id\", \"user_id\"",
                "operations: [\"INSERT\", \"MERGE\"]\n      track_columns: [\"id\", \"user_id\"",
                1,
            ),
            t.clone(),
            "config.yaml",
            "tables.target_tables[1].operations[1]",
            "expected INSERT, UPDATE or DELETE",
        ),
        (
            "condition does not parse",
            c.clone(),
            t.replacen("condition: \"OLD.status != NEW.status\"", "condition: \"OLD.status !=\"", 1),
            "tables.yaml",
            "tables.ecommerce.users.rules[0].condition",
            "does not parse as SQL",
        ),
        (
            "condition names a column the table lacks",
            c.clone(),
            t.replace("NEW.amount > 10000", "NEW.amountt > 10000"),
            "tables.yaml",
            "tables.ecommerce.orders.rules[0].condition",
            "names column `amountt`",
        ),
        (
            "unknown priority",
            c.clone(),
            t.replace("priority: \"high\"", "priority: \"urgent\""),
            "tables.yaml",
            "tables.ecommerce.users.rules[1].priority",
            "expected one of `low`, `medium`, `high`, `critical`",
        ),
        (
            "operation compared in lower case",
            c.clone(),
            t.replace("operation = 'DELETE'", "operation = 'delete'"),
            "tables.yaml",
            "tables.ecommerce.users.rules[1].condition",
            "'INSERT', 'UPDATE' or 'DELETE'",
        ),
        (
            "rule without condition",
            c.clone(),
            t.replacen("        condition: \"OLD.status != NEW.status\"\n        alert: true", "        alert: true", 1),
            "tables.yaml",
            "tables.ecommerce.users.rules[0]",
            "missing field `condition`",
        ),
        (
            "unknown key in a rule",
            c.clone(),
            t.replacen("        track: true", "        trak: true", 1),
            "tables.yaml",
            "tables.ecommerce.orders.rules[1].trak",
            "unknown field `trak`",
        ),
        (
            "track_columns not a list",
            c.clone(),
            t.replacen(
                "track_columns: [\"id\", \"user_id\", \"amount\", \"status\", \"created_at\"]",
                "track_columns: \"id\"",
                1,
            ),
            "tables.yaml",
            "tables.ecommerce.orders.track_columns",
            "expected a sequence",
        ),
        (
            "table key without a database",
            c.clone(),
            t.replace("  ecommerce.orders:", "  orders:"),
            "tables.yaml",
            "tables.orders",
            "expected a `database.table` key",
        ),
        (
            "batch size zero",
            c.replace("batch_size: 1000", "batch_size: 0"),
            t.clone(),
            "config.yaml",
            "processing.batch_size",
            "expected at least 1",
        ),
        (
            "flush interval not a duration",
            c.replace("flush_interval: 5", "flush_interval: \"soon\""),
            t.clone(),
            "config.yaml",
            "processing.flush_interval",
            "a duration",
        ),
        (
            "unknown storage",
            c.replace("primary: \"mysql\"", "primary: \"oracle\""),
            t.clone(),
            "config.yaml",
            "storage.primary",
            "expected one of `sqlite`, `mysql`",
        ),
        (
            "mysql store without mysql.storage",
            c.replace(
                "  storage:\n    host: \"localhost\"\n    port: 3306\n    user: \"storage_user\"\n    password: \"password\"\n    database: \"binlog_analysis\"\n",
                "",
            ),
            t.clone(),
            "config.yaml",
            "storage.primary",
            "needs a `mysql.storage` block",
        ),
        (
            "negative retention",
            c.replace("retention_days: 90", "retention_days: -1"),
            t.clone(),
            "config.yaml",
            "storage.retention_days",
            "u32",
        ),
        (
            "unknown key in tables.yaml's top level",
            c.clone(),
            format!("{t}\nmysql:\n  source: {{}}\n"),
            "tables.yaml",
            "mysql",
            "unknown field `mysql`, expected `tables`",
        ),
        (
            "unset environment variable",
            c.replace("password: \"password\"\n    charset", "password: \"${SOURCE_PW}\"\n    charset"),
            t.clone(),
            "config.yaml",
            "mysql.source.password",
            "SOURCE_PW is not set",
        ),
        (
            "bad YAML",
            c.replace("  batch_size: 1000", " batch_size: 1000"),
            t.clone(),
            "config.yaml",
            "",
            "line",
        ),
        (
            "duplicate target table",
            c.replace("table: \"orders\" ", "table: \"users\" "),
            t.clone(),
            "config.yaml",
            "tables.target_tables[1]",
            "ecommerce.users is already configured at tables.target_tables[0]",
        ),
        (
            "unknown function in condition",
            c.clone(),
            t.replace("NEW.amount > 10000", "frobnicate(NEW.amount) > 10000"),
            "tables.yaml",
            "tables.ecommerce.orders.rules[0].condition",
            "unknown function `frobnicate`",
        ),
    ];
    assert!(cases.len() >= 12);
    let mut failures = Vec::new();
    for (what, config, tables, file, path, expected) in cases {
        let err = match load(&config, Some(&tables)) {
            Ok(_) => {
                failures.push(format!("{what}: loaded without error"));
                continue;
            }
            Err(e) => e,
        };
        let hit = err
            .issues
            .iter()
            .any(|i| i.file == file && i.path == path && i.message.contains(expected));
        // The rendered message carries all three.
        let text = err.to_string();
        if !(hit && text.contains(file) && text.contains(path) && text.contains(expected)) {
            failures.push(format!(
                "{what}: expected {file}: {path}: …{expected}…, got:\n{text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn validation_collects_every_error_at_once() {
    let bad = "processing:\n  batch_size: 0\n  worker_threads: 0\napi:\n  listen: \"8080\"\nmasking:\n  hash_key: \"short\"\nstorage:\n  primary: mysql\n";
    let err = load(bad, None).unwrap_err();
    let paths: Vec<&str> = err.issues.iter().map(|i| i.path.as_str()).collect();
    for p in [
        "processing.batch_size",
        "processing.worker_threads",
        "api.listen",
        "masking.hash_key",
        "storage.primary",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
}

#[test]
fn secrets_come_from_the_environment_and_never_print() {
    let c = seed_config().replace(
        "password: \"password\"\n    charset",
        "password: \"${SRC_PW}\"\n    charset",
    );
    let env = |name: &str| match name {
        "SRC_PW" => Some("from-env-Zq9".to_string()),
        "BINLOG_ANALYZER_STORAGE_PASSWORD" => Some("store-secret-Xk2".to_string()),
        "BINLOG_ANALYZER_API_TOKEN" => Some("token-Wm7".to_string()),
        _ => None,
    };
    let cfg = Config::from_yaml(&c, "c.yaml", Some((&seed_tables(), "t.yaml")), &env).unwrap();
    assert_eq!(
        cfg.mysql.source.as_ref().unwrap().password.expose(),
        "from-env-Zq9"
    );
    assert_eq!(
        cfg.mysql.storage.as_ref().unwrap().password.expose(),
        "store-secret-Xk2"
    );
    assert_eq!(cfg.api.token.as_ref().unwrap().expose(), "token-Wm7");
    let shown = format!("{cfg:?}\n{}", check_report(&cfg));
    for secret in ["from-env-Zq9", "store-secret-Xk2", "token-Wm7"] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
    assert!(cfg
        .notes
        .iter()
        .any(|n| n.contains("BINLOG_ANALYZER_STORAGE_PASSWORD")));
    assert_eq!(ENV_OVERRIDES.len(), 4);
}

#[test]
fn empty_and_minimal_configs_get_defaults() {
    let cfg = load("", None).unwrap();
    assert!(cfg.tables.entries.is_empty());
    assert_eq!(cfg.storage.primary, StorageKind::Sqlite);
    assert!(cfg.warnings.iter().any(|w| w.path == "mysql"));
    let cfg = load("mysql:\n  source:\n    user: repl\n", None).unwrap();
    let src = cfg.mysql.source.unwrap();
    assert_eq!(src.binlog.server_id, 4242);
    assert_eq!(src.heartbeat_period, Duration::from_secs(2));
    assert_eq!(src.read_timeout, Duration::from_secs(30));
}

#[test]
fn heartbeat_period_and_read_timeout_are_settable_and_checked() {
    let cfg = load(
        "mysql:\n  source:\n    user: repl\n    heartbeat_period: 500ms\n    read_timeout: 5\n",
        None,
    )
    .unwrap();
    let src = cfg.mysql.source.unwrap();
    assert_eq!(src.heartbeat_period, Duration::from_millis(500));
    assert_eq!(src.read_timeout, Duration::from_secs(5));

    let err = |yaml: &str| load(yaml, None).unwrap_err().to_string();
    let e = err("mysql:\n  source:\n    user: repl\n    heartbeat_period: 0\n");
    assert!(
        e.contains("mysql.source.heartbeat_period") && e.contains("1ms"),
        "{e}"
    );
    let e = err(
        "mysql:\n  source:\n    user: repl\n    heartbeat_period: 10s\n    read_timeout: 10s\n",
    );
    assert!(
        e.contains("mysql.source.read_timeout") && e.contains("longer"),
        "{e}"
    );
    let e = err("mysql:\n  source:\n    user: repl\n    heartbeat_period: soon\n");
    assert!(
        e.contains("mysql.source.heartbeat_period") && e.contains("duration"),
        "{e}"
    );
}

#[test]
fn wildcards_and_exclude_and_per_column_masking_parse() {
    let tables = r#"
tables:
  shop.order_*:
    operations: [insert, Update]
    sensitive_columns: [card]
    masking:
      card: {strategy: partial, keep_last: 4}
      email: partial
  exclude: ["shop.order_archive"]
"#;
    let cfg = load("", Some(tables)).unwrap();
    let e = &cfg.tables.entries[0];
    assert!(!e.pattern.is_exact());
    assert_eq!(e.operations, [Operation::Insert, Operation::Update]);
    let masked = e.masked_columns(MaskStrategy::Hash);
    assert_eq!(masked.len(), 2);
    assert_eq!(masked[0].0, "card");
    assert_eq!(masked[0].1.keep_last, Some(4));
    assert_eq!(masked[1].0, "email");
    assert_eq!(cfg.tables.exclude.len(), 1);
    let err = load(
        "",
        Some("tables:\n  a.b:\n    masking:\n      x: scramble\n"),
    )
    .unwrap_err();
    assert_eq!(err.issues[0].path, "tables.a.b.masking.x");
    assert!(
        err.issues[0].message.contains("hash, partial or redact"),
        "{err}"
    );
}
