//! `BinlogStream`: reader plus decoder state.
//!
//! The stream owns what decoding needs beyond one event: the current
//! FORMAT_DESCRIPTION (kept by the [`EventReader`]), the table maps by table
//! id (rows events only make sense with theirs), counts of skipped
//! ignorable events, and the state of a TRANSACTION_PAYLOAD being unpacked.
//!
//! [`BinlogStream::next_event`] lends each event: it borrows the stream's
//! buffers until the next call, so decoding allocates almost nothing.
//!
//! A TRANSACTION_PAYLOAD is yielded itself, then its inner events one by
//! one (`in_payload: true`), decompressed with a streaming zstd decoder so
//! the whole transaction is never in memory at once.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Cursor, Read};
use std::sync::Arc;

use crate::error::{BodyError, DecodeError};
use crate::events::compressed;
use crate::events::payload::{PayloadCompression, TransactionPayloadEvent};
use crate::events::table_map::TableMap;
use crate::events::{is_known_type, Event};
use crate::fde::FormatDescription;
use crate::header::{event_type as et, EventHeader, HEADER_LEN};
use crate::reader::{EventReader, DEFAULT_MAX_EVENT_SIZE};

/// One decoded event, borrowing from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRef<'a> {
    /// File position of the event; for events inside a TRANSACTION_PAYLOAD,
    /// the position of the payload event.
    pub offset: u64,
    /// The header as written (raw type code; an inner event's own header).
    pub header: EventHeader,
    /// The type the event was decoded as: the pre-GA permutation applied,
    /// and for MariaDB's compressed events the plain type.
    pub type_code: u8,
    pub event: Event<'a>,
    /// True for the events unpacked from a TRANSACTION_PAYLOAD.
    pub in_payload: bool,
    /// For rows events: the table map of their table id. For TABLE_MAP
    /// events: the map itself. `None` otherwise (and for the dummy rows
    /// events MySQL writes with table id ~0 to end a statement).
    pub table: Option<Arc<TableMap>>,
}

impl EventRef<'_> {
    /// The server's name of the decoded type, e.g. "WRITE_ROWS".
    pub fn type_name(&self) -> &'static str {
        et::name(self.type_code)
    }
}

/// Where the body of the pending event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The reader's current event.
    Outer,
    /// `BinlogStream::scratch`: an inner payload event or a decompressed
    /// MariaDB event.
    Scratch,
}

/// An event read and classified, not yet decoded.
struct Pending {
    offset: u64,
    header: EventHeader,
    type_code: u8,
    in_payload: bool,
    source: Source,
    /// Set for events handled while reading (they change the stream's
    /// state); the rest are decoded by `next_event`.
    prepared: Option<Prepared>,
}

/// An event handled while reading, in a form small enough to move on
/// every event (boxing a whole `Event` cost an allocation per TABLE_MAP,
/// i.e. per transaction on autocommit traffic).
enum Prepared {
    /// The new FORMAT_DESCRIPTION is the reader's current one.
    FormatDescription,
    TableMap(Arc<TableMap>),
    Ignored {
        type_code: u8,
    },
}

/// What to do with an event after looking at its type.
enum Step {
    Decode,
    /// Already handled (the event changed the stream's state).
    Prepared(Prepared),
    Compressed,
    Payload,
    Encrypted,
}

/// Decompressed inner events of a TRANSACTION_PAYLOAD.
enum PayloadSource {
    Zstd(Box<zstd::stream::read::Decoder<'static, Cursor<Vec<u8>>>>),
    Plain(Cursor<Vec<u8>>),
}

impl Read for PayloadSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            PayloadSource::Zstd(d) => d.read(buf),
            PayloadSource::Plain(c) => c.read(buf),
        }
    }
}

struct Payload {
    offset: u64,
    source: PayloadSource,
}

/// The table map bound to each table id, with the body it was parsed from.
///
/// Servers write a TABLE_MAP before every statement's rows, so a stream of
/// short transactions re-sends the same few maps all the time. A map whose
/// body is byte-for-byte the one already bound to its id (same FDE: an FDE
/// clears the cache) is the same map: the bound `Arc` is handed out again
/// instead of parsing and allocating names, charsets and labels anew, and
/// callers that key work on `Arc::ptr_eq` keep their caches warm.
#[derive(Default)]
struct TableCache {
    maps: TableIdMap<(Arc<TableMap>, Vec<u8>)>,
}

