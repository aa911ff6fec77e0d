//! From decoded rows to masked change records, tags and alerts.
//!
//! Per rows event, [`Pipeline::table`] resolves the table map against the
//! config once (filter, tracked columns, primary key, masking, rule column
//! slots) and caches the answer until the table's shape changes; per row,
//! [`Pipeline::process`] builds the [`ChangeRecord`]:
//!
//! - `old_data` / `new_data`: JSON objects keyed by column name (`@N` when
//!   the binlog and schema give none), values per `VALUES.md`, only tracked
//!   columns — primary-key columns are always kept, so a stored image can
//!   always be tied to its row. Columns absent from a minimal row image are
//!   left out.
//! - `primary_key`: the configured `primary_key` columns when the table has
//!   them, else the key the binlog/schema reports; each value from the
//!   before image, or the after image for an INSERT.
//! - `changes` (UPDATE): tracked columns whose value differs,
//!   `{"old": …, "new": …}`; `old` is left out when the before image does
//!   not hold the column.
//! - masking is applied while each value is converted, so raw values of
//!   sensitive columns never exist in a record, its `changes`, its key, the
//!   alerts, or the statement text (see `masking.query`).
//! - rules are evaluated on the raw, full row before masking (a rule may
//!   test a column that is masked or not tracked); their results are
//!   `tags` and [`Alert`]s carrying only masked data.
//!
//! Fail-closed: when a table has sensitive columns but the binlog gives no
//! column names (binlog_row_metadata=MINIMAL and no schema), sensitive
//! columns cannot be found, so its records keep no values and no statement
//! (a warning says so once).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use binlog::column::ColumnDef;
use binlog::events::rows::RowChange;
use binlog::events::TableMap;
use binlog::value::{render, Value};
use serde_json::{Map, Value as Json};

use crate::config::{Config, ConfigError, QueryPolicy, RuleConfig, TableConfig};
use crate::filter::TableFilter;
use crate::mask::{redact_query, MaskSpec, MaskStrategy, Masker};
use crate::record::{primary_key_text, ChangeKey, ChangeRecord, JsonText, Operation};
use crate::rules::{Alert, BinlogRow, Condition, Subject};

/// Where a row change is, and what the binlog says around it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowContext<'a> {
    pub binlog_file: &'a str,
    /// Offset of the rows event.
    pub event_pos: u64,
    /// Index of the row in the rows event.
    pub row_index: u32,
    /// Event timestamp (seconds since the epoch, UTC).
    pub timestamp: u32,
    /// GTID of the transaction, as text.
    pub gtid: Option<&'a str>,
    /// Usually unknown until the commit; [`crate::batch::Batcher::commit`]
    /// fills it in.
    pub xid: Option<u64>,
    /// ANNOTATE_ROWS / ROWS_QUERY text.
    pub query: Option<&'a str>,
}

/// A processed row: the record and the alerts it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub record: ChangeRecord,
    pub alerts: Vec<Alert>,
}

/// A table map resolved against the config.
#[derive(Debug)]
pub struct PreparedTable {
    pub database: String,
    pub table: String,
    pub config: Arc<TableConfig>,
    /// Column keys in the JSON images (name, or `@N`).
    pub column_keys: Vec<String>,
    /// The same, escaped as JSON with the colon: `"name":`.
    key_json: Vec<Vec<u8>>,
    /// Column kept in the images (tracked or primary key).
    keep: Vec<bool>,
    /// Primary-key column indexes, in key order.
    pk: Vec<usize>,
    mask: Vec<Option<MaskSpec>>,
    rules: Vec<PreparedRule>,
    /// Sensitive columns configured but not identifiable: keep no values.
    blind: bool,
    query_policy: QueryPolicy,
}

impl PreparedTable {
    /// Whether changes of this operation are kept.
    pub fn wants(&self, op: Operation) -> bool {
        self.config.operations.contains(&op)
    }
}

#[derive(Debug)]
struct PreparedRule {
    rule: RuleConfig,
    condition: Arc<Condition>,
    slots: Vec<Option<usize>>,
}

struct CacheEntry {
    names: Vec<Option<String>>,
    pk: Vec<usize>,
    prepared: Option<Arc<PreparedTable>>,
}

