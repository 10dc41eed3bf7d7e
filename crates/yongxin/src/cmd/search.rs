//! `yongxin search reindex`: rebuilds this node's full-text index from the database.

use std::process::ExitCode;

use anyhow::Context;
use yongxin_search::AppealIndex;

use crate::config::Config;

/// Arguments of `search`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Rebuild the full-text index of appeals from the database (stop this node's server first;
    /// a running server builds a missing index by itself).
    Reindex,
}

/// Runs the subcommand.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Reindex => {
            let store = crate::database::open(config, false).await?;
            let dir = config.search_dir();
            let index = AppealIndex::open(&dir)?;
            let started = std::time::Instant::now();
            let count = index
                .rebuild(&*store)
                .await
                .with_context(|| format!("rebuilding {}", dir.display()))?;
            println!(
                "yongxin: indexed {count} appeals in {:.1} s into {}",
                started.elapsed().as_secs_f64(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens this node's index for a server.
pub fn open_index(config: &Config) -> anyhow::Result<AppealIndex> {
    let dir = config.search_dir();
    AppealIndex::open(&dir).with_context(|| format!("opening the search index {}", dir.display()))
}
