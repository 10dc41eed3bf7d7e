//! Selection day and online selection as the households live them (issue: no one loses what they
//! are entitled to): a household registered for two layouts stays at the desk until both are
//! chosen or it declines the rest with a reason printed on its slip; ticks of several layouts
//! survive every filter and are confirmed together; only the household called and at the desk is
//! confirmed; the operator returns a choice within the window and before the signature, and
//! both a return and a correction reach the board and the record. Online, the picker reaches
//! every building and a review shows the whole combination and its money before anything is final.

use reqwest::{Client, StatusCode};
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{Claim, UnitState};
use yongxin_store::{HouseholdId, ProjectId};

use crate::on_each_backend;
use crate::support::{page, post_form, status, TestApp};

on_each_backend!(
    a_household_at_the_desk_keeps_its_whole_combination,
    online_a_household_reviews_its_whole_combination_before_it_is_final,
    the_household_page_the_slip_and_the_api_agree_to_the_fen
);

/// A project over every village, every household registered for A + B (or A alone when that is
/// over its limit), drawn and moved on to selection: the project.
async fn drawn_for_two_layouts(app: &TestApp, code: &str) -> ProjectId {
    let villages: Vec<i64> = app
        .store
        .villages()
        .await
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    app.project_to(
        code,
        villages,
        None,
        &["A", "B"],
        yongxin_demo::Stage::Selection,
    )
    .await
    .0
}

