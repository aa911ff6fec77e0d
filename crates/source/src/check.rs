//! Preflight checks (`binlog-analyzer check`): can this server be streamed
//! from, with the configured user and position, and will the changes be
//! complete? Each item says pass/warn/fail and what to do.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{SourceConfig, StartPosition};
use crate::error::{DefiniteError, SourceError};
use crate::server;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    /// Short id, e.g. `binlog_format`.
    pub name: String,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about a warn/fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

impl CheckItem {
    fn new(
        name: &str,
        status: CheckStatus,
        detail: impl Into<String>,
        advice: Option<&str>,
    ) -> Self {
        CheckItem {
            name: name.to_string(),
            status,
            detail: detail.into(),
            advice: advice.map(str::to_string),
        }
    }
}

/// The worst status of a list (what the command's exit code follows).
pub fn worst(items: &[CheckItem]) -> CheckStatus {
    items
        .iter()
        .map(|i| i.status)
        .max()
        .unwrap_or(CheckStatus::Pass)
}

/// Run every check. Never fails: a connection problem is itself a failed item.
pub async fn check(cfg: &SourceConfig) -> Vec<CheckItem> {
    let mut items = Vec::new();
    let mut conn = match server::connect(cfg).await {
        Ok(c) => c,
        Err(e) => {
            items.push(CheckItem::new(
                "connect",
                CheckStatus::Fail,
                format!("cannot connect to {} as '{}': {e}", cfg.addr(), cfg.user),
                Some("check host, port, user, password and TLS settings, and that the server accepts TCP connections from here"),
            ));
            return items;
        }
    };
    match run(cfg, &mut conn, &mut items).await {
        Ok(()) => {}
        Err(e) => items.push(CheckItem::new(
            "query",
            CheckStatus::Fail,
            format!("a check query failed: {e}"),
            None,
        )),
    }
    let _ = conn.disconnect().await;
    items
}

async fn run(
    cfg: &SourceConfig,
    conn: &mut mysql_async::Conn,
    items: &mut Vec<CheckItem>,
) -> Result<(), SourceError> {
    use CheckStatus::*;
    let info = server::server_info(conn, cfg).await?;
    items.push(CheckItem::new(
        "connect",
        Pass,
        format!(
            "connected to {} {}",
            if info.mariadb { "MariaDB" } else { "MySQL" },
            info.version
        ),
        None,
    ));
    let vars = variables(conn, cfg).await?;
    let var = |name: &str| vars.get(name).map(|v| v.to_ascii_uppercase());

    // Binary logging.
    if info.log_bin {
        items.push(CheckItem::new(
            "log_bin",
            Pass,
            "binary logging is on",
            None,
        ));
    } else {
        items.push(CheckItem::new(
            "log_bin",
            Fail,
            "binary logging is off",
            Some("start the server with --log-bin (and --binlog-format=ROW), then restart it"),
        ));
    }

    match var("binlog_format").as_deref() {
        Some("ROW") => items.push(CheckItem::new("binlog_format", Pass, "ROW", None)),
        Some("MIXED") => items.push(CheckItem::new(
            "binlog_format",
            Warn,
            "MIXED: some changes are logged as statements, whose rows cannot be seen",
            Some("SET GLOBAL binlog_format = 'ROW' (and in the server config)"),
        )),
        other => items.push(CheckItem::new(
            "binlog_format",
            Fail,
            format!("{}: changes are logged as statements, not rows", other.unwrap_or("unknown")),
            Some("SET GLOBAL binlog_format = 'ROW' (and in the server config); row tracking needs ROW"),
        )),
    }

    match var("binlog_row_image").as_deref() {
        Some("FULL") | None => items.push(CheckItem::new("binlog_row_image", Pass, "FULL", None)),
        Some(other) => items.push(CheckItem::new(
            "binlog_row_image",
            Warn,
            format!("{other}: before/after images hold only some columns, so diffs are partial"),
            Some("SET GLOBAL binlog_row_image = 'FULL' for complete before and after images"),
        )),
    }

    match var("binlog_row_metadata").as_deref() {
        Some("FULL") => items.push(CheckItem::new("binlog_row_metadata", Pass, "FULL: every table map names its columns", None)),
        Some(other) => items.push(CheckItem::new(
            "binlog_row_metadata",
            Warn,
            format!("{other}: column names, ENUM/SET labels and keys come from the schema history instead"),
            Some("SET GLOBAL binlog_row_metadata = 'FULL' so that every event describes its own columns"),
        )),
        None => items.push(CheckItem::new(
            "binlog_row_metadata",
            Warn,
            "not available on this server version: column names come from the schema history",
            Some("MySQL 8.0.1+ / MariaDB 10.5+ can log full row metadata"),
        )),
    }

    if !info.mariadb {
        match var("binlog_row_value_options").as_deref() {
            Some("PARTIAL_JSON") => {
                let full_image = var("binlog_row_image").as_deref() == Some("FULL");
                items.push(CheckItem::new(
                    "binlog_row_value_options",
                    if full_image { Pass } else { Warn },
                    "PARTIAL_JSON: JSON updates are logged as diffs",
                    (!full_image).then_some(
                        "with binlog_row_image other than FULL the full JSON after an update cannot be rebuilt; \
                         use FULL, or SET GLOBAL binlog_row_value_options = ''",
                    ),
                ));
            }
            Some(v) => items.push(CheckItem::new(
                "binlog_row_value_options",
                Pass,
                format!("'{v}': JSON values are logged whole"),
                None,
            )),
            None => {}
        }
        match var("binlog_rows_query_log_events").as_deref() {
            Some("ON") | Some("1") => items.push(CheckItem::new(
                "statement_text",
                Pass,
                "ROWS_QUERY events carry the SQL of each change",
                None,
            )),
            _ => items.push(CheckItem::new(
                "statement_text",
                Warn,
                "binlog_rows_query_log_events is OFF: changes come without the SQL behind them",
                Some("SET GLOBAL binlog_rows_query_log_events = ON"),
            )),
        }
    } else {
        match var("binlog_annotate_row_events").as_deref() {
            Some("OFF") | Some("0") => items.push(CheckItem::new(
                "statement_text",
                Warn,
                "binlog_annotate_row_events is OFF: changes come without the SQL behind them",
                Some("SET GLOBAL binlog_annotate_row_events = ON"),
            )),
            _ => items.push(CheckItem::new(
                "statement_text",
                Pass,
                "ANNOTATE_ROWS events carry the SQL of each change",
                None,
            )),
        }
    }

    // Compression: supported either way, worth knowing.
    let compression = if info.mariadb {
        var("log_bin_compress").map(|v| format!("log_bin_compress = {v}"))
    } else {
        var("binlog_transaction_compression")
            .map(|v| format!("binlog_transaction_compression = {v}"))
    };
    items.push(CheckItem::new(
        "compression",
        Pass,
        compression.unwrap_or_else(|| "no binlog compression on this server version".into())
            + " (compressed events are decoded)",
        None,
    ));

    privileges(conn, cfg, &info, items).await;
    server_id_clash(conn, cfg, &info, items).await;
    start_position(conn, cfg, items).await?;
    Ok(())
}

