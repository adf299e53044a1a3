//! `haoqi user`: the web application's logins, managed at the server's command line. A
//! password comes from `--password-file` or a prompt, never from an argument (arguments are
//! visible to every user of the machine and kept in shell history). Every change is audited as
//! `cli:$USER`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use haoqi_appdb::role::Grant;
use haoqi_appdb::{Actor, NewUser, Role};

use super::{write_stdout, Session};
use crate::output::{render, Format, Table};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a login. A unit login needs --unit, a liaison --prefecture.
    #[command(
        after_help = "Examples:\n  haoqi user add office01 --role admin\n  haoqi user add kashi-liaison --role liaison --prefecture 653100 --password-file /run/secrets/pw\n  haoqi user add u0123 --role unit --unit U0123"
    )]
    Add(AddArgs),
    /// List the logins with their roles and state.
    #[command(after_help = "Examples:\n  haoqi user list\n  haoqi user list --format json")]
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Disable a login and end its sessions (it can be enabled again).
    #[command(after_help = "Example:\n  haoqi user disable kashi-liaison")]
    Disable { name: String },
    /// Enable a disabled login again.
    #[command(after_help = "Example:\n  haoqi user enable kashi-liaison")]
    Enable { name: String },
    /// Set a new password and end all of the login's sessions.
    #[command(
        after_help = "Examples:\n  haoqi user reset-password office01\n  haoqi user reset-password office01 --password-file /run/secrets/pw"
    )]
    ResetPassword {
        name: String,
        /// A file whose first line is the password (else it is asked for at a prompt).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    /// admin, leader, committee, ops, liaison or unit.
    #[arg(long, value_parser = role_parser())]
    pub role: Role,
    /// The unit a unit login belongs to (its unit_id in the registry).
    #[arg(long, value_name = "UNIT_ID", conflicts_with = "prefecture")]
    pub unit: Option<String>,
    /// The prefecture a liaison looks after (its division code, e.g. 653100 for 喀什地区).
    #[arg(long, value_name = "CODE")]
    pub prefecture: Option<u32>,
    /// A file whose first line is the password (else it is asked for at a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

fn role_parser() -> impl clap::builder::TypedValueParser<Value = Role> {
    use clap::builder::TypedValueParser;
    clap::builder::NonEmptyStringValueParser::new().try_map(|s| s.parse::<Role>())
}

pub(super) fn run(ctx: &Session, cmd: &UserCommand) -> Result<ExitCode> {
    let db = ctx.app_db()?;
    let actor = Actor::command_line();
    match cmd {
        UserCommand::Add(a) => {
            let grant =
                Grant::new(a.role, a.unit.clone(), a.prefecture).map_err(anyhow::Error::msg)?;
            check_binding(ctx, &grant)?;
            let password = password(a.password_file.as_deref())?;
            let user = db.add_user(
                &NewUser {
                    name: a.name.clone(),
                    grant,
                },
                &password,
                &actor,
            )?;
            outln!("added {} ({})", user.name, user.grant.role);
        }
        UserCommand::List { format } => {
            let users = db.users()?;
            let mut t = Table::new(&[
                "name",
                "role",
                "unit_id",
                "prefecture",
                "state",
                "created_beijing",
            ]);
            for u in &users {
                t.push(vec![
                    u.name.clone(),
                    u.grant.role.to_string(),
                    u.grant.unit_id.clone().unwrap_or_default(),
                    u.grant
                        .prefecture
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    if u.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    }
                    .into(),
                    haoqi_model::time::display_minute(u.created_at),
                ]);
            }
            out!("{}", render(*format, &t, &serde_json::to_value(&users)?));
        }
        UserCommand::Disable { name } => {
            db.set_disabled(name, true, &actor)?;
            outln!("disabled {name}; its sessions are ended");
        }
        UserCommand::Enable { name } => {
            db.set_disabled(name, false, &actor)?;
            outln!("enabled {name}");
        }
        UserCommand::ResetPassword {
            name,
            password_file,
        } => {
            if db.user(name)?.is_none() {
                bail!("no user named {name:?} (haoqi user list shows them)");
            }
            let password = password(password_file.as_deref())?;
            db.reset_password(name, &password, &actor)?;
            outln!("new password set for {name}; its sessions are ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A unit login's unit and a liaison's prefecture must exist in the registry.
fn check_binding(ctx: &Session, grant: &Grant) -> Result<()> {
    if grant.unit_id.is_none() && grant.prefecture.is_none() {
        return Ok(());
    }
    let registry = ctx.registry()?;
    if let Some(u) = &grant.unit_id {
        if !registry.units.iter().any(|x| &x.unit_id == u) {
            bail!("--unit {u}: no such unit in the registry (haoqi registry check lists them)");
        }
    }
    if let Some(p) = grant.prefecture {
        let is_prefecture = registry
            .regions
            .iter()
            .any(|r| r.code == p && r.level == haoqi_registry::RegionLevel::Prefecture);
        if !is_prefecture {
            bail!("--prefecture {p}: not a prefecture in the registry's regions (e.g. 653100 for 喀什地区)");
        }
    }
    Ok(())
}

/// The password from the first line of `file`, or asked for twice at the terminal.
fn password(file: Option<&Path>) -> Result<String> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading the password file {}", f.display()))?;
        let line = text.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            bail!("the password file {} is empty", f.display());
        }
        return Ok(line);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!("no terminal to ask for the password: give --password-file FILE");
    }
    let first = rpassword::prompt_password("password (at least 10 characters): ")?;
    let again = rpassword::prompt_password("the same password again: ")?;
    if first != again {
        bail!("the two passwords differ; nothing changed");
    }
    Ok(first)
}
