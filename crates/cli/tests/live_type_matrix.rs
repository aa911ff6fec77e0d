//! Live type matrix: every column type MariaDB can put in a binlog, with edge
//! values, written by a real private server (crates/testkit), decoded by
//! `binlog-analyzer parse --format jsonl`, and compared value by value with
//! what `SELECT` returns, mapped through the JSON value contract (VALUES.md).
//!
//! Server configurations: plain ROW (no optional table-map metadata: no
//! names, signedness, charsets or labels), `--binlog-row-metadata=FULL`,
//! `--log-bin-compress=ON` (compressed row and query events), and
//! `--mysql56-temporal-format=OFF` (the pre-5.6 TIME/DATETIME/TIMESTAMP
//! types). Without metadata the test asserts only what a decoder can know from
//! the binlog. Each configuration also checks that the server really wrote
//! the type codes / event types it is meant to exercise.
//!
//! Besides values: operation, primary key, `changes`, pinned timestamps,
//! binlog file and position, one GTID per transaction, the commit xid or the
//! XA xid, the XA event sequence, and `stats` counts.
//!
//! Every statement group touches each row at most once, so the expected
//! before and after images are table snapshots taken around each group.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use serde_json::Value as Json;
use testkit::{MariaDb, Options};

const DB: &str = "matrix";
const TABLE: &str = "all_types";

/// How a column's values are selected and compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int {
        unsigned: bool,
        bytes: u32,
    },
    Float,
    Double,
    Decimal,
    Year,
    Date,
    Time,
    DateTime,
    Timestamp,
    /// Text in a non-binary charset (CHAR, VARCHAR, TEXT, JSON in MariaDB).
    Text,
    /// BINARY(n): the server strips trailing 0x00 from the row image.
    FixedBinary,
    /// VARBINARY and BLOBs.
    Bytes,
    Bit,
    Enum,
    Set,
    Geometry,
    /// UUID, INET4, INET6: fixed-size binary on the wire, no type info in the
    /// table map, so without a schema they are bytes (trailing zeros stripped).
    FixedBinaryTyped,
    /// MariaDB `TEXT/VARCHAR … COMPRESSED` (type 140/141) and `BLOB COMPRESSED`:
    /// values under column_compression_threshold are stored plain, others
    /// as a header byte + zlib stream.
    CompressedText,
    CompressedBytes,
}

struct Col {
    name: String,
    sql_type: String,
    kind: Kind,
    /// SQL expressions for the four value sets: min, max, typical, other.
    values: [String; 4],
}

const MIN: usize = 0;
const MAX: usize = 1;
const TYPICAL: usize = 2;
const OTHER: usize = 3;

fn col(name: &str, sql_type: &str, kind: Kind, values: [&str; 4]) -> Col {
    Col {
        name: name.to_string(),
        sql_type: sql_type.to_string(),
        kind,
        values: values.map(str::to_string),
    }
}

fn nines(n: usize) -> String {
    "9".repeat(n)
}

/// `.999` with `fsp` digits, or nothing.
fn frac(fsp: usize, digit: char) -> String {
    if fsp == 0 {
        String::new()
    } else {
        format!(".{}", digit.to_string().repeat(fsp))
    }
}

