//! Clients of the API and Open311: documented errors, category questions, a key that reads only its own.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    every_api_rejection_is_the_documented_json_error,
    categories_tell_a_client_what_to_answer,
    an_open311_key_reads_only_its_own_requests_in_full,
);

/// Schema-driven: every operation of the OpenAPI document is sent what a careless or hostile
/// client sends (ids that are not ids, query values that do not read, malformed JSON, the wrong
/// content type, a body of the wrong shape). Every answer must be a status the document lists for
/// the operation and, when it is an error, the JSON error with a message in the user's language.
async fn every_api_rejection_is_the_documented_json_error(app: TestApp) {
    let token = app.api_token("admin", Utc::now() + Duration::days(1)).await;
    let client = reqwest::Client::new();
    let doc: serde_json::Value = client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let listed: Vec<String> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_body = op.get("requestBody").is_some();
            let concrete = |id: &str| {
                let mut p = path.clone();
                for param in params.iter().filter(|p| p["in"] == "path") {
                    let name = param["name"].as_str().unwrap();
                    p = p.replace(&format!("{{{name}}}"), id);
                }
                p
            };
            let mut attempts: Vec<(String, Option<(&str, &str)>)> = Vec::new();
            if path.contains('{') {
                attempts.push((concrete("not-an-id"), None));
                attempts.push((concrete("99999999999999999999999"), None));
            }
            for q in params.iter().filter(|p| p["in"] == "query") {
                let name = q["name"].as_str().unwrap();
                for junk in ["maybe", "AAA", "-1", "%FF"] {
                    attempts.push((format!("{}?{name}={junk}", concrete("1")), None));
                }
            }
            if has_body {
                attempts.push((concrete("1"), Some(("application/json", "{\"a\":"))));
                attempts.push((concrete("1"), Some(("text/plain", "{}"))));
                attempts.push((concrete("1"), Some(("application/json", "[1,2]"))));
                attempts.push((concrete("1"), Some(("application/json", "{\"photos\": 7}"))));
            }
            for (url, body) in attempts {
                let mut req = client
                    .request(method.to_uppercase().parse().unwrap(), app.url(&url))
                    .bearer_auth(&token)
                    .header("accept-language", "zh-CN");
                if let Some((kind, text)) = body {
                    req = req.header("content-type", kind).body(text.to_owned());
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                assert!(
                    listed.contains(&status.to_string()),
                    "{method} {url} {body:?} answered {status}, not listed in {listed:?}"
                );
                if status >= 400 {
                    let kind = res
                        .headers()
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    assert!(
                        kind.starts_with("application/json"),
                        "{method} {url}: {kind}"
                    );
                    let body: serde_json::Value = res.json().await.unwrap();
                    let message = body["error"]["message"].as_str().unwrap_or_default();
                    assert!(!body["error"]["code"]
                        .as_str()
                        .unwrap_or_default()
                        .is_empty());
                    assert!(
                        message
                            .chars()
                            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                        "{method} {url}: message not in Chinese: {body}"
                    );
                }
                tried += 1;
            }
        }
    }
    assert!(tried > 60, "{tried}");
    // The cases the review found, by name.
    let res = client
        .get(app.url("/api/v1/appeals?overdue=maybe"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_param");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("overdue"),
        "{body}"
    );
    let res = client
        .post(app.url("/api/v1/appeals"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = client
        .post(app.url("/api/v1/appeals"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"description": "缺类别"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("category"),
        "{body}"
    );
    // A wrong method under the API is JSON too.
    let res = client
        .delete(app.url("/api/v1/villages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

async fn categories_tell_a_client_what_to_answer(app: TestApp) {
    let cats: serde_json::Value = reqwest::get(app.url("/api/v1/categories"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let water = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "water")
        .expect("water");
    assert!(water["normal"]["resolution_days"].as_u64().unwrap() > 0);
    assert!(water["urgent"]["contact_hours"].as_u64().unwrap() > 0);
    let required: Vec<&str> = water["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["required"] == true)
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    assert!(required.contains(&"estate"), "{water}");
    // Objections are filed from their notice, never offered here.
    assert!(!cats.to_string().contains("notice_objection"));
    // What the list says is what intake demands: without the required answer, 400 naming it.
    let resident = app.sign_in_as(Role::Resident).await;
    let res = resident
        .post(app.url("/api/v1/appeals"))
        .json(&serde_json::json!({"category": "water", "description": "楼道漏水"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// A key shows its own client's requests in full; another client's, and anyone without a key,
/// see what the public list shows: no description (a title is the resident's own words).
async fn an_open311_key_reads_only_its_own_requests_in_full(app: TestApp) {
    let key = |name: &'static str| {
        let store = app.store.clone();
        async move {
            let key = yongxin_web::auth::random_token();
            store
                .create_open311_key(
                    &Actor::user("test"),
                    name,
                    &yongxin_web::auth::token_hash(&key),
                )
                .await
                .unwrap();
            key
        }
    };
    let (relay, stranger) = (key("热线平台").await, key("另一平台").await);
    let res = reqwest::Client::new()
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", relay.as_str()),
            ("service_code", "other"),
            ("description", "楼下烧烤店油烟噪音，联系人欧阳"),
            ("lat", "36.65"),
            ("long", "117.12"),
            ("last_name", "欧阳"),
            ("phone", "13900006666"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let number = body[0]["service_request_id"].as_str().unwrap().to_owned();
    let read = |query: String| {
        let list = app.url(&format!("/open311/v2/requests.json?{query}"));
        let one = app.url(&format!(
            "/open311/v2/requests/{number}.json?{}",
            query
                .split('&')
                .find(|p| p.starts_with("api_key"))
                .unwrap_or("")
        ));
        async move {
            let list: serde_json::Value = reqwest::get(list).await.unwrap().json().await.unwrap();
            let one: serde_json::Value = reqwest::get(one).await.unwrap().json().await.unwrap();
            (list, one)
        }
    };
    for query in [String::new(), format!("api_key={stranger}")] {
        let (list, one) = read(query.clone()).await;
        for r in [&list[0], &one[0]] {
            assert_eq!(r["service_request_id"], number.as_str(), "{query}");
            assert!(r["description"].is_null(), "{query}: {r}");
            assert!(r["lat"].is_null() && r["status_notes"].is_null(), "{query}");
            assert!(!r.to_string().contains("欧阳"), "{query}: {r}");
        }
    }
    let (list, one) = read(format!("api_key={relay}")).await;
    for r in [&list[0], &one[0]] {
        assert_eq!(r["description"], "楼下烧烤店油烟噪音，联系人欧阳");
        assert_eq!(r["lat"], 36.65);
    }

    // A photo of a relayed request is the relaying client's media_url, and no one else's.
    let now = Utc::now();
    let with_photo = crate::support::phoned_appeal(
        "other",
        "井盖缺失",
        now,
        now + Duration::days(1),
        now + Duration::days(5),
    );
    let photo = yongxin_store::NewPhoto {
        token: yongxin_web::auth::random_token(),
        content_type: "image/jpeg".into(),
        original: multi_image_jpeg(),
    };
    let relayed = app
        .store
        .create_appeal_with_photos(&Actor::platform("热线平台"), with_photo, vec![photo])
        .await
        .unwrap();
    let media = |key: String| {
        let url = app.url(&format!(
            "/open311/v2/requests/{}.json?api_key={key}",
            relayed.number
        ));
        async move {
            let v: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            v[0]["media_url"].clone()
        }
    };
    let url = media(relay.clone()).await;
    let url = url.as_str().expect("the relaying client gets the photo");
    assert_eq!(reqwest::get(url).await.unwrap().status(), StatusCode::OK);
    assert!(media(stranger.clone()).await.is_null());
}
