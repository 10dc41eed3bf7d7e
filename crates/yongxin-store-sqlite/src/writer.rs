//! Group commit: every write of this process goes through one writer task, which runs the writes
//! queued at that moment in a single `BEGIN IMMEDIATE` transaction, each inside its own savepoint,
//! and commits them with one fsync.
//!
//! With `synchronous=FULL` a commit costs a disk flush, so one commit per change caps throughput at
//! the disk's flush rate (about 1,500–2,000 a second here) however cheap the change is. Sharing the
//! commit among the changes that arrive while the previous flush is in progress lifts that cap
//! without weakening durability: nobody is answered before the commit holding their change is on
//! disk. A change that fails is rolled back to its savepoint and does not disturb the others.
//!
//! A write is either a future of sqlx statements or a *direct* write: a closure that runs
//! synchronously on the same connection through rusqlite, on the writer's own thread. Every sqlx
//! statement is a round trip to the connection's thread, a pair of context switches that costs more
//! than the statement; the busiest writes are direct, so that a batch of them costs one round
//! trip, not two per write.
//!
//! The batch also holds the audit chain's head: read once when the batch takes the write lock,
//! advanced in memory by each change that succeeds, written back once before the commit. Nothing
//! else can write between the two, since the batch holds SQLite's only write lock throughout. In
//! the same way the changes' audit rows and their differences to the three rates' counters are
//! kept until the end of the batch and written with a statement or two: nothing in a write reads
//! them, and every statement is a round trip to the connection's thread.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use futures_util::future::BoxFuture;
use sqlx::sqlite::{LockedSqliteHandle, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use yongxin_domain::appeal::SettledTally;
use yongxin_domain::{AuditEntry, NewAuditEntry};
use yongxin_store::{StoreError, StoreResult};

use crate::sql::rates::TallyRow;

/// Most writes sharing one commit; bounds how long one transaction holds the write lock.
const MAX_BATCH: usize = 512;

/// Called once the outcome of the commit is known.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write of sqlx statements: runs on the writer's connection and says whether it succeeded.
type AsyncWork =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Deliver)> + Send>;
/// A direct write: runs synchronously on the same connection, through rusqlite.
type DirectWork = Box<dyn FnOnce(&rusqlite::Connection) -> (bool, Deliver) + Send>;

enum Job {
    Async(AsyncWork),
    Direct(DirectWork),
}

/// The handle through which writes reach the writer task.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer over a pool.
    ///
    /// The writer has a thread and a runtime of its own. Each batch waits on several statements'
    /// round trips to the connection's thread; on the server's runtime every wake-up queued
    /// behind the requests being served, and the commits came later than the disk allowed. A
    /// runtime that runs nothing else wakes the writer at once, and its direct writes, which run
    /// synchronously, no longer hold up a worker that serves requests. It stops when the last
    /// handle is dropped, after the batch it is running.
    pub fn start(pool: SqlitePool) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        let thread = std::thread::Builder::new()
            .name("yongxin-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(pool, jobs)),
                    Err(e) => {
                        tracing::error!(error.message = %e, "the database writer could not start");
                    }
                }
            });
        // Without the thread the queue's receiver is gone, and every write is refused as
        // unavailable: the truth, and no write is acknowledged that was not made.
        if let Err(e) = thread {
            tracing::error!(error.message = %e, "the database writer could not start");
        }
        Self { queue }
    }

    /// Runs `work` inside a write transaction and answers once it is durably committed.
    pub async fn submit<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Job::Async(Box::new(move |conn| {
            Box::pin(async move { settled(answer, work(conn).await) })
        }));
        self.enqueue(job, answered).await
    }

    /// Runs `work` synchronously on the writer's connection, inside a write transaction, and
    /// answers once it is durably committed. Its audit entries go through [`seal_in_batch`], its
    /// counter differences through [`defer_tallies`].
    pub async fn submit_direct<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Job::Direct(Box::new(move |conn| settled(answer, work(conn))));
        self.enqueue(job, answered).await
    }

    async fn enqueue<T>(
        &self,
        job: Job,
        answered: oneshot::Receiver<StoreResult<T>>,
    ) -> StoreResult<T> {
        self.queue
            .send(job)
            .await
            .map_err(|_| StoreError::unavailable("the database writer has stopped"))?;
        answered
            .await
            .map_err(|_| StoreError::unavailable("the database writer has stopped"))?
    }
}

