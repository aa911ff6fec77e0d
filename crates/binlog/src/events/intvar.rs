//! INTVAR_EVENT (LAST_INSERT_ID / INSERT_ID for the next statement) and
//! RAND_EVENT (the RAND() seeds of the next statement).

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntVarKind {
    LastInsertId,
    InsertId,
    Other(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntVarEvent {
    pub kind: IntVarKind,
    pub value: u64,
}

impl IntVarEvent {
    pub fn parse(body: &[u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(fde.post_header_len(et::INTVAR).unwrap_or(0) as usize)?;
        let kind = match r.u8()? {
            1 => IntVarKind::LastInsertId,
            2 => IntVarKind::InsertId,
            other => IntVarKind::Other(other),
        };
        Ok(IntVarEvent {
            kind,
            value: r.u64()?,
        })
    }

    /// The variable name as `mysqlbinlog` prints it.
    pub fn name(&self) -> &'static str {
        match self.kind {
            IntVarKind::LastInsertId => "LAST_INSERT_ID",
            IntVarKind::InsertId => "INSERT_ID",
            IntVarKind::Other(_) => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandEvent {
    pub seed1: u64,
    pub seed2: u64,
}

impl RandEvent {
    pub fn parse(body: &[u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(fde.post_header_len(et::RAND).unwrap_or(0) as usize)?;
        Ok(RandEvent {
            seed1: r.u64()?,
            seed2: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    #[test]
    fn intvar_and_rand() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let mut b = vec![2];
        b.extend_from_slice(&10u64.to_le_bytes());
        let e = IntVarEvent::parse(&b, &fde).unwrap();
        assert_eq!(
            (e.kind, e.value, e.name()),
            (IntVarKind::InsertId, 10, "INSERT_ID")
        );
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(&2u64.to_le_bytes());
        assert_eq!(
            RandEvent::parse(&b, &fde).unwrap(),
            RandEvent { seed1: 1, seed2: 2 }
        );
        assert!(RandEvent::parse(&b[..12], &fde).is_err());
    }
}
