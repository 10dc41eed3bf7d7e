//! A cadre reaching beyond their part, a resident reaching for a neighbour: not found, like what does not exist.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    desk_entry_reaches_only_households_in_scope,
    masked_views_do_not_complete_an_id_number,
    merging_reaches_only_cases_in_scope_and_tells_the_resident,
    hot_issues_name_only_cases_in_scope,
    staff_search_does_not_confirm_a_guessed_phone,
    objects_out_of_scope_are_not_found_like_missing_ones,
    a_cadre_sees_only_the_meetings_of_the_villages_they_work_in,
    cases_go_only_to_those_who_handle_them,
);

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
