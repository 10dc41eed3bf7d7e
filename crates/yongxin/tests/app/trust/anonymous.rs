//! What a visitor without an account can do: track only a case whose code they hold, file within an allowance.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    tracking_a_case_cannot_be_guessed,
    open311_without_a_key_maps_no_guessed_number,
    anonymous_intake_is_limited_per_address_and_phone,
    tracking_guesses_sent_at_once_are_all_counted,
    a_refused_anonymous_appeal_uses_none_of_the_allowance,
);

async fn tracking_a_case_cannot_be_guessed(app: TestApp) {
    let client = app.client();
    let (status, html) = file_anonymously(&app, &client, "13911112222").await;
    assert_eq!(status, 200, "{html}");
    let number = mono_after(&html, "案件编号");
    let code = mono_after(&html, "查询码");
    assert_eq!(code.len(), 11, "{code}");
    assert!(
        !code.contains(&number[8..]),
        "the code is not derived visibly from the number"
    );
    let track = |answer: &str| app.url(&format!("/track?number={number}&code={answer}"));
    let res = client.get(track(&code)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("路灯坏了"));
    // The phone's last four digits still work, as before.
    assert_eq!(
        client.get(track("2222")).send().await.unwrap().status(),
        200
    );
    // A guessed date with the right id finds nothing.
    let other_day = format!("19990101{}", &number[8..]);
    let res = client
        .get(app.url(&format!("/track?number={other_day}&code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Five wrong answers, and then even the right one waits, with a message that says so.
    for guess in ["0000", "0001", "0002", "0003"] {
        assert_eq!(
            client.get(track(guess)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
    let res = client.get(track(&code)).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked after five failures"
    );
    assert!(res.text().await.unwrap().contains("暂停查询"));
    let res = client.get(track("2222")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // And one client address has so many look-ups an hour, whatever it asks for.
    let mut refused = None;
    for i in 0..70 {
        let res = client
            .get(app.url(&format!("/track?number=20260101{i:06}&code=0000")))
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            refused = Some(i);
            break;
        }
    }
    let refused = refused.expect("a flood of look-ups is refused");
    assert!(refused < 60, "{refused}");
}

async fn open311_without_a_key_maps_no_guessed_number(app: TestApp) {
    let client = app.client();
    let (status, html) = file_anonymously(&app, &client, "13911113333").await;
    assert_eq!(status, 200);
    let number = mono_after(&html, "案件编号");
    let guessed = format!("20200101{}", &number[8..]);
    let list = |id: &str| {
        app.url(&format!(
            "/open311/v2/requests.json?service_request_id={id}"
        ))
    };
    let body: serde_json::Value = reqwest::get(list(&guessed))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!([]),
        "a guessed id is not mapped to the real number"
    );
    let body: serde_json::Value = reqwest::get(list(&number))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body[0]["service_request_id"], number.as_str());
    assert_eq!(body[0]["status_notes"], serde_json::Value::Null);
    assert_eq!(body[0]["lat"], serde_json::Value::Null);
    assert!(!body.to_string().contains("13911113333"), "no contact");
    assert!(!body.to_string().contains("路人甲"), "no contact");
    let res = reqwest::get(app.url(&format!("/open311/v2/requests/{guessed}.json")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn anonymous_intake_is_limited_per_address_and_phone(app: TestApp) {
    let client = app.client();
    // Five a day for one phone number.
    for i in 0..5 {
        let (status, html) = file_anonymously(&app, &client, "13922220000").await;
        assert_eq!(status, 200, "appeal {i}: {html}");
    }
    let before = app
        .store
        .search_appeals(&yongxin_store::AppealQuery::within(
            yongxin_store::AppealScope::All,
            1,
        ))
        .await
        .unwrap()
        .total;
    let (status, html) = file_anonymously(&app, &client, "13922220000").await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("操作太频繁"), "{html}");
    // Ten an hour from one address, whatever the phone (the refused one above is not counted).
    for i in 0..5 {
        let (status, _) = file_anonymously(&app, &client, &format!("1392222000{}", i + 1)).await;
        assert_eq!(status, 200, "appeal {i}");
    }
    let (status, _) = file_anonymously(&app, &client, "13922229999").await;
    assert_eq!(status, 429);
    let after = app
        .store
        .search_appeals(&yongxin_store::AppealQuery::within(
            yongxin_store::AppealScope::All,
            1,
        ))
        .await
        .unwrap()
        .total;
    assert_eq!(after, before + 5, "refused intake stores nothing");
    // A signed-in resident is not held by the anonymous limits.
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url("/appeals/new"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("category", "other")
                .text("description", "家门口路灯坏了"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A form route takes no more than forms need.
    let big = "x".repeat(3 * 1024 * 1024);
    let csrf = app.csrf(&client).await;
    let res = client
        .post(app.url("/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", big.as_str()),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Wrong answers for one case sent at once were each checked before any was counted, so an
/// address got its whole hourly allowance of guesses instead of five.
async fn tracking_guesses_sent_at_once_are_all_counted(app: TestApp) {
    let client = app.client();
    let (status, html) = file_anonymously(&app, &client, "13911115555").await;
    assert_eq!(status, 200, "{html}");
    let number = mono_after(&html, "案件编号");
    let guesses = (0..20).map(|i| {
        let url = app.url(&format!("/track?number={number}&code={:04}", 1000 + i));
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let judged = statuses.iter().filter(|s| **s == 404).count();
    assert!(judged <= 5, "{judged} guesses were judged: {statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        20 - judged,
        "{statuses:?}"
    );
    let res = client
        .get(app.url(&format!("/track?number={number}&code=5555")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right answer waits"
    );
}

/// A resident whose form is refused (a wrong e-mail, say) and who corrects it keeps the day's
/// allowance: only accepted appeals count.
async fn a_refused_anonymous_appeal_uses_none_of_the_allowance(app: TestApp) {
    let client = app.client();
    for _ in 0..6 {
        let csrf = app.csrf(&client).await;
        let res = client
            .post(app.url("/appeals/new"))
            .multipart(
                reqwest::multipart::Form::new()
                    .text("csrf", csrf)
                    .text("category", "other")
                    .text("description", "路灯坏了，晚上很黑")
                    .text("contact_name", "路人甲")
                    .text("contact_phone", "13911116666")
                    .text("contact_email", "not an address"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let (status, html) = file_anonymously(&app, &client, "13911116666").await;
    assert_eq!(status, 200, "{html}");
}

/// Files an appeal on the web form without an account; answers the status and the page.
async fn file_anonymously(app: &TestApp, client: &reqwest::Client, phone: &str) -> (u16, String) {
    let csrf = app.csrf(client).await;
    let res = client
        .post(app.url("/appeals/new"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("category", "other")
                .text("description", "路灯坏了，晚上很黑")
                .text("contact_name", "路人甲")
                .text("contact_phone", phone.to_owned()),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The text of the first `<span class="mono">` after `label` on a page.
fn mono_after(html: &str, label: &str) -> String {
    let at = html
        .find(label)
        .unwrap_or_else(|| panic!("no {label} in {html}"));
    let rest = &html[at..];
    let start = rest.find("<span class=\"mono\">").unwrap() + "<span class=\"mono\">".len();
    rest[start..start + rest[start..].find('<').unwrap()].to_owned()
}
