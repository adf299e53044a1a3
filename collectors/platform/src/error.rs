//! Why a poll produced no reading. Every kind is bounded (for metrics and alerts) and says
//! whether trying again later can help.

use std::time::Duration;

use serde::Serialize;

/// The most of a body kept for the operator when a layout changed.
pub const EXCERPT_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FetchError {
    /// HTTP 429/412, Bilibili -412/-799, Kuaishou `result: 2`: slow down.
    #[error("rate limited ({reason}){}", .retry_after_secs.map(|s| format!(", retry after {s} s")).unwrap_or_default())]
    RateLimited {
        retry_after_secs: Option<u64>,
        reason: String,
    },
    /// A captcha or verification page, Bilibili -352/-401 with `v_voucher`, Douyin's empty
    /// 200 or `blocked`: the platform refuses us; haoqi does not try to get around it.
    #[error("blocked by the platform ({reason})")]
    Blocked { reason: String },
    /// The request needs a login (Kuaishou 109, GraphQL "No Login", Bilibili -101).
    #[error("login required ({reason})")]
    LoginRequired { reason: String },
    /// The account does not exist (deleted), Bilibili -404.
    #[error("account not found ({reason})")]
    NotFound { reason: String },
    /// The response is not what the parser knows: the platform changed its format. The start
    /// of the body is kept for whoever updates the parser.
    #[error("layout changed: {reason}")]
    LayoutChanged { reason: String, excerpt: String },
    /// The request did not complete (connection, timeout, 5xx, body too large).
    #[error("transport: {reason}")]
    Transport { reason: String },
}

impl FetchError {
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Blocked { .. } => "blocked",
            FetchError::LoginRequired { .. } => "login_required",
            FetchError::NotFound { .. } => "not_found",
            FetchError::LayoutChanged { .. } => "layout_changed",
            FetchError::Transport { .. } => "transport",
        }
    }

    /// Whether the platform's circuit should open (back off the whole platform).
    pub fn opens_circuit(&self) -> bool {
        matches!(
            self,
            FetchError::RateLimited { .. } | FetchError::Blocked { .. }
        )
    }

    pub fn rate_limited(retry_after: Option<Duration>, reason: impl Into<String>) -> Self {
        FetchError::RateLimited {
            retry_after_secs: retry_after.map(|d| d.as_secs()),
            reason: reason.into(),
        }
    }

    pub fn blocked(reason: impl Into<String>) -> Self {
        FetchError::Blocked {
            reason: reason.into(),
        }
    }

    pub fn layout(reason: impl Into<String>, body: &str) -> Self {
        FetchError::LayoutChanged {
            reason: reason.into(),
            excerpt: excerpt(body),
        }
    }
}

/// The first [`EXCERPT_LIMIT`] bytes of a body, cut at a character boundary.
pub(crate) fn excerpt(body: &str) -> String {
    if body.len() <= EXCERPT_LIMIT {
        return body.to_string();
    }
    let mut end = EXCERPT_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_string()
}

/// What every platform's parser does first with an HTTP status.
pub fn check_status(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> Result<(), FetchError> {
    match status {
        200..=299 => Ok(()),
        429 | 412 => Err(FetchError::rate_limited(
            retry_after,
            format!("HTTP {status}"),
        )),
        404 => Err(FetchError::NotFound {
            reason: "HTTP 404".into(),
        }),
        401 | 403 => Err(FetchError::blocked(format!("HTTP {status}"))),
        500..=599 => Err(FetchError::Transport {
            reason: format!("HTTP {status}"),
        }),
        _ => Err(FetchError::layout(
            format!("unexpected HTTP {status}"),
            body,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_capped_at_a_char_boundary() {
        let body = "验".repeat(30_000);
        let e = excerpt(&body);
        assert!(e.len() <= EXCERPT_LIMIT && e.len() > EXCERPT_LIMIT - 3);
    }

    #[test]
    fn statuses() {
        assert!(check_status(200, None, "").is_ok());
        assert_eq!(
            check_status(429, Some(Duration::from_secs(30)), "")
                .unwrap_err()
                .kind(),
            "rate_limited"
        );
        assert_eq!(
            check_status(412, None, "").unwrap_err().kind(),
            "rate_limited"
        );
        assert_eq!(check_status(503, None, "").unwrap_err().kind(), "transport");
    }
}
