//! DECIMAL/NEWDECIMAL: exact decoding to text, never through floating point.
//!
//! The server's binary format (`decimal2bin` in strings/decimal.cc): the
//! integer part and the fraction are each split into groups of nine decimal
//! digits stored as 4-byte big-endian words; a leading (integer) or trailing
//! (fraction) partial group of 1-8 digits takes 1-4 bytes
//! (`DIG2BYTES`). The whole value is stored with the top bit of the first
//! byte flipped, and negative numbers additionally have every byte inverted,
//! so that the bytes sort like the numbers.
//!
//! Text is printed the way MySQL prints the column: leading zeros of the
//! integer part dropped (but at least "0"), and exactly `scale` fraction
//! digits, e.g. DECIMAL(10,4) -10.55 -> "-10.5500".

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::value::DecimalText;

/// Bytes used by a partial group of `n` digits.
const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];
const DIGITS_PER_WORD: usize = 9;

/// Largest precision MySQL and MariaDB allow.
pub const MAX_PRECISION: u8 = 65;
/// Largest scale (MariaDB allows 38, MySQL 30).
pub const MAX_SCALE: u8 = 38;

/// The binary size of a DECIMAL(precision, scale) value.
pub fn decimal_binary_size(precision: u8, scale: u8) -> Result<usize, BodyError> {
    if precision > MAX_PRECISION || scale > MAX_SCALE || scale > precision {
        return Err(BodyError::Invalid(format!(
            "invalid DECIMAL({precision},{scale}) metadata"
        )));
    }
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    Ok((intg / DIGITS_PER_WORD) * 4
        + DIG2BYTES[intg % DIGITS_PER_WORD]
        + (frac / DIGITS_PER_WORD) * 4
        + DIG2BYTES[frac % DIGITS_PER_WORD])
}

/// Longest text of a DECIMAL: sign, 65 digits and the point.
const MAX_TEXT: usize = MAX_PRECISION as usize + 2;

/// "00" "01" … "99": two digits per lookup.
static DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Read one NEWDECIMAL value of DECIMAL(precision, scale) from `r`.
pub fn decode_decimal(
    r: &mut ByteReader<'_>,
    precision: u8,
    scale: u8,
) -> Result<DecimalText, BodyError> {
    let size = decimal_binary_size(precision, scale)?;
    let bytes = r.take(size)?;
    let mut text = [0u8; MAX_TEXT];
    let (start, end) = format_sized(&mut text, bytes, precision, scale)?;
    // Only ASCII digits, '-' and '.' were written. Texts up to 24 bytes
    // (DECIMAL(22,x) and below) are stored inline: no allocation per value.
    // (`charset::utf8` checks ASCII a word at a time: `from_utf8` cost
    // more than the digits on streams of one-row transactions.)
    crate::value::charset::utf8(&text[start..end])
        .map(DecimalText::new)
        .ok_or_else(|| BodyError::Invalid("decimal text is not ASCII".into()))
}

/// Decode a binary decimal held in `bytes` (which may be longer), returning
/// the text and the number of bytes used. Used for JSON opaque decimals.
pub fn decode_decimal_bytes(
    bytes: &[u8],
    precision: u8,
    scale: u8,
) -> Result<(String, usize), BodyError> {
    let mut r = ByteReader::new(bytes);
    let text = decode_decimal(&mut r, precision, scale)?;
    Ok((text.into_string(), r.position()))
}

/// Append the text of the binary decimal `bytes` (exactly
/// [`decimal_binary_size`] long) to `out`.
pub fn write_decimal_digits(
    out: &mut Vec<u8>,
    bytes: &[u8],
    precision: u8,
    scale: u8,
) -> Result<(), BodyError> {
    let size = decimal_binary_size(precision, scale)?;
    if bytes.len() != size {
        return Err(BodyError::Invalid(format!(
            "DECIMAL({precision},{scale}) needs {size} bytes, got {}",
            bytes.len()
        )));
    }
    let mut text = [0u8; MAX_TEXT];
    let (start, end) = format_sized(&mut text, bytes, precision, scale)?;
    out.extend_from_slice(&text[start..end]);
    Ok(())
}

