//! The analytics commands: `stalled` (and, with the forecast and ranking, `progress --forecast`,
//! `rank`, `serve`). Each is a thin layer over `crate::analytics`.

use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use clap::Args;

use super::{write_stdout, Session};
use crate::analytics::health;
use crate::output::{render, Format};
use crate::store::migrate;

#[derive(Args, Debug)]
pub struct StalledArgs {
    /// Days without growth (and without a new post) before an account counts as flat / no_posts
    /// (default: stalled.flat_days = 7, stalled.no_posts_days = 14).
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Also list growing accounts (JSON and CSV always carry every account).
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub async fn stalled(ctx: &Session, args: &StalledArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let mut query = ctx.analytics().health(Utc::now());
    if let Some(days) = args.days {
        query.config.flat_days = days.max(1);
        query.config.no_posts_days = days.max(1);
    }
    let rows = query.run(store.as_ref()).await?;
    let table = health::table(&rows, args.all || args.format != Format::Table);
    if args.format == Format::Table {
        let counts: Vec<String> = health::counts(&rows)
            .into_iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        out!(
            "{} active accounts at {}: {}\n\n",
            rows.len(),
            query.now.format("%Y-%m-%d %H:%M UTC"),
            counts.join(", ")
        );
    }
    out!(
        "{}",
        render(args.format, &table, &serde_json::to_value(&rows)?)
    );
    Ok(ExitCode::SUCCESS)
}
