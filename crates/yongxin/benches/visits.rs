//! Benchmark of door-to-door campaigns on a SQLite file with durable commits: forty cadres'
//! phones come back into signal at once, each sending its queue of 250 visits in order over one
//! connection (10,000 visits, one in ten carrying a concern filed as a case), then resending a
//! tenth of them as a phone does when an answer was lost; every visit must be stored exactly
//! once and the record must verify. Then the coverage of a campaign over 100,800 households, by
//! village and by day, from the store and through the JSON API.
//!
//! `cargo bench -p yongxin --bench visits` (YONGXIN_BENCH_HOUSEHOLDS_PER_GRID to change the
//! default of 360: 7 villages × 40 grids × 360 = 100,800 households; YONGXIN_BENCH_PHONES and
//! YONGXIN_BENCH_QUEUE for the defaults of 40 phones and 250 visits each).
#![expect(clippy::unwrap_used, reason = "benchmark")]

#[path = "support/figures.rs"]
mod figures;
use figures::{env_or, percentiles};

use std::time::Instant;

#[path = "support/http.rs"]
mod http;
#[path = "support/project.rs"]
mod project;
use http::Connection;

use yongxin_domain::campaign::{local_day, AssignmentWay, CampaignKind, Period, Rules, Target};
use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::Actor;
use yongxin_store::{CampaignForm, CampaignHouseholdQuery, CoverageBy, NewCampaign};
use yongxin_web::{AppState, WebSettings};

