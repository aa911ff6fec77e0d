//! Configuration: the seed's `config.yaml` and `tables.yaml`, loaded as
//! written, plus optional settings of our own with defaults.
//!
//! Loading has two steps (as vector's `validate` and build):
//! - [`Config::parse`]: YAML syntax, types, unknown keys (errors, never
//!   ignored), `${ENV}` interpolation, table keys and the merge of the two
//!   files. Every error names the file, the key path
//!   (`tables.ecommerce.users.rules[1].condition`) and what was expected.
//! - [`Config::validate`]: meaning — rule conditions parse and name columns
//!   the table has, ports, sizes, storage and channel references — as a list
//!   of errors and warnings.
//!
//! [`Config::load`] does both. See `config/README.md` at the repository root
//! for every key.
//!
//! ## The two files
//! `config.yaml` holds every section; `tables.yaml` holds only `tables:`.
//! The `tables:` section, in either file, takes the seed's
//! `target_tables:` list (items name `database` and `table`) and/or
//! `database.table:` keys (exact names or wildcards `*`, `?`), plus
//! `include:` / `exclude:` pattern lists. An entry for the same pattern in
//! both files is merged key by key, the `tables.yaml` value winning (the
//! seed's `tables.yaml` is the detailed one).
//!
//! ## Secrets from the environment
//! Any string value may contain `${NAME}` (error if unset) or
//! `${NAME:-default}`; `$$` is a literal `$`. Interpolation applies to
//! string values only (not to numbers or keys). After loading, these
//! variables, when set and non-empty, override the file:
//! `BINLOG_ANALYZER_SOURCE_PASSWORD` (mysql.source.password),
//! `BINLOG_ANALYZER_STORAGE_PASSWORD` (mysql.storage.password),
//! `BINLOG_ANALYZER_API_TOKEN` (api.token),
//! `BINLOG_ANALYZER_HASH_KEY` (masking.hash_key).
//!
//! ## Paths
//! A relative path written in a config file is relative to that file's
//! directory (so a config works from any working directory); the default
//! `storage.data_dir` is `data` in the working directory.

mod de;
mod report;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_norway::Value as Yaml;

pub use de::{interpolate_str, parse_duration, Secret};
pub use report::check_report;

use crate::filter::TablePattern;
use crate::mask::{MaskSpec, MaskStrategy};
use crate::record::Operation;
use crate::rules::Priority;
use de::{RawRule, RawTable, RawTables};

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The file, as given.
    pub file: String,
    /// Key path, e.g. `tables.ecommerce.users.rules[1].condition`; empty
    /// for the whole file.
    pub path: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(
        file: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigIssue {
            file: file.into(),
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

/// A config that cannot be used: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl From<Vec<ConfigIssue>> for ConfigError {
    fn from(issues: Vec<ConfigIssue>) -> Self {
        ConfigError { issues }
    }
}

/// Result of [`Config::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    pub errors: Vec<ConfigIssue>,
    /// Settings that are accepted but have no effect, or look risky.
    pub warnings: Vec<ConfigIssue>,
}

/// The files a config came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFiles {
    pub config: String,
    pub tables: Option<String>,
}

/// The whole configuration, both files merged.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub files: ConfigFiles,
    pub mysql: MysqlConfig,
    pub tables: TablesConfig,
    pub processing: ProcessingConfig,
    pub storage: StorageConfig,
    pub performance: PerformanceConfig,
    pub alerts: AlertsConfig,
    pub masking: MaskingConfig,
    pub api: ApiConfig,
    /// What the loader decided that a reader should know (merged table
    /// entries, secrets taken from the environment).
    pub notes: Vec<String>,
    /// Warnings from [`Config::validate`] (filled by [`Config::load`]).
    pub warnings: Vec<ConfigIssue>,
}

/// The `mysql:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MysqlConfig {
    /// Where binlogs come from. `None` when the section is absent.
    pub source: Option<SourceSettings>,
    /// The MySQL/MariaDB store (`storage.primary: mysql`).
    pub storage: Option<MysqlStorageSettings>,
}

/// TLS on a connection (names as MySQL's `--ssl-mode`, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    #[serde(alias = "disabled")]
    Off,
    #[default]
    Preferred,
    Required,
    #[serde(alias = "verify_ca")]
    VerifyCa,
    #[serde(alias = "verify_identity")]
    VerifyIdentity,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Off => "off",
            TlsMode::Preferred => "preferred",
            TlsMode::Required => "required",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyIdentity => "verify-identity",
        }
    }
}

