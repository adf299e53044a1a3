//! `haoqi collect --once`: one sweep of every active account on the crawlable platforms through
//! the real adapters, each outcome normalised into a reading (written through the spool-backed
//! [`Writer`]) and recorded as a collection event. The long-running scheduler (`haoqi run`)
//! will repeat this over an interval.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use haoqi_crawl::adapter::{Adapter, PlatformSettings};
use haoqi_crawl::fetch::{FetchConfig, Fetcher};
use haoqi_crawl::platforms;
use haoqi_crawl::scheduler::Scheduler;
use haoqi_crawl::sweep::{Budget, Outcome, Sweeper, Target};
use haoqi_platform::PARSER_VERSION;
use haoqi_platform::{Decoded, FetchError, Platform};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use url::Url;

use crate::config::{CollectConfig, PlatformCollectConfig};
use crate::output::Bar;
use haoqi_model::count::{from_raw, Count, CountError};
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_model::table::Table;
use haoqi_model::tick::Tick;
use haoqi_registry::Registry;
use haoqi_store::spool::{WriteError, WriteOutcome, Writer};
use haoqi_store::{Store, StoreError};
use haoqi_web::api::{circuit_name, CollectorHealth, CollectorState, PlatformHealth};

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("collector configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Only these platforms (default: every enabled crawlable platform).
    pub platforms: Vec<Platform>,
    /// Point every platform at this simulator; readings are then marked `simulated`.
    pub simulator: Option<Url>,
    /// Override every platform's rate (requests per second), e.g. for the simulator.
    pub per_second: Option<f64>,
}

/// Counts by platform and outcome (`reading` or an error kind), plus what was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CollectReport {
    pub outcomes: BTreeMap<String, BTreeMap<String, u64>>,
    pub polled: usize,
    pub readings: usize,
    pub spooled_batches: usize,
    pub events_written: usize,
}

impl CollectReport {
    /// Outcomes by platform, as `collect` and `demo` print them.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["platform", "outcome", "accounts"]);
        for (p, outcomes) in &self.outcomes {
            for (o, n) in outcomes {
                t.push(vec![p.clone(), o.clone(), n.to_string()]);
            }
        }
        t
    }
}

fn settings(
    c: &PlatformCollectConfig,
    simulator: &Option<Url>,
) -> Result<PlatformSettings, CollectError> {
    let base = match simulator {
        Some(u) => u.clone(),
        None => Url::parse(&c.base_url)
            .map_err(|e| CollectError::Config(format!("base_url {:?}: {e}", c.base_url)))?,
    };
    let cookie = (!c.cookie_env.is_empty())
        .then(|| std::env::var(&c.cookie_env).ok())
        .flatten()
        .filter(|v| !v.is_empty());
    let signer = match c.signer_url.trim() {
        "" => None,
        u => {
            let url = Url::parse(u)
                .map_err(|e| CollectError::Config(format!("signer_url {u:?}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(CollectError::Config(format!(
                    "signer_url {u:?}: not an http(s) URL"
                )));
            }
            Some(url)
        }
    };
    Ok(PlatformSettings {
        base,
        cookie,
        page_mode: c.page_mode,
        signer,
        detail_every: c.detail_every,
        fetch_buvid3: c.fetch_buvid3,
    })
}

/// Builds the sweeper the configuration describes (its interval is `collect.interval_mins`;
/// `haoqi run --interval-mins` sets another with [`Sweeper::with_interval`]).
pub fn sweeper(config: &CollectConfig, opts: &CollectOptions) -> Result<Sweeper, CollectError> {
    let wanted = |p: Platform| opts.platforms.is_empty() || opts.platforms.contains(&p);
    let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
    let mut budgets = HashMap::new();
    for (p, c) in config.platforms() {
        if !c.enabled || !wanted(p) {
            continue;
        }
        let s = settings(c, &opts.simulator)?;
        let Some(adapter) = platforms::adapter(p, s) else {
            return Err(CollectError::Config(format!(
                "[collect.{p}]: {p} has no public profiles to poll; its numbers are imported"
            )));
        };
        adapters.push(adapter);
        budgets.insert(
            p,
            Budget {
                per_second: opts.per_second.unwrap_or(c.per_second),
                burst: c.burst,
            },
        );
    }
    let contact = if config.contact.is_empty() {
        String::new()
    } else {
        format!("; +{}", config.contact)
    };
    let fetcher = Fetcher::new(FetchConfig {
        timeout: Duration::from_millis(config.timeout_ms),
        user_agent: format!(
            "haoqi/{} (science-communication matrix monitor{contact})",
            env!("CARGO_PKG_VERSION")
        ),
        ..FetchConfig::default()
    })
    .map_err(|e| CollectError::Config(e.to_string()))?;
    Ok(
        Sweeper::new(adapters, &budgets, fetcher, config.concurrency)
            .with_interval(Duration::from_secs(config.interval_mins.max(1) * 60)),
    )
}

