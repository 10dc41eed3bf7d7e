//! Meetings (会议) through HTTP: members drawn from the registry, sign-in at the door and by the
//! code shown at the meeting, quorum and majority checked by the Organic Law's rules, minutes and
//! resolutions published as a notice.

use reqwest::{Client, StatusCode};
use yongxin_domain::Role;
use yongxin_store::HouseholdId;

use crate::on_each_backend;
use crate::support::{json, page, status, TestApp};

on_each_backend!(a_villagers_meeting_decides_only_when_quorate);

fn id_of(res: &reqwest::Response) -> i64 {
    res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/meetings/")
        .parse()
        .unwrap()
}

use crate::support::post_form as post;

/// A villagers' meeting of the resident's village, from its members drawn from the registry to
/// its minutes published: who may hold it, who may sign whom in and when, and resolutions
/// adopted only once two thirds are present, by more than half of them.
async fn a_villagers_meeting_decides_only_when_quorate(app: TestApp) {
    let story = MeetingStory::start(&app).await;
    a_village_officers_form_offers_only_their_own_village(&story).await;
    let (id, households) = a_villagers_meeting_counts_one_member_per_household(&story).await;
    a_committee_meeting_needs_members_it_knows(&story).await;
    let (officer, officer_village, resident) =
        only_officers_of_the_village_hold_its_meetings(&story, id).await;
    let needed = members_sign_in_at_the_door_one_short_of_two_thirds(
        &story,
        id,
        households,
        &officer,
        officer_village,
    )
    .await;
    let present =
        the_resident_signs_in_with_the_code_shown_at_the_meeting(&story, id, &resident, needed)
            .await;
    a_quorate_meeting_decides_by_more_than_half_of_those_present(&story, id, households, present)
        .await;
    minutes_and_resolutions_are_published_as_a_notice(&story, id).await;
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

/// The leader who calls the meetings, the resident's own household and village, and another
/// village.
struct MeetingStory<'a> {
    app: &'a TestApp,
    leader: Client,
    own: HouseholdId,
    village: i64,
    other_village: i64,
}

impl<'a> MeetingStory<'a> {
    async fn start(app: &'a TestApp) -> Self {
        let leader = app.sign_in_as(Role::Leader).await;
        let (own, other) = app.household_ids().await;
        let village = app.store.household(own).await.unwrap().summary.village_id;
        let other_village = app.store.household(other).await.unwrap().summary.village_id;
        Self {
            app,
            leader,
            own,
            village,
            other_village,
        }
    }

    /// The leader puts the resolution on the site to the vote with these counts for, against and
    /// abstaining.
    async fn vote(&self, id: i64, f: &str, a: &str, ab: &str) -> reqwest::Response {
        post(
            self.app,
            &self.leader,
            &format!("/meetings/{id}/resolutions"),
            &[
                ("text", "同意安置区选址在东坞村北"),
                ("votes_for", f),
                ("against", a),
                ("abstain", ab),
            ],
        )
        .await
    }
}

