//! `binlog-analyzer`: parse and summarise MySQL/MariaDB binary logs.

mod cli;
mod driver;
mod filter;
mod gtid_filter;
mod input;
mod output;
mod stats;
mod time;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Command, CommonArgs, ParseFormat, StatsFormat};
use driver::RunConfig;
use input::InputSpec;
use output::jsonl::JsonlSink;
use output::text::TextSink;
use stats::StatsSink;

const OUTPUT_BUFFER: usize = 256 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `| head` closed the pipe: the reader has what it wanted.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.is::<UsageError>() => {
            eprintln!("binlog-analyzer: error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("binlog-analyzer: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Parse(args) => {
            let cfg = run_config(&args.common)?;
            let format = args.format.unwrap_or(if io::stdout().is_terminal() {
                ParseFormat::Text
            } else {
                ParseFormat::Jsonl
            });
            let out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
            match format {
                ParseFormat::Jsonl => {
                    let mut sink = JsonlSink::new(out, args.max_buffered_rows);
                    driver::run(&cfg, &mut sink)?;
                }
                ParseFormat::Text => {
                    let mut sink = TextSink::new(out);
                    driver::run(&cfg, &mut sink)?;
                }
            }
            Ok(())
        }
        Command::Stats(args) => {
            let cfg = run_config(&args.common)?;
            let mut sink = StatsSink::new();
            let summary = driver::run(&cfg, &mut sink)?;
            let mut stats = sink.stats;
            stats.events = summary.events;
            stats.files = cfg.inputs.iter().map(|i| i.display_name.clone()).collect();
            let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
            match args.format {
                StatsFormat::Text => stats.write_text(&mut out)?,
                StatsFormat::Json => stats.write_json(&mut out)?,
            }
            out.flush()?;
            Ok(())
        }
    }
}

/// Arguments clap accepted but that do not make sense together (exit 2, like clap's).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn run_config(common: &CommonArgs) -> Result<RunConfig> {
    let window = common.window().map_err(UsageError)?;
    let stdin_count = common.files.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 1 {
        return Err(UsageError("'-' (standard input) can be given only once".into()).into());
    }
    let inputs: Vec<InputSpec> = common.files.iter().map(|p| InputSpec::new(p)).collect();
    let progress = input::progress_bar(&inputs, common.no_progress);
    Ok(RunConfig {
        inputs,
        tables: common.table_filter(),
        window,
        gtids: common.gtid_set(),
        progress,
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
