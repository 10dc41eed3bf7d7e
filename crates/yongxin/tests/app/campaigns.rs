//! Door-to-door campaigns (入户走访) through HTTP: a campaign created from its form over the
//! subdistrict, visits from the phone's API once per client id (replayed, reordered, duplicated),
//! concerns filed as cases in the visit's write and refused whole, coverage and the unreached
//! list, the phone page's plain form, corrections, assignment by hand, the walk sheet, the notice
//! marked informed; and the attacks: a resident, a stranger, a cadre beyond their households.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::json as j;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{json, page, post_form, post_json, status, TestApp};

on_each_backend!(
    a_campaign_is_walked_from_creation_to_coverage,
    lists_of_keys_hand_overs_and_late_corrections,
    replayed_reordered_and_duplicated_visits_are_stored_once_each,
    attacks_on_campaigns_are_refused
);

#[tokio::test]
async fn the_phone_page_keeps_visits_without_signal() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Sqlite).await else {
        return;
    };
    let Some(browser) =
        crate::browser::Browser::start("the walk page without signal", 390, 844).await
    else {
        return;
    };
    walking_without_signal(&app, &browser).await;
}

/// Today in Shanghai, ± days, as a form's date.
fn day(offset: i64) -> String {
    (yongxin_domain::campaign::local_day(Utc::now()) + Duration::days(offset)).to_string()
}

/// `m` minutes ago (1 ≤ m ≤ 100), but never before today began in Shanghai: a test run just after
/// midnight there keeps its visits on today's date, still in the order of `m`.
fn minutes_ago(m: i64) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    let start = yongxin_domain::calendar::start_of_day(yongxin_domain::campaign::local_day(now));
    let t = now - Duration::minutes(m);
    if t >= start {
        t
    } else {
        start + (now - start) * (101 - m as i32) / 101
    }
}

