//! Input from local binlog files (`mysql.source.files`): events and their
//! file offsets for [`Ingest`], resuming from a checkpoint that names a
//! file and an offset.
//!
//! Files are read in the order given, as one sequence. On resume, files
//! before the checkpoint's file are skipped, and in that file the events
//! before its offset are decoded (the decoder needs the format description
//! and table maps) but not followed. Gzip-compressed files are read
//! transparently.
//!
//! With a stored schema history (saved by an earlier live run), the reader
//! follows it as the live source does ([`SchemaTracker`]): table maps
//! without column names (`binlog_row_metadata=MINIMAL`) get the names and
//! types of their time, and DDL in the files makes new versions.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog::events::{Event, TableMap};
use binlog::stream::{BinlogStream, EventRef};
use binlog::txn::{classify_statement, StatementKind};
use pipeline::{Batch, Checkpoint};
use source::position::compare_files;
use source::schema::SchemaTracker;
use source::Position;

use crate::error::{Result, RunError};
use crate::ingest::{EventAt, Ingest};
use crate::status::StatusCell;
use crate::{Observer, SchemaWarnings, StopAt};

/// The name records and checkpoints use for a file: its base name.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Total size of the files (for progress).
pub fn total_bytes(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Counts the bytes read from the file (before decompression).
struct Counting<R> {
    inner: R,
    done: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open(path: &Path, done: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| RunError::input(&name, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, Counting { inner: file, done });
    let head = reader.fill_buf().map_err(|e| RunError::input(&name, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::read::MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// How a file read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilesEnd {
    /// Every file was read (or the stop position was reached).
    Done,
    /// A stop was requested.
    Interrupted,
}

/// A stored schema history applied to the files, with what it has to say.
pub(crate) struct FileSchema<'a> {
    tracker: SchemaTracker,
    observer: &'a dyn Observer,
    warnings: SchemaWarnings,
    guess_told: bool,
}

impl<'a> FileSchema<'a> {
    pub fn new(tracker: SchemaTracker, observer: &'a dyn Observer) -> Self {
        FileSchema {
            tracker,
            observer,
            warnings: SchemaWarnings::default(),
            guess_told: false,
        }
    }

    /// A DDL statement in a QUERY event ending at `end`.
    fn query(&mut self, file: &str, end: u64, ev: &EventRef<'_>) {
        if let Event::Query(q) = &ev.event {
            let sql = q.query_str();
            if classify_statement(&sql) == StatementKind::Ddl {
                self.tracker
                    .ddl(&q.schema_str(), &sql, &Position::new(file, end));
            }
        }
    }

    /// The map to decode with, for TABLE_MAP and rows events.
    fn table(&mut self, file: &str, ev: &EventRef<'_>) -> Option<Arc<TableMap>> {
        match &ev.event {
            Event::TableMap(map) => {
                let at = Position::new(file, ev.offset);
                Some(match self.tracker.table_map(map, &at) {
                    Ok(m) => m,
                    // Unlike a live source, files cannot be reread with a
                    // fresh snapshot: decode with the map alone (as without
                    // a history) and say why.
                    Err(why) => {
                        self.tracker.history_mut().warnings.push(format!(
                            "{at}: {why}; decoding {} with the table map alone",
                            map.qualified_name()
                        ));
                        Arc::clone(map)
                    }
                })
            }
            Event::Rows(rows) => self
                .tracker
                .table(rows.table_id)
                .cloned()
                .or_else(|| ev.table.clone()),
            _ => ev.table.clone(),
        }
    }

    /// Notices for what happened since the last call.
    pub fn report(&mut self) {
        if !self.guess_told {
            if let Some(g) = self.tracker.first_guess() {
                self.guess_told = true;
                self.observer.notice(&format!(
                    "warning: the files are older than the stored schema history: column names of \
                     {} at {}, and of any table read before its first snapshot, come from a schema \
                     recorded later (at {}); a column renamed or retyped in between gets today's \
                     name, one added or dropped leaves its table as @1, @2, … (said once)",
                    g.table, g.at, g.snapshot
                ));
            }
        }
        self.warnings
            .report(&self.tracker.history().warnings, self.observer);
    }
}

/// Read `files` from `start` into `ingest`, handing batches to `emit`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_files(
    files: &[PathBuf],
    start: Option<&Checkpoint>,
    stop_at: Option<&StopAt>,
    mut schema: Option<&mut FileSchema<'_>>,
    ingest: &mut Ingest,
    emit: &mut dyn FnMut(Batch) -> Result<()>,
    status: &StatusCell,
    stop: &AtomicBool,
) -> Result<FilesEnd> {
    let done = Arc::new(AtomicU64::new(0));
    let mut last_status = Instant::now();
    let mut counted_before = 0u64;
    for path in files {
        let name = file_name(path);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let skip_before = match start {
            Some(cp) => match compare_files(&name, &cp.binlog_file) {
                std::cmp::Ordering::Less => {
                    counted_before += size;
                    continue;
                }
                std::cmp::Ordering::Equal => cp.binlog_pos,
                std::cmp::Ordering::Greater => 0,
            },
            None => 0,
        };
        if let Some(StopAt::Position(stop_cp)) = stop_at {
            if compare_files(&name, &stop_cp.binlog_file).is_gt() {
                break;
            }
        }
        done.store(0, Ordering::Relaxed);
        let reader = open(path, Arc::clone(&done))?;
        let mut stream = BinlogStream::new(reader).map_err(|e| RunError::input(&name, e))?;
        if let Some(s) = schema.as_deref_mut() {
            // Table ids are per file.
            s.tracker.forget_maps();
        }
        let mut outer_end = 0u64;
        let mut n = 0u64;
        loop {
            let ev = match stream.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => return Err(RunError::input(&name, e)),
            };
            if !ev.in_payload {
                outer_end = ev.offset + u64::from(ev.header.event_size);
            }
            if let Some(s) = schema.as_deref_mut() {
                // Also before the resume offset: the history must see every
                // DDL (one it holds already is skipped).
                s.query(&name, outer_end, &ev);
            }
            if ev.offset < skip_before {
                continue;
            }
            if let Some(StopAt::Position(stop_cp)) = stop_at {
                if !ingest.in_transaction()
                    && name == stop_cp.binlog_file
                    && ev.offset >= stop_cp.binlog_pos
                {
                    return Ok(FilesEnd::Done);
                }
            }
            let resolved;
            let table = match schema.as_deref_mut() {
                Some(s) if ev.table.is_some() => {
                    resolved = s.table(&name, &ev);
                    if matches!(ev.event, Event::TableMap(_)) {
                        s.report();
                    }
                    resolved.as_ref()
                }
                _ => ev.table.as_ref(),
            };
            let at = EventAt {
                file: &name,
                pos: ev.offset,
                end: outer_end,
                table,
                committed: None,
            };
            let now = Instant::now();
            ingest.event(&at, &ev, now)?;
            for b in ingest.take_batches() {
                emit(b)?;
            }
            n += 1;
            if n.is_multiple_of(1024) {
                ingest.poll(now);
                for b in ingest.take_batches() {
                    emit(b)?;
                }
                if stop.load(Ordering::Relaxed) {
                    return Ok(FilesEnd::Interrupted);
                }
                if now.duration_since(last_status) >= Duration::from_millis(200) {
                    last_status = now;
                    let bytes = counted_before + done.load(Ordering::Relaxed);
                    let c = ingest.counts();
                    let ts = ingest.last_timestamp();
                    status.update(|s| {
                        s.read_file = Some(name.clone());
                        s.read_pos = Some(ev.offset);
                        s.events_total = c.events;
                        s.rows_total = c.rows;
                        s.bytes_done = bytes;
                        s.last_event_timestamp = Some(ts);
                    });
                }
            }
        }
        counted_before += size;
        let c = ingest.counts();
        status.update(|s| {
            s.read_file = Some(name.clone());
            s.read_pos = Some(outer_end);
            s.events_total = c.events;
            s.rows_total = c.rows;
            s.bytes_done = counted_before;
        });
    }
    Ok(FilesEnd::Done)
}
