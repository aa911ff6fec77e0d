use std::borrow::Cow;

use binlog::column::{column_type as ct, ColumnDef};
use binlog::value::{Timestamp, Value};
use serde_json::{json, Map, Value as Json};

use super::*;

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// Evaluate `cond` over JSON images (`null` = image absent).
fn eval_json(cond: &str, op: Operation, old: Json, new: Json) -> Option<bool> {
    let c = Condition::compile(cond).unwrap_or_else(|e| panic!("{cond}: {e}"));
    let (old, new) = (
        (!old.is_null()).then(|| obj(old)),
        (!new.is_null()).then(|| obj(new)),
    );
    let row = JsonRow {
        old: old.as_ref(),
        new: new.as_ref(),
        names: c.columns(),
    };
    c.eval(&Subject {
        operation: op,
        database: "ecommerce",
        table: "orders",
        row: &row,
    })
}

fn lit(cond: &str) -> Option<bool> {
    eval_json(cond, Operation::Insert, Json::Null, json!({}))
}

use Operation::{Delete, Insert, Update};

#[test]
fn seed_status_change_follows_null_semantics() {
    let c = "OLD.status != NEW.status";
    assert_eq!(
        eval_json(
            c,
            Update,
            json!({"status": "active"}),
            json!({"status": "banned"})
        ),
        Some(true)
    );
    assert_eq!(
        eval_json(
            c,
            Update,
            json!({"status": "active"}),
            json!({"status": "active"})
        ),
        Some(false)
    );
    // INSERT has no OLD: NULL, so the rule does not fire.
    assert_eq!(
        eval_json(c, Insert, Json::Null, json!({"status": "active"})),
        None
    );
    assert_eq!(
        eval_json(c, Delete, json!({"status": "active"}), Json::Null),
        None
    );
    // NULL → value is not "!=" in SQL.
    assert_eq!(
        eval_json(c, Update, json!({"status": null}), json!({"status": "x"})),
        None
    );
    // Case matters (binary comparison).
    assert_eq!(
        eval_json(
            c,
            Update,
            json!({"status": "Active"}),
            json!({"status": "active"})
        ),
        Some(true)
    );
    // Minimal row image: column absent from the before image.
    assert_eq!(
        eval_json(c, Update, json!({"id": 1}), json!({"status": "x"})),
        None
    );
}

#[test]
fn seed_high_amount_compares_decimal_strings_numerically() {
    let c = "NEW.amount > 10000";
    let ins = |amount: Json| eval_json(c, Insert, Json::Null, json!({"amount": amount}));
    assert_eq!(ins(json!("12999.00")), Some(true));
    assert_eq!(ins(json!("10000.00")), Some(false));
    assert_eq!(ins(json!("9999.99")), Some(false));
    assert_eq!(ins(json!("100000000000000000000000000000.01")), Some(true));
    assert_eq!(ins(json!(25000)), Some(true));
    // NULL amount: unknown, not false, and not fired.
    assert_eq!(ins(Json::Null), None);
    // DELETE has no NEW.
    assert_eq!(
        eval_json(c, Delete, json!({"amount": "20000.00"}), Json::Null),
        None
    );
    // NOT of NULL is still NULL.
    assert_eq!(
        eval_json(
            "NOT (NEW.amount > 10000)",
            Insert,
            Json::Null,
            json!({"amount": null})
        ),
        None
    );
    // Decimal strings compare as numbers, not as text ("9.00" > "10.00" as text).
    assert_eq!(
        eval_json(
            "NEW.amount > OLD.amount",
            Update,
            json!({"amount": "9.00"}),
            json!({"amount": "10.00"})
        ),
        Some(true)
    );
}

#[test]
fn seed_operation_condition() {
    let c = "operation = 'DELETE'";
    assert_eq!(
        eval_json(c, Delete, json!({"id": 1}), Json::Null),
        Some(true)
    );
    assert_eq!(
        eval_json(c, Insert, Json::Null, json!({"id": 1})),
        Some(false)
    );
    assert_eq!(
        eval_json(
            "operation IN ('INSERT', 'UPDATE')",
            Update,
            json!({}),
            json!({})
        ),
        Some(true)
    );
    assert_eq!(
        eval_json(
            "table = 'orders' AND database = 'ecommerce'",
            Update,
            json!({}),
            json!({})
        ),
        Some(true)
    );
}

