//! A bounds-checked little-endian cursor over an event body.
//!
//! Every read returns `Err(BodyError::Short)` instead of panicking, which is
//! what lets the decoder accept arbitrary (fuzzed, truncated, corrupt) input.

use crate::error::BodyError;

#[derive(Debug, Clone, Copy)]
pub struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

macro_rules! le_int {
    ($name:ident, $ty:ty, $n:expr) => {
        #[inline]
        pub fn $name(&mut self) -> Result<$ty, BodyError> {
            let b = self.take($n)?;
            let mut a = [0u8; $n];
            a.copy_from_slice(b);
            Ok(<$ty>::from_le_bytes(a))
        }
    };
}

impl<'a> ByteReader<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        ByteReader { buf, pos: 0 }
    }
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    /// The unread part of the buffer.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], BodyError> {
        if n > self.remaining() {
            return Err(BodyError::Short {
                at: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), BodyError> {
        self.take(n).map(|_| ())
    }
    /// Take everything that is left.
    #[inline]
    pub fn take_rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
    #[inline]
    pub fn u8(&mut self) -> Result<u8, BodyError> {
        Ok(self.take(1)?[0])
    }
    le_int!(u16, u16, 2);
    le_int!(u32, u32, 4);
    le_int!(u64, u64, 8);
    le_int!(i8, i8, 1);
    le_int!(i16, i16, 2);
    le_int!(i32, i32, 4);
    le_int!(i64, i64, 8);
    le_int!(f32, f32, 4);
    le_int!(f64, f64, 8);
    /// Unsigned little-endian integer of `n` (0..=8) bytes.
    #[inline]
    pub fn uint_n(&mut self, n: usize) -> Result<u64, BodyError> {
        if n > 8 {
            return Err(BodyError::Invalid(format!("integer width {n} > 8")));
        }
        let b = self.take(n)?;
        let mut v = 0u64;
        for (i, byte) in b.iter().enumerate() {
            v |= (*byte as u64) << (8 * i);
        }
        Ok(v)
    }
    #[inline]
    pub fn u24(&mut self) -> Result<u32, BodyError> {
        Ok(self.uint_n(3)? as u32)
    }
    #[inline]
    pub fn u48(&mut self) -> Result<u64, BodyError> {
        self.uint_n(6)
    }
    /// MySQL length-encoded integer (packed integer).
    pub fn lenenc(&mut self) -> Result<u64, BodyError> {
        match self.u8()? {
            n @ 0..=250 => Ok(n as u64),
            251 => Ok(0), // NULL marker in row contexts; callers that care check before
            252 => Ok(self.u16()? as u64),
            253 => Ok(self.u24()? as u64),
            254 => self.u64(),
            255 => Err(BodyError::Invalid(
                "invalid length-encoded integer 0xff".into(),
            )),
        }
    }
    /// Length-encoded byte string.
    pub fn lenenc_bytes(&mut self) -> Result<&'a [u8], BodyError> {
        let n = self.lenenc()?;
        let n = usize::try_from(n).map_err(|_| BodyError::Invalid("length overflow".into()))?;
        self.take(n)
    }
    /// Bytes up to (not including) the next NUL; the NUL is consumed.
    pub fn nul_terminated(&mut self) -> Result<&'a [u8], BodyError> {
        let rest = self.rest();
        match rest.iter().position(|&b| b == 0) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(BodyError::Invalid("missing NUL terminator".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_are_errors_not_panics() {
        let mut r = ByteReader::new(&[1, 2, 3]);
        assert_eq!(r.u16().unwrap(), 0x0201);
        assert!(matches!(
            r.u32(),
            Err(BodyError::Short {
                at: 2,
                needed: 4,
                available: 1
            })
        ));
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.u8().is_err());
    }

    #[test]
    fn lenenc_forms() {
        let mut r = ByteReader::new(&[0xfa, 0xfc, 0x34, 0x12, 0xfd, 1, 2, 3]);
        assert_eq!(r.lenenc().unwrap(), 250);
        assert_eq!(r.lenenc().unwrap(), 0x1234);
        assert_eq!(r.lenenc().unwrap(), 0x030201);
    }
}
