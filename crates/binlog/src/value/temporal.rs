//! Temporal values (DATE, TIME, DATETIME, TIMESTAMP) and their binlog encodings.
//!
//! Row images use two generations of formats:
//! - old (pre-5.6.4): DATE 3 bytes packed LE, TIME 3 bytes signed LE
//!   HHMMSS, DATETIME 8 bytes LE YYYYMMDDhhmmss, TIMESTAMP 4 bytes LE seconds;
//! - MySQL 5.6.4+ / MariaDB 10.1+ (`TIME2`, `DATETIME2`, `TIMESTAMP2`):
//!   big-endian integers with an offset so they sort as bytes, followed by
//!   0-3 bytes of fractional seconds ((fsp + 1) / 2 bytes).
//!
//! Decoding follows the server's `my_time_packed_from_binary`,
//! `my_datetime_packed_from_binary` and `my_timestamp_from_binary`, including
//! the "borrow" TIME2 uses to store negative values with a fraction.

use std::fmt;

use crate::bytes::ByteReader;
use crate::error::BodyError;

/// DATE; zero parts are allowed (MySQL zero dates like 0000-00-00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// TIME: a signed duration up to ±838:59:59.999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    pub negative: bool,
    pub hours: u32,
    pub minutes: u8,
    pub seconds: u8,
    pub micros: u32,
    /// Fractional-second precision of the column (0..=6): how many digits to print.
    pub fsp: u8,
}

/// DATETIME: wall-clock date and time, no time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
    pub fsp: u8,
}

/// TIMESTAMP: seconds since the Unix epoch (UTC) plus fraction.
/// `seconds == 0 && micros == 0` is MySQL's zero timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub seconds: u32,
    pub micros: u32,
    pub fsp: u8,
}

/// TIME2 integer-part offset (values are stored as intpart + offset).
const TIMEF_INT_OFS: i64 = 0x80_0000;
/// TIME2 offset of the 6-byte (fsp 5, 6) form.
const TIMEF_OFS: i64 = 0x8000_0000_0000;
/// DATETIME2 integer-part offset.
const DATETIMEF_INT_OFS: i64 = 0x80_0000_0000;

/// Largest fractional-second precision.
pub const MAX_FSP: u8 = 6;

fn check_fsp(fsp: u16) -> Result<u8, BodyError> {
    if fsp > MAX_FSP as u16 {
        return Err(BodyError::Invalid(format!(
            "fractional-second precision {fsp} > 6"
        )));
    }
    Ok(fsp as u8)
}

fn check_micros(micros: i64) -> Result<u32, BodyError> {
    if !(0..1_000_000).contains(&micros) {
        return Err(BodyError::Invalid(format!(
            "fractional seconds {micros} out of range"
        )));
    }
    Ok(micros as u32)
}

/// Unsigned big-endian integer of `n` bytes.
#[inline]
fn be_uint(r: &mut ByteReader<'_>, n: usize) -> Result<u64, BodyError> {
    Ok(r.take(n)?
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | b as u64))
}

/// Signed big-endian integer of `n` bytes.
#[inline]
fn be_int(r: &mut ByteReader<'_>, n: usize) -> Result<i64, BodyError> {
    let v = be_uint(r, n)?;
    let shift = 64 - 8 * n as u32;
    Ok(((v << shift) as i64) >> shift)
}

/// Bytes of fraction stored after a TIME2/DATETIME2/TIMESTAMP2 integer part.
#[inline]
pub fn frac_bytes(fsp: u8) -> usize {
    (fsp as usize).div_ceil(2)
}

/// DATE / NEWDATE: 3 bytes LE, day in bits 0-4, month 5-8, year 9-23.
#[inline]
pub fn read_date(r: &mut ByteReader<'_>) -> Result<Date, BodyError> {
    let v = r.u24()?;
    Ok(Date {
        year: (v >> 9) as u16,
        month: ((v >> 5) & 15) as u8,
        day: (v & 31) as u8,
    })
}

