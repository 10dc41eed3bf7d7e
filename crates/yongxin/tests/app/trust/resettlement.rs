//! Resettlement and selection: objections only from the households addressed, the lottery's parties, the selection day's desk.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    objections_come_only_from_households_the_publication_addresses,
    a_publication_dated_in_the_past_starts_now,
    declined_and_merged_objections_are_settled,
    the_lottery_page_freezes_with_the_parties_commitments_and_draws_with_their_secrets,
    staff_see_only_the_objections_they_could_open,
    on_selection_day_a_household_cannot_claim_from_its_phone,
);

async fn objections_come_only_from_households_the_publication_addresses(app: TestApp) {
    let (own, other) = app.household_ids().await;
    let (_, theirs) = villages_of(&app).await;
    let notice = publication_to(&app, theirs).await;
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url(&format!("/notices/{notice}/objections")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "我家不在这个村，但我要反对。"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        [403, 404].contains(&res.status().as_u16()),
        "a resident of another village: {}",
        res.status()
    );
    // Through the API as well.
    let res = resident
        .post(app.url(&format!("/api/v1/notices/{notice}/objections")))
        .json(&serde_json::json!({"reason": "反对"}))
        .send()
        .await
        .unwrap();
    assert!(
        [403, 404].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
    // Staff on behalf of the resident's household: not addressed either.
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = object_for(&app, &staff, notice, own, "代为登记").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.store.objections(notice).await.unwrap().is_empty());
    // A household of that village may.
    let res = object_for(&app, &staff, notice, other, "面积测量有误").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.store.objections(notice).await.unwrap().len(), 1);
}

