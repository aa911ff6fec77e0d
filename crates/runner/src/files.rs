//! Input from local binlog files (`mysql.source.files`): events and their
//! file offsets for [`Ingest`], resuming from a checkpoint that names a
//! file and an offset.
//!
//! Files are read in the order given, as one sequence. On resume, files
//! before the checkpoint's file are skipped, and in that file the events
//! before its offset are decoded (the decoder needs the format description
//! and table maps) but not followed. Gzip-compressed files are read
//! transparently.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog::stream::BinlogStream;
use pipeline::{Batch, Checkpoint};
use source::position::compare_files;

use crate::error::{Result, RunError};
use crate::ingest::{EventAt, Ingest};
use crate::status::StatusCell;
use crate::StopAt;

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

/// Read `files` from `start` into `ingest`, handing batches to `emit`.
pub(crate) fn read_files(
    files: &[PathBuf],
    start: Option<&Checkpoint>,
    stop_at: Option<&StopAt>,
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
            let at = EventAt {
                file: &name,
                pos: ev.offset,
                end: outer_end,
                table: ev.table.as_ref(),
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
