//! XID_EVENT (commit of an XA-capable transaction) and XA_PREPARE_LOG_EVENT
//! (end of an `XA PREPARE`d or `XA COMMIT ... ONE PHASE` group).

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// Largest gtrid and bqual of an XA transaction id (XIDDATASIZE is 128).
pub const MAX_GTRID_LEN: usize = 64;
pub const MAX_BQUAL_LEN: usize = 64;

/// XID: the storage engine's transaction id of the committed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XidEvent {
    pub xid: u64,
}

impl XidEvent {
    pub fn parse(body: &[u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(fde.post_header_len(et::XID).unwrap_or(0) as usize)?;
        Ok(XidEvent { xid: r.u64()? })
    }
}

/// An XA transaction identifier: `X'gtrid',X'bqual',format_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XaXid<'a> {
    /// -1 marks a null XID.
    pub format_id: i32,
    pub gtrid: &'a [u8],
    pub bqual: &'a [u8],
}

impl XaXid<'_> {
    /// The XID as `XA COMMIT` would take it: `X'…',X'…',format_id`.
    pub fn to_sql(&self) -> String {
        fn hex(b: &[u8]) -> String {
            b.iter().map(|x| format!("{x:02x}")).collect()
        }
        format!(
            "X'{}',X'{}',{}",
            hex(self.gtrid),
            hex(self.bqual),
            self.format_id
        )
    }
}

/// Read `gtrid_len + bqual_len` bytes of XID data after checking the lengths.
pub(crate) fn read_xid_data<'a>(
    r: &mut ByteReader<'a>,
    format_id: i32,
    gtrid_len: usize,
    bqual_len: usize,
) -> Result<XaXid<'a>, BodyError> {
    if gtrid_len > MAX_GTRID_LEN || bqual_len > MAX_BQUAL_LEN {
        return Err(BodyError::Invalid(format!(
            "XID lengths gtrid {gtrid_len} / bqual {bqual_len} exceed 64 bytes"
        )));
    }
    Ok(XaXid {
        format_id,
        gtrid: r.take(gtrid_len)?,
        bqual: r.take(bqual_len)?,
    })
}

/// XA_PREPARE: `XA PREPARE` (or `XA COMMIT ... ONE PHASE` when `one_phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XaPrepareEvent<'a> {
    pub one_phase: bool,
    pub xid: XaXid<'a>,
}

impl<'a> XaPrepareEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(fde.post_header_len(et::XA_PREPARE).unwrap_or(0) as usize)?;
        let one_phase = r.u8()? != 0;
        let format_id = r.i32()?;
        let gtrid_len = r.u32()? as usize;
        let bqual_len = r.u32()? as usize;
        let xid = read_xid_data(&mut r, format_id, gtrid_len, bqual_len)?;
        Ok(XaPrepareEvent { one_phase, xid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    #[test]
    fn xa_prepare_fields() {
        let mut b = vec![0u8];
        b.extend_from_slice(&1i32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(b"abcxy");
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let e = XaPrepareEvent::parse(&b, &fde).unwrap();
        assert!(!e.one_phase);
        assert_eq!(
            e.xid,
            XaXid {
                format_id: 1,
                gtrid: b"abc",
                bqual: b"xy"
            }
        );
        assert_eq!(e.xid.to_sql(), "X'616263',X'7879',1");
        b[0] = 1;
        assert!(XaPrepareEvent::parse(&b, &fde).unwrap().one_phase);
        // Lengths beyond the XID limits or the event are corruption.
        let mut bad = b.clone();
        bad[5..9].copy_from_slice(&1000u32.to_le_bytes());
        assert!(XaPrepareEvent::parse(&bad, &fde).is_err());
        assert!(XaPrepareEvent::parse(&b[..15], &fde).is_err());
    }

    #[test]
    fn xid_value() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        assert_eq!(XidEvent::parse(&9u64.to_le_bytes(), &fde).unwrap().xid, 9);
        assert!(XidEvent::parse(&[1, 2], &fde).is_err());
    }
}
