//! Store settings: validated without side effects ([`StorageConfig::validate`]),
//! then built ([`StorageConfig::open`], [`StoreConfig::open_writer`],
//! [`StoreConfig::open_queries`]).
//!
//! YAML parsing belongs to the pipeline's config; these are the plain values
//! it maps to. Issue paths are relative to the storage section
//! (`primary.mysql.port`, `backup[0].sqlite.data_dir`).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::multi::MultiStore;
use crate::{QueryStore, Store};

/// One problem found by validation: where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub path: String,
    pub expected: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {}", self.path, self.expected)
    }
}

/// How FTS5 splits values into words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FtsTokenizer {
    /// Words of letters and digits (Unicode-aware, diacritics folded). A run
    /// of CJK characters is one word.
    #[default]
    Unicode61,
    /// Every 3-character sequence: substring search in any script, about
    /// three times the index size and slower ingest.
    Trigram,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqliteConfig {
    /// Directory holding the database file (created if missing).
    pub data_dir: PathBuf,
    /// File name inside `data_dir`.
    pub file_name: String,
    /// Maintain the full-text index (fixed when the file is created).
    pub full_text: bool,
    /// Index for search after commit instead of inside each batch: ingest
    /// commits faster, and [`crate::Store::maintain`] (called between
    /// batches or when idle) indexes the backlog; search sees changes once
    /// indexed. Can be switched at any open.
    pub defer_full_text: bool,
    pub tokenizer: FtsTokenizer,
    /// `synchronous=FULL` (fsync at every commit) instead of `NORMAL`.
    /// NORMAL in WAL mode loses no committed batch on a process crash
    /// (`kill -9`), only possibly the last ones on power loss; either way
    /// a batch and its checkpoint stay together.
    pub fsync_every_commit: bool,
}

impl SqliteConfig {
    pub const DEFAULT_FILE_NAME: &'static str = "binlog-analyzer.db";

    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            data_dir: data_dir.into(),
            file_name: Self::DEFAULT_FILE_NAME.to_string(),
            full_text: true,
            defer_full_text: false,
            tokenizer: FtsTokenizer::Unicode61,
            fsync_every_commit: false,
        }
    }

    pub fn path(&self) -> PathBuf {
        self.data_dir.join(&self.file_name)
    }

    pub fn validate(&self, path: &str, issues: &mut Vec<ConfigIssue>) {
        if self.data_dir.as_os_str().is_empty() {
            issues.push(issue(path, "data_dir", "a directory path"));
        }
        let name = &self.file_name;
        if name.is_empty()
            || name.contains('/')
            || name.contains('\\')
            || name == "."
            || name == ".."
        {
            issues.push(issue(path, "file_name", "a plain file name (no directory)"));
        }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MysqlConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    /// Unix socket; when set it is used instead of host/port.
    pub socket: Option<PathBuf>,
    /// Connections kept for queries.
    pub max_connections: usize,
}

impl std::fmt::Debug for MysqlConfig {
    // The password never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("socket", &self.socket)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl MysqlConfig {
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        database: impl Into<String>,
    ) -> Self {
        MysqlConfig {
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            database: database.into(),
            socket: None,
            max_connections: 4,
        }
    }

    pub fn validate(&self, path: &str, issues: &mut Vec<ConfigIssue>) {
        if self.socket.is_none() {
            if self.host.trim().is_empty() {
                issues.push(issue(path, "host", "a host name or address"));
            }
            if self.port == 0 {
                issues.push(issue(path, "port", "a TCP port 1-65535"));
            }
        }
        if self.user.is_empty() {
            issues.push(issue(path, "user", "a user name"));
        }
        let db = &self.database;
        if db.is_empty() || db.chars().count() > 64 || db.contains('`') || db.ends_with(' ') {
            issues.push(issue(
                path,
                "database",
                "a database name of 1-64 characters without '`' or trailing space",
            ));
        }
        if self.max_connections == 0 {
            issues.push(issue(path, "max_connections", "at least 1"));
        }
    }
}

/// One store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreConfig {
    Sqlite(SqliteConfig),
    Mysql(MysqlConfig),
}

