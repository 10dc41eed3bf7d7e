//! `yongxin backup` and `yongxin restore`: a consistent, compressed copy of the SQLite database
//! taken while the server runs, checked before it is called a backup, and put back in place.
//!
//! A backup is `NAME.db.gz` (gzip, so `gunzip` alone recovers the database file) with
//! `NAME.db.gz.head` beside it: the audit record's head hash, its entry count and newest entry's
//! time, which `restore` checks the restored copy against. PostgreSQL is backed up with its own
//! tools (pg_dump, pgBackRest); `yongxin audit verify` checks what they restore.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use yongxin_store::AuditLog;
use yongxin_store_sqlite::SqliteStore;

use crate::config::Config;
use crate::database::DatabaseUrl;

/// Arguments of `backup`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write: a file (`NAME.db.gz`), or an existing directory to hold
    /// `yongxin-YYYYMMDD-HHMMSS-mmm.db.gz`.
    #[arg(long)]
    pub out: PathBuf,
    /// With a directory: keep its newest N backups, removing older ones.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
}

/// Arguments of `restore`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A backup written by `yongxin backup` (`.db.gz`).
    pub file: PathBuf,
    /// The data directory to restore into; the database becomes `DIR/yongxin.db`.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Restore into a directory that is not empty, replacing its database.
    #[arg(long)]
    pub force: bool,
}

/// What a checked copy of the record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The head hash of the audit record.
    pub head_hash: String,
    /// Entries in the record.
    pub entries: u64,
    /// When the newest entry was written.
    pub newest_at: Option<DateTime<Utc>>,
}

impl Checked {
    fn sidecar(&self) -> String {
        format!(
            "head_hash {}\nentries {}\nnewest_at {}\n",
            self.head_hash,
            self.entries,
            self.newest_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        )
    }

    fn from_sidecar(text: &str) -> Option<Self> {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .map(str::trim)
        };
        Some(Self {
            head_hash: field("head_hash")?.to_owned(),
            entries: field("entries")?.parse().ok()?,
            newest_at: field("newest_at")
                .filter(|t| !t.is_empty())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        })
    }
}

/// A backup written and checked.
#[derive(Debug, Clone)]
pub struct Taken {
    /// The compressed file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// What its record holds.
    pub checked: Checked,
    /// Backups removed by `--keep`.
    pub removed: Vec<PathBuf>,
}

/// `yongxin backup`.
pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let path = sqlite_path(config)?;
    let started = Instant::now();
    let taken = take(&path, &args.out, args.keep).await?;
    println!(
        "backup written: {} ({} bytes) in {:.1} s",
        taken.file.display(),
        taken.bytes,
        started.elapsed().as_secs_f64()
    );
    print_checked(&taken.checked);
    for r in &taken.removed {
        println!("removed older backup {}", r.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `yongxin restore`.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let checked = restore_into(&args.file, &args.data_dir, args.force).await?;
    println!(
        "restored {} into {} in {:.1} s",
        args.file.display(),
        args.data_dir.join(DATABASE_FILE).display(),
        started.elapsed().as_secs_f64()
    );
    print_checked(&checked);
    Ok(ExitCode::SUCCESS)
}

fn print_checked(c: &Checked) {
    println!("audit record intact: {} entries", c.entries);
    println!("head hash: {}", c.head_hash);
    match c.newest_at {
        Some(t) => println!(
            "newest entry: {}",
            t.with_timezone(&yongxin_domain::time::shanghai())
                .format("%Y-%m-%d %H:%M:%S %:z")
        ),
        None => println!("newest entry: none (the record is empty)"),
    }
}

/// The database file a restored backup becomes, in its data directory.
pub const DATABASE_FILE: &str = "yongxin.db";

/// The SQLite file of the configured database, or why there is none to back up.
pub fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    let Some(url) = config.database_url.as_deref() else {
        bail!("no database given: pass --database-url or set YONGXIN_DATABASE_URL");
    };
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Postgres(_) => bail!(
            "this database is PostgreSQL: back it up with PostgreSQL's own tools (pg_dump, or \
             pgBackRest for point-in-time recovery); after restoring one, `yongxin audit verify` \
             checks the record it holds. See the README's Operations section."
        ),
        DatabaseUrl::Sqlite(url) => {
            let path = url.trim_start_matches("sqlite://");
            let path = path.split('?').next().unwrap_or(path);
            Ok(PathBuf::from(path))
        }
    }
}

