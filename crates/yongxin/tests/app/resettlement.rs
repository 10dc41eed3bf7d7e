//! Resettlement (拆迁安置) through HTTP: a policy published as TOML (and refused with its field),
//! phases enforced, registration online and in person checked against the entitlement, the
//! calculation line by line, results published with masked names, corrections kept as history,
//! objections holding back the lottery, and a lottery frozen, drawn once and verifiable by anyone.

use reqwest::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use yongxin_domain::money::Fen;
use yongxin_domain::resettlement::policy::EXAMPLE_TOML;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{AppealId, HouseholdId, ProjectId};

use crate::on_each_backend;
use crate::support::{json as get_json, page, status, TestApp};

on_each_backend!(
    a_project_goes_from_policy_to_published_results,
    the_lottery_waits_for_objections_is_drawn_once_and_verifiable
);

use crate::support::post_form as post;

async fn post_json(app: &TestApp, client: &Client, path: &str, body: Value) -> (u16, Value) {
    crate::support::post_json(client, app.url(path), body).await
}

/// The resident's village and the next one, as a project (created through the admin form).
async fn project(app: &TestApp, leader: &Client) -> (ProjectId, Vec<HouseholdId>) {
    let (own, other) = app.household_ids().await;
    let v1 = app.store.household(own).await.unwrap().summary.village_id;
    let v2 = app.store.household(other).await.unwrap().summary.village_id;
    let res = post(
        app,
        leader,
        "/admin/projects",
        &[
            ("code", "two"),
            ("name", "两村整合项目"),
            ("villages", &v1.to_string()),
            ("villages", &v2.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let projects = get_json(leader, app.url("/api/v1/projects")).await;
    let p = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "two")
        .unwrap();
    assert_eq!(p["phase"], "preparation");
    let households = app
        .store
        .project_households(ProjectId(p["id"].as_i64().unwrap()), 1, 500, false)
        .await
        .unwrap()
        .0;
    (
        ProjectId(p["id"].as_i64().unwrap()),
        households.iter().map(|h| h.household.id).collect(),
    )
}

fn fen(v: &Value) -> i64 {
    v.as_str().unwrap().parse::<Fen>().unwrap().0
}

/// The API's entitlement adds up: each group's lines to its total, net from the totals.
fn check_sums(e: &Value) {
    let lines = e["lines"].as_array().unwrap();
    for group in ["compensation", "purchase", "cash_for_unused"] {
        let sum: i64 = lines
            .iter()
            .filter(|l| l["group"] == group)
            .map(|l| fen(&l["amount"]))
            .sum();
        assert_eq!(sum, fen(&e["totals"][group]), "{group}: {e}");
    }
    let t = &e["totals"];
    assert_eq!(
        fen(&t["net"]),
        fen(&t["compensation"]) + fen(&t["cash_for_unused"]) - fen(&t["purchase"])
    );
}

/// A project of two villages through the web, from its policy to published results: each phase
/// allows only what it should, registration and assessment are checked and priced line by line,
/// and a correction after publication keeps the published result as history.
async fn a_project_goes_from_policy_to_published_results(app: TestApp) {
    let story = ProjectStory::start(&app).await;
    a_policy_with_overlapping_bands_is_refused_with_its_field(&story).await;
    only_managers_publish_the_policy(&story).await;
    registration_waits_for_its_phase(&story).await;
    residents_register_their_own_household_online(&story).await;
    the_grid_cadre_registers_in_person(&story).await;
    assessment_prices_measured_structures_and_fixtures(&story).await;
    results_are_published_with_names_masked(&story).await;
    after_publication_only_a_correction_with_a_reason(&story).await;
    the_lottery_waits_for_the_objection_window(&story).await;
    the_households_list_masks_names(&story).await;
    app.store.verify_audit().await.unwrap().unwrap();
}

/// The project the policy-to-results story follows, the four users who work on it, and the
/// resident's own household with one in another village.
struct ProjectStory<'a> {
    app: &'a TestApp,
    leader: Client,
    staff: Client,
    resident: Client,
    grid: Client,
    pid: ProjectId,
    households: Vec<HouseholdId>,
    own: HouseholdId,
    other: HouseholdId,
}

impl<'a> ProjectStory<'a> {
    async fn start(app: &'a TestApp) -> Self {
        let leader = app.sign_in_as(Role::Leader).await;
        let staff = app.sign_in_as(Role::DepartmentStaff).await;
        let resident = app.sign_in_as(Role::Resident).await;
        let grid = app.sign_in_as(Role::GridWorker).await;
        let (pid, households) = project(app, &leader).await;
        let (own, other) = app.household_ids().await;
        Self {
            app,
            leader,
            staff,
            resident,
            grid,
            pid,
            households,
            own,
            other,
        }
    }
}

/// A policy whose bands overlap is refused with the field, and its text is kept on the page.
async fn a_policy_with_overlapping_bands_is_refused_with_its_field(story: &ProjectStory<'_>) {
    let (app, leader, pid) = (story.app, &story.leader, story.pid);
    let head = app.store.audit_head().await.unwrap();
    let broken = EXAMPLE_TOML.replacen("from = \"10\"", "from = \"5\"", 1);
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/policy"),
        &[("source", &broken)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("price.band[1].from") && body.contains("重叠"),
        "{body}"
    );
    assert!(
        ["from = &quot;5&quot;", "from = &#34;5&#34;", "from = \"5\""]
            .iter()
            .any(|t| body.contains(t)),
        "the text is kept"
    );
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        head,
        "nothing recorded"
    );
}

