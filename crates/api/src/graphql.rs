//! GraphQL at `/graphql` (POST, or GET with `?query=`), subscriptions over
//! WebSocket (`graphql-transport-ws` or the older `graphql-ws` protocol) at
//! `/graphql/ws` or by upgrading `GET /graphql`.
//!
//! The seed's two queries work as written:
//! `tableChanges(database, table, operations: ["UPDATE", "DELETE"], limit)`
//! with `primaryKey` a `JSON` scalar and `changes { column oldValue
//! newValue }`, and `tableStats(database, table, timeRange: "7d") {
//! totalChanges operationCounts { operation count } hourlyDistribution {
//! hour count } }`. Operations are strings there, so they are strings
//! here. Lists page with `after: <cursor of the last item>`.

use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, Error, ErrorExtensions, InputValueError, InputValueResult, Name,
    Object, Scalar, ScalarType, Schema, SimpleObject, Subscription, Value,
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse, GraphQLSubscription};
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::stream::{Stream, StreamExt};
use pipeline::record::{ChangeRecord, Operation};
use store::{
    AlertQuery, Bucket, ChangesQuery, ColumnChangesQuery, RowHistoryQuery, SearchQuery,
    StoredChange, TaggedQuery, TimeRange, TrendQuery, DEFAULT_LIMIT, MAX_LIMIT,
};
use tokio_stream::wrappers::BroadcastStream;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::params::{self, RangeArgs, RANGE_NAMES_GRAPHQL};
use crate::stream::LiveFilter;
use crate::time::format_iso8601;
use crate::{shape, AppState};

pub type ApiSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

pub fn build_schema(state: AppState) -> ApiSchema {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot)
        .data(state)
        .limit_depth(16)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

pub fn routes(schema: ApiSchema) -> Router<AppState> {
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route_service("/graphql/ws", GraphQLSubscription::new(schema.clone()))
        .route("/graphql/schema.graphql", get(schema_sdl))
        .layer(Extension(schema))
}

async fn post_graphql(
    Extension(schema): Extension<ApiSchema>,
    req: GraphQLRequest,
) -> GraphQLResponse {
    schema.execute(req.into_inner()).await.into()
}

/// The schema in SDL, for code generators and readers.
async fn schema_sdl(Extension(schema): Extension<ApiSchema>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        schema.sdl(),
    )
        .into_response()
}

/// WebSocket upgrade → subscriptions; `?query=` → a query over GET;
/// otherwise the GraphiQL page.
async fn get_graphql(Extension(schema): Extension<ApiSchema>, req: Request) -> Response {
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        return match GraphQLSubscription::new(schema).oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
    }
    let has_query = req.uri().query().is_some_and(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(|pairs| pairs.iter().any(|(k, _)| k == "query"))
            .unwrap_or(false)
    });
    if has_query {
        let query = req.uri().query().unwrap_or("");
        return match async_graphql::http::parse_query_string(query) {
            Ok(request) => GraphQLResponse::from(schema.execute(request).await).into_response(),
            Err(e) => ApiError::bad("query", e.to_string()).into_response(),
        };
    }
    crate::graphiql::page()
}

/// Any JSON value: the record's values as `VALUES.md` renders them.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonValue(pub serde_json::Value);

/// Arbitrary JSON (objects, arrays, strings, numbers, booleans, null).
#[Scalar(name = "JSON")]
impl ScalarType for JsonValue {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(JsonValue)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> Value {
        to_graphql(&self.0)
    }
}

/// Direct conversion: numbers keep their exact text (the workspace's
/// serde_json keeps arbitrary precision, which a serde round trip through
/// async-graphql's own serializer would turn into an object).
fn to_graphql(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.clone()),
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::List(a.iter().map(to_graphql).collect()),
        J::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (Name::new(k), to_graphql(v)))
                .collect(),
        ),
    }
}

fn json_map(m: &serde_json::Map<String, serde_json::Value>) -> JsonValue {
    JsonValue(serde_json::Value::Object(m.clone()))
}

