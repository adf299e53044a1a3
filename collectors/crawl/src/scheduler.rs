//! The scheduler: every account of a platform is polled once per interval, the polls spread
//! evenly over it (with jitter), oldest last-success first (so after an outage the longest
//! unread go first), never two polls of one account at once. A rate-limit or block signal opens
//! the platform's [`Circuit`]; polls wait it out while the other platforms go on. Accounts that
//! failed (for any reason but a deleted account) are tried again later in the same interval,
//! up to three more times, while time remains.
//!
//! Priority: accounts marked with [`Scheduler::set_priority`] (those close to their target,
//! whose next reading may cross it) go first in each interval, oldest last success first among
//! them; after an outage they are read before the rest.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::circuit::{Circuit, Permit};
use crate::sweep::{Outcome, Sweeper, Target};
use haoqi_platform::hash::mix;
use haoqi_platform::Platform;

#[derive(Debug, Clone, Copy)]
pub struct ScheduleConfig {
    pub interval: Duration,
    /// Jitter as a share of the gap between two polls (0.0–0.5).
    pub jitter: f64,
    /// Requests in flight across all platforms.
    pub concurrency: usize,
    /// First backoff when a platform's circuit opens.
    pub circuit_base: Duration,
    pub circuit_max: Duration,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            interval: Duration::from_secs(3600),
            jitter: 0.3,
            concurrency: 8,
            circuit_base: Duration::from_secs(60),
            circuit_max: Duration::from_secs(6 * 3600),
        }
    }
}

/// Sleeps until `at` unless `stop` turns (or already is) true; returns whether to stop.
async fn sleep_or_stop(at: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow_and_update() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(at.into()) => {}
        _ = stop.changed() => {}
    }
    *stop.borrow()
}

/// Whether `accounts` polls of `requests_per_poll` requests each (on average) fit in `interval`
/// at `rate` requests per second; `Err` says by how much they do not (DESIGN.md §4).
pub fn check_budget(
    accounts: usize,
    requests_per_poll: f64,
    rate: f64,
    interval: Duration,
) -> Result<Duration, String> {
    let needed = Duration::from_secs_f64(accounts as f64 * requests_per_poll / rate.max(1e-9));
    if needed <= interval {
        Ok(needed)
    } else {
        Err(format!(
            "{accounts} accounts × {requests_per_poll:.2} request(s) at {rate}/s take {:.0} min, more than the {:.0} min interval",
            needed.as_secs_f64() / 60.0,
            interval.as_secs_f64() / 60.0
        ))
    }
}

pub struct Scheduler {
    sweeper: Arc<Sweeper>,
    config: ScheduleConfig,
    circuits: Mutex<HashMap<Platform, Circuit>>,
    last_success: Mutex<HashMap<String, Instant>>,
    /// Wall-clock time of each platform's last reading (for /healthz).
    platform_success: Mutex<HashMap<Platform, SystemTime>>,
    priority: Mutex<HashSet<String>>,
    in_flight: Arc<Semaphore>,
}

impl Scheduler {
    pub fn new(sweeper: Arc<Sweeper>, config: ScheduleConfig) -> Arc<Self> {
        Arc::new(Scheduler {
            sweeper,
            in_flight: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config,
            circuits: Mutex::new(HashMap::new()),
            last_success: Mutex::new(HashMap::new()),
            platform_success: Mutex::new(HashMap::new()),
            priority: Mutex::new(HashSet::new()),
        })
    }

    /// Accounts (by account id) that go first in each interval, e.g. those close to their
    /// target. Replaces the previous set; takes effect at the next interval.
    pub fn set_priority(&self, account_ids: impl IntoIterator<Item = String>) {
        if let Ok(mut p) = self.priority.lock() {
            *p = account_ids.into_iter().collect();
        }
    }

    /// What an earlier process knew: when each account last gave a reading (wall-clock), so
    /// that a restart goes on with the accounts read longest ago instead of starting over.
    /// A time later than one already known is kept; an earlier one changes nothing.
    pub fn remember(&self, last_success: impl IntoIterator<Item = (String, SystemTime)>) {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let Ok(mut l) = self.last_success.lock() else {
            return;
        };
        for (account, at) in last_success {
            let ago = wall.duration_since(at).unwrap_or(Duration::ZERO);
            // Older than this process's clock can say: the oldest instant it can.
            let instant = now.checked_sub(ago).unwrap_or_else(|| {
                (1..=40)
                    .rev()
                    .find_map(|d| now.checked_sub(Duration::from_secs(86_400 * d)))
                    .unwrap_or(now)
            });
            let e = l.entry(account).or_insert(instant);
            if instant > *e {
                *e = instant;
            }
        }
    }

