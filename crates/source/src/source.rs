//! [`Source`]: a replica connection that yields decoded events, follows
//! rotations, reconnects by itself, and only ever commits positions at
//! transaction boundaries.
//!
//! Exactly-once delivery across reconnects: the dump restarts at the last
//! committed boundary, so the events of a transaction that was cut off are
//! read again. They are decoded (the table maps among them are needed) but
//! not handed out a second time: every event has a key (file, end offset,
//! index inside a compressed payload) and events up to the last one
//! delivered are skipped.

use std::cmp::Ordering;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use binlog::events::{Event, GtidKind, TableMap};
use binlog::fde::ChecksumAlg;
use binlog::header::{event_type as et, EventHeader};
use binlog::reader::EventReader;
use binlog::stream::{BinlogStream, EventRef};
use binlog::txn::{classify_statement, ClosedTxn, Gtid, StatementKind, TxnTracker, XaId};

use crate::config::{SourceConfig, StartPosition};
use crate::error::{classify_server_error, DefiniteError, SourceError};
use crate::position::{GtidState, MariaGtidList, MysqlGtidSet, Position};
use crate::protocol::{binlog_dump_gtid_packet, binlog_dump_packet, dump_flags, DumpConn, Reply};
use crate::schema::{SchemaHistory, SchemaTracker};
use crate::server::{self, ServerInfo};

/// Header flag of events the server made up for the replica (fake ROTATE…).
const LOG_EVENT_ARTIFICIAL_F: u16 = 0x20;

/// One decoded event with where it is and what it means for the stream.
#[derive(Debug)]
pub struct SourceEvent<'a> {
    pub event: EventRef<'a>,
    /// Binlog file of the event.
    pub file: &'a str,
    /// Offset of the event in `file` (for events unpacked from a
    /// TRANSACTION_PAYLOAD, the payload event's).
    pub pos: u64,
    /// Offset just past the event.
    pub next_pos: u64,
    /// Made up by the server for this connection (the ROTATE and
    /// FORMAT_DESCRIPTION sent on connect…): no binlog position of its own.
    /// They repeat after every reconnect.
    pub artificial: bool,
    /// GTID of the transaction the event belongs to.
    pub gtid: Option<Gtid>,
    /// For TABLE_MAP and rows events: the table map with the schema history
    /// applied (names, signedness, charsets, ENUM/SET labels, primary key).
    pub table: Option<Arc<TableMap>>,
    /// For rows events: the statement behind them (MariaDB ANNOTATE_ROWS,
    /// MySQL ROWS_QUERY) when the server logs it.
    pub statement: Option<&'a str>,
    /// Set when this event ends a transaction: the position to save and
    /// resume from.
    pub committed: Option<Position>,
    /// Seconds the stream is behind the source at this event.
    pub lag_seconds: u64,
}

/// Shared buffer the decoder reads packets from: the decoder is
/// synchronous and pulls bytes, the network pushes them.
#[derive(Clone, Default)]
struct Feed(Arc<Mutex<FeedBuf>>);

#[derive(Default)]
struct FeedBuf {
    data: Vec<u8>,
    read: usize,
}

impl Feed {
    fn push(&self, bytes: &[u8]) {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        b.data.extend_from_slice(bytes);
    }
    fn is_empty(&self) -> bool {
        let b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        b.read >= b.data.len()
    }
}

impl Read for Feed {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let start = b.read;
        let avail = b.data.get(start..).unwrap_or(&[]);
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        b.read += n;
        if b.read >= b.data.len() {
            b.data.clear();
            b.read = 0;
        }
        Ok(n)
    }
}

/// Orders events across a reconnect: (file, end offset, index in payload).
#[derive(Debug, Clone, PartialEq, Eq)]
struct EventKey {
    file: String,
    end: u64,
    inner: u32,
}

impl EventKey {
    fn cmp(&self, other: &EventKey) -> Ordering {
        crate::position::compare_files(&self.file, &other.file)
            .then(self.end.cmp(&other.end))
            .then(self.inner.cmp(&other.inner))
    }
}

/// Everything that follows the stream's meaning, apart from the decoder.
struct State {
    file: String,
    committed: Position,
    /// GTID state as of `committed`.
    gtid: Option<GtidState>,
    tracker: TxnTracker,
    in_group: bool,
    group_gtid: Option<Gtid>,
    /// The last event handed out.
    delivered: Option<EventKey>,
    /// After a reconnect: events up to here were handed out already.
    skip_through: Option<EventKey>,
    /// Header of the top-level event waiting in the feed.
    pending: Option<EventHeader>,
    /// Bytes of inner events still to come from the current payload.
    inner_remaining: u64,
    inner_index: u32,
    /// (start, end) of the current top-level event.
    outer_span: (u64, u64),
    statement: Option<String>,
    schema: SchemaTracker,
    /// Commit time of the last event processed and whether the end of
    /// the binlog was reached since; shared with [`LagProbe`]s.
    lag: LagProbe,
    target: Option<Position>,
    done: bool,
    /// Skip transactions that started before this UNIX time.
    ts_filter: Option<u64>,
    skipping_group: bool,
}

