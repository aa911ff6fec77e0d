//! Replay: apply stored changes to a MySQL/MariaDB database that holds an
//! empty copy of the source's tables — INSERT the after image, UPDATE by
//! primary key (the before image's key), DELETE by primary key — in the
//! order they were committed, table by table. When the stored images are
//! whole (every column tracked, nothing masked), the result is the source's
//! data: `CHECKSUM TABLE` agrees.
//!
//! Values go as statement parameters, converted from the stored JSON by the
//! target column's type (`VALUES.md`): `{"base64": …}` → bytes, TIMESTAMP's
//! UTC `…Z` form → a UTC literal (the session runs in UTC), GEOMETRY's
//! `{"srid", "wkb"}` → `ST_GeomFromWKB`, MySQL JSON documents → their text,
//! integers exact, other numbers as their decimal text.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder, Value};
use pipeline::{ChangeRecord, Operation};
use serde_json::Value as Json;
use store::{ChangesQuery, QueryStore, TableRef};

use crate::error::{Result, RunError};

/// The database to replay into.
#[derive(Clone)]
pub struct ReplayTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    /// Unix socket; used instead of host/port when set.
    pub socket: Option<PathBuf>,
}

impl std::fmt::Debug for ReplayTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("socket", &self.socket)
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Source database → target database; databases not listed keep their
    /// name.
    pub database_map: BTreeMap<String, String>,
    /// Only these `(database, table)` (source names); empty: every table.
    pub tables: Vec<(String, String)>,
    /// Statements per target transaction (default 500).
    pub statements_per_commit: usize,
}

/// What was applied to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableReplay {
    pub database: String,
    pub table: String,
    pub target_database: String,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub tables: Vec<TableReplay>,
}

impl ReplayReport {
    pub fn statements(&self) -> u64 {
        self.tables
            .iter()
            .map(|t| t.inserts + t.updates + t.deletes)
            .sum()
    }
}

/// Replay every stored change of the selected tables into `target`.
/// `progress` is called with the number of statements applied so far.
/// Blocking (runs its own small runtime): call it outside async code.
pub fn replay(
    queries: &dyn QueryStore,
    target: &ReplayTarget,
    options: &ReplayOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ReplayReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::io("starting the replay runtime", e))?;
    let mut opts = OptsBuilder::default()
        .user(Some(target.user.clone()))
        .pass(target.password.clone())
        .prefer_socket(false)
        .init(vec![
            "SET NAMES utf8mb4",
            "SET SESSION time_zone = '+00:00'",
            "SET SESSION foreign_key_checks = 0",
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
        ]);
    opts = match &target.socket {
        Some(s) => opts.socket(Some(s.to_string_lossy().into_owned())),
        None => opts
            .ip_or_hostname(target.host.clone())
            .tcp_port(target.port),
    };
    let mut conn = rt
        .block_on(source::server::new_conn(opts.into()))
        .map_err(|e| RunError::Replay(format!("cannot connect to the target: {e}")))?;
    let per_commit = if options.statements_per_commit == 0 {
        500
    } else {
        options.statements_per_commit
    };
    let mut report = ReplayReport::default();
    let mut applied = 0u64;
    for t in queries.tables()? {
        if !options.tables.is_empty()
            && !options
                .tables
                .iter()
                .any(|(d, n)| *d == t.database && *n == t.table)
        {
            continue;
        }
        let target_db = options
            .database_map
            .get(&t.database)
            .cloned()
            .unwrap_or_else(|| t.database.clone());
        let columns = rt.block_on(column_types(&mut conn, &target_db, &t.table))?;
        if columns.is_empty() {
            return Err(RunError::Replay(format!(
                "the target has no table `{target_db}`.`{}` (create an empty copy of the source table first)",
                t.table
            )));
        }
        let mut done = TableReplay {
            database: t.database.clone(),
            table: t.table.clone(),
            target_database: target_db.clone(),
            ..TableReplay::default()
        };
        let mut cursor = None;
        let mut in_txn = 0usize;
        loop {
            let mut q = ChangesQuery::new(t.database.clone(), t.table.clone());
            q.cursor = cursor;
            q.limit = 1000;
            let page = queries.changes(&q)?;
            for change in &page.items {
                let (sql, params) = statement(&target_db, &t, &columns, &change.record)?;
                if in_txn == 0 {
                    rt.block_on(conn.query_drop("START TRANSACTION"))
                        .map_err(|e| RunError::Replay(e.to_string()))?;
                }
                rt.block_on(conn.exec_drop(sql.as_str(), params))
                    .map_err(|e| {
                        RunError::Replay(format!(
                            "{} of change {} on `{target_db}`.`{}`: {e}",
                            change.record.operation.as_str(),
                            change.record.id(),
                            t.table
                        ))
                    })?;
                match change.record.operation {
                    Operation::Insert => done.inserts += 1,
                    Operation::Update => done.updates += 1,
                    Operation::Delete => done.deletes += 1,
                }
                in_txn += 1;
                applied += 1;
                if in_txn >= per_commit {
                    rt.block_on(conn.query_drop("COMMIT"))
                        .map_err(|e| RunError::Replay(e.to_string()))?;
                    in_txn = 0;
                    progress(applied);
                }
            }
            match page.next {
                Some(n) if !page.items.is_empty() => cursor = Some(n),
                _ => break,
            }
        }
        if in_txn > 0 {
            rt.block_on(conn.query_drop("COMMIT"))
                .map_err(|e| RunError::Replay(e.to_string()))?;
            progress(applied);
        }
        report.tables.push(done);
    }
    let _ = rt.block_on(conn.disconnect());
    Ok(report)
}

