//! Selection (选房) through HTTP: a rush of concurrent claims for overlapping units (on
//! PostgreSQL through two app nodes sharing the database) sells no unit twice and keeps every
//! household within its limit, every refusal saying why; the board's event stream delivers each
//! change once, in order, across a reconnect (and across nodes); residents claim only for their
//! own household and only in their turn.

use reqwest::StatusCode;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use yongxin_domain::Actor;
use yongxin_store::{HouseholdId, ProjectId};

use reqwest::Client;
use serde_json::{json, Value};
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{json as get_json, post_form, post_json, TestApp};

on_each_backend!(
    a_rush_of_claims_sells_no_unit_twice,
    the_board_stream_delivers_every_change_once_across_a_reconnect,
    households_claim_only_their_own_in_their_turn,
    the_selection_day_is_run_from_the_operator_screen,
    a_late_screen_catches_up_on_a_long_log
);

/// A project over every village of the small demo, every household registered (layout A), drawn
/// and open for online selection for an hour: the project, the selection and the households.
async fn open_selection(app: &TestApp) -> (ProjectId, i64, Vec<HouseholdId>) {
    let villages: Vec<i64> = app
        .store
        .villages()
        .await
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    let (pid, households, _) = app
        .project_to(
            "rush",
            villages,
            None,
            &["A"],
            yongxin_demo::Stage::Selection,
        )
        .await;
    (pid, app.open_online_selection(pid).await, households)
}

async fn a_rush_of_claims_sells_no_unit_twice(app: TestApp) {
    let (pid, sid, households) = open_selection(&app).await;
    // Two nodes on the same database (on SQLite the second shares this process's store file).
    let second = app.another_node().await;
    let nodes = [app.url(""), second.url("")];
    let staff = [
        app.sign_in_as(Role::DepartmentStaff).await,
        second.sign_in_as(Role::DepartmentStaff).await,
    ];
    let units: Vec<Value> = get_json(
        &staff[0],
        app.url(&format!("/api/v1/selections/{sid}/units")),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    // Forty contested units of every layout: 45 to 130 m², for households whose limits differ.
    let contested: Vec<i64> = units
        .iter()
        .step_by(units.len() / 40)
        .take(40)
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    let area: HashMap<i64, i64> = units
        .iter()
        .map(|u| {
            (
                u["id"].as_i64().unwrap(),
                u["area"]
                    .as_str()
                    .unwrap()
                    .parse::<yongxin_domain::money::Qty>()
                    .unwrap()
                    .0,
            )
        })
        .collect();
    let staff = Arc::new(staff);
    let mut tasks = Vec::new();
    for worker in 0..64usize {
        let (staff, nodes, contested, households) = (
            staff.clone(),
            nodes.clone(),
            contested.clone(),
            households.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..32usize {
                let n = worker * 32 + i;
                let household = households[(n * 7) % households.len()];
                let pick: Vec<i64> = if n % 3 == 0 {
                    vec![contested[n % 40], contested[(n * 13 + 5) % 40]]
                } else {
                    vec![contested[(n * 11) % 40]]
                };
                let node = n % 2;
                let (status, body) = post_json(
                    &staff[node],
                    format!("{}/api/v1/selections/{sid}/claims", nodes[node]),
                    json!({"household_id": household, "unit_ids": pick}),
                )
                .await;
                answers.push((household, pick, status, body));
            }
            answers
        }));
    }
    let mut confirmed: Vec<(HouseholdId, Vec<i64>)> = Vec::new();
    let mut refusals: BTreeMap<u16, usize> = BTreeMap::new();
    for t in tasks {
        for (household, pick, status, body) in t.await.unwrap() {
            match status {
                200 => {
                    let mut got: Vec<i64> = body["units"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|u| u["id"].as_i64().unwrap())
                        .collect();
                    got.sort_unstable();
                    let mut want = pick.clone();
                    want.sort_unstable();
                    assert_eq!(
                        (body["household_id"].as_i64(), got.clone()),
                        (Some(household.get()), want)
                    );
                    confirmed.push((household, got));
                }
                409 | 422 | 403 => {
                    let message = body["error"]["message"].as_str().unwrap_or_default();
                    assert!(
                        !message.is_empty(),
                        "a refusal without a reason: {status} {body}"
                    );
                    *refusals.entry(status).or_default() += 1;
                }
                other => panic!("unexpected answer {other}: {body}"),
            }
        }
    }
    assert_eq!(
        confirmed.len() + refusals.values().sum::<usize>(),
        64 * 32,
        "every request answered"
    );
    assert!(
        !confirmed.is_empty() && refusals.get(&409).is_some_and(|n| *n > 100),
        "{} confirmed, {refusals:?}",
        confirmed.len()
    );
    // No unit sold twice, every sale by a confirmed claim, nobody over the limit.
    let mut seen = HashSet::new();
    for (_, units) in &confirmed {
        for u in units {
            assert!(seen.insert(*u), "unit {u} confirmed twice");
        }
    }
    let states = app.store.unit_states(pid).await.unwrap();
    let owned: Vec<_> = states
        .iter()
        .filter(|s| s.owner_household_id.is_some())
        .collect();
    assert_eq!(owned.len(), seen.len(), "sold exactly what was confirmed");
    for (household, units) in &confirmed {
        for u in units {
            assert_eq!(
                states
                    .iter()
                    .find(|s| s.id == *u)
                    .unwrap()
                    .owner_household_id,
                Some(*household)
            );
        }
    }
    let mut by_household: HashMap<HouseholdId, i64> = HashMap::new();
    for s in &owned {
        *by_household
            .entry(s.owner_household_id.unwrap())
            .or_default() += area[&s.id];
    }
    for (h, total) in by_household {
        let limit = app
            .store
            .selection_household(sid, h)
            .await
            .unwrap()
            .unwrap()
            .limit;
        assert!(
            total <= limit.unwrap().0,
            "household {h}: {total} over {limit:?}"
        );
    }
    assert_eq!(
        app.store.board_seq(pid).await.unwrap(),
        confirmed.len() as i64
    );
    app.store.verify_audit().await.unwrap().unwrap();
}

