//! Which events and rows the user asked for: database/table wildcards,
//! byte positions and a time window. GTID sets live in `gtid_filter`.

use crate::time::Micros;

/// A shell-style wildcard: `*` any run of characters, `?` exactly one.
/// Matching is ASCII-case-insensitive (MySQL on Windows/macOS folds case, and
/// nobody means `Orders` to miss `orders`); `\` escapes the next character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Char(char),
}

impl Wildcard {
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '\\' => match chars.next() {
                    Some(esc) => tokens.push(Token::Char(esc)),
                    None => tokens.push(Token::Char('\\')),
                },
                other => tokens.push(Token::Char(other)),
            }
        }
        Wildcard { tokens }
    }

    /// Iterative matcher with single-star backtracking: linear in practice,
    /// never exponential.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(Token::Star) => {
                    backtrack = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Some(Token::Any) => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                Some(Token::Char(c)) if chars_eq(*c, t[ti]) => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star_pi, star_ti)) => {
                    pi = star_pi + 1;
                    ti = star_ti + 1;
                    backtrack = Some((star_pi, star_ti + 1));
                }
                None => return false,
            }
        }
        p[pi..].iter().all(|tok| *tok == Token::Star)
    }
}

fn chars_eq(a: char, b: char) -> bool {
    a == b || a.eq_ignore_ascii_case(&b)
}

/// `--table` value: `table` or `db.table`, each part a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    pub database: Option<Wildcard>,
    pub table: Wildcard,
}

impl TablePattern {
    /// Splits at the first unescaped `.`; `\.` keeps a literal dot.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("empty table pattern".into());
        }
        let mut split_at = None;
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '.' if !escaped => {
                    split_at = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        match split_at {
            Some(i) => {
                let (db, table) = (&s[..i], &s[i + 1..]);
                if db.is_empty() || table.is_empty() {
                    return Err(format!("'{s}': expected TABLE or DATABASE.TABLE"));
                }
                Ok(TablePattern {
                    database: Some(Wildcard::new(db)),
                    table: Wildcard::new(table),
                })
            }
            None => Ok(TablePattern {
                database: None,
                table: Wildcard::new(s),
            }),
        }
    }

    pub fn matches(&self, database: &str, table: &str) -> bool {
        let database_ok = match &self.database {
            Some(d) => d.matches(database),
            None => true,
        };
        database_ok && self.table.matches(table)
    }
}

/// `--database` and `--table` together. A row passes when its database
/// matches one `--database` pattern (or none were given) and its table
/// matches one `--table` pattern (or none were given).
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    pub databases: Vec<Wildcard>,
    pub tables: Vec<TablePattern>,
}

impl TableFilter {
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty() && self.tables.is_empty()
    }

    pub fn matches_table(&self, database: &str, table: &str) -> bool {
        (self.databases.is_empty() || self.databases.iter().any(|d| d.matches(database)))
            && (self.tables.is_empty() || self.tables.iter().any(|t| t.matches(database, table)))
    }

    /// Statements (DDL) name no single table reliably, so with `--table`
    /// they are left out; with only `--database` their default database
    /// (the `USE` in force) decides.
    pub fn matches_statement(&self, database: &str) -> bool {
        self.tables.is_empty()
            && (self.databases.is_empty() || self.databases.iter().any(|d| d.matches(database)))
    }
}

/// Byte-position and time window.
///
/// Positions follow mysqlbinlog: `--start-position` applies to the first
/// file, `--stop-position` to the last; an event is in range when its start
/// offset is ≥ start and < stop. Times apply to every event's own header
/// timestamp: ≥ start and < stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub start_position: Option<u64>,
    pub stop_position: Option<u64>,
    pub start_time: Option<Micros>,
    pub stop_time: Option<Micros>,
}

impl Window {
    /// Position bounds for file `index` of `count` files.
    pub fn positions_for_file(&self, index: usize, count: usize) -> (u64, u64) {
        let start = if index == 0 {
            self.start_position.unwrap_or(0)
        } else {
            0
        };
        let stop = if index + 1 == count {
            self.stop_position.unwrap_or(u64::MAX)
        } else {
            u64::MAX
        };
        (start, stop)
    }