#[test]
fn changed_is_null_safe_and_false_outside_updates() {
    let c = "changed(status)";
    assert_eq!(
        eval_json(c, Update, json!({"status": null}), json!({"status": "x"})),
        Some(true)
    );
    assert_eq!(
        eval_json(c, Update, json!({"status": null}), json!({"status": null})),
        Some(false)
    );
    assert_eq!(
        eval_json(c, Update, json!({"status": "a"}), json!({"status": "a"})),
        Some(false)
    );
    assert_eq!(
        eval_json(c, Insert, Json::Null, json!({"status": "a"})),
        Some(false)
    );
    assert_eq!(
        eval_json(c, Update, json!({"id": 1}), json!({"status": "a"})),
        None,
        "absent before value"
    );
    assert_eq!(
        eval_json(
            "changed(NEW.Status)",
            Update,
            json!({"status": 1}),
            json!({"status": 2})
        ),
        Some(true)
    );
}

#[test]
fn three_valued_logic_of_and_or_not_xor() {
    assert_eq!(lit("NULL AND FALSE"), Some(false));
    assert_eq!(lit("NULL AND TRUE"), None);
    assert_eq!(lit("NULL OR TRUE"), Some(true));
    assert_eq!(lit("NULL OR FALSE"), None);
    assert_eq!(lit("NOT NULL"), None);
    assert_eq!(lit("TRUE XOR FALSE"), Some(true));
    assert_eq!(lit("TRUE XOR NULL"), None);
    assert_eq!(lit("NULL = NULL"), None);
    assert_eq!(lit("NULL <=> NULL"), Some(true));
    assert_eq!(lit("1 <=> NULL"), Some(false));
    assert_eq!(lit("NULL IS NULL"), Some(true));
    assert_eq!(lit("NULL IS NOT NULL"), Some(false));
    assert_eq!(lit("(1 = NULL) IS UNKNOWN"), Some(true));
    assert_eq!(lit("(1 = 1) IS TRUE"), Some(true));
    assert_eq!(lit("(1 = 2) IS NOT FALSE"), Some(false));
    assert_eq!(lit("1 IS DISTINCT FROM NULL"), Some(true));
}

#[test]
fn in_between_like_with_nulls() {
    let row = json!({"status": "b", "n": 5, "email": "a_b@example.com", "none": null});
    let e = |c: &str| eval_json(c, Insert, Json::Null, row.clone());
    assert_eq!(e("NEW.status IN ('a', 'b')"), Some(true));
    assert_eq!(
        e("NEW.status IN ('a', NULL)"),
        None,
        "no match but a NULL: unknown"
    );
    assert_eq!(e("NEW.status NOT IN ('a', NULL)"), None);
    assert_eq!(e("NEW.status NOT IN ('a', 'c')"), Some(true));
    assert_eq!(e("NEW.none IN ('a')"), None);
    assert_eq!(e("NEW.n BETWEEN 1 AND 5"), Some(true));
    assert_eq!(e("NEW.n NOT BETWEEN 1 AND 5"), Some(false));
    assert_eq!(
        e("NEW.n BETWEEN 6 AND NULL"),
        Some(false),
        "already below: false, not unknown"
    );
    assert_eq!(e("NEW.n BETWEEN 1 AND NULL"), None);
    assert_eq!(e("NEW.email LIKE '%@example.com'"), Some(true));
    assert_eq!(e("NEW.email LIKE 'a\\_b%'"), Some(true));
    assert_eq!(e("NEW.email LIKE 'a!_b%' ESCAPE '!'"), Some(true));
    assert_eq!(e("NEW.email LIKE 'ax%'"), Some(false));
    assert_eq!(
        e("NEW.email LIKE '%EXAMPLE%'"),
        Some(false),
        "LIKE is case-sensitive"
    );
    assert_eq!(e("NEW.email ILIKE '%EXAMPLE%'"), Some(true));
    assert_eq!(e("NEW.none LIKE '%'"), None);
    assert_eq!(e("NEW.email NOT LIKE '%.cn'"), Some(true));
}

#[test]
fn arithmetic_is_exact_and_division_by_zero_is_null() {
    let e = |c: &str| {
        eval_json(
            c,
            Update,
            json!({"amount": "100.10", "qty": 3}),
            json!({"amount": "100.30", "qty": 5}),
        )
    };
    assert_eq!(
        e("NEW.amount - OLD.amount = 0.2"),
        Some(true),
        "exact decimal arithmetic"
    );
    assert_eq!(e("NEW.qty * 2 = 10"), Some(true));
    assert_eq!(e("NEW.qty / 0 IS NULL"), Some(true));
    assert_eq!(e("NEW.qty % 2 = 1"), Some(true));
    assert_eq!(e("NEW.qty DIV 2 = 2"), Some(true));
    assert_eq!(e("-OLD.qty = -3"), Some(true));
    assert_eq!(e("abs(OLD.qty - NEW.qty) = 2"), Some(true));
    assert_eq!(e("NEW.qty / 2 = 2.5"), Some(true));
    assert_eq!(lit("0.1 + 0.2 = 0.3"), Some(true));
    assert_eq!(
        lit("18446744073709551615 > 18446744073709551614"),
        Some(true)
    );
    assert_eq!(lit("1e3 = 1000"), Some(true));
}