/// Reads server-sent events until `until` is seen (or the stream ends): (id, event) pairs.
async fn read_events(
    res: &mut reqwest::Response,
    until: i64,
    buffer: &mut String,
) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .map(|v| v.trim().parse::<i64>().unwrap());
            let event = block
                .lines()
                .find_map(|l| l.strip_prefix("event:"))
                .map(|v| v.trim().to_owned());
            if let (Some(id), Some(event)) = (id, event) {
                out.push((id, event));
                if id >= until {
                    return out;
                }
            }
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap();
        match chunk {
            Some(bytes) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            None => return out,
        }
    }
}

async fn claim_one(
    app: &TestApp,
    client: &Client,
    sid: i64,
    household: HouseholdId,
    unit: i64,
) -> u16 {
    post_json(
        client,
        app.url(&format!("/api/v1/selections/{sid}/claims")),
        json!({"household_id": household, "unit_ids": [unit]}),
    )
    .await
    .0
}

async fn the_board_stream_delivers_every_change_once_across_a_reconnect(app: TestApp) {
    let (pid, sid, households) = open_selection(&app).await;
    let viewer_node = app.another_node().await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let units: Vec<i64> = app
        .store
        .unit_states(pid)
        .await
        .unwrap()
        .iter()
        .filter(|u| u.layout == "A")
        .map(|u| u.id)
        .collect();
    // The board page's own stream URL starts after what it drew.
    let anonymous = app.client();
    let page = crate::support::page(
        &anonymous,
        viewer_node.url(&format!("/projects/{pid}/board")),
    )
    .await;
    assert!(
        page.contains(&format!("/projects/{pid}/board/events?after=0")),
        "{page}"
    );

    let mut stream = anonymous
        .get(viewer_node.url(&format!("/projects/{pid}/board/events?after=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut sold = 0i64;
    for (i, h) in households.iter().take(10).enumerate() {
        if claim_one(&app, &staff, sid, *h, units[i]).await == 200 {
            sold += 1;
        }
    }
    assert_eq!(sold, 10);
    // Drawn again now, the page shows them just taken, the others available.
    let page = crate::support::page(
        &anonymous,
        viewer_node.url(&format!("/projects/{pid}/board")),
    )
    .await;
    assert!(
        page.contains(&format!("id=\"u{}\" class=\"just\"", units[0])),
        "{page}"
    );
    assert!(page.contains(&format!("id=\"u{}\" class=\"free\"", units[30])));
    let mut buffer = String::new();
    let first = read_events(&mut stream, 6, &mut buffer).await;
    drop(stream);
    let last = first.last().unwrap().0;
    // While the screen is away, more is sold; it comes back with the last id it saw.
    for (i, h) in households.iter().skip(10).take(10).enumerate() {
        assert_eq!(claim_one(&app, &staff, sid, *h, units[10 + i]).await, 200);
    }
    let mut again = anonymous
        .get(viewer_node.url(&format!("/projects/{pid}/board/events")))
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let total = app.store.board_seq(pid).await.unwrap();
    assert_eq!(total, 20);
    let rest = read_events(&mut again, total, &mut buffer).await;
    let ids: Vec<i64> = first.iter().chain(rest.iter()).map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        (1..=20).collect::<Vec<_>>(),
        "every change once, in order"
    );
    assert!(first.iter().chain(rest.iter()).all(|(_, e)| e == "sold"));
    // Live after the catch-up: a sale now arrives on the open stream within a second or so.
    let started = std::time::Instant::now();
    assert_eq!(
        claim_one(&app, &staff, sid, households[20], units[20]).await,
        200
    );
    let live = read_events(&mut again, 21, &mut buffer).await;
    assert_eq!(live.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![21]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

async fn households_claim_only_their_own_in_their_turn(app: TestApp) {
    let (pid, sid, _) = open_selection(&app).await;
    let (own, other) = app.household_ids().await;
    let resident = app.sign_in_as(Role::Resident).await;
    let grid = app.sign_in_as(Role::GridWorker).await;
    let units: Vec<Value> = get_json(
        &resident,
        app.url(&format!("/api/v1/selections/{sid}/units")),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    let a = units.iter().find(|u| u["layout"] == "A").unwrap()["id"]
        .as_i64()
        .unwrap();
    let e: Vec<i64> = units
        .iter()
        .filter(|u| u["layout"] == "E")
        .take(2)
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    let url = app.url(&format!("/api/v1/selections/{sid}/claims"));
    // Not their household; not a role that claims for others.
    assert_eq!(
        post_json(
            &resident,
            url.clone(),
            json!({"household_id": other, "unit_ids": [a]})
        )
        .await
        .0,
        403
    );
    assert_eq!(
        post_json(
            &grid,
            url.clone(),
            json!({"household_id": own, "unit_ids": [a]})
        )
        .await
        .0,
        403
    );
    // Over the limit (two 130 m² for a household of at most 140), bad lists: 422, nothing changes.
    let head = app.store.audit_head().await.unwrap();
    let (s, body) = post_json(
        &resident,
        url.clone(),
        json!({"household_id": own, "unit_ids": e}),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("超过可选上限"));
    assert_eq!(
        post_json(
            &resident,
            url.clone(),
            json!({"household_id": own, "unit_ids": []})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        post_json(
            &resident,
            url.clone(),
            json!({"household_id": own, "unit_ids": [a, a]})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        post_json(
            &resident,
            url.clone(),
            json!({"household_id": own, "unit_ids": [-5]})
        )
        .await
        .0,
        422
    );
    assert_eq!(app.store.audit_head().await.unwrap(), head);
    // Through the page: their turn is shown, a taken unit is refused with the reason.
    let choose = format!("/selections/{sid}/choose");
    let page = crate::support::page(&resident, app.url(&format!("{choose}?layout=A"))).await;
    assert!(
        page.contains("现在可以选房") && page.contains(&format!("value=\"{a}\"")),
        "{page}"
    );
    assert_eq!(crate::support::status(&grid, app.url(&choose)).await, 403);
    // Their own, in their turn: confirmed, recorded as theirs, not on anyone's behalf.
    let (s, c) = post_json(
        &resident,
        url.clone(),
        json!({"household_id": own, "unit_ids": [a]}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (c["on_behalf"].as_bool(), c["board_seq"].as_i64()),
        (Some(false), Some(1))
    );
    let (s, again) = post_json(
        &resident,
        url.clone(),
        json!({"household_id": own, "unit_ids": [a]}),
    )
    .await;
    assert_eq!(s, 409, "{again}");
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url(&choose))
        .form(&[("csrf", csrf.as_str()), ("unit", &a.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("已被选走"));
    let b = units.iter().filter(|u| u["layout"] == "A").nth(1).unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = resident
        .post(app.url(&choose))
        .form(&[("csrf", csrf.as_str()), ("unit", &b.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/slip"));
    let listed: Vec<Value> = get_json(
        &resident,
        app.url(&format!("/api/v1/selections/{sid}/units")),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    assert_eq!(
        listed.iter().find(|u| u["id"] == a).unwrap()["state"],
        "sold"
    );
    let selections = get_json(&resident, app.url("/api/v1/selections")).await;
    let s = selections
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == sid)
        .unwrap();
    assert_eq!(
        (s["mode"].as_str(), s["project_id"].as_i64()),
        (Some("online"), Some(pid.get()))
    );
    // The slip: the household sees its own; the operator's screen is for staff.
    let slip = crate::support::page(
        &resident,
        app.url(&format!("/selections/{sid}/claims/{}/slip", c["claim_id"])),
    )
    .await;
    assert!(
        slip.contains("选房确认书") && slip.contains("购房款"),
        "{slip}"
    );
    // After the window: closed, 403.
    app.store
        .create_selection(
            &Actor::user("leader"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: yongxin_domain::selection::SelectionMode::Online,
                starts_at: chrono::Utc::now() + chrono::Duration::hours(1),
                ends_at: chrono::Utc::now() + chrono::Duration::hours(2),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let later = app.store.selections(Some(pid)).await.unwrap()[0].id;
    let (s, body) = post_json(
        &resident,
        app.url(&format!("/api/v1/selections/{later}/claims")),
        json!({"household_id": own, "unit_ids": [e[0]]}),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("尚未轮到"));
}

/// A selection day run from the operator's screen: the queue calls and skips, the household at
/// the desk confirms a unit that its online selection then sees sold, only an administrator
/// corrects a confirmation, and signing the agreement fixes the early-signing reward.
async fn the_selection_day_is_run_from_the_operator_screen(app: TestApp) {
    let story = OperatorStory::start(&app).await;
    let (day, operator, first, second) =
        the_leader_sets_up_the_day_which_opens_the_operator_screen(&story).await;
    an_absent_household_goes_to_the_end_after_three_calls(&story, day, first, second).await;
    its_time_runs_from_its_call(&story, day, &operator).await;
    let (a_units, slip_url) =
        the_household_at_the_desk_chooses_and_the_slip_follows(&story, day, first, second).await;
    only_an_administrator_corrects_a_choice_with_a_reason(&story, day, second, &a_units, &slip_url)
        .await;
    signing_fixes_the_early_signing_reward(&story, day, second, &a_units).await;
    app.store.verify_audit().await.unwrap().unwrap();
}

/// The project the operator story follows, drawn and open for online selection, and the
/// operator (department staff), the leader and the administrator who work on its selection day.
struct OperatorStory<'a> {
    app: &'a TestApp,
    pid: ProjectId,
    online: i64,
    staff: Client,
    leader: Client,
    admin: Client,
}

impl<'a> OperatorStory<'a> {
    async fn start(app: &'a TestApp) -> Self {
        let (pid, online, _) = open_selection(app).await;
        let staff = app.sign_in_as(Role::DepartmentStaff).await;
        let leader = app.sign_in_as(Role::Leader).await;
        let admin = app.sign_in_as(Role::Admin).await;
        Self {
            app,
            pid,
            online,
            staff,
            leader,
            admin,
        }
    }

    /// The operator confirms `unit` for household `h` at the desk of selection day `day`.
    async fn confirm(&self, day: i64, h: HouseholdId, unit: i64) -> reqwest::Response {
        post_form(
            self.app,
            &self.staff,
            &format!("/selections/{day}/confirm"),
            &[
                ("household_id", &h.to_string()),
                ("unit", &unit.to_string()),
            ],
        )
        .await
    }

    /// The operator records that the household called on day `day` is at the desk: the answer's
    /// status.
    async fn present(&self, day: i64) -> StatusCode {
        post_form(
            self.app,
            &self.staff,
            &format!("/selections/{day}/queue"),
            &[("action", "present")],
        )
        .await
        .status()
    }
}

/// The leader sets up the selection day from the project page: it opens the operator's screen.
/// Returns the day, its operator's screen and the first two households in its queue.
async fn the_leader_sets_up_the_day_which_opens_the_operator_screen(
    story: &OperatorStory<'_>,
) -> (i64, String, HouseholdId, HouseholdId) {
    let (app, pid, staff, leader) = (story.app, story.pid, &story.staff, &story.leader);
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
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let operator = res.headers()["location"].to_str().unwrap().to_owned();
    let day: i64 = operator
        .trim_start_matches("/selections/")
        .trim_end_matches("/operator")
        .parse()
        .unwrap();
    let queue = app
        .store
        .selection(day)
        .await
        .unwrap()
        .unwrap()
        .queue
        .unwrap();
    let first = HouseholdId(queue.current().unwrap().household_id);
    let second = HouseholdId(queue.entries[1].household_id);
    let screen = crate::support::page(staff, app.url(&operator)).await;
    assert!(
        screen.contains(&app.store.household(first).await.unwrap().summary.key),
        "the household called is shown"
    );
    assert_eq!(
        crate::support::status(&app.sign_in_as(Role::GridWorker).await, app.url(&operator)).await,
        403
    );
    (day, operator, first, second)
}

/// Absent: called three times, then to the end of the queue.
async fn an_absent_household_goes_to_the_end_after_three_calls(
    story: &OperatorStory<'_>,
    day: i64,
    first: HouseholdId,
    second: HouseholdId,
) {
    let (app, staff) = (story.app, &story.staff);
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/queue"),
        &[("action", "skip")],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no skip before three calls"
    );
    for _ in 0..3 {
        assert_eq!(
            post_form(
                app,
                staff,
                &format!("/selections/{day}/queue"),
                &[("action", "call")]
            )
            .await
            .status(),
            303
        );
    }
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/selections/{day}/queue"),
            &[("action", "skip")]
        )
        .await
        .status(),
        303
    );
    let queue = app
        .store
        .selection(day)
        .await
        .unwrap()
        .unwrap()
        .queue
        .unwrap();
    assert_eq!(
        (
            queue.current().unwrap().household_id,
            queue.entries.last().unwrap().household_id
        ),
        (second.get(), first.get())
    );
}

/// Its time runs from its call.
async fn its_time_runs_from_its_call(story: &OperatorStory<'_>, day: i64, operator: &str) {
    let (app, staff) = (story.app, &story.staff);
    let screen = crate::support::page(staff, app.url(operator)).await;
    assert!(screen.contains("待叫号"), "not called yet");
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/selections/{day}/queue"),
            &[("action", "call")]
        )
        .await
        .status(),
        303
    );
    let screen = crate::support::page(staff, app.url(operator)).await;
    let at = screen.find("data-seconds=\"").unwrap() + 14;
    let left: i64 = screen[at..].split('"').next().unwrap().parse().unwrap();
    assert!((295..=300).contains(&left), "{left} s left of five minutes");
}

/// The household chooses; only units that fit are offered; the slip follows. Returns the units of
/// layout A free before it chose, and its slip.
async fn the_household_at_the_desk_chooses_and_the_slip_follows(
    story: &OperatorStory<'_>,
    day: i64,
    first: HouseholdId,
    second: HouseholdId,
) -> (Vec<i64>, String) {
    let (app, pid, online, staff) = (story.app, story.pid, story.online, &story.staff);
    let a_units: Vec<i64> = app
        .store
        .unit_states(pid)
        .await
        .unwrap()
        .iter()
        .filter(|u| u.layout == "A" && u.owner_household_id.is_none())
        .map(|u| u.id)
        .collect();
    let res = post_form(
        app,
        staff,
        &format!("/selections/{day}/confirm"),
        &[
            ("household_id", &first.to_string()),
            ("unit", &a_units[0].to_string()),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "not the household being called"
    );
    let res = story.confirm(day, second, a_units[0]).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "called, but not at the desk yet"
    );
    assert!(res.text().await.unwrap().contains("尚未到场"));
    assert_eq!(story.present(day).await, 303);
    let res = story.confirm(day, second, a_units[0]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let slip_url = res.headers()["location"].to_str().unwrap().to_owned();
    let slip = crate::support::page(staff, app.url(&slip_url)).await;
    assert!(
        slip.contains("选房确认书") && slip.contains("安置面积以内") && slip.contains("签字"),
        "{slip}"
    );
    // The online selection of the same project sees the unit sold.
    let units: Vec<Value> = get_json(
        staff,
        app.url(&format!("/api/v1/selections/{online}/units")),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    assert_eq!(
        units.iter().find(|u| u["id"] == a_units[0]).unwrap()["state"],
        "sold"
    );
    (a_units, slip_url)
}

/// Final unless an administrator corrects it, with a reason; the board is told.
async fn only_an_administrator_corrects_a_choice_with_a_reason(
    story: &OperatorStory<'_>,
    day: i64,
    second: HouseholdId,
    a_units: &[i64],
    slip_url: &str,
) {
    let (app, pid, online, staff, leader, admin) = (
        story.app,
        story.pid,
        story.online,
        &story.staff,
        &story.leader,
        &story.admin,
    );
    let claim_id = slip_url.rsplit('/').nth(1).unwrap().to_owned();
    let correct = format!("/selections/{day}/claims/{claim_id}/correct");
    assert_eq!(
        post_form(app, leader, &correct, &[("reason", "录入错误")])
            .await
            .status(),
        403
    );
    assert_eq!(
        post_form(app, admin, &correct, &[("reason", " ")])
            .await
            .status(),
        400
    );
    // Through another selection's address the claim is not found and stays as it is.
    let elsewhere = format!("/selections/{online}/claims/{claim_id}/correct");
    assert_eq!(
        post_form(app, admin, &elsewhere, &[("reason", "换个地址更正")])
            .await
            .status(),
        404
    );
    assert!(app
        .store
        .claim_record(claim_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .corrected
        .is_none());
    assert_eq!(
        app.store
            .unit_states(pid)
            .await
            .unwrap()
            .iter()
            .find(|u| u.id == a_units[0])
            .unwrap()
            .owner_household_id,
        Some(second)
    );
    assert_eq!(
        post_form(
            app,
            admin,
            &correct,
            &[("reason", "户主现场更正：录入错误")]
        )
        .await
        .status(),
        303
    );
    let units: Vec<Value> = get_json(
        staff,
        app.url(&format!("/api/v1/selections/{online}/units")),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    assert_eq!(
        units.iter().find(|u| u["id"] == a_units[0]).unwrap()["state"],
        "available"
    );
    let events = app.store.board_events(pid, 0, 100).await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .rev()
        .take(2)
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["queue", "released"],
        "freed, then the household called again"
    );
    assert!(crate::support::page(staff, app.url(slip_url))
        .await
        .contains("户主现场更正"));
    assert_eq!(
        post_form(app, admin, &correct, &[("reason", "再次")])
            .await
            .status(),
        404,
        "corrected once"
    );
}

/// Agreements: signing fixes the early-signing reward in the household's result. After the
/// correction the household is called again and comes to the desk again.
async fn signing_fixes_the_early_signing_reward(
    story: &OperatorStory<'_>,
    day: i64,
    second: HouseholdId,
    a_units: &[i64],
) {
    let (app, pid, staff) = (story.app, story.pid, &story.staff);
    let b = a_units[1];
    assert_eq!(
        story.confirm(day, second, b).await.status(),
        StatusCode::FORBIDDEN,
        "called again first"
    );
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/selections/{day}/queue"),
            &[("action", "call")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(story.present(day).await, 303);
    assert_eq!(
        story.confirm(day, second, b).await.status(),
        StatusCode::SEE_OTHER
    );
    let key = app.store.household(second).await.unwrap().summary.key;
    let res = post_form(
        app,
        staff,
        &format!("/projects/{pid}/agreements"),
        &[("key", &key), ("step", "signed"), ("on", "2026-06-15")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let e = get_json(
        staff,
        app.url(&format!(
            "/api/v1/projects/{pid}/households/{second}/entitlement"
        )),
    )
    .await;
    let reward = e["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "reward")
        .cloned()
        .unwrap();
    assert_eq!(reward["amount"], "30000.00", "signed in the first window");
    assert_eq!(e["chosen"][0]["area"], "45.00");
    assert_eq!(
        post_form(
            app,
            staff,
            &format!("/projects/{pid}/agreements"),
            &[("key", "NO-SUCH"), ("step", "signed"), ("on", "2026-06-15")]
        )
        .await
        .status(),
        400
    );
    let progress =
        crate::support::page(staff, app.url(&format!("/projects/{pid}/agreements"))).await;
    assert!(progress.contains("签约与交房"), "{progress}");
    let xlsx = staff
        .get(app.url(&format!("/projects/{pid}/agreements.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let mut sheet = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(
        bytes.to_vec(),
    ))
    .unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut sheet, 0)
        .unwrap()
        .unwrap();
    let row = range.rows().find(|r| r[0].to_string() == key).unwrap();
    assert_eq!(row[4].to_string(), "2026-06-15");
    app.store.verify_audit().await.unwrap().unwrap();
}

/// A screen that comes late gets the whole log, however long, with nothing new happening.
async fn a_late_screen_catches_up_on_a_long_log(app: TestApp) {
    let (pid, _, _) = open_selection(&app).await;
    let now = chrono::Utc::now();
    let day = app
        .store
        .create_selection(
            &Actor::user("leader"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: yongxin_domain::selection::SelectionMode::Onsite,
                starts_at: now - chrono::Duration::minutes(1),
                ends_at: now + chrono::Duration::hours(8),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap();
    // More events than the stream reads from the log at once.
    for _ in 0..620 {
        app.store
            .queue_action(
                &Actor::user("staff"),
                day.id,
                yongxin_domain::selection::QueueAction::Call,
            )
            .await
            .unwrap()
            .unwrap();
    }
    let mut stream = app
        .client()
        .get(app.url(&format!("/projects/{pid}/board/events?after=0")))
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let events = read_events(&mut stream, 620, &mut buffer).await;
    assert_eq!(
        events.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        (1..=620).collect::<Vec<_>>()
    );
    assert!(events.iter().all(|(_, kind)| kind == "queue"));
}
