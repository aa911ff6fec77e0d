//! MySQL/MariaDB store: the same records in a database of the storage
//! server (`storage.primary: mysql`, the `mysql.storage` connection block).
//!
//! [`init_db`] creates the database and its tables (what
//! `binlog-analyzer init-db` runs); [`MysqlStore::open`] refuses a database
//! without them. Layout mirrors the SQLite store: store-assigned `seq` as
//! primary key, a UNIQUE key on the change key for idempotency, rollups per
//! table/minute/operation upserted in the batch's transaction, statements
//! shared by consecutive changes, a FULLTEXT index for search.
//!
//! `mysql_async` runs on a small private runtime; the sync trait methods
//! block on it (call them from `spawn_blocking` or a plain thread).

mod query;
mod write;

pub use query::MysqlQueries;
pub use write::MysqlStore;

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, Value};
use tokio::runtime::Runtime;

use crate::config::MysqlConfig;
use crate::error::{Result, StoreError};

pub(crate) const LAYOUT_VERSION: i64 = 1;

/// Tables of the storage database. The database's default collation is
/// `utf8mb4_bin`: names and key texts compare exactly, as in the source.
const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (
        k VARCHAR(64) NOT NULL PRIMARY KEY,
        v BIGINT NOT NULL
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS checkpoint (
        id TINYINT NOT NULL PRIMARY KEY,
        binlog_file VARCHAR(255) NOT NULL,
        binlog_pos BIGINT UNSIGNED NOT NULL,
        gtid_set LONGTEXT NULL,
        committed_at BIGINT NOT NULL
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS tracked_tables (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        db VARCHAR(64) NOT NULL,
        name VARCHAR(64) NOT NULL,
        UNIQUE KEY db_name (db, name)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS binlog_files (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        UNIQUE KEY name (name)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS rules (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        UNIQUE KEY name (name)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS statements (
        id BIGINT NOT NULL PRIMARY KEY,
        gtid VARCHAR(255) NULL,
        xid BIGINT UNSIGNED NULL,
        query LONGTEXT NULL,
        refs BIGINT NOT NULL
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS changes (
        id BIGINT NOT NULL PRIMARY KEY,
        table_id INT NOT NULL,
        ts INT UNSIGNED NOT NULL,
        op TINYINT NOT NULL,
        file_id INT NOT NULL,
        event_pos BIGINT UNSIGNED NOT NULL,
        row_index INT UNSIGNED NOT NULL,
        stmt_id BIGINT NULL,
        pk_text TEXT NOT NULL,
        pk LONGTEXT NOT NULL,
        old_data LONGTEXT NULL,
        new_data LONGTEXT NULL,
        diff LONGTEXT NULL,
        tags TEXT NULL,
        search_text LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL,
        UNIQUE KEY change_key (file_id, event_pos, row_index),
        KEY by_table (table_id, id),
        KEY by_row (table_id, pk_text(700), id),
        FULLTEXT KEY search (search_text),
        CHECK (op BETWEEN 1 AND 3)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS rollups (
        table_id INT NOT NULL,
        minute INT NOT NULL,
        op TINYINT NOT NULL,
        n BIGINT NOT NULL,
        min_seq BIGINT NOT NULL,
        max_seq BIGINT NOT NULL,
        PRIMARY KEY (table_id, minute, op)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS change_tags (
        rule_id INT NOT NULL,
        change_id BIGINT NOT NULL,
        PRIMARY KEY (rule_id, change_id)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS alerts (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        ts INT UNSIGNED NOT NULL,
        kind VARCHAR(64) NOT NULL,
        name VARCHAR(255) NOT NULL,
        priority VARCHAR(32) NOT NULL,
        db VARCHAR(64) NULL,
        tbl VARCHAR(64) NULL,
        change_key VARCHAR(512) NULL,
        message TEXT NOT NULL,
        details LONGTEXT NOT NULL,
        UNIQUE KEY once_per_change (change_key, name),
        KEY by_time (ts)
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS schema_history (
        file VARCHAR(255) NOT NULL,
        pos BIGINT UNSIGNED NOT NULL,
        document LONGTEXT NOT NULL,
        PRIMARY KEY (file, pos)
    ) ENGINE=InnoDB",
];

/// The runtime and pool shared by a writer or a query handle.
pub(crate) struct Client {
    /// Always `Some` until drop.
    rt: Option<Runtime>,
    pub pool: Pool,
    pub name: String,
    pub database: String,
}

impl Client {
    pub fn connect(config: &MysqlConfig, with_database: bool) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("store-mysql")
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                context: "starting the MySQL client runtime".into(),
                source,
            })?;
        let mut opts = OptsBuilder::default()
            .user(Some(config.user.clone()))
            .pass(config.password.clone())
            .prefer_socket(false)
            // Strict: a value that does not fit is an error, never truncated.
            .init(vec![
                "SET NAMES utf8mb4 COLLATE utf8mb4_bin",
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
                "SET SESSION time_zone = '+00:00'",
            ])
            .pool_opts(PoolOpts::default().with_constraints(
                PoolConstraints::new(0, config.max_connections.max(1)).unwrap_or_default(),
            ));
        opts = match &config.socket {
            Some(sock) => opts.socket(Some(sock.to_string_lossy().into_owned())),
            None => opts
                .ip_or_hostname(config.host.clone())
                .tcp_port(config.port),
        };
        if with_database {
            opts = opts.db_name(Some(config.database.clone()));
        }
        let where_ = match &config.socket {
            Some(s) => s.display().to_string(),
            None => format!("{}:{}", config.host, config.port),
        };
        Ok(Client {
            rt: Some(rt),
            pool: Pool::new(opts),
            name: format!("mysql:{where_}/{}", config.database),
            database: config.database.clone(),
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match &self.rt {
            Some(rt) => rt.block_on(f),
            // Only drop takes the runtime; no method runs after it.
            None => unreachable!("runtime used after drop"),
        }
    }

    pub async fn conn(&self) -> Result<Conn> {
        let mut got = self.pool.get_conn().await;
        // mysql_common 0.37 refuses 1 ed25519 login in 256 (it drops a
        // nonce's last byte when it is 0); a new login gets a new nonce.
        // A wrong password is refused twice.
        if matches!(&got, Err(mysql_async::Error::Server(e)) if e.code == 1045) {
            got = self.pool.get_conn().await;
        }
        match got {
            Ok(c) => Ok(c),
            // ER_BAD_DB_ERROR: the storage database was never created.
            Err(mysql_async::Error::Server(e)) if e.code == 1049 => {
                Err(StoreError::NotInitialised(self.database.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let Some(rt) = self.rt.take() else { return };
        // Close pooled connections politely when blocking is allowed here
        // (not on an async runtime's thread); a server already gone is fine.
        if tokio::runtime::Handle::try_current().is_err() {
            let pool = self.pool.clone();
            let _ = rt.block_on(async move {
                tokio::time::timeout(std::time::Duration::from_secs(2), pool.disconnect()).await
            });
        }
        // Never blocks, so dropping a store inside async code is safe.
        rt.shutdown_background();
    }
}

/// Creates the storage database and its tables if missing (idempotent).
pub fn init_db(config: &MysqlConfig) -> Result<()> {
    let client = Client::connect(config, false)?;
    client.block_on(async {
        let mut conn = client.conn().await?;
        conn.query_drop(format!(
            "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            config.database
        ))
        .await?;
        conn.query_drop(format!("USE `{}`", config.database)).await?;
        for ddl in TABLES {
            conn.query_drop(*ddl).await?;
        }
        conn.exec_drop(
            "INSERT INTO meta (k, v) VALUES ('layout_version', ?), ('next_seq', 1), ('next_stmt', 1),
                 ('total_changes', 0)
             ON DUPLICATE KEY UPDATE k = k",
            (LAYOUT_VERSION,),
        )
        .await?;
        drop(conn);
        Ok(())
    })
}

/// Drops the storage database (tests and `init-db --reset`).
pub fn drop_db(config: &MysqlConfig) -> Result<()> {
    let client = Client::connect(config, false)?;
    client.block_on(async {
        let mut conn = client.conn().await?;
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", config.database))
            .await?;
        Ok(())
    })
}

pub(crate) async fn check_layout(conn: &mut Conn, database: &str) -> Result<()> {
    let tables: Option<i64> = conn
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'meta'",
            (database,),
        )
        .await?;
    if tables.unwrap_or(0) == 0 {
        return Err(StoreError::NotInitialised(database.to_string()));
    }
    let version: Option<i64> = conn
        .query_first("SELECT v FROM meta WHERE k = 'layout_version'")
        .await?;
    match version {
        Some(LAYOUT_VERSION) => Ok(()),
        Some(v) => Err(StoreError::Layout(format!(
            "layout version {v}, this build reads {LAYOUT_VERSION}"
        ))),
        None => Err(StoreError::NotInitialised(database.to_string())),
    }
}

/// Takes column `i` of a row as `T`, as an error (not a panic) if it does
/// not convert.
pub(crate) fn col<T: FromValue>(row: &mut Row, i: usize) -> Result<T> {
    match row.take_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(StoreError::Layout(format!("column {i}: {e}"))),
        None => Err(StoreError::Layout(format!("column {i} missing"))),
    }
}

pub(crate) fn params(values: Vec<Value>) -> mysql_async::Params {
    if values.is_empty() {
        mysql_async::Params::Empty
    } else {
        mysql_async::Params::Positional(values)
    }
}

pub(crate) async fn read_checkpoint(
    conn: &mut Conn,
) -> Result<Option<pipeline::record::Checkpoint>> {
    let row: Option<(String, u64, Option<String>)> = conn
        .query_first("SELECT binlog_file, binlog_pos, gtid_set FROM checkpoint WHERE id = 1")
        .await?;
    Ok(row.map(
        |(binlog_file, binlog_pos, gtid_set)| pipeline::record::Checkpoint {
            binlog_file,
            binlog_pos,
            gtid_set,
        },
    ))
}
