//! Full-text search of appeals: what the index finds is what a plain reading of the cases finds,
//! under every filter and scope; changes are findable within 2 seconds on every node.

use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use yongxin_store::AppealId;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use yongxin_domain::appeal::AppealStatus;
use yongxin_domain::Role;
use yongxin_store::{AppealQuery, AppealScope};

use crate::on_each_backend;
use crate::support::{json, TestApp};

on_each_backend!(
    the_index_finds_exactly_the_cases_that_contain_the_words,
    a_new_or_changed_case_is_findable_within_two_seconds_on_every_node,
    title_matches_rank_first_and_filters_apply_through_http,
);

async fn load_demo_appeals(app: &TestApp, count: usize) {
    crate::support::load_generated_appeals(app, 11, count).await;
}

pub fn query(scope: AppealScope, text: Option<&str>) -> AppealQuery {
    AppealQuery {
        text: text.map(str::to_owned),
        ..AppealQuery::within(scope, 100_000)
    }
}

/// The cases of `q` (without its text) whose own words contain every piece of `text`, read
/// straight from the database: what the index must return.
async fn expected(app: &TestApp, q: &AppealQuery, text: &str, staff: bool) -> BTreeSet<AppealId> {
    let mut plain = q.clone();
    plain.text = None;
    let candidates = app.store.search_appeals(&plain).await.unwrap().appeals;
    let pieces: Vec<&str> = text.split_whitespace().collect();
    let mut found = BTreeSet::new();
    for a in candidates {
        let (a, events) = app.store.appeal(a.id).await.unwrap();
        let mut values = vec![a.title.clone(), a.description.clone(), a.address.clone()];
        values.extend(a.reply.clone());
        for e in events {
            if let Some(t) = e.text {
                if e.visible || staff {
                    values.push(t);
                }
            }
        }
        if staff {
            values.push(a.contact_name.clone());
        }
        if pieces.iter().all(|p| values.iter().any(|v| v.contains(p))) {
            found.insert(a.id);
        }
    }
    found
}

