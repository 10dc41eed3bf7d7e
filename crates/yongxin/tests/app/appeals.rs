//! Appeals over the JSON API: intake, the lifecycle, permissions and bad input.

use reqwest::StatusCode;
use serde_json::{json, Value};
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::AppealId;

use crate::on_each_backend;
use crate::support::{json, RecordingGateway, TestApp};

on_each_backend!(
    an_appeal_goes_from_intake_to_a_satisfied_rating,
    a_rating_by_phone_is_recorded_by_someone_other_than_the_handler,
    the_public_case_list_lets_anyone_recompute_the_rates,
    bad_intake_is_refused_in_the_users_language_and_changes_nothing,
    roles_and_states_limit_who_may_act,
    an_anonymous_resident_files_on_the_form_and_tracks_the_case,
    the_case_page_offers_only_the_allowed_actions,
    administrators_load_calendar_years_and_bad_files_change_nothing,
    the_three_rates_are_served_with_their_definitions,
    notices_leave_through_the_outbox_and_unrated_answers_close,
    overdue_cases_reach_the_supervision_list_and_the_export,
    leaders_issue_supervision_notices_that_handlers_answer,
    rising_categories_and_repeats_are_offered_for_merging,
    the_public_list_names_no_one,
    residents_hear_by_sms_through_the_http_gateway,
    handlers_hear_of_yellow_and_red_cards_once,
    administrators_edit_the_catalogue,
);

use crate::support::post_json as post;

async fn an_appeal_goes_from_intake_to_a_satisfied_rating(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let (status, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "noise", "description": "楼下商铺夜间噪音扰民", "answers": {"source": "shop"}, "address": "前街1号"}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["channel"], "web");
    assert!(
        a["contact_phone"].as_str().unwrap().contains("****"),
        "masked"
    );
    assert!(a["resolution_due"].as_str().unwrap().ends_with("+08:00"));
    let id = a["id"].as_i64().unwrap();
    let act = |who: reqwest::Client, body: Value| {
        let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
        async move { post(&who, url, body).await }
    };
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let grid = app.sign_in_as(Role::GridWorker).await;
    for (who, body, expect) in [
        (staff.clone(), json!({"action": "accept"}), "accepted"),
        (
            staff.clone(),
            json!({"action": "assign", "cadre_id": grid_user.id}),
            "assigned",
        ),
        (grid.clone(), json!({"action": "contact"}), "contacted"),
        (
            grid.clone(),
            json!({"action": "note", "text": "内部记录", "visible": false}),
            "in_progress",
        ),
        (
            grid.clone(),
            json!({"action": "answer", "reply": "已责令整改"}),
            "answered",
        ),
        (
            resident.clone(),
            json!({"action": "rate", "rating": "satisfied"}),
            "closed",
        ),
    ] {
        let (status, body) = act(who, body).await;
        assert_eq!(
            (status, body["status"].as_str().unwrap_or("")),
            (200, expect),
            "{body}"
        );
    }
    // The resident sees the reply but not the internal note.
    let seen = json(&resident, app.url(&format!("/api/v1/appeals/{id}"))).await;
    assert_eq!(seen["reply"], "已责令整改");
    assert!(!seen["events"].to_string().contains("内部记录"));
    let staff_view = json(&staff, app.url(&format!("/api/v1/appeals/{id}"))).await;
    assert!(staff_view["events"].to_string().contains("内部记录"));
    let mine = json(&resident, app.url("/api/v1/appeals")).await;
    assert_eq!(mine["total"], 1);
    app.search_caught_up().await;
    let closed = json(&staff, app.url("/api/v1/appeals?status=closed&q=噪音")).await;
    assert_eq!(closed["total"], 1);
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