impl State {
    fn new(committed: Position, history: SchemaHistory, track_schema: bool) -> State {
        State {
            file: committed.file.clone(),
            gtid: committed.gtid.clone(),
            committed,
            tracker: TxnTracker::new(),
            in_group: false,
            group_gtid: None,
            delivered: None,
            skip_through: None,
            pending: None,
            inner_remaining: 0,
            inner_index: 0,
            outer_span: (0, 0),
            statement: None,
            schema: SchemaTracker::new(history, track_schema),
            lag: LagProbe::default(),
            target: None,
            done: false,
            skipping_group: false,
            ts_filter: None,
        }
    }
}

/// What accounting an event produced.
struct Accounted {
    committed: Option<Position>,
    table: Option<Arc<TableMap>>,
    gtid: Option<Gtid>,
}

/// A live binlog stream from one server.
pub struct Source {
    cfg: SourceConfig,
    info: ServerInfo,
    conn: Option<DumpConn>,
    feed: Feed,
    stream: BinlogStream<Feed>,
    st: State,
    /// Dump from `st.committed.gtid` rather than file+offset.
    resume_by_gtid: bool,
    failures: u32,
    reconnects: u32,
    connection_id: u32,
}

impl Source {
    /// Connect and start streaming from `config.start`, with a fresh schema
    /// snapshot.
    pub async fn connect(config: SourceConfig) -> Result<Source, SourceError> {
        Self::connect_with_history(config, None).await
    }

    /// As [`Source::connect`], with a schema history saved earlier (see
    /// [`SchemaHistory::to_json`]); it is extended by a snapshot of tables
    /// it does not know.
    pub async fn connect_with_history(
        config: SourceConfig,
        history: Option<SchemaHistory>,
    ) -> Result<Source, SourceError> {
        let mut side = server::connect(&config).await?;
        let info = server::server_info(&mut side, &config).await?;
        if !info.log_bin {
            return Err(DefiniteError::BinlogOff.into());
        }
        if info.server_id == config.server_id {
            return Err(DefiniteError::DuplicateServerId {
                server_id: config.server_id,
                message: "it is the source server's own @@server_id".into(),
            }
            .into());
        }
        let end = server::binlog_end(&mut side, &config).await?;
        let (committed, resume_by_gtid, ts_filter) =
            initial_position(&config, &info, &mut side, end.as_ref()).await?;
        let target = if config.until_end { end.clone() } else { None };
        let mut history = history.unwrap_or_default();
        if config.track_schema {
            let at = end.clone().unwrap_or_else(|| committed.clone());
            history.snapshot(&mut side, &config, &at).await?;
        }
        let _ = side.disconnect().await;
        let checksum = checksum_alg(&info);
        let feed = Feed::default();
        let stream = new_stream(feed.clone(), checksum);
        let done = match (&target, resume_by_gtid) {
            (Some(t), false) => committed.cmp_file_pos(t) != Ordering::Less,
            _ => false,
        };
        let mut st = State::new(committed, history, config.track_schema);
        st.target = target;
        st.done = done;
        st.ts_filter = ts_filter;
        let mut source = Source {
            cfg: config,
            info,
            conn: None,
            feed,
            stream,
            st,
            resume_by_gtid,
            failures: 0,
            reconnects: 0,
            connection_id: 0,
        };
        if !source.st.done {
            source.open_dump().await?;
        }
        Ok(source)
    }

