//! MySQL GTIDs: GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34),
//! GTID_TAGGED_LOG_EVENT (42, MySQL 8.4+) and PREVIOUS_GTIDS_LOG_EVENT (35).
//!
//! Untagged GTID body: `flags u8 | uuid [16] | gno i64`, then (5.7+)
//! `typecode=2 | last_committed i64 | sequence_number i64`, then (8.0+)
//! optional fields detected by what remains: commit timestamps (7 bytes,
//! the top bit announcing a second "original" timestamp), the transaction
//! length (lenenc), server versions (4 bytes, top bit likewise) and the
//! commit group ticket.
//!
//! Tagged GTID body: MySQL's serialization library: a format version, the
//! message size and the last non-ignorable field id, then `field id | value`
//! pairs, all as variable-length integers (see [`read_varlen_u64`]).

use std::fmt::Write as _;

use crate::bytes::ByteReader;
use crate::error::BodyError;

/// GTID flag: the transaction may contain statement-based events.
pub const FLAG_MAY_HAVE_SBR: u8 = 1;
/// Type code of the logical timestamps block.
const LOGICAL_TIMESTAMP_TYPECODE: u8 = 2;
/// Value of a server version the event does not carry.
pub const UNDEFINED_SERVER_VERSION: u32 = 999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtidKind {
    /// GTID_LOG_EVENT: `uuid:gno`.
    Gtid,
    /// ANONYMOUS_GTID_LOG_EVENT: gtid_mode=OFF, carries only the
    /// logical clock and timestamps.
    Anonymous,
    /// GTID_TAGGED_LOG_EVENT: `uuid:tag:gno`.
    Tagged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtidEvent<'a> {
    pub kind: GtidKind,
    pub flags: u8,
    pub uuid: [u8; 16],
    pub gno: u64,
    pub tag: Option<&'a str>,
    /// Logical clock for parallel replication (5.7+).
    pub last_committed: Option<u64>,
    pub sequence_number: Option<u64>,
    /// Microseconds since the epoch, on the immediate source (8.0+).
    pub immediate_commit_timestamp: Option<u64>,
    /// Microseconds since the epoch, on the originating source.
    pub original_commit_timestamp: Option<u64>,
    /// Bytes of the whole transaction including this event (8.0.2+).
    pub transaction_length: Option<u64>,
    /// e.g. 80032 for 8.0.32.
    pub immediate_server_version: Option<u32>,
    pub original_server_version: Option<u32>,
    pub commit_group_ticket: Option<u64>,
}

impl<'a> GtidEvent<'a> {
    fn empty(kind: GtidKind) -> Self {
        GtidEvent {
            kind,
            flags: 0,
            uuid: [0; 16],
            gno: 0,
            tag: None,
            last_committed: None,
            sequence_number: None,
            immediate_commit_timestamp: None,
            original_commit_timestamp: None,
            transaction_length: None,
            immediate_server_version: None,
            original_server_version: None,
            commit_group_ticket: None,
        }
    }

    /// GTID_LOG_EVENT or ANONYMOUS_GTID_LOG_EVENT (`anonymous`).
    pub fn parse(body: &'a [u8], anonymous: bool) -> Result<Self, BodyError> {
        let kind = if anonymous {
            GtidKind::Anonymous
        } else {
            GtidKind::Gtid
        };
        let mut e = GtidEvent::empty(kind);
        let mut r = ByteReader::new(body);
        e.flags = r.u8()?;
        e.uuid = uuid(r.take(16)?);
        e.gno = r.u64()?;
        // 5.6 stops here; 5.7.4 and earlier wrote another typecode.
        if r.rest().first() != Some(&LOGICAL_TIMESTAMP_TYPECODE) {
            return Ok(e);
        }
        r.skip(1)?;
        e.last_committed = Some(r.u64()?);
        e.sequence_number = Some(r.u64()?);
        if r.remaining() < 7 {
            return Ok(e);
        }
        let immediate = r.uint_n(7)?;
        const ORIGINAL_FOLLOWS: u64 = 1 << 55;
        if immediate & ORIGINAL_FOLLOWS != 0 {
            e.immediate_commit_timestamp = Some(immediate & !ORIGINAL_FOLLOWS);
            e.original_commit_timestamp = Some(r.uint_n(7)?);
        } else {
            e.immediate_commit_timestamp = Some(immediate);
            e.original_commit_timestamp = Some(immediate);
        }
        if !r.is_empty() {
            e.transaction_length = Some(r.lenenc()?);
        }
        if r.remaining() >= 4 {
            let immediate = r.u32()?;
            const ORIGINAL_VERSION_FOLLOWS: u32 = 1 << 31;
            if immediate & ORIGINAL_VERSION_FOLLOWS != 0 {
                e.immediate_server_version = Some(immediate & !ORIGINAL_VERSION_FOLLOWS);
                e.original_server_version = Some(r.u32()?);
            } else {
                e.immediate_server_version = Some(immediate);
                e.original_server_version = Some(immediate);
            }
            if r.remaining() >= 8 {
                e.commit_group_ticket = Some(r.u64()?);
            }
        }
        Ok(e)
    }

