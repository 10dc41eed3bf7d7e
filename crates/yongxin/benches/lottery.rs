//! Benchmark: the house-selection lottery over 100,000 registrations — drawing the order and
//! verifying the proof, each the median of five runs.
//!
//! `cargo bench -p yongxin --bench lottery` (YONGXIN_BENCH_REGISTRATIONS to change the count).
#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::time::{Duration, Instant};

use yongxin_domain::lottery::{Proof, Seed};

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("YONGXIN_BENCH_REGISTRATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let codes: Vec<String> = (0..n)
        .map(|i| format!("V{:02}-{:06}", i % 40 + 1, i))
        .collect();
    let seed = Seed::parse("382915:SSE-3284.12").unwrap();
    let (mut draws, mut checks) = (Vec::new(), Vec::new());
    let mut proof = None;
    for _ in 0..5 {
        let t = Instant::now();
        let p = Proof::make(codes.iter().cloned(), &seed).unwrap();
        draws.push(t.elapsed());
        let t = Instant::now();
        p.verify().unwrap();
        checks.push(t.elapsed());
        proof = Some(p);
    }
    let proof = proof.unwrap();
    let json = serde_json::to_vec(&proof).unwrap();
    println!(
        "lottery over {n} registrations: draw {:.0} ms, verify {:.0} ms, together {:.0} ms (median of 5); proof {:.1} MB, list sha256 {}",
        median(draws.clone()),
        median(checks.clone()),
        median(draws) + median(checks),
        json.len() as f64 / 1e6,
        proof.list_sha256
    );
}
