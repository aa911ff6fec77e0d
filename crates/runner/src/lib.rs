//! # runner — `binlog-analyzer run`: source → pipeline → batches → stores
//!
//! A [`Runner`] reads row changes from a live server ([`source::Source`])
//! or from local binlog files, runs them through the pipeline (filter,
//! record, masking, rules; [`pipeline::Pipeline`]), cuts batches at
//! transaction boundaries ([`pipeline::Batcher`]) and writes each batch with
//! the checkpoint after it to every configured store
//! ([`store::MultiStore`]). Both inputs feed one event path
//! ([`ingest::Ingest`]): decoded events plus where they are.
//!
//! ## Exactly once
//! - Each batch and the position after it commit in one transaction per
//!   store; a batch always ends at a transaction boundary (or, for an
//!   oversized transaction, carries the position before it).
//! - On start the run resumes from the OLDEST committed checkpoint of the
//!   stores ([`store::MultiStore::resume_checkpoint`]): file+offset, and the
//!   GTID state when the source has one (used to resume when
//!   `mysql.source.binlog.auto_position` is set). For files the checkpoint
//!   names the file and offset.
//! - Stores skip the records they already hold (keyed by file, event offset
//!   and row index), so whatever was read twice is stored once, and so are
//!   its alerts. `kill -9` at any moment loses nothing and repeats nothing.
//! - The schema history of a live source (column names and types followed
//!   through DDL) is saved in the stores and handed back to the source on
//!   resume ([`source::Source::connect_with_history`]). Files are read with
//!   it too when the stores hold one (see [`files`]).
//!
//! ## Threads
//! Reading and processing run on the caller's tokio runtime (files on a
//! blocking task); the store writer has its own thread fed by a bounded
//! queue, so decoding and writing overlap and a slow store slows reading
//! instead of growing memory. Retention purges on another thread, in small
//! transactions.
//!
//! ## What it publishes
//! - [`RunnerHandle::subscribe`]: every committed record (after commit);
//! - [`RunnerHandle::status`]: positions, GTID, lag, counts, rates, store
//!   write statistics;
//! - [`Observer`]: hooks for metrics, alert delivery and logs.
//!
//! Store calls block (and the MySQL store runs its own runtime), so
//! [`Runner::new`] must be called outside async code (or in
//! `spawn_blocking`); [`Runner::run`] is async, [`Runner::run_blocking`]
//! makes its own runtime.

pub mod error;
pub mod files;
pub mod ingest;
pub mod observer;
pub mod replay;
pub mod retention;
pub mod status;
pub mod stores;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipeline::{Batch, ChangeRecord, Checkpoint, Config, Pipeline};
use source::{
    GtidState, MariaGtidList, MysqlGtidSet, Position, SchemaHistory, Source, SourceConfig,
    StartPosition, TlsMode,
};
use store::config::StorageConfig;
use store::{MultiStore, SchemaPosition, Store};
use tokio::sync::{broadcast, mpsc, watch};

pub use error::{Result, RunError};
pub use ingest::{EventAt, Ingest, IngestCounts};
pub use observer::{Observer, QuietObserver, StderrObserver};
pub use status::{RunState, Status};
pub use writer::{CheckpointPolicy, WriteTotals};

use files::FilesEnd;
use status::StatusCell;
use writer::{Budget, WriteMsg, Writer};

/// How many committed records a slow live subscriber may fall behind
/// before it is told it missed some.
pub const LIVE_CAPACITY: usize = 4096;

/// Where changes come from.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // built once per run
pub enum Input {
    /// Local binlog files, read in this order as one sequence.
    Files(Vec<PathBuf>),
    /// A server, as a replica. `start` is used when there is nothing to
    /// resume from; `until_end` stops at the binlog end as of connecting.
    Live(SourceConfig),
}

impl Input {
    /// The input a config describes: `mysql.source.files` when given, else
    /// the server of `mysql.source` (starting at `binlog.log_file`/`log_pos`,
    /// or the current end when no file is named).
    pub fn from_config(cfg: &Config) -> Result<Input> {
        let Some(src) = &cfg.mysql.source else {
            return Err(RunError::Config(format!(
                "{}: mysql.source: nothing to read (give a server or `files`)",
                cfg.files.config
            )));
        };
        if !src.files.is_empty() {
            return Ok(Input::Files(src.files.clone()));
        }
        Ok(Input::Live(source_config(cfg)?))
    }

    /// For logs and status: `host:port`, or the files' names.
    pub fn describe(&self) -> String {
        match self {
            Input::Files(f) => f
                .iter()
                .map(|p| files::file_name(p))
                .collect::<Vec<_>>()
                .join(", "),
            Input::Live(c) => format!("{}:{}", c.host, c.port),
        }
    }
}