fn columns() -> Vec<Col> {
    use Kind::*;
    let int = |unsigned, bytes| Int { unsigned, bytes };
    let mut cols = vec![
        col(
            "c_tiny",
            "TINYINT",
            int(false, 1),
            ["-128", "127", "0", "-1"],
        ),
        col(
            "c_tiny_u",
            "TINYINT UNSIGNED",
            int(true, 1),
            ["0", "255", "128", "1"],
        ),
        col(
            "c_small",
            "SMALLINT",
            int(false, 2),
            ["-32768", "32767", "-300", "1"],
        ),
        col(
            "c_small_u",
            "SMALLINT UNSIGNED",
            int(true, 2),
            ["0", "65535", "32768", "7"],
        ),
        col(
            "c_medium",
            "MEDIUMINT",
            int(false, 3),
            ["-8388608", "8388607", "-1", "65536"],
        ),
        col(
            "c_medium_u",
            "MEDIUMINT UNSIGNED",
            int(true, 3),
            ["0", "16777215", "8388608", "3"],
        ),
        col(
            "c_int",
            "INT",
            int(false, 4),
            ["-2147483648", "2147483647", "-42", "100000"],
        ),
        col(
            "c_int_u",
            "INT UNSIGNED",
            int(true, 4),
            ["0", "4294967295", "2147483648", "9"],
        ),
        col(
            "c_big",
            "BIGINT",
            int(false, 8),
            [
                "-9223372036854775808",
                "9223372036854775807",
                "-1",
                "4294967296",
            ],
        ),
        col(
            "c_big_u",
            "BIGINT UNSIGNED",
            int(true, 8),
            [
                "0",
                "18446744073709551615",
                "9223372036854775808",
                "12345678901234",
            ],
        ),
        col(
            "c_float",
            "FLOAT",
            Float,
            ["-3.40282e38", "3.40282e38", "1.17549435e-38", "-0.1"],
        ),
        col(
            "c_double",
            "DOUBLE",
            Double,
            [
                "-1.7976931348623157e308",
                "1.7976931348623157e308",
                "4.9e-324",
                "0.1",
            ],
        ),
        col(
            "c_dec_5_2",
            "DECIMAL(5,2)",
            Decimal,
            ["-999.99", "999.99", "0.00", "-0.01"],
        ),
        col(
            "c_dec_4_4",
            "DECIMAL(4,4)",
            Decimal,
            ["-0.9999", "0.9999", "0.0001", "0"],
        ),
        col(
            "c_dec_10_0",
            "DECIMAL(10,0)",
            Decimal,
            ["-9999999999", "9999999999", "1234567890", "0"],
        ),
        col(
            "c_dec_18_9",
            "DECIMAL(18,9)",
            Decimal,
            [
                "-999999999.999999999",
                "999999999.999999999",
                "0.000000001",
                "-123.456",
            ],
        ),
        col(
            "c_dec_20_10",
            "DECIMAL(20,10)",
            Decimal,
            [
                "-9999999999.9999999999",
                "9999999999.9999999999",
                "-1234567890.0123456789",
                "1.1",
            ],
        ),
        Col {
            name: "c_dec_65_30".into(),
            sql_type: "DECIMAL(65,30)".into(),
            kind: Decimal,
            values: [
                format!("-{}.{}", nines(35), nines(30)),
                format!("{}.{}", nines(35), nines(30)),
                format!("0.{}1", "0".repeat(29)),
                "-1.5".into(),
            ],
        },
        col("c_year", "YEAR", Year, ["1901", "2155", "2024", "0"]),
        col(
            "c_date",
            "DATE",
            Date,
            [
                "'1000-01-01'",
                "'9999-12-31'",
                "'2024-02-29'",
                "'0000-00-00'",
            ],
        ),
    ];
    for fsp in 0..=6 {
        let ty = |base: &str| {
            if fsp == 0 {
                base.to_string()
            } else {
                format!("{base}({fsp})")
            }
        };
        let sfx = if fsp == 0 {
            String::new()
        } else {
            format!("_{fsp}")
        };
        cols.push(Col {
            name: format!("c_time{sfx}"),
            sql_type: ty("TIME"),
            kind: Time,
            values: [
                format!("'-838:59:59{}'", frac(fsp, '9')),
                format!("'838:59:59{}'", frac(fsp, '9')),
                "'12:34:56.123456'".into(),
                "'-00:00:01.5'".into(),
            ],
        });
        cols.push(Col {
            name: format!("c_datetime{sfx}"),
            sql_type: ty("DATETIME"),
            kind: DateTime,
            values: [
                "'1000-01-01 00:00:00'".into(),
                format!("'9999-12-31 23:59:59{}'", frac(fsp, '9')),
                "'2024-02-29 12:34:56.123456'".into(),
                "'0000-00-00 00:00:00'".into(),
            ],
        });
        cols.push(Col {
            name: format!("c_timestamp{sfx}"),
            sql_type: ty("TIMESTAMP") + " NULL",
            kind: Timestamp,
            values: [
                "'1970-01-01 00:00:01'".into(),
                format!("'2038-01-19 03:14:07{}'", frac(fsp, '9')),
                "'2024-06-01 12:00:00.654321'".into(),
                "'0000-00-00 00:00:00'".into(),
            ],
        });
    }
    cols.extend([
        col(
            "c_char10",
            "CHAR(10) CHARACTER SET utf8mb4",
            Text,
            ["''", "'😀😀😀😀😀😀😀😀😀😀'", "'abc  '", "'x'"],
        ),
        col(
            "c_char255",
            "CHAR(255) CHARACTER SET utf8mb4",
            Text,
            ["''", "REPEAT('😀', 255)", "REPEAT('é', 255)", "'short'"],
        ),
        col(
            "c_varchar",
            "VARCHAR(300) CHARACTER SET utf8mb4",
            Text,
            ["''", "REPEAT('€', 300)", "'hello 世界 🌍'", "' padded  '"],
        ),
        col(
            "c_latin1",
            "VARCHAR(20) CHARACTER SET latin1",
            Text,
            ["''", "CONCAT('ÿ€’', CONVERT(x'8190' USING latin1))", "'café crème'", "'Grüße'"],
        ),
        col("c_char_latin1", "CHAR(5) CHARACTER SET latin1", Text, ["''", "'ÀÉÎÕÜ'", "'é'", "'a b'"]),
        col(
            "c_gbk",
            "VARCHAR(20) CHARACTER SET gbk",
            Text,
            ["''", "'中文测试'", "'汉字 gbk'", "'龍'"],
        ),
        col(
            "c_utf8mb3",
            "VARCHAR(20) CHARACTER SET utf8mb3",
            Text,
            ["''", "'€€€'", "'naïve'", "'x'"],
        ),
        col(
            "c_binary8",
            "BINARY(8)",
            FixedBinary,
            ["x'00'", "x'FFFFFFFFFFFFFFFF'", "x'0102'", "x'00000000000000FF'"],
        ),
        col(
            "c_varbinary",
            "VARBINARY(300)",
            Bytes,
            ["x''", "REPEAT(x'FF', 300)", "x'00010203'", "x'0000'"],
        ),
        col("c_tinytext", "TINYTEXT", Text, ["''", "REPEAT('a', 255)", "'tiny 🙂'", "'x'"]),
        col("c_text", "TEXT", Text, ["''", "REPEAT('b', 65535)", "'text ✓'", "'y'"]),
        col("c_mediumtext", "MEDIUMTEXT", Text, ["''", "REPEAT('c', 70000)", "'medium'", "'z'"]),
        col("c_longtext", "LONGTEXT", Text, ["''", "REPEAT('ď', 50000)", "'long'", "'w'"]),
        col(
            "c_tinyblob",
            "TINYBLOB",
            Bytes,
            ["x''", "REPEAT(x'FF', 255)", "x'00FF00'", "x'00'"],
        ),
        col("c_blob", "BLOB", Bytes, ["x''", "REPEAT(x'00', 65535)", "x'DEADBEEF'", "x'01'"]),
        col(
            "c_mediumblob",
            "MEDIUMBLOB",
            Bytes,
            ["x''", "REPEAT(x'00FF', 40000)", "x'CAFE'", "x'02'"],
        ),
        col(
            "c_longblob",
            "LONGBLOB",
            Bytes,
            ["x''", "REPEAT(x'DEADBEEF', 30000)", "x'BABE'", "x'03'"],
        ),
        col("c_bit1", "BIT(1)", Bit, ["b'0'", "b'1'", "b'1'", "b'0'"]),
        col("c_bit10", "BIT(10)", Bit, ["b'0'", "b'1111111111'", "b'1010101010'", "b'1'"]),
        col(
            "c_bit64",
            "BIT(64)",
            Bit,
            ["b'0'", "x'FFFFFFFFFFFFFFFF'", "x'8000000000000001'", "x'0100'"],
        ),
        col(
            "c_enum",
            "ENUM('a','b','c','😀','with space')",
            Enum,
            ["'a'", "'with space'", "'😀'", "'b'"],
        ),
        col(
            "c_set",
            "SET('x','y','z','😀')",
            Set,
            ["''", "'x,y,z,😀'", "'y'", "'x,😀'"],
        ),
        col(
            "c_json",
            "JSON",
            Text,
            [
                "'{}'",
                "JSON_OBJECT('big', REPEAT('x', 70000), 'n', 1)",
                r#"'{"a": 1, "b": [true, false, null], "c": "😀", "d": 1.5e300, "e": {"nested": "é"}}'"#,
                "'[]'",
            ],
        ),
        col(
            "c_geometry",
            "GEOMETRY",
            Geometry,
            [
                "ST_GeomFromText('POINT(0 0)')",
                "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))', 4326)",
                "ST_GeomFromText('LINESTRING(1 1,2 2,3 3)')",
                "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1))')",
            ],
        ),
        col(
            "c_point",
            "POINT",
            Geometry,
            ["POINT(-1.5, 2.25)", "POINT(1e300, -1e300)", "POINT(0, 0)", "POINT(1, 2)"],
        ),
        col(
            "c_uuid",
            "UUID",
            FixedBinaryTyped,
            [
                "'00000000-0000-0000-0000-000000000000'",
                "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                "'6ccd780c-baba-1026-9564-5b8c656024db'",
                "'123e4567-e89b-42d3-a456-426614174000'",
            ],
        ),
        col(
            "c_inet4",
            "INET4",
            FixedBinaryTyped,
            ["'0.0.0.0'", "'255.255.255.255'", "'192.168.1.10'", "'10.0.0.0'"],
        ),
        col(
            "c_inet6",
            "INET6",
            FixedBinaryTyped,
            ["'::'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'2001:db8::1'", "'::ffff:192.0.2.1'"],
        ),
    ]);
    // Over 255 labels / 8 members: ENUM and SET take 2 and 8 bytes in the row image.
    let enum_labels: Vec<String> = (1..=300).map(|i| format!("'e{i}'")).collect();
    cols.push(Col {
        name: "c_enum_wide".into(),
        sql_type: format!("ENUM({})", enum_labels.join(",")),
        kind: Enum,
        values: ["'e1'", "'e300'", "'e150'", "'e256'"].map(str::to_string),
    });
    let set_members: Vec<String> = (1..=64).map(|i| format!("s{i}")).collect();
    let quoted: Vec<String> = set_members.iter().map(|m| format!("'{m}'")).collect();
    cols.push(Col {
        name: "c_set_wide".into(),
        sql_type: format!("SET({})", quoted.join(",")),
        kind: Set,
        values: [
            "''".into(),
            format!("'{}'", set_members.join(",")),
            "'s1,s64'".into(),
            "'s33'".into(),
        ],
    });
    cols
}