/// Creates a campaign through the page as `staff`; answers its id.
async fn create(app: &TestApp, staff: &Client, fields: &[(&str, &str)]) -> i64 {
    let res = post_form(app, staff, "/campaigns", fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    location.trim_start_matches("/campaigns/").parse().unwrap()
}

/// A policy campaign over every village by grid, with a one-question form, running since two
/// days ago.
async fn policy_campaign(app: &TestApp, staff: &Client, notice: Option<i64>) -> i64 {
    let villages: Vec<String> = app
        .store
        .villages()
        .await
        .unwrap()
        .iter()
        .map(|v| v.id.to_string())
        .collect();
    let (from, to) = (day(-2), day(7));
    let notice = notice.map(|n| n.to_string()).unwrap_or_default();
    let mut fields: Vec<(&str, &str)> = vec![
        ("title", "安置政策入户宣讲"),
        ("kind", "policy"),
        ("description", "逐户讲解安置政策"),
        ("starts_on", &from),
        ("ends_on", &to),
        ("notice", &notice),
        ("form", "new"),
        ("questions", "单选：是否了解安置政策？\n- 了解\n- 不了解"),
        ("assignment", "grid"),
        ("target", "villages"),
        ("escalate_after", "3"),
    ];
    for v in &villages {
        fields.push(("villages", v));
    }
    create(app, staff, &fields).await
}

/// The households a client is assigned in a campaign, from the unreached list.
async fn my_households(app: &TestApp, client: &Client, id: i64) -> Vec<i64> {
    let page = json(
        client,
        app.url(&format!("/api/v1/campaigns/{id}/unreached?per_page=500")),
    )
    .await;
    page["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["household_id"].as_i64().unwrap())
        .collect()
}

/// The visit form's question and its first option.
async fn form_option(app: &TestApp, client: &Client, id: i64) -> (i64, i64) {
    let k = json(client, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    let form = k["consultation_id"].as_i64().unwrap();
    let q = json(client, app.url(&format!("/api/v1/consultations/{form}"))).await;
    let question = &q["questions"][0];
    (
        question["id"].as_i64().unwrap(),
        question["options"][0]["id"].as_i64().unwrap(),
    )
}

fn visit(client_id: &str, household: i64, outcome: &str) -> serde_json::Value {
    j!({
        "client_id": client_id,
        "household_id": household,
        "visited_at": minutes_ago(5).to_rfc3339(),
        "outcome": outcome,
        "answers": {},
        "note": "",
        "concerns": []
    })
}

/// A campaign created from the page, visited through the phone's API, the plain form and a
/// correction, with its concerns as cases, its coverage, sheet and assignment by hand.
async fn a_campaign_is_walked_from_creation_to_coverage(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let (notice, _, _) = app.sample_disclosure().await;
    let id = policy_campaign(&app, &staff, Some(notice)).await;
    let households: i64 = app
        .store
        .villages()
        .await
        .unwrap()
        .iter()
        .map(|v| v.household_count)
        .sum();
    let k = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(k["target"], households);
    assert_eq!(
        (k["reached"].as_i64(), k["met"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(k["kind"], "policy");
    assert_eq!(k["state"], "running");
    let listed = json(&staff, app.url("/api/v1/campaigns")).await;
    assert!(listed.as_array().unwrap().iter().any(|c| c["id"] == id));

    // The grid worker sees their own households and numbers.
    let grid = app.sign_in_as(Role::GridWorker).await;
    let mine = my_households(&app, &grid, id).await;
    assert!(mine.len() >= 3);
    let theirs = json(&grid, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(theirs["target"], mine.len() as i64);

    // A visit: stored (201), replayed (200, the same visit), other content under its id (409).
    let (question, option) = form_option(&app, &grid, id).await;
    let mut met = visit("6f1c2b1e-8d1a-4a5e-9a57-0b7b0c1d2e3f", mine[0], "met");
    met["answers"] = j!({ question.to_string(): option });
    met["note"] = j!("户主在家，已讲解");
    let url = app.url(&format!("/api/v1/campaigns/{id}/visits"));
    let (s, stored) = post_json(&grid, url.clone(), met.clone()).await;
    assert_eq!(s, 201, "{stored}");
    assert_eq!(stored["outcome"], "met");
    assert_eq!(stored["household_id"], mine[0]);
    let (s, again) = post_json(&grid, url.clone(), met.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(again["id"], stored["id"]);
    let mut changed = met.clone();
    changed["note"] = j!("改了");
    let (s, body) = post_json(&grid, url.clone(), changed).await;
    assert_eq!(s, 409, "{body}");

    // A concern becomes a case for the household, channel `visit`, linked to the visit.
    let mut with_concern = visit("concern-0000001", mine[1], "met");
    with_concern["concerns"] = j!([{ "category": "noise", "description": "夜间施工噪音扰民", "contact_phone": "13912345678" }]);
    with_concern["members"] = j!([]);
    let (s, v) = post_json(&grid, url.clone(), with_concern).await;
    assert_eq!(s, 201, "{v}");
    let case = v["appeals"][0]["appeal_id"].as_i64().unwrap();
    let filed = json(&staff, app.url(&format!("/api/v1/appeals/{case}"))).await;
    assert_eq!(filed["channel"], "visit");
    let (stored_case, _) = app
        .store
        .appeal(yongxin_store::AppealId(case))
        .await
        .unwrap();
    assert_eq!(
        stored_case.household_id,
        Some(yongxin_store::HouseholdId(mine[1]))
    );
    let case_page = page(&staff, app.url(&format!("/appeals/{case}"))).await;
    assert!(
        case_page.contains(&format!("/campaigns/{id}/visits/{}", v["id"])),
        "the case links back to its visit"
    );
    let appeal_page = page(&staff, app.url(&format!("/campaigns/{id}"))).await;
    assert!(appeal_page.contains(v["appeals"][0]["number"].as_str().unwrap()));
    assert!(appeal_page.contains("<svg"), "the burn-down is drawn");

    // A photo taken at the door is kept with the visit and shown without its location.
    use base64::Engine;
    let mut with_photo = visit("photo-00000001", mine[4], "met");
    with_photo["photos"] =
        j!([base64::engine::general_purpose::STANDARD.encode(crate::photos::phone_jpeg(2000))]);
    let (s, pictured) = post_json(&grid, url.clone(), with_photo).await;
    assert_eq!(s, 201, "{pictured}");
    assert_eq!(pictured["photos"], 1);
    let visit_page = page(
        &grid,
        app.url(&format!("/campaigns/{id}/visits/{}", pictured["id"])),
    )
    .await;
    let src = visit_page
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = grid.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let bytes = res.bytes().await.unwrap();
    assert!(!crate::photos::contains(&bytes, b"GPSLatitude"));
    let other_grid = app.sign_in_with("grid-v02-g1", "demo").await.0;
    assert_eq!(
        status(&other_grid, app.url(&src)).await,
        StatusCode::FORBIDDEN
    );

    // A concern that cannot be a case takes the visit with it: nothing stored.
    let before = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    let mut broken = visit("concern-0000002", mine[2], "met");
    broken["concerns"] = j!([{ "category": "no-such-category", "description": "路灯坏了", "contact_phone": "13912345678" }]);
    let (s, body) = post_json(&grid, url.clone(), broken).await;
    assert_eq!(s, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("concerns[0].category"));
    let after = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(after["visits"], before["visits"]);

    // Bad input names its field and stores nothing.
    for (field, value, named) in [
        ("outcome", j!("maybe"), "outcome"),
        ("visited_at", j!("yesterday"), "visited_at"),
        (
            "visited_at",
            j!((Utc::now() + Duration::hours(2)).to_rfc3339()),
            "visited_at",
        ),
        (
            "visited_at",
            j!((Utc::now() - Duration::days(30)).to_rfc3339()),
            "visited_at",
        ),
        ("client_id", j!("short"), "client_id"),
        ("answers", j!({ question.to_string(): option }), "answers"),
    ] {
        let mut bad = visit("bad-input-000001", mine[2], "not_home");
        bad[field] = value;
        let (s, body) = post_json(&grid, url.clone(), bad).await;
        assert_eq!(s, 422, "{field}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(named),
            "{body}"
        );
    }
    let mut missing = visit("missing-000001", mine[2], "met");
    missing.as_object_mut().unwrap().remove("client_id");
    let (s, body) = post_json(&grid, url.clone(), missing).await;
    assert_eq!(s, 422);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("client_id"));

    // The phone page, and its plain form without the script: one visit however often it is sent.
    let walk = page(&grid, app.url(&format!("/campaigns/{id}/walk"))).await;
    assert!(walk.contains("walk.js") && walk.contains("class=\"door\""));
    let form = page(
        &grid,
        app.url(&format!("/campaigns/{id}/walk?household={}", mine[2])),
    )
    .await;
    let start = form.find("name=\"client_id\" value=\"").unwrap() + 24;
    let client_id = form[start..start + 64].to_owned();
    let start = form.find("name=\"visited_at\" value=\"").unwrap() + 25;
    let opened_at = form[start..].split('"').next().unwrap().to_owned();
    let household = mine[2].to_string();
    for _ in 0..2 {
        let res = post_form(
            &app,
            &grid,
            &format!("/campaigns/{id}/walk"),
            &[
                ("client_id", &client_id),
                ("household_id", &household),
                ("visited_at", &opened_at),
                ("outcome", "not_home"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let visits = app
        .store
        .household_visits(id, yongxin_store::HouseholdId(mine[2]))
        .await
        .unwrap();
    assert_eq!(visits.len(), 1);

    // Coverage by village, grid, cadre and day; the unreached list.
    let total = json(
        &staff,
        app.url(&format!("/api/v1/campaigns/{id}/coverage?group_by=village")),
    )
    .await;
    assert_eq!(
        (
            total["target"].as_i64(),
            total["reached"].as_i64(),
            total["met"].as_i64()
        ),
        (Some(households), Some(3), Some(3))
    );
    for by in ["village", "grid", "cadre"] {
        let c = json(
            &staff,
            app.url(&format!("/api/v1/campaigns/{id}/coverage?group_by={by}")),
        )
        .await;
        let groups = c["groups"].as_array().unwrap();
        assert_eq!(
            groups
                .iter()
                .map(|g| g["target"].as_i64().unwrap())
                .sum::<i64>(),
            households,
            "{by}"
        );
        assert_eq!(
            groups
                .iter()
                .map(|g| g["reached"].as_i64().unwrap())
                .sum::<i64>(),
            3,
            "{by}"
        );
    }
    let by_day = json(
        &staff,
        app.url(&format!("/api/v1/campaigns/{id}/coverage?group_by=day")),
    )
    .await;
    let days = by_day["groups"].as_array().unwrap();
    assert_eq!(days.len(), 3, "two days past and today");
    assert_eq!(days.last().unwrap()["reached"], 3);
    assert_eq!(days.last().unwrap()["key"], day(0));
    assert_eq!(
        status(
            &staff,
            app.url(&format!("/api/v1/campaigns/{id}/coverage?group_by=week"))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    let unreached = json(
        &staff,
        app.url(&format!("/api/v1/campaigns/{id}/unreached?per_page=1")),
    )
    .await;
    assert_eq!(unreached["total"], households - 3);
    assert_eq!(unreached["households"].as_array().unwrap().len(), 1);

    // Households reached are informed of the notice the campaign explains.
    let informed = app
        .store
        .informed(notice, yongxin_store::HouseholdId(mine[0]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(informed.by, "grid");

    // The walk sheet, printable and as files.
    let sheet = page(&staff, app.url(&format!("/campaigns/{id}/sheet"))).await;
    assert!(sheet.contains("<table"));
    let csv = staff
        .get(app.url(&format!("/campaigns/{id}/sheet?format=csv")))
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert_eq!(
        csv.lines().count() as i64,
        households - 3 + 1,
        "a header and every unreached household"
    );
    let xlsx = staff
        .get(app.url(&format!("/campaigns/{id}/sheet?format=xlsx")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(xlsx.starts_with(b"PK"));

    // The recorder corrects their visit within the day; the visit replaced stays.
    let res = post_form(
        &app,
        &grid,
        &format!("/campaigns/{id}/visits/{}/correct", stored["id"]),
        &[
            ("outcome", "refused"),
            ("note", "其实拒绝了"),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let history = app
        .store
        .household_visits(id, yongxin_store::HouseholdId(mine[0]))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history[0].current && history[1].current);
    let k = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(
        k["reached"], 2,
        "a refusal does not reach by this campaign's rules"
    );

    // By hand: a household goes to another cadre, and is no longer this one's to visit.
    let other_cadre = app.user_id("grid-v02-g1").await.to_string();
    let moved = mine[3].to_string();
    let res = post_form(
        &app,
        &staff,
        &format!("/campaigns/{id}/assign"),
        &[("households", &moved), ("cadre", &other_cadre)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (s, _) = post_json(&grid, url.clone(), visit("after-move-0001", mine[3], "met")).await;
    assert_eq!(s, 403);
    let history = page(
        &staff,
        app.url(&format!("/campaigns/{id}/households?household={}", mine[3])),
    )
    .await;
    assert!(history.contains("手工分配") && history.contains("按网格分配"));

    // Every change is in the record, and the record holds.
    app.store.verify_audit().await.unwrap().unwrap();
}

/// Forty visits from one phone's queue sent as a bad connection sends them: out of order, some
/// twice, some at once. Each is stored exactly once.
async fn replayed_reordered_and_duplicated_visits_are_stored_once_each(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let id = policy_campaign(&app, &staff, None).await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let mine = my_households(&app, &grid, id).await;
    let url = app.url(&format!("/api/v1/campaigns/{id}/visits"));
    let queue: Vec<serde_json::Value> = (0..40)
        .map(|i| {
            let outcome = ["not_home", "met", "refused", "not_home"][i % 4];
            let mut v = visit(
                &format!("phone-queue-{i:04}"),
                mine[i % mine.len()],
                outcome,
            );
            v["visited_at"] = j!(minutes_ago(100 - i as i64).to_rfc3339());
            v
        })
        .collect();
    // Every visit twice, the second round reversed, sent eight at a time.
    let mut sends: Vec<serde_json::Value> = queue.clone();
    sends.extend(queue.iter().rev().cloned());
    let mut answered = Vec::new();
    for batch in sends.chunks(8) {
        let results = futures_util::future::join_all(
            batch
                .iter()
                .map(|v| post_json(&grid, url.clone(), v.clone())),
        )
        .await;
        answered.extend(results);
    }
    assert!(
        answered.iter().all(|(s, _)| *s == 200 || *s == 201),
        "{answered:?}"
    );
    assert_eq!(answered.iter().filter(|(s, _)| *s == 201).count(), 40);
    let ids: BTreeSet<i64> = answered
        .iter()
        .map(|(_, v)| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        40,
        "each client id answered one visit, however often sent"
    );
    let k = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(k["visits"], 40);
    let mut stored = 0;
    for h in &mine {
        stored += app
            .store
            .household_visits(id, yongxin_store::HouseholdId(*h))
            .await
            .unwrap()
            .len();
    }
    assert_eq!(stored, 40);
}

/// A resident, a stranger, a cadre beyond their households, a cadre of another campaign's grid,
/// a forged form: each refused, nothing written.
async fn attacks_on_campaigns_are_refused(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let id = policy_campaign(&app, &staff, None).await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let mine = my_households(&app, &grid, id).await;
    let (_, elsewhere) = app.household_ids().await;
    let url = app.url(&format!("/api/v1/campaigns/{id}/visits"));

    // The grid worker reaches for a household of another village's grid.
    let (s, body) = post_json(
        &grid,
        url.clone(),
        visit("reach-0000001", elsewhere.get(), "met"),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    // A village officer is not assigned these households and the campaign is not open to scope.
    let officer = app.sign_in_as(Role::VillageOfficer).await;
    let (s, _) = post_json(
        &officer,
        url.clone(),
        visit("reach-0000002", mine[0], "met"),
    )
    .await;
    assert_eq!(s, 403);
    // Someone else's client id cannot be used to read their visit back.
    let (s, _) = post_json(&grid, url.clone(), visit("owned-0000001", mine[0], "met")).await;
    assert_eq!(s, 201);
    let officer_households = my_households(&app, &officer, id).await;
    assert!(officer_households.is_empty());
    let (s, _) = post_json(
        &officer,
        url.clone(),
        visit("owned-0000001", mine[0], "met"),
    )
    .await;
    assert_eq!(s, 409);
    let totals = app.store.campaign_totals(id, None).await.unwrap();
    assert_eq!(
        totals.visits, 1,
        "only the grid worker's own visit was written"
    );

    // A resident and a stranger reach nothing of it.
    let resident = app.sign_in_as(Role::Resident).await;
    let stranger = app.client();
    for client in [&resident, &stranger] {
        for path in [
            "/api/v1/campaigns".to_owned(),
            format!("/api/v1/campaigns/{id}"),
            format!("/api/v1/campaigns/{id}/coverage"),
            format!("/api/v1/campaigns/{id}/unreached"),
            format!("/campaigns/{id}"),
            format!("/campaigns/{id}/walk"),
            format!("/campaigns/{id}/sheet?format=csv"),
        ] {
            let s = status(client, app.url(&path)).await;
            assert!(
                matches!(
                    s,
                    StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER
                ),
                "{path}: {s}"
            );
        }
        let (s, _) = post_json(
            client,
            url.clone(),
            visit("resident-000001", mine[1], "met"),
        )
        .await;
        assert!(s == 401 || s == 403, "{s}");
    }

    // A grid worker sees only their own households, however they ask.
    let other = mine[0] + 100_000;
    let sheet = page(
        &grid,
        app.url(&format!(
            "/campaigns/{id}/sheet?format=csv&cadre={}",
            app.user_id("staff").await
        )),
    )
    .await;
    assert_eq!(
        sheet.lines().count(),
        mine.len(),
        "a header and their own unreached"
    );
    let history = status(
        &grid,
        app.url(&format!(
            "/campaigns/{id}/households?household={}",
            elsewhere.get()
        )),
    )
    .await;
    assert_eq!(history, StatusCode::FORBIDDEN);
    let walk_other = status(
        &grid,
        app.url(&format!("/campaigns/{id}/walk?household={other}")),
    )
    .await;
    assert_eq!(walk_other, StatusCode::FORBIDDEN);
    // Grid workers do not create campaigns nor move households.
    let res = post_form(&app, &grid, "/campaigns", &[("title", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post_form(
        &app,
        &grid,
        &format!("/campaigns/{id}/assign"),
        &[
            ("households", &mine[0].to_string()),
            ("cadre", &app.user_id("grid").await.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Someone else's visit cannot be corrected, nor seen.
    let their_visit = app
        .store
        .household_visits(id, yongxin_store::HouseholdId(mine[0]))
        .await
        .unwrap()[0]
        .id;
    let other_grid = app.sign_in_with("grid-v02-g1", "demo").await.0;
    let s = status(
        &other_grid,
        app.url(&format!("/campaigns/{id}/visits/{their_visit}")),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let res = post_form(
        &app,
        &other_grid,
        &format!("/campaigns/{id}/visits/{their_visit}/correct"),
        &[("outcome", "refused"), ("reason", "x")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A form without its token is refused before it is read.
    let res = grid
        .post(app.url(&format!("/campaigns/{id}/walk")))
        .form(&[
            ("client_id", "no-token-000001"),
            ("household_id", &mine[1].to_string()),
            ("outcome", "met"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app
        .store
        .household_visits(id, yongxin_store::HouseholdId(mine[1]))
        .await
        .unwrap()
        .is_empty());
}

/// The grid worker's phone loses its signal: five visits are kept on the phone, the page reloads
/// from the phone's own copy with the five still waiting, and when the signal returns the server
/// holds exactly those five.
async fn walking_without_signal(app: &TestApp, browser: &crate::browser::Browser) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let id = policy_campaign(app, &staff, None).await;
    let signal = crate::browser::Signal::to(&app.base).await;
    let walk = format!("{}/campaigns/{id}/walk", signal.base);
    browser.sign_in(&signal.base, "grid").await;
    browser.go(&walk).await;
    browser
        .script(
            "caches.match(location.pathname).then(function (hit) { window.kept = !!hit; });",
            serde_json::json!([]),
        )
        .await;
    browser
        .wait_long(
            "the service worker and the page's copy",
            "if (navigator.serviceWorker.controller) { caches.match(location.pathname).then(function (hit) { window.kept = !!hit; }); } return window.kept === true;",
            20,
        )
        .await;

    // No signal: the browser's network and the line to the server are both gone.
    browser.set_offline(true).await;
    signal.lose();
    let outcomes = ["not_home", "met", "refused", "not_home", "moved"];
    let mut visited = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let door = browser
            .script(
                "return document.querySelectorAll('ol.doors a.door')[arguments[0]]",
                serde_json::json!([i]),
            )
            .await;
        let door = crate::browser::Element::from_value(&door);
        visited.push(
            browser
                .script(
                    "return document.querySelectorAll('ol.doors a.door')[arguments[0]].getAttribute('data-id')",
                    serde_json::json!([i]),
                )
                .await
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap(),
        );
        browser.click(&door).await;
        browser
            .wait_for(
                "the visit form",
                "return !document.getElementById('visit').hidden",
            )
            .await;
        if *outcome == "met" {
            browser.tick("#visit-questions input[type=radio]").await;
        }
        let button = browser.find(&format!("button.outcome-{outcome}")).await;
        browser.click(&button).await;
        browser
            .wait_for(
                "the visit kept on the phone",
                &format!(
                    "return document.getElementById('waiting').textContent === '{}'",
                    i + 1
                ),
            )
            .await;
    }
    browser.screenshot("campaign-walk-offline").await;
    assert_eq!(app.store.campaign_totals(id, None).await.unwrap().visits, 0);

    // The page reloads without signal, from the phone's copy, the five still waiting.
    browser.go(&walk).await;
    browser
        .wait_long(
            "the kept page with its five visits",
            "var w = document.getElementById('waiting'); return !!w && w.textContent === '5';",
            10,
        )
        .await;
    assert_eq!(app.store.campaign_totals(id, None).await.unwrap().visits, 0);

    // The signal returns: the queue drains in order and the server holds exactly those five.
    signal.regain();
    browser.set_offline(false).await;
    browser
        .wait_long(
            "the queue to drain",
            "return document.getElementById('queue').hidden === true",
            60,
        )
        .await;
    browser.screenshot("campaign-walk-synced").await;
    let totals = app.store.campaign_totals(id, None).await.unwrap();
    assert_eq!(totals.visits, 5);
    for (household, outcome) in visited.iter().zip(outcomes) {
        let visits = app
            .store
            .household_visits(id, yongxin_store::HouseholdId(*household))
            .await
            .unwrap();
        assert_eq!(visits.len(), 1, "household {household}");
        assert_eq!(visits[0].outcome.code(), outcome);
        assert!(!visits[0].client_id.is_empty());
    }
    // Nothing was refused and nothing is left on the phone.
    browser
        .wait_for(
            "no refusals",
            "return document.getElementById('refused').hidden === true",
        )
        .await;
}

/// A campaign over a list of household keys, typed or uploaded, refused whole with the row of
/// each unknown key; a cadre's open households handed over; a late correction by the village
/// officer, who must say why.
async fn lists_of_keys_hand_overs_and_late_corrections(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let keys: Vec<String> = app
        .demo
        .households
        .iter()
        .take(4)
        .map(|h| h.key.clone())
        .collect();
    let (from, to) = (day(0), day(5));
    let base: Vec<(&str, &str)> = vec![
        ("title", "低保户走访"),
        ("kind", "other"),
        ("starts_on", &from),
        ("ends_on", &to),
        ("form", "none"),
        ("assignment", "hand"),
        ("target", "households"),
    ];
    let before = app.store.campaigns(None).await.unwrap().len();
    // Typed: two unknown keys, each named with its line; nothing created.
    let typed = format!("{}\nNO-SUCH-1\n{}\nNO-SUCH-2", keys[0], keys[1]);
    let mut fields = base.clone();
    fields.push(("keys", &typed));
    let res = post_form(&app, &staff, "/campaigns", &fields).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("第 2 行") && body.contains("NO-SUCH-1"),
        "{body}"
    );
    assert!(body.contains("第 4 行") && body.contains("NO-SUCH-2"));
    assert_eq!(app.store.campaigns(None).await.unwrap().len(), before);
    // Uploaded as .xlsx with a header row: the rows counted as the sheet shows them.
    let mut table = vec![vec!["户号".to_owned()]];
    table.extend(keys.iter().map(|k| vec![k.clone()]));
    table.push(vec!["NO-SUCH-3".to_owned()]);
    let xlsx =
        yongxin_web::http::sheet::write_table(&table, yongxin_web::http::sheet::SheetFormat::Xlsx)
            .unwrap();
    let upload = |bytes: Vec<u8>, csrf: String| {
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
        for (k, v) in &base {
            form = form.text(k.to_string(), v.to_string());
        }
        form.part(
            "keys_file",
            reqwest::multipart::Part::bytes(bytes).file_name("keys.xlsx"),
        )
    };
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url("/campaigns"))
        .multipart(upload(xlsx, csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("第 6 行") && body.contains("NO-SUCH-3"),
        "{body}"
    );
    table.pop();
    let xlsx =
        yongxin_web::http::sheet::write_table(&table, yongxin_web::http::sheet::SheetFormat::Xlsx)
            .unwrap();
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url("/campaigns"))
        .multipart(upload(xlsx, csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/campaigns/")
        .parse()
        .unwrap();
    let k = json(&staff, app.url(&format!("/api/v1/campaigns/{id}"))).await;
    assert_eq!(k["target"], 4);
    assert_eq!(k["assignment"], "hand");

    // By hand to the grid worker, then all of theirs handed to the village officer.
    let grid_id = app.user_id("grid").await.to_string();
    let officer_id = app.user_id("village").await.to_string();
    let unreached = json(
        &staff,
        app.url(&format!("/api/v1/campaigns/{id}/unreached")),
    )
    .await;
    let ids: Vec<String> = unreached["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["household_id"].to_string())
        .collect();
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|h| ("households", h.as_str())).collect();
    fields.push(("cadre", &grid_id));
    let res = post_form(&app, &staff, &format!("/campaigns/{id}/assign"), &fields).await;
    assert_eq!(res.status(), StatusCode::OK);
    let grid = app.sign_in_as(Role::GridWorker).await;
    let mine = my_households(&app, &grid, id).await;
    assert_eq!(mine.len(), 4);
    let url = app.url(&format!("/api/v1/campaigns/{id}/visits"));
    let (s, v) = post_json(&grid, url.clone(), visit("late-0000001", mine[0], "met")).await;
    assert_eq!(s, 201);
    let res = post_form(
        &app,
        &staff,
        &format!("/campaigns/{id}/reassign"),
        &[("from", &grid_id), ("to", &officer_id)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("已调整 3 户"));
    assert!(my_households(&app, &grid, id).await.is_empty());

    // A campaign open to scope: no one assigned, and each cadre may knock on any door their scope
    // covers, no other.
    let today = yongxin_domain::campaign::local_day(Utc::now());
    let open = app
        .store
        .create_campaign(
            &yongxin_domain::Actor::user("staff"),
            yongxin_store::NewCampaign {
                title: "疫情排查".into(),
                kind: yongxin_domain::campaign::CampaignKind::Inspection,
                description: String::new(),
                period: yongxin_domain::campaign::Period::new(today, today).unwrap(),
                notice_id: None,
                project_id: None,
                form: yongxin_store::CampaignForm::None,
                assignment: yongxin_domain::campaign::AssignmentWay::Hand,
                target: yongxin_domain::campaign::Target::Villages(
                    app.store
                        .villages()
                        .await
                        .unwrap()
                        .iter()
                        .map(|v| v.id)
                        .collect(),
                ),
                rules: yongxin_domain::campaign::Rules {
                    open_to_scope: true,
                    ..yongxin_domain::campaign::Rules::default()
                },
            },
        )
        .await
        .unwrap();
    let (own, elsewhere) = app.household_ids().await;
    let open_url = app.url(&format!("/api/v1/campaigns/{}/visits", open.id));
    let (s, _) = post_json(
        &grid,
        open_url.clone(),
        visit("scope-0000001", own.get(), "met"),
    )
    .await;
    assert_eq!(s, 201, "a door within the grid worker's grid");
    let (s, _) = post_json(
        &grid,
        open_url,
        visit("scope-0000002", elsewhere.get(), "met"),
    )
    .await;
    assert_eq!(s, 403, "a door beyond it");

    // The village officer corrects the grid worker's visit, if the household is of their
    // village, and only with a reason.
    let officer = app.sign_in_as(Role::VillageOfficer).await;
    let path = format!("/campaigns/{id}/visits/{}/correct", v["id"]);
    let household_village = app
        .store
        .household(yongxin_store::HouseholdId(mine[0]))
        .await
        .unwrap()
        .summary
        .village_id;
    let officer_village = app
        .store
        .user_credentials("village")
        .await
        .unwrap()
        .unwrap()
        .0
        .village_id;
    let res = post_form(
        &app,
        &officer,
        &path,
        &[("outcome", "refused"), ("reason", "")],
    )
    .await;
    assert_eq!(
        Some(household_village),
        officer_village,
        "the first households are of the officer's village"
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("村干部更正须说明原因"));
    let res = post_form(
        &app,
        &officer,
        &path,
        &[("outcome", "refused"), ("reason", "户主电话核实：当时拒绝")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let history = app
        .store
        .household_visits(id, yongxin_store::HouseholdId(mine[0]))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[1].correction_reason.as_deref(),
        Some("户主电话核实：当时拒绝")
    );
}
