//! Synthetic change records shaped like the seed's tables, for the write
//! bench and the ingest probe: 6 columns, 70% INSERT / 25% UPDATE / 5%
//! DELETE, ten rows per statement and transaction.

use pipeline::record::{ChangeKey, ChangeRecord, Checkpoint, Operation};
use serde_json::{json, Map, Value as Json};

impl Gen {
    pub fn new() -> Gen {
        Gen {
            pos: 4,
            ts: 1_705_314_600,
            next_id: 0,
        }
    }
}

pub struct Gen {
    pub pos: u64,
    pub ts: u32,
    pub next_id: u64,
}

pub fn image(id: u64, status: &str) -> Map<String, Json> {
    match json!({
        "id": id,
        "user_id": id % 977,
        "amount": format!("{}.{:02}", id % 10_000, id % 100),
        "status": status,
        "created_at": "2024-01-15 10:30:00",
        "note": format!("order note {id} for customer"),
    }) {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

impl Gen {
    pub fn batch(&mut self, size: usize) -> (Vec<ChangeRecord>, Checkpoint) {
        let tables = ["users", "orders", "products"];
        let mut out = Vec::with_capacity(size);
        for i in 0..size {
            // Ten rows per rows event / statement / transaction.
            if i % 10 == 0 {
                self.pos += 300;
                if i % 1000 == 0 {
                    self.ts += 1;
                }
            }
            let row = (i % 10) as u32;
            let roll = (self.pos / 300 + row as u64) % 20;
            let (op, old, new) = if roll < 14 || self.next_id < 100 {
                self.next_id += 1;
                (Operation::Insert, None, Some(image(self.next_id, "new")))
            } else if roll < 19 {
                let id = self.next_id - (roll * 7 % 90);
                (
                    Operation::Update,
                    Some(image(id, "new")),
                    Some(image(id, "paid")),
                )
            } else {
                let id = self.next_id - 95;
                (Operation::Delete, Some(image(id, "paid")), None)
            };
            let id = new
                .as_ref()
                .or(old.as_ref())
                .and_then(|m| m.get("id"))
                .cloned()
                .unwrap_or(Json::Null);
            let mut changes = Map::new();
            if op == Operation::Update {
                changes.insert("status".into(), json!({"old": "new", "new": "paid"}));
            }
            out.push(ChangeRecord {
                key: ChangeKey {
                    binlog_file: "mysql-bin.000001".into(),
                    event_pos: self.pos,
                    row_index: row,
                },
                timestamp: self.ts,
                operation: op,
                database: "ecommerce".into(),
                table: tables[(self.pos / 300 % 3) as usize].into(),
                pk_text: id.to_string(),
                primary_key: pipeline::record::JsonText::from_map(
                    &[("id".to_string(), id)].into_iter().collect(),
                ),
                old_data: old.map(pipeline::record::JsonText::from),
                new_data: new.map(pipeline::record::JsonText::from),
                changes: changes.into(),
                gtid: Some(format!("0-1-{}", self.pos / 300)),
                xid: Some(self.pos / 300),
                query: Some(format!(
                    "INSERT INTO orders (id, user_id, amount, status) VALUES /* statement {} */",
                    self.pos / 300
                )),
                tags: vec![],
            });
        }
        let cp = Checkpoint {
            binlog_file: "mysql-bin.000001".into(),
            binlog_pos: self.pos + 300,
            gtid_set: Some(format!("0-1-{}", self.pos / 300)),
        };
        (out, cp)
    }
}
