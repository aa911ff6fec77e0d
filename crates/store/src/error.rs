use thiserror::Error;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("mysql: {0}")]
    Mysql(Box<mysql_async::Error>),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A table-scoped query named a table with no stored changes.
    #[error("unknown table {database}.{table}")]
    UnknownTable { database: String, table: String },
    /// A query parameter is out of range or malformed.
    #[error("invalid {param}: {message}")]
    InvalidArgument {
        param: &'static str,
        message: String,
    },
    /// The database holds something this code did not write (or a newer
    /// layout).
    #[error("store layout: {0}")]
    Layout(String),
    /// The MySQL store's tables are missing: run `binlog-analyzer init-db`.
    #[error("the storage database {0} has no binlog-analyzer schema: run `binlog-analyzer init-db` first")]
    NotInitialised(String),
    /// One store of a fan-out failed.
    #[error("store {store}: {source}")]
    InStore {
        store: String,
        source: Box<StoreError>,
    },
}

impl From<mysql_async::Error> for StoreError {
    fn from(e: mysql_async::Error) -> Self {
        StoreError::Mysql(Box::new(e))
    }
}

impl StoreError {
    pub(crate) fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        StoreError::InvalidArgument {
            param,
            message: message.into(),
        }
    }

    pub(crate) fn unknown_table(database: &str, table: &str) -> Self {
        StoreError::UnknownTable {
            database: database.to_string(),
            table: table.to_string(),
        }
    }
}
