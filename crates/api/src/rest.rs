//! REST routes under `/api` (see `openapi.json` for the contract).
//!
//! Lists are plain JSON arrays, as the seed shows them; when more follow,
//! the response carries `X-Next-Cursor: <n>` and `Link: <...&cursor=n>;
//! rel="next"`, and passing `cursor=<n>` (with the same filters and order)
//! returns the next page.

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pipeline::record::{ChangeKey, Operation};
use serde_json::{json, Value as Json_};
use store::{
    AlertQuery, Bucket, ChangesQuery, ColumnChangesQuery, Page, RowHistoryQuery, SearchQuery,
    TableRef, TaggedQuery, TimeRange, TrendPoint, TrendQuery,
};

use crate::error::ApiError;
use crate::params::Params;
use crate::{shape, AppState};

pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tables", get(tables))
        .route("/api/tables/{database}/{table}/stats", get(table_stats))
        .route("/api/tables/{database}/{table}/changes", get(table_changes))
        .route(
            "/api/tables/{database}/{table}/column_changes",
            get(column_changes),
        )
        .route("/api/tables/{database}/{table}/diffs", get(table_diffs))
        .route("/api/tables/{database}/{table}/trend", get(table_trend))
        .route("/api/trend", get(trend))
        .route(
            "/api/records/{database}/{table}/{primary_key}/history",
            get(row_history),
        )
        .route(
            "/api/records/{database}/{table}/{primary_key}/diffs",
            get(row_diffs),
        )
        .route(
            "/api/records/{database}/{table}/{primary_key}/as_of",
            get(row_as_of),
        )
        .route("/api/changes/{id}", get(change_by_id))
        .route("/api/search", get(search))
        .route("/api/rules/{rule}/changes", get(tagged))
        .route("/api/alerts", get(alerts))
        .route("/api/status", get(status))
}

/// A JSON array with the next page's cursor in the headers.
fn paged(uri: &Uri, body: Json_, next: Option<i64>) -> Response {
    let mut response = Json(body).into_response();
    if let Some(next) = next {
        let headers = response.headers_mut();
        headers.insert(NEXT_CURSOR, HeaderValue::from(next));
        if let Ok(link) = HeaderValue::from_str(&next_link(uri, next)) {
            headers.insert(header::LINK, link);
        }
    }
    response
}

/// The same request with `cursor` replaced; the token is left out so it
/// does not end up in logs of whoever follows the link.
fn next_link(uri: &Uri, next: i64) -> String {
    let mut pairs: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    pairs.retain(|(k, _)| k != "cursor" && k != "access_token");
    pairs.push(("cursor".into(), next.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("<{}?{}>; rel=\"next\"", uri.path(), query)
}

async fn tables(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    p.allow(&[])?;
    let tables = st.query(|s| s.tables()).await?;
    let body: Vec<Json_> = tables
        .iter()
        .map(|t| {
            json!({
                "database": t.database,
                "table": t.table,
                "name": format!("{}.{}", t.database, t.table),
            })
        })
        .collect();
    Ok(Json(body).into_response())
}

async fn table_stats(
    State(st): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&["time_range", "start_time", "end_time"])?;
    let range = p.range(st.now())?;
    let stats = st
        .query(move |s| s.table_stats(&database, &table, range))
        .await?;
    Ok(Json(shape::stats(&stats)).into_response())
}

const CHANGES_PARAMS: [&str; 7] = [
    "start_time",
    "end_time",
    "time_range",
    "operation",
    "limit",
    "cursor",
    "order",
];

fn changes_query(
    st: &AppState,
    database: String,
    table: String,
    p: &Params,
) -> Result<ChangesQuery, ApiError> {
    let mut q = ChangesQuery::new(database, table);
    q.range = p.range(st.now())?;
    q.operations = p.operations()?;
    q.limit = p.limit()?;
    q.cursor = p.cursor()?;
    q.order = p.order()?;
    Ok(q)
}

async fn table_changes(
    State(st): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&CHANGES_PARAMS)?;
    let q = changes_query(&st, database, table, &p)?;
    let page = st.query(move |s| s.changes(&q)).await?;
    Ok(paged(&uri, shape::changes(&page.items), page.next))
}

