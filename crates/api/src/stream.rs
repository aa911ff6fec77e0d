//! `GET /api/stream`: committed changes and raised alerts as server-sent
//! events, as they happen.
//!
//! Events: `change` (data: the change as in `/changes` lists, id: its
//! change id), `alert` (data: the alert as in `/api/alerts`, without a
//! store id), and `lagged` (data: `{"skipped": n}`) when this client fell
//! more than [`crate::LIVE_CAPACITY`] items behind and missed some.
//! Filters: `database`, `table`, `operation` (repeatable or
//! comma-separated); `alerts=false` leaves alerts out.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use pipeline::record::{ChangeRecord, Operation};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::error::ApiError;
use crate::params::Params;
use crate::{shape, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/stream", get(stream))
}

/// Which live items a subscriber wants.
#[derive(Debug, Clone, Default)]
pub struct LiveFilter {
    pub database: Option<String>,
    pub table: Option<String>,
    pub operations: Vec<Operation>,
}

impl LiveFilter {
    pub fn accepts(&self, c: &ChangeRecord) -> bool {
        self.database.as_ref().is_none_or(|d| *d == c.database)
            && self.table.as_ref().is_none_or(|t| *t == c.table)
            && (self.operations.is_empty() || self.operations.contains(&c.operation))
    }

    fn accepts_alert(&self, a: &store::Alert) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| {
            want.is_none() || have.is_none() || want == have
        };
        same(&self.database, &a.database) && same(&self.table, &a.table)
    }
}

enum Item {
    Change(Arc<ChangeRecord>),
    Alert(Arc<store::Alert>),
    Lagged(u64),
}

fn flatten<T>(r: Result<T, BroadcastStreamRecvError>, wrap: fn(T) -> Item) -> Item {
    match r {
        Ok(v) => wrap(v),
        Err(BroadcastStreamRecvError::Lagged(n)) => Item::Lagged(n),
    }
}

async fn stream(
    State(st): State<AppState>,
    p: Params,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    p.allow(&["database", "table", "operation", "alerts"])?;
    let filter = LiveFilter {
        database: p.get("database")?.map(str::to_string),
        table: p.get("table")?.map(str::to_string),
        operations: p.operations()?,
    };
    let with_alerts = match p.get("alerts")? {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(_) => return Err(ApiError::bad("alerts", "must be true or false")),
    };
    let changes = BroadcastStream::new(st.live.subscribe()).map(|r| flatten(r, Item::Change));
    let alerts = if with_alerts {
        BroadcastStream::new(st.alerts.subscribe())
            .map(|r| flatten(r, Item::Alert))
            .boxed()
    } else {
        stream::empty().boxed()
    };
    let events = stream::select(changes, alerts)
        .filter_map(move |item| {
            let event = match item {
                Item::Change(c) if filter.accepts(&c) => Event::default()
                    .event("change")
                    .id(c.id())
                    .json_data(shape::change(&c))
                    .ok(),
                Item::Alert(a) if filter.accepts_alert(&a) => Event::default()
                    .event("alert")
                    .json_data(shape::alert_body(&a))
                    .ok(),
                Item::Lagged(n) => Event::default()
                    .event("lagged")
                    .json_data(serde_json::json!({ "skipped": n }))
                    .ok(),
                _ => None,
            };
            std::future::ready(event.map(Ok))
        })
        // Open streams would otherwise hold a graceful shutdown forever.
        .take_until(st.shutting_down());
    // A first comment so clients (and proxies) see the stream is open.
    let opened = stream::once(std::future::ready(
        Ok(Event::default().comment("connected")),
    ));
    Ok(Sse::new(opened.chain(events)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_without_a_table_pass_table_filters() {
        let f = LiveFilter {
            database: Some("shop".into()),
            table: Some("users".into()),
            operations: vec![],
        };
        let mut a = store::Alert {
            kind: "binlog_lag".into(),
            name: "binlog_lag".into(),
            priority: "high".into(),
            timestamp: 0,
            database: None,
            table: None,
            change: None,
            message: "lag".into(),
            details: serde_json::Value::Null,
        };
        assert!(f.accepts_alert(&a));
        a.database = Some("other".into());
        assert!(!f.accepts_alert(&a));
    }
}
