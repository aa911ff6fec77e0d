//! Backend-independent pieces: search text, row rebuilding, checkpoint order,
//! rollup aggregation, stats assembly.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use pipeline::record::{ChangeKey, Checkpoint, Operation};
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use crate::error::{Result, StoreError};
use crate::types::*;

pub(crate) fn op_code(op: Operation) -> i64 {
    match op {
        Operation::Insert => 1,
        Operation::Update => 2,
        Operation::Delete => 3,
    }
}

pub(crate) fn op_from_code(code: i64) -> Result<Operation> {
    match code {
        1 => Ok(Operation::Insert),
        2 => Ok(Operation::Update),
        3 => Ok(Operation::Delete),
        other => Err(StoreError::Layout(format!("operation code {other}"))),
    }
}

pub(crate) fn check_limit(limit: u32) -> Result<u32> {
    match limit {
        0 => Err(StoreError::invalid("limit", "must be at least 1")),
        n if n > MAX_LIMIT => Err(StoreError::invalid("limit", format!("at most {MAX_LIMIT}"))),
        n => Ok(n),
    }
}

pub(crate) fn check_range(range: &TimeRange) -> Result<()> {
    if let (Some(s), Some(e)) = (range.start, range.end) {
        if s > e {
            return Err(StoreError::invalid("time range", "start is after end"));
        }
    }
    Ok(())
}

/// The text indexed for full-text search: the scalar values of the row
/// (the after image, plus before-image values that differ from it, so an
/// UPDATE is found by its old and its new values), space-separated.
/// Left out, to keep the index lean: binary values (`{"base64": ..}`),
/// dates and times (searched by time range instead), and values already
/// taken from the other image.
pub fn search_text(record: &pipeline::record::ChangeRecord) -> String {
    let old = record.old_data.as_ref().map(|t| t.as_str());
    let new = record.new_data.as_ref().map(|t| t.as_str());
    if let Some(text) = search_text_scan(old, new, record.primary_key.as_str()) {
        return text;
    }
    let old = record.old_data.as_ref().map(|m| m.to_map());
    let new = record.new_data.as_ref().map(|m| m.to_map());
    search_text_of(old.as_ref(), new.as_ref(), &record.primary_key.to_map())
}

/// [`search_text`] from the JSON text of the parts as stored; an error
/// when one is not a JSON object.
pub(crate) fn search_text_of_texts(
    old_data: Option<&str>,
    new_data: Option<&str>,
    primary_key: Option<&str>,
) -> Result<String> {
    if let Some(text) = search_text_scan(old_data, new_data, primary_key.unwrap_or("{}")) {
        return Ok(text);
    }
    let parse = |t: Option<&str>| -> Result<Option<Map<String, Json>>> {
        Ok(t.map(serde_json::from_str).transpose()?)
    };
    let pk = parse(primary_key)?.unwrap_or_default();
    Ok(search_text_of(
        parse(old_data)?.as_ref(),
        parse(new_data)?.as_ref(),
        &pk,
    ))
}

/// [`search_text_of`] over the images' JSON text, without building maps:
/// members are split off with their values left as text, which is what
/// the words are copied from and what old and new values are compared by
/// (both images come from the same renderer, so equal values have equal
/// text). This runs per row on the write path. `None` when a part is not
/// a JSON object.
fn search_text_scan(old_data: Option<&str>, new_data: Option<&str>, pk: &str) -> Option<String> {
    fn members(t: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
        serde_json::from_str::<Members<'_>>(t).ok().map(|m| m.0)
    }
    let mut out = String::new();
    match (old_data, new_data) {
        (Some(old), Some(new)) => {
            let new = members(new)?;
            let old = members(old)?;
            for (_, v) in &new {
                push_scalars_text(v, &mut out)?;
            }
            for (k, v) in &old {
                let same = new
                    .iter()
                    .find(|(nk, _)| nk == k)
                    .is_some_and(|(_, nv)| nv.get() == v.get());
                if !same {
                    push_scalars_text(v, &mut out)?;
                }
            }
        }
        (Some(image), None) | (None, Some(image)) => {
            for (_, v) in &members(image)? {
                push_scalars_text(v, &mut out)?;
            }
        }
        (None, None) => {
            for (_, v) in &members(pk)? {
                push_scalars_text(v, &mut out)?;
            }
        }
    }
    Some(out)
}