/// Whether a write succeeded, and how to answer its caller once the commit's outcome is known.
fn settled<T: Send + 'static>(
    answer: oneshot::Sender<StoreResult<T>>,
    result: StoreResult<T>,
) -> (bool, Deliver) {
    let ok = result.is_ok();
    let deliver: Deliver = Box::new(move |commit| {
        let outcome = match commit {
            Ok(()) => result,
            Err(e) => Err(StoreError::unavailable(format!("commit failed: {e}"))),
        };
        // The caller may have gone away; its change stands all the same.
        let _ = answer.send(outcome);
    });
    (ok, deliver)
}

/// What the running batch holds back until it commits: the audit head, audit rows and counter
/// differences, as of the changes that succeeded, and those of the change running now.
#[derive(Debug, Default)]
struct HeldWrites {
    /// As of the last change that succeeded (or as read when the batch began).
    kept: Option<(i64, String)>,
    /// As the change running now has moved it.
    moved: Option<(i64, String)>,
    /// Whether `kept` differs from what is stored.
    changed: bool,
    /// Audit rows of the changes that succeeded.
    audit: Vec<AuditEntry>,
    /// Audit rows of the change running now.
    job_audit: Vec<AuditEntry>,
    /// Counter differences of the changes that succeeded, summed per counter row.
    tallies: HashMap<(&'static str, String, NaiveDate), SettledTally>,
    /// Counter differences of the change running now.
    job_tallies: Vec<TallyRow>,
}

tokio::task_local! {
    static HELD: RefCell<HeldWrites>;
}

/// Keeps the running change's audit rows for the end of the batch; false outside a batch.
pub(crate) fn defer_audit(entries: &[AuditEntry]) -> bool {
    HELD.try_with(|h| h.borrow_mut().job_audit.extend_from_slice(entries))
        .is_ok()
}

/// Keeps the running change's counter differences for the end of the batch; gives them back
/// outside a batch.
pub(crate) fn defer_tallies(rows: Vec<TallyRow>) -> Option<Vec<TallyRow>> {
    let mut rows = Some(rows);
    let _ = HELD.try_with(|h| {
        if let Some(r) = rows.take() {
            h.borrow_mut().job_tallies.extend(r);
        }
    });
    rows
}

/// The head as the change running now sees it, inside a batch.
pub(crate) fn batch_head() -> Option<(i64, String)> {
    HELD.try_with(|h| {
        let h = h.borrow();
        h.moved.clone().or_else(|| h.kept.clone())
    })
    .ok()
    .flatten()
}

/// Moves the head for the change running now; false outside a batch.
pub(crate) fn move_batch_head(seq: i64, hash: &str) -> bool {
    HELD.try_with(|h| h.borrow_mut().moved = Some((seq, hash.to_owned())))
        .is_ok()
}

/// Seals a direct write's audit entries onto the batch's chain; they are written with the
/// batch's.
pub(crate) fn seal_in_batch(entries: Vec<NewAuditEntry>) -> StoreResult<()> {
    let head =
        batch_head().ok_or_else(|| StoreError::internal("a direct write ran outside a batch"))?;
    let (sealed, (seq, hash)) = crate::sql::audit::seal_entries(head, entries, Utc::now());
    defer_audit(&sealed);
    move_batch_head(seq, &hash);
    Ok(())
}

/// Reads the chain's head; both drivers run it (sqlx binds `$k`, rusqlite the k-th parameter).
const HEAD_SELECT: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
/// Stores the chain's head.
const HEAD_UPDATE: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

/// Reads the stored head.
pub(crate) async fn read_head(conn: &mut SqliteConnection) -> StoreResult<(i64, String)> {
    sqlx::query_as(HEAD_SELECT)
        .fetch_one(&mut *conn)
        .await
        .map_err(crate::dialect::db_err)
}

/// Stores the head.
pub(crate) async fn write_head(
    conn: &mut SqliteConnection,
    seq: i64,
    hash: &str,
) -> StoreResult<()> {
    sqlx::query(HEAD_UPDATE)
        .bind(seq)
        .bind(hash)
        .execute(&mut *conn)
        .await
        .map_err(crate::dialect::db_err)?;
    Ok(())
}

async fn run(pool: SqlitePool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        HELD.scope(RefCell::default(), run_batch(&pool, &mut jobs, first))
            .await;
    }
}

