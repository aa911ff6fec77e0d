//! MariaDB's own events: GTID (162), GTID_LIST (163), BINLOG_CHECKPOINT
//! (161) and START_ENCRYPTION (164). ANNOTATE_ROWS is in
//! [`super::rows_query`], the compressed events in [`super::compressed`].

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

use super::xid::{read_xid_data, XaXid};

/// MariaDB GTID `flags2` bits.
pub mod gtid_flags {
    /// Not a BEGIN…COMMIT group: a single self-contained statement (DDL).
    pub const STANDALONE: u8 = 0x01;
    /// A group commit id follows.
    pub const GROUP_COMMIT_ID: u8 = 0x02;
    pub const TRANSACTIONAL: u8 = 0x04;
    pub const ALLOW_PARALLEL: u8 = 0x08;
    /// The transaction waited for a row lock of another transaction.
    pub const WAITED: u8 = 0x10;
    pub const DDL: u8 = 0x20;
    /// `XA PREPARE` group; the XID follows.
    pub const PREPARED_XA: u8 = 0x40;
    /// `XA COMMIT`/`XA ROLLBACK` of a prepared XA; the XID follows.
    pub const COMPLETED_XA: u8 = 0x80;
}

/// MariaDB GTID `flags_extra` bits.
pub mod gtid_flags_extra {
    /// The transaction involved several engines; their count follows.
    pub const MULTI_ENGINE: u8 = 0x01;
    pub const START_ALTER: u8 = 0x02;
    /// COMMIT/ROLLBACK of a two-phase ALTER: the START ALTER's seq_no follows.
    pub const COMMIT_ALTER: u8 = 0x04;
    pub const ROLLBACK_ALTER: u8 = 0x08;
    /// The originating thread id follows (MariaDB 11.5+).
    pub const THREAD_ID: u8 = 0x10;
}

/// GTID_EVENT: `domain_id-server_id-seq_no` starts an event group. The
/// server id is the one in the event header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariaGtidEvent<'a> {
    pub seq_no: u64,
    pub domain_id: u32,
    pub flags2: u8,
    pub commit_id: Option<u64>,
    /// For PREPARED_XA / COMPLETED_XA groups.
    pub xid: Option<XaXid<'a>>,
    pub flags_extra: u8,
    pub extra_engines: Option<u8>,
    /// The START ALTER sequence number a COMMIT/ROLLBACK ALTER refers to.
    pub start_alter_seq_no: Option<u64>,
    pub thread_id: Option<u32>,
}

impl<'a> MariaGtidEvent<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, BodyError> {
        use gtid_flags::*;
        let mut r = ByteReader::new(body);
        let seq_no = r.u64()?;
        let domain_id = r.u32()?;
        let flags2 = r.u8()?;
        let commit_id = if flags2 & GROUP_COMMIT_ID != 0 {
            Some(r.u64()?)
        } else {
            None
        };
        let xid = if flags2 & (PREPARED_XA | COMPLETED_XA) != 0 {
            let format_id = r.i32()?;
            let gtrid_len = r.u8()? as usize;
            let bqual_len = r.u8()? as usize;
            Some(read_xid_data(&mut r, format_id, gtrid_len, bqual_len)?)
        } else {
            None
        };
        // What follows is either flags_extra or the zero padding up to the
        // 19-byte post-header; a zero byte means "no extra flags" either way.
        let mut e = MariaGtidEvent {
            seq_no,
            domain_id,
            flags2,
            commit_id,
            xid,
            flags_extra: 0,
            extra_engines: None,
            start_alter_seq_no: None,
            thread_id: None,
        };
        if r.is_empty() {
            return Ok(e);
        }
        e.flags_extra = r.u8()?;
        use gtid_flags_extra::*;
        if e.flags_extra & MULTI_ENGINE != 0 {
            e.extra_engines = Some(r.u8()?);
        }
        if e.flags_extra & (COMMIT_ALTER | ROLLBACK_ALTER) != 0 {
            e.start_alter_seq_no = Some(r.u64()?);
        }
        if e.flags_extra & THREAD_ID != 0 && r.remaining() >= 4 {
            e.thread_id = Some(r.u32()?);
        }
        Ok(e)
    }

    pub fn is_standalone(&self) -> bool {
        self.flags2 & gtid_flags::STANDALONE != 0
    }
    pub fn is_transactional(&self) -> bool {
        self.flags2 & gtid_flags::TRANSACTIONAL != 0
    }
    pub fn allows_parallel(&self) -> bool {
        self.flags2 & gtid_flags::ALLOW_PARALLEL != 0
    }
    pub fn waited(&self) -> bool {
        self.flags2 & gtid_flags::WAITED != 0
    }
    pub fn is_ddl(&self) -> bool {
        self.flags2 & gtid_flags::DDL != 0
    }
    pub fn is_prepared_xa(&self) -> bool {
        self.flags2 & gtid_flags::PREPARED_XA != 0
    }
    pub fn is_completed_xa(&self) -> bool {
        self.flags2 & gtid_flags::COMPLETED_XA != 0
    }

    /// `domain-server-seq`, given the server id from the event header.
    pub fn gtid_string(&self, server_id: u32) -> String {
        format!("{}-{}-{}", self.domain_id, server_id, self.seq_no)
    }
}

/// One `domain-server-seq` of a GTID_LIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariaGtid {
    pub domain_id: u32,
    pub server_id: u32,
    pub seq_no: u64,
}

impl std::fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain_id, self.server_id, self.seq_no)
    }
}

