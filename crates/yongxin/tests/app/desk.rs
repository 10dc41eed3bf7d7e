//! The desk (工作台) of leaders, staff and village officers: cards by department and cadre, each
//! opening the supervision list of exactly those cases; the rates this month against last with a
//! 12-week trend drawn as SVG with its numbers in a table; hot issues this week against last; a
//! village officer's desk covers their village only. In a real browser on a phone-sized window
//! the leader's desk shows its charts and tables without scrolling sideways.

use chrono::{Duration, Utc};
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::Actor;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{page, phoned_appeal, TestApp};

on_each_backend!(the_desk_counts_cards_by_department_and_cadre_and_draws_the_trend);

/// An overdue case of `department`, handled by `cadre`, in `village` (if any).
async fn overdue(
    app: &TestApp,
    title: &str,
    department: &str,
    cadre: Option<i64>,
    village: Option<i64>,
) {
    let now = Utc::now();
    let mut a = phoned_appeal(
        "roads",
        title,
        now - Duration::days(5),
        now - Duration::days(4),
        now - Duration::days(1),
    );
    a.department = department.to_owned();
    a.village_id = village;
    let mut history = vec![(a.created_at, "staff".to_owned(), AppealAction::Accept)];
    if let Some(c) = cadre {
        history.push((
            a.created_at,
            "staff".to_owned(),
            AppealAction::Assign {
                department: Some(department.to_owned()),
                cadre: Some(c),
            },
        ));
    }
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: a,
                submitted_by: "staff".into(),
                history,
            }],
            Default::default(),
        )
        .await
        .unwrap();
}

async fn the_desk_counts_cards_by_department_and_cadre_and_draws_the_trend(app: TestApp) {
    let grid = app.user_id("grid").await;
    let villages = app.store.villages().await.unwrap();
    let officer_village = app
        .store
        .user_credentials("village")
        .await
        .unwrap()
        .unwrap()
        .0
        .village_id
        .unwrap();
    let other = villages
        .iter()
        .find(|v| v.id != officer_village)
        .unwrap()
        .id;
    overdue(
        &app,
        "路面塌陷一",
        "城市管理办公室",
        Some(grid),
        Some(officer_village),
    )
    .await;
    overdue(
        &app,
        "路面塌陷二",
        "城市管理办公室",
        Some(grid),
        Some(other),
    )
    .await;
    overdue(
        &app,
        "无人承办的超期件",
        "农业农村办公室",
        None,
        Some(other),
    )
    .await;

    let leader = app.sign_in_as(Role::Leader).await;
    let home = page(&leader, app.url("/")).await;
    assert!(
        home.contains("工作台") && home.contains("红牌·超期 3"),
        "{home}"
    );
    let row = home
        .find("城市管理办公室</a></th>")
        .expect("the department's row");
    let row = &home[row..home[row..].find("</tr>").unwrap() + row];
    assert!(
        row.contains(">2</td>") && row.contains("> 2/0"),
        "two red, both the grid worker's: {row}"
    );
    // The cadre's link opens the supervision list of exactly their cases.
    let link = row
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let theirs = page(&leader, app.url(&link)).await;
    assert!(
        theirs.contains("路面塌陷一")
            && theirs.contains("路面塌陷二")
            && !theirs.contains("无人承办"),
        "{link}"
    );
    // The trend: an SVG with a title and a description, and its numbers in a table; this month
    // against last.
    assert!(home.contains("role=\"img\" aria-labelledby=\"trend-title trend-desc\""));
    assert!(home.contains("<title id=\"trend-title\">近12周三率走势</title>"));
    assert!(home.matches("<th scope=\"row\">").count() >= 12 + 2);
    assert!(home.contains("本月") && home.contains("上月"));
    // Hot issues, this week and last.
    assert!(home.contains("热点：近7天（含今天）与此前7天"));

    // The village officer's desk is their village's: one of the three cases.
    let officer = app.sign_in_as(Role::VillageOfficer).await;
    let theirs = page(&officer, app.url("/")).await;
    assert!(
        theirs.contains("工作台") && theirs.contains("红牌·超期 1"),
        "{theirs}"
    );
    // A grid worker has their own work, no desk.
    let worker = app.sign_in_as(Role::GridWorker).await;
    let own = page(&worker, app.url("/")).await;
    assert!(own.contains("我的工作") && !own.contains("工作台"));
}

#[tokio::test]
async fn on_a_phone_the_leaders_desk_shows_its_charts_and_tables() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Sqlite).await else {
        return;
    };
    let Some(browser) =
        crate::browser::Browser::start("the leader's desk on a phone", 390, 844).await
    else {
        return;
    };
    overdue(
        &app,
        "路面塌陷",
        "城市管理办公室",
        Some(app.user_id("grid").await),
        None,
    )
    .await;
    browser.sign_in(&app.base, "leader").await;
    browser.go(&app.url("/")).await;
    browser
        .find("svg[aria-labelledby='trend-title trend-desc']")
        .await;
    let size = browser
        .script(
            "const r = document.querySelector(\"svg[aria-labelledby='trend-title trend-desc']\").getBoundingClientRect(); return [r.width, r.height, document.documentElement.scrollWidth, window.innerWidth];",
            serde_json::json!([]),
        )
        .await;
    let [w, h, scroll, inner] = [0, 1, 2, 3].map(|i| size[i].as_f64().unwrap());
    assert!(
        w > 200.0 && h > 80.0,
        "the chart is drawn at a readable size: {size}"
    );
    assert!(scroll <= inner, "no sideways scrolling: {size}");
    let cards = browser.text(&browser.find(".desk table.cards").await).await;
    assert!(cards.contains("城市管理办公室"), "{cards}");
    // What a screen reader is given: the chart's title and description, and the numbers.
    let spoken = browser
        .script(
            "return [document.getElementById('trend-title').textContent, document.getElementById('trend-desc').textContent, document.querySelectorAll('.desk details table tbody tr').length];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(spoken[0], "近12周三率走势");
    assert!(spoken[1].as_str().unwrap().contains("响应率"), "{spoken}");
    assert_eq!(spoken[2], 12, "a row per week");
    browser.screenshot("desk-phone").await;
}
