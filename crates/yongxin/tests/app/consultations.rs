//! Consultations (征求意见) through HTTP: created from plain-text questions, answered once per
//! household (online or recorded by a cadre), changed until the close, refused when they do not
//! fit, counted by option and village, published as a notice.

use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use yongxin_domain::consultation::parse_questions;
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{HouseholdDetail, HouseholdId, NewConsultation};

use crate::on_each_backend;
use crate::support::{json, page, status, TestApp};

on_each_backend!(
    households_answer_once_each_and_the_results_count_them,
    concurrent_answers_leave_one_current_answer_per_household
);

const QUESTIONS: &str = "单选：安置区选址您倾向哪里？\n- 东坞村北\n- 西坪村东\n多选(2)：您需要的户型面积？\n- 90平方米\n- 120平方米\n- 140平方米\n排序：配套设施的优先顺序\n- 学校\n- 医院\n- 市场\n填空：其他意见";

/// A consultation stored directly, for windows a form cannot give.
async fn stored(app: &TestApp, opens: Duration, closes: Duration) -> i64 {
    let now = Utc::now();
    app.store
        .create_consultation(
            &Actor::user("leader"),
            NewConsultation {
                title: "安置区选址和户型征求意见".into(),
                background: "背景".into(),
                notice_id: None,
                scope: ScopeKind::Subdistrict,
                village_ids: vec![],
                project_id: None,
                opens_at: now + opens,
                closes_at: now + closes,
                questions: parse_questions(QUESTIONS).unwrap(),
            },
        )
        .await
        .unwrap()
        .id
}

