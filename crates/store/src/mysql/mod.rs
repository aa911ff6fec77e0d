//! MySQL/MariaDB store (placeholder while the SQLite side is built).
use crate::config::MysqlConfig;
use crate::error::{Result, StoreError};

pub struct MysqlStore;
pub struct MysqlQueries;

impl MysqlStore {
    pub fn open(_c: &MysqlConfig) -> Result<MysqlStore> {
        Err(StoreError::Layout("todo".into()))
    }
}
impl MysqlQueries {
    pub fn open(_c: &MysqlConfig) -> Result<MysqlQueries> {
        Err(StoreError::Layout("todo".into()))
    }
}
