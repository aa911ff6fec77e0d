//! Rule conditions: SQL expressions over a change, parsed with `sqlparser`
//! (MySQL dialect) and evaluated with SQL's three-valued logic.
//!
//! Names a condition can use:
//! - `OLD.col`, `NEW.col`: the before / after value (case-insensitive column
//!   names). An image the operation does not have (OLD of an INSERT, NEW of
//!   a DELETE) and a column absent from a minimal row image read as NULL.
//! - `operation` (`'INSERT'`, `'UPDATE'`, `'DELETE'`; comparing it with any
//!   other literal is a config error), `database`, `table`.
//!
//! Operators and functions: `= <> != < <= > >= <=>`, `AND OR XOR NOT`,
//! `+ - * / % DIV`, `IS [NOT] NULL|TRUE|FALSE|UNKNOWN`,
//! `IS [NOT] DISTINCT FROM`, `[NOT] IN (…)`, `[NOT] BETWEEN … AND …`,
//! `[NOT] LIKE … [ESCAPE …]` (case-sensitive; `ILIKE` ignores case),
//! `changed(col)`, `lower`, `upper`, `length` (bytes), `char_length`,
//! `coalesce`, `ifnull`, `abs`, `concat`.
//!
//! Semantics follow MySQL where it is defined, with one deliberate
//! difference: strings compare byte-wise (a binary collation), so a change
//! of letter case is a change. Any comparison with NULL is NULL (so
//! `OLD.status != NEW.status` is not true for an INSERT, nor when either
//! side is NULL — use `changed(status)` for a NULL-safe "differs"). A string
//! compared with a number is read as a number, as MySQL does (`'12.50'`,
//! the form DECIMAL values take, compares as 12.5; text that is not a number
//! reads as 0). Numbers compare exactly (integers up to 64 bits and
//! decimals up to 38 digits; beyond, as doubles). Division by zero is NULL.
//!
//! `changed(col)` is TRUE for an UPDATE whose before and after values of
//! `col` differ (NULL-safe: NULL → 'x' is a change), FALSE for an UPDATE
//! that leaves it equal and for INSERT and DELETE, and NULL when the value
//! is absent from either image (minimal row image).
//!
//! A rule fires when its condition is TRUE (not NULL, not FALSE).

use std::cmp::Ordering;

use binlog::column::{column_type as ct, ColumnDef};
use binlog::value::{render, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart,
    UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::record::Operation;

/// Alert priority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

/// Raised when an `alert: true` rule matches a change. Holds only masked
/// data (the record's masked primary key), never raw values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub rule: String,
    pub priority: Priority,
    pub database: String,
    pub table: String,
    /// [`crate::record::ChangeRecord::id`] of the change.
    pub change_id: String,
    pub operation: Operation,
    /// The change's commit time (seconds since the epoch, UTC).
    pub timestamp: u32,
    /// Masked primary key of the changed row.
    pub primary_key: Map<String, Json>,
    /// Channels named by the rule (empty: stored and logged only).
    pub channels: Vec<String>,
    /// One line for humans: rule, operation, table, key, changed columns.
    pub message: String,
}

/// A compiled rule condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    node: Node,
    /// Distinct referenced column names, lower-cased; `Col` slots index it.
    columns: Vec<String>,
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
    Bytes(Vec<u8>),
}

/// An exact decimal (mantissa × 10^-scale, normalized: no trailing zero
/// digits in the fraction) or, beyond 38 digits, a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Dec { m: i128, scale: u32 },
    Float(f64),
}

const MAX_SCALE: u32 = 38;

impl Num {
    fn int(i: i128) -> Num {
        Num::Dec { m: i, scale: 0 }
    }

    fn dec(m: i128, scale: u32) -> Num {
        let (mut m, mut scale) = (m, scale);
        while scale > 0 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        Num::Dec { m, scale }
    }