/// A village officer's form offers their own village, chosen already, and nothing else.
async fn a_village_officers_form_offers_only_their_own_village(story: &MeetingStory<'_>) {
    let (app, leader, village, other_village) =
        (story.app, &story.leader, story.village, story.other_village);
    let officer = app.sign_in_as(Role::VillageOfficer).await;
    let form = crate::support::page(&officer, app.url("/meetings/new")).await;
    assert!(
        form.contains(&format!(r#"<option value="{village}" selected>"#)),
        "{form}"
    );
    assert!(!form.contains(&format!(r#"<option value="{other_village}""#)));
    assert!(!form.contains(r#"<option value="">"#));
    let staff_form = crate::support::page(leader, app.url("/meetings/new")).await;
    assert!(staff_form.contains(&format!(r#"<option value="{other_village}""#)));
}

/// A villagers' meeting of the resident's village counted by household: one member per household,
/// its head, and no one present yet. Returns the meeting and its number of members.
async fn a_villagers_meeting_counts_one_member_per_household(
    story: &MeetingStory<'_>,
) -> (i64, i64) {
    let (app, leader, village) = (story.app, &story.leader, story.village);
    let v = village.to_string();
    let res = post(
        app,
        leader,
        "/meetings",
        &[
            ("kind", "villagers"),
            ("village", &v),
            ("basis", "households"),
            ("title", "安置方案村民会议"),
            ("place", "村委会"),
            ("agenda", "审议安置区选址方案"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = id_of(&res);
    let households = app.households_in(village).await;
    let m = json(leader, app.url(&format!("/api/v1/meetings/{id}"))).await;
    assert_eq!(
        m["members"], households,
        "one member per household: its head"
    );
    assert_eq!(
        (
            m["present"].as_i64(),
            m["quorate"].as_bool(),
            m["rule"].as_str()
        ),
        (Some(0), Some(false), Some("villagers_households"))
    );
    (id, households)
}

/// A committee meeting names its members by identity number; none known is refused.
async fn a_committee_meeting_needs_members_it_knows(story: &MeetingStory<'_>) {
    let (app, leader) = (story.app, &story.leader);
    let v = story.village.to_string();
    let res = post(
        app,
        leader,
        "/meetings",
        &[
            ("kind", "village_committee"),
            ("village", &v),
            ("title", "两委会"),
            ("agenda", "议程"),
            ("members", "110101199003077777"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("没有应到人员"));
    let res = post(
        app,
        leader,
        "/meetings",
        &[
            ("kind", "representatives"),
            ("title", "无村"),
            ("agenda", "议程"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// A village officer holds meetings of their own village only; residents hold none. Returns the
/// village officer and their village, and the resident, signed in.
async fn only_officers_of_the_village_hold_its_meetings(
    story: &MeetingStory<'_>,
    id: i64,
) -> (Client, i64, Client) {
    let (app, village, other_village) = (story.app, story.village, story.other_village);
    let v = village.to_string();
    let officer = app.sign_in_as(Role::VillageOfficer).await;
    let officer_village = app
        .store
        .user_credentials("village")
        .await
        .unwrap()
        .unwrap()
        .0
        .village_id
        .unwrap();
    let elsewhere = if officer_village == village {
        other_village
    } else {
        village
    };
    let res = post(
        app,
        &officer,
        "/meetings",
        &[
            ("kind", "villagers"),
            ("village", &elsewhere.to_string()),
            ("title", "t"),
            ("agenda", "a"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let resident = app.sign_in_as(Role::Resident).await;
    assert_eq!(
        post(
            app,
            &resident,
            "/meetings",
            &[
                ("kind", "villagers"),
                ("village", &v),
                ("title", "t"),
                ("agenda", "a")
            ]
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        status(&resident, app.url(&format!("/api/v1/meetings/{id}"))).await,
        403
    );
    (officer, officer_village, resident)
}

/// Members sign in at the door, one short of two thirds: no resolution can be adopted. Returns
/// the two thirds needed.
async fn members_sign_in_at_the_door_one_short_of_two_thirds(
    story: &MeetingStory<'_>,
    id: i64,
    households: i64,
    officer: &Client,
    officer_village: i64,
) -> i64 {
    let (app, leader, own, village) = (story.app, &story.leader, story.own, story.village);
    let v = village.to_string();
    let members = app.store.meeting_members(id).await.unwrap();
    let needed = (households * 2 + 2) / 3; // at least two thirds
    let at_door: Vec<_> = members
        .iter()
        .filter(|mm| mm.household_id != own)
        .take((needed - 1) as usize)
        .collect();
    let grid = app.sign_in_as(Role::GridWorker).await;
    for mm in &at_door {
        let res = post(
            app,
            &grid,
            &format!("/meetings/{id}/attendance"),
            &[("resident_id", &mm.resident_id.to_string())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // Sign-in is open around the meeting only.
    let res = post(
        app,
        leader,
        "/meetings",
        &[
            ("kind", "villagers"),
            ("village", &v),
            ("basis", "households"),
            ("title", "明年的会"),
            ("agenda", "议程"),
            ("held_at", "2099-01-01T09:00"),
        ],
    )
    .await;
    let later = id_of(&res);
    let someone = app.store.meeting_members(later).await.unwrap()[0]
        .resident_id
        .to_string();
    let res = post(
        app,
        leader,
        &format!("/meetings/{later}/attendance"),
        &[("resident_id", &someone)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("不是这次会议的签到时间"));
    // A cadre whose scope does not hold a member's household cannot sign them in.
    let outsider = members
        .iter()
        .find(|mm| mm.signed_in.is_none() && mm.household_id != own)
        .unwrap();
    let officer_elsewhere = officer_village != village;
    if officer_elsewhere {
        let res = post(
            app,
            officer,
            &format!("/meetings/{id}/attendance"),
            &[("resident_id", &outsider.resident_id.to_string())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = story.vote(id, "3", "0", "0").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("未达到法定人数"));
    assert!(
        app.store.resolutions(id).await.unwrap().is_empty(),
        "an inquorate meeting adopts nothing"
    );
    needed
}

/// The resident signs in on their phone with the code shown at the meeting, which makes two
/// thirds. Returns the number present.
async fn the_resident_signs_in_with_the_code_shown_at_the_meeting(
    story: &MeetingStory<'_>,
    id: i64,
    resident: &Client,
    needed: i64,
) -> i64 {
    let (app, leader) = (story.app, &story.leader);
    let res = post(app, leader, &format!("/meetings/{id}/code"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let start = html.find("class=\"code\">").unwrap() + "class=\"code\">".len();
    let code = html[start..start + 6].to_owned();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = post(
        app,
        resident,
        &format!("/meetings/{id}/sign-in"),
        &[("code", wrong)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("签到码不正确"));
    let res = post(
        app,
        resident,
        &format!("/meetings/{id}/sign-in"),
        &[("code", &code)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("已签到"));
    // Guessing is cut short: an account gets five wrong tries per meeting, then none.
    let guesser = app.sign_in_as(Role::GridWorker).await;
    for _ in 0..5 {
        let res = post(
            app,
            &guesser,
            &format!("/meetings/{id}/sign-in"),
            &[("code", wrong)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = post(
        app,
        &guesser,
        &format!("/meetings/{id}/sign-in"),
        &[("code", &code)],
    )
    .await;
    assert_eq!(
        res.status(),
        429,
        "even the right code, after five wrong ones"
    );
    let present = app
        .store
        .meeting_members(id)
        .await
        .unwrap()
        .iter()
        .filter(|mm| mm.signed_in.is_some())
        .count() as i64;
    assert_eq!(present, needed);
    let m = json(leader, app.url(&format!("/api/v1/meetings/{id}"))).await;
    assert_eq!(m["quorate"], true);
    present
}

/// Now it decides, by more than half of those present; votes cannot exceed them.
async fn a_quorate_meeting_decides_by_more_than_half_of_those_present(
    story: &MeetingStory<'_>,
    id: i64,
    households: i64,
    present: i64,
) {
    let (app, leader) = (story.app, &story.leader);
    let res = story.vote(id, "4", "1", "0").await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "more votes than present"
    );
    let half = present / 2;
    let (f, a) = ((half + 1).to_string(), (present - half - 1).to_string());
    let res = post(
        app,
        leader,
        &format!("/meetings/{id}/resolutions"),
        &[
            ("text", "同意安置区选址在东坞村北"),
            ("votes_for", &f),
            ("against", &a),
            ("abstain", "0"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("通过"));
    let (f, a) = (half.to_string(), (present - half).to_string());
    post(
        app,
        leader,
        &format!("/meetings/{id}/resolutions"),
        &[
            ("text", "同意户型只设90平方米"),
            ("votes_for", &f),
            ("against", &a),
            ("abstain", "0"),
        ],
    )
    .await;
    let resolutions = app.store.resolutions(id).await.unwrap();
    assert_eq!(
        resolutions.iter().map(|r| r.passed).collect::<Vec<_>>(),
        vec![true, false],
        "half is not more than half"
    );
    assert_eq!(
        (resolutions[0].members, resolutions[0].present),
        (households, present)
    );
}

/// Minutes and resolutions are published as a notice to the village.
async fn minutes_and_resolutions_are_published_as_a_notice(story: &MeetingStory<'_>, id: i64) {
    let (app, leader, village) = (story.app, &story.leader, story.village);
    let res = post(app, leader, &format!("/meetings/{id}/publish"), &[]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "minutes first");
    post(
        app,
        leader,
        &format!("/meetings/{id}/minutes"),
        &[("minutes", "会议由村主任主持，逐户发言。")],
    )
    .await;
    let res = post(app, leader, &format!("/meetings/{id}/publish"), &[]).await;
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
    let body = notice["body"].as_str().unwrap();
    assert!(
        body.contains("户的代表参加"),
        "the rule applied is shown: {body}"
    );
    assert!(body.contains("通过：同意安置区选址在东坞村北"));
    assert!(body.contains("未通过：同意户型只设90平方米"));
    assert_eq!(notice["village_ids"][0], village);
    assert!(page(leader, app.url(&format!("/meetings/{id}")))
        .await
        .contains("已公布的会议记录"));
}
