//! What the ingest side reports (position, lag, throughput, store writes)
//! and the `/api/status` document built from it and the store's health.

use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::error::ApiError;
use crate::time::format_iso8601;
use crate::AppState;

/// Published by the pipeline through `AppState::status`
/// (`status.send_modify(|s| ...)`); `serve` keeps the default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineStatus {
    /// `run` (streaming from a source) or `serve` (store only).
    pub mode: String,
    /// Free text for people: `starting`, `streaming`, `caught_up`,
    /// `reconnecting`, `stopped`, `error`, or `idle` when serving.
    pub state: String,
    /// Where changes come from (`host:port`, file names).
    pub source: Option<String>,
    /// Read position: the last event read.
    pub binlog_file: Option<String>,
    pub binlog_pos: Option<u64>,
    /// Executed GTID set at the read position, when known.
    pub gtid_set: Option<String>,
    /// Commit time of the last event read, seconds since the epoch.
    pub last_event_timestamp: Option<u32>,
    /// How far behind the source we are; 0 when caught up.
    pub lag_seconds: Option<f64>,
    pub events_per_second: f64,
    pub rows_per_second: f64,
    pub events_total: u64,
    pub rows_total: u64,
    /// Seconds since the epoch.
    pub started_at: Option<u32>,
    pub last_error: Option<String>,
    /// Write statistics per store (primary first), from `MultiStore::status`.
    pub stores: Vec<StoreWrites>,
}

impl Default for PipelineStatus {
    fn default() -> Self {
        PipelineStatus {
            mode: "serve".into(),
            state: "idle".into(),
            source: None,
            binlog_file: None,
            binlog_pos: None,
            gtid_set: None,
            last_event_timestamp: None,
            lag_seconds: None,
            events_per_second: 0.0,
            rows_per_second: 0.0,
            events_total: 0,
            rows_total: 0,
            started_at: None,
            last_error: None,
            stores: Vec::new(),
        }
    }
}

/// One store's write statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreWrites {
    pub name: String,
    pub batches: u64,
    pub inserted: u64,
    pub skipped: u64,
    pub failures: u64,
    /// Seconds since the epoch.
    pub last_write: Option<u32>,
    pub last_latency_ms: Option<f64>,
    pub last_error: Option<String>,
}

impl From<&store::StoreStatus> for StoreWrites {
    fn from(s: &store::StoreStatus) -> Self {
        StoreWrites {
            name: s.name.clone(),
            batches: s.batches,
            inserted: s.inserted,
            skipped: s.skipped,
            failures: s.failures,
            last_write: s.last_write.and_then(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| u32::try_from(d.as_secs()).ok())
            }),
            last_latency_ms: s.last_latency.map(|d| d.as_secs_f64() * 1000.0),
            last_error: s.last_error.clone(),
        }
    }
}

/// The `/api/status` document (also GraphQL `status`).
pub async fn document(state: &AppState) -> Result<Json, ApiError> {
    let pipeline = state.status.borrow().clone();
    let (health, checkpoint) = state
        .query(|s| {
            let health = s.health();
            // Serving without ingest: the position is the store's.
            let checkpoint = s.checkpoint().ok().flatten();
            Ok((health, checkpoint))
        })
        .await?;
    let now = state.now();
    let position = match (&pipeline.binlog_file, pipeline.binlog_pos) {
        (Some(file), Some(pos)) => json!({
            "binlog_file": file,
            "binlog_pos": pos,
            "gtid_set": pipeline.gtid_set,
            "source": "reader",
        }),
        _ => match &checkpoint {
            Some(cp) => json!({
                "binlog_file": cp.binlog_file,
                "binlog_pos": cp.binlog_pos,
                "gtid_set": cp.gtid_set,
                "source": "store checkpoint",
            }),
            None => Json::Null,
        },
    };
    let writes_for = |name: &str| {
        pipeline
            .stores
            .iter()
            .find(|w| w.name == name)
            .map(|w| json!(w))
    };
    let mut stores = vec![json!({
        "name": health.name,
        "backend": health.backend,
        "ok": health.ok,
        "error": health.error,
        "checkpoint": health.checkpoint,
        "changes": health.changes,
        "size_bytes": health.size_bytes,
        "search_backlog": health.search_backlog,
        "writes": writes_for(&health.name),
    })];
    // Backups are written by the pipeline but not queried: writes only.
    for w in pipeline.stores.iter().filter(|w| w.name != health.name) {
        stores.push(json!({
            "name": w.name,
            "ok": w.last_error.is_none(),
            "error": w.last_error,
            "writes": w,
        }));
    }
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "now": format_iso8601(now),
        "mode": pipeline.mode,
        "state": pipeline.state,
        "source": pipeline.source,
        "position": position,
        "last_event_time": pipeline.last_event_timestamp.map(format_iso8601),
        "lag_seconds": pipeline.lag_seconds,
        "events_per_second": pipeline.events_per_second,
        "rows_per_second": pipeline.rows_per_second,
        "events_total": pipeline.events_total,
        "rows_total": pipeline.rows_total,
        "started_at": pipeline.started_at.map(format_iso8601),
        "uptime_seconds": pipeline.started_at.map(|s| now.saturating_sub(s)),
        "last_error": pipeline.last_error,
        "stores": stores,
        "live_subscribers": state.live.receiver_count(),
    }))
}
