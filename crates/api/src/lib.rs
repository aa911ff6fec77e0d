//! # api — the query surface over a store
//!
//! One axum [`Router`] serves:
//!
//! - **REST** under `/api` (the seed's routes and the rest of what its
//!   Python `QueryService` offers), described by the OpenAPI document at
//!   `/api/openapi.json` and the readable page at `/api`;
//! - **GraphQL** at `/graphql` (POST; GET is the offline GraphiQL page),
//!   subscriptions over WebSocket at `/graphql/ws`; queries nest at most
//!   16 deep and cost at most `graphql::MAX_COMPLEXITY` (a list's fields
//!   count once per row it may return);
//! - the **live stream** of changes and alerts at `/api/stream` (SSE);
//! - **Prometheus** exposition at `/metrics`, fed by [`Metrics`];
//! - `/health`, and the embedded web UI at `/` ([`ui`]).
//!
//! ## Wiring it (what `binlog-analyzer run` / `serve` do)
//! ```no_run
//! # async fn wire(store: std::sync::Arc<dyn store::QueryStore>, cfg: pipeline::Config) -> std::io::Result<()> {
//! let state = api::AppState::new(store, api::ApiSettings::from_config(&cfg.api));
//! // Ingest side: publish each committed record, alerts, status and metrics.
//! // After each committed batch: state.publish_changes(&batch.records),
//! // state.publish_alert(&alert), state.metrics.batch_rows(&batch.records).
//! let status = state.status.clone(); // status.send_modify(|s| s.lag_seconds = Some(0.0));
//! let metrics = state.metrics.clone(); // metrics.lag_seconds.set(0.0); metrics.events("QUERY", 1);
//! let listener = api::bind(&cfg.api.listen).await?;
//! api::serve_on(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! ## Access
//! When a token is configured every route requires `Authorization: Bearer
//! <token>` (or `?access_token=<token>`, for `EventSource`/WebSocket clients
//! that cannot set headers), except `/health` (liveness, reveals nothing)
//! and GET requests for static files outside `/api`, `/graphql` and
//! `/metrics` (the UI's HTML/JS/CSS and `/graphql/assets/`, which hold no
//! data). CORS is off unless origins are configured.
//!
//! Store calls are synchronous; handlers run them with `spawn_blocking`.

mod auth;
mod docs;
mod error;
mod graphiql;
mod graphql;
mod metrics;
mod params;
mod rest;
mod shape;
mod status;
mod stream;
mod time;
pub mod ui;

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use pipeline::config::ApiConfig;
use pipeline::record::ChangeRecord;
use store::QueryStore;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

pub use error::ApiError;
pub use graphql::{build_schema, ApiSchema};
pub use metrics::{Counter, Gauge, Histogram, Metrics};
pub use status::{PipelineStatus, StoreWrites};
pub use time::{format_iso8601, parse_time};

/// How many live items a slow subscriber may fall behind before it is told
/// it missed some (`lagged`), rather than slowing ingest down.
pub const LIVE_CAPACITY: usize = 4096;

/// Access settings of the HTTP server.
#[derive(Clone, Default)]
pub struct ApiSettings {
    /// Bearer token required on every protected route when set.
    pub token: Option<String>,
    /// Origins allowed by CORS (`*` for any); empty: CORS off.
    pub cors_origins: Vec<String>,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("cors_origins", &self.cors_origins)
            .finish()
    }
}

impl ApiSettings {
    /// From the `api:` config section (the token may come from
    /// `BINLOG_ANALYZER_API_TOKEN`; the config loader already applied it).
    /// An empty token means none.
    pub fn from_config(api: &ApiConfig) -> ApiSettings {
        ApiSettings {
            token: api
                .token
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| t.expose().to_string()),
            cors_origins: api.cors_origins.clone(),
        }
    }
}

/// Seconds since the epoch, replaceable so relative ranges (`7d`) can be
/// tested against fixed data.
pub type Clock = Arc<dyn Fn() -> u32 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
            .unwrap_or(0)
    })
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn QueryStore>,
    /// Committed change records, for SSE and GraphQL subscriptions. Send
    /// after the batch is committed; a send error only means no listener.
    pub live: broadcast::Sender<Arc<ChangeRecord>>,
    /// Alerts as they are raised (rule and threshold alerts), for the same
    /// consumers.
    pub alerts: broadcast::Sender<Arc<store::Alert>>,
    /// What the ingest side reports; `serve` leaves the default.
    pub status: Arc<watch::Sender<PipelineStatus>>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<ApiSettings>,
    pub clock: Clock,
    /// Set once the server shuts down, so long-lived streams end.
    shutdown: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Arc<dyn QueryStore>, settings: ApiSettings) -> AppState {
        AppState {
            store,
            live: broadcast::channel(LIVE_CAPACITY).0,
            alerts: broadcast::channel(LIVE_CAPACITY).0,
            status: Arc::new(watch::channel(PipelineStatus::default()).0),
            metrics: Arc::new(Metrics::new()),
            settings: Arc::new(settings),
            clock: system_clock(),
            shutdown: Arc::new(watch::channel(false).0),
        }
    }

    /// Publishes committed records to live subscribers (SSE, GraphQL);
    /// call after the batch is committed. Costs nothing without listeners.
    pub fn publish_changes(&self, records: &[ChangeRecord]) {
        if self.live.receiver_count() == 0 {
            return;
        }
        for r in records {
            let _ = self.live.send(Arc::new(r.clone()));
        }
    }

    /// Publishes a raised alert to live subscribers.
    pub fn publish_alert(&self, alert: &store::Alert) {
        if self.alerts.receiver_count() > 0 {
            let _ = self.alerts.send(Arc::new(alert.clone()));
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> AppState {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> u32 {
        (self.clock)()
    }

    /// Ends live streams and subscriptions (done by [`serve_on`] when its
    /// shutdown future completes).
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once [`AppState::begin_shutdown`] was called.
    pub(crate) fn shutting_down(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// Runs a store query off the async workers (store calls block).
    pub(crate) async fn query<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn QueryStore) -> store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(result) => result.map_err(ApiError::from),
            Err(e) => Err(ApiError::Internal(format!("store task failed: {e}"))),
        }
    }
}

/// The whole application: REST, GraphQL, stream, metrics, health, UI, with
/// authentication and (when configured) CORS.
pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    let app = Router::new()
        .merge(rest::routes())
        .merge(docs::routes())
        .merge(stream::routes())
        .merge(graphql::routes(schema))
        .merge(graphiql::routes())
        .route("/metrics", get(metrics::handler))
        .route("/health", get(health))
        .merge(ui::routes())
        .fallback(not_found);
    let app = app
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .with_state(state.clone());
    // Outermost, so preflight requests are answered without a token.
    match auth::cors_layer(&state.settings.cors_origins) {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

/// Binds the listen address (`host:port`) with a readable error.
pub async fn bind(listen: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")))
}

/// How long open connections (SSE, WebSocket) get to close after shutdown
/// before the server stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves until `shutdown` completes, then ends live streams and stops
/// within [`SHUTDOWN_GRACE`].
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let signal_state = state.clone();
    let graceful = async move {
        shutdown.await;
        signal_state.begin_shutdown();
        let _ = stopped_tx.send(());
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let deadline = async move {
        let _ = stopped_rx.await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = server.into_future() => r,
        _ = deadline => Ok(()),
    }
}

/// [`bind`] then [`serve_on`].
pub async fn serve(
    listen: &str,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = bind(listen).await?;
    serve_on(listener, state, shutdown).await
}
