//! `stats`: aggregation of row changes, transactions and DDL, and its text
//! and JSON reports.
//!
//! The driver feeds this per rows event (not per row), so aggregation costs
//! nothing next to value decoding, which `stats` still does in full.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use binlog::events::rows::{RowBuffers, RowsKind};
use binlog::events::{RowsEvent, TableMap};
use binlog::stream::TableIdMap;
use binlog::txn::{TxnEnd, XaId};

use serde_json::{json, Map, Value as J};

use crate::output::{Ctx, Ending, Opening, Sink, StatementRecord};
use crate::time::iso_string;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    fn index(self) -> usize {
        self as usize
    }
}

/// Row changes by operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    pub counts: [u64; 3],
}

impl OpCounts {
    pub fn add(&mut self, op: Op, n: u64) {
        self.counts[op.index()] += n;
    }
    pub fn get(&self, op: Op) -> u64 {
        self.counts[op.index()]
    }
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    fn merge(&mut self, o: &OpCounts) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
    }
    fn to_json(self) -> J {
        json!({
            "INSERT": self.get(Op::Insert),
            "UPDATE": self.get(Op::Update),
            "DELETE": self.get(Op::Delete),
            "total": self.total(),
        })
    }
}

/// One finished transaction, as far as stats cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxnSummary {
    pub binlog_file: String,
    /// Offset of the first event (GTID or BEGIN).
    pub start_pos: u64,
    /// Offset of the ending event (XID / COMMIT / XA PREPARE …).
    pub end_pos: u64,
    pub gtid: Option<String>,
    pub xid: Option<u64>,
    pub rows: u64,
    pub bytes: u64,
    pub first_timestamp: u32,
    pub commit_timestamp: u32,
}