async fn table_diffs(
    State(st): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&[
        "start_time",
        "end_time",
        "time_range",
        "limit",
        "cursor",
        "order",
    ])?;
    let mut q = changes_query(&st, database, table, &p)?;
    q.operations = vec![Operation::Update];
    let page = st.query(move |s| s.changes(&q)).await?;
    let body = page
        .items
        .iter()
        .map(|c| shape::update_diff(&c.record))
        .collect();
    Ok(paged(&uri, Json_::Array(body), page.next))
}

async fn column_changes(
    State(st): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&[
        "column",
        "start_time",
        "end_time",
        "time_range",
        "limit",
        "cursor",
        "order",
    ])?;
    // The store checks the name (no '"', '\\' or NUL) for every caller.
    let column = p.required("column")?.to_string();
    let mut q = ColumnChangesQuery::new(database, table, column.clone());
    q.range = p.range(st.now())?;
    q.limit = p.limit()?;
    q.cursor = p.cursor()?;
    q.order = p.order()?;
    let page = st.query(move |s| s.column_changes(&q)).await?;
    let body = page
        .items
        .iter()
        .map(|i| shape::column_change(i, &column))
        .collect();
    Ok(paged(&uri, Json_::Array(body), page.next))
}

/// The bucket to use when none is asked for: about 100–1500 points.
fn default_bucket(range: &TimeRange, now: u32) -> Bucket {
    let span = match range.start {
        Some(s) => range.end.unwrap_or(now).saturating_sub(s),
        None => u32::MAX,
    };
    if span <= 24 * 3600 {
        Bucket::Minute
    } else if span <= 60 * 86_400 {
        Bucket::Hour
    } else {
        Bucket::Day
    }
}

/// Buckets without changes are absent from the store's answer; charts
/// want them as zeros, so fill them when the range is bounded and small.
const MAX_FILLED_POINTS: i64 = 10_000;

fn zero_filled(
    points: Vec<TrendPoint>,
    range: &TimeRange,
    bucket: Bucket,
    now: u32,
) -> Vec<TrendPoint> {
    let width = bucket.minutes() * 60;
    let Some(start) = range.start else {
        return points;
    };
    let end = i64::from(range.end.unwrap_or(now));
    let first = i64::from(start) / width * width;
    if end <= first || (end - first) / width > MAX_FILLED_POINTS {
        return points;
    }
    let mut out = Vec::new();
    let mut given = points.into_iter().peekable();
    let mut t = first;
    while t < end {
        // Store buckets are aligned to the width; anything else is skipped.
        while given.next_if(|p| i64::from(p.start) < t).is_some() {}
        match given.next_if(|p| i64::from(p.start) == t) {
            Some(p) => out.push(p),
            None => {
                if let Ok(start) = u32::try_from(t) {
                    out.push(TrendPoint {
                        start,
                        counts: store::OpCounts::default(),
                    });
                }
            }
        }
        t += width;
    }
    out.extend(given);
    out
}

async fn trend_response(
    st: &AppState,
    table: Option<TableRef>,
    p: &Params,
) -> Result<Response, ApiError> {
    let now = st.now();
    let mut range = p.range(now)?;
    if p.get("time_range")?.is_none() && range.start.is_none() && range.end.is_none() {
        range.start = Some(now.saturating_sub(24 * 3600));
    }
    let bucket = match p.get("bucket")?.map(str::to_ascii_lowercase).as_deref() {
        None => default_bucket(&range, now),
        Some("minute") => Bucket::Minute,
        Some("hour") => Bucket::Hour,
        Some("day") => Bucket::Day,
        Some(_) => return Err(ApiError::bad("bucket", "must be minute, hour or day")),
    };
    let q = TrendQuery {
        table,
        range,
        bucket,
    };
    let points = st.query(move |s| s.trend(&q)).await?;
    let points = zero_filled(points, &range, bucket, now);
    let bucket_name = match bucket {
        Bucket::Minute => "minute",
        Bucket::Hour => "hour",
        Bucket::Day => "day",
    };
    let mut response = Json(Json_::Array(
        points.iter().map(shape::trend_point).collect(),
    ))
    .into_response();
    response
        .headers_mut()
        .insert("x-bucket", HeaderValue::from_static(bucket_name));
    Ok(response)
}

