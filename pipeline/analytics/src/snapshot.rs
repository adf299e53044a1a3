//! The latest judgement of every account's health, as the refresh behind the `/metrics` gauges
//! made it. `/api/stalled` answers from it while it is fresh: the counts an alert fired on and the
//! list an operator then opens are one answer, and wall screens polling the API do not each run
//! the health query (a quarter of a second of both cores on a 2-core machine, BENCHMARKS.md).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::health::{self, AccountHealth};

/// One computation: when the states were judged, and the states.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: DateTime<Utc>,
    pub rows: Arc<Vec<AccountHealth>>,
}

impl Snapshot {
    /// The `/api/stalled` answer: the time judged, counts per state, every account, and whether
    /// the answer comes from the minute-by-minute refresh or was computed for this request.
    pub fn report<'a>(&'a self, computed_by: &'a str) -> Report<'a> {
        Report {
            now: self.now,
            computed_by,
            counts: health::counts(&self.rows)
                .into_iter()
                .map(|(k, n)| (k.to_string(), n.into()))
                .collect(),
            accounts: &self.rows,
        }
    }
}

/// Serialised as it stands, without a copy of the rows (3,000 accounts: BENCHMARKS.md).
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub now: DateTime<Utc>,
    pub computed_by: &'a str,
    /// State → accounts, every state (zeros included).
    pub counts: serde_json::Map<String, serde_json::Value>,
    pub accounts: &'a [AccountHealth],
}

/// The latest snapshot, shared between the refresh task and the HTTP handlers.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    slot: Arc<RwLock<Option<Snapshot>>>,
    /// How old a snapshot may be and still be served; zero serves none.
    max_age: Duration,
}

impl Latest {
    /// For a refresh every `refresh`: a snapshot is served until two refreshes have been missed
    /// (the store away, say), after which each request asks the store itself again.
    pub fn every(refresh: Duration) -> Self {
        Latest {
            slot: Arc::default(),
            max_age: refresh * 2,
        }
    }

    pub fn put(&self, snapshot: Snapshot) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some(snapshot);
        }
    }

    /// The snapshot, if it was judged at most the allowed age before `now`.
    pub fn fresh(&self, now: DateTime<Utc>) -> Option<Snapshot> {
        let slot = self.slot.read().ok()?;
        let snapshot = slot.as_ref()?;
        let age = (now - snapshot.now).to_std().unwrap_or(Duration::ZERO);
        (age <= self.max_age && !self.max_age.is_zero()).then(|| snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(now: DateTime<Utc>) -> Snapshot {
        Snapshot {
            now,
            rows: Arc::new(Vec::new()),
        }
    }

    #[test]
    fn a_snapshot_is_served_until_two_refreshes_are_missed() {
        let now = Utc::now();
        let latest = Latest::every(Duration::from_secs(60));
        assert!(latest.fresh(now).is_none(), "nothing computed yet");
        latest.put(snapshot(now - chrono::Duration::seconds(119)));
        assert!(latest.fresh(now).is_some());
        latest.put(snapshot(now - chrono::Duration::seconds(121)));
        assert!(latest.fresh(now).is_none(), "two refreshes missed");
        // Without a refresh behind it (the default), nothing is ever served.
        let none = Latest::default();
        none.put(snapshot(now));
        assert!(none.fresh(now).is_none());
    }
}
