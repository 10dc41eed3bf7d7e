//! Benchmark: durable write throughput of the hash-chained audit record on SQLite
//! (synchronous=FULL, so every commit is on disk before it returns).
//!
//! `cargo run --release -p yongxin-store-sqlite --example audit_throughput`
#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::sync::Arc;
use std::time::Instant;

use yongxin_domain::NewAuditEntry;
use yongxin_store::{AccountStore, AuditLog};
use yongxin_store_sqlite::SqliteStore;

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry::new(
        "bench",
        "bench.write",
        format!("bench:{i}"),
        "benchmark change",
        &serde_json::json!({ "i": i }),
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(SqliteStore::open(&url, true).await.unwrap());
    store.migrate().await.unwrap();

    // Changes committed together, as an import or a batch of appeal updates commits them.
    let total = 50_000;
    let batch = 500;
    let started = Instant::now();
    for b in 0..total / batch {
        store
            .record((0..batch).map(|i| entry(b * batch + i)).collect())
            .await
            .unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "batched: {total} changes in {} commits of {batch}: {secs:.2} s = {:.0} changes/s",
        total / batch,
        total as f64 / secs
    );

    // One change per call, from 64 concurrent writers: the group-commit writer shares each fsync
    // among the changes queued while the previous one was flushing.
    let per_task = 250;
    let tasks = 64;
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    store.record(vec![entry(t * per_task + i)]).await.unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let n = per_task * tasks;
    println!(
        "single: {n} audited changes, one per call, {tasks} writers: {secs:.2} s = {:.0} changes/s",
        n as f64 / secs
    );

    // The same for a write that appends no audit entry, to show what the chain costs.
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    store
                        .record_sign_in_failure(
                            &format!("u{t}"),
                            &format!("a{i}"),
                            chrono::Utc::now(),
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("baseline: {n} unaudited writes, one per call, {tasks} writers: {secs:.2} s = {:.0} writes/s", n as f64 / secs);

    let started = Instant::now();
    let verified = store.verify_audit().await.unwrap().unwrap();
    println!(
        "verify: {} entries in {:.2} s",
        verified.entries,
        started.elapsed().as_secs_f64()
    );
}