/// The live source settings of `mysql.source`.
pub fn source_config(cfg: &Config) -> Result<SourceConfig> {
    let Some(src) = &cfg.mysql.source else {
        return Err(RunError::Config(format!(
            "{}: mysql.source: no source server configured",
            cfg.files.config
        )));
    };
    if src.user.trim().is_empty() {
        return Err(RunError::Config(format!(
            "{}: mysql.source.user: a replication user is required to read from a server",
            cfg.files.config
        )));
    }
    // Address and user come from `apply_connection_settings`.
    let mut out = SourceConfig::new("", 0, "");
    out.password = src.password.expose().to_string();
    apply_connection_settings(src, &mut out);
    out.start = if src.binlog.log_file.is_empty() {
        StartPosition::End
    } else {
        StartPosition::FilePos {
            file: src.binlog.log_file.clone(),
            pos: src.binlog.log_pos.max(4),
        }
    };
    Ok(out)
}

/// Copy the connection settings of a `mysql.source` block into `out`:
/// address, user, charset, server id, TLS, heartbeat, read timeout and
/// schema tracking. The password and the start position stay the caller's,
/// because `run` and `stream --config` each take them from more places.
pub fn apply_connection_settings(src: &pipeline::config::SourceSettings, out: &mut SourceConfig) {
    out.host.clone_from(&src.host);
    out.port = src.port;
    out.user.clone_from(&src.user);
    out.charset.clone_from(&src.charset);
    out.server_id = src.binlog.server_id;
    out.tls = match src.tls {
        pipeline::config::TlsMode::Off => TlsMode::Off,
        pipeline::config::TlsMode::Preferred => TlsMode::Preferred,
        pipeline::config::TlsMode::Required => TlsMode::Required,
        pipeline::config::TlsMode::VerifyCa => TlsMode::VerifyCa,
        pipeline::config::TlsMode::VerifyIdentity => TlsMode::VerifyIdentity,
    };
    out.ca_file.clone_from(&src.ca_file);
    out.track_schema = src.track_schema;
    out.heartbeat = src.heartbeat_period;
    out.read_timeout = src.read_timeout;
}

/// Where a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// From the stores' oldest committed checkpoint; when some store has
    /// none, from the input's start (the others skip what they hold).
    Stores,
    /// From this position (a backfill's saved progress), or the input's
    /// start when `None`.
    From(Option<Checkpoint>),
}

/// Where a run stops besides the end of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopAt {
    /// Before the first transaction that starts at or after this position.
    Position(Checkpoint),
}

/// How a run is driven.
pub struct RunOptions {
    pub resume: Resume,
    pub stop_at: Option<StopAt>,
    pub checkpoints: CheckpointPolicy,
    /// Purge on `storage.retention_days` while running.
    pub retention: bool,
    /// Called with each committed batch's checkpoint (backfill progress).
    #[allow(clippy::type_complexity)]
    pub on_commit: Option<Box<dyn FnMut(&Checkpoint) -> Result<()> + Send>>,
    /// First delay between write attempts (doubled per attempt).
    pub retry_delay: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            resume: Resume::Stores,
            stop_at: None,
            checkpoints: CheckpointPolicy::Advance,
            retention: true,
            on_commit: None,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The end of the input (files; `until_end`) or the stop position.
    EndOfInput,
    /// A stop request ([`RunnerHandle::stop`]).
    Stopped,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub end: RunEnd,
    /// Where the run started (`None`: the input's beginning).
    pub started_from: Option<Checkpoint>,
    pub counts: IngestCounts,
    pub writes: WriteTotals,
    /// Time the reader waited for the writer (a full queue): reading was
    /// faster than storing by about this much.
    pub waited_for_writer: Duration,
    /// Committed in every store at the end.
    pub committed: Option<Checkpoint>,
    pub elapsed: Duration,
}

/// Cheap handle on a run: status, the live record stream, stop.
#[derive(Clone)]
pub struct RunnerHandle {
    status: Arc<StatusCell>,
    live: broadcast::Sender<Arc<ChangeRecord>>,
    stop_tx: Arc<watch::Sender<bool>>,
    stop_flag: Arc<AtomicBool>,
    writer: WriterSlot,
}

/// The writer's queue while a run is reading (for alerts from outside).
type WriterSlot = Arc<std::sync::Mutex<Option<mpsc::Sender<WriteMsg>>>>;

impl RunnerHandle {
    pub fn status(&self) -> Status {
        self.status.get()
    }

    /// Every record committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeRecord>> {
        self.live.subscribe()
    }

    /// Store alerts raised outside the pipeline (threshold alerts) with the
    /// current checkpoint. False when the run is not writing (not started,
    /// ended) or its queue is full.
    pub fn store_alerts(&self, alerts: Vec<store::Alert>) -> bool {
        let slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(tx) => tx.try_send(WriteMsg::Alerts(alerts)).is_ok(),
            None => false,
        }
    }

    /// Stop reading, write what was read up to the last transaction
    /// boundary, and end the run.
    pub fn stop(&self) {
        self.stop_flag.store(true, Ordering::SeqCst);
        self.stop_tx.send_replace(true);
    }
}

