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
//! The batch also holds the audit chain's head: read once when the batch takes the write lock,
//! advanced in memory by each change that succeeds, written back once before the commit. Nothing
//! else can write between the two, since the batch holds SQLite's only write lock throughout. In
//! the same way the changes' audit rows and their differences to the three rates' counters are
//! kept until the end of the batch and written with a statement or two: nothing in a write reads
//! them, and every statement is a round trip to the connection's thread.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::NaiveDate;
use futures_util::future::BoxFuture;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};
use yongxin_domain::appeal::SettledTally;
use yongxin_domain::AuditEntry;
use yongxin_store::{StoreError, StoreResult};

use crate::TallyRow;

/// Most writes sharing one commit; bounds how long one transaction holds the write lock.
const MAX_BATCH: usize = 512;

/// Called once the outcome of the commit is known.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write: runs on the writer's connection and says whether it succeeded.
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Deliver)> + Send>;

/// The handle through which writes reach the writer task.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task over a pool.
    pub fn start(pool: SqlitePool) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, jobs));
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
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let ok = result.is_ok();
                let deliver: Deliver = Box::new(move |commit| {
                    let outcome = match commit {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
                    };
                    // The caller may have gone away; its change stands all the same.
                    let _ = answer.send(outcome);
                });
                (ok, deliver)
            })
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?
    }
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

/// Reads the stored head.
pub(crate) async fn read_head(conn: &mut SqliteConnection) -> StoreResult<(i64, String)> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .map_err(crate::db_err)?;
    Ok((
        row.try_get("seq").map_err(crate::db_err)?,
        row.try_get("hash").map_err(crate::db_err)?,
    ))
}

/// Stores the head.
pub(crate) async fn write_head(
    conn: &mut SqliteConnection,
    seq: i64,
    hash: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut *conn)
        .await
        .map_err(crate::db_err)?;
    Ok(())
}

async fn run(pool: SqlitePool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        HELD.scope(RefCell::default(), run_batch(&pool, &mut jobs, first))
            .await;
    }
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
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => {
            fail_unrun(batch, &e.to_string());
            return;
        }
    };
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        fail_unrun(batch, &e.to_string());
        return;
    }
    match read_head(&mut conn).await {
        Ok(head) => HELD.with(|h| h.borrow_mut().kept = Some(head)),
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            fail_unrun(batch, &e.to_string());
            return;
        }
    }
    let mut delivers = Vec::with_capacity(size);
    let mut broken = None;
    for job in batch {
        if let Err(e) = sqlx::query("SAVEPOINT write_job").execute(&mut *conn).await {
            broken = Some(e.to_string());
            break;
        }
        let (ok, deliver) = job(&mut conn).await;
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
        // The savepoint is not released: the next job's savepoint of the same name stacks
        // on it, `ROLLBACK TO` reaches the latest, and the commit releases them all, which
        // spares a statement per job.
        if !ok {
            if let Err(e) = sqlx::query("ROLLBACK TO write_job")
                .execute(&mut *conn)
                .await
            {
                broken = Some(e.to_string());
                delivers.push(deliver);
                break;
            }
        }
        delivers.push(deliver);
    }
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
    if broken.is_none() {
        let held = async {
            crate::insert_audit_rows_now(&mut conn, &audit).await?;
            crate::upsert_tallies_now(&mut conn, &tallies).await?;
            if let Some((seq, hash)) = head {
                write_head(&mut conn, seq, &hash).await?;
            }
            StoreResult::Ok(())
        };
        if let Err(e) = held.await {
            broken = Some(e.to_string());
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None => sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = &outcome {
        tracing::error!(error.message = %e, batch.size = size, "write batch failed");
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    tracing::trace!(batch.size = size, "write batch committed");
    for deliver in delivers {
        deliver(outcome.clone());
    }
    // Jobs never run because the batch broke were dropped with it; their callers see the
    // writer's answer channel close and get an error, which is the truth: nothing was written.
}

/// Answers every job of a batch that could not start; each job must still run to deliver, so it
/// is given nothing to do: dropping it closes its answer channel, which the caller reads as
/// unavailable.
fn fail_unrun(batch: Vec<Job>, error: &str) {
    tracing::error!(error.message = %error, batch.size = batch.len(), "write batch could not start");
    drop(batch);
}
