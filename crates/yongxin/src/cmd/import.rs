//! `yongxin import households FILE`: validates a roster and imports it all-or-nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use yongxin_web::registry::roster_io::issue_message;

use crate::config::Config;

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// A household roster (.xlsx or .csv, one row per resident).
    Households {
        /// The roster file.
        file: PathBuf,
        /// Name written as the actor in the audit record.
        #[arg(long, default_value = "system:import")]
        actor: String,
    },
}

/// Runs the import; exit 1 with every problem listed if the roster is refused.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let What::Households { file, actor } = args.what;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = crate::database::open(config, false).await?;
    let catalog = config.lang().catalog();
    match yongxin_web::registry::import_roster(
        &*store,
        &yongxin_domain::Actor::from(actor.as_str()),
        &bytes,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message(catalog)))?
    {
        Ok(s) => {
            println!(
                "yongxin: imported {}: {} households added, {} updated, {} residents",
                file.display(),
                s.households_created,
                s.households_updated,
                s.residents
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(issues) => {
            eprintln!(
                "{}: {} problem(s); nothing was imported",
                file.display(),
                issues.len()
            );
            for issue in &issues {
                eprintln!("  {}", issue_message(issue, catalog));
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
