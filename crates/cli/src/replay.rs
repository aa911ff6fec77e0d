//! `replay`: apply the stored changes to an empty copy of the source's
//! tables in a MySQL/MariaDB database (INSERT the after image, UPDATE and
//! DELETE by primary key), e.g. to check that the store holds every value:
//! with every column tracked and nothing masked, `CHECKSUM TABLE` of the
//! copy equals the source's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use runner::replay::{ReplayOptions, ReplayTarget};

use crate::run::ConfigArgs;
use crate::UsageError;

/// Environment variables read for the target's password, in order.
const PASSWORD_ENV: [&str; 2] = ["BINLOG_ANALYZER_REPLAY_PASSWORD", "MYSQL_PWD"];

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Target server host [default: localhost]
    #[arg(long, default_value = "localhost")]
    pub host: String,

    /// Target server port.
    #[arg(long, default_value_t = 3306, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,

    /// Target server Unix socket (instead of host and port).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Target user (needs INSERT, UPDATE, DELETE on the copy).
    #[arg(long, short = 'u')]
    pub user: String,

    /// Target password (prefer $BINLOG_ANALYZER_REPLAY_PASSWORD or $MYSQL_PWD).
    #[arg(long)]
    pub password: Option<String>,

    /// Replay database SRC into database DST (may repeat); other databases
    /// keep their names.
    #[arg(long = "map", value_name = "SRC=DST", value_parser = parse_map)]
    pub map: Vec<(String, String)>,

    /// Only this table, DATABASE.TABLE (may repeat) [default: every stored table]
    #[arg(long = "table", value_name = "DATABASE.TABLE", value_parser = parse_table)]
    pub only_tables: Vec<(String, String)>,
}

fn parse_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err("expected SRC=DST (two database names)".into()),
    }
}

fn parse_table(s: &str) -> Result<(String, String), String> {
    match s.split_once('.') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err("expected DATABASE.TABLE".into()),
    }
}

pub fn replay(args: &ReplayArgs) -> Result<ExitCode> {
    let cfg = args.config.load()?;
    let (storage, _) = runner::stores::storage_config(&cfg)?;
    if let store::config::StoreConfig::Sqlite(c) = &storage.primary {
        if !c.path().is_file() {
            return Err(UsageError(format!(
                "--config: no store at {} (run `binlog-analyzer run` first)",
                c.path().display()
            ))
            .into());
        }
    }
    let queries = storage
        .primary
        .open_queries()
        .context("opening the store")?;
    let password = args.password.clone().or_else(|| {
        PASSWORD_ENV
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()))
    });
    let target = ReplayTarget {
        host: args.host.clone(),
        port: args.port,
        user: args.user.clone(),
        password,
        socket: args.socket.clone(),
    };
    let options = ReplayOptions {
        database_map: args.map.iter().cloned().collect::<BTreeMap<_, _>>(),
        tables: args.only_tables.clone(),
        statements_per_commit: 500,
    };
    let report = runner::replay::replay(queries.as_ref(), &target, &options, &mut |_| {})?;
    for t in &report.tables {
        eprintln!(
            "binlog-analyzer: {}.{} -> {}.{}: {} inserts, {} updates, {} deletes",
            t.database, t.table, t.target_database, t.table, t.inserts, t.updates, t.deletes
        );
    }
    eprintln!(
        "binlog-analyzer: replayed {} changes into {} tables",
        report.statements(),
        report.tables.len()
    );
    Ok(ExitCode::SUCCESS)
}
