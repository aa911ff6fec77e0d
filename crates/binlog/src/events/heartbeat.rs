//! HEARTBEAT_LOG_EVENT (v1) and HEARTBEAT_LOG_EVENT_V2: sent by a source to
//! an idle replica; never in files, but decoded for replication streams.
//!
//! v1 body: the current binlog file name (the position is the header's
//! log_pos). v2 body: TLV fields, each `type lenenc | length lenenc |
//! value`, ended by type 0; the position is a lenenc integer.

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;

const OTW_HB_HEADER_END_MARK: u64 = 0;
const OTW_HB_LOG_FILENAME_FIELD: u64 = 1;
const OTW_HB_LOG_POSITION_FIELD: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatEvent<'a> {
    /// 1 or 2.
    pub version: u8,
    pub log_file: &'a [u8],
    /// v2 only; for v1 the header's `log_pos` is the position.
    pub log_position: Option<u64>,
}

impl<'a> HeartbeatEvent<'a> {
    pub fn parse_v1(body: &'a [u8]) -> Result<Self, BodyError> {
        Ok(HeartbeatEvent {
            version: 1,
            log_file: body,
            log_position: None,
        })
    }

    pub fn parse_v2(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let mut event = HeartbeatEvent {
            version: 2,
            log_file: &[],
            log_position: None,
        };
        while !r.is_empty() {
            let field = r.lenenc()?;
            if field == OTW_HB_HEADER_END_MARK {
                break;
            }
            let len = usize::try_from(r.lenenc()?)
                .map_err(|_| BodyError::Invalid("heartbeat field length overflow".into()))?;
            let value = r.take(len)?;
            match field {
                OTW_HB_LOG_FILENAME_FIELD => event.log_file = value,
                OTW_HB_LOG_POSITION_FIELD => {
                    event.log_position = Some(ByteReader::new(value).lenenc()?)
                }
                _ => {} // unknown fields are skipped by their length
            }
        }
        Ok(event)
    }

    pub fn log_file_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.log_file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_v2_tlv() {
        let mut b = vec![1, 13];
        b.extend_from_slice(b"binlog.000041");
        b.extend_from_slice(&[2, 4, 0xfd, 0x15, 0xcd, 0x5b]);
        b.extend_from_slice(&[99, 2, b'x', b'y']);
        b.push(0);
        let e = HeartbeatEvent::parse_v2(&b).unwrap();
        assert_eq!(e.log_file_str(), "binlog.000041");
        assert_eq!(e.log_position, Some(0x5bcd15));
        assert!(HeartbeatEvent::parse_v2(&b[..6]).is_err());
        let e = HeartbeatEvent::parse_v2(&[0]).unwrap();
        assert_eq!((e.log_file, e.log_position), (&b""[..], None));
        let e = HeartbeatEvent::parse_v1(b"mysql-bin.000002").unwrap();
        assert_eq!((e.version, e.log_file), (1, &b"mysql-bin.000002"[..]));
    }
}