/// Old TIME: 3 bytes LE signed integer ±HHMMSS.
pub fn read_time_old(r: &mut ByteReader<'_>) -> Result<Time, BodyError> {
    let raw = r.u24()?;
    let v = ((raw << 8) as i32) >> 8;
    let a = v.unsigned_abs();
    Ok(Time {
        negative: v < 0,
        hours: a / 10_000,
        minutes: (a / 100 % 100) as u8,
        seconds: (a % 100) as u8,
        micros: 0,
        fsp: 0,
    })
}

/// TIME2 with `fsp` fractional digits.
pub fn read_time2(r: &mut ByteReader<'_>, fsp: u16) -> Result<Time, BodyError> {
    let fsp = check_fsp(fsp)?;
    let packed = match fsp {
        0 => make_packed(be_uint(r, 3)? as i64 - TIMEF_INT_OFS, 0),
        1 | 2 => {
            let mut intpart = be_uint(r, 3)? as i64 - TIMEF_INT_OFS;
            let mut frac = r.u8()? as i64;
            // Negative values store the fraction "borrowed" from the next
            // second so that the bytes sort correctly.
            if intpart < 0 && frac != 0 {
                intpart += 1;
                frac -= 0x100;
            }
            make_packed(intpart, frac * 10_000)
        }
        3 | 4 => {
            let mut intpart = be_uint(r, 3)? as i64 - TIMEF_INT_OFS;
            let mut frac = be_uint(r, 2)? as i64;
            if intpart < 0 && frac != 0 {
                intpart += 1;
                frac -= 0x1_0000;
            }
            make_packed(intpart, frac * 100)
        }
        _ => be_uint(r, 6)? as i64 - TIMEF_OFS,
    };
    time_from_packed(packed, fsp)
}

/// The server's MY_PACKED_TIME_MAKE: (intpart << 24) + frac.
#[inline]
fn make_packed(intpart: i64, frac: i64) -> i64 {
    ((intpart as u64) << 24).wrapping_add(frac as u64) as i64
}

/// TIME from the server's packed int64 form (TIME2 and JSON opaque TIME).
pub fn time_from_packed(packed: i64, fsp: u8) -> Result<Time, BodyError> {
    let negative = packed < 0;
    let a = packed.unsigned_abs();
    let hms = a >> 24;
    Ok(Time {
        negative,
        hours: ((hms >> 12) % (1 << 10)) as u32,
        minutes: ((hms >> 6) % (1 << 6)) as u8,
        seconds: (hms % (1 << 6)) as u8,
        micros: check_micros((a % (1 << 24)) as i64)?,
        fsp,
    })
}

/// Old DATETIME: 8 bytes LE integer YYYYMMDDhhmmss.
pub fn read_datetime_old(r: &mut ByteReader<'_>) -> Result<DateTime, BodyError> {
    let v = r.u64()?;
    let d = v / 1_000_000;
    let t = v % 1_000_000;
    let year = d / 10_000;
    if year > 9999 {
        return Err(BodyError::Invalid(format!(
            "DATETIME value {v} out of range"
        )));
    }
    Ok(DateTime {
        year: year as u16,
        month: (d / 100 % 100) as u8,
        day: (d % 100) as u8,
        hour: (t / 10_000) as u8,
        minute: (t / 100 % 100) as u8,
        second: (t % 100) as u8,
        micros: 0,
        fsp: 0,
    })
}

/// DATETIME2 with `fsp` fractional digits: 5 bytes BE + fraction.
#[inline]
pub fn read_datetime2(r: &mut ByteReader<'_>, fsp: u16) -> Result<DateTime, BodyError> {
    let fsp = check_fsp(fsp)?;
    let intpart = be_uint(r, 5)? as i64 - DATETIMEF_INT_OFS;
    let frac = match fsp {
        0 => 0,
        1 | 2 => be_int(r, 1)? * 10_000,
        3 | 4 => be_int(r, 2)? * 100,
        _ => be_int(r, 3)?,
    };
    datetime_from_packed(make_packed(intpart, frac), fsp)
}