/// Reports every request's wait for its platform's budget to
/// `haoqi_collector_limiter_wait_seconds{platform}`.
pub fn observe_limiter(sweeper: Sweeper, metrics: &haoqi_web::metrics::Metrics) -> Sweeper {
    let hist = metrics.limiter_wait.clone();
    sweeper.with_wait_hook(Arc::new(move |p: Platform, waited: Duration| {
        hist.with_label_values(&[p.as_str()])
            .observe(waited.as_secs_f64());
    }))
}

/// The active accounts of the registry the sweeper can poll.
pub fn targets(registry: &Registry, platforms: &[Platform]) -> Vec<Target> {
    registry
        .accounts
        .iter()
        .filter(|a| a.active && !a.platform_id.is_empty() && platforms.contains(&a.platform))
        .map(|a| Target {
            account_id: a.account_id.clone(),
            platform: a.platform,
            platform_id: a.platform_id.clone(),
        })
        .collect()
}

/// Refreshes the collectors' state: the snapshot `/healthz` reports and the circuit and
/// overdue gauges (overdue: not read within two intervals).
pub fn refresh_collector_state(
    scheduler: &Scheduler,
    per_platform: &HashMap<Platform, Vec<Target>>,
    interval: Duration,
    metrics: &haoqi_web::metrics::Metrics,
    state: &CollectorState,
) {
    let circuits = scheduler.circuit_states();
    let last = scheduler.last_success_by_platform();
    let mut health = CollectorHealth {
        updated_at: Some(Utc::now()),
        platforms: Default::default(),
    };
    for (p, targets) in per_platform {
        let gauge = circuits.get(p).copied().unwrap_or(0);
        let overdue = scheduler.overdue(targets, interval * 2);
        metrics
            .circuit_state
            .with_label_values(&[p.as_str()])
            .set(gauge);
        metrics
            .overdue
            .with_label_values(&[p.as_str()])
            .set(overdue as i64);
        health.platforms.insert(
            p.as_str().to_string(),
            PlatformHealth {
                accounts: targets.len(),
                circuit: circuit_name(gauge),
                last_success_at: last.get(p).map(|t| DateTime::<Utc>::from(*t)),
                overdue,
            },
        );
    }
    if let Ok(mut s) = state.write() {
        *s = health;
    }
}

/// How near its target (a share of it) an account is read first.
pub const NEAR_TARGET: f64 = 0.05;

/// Tells the scheduler which accounts are near their target; how many, or `None` when the
/// store cannot say (the previous list stays).
pub async fn prioritise_near_target(store: &dyn Store, scheduler: &Scheduler) -> Option<usize> {
    match near_target(store, NEAR_TARGET).await {
        Ok(ids) => {
            let n = ids.len();
            scheduler.set_priority(ids);
            Some(n)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which accounts are near their target");
            None
        }
    }
}

/// Seeds the scheduler with when each account last gave a reading, from the store; `None` when
/// the store cannot say (the order then starts from scratch, as before).
pub async fn remember_last_successes(store: &dyn Store, scheduler: &Scheduler) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Row {
        account_id: String,
        ok_ms: u64,
    }
    let rows = async {
        let q = haoqi_store::sql::render(
            haoqi_store::sql::queries::LAST_SUCCESSES,
            &haoqi_store::sql::Params::new(store.database()),
        )?;
        haoqi_store::query_as::<Row>(store, &q).await
    };
    match rows.await {
        Ok(rows) => {
            let n = rows.len();
            scheduler.remember(rows.into_iter().map(|r| {
                (
                    r.account_id,
                    std::time::UNIX_EPOCH + Duration::from_millis(r.ok_ms),
                )
            }));
            Some(n)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when accounts were last read; polling in registry order");
            None
        }
    }
}

/// Accounts whose last reading is within `share` (e.g. 0.05) below their target: the next
/// reading may cross it, so the scheduler reads them first after an outage.
pub async fn near_target(store: &dyn Store, share: f64) -> Result<Vec<String>, StoreError> {
    let accounts = haoqi_analytics::progress::ProgressQuery {
        as_of: haoqi_model::time::today(),
        stale_after_hours: 48,
    }
    .accounts(store)
    .await?;
    Ok(accounts
        .into_iter()
        .filter(|a| {
            a.at_target != Some(true)
                && a.completion
                    .is_some_and(|c| c >= 1.0 - share && c < 1.0 + share)
        })
        .map(|a| a.account_id)
        .collect())
}

