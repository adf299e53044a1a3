//! `haoqi run`: the collectors polling every account on its interval, their outcomes written
//! through the spool-backed writer in batches, the gauges refreshed, `/metrics` and `/healthz`
//! served, until SIGINT or SIGTERM (or a number of intervals) — then polls in flight finish and
//! every batch is written or spooled before the process ends.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use haoqi_crawl::scheduler::{check_budget, ScheduleConfig, Scheduler};
use haoqi_crawl::shard::Shard;
use haoqi_crawl::sweep::{Outcome, Sweeper, Target};
use haoqi_model::reading::Source;
use haoqi_platform::Platform;
use haoqi_registry::Registry;
use haoqi_store::spool::{Spool, Writer};
use haoqi_store::{migrate, Store};
use haoqi_web::{CollectorState, Metrics};
use tokio::sync::{mpsc, watch};

use super::collect::{self, CollectOptions, CollectReport, Consumer, Sink};
use super::{serve, Say};
use crate::config::Config;

/// What `haoqi run` was asked to do, from the command line and the configuration.
pub struct RunPlan<'a> {
    pub config: &'a Config,
    pub registry: Registry,
    pub store: Arc<dyn Store>,
    pub spool: Spool,
    pub options: CollectOptions,
    pub source: Source,
    pub interval_mins: u64,
    pub shard: Shard,
    /// Stop after this many intervals (default: until a signal).
    pub cycles: Option<u32>,
    pub listen: SocketAddr,
}

/// Runs until stopped; returns what was polled and written.
pub async fn run(plan: RunPlan<'_>, say: Say<'_>) -> Result<CollectReport> {
    let store = plan.store.clone();
    let schema_checked = migrate::require_current_or_away(store.as_ref()).await?;
    if !schema_checked {
        say(&format!(
            "store {} unreachable: readings will be spooled until it is back",
            store.describe()
        ));
    }
    let spool = plan.spool.clone();
    let writer = Writer::new(store.clone(), spool.clone());
    let replay = writer.replay().await?;
    if replay.replayed > 0 {
        say(&format!(
            "replayed {} spooled batch(es) ({} readings)",
            replay.replayed, replay.rows
        ));
    }
    let interval = Duration::from_secs(plan.interval_mins.max(1) * 60);
    let metrics = Metrics::new()?;
    let sweeper = Arc::new(collect::observe_limiter(
        collect::sweeper(&plan.config.collect, &plan.options)?.with_interval(interval),
        &metrics,
    ));
    let scheduler = Scheduler::new(
        sweeper.clone(),
        ScheduleConfig {
            interval,
            concurrency: plan.config.collect.concurrency,
            ..ScheduleConfig::default()
        },
    );
    let per_platform = shard_targets(&plan.registry, &sweeper, plan.shard);
    if let Some(n) = collect::remember_last_successes(store.as_ref(), &scheduler).await {
        if n > 0 {
            say(&format!(
                "{n} account(s) read before: the longest unread go first"
            ));
        }
    }
    if let Some(n) = collect::prioritise_near_target(store.as_ref(), &scheduler).await {
        say(&format!(
            "{n} account(s) within {:.0} % of their target go first",
            collect::NEAR_TARGET * 100.0
        ));
    }

    let (tx, mut rx) = mpsc::channel(1024);
    metrics.queue_capacity.set(rx.max_capacity() as i64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (platform, targets) in per_platform.clone() {
        let Some(c) = plan.config.collect.platform(platform) else {
            continue;
        };
        let rate = plan.options.per_second.unwrap_or(c.per_second);
        say(&budget_line(
            &sweeper, platform, &targets, rate, interval, plan.shard,
        ));
        metrics
            .accounts
            .with_label_values(&[platform.as_str()])
            .set(targets.len() as i64);
        tasks.spawn(scheduler.clone().run(
            platform,
            targets,
            tx.clone(),
            stop_rx.clone(),
            plan.cycles,
        ));
    }
    drop(tx);
    spawn_near_target(store.clone(), scheduler.clone(), interval, stop_rx.clone());

    let collectors = CollectorState::default();
    let app = haoqi_web::with_collectors(
        serve::app(
            store.clone(),
            plan.config.analytics(),
            metrics.clone(),
            Some(stop_rx.clone()),
            serve::REFRESH_SECS,
            None,
        ),
        collectors.clone(),
    );
    let listener = serve::bind(plan.listen).await?;
    say(&format!(
        "serving http://{}/metrics and /healthz; SIGINT/SIGTERM stop",
        listener.local_addr()?
    ));
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await
    });

    let sink = Sink {
        store: store.clone(),
        writer: &writer,
        batch_max_rows: plan.config.collect.batch_max_rows,
        source: plan.source,
        metrics: Some(&metrics),
        progress: false,
    };
    let watch = Watch {
        scheduler: &scheduler,
        per_platform: &per_platform,
        interval,
        metrics: &metrics,
        collectors: &collectors,
        spool: &spool,
        store: store.as_ref(),
        schema_checked,
    };
    let report = consume(&sink, &mut rx, watch, &stop_tx, say).await?;
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    let _ = server.await;
    Ok(report)
}