/// `mysql.source`: the server to replicate from, or local binlog files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub charset: String,
    pub binlog: BinlogSettings,
    /// Ours: TLS mode (default `preferred`).
    pub tls: TlsMode,
    /// Ours: PEM CA bundle for `verify-ca` / `verify-identity`.
    pub ca_file: Option<PathBuf>,
    /// Ours: fill in column names etc. from information_schema + DDL when
    /// the binlog lacks them (default true).
    pub track_schema: bool,
    /// Ours: read these binlog files instead of a server (no connection).
    pub files: Vec<PathBuf>,
    /// Ours: how often an idle source sends a heartbeat (default 2 s). It
    /// also bounds how stale the lag figure gets while nothing is written.
    #[serde(deserialize_with = "de::duration")]
    pub heartbeat_period: Duration,
    /// Ours: no packet from the source for this long, heartbeats included,
    /// means the link is dead and is reconnected (default 30 s; must be
    /// longer than `heartbeat_period`).
    #[serde(deserialize_with = "de::duration")]
    pub read_timeout: Duration,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            host: "localhost".into(),
            port: 3306,
            user: String::new(),
            password: Secret::default(),
            charset: "utf8mb4".into(),
            binlog: BinlogSettings::default(),
            tls: TlsMode::default(),
            ca_file: None,
            track_schema: true,
            files: Vec::new(),
            heartbeat_period: Duration::from_secs(2),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// `mysql.source.binlog`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinlogSettings {
    /// This replica's server id, unique among the source's replicas.
    pub server_id: u32,
    /// First binlog file to read; empty = the server's current end.
    pub log_file: String,
    /// Offset in `log_file` (4 = its first event).
    pub log_pos: u64,
    /// Resume by GTID (MySQL auto-position / MariaDB slave_connect_state)
    /// rather than by file and offset.
    pub auto_position: bool,
}

impl Default for BinlogSettings {
    fn default() -> Self {
        BinlogSettings {
            server_id: 4242,
            log_file: String::new(),
            log_pos: 4,
            auto_position: false,
        }
    }
}

/// `mysql.storage`: the MySQL/MariaDB database the records are stored in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MysqlStorageSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub database: String,
    /// Ours.
    pub charset: String,
    /// Ours.
    pub tls: TlsMode,
    /// Ours.
    pub ca_file: Option<PathBuf>,
}

impl Default for MysqlStorageSettings {
    fn default() -> Self {
        MysqlStorageSettings {
            host: "localhost".into(),
            port: 3306,
            user: String::new(),
            password: Secret::default(),
            database: "binlog_analysis".into(),
            charset: "utf8mb4".into(),
            tls: TlsMode::default(),
            ca_file: None,
        }
    }
}

/// The `tables:` sections of both files, merged.
#[derive(Debug, Clone, Default)]
pub struct TablesConfig {
    /// In declaration order: `config.yaml` first, then `tables.yaml`
    /// entries that were not merged into one of them. An empty list means
    /// every table (minus `exclude`).
    pub entries: Vec<TableConfig>,
    /// Tables never processed, even if an entry matches.
    pub exclude: Vec<TablePattern>,
}

/// Where a config value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub path: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.path)
    }
}

/// One monitored table (or wildcard pattern) and what to do with it.
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub pattern: TablePattern,
    /// Operations kept (default all three).
    pub operations: Vec<Operation>,
    /// Columns kept in the stored images; `None` = all. Primary-key
    /// columns are always kept.
    pub track_columns: Option<Vec<String>>,
    /// Columns masked everywhere (see [`crate::mask`]). Columns named under
    /// `masking:` are sensitive too.
    pub sensitive_columns: Vec<String>,
    /// Per-column strategy; sensitive columns not listed use
    /// `masking.default_strategy`.
    pub masking: BTreeMap<String, MaskSpec>,
    /// Overrides the primary key the binlog/schema reports.
    pub primary_key: Option<Vec<String>>,
    pub description: Option<String>,
    pub rules: Vec<RuleConfig>,
    /// The entries this table was built from (one, or two when merged).
    pub origins: Vec<Origin>,
}

impl TableConfig {
    fn new(pattern: TablePattern, origin: Origin) -> Self {
        TableConfig {
            pattern,
            operations: vec![Operation::Insert, Operation::Update, Operation::Delete],
            track_columns: None,
            sensitive_columns: Vec::new(),
            masking: BTreeMap::new(),
            primary_key: None,
            description: None,
            rules: Vec::new(),
            origins: vec![origin],
        }
    }

    /// The entry used when no tables are configured: `*.*`, defaults.
    pub fn catch_all(origin: Origin) -> Self {
        TableConfig::new(TablePattern::new("*", "*"), origin)
    }

