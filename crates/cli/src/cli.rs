//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use source::{MariaGtidList, MysqlGtidSet, StartPosition};

use crate::filter::{TableFilter, TablePattern, Wildcard, Window};
use crate::gtid_filter::GtidSet;
use crate::time::{parse_datetime, Micros};

#[derive(Debug, Parser)]
#[command(
    name = "binlog-analyzer",
    version,
    about = "Decode MySQL/MariaDB binary logs, from files or live from a server: row changes as JSON lines or text, and statistics."
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
    /// Read a live server's binlog as a replica and print its changes like `parse`.
    Stream(StreamArgs),
    /// Check that a server can be streamed from (binlog settings, privileges, server_id, start).
    Check(CheckArgs),
    /// Stream (or read binlog files), filter, mask, apply rules and store every change exactly once; serve the API.
    Run(crate::run::RunArgs),
    /// Serve the API over an existing store, without streaming.
    Serve(crate::run::ServeArgs),
    /// Store the changes of a range of binlog files or positions (server or local files); resumable.
    Backfill(crate::backfill::BackfillArgs),
    /// Apply stored changes to an empty copy of the schema in a MySQL/MariaDB database.
    Replay(crate::replay::ReplayArgs),
    /// Create the MySQL/MariaDB storage schema (`storage.primary: mysql`).
    InitDb(crate::init_db::InitDbArgs),
    /// Validate config.yaml and tables.yaml without connecting anywhere.
    CheckConfig(crate::check_config::CheckConfigArgs),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// How records are written (`parse` and `stream`).
#[derive(Debug, Args)]
pub struct RecordOutputArgs {
    /// Output format [default: jsonl when stdout is not a terminal, text when it is]
    #[arg(long, value_enum)]
    pub format: Option<ParseFormat>,

    /// Transactions holding more row changes than this are streamed without
    /// waiting for their XID (their rows then carry "xid": null).
    #[arg(long, default_value_t = 10_000, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_buffered_rows: u64,

    /// Leave out each row's `query` (the statement that made it, from
    /// ROWS_QUERY / ANNOTATE_ROWS), which otherwise repeats on every row of
    /// a statement
    #[arg(long)]
    pub no_query: bool,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    #[command(flatten)]
    pub output: RecordOutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Stop at the end of the binlog as of connecting (a backfill) instead
    /// of waiting for new changes (Ctrl-C stops the wait).
    #[arg(long)]
    pub until_end: bool,

    #[command(flatten)]
    pub output: RecordOutputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub start: StartArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub start: StartArgs,
}

/// TLS modes, as MySQL's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsArg {
    /// Plain TCP.
    Off,
    /// TLS when the server offers it; the certificate is not verified.
    Preferred,
    /// TLS or fail; the certificate is not verified.
    Required,
    /// TLS with the certificate verified against --ca (host name not checked).
    VerifyCa,
    /// As verify-ca, and the certificate must name --host.
    VerifyIdentity,
}

/// Where the server is and who we are to it. Flags override `--config`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Read the server settings from this config.yaml (its `mysql.source`
    /// block: host, port, user, password, charset, binlog.server_id,
    /// log_file, log_pos). Flags given as well override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Server host [default: localhost]
    #[arg(long)]
    pub host: Option<String>,

    /// Server TCP port [default: 3306]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// User with REPLICATION SLAVE, REPLICATION CLIENT and SELECT.
    #[arg(long, short = 'u')]
    pub user: Option<String>,

    /// Password (visible to other local users in the process list: prefer
    /// $BINLOG_ANALYZER_PASSWORD or $MYSQL_PWD).
    #[arg(long)]
    pub password: Option<String>,

    /// This replica's server_id, unique among the server's replicas [default: 4242]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub server_id: Option<u32>,

    /// TLS mode [default: preferred]
    #[arg(long, value_enum, value_name = "MODE")]
    pub tls: Option<TlsArg>,

    /// PEM CA bundle for --tls verify-ca / verify-identity.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// Where streaming starts [default: the current end of the binlog, i.e.
/// only changes made from now on; or `log_file`/`log_pos` of --config].
#[derive(Debug, Args)]
#[command(next_help_heading = "Start position")]
pub struct StartArgs {
    /// From the oldest binlog the server still has.
    #[arg(long, conflicts_with_all = ["from_file", "from_gtid", "from_time"])]
    pub from_start: bool,

    /// From this binlog file (at --from-pos, default its first event).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from_gtid", "from_time"])]
    pub from_file: Option<String>,

