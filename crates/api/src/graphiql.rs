//! The GraphiQL page (`GET /graphql`) with its scripts vendored from npm
//! (`assets/graphiql/`, see the README there), so it works offline.
//!
//! The assets are stored gzip-compressed and sent as they are to browsers
//! (all accept gzip); other clients get them decompressed.

use std::io::Read;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    gzipped: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/graphiql.min.css.gz"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/react-dom.production.min.js.gz"),
    },
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/graphql/assets/{file}", get(asset))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == file) else {
        return crate::ApiError::NotFound(format!("no asset {file}")).into_response();
    };
    // Versioned by the binary: a day is plenty and survives upgrades.
    let cache = (header::CACHE_CONTROL, "public, max-age=86400");
    if accepts_gzip(&headers) {
        return (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "accept-encoding"),
                cache,
            ],
            a.gzipped,
        )
            .into_response();
    }
    let mut plain = Vec::new();
    match flate2::read::GzDecoder::new(a.gzipped).read_to_end(&mut plain) {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::VARY, "accept-encoding"),
                cache,
            ],
            plain,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("embedded asset {file} is corrupt: {e}"),
        )
            .into_response(),
    }
}

pub fn page() -> Response {
    Html(PAGE).into_response()
}

/// Paths are relative so the page also works behind a path prefix. A
/// token given as `?access_token=` is passed on to queries and the
/// subscription socket.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>binlog-analyzer · GraphiQL</title>
<link rel="stylesheet" href="graphql/assets/graphiql.min.css">
<style>html,body{margin:0;height:100%}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="graphql/assets/react.production.min.js"></script>
<script src="graphql/assets/react-dom.production.min.js"></script>
<script src="graphql/assets/graphiql.min.js"></script>
<script>
(function () {
  var token = new URLSearchParams(location.search).get('access_token');
  var headers = token ? { Authorization: 'Bearer ' + token } : {};
  var ws = new URL('graphql/ws', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) ws.searchParams.set('access_token', token);
  var fetcher = GraphiQL.createFetcher({
    url: new URL('graphql', location.href).toString(),
    subscriptionUrl: ws.toString(),
    headers: headers
  });
  var defaultQuery = [
    '# binlog-analyzer: pick an operation, then run it.',
    '',
    'query Tables {',
    '  tables { database table }',
    '}',
    '',
    'query TableChanges {',
    '  tableChanges(',
    '    database: "ecommerce"',
    '    table: "users"',
    '    operations: ["UPDATE", "DELETE"]',
    '    limit: 50',
    '  ) {',
    '    id',
    '    timestamp',
    '    operation',
    '    primaryKey',
    '    changes {',
    '      column',
    '      oldValue',
    '      newValue',
    '    }',
    '  }',
    '}',
    '',
    'query TableStats {',
    '  tableStats(',
    '    database: "ecommerce"',
    '    table: "orders"',
    '    timeRange: "7d"',
    '  ) {',
    '    totalChanges',
    '    operationCounts {',
    '      operation',
    '      count',
    '    }',
    '    hourlyDistribution {',
    '      hour',
    '      count',
    '    }',
    '  }',
    '}',
    '',
    'subscription LiveChanges {',
    '  changes { id timestamp operation database table primaryKey changes { column oldValue newValue } }',
    '}',
    ''
  ].join('\n');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true
    })
  );
})();
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn gzip_acceptance_honours_q_zero() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn embedded_assets_decompress() {
        for a in ASSETS {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(a.gzipped)
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{}: {e}", a.name));
            assert!(out.len() > 1000, "{}", a.name);
        }
    }
}