    /// Every sensitive column with its masking (sensitive_columns and
    /// masking keys), lower-cased names.
    pub fn masked_columns(&self, default: MaskStrategy) -> Vec<(String, MaskSpec)> {
        let mut out: Vec<(String, MaskSpec)> = Vec::new();
        for c in &self.sensitive_columns {
            let spec = self
                .masking
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(c))
                .map(|(_, s)| *s)
                .unwrap_or(MaskSpec::new(default));
            if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(c)) {
                out.push((c.to_ascii_lowercase(), spec));
            }
        }
        for (c, spec) in &self.masking {
            if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(c)) {
                out.push((c.to_ascii_lowercase(), *spec));
            }
        }
        out
    }

    /// Column names this config says the table has (for checking rules
    /// without a server): track_columns ∪ primary_key ∪ sensitive columns.
    /// `None` when track_columns is absent (all columns, names unknown).
    pub fn known_columns(&self) -> Option<Vec<String>> {
        let track = self.track_columns.as_ref()?;
        let mut out: Vec<String> = track.clone();
        out.extend(self.primary_key.iter().flatten().cloned());
        out.extend(self.sensitive_columns.iter().cloned());
        out.extend(self.masking.keys().cloned());
        Some(out)
    }
}

/// One rule of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    pub name: String,
    /// SQL expression (see [`crate::rules`]).
    pub condition: String,
    /// Raise an alert when the condition is true.
    pub alert: bool,
    /// Tag matching changes with the rule name.
    pub track: bool,
    /// Alert priority (default medium).
    pub priority: Priority,
    pub description: Option<String>,
    /// Alert channels (names under `alerts.channels` or built-in kinds);
    /// empty = stored and logged only.
    pub channels: Vec<String>,
    pub origin: Origin,
}

/// `processing:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessingConfig {
    /// Changes per batch (each batch and its checkpoint commit together).
    pub batch_size: usize,
    /// A batch is written at the latest this long after its first change.
    #[serde(deserialize_with = "de::duration")]
    pub flush_interval: Duration,
    pub worker_threads: usize,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        ProcessingConfig {
            batch_size: 1000,
            flush_interval: Duration::from_secs(5),
            worker_threads: 4,
        }
    }
}

/// A storage backend name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// The embedded default: one SQLite file under `storage.data_dir`.
    #[default]
    Sqlite,
    Mysql,
    /// Named by the seed; not implemented by this build.
    Elasticsearch,
    /// Named by the seed; not implemented by this build.
    Clickhouse,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Sqlite => "sqlite",
            StorageKind::Mysql => "mysql",
            StorageKind::Elasticsearch => "elasticsearch",
            StorageKind::Clickhouse => "clickhouse",
        }
    }
    /// Whether this build has a store for it.
    pub fn is_supported(self) -> bool {
        matches!(self, StorageKind::Sqlite | StorageKind::Mysql)
    }
}

/// `storage:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub primary: StorageKind,
    pub backup: Vec<StorageKind>,
    /// Records and rollups older than this are purged; 0 keeps everything.
    pub retention_days: u32,
    /// Ours: how often the purge runs.
    #[serde(deserialize_with = "de::duration")]
    pub purge_interval: Duration,
    /// Ours: where the embedded store (and the generated masking key) live
    /// (default `data` in the working directory).
    pub data_dir: PathBuf,
    /// Ours.
    pub sqlite: SqliteSettings,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            primary: StorageKind::Sqlite,
            backup: Vec::new(),
            retention_days: 0,
            purge_interval: Duration::from_secs(3600),
            data_dir: PathBuf::new(),
            sqlite: SqliteSettings::default(),
        }
    }
}

impl StorageConfig {
    /// The SQLite file: `storage.sqlite.path`, else
    /// `<data_dir>/binlog-analyzer.sqlite`.
    pub fn sqlite_path(&self) -> PathBuf {
        self.sqlite
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("binlog-analyzer.sqlite"))
    }
    /// Primary first, then backups.
    pub fn all(&self) -> Vec<StorageKind> {
        let mut out = vec![self.primary];
        out.extend(self.backup.iter().copied());
        out
    }
}

/// `storage.sqlite`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteSettings {
    pub path: Option<PathBuf>,
}

/// `performance:` (the seed's tuning block).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerformanceConfig {
    /// When present and enabled, its sizes override `processing:`'s;
    /// `enabled: false` writes every transaction as soon as it commits.
    pub batch_processing: Option<BatchProcessing>,
    pub memory: MemorySettings,
    pub concurrency: ConcurrencySettings,
    pub cache: CacheSettings,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchProcessing {
    pub enabled: bool,
    pub batch_size: Option<usize>,
    #[serde(deserialize_with = "de::opt_duration")]
    pub flush_interval: Option<Duration>,
}