/// A stretch of a batch: consecutive direct writes share one lock of the connection; a write of
/// sqlx statements runs alone, with the connection unlocked.
enum Stretch {
    Direct(Vec<DirectWork>),
    Async(AsyncWork),
}

/// Groups a batch's jobs into stretches, in order.
fn stretches(batch: Vec<Job>) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    for job in batch {
        match (job, out.last_mut()) {
            (Job::Direct(work), Some(Stretch::Direct(run))) => run.push(work),
            (Job::Direct(work), _) => out.push(Stretch::Direct(vec![work])),
            (Job::Async(work), _) => out.push(Stretch::Async(work)),
        }
    }
    out
}

/// Why a batch stopped before its commit.
enum Stop {
    /// Nothing ran: the callers are told the writer is unavailable.
    NotBegun(String),
    /// Something ran and is rolled back: every caller that ran is told the commit failed.
    Broken(String),
}

async fn run_batch(pool: &SqlitePool, jobs: &mut mpsc::Receiver<Job>, first: Job) {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    let size = batch.len();
    let started = std::time::Instant::now();
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => {
            fail_unrun(batch, &e.to_string());
            return;
        }
    };
    let mut delivers = Vec::with_capacity(size);
    let mut begun = false;
    let mut stop = None;
    let mut committed = false;
    // Whether the last write of sqlx statements left its savepoint open (see `run_async`).
    let mut open = false;
    let mut stretches = stretches(batch).into_iter().peekable();
    // The transaction begins in the first lock and commits in the last: a batch of direct
    // writes only takes the lock once.
    while let Some(stretch) = stretches.next() {
        let last = stretches.peek().is_none();
        let ran = match stretch {
            Stretch::Direct(run) => {
                let release = std::mem::take(&mut open);
                locked(&mut conn, |c| {
                    if !begun {
                        begin(c).map_err(Stop::NotBegun)?;
                    }
                    if release {
                        c.execute_batch("RELEASE write_job")
                            .map_err(|e| Stop::Broken(e.to_string()))?;
                    }
                    run_direct(c, run, &mut delivers).map_err(Stop::Broken)?;
                    if last {
                        finish(c).map_err(Stop::Broken)?;
                    }
                    Ok(())
                })
                .await
            }
            Stretch::Async(work) => {
                let began = if begun {
                    Ok(())
                } else {
                    locked(&mut conn, |c| begin(c).map_err(Stop::NotBegun)).await
                };
                match began {
                    Ok(()) => match run_async(&mut conn, work, &mut delivers, &mut open).await {
                        Ok(()) if last => {
                            locked(&mut conn, |c| finish(c).map_err(Stop::Broken)).await
                        }
                        Ok(()) => Ok(()),
                        Err(e) => Err(Stop::Broken(e)),
                    },
                    Err(e) => Err(e),
                }
            }
        };
        match ran {
            Ok(()) => {
                begun = true;
                committed = last;
            }
            Err(e) => {
                stop = Some(e);
                break;
            }
        }
    }
    // Jobs never run because the batch stopped are dropped with the iterator; their callers see
    // the writer's answer channel close and get an error, which is the truth: nothing was written.
    drop(stretches);
    let outcome = match stop {
        None if committed => Ok(()),
        None => Err("the batch ended without its commit".to_owned()),
        Some(Stop::NotBegun(e)) => {
            tracing::error!(error.message = %e, batch.size = size, "write batch could not start");
            Err(e)
        }
        Some(Stop::Broken(e)) => Err(e),
    };
    if let Err(e) = &outcome {
        tracing::error!(error.message = %e, batch.size = size, "write batch failed");
        // A batch that broke inside a lock rolled back there; this covers the rest.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    tracing::trace!(batch.size = size, elapsed = ?started.elapsed(), "write batch committed");
    for deliver in delivers {
        deliver(outcome.clone());
    }
}

/// Runs `f` on the connection through rusqlite, with sqlx's thread kept off it.
async fn locked<R>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&rusqlite::Connection) -> Result<R, Stop>,
) -> Result<R, Stop> {
    let handle = conn
        .lock_handle()
        .await
        .map_err(|e| Stop::Broken(e.to_string()))?;
    let direct = DirectConnection::new(handle).map_err(Stop::Broken)?;
    f(&direct.conn)
}

