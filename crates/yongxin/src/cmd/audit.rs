//! `yongxin audit verify`: recomputes the hash chain of the audit record, and with `--head`
//! checks it still holds a head published earlier; `yongxin audit publish`: publishes this week's
//! head as a notice (the server does so by itself every Monday).

use std::process::ExitCode;

use crate::config::Config;

/// Arguments of `audit`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Recompute every entry's hash; exit 0 if the chain is intact, 1 naming the first bad entry.
    Verify {
        /// A head hash published earlier (the weekly notice): exit 1 unless the record still holds
        /// it, as it does unless entries up to it were rewritten.
        #[arg(long)]
        head: Option<String>,
    },
    /// Publish this week's head of the record as a notice (once per ISO week; the server also
    /// does it by itself), and print it.
    Publish,
}

/// Runs the verification.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let head = match args.action {
        Action::Verify { head } => head,
        Action::Publish => {
            let store = crate::database::open(config, false).await?;
            let (notice, now) = yongxin_web::audit::publish_head(
                &*store,
                &yongxin_domain::Actor::system("audit-publish"),
                chrono::Utc::now(),
            )
            .await?;
            println!(
                "{} notice {}: {}",
                if now {
                    "published"
                } else {
                    "already published as"
                },
                notice.id,
                notice.title
            );
            let heads = store.published_audit_heads().await?;
            if let Some((week, seq, hash, _)) = heads.first() {
                println!("{week}: entry {seq}, head hash {hash}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let store = crate::database::open(config, false).await?;
    let verified = match &head {
        Some(h) => store.verify_audit_against(h).await?,
        None => store.verify_audit().await?,
    };
    match verified {
        Ok(v) => {
            println!("audit record intact: {} entries", v.entries);
            println!("head hash: {}", v.head_hash);
            match (&head, v.published_at) {
                (None, _) => Ok(ExitCode::SUCCESS),
                (Some(h), Some(seq)) => {
                    println!("published head {} is entry {seq}: the record up to it is the one published", h.trim());
                    Ok(ExitCode::SUCCESS)
                }
                (Some(h), None) => {
                    eprintln!(
                        "published head {} is NOT in this record: entries up to it were rewritten, or the record is not the one published",
                        h.trim()
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Err(e) => {
            eprintln!(
                "audit record ALTERED at sequence {}: {e}",
                e.first_bad_seq()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