    /// The next event; `None` when `until_end` was set and the end is
    /// reached. Transient failures are retried inside.
    pub async fn next(&mut self) -> Result<Option<SourceEvent<'_>>, SourceError> {
        loop {
            if self.st.done {
                return Ok(None);
            }
            if self.st.inner_remaining == 0 && self.feed.is_empty() && !self.receive().await? {
                self.st.done = true;
                self.st.lag.set_caught_up(true);
                return Ok(None);
            }
            if !self.should_skip() {
                break;
            }
            let ev = decoded(&mut self.stream, &self.st)?;
            account(&mut self.st, &self.info, &ev)?;
        }
        let ev = decoded(&mut self.stream, &self.st)?;
        let acc = account(&mut self.st, &self.info, &ev)?;
        let st = &mut self.st;
        let (pos, next_pos) = st.outer_span;
        let artificial = is_artificial(&ev.header) && !ev.in_payload;
        if !artificial {
            st.delivered = Some(event_key(st, &ev));
        }
        if let (Some(t), false) = (&st.target, st.in_group) {
            if st.committed.cmp_file_pos(t) != Ordering::Less {
                st.done = true;
            }
        }
        let lag_seconds = lag(st);
        let st = &self.st;
        Ok(Some(SourceEvent {
            file: &st.file,
            pos,
            next_pos,
            artificial,
            gtid: acc.gtid,
            table: acc.table,
            statement: if binlog::header::event_type::is_rows(ev.type_code) {
                st.statement.as_deref()
            } else {
                None
            },
            committed: acc.committed,
            lag_seconds,
            event: ev,
        }))
    }

    /// The last committed transaction boundary: save it to resume later.
    pub fn committed(&self) -> &Position {
        &self.st.committed
    }

    /// The schema history, to persist with the position.
    pub fn schema_history(&self) -> &SchemaHistory {
        self.st.schema.history()
    }

    /// Seconds behind the source: now − commit time of the last event
    /// processed, or 0 once the end of the binlog was reached (a heartbeat
    /// arrived, or a non-blocking dump ended).
    pub fn lag_seconds(&self) -> u64 {
        lag(&self.st)
    }

    /// A handle on [`Source::lag_seconds`] that stays readable while the
    /// source waits for the server.
    pub fn lag_probe(&self) -> LagProbe {
        self.st.lag.clone()
    }

    pub fn server(&self) -> &ServerInfo {
        &self.info
    }

    /// Thread id of the current dump connection on the server.
    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    /// How many times the stream reconnected after a transient failure.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// True when the next event must not be handed out: it was before a
    /// reconnect, or it is older than the start time.
    fn should_skip(&mut self) -> bool {
        let st = &mut self.st;
        let (key, ts) = if st.inner_remaining > 0 {
            let (_, end) = st.outer_span;
            (
                Some(EventKey {
                    file: st.file.clone(),
                    end,
                    inner: st.inner_index + 1,
                }),
                None,
            )
        } else {
            match &st.pending {
                Some(h) if !is_artificial(h) => (
                    Some(EventKey {
                        file: st.file.clone(),
                        end: h.log_pos as u64,
                        inner: 0,
                    }),
                    Some(h.timestamp as u64),
                ),
                _ => (None, None),
            }
        };
        if let (Some(limit), Some(key)) = (&st.skip_through, &key) {
            if key.cmp(limit) != Ordering::Greater {
                return true;
            }
            st.skip_through = None;
        }
        if let Some(t) = st.ts_filter {
            if !st.in_group {
                if let Some(ts) = ts {
                    st.skipping_group = ts < t;
                    if !st.skipping_group {
                        st.ts_filter = None;
                    }
                }
            }
            return st.skipping_group && key.is_some();
        }
        false
    }

    /// Put the next event's bytes into the feed. `false` at the end of a
    /// non-blocking dump. Reconnects on transient failures.
    async fn receive(&mut self) -> Result<bool, SourceError> {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                self.open_dump_with_retry().await?;
                continue;
            };
            let result = conn.next_dump_packet().await;
            let failure = match result {
                Ok(Reply::Data(bytes)) => {
                    let header = EventHeader::parse(&bytes).map_err(|e| {
                        DefiniteError::Protocol(format!("bad event header from the server: {e}"))
                    })?;
                    self.failures = 0;
                    if matches!(header.type_code, et::HEARTBEAT | et::HEARTBEAT_V2) {
                        self.st.lag.heartbeat();
                        continue;
                    }
                    self.st.pending = Some(header);
                    self.feed.push(&bytes);
                    return Ok(true);
                }
                Ok(Reply::Eof) => return Ok(false),
                Ok(Reply::Ok) => {
                    return Err(DefiniteError::Protocol(
                        "unexpected OK in the binlog stream".into(),
                    )
                    .into())
                }
                Ok(Reply::Err { code, message }) => {
                    let requested = self.requested_position();
                    let e = classify_server_error(
                        code,
                        &message,
                        &self.cfg.user,
                        self.cfg.server_id,
                        &requested,
                    );
                    if !e.is_transient() {
                        return Err(self.explain(e).await);
                    }
                    e
                }
                Err(e) if e.is_transient() => e,
                Err(e) => return Err(e),
            };
            self.conn = None;
            // Not at the end any more as far as we know: while reconnecting
            // the lag grows from the last time we were (see LagProbe).
            self.st.lag.set_caught_up(false);
            self.backoff(failure).await?;
        }
    }

    async fn open_dump_with_retry(&mut self) -> Result<(), SourceError> {
        loop {
            match self.open_dump().await {
                Ok(()) => {
                    self.reconnects += 1;
                    return Ok(());
                }
                Err(e) if e.is_transient() => self.backoff(e).await?,
                Err(e) => return Err(self.explain(e).await),
            }
        }
    }

    /// Sleep before the next attempt, or give up with `e`.
    async fn backoff(&mut self, e: SourceError) -> Result<(), SourceError> {
        self.failures += 1;
        if let Some(max) = self.cfg.max_retries {
            if self.failures > max {
                return Err(e);
            }
        }
        let shift = self.failures.saturating_sub(1).min(16);
        let delay = self
            .cfg
            .initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.cfg.max_backoff);
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Add what the server can tell about a definite error (the oldest
    /// binlog still there, for a purged position).
    async fn explain(&mut self, e: SourceError) -> SourceError {
        if let SourceError::Definite(DefiniteError::BinlogPurged {
            requested,
            server_message,
            ..
        }) = &e
        {
            if let Ok(mut side) = server::connect(&self.cfg).await {
                if let Ok(logs) = server::binary_logs(&mut side, &self.cfg).await {
                    return DefiniteError::BinlogPurged {
                        requested: requested.clone(),
                        oldest: logs.first().map(|(f, _)| f.clone()),
                        server_message: server_message.clone(),
                    }
                    .into();
                }
            }
        }
        e
    }

    fn requested_position(&self) -> String {
        match (&self.st.committed.gtid, self.resume_by_gtid) {
            (Some(g), true) => format!("GTID {g}"),
            _ => format!("{}:{}", self.st.committed.file, self.st.committed.pos),
        }
    }

    /// Connect, set the session up as a replica and request the dump from
    /// the committed position. Resets the decoder: the stream restarts at a
    /// transaction boundary with a fresh FORMAT_DESCRIPTION.
    async fn open_dump(&mut self) -> Result<(), SourceError> {
        let cfg = &self.cfg;
        let mut conn = DumpConn::connect(cfg).await?;
        let checksum = if self.info.binlog_checksum == "NONE" {
            "NONE"
        } else {
            "CRC32"
        };
        conn.execute(&format!("SET @master_binlog_checksum = '{checksum}'"))
            .await?;
        conn.execute(&format!("SET @source_binlog_checksum = '{checksum}'"))
            .await?;
        let period_ns = cfg
            .heartbeat
            .as_nanos()
            .clamp(1_000_000, 4_294_967_000_000_000);
        conn.execute(&format!("SET @master_heartbeat_period = {period_ns}"))
            .await?;
        let mariadb = conn.greeting.is_mariadb();
        if mariadb {
            // Without capability 4 (GTID) MariaDB breaks on the first XA
            // transaction; it also makes it send GTID events.
            conn.execute("SET @mariadb_slave_capability = 4").await?;
        }
        let mut flags = 0u16;
        if self.cfg.until_end {
            flags |= dump_flags::NON_BLOCK;
        }
        let pos = &self.st.committed;
        let packet = match (&pos.gtid, self.resume_by_gtid) {
            (Some(GtidState::Maria(list)), true) if mariadb => {
                conn.execute(&format!(
                    "SET @slave_connect_state = {}",
                    server::sql_string(&list.to_string())
                ))
                .await?;
                conn.execute("SET @slave_gtid_strict_mode = 0").await?;
                conn.execute("SET @slave_gtid_ignore_duplicates = 0")
                    .await?;
                binlog_dump_packet(
                    cfg.server_id,
                    "",
                    4,
                    flags | dump_flags::MARIADB_SEND_ANNOTATE_ROWS,
                )
            }
            (Some(GtidState::Mysql(set)), true) if !mariadb => {
                binlog_dump_gtid_packet(cfg.server_id, "", 4, flags, &set.encode())
            }
            (Some(_), true) => {
                return Err(DefiniteError::Config(format!(
                    "a {} GTID position cannot be used with this {} server",
                    if mariadb { "MySQL" } else { "MariaDB" },
                    if mariadb { "MariaDB" } else { "MySQL" }
                ))
                .into())
            }
            _ => {
                let Ok(pos32) = u32::try_from(pos.pos) else {
                    return Err(DefiniteError::Config(format!(
                        "position {} is beyond what COM_BINLOG_DUMP can address; resume by GTID",
                        pos.pos
                    ))
                    .into());
                };
                if mariadb {
                    flags |= dump_flags::MARIADB_SEND_ANNOTATE_ROWS;
                }
                binlog_dump_packet(cfg.server_id, &pos.file, pos32, flags)
            }
        };
        conn.register_replica(0).await?;
        conn.send_dump(&packet).await?;

        self.connection_id = conn.greeting.connection_id;
        self.conn = Some(conn);
        self.feed = Feed::default();
        self.stream = new_stream(self.feed.clone(), checksum_alg(&self.info));
        let st = &mut self.st;
        st.tracker = TxnTracker::new();
        st.in_group = false;
        st.group_gtid = None;
        st.pending = None;
        st.inner_remaining = 0;
        st.inner_index = 0;
        st.statement = None;
        st.schema.forget_maps();
        st.file = st.committed.file.clone();
        st.skip_through = st.delivered.clone();
        Ok(())
    }
}