    /// Offset in --from-file: a transaction boundary, e.g. a position this
    /// tool printed.
    #[arg(long, value_name = "OFFSET", requires = "from_file", value_parser = clap::value_parser!(u64).range(4..))]
    pub from_pos: Option<u64>,

    /// After these transactions: MariaDB `DOMAIN-SERVER-SEQ[,…]` (a replica's
    /// gtid_slave_pos) or MySQL `UUID:1-5[,…]` (everything not in the set).
    #[arg(long, value_name = "GTID_SET", value_parser = parse_start_gtid, conflicts_with = "from_time")]
    pub from_gtid: Option<StartPosition>,

    /// From the first transaction committed at or after this time (same
    /// forms as --start-datetime; UTC unless an offset is given).
    #[arg(long, value_name = "DATETIME", value_parser = parse_start_time)]
    pub from_time: Option<u64>,
}

impl StartArgs {
    /// The start the flags ask for, if any.
    pub fn position(&self) -> Option<StartPosition> {
        if self.from_start {
            return Some(StartPosition::Earliest);
        }
        if let Some(file) = &self.from_file {
            return Some(StartPosition::FilePos {
                file: file.clone(),
                pos: self.from_pos.unwrap_or(4),
            });
        }
        if let Some(g) = &self.from_gtid {
            return Some(g.clone());
        }
        self.from_time.map(StartPosition::Timestamp)
    }
}

/// A MySQL GTID set has `UUID:` elements; anything else is read as a
/// MariaDB GTID list.
fn parse_start_gtid(s: &str) -> Result<StartPosition, String> {
    if s.trim().is_empty() {
        return Err("empty GTID set (use --from-start to read everything)".into());
    }
    if s.contains(':') {
        s.parse::<MysqlGtidSet>().map(StartPosition::MysqlGtid)
    } else {
        s.parse::<MariaGtidList>().map(StartPosition::MariaGtid)
    }
}

fn parse_start_time(s: &str) -> Result<u64, String> {
    let micros = parse_datetime(s)?;
    u64::try_from(micros.div_euclid(1_000_000)).map_err(|_| "a time before 1970".to_string())
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// File inputs and the filters of `parse` and `stats`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Binary log files, in order; `-` reads standard input. Gzip-compressed
    /// files are decompressed on the fly.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// Skip events that start before this byte offset of the first file.
    #[arg(long, value_name = "OFFSET")]
    pub start_position: Option<u64>,

    /// Stop at the first event that starts at or after this offset of the last file.
    #[arg(long, value_name = "OFFSET")]
    pub stop_position: Option<u64>,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Record filters of every input (files or a server).
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this database (wildcards `*` and `?`; may repeat).
    #[arg(long = "database", short = 'd', value_name = "PATTERN")]
    pub databases: Vec<String>,

    /// Only this table: TABLE or DATABASE.TABLE (wildcards `*` and `?`; may repeat).
    #[arg(long = "table", short = 't', value_name = "PATTERN", value_parser = parse_table_pattern)]
    pub tables: Vec<TablePattern>,

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

impl FilterArgs {
    pub fn table_filter(&self) -> TableFilter {
        TableFilter {
            databases: self.databases.iter().map(|d| Wildcard::new(d)).collect(),
            tables: self.tables.clone(),
        }
    }

    /// Time window; contradictory bounds are an error naming the flags.
    pub fn time_window(&self) -> Result<Window, String> {
        if let (Some(a), Some(b)) = (self.start_datetime, self.stop_datetime) {
            if a >= b {
                return Err("--start-datetime must be earlier than --stop-datetime".into());
            }
        }
        Ok(Window {
            start_time: self.start_datetime,
            stop_time: self.stop_datetime,
            ..Window::default()
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

impl CommonArgs {
    /// Position and time window; contradictory bounds are an error naming the flags.
    pub fn window(&self) -> Result<Window, String> {
        if let (Some(a), Some(b)) = (self.start_position, self.stop_position) {
            if self.files.len() == 1 && a >= b {
                return Err(format!(
                    "--start-position ({a}) must be less than --stop-position ({b})"
                ));
            }
        }
        Ok(Window {
            start_position: self.start_position,
            stop_position: self.stop_position,
            ..self.filters.time_window()?
        })
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
        assert_eq!(p.output.format, Some(ParseFormat::Jsonl));
        assert_eq!(p.common.files.len(), 2);
        let f = p.common.filters.table_filter();
        assert!(f.matches_table("shop", "orders"));
        assert!(f.matches_table("shop", "users"));
        assert!(!f.matches_table("other", "users"));
        assert_eq!(p.common.filters.start_datetime, Some(1_705_314_600_000_000));
        assert!(p.common.filters.gtid_set().is_some());
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
