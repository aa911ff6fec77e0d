//! Masking of sensitive columns, applied while a change record is built so
//! the raw value never exists in it (nor in stores, logs, the API, alerts
//! or webhooks downstream).
//!
//! Strategies:
//! - `hash` (the default for `sensitive_columns`): `"hmac:"` + 32 hex
//!   digits of HMAC-SHA256 under the configured key over the value's text
//!   (a string's characters, a number's digits, anything else its JSON).
//!   Stable across runs and tables, so equal values still compare equal;
//!   without the key it cannot be reversed by trying candidate values.
//! - `partial`: keeps a little of the value. Without `keep_first` /
//!   `keep_last`: emails keep the first character of the local part and the
//!   domain (`u***@example.com`); phone-like values keep the first 3 and
//!   last 4 characters (`138****0000`); anything else its first and last
//!   character. With them, exactly those counts (the rest as `*`; a value
//!   not longer than what would be kept is masked whole). Values that are
//!   not text or numbers (JSON documents, binary) are redacted.
//! - `redact`: the string `"[redacted]"`.
//!
//! SQL NULL stays `null` under every strategy (that a value is absent is
//! not the secret).
//!
//! The statement text (`query`) can hold the raw values too; see
//! [`redact_query`] and `masking.query`.

use std::io::{Read, Write};
use std::path::Path;

use hmac::{Hmac, Mac};
use serde_json::Value as Json;
use sha2::Sha256;
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// What a masked column becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum MaskStrategy {
    #[default]
    Hash,
    Partial,
    Redact,
}

impl MaskStrategy {
    pub fn parse(s: &str) -> Option<MaskStrategy> {
        match s.to_ascii_lowercase().as_str() {
            "hash" => Some(MaskStrategy::Hash),
            "partial" => Some(MaskStrategy::Partial),
            "redact" => Some(MaskStrategy::Redact),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MaskStrategy::Hash => "hash",
            MaskStrategy::Partial => "partial",
            MaskStrategy::Redact => "redact",
        }
    }
}

/// A column's masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskSpec {
    pub strategy: MaskStrategy,
    /// `partial`: characters kept at the start (default: by value shape).
    pub keep_first: Option<usize>,
    /// `partial`: characters kept at the end.
    pub keep_last: Option<usize>,
}

impl MaskSpec {
    pub fn new(strategy: MaskStrategy) -> Self {
        MaskSpec {
            strategy,
            keep_first: None,
            keep_last: None,
        }
    }
}

impl std::fmt::Display for MaskSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.strategy.as_str())?;
        if self.keep_first.is_some() || self.keep_last.is_some() {
            write!(
                f,
                " (keep first {}, last {})",
                self.keep_first.unwrap_or(0),
                self.keep_last.unwrap_or(0)
            )?;
        }
        Ok(())
    }
}

/// The replacement for redacted values.
pub const REDACTED: &str = "[redacted]";

/// Masks values with a fixed key.
#[derive(Clone)]
pub struct Masker {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Masker(..)")
    }
}

impl Masker {
    /// `key`: the `hash` strategy's secret (any length; HMAC accepts all).
    pub fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length, so this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Masker { mac }
    }

    /// `value` masked by `spec`.
    pub fn mask(&self, value: &Json, spec: &MaskSpec) -> Json {
        if value.is_null() {
            return Json::Null;
        }
        match spec.strategy {
            MaskStrategy::Hash => Json::String(self.hash(value)),
            MaskStrategy::Redact => Json::String(REDACTED.into()),
            MaskStrategy::Partial => match value {
                Json::String(s) => Json::String(partial(s, spec)),
                Json::Number(n) => Json::String(partial(&n.to_string(), spec)),
                _ => Json::String(REDACTED.into()),
            },
        }
    }

    /// `"hmac:"` + 32 hex digits (the first 128 bits of HMAC-SHA256).
    pub fn hash(&self, value: &Json) -> String {
        let mut mac = self.mac.clone();
        match value {
            Json::String(s) => mac.update(s.as_bytes()),
            Json::Number(n) => mac.update(n.to_string().as_bytes()),
            other => mac.update(other.to_string().as_bytes()),
        }
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(5 + 32);
        out.push_str("hmac:");
        for b in digest.iter().take(16) {
            out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        }
        out
    }
}

/// The `partial` strategy on text.
pub fn partial(s: &str, spec: &MaskSpec) -> String {
    if spec.keep_first.is_some() || spec.keep_last.is_some() {
        return keep_ends(s, spec.keep_first.unwrap_or(0), spec.keep_last.unwrap_or(0));
    }
    if let Some((local, domain)) = s.rsplit_once('@') {
        if !local.is_empty() && !domain.is_empty() && !domain.contains(char::is_whitespace) {
            let first: String = if local.chars().count() > 1 {
                local.chars().take(1).collect()
            } else {
                String::new()
            };
            return format!("{first}***@{domain}");
        }
    }
    if is_phone_like(s) {
        let n = s.chars().count();
        return if n >= 10 {
            keep_ends(s, 3, 4)
        } else {
            keep_ends(s, 2, 2)
        };
    }
    keep_ends(s, 1, 1)
}

/// Digits with optional `+ -()`. spaces, at least 7 digits.
fn is_phone_like(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    digits >= 7
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'))
}

/// First `first` and last `last` characters kept, the rest `*`; masked whole
/// when nothing would be hidden.
fn keep_ends(s: &str, first: usize, last: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if first.saturating_add(last) >= n {
        return "*".repeat(n.max(1));
    }
    let mut out = String::with_capacity(s.len());
    out.extend(&chars[..first]);
    out.push_str(&"*".repeat(n - first - last));
    out.extend(&chars[n - last..]);
    out
}

