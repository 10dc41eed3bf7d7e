//! Benchmark: appeal intake through HTTP (`POST /api/v1/appeals`) on a SQLite file with durable
//! commits, N concurrent clients for S seconds, then checks that every acknowledged appeal is
//! stored and the record verifies.
//!
//! `cargo bench -p yongxin --bench intake` (YONGXIN_BENCH_CLIENTS, YONGXIN_BENCH_SECONDS to change
//! the defaults of 64 clients and 30 seconds).
#![expect(clippy::unwrap_used, reason = "benchmark")]

#[path = "support/figures.rs"]
mod figures;
use figures::env_or;

use std::time::{Duration, Instant};

#[path = "support/http.rs"]
mod http;
#[path = "support/project.rs"]
mod project;
use http::Connection;

use yongxin_store::{AppealQuery, AppealScope};
use yongxin_web::{AppState, WebSettings};

#[tokio::main]
async fn main() {
    let clients = env_or("YONGXIN_BENCH_CLIENTS", 64) as usize;
    let seconds = env_or("YONGXIN_BENCH_SECONDS", 30);
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = project::sqlite_store(dir.path()).await;
    yongxin_demo::ensure_catalogue(&*store).await.unwrap();
    let token = project::staff_token(&*store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(yongxin_web::serve(
        listener,
        yongxin_web::router(AppState::new(store.clone(), WebSettings::default())),
    ));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let token = token.clone();
            tokio::spawn(async move {
                let mut connection = None;
                let mut latencies = Vec::new();
                let mut acknowledged = Vec::new();
                let mut errors = 0u64;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let body = serde_json::json!({
                        "category": "other", "channel": "phone", "description": format!("压测诉求 {c}-{n}"),
                        "contact_name": "压测", "contact_phone": "13900000000"
                    })
                    .to_string();
                    let t = Instant::now();
                    if connection.is_none() {
                        connection = Some(Connection::open(address).await);
                    }
                    let Some(conn) = connection.as_mut() else { continue };
                    match conn.post("/api/v1/appeals", &token, &body).await {
                        Ok((201, reply)) => {
                            latencies.push(t.elapsed());
                            let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
                            acknowledged.push(yongxin_store::AppealId(reply["id"].as_i64().unwrap()));
                        }
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            connection = None;
                        }
                    }
                }
                (latencies, acknowledged, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut acknowledged = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, a, e) = t.await.unwrap();
        latencies.extend(l);
        acknowledged.extend(a);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let ok = latencies.len();
    println!("intake: {clients} clients, {elapsed:.1} s: {ok} appeals acknowledged = {:.0}/s, {errors} errors", ok as f64 / elapsed);
    println!(
        "latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    let q = AppealQuery::within(AppealScope::All, 1);
    let stored = store.search_appeals(&q).await.unwrap().total;
    let mut found = 0;
    for ids in acknowledged.chunks(5000) {
        found += store.appeals_by_ids(ids).await.unwrap().len();
    }
    let verified = store.verify_audit().await.unwrap();
    println!(
        "stored afterwards: {stored}, of them acknowledged {found} (acknowledged {ok}); audit record: {}",
        match &verified {
            Ok(v) => format!("intact, {} entries", v.entries),
            Err(e) => format!("BROKEN: {e}"),
        }
    );
    assert_eq!(found, ok, "every acknowledged appeal is stored");
    assert_eq!(stored as usize, ok, "nothing unacknowledged is stored");
    assert!(verified.is_ok());
}