/// DATETIME from the server's packed int64 form (DATETIME2 and JSON opaque
/// DATE/DATETIME/TIMESTAMP).
#[inline]
pub fn datetime_from_packed(packed: i64, fsp: u8) -> Result<DateTime, BodyError> {
    let a = packed.unsigned_abs();
    let ymdhms = a >> 24;
    let ymd = ymdhms >> 17;
    let ym = ymd >> 5;
    let hms = ymdhms % (1 << 17);
    let year = ym / 13;
    if year > u16::MAX as u64 {
        return Err(BodyError::Invalid(format!(
            "packed datetime {packed} out of range"
        )));
    }
    Ok(DateTime {
        year: year as u16,
        month: (ym % 13) as u8,
        day: (ymd % (1 << 5)) as u8,
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) % (1 << 6)) as u8,
        second: (hms % (1 << 6)) as u8,
        micros: check_micros((a % (1 << 24)) as i64)?,
        fsp,
    })
}

/// Old TIMESTAMP: 4 bytes LE seconds.
pub fn read_timestamp_old(r: &mut ByteReader<'_>) -> Result<Timestamp, BodyError> {
    Ok(Timestamp {
        seconds: r.u32()?,
        micros: 0,
        fsp: 0,
    })
}

/// TIMESTAMP2 with `fsp` fractional digits: 4 bytes BE seconds + fraction.
#[inline]
pub fn read_timestamp2(r: &mut ByteReader<'_>, fsp: u16) -> Result<Timestamp, BodyError> {
    let fsp = check_fsp(fsp)?;
    let seconds = be_uint(r, 4)? as u32;
    let micros = match fsp {
        0 => 0,
        1 | 2 => be_uint(r, 1)? as i64 * 10_000,
        3 | 4 => be_uint(r, 2)? as i64 * 100,
        _ => be_uint(r, 3)? as i64,
    };
    Ok(Timestamp {
        seconds,
        micros: check_micros(micros)?,
        fsp,
    })
}

// ---------------------------------------------------------------- printing

/// The text of one temporal value, built on the stack and appended to the
/// output in one go (appending field by field costs a capacity check and a
/// copy call per two-digit field).
struct Stamp {
    buf: [u8; 64],
    len: usize,
}

impl Stamp {
    fn new() -> Self {
        Stamp {
            buf: [0; 64],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `v` in decimal, zero-padded to at least `width` digits.
    #[inline(always)]
    fn padded(&mut self, v: u64, width: usize) {
        // Dates and times are mostly two- and four-digit fields.
        if width == 2 && v < 100 {
            self.two(v as u8);
        } else if width == 4 && v < 10_000 {
            self.two((v / 100) as u8);
            self.two((v % 100) as u8);
        } else {
            self.padded_any(v, width);
        }
    }

    #[inline(always)]
    fn two(&mut self, v: u8) {
        let at = self.len;
        self.buf[at..at + 2].copy_from_slice(&[b'0' + v / 10, b'0' + v % 10]);
        self.len += 2;
    }

    #[cold]
    fn padded_any(&mut self, v: u64, width: usize) {
        let mut buf = itoa::Buffer::new();
        let s = buf.format(v);
        for _ in s.len()..width {
            self.push(b'0');
        }
        for &b in s.as_bytes() {
            self.push(b);
        }
    }

    /// ".ffffff" truncated to `fsp` digits (nothing for fsp 0).
    fn fraction(&mut self, micros: u32, fsp: u8) {
        let fsp = fsp.min(MAX_FSP);
        if fsp == 0 {
            return;
        }
        self.push(b'.');
        if micros < 1_000_000 {
            // All six digits, then keep the first `fsp` (truncation).
            let at = self.len;
            self.two((micros / 10_000) as u8);
            self.two((micros / 100 % 100) as u8);
            self.two((micros % 100) as u8);
            self.len = at + fsp as usize;
            return;
        }
        let scaled = micros / 10u32.pow((MAX_FSP - fsp) as u32);
        self.padded(scaled as u64, fsp as usize);
    }

    #[inline]
    fn ymd(&mut self, year: u16, month: u8, day: u8) {
        self.padded(year as u64, 4);
        self.push(b'-');
        self.padded(month as u64, 2);
        self.push(b'-');
        self.padded(day as u64, 2);
    }

    #[inline]
    fn hms(&mut self, hour: u64, minute: u8, second: u8) {
        self.padded(hour, 2);
        self.push(b':');
        self.padded(minute as u64, 2);
        self.push(b':');
        self.padded(second as u64, 2);
    }

    fn zero_timestamp(&mut self, fsp: u8) {
        for &b in b"0000-00-00 00:00:00" {
            self.push(b);
        }
        self.fraction(0, fsp);
    }

    fn append_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.buf[..self.len]);
    }
}

