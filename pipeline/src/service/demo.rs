//! `haoqi demo`: the whole product on one machine in a few minutes — the registry loaded, the
//! platform simulator started, a simulated history backfilled, one live sweep through the real
//! adapters, goal progress, then the API served until Ctrl-C. Simulated data is stored as
//! `simulated` and never mistaken for real readings.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use haoqi_analytics::progress::{self, By, ProgressQuery};
use haoqi_appdb::role::Grant;
use haoqi_appdb::{Actor, AppDb, NewUser, Role};
use haoqi_model::reading::Source;
use haoqi_model::tick::Tick;
use haoqi_platform::Platform;
use haoqi_registry::Registry;
use haoqi_simulator::{Faults, SimAccount, SimConfig, Simulator};
use haoqi_store::spool::{Spool, Writer};
use haoqi_store::Store;
use haoqi_web::Metrics;

use super::collect::{self, CollectOptions, Sink};
use super::{serve, Say};
use crate::config::Config;

/// What the demo was asked to do.
pub struct DemoPlan<'a> {
    pub config: &'a Config,
    pub registry: Registry,
    pub store: Arc<dyn Store>,
    pub spool: Spool,
    pub days: u32,
    pub rate: f64,
    pub faults: f64,
    /// `None`: stop after the progress report.
    pub listen: Option<SocketAddr>,
    /// The web application's database and settings (the demo logins go into it).
    pub web: Option<serve::Web>,
}

/// A demo login: its name, role, password and what it is bound to.
pub struct DemoLogin {
    pub name: String,
    pub role: Role,
    pub password: String,
    pub bound_to: String,
}

/// One login per role (`demo-admin`, `demo-leader`, …), with a fresh random password each run
/// (an existing demo login gets a new one): the unit login is bound to the first unit with a
/// video account, the liaison to that unit's prefecture.
pub fn demo_logins(db: &AppDb, registry: &Registry) -> Result<Vec<DemoLogin>> {
    let unit = registry
        .accounts
        .iter()
        .filter(|a| a.active && a.platform.is_video())
        .find_map(|a| {
            registry
                .units
                .iter()
                .find(|u| u.unit_id == a.unit_id && u.prefecture_code.is_some())
        })
        .ok_or_else(|| anyhow::anyhow!("the registry has no unit with a video account"))?;
    let prefecture = unit.prefecture_code.unwrap_or_default();
    let actor = Actor::new("demo", "local");
    let mut logins = Vec::new();
    for role in Role::ALL {
        let name = format!("demo-{role}");
        let (unit_id, pref, bound_to) = match role {
            Role::Unit => (
                Some(unit.unit_id.clone()),
                None,
                format!("{}（{}）", unit.name, unit.unit_id),
            ),
            Role::Liaison => (None, Some(prefecture), format!("地州 {prefecture}")),
            _ => (None, None, String::new()),
        };
        let password = format!(
            "demo-{}",
            haoqi_appdb::new_token()?
                .get(..12)
                .unwrap_or("password0000")
        );
        if db.user(&name)?.is_some() {
            db.reset_password(&name, &password, &actor)?;
        } else {
            let grant = Grant::new(role, unit_id, pref).map_err(anyhow::Error::msg)?;
            db.add_user(
                &NewUser {
                    name: name.clone(),
                    grant,
                },
                &password,
                &actor,
            )?;
        }
        logins.push(DemoLogin {
            name,
            role,
            password,
            bound_to,
        });
    }
    Ok(logins)
}

/// Every active video account of the registry, as the simulator serves it.
pub fn sim_accounts(registry: &Registry) -> Vec<SimAccount> {
    registry
        .accounts
        .iter()
        .filter(|a| a.platform.is_video() && !a.platform_id.is_empty())
        .map(|a| SimAccount::new(a.platform, &a.platform_id, &a.display_name))
        .collect()
}

