//! `binlog-analyzer`: parse and summarise MySQL/MariaDB binary logs, from
//! files or live from a server.

mod backfill;
mod check_config;
mod cli;
mod connection;
mod driver;
mod filter;
mod gtid_filter;
mod init_db;
mod input;
mod live;
mod output;
mod replay;
mod run;
mod stats;
mod time;

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{
    CheckArgs, CheckFormat, Cli, Command, CommonArgs, FilterArgs, ParseFormat, RecordOutputArgs,
    StatsFormat, StreamArgs,
};
use driver::{RunConfig, Selection};
use input::InputSpec;
use output::jsonl::JsonlSink;
use output::text::TextSink;
use output::Sink;
use stats::StatsSink;

const OUTPUT_BUFFER: usize = 256 * 1024;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
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

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Parse(args) => {
            let cfg = run_config(&args.common)?;
            with_record_sink(&args.output, |sink| driver::run(&cfg, sink))?;
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
        }
        Command::Stream(args) => stream(&args)?,
        Command::Check(args) => return check(&args),
        Command::Run(args) => return run::run(&args),
        Command::Serve(args) => return run::serve(&args),
        Command::Backfill(args) => return backfill::backfill(&args),
        Command::Replay(args) => return replay::replay(&args),
        Command::InitDb(args) => return init_db::init_db(&args),
        Command::CheckConfig(args) => return check_config::check_config(&args),
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `f` with the record sink `--format` asks for, on stdout.
fn with_record_sink<T>(
    output: &RecordOutputArgs,
    f: impl FnOnce(&mut dyn Sink) -> Result<T>,
) -> Result<T> {
    let format = output.format.unwrap_or(if io::stdout().is_terminal() {
        ParseFormat::Text
    } else {
        ParseFormat::Jsonl
    });
    let out: BufWriter<StdoutLock<'static>> =
        BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
    match format {
        ParseFormat::Jsonl => {
            f(&mut JsonlSink::new(out, output.max_buffered_rows).with_query(!output.no_query))
        }
        ParseFormat::Text => f(&mut TextSink::new(out).with_query(!output.no_query)),
    }
}

fn stream(args: &StreamArgs) -> Result<()> {
    let selection = selection(
        &args.filters,
        args.filters.time_window().map_err(UsageError)?,
    );
    let mut cfg = connection::source_config(&args.connection, &args.start, &env_var)?;
    cfg.until_end = args.until_end;
    let end = with_record_sink(&args.output, |sink| live::stream(cfg, &selection, sink))?;
    if end.interrupted {
        match &end.committed {
            Some(p) => eprintln!(
                "binlog-analyzer: stopped after {p}; to continue: {}",
                live::resume_flags(p)
            ),
            None => eprintln!("binlog-analyzer: stopped before the stream started"),
        }
    }
    Ok(())
}

/// Exit 0 when every check passes or warns, 1 when one fails.
fn check(args: &CheckArgs) -> Result<ExitCode> {
    let cfg = connection::source_config(&args.connection, &args.start, &env_var)?;
    let items = live::check(&cfg)?;
    let worst = source::worst(&items);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        CheckFormat::Text => live::write_check_text(&mut out, &items)?,
        CheckFormat::Json => {
            let doc = serde_json::json!({ "status": worst, "checks": items });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if worst == source::CheckStatus::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Arguments clap accepted but that do not make sense together (exit 2, like clap's).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn selection(filters: &FilterArgs, window: filter::Window) -> Selection {
    Selection {
        tables: filters.table_filter(),
        window,
        gtids: filters.gtid_set(),
    }
}

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
        selection: selection(&common.filters, window),
        progress,
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
