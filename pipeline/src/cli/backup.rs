//! `haoqi backup`: both databases into a new directory, or such a directory restored into a
//! new store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use haoqi_store::migrate;

use super::{write_stdout, Session};
use crate::service::backup;

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct BackupArgs {
    /// Write a backup into this new directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Restore the backup in this directory into the store given by --store (which must not
    /// hold haoqi's database yet) and its application database (which must not exist).
    #[arg(long, value_name = "DIR")]
    pub restore: Option<PathBuf>,
}

pub(super) async fn run(ctx: &Session, args: &BackupArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    if let Some(dir) = &args.out {
        migrate::require_current(store.as_ref()).await?;
        let app = ctx.app_db()?;
        let m = backup::backup(store.as_ref(), &app, dir).await?;
        outln!(
            "backed up {} ({} tables) and the application database ({} users) to {}",
            m.store,
            m.tables,
            m.users,
            dir.display()
        );
    } else if let Some(dir) = &args.restore {
        let app_path = ctx.config.app_db_path(&ctx.location);
        let m = backup::restore(store.as_ref(), &app_path, dir).await?;
        outln!(
            "restored the backup of {} made {} into {} and {}; run haoqi check --repair next",
            m.store,
            m.created_at.format("%Y-%m-%d %H:%M UTC"),
            store.describe(),
            app_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