impl TableCache {
    fn get(&self, table_id: u64) -> Option<&Arc<TableMap>> {
        self.maps.get(&table_id).map(|(map, _)| map)
    }

    fn clear(&mut self) {
        self.maps.clear();
    }

    /// The map of a TABLE_MAP body: the bound one when the body is
    /// unchanged, else freshly parsed and bound.
    fn bind(&mut self, body: &[u8], fde: &FormatDescription) -> Result<Arc<TableMap>, BodyError> {
        if let Some(id) = TableMap::peek_table_id(body, fde) {
            if let Some((map, bytes)) = self.maps.get(&id) {
                if bytes.as_slice() == body {
                    return Ok(Arc::clone(map));
                }
            }
        }
        let map = Arc::new(TableMap::parse(body, fde)?);
        match self.maps.entry(map.table_id) {
            Entry::Occupied(mut e) => {
                let (bound, bytes) = e.get_mut();
                *bound = Arc::clone(&map);
                bytes.clear();
                bytes.extend_from_slice(body);
            }
            Entry::Vacant(e) => {
                e.insert((Arc::clone(&map), body.to_vec()));
            }
        }
        Ok(map)
    }
}

/// A map keyed by table id, for the per-event lookups of decoders and
/// their callers.
pub type TableIdMap<V> = HashMap<u64, V, BuildHasherDefault<TableIdHasher>>;

/// Table ids are small sequential numbers: one multiply spreads them over
/// the hash table (SipHash would cost more than the rest of the lookup).
/// Not for keys an attacker picks.
#[derive(Default)]
pub struct TableIdHasher(u64);

impl Hasher for TableIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub struct BinlogStream<R: Read> {
    reader: EventReader<R>,
    tables: TableCache,
    ignored: BTreeMap<u8, u64>,
    payload: Option<Payload>,
    scratch: Vec<u8>,
    /// Set after START_ENCRYPTION: nothing after it is readable.
    stopped: bool,
}

impl<R: Read> BinlogStream<R> {
    /// Decode a binlog file (checks the magic).
    pub fn new(inner: R) -> Result<Self, DecodeError> {
        Ok(Self::from_reader(EventReader::new(inner)?))
    }

    /// Decode events from an already configured reader (e.g. a replication
    /// stream made with [`EventReader::without_magic`]).
    pub fn from_reader(reader: EventReader<R>) -> Self {
        BinlogStream {
            reader,
            tables: TableCache::default(),
            ignored: BTreeMap::new(),
            payload: None,
            scratch: Vec::new(),
            stopped: false,
        }
    }

    /// The format in force (from the last FORMAT_DESCRIPTION).
    pub fn fde(&self) -> &FormatDescription {
        self.reader.fde()
    }

    /// File position just past the last top-level event read.
    pub fn position(&self) -> u64 {
        self.reader.position()
    }

    /// Ignorable events skipped so far, by type code.
    pub fn ignored_counts(&self) -> &BTreeMap<u8, u64> {
        &self.ignored
    }

    /// The table map currently bound to a table id.
    pub fn table(&self, table_id: u64) -> Option<&Arc<TableMap>> {
        self.tables.get(table_id)
    }

    pub fn reader_mut(&mut self) -> &mut EventReader<R> {
        &mut self.reader
    }

