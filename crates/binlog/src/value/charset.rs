//! Decoding text by the column's collation id.
//!
//! A TABLE_MAP (or a schema) gives each string column a collation id; the id
//! determines the character set, and the character set how the bytes become
//! text. Text that is not valid in its character set is never "repaired"
//! with replacement characters: the caller gets `None` and keeps the bytes.
//!
//! UTF-8 text is borrowed from the event buffer (validation only, no copy);
//! other character sets are converted with `encoding_rs`, which also borrows
//! when the bytes are plain ASCII.

use std::borrow::Cow;

use encoding_rs::Encoding;

use crate::value::Value;

/// How a character set's bytes map to text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// utf8mb3 and utf8mb4 (utf8mb3 is a subset of UTF-8).
    Utf8,
    /// MySQL `latin1`, which is really Windows-1252 (0x80-0x9F are € ‚ ƒ …,
    /// the five undefined bytes map to the C1 controls, as in MySQL).
    Latin1,
    /// 7-bit ASCII; bytes >= 0x80 are invalid.
    Ascii,
    /// The `binary` character set: bytes, not text.
    Binary,
    /// gbk (and gb2312, a subset).
    Gbk,
    Gb18030,
    /// UCS-2, big-endian (MySQL's byte order for ucs2).
    Ucs2,
    /// UTF-16, big-endian.
    Utf16,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-32, big-endian.
    Utf32,
    /// Another character set `encoding_rs` can decode (cp1250, koi8r, sjis, …).
    /// These use the WHATWG tables, which agree with MySQL's for all
    /// characters in common use; a few vendor-specific code points of the
    /// CJK legacy sets may differ.
    Other(&'static Encoding),
    /// No collation known, or one whose character set we cannot decode:
    /// accept the bytes as text only if they are valid UTF-8.
    Unknown,
}

/// The encoding of a collation id, covering MySQL 5.x-9.x and MariaDB
/// 10.x-11.x ids (including MariaDB's NO PAD ids 1024+ and UCA-14.0.0 ids
/// 2048-4095).
#[inline]
pub fn encoding_for_collation(id: u16) -> TextEncoding {
    use TextEncoding as E;
    // Nearly every text column is in one of the usual UTF-8 collations:
    // answer those before walking the tables below.
    if is_usual_utf8(id) {
        return E::Utf8;
    }
    match id {
        // MariaDB UCA-14.0.0 collations: 2048 + (charset << 8) + flags, with
        // charset 0 utf8mb3, 1 utf8mb4, 2 ucs2, 3 utf16, 4 utf32.
        2048..=2559 => E::Utf8,
        2560..=2815 => E::Ucs2,
        2816..=3071 => E::Utf16,
        3072..=3327 => E::Utf32,
        // MariaDB NO PAD collations are the PAD SPACE id + 1024.
        1025..=2047 => base_collation(id - 1024),
        _ => base_collation(id),
    }
}

fn base_collation(id: u16) -> TextEncoding {
    use encoding_rs as enc;
    use TextEncoding as E;
    match id {
        // utf8mb3: general, bin, tolower, unicode/language, mysql500, and
        // MariaDB's croatian_mysql561/myanmar/thai_520_w2.
        33 | 76 | 83 | 192..=215 | 223 | 576..=578 => E::Utf8,
        // utf8mb4: general, bin, unicode/language, MySQL 8 0900 family, and
        // MariaDB's 608-610.
        45 | 46 | 224..=247 | 255..=323 | 608..=610 => E::Utf8,
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => E::Latin1,
        11 | 65 => E::Ascii,
        63 => E::Binary,
        24 | 28 | 86 | 87 => E::Gbk,
        248..=250 => E::Gb18030,
        35 | 90 | 128..=151 | 159 | 640..=642 => E::Ucs2,
        54 | 55 | 101..=124 | 672..=674 => E::Utf16,
        56 | 62 => E::Utf16Le,
        60 | 61 | 160..=183 | 736..=738 => E::Utf32,
        // Single-byte and legacy multi-byte sets encoding_rs knows.
        2 | 9 | 21 | 27 | 77 => E::Other(enc::ISO_8859_2),
        7 | 74 => E::Other(enc::KOI8_R),
        22 | 75 => E::Other(enc::KOI8_U),
        14 | 23 | 50 | 51 | 52 => E::Other(enc::WINDOWS_1251),
        26 | 34 | 44 | 66 | 99 => E::Other(enc::WINDOWS_1250),
        57 | 67 => E::Other(enc::WINDOWS_1256),
        29 | 58 | 59 => E::Other(enc::WINDOWS_1257),
        16 | 71 => E::Other(enc::ISO_8859_8),
        25 | 70 => E::Other(enc::ISO_8859_7),
        20 | 41 | 42 | 79 => E::Other(enc::ISO_8859_13),
        // latin5 is ISO-8859-9; WHATWG folds it into windows-1254, which only
        // differs in 0x80-0x9F.
        30 | 78 => E::Other(enc::WINDOWS_1254),
        36 | 68 => E::Other(enc::IBM866),
        39 | 53 => E::Other(enc::MACINTOSH),
        // tis620 is a subset of windows-874.
        18 | 89 => E::Other(enc::WINDOWS_874),
        1 | 84 => E::Other(enc::BIG5),
        13 | 88 | 95 | 96 => E::Other(enc::SHIFT_JIS),
        12 | 91 | 97 | 98 => E::Other(enc::EUC_JP),
        19 | 85 => E::Other(enc::EUC_KR),
        _ => E::Unknown,
    }
}