/// With `mysql56_temporal_format=OFF` MariaDB writes the pre-5.6 TIME,
/// DATETIME and TIMESTAMP types (codes 11, 12, 7) for columns without
/// fractional seconds: the only way to get them from a live server.
fn legacy_temporal_columns() -> Vec<Col> {
    use Kind::*;
    vec![
        col(
            "c_time",
            "TIME",
            Time,
            ["'-838:59:59'", "'838:59:59'", "'12:34:56'", "'-00:00:01'"],
        ),
        col(
            "c_datetime",
            "DATETIME",
            DateTime,
            [
                "'1000-01-01 00:00:00'",
                "'9999-12-31 23:59:59'",
                "'2024-02-29 12:34:56'",
                "'0000-00-00 00:00:00'",
            ],
        ),
        col(
            "c_timestamp",
            "TIMESTAMP NULL",
            Timestamp,
            [
                "'1970-01-01 00:00:01'",
                "'2038-01-19 03:14:07'",
                "'2024-06-01 12:00:00'",
                "'0000-00-00 00:00:00'",
            ],
        ),
        col(
            "c_date",
            "DATE",
            Date,
            [
                "'1000-01-01'",
                "'9999-12-31'",
                "'2024-02-29'",
                "'0000-00-00'",
            ],
        ),
        col("c_year", "YEAR", Year, ["1901", "2155", "2024", "0"]),
    ]
}

/// MariaDB column compression (10.3+): short values are stored plain, long
/// ones zlib-compressed; both forms in one column.
fn compressed_columns() -> Vec<Col> {
    use Kind::*;
    vec![
        col(
            "c_text_comp",
            "TEXT COMPRESSED",
            CompressedText,
            [
                "''",
                "REPEAT('compress me ', 1000)",
                "'short é'",
                "REPEAT('中文', 300)",
            ],
        ),
        col(
            "c_varchar_comp",
            "VARCHAR(1000) COMPRESSED",
            CompressedText,
            ["''", "REPEAT('z', 1000)", "'abc'", "REPEAT('ab😀', 150)"],
        ),
        col(
            "c_latin1_comp",
            "TEXT CHARACTER SET latin1 COMPRESSED",
            CompressedText,
            ["''", "REPEAT('café ', 500)", "'ÿ'", "'x'"],
        ),
        col(
            "c_blob_comp",
            "BLOB COMPRESSED",
            CompressedBytes,
            [
                "x''",
                "REPEAT(x'00', 5000)",
                "x'01'",
                "REPEAT(x'0102FF', 100)",
            ],
        ),
    ]
}

/// One snapshot cell: the values `SELECT` gives for a column, both the
/// human form (text, or UTF-8 bytes of text) and the raw stored form.
#[derive(Clone, Debug, PartialEq)]
struct Cell {
    /// `None` is SQL NULL.
    text: Option<String>,
    raw: Option<Vec<u8>>,
}

type Row = Vec<Cell>;
type Snapshot = BTreeMap<i64, Row>;

/// Two select expressions per column: (text, raw).
fn select_exprs(c: &Col) -> (String, String) {
    let n = &c.name;
    match c.kind {
        Kind::Int { .. } | Kind::Decimal | Kind::Double => (n.clone(), n.clone()),
        // FLOAT prints with 6 digits; widened to DOUBLE it prints exactly.
        Kind::Float => (format!("{n} + 0e0"), format!("{n} + 0e0")),
        Kind::Year => (n.clone(), format!("{n} + 0")),
        Kind::Date | Kind::Time | Kind::DateTime | Kind::Timestamp => (n.clone(), n.clone()),
        Kind::Text | Kind::CompressedText => (
            format!("HEX(CONVERT({n} USING utf8mb4))"),
            format!("HEX({n})"),
        ),
        Kind::FixedBinary
        | Kind::Bytes
        | Kind::CompressedBytes
        | Kind::Geometry
        | Kind::FixedBinaryTyped => (format!("HEX({n})"), format!("HEX({n})")),
        Kind::Bit => (format!("{n} + 0"), format!("{n} + 0")),
        // `+ 0` would give a 64-member SET's top bit as a negative number.
        Kind::Enum | Kind::Set => (
            format!("HEX(CONVERT({n} USING utf8mb4))"),
            format!("CAST({n} AS UNSIGNED)"),
        ),
    }
}

/// Text selected as HEX of its UTF-8 form (exact even for NUL and odd bytes).
fn is_hex_text(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Text | Kind::CompressedText | Kind::Enum | Kind::Set
    )
}

fn is_hex_raw(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::Int { .. }
            | Kind::Float
            | Kind::Double
            | Kind::Decimal
            | Kind::Year
            | Kind::Date
            | Kind::Time
            | Kind::DateTime
            | Kind::Timestamp
            | Kind::Bit
            | Kind::Enum
            | Kind::Set
    )
}