/// See the crate docs.
pub struct Runner {
    config: Config,
    input: Input,
    options: RunOptions,
    stores: MultiStore,
    storage: StorageConfig,
    hash_key: Vec<u8>,
    /// Where reading starts (`None`: the input's start).
    start: Option<Checkpoint>,
    history: Option<SchemaHistory>,
    observer: Arc<dyn Observer>,
    status: Arc<StatusCell>,
    live: broadcast::Sender<Arc<ChangeRecord>>,
    stop_tx: Arc<watch::Sender<bool>>,
    stop_flag: Arc<AtomicBool>,
    writer_slot: WriterSlot,
}

impl Runner {
    /// Opens the configured stores and the masking key and finds where to
    /// start. Blocking: call it outside async code.
    pub fn new(config: Config, input: Input, options: RunOptions) -> Result<Runner> {
        Self::with_observer(config, input, options, Arc::new(StderrObserver))
    }

    pub fn with_observer(
        config: Config,
        input: Input,
        options: RunOptions,
        observer: Arc<dyn Observer>,
    ) -> Result<Runner> {
        let (storage, notes) = stores::storage_config(&config)?;
        for n in notes {
            observer.notice(&n);
        }
        let stores = storage.open()?;
        Self::with_stores(config, input, options, observer, storage, stores)
    }

    /// As [`Runner::with_observer`], with stores opened by the caller (they
    /// must be the ones `storage` describes: retention opens its own query
    /// handles from it).
    pub fn with_stores(
        config: Config,
        input: Input,
        mut options: RunOptions,
        observer: Arc<dyn Observer>,
        storage: StorageConfig,
        mut stores: MultiStore,
    ) -> Result<Runner> {
        let hash_key = config.load_hash_key().map_err(RunError::Key)?;
        let start = match &options.resume {
            Resume::Stores => stores.resume_checkpoint()?,
            Resume::From(c) => c.clone(),
        };
        if options.checkpoints == CheckpointPolicy::Advance && options.resume != Resume::Stores {
            // A backfill into stores that follow a source keeps their position.
            options.checkpoints = backfill_policy(&mut stores)?;
        }
        let history = match (&input, &start) {
            (Input::Live(cfg), Some(cp)) if cfg.track_schema => {
                let at = SchemaPosition {
                    binlog_file: cp.binlog_file.clone(),
                    binlog_pos: cp.binlog_pos,
                };
                match stores.schema_at(&at)? {
                    Some(snap) => match SchemaHistory::from_json(&snap.document) {
                        Ok(h) => Some(h),
                        Err(e) => {
                            observer.notice(&format!(
                                "the stored schema history cannot be read ({e}); taking a fresh snapshot"
                            ));
                            None
                        }
                    },
                    None => None,
                }
            }
            // `track_schema: false` turns the history off for files too.
            (Input::Files(files), start)
                if config.mysql.source.as_ref().is_none_or(|s| s.track_schema) =>
            {
                files_history(&mut stores, &files_start(files, start.as_ref()), &*observer)?
            }
            _ => None,
        };
        let status = Arc::new(StatusCell::new(input.describe()));
        let stores_status = stores.status().to_vec();
        status.update(|s| {
            s.committed = start.clone();
            s.gtid_set = start.as_ref().and_then(|c| c.gtid_set.clone());
            s.stores = stores_status;
            if let Input::Files(f) = &input {
                s.bytes_total = files::total_bytes(f);
            }
        });
        Ok(Runner {
            config,
            input,
            options,
            stores,
            storage,
            hash_key,
            start,
            history,
            observer,
            status,
            live: broadcast::channel(LIVE_CAPACITY).0,
            stop_tx: Arc::new(watch::channel(false).0),
            stop_flag: Arc::new(AtomicBool::new(false)),
            writer_slot: WriterSlot::default(),
        })
    }

    /// Publish committed records on this sender instead of the runner's own
    /// (e.g. the API's live channel).
    pub fn set_live_sender(&mut self, sender: broadcast::Sender<Arc<ChangeRecord>>) {
        self.live = sender;
    }

    pub fn handle(&self) -> RunnerHandle {
        RunnerHandle {
            status: Arc::clone(&self.status),
            live: self.live.clone(),
            stop_tx: Arc::clone(&self.stop_tx),
            stop_flag: Arc::clone(&self.stop_flag),
            writer: Arc::clone(&self.writer_slot),
        }
    }

    /// Where reading starts (`None`: the input's start).
    pub fn start(&self) -> Option<&Checkpoint> {
        self.start.as_ref()
    }