/// The encoding of an optional collation id (absent = [`TextEncoding::Unknown`]).
#[inline]
pub fn encoding_of(charset: Option<u16>) -> TextEncoding {
    match charset {
        Some(id) => encoding_for_collation(id),
        None => TextEncoding::Unknown,
    }
}

/// Decode `bytes` as text in collation `charset`. `None` when the bytes are
/// not valid text in that character set, or the character set is `binary`.
#[inline]
pub fn decode_str(bytes: &[u8], charset: Option<u16>) -> Option<Cow<'_, str>> {
    decode_with(bytes, encoding_of(charset))
}

/// Decode `bytes` with a known encoding.
pub fn decode_with(bytes: &[u8], encoding: TextEncoding) -> Option<Cow<'_, str>> {
    use TextEncoding as E;
    match encoding {
        E::Utf8 | E::Unknown => utf8(bytes).map(Cow::Borrowed),
        E::Ascii => {
            if bytes.is_ascii() {
                // ASCII is valid UTF-8.
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            } else {
                None
            }
        }
        E::Binary => None,
        E::Latin1 => decode_legacy(bytes, encoding_rs::WINDOWS_1252),
        E::Gbk => decode_legacy(bytes, encoding_rs::GBK),
        E::Gb18030 => decode_legacy(bytes, encoding_rs::GB18030),
        E::Other(enc) => decode_legacy(bytes, enc),
        E::Ucs2 => decode_utf16(bytes, true, false),
        E::Utf16 => decode_utf16(bytes, true, true),
        E::Utf16Le => decode_utf16(bytes, false, true),
        E::Utf32 => decode_utf32(bytes),
    }
}

/// A column value from string bytes: `Text` when they decode, else `Bytes`.
#[inline]
pub fn decode_text(bytes: &[u8], charset: Option<u16>) -> Value<'_> {
    match decode_str(bytes, charset) {
        Some(text) => Value::Text(text),
        None => Value::Bytes(Cow::Borrowed(bytes)),
    }
}

/// `bytes` as UTF-8 text, `None` if invalid.
///
/// Column values are short and mostly ASCII. `std::str::from_utf8` walks
/// short, unaligned inputs a byte at a time and was the largest single
/// cost of decoding text columns; `is_ascii` reads whole words.
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

/// The utf8mb4/utf8mb3 collations nearly every text column uses (a subset
/// of those [`encoding_for_collation`] maps to UTF-8).
#[inline(always)]
pub(crate) fn is_usual_utf8(id: u16) -> bool {
    matches!(id, 45 | 46 | 224 | 255 | 33 | 83 | 192)
}

fn decode_legacy<'a>(bytes: &'a [u8], enc: &'static Encoding) -> Option<Cow<'a, str>> {
    if bytes.is_ascii() {
        // All these encodings are ASCII-compatible.
        return std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    }
    enc.decode_without_bom_handling_and_without_replacement(bytes)
}

fn decode_utf16(
    bytes: &[u8],
    big_endian: bool,
    allow_surrogates: bool,
) -> Option<Cow<'static, str>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut s = String::with_capacity(bytes.len());
    for ch in char::decode_utf16(units) {
        let ch = ch.ok()?;
        // UCS-2 has no surrogate pairs: a pair there is two invalid units.
        if !allow_surrogates && (ch as u32) > 0xFFFF {
            return None;
        }
        s.push(ch);
    }
    Some(Cow::Owned(s))
}

