//! What keeps one slow request from starving the others (issue 15, case 3). The embedded engine
//! answers one query at a time, so a page that asks the store for every visitor queues them all
//! behind each other, `/healthz` included. Here:
//!
//! - the refresh (every minute) checks the store and computes today's goal report once; `/healthz`
//!   and the default `/api/progress` answer from that, without touching the engine's queue;
//! - what the refresh does not hold (another day, a what-if) asks the store through a bounded
//!   gate: at most [`STORE_SLOTS`] requests wait on the store at once, the next is told `503`
//!   with `Retry-After` at once instead of piling up, and each has [`REQUEST_LIMIT`].

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use haoqi_analytics::goal::GoalReport;
use haoqi_analytics::progress::AccountProgress;
use tokio::sync::Semaphore;

use crate::error::ApiError;
pub use crate::error::RETRY_AFTER_SECS;

/// Requests that may wait on the store at once (beyond the refresh's own work).
pub const STORE_SLOTS: usize = 4;
/// How long one request may take in the store before it is answered 503.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Slots {
    store_check: Option<(DateTime<Utc>, Result<(), &'static str>)>,
    progress: Option<(DateTime<Utc>, NaiveDate, Arc<GoalReport>)>,
    accounts: Option<(DateTime<Utc>, NaiveDate, Arc<Vec<AccountProgress>>)>,
}

/// The refresh's results and the gate to the store; cheap to clone.
#[derive(Clone)]
pub struct Cache {
    slots: Arc<RwLock<Slots>>,
    gate: Arc<Semaphore>,
    /// How old a refresh result may be and still be served (two missed refreshes).
    max_age: Duration,
}

impl Default for Cache {
    /// Serves nothing from a refresh (there is none): every request asks the store, gated.
    fn default() -> Self {
        Cache::every(Duration::ZERO)
    }
}

impl Cache {
    /// For a refresh every `refresh`.
    pub fn every(refresh: Duration) -> Self {
        Cache {
            slots: Arc::default(),
            gate: Arc::new(Semaphore::new(STORE_SLOTS)),
            max_age: refresh * 2,
        }
    }

    fn fresh(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        !self.max_age.is_zero() && (now - at).to_std().unwrap_or(Duration::ZERO) <= self.max_age
    }

    pub fn put_store_check(&self, at: DateTime<Utc>, result: Result<(), &'static str>) {
        if let Ok(mut s) = self.slots.write() {
            s.store_check = Some((at, result));
        }
    }

    /// The last store check, if fresh: when, and the error kind if it failed.
    pub fn store_check(
        &self,
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, Result<(), &'static str>)> {
        let s = self.slots.read().ok()?;
        s.store_check.filter(|(at, _)| self.fresh(*at, now))
    }

    pub fn put_progress(&self, at: DateTime<Utc>, report: GoalReport) {
        if let Ok(mut s) = self.slots.write() {
            s.progress = Some((at, report.progress.as_of, Arc::new(report)));
        }
    }

    /// Every account's progress as of `as_of`, from the refresh: the pages of units and
    /// prefectures filter it by the viewer's scope instead of each asking the store.
    pub fn put_accounts(&self, at: DateTime<Utc>, as_of: NaiveDate, rows: Vec<AccountProgress>) {
        if let Ok(mut s) = self.slots.write() {
            s.accounts = Some((at, as_of, Arc::new(rows)));
        }
    }

    /// The refresh's accounts for `as_of`, if it has them and they are fresh.
    pub fn accounts(
        &self,
        now: DateTime<Utc>,
        as_of: NaiveDate,
    ) -> Option<Arc<Vec<AccountProgress>>> {
        let s = self.slots.read().ok()?;
        let (at, day, rows) = s.accounts.as_ref()?;
        (*day == as_of && self.fresh(*at, now)).then(|| rows.clone())
    }

    /// The refresh's goal report for `as_of`, if it has one and it is fresh.
    pub fn progress(
        &self,
        now: DateTime<Utc>,
        as_of: NaiveDate,
    ) -> Option<(DateTime<Utc>, Arc<GoalReport>)> {
        let s = self.slots.read().ok()?;
        let (at, day, report) = s.progress.as_ref()?;
        (*day == as_of && self.fresh(*at, now)).then(|| (*at, report.clone()))
    }

    /// Runs `work` in the store if a slot is free (else [`ApiError::Busy`] at once), within
    /// [`REQUEST_LIMIT`] (else [`ApiError::TimedOut`]).
    pub async fn ask<T, E>(&self, work: impl Future<Output = Result<T, E>>) -> Result<T, ApiError>
    where
        ApiError: From<E>,
    {
        let Ok(_slot) = self.gate.try_acquire() else {
            return Err(ApiError::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            });
        };
        match tokio::time::timeout(REQUEST_LIMIT, work).await {
            Ok(r) => r.map_err(ApiError::from),
            Err(_) => Err(ApiError::TimedOut),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_turns_requests_away_at_once() {
        let cache = Cache::default();
        let (release, wait) = tokio::sync::watch::channel(false);
        let mut held = Vec::new();
        for _ in 0..STORE_SLOTS {
            let c = cache.clone();
            let mut w = wait.clone();
            held.push(tokio::spawn(async move {
                c.ask(async move {
                    let _ = w.wait_for(|v| *v).await;
                    Ok::<_, ApiError>(1)
                })
                .await
            }));
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let turned = cache.ask(async { Ok::<_, ApiError>(2) }).await;
        assert!(
            matches!(
                turned,
                Err(ApiError::Busy {
                    retry_after_secs: 5
                })
            ),
            "{turned:?}"
        );
        release.send(true).unwrap();
        for h in held {
            assert_eq!(h.await.unwrap().unwrap(), 1);
        }
        // Slots are free again.
        assert_eq!(cache.ask(async { Ok::<_, ApiError>(3) }).await.unwrap(), 3);
    }

    #[test]
    fn results_are_served_while_fresh_only() {
        let cache = Cache::every(Duration::from_secs(60));
        let now = Utc::now();
        cache.put_store_check(now - chrono::Duration::seconds(100), Ok(()));
        assert!(cache.store_check(now).is_some());
        cache.put_store_check(now - chrono::Duration::seconds(121), Err("unavailable"));
        assert!(cache.store_check(now).is_none(), "two refreshes missed");
        assert!(Cache::default().store_check(now).is_none());
    }
}
