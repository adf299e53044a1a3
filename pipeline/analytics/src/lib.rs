//! haoqi-analytics: the answers for the three audiences — leadership (progress, series, goal,
//! forecast), the subsidy committee (ranking, anomalies, frozen rankings, the workbook),
//! operations (account health). The arithmetic is ClickHouse SQL in `pipeline/store/sql/queries/`;
//! these modules pass parameters, check shapes and explain the answers. They return data (and
//! [`haoqi_model::table::Table`]s); printing is the binary's.
//!
//! Depends on: haoqi-model, haoqi-store, haoqi-registry.

pub mod forecast;
pub mod goal;
pub mod health;
pub mod limits;
pub mod progress;
pub mod rank;
pub mod series;
pub mod snapshot;
pub mod whatif;

pub use goal::GoalConfig;
pub use progress::ProgressConfig;

/// What the analytics need from the configuration, gathered once so the CLI and the HTTP API
/// answer the same question the same way. The binary builds it from its configuration file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub goal: GoalConfig,
    pub stale_after_hours: u32,
    pub stalled: health::StalledConfig,
    pub forecast: forecast::ForecastConfig,
    pub rank: rank::RankConfig,
    pub interval_mins: u64,
    /// Platforms the collectors poll (the others arrive by import).
    pub crawled: Vec<String>,
}

impl Settings {
    pub fn health(&self, now: chrono::DateTime<chrono::Utc>) -> health::HealthQuery {
        health::HealthQuery {
            now,
            config: self.stalled.clone(),
            interval_mins: self.interval_mins,
            crawled: self.crawled.clone(),
        }
    }
}