/// One column's before/after value.
#[derive(SimpleObject)]
#[graphql(name = "ColumnChange")]
pub struct ColumnChangeObject {
    pub column: String,
    pub old_value: Option<JsonValue>,
    pub new_value: Option<JsonValue>,
}

/// A row change.
#[derive(SimpleObject)]
pub struct Change {
    /// `binlog-file:event-pos:row-index`, stable across stores.
    pub id: String,
    /// For `after:` to get the items following this one; null for live
    /// changes.
    pub cursor: Option<String>,
    /// ISO 8601, UTC.
    pub timestamp: String,
    /// INSERT, UPDATE or DELETE.
    pub operation: String,
    pub database: String,
    pub table: String,
    /// Primary-key column → value.
    pub primary_key: JsonValue,
    pub old_data: Option<JsonValue>,
    pub new_data: Option<JsonValue>,
    /// UPDATE: the changed columns; INSERT/DELETE: every column, the
    /// missing side null.
    pub changes: Vec<ColumnChangeObject>,
    pub gtid: Option<String>,
    pub query: Option<String>,
    /// Names of tracking rules that matched.
    pub tags: Vec<String>,
}

impl Change {
    fn from_record(c: &ChangeRecord, cursor: Option<i64>) -> Change {
        let pick = |pair: &serde_json::Value, side: &str| pair.get(side).cloned().map(JsonValue);
        Change {
            id: c.id(),
            cursor: cursor.map(|s| s.to_string()),
            timestamp: format_iso8601(c.timestamp),
            operation: c.operation.as_str().to_string(),
            database: c.database.clone(),
            table: c.table.clone(),
            primary_key: json_map(&c.primary_key.to_map()),
            old_data: c.old_data.as_ref().map(|m| json_map(&m.to_map())),
            new_data: c.new_data.as_ref().map(|m| json_map(&m.to_map())),
            changes: shape::column_changes(c)
                .into_iter()
                .map(|(column, pair)| ColumnChangeObject {
                    old_value: pick(&pair, "old"),
                    new_value: pick(&pair, "new"),
                    column,
                })
                .collect(),
            gtid: c.gtid.clone(),
            query: c.query.clone(),
            tags: c.tags.clone(),
        }
    }

    fn stored(c: &StoredChange) -> Change {
        Change::from_record(&c.record, Some(c.seq))
    }
}

#[derive(SimpleObject)]
pub struct OperationCount {
    pub operation: String,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct HourCount {
    /// Hour of the day, UTC (0–23).
    pub hour: u8,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct DailyStat {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub total_changes: u64,
    pub operation_counts: Vec<OperationCount>,
}

#[derive(SimpleObject)]
pub struct TableStats {
    pub total_changes: u64,
    pub operation_counts: Vec<OperationCount>,
    /// Always 24 entries, hours 0–23 UTC.
    pub hourly_distribution: Vec<HourCount>,
    /// Days with changes, ascending.
    pub daily_stats: Vec<DailyStat>,
}

fn op_counts(c: &store::OpCounts) -> Vec<OperationCount> {
    [Operation::Insert, Operation::Update, Operation::Delete]
        .into_iter()
        .map(|op| OperationCount {
            operation: op.as_str().into(),
            count: c.get(op),
        })
        .collect()
}

#[derive(SimpleObject)]
pub struct TableName {
    pub database: String,
    pub table: String,
}

/// One column's value change (`columnChanges`).
#[derive(SimpleObject)]
pub struct ColumnValueChange {
    pub id: String,
    pub cursor: String,
    pub timestamp: String,
    pub operation: String,
    pub primary_key: JsonValue,
    pub column: String,
    /// Null for an INSERT (no before image) or a NULL value.
    pub old_value: Option<JsonValue>,
    pub new_value: Option<JsonValue>,
}

#[derive(SimpleObject)]
pub struct TrendPoint {
    /// Start of the bucket, ISO 8601 UTC.
    pub start: String,
    pub insert: u64,
    pub update: u64,
    pub delete: u64,
    pub total: u64,
}

#[derive(SimpleObject)]
pub struct AlertObject {
    pub id: i64,
    pub cursor: String,
    /// `rule` or a threshold alert's name.
    pub kind: String,
    pub name: String,
    pub priority: String,
    pub timestamp: String,
    pub database: Option<String>,
    pub table: Option<String>,
    pub change_id: Option<String>,
    pub message: String,
    pub details: JsonValue,
}

#[derive(SimpleObject)]
pub struct RowState {
    pub at: String,
    /// False when the row did not exist then (not inserted yet, or deleted).
    pub exists: bool,
    pub row: Option<JsonValue>,
    pub changes_applied: u64,
    pub last_change: Option<Change>,
}

fn gql_error(e: ApiError) -> Error {
    let code = match &e {
        ApiError::BadParameter { .. } => "BAD_USER_INPUT",
        ApiError::NotFound(_) => "NOT_FOUND",
        ApiError::Unauthorized => "UNAUTHENTICATED",
        ApiError::Store(_) | ApiError::Internal(_) => "INTERNAL_SERVER_ERROR",
    };
    let parameter = e.parameter().map(|p| match p {
        // Store names → this surface's argument names.
        "q" => "text".to_string(),
        "start_time" => "startTime".to_string(),
        other => other.to_string(),
    });
    Error::new(e.to_string()).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(p) = &parameter {
            ext.set("parameter", p.as_str());
        }
    })
}

fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

fn range(
    st: &AppState,
    time_range: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<TimeRange, ApiError> {
    params::range(
        RangeArgs {
            time_range,
            start,
            end,
        },
        RANGE_NAMES_GRAPHQL,
        st.now(),
    )
}

/// The most a request may cost: fields, counting those of a list field once
/// per row it may return ([`list_cost`]). One list at the largest limit
/// with every field of a change fits; without a bound, aliases could repeat
/// a 10 000-row query thousands of times in one request.
pub const MAX_COMPLEXITY: usize = 25 * MAX_LIMIT as usize;

/// Complexity of a list field with `limit` rows of `child_complexity` each.
fn list_cost(limit: Option<i32>, child_complexity: usize) -> usize {
    let rows = limit.map_or(DEFAULT_LIMIT as usize, |n| {
        n.clamp(1, MAX_LIMIT as i32) as usize
    });
    rows.saturating_mul(child_complexity.max(1))
}

fn limit(n: Option<i32>) -> Result<u32, ApiError> {
    let text = n.map(|n| n.to_string());
    params::limit("limit", text.as_deref())
}

fn ops(list: Option<Vec<String>>) -> Result<Vec<Operation>, ApiError> {
    params::operations("operations", list.iter().flatten().map(String::as_str))
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Tables with stored changes.
    async fn tables(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TableName>> {
        let st = state(ctx)?;
        let tables = st.query(|s| s.tables()).await.map_err(gql_error)?;
        Ok(tables
            .into_iter()
            .map(|t| TableName {
                database: t.database,
                table: t.table,
            })
            .collect())
    }

    /// Changes of one table, oldest first unless `order: "desc"`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn table_changes(
        &self,
        ctx: &Context<'_>,
        database: String,
        table: String,
        operations: Option<Vec<String>>,
        #[graphql(default = 100)] limit: Option<i32>,
        start_time: Option<String>,
        end_time: Option<String>,
        time_range: Option<String>,
        after: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<Vec<Change>> {
        let st = state(ctx)?;
        let q = (|| {
            let mut q = ChangesQuery::new(database, table);
            q.operations = ops(operations)?;
            q.limit = self::limit(limit)?;
            q.range = range(
                st,
                time_range.as_deref(),
                start_time.as_deref(),
                end_time.as_deref(),
            )?;
            q.cursor = params::cursor("after", after.as_deref())?;
            q.order = params::order("order", order.as_deref())?;
            Ok(q)
        })()
        .map_err(gql_error)?;
        let page = st.query(move |s| s.changes(&q)).await.map_err(gql_error)?;
        Ok(page.items.iter().map(Change::stored).collect())
    }

    /// Totals per operation, per day and per hour of day.
    async fn table_stats(
        &self,
        ctx: &Context<'_>,
        database: String,
        table: String,
        time_range: Option<String>,
        start_time: Option<String>,
        end_time: Option<String>,
    ) -> async_graphql::Result<TableStats> {
        let st = state(ctx)?;
        let r = range(
            st,
            time_range.as_deref(),
            start_time.as_deref(),
            end_time.as_deref(),
        )
        .map_err(gql_error)?;
        let s = st
            .query(move |s| s.table_stats(&database, &table, r))
            .await
            .map_err(gql_error)?;
        Ok(TableStats {
            total_changes: s.total_changes,
            operation_counts: op_counts(&s.operations),
            hourly_distribution: s
                .hourly
                .iter()
                .map(|h| HourCount {
                    hour: h.hour,
                    count: h.count,
                })
                .collect(),
            daily_stats: s
                .daily
                .iter()
                .map(|d| DailyStat {
                    date: d.date.clone(),
                    total_changes: d.counts.total(),
                    operation_counts: op_counts(&d.counts),
                })
                .collect(),
        })
    }

    /// Change counts per minute/hour/day bucket (buckets without changes
    /// left out), for one table or all.
    #[allow(clippy::too_many_arguments)]
    async fn trend(
        &self,
        ctx: &Context<'_>,
        database: Option<String>,
        table: Option<String>,
        #[graphql(default_with = "Some(\"hour\".to_string())")] bucket: Option<String>,
        time_range: Option<String>,
        start_time: Option<String>,
        end_time: Option<String>,
    ) -> async_graphql::Result<Vec<TrendPoint>> {
        let st = state(ctx)?;
        let q = (|| {
            let bucket = match bucket.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("minute") => Bucket::Minute,
                None | Some("hour") => Bucket::Hour,
                Some("day") => Bucket::Day,
                Some(_) => return Err(ApiError::bad("bucket", "must be minute, hour or day")),
            };
            Ok(TrendQuery {
                table: params::table_filter(
                    database.as_deref(),
                    table.as_deref(),
                    "database",
                    "table",
                )?,
                range: range(
                    st,
                    time_range.as_deref(),
                    start_time.as_deref(),
                    end_time.as_deref(),
                )?,
                bucket,
            })
        })()
        .map_err(gql_error)?;
        let points = st.query(move |s| s.trend(&q)).await.map_err(gql_error)?;
        Ok(points
            .iter()
            .map(|p| TrendPoint {
                start: format_iso8601(p.start),
                insert: p.counts.insert,
                update: p.counts.update,
                delete: p.counts.delete,
                total: p.counts.total(),
            })
            .collect())
    }

    /// The changes of one row. `primaryKey` is the key's value; a composite
    /// key joins its values with `,` in key order, escaping `,` and `\`
    /// inside values with `\`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn row_history(
        &self,
        ctx: &Context<'_>,
        database: String,
        table: String,
        primary_key: String,
        operations: Option<Vec<String>>,
        #[graphql(default = 100)] limit: Option<i32>,
        start_time: Option<String>,
        end_time: Option<String>,
        time_range: Option<String>,
        after: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<Vec<Change>> {
        let st = state(ctx)?;
        let q = (|| {
            let mut q = RowHistoryQuery::new(database, table, primary_key);
            q.operations = ops(operations)?;
            q.limit = self::limit(limit)?;
            q.range = range(
                st,
                time_range.as_deref(),
                start_time.as_deref(),
                end_time.as_deref(),
            )?;
            q.cursor = params::cursor("after", after.as_deref())?;
            q.order = params::order("order", order.as_deref())?;
            Ok(q)
        })()
        .map_err(gql_error)?;
        let page = st
            .query(move |s| s.row_history(&q))
            .await
            .map_err(gql_error)?;
        Ok(page.items.iter().map(Change::stored).collect())
    }

    /// Changes of one column (UPDATEs that changed it, INSERTs and DELETEs
    /// that carry it) with its old and new value.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn column_changes(
        &self,
        ctx: &Context<'_>,
        database: String,
        table: String,
        column: String,
        #[graphql(default = 100)] limit: Option<i32>,
        start_time: Option<String>,
        end_time: Option<String>,
        time_range: Option<String>,
        after: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<Vec<ColumnValueChange>> {
        let st = state(ctx)?;
        let q = (|| {
            let mut q = ColumnChangesQuery::new(database, table, column.clone());
            q.limit = self::limit(limit)?;
            q.range = range(
                st,
                time_range.as_deref(),
                start_time.as_deref(),
                end_time.as_deref(),
            )?;
            q.cursor = params::cursor("after", after.as_deref())?;
            q.order = params::order("order", order.as_deref())?;
            Ok(q)
        })()
        .map_err(gql_error)?;
        let page = st
            .query(move |s| s.column_changes(&q))
            .await
            .map_err(gql_error)?;
        Ok(page
            .items
            .into_iter()
            .map(|i| ColumnValueChange {
                id: i.id,
                cursor: i.seq.to_string(),
                timestamp: format_iso8601(i.timestamp),
                operation: i.operation.as_str().into(),
                primary_key: json_map(&i.primary_key),
                column: column.clone(),
                old_value: i.old.map(JsonValue),
                new_value: i.new.map(JsonValue),
            })
            .collect())
    }

    /// Full-text search over stored values, newest first. All words must
    /// match; a word may end in `*` for a prefix.
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        database: Option<String>,
        table: Option<String>,
        #[graphql(default = 100)] limit: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Vec<Change>> {
        let st = state(ctx)?;
        let q = (|| {
            if text.trim().is_empty() {
                return Err(ApiError::bad("text", "no words to search for"));
            }
            Ok(SearchQuery {
                text,
                table: params::table_filter(
                    database.as_deref(),
                    table.as_deref(),
                    "database",
                    "table",
                )?,
                cursor: params::cursor("after", after.as_deref())?,
                limit: self::limit(limit)?,
            })
        })()
        .map_err(gql_error)?;
        let page = st.query(move |s| s.search(&q)).await.map_err(gql_error)?;
        Ok(page.items.iter().map(Change::stored).collect())
    }

    /// Changes tagged by a `track: true` rule.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn tagged_changes(
        &self,
        ctx: &Context<'_>,
        rule: String,
        database: Option<String>,
        table: Option<String>,
        #[graphql(default = 100)] limit: Option<i32>,
        start_time: Option<String>,
        end_time: Option<String>,
        time_range: Option<String>,
        after: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<Vec<Change>> {
        let st = state(ctx)?;
        let q = (|| {
            Ok(TaggedQuery {
                rule,
                table: params::table_filter(
                    database.as_deref(),
                    table.as_deref(),
                    "database",
                    "table",
                )?,
                range: range(
                    st,
                    time_range.as_deref(),
                    start_time.as_deref(),
                    end_time.as_deref(),
                )?,
                order: params::order("order", order.as_deref())?,
                cursor: params::cursor("after", after.as_deref())?,
                limit: self::limit(limit)?,
            })
        })()
        .map_err(gql_error)?;
        let page = st.query(move |s| s.tagged(&q)).await.map_err(gql_error)?;
        Ok(page.items.iter().map(Change::stored).collect())
    }

    /// Stored alerts, newest first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list_cost(limit, child_complexity)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        database: Option<String>,
        table: Option<String>,
        name: Option<String>,
        #[graphql(default = 100)] limit: Option<i32>,
        start_time: Option<String>,
        end_time: Option<String>,
        time_range: Option<String>,
        after: Option<String>,
    ) -> async_graphql::Result<Vec<AlertObject>> {
        let st = state(ctx)?;
        let q = (|| {
            Ok(AlertQuery {
                range: range(
                    st,
                    time_range.as_deref(),
                    start_time.as_deref(),
                    end_time.as_deref(),
                )?,
                table: params::table_filter(
                    database.as_deref(),
                    table.as_deref(),
                    "database",
                    "table",
                )?,
                name,
                cursor: params::cursor("after", after.as_deref())?,
                limit: self::limit(limit)?,
            })
        })()
        .map_err(gql_error)?;
        let page = st.query(move |s| s.alerts(&q)).await.map_err(gql_error)?;
        Ok(page
            .items
            .into_iter()
            .map(|a| AlertObject {
                id: a.id,
                cursor: a.id.to_string(),
                kind: a.alert.kind,
                name: a.alert.name,
                priority: a.alert.priority,
                timestamp: format_iso8601(a.alert.timestamp),
                database: a.alert.database,
                table: a.alert.table,
                change_id: a.alert.change.map(|k| k.id()),
                message: a.alert.message,
                details: JsonValue(a.alert.details),
            })
            .collect())
    }

    /// A row as it was at `at` (default: now), rebuilt from its history.
    async fn row_as_of(
        &self,
        ctx: &Context<'_>,
        database: String,
        table: String,
        primary_key: String,
        at: Option<String>,
    ) -> async_graphql::Result<RowState> {
        let st = state(ctx)?;
        let at = match at.as_deref() {
            Some(t) => params::time("at", t, false).map_err(gql_error)?,
            None => st.now(),
        };
        let r = st
            .query(move |s| {
                let probe = RowHistoryQuery {
                    limit: 1,
                    ..RowHistoryQuery::new(database.clone(), table.clone(), "")
                };
                s.row_history(&probe)?;
                s.row_as_of(&database, &table, &primary_key, at)
            })
            .await
            .map_err(gql_error)?;
        Ok(RowState {
            at: format_iso8601(at),
            exists: r.exists,
            row: r.row.as_ref().map(json_map),
            changes_applied: r.changes_applied as u64,
            last_change: r.last_change.as_ref().map(Change::stored),
        })
    }

    /// One change by id (`mysql-bin.000001:1234:0`).
    async fn change(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<Change>> {
        let st = state(ctx)?;
        let key = crate::rest::parse_change_id(&id).ok_or_else(|| {
            gql_error(ApiError::bad(
                "id",
                "a change id looks like mysql-bin.000001:1234:0",
            ))
        })?;
        let found = st
            .query(move |s| s.change_by_key(&key))
            .await
            .map_err(gql_error)?;
        Ok(found.as_ref().map(Change::stored))
    }

    /// The same document as `GET /api/status`.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<JsonValue> {
        let st = state(ctx)?;
        crate::status::document(st)
            .await
            .map(JsonValue)
            .map_err(gql_error)
    }
}

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Changes as they are committed, optionally for one database/table
    /// and some operations. A subscriber too slow to keep up misses
    /// changes rather than slowing ingest.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        database: Option<String>,
        table: Option<String>,
        operations: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = Change>> {
        let st = state(ctx)?;
        let filter = LiveFilter {
            database,
            table,
            operations: ops(operations).map_err(gql_error)?,
        };
        Ok(BroadcastStream::new(st.live.subscribe())
            .filter_map(move |r| {
                let item = match r {
                    Ok(c) if filter.accepts(&c) => Some(Change::from_record(&c, None)),
                    _ => None,
                };
                std::future::ready(item)
            })
            .take_until(st.shutting_down()))
    }

    /// Alerts as they are raised.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = JsonValue>> {
        let st = state(ctx)?;
        Ok(BroadcastStream::new(st.alerts.subscribe())
            .filter_map(|r| {
                std::future::ready(
                    r.ok()
                        .map(|a: Arc<store::Alert>| JsonValue(shape::alert_body(&a))),
                )
            })
            .take_until(st.shutting_down()))
    }
}
