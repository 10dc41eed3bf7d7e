//! Benchmark: the online-selection rush on SQLite (durable commits) — a project of 10,000
//! households and 2,544 apartments, every household claiming in the first seconds through HTTP
//! (`POST /api/v1/selections/{id}/claims`, staff on their behalf), retrying with another unit of
//! its registered layout when one is taken, up to five times. Prints requests answered per second
//! and latency, then checks from the database that no apartment was sold twice, no household is
//! over its limit, every confirmation is stored and the record verifies.
//!
//! `cargo bench -p yongxin --bench selection` (YONGXIN_BENCH_CLIENTS: connections, default 64).
#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yongxin_store::HouseholdId;

#[path = "support/http.rs"]
mod http;
#[path = "support/project.rs"]
mod project;
use http::Connection;

use yongxin_domain::demo::DemoSize;
use yongxin_web::{AppState, WebSettings};

#[tokio::main]
async fn main() {
    let clients: usize = std::env::var("YONGXIN_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let bench = project::open_selection(
        dir.path(),
        5,
        DemoSize {
            grids_per_village: 20,
            households_per_grid: 125,
        },
    )
    .await;
    let (store, pid, sid, token) = (
        bench.store.clone(),
        bench.project,
        bench.selection,
        bench.token.clone(),
    );
    println!(
        "setup: {} households ({} on the list), {} apartments, in {:.0} s",
        bench.counts.0,
        bench.counts.1,
        bench.counts.2,
        started.elapsed().as_secs_f64()
    );

    // Each household wants one unit of its first registered layout.
    let units = store.unit_states(pid).await.unwrap();
    let mut by_layout: HashMap<String, Vec<i64>> = HashMap::new();
    for u in &units {
        by_layout.entry(u.layout.clone()).or_default().push(u.id);
    }
    let mut wanting: Vec<(HouseholdId, Vec<i64>)> = Vec::new();
    for h in store.all_project_households(pid).await.unwrap() {
        if let Some(layout) = h.registered.as_ref().and_then(|l| l.first()) {
            wanting.push((h.household.id, by_layout[layout].clone()));
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(yongxin_web::serve(
        listener,
        yongxin_web::router(AppState::new(store.clone(), WebSettings::default())),
    ));

    let queue = Arc::new(std::sync::Mutex::new(wanting));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (token, queue) = (token.clone(), queue.clone());
            tokio::spawn(async move {
                let mut conn = Connection::open(address).await;
                let (mut latencies, mut statuses, mut confirmed) =
                    (Vec::new(), HashMap::<u16, u64>::new(), Vec::new());
                let path = format!("/api/v1/selections/{sid}/claims");
                let mut n = c * 7919;
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((household, candidates)) = next else {
                        break;
                    };
                    for _ in 0..5 {
                        n = n
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let unit = candidates[(n >> 33) % candidates.len()];
                        let body =
                            format!("{{\"household_id\":{household},\"unit_ids\":[{unit}]}}");
                        let t = Instant::now();
                        let (status, reply) = conn.post(&path, &token, &body).await.unwrap();
                        latencies.push(t.elapsed());
                        *statuses.entry(status).or_default() += 1;
                        if status == 200 {
                            confirmed.push((
                                household,
                                unit,
                                serde_json::from_slice::<serde_json::Value>(&reply).unwrap()
                                    ["claim_id"]
                                    .as_i64()
                                    .unwrap(),
                            ));
                            break;
                        }
                        if status != 409 {
                            break;
                        }
                    }
                }
                (latencies, statuses, confirmed)
            })
        })
        .collect();
    let (mut latencies, mut statuses, mut confirmed) =
        (Vec::new(), HashMap::<u16, u64>::new(), Vec::new());
    for t in tasks {
        let (l, s, c) = t.await.unwrap();
        latencies.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        confirmed.extend(c);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len() - 1))
            .map_or(0.0, |d: &Duration| d.as_secs_f64() * 1000.0)
    };
    let mut by_status: Vec<_> = statuses.into_iter().collect();
    by_status.sort();
    println!(
        "rush: {clients} connections, {} claim requests answered in {elapsed:.2} s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; answers {by_status:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    let after = store.unit_states(pid).await.unwrap();
    let sold = after
        .iter()
        .filter(|u| u.owner_household_id.is_some())
        .count();
    let owner: HashMap<i64, HouseholdId> = after
        .iter()
        .filter_map(|u| u.owner_household_id.map(|h| (u.id, h)))
        .collect();
    let lost = confirmed
        .iter()
        .filter(|(h, u, _)| owner.get(u) != Some(h))
        .count();
    let mut per_unit: HashMap<i64, usize> = HashMap::new();
    for (_, u, _) in &confirmed {
        *per_unit.entry(*u).or_default() += 1;
    }
    let double = per_unit.values().filter(|n| **n > 1).count();
    let verified = store.verify_audit().await.unwrap();
    println!(
        "afterwards: {} confirmations, {sold} apartments sold of {}, {double} sold twice, {lost} confirmations missing; audit record {}",
        confirmed.len(),
        after.len(),
        if verified.is_ok() { "intact" } else { "BROKEN" }
    );
    assert_eq!(double, 0);
    assert_eq!(lost, 0);
    assert!(verified.is_ok());
}