#[tokio::main]
async fn main() {
    let per_grid = env_or("YONGXIN_BENCH_HOUSEHOLDS_PER_GRID", 360) as usize;
    let phones = env_or("YONGXIN_BENCH_PHONES", 40) as usize;
    let queue = env_or("YONGXIN_BENCH_QUEUE", 250) as usize;
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = project::sqlite_store(dir.path()).await;
    let started = Instant::now();
    let demo = generate(
        1,
        DemoSize {
            grids_per_village: 40,
            households_per_grid: per_grid,
        },
    );
    yongxin_demo::load(&*store, &demo, "x").await.unwrap();
    yongxin_demo::ensure_catalogue(&*store).await.unwrap();
    println!(
        "registry: {} households in {} grids loaded in {:.1} s",
        demo.households.len(),
        demo.villages.len() * 40,
        started.elapsed().as_secs_f64()
    );

    // A campaign over every household, each to its grid's cadre.
    let today = local_day(chrono::Utc::now());
    let started = Instant::now();
    let campaign = store
        .create_campaign(
            &Actor::user("bench"),
            NewCampaign {
                title: "夏秋禁烧入户宣传排查".into(),
                kind: CampaignKind::Inspection,
                description: String::new(),
                period: Period::new(today - chrono::Duration::days(1), today).unwrap(),
                notice_id: None,
                project_id: None,
                form: CampaignForm::None,
                assignment: AssignmentWay::Grid,
                target: Target::Villages(
                    store
                        .villages()
                        .await
                        .unwrap()
                        .iter()
                        .map(|v| v.id)
                        .collect(),
                ),
                rules: Rules::default(),
            },
        )
        .await
        .unwrap();
    let totals = store.campaign_totals(campaign.id, None).await.unwrap();
    println!(
        "campaign over {} households created in {:.1} s",
        totals.target,
        started.elapsed().as_secs_f64()
    );

    // The phones: the first grid workers, each with an API token and a queue of visits to its
    // own households, in walking order.
    let grids = store.grids(None).await.unwrap();
    let mut queues = Vec::new();
    for grid in grids.iter().take(phones) {
        let cadre = grid.cadre_user_id.unwrap();
        let token = yongxin_web::auth::random_token();
        store
            .create_api_token(
                &Actor::user("bench"),
                cadre,
                &yongxin_web::auth::token_hash(&token),
                chrono::Utc::now() + chrono::Duration::days(1),
            )
            .await
            .unwrap();
        let households = store
            .campaign_households(
                campaign.id,
                &CampaignHouseholdQuery {
                    cadre_user_id: Some(cadre),
                    page: 1,
                    per_page: 500,
                    ..CampaignHouseholdQuery::default()
                },
            )
            .await
            .unwrap()
            .rows;
        let base = chrono::Utc::now() - chrono::Duration::hours(6);
        let bodies: Vec<String> = (0..queue)
            .map(|i| {
                let h = &households[i % households.len()];
                let outcome = ["met", "met", "not_home", "met", "refused"][i % 5];
                let concern = i % 10 == 3;
                serde_json::json!({
                    "client_id": format!("phone-{cadre}-{i:05}"),
                    "household_id": h.household_id.get(),
                    "visited_at": (base + chrono::Duration::seconds(i as i64 * 60)).to_rfc3339(),
                    "outcome": outcome,
                    "answers": {},
                    "note": "入户宣传禁烧政策",
                    "concerns": if concern {
                        serde_json::json!([{"category": "noise", "description": "夜间机械作业噪音", "contact_phone": "13912345678"}])
                    } else {
                        serde_json::json!([])
                    },
                })
                .to_string()
            })
            .collect();
        queues.push((token, bodies));
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(yongxin_web::serve(
        listener,
        yongxin_web::router(AppState::new(store.clone(), WebSettings::default())),
    ));
    let path = format!("/api/v1/campaigns/{}/visits", campaign.id);

    // Every phone drains its queue at once, one request after another over its connection.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (token, bodies) in queues.clone() {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Connection::open(address).await;
            let mut samples = Vec::with_capacity(bodies.len());
            let mut statuses = Vec::with_capacity(bodies.len());
            for body in &bodies {
                let t = Instant::now();
                let (status, _) = c.post(&path, &token, body).await.unwrap();
                samples.push(t.elapsed());
                statuses.push(status);
            }
            (samples, statuses)
        }));
    }
    let mut samples = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (s, statuses) = t.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 201),
            "every visit stored once: {statuses:?}"
        );
        created += statuses.len();
        samples.extend(s);
    }
    let drained = started.elapsed();
    println!(
        "{phones} phones × {queue} visits ({created} visits, {} with a concern) drained in {:.2} s ({:.0} visits/s); per request {}",
        created / 10,
        drained.as_secs_f64(),
        created as f64 / drained.as_secs_f64(),
        percentiles(samples)
    );

    // A tenth of each queue again, as after lost answers: each answers the visit stored (200).
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (token, bodies) in queues {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Connection::open(address).await;
            let mut statuses = Vec::new();
            for body in bodies.iter().step_by(10) {
                statuses.push(c.post(&path, &token, body).await.unwrap().0);
            }
            statuses
        }));
    }
    let mut replayed = 0;
    for t in tasks {
        let statuses = t.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "a replay stores nothing: {statuses:?}"
        );
        replayed += statuses.len();
    }
    println!(
        "{replayed} replays answered as already stored in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let totals = store.campaign_totals(campaign.id, None).await.unwrap();
    assert_eq!(
        totals.visits as usize, created,
        "each visit stored exactly once"
    );
    let cases = store.campaign_concerns(campaign.id).await.unwrap().len();
    assert_eq!(cases, created / 10, "each concern filed once");
    println!(
        "stored: {} visits, {cases} cases from concerns, {} households reached",
        totals.visits, totals.reached
    );

    // Coverage of the whole campaign.
    for (by, name) in [(CoverageBy::Village, "village"), (CoverageBy::Day, "day")] {
        let mut samples = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let groups = store
                .campaign_coverage(campaign.id, by, None)
                .await
                .unwrap();
            samples.push(t.elapsed());
            assert!(!groups.is_empty());
        }
        println!(
            "coverage by {name} of {} households (store): {}",
            totals.target,
            percentiles(samples)
        );
    }
    let token = project::staff_token(&*store).await;
    let http = reqwest::Client::new();
    for name in ["village", "day"] {
        let url = format!(
            "http://{address}/api/v1/campaigns/{}/coverage?group_by={name}",
            campaign.id
        );
        let mut samples = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.unwrap();
            samples.push(t.elapsed());
            assert_eq!(body["target"], totals.target);
        }
        println!("coverage by {name} (HTTP): {}", percentiles(samples));
    }
    let verified = store.verify_audit().await.unwrap().unwrap();
    println!("record verified: {} entries", verified.entries);
}