    /// A plain numeral: `-12.50`, `7`, `1.5e3`, `.5`.
    pub fn parse(s: &str) -> Option<Num> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        if t.contains(['e', 'E']) {
            let f: f64 = t.parse().ok()?;
            return f.is_finite().then_some(Num::Float(f));
        }
        let (neg, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let int = int.trim_start_matches('0');
        if int.len() + frac.len() > 38 {
            let f: f64 = t.parse().ok()?;
            return Some(Num::Float(f));
        }
        let mut m: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m * 10 + i128::from(b - b'0');
        }
        Some(Num::dec(if neg { -m } else { m }, frac.len() as u32))
    }

    fn to_f64(self) -> f64 {
        match self {
            Num::Float(f) => f,
            Num::Dec { m, scale } => m as f64 / 10f64.powi(scale as i32),
        }
    }

    /// Both as decimals with one scale, when that fits.
    fn aligned(self, other: Num) -> Option<(i128, i128, u32)> {
        let (Num::Dec { m: a, scale: sa }, Num::Dec { m: b, scale: sb }) = (self, other) else {
            return None;
        };
        let scale = sa.max(sb);
        let a = a.checked_mul(10i128.checked_pow(scale - sa)?)?;
        let b = b.checked_mul(10i128.checked_pow(scale - sb)?)?;
        Some((a, b, scale))
    }

    fn cmp(self, other: Num) -> Option<Ordering> {
        match self.aligned(other) {
            Some((a, b, _)) => Some(a.cmp(&b)),
            None => self.to_f64().partial_cmp(&other.to_f64()),
        }
    }

    fn is_zero(self) -> bool {
        match self {
            Num::Dec { m, .. } => m == 0,
            Num::Float(f) => f == 0.0,
        }
    }

    fn arith(self, op: Arith, other: Num) -> Option<Num> {
        if matches!(op, Arith::Div | Arith::Mod | Arith::IntDiv) && other.is_zero() {
            return None;
        }
        let exact = match op {
            Arith::Add => self
                .aligned(other)
                .and_then(|(a, b, s)| a.checked_add(b).map(|m| Num::dec(m, s))),
            Arith::Sub => self
                .aligned(other)
                .and_then(|(a, b, s)| a.checked_sub(b).map(|m| Num::dec(m, s))),
            Arith::Mul => match (self, other) {
                (Num::Dec { m: a, scale: sa }, Num::Dec { m: b, scale: sb })
                    if sa + sb <= MAX_SCALE =>
                {
                    a.checked_mul(b).map(|m| Num::dec(m, sa + sb))
                }
                _ => None,
            },
            Arith::Mod => self
                .aligned(other)
                .and_then(|(a, b, s)| a.checked_rem(b).map(|m| Num::dec(m, s))),
            Arith::IntDiv => self
                .aligned(other)
                .and_then(|(a, b, _)| a.checked_div(b).map(Num::int)),
            Arith::Div => None,
        };
        if exact.is_some() {
            return exact;
        }
        let (a, b) = (self.to_f64(), other.to_f64());
        let r = match op {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            Arith::Mod => a % b,
            Arith::IntDiv => (a / b).trunc(),
        };
        r.is_finite().then_some(Num::Float(r))
    }

    fn neg(self) -> Num {
        match self {
            Num::Dec { m, scale } => m
                .checked_neg()
                .map_or(Num::Float(-self.to_f64()), |m| Num::Dec { m, scale }),
            Num::Float(f) => Num::Float(-f),
        }
    }

    fn to_text(self) -> String {
        match self {
            Num::Float(f) => f.to_string(),
            Num::Dec { m, scale: 0 } => m.to_string(),
            Num::Dec { m, scale } => {
                let digits = m.unsigned_abs().to_string();
                let scale = scale as usize;
                let padded = if digits.len() <= scale {
                    format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
                } else {
                    digits
                };
                let (i, f) = padded.split_at(padded.len() - scale);
                format!("{}{i}.{f}", if m < 0 { "-" } else { "" })
            }
        }
    }
}

/// MySQL's string-to-number reading: the longest numeric prefix, else 0.
fn str_to_num(s: &str) -> Num {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut end = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if b.get(end) == Some(&b'.') {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    if end == digits_start || t.get(digits_start..end) == Some(".") {
        return Num::int(0);
    }
    // Optional exponent, only if complete.
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = e;
        while b.get(e).is_some_and(u8::is_ascii_digit) {
            e += 1;
        }
        if e > exp_digits {
            end = e;
        }
    }
    t.get(..end).and_then(Num::parse).unwrap_or(Num::int(0))
}

impl Val {
    fn num(&self) -> Option<Num> {
        match self {
            Val::Null => None,
            Val::Bool(b) => Some(Num::int(i128::from(*b))),
            Val::Num(n) => Some(*n),
            Val::Str(s) => Some(str_to_num(s)),
            Val::Bytes(b) => Some(str_to_num(&String::from_utf8_lossy(b))),
        }
    }

