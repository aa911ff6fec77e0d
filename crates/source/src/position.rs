//! Replication positions: file+offset, MySQL GTID sets (with 8.4 tags) and
//! MariaDB GTID lists, their text forms, and the binary GTID set encoding of
//! COM_BINLOG_DUMP_GTID.
//!
//! A [`Position`] names a transaction boundary: resuming there loses nothing
//! and repeats nothing.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A resumable point in the source's binlog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Binlog file name (no directory), e.g. `mysql-bin.000003`.
    pub file: String,
    /// Offset of the next event to read in `file`.
    pub pos: u64,
    /// The GTID state at this point, when the server uses GTIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid: Option<GtidState>,
}

impl Position {
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Position {
            file: file.into(),
            pos,
            gtid: None,
        }
    }

    /// Orders by file sequence number, then offset (GTIDs are not compared).
    pub fn cmp_file_pos(&self, other: &Position) -> Ordering {
        compare_files(&self.file, &other.file).then(self.pos.cmp(&other.pos))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)?;
        if let Some(g) = &self.gtid {
            write!(f, " (gtid {g})")?;
        }
        Ok(())
    }
}

/// Binlog files sort by their numeric extension (`mysql-bin.000010` after
/// `mysql-bin.000009`, and after `mysql-bin.999999` comes `mysql-bin.1000000`).
pub fn compare_files(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> (&str, Option<u64>) {
        match s.rsplit_once('.') {
            Some((base, ext)) => match ext.parse() {
                Ok(n) => (base, Some(n)),
                Err(_) => (s, None),
            },
            None => (s, None),
        }
    }
    let (base_a, n_a) = split(a);
    let (base_b, n_b) = split(b);
    match (n_a, n_b) {
        (Some(x), Some(y)) if base_a == base_b => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// GTID state of either flavour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidState {
    Mysql(MysqlGtidSet),
    Maria(MariaGtidList),
}

impl fmt::Display for GtidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidState::Mysql(s) => s.fmt(f),
            GtidState::Maria(l) => l.fmt(f),
        }
    }
}

/// Serialized as `{"mysql": "uuid:1-5"}` or `{"mariadb": "0-1-7"}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum GtidStateRepr {
    Mysql(String),
    Mariadb(String),
}

impl Serialize for GtidState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GtidState::Mysql(set) => GtidStateRepr::Mysql(set.to_string()),
            GtidState::Maria(list) => GtidStateRepr::Mariadb(list.to_string()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for GtidState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Ok(match GtidStateRepr::deserialize(d)? {
            GtidStateRepr::Mysql(s) => GtidState::Mysql(s.parse().map_err(D::Error::custom)?),
            GtidStateRepr::Mariadb(s) => GtidState::Maria(s.parse().map_err(D::Error::custom)?),
        })
    }
}

/// Sorted disjoint `[start, end)` intervals of transaction numbers.
type Intervals = Vec<(u64, u64)>;

/// A MySQL GTID set: per (source UUID, tag), sorted disjoint intervals
/// `[start, end)` of transaction numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MysqlGtidSet {
    /// Key: (uuid, tag); the untagged tag is the empty string.
    sets: BTreeMap<([u8; 16], String), Intervals>,
}

impl MysqlGtidSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.values().all(Vec::is_empty)
    }

    /// Adds one transaction `uuid[:tag]:gno`.
    pub fn add(&mut self, uuid: [u8; 16], tag: Option<&str>, gno: u64) {
        let key = (uuid, tag.unwrap_or("").to_ascii_lowercase());
        let intervals = self.sets.entry(key).or_default();
        add_interval(intervals, gno, gno.saturating_add(1));
    }

    pub fn contains(&self, uuid: [u8; 16], tag: Option<&str>, gno: u64) -> bool {
        let key = (uuid, tag.unwrap_or("").to_ascii_lowercase());
        self.sets
            .get(&key)
            .is_some_and(|iv| iv.iter().any(|&(s, e)| s <= gno && gno < e))
    }

    /// The binary form COM_BINLOG_DUMP_GTID carries (and PREVIOUS_GTIDS
    /// uses): the classic layout when no tag is present, which every
    /// server reads; the tagged layout of MySQL 8.3+ otherwise.
    pub fn encode(&self) -> Vec<u8> {
        let entries: Vec<_> = self.sets.iter().filter(|(_, iv)| !iv.is_empty()).collect();
        let tagged = entries.iter().any(|((_, tag), _)| !tag.is_empty());
        let n = entries.len() as u64;
        let mut out = Vec::new();
        let head = if tagged { (1 << 56) | (n << 8) | 1 } else { n };
        out.extend_from_slice(&head.to_le_bytes());
        for ((uuid, tag), intervals) in entries {
            out.extend_from_slice(uuid);
            if tagged {
                // Tags are at most 32 characters: a one-byte varlen length.
                out.push((tag.len() as u8) << 1);
                out.extend_from_slice(tag.as_bytes());
            }
            out.extend_from_slice(&(intervals.len() as u64).to_le_bytes());
            for &(start, end) in intervals {
                out.extend_from_slice(&start.to_le_bytes());
                out.extend_from_slice(&end.to_le_bytes());
            }
        }
        out
    }

    /// From the entries of a PREVIOUS_GTIDS event.
    pub fn from_entries(entries: &[binlog::events::GtidSetEntry<'_>]) -> Self {
        let mut set = MysqlGtidSet::new();
        for e in entries {
            let key = (e.uuid, e.tag.unwrap_or("").to_ascii_lowercase());
            let iv = set.sets.entry(key).or_default();
            for &(s, end) in &e.intervals {
                add_interval(iv, s, end);
            }
        }
        set
    }
}