fn checksum_alg(info: &ServerInfo) -> ChecksumAlg {
    if info.binlog_checksum == "NONE" {
        ChecksumAlg::Off
    } else {
        ChecksumAlg::Crc32
    }
}

fn new_stream(feed: Feed, checksum: ChecksumAlg) -> BinlogStream<Feed> {
    let mut reader = EventReader::without_magic(feed, 0);
    // The fake ROTATE that opens a dump comes before any FDE, in the
    // checksum format the session asked for.
    reader.set_checksum_alg(checksum);
    BinlogStream::from_reader(reader)
}

fn is_artificial(h: &EventHeader) -> bool {
    h.log_pos == 0 || h.flags & LOG_EVENT_ARTIFICIAL_F != 0
}

fn event_key(st: &State, ev: &EventRef<'_>) -> EventKey {
    EventKey {
        file: st.file.clone(),
        end: st.outer_span.1,
        inner: if ev.in_payload { st.inner_index } else { 0 },
    }
}

fn lag(st: &State) -> u64 {
    st.lag.seconds()
}

/// The lag of a [`Source`], readable from elsewhere while the source is
/// busy (e.g. waiting in [`Source::next`]): a consumer's timer can then
/// report it without events flowing. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LagProbe(Arc<LagShared>);

#[derive(Debug, Default)]
struct LagShared {
    /// Source timestamp (UNIX seconds) of the last event processed; 0: none.
    last_ts: AtomicU64,
    /// The end of the binlog was reached (a heartbeat, or the end of a
    /// non-blocking dump) after that event.
    caught_up: AtomicBool,
}