/// A selection day for a project in 选房, open now for eight hours, with the default return
/// window.
async fn selection_day(app: &TestApp, pid: ProjectId) -> yongxin_store::Selection {
    let now = chrono::Utc::now();
    app.store
        .create_selection(
            &Actor::user("leader"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: yongxin_domain::selection::SelectionMode::Onsite,
                starts_at: now - chrono::Duration::minutes(5),
                ends_at: now + chrono::Duration::hours(8),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap()
}

async fn free_units(app: &TestApp, pid: ProjectId, layout: &str) -> Vec<UnitState> {
    app.store
        .unit_states(pid)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.layout == layout && u.owner_household_id.is_none())
        .collect()
}

async fn current(app: &TestApp, day: i64) -> HouseholdId {
    HouseholdId(
        app.store
            .selection(day)
            .await
            .unwrap()
            .unwrap()
            .queue
            .unwrap()
            .current()
            .unwrap()
            .household_id,
    )
}

async fn registered(app: &TestApp, pid: ProjectId, h: HouseholdId) -> usize {
    app.store
        .registration(pid, h)
        .await
        .unwrap()
        .unwrap()
        .layouts
        .len()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// A selection day at the desk, three households registered for two layouts in turn: the first
/// keeps its A tick across a filter, has a choice returned and completes its combination; the
/// next declines the rest with a reason; the third's signature covers its whole slip.
async fn a_household_at_the_desk_keeps_its_whole_combination(app: TestApp) {
    let story = DeskStory::start(&app).await;
    let (day, operator) = the_leader_sets_up_the_day_with_the_default_return_window(&story).await;
    let (h, a, b) =
        only_the_household_called_and_at_the_desk_is_confirmed(&story, day, &operator).await;
    a_tick_survives_the_move_to_another_layout(&story, day, &operator, h, &a, &b).await;
    one_layout_alone_keeps_the_household_at_the_desk(&story, day, &operator, h, &a).await;
    a_choice_is_returned_within_the_window_with_a_reason(&story, day, h, &a).await;
    layouts_ticked_together_complete_the_combination(&story, day, h, &a, &b).await;
    let declined =
        the_next_household_declines_the_rest_with_a_reason(&story, day, &operator, h).await;
    a_signature_covers_every_unit_on_the_slip(&story, day, &operator, &declined).await;
    the_record_holds_every_kind_of_step_at_the_desk(&story).await;
    app.store.verify_audit().await.unwrap().unwrap();
}

/// The project the desk story follows, drawn for two layouts and in 选房, and the leader who sets
/// up its day, the operator (department staff) at the desk and a grid worker.
struct DeskStory<'a> {
    app: &'a TestApp,
    pid: ProjectId,
    staff: Client,
    leader: Client,
    grid: Client,
}

impl<'a> DeskStory<'a> {
    async fn start(app: &'a TestApp) -> Self {
        let pid = drawn_for_two_layouts(app, "desk").await;
        let staff = app.sign_in_as(Role::DepartmentStaff).await;
        let leader = app.sign_in_as(Role::Leader).await;
        let grid = app.sign_in_as(Role::GridWorker).await;
        Self {
            app,
            pid,
            staff,
            leader,
            grid,
        }
    }

    /// The operator moves the queue of selection day `day` (`call`, `present` or `skip`): the
    /// answer's status.
    async fn queue(&self, day: i64, action: &str) -> StatusCode {
        post_form(
            self.app,
            &self.staff,
            &format!("/selections/{day}/queue"),
            &[("action", action)],
        )
        .await
        .status()
    }

    /// The operator confirms `units` for household `h` at the desk of day `day`, with `extra`
    /// fields of the form.
    async fn confirm(
        &self,
        day: i64,
        h: HouseholdId,
        units: Vec<i64>,
        extra: Vec<(&'static str, String)>,
    ) -> reqwest::Response {
        let mut fields = vec![("household_id", h.to_string())];
        fields.extend(units.iter().map(|u| ("unit", u.to_string())));
        fields.extend(extra);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(
            self.app,
            &self.staff,
            &format!("/selections/{day}/confirm"),
            &fields,
        )
        .await
    }
}

/// The leader sets up the day with the default return window. Returns the day and its operator's
/// screen.
async fn the_leader_sets_up_the_day_with_the_default_return_window(
    story: &DeskStory<'_>,
) -> (i64, String) {
    let (app, pid, leader) = (story.app, story.pid, &story.leader);
    let now = chrono::Utc::now().with_timezone(&yongxin_domain::time::shanghai());
    let fmt = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%dT%H:%M").to_string();
    let res = post_form(
        app,
        leader,
        &format!("/projects/{pid}/selections"),
        &[
            ("mode", "onsite"),
            ("starts_at", &fmt(now - chrono::Duration::minutes(5))),
            ("ends_at", &fmt(now + chrono::Duration::hours(8))),
            ("minutes", "5"),
            ("return_seconds", "abc"),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "a window that is not a number is named"
    );
    let res = post_form(
        app,
        leader,
        &format!("/projects/{pid}/selections"),
        &[
            ("mode", "onsite"),
            ("starts_at", &fmt(now - chrono::Duration::minutes(5))),
            ("ends_at", &fmt(now + chrono::Duration::hours(8))),
            ("minutes", "5"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let operator = location(&res);
    let day: i64 = operator
        .trim_start_matches("/selections/")
        .trim_end_matches("/operator")
        .parse()
        .unwrap();
    assert_eq!(
        app.store
            .selection(day)
            .await
            .unwrap()
            .unwrap()
            .return_seconds,
        120
    );
    (day, operator)
}

/// Households registered for one layout go to the end until one registered for two is called. Never
/// called, it has no units to tick on screen and a confirmation is refused, changing nothing;
/// called and at the desk, it cannot be skipped any more. Returns the household and the units of
/// layouts A and B free for it.
async fn only_the_household_called_and_at_the_desk_is_confirmed(
    story: &DeskStory<'_>,
    day: i64,
    operator: &str,
) -> (HouseholdId, Vec<UnitState>, Vec<UnitState>) {
    let (app, pid, staff) = (story.app, story.pid, &story.staff);
    while registered(app, pid, current(app, day).await).await < 2 {
        for _ in 0..3 {
            assert_eq!(story.queue(day, "call").await, 303);
        }
        assert_eq!(story.queue(day, "skip").await, 303);
    }
    let h = current(app, day).await;
    let (a, b) = (
        free_units(app, pid, "A").await,
        free_units(app, pid, "B").await,
    );

    // Never called: no units to tick on screen, and a confirmation is refused, changing nothing.
    let screen = page(staff, app.url(operator)).await;
    assert!(
        screen.contains("待叫号") && screen.contains("未到场") && !screen.contains("name=\"unit\""),
        "{screen}"
    );
    let head = app.store.audit_head().await.unwrap();
    let res = story.confirm(day, h, vec![a[0].id], vec![]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("尚未到场"));
    assert_eq!(
        story.queue(day, "present").await,
        403,
        "not before its call"
    );
    assert_eq!(app.store.audit_head().await.unwrap(), head);
    // Called and at the desk: it cannot be skipped any more.
    assert_eq!(story.queue(day, "call").await, 303);
    assert_eq!(story.queue(day, "present").await, 303);
    assert_eq!(story.queue(day, "skip").await, 403);
    (h, a, b)
}

/// A ticked, then the view moves to layout B: the A tick is kept, B still to choose.
async fn a_tick_survives_the_move_to_another_layout(
    story: &DeskStory<'_>,
    day: i64,
    operator: &str,
    h: HouseholdId,
    a: &[UnitState],
    b: &[UnitState],
) {
    let (app, staff) = (story.app, &story.staff);
    let res = story
        .confirm(
            day,
            h,
            vec![a[0].id],
            vec![("intent", "filter".into()), ("layout", "B".into())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let view = location(&res);
    assert!(
        view.contains("layout=B") && view.contains(&format!("unit={}", a[0].id)),
        "{view}"
    );
    let screen = page(staff, app.url(&view)).await;
    let kept = format!(
        "value=\"{}\" data-area=\"4500\" data-layout=\"A\" checked",
        a[0].id
    );
    assert!(screen.contains(&kept), "the A tick is kept as a ticked box");
    assert!(screen.contains(&format!("value=\"{}\"", b[0].id)));
    assert!(screen.contains("尚待选择 <strong id=\"still\">B</strong>"));
    // No view without a layout filter hides a layout: "all layouts" shows A and B together.
    let all = page(staff, app.url(operator)).await;
    assert!(all.contains("全部户型"));
}

/// A alone confirmed: the household stays at the desk with B still to choose.
async fn one_layout_alone_keeps_the_household_at_the_desk(
    story: &DeskStory<'_>,
    day: i64,
    operator: &str,
    h: HouseholdId,
    a: &[UnitState],
) {
    let (app, staff) = (story.app, &story.staff);
    let res = story
        .confirm(day, h, vec![a[0].id], vec![("intent", "confirm".into())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), operator, "back to the screen, not the slip");
    assert_eq!(current(app, day).await, h);
    let screen = page(staff, app.url(operator)).await;
    assert!(
        screen.contains("尚待选择 <strong id=\"still\">B</strong>")
            && screen.contains("退回此次确认"),
        "{screen}"
    );
}

/// Returned within the window, with a reason: the unit is free, the household still at the desk;
/// the board and the record say so. Not by a grid worker, not without a reason, not through another
/// selection's address.
async fn a_choice_is_returned_within_the_window_with_a_reason(
    story: &DeskStory<'_>,
    day: i64,
    h: HouseholdId,
    a: &[UnitState],
) {
    let (app, pid, staff, grid) = (story.app, story.pid, &story.staff, &story.grid);
    let first = app
        .store
        .household_claims(pid, h)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let ret = format!("/selections/{day}/claims/{}/return", first.id);
    assert_eq!(
        post_form(app, grid, &ret, &[("reason", "点错了")])
            .await
            .status(),
        403
    );
    assert_eq!(
        post_form(app, staff, &ret, &[("reason", " ")])
            .await
            .status(),
        400
    );
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/selections/{}/claims/{}/return", day + 1000, first.id),
            &[("reason", "换个地址")]
        )
        .await
        .status(),
        404
    );
    let res = post_form(app, staff, &ret, &[("reason", "户主改选同楼层")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(free_units(app, pid, "A").await[0].id, a[0].id);
    assert_eq!(current(app, day).await, h);
    let events = app.store.board_events(pid, 0, 1000).await.unwrap();
    let (last, queued) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(
        (last.kind.as_str(), queued.kind.as_str()),
        ("released", "queue"),
        "the board is told the units are free and who is at the desk"
    );
    assert!(
        last.payload.contains("\"how\":\"return\""),
        "{}",
        last.payload
    );
    assert_eq!(
        post_form(app, staff, &ret, &[("reason", "再退一次")])
            .await
            .status(),
        409,
        "returned once"
    );
}

/// A and B ticked across layouts and confirmed together: the combination is complete, the slip
/// follows, the queue moves on.
async fn layouts_ticked_together_complete_the_combination(
    story: &DeskStory<'_>,
    day: i64,
    h: HouseholdId,
    a: &[UnitState],
    b: &[UnitState],
) {
    let (app, staff, grid) = (story.app, &story.staff, &story.grid);
    let res = story.confirm(day, h, vec![a[1].id, b[0].id], vec![]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let slip_url = location(&res);
    assert!(slip_url.contains("/slip"), "{slip_url}");
    assert_ne!(current(app, day).await, h);
    let slip = page(staff, app.url(&slip_url)).await;
    assert!(
        slip.contains(&b[0].number) && slip.contains(&a[1].number) && !slip.contains("尚待选择"),
        "{slip}"
    );
    // Signed: the operator can no longer return it; the administrator's correction still applies.
    let claim = slip_url.rsplit('/').nth(1).unwrap().to_owned();
    let sign = format!("/selections/{day}/claims/{claim}/sign");
    assert_eq!(
        post_form(app, grid, &sign, &[]).await.status(),
        403,
        "only an operator records the signature"
    );
    assert_eq!(
        post_form(app, staff, &sign, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/claims/{claim}/return"),
        &[("reason", "签字后想换")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("已签字"));
    assert!(!page(staff, app.url(&slip_url))
        .await
        .contains("退回此次确认"));
}

/// The next household registered for two layouts chooses one and declines the rest: refused without
/// a reason, recorded with it, printed on its slip. Returns its declined claim.
async fn the_next_household_declines_the_rest_with_a_reason(
    story: &DeskStory<'_>,
    day: i64,
    operator: &str,
    h: HouseholdId,
) -> Claim {
    let (app, pid, staff) = (story.app, story.pid, &story.staff);
    while registered(app, pid, current(app, day).await).await < 2 {
        for _ in 0..3 {
            assert_eq!(story.queue(day, "call").await, 303);
        }
        assert_eq!(story.queue(day, "skip").await, 303);
    }
    let next = current(app, day).await;
    assert_eq!(story.queue(day, "call").await, 303);
    let decline = |who: HouseholdId, reason: &'static str| {
        let (app, staff) = (app, staff);
        async move {
            post_form(
                app,
                staff,
                &format!("/selections/{day}/decline"),
                &[("household_id", &who.to_string()), ("reason", reason)],
            )
            .await
        }
    };
    assert_eq!(
        decline(next, "只要一套").await.status(),
        403,
        "not at the desk"
    );
    assert_eq!(story.queue(day, "present").await, 303);
    let one = free_units(app, pid, "A").await[0].id;
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/confirm"),
        &[
            ("household_id", &next.to_string()),
            ("unit", &one.to_string()),
        ],
    )
    .await;
    assert_eq!(location(&res), operator);
    assert_eq!(decline(next, "  ").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        decline(h, "不是当前户").await.status(),
        403,
        "only the household at the desk"
    );
    let res = decline(next, "资金不足，只选一套").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let slip = page(staff, app.url(&location(&res))).await;
    assert!(
        slip.contains("该户放弃剩余户型") && slip.contains("资金不足，只选一套"),
        "{slip}"
    );
    assert!(
        slip.contains("未用安置面积补偿"),
        "declined: the rest is paid"
    );
    assert_ne!(current(app, day).await, next);
    let declined_claim = app
        .store
        .household_claims(pid, next)
        .await
        .unwrap()
        .pop()
        .unwrap();
    declined_claim
}

/// The household after it: A and B confirmed one after the other; the signature on the slip covers
/// both, so neither can be returned; and once it is at the desk, the previous household's choice
/// can no longer be returned either (it would jump the queue).
async fn a_signature_covers_every_unit_on_the_slip(
    story: &DeskStory<'_>,
    day: i64,
    operator: &str,
    declined_claim: &Claim,
) {
    let (app, pid, staff) = (story.app, story.pid, &story.staff);
    while registered(app, pid, current(app, day).await).await < 2 {
        for _ in 0..3 {
            assert_eq!(story.queue(day, "call").await, 303);
        }
        assert_eq!(story.queue(day, "skip").await, 303);
    }
    let third = current(app, day).await;
    assert_eq!(story.queue(day, "call").await, 303);
    assert_eq!(story.queue(day, "present").await, 303);
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/return"),
        &[("reason", "x")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no such address");
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/claims/{}/return", declined_claim.id),
        &[("reason", "上一户想改")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("下一户已到场"));
    let confirm_third = |unit: i64| {
        let (app, staff) = (app, staff);
        async move {
            post_form(
                app,
                staff,
                &format!("/selections/{day}/confirm"),
                &[
                    ("household_id", &third.to_string()),
                    ("unit", &unit.to_string()),
                ],
            )
            .await
        }
    };
    let first_a = free_units(app, pid, "A").await[0].id;
    assert_eq!(location(&confirm_third(first_a).await), operator);
    let then_b = free_units(app, pid, "B").await[0].id;
    let slip_url = location(&confirm_third(then_b).await);
    let claim = slip_url.rsplit('/').nth(1).unwrap().to_owned();
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/selections/{day}/claims/{claim}/sign"),
            &[]
        )
        .await
        .status(),
        303
    );
    let earlier = app
        .store
        .household_claims(pid, third)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.units.iter().any(|u| u.id == first_a))
        .unwrap();
    assert!(
        earlier.signed_at.is_some(),
        "the signature covers the slip's every unit"
    );
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/claims/{}/return", earlier.id),
        &[("reason", "签字后")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

/// The record holds every kind of step taken at the desk: declines, returns, signatures and
/// confirmations on a household's behalf.
async fn the_record_holds_every_kind_of_step_at_the_desk(story: &DeskStory<'_>) {
    let app = story.app;
    let entries = app.store.audit_entries(0, 100_000).await.unwrap();
    for action in [
        "selection.decline",
        "claim.return",
        "claim.sign",
        "claim.confirm_on_behalf",
    ] {
        assert!(
            entries.iter().any(|e| e.action == action),
            "{action} recorded"
        );
    }
}

async fn online_a_household_reviews_its_whole_combination_before_it_is_final(app: TestApp) {
    let pid = drawn_for_two_layouts(&app, "phone").await;
    let resident = app.sign_in_as(Role::Resident).await;
    let own = app
        .store
        .user_credentials("resident")
        .await
        .unwrap()
        .unwrap()
        .0
        .household_id
        .unwrap();
    let sid = app.open_online_selection(pid).await;
    let choose = format!("/selections/{sid}/choose");
    let units = app.store.unit_states(pid).await.unwrap();
    // Every building is reached: by the building filter, and by paging.
    let mut buildings: Vec<String> = units.iter().map(|u| u.building.clone()).collect();
    buildings.sort_by_key(|b| (b.len(), b.clone()));
    buildings.dedup();
    let last = buildings.last().unwrap().clone();
    let last_unit = units.iter().rev().find(|u| u.building == last).unwrap();
    let screen = page(&resident, app.url(&format!("{choose}?building={last}"))).await;
    assert!(screen.contains(&format!("value=\"{}\"", last_unit.id)));
    let pages = buildings.len().div_ceil(2);
    let res = post_form(&app, &resident, &choose, &[("to_page", &pages.to_string())]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let screen = page(&resident, app.url(&location(&res))).await;
    assert!(
        screen.contains(&format!("value=\"{}\"", last_unit.id)),
        "the last page holds the last building"
    );

    // Review: nothing is claimed, the whole combination and its money are shown.
    let combination = registered(&app, pid, own).await;
    assert_eq!(
        combination, 2,
        "the resident's household is registered for A + B"
    );
    let a = free_units(&app, pid, "A").await[0].clone();
    let head = app.store.audit_head().await.unwrap();
    let res = post_form(
        &app,
        &resident,
        &choose,
        &[("intent", "review"), ("unit", &a.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let review = res.text().await.unwrap();
    assert_eq!(
        app.store.audit_head().await.unwrap(),
        head,
        "nothing claimed"
    );
    assert!(review.contains("核对选房结果") && review.contains(&a.number));
    assert!(review.contains("确认选房（提交后不可更改）"));
    assert!(
        review.contains("尚待选择") && review.contains("B 户型（待选）"),
        "B is priced as registered, not paid as cash: {review}"
    );
    assert!(
        !review.contains("未选面积"),
        "no cash for a part still to choose"
    );
    // Over the limit: the review says so and offers no final button.
    let big: Vec<String> = free_units(&app, pid, "E")
        .await
        .iter()
        .take(3)
        .map(|u| u.id.to_string())
        .collect();
    let mut fields = vec![("intent", "review")];
    fields.extend(big.iter().map(|u| ("unit", u.as_str())));
    let review = post_form(&app, &resident, &choose, &fields)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        review.contains("超过可选上限") && !review.contains("value=\"confirm\""),
        "{review}"
    );
    // Back to change keeps the ticks.
    let res = post_form(
        &app,
        &resident,
        &choose,
        &[("intent", "filter"), ("unit", &a.id.to_string())],
    )
    .await;
    assert!(location(&res).contains(&format!("unit={}", a.id)));
    // The final step claims; the slip follows with what is still to choose, never paid as cash.
    let res = post_form(
        &app,
        &resident,
        &choose,
        &[("intent", "confirm"), ("unit", &a.id.to_string())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let slip = page(&resident, app.url(&location(&res))).await;
    assert!(
        slip.contains("尚待选择") && slip.contains("B 户型（待选）"),
        "{slip}"
    );
    assert!(
        slip.contains(&format!("<th class=\"num\">{}</th>", a.area.short())),
        "the total is of the units chosen"
    );
    assert!(slip.contains("继续选房"));
    // An operator cannot undo the household's own online choice (only a correction can).
    let own_claim = location(&res).rsplit('/').nth(1).unwrap().to_owned();
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let res_return = post_form(
        &app,
        &staff,
        &format!("/selections/{sid}/claims/{own_claim}/return"),
        &[("reason", "帮他改")],
    )
    .await;
    assert_eq!(res_return.status(), StatusCode::CONFLICT);
    // The household's slip names its head in full, for the household itself.
    let head_name = app.store.household(own).await.unwrap().summary.head_name;
    assert!(slip.contains(&head_name), "{slip}");
    // A unit gone meanwhile is named in the review.
    let res = post_form(
        &app,
        &resident,
        &choose,
        &[("intent", "review"), ("unit", &a.id.to_string())],
    )
    .await;
    let review = res.text().await.unwrap();
    assert!(
        review.contains("已被其他户选走") || review.contains("尚未勾选房源"),
        "{review}"
    );
    assert_eq!(
        status(&app.sign_in_as(Role::GridWorker).await, app.url(&choose)).await,
        403
    );
    // A selection day after it calls the household for the part it has still to choose.
    let day = selection_day(&app, pid).await;
    let entry = day
        .queue
        .unwrap()
        .entries
        .into_iter()
        .find(|e| e.household_id == own.get())
        .unwrap();
    assert!(!entry.done, "B is still to choose");
}

/// The figure a page shows under `id="net"`.
fn net_on(page: &str) -> String {
    let at = page
        .find("id=\"net\">")
        .unwrap_or_else(|| panic!("no net figure: {page}"))
        + 9;
    page[at..].split('<').next().unwrap().replace(',', "")
}

/// Item 5: one current result, the same on the household page, the slip and the API — while
/// registered, with one of two layouts chosen, and once signed — computed under one named policy
/// version; results computed before are history with their version.
async fn the_household_page_the_slip_and_the_api_agree_to_the_fen(app: TestApp) {
    let pid = drawn_for_two_layouts(&app, "agree").await;
    let sid = app.open_online_selection(pid).await;
    let resident = app.sign_in_as(Role::Resident).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let own = app
        .store
        .user_credentials("resident")
        .await
        .unwrap()
        .unwrap()
        .0
        .household_id
        .unwrap();
    let api = format!("/api/v1/projects/{pid}/households/{own}/entitlement");
    let household = format!("/projects/{pid}/households/{own}");
    let figures = |slip: Option<String>| {
        let (app, resident, staff, api, household) =
            (&app, &resident, &staff, api.clone(), household.clone());
        async move {
            let e = crate::support::json(resident, app.url(&api)).await;
            let mut nets = vec![
                e["totals"]["net"].as_str().unwrap().to_owned(),
                net_on(&page(resident, app.url(&household)).await),
                net_on(&page(staff, app.url(&household)).await),
            ];
            if let Some(slip) = slip {
                nets.push(net_on(&page(resident, app.url(&slip)).await));
                nets.push(net_on(&page(staff, app.url(&slip)).await));
            }
            (e, nets)
        }
    };
    // Registered for A + B, nothing chosen: the registered combination, priced the same everywhere.
    let (registered, nets) = figures(None).await;
    assert!(nets.iter().all(|n| *n == nets[0]), "{nets:?}");
    assert_eq!(registered["policy_version"], 1);
    // A chosen online, B still to choose: priced as registered, not paid as cash.
    let a = free_units(&app, pid, "A").await[0].clone();
    let res = post_form(
        &app,
        &resident,
        &format!("/selections/{sid}/choose"),
        &[("intent", "confirm"), ("unit", &a.id.to_string())],
    )
    .await;
    let slip = location(&res);
    let (e, nets) = figures(Some(slip.clone())).await;
    assert!(nets.iter().all(|n| *n == nets[0]), "{nets:?}");
    assert!(
        e["chosen"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["label"] == "B 户型（待选）"),
        "{e}"
    );
    assert_eq!(
        (&e["totals"], &e["chosen_area"]),
        (&registered["totals"], &registered["chosen_area"]),
        "the part still to choose is priced as registered, not paid out: {e}"
    );
    // Signed: the early-signing reward, everywhere.
    let key = app.store.household(own).await.unwrap().summary.key;
    let res = post_form(
        &app,
        &staff,
        &format!("/projects/{pid}/agreements"),
        &[("key", &key), ("step", "signed"), ("on", "2026-06-15")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (e, nets) = figures(Some(slip)).await;
    assert!(nets.iter().all(|n| *n == nets[0]), "{nets:?}");
    assert!(e["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["code"] == "reward"));
    // Results computed before are history, each with its version, with names, not identifiers.
    let page = page(&resident, app.url(&household)).await;
    assert!(
        page.contains("第 1 版") && page.contains("核算记录"),
        "{page}"
    );
    assert!(
        !page.contains(">leader<") && !page.contains("· leader"),
        "{page}"
    );
}

/// Selection day in a real browser (items 1 and 2): no unit can be ticked before the household
/// is called and at the desk; ticks of two layouts survive the layout filter (the script adds
/// them up) and are confirmed together.
#[tokio::test]
async fn in_a_browser_the_operator_confirms_a_whole_combination() {
    let Some(browser) =
        crate::browser::Browser::start("operator screen in a browser", 1366, 900).await
    else {
        return;
    };
    let app = TestApp::spawn(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let pid = drawn_for_two_layouts(&app, "hall").await;
    let day = selection_day(&app, pid).await.id;
    use yongxin_domain::selection::QueueAction;
    while registered(&app, pid, current(&app, day).await).await < 2 {
        for a in [
            QueueAction::Call,
            QueueAction::Call,
            QueueAction::Call,
            QueueAction::Skip,
        ] {
            app.store
                .queue_action(&Actor::user("staff"), day, a)
                .await
                .unwrap()
                .unwrap();
        }
    }
    let h = current(&app, day).await;
    browser.sign_in(&app.base, "staff").await;
    browser
        .go(&app.url(&format!("/selections/{day}/operator")))
        .await;
    assert!(
        browser.try_find("input[name=unit]").await.is_none(),
        "nothing to tick before the call"
    );
    let call = browser.find("form input[value=call] + button").await;
    browser.click(&call).await;
    let present = browser.find("form input[value=present] + button").await;
    browser.click(&present).await;
    browser.find("#picker").await;
    // Layout A from the filter (the script applies it at once), one unit ticked.
    let pick_layout = |code: &'static str| {
        let browser = &browser;
        async move {
            browser.choose("select[name=layout]", code).await;
            browser.wait_for_query(&format!("layout={code}")).await;
        }
    };
    pick_layout("A").await;
    let a = browser.find("td.free:not(.picked) label").await;
    browser.click(&a).await;
    let picked = browser.find("#picked-area").await;
    assert_eq!(
        browser.text(&picked).await,
        "45",
        "the script adds up the tick"
    );
    pick_layout("B").await;
    assert!(
        browser
            .try_find(".picked-elsewhere input[name=unit]:checked")
            .await
            .is_some(),
        "the A tick survives the B filter"
    );
    let b = browser.find("td.free:not(.picked) label").await;
    browser.click(&b).await;
    let picked = browser.find("#picked-area").await;
    assert_eq!(browser.text(&picked).await, "115");
    let still = browser.find("#still-line").await;
    assert_eq!(
        browser.text(&still).await,
        "登记的户型组合已选齐。",
        "the script counts the ticks against the combination"
    );
    let shot = browser.screenshot("operator-screen").await;
    assert!(shot.exists());
    let confirm = browser.find("button[value=confirm]").await;
    browser.click(&confirm).await;
    browser
        .wait_for("the slip", "return location.pathname.endsWith('/slip')")
        .await;
    browser.screenshot("operator-slip").await;
    let owned: Vec<String> = app
        .store
        .unit_states(pid)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.owner_household_id == Some(h))
        .map(|u| u.layout)
        .collect();
    assert_eq!(owned.len(), 2, "both layouts chosen: {owned:?}");
    assert!(owned.contains(&"A".to_owned()) && owned.contains(&"B".to_owned()));
    assert_ne!(
        current(&app, day).await,
        h,
        "and only then the queue moves on"
    );
}

/// Online selection on a phone in a real browser (item 4): the last building is reached by the
/// filter, targets are thumb-sized, a review shows the whole combination before the final step.
#[tokio::test]
async fn in_a_browser_a_household_chooses_on_its_phone_after_a_review() {
    let Some(browser) =
        crate::browser::Browser::start("online selection on a phone", 390, 844).await
    else {
        return;
    };
    let app = TestApp::spawn(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let pid = drawn_for_two_layouts(&app, "phone").await;
    let sid = app.open_online_selection(pid).await;
    let units = app.store.unit_states(pid).await.unwrap();
    let mut buildings: Vec<String> = units.iter().map(|u| u.building.clone()).collect();
    buildings.sort_by_key(|b| (b.len(), b.clone()));
    buildings.dedup();
    let last = buildings.last().unwrap().clone();
    browser.sign_in(&app.base, "resident").await;
    browser
        .go(&app.url(&format!("/selections/{sid}/choose")))
        .await;
    browser.choose("select[name=building]", &last).await;
    browser.wait_for_query(&format!("building={last}")).await;
    let size = browser
        .script(
            "var r = document.querySelector('td.free label').getBoundingClientRect(); return [r.width, r.height];",
            serde_json::json!([]),
        )
        .await;
    assert!(
        size[0].as_f64().unwrap() >= 44.0 && size[1].as_f64().unwrap() >= 44.0,
        "thumb-sized: {size}"
    );
    let widths = browser
        .script(
            "var wide = Array.prototype.filter.call(document.querySelectorAll('body *'), function (e) { \
               return e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.pick-building'); \
             }).slice(0, 3).map(function (e) { return e.tagName + '.' + e.className; }); \
             return [document.documentElement.scrollWidth, window.innerWidth, wide];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(widths[1], 390, "a phone's width");
    assert!(
        widths[0].as_i64() <= widths[1].as_i64(),
        "the page does not scroll sideways on a phone: {widths}"
    );
    // An A unit of the last building.
    let id = browser.tick("td.free label input[data-layout=A]").await;
    browser.screenshot("online-picker-phone").await;
    let review = browser.find("button[value=review]").await;
    browser.click(&review).await;
    browser.find("section.review").await;
    let text = browser.source().await;
    assert!(
        text.contains("尚待选择") && text.contains("B 户型（待选）"),
        "the review shows the part still to choose, priced as registered"
    );
    browser.screenshot("online-review-one-of-two-phone").await;
    // Back to change: the A tick is kept; B is ticked under the B filter; the review now holds
    // the whole combination, nothing left to choose.
    let back = browser.find("button[value=filter]").await;
    browser.click(&back).await;
    browser.find("#picker").await;
    browser.choose("select[name=layout]", "B").await;
    browser.wait_for_query("layout=B").await;
    assert!(
        browser
            .try_find(".picked-elsewhere input[name=unit]:checked")
            .await
            .is_some(),
        "the A tick is kept"
    );
    let b_id = browser
        .tick("td.free:not(.picked) label input[data-layout=B]")
        .await;
    let review = browser.find("button[value=review]").await;
    browser.click(&review).await;
    browser.find("section.review").await;
    let text = browser.source().await;
    assert!(
        !text.contains("尚待选择") && !text.contains("（待选）"),
        "the whole combination is in the review"
    );
    browser.screenshot("online-review-phone").await;
    let final_button = browser.find("button[value=confirm]").await;
    browser.click(&final_button).await;
    browser
        .wait_for("the slip", "return location.pathname.endsWith('/slip')")
        .await;
    browser.screenshot("online-slip-phone").await;
    assert!(
        browser.try_find("button[data-print]").await.is_some(),
        "the slip has a print button"
    );
    // The household's calculation on the phone: its lines stack, nothing scrolls sideways.
    browser
        .go(&app.url(&format!("/projects/{pid}/households/{}", {
            app.store
                .user_credentials("resident")
                .await
                .unwrap()
                .unwrap()
                .0
                .household_id
                .unwrap()
        })))
        .await;
    browser.find("#net").await;
    let widths = browser
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
                     document.querySelectorAll('.lines-stack li').length];",
            serde_json::json!([]),
        )
        .await;
    assert!(
        widths[0].as_i64() <= widths[1].as_i64() && widths[2].as_i64() > Some(3),
        "the calculation's lines stack on a phone: {widths}"
    );
    browser.screenshot("household-calculation-phone").await;
    let own = app
        .store
        .user_credentials("resident")
        .await
        .unwrap()
        .unwrap()
        .0
        .household_id;
    let states = app.store.unit_states(pid).await.unwrap();
    for unit in [&id, &b_id] {
        let unit: i64 = unit.parse().unwrap();
        assert_eq!(
            states
                .iter()
                .find(|u| u.id == unit)
                .unwrap()
                .owner_household_id,
            own,
            "both layouts chosen, confirmed together"
        );
    }
}

/// The hall's screen at 1920×1080 in a real browser (item 7): every building on one screen with
/// nothing scrolled, the number called and its countdown in very large type, the legend in view,
/// a return shown with its reason, and a sale arriving live.
#[tokio::test]
async fn in_a_browser_the_board_fits_the_hall_screen() {
    let Some(browser) = crate::browser::Browser::start("the board at 1920×1080", 1920, 1080).await
    else {
        return;
    };
    let app = TestApp::spawn(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let pid = drawn_for_two_layouts(&app, "board").await;
    let day = selection_day(&app, pid).await.id;
    use yongxin_domain::selection::QueueAction;
    for a in [QueueAction::Call, QueueAction::Present] {
        app.store
            .queue_action(&Actor::user("staff"), day, a)
            .await
            .unwrap()
            .unwrap();
    }
    let staff = app
        .store
        .user_credentials("staff")
        .await
        .unwrap()
        .unwrap()
        .0;
    let h = current(&app, day).await;
    let a = free_units(&app, pid, "A").await;
    let claim = app
        .store
        .claim(&Actor::user("staff"), day, h, vec![a[0].id], &staff, true)
        .await
        .unwrap()
        .unwrap();
    app.store
        .return_claim(&Actor::user("staff"), day, claim.id, "户主改选")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    browser
        .go(&app.url(&format!("/projects/{pid}/board")))
        .await;
    browser.find("#board .building td").await;
    let fit = browser
        .script(
            "var b = Array.prototype.map.call(document.querySelectorAll('.building'), function (e) { \
               var r = e.getBoundingClientRect(); return [r.right, r.bottom]; }); \
             var legend = document.querySelector('.board-legend').getBoundingClientRect(); \
             var size = function (s) { return parseFloat(getComputedStyle(document.querySelector(s)).fontSize); }; \
             return {width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight, \
                     buildings: b, legend: legend.bottom, current: size('#current'), countdown: size('#countdown'), \
                     cell: size('.building td'), released: document.getElementById('released').textContent, \
                     countdownText: document.getElementById('countdown').textContent};",
            serde_json::json!([]),
        )
        .await;
    let shot = browser.screenshot("board-1920x1080").await;
    assert!(shot.exists());
    assert!(
        fit["width"].as_f64().unwrap() <= 1920.0 && fit["height"].as_f64().unwrap() <= 1080.0,
        "nothing scrolls: {fit}"
    );
    let buildings = fit["buildings"].as_array().unwrap();
    assert_eq!(buildings.len(), 12, "{fit}");
    assert!(
        buildings
            .iter()
            .all(|b| b[0].as_f64().unwrap() <= 1920.0 && b[1].as_f64().unwrap() <= 1080.0),
        "every building whole on the screen: {fit}"
    );
    assert!(fit["legend"].as_f64().unwrap() <= 1080.0);
    assert!(
        fit["current"].as_f64().unwrap() >= 80.0 && fit["countdown"].as_f64().unwrap() >= 60.0,
        "the number called and its countdown read across a hall: {fit}"
    );
    assert!(fit["cell"].as_f64().unwrap() >= 12.0, "{fit}");
    let countdown = fit["countdownText"].as_str().unwrap();
    assert!(countdown.contains(':'), "a running countdown: {countdown}");
    assert!(
        fit["released"].as_str().unwrap().contains("已退回")
            && fit["released"].as_str().unwrap().contains(&a[0].number)
            && !fit["released"].as_str().unwrap().contains("户主改选"),
        "the return is on the board, its reason typed at the desk is not: {fit}"
    );
    // A sale arrives live.
    let unit = a[1].id;
    app.store
        .claim(&Actor::user("staff"), day, h, vec![unit], &staff, true)
        .await
        .unwrap()
        .unwrap();
    // The node's poller reads the log every quarter second and the stream brings it.
    browser
        .wait_for(
            "the sale on the board",
            &format!("return document.getElementById('u{unit}').className === 'just'"),
        )
        .await;
}