    /// When each platform last gave a reading.
    pub fn last_success_by_platform(&self) -> HashMap<Platform, SystemTime> {
        self.platform_success
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// The order of one interval's polls: priority accounts first, then the rest; within each,
    /// the longest since last success first, never-read accounts before all.
    pub fn order(&self, targets: &mut [Target]) {
        let (Ok(last), Ok(priority)) = (self.last_success.lock(), self.priority.lock()) else {
            return;
        };
        targets.sort_by_key(|t| {
            (
                !priority.contains(&t.account_id),
                last.get(&t.account_id).copied(),
            )
        });
    }

    /// 0 closed, 1 half-open, 2 open, per platform (for the metrics gauge).
    pub fn circuit_states(&self) -> HashMap<Platform, i64> {
        self.circuits
            .lock()
            .map(|c| c.iter().map(|(p, c)| (*p, c.gauge())).collect())
            .unwrap_or_default()
    }

    /// How many of `targets` have not been read within `max_age` (never read counts).
    pub fn overdue(&self, targets: &[Target], max_age: Duration) -> usize {
        let now = Instant::now();
        let Ok(last) = self.last_success.lock() else {
            return 0;
        };
        targets
            .iter()
            .filter(|t| {
                last.get(&t.account_id)
                    .is_none_or(|at| now.duration_since(*at) > max_age)
            })
            .count()
    }

    /// The platform's circuit, created on first use (the salt staggers the jitter per
    /// platform).
    fn circuit<'a>(
        &self,
        circuits: &'a mut HashMap<Platform, Circuit>,
        platform: Platform,
    ) -> &'a mut Circuit {
        circuits.entry(platform).or_insert_with(|| {
            Circuit::new(
                self.config.circuit_base,
                self.config.circuit_max,
                mix(platform as u64),
            )
        })
    }

    fn permit(&self, platform: Platform) -> Permit {
        let Ok(mut circuits) = self.circuits.lock() else {
            return Permit::Go;
        };
        self.circuit(&mut circuits, platform).permit(Instant::now())
    }

    fn record(&self, o: &Outcome) {
        let Ok(mut circuits) = self.circuits.lock() else {
            return;
        };
        let c = self.circuit(&mut circuits, o.target.platform);
        match &o.result {
            Ok(_) => {
                c.success();
                if let Ok(mut l) = self.last_success.lock() {
                    l.insert(o.target.account_id.clone(), Instant::now());
                }
                if let Ok(mut l) = self.platform_success.lock() {
                    l.insert(o.target.platform, SystemTime::now());
                }
            }
            Err(e) if e.opens_circuit() => {
                let retry_after = match e {
                    haoqi_platform::FetchError::RateLimited {
                        retry_after_secs: Some(s),
                        ..
                    } => Some(Duration::from_secs(*s)),
                    _ => None,
                };
                let wait = c.trip(Instant::now(), retry_after);
                tracing::warn!(platform = %o.target.platform, kind = e.kind(), wait_secs = wait.as_secs(), "circuit open");
            }
            // A single account's problem says nothing against the platform; it did answer.
            Err(_) => c.answered(),
        }
    }

    /// Polls `targets` (all of one platform) cycle after cycle until `stop` turns true; `cycles`
    /// limits the number of cycles (tests, `--once`).
    pub async fn run(
        self: Arc<Self>,
        platform: Platform,
        mut targets: Vec<Target>,
        out: mpsc::Sender<Outcome>,
        mut stop: watch::Receiver<bool>,
        cycles: Option<u32>,
    ) {
        let interval = self.config.interval;
        let mut cycle = 0u32;
        while cycles.is_none_or(|c| cycle < c) && !*stop.borrow() {
            let start = Instant::now();
            // One interval number for the whole cycle (retries included), so an account's full
            // poll does not depend on when in the interval it is polled.
            let slot = self.sweeper.slot(SystemTime::now());
            self.order(&mut targets);
            let mut retries = self
                .clone()
                .pass(
                    platform,
                    &targets,
                    start,
                    interval.mul_f64(0.7),
                    &out,
                    &mut stop,
                    (cycle, slot),
                )
                .await;
            // Up to three more passes over what failed, each in half the time that is left.
            let end = start + interval;
            for round in 1..=3u32 {
                let now = Instant::now();
                if retries.is_empty() || *stop.borrow() || end <= now {
                    break;
                }
                let span = (end - now) / 2;
                retries = self
                    .clone()
                    .pass(
                        platform,
                        &retries,
                        now,
                        span,
                        &out,
                        &mut stop,
                        (cycle + 1000 * round, slot),
                    )
                    .await;
            }
            cycle += 1;
            let next = start + interval;
            if cycles.is_some_and(|c| cycle >= c) || sleep_or_stop(next, &mut stop).await {
                break;
            }
        }
    }

    /// One pass over `targets`, spread over `span` from `start`; returns those worth a retry.
    #[allow(clippy::too_many_arguments)]
    async fn pass(
        self: Arc<Self>,
        platform: Platform,
        targets: &[Target],
        start: Instant,
        span: Duration,
        out: &mpsc::Sender<Outcome>,
        stop: &mut watch::Receiver<bool>,
        (salt, slot): (u32, u64),
    ) -> Vec<Target> {
        let n = targets.len().max(1);
        let gap = span / n as u32;
        let mut tasks = JoinSet::new();
        for (i, t) in targets.iter().enumerate() {
            let j = (mix(u64::from(salt) << 32 | i as u64) % 1000) as f64 / 1000.0;
            let offset = gap.mul_f64((i as f64 + self.config.jitter * (j - 0.5)).max(0.0));
            let at = start + offset.min(span);
            if sleep_or_stop(at, stop).await {
                break;
            }
            // Wait out an open circuit; a probe goes alone.
            let mut stopped = false;
            while let Permit::Wait(d) = self.permit(platform) {
                if sleep_or_stop(Instant::now() + d, stop).await {
                    stopped = true;
                    break;
                }
            }
            if stopped {
                break;
            }
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                break;
            };
            let me = self.clone();
            let target = t.clone();
            let out = out.clone();
            tasks.spawn(async move {
                let outcome = me.sweeper.poll(target, slot).await;
                drop(permit);
                me.record(&outcome);
                // Everything but a deleted account is worth another try later in the interval:
                // a transient fault passes, a real layout change costs one more request.
                let retry = match &outcome.result {
                    Err(e) => e.kind() != "not_found",
                    Ok(_) => false,
                };
                let t = outcome.target.clone();
                let _ = out.send(outcome).await;
                retry.then_some(t)
            });
        }
        let mut retries = Vec::new();
        while let Some(r) = tasks.join_next().await {
            if let Ok(Some(t)) = r {
                retries.push(t);
            }
        }
        retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str) -> Target {
        Target {
            account_id: id.into(),
            platform: Platform::Bilibili,
            platform_id: id.into(),
        }
    }

    #[test]
    fn near_target_accounts_go_first_then_the_longest_unread() {
        let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchConfig::default()).unwrap();
        let sweeper = Arc::new(Sweeper::new(Vec::new(), &HashMap::new(), fetcher, 1));
        let s = Scheduler::new(sweeper, ScheduleConfig::default());
        let now = Instant::now();
        {
            let mut last = s.last_success.lock().unwrap();
            last.insert("old".into(), now - Duration::from_secs(7200));
            last.insert("new".into(), now);
            last.insert("near-new".into(), now);
            last.insert("near-old".into(), now - Duration::from_secs(3600));
        }
        let mut targets: Vec<Target> =
            ["new", "near-new", "old", "never", "near-old", "near-never"]
                .into_iter()
                .map(target)
                .collect();
        let ids = |t: &[Target]| t.iter().map(|t| t.account_id.clone()).collect::<Vec<_>>();
        s.order(&mut targets);
        assert_eq!(
            ids(&targets),
            ["never", "near-never", "old", "near-old", "new", "near-new"],
            "without priority: never read, then oldest first"
        );
        s.set_priority(["near-new", "near-old", "near-never"].map(String::from));
        s.order(&mut targets);
        assert_eq!(
            ids(&targets),
            ["near-never", "near-old", "near-new", "never", "old", "new"]
        );
    }

    #[test]
    fn a_restarted_scheduler_goes_on_from_what_the_store_remembers() {
        let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchConfig::default()).unwrap();
        let sweeper = Arc::new(Sweeper::new(Vec::new(), &HashMap::new(), fetcher, 1));
        let s = Scheduler::new(sweeper, ScheduleConfig::default());
        let wall = SystemTime::now();
        let hours = |h: u64| wall - Duration::from_secs(3600 * h);
        // Read just before the restart, read yesterday, read a year ago, never read.
        s.remember([
            ("just-read".to_string(), wall - Duration::from_secs(60)),
            ("yesterday".to_string(), hours(24)),
            ("last-year".to_string(), hours(24 * 365)),
        ]);
        let mut targets: Vec<Target> = ["just-read", "yesterday", "never", "last-year"]
            .into_iter()
            .map(target)
            .collect();
        s.order(&mut targets);
        let ids: Vec<&str> = targets.iter().map(|t| t.account_id.as_str()).collect();
        assert_eq!(ids, ["never", "last-year", "yesterday", "just-read"]);
        // A reading this process made is newer than what the store said; an older memory does
        // not move it back.
        s.remember([("last-year".to_string(), SystemTime::now())]);
        s.remember([("last-year".to_string(), hours(48))]);
        s.order(&mut targets);
        let ids: Vec<&str> = targets.iter().map(|t| t.account_id.as_str()).collect();
        assert_eq!(ids, ["never", "yesterday", "just-read", "last-year"]);
    }

    #[test]
    fn the_budget_check_does_the_designs_arithmetic() {
        // DESIGN.md §4: 694 Bilibili accounts at 0.5/s: one request each fits an hour (23 min),
        // three do not (69 min).
        let hour = Duration::from_secs(3600);
        let one = check_budget(694, 1.0, 0.5, hour).unwrap();
        assert_eq!(one.as_secs() / 60, 23);
        let err = check_budget(694, 3.0, 0.5, hour).unwrap_err();
        assert!(err.contains("69 min"), "{err}");
        // A full Bilibili poll (stat, card, navnum, upstat) once a day: 1 + 3/24 on average.
        let daily = check_budget(694, 1.0 + 3.0 / 24.0, 0.5, hour).unwrap();
        assert_eq!(daily.as_secs() / 60, 26);
    }
}