/// Only managers publish the policy; residents read it rendered in its notice, with the TOML to
/// download.
async fn only_managers_publish_the_policy(story: &ProjectStory<'_>) {
    let (app, leader, staff, resident, pid) = (
        story.app,
        &story.leader,
        &story.staff,
        &story.resident,
        story.pid,
    );
    let res = post(
        app,
        staff,
        &format!("/projects/{pid}/policy"),
        &[("source", EXAMPLE_TOML)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/policy"),
        &[("source", EXAMPLE_TOML)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let p = get_json(resident, app.url(&format!("/api/v1/projects/{pid}"))).await;
    assert_eq!(
        (p["phase"].as_str(), p["policy_version"].as_i64()),
        (Some("policy_published"), Some(1))
    );
    let notice = page(
        resident,
        app.url(&format!("/notices/{}", p["policy_notice_id"])),
    )
    .await;
    assert!(
        notice.contains("安置面积以内：每平方米 1,200.00 元"),
        "{notice}"
    );
    // Residents read the rendered policy, never the TOML with its comments; the TOML is a
    // download anyone can recompute with.
    assert!(
        !notice.contains("per_person") && !notice.contains("# ") && !notice.contains("[[layout]]"),
        "{notice}"
    );
    let source = format!("/projects/{pid}/policy/1/source.toml");
    assert!(notice.contains(&source), "{notice}");
    let toml = app.client().get(app.url(&source)).send().await.unwrap();
    assert_eq!(toml.status(), StatusCode::OK);
    assert_eq!(toml.text().await.unwrap(), EXAMPLE_TOML);
    assert_eq!(
        app.client()
            .get(app.url(&format!("/projects/{pid}/policy/9/source.toml")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Registration waits for its phase.
async fn registration_waits_for_its_phase(story: &ProjectStory<'_>) {
    let (app, leader, resident, pid, own) = (
        story.app,
        &story.leader,
        &story.resident,
        story.pid,
        story.own,
    );
    let url = format!("/api/v1/projects/{pid}/registrations");
    let (s, e) = post_json(
        app,
        resident,
        &url,
        json!({"household_id": own, "layouts": ["C"]}),
    )
    .await;
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("不接受选房登记"),
        "{e}"
    );
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "lottery")],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "phases move one at a time"
    );
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "registration"), ("reason", "开始登记")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// Online by the resident for their own household: over the limit is refused and changes nothing; a
/// fitting combination is stored with its price.
async fn residents_register_their_own_household_online(story: &ProjectStory<'_>) {
    let (app, resident, pid, own, other) = (
        story.app,
        &story.resident,
        story.pid,
        story.own,
        story.other,
    );
    let url = format!("/api/v1/projects/{pid}/registrations");
    let head = app.store.audit_head().await.unwrap();
    let (s, e) = post_json(
        app,
        resident,
        &url,
        json!({"household_id": own, "layouts": ["E", "E", "E"]}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("超过可选上限"),
        "{e}"
    );
    assert_eq!(app.store.audit_head().await.unwrap(), head);
    let (s, e) = post_json(
        app,
        resident,
        &url,
        json!({"household_id": own, "layouts": ["Z"]}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, r) = post_json(
        app,
        resident,
        &url,
        json!({"household_id": own, "layouts": ["C"]}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["in_person"].as_bool(), r["total_area"].as_str()),
        (Some(false), Some("90.00"))
    );
    let (s, _) = post_json(
        app,
        resident,
        &url,
        json!({"household_id": other, "layouts": ["C"]}),
    )
    .await;
    assert_eq!(s, 404, "not the resident's household");
    let e = get_json(
        resident,
        app.url(&format!(
            "/api/v1/projects/{pid}/households/{own}/entitlement"
        )),
    )
    .await;
    check_sums(&e);
    assert_eq!(e["chosen"][0]["area"], "90.00");
    assert!(e["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["code"] == "purchase:within" && l["clause"] == "第八条第一款"));
    assert_eq!(
        status(
            resident,
            app.url(&format!(
                "/api/v1/projects/{pid}/households/{other}/entitlement"
            ))
        )
        .await,
        404
    );
}

/// In person by the grid cadre, through the household's page.
async fn the_grid_cadre_registers_in_person(story: &ProjectStory<'_>) {
    let (app, staff, grid, pid, households, own) = (
        story.app,
        &story.staff,
        &story.grid,
        story.pid,
        &story.households,
        story.own,
    );
    let mine = households.iter().copied().find(|h| *h != own).unwrap();
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let in_grid = app.store.household(mine).await.unwrap().summary.grid_id;
    assert!(
        grid_user.grid_ids.contains(&in_grid),
        "the second household is in the first grid"
    );
    let res = post(
        app,
        grid,
        &format!("/projects/{pid}/households/{mine}/registration"),
        &[("layout", "A"), ("layout", ""), ("layout", "A")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reg = app.store.registration(pid, mine).await.unwrap().unwrap();
    assert_eq!(
        (reg.layouts, reg.in_person),
        (vec!["A".to_owned(), "A".to_owned()], true)
    );
    let dashboard = page(staff, app.url(&format!("/projects/{pid}/registrations"))).await;
    assert!(
        dashboard.contains(&format!("{} / {}", 2, households.len())),
        "{dashboard}"
    );
    assert_eq!(
        status(grid, app.url(&format!("/projects/{pid}/registrations"))).await,
        403
    );
}

/// Assessment: measured structures and fixtures, line by line.
async fn assessment_prices_measured_structures_and_fixtures(story: &ProjectStory<'_>) {
    let (app, leader, staff, resident, pid, households, own) = (
        story.app,
        &story.leader,
        &story.staff,
        &story.resident,
        story.pid,
        &story.households,
        story.own,
    );
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "assessment")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for h in households {
        let res = post(
            app,
            staff,
            &format!("/projects/{pid}/households/{h}/assessment"),
            &[
                ("structures", "砖混 一等 100\n简易 一般 12.5"),
                ("fixtures", "水井 1\ntree_large 3"),
                ("reason", ""),
            ],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
    }
    let e = get_json(
        staff,
        app.url(&format!(
            "/api/v1/projects/{pid}/households/{own}/entitlement"
        )),
    )
    .await;
    check_sums(&e);
    let line = |code: &str| {
        e["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(line("structure:brick_concrete")["amount"], "138000.00");
    assert_eq!(line("structure:simple")["amount"], "4000.00");
    assert_eq!(line("fixture:well")["amount"], "1500.00");
    assert_eq!(line("fixture:tree_large")["quantity"], "3.00");
    assert_eq!(
        line("purchase:within")["quantity"],
        "90.00",
        "the registered combination is priced"
    );
    let before = app.store.entitlement_history(pid, own).await.unwrap().len();
    let res = post(
        app,
        staff,
        &format!("/projects/{pid}/households/{own}/assessment"),
        &[("structures", "钢混 一等 100")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("第 1 行"));
    let res = post(
        app,
        staff,
        &format!("/projects/{pid}/households/{own}/assessment"),
        &[("structures", "砖混 九等 100")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.store.entitlement_history(pid, own).await.unwrap().len(),
        before
    );
    let page_text = page(
        resident,
        app.url(&format!("/projects/{pid}/households/{own}")),
    )
    .await;
    assert!(
        page_text.contains("砖混结构房屋（一等）")
            && page_text.contains("138,000.00")
            && page_text.contains("第十一条第一项"),
        "{page_text}"
    );
}

/// Results published: names masked, no identity numbers.
async fn results_are_published_with_names_masked(story: &ProjectStory<'_>) {
    let (app, leader, staff, resident, pid, own) = (
        story.app,
        &story.leader,
        &story.staff,
        &story.resident,
        story.pid,
        story.own,
    );
    let res = post(app, leader, &format!("/projects/{pid}/results"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let notice_url = res.headers()["location"].to_str().unwrap().to_owned();
    let detail = app.store.household(own).await.unwrap();
    let text = page(staff, app.url(&notice_url)).await;
    let head_name = &detail.summary.head_name;
    let family: String = head_name.chars().take(1).collect();
    assert!(
        text.contains(&format!(
            "{}｜{}｜{family}某｜",
            detail.summary.key, detail.summary.village_name
        )),
        "{text}"
    );
    assert!(
        !text.contains(head_name.as_str())
            && !text.contains(detail.summary.head_id_number.as_ref().unwrap().as_str())
    );
    let p = get_json(resident, app.url(&format!("/api/v1/projects/{pid}"))).await;
    assert_eq!(p["phase"], "results_publication");
}

/// After publication only a correction with a reason; the old result stays in the history.
async fn after_publication_only_a_correction_with_a_reason(story: &ProjectStory<'_>) {
    let (app, staff, resident, pid, own) = (
        story.app,
        &story.staff,
        &story.resident,
        story.pid,
        story.own,
    );
    let res = post(
        app,
        staff,
        &format!("/projects/{pid}/households/{own}/assessment"),
        &[("structures", "砖混 一等 101")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = post(
        app,
        staff,
        &format!("/projects/{pid}/households/{own}/assessment"),
        &[
            ("structures", "砖混 一等 101"),
            ("reason", "异议复核：重新丈量"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let e = get_json(
        resident,
        app.url(&format!(
            "/api/v1/projects/{pid}/households/{own}/entitlement"
        )),
    )
    .await;
    assert!(e["reason"].as_str().unwrap().contains("重新丈量"));
    let history = page(
        resident,
        app.url(&format!("/projects/{pid}/households/{own}")),
    )
    .await;
    assert!(
        history.contains("更正：异议复核：重新丈量") && history.contains("139,380.00"),
        "{history}"
    );
    let records = app.store.entitlement_history(pid, own).await.unwrap();
    let structure = |r: &yongxin_store::EntitlementRecord| {
        r.result
            .lines
            .iter()
            .find(|l| l.code == "structure:brick_concrete")
            .map(|l| l.amount.to_string())
    };
    assert_eq!(records.iter().filter(|r| r.current).count(), 1);
    assert!(
        records
            .iter()
            .any(|r| !r.current && structure(r).as_deref() == Some("138000.00")),
        "the published result stays in the history"
    );
    assert_eq!(
        structure(records.last().unwrap()).as_deref(),
        Some("139380.00")
    );
}

/// The lottery waits for the objection window.
async fn the_lottery_waits_for_the_objection_window(story: &ProjectStory<'_>) {
    let (app, leader, pid) = (story.app, &story.leader, story.pid);
    let res = post(
        app,
        leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "lottery")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("异议期尚未结束"));
}

/// The households list (staff) shows each household's state, names masked.
async fn the_households_list_masks_names(story: &ProjectStory<'_>) {
    let (app, staff, grid, pid, households) = (
        story.app,
        &story.staff,
        &story.grid,
        story.pid,
        &story.households,
    );
    let list = get_json(
        staff,
        app.url(&format!("/api/v1/projects/{pid}/households?per_page=5")),
    )
    .await;
    assert_eq!(list["total"].as_i64(), Some(households.len() as i64));
    assert_eq!(list["households"].as_array().unwrap().len(), 5);
    assert!(list["households"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["head_name"].as_str().unwrap().ends_with('某')));
    assert_eq!(
        status(grid, app.url(&format!("/api/v1/projects/{pid}/households"))).await,
        403
    );
}

/// A project at the results publication (through the store, the objection window in the past)
/// with one objection filed in the window.
async fn project_with_an_objection(app: &TestApp) -> (ProjectId, Vec<HouseholdId>, AppealId) {
    let (pid, households, notice) = app.sample_project(yongxin_demo::Stage::Results).await;
    let (own, _) = app.household_ids().await;
    let now = chrono::Utc::now();
    let s = &app.store;
    // The objection category is stored the first time an objection is filed, as the page does.
    s.save_category(
        &Actor::user("system"),
        &yongxin_domain::catalogue::objection_category(),
        1000,
        false,
    )
    .await
    .unwrap();
    let mut objection = crate::support::phoned_appeal(
        yongxin_domain::catalogue::OBJECTION_CATEGORY,
        "对补偿结果公示的异议",
        now - chrono::Duration::days(3),
        now,
        now + chrono::Duration::days(5),
    );
    objection.household_id = households.iter().copied().find(|h| *h != own);
    let appeal = s
        .create_objection(&Actor::user("leader"), notice, objection)
        .await
        .unwrap()
        .unwrap();
    (pid, households, appeal.id)
}

async fn the_lottery_waits_for_objections_is_drawn_once_and_verifiable(app: TestApp) {
    use yongxin_domain::appeal::{AppealAction, AppealPolicy};
    let leader = app.sign_in_as(Role::Leader).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let resident = app.sign_in_as(Role::Resident).await;
    let (pid, households, objection) = project_with_an_objection(&app).await;

    // An unanswered objection holds the project back; answered, it may go on.
    let res = post(
        &app,
        &leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "lottery")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("1 条异议未答复"));
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: Some("党政办公室".into()),
            cadre: None,
        },
        AppealAction::Contact,
        AppealAction::Answer {
            reply: "经复核，维持原结果。".into(),
        },
    ] {
        app.store
            .act_on_appeal(
                &Actor::user("staff"),
                objection,
                action,
                AppealPolicy::default(),
            )
            .await
            .unwrap()
            .unwrap();
    }
    let res = post(
        &app,
        &leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "lottery")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Drawing needs a frozen list; freezing is for managers and happens once.
    let draw = format!("/api/v1/projects/{pid}/lottery/draw");
    let freeze = format!("/api/v1/projects/{pid}/lottery/freeze");
    let (s, _) = post_json(&app, &leader, &draw, json!({"seed": "123456"})).await;
    assert_eq!(s, 409);
    // The seed is derived from values that parties committed to at the freeze: no single
    // operator can choose it. One party alone, or a malformed hash, is refused.
    let party = |name: &str, secret: &str| json!({"party": name, "sha256": yongxin_domain::lottery::commitment_of(secret)});
    let parties = json!([
        party("街道办", "office value 7731"),
        party("村民代表", "representatives 5520"),
        party("公证处", "notary 0042"),
    ]);
    let reveals = json!([
        {"party": "街道办", "secret": "office value 7731"},
        {"party": "村民代表", "secret": "representatives 5520"},
        {"party": "公证处", "secret": "notary 0042"},
    ]);
    let (s, _) = post_json(
        &app,
        &staff,
        &freeze,
        json!({"seed_rule": "现场摇出六位数字", "commitments": parties}),
    )
    .await;
    assert_eq!(s, 403);
    for bad in [
        json!([party("街道办", "only one")]),
        json!([{"party": "街道办", "sha256": "abc"}, party("公证处", "x")]),
        json!([]),
    ] {
        let (s, e) = post_json(
            &app,
            &leader,
            &freeze,
            json!({"seed_rule": "现场摇出六位数字", "commitments": bad}),
        )
        .await;
        assert_eq!(s, 422, "{e}");
    }
    let (s, f) = post_json(
        &app,
        &leader,
        &freeze,
        json!({"seed_rule": "现场摇出六位数字", "commitments": parties}),
    )
    .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        f["households"].as_u64(),
        Some(households.len() as u64 - 1),
        "the registered households"
    );
    let hash = f["list_sha256"].as_str().unwrap().to_owned();
    let (s, _) = post_json(
        &app,
        &leader,
        &freeze,
        json!({"seed_rule": "再冻结", "commitments": parties}),
    )
    .await;
    assert_eq!(s, 409);
    let notice = page(&resident, app.url(&format!("/notices/{}", f["notice_id"]))).await;
    assert!(
        notice.contains(&hash) && notice.contains("现场摇出六位数字"),
        "{notice}"
    );
    // The freeze notice publishes every commitment with the list hash.
    assert!(
        notice.contains(&yongxin_domain::lottery::commitment_of("notary 0042")),
        "{notice}"
    );

    // No registration after the freeze.
    let (own, _) = app.household_ids().await;
    let (s, e) = post_json(
        &app,
        &resident,
        &format!("/api/v1/projects/{pid}/registrations"),
        json!({"household_id": own, "layouts": ["C"]}),
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("冻结"),
        "{e}"
    );

    // The seed's format is checked; one draw, a second only with a public reason.
    let head = app.store.audit_head().await.unwrap();
    for bad in ["12345", "12a456", "123456:", "123456:名字"] {
        let (s, e) = post_json(
            &app,
            &leader,
            &draw,
            json!({"seed": bad, "reveals": reveals}),
        )
        .await;
        assert_eq!(s, 422, "{bad}: {e}");
    }
    // A value that does not match its commitment, or a party missing, is refused.
    let mut wrong = reveals.clone();
    wrong[2]["secret"] = json!("notary 0043");
    let (s, e) = post_json(
        &app,
        &leader,
        &draw,
        json!({"seed": "038271", "reveals": wrong}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = post_json(&app, &leader, &draw, json!({"seed": "038271"})).await;
    assert_eq!(s, 422, "the parties' values are required");
    assert_eq!(app.store.audit_head().await.unwrap(), head);
    let (s, d) = post_json(
        &app,
        &leader,
        &draw,
        json!({"seed": "038271", "reveals": reveals}),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert!(
        d["seed"].as_str().unwrap().starts_with("038271:"),
        "the seed is derived from the number and the values: {d}"
    );
    assert_eq!(d["draws"].as_u64(), Some(1));
    let (s, _) = post_json(
        &app,
        &leader,
        &draw,
        json!({"seed": "654321", "reveals": reveals}),
    )
    .await;
    assert_eq!(s, 409);
    // The values are public now: a redraw with them could be ground, so it waits for new
    // commitments, registered and published first.
    let (s, e) = post_json(
        &app,
        &leader,
        &draw,
        json!({"seed": "654321", "reveals": reveals, "reason": "公证员未到场，重新摇号"}),
    )
    .await;
    assert_eq!(s, 409, "{e}");
    let renewed = json!([
        party("街道办", "office second 9001"),
        party("公证处", "notary second 3141"),
    ]);
    let (s, e) = post_json(
        &app,
        &leader,
        &format!("/api/v1/projects/{pid}/lottery/commitment"),
        json!({"commitments": renewed}),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (s, d) = post_json(
        &app,
        &leader,
        &draw,
        json!({
            "seed": "654321",
            "reveals": [
                {"party": "街道办", "secret": "office second 9001"},
                {"party": "公证处", "secret": "notary second 3141"},
            ],
            "reason": "公证员未到场，重新摇号",
        }),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["redraw_reasons"][0], "公证员未到场，重新摇号");

    // The proof is public and recomputes; the lottery page shows the redraw and its reason.
    let anonymous = app.client();
    let proof = anonymous
        .get(app.url(&format!("/api/v1/projects/{pid}/lottery/proof")))
        .send()
        .await
        .unwrap();
    assert_eq!(proof.status(), StatusCode::OK);
    let proof: yongxin_domain::lottery::Proof = proof.json().await.unwrap();
    proof.verify().unwrap();
    assert_eq!(proof.list_sha256.as_str(), hash.as_str());
    assert!(proof.seed.starts_with("654321:"));
    let published: serde_json::Value = anonymous
        .get(app.url(&format!("/api/v1/projects/{pid}/lottery/proof")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        published["seed_commitment"]["parties"][1]["sha256"],
        yongxin_domain::lottery::commitment_of("notary second 3141"),
        "the proof carries the commitment it was drawn under"
    );
    let same = anonymous
        .get(app.url(&format!("/projects/{pid}/lottery/proof.json")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<yongxin_domain::lottery::Proof>(&same).unwrap(),
        proof
    );
    let lottery_page = page(&anonymous, app.url(&format!("/projects/{pid}/lottery"))).await;
    assert!(
        lottery_page.contains("公证员未到场，重新摇号") && lottery_page.contains(&proof.order[0]),
        "{lottery_page}"
    );
    let list = get_json(
        &staff,
        app.url(&format!("/api/v1/projects/{pid}/households?per_page=500")),
    )
    .await;
    let rows = list["households"].as_array().unwrap();
    let first = rows.iter().find(|h| h["lottery_order"] == 1).unwrap();
    assert_eq!(first["key"].as_str(), Some(proof.order[0].as_str()));
    assert_eq!(first["status"], "drawn");
    assert_eq!(
        rows.iter().filter(|h| h["status"] == "drawn").count(),
        proof.order.len()
    );

    // Then the selection phase may begin.
    let res = post(
        &app,
        &leader,
        &format!("/projects/{pid}/phase"),
        &[("to", "selection")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.store.verify_audit().await.unwrap().unwrap();
}
