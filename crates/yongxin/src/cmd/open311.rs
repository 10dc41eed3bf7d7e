//! `yongxin open311 key add|list|revoke`: API keys of Open311 GeoReport v2 clients.

use std::process::ExitCode;

use anyhow::bail;
use yongxin_web::auth::{random_token, token_hash};

use crate::config::Config;

/// Who the record names for changes made from the command line.
fn actor() -> yongxin_domain::Actor {
    yongxin_domain::Actor::system("open311")
}

/// Arguments of `open311`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Manage client API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(clap::Subcommand)]
enum KeyCommand {
    /// Issue a key for a client; the key is printed alone on the last line, only this once.
    Add {
        /// The client's name (e.g. "12345 hotline").
        name: String,
    },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke a key by its id.
    Revoke {
        /// The key's id, as `list` shows it.
        id: i64,
    },
}

/// Runs the subcommand.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(config, false).await?;
    let Command::Key(command) = args.command;
    match command {
        KeyCommand::Add { name } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                bail!("the client's name must be 1 to 100 characters");
            }
            let key = random_token();
            let issued = store
                .create_open311_key(&actor(), name, &token_hash(&key))
                .await?;
            println!(
                "Open311 key {} for {} (send as api_key; it is shown only now):",
                issued.id, issued.name
            );
            println!("{key}");
        }
        KeyCommand::List => {
            for k in store.open311_keys().await? {
                let state = match k.revoked_at {
                    Some(at) => format!("revoked {}", yongxin_domain::time::display_local(at)),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    k.id,
                    k.name,
                    k.created_by,
                    yongxin_domain::time::display_local(k.created_at)
                );
            }
        }
        KeyCommand::Revoke { id } => {
            store.revoke_open311_key(&actor(), id).await?;
            println!("yongxin: Open311 key {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
