//! `yongxin demo`: creates the fictional 示范街道 and serves it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use yongxin_demo::DEMO_ACCOUNTS;
use yongxin_domain::demo::{generate, DemoSize};

use crate::config::Config;

/// The demo password of every demo account (demo databases only).
pub const DEMO_PASSWORD: &str = "demo";

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder of the demo database (yongxin.db inside it).
    #[arg(long, default_value = "yongxin-demo")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Throw away an existing demo database and generate it again.
    #[arg(long)]
    fresh: bool,
    /// Seed of the generator: the same seed always gives the same subdistrict.
    #[arg(long, default_value_t = 2014)]
    seed: u64,
    /// Create the demo and exit without serving.
    #[arg(long)]
    no_serve: bool,
    /// How many appeals (a year of them) to generate with a new demo.
    #[arg(long, default_value_t = 20_000)]
    appeals: usize,
}

/// Creates (if needed) and serves the demo.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let mut config = config.clone();
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
            let path = args.data_dir.join("yongxin.db");
            if args.fresh {
                for suffix in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{suffix}", path.display()));
                    if p.exists() {
                        std::fs::remove_file(&p)
                            .with_context(|| format!("cannot remove {}", p.display()))?;
                    }
                }
            }
            format!("sqlite://{}", path.display())
        }
    };
    config.database_url = Some(url.clone());
    let store = crate::database::open(&config, true).await?;
    if store.subdistrict().await?.is_none() {
        let started = Instant::now();
        let demo = generate(args.seed, DemoSize::FULL);
        let hash = tokio::task::spawn_blocking(|| yongxin_web::auth::hash_password(DEMO_PASSWORD))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
        yongxin_demo::load(&*store, &demo, &hash).await?;
        let registry_secs = started.elapsed().as_secs_f64();
        println!(
            "yongxin: created {} with {} villages, {} households and {} residents in {:.2} s ({url})",
            demo.name,
            demo.villages.len(),
            demo.households.len(),
            demo.resident_count(),
            registry_secs
        );
        let today = chrono::Utc::now()
            .with_timezone(&yongxin_domain::time::shanghai())
            .date_naive();
        let appeals = yongxin_domain::demo_appeals::generate_appeals(
            args.seed,
            demo.households.len(),
            today,
            args.appeals,
        );
        let stored = yongxin_demo::load_appeals(
            &*store,
            &demo,
            &appeals,
            config.web_settings().appeal_policy,
            &yongxin_domain::calendar::WorkingCalendar::official(),
        )
        .await?;
        println!(
            "yongxin: {stored} appeals of the past year added in {:.2} s",
            started.elapsed().as_secs_f64() - registry_secs
        );
        let notices = yongxin_demo::load_notices(
            &*store,
            chrono::Utc::now(),
            &yongxin_domain::calendar::WorkingCalendar::official(),
        )
        .await?;
        println!("yongxin: the four-village project and {notices} notices added");
        yongxin_demo::load_drive_cadres(&*store, &hash).await?;
        let answers = yongxin_demo::load_consultations(&*store, chrono::Utc::now()).await?;
        for k in store.consultations().await? {
            if k.closes_at < chrono::Utc::now() && k.result_notice_id.is_none() {
                let k = store
                    .consultation(k.id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("consultation {} vanished", k.id))?;
                yongxin_web::consultations::publish_results(
                    &*store,
                    &yongxin_demo::demo_actor(),
                    &k,
                    yongxin_web::i18n::Lang::ZhCn.catalog(),
                )
                .await
                .map_err(|e| {
                    anyhow::anyhow!("publishing the demo's consultation results: {}", e.code)
                })?;
            }
        }
        println!("yongxin: consultations added, {answers} households' answers recorded");
        let meetings = yongxin_demo::load_meetings(&*store, chrono::Utc::now()).await?;
        for m in store.meetings().await? {
            if m.minutes.is_some() && m.minutes_notice_id.is_none() {
                yongxin_web::meetings::publish_minutes(
                    &*store,
                    &yongxin_demo::demo_actor(),
                    &m,
                    yongxin_web::i18n::Lang::ZhCn.catalog(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("publishing the demo's minutes: {}", e.code))?;
            }
        }
        println!("yongxin: {meetings} meetings added, with minutes published as notices");
        let started = std::time::Instant::now();
        let r = yongxin_demo::load_resettlement(&*store, chrono::Utc::now()).await?;
        println!(
            "yongxin: resettlement of the four-village project: {} households ({} registered) assessed, {} apartments, results published, list frozen and drawn in {:.1} s",
            r.households,
            r.registered,
            r.units,
            started.elapsed().as_secs_f64()
        );
        let chose = yongxin_demo::load_selection(&*store, chrono::Utc::now()).await?;
        println!(
            "yongxin: selection open: a selection day for 8 hours and an online selection for 24 hours; {chose} households have chosen"
        );
        let started = std::time::Instant::now();
        let c = yongxin_demo::load_campaigns(&*store, chrono::Utc::now()).await?;
        println!(
            "yongxin: door-to-door campaigns: the consultation drive ({} cadres), the registration drive ({} cadres) and this week's straw-burning inspection; {} visits in {:.1} s",
            yongxin_demo::DRIVE_CADRES,
            yongxin_demo::REGISTRATION_CADRES,
            c.visits,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("yongxin: using the existing demo database ({url}); --fresh regenerates it");
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    crate::cmd::serve::serve(&config, store, &args.listen, |addr| {
        println!("\nyongxin demo: open http://{addr}/");
        println!("Demo sign-ins (password \"{DEMO_PASSWORD}\" for each; demo database only):");
        for (name, role) in DEMO_ACCOUNTS {
            println!("  {name:<9} {}", role.code());
        }
        println!("The selection board: http://{addr}/projects/1/board");
        println!("Stop with Ctrl+C.");
    })
    .await
}
