//! The change record: one row change as the product stores and serves it.
//!
//! Values are JSON following the contract in `VALUES.md` (rendered by
//! `binlog::value::render`), so every later stage — masking, rules, stores,
//! API — works on one self-describing representation.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};

/// Where a change came from in the binlog. `(file, event_pos, row_index)`
/// identifies a change uniquely, which is what makes storage idempotent:
/// a store that sees the same key twice keeps one copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChangeKey {
    pub binlog_file: String,
    /// Offset of the rows event in its file.
    pub event_pos: u64,
    /// Index of the row within the rows event (0-based).
    pub row_index: u32,
}

impl ChangeKey {
    /// Stable textual id, used as the record id in the API
    /// (`mysql-bin.000001:1234:0`).
    pub fn id(&self) -> String {
        format!("{}:{}:{}", self.binlog_file, self.event_pos, self.row_index)
    }
}

/// INSERT, UPDATE or DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }

    /// Parse `INSERT`/`UPDATE`/`DELETE`, case-insensitively.
    pub fn parse(s: &str) -> Option<Operation> {
        match s.to_ascii_uppercase().as_str() {
            "INSERT" => Some(Operation::Insert),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            _ => None,
        }
    }
}

/// One column's before and after value in an UPDATE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChange {
    pub old: Json,
    pub new: Json,
}

/// One row change, after filtering, masking and rule evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub key: ChangeKey,
    /// Source commit time of the event, seconds since the Unix epoch (UTC).
    pub timestamp: u32,
    pub operation: Operation,
    pub database: String,
    pub table: String,
    /// Primary-key column → value; empty when the key is unknown.
    pub primary_key: JsonText,
    /// The primary key as one string, for the row-history index and the
    /// `/api/records/{db}/{table}/{pk}/history` route: a single-column key
    /// is its value as text; a composite key joins the values with `,` in
    /// key order (commas and backslashes inside values escaped with `\`).
    /// See [`primary_key_text`].
    #[serde(default)]
    pub pk_text: String,
    /// Before image (UPDATE, DELETE), tracked columns only.
    pub old_data: Option<JsonText>,
    /// After image (INSERT, UPDATE), tracked columns only.
    pub new_data: Option<JsonText>,
    /// For UPDATE: the columns whose value changed, each
    /// `{"old": …, "new": …}`.
    pub changes: JsonText,
    /// GTID of the transaction (MySQL `uuid:n`, MariaDB `d-s-n`).
    pub gtid: Option<String>,
    pub xid: Option<u64>,
    /// The statement behind the change, when the server logged it
    /// (ANNOTATE_ROWS / ROWS_QUERY).
    pub query: Option<String>,
    /// Names of `track: true` rules that matched.
    pub tags: Vec<String>,
}

impl ChangeRecord {
    pub fn id(&self) -> String {
        self.key.id()
    }
}

/// A JSON object kept as its compact text.
///
/// Records are built once and mostly written out as text (stores, live
/// stream), so images are rendered straight from the decoded values into
/// one string per image instead of a map of owned keys and values; a map
/// per image was most of ingest's allocation and freeing. Consumers that
/// need fields ([`JsonText::to_map`]) parse on demand: the API, replay,
/// alerts, not the write path.
///
/// Invariant: the text is a valid JSON object. Values built here or parsed
/// with [`JsonText::parse`] always are; [`JsonText::from_rendered`] is for
/// the pipeline's own renderer.
#[derive(Clone)]
pub struct JsonText(String);

impl JsonText {
    /// `{}`.
    pub fn empty() -> JsonText {
        JsonText("{}".to_string())
    }

    pub fn from_map(map: &Map<String, Json>) -> JsonText {
        // Serializing a map of JSON values cannot fail (keys are strings).
        JsonText(serde_json::to_string(map).unwrap_or_else(|_| "{}".to_string()))
    }

    /// Text that must be a JSON object (e.g. read back from a store).
    pub fn parse(text: String) -> Result<JsonText, serde_json::Error> {
        serde_json::from_str::<Map<String, Json>>(&text)?;
        Ok(JsonText(text))
    }

    /// Text the pipeline rendered itself as an object (from
    /// `binlog::value::render`, which only writes valid JSON).
    pub(crate) fn from_rendered(text: String) -> JsonText {
        debug_assert!(
            serde_json::from_str::<Map<String, Json>>(&text).is_ok(),
            "{text}"
        );
        JsonText(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == "{}"
    }

    /// The object as a map, in key order.
    pub fn to_map(&self) -> Map<String, Json> {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

impl Default for JsonText {
    fn default() -> JsonText {
        JsonText::empty()
    }
}

impl From<Map<String, Json>> for JsonText {
    fn from(map: Map<String, Json>) -> JsonText {
        JsonText::from_map(&map)
    }
}

impl From<&Map<String, Json>> for JsonText {
    fn from(map: &Map<String, Json>) -> JsonText {
        JsonText::from_map(map)
    }
}

/// Equal when they hold the same object (texts may differ in spacing or
/// escapes).
impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.0 == other.0 || self.to_map() == other.to_map()
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonText, D::Error> {
        Map::<String, Json>::deserialize(d).map(|m| JsonText::from_map(&m))
    }
}

/// Where ingest resumes: the position just after the last transaction whose
/// changes are committed in a store. Stores write it in the same
/// transaction as the batch it follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Checkpoint {
    pub binlog_file: String,
    pub binlog_pos: u64,
    /// Executed GTID set at that point (MySQL set or MariaDB list), when known.
    pub gtid_set: Option<String>,
}

/// See [`ChangeRecord::primary_key_text`].
pub fn primary_key_text(pk: &Map<String, Json>) -> String {
    let mut out = String::new();
    for (i, v) in pk.values().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Null => "NULL".to_string(),
            other => other.to_string(),
        };
        for c in text.chars() {
            if c == ',' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn composite_primary_key_text_escapes_separators() {
        let mut pk = Map::new();
        pk.insert("a".into(), json!(12));
        pk.insert("b".into(), json!("x,y\\z"));
        assert_eq!(primary_key_text(&pk), "12,x\\,y\\\\z");
        let mut one = Map::new();
        one.insert("id".into(), json!("18446744073709551615"));
        assert_eq!(primary_key_text(&one), "18446744073709551615");
    }

    #[test]
    fn operation_parses_case_insensitively() {
        assert_eq!(Operation::parse("delete"), Some(Operation::Delete));
        assert_eq!(Operation::parse("MERGE"), None);
        assert_eq!(Operation::Insert.as_str(), "INSERT");
    }
}