    /// [`Runner::run`] on a runtime of its own.
    pub fn run_blocking(self) -> Result<Summary> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| RunError::io("starting the async runtime", e))?;
        rt.block_on(self.run())
    }

    /// Read, process and store until the input ends or [`RunnerHandle::stop`].
    pub async fn run(self) -> Result<Summary> {
        let started = Instant::now();
        let Runner {
            config,
            input,
            options,
            stores,
            storage,
            hash_key,
            start,
            history,
            observer,
            status,
            live,
            stop_tx,
            stop_flag,
            writer_slot,
        } = self;
        let pipeline = Pipeline::new(&config, &hash_key)?;
        for w in &config.warnings {
            observer.notice(&format!("warning: {w}"));
        }
        let settings = config.batch_settings();
        let waited = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (tx, rx) = mpsc::channel(writer::QUEUE);
        let writer = Writer {
            stores,
            policy: options.checkpoints.clone(),
            live,
            status: Arc::clone(&status),
            observer: Arc::clone(&observer),
            on_commit: options.on_commit,
            retry_delay: options.retry_delay,
            last_checkpoint: start.clone(),
            pending_alerts: Vec::new(),
        }
        .spawn(rx)?;
        *writer_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx.clone());
        let purge_stop = retention::Stop::default();
        let purge = match (options.retention, storage.retention_days) {
            (true, Some(days)) => {
                let mut configs = vec![storage.primary.clone()];
                configs.extend(storage.backups.iter().cloned());
                Some(retention::spawn(
                    configs,
                    days,
                    config.storage.purge_interval,
                    purge_stop.clone(),
                    Arc::clone(&observer),
                )?)
            }
            _ => None,
        };
        match &start {
            Some(cp) => observer.notice(&format!(
                "resuming after {}:{}{}",
                cp.binlog_file,
                cp.binlog_pos,
                cp.gtid_set
                    .as_ref()
                    .map(|g| format!(" (gtid {g})"))
                    .unwrap_or_default()
            )),
            None => observer.notice(&format!(
                "starting at the beginning of {}",
                input.describe()
            )),
        }
        status.update(|s| s.state = RunState::CatchingUp);

        let read = match input {
            Input::Files(files) => {
                let start_cp = start.clone().unwrap_or_else(|| Checkpoint {
                    binlog_file: files
                        .first()
                        .map(|f| files::file_name(f))
                        .unwrap_or_default(),
                    binlog_pos: 4,
                    gtid_set: None,
                });
                let mut ingest = Ingest::new(pipeline, settings, start_cp);
                let tracker = history.map(|h| source::schema::SchemaTracker::new(h, true));
                let status = Arc::clone(&status);
                let observer = Arc::clone(&observer);
                let stop_flag = Arc::clone(&stop_flag);
                let start = start.clone();
                let stop_at = options.stop_at.clone();
                let budget = Budget::new(settings.batch_size);
                let rt = tokio::runtime::Handle::current();
                let waited = Arc::clone(&waited);
                let task = tokio::task::spawn_blocking(move || {
                    let mut emit = |b: Batch| {
                        let t = Instant::now();
                        let permit = rt.block_on(budget.acquire(b.records.len()));
                        let r = tx
                            .blocking_send(WriteMsg::Batch(b, permit))
                            .map_err(|_| RunError::WriterGone);
                        waited.fetch_add(nanos(t.elapsed()), Ordering::Relaxed);
                        r
                    };
                    let mut schema = tracker.map(|t| files::FileSchema::new(t, observer.as_ref()));
                    let end = files::read_files(
                        &files,
                        start.as_ref(),
                        stop_at.as_ref(),
                        schema.as_mut(),
                        &mut ingest,
                        &mut emit,
                        &status,
                        &stop_flag,
                    );
                    if let Some(s) = &mut schema {
                        s.report();
                    }
                    for w in ingest.take_warnings() {
                        observer.notice(&format!("warning: {w}"));
                    }
                    observer.events(&ingest.take_event_types());
                    let end = end?;
                    ingest.finish();
                    for b in ingest.take_batches() {
                        emit(b)?;
                    }
                    let c = ingest.counts();
                    status.update(|s| {
                        s.events_total = c.events;
                        s.rows_total = c.rows;
                    });
                    Ok((
                        match end {
                            FilesEnd::Done => RunEnd::EndOfInput,
                            FilesEnd::Interrupted => RunEnd::Stopped,
                        },
                        c,
                    ))
                });
                match task.await {
                    Ok(r) => r,
                    Err(e) => Err(RunError::Config(format!("the file reader failed: {e}"))),
                }
            }
            Input::Live(mut cfg) => {
                if let Some(cp) = &start {
                    cfg.start = StartPosition::Resume(resume_position(
                        cp,
                        config
                            .mysql
                            .source
                            .as_ref()
                            .is_some_and(|s| s.binlog.auto_position),
                    ));
                }
                let ctx = LiveCtx {
                    status: Arc::clone(&status),
                    observer: Arc::clone(&observer),
                    stop: stop_tx.subscribe(),
                    stop_at: options.stop_at.clone(),
                    waited: Arc::clone(&waited),
                };
                live_loop(cfg, history, start.clone(), pipeline, settings, tx, ctx).await
            }
        };
        status.update(|s| s.state = RunState::Stopping);
        // With the reader's sender gone too, the writer drains the queue and ends.
        writer_slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        let joined = tokio::task::spawn_blocking(move || writer.join()).await;
        purge_stop.stop();
        if let Some(p) = purge {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
        let (write_result, _stores) = match joined {
            Ok(Ok(pair)) => pair,
            _ => (Err(RunError::WriterGone), MultiStore::new(Vec::new())),
        };
        let outcome = match (read, write_result) {
            // The writer's own error says more than "writer gone".
            (Err(RunError::WriterGone), Err(w)) => Err(w),
            (Err(e), _) => Err(e),
            (Ok(_), Err(w)) => Err(w),
            (Ok((end, counts)), Ok(writes)) => Ok((end, counts, writes)),
        };
        match outcome {
            Ok((end, counts, writes)) => {
                status.update(|s| s.state = RunState::Finished);
                Ok(Summary {
                    end,
                    started_from: start,
                    counts,
                    writes,
                    waited_for_writer: Duration::from_nanos(waited.load(Ordering::Relaxed)),
                    committed: status.get().committed,
                    elapsed: started.elapsed(),
                })
            }
            Err(e) => {
                observer.error("run", &e.to_string());
                status.update(|s| {
                    s.state = RunState::Failed;
                    s.last_error = Some(e.to_string());
                });
                Err(e)
            }
        }
    }
}

