//! `yongxin export households|residents`: writes a list as .xlsx or .csv, masked unless an
//! administrator asks for `--full` (which is recorded).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use yongxin_web::http::sheet::SheetFormat;

use crate::config::Config;

/// Arguments of `export`.
#[derive(clap::Args)]
pub struct Args {
    /// `households` (one row per household) or `residents` (the importable roster).
    #[arg(value_parser = ["households", "residents"])]
    what: String,
    /// `xlsx` or `csv`.
    #[arg(long, default_value = "xlsx", value_parser = ["xlsx", "csv"])]
    format: String,
    /// Unmasked identity numbers and phones; needs `--as` an administrator.
    #[arg(long, requires = "as_user")]
    full: bool,
    /// The administrator responsible for a full export (written to the audit record).
    #[arg(long = "as", id = "as_user")]
    as_user: Option<String>,
    /// Output file (default: WHAT.FORMAT in the current folder).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs the export.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(config, false).await?;
    let format = SheetFormat::parse(&args.format).context("format")?;
    let actor = match (&args.as_user, args.full) {
        (Some(name), true) => {
            let Some((user, _)) = store.user_credentials(name).await? else {
                bail!("no user named {name}");
            };
            if !user.role.is_admin() {
                bail!(
                    "{name} is not an administrator; only administrators may export unmasked data"
                );
            }
            user.actor()
        }
        _ => yongxin_domain::Actor::system("export"),
    };
    let catalog = config.lang().catalog();
    let bytes =
        yongxin_web::registry::export_file(&*store, &actor, &args.what, format, args.full, catalog)
            .await
            .map_err(|e| anyhow::anyhow!(e.message(catalog)))?;
    let output = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("{}.{}", args.what, format.extension())));
    std::fs::write(&output, bytes).with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "yongxin: wrote {} ({})",
        output.display(),
        if args.full { "full" } else { "masked" }
    );
    Ok(ExitCode::SUCCESS)
}