/// Write the text of the binary decimal `bytes`, which callers have checked
/// is [`decimal_binary_size`] long, into `text`; returns where it starts
/// and ends. Digits go in place, so nothing is copied afterwards:
/// `text[0]` is room for the sign, then every integer digit (zero-padded
/// groups, two digits per step; a single "0" when there are none), the
/// point and every fraction digit; the text starts at the first
/// significant integer digit (or its sign).
fn format_sized(
    text: &mut [u8; MAX_TEXT],
    bytes: &[u8],
    precision: u8,
    scale: u8,
) -> Result<(usize, usize), BodyError> {
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    if intg <= 18 && frac <= DIGITS_PER_WORD {
        if let Some(end) = format_small(text, bytes, intg, frac) {
            return Ok((0, end));
        }
        // A corrupt group: the general path names it.
    }
    format_groups(text, bytes, precision, scale)
}

/// [`format_sized`] for every precision, group by group.
fn format_groups(
    text: &mut [u8; MAX_TEXT],
    bytes: &[u8],
    precision: u8,
    scale: u8,
) -> Result<(usize, usize), BodyError> {
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    let Some(&first) = bytes.first() else {
        text[1] = b'0';
        return Ok((1, 2));
    };
    // The sign bit is stored flipped; negative values are also inverted.
    let negative = first & 0x80 == 0;
    let corrupt = |(value, n_digits): (u32, usize)| {
        BodyError::Invalid(format!(
            "corrupt DECIMAL({precision},{scale}): group value {value} has more than {n_digits} digits"
        ))
    };
    let mut groups = Groups {
        bytes,
        pos: 0,
        negative,
        text,
        at: 1,
        nonzero: false,
    };
    let lead = intg % DIGITS_PER_WORD;
    if lead > 0 {
        groups.next(lead).map_err(corrupt)?;
    }
    for _ in 0..intg / DIGITS_PER_WORD {
        groups.next(DIGITS_PER_WORD).map_err(corrupt)?;
    }
    if intg == 0 {
        groups.text[1] = b'0';
        groups.at = 2;
    }
    let int_end = groups.at;
    if frac > 0 {
        groups.text[int_end] = b'.';
        groups.at += 1;
        for _ in 0..frac / DIGITS_PER_WORD {
            groups.next(DIGITS_PER_WORD).map_err(corrupt)?;
        }
        let tail = frac % DIGITS_PER_WORD;
        if tail > 0 {
            groups.next(tail).map_err(corrupt)?;
        }
    }
    let (end, nonzero) = (groups.at, groups.nonzero);
    // Leading zeros of the integer part go, but its last digit stays.
    let significant = text[1..int_end - 1]
        .iter()
        .position(|&d| d != b'0')
        .map_or(int_end - 1, |i| i + 1);
    // A stored negative zero prints without its sign, as MySQL prints zero.
    if negative && nonzero {
        text[significant - 1] = b'-';
        return Ok((significant - 1, end));
    }
    Ok((significant, end))
}

