//! Open311 GeoReport v2, the whole surface through HTTP: discovery, services, service
//! definitions, posting requests with keys and attributes, listing and filtering them, single
//! requests, tokens, errors in both formats, and the keys page.

use reqwest::StatusCode;
use serde_json::Value;
use yongxin_domain::catalogue::{default_catalogue, Choice, Question, QuestionKind};
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::AppealId;

use crate::on_each_backend;
use crate::support::{page, TestApp};

on_each_backend!(
    discovery_services_and_definitions_in_both_formats,
    clients_post_requests_with_their_keys_and_attributes,
    requests_are_listed_filtered_and_followed_to_closing,
    administrators_issue_and_revoke_keys_on_their_page,
);

/// Issues a key straight through the store, as `yongxin open311 key add` does.
async fn issue_key(app: &TestApp, name: &str) -> String {
    let key = yongxin_web::auth::random_token();
    app.store
        .create_open311_key(
            &Actor::user("test"),
            name,
            &yongxin_web::auth::token_hash(&key),
        )
        .await
        .unwrap();
    key
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = reqwest::get(app.url(path)).await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Asserts the standard's error shape: a bare array of one `{code, description}`.
fn assert_error(body: &str, code: u16) {
    let v = parse(body);
    assert_eq!(v[0]["code"], code, "{body}");
    assert!(!v[0]["description"].as_str().unwrap().is_empty(), "{body}");
}

async fn discovery_services_and_definitions_in_both_formats(app: TestApp) {
    let (status, kind, body) = get(&app, "/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/json"));
    let d = parse(&body);
    let endpoint = &d["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(endpoint["url"], app.url("/open311/v2"));
    assert_eq!(
        endpoint["formats"],
        serde_json::json!(["application/json", "text/xml"])
    );
    let (status, kind, xml) = get(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/xml"), "{kind}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><discovery>"));
    assert!(xml
        .contains("<formats><format>application/json</format><format>text/xml</format></formats>"));

    let (_, _, body) = get(&app, "/open311/v2/services.json").await;
    let services = parse(&body);
    let list = services.as_array().expect("a bare array");
    assert_eq!(list.len(), default_catalogue().len());
    let noise = list.iter().find(|s| s["service_code"] == "noise").unwrap();
    assert_eq!(noise["service_name"], "噪音扰民");
    assert_eq!(noise["metadata"], true);
    assert_eq!(noise["type"], "realtime");
    assert_eq!(noise["group"], "城市管理");
    let other = list.iter().find(|s| s["service_code"] == "other").unwrap();
    assert_eq!(other["metadata"], false);
    let (_, _, xml) = get(&app, "/open311/v2/services.xml").await;
    assert!(xml.contains("<services><service><service_code>"), "{xml}");
    assert!(xml.contains("<service_code>noise</service_code><service_name>噪音扰民</service_name>"));

    let (status, _, body) = get(&app, "/open311/v2/services/noise.json").await;
    assert_eq!(status, 200);
    let def = parse(&body);
    assert_eq!(def["service_code"], "noise");
    let source = &def["attributes"][0];
    assert_eq!(source["code"], "source");
    assert_eq!(source["variable"], true);
    assert_eq!(source["datatype"], "singlevaluelist");
    assert_eq!(source["required"], true);
    assert_eq!(source["order"], 1);
    assert_eq!(
        source["values"][1],
        serde_json::json!({"key": "shop", "name": "商铺"})
    );
    assert_eq!(def["attributes"][1]["datatype"], "datetime");
    assert_eq!(def["attributes"][1]["required"], false);
    let (_, _, xml) = get(&app, "/open311/v2/services/noise.xml").await;
    assert!(xml.contains("<service_definition><service_code>noise</service_code><attributes><attribute><variable>true</variable><code>source</code>"), "{xml}");
    assert!(xml.contains("<values><value><key>construction</key><name>施工</name></value>"));

    let (status, _, body) = get(&app, "/open311/v2/services/nope.json").await;
    assert_eq!(status, 404);
    assert_error(&body, 404);
    let (status, kind, xml) = get(&app, "/open311/v2/services/nope.xml").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/xml"));
    assert!(
        xml.contains("<errors><error><code>404</code><description>"),
        "{xml}"
    );
    let (status, _, _) = get(&app, "/open311/v2/services.csv").await;
    assert_eq!(status, 404);
}

async fn clients_post_requests_with_their_keys_and_attributes(app: TestApp) {
    // A category with a multiple-choice question, saved before anything reads the catalogue.
    let mut pets = default_catalogue()
        .into_iter()
        .find(|c| c.code == "other")
        .unwrap();
    pets.code = "pets".into();
    pets.name_zh = "犬只管理".into();
    pets.questions = vec![Question {
        code: "kinds".into(),
        label_zh: "种类".into(),
        label_en: "Kinds".into(),
        kind: QuestionKind::MultiChoice,
        required: true,
        choices: vec![
            Choice {
                key: "dog".into(),
                name: "犬".into(),
            },
            Choice {
                key: "cat".into(),
                name: "猫".into(),
            },
        ],
    }];
    app.store
        .save_category(&Actor::user("test"), &pets, 99, true)
        .await
        .unwrap();
    let key = issue_key(&app, "12345热线").await;
    let base = [
        ("service_code", "noise"),
        ("jurisdiction_id", ""),
        ("description", "工地夜间施工噪音"),
        ("address_string", "前街1号"),
        ("lat", "36.65"),
        ("long", "117.12"),
        ("first_name", "秀兰"),
        ("last_name", "欧阳"),
        ("phone", "13900004444"),
        ("email", "ouyang@example.cn"),
        ("attribute[source]", "construction"),
    ];
    let with = |extra: &[(&'static str, &'static str)], drop: &[&str]| {
        let mut f: Vec<(&str, &str)> = base
            .iter()
            .copied()
            .filter(|(k, _)| !drop.contains(k))
            .collect();
        f.extend_from_slice(extra);
        f
    };
    // No key, a wrong key: 403 and nothing stored.
    let (status, body) = post_form(&app, "/open311/v2/requests.json", &base).await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, 403);
    let (status, body) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &with(&[("api_key", "not-a-key")], &[]),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("<errors><error><code>403</code>"), "{body}");
    // Bad input: 400 or 404 as the standard says, in the standard's shape.
    let key_pair: (&'static str, &'static str) =
        ("api_key", Box::leak(key.clone().into_boxed_str()));
    for (extra, drop, code) in [
        (vec![key_pair], vec!["attribute[source]"], 400),
        (vec![key_pair, ("lat", "north")], vec!["lat"], 400),
        (vec![key_pair], vec!["address_string", "lat"], 400),
        (vec![key_pair, ("phone", "123")], vec!["phone"], 400),
        (
            vec![key_pair, ("service_code", "nope")],
            vec!["service_code"],
            404,
        ),
    ] {
        let (status, body) =
            post_form(&app, "/open311/v2/requests.json", &with(&extra, &drop)).await;
        assert_eq!(status, code, "{extra:?} {drop:?}: {body}");
        assert_error(&body, code);
    }
    let total = || async {
        app.store
            .search_appeals(&crate::search::query(yongxin_store::AppealScope::All, None))
            .await
            .unwrap()
            .total
    };
    assert_eq!(total().await, 0, "refused requests stored nothing");

    // The key in the body.
    let (status, body) =
        post_form(&app, "/open311/v2/requests.json", &with(&[key_pair], &[])).await;
    assert_eq!(status, 200, "{body}");
    let created = parse(&body);
    let number = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, id) = yongxin_domain::appeal::parse_appeal_number(&number).unwrap();
    let (a, events) = app.store.appeal(AppealId(id)).await.unwrap();
    assert_eq!(a.channel.code(), "open311");
    assert_eq!(a.contact_name, "欧阳秀兰");
    assert_eq!(a.answers["source"], vec!["construction"]);
    assert_eq!(a.latitude, Some(36.65));
    assert_eq!(events[0].actor, "open311:12345热线");
    // The key in the query string, a multiple-choice attribute, XML.
    let res = reqwest::Client::new()
        .post(app.url(&format!("/open311/v2/requests.xml?api_key={key}")))
        .form(&[
            ("service_code", "pets"),
            ("description", "小区流浪猫狗较多"),
            ("lat", "36.6"),
            ("long", "117.1"),
            ("first_name", "Lei"),
            ("last_name", "Wang"),
            ("phone", "13900005555"),
            ("attribute[kinds][]", "dog"),
            ("attribute[kinds][]", "cat"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let xml = res.text().await.unwrap();
    assert!(
        xml.contains("<service_requests><request><service_request_id>"),
        "{xml}"
    );
    let start = xml.find("<service_request_id>").unwrap() + "<service_request_id>".len();
    let end = xml.find("</service_request_id>").unwrap();
    let (_, pets_id) = yongxin_domain::appeal::parse_appeal_number(&xml[start..end]).unwrap();
    let (p, _) = app.store.appeal(AppealId(pets_id)).await.unwrap();
    assert_eq!(p.answers["kinds"], vec!["dog", "cat"]);
    assert_eq!(p.contact_name, "Lei Wang");
    // A token finds its request.
    let (status, _, body) = get(&app, &format!("/open311/v2/tokens/{number}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(parse(&body)[0]["service_request_id"], number);
    let (status, _, body) = get(&app, "/open311/v2/tokens/20990101999999.json").await;
    assert_eq!(status, 404);
    assert_error(&body, 404);
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

async fn requests_are_listed_filtered_and_followed_to_closing(app: TestApp) {
    let key = issue_key(&app, "网格通").await;
    let mut numbers = Vec::new();
    for (code, answer) in [("noise", "shop"), ("noise", "neighbour"), ("other", "")] {
        let mut form = vec![
            ("api_key", key.as_str()),
            ("service_code", code),
            ("description", "楼下烧烤店油烟噪音，联系人欧阳"),
            ("lat", "36.65"),
            ("long", "117.12"),
            ("last_name", "欧阳"),
            ("phone", "13900006666"),
        ];
        if !answer.is_empty() {
            form.push(("attribute[source]", answer));
        }
        let (status, body) = post_form(&app, "/open311/v2/requests.json", &form).await;
        assert_eq!(status, 200, "{body}");
        numbers.push(
            parse(&body)[0]["service_request_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let list = |q: String| {
        let url = app.url(&format!("/open311/v2/requests.json{q}"));
        async move {
            let res = reqwest::get(url).await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, all) = list(String::new()).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&all).len(), 3);
    let r = &all[0];
    assert_eq!(r["status"], "open");
    assert!(r["requested_datetime"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    let (_, first_id) = yongxin_domain::appeal::parse_appeal_number(&numbers[0]).unwrap();
    let (a, _) = app.store.appeal(AppealId(first_id)).await.unwrap();
    let shown = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == numbers[0].as_str())
        .unwrap();
    let expected =
        chrono::DateTime::parse_from_rfc3339(shown["expected_datetime"].as_str().unwrap()).unwrap();
    assert_eq!(
        expected, a.resolution_due,
        "expected_datetime is the resolution deadline"
    );
    // Anonymous readers see what the public list shows (not the resident's words); the client
    // that relayed the request sees it all with its key.
    assert!(shown["description"].is_null(), "{shown}");
    assert!(!a.title.is_empty());
    assert!(shown["lat"].is_null());
    let (_, full) = list(format!("?api_key={key}&service_request_id={}", numbers[0])).await;
    assert_eq!(full[0]["description"], "楼下烧烤店油烟噪音，联系人欧阳");
    assert_eq!(full[0]["lat"], 36.65);
    let (status, _) = list("?api_key=wrong".into()).await;
    assert_eq!(status, 403);
    // Filters.
    let (_, two) = list(format!("?service_request_id={},{}", numbers[0], numbers[2])).await;
    assert_eq!(ids(&two), vec![numbers[0].clone(), numbers[2].clone()]);
    let (_, noise) = list("?service_code=noise".into()).await;
    assert_eq!(ids(&noise).len(), 2);
    let (_, closed) = list("?status=closed".into()).await;
    assert_eq!(ids(&closed).len(), 0);
    let (_, open) = list("?status=open,closed".into()).await;
    assert_eq!(ids(&open).len(), 3);
    let (_, future) = list("?start_date=2099-01-01T00:00:00%2B08:00".into()).await;
    assert_eq!(ids(&future).len(), 0);
    let (_, past) = list("?end_date=2000-01-01T00:00:00Z".into()).await;
    assert_eq!(ids(&past).len(), 0);
    let (_, window) =
        list("?start_date=2000-01-01T00:00:00Z&end_date=2099-01-01T00:00:00Z".into()).await;
    assert_eq!(ids(&window).len(), 3);
    let (_, p1) = list("?page_size=2&page=1".into()).await;
    let (_, p2) = list("?page_size=2&page=2".into()).await;
    assert_eq!(ids(&p1).len(), 2);
    assert_eq!(ids(&p2).len(), 1);
    assert!(!ids(&p1).contains(&ids(&p2)[0]));
    for bad in [
        "?start_date=yesterday",
        "?status=pending",
        "?page_size=0",
        "?page=x",
    ] {
        let (status, body) = list(bad.into()).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body[0]["code"], 400, "{bad}");
    }
    let (_, _, xml) = get(&app, "/open311/v2/requests.xml").await;
    assert!(
        xml.contains("<service_requests><request><service_request_id>"),
        "{xml}"
    );
    assert!(xml.contains("<lat></lat>"));
    // Handled to the end: status notes follow the latest public note, then it closes.
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let act = |body: Value| {
        let staff = staff.clone();
        let url = app.url(&format!("/api/v1/appeals/{first_id}/actions"));
        async move {
            let res = staff.post(url).json(&body).send().await.unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    };
    act(serde_json::json!({"action": "accept"})).await;
    act(serde_json::json!({"action": "assign", "department": "城市管理办公室"})).await;
    act(serde_json::json!({"action": "note", "text": "已约店主整改", "visible": true})).await;
    act(serde_json::json!({"action": "note", "text": "内部：店主态度差", "visible": false})).await;
    // Without a key the notes stay hidden: they are for the resident and the platform.
    let (status, _, body) = get(&app, &format!("/open311/v2/requests/{}.json", numbers[0])).await;
    assert_eq!(status, 200);
    assert_eq!(parse(&body)[0]["status_notes"], Value::Null);
    let keyed = |number: &str| format!("/open311/v2/requests/{number}.json?api_key={key}");
    let (status, _, body) = get(&app, &keyed(&numbers[0])).await;
    assert_eq!(status, 200);
    let r = parse(&body);
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["status_notes"], "已约店主整改");
    assert_eq!(r[0]["agency_responsible"], "城市管理办公室");
    act(serde_json::json!({"action": "answer", "reply": "已整改完毕"})).await;
    let (_, _, body) = get(&app, &keyed(&numbers[0])).await;
    assert_eq!(parse(&body)[0]["status_notes"], "已整改完毕");
    assert_eq!(
        parse(&body)[0]["status"],
        "open",
        "answered, waiting for a rating"
    );
    // A declined case is closed in Open311's terms, with the reason as its note.
    let (_, second_id) = yongxin_domain::appeal::parse_appeal_number(&numbers[1]).unwrap();
    let res = staff
        .post(app.url(&format!("/api/v1/appeals/{second_id}/actions")))
        .json(&serde_json::json!({"action": "decline", "reason": "与前一件重复"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (_, _, body) = get(&app, &keyed(&numbers[1])).await;
    let r = parse(&body);
    assert_eq!(r[0]["status"], "closed", "{r}");
    assert_eq!(r[0]["status_notes"], "与前一件重复");
    let (_, closed) = list("?status=closed".into()).await;
    assert_eq!(ids(&closed), vec![numbers[1].clone()]);
    let (_, _, xml) = get(&app, &format!("/open311/v2/requests/{}.xml", numbers[1])).await;
    assert!(xml.contains("<status>closed</status>"), "{xml}");
    let (status, _, body) = get(&app, "/open311/v2/requests/20990101999999.json").await;
    assert_eq!(status, 404);
    assert_error(&body, 404);
    let (status, _, _) = get(&app, "/open311/v2/requests/garbage.json").await;
    assert_eq!(status, 404);
}

async fn administrators_issue_and_revoke_keys_on_their_page(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let html = page(&admin, app.url("/admin/open311")).await;
    assert!(html.contains("/open311/v2/discovery.json"), "{html}");
    let csrf = app.csrf(&admin).await;
    let res = admin
        .post(app.url("/admin/open311"))
        .form(&[("csrf", csrf.as_str()), ("name", "区级平台")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let start = html.find("<code class=\"mono\">").unwrap() + "<code class=\"mono\">".len();
    let key = html[start..start + 64].to_owned();
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "other"),
        ("description", "建议增设公交站"),
        ("address_string", "南关村口"),
        ("last_name", "张"),
        ("first_name", "伟"),
        ("phone", "13900007777"),
    ];
    let (status, body) = post_form(&app, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 200, "{body}");
    // Only administrators reach the page; a form without its token changes nothing.
    let leader = app.sign_in_as(Role::Leader).await;
    assert_eq!(
        leader
            .get(app.url("/admin/open311"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let keys = app.store.open311_keys().await.unwrap();
    let id = keys.iter().find(|k| k.name == "区级平台").unwrap().id;
    let res = admin
        .post(app.url(&format!("/admin/open311/{id}/revoke")))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, _) = post_form(&app, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 200, "still valid");
    let res = admin
        .post(app.url(&format!("/admin/open311/{id}/revoke")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, body) = post_form(&app, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 403);
    assert_error(&body, 403);
    let html = page(&admin, app.url("/admin/open311")).await;
    assert!(html.contains("已吊销"), "{html}");
}