/// GTID_LIST: the binlog state at the start of the file (last GTID per
/// domain and server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidListEvent {
    /// The top 4 bits of the count word (FLAG_UNTIL_REACHED, FLAG_IGN_GTIDS).
    pub flags: u8,
    pub gtids: Vec<MariaGtid>,
}

impl GtidListEvent {
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let word = r.u32()?;
        let count = (word & ((1 << 28) - 1)) as usize;
        if count > r.remaining() / 16 {
            return Err(BodyError::Invalid(format!(
                "GTID_LIST of {count} entries cannot fit in {} bytes",
                r.remaining()
            )));
        }
        let mut gtids = Vec::with_capacity(count);
        for _ in 0..count {
            gtids.push(MariaGtid {
                domain_id: r.u32()?,
                server_id: r.u32()?,
                seq_no: r.u64()?,
            });
        }
        Ok(GtidListEvent {
            flags: (word >> 28) as u8,
            gtids,
        })
    }
}

/// BINLOG_CHECKPOINT: the oldest binlog file still needed for crash recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinlogCheckpointEvent<'a> {
    pub file: &'a [u8],
}

impl<'a> BinlogCheckpointEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let post_header_len = fde
            .post_header_len(et::MARIA_BINLOG_CHECKPOINT)
            .unwrap_or(4) as usize;
        let mut ph = ByteReader::new(r.take(post_header_len.max(4))?);
        let len = ph.u32()? as usize;
        Ok(BinlogCheckpointEvent { file: r.take(len)? })
    }

    pub fn file_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.file)
    }
}

/// START_ENCRYPTION: every later event of the file is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartEncryptionEvent {
    pub scheme: u8,
    pub key_version: u32,
    pub nonce: [u8; 12],
}

impl StartEncryptionEvent {
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let scheme = r.u8()?;
        let key_version = r.u32()?;
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(r.take(12)?);
        Ok(StartEncryptionEvent {
            scheme,
            key_version,
            nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    fn gtid_body(seq: u64, domain: u32, flags2: u8, tail: &[u8]) -> Vec<u8> {
        let mut b = seq.to_le_bytes().to_vec();
        b.extend_from_slice(&domain.to_le_bytes());
        b.push(flags2);
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn gtid_with_padding_and_commit_id() {
        let b = gtid_body(5, 1, 0x0c, &[0; 6]);
        let e = MariaGtidEvent::parse(&b).unwrap();
        assert_eq!(e.gtid_string(10), "1-10-5");
        assert!(e.is_transactional() && e.allows_parallel() && !e.is_standalone());
        assert_eq!(e.flags_extra, 0);
        let b = gtid_body(6, 0, 0x03, &77u64.to_le_bytes());
        let e = MariaGtidEvent::parse(&b).unwrap();
        assert_eq!(e.commit_id, Some(77));
        assert!(e.is_standalone());
        assert!(MariaGtidEvent::parse(&gtid_body(6, 0, 0x02, &[1, 2])).is_err());
    }

    #[test]
    fn gtid_with_xa_xid_and_extra_flags() {
        let mut tail = 1i32.to_le_bytes().to_vec();
        tail.extend_from_slice(&[3, 1]);
        tail.extend_from_slice(b"trxb");
        tail.push(gtid_flags_extra::MULTI_ENGINE | gtid_flags_extra::COMMIT_ALTER);
        tail.push(2);
        tail.extend_from_slice(&99u64.to_le_bytes());
        let b = gtid_body(9, 2, gtid_flags::PREPARED_XA, &tail);
        let e = MariaGtidEvent::parse(&b).unwrap();
        assert!(e.is_prepared_xa());
        let xid = e.xid.unwrap();
        assert_eq!(
            (xid.format_id, xid.gtrid, xid.bqual),
            (1, &b"trx"[..], &b"b"[..])
        );
        assert_eq!(e.extra_engines, Some(2));
        assert_eq!(e.start_alter_seq_no, Some(99));
        let mut bad = tail.clone();
        bad[4] = 200;
        assert!(MariaGtidEvent::parse(&gtid_body(9, 2, gtid_flags::COMPLETED_XA, &bad)).is_err());
    }

    #[test]
    fn gtid_list_checkpoint_and_encryption() {
        let mut b = (2u32 | 1 << 29).to_le_bytes().to_vec();
        for (d, s, q) in [(0u32, 1u32, 2u64), (1, 10, 12)] {
            b.extend_from_slice(&d.to_le_bytes());
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(&q.to_le_bytes());
        }
        let l = GtidListEvent::parse(&b).unwrap();
        assert_eq!(l.flags, 2);
        assert_eq!(
            l.gtids.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
            ["0-1-2", "1-10-12"]
        );
        assert!(GtidListEvent::parse(&b[..20]).is_err());
        assert!(GtidListEvent::parse(&0x0fff_ffffu32.to_le_bytes()).is_err());

        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let mut c = 16u32.to_le_bytes().to_vec();
        c.extend_from_slice(b"mariadb-bin.0001");
        assert_eq!(
            BinlogCheckpointEvent::parse(&c, &fde).unwrap().file_str(),
            "mariadb-bin.0001"
        );
        assert!(BinlogCheckpointEvent::parse(&c[..10], &fde).is_err());

        let mut s = vec![1];
        s.extend_from_slice(&3u32.to_le_bytes());
        s.extend_from_slice(&[7; 12]);
        let e = StartEncryptionEvent::parse(&s).unwrap();
        assert_eq!((e.scheme, e.key_version, e.nonce), (1, 3, [7; 12]));
    }
}