const TREND_PARAMS: [&str; 4] = ["time_range", "start_time", "end_time", "bucket"];

async fn table_trend(
    State(st): State<AppState>,
    Path((database, table)): Path<(String, String)>,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&TREND_PARAMS)?;
    trend_response(&st, Some(TableRef::new(database, table)), &p).await
}

async fn trend(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    p.allow(&[
        "time_range",
        "start_time",
        "end_time",
        "bucket",
        "database",
        "table",
    ])?;
    let table = p.table()?;
    trend_response(&st, table, &p).await
}

fn history_query(
    st: &AppState,
    database: String,
    table: String,
    primary_key: String,
    p: &Params,
) -> Result<RowHistoryQuery, ApiError> {
    let mut q = RowHistoryQuery::new(database, table, primary_key);
    q.range = p.range(st.now())?;
    q.limit = p.limit()?;
    q.cursor = p.cursor()?;
    q.order = p.order()?;
    Ok(q)
}

async fn row_history(
    State(st): State<AppState>,
    Path((database, table, primary_key)): Path<(String, String, String)>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&CHANGES_PARAMS)?;
    let mut q = history_query(&st, database, table, primary_key, &p)?;
    q.operations = p.operations()?;
    let page = st.query(move |s| s.row_history(&q)).await?;
    let body = page
        .items
        .iter()
        .map(|c| shape::history_entry(&c.record))
        .collect();
    Ok(paged(&uri, Json_::Array(body), page.next))
}

async fn row_diffs(
    State(st): State<AppState>,
    Path((database, table, primary_key)): Path<(String, String, String)>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&[
        "start_time",
        "end_time",
        "time_range",
        "limit",
        "cursor",
        "order",
    ])?;
    let mut q = history_query(&st, database, table, primary_key, &p)?;
    q.operations = vec![Operation::Update];
    let page = st.query(move |s| s.row_history(&q)).await?;
    let body = page
        .items
        .iter()
        .map(|c| shape::update_diff(&c.record))
        .collect();
    Ok(paged(&uri, Json_::Array(body), page.next))
}

async fn row_as_of(
    State(st): State<AppState>,
    Path((database, table, primary_key)): Path<(String, String, String)>,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&["at"])?;
    let at = match p.get("at")? {
        Some(t) => crate::params::time("at", t, false)?,
        None => st.now(),
    };
    let row = st
        .query(move |s| {
            // row_as_of on an unknown table would just say "not found";
            // tell the caller which it is.
            let probe = RowHistoryQuery {
                limit: 1,
                ..RowHistoryQuery::new(database.clone(), table.clone(), "")
            };
            s.row_history(&probe)?;
            s.row_as_of(&database, &table, &primary_key, at)
        })
        .await?;
    Ok(Json(shape::row_as_of(&row, at)).into_response())
}

/// `file:pos:row`, the id every change carries.
pub fn parse_change_id(id: &str) -> Option<ChangeKey> {
    let mut parts = id.rsplitn(3, ':');
    let row_index = parts.next()?.parse().ok()?;
    let event_pos = parts.next()?.parse().ok()?;
    let binlog_file = parts.next().filter(|f| !f.is_empty())?.to_string();
    Some(ChangeKey {
        binlog_file,
        event_pos,
        row_index,
    })
}

async fn change_by_id(
    State(st): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&[])?;
    let key = parse_change_id(&id)
        .ok_or_else(|| ApiError::bad("id", "a change id looks like mysql-bin.000001:1234:0"))?;
    let found = st.query(move |s| s.change_by_key(&key)).await?;
    match found {
        Some(c) => Ok(Json(shape::change(&c.record)).into_response()),
        None => Err(ApiError::NotFound(format!("no change {id}"))),
    }
}

