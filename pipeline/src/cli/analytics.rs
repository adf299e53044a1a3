//! The analytics commands: `stalled` (and, with the forecast and ranking, `progress --forecast`,
//! `rank`, `serve`). Each is a thin layer over `haoqi_analytics`.

use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use clap::Args;

use super::{write_stdout, Session};
use crate::output::{render, Format};
use crate::service::serve;
use haoqi_analytics::health;
use haoqi_store::migrate;

#[derive(Args, Debug)]
pub struct StalledArgs {
    /// Days without growth (and without a new post) before an account counts as flat / no_posts
    /// (default: stalled.flat_days = 7, stalled.no_posts_days = 14).
    #[arg(long, value_name = "N", value_parser = super::values::stalled_days)]
    pub days: Option<u32>,
    /// Also list growing accounts (JSON and CSV always carry every account).
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub(super) async fn stalled(ctx: &Session, args: &StalledArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let query = ctx.analytics().health(Utc::now()).with_days(args.days);
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

/// `progress --forecast | --series | --growth`.
pub(super) async fn progress_analytics(
    ctx: &Session,
    args: &super::ProgressArgs,
) -> Result<ExitCode> {
    use haoqi_analytics::{goal, series};
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let settings = ctx.analytics();
    let as_of = args
        .as_of
        .unwrap_or_else(haoqi_model::time::last_complete_day);
    if args.forecast {
        let report = goal::report(store.as_ref(), &settings, as_of, &args.assume).await?;
        match args.format {
            Format::Table => out!("{}", goal::text(&report)),
            Format::Json => out!("{}\n", serde_json::to_string_pretty(&report)?),
            // CSV: the methods, one row each (the full report is JSON).
            Format::Csv => out!("{}", forecast_table(&report.forecast).to_csv()),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.series {
        let from = args.from.unwrap_or_else(|| as_of - chrono::Days::new(30));
        let dims = match args.by {
            None => vec!["matrix"],
            Some(by) => vec!["matrix", by.dimension()],
        };
        let points = series::daily(
            store.as_ref(),
            from,
            as_of,
            &dims,
            settings.stale_after_hours,
        )
        .await?;
        out!(
            "{}",
            render(
                args.format,
                &series::series_table(&points),
                &serde_json::to_value(&points)?
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows = series::account_growth(store.as_ref(), as_of, settings.stale_after_hours).await?;
    out!(
        "{}",
        render(
            args.format,
            &series::growth_table(&rows),
            &serde_json::to_value(&rows)?
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn forecast_table(f: &haoqi_analytics::forecast::Forecast) -> crate::output::Table {
    let mut t = crate::output::Table::new(&[
        "as_of",
        "method",
        "current",
        "goal",
        "deadline",
        "required_daily_growth",
        "pace_7d",
        "daily_growth",
        "daily_growth_low",
        "daily_growth_high",
        "reach_date",
        "reach_date_earliest",
        "reach_date_latest",
        "at_deadline",
    ]);
    let o = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_default();
    let d = |x: Option<chrono::NaiveDate>| x.map(|v| v.to_string()).unwrap_or_default();
    for m in &f.methods {
        t.push(vec![
            f.as_of.to_string(),
            m.method.to_string(),
            f.current.to_string(),
            f.goal.to_string(),
            f.deadline.to_string(),
            o(f.required_daily_growth),
            o(f.pace_7d),
            format!("{:.1}", m.daily_growth),
            format!("{:.1}", m.daily_growth_low),
            format!("{:.1}", m.daily_growth_high),
            d(m.reach_date),
            d(m.reach_date_earliest),
            d(m.reach_date_latest),
            m.at_deadline.map(|v| v.to_string()).unwrap_or_default(),
        ]);
    }
    t
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Loopback by default: the API is for the dashboard host, not the internet.
    #[arg(long, default_value = "127.0.0.1:9465")]
    pub listen: std::net::SocketAddr,
    /// Seconds between two computations of the health and goal gauges (and of the states
    /// /api/stalled answers with).
    #[arg(long, default_value_t = 60)]
    pub refresh_secs: u64,
}

pub(super) async fn serve(ctx: &Session, args: &ServeArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let metrics = haoqi_web::Metrics::new()?;
    let web = ctx.web()?;
    if let Some(dir) = &ctx.config.backup.dir {
        let b = &ctx.config.backup;
        crate::service::backup::spawn_schedule(
            store.clone(),
            web.db.clone(),
            dir.clone(),
            std::time::Duration::from_secs(b.every_hours * 3600),
            b.keep,
        );
        out!(
            "backups every {} h into {} (the newest {} kept)\n",
            b.every_hours,
            dir.display(),
            b.keep
        );
    }
    let app = serve::app(
        store,
        ctx.analytics(),
        metrics,
        None,
        args.refresh_secs,
        Some(web),
    );
    let listener = serve::bind(args.listen).await?;
    out!(
        "serving the web application at http://{0}/ (and /metrics, /healthz, /api/progress, /api/stalled); Ctrl-C stops\n",
        listener.local_addr()?
    );
    serve::serve_until(listener, app, serve::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct RankArgs {
    /// First day of the period (Beijing, inclusive).
    #[arg(long, value_name = "DATE", required_unless_present_any = ["show", "list", "resolve"])]
    pub from: Option<chrono::NaiveDate>,
    /// Last day of the period (Beijing, inclusive).
    #[arg(long, value_name = "DATE", required_unless_present_any = ["show", "list", "resolve"])]
    pub to: Option<chrono::NaiveDate>,
    /// Store this ranking (inputs, findings, weights, formula version) under NAME, so the
    /// published list can be reprinted later with --show NAME.
    #[arg(long, value_name = "NAME")]
    pub freeze: Option<String>,
    /// Reprint the ranking frozen under NAME (same formats as a fresh one).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["from", "to", "freeze", "tier"])]
    pub show: Option<String>,
    /// With --show: what changed between the frozen ranking and a fresh computation of the same
    /// period, tier and weights on today's data.
    #[arg(long, requires = "show")]
    pub diff: bool,
    /// List the frozen rankings.
    #[arg(long, conflicts_with_all = ["from", "to", "show"])]
    pub list: bool,
    /// Mark an anomaly as explained so the account may compete again: ACCOUNT:DAY:KIND
    /// (repeatable; needs --note and --by).
    #[arg(long, value_name = "FINDING", value_parser = haoqi_analytics::rank::freeze::parse_finding, requires_all = ["note", "by"], conflicts_with_all = ["from", "to", "show", "list"])]
    pub resolve: Vec<(String, chrono::NaiveDate, String)>,
    /// Why the finding is explained (with --resolve).
    #[arg(long)]
    pub note: Option<String>,
    /// Who decided (with --resolve).
    #[arg(long)]
    pub by: Option<String>,
    /// vertical, horizontal or a kind (society, county_assoc, …); default both tiers, each
    /// ranked on its own.
    #[arg(long, value_name = "TIER")]
    pub tier: Option<haoqi_analytics::rank::TierFilter>,
    /// Ranked accounts per group to print or write (ineligible accounts are always all listed).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Write the report: .xlsx (the committee's workbook), .csv or .json.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Printed format when there is no --out.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub(super) async fn rank(ctx: &Session, args: &RankArgs) -> Result<ExitCode> {
    use haoqi_analytics::rank::{self, freeze, TierFilter};
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let settings = ctx.analytics();
    if args.list {
        let list = freeze::list(store.as_ref()).await?;
        let mut t =
            crate::output::Table::new(&["name", "created", "from", "to", "tier", "formula"]);
        for f in &list {
            t.push(vec![
                f.name.clone(),
                f.created_at.clone(),
                f.from_day.to_string(),
                f.to_day.to_string(),
                f.tier.clone(),
                f.formula_version.clone(),
            ]);
        }
        out!("{}", render(args.format, &t, &serde_json::to_value(&list)?));
        return Ok(ExitCode::SUCCESS);
    }
    if !args.resolve.is_empty() {
        let note = args.note.as_deref().unwrap_or_default();
        let by = args.by.as_deref().unwrap_or_default();
        for f in &args.resolve {
            freeze::resolve(store.as_ref(), f, note, by).await?;
            out!("resolved {}:{}:{} by {by}: {note}\n", f.0, f.1, f.2);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(name) = &args.show {
        let (frozen, data) = freeze::load(store.as_ref(), name).await?;
        if args.diff {
            let (fresh, _) = rank::compute(
                store.as_ref(),
                frozen.from,
                frozen.to,
                &freeze::tier_of(&frozen.tier),
                &frozen.config,
                &settings.crawled,
            )
            .await?;
            let t = freeze::diff(&frozen, &fresh);
            if args.format == Format::Table {
                out!(
                    "{name} ({} to {}, frozen) against today's data: {} account(s) changed\n\n",
                    frozen.from,
                    frozen.to,
                    t.rows.len()
                );
            }
            out!("{}", render(args.format, &t, &serde_json::json!(t.rows)));
            return Ok(ExitCode::SUCCESS);
        }
        // The frozen inputs still give the frozen ranking: say so if the formula moved on.
        if freeze::reproduce(&frozen, &data) != frozen {
            tracing::warn!(name, "recomputing the frozen inputs no longer gives the frozen ranking (formula changed); showing the frozen one");
        }
        return emit(store.as_ref(), &settings, &frozen, args).await;
    }
    let (Some(from), Some(to)) = (args.from, args.to) else {
        anyhow::bail!("--from and --to are required");
    };
    if to < from {
        anyhow::bail!("--to {to} is before --from {from}");
    }
    let tier = args.tier.clone().unwrap_or(TierFilter::Both);
    let (ranking, data) = rank::compute(
        store.as_ref(),
        from,
        to,
        &tier,
        &settings.rank,
        &settings.crawled,
    )
    .await?;
    if let Some(name) = &args.freeze {
        freeze::freeze(store.as_ref(), name, &ranking, &data).await?;
        out!("frozen as {name:?}: reprint with haoqi rank --show {name}\n");
    }
    emit(store.as_ref(), &settings, &ranking, args).await
}

/// Prints the ranking or writes it to --out.
async fn emit(
    store: &dyn haoqi_store::Store,
    settings: &haoqi_analytics::Settings,
    ranking: &haoqi_analytics::rank::Ranking,
    args: &RankArgs,
) -> Result<ExitCode> {
    use haoqi_analytics::rank::{table, xlsx};
    let Some(out) = &args.out else {
        match args.format {
            Format::Table => {
                out!(
                    "{} to {} ({}): {} ranked, {} ineligible, {} open anomalies; formula {}\n\n{}",
                    ranking.from,
                    ranking.to,
                    ranking.tier,
                    ranking.accounts.len(),
                    ranking.ineligible.len(),
                    ranking.anomalies.len(),
                    ranking.formula_version,
                    table::brief(ranking, args.top).to_text()
                );
            }
            Format::Csv => out!("{}", table::accounts(ranking, args.top).to_csv()),
            Format::Json => out!("{}\n", serde_json::to_string_pretty(ranking)?),
        }
        return Ok(ExitCode::SUCCESS);
    };
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" => {
            let p = haoqi_analytics::progress::ProgressQuery {
                as_of: ranking.to,
                stale_after_hours: settings.stale_after_hours,
            }
            .summary(store, settings.goal.followers, settings.goal.deadline)
            .await?;
            xlsx::write(out, ranking, settings.goal.followers, p.matrix.followers)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
        }
        "csv" => std::fs::write(out, table::accounts(ranking, args.top).to_csv())?,
        "json" => std::fs::write(out, serde_json::to_string_pretty(ranking)? + "\n")?,
        other => anyhow::bail!(
            "--out {}: unknown extension {other:?}; use .xlsx, .csv or .json",
            out.display()
        ),
    }
    out!(
        "wrote {} ({} ranked, {} ineligible, {} open anomalies)\n",
        out.display(),
        ranking.accounts.len(),
        ranking.ineligible.len(),
        ranking.anomalies.len()
    );
    Ok(ExitCode::SUCCESS)
}
