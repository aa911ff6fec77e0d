//! FORMAT_DESCRIPTION_EVENT: how to read every later event of the file.
//!
//! Body layout (after the common header):
//! `binlog_version u16 | server_version [50] | create_timestamp u32 |
//! header_length u8 | post_header_lengths [n] | (checksum_alg u8 | crc u32)`.
//! The checksum part exists only for servers that know checksums (MySQL
//! 5.6.1+, MariaDB 5.3+). The server decides by version number, not by
//! looking at the bytes, and so do we.

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::header::{event_type as et, HEADER_LEN, OLD_HEADER_LEN};

/// Checksum algorithm announced by the FORMAT_DESCRIPTION event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlg {
    /// Pre-5.6.1 servers: no checksum byte in the FDE at all.
    Absent,
    Off,
    Crc32,
}

/// Length of the CRC32 trailer of checksummed events.
pub const CHECKSUM_LEN: usize = 4;

/// Width of the NUL-padded server version field of START_V3 and FDE.
pub const SERVER_VERSION_LEN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    pub binlog_version: u16,
    pub server_version: String,
    pub create_timestamp: u32,
    pub header_length: u8,
    /// Indexed by (type code − 1), where the type code is the normalized
    /// one: for the pre-GA "alcatel" builds the array is already permuted.
    pub post_header_lengths: Vec<u8>,
    pub checksum: ChecksumAlg,
}

/// Raw-to-real type codes of the early 5.1/5.2 "alcatel" trees (index =
/// raw code). MySQL's Format_description_event applies the same map.
const ALCATEL_PERMUTATION: [u8; 23] = [
    et::UNKNOWN,
    et::START_V3,
    et::QUERY,
    et::STOP,
    et::ROTATE,
    et::INTVAR,
    et::LOAD,
    et::SLAVE,
    et::CREATE_FILE,
    et::APPEND_BLOCK,
    et::EXEC_LOAD,
    et::DELETE_FILE,
    et::NEW_LOAD,
    et::RAND,
    et::USER_VAR,
    et::FORMAT_DESCRIPTION,
    et::TABLE_MAP,
    et::PRE_GA_WRITE_ROWS,
    et::PRE_GA_UPDATE_ROWS,
    et::PRE_GA_DELETE_ROWS,
    et::XID,
    et::BEGIN_LOAD_QUERY,
    et::EXECUTE_LOAD_QUERY,
];

/// Post-header lengths of a current server (MySQL 8.4 types 1–42), used
/// before any FORMAT_DESCRIPTION has been seen (replication streams start
/// with a fake ROTATE). Entries 43–159 are unused, 160–171 are MariaDB's.
const DEFAULT_MYSQL_POST_HEADER: [u8; 42] = [
    56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 98, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0,
    10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0, 42,
];
const DEFAULT_MARIADB_POST_HEADER: [u8; 12] = [0, 4, 19, 4, 0, 13, 8, 8, 8, 10, 10, 10];