impl Default for BatchProcessing {
    fn default() -> Self {
        BatchProcessing {
            enabled: true,
            batch_size: None,
            flush_interval: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySettings {
    /// Most changes held in memory before a batch is forced out, even in
    /// the middle of a huge transaction.
    pub max_events_in_memory: usize,
    /// Accepted for compatibility; Rust has no garbage collector to tune.
    pub gc_threshold: Option<usize>,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            max_events_in_memory: 100_000,
            gc_threshold: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConcurrencySettings {
    pub reader_threads: Option<usize>,
    pub processor_threads: Option<usize>,
    pub storage_threads: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    /// Accepted; this build has no Redis cache (stats come from rollups).
    pub enabled: bool,
    pub redis_url: Option<String>,
    #[serde(deserialize_with = "de::opt_duration")]
    pub cache_ttl: Option<Duration>,
}

/// Batching as in effect after `processing:` and `performance:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    pub batch_size: usize,
    pub flush_interval: Duration,
    /// A transaction larger than this is written in parts (see
    /// [`crate::batch`]).
    pub max_buffered: usize,
}

/// `alerts:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Binlog processing lag above `threshold` (seconds).
    pub binlog_lag: Option<LagAlert>,
    /// Share of failed events over `window` above `threshold` (0–1).
    pub error_rate: Option<RateAlert>,
    /// More than `threshold` changes to one table within `window`.
    pub bulk_operations: Option<BulkAlert>,
    /// Ours: where each channel delivers. A channel named in an alert but
    /// not configured here only stores and logs.
    pub channels: BTreeMap<String, ChannelConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LagAlert {
    #[serde(deserialize_with = "de::duration")]
    pub threshold: Duration,
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateAlert {
    pub threshold: f64,
    #[serde(default = "five_minutes", deserialize_with = "de::duration")]
    pub window: Duration,
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkAlert {
    pub threshold: u64,
    #[serde(default = "one_minute", deserialize_with = "de::duration")]
    pub window: Duration,
    #[serde(default)]
    pub channels: Vec<String>,
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn one_minute() -> Duration {
    Duration::from_secs(60)
}

/// How a channel delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Log,
    Webhook,
    Slack,
    Email,
    Sms,
}

impl ChannelKind {
    pub fn from_name(name: &str) -> Option<ChannelKind> {
        match name {
            "log" => Some(ChannelKind::Log),
            "webhook" => Some(ChannelKind::Webhook),
            "slack" => Some(ChannelKind::Slack),
            "email" => Some(ChannelKind::Email),
            "sms" => Some(ChannelKind::Sms),
            _ => None,
        }
    }
}

/// `alerts.channels.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Defaults to the channel's name when that is a kind (`webhook:`).
    #[serde(rename = "type", default)]
    pub kind: Option<ChannelKind>,
    /// Webhook / Slack incoming-webhook URL.
    #[serde(default)]
    pub url: Option<Secret>,
    /// Email addresses or phone numbers.
    #[serde(default)]
    pub to: Vec<String>,
}

/// What happens to the statement text (`query`) of changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryPolicy {
    /// `redact` when any table has sensitive columns, else `keep`.
    #[default]
    Auto,
    Keep,
    /// Literals replaced by `?`; statements that do not tokenize are dropped.
    Redact,
    Drop,
}

/// `masking:` (ours).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaskingConfig {
    /// Key of the `hash` strategy (use `${ENV}`); at least 16 characters.
    pub hash_key: Option<Secret>,
    /// File holding the key; created with a random key when missing.
    /// Default (neither set): `<data_dir>/masking.key`.
    pub hash_key_file: Option<PathBuf>,
    /// Strategy of sensitive columns without their own (default hash).
    pub default_strategy: MaskStrategy,
    pub query: QueryPolicy,
}

impl MaskingConfig {
    /// The query policy in effect given whether any column is sensitive.
    pub fn effective_query_policy(&self, any_sensitive: bool) -> QueryPolicy {
        match self.query {
            QueryPolicy::Auto if any_sensitive => QueryPolicy::Redact,
            QueryPolicy::Auto => QueryPolicy::Keep,
            other => other,
        }
    }
}

/// `api:` (ours).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub enabled: bool,
    /// `host:port`.
    pub listen: String,
    /// Bearer token required by the API when set.
    pub token: Option<Secret>,
    /// Origins allowed to call the API from a browser (CORS); empty = CORS off.
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            listen: "127.0.0.1:8080".into(),
            token: None,
            cors_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawConfigFile {
    mysql: Option<MysqlConfig>,
    tables: Option<RawTables>,
    processing: Option<ProcessingConfig>,
    storage: Option<StorageConfig>,
    performance: Option<PerformanceConfig>,
    alerts: Option<AlertsConfig>,
    masking: Option<MaskingConfig>,
    api: Option<ApiConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTablesFile {
    tables: Option<RawTables>,
}

/// The environment variables that override secrets (see the module docs).
pub const ENV_OVERRIDES: [(&str, &str); 4] = [
    ("BINLOG_ANALYZER_SOURCE_PASSWORD", "mysql.source.password"),
    ("BINLOG_ANALYZER_STORAGE_PASSWORD", "mysql.storage.password"),
    ("BINLOG_ANALYZER_API_TOKEN", "api.token"),
    ("BINLOG_ANALYZER_HASH_KEY", "masking.hash_key"),
];

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Config {
    /// Read, parse and validate `config_path` and, when given, the tables
    /// file. Errors carry every problem found; warnings are kept in
    /// [`Config::warnings`].
    pub fn load(config_path: &Path, tables_path: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with_env(config_path, tables_path, &process_env)
    }

    /// [`Config::load`] with an explicit environment (tests).
    pub fn load_with_env(
        config_path: &Path,
        tables_path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let config_name = config_path.display().to_string();
        let config_text = read(config_path, &config_name)?;
        let tables = match tables_path {
            Some(p) => {
                let name = p.display().to_string();
                let text = read(p, &name)?;
                Some((text, name))
            }
            None => None,
        };
        let cfg = Self::parse(
            &config_text,
            &config_name,
            tables.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
            env,
        )?;
        cfg.validated()
    }

    /// Parse and validate YAML texts (`name`s are used in messages).
    pub fn from_yaml(
        config: &str,
        config_name: &str,
        tables: Option<(&str, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Self::parse(config, config_name, tables, env)?.validated()
    }

    fn validated(mut self) -> Result<Config, ConfigError> {
        let v = self.validate();
        if !v.errors.is_empty() {
            return Err(v.errors.into());
        }
        self.warnings = v.warnings;
        Ok(self)
    }

    /// The `tables.yaml` beside a config file, if it exists:
    /// `config.yaml` → `tables.yaml`, `config.example.yaml` →
    /// `tables.example.yaml`.
    pub fn sibling_tables_path(config_path: &Path) -> Option<PathBuf> {
        let name = config_path.file_name()?.to_str()?;
        let sibling = name.strip_prefix("config")?;
        let candidate = config_path.with_file_name(format!("tables{sibling}"));
        candidate.is_file().then_some(candidate)
    }

    /// Syntax, types, unknown keys, interpolation, table keys and the merge
    /// of the two files — everything needed to build a [`Config`], without
    /// judging its meaning (see [`Config::validate`]).
    pub fn parse(
        config: &str,
        config_name: &str,
        tables: Option<(&str, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut issues = Vec::new();
        let main: Option<RawConfigFile> = parse_yaml(config, config_name, env, &mut issues);
        let side: Option<RawTablesFile> = match tables {
            Some((text, name)) => parse_yaml(text, name, env, &mut issues),
            None => Some(RawTablesFile::default()),
        };
        let (Some(main), Some(side)) = (main, side) else {
            return Err(issues.into());
        };
        let mut cfg = Config {
            files: ConfigFiles {
                config: config_name.to_string(),
                tables: tables.map(|(_, n)| n.to_string()),
            },
            mysql: main.mysql.unwrap_or_default(),
            processing: main.processing.unwrap_or_default(),
            storage: main.storage.unwrap_or_default(),
            performance: main.performance.unwrap_or_default(),
            alerts: main.alerts.unwrap_or_default(),
            masking: main.masking.unwrap_or_default(),
            api: main.api.unwrap_or_default(),
            ..Config::default()
        };
        let mut builder = TablesBuilder::default();
        if let Some(t) = main.tables {
            builder.add_file(t, config_name, &mut issues);
        }
        if let (Some(t), Some((_, name))) = (side.tables, tables) {
            builder.add_file(t, name, &mut issues);
        }
        cfg.tables = builder.finish(&mut cfg.notes);
        cfg.resolve_paths(Path::new(config_name).parent().unwrap_or(Path::new("")));
        cfg.apply_env_overrides(env);
        if issues.is_empty() {
            Ok(cfg)
        } else {
            Err(issues.into())
        }
    }

    /// Written relative paths → relative to the config file's directory.
    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !base.as_os_str().is_empty() && !p.as_os_str().is_empty() {
                *p = base.join(&*p);
            }
        };
        if let Some(src) = self.mysql.source.as_mut() {
            src.files.iter_mut().for_each(fix);
            src.ca_file.iter_mut().for_each(fix);
        }
        if let Some(st) = self.mysql.storage.as_mut() {
            st.ca_file.iter_mut().for_each(fix);
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            self.storage.data_dir = PathBuf::from("data");
        } else {
            fix(&mut self.storage.data_dir);
        }
        self.storage.sqlite.path.iter_mut().for_each(fix);
        self.masking.hash_key_file.iter_mut().for_each(fix);
    }

    fn apply_env_overrides(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        for (var, path) in ENV_OVERRIDES {
            let Some(value) = env(var).filter(|v| !v.is_empty()) else {
                continue;
            };
            let secret = Secret::new(value);
            let applied = match path {
                "mysql.source.password" => {
                    self.mysql
                        .source
                        .get_or_insert_with(Default::default)
                        .password = secret;
                    true
                }
                "mysql.storage.password" => match self.mysql.storage.as_mut() {
                    Some(s) => {
                        s.password = secret;
                        true
                    }
                    None => false,
                },
                "api.token" => {
                    self.api.token = Some(secret);
                    true
                }
                _ => {
                    self.masking.hash_key = Some(secret);
                    true
                }
            };
            if applied {
                self.notes.push(format!("{path} taken from ${var}"));
            }
        }
    }

    /// Batching in effect: `performance.batch_processing` when present and
    /// enabled overrides `processing`; disabled means one transaction per
    /// batch, written at once.
    pub fn batch_settings(&self) -> BatchSettings {
        let max_buffered = self.performance.memory.max_events_in_memory.max(1);
        match &self.performance.batch_processing {
            Some(bp) if !bp.enabled => BatchSettings {
                batch_size: 1,
                flush_interval: Duration::ZERO,
                max_buffered,
            },
            Some(bp) => BatchSettings {
                batch_size: bp.batch_size.unwrap_or(self.processing.batch_size),
                flush_interval: bp.flush_interval.unwrap_or(self.processing.flush_interval),
                max_buffered,
            },
            None => BatchSettings {
                batch_size: self.processing.batch_size,
                flush_interval: self.processing.flush_interval,
                max_buffered,
            },
        }
    }

    /// True when any table masks a column.
    pub fn any_sensitive(&self) -> bool {
        self.tables
            .entries
            .iter()
            .any(|t| !t.sensitive_columns.is_empty() || !t.masking.is_empty())
    }

    /// Where the masking key comes from.
    pub fn hash_key_source(&self) -> HashKeySource {
        match (&self.masking.hash_key, &self.masking.hash_key_file) {
            (Some(k), _) => HashKeySource::Inline(k.clone()),
            (None, Some(p)) => HashKeySource::File(p.clone()),
            (None, None) => HashKeySource::File(self.storage.data_dir.join("masking.key")),
        }
    }

    /// The masking key: inline, or read from its file — created with 32
    /// random bytes (mode 0600) on first use, so hashes stay stable across
    /// restarts.
    pub fn load_hash_key(&self) -> std::io::Result<Vec<u8>> {
        match self.hash_key_source() {
            HashKeySource::Inline(k) => Ok(k.expose().as_bytes().to_vec()),
            HashKeySource::File(p) => crate::mask::load_or_create_key(&p),
        }
    }
}

/// See [`Config::hash_key_source`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashKeySource {
    Inline(Secret),
    File(PathBuf),
}

fn read(path: &Path, name: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::from(vec![ConfigIssue::new(
            name,
            "",
            format!("cannot read: {e}"),
        )])
    })
}

