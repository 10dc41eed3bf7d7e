//! The application over HTTP.

use reqwest::Method;
use reqwest::StatusCode;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{HouseholdId, ProjectId};

use crate::on_each_backend;
use crate::support::{json, page, status, TestApp};

on_each_backend!(
    every_route_answers_every_role_as_intended,
    sessions_use_safe_cookies,
    forms_without_the_csrf_token_change_nothing,
    repeated_failed_sign_ins_make_the_account_wait,
    lists_are_masked_and_every_full_view_is_recorded,
    api_tokens_and_json_errors,
    household_search_and_paging,
    the_language_choice_is_remembered,
    openapi_describes_every_api_route,
    health_and_metrics,
    uploaded_rosters_are_all_or_nothing,
    the_route_table_is_unchanged,
);

/// Every route, and the handler that answers it, against the committed lists: a restructuring
/// must keep `routes.txt` as it is, and may change `route_handlers.txt` only by the moves it
/// intends. After an intended change, run with `UPDATE_GOLDEN=1` and review the diff.
async fn the_route_table_is_unchanged(app: TestApp) {
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());
    let (_, table) = yongxin_web::route_table(&state);
    let mut routes: Vec<String> = table
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let mut handlers: Vec<String> = table
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.handler))
        .collect();
    routes.sort();
    handlers.sort();
    golden("routes.txt", &(routes.join("\n") + "\n"));
    golden("route_handlers.txt", &(handlers.join("\n") + "\n"));
}