impl FormatDescription {
    /// Parse an FDE body: everything after the common header, INCLUDING the
    /// trailing checksum bytes if any (whether they exist is only known
    /// once the server version has been read).
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        Self::parse_with(body, true)
    }

    /// Parse an FDE body; `with_crc` says whether the trailing 4 CRC bytes
    /// (present whenever the checksum-algorithm byte is) are still there.
    pub fn parse_with(body: &[u8], with_crc: bool) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let binlog_version = r.u16()?;
        let server_version = version_string(r.take(SERVER_VERSION_LEN)?);
        let create_timestamp = r.u32()?;
        let header_length = r.u8()?;
        if (header_length as usize) < OLD_HEADER_LEN {
            return Err(BodyError::Invalid(format!(
                "common header length {header_length} is shorter than {OLD_HEADER_LEN}"
            )));
        }
        let mut array = r.rest();
        let mut checksum = ChecksumAlg::Absent;
        if has_checksum_field(&server_version) {
            let crc = if with_crc { CHECKSUM_LEN } else { 0 };
            let n = array.len().checked_sub(1 + crc).ok_or_else(|| {
                BodyError::Invalid("FORMAT_DESCRIPTION too short for its checksum fields".into())
            })?;
            checksum = match array[n] {
                // 255 is the server's "undefined" (an event copied from a
                // checksum-unaware source): no checksums either.
                0 | 255 => ChecksumAlg::Off,
                1 => ChecksumAlg::Crc32,
                other => {
                    return Err(BodyError::Invalid(format!(
                        "unknown checksum algorithm {other}"
                    )))
                }
            };
            array = &array[..n];
        }
        let mut fde = FormatDescription {
            binlog_version,
            server_version,
            create_timestamp,
            header_length,
            post_header_lengths: array.to_vec(),
            checksum,
        };
        if fde.is_alcatel() {
            if fde.post_header_lengths.len() != 22 {
                return Err(BodyError::Invalid(format!(
                    "pre-GA server {} lists {} post-header lengths, expected 22",
                    fde.server_version,
                    fde.post_header_lengths.len()
                )));
            }
            let mut permuted = [0u8; 22];
            for (raw_index, &len) in fde.post_header_lengths.iter().enumerate() {
                let real = ALCATEL_PERMUTATION[raw_index + 1] as usize;
                permuted[real - 1] = len;
            }
            fde.post_header_lengths = permuted.to_vec();
        }
        Ok(fde)
    }

    /// Format of a binlog that starts with a START_EVENT_V3 (MySQL 3.23 =
    /// binlog v1, 4.0/4.1 = v3), as the server assumes for such files.
    pub fn for_old_binlog(binlog_version: u16, server_version: &str, created: u32) -> Self {
        // QUERY has the 11-byte pre-5.0 post-header; LOAD family 18/4.
        let mut phl = vec![0u8; et::USER_VAR as usize];
        let mut set = |t: u8, v: u8| phl[t as usize - 1] = v;
        set(et::START_V3, 56);
        set(et::QUERY, 11);
        set(et::ROTATE, if binlog_version == 1 { 0 } else { 8 });
        set(et::LOAD, 18);
        set(et::CREATE_FILE, 4);
        set(et::APPEND_BLOCK, 4);
        set(et::EXEC_LOAD, 4);
        set(et::DELETE_FILE, 4);
        set(et::NEW_LOAD, 18);
        FormatDescription {
            binlog_version,
            server_version: server_version.to_string(),
            create_timestamp: created,
            header_length: if binlog_version == 1 {
                OLD_HEADER_LEN as u8
            } else {
                HEADER_LEN as u8
            },
            post_header_lengths: phl,
            checksum: ChecksumAlg::Absent,
        }
    }

    /// A v4 format of a current server with the given checksum algorithm,
    /// for reading replication streams before their FDE arrives.
    pub fn default_v4(checksum: ChecksumAlg) -> Self {
        let mut phl = vec![0u8; et::MARIA_DELETE_ROWS_COMPRESSED as usize];
        phl[..DEFAULT_MYSQL_POST_HEADER.len()].copy_from_slice(&DEFAULT_MYSQL_POST_HEADER);
        let maria_start = et::MARIA_ANNOTATE_ROWS as usize - 1;
        phl[maria_start..].copy_from_slice(&DEFAULT_MARIADB_POST_HEADER);
        FormatDescription {
            binlog_version: 4,
            server_version: String::new(),
            create_timestamp: 0,
            header_length: HEADER_LEN as u8,
            post_header_lengths: phl,
            checksum,
        }
    }

    /// Post-header length for a (normalized) event type, if the FDE lists it.
    pub fn post_header_len(&self, type_code: u8) -> Option<u8> {
        if type_code == 0 {
            return None;
        }
        self.post_header_lengths
            .get(type_code as usize - 1)
            .copied()
    }

    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }

    /// Bytes of checksum at the end of every event described by this FDE.
    pub fn checksum_len(&self) -> usize {
        match self.checksum {
            ChecksumAlg::Crc32 => CHECKSUM_LEN,
            ChecksumAlg::Absent | ChecksumAlg::Off => 0,
        }
    }

    /// The (major, minor, patch) the server derives from its version
    /// string; (0, 0, 0) when it does not parse, as in the server.
    pub fn version_split(&self) -> (u8, u8, u8) {
        version_split(&self.server_version)
    }

    /// True for the early 5.1/5.2 "alcatel" builds whose event type codes
    /// 16–22 mean something else (see [`FormatDescription::normalize_type`]).
    pub fn is_alcatel(&self) -> bool {
        let v = self.server_version.as_bytes();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        if !(at(0) == b'5' && at(1) == b'.' && at(3) == b'.')
            || v.get(5..12) != Some(b"-a_drop".as_slice())
        {
            return false;
        }
        (at(2) == b'1' && (b'1'..=b'5').contains(&at(4)) && at(12) == b'5')
            || (at(2) == b'1' && at(4) == b'4' && at(12) == b'6')
            || (at(2) == b'2' && (b'0'..=b'2').contains(&at(4)) && at(12) == b'6')
    }

    /// Map a raw type code from the file to today's numbering. Identity
    /// except for the alcatel builds (raw 16 → TABLE_MAP, 17/18/19 →
    /// PRE_GA_WRITE/UPDATE/DELETE_ROWS, 20 → XID, 21 → BEGIN_LOAD_QUERY,
    /// 22 → EXECUTE_LOAD_QUERY).
    #[inline]
    pub fn normalize_type(&self, raw: u8) -> u8 {
        if (16..=22).contains(&raw) && self.is_alcatel() {
            return ALCATEL_PERMUTATION[raw as usize];
        }
        raw
    }
}