#[test]
fn mysql_string_number_conversions() {
    assert_eq!(lit("'10' < '9'"), Some(true), "two strings compare as text");
    assert_eq!(
        lit("'10' > 9"),
        Some(true),
        "string vs number compares as numbers"
    );
    assert_eq!(lit("'12.50' = 12.5"), Some(true));
    assert_eq!(
        lit("'abc' = 0"),
        Some(true),
        "MySQL reads non-numeric text as 0"
    );
    assert_eq!(lit("' 42abc' = 42"), Some(true));
    assert_eq!(lit("TRUE = 1"), Some(true));
    assert_eq!(lit("X'41' = 'A'"), Some(true));
    assert_eq!(lit("lower('AbC') = 'abc' AND upper('x') = 'X'"), Some(true));
    assert_eq!(
        lit("length('中') = 3 AND char_length('中') = 1"),
        Some(true)
    );
    assert_eq!(lit("coalesce(NULL, NULL, 'x') = 'x'"), Some(true));
    assert_eq!(lit("ifnull(NULL, 2) = 2"), Some(true));
    assert_eq!(lit("concat('a', NULL) IS NULL"), Some(true));
    assert_eq!(lit("concat('a', 1.50) = 'a1.5'"), Some(true));
}

#[test]
fn compile_errors_are_explained() {
    let err = |c: &str| Condition::compile(c).unwrap_err();
    assert!(err("status = 'a'").contains("write OLD.status or NEW.status"));
    assert!(err("OLD.status !=").contains("does not parse as SQL"));
    assert!(err("OLD.a = 1 2").contains("unexpected `2`"));
    assert!(err("").contains("empty"));
    assert!(err("foo(OLD.a)").contains("unknown function `foo`"));
    assert!(err("OLD = 1").contains("needs a column"));
    assert!(err("x.y.z = 1").contains("expected OLD.column or NEW.column"));
    assert!(err("users.status = 1").contains("expected OLD.column or NEW.column"));
    assert!(err("NEW.a IN (SELECT 1)").contains("unsupported"));
    assert!(err("operation = 'delete'").contains("never true"));
    assert!(err("operation IN ('INSERT', 'MERGE')").contains("'MERGE'"));
    assert!(err("changed(1)").contains("column name"));
    assert!(err("ifnull(1)").contains("takes 2 argument"));
    assert!(err("NEW.a LIKE 'x' ESCAPE 'ab'").contains("one character"));
}

#[test]
fn columns_are_distinct_and_lower_case() {
    let c = Condition::compile("OLD.Status != NEW.status AND changed(amount) OR NEW.amount > 1")
        .unwrap();
    assert_eq!(c.columns(), ["status", "amount"]);
    assert_eq!(
        c.resolve(&["id".into(), "AMOUNT".into(), "status".into()]),
        vec![Some(2), Some(1)]
    );
}

fn col(type_code: u8, name: &str) -> ColumnDef {
    let mut c = ColumnDef::new(type_code, 0);
    c.name = Some(name.into());
    c
}

