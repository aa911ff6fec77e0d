//! Errors as HTTP responses: `{"error": "...", "parameter": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a request parameter is missing, malformed or out of range.
    #[error("{parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    /// 404: unknown table, record or route.
    #[error("{0}")]
    NotFound(String),
    /// 401: a token is configured and the request did not carry it.
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// 500: the store failed.
    #[error("store: {0}")]
    Store(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The request parameter at fault, for 400s.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            ApiError::BadParameter { parameter, .. } => Some(parameter),
            _ => None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownTable { database, table } => {
                ApiError::NotFound(format!("unknown table {database}.{table}"))
            }
            // Our handlers validate first, so these are rare; the store's
            // names map onto the request's where they differ.
            StoreError::InvalidArgument { param, message } => {
                let parameter = match param {
                    "time range" => "start_time",
                    other => other,
                };
                ApiError::bad(parameter, message)
            }
            StoreError::InStore { source, .. } => ApiError::from(*source),
            other => ApiError::Store(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::BadParameter { parameter, message } => {
                json!({"error": format!("invalid {parameter}: {message}"), "parameter": parameter})
            }
            other => json!({"error": other.to_string()}),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"binlog-analyzer\""),
            );
        }
        response
    }
}