/// Filter → record → masking → rules, for one stream of row changes.
pub struct Pipeline {
    filter: TableFilter,
    masker: Masker,
    default_strategy: MaskStrategy,
    query_policy: QueryPolicy,
    /// Compiled rule conditions by condition text.
    conditions: HashMap<String, Arc<Condition>>,
    cache: HashMap<(String, String), CacheEntry>,
    warned: HashSet<String>,
    warnings: Vec<String>,
    last_query: Option<(String, Option<String>)>,
    json_buf: Vec<u8>,
    /// Sizes of the last images, to size the next ones' buffers.
    old_len: usize,
    new_len: usize,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Build from a validated config and the masking key
    /// ([`Config::load_hash_key`]). Fails only if a rule does not compile
    /// (which [`Config::validate`] reports first).
    pub fn new(cfg: &Config, hash_key: &[u8]) -> Result<Pipeline, ConfigError> {
        let mut conditions = HashMap::new();
        let mut issues = Vec::new();
        for t in &cfg.tables.entries {
            for r in &t.rules {
                match Condition::compile(&r.condition) {
                    Ok(c) => {
                        conditions.insert(r.condition.clone(), Arc::new(c));
                    }
                    Err(msg) => issues.push(crate::config::ConfigIssue::new(
                        &r.origin.file,
                        format!("{}.condition", r.origin.path),
                        msg,
                    )),
                }
            }
        }
        if !issues.is_empty() {
            return Err(issues.into());
        }
        Ok(Pipeline {
            filter: TableFilter::new(&cfg.tables),
            masker: Masker::new(hash_key),
            default_strategy: cfg.masking.default_strategy,
            query_policy: cfg.masking.effective_query_policy(cfg.any_sensitive()),
            conditions,
            cache: HashMap::new(),
            warned: HashSet::new(),
            warnings: Vec::new(),
            last_query: None,
            json_buf: Vec::new(),
            old_len: 0,
            new_len: 0,
        })
    }

    /// Whether changes of `database.table` are processed at all (cheap;
    /// lets a reader skip decoding rows of other tables).
    pub fn wants_table(&mut self, database: &str, table: &str) -> bool {
        self.filter.lookup(database, table).is_some()
    }

    /// The table resolved against the config, or `None` when it is not
    /// monitored. Cached until the table's column names or key change.
    pub fn table(&mut self, map: &TableMap) -> Option<Arc<PreparedTable>> {
        let key = (map.database.clone(), map.table.clone());
        if let Some(e) = self.cache.get(&key) {
            let same = e.names.len() == map.columns.len()
                && e.names.iter().zip(&map.columns).all(|(n, c)| *n == c.name)
                && e.pk == map.primary_key;
            if same {
                return e.prepared.clone();
            }
        }
        let prepared = self.prepare(map).map(Arc::new);
        self.cache.insert(
            key,
            CacheEntry {
                names: map.columns.iter().map(|c| c.name.clone()).collect(),
                pk: map.primary_key.clone(),
                prepared: prepared.clone(),
            },
        );
        prepared
    }

