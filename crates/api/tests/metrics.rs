//! `/metrics` is valid Prometheus text exposition (checked line by line
//! and by a parser crate) and shows what the pipeline recorded.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use pipeline::Operation;
use prometheus_parse::{Sample, Scrape, Value};

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{l="v",...} value`, strictly: the parser crate skips lines it
/// cannot read, so malformed output would otherwise go unnoticed.
fn check_sample_line(line: &str) -> Result<(), String> {
    let (series, value) = line.rsplit_once(' ').ok_or("no value")?;
    if !(value == "+Inf" || value == "-Inf" || value == "NaN" || value.parse::<f64>().is_ok()) {
        return Err(format!("bad value {value:?}"));
    }
    let (name, labels) = match series.split_once('{') {
        Some((n, rest)) => (n, Some(rest.strip_suffix('}').ok_or("unclosed labels")?)),
        None => (series, None),
    };
    if !is_name(name) {
        return Err(format!("bad name {name:?}"));
    }
    let Some(mut rest) = labels else {
        return Ok(());
    };
    while !rest.is_empty() {
        let (label, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if !is_name(label) || label.starts_with("__") {
            return Err(format!("bad label name {label:?}"));
        }
        // Find the closing quote, skipping escapes.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match (escaped, c) {
                (true, 'n' | '\\' | '"') => escaped = false,
                (true, other) => return Err(format!("bad escape \\{other}")),
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                (false, '\n') => return Err("raw newline".into()),
                _ => {}
            }
        }
        let end = end.ok_or("unterminated label value")?;
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    Ok(())
}

fn validate_exposition(text: &str) {
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), Some(_)) => assert!(is_name(name), "{line}"),
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(is_name(name), "{line}");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "{line}"
                    );
                    assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
                }
                _ => panic!("unexpected comment: {line}"),
            }
        } else {
            assert!(!line.is_empty(), "empty line in exposition");
            check_sample_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
    }
    assert!(text.ends_with('\n'));
}

fn find<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> &'a Sample {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Counter(x) | Value::Gauge(x) | Value::Untyped(x) => *x,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_parse_as_prometheus_exposition_and_show_updates() {
    let f = fixture();
    let m = &f.state.metrics;
    m.lag_seconds.set(12.5);
    m.last_event_timestamp.set(1_735_722_480.0);
    m.events("WRITE_ROWS", 40);
    m.events("QUERY", 3);
    m.events_counter("XID").inc();
    m.rows("ecommerce", "orders", Operation::Update, 3);
    m.rows("ecommerce", "users", Operation::Insert, 4);
    m.rows("we\"ird", "tab\\le", Operation::Delete, 1);
    // A whole batch: the sample's records by table and operation.
    m.batch_rows(&f.records);
    m.stored("sqlite:/data/x.db", 7);
    m.set_queue_size("storage", 17);
    m.error("source");
    m.error("source");
    m.batch_seconds.observe_duration(Duration::from_millis(3));
    m.batch_seconds.observe_duration(Duration::from_millis(40));
    m.store_write("sqlite:/data/x.db", Duration::from_millis(2));
    m.alert("user_deletion", "high");
    m.alert_delivery("webhook", "failed");

    let r = get(&f.app, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    validate_exposition(&r.text);
    let scrape = Scrape::parse(r.text.lines().map(|l| Ok(l.to_string()))).expect("parses");

    assert_eq!(
        number(&find(&scrape, "binlog_lag_seconds", &[]).value),
        12.5
    );
    assert!(matches!(
        find(&scrape, "binlog_lag_seconds", &[]).value,
        Value::Gauge(_)
    ));
    let rows = find(
        &scrape,
        "binlog_rows_processed_total",
        &[
            ("database", "ecommerce"),
            ("table", "orders"),
            ("operation", "UPDATE"),
        ],
    );
    // 3 counted by hand, 3 from the batch.
    assert!(
        matches!(rows.value, Value::Counter(6.0)),
        "{:?}",
        rows.value
    );
    let products = find(
        &scrape,
        "binlog_rows_processed_total",
        &[("table", "products"), ("operation", "UPDATE")],
    );
    assert_eq!(number(&products.value), 4.0);
    // Escaped label values come back as written (the parser keeps escapes).
    let weird = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "binlog_rows_processed_total"
                && s.labels.get("database") != Some("ecommerce")
        })
        .expect("the oddly named table");
    assert_eq!(weird.labels.get("database"), Some("we\\\"ird"));
    assert_eq!(
        number(
            &find(
                &scrape,
                "binlog_events_processed_total",
                &[("type", "WRITE_ROWS")]
            )
            .value
        ),
        40.0
    );
    assert_eq!(
        number(&find(&scrape, "binlog_events_processed_total", &[("type", "XID")]).value),
        1.0
    );
    assert_eq!(
        number(&find(&scrape, "binlog_queue_size", &[("queue", "storage")]).value),
        17.0
    );
    assert_eq!(
        number(&find(&scrape, "binlog_errors_total", &[("kind", "source")]).value),
        2.0
    );
    assert_eq!(
        number(
            &find(
                &scrape,
                "binlog_alert_deliveries_total",
                &[("channel", "webhook"), ("result", "failed")]
            )
            .value
        ),
        1.0
    );
    match &find(&scrape, "binlog_batch_seconds", &[]).value {
        Value::Histogram(buckets) => {
            let at = |le: f64| buckets.iter().find(|b| b.less_than == le).unwrap().count;
            assert_eq!(at(0.005), 1.0);
            assert_eq!(at(0.05), 2.0);
            assert_eq!(at(f64::INFINITY), 2.0);
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert!(matches!(
        find(
            &scrape,
            "binlog_store_write_seconds",
            &[("store", "sqlite:/data/x.db")]
        )
        .value,
        Value::Histogram(_)
    ));
    let rss = number(&find(&scrape, "process_resident_memory_bytes", &[]).value);
    assert!(rss > 1_000_000.0, "{rss}");
    assert!(r.text.contains("binlog_batch_seconds_count 2\n"));
    assert!(r.text.contains("binlog_api_live_subscribers 0\n"));
}

#[tokio::test]
async fn metrics_follow_lag_and_count_live_subscribers() {
    let f = fixture();
    f.state.metrics.lag_seconds.set(0.0);
    let text = get(&f.app, "/metrics").await.text;
    assert!(text.contains("\nbinlog_lag_seconds 0\n"), "{text}");
    let _sub = f.state.live.subscribe();
    f.state.metrics.lag_seconds.set(301.0);
    let text = get(&f.app, "/metrics").await.text;
    assert!(text.contains("\nbinlog_lag_seconds 301\n"));
    assert!(text.contains("\nbinlog_api_live_subscribers 1\n"));
}

#[test]
fn the_line_checker_rejects_malformed_samples() {
    assert!(check_sample_line("a_b{x=\"1\",y=\"q\\\"\"} 2").is_ok());
    assert!(check_sample_line("a{le=\"+Inf\"} 3").is_ok());
    assert!(check_sample_line("1abc 2").is_err());
    assert!(check_sample_line("a{x=\"1} 2").is_err());
    assert!(check_sample_line("a{x=\"\\q\"} 2").is_err());
    assert!(check_sample_line("a two").is_err());
}

/// The shipped Grafana dashboard only queries metrics this exposition has.
#[test]
fn grafana_dashboard_queries_existing_metrics() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/grafana/binlog-analyzer.json"
    );
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard")).expect("JSON");
    let m = api::Metrics::new();
    m.events("QUERY", 1);
    m.rows("d", "t", Operation::Insert, 1);
    m.stored("s", 1);
    m.set_queue_size("storage", 1);
    m.error("source");
    m.store_write("s", Duration::from_millis(1));
    m.alert("r", "high");
    m.alert_delivery("log", "ok");
    let text = m.render(0);
    let mut checked = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("binlog_") || w.starts_with("process_"));
            for name in names {
                assert!(
                    text.lines().any(|l| l.starts_with(name)),
                    "{} queries {name}, which /metrics does not have",
                    panel["title"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}