/// [`push_scalars`] for one value given as JSON text.
fn push_scalars_text(v: &RawValue, out: &mut String) -> Option<()> {
    let t = v.get();
    match t.as_bytes().first()? {
        b'n' => {}
        b't' | b'f' => push_word(out, t),
        b'"' => {
            let Text(s) = serde_json::from_str(t).ok()?;
            if !looks_temporal(&s) {
                push_word(out, &s);
            }
        }
        // Arrays and objects (JSON columns, binary values): rare, parsed.
        b'[' | b'{' => push_scalars(&serde_json::from_str(t).ok()?, out),
        // A number, kept as written (serde_json's arbitrary_precision
        // prints it the same way).
        _ => push_word(out, t),
    }
    Some(())
}

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(serde::Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The members of one JSON object in order, values as their JSON text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Text(key)) = map.next_key()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// [`search_text`] from the parts as stored.
pub(crate) fn search_text_of(
    old_data: Option<&Map<String, Json>>,
    new_data: Option<&Map<String, Json>>,
    primary_key: &Map<String, Json>,
) -> String {
    let mut out = String::new();
    match (old_data, new_data) {
        (Some(old), Some(new)) => {
            new.values().for_each(|v| push_scalars(v, &mut out));
            for (k, v) in old {
                if new.get(k) != Some(v) {
                    push_scalars(v, &mut out);
                }
            }
        }
        (Some(image), None) | (None, Some(image)) => {
            image.values().for_each(|v| push_scalars(v, &mut out))
        }
        (None, None) => primary_key.values().for_each(|v| push_scalars(v, &mut out)),
    }
    out
}

fn push_scalars(v: &Json, out: &mut String) {
    match v {
        Json::Null => {}
        Json::Bool(b) => push_word(out, if *b { "true" } else { "false" }),
        Json::Number(n) => push_word(out, &n.to_string()),
        Json::String(s) if looks_temporal(s) => {}
        Json::String(s) => push_word(out, s),
        Json::Array(items) => items.iter().for_each(|i| push_scalars(i, out)),
        Json::Object(map) => {
            if map.len() == 1 && map.contains_key("base64") {
                return;
            }
            map.values().for_each(|i| push_scalars(i, out));
        }
    }
}

/// `YYYY-MM-DD`, optionally followed by ` `/`T` and `HH:MM:SS[.f][Z]`, or a
/// TIME value `[-]H+:MM:SS[.f]`: how VALUES.md renders temporal columns.
fn looks_temporal(s: &str) -> bool {
    fn digits(b: &[u8]) -> bool {
        !b.is_empty() && b.iter().all(u8::is_ascii_digit)
    }
    /// `MM:SS[.f]` (after the hours of a clock).
    fn minutes_seconds(b: &[u8]) -> bool {
        let (whole, frac) = match b.iter().position(|c| *c == b'.') {
            Some(p) => (&b[..p], Some(&b[p + 1..])),
            None => (b, None),
        };
        whole.len() == 5
            && digits(&whole[..2])
            && whole[2] == b':'
            && digits(&whole[3..])
            && frac.is_none_or(digits)
    }
    let b = s.as_bytes();
    if b.len() >= 10
        && digits(&b[..4])
        && b[4] == b'-'
        && digits(&b[5..7])
        && b[7] == b'-'
        && digits(&b[8..10])
    {
        if b.len() == 10 {
            return true;
        }
        let clock = b[11..].strip_suffix(b"Z").unwrap_or(&b[11..]);
        return (b[10] == b' ' || b[10] == b'T')
            && clock.len() >= 8
            && digits(&clock[..2])
            && clock[2] == b':'
            && minutes_seconds(&clock[3..]);
    }
    let t = b.strip_prefix(b"-").unwrap_or(b);
    match t.iter().position(|c| *c == b':') {
        Some(h) if h >= 2 => digits(&t[..h]) && minutes_seconds(&t[h + 1..]),
        _ => false,
    }
}

fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

/// An FTS5 search: the MATCH expression and the words that span several
/// tokens, which the index (detail=none, no positions) cannot check as
/// phrases — candidates must contain them (lower-cased) in their search text.
pub(crate) struct FtsPlan {
    pub expression: String,
    pub phrases: Vec<String>,
}

impl FtsPlan {
    pub fn accepts(&self, record: &pipeline::record::ChangeRecord) -> bool {
        if self.phrases.is_empty() {
            return true;
        }
        let text = search_text(record).to_lowercase();
        self.phrases.iter().all(|p| text.contains(p.as_str()))
    }
}

/// Turns user words into an FTS5 query: every token of every word required
/// (tokens split like unicode61: runs of letters and digits), each quoted so
/// no operator or syntax error can come from the input; a trailing `*`
/// makes the word's last token a prefix.
pub(crate) fn fts5_plan(text: &str) -> Result<FtsPlan> {
    let mut parts = Vec::new();
    let mut phrases = Vec::new();
    for word in text.split_whitespace() {
        let (body, prefix) = match word.strip_suffix('*') {
            Some(b) => (b, true),
            None => (word, false),
        };
        let tokens: Vec<&str> = body
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect();
        for (i, tok) in tokens.iter().enumerate() {
            let star = if prefix && i + 1 == tokens.len() {
                "*"
            } else {
                ""
            };
            parts.push(format!("\"{tok}\"{star}"));
        }
        if tokens.len() > 1 {
            phrases.push(body.to_lowercase());
        }
    }
    if parts.is_empty() {
        return Err(StoreError::invalid("q", "no words to search for"));
    }
    Ok(FtsPlan {
        expression: parts.join(" AND "),
        phrases,
    })
}

/// The same for MySQL's FULLTEXT in boolean mode: every word required.
pub(crate) fn mysql_fulltext_query(text: &str) -> Result<String> {
    let mut parts = Vec::new();
    for word in text.split_whitespace() {
        let (body, prefix) = match word.strip_suffix('*') {
            Some(b) => (b, true),
            None => (word, false),
        };
        let body: String = body.chars().filter(|c| *c != '"').collect();
        if body.is_empty() {
            continue;
        }
        parts.push(if prefix {
            // A prefix cannot be quoted in boolean mode; keep only word chars.
            let clean: String = body
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if clean.is_empty() {
                continue;
            }
            format!("+{clean}*")
        } else {
            format!("+\"{body}\"")
        });
    }
    if parts.is_empty() {
        return Err(StoreError::invalid("q", "no words to search for"));
    }
    Ok(parts.join(" "))
}

/// JSON path of one top-level member, for `json_extract`/`JSON_EXTRACT`.
pub(crate) fn column_path(column: &str) -> Result<String> {
    // SQLite reads the path only up to a NUL ("bad JSON path", a 500).
    if column.is_empty() || column.contains(['"', '\\', '\0']) {
        return Err(StoreError::invalid(
            "column",
            "must be a non-empty name without '\"', '\\' or NUL",
        ));
    }
    Ok(format!("$.\"{column}\""))
}

/// Orders checkpoints by binlog file (numeric extension, as the server
/// numbers them) then position. Files with different base names compare by
/// name.
pub fn compare_checkpoints(a: &Checkpoint, b: &Checkpoint) -> Ordering {
    compare_files(&a.binlog_file, &b.binlog_file).then(a.binlog_pos.cmp(&b.binlog_pos))
}