impl TxnSummary {
    pub fn duration_secs(&self) -> u64 {
        self.commit_timestamp.saturating_sub(self.first_timestamp) as u64
    }
    fn to_json(&self) -> J {
        json!({
            "binlog_file": self.binlog_file,
            "start_pos": self.start_pos,
            "end_pos": self.end_pos,
            "gtid": self.gtid,
            "xid": self.xid,
            "rows": self.rows,
            "bytes": self.bytes,
            "start_time": iso_string(self.first_timestamp),
            "commit_time": iso_string(self.commit_timestamp),
            "duration_secs": self.duration_secs(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlSummary {
    pub binlog_file: String,
    pub binlog_pos: u64,
    pub timestamp: u32,
    pub database: String,
    pub query: String,
    pub gtid: Option<String>,
}

/// The `k` greatest items by a key; ties keep the earlier item.
#[derive(Debug, Clone)]
pub struct TopN {
    k: usize,
    items: Vec<(u64, TxnSummary)>,
}

impl TopN {
    pub fn new(k: usize) -> Self {
        TopN {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }
    pub fn offer(&mut self, key: u64, item: &TxnSummary) {
        if !self.admits(key) {
            return;
        }
        // Insert after every item with key >= this one: stable for ties.
        let at = self.items.partition_point(|(k, _)| *k >= key);
        self.items.insert(at, (key, item.clone()));
        self.items.truncate(self.k);
    }
    /// Whether an item with `key` would be kept now.
    pub fn admits(&self, key: u64) -> bool {
        self.k > 0
            && (self.items.len() < self.k || self.items.last().is_some_and(|(min, _)| key > *min))
    }
    pub fn items(&self) -> impl Iterator<Item = &TxnSummary> {
        self.items.iter().map(|(_, t)| t)
    }
}

pub const ROW_BUCKETS: [(&str, u64, u64); 6] = [
    ("1", 1, 1),
    ("2-10", 2, 10),
    ("11-100", 11, 100),
    ("101-1k", 101, 1_000),
    ("1k-10k", 1_001, 10_000),
    (">10k", 10_001, u64::MAX),
];

pub const BYTE_BUCKETS: [(&str, u64, u64); 6] = [
    ("<1KiB", 0, 1023),
    ("1KiB-10KiB", 1024, 10 * 1024 - 1),
    ("10KiB-100KiB", 10 * 1024, 100 * 1024 - 1),
    ("100KiB-1MiB", 100 * 1024, 1024 * 1024 - 1),
    ("1MiB-10MiB", 1024 * 1024, 10 * 1024 * 1024 - 1),
    (">=10MiB", 10 * 1024 * 1024, u64::MAX),
];

fn bucket(buckets: &[(&str, u64, u64); 6], v: u64) -> usize {
    buckets
        .iter()
        .position(|&(_, lo, hi)| lo <= v && v <= hi)
        .unwrap_or(0)
}

#[derive(Debug, Clone)]
pub struct Stats {
    tables: Vec<((String, String), OpCounts)>,
    table_index: HashMap<(String, String), usize>,
    per_minute: BTreeMap<u32, OpCounts>,
    pub transactions: u64,
    pub transactions_without_rows: u64,
    rows_in_transactions: u64,
    bytes_in_transactions: u64,
    row_buckets: [u64; 6],
    byte_buckets: [u64; 6],
    largest_by_rows: TopN,
    largest_by_bytes: TopN,
    longest: TopN,
    ddl: Vec<DdlSummary>,
    pub statements: u64,
    pub events: u64,
    pub files: Vec<String>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Self {
        Stats {
            tables: Vec::new(),
            table_index: HashMap::new(),
            per_minute: BTreeMap::new(),
            transactions: 0,
            transactions_without_rows: 0,
            rows_in_transactions: 0,
            bytes_in_transactions: 0,
            row_buckets: [0; 6],
            byte_buckets: [0; 6],
            largest_by_rows: TopN::new(10),
            largest_by_bytes: TopN::new(10),
            longest: TopN::new(10),
            ddl: Vec::new(),
            statements: 0,
            events: 0,
            files: Vec::new(),
        }
    }

    /// Stable slot for a table; look it up once per TABLE_MAP, not per row.
    pub fn table_slot(&mut self, database: &str, table: &str) -> usize {
        if let Some(&i) = self
            .table_index
            .get(&(database.to_string(), table.to_string()))
        {
            return i;
        }
        let key = (database.to_string(), table.to_string());
        self.tables.push((key.clone(), OpCounts::default()));
        self.table_index.insert(key, self.tables.len() - 1);
        self.tables.len() - 1
    }

    /// `n` row changes of `op` on the table in `slot` at `timestamp`.
    pub fn add_rows(&mut self, slot: usize, op: Op, n: u64, timestamp: u32) {
        if let Some((_, c)) = self.tables.get_mut(slot) {
            c.add(op, n);
        }
        self.per_minute
            .entry(timestamp - timestamp % 60)
            .or_default()
            .add(op, n);
    }

    pub fn add_ddl(&mut self, ddl: DdlSummary) {
        self.ddl.push(ddl);
    }

    #[cfg(test)]
    pub fn add_transaction(&mut self, t: &TxnSummary) {
        self.add_transaction_with(t.rows, t.bytes, t.duration_secs(), || t.clone());
    }

    /// [`Stats::add_transaction`] for a transaction of `rows`, `bytes` and
    /// `duration_secs`, building its summary only if a top list keeps it
    /// (almost never, once the lists are full: one per transaction would
    /// cost more than the rest of the aggregation).
    pub fn add_transaction_with(
        &mut self,
        rows: u64,
        bytes: u64,
        duration_secs: u64,
        summary: impl FnOnce() -> TxnSummary,
    ) {
        self.transactions += 1;
        if rows == 0 {
            self.transactions_without_rows += 1;
            return;
        }
        self.rows_in_transactions += rows;
        self.bytes_in_transactions += bytes;
        self.row_buckets[bucket(&ROW_BUCKETS, rows)] += 1;
        self.byte_buckets[bucket(&BYTE_BUCKETS, bytes)] += 1;
        if self.largest_by_rows.admits(rows)
            || self.largest_by_bytes.admits(bytes)
            || self.longest.admits(duration_secs)
        {
            let t = summary();
            self.largest_by_rows.offer(rows, &t);
            self.largest_by_bytes.offer(bytes, &t);
            self.longest.offer(duration_secs, &t);
        }
    }

    pub fn total(&self) -> OpCounts {
        let mut all = OpCounts::default();
        for (_, c) in &self.tables {
            all.merge(c);
        }
        all
    }

    pub fn by_database(&self) -> BTreeMap<&str, OpCounts> {
        let mut m: BTreeMap<&str, OpCounts> = BTreeMap::new();
        for ((db, _), c) in &self.tables {
            m.entry(db.as_str()).or_default().merge(c);
        }
        m
    }

    /// Tables in name order, without tables that ended up with no rows.
    pub fn by_table(&self) -> Vec<(&str, &str, OpCounts)> {
        let mut v: Vec<_> = self
            .tables
            .iter()
            .filter(|(_, c)| c.total() > 0)
            .map(|((d, t), c)| (d.as_str(), t.as_str(), *c))
            .collect();
        v.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v
    }

    pub fn to_json(&self) -> J {
        let mut by_db = Map::new();
        for (db, c) in self.by_database() {
            by_db.insert(db.to_string(), c.to_json());
        }
        let by_table: Vec<J> = self
            .by_table()
            .into_iter()
            .map(|(d, t, c)| {
                let mut o = Map::new();
                o.insert("database".into(), d.into());
                o.insert("table".into(), t.into());
                if let J::Object(m) = c.to_json() {
                    o.extend(m);
                }
                J::Object(o)
            })
            .collect();
        let per_minute: Vec<J> = self
            .per_minute
            .iter()
            .map(|(&m, c)| {
                let mut o = Map::new();
                o.insert("minute".into(), iso_string(m).into());
                if let J::Object(m) = c.to_json() {
                    o.extend(m);
                }
                J::Object(o)
            })
            .collect();
        let dist = |names: &[(&str, u64, u64); 6], counts: &[u64; 6]| {
            let mut o = Map::new();
            for (i, (name, _, _)) in names.iter().enumerate() {
                o.insert((*name).into(), counts[i].into());
            }
            J::Object(o)
        };
        let list = |t: &TopN| t.items().map(TxnSummary::to_json).collect::<Vec<_>>();
        json!({
            "files": self.files,
            "events": self.events,
            "row_changes": self.total().to_json(),
            "by_database": by_db,
            "by_table": by_table,
            "per_minute": per_minute,
            "transactions": {
                "count": self.transactions,
                "with_rows": self.transactions - self.transactions_without_rows,
                "without_rows": self.transactions_without_rows,
                "rows": self.rows_in_transactions,
                "bytes": self.bytes_in_transactions,
                "by_rows": dist(&ROW_BUCKETS, &self.row_buckets),
                "by_bytes": dist(&BYTE_BUCKETS, &self.byte_buckets),
                "largest_by_rows": list(&self.largest_by_rows),
                "largest_by_bytes": list(&self.largest_by_bytes),
                "longest": list(&self.longest),
            },
            "statements": self.statements,
            "ddl": self.ddl.iter().map(|d| json!({
                "timestamp": iso_string(d.timestamp),
                "binlog_file": d.binlog_file,
                "binlog_pos": d.binlog_pos,
                "gtid": d.gtid,
                "database": d.database,
                "query": d.query,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.to_json())?;
        out.write_all(b"\n")
    }

    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let total = self.total();
        writeln!(out, "Files:        {}", self.files.join(", "))?;
        writeln!(out, "Events:       {}", self.events)?;
        writeln!(
            out,
            "Row changes:  {} (INSERT {}, UPDATE {}, DELETE {})",
            total.total(),
            total.get(Op::Insert),
            total.get(Op::Update),
            total.get(Op::Delete)
        )?;

        writeln!(out, "\n== Row changes by database ==")?;
        let header = |out: &mut dyn Write, first: &str| {
            writeln!(
                out,
                "{first:<40} {:>10} {:>10} {:>10} {:>10}",
                "INSERT", "UPDATE", "DELETE", "TOTAL"
            )
        };
        let line = |out: &mut dyn Write, name: &str, c: &OpCounts| {
            writeln!(
                out,
                "{name:<40} {:>10} {:>10} {:>10} {:>10}",
                c.get(Op::Insert),
                c.get(Op::Update),
                c.get(Op::Delete),
                c.total()
            )
        };
        header(out, "database")?;
        for (db, c) in self.by_database() {
            line(out, db, &c)?;
        }

        writeln!(out, "\n== Row changes by table ==")?;
        header(out, "table")?;
        for (db, t, c) in self.by_table() {
            line(out, &format!("{db}.{t}"), &c)?;
        }

        writeln!(out, "\n== Row changes per minute (UTC) ==")?;
        header(out, "minute")?;
        for (&m, c) in &self.per_minute {
            line(out, &iso_string(m), c)?;
        }

        writeln!(out, "\n== Transactions ==")?;
        writeln!(
            out,
            "count {} ({} with row changes, {} without); {} rows, {} bytes in transactions with rows",
            self.transactions,
            self.transactions - self.transactions_without_rows,
            self.transactions_without_rows,
            self.rows_in_transactions,
            self.bytes_in_transactions
        )?;
        writeln!(out, "rows per transaction:")?;
        for (i, (name, _, _)) in ROW_BUCKETS.iter().enumerate() {
            writeln!(out, "  {name:>14} {:>10}", self.row_buckets[i])?;
        }
        writeln!(out, "bytes per transaction:")?;
        for (i, (name, _, _)) in BYTE_BUCKETS.iter().enumerate() {
            writeln!(out, "  {name:>14} {:>10}", self.byte_buckets[i])?;
        }
        let top = |out: &mut dyn Write, title: &str, t: &TopN| -> io::Result<()> {
            writeln!(out, "\n== {title} ==")?;
            writeln!(
                out,
                "{:>8} {:>10} {:>8}  {:<20} {:<28} gtid / xid",
                "rows", "bytes", "secs", "start (UTC)", "file:position"
            )?;
            for s in t.items() {
                let id = match (&s.gtid, s.xid) {
                    (Some(g), Some(x)) => format!("{g} / xid {x}"),
                    (Some(g), None) => g.clone(),
                    (None, Some(x)) => format!("xid {x}"),
                    (None, None) => String::new(),
                };
                writeln!(
                    out,
                    "{:>8} {:>10} {:>8}  {:<20} {:<28} {}",
                    s.rows,
                    s.bytes,
                    s.duration_secs(),
                    iso_string(s.first_timestamp),
                    format!("{}:{}", s.binlog_file, s.start_pos),
                    id
                )?;
            }
            Ok(())
        };
        top(out, "Largest transactions by rows", &self.largest_by_rows)?;
        top(out, "Largest transactions by bytes", &self.largest_by_bytes)?;
        top(
            out,
            "Longest transactions (commit time - first event time)",
            &self.longest,
        )?;

        writeln!(out, "\n== DDL ({}) ==", self.ddl.len())?;
        for d in &self.ddl {
            let gtid = d
                .gtid
                .as_deref()
                .map(|g| format!(" gtid {g}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{} {}:{}{} [{}] {}",
                iso_string(d.timestamp),
                d.binlog_file,
                d.binlog_pos,
                gtid,
                d.database,
                d.query.split_whitespace().collect::<Vec<_>>().join(" ")
            )?;
        }
        Ok(())
    }
}

/// The `stats` output: aggregates instead of printing.
pub struct StatsSink {
    pub stats: Stats,
    /// table id -> (table map it was computed for, slot).
    slots: TableIdMap<(Arc<TableMap>, usize)>,
    buffers: RowBuffers,
}

impl StatsSink {
    pub fn new() -> Self {
        StatsSink {
            stats: Stats::new(),
            slots: TableIdMap::default(),
            buffers: RowBuffers::default(),
        }
    }

    fn slot(&mut self, table: &Arc<TableMap>) -> usize {
        if let Some((t, slot)) = self.slots.get_mut(&table.table_id) {
            if Arc::ptr_eq(t, table) {
                return *slot;
            }
            if t.database == table.database && t.table == table.table {
                *t = Arc::clone(table);
                return *slot;
            }
        }
        let slot = self.stats.table_slot(&table.database, &table.table);
        self.slots.insert(table.table_id, (Arc::clone(table), slot));
        slot
    }
}

impl Default for StatsSink {
    fn default() -> Self {
        StatsSink::new()
    }
}

impl Sink for StatsSink {
    fn rows(
        &mut self,
        ctx: &Ctx<'_>,
        table: &Arc<TableMap>,
        rows: &RowsEvent<'_>,
    ) -> anyhow::Result<u64> {
        // Decode every value: stats is the honest measure of decoding speed.
        let mut iter = rows.rows(table, ctx.pos);
        let mut row = self.buffers.take(rows.kind);
        let mut n = 0u64;
        let decoded = loop {
            match iter.next_into(&mut row) {
                Ok(true) => n += 1,
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.buffers.put_back(row);
        decoded?;
        let op = match rows.kind {
            RowsKind::Write => Op::Insert,
            RowsKind::Update | RowsKind::PartialUpdate => Op::Update,
            RowsKind::Delete => Op::Delete,
        };
        let slot = self.slot(table);
        self.stats.add_rows(slot, op, n, ctx.timestamp);
        Ok(n)
    }

    fn opening(&mut self, _ctx: &Ctx<'_>, _opening: &Opening) -> io::Result<()> {
        Ok(())
    }

    fn xa_end(&mut self, _ctx: &Ctx<'_>, _xid: &XaId) -> io::Result<()> {
        Ok(())
    }

    fn statement(
        &mut self,
        ctx: &Ctx<'_>,
        kind: StatementRecord,
        schema: &str,
        sql: &str,
    ) -> io::Result<()> {
        match kind {
            StatementRecord::Ddl => self.stats.add_ddl(DdlSummary {
                binlog_file: ctx.file.to_string(),
                binlog_pos: ctx.pos,
                timestamp: ctx.timestamp,
                database: schema.to_string(),
                query: sql.to_string(),
                gtid: ctx.gtid.map(str::to_string),
            }),
            StatementRecord::Statement => self.stats.statements += 1,
        }
        Ok(())
    }

    fn ending(&mut self, ctx: &Ctx<'_>, ending: &Ending<'_>) -> io::Result<()> {
        let summary = || TxnSummary {
            binlog_file: ctx.file.to_string(),
            start_pos: ending.txn.start_offset,
            end_pos: ctx.pos,
            gtid: ctx.gtid.map(str::to_string),
            xid: match ending.end {
                TxnEnd::Xid(x) => Some(*x),
                _ => None,
            },
            rows: ending.rows,
            bytes: ending.bytes,
            first_timestamp: ending.txn.start_timestamp,
            commit_timestamp: ctx.timestamp,
        };
        let duration = ctx.timestamp.saturating_sub(ending.txn.start_timestamp) as u64;
        self.stats
            .add_transaction_with(ending.rows, ending.bytes, duration, summary);
        Ok(())
    }

    fn abandon_transaction(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn wants_query(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(rows: u64, bytes: u64, first: u32, commit: u32, pos: u64) -> TxnSummary {
        TxnSummary {
            binlog_file: "f".into(),
            start_pos: pos,
            end_pos: pos + bytes,
            rows,
            bytes,
            first_timestamp: first,
            commit_timestamp: commit,
            ..Default::default()
        }
    }

    #[test]
    fn aggregates_by_table_database_and_minute() {
        let mut s = Stats::new();
        let a = s.table_slot("shop", "orders");
        let b = s.table_slot("shop", "users");
        let c = s.table_slot("crm", "leads");
        assert_eq!(s.table_slot("shop", "orders"), a);
        s.add_rows(a, Op::Insert, 3, 120);
        s.add_rows(a, Op::Update, 2, 179);
        s.add_rows(b, Op::Delete, 1, 180);
        s.add_rows(c, Op::Insert, 5, 181);
        assert_eq!(s.total().counts, [8, 2, 1]);
        let dbs = s.by_database();
        assert_eq!(dbs["shop"].counts, [3, 2, 1]);
        assert_eq!(dbs["crm"].total(), 5);
        let tables = s.by_table();
        assert_eq!(tables[0].0, "crm");
        assert_eq!(tables[1].1, "orders");
        let minutes: Vec<_> = s.per_minute.iter().map(|(m, c)| (*m, c.total())).collect();
        assert_eq!(minutes, vec![(120, 5), (180, 6)]);
    }

    #[test]
    fn transaction_buckets_and_tops() {
        let mut s = Stats::new();
        for (i, rows) in [1u64, 2, 10, 11, 100, 101, 1000, 1001, 10_000, 10_001, 0]
            .iter()
            .enumerate()
        {
            s.add_transaction(&txn(*rows, rows * 100, 0, i as u32, i as u64));
        }
        assert_eq!(s.transactions, 11);
        assert_eq!(s.transactions_without_rows, 1);
        assert_eq!(s.row_buckets, [1, 2, 2, 2, 2, 1]);
        assert_eq!(s.byte_buckets, [3, 3, 2, 2, 0, 0]);
        let top: Vec<u64> = s.largest_by_rows.items().map(|t| t.rows).collect();
        assert_eq!(
            top,
            vec![10_001, 10_000, 1001, 1000, 101, 100, 11, 10, 2, 1]
        );
        let longest: Vec<u64> = s.longest.items().map(|t| t.duration_secs()).collect();
        assert_eq!(longest[0], 9);
        assert_eq!(longest.len(), 10);
    }

    #[test]
    fn top_n_keeps_first_of_ties() {
        let mut t = TopN::new(2);
        t.offer(5, &txn(5, 0, 0, 0, 1));
        t.offer(5, &txn(5, 0, 0, 0, 2));
        t.offer(5, &txn(5, 0, 0, 0, 3));
        let pos: Vec<u64> = t.items().map(|x| x.start_pos).collect();
        assert_eq!(pos, vec![1, 2]);
    }

    #[test]
    fn negative_duration_is_zero() {
        assert_eq!(txn(1, 1, 10, 5, 0).duration_secs(), 0);
    }

    #[test]
    fn json_report_shape() {
        let mut s = Stats::new();
        let a = s.table_slot("d", "t");
        s.add_rows(a, Op::Insert, 2, 60);
        s.add_transaction(&txn(2, 50, 60, 61, 4));
        s.add_ddl(DdlSummary {
            binlog_file: "f".into(),
            binlog_pos: 4,
            timestamp: 0,
            database: "d".into(),
            query: "CREATE TABLE t (id int)".into(),
            gtid: None,
        });
        let j = s.to_json();
        assert_eq!(j["row_changes"]["INSERT"], 2);
        assert_eq!(j["by_table"][0]["table"], "t");
        assert_eq!(j["per_minute"][0]["minute"], "1970-01-01T00:01:00Z");
        assert_eq!(j["transactions"]["by_rows"]["2-10"], 1);
        assert_eq!(j["transactions"]["largest_by_rows"][0]["duration_secs"], 1);
        assert_eq!(j["ddl"][0]["query"], "CREATE TABLE t (id int)");
        let mut text = Vec::new();
        s.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("d.t"));
        assert!(text.contains("CREATE TABLE t (id int)"));
    }
}