fn snapshot(db: &MariaDb, cols: &[Col]) -> Snapshot {
    let mut exprs = vec!["id".to_string()];
    for c in cols {
        let (t, r) = select_exprs(c);
        exprs.push(t);
        exprs.push(r);
    }
    let sql = format!(
        "SET time_zone = '+00:00'; SELECT {} FROM {DB}.{TABLE} ORDER BY id",
        exprs.join(", ")
    );
    let rows = db.query(&sql).expect("snapshot query");
    let mut snap = Snapshot::new();
    for row in rows {
        let mut cells = row.into_iter();
        let id: i64 = cells
            .next()
            .flatten()
            .expect("id")
            .parse()
            .expect("numeric id");
        let mut out = Vec::with_capacity(cols.len());
        for c in cols {
            let text = cells.next().expect("text cell");
            let raw = cells.next().expect("raw cell");
            let text = if is_hex_text(c.kind) {
                text.map(|h| String::from_utf8(unhex(&h)).expect("text column is UTF-8"))
            } else {
                text
            };
            let raw = raw.map(|r| {
                if is_hex_raw(c.kind) {
                    unhex(&r)
                } else {
                    r.into_bytes()
                }
            });
            out.push(Cell { text, raw });
        }
        snap.insert(id, out);
    }
    snap
}

#[derive(Debug)]
struct Expected {
    operation: &'static str,
    id: i64,
    old: Option<Row>,
    new: Option<Row>,
    /// Index of the step (one transaction each) and what it was, for messages.
    step: usize,
    step_name: String,
    /// The pinned statement time (SET TIMESTAMP), seconds since the epoch.
    timestamp: i64,
    /// The XA transaction's xid, for rows inside it.
    xa: bool,
}

/// 2025-01-01 09:00:00 UTC; step n runs at this plus n minutes.
const BASE_TIME: i64 = 1_735_722_000;
const XA_XID: (&str, &str, u32) = ("matrix1", "b1", 1);

/// Runs statement groups and records the row changes each must produce.
/// Each group touches a row at most once, so the expected images are the
/// table snapshots around it.
struct Workload<'a> {
    db: &'a MariaDb,
    cols: &'a [Col],
    expected: Vec<Expected>,
    steps: usize,
    snapshot: Snapshot,
}

impl Workload<'_> {
    fn step(&mut self, name: &str, sql: &str, touched: &[(&'static str, i64)], xa: bool) {
        let step = self.steps;
        self.steps += 1;
        let timestamp = BASE_TIME + 60 * step as i64;
        self.db
            .exec(&format!(
                "SET time_zone = '+00:00'; SET TIMESTAMP = {timestamp}; USE {DB}; {sql}"
            ))
            .unwrap_or_else(|e| panic!("step {name}: {e:#}"));
        let before = std::mem::replace(&mut self.snapshot, snapshot(self.db, self.cols));
        let after = &self.snapshot;
        for &(operation, id) in touched {
            let old = before.get(&id).cloned();
            let new = after.get(&id).cloned();
            match operation {
                "INSERT" => assert!(old.is_none() && new.is_some(), "{name}: insert {id}"),
                "UPDATE" => assert!(old.is_some() && new.is_some(), "{name}: update {id}"),
                "DELETE" => assert!(old.is_some() && new.is_none(), "{name}: delete {id}"),
                _ => unreachable!(),
            }
            self.expected.push(Expected {
                operation,
                id,
                old,
                new,
                step,
                step_name: name.to_string(),
                timestamp,
                xa,
            });
        }
    }
}

fn insert_sql(cols: &[Col], id: i64, set: usize) -> String {
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let values: Vec<&str> = cols.iter().map(|c| c.values[set].as_str()).collect();
    format!(
        "INSERT INTO {TABLE} (id, {}) VALUES ({id}, {});",
        names.join(", "),
        values.join(", ")
    )
}

fn update_sql(cols: &[Col], id: i64, set: Option<usize>) -> String {
    let assignments: Vec<String> = cols
        .iter()
        .map(|c| {
            format!(
                "{} = {}",
                c.name,
                set.map_or("NULL", |s| c.values[s].as_str())
            )
        })
        .collect();
    format!(
        "UPDATE {TABLE} SET {} WHERE id = {id};",
        assignments.join(", ")
    )
}

struct Run {
    cols: Vec<Col>,
    expected: Vec<Expected>,
    files: Vec<PathBuf>,
}

fn run_workload(db: &MariaDb, cols: Vec<Col>) -> Run {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("{} {}", c.name, c.sql_type))
        .collect();
    db.exec(&format!(
        "CREATE DATABASE {DB} DEFAULT CHARACTER SET utf8mb4; \
         CREATE TABLE {DB}.{TABLE} (id INT NOT NULL PRIMARY KEY, {}) ENGINE=InnoDB ROW_FORMAT=DYNAMIC",
        defs.join(", ")
    ))
    .expect("create the matrix table");

    let mut w = Workload {
        db,
        cols: &cols,
        expected: Vec::new(),
        steps: 0,
        snapshot: Snapshot::new(),
    };
    let c = &cols;
    w.step(
        "insert min",
        &insert_sql(c, 1, MIN),
        &[("INSERT", 1)],
        false,
    );
    w.step(
        "insert max",
        &insert_sql(c, 2, MAX),
        &[("INSERT", 2)],
        false,
    );
    let nulls = format!("INSERT INTO {TABLE} (id) VALUES (3);");
    w.step("insert nulls", &nulls, &[("INSERT", 3)], false);
    w.step(
        "insert typical",
        &insert_sql(c, 4, TYPICAL),
        &[("INSERT", 4)],
        false,
    );
    let sql = update_sql(c, 3, Some(OTHER));
    w.step("update null->other", &sql, &[("UPDATE", 3)], false);
    w.step(
        "update min->null",
        &update_sql(c, 1, None),
        &[("UPDATE", 1)],
        false,
    );
    let sql = update_sql(c, 2, Some(TYPICAL));
    w.step("update max->typical", &sql, &[("UPDATE", 2)], false);
    let sql = format!("DELETE FROM {TABLE} WHERE id = 4;");
    w.step("delete typical", &sql, &[("DELETE", 4)], false);
    // A multi-statement transaction touching three rows.
    let txn = format!(
        "BEGIN; {} {} DELETE FROM {TABLE} WHERE id = 1; COMMIT;",
        insert_sql(c, 6, MAX),
        update_sql(c, 2, Some(MAX)),
    );
    let touched = [("INSERT", 6), ("UPDATE", 2), ("DELETE", 1)];
    w.step("transaction", &txn, &touched, false);
    // An XA transaction, prepared and committed from the same session.
    let (gtrid, bqual, format_id) = XA_XID;
    let xid = format!("'{gtrid}', '{bqual}', {format_id}");
    let xa = format!(
        "XA START {xid}; {} {} DELETE FROM {TABLE} WHERE id = 3; \
         XA END {xid}; XA PREPARE {xid}; XA COMMIT {xid};",
        insert_sql(c, 5, OTHER),
        update_sql(c, 2, Some(MIN)),
    );
    let touched = [("INSERT", 5), ("UPDATE", 2), ("DELETE", 3)];
    w.step("xa", &xa, &touched, true);
    let expected = w.expected;

    db.flush_logs().expect("flush logs");
    let files = db.binlog_files().expect("binlog files");
    Run {
        cols,
        expected,
        files,
    }
}