impl LagProbe {
    /// Seconds behind the source: 0 when caught up (or nothing read yet),
    /// else now − the source time of the last event processed, growing
    /// while nothing arrives (a stalled reader or a lost connection).
    pub fn seconds(&self) -> u64 {
        if self.caught_up() {
            return 0;
        }
        match self.0.last_ts.load(AtomicOrdering::Relaxed) {
            0 => 0,
            ts => unix_now().saturating_sub(ts),
        }
    }

    /// Whether the end of the source's binlog was reached after the last
    /// event processed.
    pub fn caught_up(&self) -> bool {
        self.0.caught_up.load(AtomicOrdering::Relaxed)
    }

    fn set_caught_up(&self, v: bool) {
        self.0.caught_up.store(v, AtomicOrdering::Relaxed);
    }

    /// The server says we have all it has: current as of now, so a lost
    /// connection later counts its lag from here.
    fn heartbeat(&self) {
        self.0.last_ts.store(unix_now(), AtomicOrdering::Relaxed);
        self.set_caught_up(true);
    }

    fn event(&self, ts: u64) {
        self.0.last_ts.store(ts, AtomicOrdering::Relaxed);
        self.set_caught_up(false);
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Decode the event waiting in the feed (or the next inner payload event).
fn decoded<'s>(
    stream: &'s mut BinlogStream<Feed>,
    st: &State,
) -> Result<EventRef<'s>, SourceError> {
    match stream.next_event() {
        Ok(Some(ev)) => Ok(ev),
        Ok(None) => Err(DefiniteError::Protocol(format!(
            "the decoder found no event where one was expected (at {}:{})",
            st.file, st.outer_span.1
        ))
        .into()),
        Err(e) => Err(DefiniteError::Protocol(format!(
            "cannot decode the event after {}:{}: {e}",
            st.file, st.outer_span.1
        ))
        .into()),
    }
}

