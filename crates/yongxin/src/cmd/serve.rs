//! `yongxin serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use yongxin_store::Store;
use yongxin_web::AppState;

use crate::config::Config;

/// Arguments of `serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default from the configuration, 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// Create the SQLite file if it does not exist.
    #[arg(long)]
    create: bool,
}

/// Runs the server.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(config, args.create).await?;
    let listen = args.listen.unwrap_or_else(|| config.listen.clone());
    serve(config, store, &listen, |addr| {
        println!("yongxin: serving http://{addr}/")
    })
    .await
}

/// Binds, reports the bound address, and serves until stopped.
pub async fn serve(
    config: &Config,
    store: Arc<dyn Store>,
    listen: &str,
    on_bound: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<ExitCode> {
    // This node's index first: a directory another node holds stops it before it announces
    // an address.
    let index = crate::cmd::search::open_index(config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    on_bound(listener.local_addr()?);
    let state = AppState::new(store, config.web_settings()).with_search(index);
    state.refresh_calendar().await?;
    yongxin_web::background::spawn(
        state.clone(),
        config.message_sender()?,
        std::time::Duration::from_secs(10),
    );
    if let Some(dir) = &config.backup_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("backup_dir {dir}: cannot create the directory"))?;
        crate::cmd::backup::spawn_daily(
            crate::cmd::backup::sqlite_path(config)?,
            dir.into(),
            config.backup_hour,
            config.backup_keep,
        );
    }
    if let Some(addr) = &config.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        let router = yongxin_web::metrics::router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = yongxin_web::serve(metrics, router).await {
                tracing::error!(error.message = %e, "the metrics address stopped");
            }
        });
    }
    let app = yongxin_web::router(state);
    yongxin_web::serve(listener, app).await?;
    Ok(ExitCode::SUCCESS)
}
