//! The reference server of the paired intake benchmark (`bench/intake_vs_reference.sh`): what
//! this machine can do when a request does nothing but store its body durably. axum answers
//! `POST /appeals`; one thread owns the SQLite connection (WAL, `synchronous=FULL`) and commits
//! every request waiting for it in one transaction (group commit), one `INSERT` each; a request
//! is answered 201 with its row's id only after the commit holding it is on disk — the same
//! promise yongxin's intake makes, without the checks, the deadline, the record and the counters.
//!
//! `yongxin-reference --listen 127.0.0.1:8300 --db /tmp/reference.db`

use std::sync::mpsc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use rusqlite::Connection;
use tokio::sync::oneshot;

/// One request's body waiting for the writer, and where its id goes.
struct Insert {
    body: String,
    done: oneshot::Sender<Result<i64, String>>,
}

/// Most requests one transaction commits.
const MOST_PER_COMMIT: usize = 1024;

/// The writer thread: takes what is waiting, inserts it in one transaction, commits, answers.
fn write(path: &str, queue: mpsc::Receiver<Insert>) -> rusqlite::Result<()> {
    let mut db = Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "wal")?;
    db.pragma_update(None, "synchronous", "full")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS appeals (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    )?;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MOST_PER_COMMIT {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let stored = (|| {
            let tx = db.transaction()?;
            let mut ids = Vec::with_capacity(batch.len());
            {
                let mut insert = tx.prepare_cached("INSERT INTO appeals (body) VALUES (?1)")?;
                for i in &batch {
                    insert.execute([&i.body])?;
                    ids.push(tx.last_insert_rowid());
                }
            }
            tx.commit()?;
            Ok::<_, rusqlite::Error>(ids)
        })();
        match stored {
            Ok(ids) => {
                for (i, id) in batch.into_iter().zip(ids) {
                    let _ = i.done.send(Ok(id));
                }
            }
            Err(e) => {
                for i in batch {
                    let _ = i.done.send(Err(e.to_string()));
                }
            }
        }
    }
    Ok(())
}

/// `POST /appeals`: the body stored, its id answered once durable.
async fn intake(State(queue): State<mpsc::Sender<Insert>>, body: String) -> (StatusCode, String) {
    let (done, stored) = oneshot::channel();
    if queue.send(Insert { body, done }).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "writer stopped".into());
    }
    match stored.await {
        Ok(Ok(id)) => (StatusCode::CREATED, format!("{{\"id\":{id}}}")),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "writer stopped".into()),
    }
}

fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let listen = flag(&args, "--listen", "127.0.0.1:8300");
    let path = flag(&args, "--db", "reference.db");
    let (queue, waiting) = mpsc::channel();
    let writer = std::thread::spawn(move || write(&path, waiting));
    let app = Router::new()
        .route("/appeals", post(intake))
        .with_state(queue);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("reference: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    drop(writer);
    Ok(())
}
