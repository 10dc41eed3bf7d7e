//! The resident's everyday path (filing, tracking, rating) as a person walks it: the appeal form
//! keeps everything typed through a change of category and any refusal, in plain words; the
//! confirmation's tracking link opens an empty form, not an error; a number typed with spaces is
//! found; `/track` itself takes a rating, asks why of a dissatisfied one and says what happens
//! next; the resident's home lists cases waiting for their rating; no card label reaches them.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::AppealId;

use crate::on_each_backend;
use crate::support::{page, post_form, RecordingGateway, TestApp};

on_each_backend!(
    the_appeal_form_keeps_everything_typed,
    a_case_is_tracked_and_rated_without_an_account,
    the_answer_message_carries_a_rating_link_good_for_one_rating,
    administrators_read_every_message_masked_and_export_it,
    residents_see_their_cases_waiting_for_a_rating_and_no_cards,
    a_resident_is_never_shown_a_forbidden_link
);

async fn the_appeal_form_keeps_everything_typed(app: TestApp) {
    let visitor = app.client();
    let form = page(&visitor, app.url("/appeals/new?category=roads")).await;
    assert!(
        form.contains("name=\"answer.road\"") && form.contains("pattern=\""),
        "the category's question, and the phone checked in the browser"
    );
    // Changing the category without the script posts the form back: nothing typed is lost.
    let res = post_form(
        &app,
        &visitor,
        "/appeals/new",
        &[
            ("intent", "category"),
            ("category", "other"),
            ("title", "路灯不亮"),
            ("description", "村口三盏路灯一周没亮"),
            ("contact_name", "周八"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let form = res.text().await.unwrap();
    assert!(
        form.contains("村口三盏路灯一周没亮")
            && form.contains("value=\"路灯不亮\"")
            && form.contains("value=\"周八\""),
        "{form}"
    );
    assert!(form.contains("<option value=\"other\" selected>"));
    let before = app.store.audit_head().await.unwrap();
    // A wrong phone: refused in plain words, every field kept, the question's answer too.
    let res = post_form(
        &app,
        &visitor,
        "/appeals/new",
        &[
            ("intent", "submit"),
            ("category", "roads"),
            ("title", "坑洼"),
            ("description", "东坞村主路有个大坑"),
            ("address", "东坞村村委会门口"),
            ("answer.road", "东坞主路"),
            ("contact_name", "周八"),
            ("contact_phone", "12345"),
            ("contact_email", "zhou@example.cn"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let form = res.text().await.unwrap();
    for kept in [
        "value=\"坑洼\"",
        "东坞村主路有个大坑",
        "value=\"东坞村村委会门口\"",
        "value=\"东坞主路\"",
        "value=\"周八\"",
        "value=\"12345\"",
        "value=\"zhou@example.cn\"",
    ] {
        assert!(form.contains(kept), "{kept} kept: {form}");
    }
    assert!(form.contains("请填写 11 位手机号码"));
    assert!(!form.contains("请求有误"), "no technical prefix");
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        before,
        "nothing stored"
    );
}

/// Files a case anonymously through the form: its number and tracking code.
async fn file_anonymously(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let res = post_form(
        app,
        client,
        "/appeals/new",
        &[
            ("category", "other"),
            ("title", "噪音扰民"),
            ("description", "夜里工地施工"),
            ("contact_name", "吴九"),
            ("contact_phone", "13912345678"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done = res.text().await.unwrap();
    let field = |label: &str| {
        let at = done.find(label).unwrap();
        let rest = &done[at..];
        let start = rest.find("<span class=\"mono\">").unwrap() + 19;
        rest[start..].split('<').next().unwrap().to_owned()
    };
    (field("编号"), field("查询码"))
}

/// Answers a case through the store, as the office would.
async fn answer(app: &TestApp, number: &str) -> AppealId {
    let id = AppealId(
        yongxin_domain::appeal::parse_appeal_number(number)
            .unwrap()
            .1,
    );
    let staff = app.user_id("staff").await;
    let policy = yongxin_web::WebSettings::default().appeal_policy;
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: None,
            cadre: Some(staff),
        },
        AppealAction::Answer {
            reply: "已协调工地夜间停工".into(),
        },
    ] {
        app.store
            .act_on_appeal(&Actor::user("staff"), id, action, policy)
            .await
            .unwrap()
            .unwrap();
    }
    id
}

async fn a_case_is_tracked_and_rated_without_an_account(app: TestApp) {
    let visitor = app.client();
    let (number, code) = file_anonymously(&app, &visitor).await;
    // The confirmation's link opens the form with the number filled in, not "not found".
    let res = visitor
        .get(app.url(&format!("/track?number={number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let form = res.text().await.unwrap();
    assert!(!form.contains("没有找到") && form.contains(&format!("value=\"{number}\"")));
    // Typed with spaces (and full-width digits), it is found.
    let spaced = format!("{} {} {}", &number[..4], &number[4..8], &number[8..]).replace('1', "１");
    let found = visitor
        .get(app.url("/track"))
        .query(&[("number", spaced.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK);
    let found = found.text().await.unwrap();
    assert!(
        found.contains(&number) && !found.contains("name=\"rating\""),
        "not answered yet"
    );

    let id = answer(&app, &number).await;
    let found = page(
        &visitor,
        app.url(&format!("/track?number={number}&code={code}")),
    )
    .await;
    assert!(found.contains("name=\"rating\"") && found.contains("已协调工地夜间停工"));
    // Dissatisfied without a reason: asked why, nothing changes.
    let rate = |rating: &'static str, reason: &'static str, code: String| {
        let (app, visitor, number) = (&app, &visitor, number.clone());
        async move {
            post_form(
                app,
                visitor,
                "/track/rate",
                &[
                    ("number", number.as_str()),
                    ("code", code.as_str()),
                    ("rating", rating),
                    ("reason", reason),
                ],
            )
            .await
        }
    };
    let res = rate("dissatisfied", " ", code.clone()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("请写明原因"));
    // The phone's last four digits read the case but do not rate it; staff never rate for the
    // resident, and the handler is not shown the code.
    let res = rate("satisfied", "", "5678".into()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("评价须凭查询码"));
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = post_form(
        &app,
        &staff,
        "/track/rate",
        &[
            ("number", number.as_str()),
            ("code", code.as_str()),
            ("rating", "satisfied"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let handler_view = page(&staff, app.url(&format!("/appeals/{id}"))).await;
    assert!(
        !handler_view.contains(&code),
        "the handler does not see the tracking code"
    );
    // A wrong code rates nothing.
    let res = rate("satisfied", "", "WRONG-CODE0".into()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (a, _) = app.store.appeal(id).await.unwrap();
    assert_eq!(a.status.code(), "answered");
    // With the reason: back to the handler, the resident told what happens next and by when;
    // the old reply is shown as the previous one.
    let res = rate("dissatisfied", "晚上十点后仍在施工", code.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let next = res.text().await.unwrap();
    let (a, events) = app.store.appeal(id).await.unwrap();
    assert_eq!(a.status.code(), "assigned");
    assert!(
        next.contains("退回重新办理")
            && next.contains(&yongxin_domain::time::display_local(a.resolution_due)),
        "{next}"
    );
    assert!(next.contains("上次答复"), "{next}");
    assert!(
        events
            .iter()
            .any(|e| e.text.as_deref() == Some("晚上十点后仍在施工")),
        "the reason is in the history"
    );
    assert!(
        !next.contains("name=\"rating\""),
        "not rated again until answered again"
    );
    app.store.verify_audit().await.unwrap().unwrap();
}

/// Sends what the outbox holds and returns the rating links (paths) the messages carried.
async fn rating_links_sent(app: &TestApp) -> Vec<String> {
    let settings = yongxin_web::WebSettings {
        public_url: Some("http://10.1.1.2:8080/".into()),
        ..yongxin_web::WebSettings::default()
    };
    let state = yongxin_web::AppState::new(app.store.clone(), settings);
    let gateway = RecordingGateway::default();
    yongxin_web::background::drain_outbox(&state, &gateway, Utc::now() + Duration::minutes(1))
        .await
        .unwrap();
    let sent = gateway.sent.lock().unwrap();
    sent.iter()
        .filter_map(|m| {
            let at = m.body.find("http://10.1.1.2:8080/track/r/")?;
            let link = m.body[at + "http://10.1.1.2:8080".len()..]
                .split_whitespace()
                .next()?;
            Some(link.to_owned())
        })
        .collect()
}

async fn the_answer_message_carries_a_rating_link_good_for_one_rating(app: TestApp) {
    let visitor = app.client();
    let (number, _code) = file_anonymously(&app, &visitor).await;
    assert!(
        rating_links_sent(&app).await.is_empty(),
        "only an answer carries one"
    );
    let id = answer(&app, &number).await;
    let links = rating_links_sent(&app).await;
    assert_eq!(links.len(), 1, "{links:?}");
    let link = links[0].clone();
    let token = link.trim_start_matches("/track/r/").to_owned();

    // Anyone holding the link sees the case and its rating form; no code is asked.
    let opened = page(&visitor, app.url(&link)).await;
    assert!(
        opened.contains("已协调工地夜间停工")
            && opened.contains("name=\"rating\"")
            && opened.contains(&format!("name=\"token\" value=\"{token}\""))
            && !opened.contains("name=\"code\""),
        "{opened}"
    );
    // A token altered in one letter, or another message's id with these letters, finds nothing.
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let res = visitor
        .get(app.url(&format!("/track/r/{forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (mid, letters) = token.split_once('-').unwrap();
    let other = format!("{}-{letters}", mid.parse::<i64>().unwrap() - 1);
    let res = post_form(
        &app,
        &visitor,
        "/track/rate",
        &[("token", other.as_str()), ("rating", "satisfied")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.store.appeal(id).await.unwrap().0.status.code(),
        "answered"
    );

    // Dissatisfied through the link: the case goes back to its handler.
    let rate = |token: String, rating: &'static str| {
        let (app, visitor) = (&app, &visitor);
        async move {
            post_form(
                app,
                visitor,
                "/track/rate",
                &[
                    ("token", token.as_str()),
                    ("rating", rating),
                    ("reason", "还在施工"),
                ],
            )
            .await
        }
    };
    let res = rate(token.clone(), "dissatisfied").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("退回重新办理"));
    let (a, events) = app.store.appeal(id).await.unwrap();
    assert_eq!(a.status.code(), "assigned");
    let rated = events.iter().find(|e| e.action == "rate").unwrap();
    assert!(rated.actor.starts_with("tracked:"), "{}", rated.actor);

    // Spent: the link, opened or posted again, rates nothing and says so.
    let res = visitor.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("此评价链接已经用过") && body.contains(&format!("value=\"{number}\"")),
        "the form to track it by code instead, the number filled in"
    );
    // Answered again: the old link is still spent, the new message's link rates once.
    app.store
        .act_on_appeal(
            &Actor::user("staff"),
            id,
            AppealAction::Answer {
                reply: "已要求工地十点前停工".into(),
            },
            yongxin_domain::appeal::AppealPolicy::default(),
        )
        .await
        .unwrap()
        .unwrap();
    let res = rate(token.clone(), "satisfied").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.store.appeal(id).await.unwrap().0.status.code(),
        "answered"
    );
    let fresh = rating_links_sent(&app).await;
    assert_eq!(fresh.len(), 1);
    assert_ne!(fresh[0], link);
    let res = rate(
        fresh[0].trim_start_matches("/track/r/").to_owned(),
        "satisfied",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.store.appeal(id).await.unwrap().0.status.code(),
        "closed"
    );
    let res = rate(
        fresh[0].trim_start_matches("/track/r/").to_owned(),
        "satisfied",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "one rating per link");
    app.store.verify_audit().await.unwrap().unwrap();
}

async fn administrators_read_every_message_masked_and_export_it(app: TestApp) {
    let visitor = app.client();
    let (number, _) = file_anonymously(&app, &visitor).await;
    answer(&app, &number).await;
    let links = rating_links_sent(&app).await;
    assert_eq!(links.len(), 1);
    let token = links[0].trim_start_matches("/track/r/");
    let admin = app.sign_in_as(Role::Admin).await;
    let list = page(&admin, app.url("/admin/outbox")).await;
    assert!(
        list.contains(&number) && list.contains("139****5678") && list.contains("已发送"),
        "{list}"
    );
    assert!(
        !list.contains("13912345678") && !list.contains(token) && list.contains("仅发给群众"),
        "the phone is masked and the rating link is not an administrator's to hold"
    );
    // Filtered: a kind and a state; the export carries the same filter.
    let answered = page(
        &admin,
        app.url("/admin/outbox?kind=resident_answered&state=sent"),
    )
    .await;
    assert!(answered.contains("共 1 条"), "{answered}");
    let none = page(&admin, app.url("/admin/outbox?state=failing")).await;
    assert!(none.contains("共 0 条"));
    let res = admin
        .get(app.url("/admin/outbox?kind=resident_answered&format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("outbox.csv"));
    let csv = res.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        2,
        "the header and the one message: {csv}"
    );
    assert!(csv.contains(&number) && !csv.contains("13912345678") && !csv.contains(token));
    let res = admin
        .get(app.url("/admin/outbox?format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));
    // Bad filters are refused, not ignored; the list is administrators' only.
    for bad in [
        "state=lost",
        "channel=fax",
        "kind=spam",
        "appeal=x",
        "format=pdf",
    ] {
        let res = admin
            .get(app.url(&format!("/admin/outbox?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    for role in [
        Role::Leader,
        Role::DepartmentStaff,
        Role::GridWorker,
        Role::Resident,
    ] {
        let client = app.sign_in_as(role).await;
        let res = client.get(app.url("/admin/outbox")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role:?}");
    }
    let res = visitor.get(app.url("/admin/outbox")).send().await.unwrap();
    assert_ne!(res.status(), StatusCode::OK);
}

async fn residents_see_their_cases_waiting_for_a_rating_and_no_cards(app: TestApp) {
    let resident_id = app.user_id("resident").await;
    let resident = app.sign_in_as(Role::Resident).await;
    let now = Utc::now();
    // Long overdue: a red card for the office.
    let mut late = crate::support::phoned_appeal(
        "roads",
        "桥面裂缝",
        now - Duration::days(40),
        now - Duration::days(39),
        now - Duration::days(30),
    );
    late.resident_user_id = Some(resident_id);
    let late = app
        .store
        .create_appeal(&Actor::user("staff"), late)
        .await
        .unwrap();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let office = page(&staff, app.url(&format!("/appeals/{}", late.id))).await;
    assert!(
        office.contains("class=\"card red\""),
        "the office sees its card"
    );
    let own = page(&resident, app.url(&format!("/appeals/{}", late.id))).await;
    let no_card =
        |p: &str| !p.contains("class=\"card red\"") && !p.contains("class=\"card yellow\"");
    assert!(own.contains("桥面裂缝") && no_card(&own), "{own}");
    let list = page(&resident, app.url("/appeals")).await;
    assert!(list.contains("桥面裂缝") && no_card(&list), "{list}");
    // Answered: waiting for the resident's rating on their home page.
    let mut fresh = crate::support::phoned_appeal(
        "other",
        "楼道灯坏了",
        now,
        now + Duration::days(1),
        now + Duration::days(5),
    );
    fresh.resident_user_id = Some(resident_id);
    let fresh = app
        .store
        .create_appeal(&Actor::user("staff"), fresh)
        .await
        .unwrap();
    let home = page(&resident, app.url("/")).await;
    assert!(!home.contains(&fresh.number), "not before it is answered");
    answer(&app, &fresh.number).await;
    let home = page(&resident, app.url("/")).await;
    assert!(
        home.contains("请您评价") && home.contains(&fresh.number),
        "{home}"
    );
    // Rated from the case page: a dissatisfied rating needs its reason there too.
    let res = post_form(
        &app,
        &resident,
        &format!("/appeals/{}/action", fresh.id),
        &[("action", "rate"), ("rating", "dissatisfied")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = post_form(
        &app,
        &resident,
        &format!("/appeals/{}/action", fresh.id),
        &[("action", "rate"), ("rating", "satisfied")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!page(&resident, app.url("/")).await.contains(&fresh.number));
}

/// The appeal form on a phone in a real browser (item 8): the category changes without a reload
/// and without losing the description; a wrong phone is caught in the browser, and when the
/// server refuses one every field is still filled.
#[tokio::test]
async fn in_a_browser_the_appeal_form_loses_nothing() {
    let Some(browser) =
        crate::browser::Browser::start("the appeal form in a browser", 390, 844).await
    else {
        return;
    };
    let app = TestApp::spawn(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    browser.go(&app.url("/appeals/new")).await;
    let description = browser.find("#description").await;
    browser.type_into(&description, "村口路面塌了一块").await;
    let loaded = browser
        .script("return performance.timeOrigin", serde_json::json!([]))
        .await;
    browser.choose("#category", "roads").await;
    let state = browser
        .script(
            "var q = document.querySelector('fieldset[data-category=roads]'); \
             return [performance.timeOrigin, document.getElementById('description').value, q.hidden, q.disabled, \
                     getComputedStyle(document.querySelector('[data-without-script]')).display === 'none'];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(state[0], loaded, "no reload");
    assert_eq!(state[1], "村口路面塌了一块");
    assert_eq!(
        (&state[2], &state[3], &state[4]),
        (
            &serde_json::json!(false),
            &serde_json::json!(false),
            &serde_json::json!(true)
        )
    );
    for (css, text) in [
        ("#title", "路面塌陷"),
        ("#address", "东坞村村口"),
        ("#answer-roads-road", "东坞主路"),
        ("#contact_name", "郑十"),
        ("#contact_phone", "12345"),
    ] {
        let e = browser.find(css).await;
        browser.type_into(&e, text).await;
    }
    let submit = browser.find("button[value=submit]").await;
    browser.click(&submit).await;
    let blocked = browser
        .script(
            "return [document.getElementById('contact_phone').validity.patternMismatch, location.pathname, performance.timeOrigin];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(blocked[0], true, "the browser checks the phone");
    assert_eq!(blocked[2], loaded, "and the form did not go");
    browser.screenshot("appeal-form-phone-check").await;
    // The server's own check (the browser's switched off): refused, everything still filled.
    browser
        .script(
            "var p = document.getElementById('contact_phone'); p.removeAttribute('pattern'); p.setCustomValidity('');",
            serde_json::json!([]),
        )
        .await;
    let submit = browser.find("button[value=submit]").await;
    browser.click(&submit).await;
    browser.find("#form-error").await;
    let kept = browser
        .script(
            "return ['description', 'title', 'address', 'answer-roads-road', 'contact_name', 'contact_phone', 'category'] \
               .map(function (id) { return document.getElementById(id).value; });",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        kept,
        serde_json::json!([
            "村口路面塌了一块",
            "路面塌陷",
            "东坞村村口",
            "东坞主路",
            "郑十",
            "12345",
            "roads"
        ])
    );
    let error = browser.find("#form-error").await;
    let words = browser.text(&error).await;
    assert!(
        words.contains("手机号码") && !words.contains("请求有误"),
        "{words}"
    );
    browser.screenshot("appeal-form-refused").await;
}

/// Item 6: every link a resident is shown, followed from the home page through a project in
/// selection, answers — none of them a 403 — and no page shows an internal identifier where a
/// name belongs.
async fn a_resident_is_never_shown_a_forbidden_link(app: TestApp) {
    // A project in online selection the resident's household is not on the list of (it did not
    // register): its link must not be offered.
    let (pid, sid) = app.sample_selection().await;
    let resident = app.sign_in_as(Role::Resident).await;
    let mut queue = std::collections::VecDeque::from(["/".to_owned(), "/projects".to_owned()]);
    let mut seen: std::collections::HashSet<String> = queue.iter().cloned().collect();
    let mut visited = 0;
    while let Some(path) = queue.pop_front() {
        if visited == 150 {
            break;
        }
        visited += 1;
        let res = resident.get(app.url(&path)).send().await.unwrap();
        let status = res.status().as_u16();
        assert_ne!(status, 403, "a resident was shown a link to {path}");
        assert!(status < 500, "{path}: {status}");
        let is_html = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if !is_html {
            continue;
        }
        let body = res.text().await.unwrap();
        for internal in [
            "system:demo",
            "anonymous:",
            "household:",
            "four_villages",
            ">leader<",
            ">staff<",
        ] {
            assert!(!body.contains(internal), "{path} shows {internal}");
        }
        for piece in body.split("href=\"").skip(1) {
            let link = piece
                .split('"')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&");
            // Same-site pages only; the board's event stream and downloads are not pages.
            if !link.starts_with('/') || link.starts_with("//") || link.contains("/events") {
                continue;
            }
            let link = link.split('#').next().unwrap().to_owned();
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    eprintln!("a resident crawl: {visited} pages, {} links", seen.len());
    assert!(visited > 10, "the crawl reached {visited} pages");
    assert!(seen.contains(&format!("/projects/{pid}/board")));
    assert!(!seen.contains(&format!("/selections/{sid}/choose")));
}