/// Event type codes in binlog files, by walking the v4 headers (type at
/// offset 4, event size at offset 9), to check what the server wrote.
fn event_types(files: &[PathBuf]) -> BTreeMap<u8, usize> {
    let mut counts = BTreeMap::new();
    for file in files {
        let bytes = std::fs::read(file).expect("read binlog");
        let mut pos = 4;
        while let Some(header) = bytes.get(pos..pos + 19) {
            *counts.entry(header[4]).or_default() += 1;
            let size = u32::from_le_bytes(header[9..13].try_into().unwrap()) as usize;
            if size < 19 {
                break;
            }
            pos += size;
        }
    }
    counts
}

/// Column type codes of the matrix table's TABLE_MAP events (post-header:
/// table id 6 + flags 2; body: db, table as length + name + NUL, then the
/// column count as a packed integer below 251 here, then the types).
fn table_map_types(files: &[PathBuf]) -> Vec<u8> {
    const TABLE_MAP: u8 = 19;
    for file in files {
        let bytes = std::fs::read(file).expect("read binlog");
        let mut pos = 4;
        while let Some(header) = bytes.get(pos..pos + 19) {
            let size = u32::from_le_bytes(header[9..13].try_into().unwrap()) as usize;
            if size < 19 {
                break;
            }
            if header[4] == TABLE_MAP {
                let body = &bytes[pos + 19..pos + size];
                let mut p = 8;
                let db_len = body[p] as usize;
                let db = &body[p + 1..p + 1 + db_len];
                p += db_len + 2;
                let table_len = body[p] as usize;
                let table = &body[p + 1..p + 1 + table_len];
                p += table_len + 2;
                let count = body[p] as usize;
                if db == DB.as_bytes() && table == TABLE.as_bytes() {
                    return body[p + 1..p + 1 + count].to_vec();
                }
            }
            pos += size;
        }
    }
    panic!("no TABLE_MAP for {DB}.{TABLE}");
}

fn decode_jsonl(files: &[PathBuf]) -> Vec<Json> {
    let out = Command::new(env!("CARGO_BIN_EXE_binlog-analyzer"))
        .arg("parse")
        .args(["--format", "jsonl"])
        .args(files)
        .output()
        .expect("run binlog-analyzer");
    assert!(
        out.status.success(),
        "binlog-analyzer parse failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("JSONL output is UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSONL line {e}: {l}")))
        .collect()
}

// ---------------------------------------------------------------------------
// The value contract (VALUES.md), as far as the live types need it.

/// What the decoder can know about the columns.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Metadata {
    /// No optional table-map metadata: types and type metadata only.
    None,
    /// `binlog_row_metadata=FULL`: names, signedness, charsets, labels, PK.
    Full,
}

fn check_value(c: &Col, meta: Metadata, cell: &Cell, got: Option<&Json>) -> Result<(), String> {
    let Some(got) = got else {
        return Err("missing from the row object".into());
    };
    let (Some(text), Some(raw)) = (&cell.text, &cell.raw) else {
        return if got.is_null() {
            Ok(())
        } else {
            Err(format!("expected null, got {got}"))
        };
    };
    let full = meta == Metadata::Full;
    let ok = match c.kind {
        Kind::Int { unsigned, bytes } => {
            let want = if unsigned && !full {
                // Without signedness the bits read as signed.
                signed_reinterpretation(text, bytes)
            } else {
                text.clone()
            };
            number_text(got) == Some(want.clone())
        }
        Kind::Float => {
            let want: f64 = text.parse().map_err(|e| format!("{e}"))?;
            json_f64(got).is_some_and(|g| (g as f32).to_bits() == (want as f32).to_bits())
        }
        Kind::Double => {
            let want: f64 = text.parse().map_err(|e| format!("{e}"))?;
            json_f64(got).is_some_and(|g| g.to_bits() == want.to_bits())
        }
        Kind::Decimal | Kind::Date | Kind::Time | Kind::DateTime => got.as_str() == Some(text),
        Kind::Year => {
            let year: u64 = String::from_utf8_lossy(raw)
                .parse()
                .map_err(|e| format!("{e}"))?;
            got.as_u64() == Some(year)
        }
        Kind::Timestamp => got.as_str() == Some(&timestamp_utc(text)),
        Kind::Text => {
            if full {
                got.as_str() == Some(text)
            } else {
                // No charset: the stored bytes, as text only when they are UTF-8.
                decoded_bytes(got).as_deref() == Some(raw.as_slice())
            }
        }
        Kind::Bytes => decoded_bytes(got).as_deref() == Some(raw.as_slice()),
        Kind::CompressedText | Kind::CompressedBytes => {
            let bytes = decoded_bytes(got);
            // Either the decoder inflates (the value is then the plain type's)
            // or, as VALUES.md puts it, a compressed payload is kept as base64
            // of the column bytes, which must inflate to what SELECT shows.
            let inflated = match (got, &bytes) {
                (Json::Object(_), Some(b)) => inflate_mariadb_column(b),
                _ => None,
            };
            if let Some(inflated) = inflated {
                inflated == *raw
            } else if c.kind == Kind::CompressedText && full {
                got.as_str() == Some(text)
            } else {
                bytes.as_deref() == Some(raw.as_slice())
            }
        }
        Kind::FixedBinary | Kind::FixedBinaryTyped => {
            let got = decoded_bytes(got);
            let stripped = strip_trailing_zeros(raw);
            if full {
                // The charset says binary and the metadata the length: re-padded.
                got.as_deref() == Some(raw.as_slice())
            } else {
                got.as_deref() == Some(stripped)
            }
        }
        Kind::Bit => number_text(got).as_deref() == Some(text.as_str()),
        Kind::Enum => {
            if full {
                got.as_str() == Some(text)
            } else {
                number_text(got).as_deref() == Some(&*String::from_utf8_lossy(raw))
            }
        }
        Kind::Set => {
            if full {
                set_labels(got) == Some(split_set(text))
            } else {
                number_text(got).as_deref() == Some(&*String::from_utf8_lossy(raw))
            }
        }
        Kind::Geometry => geometry_bytes(got).as_deref() == Some(raw.as_slice()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {} (raw {}), got {}",
            shorten(text),
            shorten(&hex(raw)),
            shorten(&got.to_string())
        ))
    }
}