/// Append `v` in decimal, zero-padded to at least `width` digits.
pub(crate) fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut t = Stamp::new();
    t.padded(v, width);
    t.append_to(out);
}

/// Append ".ffffff" truncated to `fsp` digits (nothing for fsp 0), as MySQL
/// prints fractional seconds.
#[cfg(test)]
pub(crate) fn push_fraction(out: &mut Vec<u8>, micros: u32, fsp: u8) {
    let mut t = Stamp::new();
    t.fraction(micros, fsp);
    t.append_to(out);
}

impl Date {
    /// "YYYY-MM-DD".
    pub fn write(&self, out: &mut Vec<u8>) {
        let mut t = Stamp::new();
        t.ymd(self.year, self.month, self.day);
        t.append_to(out);
    }
}

impl Time {
    /// "[-]HH:MM:SS[.fraction to fsp digits]"; hours may exceed 99.
    pub fn write(&self, out: &mut Vec<u8>) {
        self.write_with_fsp(out, self.fsp);
    }
    /// As [`Time::write`] with an explicit number of fraction digits.
    pub fn write_with_fsp(&self, out: &mut Vec<u8>, fsp: u8) {
        let mut t = Stamp::new();
        if self.negative {
            t.push(b'-');
        }
        t.hms(self.hours as u64, self.minutes, self.seconds);
        t.fraction(self.micros, fsp);
        t.append_to(out);
    }
}

impl DateTime {
    /// "YYYY-MM-DD HH:MM:SS[.fraction to fsp digits]".
    pub fn write(&self, out: &mut Vec<u8>) {
        self.write_with_fsp(out, self.fsp);
    }
    /// As [`DateTime::write`] with an explicit number of fraction digits.
    pub fn write_with_fsp(&self, out: &mut Vec<u8>, fsp: u8) {
        self.write_separated(out, b' ', fsp);
    }

    /// Date, `separator`, time and `fsp` fraction digits.
    fn write_separated(&self, out: &mut Vec<u8>, separator: u8, fsp: u8) {
        match usual_datetime(self, separator, fsp) {
            Some((text, len)) => out.extend_from_slice(&text[..len]),
            None => self.stamp(separator, fsp).append_to(out),
        }
    }

    /// What [`DateTime::write_separated`] writes, for every value
    /// (`usual_datetime` is its fast path).
    fn stamp(&self, separator: u8, fsp: u8) -> Stamp {
        let mut t = Stamp::new();
        t.ymd(self.year, self.month, self.day);
        t.push(separator);
        t.hms(self.hour as u64, self.minute, self.second);
        t.fraction(self.micros, fsp);
        t
    }
}

