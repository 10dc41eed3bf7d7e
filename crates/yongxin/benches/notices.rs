//! Benchmark of disclosure and consultation with 100,000 households on a SQLite file: how many
//! households a notice has reached (宣传到户) — the coverage by village and grid from the store,
//! and the coverage page through HTTP (coverage plus the first page of households not yet
//! informed) — and the results of a consultation answered by 80,000 of them, from the store and
//! through the JSON API.
//!
//! `cargo bench -p yongxin --bench notices` (YONGXIN_BENCH_HOUSEHOLDS_PER_GRID to change the
//! default of 360: 7 villages × 40 grids × 360 = 100,800 households).
#![expect(clippy::unwrap_used, reason = "benchmark")]

#[path = "support/figures.rs"]
mod figures;
#[path = "support/project.rs"]
mod project;
use figures::percentiles;

use std::sync::Arc;
use std::time::Instant;
use yongxin_domain::Actor;

use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
use yongxin_store::Store;
use yongxin_store_sqlite::SqliteStore;
use yongxin_web::{AppState, WebSettings};

#[tokio::main]
async fn main() {
    let per_grid = std::env::var("YONGXIN_BENCH_HOUSEHOLDS_PER_GRID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(360);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        true,
    )
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    let pool = sqlite.pool().clone();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let started = Instant::now();
    let demo = generate(
        1,
        DemoSize {
            grids_per_village: 40,
            households_per_grid: per_grid,
        },
    );
    yongxin_demo::load(&*store, &demo, "x").await.unwrap();
    println!(
        "registry: {} households, {} residents loaded in {:.1} s",
        demo.households.len(),
        demo.resident_count(),
        started.elapsed().as_secs_f64()
    );
    let leader = project::leader(&*store, "bench-leader").await;
    let notice = store
        .create_notice(
            &Actor::user("bench"),
            NoticeDraft {
                kind: NoticeKind::Policy,
                scope: ScopeKind::Subdistrict,
                village_ids: vec![],
                project_id: None,
                title: "安置政策".into(),
                body: "正文".into(),
                publish_at: chrono::Utc::now(),
                end_at: None,
                objections_until: None,
            }
            .checked()
            .unwrap(),
        )
        .await
        .unwrap();
    // Six households in ten informed; written straight into the table, since how they got there
    // is not what is measured.
    sqlx::query(
        "INSERT INTO notice_informed (notice_id, household_id, how, by_user_id, at) \
         SELECT $1, id, 'confirmed', $2, '2026-11-01T00:00:00+00:00' FROM households WHERE id % 10 < 6",
    )
    .bind(notice.id)
    .bind(leader.id)
    .execute(&pool)
    .await
    .unwrap();

    let mut samples = Vec::new();
    let mut informed = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let rows = store.notice_coverage(&notice).await.unwrap();
        samples.push(t.elapsed());
        informed = rows.iter().map(|r| r.informed).sum::<i64>();
    }
    println!(
        "coverage (store, {} grids, {informed} informed): {}",
        demo.villages.len() * 40,
        percentiles(samples)
    );

    let token = yongxin_web::auth::random_token();
    store
        .create_api_token(
            &Actor::user("bench"),
            leader.id,
            &yongxin_web::auth::token_hash(&token),
            chrono::Utc::now() + chrono::Duration::days(90),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/notices/{}/coverage",
        listener.local_addr().unwrap(),
        notice.id
    );
    tokio::spawn(yongxin_web::serve(
        listener,
        yongxin_web::router(AppState::new(store.clone(), WebSettings::default())),
    ));
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        samples.push(t.elapsed());
        assert!(
            page.contains(&format!("已知晓 {informed} 户")),
            "the page shows the count"
        );
    }
    println!("coverage page (HTTP): {}", percentiles(samples));

    // A consultation answered by four households in five: written straight into the tables, as
    // the informed households were; the results are what is measured.
    let consultation = store
        .create_consultation(
            &Actor::user("bench"),
            yongxin_store::NewConsultation {
                title: "安置区选址和户型".into(),
                background: "背景".into(),
                notice_id: None,
                scope: ScopeKind::Subdistrict,
                village_ids: vec![],
                project_id: None,
                opens_at: chrono::Utc::now() - chrono::Duration::days(10),
                closes_at: chrono::Utc::now() + chrono::Duration::days(10),
                questions: yongxin_domain::consultation::parse_questions(
                    "单选：选址\n- 甲\n- 乙\n- 丙\n多选(2)：户型\n- 90\n- 120\n- 140\n排序：配套\n- 学校\n- 医院\n- 市场\n填空：意见",
                )
                .unwrap(),
            },
        )
        .await
        .unwrap();
    let (k, q) = (consultation.id, &consultation.questions);
    sqlx::query(
        "INSERT INTO consultation_answers (consultation_id, household_id, resident_id, village_id, age_band, channel, recorded_by, answered_at, current) \
         SELECT $1, id, head_resident_id, village_id, '45_59', 'in_person', $2, '2026-11-20T00:00:00+00:00', 1 FROM households WHERE id % 5 <> 0",
    )
    .bind(k)
    .bind(leader.id)
    .execute(&pool)
    .await
    .unwrap();
    let items = |question: i64, option: String, rank: &str, filter: &str| {
        format!(
            "INSERT INTO consultation_answer_items (answer_id, consultation_id, question_id, option_id, rank, text, village_id, current) \
             SELECT a.id, {k}, {question}, {option}, {rank}, NULL, a.village_id, 1 FROM consultation_answers a WHERE a.consultation_id = {k} AND {filter}"
        )
    };
    let pick = |i: usize, shift: usize| {
        let o = &q[i].options;
        format!(
            "CASE (a.household_id + {shift}) % 3 WHEN 0 THEN {} WHEN 1 THEN {} ELSE {} END",
            o[0].0, o[1].0, o[2].0
        )
    };
    for sql in [
        items(q[0].id, pick(0, 0), "NULL", "1 = 1"),
        items(q[1].id, pick(1, 0), "NULL", "1 = 1"),
        items(q[1].id, pick(1, 1), "NULL", "a.household_id % 2 = 0"),
        items(q[2].id, pick(2, 0), "1", "1 = 1"),
        items(q[2].id, pick(2, 1), "2", "1 = 1"),
        items(q[2].id, pick(2, 2), "3", "1 = 1"),
        format!(
            "INSERT INTO consultation_answer_items (answer_id, consultation_id, question_id, option_id, rank, text, village_id, current) \
             SELECT a.id, {k}, {}, NULL, NULL, '希望尽快开工', a.village_id, 1 FROM consultation_answers a WHERE a.consultation_id = {k} AND a.household_id % 20 = 1",
            q[3].id
        ),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    let mut samples = Vec::new();
    let mut answered = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let r = store.consultation_results(k).await.unwrap();
        samples.push(t.elapsed());
        answered = r.answered;
        assert_eq!(r.eligible, demo.households.len() as i64);
    }
    println!(
        "consultation results (store, {answered} of {} households answered): {}",
        demo.households.len(),
        percentiles(samples)
    );
    let url = url.replace(
        &format!("/notices/{}/coverage", notice.id),
        &format!("/api/v1/consultations/{k}/results"),
    );
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(body["answered"], answered);
    }
    println!(
        "consultation results (HTTP, JSON API): {}",
        percentiles(samples)
    );
}
