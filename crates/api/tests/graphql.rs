//! The seed's two GraphQL queries, verbatim apart from the table names the
//! sample workload has, return the stored data; errors name the argument.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value as Json};

/// The seed's first query, as written in its README.
const SEED_TABLE_CHANGES: &str = r#"query {
  tableChanges(
    database: "ecommerce"
    table: "users"
    operations: ["UPDATE", "DELETE"]
    limit: 50
  ) {
    id
    timestamp
    operation
    primaryKey
    changes {
      column
      oldValue
      newValue
    }
  }
}"#;

/// The seed's second query, as written in its README.
const SEED_TABLE_STATS: &str = r#"query {
  tableStats(
    database: "ecommerce"
    table: "orders"
    timeRange: "7d"
  ) {
    totalChanges
    operationCounts {
      operation
      count
    }
    hourlyDistribution {
      hour
      count
    }
  }
}"#;

fn no_errors(r: &Json) {
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn seed_table_changes_query_returns_the_users_updates_and_deletes() {
    let f = fixture();
    let r = graphql(&f.app, SEED_TABLE_CHANGES).await;
    no_errors(&r);
    let items = r["data"]["tableChanges"].as_array().unwrap();
    let expected: Vec<&pipeline::ChangeRecord> = f
        .records
        .iter()
        .filter(|c| c.table == "users" && c.operation != pipeline::Operation::Insert)
        .collect();
    assert_eq!(items.len(), expected.len());
    // sample.sql: emoji_fan banned, 张伟's phone, bob deleted, last_login.
    assert_eq!(items.len(), 4, "{r}");
    for (item, rec) in items.iter().zip(&expected) {
        assert_eq!(item["id"], rec.id());
        assert_eq!(item["operation"], rec.operation.as_str());
        assert_eq!(item["primaryKey"], Json::Object(rec.primary_key.to_map()));
        let ts = item["timestamp"].as_str().unwrap();
        assert!(
            ts.starts_with("2025-01-01T09:") && ts.ends_with('Z'),
            "{ts}"
        );
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["id", "timestamp", "operation", "primaryKey", "changes"]
        );
    }
    let banned = items
        .iter()
        .find(|i| i["primaryKey"] == json!({"id": 4}))
        .unwrap();
    let status = banned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "status")
        .unwrap();
    assert_eq!(
        status,
        &json!({"column": "status", "oldValue": "inactive", "newValue": "banned"})
    );
    let deleted = items.iter().find(|i| i["operation"] == "DELETE").unwrap();
    let username = deleted["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "username")
        .unwrap();
    assert_eq!(
        username,
        &json!({"column": "username", "oldValue": "bob", "newValue": null})
    );
    // The phone column is masked: the clear value never appears.
    assert!(!r.to_string().contains("13900139000"));
}

