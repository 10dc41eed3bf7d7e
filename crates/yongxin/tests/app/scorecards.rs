//! Scorecards (考核) checked against the cases behind them: on a generated stretch of appeals,
//! every figure of every group, and of the total, equals the number of cases its link lists,
//! through HTTP; the rates equal the rates page's; cadres read their own row only.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::Actor;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{json, page, TestApp};

on_each_backend!(
    every_figure_is_the_count_of_the_cases_it_links_to,
    cadres_read_their_own_scorecard_only
);

async fn load_generated(app: &TestApp, count: usize) {
    crate::support::load_generated_appeals(app, 23, count).await;
}

async fn every_figure_is_the_count_of_the_cases_it_links_to(app: TestApp) {
    load_generated(&app, 600).await;
    // Supervision notices on three open cases: one answered in time, one still unanswered past
    // its due time (late), one not yet due.
    let open = app
        .store
        .search_appeals(&yongxin_store::AppealQuery {
            statuses: vec![
                yongxin_domain::appeal::AppealStatus::Assigned,
                yongxin_domain::appeal::AppealStatus::Contacted,
                yongxin_domain::appeal::AppealStatus::InProgress,
            ],
            ..yongxin_store::AppealQuery::within(yongxin_store::AppealScope::All, 3)
        })
        .await
        .unwrap()
        .appeals;
    assert_eq!(open.len(), 3, "the generator leaves cases open");
    let now = Utc::now();
    for (i, a) in open.iter().enumerate() {
        let due = if i == 1 {
            now - Duration::minutes(1)
        } else {
            now + Duration::days(2)
        };
        let n = app
            .store
            .issue_supervision(&Actor::user("leader"), a.id, "请加快办理", due)
            .await
            .unwrap();
        if i == 0 {
            app.store
                .answer_supervision(&Actor::user("staff"), n.id, "已催办")
                .await
                .unwrap();
        }
    }
    let leader = app.sign_in_as(Role::Leader).await;
    let today = yongxin_domain::campaign::local_day(now);
    let (from, to) = (today - Duration::days(60), today);
    let mut checked = 0;
    for group in ["cadre", "department", "village", "grid"] {
        let cards = json(
            &leader,
            app.url(&format!(
                "/api/v1/scorecards?group_by={group}&from={from}&to={to}"
            )),
        )
        .await;
        let rows = cards["rows"].as_array().unwrap();
        assert!(rows.len() > 1, "{group}: {cards}");
        let mut received = 0;
        for row in rows.iter().chain(std::iter::once(&cards["total"])) {
            for (figure, link) in row["cases"].as_object().unwrap() {
                let want = row[figure.as_str()].as_i64().unwrap();
                let listed = json(
                    &leader,
                    app.url(&format!("{}&per_page=1", link.as_str().unwrap())),
                )
                .await;
                assert_eq!(
                    listed["total"].as_i64().unwrap(),
                    want,
                    "{group} {} {figure}: {link}",
                    row["label"]
                );
                checked += 1;
            }
            received += row["received"].as_i64().unwrap();
        }
        assert_eq!(
            received,
            2 * cards["total"]["received"].as_i64().unwrap(),
            "the rows add up to the total"
        );
        // The rates are the rates page's own.
        if group != "grid" {
            let stats = json(
                &leader,
                app.url(&format!(
                    "/api/v1/appeals/stats?group_by={group}&from={from}&to={to}"
                )),
            )
            .await;
            for field in [
                "total",
                "contact_due",
                "contacted_on_time",
                "resolution_due",
                "answered_on_time",
                "answered",
                "rated",
                "satisfied",
            ] {
                let ours = if field == "total" { "received" } else { field };
                assert_eq!(
                    cards["total"][ours], stats["overall"][field],
                    "{group} {field}"
                );
            }
        }
    }
    assert!(checked > 200, "{checked} figures checked");
    let total = json(
        &leader,
        app.url(&format!("/api/v1/scorecards?from={from}&to={to}")),
    )
    .await["total"]
        .clone();
    assert_eq!(total["supervised"], 3);
    assert_eq!(total["supervised_late"], 1, "{total}");
    assert!(
        total["received"].as_i64().unwrap() > 50 && total["satisfied"].as_i64().unwrap() > 0,
        "{total}"
    );
    assert!(total["average_working_days_to_answer"].as_f64().unwrap() > 0.0);

    // The page shows the same and links each figure; the export carries the same numbers.
    let html = page(
        &leader,
        app.url(&format!(
            "/scorecards?group_by=department&from={from}&to={to}"
        )),
    )
    .await;
    assert!(
        html.contains("/appeals?figure=satisfied&#38;group_by=department"),
        "{html}"
    );
    assert!(html.contains("口径说明") && html.contains("平均办结工作日"));
    let csv = leader
        .get(app.url(&format!(
            "/scorecards?group_by=department&from={from}&to={to}&format=csv"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let received = total["received"].to_string();
    assert!(
        csv.lines()
            .last()
            .unwrap()
            .starts_with(&format!("合计,{received},")),
        "{csv}"
    );
    // A listed figure on the web page: the same count.
    let list = page(
        &leader,
        app.url(&format!("/appeals?figure=received&from={from}&to={to}")),
    )
    .await;
    assert!(list.contains(&format!("共 {received} 件")), "{list}");
}

async fn cadres_read_their_own_scorecard_only(app: TestApp) {
    load_generated(&app, 200).await;
    let grid_id = app.user_id("grid").await.to_string();
    let worker = app.sign_in_as(Role::GridWorker).await;
    let own = json(
        &worker,
        app.url("/api/v1/scorecards?from=2026-01-01&to=2026-12-31"),
    )
    .await;
    let rows = own["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{own}");
    assert_eq!(rows[0]["key"], grid_id.as_str());
    for group in ["department", "village", "grid"] {
        let res = worker
            .get(app.url(&format!("/api/v1/scorecards?group_by={group}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{group}");
    }
    // The links of their own row list their own cases, which they may read.
    let link = rows[0]["cases"]["received"].as_str().unwrap();
    let listed = json(&worker, app.url(link)).await;
    assert_eq!(listed["total"], rows[0]["received"]);
    // Bad input is refused, not guessed.
    let leader = app.sign_in_as(Role::Leader).await;
    for bad in [
        "group_by=category",
        "from=2026-13-01",
        "from=2026-03-01&to=2026-02-01",
        "from=2024-01-01&to=2026-01-01",
    ] {
        let res = leader
            .get(app.url(&format!("/api/v1/scorecards?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let res = leader
        .get(app.url("/api/v1/appeals?figure=nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .client()
        .get(app.url("/api/v1/scorecards"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let resident = app.sign_in_as(Role::Resident).await;
    let res = resident
        .get(app.url("/api/v1/scorecards"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
