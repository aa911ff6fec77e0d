//! Values that cross the store boundary: alerts, query parameters, results.

use pipeline::record::{ChangeKey, ChangeRecord, Checkpoint, Operation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// Default and upper bound for a page of results.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 10_000;

/// An alert raised by a rule (`kind = "rule"`, with the change it is about)
/// or by a threshold (`binlog_lag`, `error_rate`, `bulk_operations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `rule` or the threshold alert's name.
    pub kind: String,
    /// Rule name, or the threshold alert's name again.
    pub name: String,
    /// As configured (`high`, `medium`, `low`, ...).
    pub priority: String,
    /// Seconds since the epoch: the change's time for rule alerts.
    pub timestamp: u32,
    pub database: Option<String>,
    pub table: Option<String>,
    /// The change that raised it. A store keeps one alert per (change, name),
    /// so re-writing a batch does not repeat rule alerts.
    pub change: Option<ChangeKey>,
    pub message: String,
    /// Free-form context (thresholds, observed values, ...).
    pub details: Json,
}

impl Alert {
    /// The stored form of a rule alert from the pipeline (kind `rule`,
    /// keyed by its change so a re-written batch does not repeat it).
    pub fn from_rule(a: &pipeline::rules::Alert) -> Alert {
        Alert {
            kind: "rule".into(),
            name: a.rule.clone(),
            priority: a.priority.as_str().into(),
            timestamp: a.timestamp,
            database: Some(a.database.clone()),
            table: Some(a.table.clone()),
            change: crate::util::parse_change_key(&a.change_id),
            message: a.message.clone(),
            details: serde_json::json!({
                "operation": a.operation.as_str(),
                "primary_key": a.primary_key,
                "channels": a.channels,
            }),
        }
    }
}

/// An alert as stored, with its store-local id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub id: i64,
    pub alert: Alert,
}

/// What one `write_batch` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    pub inserted: usize,
    /// Records already held (same key), not stored again.
    pub skipped: usize,
    pub alerts_inserted: usize,
}

/// Where a schema-history document applies from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaPosition {
    pub binlog_file: String,
    pub binlog_pos: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSnapshot {
    pub at: SchemaPosition,
    pub document: String,
}

/// A stored change: the record plus its store-local sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChange {
    pub seq: i64,
    pub record: ChangeRecord,
}

/// A page of results; `next` is the cursor for the following page, `None`
/// when there is nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// Seconds since the epoch, `[start, end)`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: Option<u32>,
    pub end: Option<u32>,
}

impl TimeRange {
    pub fn all() -> Self {
        TimeRange::default()
    }

    pub fn between(start: u32, end: u32) -> Self {
        TimeRange {
            start: Some(start),
            end: Some(end),
        }
    }