fn signed_reinterpretation(text: &str, bytes: u32) -> String {
    let v: i128 = text.parse().expect("integer");
    let bits = bytes * 8;
    let modulus = 1i128 << bits;
    if v >= modulus / 2 {
        (v - modulus).to_string()
    } else {
        v.to_string()
    }
}

fn number_text(v: &Json) -> Option<String> {
    match v {
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_f64(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM:SS[.frac]` (UTC) → `YYYY-MM-DDTHH:MM:SS[.frac]Z`; the
/// zero timestamp is no instant and keeps MariaDB's text.
fn timestamp_utc(text: &str) -> String {
    if text.starts_with("0000-00-00") {
        text.to_string()
    } else {
        format!("{}Z", text.replacen(' ', "T", 1))
    }
}

/// Bytes of a string value or a `{"base64": …}` / `{"hex": …}` object.
fn decoded_bytes(v: &Json) -> Option<Vec<u8>> {
    match v {
        Json::String(s) => Some(s.as_bytes().to_vec()),
        Json::Object(o) => {
            if let Some(b) = o.get("base64").and_then(Json::as_str) {
                base64_decode(b)
            } else {
                o.get("hex").and_then(Json::as_str).map(unhex)
            }
        }
        _ => None,
    }
}

/// GEOMETRY as stored: 4-byte little-endian SRID then WKB. Accepts the whole
/// as bytes, or an object with `srid` and `wkb`.
fn geometry_bytes(v: &Json) -> Option<Vec<u8>> {
    if let Json::Object(o) = v {
        if let (Some(srid), Some(wkb)) = (o.get("srid").and_then(Json::as_u64), o.get("wkb")) {
            let mut out = u32::try_from(srid).ok()?.to_le_bytes().to_vec();
            // VALUES.md: `wkb` is lower-case hex.
            match wkb {
                Json::String(h) => out.extend(unhex(h)),
                other => out.extend(decoded_bytes(other)?),
            }
            return Some(out);
        }
    }
    decoded_bytes(v)
}

/// A MariaDB compressed column value: header byte `0x80 | 8? | n` (8: raw
/// deflate, else zlib; n: bytes of the big-endian original length), the
/// length, then the stream. `None` when it is not in that form.
fn inflate_mariadb_column(b: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let header = *b.first()?;
    if header & 0x80 == 0 {
        return None;
    }
    let n = usize::from(header & 0x07);
    let len = b
        .get(1..1 + n)?
        .iter()
        .fold(0usize, |acc, &x| acc << 8 | usize::from(x));
    let stream = b.get(1 + n..)?;
    let mut out = Vec::with_capacity(len);
    if header & 0x08 != 0 {
        flate2::read::DeflateDecoder::new(stream)
            .read_to_end(&mut out)
            .ok()?;
    } else {
        flate2::read::ZlibDecoder::new(stream)
            .read_to_end(&mut out)
            .ok()?;
    }
    (out.len() == len).then_some(out)
}

fn set_labels(v: &Json) -> Option<Vec<String>> {
    match v {
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Json::String(s) => Some(split_set(s)),
        _ => None,
    }
}

fn split_set(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_string).collect()
    }
}

fn strip_trailing_zeros(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    &b[..end]
}

fn unhex(h: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not hex: {h}"),
    };
    h.as_bytes()
        .chunks(2)
        .map(|p| digit(p[0]) << 4 | digit(p[1]))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len().checked_sub(1)?;
        out.extend(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 120 {
        let head: String = s.chars().take(100).collect();
        format!("{head}… ({} chars)", s.chars().count())
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------------------

fn check_image(
    cols: &[Col],
    meta: Metadata,
    row: &Row,
    got: Option<&Json>,
    what: &str,
    problems: &mut Vec<String>,
) {
    let Some(Json::Object(obj)) = got else {
        problems.push(format!("{what}: not an object: {got:?}"));
        return;
    };
    if obj.len() != cols.len() + 1 {
        problems.push(format!(
            "{what}: {} columns, expected {}",
            obj.len(),
            cols.len() + 1
        ));
    }
    for (i, (c, cell)) in cols.iter().zip(row).enumerate() {
        let key = column_key(meta, c, i);
        if let Err(e) = check_value(c, meta, cell, obj.get(&key)) {
            problems.push(format!(
                "{what}: {} ({}) {key}: {e}",
                c.name,
                c.sql_type_short()
            ));
        }
    }
}

impl Col {
    fn sql_type_short(&self) -> String {
        shorten(&self.sql_type)
    }
}

fn column_key(meta: Metadata, c: &Col, index: usize) -> String {
    match meta {
        Metadata::Full => c.name.clone(),
        // Ordinal 1 is id.
        Metadata::None => format!("@{}", index + 2),
    }
}

/// `changes` holds exactly the columns whose value changed, each with the
/// same old and new values as the images.
fn check_changes(
    cols: &[Col],
    meta: Metadata,
    old: &Row,
    new: &Row,
    got: &Json,
    what: &str,
    problems: &mut Vec<String>,
) {
    let Some(Json::Object(changes)) = got.get("changes") else {
        problems.push(format!("{what}: no changes object"));
        return;
    };
    let mut want: Vec<String> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        if old[i] != new[i] {
            want.push(column_key(meta, c, i));
        }
    }
    let mut keys: Vec<String> = changes.keys().cloned().collect();
    want.sort();
    keys.sort();
    if keys != want {
        problems.push(format!("{what}: changes has {keys:?}, expected {want:?}"));
    }
    for (key, change) in changes {
        let image = |side: &str| got.get(side).and_then(|o| o.get(key));
        if change.get("old") != image("old_data") || change.get("new") != image("new_data") {
            problems.push(format!("{what}: changes.{key} disagrees with the images"));
        }
    }
}

fn xa_xid_json() -> Json {
    let (gtrid, bqual, format_id) = XA_XID;
    serde_json::json!({ "format_id": format_id, "gtrid": gtrid, "bqual": bqual })
}

/// Time, position and transaction fields of a row change.
fn check_envelope(
    exp: &Expected,
    got: &Json,
    file_names: &[String],
    what: &str,
    problems: &mut Vec<String>,
) {
    let want_time = iso_utc(exp.timestamp);
    if got.get("timestamp").and_then(Json::as_str) != Some(want_time.as_str()) {
        problems.push(format!(
            "{what}: timestamp {:?}, expected {want_time}",
            got.get("timestamp")
        ));
    }
    let file = got
        .get("binlog_file")
        .and_then(Json::as_str)
        .unwrap_or_default();
    if !file_names.iter().any(|f| f == file) {
        problems.push(format!(
            "{what}: binlog_file {file:?} not among {file_names:?}"
        ));
    }
    if got
        .get("binlog_pos")
        .and_then(Json::as_u64)
        .is_none_or(|p| p < 4)
    {
        problems.push(format!("{what}: binlog_pos {:?}", got.get("binlog_pos")));
    }
    if !got
        .get("gtid")
        .and_then(Json::as_str)
        .is_some_and(|g| g.starts_with("0-1-"))
    {
        problems.push(format!("{what}: gtid {:?}", got.get("gtid")));
    }
    let xid = got.get("xid");
    let xid_ok = if exp.xa {
        xid == Some(&xa_xid_json())
    } else {
        xid.and_then(Json::as_u64).is_some()
    };
    if !xid_ok {
        problems.push(format!("{what}: xid {xid:?}"));
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn run_cli(args: &[&str], files: &[PathBuf]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_binlog-analyzer"))
        .args(args)
        .args(files)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// `stats --format json` counts the matrix table's changes per operation.
fn check_stats(out: &str, expected: &[Expected], problems: &mut Vec<String>) {
    let stats: Json = match serde_json::from_str(out) {
        Ok(v) => v,
        Err(e) => return problems.push(format!("stats output is not JSON: {e}")),
    };
    let entry = stats
        .get("by_table")
        .and_then(Json::as_array)
        .and_then(|tables| {
            tables.iter().find(|t| {
                t.get("database").and_then(Json::as_str) == Some(DB)
                    && t.get("table").and_then(Json::as_str) == Some(TABLE)
            })
        });
    let Some(entry) = entry else {
        return problems.push(format!("stats: no by_table entry for {DB}.{TABLE}"));
    };
    for op in ["INSERT", "UPDATE", "DELETE"] {
        let want = expected.iter().filter(|e| e.operation == op).count() as u64;
        if entry.get(op).and_then(Json::as_u64) != Some(want) {
            problems.push(format!(
                "stats: {op} = {:?}, expected {want}",
                entry.get(op)
            ));
        }
    }
}

/// What a configuration must make the server write.
struct Expect {
    meta: Metadata,
    compressed: bool,
    /// Column type codes the table map must contain.
    types: &'static [u8],
}

// Type codes: 7 TIMESTAMP, 11 TIME, 12 DATETIME (pre-5.6 formats); 17
// TIMESTAMP2, 18 DATETIME2, 19 TIME2; 16 BIT; 246 NEWDECIMAL; 252 BLOB (also
// TEXT and MariaDB's JSON); 254 STRING (CHAR, BINARY, ENUM, SET, UUID,
// INET4/6); 255 GEOMETRY.
const MODERN_TYPES: &[u8] = &[
    1, 2, 3, 4, 5, 8, 9, 10, 13, 15, 16, 17, 18, 19, 246, 252, 254, 255,
];
const LEGACY_TYPES: &[u8] = &[7, 10, 11, 12, 13];

fn run_matrix(config: &str, opts: Options, expect: Expect, cols: Vec<Col>) {
    let Expect {
        meta,
        compressed,
        types: want_types,
    } = expect;
    let Some(db) = MariaDb::start_or_skip(opts) else {
        return;
    };
    let started = Instant::now();
    let run = run_workload(&db, cols);
    let workload_time = started.elapsed();

    // Make sure the server wrote what this configuration is meant to test.
    let column_types = table_map_types(&run.files);
    for t in want_types {
        assert!(
            column_types.contains(t),
            "[{config}] table map lacks type {t}: {column_types:?}"
        );
    }
    let types = event_types(&run.files);
    // MariaDB: 166..=168 WRITE/UPDATE/DELETE_ROWS_COMPRESSED_EVENT_V1, 169..=171 the v2 forms.
    let compressed_rows: usize = (166..=171u8)
        .map(|t| types.get(&t).copied().unwrap_or(0))
        .sum();
    if compressed {
        assert!(
            compressed_rows > 0,
            "[{config}] no compressed row events: {types:?}"
        );
    } else {
        assert_eq!(
            compressed_rows, 0,
            "[{config}] unexpected compressed row events"
        );
    }

    let decode_start = Instant::now();
    let records = decode_jsonl(&run.files);
    let decode_time = decode_start.elapsed();

    let rows: Vec<&Json> = records
        .iter()
        .filter(|r| {
            r.get("operation").is_some() && r.get("database").and_then(Json::as_str) == Some(DB)
        })
        .collect();
    let file_names: Vec<String> = run
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut gtid_of_step: BTreeMap<usize, String> = BTreeMap::new();
    let mut problems = Vec::new();
    if rows.len() != run.expected.len() {
        problems.push(format!(
            "{} row changes decoded, {} expected",
            rows.len(),
            run.expected.len()
        ));
    }
    for (n, (exp, got)) in run.expected.iter().zip(&rows).enumerate() {
        let what = format!(
            "[{config}] change #{n} ({} id={} in step '{}')",
            exp.operation, exp.id, exp.step_name
        );
        if got.get("operation").and_then(Json::as_str) != Some(exp.operation) {
            problems.push(format!("{what}: operation {:?}", got.get("operation")));
            continue;
        }
        if got.get("table").and_then(Json::as_str) != Some(TABLE) {
            problems.push(format!("{what}: table {:?}", got.get("table")));
        }
        if meta == Metadata::Full {
            let pk = got.get("primary_key");
            if pk != Some(&serde_json::json!({ "id": exp.id })) {
                problems.push(format!("{what}: primary_key {pk:?}"));
            }
        }
        // id is column 1 (INT, never NULL in this table).
        let id_key = if meta == Metadata::Full { "id" } else { "@1" };
        let image = exp.new.as_ref().map(|_| "new_data").unwrap_or("old_data");
        let got_id = got
            .get(image)
            .and_then(|o| o.get(id_key))
            .and_then(Json::as_i64);
        if got_id != Some(exp.id) {
            problems.push(format!("{what}: {image}.{id_key} = {got_id:?}"));
            continue;
        }
        for (label, row) in [("old_data", &exp.old), ("new_data", &exp.new)] {
            match row {
                Some(row) => check_image(
                    &run.cols,
                    meta,
                    row,
                    got.get(label),
                    &format!("{what} {label}"),
                    &mut problems,
                ),
                None => {
                    if got.get(label).is_some_and(|v| !v.is_null()) {
                        problems.push(format!("{what}: {label} should be absent or null"));
                    }
                }
            }
        }
        if let (Some(old), Some(new)) = (&exp.old, &exp.new) {
            check_changes(&run.cols, meta, old, new, got, &what, &mut problems);
        }
        check_envelope(exp, got, &file_names, &what, &mut problems);
        let gtid = got.get("gtid").and_then(Json::as_str).unwrap_or_default();
        let first = gtid_of_step
            .entry(exp.step)
            .or_insert_with(|| gtid.to_string());
        if first != gtid {
            problems.push(format!(
                "{what}: gtid {gtid} differs from its transaction's {first}"
            ));
        }
    }
    let mut distinct: Vec<&String> = gtid_of_step.values().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() != gtid_of_step.len() {
        problems.push(format!("[{config}] steps share GTIDs: {gtid_of_step:?}"));
    }

    // The XA transaction's steps, each an event carrying its xid.
    let xa_events: Vec<&str> = records
        .iter()
        .filter(|r| r.get("xid") == Some(&xa_xid_json()))
        .filter_map(|r| r.get("event").and_then(Json::as_str))
        .collect();
    if xa_events != ["xa_start", "xa_end", "xa_prepare", "xa_commit"] {
        problems.push(format!("[{config}] XA events {xa_events:?}"));
    }

    // Text output must get through the same binlogs, and stats must count them.
    let text = run_cli(&["parse", "--format", "text"], &run.files);
    if let Err(e) = &text {
        problems.push(format!("[{config}] parse --format text: {e}"));
    }
    match run_cli(&["stats", "--format", "json"], &run.files) {
        Ok(out) => check_stats(&out, &run.expected, &mut problems),
        Err(e) => problems.push(format!("[{config}] stats: {e}")),
    }

    eprintln!(
        "[{config}] workload {workload_time:.2?}, decode {decode_time:.2?}, {} records, {} row changes, {} bytes of binlog",
        records.len(),
        rows.len(),
        run.files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum::<u64>()
    );
    assert!(
        problems.is_empty(),
        "[{config}] {} mismatches (server error log: {}):\n{}",
        problems.len(),
        db.error_log().display(),
        problems.join("\n")
    );
}

#[test]
fn live_type_matrix_row_format_without_metadata() {
    let expect = Expect {
        meta: Metadata::None,
        compressed: false,
        types: MODERN_TYPES,
    };
    run_matrix("row", Options::new(), expect, columns());
}

#[test]
fn live_type_matrix_full_row_metadata() {
    run_matrix(
        "full-metadata",
        Options::new().arg("--binlog-row-metadata=FULL"),
        Expect {
            meta: Metadata::Full,
            compressed: false,
            types: MODERN_TYPES,
        },
        columns(),
    );
}

#[test]
fn live_type_matrix_compressed_events() {
    run_matrix(
        "compressed",
        Options::new().args(["--log-bin-compress=ON", "--log-bin-compress-min-len=10"]),
        Expect {
            meta: Metadata::None,
            compressed: true,
            types: MODERN_TYPES,
        },
        columns(),
    );
}

#[test]
fn live_type_matrix_legacy_temporal_types() {
    run_matrix(
        "legacy-temporal",
        Options::new().args([
            "--mysql56-temporal-format=OFF",
            "--binlog-row-metadata=FULL",
        ]),
        Expect {
            meta: Metadata::Full,
            compressed: false,
            types: LEGACY_TYPES,
        },
        legacy_temporal_columns(),
    );
}

/// MariaDB's own pre-5.6 TIME(n)/DATETIME(n)/TIMESTAMP(n) with fractional
/// seconds are logged with the legacy type codes and no metadata, so their
/// size is unknowable from the binlog (mariadb-binlog cannot print them
/// either). Decoding must stop with an error naming file and offset, never
/// panic or print made-up values.
#[test]
fn live_legacy_fractional_temporal_is_an_error_not_garbage() {
    let opts = Options::new().args([
        "--mysql56-temporal-format=OFF",
        "--binlog-row-metadata=FULL",
    ]);
    let Some(db) = MariaDb::start_or_skip(opts) else {
        return;
    };
    db.exec(
        "CREATE DATABASE legacy; \
         CREATE TABLE legacy.t (id INT PRIMARY KEY, t3 TIME(3), d3 DATETIME(3), s3 TIMESTAMP(3) NULL); \
         SET time_zone = '+00:00'; \
         INSERT INTO legacy.t VALUES (1, '-12:34:56.789', '2024-02-29 12:34:56.789', '2038-01-19 03:14:07.999')",
    )
    .expect("legacy workload");
    db.flush_logs().expect("flush logs");
    let files = db.binlog_files().expect("binlog files");
    let out = Command::new(env!("CARGO_BIN_EXE_binlog-analyzer"))
        .args(["parse", "--format", "jsonl"])
        .args(&files)
        .output()
        .expect("run binlog-analyzer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "decoder panicked: {stderr}");
    assert!(!out.status.success(), "legacy fractional temporal values cannot be decoded without a schema, yet parse succeeded:\n{}", String::from_utf8_lossy(&out.stdout));
    let first = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains(&first) && stderr.contains("offset"),
        "the error names file and offset: {stderr}"
    );
    // Nothing made up: no row change with a value for this table.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains("\"operation\"") && l.contains("\"legacy\"")),
        "a row was printed from undecodable data: {stdout}"
    );
}

// Type codes 140 BLOB_COMPRESSED, 141 VARCHAR_COMPRESSED (MariaDB).
const COMPRESSED_COLUMN_TYPES: &[u8] = &[140, 141];

#[test]
fn live_type_matrix_mariadb_compressed_columns() {
    let expect = Expect {
        meta: Metadata::Full,
        compressed: false,
        types: COMPRESSED_COLUMN_TYPES,
    };
    let opts = Options::new().arg("--binlog-row-metadata=FULL");
    run_matrix("compressed-columns", opts, expect, compressed_columns());
}

#[test]
fn live_type_matrix_mariadb_compressed_columns_without_metadata() {
    let expect = Expect {
        meta: Metadata::None,
        compressed: false,
        types: COMPRESSED_COLUMN_TYPES,
    };
    let name = "compressed-columns-no-metadata";
    run_matrix(name, Options::new(), expect, compressed_columns());
}