/// This instance's targets (its shard of the accounts), per platform.
fn shard_targets(
    registry: &Registry,
    sweeper: &Sweeper,
    shard: Shard,
) -> HashMap<Platform, Vec<Target>> {
    let mut per_platform: HashMap<Platform, Vec<Target>> = HashMap::new();
    for t in collect::targets(registry, &sweeper.platforms()) {
        if shard.owns(&t.account_id) {
            per_platform.entry(t.platform).or_default().push(t);
        }
    }
    per_platform
}

/// Whether a pass over `targets` fits the interval at `rate`, said before anything is polled.
fn budget_line(
    sweeper: &Sweeper,
    platform: Platform,
    targets: &[Target],
    rate: f64,
    interval: Duration,
    shard: Shard,
) -> String {
    let per_poll = sweeper
        .adapter(platform)
        .map_or(1.0, |a| a.requests_per_poll());
    match check_budget(targets.len(), per_poll, rate, interval) {
        Ok(need) => format!(
            "{platform}: {} accounts (shard {shard}), {per_poll:.2} requests per poll on average, a pass takes {:.0} of {} min",
            targets.len(),
            need.as_secs_f64() / 60.0,
            interval.as_secs() / 60
        ),
        Err(why) => format!("{platform}: WARNING {why}; raise the rate or the interval"),
    }
}

/// Accounts near their target go first in each interval (refreshed every interval).
fn spawn_near_target(
    store: Arc<dyn Store>,
    scheduler: Arc<Scheduler>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => break,
            }
            collect::prioritise_near_target(store.as_ref(), &scheduler).await;
        }
    });
}

/// What the consuming loop keeps up to date every tick besides the batches.
struct Watch<'a> {
    scheduler: &'a Scheduler,
    per_platform: &'a HashMap<Platform, Vec<Target>>,
    interval: Duration,
    metrics: &'a Metrics,
    collectors: &'a CollectorState,
    spool: &'a Spool,
    store: &'a dyn Store,
    /// A store that was away at start: its schema is checked once it answers.
    schema_checked: bool,
}

impl Watch<'_> {
    async fn tick(&mut self, queued: usize) -> Result<()> {
        collect::refresh_collector_state(
            self.scheduler,
            self.per_platform,
            self.interval,
            self.metrics,
            self.collectors,
        );
        self.metrics.queue_depth.set(queued as i64);
        match self.spool.pending() {
            Ok(p) => self.metrics.spool_batches.set(p.len() as i64),
            // Keep the last count rather than report an empty spool.
            Err(e) => tracing::warn!(error = %e, "cannot list the spool"),
        }
        if !self.schema_checked {
            match migrate::require_current(self.store).await {
                Ok(()) => self.schema_checked = true,
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Writes outcomes as they come, in batches when full or every 10 s; on a signal asks the
/// schedulers to stop and goes on until the polls in flight have all arrived.
async fn consume(
    sink: &Sink<'_>,
    rx: &mut mpsc::Receiver<Outcome>,
    mut watch: Watch<'_>,
    stop: &watch::Sender<bool>,
    say: Say<'_>,
) -> Result<CollectReport> {
    let mut consumer = Consumer::new(sink);
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let signal = serve::shutdown_signal();
    tokio::pin!(signal);
    let mut stopping = false;
    loop {
        tokio::select! {
            o = rx.recv() => match o {
                Some(o) => {
                    watch.metrics.queue_depth.set(rx.len() as i64);
                    consumer.push(o).await?
                }
                None => break,
            },
            _ = tick.tick() => {
                consumer.flush().await?;
                watch.tick(rx.len()).await?;
            }
            _ = &mut signal, if !stopping => {
                stopping = true;
                say("stopping: finishing polls in flight");
                let _ = stop.send(true);
            }
        }
    }
    consumer.flush().await?;
    Ok(consumer.report)
}
