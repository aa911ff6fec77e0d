//! `--include-gtids`: which transactions to keep, by GTID.
//!
//! Two syntaxes, mixable in one comma-separated list:
//!
//! - **MySQL GTID sets**: `UUID:INTERVAL[:INTERVAL…]`, an interval being
//!   `N` or `A-B` (inclusive), e.g. `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7`.
//!   MySQL 8.4 tags are written before the intervals they qualify, as the
//!   server prints them: `UUID:TAG:1-3`, or `UUID:1-5:TAG:1-3` (1-5 untagged,
//!   1-3 tagged). Tags are case-insensitive. An untagged interval never
//!   matches a tagged GTID and vice versa, as in MySQL.
//! - **MariaDB GTID positions**: `DOMAIN-SERVER-SEQ`, e.g. `0-1-5,1-10-3`.
//!   Like a replica's `gtid_slave_pos`, an element means "everything up to
//!   and including SEQ": it keeps transactions of that domain and server id
//!   whose sequence number is ≤ SEQ.
//!
//! A transaction without a GTID (anonymous GTIDs, servers before 5.6) is
//! never in the set, so `--include-gtids` drops it.

use std::fmt;

/// A transaction's GTID as the filter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtidRef<'a> {
    Mysql {
        uuid: &'a [u8; 16],
        tag: Option<&'a str>,
        gno: u64,
    },
    Maria {
        domain: u32,
        server: u32,
        seq: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct MysqlRanges {
    uuid: [u8; 16],
    /// Lower-cased tag; None for untagged intervals.
    tag: Option<String>,
    /// Inclusive `(first, last)` intervals.
    intervals: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MariaUpTo {
    domain: u32,
    server: u32,
    max_seq: u64,
}

/// A parsed `--include-gtids` value (possibly the union of several flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    mysql: Vec<MysqlRanges>,
    maria: Vec<MariaUpTo>,
}

impl GtidSet {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = GtidSet::default();
        for element in text.split(',') {
            let element = element.trim();
            if element.is_empty() {
                continue;
            }
            if element.contains(':') {
                set.parse_mysql(element)?;
            } else {
                set.maria.push(parse_maria(element)?);
            }
        }
        if set.mysql.is_empty() && set.maria.is_empty() {
            return Err(format!("'{text}' contains no GTID"));
        }
        Ok(set)
    }

    /// Union with another set (repeated `--include-gtids`).
    pub fn extend(&mut self, other: GtidSet) {
        self.mysql.extend(other.mysql);
        self.maria.extend(other.maria);
    }

    fn parse_mysql(&mut self, element: &str) -> Result<(), String> {
        let mut parts = element.split(':');
        let uuid_text = parts.next().unwrap_or_default().trim();
        let uuid = parse_uuid(uuid_text).ok_or_else(|| {
            format!("'{element}': '{uuid_text}' is not a server UUID (expected e.g. 3e11fa47-71ca-11e1-9e33-c80aa9429562)")
        })?;
        let mut tag: Option<String> = None;
        let mut current: Vec<(u64, u64)> = Vec::new();
        let mut any_interval = false;
        for part in parts {
            let part = part.trim();
            if part.starts_with(|c: char| c.is_ascii_digit()) {
                current.push(parse_interval(part).map_err(|e| format!("'{element}': {e}"))?);
                any_interval = true;
            } else {
                let new_tag = parse_tag(part).ok_or_else(|| {
                    format!("'{element}': '{part}' is neither an interval (N or A-B) nor a tag ([a-z_][a-z0-9_]{{0,31}})")
                })?;
                self.push_mysql(uuid, tag.take(), std::mem::take(&mut current));
                tag = Some(new_tag);
            }
        }
        if !current.is_empty() {
            self.push_mysql(uuid, tag.take(), current);
        } else if tag.is_some() || !any_interval {
            return Err(format!(
                "'{element}': a UUID or tag must be followed by an interval, e.g. ':1-5'"
            ));
        }
        Ok(())
    }

    fn push_mysql(&mut self, uuid: [u8; 16], tag: Option<String>, intervals: Vec<(u64, u64)>) {
        if intervals.is_empty() {
            return;
        }
        self.mysql.push(MysqlRanges {
            uuid,
            tag,
            intervals,
        });
    }

    pub fn contains(&self, gtid: GtidRef<'_>) -> bool {
        match gtid {
            GtidRef::Mysql { uuid, tag, gno } => self.mysql.iter().any(|r| {
                r.uuid == *uuid
                    && match (&r.tag, tag) {
                        (None, None) => true,
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        _ => false,
                    }
                    && r.intervals.iter().any(|&(a, b)| a <= gno && gno <= b)
            }),
            GtidRef::Maria {
                domain,
                server,
                seq,
            } => self
                .maria
                .iter()
                .any(|m| m.domain == domain && m.server == server && seq <= m.max_seq),
        }
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for r in &self.mysql {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(&format_uuid(&r.uuid))?;
            if let Some(t) = &r.tag {
                write!(f, ":{t}")?;
            }
            for &(a, b) in &r.intervals {
                if a == b {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{b}")?;
                }
            }
        }
        for m in &self.maria {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{}-{}-{}", m.domain, m.server, m.max_seq)?;
        }
        Ok(())
    }
}

