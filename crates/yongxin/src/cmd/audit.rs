//! `yongxin audit verify`: recomputes the hash chain of the audit record.

use std::process::ExitCode;

use crate::config::Config;

/// Arguments of `audit`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Recompute every entry's hash; exit 0 if the chain is intact, 1 naming the first bad entry.
    Verify,
}

/// Runs the verification.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let Action::Verify = args.action;
    let store = crate::database::open(config, false).await?;
    match store.verify_audit().await? {
        Ok(v) => {
            println!("audit record intact: {} entries", v.entries);
            println!("head hash: {}", v.head_hash);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "audit record ALTERED at sequence {}: {e}",
                e.first_bad_seq()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