/// YAML → tree → `${ENV}` → typed, with the key path of the first error.
fn parse_yaml<T: DeserializeOwned + Default>(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<T> {
    let mut tree: Yaml = match serde_norway::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            issues.push(ConfigIssue::new(file, "", format!("invalid YAML: {e}")));
            return None;
        }
    };
    if tree.is_null() {
        return Some(T::default());
    }
    if !tree.is_mapping() {
        issues.push(ConfigIssue::new(
            file,
            "",
            "expected a map of sections at the top level",
        ));
        return None;
    }
    if let Err(e) = tree.apply_merge() {
        issues.push(ConfigIssue::new(
            file,
            "",
            format!("invalid YAML merge key: {e}"),
        ));
        return None;
    }
    let before = issues.len();
    de::interpolate(&mut tree, "", env, file, issues);
    if issues.len() > before {
        return None;
    }
    match serde_path_to_error::deserialize::<_, T>(tree) {
        Ok(v) => Some(v),
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            issues.push(ConfigIssue::new(file, path, e.into_inner().to_string()));
            None
        }
    }
}

/// Collects table entries from both files, then merges equal patterns.
#[derive(Default)]
struct TablesBuilder {
    entries: Vec<(TableConfig, RawTable)>,
    exclude: Vec<TablePattern>,
}