    #[inline]
    pub fn time_ok(&self, event_unix: u32) -> bool {
        let t = event_unix as i64 * 1_000_000;
        !matches!(self.start_time, Some(s) if t < s) && !matches!(self.stop_time, Some(s) if t >= s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        let w = Wildcard::new("ord*");
        assert!(w.matches("orders"));
        assert!(w.matches("ord"));
        assert!(w.matches("ORDERS"));
        assert!(!w.matches("xorders"));
        assert!(Wildcard::new("*_log").matches("audit_log"));
        assert!(!Wildcard::new("*_log").matches("audit_logs"));
        assert!(Wildcard::new("t?").matches("t1"));
        assert!(!Wildcard::new("t?").matches("t"));
        assert!(!Wildcard::new("t?").matches("t12"));
        assert!(Wildcard::new("*").matches(""));
        assert!(Wildcard::new("a*b*c").matches("aXXbYYc"));
        assert!(!Wildcard::new("a*b*c").matches("aXXbYY"));
        assert!(Wildcard::new("a\\*").matches("a*"));
        assert!(!Wildcard::new("a\\*").matches("ab"));
        assert!(Wildcard::new("表*").matches("表格"));
    }

    #[test]
    fn wildcard_is_not_exponential() {
        let w = Wildcard::new("*a*a*a*a*a*a*a*a*b");
        let text = "a".repeat(5000);
        assert!(!w.matches(&text));
    }

    #[test]
    fn table_pattern_forms() {
        let p = TablePattern::parse("shop.ord*").unwrap();
        assert!(p.matches("shop", "orders"));
        assert!(!p.matches("other", "orders"));
        let p = TablePattern::parse("users").unwrap();
        assert!(p.matches("any", "users"));
        let p = TablePattern::parse("*.users").unwrap();
        assert!(p.matches("x", "users"));
        let p = TablePattern::parse("a\\.b").unwrap();
        assert!(p.database.is_none());
        assert!(p.matches("x", "a.b"));
        assert!(TablePattern::parse(".t").is_err());
        assert!(TablePattern::parse("db.").is_err());
        assert!(TablePattern::parse("").is_err());
    }

    #[test]
    fn table_filter_combines_database_and_table() {
        let f = TableFilter {
            databases: vec![Wildcard::new("shop")],
            tables: vec![
                TablePattern::parse("ord*").unwrap(),
                TablePattern::parse("x.users").unwrap(),
            ],
        };
        assert!(f.matches_table("shop", "orders"));
        assert!(!f.matches_table("shop", "users"));
        assert!(!f.matches_table("x", "users"));
        assert!(!f.matches_statement("shop"));
        let f = TableFilter {
            databases: vec![Wildcard::new("shop")],
            tables: vec![],
        };
        assert!(f.matches_statement("shop"));
        assert!(!f.matches_statement("other"));
        assert!(TableFilter::default().matches_statement(""));
    }

    #[test]
    fn window_positions_apply_to_first_and_last_file() {
        let w = Window {
            start_position: Some(100),
            stop_position: Some(500),
            ..Default::default()
        };
        assert_eq!(w.positions_for_file(0, 1), (100, 500));
        assert_eq!(w.positions_for_file(0, 3), (100, u64::MAX));
        assert_eq!(w.positions_for_file(1, 3), (0, u64::MAX));
        assert_eq!(w.positions_for_file(2, 3), (0, 500));
    }

    #[test]
    fn window_times_are_half_open() {
        let w = Window {
            start_time: Some(10_000_000),
            stop_time: Some(20_000_000),
            ..Default::default()
        };
        assert!(!w.time_ok(9));
        assert!(w.time_ok(10));
        assert!(w.time_ok(19));
        assert!(!w.time_ok(20));
        let frac = Window {
            start_time: Some(10_500_000),
            ..Default::default()
        };
        assert!(!frac.time_ok(10));
        assert!(frac.time_ok(11));
    }
}