    fn truth(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            other => other.num().map(|n| !n.is_zero()),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
            Val::Num(n) => Some(n.to_text()),
            Val::Str(s) => Some(s.clone()),
            Val::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        }
    }

    fn from_truth(t: Option<bool>) -> Val {
        t.map_or(Val::Null, Val::Bool)
    }

    /// A JSON value (as in change records) as a condition value.
    pub fn from_json(v: &Json) -> Val {
        match v {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => {
                let s = n.to_string();
                Num::parse(&s).map_or(Val::Str(s), Val::Num)
            }
            Json::String(s) => Val::Str(s.clone()),
            other => Val::Str(other.to_string()),
        }
    }

    /// A decoded binlog value of column `col` as a condition value:
    /// numbers exact (DECIMAL included), temporal values as MySQL prints
    /// them (`2025-01-01 09:00:00`, TIMESTAMP in UTC), ENUM/SET labels.
    pub fn from_binlog(v: &Value<'_>, col: &ColumnDef) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Int(i) => Val::Num(Num::int(i128::from(*i))),
            Value::UInt(u) => Val::Num(Num::int(i128::from(*u))),
            Value::Year(y) => Val::Num(Num::int(i128::from(*y))),
            Value::Bit { bits, .. } => Val::Num(Num::int(i128::from(*bits))),
            Value::Float(f) if f.is_finite() => {
                Num::parse(&f.to_string()).map_or(Val::Null, Val::Num)
            }
            Value::Double(d) if d.is_finite() => {
                Num::parse(&d.to_string()).map_or(Val::Null, Val::Num)
            }
            Value::Float(_) | Value::Double(_) => Val::Null,
            Value::Decimal(s) => Num::parse(s).map_or_else(|| Val::Str(s.to_string()), Val::Num),
            Value::Text(s) => Val::Str(s.to_string()),
            Value::Bytes(b) => Val::Bytes(b.to_vec()),
            Value::Date(_) | Value::Time(_) | Value::DateTime(_) | Value::Timestamp(_) => {
                let mut out = Vec::new();
                render::write_text_value(&mut out, v, col);
                let text = String::from_utf8_lossy(&out);
                Val::Str(text.trim_matches('\'').to_string())
            }
            Value::Json(_) if col.type_code == ct::JSON => {
                Val::Str(render::json_value_string(v, col))
            }
            _ => {
                let text = render::json_value_string(v, col);
                match serde_json::from_str::<Json>(&text) {
                    Ok(j) => Val::from_json(&j),
                    Err(_) => Val::Str(text),
                }
            }
        }
    }
}

/// SQL comparison: NULL if either side is NULL; strings byte-wise; else
/// numerically.
fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Str(_) | Val::Bytes(_), Val::Str(_) | Val::Bytes(_)) => {
            Some(bytes_of(a).cmp(bytes_of(b)))
        }
        _ => a.num()?.cmp(b.num()?),
    }
}