/// Column name → lower-case DATA_TYPE of a target table.
async fn column_types(
    conn: &mut Conn,
    database: &str,
    table: &str,
) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = conn
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (database, table),
        )
        .await
        .map_err(|e| RunError::Replay(format!("reading `{database}`.`{table}`: {e}")))?;
    Ok(rows
        .into_iter()
        .map(|(c, t)| (c.to_ascii_lowercase(), t.to_ascii_lowercase()))
        .collect())
}

fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// The statement replaying one change, with its parameters.
pub fn statement(
    target_db: &str,
    t: &TableRef,
    columns: &BTreeMap<String, String>,
    r: &ChangeRecord,
) -> Result<(String, Vec<Value>)> {
    let table = format!("{}.{}", ident(target_db), ident(&t.table));
    let type_of = |col: &str| -> Result<&str> {
        columns
            .get(&col.to_ascii_lowercase())
            .map(String::as_str)
            .ok_or_else(|| {
                RunError::Replay(format!(
                    "change {}: column `{col}` is not in the target table {table}{}",
                    r.id(),
                    if col.starts_with('@') {
                        " (the binlog gave no column names)"
                    } else {
                        ""
                    }
                ))
            })
    };
    let mut params = Vec::new();
    match r.operation {
        Operation::Insert => {
            let image = r.new_data.as_ref().ok_or_else(|| missing(r, "after"))?;
            let mut cols = Vec::new();
            let mut holes = Vec::new();
            for (col, v) in &image.to_map() {
                let (hole, mut p) = param(v, type_of(col)?);
                cols.push(ident(col));
                holes.push(hole);
                params.append(&mut p);
            }
            Ok((
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    cols.join(", "),
                    holes.join(", ")
                ),
                params,
            ))
        }
        Operation::Update => {
            let image = r.new_data.as_ref().ok_or_else(|| missing(r, "after"))?;
            let mut sets = Vec::new();
            for (col, v) in &image.to_map() {
                let (hole, mut p) = param(v, type_of(col)?);
                sets.push(format!("{} = {hole}", ident(col)));
                params.append(&mut p);
            }
            let (cond, mut p) = key_condition(r, &type_of)?;
            params.append(&mut p);
            Ok((
                format!(
                    "UPDATE {table} SET {} WHERE {cond} LIMIT 1",
                    sets.join(", ")
                ),
                params,
            ))
        }
        Operation::Delete => {
            let (cond, p) = key_condition(r, &type_of)?;
            Ok((format!("DELETE FROM {table} WHERE {cond} LIMIT 1"), p))
        }
    }
}

fn missing(r: &ChangeRecord, which: &str) -> RunError {
    RunError::Replay(format!(
        "change {} ({}) has no {which} image",
        r.id(),
        r.operation.as_str()
    ))
}

/// `pk1 <=> ? AND …` from the primary key, or from the whole before image
/// when the key is unknown.
fn key_condition<'a>(
    r: &'a ChangeRecord,
    type_of: &dyn Fn(&str) -> Result<&'a str>,
) -> Result<(String, Vec<Value>)> {
    let key = if r.primary_key.is_empty() {
        r.old_data.as_ref().ok_or_else(|| missing(r, "before"))?
    } else {
        &r.primary_key
    };
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for (col, v) in &key.to_map() {
        let (hole, mut p) = param(v, type_of(col)?);
        parts.push(format!("{} <=> {hole}", ident(col)));
        params.append(&mut p);
    }
    if parts.is_empty() {
        return Err(RunError::Replay(format!(
            "change {}: no key to find the row by",
            r.id()
        )));
    }
    Ok((parts.join(" AND "), params))
}

