//! `/api/openapi.json` (hand-written, `openapi.json` beside this file) and
//! `/api`, a readable page generated from it with no outside resources.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value as Json;

use crate::params::Params;
use crate::{ApiError, AppState};

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api", get(page))
}

async fn openapi(p: Params) -> Result<Response, ApiError> {
    p.allow(&[])?;
    Ok(([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response())
}

async fn page(p: Params) -> Result<Response, ApiError> {
    p.allow(&[])?;
    static PAGE: OnceLock<String> = OnceLock::new();
    Ok(Html(PAGE.get_or_init(|| render(OPENAPI)).as_str()).into_response())
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The little Markdown the document uses: paragraphs, `code`, **bold**.
fn inline_md(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            for (j, bit) in esc(part).split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{bit}</strong>");
                } else {
                    out.push_str(bit);
                }
            }
        }
    }
    out
}

fn paragraphs(s: &str) -> String {
    s.split("\n\n")
        .map(|p| format!("<p>{}</p>\n", inline_md(p.trim())))
        .collect()
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Json, v: &'a Json) -> &'a Json {
    match v.get("$ref").and_then(Json::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|ptr| doc.pointer(ptr))
            .unwrap_or(v),
        None => v,
    }
}

fn schema_summary(schema: &Json) -> String {
    if let Some(name) = ref_name(schema) {
        return name.to_string();
    }
    let mut s = match schema.get("type").and_then(Json::as_str) {
        Some("array") => format!(
            "array of {}",
            schema.get("items").map(schema_summary).unwrap_or_default()
        ),
        Some(t) => t.to_string(),
        None => "any".to_string(),
    };
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let _ = write!(s, " ({})", list.join(", ").replace('"', ""));
    }
    if let Some(d) = schema.get("default") {
        let _ = write!(s, ", default {d}");
    }
    s
}

fn ref_name(v: &Json) -> Option<&str> {
    v.get("$ref")?.as_str()?.rsplit('/').next()
}

pub fn render(openapi: &str) -> String {
    let doc: Json = serde_json::from_str(openapi).unwrap_or(Json::Null);
    let title = doc
        .pointer("/info/title")
        .and_then(Json::as_str)
        .unwrap_or("API");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main>\
         <h1>{t}</h1><p class=\"links\"><a href=\"api/openapi.json\">openapi.json</a> · \
         <a href=\"graphql\">GraphiQL</a> · <a href=\"graphql/schema.graphql\">GraphQL schema</a> · \
         <a href=\"metrics\">metrics</a></p>",
        t = esc(title)
    );
    if let Some(d) = doc.pointer("/info/description").and_then(Json::as_str) {
        out.push_str(&paragraphs(d));
    }
    let Some(paths) = doc.get("paths").and_then(Json::as_object) else {
        return out;
    };
    out.push_str("<h2>Routes</h2><ul class=\"toc\">");
    for (path, item) in paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let summary = op.get("summary").and_then(Json::as_str).unwrap_or("");
            let _ = write!(
                out,
                "<li><a href=\"#{id}\"><span class=\"m\">{m}</span> {p}</a> — {s}</li>",
                id = esc(&anchor(method, path)),
                m = method.to_uppercase(),
                p = esc(path),
                s = esc(summary)
            );
        }
    }
    out.push_str("</ul>");
    for (path, item) in paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            render_operation(&mut out, &doc, path, method, op);
        }
    }
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Json::as_object) {
        out.push_str("<h2>Objects</h2>");
        for (name, schema) in schemas {
            let _ = write!(
                out,
                "<section id=\"schema-{n}\"><h3>{n}</h3>",
                n = esc(name)
            );
            if let Some(props) = schema.get("properties").and_then(Json::as_object) {
                out.push_str("<table><tr><th>field</th><th>type</th><th>about</th></tr>");
                for (field, s) in props {
                    let about = resolve(&doc, s)
                        .get("description")
                        .and_then(Json::as_str)
                        .unwrap_or("");
                    let nullable = if s.get("nullable") == Some(&Json::Bool(true)) {
                        " or null"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}{}</td><td>{}</td></tr>",
                        esc(field),
                        esc(&schema_summary(s)),
                        nullable,
                        inline_md(about)
                    );
                }
                out.push_str("</table>");
            }
            out.push_str("</section>");
        }
    }
    out.push_str("</main></body></html>\n");
    out
}

fn anchor(method: &str, path: &str) -> String {
    let mut a = format!("{method}-");
    a.extend(
        path.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }),
    );
    a
}