fn parse_maria(element: &str) -> Result<MariaUpTo, String> {
    let bad = || {
        format!("'{element}' is neither a MySQL GTID set element (UUID:1-5) nor a MariaDB GTID (DOMAIN-SERVER-SEQ, e.g. 0-1-5)")
    };
    let mut it = element.split('-');
    let (Some(d), Some(s), Some(n), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    let domain = d.trim().parse::<u32>().map_err(|_| bad())?;
    let server = s.trim().parse::<u32>().map_err(|_| bad())?;
    let max_seq = n.trim().parse::<u64>().map_err(|_| bad())?;
    Ok(MariaUpTo {
        domain,
        server,
        max_seq,
    })
}

fn parse_interval(text: &str) -> Result<(u64, u64), String> {
    let num = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("'{text}' is not an interval (N or A-B)"))
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let n = num(text)?;
            (n, n)
        }
    };
    if a == 0 {
        return Err(format!("'{text}': GTID numbers start at 1"));
    }
    if a > b {
        return Err(format!("'{text}': interval start is after its end"));
    }
    Ok((a, b))
}

fn parse_tag(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let first_ok = b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
    let rest_ok = b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    (first_ok && rest_ok && b.len() <= 32).then(|| text.to_ascii_lowercase())
}

/// 32 hex digits, dashes anywhere ignored (MySQL prints 8-4-4-4-12).
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut n = 0usize;
    for c in text.bytes() {
        if c == b'-' {
            continue;
        }
        let v = (c as char).to_digit(16)? as u8;
        let byte = out.get_mut(n / 2)?;
        *byte = if n & 1 == 0 { v << 4 } else { *byte | v };
        n += 1;
    }
    (n == 32).then_some(out)
}

pub fn format_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "58cf6502-63db-11ed-8079-0242ac110002";

    fn my(set: &GtidSet, uuid: &str, tag: Option<&str>, gno: u64) -> bool {
        let u = parse_uuid(uuid).unwrap();
        set.contains(GtidRef::Mysql { uuid: &u, tag, gno })
    }

    #[test]
    fn mysql_intervals() {
        let set = GtidSet::parse(&format!("{U1}:1-5:7, {U2}:3")).unwrap();
        assert!(my(&set, U1, None, 1));
        assert!(my(&set, U1, None, 5));
        assert!(!my(&set, U1, None, 6));
        assert!(my(&set, U1, None, 7));
        assert!(!my(&set, U2, None, 2));
        assert!(my(&set, U2, None, 3));
        assert!(
            !my(&set, U1, Some("t"), 1),
            "untagged intervals do not match tagged GTIDs"
        );
        assert_eq!(set.to_string(), format!("{U1}:1-5:7,{U2}:3"));
    }

    #[test]
    fn uuid_case_and_dashes_do_not_matter() {
        let set = GtidSet::parse("3E11FA4771CA11E19E33C80AA9429562:2").unwrap();
        assert!(my(&set, U1, None, 2));
    }

    #[test]
    fn mysql_tagged_intervals() {
        let set = GtidSet::parse(&format!("{U1}:1-5:MyTag:1-3:9")).unwrap();
        assert!(my(&set, U1, None, 4));
        assert!(!my(&set, U1, None, 9));
        assert!(my(&set, U1, Some("mytag"), 3));
        assert!(my(&set, U1, Some("MYTAG"), 9));
        assert!(!my(&set, U1, Some("mytag"), 4));
        assert!(!my(&set, U1, Some("other"), 1));
        let tagged_only = GtidSet::parse(&format!("{U1}:mytag:1-3")).unwrap();
        assert!(!my(&tagged_only, U1, None, 1));
        assert!(my(&tagged_only, U1, Some("mytag"), 1));
    }

    #[test]
    fn mariadb_positions_mean_up_to_seq() {
        let set = GtidSet::parse("0-1-5,1-10-3").unwrap();
        let m = |domain, server, seq| {
            set.contains(GtidRef::Maria {
                domain,
                server,
                seq,
            })
        };
        assert!(m(0, 1, 1));
        assert!(m(0, 1, 5));
        assert!(!m(0, 1, 6));
        assert!(!m(0, 2, 1), "other server ids are not included");
        assert!(m(1, 10, 3));
        assert!(!m(1, 10, 4));
        assert!(!m(2, 10, 1));
    }

    #[test]
    fn mixed_and_repeated_sets() {
        let mut set = GtidSet::parse(&format!("{U1}:1,0-1-2")).unwrap();
        set.extend(GtidSet::parse(&format!("{U2}:4")).unwrap());
        assert!(my(&set, U1, None, 1));
        assert!(my(&set, U2, None, 4));
        assert!(set.contains(GtidRef::Maria {
            domain: 0,
            server: 1,
            seq: 2
        }));
    }

    #[test]
    fn malformed_sets_are_rejected_with_the_bad_part() {
        for (bad, needle) in [
            ("", "no GTID"),
            ("xyz:1", "not a server UUID"),
            (U1, "neither"),
            (&format!("{U1}:"), "interval"),
            (&format!("{U1}:5-3"), "after its end"),
            (&format!("{U1}:0"), "start at 1"),
            (&format!("{U1}:tag"), "followed by an interval"),
            (&format!("{U1}:1:bad-tag:2"), "neither an interval"),
            ("0-1", "DOMAIN-SERVER-SEQ"),
            ("0-1-x", "DOMAIN-SERVER-SEQ"),
            ("0-1-2-3", "DOMAIN-SERVER-SEQ"),
        ] {
            let err = GtidSet::parse(bad).unwrap_err();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }

    #[test]
    fn uuid_round_trip() {
        assert_eq!(format_uuid(&parse_uuid(U1).unwrap()), U1);
        assert!(parse_uuid("3e11fa47").is_none());
        assert!(parse_uuid(&format!("{U1}00")).is_none());
    }
}