pub(crate) fn compare_files(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> (&str, Option<u64>) {
        match s.rsplit_once('.') {
            Some((base, ext)) => (base, ext.parse().ok()),
            None => (s, None),
        }
    }
    match (split(a), split(b)) {
        ((ba, Some(x)), (bb, Some(y))) if ba == bb => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Rebuilds a row from its changes (in commit order) up to and including
/// time `at`: INSERT sets the after image, UPDATE overlays its after image
/// (so minimal images add up), DELETE removes the row.
pub fn rebuild_row(history: Vec<StoredChange>, at: u32) -> RowAsOf {
    let mut row: Option<Map<String, Json>> = None;
    let mut last = None;
    let mut applied = 0;
    for change in history {
        if change.record.timestamp > at {
            continue;
        }
        let rec = &change.record;
        match rec.operation {
            Operation::Insert => row = rec.new_data.as_ref().map(|m| m.to_map()),
            Operation::Update => {
                let mut base = row
                    .take()
                    .or_else(|| rec.old_data.as_ref().map(|m| m.to_map()))
                    .unwrap_or_default();
                if let Some(new) = &rec.new_data {
                    for (k, v) in new.to_map() {
                        base.insert(k, v);
                    }
                }
                row = Some(base);
            }
            Operation::Delete => row = None,
        }
        applied += 1;
        last = Some(change);
    }
    RowAsOf {
        exists: row.is_some(),
        row,
        last_change: last,
        changes_applied: applied,
    }
}

/// Per-batch rollup deltas: (table id, minute, op) → (count, min seq, max seq).
#[derive(Default)]
pub(crate) struct RollupDelta {
    pub cells: HashMap<(i64, i64, i64), (i64, i64, i64)>,
}

impl RollupDelta {
    pub fn add(&mut self, table_id: i64, ts: u32, op: i64, seq: i64) {
        let cell = self
            .cells
            .entry((table_id, i64::from(ts) / 60, op))
            .or_insert((0, seq, seq));
        cell.0 += 1;
        cell.1 = cell.1.min(seq);
        cell.2 = cell.2.max(seq);
    }
}

/// Builds [`TableStats`] from rollup rows `(minute, op code, count)`.
pub(crate) fn stats_from_rollups(
    rows: impl IntoIterator<Item = (i64, i64, i64)>,
) -> Result<TableStats> {
    let mut ops = OpCounts::default();
    let mut hourly = [0u64; 24];
    let mut daily: std::collections::BTreeMap<i64, OpCounts> = Default::default();
    for (minute, op, n) in rows {
        let op = op_from_code(op)?;
        let n = u64::try_from(n).unwrap_or(0);
        ops.add(op, n);
        let hour = usize::try_from(minute.rem_euclid(1440) / 60).unwrap_or(0);
        if let Some(h) = hourly.get_mut(hour) {
            *h += n;
        }
        daily.entry(minute.div_euclid(1440)).or_default().add(op, n);
    }
    Ok(TableStats {
        total_changes: ops.total(),
        operations: ops,
        daily: daily
            .into_iter()
            .map(|(day, counts)| DailyCount {
                date: civil_date(day),
                day_start: u32::try_from(day * 86_400).unwrap_or(u32::MAX),
                counts,
            })
            .collect(),
        hourly: hourly
            .iter()
            .enumerate()
            .map(|(h, c)| HourCount {
                hour: h as u8,
                count: *c,
            })
            .collect(),
    })
}

/// Builds a trend series from rollup rows `(minute, op code, count)`.
pub(crate) fn trend_from_rollups(
    rows: impl IntoIterator<Item = (i64, i64, i64)>,
    bucket: Bucket,
) -> Result<Vec<TrendPoint>> {
    let width = bucket.minutes();
    let mut series: std::collections::BTreeMap<i64, OpCounts> = Default::default();
    for (minute, op, n) in rows {
        let op = op_from_code(op)?;
        series
            .entry(minute.div_euclid(width))
            .or_default()
            .add(op, u64::try_from(n).unwrap_or(0));
    }
    Ok(series
        .into_iter()
        .map(|(b, counts)| TrendPoint {
            start: u32::try_from(b * width * 60).unwrap_or(u32::MAX),
            counts,
        })
        .collect())
}

/// `YYYY-MM-DD` of a day number since 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil_date(day: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Rule alerts are kept once per (change, rule): the change's key text.
pub(crate) fn alert_change_key(alert: &Alert) -> Option<String> {
    alert.change.as_ref().map(|k| k.id())
}

/// A saved schema position as a checkpoint, for ordering (`None` when the
/// stored position is negative).
fn schema_key(file: &str, pos: i64) -> Option<Checkpoint> {
    Some(Checkpoint {
        binlog_file: file.to_string(),
        binlog_pos: u64::try_from(pos).ok()?,
        gtid_set: None,
    })
}

/// Of the saved schema positions, the oldest.
pub(crate) fn oldest(keys: Vec<(String, i64)>) -> Option<(String, i64)> {
    keys.into_iter()
        .filter_map(|(file, pos)| Some((schema_key(&file, pos)?, file, pos)))
        .min_by(|a, b| compare_checkpoints(&a.0, &b.0))
        .map(|(_, f, p)| (f, p))
}

/// Of the saved schema positions, the newest at or before `at`.
pub(crate) fn newest_at_or_before(
    keys: Vec<(String, i64)>,
    at: &SchemaPosition,
) -> Option<(String, i64)> {
    let target = Checkpoint {
        binlog_file: at.binlog_file.clone(),
        binlog_pos: at.binlog_pos,
        gtid_set: None,
    };
    keys.into_iter()
        .filter_map(|(file, pos)| {
            let cp = schema_key(&file, pos)?;
            (compare_checkpoints(&cp, &target) != std::cmp::Ordering::Greater)
                .then_some((cp, file, pos))
        })
        .max_by(|a, b| compare_checkpoints(&a.0, &b.0))
        .map(|(_, f, p)| (f, p))
}

/// `file:pos:row` back into a key (the file name may itself hold `:`).
pub(crate) fn parse_change_key(text: &str) -> Option<ChangeKey> {
    let mut parts = text.rsplitn(3, ':');
    let row = parts.next()?.parse().ok()?;
    let pos = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some(ChangeKey {
        binlog_file: file.to_string(),
        event_pos: pos,
        row_index: row,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_alerts_from_the_pipeline_keep_their_change_key() {
        let a = pipeline::rules::Alert {
            rule: "user_deletion".into(),
            priority: pipeline::rules::Priority::High,
            database: "ecommerce".into(),
            table: "users".into(),
            change_id: "mysql-bin.000003:1234:2".into(),
            operation: Operation::Delete,
            timestamp: 7,
            primary_key: Map::new(),
            channels: vec!["email".into()],
            message: "m".into(),
        };
        let stored = Alert::from_rule(&a);
        assert_eq!(stored.change.unwrap().id(), "mysql-bin.000003:1234:2");
        assert_eq!(
            (stored.kind.as_str(), stored.priority.as_str()),
            ("rule", "high")
        );
        assert_eq!(stored.details["channels"][0], "email");
    }

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_737), "2024-01-15");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn temporal_values_are_recognised() {
        for t in [
            "2024-01-15",
            "2024-01-15 10:30:00",
            "2015-01-15T23:24:25.123456Z",
            "0000-00-00 00:00:00",
            "23:24:25",
            "-838:59:59.50",
            "100:00:00",
        ] {
            assert!(looks_temporal(t), "{t}");
        }
        for t in [
            "alice",
            "2024-01-15x",
            "12:30",
            "1:2:3",
            "10.5",
            "2024-01-15 10:30",
            "a2024-01-15",
        ] {
            assert!(!looks_temporal(t), "{t}");
        }
    }

    #[test]
    fn update_search_text_has_new_values_and_changed_old_ones() {
        use serde_json::json;
        let map = |v: Json| match v {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        let rec = pipeline::record::ChangeRecord {
            key: pipeline::record::ChangeKey {
                binlog_file: "f.1".into(),
                event_pos: 4,
                row_index: 0,
            },
            timestamp: 0,
            operation: Operation::Update,
            database: "d".into(),
            table: "t".into(),
            pk_text: "1".into(),
            primary_key: map(json!({"id": 1})).into(),
            old_data: Some(
                map(json!({"id": 1, "s": "old", "at": "2024-01-15 10:30:00", "b": {"base64": "AA=="}}))
                    .into(),
            ),
            new_data: Some(
                map(json!({"id": 1, "s": "new", "at": "2024-01-16 10:30:00", "b": {"base64": "AA=="}}))
                    .into(),
            ),
            changes: pipeline::record::JsonText::empty(),
            gtid: None,
            xid: None,
            query: None,
            tags: vec![],
        };
        assert_eq!(search_text(&rec), "1 new old");
    }

    /// The scan over JSON text must give exactly what the map-based
    /// version gives, for every kind of value the renderer writes.
    #[test]
    fn search_text_scan_matches_the_map_version() {
        use serde_json::json;
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-17),
            json!(18446744073709551615u64),
            json!(1.5),
            json!(-2.5e-7),
            json!("plain"),
            json!("with \"quotes\" and \\ and \n newline"),
            json!("caf\u{e9} \u{1f64f} \u{4e2d}\u{6587}"),
            json!("12999.00"),
            json!("2024-01-15 10:30:00.123"),
            json!("2024-01-15T10:30:00Z"),
            json!("-838:59:59.000000"),
            json!(""),
            json!({"base64": "AAEC"}),
            json!({"a": [1, "x", {"b": null, "c": "deep"}], "d": "2024-01-15"}),
            json!([1, 2, "three"]),
        ];
        let n = values.len();
        let image = |seed: usize| {
            let mut m = Map::new();
            for c in 0..6 {
                m.insert(format!("c{c}"), values[(seed * 7 + c * 3) % n].clone());
            }
            m
        };
        let mut compared = 0;
        for seed in 0..n * 4 {
            let old = image(seed);
            let mut new = old.clone();
            // Change some columns, keep others.
            for (i, v) in new.values_mut().enumerate() {
                if (seed + i) % 3 == 0 {
                    *v = values[(seed + i * 5) % n].clone();
                }
            }
            let pk = image(seed + 1);
            let text = |m: &Map<String, Json>| serde_json::to_string(m).unwrap();
            let (ot, nt, pt) = (text(&old), text(&new), text(&pk));
            for (o, nw) in [
                (Some(&old), Some(&new)),
                (Some(&old), None),
                (None, Some(&new)),
                (None, None),
            ] {
                let want = search_text_of(o, nw, &pk);
                let got = search_text_scan(o.map(|_| ot.as_str()), nw.map(|_| nt.as_str()), &pt);
                assert_eq!(got.as_deref(), Some(want.as_str()), "old {ot} new {nt}");
                compared += 1;
            }
        }
        assert_eq!(compared, 4 * n * 4);
        // Not an object: no answer, and the stored-text entry point errors.
        assert!(search_text_scan(Some("[1]"), None, "{}").is_none());
        assert!(search_text_of_texts(Some("{bad"), None, None).is_err());
        assert_eq!(
            search_text_of_texts(None, Some(r#"{"a":"x y"}"#), Some(r#"{"id":1}"#)).unwrap(),
            "x y"
        );
    }

    #[test]
    fn fts5_query_quotes_every_word() {
        let p = fts5_plan("alice ex*").unwrap();
        assert_eq!(p.expression, "\"alice\" AND \"ex\"*");
        assert!(p.phrases.is_empty());
        let p = fts5_plan("a\"b 15000.00").unwrap();
        assert_eq!(p.expression, "\"a\" AND \"b\" AND \"15000\" AND \"00\"");
        assert_eq!(p.phrases, ["a\"b", "15000.00"]);
        assert!(fts5_plan("  * \"").is_err());
    }

    #[test]
    fn checkpoints_order_by_file_number_then_position() {
        let c = |f: &str, p| Checkpoint {
            binlog_file: f.into(),
            binlog_pos: p,
            gtid_set: None,
        };
        assert_eq!(
            compare_checkpoints(&c("b.999999", 900), &c("b.1000000", 4)),
            Ordering::Less
        );
        assert_eq!(
            compare_checkpoints(&c("b.000002", 4), &c("b.000002", 9)),
            Ordering::Less
        );
    }
}