    /// The next event, or `None` at the end. Errors name the event offset.
    /// After an error in one event's body the stream can go on with the
    /// next; after a framing error (truncation, bad size) it ends.
    pub fn next_event(&mut self) -> Result<Option<EventRef<'_>>, DecodeError> {
        let Some(pending) = self.advance()? else {
            return Ok(None);
        };
        let fde = self.reader.fde();
        let event = match pending.prepared {
            Some(Prepared::FormatDescription) => Event::FormatDescription(fde.clone()),
            Some(Prepared::TableMap(map)) => Event::TableMap(map),
            Some(Prepared::Ignored { type_code }) => Event::Ignored { type_code },
            None => {
                let body = match pending.source {
                    Source::Scratch => &self.scratch[..],
                    Source::Outer => match self.reader.current_body() {
                        Some(body) => body,
                        None => return Ok(None),
                    },
                };
                Event::decode(pending.type_code, body, fde)
                    .map_err(|e| corrupt(pending.offset, pending.type_code, e))?
            }
        };
        let table = match &event {
            Event::TableMap(map) => Some(Arc::clone(map)),
            Event::Rows(rows) => match self.tables.get(rows.table_id) {
                Some(map) => Some(Arc::clone(map)),
                None if is_dummy_table_id(rows.table_id) => None,
                None => {
                    return Err(DecodeError::UnknownTable {
                        offset: pending.offset,
                        table_id: rows.table_id,
                    })
                }
            },
            _ => None,
        };
        Ok(Some(EventRef {
            offset: pending.offset,
            header: pending.header,
            type_code: pending.type_code,
            event,
            in_payload: pending.in_payload,
            table,
        }))
    }

    /// Read the next event and do everything that changes the stream's
    /// state; leave the borrowing decode to `next_event`.
    fn advance(&mut self) -> Result<Option<Pending>, DecodeError> {
        if self.stopped {
            return Ok(None);
        }
        if let Some(payload) = self.payload.as_mut() {
            let offset = payload.offset;
            let inner = next_inner(payload, &mut self.scratch);
            // A broken payload cannot be resynchronised: drop the rest of it.
            if inner.is_err() {
                self.payload = None;
            }
            match inner? {
                Some(header) => {
                    let type_code = self.reader.fde().normalize_type(header.type_code);
                    let step = classify(
                        &header,
                        type_code,
                        offset,
                        &self.scratch,
                        self.reader.fde(),
                        &mut self.tables,
                        &mut self.ignored,
                    )?;
                    let prepared = match step {
                        Step::Decode => None,
                        Step::Prepared(event) => Some(event),
                        Step::Compressed | Step::Payload | Step::Encrypted => {
                            return Err(DecodeError::Corrupt {
                                offset,
                                event: et::name(type_code),
                                reason: "event type not allowed inside a transaction payload"
                                    .into(),
                            })
                        }
                    };
                    return Ok(Some(Pending {
                        offset,
                        header,
                        type_code,
                        in_payload: true,
                        source: Source::Scratch,
                        prepared,
                    }));
                }
                None => self.payload = None,
            }
        }

        let Some(raw) = self.reader.next_raw()? else {
            return Ok(None);
        };
        let (offset, header, type_code) = (raw.offset, raw.header, raw.type_code);
        // Re-borrow immutably so the FDE can be read alongside the body.
        let Some(body) = self.reader.current_body() else {
            return Ok(None);
        };
        let fde = self.reader.fde();
        let step = classify(
            &header,
            type_code,
            offset,
            body,
            fde,
            &mut self.tables,
            &mut self.ignored,
        )?;
        let mut pending = Pending {
            offset,
            header,
            type_code,
            in_payload: false,
            source: Source::Outer,
            prepared: None,
        };
        match step {
            Step::Decode => {}
            Step::Prepared(event) => pending.prepared = Some(event),
            Step::Compressed => {
                pending.type_code =
                    compressed::decompress_body(body, type_code, fde, &mut self.scratch).map_err(
                        |e| DecodeError::Decompress {
                            offset,
                            reason: format!("{}: {e}", et::name(type_code)),
                        },
                    )?;
                pending.source = Source::Scratch;
            }
            Step::Payload => {
                let event = TransactionPayloadEvent::parse(body)
                    .map_err(|e| corrupt(offset, type_code, e))?;
                self.payload = Some(start_payload(offset, &event)?);
            }
            Step::Encrypted => {
                self.stopped = true;
                return Err(DecodeError::Encrypted { offset });
            }
        }
        Ok(Some(pending))
    }
}

