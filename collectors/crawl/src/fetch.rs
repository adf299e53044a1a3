//! The shared fetch driver: one HTTP client (timeouts, honest User-Agent with a contact), a
//! body-size cap, `Retry-After`, and a host check so a request only goes to its platform's
//! configured base URL — never to a URL that registry data supplies. Platforms only build
//! requests (the adapters) and decode responses.

use std::time::{Duration, Instant};

use futures::StreamExt;
use url::Url;

use haoqi_platform::FetchError;

/// A request an adapter wants made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub url: Url,
    /// `Some` makes it a POST with this JSON body.
    pub json_body: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The poll can give a reading without this request's answer (an extra endpoint). A
    /// rate-limit or block answer to it still fails the poll.
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: usize,
    /// Names the product and a contact, e.g. `haoqi/0.1 (+mailto:ops@example.org)`.
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 2 * 1024 * 1024,
            user_agent: format!(
                "haoqi/{} (science-communication matrix monitor)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
    pub latency: Duration,
}

#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            // Redirects could lead anywhere; a platform that redirects is answered as is.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Transport {
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Fetcher { client, config })
    }

    /// Makes `req`, which must point at `base`'s scheme, host and port.
    pub async fn fetch(&self, base: &Url, req: &RequestSpec) -> Result<Fetched, FetchError> {
        if req.url.origin() != base.origin() {
            return Err(FetchError::Transport {
                reason: format!(
                    "refusing {}: not the configured host {}",
                    req.url,
                    base.origin().ascii_serialization()
                ),
            });
        }
        let started = Instant::now();
        let mut builder = match &req.json_body {
            Some(body) => self
                .client
                .post(req.url.clone())
                .header("content-type", "application/json;charset=UTF-8")
                .body(body.clone()),
            None => self.client.get(req.url.clone()),
        };
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(resp, self.config.max_body_bytes).await?;
        Ok(Fetched {
            url: req.url.to_string(),
            status,
            retry_after,
            body,
            latency: started.elapsed(),
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn user_agent(&self) -> &str {
        &self.config.user_agent
    }
}

/// A response body as text, refused past `max` bytes.
pub(crate) async fn read_capped(resp: reqwest::Response, max: usize) -> Result<String, FetchError> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        if body.len() + chunk.len() > max {
            return Err(FetchError::Transport {
                reason: format!("body larger than {max} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

pub(crate) fn transport(e: reqwest::Error) -> FetchError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "body interrupted"
    } else {
        "request failed"
    };
    // The error's own text can contain the URL with an account id; the kind is enough here.
    FetchError::Transport {
        reason: what.to_string(),
    }
}