/// Question and option ids of a consultation from the API: per question, its id and options'.
async fn ids(app: &TestApp, id: i64) -> Vec<(i64, Vec<i64>)> {
    let k = json(
        &app.client(),
        app.url(&format!("/api/v1/consultations/{id}")),
    )
    .await;
    k["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_i64().unwrap(),
                q["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_i64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// A consultation of the resident's village from creation to published results: households
/// answer online or through a cadre, change their answer until the close, are refused when the
/// answer does not fit, and the results count one current answer per household.
async fn households_answer_once_each_and_the_results_count_them(app: TestApp) {
    let story = ConsultationStory::start(&app).await;
    let (id, q) = a_consultation_is_created_from_plain_text_questions(&story).await;
    let resident = the_resident_answers_online_and_may_change_the_answer(&story, id, &q).await;
    let grid = the_grid_worker_records_a_neighbours_answer_at_a_meeting(&story, id, &q).await;
    answers_that_do_not_fit_are_refused(&story, id, &q, &resident).await;
    the_results_count_turnout_options_and_villages(&story, id, &resident, &grid).await;
    results_are_published_as_a_notice_once_closed(&story, id, &resident).await;
    two_publications_at_once_make_one_notice(&story).await;
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

/// The leader who runs the consultation, with a form token, and the resident's own household
/// (in the consulted village) and one in another village.
struct ConsultationStory<'a> {
    app: &'a TestApp,
    leader: Client,
    own: HouseholdId,
    other: HouseholdId,
    own_detail: HouseholdDetail,
    village: i64,
    csrf: String,
}

impl<'a> ConsultationStory<'a> {
    async fn start(app: &'a TestApp) -> Self {
        let leader = app.sign_in_as(Role::Leader).await;
        let (own, other) = app.household_ids().await;
        let own_detail = app.store.household(own).await.unwrap();
        let village = own_detail.summary.village_id;
        let csrf = app.csrf(&leader).await;
        Self {
            app,
            leader,
            own,
            other,
            own_detail,
            village,
            csrf,
        }
    }
}

/// An answer to the four questions of [`QUESTIONS`]: a site, sizes, a ranking and a free text.
fn answer(
    q: &[(i64, Vec<i64>)],
    site: i64,
    sizes: Vec<i64>,
    ranking: Vec<i64>,
) -> serde_json::Value {
    serde_json::json!({"answers": {
        q[0].0.to_string(): site, q[1].0.to_string(): sizes, q[2].0.to_string(): ranking, q[3].0.to_string(): "希望尽快开工"
    }})
}

/// A consultation is created from plain-text questions; questions that do not parse are refused
/// with their line and create nothing. Returns its id and its questions' and options' ids.
async fn a_consultation_is_created_from_plain_text_questions(
    story: &ConsultationStory<'_>,
) -> (i64, Vec<(i64, Vec<i64>)>) {
    let (app, leader, village, csrf) = (story.app, &story.leader, story.village, &story.csrf);
    let create = |questions: &'static str| {
        let (leader, csrf, url) = (leader.clone(), csrf.clone(), app.url("/consultations"));
        let village = village.to_string();
        async move {
            leader
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("title", "安置区选址和户型征求意见"),
                    ("background", "请各户提出意见。"),
                    ("scope", "villages"),
                    ("villages", village.as_str()),
                    ("closes_at", "2099-12-31T17:00"),
                    ("questions", questions),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let before = json(&app.client(), app.url("/api/v1/consultations"))
        .await
        .as_array()
        .unwrap()
        .len();
    let res = create("单选：问\n- 甲\n多选(3)：问二\n- 甲\n- 乙").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let text = res.text().await.unwrap();
    assert!(text.contains("问题第 1 行"), "{text}");
    assert_eq!(
        json(&app.client(), app.url("/api/v1/consultations"))
            .await
            .as_array()
            .unwrap()
            .len(),
        before,
        "nothing created"
    );
    let res = create(QUESTIONS).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/consultations/")
        .parse()
        .unwrap();
    let q = ids(app, id).await;
    assert_eq!(q.len(), 4);
    assert_eq!(q[1].1.len(), 3);
    let k = json(
        &app.client(),
        app.url(&format!("/api/v1/consultations/{id}")),
    )
    .await;
    assert_eq!(
        (
            k["state"].as_str(),
            k["questions"][1]["max_choices"].as_i64()
        ),
        (Some("open"), Some(2))
    );
    (id, q)
}

/// The resident answers online, then changes the answer; one current answer counts. Returns the
/// resident, signed in.
async fn the_resident_answers_online_and_may_change_the_answer(
    story: &ConsultationStory<'_>,
    id: i64,
    q: &[(i64, Vec<i64>)],
) -> Client {
    let (app, own, other, own_detail) = (story.app, story.own, story.other, &story.own_detail);
    let resident = app.sign_in_as(Role::Resident).await;
    let url = app.url(&format!("/api/v1/consultations/{id}/answers"));
    let res = resident
        .post(&url)
        .json(&answer(
            q,
            q[0].1[0],
            vec![q[1].1[0]],
            vec![q[2].1[2], q[2].1[0], q[2].1[1]],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = resident
        .post(&url)
        .json(&answer(
            q,
            q[0].1[1],
            vec![q[1].1[1], q[1].1[2]],
            vec![q[2].1[0], q[2].1[1], q[2].1[2]],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let current = app.store.current_answer(id, own).await.unwrap().unwrap();
    assert_eq!(current.recorded_by, "resident");
    // The head may name another member of the household to answer; not someone else's.
    let member = own_detail.members.last().unwrap().id;
    let stranger = app.store.household(other).await.unwrap().members[0].id;
    let mut named = answer(
        q,
        q[0].1[1],
        vec![q[1].1[1], q[1].1[2]],
        vec![q[2].1[0], q[2].1[1], q[2].1[2]],
    );
    named["resident_id"] = stranger.into();
    let res = resident.post(&url).json(&named).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    named["resident_id"] = member.into();
    assert_eq!(
        resident
            .post(&url)
            .json(&named)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let html = page(&resident, app.url(&format!("/consultations/{id}"))).await;
    assert!(
        html.contains("本户已于"),
        "the page says the household has answered"
    );
    resident
}

/// The grid worker records a neighbour's answer at a meeting, through the page's form. Returns the
/// grid worker, signed in.
async fn the_grid_worker_records_a_neighbours_answer_at_a_meeting(
    story: &ConsultationStory<'_>,
    id: i64,
    q: &[(i64, Vec<i64>)],
) -> Client {
    let (app, own, own_detail) = (story.app, story.own, &story.own_detail);
    let neighbour = app
        .store
        .search_households(&yongxin_store::HouseholdQuery {
            scope: yongxin_domain::Scope::Grids(vec![own_detail.summary.grid_id]),
            village_id: None,
            grid_id: None,
            text: None,
            page: 1,
            per_page: 5,
        })
        .await
        .unwrap()
        .households
        .into_iter()
        .find(|h| h.id != own)
        .unwrap();
    let grid = app.sign_in_as(Role::GridWorker).await;
    let grid_csrf = app.csrf(&grid).await;
    let form = vec![
        ("csrf".to_owned(), grid_csrf.clone()),
        ("household_id".to_owned(), neighbour.id.to_string()),
        ("channel".to_owned(), "meeting".to_owned()),
        (format!("q{}", q[0].0), q[0].1[1].to_string()),
        (format!("q{}", q[1].0), q[1].1[1].to_string()),
        (format!("r{}_{}", q[2].0, q[2].1[1]), "1".to_owned()),
        (format!("r{}_{}", q[2].0, q[2].1[0]), "2".to_owned()),
    ];
    let res = grid
        .post(app.url(&format!("/consultations/{id}/answers")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("意见已提交"));
    let recorded = app
        .store
        .current_answer(id, neighbour.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (recorded.channel.code(), recorded.recorded_by.as_str()),
        ("meeting", "grid")
    );
    grid
}

/// Answers that do not fit are refused, and nothing is recorded.
async fn answers_that_do_not_fit_are_refused(
    story: &ConsultationStory<'_>,
    id: i64,
    q: &[(i64, Vec<i64>)],
    resident: &Client,
) {
    let (app, leader, other) = (story.app, &story.leader, story.other);
    let url = app.url(&format!("/api/v1/consultations/{id}/answers"));
    let refusals = [
        (
            answer(q, q[1].1[0], vec![q[1].1[0]], vec![q[2].1[0]]),
            400,
            "所选选项不属于该问题",
        ),
        (
            answer(
                q,
                q[0].1[0],
                vec![q[1].1[0], q[1].1[1], q[1].1[2]],
                vec![q[2].1[0]],
            ),
            400,
            "最多选 2 项",
        ),
        (
            serde_json::json!({"answers": {q[1].0.to_string(): [q[1].1[0]], q[2].0.to_string(): [q[2].1[0]]}}),
            400,
            "必答题",
        ),
        (
            serde_json::json!({"answers": {q[0].0.to_string(): [q[0].1[0]], q[1].0.to_string(): [q[1].1[0]], q[2].0.to_string(): [q[2].1[0]]}}),
            400,
            "形式与题型不符",
        ),
        (
            answer(q, q[0].1[0], vec![q[1].1[0], q[1].1[0]], vec![q[2].1[0]]),
            400,
            "不能重复",
        ),
    ];
    for (answer, code, message) in refusals {
        let res = resident.post(&url).json(&answer).send().await.unwrap();
        assert_eq!(res.status(), code, "{answer}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    let outsider = leader
        .post(&url)
        .json(&serde_json::json!({"household_id": other, "answers": {q[0].0.to_string(): q[0].1[0], q[1].0.to_string(): [q[1].1[0]], q[2].0.to_string(): [q[2].1[0]]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
    assert!(outsider
        .text()
        .await
        .unwrap()
        .contains("不在本次征求意见的范围内"));
    let closed = stored(app, -Duration::days(10), -Duration::days(1)).await;
    let closed_q = ids(app, closed).await;
    let res = resident
        .post(app.url(&format!("/api/v1/consultations/{closed}/answers")))
        .json(&serde_json::json!({"answers": {closed_q[0].0.to_string(): closed_q[0].1[0], closed_q[1].0.to_string(): [closed_q[1].1[0]], closed_q[2].0.to_string(): [closed_q[2].1[0]]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("不在征求意见期内"));
    assert_eq!(
        app.store
            .consultation_results(closed)
            .await
            .unwrap()
            .answered,
        0
    );
}

/// Results: turnout against the households asked, counts per option and village, free text.
async fn the_results_count_turnout_options_and_villages(
    story: &ConsultationStory<'_>,
    id: i64,
    resident: &Client,
    grid: &Client,
) {
    let (app, leader, village) = (story.app, &story.leader, story.village);
    let results = json(
        leader,
        app.url(&format!("/api/v1/consultations/{id}/results")),
    )
    .await;
    let asked = app.households_in(village).await;
    assert_eq!(results["eligible"], asked);
    assert_eq!(results["answered"], 2, "{results}");
    let site = &results["questions"][0]["options"];
    assert_eq!(
        (site[0]["count"].as_i64(), site[1]["count"].as_i64()),
        (Some(0), Some(2)),
        "the changed answer replaced the first"
    );
    assert_eq!(site[1]["share"], 1.0);
    assert_eq!(site[1]["by_village"][village.to_string()], 2);
    let sizes = &results["questions"][1]["options"];
    assert_eq!(
        (
            sizes[0]["count"].as_i64(),
            sizes[1]["count"].as_i64(),
            sizes[2]["count"].as_i64()
        ),
        (Some(0), Some(2), Some(1))
    );
    let ranking = &results["questions"][2]["options"];
    assert_eq!(
        (ranking[0]["count"].as_i64(), ranking[1]["count"].as_i64()),
        (Some(1), Some(1)),
        "first places"
    );
    assert_eq!(results["questions"][3]["texts"][0], "希望尽快开工");
    let for_grid = json(
        grid,
        app.url(&format!("/api/v1/consultations/{id}/results")),
    )
    .await;
    assert_eq!(for_grid["answered"], 2);
    assert_eq!(
        for_grid["questions"][3]["texts"].as_array().unwrap().len(),
        0,
        "free text only for those who run consultations"
    );
    assert_eq!(results["villages"][0]["answered"], 2);
    assert_eq!(
        status(
            resident,
            app.url(&format!("/api/v1/consultations/{id}/results"))
        )
        .await,
        403
    );
    let results_page = page(leader, app.url(&format!("/consultations/{id}/results"))).await;
    assert!(
        results_page.contains(&format!("已作答 2 户 / 应征求 {asked} 户")),
        "{results_page}"
    );
}

/// Results are published as a notice once the consultation has closed.
async fn results_are_published_as_a_notice_once_closed(
    story: &ConsultationStory<'_>,
    id: i64,
    resident: &Client,
) {
    let (app, leader, csrf) = (story.app, &story.leader, &story.csrf);
    let publish = |consultation: i64| {
        let (leader, csrf, url) = (
            leader.clone(),
            csrf.clone(),
            app.url(&format!("/consultations/{consultation}/publish")),
        );
        async move {
            leader
                .post(url)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        publish(id).await.status(),
        StatusCode::BAD_REQUEST,
        "not before the close"
    );
    let soon = stored(app, -Duration::days(1), Duration::seconds(2)).await;
    let soon_q = ids(app, soon).await;
    let res = resident
        .post(app.url(&format!("/api/v1/consultations/{soon}/answers")))
        .json(&serde_json::json!({"answers": {soon_q[0].0.to_string(): soon_q[0].1[0], soon_q[1].0.to_string(): [soon_q[1].1[0]], soon_q[2].0.to_string(): [soon_q[2].1[1], soon_q[2].1[0]]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let res = publish(soon).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let notice_id: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/notices/")
        .parse()
        .unwrap();
    let notice = json(
        &app.client(),
        app.url(&format!("/api/v1/notices/{notice_id}")),
    )
    .await;
    assert!(notice["title"].as_str().unwrap().contains("征求意见结果"));
    assert!(
        notice["body"]
            .as_str()
            .unwrap()
            .contains("东坞村北：1（100.0%）"),
        "{notice}"
    );
    assert_eq!(
        app.store
            .consultation(soon)
            .await
            .unwrap()
            .unwrap()
            .result_notice_id,
        Some(notice_id)
    );
}

/// Two publications at once make one notice.
async fn two_publications_at_once_make_one_notice(story: &ConsultationStory<'_>) {
    let app = story.app;
    let twice = stored(app, -Duration::days(3), -Duration::days(1)).await;
    let draft = || yongxin_domain::notice::NoticeDraft {
        kind: yongxin_domain::notice::NoticeKind::Progress,
        scope: ScopeKind::Subdistrict,
        village_ids: vec![],
        project_id: None,
        title: "只公布一次的结果".into(),
        body: "结果".into(),
        publish_at: Utc::now(),
        end_at: None,
        objections_until: None,
    };
    let (leader, staff) = (Actor::user("leader"), Actor::user("staff"));
    let (a, b) = tokio::join!(
        app.store
            .publish_results_notice(&leader, twice, draft().checked().unwrap()),
        app.store
            .publish_results_notice(&staff, twice, draft().checked().unwrap())
    );
    assert_eq!(a.unwrap().id, b.unwrap().id);
    let all = app
        .store
        .notices(&yongxin_store::NoticeQuery {
            page: 1,
            per_page: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.notices
            .iter()
            .filter(|n| n.title == "只公布一次的结果")
            .count(),
        1
    );
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

async fn concurrent_answers_leave_one_current_answer_per_household(app: TestApp) {
    let id = stored(&app, -Duration::hours(1), Duration::days(1)).await;
    let q = ids(&app, id).await;
    let resident = app.sign_in_as(Role::Resident).await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let (own, _) = app.household_ids().await;
    let url = app.url(&format!("/api/v1/consultations/{id}/answers"));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let client = if i % 2 == 0 { resident.clone() } else { grid.clone() };
            let url = url.clone();
            let body = serde_json::json!({"household_id": own, "answers": {
                q[0].0.to_string(): q[0].1[i % 2], q[1].0.to_string(): [q[1].1[i % 3]], q[2].0.to_string(): [q[2].1[0]]
            }});
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let results = app.store.consultation_results(id).await.unwrap();
    assert_eq!(results.answered, 1, "one current answer per household");
    let counted: i64 = results
        .counts
        .iter()
        .filter(|c| c.0 == q[0].0)
        .map(|c| c.4)
        .sum();
    assert_eq!(counted, 1, "the site question counts one household");
    let current = app.store.current_answer(id, own).await.unwrap().unwrap();
    assert!(["resident", "grid"].contains(&current.recorded_by.as_str()));
    let verified = app.store.verify_audit().await.unwrap().unwrap();
    assert!(verified.entries > 40);
}