/// 电话回访: a case taken by phone, with no account to rate from, is rated by the office calling
/// the resident back: never by its handler, nor by the resident through the cadres' action; the
/// call's time and the resident's words are in the history, a dissatisfied call reopens the case,
/// and the rating counts in the satisfaction rate like any other.
async fn a_rating_by_phone_is_recorded_by_someone_other_than_the_handler(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let (status, a) = post(
        &staff,
        app.url("/api/v1/appeals"),
        json!({"category": "other", "channel": "phone", "description": "村口路灯不亮", "contact_name": "王五", "contact_phone": "13900000001"}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let leader = app.sign_in_as(Role::Leader).await;
    let resident = app.sign_in_as(Role::Resident).await;
    let answer = |reply: &'static str| json!({"action": "answer", "reply": reply});
    for (who, body) in [
        (&staff, json!({"action": "accept"})),
        (
            &staff,
            json!({"action": "assign", "cadre_id": grid_user.id}),
        ),
        (&grid, answer("已更换灯泡")),
    ] {
        let (s, b) = post(who, url.clone(), body).await;
        assert_eq!(s, 200, "{b}");
    }
    let call = |rating: &str, reason: &str, at: chrono::DateTime<chrono::Utc>| json!({"action": "rate_by_call", "rating": rating, "reason": reason, "called_at": at.to_rfc3339()});
    let now = chrono::Utc::now();
    // The handler, and a resident through the cadres' action, are refused; a call from the
    // future is too. Nothing changes.
    let (s, _) = post(&grid, url.clone(), call("satisfied", "", now)).await;
    assert_eq!(s, 403);
    // Not the resident's case: to them it does not exist.
    let (s, _) = post(&resident, url.clone(), call("satisfied", "", now)).await;
    assert_eq!(s, 404);
    let (s, b) = post(
        &staff,
        url.clone(),
        call("satisfied", "", now + chrono::Duration::hours(2)),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("called_at"));
    let (case, _) = app.store.appeal(AppealId(id)).await.unwrap();
    assert_eq!(case.status.code(), "answered");
    // The office calls: the resident is not satisfied, and the case goes back to its handler.
    let (s, b) = post(
        &staff,
        url.clone(),
        call(
            "dissatisfied",
            "灯又灭了",
            now - chrono::Duration::minutes(1),
        ),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("assigned")), "{b}");
    let (s, _) = post(&grid, url.clone(), answer("已更换线路")).await;
    assert_eq!(s, 200);
    // A leader calls again and records a satisfied rating: closed.
    let (s, b) = post(
        &leader,
        url.clone(),
        call("satisfied", "", chrono::Utc::now()),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")), "{b}");
    let (case, events) = app.store.appeal(AppealId(id)).await.unwrap();
    assert_eq!(case.rating.map(|r| r.code()), Some("satisfied"));
    assert_eq!(case.reopen_count, 1);
    let calls: Vec<_> = events
        .iter()
        .filter(|e| e.action == "rate_by_call")
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].actor, "staff");
    assert!(calls[0].text.as_deref().unwrap().starts_with("回访电话"));
    assert!(calls[0].text.as_deref().unwrap().contains("灯又灭了"));
    assert_eq!(calls[1].actor, "leader");

    // Another phone case is answered and nobody rates it: it closes by itself and counts as
    // answered but not rated — the satisfaction rate speaks for half the answers, and says so.
    let (s, b) = post(
        &staff,
        app.url("/api/v1/appeals"),
        json!({"category": "other", "channel": "phone", "description": "垃圾桶满了", "contact_name": "赵六", "contact_phone": "13900000002"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let url = app.url(&format!("/api/v1/appeals/{}/actions", b["id"]));
    for (who, body) in [
        (&staff, json!({"action": "accept"})),
        (
            &staff,
            json!({"action": "assign", "cadre_id": grid_user.id}),
        ),
        (&grid, answer("已清运")),
    ] {
        let (s, b) = post(who, url.clone(), body).await;
        assert_eq!(s, 200, "{b}");
    }
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let closed = yongxin_web::background::auto_close(
        &state,
        chrono::Utc::now() + chrono::Duration::days(8),
        7,
    )
    .await
    .unwrap();
    assert_eq!(closed, 1);
    let stats = json(&leader, app.url("/api/v1/appeals/stats?group_by=category")).await;
    let overall = &stats["overall"];
    assert_eq!(
        (
            overall["answered"].as_i64(),
            overall["rated"].as_i64(),
            overall["satisfied"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{overall}"
    );
    assert_eq!(overall["satisfaction_rate"], 1.0);
    assert_eq!(overall["rating_coverage"], 0.5);
    assert!(stats["definitions"]["rating_coverage"]
        .as_str()
        .unwrap()
        .contains("不计为满意"));
    let page = crate::support::page(&leader, app.url("/appeals/stats")).await;
    assert!(
        page.contains("回访覆盖率") && page.contains("50.0%"),
        "the page shows the coverage"
    );
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

/// The public case list (anonymous, no one named) and `tools/verify_rates.py`, which shares no
/// code with the server, give the server's own figures: rated, unrated, overdue, declined, late.
async fn the_public_case_list_lets_anyone_recompute_the_rates(app: TestApp) {
    let now = chrono::Utc::now();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let grid = app.sign_in_as(Role::GridWorker).await;
    // Cases in every state the rates tell apart.
    let mut ids = Vec::new();
    for description in ["路灯不亮", "垃圾未清运", "下水道堵塞", "违章停车"] {
        let (s, a) = post(
            &staff,
            app.url("/api/v1/appeals"),
            json!({"category": "other", "channel": "phone", "description": description, "contact_name": "王五", "contact_phone": "13900000001"}),
        )
        .await;
        assert_eq!(s, 201, "{a}");
        ids.push(a["id"].as_i64().unwrap());
    }
    let steps: Vec<(usize, &reqwest::Client, Value)> = vec![
        (0, &staff, json!({"action": "accept"})),
        (
            0,
            &staff,
            json!({"action": "assign", "cadre_id": grid_user.id}),
        ),
        (0, &grid, json!({"action": "answer", "reply": "已修复"})),
        (
            0,
            &staff,
            json!({"action": "rate_by_call", "rating": "basically_satisfied"}),
        ),
        (1, &staff, json!({"action": "accept"})),
        (
            1,
            &staff,
            json!({"action": "assign", "cadre_id": grid_user.id}),
        ),
        (1, &grid, json!({"action": "answer", "reply": "已清运"})),
        (
            2,
            &staff,
            json!({"action": "decline", "reason": "不属于受理范围"}),
        ),
    ];
    for (i, who, body) in steps {
        let (s, b) = post(
            who,
            app.url(&format!("/api/v1/appeals/{}/actions", ids[i])),
            body,
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    // And a case filed ten days ago, never contacted: both its deadlines have passed.
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: crate::support::phoned_appeal(
                    "other",
                    "井盖丢失",
                    now - chrono::Duration::days(10),
                    now - chrono::Duration::days(9),
                    now - chrono::Duration::days(3),
                ),
                submitted_by: "x".into(),
                history: vec![],
            }],
            yongxin_domain::appeal::AppealPolicy::default(),
        )
        .await
        .unwrap();

    // Anyone downloads the list; it names no one.
    let anonymous = app.client();
    let res = anonymous
        .get(app.url("/public/appeals.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(!csv.contains("王五") && !csv.contains("13900000001") && !csv.contains("路灯"));
    assert_eq!(
        csv.lines().count(),
        2 + 5,
        "as_of, the header and five cases"
    );
    let as_of: chrono::DateTime<chrono::Utc> = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();

    // The server's own figures as of the list's instant.
    let today = yongxin_domain::campaign::local_day(now);
    let rows = app
        .store
        .appeal_stats(
            yongxin_store::StatsGroup::Category,
            today - chrono::Duration::days(364),
            today,
            as_of,
        )
        .await
        .unwrap();
    let other = rows.iter().find(|r| r.key == "other").unwrap().counts;
    assert_eq!(
        (
            other.total,
            other.answered,
            other.rated,
            other.resolution_due
        ),
        (5, 2, 1, 3),
        "{other:?}"
    );
    let Ok(python) = std::env::var("YONGXIN_TEST_PYTHON") else {
        eprintln!("skipped the independent rates verifier: YONGXIN_TEST_PYTHON is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cases.csv");
    std::fs::write(&list, &csv).unwrap();
    let server = dir.path().join("stats.json");
    let server_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let c = r.counts;
            json!({"key": r.key, "total": c.total, "contact_due": c.contact_due,
                   "contacted_on_time": c.contacted_on_time, "resolution_due": c.resolution_due,
                   "answered_on_time": c.answered_on_time, "answered": c.answered,
                   "rated": c.rated, "satisfied": c.satisfied})
        })
        .collect();
    std::fs::write(&server, json!({ "rows": server_rows }).to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_rates.py");
    let run = |server: &std::path::Path| {
        std::process::Command::new(&python)
            .arg(script)
            .arg(&list)
            .arg("--compare")
            .arg(server)
            .output()
            .unwrap()
    };
    let out = run(&server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["overall"]["rating_coverage"], 0.5);
    // A server that claimed one more satisfied case is caught.
    let mut inflated = server_rows.clone();
    for r in &mut inflated {
        if r["key"] == "other" {
            r["satisfied"] = json!(r["satisfied"].as_i64().unwrap() + 1);
        }
    }
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, json!({ "rows": inflated }).to_string()).unwrap();
    let out = run(&forged);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("other.satisfied"));
}

async fn bad_intake_is_refused_in_the_users_language_and_changes_nothing(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let before = json(&staff, app.url("/api/v1/appeals")).await["total"].clone();
    let base = json!({"category": "heating", "description": "暖气不热", "answers": {"estate": "和园小区"}, "contact_name": "李四", "contact_phone": "13900001111", "channel": "phone"});
    let cases = [
        (
            json!({"description": "字".repeat(4001)}),
            "不能超过 4000 个字",
        ),
        (json!({"contact_phone": "1390000111"}), "11 位手机号码"),
        (json!({"category": "weather"}), "没有这个诉求分类"),
        (json!({"answers": {}}), "请回答“小区名称”"),
        (
            json!({"answers": {"estate": "和园", "room_temp": "warm"}}),
            "“室内温度（℃）”的回答无效",
        ),
        (json!({"urgency": "panic"}), "urgency"),
        (json!({"description": "   "}), "请填写诉求内容"),
    ];
    for (change, message) in cases {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = post(&staff, app.url("/api/v1/appeals"), body).await;
        assert_eq!(status, 400, "{change}: {err}");
        let text = err["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{change}: {text}");
    }
    let res = staff
        .post(app.url("/api/v1/appeals"))
        .header("accept-language", "en")
        .json(&json!({"category": "weather", "description": "x", "contact_name": "a", "contact_phone": "13900001111"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("There is no appeal category"),
        "{err}"
    );
    assert_eq!(
        json(&staff, app.url("/api/v1/appeals")).await["total"],
        before
    );
    let (status, ok) = post(&staff, app.url("/api/v1/appeals"), base).await;
    assert_eq!((status, ok["channel"].as_str().unwrap()), (201, "phone"));
}

async fn roles_and_states_limit_who_may_act(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let (_, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "water", "description": "停水", "answers": {"estate": "东坞村"}}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
    let grid = app.sign_in_as(Role::GridWorker).await;
    let (status, _) = post(&grid, url.clone(), json!({"action": "accept"})).await;
    assert_eq!(status, 403, "a grid worker does not dispatch");
    let (status, _) = post(&resident, url.clone(), json!({"action": "accept"})).await;
    assert_eq!(status, 403);
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let (status, err) = post(
        &staff,
        url.clone(),
        json!({"action": "answer", "reply": "好"}),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("已提交"));
    let (status, err) = post(&staff, url.clone(), json!({"action": "decline"})).await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("理由"),
        "{err}"
    );
    let (status, _) = post(&staff, url.clone(), json!({"action": "fly"})).await;
    assert_eq!(status, 400);
    let (status, declined) = post(
        &staff,
        url.clone(),
        json!({"action": "decline", "reason": "已由供水公司处理"}),
    )
    .await;
    assert_eq!(
        (status, declined["status"].as_str().unwrap()),
        (200, "declined")
    );
    // Another resident's account sees nothing of it.
    let leader = app.sign_in_as(Role::Leader).await;
    assert_eq!(
        crate::support::status(&leader, app.url(&format!("/api/v1/appeals/{id}"))).await,
        200
    );
    let village = app.sign_in_as(Role::VillageOfficer).await;
    let list = json(&village, app.url("/api/v1/appeals")).await;
    assert_eq!(
        list["total"], 1,
        "the resident's household is in the officer's village"
    );
    let anonymous = reqwest::Client::new();
    assert_eq!(
        crate::support::status(&anonymous, app.url("/api/v1/appeals")).await,
        401
    );
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[start..start + 64].to_owned()
}

async fn an_anonymous_resident_files_on_the_form_and_tracks_the_case(app: TestApp) {
    let visitor = app.client();
    let form = crate::support::page(&visitor, app.url("/appeals/new?category=noise")).await;
    assert!(
        form.contains("噪音来源"),
        "the category's questions are on the form"
    );
    let csrf = csrf_of(&form);
    let fields = |phone: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("category", "noise".into()),
            ("description", "工地夜间施工".into()),
            ("answer.source", "construction".into()),
            ("contact_name", "赵六".into()),
            ("contact_phone", phone.into()),
        ]
    };
    let res = visitor
        .post(app.url("/appeals/new"))
        .form(&fields("1380000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("请填写 11 位手机号码") && html.contains("工地夜间施工"),
        "the form comes back with the error and the text"
    );
    assert_eq!(app.store.search_appeals(&all()).await.unwrap().total, 0);

    let res = visitor
        .post(app.url("/appeals/new"))
        .form(&fields("13800001234"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let stored = app
        .store
        .search_appeals(&all())
        .await
        .unwrap()
        .appeals
        .remove(0);
    assert!(html.contains(&stored.number), "the number is shown");
    assert_eq!(stored.channel.code(), "anonymous");

    let wrong = visitor
        .get(app.url(&format!("/track?number={}&last4=9999", stored.number)))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let page = crate::support::page(
        &visitor,
        app.url(&format!("/track?number={}&last4=1234", stored.number)),
    )
    .await;
    assert!(page.contains("已提交") && page.contains(&stored.title));
}

fn all() -> yongxin_store::AppealQuery {
    yongxin_store::AppealQuery::within(yongxin_store::AppealScope::All, 10)
}

async fn the_case_page_offers_only_the_allowed_actions(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let (_, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "roads", "description": "路灯不亮", "answers": {"road": "前街"}}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let page = crate::support::page(&staff, app.url(&format!("/appeals/{id}"))).await;
    assert!(page.contains("value=\"accept\"") && page.contains("value=\"decline\""));
    assert!(!page.contains("value=\"answer\""));
    let csrf = csrf_of(&page);
    let res = staff
        .post(app.url(&format!("/appeals/{id}/action")))
        .form(&[("csrf", csrf.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = crate::support::page(&staff, app.url(&format!("/appeals/{id}"))).await;
    assert!(page.contains("已受理") && page.contains("value=\"assign\""));
    // Dispatching offers the catalogue's departments, and the cadres by village with the grid
    // worker of the case's place chosen already.
    assert!(page.contains("<select id=\"department-assign\""));
    assert!(page.contains("<optgroup label=\"街道科室\""));
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    assert!(
        page.contains(&format!("<option value=\"{}\" selected>", grid_user.id)),
        "the grid worker of the resident's grid is pre-selected"
    );
    let (s, b) = post(
        &staff,
        app.url(&format!("/api/v1/appeals/{id}/actions")),
        json!({"action": "assign", "department": "不存在的科室"}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("department"));
    let res = staff
        .post(app.url(&format!("/appeals/{id}/action")))
        .form(&[
            ("csrf", "forged"),
            ("action", "assign"),
            ("department", "城管"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mine = crate::support::page(&resident, app.url(&format!("/appeals/{id}"))).await;
    assert!(
        !mine.contains("value=\"accept\""),
        "a resident has nothing to do yet"
    );
    let list = crate::support::page(&resident, app.url("/appeals")).await;
    assert!(list.contains(&a["number"].as_str().unwrap().to_owned()));
}

async fn administrators_load_calendar_years_and_bad_files_change_nothing(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let page = crate::support::page(&admin, app.url("/admin/calendar")).await;
    assert!(page.contains("2025") && page.contains("2026") && !page.contains("<td>2027</td>"));
    let csrf = csrf_of(&page);
    let res = admin
        .post(app.url("/admin/calendar"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("source", "year = 2027\nholidays = [\"02-30\"]"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("“02-30”不是 2027 年的有效日期"), "{html}");
    assert!(app.store.calendar_years().await.unwrap().is_empty());
    let res = admin
        .post(app.url("/admin/calendar"))
        .form(&[
            ("csrf", csrf.as_str()),
            (
                "source",
                "year = 2027\nholidays = [\"01-01\", \"02-16..02-22\"]\nworkdays = [\"02-07\"]",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = crate::support::page(&admin, app.url("/admin/calendar")).await;
    assert!(
        page.contains("<td>2027</td><td>8</td><td>02-07</td><td>管理员导入</td>"),
        "{page}"
    );
    assert_eq!(app.store.calendar_years().await.unwrap().len(), 1);
}

async fn the_three_rates_are_served_with_their_definitions(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    for category in ["noise", "noise", "water"] {
        let answers = if category == "noise" {
            json!({"source": "shop"})
        } else {
            json!({"estate": "和园"})
        };
        let (status, _) = post(
            &resident,
            app.url("/api/v1/appeals"),
            json!({"category": category, "description": "测试", "answers": answers}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let leader = app.sign_in_as(Role::Leader).await;
    let stats = json(&leader, app.url("/api/v1/appeals/stats?group_by=category")).await;
    let rows = stats["rows"].as_array().unwrap();
    let noise = rows.iter().find(|r| r["key"] == "noise").unwrap();
    assert_eq!(
        (noise["total"].as_i64(), noise["label"].as_str()),
        (Some(2), Some("噪音扰民"))
    );
    assert!(noise["satisfaction_rate"].is_null(), "no ratings yet");
    assert_eq!(stats["overall"]["total"], 3);
    assert!(stats["definitions"]["response_rate"]
        .as_str()
        .unwrap()
        .contains("联系时限"));
    let (status, _) = post(
        &leader,
        app.url("/api/v1/appeals/stats?group_by=weather"),
        json!({}),
    )
    .await;
    assert_eq!(status, 405, "stats are read with GET");
    assert_eq!(
        crate::support::status(&leader, app.url("/api/v1/appeals/stats?group_by=weather")).await,
        400
    );
    assert_eq!(
        crate::support::status(&leader, app.url("/api/v1/appeals/stats?from=2026-13-01")).await,
        400
    );
    let page = crate::support::page(&leader, app.url("/appeals/stats?group_by=category")).await;
    assert!(
        page.contains("噪音扰民") && page.contains("满意率 = "),
        "the page prints the definitions"
    );
    // The resident's household is in a grid: the cases are counted under it, named with its village.
    let by_grid = json(&leader, app.url("/api/v1/appeals/stats?group_by=grid")).await;
    let rows = by_grid["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{by_grid}");
    assert_eq!(rows[0]["total"], 3);
    let grid_id: i64 = rows[0]["key"].as_str().unwrap().parse().unwrap();
    let grid = app
        .store
        .grids(None)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.id == grid_id)
        .unwrap();
    let label = rows[0]["label"].as_str().unwrap();
    assert!(
        label.starts_with(&grid.village_name) && label.ends_with(&grid.name),
        "{label} names {} and {}",
        grid.village_name,
        grid.name
    );
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let before = json(
        &leader,
        app.url(&format!(
            "/api/v1/appeals/stats?group_by=grid&from={}&to={yesterday}",
            yesterday - chrono::Duration::days(30)
        )),
    )
    .await;
    assert_eq!(
        before["overall"]["total"], 0,
        "the period ends before they were filed"
    );
}

async fn notices_leave_through_the_outbox_and_unrated_answers_close(app: TestApp) {
    use yongxin_web::background::{auto_close, drain_outbox};
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let resident = app.sign_in_as(Role::Resident).await;
    let (_, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "gas", "description": "燃气表故障"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let grid_id = app.user_id("grid").await;
    post(&staff, url.clone(), json!({"action": "accept"})).await;
    post(
        &staff,
        url.clone(),
        json!({"action": "assign", "cadre_id": grid_id}),
    )
    .await;

    let gateway = RecordingGateway::default();
    gateway
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let now = chrono::Utc::now();
    let report = drain_outbox(&state, &gateway, now).await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 2));
    assert_eq!(
        app.store.pending_messages().await.unwrap(),
        2,
        "nothing is lost while the gateway is down"
    );
    gateway
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        drain_outbox(&state, &gateway, now).await.unwrap().sent,
        0,
        "not before the backoff"
    );
    let report = drain_outbox(&state, &gateway, now + chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!((report.sent, report.failed), (2, 0));
    assert_eq!(
        drain_outbox(&state, &gateway, now + chrono::Duration::minutes(10))
            .await
            .unwrap()
            .sent,
        0,
        "none is sent twice"
    );
    let phone = app
        .store
        .appeal(AppealId(id))
        .await
        .unwrap()
        .0
        .contact_phone;
    {
        let sent = gateway.sent.lock().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].recipient, format!("sms:{phone}"));
        assert!(
            sent[0].recipient.starts_with("sms:1")
                && sent[0].body.contains("已受理")
                && sent[0].body.contains(a["number"].as_str().unwrap())
        );
        assert_eq!(sent[1].recipient, format!("user:{grid_id}"));
        assert!(sent[1].body.contains("新派单"));
    }

    let grid = app.sign_in_as(Role::GridWorker).await;
    post(
        &grid,
        url.clone(),
        json!({"action": "answer", "reply": "已更换燃气表"}),
    )
    .await;
    assert_eq!(
        auto_close(&state, chrono::Utc::now() + chrono::Duration::days(3), 7)
            .await
            .unwrap(),
        0,
        "too early"
    );
    assert_eq!(
        auto_close(&state, chrono::Utc::now() + chrono::Duration::days(8), 7)
            .await
            .unwrap(),
        1
    );
    let closed = json(&staff, app.url(&format!("/api/v1/appeals/{id}"))).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(
        closed["events"].as_array().unwrap().last().unwrap()["actor"],
        "system:auto-close"
    );
    let report = drain_outbox(&state, &gateway, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        report.sent, 2,
        "the answer and the closing reach the resident"
    );
}

async fn overdue_cases_reach_the_supervision_list_and_the_export(app: TestApp) {
    let now = chrono::Utc::now();
    let mut late = yongxin_store::NewAppeal {
        description: "井盖丢失".into(),
        answers: [("road".to_owned(), vec!["前街".to_owned()])]
            .into_iter()
            .collect(),
        ..crate::support::phoned_appeal(
            "roads",
            "井盖丢失十天",
            now - chrono::Duration::days(10),
            now - chrono::Duration::days(9),
            now - chrono::Duration::days(3),
        )
    };
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: late.clone(),
                submitted_by: "x".into(),
                history: vec![],
            }],
            Default::default(),
        )
        .await
        .unwrap();
    late.title = "新近的诉求".into();
    late.created_at = now;
    late.contact_due = now + chrono::Duration::days(1);
    late.resolution_due = now + chrono::Duration::days(7);
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: late,
                submitted_by: "x".into(),
                history: vec![],
            }],
            Default::default(),
        )
        .await
        .unwrap();

    let leader = app.sign_in_as(Role::Leader).await;
    let page = crate::support::page(&leader, app.url("/supervision")).await;
    assert!(
        page.contains("红牌·已超期 1") && page.contains("黄牌·临期 0"),
        "a case filed just now is not yet near its deadline: {page}"
    );
    let group = page.find("城市管理办公室 · （未指定） (1)").unwrap();
    let late_at = page.find("井盖丢失十天").unwrap();
    assert!(group < late_at, "under its department and cadre");
    assert!(!page.contains("新近的诉求"));
    let yellow = crate::support::page(&leader, app.url("/supervision?card=yellow")).await;
    assert!(!yellow.contains("井盖丢失十天"));
    let theirs = crate::support::page(
        &leader,
        app.url("/supervision?department=%E5%9F%8E%E5%B8%82%E7%AE%A1%E7%90%86%E5%8A%9E%E5%85%AC%E5%AE%A4&cadre=-"),
    )
    .await;
    assert!(theirs.contains("井盖丢失十天"));
    let csv = leader
        .get(app.url("/supervision?card=red&format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains("井盖丢失十天") && csv.contains("联系时限"),
        "{csv}"
    );
    let res = leader
        .get(app.url("/supervision?card=blue"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let overdue = json(&leader, app.url("/api/v1/appeals?overdue=true")).await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["appeals"][0]["title"], "井盖丢失十天");
    assert_eq!(json(&leader, app.url("/api/v1/appeals")).await["total"], 2);
    let res = leader
        .get(app.url("/appeals/export.xlsx?overdue=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"));
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 2, "header and the one overdue case");
    assert_eq!(rows[0][0], "案件编号");
    assert_eq!(rows[1][1], "井盖丢失十天");
}

async fn leaders_issue_supervision_notices_that_handlers_answer(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let (_, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "gas", "description": "燃气泄漏隐患"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let grid_id = app.user_id("grid").await;
    let actions = app.url(&format!("/api/v1/appeals/{id}/actions"));
    post(&staff, actions.clone(), json!({"action": "accept"})).await;
    post(
        &staff,
        actions,
        json!({"action": "assign", "cadre_id": grid_id}),
    )
    .await;

    let leader = app.sign_in_as(Role::Leader).await;
    let page = crate::support::page(&leader, app.url(&format!("/appeals/{id}"))).await;
    let csrf = csrf_of(&page);
    assert!(page.contains("发出督办单"));
    let res = leader
        .post(app.url(&format!("/appeals/{id}/supervise")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("text", "请两日内消除隐患"),
            ("days", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let sup = crate::support::page(&leader, app.url("/supervision")).await;
    assert!(
        sup.contains("待答复的督办单 (1)") && sup.contains("请两日内消除隐患"),
        "{sup}"
    );

    let res = resident
        .post(app.url(&format!("/appeals/{id}/supervise")))
        .form(&[("csrf", csrf.as_str()), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "residents do not supervise"
    );
    let notice = app
        .store
        .supervision_notices(AppealId(id))
        .await
        .unwrap()
        .remove(0);
    let grid = app.sign_in_as(Role::GridWorker).await;
    let page = crate::support::page(&grid, app.url(&format!("/appeals/{id}"))).await;
    assert!(page.contains(&format!("/supervision/{}/answer", notice.id)));
    let grid_csrf = csrf_of(&page);
    let res = grid
        .post(app.url(&format!("/supervision/{}/answer", notice.id)))
        .form(&[
            ("csrf", grid_csrf.as_str()),
            ("answer", "已更换阀门，隐患消除"),
            ("appeal", id.to_string().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let again = grid
        .post(app.url(&format!("/supervision/{}/answer", notice.id)))
        .form(&[
            ("csrf", grid_csrf.as_str()),
            ("answer", "再答"),
            ("appeal", id.to_string().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let sup = crate::support::page(&leader, app.url("/supervision")).await;
    assert!(!sup.contains("待答复的督办单"), "none left to answer");
    let page = crate::support::page(&leader, app.url(&format!("/appeals/{id}"))).await;
    assert!(page.contains("已更换阀门，隐患消除"));
}

async fn rising_categories_and_repeats_are_offered_for_merging(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let mut ids = Vec::new();
    for text in ["燃气味道很大", "燃气味道还是很大", "再次反映燃气味道"] {
        let (_, a) = post(
            &resident,
            app.url("/api/v1/appeals"),
            json!({"category": "gas", "description": text, "address": "前街1号"}),
        )
        .await;
        ids.push(a["id"].as_i64().unwrap());
    }
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let page = crate::support::page(&staff, app.url("/appeals/hot")).await;
    let rising = page.find("上升的分类").unwrap();
    let villages = page.find("上升的村/社区").unwrap();
    let gas = page.find("燃气").unwrap();
    assert!(
        rising < gas && gas < villages,
        "gas is rising: 3 this week, none before"
    );
    assert!(page.contains("同一户") && page.contains("同一地点"));
    assert!(page.contains(&format!("action=\"/appeals/{}/action\"", ids[1])));
    let csrf = csrf_of(&page);
    let res = staff
        .post(app.url(&format!("/appeals/{}/action", ids[1])))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "merge"),
            ("into", ids[0].to_string().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let merged = json(&staff, app.url(&format!("/api/v1/appeals/{}", ids[1]))).await;
    assert_eq!(
        (merged["status"].as_str(), merged["merged_into"].as_i64()),
        (Some("merged"), Some(ids[0]))
    );
    let page = crate::support::page(&staff, app.url("/appeals/hot")).await;
    assert!(
        !page.contains(&format!("/appeals/{}/action", ids[1])),
        "a merged case is no longer offered"
    );
}

async fn the_public_list_names_no_one(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let (status, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "roads", "description": "王大妈家门口路灯坏了", "title": "王大妈门口路灯", "address": "前街88号", "answers": {"road": "前街"}}),
    )
    .await;
    assert_eq!(status, 201);
    let visitor = app.client();
    let page = crate::support::page(&visitor, app.url("/public/appeals")).await;
    assert!(
        page.contains("道路交通") && page.contains("已提交"),
        "the case is listed by category and status"
    );
    assert!(
        page.contains("响应率 = "),
        "with the definitions of the rates"
    );
    for private in [
        "王大妈",
        "前街88号",
        a["contact_name"].as_str().unwrap(),
        &a["contact_phone"].as_str().unwrap()[7..],
    ] {
        assert!(!page.contains(private), "the public list shows {private}");
    }
}

async fn residents_hear_by_sms_through_the_http_gateway(app: TestApp) {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Inbox = Arc<Mutex<(u32, Vec<HashMap<String, String>>)>>;
    // A real HTTP gateway on loopback that refuses the first message, then takes everything.
    let inbox: Inbox = Arc::default();
    async fn receive(
        State(inbox): State<Inbox>,
        Query(q): Query<HashMap<String, String>>,
    ) -> axum::http::StatusCode {
        let mut inbox = inbox.lock().unwrap();
        inbox.0 += 1;
        if inbox.0 == 1 {
            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
        inbox.1.push(q);
        axum::http::StatusCode::OK
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!(
        "http://{}/send?to={{phone}}&msg={{text}}&ref={{id}}",
        listener.local_addr().unwrap()
    );
    let app_router = axum::Router::new()
        .route("/send", axum::routing::get(receive))
        .with_state(inbox.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app_router).await;
    });

    let sender = yongxin_web::background::SmsGateway::new(&gateway_url).unwrap();
    assert!(yongxin_web::background::SmsGateway::new("ftp://x/{phone}{text}").is_err());
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let resident = app.sign_in_as(Role::Resident).await;
    let (_, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "power", "description": "停电"}),
    )
    .await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    post(
        &staff,
        app.url(&format!("/api/v1/appeals/{}/actions", a["id"])),
        json!({"action": "accept"}),
    )
    .await;
    let now = chrono::Utc::now();
    let first = yongxin_web::background::drain_outbox(&state, &sender, now)
        .await
        .unwrap();
    assert_eq!((first.sent, first.failed), (0, 1), "the gateway refused");
    let second =
        yongxin_web::background::drain_outbox(&state, &sender, now + chrono::Duration::minutes(1))
            .await
            .unwrap();
    assert_eq!(second.sent, 1);
    let phone = app
        .store
        .appeal(AppealId(a["id"].as_i64().unwrap()))
        .await
        .unwrap()
        .0
        .contact_phone;
    let inbox = inbox.lock().unwrap().1.clone();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["to"], phone);
    assert!(
        inbox[0]["msg"].contains("已受理")
            && inbox[0]["msg"].contains(a["number"].as_str().unwrap())
    );
    assert!(inbox[0]["ref"].parse::<i64>().is_ok());
}

async fn administrators_edit_the_catalogue(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let page = crate::support::page(&admin, app.url("/admin/categories?code=noise")).await;
    assert!(
        page.contains("name_zh = &#34;噪音扰民&#34;"),
        "the definition is shown for editing"
    );
    let csrf = csrf_of(&page);
    let bad = admin
        .post(app.url("/admin/categories"))
        .form(&[("csrf", csrf.as_str()), ("source", "code = \"Bad!\"\ngroup = \"x\"\nname_zh = \"x\"\nname_en = \"x\"\ndescription = \"\"\ndepartment = \"x\"\nnormal = { contact_hours = 24, resolution_days = 5 }\nurgent = { contact_hours = 2, resolution_days = 1 }\n"), ("active", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("编码只能由小写字母"));
    let before = app.store.categories().await.unwrap().len();
    let new = "code = \"snow\"\ngroup = \"城市管理\"\nname_zh = \"除雪\"\nname_en = \"Snow clearing\"\ndescription = \"\"\ndepartment = \"城市管理办公室\"\nnormal = { contact_hours = 12, resolution_days = 2 }\nurgent = { contact_hours = 1, resolution_days = 1 }\n";
    let res = admin
        .post(app.url("/admin/categories"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("source", new),
            ("active", "1"),
            ("position", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.categories().await.unwrap().len(), before + 1);
    let form = crate::support::page(&admin, app.url("/appeals/new")).await;
    assert!(
        form.contains("除雪"),
        "the new category can be chosen at once on this node"
    );
    let resident = app.sign_in_as(Role::Resident).await;
    let (status, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "snow", "description": "路面结冰"}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
}

async fn handlers_hear_of_yellow_and_red_cards_once(app: TestApp) {
    use chrono::TimeZone;
    use yongxin_domain::appeal::{AppealAction, AppealPolicy};
    use yongxin_web::background::{announce_cards, drain_outbox};
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let grid_id = app.user_id("grid").await;
    // Wednesday 25 November 2026, a working day: contact due at 10:00, the answer on 2 December.
    let at = |d: u32, h: u32| {
        yongxin_domain::time::shanghai()
            .with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let appeal = |title: &str| yongxin_store::NewAppeal {
        department: "供电所".into(),
        ..crate::support::phoned_appeal(
            "power",
            title,
            at(24, 10),
            at(25, 10),
            yongxin_domain::time::shanghai()
                .with_ymd_and_hms(2026, 12, 3, 0, 0, 0)
                .unwrap()
                .with_timezone(&chrono::Utc),
        )
    };
    let assigned = vec![
        (at(24, 11), "d".to_owned(), AppealAction::Accept),
        (
            at(24, 12),
            "d".to_owned(),
            AppealAction::Assign {
                department: None,
                cadre: Some(grid_id),
            },
        ),
    ];
    let imported = |title: &str, history: Vec<_>| yongxin_store::ImportedAppeal {
        appeal: appeal(title),
        submitted_by: "x".into(),
        history,
    };
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![
                imported("停电待联系", assigned.clone()),
                imported(
                    "未派单",
                    vec![(at(24, 11), "d".to_owned(), AppealAction::Accept)],
                ),
            ],
            AppealPolicy::default(),
        )
        .await
        .unwrap();
    let before = app.store.pending_messages().await.unwrap();

    // 08:00 on the day the contact is due: a yellow card, once, for the case with a cadre.
    assert_eq!(announce_cards(&state, at(25, 8)).await.unwrap(), 1);
    assert_eq!(announce_cards(&state, at(25, 9)).await.unwrap(), 0, "once");
    // 11:00: the contact deadline has passed: a red card, once.
    assert_eq!(announce_cards(&state, at(25, 11)).await.unwrap(), 1);
    assert_eq!(announce_cards(&state, at(25, 12)).await.unwrap(), 0, "once");
    assert_eq!(app.store.pending_messages().await.unwrap(), before + 2);

    #[derive(Default)]
    struct Inbox(std::sync::Mutex<Vec<yongxin_web::background::Delivery>>);
    #[async_trait::async_trait]
    impl yongxin_web::background::MessageSender for Inbox {
        async fn send(&self, m: &yongxin_web::background::Delivery) -> Result<(), String> {
            self.0.lock().unwrap().push(m.clone());
            Ok(())
        }
    }
    let inbox = Inbox::default();
    drain_outbox(&state, &inbox, chrono::Utc::now())
        .await
        .unwrap();
    let sent = inbox.0.into_inner().unwrap();
    let cards: Vec<&str> = sent
        .iter()
        .filter(|m| m.recipient == format!("user:{grid_id}"))
        .map(|m| m.body.as_str())
        .filter(|b| b.contains("停电待联系"))
        .collect();
    assert_eq!(cards.len(), 2, "{sent:?}");
    assert!(cards[0].starts_with("黄牌预警") && cards[1].starts_with("红牌"));
    let audit = app.store.recent_audit_entries(10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "appeal.card" && e.summary == "red contact"),
        "each card is in the record"
    );
}