/// "YYYY-MM-DD?HH:MM:SS[.fraction to fsp digits]" (`?` is `separator`) at
/// fixed positions, for the usual values: a four-digit year, two-digit
/// fields, micros below a second. `None` for the rest, which `Stamp`
/// writes. Per-digit length bookkeeping showed in `parse` profiles, where
/// most rows carry a DATETIME or TIMESTAMP column.
#[inline]
fn usual_datetime(d: &DateTime, separator: u8, fsp: u8) -> Option<([u8; 28], usize)> {
    if d.year >= 10_000
        || d.month >= 100
        || d.day >= 100
        || d.hour >= 100
        || d.minute >= 100
        || d.second >= 100
        || d.micros >= 1_000_000
    {
        return None;
    }
    let mut text = *b"0000-00-00 00:00:00.000000\0\0";
    let mut two = |at: usize, v: u8| {
        text[at] = b'0' + v / 10;
        text[at + 1] = b'0' + v % 10;
    };
    two(0, (d.year / 100) as u8);
    two(2, (d.year % 100) as u8);
    two(5, d.month);
    two(8, d.day);
    two(11, d.hour);
    two(14, d.minute);
    two(17, d.second);
    two(20, (d.micros / 10_000) as u8);
    two(22, (d.micros / 100 % 100) as u8);
    two(24, (d.micros % 100) as u8);
    text[10] = separator;
    // The fraction is truncated to `fsp` digits, as `Stamp::fraction` does.
    let len = match fsp.min(MAX_FSP) {
        0 => 19,
        fsp => 20 + fsp as usize,
    };
    Some((text, len))
}

/// Civil date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Timestamp {
    /// MySQL's zero timestamp '0000-00-00 00:00:00'.
    pub fn is_zero(&self) -> bool {
        self.seconds == 0 && self.micros == 0
    }

    /// The instant as a UTC wall-clock value.
    pub fn to_utc(&self) -> DateTime {
        let secs = self.seconds as i64;
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let tod = secs.rem_euclid(86_400);
        DateTime {
            // u32 seconds end in 2106.
            year: year as u16,
            month,
            day,
            hour: (tod / 3600) as u8,
            minute: (tod / 60 % 60) as u8,
            second: (tod % 60) as u8,
            micros: self.micros,
            fsp: self.fsp,
        }
    }

    /// ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; the zero timestamp
    /// prints as MySQL shows it, "0000-00-00 00:00:00[.000…]".
    pub fn write_iso_utc(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            let mut t = Stamp::new();
            t.zero_timestamp(self.fsp);
            t.append_to(out);
            return;
        }
        let u = self.to_utc();
        u.write_separated(out, b'T', u.fsp);
        out.push(b'Z');
    }

    /// "YYYY-MM-DD HH:MM:SS[.fraction]" in UTC (zero timestamp as zeros).
    pub fn write_utc(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            let mut t = Stamp::new();
            t.zero_timestamp(self.fsp);
            t.append_to(out);
            return;
        }
        self.to_utc().write(out);
    }
}

macro_rules! display_via_write {
    ($ty:ty, $method:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = Vec::with_capacity(32);
                self.$method(&mut buf);
                // Only ASCII digits and separators are written.
                f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
            }
        }
    };
}
display_via_write!(Date, write);
display_via_write!(Time, write);
display_via_write!(DateTime, write);
display_via_write!(Timestamp, write_iso_utc);

#[cfg(test)]
mod tests {
    use super::*;

    /// The general path that `usual_datetime` short-cuts.
    fn via_stamp(d: &DateTime, separator: u8, fsp: u8) -> Vec<u8> {
        let mut out = Vec::new();
        d.stamp(separator, fsp).append_to(&mut out);
        out
    }

