//! ROTATE_EVENT (next binlog file) and STOP_EVENT (server shut down).

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// ROTATE: the next file is `next_file`, reading continues at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateEvent<'a> {
    pub position: u64,
    pub next_file: &'a [u8],
}

impl<'a> RotateEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        // Binlog v1 had no post-header: the position was implicitly 4.
        let post_header_len = fde.post_header_len(et::ROTATE).unwrap_or(8) as usize;
        let position = if post_header_len >= 8 {
            let p = r.u64()?;
            r.skip(post_header_len - 8)?;
            p
        } else {
            r.skip(post_header_len)?;
            4
        };
        Ok(RotateEvent {
            position,
            next_file: r.take_rest(),
        })
    }

    pub fn next_file_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.next_file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    #[test]
    fn rotate_position_and_name() {
        let mut b = 4u64.to_le_bytes().to_vec();
        b.extend_from_slice(b"mysql-bin.000008");
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let r = RotateEvent::parse(&b, &fde).unwrap();
        assert_eq!(r.position, 4);
        assert_eq!(r.next_file_str(), "mysql-bin.000008");
        assert!(RotateEvent::parse(&b[..3], &fde).is_err());
        let v1 = FormatDescription::for_old_binlog(1, "3.23", 0);
        let r = RotateEvent::parse(b"next.001", &v1).unwrap();
        assert_eq!((r.position, r.next_file), (4, &b"next.001"[..]));
    }
}