/// The usual DECIMAL (at most 18 integer and 9 fraction digits, e.g.
/// DECIMAL(12,2)) printed from machine integers: the integer part as one
/// u64, so no leading zeros to write and then skip. The text starts at
/// `text[0]`; returns its end, or None when a group is corrupt.
#[inline]
fn format_small(
    text: &mut [u8; MAX_TEXT],
    bytes: &[u8],
    intg: usize,
    frac: usize,
) -> Option<usize> {
    let negative = bytes.first().is_some_and(|&b| b & 0x80 == 0);
    let invert = if negative { 0xFF } else { 0 };
    let mut pos = 0;
    let mut group = |n_digits: usize| -> Option<u32> {
        let n_bytes = if n_digits == DIGITS_PER_WORD {
            4
        } else {
            DIG2BYTES[n_digits]
        };
        let mut value = 0u32;
        for &b in bytes.get(pos..pos + n_bytes)? {
            value = value << 8 | (b ^ invert) as u32;
        }
        if pos == 0 {
            // Undo the flipped sign bit of the first byte.
            value ^= 0x80 << (8 * (n_bytes - 1));
        }
        pos += n_bytes;
        (value < POW10[n_digits]).then_some(value)
    };
    let mut int = 0u64;
    let lead = intg % DIGITS_PER_WORD;
    if lead > 0 {
        int = group(lead)? as u64;
    }
    for _ in 0..intg / DIGITS_PER_WORD {
        int = int * POW10[DIGITS_PER_WORD] as u64 + group(DIGITS_PER_WORD)? as u64;
    }
    let fraction = if frac > 0 { group(frac)? } else { 0 };
    let mut at = 0;
    // A stored negative zero prints without its sign, as MySQL prints zero.
    if negative && (int != 0 || fraction != 0) {
        text[0] = b'-';
        at = 1;
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(int).as_bytes();
    text[at..at + digits.len()].copy_from_slice(digits);
    at += digits.len();
    if frac > 0 {
        text[at] = b'.';
        write_group(&mut text[at + 1..at + 1 + frac], fraction);
        at += 1 + frac;
    }
    Some(at)
}

/// Reads the digit groups of a binary decimal in order and writes their
/// digits into the text.
struct Groups<'b, 't> {
    bytes: &'b [u8],
    /// Next byte to read.
    pos: usize,
    /// Stored inverted (and its sign bit flipped the other way).
    negative: bool,
    text: &'t mut [u8; MAX_TEXT],
    /// Next digit to write.
    at: usize,
    nonzero: bool,
}

impl Groups<'_, '_> {
    /// The next group of `n_digits` digits; `Err((value, n_digits))` when
    /// the stored value has more digits than the group holds.
    #[inline]
    fn next(&mut self, n_digits: usize) -> Result<(), (u32, usize)> {
        let n_bytes = if n_digits == DIGITS_PER_WORD {
            4
        } else {
            DIG2BYTES[n_digits]
        };
        let b = &self.bytes[self.pos..self.pos + n_bytes];
        let raw = match *b {
            [b0] => b0 as u32,
            [b0, b1] => u16::from_be_bytes([b0, b1]) as u32,
            [b0, b1, b2] => u32::from_be_bytes([0, b0, b1, b2]),
            [b0, b1, b2, b3] => u32::from_be_bytes([b0, b1, b2, b3]),
            _ => 0,
        };
        let all_ones = u32::MAX >> (32 - 8 * n_bytes as u32);
        let mut value = if self.negative { raw ^ all_ones } else { raw };
        if self.pos == 0 {
            // Undo the flipped sign bit of the first byte.
            value ^= 0x80 << (8 * (n_bytes - 1));
        }
        self.pos += n_bytes;
        if value >= POW10[n_digits] {
            return Err((value, n_digits));
        }
        self.nonzero |= value != 0;
        write_group(&mut self.text[self.at..self.at + n_digits], value);
        self.at += n_digits;
        Ok(())
    }
}

/// `value` as exactly `dst.len()` (at most 9) decimal digits.
#[inline]
fn write_group(dst: &mut [u8], mut value: u32) {
    let mut i = dst.len();
    while i >= 2 {
        i -= 2;
        let pair = (value % 100) as usize * 2;
        value /= 100;
        dst[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if i == 1 {
        dst[0] = b'0' + (value % 10) as u8;
    }
}

/// Old DECIMAL (type 0, tables created before MySQL 5.0.3): the value is its
/// ASCII text, right-aligned in `bytes` with leading spaces. Returns the text
/// without the padding, as the server's `Field_decimal::val_str` does.
pub fn decode_old_decimal(bytes: &[u8]) -> Result<DecimalText, BodyError> {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let text = &bytes[start..];
    let body = match text.first() {
        Some(b'-') | Some(b'+') => &text[1..],
        _ => text,
    };
    let valid = !body.is_empty()
        && body.iter().any(u8::is_ascii_digit)
        && body.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && body.iter().filter(|&&b| b == b'.').count() <= 1;
    if !valid {
        return Err(BodyError::Invalid(format!(
            "old DECIMAL value is not a number: {:?}",
            String::from_utf8_lossy(bytes)
        )));
    }
    // Validated ASCII above.
    Ok(text.iter().map(|&b| b as char).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], p: u8, s: u8) -> String {
        let mut r = ByteReader::new(bytes);
        let v = decode_decimal(&mut r, p, s).unwrap().into_string();
        assert!(
            r.is_empty(),
            "DECIMAL({p},{s}) left {} bytes",
            r.remaining()
        );
        v
    }

    /// Encode like the server's decimal2bin, from a plain decimal string
    /// (test helper; independent of the decoder's code path).
    fn encode(text: &str, p: u8, s: u8) -> Vec<u8> {
        let (neg, t) = match text.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, text),
        };
        let (ip, fp) = t.split_once('.').unwrap_or((t, ""));
        let ip = ip.trim_start_matches('0');
        let intg = (p - s) as usize;
        let frac = s as usize;
        let ip = format!("{ip:0>intg$}");
        let fp = format!("{fp:0<frac$}");
        assert_eq!(ip.len(), intg, "integer part too long for test");
        let mut out = Vec::new();
        let mut push = |digits: &str, n_bytes: usize| {
            let v: u32 = if digits.is_empty() {
                0
            } else {
                digits.parse().unwrap()
            };
            for i in (0..n_bytes).rev() {
                out.push((v >> (8 * i)) as u8);
            }
        };
        let lead = intg % 9;
        push(&ip[..lead], DIG2BYTES[lead]);
        for w in 0..intg / 9 {
            push(&ip[lead + 9 * w..lead + 9 * w + 9], 4);
        }
        for w in 0..frac / 9 {
            push(&fp[9 * w..9 * w + 9], 4);
        }
        let tail = frac % 9;
        push(&fp[frac - tail..], DIG2BYTES[tail]);
        out[0] ^= 0x80;
        if neg {
            for b in &mut out {
                *b ^= 0xFF;
            }
        }
        out
    }

    #[test]
    fn binary_sizes_match_the_server() {
        assert_eq!(decimal_binary_size(4, 2).unwrap(), 2);
        assert_eq!(decimal_binary_size(10, 2).unwrap(), 5);
        assert_eq!(decimal_binary_size(14, 4).unwrap(), 7);
        assert_eq!(decimal_binary_size(30, 25).unwrap(), 15);
        assert_eq!(decimal_binary_size(65, 30).unwrap(), 30);
        assert_eq!(decimal_binary_size(18, 9).unwrap(), 8);
        assert!(decimal_binary_size(66, 0).is_err());
        assert!(decimal_binary_size(5, 6).is_err());
    }

    #[test]
    fn known_server_bytes() {
        // DECIMAL(14,4) 1234567890.1234 from the MySQL decimal.cc comment:
        // 81 0D FB 38 D2 04 D2.
        assert_eq!(
            dec(&[0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2], 14, 4),
            "1234567890.1234"
        );
        // The same negated: every byte inverted.
        assert_eq!(
            dec(&[0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D], 14, 4),
            "-1234567890.1234"
        );
    }

    #[test]
    fn go_mysql_decode_decimal_values() {
        // (precision, scale, stored value, expected text) from go-mysql's
        // TestDecodeDecimal / the decodedecimal table (ddsql.sql).
        let cases: &[(u8, u8, &str, &str)] = &[
            (4, 2, "-10.55", "-10.55"),
            (5, 0, "-11", "-11"),
            (7, 3, "-10.550", "-10.550"),
            (10, 2, "-10.55", "-10.55"),
            (10, 3, "-10.550", "-10.550"),
            (13, 2, "-10.55", "-10.55"),
            (15, 14, "-9.99999999999999", "-9.99999999999999"),
            (20, 10, "-10.5500000000", "-10.5500000000"),
            (30, 5, "-10.55000", "-10.55000"),
            (
                30,
                20,
                "-10.55000000000000000000",
                "-10.55000000000000000000",
            ),
            (
                30,
                25,
                "-10.5500000000000000000000000",
                "-10.5500000000000000000000000",
            ),
            (4, 2, "0.01", "0.01"),
            (15, 14, "0.01234567890123", "0.01234567890123"),
            (
                30,
                25,
                "0.0123456789012345678912345",
                "0.0123456789012345678912345",
            ),
            (4, 2, "99.99", "99.99"),
            (13, 2, "12345.00", "12345.00"),
            (
                30,
                25,
                "12345.0000000000000000000000000",
                "12345.0000000000000000000000000",
            ),
            (4, 2, "-99.99", "-99.99"),
            (20, 10, "-123.4500000000", "-123.4500000000"),
            (4, 2, "0.00", "0.00"),
            (5, 0, "0", "0"),
            (30, 20, "-0.00000001234500009877", "-0.00000001234500009877"),
            (20, 10, "9999999999.9999999999", "9999999999.9999999999"),
            (30, 5, "1234500009876.50000", "1234500009876.50000"),
            (
                30,
                20,
                "9999999999.99999999999999999999",
                "9999999999.99999999999999999999",
            ),
            (13, 2, "99999999999.99", "99999999999.99"),
            (13, 2, "111111111.11", "111111111.11"),
            (13, 2, "-3699.01", "-3699.01"),
            (5, 0, "-3699", "-3699"),
            (13, 2, "-1948.14", "-1948.14"),
        ];
        for &(p, s, stored, expected) in cases {
            let bytes = encode(stored, p, s);
            assert_eq!(bytes.len(), decimal_binary_size(p, s).unwrap());
            assert_eq!(dec(&bytes, p, s), expected, "DECIMAL({p},{s}) {stored}");
        }
    }

    #[test]
    fn leading_zero_groups_are_dropped_but_one_zero_stays() {
        assert_eq!(dec(&encode("0.5", 20, 1), 20, 1), "0.5");
        assert_eq!(dec(&encode("7", 30, 0), 30, 0), "7");
        assert_eq!(dec(&encode("-0.1234", 4, 4), 4, 4), "-0.1234");
        assert_eq!(dec(&encode("0.1234", 4, 4), 4, 4), "0.1234");
    }

    #[test]
    fn extreme_precisions() {
        let max = "9".repeat(35) + "." + &"9".repeat(30);
        assert_eq!(dec(&encode(&max, 65, 30), 65, 30), max);
        let neg = format!("-{max}");
        assert_eq!(dec(&encode(&neg, 65, 30), 65, 30), neg);
        let int65 = "1".repeat(65);
        assert_eq!(dec(&encode(&int65, 65, 0), 65, 0), int65);
        // DECIMAL(0,0) occupies no bytes.
        assert_eq!(dec(&[], 0, 0), "0");
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        // 0.00 stored with the negative encoding (bytes inverted).
        let mut b = encode("0.00", 4, 2);
        for x in &mut b {
            *x ^= 0xFF;
        }
        assert_eq!(dec(&b, 4, 2), "0.00");
    }

    #[test]
    fn corrupt_groups_and_short_input_are_errors() {
        // A 4-byte word above 999999999.
        let bad = [0x80 | 0x3B, 0x9A, 0xCA, 0x00, 0x00];
        let mut r = ByteReader::new(&bad);
        assert!(decode_decimal(&mut r, 10, 0).is_err());
        // A one-byte group of 2 digits holds at most 99.
        let mut r = ByteReader::new(&[0x80 | 99]);
        assert_eq!(decode_decimal(&mut r, 2, 0).unwrap(), "99");
        let mut r = ByteReader::new(&[0x80 | 100]);
        assert!(decode_decimal(&mut r, 2, 0).is_err());
        let mut r = ByteReader::new(&[0x80 | 0x7F, 0x00]);
        assert!(decode_decimal(&mut r, 4, 2).is_err());
        let mut r = ByteReader::new(&[0x80]);
        assert!(matches!(
            decode_decimal(&mut r, 10, 2),
            Err(BodyError::Short { .. })
        ));
    }

    /// The integer fast path must print exactly what the group-by-group
    /// path prints, and refuse exactly the values it calls corrupt.
    #[test]
    fn small_decimal_fast_path_matches_the_general_path() {
        // xorshift: deterministic, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for precision in 1..=27u8 {
            for scale in 0..=precision.min(9) {
                let intg = (precision - scale) as usize;
                if intg > 18 {
                    continue;
                }
                let size = decimal_binary_size(precision, scale).unwrap();
                for round in 0..400 {
                    let mut bytes: Vec<u8> = (0..size).map(|_| next() as u8).collect();
                    // Half the rounds: a valid value, via the test encoder.
                    if round % 2 == 0 {
                        let digits = |n: usize, r: u64| {
                            let m = 10u64.pow(n.min(18) as u32);
                            format!("{:0n$}", r % m.max(1), n = n)
                        };
                        let int = if intg == 0 {
                            String::new()
                        } else {
                            digits(intg, next())
                        };
                        let fr = digits(scale as usize, next());
                        let sign = if next() % 2 == 0 { "-" } else { "" };
                        let text = if scale == 0 {
                            format!("{sign}{int}")
                        } else {
                            format!("{sign}{int}.{fr}")
                        };
                        bytes = encode(&text, precision, scale);
                    }
                    let mut fast = [0u8; MAX_TEXT];
                    let mut slow = [0u8; MAX_TEXT];
                    let got = format_small(&mut fast, &bytes, intg, scale as usize);
                    let want = format_groups(&mut slow, &bytes, precision, scale);
                    match (got, want) {
                        (Some(end), Ok((s, e))) => {
                            assert_eq!(
                                &fast[..end],
                                &slow[s..e],
                                "DECIMAL({precision},{scale}) bytes {bytes:02x?}"
                            );
                            checked += 1;
                        }
                        (None, Err(_)) => {}
                        (got, want) => panic!(
                            "DECIMAL({precision},{scale}) bytes {bytes:02x?}: fast {got:?}, general {want:?}"
                        ),
                    }
                }
            }
        }
        assert!(checked > 10_000, "only {checked} valid values compared");
    }

    #[test]
    fn old_decimal_text() {
        assert_eq!(decode_old_decimal(b"  -10.50").unwrap(), "-10.50");
        assert_eq!(decode_old_decimal(b"0012").unwrap(), "0012");
        assert!(decode_old_decimal(b"   ").is_err());
        assert!(decode_old_decimal(b"1.2.3").is_err());
        assert!(decode_old_decimal(b"-").is_err());
    }
}