/// Follow what an event means: positions, GTIDs, transactions, schema.
fn account(st: &mut State, info: &ServerInfo, ev: &EventRef<'_>) -> Result<Accounted, SourceError> {
    let h = &ev.header;
    if ev.in_payload {
        st.inner_remaining = st.inner_remaining.saturating_sub(h.event_size as u64);
        st.inner_index += 1;
    } else {
        st.pending = None;
        st.inner_index = 0;
        if h.log_pos != 0 {
            st.outer_span = (
                (h.log_pos as u64).saturating_sub(h.event_size as u64),
                h.log_pos as u64,
            );
        }
    }
    let artificial = is_artificial(h) && !ev.in_payload;
    if !artificial {
        st.lag.event(h.timestamp as u64);
    }
    let (start, end) = st.outer_span;
    let ts = h.timestamp;
    let mut closed: Option<ClosedTxn> = None;
    let mut table = None;
    let mut boundary_meta = false;
    match &ev.event {
        Event::Rotate(r) => {
            st.file = r.next_file_str().into_owned();
            if !artificial && !st.in_group {
                st.committed = Position {
                    file: st.file.clone(),
                    pos: r.position,
                    gtid: st.gtid.clone(),
                };
            }
            st.schema.forget_maps();
        }
        Event::MariaGtid(g) => {
            let gtid = Gtid::Maria {
                domain: g.domain_id,
                server: h.server_id,
                seq: g.seq_no,
            };
            st.tracker.on_gtid(gtid.clone(), start, ts);
            st.in_group = true;
            st.group_gtid = Some(gtid);
        }
        Event::Gtid(g) => {
            if g.kind == GtidKind::Anonymous {
                st.tracker.on_anonymous_gtid();
                st.group_gtid = None;
            } else {
                let gtid = Gtid::Mysql {
                    sid: g.uuid,
                    tag: g.tag.map(str::to_string),
                    gno: g.gno,
                };
                st.tracker.on_gtid(gtid.clone(), start, ts);
                st.group_gtid = Some(gtid);
            }
            if let Some(us) = g.immediate_commit_timestamp {
                st.lag.event(us / 1_000_000);
            }
            st.in_group = true;
        }
        Event::Query(q) => {
            let sql = q.query_str();
            let kind = classify_statement(&sql);
            if kind == StatementKind::Ddl && !artificial {
                let at = Position::new(st.file.clone(), end);
                st.schema.ddl(&q.schema_str(), &sql, &at);
            }
            if kind == StatementKind::Begin {
                st.in_group = true;
            }
            closed = st.tracker.on_statement(&kind, start, ts);
        }
        Event::Xid(x) => closed = st.tracker.on_xid(x.xid, start, ts),
        Event::XaPrepare(x) => {
            let xid = XaId {
                format_id: x.xid.format_id as i64,
                gtrid: x.xid.gtrid.to_vec(),
                bqual: x.xid.bqual.to_vec(),
            };
            closed = st.tracker.on_xa_prepare_event(xid, x.one_phase, start, ts);
        }
        Event::Rows(rows) => {
            st.tracker.on_rows(0, start, ts);
            st.in_group = true;
            table = st
                .schema
                .table(rows.table_id)
                .cloned()
                .or_else(|| ev.table.clone());
        }
        Event::TableMap(map) => {
            let at = Position::new(st.file.clone(), start);
            let resolved = st
                .schema
                .table_map(map, &at)
                .map_err(|m| DefiniteError::Schema(format!("at {}:{start}: {m}", st.file)))?;
            table = Some(resolved);
        }
        Event::AnnotateRows(q) | Event::RowsQuery(q) => {
            st.statement = Some(q.query_str().into_owned());
        }
        Event::PreviousGtids(p) if !info.mariadb => {
            if st.gtid.is_none() {
                st.gtid = Some(GtidState::Mysql(MysqlGtidSet::from_entries(&p.entries)));
            }
            boundary_meta = true;
        }
        Event::MariaGtidList(l) => {
            if st.gtid.is_none() && !artificial {
                let mut list = MariaGtidList::new();
                for g in &l.gtids {
                    list.update(g.domain_id, g.server_id, g.seq_no);
                }
                st.gtid = Some(GtidState::Maria(list));
            }
            boundary_meta = true;
        }
        Event::TransactionPayload(p) => {
            st.inner_remaining = match p.uncompressed_size {
                Some(n) => n,
                None => {
                    return Err(DefiniteError::Protocol(format!(
                        "TRANSACTION_PAYLOAD at {}:{start} does not give its uncompressed size",
                        st.file
                    ))
                    .into())
                }
            };
            st.inner_index = 0;
        }
        Event::FormatDescription(_) | Event::BinlogCheckpoint(_) | Event::Stop => {
            boundary_meta = true;
        }
        _ => {}
    }
    let gtid = if st.in_group {
        st.group_gtid.clone()
    } else {
        None
    };
    let mut committed = None;
    if let Some(c) = closed {
        if let Some(g) = &c.txn.gtid {
            record_gtid(&mut st.gtid, g);
        }
        st.in_group = false;
        st.group_gtid = None;
        st.statement = None;
        // Inside a payload the boundary is the end of the payload event.
        st.committed = Position {
            file: st.file.clone(),
            pos: end,
            gtid: st.gtid.clone(),
        };
        committed = Some(st.committed.clone());
    } else if boundary_meta && !artificial && !st.in_group && !ev.in_payload {
        st.committed = Position {
            file: st.file.clone(),
            pos: end,
            gtid: st.gtid.clone(),
        };
    }
    Ok(Accounted {
        committed,
        table,
        gtid,
    })
}