    fn warn_once(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            self.warnings.push(message);
        }
    }

    /// Warnings found at run time (each reported once): configured columns
    /// the table lacks, unknown column names. Drains them.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn prepare(&mut self, map: &TableMap) -> Option<PreparedTable> {
        let config = self.filter.lookup(&map.database, &map.table)?;
        let qualified = map.qualified_name();
        let n = map.columns.len();
        let names: Vec<String> = (0..n).map(|i| map.column_name(i)).collect();
        let has_names = map.columns.iter().any(|c| c.name.is_some());
        let find = |col: &str| names.iter().position(|n| n.eq_ignore_ascii_case(col));

        let mut keep = vec![config.track_columns.is_none(); n];
        if let Some(track) = &config.track_columns {
            for col in track {
                match find(col) {
                    Some(i) => keep[i] = true,
                    None if has_names => self.warn_once(
                        format!("track:{qualified}:{col}"),
                        format!("{qualified}: track_columns names `{col}`, which the table does not have"),
                    ),
                    None => {}
                }
            }
            if !has_names {
                self.warn_once(
                    format!("names:{qualified}"),
                    format!(
                        "{qualified}: the binlog gives no column names (binlog_row_metadata=MINIMAL, no schema): track_columns cannot be applied, all columns are kept as @1, @2, …"
                    ),
                );
                keep = vec![true; n];
            }
        }

        let mut pk: Vec<usize> = map.primary_key.iter().copied().filter(|&i| i < n).collect();
        if let Some(cols) = &config.primary_key {
            let resolved: Option<Vec<usize>> = cols.iter().map(|c| find(c)).collect();
            match resolved {
                Some(idx) => pk = idx,
                None => self.warn_once(
                    format!("pk:{qualified}"),
                    format!(
                        "{qualified}: primary_key {} is not among the table's columns; using the key the binlog reports",
                        cols.join(", ")
                    ),
                ),
            }
        }
        for &i in &pk {
            keep[i] = true;
        }

        let masked = config.masked_columns(self.default_strategy);
        let mut mask = vec![None; n];
        for (col, spec) in &masked {
            match find(col) {
                Some(i) => mask[i] = Some(*spec),
                None if has_names => self.warn_once(
                    format!("mask:{qualified}:{col}"),
                    format!("{qualified}: sensitive column `{col}` is not in the table (check its name)"),
                ),
                None => {}
            }
        }
        let blind = !has_names && !masked.is_empty();
        if blind {
            self.warn_once(
                format!("blind:{qualified}"),
                format!(
                    "{qualified}: sensitive columns are configured but the binlog gives no column names, so they cannot be found: its changes are stored without values or statement text (enable binlog_row_metadata=FULL or schema tracking)"
                ),
            );
        }

        let mut rules = Vec::new();
        for rule in &config.rules {
            let Some(condition) = self.conditions.get(&rule.condition).cloned() else {
                continue;
            };
            let slots = condition.resolve(&names);
            for (col, slot) in condition.columns().iter().zip(&slots) {
                if slot.is_none() {
                    let why = if has_names {
                        "which the table does not have"
                    } else {
                        "but the binlog gives no column names"
                    };
                    self.warn_once(
                        format!("rule:{qualified}:{}:{col}", rule.name),
                        format!(
                            "{qualified}: rule {} names column `{col}`, {why}: it reads as NULL",
                            rule.name
                        ),
                    );
                }
            }
            rules.push(PreparedRule {
                rule: rule.clone(),
                condition,
                slots,
            });
        }

        Some(PreparedTable {
            database: map.database.clone(),
            table: map.table.clone(),
            config,
            key_json: names
                .iter()
                .map(|n| {
                    let mut k = Vec::with_capacity(n.len() + 3);
                    render::write_json_str(&mut k, n);
                    k.push(b':');
                    k
                })
                .collect(),
            column_keys: names,
            keep,
            pk,
            mask,
            rules,
            blind,
            query_policy: self.query_policy,
        })
    }

    /// One row change → its record and alerts; `None` when the operation
    /// is not monitored for this table. `map` is the table map the row was
    /// decoded with (the one `t` was prepared from).
    pub fn process(
        &mut self,
        t: &PreparedTable,
        map: &TableMap,
        op: Operation,
        row: &RowChange<'_>,
        ctx: &RowContext<'_>,
    ) -> Option<Processed> {
        if !t.wants(op) {
            return None;
        }
        let before = if op == Operation::Insert {
            None
        } else {
            row.before.as_deref()
        };
        let after = if op == Operation::Delete {
            None
        } else {
            row.after.as_deref()
        };

        // Rules first, on raw values.
        let mut tags = Vec::new();
        let mut fired: Vec<&PreparedRule> = Vec::new();
        for r in &t.rules {
            let source = BinlogRow {
                columns: &map.columns,
                before,
                after,
                slots: &r.slots,
            };
            let subject = Subject {
                operation: op,
                database: &t.database,
                table: &t.table,
                row: &source,
            };
            if r.condition.matches(&subject) {
                if r.rule.track {
                    tags.push(r.rule.name.clone());
                }
                if r.rule.alert {
                    fired.push(r);
                }
            }
        }

        let mut primary_key = Map::with_capacity(t.pk.len());
        let mut old_data = before.map(|_| self.image_buf(self.old_len));
        let mut new_data = after.map(|_| self.image_buf(self.new_len));
        let mut changes: Vec<u8> = Vec::new();
        if !t.blind {
            for &i in &t.pk {
                let v = before
                    .and_then(|b| b.get(i))
                    .and_then(Option::as_ref)
                    .or_else(|| after.and_then(|a| a.get(i)).and_then(Option::as_ref));
                if let (Some(v), Some(col), Some(k)) = (v, map.columns.get(i), t.column_keys.get(i))
                {
                    primary_key.insert(k.clone(), self.cell(v, col, t.mask[i].as_ref()));
                }
            }
            for (i, col) in map.columns.iter().enumerate() {
                if !t.keep.get(i).copied().unwrap_or(false) {
                    continue;
                }
                let Some(key) = t.key_json.get(i) else {
                    continue;
                };
                let spec = t.mask.get(i).copied().flatten();
                let old = before.and_then(|b| b.get(i)).and_then(Option::as_ref);
                let new = after.and_then(|a| a.get(i)).and_then(Option::as_ref);
                let old_span = match (old_data.as_mut(), old) {
                    (Some(buf), Some(v)) => {
                        Some(self.write_member(buf, key, v, col, spec.as_ref()))
                    }
                    _ => None,
                };
                let new_span = match (new_data.as_mut(), new) {
                    (Some(buf), Some(v)) => {
                        Some(self.write_member(buf, key, v, col, spec.as_ref()))
                    }
                    _ => None,
                };
                // `changes` reuses the text just written to the images.
                if op == Operation::Update && old != new {
                    if let (Some(nb), Some(ns)) = (new_data.as_ref(), new_span) {
                        changes.push(if changes.is_empty() { b'{' } else { b',' });
                        changes.extend_from_slice(key);
                        changes.push(b'{');
                        if let (Some(ob), Some(os)) = (old_data.as_ref(), old_span) {
                            changes.extend_from_slice(b"\"old\":");
                            changes.extend_from_slice(&ob[os]);
                            changes.push(b',');
                        }
                        changes.extend_from_slice(b"\"new\":");
                        changes.extend_from_slice(&nb[ns]);
                        changes.push(b'}');
                    }
                }
            }
        }
        if let Some(b) = &old_data {
            self.old_len = b.len();
        }
        if let Some(b) = &new_data {
            self.new_len = b.len();
        }
        let old_data = old_data.map(close_object);
        let new_data = new_data.map(close_object);
        let changes = if changes.is_empty() {
            JsonText::empty()
        } else {
            changes.push(b'}');
            text_object(changes)
        };

        let query = if t.blind {
            None
        } else {
            ctx.query.and_then(|q| self.statement(q, t.query_policy))
        };
        let key = ChangeKey {
            binlog_file: ctx.binlog_file.to_string(),
            event_pos: ctx.event_pos,
            row_index: ctx.row_index,
        };
        let record = ChangeRecord {
            key,
            timestamp: ctx.timestamp,
            operation: op,
            database: t.database.clone(),
            table: t.table.clone(),
            pk_text: primary_key_text(&primary_key),
            primary_key: JsonText::from_map(&primary_key),
            old_data,
            new_data,
            changes,
            gtid: ctx.gtid.map(str::to_string),
            xid: ctx.xid,
            query,
            tags,
        };
        let alerts = fired
            .iter()
            .map(|r| alert(&r.rule, &record, &primary_key))
            .collect();
        Some(Processed { record, alerts })
    }

    /// A buffer for an image, with room for as much as the last one took.
    fn image_buf(&self, last_len: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(last_len.max(64));
        buf.push(b'{');
        buf
    }

    /// Appends `"key":value` (masked when `spec` says so) to an open
    /// object; returns where the value's text is in `buf`.
    fn write_member(
        &mut self,
        buf: &mut Vec<u8>,
        key: &[u8],
        v: &Value<'_>,
        col: &ColumnDef,
        spec: Option<&MaskSpec>,
    ) -> std::ops::Range<usize> {
        if buf.len() > 1 {
            buf.push(b',');
        }
        buf.extend_from_slice(key);
        let start = buf.len();
        match spec {
            Some(s) => {
                let masked = self.masker.mask(&to_json(v, col, &mut self.json_buf), s);
                // Writing a JSON value into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *buf, &masked);
            }
            None => write_json(buf, v, col),
        }
        start..buf.len()
    }

    /// A value as record JSON, masked when `spec` says so.
    fn cell(&mut self, v: &Value<'_>, col: &ColumnDef, spec: Option<&MaskSpec>) -> Json {
        let json = to_json(v, col, &mut self.json_buf);
        match spec {
            Some(s) => self.masker.mask(&json, s),
            None => json,
        }
    }

    /// The statement under the query policy; consecutive rows of one event
    /// share it, so the last answer is reused.
    fn statement(&mut self, q: &str, policy: QueryPolicy) -> Option<String> {
        match policy {
            QueryPolicy::Keep | QueryPolicy::Auto => Some(q.to_string()),
            QueryPolicy::Drop => None,
            QueryPolicy::Redact => {
                if let Some((last, out)) = &self.last_query {
                    if last == q {
                        return out.clone();
                    }
                }
                let out = redact_query(q);
                self.last_query = Some((q.to_string(), out.clone()));
                out
            }
        }
    }
}