async fn variables(
    conn: &mut mysql_async::Conn,
    cfg: &SourceConfig,
) -> Result<BTreeMap<String, String>, SourceError> {
    let rows = server::query(
        conn,
        cfg,
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_format', 'binlog_row_image', \
         'binlog_row_metadata', 'binlog_row_value_options', 'binlog_transaction_compression', \
         'log_bin_compress', 'binlog_rows_query_log_events', 'binlog_annotate_row_events', 'gtid_mode')",
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.first()?.clone()?.to_ascii_lowercase(),
                r.get(1)?.clone().unwrap_or_default(),
            ))
        })
        .collect())
}

async fn privileges(
    conn: &mut mysql_async::Conn,
    cfg: &SourceConfig,
    info: &crate::server::ServerInfo,
    items: &mut Vec<CheckItem>,
) {
    let grants = match server::query(conn, cfg, "SHOW GRANTS").await {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .map(|g| g.to_ascii_uppercase())
            .collect::<Vec<_>>(),
        Err(e) => {
            items.push(CheckItem::new(
                "privileges",
                CheckStatus::Warn,
                format!("cannot read the grants: {e}"),
                None,
            ));
            return;
        }
    };
    let global: Vec<&String> = grants.iter().filter(|g| g.contains(" ON *.* ")).collect();
    let has = |names: &[&str]| {
        global
            .iter()
            .any(|g| g.contains("ALL PRIVILEGES") || names.iter().any(|n| g.contains(n)))
    };
    let needed: [(&str, &[&str], &str); 3] = [
        (
            "REPLICATION SLAVE",
            &["REPLICATION SLAVE", "REPLICATION REPLICA"],
            "to stream the binlog",
        ),
        (
            "REPLICATION CLIENT",
            &["REPLICATION CLIENT", "BINLOG MONITOR"],
            "for SHOW MASTER STATUS / SHOW BINARY LOGS",
        ),
        (
            "SELECT",
            &["SELECT"],
            "for the schema snapshot from information_schema",
        ),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|(_, names, _)| !has(names))
        .map(|(name, _, why)| format!("{name} ({why})"))
        .collect();
    if missing.is_empty() {
        items.push(CheckItem::new(
            "privileges",
            CheckStatus::Pass,
            "REPLICATION SLAVE, REPLICATION CLIENT and SELECT are granted",
            None,
        ));
    } else {
        let advice = format!(
            "GRANT REPLICATION SLAVE, {}, SELECT ON *.* TO '{}'@'<host>'",
            if info.mariadb && info.version_tuple() >= (10, 5, 2) {
                "BINLOG MONITOR"
            } else {
                "REPLICATION CLIENT"
            },
            cfg.user
        );
        items.push(CheckItem {
            name: "privileges".into(),
            status: CheckStatus::Fail,
            detail: format!("missing: {}", missing.join(", ")),
            advice: Some(advice),
        });
    }
}

