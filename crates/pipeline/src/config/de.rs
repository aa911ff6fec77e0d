//! Deserialization helpers for the config files: secrets, durations,
//! masking specs, `primary_key` as one name or a list, the `tables:` map
//! that holds both the seed's `target_tables:` list and `db.table:` keys, and
//! `${ENV}` interpolation over the parsed YAML tree.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_norway::Value as Yaml;

use super::ConfigIssue;
use crate::mask::{MaskSpec, MaskStrategy};

/// A secret string (password, token, key). `Debug` never shows it, so a
/// config printed for diagnostics cannot leak it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A duration given as a number of seconds (`5`, `0.5`) or a string with a
/// unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"7d"`).
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

pub(crate) fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(DurationVisitor).map(Some)
}

struct DurationVisitor;

const DURATION_EXPECTED: &str =
    "a duration: seconds as a number (5, 0.5) or a string with a unit (\"500ms\", \"30s\", \"5m\", \"1h\", \"7d\")";

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(DURATION_EXPECTED)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(v)
            .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// `"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"7d"`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(n * scale).ok()
}

/// `primary_key: "id"` or `primary_key: ["a", "b"]`.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a column name or a list of column names")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V).map(Some)
}

impl<'de> Deserialize<'de> for MaskStrategy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MaskStrategy::parse(&s).ok_or_else(|| {
            de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"a masking strategy: hash, partial or redact",
            )
        })
    }
}

/// A column's masking: `phone: partial` or
/// `phone: {strategy: partial, keep_first: 3, keep_last: 4}`.
impl<'de> Deserialize<'de> for MaskSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            strategy: MaskStrategy,
            #[serde(default)]
            keep_first: Option<usize>,
            #[serde(default)]
            keep_last: Option<usize>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaskSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a masking strategy (hash, partial, redact) or {strategy, keep_first, keep_last}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MaskSpec, E> {
                let strategy = MaskStrategy::parse(v).ok_or_else(|| {
                    E::invalid_value(
                        de::Unexpected::Str(v),
                        &"a masking strategy: hash, partial or redact",
                    )
                })?;
                Ok(MaskSpec::new(strategy))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaskSpec, A::Error> {
                let full = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(MaskSpec {
                    strategy: full.strategy,
                    keep_first: full.keep_first,
                    keep_last: full.keep_last,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One table entry, in either file: an item of `tables.target_tables`
/// (which names `database` and `table`) or the value of a `db.table:` key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTable {
    pub database: Option<String>,
    pub table: Option<String>,
    pub operations: Option<Vec<String>>,
    pub track_columns: Option<Vec<String>>,
    pub sensitive_columns: Option<Vec<String>>,
    /// Per-column masking (column → strategy); listed columns are sensitive.
    pub masking: Option<std::collections::BTreeMap<String, MaskSpec>>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub primary_key: Option<Vec<String>>,
    pub description: Option<String>,
    pub rules: Option<Vec<RawRule>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: String,
    pub condition: String,
    #[serde(default)]
    pub alert: bool,
    #[serde(default)]
    pub track: bool,
    #[serde(default)]
    pub priority: Option<crate::rules::Priority>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
}

/// The `tables:` section. Keys `target_tables`, `include` and `exclude` are
/// reserved; every other key is a `database.table` pattern.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawTables {
    pub target_tables: Option<Vec<RawTable>>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub by_name: Vec<(String, RawTable)>,
}

impl<'de> Deserialize<'de> for RawTables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTables;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of `database.table:` entries and/or `target_tables:`, `include:`, `exclude:`")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawTables, E> {
                Ok(RawTables::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawTables, A::Error> {
                let mut out = RawTables::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "target_tables" => out.target_tables = Some(map.next_value()?),
                        "include" => out.include = Some(map.next_value()?),
                        "exclude" => out.exclude = Some(map.next_value()?),
                        _ => {
                            let value: Option<RawTable> = map.next_value()?;
                            out.by_name.push((key, value.unwrap_or_default()));
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Replace `${NAME}` / `${NAME:-default}` in every string value of the tree
/// (`$$` is a literal `$`). Keys are left alone. Errors name the key path.
pub(crate) fn interpolate(
    node: &mut Yaml,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    file: &str,
    issues: &mut Vec<ConfigIssue>,
) {
    match node {
        Yaml::String(s) if s.contains('$') => match interpolate_str(s, env) {
            Ok(v) => *s = v,
            Err(msg) => issues.push(ConfigIssue::new(file, path, msg)),
        },
        Yaml::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate(item, &format!("{path}[{i}]"), env, file, issues);
            }
        }
        Yaml::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => serde_norway::to_string(other)
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default(),
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                interpolate(v, &child, env, file, issues);
            }
        }
        Yaml::Tagged(t) => interpolate(&mut t.value, path, env, file, issues),
        _ => {}
    }
}

/// `${NAME}` / `${NAME:-default}` replaced from `env` (an unset or empty
/// variable without default is an error); `$$` is a literal `$`.
pub fn interpolate_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                format!("unterminated `${{` in {s:?} (write `$$` for a literal `$`)")
            })?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{inner}}}`: expected an environment variable name (letters, digits, `_`)"
                ));
            }
            match (env(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "environment variable {name} is not set (referenced as `${{{name}}}`; `${{{name}:-default}}` gives a default)"
                    ))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PW" => Some("s3cr$t".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn interpolation_replaces_variables_defaults_and_escapes() {
        assert_eq!(interpolate_str("${PW}", &env).unwrap(), "s3cr$t");
        assert_eq!(interpolate_str("a-${PW}-b", &env).unwrap(), "a-s3cr$t-b");
        assert_eq!(interpolate_str("${NOPE:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(interpolate_str("${EMPTY:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(interpolate_str("$$2b$12$x", &env).unwrap(), "$2b$12$x");
        assert_eq!(interpolate_str("cost $5", &env).unwrap(), "cost $5");
        assert!(interpolate_str("${NOPE}", &env)
            .unwrap_err()
            .contains("NOPE is not set"));
        assert!(interpolate_str("${PW", &env)
            .unwrap_err()
            .contains("unterminated"));
        assert!(interpolate_str("${1X}", &env).is_err());
    }

    #[test]
    fn durations_accept_numbers_and_units() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5 minutes"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("-5s"), None);
    }
}
