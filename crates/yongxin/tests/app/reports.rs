//! The weekly report (周报): a finished week's report is made once, as of the week's end, and is
//! the same whenever asked for — after later changes too — as a page, .xlsx and .csv, and from
//! the command line; the week under way is provisional; bad weeks are refused.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::Actor;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{phoned_appeal, TestApp};

on_each_backend!(a_finished_weeks_report_is_the_same_whenever_it_is_produced);

async fn bytes(client: &reqwest::Client, url: String) -> (StatusCode, Vec<u8>) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

async fn a_finished_weeks_report_is_the_same_whenever_it_is_produced(app: TestApp) {
    let today = yongxin_domain::campaign::local_day(Utc::now());
    crate::support::load_generated_appeals(&app, 5, 300).await;
    let last_monday = yongxin_domain::scorecard::monday_of(today) - Duration::weeks(1);
    let week = yongxin_domain::audit::iso_week(last_monday);
    let leader = app.sign_in_as(Role::Leader).await;
    let url = |suffix: &str| app.url(&format!("/reports/weekly{suffix}?week={week}"));
    let (status, page) = bytes(&leader, url("")).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains(&format!("示范街道工作周报（{week}）")) && page.contains("本周与上周"),
        "{page}"
    );
    assert!(
        page.contains("@page { size: A4")
            && page.contains("<svg")
            && page.contains("report-trend-title")
    );
    assert!(!page.contains("本周尚未结束"), "a finished week is final");
    let (_, csv) = bytes(&leader, url(".csv")).await;
    let (_, xlsx) = bytes(&leader, url(".xlsx")).await;
    assert!(xlsx.starts_with(b"PK"));
    let csv_text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        csv_text.contains("科室") || csv_text.contains("按部门"),
        "{csv_text}"
    );

    // Later changes to the record: a case filed into last week, and cases of last week answered
    // and rated. The report of last week does not move.
    let filed = yongxin_domain::calendar::start_of_day(last_monday) + Duration::hours(30);
    app.store
        .import_appeals(
            &Actor::user("test"),
            vec![yongxin_store::ImportedAppeal {
                appeal: phoned_appeal(
                    "roads",
                    "补录的上周诉求",
                    filed,
                    filed + Duration::days(1),
                    filed + Duration::days(7),
                ),
                submitted_by: "staff".into(),
                history: vec![],
            }],
            Default::default(),
        )
        .await
        .unwrap();
    let open = app
        .store
        .search_appeals(&yongxin_store::AppealQuery {
            created_from: Some(yongxin_domain::calendar::start_of_day(last_monday)),
            created_before: Some(yongxin_domain::calendar::start_of_day(
                last_monday + Duration::days(7),
            )),
            status: Some(yongxin_domain::appeal::AppealStatus::Answered),
            ..yongxin_store::AppealQuery::within(yongxin_store::AppealScope::All, 5)
        })
        .await
        .unwrap()
        .appeals;
    for a in &open {
        app.store
            .act_on_appeal(
                &Actor::user("leader"),
                a.id,
                AppealAction::RateByCall {
                    rating: yongxin_domain::appeal::Rating::Dissatisfied,
                    reason: Some("没解决".into()),
                    called_at: Utc::now(),
                },
                Default::default(),
            )
            .await
            .unwrap()
            .unwrap();
    }
    let (_, page_again) = bytes(&leader, url("")).await;
    assert_eq!(
        String::from_utf8(page_again).unwrap(),
        page,
        "the page is the same"
    );
    assert_eq!(
        bytes(&leader, url(".csv")).await.1,
        csv,
        "the .csv is the same"
    );
    assert_eq!(
        bytes(&leader, url(".xlsx")).await.1,
        xlsx,
        "the .xlsx is the same, byte for byte"
    );
    assert!(!page.contains("补录的上周诉求"));
    // It was kept once, and the keeping is in the record.
    let kept = app
        .store
        .recent_audit_entries(500)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "report.weekly")
        .count();
    assert_eq!(kept, 1);

    // The week under way is provisional; a week to come, or no week at all, is refused.
    let this_week = yongxin_domain::audit::iso_week(today);
    let (status, now_page) = bytes(
        &leader,
        app.url(&format!("/reports/weekly?week={this_week}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(now_page)
        .unwrap()
        .contains("本周尚未结束"));
    let next = yongxin_domain::audit::iso_week(today + Duration::weeks(1));
    for bad in [next.as_str(), "2026-W60", "last", "2026-49"] {
        let (status, _) = bytes(&leader, app.url(&format!("/reports/weekly.csv?week={bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Staff, leaders and administrators read it; a grid worker does not.
    let worker = app.sign_in_as(Role::GridWorker).await;
    assert_eq!(bytes(&worker, url("")).await.0, StatusCode::FORBIDDEN);
    // Without a week: the last finished one.
    let (_, default_csv) = bytes(&leader, app.url("/reports/weekly.csv")).await;
    assert_eq!(default_csv, csv);
}
