//! INCIDENT_EVENT: the server lost events (e.g. a replica was reconfigured
//! mid-statement); replication must stop here.

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// The only incident MySQL defines.
pub const INCIDENT_LOST_EVENTS: u16 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentEvent<'a> {
    /// Any number: servers have written undefined ones (bug #40482).
    pub incident: u16,
    pub message: &'a [u8],
}

impl<'a> IncidentEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let post_header_len = fde.post_header_len(et::INCIDENT).unwrap_or(2) as usize;
        let incident = r.u16()?;
        r.skip(post_header_len.saturating_sub(2))?;
        let message = if r.is_empty() {
            &[][..]
        } else {
            let len = r.u8()? as usize;
            r.take(len)?
        };
        Ok(IncidentEvent { incident, message })
    }

    pub fn message_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    #[test]
    fn incident_with_undefined_number() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let e = IncidentEvent::parse(&[0x42, 0, 0], &fde).unwrap();
        assert_eq!((e.incident, e.message), (66, &b""[..]));
        let e = IncidentEvent::parse(&[1, 0, 4, b'l', b'o', b's', b't'], &fde).unwrap();
        assert_eq!(
            (e.incident, e.message_str().as_ref()),
            (INCIDENT_LOST_EVENTS, "lost")
        );
        assert!(IncidentEvent::parse(&[1, 0, 9, b'x'], &fde).is_err());
    }
}
