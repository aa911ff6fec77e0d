//! `init-db`: create the MySQL/MariaDB storage database and its tables
//! (idempotent), from the config's `mysql.storage` block.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::run::ConfigArgs;

#[derive(Debug, Args)]
pub struct InitDbArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Drop the storage database first: every stored change is lost.
    #[arg(long)]
    pub reset: bool,
}

pub fn init_db(args: &InitDbArgs) -> Result<ExitCode> {
    let cfg = args.config.load()?;
    let m = runner::stores::mysql_config(&cfg)?;
    let target = format!("{}@{}:{}/{}", m.user, m.host, m.port, m.database);
    if args.reset {
        store::mysql::drop_db(&m).with_context(|| format!("dropping {target}"))?;
    }
    store::mysql::init_db(&m)
        .with_context(|| format!("creating the storage schema in {target}"))?;
    eprintln!("binlog-analyzer: storage schema ready in {target}");
    Ok(ExitCode::SUCCESS)
}