/// A decoded answer as a reading; a counter that does not normalise makes the whole answer a
/// layout change (never a zero).
pub fn to_reading(o: &Outcome, d: &Decoded, source: Source) -> Result<Reading, FetchError> {
    let norm =
        |name: &str, raw: &Option<haoqi_platform::RawCount>| -> Result<Option<Count>, FetchError> {
            match raw {
                None => Ok(None),
                Some(r) => from_raw(r)
                    .map_err(|e: CountError| FetchError::layout(format!("{name}: {e}"), "")),
            }
        };
    let c = &d.counters;
    let reading = Reading {
        account_id: o.target.account_id.clone(),
        platform: o.target.platform,
        observed_at: DateTime::<Utc>::from(o.started_at),
        followers: norm("followers", &c.followers)?,
        likes: norm("likes", &c.likes)?,
        views: norm("views", &c.views)?,
        posts: norm("posts", &c.posts)?,
        following: norm("following", &c.following)?,
        source,
        parser_version: PARSER_VERSION.to_string(),
        flags: Vec::new(),
        provenance: o.url.clone(),
    };
    if reading.followers.is_none() && reading.likes.is_none() && reading.posts.is_none() {
        return Err(FetchError::layout("no counters in the answer", ""));
    }
    Ok(reading)
}

fn layout_excerpt(e: &FetchError) -> Option<&str> {
    match e {
        FetchError::LayoutChanged { excerpt, .. } => Some(excerpt.as_str()),
        _ => None,
    }
}

fn event(o: &Outcome, outcome: &str, err: Option<&FetchError>) -> String {
    // A reading whose extra endpoints failed says which and why (and keeps a changed layout's
    // body), so a format change in one of them is seen.
    let (error, excerpt) = match err {
        Some(e) => (e.to_string(), layout_excerpt(e).unwrap_or("")),
        None if !o.partial.is_empty() => (
            format!(
                "partial: {}",
                o.partial
                    .iter()
                    .map(|(path, e)| format!("{path}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            o.partial
                .iter()
                .find_map(|(_, e)| layout_excerpt(e))
                .unwrap_or(""),
        ),
        None => (String::new(), ""),
    };
    json!({
        "at": haoqi_model::time::to_clickhouse(DateTime::<Utc>::from(o.started_at)),
        "account_id": o.target.account_id,
        "platform": o.target.platform.as_str(),
        "outcome": outcome,
        "http_status": o.status,
        "latency_ms": u32::try_from(o.latency.as_millis()).unwrap_or(u32::MAX),
        "url": o.url,
        "error": error,
        "body_excerpt": excerpt,
        "parser_version": PARSER_VERSION,
    })
    .to_string()
}

/// Writes the buffered events through the writer: stored, or spooled with the readings when
/// the store is away (an outage must not leave a hole in the attempts the health view reads).
async fn write_events(writer: &Writer, rows: &mut Vec<String>) -> Result<usize, CollectError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut data = rows.join("\n");
    data.push('\n');
    let batch = Batch {
        token: hex::encode(Sha256::digest(data.as_bytes())),
        rows: rows.len(),
        data,
    };
    rows.clear();
    writer.write_events(&batch).await?;
    Ok(batch.rows)
}

/// Where a sweep's outcomes go.
pub struct Sink<'a> {
    /// For collection events.
    pub store: Arc<dyn Store>,
    /// For readings (spooled when the store is away).
    pub writer: &'a Writer,
    pub batch_max_rows: usize,
    pub source: Source,
    pub metrics: Option<&'a haoqi_web::metrics::Metrics>,
    /// Show a progress bar.
    pub progress: bool,
}

/// Turns outcomes into readings and events and writes them in batches.
pub struct Consumer<'a> {
    sink: &'a Sink<'a>,
    readings: Vec<Reading>,
    events: Vec<String>,
    pub report: CollectReport,
}

impl<'a> Consumer<'a> {
    pub fn new(sink: &'a Sink<'a>) -> Self {
        Consumer {
            sink,
            readings: Vec::new(),
            events: Vec::new(),
            report: CollectReport::default(),
        }
    }

