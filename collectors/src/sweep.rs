//! One sweep: every target polled once, each platform within its request budget (governor),
//! with a global cap on requests in flight, and every outcome — reading or typed error — sent on
//! a bounded channel to whoever stores them. The scheduler that spreads sweeps over an interval
//! builds on this.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::stream::{self, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::mpsc;

use crate::adapter::Adapter;
use crate::error::FetchError;
use crate::fetch::Fetcher;
use crate::raw::{Decoded, Response};
use crate::Platform;

/// An account to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account_id: String,
    pub platform: Platform,
    pub platform_id: String,
}

/// What one poll of one account gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub target: Target,
    pub started_at: SystemTime,
    pub url: String,
    pub status: Option<u16>,
    pub latency: Duration,
    pub result: Result<Decoded, FetchError>,
}

/// A platform's request budget: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub per_second: f64,
    pub burst: u32,
}

impl Budget {
    fn limiter(self) -> DefaultDirectRateLimiter {
        let period = Duration::from_secs_f64(1.0 / self.per_second.max(0.001));
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        RateLimiter::direct(quota)
    }
}

/// Conservative defaults (reference §1.5: Bilibili risk control after ~70 calls at 1/s).
pub fn default_budget(platform: Platform) -> Budget {
    match platform {
        Platform::Bilibili => Budget {
            per_second: 0.5,
            burst: 1,
        },
        _ => Budget {
            per_second: 0.2,
            burst: 1,
        },
    }
}

pub struct Sweeper {
    adapters: HashMap<Platform, Arc<dyn Adapter>>,
    limiters: HashMap<Platform, Arc<DefaultDirectRateLimiter>>,
    fetcher: Fetcher,
    concurrency: usize,
}

impl Sweeper {
    pub fn new(
        adapters: Vec<Arc<dyn Adapter>>,
        budgets: &HashMap<Platform, Budget>,
        fetcher: Fetcher,
        concurrency: usize,
    ) -> Self {
        let limiters = adapters
            .iter()
            .map(|a| {
                let p = a.platform();
                let b = budgets
                    .get(&p)
                    .copied()
                    .unwrap_or_else(|| default_budget(p));
                (p, Arc::new(b.limiter()))
            })
            .collect();
        Sweeper {
            adapters: adapters.into_iter().map(|a| (a.platform(), a)).collect(),
            limiters,
            fetcher,
            concurrency: concurrency.max(1),
        }
    }

    pub fn platforms(&self) -> Vec<Platform> {
        self.adapters.keys().copied().collect()
    }

    /// Polls every target once, sending each outcome on `out` (bounded: a slow consumer slows
    /// the sweep instead of growing a queue). Targets of platforms without an adapter are
    /// skipped.
    pub async fn sweep(&self, targets: Vec<Target>, out: mpsc::Sender<Outcome>) {
        stream::iter(
            targets
                .into_iter()
                .filter(|t| self.adapters.contains_key(&t.platform)),
        )
        .for_each_concurrent(self.concurrency, |target| {
            let out = out.clone();
            async move {
                let outcome = self.poll(target).await;
                // A closed channel means the consumer stopped (shutdown); stop quietly.
                let _ = out.send(outcome).await;
            }
        })
        .await;
    }

    /// One poll of one account: each request waits for its platform's budget.
    pub async fn poll(&self, target: Target) -> Outcome {
        let started_at = SystemTime::now();
        let mut outcome = Outcome {
            target: target.clone(),
            started_at,
            url: String::new(),
            status: None,
            latency: Duration::ZERO,
            result: Err(FetchError::Transport {
                reason: "no adapter".into(),
            }),
        };
        let (Some(adapter), Some(limiter)) = (
            self.adapters.get(&target.platform),
            self.limiters.get(&target.platform),
        ) else {
            return outcome;
        };
        let requests = match adapter.requests(&target.platform_id) {
            Ok(r) => r,
            Err(e) => {
                outcome.result = Err(e);
                return outcome;
            }
        };
        let mut merged: Option<Decoded> = None;
        for req in &requests {
            limiter.until_ready().await;
            let fetched = match self.fetcher.fetch(adapter.base(), req).await {
                Ok(f) => f,
                Err(e) => {
                    outcome.url = req.url.to_string();
                    outcome.result = Err(e);
                    return outcome;
                }
            };
            outcome.url = fetched.url.clone();
            outcome.status = Some(fetched.status);
            outcome.latency += fetched.latency;
            let resp = Response {
                status: fetched.status,
                retry_after: fetched.retry_after,
                body: &fetched.body,
            };
            match adapter.decode(&resp) {
                Ok(d) => match &mut merged {
                    None => merged = Some(d),
                    Some(m) => m.counters.merge(d.counters),
                },
                Err(e) => {
                    outcome.result = Err(e);
                    return outcome;
                }
            }
        }
        outcome.result = match merged {
            // An answer about another account is not this account's reading.
            Some(d)
                if d.platform_id
                    .as_deref()
                    .is_some_and(|id| id != target.platform_id) =>
            {
                Err(FetchError::layout(
                    format!(
                        "answer is for {} , not {}",
                        d.platform_id.unwrap_or_default(),
                        target.platform_id
                    ),
                    "",
                ))
            }
            Some(d) => Ok(d),
            None => Err(FetchError::Transport {
                reason: "no requests made".into(),
            }),
        };
        outcome
    }
}
