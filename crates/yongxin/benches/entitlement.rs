//! Benchmark: entitlements of a 2,000-household project (four villages of 500) under the example
//! policy — the pure computation of every household (median of five runs), and the same through
//! the store: every household's assessment saved again as a correction, each recomputed and
//! stored with its inputs in its own transaction, 16 at a time.
//!
//! `cargo bench -p yongxin --bench entitlement`.
#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::time::{Duration, Instant};
use yongxin_domain::Actor;

use futures_util::stream::{self, StreamExt};
use yongxin_domain::demo::DemoSize;
use yongxin_domain::resettlement::entitlement::{compute, entitled_area, layout_combination};
use yongxin_domain::resettlement::policy::{Policy, EXAMPLE_TOML};
use yongxin_store::HouseholdId;

#[path = "support/project.rs"]
mod project;

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = project::sqlite_store(dir.path()).await;
    let size = DemoSize {
        grids_per_village: 5,
        households_per_grid: 100,
    };
    let (pid, r, took) = project::drawn_project(&*store, 3, size).await;
    println!(
        "project: {} households ({} registered), {} apartments; policy, registration, assessment, results, freeze and draw in {:.1} s",
        r.households,
        r.registered,
        r.units,
        took
    );

    let policy = Policy::from_toml(EXAMPLE_TOML).unwrap();
    let households: Vec<HouseholdId> = store
        .all_project_households(pid)
        .await
        .unwrap()
        .iter()
        .map(|h| h.household.id)
        .collect();
    let mut inputs = Vec::new();
    for h in &households {
        let a = store.assessment(pid, *h).await.unwrap().unwrap().inputs;
        let layouts = store
            .registration(pid, *h)
            .await
            .unwrap()
            .map(|r| r.layouts)
            .unwrap_or_default();
        let (_, area) = entitled_area(&policy, &a.members).expect("the bench's areas are small");
        let chosen = if layouts.is_empty() {
            Vec::new()
        } else {
            layout_combination(&policy, area, &layouts).unwrap()
        };
        inputs.push((a, chosen));
    }
    let mut runs = Vec::new();
    let mut net = 0i64;
    for _ in 0..5 {
        let t = Instant::now();
        // Parsing the policy is part of the work: a result is computed from the stored text.
        let policy = Policy::from_toml(EXAMPLE_TOML).unwrap();
        net = inputs
            .iter()
            .map(|(a, chosen)| compute(&policy, a, chosen, None).unwrap().totals.net.0)
            .sum();
        runs.push(t.elapsed());
    }
    println!(
        "pure computation of {} entitlements: {:.1} ms (median of 5); Σ net {}",
        inputs.len(),
        median(runs),
        yongxin_domain::money::Fen(net).grouped()
    );

    let t = Instant::now();
    let saved: Vec<_> = stream::iter(households.iter().zip(inputs.iter()))
        .map(|(h, (a, _))| {
            let store = store.clone();
            let a = a.clone();
            async move {
                store
                    .save_assessment(&Actor::user("bench"), pid, *h, a, Some("复核".into()))
                    .await
                    .unwrap()
                    .unwrap()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "through the store (SQLite, synchronous=FULL): {} entitlements recomputed and stored with their inputs in {:.2} s ({:.0}/s)",
        saved.len(),
        secs,
        saved.len() as f64 / secs
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}
