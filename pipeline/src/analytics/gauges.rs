//! Puts the health states and the goal's pace on `/metrics`, so Prometheus rules can alert on
//! them. Counts are per state × platform × kind × prefecture × department: labels come from the
//! registry, never an account id. Every state is written for every combination seen, zeros
//! included, so an alert resolves because a count reached 0, not because a series vanished.

use std::collections::BTreeSet;

use chrono::Utc;

use super::{goal, health, Settings};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

pub async fn refresh(
    store: &dyn Store,
    settings: &Settings,
    metrics: &Metrics,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let rows = settings.health(now).run(store).await?;
    let report = goal::report(store, settings, crate::time::beijing_day(now), &[]).await?;

    let group = |r: &health::AccountHealth| {
        (
            r.platform.clone(),
            r.kind.clone(),
            r.prefecture_name.clone().unwrap_or_default(),
            r.department.clone(),
        )
    };
    let groups: BTreeSet<_> = rows.iter().map(group).collect();
    metrics.account_health.reset();
    for (platform, kind, prefecture, department) in &groups {
        for state in health::STATES {
            let n = rows
                .iter()
                .filter(|r| {
                    r.state == state
                        && group(r)
                            == (
                                platform.clone(),
                                kind.clone(),
                                prefecture.clone(),
                                department.clone(),
                            )
                })
                .count();
            metrics
                .account_health
                .with_label_values(&[state, platform, kind, prefecture, department])
                .set(n as i64);
        }
    }

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
        .set(crate::time::end_of_day_utc(f.deadline).timestamp());
    metrics.analytics_refreshed.set(now.timestamp());
    Ok(())
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
