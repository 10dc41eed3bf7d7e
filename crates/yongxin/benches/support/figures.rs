//! How the benchmarks read their settings and print their figures.
#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::time::Duration;

/// A numeric setting from the environment, or its default.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median, the 99th percentile and the maximum of some timings.
pub fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} runs)",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
        samples.len()
    )
}