impl TablesBuilder {
    fn add_file(&mut self, raw: RawTables, file: &str, issues: &mut Vec<ConfigIssue>) {
        for (i, t) in raw
            .target_tables
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let path = format!("tables.target_tables[{i}]");
            let (db, table) = match (&t.database, &t.table) {
                (Some(d), Some(tb)) if !d.is_empty() && !tb.is_empty() => (d.clone(), tb.clone()),
                (None, _) | (Some(_), None) => {
                    let missing = if t.database.is_none() {
                        "database"
                    } else {
                        "table"
                    };
                    issues.push(ConfigIssue::new(
                        file,
                        &path,
                        format!("missing field `{missing}` (each target table names `database` and `table`)"),
                    ));
                    continue;
                }
                _ => {
                    issues.push(ConfigIssue::new(
                        file,
                        &path,
                        "`database` and `table` must not be empty",
                    ));
                    continue;
                }
            };
            self.add_entry(TablePattern::new(&db, &table), t, file, path, issues);
        }
        for (key, t) in raw.by_name {
            let path = format!("tables.{key}");
            if t.database.is_some() || t.table.is_some() {
                issues.push(ConfigIssue::new(
                    file,
                    &path,
                    "`database`/`table` are given by the key `database.table`; remove them here",
                ));
                continue;
            }
            let Some(pattern) = TablePattern::parse(&key) else {
                issues.push(ConfigIssue::new(
                    file,
                    &path,
                    "expected a `database.table` key (wildcards `*` and `?` allowed) or one of `target_tables`, `include`, `exclude`",
                ));
                continue;
            };
            self.add_entry(pattern, t, file, path, issues);
        }
        for (i, p) in raw.include.unwrap_or_default().into_iter().enumerate() {
            let path = format!("tables.include[{i}]");
            match TablePattern::parse(&p) {
                Some(pattern) => self.add_entry(pattern, RawTable::default(), file, path, issues),
                None => issues.push(ConfigIssue::new(
                    file,
                    path,
                    format!("expected a `database.table` pattern, got {p:?}"),
                )),
            }
        }
        for (i, p) in raw.exclude.unwrap_or_default().into_iter().enumerate() {
            match TablePattern::parse(&p) {
                Some(pattern) => self.exclude.push(pattern),
                None => issues.push(ConfigIssue::new(
                    file,
                    format!("tables.exclude[{i}]"),
                    format!("expected a `database.table` pattern, got {p:?}"),
                )),
            }
        }
    }

    fn add_entry(
        &mut self,
        pattern: TablePattern,
        raw: RawTable,
        file: &str,
        path: String,
        issues: &mut Vec<ConfigIssue>,
    ) {
        let origin = Origin {
            file: file.to_string(),
            path: path.clone(),
        };
        check_raw_table(&raw, file, &path, issues);
        let same_file = self
            .entries
            .iter()
            .find(|(e, _)| e.pattern.same_as(&pattern) && e.origins[0].file == file);
        if let Some((existing, _)) = same_file {
            issues.push(ConfigIssue::new(
                file,
                &path,
                format!(
                    "{pattern} is already configured at {}",
                    existing.origins[0].path
                ),
            ));
            return;
        }
        let mut table = TableConfig::new(pattern, origin.clone());
        apply_raw(&mut table, &raw, &origin);
        self.entries.push((table, raw));
    }

    /// Entries for the same pattern from the two files become one, the
    /// later file's keys replacing the earlier's.
    fn finish(self, notes: &mut Vec<String>) -> TablesConfig {
        let mut out: Vec<(TableConfig, RawTable)> = Vec::new();
        for (table, raw) in self.entries {
            if let Some((base, base_raw)) = out
                .iter_mut()
                .find(|(e, _)| e.pattern.same_as(&table.pattern))
            {
                let origin = table.origins[0].clone();
                let set = apply_raw(base, &raw, &origin);
                let before = set_keys(base_raw);
                let (replaced, added): (Vec<&str>, Vec<&str>) =
                    set.iter().partition(|k| before.contains(k));
                let mut what = Vec::new();
                if !replaced.is_empty() {
                    what.push(format!("replaces {}", replaced.join(", ")));
                }
                if !added.is_empty() {
                    what.push(format!("adds {}", added.join(", ")));
                }
                if !what.is_empty() {
                    notes.push(format!(
                        "{}: {} merged into {}: {}",
                        base.pattern,
                        origin,
                        base.origins[0],
                        what.join("; ")
                    ));
                }
                base.origins.push(origin);
            } else {
                out.push((table, raw));
            }
        }
        TablesConfig {
            entries: out.into_iter().map(|(t, _)| t).collect(),
            exclude: self.exclude,
        }
    }
}

