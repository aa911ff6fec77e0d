//! `run` (stream or read files, process, store, serve the API) and `serve`
//! (the API over an existing store), on crates/runner, crates/api and
//! crates/alerting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use pipeline::{Batch, Config, Operation};
use runner::{Input, Observer, RunEnd, RunOptions, Runner, RunnerHandle, Status};
use store::{QueryStore, WriteOutcome};
use tokio::sync::broadcast;

/// `--config` / `--tables`, shared by the commands that take the seed's files.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config.yaml (the seed's format; every key is in config/README.md).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,

    /// The tables.yaml [default: tables.yaml beside --config, when there is one]
    #[arg(long, value_name = "FILE")]
    pub tables: Option<PathBuf>,
}

impl ConfigArgs {
    /// The tables file: `--tables`, else the sibling of `--config`.
    pub fn tables_path(&self) -> Option<PathBuf> {
        self.tables
            .clone()
            .or_else(|| Config::sibling_tables_path(&self.config))
    }

    /// Load and validate both files; every problem is in the error, one per
    /// line, with its file and key path.
    pub fn load(&self) -> Result<Config> {
        let tables = self.tables_path();
        Config::load(&self.config, tables.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// File input: keep serving the API after the files are read (until
    /// Ctrl-C) instead of exiting.
    #[arg(long)]
    pub serve: bool,

    /// Live input: stop once the server's binlog end as of starting is
    /// stored, instead of waiting for new changes.
    #[arg(long)]
    pub until_end: bool,

    /// Do not serve the API, whatever api.enabled says.
    #[arg(long)]
    pub no_api: bool,

    /// Listen address of the API [default: api.listen]
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Listen address [default: api.listen]
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; never when no handler can be set.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// What a run reports to the API's metrics, to alert delivery and to the
/// log. Threshold alerts (`alerts.binlog_lag`, `error_rate`,
/// `bulk_operations`) are evaluated here from what the runner observes,
/// delivered, and stored through the runner.
pub(crate) struct CliObserver {
    pub metrics: Option<Arc<api::Metrics>>,
    pub delivery: Option<alerting::AlertHandle>,
    /// The API's live alert feed.
    pub alert_feed: Option<broadcast::Sender<Arc<store::Alert>>>,
    pub thresholds: Option<Mutex<alerting::ThresholdMonitor>>,
    pub handle: OnceLock<RunnerHandle>,
    pub primary_store: String,
}

impl CliObserver {
    fn threshold(
        &self,
        f: impl FnOnce(&mut alerting::ThresholdMonitor) -> Vec<alerting::Notification>,
    ) {
        let Some(m) = &self.thresholds else { return };
        let raised = {
            let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut g)
        };
        if raised.is_empty() {
            return;
        }
        let mut stored = Vec::new();
        for n in raised {
            eprintln!("binlog-analyzer: alert: {}", n.message);
            if let Some(m) = &self.metrics {
                m.alert(&n.name, n.priority.as_str());
            }
            let a = store::Alert {
                kind: n.kind.clone(),
                name: n.name.clone(),
                priority: n.priority.as_str().into(),
                timestamp: n.timestamp,
                database: n.database.clone(),
                table: n.table.clone(),
                change: None,
                message: n.message.clone(),
                details: serde_json::json!({
                    "state": n.state.as_str(),
                    "details": n.details,
                    "channels": n.channels,
                }),
            };
            if let Some(feed) = &self.alert_feed {
                let _ = feed.send(Arc::new(a.clone()));
            }
            stored.push(a);
            if let Some(d) = &self.delivery {
                d.send(n);
            }
        }
        if let Some(h) = self.handle.get() {
            if !h.store_alerts(stored) {
                eprintln!("binlog-analyzer: warning: a threshold alert could not be stored (the writer is busy or stopped)");
            }
        }
    }

    /// Re-evaluates windows (reminders, resolutions) once a second.
    pub fn tick(&self) {
        let now = unix_now();
        self.threshold(|t| t.tick(now));
    }
}

impl Observer for CliObserver {
    fn events(&self, by_type: &[(&'static str, u64)]) {
        let mut total = 0;
        for (name, n) in by_type {
            total += n;
            if let Some(m) = &self.metrics {
                m.events(name, *n);
            }
        }
        if total > 0 {
            let now = unix_now();
            self.threshold(|t| t.record_events(total, 0, now).into_iter().collect());
        }
    }

    fn lag(&self, seconds: u64) {
        if let Some(m) = &self.metrics {
            m.lag_seconds.set(seconds as f64);
        }
        let now = unix_now();
        self.threshold(|t| t.observe_lag(seconds, now).into_iter().collect());
    }

    fn batch_committed(&self, batch: &Batch, outcome: &WriteOutcome, took: Duration) {
        let mut per_table: BTreeMap<(&str, &str, Operation), u64> = BTreeMap::new();
        for r in &batch.records {
            *per_table
                .entry((r.database.as_str(), r.table.as_str(), r.operation))
                .or_default() += 1;
        }
        if let Some(m) = &self.metrics {
            m.batch_seconds.observe_duration(took);
            m.stored(&self.primary_store, outcome.inserted as u64);
            for ((db, table, op), n) in &per_table {
                m.rows(db, table, *op, *n);
            }
        }
        if outcome.inserted > 0 {
            let now = unix_now();
            self.threshold(|t| {
                per_table
                    .iter()
                    .filter_map(|((db, table, op), n)| t.record_changes(db, table, *op, *n, now))
                    .collect()
            });
        }
    }

    fn store_write(&self, store: &str, took: Duration, ok: bool) {
        if let Some(m) = &self.metrics {
            m.store_write(store, took);
            if !ok {
                m.error("store_write");
            }
        }
    }

    fn alerts(&self, alerts: &[pipeline::rules::Alert]) {
        for a in alerts {
            if let Some(m) = &self.metrics {
                m.alert(&a.rule, a.priority.as_str());
            }
            if let Some(feed) = &self.alert_feed {
                let _ = feed.send(Arc::new(store::Alert::from_rule(a)));
            }
            if let Some(d) = &self.delivery {
                d.send_rule(a);
            }
        }
    }

    fn error(&self, kind: &str, _message: &str) {
        if let Some(m) = &self.metrics {
            m.error(kind);
        }
        let now = unix_now();
        self.threshold(|t| t.record_events(0, 1, now).into_iter().collect());
    }
}

/// The runner's status as the API shows it.
fn api_status(s: &Status, mode: &str) -> api::PipelineStatus {
    let state = match s.state {
        runner::RunState::Starting => "starting",
        runner::RunState::CatchingUp => "catching_up",
        runner::RunState::Streaming => "caught_up",
        runner::RunState::Reconnecting => "reconnecting",
        runner::RunState::Stopping | runner::RunState::Finished => "stopped",
        runner::RunState::Failed => "error",
    };
    api::PipelineStatus {
        mode: mode.into(),
        state: state.into(),
        source: Some(s.source.clone()),
        binlog_file: s.read_file.clone(),
        binlog_pos: s.read_pos,
        gtid_set: s.gtid_set.clone(),
        last_event_timestamp: s.last_event_timestamp,
        lag_seconds: s.lag_seconds.map(|l| l as f64),
        events_per_second: s.events_per_second,
        rows_per_second: s.rows_per_second,
        events_total: s.events_total,
        rows_total: s.rows_total,
        started_at: u32::try_from(s.started_at).ok(),
        last_error: s.last_error.clone(),
        stores: s.stores.iter().map(api::StoreWrites::from).collect(),
    }
}

/// Everything the API serves from, for `run` and `serve`.
fn api_state(queries: Arc<dyn QueryStore>, cfg: &Config) -> api::AppState {
    api::AppState::new(queries, api::ApiSettings::from_config(&cfg.api))
}

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let cfg = args.config.load()?;
    let mut input = Input::from_config(&cfg)?;
    let live_input = matches!(input, Input::Live(_));
    if let Input::Live(c) = &mut input {
        c.until_end = args.until_end;
    }
    let serve_api = cfg.api.enabled && !args.no_api;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| cfg.api.listen.clone());
    let (storage, _) = runner::stores::storage_config(&cfg)?;
    let rt = runtime()?;

    // Delivery starts tasks on the runtime; stores must be opened outside it.
    let delivery = {
        let _guard = rt.enter();
        match alerting::start_from_config(&cfg.alerts, alerting::DeliveryOptions::default()) {
            Ok(d) => Some(d),
            Err(e) => anyhow::bail!("{}: {e}", cfg.files.config),
        }
    };
    let metrics = Arc::new(api::Metrics::new());
    let alert_feed = broadcast::channel(api::LIVE_CAPACITY).0;
    let thresholds = alerting::ThresholdMonitor::new(&cfg.alerts);
    let observer = Arc::new(CliObserver {
        metrics: Some(Arc::clone(&metrics)),
        delivery: delivery.clone(),
        alert_feed: Some(alert_feed.clone()),
        thresholds: thresholds.is_enabled().then(|| Mutex::new(thresholds)),
        handle: OnceLock::new(),
        primary_store: storage.primary.kind().to_string(),
    });
    let mut runner = Runner::with_observer(
        cfg.clone(),
        input,
        RunOptions::default(),
        Arc::clone(&observer) as Arc<dyn Observer>,
    )?;
    let handle = runner.handle();
    let _ = observer.handle.set(handle.clone());
    let state = if serve_api {
        let queries = storage
            .primary
            .open_queries()
            .context("opening the store for the API")?;
        let mut state = api_state(queries, &cfg);
        state.metrics = Arc::clone(&metrics);
        state.alerts = alert_feed.clone();
        runner.set_live_sender(state.live.clone());
        Some(state)
    } else {
        None
    };

    let summary = rt.block_on(async {
        let (api_stop_tx, api_stop_rx) = tokio::sync::watch::channel(false);
        let listener = match &state {
            Some(_) => match api::bind(&listen).await {
                Ok(l) => Some(l),
                // Reading files takes moments: the API is a convenience then.
                Err(e) if !live_input && !args.serve => {
                    eprintln!("binlog-analyzer: warning: {e}; continuing without the API");
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let server = match (&state, listener) {
            (Some(state), Some(listener)) => {
                let addr = listener
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|_| listen.clone());
                eprintln!("binlog-analyzer: API on http://{addr}/");
                let mut rx = api_stop_rx.clone();
                let shutdown = async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                Some(tokio::spawn(api::serve_on(
                    listener,
                    state.clone(),
                    shutdown,
                )))
            }
            _ => None,
        };
        // Status for the API, and threshold windows, once per half second.
        let pump = {
            let handle = handle.clone();
            let status = state.as_ref().map(|s| Arc::clone(&s.status));
            let observer = Arc::clone(&observer);
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                let mut n = 0u64;
                loop {
                    tick.tick().await;
                    let s = handle.status();
                    metrics.set_queue_size("storage", s.queue_len);
                    if let Some(ts) = s.last_event_timestamp {
                        metrics.last_event_timestamp.set(f64::from(ts));
                    }
                    if let Some(tx) = &status {
                        tx.send_replace(api_status(&s, "run"));
                    }
                    n += 1;
                    if n.is_multiple_of(2) {
                        observer.tick();
                    }
                }
            })
        };
        let stopper = {
            let handle = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                eprintln!("binlog-analyzer: stopping: writing what was read");
                handle.stop();
            })
        };
        let result = runner.run().await;
        if let (Some(tx), Ok(_)) = (state.as_ref().map(|s| &s.status), &result) {
            tx.send_replace(api_status(&handle.status(), "run"));
        }
        let interrupted =
            matches!(&result, Ok(s) if s.end == RunEnd::Stopped) || stopper.is_finished();
        if let (Ok(s), Some(_)) = (&result, &server) {
            if !live_input && args.serve && !interrupted {
                print_summary(s, &handle.status());
                eprintln!("binlog-analyzer: input read; serving the API until Ctrl-C");
                shutdown_signal().await;
            }
        }
        stopper.abort();
        pump.abort();
        let _ = api_stop_tx.send(true);
        if let Some(server) = server {
            if let Ok(Err(e)) = server.await {
                eprintln!("binlog-analyzer: warning: the API server failed: {e}");
            }
        }
        if let Some(d) = &delivery {
            d.shutdown(Duration::from_secs(3)).await;
        }
        anyhow::Ok(result)
    })??;
    if !args.serve || live_input {
        print_summary(&summary, &handle.status());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &runner::Summary, status: &Status) {
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.writes.inserted as f64 / secs
    } else {
        0.0
    };
    let position = match &s.committed {
        Some(cp) => format!("{}:{}", cp.binlog_file, cp.binlog_pos),
        None => "nothing committed".into(),
    };
    eprintln!(
        "binlog-analyzer: {}: {} events, {} changes stored ({} already held), {} alerts in {:.2} s ({:.0} changes/s); position {position}",
        match s.end {
            RunEnd::EndOfInput => "done",
            RunEnd::Stopped => "stopped",
        },
        s.counts.events,
        s.writes.inserted,
        s.writes.skipped,
        status.alerts_committed,
        secs,
        rate,
    );
}

pub fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let cfg = args.config.load()?;
    let (storage, _) = runner::stores::storage_config(&cfg)?;
    if let store::config::StoreConfig::Sqlite(c) = &storage.primary {
        anyhow::ensure!(
            c.path().is_file(),
            "no store at {} (run `binlog-analyzer run` first)",
            c.path().display()
        );
    }
    let queries = storage
        .primary
        .open_queries()
        .context("opening the store")?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| cfg.api.listen.clone());
    let state = api_state(queries, &cfg);
    let rt = runtime()?;
    rt.block_on(async {
        let listener = api::bind(&listen).await?;
        eprintln!(
            "binlog-analyzer: serving {} on http://{listen}/",
            storage.primary.kind()
        );
        api::serve_on(listener, state, shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}
