//! Differential test: every row value of every binlog in the corpus, decoded
//! by our `binlog` crate and by `mysql_common` (0.38, the reference), must be
//! equal modulo documented representation.
//!
//! Both sides are mapped to the canonical text of `binlog_compat::canon`:
//!
//! | column type            | mysql_common gives              | we give              | canonical form                  |
//! |------------------------|---------------------------------|----------------------|---------------------------------|
//! | (not in image)         | nothing (value skipped)         | `None`               | `<absent>`                      |
//! | NULL                   | `Value::NULL`                   | `Value::Null`        | `NULL`                          |
//! | TINY…LONGLONG, INT24   | `Int` / `UInt` (signedness meta)| `Int` / `UInt`       | decimal integer                 |
//! | FLOAT / DOUBLE         | `Float(f32)` / `Double(f64)`    | same                 | `f32:`/`f64:` + shortest repr   |
//! | NEWDECIMAL             | `Bytes(Decimal::to_string())`   | `Decimal(DecimalText)` | `dec:` + digits                 |
//! | YEAR                   | `Bytes("1900+y")`, 0 → "1900"   | `Year(u16)`, 0 = 0   | `year:NNNN`, mc "1900" → 0000   |
//! | DATE                   | `Date(y,m,d,0,0,0,0)`           | `Date`               | `YYYY-MM-DD`                    |
//! | DATETIME(2)            | `Date(y,m,d,h,mi,s,µs)`         | `DateTime` (+fsp)    | `YYYY-MM-DD HH:MM:SS[.µµµµµµ]`  |
//! | TIME(2)                | `Time(neg,days,h,m,s,µs)`       | `Time` (hours ≤ 838) | `[-]HH:MM:SS[.µµµµµµ]`, h=d*24+h|
//! | TIMESTAMP              | `Int(seconds)`                  | `Timestamp`          | `ts:` + Unix seconds            |
//! | TIMESTAMP2             | `Bytes("secs[.µµµµµµ]")`        | `Timestamp` (+fsp)   | `ts:` + secs[.µµµµµµ]           |
//! | CHAR/VARCHAR/TEXT/BLOB | `Bytes(raw)`                    | `Text` (decoded by the column charset) or `Bytes` | text: quoted string; bytes: `x'hex'`; mc bytes decoded by the collation mysql_common reports (63 binary → bytes, latin1 → cp1252, gbk, gb18030, else UTF-8 when valid) |
//! | ENUM                   | `Int(index)`                    | `Enum(index)`        | `enum:N`                        |
//! | SET                    | `Bytes(LE bitmap)`              | `Set(u64)`           | `set:0x…`                       |
//! | BIT                    | `Bytes(BE bytes)`               | `Bit{bits,width}`    | `bit:0x…` (width not compared)  |
//! | JSON                   | `Jsonb` tree (`parse()` → DOM)  | `Json` tree          | `json:` + keys sorted; int = uint of same value; opaque DECIMAL as digits, temporal as text with zero fractions trimmed |
//! | JSON partial update    | `JsonDiff` list                 | after image with the diffs applied | mc diffs applied by `canon::apply_json_diff` to mc's before image |
//! | GEOMETRY               | `Bytes(SRID LE + WKB)`          | `Geometry{srid,wkb}` | `x'hex'` of SRID LE + WKB       |
//! | VECTOR                 | `Bytes(raw f32 LE)`             | `Vector(raw)`        | `x'hex'`                        |
//!
//! Fractional precision (fsp) is not compared: mysql_common does not keep it.
//!
//! Rows of pre-GA rows events (MySQL 5.1 "alcatel" builds) are not compared:
//! mysql_common does not decode them (it also misreads that file's permuted
//! event types and stops). Where mysql_common stops early (an error, a panic,
//! or silently at a truncated tail) the rows it produced are compared and the
//! stop is reported; we must have decoded at least as many rows.

mod common;

use binlog_compat::canon::CanonRow;
use binlog_compat::{corpus, mc};

/// At most this many mismatches are printed per file.
const MAX_REPORTED: usize = 20;

struct FileReport {
    name: String,
    compared_rows: usize,
    compared_values: usize,
    mc_note: String,
    mismatches: Vec<String>,
}

