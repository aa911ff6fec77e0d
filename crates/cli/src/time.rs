//! UTC date arithmetic: formatting event timestamps and parsing the
//! `--start-datetime` / `--stop-datetime` arguments.
//!
//! Hand-written (civil-from-days, Howard Hinnant's algorithm) because the
//! binary only ever needs proleptic-Gregorian UTC conversions.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Broken-down UTC time of a Unix timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcParts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

pub fn utc_parts(unix: i64) -> UtcParts {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    UtcParts {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
    }
}

fn put2(out: &mut [u8], at: usize, v: u32) {
    out[at] = b'0' + (v / 10 % 10) as u8;
    out[at + 1] = b'0' + (v % 10) as u8;
}

/// `2024-01-15T10:30:00Z` for a binlog event timestamp (u32 seconds, so the
/// year always has four digits).
pub fn format_iso(unix: u32) -> [u8; 20] {
    let p = utc_parts(unix as i64);
    let mut out = *b"0000-00-00T00:00:00Z";
    let y = p.year as u32;
    put2(&mut out, 0, y / 100);
    put2(&mut out, 2, y % 100);
    put2(&mut out, 5, p.month);
    put2(&mut out, 8, p.day);
    put2(&mut out, 11, p.hour);
    put2(&mut out, 14, p.minute);
    put2(&mut out, 17, p.second);
    out
}

/// `format_iso` as a String, for messages and non-hot paths.
pub fn iso_string(unix: u32) -> String {
    String::from_utf8_lossy(&format_iso(unix)).into_owned()
}

/// Formats event timestamps, remembering the last one: consecutive events
/// nearly always share the same second, so the hot path is a compare.
#[derive(Debug)]
pub struct IsoCache {
    last_unix: u32,
    last: [u8; 20],
}

impl Default for IsoCache {
    fn default() -> Self {
        IsoCache {
            last_unix: 0,
            last: format_iso(0),
        }
    }
}

impl IsoCache {
    #[inline]
    pub fn get(&mut self, unix: u32) -> &[u8; 20] {
        if unix != self.last_unix {
            self.last_unix = unix;
            self.last = format_iso(unix);
        }
        &self.last
    }
}

/// An instant given on the command line, in microseconds since the epoch
/// (microseconds so that a fractional bound compares correctly with whole
/// event seconds).
pub type Micros = i64;

/// Parse a command-line date/time into microseconds since the Unix epoch.
///
/// Accepted: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.ffffff]]`, the same with
/// `T` between date and time, optionally followed by `Z`, `UTC`, or an offset
/// `+HH:MM` / `-HH:MM` / `+HHMM` / `+HH`. Without a zone the time is UTC
/// (binlog timestamps are UTC instants; the server's zone is not recorded).
pub fn parse_datetime(input: &str) -> Result<Micros, String> {
    let s = input.trim();
    let err = |why: &str| {
        format!("'{input}' is not a date/time ({why}); expected e.g. \"2024-01-15 10:30:00\", \"2024-01-15T10:30:00Z\" or \"2024-01-15T12:30:00+02:00\"")
    };
    let b = s.as_bytes();
    let mut p = Parser { b, i: 0 };
    let year = p
        .digits(4, 4)
        .ok_or_else(|| err("year must have 4 digits"))?;
    p.expect(b'-')
        .ok_or_else(|| err("missing '-' after the year"))?;
    let month = p.digits(1, 2).ok_or_else(|| err("bad month"))?;
    p.expect(b'-')
        .ok_or_else(|| err("missing '-' after the month"))?;
    let day = p.digits(1, 2).ok_or_else(|| err("bad day"))?;
    if !(1..=12).contains(&month) {
        return Err(err("month out of range"));
    }
    if day < 1 || day > u64::from(days_in_month(year as i64, month as u32)) {
        return Err(err("day out of range"));
    }
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0i64);
    if matches!(p.peek(), Some(b' ' | b'T' | b't')) {
        p.i += 1;
        while p.peek() == Some(b' ') {
            p.i += 1;
        }
        hour = p.digits(1, 2).ok_or_else(|| err("bad hour"))?;
        p.expect(b':')
            .ok_or_else(|| err("missing ':' after the hour"))?;
        minute = p.digits(1, 2).ok_or_else(|| err("bad minute"))?;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.digits(1, 2).ok_or_else(|| err("bad second"))?;
            if p.peek() == Some(b'.') {
                p.i += 1;
                let start = p.i;
                let frac = p.digits(1, 9).ok_or_else(|| err("bad fraction"))?;
                let n = p.i - start;
                micros = if n <= 6 {
                    frac as i64 * 10i64.pow(6 - n as u32)
                } else {
                    frac as i64 / 10i64.pow(n as u32 - 6)
                };
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err("time out of range"));
        }
    }
    while p.peek() == Some(b' ') {
        p.i += 1;
    }
    let rest = &s[p.i..];
    let offset_secs: i64 = match rest {
        "" | "Z" | "z" | "UTC" | "utc" => 0,
        _ => parse_offset(rest).ok_or_else(|| err("bad time zone; use Z or +HH:MM"))?,
    };
    let days = days_from_civil(year as i64, month as u32, day as u32);
    let secs =
        days * 86_400 + hour as i64 * 3600 + minute as i64 * 60 + second as i64 - offset_secs;
    Ok(secs * 1_000_000 + micros)
}

fn parse_offset(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let mut p = Parser { b, i: 1 };
    let h = p.digits(2, 2)?;
    let m = match p.peek() {
        None => 0,
        Some(b':') => {
            p.i += 1;
            p.digits(2, 2)?
        }
        Some(_) => p.digits(2, 2)?,
    };
    if p.i != b.len() || h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h as i64 * 3600 + m as i64 * 60))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    /// Between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + (c - b'0') as u64;
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso_string(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_string(1_705_314_600), "2024-01-15T10:30:00Z");
        assert_eq!(iso_string(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_string(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn days_round_trip_over_four_centuries() {
        for d in (-200_000..200_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        let want = 1_705_314_600_000_000;
        assert_eq!(parse_datetime("2024-01-15 10:30:00"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15T10:30:00"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15T10:30:00Z"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15 10:30"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15T12:30:00+02:00"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15T05:30:00-0500"), Ok(want));
        assert_eq!(parse_datetime("2024-01-15 10:30:00 UTC"), Ok(want));
        assert_eq!(
            parse_datetime("2024-01-15T10:30:00.25Z"),
            Ok(want + 250_000)
        );
        assert_eq!(
            parse_datetime("2024-01-15"),
            Ok(want - (10 * 3600 + 30 * 60) * 1_000_000)
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2023-02-29",
            "2024-01-15 25:00:00",
            "2024-01-15 10:30:00+2",
            "2024-01-15 10:30:00 CET",
            "24-01-15",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_datetime("2024-02-29").is_ok());
    }

    #[test]
    fn iso_cache_follows_changes() {
        let mut c = IsoCache::default();
        assert_eq!(c.get(0), b"1970-01-01T00:00:00Z");
        assert_eq!(c.get(0), b"1970-01-01T00:00:00Z");
        assert_eq!(c.get(61), b"1970-01-01T00:01:01Z");
    }
}
