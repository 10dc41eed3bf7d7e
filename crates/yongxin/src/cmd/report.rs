//! `yongxin report weekly --week 2026-W49 --format html|xlsx|csv --out FILE`: the weekly report
//! (周报) for a scheduled job. A finished week's report is the one kept the first time it was
//! made, so the file is the same whenever the job runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use yongxin_domain::Actor;
use yongxin_web::AppState;

use crate::config::Config;

/// Arguments of `report`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// The weekly report.
    Weekly {
        /// ISO week, `2026-W49`; default the last finished week.
        #[arg(long)]
        week: Option<String>,
        /// `html` (one printable page), `xlsx` or `csv`.
        #[arg(long, default_value = "html")]
        format: String,
        /// Where to write it; `-` for standard output.
        #[arg(long)]
        out: PathBuf,
        /// The report's language: `zh-CN` or `en`.
        #[arg(long, default_value = "zh-CN")]
        lang: String,
    },
}

/// Runs the subcommand.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Weekly {
            week,
            format,
            out,
            lang,
        } => {
            if !["html", "xlsx", "csv"].contains(&format.as_str()) {
                bail!("--format must be html, xlsx or csv, not {format:?}");
            }
            let lang = yongxin_web::Lang::parse(&lang)
                .with_context(|| format!("--lang must be zh-CN or en, not {lang:?}"))?;
            if let Some(w) = &week {
                if yongxin_domain::scorecard::parse_iso_week(w).is_none() {
                    bail!("--week must be an ISO week such as 2026-W49, not {w:?}");
                }
            }
            let store = crate::database::open(config, false).await?;
            let state = AppState::new(store, config.web_settings());
            state.refresh_calendar().await?;
            let (name, bytes) = yongxin_web::reports::report_file(
                &state,
                week.as_deref(),
                &format,
                lang,
                &Actor::system("report"),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message(yongxin_web::Lang::En.catalog())))?;
            if out.as_os_str() == "-" {
                use std::io::Write;
                std::io::stdout().write_all(&bytes)?;
            } else {
                std::fs::write(&out, &bytes)
                    .with_context(|| format!("writing {}", out.display()))?;
                eprintln!("yongxin: wrote {name} to {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
