//! Every REST route against a store filled from the sample binlog: shapes,
//! filters, paging, bad parameters (400 naming the parameter), unknown
//! tables (404), and that the OpenAPI document matches what is served.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value as Json};

fn ops(list: &Json) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn tables_lists_every_table_with_changes() {
    let f = fixture();
    let body = get_ok(&f.app, "/api/tables").await;
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ecommerce.order_items",
            "ecommerce.orders",
            "ecommerce.products",
            "ecommerce.users"
        ]
    );
    assert_eq!(body[1]["database"], "ecommerce");
    assert_eq!(body[1]["table"], "orders");
}

#[tokio::test]
async fn stats_have_the_seed_shape_and_honour_ranges() {
    let f = fixture();
    let s = get_ok(&f.app, "/api/tables/ecommerce/orders/stats?time_range=7d").await;
    // sample.sql: 4 order inserts, paid + shipped×2, one delete (the XA
    // order that was rolled back never happened).
    assert_eq!(s["total_changes"], 8);
    assert_eq!(
        s["operations"],
        json!({"INSERT": 4, "UPDATE": 3, "DELETE": 1})
    );
    assert_eq!(
        s["daily_stats"],
        json!({"2025-01-01": {"INSERT": 4, "UPDATE": 3, "DELETE": 1, "total": 8}})
    );
    let hours = s["hourly_distribution"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[9], json!({"hour": 9, "count": 8}));
    assert_eq!(
        hours
            .iter()
            .map(|h| h["count"].as_u64().unwrap())
            .sum::<u64>(),
        8
    );

    // Without a range: all time, the same here.
    let all = get_ok(&f.app, "/api/tables/ecommerce/orders/stats").await;
    assert_eq!(all, s);
    // The last hour before NOW has nothing.
    let hour = get_ok(&f.app, "/api/tables/ecommerce/orders/stats?time_range=1h").await;
    assert_eq!(hour["total_changes"], 0);
    // Explicit bounds: only the first minutes of the workload.
    let early = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/stats?start_time=2025-01-01T09:00:00Z&end_time=2025-01-01T09:04:00Z",
    )
    .await;
    assert_eq!(
        early["operations"],
        json!({"INSERT": 2, "UPDATE": 0, "DELETE": 0})
    );
    // Epoch seconds work too.
    let epoch = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/stats?start_time=1735722000&end_time=1735722240",
    )
    .await;
    assert_eq!(epoch, early);
}

#[tokio::test]
async fn changes_list_has_the_seed_fields_and_filters() {
    let f = fixture();
    // The seed's example request, verbatim apart from the date.
    let list = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/changes?start_time=2025-01-01&limit=100",
    )
    .await;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 8);
    for item in items {
        for field in [
            "id",
            "timestamp",
            "operation",
            "primary_key",
            "old_data",
            "new_data",
        ] {
            assert!(item.get(field).is_some(), "{field} missing in {item}");
        }
    }
    let first = &items[0];
    assert_eq!(first["operation"], "INSERT");
    assert_eq!(first["timestamp"], "2025-01-01T09:03:00Z");
    assert_eq!(first["primary_key"], json!({"id": 1}));
    assert_eq!(first["old_data"], Json::Null);
    assert_eq!(first["new_data"]["status"], "pending");
    let paid = &items[items
        .iter()
        .position(|i| i["operation"] == "UPDATE")
        .unwrap()];
    assert_eq!(paid["old_data"]["status"], "pending");
    assert_eq!(paid["new_data"]["status"], "paid");
    assert_eq!(
        paid["changes"],
        json!({"status": {"old": "pending", "new": "paid"}})
    );
    assert_eq!(paid["tags"], json!(["order_status_change"]));

    let upd_del = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/changes?operation=UPDATE,DELETE",
    )
    .await;
    assert_eq!(ops(&upd_del), ["UPDATE", "UPDATE", "UPDATE", "DELETE"]);
    let repeated = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/changes?operation=update&operation=delete",
    )
    .await;
    assert_eq!(repeated, upd_del);

    let desc = get_ok(&f.app, "/api/tables/ecommerce/orders/changes?order=desc").await;
    let mut reversed = items.to_vec();
    reversed.reverse();
    assert_eq!(desc.as_array().unwrap(), &reversed);

    // A bare end date covers that whole day.
    let day = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/changes?start_time=2025-01-01&end_time=2025-01-01",
    )
    .await;
    assert_eq!(day.as_array().unwrap().len(), 8);
    let before = get_ok(
        &f.app,
        "/api/tables/ecommerce/orders/changes?end_time=2024-12-31",
    )
    .await;
    assert_eq!(before, json!([]));
}