fn bytes_of(v: &Val) -> &[u8] {
    match v {
        Val::Str(s) => s.as_bytes(),
        Val::Bytes(b) => b,
        _ => &[],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    IntDiv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meta {
    Operation,
    Database,
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Lower,
    Upper,
    Length,
    CharLength,
    Coalesce,
    IfNull,
    Abs,
    Concat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Is {
    Null,
    True,
    False,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(Val),
    Col {
        old: bool,
        slot: usize,
    },
    Meta(Meta),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Xor(Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    /// `<=>` / IS NOT DISTINCT FROM (negated: IS DISTINCT FROM).
    NullSafeEq(Box<Node>, Box<Node>, bool),
    Arith(Arith, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Is(Box<Node>, Is, bool),
    In(Box<Node>, Vec<Node>, bool),
    Between(Box<Node>, Box<Node>, Box<Node>, bool),
    Like {
        expr: Box<Node>,
        pattern: Box<Node>,
        escape: Option<char>,
        negated: bool,
        ignore_case: bool,
    },
    Changed(usize),
    Func(Func, Vec<Node>),
}

/// Gives the values of the columns a condition refers to.
pub trait ColumnSource {
    /// Value of the `slot`-th name of [`Condition::columns`] in the before
    /// (`old`) or after image; `None` when that image does not exist or
    /// does not hold the column.
    fn get(&self, old: bool, slot: usize) -> Option<Val>;
}

/// Decoded row images with their table's columns. `slots[i]` is the table
/// column index of the condition's `i`-th column (see
/// [`Condition::resolve`]).
pub struct BinlogRow<'r, 'v> {
    pub columns: &'r [ColumnDef],
    pub before: Option<&'r [Option<Value<'v>>]>,
    pub after: Option<&'r [Option<Value<'v>>]>,
    pub slots: &'r [Option<usize>],
}

impl ColumnSource for BinlogRow<'_, '_> {
    fn get(&self, old: bool, slot: usize) -> Option<Val> {
        let idx = (*self.slots.get(slot)?)?;
        let image = if old { self.before } else { self.after }?;
        let v = image.get(idx)?.as_ref()?;
        Some(Val::from_binlog(v, self.columns.get(idx)?))
    }
}

/// Images as JSON objects keyed by column name (as in a change record).
/// A JSON string in canonical decimal form (`-12.50`, `7`: how DECIMAL
/// values are stored) reads as a number here, since the JSON has lost the
/// column type; [`BinlogRow`] knows the types and needs no such guess.
pub struct JsonRow<'a> {
    pub old: Option<&'a Map<String, Json>>,
    pub new: Option<&'a Map<String, Json>>,
    /// [`Condition::columns`] of the condition evaluated.
    pub names: &'a [String],
}

impl ColumnSource for JsonRow<'_> {
    fn get(&self, old: bool, slot: usize) -> Option<Val> {
        let name = self.names.get(slot)?;
        let image = if old { self.old } else { self.new }?;
        let v = match image.get(name.as_str()) {
            Some(v) => v,
            None => image
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)?,
        };
        Some(match v {
            Json::String(s) if is_canonical_decimal(s) => {
                Num::parse(s).map_or_else(|| Val::Str(s.clone()), Val::Num)
            }
            other => Val::from_json(other),
        })
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`
fn is_canonical_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = int == "0"
        || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

/// What a condition is evaluated against.
pub struct Subject<'a> {
    pub operation: Operation,
    pub database: &'a str,
    pub table: &'a str,
    pub row: &'a dyn ColumnSource,
}

impl Condition {
    /// Parse and check a condition. Errors are one line for humans.
    pub fn compile(text: &str) -> Result<Condition, String> {
        if text.trim().is_empty() {
            return Err("expected a SQL expression, got an empty string".into());
        }
        let dialect = MySqlDialect {};
        let not_sql =
            |e: ParserError| format!("does not parse as SQL: {}", strip_prefix(&e.to_string()));
        let tokens = Tokenizer::new(&dialect, text)
            .tokenize_with_location()
            .map_err(|e| not_sql(e.into()))?;
        let operators = count_operators(&tokens);
        if operators > MAX_OPERATORS {
            return Err(format!(
                "has {operators} operators; a condition may have at most {MAX_OPERATORS}"
            ));
        }
        let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
        let expr = parser.parse_expr().map_err(not_sql)?;
        let next = parser.peek_token();
        if next.token != Token::EOF {
            return Err(format!(
                "does not parse as SQL: unexpected `{}` after the expression",
                next.token
            ));
        }
        let mut c = Compiler::default();
        let node = c.expr(&expr)?;
        check_operation_literals(&node)?;
        Ok(Condition {
            node,
            columns: c.columns,
        })
    }

    /// Referenced column names (lower-cased, distinct), in first-use order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Table column index of each referenced column, by case-insensitive
    /// name (`None`: the table has no such column; it reads as NULL).
    pub fn resolve(&self, column_names: &[String]) -> Vec<Option<usize>> {
        self.columns
            .iter()
            .map(|c| column_names.iter().position(|n| n.eq_ignore_ascii_case(c)))
            .collect()
    }

    /// TRUE, FALSE or NULL (`None`).
    pub fn eval(&self, subject: &Subject<'_>) -> Option<bool> {
        eval(&self.node, subject).truth()
    }

    /// True when the condition is TRUE.
    pub fn matches(&self, subject: &Subject<'_>) -> bool {
        self.eval(subject) == Some(true)
    }
}

/// Most operators (and keywords) a condition may hold. `a + a + … + a`
/// parses into a tree as deep as the chain is long, and compiling,
/// evaluating and dropping the tree recurse: 20 000 terms overflowed the
/// stack. Parentheses and function calls nest at most 50 deep (sqlparser's
/// own limit), so this bounds the depth. Real rules use a handful; 512 already
/// overflowed a 2 MiB thread (tokio's blocking pool) in a debug build.
const MAX_OPERATORS: usize = 128;

/// Operators and keywords among `tokens`: anything but a name, a literal,
/// whitespace or punctuation (so a long `IN (…)` list is fine). A keyword
/// beside a period is a name (`NEW.status`).
fn count_operators(tokens: &[TokenWithSpan]) -> usize {
    let tokens: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let period = |i: Option<usize>| i.and_then(|i| tokens.get(i)) == Some(&&Token::Period);
    (0..tokens.len())
        .filter(|&i| match tokens[i] {
            Token::Word(w) => {
                w.quote_style.is_none()
                    && w.keyword != Keyword::NoKeyword
                    && !period(i.checked_sub(1))
                    && !period(Some(i + 1))
            }
            Token::Comma
            | Token::LParen
            | Token::RParen
            | Token::Period
            | Token::EOF
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_) => false,
            _ => true,
        })
        .count()
}

fn strip_prefix(msg: &str) -> &str {
    msg.strip_prefix("sql parser error: ").unwrap_or(msg)
}

/// `operation = 'delete'` can never be true: catch it when loading.
fn check_operation_literals(node: &Node) -> Result<(), String> {
    let check = |lit: &Node| -> Result<(), String> {
        if let Node::Lit(v) = lit {
            let ok =
                matches!(v, Val::Str(s) if matches!(s.as_str(), "INSERT" | "UPDATE" | "DELETE"));
            if !ok && *v != Val::Null {
                let shown = v.text().unwrap_or_default();
                return Err(format!(
                    "operation is 'INSERT', 'UPDATE' or 'DELETE' (upper case), so comparing it with '{shown}' is never true"
                ));
            }
        }
        Ok(())
    };
    match node {
        Node::Cmp(_, a, b) | Node::NullSafeEq(a, b, _) => {
            if **a == Node::Meta(Meta::Operation) {
                check(b)?;
            }
            if **b == Node::Meta(Meta::Operation) {
                check(a)?;
            }
        }
        Node::In(e, list, _) if **e == Node::Meta(Meta::Operation) => {
            for item in list {
                check(item)?;
            }
        }
        _ => {}
    }
    for child in children(node) {
        check_operation_literals(child)?;
    }
    Ok(())
}

fn children(node: &Node) -> Vec<&Node> {
    match node {
        Node::Lit(_) | Node::Col { .. } | Node::Meta(_) | Node::Changed(_) => vec![],
        Node::Not(a) | Node::Neg(a) | Node::Is(a, _, _) => vec![a],
        Node::And(a, b)
        | Node::Or(a, b)
        | Node::Xor(a, b)
        | Node::Cmp(_, a, b)
        | Node::NullSafeEq(a, b, _)
        | Node::Arith(_, a, b) => vec![a, b],
        Node::In(a, list, _) => std::iter::once(&**a).chain(list.iter()).collect(),
        Node::Between(a, b, c, _) => vec![a, b, c],
        Node::Like { expr, pattern, .. } => vec![expr, pattern],
        Node::Func(_, args) => args.iter().collect(),
    }
}

#[derive(Default)]
struct Compiler {
    columns: Vec<String>,
}

const SUPPORTED: &str = "OLD.col, NEW.col, operation, database, table, literals, comparisons, AND/OR/XOR/NOT, arithmetic, IS [NOT] NULL/TRUE/FALSE, IN, BETWEEN, LIKE, and the functions changed, lower, upper, length, char_length, coalesce, ifnull, abs, concat";

impl Compiler {
    fn slot(&mut self, name: &str) -> usize {
        let lower = name.to_lowercase();
        match self.columns.iter().position(|c| *c == lower) {
            Some(i) => i,
            None => {
                self.columns.push(lower);
                self.columns.len() - 1
            }
        }
    }

    fn boxed(&mut self, e: &Expr) -> Result<Box<Node>, String> {
        self.expr(e).map(Box::new)
    }

    fn expr(&mut self, e: &Expr) -> Result<Node, String> {
        Ok(match e {
            Expr::Nested(inner) => self.expr(inner)?,
            Expr::Identifier(id) => match id.value.to_lowercase().as_str() {
                "operation" => Node::Meta(Meta::Operation),
                "database" | "schema" => Node::Meta(Meta::Database),
                "table" => Node::Meta(Meta::Table),
                "old" | "new" => {
                    return Err(format!("`{}` needs a column: {}.column", id.value, id.value))
                }
                _ => {
                    return Err(format!(
                        "unknown name `{0}`: write OLD.{0} or NEW.{0} for a column (or use operation, database, table)",
                        id.value
                    ))
                }
            },
            Expr::CompoundIdentifier(parts) => {
                let [image, column] = parts.as_slice() else {
                    return Err(format!(
                        "`{e}`: expected OLD.column or NEW.column"
                    ));
                };
                let old = match image.value.to_lowercase().as_str() {
                    "old" => true,
                    "new" => false,
                    _ => {
                        return Err(format!(
                            "`{e}`: expected OLD.column or NEW.column"
                        ))
                    }
                };
                Node::Col {
                    old,
                    slot: self.slot(&column.value),
                }
            }
            Expr::Value(v) => Node::Lit(literal(&v.value)?),
            Expr::UnaryOp { op, expr } => {
                let inner = self.boxed(expr)?;
                match op {
                    UnaryOperator::Not | UnaryOperator::BangNot => Node::Not(inner),
                    UnaryOperator::Minus => Node::Neg(inner),
                    UnaryOperator::Plus => *inner,
                    other => return Err(format!("unsupported operator `{other}` in `{e}`")),
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let (l, r) = (self.boxed(left)?, self.boxed(right)?);
                match op {
                    BinaryOperator::And => Node::And(l, r),
                    BinaryOperator::Or => Node::Or(l, r),
                    BinaryOperator::Xor => Node::Xor(l, r),
                    BinaryOperator::Eq => Node::Cmp(Cmp::Eq, l, r),
                    BinaryOperator::NotEq => Node::Cmp(Cmp::Ne, l, r),
                    BinaryOperator::Lt => Node::Cmp(Cmp::Lt, l, r),
                    BinaryOperator::LtEq => Node::Cmp(Cmp::Le, l, r),
                    BinaryOperator::Gt => Node::Cmp(Cmp::Gt, l, r),
                    BinaryOperator::GtEq => Node::Cmp(Cmp::Ge, l, r),
                    BinaryOperator::Spaceship => Node::NullSafeEq(l, r, false),
                    BinaryOperator::Plus => Node::Arith(Arith::Add, l, r),
                    BinaryOperator::Minus => Node::Arith(Arith::Sub, l, r),
                    BinaryOperator::Multiply => Node::Arith(Arith::Mul, l, r),
                    BinaryOperator::Divide => Node::Arith(Arith::Div, l, r),
                    BinaryOperator::Modulo => Node::Arith(Arith::Mod, l, r),
                    BinaryOperator::MyIntegerDivide => Node::Arith(Arith::IntDiv, l, r),
                    other => return Err(format!("unsupported operator `{other}` in `{e}`")),
                }
            }
            Expr::IsNull(a) => Node::Is(self.boxed(a)?, Is::Null, false),
            Expr::IsNotNull(a) => Node::Is(self.boxed(a)?, Is::Null, true),
            Expr::IsUnknown(a) => Node::Is(self.boxed(a)?, Is::Null, false),
            Expr::IsNotUnknown(a) => Node::Is(self.boxed(a)?, Is::Null, true),
            Expr::IsTrue(a) => Node::Is(self.boxed(a)?, Is::True, false),
            Expr::IsNotTrue(a) => Node::Is(self.boxed(a)?, Is::True, true),
            Expr::IsFalse(a) => Node::Is(self.boxed(a)?, Is::False, false),
            Expr::IsNotFalse(a) => Node::Is(self.boxed(a)?, Is::False, true),
            Expr::IsDistinctFrom(a, b) => Node::NullSafeEq(self.boxed(a)?, self.boxed(b)?, true),
            Expr::IsNotDistinctFrom(a, b) => {
                Node::NullSafeEq(self.boxed(a)?, self.boxed(b)?, false)
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let items = list
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Node::In(self.boxed(expr)?, items, *negated)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => Node::Between(
                self.boxed(expr)?,
                self.boxed(low)?,
                self.boxed(high)?,
                *negated,
            ),
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like(expr, pattern, escape_char.as_deref(), *negated, false)?,
            Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like(expr, pattern, escape_char.as_deref(), *negated, true)?,
            Expr::Function(f) => {
                let name = match f.name.0.as_slice() {
                    [ObjectNamePart::Identifier(id)] => id.value.to_lowercase(),
                    _ => return Err(format!("unknown function `{}`", f.name)),
                };
                if f.filter.is_some()
                    || f.over.is_some()
                    || !f.within_group.is_empty()
                    || f.null_treatment.is_some()
                    || !matches!(f.parameters, FunctionArguments::None)
                {
                    return Err(format!("unsupported function call `{e}`"));
                }
                let args: Vec<&Expr> = match &f.args {
                    FunctionArguments::None => Vec::new(),
                    FunctionArguments::List(list)
                        if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
                    {
                        list.args
                            .iter()
                            .map(|a| match a {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(x),
                                _ => Err(format!("unsupported argument `{a}` in `{e}`")),
                            })
                            .collect::<Result<_, _>>()?
                    }
                    _ => return Err(format!("unsupported function call `{e}`")),
                };
                self.function(&name, &args, e)?
            }
            other => return Err(format!("unsupported expression `{other}` (supported: {SUPPORTED})")),
        })
    }

    fn like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        negated: bool,
        ignore_case: bool,
    ) -> Result<Node, String> {
        let escape = match escape {
            None => Some('\\'),
            Some(Expr::Value(v)) => match &v.value {
                SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (c, None) => c,
                        _ => return Err(format!("ESCAPE takes one character, got '{s}'")),
                    }
                }
                other => return Err(format!("ESCAPE takes a one-character string, got {other}")),
            },
            Some(other) => return Err(format!("ESCAPE takes a one-character string, got {other}")),
        };
        Ok(Node::Like {
            expr: self.boxed(expr)?,
            pattern: self.boxed(pattern)?,
            escape,
            negated,
            ignore_case,
        })
    }

    fn function(&mut self, name: &str, args: &[&Expr], call: &Expr) -> Result<Node, String> {
        let arity = |min: usize, max: Option<usize>| -> Result<(), String> {
            if args.len() < min || max.is_some_and(|m| args.len() > m) {
                let want = match max {
                    Some(m) if m == min => format!("{min}"),
                    Some(m) => format!("{min} to {m}"),
                    None => format!("at least {min}"),
                };
                return Err(format!(
                    "`{call}`: {name}() takes {want} argument(s), got {}",
                    args.len()
                ));
            }
            Ok(())
        };
        let func = match name {
            "changed" => {
                arity(1, Some(1))?;
                let column = match args[0] {
                    Expr::Identifier(id) => id.value.clone(),
                    Expr::CompoundIdentifier(parts)
                        if parts.len() == 2
                            && matches!(parts[0].value.to_lowercase().as_str(), "old" | "new") =>
                    {
                        parts[1].value.clone()
                    }
                    Expr::Value(v) => match &v.value {
                        SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                            s.clone()
                        }
                        _ => return Err(format!("`{call}`: changed() takes a column name")),
                    },
                    _ => return Err(format!("`{call}`: changed() takes a column name")),
                };
                return Ok(Node::Changed(self.slot(&column)));
            }
            "lower" | "lcase" => (Func::Lower, 1, Some(1)),
            "upper" | "ucase" => (Func::Upper, 1, Some(1)),
            "length" | "octet_length" => (Func::Length, 1, Some(1)),
            "char_length" | "character_length" => (Func::CharLength, 1, Some(1)),
            "coalesce" => (Func::Coalesce, 1, None),
            "ifnull" => (Func::IfNull, 2, Some(2)),
            "abs" => (Func::Abs, 1, Some(1)),
            "concat" => (Func::Concat, 1, None),
            _ => {
                return Err(format!(
                    "unknown function `{name}` (available: changed, lower, upper, length, char_length, coalesce, ifnull, abs, concat)"
                ))
            }
        };
        arity(func.1, func.2)?;
        let nodes = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Node::Func(func.0, nodes))
    }
}

fn literal(v: &SqlValue) -> Result<Val, String> {
    Ok(match v {
        SqlValue::Number(s, _) => Val::Num(Num::parse(s).ok_or_else(|| format!("bad number {s}"))?),
        SqlValue::SingleQuotedString(s)
        | SqlValue::DoubleQuotedString(s)
        | SqlValue::NationalStringLiteral(s) => Val::Str(s.clone()),
        SqlValue::Boolean(b) => Val::Bool(*b),
        SqlValue::Null => Val::Null,
        SqlValue::HexStringLiteral(h) => {
            Val::Bytes(decode_hex(h).ok_or_else(|| format!("bad hex literal X'{h}'"))?)
        }
        other => return Err(format!("unsupported literal {other}")),
    })
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    let padded = if h.len() % 2 == 1 {
        format!("0{h}")
    } else {
        h.to_string()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(padded.get(i..i + 2)?, 16).ok())
        .collect()
}

fn eval(node: &Node, s: &Subject<'_>) -> Val {
    match node {
        Node::Lit(v) => v.clone(),
        Node::Col { old, slot } => s.row.get(*old, *slot).unwrap_or(Val::Null),
        Node::Meta(Meta::Operation) => Val::Str(s.operation.as_str().into()),
        Node::Meta(Meta::Database) => Val::Str(s.database.into()),
        Node::Meta(Meta::Table) => Val::Str(s.table.into()),
        Node::Not(a) => Val::from_truth(eval(a, s).truth().map(|b| !b)),
        Node::And(a, b) => {
            let l = eval(a, s).truth();
            if l == Some(false) {
                return Val::Bool(false);
            }
            match (l, eval(b, s).truth()) {
                (_, Some(false)) => Val::Bool(false),
                (Some(true), Some(true)) => Val::Bool(true),
                _ => Val::Null,
            }
        }
        Node::Or(a, b) => {
            let l = eval(a, s).truth();
            if l == Some(true) {
                return Val::Bool(true);
            }
            match (l, eval(b, s).truth()) {
                (_, Some(true)) => Val::Bool(true),
                (Some(false), Some(false)) => Val::Bool(false),
                _ => Val::Null,
            }
        }
        Node::Xor(a, b) => match (eval(a, s).truth(), eval(b, s).truth()) {
            (Some(x), Some(y)) => Val::Bool(x != y),
            _ => Val::Null,
        },
        Node::Cmp(op, a, b) => {
            let ord = compare(&eval(a, s), &eval(b, s));
            Val::from_truth(ord.map(|o| match op {
                Cmp::Eq => o == Ordering::Equal,
                Cmp::Ne => o != Ordering::Equal,
                Cmp::Lt => o == Ordering::Less,
                Cmp::Le => o != Ordering::Greater,
                Cmp::Gt => o == Ordering::Greater,
                Cmp::Ge => o != Ordering::Less,
            }))
        }
        Node::NullSafeEq(a, b, negated) => {
            let (l, r) = (eval(a, s), eval(b, s));
            let eq = match (&l, &r) {
                (Val::Null, Val::Null) => true,
                (Val::Null, _) | (_, Val::Null) => false,
                _ => compare(&l, &r) == Some(Ordering::Equal),
            };
            Val::Bool(eq != *negated)
        }
        Node::Arith(op, a, b) => {
            let (l, r) = (eval(a, s), eval(b, s));
            match (l.num(), r.num()) {
                (Some(x), Some(y)) => x.arith(*op, y).map_or(Val::Null, Val::Num),
                _ => Val::Null,
            }
        }
        Node::Neg(a) => eval(a, s).num().map_or(Val::Null, |n| Val::Num(n.neg())),
        Node::Is(a, what, negated) => {
            let v = eval(a, s);
            let r = match what {
                Is::Null => v == Val::Null,
                Is::True => v.truth() == Some(true),
                Is::False => v.truth() == Some(false),
            };
            Val::Bool(r != *negated)
        }
        Node::In(a, list, negated) => {
            let v = eval(a, s);
            let mut saw_null = false;
            for item in list {
                match compare(&v, &eval(item, s)) {
                    Some(Ordering::Equal) => return Val::Bool(!negated),
                    None => saw_null = true,
                    Some(_) => {}
                }
            }
            if saw_null {
                Val::Null
            } else {
                Val::Bool(*negated)
            }
        }
        Node::Between(a, lo, hi, negated) => {
            let v = eval(a, s);
            let ge = compare(&v, &eval(lo, s)).map(|o| o != Ordering::Less);
            let le = compare(&v, &eval(hi, s)).map(|o| o != Ordering::Greater);
            let inside = match (ge, le) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            Val::from_truth(inside.map(|b| b != *negated))
        }
        Node::Like {
            expr,
            pattern,
            escape,
            negated,
            ignore_case,
        } => {
            let (Some(text), Some(pat)) = (eval(expr, s).text(), eval(pattern, s).text()) else {
                return Val::Null;
            };
            let (text, pat) = if *ignore_case {
                (text.to_lowercase(), pat.to_lowercase())
            } else {
                (text, pat)
            };
            Val::Bool(like(&text, &pat, *escape) != *negated)
        }
        Node::Changed(slot) => {
            if s.operation != Operation::Update {
                return Val::Bool(false);
            }
            match (s.row.get(true, *slot), s.row.get(false, *slot)) {
                (Some(o), Some(n)) => Val::Bool(o != n),
                _ => Val::Null,
            }
        }
        Node::Func(f, args) => call(*f, args, s),
    }
}

fn call(f: Func, args: &[Node], s: &Subject<'_>) -> Val {
    let arg = |i: usize| args.get(i).map_or(Val::Null, |a| eval(a, s));
    match f {
        Func::Lower => arg(0)
            .text()
            .map_or(Val::Null, |t| Val::Str(t.to_lowercase())),
        Func::Upper => arg(0)
            .text()
            .map_or(Val::Null, |t| Val::Str(t.to_uppercase())),
        Func::Length => match arg(0) {
            Val::Bytes(b) => Val::Num(Num::int(b.len() as i128)),
            v => v
                .text()
                .map_or(Val::Null, |t| Val::Num(Num::int(t.len() as i128))),
        },
        Func::CharLength => arg(0)
            .text()
            .map_or(Val::Null, |t| Val::Num(Num::int(t.chars().count() as i128))),
        Func::Coalesce | Func::IfNull => args
            .iter()
            .map(|a| eval(a, s))
            .find(|v| *v != Val::Null)
            .unwrap_or(Val::Null),
        Func::Abs => arg(0).num().map_or(Val::Null, |n| {
            let negative = n.cmp(Num::int(0)) == Some(Ordering::Less);
            Val::Num(if negative { n.neg() } else { n })
        }),
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                match eval(a, s).text() {
                    Some(t) => out.push_str(&t),
                    None => return Val::Null,
                }
            }
            Val::Str(out)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeTok {
    Any,
    One,
    Ch(char),
}

/// SQL LIKE: `%` any run, `_` one character, `escape` makes the next
/// character literal.
fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            toks.push(LikeTok::Ch(chars.next().unwrap_or(c)));
        } else if c == '%' {
            if toks.last() != Some(&LikeTok::Any) {
                toks.push(LikeTok::Any);
            }
        } else if c == '_' {
            toks.push(LikeTok::One);
        } else {
            toks.push(LikeTok::Ch(c));
        }
    }
    let t: Vec<char> = text.chars().collect();
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match toks.get(pi) {
            Some(LikeTok::Any) => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(LikeTok::One) => {
                ti += 1;
                pi += 1;
                continue;
            }
            Some(LikeTok::Ch(c)) if *c == t[ti] => {
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
    toks[pi..].iter().all(|t| *t == LikeTok::Any)
}

#[cfg(test)]
mod tests;