impl StoreConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            StoreConfig::Sqlite(_) => "sqlite",
            StoreConfig::Mysql(_) => "mysql",
        }
    }

    pub fn validate(&self, path: &str, issues: &mut Vec<ConfigIssue>) {
        match self {
            StoreConfig::Sqlite(c) => c.validate(&format!("{path}.sqlite"), issues),
            StoreConfig::Mysql(c) => c.validate(&format!("{path}.mysql"), issues),
        }
    }

    /// Opens the writer (creating the SQLite file; the MySQL schema must
    /// exist, see [`crate::mysql::init_db`]).
    pub fn open_writer(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            StoreConfig::Sqlite(c) => Box::new(crate::sqlite::SqliteStore::open(c)?),
            StoreConfig::Mysql(c) => Box::new(crate::mysql::MysqlStore::open(c)?),
        })
    }

    /// Opens the read/maintenance side. For SQLite the file must exist
    /// (open the writer first, or `serve` an existing store).
    pub fn open_queries(&self) -> Result<Arc<dyn QueryStore>> {
        Ok(match self {
            StoreConfig::Sqlite(c) => Arc::new(crate::sqlite::SqliteQueries::open(c)?),
            StoreConfig::Mysql(c) => Arc::new(crate::mysql::MysqlQueries::open(c)?),
        })
    }
}

/// The `storage` section: a primary store, backups, retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageConfig {
    pub primary: StoreConfig,
    pub backups: Vec<StoreConfig>,
    /// Purge changes, alerts and rollups older than this many days.
    pub retention_days: Option<u32>,
}

impl StorageConfig {
    /// Every problem at once; touches nothing.
    pub fn validate(&self) -> Result<(), Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        self.primary.validate("primary", &mut issues);
        for (i, b) in self.backups.iter().enumerate() {
            b.validate(&format!("backup[{i}]"), &mut issues);
        }
        if self.retention_days == Some(0) {
            issues.push(ConfigIssue {
                path: "retention_days".into(),
                expected: "at least 1 day (omit it to keep everything)".into(),
            });
        }
        let all: Vec<&StoreConfig> = std::iter::once(&self.primary)
            .chain(&self.backups)
            .collect();
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                if same_target(a, b) {
                    issues.push(ConfigIssue {
                        path: "backup".into(),
                        expected: "stores that are all different (one is configured twice)".into(),
                    });
                }
            }
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }

    /// Opens every store's writer, primary first.
    pub fn open(&self) -> Result<MultiStore> {
        let mut stores = vec![self.primary.open_writer()?];
        for b in &self.backups {
            stores.push(b.open_writer()?);
        }
        Ok(MultiStore::new(stores))
    }
}

fn same_target(a: &StoreConfig, b: &StoreConfig) -> bool {
    match (a, b) {
        (StoreConfig::Sqlite(x), StoreConfig::Sqlite(y)) => x.path() == y.path(),
        (StoreConfig::Mysql(x), StoreConfig::Mysql(y)) => {
            x.host == y.host && x.port == y.port && x.socket == y.socket && x.database == y.database
        }
        _ => false,
    }
}

fn issue(path: &str, key: &str, expected: &str) -> ConfigIssue {
    ConfigIssue {
        path: format!("{path}.{key}"),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_every_bad_key() {
        let mut mysql = MysqlConfig::new("", 0, "", "bad`name");
        mysql.max_connections = 0;
        let cfg = StorageConfig {
            primary: StoreConfig::Mysql(mysql),
            backups: vec![StoreConfig::Sqlite(SqliteConfig {
                file_name: "a/b".into(),
                ..SqliteConfig::new("")
            })],
            retention_days: Some(0),
        };
        let issues = cfg.validate().unwrap_err();
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "primary.mysql.host",
                "primary.mysql.port",
                "primary.mysql.user",
                "primary.mysql.database",
                "primary.mysql.max_connections",
                "backup[0].sqlite.data_dir",
                "backup[0].sqlite.file_name",
                "retention_days",
            ]
        );
    }

    #[test]
    fn same_sqlite_file_twice_is_rejected() {
        let s = StoreConfig::Sqlite(SqliteConfig::new("/d"));
        let cfg = StorageConfig {
            primary: s.clone(),
            backups: vec![s],
            retention_days: None,
        };
        assert_eq!(cfg.validate().unwrap_err()[0].path, "backup");
    }

    #[test]
    fn debug_hides_the_password() {
        let mut c = MysqlConfig::new("h", 1, "u", "d");
        c.password = Some("hunter2".into());
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