#[tokio::test]
async fn changes_page_with_cursor_headers() {
    let f = fixture();
    let all = get_ok(&f.app, "/api/tables/ecommerce/orders/changes").await;
    let mut seen = Vec::new();
    let mut uri = "/api/tables/ecommerce/orders/changes?limit=3".to_string();
    let mut pages = 0;
    loop {
        let r = get(&f.app, &uri).await;
        assert_eq!(r.status, StatusCode::OK);
        pages += 1;
        seen.extend(r.json().as_array().unwrap().clone());
        match r.header("x-next-cursor") {
            Some(cursor) => {
                let link = r.header("link").unwrap();
                let expected = format!(
                    "</api/tables/ecommerce/orders/changes?limit=3&cursor={cursor}>; rel=\"next\""
                );
                assert_eq!(link, expected);
                uri = format!("/api/tables/ecommerce/orders/changes?limit=3&cursor={cursor}");
            }
            None => {
                assert!(r.header("link").is_none());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(Json::Array(seen), all);
}

#[tokio::test]
async fn column_changes_give_old_and_new_values() {
    let f = fixture();
    // The seed's audit example: get_changes(column="status").
    let list = get_ok(
        &f.app,
        "/api/tables/ecommerce/users/column_changes?column=status&start_time=2025-01-01",
    )
    .await;
    let banned: Vec<&Json> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["operation"] == "UPDATE")
        .collect();
    assert_eq!(banned.len(), 1, "{list}");
    assert_eq!(banned[0]["column"], "status");
    assert_eq!(banned[0]["old_value"], "inactive");
    assert_eq!(banned[0]["new_value"], "banned");
    assert_eq!(banned[0]["primary_key"], json!({"id": 4}));
    // INSERTs carry the column with no old value.
    let inserted = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"] == "INSERT")
        .unwrap();
    assert_eq!(inserted["old_value"], Json::Null);
    assert_eq!(inserted["new_value"], "active");
}

#[tokio::test]
async fn update_diffs_have_the_seed_shape() {
    let f = fixture();
    let table = get_ok(&f.app, "/api/tables/ecommerce/orders/diffs").await;
    assert_eq!(ops(&table), ["UPDATE", "UPDATE", "UPDATE"]);
    let row = get_ok(&f.app, "/api/records/ecommerce/orders/1/diffs").await;
    assert_eq!(row.as_array().unwrap().len(), 2);
    let first = &row[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "change_id",
            "timestamp",
            "operation",
            "primary_key",
            "changes"
        ]
    );
    assert_eq!(first["primary_key"], json!({"id": 1}));
    assert_eq!(
        first["changes"],
        json!({"status": {"old": "pending", "new": "paid"}})
    );
    assert_eq!(row[1]["changes"]["status"]["new"], "shipped");
}

#[tokio::test]
async fn row_history_lists_the_rows_changes() {
    let f = fixture();
    let h = get_ok(&f.app, "/api/records/ecommerce/orders/1/history").await;
    assert_eq!(ops(&h), ["INSERT", "UPDATE", "UPDATE"]);
    assert_eq!(h[0]["timestamp"], "2025-01-01T09:03:00Z");
    assert_eq!(
        h[0]["changes"]["status"],
        json!({"old": null, "new": "pending"})
    );
    assert_eq!(
        h[1]["changes"],
        json!({"status": {"old": "pending", "new": "paid"}})
    );
    // A deleted row ends with its DELETE.
    let gone = get_ok(&f.app, "/api/records/ecommerce/orders/2/history").await;
    assert_eq!(ops(&gone), ["INSERT", "DELETE"]);
    assert_eq!(
        gone[1]["changes"]["status"],
        json!({"old": "pending", "new": null})
    );
    // Filters and paging apply.
    let updates = get_ok(
        &f.app,
        "/api/records/ecommerce/orders/1/history?operation=UPDATE&order=desc&limit=1",
    )
    .await;
    assert_eq!(updates[0]["changes"]["status"]["new"], "shipped");
    // A key with no changes: an empty history, not an error.
    assert_eq!(
        get_ok(&f.app, "/api/records/ecommerce/orders/999/history").await,
        json!([])
    );
}

#[tokio::test]
async fn composite_keys_use_the_documented_encoding() {
    let f = fixture();
    let uri = format!("/api/records/ecommerce/order_items/{COMPOSITE_KEY_PATH}/history");
    let h = get_ok(&f.app, &uri).await;
    assert_eq!(ops(&h), ["INSERT"], "{uri}");
    assert_eq!(h[0]["changes"]["qty"]["new"], 2);
    // The key text matches the record's own encoding.
    assert_eq!(
        composite_key_record().pk_text.clone(),
        "1,KB-1\\,black\\\\us"
    );
    // Unescaped, the comma splits the key differently: no such row.
    let wrong = get_ok(
        &f.app,
        "/api/records/ecommerce/order_items/1%2CKB-1%2Cblack%5Cus/history",
    )
    .await;
    assert_eq!(wrong, json!([]));
}

#[tokio::test]
async fn row_as_of_rebuilds_the_row_at_a_time() {
    let f = fixture();
    let paid = get_ok(
        &f.app,
        "/api/records/ecommerce/orders/1/as_of?at=2025-01-01T09:04:30Z",
    )
    .await;
    assert_eq!(paid["exists"], true);
    assert_eq!(paid["row"]["status"], "paid");
    assert_eq!(paid["changes_applied"], 2);
    assert_eq!(paid["at"], "2025-01-01T09:04:30Z");
    assert_eq!(paid["last_change"]["operation"], "UPDATE");
    let before = get_ok(
        &f.app,
        "/api/records/ecommerce/orders/1/as_of?at=2025-01-01",
    )
    .await;
    assert_eq!(before["exists"], false);
    assert_eq!(before["row"], Json::Null);
    // Default: now. Order 2 was deleted.
    let deleted = get_ok(&f.app, "/api/records/ecommerce/orders/2/as_of").await;
    assert_eq!(deleted["exists"], false);
    assert_eq!(deleted["at"], "2025-01-02T00:00:00Z");
    let shipped = get_ok(&f.app, "/api/records/ecommerce/orders/1/as_of").await;
    assert_eq!(shipped["row"]["status"], "shipped");
}

#[tokio::test]
async fn change_by_id_round_trips() {
    let f = fixture();
    let list = get_ok(&f.app, "/api/tables/ecommerce/users/changes?limit=1").await;
    let id = list[0]["id"].as_str().unwrap();
    let one = get_ok(&f.app, &format!("/api/changes/{id}")).await;
    assert_eq!(one, list[0]);
    let missing = get(&f.app, "/api/changes/sample.000001:1:0").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["error"]
        .as_str()
        .unwrap()
        .contains("no change"));
}