async fn a_publication_dated_in_the_past_starts_now(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let csrf = app.csrf(&staff).await;
    let started = Utc::now();
    let res = staff
        .post(app.url("/notices"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "publication"),
            ("scope", "subdistrict"),
            ("title", "倒签的公示"),
            ("body", "结果"),
            ("publish_at", "2020-01-01T09:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/notices/")
        .parse()
        .unwrap();
    let n = app.store.notice(id).await.unwrap().unwrap();
    assert!(
        n.publish_at >= started - Duration::seconds(1),
        "{}",
        n.publish_at
    );
    assert!(n.objections_until.unwrap() > Utc::now() + Duration::days(6));
    // A window that closed before today is refused.
    let res = staff
        .post(app.url("/notices"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "publication"),
            ("scope", "subdistrict"),
            ("title", "窗口已过的公示"),
            ("body", "结果"),
            ("publish_at", "2020-01-01T09:00"),
            ("objections_until", "2020-01-08T09:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn declined_and_merged_objections_are_settled(app: TestApp) {
    let (_, other) = app.household_ids().await;
    let (_, theirs) = villages_of(&app).await;
    let notice = publication_to(&app, theirs).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let mut objections = Vec::new();
    for reason in ["重复提出的异议", "另一户的异议"] {
        let res = staff
            .post(app.url(&format!("/api/v1/notices/{notice}/objections")))
            .json(&serde_json::json!({
                "reason": reason,
                "household_id": other,
                "contact_name": "王五",
                "contact_phone": "13944445555",
            }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        let body: serde_json::Value = res.json().await.unwrap();
        objections.push(body["appeal_id"].as_i64().unwrap());
    }
    let act = |id: i64, body: serde_json::Value| {
        let staff = staff.clone();
        let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
        async move {
            let res = staff.post(url).json(&body).send().await.unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    };
    act(
        objections[0],
        serde_json::json!({"action": "decline", "reason": "与另一件重复"}),
    )
    .await;
    let open = case_in(&app, theirs, "同一问题", "后街9号").await;
    act(
        objections[1],
        serde_json::json!({"action": "merge", "into": open.id}),
    )
    .await;
    let n: serde_json::Value = staff
        .get(app.url(&format!("/api/v1/notices/{notice}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(n["objections"], 2);
    assert_eq!(
        n["objections_answered"], 2,
        "declined and merged are settled: {n}"
    );
}

/// The project page's freeze form takes the parties' commitments one a line; one party alone is
/// refused and freezes nothing.
async fn the_lottery_page_freezes_with_the_parties_commitments_and_draws_with_their_secrets(
    app: TestApp,
) {
    use yongxin_domain::lottery::commitment_of;
    let (pid, _, _) = app.sample_project(yongxin_demo::Stage::Results).await;
    app.store
        .move_phase(
            &Actor::user("leader"),
            pid,
            yongxin_domain::resettlement::Phase::Lottery,
            "",
        )
        .await
        .unwrap()
        .unwrap();
    let leader = app.sign_in_as(Role::Leader).await;
    let freeze = format!("/projects/{pid}/lottery/freeze");
    let one = format!("街道办 {}", commitment_of("only us"));
    let res = post_form(
        &app,
        &leader,
        &freeze,
        &[("seed_rule", "现场摇号"), ("commitments", &one)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.lottery(pid).await.unwrap().is_none());
    let two = format!(
        "街道办 {}\n村民代表 {}\n",
        commitment_of("office 1"),
        commitment_of("reps 2")
    );
    let res = post_form(
        &app,
        &leader,
        &freeze,
        &[("seed_rule", "现场摇号"), ("commitments", &two)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let l = app.store.lottery(pid).await.unwrap().unwrap();
    let parties = l.seed_commitment.unwrap();
    assert_eq!(parties.parties().len(), 2);
    assert_eq!(parties.parties()[1].party, "村民代表");

    // The draw form asks each party's secret, in the commitment's order; secrets given in
    // the wrong order do not open the commitments and draw nothing.
    let page = leader
        .get(app.url(&format!("/projects/{pid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches(r#"name="secret""#).count(), 2, "{page}");
    let draw = format!("/projects/{pid}/lottery/draw");
    let res = post_form(
        &app,
        &leader,
        &draw,
        &[
            ("seed", "123456"),
            ("secret", "reps 2"),
            ("secret", "office 1"),
        ],
    )
    .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let l = app.store.lottery(pid).await.unwrap().unwrap();
    assert!(l.draws.is_empty());
    let res = post_form(
        &app,
        &leader,
        &draw,
        &[
            ("seed", "123456"),
            ("secret", "office 1"),
            ("secret", "reps 2"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let l = app.store.lottery(pid).await.unwrap().unwrap();
    assert_eq!(l.draws.len(), 1);
}

/// The notice page lists objections by case number to office staff: only those they could open.
async fn staff_see_only_the_objections_they_could_open(app: TestApp) {
    let (_, other) = app.household_ids().await;
    let (_, theirs) = villages_of(&app).await;
    let notice = publication_to(&app, theirs).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = object_for(&app, &staff, notice, other, "面积测量有误").await;
    assert_eq!(res.status(), StatusCode::OK);
    let objection = app.store.objections(notice).await.unwrap()[0]
        .number
        .clone();
    let page = |client: reqwest::Client| {
        let url = app.url(&format!("/notices/{notice}"));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(staff).await.contains(&objection), "staff see it");
    let grid = app.sign_in_as(Role::GridWorker).await;
    assert!(
        !page(grid).await.contains(&objection),
        "a grid worker of another village does not"
    );
}

/// On selection day the operator confirms for the household being called; that household's
/// member cannot claim from a phone, not even while called.
async fn on_selection_day_a_household_cannot_claim_from_its_phone(app: TestApp) {
    let (pid, _, _) = app.sample_project(yongxin_demo::Stage::Selection).await;
    let leader = app.sign_in_as(Role::Leader).await;
    let now = Utc::now().with_timezone(&yongxin_domain::time::shanghai());
    let fmt = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%dT%H:%M").to_string();
    let res = post_form(
        &app,
        &leader,
        &format!("/projects/{pid}/selections"),
        &[
            ("mode", "onsite"),
            ("starts_at", &fmt(now - Duration::minutes(5))),
            ("ends_at", &fmt(now + Duration::hours(8))),
            ("minutes", "5"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let sid: i64 = location(&res)
        .trim_start_matches("/selections/")
        .trim_end_matches("/operator")
        .parse()
        .unwrap();
    let called = app
        .store
        .selection(sid)
        .await
        .unwrap()
        .unwrap()
        .queue
        .unwrap()
        .current()
        .map(|e| HouseholdId(e.household_id))
        .unwrap();
    // A member of the household being called, on their own phone.
    app.store
        .create_user(
            &Actor::user("admin"),
            yongxin_store::NewUser {
                username: "called-member".into(),
                display_name: "被叫号户成员".into(),
                role: Role::Resident,
                password_hash: yongxin_web::auth::hash_password("demo-called").unwrap(),
                village_id: None,
                household_id: Some(called),
            },
        )
        .await
        .unwrap();
    let (member, res) = app.sign_in_with("called-member", "demo-called").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let unit = app
        .store
        .unit_states(pid)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.owner_household_id.is_none())
        .unwrap();
    let res = member
        .post(app.url(&format!("/api/v1/selections/{sid}/claims")))
        .json(&serde_json::json!({"household_id": called, "unit_ids": [unit.id]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = post_form(
        &app,
        &member,
        &format!("/selections/{sid}/choose"),
        &[("unit", unit.id.to_string().as_str())],
    )
    .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let after = app
        .store
        .unit_states(pid)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id == unit.id)
        .unwrap();
    assert!(after.owner_household_id.is_none(), "nothing was sold");
}

/// Staff record an objection to a notice on a household's behalf.
async fn object_for(
    app: &TestApp,
    staff: &reqwest::Client,
    notice: i64,
    household: HouseholdId,
    reason: &str,
) -> reqwest::Response {
    let household = household.to_string();
    post_form(
        app,
        staff,
        &format!("/notices/{notice}/objections"),
        &[
            ("reason", reason),
            ("household_id", household.as_str()),
            ("contact_name", "王五"),
            ("contact_phone", "13944445555"),
        ],
    )
    .await
}

/// A 公示 to one village, open for objections, stored directly.
async fn publication_to(app: &TestApp, village: i64) -> i64 {
    use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
    let draft = NoticeDraft {
        kind: NoticeKind::Publication,
        scope: ScopeKind::Villages,
        village_ids: vec![village],
        project_id: None,
        title: "后村补偿结果公示".into(),
        body: "各户补偿结果。".into(),
        publish_at: Utc::now() - Duration::minutes(1),
        end_at: None,
        objections_until: None,
    }
    .checked()
    .unwrap();
    app.store
        .create_notice(&Actor::user("staff"), draft)
        .await
        .unwrap()
        .id
}
