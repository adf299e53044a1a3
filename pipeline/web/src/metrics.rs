//! Prometheus metrics, registered once at start. Names follow
//! `haoqi_<subsystem>_<name>_<unit>`; labels come from bounded sets only (platform, outcome) —
//! never an account id.

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    /// Time each request waited for its platform's budget (count: requests; sum: seconds).
    pub limiter_wait: HistogramVec,
    /// Outcomes waiting in the bounded channel between the collectors and the store writer.
    pub queue_depth: IntGauge,
    pub queue_capacity: IntGauge,
    pub readings_written: IntCounter,
    pub spool_batches: IntGauge,
    pub last_success: IntGaugeVec,
    pub accounts: IntGaugeVec,
    pub circuit_state: IntGaugeVec,
    pub overdue: IntGaugeVec,
    /// Accounts per health state; labels from the registry (bounded by its size).
    pub account_health: IntGaugeVec,
    pub goal_followers: IntGauge,
    pub goal_target: IntGauge,
    pub goal_required_daily: Gauge,
    pub goal_pace_daily: GaugeVec,
    pub goal_deadline: IntGauge,
    /// Unix time of the last successful analytics refresh (stale gauges are visible).
    pub analytics_refreshed: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "haoqi_collector_requests_total",
                "Polls by platform and outcome (reading or error kind)",
            ),
            &["platform", "outcome"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "haoqi_collector_request_duration_seconds",
                "Time to fetch one poll",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["platform"],
        )?;
        let limiter_wait = HistogramVec::new(
            HistogramOpts::new(
                "haoqi_collector_limiter_wait_seconds",
                "Time a request waited for its platform's rate budget",
            )
            .buckets(vec![
                0.001, 0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ]),
            &["platform"],
        )?;
        let queue_depth = IntGauge::new(
            "haoqi_pipeline_queue_depth",
            "Poll outcomes waiting in the bounded channel to the store writer",
        )?;
        let queue_capacity = IntGauge::new(
            "haoqi_pipeline_queue_capacity",
            "Capacity of the channel to the store writer (a full channel slows the collectors)",
        )?;
        let readings_written = IntCounter::new(
            "haoqi_store_readings_written_total",
            "Readings handed to the store (stored or spooled)",
        )?;
        let spool_batches = IntGauge::new("haoqi_spool_batches", "Batches waiting in the spool")?;
        let last_success = IntGaugeVec::new(
            Opts::new(
                "haoqi_collector_last_success_timestamp_seconds",
                "Unix time of the platform's last successful poll",
            ),
            &["platform"],
        )?;
        let accounts = IntGaugeVec::new(
            Opts::new("haoqi_registry_accounts", "Active accounts by platform"),
            &["platform"],
        )?;
        let circuit_state = IntGaugeVec::new(
            Opts::new(
                "haoqi_collector_circuit_state",
                "Per platform: 0 closed, 1 half-open (probing), 2 open (backing off)",
            ),
            &["platform"],
        )?;
        let overdue = IntGaugeVec::new(
            Opts::new(
                "haoqi_collector_accounts_overdue",
                "Accounts not read within two intervals",
            ),
            &["platform"],
        )?;
        let account_health = IntGaugeVec::new(
            Opts::new(
                "haoqi_account_health",
                "Active accounts per health state (growing, flat, no_posts, collection_blocked, gone, overdue, dropping)",
            ),
            &["state", "platform", "kind", "prefecture", "department"],
        )?;
        let goal_followers = IntGauge::new(
            "haoqi_goal_followers",
            "Matrix follower total (each account's last reading carried forward)",
        )?;
        let goal_target = IntGauge::new("haoqi_goal_target_followers", "The follower goal")?;
        let goal_required_daily = Gauge::new(
            "haoqi_goal_required_daily_growth",
            "Followers a day needed from today to reach the goal by the deadline (0 when reached or passed)",
        )?;
        let goal_pace_daily = GaugeVec::new(
            Opts::new(
                "haoqi_goal_pace_daily_growth",
                "Observed mean daily growth of the matrix total over the window",
            ),
            &["window"],
        )?;
        let goal_deadline = IntGauge::new(
            "haoqi_goal_deadline_timestamp_seconds",
            "Unix time of the end of the deadline day (Beijing)",
        )?;
        let analytics_refreshed = IntGauge::new(
            "haoqi_analytics_last_refresh_timestamp_seconds",
            "Unix time the health and goal gauges were last computed",
        )?;
        for g in [
            &goal_followers,
            &goal_target,
            &goal_deadline,
            &analytics_refreshed,
        ] {
            registry.register(Box::new(g.clone()))?;
        }
        registry.register(Box::new(account_health.clone()))?;
        registry.register(Box::new(goal_required_daily.clone()))?;
        registry.register(Box::new(goal_pace_daily.clone()))?;
        registry.register(Box::new(circuit_state.clone()))?;
        registry.register(Box::new(overdue.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(limiter_wait.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(queue_capacity.clone()))?;
        registry.register(Box::new(readings_written.clone()))?;
        registry.register(Box::new(spool_batches.clone()))?;
        registry.register(Box::new(last_success.clone()))?;
        registry.register(Box::new(accounts.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            request_seconds,
            limiter_wait,
            queue_depth,
            queue_capacity,
            readings_written,
            spool_batches,
            last_success,
            accounts,
            circuit_state,
            overdue,
            account_health,
            goal_followers,
            goal_target,
            goal_required_daily,
            goal_pace_daily,
            goal_deadline,
            analytics_refreshed,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_render() {
        let m = Metrics::new().unwrap();
        m.requests.with_label_values(&["bilibili", "reading"]).inc();
        m.limiter_wait.with_label_values(&["bilibili"]).observe(2.0);
        m.queue_depth.set(7);
        let text = m.render();
        assert!(
            text.contains(
                "haoqi_collector_requests_total{outcome=\"reading\",platform=\"bilibili\"} 1"
            ),
            "{text}"
        );
        for line in [
            "haoqi_collector_limiter_wait_seconds_count{platform=\"bilibili\"} 1",
            "haoqi_collector_limiter_wait_seconds_sum{platform=\"bilibili\"} 2",
            "haoqi_collector_limiter_wait_seconds_bucket{platform=\"bilibili\",le=\"1\"} 0",
            "haoqi_collector_limiter_wait_seconds_bucket{platform=\"bilibili\",le=\"2.5\"} 1",
            "haoqi_pipeline_queue_depth 7",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}
