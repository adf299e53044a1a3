//! Puts the health states and the goal's pace on `/metrics`, so Prometheus rules can alert on
//! them. Counts are per state × platform × kind × prefecture × department: labels come from the
//! registry, never an account id. Every state is written for every combination seen, zeros
//! included, so an alert resolves because a count reached 0, not because a series vanished.

use std::collections::BTreeMap;

use chrono::Utc;

use haoqi_analytics::snapshot::{Latest, Snapshot};
use haoqi_analytics::{goal, health, Settings};
use haoqi_store::{Store, StoreError};
use haoqi_web::metrics::Metrics;

/// Computes every account's state and the goal's pace and sets the gauges; the states are kept
/// in `latest` for `/api/stalled` as soon as they are computed (a failing goal report does not
/// withhold them). Returns when it judged, and today's goal report (for `/api/progress`).
pub async fn refresh(
    store: &dyn Store,
    settings: &Settings,
    metrics: &Metrics,
    latest: &Latest,
) -> Result<(chrono::DateTime<Utc>, goal::GoalReport), StoreError> {
    let now = Utc::now();
    let rows = std::sync::Arc::new(settings.health(now).run(store).await?);
    latest.put(Snapshot {
        now,
        rows: rows.clone(),
    });

    // One pass: counts per (labels, state); then every state for every label set seen.
    let mut counts: BTreeMap<[&str; 4], BTreeMap<&str, i64>> = BTreeMap::new();
    for r in rows.iter() {
        let labels = [
            r.platform.as_str(),
            r.kind.as_str(),
            r.prefecture_name.as_deref().unwrap_or(""),
            r.department.as_str(),
        ];
        *counts
            .entry(labels)
            .or_default()
            .entry(r.state.as_str())
            .or_default() += 1;
    }
    metrics.account_health.reset();
    for ([platform, kind, prefecture, department], by_state) in &counts {
        for state in health::STATES {
            metrics
                .account_health
                .with_label_values(&[state, platform, kind, prefecture, department])
                .set(by_state.get(state).copied().unwrap_or(0));
        }
    }

    // The default report: as of the last complete day, as `/api/progress` answers by default.
    let day = haoqi_model::time::beijing_day(now);
    let report = goal::report(store, settings, day.pred_opt().unwrap_or(day), &[]).await?;
    let f = &report.forecast;
    metrics.goal_followers.set(clamp(f.current));
    metrics.goal_target.set(clamp(f.goal));
    metrics
        .goal_required_daily
        .set(f.required_daily_growth.unwrap_or(0.0));
    for (window, pace) in [("7d", f.pace_7d), ("30d", f.pace_30d)] {
        match pace {
            Some(p) => metrics.goal_pace_daily.with_label_values(&[window]).set(p),
            // No pace yet: no series rather than a fake 0 that a rule would read as "stalled".
            None => {
                let _ = metrics.goal_pace_daily.remove_label_values(&[window]);
            }
        }
    }
    metrics
        .goal_deadline
        .set(haoqi_model::time::end_of_day_utc(f.deadline).timestamp());
    metrics.analytics_refreshed.set(now.timestamp());
    Ok((now, report))
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
