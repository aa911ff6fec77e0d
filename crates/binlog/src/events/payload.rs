//! TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+ binlog_transaction_compression):
//! a whole transaction's events, compressed. The header is a TLV list of
//! `field lenenc | length lenenc | value lenenc` ended by field 0; the
//! payload follows. The stream decodes the inner events one by one (see
//! [`crate::stream`]).

use crate::bytes::ByteReader;
use crate::error::BodyError;

const OTW_PAYLOAD_HEADER_END_MARK: u64 = 0;
const OTW_PAYLOAD_SIZE_FIELD: u64 = 1;
const OTW_PAYLOAD_COMPRESSION_TYPE_FIELD: u64 = 2;
const OTW_PAYLOAD_UNCOMPRESSED_SIZE_FIELD: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadCompression {
    Zstd,
    None,
    Unknown(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionPayloadEvent<'a> {
    pub compression: PayloadCompression,
    pub payload_size: u64,
    pub uncompressed_size: Option<u64>,
    /// The compressed events.
    pub payload: &'a [u8],
}

impl<'a> TransactionPayloadEvent<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let mut payload_size = None;
        let mut compression = None;
        let mut uncompressed_size = None;
        loop {
            let field = r.lenenc()?;
            if field == OTW_PAYLOAD_HEADER_END_MARK {
                break;
            }
            let len = usize::try_from(r.lenenc()?)
                .map_err(|_| BodyError::Invalid("payload header field length overflow".into()))?;
            let mut value = ByteReader::new(r.take(len)?);
            match field {
                OTW_PAYLOAD_SIZE_FIELD => payload_size = Some(value.lenenc()?),
                OTW_PAYLOAD_COMPRESSION_TYPE_FIELD => {
                    compression = Some(match value.lenenc()? {
                        0 => PayloadCompression::Zstd,
                        255 => PayloadCompression::None,
                        other => PayloadCompression::Unknown(other),
                    })
                }
                OTW_PAYLOAD_UNCOMPRESSED_SIZE_FIELD => uncompressed_size = Some(value.lenenc()?),
                _ => {} // newer fields: skipped by their length
            }
        }
        let (Some(payload_size), Some(compression)) = (payload_size, compression) else {
            return Err(BodyError::Invalid(
                "payload header lacks the size or the compression type".into(),
            ));
        };
        let size = usize::try_from(payload_size)
            .ok()
            .filter(|&s| s <= r.remaining())
            .ok_or_else(|| {
                BodyError::Invalid(format!(
                    "payload size {payload_size} exceeds the {} bytes left in the event",
                    r.remaining()
                ))
            })?;
        Ok(TransactionPayloadEvent {
            compression,
            payload_size,
            uncompressed_size,
            payload: r.take(size)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_header_tlv() {
        let mut b = vec![2, 1, 0, 3, 1, 100, 1, 1, 3];
        b.push(0);
        b.extend_from_slice(b"abc");
        let e = TransactionPayloadEvent::parse(&b).unwrap();
        assert_eq!(e.compression, PayloadCompression::Zstd);
        assert_eq!((e.payload_size, e.uncompressed_size), (3, Some(100)));
        assert_eq!(e.payload, b"abc");
        // Size beyond the event.
        let mut bad = b.clone();
        bad[8] = 50;
        assert!(TransactionPayloadEvent::parse(&bad).is_err());
        // No compression type.
        assert!(TransactionPayloadEvent::parse(&[1, 1, 0, 0]).is_err());
    }
}
