//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::filter::{TableFilter, TablePattern, Wildcard, Window};
use crate::gtid_filter::GtidSet;
use crate::time::{parse_datetime, Micros};

#[derive(Debug, Parser)]
#[command(
    name = "binlog-analyzer",
    version,
    about = "Decode MySQL/MariaDB binary logs: row changes as JSON lines or text, and statistics."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every row change (and DDL, transaction and XA events), like mysqlbinlog -v.
    Parse(ParseArgs),
    /// Count row changes per database, table, operation and minute; transaction sizes; DDL.
    Stats(StatsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    /// One JSON object per line.
    Jsonl,
    /// Human-readable, like `mysqlbinlog -v`.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Output format [default: jsonl when stdout is not a terminal, text when it is]
    #[arg(long, value_enum)]
    pub format: Option<ParseFormat>,

    /// Transactions holding more row changes than this are streamed without
    /// waiting for their XID (their rows then carry "xid": null).
    #[arg(long, default_value_t = 10_000, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_buffered_rows: u64,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Binary log files, in order; `-` reads standard input. Gzip-compressed
    /// files are decompressed on the fly.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Only this database (wildcards `*` and `?`; may repeat).
    #[arg(long = "database", short = 'd', value_name = "PATTERN")]
    pub databases: Vec<String>,

    /// Only this table: TABLE or DATABASE.TABLE (wildcards `*` and `?`; may repeat).
    #[arg(long = "table", short = 't', value_name = "PATTERN", value_parser = parse_table_pattern)]
    pub tables: Vec<TablePattern>,

    /// Skip events that start before this byte offset of the first file.
    #[arg(long, value_name = "OFFSET")]
    pub start_position: Option<u64>,

    /// Stop at the first event that starts at or after this offset of the last file.
    #[arg(long, value_name = "OFFSET")]
    pub stop_position: Option<u64>,

    /// Only events at or after this time: "YYYY-MM-DD HH:MM:SS" or ISO 8601
    /// ("2024-01-15T10:30:00Z", "+02:00" offsets); UTC unless an offset is given.
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime_arg)]
    pub start_datetime: Option<Micros>,

    /// Only events before this time (same forms as --start-datetime).
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime_arg)]
    pub stop_datetime: Option<Micros>,

    /// Only transactions whose GTID is in this set: MySQL `UUID:1-5:7[,…]`
    /// (tags: `UUID:TAG:1-3`) and/or MariaDB `DOMAIN-SERVER-SEQ` (= all up to
    /// SEQ). May repeat (union). Transactions without a GTID are dropped.
    #[arg(long, value_name = "GTID_SET", value_parser = parse_gtid_set_arg)]
    pub include_gtids: Vec<GtidSet>,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_table_pattern(s: &str) -> Result<TablePattern, String> {
    TablePattern::parse(s)
}

fn parse_datetime_arg(s: &str) -> Result<Micros, String> {
    parse_datetime(s)
}

fn parse_gtid_set_arg(s: &str) -> Result<GtidSet, String> {
    GtidSet::parse(s)
}

impl CommonArgs {
    pub fn table_filter(&self) -> TableFilter {
        TableFilter {
            databases: self.databases.iter().map(|d| Wildcard::new(d)).collect(),
            tables: self.tables.clone(),
        }
    }

    /// Position and time window; contradictory bounds are an error naming the flags.
    pub fn window(&self) -> Result<Window, String> {
        if let (Some(a), Some(b)) = (self.start_position, self.stop_position) {
            if self.files.len() == 1 && a >= b {
                return Err(format!(
                    "--start-position ({a}) must be less than --stop-position ({b})"
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.start_datetime, self.stop_datetime) {
            if a >= b {
                return Err("--start-datetime must be earlier than --stop-datetime".into());
            }
        }
        Ok(Window {
            start_position: self.start_position,
            stop_position: self.stop_position,
            start_time: self.start_datetime,
            stop_time: self.stop_datetime,
        })
    }

    pub fn gtid_set(&self) -> Option<GtidSet> {
        let mut it = self.include_gtids.iter().cloned();
        let mut set = it.next()?;
        for s in it {
            set.extend(s);
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_filters() {
        let cli = Cli::try_parse_from([
            "binlog-analyzer",
            "parse",
            "--format",
            "jsonl",
            "--table",
            "shop.ord*",
            "--table",
            "users",
            "--database",
            "shop",
            "--start-datetime",
            "2024-01-15 10:30:00",
            "--include-gtids",
            "0-1-5",
            "a.bin",
            "b.bin",
        ])
        .unwrap();
        let Command::Parse(p) = cli.command else {
            panic!("parse expected")
        };
        assert_eq!(p.format, Some(ParseFormat::Jsonl));
        assert_eq!(p.common.files.len(), 2);
        let f = p.common.table_filter();
        assert!(f.matches_table("shop", "orders"));
        assert!(f.matches_table("shop", "users"));
        assert!(!f.matches_table("other", "users"));
        assert_eq!(p.common.start_datetime, Some(1_705_314_600_000_000));
        assert!(p.common.gtid_set().is_some());
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (
                vec!["stats", "--start-datetime", "noon", "f"],
                "--start-datetime",
            ),
            (
                vec!["stats", "--include-gtids", "zz:1", "f"],
                "--include-gtids",
            ),
            (
                vec!["parse", "--start-position", "abc", "f"],
                "--start-position",
            ),
            (vec!["parse", "--format", "xml", "f"], "--format"),
            (vec!["parse", "--table", "db.", "f"], "--table"),
        ] {
            let mut full = vec!["binlog-analyzer"];
            full.extend(args);
            let err = Cli::try_parse_from(full).unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn window_checks_bounds() {
        let cli = Cli::try_parse_from([
            "binlog-analyzer",
            "stats",
            "--start-position",
            "500",
            "--stop-position",
            "100",
            "f",
        ])
        .unwrap();
        let Command::Stats(s) = cli.command else {
            panic!("stats expected")
        };
        assert!(s.common.window().unwrap_err().contains("--start-position"));
    }
}
