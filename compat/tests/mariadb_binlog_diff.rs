//! Differential test against `mariadb-binlog -v --base64-output=decode-rows`:
//! for every corpus file whose saved transcript (`FILE.mariadb-binlog.txt`)
//! MANIFEST.md says decoded fully, every `### INSERT/UPDATE/DELETE` block must
//! match our row changes in order, table, operation, which columns each image
//! holds, and every value.
//!
//! Our side is rendered with `binlog::value::render::write_text_value` (meant
//! to be mysqlbinlog-like) wherever the two print alike; the documented
//! differences are normalized as follows:
//!
//! | value                 | mariadb-binlog prints                     | we compare                                   |
//! |-----------------------|-------------------------------------------|----------------------------------------------|
//! | NULL                  | `NULL`                                    | text `NULL`                                  |
//! | signed/unsigned ints  | `5`; negative-as-signed also `(unsigned)`: `-1 (4294967295)` — it does not know signedness | ours `Int` vs the first number, ours `UInt` vs the parenthesized one |
//! | DECIMAL               | digits with the column's scale            | text, exactly                                |
//! | FLOAT                 | `%-20g` (6 significant digits, padded)    | relative difference ≤ 5e-6                   |
//! | DOUBLE                | `%-.20g`                                  | relative difference ≤ 1e-15                  |
//! | YEAR                  | the number                                | the number                                   |
//! | DATE                  | `'YYYY:MM:DD'` (colons: a mariadb-binlog quirk) | ours `'YYYY-MM-DD'` with `-` for `:`   |
//! | DATETIME, TIME        | quoted, with the column's fraction digits | text, exactly                                |
//! | TIMESTAMP(2)          | Unix seconds, `secs.fraction` with fsp digits | ours seconds and micros (we render TIMESTAMP as a UTC date-time) |
//! | ENUM                  | the index                                 | ours index (we render the label when the table map has labels) |
//! | SET, BIT              | `b'0101…'` (bits of whole bytes for SET)  | the integer value                            |
//! | strings, blobs        | raw bytes of the column's charset in quotes, bytes < 0x20 as `\xNN` | ours `Text` re-read from those bytes by the collation (latin1 = cp1252, gbk, gb18030, else UTF-8); ours `Bytes` byte for byte |

mod common;

use binlog::column::ColumnDef;
use binlog::value::{render, Value};
use binlog_compat::canon;
use binlog_compat::corpus;
use binlog_compat::mariadb_text::{self, MValue};

