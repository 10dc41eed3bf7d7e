//! `/healthz` and `/metrics` (Prometheus text format): requests by route and status, a latency
//! histogram per route, and the database pool.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct RouteLatency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Counters since the process started.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, RouteLatency>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let entry = l.entry(route.to_owned()).or_default();
            entry.count += 1;
            entry.sum_seconds += seconds;
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    entry.buckets[i] += 1;
                }
            }
        }
    }
}

/// Counts every request by its route pattern (never the raw path, which would explode the label
/// set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    state
        .metrics
        .observe(&method, &route, status, elapsed.as_secs_f64());
    // A server error was logged, with its cause, where it was answered (`render_errors`).
    tracing::debug!(http.method = %method, http.route = %route, http.status = status, duration_ms = elapsed.as_millis() as u64, "request");
    res
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics` on the main address: administrators only (route counts and pool figures tell
/// an attacker what is busy), and nothing at all when the metrics have a listen address of their
/// own.
pub async fn render_for_admins(
    State(state): State<AppState>,
    ctx: crate::http::context::Ctx,
) -> Result<Response, crate::AppError> {
    if !state.settings.metrics_on_main {
        return Err(crate::AppError::not_found());
    }
    ctx.require(yongxin_domain::Permission::ReadMetrics)?;
    Ok(render(State(state)).await)
}

/// The router of the separate metrics address (`metrics_listen`): `/metrics` and `/healthz`
/// for the monitoring system, without sign-in, on an address only it reaches.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .route("/healthz", axum::routing::get(healthz))
        .with_state(state)
}

/// The metrics in Prometheus text format.
pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP yongxin_http_requests_total HTTP requests by method, route and status."
    );
    let _ = writeln!(out, "# TYPE yongxin_http_requests_total counter");
    if let Ok(r) = state.metrics.requests.lock() {
        for ((method, route, status), n) in r.iter() {
            let _ = writeln!(
                out,
                "yongxin_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape_label(method),
                escape_label(route)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP yongxin_http_request_duration_seconds Time to answer a request."
    );
    let _ = writeln!(
        out,
        "# TYPE yongxin_http_request_duration_seconds histogram"
    );
    if let Ok(l) = state.metrics.latency.lock() {
        for (route, lat) in l.iter() {
            let route = escape_label(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "yongxin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}", lat.buckets[i]);
            }
            let _ = writeln!(
                out,
                "yongxin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                lat.count
            );
            let _ = writeln!(
                out,
                "yongxin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                lat.sum_seconds
            );
            let _ = writeln!(
                out,
                "yongxin_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                lat.count
            );
        }
    }
    let pool = state.store.pool_stats();
    let backend = state.store.backend();
    let _ = writeln!(
        out,
        "# HELP yongxin_db_pool_connections Open database connections."
    );
    let _ = writeln!(out, "# TYPE yongxin_db_pool_connections gauge");
    let _ = writeln!(
        out,
        "yongxin_db_pool_connections{{backend=\"{backend}\"}} {}",
        pool.size
    );
    let _ = writeln!(
        out,
        "# HELP yongxin_db_pool_idle_connections Idle database connections."
    );
    let _ = writeln!(out, "# TYPE yongxin_db_pool_idle_connections gauge");
    let _ = writeln!(
        out,
        "yongxin_db_pool_idle_connections{{backend=\"{backend}\"}} {}",
        pool.idle
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