/// Where a file read starts: the resume position, else the first file's
/// first event.
fn files_start(files: &[PathBuf], start: Option<&Checkpoint>) -> SchemaPosition {
    match start {
        Some(cp) => SchemaPosition {
            binlog_file: cp.binlog_file.clone(),
            binlog_pos: cp.binlog_pos,
        },
        None => SchemaPosition {
            binlog_file: files
                .first()
                .map(|f| files::file_name(f))
                .unwrap_or_default(),
            binlog_pos: 4,
        },
    }
}

/// The stored schema history (saved by a live run) to read files from
/// `at` with: the snapshot saved at or before `at`, else, for files older
/// than every snapshot, the earliest (the reader says so when it names a
/// table from it). `None` without one: columns stay `@1`, `@2`, … unless
/// the table maps name them.
fn files_history(
    stores: &mut MultiStore,
    at: &SchemaPosition,
    observer: &dyn Observer,
) -> Result<Option<SchemaHistory>> {
    let snap = match stores.schema_at(at)? {
        Some(s) => Some(s),
        None => stores.schema_earliest()?,
    };
    let Some(snap) = snap else {
        return Ok(None);
    };
    match SchemaHistory::from_json(&snap.document) {
        Ok(h) => Ok(Some(h)),
        Err(e) => {
            observer.notice(&format!(
                "warning: the stored schema history (saved at {}:{}) cannot be read ({e}); \
                 reading the files without it",
                snap.at.binlog_file, snap.at.binlog_pos
            ));
            Ok(None)
        }
    }
}

/// A backfill keeps the stores' resume position: the oldest of theirs when
/// all have one; when none has one, backfill positions become theirs (a
/// later `run` continues after the backfill). Some with and some without
/// is refused: either answer could make `run` skip changes for one store.
fn backfill_policy(stores: &mut MultiStore) -> Result<CheckpointPolicy> {
    let all = stores.checkpoints()?;
    let with: Vec<&Checkpoint> = all.iter().filter_map(|(_, c)| c.as_ref()).collect();
    if with.is_empty() {
        return Ok(CheckpointPolicy::Advance);
    }
    if with.len() < all.len() {
        let missing: Vec<&str> = all
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        return Err(RunError::Config(format!(
            "cannot backfill: {} ha{} no resume position while the other stores have one; run `binlog-analyzer run` first so that every store follows the source",
            missing.join(", "),
            if missing.len() == 1 { "s" } else { "ve" }
        )));
    }
    let oldest = stores
        .resume_checkpoint()?
        .or_else(|| with.first().map(|c| (*c).clone()));
    Ok(match oldest {
        Some(c) => CheckpointPolicy::Keep(c),
        None => CheckpointPolicy::Advance,
    })
}

/// The source position of a stored checkpoint. With `by_gtid` and a GTID
/// state, the file is left empty so the source resumes by GTID.
pub fn resume_position(cp: &Checkpoint, by_gtid: bool) -> Position {
    let gtid = cp.gtid_set.as_deref().and_then(parse_gtid_state);
    let file = if by_gtid && gtid.is_some() {
        String::new()
    } else {
        cp.binlog_file.clone()
    };
    Position {
        file,
        pos: cp.binlog_pos,
        gtid,
    }
}

