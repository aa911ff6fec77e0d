//! The JSON shapes of REST responses (and the SSE stream), in one place so
//! the OpenAPI document can be checked against them.

use pipeline::record::{ChangeRecord, JsonText, Operation};
use serde_json::{json, Map, Value as Json};
use store::{
    ColumnChangeItem, OpCounts, RowAsOf, StoredAlert, StoredChange, TableStats, TrendPoint,
};

use crate::time::format_iso8601;

/// A change as the seed's `/changes` list shows it (`id, timestamp,
/// operation, primary_key, old_data, new_data`), plus where it is from and
/// its per-column diff.
pub fn change(c: &ChangeRecord) -> Json {
    json!({
        "id": c.id(),
        "timestamp": format_iso8601(c.timestamp),
        "operation": c.operation.as_str(),
        "database": c.database,
        "table": c.table,
        "primary_key": c.primary_key,
        "old_data": c.old_data,
        "new_data": c.new_data,
        "changes": column_changes(c),
        "gtid": c.gtid,
        "query": c.query,
        "tags": c.tags,
    })
}

pub fn changes(items: &[StoredChange]) -> Json {
    Json::Array(items.iter().map(|c| change(&c.record)).collect())
}

/// One entry of a row's history (`timestamp, operation, changes`).
pub fn history_entry(c: &ChangeRecord) -> Json {
    json!({
        "id": c.id(),
        "timestamp": format_iso8601(c.timestamp),
        "operation": c.operation.as_str(),
        "changes": column_changes(c),
        "gtid": c.gtid,
    })
}

/// An UPDATE's diff as the seed's `get_update_diffs` shows it.
pub fn update_diff(c: &ChangeRecord) -> Json {
    json!({
        "change_id": c.id(),
        "timestamp": format_iso8601(c.timestamp),
        "operation": c.operation.as_str(),
        "primary_key": c.primary_key,
        "changes": column_changes(c),
    })
}

/// Column → `{old, new}`: an UPDATE's changed columns; every column of an
/// INSERT (`old` null) or DELETE (`new` null).
pub fn column_changes(c: &ChangeRecord) -> Map<String, Json> {
    match c.operation {
        Operation::Update if !c.changes.is_empty() => c.changes.to_map(),
        Operation::Update => diff_images(
            c.old_data.as_ref().map(JsonText::to_map).as_ref(),
            c.new_data.as_ref().map(JsonText::to_map).as_ref(),
        ),
        Operation::Insert => {
            image_changes(c.new_data.as_ref().map(JsonText::to_map).as_ref(), false)
        }
        Operation::Delete => {
            image_changes(c.old_data.as_ref().map(JsonText::to_map).as_ref(), true)
        }
    }
}

fn image_changes(image: Option<&Map<String, Json>>, old: bool) -> Map<String, Json> {
    image
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let pair = if old {
                json!({"old": v, "new": null})
            } else {
                json!({"old": null, "new": v})
            };
            (k.clone(), pair)
        })
        .collect()
}

/// For UPDATEs stored without a diff: columns whose images differ.
fn diff_images(
    old: Option<&Map<String, Json>>,
    new: Option<&Map<String, Json>>,
) -> Map<String, Json> {
    let empty = Map::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let mut out = Map::new();
    for (k, nv) in new {
        match old.get(k) {
            Some(ov) if ov == nv => {}
            // Absent from a minimal before image: old value unknown.
            ov => {
                out.insert(k.clone(), json!({"old": ov, "new": nv}));
            }
        }
    }
    out
}

/// One column's change (`?column=status`): old/new value per change.
pub fn column_change(item: &ColumnChangeItem, column: &str) -> Json {
    json!({
        "id": item.id,
        "timestamp": format_iso8601(item.timestamp),
        "operation": item.operation.as_str(),
        "primary_key": item.primary_key,
        "column": column,
        "old_value": item.old,
        "new_value": item.new,
    })
}

pub fn op_counts(c: &OpCounts) -> Json {
    json!({
        "INSERT": c.insert,
        "UPDATE": c.update,
        "DELETE": c.delete,
    })
}

