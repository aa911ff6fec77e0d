//! The embedded web UI, mounted at `/`.
//!
//! Plain HTML, CSS and JavaScript from `crates/api/ui/`, compiled into the
//! binary (no build step, no network: the chart library, uPlot, is vendored
//! under `ui/vendor/uplot/` with its licence). Pages are chosen by the URL
//! fragment (`#/live`, `#/tables/{db}/{table}`,
//! `#/history/{db}/{table}/{primary_key}`, `#/alerts`, `#/status`), so the
//! server serves one document and a few assets:
//!
//! - `/` (also `/index.html`): the page, never cached, asset URLs carrying
//!   the version (`?v=0.1.0`) so a new binary is never mixed with old assets;
//! - `/ui/...`: the assets, cacheable for a day.
//!
//! The UI reads everything through `/api` (and `/api/stream` for live
//! changes); with a token configured it asks for it once and keeps it for
//! the browser session. A strict Content-Security-Policy allows only this
//! origin's scripts and connections.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

const INDEX_HTML: &str = include_str!("../ui/index.html");

/// Assets under `/ui/`: path, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../ui/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../ui/app.css"),
    ),
    (
        "vendor/uplot/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../ui/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "vendor/uplot/uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../ui/vendor/uplot/uPlot.min.css"),
    ),
    (
        "vendor/uplot/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../ui/vendor/uplot/LICENSE"),
    ),
];

/// Scripts, styles and connections from this origin only; inline styles
/// are allowed because the chart library sizes its elements with them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'self'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/ui/{*path}", get(asset))
}

/// The page with asset URLs tagged by the crate version.
fn index_html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| INDEX_HTML.replace("{{VERSION}}", env!("CARGO_PKG_VERSION")))
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        index_html(),
    )
        .into_response()
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, bytes)) => {
            let mut response = (*bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "error": format!("no UI asset {path}") }).to_string(),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_references_only_embedded_assets() {
        let page = index_html();
        assert!(!page.contains("{{VERSION}}"));
        // Every local src/href of the page is served; nothing leaves the
        // origin (the UI must work offline).
        for attr in ["src=\"", "href=\""] {
            for (i, _) in page.match_indices(attr) {
                let rest = &page[i + attr.len()..];
                let url = &rest[..rest.find('"').unwrap_or(0)];
                if url.starts_with('#') || url.starts_with("data:") || url == "/api" {
                    continue;
                }
                assert!(!url.contains("//"), "external reference {url}");
                let path = url.split('?').next().unwrap_or_default();
                let asset = path.strip_prefix("/ui/").unwrap_or_else(|| panic!("{url}"));
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == asset),
                    "{url} is not embedded"
                );
            }
        }
    }

    #[test]
    fn vendored_chart_library_ships_its_licence() {
        let licence = ASSETS
            .iter()
            .find(|(p, _, _)| *p == "vendor/uplot/LICENSE")
            .map(|(_, _, b)| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        assert!(licence.contains("MIT License"));
    }
}
