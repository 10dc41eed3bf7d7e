//! `yongxin check`: what a monitoring system or a person on duty asks of an installation —
//! configuration, database reachable and migrated, disk space, backup age, working-day calendars
//! for this year and next, the SMS gateway and mail relay reachable. Changes nothing. One line
//! per check; the exit code is the worst result (0 ok, 1 warning, 2 failure), as monitoring
//! plugins report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::Datelike;
use yongxin_store::Store;
use yongxin_store_postgres::PostgresStore;
use yongxin_store_sqlite::SqliteStore;

use crate::config::Config;
use crate::database::DatabaseUrl;

/// How a check came out, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Fine.
    Ok,
    /// Works, but needs attention soon.
    Warning,
    /// Does not work, or will not much longer.
    Failure,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Warning => "WARN",
            Outcome::Failure => "FAIL",
        }
    }
}

/// Free space below which the disk is a warning, and a failure.
const DISK_WARN: u64 = 2 << 30;
const DISK_FAIL: u64 = 256 << 20;
/// A backup older than this is a warning (the daily one was missed), and a failure.
const BACKUP_WARN: Duration = Duration::from_secs(26 * 3600);
const BACKUP_FAIL: Duration = Duration::from_secs(3 * 24 * 3600);

/// `yongxin check`.
pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let mut results: Vec<(Outcome, &str, String)> = Vec::new();
    results.push((Outcome::Ok, "config", "read and valid".into()));
    let store = database(config, &mut results).await;
    if let Some(store) = &store {
        calendars(&**store, &mut results).await;
    }
    disk(config, &mut results);
    backup(config, &mut results);
    messages(config, &mut results).await;
    let worst = results
        .iter()
        .map(|(o, _, _)| *o)
        .max()
        .unwrap_or(Outcome::Ok);
    for (outcome, what, detail) in &results {
        println!("{:<4} {what:<9} {detail}", outcome.word());
    }
    Ok(ExitCode::from(match worst {
        Outcome::Ok => 0,
        Outcome::Warning => 1,
        Outcome::Failure => 2,
    }))
}

/// Opens the database without migrating it and says how its schema stands.
async fn database(
    config: &Config,
    results: &mut Vec<(Outcome, &'static str, String)>,
) -> Option<Box<dyn Store>> {
    let Some(url) = config.database_url.as_deref() else {
        results.push((
            Outcome::Failure,
            "database",
            "no database_url configured".into(),
        ));
        return None;
    };
    let opened: anyhow::Result<(Box<dyn Store>, yongxin_store::MigrationState)> = async {
        Ok(match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(url) => {
                let s = SqliteStore::open(&url, false).await?;
                let state = s.migration_state().await?;
                (Box::new(s) as Box<dyn Store>, state)
            }
            DatabaseUrl::Postgres(url) => {
                let s = PostgresStore::open(&url).await?;
                let state = s.migration_state().await?;
                (Box::new(s) as Box<dyn Store>, state)
            }
        })
    }
    .await;
    match opened {
        Err(e) => {
            results.push((Outcome::Failure, "database", format!("cannot open: {e:#}")));
            None
        }
        Ok((store, state)) => {
            let (outcome, detail) = if !state.unknown.is_empty() {
                (
                    Outcome::Failure,
                    format!(
                        "migrated by a newer release (migrations {:?}): this binary is older",
                        state.unknown
                    ),
                )
            } else if state.pending > 0 {
                (
                    Outcome::Failure,
                    format!(
                        "{} migration(s) not applied: run `yongxin migrate`",
                        state.pending
                    ),
                )
            } else {
                (
                    Outcome::Ok,
                    format!(
                        "{}, reachable, {} migrations applied",
                        store.backend(),
                        state.applied
                    ),
                )
            };
            results.push((outcome, "database", detail));
            Some(store)
        }
    }
}

