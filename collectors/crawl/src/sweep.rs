//! One sweep: every target polled once, each platform within its request budget (governor),
//! with a global cap on requests in flight, and every outcome — reading or typed error — sent on
//! a bounded channel to whoever stores them. The scheduler that spreads sweeps over an interval
//! builds on this.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::stream::{self, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::mpsc;

use crate::adapter::{depth, Adapter, Depth};
use crate::fetch::{Fetched, Fetcher, RequestSpec};
use haoqi_platform::{Decoded, FetchError, Platform, Response};

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
    /// Optional requests of a reading's poll that failed (path, error): the reading has the
    /// other requests' counters.
    pub partial: Vec<(String, FetchError)>,
}

/// Called with the time each request waited for its platform's budget.
pub type WaitHook = Arc<dyn Fn(Platform, Duration) + Send + Sync>;

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

/// The platform's default budget from the table of platforms; a platform without one (only
/// imported) gets the gentlest rate, though no adapter polls it.
fn default_budget(platform: Platform) -> Budget {
    platform.crawl().map_or(
        Budget {
            per_second: 0.2,
            burst: 1,
        },
        |c| Budget {
            per_second: c.per_second,
            burst: c.burst,
        },
    )
}

pub struct Sweeper {
    adapters: HashMap<Platform, Arc<dyn Adapter>>,
    limiters: HashMap<Platform, Arc<DefaultDirectRateLimiter>>,
    /// One session request (buvid3) at a time per platform.
    sessions: HashMap<Platform, tokio::sync::Mutex<()>>,
    fetcher: Fetcher,
    concurrency: usize,
    /// The global cap on requests in flight (taken after the budget wait, around the fetch).
    in_flight: tokio::sync::Semaphore,
    /// The length of an interval, for [`Sweeper::slot`].
    interval: Duration,
    /// Every poll is [`Depth::Full`] (a one-off complete sweep, tests).
    all_full: bool,
    wait_hook: Option<WaitHook>,
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
            sessions: adapters
                .iter()
                .map(|a| (a.platform(), tokio::sync::Mutex::new(())))
                .collect(),
            adapters: adapters.into_iter().map(|a| (a.platform(), a)).collect(),
            limiters,
            fetcher,
            concurrency: concurrency.max(1),
            in_flight: tokio::sync::Semaphore::new(concurrency.max(1)),
            interval: Duration::from_secs(3600),
            all_full: false,
            wait_hook: None,
        }
    }

    /// The collection interval (default 60 minutes): which interval a poll falls in decides
    /// whether it is a full one (see [`crate::adapter::depth`]).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_secs(1));
        self
    }

    /// Makes every poll a full one.
    pub fn with_full_polls(mut self, all: bool) -> Self {
        self.all_full = all;
        self
    }

    /// Reports every limiter wait (the metrics' histogram).
    pub fn with_wait_hook(mut self, hook: WaitHook) -> Self {
        self.wait_hook = Some(hook);
        self
    }

    pub fn platforms(&self) -> Vec<Platform> {
        self.adapters.keys().copied().collect()
    }

    pub fn adapter(&self, platform: Platform) -> Option<&Arc<dyn Adapter>> {
        self.adapters.get(&platform)
    }

    /// The number of the interval `at` falls in (Unix time ÷ interval): stable across restarts
    /// and the same for every instance.
    pub fn slot(&self, at: SystemTime) -> u64 {
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        secs / self.interval.as_secs().max(1)
    }

    /// Polls every target once, sending each outcome on `out` (bounded: a slow consumer slows
    /// the sweep instead of growing a queue). Targets of platforms without an adapter are
    /// skipped. Each platform's targets go at that platform's pace: a poll waiting for its
    /// platform's budget holds no slot of the global cap on requests in flight, so a slower
    /// platform (Bilibili's full polls make more requests) does not hold the others back.
    pub async fn sweep(&self, targets: Vec<Target>, out: mpsc::Sender<Outcome>) {
        let slot = self.slot(SystemTime::now());
        let mut by_platform: HashMap<Platform, Vec<Target>> = HashMap::new();
        for t in targets {
            if self.adapters.contains_key(&t.platform) {
                by_platform.entry(t.platform).or_default().push(t);
            }
        }
        futures::future::join_all(by_platform.into_values().map(|targets| {
            let out = out.clone();
            stream::iter(targets).for_each_concurrent(self.concurrency, move |target| {
                let out = out.clone();
                async move {
                    // A closed channel means the consumer stopped (shutdown or a failed
                    // write): poll nothing more.
                    if out.is_closed() {
                        return;
                    }
                    let outcome = self.poll(target, slot).await;
                    let _ = out.send(outcome).await;
                }
            })
        }))
        .await;
    }

    /// Waits for `platform`'s budget; every request to a platform goes through here.
    async fn wait_turn(&self, platform: Platform, limiter: &DefaultDirectRateLimiter) {
        let started = Instant::now();
        limiter.until_ready().await;
        if let Some(hook) = &self.wait_hook {
            hook(platform, started.elapsed());
        }
    }

    /// Makes one request within the budget (signed first when the adapter has a signer).
    async fn request(
        &self,
        adapter: &dyn Adapter,
        limiter: &DefaultDirectRateLimiter,
        req: &RequestSpec,
    ) -> Result<Fetched, FetchError> {
        self.wait_turn(adapter.platform(), limiter).await;
        let _slot = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| FetchError::Transport {
                reason: "shutting down".into(),
            })?;
        match adapter.signer() {
            Some(signer) => {
                let signed = crate::signer::sign(&self.fetcher, signer, req).await?;
                self.fetcher.fetch(adapter.base(), &signed).await
            }
            None => self.fetcher.fetch(adapter.base(), req).await,
        }
    }

    /// The adapter's session request (Bilibili's buvid3), made by one poll while the others
    /// wait for it. A rate-limit or block answer is returned: the poll fails with it.
    async fn session(
        &self,
        adapter: &dyn Adapter,
        limiter: &DefaultDirectRateLimiter,
    ) -> Result<(), FetchError> {
        if adapter.session_request().is_none() {
            return Ok(());
        }
        let Some(lock) = self.sessions.get(&adapter.platform()) else {
            return Ok(());
        };
        let _one = lock.lock().await;
        let Some(req) = adapter.session_request() else {
            return Ok(());
        };
        let answered = match self.request(adapter, limiter, &req).await {
            Ok(f) => adapter.session_answer(Ok(&Response {
                status: f.status,
                retry_after: f.retry_after,
                body: &f.body,
            })),
            Err(e) => adapter.session_answer(Err(&e)),
        };
        match answered {
            Err(e) if e.opens_circuit() => Err(e),
            // Polls go on without the session; the adapter asks again later.
            _ => Ok(()),
        }
    }

    /// One poll of one account in interval `slot`: each request waits for its platform's
    /// budget.
    pub async fn poll(&self, target: Target, slot: u64) -> Outcome {
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
            partial: Vec::new(),
        };
        let (Some(adapter), Some(limiter)) = (
            self.adapters.get(&target.platform),
            self.limiters.get(&target.platform),
        ) else {
            return outcome;
        };
        let adapter = adapter.as_ref();
        if let Err(e) = self.session(adapter, limiter).await {
            outcome.result = Err(e);
            return outcome;
        }
        let depth = if self.all_full {
            Depth::Full
        } else {
            depth(adapter.detail_every(), &target.platform_id, slot)
        };
        let requests = match adapter.requests(&target.platform_id, depth) {
            Ok(r) => r,
            Err(e) => {
                outcome.result = Err(e);
                return outcome;
            }
        };
        let mut merged: Option<Decoded> = None;
        for req in &requests {
            let result = match self.request(adapter, limiter, req).await {
                Ok(fetched) => {
                    outcome.status = Some(fetched.status);
                    outcome.latency += fetched.latency;
                    let resp = Response {
                        status: fetched.status,
                        retry_after: fetched.retry_after,
                        body: &fetched.body,
                    };
                    adapter
                        .decode(req, &resp)
                        .and_then(|d| match &d.platform_id {
                            // An answer about another account is not this account's reading.
                            Some(id) if *id != target.platform_id => Err(FetchError::layout(
                                format!("answer is for {id}, not {}", target.platform_id),
                                "",
                            )),
                            _ => Ok(d),
                        })
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(d) => {
                    if merged.is_none() || !req.optional {
                        outcome.url = req.url.to_string();
                    }
                    match &mut merged {
                        None => merged = Some(d),
                        Some(m) => m.merge(d),
                    }
                }
                // An extra endpoint failing alone leaves the reading to the others; a
                // rate-limit or block signal does not: the platform wants us gone.
                Err(e) if req.optional && !e.opens_circuit() => {
                    outcome.partial.push((req.url.path().to_string(), e));
                }
                Err(e) => {
                    outcome.url = req.url.to_string();
                    outcome.result = Err(e);
                    return outcome;
                }
            }
        }
        outcome.result = merged.ok_or_else(|| FetchError::Transport {
            reason: "no requests made".into(),
        });
        outcome
    }
}
