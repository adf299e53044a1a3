//! The `haoqi` command line. Each subcommand is a small function over the library; this is the
//! binary's edge, where errors become messages and exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::output::{render, Format, Table};
use haoqi_analytics::progress::{self, By, ProgressQuery};
use haoqi_registry::{self as registry, check, Registry};
use haoqi_store::spool::Writer;
use haoqi_store::{self as store, migrate, Store, StoreLocation};

#[derive(Parser, Debug)]
#[command(
    name = "haoqi",
    version,
    about = "Watches the public numbers of the science-communication matrix and turns them into answers",
    long_about = "haoqi tracks followers of every account in the matrix (units × Douyin, WeChat \
Channels, Kuaishou, Bilibili, WeChat official accounts), stores readings in ClickHouse, and \
reports progress toward the goal.",
    after_help = "Examples:\n  haoqi init\n  haoqi registry check\n  haoqi progress --by region\n  haoqi --store http://haoqi@ch:8123/haoqi progress --format json"
)]
pub struct Cli {
    /// Configuration file (default: ./haoqi.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Store: embedded:PATH (default embedded:./data/haoqi) or http://user@host:8123/db;
    /// the password comes from HAOQI_CLICKHOUSE_PASSWORD.
    #[arg(long, global = true, value_name = "STORE")]
    pub store: Option<String>,
    /// Registry directory with regions.csv, units.csv, accounts.csv (default: built-in reference).
    #[arg(long, global = true, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create or upgrade the store's schema, load the registry, replay the spool.
    #[command(
        after_help = "Examples:\n  haoqi init\n  haoqi --store embedded:/var/lib/haoqi init\n  haoqi init --print --cluster haoqi_cluster --database haoqi > cluster.sql"
    )]
    Init(InitArgs),
    /// Check the store's invariants: every batch complete, every imported reading recorded,
    /// every spool file this store's, every daily rollup equal to its readings; `--repair`
    /// fixes what it can. Exit status 1 while differences remain.
    #[command(
        after_help = "Examples:\n  haoqi check\n  haoqi check --repair\n  haoqi check --fast --format json"
    )]
    Check(store_check::CheckArgs),
    /// Back up the store and the application database into a new directory (consistent while
    /// they are in use), or restore such a backup into a new store.
    #[command(
        after_help = "Examples:\n  haoqi backup --out /srv/backups/haoqi-20261207\n  haoqi --store embedded:/srv/haoqi-restored backup --restore /srv/backups/haoqi-20261207"
    )]
    Backup(backup::BackupArgs),
    /// The web application's logins: add, list, disable, enable, reset a password.
    #[command(
        subcommand,
        after_help = "Examples:\n  haoqi user add office01 --role admin\n  haoqi user list --format json\n  haoqi user reset-password office01 --password-file pw.txt"
    )]
    User(user::UserCommand),
    /// Check, load or regenerate the registry of units and accounts.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Progress toward the follower goal, as of the end of a day.
    #[command(
        after_help = "Examples:\n  haoqi progress\n  haoqi progress --by region --as-of 2024-12-31\n  haoqi progress --by account --format csv > accounts.csv\n  haoqi progress --forecast\n  haoqi progress --forecast --assume kind=county_assoc,prefecture=652900\n  haoqi progress --series --by tier --from 2024-10-01\n  haoqi progress --growth --format csv"
    )]
    Progress(ProgressArgs),
    /// Poll every active account of the crawlable platforms once and store what comes back.
    #[command(
        after_help = "Examples:\n  haoqi collect --once\n  haoqi collect --once --platform bilibili\n  haoqi collect --once --simulator http://127.0.0.1:9470 --rate 50"
    )]
    Collect(CollectArgs),
    /// Serve the platform simulator: every registry account on Bilibili's, Douyin's and
    /// Kuaishou's real paths and formats, with growth and injectable faults.
    #[command(
        after_help = "Examples:\n  haoqi simulate --listen 127.0.0.1:9470\n  haoqi simulate --listen 127.0.0.1:9470 --faults 0.2 --limit 100"
    )]
    Simulate(SimulateArgs),
    /// Collect continuously: every account once per interval, spread out, within each
    /// platform's budget; serves /metrics and /healthz. SIGINT/SIGTERM stop it after writing
    /// (or spooling) what is in flight.
    #[command(
        after_help = "Examples:\n  haoqi run\n  haoqi run --shard 2/4 --listen 0.0.0.0:9464\n  haoqi run --simulator http://127.0.0.1:9470 --interval-mins 5"
    )]
    Run(RunArgs),
    /// The whole product on this machine: the embedded store, the simulator, 180 days of
    /// simulated history, a live sweep through the real adapters, goal progress, /metrics.
    #[command(after_help = "Examples:\n  haoqi demo\n  haoqi demo --days 30 --no-serve")]
    Demo(DemoArgs),
    /// Parse saved platform responses offline: one JSON line per file with the normalised
    /// reading or the typed error (for checking whether a platform changed its format).
    #[command(
        after_help = "Examples:\n  haoqi parse --platform kuaishou saved/profile-3xabc.json\n  haoqi parse --platform douyin pages/*.html --format table"
    )]
    Parse {
        #[arg(long)]
        platform: haoqi_platform::Platform,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// json: one JSON object per line (default); table: a summary per file.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Every active account's health, grouped by responsible department: flat, no new posts,
    /// collection blocked, gone, overdue or dropping (growing ones with --all).
    #[command(
        after_help = "Examples:\n  haoqi stalled\n  haoqi stalled --days 14\n  haoqi stalled --format csv > stalled.csv"
    )]
    Stalled(analytics::StalledArgs),
    /// Rank accounts (and units) for a period with the committee's composite index: every
    /// input, the score, ineligible accounts with reasons, anomalies; .xlsx/.csv/.json reports.
    #[command(
        after_help = "Examples:\n  haoqi rank --from 2024-10-01 --to 2024-12-31\n  haoqi rank --from 2024-10-01 --to 2024-12-31 --tier vertical --out q4-vertical.xlsx\n  haoqi rank --from 2024-10-01 --to 2024-12-31 --tier society --top 10 --out q4.csv\n  haoqi rank --from 2024-10-01 --to 2024-12-31 --freeze 2024Q4\n  haoqi rank --show 2024Q4 --diff\n  haoqi rank --resolve XJ-C-653127-dy:2024-11-02:jump --note \"viral video\" --by 王审核"
    )]
    Rank(analytics::RankArgs),
    /// Serve the read-only HTTP API without collecting: /metrics (with the health and goal
    /// gauges), /healthz, /api/progress, /api/stalled. For a dashboard host beside `haoqi run`.
    #[command(
        after_help = "Examples:\n  haoqi serve\n  haoqi serve --listen 0.0.0.0:9465 --refresh-secs 300"
    )]
    Serve(analytics::ServeArgs),
    /// Run a read-only SQL query on the store (`{db:Identifier}` is the store's database), to
    /// trace a figure back to its readings.
    #[command(
        after_help = "Example:\n  haoqi sql \"SELECT account_id, observed_at, followers, source FROM {db:Identifier}.readings WHERE account_id = 'XJ-C-653127-ks' ORDER BY observed_at\""
    )]
    Sql {
        /// The query; it runs with readonly=2 (no writes).
        query: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Import follower counts from filled-in statistics tables and back-office exports.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Write a blank workbook to fill in: the readings statistics table or the registry sheet.
    #[command(
        after_help = "Examples:\n  haoqi template readings --out 关注情况统计表.xlsx\n  haoqi template readings --platform wechat_channels --out 视频号统计表.xlsx\n  haoqi template registry --out 登记表.xlsx"
    )]
    Template(import::TemplateArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Only apply migrations; do not load the registry.
    #[arg(long)]
    pub no_registry: bool,
    /// With --print: the schema for this ClickHouse cluster (replicated, sharded by account),
    /// generated from the same migrations.
    #[arg(long, value_name = "CLUSTER", requires = "print")]
    pub cluster: Option<String>,
    /// Print the schema instead of applying it (to run with clickhouse-client).
    #[arg(long)]
    pub print: bool,
    /// The database name used with --print (default: the store's).
    #[arg(long, value_name = "NAME", requires = "print")]
    pub database: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Validate the registry and report, per rule, what breaks it (exit 1 on errors).
    #[command(
        after_help = "Examples:\n  haoqi registry check\n  haoqi --registry ./my-registry registry check --format json"
    )]
    Check {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Load the registry into the store (new versions only for what changed).
    #[command(after_help = "Example:\n  haoqi --registry ./my-registry registry load")]
    Load,
    /// Write the built-in reference registry's files to a directory, to start your own.
    #[command(after_help = "Example:\n  haoqi registry reference --out ./my-registry")]
    Reference {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Replace the registry's units and accounts with a spreadsheet's (CSV or XLSX), after
    /// checking it with the rules of `registry check` and showing the differences.
    #[command(
        after_help = "Examples:\n  haoqi --registry ./my-registry registry import 登记表.xlsx --dry-run\n  haoqi --registry ./my-registry registry import 登记表.xlsx\n  haoqi registry import new-accounts.csv --partial --out ./my-registry"
    )]
    Import(import::RegistryImportArgs),
    /// Write the registry's units and accounts as a workbook to edit and import back.
    #[command(after_help = "Example:\n  haoqi registry export --out 登记表.xlsx")]
    Export(import::RegistryExportArgs),
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// One sweep, then exit (continuous collection is `haoqi run`).
    #[arg(long)]
    pub once: bool,
    /// Only these platforms (repeatable).
    #[arg(long = "platform")]
    pub platforms: Vec<haoqi_platform::Platform>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Where the collectors send requests, and how fast.
