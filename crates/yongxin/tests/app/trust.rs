//! Trust hardening, tried as an attacker would: open redirects, parallel password guessing,
//! sign-in floods, tokens that outlive their purpose, planted CSRF cookies, missing security
//! headers. Each test fails on the code before its fix.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{AppealId, HouseholdId};

use crate::on_each_backend;
use crate::support::{post_form, TestApp};

on_each_backend!(
    redirects_never_leave_the_site,
    parallel_password_guesses_are_all_counted,
    a_flood_of_sign_ins_from_one_address_is_refused,
    api_tokens_expire_and_are_revoked,
    a_disabled_account_opens_nothing,
    every_answer_carries_the_security_headers,
    a_planted_csrf_cookie_is_useless,
    tracking_a_case_cannot_be_guessed,
    open311_without_a_key_maps_no_guessed_number,
    anonymous_intake_is_limited_per_address_and_phone,
    photos_and_notice_images_lose_the_location_of_every_embedded_image,
    desk_entry_reaches_only_households_in_scope,
    every_api_rejection_is_the_documented_json_error,
    categories_tell_a_client_what_to_answer,
    masked_views_do_not_complete_an_id_number,
    merging_reaches_only_cases_in_scope_and_tells_the_resident,
    hot_issues_name_only_cases_in_scope,
    objections_come_only_from_households_the_publication_addresses,
    a_publication_dated_in_the_past_starts_now,
    declined_and_merged_objections_are_settled,
    roster_uploads_cannot_exhaust_memory,
    staff_search_does_not_confirm_a_guessed_phone,
    every_post_route_refuses_a_form_without_its_token,
    the_lottery_page_freezes_with_the_parties_commitments_and_draws_with_their_secrets,
    objects_out_of_scope_are_not_found_like_missing_ones,
    a_cadre_sees_only_the_meetings_of_the_villages_they_work_in,
    staff_see_only_the_objections_they_could_open,
    an_open311_key_reads_only_its_own_requests_in_full,
    on_selection_day_a_household_cannot_claim_from_its_phone,
    cases_go_only_to_those_who_handle_them,
    tracking_guesses_sent_at_once_are_all_counted,
    a_refused_anonymous_appeal_uses_none_of_the_allowance,
);

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn redirects_never_leave_the_site(app: TestApp) {
    let client = app.client();
    for next in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "https://evil.example",
        "/%20/evil.example",
    ] {
        let res = client
            .get(app.url(&format!("/lang?set=en&next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), "/", "/lang with next={next}");
    }
    let res = client
        .get(app.url("/lang?set=en&next=/notices%3Fpage%3D2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&res),
        "/notices?page=2",
        "a local path is followed"
    );

    for next in ["/\t/evil.example", "/\\evil.example", "//evil.example"] {
        let client = app.client();
        let csrf = app.csrf(&client).await;
        let res = client
            .post(app.url("/sign-in"))
            .form(&[
                ("username", "admin"),
                ("password", "demo"),
                ("csrf", &csrf),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/", "sign-in with next={next:?}");
    }
}

async fn parallel_password_guesses_are_all_counted(app: TestApp) {
    // Twenty guesses sent at once: before the fix each read "no failures yet" and all twenty
    // were checked.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = app.client();
        let csrf = app.csrf(&client).await;
        let url = app.url("/sign-in");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .form(&[
                    ("username", "leader"),
                    ("password", format!("guess-{i}").as_str()),
                    ("csrf", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            401 => checked += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused, 20);
    // The right password waits out the lockout too, with a message saying how long.
    let (_, res) = app.sign_in_with("leader", "demo").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = res.text().await.unwrap();
    assert!(html.contains("分钟后再试"), "{html}");
}

async fn a_flood_of_sign_ins_from_one_address_is_refused(app: TestApp) {
    // Different names each time, so only the limit per address can stop it.
    let client = app.client();
    let csrf = app.csrf(&client).await;
    let mut refused_at = None;
    for i in 0..40 {
        let res = client
            .post(app.url("/sign-in"))
            .form(&[
                ("username", format!("nobody{i}").as_str()),
                ("password", "x"),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            refused_at = Some(i);
            let html = res.text().await.unwrap();
            assert!(html.contains("操作太频繁"), "{html}");
            break;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        refused_at,
        Some(30),
        "the 31st attempt within a minute is refused"
    );
}

async fn api_tokens_expire_and_are_revoked(app: TestApp) {
    let api = reqwest::Client::new();
    let get = |token: String| {
        let api = api.clone();
        let url = app.url("/api/v1/villages");
        async move {
            api.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let expired = app
        .api_token("leader", Utc::now() - Duration::seconds(1))
        .await;
    assert_eq!(get(expired).await, 401, "an expired token opens nothing");

    // Revoked on the admin page: refused at once on this node, despite the token cache.
    let live = app
        .api_token("leader", Utc::now() + Duration::days(1))
        .await;
    assert_eq!(get(live.clone()).await, 200);
    let admin = app.sign_in_as(Role::Admin).await;
    let leader_id = app.user_id("leader").await;
    let page = admin
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/admin/users/{leader_id}/tokens/revoke")));
    // Disabling is offered for others, never for the administrator's own account.
    let admin_id = app.user_id("admin").await;
    assert!(page.contains(&format!("/admin/users/{leader_id}/disabled")));
    assert!(!page.contains(&format!("/admin/users/{admin_id}/disabled")));
    // Only administrators revoke.
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = post_form(
        &app,
        &staff,
        &format!("/admin/users/{leader_id}/tokens/revoke"),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(live.clone()).await, 200);
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{leader_id}/tokens/revoke"),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(get(live).await, 401, "revoked");

    // A password change revokes every token of the user.
    let token = app
        .api_token("leader", Utc::now() + Duration::days(1))
        .await;
    assert_eq!(get(token.clone()).await, 200);
    let hash = yongxin_web::auth::hash_password("another password").unwrap();
    app.store
        .set_password(&Actor::user("admin"), leader_id, &hash)
        .await
        .unwrap();
    // The node remembers tokens for a few seconds; the store no longer knows this one.
    assert!(app
        .store
        .api_token_user(&yongxin_web::auth::token_hash(&token), Utc::now())
        .await
        .unwrap()
        .is_none());
    tokio::time::sleep(yongxin_web::API_TOKEN_TTL).await;
    assert_eq!(get(token).await, 401, "revoked by the password change");
}

async fn a_disabled_account_opens_nothing(app: TestApp) {
    let grid_id = app.user_id("grid").await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let token = app.api_token("grid", Utc::now() + Duration::days(1)).await;
    let admin = app.sign_in_as(Role::Admin).await;
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{grid_id}/disabled"),
        &[("disabled", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The session ended, the token is revoked, the password no longer signs in.
    let res = grid.get(app.url("/households")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sent to sign in");
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/villages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (_, res) = app.sign_in_with("grid", "demo").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An administrator cannot lock themselves out.
    let admin_id = app.user_id("admin").await;
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{admin_id}/disabled"),
        &[("disabled", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Enabled again, the password works (old tokens stay revoked).
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{grid_id}/disabled"),
        &[("disabled", "0")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, res) = app.sign_in_with("grid", "demo").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    let client = app.client();
    for path in [
        "/",
        "/sign-in",
        "/static/app.js",
        "/api/v1/villages",
        "/no-such-page",
        "/open311/v2/services.json",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline';") || !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "{path}: no HSTS over plain HTTP"
        );
    }
    let res = client
        .get(app.url("/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(res
        .headers()
        .get("strict-transport-security")
        .is_some_and(|v| v.to_str().unwrap().contains("max-age=")));
    // No page carries inline script, so the policy breaks nothing.
    let admin = app.sign_in_as(Role::Admin).await;
    for path in ["/", "/appeals/new", "/admin/users", "/projects"] {
        let html = admin
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
            assert!(
                tag.contains("src=\"/static/"),
                "{path}: inline script {tag}"
            );
        }
        assert!(!html.contains(" onclick="), "{path}");
    }
}

async fn a_planted_csrf_cookie_is_useless(app: TestApp) {
    // The attacker visits the site, keeps the cookie value it was given and the token of the page,
    // and plants that cookie in the victim's browser (a sibling subdomain can set cookies for the
    // parent domain).
    let attacker = reqwest::Client::new();
    let res = attacker.get(app.url("/sign-in")).send().await.unwrap();
    let planted = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("yongxin_csrf="))
        .unwrap();
    let planted = planted.split(';').next().unwrap().to_owned();
    let html = res.text().await.unwrap();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let attacker_token = html[start..start + 64].to_owned();

    // A cookie of the attacker's own choosing does not tell its token either: the token is
    // keyed by a secret of the installation, not the cookie's bare hash.
    let chosen = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::COOKIE,
                "yongxin_csrf=chosen-by-attacker".parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    for unkeyed in [
        "yongxin-csrf-v1\nanonymous\nchosen-by-attacker",
        "yongxin-csrf-v2\n\nanonymous\nchosen-by-attacker",
    ] {
        let res = chosen
            .post(app.url("/sign-in"))
            .form(&[
                ("username", "admin"),
                ("password", "demo"),
                ("csrf", &yongxin_web::auth::token_hash(unkeyed)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{unkeyed:?}");
    }

    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&planted, &app.url("/").parse().unwrap());
    let victim = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = app.csrf(&victim).await;
    assert_eq!(csrf, attacker_token, "same cookie, same anonymous token");
    let res = victim
        .post(app.url("/sign-in"))
        .form(&[("username", "admin"), ("password", "demo"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The attacker's page makes the victim's browser post with the token the attacker knows.
    let grid_id = app.user_id("grid").await;
    let before = app.store.users().await.unwrap();
    let res = victim
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[
            ("csrf", attacker_token.as_str()),
            ("email", "evil@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the token is bound to the session"
    );
    assert_eq!(app.store.users().await.unwrap(), before, "nothing changed");
    // The session's own token works.
    let res = post_form(
        &app,
        &victim,
        &format!("/admin/users/{grid_id}/email"),
        &[("email", "grid@example.com")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
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

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A phone's JPEG: the primary image with EXIF GPS and an MPF index, then a second, embedded
/// image (a preview or gain map) carrying its own EXIF GPS and XMP.
fn multi_image_jpeg() -> Vec<u8> {
    let image = |secret: &[u8]| {
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut exif = b"Exif\0\0II\x2a\0\x08\0\0\0\0\0GPS ".to_vec();
        exif.extend_from_slice(secret);
        j.extend(segment(0xE1, &exif));
        j.extend(segment(0xE2, b"MPF\0II\x2a\0offsets-of-the-next-image"));
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
        xmp.extend_from_slice(secret);
        j.extend(segment(0xE1, &xmp));
        j.extend(segment(0xDB, &[0; 65]));
        j.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        j
    };
    let mut file = image(b"36.6512N-PRIMARY");
    file.extend(image(b"36.6512N-EMBEDDED"));
    file
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn photos_and_notice_images_lose_the_location_of_every_embedded_image(app: TestApp) {
    let upload = multi_image_jpeg();
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url("/appeals/new"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("category", "other")
                .text("description", "见照片")
                .part(
                    "photo",
                    reqwest::multipart::Part::bytes(upload.clone())
                        .file_name("IMG_0002.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let case = res.headers()["location"].to_str().unwrap().to_owned();
    let html = resident
        .get(app.url(&case))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("<img src=\"").unwrap() + 10;
    let path = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let served = reqwest::get(app.url(&path))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    for secret in [&b"36.6512N"[..], b"MPF\0", b"xmpmeta", b"Exif"] {
        assert!(
            !contains(&served, secret),
            "served photo holds {:?}",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(served.ends_with(&[0xFF, 0xD9]));
    assert_eq!(
        served.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(),
        1,
        "one image, the embedded one is gone"
    );
    // Kept once: the store holds the upload, and the size the page reports is the upload's.
    let token = path.trim_start_matches("/photos/");
    let (photo, stored) = app.store.photo(token).await.unwrap().unwrap();
    assert_eq!(stored, upload);
    assert_eq!(photo.size, i64::try_from(upload.len()).unwrap());

    // A notice's image attachment is cleaned the same way.
    let (notice, _, _) = app.sample_disclosure().await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url(&format!("/notices/{notice}/attachments")))
        .multipart(reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::bytes(upload.clone()).file_name("现场.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = staff
        .get(app.url(&format!("/notices/{notice}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = format!("/notices/{notice}/files/");
    let start = html.find(&marker).unwrap();
    let path = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let served = staff
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!served.is_empty());
    for secret in [&b"36.6512N"[..], b"MPF\0", b"xmpmeta"] {
        assert!(
            !contains(&served, secret),
            "notice image holds {:?}",
            String::from_utf8_lossy(secret)
        );
    }
}

async fn desk_entry_reaches_only_households_in_scope(app: TestApp) {
    let (own, other) = app.household_ids().await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let body = |household: HouseholdId| {
        serde_json::json!({
            "category": "other",
            "description": "来电反映路灯坏了",
            "channel": "phone",
            "contact_name": "张三",
            "contact_phone": "13933334444",
            "household_id": household,
        })
    };
    let res = grid
        .post(app.url("/api/v1/appeals"))
        .json(&body(other))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a household of another grid"
    );
    let res = grid
        .post(app.url("/api/v1/appeals"))
        .json(&body(own))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
}

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

/// Department staff may not see identity numbers in full: nothing they are shown, together,
/// gives one away (the old mask hid exactly the birth date that the same answer showed).
async fn masked_views_do_not_complete_an_id_number(app: TestApp) {
    let (own, _) = app.household_ids().await;
    let detail = app.store.household(own).await.unwrap();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let api: serde_json::Value = staff
        .get(app.url(&format!("/api/v1/households/{own}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let html = staff
        .get(app.url(&format!("/households/{own}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (m, shown) in detail
        .members
        .iter()
        .zip(api["members"].as_array().unwrap())
    {
        let full = m.id_number.as_str();
        let date = m.birth_date.to_string();
        assert_eq!(shown["birth_date"], format!("{}-**-**", &date[..4]));
        let masked = shown["id_number"].as_str().unwrap();
        // The birth date (digits 7-14) and the sequence (15-17) are hidden.
        assert_eq!(&masked[6..17], "*".repeat(11));
        assert!(!html.contains(&date), "the page shows {date}");
        assert!(
            !html.contains(&full[6..14]),
            "the page shows the birth digits"
        );
        assert!(!api.to_string().contains(&full[6..14]));
    }
    // A full view, allowed and recorded, shows the date.
    let grid = app.sign_in_as(Role::GridWorker).await;
    let api: serde_json::Value = grid
        .get(app.url(&format!("/api/v1/households/{own}?full=true")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["members"][0]["birth_date"],
        detail.members[0].birth_date.to_string()
    );
}

/// A case filed by phone in a village, at an address, now.
async fn case_in(app: &TestApp, village: i64, title: &str, address: &str) -> yongxin_store::Appeal {
    let now = Utc::now();
    let mut a = crate::support::phoned_appeal(
        "roads",
        title,
        now,
        now + Duration::days(1),
        now + Duration::days(5),
    );
    a.village_id = Some(village);
    a.address = address.into();
    app.store
        .create_appeal(&Actor::user("staff"), a)
        .await
        .unwrap()
}

async fn villages_of(app: &TestApp) -> (i64, i64) {
    let (own, other) = app.household_ids().await;
    (
        app.store.household(own).await.unwrap().summary.village_id,
        app.store.household(other).await.unwrap().summary.village_id,
    )
}

async fn merging_reaches_only_cases_in_scope_and_tells_the_resident(app: TestApp) {
    let (mine, theirs) = villages_of(&app).await;
    let a = case_in(&app, mine, "路面塌陷", "前街1号").await;
    let b = case_in(&app, theirs, "路面塌陷", "后街9号").await;
    let c = case_in(&app, mine, "路面塌陷（重复）", "前街1号").await;
    let village = app.sign_in_as(Role::VillageOfficer).await;
    let act = |client: reqwest::Client, id: AppealId, into: AppealId| {
        let url = app.url(&format!("/api/v1/appeals/{id}/actions"));
        async move {
            client
                .post(url)
                .json(&serde_json::json!({"action": "merge", "into": into}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        act(village.clone(), a.id, b.id).await,
        400,
        "into a case of another village"
    );
    let (after, _) = app.store.appeal(a.id).await.unwrap();
    assert_eq!(after.status, a.status, "nothing changed");
    let before = app.store.pending_messages().await.unwrap();
    assert_eq!(act(village, c.id, a.id).await, 200);
    assert_eq!(
        app.store.pending_messages().await.unwrap(),
        before + 1,
        "the resident of the merged case is told"
    );
}

async fn hot_issues_name_only_cases_in_scope(app: TestApp) {
    let (_, theirs) = villages_of(&app).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        numbers.push(
            case_in(&app, theirs, &format!("井盖丢失{i}"), "后街9号")
                .await
                .number,
        );
    }
    let leader = app.sign_in_as(Role::Leader).await;
    let html = leader
        .get(app.url("/appeals/hot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        numbers.iter().any(|n| html.contains(n.as_str())),
        "the leader sees them"
    );
    assert!(html.contains("后街9号"));
    let grid = app.sign_in_as(Role::GridWorker).await;
    let res = grid.get(app.url("/appeals/hot")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    for n in &numbers {
        assert!(
            !html.contains(n.as_str()),
            "a grid worker sees {n} of another village"
        );
    }
    assert!(!html.contains("后街9号"), "nor its address");
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

/// A zip archive of the given parts, deflated.
fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in parts {
        z.start_file(*name, options).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

/// The smallest workbook calamine reads, with the given sheet XML.
fn workbook(sheet: &str) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

async fn roster_uploads_cannot_exhaust_memory(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let upload = |bytes: Vec<u8>| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let csrf = app.csrf(&admin).await;
            let res = admin
                .post(app.url("/admin/import"))
                .multipart(reqwest::multipart::Form::new().text("csrf", csrf).part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("roster.xlsx"),
                ))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    let households = app.store.roster().await.unwrap().len();
    // A part that unpacks to 300 MB from a few hundred kilobytes.
    let bomb = zip_of(&[("xl/sharedStrings.xml", &vec![b' '; 300 * 1024 * 1024])]);
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
    let (status, html) = upload(bomb).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("超出导入上限"), "{html}");
    // A sheet of two cells whose range spans the whole grid (17 billion cells if allocated).
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>户号</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#;
    let (status, html) = upload(workbook(sheet)).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("超出导入上限"), "{html}");
    assert_eq!(
        app.store.roster().await.unwrap().len(),
        households,
        "nothing imported"
    );
    // An ordinary small workbook is still read (and refused for its content, row by row).
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>户号</t></is></c></row></sheetData></worksheet>"#;
    let (status, html) = upload(workbook(sheet)).await;
    assert_eq!(status, 422);
    assert!(html.contains("缺少此列"), "{html}");
}

async fn staff_search_does_not_confirm_a_guessed_phone(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = staff
        .post(app.url("/api/v1/appeals"))
        .json(&serde_json::json!({
            "category": "other",
            "description": "来电反映路灯坏了",
            "channel": "phone",
            "contact_name": "赵六",
            "contact_phone": "13955556666",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    app.search_caught_up().await;
    let total = |q: &str| {
        let staff = staff.clone();
        let url = app.url(&format!("/api/v1/appeals?q={q}"));
        async move {
            let v: serde_json::Value = staff.get(url).send().await.unwrap().json().await.unwrap();
            v["total"].as_i64().unwrap_or_else(|| panic!("{v}"))
        }
    };
    assert_eq!(
        total("13955556666").await,
        0,
        "a guessed full number confirms nothing"
    );
    assert_eq!(
        total("6666").await,
        1,
        "the last four digits, as lists show them, find it"
    );
    assert_eq!(total("赵六").await, 1);
}

/// Every POST route the router holds — read from the router's own table, so a route added
/// tomorrow is tried too — refuses a form without the CSRF token, or with another session's,
/// and writes nothing. Forms answer 403; the JSON API 415 (a page elsewhere can send a form,
/// never JSON without asking first); Open311 403 without its key.
async fn every_post_route_refuses_a_form_without_its_token(app: TestApp) {
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let (_, table) = yongxin_web::route_table(&state);
    let posts: Vec<&str> = table
        .iter()
        .filter(|r| r.method == reqwest::Method::POST)
        .map(|r| r.path)
        .collect();
    assert!(posts.len() >= 50, "{} POST routes", posts.len());
    let admin = app.sign_in_as(Role::Admin).await;
    let leader = app.sign_in_as(Role::Leader).await;
    let foreign = app.csrf(&leader).await;
    let (notice, _, _) = app.sample_disclosure().await;
    let head = app.store.audit_head().await.unwrap();
    for path in posts {
        let concrete = path
            .replace("{id}", &notice.to_string())
            .replace("{notice}", &notice.to_string())
            .replace("{hid}", "1")
            .replace("{claim}", "1")
            .replace("{token}", "x")
            .replace("{file}", "requests.json");
        for token in [None, Some(foreign.as_str())] {
            let mut form = vec![("reason", "x"), ("text", "x"), ("to", "selection")];
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let res = admin
                .post(app.url(&concrete))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let expected: &[u16] = if path.starts_with("/api/") {
                &[415]
            } else {
                &[403]
            };
            assert!(
                expected.contains(&status),
                "POST {concrete} with token {token:?} answered {status}"
            );
        }
    }
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        head,
        "nothing was written"
    );
}

/// The project page's freeze form takes the parties' commitments one a line; one party alone is
/// refused and freezes nothing.
async fn the_lottery_page_freezes_with_the_parties_commitments_and_draws_with_their_secrets(
    app: TestApp,
) {
    use yongxin_domain::lottery::commitment_of;
    let (pid, _, _) = app.sample_project(false).await;
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

/// A case or household outside a user's scope answers exactly as one that does not exist, on
/// pages and the API, so probing ids tells nothing; acting on it changes nothing.
async fn objects_out_of_scope_are_not_found_like_missing_ones(app: TestApp) {
    let (_, other) = app.household_ids().await;
    let (_, theirs) = villages_of(&app).await;
    let case = case_in(&app, theirs, "路灯不亮", "后街9号").await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let missing = case.id.get() + 1_000_000;
    for path in [
        format!("/appeals/{}", case.id),
        format!("/api/v1/appeals/{}", case.id),
        format!("/households/{other}"),
        format!("/api/v1/households/{other}"),
    ] {
        let out_of_scope = grid.get(app.url(&path)).send().await.unwrap();
        let nowhere = grid
            .get(
                app.url(
                    &path
                        .replace(&case.id.to_string(), &missing.to_string())
                        .replace(&other.to_string(), &(other.get() + 1_000_000).to_string()),
                ),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(out_of_scope.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(nowhere.status(), StatusCode::NOT_FOUND, "{path} (missing)");
        // The same answer but for the id echoed in the page's own links.
        let strip = |body: String| {
            body.replace(&missing.to_string(), "ID")
                .replace(&(other.get() + 1_000_000).to_string(), "ID")
                .replace(&case.id.to_string(), "ID")
                .replace(&other.to_string(), "ID")
        };
        assert_eq!(
            strip(out_of_scope.text().await.unwrap()),
            strip(nowhere.text().await.unwrap()),
            "{path}: the same answer"
        );
    }
    let csrf = app.csrf(&grid).await;
    let res = grid
        .post(app.url(&format!("/appeals/{}/action", case.id)))
        .form(&[("csrf", csrf.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (after, _) = app.store.appeal(case.id).await.unwrap();
    assert_eq!(after.status, case.status, "nothing changed");

    // A supervision notice on that case: a resident cannot learn whether it exists by answering.
    let due = Utc::now() + Duration::days(2);
    app.store
        .issue_supervision(&Actor::user("leader"), case.id, "请尽快处理", due)
        .await
        .unwrap();
    let notice = app.store.supervision_notices(case.id).await.unwrap()[0].id;
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    for (n, appeal) in [(notice, case.id), (notice + 1000, case.id)] {
        let res = resident
            .post(app.url(&format!("/supervision/{n}/answer")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("answer", "已处理"),
                ("appeal", appeal.to_string().as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "notice {n}");
    }
    assert!(app.store.supervision_notices(case.id).await.unwrap()[0]
        .answer
        .is_none());
}

/// A meeting names its members in full: a cadre of another village neither lists nor opens it.
async fn a_cadre_sees_only_the_meetings_of_the_villages_they_work_in(app: TestApp) {
    let (mine, theirs) = villages_of(&app).await;
    let meeting = |village: i64, title: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .create_meeting(
                    &Actor::user("admin"),
                    yongxin_store::NewMeeting {
                        kind: yongxin_domain::meeting::MeetingKind::Villagers,
                        village_id: Some(village),
                        basis: Some(yongxin_domain::meeting::VillagersBasis::Households),
                        title: title.into(),
                        held_at: Utc::now(),
                        place: "村委会".into(),
                        agenda: "议程".into(),
                        member_id_numbers: vec![],
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let ours = meeting(mine, "本村村民会议").await;
    let other = meeting(theirs, "外村村民会议").await;
    for role in [Role::GridWorker, Role::VillageOfficer] {
        let cadre = app.sign_in_as(role).await;
        let list = cadre
            .get(app.url("/meetings"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(list.contains("本村村民会议"), "{role:?}");
        assert!(!list.contains("外村村民会议"), "{role:?}");
        let api: serde_json::Value = cadre
            .get(app.url("/api/v1/meetings"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<i64> = api
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&ours) && !ids.contains(&other), "{role:?}");
        for path in [
            format!("/meetings/{other}"),
            format!("/api/v1/meetings/{other}"),
        ] {
            let res = cadre.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{role:?} {path}");
        }
        let res = cadre
            .get(app.url(&format!("/meetings/{ours}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{role:?}");
    }
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res = staff
        .get(app.url(&format!("/meetings/{other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the subdistrict's staff see every village's"
    );
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

/// On selection day the operator confirms for the household being called; that household's
/// member cannot claim from a phone, not even while called.
async fn on_selection_day_a_household_cannot_claim_from_its_phone(app: TestApp) {
    let (pid, _, _) = app.sample_project(true).await;
    app.store
        .move_phase(
            &Actor::user("leader"),
            pid,
            yongxin_domain::resettlement::Phase::Selection,
            "",
        )
        .await
        .unwrap()
        .unwrap();
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

/// The table says who handles cases; an assignment to anyone else (a leader, a disabled account)
/// is refused, and the page offers only those who may.
async fn cases_go_only_to_those_who_handle_them(app: TestApp) {
    let (mine, _) = villages_of(&app).await;
    let case = case_in(&app, mine, "路灯不亮", "前街1号").await;
    let users = app.store.users().await.unwrap();
    let id_of = |role: Role| users.iter().find(|u| u.role == role).unwrap().id;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let assign = |cadre: i64| {
        let url = app.url(&format!("/api/v1/appeals/{}/actions", case.id));
        let staff = staff.clone();
        async move {
            staff
                .post(url)
                .json(&serde_json::json!({"action": "assign", "cadre_id": cadre}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let res = staff
        .post(app.url(&format!("/api/v1/appeals/{}/actions", case.id)))
        .json(&serde_json::json!({"action": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (case, _) = app.store.appeal(case.id).await.unwrap();
    let page = staff
        .get(app.url(&format!("/appeals/{}", case.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let leader = id_of(Role::Leader);
    let grid = id_of(Role::GridWorker);
    assert!(
        page.contains(&format!(r#"<option value="{grid}""#)),
        "{page}"
    );
    assert!(!page.contains(&format!(r#"<option value="{leader}""#)));
    assert_eq!(assign(leader).await, 400, "a leader does not take cases");
    assert_eq!(assign(id_of(Role::Admin)).await, 400);
    app.store
        .set_user_disabled(&Actor::user("admin"), grid, true)
        .await
        .unwrap();
    assert_eq!(assign(grid).await, 400, "a disabled account");
    let (after, _) = app.store.appeal(case.id).await.unwrap();
    assert_eq!(after.status, case.status, "nothing changed");
    app.store
        .set_user_disabled(&Actor::user("admin"), grid, false)
        .await
        .unwrap();
    assert_eq!(assign(grid).await, 200);
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
