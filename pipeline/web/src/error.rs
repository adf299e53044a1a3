//! What an HTTP caller is told when a request fails. A caller gets a status and a short message
//! with a bounded `kind`; the detail (a store error's text can hold SQL, paths and server names)
//! goes to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use haoqi_store::StoreError;

/// The `Retry-After` a request turned away (busy, timed out) is given.
pub const RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong; the message says what to send instead.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Enough requests already wait on the store; this one is turned away, to come back.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    /// The store took longer than a request may.
    #[error("timed out")]
    TimedOut,
}

impl ApiError {
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Store(e) => e.kind(),
            ApiError::Busy { .. } => "busy",
            ApiError::TimedOut => "timed_out",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Busy { .. } | ApiError::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            // The engine away, busy or locked: worth retrying later.
            ApiError::Store(
                StoreError::Unavailable(_) | StoreError::Locked { .. } | StoreError::Io { .. },
            ) => StatusCode::SERVICE_UNAVAILABLE,
            // A query that fails or an answer that cannot be read is haoqi's fault.
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::BadRequest(m) => m.clone(),
            ApiError::Busy { .. } => "the server is busy; try again shortly".into(),
            ApiError::TimedOut => "the store took too long to answer; try again shortly".into(),
            ApiError::Store(StoreError::Unavailable(_) | StoreError::Locked { .. }) => {
                "the store is unavailable; try again shortly".into()
            }
            ApiError::Store(_) => {
                "the store could not answer; the server log has the detail".into()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Store(e) = &self {
            tracing::warn!(kind = e.kind(), error = %e, "API request failed in the store");
        }
        let body = serde_json::json!({ "error": self.public_message(), "kind": self.kind() });
        let retry = match &self {
            ApiError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ApiError::TimedOut => Some(RETRY_AFTER_SECS),
            _ => None,
        };
        match retry {
            Some(secs) => (status, [("retry-after", secs.to_string())], Json(body)).into_response(),
            None => (status, Json(body)).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: ApiError) -> (StatusCode, serde_json::Value) {
        let r = e.into_response();
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn a_store_error_is_told_by_kind_not_by_its_text() {
        let secret = "Code: 60. DB::Exception: Table haoqi_prod.readings at ch-7.internal";
        let (status, b) = body(ApiError::Store(StoreError::Query {
            code: 60,
            message: secret.into(),
        }))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(b["kind"], "query");
        assert!(!b.to_string().contains("ch-7.internal"), "{b}");

        let (status, b) = body(ApiError::Store(StoreError::Unavailable(secret.into()))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(b["kind"], "unavailable");
        assert!(!b.to_string().contains("haoqi_prod"), "{b}");
    }

    #[tokio::test]
    async fn a_bad_request_says_what_was_wrong() {
        let (status, b) = body(ApiError::BadRequest("unknown key x".into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(b["error"], "unknown key x");
        assert_eq!(b["kind"], "bad_request");
    }
}