fn record_gtid(state: &mut Option<GtidState>, g: &Gtid) {
    match g {
        Gtid::Maria {
            domain,
            server,
            seq,
        } => {
            if !matches!(state, Some(GtidState::Maria(_))) {
                *state = Some(GtidState::Maria(MariaGtidList::new()));
            }
            if let Some(GtidState::Maria(list)) = state {
                list.update(*domain, *server, *seq);
            }
        }
        Gtid::Mysql { sid, tag, gno } => {
            if !matches!(state, Some(GtidState::Mysql(_))) {
                *state = Some(GtidState::Mysql(MysqlGtidSet::new()));
            }
            if let Some(GtidState::Mysql(set)) = state {
                set.add(*sid, tag.as_deref(), *gno);
            }
        }
    }
}

/// Where the first dump starts, whether to resume by GTID, and the time
/// filter of a start-by-timestamp.
async fn initial_position(
    cfg: &SourceConfig,
    info: &ServerInfo,
    side: &mut mysql_async::Conn,
    end: Option<&Position>,
) -> Result<(Position, bool, Option<u64>), SourceError> {
    let end_or_err = || {
        end.cloned()
            .ok_or(SourceError::Definite(DefiniteError::BinlogOff))
    };
    Ok(match &cfg.start {
        StartPosition::End => {
            let mut p = end_or_err()?;
            p.gtid = gtid_at(side, cfg, info, &p).await;
            (p, false, None)
        }
        StartPosition::Earliest => {
            let logs = server::binary_logs(side, cfg).await?;
            let Some((first, _)) = logs.into_iter().next() else {
                return Err(DefiniteError::BinlogOff.into());
            };
            (Position::new(first, 4), false, None)
        }
        StartPosition::FilePos { file, pos } => {
            check_start_exists(side, cfg, file, *pos).await?;
            let mut p = Position::new(file.clone(), *pos);
            p.gtid = gtid_at(side, cfg, info, &p).await;
            (p, false, None)
        }
        StartPosition::Resume(p) => {
            let by_gtid = p.file.is_empty() && p.gtid.is_some();
            if !by_gtid {
                check_start_exists(side, cfg, &p.file, p.pos).await?;
            }
            (p.clone(), by_gtid, None)
        }
        StartPosition::MariaGtid(list) => (
            Position {
                file: String::new(),
                pos: 4,
                gtid: Some(GtidState::Maria(list.clone())),
            },
            true,
            None,
        ),
        StartPosition::MysqlGtid(set) => (
            Position {
                file: String::new(),
                pos: 4,
                gtid: Some(GtidState::Mysql(set.clone())),
            },
            true,
            None,
        ),
        StartPosition::Timestamp(t) => {
            let file = crate::timestamp::first_file_for(cfg, side, *t).await?;
            (Position::new(file, 4), false, Some(*t))
        }
    })
}

/// A start file and position must be in SHOW BINARY LOGS: the server does
/// not reject a dump from a file newer than its newest (it waits, or a
/// non-blocking dump ends at once, reading nothing). Without the privilege
/// to list the logs the check is left to the server.
async fn check_start_exists(
    side: &mut mysql_async::Conn,
    cfg: &SourceConfig,
    file: &str,
    pos: u64,
) -> Result<(), SourceError> {
    match server::binary_logs(side, cfg).await {
        Ok(logs) => Ok(crate::error::check_start(&logs, file, pos)?),
        Err(SourceError::Definite(DefiniteError::AccessDenied { .. })) => Ok(()),
        Err(e) => Err(e),
    }
}

/// MariaDB knows the GTID state at any binlog position.
async fn gtid_at(
    side: &mut mysql_async::Conn,
    cfg: &SourceConfig,
    info: &ServerInfo,
    p: &Position,
) -> Option<GtidState> {
    if !info.mariadb {
        return None;
    }
    let sql = format!(
        "SELECT BINLOG_GTID_POS({}, {})",
        server::sql_string(&p.file),
        p.pos
    );
    let text = server::query_value(side, cfg, &sql).await.ok()??;
    text.parse::<MariaGtidList>().ok().map(GtidState::Maria)
}