    /// The minute buckets that can hold changes of the range, `[first, last)`.
    pub(crate) fn minutes(&self) -> (i64, i64) {
        let first = self.start.map_or(0, |s| i64::from(s) / 60);
        let last = self.end.map_or(i64::MAX, |e| (i64::from(e) + 59) / 60);
        (first, last)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesQuery {
    pub database: String,
    pub table: String,
    pub range: TimeRange,
    /// Empty: every operation.
    pub operations: Vec<Operation>,
    pub order: Order,
    /// `next` of the previous page.
    pub cursor: Option<i64>,
    pub limit: u32,
}

impl ChangesQuery {
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Self {
        ChangesQuery {
            database: database.into(),
            table: table.into(),
            range: TimeRange::all(),
            operations: Vec::new(),
            order: Order::Asc,
            cursor: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowHistoryQuery {
    pub database: String,
    pub table: String,
    /// As [`pipeline::record::primary_key_text`] renders it.
    pub primary_key: String,
    pub range: TimeRange,
    /// Empty: every operation (`[Update]` gives the row's update diffs).
    pub operations: Vec<Operation>,
    pub order: Order,
    pub cursor: Option<i64>,
    pub limit: u32,
}

impl RowHistoryQuery {
    pub fn new(
        database: impl Into<String>,
        table: impl Into<String>,
        primary_key: impl Into<String>,
    ) -> Self {
        RowHistoryQuery {
            database: database.into(),
            table: table.into(),
            primary_key: primary_key.into(),
            range: TimeRange::all(),
            operations: Vec::new(),
            order: Order::Asc,
            cursor: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChangesQuery {
    pub database: String,
    pub table: String,
    pub column: String,
    pub range: TimeRange,
    pub order: Order,
    pub cursor: Option<i64>,
    pub limit: u32,
}

impl ColumnChangesQuery {
    pub fn new(
        database: impl Into<String>,
        table: impl Into<String>,
        column: impl Into<String>,
    ) -> Self {
        ColumnChangesQuery {
            database: database.into(),
            table: table.into(),
            column: column.into(),
            range: TimeRange::all(),
            order: Order::Asc,
            cursor: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One column's change. `old`/`new` are `None` where the image lacks the
/// column (no before image for INSERT, no after image for DELETE); a SQL
/// NULL is `Some(Json::Null)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChangeItem {
    pub seq: i64,
    pub id: String,
    pub timestamp: u32,
    pub operation: Operation,
    pub primary_key: Map<String, Json>,
    pub old: Option<Json>,
    pub new: Option<Json>,
}

/// Counts per operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub insert: u64,
    pub update: u64,
    pub delete: u64,
}

impl OpCounts {
    pub fn total(&self) -> u64 {
        self.insert + self.update + self.delete
    }

    pub fn get(&self, op: Operation) -> u64 {
        match op {
            Operation::Insert => self.insert,
            Operation::Update => self.update,
            Operation::Delete => self.delete,
        }
    }

    pub(crate) fn add(&mut self, op: Operation, n: u64) {
        match op {
            Operation::Insert => self.insert += n,
            Operation::Update => self.update += n,
            Operation::Delete => self.delete += n,
        }
    }
}

/// Stats of one table over a range (minute resolution, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    pub total_changes: u64,
    pub operations: OpCounts,
    /// Per UTC day (`YYYY-MM-DD`), ascending; days without changes omitted.
    pub daily: Vec<DailyCount>,
    /// Per hour of the day (UTC), always 24 entries, hour 0..=23.
    pub hourly: Vec<HourCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub date: String,
    /// Start of the day, seconds since the epoch.
    pub day_start: u32,
    pub counts: OpCounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: u8,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bucket {
    Minute,
    Hour,
    Day,
}

impl Bucket {
    pub fn minutes(self) -> i64 {
        match self {
            Bucket::Minute => 1,
            Bucket::Hour => 60,
            Bucket::Day => 1440,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendQuery {
    /// `None`: every table.
    pub table: Option<TableRef>,
    pub range: TimeRange,
    pub bucket: Bucket,
}

/// One bucket of a trend series; buckets without changes are omitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Start of the bucket, seconds since the epoch.
    pub start: u32,
    pub counts: OpCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableRef {
    pub database: String,
    pub table: String,
}

impl TableRef {
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Self {
        TableRef {
            database: database.into(),
            table: table.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Words to find, all of them (each may end in `*` for a prefix). Not
    /// a query language: quotes and operators are taken as text.
    pub text: String,
    pub table: Option<TableRef>,
    /// Newest first; `next` of the previous page.
    pub cursor: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedQuery {
    pub rule: String,
    pub table: Option<TableRef>,
    pub range: TimeRange,
    pub order: Order,
    pub cursor: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertQuery {
    pub range: TimeRange,
    pub table: Option<TableRef>,
    /// Rule or threshold alert name.
    pub name: Option<String>,
    /// Newest first; `next` of the previous page.
    pub cursor: Option<i64>,
    pub limit: u32,
}

/// A row rebuilt from its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowAsOf {
    /// False when the row did not exist then (never inserted yet as far as
    /// the store knows, or deleted).
    pub exists: bool,
    /// The tracked columns' values; images are merged in order, so minimal
    /// row images add up.
    pub row: Option<Map<String, Json>>,
    /// The last change applied, if any.
    pub last_change: Option<StoredChange>,
    /// How many changes were applied.
    pub changes_applied: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreHealth {
    pub name: String,
    pub backend: String,
    pub ok: bool,
    pub error: Option<String>,
    pub checkpoint: Option<Checkpoint>,
    /// Changes held, from rollups (cheap).
    pub changes: Option<u64>,
    /// Size on disk (SQLite file plus WAL).
    pub size_bytes: Option<u64>,
    /// Changes not yet in the search index (deferred indexing).
    pub search_backlog: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub changes: u64,
    pub alerts: u64,
    pub rollups: u64,
    /// Transactions used.
    pub chunks: u64,
}