/// Decide how an event is handled; decode those that change the stream's
/// state (FDE, TABLE_MAP) and count ignorable ones.
fn classify(
    header: &EventHeader,
    type_code: u8,
    offset: u64,
    body: &[u8],
    fde: &FormatDescription,
    tables: &mut TableCache,
    ignored: &mut BTreeMap<u8, u64>,
) -> Result<Step, DecodeError> {
    if !is_known_type(type_code) || type_code == et::IGNORABLE || type_code == et::AURORA_PADDING {
        if header.is_ignorable() || type_code == et::IGNORABLE || type_code == et::AURORA_PADDING {
            *ignored.entry(type_code).or_insert(0) += 1;
            return Ok(Step::Prepared(Prepared::Ignored { type_code }));
        }
        return Err(DecodeError::UnknownEvent {
            offset,
            type_code: header.type_code,
        });
    }
    Ok(match type_code {
        et::FORMAT_DESCRIPTION => {
            // Table ids are only meaningful within one server's file.
            tables.clear();
            Step::Prepared(Prepared::FormatDescription)
        }
        et::TABLE_MAP => {
            let map = tables
                .bind(body, fde)
                .map_err(|e| corrupt(offset, type_code, e))?;
            Step::Prepared(Prepared::TableMap(map))
        }
        et::MARIA_QUERY_COMPRESSED..=et::MARIA_DELETE_ROWS_COMPRESSED => Step::Compressed,
        et::TRANSACTION_PAYLOAD => Step::Payload,
        et::MARIA_START_ENCRYPTION => Step::Encrypted,
        _ => Step::Decode,
    })
}

/// MySQL ends a statement whose rows were all filtered with an empty rows
/// event for table id ~0 (in 6 bytes, or 4 for the oldest builds).
fn is_dummy_table_id(table_id: u64) -> bool {
    table_id == 0x0000_ffff_ffff_ffff || table_id == 0xffff_ffff
}

fn start_payload(offset: u64, event: &TransactionPayloadEvent<'_>) -> Result<Payload, DecodeError> {
    let bytes = Cursor::new(event.payload.to_vec());
    let source = match event.compression {
        PayloadCompression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(bytes).map_err(|e| {
                DecodeError::Decompress {
                    offset,
                    reason: e.to_string(),
                }
            })?;
            PayloadSource::Zstd(Box::new(decoder))
        }
        PayloadCompression::None => PayloadSource::Plain(bytes),
        PayloadCompression::Unknown(kind) => {
            return Err(DecodeError::Decompress {
                offset,
                reason: format!("unknown payload compression type {kind}"),
            })
        }
    };
    Ok(Payload { offset, source })
}

/// Read the next inner event of a payload into `scratch` (its body; inner
/// events carry no checksum). `None` when the payload is used up.
fn next_inner(
    payload: &mut Payload,
    scratch: &mut Vec<u8>,
) -> Result<Option<EventHeader>, DecodeError> {
    let offset = payload.offset;
    let fail = |reason: String| DecodeError::Decompress { offset, reason };
    let mut head = [0u8; HEADER_LEN];
    let got = read_full(&mut payload.source, &mut head).map_err(|e| fail(e.to_string()))?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_LEN {
        return Err(fail(format!(
            "payload ends {got} bytes into an event header"
        )));
    }
    let header = EventHeader::parse(&head).map_err(|e| fail(e.to_string()))?;
    let size = header.event_size as usize;
    if size < HEADER_LEN || header.event_size > DEFAULT_MAX_EVENT_SIZE {
        return Err(fail(format!("inner event with implausible size {size}")));
    }
    let body_len = size - HEADER_LEN;
    scratch.clear();
    (&mut payload.source)
        .take(body_len as u64)
        .read_to_end(scratch)
        .map_err(|e| fail(e.to_string()))?;
    if scratch.len() < body_len {
        return Err(fail(format!(
            "payload ends inside a {} event ({} of {body_len} body bytes)",
            et::name(header.type_code),
            scratch.len()
        )));
    }
    Ok(Some(header))
}

/// Fill `buf` unless the input ends first; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn corrupt(offset: u64, type_code: u8, e: BodyError) -> DecodeError {
    DecodeError::Corrupt {
        offset,
        event: et::name(type_code),
        reason: e.to_string(),
    }
}
