//! `yongxin`: one binary for grassroots mass work. Parses the command line and configuration and
//! hands over to one module per subcommand.
#![forbid(unsafe_code)]

mod cmd;
mod config;
mod database;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// yongxin (用心): software for grassroots mass work.
#[derive(Parser)]
#[command(name = "yongxin", version, about)]
struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "YONGXIN_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (TOML); YONGXIN_-prefixed environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web interface and API.
    Serve(cmd::serve::Args),
    /// Create a fictional demo subdistrict and serve it.
    Demo(cmd::demo::Args),
    /// Create or upgrade the database schema.
    Migrate,
    /// Import a roster file.
    Import(cmd::import::Args),
    /// Export a list to .xlsx or .csv.
    Export(cmd::export::Args),
    /// Work with the audit record.
    Audit(cmd::audit::Args),
    /// Manage users.
    User(cmd::user::Args),
    /// The full-text index of appeals.
    Search(cmd::search::Args),
    /// Open311 GeoReport v2 client keys.
    Open311(cmd::open311::Args),
    /// The house-selection lottery: verify a published proof, or draw over a list.
    Lottery(cmd::lottery::Args),
    /// Configuration helpers.
    Config(cmd::config::Args),
    /// Reports: the weekly report (周报).
    Report(cmd::report::Args),
    /// Back up the SQLite database while the server runs: a consistent copy, compressed,
    /// its audit record checked, the head hash printed and kept beside it.
    Backup(cmd::backup::Args),
    /// Restore a backup into a data directory, checking its audit record.
    Restore(cmd::backup::RestoreArgs),
    /// Check the installation for monitoring: configuration, database, disk, backup age,
    /// calendars, message relays. Exit 0 ok, 1 warning, 2 failure.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::Config::load(cli.config.as_deref(), cli.database_url.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    config::init_logging(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(&config, args).await,
            Command::Demo(args) => cmd::demo::run(&config, args).await,
            Command::Migrate => cmd::migrate::run(&config).await,
            Command::Import(args) => cmd::import::run(&config, args).await,
            Command::Export(args) => cmd::export::run(&config, args).await,
            Command::Audit(args) => cmd::audit::run(&config, args).await,
            Command::User(args) => cmd::user::run(&config, args).await,
            Command::Search(args) => cmd::search::run(&config, args).await,
            Command::Open311(args) => cmd::open311::run(&config, args).await,
            Command::Config(args) => cmd::config::run(args),
            Command::Report(args) => cmd::report::run(&config, args).await,
            Command::Lottery(args) => cmd::lottery::run(args),
            Command::Backup(args) => cmd::backup::run(&config, args).await,
            Command::Restore(args) => cmd::backup::restore(args).await,
            Command::Check => cmd::check::run(&config).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
