//! Decode everything in a byte string the way the CLI does — every event,
//! every row, every value rendered to JSON — and report what happened. Any
//! panic is a bug: errors must come back as values.
//!
//! Shared by the fuzz targets and `compat/tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

use binlog::events::rows::RowChange;
use binlog::events::Event;
use binlog::stream::BinlogStream;
use binlog::value::render;

/// What one decode did. Only used for reporting: the point of a run is that
/// it returns at all.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    pub events: u64,
    pub rows: u64,
    pub values: u64,
    /// Bytes of JSON rendered.
    pub rendered: u64,
    /// The error that ended decoding, if any (as text).
    pub error: Option<String>,
}

/// More events than this from one input means the stream stopped making
/// progress: a bug, reported as a panic so the fuzzer records it.
pub const MAX_EVENTS: u64 = 1 << 22;

/// Decode `data` as a whole binlog file (magic included).
pub fn decode_stream(data: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let mut stream = match BinlogStream::new(data) {
        Ok(stream) => stream,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let mut json = Vec::new();
    loop {
        let event = match stream.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        out.events += 1;
        assert!(
            out.events <= MAX_EVENTS,
            "more than {MAX_EVENTS} events from {} input bytes",
            data.len()
        );
        let (Event::Rows(rows), Some(table)) = (&event.event, event.table.as_deref()) else {
            continue;
        };
        let mut iter = rows.rows(table, event.offset);
        // Row buffers borrow the event, so they live per event.
        let mut row = RowChange::default();
        // Every real row image consumes at least one byte of the event, so
        // more rows than bytes means the iterator stopped advancing: an
        // endless loop on this input, reported as a panic, not a hang.
        let max_rows = rows.data.len() as u64 + 1;
        let mut rows_in_event = 0u64;
        loop {
            rows_in_event += 1;
            assert!(
                rows_in_event <= max_rows,
                "rows event at offset {} yields more rows than it has bytes ({}): the row iterator does not advance",
                event.offset,
                rows.data.len()
            );
            match iter.next_into(&mut row) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    out.error = Some(e.to_string());
                    break;
                }
            }
            out.rows += 1;
            for image in [&row.before, &row.after].into_iter().flatten() {
                for (value, column) in image.iter().zip(&table.columns) {
                    let Some(value) = value else { continue };
                    out.values += 1;
                    json.clear();
                    render::write_json_value(&mut json, value, column);
                    out.rendered += json.len() as u64;
                }
            }
        }
    }
    out
}

/// Length of the v4 common header.
pub const HEADER_LEN: usize = 19;
pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// True if `event` (header, body, checksum) ends in a CRC32 of the rest:
/// how we tell whether the binlog an FDE came from has checksums.
pub fn has_valid_crc(event: &[u8]) -> bool {
    let Some(split) = event.len().checked_sub(4) else {
        return false;
    };
    if split < HEADER_LEN {
        return false;
    }
    let (head, tail) = event.split_at(split);
    crc32fast::hash(head).to_le_bytes() == tail
}

/// Build a binlog from a real FORMAT_DESCRIPTION event (header and checksum
/// included) and fuzzer-chosen events: `chunks` is read as
/// `[type u8][flags u8][body length u16 LE][body]…` (a short last body takes
/// what is left). Sizes, positions and CRC32s are filled in correctly so the
/// input gets past framing into the event decoders.
pub fn build_stream(fde_event: &[u8], chunks: &[u8]) -> Vec<u8> {
    let checksum = has_valid_crc(fde_event);
    let mut out = Vec::with_capacity(4 + fde_event.len() + chunks.len() * 2);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(fde_event);
    let mut rest = chunks;
    while rest.len() >= 4 {
        let type_code = rest[0];
        let flags = u16::from(rest[1]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let body_end = (4 + len).min(rest.len());
        let body = &rest[4..body_end];
        rest = &rest[body_end..];
        let start = out.len();
        let size = HEADER_LEN + body.len() + if checksum { 4 } else { 0 };
        out.extend_from_slice(&0x6000_0000u32.to_le_bytes()); // timestamp
        out.push(type_code);
        out.extend_from_slice(&1u32.to_le_bytes()); // server id
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&((start + size) as u32).to_le_bytes()); // log_pos = end
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(body);
        if checksum {
            let crc = crc32fast::hash(&out[start..]);
            out.extend_from_slice(&crc.to_le_bytes());
        }
    }
    out
}

/// The corpus directory: `$BINLOG_FIXTURES`, else `shared/fixtures/binlog`
/// beside the repository.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("BINLOG_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/binlog"),
    }
}

/// Uncompressed binlogs of the corpus, as paths relative to `dir` with `/`
/// separators, sorted as strings. `fuzz/make-seeds` lists them the same way:
/// the decode_event selector byte is an index into this list.
pub fn corpus_binlogs(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if std::fs::read(&path).is_ok_and(|b| b.starts_with(&MAGIC)) {
                if let Ok(rel) = path.strip_prefix(base) {
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(parts.join("/"));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The FORMAT_DESCRIPTION event (header to checksum) that follows the magic
/// of a binlog, if the file has a plausible one.
pub fn first_fde(file: &[u8]) -> Option<&[u8]> {
    let header = file.get(4..4 + HEADER_LEN)?;
    if header[4] != 15 {
        return None;
    }
    let size = u32::from_le_bytes(header[9..13].try_into().ok()?) as usize;
    file.get(4..4 + size)
}

/// The FDE events of every corpus binlog, in [`corpus_binlogs`] order.
pub fn corpus_fdes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    corpus_binlogs(dir)
        .into_iter()
        .filter_map(|name| {
            let bytes = std::fs::read(dir.join(&name)).ok()?;
            let fde = first_fde(&bytes)?.to_vec();
            Some((name, fde))
        })
        .collect()
}

/// The structured target's input: a selector byte picking one corpus FDE,
/// then event chunks for [`build_stream`].
pub fn decode_event(fdes: &[(String, Vec<u8>)], data: &[u8]) -> Outcome {
    let Some((&selector, chunks)) = data.split_first() else {
        return Outcome::default();
    };
    let Some((_, fde)) = fdes.get(usize::from(selector) % fdes.len().max(1)) else {
        return Outcome::default();
    };
    decode_stream(&build_stream(fde, chunks))
}
