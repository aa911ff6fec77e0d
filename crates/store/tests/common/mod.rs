//! A small fixed history of the seed's tables, with the answers every query
//! must give, shared by the SQLite and MySQL tests.
#![allow(dead_code)]

use pipeline::record::{ChangeKey, ChangeRecord, Checkpoint, Operation};
use serde_json::{json, Map, Value as Json};
use store::*;

/// 2024-01-15 10:30:00 UTC.
pub const T0: u32 = 1_705_314_600;
pub const DAY: u32 = 86_400;

pub fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn rec(
    file: &str,
    pos: u64,
    row: u32,
    ts: u32,
    op: Operation,
    table: &str,
    pk: Json,
    old: Option<Json>,
    new: Option<Json>,
) -> ChangeRecord {
    let old_data = old.map(obj);
    let new_data = new.map(obj);
    let mut changes = Map::new();
    if let (Some(o), Some(n)) = (&old_data, &new_data) {
        for (k, nv) in n {
            let ov = o.get(k).cloned().unwrap_or(Json::Null);
            if &ov != nv {
                changes.insert(k.clone(), json!({"old": ov, "new": nv}));
            }
        }
    }
    ChangeRecord {
        key: ChangeKey {
            binlog_file: file.into(),
            event_pos: pos,
            row_index: row,
        },
        timestamp: ts,
        operation: op,
        database: "ecommerce".into(),
        table: table.into(),
        pk_text: pipeline::record::primary_key_text(&obj(pk.clone())),
        primary_key: obj(pk).into(),
        old_data: old_data.map(pipeline::record::JsonText::from),
        new_data: new_data.map(pipeline::record::JsonText::from),
        changes: changes.into(),
        gtid: Some(format!("0-1-{pos}")),
        xid: Some(pos),
        query: Some(format!("/* stmt at {pos} */ UPDATE {table} SET ...")),
        tags: vec![],
    }
}

pub fn cp(file: &str, pos: u64) -> Checkpoint {
    Checkpoint {
        binlog_file: file.into(),
        binlog_pos: pos,
        gtid_set: Some(format!("0-1-{pos}")),
    }
}

const F1: &str = "mysql-bin.000001";
const F2: &str = "mysql-bin.000002";

/// users: r1 r2 (one event), r3 r4 updates, r5 delete the next day;
/// orders: o1 insert (amount 15000), o2 status update tagged.
pub struct Fixture {
    pub batch1: Vec<ChangeRecord>,
    pub alerts1: Vec<Alert>,
    pub cp1: Checkpoint,
    pub batch2: Vec<ChangeRecord>,
    pub cp2: Checkpoint,
}

impl Fixture {
    pub fn new() -> Fixture {
        use Operation::*;
        let alice0 = json!({"id": 1, "username": "alice", "email": "alice@old.example.com", "status": "inactive"});
        let alice1 =
            json!({"id": 1, "username": "alice", "email": "alice@example.com", "status": "active"});
        let bob0 =
            json!({"id": 2, "username": "bob", "email": "bob@example.com", "status": "active"});
        let bob1 =
            json!({"id": 2, "username": "bobby", "email": "bob@example.com", "status": "active"});
        let r1 = rec(
            F1,
            100,
            0,
            T0,
            Insert,
            "users",
            json!({"id": 1}),
            None,
            Some(alice0.clone()),
        );
        let mut r2 = rec(
            F1,
            100,
            1,
            T0,
            Insert,
            "users",
            json!({"id": 2}),
            None,
            Some(bob0.clone()),
        );
        // Same statement as r1: shares its statement row.
        r2.query = r1.query.clone();
        r2.gtid = r1.gtid.clone();
        r2.xid = r1.xid;
        let r3 = rec(
            F1,
            300,
            0,
            T0 + 3600,
            Update,
            "users",
            json!({"id": 1}),
            Some(alice0),
            Some(alice1),
        );
        let r4 = rec(
            F1,
            500,
            0,
            T0 + 3660,
            Update,
            "users",
            json!({"id": 2}),
            Some(bob0),
            Some(bob1.clone()),
        );
        let mut o1 = rec(
            F1,
            200,
            0,
            T0 + 120,
            Insert,
            "orders",
            json!({"id": 10}),
            None,
            Some(json!({"id": 10, "user_id": 1, "amount": "15000.00", "status": "new"})),
        );
        o1.query = None;
        let mut o2 = rec(
            F1,
            700,
            0,
            T0 + 7200,
            Update,
            "orders",
            json!({"id": 10}),
            Some(json!({"id": 10, "user_id": 1, "amount": "15000.00", "status": "new"})),
            Some(json!({"id": 10, "user_id": 1, "amount": "15000.00", "status": "paid"})),
        );
        o2.tags = vec!["order_status_change".into()];
        let r5 = rec(
            F2,
            120,
            0,
            T0 + DAY,
            Delete,
            "users",
            json!({"id": 2}),
            Some(bob1),
            None,
        );
        let alerts1 = vec![
            Alert {
                kind: "rule".into(),
                name: "high_amount_order".into(),
                priority: "medium".into(),
                timestamp: o1.timestamp,
                database: Some("ecommerce".into()),
                table: Some("orders".into()),
                change: Some(o1.key.clone()),
                message: "NEW.amount > 10000".into(),
                details: json!({"amount": "15000.00"}),
            },
            Alert {
                kind: "rule".into(),
                name: "status_change".into(),
                priority: "high".into(),
                timestamp: r3.timestamp,
                database: Some("ecommerce".into()),
                table: Some("users".into()),
                change: Some(r3.key.clone()),
                message: "OLD.status != NEW.status".into(),
                details: json!({}),
            },
        ];
        Fixture {
            // Binlog order: position within file 1.
            batch1: vec![r1, r2, o1, r3, r4, o2],
            alerts1,
            cp1: cp(F1, 800),
            batch2: vec![r5],
            cp2: cp(F2, 200),
        }
    }

