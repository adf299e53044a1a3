//! Analytics for the three audiences: leadership (series, growth, forecast), the subsidy
//! committee (ranking), operations (account health). The arithmetic is ClickHouse SQL in
//! `sql/queries/`; these modules pass parameters, check shapes and explain the answers.

pub mod forecast;
pub mod gauges;
pub mod goal;
pub mod health;
pub mod rank;
pub mod series;
pub mod snapshot;
pub mod whatif;

use crate::config::Config;

/// What the analytics need from the configuration, gathered once so the CLI and the HTTP API
/// answer the same question the same way.
#[derive(Debug, Clone)]
pub struct Settings {
    pub goal: crate::config::GoalConfig,
    pub stale_after_hours: u32,
    pub stalled: health::StalledConfig,
    pub forecast: forecast::ForecastConfig,
    pub rank: rank::RankConfig,
    pub interval_mins: u64,
    /// Platforms the collectors poll (the others arrive by import).
    pub crawled: Vec<String>,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        let mut crawled = Vec::new();
        for (name, p) in [
            ("bilibili", &c.collect.bilibili),
            ("douyin", &c.collect.douyin),
            ("kuaishou", &c.collect.kuaishou),
        ] {
            if p.enabled {
                crawled.push(name.to_string());
            }
        }
        Settings {
            goal: c.goal.clone(),
            stale_after_hours: c.progress.stale_after_hours,
            stalled: c.stalled.clone(),
            forecast: c.forecast.clone(),
            rank: c.rank.clone(),
            interval_mins: c.collect.interval_mins.max(1),
            crawled,
        }
    }

    pub fn health(&self, now: chrono::DateTime<chrono::Utc>) -> health::HealthQuery {
        health::HealthQuery {
            now,
            config: self.stalled.clone(),
            interval_mins: self.interval_mins,
            crawled: self.crawled.clone(),
        }
    }
}
