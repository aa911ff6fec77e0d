//! Splitting a byte stream into raw events.
//!
//! [`EventReader`] reads large chunks from any [`Read`] into one reused
//! buffer and hands out events as slices of it, so a file is read with few
//! system calls and no per-event allocation. It tracks the current
//! FORMAT_DESCRIPTION (a relay log has two, and every binlog starts with
//! one) because that decides the header length, the post-header lengths and
//! whether events end in a CRC32, which is verified here.

use std::io::{self, Read};

use crate::error::DecodeError;
use crate::fde::{ChecksumAlg, FormatDescription, CHECKSUM_LEN, SERVER_VERSION_LEN};
use crate::header::{
    event_type as et, EventHeader, LOG_EVENT_BINLOG_IN_USE_F, MAGIC, OLD_HEADER_LEN,
};

/// Largest event accepted by default: the server's own ceiling
/// (max_allowed_packet is at most 1 GiB) plus room for headers. Anything
/// bigger is a corrupt size field, not an event.
pub const DEFAULT_MAX_EVENT_SIZE: u32 = (1 << 30) + (1 << 16);

/// Buffer size reached once the input proves large: reads of this size
/// keep system calls rare, and are larger than a typical `BufReader`'s
/// buffer (the CLI's is 256 KiB), which then hands them straight to the
/// file instead of copying every byte through its own buffer.
const READ_CHUNK: usize = 1024 * 1024;
/// Initial buffer size, so that small inputs stay cheap.
const MIN_BUFFER: usize = 4 * 1024;

/// One event as it is in the file: header, body and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// File position of the first header byte.
    pub offset: u64,
    pub header: EventHeader,
    /// Type code after the pre-GA permutation (see
    /// [`FormatDescription::normalize_type`]); `header.type_code` is raw.
    pub type_code: u8,
    /// The whole event, header and checksum included.
    pub bytes: &'a [u8],
    header_len: usize,
    body_end: usize,
}

impl<'a> RawEvent<'a> {
    /// Wrap the bytes of one event whose header has been parsed.
    /// `checksum_len` trailing bytes are excluded from the body.
    pub fn new(
        offset: u64,
        header: EventHeader,
        type_code: u8,
        bytes: &'a [u8],
        header_len: usize,
        checksum_len: usize,
    ) -> Result<Self, DecodeError> {
        let body_end = bytes
            .len()
            .checked_sub(checksum_len)
            .filter(|&e| e >= header_len);
        let body_end = body_end.ok_or_else(|| DecodeError::Corrupt {
            offset,
            event: et::name(type_code),
            reason: format!(
                "event of {} bytes cannot hold a {header_len}-byte header and a {checksum_len}-byte checksum",
                bytes.len()
            ),
        })?;
        Ok(RawEvent {
            offset,
            header,
            type_code,
            bytes,
            header_len,
            body_end,
        })
    }

    /// Everything after the common header, without the checksum.
    #[inline]
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[self.header_len..self.body_end]
    }

    /// The stored CRC32, when the event has one.
    pub fn stored_checksum(&self) -> Option<u32> {
        let tail = self.bytes.get(self.body_end..)?;
        let tail: [u8; 4] = tail.try_into().ok()?;
        Some(u32::from_le_bytes(tail))
    }

    /// File position just past this event.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// Where the current event sits in the reader's buffer.
#[derive(Debug, Clone, Copy)]
struct Current {
    start: usize,
    offset: u64,
    header: EventHeader,
    type_code: u8,
    len: usize,
    header_len: usize,
    checksum_len: usize,
}

pub struct EventReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    /// First byte of `buf` not yet handed out.
    start: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    /// File position of `buf[start]`.
    next_offset: u64,
    current: Option<Current>,
    fde: FormatDescription,
    seen_fde: bool,
    events_read: u64,
    /// Set after a framing error: nothing after it can be trusted.
    broken: bool,
    max_event_size: u32,
    verify_checksums: bool,
    /// A fresh hasher, cloned per event: `Hasher::new` detects CPU
    /// features on every call, which showed on streams of small events.
    crc: crc32fast::Hasher,
}