/// Takes a backup of the SQLite database at `db` into `out` (a file, or a directory for a
/// timestamped file), checks it, and with `keep` removes older ones from the directory.
pub async fn take(db: &Path, out: &Path, keep: Option<u32>) -> anyhow::Result<Taken> {
    if !db.is_file() {
        bail!("database file not found: {}", db.display());
    }
    let (dir, file) = if out.is_dir() {
        let name = format!("yongxin-{}.db.gz", Utc::now().format("%Y%m%d-%H%M%S-%3f"));
        (out.to_path_buf(), out.join(name))
    } else {
        if keep.is_some() {
            bail!("--keep needs --out to name a directory (the backups to keep are its files)");
        }
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            bail!("--out: the directory {} does not exist", dir.display());
        }
        (dir, out.to_path_buf())
    };
    if file.exists() {
        bail!("--out: {} exists already", file.display());
    }

    // The copy, beside the backup so no other disk must hold it; removed whatever happens.
    let copy = Scratch(dir.join(format!(".yongxin-backup-{}.db", std::process::id())));
    copy.clear();
    SqliteStore::copy_database(db, &copy.0)
        .await
        .with_context(|| format!("copying {} (VACUUM INTO)", db.display()))?;
    let checked = check(&copy.0).await?;

    let partial = Scratch(file.with_extension("gz.partial"));
    let bytes = {
        let src = copy.0.clone();
        let dst = partial.0.clone();
        tokio::task::spawn_blocking(move || compress(&src, &dst)).await??
    };
    std::fs::write(
        PathBuf::from(format!("{}.head", file.display())),
        checked.sidecar(),
    )
    .context("writing the head file")?;
    std::fs::rename(&partial.0, &file).context("naming the backup")?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .context("syncing the backup's directory")?;

    let removed = match keep {
        Some(n) => rotate(&dir, n as usize)?,
        None => Vec::new(),
    };
    Ok(Taken {
        file,
        bytes,
        checked,
        removed,
    })
}

/// Opens a database file read-only and verifies its audit chain.
pub async fn check(path: &Path) -> anyhow::Result<Checked> {
    let store = SqliteStore::open_read_only(path)
        .await
        .with_context(|| format!("opening the copy {}", path.display()))?;
    let verified = store
        .verify_audit()
        .await?
        .map_err(|e| anyhow::anyhow!("the copy's audit record is broken: {e}"))?;
    let newest_at = store.recent_audit_entries(1).await?.first().map(|e| e.at);
    Ok(Checked {
        head_hash: verified.head_hash,
        entries: verified.entries,
        newest_at,
    })
}

/// Gzips `src` into `dst`, synced to disk; answers the compressed size.
fn compress(src: &Path, dst: &Path) -> anyhow::Result<u64> {
    let mut input = BufReader::new(File::open(src)?);
    let out = File::create(dst).with_context(|| format!("creating {}", dst.display()))?;
    // Level 3: most of level 6's saving on a database at a fraction of its time.
    let mut gz = flate2::write::GzEncoder::new(BufWriter::new(out), flate2::Compression::new(3));
    std::io::copy(&mut input, &mut gz)?;
    let out = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    out.sync_all()?;
    Ok(out.metadata()?.len())
}

/// The backups (`yongxin-*.db.gz`) of `dir`, oldest first: their names hold their time.
fn backups_of(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("yongxin-") && n.ends_with(".db.gz"))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Removes all but the newest `keep` backups of `dir`, and their head files.
fn rotate(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let backups = backups_of(dir)?;
    let old = backups.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = backups.into_iter().take(old).collect();
    for p in &removed {
        std::fs::remove_file(p)?;
        let _ = std::fs::remove_file(format!("{}.head", p.display()));
    }
    Ok(removed)
}

/// The newest backup in `dir` and when it was written.
pub fn newest_backup(dir: &Path) -> Option<(PathBuf, std::time::SystemTime)> {
    let newest = backups_of(dir).ok()?.pop()?;
    let at = newest.metadata().and_then(|m| m.modified()).ok()?;
    Some((newest, at))
}

/// The next instant after `now` at `hour`:00 in Asia/Shanghai.
pub fn next_backup_at(hour: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    let zone = yongxin_domain::time::shanghai();
    let today = now.with_timezone(&zone).date_naive();
    let at = |day: chrono::NaiveDate| {
        day.and_hms_opt(hour.min(23), 0, 0)
            .and_then(|t| t.and_local_timezone(zone).single())
            .map(|t| t.with_timezone(&Utc))
    };
    match at(today) {
        Some(t) if t > now => t,
        _ => at(today + chrono::Duration::days(1)).unwrap_or(now + chrono::Duration::days(1)),
    }
}