async fn the_index_finds_exactly_the_cases_that_contain_the_words(app: TestApp) {
    load_demo_appeals(&app, 400).await;
    app.search_caught_up().await;
    assert_eq!(app.search.len(), 400);
    // Words people type: two-character words, a family name, longer phrases, two words at once,
    // and pieces cut from the cases themselves (names and places included).
    let all = app
        .store
        .search_appeals(&query(AppealScope::All, None))
        .await
        .unwrap()
        .appeals;
    let mut texts: Vec<String> = [
        "噪音",
        "漏水",
        "拆迁",
        "供暖",
        "王",
        "秸秆焚烧",
        "路灯 维修",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, a) in all.iter().enumerate().step_by(37) {
        let chars: Vec<char> = a
            .description
            .chars()
            .filter(|c| yongxin_search::grams::is_han(*c))
            .collect();
        let len = 2 + i % 3;
        if chars.len() > len + 3 {
            texts.push(chars[3..3 + len].iter().collect());
        }
        texts.push(a.contact_name.clone());
    }
    let sample = &all[7];
    let grid_user = app.store.user_credentials("grid").await.unwrap().unwrap().0;
    let resident = app
        .store
        .user_credentials("resident")
        .await
        .unwrap()
        .unwrap()
        .0;
    let scopes = [
        AppealScope::All,
        AppealScope::Village(sample.village_id.unwrap()),
        AppealScope::Cadre {
            grids: grid_user.grid_ids.clone(),
            user_id: grid_user.id,
        },
        AppealScope::Resident {
            user_id: resident.id,
            household_id: resident.household_id,
        },
    ];
    let cutoff = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let now = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let mut checked = 0;
    let mut nonempty = 0;
    for text in &texts {
        for (n, scope) in scopes.iter().enumerate() {
            let mut q = query(scope.clone(), Some(text));
            match (checked + n) % 5 {
                1 => q.status = Some(AppealStatus::Closed),
                2 => q.category = Some(sample.category.clone()),
                3 => {
                    q.created_from = Some(cutoff);
                    q.created_before = Some(now);
                }
                4 => q.due_before = Some(now),
                _ => {}
            }
            for staff in [true, false] {
                let want = expected(&app, &q, text, staff).await;
                let hits = app.search.search(&q, staff).await.unwrap().unwrap();
                let got: BTreeSet<AppealId> = hits.ids.iter().copied().collect();
                assert_eq!(got, want, "{text:?} staff={staff} {q:?}");
                assert_eq!(hits.total as usize, want.len());
                checked += 1;
                nonempty += usize::from(!want.is_empty());
            }
        }
    }
    assert!(
        nonempty * 5 > checked,
        "too few searches found anything: {nonempty} of {checked}"
    );
    // Paging: pages of the ranked list are disjoint and add up to the total.
    let mut q = query(AppealScope::All, Some("的"));
    q.per_page = 7;
    let total = app.search.search(&q, true).await.unwrap().unwrap().total;
    let mut seen = BTreeSet::new();
    for page in 1..=(total + 6) / 7 {
        q.page = page;
        for id in app.search.search(&q, true).await.unwrap().unwrap().ids {
            assert!(seen.insert(id), "case {id} on two pages");
        }
    }
    assert_eq!(seen.len() as i64, total);
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let res = client.post(url).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

/// Searches through the API until `id` is among the results; returns how long it took.
async fn findable(node: &TestApp, client: &reqwest::Client, q: &str, id: i64) -> Duration {
    let started = Instant::now();
    let url = node.url(&format!(
        "/api/v1/appeals?per_page=100&q={}",
        yongxin_web::context::percent_encode(q)
    ));
    loop {
        let found = json(client, url.clone()).await;
        if found["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id)
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{q:?} never found case {id}: {found}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_new_or_changed_case_is_findable_within_two_seconds_on_every_node(app: TestApp) {
    app.search_caught_up().await;
    let other = app.another_node().await;
    other.search_caught_up().await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let staff_elsewhere = other.sign_in_as(Role::DepartmentStaff).await;
    let a = post(
        &staff,
        app.url("/api/v1/appeals"),
        json!({"category": "water", "answers": {"estate": "幸福里"}, "description": "欧阳秀兰反映楼道水管漏水", "contact_name": "欧阳秀兰", "contact_phone": "13900001111", "channel": "phone"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap();
    for (node, client) in [(&app, &staff), (&other, &staff_elsewhere)] {
        for q in ["欧阳秀兰", "漏水", "欧阳"] {
            let took = findable(node, client, q, id).await;
            assert!(took < Duration::from_secs(2), "{q:?} took {took:?}");
        }
    }
    // A note added through the other node is findable through the first.
    post(
        &staff_elsewhere,
        other.url(&format!("/api/v1/appeals/{id}/actions")),
        json!({"action": "accept"}),
    )
    .await;
    post(
        &staff_elsewhere,
        other.url(&format!("/api/v1/appeals/{id}/actions")),
        json!({"action": "assign", "department": "公用事业服务中心"}),
    )
    .await;
    post(
        &staff_elsewhere,
        other.url(&format!("/api/v1/appeals/{id}/actions")),
        json!({"action": "note", "text": "已约物业周五更换立管", "visible": false}),
    )
    .await;
    let took = findable(&app, &staff, "更换立管", id).await;
    assert!(took < Duration::from_secs(2), "the note took {took:?}");
}

async fn title_matches_rank_first_and_filters_apply_through_http(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let in_body = post(
        &staff,
        app.url("/api/v1/appeals"),
        json!({"category": "other", "title": "小区门口问题", "description": "门口的共享单车乱停乱放，堵住盲道", "contact_name": "李四", "contact_phone": "13900002222", "channel": "phone"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let in_title = post(
        &staff,
        app.url("/api/v1/appeals"),
        json!({"category": "roads", "answers": {"road": "前街"}, "title": "共享单车堵路", "description": "每天早上都这样", "contact_name": "张三", "contact_phone": "13900003333", "channel": "phone"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    app.search_caught_up().await;
    let found = json(
        &staff,
        app.url("/api/v1/appeals?q=%E5%85%B1%E4%BA%AB%E5%8D%95%E8%BD%A6"),
    )
    .await;
    let ids: Vec<i64> = found["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![in_title, in_body], "{found}");
    let traffic = json(
        &staff,
        app.url("/api/v1/appeals?q=%E5%85%B1%E4%BA%AB%E5%8D%95%E8%BD%A6&category=roads"),
    )
    .await;
    assert_eq!(traffic["total"], 1);
    let later = json(
        &staff,
        app.url("/api/v1/appeals?q=%E5%85%B1%E4%BA%AB%E5%8D%95%E8%BD%A6&from=2099-01-01"),
    )
    .await;
    assert_eq!(later["total"], 0);
    let bad = staff
        .get(app.url("/api/v1/appeals?q=x&from=2026-13-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // The page shows the same ranked list, and its filters survive paging and export links.
    let page =
        staff
            .get(app.url(
                "/appeals?q=%E5%85%B1%E4%BA%AB%E5%8D%95%E8%BD%A6&category=roads&from=2020-01-01",
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(page.contains("共享单车堵路"), "{page}");
    assert!(!page.contains("小区门口问题"));
    assert!(
        page.replace("&#38;", "&").contains(
            "/appeals/export.xlsx?page=1&q=%E5%85%B1%E4%BA%AB%E5%8D%95%E8%BD%A6&category=roads&from=2020-01-01"
        ),
        "{page}"
    );
}