/// Rules over decoded binlog values: the types are known, so DECIMAL is a
/// number and TIMESTAMP compares as MySQL prints it.
#[test]
fn binlog_values_keep_their_types() {
    let columns = vec![
        col(ct::NEWDECIMAL, "amount"),
        col(ct::VARCHAR, "status"),
        col(ct::TIMESTAMP2, "ts"),
        col(ct::LONGLONG, "big"),
    ];
    let before: Vec<Option<Value<'_>>> = vec![
        Some(Value::Decimal("9.00".into())),
        Some(Value::Text(Cow::Borrowed("pending"))),
        Some(Value::Timestamp(Timestamp {
            seconds: 1735722000,
            micros: 0,
            fsp: 0,
        })),
        Some(Value::UInt(u64::MAX)),
    ];
    let after: Vec<Option<Value<'_>>> = vec![
        Some(Value::Decimal("12999.00".into())),
        Some(Value::Null),
        Some(Value::Timestamp(Timestamp {
            seconds: 1735722060,
            micros: 0,
            fsp: 0,
        })),
        None,
    ];
    let names: Vec<String> = columns.iter().map(|c| c.name.clone().unwrap()).collect();
    let check = |cond: &str, op: Operation| {
        let c = Condition::compile(cond).unwrap();
        let slots = c.resolve(&names);
        let row = BinlogRow {
            columns: &columns,
            before: Some(&before),
            after: Some(&after),
            slots: &slots,
        };
        c.eval(&Subject {
            operation: op,
            database: "ecommerce",
            table: "orders",
            row: &row,
        })
    };
    assert_eq!(check("NEW.amount > 10000", Update), Some(true));
    assert_eq!(check("NEW.amount > OLD.amount", Update), Some(true));
    assert_eq!(
        check("OLD.status != NEW.status", Update),
        None,
        "NULL after"
    );
    assert_eq!(check("changed(status)", Update), Some(true));
    assert_eq!(
        check(
            "NEW.ts > '2025-01-01 09:00:30' AND OLD.ts = '2025-01-01 09:00:00'",
            Update
        ),
        Some(true)
    );
    assert_eq!(check("OLD.big = 18446744073709551615", Update), Some(true));
    assert_eq!(
        check("NEW.big IS NULL", Update),
        Some(true),
        "absent from the image reads as NULL"
    );
    assert_eq!(check("changed(big)", Update), None);
    assert_eq!(
        check("NEW.nosuch IS NULL", Update),
        Some(true),
        "unknown column reads as NULL"
    );
}

#[test]
fn number_parsing_and_printing() {
    assert_eq!(Num::parse("-12.500"), Some(Num::Dec { m: -125, scale: 1 }));
    assert_eq!(Num::parse(".5"), Some(Num::Dec { m: 5, scale: 1 }));
    assert_eq!(Num::parse("abc"), None);
    assert_eq!(Num::parse("1.2.3"), None);
    assert_eq!(Num::parse("-"), None);
    assert_eq!(Num::Dec { m: -5, scale: 3 }.to_text(), "-0.005");
    assert_eq!(Num::Dec { m: 125, scale: 1 }.to_text(), "12.5");
    assert!(matches!(Num::parse(&"9".repeat(50)), Some(Num::Float(_))));
    assert_eq!(str_to_num("3.5kg"), Num::Dec { m: 35, scale: 1 });
    assert_eq!(str_to_num("."), Num::int(0));
    assert_eq!(str_to_num("2e"), Num::int(2));
    assert!(is_canonical_decimal("-0.50") && is_canonical_decimal("12345"));
    assert!(
        !is_canonical_decimal("007") && !is_canonical_decimal("1.") && !is_canonical_decimal("+1")
    );
}

/// `a + a + … + a` parses into a tree as deep as the chain is long; 20 000
/// terms overflowed the stack (compile, eval and drop recurse) and aborted
/// `check-config`. Past MAX_OPERATORS it is an error; at the limit, the
/// deepest tree compiles, evaluates and drops on a 2 MiB thread (a tokio
/// worker's stack) in a debug build.
#[test]
fn operator_chain_past_the_limit_is_an_error_not_a_stack_overflow() {
    let chain = |n: usize| vec!["NEW.amount"; n + 1].join(" + ") + " > 1";
    let err = Condition::compile(&chain(100_000)).unwrap_err();
    assert_eq!(
        err,
        format!("has 100001 operators; a condition may have at most {MAX_OPERATORS}")
    );
    // Names beside a period are not counted even when they are keywords
    // (STATUS, NEW), nor are literals: a long IN list is fine.
    let list = (0..2000).map(|i| format!("'s{i}'")).collect::<Vec<_>>();
    let long_in = format!(
        "NEW.status IN ({}) AND OLD.status = NEW.status",
        list.join(", ")
    );
    assert!(Condition::compile(&long_in).is_ok());

    let deepest = chain(MAX_OPERATORS - 1);
    let nested = format!(
        "{}{}{}",
        "(".repeat(40),
        chain(MAX_OPERATORS - 41),
        ")".repeat(40)
    );
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for cond in [deepest, nested] {
                let c = Condition::compile(&cond).unwrap_or_else(|e| panic!("{e}"));
                let new = obj(json!({"amount": "1.5"}));
                let row = JsonRow {
                    old: None,
                    new: Some(&new),
                    names: c.columns(),
                };
                let subject = Subject {
                    operation: Insert,
                    database: "d",
                    table: "t",
                    row: &row,
                };
                assert_eq!(c.eval(&subject), Some(true));
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