/// Keys a raw entry sets (as [`apply_raw`] names them).
fn set_keys(raw: &RawTable) -> Vec<&'static str> {
    let mut t = TableConfig::catch_all(Origin {
        file: String::new(),
        path: String::new(),
    });
    apply_raw(
        &mut t,
        raw,
        &Origin {
            file: String::new(),
            path: String::new(),
        },
    )
}

/// Checks that need only the raw entry (values of enumerations, empty
/// names, duplicates in lists).
fn check_raw_table(raw: &RawTable, file: &str, path: &str, issues: &mut Vec<ConfigIssue>) {
    if let Some(ops) = &raw.operations {
        if ops.is_empty() {
            issues.push(ConfigIssue::new(
                file,
                format!("{path}.operations"),
                "expected at least one of INSERT, UPDATE, DELETE",
            ));
        }
        for (i, op) in ops.iter().enumerate() {
            if Operation::parse(op).is_none() {
                issues.push(ConfigIssue::new(
                    file,
                    format!("{path}.operations[{i}]"),
                    format!("expected INSERT, UPDATE or DELETE, got {op:?}"),
                ));
            }
        }
    }
    let lists = [
        ("track_columns", raw.track_columns.as_ref()),
        ("sensitive_columns", raw.sensitive_columns.as_ref()),
        ("primary_key", raw.primary_key.as_ref()),
    ];
    for (key, list) in lists {
        let Some(list) = list else { continue };
        if key == "primary_key" && list.is_empty() {
            issues.push(ConfigIssue::new(
                file,
                format!("{path}.{key}"),
                "expected a column name or a non-empty list of column names",
            ));
        }
        for (i, col) in list.iter().enumerate() {
            let at = if key == "primary_key" && list.len() == 1 {
                format!("{path}.{key}")
            } else {
                format!("{path}.{key}[{i}]")
            };
            if col.trim().is_empty() {
                issues.push(ConfigIssue::new(
                    file,
                    at,
                    "expected a column name, got an empty string",
                ));
            } else if list[..i].iter().any(|c| c.eq_ignore_ascii_case(col)) {
                issues.push(ConfigIssue::new(
                    file,
                    at,
                    format!("column {col:?} is listed twice"),
                ));
            }
        }
    }
    if let Some(rules) = &raw.rules {
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("{path}.rules[{i}]");
            if rule.name.trim().is_empty() {
                issues.push(ConfigIssue::new(
                    file,
                    format!("{at}.name"),
                    "expected a rule name, got an empty string",
                ));
            } else if rules[..i].iter().any(|r| r.name == rule.name) {
                issues.push(ConfigIssue::new(
                    file,
                    format!("{at}.name"),
                    format!("rule name {:?} is used twice in this table", rule.name),
                ));
            }
        }
    }
}

