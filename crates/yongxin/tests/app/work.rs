//! A cadre's own work (我的工作) as the home page, and tap-to-call: each case in one tab with the
//! deadline its card is about, a case filed a minute ago not yet 临期, answered cases waiting for
//! a call at the desk, the resident's number shown in full only to the handler who asks (and
//! the asking recorded).

use chrono::{DateTime, Duration, Utc};
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::AppealId;

use crate::on_each_backend;
use crate::support::{page, phoned_appeal, TestApp};

on_each_backend!(
    a_cadres_home_is_their_own_work_in_tabs,
    only_the_handler_taps_to_call_and_the_view_is_recorded
);

/// Imports a case handled by `cadre`, with the actions after its dispatch done at `created`.
async fn case_for(
    app: &TestApp,
    cadre: i64,
    title: &str,
    (created, contact_due, resolution_due): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
    then: Vec<AppealAction>,
) -> AppealId {
    let mut history = vec![
        (created, "staff".to_owned(), AppealAction::Accept),
        (
            created,
            "staff".to_owned(),
            AppealAction::Assign {
                department: None,
                cadre: Some(cadre),
            },
        ),
    ];
    history.extend(
        then.into_iter()
            .map(|a| (created + Duration::hours(1), "grid".to_owned(), a)),
    );
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: phoned_appeal("roads", title, created, contact_due, resolution_due),
                submitted_by: "staff".into(),
                history,
            }],
            Default::default(),
        )
        .await
        .unwrap();
    let q = yongxin_store::AppealQuery {
        text: Some(title.to_owned()),
        ..yongxin_store::AppealQuery::within(yongxin_store::AppealScope::All, 5)
    };
    app.store.search_appeals(&q).await.unwrap().appeals[0].id
}

async fn a_cadres_home_is_their_own_work_in_tabs(app: TestApp) {
    let now = Utc::now();
    let grid = app.user_id("grid").await;
    let staff = app.user_id("staff").await;
    let days = Duration::days;
    case_for(
        &app,
        grid,
        "刚提交的路灯",
        (now - Duration::minutes(1), now + days(1), now + days(14)),
        vec![],
    )
    .await;
    case_for(
        &app,
        grid,
        "快到联系时限",
        (
            now - Duration::hours(20),
            now + Duration::hours(2),
            now + days(14),
        ),
        vec![],
    )
    .await;
    case_for(
        &app,
        grid,
        "联系已超期",
        (now - days(3), now - days(2), now + days(10)),
        vec![],
    )
    .await;
    case_for(
        &app,
        grid,
        "已联系在办理",
        (now - days(2), now - days(1), now + days(10)),
        vec![AppealAction::Contact],
    )
    .await;
    case_for(
        &app,
        grid,
        "已答复待评价",
        (now - days(2), now - days(1), now + days(10)),
        vec![
            AppealAction::Contact,
            AppealAction::Answer {
                reply: "已修好".into(),
            },
        ],
    )
    .await;
    case_for(
        &app,
        staff,
        "别人的超期案件",
        (now - days(3), now - days(2), now + days(10)),
        vec![],
    )
    .await;

    let worker = app.sign_in_as(Role::GridWorker).await;
    let home = page(&worker, app.url("/")).await;
    for (tab, n) in [
        ("超期", 1),
        ("临期", 1),
        ("待联系", 1),
        ("办理中", 1),
        ("待回访", 1),
    ] {
        assert!(
            home.contains(&format!("{tab} <strong>{n}</strong>")),
            "{tab} {n}: {home}"
        );
    }
    // The first tab holding cases is shown: the overdue one, its card naming the contact
    // deadline and how long ago it passed; nobody else's case.
    assert!(home.contains("aria-current=\"page\">超期"), "{home}");
    assert!(
        home.contains("联系已超期") && home.contains("联系时限") && home.contains("已超过 2 天"),
        "{home}"
    );
    assert!(!home.contains("别人的超期案件") && !home.contains("刚提交的路灯"));
    let tab = |code: &'static str| {
        let (worker, app) = (&worker, &app);
        async move { page(worker, app.url(&format!("/?tab={code}"))).await }
    };
    let fresh = tab("to_contact").await;
    assert!(
        fresh.contains("刚提交的路灯")
            && fresh.contains("还剩 23 小时")
            && !fresh.contains("快到联系时限"),
        "a case filed a minute ago is to contact, not near its deadline: {fresh}"
    );
    let near = tab("near").await;
    assert!(
        near.contains("快到联系时限") && near.contains("还剩 1 小时"),
        "{near}"
    );
    let working = tab("in_progress").await;
    assert!(
        working.contains("已联系在办理")
            && working.contains("办结时限")
            && !working.contains("联系已超期"),
        "a contacted case's card is about its answer: {working}"
    );
    let answered = tab("to_follow_up").await;
    assert!(
        answered.contains("已答复待评价") && !answered.contains("请电话回访"),
        "the handler does not call for their own rating"
    );

    // The desk that takes ratings by phone finds the answered case under 待回访, to call.
    let desk = app.sign_in_as(Role::DepartmentStaff).await;
    let calls = page(&desk, app.url("/?tab=to_follow_up")).await;
    assert!(
        calls.contains("已答复待评价") && calls.contains("请电话回访"),
        "{calls}"
    );
    assert!(
        calls.contains("超期 <strong>1</strong>"),
        "staff's own overdue case: {calls}"
    );
    // A leader handles no cases: no tabs of their own.
    let leader = app.sign_in_as(Role::Leader).await;
    let home = page(&leader, app.url("/?tab=overdue")).await;
    assert!(!home.contains("刚提交的路灯") && !home.contains("别人的超期案件"));
    // An unknown tab is the default one, not an error.
    assert!(tab("nonsense").await.contains("aria-current=\"page\">超期"));
}