fn golden(name: &str, got: &str) {
    let path = format!("{}/tests/app/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(want, got, "{name} changed");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Forbidden,
    /// Out of the user's scope: answered as if it did not exist.
    NotFound,
    SignIn,
    Unauthorized,
    Redirect,
}

const ALL: [Role; 6] = Role::ALL;
const CADRES: [Role; 5] = [
    Role::GridWorker,
    Role::VillageOfficer,
    Role::DepartmentStaff,
    Role::Leader,
    Role::Admin,
];

/// The route matrix: every route, every role and no sign-in at all.
async fn every_route_answers_every_role_as_intended(app: TestApp) {
    let ids = SampleIds::gather(&app).await;
    let routes = [
        resettlement_routes(&ids),
        selection_routes(&ids),
        site_routes(),
        registry_routes(&ids),
        appeal_routes(),
        household_api_routes(&ids),
        project_admin_routes(),
        notice_routes(&ids),
        consultation_routes(&ids),
        meeting_routes(&ids),
        campaign_routes(&ids),
    ]
    .concat();
    let failures = answers_not_as_intended(&app, &routes).await;
    assert!(
        failures.is_empty(),
        "route matrix:\n{}",
        failures.join("\n")
    );
}

/// One row of the route matrix: the path, the roles allowed, what the others get and what an
/// anonymous visitor gets.
type RouteRow = (String, Vec<Role>, Expect, Expect);

/// Those who publish notices and consultations.
const PUBLISHERS: [Role; 3] = [Role::DepartmentStaff, Role::Leader, Role::Admin];
/// Those who assess a resettlement project's households and run its selection.
const ASSESSORS: [Role; 3] = [Role::DepartmentStaff, Role::Leader, Role::Admin];
/// Those who organise villagers' meetings.
const ORGANISERS: [Role; 4] = [
    Role::VillageOfficer,
    Role::DepartmentStaff,
    Role::Leader,
    Role::Admin,
];

/// The records the route matrix visits: the resident's own household and one in another
/// village, a notice, a consultation and a meeting, and a drawn project open for selection.
struct SampleIds {
    own: HouseholdId,
    other: HouseholdId,
    notice: i64,
    consultation: i64,
    meeting: i64,
    project: ProjectId,
    selection: i64,
    campaign: i64,
}

impl SampleIds {
    async fn gather(app: &TestApp) -> Self {
        let (own, other) = app.household_ids().await;
        let (notice, consultation, meeting) = app.sample_disclosure().await;
        let (project, selection) = app.sample_selection().await;
        let campaign = app.sample_campaign().await;
        Self {
            campaign,
            own,
            other,
            notice,
            consultation,
            meeting,
            project,
            selection,
        }
    }
}

/// Resettlement projects: the list, a project's households, registrations, lottery, board and
/// agreements, and their API.
fn resettlement_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let SampleIds {
        own,
        other,
        project,
        ..
    } = ids;
    vec![
        ("/projects".into(), ALL.to_vec(), Expect::Ok, Expect::SignIn),
        (
            format!("/projects/{project}"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/households"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/households/{own}"),
            ALL.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/households/{other}"),
            ASSESSORS.to_vec(),
            Expect::NotFound,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/registrations"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/lottery"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/projects/{project}/lottery/proof.json"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/api/v1/projects".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/projects/{project}"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/projects/{project}/households"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/projects/{project}/households/{own}/entitlement"),
            ALL.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/projects/{project}/lottery/proof"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/projects/{project}/board"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/projects/{project}/agreements"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/projects/{project}/agreements.xlsx"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
    ]
}

/// The selection day: the operator's screen, online choosing and the selections' API.
fn selection_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let selection = ids.selection;
    vec![
        (
            format!("/selections/{selection}/operator"),
            ASSESSORS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        // The resident's household is not on the sample's list; no one else chooses online.
        (
            format!("/selections/{selection}/choose"),
            vec![],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/api/v1/selections".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/selections/{selection}/units"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
    ]
}

/// The site itself: the home page, signing in, the language switch, static files, health and
/// metrics.
fn site_routes() -> Vec<RouteRow> {
    vec![
        ("/".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        ("/sign-in".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        (
            "/lang?set=en&next=/".into(),
            ALL.to_vec(),
            Expect::Redirect,
            Expect::Redirect,
        ),
        (
            "/static/app.css".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/static/app.js".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        ("/healthz".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        (
            "/public/appeals.csv".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/metrics".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
    ]
}

/// The register of villages, grids and households, the audit log, administration of users,
/// imports and exports, and the registry's API.
fn registry_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let SampleIds { own, other, .. } = ids;
    vec![
        (
            "/villages".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/grids".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/households".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::SignIn,
        ),
        (
            format!("/households/{own}"),
            ALL.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/households/{own}?full=1"),
            vec![
                Role::Resident,
                Role::GridWorker,
                Role::VillageOfficer,
                Role::Leader,
                Role::Admin,
            ],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/households/{other}"),
            vec![Role::DepartmentStaff, Role::Leader, Role::Admin],
            Expect::NotFound,
            Expect::SignIn,
        ),
        (
            "/audit".into(),
            vec![Role::Leader, Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/admin/users".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/admin/import".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/admin/export?what=households&format=csv".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/api/v1/openapi.json".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/api/v1/villages".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            "/api/v1/grids".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            "/api/v1/households".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Unauthorized,
        ),
    ]
}

/// Appeals: filing, tracking, the public list, supervision, statistics, categories, the working
/// calendar and Open311.
fn appeal_routes() -> Vec<RouteRow> {
    vec![
        (
            "/api/v1/appeals".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Unauthorized,
        ),
        ("/appeals".into(), ALL.to_vec(), Expect::Ok, Expect::SignIn),
        (
            "/admin/categories".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/public/appeals".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/appeals/hot".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/supervision".into(),
            vec![Role::DepartmentStaff, Role::Leader, Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/appeals/export.xlsx".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/appeals/stats".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/api/v1/appeals/stats".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        ("/appeals/new".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        (
            "/appeals/new?category=noise".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        ("/track".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        (
            "/admin/calendar".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/admin/open311".into(),
            vec![Role::Admin],
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/open311/v2/services.json".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/open311/v2/requests.xml".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
    ]
}

/// A household over the API: the resident's own, and one out of most users' scope.
fn household_api_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let SampleIds { own, other, .. } = ids;
    vec![
        (
            format!("/api/v1/households/{own}"),
            ALL.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/households/{other}"),
            vec![Role::DepartmentStaff, Role::Leader, Role::Admin],
            Expect::NotFound,
            Expect::Unauthorized,
        ),
    ]
}

/// Administration of resettlement projects.
fn project_admin_routes() -> Vec<RouteRow> {
    vec![(
        "/admin/projects".into(),
        vec![Role::Leader, Role::Admin],
        Expect::Forbidden,
        Expect::SignIn,
    )]
}

/// Notices: the list and feed, a notice, its history, correction and coverage, and their API.
fn notice_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let notice = ids.notice;
    vec![
        ("/notices".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        ("/notices.atom".into(), ALL.to_vec(), Expect::Ok, Expect::Ok),
        (
            format!("/notices/{notice}"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/notices/{notice}/history"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/notices/new".into(),
            PUBLISHERS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/notices/{notice}/correct"),
            PUBLISHERS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/notices/{notice}/coverage"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/api/v1/notices".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/api/v1/notices/{notice}"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
    ]
}

/// Consultations: the list, one consultation, its results, and their API.
fn consultation_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let consultation = ids.consultation;
    vec![
        (
            "/consultations".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/consultations/{consultation}"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/consultations/new".into(),
            PUBLISHERS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/consultations/{consultation}/results"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/api/v1/consultations".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/api/v1/consultations/{consultation}"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            format!("/api/v1/consultations/{consultation}/results"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
    ]
}

/// Villagers' meetings: the list, a new meeting, a meeting and its sign-in, and their API.
fn meeting_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let meeting = ids.meeting;
    vec![
        (
            "/meetings".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/meetings/new".into(),
            ORGANISERS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/meetings/{meeting}"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/meetings/{meeting}/sign-in"),
            ALL.to_vec(),
            Expect::Ok,
            Expect::SignIn,
        ),
        (
            "/api/v1/meetings".into(),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
        (
            format!("/api/v1/meetings/{meeting}"),
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ),
    ]
}

/// Door-to-door campaigns: those who run them and those who knock on doors; the phone page only
/// for the latter, creation only for the former.
fn campaign_routes(ids: &SampleIds) -> Vec<RouteRow> {
    let campaign = ids.campaign;
    let visitors = vec![
        Role::GridWorker,
        Role::VillageOfficer,
        Role::DepartmentStaff,
        Role::Leader,
    ];
    let mut rows = vec![
        (
            "/campaigns/new".into(),
            PUBLISHERS.to_vec(),
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            format!("/campaigns/{campaign}/walk"),
            visitors,
            Expect::Forbidden,
            Expect::SignIn,
        ),
        (
            "/campaigns/sw.js".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
        (
            "/static/walk.js".into(),
            ALL.to_vec(),
            Expect::Ok,
            Expect::Ok,
        ),
    ];
    for path in [
        "/campaigns".to_owned(),
        format!("/campaigns/{campaign}"),
        format!("/campaigns/{campaign}/households"),
        format!("/campaigns/{campaign}/sheet"),
    ] {
        rows.push((path, CADRES.to_vec(), Expect::Forbidden, Expect::SignIn));
    }
    for path in [
        "/api/v1/campaigns".to_owned(),
        format!("/api/v1/campaigns/{campaign}"),
        format!("/api/v1/campaigns/{campaign}/coverage?group_by=grid"),
        format!("/api/v1/campaigns/{campaign}/unreached"),
    ] {
        rows.push((
            path,
            CADRES.to_vec(),
            Expect::Forbidden,
            Expect::Unauthorized,
        ));
    }
    rows
}

/// Asks every route as every role and as no one, and returns each answer that is not the one the
/// table intends.
async fn answers_not_as_intended(app: &TestApp, routes: &[RouteRow]) -> Vec<String> {
    let mut clients = Vec::new();
    for role in ALL {
        clients.push((Some(role), app.sign_in_as(role).await));
    }
    clients.push((None, app.client()));
    let mut failures = Vec::new();
    for (path, allowed, otherwise, anonymous) in routes {
        for (role, client) in &clients {
            let expect = match role {
                None => *anonymous,
                Some(r) if allowed.contains(r) => {
                    if *otherwise == Expect::Redirect {
                        Expect::Redirect
                    } else {
                        Expect::Ok
                    }
                }
                Some(_) => *otherwise,
            };
            let res = client
                .request(Method::GET, app.url(path))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let got = match status {
                200 => Expect::Ok,
                403 => Expect::Forbidden,
                404 => Expect::NotFound,
                401 => Expect::Unauthorized,
                303 if location.starts_with("/sign-in?next=") => Expect::SignIn,
                303 => Expect::Redirect,
                _ => {
                    failures.push(format!("{path} as {role:?}: status {status}"));
                    continue;
                }
            };
            if got != expect {
                failures.push(format!(
                    "{path} as {role:?}: expected {expect:?}, got {got:?} ({status})"
                ));
            }
        }
    }
    failures
}

async fn sessions_use_safe_cookies(app: TestApp) {
    let (_, res) = app.sign_in_with("admin", "demo").await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("yongxin_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not mark Secure: {cookie}"
    );
    // Behind an HTTPS proxy the cookie is Secure.
    let client = app.client();
    let csrf = app.csrf(&client).await;
    let res = client
        .post(app.url("/sign-in"))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("username", "admin"),
            ("password", "demo"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("yongxin_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Signing out ends the session on the server, not just in the browser.
    let html = page(&client, app.url("/")).await;
    assert!(html.contains("/sign-out"));
    // The token of the anonymous form no longer works: a signed-in user's token is derived from
    // the session.
    let res = client
        .post(app.url("/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let csrf = app.csrf(&client).await;
    let res = client
        .post(app.url("/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status(&client, app.url("/villages")).await, 303);
}

async fn forms_without_the_csrf_token_change_nothing(app: TestApp) {
    let client = app.client();
    app.csrf(&client).await;
    let res = client
        .post(app.url("/sign-in"))
        .form(&[
            ("username", "admin"),
            ("password", "demo"),
            ("csrf", "0".repeat(64).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("表单已过期"));
    assert_eq!(
        status(&client, app.url("/villages")).await,
        303,
        "no session was opened"
    );

    let admin = app.sign_in_as(Role::Admin).await;
    let res = admin
        .post(app.url("/sign-out"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        status(&admin, app.url("/villages")).await,
        200,
        "still signed in"
    );
    let before = app.store.audit_head().await.unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", "forged").part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("r.csv"),
    );
    let res = admin
        .post(app.url("/admin/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.audit_head().await.unwrap(), before);
}

async fn repeated_failed_sign_ins_make_the_account_wait(app: TestApp) {
    for _ in 0..5 {
        let (_, res) = app.sign_in_with("leader", "wrong-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("用户名或密码不正确"));
    }
    let (_, res) = app.sign_in_with("leader", "demo").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password must wait too"
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains("15 分钟") || text.contains("14 分钟"),
        "{text}"
    );
    // Another account from the same address is not affected.
    let (_, res) = app.sign_in_with("admin", "demo").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn lists_are_masked_and_every_full_view_is_recorded(app: TestApp) {
    let (own, _) = app.household_ids().await;
    let detail = app.store.household(own).await.unwrap();
    let head_id = detail.members[0].id_number.as_str().to_owned();
    let grid = app.sign_in_as(Role::GridWorker).await;
    let list = page(&grid, app.url("/households")).await;
    assert!(
        list.contains(&format!(
            "{}{}{}",
            &head_id[..2],
            "*".repeat(15),
            &head_id[17..]
        )),
        "masked ID in list"
    );
    assert!(!list.contains(&head_id), "full ID must not be in a list");
    let detail_page = page(&grid, app.url(&format!("/households/{own}"))).await;
    assert!(!detail_page.contains(&head_id));
    assert!(
        detail_page.contains(&detail.grid.cadre_name),
        "the responsible cadre is named"
    );

    let before = app.store.audit_head().await.unwrap().unwrap().0;
    let full_page = page(&grid, app.url(&format!("/households/{own}?full=1"))).await;
    assert!(full_page.contains(&head_id));
    let last = &app.store.recent_audit_entries(1).await.unwrap()[0];
    assert_eq!(
        (last.seq, last.actor.as_str(), last.action.as_str()),
        (before + 1, "grid", "household.view_full")
    );
    assert_eq!(last.entity, format!("household:{own}"));

    let api = json(
        &grid,
        app.url(&format!("/api/v1/households/{own}?full=true")),
    )
    .await;
    assert_eq!(api["members"][0]["id_number"], head_id.as_str());
    assert_eq!(app.store.audit_head().await.unwrap().unwrap().0, before + 2);

    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let signed_in = app.store.audit_head().await.unwrap();
    assert_eq!(
        status(&staff, app.url(&format!("/households/{own}?full=1"))).await,
        403
    );
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        signed_in,
        "a refused view is not a view"
    );
}

async fn api_tokens_and_json_errors(app: TestApp) {
    let token = yongxin_web::auth::random_token();
    let leader = app
        .store
        .user_credentials("leader")
        .await
        .unwrap()
        .unwrap()
        .0;
    app.store
        .create_api_token(
            &Actor::user("test"),
            leader.id,
            &yongxin_web::auth::token_hash(&token),
            chrono::Utc::now() + chrono::Duration::days(90),
        )
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let res = client
        .get(app.url("/api/v1/villages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let villages: serde_json::Value = res.json().await.unwrap();
    assert_eq!(villages.as_array().unwrap().len(), app.demo.villages.len());
    assert_eq!(villages[0]["name"], app.demo.villages[0].name.as_str());

    let res = client
        .get(app.url("/api/v1/villages"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].as_str().unwrap().len() > 3);
    let res = client
        .get(app.url("/api/v1/households/999999"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    let res = client
        .get(app.url("/api/v1/nothing-here"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client
        .get(app.url("/api/v1/households?page=0"))
        .header("accept-language", "en")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_param");
    assert!(body["error"]["message"].as_str().unwrap().contains("page"));
}

async fn household_search_and_paging(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let get = |q: String| {
        let admin = admin.clone();
        let url = app.url(&format!("/api/v1/households?{q}"));
        async move {
            admin
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let all = get("per_page=5".into()).await;
    assert_eq!(all["total"], app.demo.households.len());
    assert_eq!(all["households"].as_array().unwrap().len(), 5);
    let page2 = get("per_page=5&page=2".into()).await;
    assert_ne!(page2["households"][0]["id"], all["households"][0]["id"]);
    let target = &app.demo.households[4];
    let id_last4 = target.members[0].id_number.last4().to_owned();
    for q in [
        target.members[0].name.clone(),
        id_last4,
        target.address.clone(),
    ] {
        let found = get(format!("q={}", yongxin_web::context::percent_encode(&q))).await;
        assert!(
            found["households"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["key"] == target.key.as_str()),
            "search {q}"
        );
    }
    let head_id = target.members[0].id_number.as_str();
    let found = get(format!("q={}", &head_id[14..])).await;
    assert!(!found.to_string().contains(head_id), "API lists are masked");
    // The HTML list pages and filters too.
    let html = page(&admin, app.url("/households?per_page=2&page=2")).await;
    assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
    let res = admin
        .get(app.url("/households?page=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A village officer filtering on another village gets nothing, not that village.
    let village = app.sign_in_as(Role::VillageOfficer).await;
    let other = app.store.villages().await.unwrap()[1].id;
    let found: serde_json::Value = json(
        &village,
        app.url(&format!("/api/v1/households?village={other}")),
    )
    .await;
    assert_eq!(found["total"], 0);
}

async fn the_language_choice_is_remembered(app: TestApp) {
    let client = app.client();
    let html = page(&client, app.url("/sign-in")).await;
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("登录"));
    let res = client
        .get(app.url("/lang?set=en&next=/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/sign-in");
    let html = page(&client, app.url("/sign-in")).await;
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("User name"),
        "{html}"
    );
    // Offline: nothing on a page is fetched from another host.
    for attr in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(http",
    ] {
        assert!(!html.contains(attr), "external asset: {attr}");
    }
    let res = client
        .get(app.url("/lang?set=en&next=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(status(&client, app.url("/lang?set=klingon")).await, 400);
}

async fn openapi_describes_every_api_route(app: TestApp) {
    let doc: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    for p in [
        "/api/v1/villages",
        "/api/v1/grids",
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/notices",
        "/api/v1/notices/{id}",
        "/api/v1/notices/{id}/objections",
        "/api/v1/consultations",
        "/api/v1/consultations/{id}",
        "/api/v1/consultations/{id}/answers",
        "/api/v1/consultations/{id}/results",
        "/api/v1/meetings",
        "/api/v1/meetings/{id}",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/households",
        "/api/v1/projects/{id}/households/{household_id}/entitlement",
        "/api/v1/projects/{id}/registrations",
        "/api/v1/projects/{id}/lottery/freeze",
        "/api/v1/projects/{id}/lottery/draw",
        "/api/v1/projects/{id}/lottery/commitment",
        "/api/v1/categories",
        "/api/v1/projects/{id}/lottery/proof",
        "/api/v1/selections",
        "/api/v1/selections/{id}/claims",
        "/api/v1/selections/{id}/units",
        "/api/v1/campaigns",
        "/api/v1/campaigns/{id}",
        "/api/v1/campaigns/{id}/visits",
        "/api/v1/campaigns/{id}/coverage",
        "/api/v1/campaigns/{id}/unreached",
    ] {
        assert!(paths.contains(&p.to_owned()), "{p} missing from {paths:?}");
    }
    // Every documented path exists and answers its documented methods (GETs here; POSTs are
    // exercised by their own tests, and answer 405 to GET only when they have no GET).
    let admin = app.sign_in_as(Role::Admin).await;
    let (own, _) = app.household_ids().await;
    let appeal: serde_json::Value = admin
        .post(app.url("/api/v1/appeals"))
        .json(&serde_json::json!({"category": "other", "description": "测试", "contact_name": "王五", "contact_phone": "13900000000"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (notice, consultation, meeting) = app.sample_disclosure().await;
    let (project, selection) = app.sample_selection().await;
    let campaign = app.sample_campaign().await;
    for (p, item) in doc["paths"].as_object().unwrap() {
        let id = if p.contains("campaigns") {
            campaign.to_string()
        } else if p.contains("projects") {
            project.to_string()
        } else if p.contains("selections") {
            selection.to_string()
        } else if p.contains("appeals") {
            appeal["id"].to_string()
        } else if p.contains("notices") {
            notice.to_string()
        } else if p.contains("consultations") {
            consultation.to_string()
        } else if p.contains("meetings") {
            meeting.to_string()
        } else {
            own.to_string()
        };
        let url = app.url(
            &p.replace("{id}", &id)
                .replace("{household_id}", &own.to_string()),
        );
        let status = admin.get(url).send().await.unwrap().status();
        if item.get("get").is_some() {
            assert_eq!(status, 200, "GET {p}");
        } else {
            assert_eq!(status, 405, "{p} has no GET");
        }
    }
    assert!(doc["components"]["schemas"]["HouseholdDto"].is_object());
}

async fn health_and_metrics(app: TestApp) {
    assert_eq!(
        reqwest::get(app.url("/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok\n"
    );
    let admin = app.sign_in_as(Role::Admin).await;
    for _ in 0..3 {
        admin.get(app.url("/households")).send().await.unwrap();
    }
    // Route counts and pool figures tell an attacker what is busy: administrators only.
    let anonymous = app.client();
    let res = anonymous.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "anonymous callers are sent to sign in"
    );
    let grid = app.sign_in_as(Role::GridWorker).await;
    let res = grid.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let text = admin
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "yongxin_http_requests_total{method=\"GET\",route=\"/households\",status=\"200\"} 3"
        ),
        "{text}"
    );
    assert!(text.contains(
        "yongxin_http_request_duration_seconds_bucket{route=\"/households\",le=\"+Inf\"} 3"
    ));
    assert!(text.contains("yongxin_db_pool_connections{backend="));
}

async fn uploaded_rosters_are_all_or_nothing(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let csrf = app.csrf(&admin).await;
    let count = || async {
        app.store
            .villages()
            .await
            .unwrap()
            .iter()
            .map(|v| v.resident_count)
            .sum::<i64>()
    };
    let before = count().await;
    let head = app.store.audit_head().await.unwrap();
    let good1 = yongxin_domain::IdNumber::from_first_17("37011219800101001").unwrap();
    let good2 = yongxin_domain::IdNumber::from_first_17("37011219820202002").unwrap();
    let mut bad = good2.as_str().to_owned();
    let last = if bad.ends_with('0') { "1" } else { "0" };
    bad.replace_range(17.., last);
    let v = &app.demo.villages[0];
    let roster = |second_id: &str| {
        format!(
            "户号,村/社区,网格,地址,姓名,性别,出生日期,身份证号,手机号,与户主关系\n\
             NEW-1,{},{},新村1号,张三,男,1980-01-01,{},13900001111,户主\n\
             NEW-1,{},{},新村1号,李四,女,1982-02-02,{},,配偶\n",
            v.name,
            v.grids[0].code,
            good1.as_str(),
            v.name,
            v.grids[0].code,
            second_id
        )
    };
    let upload = |body: String| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(body.into_bytes()).file_name("roster.csv"),
            );
        admin.post(app.url("/admin/import")).multipart(form).send()
    };
    let res = upload(roster(&bad)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("第 3 行，身份证号：身份证号校验位错误"),
        "{html}"
    );
    assert_eq!(count().await, before);
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        head,
        "nothing recorded either"
    );

    let res = upload(roster(good2.as_str())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(count().await, before + 2);
    let entry = &app.store.recent_audit_entries(1).await.unwrap()[0];
    assert_eq!(
        (entry.actor.as_str(), entry.action.as_str()),
        ("admin", "household.import")
    );
}