    /// Takes one outcome; writes a batch when it is full.
    pub async fn push(&mut self, o: Outcome) -> Result<(), CollectError> {
        self.report.polled += 1;
        let outcome = match &o.result {
            Ok(d) => to_reading(&o, d, self.sink.source),
            Err(e) => Err(e.clone()),
        };
        let kind = match outcome {
            Ok(r) => {
                self.readings.push(r);
                self.events.push(event(&o, "reading", None));
                "reading"
            }
            Err(e) => {
                self.events.push(event(&o, e.kind(), Some(&e)));
                e.kind()
            }
        };
        if let Some(m) = self.sink.metrics {
            let p = o.target.platform.as_str();
            m.requests.with_label_values(&[p, kind]).inc();
            m.request_seconds
                .with_label_values(&[p])
                .observe(o.latency.as_secs_f64());
            if kind == "reading" {
                m.last_success
                    .with_label_values(&[p])
                    .set(Utc::now().timestamp());
            }
        }
        *self
            .report
            .outcomes
            .entry(o.target.platform.as_str().to_string())
            .or_default()
            .entry(kind.to_string())
            .or_default() += 1;
        if self.readings.len() >= self.sink.batch_max_rows {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is buffered: readings through the writer (stored or spooled), events to the
    /// store.
    pub async fn flush(&mut self) -> Result<(), CollectError> {
        if !self.readings.is_empty() {
            let n = self.readings.len();
            let batch = Batch::new(&self.readings, Utc::now());
            self.readings.clear();
            // Counted once kept: stored, or spooled to be stored.
            if let WriteOutcome::Spooled { .. } = self.sink.writer.write(&batch).await? {
                self.report.spooled_batches += 1;
            }
            self.report.readings += n;
            if let Some(m) = self.sink.metrics {
                m.readings_written.inc_by(n as u64);
            }
        }
        self.report.events_written += write_events(self.sink.writer, &mut self.events).await?;
        Ok(())
    }
}

/// One sweep of `targets` into `sink`.
pub async fn collect_once(
    sweeper: &Sweeper,
    targets: Vec<Target>,
    sink: &Sink<'_>,
) -> Result<CollectReport, CollectError> {
    let bar = if sink.progress {
        Bar::new("{bar:40} {pos}/{len} accounts ({eta} left)")
    } else {
        Bar::hidden()
    };
    bar.start(targets.len() as u64);
    let (tx, mut rx) = mpsc::channel::<Outcome>(256);
    let sweep = sweeper.sweep(targets, tx);
    let mut consumer = Consumer::new(sink);
    if let Some(m) = sink.metrics {
        m.queue_capacity.set(rx.max_capacity() as i64);
    }
    let consume = async {
        while let Some(o) = rx.recv().await {
            bar.advance(1);
            if let Some(m) = sink.metrics {
                m.queue_depth.set(rx.len() as i64);
            }
            consumer.push(o).await?;
        }
        consumer.flush().await
    };
    // The consumer ends first only when writing failed: then the sweep is dropped, so no more
    // accounts are polled for readings that could not be kept (and it cannot block on a full
    // channel nobody reads).
    let consumed = {
        tokio::pin!(sweep, consume);
        tokio::select! {
            r = &mut consume => r,
            () = &mut sweep => consume.await,
        }
    };
    bar.finish();
    consumed?;
    Ok(consumer.report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haoqi_platform::RawCount;
    use std::time::SystemTime;

    fn outcome(result: Result<Decoded, FetchError>, partial: Vec<(String, FetchError)>) -> Outcome {
        Outcome {
            target: Target {
                account_id: "acc-1".into(),
                platform: Platform::Bilibili,
                platform_id: "42".into(),
            },
            started_at: SystemTime::now(),
            url: "http://127.0.0.1/x/web-interface/card?mid=42".into(),
            status: Some(200),
            latency: Duration::from_millis(12),
            result,
            partial,
        }
    }

    #[test]
    fn a_reading_whose_extra_endpoint_failed_says_so_in_its_event() {
        let d = Decoded {
            counters: haoqi_platform::RawCounters {
                followers: Some(RawCount::Int(10)),
                ..Default::default()
            },
            ..Default::default()
        };
        let o = outcome(
            Ok(d),
            vec![(
                "/x/space/navnum".into(),
                FetchError::layout("unknown data shape", "{\"code\":0,\"data\":{\"v\":1}}"),
            )],
        );
        let e: serde_json::Value = serde_json::from_str(&event(&o, "reading", None)).unwrap();
        assert_eq!(e["outcome"], "reading");
        let err = e["error"].as_str().unwrap();
        assert!(
            err.starts_with("partial: /x/space/navnum: layout changed"),
            "{err}"
        );
        assert_eq!(e["body_excerpt"], "{\"code\":0,\"data\":{\"v\":1}}");

        // A clean reading has no error; a failure has its own.
        let clean = outcome(Ok(Decoded::default()), Vec::new());
        let e: serde_json::Value = serde_json::from_str(&event(&clean, "reading", None)).unwrap();
        assert_eq!(e["error"], "");
        let err = FetchError::blocked("code -352");
        let failed = outcome(Err(err.clone()), Vec::new());
        let e: serde_json::Value =
            serde_json::from_str(&event(&failed, "blocked", Some(&err))).unwrap();
        assert!(e["error"].as_str().unwrap().contains("-352"));
        assert_eq!(e["body_excerpt"], "");
    }
}
