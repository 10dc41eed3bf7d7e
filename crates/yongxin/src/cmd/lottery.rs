//! `yongxin lottery`: recompute a published draw (`verify PROOF.json`), or draw over a list of
//! household codes with a seed (`draw`), as anyone may to check the algorithm.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use yongxin_domain::lottery::{Proof, Seed};

/// Arguments of `lottery`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Recompute a proof: exit 0 if it holds, 1 saying the first thing that does not match.
    Verify {
        /// The proof (JSON) as published.
        proof: PathBuf,
    },
    /// Draw an order over household codes (one per line) with a seed; print the proof as JSON.
    Draw {
        /// File of household codes, one per line (blank lines ignored).
        #[arg(long)]
        list: PathBuf,
        /// Six digits drawn in public, optionally ':' and a value published in advance.
        #[arg(long)]
        seed: String,
    },
}

/// Runs the command; needs no database.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Verify { proof } => {
            let text = std::fs::read_to_string(&proof)
                .with_context(|| format!("cannot read {}", proof.display()))?;
            let parsed: Proof = match serde_json::from_str(&text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!(
                        "{}: not a lottery proof (line {}, column {}): {e}",
                        proof.display(),
                        e.line(),
                        e.column()
                    );
                    return Ok(ExitCode::from(2));
                }
            };
            match parsed.verify() {
                Ok(()) => {
                    println!(
                        "lottery proof verified: {} households, list sha256 {}, seed {}",
                        parsed.list.len(),
                        parsed.list_sha256,
                        parsed.seed
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("lottery proof does NOT hold: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Action::Draw { list, seed } => {
            let text = std::fs::read_to_string(&list)
                .with_context(|| format!("cannot read {}", list.display()))?;
            let seed = Seed::parse(&seed).map_err(|e| anyhow::anyhow!("--seed: {e}"))?;
            let codes = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned);
            let proof = Proof::make(codes, &seed)
                .map_err(|e| anyhow::anyhow!("{}: {e}", list.display()))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