#[derive(Args, Debug, Clone)]
pub struct EndpointArgs {
    /// Send every request to this simulator; readings are stored as `simulated`.
    #[arg(long, value_name = "URL")]
    pub simulator: Option<url::Url>,
    /// Requests per second per platform, overriding the configuration.
    #[arg(long, value_name = "N", value_parser = values::rate)]
    pub rate: Option<f64>,
}

impl EndpointArgs {
    fn options(
        &self,
        platforms: &[haoqi_platform::Platform],
    ) -> crate::service::collect::CollectOptions {
        crate::service::collect::CollectOptions {
            platforms: platforms.to_vec(),
            simulator: self.simulator.clone(),
            per_second: self.rate,
        }
    }

    /// Readings from the simulator are marked as such, never as crawled.
    fn source(&self) -> haoqi_model::reading::Source {
        if self.simulator.is_some() {
            haoqi_model::reading::Source::Simulated
        } else {
            haoqi_model::reading::Source::Crawl
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: std::net::SocketAddr,
    /// This instance's share of the accounts, K of N (consistent hashing on the account id).
    #[arg(long, default_value = "1/1")]
    pub shard: haoqi_crawl::shard::Shard,
    /// Minutes between two polls of one account (default: collect.interval_mins, 60), 1 to 1440.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub interval_mins: Option<u64>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Stop after this many intervals (default: run until stopped).
    #[arg(long)]
    pub cycles: Option<u32>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where /metrics and /healthz are served until Ctrl-C.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: std::net::SocketAddr,
    /// Days of simulated history to backfill.
    #[arg(long, default_value_t = 180)]
    pub days: u32,
    /// Requests per second per platform in the live sweep.
    #[arg(long, default_value_t = 50.0, value_parser = values::rate)]
    pub rate: f64,
    /// Share of simulated requests that fail (shows the error handling).
    #[arg(long, default_value_t = 0.02)]
    pub faults: f64,
    /// Exit after printing progress instead of serving /metrics.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[arg(long, default_value = "127.0.0.1:9470")]
    pub listen: std::net::SocketAddr,
    /// Requests per second each platform allows; more are violations.
    #[arg(long, default_value_t = 100.0)]
    pub limit: f64,
    /// Share of requests that fail, spread over the fault kinds.
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
}

/// `--by`: the analytics' breakdowns, listed in the help (the analytics crate knows nothing of
/// the command line).
fn by_parser() -> impl clap::builder::TypedValueParser<Value = By> {
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(By::ALL.map(By::dimension)).try_map(|s| s.parse::<By>())
}

#[derive(Args, Debug)]
pub struct ProgressArgs {
    /// The day whose end the figures describe (Beijing time; default the last complete day).
    #[arg(long, value_name = "DATE", value_parser = values::day)]
    pub as_of: Option<NaiveDate>,
    /// Break the totals down (the matrix row is always first).
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// The forecast to the deadline (linear, log-linear and damped trends with ranges), the
    /// daily growth needed, and each tier's and prefecture's contribution.
    #[arg(long)]
    pub forecast: bool,
    /// With --forecast: assume these accounts reach their targets, e.g.
    /// `kind=county_assoc,prefecture=652900` (repeatable; keys kind, tier, prefecture, county,
    /// platform, unit, account).
    #[arg(long, value_name = "SELECTION", requires = "forecast")]
    pub assume: Vec<haoqi_analytics::whatif::Selection>,
    /// The daily series (carry-forward totals with 1/7/30-day deltas and rates) of the matrix,
    /// or of each group of --by, from --from.
    #[arg(long, conflicts_with = "forecast")]
    pub series: bool,
    /// First day of --series (default: 30 days before --as-of).
    #[arg(long, value_name = "DATE", requires = "series")]
    pub from: Option<NaiveDate>,
    /// Each account's 1/7/30-day growth (and the certain growth, beyond rounding).
    #[arg(long, conflicts_with_all = ["forecast", "series"])]
    pub growth: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Writes to stdout; a closed pipe (`haoqi progress | head`) ends output quietly instead of
/// panicking.
/// Set once stdout's reader has gone (`haoqi registry check | head`): nothing more is
/// written, and the command's own exit status still reaches the shell.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_stdout(text: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            return;
        }
        write_stderr(&format!("haoqi: cannot write output: {e}\n"));
        std::process::exit(1);
    }
}