/// Insert `[start, end)` into sorted disjoint intervals, merging neighbours.
fn add_interval(intervals: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    if start >= end {
        return;
    }
    let mut merged = (start, end);
    let mut out = Vec::with_capacity(intervals.len() + 1);
    let mut placed = false;
    for &(s, e) in intervals.iter() {
        if e < merged.0 {
            out.push((s, e));
        } else if s > merged.1 {
            if !placed {
                out.push(merged);
                placed = true;
            }
            out.push((s, e));
        } else {
            merged = (merged.0.min(s), merged.1.max(e));
        }
    }
    if !placed {
        out.push(merged);
    }
    *intervals = out;
}

impl fmt::Display for MysqlGtidSet {
    /// `uuid:1-5:7,uuid2:1-3:tag:1-2`, as MySQL prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first_uuid = true;
        let mut last_uuid: Option<[u8; 16]> = None;
        for ((uuid, tag), intervals) in &self.sets {
            if intervals.is_empty() {
                continue;
            }
            if last_uuid != Some(*uuid) {
                if !first_uuid {
                    f.write_str(",")?;
                }
                first_uuid = false;
                binlog::txn::write_uuid(f, uuid)?;
                last_uuid = Some(*uuid);
            }
            if !tag.is_empty() {
                write!(f, ":{tag}")?;
            }
            for &(s, e) in intervals {
                if e == s + 1 {
                    write!(f, ":{s}")?;
                } else {
                    write!(f, ":{s}-{}", e - 1)?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for MysqlGtidSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut set = MysqlGtidSet::new();
        for block in s.split(',') {
            let block = block.trim();
            if block.is_empty() {
                continue;
            }
            let mut parts = block.split(':');
            let uuid = parse_uuid(parts.next().unwrap_or(""))
                .ok_or_else(|| format!("bad source UUID in GTID set element `{block}`"))?;
            let mut tag = String::new();
            let mut saw_interval = false;
            for part in parts {
                let part = part.trim();
                if part.starts_with(|c: char| c.is_ascii_digit()) {
                    let (start, end) = match part.split_once('-') {
                        Some((a, b)) => (parse_gno(a, block)?, parse_gno(b, block)?),
                        None => {
                            let n = parse_gno(part, block)?;
                            (n, n)
                        }
                    };
                    if start == 0 || end < start {
                        return Err(format!("bad interval `{part}` in `{block}`"));
                    }
                    let iv = set.sets.entry((uuid, tag.clone())).or_default();
                    add_interval(iv, start, end.saturating_add(1));
                    saw_interval = true;
                } else if is_valid_tag(part) {
                    tag = part.to_ascii_lowercase();
                } else {
                    return Err(format!("bad GTID tag or interval `{part}` in `{block}`"));
                }
            }
            if !saw_interval {
                return Err(format!("GTID set element `{block}` has no interval"));
            }
        }
        Ok(set)
    }
}

fn parse_gno(s: &str, block: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("bad transaction number `{s}` in `{block}`"))
}

/// MySQL tags: a letter or underscore, then up to 31 letters, digits or underscores.
fn is_valid_tag(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && s.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (dashes optional).
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s.trim().bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// A MariaDB GTID position: the last `domain-server-seq` per replication
/// domain (what `@@gtid_slave_pos` holds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MariaGtidList {
    /// domain -> (server_id, seq_no)
    domains: BTreeMap<u32, (u32, u64)>,
}

impl MariaGtidList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// Records a transaction as the last one of its domain.
    pub fn update(&mut self, domain: u32, server: u32, seq: u64) {
        self.domains.insert(domain, (server, seq));
    }