/// Begins the batch's transaction and reads the audit chain's head into the batch.
fn begin(c: &rusqlite::Connection) -> Result<(), String> {
    c.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    let head = c
        .prepare_cached(HEAD_SELECT)
        .and_then(|mut s| s.query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))));
    match head {
        Ok(head) => {
            HELD.with(|h| h.borrow_mut().kept = Some(head));
            Ok(())
        }
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e.to_string())
        }
    }
}

/// Writes what the batch held back (audit rows, counter differences, the head) and commits; on
/// an error rolls everything back.
fn finish(c: &rusqlite::Connection) -> Result<(), String> {
    let (head, audit, tallies) = HELD.with(|h| {
        let mut h = h.borrow_mut();
        let head = h.changed.then(|| h.kept.clone()).flatten();
        let tallies: Vec<TallyRow> = std::mem::take(&mut h.tallies)
            .into_iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((dim, key, day), d)| (dim, key, day, d))
            .collect();
        (head, std::mem::take(&mut h.audit), tallies)
    });
    let written =
        write_held(c, &audit, &tallies, head.as_ref()).and_then(|()| c.execute_batch("COMMIT"));
    if let Err(e) = written {
        if !c.is_autocommit() {
            let _ = c.execute_batch("ROLLBACK");
        }
        return Err(e.to_string());
    }
    Ok(())
}

/// The held audit rows, counter differences and head, one cached statement each.
fn write_held(
    c: &rusqlite::Connection,
    audit: &[AuditEntry],
    tallies: &[TallyRow],
    head: Option<&(i64, String)>,
) -> rusqlite::Result<()> {
    if !audit.is_empty() {
        let mut insert = c.prepare_cached(&format!(
            "{}VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            crate::sql::audit::AUDIT_INSERT
        ))?;
        for e in audit {
            insert.execute(rusqlite::params![
                e.seq,
                crate::dialect::sqlite_time(e.at),
                e.actor,
                e.action,
                e.entity,
                e.summary,
                e.digest,
                e.prev_hash,
                e.hash,
            ])?;
        }
    }
    if !tallies.is_empty() {
        use crate::sql::rates::{TALLY_INSERT, TALLY_ON_CONFLICT};
        let mut upsert = c.prepare_cached(&format!(
            "{TALLY_INSERT}VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11){TALLY_ON_CONFLICT}"
        ))?;
        for (dim, key, day, d) in tallies {
            upsert.execute(rusqlite::params![
                dim,
                key,
                // The text sqlx writes for a date.
                day.format("%F").to_string(),
                d.total,
                d.contact_due,
                d.contacted_on_time,
                d.resolution_due,
                d.answered_on_time,
                d.answered,
                d.rated,
                d.satisfied,
            ])?;
        }
    }
    if let Some((seq, hash)) = head {
        c.prepare_cached(HEAD_UPDATE)?
            .execute(rusqlite::params![seq, hash])?;
    }
    Ok(())
}

