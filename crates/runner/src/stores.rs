//! From the `storage:` and `mysql.storage` sections to the store crate's
//! settings.

use pipeline::config::StorageKind;
use pipeline::Config;
use store::config::{MysqlConfig, SqliteConfig, StorageConfig, StoreConfig};

use crate::error::{Result, RunError};

/// The stores a config names, primary first, and notes about backups that
/// this build cannot write (skipped).
pub fn storage_config(cfg: &Config) -> Result<(StorageConfig, Vec<String>)> {
    let mut notes = Vec::new();
    let primary = match store_for(cfg, cfg.storage.primary)? {
        Some(s) => s,
        None => {
            return Err(RunError::Config(format!(
                "{}: storage.primary: `{}` is not implemented by this build (use sqlite or mysql)",
                cfg.files.config,
                cfg.storage.primary.as_str()
            )))
        }
    };
    let mut backups = Vec::new();
    for (i, kind) in cfg.storage.backup.iter().enumerate() {
        match store_for(cfg, *kind)? {
            Some(s) => backups.push(s),
            None => notes.push(format!(
                "storage.backup[{i}]: `{}` is not implemented by this build; skipped",
                kind.as_str()
            )),
        }
    }
    let storage = StorageConfig {
        primary,
        backups,
        retention_days: (cfg.storage.retention_days > 0).then_some(cfg.storage.retention_days),
    };
    storage.validate().map_err(|issues| {
        let text: Vec<String> = issues.iter().map(|i| format!("storage: {i}")).collect();
        RunError::Config(text.join("\n"))
    })?;
    Ok((storage, notes))
}

fn store_for(cfg: &Config, kind: StorageKind) -> Result<Option<StoreConfig>> {
    Ok(match kind {
        StorageKind::Sqlite => Some(StoreConfig::Sqlite(sqlite_config(cfg))),
        StorageKind::Mysql => Some(StoreConfig::Mysql(mysql_config(cfg)?)),
        StorageKind::Elasticsearch | StorageKind::Clickhouse => None,
    })
}

/// The embedded store's settings: the file named by `storage.sqlite.path`
/// (default `<data_dir>/binlog-analyzer.sqlite`). The search index is
/// built after commit, between batches, so catching up is not slowed by it.
pub fn sqlite_config(cfg: &Config) -> SqliteConfig {
    let path = cfg.storage.sqlite_path();
    let data_dir = path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| cfg.storage.data_dir.clone());
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| SqliteConfig::DEFAULT_FILE_NAME.to_string());
    SqliteConfig {
        file_name,
        defer_full_text: true,
        ..SqliteConfig::new(data_dir)
    }
}

/// The MySQL store's settings from `mysql.storage`.
pub fn mysql_config(cfg: &Config) -> Result<MysqlConfig> {
    let Some(m) = &cfg.mysql.storage else {
        return Err(RunError::Config(format!(
            "{}: mysql.storage: the MySQL store needs this block (host, port, user, password, database)",
            cfg.files.config
        )));
    };
    let mut out = MysqlConfig::new(m.host.clone(), m.port, m.user.clone(), m.database.clone());
    if !m.password.is_empty() {
        out.password = Some(m.password.expose().to_string());
    }
    Ok(out)
}