#[tokio::test]
async fn search_finds_values_newest_first() {
    let f = fixture();
    let hits = get_ok(&f.app, "/api/search?q=alice").await;
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["table"] == "users"));
    assert!(hits.iter().any(|h| h["new_data"]["username"] == "alice"));
    let scoped = get_ok(
        &f.app,
        "/api/search?q=alice&database=ecommerce&table=orders",
    )
    .await;
    assert_eq!(scoped, json!([]));
    let prefix = get_ok(&f.app, "/api/search?q=ship*").await;
    assert!(prefix
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["table"] == "orders"));
    assert_eq!(prefix.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn tagged_changes_follow_the_rule() {
    let f = fixture();
    let tagged = get_ok(&f.app, "/api/rules/order_status_change/changes").await;
    let tagged = tagged.as_array().unwrap();
    let expected = f
        .records
        .iter()
        .filter(|r| r.tags.iter().any(|t| t == "order_status_change"))
        .count();
    assert!(expected > 0);
    assert_eq!(tagged.len(), expected);
    assert!(tagged.iter().all(|c| c["table"] == "orders"));
    assert_eq!(
        get_ok(&f.app, "/api/rules/no_such_rule/changes").await,
        json!([])
    );
}

#[tokio::test]
async fn alerts_list_rule_and_threshold_alerts() {
    let f = fixture();
    let all = get_ok(&f.app, "/api/alerts").await;
    let all = all.as_array().unwrap();
    let names: Vec<&str> = all.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"binlog_lag"), "{names:?}");
    assert!(names.contains(&"user_deletion"), "{names:?}");
    assert!(names.contains(&"high_amount_order"), "{names:?}");
    // Newest first.
    let times: Vec<&str> = all
        .iter()
        .map(|a| a["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    let deletion = get_ok(&f.app, "/api/alerts?name=user_deletion").await;
    assert_eq!(deletion.as_array().unwrap().len(), 1);
    let d = &deletion[0];
    assert_eq!(d["kind"], "rule");
    assert_eq!(d["priority"], "high");
    assert_eq!(d["table"], "users");
    let change = d["change_id"].as_str().unwrap();
    let deleted = get_ok(&f.app, &format!("/api/changes/{change}")).await;
    assert_eq!(deleted["operation"], "DELETE");
    let lag = get_ok(&f.app, "/api/alerts?name=binlog_lag").await;
    assert_eq!(
        lag[0]["details"],
        json!({"threshold": 300, "observed": 420})
    );
    assert_eq!(lag[0]["database"], Json::Null);
}

#[tokio::test]
async fn status_reports_position_lag_and_store_health() {
    let f = fixture();
    let s = get_ok(&f.app, "/api/status").await;
    assert_eq!(s["mode"], "serve");
    assert_eq!(s["position"]["binlog_file"], "sample.000002");
    assert_eq!(s["position"]["binlog_pos"], 600);
    assert_eq!(s["position"]["source"], "store checkpoint");
    assert_eq!(s["stores"][0]["ok"], true);
    assert_eq!(s["stores"][0]["backend"], "sqlite");
    assert_eq!(s["now"], "2025-01-02T00:00:00Z");

    // What the ingest side publishes shows up as is.
    f.state.status.send_modify(|st| {
        st.mode = "run".into();
        st.state = "streaming".into();
        st.binlog_file = Some("mysql-bin.000042".into());
        st.binlog_pos = Some(1234);
        st.gtid_set = Some("0-1-77".into());
        st.lag_seconds = Some(2.5);
        st.events_per_second = 1500.0;
        st.rows_per_second = 900.0;
        st.started_at = Some(common::NOW - 60);
        st.stores = vec![api::StoreWrites {
            name: "mysql:backup".into(),
            failures: 1,
            last_error: Some("connection refused".into()),
            ..Default::default()
        }];
    });
    let s = get_ok(&f.app, "/api/status").await;
    assert_eq!(s["mode"], "run");
    assert_eq!(
        s["position"],
        json!({"binlog_file": "mysql-bin.000042", "binlog_pos": 1234, "gtid_set": "0-1-77", "source": "reader"})
    );
    assert_eq!(s["lag_seconds"], 2.5);
    assert_eq!(s["events_per_second"], 1500.0);
    assert_eq!(s["uptime_seconds"], 60);
    assert_eq!(s["stores"][1]["name"], "mysql:backup");
    assert_eq!(s["stores"][1]["ok"], false);
}

#[tokio::test]
async fn trend_is_zero_filled_per_bucket() {
    let f = fixture();
    let r = get(
        &f.app,
        "/api/tables/ecommerce/orders/trend?start_time=2025-01-01T09:00:00Z&end_time=2025-01-01T09:15:00Z&bucket=minute",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-bucket"), Some("minute"));
    let points = r.json();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 15);
    assert_eq!(points[0]["start"], "2025-01-01T09:00:00Z");
    assert_eq!(points[3]["INSERT"], 2);
    let total: u64 = points.iter().map(|p| p["total"].as_u64().unwrap()).sum();
    assert_eq!(total, 8);
    // All tables, by day, all time.
    let days = get_ok(&f.app, "/api/trend?time_range=all&bucket=day").await;
    let total: u64 = days
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["total"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, f.records.len());
    // Default range: the last 24 hours (the whole workload), by minute.
    let r = get(&f.app, "/api/trend").await;
    assert_eq!(r.header("x-bucket"), Some("minute"));
    let points = r.json();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 24 * 60);
    assert_eq!(points[0]["start"], "2025-01-01T00:00:00Z");
    let total: u64 = points.iter().map(|p| p["total"].as_u64().unwrap()).sum();
    assert_eq!(total as usize, f.records.len());
}

