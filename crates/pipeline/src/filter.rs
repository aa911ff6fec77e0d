//! Which tables are processed, with which settings.
//!
//! Table entries are `database.table` patterns: exact names or shell
//! wildcards (`*` any run, `?` one character, `\` escapes). Matching is
//! ASCII-case-insensitive, as MySQL on case-insensitive file systems and as
//! `binlog-analyzer parse --table`; nobody means `Orders` to miss `orders`.
//!
//! A change is processed when its table matches an entry and no `exclude`
//! pattern. When several entries match, an exact one (no wildcard in either
//! part) wins, else the first matching wildcard entry in declaration order
//! (`config.yaml` first, then `tables.yaml`); settings are not combined
//! across entries. With no entries at all, every table is processed with
//! default settings.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::config::{Origin, TableConfig, TablesConfig};

/// A shell-style wildcard, ASCII-case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Star,
    One,
    Char(char),
}

impl Wildcard {
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' if tokens.last() == Some(&Token::Star) => {}
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::One),
                '\\' => tokens.push(Token::Char(chars.next().unwrap_or('\\'))),
                c => tokens.push(Token::Char(c)),
            }
        }
        Wildcard { tokens }
    }

    /// True when the pattern has no `*` or `?`.
    pub fn is_exact(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Char(_)))
    }

    /// Linear-time matching with single-star backtracking.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(Token::Star) => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Some(Token::One) => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                Some(Token::Char(c)) if c.eq_ignore_ascii_case(&t[ti]) => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            }
        }
        p[pi..].iter().all(|t| *t == Token::Star)
    }
}

/// `database.table`, each part an exact name or a wildcard.
#[derive(Debug, Clone)]
pub struct TablePattern {
    pub database: String,
    pub table: String,
    db: Wildcard,
    tb: Wildcard,
}

impl PartialEq for TablePattern {
    fn eq(&self, other: &Self) -> bool {
        self.database == other.database && self.table == other.table
    }
}

impl TablePattern {
    pub fn new(database: &str, table: &str) -> Self {
        TablePattern {
            database: database.to_string(),
            table: table.to_string(),
            db: Wildcard::new(database),
            tb: Wildcard::new(table),
        }
    }

    /// `db.table` split at the first `.`; both parts non-empty.
    pub fn parse(s: &str) -> Option<Self> {
        let (db, table) = s.split_once('.')?;
        let (db, table) = (db.trim(), table.trim());
        if db.is_empty() || table.is_empty() {
            return None;
        }
        Some(Self::new(db, table))
    }

    pub fn matches(&self, database: &str, table: &str) -> bool {
        self.db.matches(database) && self.tb.matches(table)
    }

    pub fn is_exact(&self) -> bool {
        self.db.is_exact() && self.tb.is_exact()
    }

    /// Same pattern, ignoring ASCII case.
    pub fn same_as(&self, other: &TablePattern) -> bool {
        self.database.eq_ignore_ascii_case(&other.database)
            && self.table.eq_ignore_ascii_case(&other.table)
    }
}

impl fmt::Display for TablePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

/// Resolves a table to its entry; remembers answers per table name.
#[derive(Debug, Clone)]
pub struct TableFilter {
    entries: Vec<Arc<TableConfig>>,
    exclude: Vec<TablePattern>,
    /// Used when no entries are configured: every table, default settings.
    catch_all: Option<Arc<TableConfig>>,
    cache: HashMap<(String, String), Option<usize>>,
}

/// Index of [`TableFilter`]'s catch-all entry in its cache.
const CATCH_ALL: usize = usize::MAX;

impl TableFilter {
    pub fn new(tables: &TablesConfig) -> Self {
        let catch_all = tables.entries.is_empty().then(|| {
            Arc::new(TableConfig::catch_all(Origin {
                file: String::new(),
                path: "tables".into(),
            }))
        });
        TableFilter {
            entries: tables.entries.iter().cloned().map(Arc::new).collect(),
            exclude: tables.exclude.clone(),
            catch_all,
            cache: HashMap::new(),
        }
    }

    /// The settings for `database.table`, or `None` when it is not
    /// processed.
    pub fn lookup(&mut self, database: &str, table: &str) -> Option<Arc<TableConfig>> {
        let key = (database.to_string(), table.to_string());
        let idx = match self.cache.get(&key) {
            Some(i) => *i,
            None => {
                let i = self.resolve(database, table);
                self.cache.insert(key, i);
                i
            }
        }?;
        if idx == CATCH_ALL {
            return self.catch_all.clone();
        }
        self.entries.get(idx).cloned()
    }

    fn resolve(&self, database: &str, table: &str) -> Option<usize> {
        if self.exclude.iter().any(|p| p.matches(database, table)) {
            return None;
        }
        if self.catch_all.is_some() {
            return Some(CATCH_ALL);
        }
        let matching = || {
            self.entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.pattern.matches(database, table))
        };
        matching()
            .find(|(_, e)| e.pattern.is_exact())
            .or_else(|| matching().next())
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn wildcards_match_case_insensitively_with_escapes() {
        let w = Wildcard::new("order*");
        assert!(w.matches("orders") && w.matches("ORDER") && w.matches("order_items"));
        assert!(!w.matches("my_orders"));
        assert!(Wildcard::new("t?").matches("t1"));
        assert!(!Wildcard::new("t?").matches("t12"));
        assert!(Wildcard::new("a\\*b").matches("a*b"));
        assert!(!Wildcard::new("a\\*b").matches("axb"));
        assert!(Wildcard::new("*_log*").matches("audit_log_2024"));
        assert!(Wildcard::new("users").is_exact());
        assert!(!Wildcard::new("user?").is_exact());
    }

    fn filter(yaml: &str) -> TableFilter {
        let cfg = Config::from_yaml(yaml, "c.yaml", None, &|_| None).unwrap();
        TableFilter::new(&cfg.tables)
    }

    #[test]
    fn exact_entry_wins_over_earlier_wildcard_and_exclude_wins_over_both() {
        let mut f = filter(
            r#"
tables:
  shop.*:
    operations: [INSERT]
  shop.users:
    operations: [DELETE]
  exclude: ["shop.tmp_*", "*.audit"]
"#,
        );
        let users = f.lookup("shop", "users").unwrap();
        assert_eq!(users.pattern.to_string(), "shop.users");
        let orders = f.lookup("Shop", "orders").unwrap();
        assert_eq!(orders.pattern.to_string(), "shop.*");
        assert!(f.lookup("shop", "tmp_1").is_none());
        assert!(f.lookup("shop", "audit").is_none());
        assert!(f.lookup("other", "users").is_none());
        // Cached answers are the same.
        assert!(f.lookup("shop", "tmp_1").is_none());
        assert_eq!(f.lookup("shop", "users").unwrap().pattern.table, "users");
    }

    #[test]
    fn no_entries_means_every_table_except_excluded() {
        let mut f = filter("tables:\n  exclude: [\"mysql.*\"]\n");
        assert!(f.lookup("shop", "anything").is_some());
        assert!(f.lookup("mysql", "user").is_none());
        let mut all = filter("processing: {batch_size: 10}\n");
        assert!(all.lookup("a", "b").is_some());
    }

    #[test]
    fn include_list_adds_entries_with_default_settings() {
        let mut f = filter("tables:\n  include: [\"shop.order?\"]\n");
        assert!(f.lookup("shop", "orders").is_some());
        assert!(f.lookup("shop", "users").is_none());
    }
}