impl<R: Read> EventReader<R> {
    /// Read a binlog file: checks the 4-byte magic first.
    pub fn new(inner: R) -> Result<Self, DecodeError> {
        let mut reader = Self::without_magic(inner, 0);
        let available = reader.fill(MAGIC.len()).map_err(|e| io_error(0, e))?;
        if available < MAGIC.len() || reader.buf[..MAGIC.len()] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        reader.start = MAGIC.len();
        reader.next_offset = MAGIC.len() as u64;
        Ok(reader)
    }

    /// Read events that start right away (a replication stream, or a file
    /// positioned past its magic). `start_offset` is the position of the
    /// first byte, used for offsets in events and errors. Until an FDE
    /// arrives, a current server's format without checksums is assumed
    /// (see [`EventReader::set_checksum_alg`]).
    pub fn without_magic(inner: R, start_offset: u64) -> Self {
        EventReader {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            next_offset: start_offset,
            current: None,
            fde: FormatDescription::default_v4(ChecksumAlg::Absent),
            seen_fde: false,
            events_read: 0,
            broken: false,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            verify_checksums: true,
            crc: crc32fast::Hasher::new(),
        }
    }

    /// Set the checksum algorithm of events that come before the first
    /// FDE (a replica learns it from the source's `@@binlog_checksum`).
    pub fn set_checksum_alg(&mut self, alg: ChecksumAlg) {
        self.fde.checksum = alg;
    }

