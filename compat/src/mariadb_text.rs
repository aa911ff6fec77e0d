//! Parser for the row blocks of `mariadb-binlog -v --base64-output=decode-rows`
//! output (the `.mariadb-binlog.txt` transcripts beside the corpus files):
//!
//! ```text
//! # at 384
//! #180504  8:31:59 server id 1  end_log_pos 486 ...  Write_rows: table id 215 flags: STMT_END_F
//! ### INSERT INTO `simu_file_dev`.`folder`
//! ### SET
//! ###   @1=5
//! ###   @2='abc'
//! ```
//!
//! UPDATE blocks have `### WHERE` (before image) then `### SET` (after
//! image); DELETE blocks only `### WHERE`. Columns absent from a partial
//! image are simply not listed. The transcripts are bytes, not UTF-8: string
//! values are written raw in the column's charset (latin1 in sakila).

use crate::canon::Op;

/// One value as mariadb-binlog printed it.
#[derive(Debug, Clone, PartialEq)]
pub enum MValue {
    Null,
    /// `'…'`: the raw bytes, with mariadb-binlog's `\xNN` escapes (used for
    /// bytes below 0x20) undone.
    Quoted(Vec<u8>),
    /// `b'0101'`: BIT and some SET values, most significant bit first.
    Bits(String),
    /// `-1064764973 (3230202323)`: an integer printed signed, then unsigned
    /// in parentheses because it was negative as signed (mariadb-binlog
    /// does not know signedness).
    SignedUnsigned(String, String),
    /// Anything else, trimmed: integers, decimals, `%g` floats, TIMESTAMP
    /// seconds.
    Bare(String),
}

/// One `### INSERT/UPDATE/DELETE` block.
#[derive(Debug, Clone, PartialEq)]
pub struct MRow {
    /// The last `# at N` seen before the block.
    pub at: Option<u64>,
    /// `db.table`.
    pub table: String,
    pub op: Op,
    /// `(column number starting at 1, value)` in printed order.
    pub before: Option<Vec<(usize, MValue)>>,
    pub after: Option<Vec<(usize, MValue)>>,
}

/// Every row block of a transcript, in order.
pub fn parse_transcript(text: &[u8]) -> Result<Vec<MRow>, String> {
    let mut rows: Vec<MRow> = Vec::new();
    let mut at: Option<u64> = None;
    // Which image of the last row `@N=` lines go to: false = before, true = after.
    let mut in_after = false;
    for (lineno, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(b"# at ") {
            at = std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            continue;
        }
        let Some(rest) = line.strip_prefix(b"### ") else {
            continue;
        };
        let err = |what: &str| {
            format!(
                "line {}: {what}: {}",
                lineno + 1,
                String::from_utf8_lossy(line)
            )
        };
        if let Some(table) = rest.strip_prefix(b"INSERT INTO ") {
            rows.push(new_row(at, table, Op::Insert).ok_or_else(|| err("bad table name"))?);
        } else if let Some(table) = rest.strip_prefix(b"UPDATE ") {
            rows.push(new_row(at, table, Op::Update).ok_or_else(|| err("bad table name"))?);
        } else if let Some(table) = rest.strip_prefix(b"DELETE FROM ") {
            rows.push(new_row(at, table, Op::Delete).ok_or_else(|| err("bad table name"))?);
        } else if rest == b"WHERE" {
            let row = rows.last_mut().ok_or_else(|| err("WHERE outside a row"))?;
            row.before = Some(Vec::new());
            in_after = false;
        } else if rest == b"SET" {
            let row = rows.last_mut().ok_or_else(|| err("SET outside a row"))?;
            row.after = Some(Vec::new());
            in_after = true;
        } else if let Some(assign) = rest.strip_prefix(b"  @") {
            let eq = assign
                .iter()
                .position(|&b| b == b'=')
                .ok_or_else(|| err("no '='"))?;
            let column: usize = std::str::from_utf8(&assign[..eq])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| err("bad column number"))?;
            let value = parse_value(&assign[eq + 1..]).ok_or_else(|| err("bad value"))?;
            let row = rows.last_mut().ok_or_else(|| err("value outside a row"))?;
            let image = if in_after {
                row.after.as_mut()
            } else {
                row.before.as_mut()
            };
            image
                .ok_or_else(|| err("value before WHERE/SET"))?
                .push((column, value));
        }
    }
    Ok(rows)
}

fn new_row(at: Option<u64>, table: &[u8], op: Op) -> Option<MRow> {
    // `db`.`table`
    let s = String::from_utf8_lossy(table);
    let s = s.trim();
    let inner = s.strip_prefix('`')?.strip_suffix('`')?;
    let (db, t) = inner.split_once("`.`")?;
    Some(MRow {
        at,
        table: format!("{db}.{t}"),
        op,
        before: None,
        after: None,
    })
}

fn parse_value(raw: &[u8]) -> Option<MValue> {
    if let Some(body) = raw.strip_prefix(b"'") {
        // Quotes inside values are not escaped, so the value runs to the
        // last quote on the line.
        let end = body.iter().rposition(|&b| b == b'\'')?;
        return Some(MValue::Quoted(unescape(&body[..end])));
    }
    let text = std::str::from_utf8(raw).ok()?.trim();
    if text == "NULL" {
        return Some(MValue::Null);
    }
    if let Some(bits) = text.strip_prefix("b'").and_then(|b| b.strip_suffix('\'')) {
        return Some(MValue::Bits(bits.to_string()));
    }
    if let Some((signed, rest)) = text.split_once(" (") {
        let unsigned = rest.strip_suffix(')')?;
        return Some(MValue::SignedUnsigned(
            signed.trim().to_string(),
            unsigned.to_string(),
        ));
    }
    Some(MValue::Bare(text.to_string()))
}

/// Undo `\xNN` (mariadb-binlog escapes only bytes below 0x20 this way;
/// every other byte, quotes and backslashes included, is written raw).
fn unescape(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' && body.get(i + 1) == Some(&b'x') {
            if let Some(byte) = body
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|b| *b < 0x20)
            {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_insert_update_delete_blocks() {
        let text = b"# at 100\n### INSERT INTO `db`.`t`\n### SET\n###   @1=5\n###   @2='a'b'\n###   @3=NULL\n\
# at 200\n### UPDATE `db`.`t`\n### WHERE\n###   @1=-1 (4294967295)\n### SET\n###   @1=b'101'\n###   @2=1.5                 \n\
### DELETE FROM `db`.`t`\n### WHERE\n###   @2='x\\x0ay'\n";
        let rows = parse_transcript(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].at, Some(100));
        assert_eq!(rows[0].table, "db.t");
        assert_eq!(
            rows[0].after.as_deref().unwrap(),
            &[
                (1, MValue::Bare("5".into())),
                (2, MValue::Quoted(b"a'b".to_vec())),
                (3, MValue::Null)
            ]
        );
        assert_eq!(rows[1].op, Op::Update);
        assert_eq!(
            rows[1].before.as_deref().unwrap(),
            &[(1, MValue::SignedUnsigned("-1".into(), "4294967295".into()))]
        );
        assert_eq!(
            rows[1].after.as_deref().unwrap(),
            &[
                (1, MValue::Bits("101".into())),
                (2, MValue::Bare("1.5".into()))
            ]
        );
        assert_eq!(rows[2].op, Op::Delete);
        assert!(rows[2].after.is_none());
        assert_eq!(
            rows[2].before.as_deref().unwrap(),
            &[(2, MValue::Quoted(b"x\ny".to_vec()))]
        );
    }
}