/// Closes an image opened by [`Pipeline::image_buf`].
fn close_object(mut buf: Vec<u8>) -> JsonText {
    buf.push(b'}');
    text_object(buf)
}

fn text_object(buf: Vec<u8>) -> JsonText {
    // The renderer writes UTF-8 only (text is escaped, bytes are base64).
    let text = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    JsonText::from_rendered(text)
}

/// A decoded value as JSON text following `VALUES.md`, written straight
/// into `out` — the same value [`to_json`] builds.
pub fn write_json(out: &mut Vec<u8>, v: &Value<'_>, col: &ColumnDef) {
    match v {
        // JSON documents come from the binlog's own binary format: check
        // the text before it becomes part of a stored object, as
        // [`to_json`] does.
        Value::Json(_) | Value::JsonDiff(_) => {
            let start = out.len();
            render::write_json_value(out, v, col);
            if serde_json::from_slice::<serde::de::IgnoredAny>(&out[start..]).is_err() {
                let text = String::from_utf8_lossy(&out[start..]).into_owned();
                out.truncate(start);
                render::write_json_str(out, &text);
            }
        }
        _ => render::write_json_value(out, v, col),
    }
}

fn alert(rule: &RuleConfig, record: &ChangeRecord, primary_key: &Map<String, Json>) -> Alert {
    let mut message = format!(
        "{}: {} on {}.{}",
        rule.name,
        record.operation.as_str(),
        record.database,
        record.table
    );
    if !primary_key.is_empty() {
        let keys: Vec<&str> = primary_key.keys().map(String::as_str).collect();
        message.push_str(&format!(" ({} = {})", keys.join(","), record.pk_text));
    }
    if !record.changes.is_empty() {
        let changes = record.changes.to_map();
        let cols: Vec<&str> = changes.keys().map(String::as_str).collect();
        message.push_str(&format!(", changed {}", cols.join(", ")));
    }
    Alert {
        rule: rule.name.clone(),
        priority: rule.priority,
        database: record.database.clone(),
        table: record.table.clone(),
        change_id: record.id(),
        operation: record.operation,
        timestamp: record.timestamp,
        primary_key: primary_key.clone(),
        channels: rule.channels.clone(),
        message,
    }
}

/// A decoded value as JSON following `VALUES.md` (the same text
/// `binlog::value::write_json_value` prints; numbers keep their exact
/// digits thanks to serde_json's arbitrary_precision). Common types are
/// built directly; the rest go through the renderer.
pub fn to_json(v: &Value<'_>, col: &ColumnDef, buf: &mut Vec<u8>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Text(s) => Json::String(s.to_string()),
        Value::Decimal(s) => Json::String(s.to_string()),
        _ => {
            buf.clear();
            render::write_json_value(buf, v, col);
            // Plain strings (temporal values, labels) need no JSON parse.
            if buf.len() >= 2
                && buf[0] == b'"'
                && buf[buf.len() - 1] == b'"'
                && !buf.contains(&b'\\')
            {
                if let Ok(s) = std::str::from_utf8(&buf[1..buf.len() - 1]) {
                    return Json::String(s.to_string());
                }
            }
            serde_json::from_slice(buf)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(buf).into_owned()))
        }
    }
}

#[cfg(test)]
mod tests;