    /// GTID_TAGGED_LOG_EVENT (serialization-library format).
    pub fn parse_tagged(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut e = GtidEvent::empty(GtidKind::Tagged);
        let mut r = ByteReader::new(body);
        let _format_version = read_varlen_u64(&mut r)?;
        let message_size = read_varlen_u64(&mut r)?;
        let last_non_ignorable = read_varlen_u64(&mut r)?;
        // The size counts the whole message, envelope included.
        let fields_len = usize::try_from(message_size)
            .ok()
            .and_then(|size| size.checked_sub(r.position()))
            .filter(|&n| n <= r.remaining())
            .ok_or_else(|| {
                BodyError::Invalid(format!(
                    "tagged GTID message size {message_size} does not fit the {}-byte event",
                    body.len()
                ))
            })?;
        let mut f = ByteReader::new(r.take(fields_len)?);
        let mut original_ts = None;
        let mut original_version = None;
        while !f.is_empty() {
            let id = read_varlen_u64(&mut f)?;
            match id {
                0 => {
                    e.flags = u8::try_from(read_varlen_u64(&mut f)?)
                        .map_err(|_| BodyError::Invalid("GTID flags out of range".into()))?
                }
                1 => {
                    for byte in e.uuid.iter_mut() {
                        *byte = u8::try_from(read_varlen_u64(&mut f)?)
                            .map_err(|_| BodyError::Invalid("UUID byte out of range".into()))?;
                    }
                }
                2 => e.gno = non_negative(read_varlen_i64(&mut f)?, "gno")?,
                3 => {
                    let len = usize::try_from(read_varlen_u64(&mut f)?)
                        .map_err(|_| BodyError::Invalid("tag length overflow".into()))?;
                    let tag = std::str::from_utf8(f.take(len)?)
                        .map_err(|_| BodyError::Invalid("GTID tag is not UTF-8".into()))?;
                    e.tag = Some(tag);
                }
                4 => {
                    e.last_committed =
                        Some(non_negative(read_varlen_i64(&mut f)?, "last_committed")?)
                }
                5 => {
                    e.sequence_number =
                        Some(non_negative(read_varlen_i64(&mut f)?, "sequence_number")?)
                }
                6 => e.immediate_commit_timestamp = Some(read_varlen_u64(&mut f)?),
                7 => original_ts = Some(read_varlen_u64(&mut f)?),
                8 => e.transaction_length = Some(read_varlen_u64(&mut f)?),
                9 => e.immediate_server_version = Some(read_varlen_u32(&mut f)?),
                10 => original_version = Some(read_varlen_u32(&mut f)?),
                11 => e.commit_group_ticket = Some(read_varlen_u64(&mut f)?),
                unknown if unknown <= last_non_ignorable => {
                    return Err(BodyError::Invalid(format!(
                        "unknown non-ignorable field {unknown} in tagged GTID event"
                    )))
                }
                // A newer server's optional field: its size is unknown, and
                // every later field is newer still, so stop here.
                _ => break,
            }
        }
        e.original_commit_timestamp = original_ts.or(e.immediate_commit_timestamp);
        e.original_server_version = original_version.or(e.immediate_server_version);
        if e.tag.is_none() {
            return Err(BodyError::Invalid("tagged GTID event without a tag".into()));
        }
        Ok(e)
    }

    /// `uuid:gno`, `uuid:tag:gno`, or `ANONYMOUS`.
    pub fn gtid_string(&self) -> String {
        match (self.kind, self.tag) {
            (GtidKind::Anonymous, _) => "ANONYMOUS".to_string(),
            (_, Some(tag)) => format!("{}:{}:{}", format_uuid(&self.uuid), tag, self.gno),
            (_, None) => format!("{}:{}", format_uuid(&self.uuid), self.gno),
        }
    }
}

fn non_negative(v: i64, what: &str) -> Result<u64, BodyError> {
    u64::try_from(v).map_err(|_| BodyError::Invalid(format!("negative {what} {v}")))
}