fn decode_utf32(bytes: &[u8]) -> Option<Cow<'static, str>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut s = String::with_capacity(bytes.len());
    for c in bytes.chunks_exact(4) {
        s.push(char::from_u32(u32::from_be_bytes([
            c[0], c[1], c[2], c[3],
        ]))?);
    }
    Some(Cow::Owned(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8], cs: u16) -> Option<String> {
        decode_str(bytes, Some(cs)).map(|c| c.into_owned())
    }

    #[test]
    fn ascii_fast_path_agrees_with_full_validation() {
        let cases: &[&[u8]] = &[
            b"",
            b"a",
            b"plain ascii longer than one word",
            "caf\u{e9} at the end of a long ascii run".as_bytes(),
            b"\x7f\x00\x01 controls",
            b"invalid \xff after ascii words......",
            b"\xc3",
            b"truncated \xe2\x82",
        ];
        for &bytes in cases {
            assert_eq!(utf8(bytes), std::str::from_utf8(bytes).ok(), "{bytes:?}");
        }
    }

    #[test]
    fn utf8mb4_emoji_is_borrowed_text() {
        let bytes = "héllo 😀".as_bytes();
        for cs in [45, 46, 224, 255, 309, 2304, 1069] {
            match decode_str(bytes, Some(cs)) {
                Some(Cow::Borrowed(s)) => assert_eq!(s, "héllo 😀"),
                other => panic!("collation {cs}: {other:?}"),
            }
        }
    }

    #[test]
    fn utf8mb3_collations_decode_utf8() {
        for cs in [33, 83, 76, 192, 215, 223, 576, 1057, 1107, 2048] {
            assert_eq!(
                text("ñ€".as_bytes(), cs).as_deref(),
                Some("ñ€"),
                "collation {cs}"
            );
        }
    }

    #[test]
    fn latin1_is_cp1252() {
        // é in latin1, and 0x80 is the euro sign in MySQL's latin1 (cp1252).
        for cs in [5, 8, 15, 31, 47, 48, 49, 94, 1032, 1071] {
            assert_eq!(text(&[b'c', b'a', b'f', 0xE9], cs).as_deref(), Some("café"));
            assert_eq!(text(&[0x80], cs).as_deref(), Some("€"));
        }
        // The undefined cp1252 bytes are C1 controls, as in MySQL.
        assert_eq!(text(&[0x81], 8).as_deref(), Some("\u{81}"));
    }

    #[test]
    fn gbk_and_gb18030() {
        // 中文 in GBK.
        let gbk = [0xD6, 0xD0, 0xCE, 0xC4];
        assert_eq!(text(&gbk, 28).as_deref(), Some("中文"));
        assert_eq!(text(&gbk, 87).as_deref(), Some("中文"));
        assert_eq!(text(&gbk, 248).as_deref(), Some("中文"));
        // 😀 is a four-byte sequence in GB18030.
        assert_eq!(text(&[0x94, 0x39, 0xFC, 0x36], 249).as_deref(), Some("😀"));
        // A lone lead byte is not text.
        assert_eq!(text(&[0xD6], 28), None);
    }

    #[test]
    fn invalid_bytes_are_not_text() {
        assert_eq!(text(&[0xFF, 0xFE], 45), None);
        assert_eq!(text(&[0xC3], 33), None);
        assert_eq!(text(&[0x80], 11), None);
        assert_eq!(text(b"abc", 63), None);
        assert!(matches!(
            decode_text(&[0xC3, 0x28], Some(255)),
            Value::Bytes(_)
        ));
        assert!(matches!(decode_text(b"abc", Some(63)), Value::Bytes(_)));
    }

    #[test]
    fn unknown_or_absent_charset_accepts_valid_utf8_only() {
        assert!(matches!(
            decode_text("ü".as_bytes(), None),
            Value::Text(Cow::Borrowed("ü"))
        ));
        assert!(matches!(decode_text(&[0xFC], None), Value::Bytes(_)));
        assert!(matches!(
            decode_text("ü".as_bytes(), Some(4)),
            Value::Text(_)
        ));
        assert!(matches!(decode_text(&[0xFC], Some(4)), Value::Bytes(_)));
    }

    #[test]
    fn utf16_utf32_ucs2() {
        // "a😀" in UTF-16BE / LE / UTF-32BE.
        assert_eq!(
            text(&[0, 0x61, 0xD8, 0x3D, 0xDE, 0x00], 54).as_deref(),
            Some("a😀")
        );
        assert_eq!(
            text(&[0x61, 0, 0x3D, 0xD8, 0x00, 0xDE], 56).as_deref(),
            Some("a😀")
        );
        assert_eq!(
            text(&[0, 0, 0, 0x61, 0, 1, 0xF6, 0], 60).as_deref(),
            Some("a😀")
        );
        // UCS-2 has no surrogates.
        assert_eq!(text(&[0, 0x61, 0, 0xE9], 35).as_deref(), Some("aé"));
        assert_eq!(text(&[0xD8, 0x3D, 0xDE, 0x00], 35), None);
        // Odd lengths and unpaired surrogates are invalid.
        assert_eq!(text(&[0, 0x61, 0], 54), None);
        assert_eq!(text(&[0xD8, 0x3D], 54), None);
        assert_eq!(text(&[0, 0x11, 0, 0], 60), None);
    }

    #[test]
    fn other_single_byte_sets() {
        // "Ж" in cp1251 and koi8r.
        assert_eq!(text(&[0xC6], 51).as_deref(), Some("Ж"));
        assert_eq!(text(&[0xF6], 7).as_deref(), Some("Ж"));
        // "ő" in latin2.
        assert_eq!(text(&[0xF5], 9).as_deref(), Some("ő"));
    }

    #[test]
    fn ascii_text_from_legacy_sets_is_borrowed() {
        assert!(matches!(
            decode_str(b"plain", Some(8)),
            Some(Cow::Borrowed("plain"))
        ));
        assert!(matches!(
            decode_str(b"plain", Some(28)),
            Some(Cow::Borrowed("plain"))
        ));
    }
}