fn render_operation(out: &mut String, doc: &Json, path: &str, method: &str, op: &Json) {
    let _ = write!(
        out,
        "<section class=\"op\" id=\"{id}\"><h3><span class=\"m\">{m}</span> <code>{p}</code></h3>",
        id = esc(&anchor(method, path)),
        m = method.to_uppercase(),
        p = esc(path)
    );
    if let Some(s) = op.get("summary").and_then(Json::as_str) {
        let _ = write!(out, "<p class=\"summary\">{}</p>", inline_md(s));
    }
    if let Some(d) = op.get("description").and_then(Json::as_str) {
        out.push_str(&paragraphs(d));
    }
    let params: Vec<&Json> = op
        .get("parameters")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .collect();
    if !params.is_empty() {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>about</th></tr>");
        for p in params {
            let name = p.get("name").and_then(Json::as_str).unwrap_or("");
            let required = p.get("required") == Some(&Json::Bool(true));
            let mut about = inline_md(p.get("description").and_then(Json::as_str).unwrap_or(""));
            if let Some(ex) = p.get("example") {
                let ex = ex
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| ex.to_string());
                let _ = write!(
                    about,
                    " <span class=\"ex\">e.g. <code>{}</code></span>",
                    esc(&ex)
                );
            }
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(name),
                if required { " <em>required</em>" } else { "" },
                esc(p.get("in").and_then(Json::as_str).unwrap_or("")),
                esc(&p.get("schema").map(schema_summary).unwrap_or_default()),
                about
            );
        }
        out.push_str("</table>");
    }
    if let Some(responses) = op.get("responses").and_then(Json::as_object) {
        out.push_str("<ul class=\"responses\">");
        for (code, r) in responses {
            let named = ref_name(r);
            let r = resolve(doc, r);
            let desc = r.get("description").and_then(Json::as_str).unwrap_or("");
            let _ = write!(
                out,
                "<li><strong>{}</strong> {}",
                esc(code),
                inline_md(desc)
            );
            let content = r.get("content").and_then(Json::as_object);
            for (media, body) in content.into_iter().flatten() {
                let schema = body.get("schema").map(|s| {
                    let text = esc(&schema_summary(s));
                    match s.get("items").and_then(ref_name).or_else(|| ref_name(s)) {
                        Some(n) => text
                            .replace(&esc(n), &format!("<a href=\"#schema-{0}\">{0}</a>", esc(n))),
                        None => text,
                    }
                });
                if named.is_none() || code.starts_with('2') {
                    let _ = write!(
                        out,
                        " — <code>{}</code>{}",
                        esc(media),
                        schema.map(|s| format!(": {s}")).unwrap_or_default()
                    );
                }
                if let Some(ex) = body.get("example") {
                    let text = match ex {
                        Json::String(s) => s.clone(),
                        other => serde_json::to_string_pretty(other).unwrap_or_default(),
                    };
                    let _ = write!(out, "<pre>{}</pre>", esc(&text));
                }
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

const STYLE: &str = "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;background:#f6f8fa;margin:0}\
main{max-width:980px;margin:0 auto;padding:24px 32px;background:#fff;min-height:100vh}\
h1{margin-top:0}h2{border-bottom:1px solid #d8dee4;padding-bottom:4px;margin-top:40px}\
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef1f4;padding:1px 4px;border-radius:4px}\
pre{font:12.5px ui-monospace,Menlo,monospace;background:#0f1722;color:#dce3ea;padding:10px 12px;border-radius:6px;overflow:auto}\
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #e5e9ee;padding:5px 8px}\
th{font-weight:600;color:#57606a;font-size:13px}.m{display:inline-block;min-width:44px;font:600 12px ui-monospace,monospace;\
color:#fff;background:#1f6feb;border-radius:4px;padding:2px 6px;text-align:center}\
.op{border:1px solid #d8dee4;border-radius:8px;padding:4px 16px 8px;margin:18px 0}.summary{font-weight:600}\
.toc{columns:2;font-size:14px}.toc a{text-decoration:none;color:#0b4fa8}.ex{color:#57606a}em{color:#b3261e;font-style:normal;font-size:12px}\
.links a{color:#0b4fa8}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_is_valid_json_with_the_seed_routes() {
        let doc: Json = serde_json::from_str(OPENAPI).expect("openapi.json parses");
        assert_eq!(doc["openapi"], "3.0.3");
        for path in [
            "/api/tables/{database}/{table}/stats",
            "/api/tables/{database}/{table}/changes",
            "/api/records/{database}/{table}/{primary_key}/history",
        ] {
            assert!(doc["paths"][path]["get"].is_object(), "{path}");
        }
    }

    #[test]
    fn every_local_reference_resolves() {
        let doc: Json = serde_json::from_str(OPENAPI).unwrap();
        fn walk(doc: &Json, v: &Json) {
            match v {
                Json::Object(m) => {
                    if let Some(Json::String(r)) = m.get("$ref") {
                        let ptr = r.strip_prefix('#').expect("local ref");
                        assert!(doc.pointer(ptr).is_some(), "dangling {r}");
                    }
                    m.values().for_each(|x| walk(doc, x));
                }
                Json::Array(a) => a.iter().for_each(|x| walk(doc, x)),
                _ => {}
            }
        }
        walk(&doc, &doc);
    }

    #[test]
    fn page_lists_every_route_and_escapes_text() {
        let html = render(OPENAPI);
        assert!(html.contains("<code>/api/tables/{database}/{table}/stats</code>"));
        assert!(html.contains("X-Next-Cursor"));
        assert!(!html.contains("<script"));
        assert!(html.contains("12,x\\,y"));
    }
}