/// Runs the demo's steps 2 to 5 (the command has migrated the store and loaded the registry:
/// step 1), saying each; `history` shows the backfill's progress.
pub async fn run(plan: DemoPlan<'_>, history: &dyn Tick, say: Say<'_>) -> Result<()> {
    let store = plan.store.clone();
    let (sim, sim_url) = start_simulator(&plan).await?;
    say(&format!("2/5 simulator on {sim_url}"));

    let writer = Writer::new(store.clone(), plan.spool.clone());
    let written = super::backfill::backfill(
        &plan.registry,
        &writer,
        haoqi_model::time::today(),
        plan.days,
        history,
    )
    .await?;
    history.finish();
    say(&format!(
        "3/5 backfilled {} days of simulated history: {written} readings",
        plan.days
    ));

    let metrics = Metrics::new()?;
    for p in Platform::ALL {
        metrics
            .accounts
            .with_label_values(&[p.as_str()])
            .set(plan.registry.active_on(p).count() as i64);
    }
    let swept = sweep(&plan, &writer, &metrics, sim_url).await?;
    say(&format!(
        "4/5 live sweep through the real adapters: {} accounts polled, {} readings; violations of the simulated limits: {}",
        swept.polled,
        swept.readings,
        sim.stats().violations.values().sum::<u64>()
    ));
    say(swept.table().to_text().trim_end());

    let query = ProgressQuery {
        as_of: haoqi_model::time::today(),
        stale_after_hours: plan.config.progress.stale_after_hours,
    };
    let p = query
        .summary(
            store.as_ref(),
            plan.config.goal.followers,
            plan.config.goal.deadline,
        )
        .await?;
    say("5/5 goal progress (simulated data):");
    say(progress::headline(&p).trim_end());
    say(progress::group_table(&p, Some(By::Tier))
        .to_text()
        .trim_end());
    if let Some(listen) = plan.listen {
        serve_until_ctrl_c(&plan, metrics, listen, say).await?;
    }
    Ok(())
}

async fn start_simulator(plan: &DemoPlan<'_>) -> Result<(Simulator, url::Url)> {
    let sim = Simulator::new(
        sim_accounts(&plan.registry),
        SimConfig {
            limit_per_sec: plan.rate * 2.0,
            faults: Faults::uniform(plan.faults),
            fixed_time: None,
            ..SimConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
    tokio::spawn(sim.clone().serve(listener));
    Ok((sim, url))
}

/// One sweep of every account through the real adapters, pointed at the simulator.
async fn sweep(
    plan: &DemoPlan<'_>,
    writer: &Writer,
    metrics: &Metrics,
    sim_url: url::Url,
) -> Result<collect::CollectReport> {
    let opts = CollectOptions {
        simulator: Some(sim_url),
        per_second: Some(plan.rate),
        ..Default::default()
    };
    let sweeper = collect::observe_limiter(collect::sweeper(&plan.config.collect, &opts)?, metrics);
    let targets = collect::targets(&plan.registry, &sweeper.platforms());
    let sink = Sink {
        store: plan.store.clone(),
        writer,
        batch_max_rows: plan.config.collect.batch_max_rows,
        source: Source::Simulated,
        metrics: Some(metrics),
        progress: true,
    };
    Ok(collect::collect_once(&sweeper, targets, &sink).await?)
}

async fn serve_until_ctrl_c(
    plan: &DemoPlan<'_>,
    metrics: Metrics,
    listen: SocketAddr,
    say: Say<'_>,
) -> Result<()> {
    let listener = serve::bind(listen).await?;
    let addr = listener.local_addr()?;
    if let Some(web) = &plan.web {
        let logins = demo_logins(&web.db, &plan.registry)?;
        say(&format!(
            "the web application: http://{addr}/ — demo logins (new passwords each run):"
        ));
        for l in &logins {
            say(&format!(
                "  {:<16} {:<10} {:<20} {}",
                l.name,
                l.role.as_str(),
                l.password,
                l.bound_to
            ));
        }
    }
    let app = serve::app(
        plan.store.clone(),
        plan.config.analytics(),
        metrics,
        None,
        serve::REFRESH_SECS,
        plan.web.clone(),
    );
    say(&format!(
        "serving http://{addr}/ (pages), /metrics, /healthz, /api/progress, /api/stalled; Ctrl-C stops"
    ));
    serve::serve_until(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