fn compare_rows(
    name: &str,
    ours: &[CanonRow],
    theirs: &[CanonRow],
    mismatches: &mut Vec<String>,
) -> usize {
    let mut values = 0;
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        let at = format!(
            "{name}: row {i} (event at {}, {} {})",
            t.event_offset,
            t.op.as_str(),
            t.table
        );
        if o.table != t.table || o.op != t.op {
            mismatches.push(format!(
                "{at}: ours is {} {} from event at {}",
                o.op.as_str(),
                o.table,
                o.event_offset
            ));
            continue;
        }
        for (image, ov, tv) in [
            ("before", &o.before, &t.before),
            ("after", &o.after, &t.after),
        ] {
            match (ov, tv) {
                (None, None) => {}
                (Some(ov), Some(tv)) => {
                    if ov.len() != tv.len() {
                        mismatches.push(format!(
                            "{at}: {image} image has {} columns, mysql_common {}",
                            ov.len(),
                            tv.len()
                        ));
                        continue;
                    }
                    for (c, (a, b)) in ov.iter().zip(tv).enumerate() {
                        values += 1;
                        if a != b {
                            mismatches.push(format!(
                                "{at}: {image} @{}: ours {a} | mysql_common {b}",
                                c + 1
                            ));
                        }
                    }
                }
                _ => mismatches.push(format!(
                    "{at}: {image} image present in ours: {}, in mysql_common: {}",
                    ov.is_some(),
                    tv.is_some()
                )),
            }
        }
    }
    values
}

#[test]
fn every_corpus_row_value_equals_mysql_common() {
    let Some(dir) = corpus::require_fixtures("mysql_common_diff") else {
        return;
    };
    let files = corpus::binlog_files(&dir);
    assert!(!files.is_empty(), "no binlogs found in {}", dir.display());
    let mut reports = Vec::new();
    for path in &files {
        let name = corpus::display_name(&dir, path);
        let bytes = corpus::read_binlog(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = common::decode_ours(&bytes);
        let theirs = mc::decode_canonical(&bytes);
        let mut mismatches = Vec::new();

        let mc_complete = theirs.error.is_none() && theirs.stats.end_offset == bytes.len() as u64;
        let mc_note = match (&theirs.error, mc_complete) {
            (Some(e), _) => format!("mysql_common stopped {e}"),
            (None, false) => format!(
                "mysql_common stopped silently at offset {} of {}",
                theirs.stats.end_offset,
                bytes.len()
            ),
            (None, true) => "complete".to_string(),
        };
        if mc_complete && ours.rows.len() != theirs.rows.len() {
            mismatches.push(format!(
                "{name}: we decoded {} rows, mysql_common {} (our error: {:?})",
                ours.rows.len(),
                theirs.rows.len(),
                ours.error
            ));
        } else if ours.rows.len() < theirs.rows.len() {
            mismatches.push(format!(
                "{name}: we decoded only {} rows, mysql_common {} (our error: {:?})",
                ours.rows.len(),
                theirs.rows.len(),
                ours.error
            ));
        }
        let compared_values = compare_rows(&name, &ours.rows, &theirs.rows, &mut mismatches);
        let mut mc_note = mc_note;
        if !ours.pre_ga_rows.is_empty() {
            mc_note.push_str(&format!(
                "; {} pre-GA rows not compared (mysql_common does not decode pre-GA rows events)",
                ours.pre_ga_rows.len()
            ));
        }
        reports.push(FileReport {
            name,
            compared_rows: ours.rows.len().min(theirs.rows.len()),
            compared_values,
            mc_note,
            mismatches,
        });
    }

    let mut failures = Vec::new();
    let (mut rows, mut values) = (0, 0);
    eprintln!("{:<62} {:>7} {:>8}  mysql_common", "file", "rows", "values");
    for r in &reports {
        rows += r.compared_rows;
        values += r.compared_values;
        eprintln!(
            "{:<62} {:>7} {:>8}  {}{}",
            r.name,
            r.compared_rows,
            r.compared_values,
            r.mc_note,
            if r.mismatches.is_empty() {
                String::new()
            } else {
                format!("  [{} MISMATCHES]", r.mismatches.len())
            }
        );
        failures.extend(r.mismatches.iter().take(MAX_REPORTED).cloned());
        if r.mismatches.len() > MAX_REPORTED {
            failures.push(format!(
                "{}: … {} more",
                r.name,
                r.mismatches.len() - MAX_REPORTED
            ));
        }
    }
    eprintln!("compared {rows} rows, {values} values");
    assert!(
        failures.is_empty(),
        "{} differences from mysql_common:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The corpus holds ~47k rows in sakila alone: comparing far fewer means
    // one side silently decoded nothing.
    assert!(rows > 40_000, "only {rows} rows compared");
}
