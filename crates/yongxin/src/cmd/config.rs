//! `yongxin config example`.

use std::process::ExitCode;

/// Arguments of `config`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Print a commented example configuration file.
    Example,
}

/// Prints the example.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Action::Example = args.action;
    print!("{}", crate::config::EXAMPLE);
    Ok(ExitCode::SUCCESS)
}
