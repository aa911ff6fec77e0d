//! Bearer-token access and CORS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::AppState;

/// Paths whose every request needs the token (when one is configured).
fn protected(method: &Method, path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if path == "/health" || path.starts_with("/graphql/assets/") {
        return false;
    }
    if under("/api") || under("/graphql") || under("/metrics") {
        return true;
    }
    // The embedded UI's static files hold no data; the UI reads everything
    // through /api. Anything but a read is protected all the same.
    !(method == Method::GET || method == Method::HEAD)
}

/// The token from `Authorization: Bearer <t>` or `?access_token=<t>`.
fn presented_token(req: &Request) -> Option<String> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    let query = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v)
}

/// Compares without an early exit, so timing does not reveal how much of
/// a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

pub async fn require_token(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(expected) = st.settings.token.as_ref().filter(|t| !t.is_empty()) {
        if protected(req.method(), req.uri().path()) {
            let ok = presented_token(&req)
                .is_some_and(|t| same_secret(t.as_bytes(), expected.as_bytes()));
            if !ok {
                return ApiError::Unauthorized.into_response();
            }
        }
    }
    next.run(req).await
}

/// `None` when no origin is configured (CORS off: browsers keep to the
/// same origin).
pub fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([
                header::LINK,
                crate::rest::NEXT_CURSOR,
                header::HeaderName::from_static("x-bucket"),
            ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
        assert!(!same_secret(b"a", b""));
        assert!(same_secret(b"", b""));
    }

    #[test]
    fn health_and_static_reads_are_open_data_routes_are_not() {
        assert!(!protected(&Method::GET, "/health"));
        assert!(!protected(&Method::GET, "/"));
        assert!(!protected(&Method::GET, "/app.js"));
        assert!(!protected(&Method::GET, "/graphql/assets/graphiql.min.js"));
        assert!(protected(&Method::POST, "/"));
        assert!(protected(&Method::GET, "/api"));
        assert!(protected(&Method::GET, "/api/tables"));
        assert!(protected(&Method::GET, "/graphql"));
        assert!(protected(&Method::GET, "/graphql/ws"));
        assert!(protected(&Method::GET, "/metrics"));
        assert!(!protected(&Method::GET, "/apidocs.css"));
    }
}