async fn only_the_handler_taps_to_call_and_the_view_is_recorded(app: TestApp) {
    let now = Utc::now();
    let grid = app.user_id("grid").await;
    let id = case_for(
        &app,
        grid,
        "打电话的案件",
        (now, now + Duration::days(1), now + Duration::days(7)),
        vec![],
    )
    .await;
    let worker = app.sign_in_as(Role::GridWorker).await;
    let case = page(&worker, app.url(&format!("/appeals/{id}"))).await;
    assert!(
        case.contains(&format!("/appeals/{id}?call=1")) && !case.contains("13700000000"),
        "{case}"
    );
    let before = app.store.audit_head().await.unwrap().unwrap().0;
    let call = page(&worker, app.url(&format!("/appeals/{id}?call=1"))).await;
    assert!(call.contains("href=\"tel:13700000000\""), "{call}");
    let recorded = app.store.audit_entries(before, 10).await.unwrap();
    assert!(
        recorded.iter().any(|e| e.action == "appeal.contact_view"
            && e.actor == "grid"
            && e.entity == format!("appeal:{id}")),
        "{recorded:?}"
    );
    // Anyone else — a dispatcher, a leader, the grid worker on a case not theirs — never sees it.
    for role in [Role::DepartmentStaff, Role::Leader, Role::Admin] {
        let other = app.sign_in_as(role).await;
        let seen = page(&other, app.url(&format!("/appeals/{id}?call=1"))).await;
        assert!(
            !seen.contains("13700000000") && !seen.contains("tel:"),
            "{role:?}"
        );
    }
    let views = app.store.audit_entries(before, 100).await.unwrap();
    assert_eq!(
        views
            .iter()
            .filter(|e| e.action == "appeal.contact_view")
            .count(),
        1,
        "only the handler's view was recorded"
    );
    // Closed: no more calls.
    app.store
        .act_on_appeal(
            &Actor::user("grid"),
            id,
            AppealAction::Contact,
            Default::default(),
        )
        .await
        .unwrap()
        .unwrap();
    app.store
        .act_on_appeal(
            &Actor::user("grid"),
            id,
            AppealAction::Answer {
                reply: "好了".into(),
            },
            Default::default(),
        )
        .await
        .unwrap()
        .unwrap();
    app.store
        .act_on_appeal(
            &Actor::system("auto-close"),
            id,
            AppealAction::AutoClose,
            Default::default(),
        )
        .await
        .unwrap()
        .unwrap();
    let closed = page(&worker, app.url(&format!("/appeals/{id}?call=1"))).await;
    assert!(!closed.contains("13700000000") && !closed.contains("?call=1"));
}
