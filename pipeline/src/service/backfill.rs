//! Simulated history for the demo: one reading per account per day (at noon, Beijing time) from
//! the simulator's own growth curves, marked `source = simulated`, so the dashboards and the
//! forecast have something to show on a fresh machine. Never mixed up with real data: the source
//! says what it is.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use haoqi_model::tick::Tick;
use haoqi_platform::hash::seed_of;
use haoqi_platform::Counter;
use haoqi_simulator::growth::{day_of, Curve};

use haoqi_model::count::Count;
use haoqi_model::reading::{Batch, Reading, Source};
use haoqi_model::time::DISPLAY_TZ;
use haoqi_registry::Registry;
use haoqi_store::spool::{WriteError, Writer};

/// Writes `days` days of history ending the day before `today`; returns the readings written.
pub async fn backfill(
    registry: &Registry,
    writer: &Writer,
    today: NaiveDate,
    days: u32,
    progress: &dyn Tick,
) -> Result<usize, WriteError> {
    let accounts: Vec<_> = registry
        .accounts
        .iter()
        .filter(|a| a.active && !a.platform_id.is_empty())
        .collect();
    progress.start(u64::from(days));
    let mut written = 0;
    let mut batch = Vec::with_capacity(10_000);
    for back in (1..=i64::from(days)).rev() {
        let day = today - Duration::days(back);
        let noon = DISPLAY_TZ
            .from_local_datetime(
                &day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN)),
            )
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| {
                DateTime::<Utc>::from_naive_utc_and_offset(day.and_time(NaiveTime::MIN), Utc)
            });
        let d = day_of(noon.timestamp());
        for a in &accounts {
            let c = Curve::new(seed_of(&a.platform_id));
            let mut r = Reading::followers(
                &a.account_id,
                a.platform,
                noon,
                Count::exact(c.followers(d)),
                Source::Simulated,
            );
            // Only the counters the platform exposes (reference §2–3): Kuaishou has no likes,
            // WeChat arrives by import with followers alone.
            if a.platform.exposes(Counter::Likes) {
                r.likes = Some(Count::exact(c.likes(d)));
            }
            if a.platform.exposes(Counter::Posts) {
                r.posts = Some(Count::exact(c.posts(d)));
            }
            r.provenance = "haoqi demo backfill".into();
            batch.push(r);
            if batch.len() >= 10_000 {
                writer.write(&Batch::new(&batch, Utc::now())).await?;
                written += batch.len();
                batch.clear();
            }
        }
        progress.advance(1);
    }
    if !batch.is_empty() {
        writer.write(&Batch::new(&batch, Utc::now())).await?;
        written += batch.len();
    }
    Ok(written)
}