    /// Refuse events larger than this (default [`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn set_max_event_size(&mut self, max: u32) {
        self.max_event_size = max;
    }

    /// Turn CRC32 verification off (it is on by default).
    pub fn set_verify_checksums(&mut self, verify: bool) {
        self.verify_checksums = verify;
    }

    /// The format in force for the next event.
    pub fn fde(&self) -> &FormatDescription {
        &self.fde
    }

    /// File position just past the last event read.
    pub fn position(&self) -> u64 {
        self.next_offset
    }

    /// The last event returned by [`EventReader::next_raw`], again.
    pub fn current(&self) -> Option<RawEvent<'_>> {
        let c = self.current?;
        let bytes = &self.buf[c.start..c.start + c.len];
        RawEvent::new(
            c.offset,
            c.header,
            c.type_code,
            bytes,
            c.header_len,
            c.checksum_len,
        )
        .ok()
    }

    /// The body of the last event returned by [`EventReader::next_raw`]
    /// (as [`RawEvent::body`], without building the event again).
    #[inline]
    pub fn current_body(&self) -> Option<&[u8]> {
        let c = self.current.as_ref()?;
        self.buf
            .get(c.start + c.header_len..c.start + c.len - c.checksum_len)
    }

    /// Read the next event. `Ok(None)` at a clean end of input (at an event
    /// boundary); a partial event at the end is [`DecodeError::Truncated`].
    // `next_raw`, `frame` and `finish` run once per event, each from one
    // place: left to itself the compiler sometimes kept them out of line
    // (+3.6 % instructions on `stats` of one-row transactions).
    #[inline]
    pub fn next_raw(&mut self) -> Result<Option<RawEvent<'_>>, DecodeError> {
        self.current = None;
        if self.broken {
            return Ok(None);
        }
        match self.frame() {
            Ok(Some((start, size, header))) => self.finish(start, size, header),
            Ok(None) => Ok(None),
            Err(e) => {
                // Without a trustworthy size there is no next event.
                self.broken = true;
                Err(e)
            }
        }
    }

    /// Find the next event's extent: (start in `buf`, size, header).
    #[inline]
    fn frame(&mut self) -> Result<Option<(usize, usize, EventHeader)>, DecodeError> {
        let offset = self.next_offset;
        let header_len = self.fde.header_length as usize;
        let available = self.fill(header_len).map_err(|e| io_error(offset, e))?;
        if available == 0 {
            return Ok(None);
        }
        if available < header_len {
            return Err(DecodeError::Truncated {
                offset,
                needed: header_len as u64,
                available: available as u64,
            });
        }
        let head = &self.buf[self.start..self.end];
        let header =
            EventHeader::parse_with_len(head, header_len).map_err(|e| corrupt(offset, 0, e))?;
        let size = header.event_size as usize;
        if size < header_len || header.event_size > self.max_event_size {
            return Err(DecodeError::Corrupt {
                offset,
                event: et::name(self.fde.normalize_type(header.type_code)),
                reason: format!(
                    "implausible event size {} (header {header_len} bytes, limit {})",
                    header.event_size, self.max_event_size
                ),
            });
        }
        let available = self.fill(size).map_err(|e| io_error(offset, e))?;
        if available < size {
            return Err(DecodeError::Truncated {
                offset,
                needed: size as u64,
                available: available as u64,
            });
        }
        Ok(Some((self.start, size, header)))
    }

    /// Consume a framed event: track the FDE, verify the checksum. The
    /// event is consumed even when that fails, so a caller may go on.
    #[inline]
    fn finish(
        &mut self,
        start: usize,
        size: usize,
        header: EventHeader,
    ) -> Result<Option<RawEvent<'_>>, DecodeError> {
        let offset = self.next_offset;
        self.start += size;
        self.next_offset += size as u64;
        self.events_read += 1;
        let mut header_len = self.fde.header_length as usize;
        let bytes = &self.buf[start..start + size];
        let raw_type = header.type_code;

        let mut checksum_len = self.fde.checksum_len();
        if raw_type == et::FORMAT_DESCRIPTION {
            let fde = FormatDescription::parse(&bytes[header_len..])
                .map_err(|e| corrupt(offset, raw_type, e))?;
            // The FDE carries the CRC field whenever it has the alg byte,
            // even with checksums off.
            checksum_len = if fde.checksum == ChecksumAlg::Absent {
                0
            } else {
                CHECKSUM_LEN
            };
            if fde.checksum == ChecksumAlg::Crc32 && self.verify_checksums {
                verify_crc(self.crc.clone(), offset, bytes, true)?;
            }
            self.fde = fde;
            self.seen_fde = true;
        } else {
            if raw_type == et::START_V3 && !self.seen_fde && self.events_read == 1 {
                self.fde = old_format_from_start_event(bytes);
                header_len = self.fde.header_length as usize;
                checksum_len = 0;
            }
            if checksum_len > 0 && self.verify_checksums {
                verify_crc(self.crc.clone(), offset, bytes, false)?;
            }
        }
        let type_code = self.fde.normalize_type(raw_type);
        let raw = RawEvent::new(offset, header, type_code, bytes, header_len, checksum_len)?;
        self.current = Some(Current {
            start,
            offset,
            header,
            type_code,
            len: size,
            header_len,
            checksum_len,
        });
        Ok(Some(raw))
    }

    /// Make at least `need` unconsumed bytes available, reading as needed.
    /// Returns how many are available (fewer only at end of input). The
    /// buffer grows by doubling as data actually arrives, so a corrupt size
    /// field cannot make it allocate memory the input does not back.
    #[inline]
    fn fill(&mut self, need: usize) -> io::Result<usize> {
        // Nearly every event is already in the buffer: keep that check
        // inline at both call sites, the reading out of line.
        if self.end - self.start >= need {
            return Ok(self.end - self.start);
        }
        self.fill_slow(need)
    }

    #[inline(never)]
    fn fill_slow(&mut self, need: usize) -> io::Result<usize> {
        while self.end - self.start < need {
            let was_full = self.end == self.buf.len();
            // Only ever part of one event is left here (less than `need`):
            // moving it to the front is cheap and keeps every read as large
            // as the buffer.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            // Grow when still full (an event larger than the buffer) or
            // while ramping up to the chunk size on a large input.
            // Growth only ever follows data that actually arrived.
            if was_full && (self.end == self.buf.len() || self.buf.len() < READ_CHUNK) {
                let grown = self.buf.len().saturating_mul(2).max(MIN_BUFFER);
                let new_len = grown.min(need.max(READ_CHUNK)).max(self.buf.len());
                self.buf.resize(new_len, 0);
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }
}

/// A binlog that starts with START_EVENT_V3 is v1 (3.23, 13-byte headers)
/// or v3 (4.0/4.1); the body starts with the binlog version either way.
fn old_format_from_start_event(bytes: &[u8]) -> FormatDescription {
    let version_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let (binlog_version, body_start) = if version_at(19) == Some(3) {
        (3, 19)
    } else if version_at(OLD_HEADER_LEN) == Some(1) {
        (1, OLD_HEADER_LEN)
    } else {
        (3, 19)
    };
    let version_field = bytes
        .get(body_start + 2..body_start + 2 + SERVER_VERSION_LEN)
        .unwrap_or(&[]);
    let end = version_field
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(version_field.len());
    let server_version = String::from_utf8_lossy(&version_field[..end]);
    let created = bytes
        .get(body_start + 2 + SERVER_VERSION_LEN..body_start + 6 + SERVER_VERSION_LEN)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0);
    FormatDescription::for_old_binlog(binlog_version, &server_version, created)
}

