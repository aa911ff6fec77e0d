//! `check-config`: load and validate the config files without connecting
//! anywhere; print what they will do, or every error with its file and key
//! path (exit status 1).

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use pipeline::Config;

use crate::run::ConfigArgs;

#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn check_config(args: &CheckConfigArgs) -> Result<ExitCode> {
    let tables = args.config.tables_path();
    let cfg = match Config::load(&args.config.config, tables.as_deref()) {
        Ok(cfg) => cfg,
        Err(e) => {
            for issue in &e.issues {
                eprintln!("error: {issue}");
            }
            eprintln!(
                "binlog-analyzer: {} error{} in the configuration",
                e.issues.len(),
                if e.issues.len() == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    // What the stores themselves require (names, sizes, duplicates).
    if let Err(e) = runner::stores::storage_config(&cfg) {
        for line in e.to_string().lines() {
            eprintln!("error: {line}");
        }
        return Ok(ExitCode::FAILURE);
    }
    print!("{}", pipeline::check_report(&cfg));
    Ok(ExitCode::SUCCESS)
}