/// A GTID state as checkpoints write it: a MySQL set (`uuid:1-5,…`) or a
/// MariaDB list (`0-1-7,…`).
pub fn parse_gtid_state(s: &str) -> Option<GtidState> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.contains(':') {
        s.parse::<MysqlGtidSet>().ok().map(GtidState::Mysql)
    } else {
        s.parse::<MariaGtidList>().ok().map(GtidState::Maria)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn checkpoint_of(p: &Position) -> Checkpoint {
    Checkpoint {
        binlog_file: p.file.clone(),
        binlog_pos: p.pos,
        gtid_set: p.gtid.as_ref().map(|g| g.to_string()),
    }
}

/// Reports the warnings of a schema history as they come, each kind once
/// (a table that cannot be named would warn at every table map).
#[derive(Default)]
pub(crate) struct SchemaWarnings {
    seen: usize,
    kinds: std::collections::HashSet<String>,
}

impl SchemaWarnings {
    pub(crate) fn report(&mut self, warnings: &source::schema::Warnings, observer: &dyn Observer) {
        if warnings.total() <= self.seen {
            return;
        }
        let (dropped, new) = warnings.since(self.seen);
        for w in new {
            let kind = w.split_once(": ").map_or(w, |(_, m)| m);
            if self.kinds.insert(kind.to_string()) {
                observer.notice(&format!("warning: {w} (repeats are not shown)"));
            }
        }
        if dropped > 0 {
            observer.notice(&format!(
                "warning: {dropped} more schema warning(s) came too fast to show"
            ));
        }
        self.seen = warnings.total();
    }
}

/// Aborts a helper task when the loop that owns it returns, on any path.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct LiveCtx {
    status: Arc<StatusCell>,
    observer: Arc<dyn Observer>,
    stop: watch::Receiver<bool>,
    stop_at: Option<StopAt>,
    /// Nanoseconds spent waiting for the writer.
    waited: Arc<std::sync::atomic::AtomicU64>,
}

/// No event for this long with a lag of 0 counts as streaming (caught up)
/// even before the source's first heartbeat.
const QUIET_MEANS_CAUGHT_UP: Duration = Duration::from_millis(2500);

enum Step<T> {
    Stop,
    Event(T),
}

