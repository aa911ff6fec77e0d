//! Compile a rule condition and evaluate it the way the pipeline does. Any
//! panic is a bug: a condition comes from the user's `tables.yaml`, and the
//! values it reads come from the binlog.
//!
//! Input: the condition, optionally followed by a newline and a JSON array
//! of row images (objects keyed by column name). Without images, two fixed
//! ones hold the values most likely to break arithmetic and comparison:
//! 64-bit extremes, a 38-digit decimal, huge and tiny doubles, NULL, JSON.
//!
//! Shared by the `rule_condition` fuzz target and
//! `crates/pipeline/tests/fuzz_regressions.rs`.

use pipeline::rules::{Condition, JsonRow, Subject};
use pipeline::Operation;
use serde_json::{json, Map, Value};

/// Evaluations run; `None` when the input is not UTF-8 or the condition
/// does not compile (an error value, which is fine).
pub fn evaluate(data: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(data).ok()?;
    let (condition, images) = text.split_once('\n').unwrap_or((text, ""));
    let condition = Condition::compile(condition).ok()?;
    let images = match serde_json::from_str::<Value>(images) {
        Ok(Value::Array(images)) => objects(images),
        _ => default_images(),
    };
    let names = condition.columns().to_vec();
    let mut runs = 0;
    for operation in [Operation::Insert, Operation::Update, Operation::Delete] {
        let pairs = [
            (images.first(), images.get(1)),
            (images.get(1), images.first()),
            (None, images.first()),
            (images.first(), None),
        ];
        for (old, new) in pairs {
            let row = JsonRow {
                old,
                new,
                names: &names,
            };
            let subject = Subject {
                operation,
                database: "db",
                table: "t",
                row: &row,
            };
            let _ = condition.eval(&subject);
            runs += 1;
        }
    }
    Some(runs)
}

/// The JSON objects among `values`, as row images.
fn objects(values: impl IntoIterator<Item = Value>) -> Vec<Map<String, Value>> {
    values
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(image) => Some(image),
            _ => None,
        })
        .collect()
}

fn default_images() -> Vec<Map<String, Value>> {
    objects([
        json!({
            "id": 1, "amount": "12.50", "status": "paid", "n": i64::MIN, "u": u64::MAX,
            "f": 1.5e308, "s": "", "j": {"a": [1, 2]}, "z": null
        }),
        json!({
            "id": 2, "amount": "99999999999999999999999999999999999.999", "status": "PAID",
            "n": i64::MAX, "u": 0, "f": -1e-308, "s": "x%_\\", "j": [], "z": "0"
        }),
    ])
}