    pub fn all(&self) -> Vec<ChangeRecord> {
        self.batch1.iter().chain(&self.batch2).cloned().collect()
    }

    pub fn by_key(&self, file_pos_row: (&str, u64, u32)) -> ChangeRecord {
        self.all()
            .into_iter()
            .find(|r| {
                r.key.binlog_file == file_pos_row.0
                    && r.key.event_pos == file_pos_row.1
                    && r.key.row_index == file_pos_row.2
            })
            .expect("fixture record")
    }

    pub fn write_all(&self, s: &mut dyn Store) {
        let o = s
            .write_batch(&self.batch1, &self.alerts1, &self.cp1)
            .unwrap();
        assert_eq!((o.inserted, o.skipped, o.alerts_inserted), (6, 0, 2));
        let o = s.write_batch(&self.batch2, &[], &self.cp2).unwrap();
        assert_eq!((o.inserted, o.skipped), (1, 0));
    }
}

pub fn ids(page: &Page<StoredChange>) -> Vec<String> {
    page.items.iter().map(|c| c.record.id()).collect()
}

pub const R1: &str = "mysql-bin.000001:100:0";
pub const R2: &str = "mysql-bin.000001:100:1";
pub const R3: &str = "mysql-bin.000001:300:0";
pub const R4: &str = "mysql-bin.000001:500:0";
pub const R5: &str = "mysql-bin.000002:120:0";
pub const O1: &str = "mysql-bin.000001:200:0";
pub const O2: &str = "mysql-bin.000001:700:0";

