//! USER_VAR_EVENT: a user variable (`@name`) that the next statement uses.
//!
//! Body: `name_len u32 | name | is_null u8`, then unless NULL:
//! `type u8 | charset u32 | value_len u32 | value | flags u8` (flags only
//! from 5.1.x on; bit 0 = UNSIGNED).

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

/// `User_var_log_event` flag: the integer value is unsigned.
pub const UNSIGNED_F: u8 = 1;

/// Item_result codes of the value type byte.
pub mod value_type {
    pub const STRING: u8 = 0;
    pub const REAL: u8 = 1;
    pub const INT: u8 = 2;
    pub const ROW: u8 = 3;
    pub const DECIMAL: u8 = 4;
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UserVarValue<'a> {
    Null,
    /// Bytes in the variable's character set (`charset` is a collation id).
    String {
        charset: u32,
        bytes: &'a [u8],
    },
    Real(f64),
    Int(i64),
    UInt(u64),
    /// Binary DECIMAL of `precision` digits, `scale` after the point
    /// (the server's `decimal2bin` form).
    Decimal {
        precision: u8,
        scale: u8,
        bin: &'a [u8],
    },
    /// A value type this decoder does not know, kept as bytes.
    Other {
        type_code: u8,
        charset: u32,
        bytes: &'a [u8],
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserVarEvent<'a> {
    pub name: &'a [u8],
    pub value: UserVarValue<'a>,
    /// Flags byte (absent before 5.1 → 0).
    pub flags: u8,
}

impl<'a> UserVarEvent<'a> {
    pub fn parse(body: &'a [u8], fde: &FormatDescription) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(fde.post_header_len(et::USER_VAR).unwrap_or(0) as usize)?;
        let name_len = r.u32()? as usize;
        let name = r.take(name_len)?;
        if r.u8()? != 0 {
            return Ok(UserVarEvent {
                name,
                value: UserVarValue::Null,
                flags: 0,
            });
        }
        let type_code = r.u8()?;
        let charset = r.u32()?;
        let len = r.u32()? as usize;
        let bytes = r.take(len)?;
        let flags = if r.is_empty() { 0 } else { r.u8()? };
        let fixed8 = |what: &str| -> Result<[u8; 8], BodyError> {
            bytes.try_into().map_err(|_| {
                BodyError::Invalid(format!(
                    "{what} user variable has {} bytes, not 8",
                    bytes.len()
                ))
            })
        };
        let value = match type_code {
            value_type::STRING => UserVarValue::String { charset, bytes },
            value_type::REAL => UserVarValue::Real(f64::from_le_bytes(fixed8("REAL")?)),
            value_type::INT => {
                let raw = fixed8("INT")?;
                if flags & UNSIGNED_F != 0 {
                    UserVarValue::UInt(u64::from_le_bytes(raw))
                } else {
                    UserVarValue::Int(i64::from_le_bytes(raw))
                }
            }
            value_type::DECIMAL => {
                let mut d = ByteReader::new(bytes);
                let precision = d.u8()?;
                let scale = d.u8()?;
                UserVarValue::Decimal {
                    precision,
                    scale,
                    bin: d.rest(),
                }
            }
            _ => UserVarValue::Other {
                type_code,
                charset,
                bytes,
            },
        };
        Ok(UserVarEvent { name, value, flags })
    }

    pub fn name_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.name)
    }

    pub fn is_unsigned(&self) -> bool {
        self.flags & UNSIGNED_F != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;

    fn body(name: &str, value: Option<(u8, u32, &[u8])>, flags: Option<u8>) -> Vec<u8> {
        let mut b = (name.len() as u32).to_le_bytes().to_vec();
        b.extend_from_slice(name.as_bytes());
        match value {
            None => b.push(1),
            Some((t, cs, v)) => {
                b.push(0);
                b.push(t);
                b.extend_from_slice(&cs.to_le_bytes());
                b.extend_from_slice(&(v.len() as u32).to_le_bytes());
                b.extend_from_slice(v);
                b.extend(flags);
            }
        }
        b
    }

    #[test]
    fn every_value_type() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        fn p(b: &[u8]) -> Result<UserVarValue<'_>, BodyError> {
            let fde = FormatDescription::default_v4(ChecksumAlg::Off);
            UserVarEvent::parse(b, &fde).map(|e| e.value)
        }
        assert_eq!(p(&body("n", None, None)).unwrap(), UserVarValue::Null);
        assert_eq!(
            p(&body("s", Some((0, 33, b"test blog")), Some(0))).unwrap(),
            UserVarValue::String {
                charset: 33,
                bytes: b"test blog"
            }
        );
        assert_eq!(
            p(&body("r", Some((1, 33, &2.5f64.to_le_bytes())), Some(0))).unwrap(),
            UserVarValue::Real(2.5)
        );
        assert_eq!(
            p(&body("i", Some((2, 33, &(-5i64).to_le_bytes())), Some(0))).unwrap(),
            UserVarValue::Int(-5)
        );
        assert_eq!(
            p(&body(
                "u",
                Some((2, 33, &u64::MAX.to_le_bytes())),
                Some(UNSIGNED_F)
            ))
            .unwrap(),
            UserVarValue::UInt(u64::MAX)
        );
        // Pre-5.1: no flags byte at all.
        assert_eq!(
            p(&body("i", Some((2, 8, &7i64.to_le_bytes())), None)).unwrap(),
            UserVarValue::Int(7)
        );
        assert_eq!(
            p(&body("d", Some((4, 33, &[3, 2, 129, 0])), Some(0))).unwrap(),
            UserVarValue::Decimal {
                precision: 3,
                scale: 2,
                bin: &[129, 0]
            }
        );
        assert!(p(&body("i", Some((2, 33, &[1, 2])), Some(0))).is_err());
        let b = body("s", Some((0, 33, b"abc")), None);
        assert!(UserVarEvent::parse(&b[..b.len() - 1], &fde).is_err());
    }
}
