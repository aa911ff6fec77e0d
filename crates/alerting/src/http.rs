//! A minimal HTTP/1.1 client for webhooks: one JSON POST per connection,
//! `http://` or `https://` (rustls with the Mozilla roots), a deadline on
//! the whole exchange. No redirects, proxies or cookies: a webhook URL is
//! called as configured.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::DeliveryError;

/// What the receiver answered.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    /// `Retry-After` in seconds, when given as a number.
    pub retry_after: Option<Duration>,
    /// The start of the body (for error messages).
    pub body: String,
}

/// Bodies of error answers are read up to this size only.
const MAX_BODY: usize = 4096;

/// POSTs `body` as JSON to `url`. A URL that cannot be called is a
/// permanent error; connection failures and timeouts are transient.
pub async fn post_json(
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Response, DeliveryError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("invalid URL: {e}")))?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return Err(DeliveryError::Permanent(
                "expected an http:// or https:// URL".into(),
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| DeliveryError::Permanent("URL has no host".into()))?
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_else(|| host.clone());
    // Userinfo would end up in the Host header; webhooks put secrets in the
    // path instead.
    let authority = authority.rsplit('@').next().unwrap_or_default().to_string();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());

    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(HOST, authority)
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("binlog-analyzer/", env!("CARGO_PKG_VERSION")),
        )
        .header(CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| DeliveryError::Permanent(format!("request: {e}")))?;

    let exchange = async {
        // Brackets of an IPv6 literal are part of `host()`.
        let connect_host = host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((connect_host, port))
            .await
            .map_err(|e| DeliveryError::Transient(format!("connect {host}:{port}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        if tls {
            let name = rustls::pki_types::ServerName::try_from(connect_host.to_string())
                .map_err(|e| DeliveryError::Permanent(format!("TLS server name: {e}")))?;
            let stream = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|e| DeliveryError::Transient(format!("TLS with {host}: {e}")))?;
            send(TokioIo::new(stream), request).await
        } else {
            send(TokioIo::new(tcp), request).await
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(DeliveryError::Transient(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

async fn send<I>(io: I, request: Request<Full<Bytes>>) -> Result<Response, DeliveryError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| DeliveryError::Transient(format!("HTTP handshake: {e}")))?;
    // The connection future drives the socket; it ends with the exchange.
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| DeliveryError::Transient(format!("HTTP request: {e}")))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match Limited::new(response.into_body(), MAX_BODY).collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
            Err(_) => String::new(),
        };
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }
    .await;
    driver.abort();
    result
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, DeliveryError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| DeliveryError::Permanent(format!("TLS setup: {e}")))
}

/// Maps an answer to delivery success or the kind of failure: 2xx is
/// delivered; 408, 425, 429 and 5xx are worth retrying; any other status
/// (a wrong URL, a revoked token) will not get better by retrying.
pub fn classify(response: &Response) -> Result<(), DeliveryError> {
    let status = response.status;
    if status.is_success() {
        return Ok(());
    }
    let snippet: String = response.body.chars().take(200).collect();
    let message = if snippet.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", snippet.trim())
    };
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.as_u16() == 425;
    if retryable {
        match response.retry_after {
            Some(after) => Err(DeliveryError::RetryAfter(message, after)),
            None => Err(DeliveryError::Transient(message)),
        }
    } else {
        Err(DeliveryError::Permanent(message))
    }
}