async fn search(State(st): State<AppState>, uri: Uri, p: Params) -> Result<Response, ApiError> {
    p.allow(&["q", "database", "table", "limit", "cursor"])?;
    let q = SearchQuery {
        text: p.required("q")?.to_string(),
        table: p.table()?,
        cursor: p.cursor()?,
        limit: p.limit()?,
    };
    let page = st.query(move |s| s.search(&q)).await?;
    Ok(paged(&uri, shape::changes(&page.items), page.next))
}

async fn tagged(
    State(st): State<AppState>,
    Path(rule): Path<String>,
    uri: Uri,
    p: Params,
) -> Result<Response, ApiError> {
    p.allow(&[
        "database",
        "table",
        "start_time",
        "end_time",
        "time_range",
        "limit",
        "cursor",
        "order",
    ])?;
    let q = TaggedQuery {
        rule,
        table: p.table()?,
        range: p.range(st.now())?,
        order: p.order()?,
        cursor: p.cursor()?,
        limit: p.limit()?,
    };
    let page = st.query(move |s| s.tagged(&q)).await?;
    Ok(paged(&uri, shape::changes(&page.items), page.next))
}

async fn alerts(State(st): State<AppState>, uri: Uri, p: Params) -> Result<Response, ApiError> {
    p.allow(&[
        "database",
        "table",
        "name",
        "start_time",
        "end_time",
        "time_range",
        "limit",
        "cursor",
    ])?;
    let q = AlertQuery {
        range: p.range(st.now())?,
        table: p.table()?,
        name: p.get("name")?.map(str::to_string),
        cursor: p.cursor()?,
        limit: p.limit()?,
    };
    let page: Page<store::StoredAlert> = st
        .query(move |s| {
            // Alerts name tables loosely; an unknown one is a 404 as elsewhere.
            if let Some(t) = &q.table {
                if !s.tables()?.contains(t) {
                    return Err(store::StoreError::UnknownTable {
                        database: t.database.clone(),
                        table: t.table.clone(),
                    });
                }
            }
            s.alerts(&q)
        })
        .await?;
    let body = page.items.iter().map(shape::alert).collect();
    Ok(paged(&uri, Json_::Array(body), page.next))
}

async fn status(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    p.allow(&[])?;
    Ok(Json(crate::status::document(&st).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_ids_split_from_the_right() {
        let k = parse_change_id("mysql-bin.000001:4271:2").unwrap();
        assert_eq!(
            (k.binlog_file.as_str(), k.event_pos, k.row_index),
            ("mysql-bin.000001", 4271, 2)
        );
        // A file name with a colon still parses.
        assert_eq!(parse_change_id("a:b:1:0").unwrap().binlog_file, "a:b");
        assert!(parse_change_id(":1:0").is_none());
        assert!(parse_change_id("x:1").is_none());
        assert!(parse_change_id("x:y:0").is_none());
    }

    #[test]
    fn next_link_replaces_the_cursor_and_drops_the_token() {
        let uri: Uri =
            "/api/tables/a/b/changes?limit=2&cursor=5&access_token=s3cret&operation=UPDATE"
                .parse()
                .unwrap();
        assert_eq!(
            next_link(&uri, 9),
            "</api/tables/a/b/changes?limit=2&operation=UPDATE&cursor=9>; rel=\"next\""
        );
    }

    #[test]
    fn trend_gaps_are_filled_with_zero_buckets() {
        let range = TimeRange::between(0, 300);
        let one = store::OpCounts {
            insert: 1,
            ..Default::default()
        };
        let points = vec![TrendPoint {
            start: 120,
            counts: one,
        }];
        let filled = zero_filled(points, &range, Bucket::Minute, 0);
        let starts: Vec<u32> = filled.iter().map(|p| p.start).collect();
        assert_eq!(starts, vec![0, 60, 120, 180, 240]);
        assert_eq!(filled[2].counts.insert, 1);
    }
}
