//! `yongxin user add|passwd|token|disable|enable|email`. Passwords are read from standard input (one line), so they
//! never appear in the shell history or the process list.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use yongxin_domain::{Role, Scope};
use yongxin_store::{HouseholdId, HouseholdQuery, NewUser, Store};
use yongxin_web::auth::{hash_password, random_token, token_hash};

use crate::config::Config;

fn actor() -> yongxin_domain::Actor {
    yongxin_domain::Actor::system("user")
}

/// Arguments of `user`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Add a user; the password is read from standard input.
    Add {
        /// Sign-in name.
        name: String,
        /// resident, grid_worker, village_officer, department_staff, leader or admin.
        #[arg(long)]
        role: String,
        /// Name shown to others (default: the sign-in name).
        #[arg(long)]
        display_name: Option<String>,
        /// Village code or name (village officers, grid workers).
        #[arg(long)]
        village: Option<String>,
        /// Grid code this grid worker becomes responsible for.
        #[arg(long)]
        grid: Option<String>,
        /// Household key (residents).
        #[arg(long)]
        household: Option<String>,
    },
    /// Set a user's password from standard input; their sessions end.
    Passwd {
        /// Sign-in name.
        name: String,
    },
    /// Issue an API token (it is printed alone on the last line and cannot be shown again), or
    /// with --revoke-all end every token of the user.
    Token {
        /// Sign-in name.
        name: String,
        /// Revoke every live token of the user instead of issuing one.
        #[arg(long)]
        revoke_all: bool,
        /// Days the new token lasts (default: api_token_days of the configuration, 90).
        #[arg(long, conflicts_with = "revoke_all")]
        days: Option<i64>,
    },
    /// Disable an account: it can no longer sign in, its sessions end and its tokens are revoked.
    Disable {
        /// Sign-in name.
        name: String,
    },
    /// Enable a disabled account again (its old tokens stay revoked).
    Enable {
        /// Sign-in name.
        name: String,
    },
    /// Set the address a user's notifications are e-mailed to; without ADDRESS, clear it.
    Email {
        /// Sign-in name.
        name: String,
        /// E-mail address.
        address: Option<String>,
    },
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (shown as typed): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 8 {
        bail!("a password needs at least 8 characters");
    }
    Ok(password)
}

/// A user by sign-in name, disabled or not.
async fn named(store: &dyn Store, name: &str) -> anyhow::Result<yongxin_store::User> {
    store
        .users()
        .await?
        .into_iter()
        .find(|u| u.username == name)
        .with_context(|| format!("no user named {name}"))
}

async fn household_id(store: &dyn Store, key: &str) -> anyhow::Result<HouseholdId> {
    let q = HouseholdQuery {
        scope: Scope::Subdistrict,
        village_id: None,
        grid_id: None,
        text: Some(key.to_owned()),
        page: 1,
        per_page: 100,
    };
    let page = store.search_households(&q).await?;
    page.households
        .iter()
        .find(|h| h.key == key)
        .map(|h| h.id)
        .with_context(|| format!("no household with key {key}"))
}

/// Runs the user command.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(config, false).await?;
    match args.action {
        Action::Add {
            name,
            role,
            display_name,
            village,
            grid,
            household,
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role:?}"))?;
            let lookup = store.registry_lookup().await?;
            let village_id = match &village {
                Some(v) => Some(
                    *lookup
                        .villages
                        .get(v)
                        .with_context(|| format!("no village {v}"))?,
                ),
                None => None,
            };
            let grid_id = match (&grid, village_id) {
                (Some(g), Some(v)) => Some(
                    *lookup
                        .grids
                        .get(&(v, g.clone()))
                        .with_context(|| format!("no grid {g} in that village"))?,
                ),
                (Some(_), None) => bail!("--grid needs --village"),
                _ => None,
            };
            let household_id = match &household {
                Some(key) => Some(household_id(&*store, key).await?),
                None => None,
            };
            if role == Role::Resident && household_id.is_none() {
                bail!("a resident needs --household KEY");
            }
            if role == Role::VillageOfficer && village_id.is_none() {
                bail!("a village officer needs --village");
            }
            let password = read_password()?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = store
                .create_user(
                    &actor(),
                    NewUser {
                        display_name: display_name.unwrap_or_else(|| name.clone()),
                        username: name,
                        role,
                        password_hash: hash,
                        village_id,
                        household_id,
                    },
                )
                .await?;
            if let Some(g) = grid_id {
                store.assign_grid_cadre(&actor(), g, user.id).await?;
            }
            println!("yongxin: added {} ({})", user.username, role.code());
        }
        Action::Passwd { name } => {
            let user = named(&*store, &name).await?;
            let password = read_password()?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.set_password(&actor(), user.id, &hash).await?;
            println!(
                "yongxin: password of {name} changed; their sessions have ended and their API tokens are revoked"
            );
        }
        Action::Token {
            name,
            revoke_all: true,
            ..
        } => {
            let user = named(&*store, &name).await?;
            let n = store.revoke_api_tokens(&actor(), user.id).await?;
            println!("yongxin: revoked {n} API token(s) of {name}");
        }
        Action::Token { name, days, .. } => {
            let user = named(&*store, &name).await?;
            if user.disabled {
                bail!("{name} is disabled; enable the account first");
            }
            let days = days.unwrap_or(config.api_token_days);
            if !(1..=3650).contains(&days) {
                bail!("--days must be between 1 and 3650");
            }
            let token = random_token();
            let expires = chrono::Utc::now() + chrono::Duration::days(days);
            store
                .create_api_token(&actor(), user.id, &token_hash(&token), expires)
                .await?;
            println!(
                "API token for {name}, valid until {} (send as \"Authorization: Bearer TOKEN\"; it is shown only now):",
                yongxin_domain::time::display_local(expires)
            );
            println!("{token}");
        }
        Action::Disable { name } => {
            let user = named(&*store, &name).await?;
            store.set_user_disabled(&actor(), user.id, true).await?;
            println!("yongxin: {name} is disabled; their sessions have ended and their API tokens are revoked");
        }
        Action::Enable { name } => {
            let user = named(&*store, &name).await?;
            store.set_user_disabled(&actor(), user.id, false).await?;
            println!("yongxin: {name} may sign in again");
        }
        Action::Email { name, address } => {
            let user = named(&*store, &name).await?;
            let email = address
                .as_deref()
                .map(yongxin_domain::Email::parse)
                .transpose()
                .with_context(|| {
                    format!("{:?} is not an e-mail address", address.unwrap_or_default())
                })?;
            store
                .set_user_email(&actor(), user.id, email.as_ref().map(|e| e.as_str()))
                .await?;
            match email {
                Some(e) => println!("yongxin: notifications for {name} go to {}", e.as_str()),
                None => println!("yongxin: {name} has no notification e-mail now"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