/// A placeholder expression and its parameters for a stored value going
/// into a column of `data_type`.
pub fn param(v: &Json, data_type: &str) -> (String, Vec<Value>) {
    let hole = |p: Value| ("?".to_string(), vec![p]);
    match v {
        Json::Null => hole(Value::NULL),
        Json::Bool(b) => hole(Value::Int(i64::from(*b))),
        Json::Number(n) => {
            if data_type == "json" {
                return hole(Value::Bytes(n.to_string().into_bytes()));
            }
            if let Some(i) = n.as_i64() {
                hole(Value::Int(i))
            } else if let Some(u) = n.as_u64() {
                hole(Value::UInt(u))
            } else {
                // Exact decimal text; the server converts it for the column.
                hole(Value::Bytes(n.to_string().into_bytes()))
            }
        }
        Json::String(s) => {
            if data_type == "json" {
                return hole(Value::Bytes(
                    Json::String(s.clone()).to_string().into_bytes(),
                ));
            }
            if data_type == "timestamp" {
                if let Some(t) = utc_literal(s) {
                    return hole(Value::Bytes(t.into_bytes()));
                }
            }
            hole(Value::Bytes(s.clone().into_bytes()))
        }
        Json::Object(m) if data_type != "json" => {
            if let (Some(Json::String(b64)), 1) = (m.get("base64"), m.len()) {
                return (
                    "FROM_BASE64(?)".into(),
                    vec![Value::Bytes(b64.clone().into_bytes())],
                );
            }
            if let (Some(srid), Some(Json::String(wkb))) = (m.get("srid"), m.get("wkb")) {
                let srid = srid.as_u64().unwrap_or(0);
                // MySQL 8 wants the SRID; MariaDB accepts it too.
                return (
                    "ST_GeomFromWKB(UNHEX(?), ?)".into(),
                    vec![Value::Bytes(wkb.clone().into_bytes()), Value::UInt(srid)],
                );
            }
            hole(Value::Bytes(v.to_string().into_bytes()))
        }
        Json::Array(_) if data_type == "vector" => (
            "VEC_FromText(?)".into(),
            vec![Value::Bytes(v.to_string().into_bytes())],
        ),
        // JSON documents (and partial-update diffs) as their text.
        _ => hole(Value::Bytes(v.to_string().into_bytes())),
    }
}

/// `2015-01-15T23:24:25.123Z` → `2015-01-15 23:24:25.123` (UTC).
fn utc_literal(s: &str) -> Option<String> {
    let body = s.strip_suffix('Z')?;
    let (date, time) = body.split_once('T')?;
    Some(format!("{date} {time}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        match v {
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn values_convert_by_column_type() {
        let (h, p) = param(&json!("2015-01-15T23:24:25.123Z"), "timestamp");
        assert_eq!(
            (h.as_str(), text(&p[0]).as_str()),
            ("?", "2015-01-15 23:24:25.123")
        );
        let (h, p) = param(&json!({"base64": "AP8Q"}), "varbinary");
        assert_eq!(
            (h.as_str(), text(&p[0]).as_str()),
            ("FROM_BASE64(?)", "AP8Q")
        );
        let (_, p) = param(&json!(18446744073709551615u64), "bigint");
        assert_eq!(p[0], Value::UInt(u64::MAX));
        let (_, p) = param(&json!({"a": [1, "x"]}), "json");
        assert_eq!(text(&p[0]), r#"{"a":[1,"x"]}"#);
        let (_, p) = param(&json!("x"), "json");
        assert_eq!(text(&p[0]), r#""x""#);
        let (_, p) = param(&json!("12.50"), "decimal");
        assert_eq!(text(&p[0]), "12.50");
        let (h, p) = param(&json!({"srid": 4326, "wkb": "0101"}), "point");
        assert_eq!(h, "ST_GeomFromWKB(UNHEX(?), ?)");
        assert_eq!(p[1], Value::UInt(4326));
        assert_eq!(param(&Json::Null, "int").1[0], Value::NULL);
    }

    #[test]
    fn update_finds_the_row_by_its_old_key() {
        let r = ChangeRecord {
            key: pipeline::ChangeKey {
                binlog_file: "b.000001".into(),
                event_pos: 10,
                row_index: 0,
            },
            timestamp: 0,
            operation: Operation::Update,
            database: "shop".into(),
            table: "t".into(),
            pk_text: "1".into(),
            primary_key: pipeline::record::JsonText::parse(r#"{"id":1}"#.into()).unwrap(),
            old_data: Some(
                pipeline::record::JsonText::parse(r#"{"id":1,"v":"a"}"#.into()).unwrap(),
            ),
            new_data: Some(
                pipeline::record::JsonText::parse(r#"{"id":2,"v":"b"}"#.into()).unwrap(),
            ),
            changes: pipeline::record::JsonText::empty(),
            gtid: None,
            xid: None,
            query: None,
            tags: vec![],
        };
        let cols: BTreeMap<String, String> = [("id", "int"), ("v", "varchar")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let (sql, params) = statement("copy", &TableRef::new("shop", "t"), &cols, &r).unwrap();
        assert_eq!(
            sql,
            "UPDATE `copy`.`t` SET `id` = ?, `v` = ? WHERE `id` <=> ? LIMIT 1"
        );
        assert_eq!(
            params,
            vec![Value::Int(2), Value::Bytes(b"b".to_vec()), Value::Int(1)]
        );
    }
}