    /// The last GTID of a domain.
    pub fn get(&self, domain: u32) -> Option<(u32, u64)> {
        self.domains.get(&domain).copied()
    }
}

impl fmt::Display for MariaGtidList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (domain, (server, seq))) in self.domains.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{domain}-{server}-{seq}")?;
        }
        Ok(())
    }
}

impl FromStr for MariaGtidList {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut list = MariaGtidList::new();
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let nums: Vec<&str> = item.split('-').collect();
            let [d, sv, sq] = nums.as_slice() else {
                return Err(format!(
                    "bad MariaDB GTID `{item}`: expected domain-server-sequence"
                ));
            };
            let bad = || format!("bad MariaDB GTID `{item}`: expected domain-server-sequence");
            let domain: u32 = d.parse().map_err(|_| bad())?;
            let server: u32 = sv.parse().map_err(|_| bad())?;
            let seq: u64 = sq.parse().map_err(|_| bad())?;
            if list.domains.insert(domain, (server, seq)).is_some() {
                return Err(format!("MariaDB GTID list names domain {domain} twice"));
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn mysql_gtid_set_round_trips_with_tags_and_merges_intervals() {
        let s: MysqlGtidSet = format!("{UUID}:1-5:7:tag_a:3, {UUID}:6").parse().unwrap();
        assert_eq!(s.to_string(), format!("{UUID}:1-7:tag_a:3"));
        let uuid = parse_uuid(UUID).unwrap();
        assert!(s.contains(uuid, None, 6));
        assert!(s.contains(uuid, Some("TAG_A"), 3));
        assert!(!s.contains(uuid, Some("tag_a"), 4));
        let mut s2 = s.clone();
        s2.add(uuid, None, 9);
        s2.add(uuid, None, 8);
        assert_eq!(s2.to_string(), format!("{UUID}:1-9:tag_a:3"));
    }

    #[test]
    fn mysql_gtid_set_rejects_garbage() {
        for bad in [
            "x:1",
            UUID,
            &format!("{UUID}:0"),
            &format!("{UUID}:5-3"),
            &format!("{UUID}:t-x:1"),
        ] {
            assert!(bad.parse::<MysqlGtidSet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn mysql_gtid_set_encoding_matches_the_decoder() {
        // Untagged: classic layout, readable by the PREVIOUS_GTIDS parser.
        let s: MysqlGtidSet = format!("{UUID}:1-5:7").parse().unwrap();
        let enc = s.encode();
        assert_eq!(&enc[..8], &1u64.to_le_bytes());
        let back = binlog::events::gtid::parse_gtid_set(&enc).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].intervals, vec![(1, 6), (7, 8)]);
        assert_eq!(MysqlGtidSet::from_entries(&back), s);

        // Tagged: format byte at both ends of the count word.
        let s: MysqlGtidSet = format!("{UUID}:1-2:blue:4").parse().unwrap();
        let enc = s.encode();
        assert_eq!(enc[0], 1);
        assert_eq!(enc[7], 1);
        assert_eq!(
            u64::from_le_bytes(enc[..8].try_into().unwrap()) >> 8 & 0xffff,
            2
        );
        let back = binlog::events::gtid::parse_gtid_set(&enc).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].tag, Some("blue"));
        assert_eq!(MysqlGtidSet::from_entries(&back), s);
    }

    #[test]
    fn maria_gtid_list_round_trips_and_updates_per_domain() {
        let mut l: MariaGtidList = "0-1-100, 2-5-7".parse().unwrap();
        l.update(0, 3, 101);
        assert_eq!(l.to_string(), "0-3-101,2-5-7");
        assert!("0-1".parse::<MariaGtidList>().is_err());
        assert!("0-1-2,0-1-3".parse::<MariaGtidList>().is_err());
    }

    #[test]
    fn positions_order_by_file_number_and_serialize() {
        let a = Position::new("mysql-bin.999999", 500);
        let b = Position::new("mysql-bin.1000000", 4);
        assert_eq!(a.cmp_file_pos(&b), Ordering::Less);
        let mut p = Position::new("mysql-bin.000002", 1234);
        p.gtid = Some(GtidState::Maria("0-1-9".parse().unwrap()));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"file":"mysql-bin.000002","pos":1234,"gtid":{"mariadb":"0-1-9"}}"#
        );
        assert_eq!(serde_json::from_str::<Position>(&json).unwrap(), p);
    }
}