async fn live_loop(
    cfg: SourceConfig,
    history: Option<SchemaHistory>,
    start: Option<Checkpoint>,
    pipeline: Pipeline,
    settings: pipeline::config::BatchSettings,
    tx: mpsc::Sender<WriteMsg>,
    mut ctx: LiveCtx,
) -> Result<(RunEnd, IngestCounts)> {
    let track_schema = cfg.track_schema;
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let connected = tokio::select! {
        biased;
        _ = ctx.stop.wait_for(|s| *s) => None,
        r = Source::connect_with_history(cfg, history) => Some(r),
    };
    let mut src = match connected {
        None => return Ok((RunEnd::Stopped, IngestCounts::default())),
        Some(r) => r?,
    };
    let start = start.unwrap_or_else(|| checkpoint_of(src.committed()));
    ctx.observer.notice(&format!(
        "streaming from {addr} ({}), reading from {}",
        src.server().version,
        src.committed()
    ));
    let mut ingest = Ingest::new(pipeline, settings, start);
    let budget = Budget::new(settings.batch_size);
    let waited = Arc::clone(&ctx.waited);
    let send = |msg: WriteMsg| {
        let tx = tx.clone();
        let budget = budget.clone();
        let waited = Arc::clone(&waited);
        async move {
            let t = Instant::now();
            let msg = match msg {
                WriteMsg::Batch(b, _) => {
                    let permit = budget.acquire(b.records.len()).await;
                    WriteMsg::Batch(b, permit)
                }
                other => other,
            };
            let r = tx.send(msg).await.map_err(|_| RunError::WriterGone);
            waited.fetch_add(nanos(t.elapsed()), Ordering::Relaxed);
            r
        }
    };
    if track_schema {
        let p = src.committed();
        send(WriteMsg::Schema {
            at: SchemaPosition {
                binlog_file: p.file.clone(),
                binlog_pos: p.pos,
            },
            document: src.schema_history().to_json(),
        })
        .await?;
    }
    let lag_probe = src.lag_probe();
    // Reported from its own task too: the loop below stops ticking while it
    // waits for a slow store (back-pressure), which is exactly when the
    // lag grows and must be seen.
    let _lag_reporter = AbortOnDrop(tokio::spawn({
        let probe = lag_probe.clone();
        let observer = Arc::clone(&ctx.observer);
        let status = Arc::clone(&ctx.status);
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let lag = probe.seconds();
                observer.lag(lag);
                status.update(|s| s.lag_seconds = Some(lag));
            }
        }
    }));
    let mut reconnects = src.reconnects();
    let mut schema_warnings = SchemaWarnings::default();
    let mut last_event = Instant::now();
    let mut last_status = Instant::now();
    let mut lag: u64;
    let mut read_at = (String::new(), 0u64);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = loop {
        let step = {
            let mut next = std::pin::pin!(src.next());
            loop {
                let deadline = ingest.deadline();
                let sleep_until = deadline.map(tokio::time::Instant::from_std);
                tokio::select! {
                    biased;
                    _ = ctx.stop.wait_for(|s| *s) => break Step::Stop,
                    // Before `next`: while a backlog streams in, `next` is
                    // always ready and would starve the once-a-second
                    // reports (lag, event counts) for as long as it lasts.
                    _ = ticker.tick() => {
                        // The source's own figure: 0 once a heartbeat says we
                        // are at the end, growing while we are behind and
                        // nothing arrives; never the value of the last event
                        // frozen while idle.
                        lag = lag_probe.seconds();
                        let quiet = lag == 0
                            && (lag_probe.caught_up()
                                || last_event.elapsed() >= QUIET_MEANS_CAUGHT_UP);
                        ctx.observer.lag(lag);
                        ctx.observer.events(&ingest.take_event_types());
                        for w in ingest.take_warnings() {
                            ctx.observer.notice(&format!("warning: {w}"));
                        }
                        ctx.status.update(|s| {
                            s.lag_seconds = Some(lag);
                            s.queue_len = writer::QUEUE - tx.capacity();
                            if quiet && s.state == RunState::CatchingUp {
                                s.state = RunState::Streaming;
                            }
                        });
                    }
                    r = &mut next => break Step::Event(r),
                    _ = async { tokio::time::sleep_until(sleep_until.unwrap_or_else(tokio::time::Instant::now)).await },
                        if sleep_until.is_some() => {
                        ingest.poll(Instant::now());
                        let batches: Vec<Batch> = ingest.take_batches().collect();
                        for b in batches {
                            send(WriteMsg::Batch(b, None)).await?;
                        }
                    }
                }
            }
        };
        let r = match step {
            Step::Stop => break RunEnd::Stopped,
            Step::Event(r) => r,
        };
        let ev = match r {
            Ok(Some(ev)) => ev,
            Ok(None) => break RunEnd::EndOfInput,
            Err(e) => {
                ctx.observer.error("source", &e.to_string());
                return Err(e.into());
            }
        };
        last_event = Instant::now();
        // The ROTATE/FORMAT_DESCRIPTION a server makes up on each connect
        // are not in the binlog.
        if ev.artificial {
            continue;
        }
        if let Some(StopAt::Position(stop)) = &ctx.stop_at {
            let here = Position::new(ev.file, ev.pos);
            let limit = Position::new(stop.binlog_file.clone(), stop.binlog_pos);
            if !ingest.in_transaction() && here.cmp_file_pos(&limit).is_ge() {
                break RunEnd::EndOfInput;
            }
        }
        let at = EventAt {
            file: ev.file,
            pos: ev.pos,
            end: ev.next_pos,
            table: ev.table.as_ref(),
            committed: ev.committed.as_ref(),
        };
        ingest.event(&at, &ev.event, last_event)?;
        lag = ev.lag_seconds;
        if read_at.0 != ev.file {
            read_at.0 = ev.file.to_string();
        }
        read_at.1 = ev.next_pos;
        let ddl_at = ev.committed.as_ref().map(|p| SchemaPosition {
            binlog_file: p.file.clone(),
            binlog_pos: p.pos,
        });
        let batches: Vec<Batch> = ingest.take_batches().collect();
        // `ev` borrows the source; what follows needs it back.
        let schema_changed = ingest.take_schema_changed();
        for b in batches {
            send(WriteMsg::Batch(b, None)).await?;
        }
        if schema_changed && track_schema {
            let at = ddl_at.unwrap_or_else(|| SchemaPosition {
                binlog_file: read_at.0.clone(),
                binlog_pos: read_at.1,
            });
            send(WriteMsg::Schema {
                at,
                document: src.schema_history().to_json(),
            })
            .await?;
        }
        if src.reconnects() != reconnects {
            reconnects = src.reconnects();
            ctx.observer.notice(&format!(
                "reconnected to {addr} after a transient failure; resumed after {}",
                src.committed()
            ));
            ctx.status.update(|s| s.reconnects = reconnects);
        }
        schema_warnings.report(&src.schema_history().warnings, ctx.observer.as_ref());
        if last_event.duration_since(last_status) >= Duration::from_millis(200) {
            last_status = last_event;
            ctx.observer.lag(lag);
            let c = ingest.counts();
            let ts = ingest.last_timestamp();
            let (file, pos) = read_at.clone();
            ctx.status.update(|s| {
                s.read_file = Some(file);
                s.read_pos = Some(pos);
                s.events_total = c.events;
                s.rows_total = c.rows;
                s.last_event_timestamp = Some(ts);
                s.lag_seconds = Some(lag);
                if lag == 0 && s.state == RunState::CatchingUp {
                    s.state = RunState::Streaming;
                } else if lag > 0 && s.state == RunState::Streaming {
                    s.state = RunState::CatchingUp;
                }
            });
        }
    };
    ingest.finish();
    let batches: Vec<Batch> = ingest.take_batches().collect();
    for b in batches {
        send(WriteMsg::Batch(b, None)).await?;
    }
    for w in ingest.take_warnings() {
        ctx.observer.notice(&format!("warning: {w}"));
    }
    ctx.observer.events(&ingest.take_event_types());
    let c = ingest.counts();
    let (file, pos) = read_at;
    ctx.status.update(|s| {
        if !file.is_empty() {
            s.read_file = Some(file);
            s.read_pos = Some(pos);
        }
        s.events_total = c.events;
        s.rows_total = c.rows;
    });
    Ok((end, c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::config::{SqliteConfig, StoreConfig};

    fn at(file: &str, pos: u64) -> SchemaPosition {
        SchemaPosition {
            binlog_file: file.into(),
            binlog_pos: pos,
        }
    }

    /// A history whose only table is `db.t` with one column named `name`.
    fn document(name: &str) -> String {
        let mut h = SchemaHistory::new();
        h.insert(
            "db",
            "t",
            &Position::new("mysql-bin.000001", 4),
            source::schema::Origin::Snapshot,
            Some(source::schema::TableSchema {
                columns: vec![source::schema::ColumnInfo {
                    name: name.into(),
                    data_type: "int".into(),
                    unsigned: false,
                    collation: None,
                    enum_values: None,
                    set_values: None,
                    primary_key: false,
                }],
            }),
        );
        h.to_json()
    }

    fn column(h: &SchemaHistory) -> String {
        h.versions("db", "t")[0].schema.as_ref().unwrap().columns[0]
            .name
            .clone()
    }

    #[test]
    fn source_config_takes_heartbeat_period_and_read_timeout() {
        let yaml = "mysql:\n  source:\n    user: repl\n    heartbeat_period: 250ms\n    read_timeout: 3s\n";
        let cfg = Config::parse(yaml, "config.yaml", None, &|_| None).unwrap();
        let src = source_config(&cfg).unwrap();
        assert_eq!(src.heartbeat, Duration::from_millis(250));
        assert_eq!(src.read_timeout, Duration::from_secs(3));
        let defaults = Config::parse(
            "mysql:\n  source:\n    user: repl\n",
            "config.yaml",
            None,
            &|_| None,
        )
        .unwrap();
        let src = source_config(&defaults).unwrap();
        assert_eq!(src.heartbeat, Duration::from_secs(2));
        assert_eq!(src.read_timeout, Duration::from_secs(30));
    }

    #[test]
    fn files_older_than_every_snapshot_read_with_the_earliest() {
        let dir = tempfile::tempdir().unwrap();
        let mut sqlite = StoreConfig::Sqlite(SqliteConfig::new(dir.path()))
            .open_writer()
            .unwrap();
        sqlite
            .save_schema(&at("mysql-bin.000010", 500), &document("later"))
            .unwrap();
        sqlite
            .save_schema(&at("mysql-bin.000005", 300), &document("earliest"))
            .unwrap();
        let mut stores = MultiStore::new(vec![sqlite]);
        let quiet = QuietObserver;
        let pick = |stores: &mut MultiStore, file: &str, pos: u64| {
            files_history(stores, &at(file, pos), &quiet)
                .unwrap()
                .map(|h| column(&h))
        };
        // At or after a snapshot: the newest at or before the start.
        assert_eq!(
            pick(&mut stores, "mysql-bin.000011", 4).as_deref(),
            Some("later")
        );
        assert_eq!(
            pick(&mut stores, "mysql-bin.000007", 4).as_deref(),
            Some("earliest")
        );
        // Before all of them: the earliest, not none and not the newest.
        assert_eq!(
            pick(&mut stores, "mysql-bin.000001", 4).as_deref(),
            Some("earliest")
        );
        assert_eq!(
            files_start(&[PathBuf::from("/x/mysql-bin.000003")], None),
            at("mysql-bin.000003", 4)
        );
    }

    #[test]
    fn files_without_a_stored_history_read_with_the_table_maps_alone() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = StoreConfig::Sqlite(SqliteConfig::new(dir.path()))
            .open_writer()
            .unwrap();
        let mut stores = MultiStore::new(vec![sqlite]);
        let h = files_history(&mut stores, &at("mysql-bin.000001", 4), &QuietObserver).unwrap();
        assert!(h.is_none());
    }
}