    #[test]
    fn usual_datetime_writes_what_stamp_writes() {
        let mut checked = 0;
        for year in [0u16, 1, 99, 1000, 1970, 2038, 9999, 10_000] {
            for (month, day) in [(0u8, 0u8), (1, 1), (2, 29), (12, 31)] {
                for (hour, minute, second) in [(0u8, 0u8, 0u8), (9, 5, 7), (23, 59, 59)] {
                    for micros in [0u32, 1, 10, 999_999, 123_456, 1_000_000] {
                        for fsp in 0..=7u8 {
                            let d = DateTime {
                                year,
                                month,
                                day,
                                hour,
                                minute,
                                second,
                                micros,
                                fsp,
                            };
                            for separator in [b' ', b'T'] {
                                let mut out = Vec::new();
                                if let Some((text, len)) = usual_datetime(&d, separator, fsp) {
                                    out.extend_from_slice(&text[..len]);
                                    checked += 1;
                                } else {
                                    assert!(year >= 10_000 || micros >= 1_000_000);
                                    continue;
                                }
                                assert_eq!(
                                    String::from_utf8_lossy(&out),
                                    String::from_utf8_lossy(&via_stamp(&d, separator, fsp)),
                                    "{d:?} fsp {fsp}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000);
    }

    fn r(b: &[u8]) -> ByteReader<'_> {
        ByteReader::new(b)
    }

    /// Encode like the server's my_time_packed_to_binary (test helper).
    fn time2_bytes(neg: bool, h: u64, m: u64, s: u64, micros: u64, fsp: u8) -> Vec<u8> {
        let hms = (h << 12) | (m << 6) | s;
        let mut packed = ((hms << 24) + micros) as i64;
        if neg {
            packed = -packed;
        }
        let be =
            |v: i64, n: usize| -> Vec<u8> { (0..n).rev().map(|i| (v >> (8 * i)) as u8).collect() };
        match fsp {
            0 => be((packed >> 24) + TIMEF_INT_OFS, 3),
            1 | 2 => {
                let mut out = be((packed >> 24) + TIMEF_INT_OFS, 3);
                // The server rounds micros to the stored precision first.
                let frac = (packed % (1 << 24)) / 10_000;
                out.push(frac as u8);
                out
            }
            3 | 4 => {
                let mut out = be((packed >> 24) + TIMEF_INT_OFS, 3);
                let frac = (packed % (1 << 24)) / 100;
                out.extend(be(frac, 2));
                out
            }
            _ => be(packed + TIMEF_OFS, 6),
        }
    }

    #[test]
    fn date_packed_bytes_and_zero_date() {
        // 2015-01-15: (2015 << 9) | (1 << 5) | 15 = 0x0FBE2F.
        let d = read_date(&mut r(&[0x2F, 0xBE, 0x0F])).unwrap();
        assert_eq!(d.to_string(), "2015-01-15");
        assert_eq!(
            read_date(&mut r(&[0, 0, 0])).unwrap().to_string(),
            "0000-00-00"
        );
        // 9999-12-31.
        let v: u32 = (9999 << 9) | (12 << 5) | 31;
        let b = v.to_le_bytes();
        assert_eq!(
            read_date(&mut r(&b[..3])).unwrap().to_string(),
            "9999-12-31"
        );
    }

    #[test]
    fn old_time_is_signed_hhmmss() {
        // 838:59:59 = 8385959 = 0x7FF5A7.
        let t = read_time_old(&mut r(&[0xA7, 0xF5, 0x7F])).unwrap();
        assert_eq!(t.to_string(), "838:59:59");
        // -00:00:01 = -1.
        let t = read_time_old(&mut r(&[0xFF, 0xFF, 0xFF])).unwrap();
        assert_eq!(t.to_string(), "-00:00:01");
        let t = read_time_old(&mut r(&[0x5A, 0x1F, 0x80 | 0x7F])).unwrap();
        assert!(t.negative);
    }

    #[test]
    fn time2_known_bytes() {
        // TIME(0) '00:00:00' is the offset 0x800000.
        assert_eq!(
            read_time2(&mut r(&[0x80, 0, 0]), 0).unwrap().to_string(),
            "00:00:00"
        );
        // TIME(0) '12:34:56': hms = 12<<12 | 34<<6 | 56 = 0xC8B8.
        assert_eq!(
            read_time2(&mut r(&[0x80, 0xC8, 0xB8]), 0)
                .unwrap()
                .to_string(),
            "12:34:56"
        );
        // TIME(0) '-00:00:01' = 0x800000 - 1.
        assert_eq!(
            read_time2(&mut r(&[0x7F, 0xFF, 0xFF]), 0)
                .unwrap()
                .to_string(),
            "-00:00:01"
        );
    }

    #[test]
    fn negative_time2_with_every_fsp() {
        let cases: &[(bool, u64, u64, u64, u64, u8, &str)] = &[
            (true, 0, 0, 0, 100_000, 1, "-00:00:00.1"),
            (true, 1, 2, 3, 450_000, 2, "-01:02:03.45"),
            (true, 838, 59, 59, 0, 2, "-838:59:59.00"),
            (true, 0, 0, 1, 500_000, 3, "-00:00:01.500"),
            (true, 10, 0, 0, 123_400, 4, "-10:00:00.1234"),
            (true, 12, 34, 56, 789_010, 5, "-12:34:56.78901"),
            (true, 838, 59, 59, 999_999, 6, "-838:59:59.999999"),
            (true, 0, 0, 0, 1, 6, "-00:00:00.000001"),
            (true, 5, 0, 0, 0, 0, "-05:00:00"),
            (false, 0, 0, 0, 10_000, 2, "00:00:00.01"),
            (false, 838, 59, 59, 999_900, 4, "838:59:59.9999"),
            (false, 23, 24, 25, 0, 6, "23:24:25.000000"),
        ];
        for &(neg, h, m, s, us, fsp, want) in cases {
            let bytes = time2_bytes(neg, h, m, s, us, fsp);
            assert_eq!(bytes.len(), 3 + frac_bytes(fsp));
            let mut rd = r(&bytes);
            let t = read_time2(&mut rd, fsp as u16).unwrap();
            assert!(rd.is_empty());
            assert_eq!(t.to_string(), want, "fsp {fsp} bytes {bytes:02x?}");
        }
    }

    #[test]
    fn negative_time2_borrow_bytes() {
        // '-00:00:00.1' at fsp 1: intpart stored as 0x7FFFFF and fraction
        // 0x100 - 10 = 0xF6 (the server's borrow).
        let t = read_time2(&mut r(&[0x7F, 0xFF, 0xFF, 0xF6]), 1).unwrap();
        assert_eq!(t.to_string(), "-00:00:00.1");
        // At fsp 3, '-00:00:01.5' = intpart -2 (0x7FFFFE), fraction 0x10000 - 5000.
        let t = read_time2(&mut r(&[0x7F, 0xFF, 0xFE, 0xEC, 0x78]), 3).unwrap();
        assert_eq!(t.to_string(), "-00:00:01.500");
    }

    #[test]
    fn datetime2_known_bytes() {
        // DATETIME(0) '2015-01-15 23:24:25' (from MySQL's binlog tests):
        // ym = 2015*13+1, packed = ((ym<<5|15)<<17 | 23<<12|24<<6|25).
        let ym: u64 = 2015 * 13 + 1;
        let ymdhms = ((ym << 5 | 15) << 17) | (23 << 12 | 24 << 6 | 25);
        let v = ymdhms + DATETIMEF_INT_OFS as u64;
        let b: Vec<u8> = (0..5).rev().map(|i| (v >> (8 * i)) as u8).collect();
        let dt = read_datetime2(&mut r(&b), 0).unwrap();
        assert_eq!(dt.to_string(), "2015-01-15 23:24:25");
        // With fsp 3 and .123: fraction stored as 1230 (BE).
        let mut b3 = b.clone();
        b3.extend_from_slice(&1230u16.to_be_bytes());
        assert_eq!(
            read_datetime2(&mut r(&b3), 3).unwrap().to_string(),
            "2015-01-15 23:24:25.123"
        );
        // fsp 6 .000001 as 3 bytes.
        let mut b6 = b.clone();
        b6.extend_from_slice(&[0, 0, 1]);
        assert_eq!(
            read_datetime2(&mut r(&b6), 6).unwrap().to_string(),
            "2015-01-15 23:24:25.000001"
        );
        // Zero datetime.
        let z = read_datetime2(&mut r(&[0x80, 0, 0, 0, 0]), 0).unwrap();
        assert_eq!(z.to_string(), "0000-00-00 00:00:00");
    }

    #[test]
    fn old_datetime_and_timestamp() {
        let v: u64 = 20_150_115_232_425;
        let dt = read_datetime_old(&mut r(&v.to_le_bytes())).unwrap();
        assert_eq!(dt.to_string(), "2015-01-15 23:24:25");
        assert_eq!(
            read_datetime_old(&mut r(&[0; 8])).unwrap().to_string(),
            "0000-00-00 00:00:00"
        );
        assert!(read_datetime_old(&mut r(&u64::MAX.to_le_bytes())).is_err());
        let ts = read_timestamp_old(&mut r(&1_421_364_265u32.to_le_bytes())).unwrap();
        assert_eq!(ts.to_string(), "2015-01-15T23:24:25Z");
    }

    #[test]
    fn timestamp2_is_big_endian_with_fraction() {
        let mut b = 1_421_364_265u32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0x01, 0xE2, 0x40]); // 123456
        let ts = read_timestamp2(&mut r(&b), 6).unwrap();
        assert_eq!(ts.to_string(), "2015-01-15T23:24:25.123456Z");
        let mut b2 = 1_421_364_265u32.to_be_bytes().to_vec();
        b2.push(12);
        assert_eq!(
            read_timestamp2(&mut r(&b2), 2).unwrap().to_string(),
            "2015-01-15T23:24:25.12Z"
        );
        let zero = read_timestamp2(&mut r(&[0, 0, 0, 0, 0, 0]), 3).unwrap();
        assert!(zero.is_zero());
        assert_eq!(zero.to_string(), "0000-00-00 00:00:00.000");
        let max = read_timestamp2(&mut r(&[0xFF; 4]), 0).unwrap();
        assert_eq!(max.to_string(), "2106-02-07T06:28:15Z");
        let epoch_plus = read_timestamp2(&mut r(&[0, 0, 0, 1]), 0).unwrap();
        assert_eq!(epoch_plus.to_string(), "1970-01-01T00:00:01Z");
        let leap = Timestamp {
            seconds: 951_782_400,
            micros: 0,
            fsp: 0,
        };
        assert_eq!(leap.to_string(), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn invalid_fsp_and_fraction_are_errors() {
        assert!(read_time2(&mut r(&[0x80, 0, 0, 0, 0, 0, 0]), 7).is_err());
        // fsp 2 fraction byte 200 means 2,000,000 microseconds.
        assert!(read_timestamp2(&mut r(&[0, 0, 0, 1, 200]), 2).is_err());
        // fsp 6 fraction 0xFFFFFF.
        assert!(read_timestamp2(&mut r(&[0, 0, 0, 1, 0xFF, 0xFF, 0xFF]), 6).is_err());
        assert!(read_datetime2(&mut r(&[0x80, 0, 0]), 0).is_err());
    }

    #[test]
    fn packed_forms_for_json() {
        // JSON opaque TIME '-12:34:56.789' (packed int64).
        let hms: i64 = (12 << 12) | (34 << 6) | 56;
        let packed = -((hms << 24) + 789_000);
        assert_eq!(
            time_from_packed(packed, 6).unwrap().to_string(),
            "-12:34:56.789000"
        );
        let ym: i64 = 2015 * 13 + 1;
        let dt = (((ym << 5 | 15) << 17) | (23 << 12 | 24 << 6 | 25)) << 24;
        assert_eq!(
            datetime_from_packed(dt, 6).unwrap().to_string(),
            "2015-01-15 23:24:25.000000"
        );
    }
}