/// Check the trailing CRC32 of a whole event. The server computes an FDE's
/// checksum with the binlog-in-use flag cleared, since it clears that flag
/// in place when it closes the file.
fn verify_crc(
    mut hasher: crc32fast::Hasher,
    offset: u64,
    bytes: &[u8],
    is_fde: bool,
) -> Result<(), DecodeError> {
    let Some(split) = bytes.len().checked_sub(CHECKSUM_LEN) else {
        return Err(DecodeError::Corrupt {
            offset,
            event: et::name(bytes.get(4).copied().unwrap_or(0)),
            reason: "event too short for its checksum".into(),
        });
    };
    let (data, tail) = bytes.split_at(split);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    const FLAGS_AT: usize = 17;
    if is_fde && data.len() > FLAGS_AT && data[FLAGS_AT] & LOG_EVENT_BINLOG_IN_USE_F as u8 != 0 {
        hasher.update(&data[..FLAGS_AT]);
        hasher.update(&[data[FLAGS_AT] & !(LOG_EVENT_BINLOG_IN_USE_F as u8)]);
        hasher.update(&data[FLAGS_AT + 1..]);
    } else {
        hasher.update(data);
    }
    let computed = hasher.finalize();
    if computed != stored {
        return Err(DecodeError::Checksum {
            offset,
            stored,
            computed,
        });
    }
    Ok(())
}

fn io_error(offset: u64, e: io::Error) -> DecodeError {
    DecodeError::Io {
        offset,
        message: e.to_string(),
    }
}

