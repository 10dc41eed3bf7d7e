//! Benchmark: the CPU an authenticated GET spends in the layers every request passes through
//! (request context with the session's user, rendered errors, security headers, metrics), and
//! the CPU of whole pages for comparison.
//!
//! Requests are made one at a time inside the process (no sockets, no client), on a demo
//! subdistrict in a SQLite file, signed in with a session cookie as a leader. CPU is the
//! process's (every thread: the database's connection threads too), per request:
//! - `layers`: a probe route that only asks who is signed in, under every layer, minus the same
//!   route under none: what the layers cost, the session lookup included;
//! - the household list, a case page and a two-character search, whole.
//!
//! `cargo bench -p yongxin --bench middleware` (YONGXIN_BENCH_REQUESTS, default 20,000 for the
//! probe and 2,000 for each page).
#![expect(clippy::unwrap_used, reason = "benchmark")]

#[path = "support/figures.rs"]
mod figures;
use figures::env_or;
#[path = "support/project.rs"]
mod project;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
use yongxin_domain::demo::{generate, DemoSize};
use yongxin_web::http::context::{Ctx, SESSION_COOKIE};
use yongxin_web::http::error::AppError;
use yongxin_web::{AppState, WebSettings};

/// CPU time of the whole process so far, in microseconds: the sum over its threads of the
/// nanoseconds each has run (`/proc/self/task/*/schedstat`), finer than the clock ticks of
/// `/proc/self/stat`. Every thread here lives as long as the process.
fn process_cpu_us() -> f64 {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let stat =
            std::fs::read_to_string(task.unwrap().path().join("schedstat")).unwrap_or_default();
        ns += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    ns as f64 / 1e3
}

/// The probe: who is signed in, nothing else.
async fn probe(ctx: Ctx) -> Result<StatusCode, AppError> {
    ctx.user()?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes `n` GETs of `path` one after another; answers the CPU per request in µs.
async fn cpu_per_request(
    router: &Router,
    path: &str,
    (header, value): (&str, &str),
    n: u64,
    expect: StatusCode,
) -> f64 {
    let request = || {
        Request::get(path)
            .header(header, value)
            .header("accept-language", "zh-CN")
            .body(Body::empty())
            .unwrap()
    };
    // Warm up: caches, prepared statements, the allocator.
    for _ in 0..50 {
        let res = router.clone().oneshot(request()).await.unwrap();
        assert_eq!(res.status(), expect, "{path}");
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
    }
    let before = process_cpu_us();
    for _ in 0..n {
        let res = router.clone().oneshot(request()).await.unwrap();
        assert_eq!(res.status(), expect, "{path}");
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
    }
    (process_cpu_us() - before) / n as f64
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let probes = env_or("YONGXIN_BENCH_REQUESTS", 20_000);
    let pages = (probes / 10).max(100);
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = project::sqlite_store(dir.path()).await;
    yongxin_demo::load(
        &*store,
        &generate(
            3,
            DemoSize {
                grids_per_village: 2,
                households_per_grid: 40,
            },
        ),
        "x",
    )
    .await
    .unwrap();
    yongxin_demo::ensure_catalogue(&*store).await.unwrap();
    let leader = project::leader(&*store, "leader-bench").await;
    let session = yongxin_web::auth::random_token();
    store
        .create_session(
            &yongxin_web::auth::token_hash(&session),
            leader.id,
            chrono::Utc::now() + chrono::Duration::hours(12),
        )
        .await
        .unwrap();
    let cookie = format!("{SESSION_COOKIE}={session}");
    let state = AppState::new(store.clone(), WebSettings::default());

    // Cases to show and search: filed through the API as the phone line files them.
    let token = project::staff_token(&*store).await;
    let app = yongxin_web::router(state.clone());
    let mut case = 0;
    for n in 0..200 {
        let body = serde_json::json!({
            "category": "other", "channel": "phone",
            "description": format!("楼下噪音扰民，第{n}次反映"),
            "contact_name": "压测", "contact_phone": "13900000000"
        });
        let res = app
            .clone()
            .oneshot(
                Request::post("/api/v1/appeals")
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: serde_json::Value = serde_json::from_slice(
            &axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap(),
        )
        .unwrap();
        case = created["id"].as_i64().unwrap();
    }

    let (routes, _) = yongxin_web::route_table(&state);
    let layered = yongxin_web::with_layers(routes.route("/bench/probe", get(probe)), state.clone());
    let bare: Router =
        Router::new().route("/bench/nothing", get(|| async { StatusCode::NO_CONTENT }));

    let signed_in = ("cookie", cookie.as_str());
    let bearer = format!("Bearer {token}");
    let with = cpu_per_request(
        &layered,
        "/bench/probe",
        signed_in,
        probes,
        StatusCode::NO_CONTENT,
    )
    .await;
    let without = cpu_per_request(
        &bare,
        "/bench/nothing",
        signed_in,
        probes,
        StatusCode::NO_CONTENT,
    )
    .await;
    let api = cpu_per_request(
        &layered,
        "/bench/probe",
        ("authorization", &bearer),
        probes,
        StatusCode::NO_CONTENT,
    )
    .await;
    println!("authenticated GET, {probes} requests each, CPU of the process per request:");
    println!("  probe under every layer   {with:8.1} µs");
    println!("  the same under none       {without:8.1} µs");
    println!("  layers (the difference)   {:8.1} µs", with - without);
    println!("  layers, with an API token {:8.1} µs", api - without);
    for (name, path) in [
        ("household list", "/households".to_owned()),
        ("case page", format!("/appeals/{case}")),
        ("search 噪音", "/appeals?q=%E5%99%AA%E9%9F%B3".to_owned()),
    ] {
        let cpu = cpu_per_request(&layered, &path, signed_in, pages, StatusCode::OK).await;
        println!("  {name:<24}  {cpu:8.1} µs  ({pages} requests)");
    }
}