/// The statement with every literal (strings, numbers, hex/bit values)
/// replaced by `?` and comments removed, so values of sensitive columns
/// cannot survive in it: `UPDATE users SET phone = ? WHERE id = ?`.
/// `None` when the text does not tokenize as MySQL (then it is dropped).
pub fn redact_query(sql: &str) -> Option<String> {
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let mut out = String::with_capacity(sql.len());
    for token in tokens {
        match token {
            Token::Whitespace(Whitespace::SingleLineComment { .. })
            | Token::Whitespace(Whitespace::MultiLineComment(_)) => out.push(' '),
            Token::Word(w) if w.quote_style.is_some_and(|q| q != '`') => out.push('?'),
            Token::Word(w) => out.push_str(&w.to_string()),
            Token::Whitespace(_)
            | Token::Comma
            | Token::Period
            | Token::LParen
            | Token::RParen
            | Token::SemiColon
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Spaceship
            | Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::Colon
            | Token::Placeholder(_)
            | Token::EOF => out.push_str(&token.to_string()),
            // Literals, and anything else we do not know to be harmless.
            _ => out.push('?'),
        }
    }
    Some(out)
}

/// Read the masking key from `path`, or create it with 32 random bytes (as
/// hex, mode 0600) when it does not exist. The key is the file's trimmed
/// text; at least 16 bytes.
pub fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => return check_key(text.trim().as_bytes().to_vec(), path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(hex.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            Ok(hex.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => check_key(
            std::fs::read_to_string(path)?.trim().as_bytes().to_vec(),
            path,
        ),
        Err(e) => Err(e),
    }
}

fn check_key(key: Vec<u8>, path: &Path) -> std::io::Result<Vec<u8>> {
    if key.len() < 16 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "masking key file {} holds {} bytes; at least 16 are needed",
                path.display(),
                key.len()
            ),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(s: MaskStrategy) -> MaskSpec {
        MaskSpec::new(s)
    }

    #[test]
    fn partial_masks_phone_email_and_generic_text() {
        let p = spec(MaskStrategy::Partial);
        assert_eq!(partial("13800000000", &p), "138****0000");
        assert_eq!(partial("user@example.com", &p), "u***@example.com");
        assert_eq!(partial("a@example.com", &p), "***@example.com");
        assert_eq!(partial("+1-555-0100", &p), "+1-****0100");
        assert_eq!(partial("secret", &p), "s****t");
        assert_eq!(partial("ab", &p), "**");
        assert_eq!(partial("", &p), "*");
        let custom = MaskSpec {
            strategy: MaskStrategy::Partial,
            keep_first: Some(2),
            keep_last: None,
        };
        assert_eq!(partial("user@example.com", &custom), "us**************");
        assert_eq!(partial("张伟先生", &p), "张**生");
    }

    #[test]
    fn hash_is_keyed_stable_and_type_blind_for_numbers() {
        let m = Masker::new(b"0123456789abcdef");
        let a = m.mask(&json!("13800138000"), &spec(MaskStrategy::Hash));
        let b = m.mask(&json!("13800138000"), &spec(MaskStrategy::Hash));
        let n = m.mask(&json!(13800138000u64), &spec(MaskStrategy::Hash));
        assert_eq!(a, b);
        assert_eq!(a, n, "a phone stored as a number hashes as its digits");
        let s = a.as_str().unwrap();
        assert!(s.starts_with("hmac:") && s.len() == 37, "{s}");
        assert!(!s.contains("13800138000"));
        let other_key = Masker::new(b"another key 0123");
        assert_ne!(
            other_key.mask(&json!("13800138000"), &spec(MaskStrategy::Hash)),
            a
        );
    }

    #[test]
    fn null_stays_null_and_documents_are_redacted_by_partial() {
        let m = Masker::new(b"k");
        for s in [
            MaskStrategy::Hash,
            MaskStrategy::Partial,
            MaskStrategy::Redact,
        ] {
            assert_eq!(m.mask(&Json::Null, &spec(s)), Json::Null);
        }
        assert_eq!(
            m.mask(&json!({"base64": "AAEC"}), &spec(MaskStrategy::Partial)),
            json!(REDACTED)
        );
        assert_eq!(
            m.mask(&json!("x"), &spec(MaskStrategy::Redact)),
            json!(REDACTED)
        );
    }

    #[test]
    fn redacted_query_keeps_shape_but_no_literals() {
        let q = "UPDATE users SET phone = '13900139000', updated_at = NOW(3) WHERE id = 3";
        assert_eq!(
            redact_query(q).unwrap(),
            "UPDATE users SET phone = ?, updated_at = NOW(?) WHERE id = ?"
        );
        let q = "INSERT INTO `users` (phone) VALUES (\"13800138000\"), (x'ABCD') /* 13800138000 */";
        let r = redact_query(q).unwrap();
        assert!(!r.contains("13800138000") && !r.contains("ABCD"), "{r}");
        assert!(r.contains("`users`"), "{r}");
        let q = "UPDATE t SET a = 'it\\'s 138' -- 13800138000\n WHERE b = 1.5e3";
        let r = redact_query(q).unwrap();
        assert!(!r.contains("138") && !r.contains("1.5e3"), "{r}");
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("pipeline-key-{}", std::process::id()));
        let path = dir.join("sub").join("masking.key");
        let _ = std::fs::remove_dir_all(&dir);
        let k1 = load_or_create_key(&path).unwrap();
        let k2 = load_or_create_key(&path).unwrap();
        assert_eq!(k1, k2);
        assert_eq!(k1.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short\n").unwrap();
        assert!(load_or_create_key(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