fn corrupt(offset: u64, type_code: u8, e: crate::error::BodyError) -> DecodeError {
    DecodeError::Corrupt {
        offset,
        event: et::name(type_code),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::HEADER_LEN;

    /// Build one v4 event; `crc` appends a correct CRC32.
    pub(crate) fn event(type_code: u8, body: &[u8], crc: bool) -> Vec<u8> {
        let size = HEADER_LEN + body.len() + if crc { 4 } else { 0 };
        let mut e = Vec::with_capacity(size);
        e.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        e.push(type_code);
        e.extend_from_slice(&1u32.to_le_bytes());
        e.extend_from_slice(&(size as u32).to_le_bytes());
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(body);
        if crc {
            let c = crc32fast::hash(&e);
            e.extend_from_slice(&c.to_le_bytes());
        }
        e
    }

    fn fde_event(version: &str, alg: Option<u8>) -> Vec<u8> {
        let mut b = vec![4, 0];
        let mut v = [0u8; 50];
        v[..version.len()].copy_from_slice(version.as_bytes());
        b.extend_from_slice(&v);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(19);
        b.extend_from_slice(
            &FormatDescription::default_v4(ChecksumAlg::Off).post_header_lengths[..42],
        );
        match alg {
            Some(1) => {
                b.push(1);
                event(et::FORMAT_DESCRIPTION, &b, true)
            }
            Some(a) => {
                b.push(a);
                b.extend_from_slice(&[0, 0, 0, 0]);
                event(et::FORMAT_DESCRIPTION, &b, false)
            }
            None => event(et::FORMAT_DESCRIPTION, &b, false),
        }
    }

    fn file(events: &[Vec<u8>]) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        for e in events {
            f.extend_from_slice(e);
        }
        f
    }

    #[test]
    fn gzip_is_not_a_binlog() {
        let gz = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0];
        let err = EventReader::new(&gz[..]).err().unwrap();
        assert_eq!(err, DecodeError::BadMagic);
        assert!(err.to_string().contains("not a binary log"));
        assert!(matches!(
            EventReader::new(&b"\xfeb"[..]),
            Err(DecodeError::BadMagic)
        ));
    }

    #[test]
    fn reads_events_and_stops_cleanly() {
        let f = file(&[
            fde_event("8.0.30", Some(1)),
            event(et::XID, &7u64.to_le_bytes(), true),
        ]);
        let mut r = EventReader::new(&f[..]).unwrap();
        let fde = r.next_raw().unwrap().unwrap();
        assert_eq!(fde.offset, 4);
        assert_eq!(r.fde().checksum, ChecksumAlg::Crc32);
        let xid = r.next_raw().unwrap().unwrap();
        assert_eq!(xid.type_code, et::XID);
        assert_eq!(xid.body(), 7u64.to_le_bytes());
        assert!(xid.stored_checksum().is_some());
        let xid_offset = xid.offset;
        assert_eq!(r.current().unwrap().offset, xid_offset);
        assert!(r.next_raw().unwrap().is_none());
        assert_eq!(r.position(), f.len() as u64);
    }

    #[test]
    fn checksum_mismatch_names_the_event_offset() {
        let f = file(&[
            fde_event("8.0.30", Some(1)),
            event(et::XID, &7u64.to_le_bytes(), true),
        ]);
        let xid_at = f.len() - (HEADER_LEN + 8 + 4);
        let mut bad = f.clone();
        bad[xid_at + HEADER_LEN] ^= 0x40;
        let mut r = EventReader::new(&bad[..]).unwrap();
        r.next_raw().unwrap();
        match r.next_raw() {
            Err(DecodeError::Checksum { offset, .. }) => assert_eq!(offset, xid_at as u64),
            other => panic!("{other:?}"),
        }
        let mut r = EventReader::new(&bad[..]).unwrap();
        r.set_verify_checksums(false);
        r.next_raw().unwrap();
        assert!(r.next_raw().unwrap().is_some());
    }

    #[test]
    fn fde_checksum_ignores_the_in_use_flag() {
        let mut fde = fde_event("8.0.30", Some(1));
        fde[17] |= LOG_EVENT_BINLOG_IN_USE_F as u8;
        let f = file(&[fde]);
        let mut r = EventReader::new(&f[..]).unwrap();
        assert!(r.next_raw().unwrap().is_some());
    }

    #[test]
    fn checksum_off_fde_still_has_its_crc_field() {
        let f = file(&[
            fde_event("5.7.20-log", Some(0)),
            event(et::XID, &9u64.to_le_bytes(), false),
        ]);
        let mut r = EventReader::new(&f[..]).unwrap();
        let fde = r.next_raw().unwrap().unwrap();
        assert_eq!(fde.body().len(), 2 + 50 + 4 + 1 + 42 + 1);
        let xid = r.next_raw().unwrap().unwrap();
        assert_eq!(xid.body(), 9u64.to_le_bytes());
    }

    #[test]
    fn truncated_header_and_body_name_the_offset() {
        let f = file(&[fde_event("5.5.27", None)]);
        let end = f.len() as u64;
        let mut partial_header = f.clone();
        partial_header.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut r = EventReader::new(&partial_header[..]).unwrap();
        r.next_raw().unwrap();
        match r.next_raw() {
            Err(DecodeError::Truncated {
                offset,
                needed,
                available,
            }) => {
                assert_eq!((offset, needed, available), (end, 19, 9));
            }
            other => panic!("{other:?}"),
        }
        let mut partial_body = f.clone();
        let xid = event(et::XID, &1u64.to_le_bytes(), false);
        partial_body.extend_from_slice(&xid[..xid.len() - 3]);
        let mut r = EventReader::new(&partial_body[..]).unwrap();
        r.next_raw().unwrap();
        assert!(
            matches!(r.next_raw(), Err(DecodeError::Truncated { offset, .. }) if offset == end)
        );
    }

    #[test]
    fn absurd_sizes_are_errors_not_allocations() {
        let mut tiny = event(et::XID, &[], false);
        tiny[9..13].copy_from_slice(&5u32.to_le_bytes());
        let mut r = EventReader::without_magic(&tiny[..], 4);
        assert!(matches!(
            r.next_raw(),
            Err(DecodeError::Corrupt { offset: 4, .. })
        ));

        let mut huge = event(et::XID, &[], false);
        huge[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut r = EventReader::without_magic(&huge[..], 0);
        assert!(matches!(r.next_raw(), Err(DecodeError::Corrupt { .. })));

        // Just under the limit but backed by no data: truncated, and the
        // buffer stayed small.
        let mut big = event(et::XID, &[], false);
        big[9..13].copy_from_slice(&(DEFAULT_MAX_EVENT_SIZE - 1).to_le_bytes());
        let mut r = EventReader::without_magic(&big[..], 0);
        assert!(matches!(r.next_raw(), Err(DecodeError::Truncated { .. })));
        assert!(r.buf.len() <= 2 * READ_CHUNK);
    }

    #[test]
    fn events_larger_than_the_buffer_and_split_reads() {
        // A reader that returns one byte at a time exercises every refill path.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || out.is_empty() {
                    return Ok(0);
                }
                out[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let big_body = vec![0xabu8; 3 * READ_CHUNK + 17];
        let f = file(&[
            fde_event("5.5.27", None),
            event(et::ROWS_QUERY, &big_body, false),
            event(et::XID, &3u64.to_le_bytes(), false),
        ]);
        let mut r = EventReader::new(&f[..]).unwrap();
        let mut sizes = vec![];
        while let Some(e) = r.next_raw().unwrap() {
            sizes.push(e.body().len());
        }
        assert_eq!(sizes[1], big_body.len());
        let mut r = EventReader::new(Trickle(&f[..4 + 200])).unwrap();
        assert!(r.next_raw().unwrap().is_some());
    }

    #[test]
    fn checksum_alg_can_be_set_before_the_fde() {
        let stream = event(et::XID, &5u64.to_le_bytes(), true);
        let mut r = EventReader::without_magic(&stream[..], 1000);
        r.set_checksum_alg(ChecksumAlg::Crc32);
        let e = r.next_raw().unwrap().unwrap();
        assert_eq!(e.offset, 1000);
        assert_eq!(e.body(), 5u64.to_le_bytes());
    }

    #[test]
    fn start_v3_binlogs_do_not_crash() {
        // v3: 19-byte header, START body = version 3, server version, created.
        let mut body = vec![3, 0];
        let mut v = [0u8; 50];
        v[..6].copy_from_slice(b"4.0.18");
        body.extend_from_slice(&v);
        body.extend_from_slice(&0u32.to_le_bytes());
        let mut q = vec![0u8; 11];
        q.extend_from_slice(b"db\0SELECT 1");
        let f = file(&[
            event(et::START_V3, &body, false),
            event(et::QUERY, &q, false),
        ]);
        let mut r = EventReader::new(&f[..]).unwrap();
        r.next_raw().unwrap().unwrap();
        assert_eq!(r.fde().binlog_version, 3);
        assert_eq!(r.fde().post_header_len(et::QUERY), Some(11));
        let q = r.next_raw().unwrap().unwrap();
        assert_eq!(q.body().len(), 11 + 11);
    }
}