/// Set the keys `raw` has; returns their names.
fn apply_raw(table: &mut TableConfig, raw: &RawTable, origin: &Origin) -> Vec<&'static str> {
    let mut set = Vec::new();
    if let Some(ops) = &raw.operations {
        let mut parsed: Vec<Operation> = Vec::new();
        for op in ops.iter().filter_map(|o| Operation::parse(o)) {
            if !parsed.contains(&op) {
                parsed.push(op);
            }
        }
        table.operations = parsed;
        set.push("operations");
    }
    if let Some(v) = &raw.track_columns {
        table.track_columns = Some(v.clone());
        set.push("track_columns");
    }
    if let Some(v) = &raw.sensitive_columns {
        table.sensitive_columns = v.clone();
        set.push("sensitive_columns");
    }
    if let Some(v) = &raw.masking {
        table.masking = v.clone();
        set.push("masking");
    }
    if let Some(v) = &raw.primary_key {
        table.primary_key = Some(v.clone());
        set.push("primary_key");
    }
    if let Some(v) = &raw.description {
        table.description = Some(v.clone());
        set.push("description");
    }
    if let Some(rules) = &raw.rules {
        table.rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| rule_config(r, origin, i))
            .collect();
        set.push("rules");
    }
    set
}

fn rule_config(r: &RawRule, origin: &Origin, i: usize) -> RuleConfig {
    RuleConfig {
        name: r.name.clone(),
        condition: r.condition.clone(),
        alert: r.alert,
        track: r.track,
        priority: r.priority.unwrap_or_default(),
        description: r.description.clone(),
        channels: r.channels.clone().unwrap_or_default(),
        origin: Origin {
            file: origin.file.clone(),
            path: format!("{}.rules[{i}]", origin.path),
        },
    }
}
