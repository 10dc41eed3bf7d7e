//! Notices (公告, 公示) through HTTP: publishing and correcting with history, who sees what and
//! when, objections that become linked appeals, informed households, attachments, the feed.

use chrono::{Duration, Utc};
use reqwest::Client;
use reqwest::StatusCode;
use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::HouseholdId;

use crate::on_each_backend;
use crate::support::{json, page, status, TestApp};

on_each_backend!(
    a_project_is_created_and_its_notices_reach_its_villages,
    a_notice_is_published_corrected_and_keeps_its_history,
    objections_to_a_publication_become_linked_appeals,
    households_are_informed_by_reading_or_in_person,
    attachments_are_checked_by_content_and_served
);

/// Posts the notice form; answers the response.
async fn publish(app: &TestApp, client: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = app.csrf(client).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    client
        .post(app.url("/notices"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn id_from_location(res: &reqwest::Response) -> i64 {
    let location = res.headers()["location"].to_str().unwrap();
    location.trim_start_matches("/notices/").parse().unwrap()
}

async fn notice_total(app: &TestApp) -> i64 {
    let staff = app.sign_in_as(Role::Leader).await;
    json(&staff, app.url("/api/v1/notices")).await["total"]
        .as_i64()
        .unwrap()
}

/// A notice stored directly, for times a form cannot give (a window already closed).
async fn stored_notice(
    app: &TestApp,
    kind: NoticeKind,
    publish_ago: Duration,
    until_ago: Option<Duration>,
) -> i64 {
    let now = Utc::now();
    let draft = NoticeDraft {
        kind,
        scope: ScopeKind::Subdistrict,
        village_ids: vec![],
        project_id: None,
        title: "关于征收补偿结果的公示".into(),
        body: "各户补偿结果见附件。".into(),
        publish_at: now - publish_ago,
        end_at: None,
        objections_until: until_ago.map(|d| now - d),
    }
    .checked()
    .unwrap();
    app.store
        .create_notice(&Actor::user("staff"), draft)
        .await
        .unwrap()
        .id
}

async fn a_notice_is_published_corrected_and_keeps_its_history(app: TestApp) {
    let leader = app.sign_in_as(Role::Leader).await;
    let anonymous = app.client();
    let village = app.store.villages().await.unwrap()[0].clone();
    let village_id = village.id.to_string();
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "villages"),
            ("villages", &village_id),
            ("title", "四村整合项目安置政策"),
            (
                "body",
                "第一条 安置面积每人40平方米。\n\n第二条 过渡费每月每人300元。",
            ),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = id_from_location(&res);

    // Public without sign-in: the list, the page, the API.
    assert!(page(&anonymous, app.url("/notices"))
        .await
        .contains("四村整合项目安置政策"));
    let html = page(&anonymous, app.url(&format!("/notices/{id}"))).await;
    assert!(html.contains("安置面积每人40平方米"), "{html}");
    assert!(html.contains(&village.name));
    let one = json(&anonymous, app.url(&format!("/api/v1/notices/{id}"))).await;
    assert_eq!(one["kind"], "policy");
    assert_eq!(one["scope"], "villages");
    assert_eq!(one["village_ids"][0], village.id);
    assert_eq!(one["version"], 1);
    let in_village = json(
        &anonymous,
        app.url(&format!("/api/v1/notices?village={village_id}")),
    )
    .await;
    assert_eq!(in_village["total"], 1);
    let other = app.store.villages().await.unwrap()[1].id;
    let elsewhere = json(
        &anonymous,
        app.url(&format!("/api/v1/notices?village={other}")),
    )
    .await;
    assert_eq!(
        elsewhere["total"], 0,
        "a village's notice is not another village's"
    );

    // Bad drafts: refused with the reason, nothing stored.
    let before = notice_total(&app).await;
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "subdistrict"),
            ("title", " "),
            ("body", "正文"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("请填写标题"));
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "progress"),
            ("scope", "subdistrict"),
            ("title", "进度"),
            ("body", "正文"),
            ("publish_at", "2026-12-10T09:00"),
            ("end_at", "2026-12-01T09:00"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("截止时间必须晚于发布时间"));
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "villages"),
            ("title", "无村"),
            ("body", "正文"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "subdistrict"),
            ("title", "政策"),
            ("body", "正文"),
            ("objections_until", "2030-01-01T00:00"),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "only a 公示 takes objections"
    );
    assert_eq!(notice_total(&app).await, before);

    // Only publishers publish, and only with the form's token.
    let resident = app.sign_in_as(Role::Resident).await;
    assert_eq!(
        publish(
            &app,
            &resident,
            &[
                ("kind", "policy"),
                ("scope", "subdistrict"),
                ("title", "t"),
                ("body", "b")
            ]
        )
        .await
        .status(),
        403
    );
    let grid = app.sign_in_as(Role::GridWorker).await;
    assert_eq!(
        publish(
            &app,
            &grid,
            &[
                ("kind", "policy"),
                ("scope", "subdistrict"),
                ("title", "t"),
                ("body", "b")
            ]
        )
        .await
        .status(),
        403
    );
    let forged = leader
        .post(app.url("/notices"))
        .form(&[
            ("csrf", "x".repeat(64).as_str()),
            ("kind", "policy"),
            ("scope", "subdistrict"),
            ("title", "t"),
            ("body", "b"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(notice_total(&app).await, before);

    // A correction is a new version; the old text stays, with what changed.
    let csrf = app.csrf(&leader).await;
    let correct = |title: &'static str, reason: &'static str| {
        let (leader, csrf, url) = (
            leader.clone(),
            csrf.clone(),
            app.url(&format!("/notices/{id}/correct")),
        );
        async move {
            leader
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("title", title),
                    (
                        "body",
                        "第一条 安置面积每人45平方米。\n\n第二条 过渡费每月每人300元。",
                    ),
                    ("reason", reason),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        correct("四村整合项目安置政策（更正）", " ").await.status(),
        400,
        "a correction needs its reason"
    );
    assert_eq!(
        correct("四村整合项目安置政策（更正）", "面积笔误")
            .await
            .status(),
        303
    );
    let one = json(&anonymous, app.url(&format!("/api/v1/notices/{id}"))).await;
    assert_eq!(one["version"], 2);
    assert!(one["body"].as_str().unwrap().contains("45平方米"));
    let history = page(&anonymous, app.url(&format!("/notices/{id}/history"))).await;
    assert!(history.contains("面积笔误"));
    assert!(
        history.contains("<span class=\"d-removed\">- 第一条 安置面积每人40平方米。</span>"),
        "{history}"
    );
    assert!(history.contains("<span class=\"d-added\">+ 第一条 安置面积每人45平方米。</span>"));
    assert!(history.contains("<del>四村整合项目安置政策</del>"));
    assert_eq!(app.store.notice_versions(id).await.unwrap().len(), 2);

    // A scheduled notice is for staff until its time; the feed has only what is public.
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "progress"),
            ("scope", "subdistrict"),
            ("title", "下周公布的进度"),
            ("body", "正文"),
            ("publish_at", "2099-01-01T09:00"),
        ],
    )
    .await;
    let scheduled = id_from_location(&res);
    assert_eq!(
        status(&anonymous, app.url(&format!("/notices/{scheduled}"))).await,
        404
    );
    assert_eq!(
        status(&anonymous, app.url(&format!("/api/v1/notices/{scheduled}"))).await,
        404
    );
    assert!(!page(&anonymous, app.url("/notices"))
        .await
        .contains("下周公布的进度"));
    assert!(page(&leader, app.url("/notices"))
        .await
        .contains("下周公布的进度"));
    let feed = anonymous
        .get(app.url("/notices.atom"))
        .send()
        .await
        .unwrap();
    assert!(feed.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let feed = feed.text().await.unwrap();
    assert!(
        feed.contains("<title>四村整合项目安置政策（更正）</title>"),
        "{feed}"
    );
    assert!(!feed.contains("下周公布的进度"));
    let elsewhere = page(
        &anonymous,
        app.url(&format!("/notices.atom?village={other}")),
    )
    .await;
    assert!(!elsewhere.contains("四村整合项目安置政策"));
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

async fn objections_to_a_publication_become_linked_appeals(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = publish(
        &app,
        &staff,
        &[
            ("kind", "publication"),
            ("scope", "subdistrict"),
            ("title", "补偿结果公示"),
            ("body", "张某 120平方米"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = id_from_location(&res);
    let notice = app.store.notice(id).await.unwrap().unwrap();
    let window = notice.objections_until.unwrap() - notice.publish_at;
    assert_eq!(window, Duration::days(7), "seven days by default");

    // A resident objects from the page.
    let resident = app.sign_in_as(Role::Resident).await;
    let html = page(&resident, app.url(&format!("/notices/{id}"))).await;
    assert!(html.contains("提出异议"));
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url(&format!("/notices/{id}/objections")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "我家实际面积是130平方米，测量有误。"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("异议已登记为诉求"));
    let objections = app.store.objections(id).await.unwrap();
    assert_eq!(objections.len(), 1);
    let appeal = &objections[0];
    let (own, other) = app.household_ids().await;
    assert_eq!(appeal.household_id, Some(own));
    assert_eq!(
        appeal.category,
        yongxin_domain::catalogue::OBJECTION_CATEGORY
    );
    assert!(appeal.title.contains("补偿结果公示"));
    // Linked both ways: the case names the notice, the notice counts and (for staff) lists it.
    let case_page = page(&staff, app.url(&format!("/appeals/{}", appeal.id))).await;
    assert!(
        case_page.contains(&format!("href=\"/notices/{id}\"")),
        "{case_page}"
    );
    let notice_page = page(&staff, app.url(&format!("/notices/{id}"))).await;
    assert!(notice_page.contains("已提出 1 件，已答复 0 件"));
    assert!(notice_page.contains(&appeal.number));
    // Answered at the appeals desk, it counts as answered on the notice.
    use yongxin_domain::appeal::{AppealAction, AppealPolicy};
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: Some("党政办公室".into()),
            cadre: None,
        },
        AppealAction::Contact,
        AppealAction::Answer {
            reply: "经复核，面积按130平方米登记。".into(),
        },
    ] {
        app.store
            .act_on_appeal(
                &Actor::user("staff"),
                appeal.id,
                action,
                AppealPolicy::default(),
            )
            .await
            .unwrap()
            .unwrap();
    }
    let notice_page = page(&staff, app.url(&format!("/notices/{id}"))).await;
    assert!(
        notice_page.contains("已提出 1 件，已答复 1 件"),
        "{notice_page}"
    );
    // The objection category is not offered for ordinary appeals.
    assert!(!page(&resident, app.url("/appeals/new"))
        .await
        .contains("公示异议"));

    // Staff file on a household's behalf through the API; the household is required.
    let grid = app.sign_in_as(Role::GridWorker).await;
    let url = app.url(&format!("/api/v1/notices/{id}/objections"));
    let res = grid
        .post(&url)
        .json(&serde_json::json!({"reason": "代为反映"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = grid
        .post(&url)
        .json(&serde_json::json!({"reason": "代为反映：面积有误", "household_id": own, "contact_name": "王五", "contact_phone": "13912345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["notice_id"], id);
    let res = grid
        .post(&url)
        .json(&serde_json::json!({"reason": "别的村", "household_id": other, "contact_name": "王五", "contact_phone": "13912345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "a grid worker files only for households of their grid"
    );
    let res = grid
        .post(&url)
        .json(&serde_json::json!({"reason": "电话不对", "household_id": own, "contact_name": "王五", "contact_phone": "123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.objections(id).await.unwrap().len(), 2);
    let one = json(&app.client(), app.url(&format!("/api/v1/notices/{id}"))).await;
    assert_eq!(
        (
            one["objections"].as_i64(),
            one["objections_answered"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(one["objections_open"], true);

    // Not a 公示, or the window closed: refused, nothing filed.
    let policy = stored_notice(&app, NoticeKind::Policy, Duration::days(1), None).await;
    let closed = stored_notice(
        &app,
        NoticeKind::Publication,
        Duration::days(10),
        Some(Duration::days(3)),
    )
    .await;
    let before = app
        .store
        .search_appeals(&yongxin_store::AppealQuery::within(
            yongxin_store::AppealScope::All,
            1,
        ))
        .await
        .unwrap()
        .total;
    for (notice, message) in [
        (policy, "只有结果公示受理异议"),
        (closed, "当前不在异议受理期内"),
    ] {
        let res = resident
            .post(app.url(&format!("/api/v1/notices/{notice}/objections")))
            .json(&serde_json::json!({"reason": "异议"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains(message));
    }
    let res = resident
        .post(&url)
        .json(&serde_json::json!({"reason": "字".repeat(2001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let after = app
        .store
        .search_appeals(&yongxin_store::AppealQuery::within(
            yongxin_store::AppealScope::All,
            1,
        ))
        .await
        .unwrap()
        .total;
    assert_eq!(after, before);
    assert!(!page(&resident, app.url(&format!("/notices/{closed}")))
        .await
        .contains("提出异议"));
    // Anonymous visitors read but do not object.
    assert_eq!(
        app.client()
            .post(&url)
            .json(&serde_json::json!({"reason": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

async fn households_are_informed_by_reading_or_in_person(app: TestApp) {
    let leader = app.sign_in_as(Role::Leader).await;
    let (own, other) = app.household_ids().await;
    let own_detail = app.store.household(own).await.unwrap();
    let village = own_detail.summary.village_id;
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "villages"),
            ("villages", &village.to_string()),
            ("title", "禁烧通知"),
            ("body", "严禁焚烧秸秆。"),
        ],
    )
    .await;
    let id = id_from_location(&res);
    let in_village = app.households_in(village).await;
    let coverage = page(&leader, app.url(&format!("/notices/{id}/coverage"))).await;
    assert!(
        coverage.contains(&format!("已知晓 0 户 / 应告知 {in_village} 户")),
        "{coverage}"
    );

    // A member reading it signed in informs the household, once.
    let resident = app.sign_in_as(Role::Resident).await;
    let html = page(&resident, app.url(&format!("/notices/{id}"))).await;
    assert!(html.contains("本户已于"));
    page(&resident, app.url(&format!("/notices/{id}"))).await;
    let informed = app.store.informed(id, own).await.unwrap().unwrap();
    assert_eq!(informed.by, "resident");
    let coverage = page(&leader, app.url(&format!("/notices/{id}/coverage"))).await;
    assert!(coverage.contains(&format!("已知晓 1 户 / 应告知 {in_village} 户")));

    // The grid worker confirms another household of their grid in person.
    let grid = app.sign_in_as(Role::GridWorker).await;
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let neighbour = app
        .store
        .uninformed_households(
            &app.store.notice(id).await.unwrap().unwrap(),
            None,
            Some(vec![own_detail.summary.grid_id]),
            1,
            50,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.id != own)
        .unwrap();
    let grid_coverage = page(&grid, app.url(&format!("/notices/{id}/coverage"))).await;
    assert!(
        grid_coverage.contains(&neighbour.key),
        "the neighbour is listed as not yet informed"
    );
    let csrf = app.csrf(&grid).await;
    let confirm = |client: Client, household: HouseholdId| {
        let (csrf, url) = (csrf.clone(), app.url(&format!("/notices/{id}/informed")));
        async move {
            client
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("household_id", household.to_string().as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(confirm(grid.clone(), neighbour.id).await, 303);
    let told = app.store.informed(id, neighbour.id).await.unwrap().unwrap();
    assert_eq!(
        (told.how, told.by.as_str()),
        (yongxin_store::InformedHow::Confirmed, "grid")
    );
    assert_eq!(grid_user.username, "grid");
    let grid_coverage = page(&grid, app.url(&format!("/notices/{id}/coverage"))).await;
    assert!(!grid_coverage.contains(&format!("value=\"{}\"", neighbour.id)));
    // Outside the grid worker's grids: refused; outside the notice's villages: refused.
    assert_eq!(confirm(grid.clone(), other).await, 404);
    let leader_csrf = app.csrf(&leader).await;
    let res = leader
        .post(app.url(&format!("/notices/{id}/informed")))
        .form(&[
            ("csrf", leader_csrf.as_str()),
            ("household_id", other.to_string().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(app.store.informed(id, other).await.unwrap().is_none());
    let coverage = page(&leader, app.url(&format!("/notices/{id}/coverage"))).await;
    assert!(coverage.contains(&format!("已知晓 2 户 / 应告知 {in_village} 户")));
    // Coverage is for cadres.
    assert_eq!(
        status(&resident, app.url(&format!("/notices/{id}/coverage"))).await,
        403
    );

    // A notice for another village does not count the resident who reads it.
    let other_village = app.store.household(other).await.unwrap().summary.village_id;
    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "villages"),
            ("villages", &other_village.to_string()),
            ("title", "他村通知"),
            ("body", "正文"),
        ],
    )
    .await;
    let elsewhere = id_from_location(&res);
    assert!(!page(&resident, app.url(&format!("/notices/{elsewhere}")))
        .await
        .contains("本户已于"));
    assert!(app.store.informed(elsewhere, own).await.unwrap().is_none());
}

async fn attachments_are_checked_by_content_and_served(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = publish(
        &app,
        &staff,
        &[
            ("kind", "progress"),
            ("scope", "subdistrict"),
            ("title", "工程进度"),
            ("body", "见附件。"),
        ],
    )
    .await;
    let id = id_from_location(&res);
    let upload = |client: Client, name: &'static str, bytes: Vec<u8>| {
        let url = app.url(&format!("/notices/{id}/attachments"));
        let app = &app;
        async move {
            let csrf = app.csrf(&client).await;
            let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
            client.post(url).multipart(form).send().await.unwrap()
        }
    };
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    assert_eq!(
        upload(staff.clone(), "进度表.PDF", pdf.clone())
            .await
            .status(),
        303
    );
    let res = upload(staff.clone(), "setup.pdf", b"MZ\x90\0 not a pdf".to_vec()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("只接受 PDF"));
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let res = upload(staff.clone(), "big.pdf", big).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("不能超过 20 MB"));
    let resident = app.sign_in_as(Role::Resident).await;
    assert_eq!(
        upload(resident, "x.pdf", pdf.clone()).await.status(),
        StatusCode::FORBIDDEN
    );

    let files = app.store.notice_attachments(id).await.unwrap();
    assert_eq!(files.len(), 1, "only the accepted file is kept");
    assert_eq!(files[0].name, "进度表.pdf");
    let anonymous = app.client();
    let res = anonymous
        .get(app.url(&format!("/notices/{id}/files/{}", files[0].token)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(
        status(&anonymous, app.url(&format!("/notices/{id}/files/nope"))).await,
        404
    );
    let one = json(&anonymous, app.url(&format!("/api/v1/notices/{id}"))).await;
    assert_eq!(one["attachments"][0]["name"], "进度表.pdf");
    assert!(page(&anonymous, app.url(&format!("/notices/{id}")))
        .await
        .contains("进度表.pdf"));
}

async fn a_project_is_created_and_its_notices_reach_its_villages(app: TestApp) {
    let leader = app.sign_in_as(Role::Leader).await;
    let villages = app.store.villages().await.unwrap();
    let (a, b, c) = (
        villages[0].id.to_string(),
        villages[1].id.to_string(),
        villages[2].id,
    );
    let csrf = app.csrf(&leader).await;
    let create = |client: Client, code: &'static str, name: &'static str, with: Vec<String>| {
        let (csrf, url) = (csrf.clone(), app.url("/admin/projects"));
        async move {
            let mut form = vec![
                ("csrf".to_owned(), csrf),
                ("code".to_owned(), code.to_owned()),
                ("name".to_owned(), name.to_owned()),
            ];
            form.extend(with.into_iter().map(|v| ("villages".to_owned(), v)));
            client.post(url).form(&form).send().await.unwrap().status()
        }
    };
    assert_eq!(
        create(
            leader.clone(),
            "two_villages",
            "两村整合项目",
            vec![a.clone(), b.clone()]
        )
        .await,
        303
    );
    assert_eq!(
        create(leader.clone(), "two_villages", "重名项目", vec![a.clone()]).await,
        400,
        "the code is taken"
    );
    assert_eq!(
        create(leader.clone(), "no_villages", "无村项目", vec![]).await,
        400
    );
    assert_eq!(
        create(leader.clone(), "bad code!", "项目", vec![a.clone()]).await,
        400
    );
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    assert_eq!(
        create(staff, "staff_project", "科室项目", vec![a.clone()]).await,
        403
    );
    let projects = app.store.projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    let project = projects[0].id.to_string();
    assert!(page(&leader, app.url("/admin/projects"))
        .await
        .contains("两村整合项目"));

    let res = publish(
        &app,
        &leader,
        &[
            ("kind", "policy"),
            ("scope", "project"),
            ("project", &project),
            ("title", "两村整合项目安置政策"),
            ("body", "正文"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let anonymous = app.client();
    for (village, expected) in [(a.clone(), 1), (b.clone(), 1), (c.to_string(), 0)] {
        let found = json(
            &anonymous,
            app.url(&format!("/api/v1/notices?village={village}")),
        )
        .await;
        assert_eq!(found["total"], expected, "village {village}");
    }
    let feed = page(
        &anonymous,
        app.url(&format!("/notices.atom?project={project}")),
    )
    .await;
    assert!(feed.contains("两村整合项目安置政策"));
}