#[tokio::test]
async fn seed_table_stats_query_returns_the_orders_figures() {
    let f = fixture();
    let r = graphql(&f.app, SEED_TABLE_STATS).await;
    no_errors(&r);
    let s = &r["data"]["tableStats"];
    assert_eq!(s["totalChanges"], 8);
    assert_eq!(
        s["operationCounts"],
        json!([
            {"operation": "INSERT", "count": 4},
            {"operation": "UPDATE", "count": 3},
            {"operation": "DELETE", "count": 1}
        ])
    );
    let hours = s["hourlyDistribution"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    for (i, h) in hours.iter().enumerate() {
        let count = if i == 9 { 8 } else { 0 };
        assert_eq!(h, &json!({"hour": i, "count": count}));
    }
    // Matches REST.
    let rest = get_ok(&f.app, "/api/tables/ecommerce/orders/stats?time_range=7d").await;
    assert_eq!(rest["total_changes"], s["totalChanges"]);
}

#[tokio::test]
async fn other_queries_answer_from_the_store() {
    let f = fixture();
    let r = graphql(
        &f.app,
        r#"{
          tables { database table }
          rowHistory(database: "ecommerce", table: "orders", primaryKey: "1") { operation changes { column oldValue newValue } }
          columnChanges(database: "ecommerce", table: "orders", column: "status", limit: 3) { operation oldValue newValue cursor }
          search(text: "alice") { table }
          taggedChanges(rule: "order_status_change") { id tags }
          alerts(name: "user_deletion") { kind priority table changeId }
          rowAsOf(database: "ecommerce", table: "orders", primaryKey: "1", at: "2025-01-01T09:04:30Z") { exists row changesApplied lastChange { operation } }
          trend(database: "ecommerce", table: "orders", bucket: "day", timeRange: "all") { start insert update delete total }
          status
        }"#,
    )
    .await;
    no_errors(&r);
    let d = &r["data"];
    assert_eq!(d["tables"].as_array().unwrap().len(), 4);
    let ops: Vec<&str> = d["rowHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["INSERT", "UPDATE", "UPDATE"]);
    // Two INSERTs (no old value), then the first status change.
    assert_eq!(d["columnChanges"].as_array().unwrap().len(), 3);
    assert_eq!(d["columnChanges"][0]["oldValue"], Json::Null);
    assert_eq!(d["columnChanges"][0]["newValue"], "pending");
    assert_eq!(d["columnChanges"][2]["oldValue"], "pending");
    assert_eq!(d["columnChanges"][2]["newValue"], "paid");
    assert!(d["search"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["table"] == "users"));
    assert!(!d["taggedChanges"].as_array().unwrap().is_empty());
    assert_eq!(d["alerts"][0]["priority"], "high");
    assert_eq!(d["rowAsOf"]["row"]["status"], "paid");
    assert_eq!(d["rowAsOf"]["changesApplied"], 2);
    assert_eq!(
        d["trend"],
        json!([{"start": "2025-01-01T00:00:00Z", "insert": 4, "update": 3, "delete": 1, "total": 8}])
    );
    assert_eq!(d["status"]["mode"], "serve");

    // Paging with `after`.
    let first = graphql(
        &f.app,
        r#"{ tableChanges(database: "ecommerce", table: "orders", limit: 5) { id cursor } }"#,
    )
    .await;
    let cursor = first["data"]["tableChanges"][4]["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = graphql(
        &f.app,
        &format!(
            r#"{{ tableChanges(database: "ecommerce", table: "orders", after: "{cursor}") {{ id }} }}"#
        ),
    )
    .await;
    assert_eq!(rest["data"]["tableChanges"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn json_scalar_keeps_big_and_decimal_numbers_exact() {
    let f = fixture();
    let r = graphql(
        &f.app,
        r#"{ tableChanges(database: "ecommerce", table: "orders", operations: ["INSERT"], limit: 1) { newData } }"#,
    )
    .await;
    no_errors(&r);
    // DECIMAL stays a string (VALUES.md), ids stay numbers.
    assert_eq!(r["data"]["tableChanges"][0]["newData"]["amount"], "179.80");
    assert_eq!(r["data"]["tableChanges"][0]["newData"]["id"], 1);
}

#[tokio::test]
async fn graphql_errors_name_the_argument() {
    let f = fixture();
    let cases = [
        (
            r#"{ tableChanges(database: "ecommerce", table: "users", operations: ["MERGE"]) { id } }"#,
            "BAD_USER_INPUT",
            Some("operations"),
        ),
        (
            r#"{ tableChanges(database: "ecommerce", table: "users", limit: 0) { id } }"#,
            "BAD_USER_INPUT",
            Some("limit"),
        ),
        (
            r#"{ tableStats(database: "ecommerce", table: "orders", timeRange: "7x") { totalChanges } }"#,
            "BAD_USER_INPUT",
            Some("timeRange"),
        ),
        (
            r#"{ tableStats(database: "ecommerce", table: "orders", startTime: "soon") { totalChanges } }"#,
            "BAD_USER_INPUT",
            Some("startTime"),
        ),
        (
            r#"{ tableChanges(database: "ecommerce", table: "users", after: "x") { id } }"#,
            "BAD_USER_INPUT",
            Some("after"),
        ),
        (
            r#"{ columnChanges(database: "ecommerce", table: "users", column: "a\u0000b") { id } }"#,
            "BAD_USER_INPUT",
            Some("column"),
        ),
        (
            r#"{ tableStats(database: "ecommerce", table: "nosuch") { totalChanges } }"#,
            "NOT_FOUND",
            None,
        ),
        (
            r#"{ rowHistory(database: "ecommerce", table: "nosuch", primaryKey: "1") { id } }"#,
            "NOT_FOUND",
            None,
        ),
    ];
    for (query, code, parameter) in cases {
        let r = graphql(&f.app, query).await;
        let err = &r["errors"][0];
        assert_eq!(err["extensions"]["code"], code, "{query}: {r}");
        match parameter {
            Some(p) => assert_eq!(err["extensions"]["parameter"], p, "{query}: {r}"),
            None => assert!(err["extensions"].get("parameter").is_none()),
        }
    }
}

#[tokio::test]
async fn get_serves_graphiql_offline_and_queries() {
    let f = fixture();
    let page = get(&f.app, "/graphql").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("GraphiQL.createFetcher"));
    // Every script and stylesheet is ours: nothing from a CDN.
    for asset in [
        "graphql/assets/graphiql.min.js",
        "graphql/assets/graphiql.min.css",
        "graphql/assets/react.production.min.js",
        "graphql/assets/react-dom.production.min.js",
    ] {
        assert!(page.text.contains(asset), "{asset}");
        let r = send(
            &f.app,
            axum::http::Request::get(format!("/{asset}"))
                .header("accept-encoding", "gzip, br")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{asset}");
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        // Without gzip: sent decompressed.
        let plain = get(&f.app, &format!("/{asset}")).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert!(plain.header("content-encoding").is_none());
        assert!(plain.text.len() > 1000);
    }
    assert!(!page.text.contains("https://"));

    let r = get(
        &f.app,
        "/graphql?query=%7B%20tables%20%7B%20table%20%7D%20%7D",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["data"]["tables"][0]["table"], "order_items");

    let sdl = get(&f.app, "/graphql/schema.graphql").await;
    assert!(sdl.text.contains("scalar JSON"));
    assert!(sdl.text.contains("tableChanges("));
    assert!(sdl.text.contains("type Subscription"));
}

#[tokio::test]
async fn subscription_streams_matching_live_changes() {
    use futures_util::StreamExt;
    let f = fixture();
    let schema = api::build_schema(f.state.clone());
    let mut stream = schema.execute_stream(
        r#"subscription { changes(database: "ecommerce", table: "users", operations: ["DELETE"]) { id operation primaryKey } }"#,
    );
    // Subscriptions start when first polled.
    let next = tokio::spawn(async move { stream.next().await });
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while f.state.live.receiver_count() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("subscribed");
    for rec in &f.records {
        let _ = f.state.live.send(std::sync::Arc::new(rec.clone()));
    }
    let resp = tokio::time::timeout(std::time::Duration::from_secs(5), next)
        .await
        .expect("in time")
        .expect("task")
        .expect("an item");
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    let data = resp.data.into_json().unwrap();
    let deleted = f
        .records
        .iter()
        .find(|r| r.table == "users" && r.operation == pipeline::Operation::Delete)
        .unwrap();
    assert_eq!(
        data["changes"],
        json!({"id": deleted.id(), "operation": "DELETE", "primaryKey": Json::Object(deleted.primary_key.to_map())})
    );
}

/// Every field of a change, for the complexity test.
const EVERY_CHANGE_FIELD: &str = "id cursor timestamp operation database table primaryKey \
    oldData newData changes { column oldValue newValue } gtid query tags";

/// A list field costs its fields once per row it may return: one query at
/// the largest limit with every field passes, but aliases cannot repeat it
/// (or a smaller one thousands of times) to make one request read and
/// render without bound.
#[tokio::test]
async fn complexity_bounds_what_one_request_can_ask_for() {
    let f = fixture();
    let full = format!(
        r#"tableChanges(database: "ecommerce", table: "users", limit: 10000) {{ {EVERY_CHANGE_FIELD} }}"#
    );
    let r = graphql(&f.app, &format!("{{ {full} }}")).await;
    no_errors(&r);
    assert!(!r["data"]["tableChanges"].as_array().unwrap().is_empty());

    let twice = format!("{{ a: {full} b: {full} }}");
    let many_small = format!(
        "{{ {} }}",
        (0..3000)
            .map(|i| format!(
                r#"a{i}: tableChanges(database: "ecommerce", table: "users") {{ id }}"#
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for query in [twice, many_small] {
        let r = graphql(&f.app, &query).await;
        assert!(r["data"].is_null(), "{}", &r.to_string()[..200]);
        let message = r["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too complex"), "{r}");
    }
}
