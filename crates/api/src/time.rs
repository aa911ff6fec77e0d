//! Times on the wire: ISO 8601 UTC out; dates, date-times and epoch
//! seconds in; spans like `7d` for relative ranges.

/// `2024-01-15T10:30:00Z`.
pub fn format_iso8601(ts: u32) -> String {
    let secs = i64::from(ts);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A parsed time parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTime {
    /// Seconds since the epoch (UTC).
    pub seconds: i64,
    /// The text was a bare date: as an end bound it means "through that
    /// day", i.e. up to the next midnight.
    pub date_only: bool,
}

/// Accepts `2024-01-01`, `2024-01-01T10:00:00Z`, `2024-01-01 10:00:00`
/// (UTC when no offset is given), fractions of a second (dropped), offsets
/// `+08:00`/`+0800`/`-05`, and epoch seconds (`1704103200`). Eight bare
/// digits are refused: `20240115` is a date written without dashes far more
/// often than a moment of 1970.
pub fn parse_time(text: &str) -> Option<ParsedTime> {
    let s = text.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() != 8 {
        return s.parse::<i64>().ok().map(|seconds| ParsedTime {
            seconds,
            date_only: false,
        });
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = days_from_civil(year, month, day) * 86_400;
    if b.len() == 10 {
        return Some(ParsedTime {
            seconds: date,
            date_only: true,
        });
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = num(11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = num(14, 2)?;
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = num(17, 2)?;
        i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    // 60 allows a leap second, taken as the next second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = parse_offset(b.get(i..)?)?;
    Some(ParsedTime {
        seconds: date + hour * 3600 + minute * 60 + second - offset,
        date_only: false,
    })
}

/// `Z`, `+08:00`, `+0800`, `-05`, or nothing (UTC); seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let digits: Vec<u8> = rest.iter().copied().filter(|c| *c != b':').collect();
            let colons = rest.len() - digits.len();
            if colons > 1 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let (h, m) = match digits.len() {
                2 => (&digits[..2], &b"00"[..]),
                4 => (&digits[..2], &digits[2..]),
                _ => return None,
            };
            let h: i64 = std::str::from_utf8(h).ok()?.parse().ok()?;
            let m: i64 = std::str::from_utf8(m).ok()?.parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let east = h * 3600 + m * 60;
            Some(if *sign == b'-' { -east } else { east })
        }
        _ => None,
    }
}

/// `90s`, `30m`, `24h`, `7d`, `2w`, or bare seconds; whole numbers only.
pub fn parse_span(text: &str) -> Option<u64> {
    let s = text.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    let n: u64 = num.parse().ok()?;
    let scale = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> Option<i64> {
        parse_time(s).map(|t| t.seconds)
    }

    #[test]
    fn formats_epoch_as_utc_iso8601() {
        assert_eq!(format_iso8601(1_705_314_600), "2024-01-15T10:30:00Z");
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn parses_dates_datetimes_offsets_and_epoch_seconds() {
        assert_eq!(secs("2024-01-15"), Some(1_705_276_800));
        assert!(parse_time("2024-01-15").unwrap().date_only);
        assert_eq!(secs("2024-01-15T10:30:00Z"), Some(1_705_314_600));
        assert_eq!(secs("2024-01-15 10:30:00"), Some(1_705_314_600));
        assert_eq!(secs("2024-01-15T10:30"), Some(1_705_314_600));
        assert_eq!(secs("2024-01-15T10:30:00.123456Z"), Some(1_705_314_600));
        assert_eq!(secs("2024-01-15T18:30:00+08:00"), Some(1_705_314_600));
        assert_eq!(secs("2024-01-15T05:30:00-0500"), Some(1_705_314_600));
        assert_eq!(secs("1705314600"), Some(1_705_314_600));
        assert_eq!(secs("2024-02-29"), Some(1_709_164_800));
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2023-02-29",
            "2024-01-15T25:00:00Z",
            "2024-01-15T10:30:00+8",
            "2024-01-15X10:30",
            "2024-1-5",
            "2024-01-15T10:30:00.Z",
            "20240115",
            "-5",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn spans_parse_with_units() {
        assert_eq!(parse_span("7d"), Some(604_800));
        assert_eq!(parse_span("24h"), Some(86_400));
        assert_eq!(parse_span("30m"), Some(1_800));
        assert_eq!(parse_span("2w"), Some(1_209_600));
        assert_eq!(parse_span("90"), Some(90));
        assert_eq!(parse_span("7 days"), None);
        assert_eq!(parse_span("d"), None);
        assert_eq!(parse_span("99999999999999999999d"), None);
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        for days in [-719_468, -1, 0, 11_016, 19_737, 50_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