#[tokio::test]
async fn masked_columns_never_leave_the_api_in_clear() {
    let f = fixture();
    // users.phone is a sensitive column in the seed's tables.yaml.
    for uri in [
        "/api/tables/ecommerce/users/changes",
        "/api/records/ecommerce/users/3/history",
        "/api/records/ecommerce/users/3/as_of",
        "/api/tables/ecommerce/users/column_changes?column=phone",
    ] {
        let r = get(&f.app, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        for clear in ["13800138000", "13900139000", "+1-555-0100"] {
            assert!(!r.text.contains(clear), "{uri} shows {clear}");
        }
    }
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let f = fixture();
    let t = "/api/tables/ecommerce/orders";
    let cases: Vec<(String, &str)> = vec![
        (format!("{t}/stats?time_range=7x"), "time_range"),
        (
            format!("{t}/stats?time_range=7d&start_time=2025-01-01"),
            "time_range",
        ),
        (format!("{t}/stats?start_time=1960-01-01"), "start_time"),
        (format!("{t}/changes?start_time=yesterday"), "start_time"),
        (format!("{t}/changes?end_time=2025-13-01"), "end_time"),
        (
            format!("{t}/changes?start_time=2025-02-01&end_time=2025-01-01"),
            "start_time",
        ),
        (format!("{t}/changes?operation=MERGE"), "operation"),
        (format!("{t}/changes?limit=0"), "limit"),
        (format!("{t}/changes?limit=abc"), "limit"),
        (format!("{t}/changes?limit=10001"), "limit"),
        (format!("{t}/changes?limit=1&limit=2"), "limit"),
        (format!("{t}/changes?cursor=xyz"), "cursor"),
        (format!("{t}/changes?order=sideways"), "order"),
        (format!("{t}/changes?operations=INSERT"), "operations"),
        (format!("{t}/column_changes"), "column"),
        (format!("{t}/column_changes?column=a%22b"), "column"),
        (format!("{t}/column_changes?column=a%00b"), "column"),
        (format!("{t}/column_changes?column=a%5Cb"), "column"),
        (format!("{t}/diffs?operation=INSERT"), "operation"),
        (format!("{t}/trend?bucket=week"), "bucket"),
        ("/api/trend?database=ecommerce".into(), "table"),
        ("/api/trend?table=orders".into(), "database"),
        (
            "/api/records/ecommerce/orders/1/history?limit=-1".into(),
            "limit",
        ),
        (
            "/api/records/ecommerce/orders/1/diffs?time_range=soon".into(),
            "time_range",
        ),
        (
            "/api/records/ecommerce/orders/1/as_of?at=later".into(),
            "at",
        ),
        ("/api/changes/garbage".into(), "id"),
        ("/api/search".into(), "q"),
        ("/api/search?q=%20".into(), "q"),
        ("/api/search?q=alice&table=users".into(), "database"),
        ("/api/rules/r/changes?cursor=-".into(), "cursor"),
        ("/api/alerts?start_time=x".into(), "start_time"),
        ("/api/alerts?limit=0".into(), "limit"),
        ("/api/stream?operation=MERGE".into(), "operation"),
        ("/api/stream?alerts=maybe".into(), "alerts"),
        ("/api/tables?foo=1".into(), "foo"),
        ("/api/status?verbose=1".into(), "verbose"),
    ];
    for (uri, parameter) in cases {
        let r = get(&f.app, &uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        let body = r.json();
        assert_eq!(body["parameter"], parameter, "{uri}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains(parameter)),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn unknown_tables_are_404() {
    let f = fixture();
    let t = "/api/tables/ecommerce/nosuch";
    for uri in [
        format!("{t}/stats"),
        format!("{t}/changes"),
        format!("{t}/column_changes?column=status"),
        format!("{t}/diffs"),
        format!("{t}/trend"),
        "/api/trend?database=ecommerce&table=nosuch".into(),
        "/api/records/ecommerce/nosuch/1/history".into(),
        "/api/records/ecommerce/nosuch/1/diffs".into(),
        "/api/records/ecommerce/nosuch/1/as_of".into(),
        "/api/records/nodb/users/1/history".into(),
        "/api/search?q=alice&database=ecommerce&table=nosuch".into(),
        "/api/rules/order_status_change/changes?database=ecommerce&table=nosuch".into(),
        "/api/alerts?database=ecommerce&table=nosuch".into(),
    ] {
        let r = get(&f.app, &uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.text);
        assert_eq!(
            r.json()["error"],
            "unknown table ecommerce.nosuch".replace(
                "ecommerce.nosuch",
                if uri.contains("nodb") {
                    "nodb.users"
                } else {
                    "ecommerce.nosuch"
                }
            ),
            "{uri}"
        );
    }
    let r = get(&f.app, "/api/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "no route for /api/nope");
}

#[tokio::test]
async fn documents_and_health_are_served() {
    let f = fixture();
    let doc = get_ok(&f.app, "/api/openapi.json").await;
    assert_eq!(doc["openapi"], "3.0.3");
    let page = get(&f.app, "/api").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page
        .text
        .contains("/api/records/{database}/{table}/{primary_key}/history"));
    assert_eq!(get_ok(&f.app, "/health").await, json!({"status": "ok"}));
}

/// Every path of the OpenAPI document is served (no 404/405 for the route
/// itself), so the document and the router cannot drift apart.
#[tokio::test]
async fn every_documented_route_is_served() {
    let f = fixture();
    let doc = get_ok(&f.app, "/api/openapi.json").await;
    let id = f.records[0].id();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{database}", "ecommerce")
                .replace("{table}", "orders")
                .replace("{primary_key}", "1")
                .replace("{id}", &id)
                .replace("{rule}", "order_status_change");
            let uri = match path.as_str() {
                p if p.ends_with("column_changes") => format!("{uri}?column=status"),
                "/api/search" => format!("{uri}?q=alice"),
                // An endless stream: only the status line is looked at.
                "/api/stream" => continue,
                _ => uri,
            };
            let req = axum::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri);
            let req = if method == "post" {
                req.header("content-type", "application/json")
                    .body(axum::body::Body::from(
                        r#"{"query":"{ tables { table } }"}"#,
                    ))
            } else {
                req.body(axum::body::Body::empty())
            }
            .unwrap();
            let r = send(&f.app, req).await;
            assert!(
                r.status != StatusCode::NOT_FOUND && r.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}: {} {}",
                r.status,
                r.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}