/// Runs a write of sqlx statements in its savepoint; an error is one that breaks the batch.
///
/// Its savepoint is left open when it succeeds and released by the next statement the batch
/// sends anyway (the next savepoint, or the direct writes' lock, or the commit): every statement
/// is a round trip to the connection's thread, and a release of its own would be one more per
/// write. `open` says whether the last one's savepoint is still open.
async fn run_async(
    conn: &mut SqliteConnection,
    work: AsyncWork,
    delivers: &mut Vec<Deliver>,
    open: &mut bool,
) -> Result<(), String> {
    let start = if *open {
        "RELEASE write_job; SAVEPOINT write_job"
    } else {
        "SAVEPOINT write_job"
    };
    sqlx::raw_sql(start)
        .execute(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    *open = true;
    let (ok, deliver) = work(conn).await;
    keep_job(ok);
    delivers.push(deliver);
    if !ok {
        sqlx::query("ROLLBACK TO write_job")
            .execute(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs direct writes, each in its savepoint, on the locked connection.
///
/// Each savepoint is released when its write is done. Left open, they stacked up through the
/// batch, and SQLite visits every open savepoint for every page a write touches: a batch of n
/// writes cost n² page visits.
fn run_direct(
    conn: &rusqlite::Connection,
    run: Vec<DirectWork>,
    delivers: &mut Vec<Deliver>,
) -> Result<(), String> {
    let step = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for work in run {
        step("SAVEPOINT write_job")?;
        let (ok, deliver) = work(conn);
        keep_job(ok);
        delivers.push(deliver);
        // SQLite rolls the whole transaction back on some errors (disk full, I/O); a later
        // savepoint would then open a fresh one and the commit would acknowledge lost writes.
        if conn.is_autocommit() {
            return Err("the batch's transaction was rolled back".into());
        }
        if !ok {
            step("ROLLBACK TO write_job")?;
        }
        step("RELEASE write_job")?;
    }
    Ok(())
}

/// The writer's connection seen through rusqlite while sqlx's thread is kept off it.
struct DirectConnection<'h> {
    // Declared first, so dropped first: the wrapper must not outlive the lock.
    conn: rusqlite::Connection,
    _lock: LockedSqliteHandle<'h>,
}

impl<'h> DirectConnection<'h> {
    #[allow(
        unsafe_code,
        reason = "lends the connection sqlx holds to rusqlite; see SAFETY below"
    )]
    fn new(mut lock: LockedSqliteHandle<'h>) -> Result<Self, String> {
        // SAFETY: the handle is a live connection for as long as `lock` is held, and `lock` keeps
        // sqlx's connection thread off it; the wrapper is dropped before `lock` (field order) and
        // does not own the handle, so dropping it finalizes only its own statements and leaves
        // the connection open. Both crates link the one libsqlite3-sys.
        let conn = unsafe { rusqlite::Connection::from_handle(lock.as_raw_handle().as_ptr()) }
            .map_err(|e| e.to_string())?;
        Ok(Self { conn, _lock: lock })
    }
}

/// Keeps what the job that just ran holds back for the batch if it succeeded, drops it if not.
fn keep_job(ok: bool) {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        let moved = h.moved.take();
        let audit = std::mem::take(&mut h.job_audit);
        let tallies = std::mem::take(&mut h.job_tallies);
        if ok {
            if moved.is_some() {
                h.kept = moved;
                h.changed = true;
            }
            h.audit.extend(audit);
            for (dim, key, day, d) in tallies {
                let sum = h.tallies.entry((dim, key, day)).or_default();
                *sum = sum.plus(d);
            }
        }
    });
}

/// Answers every job of a batch that could not start; each job must still run to deliver, so it
/// is given nothing to do: dropping it closes its answer channel, which the caller reads as
/// unavailable.
fn fail_unrun(batch: Vec<Job>, error: &str) {
    tracing::error!(error.message = %error, batch.size = batch.len(), "write batch could not start");
    drop(batch);
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "test")]

    use super::*;

    fn insert_village(conn: &rusqlite::Connection, code: &str) -> StoreResult<()> {
        conn.execute(
            "INSERT INTO villages (code, name, kind) VALUES (?1, ?1, 'village')",
            [code],
        )
        .map_err(crate::dialect::direct_err)?;
        Ok(())
    }

    /// Direct writes that fail after writing are rolled back to their savepoint, and the direct
    /// and sqlx writes sharing their commit stand.
    #[tokio::test]
    async fn a_failed_direct_write_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = crate::SqliteStore::open(&url, true).await.unwrap();
        store.migrate().await.unwrap();
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let writer = store.writer.clone();
                tokio::spawn(async move {
                    let code = format!("V{i:02}");
                    match i % 3 {
                        0 => writer.submit_direct(move |conn| insert_village(conn, &code)).await,
                        1 => {
                            writer
                                .submit_direct(move |conn| {
                                    insert_village(conn, &code)?;
                                    Err::<(), _>(StoreError::internal("second thoughts"))
                                })
                                .await
                        }
                        _ => {
                            writer
                                .submit(move |conn| {
                                    Box::pin(async move {
                                        sqlx::query("INSERT INTO villages (code, name, kind) VALUES ($1, $1, 'village')")
                                            .bind(code)
                                            .execute(&mut *conn)
                                            .await
                                            .map_err(crate::dialect::db_err)?;
                                        Ok(())
                                    })
                                })
                                .await
                        }
                    }
                })
            })
            .collect();
        let mut failed = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 10);
        let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM villages ORDER BY code")
            .fetch_all(store.pool())
            .await
            .unwrap();
        let expected: Vec<String> = (0..30)
            .filter(|i| i % 3 != 1)
            .map(|i| format!("V{i:02}"))
            .collect();
        assert_eq!(codes, expected);
    }
}
