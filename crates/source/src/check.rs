//! Preflight checks (`binlog-analyzer check`).

use serde::Serialize;

use crate::config::SourceConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub advice: Option<String>,
}

pub async fn check(_cfg: &SourceConfig) -> Vec<CheckItem> {
    Vec::new()
}