fn ours_text(v: &Value<'_>, col: &ColumnDef) -> String {
    let mut out = Vec::new();
    render::write_text_value(&mut out, v, col);
    String::from_utf8_lossy(&out).into_owned()
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// Why `m` (mariadb-binlog) and `v` (ours) differ, or `None` if they agree.
fn value_mismatch(m: &MValue, v: &Value<'_>, col: &ColumnDef) -> Option<String> {
    let ok = match (m, v) {
        (MValue::Null, Value::Null) => true,
        (MValue::SignedUnsigned(s, _), Value::Int(i)) => *s == i.to_string(),
        (MValue::SignedUnsigned(_, u), Value::UInt(x)) => *u == x.to_string(),
        (MValue::Bare(n), Value::Int(_) | Value::UInt(_) | Value::Decimal(_)) => {
            *n == ours_text(v, col)
        }
        (MValue::Bare(n), Value::Year(y)) => n.parse::<u16>().ok() == Some(*y),
        (MValue::Bare(n), Value::Float(f)) => n
            .parse::<f64>()
            .is_ok_and(|m| close(m, f64::from(*f), 5e-6)),
        (MValue::Bare(n), Value::Double(d)) => n.parse::<f64>().is_ok_and(|m| close(m, *d, 1e-15)),
        (MValue::Bare(n), Value::Timestamp(ts)) => {
            let (secs, frac) = n.split_once('.').unwrap_or((n, ""));
            let micros = format!("{frac:0<6}").parse::<u32>().ok();
            secs.parse::<u32>().ok() == Some(ts.seconds) && micros == Some(ts.micros)
        }
        (MValue::Bare(n), Value::Enum(i)) => n.parse::<u16>().ok() == Some(*i),
        (MValue::Bits(b), Value::Bit { bits, .. } | Value::Set(bits)) => {
            u64::from_str_radix(b, 2).ok() == Some(*bits)
        }
        (MValue::Quoted(b), Value::Text(s)) => {
            canon::text_or_bytes(b, col.charset.unwrap_or(0)) == canon::text(s)
        }
        (MValue::Quoted(b), Value::Bytes(x)) => b[..] == x[..],
        (MValue::Quoted(b), Value::Date(_)) => {
            let theirs = String::from_utf8_lossy(b).replace(':', "-");
            theirs == unquote(&ours_text(v, col))
        }
        (MValue::Quoted(b), Value::DateTime(_) | Value::Time(_)) => {
            String::from_utf8_lossy(b) == unquote(&ours_text(v, col))
        }
        _ => false,
    };
    if ok {
        None
    } else {
        Some(format!(
            "mariadb-binlog {m:?} | ours {v:?} (text {})",
            ours_text(v, col)
        ))
    }
}

fn compare_image(
    at: &str,
    image: &str,
    theirs: &[(usize, MValue)],
    ours: &[Option<Value<'_>>],
    columns: &[ColumnDef],
    mismatches: &mut Vec<String>,
) -> usize {
    let ours_present: Vec<usize> = ours
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_some())
        .map(|(i, _)| i + 1)
        .collect();
    let theirs_present: Vec<usize> = theirs.iter().map(|(c, _)| *c).collect();
    if ours_present != theirs_present {
        mismatches.push(format!(
            "{at}: {image} image columns: ours {ours_present:?}, mariadb-binlog {theirs_present:?}"
        ));
        return 0;
    }
    let mut compared = 0;
    for (c, m) in theirs {
        let (Some(Some(v)), Some(col)) = (ours.get(c - 1), columns.get(c - 1)) else {
            continue;
        };
        compared += 1;
        if let Some(why) = value_mismatch(m, v, col) {
            mismatches.push(format!("{at}: {image} @{c}: {why}"));
        }
    }
    compared
}

#[test]
fn every_row_equals_mariadb_binlog_transcript() {
    let Some(dir) = corpus::require_fixtures("mariadb_binlog_diff") else {
        return;
    };
    let fully = corpus::mariadb_fully_decoded(&dir).expect("read MANIFEST.md");
    assert!(
        !fully.is_empty(),
        "MANIFEST.md lists no fully decoded transcript"
    );
    let mut failures = Vec::new();
    let (mut total_rows, mut total_values, mut files) = (0usize, 0usize, 0usize);
    for path in corpus::binlog_files(&dir) {
        let name = corpus::display_name(&dir, &path);
        let Some(txt) = corpus::mariadb_transcript(&path) else {
            continue;
        };
        if !fully.contains(&name) {
            eprintln!("{name}: not compared (MANIFEST: mariadb-binlog did not decode it fully)");
            continue;
        }
        files += 1;
        let bytes = corpus::read_binlog(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let transcript = std::fs::read(&txt).unwrap_or_else(|e| panic!("{}: {e}", txt.display()));
        let theirs = mariadb_text::parse_transcript(&transcript)
            .unwrap_or_else(|e| panic!("{}: {e}", txt.display()));
        let (ours, error) = common::decode_ours_values(&bytes);
        let mut mismatches = Vec::new();
        if ours.len() != theirs.len() {
            mismatches.push(format!(
                "{name}: {} rows decoded by us, {} in the transcript (our error: {error:?})",
                ours.len(),
                theirs.len()
            ));
        }
        let mut values = 0;
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let at = format!(
                "{name}: row {i} (our event at {}, transcript '# at {}')",
                o.event_offset,
                t.at.map_or("?".to_string(), |a| a.to_string())
            );
            let table = format!("{}.{}", o.table.database, o.table.table);
            if table != t.table || o.op != t.op {
                mismatches.push(format!(
                    "{at}: ours {} {table}, mariadb-binlog {} {}",
                    o.op.as_str(),
                    t.op.as_str(),
                    t.table
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
                        values +=
                            compare_image(&at, image, tv, ov, &o.table.columns, &mut mismatches)
                    }
                    _ => mismatches.push(format!(
                        "{at}: {image} image in ours: {}, in mariadb-binlog: {}",
                        ov.is_some(),
                        tv.is_some()
                    )),
                }
            }
        }
        eprintln!(
            "{name:<62} {:>6} rows {:>7} values{}",
            ours.len().min(theirs.len()),
            values,
            if mismatches.is_empty() {
                String::new()
            } else {
                format!("  [{} MISMATCHES]", mismatches.len())
            }
        );
        total_rows += ours.len().min(theirs.len());
        total_values += values;
        let n = mismatches.len();
        failures.extend(mismatches.into_iter().take(20));
        if n > 20 {
            failures.push(format!("{name}: … {} more", n - 20));
        }
    }
    eprintln!("compared {files} transcripts, {total_rows} rows, {total_values} values");
    assert!(
        failures.is_empty(),
        "{} differences from mariadb-binlog:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total_rows > 40_000, "only {total_rows} rows compared");
}

#[test]
fn documented_normalizations_accept_only_equal_values() {
    use binlog::column::column_type as ct;
    use binlog::value::{Date, Timestamp};
    use std::borrow::Cow;

    let int = ColumnDef::new(ct::LONG, 0);
    let both = MValue::SignedUnsigned("-1".into(), "4294967295".into());
    assert_eq!(
        value_mismatch(&both, &Value::UInt(4_294_967_295), &int),
        None
    );
    assert_eq!(value_mismatch(&both, &Value::Int(-1), &int), None);
    assert!(value_mismatch(&both, &Value::UInt(4_294_967_294), &int).is_some());
    assert!(value_mismatch(&MValue::Bare("5".into()), &Value::Int(6), &int).is_some());

    let date = ColumnDef::new(ct::DATE, 0);
    let d = |day| {
        Value::Date(Date {
            year: 2024,
            month: 1,
            day,
        })
    };
    assert_eq!(
        value_mismatch(&MValue::Quoted(b"2024:01:02".to_vec()), &d(2), &date),
        None
    );
    assert!(value_mismatch(&MValue::Quoted(b"2024:01:02".to_vec()), &d(3), &date).is_some());

    let float = ColumnDef::new(ct::FLOAT, 4);
    assert_eq!(
        value_mismatch(&MValue::Bare("1.1".into()), &Value::Float(1.1), &float),
        None
    );
    assert!(value_mismatch(&MValue::Bare("1.1".into()), &Value::Float(1.2), &float).is_some());

    let ts = ColumnDef::new(ct::TIMESTAMP2, 1);
    let t = |seconds, micros| {
        Value::Timestamp(Timestamp {
            seconds,
            micros,
            fsp: 1,
        })
    };
    assert_eq!(
        value_mismatch(
            &MValue::Bare("1650493084.5".into()),
            &t(1_650_493_084, 500_000),
            &ts
        ),
        None
    );
    assert!(value_mismatch(
        &MValue::Bare("1650493084.5".into()),
        &t(1_650_493_084, 0),
        &ts
    )
    .is_some());

    let mut latin1 = ColumnDef::new(ct::VARCHAR, 40);
    latin1.charset = Some(8);
    let text = |s: &'static str| Value::Text(Cow::Borrowed(s));
    assert_eq!(
        value_mismatch(&MValue::Quoted(b"caf\xe9".to_vec()), &text("café"), &latin1),
        None
    );
    assert!(value_mismatch(&MValue::Quoted(b"caf\xe9".to_vec()), &text("cafe"), &latin1).is_some());
    assert!(value_mismatch(&MValue::Quoted(b"abc".to_vec()), &Value::Int(1), &latin1).is_some());
}
