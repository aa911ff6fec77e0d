//! The bearer token protects every data route (REST, GraphQL, stream,
//! metrics, documents); `/health` and static UI files stay open; CORS is
//! off unless origins are configured.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;

const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/api"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/tables"),
    ("GET", "/api/tables/ecommerce/orders/stats"),
    ("GET", "/api/tables/ecommerce/orders/changes"),
    (
        "GET",
        "/api/tables/ecommerce/orders/column_changes?column=status",
    ),
    ("GET", "/api/tables/ecommerce/orders/diffs"),
    ("GET", "/api/tables/ecommerce/orders/trend"),
    ("GET", "/api/trend"),
    ("GET", "/api/records/ecommerce/orders/1/history"),
    ("GET", "/api/records/ecommerce/orders/1/diffs"),
    ("GET", "/api/records/ecommerce/orders/1/as_of"),
    ("GET", "/api/changes/sample.000001:4271:0"),
    ("GET", "/api/search?q=alice"),
    ("GET", "/api/rules/order_status_change/changes"),
    ("GET", "/api/alerts"),
    ("GET", "/api/status"),
    ("GET", "/api/stream"),
    ("GET", "/api/nosuch"),
    ("GET", "/graphql"),
    ("POST", "/graphql"),
    ("GET", "/graphql/ws"),
    ("GET", "/graphql/schema.graphql"),
    ("GET", "/metrics"),
    ("POST", "/"),
];

fn request(method: &str, uri: &str, auth: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    if method == "POST" {
        b.header("content-type", "application/json")
            .body(Body::from(r#"{"query":"{ tables { table } }"}"#))
            .unwrap()
    } else {
        b.body(Body::empty()).unwrap()
    }
}

/// Status only: the stream route never ends, so bodies are not read.
async fn status_of(app: &axum::Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap) {
    use tower::ServiceExt;
    let r = app.clone().oneshot(req).await.unwrap();
    (r.status(), r.headers().clone())
}

#[tokio::test]
async fn token_is_required_on_every_data_route() {
    let f = fixture_with(api::ApiSettings {
        token: Some(TOKEN.into()),
        cors_origins: vec![],
    });
    for (method, uri) in PROTECTED {
        for bad in [
            None,
            Some("Bearer wrong"),
            Some("Basic czNjcmV0LXRva2Vu"),
            Some("Bearer "),
        ] {
            let (status, headers) = status_of(&f.app, request(method, uri, bad)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {bad:?}"
            );
            assert_eq!(
                headers["www-authenticate"], "Bearer realm=\"binlog-analyzer\"",
                "{method} {uri}"
            );
        }
        let wrong_query = if uri.contains('?') { "&" } else { "?" };
        let (status, _) = status_of(
            &f.app,
            request(
                method,
                &format!("{uri}{wrong_query}access_token=nope"),
                None,
            ),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} ?access_token=nope"
        );

        let (status, _) = status_of(
            &f.app,
            request(method, uri, Some(&format!("Bearer {TOKEN}"))),
        )
        .await;
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with the token"
        );
        // The scheme is case-insensitive.
        let (status, _) = status_of(
            &f.app,
            request(method, uri, Some(&format!("bearer {TOKEN}"))),
        )
        .await;
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with bearer"
        );
        let sep = if uri.contains('?') { "&" } else { "?" };
        let (status, _) = status_of(
            &f.app,
            request(method, &format!("{uri}{sep}access_token={TOKEN}"), None),
        )
        .await;
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} ?access_token"
        );
    }
    // With the token the data is there.
    let r = send(
        &f.app,
        request("GET", "/api/tables", Some(&format!("Bearer {TOKEN}"))),
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 4);
    let r = get(&f.app, "/api/tables").await;
    assert_eq!(r.json()["error"], "missing or wrong bearer token");
}

#[tokio::test]
async fn health_and_static_files_need_no_token() {
    let f = fixture_with(api::ApiSettings {
        token: Some(TOKEN.into()),
        cors_origins: vec![],
    });
    for uri in ["/health", "/", "/graphql/assets/graphiql.min.js"] {
        let (status, _) = status_of(&f.app, request("GET", uri, None)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    assert_eq!(get_ok(&f.app, "/health").await["status"], "ok");
}

#[tokio::test]
async fn without_a_token_everything_is_open() {
    let f = fixture();
    for (method, uri) in PROTECTED {
        let (status, _) = status_of(&f.app, request(method, uri, None)).await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
}

#[tokio::test]
async fn cors_is_off_unless_configured() {
    let preflight = || {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/tables")
            .header("origin", "http://dash.example")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let off = fixture();
    let (_, headers) = status_of(&off.app, preflight()).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    let (_, headers) = status_of(
        &off.app,
        Request::get("/api/tables")
            .header("origin", "http://dash.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());

    let on = fixture_with(api::ApiSettings {
        token: Some(TOKEN.into()),
        cors_origins: vec!["http://dash.example".into()],
    });
    // The preflight is answered without a token (browsers send none).
    let (status, headers) = status_of(&on.app, preflight()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://dash.example"
    );
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let (status, headers) = status_of(
        &on.app,
        Request::get("/api/tables/ecommerce/orders/changes?limit=1")
            .header("origin", "http://dash.example")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://dash.example"
    );
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-next-cursor") && exposed.contains("link"),
        "{exposed}"
    );
    // Other origins get no grant.
    let (_, headers) = status_of(
        &on.app,
        Request::get("/health")
            .header("origin", "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[test]
fn settings_from_config_take_the_token_and_ignore_an_empty_one() {
    let mut cfg = pipeline::config::ApiConfig::default();
    assert!(api::ApiSettings::from_config(&cfg).token.is_none());
    cfg.token = Some(pipeline::config::Secret::new(""));
    assert!(api::ApiSettings::from_config(&cfg).token.is_none());
    cfg.token = Some(pipeline::config::Secret::new("abc"));
    let s = api::ApiSettings::from_config(&cfg);
    assert_eq!(s.token.as_deref(), Some("abc"));
    // The token never shows in debug output.
    assert!(!format!("{s:?}").contains("abc"));
}