/// The server's own daily backup into `dir` at `hour` (Asia/Shanghai), keeping `keep`; one is
/// taken a minute after start when the newest there is more than a day old (the server was down
/// at the hour).
pub fn spawn_daily(db: PathBuf, dir: PathBuf, hour: u32, keep: u32) {
    tokio::spawn(async move {
        let stale = newest_backup(&dir).is_none_or(|(_, at)| {
            at.elapsed()
                .map_or(true, |age| age > std::time::Duration::from_secs(25 * 3600))
        });
        if stale {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            daily(&db, &dir, keep).await;
        }
        loop {
            let wait = (next_backup_at(hour, Utc::now()) - Utc::now())
                .to_std()
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            daily(&db, &dir, keep).await;
        }
    });
}

async fn daily(db: &Path, dir: &Path, keep: u32) {
    let started = Instant::now();
    match take(db, dir, Some(keep)).await {
        Ok(t) => tracing::info!(
            backup.file = %t.file.display(),
            backup.bytes = t.bytes,
            backup.head = %t.checked.head_hash,
            backup.removed = t.removed.len(),
            seconds = started.elapsed().as_secs_f64(),
            "daily backup written and checked"
        ),
        Err(e) => tracing::error!(error.message = %format!("{e:#}"), "the daily backup failed"),
    }
}

/// Restores `file` into `dir/yongxin.db`: decompressed beside it, checked, then named.
pub async fn restore_into(file: &Path, dir: &Path, force: bool) -> anyhow::Result<Checked> {
    if !file.is_file() {
        bail!("backup not found: {}", file.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let occupied = std::fs::read_dir(dir)?.next().is_some();
    if occupied && !force {
        bail!(
            "--data-dir {} is not empty: restore into an empty directory, or pass --force to replace its database",
            dir.display()
        );
    }
    let target = dir.join(DATABASE_FILE);
    let partial = Scratch(dir.join(format!(".{DATABASE_FILE}.restoring")));
    partial.clear();
    {
        let (src, dst) = (file.to_path_buf(), partial.0.clone());
        tokio::task::spawn_blocking(move || decompress(&src, &dst))
            .await?
            .with_context(|| format!("reading {}", file.display()))?;
    }
    let checked = check(&partial.0).await?;
    let sidecar = PathBuf::from(format!("{}.head", file.display()));
    if let Ok(text) = std::fs::read_to_string(&sidecar) {
        match Checked::from_sidecar(&text) {
            Some(expected) if expected.head_hash == checked.head_hash => {}
            Some(expected) => bail!(
                "the restored record's head {} is not the one the backup recorded ({}): the file was changed after the backup",
                checked.head_hash,
                expected.head_hash
            ),
            None => bail!("{} does not read as a head file", sidecar.display()),
        }
    }
    // A WAL or shared-memory file of the database being replaced would be replayed over the
    // restored one.
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", target.display()));
    }
    std::fs::rename(&partial.0, &target).context("naming the restored database")?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .context("syncing the data directory")?;
    Ok(checked)
}

/// Gunzips `src` into `dst`, synced to disk.
fn decompress(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let mut gz = flate2::read::GzDecoder::new(BufReader::new(File::open(src)?));
    let mut out = BufWriter::new(File::create(dst)?);
    let mut buf = vec![0_u8; 1 << 16];
    loop {
        let n = gz
            .read(&mut buf)
            .context("not a gzip file written by yongxin backup")?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

/// A file that is removed (with any SQLite companions) when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn clear(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_backup_is_at_the_hour_in_shanghai() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("a time")
                .with_timezone(&Utc)
        };
        // 01:00 in Shanghai: today at 02:00.
        assert_eq!(
            next_backup_at(2, t("2026-12-07T17:00:00Z")),
            t("2026-12-07T18:00:00Z")
        );
        // 02:00 exactly, or later: tomorrow.
        assert_eq!(
            next_backup_at(2, t("2026-12-07T18:00:00Z")),
            t("2026-12-08T18:00:00Z")
        );
        assert_eq!(
            next_backup_at(23, t("2026-12-07T16:30:00Z")),
            t("2026-12-08T15:00:00Z")
        );
    }

    #[test]
    fn the_head_file_reads_back() {
        let c = Checked {
            head_hash: "ab".repeat(32),
            entries: 42,
            newest_at: Some(Utc::now()),
        };
        let back = Checked::from_sidecar(&c.sidecar()).expect("reads");
        assert_eq!(back.head_hash, c.head_hash);
        assert_eq!(back.entries, 42);
        assert_eq!(
            back.newest_at.map(|t| t.timestamp()),
            c.newest_at.map(|t| t.timestamp())
        );
        assert!(Checked::from_sidecar("head_hash x\n").is_none());
    }
}