// The CLI runs the source on a multi-threaded runtime.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Source>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The corpus of real binlogs (see MANIFEST.md there).
    fn fixture(rel: &str) -> Option<Vec<u8>> {
        let base = std::env::var_os("BINLOG_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/binlog")
            });
        match std::fs::read(base.join(rel)) {
            Ok(b) => Some(b),
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but corpus file {rel} is missing: {e}");
                }
                eprintln!("note: skipping, corpus file {rel} missing: {e}");
                None
            }
        }
    }

    /// Feed a binlog file through the live path as a server would send it
    /// (one event per packet, after a fake ROTATE), returning what each
    /// event meant: (type, gtid, committed position).
    fn replay(
        file_name: &str,
        bytes: &[u8],
        mariadb: bool,
    ) -> Vec<(u8, Option<String>, Option<Position>)> {
        let info = ServerInfo {
            version: "8.4.0".into(),
            mariadb,
            server_id: 1,
            log_bin: true,
            binlog_checksum: "CRC32".into(),
        };
        let feed = Feed::default();
        let mut stream = new_stream(feed.clone(), ChecksumAlg::Off);
        let mut st = State::new(Position::new(file_name, 4), SchemaHistory::new(), false);
        let mut out = Vec::new();
        // The fake ROTATE a server sends first (no checksum: the session
        // said NONE here, and the reader was told so).
        let mut rotate = Vec::new();
        let name = file_name.as_bytes();
        let size = 19 + 8 + name.len();
        rotate.extend_from_slice(&0u32.to_le_bytes());
        rotate.push(et::ROTATE);
        rotate.extend_from_slice(&1u32.to_le_bytes());
        rotate.extend_from_slice(&(size as u32).to_le_bytes());
        rotate.extend_from_slice(&0u32.to_le_bytes());
        rotate.extend_from_slice(&LOG_EVENT_ARTIFICIAL_F.to_le_bytes());
        rotate.extend_from_slice(&4u64.to_le_bytes());
        rotate.extend_from_slice(name);
        let mut packets = vec![rotate];
        let mut at = 4;
        while at + 19 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 9..at + 13].try_into().unwrap()) as usize;
            packets.push(bytes[at..at + len].to_vec());
            at += len;
        }
        for packet in packets {
            st.pending = Some(EventHeader::parse(&packet).unwrap());
            feed.push(&packet);
            loop {
                let ev = decoded(&mut stream, &st).unwrap();
                let acc = account(&mut st, &info, &ev).unwrap();
                out.push((ev.type_code, acc.gtid.map(|g| g.to_string()), acc.committed));
                if st.inner_remaining == 0 && feed.is_empty() {
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn compressed_transaction_payload_commits_once_at_the_payload_end() {
        let Some(bytes) = fixture("rust_mysql_common/transaction_compression.000001") else {
            return;
        };
        let events = replay("binlog.000001", &bytes, false);
        let types: Vec<u8> = events.iter().map(|e| e.0).collect();
        // Fake ROTATE, FDE, PREVIOUS_GTIDS, ANONYMOUS_GTID, PAYLOAD + its 4
        // inner events, and the file's closing ROTATE.
        assert_eq!(
            types,
            [
                et::ROTATE,
                et::FORMAT_DESCRIPTION,
                et::PREVIOUS_GTIDS,
                et::ANONYMOUS_GTID,
                et::TRANSACTION_PAYLOAD,
                et::QUERY,
                et::TABLE_MAP,
                et::WRITE_ROWS,
                et::XID,
                et::ROTATE
            ]
        );
        let commits: Vec<&Position> = events.iter().filter_map(|e| e.2.as_ref()).collect();
        assert_eq!(commits.len(), 1, "{events:?}");
        let mut at = 4;
        let mut payload_end = 0;
        while at + 19 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 9..at + 13].try_into().unwrap()) as usize;
            if bytes[at + 4] == et::TRANSACTION_PAYLOAD {
                payload_end = (at + len) as u64;
            }
            at += len;
        }
        assert_eq!(
            commits[0].pos, payload_end,
            "the boundary is the end of the payload event"
        );
    }

    #[test]
    fn tagged_gtids_accumulate_into_the_committed_gtid_set() {
        let Some(bytes) = fixture("rust_mysql_common/binlog_transaction_with_GTID_TAG.000001")
        else {
            return;
        };
        let events = replay("binlog.000001", &bytes, false);
        let last = events
            .iter()
            .rev()
            .find_map(|e| e.2.clone())
            .expect("a commit");
        let Some(GtidState::Mysql(set)) = &last.gtid else {
            panic!("{last:?}")
        };
        let text = set.to_string();
        let tagged: Vec<&String> = events
            .iter()
            .filter_map(|e| e.1.as_ref())
            .filter(|g| g.matches(':').count() == 2)
            .collect();
        assert!(!tagged.is_empty(), "the file has tagged GTIDs: {events:?}");
        for g in tagged {
            let (uuid_tag, gno) = g.rsplit_once(':').unwrap();
            let (uuid, tag) = uuid_tag.split_once(':').unwrap();
            let set_has = set.contains(
                crate::position::parse_uuid(uuid).unwrap(),
                Some(tag),
                gno.parse().unwrap(),
            );
            assert!(set_has, "{g} in {text}");
        }
        // The set round-trips through its text and binary (dump request) forms.
        assert_eq!(text.parse::<MysqlGtidSet>().unwrap(), *set);
        let encoded = set.encode();
        let decoded = binlog::events::gtid::parse_gtid_set(&encoded).unwrap();
        assert_eq!(MysqlGtidSet::from_entries(&decoded), *set);
    }
}
