//! Accounts managed on the web: a new account signs in only after its one-time code sets a
//! password; a reset ends the old password, the sessions and the API tokens at once; a role
//! change takes effect on the next request; a village's residents get accounts in bulk, each with
//! a slip; a grid handed to another cadre takes its open cases and campaign households along, the
//! reason recorded. Refusals change nothing, and only administrators may.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::Actor;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{page, phoned_appeal, post_form, TestApp};

on_each_backend!(
    a_new_account_signs_in_after_its_code_sets_a_password,
    a_reset_ends_the_old_password_sessions_and_tokens,
    residents_get_accounts_in_bulk_and_grids_change_hands
);

/// The code printed on the only slip of a slips page.
fn slip_code(html: &str) -> String {
    let at = html
        .find("class=\"mono code\">")
        .expect("a code on the slip")
        + 18;
    html[at..].split('<').next().unwrap().to_owned()
}

async fn activate(app: &TestApp, username: &str, code: &str, password: &str) -> reqwest::Response {
    let client = app.client();
    post_form(
        app,
        &client,
        "/activate",
        &[
            ("username", username),
            ("code", code),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await
}

async fn a_new_account_signs_in_after_its_code_sets_a_password(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let village = app.store.villages().await.unwrap()[0].id.to_string();
    let res = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("username", "zhou.wu"),
            ("display_name", "周五"),
            ("role", "village_officer"),
            ("village", &village),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let slip = res.text().await.unwrap();
    assert!(
        slip.contains("用心平台账号开通单")
            && slip.contains("zhou.wu")
            && slip.contains("/activate"),
        "{slip}"
    );
    assert!(
        slip.contains("data-print") && !slip.contains("onclick"),
        "the print button is the shared one the page's policy lets run"
    );
    let code = slip_code(&slip);
    // Not before the code is used: no password signs in.
    for guess in ["", "!", "demo"] {
        let (_, res) = app.sign_in_with("zhou.wu", guess).await;
        assert_ne!(res.status(), StatusCode::SEE_OTHER, "{guess:?}");
    }
    // Wrong code, short or mismatched password: refused, nothing changes.
    assert_eq!(
        activate(&app, "zhou.wu", "AAAAA-AAAAA", "a long password")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        activate(&app, "grid", &code, "a long password")
            .await
            .status(),
        StatusCode::BAD_REQUEST,
        "another account's name"
    );
    assert_eq!(
        activate(&app, "zhou.wu", &code, "short").await.status(),
        StatusCode::BAD_REQUEST
    );
    let client = app.client();
    let res = post_form(
        &app,
        &client,
        "/activate",
        &[
            ("username", "zhou.wu"),
            ("code", &code),
            ("password", "a long password"),
            ("confirm", "another one!"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Typed loosely (lower case, spaces for the dash), the code works once.
    let sloppy = code.to_lowercase().replace('-', " ");
    let res = activate(&app, "zhou.wu", &sloppy, "a long password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/sign-in?activated=1");
    let (officer, res) = app.sign_in_with("zhou.wu", "a long password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        activate(&app, "zhou.wu", &code, "yet another password")
            .await
            .status(),
        StatusCode::BAD_REQUEST,
        "spent"
    );
    // Their scope is the village: the desk of a village officer.
    assert!(page(&officer, app.url("/")).await.contains("工作台"));

    // A role change is in force on the next request.
    let id = app.user_id("zhou.wu").await;
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{id}/role"),
        &[("role", "grid_worker")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        !page(&officer, app.url("/")).await.contains("工作台"),
        "no longer a village officer"
    );
    // Refused: a village officer without a village, a resident without a known household, an
    // unknown role, a taken name, an administrator changing their own role.
    let admin_id = app.user_id("admin").await;
    for (path, fields) in [
        (
            format!("/admin/users/{id}/role"),
            vec![("role", "village_officer"), ("village", "")],
        ),
        (
            format!("/admin/users/{id}/role"),
            vec![("role", "resident"), ("household", "NO-SUCH")],
        ),
        (format!("/admin/users/{id}/role"), vec![("role", "king")]),
        (
            format!("/admin/users/{admin_id}/role"),
            vec![("role", "leader")],
        ),
        (
            "/admin/users".to_owned(),
            vec![
                ("username", "grid"),
                ("display_name", "重名"),
                ("role", "grid_worker"),
            ],
        ),
        (
            "/admin/users".to_owned(),
            vec![
                ("username", "a b"),
                ("display_name", "空格"),
                ("role", "grid_worker"),
            ],
        ),
    ] {
        let res = post_form(&app, &admin, &path, &fields).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} {fields:?}");
    }
    assert_eq!(
        app.store.user(id).await.unwrap().unwrap().role,
        Role::GridWorker
    );
    // Only administrators manage accounts.
    let leader = app.sign_in_as(Role::Leader).await;
    for (path, fields) in [
        (
            "/admin/users".to_owned(),
            vec![
                ("username", "x.y"),
                ("display_name", "某"),
                ("role", "admin"),
            ],
        ),
        (format!("/admin/users/{id}/role"), vec![("role", "admin")]),
        (format!("/admin/users/{id}/reset"), vec![]),
        (
            "/admin/users/residents".to_owned(),
            vec![("village", village.as_str())],
        ),
        (
            "/admin/grids/handover".to_owned(),
            vec![("grid", "1"), ("cadre", "1"), ("reason", "x")],
        ),
    ] {
        let res = post_form(&app, &leader, &path, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Without the form's token, nothing is created.
    let res = admin
        .post(app.url("/admin/users"))
        .form(&[
            ("username", "no.csrf"),
            ("display_name", "无"),
            ("role", "leader"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app
        .store
        .user_credentials("no.csrf")
        .await
        .unwrap()
        .is_none());
}

async fn a_reset_ends_the_old_password_sessions_and_tokens(app: TestApp) {
    let leader_id = app.user_id("leader").await;
    let leader = app.sign_in_as(Role::Leader).await;
    let token = app
        .api_token("leader", Utc::now() + Duration::days(1))
        .await;
    let admin = app.sign_in_as(Role::Admin).await;
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/users/{leader_id}/reset"),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let slip = res.text().await.unwrap();
    assert!(slip.contains("密码重置单"));
    let code = slip_code(&slip);
    let res = leader.get(app.url("/households")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the session ended");
    assert!(
        app.store
            .api_token_user(&yongxin_web::auth::token_hash(&token), Utc::now())
            .await
            .unwrap()
            .is_none(),
        "the token is revoked"
    );
    let (_, res) = app.sign_in_with("leader", "demo").await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    assert_eq!(
        activate(&app, "leader", &code, "new leader password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, res) = app.sign_in_with("leader", "new leader password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A second reset replaces an unused code: only the newest works.
    let first = slip_code(
        &post_form(
            &app,
            &admin,
            &format!("/admin/users/{leader_id}/reset"),
            &[],
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    let second = slip_code(
        &post_form(
            &app,
            &admin,
            &format!("/admin/users/{leader_id}/reset"),
            &[],
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(
        activate(&app, "leader", &first, "one more password")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        activate(&app, "leader", &second, "one more password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Everything is in the record.
    let actions: Vec<String> = app
        .store
        .recent_audit_entries(50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"user.reset_code".to_owned())
            && actions.contains(&"user.code_redeemed".to_owned()),
        "{actions:?}"
    );
}

async fn residents_get_accounts_in_bulk_and_grids_change_hands(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let villages = app.store.villages().await.unwrap();
    let v = villages.last().unwrap();
    let households = app.households_in(v.id).await;
    let before = app.store.users().await.unwrap().len();
    let res = post_form(
        &app,
        &admin,
        "/admin/users/residents",
        &[("village", &v.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let slips = res.text().await.unwrap();
    let made = slips.matches("用心平台账号开通单").count() as i64;
    let served_before = households - made;
    assert!(made > 0 && served_before >= 0, "{made} of {households}");
    assert_eq!(
        app.store.users().await.unwrap().len() as i64,
        before as i64 + made
    );
    // Again: every household has one now.
    let res = post_form(
        &app,
        &admin,
        "/admin/users/residents",
        &[("village", &v.id.to_string())],
    )
    .await;
    assert_eq!(
        res.text()
            .await
            .unwrap()
            .matches("用心平台账号开通单")
            .count(),
        0
    );
    let res = post_form(
        &app,
        &admin,
        "/admin/users/residents",
        &[("village", "999999")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A grid handed over: the old cadre's open cases of the grid go to the new one.
    let grid_user = app.user_id("grid").await;
    let grid = app
        .store
        .grids(None)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.cadre_user_id == Some(grid_user))
        .unwrap();
    let now = Utc::now();
    let mut a = phoned_appeal(
        "roads",
        "网格里的路坑",
        now,
        now + Duration::days(1),
        now + Duration::days(7),
    );
    a.grid_id = Some(grid.id);
    a.village_id = Some(grid.village_id);
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: a,
                submitted_by: "staff".into(),
                history: vec![
                    (now, "staff".into(), AppealAction::Accept),
                    (
                        now,
                        "staff".into(),
                        AppealAction::Assign {
                            department: None,
                            cadre: Some(grid_user),
                        },
                    ),
                    (now, "grid".into(), AppealAction::Contact),
                ],
            }],
            Default::default(),
        )
        .await
        .unwrap();
    let officer = app.user_id("village").await;
    let res = post_form(
        &app,
        &admin,
        "/admin/grids/handover",
        &[
            ("grid", &grid.id.to_string()),
            ("cadre", &officer.to_string()),
            ("reason", "网格员调岗"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = page(&admin, app.url(res.headers()["location"].to_str().unwrap())).await;
    assert!(done.contains("转办在办诉求 1 件"), "{done}");
    let moved = app
        .store
        .search_appeals(&yongxin_store::AppealQuery {
            text: Some("网格里的路坑".into()),
            ..yongxin_store::AppealQuery::within(yongxin_store::AppealScope::All, 1)
        })
        .await
        .unwrap()
        .appeals
        .remove(0);
    assert_eq!(moved.cadre_user_id, Some(officer));
    let (_, events) = app.store.appeal(moved.id).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == "transfer" && e.text.as_deref() == Some("网格员调岗")));
    let g = app
        .store
        .grids(None)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == grid.id)
        .unwrap();
    assert_eq!(g.cadre_user_id, Some(officer));
    // A handover to someone who does not handle cases, or without a reason, is refused.
    let leader = app.user_id("leader").await;
    for fields in [
        vec![
            ("grid", grid.id.to_string()),
            ("cadre", leader.to_string()),
            ("reason", "x".to_owned()),
        ],
        vec![
            ("grid", grid.id.to_string()),
            ("cadre", officer.to_string()),
            ("reason", " ".to_owned()),
        ],
        vec![
            ("grid", "0".to_owned()),
            ("cadre", officer.to_string()),
            ("reason", "x".to_owned()),
        ],
    ] {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = post_form(&app, &admin, "/admin/grids/handover", &f).await;
        assert!(res.status().is_client_error(), "{fields:?}");
    }
}
