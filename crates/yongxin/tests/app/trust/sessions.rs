//! Sign-in, sessions and forms: redirects, guessing, floods, tokens, disabled accounts, security headers, CSRF.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    redirects_never_leave_the_site,
    parallel_password_guesses_are_all_counted,
    a_flood_of_sign_ins_from_one_address_is_refused,
    api_tokens_expire_and_are_revoked,
    a_disabled_account_opens_nothing,
    an_ended_session_opens_nothing_here_at_once_and_elsewhere_within_seconds,
    every_answer_carries_the_security_headers,
    a_planted_csrf_cookie_is_useless,
    every_post_route_refuses_a_form_without_its_token,
);

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
    // Used once, so that the node remembers whose session and token they are.
    let res = grid.get(app.url("/households")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/villages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{grid_id}/disabled"),
        &[("disabled", "1")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The session ended, the token is revoked, the password no longer signs in: at once, though
    // the node had them in memory.
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

/// A node remembers a session's user for a few seconds (reading it cost more than the rest of a
/// page's layers): signing out must still end it at once on that node, and on every other node
/// once what it read has aged out.
async fn an_ended_session_opens_nothing_here_at_once_and_elsewhere_within_seconds(app: TestApp) {
    let other = app.another_node().await;
    let (client, res) = app.sign_in_with("grid", "demo").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let prefix = format!("{}=", yongxin_web::context::SESSION_COOKIE);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(prefix.as_str()))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    // The stolen cookie, replayed by someone else.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let households = |node: &TestApp| {
        replay
            .get(node.url("/households"))
            .header("cookie", format!("{prefix}{session}"))
            .send()
    };
    for node in [&app, &other] {
        assert_eq!(households(node).await.unwrap().status(), StatusCode::OK);
    }
    let res = post_form(&app, &client, "/sign-out", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = households(&app).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "refused at once where it ended"
    );
    tokio::time::sleep(yongxin_web::API_TOKEN_TTL).await;
    let res = households(&other).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "refused elsewhere within the TTL"
    );
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
            .replace("{visit_id}", "1")
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