/// The working-day calendars of this year and next (deadlines are counted on them).
async fn calendars(store: &dyn Store, results: &mut Vec<(Outcome, &'static str, String)>) {
    let year = chrono::Utc::now()
        .with_timezone(&yongxin_domain::time::shanghai())
        .year();
    match store.calendar_years().await {
        Err(e) => results.push((Outcome::Failure, "calendar", format!("cannot read: {e}"))),
        Ok(stored) => {
            // The shipped years and those administrators stored, as the server composes them.
            let (calendar, _) = yongxin_domain::calendar::WorkingCalendar::with_stored(&stored);
            let has = |y: i32| {
                chrono::NaiveDate::from_ymd_opt(y, 1, 1).is_some_and(|d| calendar.covers(d))
            };
            let (outcome, detail) = match (has(year), has(year + 1)) {
                (true, true) => (Outcome::Ok, format!("{year} and {} loaded", year + 1)),
                (true, false) => (
                    Outcome::Warning,
                    format!(
                        "{year} loaded, {} not yet: load it at /admin/calendar when the State Council publishes it",
                        year + 1
                    ),
                ),
                _ => (
                    Outcome::Failure,
                    format!("{year} not loaded: deadlines fall on holidays; load it at /admin/calendar"),
                ),
            };
            results.push((outcome, "calendar", detail));
        }
    }
}

/// Free space where the database and the backups are kept.
fn disk(config: &Config, results: &mut Vec<(Outcome, &'static str, String)>) {
    let mut places: Vec<PathBuf> = Vec::new();
    if let Ok(p) = crate::cmd::backup::sqlite_path(config) {
        places.push(
            p.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| ".".into()),
        );
    }
    places.push(config.search_dir());
    if let Some(d) = &config.backup_dir {
        places.push(d.into());
    }
    for place in places {
        // The nearest existing directory holds the file system it will be on.
        let Some(existing) = place
            .ancestors()
            .find(|p| p.is_dir() || p.as_os_str().is_empty())
        else {
            continue;
        };
        let existing = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        match rustix::fs::statvfs(existing) {
            Err(e) => results.push((
                Outcome::Warning,
                "disk",
                format!("{}: cannot tell ({e})", place.display()),
            )),
            Ok(s) => {
                let free = s.f_bavail.saturating_mul(s.f_frsize);
                let outcome = if free < DISK_FAIL {
                    Outcome::Failure
                } else if free < DISK_WARN {
                    Outcome::Warning
                } else {
                    Outcome::Ok
                };
                results.push((
                    outcome,
                    "disk",
                    format!("{}: {} MiB free", place.display(), free >> 20),
                ));
            }
        }
    }
}

/// The age of the newest backup (SQLite).
fn backup(config: &Config, results: &mut Vec<(Outcome, &'static str, String)>) {
    let sqlite = matches!(
        config.database_url.as_deref().map(DatabaseUrl::parse),
        Some(Ok(DatabaseUrl::Sqlite(_)))
    );
    if !sqlite {
        results.push((
            Outcome::Ok,
            "backup",
            "PostgreSQL: backed up by its own tools, not checked here".into(),
        ));
        return;
    }
    let Some(dir) = &config.backup_dir else {
        results.push((
            Outcome::Warning,
            "backup",
            "backup_dir is not set: the server takes no daily backup (see `yongxin backup`)".into(),
        ));
        return;
    };
    match crate::cmd::backup::newest_backup(Path::new(dir)) {
        None => results.push((Outcome::Failure, "backup", format!("none in {dir}"))),
        Some((file, at)) => {
            let age = at.elapsed().unwrap_or_default();
            let outcome = if age > BACKUP_FAIL {
                Outcome::Failure
            } else if age > BACKUP_WARN {
                Outcome::Warning
            } else {
                Outcome::Ok
            };
            results.push((
                outcome,
                "backup",
                format!(
                    "newest {} is {} h old",
                    file.display(),
                    age.as_secs() / 3600
                ),
            ));
        }
    }
}

/// Whether the SMS gateway and the mail relay accept a connection.
async fn messages(config: &Config, results: &mut Vec<(Outcome, &'static str, String)>) {
    for (what, url, default_port) in [
        ("sms", config.sms_gateway_url.as_deref(), 80),
        ("smtp", config.smtp_url.as_deref(), 25),
    ] {
        let Some(url) = url else {
            results.push((
                Outcome::Ok,
                what,
                "not configured: messages are written to the log".into(),
            ));
            continue;
        };
        let Some(addr) = host_port(url, default_port) else {
            results.push((Outcome::Failure, what, "the URL names no host".into()));
            continue;
        };
        let reached = tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect(addr.as_str()),
        )
        .await;
        results.push(match reached {
            Ok(Ok(_)) => (Outcome::Ok, what, format!("{addr} accepts connections")),
            Ok(Err(e)) => (Outcome::Failure, what, format!("{addr}: {e}")),
            Err(_) => (Outcome::Failure, what, format!("{addr}: no answer in 3 s")),
        });
    }
}

/// `host:port` of a URL (`scheme://[user[:password]@]host[:port][/…]`).
fn host_port(url: &str, default_port: u16) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty() || host_port.starts_with(':') {
        return None;
    }
    let port = match scheme {
        "https" => 443,
        _ => default_port,
    };
    Some(if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_are_read_from_urls() {
        assert_eq!(
            host_port("http://10.1.1.5:8080/send?to={phone}", 80).as_deref(),
            Some("10.1.1.5:8080")
        );
        assert_eq!(
            host_port("https://sms.example.cn/send", 80).as_deref(),
            Some("sms.example.cn:443")
        );
        assert_eq!(
            host_port("smtp://notify:secret@10.1.1.6", 25).as_deref(),
            Some("10.1.1.6:25")
        );
        assert_eq!(host_port("smtp://", 25), None);
        assert_eq!(host_port("no scheme", 25), None);
    }
}