/// Writes to stderr, ignoring a closed stderr (`eprintln!` would panic: exit 101).
fn write_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

macro_rules! out {
    ($($arg:tt)*) => { write_stdout(&format!($($arg)*)) };
}

macro_rules! outln {
    () => { write_stdout("\n") };
    ($($arg:tt)*) => { write_stdout(&format!("{}\n", format!($($arg)*))) };
}

mod analytics;
mod backup;
mod import;
mod store_check;
mod user;
mod values;

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            write_stderr(&format!("haoqi: cannot start: {e}\n"));
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            write_stderr(&format!("haoqi: {e:#}\n"));
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    code
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour only on a terminal: a log written to a file or a journal gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

struct Session {
    config: Config,
    registry_dir: Option<PathBuf>,
    location: StoreLocation,
    /// Whether the command may create an embedded store's data directory (`init`, `demo`, a
    /// restore): any other command on a missing one says what to run and creates nothing.
    may_create: bool,
}

impl Session {
    fn new(cli: &Cli) -> Result<Self> {
        let config = Config::load(cli.config.as_deref())?;
        let registry_dir = config.registry_dir(cli.registry.as_deref());
        let location = config.store_location(cli.store.as_deref())?;
        let may_create = match &cli.command {
            Command::Init(_) | Command::Demo(_) => true,
            Command::Backup(b) => b.restore.is_some(),
            _ => false,
        };
        Ok(Session {
            config,
            registry_dir,
            location,
            may_create,
        })
    }

