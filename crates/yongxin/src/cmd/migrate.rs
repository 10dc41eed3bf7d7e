//! `yongxin migrate`: creates the database (a SQLite file, if need be) and applies migrations.

use std::process::ExitCode;

use crate::config::Config;

/// Runs the migrations.
pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(config, true).await?;
    println!("yongxin: {} database is up to date", store.backend());
    Ok(ExitCode::SUCCESS)
}