/// Every query against a store holding the fixture, with exact answers.
pub fn check_queries(q: &dyn QueryStore, fx: &Fixture) {
    use Operation::*;
    // Tables.
    assert_eq!(
        q.tables().unwrap(),
        vec![
            TableRef::new("ecommerce", "orders"),
            TableRef::new("ecommerce", "users")
        ]
    );

    // Changes of a table: all, by operation, by time, paged both ways.
    let mut cq = ChangesQuery::new("ecommerce", "users");
    let all = q.changes(&cq).unwrap();
    assert_eq!(ids(&all), [R1, R2, R3, R4, R5]);
    assert_eq!(all.next, None);
    // Records come back exactly as written.
    for c in &all.items {
        assert_eq!(
            c.record,
            fx.all()
                .into_iter()
                .find(|r| r.id() == c.record.id())
                .unwrap()
        );
    }
    cq.operations = vec![Update];
    assert_eq!(ids(&q.changes(&cq).unwrap()), [R3, R4]);
    cq.operations = vec![Insert, Delete];
    assert_eq!(ids(&q.changes(&cq).unwrap()), [R1, R2, R5]);
    cq.operations = vec![];
    cq.range = TimeRange::between(T0 + 3600, T0 + DAY);
    assert_eq!(ids(&q.changes(&cq).unwrap()), [R3, R4]);
    cq.range = TimeRange {
        start: Some(T0 + 1),
        end: None,
    };
    assert_eq!(ids(&q.changes(&cq).unwrap()), [R3, R4, R5]);
    cq.range = TimeRange::between(T0 + 2 * DAY, T0 + 3 * DAY);
    assert!(q.changes(&cq).unwrap().items.is_empty());
    cq.range = TimeRange::all();
    cq.limit = 2;
    let p1 = q.changes(&cq).unwrap();
    assert_eq!(ids(&p1), [R1, R2]);
    cq.cursor = p1.next;
    let p2 = q.changes(&cq).unwrap();
    assert_eq!(ids(&p2), [R3, R4]);
    cq.cursor = p2.next;
    let p3 = q.changes(&cq).unwrap();
    assert_eq!(ids(&p3), [R5]);
    assert_eq!(p3.next, None);
    cq.cursor = None;
    cq.order = Order::Desc;
    let d1 = q.changes(&cq).unwrap();
    assert_eq!(ids(&d1), [R5, R4]);
    cq.cursor = d1.next;
    assert_eq!(ids(&q.changes(&cq).unwrap()), [R3, R2]);
    // Bad parameters and unknown tables are errors naming them.
    cq.limit = 0;
    assert!(matches!(
        q.changes(&cq),
        Err(StoreError::InvalidArgument { param: "limit", .. })
    ));
    let bad_range = ChangesQuery {
        range: TimeRange::between(10, 5),
        ..ChangesQuery::new("ecommerce", "users")
    };
    assert!(matches!(
        q.changes(&bad_range),
        Err(StoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        q.changes(&ChangesQuery::new("ecommerce", "nope")),
        Err(StoreError::UnknownTable { .. })
    ));

    // One change by key.
    let k = fx.by_key(("mysql-bin.000001", 300, 0)).key;
    assert_eq!(q.change_by_key(&k).unwrap().unwrap().record.id(), R3);
    let mut missing = k.clone();
    missing.row_index = 9;
    assert_eq!(q.change_by_key(&missing).unwrap(), None);

    // Row history, and the update diffs of one row.
    let hist = q
        .row_history(&RowHistoryQuery::new("ecommerce", "users", "2"))
        .unwrap();
    assert_eq!(ids(&hist), [R2, R4, R5]);
    let mut upd = RowHistoryQuery::new("ecommerce", "users", "2");
    upd.operations = vec![Update];
    let diffs = q.row_history(&upd).unwrap();
    assert_eq!(ids(&diffs), [R4]);
    assert_eq!(
        serde_json::Value::Object(diffs.items[0].record.changes.to_map()),
        json!({"username": {"old": "bob", "new": "bobby"}})
    );
    let mut paged = RowHistoryQuery::new("ecommerce", "users", "2");
    paged.limit = 1;
    paged.order = Order::Desc;
    let h1 = q.row_history(&paged).unwrap();
    assert_eq!(ids(&h1), [R5]);
    paged.cursor = h1.next;
    assert_eq!(ids(&q.row_history(&paged).unwrap()), [R4]);
    assert!(q
        .row_history(&RowHistoryQuery::new("ecommerce", "users", "99"))
        .unwrap()
        .items
        .is_empty());

    // Changes of one column (the seed's audit example).
    let st = q
        .column_changes(&ColumnChangesQuery::new("ecommerce", "users", "status"))
        .unwrap();
    let got: Vec<(String, Operation, Option<Json>, Option<Json>)> = st
        .items
        .iter()
        .map(|i| (i.id.clone(), i.operation, i.old.clone(), i.new.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (R1.to_string(), Insert, None, Some(json!("inactive"))),
            (R2.to_string(), Insert, None, Some(json!("active"))),
            (
                R3.to_string(),
                Update,
                Some(json!("inactive")),
                Some(json!("active"))
            ),
            (R5.to_string(), Delete, Some(json!("active")), None),
        ]
    );
    assert_eq!(st.items[2].primary_key, obj(json!({"id": 1})));
    let mut uname = ColumnChangesQuery::new("ecommerce", "users", "username");
    uname.range = TimeRange::between(T0 + 60, T0 + DAY);
    let un = q.column_changes(&uname).unwrap();
    assert_eq!(
        un.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        [R4]
    );
    assert!(matches!(
        q.column_changes(&ColumnChangesQuery::new("ecommerce", "users", "a\"b")),
        Err(StoreError::InvalidArgument {
            param: "column",
            ..
        })
    ));

    // Stats from rollups.
    let stats = q
        .table_stats("ecommerce", "users", TimeRange::all())
        .unwrap();
    assert_eq!(stats.total_changes, 5);
    assert_eq!(
        stats.operations,
        OpCounts {
            insert: 2,
            update: 2,
            delete: 1
        }
    );
    assert_eq!(
        stats.daily,
        vec![
            DailyCount {
                date: "2024-01-15".into(),
                day_start: 1_705_276_800,
                counts: OpCounts {
                    insert: 2,
                    update: 2,
                    delete: 0
                }
            },
            DailyCount {
                date: "2024-01-16".into(),
                day_start: 1_705_276_800 + DAY,
                counts: OpCounts {
                    insert: 0,
                    update: 0,
                    delete: 1
                }
            },
        ]
    );
    assert_eq!(stats.hourly.len(), 24);
    let hours: Vec<(u8, u64)> = stats
        .hourly
        .iter()
        .filter(|h| h.count > 0)
        .map(|h| (h.hour, h.count))
        .collect();
    assert_eq!(hours, [(10, 3), (11, 2)]);
    let day1 = q
        .table_stats(
            "ecommerce",
            "users",
            TimeRange::between(T0 - 1800, T0 - 1800 + DAY),
        )
        .unwrap();
    assert_eq!(day1.total_changes, 4);
    let orders = q
        .table_stats("ecommerce", "orders", TimeRange::all())
        .unwrap();
    assert_eq!(
        (
            orders.total_changes,
            orders.operations.insert,
            orders.operations.update
        ),
        (2, 1, 1)
    );
    assert!(matches!(
        q.table_stats("nope", "users", TimeRange::all()),
        Err(StoreError::UnknownTable { .. })
    ));

    // Trends.
    let hourly = q
        .trend(&TrendQuery {
            table: Some(TableRef::new("ecommerce", "users")),
            range: TimeRange::all(),
            bucket: Bucket::Hour,
        })
        .unwrap();
    let h0 = T0 - 1800; // 10:00
    assert_eq!(
        hourly,
        vec![
            TrendPoint {
                start: h0,
                counts: OpCounts {
                    insert: 2,
                    update: 0,
                    delete: 0
                }
            },
            TrendPoint {
                start: h0 + 3600,
                counts: OpCounts {
                    insert: 0,
                    update: 2,
                    delete: 0
                }
            },
            TrendPoint {
                start: h0 + DAY,
                counts: OpCounts {
                    insert: 0,
                    update: 0,
                    delete: 1
                }
            },
        ]
    );
    let minutes = q
        .trend(&TrendQuery {
            table: None,
            range: TimeRange::between(T0, T0 + 3600 + 61),
            bucket: Bucket::Minute,
        })
        .unwrap();
    let summary: Vec<(u32, u64)> = minutes
        .iter()
        .map(|p| (p.start - T0, p.counts.total()))
        .collect();
    assert_eq!(summary, [(0, 2), (120, 1), (3600, 1), (3660, 1)]);
    let daily = q
        .trend(&TrendQuery {
            table: None,
            range: TimeRange::all(),
            bucket: Bucket::Day,
        })
        .unwrap();
    assert_eq!(
        daily.iter().map(|p| p.counts.total()).collect::<Vec<_>>(),
        [6, 1]
    );

    // Full-text search over values, newest first.
    let search = |text: &str, table: Option<TableRef>| {
        ids(&q
            .search(&SearchQuery {
                text: text.into(),
                table,
                cursor: None,
                limit: 10,
            })
            .unwrap())
    };
    assert_eq!(search("bobby", None), [R5, R4]);
    assert_eq!(search("alice", None), [R3, R1]);
    // A word of several tokens matches them adjacent, not scattered
    // (r1 has alice@old.example.com).
    assert_eq!(search("alice@example.com", None), [R3]);
    assert_eq!(search("ALICE@OLD.example.com", None), [R3, R1]);
    assert_eq!(search("paid", None), [O2]);
    assert_eq!(
        search("15000.00", Some(TableRef::new("ecommerce", "orders"))),
        [O2, O1]
    );
    assert_eq!(
        search("alice", Some(TableRef::new("ecommerce", "orders"))),
        Vec::<String>::new()
    );
    assert!(search("nobodyhere", None).is_empty());
    let mut paged = SearchQuery {
        text: "bob*".into(),
        table: None,
        cursor: None,
        limit: 2,
    };
    let s1 = q.search(&paged).unwrap();
    assert_eq!(ids(&s1), [R5, R4]);
    paged.cursor = s1.next;
    assert_eq!(ids(&q.search(&paged).unwrap()), [R2]);

    // Tagged changes.
    let tq = TaggedQuery {
        rule: "order_status_change".into(),
        table: None,
        range: TimeRange::all(),
        order: Order::Asc,
        cursor: None,
        limit: 10,
    };
    let tagged = q.tagged(&tq).unwrap();
    assert_eq!(ids(&tagged), [O2]);
    assert_eq!(tagged.items[0].record.tags, ["order_status_change"]);
    assert!(q
        .tagged(&TaggedQuery {
            rule: "nope".into(),
            ..tq.clone()
        })
        .unwrap()
        .items
        .is_empty());

    // Alerts, newest first.
    let alerts = q.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(
        alerts
            .items
            .iter()
            .map(|a| a.alert.clone())
            .collect::<Vec<_>>(),
        fx.alerts1.iter().rev().cloned().collect::<Vec<_>>()
    );
    let only = q
        .alerts(&AlertQuery {
            name: Some("high_amount_order".into()),
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!(only.items[0].alert.change.as_ref().unwrap().id(), O1);
    let by_table = q
        .alerts(&AlertQuery {
            table: Some(TableRef::new("ecommerce", "users")),
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(by_table.items[0].alert.name, "status_change");
    let first = q
        .alerts(&AlertQuery {
            limit: 1,
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(first.items[0].alert.name, "status_change");
    let second = q
        .alerts(&AlertQuery {
            limit: 1,
            cursor: first.next,
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(second.items[0].alert.name, "high_amount_order");
    assert_eq!(second.next, None);

    // A row as of a time.
    let before = q.row_as_of("ecommerce", "users", "2", T0 - 1).unwrap();
    assert!(!before.exists);
    assert_eq!(before.changes_applied, 0);
    let at_insert = q.row_as_of("ecommerce", "users", "2", T0).unwrap();
    assert_eq!(at_insert.row.unwrap()["username"], json!("bob"));
    let after_update = q.row_as_of("ecommerce", "users", "2", T0 + 3700).unwrap();
    assert!(after_update.exists);
    assert_eq!(
        after_update.row.unwrap(),
        obj(json!({"id": 2, "username": "bobby", "email": "bob@example.com", "status": "active"}))
    );
    assert_eq!(after_update.last_change.unwrap().record.id(), R4);
    let deleted = q.row_as_of("ecommerce", "users", "2", T0 + DAY).unwrap();
    assert!(!deleted.exists);
    assert_eq!(deleted.changes_applied, 3);

    // Checkpoint and health.
    assert_eq!(q.checkpoint().unwrap(), Some(fx.cp2.clone()));
    let h = q.health();
    assert!(h.ok, "{h:?}");
    assert_eq!(h.changes, Some(7));
    assert_eq!(h.checkpoint, Some(fx.cp2.clone()));
}

/// After `purge_older_than(T0 + DAY)`: only r5 (and nothing of day one).
pub fn check_after_purge(q: &dyn QueryStore, report: PurgeReport) {
    assert_eq!(report.changes, 6);
    assert_eq!(report.alerts, 2);
    assert_eq!(
        ids(&q.changes(&ChangesQuery::new("ecommerce", "users")).unwrap()),
        [R5]
    );
    assert!(q
        .changes(&ChangesQuery::new("ecommerce", "orders"))
        .unwrap()
        .items
        .is_empty());
    let stats = q
        .table_stats("ecommerce", "users", TimeRange::all())
        .unwrap();
    assert_eq!((stats.total_changes, stats.operations.delete), (1, 1));
    assert_eq!(
        q.table_stats("ecommerce", "orders", TimeRange::all())
            .unwrap()
            .total_changes,
        0
    );
    assert_eq!(
        ids(&q
            .row_history(&RowHistoryQuery::new("ecommerce", "users", "2"))
            .unwrap()),
        [R5]
    );
    let search = |t: &str| {
        ids(&q
            .search(&SearchQuery {
                text: t.into(),
                table: None,
                cursor: None,
                limit: 10,
            })
            .unwrap())
    };
    assert!(search("alice").is_empty());
    assert_eq!(search("bobby"), [R5]);
    assert!(q
        .tagged(&TaggedQuery {
            rule: "order_status_change".into(),
            table: None,
            range: TimeRange::all(),
            order: Order::Asc,
            cursor: None,
            limit: 10
        })
        .unwrap()
        .items
        .is_empty());
    assert!(q.alerts(&AlertQuery::default()).unwrap().items.is_empty());
    assert_eq!(q.health().changes, Some(1));
    // The statement of the surviving change is intact.
    let r5 = &q
        .changes(&ChangesQuery::new("ecommerce", "users"))
        .unwrap()
        .items[0]
        .record;
    assert_eq!(
        r5.query.as_deref(),
        Some("/* stmt at 120 */ UPDATE users SET ...")
    );
}
