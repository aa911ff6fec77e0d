//! Group Replication events: TRANSACTION_CONTEXT (write set of a
//! transaction being certified) and VIEW_CHANGE (membership change).

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// Post-header: uuid length u8, thread id u32, gtid specified u8,
/// snapshot version length u32, write set count u32, read set count u32.
pub const TRANSACTION_CONTEXT_HEADER_LEN: usize = 18;
/// Post-header: view id [40], sequence number u64, certification count u32.
pub const VIEW_CHANGE_HEADER_LEN: usize = 52;
const VIEW_ID_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionContextEvent<'a> {
    pub server_uuid: &'a [u8],
    pub thread_id: u32,
    pub gtid_specified: bool,
    /// A binary GTID set (see [`super::gtid::parse_gtid_set`]).
    pub snapshot_version: &'a [u8],
    pub write_set: Vec<&'a [u8]>,
    pub read_set: Vec<&'a [u8]>,
}

impl<'a> TransactionContextEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let post_header_len = fde
            .post_header_len(et::TRANSACTION_CONTEXT)
            .map_or(TRANSACTION_CONTEXT_HEADER_LEN, |l| l as usize)
            .max(TRANSACTION_CONTEXT_HEADER_LEN);
        let mut r = ByteReader::new(body);
        let mut ph = ByteReader::new(r.take(post_header_len)?);
        let uuid_len = ph.u8()? as usize;
        let thread_id = ph.u32()?;
        let gtid_specified = ph.u8()? != 0;
        let snapshot_len = ph.u32()? as usize;
        let write_count = ph.u32()?;
        let read_count = ph.u32()?;
        let server_uuid = r.take(uuid_len)?;
        let snapshot_version = r.take(snapshot_len)?;
        let write_set = read_set(&mut r, write_count)?;
        let read_set = read_set(&mut r, read_count)?;
        Ok(TransactionContextEvent {
            server_uuid,
            thread_id,
            gtid_specified,
            snapshot_version,
            write_set,
            read_set,
        })
    }
}

/// `count` items of `len u16 | bytes`.
fn read_set<'a>(r: &mut ByteReader<'a>, count: u32) -> Result<Vec<&'a [u8]>, BodyError> {
    let mut items = Vec::new();
    for _ in 0..count {
        let len = r.u16()? as usize;
        items.push(r.take(len)?);
    }
    Ok(items)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewChangeEvent<'a> {
    /// NUL-padded view id, padding removed.
    pub view_id: &'a [u8],
    pub seq_number: u64,
    /// Certification info: (key, value) pairs.
    pub certification_info: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> ViewChangeEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let post_header_len = fde
            .post_header_len(et::VIEW_CHANGE)
            .map_or(VIEW_CHANGE_HEADER_LEN, |l| l as usize)
            .max(VIEW_CHANGE_HEADER_LEN);
        let mut r = ByteReader::new(body);
        let mut ph = ByteReader::new(r.take(post_header_len)?);
        let raw_id = ph.take(VIEW_ID_LEN)?;
        let id_end = raw_id.iter().position(|&b| b == 0).unwrap_or(VIEW_ID_LEN);
        let seq_number = ph.u64()?;
        let count = ph.u32()?;
        let mut certification_info = Vec::new();
        for _ in 0..count {
            let key_len = r.u16()? as usize;
            let key = r.take(key_len)?;
            let value_len = r.u32()? as usize;
            let value = r.take(value_len)?;
            certification_info.push((key, value));
        }
        Ok(ViewChangeEvent {
            view_id: &raw_id[..id_end],
            seq_number,
            certification_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    #[test]
    fn transaction_context_and_view_change() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let mut b = vec![3];
        b.extend_from_slice(&9u32.to_le_bytes());
        b.push(1);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(b"abcSV");
        b.extend_from_slice(&[2, 0, b'h', b'1']);
        let e = TransactionContextEvent::parse(&b, &fde).unwrap();
        assert_eq!(e.server_uuid, b"abc");
        assert_eq!((e.thread_id, e.gtid_specified), (9, true));
        assert_eq!(e.snapshot_version, b"SV");
        assert_eq!(e.write_set, vec![&b"h1"[..]]);
        assert!(e.read_set.is_empty());
        assert!(TransactionContextEvent::parse(&b[..b.len() - 1], &fde).is_err());

        let mut v = vec![0u8; 40];
        v[..5].copy_from_slice(b"view1");
        v.extend_from_slice(&11u64.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&[1, 0, b'k', 2, 0, 0, 0, b'v', b'w']);
        let e = ViewChangeEvent::parse(&v, &fde).unwrap();
        assert_eq!((e.view_id, e.seq_number), (&b"view1"[..], 11));
        assert_eq!(e.certification_info, vec![(&b"k"[..], &b"vw"[..])]);
    }
}