async fn server_id_clash(
    conn: &mut mysql_async::Conn,
    cfg: &SourceConfig,
    info: &crate::server::ServerInfo,
    items: &mut Vec<CheckItem>,
) {
    if info.server_id == cfg.server_id {
        items.push(CheckItem::new(
            "server_id",
            CheckStatus::Fail,
            format!(
                "server_id {} is the source's own @@server_id",
                cfg.server_id
            ),
            Some("set `binlog.server_id` to a value no other server or replica uses"),
        ));
        return;
    }
    match server::query(conn, cfg, "SHOW SLAVE HOSTS").await {
        Ok(rows) => {
            let clash = rows
                .iter()
                .any(|r| r.first().cloned().flatten().and_then(|s| s.parse::<u32>().ok()) == Some(cfg.server_id));
            if clash {
                items.push(CheckItem::new(
                    "server_id",
                    CheckStatus::Fail,
                    format!("a replica with server_id {} is connected (SHOW SLAVE HOSTS)", cfg.server_id),
                    Some("choose another `binlog.server_id`: the server drops one of two replicas with the same id"),
                ));
            } else {
                items.push(CheckItem::new(
                    "server_id",
                    CheckStatus::Pass,
                    format!("no other replica uses server_id {}", cfg.server_id),
                    None,
                ));
            }
        }
        Err(e) => items.push(CheckItem::new(
            "server_id",
            CheckStatus::Warn,
            format!("cannot list the replicas to rule out a server_id clash: {e}"),
            Some("grant REPLICATION MASTER ADMIN (MariaDB) / REPLICATION SLAVE to see SHOW SLAVE HOSTS"),
        )),
    }
}

async fn start_position(
    conn: &mut mysql_async::Conn,
    cfg: &SourceConfig,
    items: &mut Vec<CheckItem>,
) -> Result<(), SourceError> {
    let logs = server::binary_logs(conn, cfg).await.unwrap_or_default();
    let oldest = logs.first().map(|(f, _)| f.clone());
    let (file, pos) = match &cfg.start {
        StartPosition::FilePos { file, pos } => (file.clone(), *pos),
        StartPosition::Resume(p) if !p.file.is_empty() => (p.file.clone(), p.pos),
        StartPosition::MariaGtid(list) => {
            // The server can answer for GTIDs: BINLOG_GTID_POS of the oldest
            // file's start is the oldest state it can serve.
            let detail = format!("start at GTID {list}");
            items.push(CheckItem::new(
                "start_position",
                CheckStatus::Pass,
                detail,
                None,
            ));
            return Ok(());
        }
        other => {
            items.push(CheckItem::new(
                "start_position",
                CheckStatus::Pass,
                format!("{other:?}: resolved when streaming starts"),
                None,
            ));
            return Ok(());
        }
    };
    match crate::error::check_start(&logs, &file, pos) {
        Ok(()) => items.push(CheckItem::new(
            "start_position",
            CheckStatus::Pass,
            format!("{file}:{pos} is on the server"),
            None,
        )),
        Err(DefiniteError::BinlogPurged { .. }) => items.push(CheckItem {
            name: "start_position".into(),
            status: CheckStatus::Fail,
            detail: format!(
                "{file} is not on the server any more (oldest: {})",
                oldest.as_deref().unwrap_or("none")
            ),
            advice: Some(format!(
                "the binlogs were purged past the saved position: restart from {}:4 (or --from-start) \
                 after re-reading what was lost from a snapshot, and keep binlogs longer",
                oldest.as_deref().unwrap_or("FILE")
            )),
        }),
        Err(e) => items.push(CheckItem {
            name: "start_position".into(),
            status: CheckStatus::Fail,
            detail: e.to_string(),
            advice: Some(
                "start from a file and position the server has (SHOW BINARY LOGS), or a \
                 position saved by this tool"
                    .into(),
            ),
        }),
    }
    Ok(())
}