fn uuid(b: &[u8]) -> [u8; 16] {
    let mut u = [0u8; 16];
    u.copy_from_slice(&b[..16]);
    u
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A variable-length unsigned integer of MySQL's serialization library:
/// the number of trailing one bits of the first byte, plus one, is the
/// byte count; the value is the little-endian integer shifted right by
/// that count. A first byte of 0xff means eight raw bytes follow.
pub fn read_varlen_u64(r: &mut ByteReader<'_>) -> Result<u64, BodyError> {
    let first = *r.rest().first().ok_or(BodyError::Short {
        at: r.position(),
        needed: 1,
        available: 0,
    })?;
    let len = first.trailing_ones() as usize + 1;
    if len == 9 {
        r.skip(1)?;
        return r.u64();
    }
    let raw = r.uint_n(len)?;
    Ok(raw >> len)
}

/// Signed form: zig-zag over [`read_varlen_u64`] (sign in the low bit).
pub fn read_varlen_i64(r: &mut ByteReader<'_>) -> Result<i64, BodyError> {
    let u = read_varlen_u64(r)?;
    let magnitude = (u >> 1) as i64;
    Ok(if u & 1 != 0 {
        -magnitude - 1
    } else {
        magnitude
    })
}

fn read_varlen_u32(r: &mut ByteReader<'_>) -> Result<u32, BodyError> {
    u32::try_from(read_varlen_u64(r)?)
        .map_err(|_| BodyError::Invalid("value exceeds 32 bits".into()))
}

/// One UUID (and, in the tagged format, tag) of a GTID set, with its
/// intervals `[start, end)` of transaction numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidSetEntry<'a> {
    pub uuid: [u8; 16],
    pub tag: Option<&'a str>,
    pub intervals: Vec<(u64, u64)>,
}

/// PREVIOUS_GTIDS: the GTIDs of all earlier binlog files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousGtidsEvent<'a> {
    pub entries: Vec<GtidSetEntry<'a>>,
}

impl<'a> PreviousGtidsEvent<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, BodyError> {
        Ok(PreviousGtidsEvent {
            entries: parse_gtid_set(body)?,
        })
    }

    /// The set as MySQL prints it: `uuid:1-13,\nuuid:tag:1-2`.
    pub fn to_gtid_set_string(&self) -> String {
        gtid_set_string(&self.entries)
    }
}

/// MySQL's binary GTID set encoding (PREVIOUS_GTIDS, snapshot versions).
/// Untagged: `n_sids u64`, then per sid `uuid [16] | n_intervals u64 |
/// (start i64, end i64)*`. Tagged (8.4+): the top byte of the first word
/// is the format, `n_sids` is in bits 8–55, and each uuid is followed by a
/// varlen-length-prefixed tag.
pub fn parse_gtid_set(body: &[u8]) -> Result<Vec<GtidSetEntry<'_>>, BodyError> {
    let mut r = ByteReader::new(body);
    let head = r.u64()?;
    let tagged = head >> 56 != 0;
    let n_sids = if tagged {
        (head >> 8) & ((1 << 48) - 1)
    } else {
        head
    };
    let mut entries = Vec::new();
    // Each iteration consumes input, so a corrupt count fails fast
    // instead of allocating.
    for _ in 0..n_sids {
        let uuid = uuid(r.take(16)?);
        let tag = if tagged {
            let len = usize::try_from(read_varlen_u64(&mut r)?)
                .map_err(|_| BodyError::Invalid("tag length overflow".into()))?;
            let t = std::str::from_utf8(r.take(len)?)
                .map_err(|_| BodyError::Invalid("GTID tag is not UTF-8".into()))?;
            (!t.is_empty()).then_some(t)
        } else {
            None
        };
        let n_intervals = r.u64()?;
        let mut intervals = Vec::new();
        for _ in 0..n_intervals {
            let start = non_negative(r.i64()?, "interval start")?;
            let end = non_negative(r.i64()?, "interval end")?;
            intervals.push((start, end));
        }
        entries.push(GtidSetEntry {
            uuid,
            tag,
            intervals,
        });
    }
    Ok(entries)
}

