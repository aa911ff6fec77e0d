//! # store — where change records are kept and queried
//!
//! Two narrow traits, one per side:
//!
//! - [`Store`] is the writer. [`Store::write_batch`] commits a batch of
//!   records, its alerts and the checkpoint after it in ONE transaction and is
//!   idempotent on [`ChangeKey`](pipeline::record::ChangeKey): a record the
//!   store already holds is skipped, never stored twice. That is what makes
//!   ingest exactly-once: resume from the oldest committed checkpoint of all
//!   stores ([`MultiStore::resume_checkpoint`]) and let each store skip what it
//!   has.
//! - [`QueryStore`] is the read side the API needs (changes of a table, row
//!   history, column changes, stats and trends from rollups, full-text search,
//!   tagged changes, alerts, a row as of a time, health) plus retention
//!   ([`QueryStore::purge_older_than`]), which runs on its own connection in
//!   small transactions so ingest waits at most one chunk.
//!
//! Both traits are synchronous: SQLite is blocking by nature, and the MySQL
//! backend drives `mysql_async` on a private runtime. From async code call
//! them inside `tokio::task::spawn_blocking` (never directly on a runtime
//! worker: the MySQL backend would panic with "Cannot start a runtime from
//! within a runtime").
//!
//! Backends, one folder each: [`sqlite`] (embedded default, one file under a
//! data directory) and [`mysql`] (a MySQL/MariaDB database created by
//! [`mysql::init_db`]). [`config`] validates settings without touching
//! anything and builds stores from them.
//!
//! ## Ids and cursors
//! Every stored change has a store-local sequence number `seq` (`i64`,
//! increasing in the order changes were committed — binlog order for one
//! stream). Listing queries page by `seq`: pass the page's `next` back as
//! `cursor`. The id to show users, stable across stores, is the record's key
//! (`record.id()`, `mysql-bin.000001:1234:0`).

pub mod config;
mod error;
mod multi;
pub mod mysql;
pub mod sqlite;
mod types;
mod util;

pub use error::{Result, StoreError};
pub use multi::{MultiStore, StoreStatus};
pub use types::*;
pub use util::{compare_checkpoints, rebuild_row, search_text};

use pipeline::record::{ChangeRecord, Checkpoint};

/// The writing side of a store. One writer per store.
pub trait Store: Send {
    /// A short name for logs, metrics and health (`sqlite:/data/x.db`).
    fn name(&self) -> &str;

    /// The last committed checkpoint, `None` when nothing was ever committed.
    fn checkpoint(&mut self) -> Result<Option<Checkpoint>>;

    /// Commits `records`, `alerts` and `checkpoint` atomically: after an error
    /// nothing of the batch is stored and the previous checkpoint stands.
    /// Records whose key is already stored are skipped (as are their rule
    /// alerts, which are keyed by change and rule name); rollups count only
    /// the records actually inserted.
    fn write_batch(
        &mut self,
        records: &[ChangeRecord],
        alerts: &[Alert],
        checkpoint: &Checkpoint,
    ) -> Result<WriteOutcome>;

    /// Persists an opaque schema-history document valid from `at` on.
    /// Saving again at the same position replaces it.
    fn save_schema(&mut self, at: &SchemaPosition, document: &str) -> Result<()>;

    /// The newest schema document saved at or before `at`.
    fn schema_at(&mut self, at: &SchemaPosition) -> Result<Option<SchemaSnapshot>>;

    /// The oldest schema document saved (for input older than all of them).
    fn schema_earliest(&mut self) -> Result<Option<SchemaSnapshot>>;

    /// Background work between batches or when idle, at most `budget`
    /// rows of it (today: the SQLite store's deferred search backlog).
    /// Returns how much was done; 0 when there is nothing to do.
    fn maintain(&mut self, budget: usize) -> Result<usize> {
        let _ = budget;
        Ok(0)
    }
}

/// The read and maintenance side of a store; cheap to share between threads.
pub trait QueryStore: Send + Sync {
    fn name(&self) -> &str;

    /// Tables that have (or had) stored changes, by database then name.
    fn tables(&self) -> Result<Vec<TableRef>>;

    /// Changes of one table, by `seq`, filtered by time range and operation.
    /// Unknown table: [`StoreError::UnknownTable`].
    fn changes(&self, query: &ChangesQuery) -> Result<Page<StoredChange>>;

    /// One stored change by its key id (`file:pos:row`).
    fn change_by_key(&self, key: &pipeline::record::ChangeKey) -> Result<Option<StoredChange>>;

    /// The changes of one row (by `primary_key_text`), by `seq`.
    fn row_history(&self, query: &RowHistoryQuery) -> Result<Page<StoredChange>>;

    /// Changes that touched one column: UPDATEs where it changed, INSERTs
    /// and DELETEs whose image has it.
    fn column_changes(&self, query: &ColumnChangesQuery) -> Result<Page<ColumnChangeItem>>;

    /// Totals, per operation, per day and per hour of day, from rollups.
    fn table_stats(&self, database: &str, table: &str, range: TimeRange) -> Result<TableStats>;

    /// Counts per bucket (minute/hour/day) from rollups, for one table or all.
    fn trend(&self, query: &TrendQuery) -> Result<Vec<TrendPoint>>;

    /// Full-text search over stored values, newest first.
    fn search(&self, query: &SearchQuery) -> Result<Page<StoredChange>>;

    /// Changes tagged by a `track: true` rule, by `seq`.
    fn tagged(&self, query: &TaggedQuery) -> Result<Page<StoredChange>>;

    /// Stored alerts, newest first.
    fn alerts(&self, query: &AlertQuery) -> Result<Page<StoredAlert>>;

    /// The row as it was at `at` (inclusive), rebuilt from its history.
    fn row_as_of(&self, database: &str, table: &str, primary_key: &str, at: u32)
        -> Result<RowAsOf>;

    /// The last committed checkpoint (as the writer sees it after commit).
    fn checkpoint(&self) -> Result<Option<Checkpoint>>;

    /// Reachability and a few figures.
    fn health(&self) -> StoreHealth;

    /// Deletes changes (and their search entries, tags, statements), alerts
    /// and rollups older than `before` (seconds; rounded down to a whole
    /// minute so rollups and records stay consistent), in transactions of at
    /// most `chunk_rows` changes, so a concurrent writer waits at most one
    /// chunk.
    fn purge_older_than(&self, before: u32, chunk_rows: usize) -> Result<PurgeReport>;
}