/// The server version field is NUL-padded; keep what precedes the first NUL.
fn version_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The server's `do_server_version_split`: three dot-separated numbers
/// below 256, anything else after the third; otherwise (0, 0, 0).
pub fn version_split(version: &str) -> (u8, u8, u8) {
    let mut parts = [0u8; 3];
    let mut rest = version.as_bytes();
    for (i, part) in parts.iter_mut().enumerate() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let number = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse::<u32>().ok());
        let after = rest.get(digits).copied();
        match number {
            Some(n) if n < 256 && (i == 2 || after == Some(b'.')) => *part = n as u8,
            _ => return (0, 0, 0),
        }
        rest = &rest[digits..];
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
        }
    }
    (parts[0], parts[1], parts[2])
}

/// Servers from MySQL 5.6.1 and MariaDB 5.3 on write the checksum
/// algorithm byte (and the FDE's own checksum) into every FDE.
fn has_checksum_field(server_version: &str) -> bool {
    let (a, b, c) = version_split(server_version);
    let product = (a as u32) << 16 | (b as u32) << 8 | c as u32;
    let threshold = if server_version.contains("MariaDB") {
        5 << 16 | 3 << 8
    } else {
        5 << 16 | 6 << 8 | 1
    };
    product >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fde_body(version: &str, phl: &[u8], checksum: Option<u8>) -> Vec<u8> {
        let mut b = vec![4, 0];
        let mut v = [0u8; 50];
        v[..version.len()].copy_from_slice(version.as_bytes());
        b.extend_from_slice(&v);
        b.extend_from_slice(&1234u32.to_le_bytes());
        b.push(19);
        b.extend_from_slice(phl);
        if let Some(alg) = checksum {
            b.push(alg);
            b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        }
        b
    }

    #[test]
    fn version_split_follows_the_server() {
        assert_eq!(version_split("5.7.21-log"), (5, 7, 21));
        assert_eq!(
            version_split("10.5.15-MariaDB-1:10.5.15+maria~focal-log"),
            (10, 5, 15)
        );
        assert_eq!(version_split("8.0.22"), (8, 0, 22));
        assert_eq!(version_split("5.6"), (0, 0, 0));
        assert_eq!(version_split("garbage"), (0, 0, 0));
        assert_eq!(version_split("5.1.300"), (0, 0, 0));
    }

    #[test]
    fn checksum_byte_only_for_servers_that_write_it() {
        let old = FormatDescription::parse(&fde_body("5.5.27-log", &[56, 11, 0, 8], None)).unwrap();
        assert_eq!(old.checksum, ChecksumAlg::Absent);
        assert_eq!(old.post_header_lengths, vec![56, 11, 0, 8]);

        let new = FormatDescription::parse(&fde_body("5.6.1", &[56, 13], Some(1))).unwrap();
        assert_eq!(new.checksum, ChecksumAlg::Crc32);
        assert_eq!(new.post_header_lengths, vec![56, 13]);

        let maria =
            FormatDescription::parse(&fde_body("5.5.30-MariaDB", &[56, 13], Some(0))).unwrap();
        assert_eq!(maria.checksum, ChecksumAlg::Off);
        assert_eq!(maria.checksum_len(), 0);
    }

    #[test]
    fn unknown_checksum_algorithm_is_an_error() {
        assert!(FormatDescription::parse(&fde_body("8.0.30", &[56, 13], Some(7))).is_err());
        // Too short to hold the alg byte and the CRC.
        assert!(FormatDescription::parse(&fde_body("8.0.30", &[], None)).is_err());
    }

    #[test]
    fn alcatel_builds_are_permuted() {
        let phl: Vec<u8> = (1..=22).collect();
        let fde =
            FormatDescription::parse(&fde_body("5.2.2-a_drop6p13-debug-log", &phl, None)).unwrap();
        assert!(fde.is_alcatel());
        assert_eq!(fde.normalize_type(16), et::TABLE_MAP);
        assert_eq!(fde.normalize_type(17), et::PRE_GA_WRITE_ROWS);
        assert_eq!(fde.normalize_type(19), et::PRE_GA_DELETE_ROWS);
        assert_eq!(fde.normalize_type(20), et::XID);
        assert_eq!(fde.normalize_type(21), et::BEGIN_LOAD_QUERY);
        assert_eq!(fde.normalize_type(22), et::EXECUTE_LOAD_QUERY);
        assert_eq!(fde.normalize_type(2), et::QUERY);
        assert_eq!(fde.normalize_type(30), 30);
        // The raw type-16 entry now sits at TABLE_MAP's index.
        assert_eq!(fde.post_header_len(et::TABLE_MAP), Some(16));
        assert_eq!(fde.post_header_len(et::XID), Some(20));
        for v in ["5.1.1-a_drop5p3", "5.1.4-a_drop6p0", "5.2.0-a_drop6p3"] {
            let f = FormatDescription {
                server_version: v.into(),
                ..fde.clone()
            };
            assert!(f.is_alcatel(), "{v}");
        }
        for v in [
            "5.1.23-rc-debug-log",
            "5.1.6-a_drop5p1",
            "5.2.3-a_drop6p1",
            "5.1.1-alpha",
        ] {
            let f = FormatDescription {
                server_version: v.into(),
                ..fde.clone()
            };
            assert!(!f.is_alcatel(), "{v}");
            assert_eq!(f.normalize_type(16), 16);
        }
    }

    #[test]
    fn alcatel_with_wrong_array_length_is_rejected() {
        assert!(FormatDescription::parse(&fde_body("5.2.2-a_drop6p13", &[1, 2, 3], None)).is_err());
    }

    #[test]
    fn defaults_are_consistent() {
        let d = FormatDescription::default_v4(ChecksumAlg::Crc32);
        assert_eq!(d.post_header_len(et::QUERY), Some(13));
        assert_eq!(d.post_header_len(et::WRITE_ROWS), Some(10));
        assert_eq!(d.post_header_len(et::MARIA_GTID), Some(19));
        assert_eq!(d.post_header_len(et::MARIA_QUERY_COMPRESSED), Some(13));
        assert_eq!(d.checksum_len(), 4);
        let v1 = FormatDescription::for_old_binlog(1, "3.23.58", 0);
        assert_eq!(v1.header_length, 13);
        assert_eq!(v1.post_header_len(et::QUERY), Some(11));
        assert_eq!(v1.post_header_len(et::ROTATE), Some(0));
    }
}