/// The seed's stats object plus the hour-of-day distribution.
pub fn stats(s: &TableStats) -> Json {
    let daily: Map<String, Json> = s
        .daily
        .iter()
        .map(|d| {
            let mut counts = op_counts(&d.counts);
            if let Json::Object(m) = &mut counts {
                m.insert("total".into(), json!(d.counts.total()));
            }
            (d.date.clone(), counts)
        })
        .collect();
    json!({
        "total_changes": s.total_changes,
        "operations": op_counts(&s.operations),
        "daily_stats": daily,
        "hourly_distribution": s.hourly.iter()
            .map(|h| json!({"hour": h.hour, "count": h.count}))
            .collect::<Vec<_>>(),
    })
}

pub fn trend_point(p: &TrendPoint) -> Json {
    json!({
        "start": format_iso8601(p.start),
        "epoch": p.start,
        "INSERT": p.counts.insert,
        "UPDATE": p.counts.update,
        "DELETE": p.counts.delete,
        "total": p.counts.total(),
    })
}

pub fn alert(a: &StoredAlert) -> Json {
    let mut v = alert_body(&a.alert);
    if let Json::Object(m) = &mut v {
        m.insert("id".into(), json!(a.id));
    }
    v
}

pub fn alert_body(a: &store::Alert) -> Json {
    json!({
        "kind": a.kind,
        "name": a.name,
        "priority": a.priority,
        "timestamp": format_iso8601(a.timestamp),
        "database": a.database,
        "table": a.table,
        "change_id": a.change.as_ref().map(|k| k.id()),
        "message": a.message,
        "details": a.details,
    })
}

pub fn row_as_of(r: &RowAsOf, at: u32) -> Json {
    json!({
        "at": format_iso8601(at),
        "exists": r.exists,
        "row": r.row,
        "changes_applied": r.changes_applied,
        "last_change": r.last_change.as_ref().map(|c| history_entry(&c.record)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::record::ChangeKey;

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn record(op: Operation, old: Option<Json>, new: Option<Json>) -> ChangeRecord {
        ChangeRecord {
            key: ChangeKey {
                binlog_file: "mysql-bin.000001".into(),
                event_pos: 4271,
                row_index: 0,
            },
            timestamp: 1_705_314_600,
            operation: op,
            database: "ecommerce".into(),
            table: "users".into(),
            pk_text: "12345".into(),
            primary_key: obj(json!({"id": 12345})).into(),
            old_data: old.map(|v| obj(v).into()),
            new_data: new.map(|v| obj(v).into()),
            changes: JsonText::empty(),
            gtid: None,
            xid: None,
            query: None,
            tags: vec![],
        }
    }

    #[test]
    fn insert_and_delete_changes_list_every_column_with_a_null_side() {
        let ins = record(
            Operation::Insert,
            None,
            Some(json!({"id": 1, "status": "new"})),
        );
        assert_eq!(
            Json::Object(column_changes(&ins)),
            json!({"id": {"old": null, "new": 1}, "status": {"old": null, "new": "new"}})
        );
        let del = record(Operation::Delete, Some(json!({"id": 1})), None);
        assert_eq!(
            Json::Object(column_changes(&del)),
            json!({"id": {"old": 1, "new": null}})
        );
    }

    #[test]
    fn update_without_stored_diff_is_diffed_from_images() {
        let upd = record(
            Operation::Update,
            Some(json!({"id": 1, "email": "old@email.com", "status": "inactive"})),
            Some(json!({"id": 1, "email": "new@email.com", "status": "inactive"})),
        );
        assert_eq!(
            update_diff(&upd),
            json!({
                "change_id": "mysql-bin.000001:4271:0",
                "timestamp": "2024-01-15T10:30:00Z",
                "operation": "UPDATE",
                "primary_key": {"id": 12345},
                "changes": {"email": {"old": "old@email.com", "new": "new@email.com"}},
            })
        );
    }
}