    fn analytics(&self) -> haoqi_analytics::Settings {
        self.config.analytics()
    }

    fn registry(&self) -> Result<Registry> {
        Ok(Registry::load(self.registry_dir.as_deref())?)
    }

    /// The application database beside the store, opened (and brought up to date).
    fn app_db(&self) -> Result<haoqi_appdb::AppDb> {
        let path = self.config.app_db_path(&self.location);
        Ok(haoqi_appdb::AppDb::open(&path)?)
    }

    fn web(&self) -> Result<crate::service::serve::Web> {
        Ok(crate::service::serve::Web {
            db: Arc::new(self.app_db()?),
            config: haoqi_web::app::WebConfig {
                secure_cookies: self.config.web.secure_cookies,
            },
        })
    }

    async fn store(&self) -> Result<Arc<dyn Store>> {
        if let StoreLocation::Embedded { path, .. } = &self.location {
            if !self.may_create && !path.exists() {
                anyhow::bail!(
                    "no store at {} (nothing was created): run haoqi init first, or give --store",
                    path.display()
                );
            }
        }
        let s = store::open(&self.location)
            .await
            .with_context(|| format!("opening the store {}", self.location))?;
        Ok(Arc::from(s))
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    // Offline commands need neither configuration nor a store.
    if let Command::Parse {
        platform,
        files,
        format,
    } = &cli.command
    {
        return parse_files(*platform, files, *format);
    }
    let ctx = Session::new(&cli)?;
    match cli.command {
        Command::Init(args) => init(&ctx, &args).await,
        Command::Check(args) => store_check::run(&ctx, &args).await,
        Command::User(cmd) => user::run(&ctx, &cmd),
        Command::Backup(args) => backup::run(&ctx, &args).await,
        Command::Registry(RegistryCommand::Check { format }) => registry_check(&ctx, format),
        Command::Registry(RegistryCommand::Load) => registry_load(&ctx).await,
        Command::Registry(RegistryCommand::Reference { out }) => registry_reference(&out),
        Command::Registry(RegistryCommand::Import(args)) => {
            import::registry_import(&ctx, &args).await
        }
        Command::Registry(RegistryCommand::Export(args)) => import::registry_export(&ctx, &args),
        Command::Import(cmd) => import::import(&ctx, &cmd).await,
        Command::Template(args) => import::template(&ctx, &args),
        Command::Progress(args) => progress(&ctx, &args).await,
        Command::Stalled(args) => analytics::stalled(&ctx, &args).await,
        Command::Serve(args) => analytics::serve(&ctx, &args).await,
        Command::Rank(args) => analytics::rank(&ctx, &args).await,
        Command::Sql { query, format } => sql_query(&ctx, &query, format).await,
        Command::Collect(args) => collect(&ctx, &args).await,
        Command::Simulate(args) => simulate(&ctx, &args).await,
        Command::Demo(args) => demo(&ctx, &args).await,
        Command::Run(args) => run_collectors(&ctx, &args).await,
        Command::Parse {
            platform,
            files,
            format,
        } => parse_files(platform, &files, format),
    }
}

async fn init(ctx: &Session, args: &InitArgs) -> Result<ExitCode> {
    if args.print {
        // Printing needs no store: the schema is the binary's own.
        let db = args
            .database
            .clone()
            .unwrap_or_else(|| ctx.location.database().to_string());
        let text = match &args.cluster {
            Some(c) => store::cluster::script(c, &db)?,
            None => store::cluster::single_node(&db)?
                .iter()
                .map(|s| format!("{s};\n\n"))
                .collect(),
        };
        out!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let store = ctx.store().await?;
    let report = migrate::migrate(store.as_ref()).await?;
    outln!(
        "store {}: schema migrations applied {} ({}), already present {}",
        store.describe(),
        report.applied.len(),
        report
            .applied
            .iter()
            .map(|(v, n)| format!("{v:04}_{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        report.already
    );
    if !report.views.is_empty() {
        outln!("views published: {}", report.views.join(", "));
    }
    if !args.no_registry {
        load_registry(ctx, store.as_ref()).await?;
    }
    let spool = ctx.config.spool(&ctx.location)?;
    let replay = Writer::new(store.clone(), spool.clone()).replay().await?;
    if replay.recovered > 0 {
        outln!(
            "interrupted batches completed: {} (their readings' daily rollup derived again)",
            replay.recovered
        );
    }
    outln!(
        "spool {}: replayed {} batch(es) ({} readings), {} rejected, {} waiting",
        spool.dir().display(),
        replay.replayed,
        replay.rows,
        replay.rejected,
        replay.remaining
    );
    let fast = store::check::check(
        store.as_ref(),
        Some(&spool),
        store::check::CheckOptions::default(),
    )
    .await?;
    for line in store_check::init_lines(&fast) {
        outln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn load_registry(ctx: &Session, store: &dyn Store) -> Result<()> {
    let registry = ctx.registry()?;
    let report = check::check(&registry, &ctx.config.targets);
    if report.has_errors() {
        anyhow::bail!(
            "the registry {} has {} error(s); run `haoqi registry check` to see them. Nothing was loaded.",
            registry.source,
            report.errors
        );
    }
    let changes =
        haoqi_registry::dimensions::load(store, &registry, &ctx.config.targets, Utc::now()).await?;
    let line = |name: &str, c: &haoqi_registry::dimensions::TableChanges| {
        format!(
            "{name}: {} added, {} changed, {} deleted, {} unchanged",
            c.added, c.changed, c.deleted, c.unchanged
        )
    };
    outln!(
        "registry {} ({} warning(s)): {}; {}; {}",
        registry.source,
        report.warnings,
        line("regions", &changes.regions),
        line("units", &changes.units),
        line("accounts", &changes.accounts)
    );
    Ok(())
}

async fn registry_load(ctx: &Session) -> Result<ExitCode> {
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    load_registry(ctx, store.as_ref()).await?;
    Ok(ExitCode::SUCCESS)
}

fn registry_check(ctx: &Session, format: Format) -> Result<ExitCode> {
    let registry = ctx.registry()?;
    let report = check::check(&registry, &ctx.config.targets);
    let mut table = Table::new(&["severity", "rule", "subject", "where", "message"]);
    for f in &report.findings {
        table.push(vec![
            f.severity.as_str().into(),
            f.rule.into(),
            f.subject.clone(),
            f.location.clone().unwrap_or_default(),
            f.message.clone(),
        ]);
    }
    let json = serde_json::to_value(&report)?;
    if format == Format::Table {
        outln!(
            "registry {}: {} regions, {} units, {} accounts",
            report.registry,
            report.regions,
            report.units,
            report.accounts
        );
        let mut rules = Table::new(&["rule", "severity", "findings", "checks"]);
        for (id, severity, what) in check::RULES {
            rules.push(vec![
                (*id).into(),
                severity.as_str().into(),
                report.per_rule.get(id).copied().unwrap_or(0).to_string(),
                (*what).into(),
            ]);
        }
        out!("{}", rules.to_text());
        if !report.findings.is_empty() {
            outln!();
            out!("{}", table.to_text());
        }
        outln!(
            "\n{} error(s), {} warning(s)",
            report.errors,
            report.warnings
        );
    } else {
        out!("{}", render(format, &table, &json));
    }
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn registry_reference(out: &Path) -> Result<ExitCode> {
    let regions = Registry::reference_regions()?;
    let files = registry::reference::generate(&regions);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let [(_, regions_src), _, _] = Registry::reference_texts();
    for (name, text) in [
        (registry::REGIONS_FILE, regions_src),
        (registry::UNITS_FILE, files.units_csv.as_str()),
        (registry::ACCOUNTS_FILE, files.accounts_csv.as_str()),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        outln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn progress(ctx: &Session, args: &ProgressArgs) -> Result<ExitCode> {
    if args.forecast || args.series || args.growth {
        return analytics::progress_analytics(ctx, args).await;
    }
    let store = ctx.store().await?;
    migrate::require_current(store.as_ref()).await?;
    let query = ProgressQuery {
        as_of: args
            .as_of
            .unwrap_or_else(haoqi_model::time::last_complete_day),
        stale_after_hours: ctx.config.progress.stale_after_hours,
    };
    if args.by == Some(By::Account) {
        let rows = query.accounts(store.as_ref()).await?;
        let table = progress::account_table(&rows);
        out!(
            "{}",
            render(args.format, &table, &serde_json::to_value(&rows)?)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let p = query
        .summary(
            store.as_ref(),
            ctx.config.goal.followers,
            ctx.config.goal.deadline,
        )
        .await?;
    let table = progress::group_table(&p, args.by);
    if args.format == Format::Table {
        out!("{}", progress::headline(&p));
        outln!();
    }
    out!(
        "{}",
        render(args.format, &table, &serde_json::to_value(&p)?)
    );
    Ok(ExitCode::SUCCESS)
}

async fn sql_query(ctx: &Session, query: &str, format: Format) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let sql = store::sql::render(query, &store::sql::Params::new(store.database()))?;
    // readonly = 2: no writes on either backend, but a query may still set its own settings.
    let sql = format!("{} SETTINGS readonly = 2", sql.trim().trim_end_matches(';'));
    let rows = store.query_rows(&sql).await?;
    let columns: Vec<String> = rows
        .first()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    let mut table = Table {
        columns: columns.clone(),
        rows: Vec::new(),
    };
    for r in &rows {
        table.push(
            columns
                .iter()
                .map(|c| match &r[c] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => "NULL".into(),
                    v => v.to_string(),
                })
                .collect(),
        );
    }
    out!(
        "{}",
        render(
            format,
            &table,
            &serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect())
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_files(
    platform: haoqi_platform::Platform,
    files: &[PathBuf],
    format: Format,
) -> Result<ExitCode> {
    let results: Vec<serde_json::Value> = files
        .iter()
        .map(|f| crate::parse::parse_file(platform, f))
        .collect();
    let failed = results.iter().filter(|r| r.get("error").is_some()).count();
    match format {
        Format::Json => {
            for r in &results {
                outln!("{r}");
            }
        }
        Format::Table | Format::Csv => {
            let mut t = Table::new(&["file", "outcome", "followers", "likes", "posts", "detail"]);
            for r in &results {
                let c = |m: &str| {
                    r["counters"][m]["value"]
                        .as_u64()
                        .map_or("-".to_string(), |v| v.to_string())
                };
                t.push(vec![
                    r["file"].as_str().unwrap_or_default().to_string(),
                    r["error"]["kind"].as_str().unwrap_or("reading").to_string(),
                    c("followers"),
                    c("likes"),
                    c("posts"),
                    r["error"]["message"]
                        .as_str()
                        .or(r["shape"].as_str())
                        .unwrap_or_default()
                        .to_string(),
                ]);
            }
            out!("{}", render(format, &t, &serde_json::Value::Null));
        }
    }
    // Exit 0 only when every file gave a reading: scripts can tell a format change.
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn collect(ctx: &Session, args: &CollectArgs) -> Result<ExitCode> {
    if !args.once {
        anyhow::bail!(
            "continuous collection is `haoqi run`; use `haoqi collect --once` for one sweep"
        );
    }
    let registry = ctx.registry()?;
    let store = ctx.store().await?;
    if !migrate::require_current_or_away(store.as_ref()).await? {
        outln!(
            "store {} unreachable: readings will be spooled until it is back",
            store.describe()
        );
    }
    let opts = args.endpoint.options(&args.platforms);
    let sweeper = crate::service::collect::sweeper(&ctx.config.collect, &opts)?;
    let targets = crate::service::collect::targets(&registry, &sweeper.platforms());
    let spool = ctx.config.spool(&ctx.location)?;
    let writer = Writer::new(store.clone(), spool);
    let source = args.endpoint.source();
    let sink = crate::service::collect::Sink {
        store: store.clone(),
        writer: &writer,
        batch_max_rows: ctx.config.collect.batch_max_rows,
        source,
        metrics: None,
        progress: true,
    };
    let report = crate::service::collect::collect_once(&sweeper, targets, &sink).await?;
    let t = report.table();
    if args.format == Format::Table {
        outln!(
            "polled {} accounts: {} readings written to the store or spooled ({} batch(es) spooled), {} events recorded",
            report.polled,
            report.readings,
            report.spooled_batches,
            report.events_written
        );
    }
    out!(
        "{}",
        render(args.format, &t, &serde_json::to_value(&report)?)
    );
    Ok(ExitCode::SUCCESS)
}

async fn simulate(ctx: &Session, args: &SimulateArgs) -> Result<ExitCode> {
    use haoqi_simulator::{Faults, SimConfig, Simulator};
    let registry = ctx.registry()?;
    let accounts = crate::service::demo::sim_accounts(&registry);
    let n = accounts.len();
    let sim = Simulator::new(
        accounts,
        SimConfig {
            limit_per_sec: args.limit,
            faults: Faults::uniform(args.faults),
            fixed_time: None,
            ..SimConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    outln!(
        "simulating {n} accounts of {} on http://{} (limit {}/s per platform, faults {:.0}%); Ctrl-C stops",
        registry.source,
        listener.local_addr()?,
        args.limit,
        args.faults * 100.0
    );
    tokio::select! {
        r = sim.serve(listener) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(ctx: &Session, args: &DemoArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let migrations = migrate::migrate(store.as_ref()).await?;
    outln!(
        "1/5 store {}: {} migration(s) applied",
        store.describe(),
        migrations.applied.len()
    );
    // The demo's store gets the registry before anything is written against it.
    load_registry(ctx, store.as_ref()).await?;
    let plan = crate::service::demo::DemoPlan {
        config: &ctx.config,
        registry: ctx.registry()?,
        store,
        spool: ctx.config.spool(&ctx.location)?,
        days: args.days,
        rate: args.rate,
        faults: args.faults,
        listen: (!args.no_serve).then_some(args.listen),
        web: if args.no_serve {
            None
        } else {
            Some(ctx.web()?)
        },
    };
    let bar = crate::output::Bar::new("{bar:40} {pos}/{len} days of history ({eta} left)");
    crate::service::demo::run(plan, &bar, &|line| outln!("{line}")).await?;
    Ok(ExitCode::SUCCESS)
}

async fn run_collectors(ctx: &Session, args: &RunArgs) -> Result<ExitCode> {
    let plan = crate::service::run::RunPlan {
        config: &ctx.config,
        registry: ctx.registry()?,
        store: ctx.store().await?,
        spool: ctx.config.spool(&ctx.location)?,
        options: args.endpoint.options(&[]),
        source: args.endpoint.source(),
        interval_mins: args
            .interval_mins
            .unwrap_or(ctx.config.collect.interval_mins)
            .max(1),
        shard: args.shard,
        cycles: args.cycles,
        listen: args.listen,
    };
    let r = crate::service::run::run(plan, &|line| outln!("{line}")).await?;
    outln!(
        "stopped: {} polls, {} readings stored, {} batch(es) spooled",
        r.polled,
        r.readings,
        r.spooled_batches
    );
    Ok(ExitCode::SUCCESS)
}