fn gtid_set_string(entries: &[GtidSetEntry<'_>]) -> String {
    let mut s = String::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        s.push_str(&format_uuid(&e.uuid));
        if let Some(tag) = e.tag {
            s.push(':');
            s.push_str(tag);
        }
        for &(start, end) in &e.intervals {
            if end == start + 1 {
                let _ = write!(s, ":{start}");
            } else {
                let _ = write!(s, ":{start}-{}", end.saturating_sub(1));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varlen(v: u64) -> Vec<u8> {
        let bits = 64 - v.leading_zeros() as usize;
        let n = (1..=8).find(|n| bits <= 7 * n).unwrap_or(9);
        if n == 9 {
            let mut b = vec![0xff];
            b.extend_from_slice(&v.to_le_bytes());
            return b;
        }
        let enc = (v << n) | ((1u64 << (n - 1)) - 1);
        enc.to_le_bytes()[..n].to_vec()
    }

    #[test]
    fn varlen_roundtrip() {
        for v in [
            0u64,
            1,
            5,
            127,
            128,
            16383,
            16384,
            1 << 40,
            u64::MAX >> 8,
            u64::MAX,
        ] {
            let b = varlen(v);
            let mut r = ByteReader::new(&b);
            assert_eq!(read_varlen_u64(&mut r).unwrap(), v, "{v}");
            assert!(r.is_empty());
        }
        let mut r = ByteReader::new(&[0x03]);
        assert!(read_varlen_u64(&mut r).is_err());
        let mut r = ByteReader::new(&[0x06, 0x08]);
        assert_eq!(read_varlen_i64(&mut r).unwrap(), -2);
        assert_eq!(read_varlen_i64(&mut r).unwrap(), 2);
    }

    #[test]
    fn gtid_56_short_form() {
        let mut b = vec![1];
        b.extend_from_slice(&[0x11; 16]);
        b.extend_from_slice(&6u64.to_le_bytes());
        let e = GtidEvent::parse(&b, false).unwrap();
        assert_eq!(e.gtid_string(), "11111111-1111-1111-1111-111111111111:6");
        assert_eq!(e.flags, FLAG_MAY_HAVE_SBR);
        assert_eq!(e.last_committed, None);
    }

    #[test]
    fn gtid_80_with_original_timestamp_and_versions() {
        let mut b = vec![0];
        b.extend_from_slice(&[0xab; 16]);
        b.extend_from_slice(&7u64.to_le_bytes());
        b.push(2);
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(&4u64.to_le_bytes());
        let imm: u64 = 1_600_000_000_000_000 | (1 << 55);
        b.extend_from_slice(&imm.to_le_bytes()[..7]);
        b.extend_from_slice(&1_500_000_000_000_000u64.to_le_bytes()[..7]);
        b.extend_from_slice(&[0xfc, 0x10, 0x01]);
        b.extend_from_slice(&(80032u32 | 1 << 31).to_le_bytes());
        b.extend_from_slice(&80028u32.to_le_bytes());
        let e = GtidEvent::parse(&b, false).unwrap();
        assert_eq!((e.last_committed, e.sequence_number), (Some(3), Some(4)));
        assert_eq!(e.immediate_commit_timestamp, Some(1_600_000_000_000_000));
        assert_eq!(e.original_commit_timestamp, Some(1_500_000_000_000_000));
        assert_eq!(e.transaction_length, Some(0x110));
        assert_eq!(e.immediate_server_version, Some(80032));
        assert_eq!(e.original_server_version, Some(80028));
        assert_eq!(e.commit_group_ticket, None);
        // Missing original timestamp after the flag bit: corruption.
        assert!(GtidEvent::parse(&b[..42 + 7 + 3], false).is_err());
    }

    #[test]
    fn tagged_gtid_rejects_bad_envelopes() {
        // Message size larger than the event.
        assert!(GtidEvent::parse_tagged(&[0x02, 0x78, 0x00]).is_err());
        // Unknown non-ignorable field.
        let body = [0x02, 0x0a, 0x1c, 0x1c, 0x00];
        assert!(GtidEvent::parse_tagged(&body).is_err());
    }

    #[test]
    fn untagged_previous_gtids() {
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(&[0x11; 16]);
        b.extend_from_slice(&2u64.to_le_bytes());
        for (s, e) in [(1i64, 5i64), (7, 8)] {
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(&e.to_le_bytes());
        }
        let p = PreviousGtidsEvent::parse(&b).unwrap();
        assert_eq!(p.entries[0].intervals, vec![(1, 5), (7, 8)]);
        assert_eq!(
            p.to_gtid_set_string(),
            "11111111-1111-1111-1111-111111111111:1-4:7"
        );
        // A huge count backed by no data fails without allocating.
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge[7] = 0;
        assert!(PreviousGtidsEvent::parse(&huge).is_err());
    }
}
