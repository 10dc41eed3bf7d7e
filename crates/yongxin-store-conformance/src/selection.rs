//! House selection (选房): no unit sold twice, the queue and turns of the day.

use super::*;

/// A two-village project taken to the selection phase: every household registered (layout C) and
/// drawn. Answers the project, its households and a leader.
async fn project_in_selection(
    store: &dyn Store,
) -> (ProjectId, Vec<HouseholdId>, yongxin_store::User) {
    seeded(store).await;
    let villages = store.villages().await.unwrap();
    let pid = store
        .create_project(
            &Actor::user("t"),
            yongxin_store::NewProject {
                code: "S".into(),
                name: "选房项目".into(),
                village_ids: vec![villages[0].id, villages[1].id],
            },
        )
        .await
        .unwrap()
        .id;
    let user = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == yongxin_domain::Role::Leader)
        .unwrap();
    let plan = yongxin_demo::ProjectPlan {
        project: pid,
        actor: Actor::user("t"),
        registering: yongxin_demo::Registering::Combination {
            layouts: &["C"],
            by: &user,
        },
        unregistered: None,
        measured: false,
        seed: "123456",
        now: Utc::now(),
    };
    let run = yongxin_demo::take_project(store, &plan, yongxin_demo::Stage::Selection)
        .await
        .unwrap();
    (pid, run.households, user)
}

/// Many households claiming overlapping apartments at once: each apartment gets one owner, no
/// household goes over its limit, every refusal has its reason, the board numbers each sale once.
pub async fn concurrent_claims_never_sell_a_unit_twice(store: Arc<dyn Store>) {
    use yongxin_domain::selection::{ClaimRefusal, SelectionMode};
    let (pid, households, user) = project_in_selection(&*store).await;
    let now = Utc::now();
    let sel = store
        .create_selection(
            &Actor::user("t"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: SelectionMode::Online,
                starts_at: now - Duration::hours(1),
                ends_at: now + Duration::hours(1),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sel.households, households.len() as i64);
    let units = store.unit_states(pid).await.unwrap();
    // Eight apartments of 45–90 m² for twelve households of limits 110 m² and more.
    let contested: Vec<i64> = units
        .iter()
        .filter(|u| u.layout == "A" || u.layout == "C")
        .take(8)
        .map(|u| u.id)
        .collect();
    let mut tasks = Vec::new();
    for (i, h) in households.iter().enumerate() {
        for j in 0..4 {
            let (store, user, contested) = (store.clone(), user.clone(), contested.clone());
            let h = *h;
            tasks.push(tokio::spawn(async move {
                let pick = if j % 2 == 0 {
                    vec![contested[(i + j) % 8]]
                } else {
                    vec![contested[(i + j) % 8], contested[(i * 3 + j + 1) % 8]]
                };
                store
                    .claim(&Actor::user("t"), sel.id, h, pick, &user, true)
                    .await
                    .unwrap()
            }));
        }
    }
    let mut confirmed = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(c) => confirmed.push(c),
            Err(
                ClaimRefusal::Taken(_) | ClaimRefusal::OverLimit { .. } | ClaimRefusal::BadUnits(_),
            ) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert!(!confirmed.is_empty());
    let mut sold: Vec<i64> = confirmed
        .iter()
        .flat_map(|c| c.units.iter().map(|u| u.id))
        .collect();
    let n = sold.len();
    sold.sort_unstable();
    sold.dedup();
    assert_eq!(sold.len(), n, "a unit confirmed twice");
    let states = store.unit_states(pid).await.unwrap();
    for c in &confirmed {
        for u in &c.units {
            assert_eq!(
                states
                    .iter()
                    .find(|s| s.id == u.id)
                    .unwrap()
                    .owner_household_id,
                Some(c.household_id)
            );
        }
    }
    assert_eq!(
        states
            .iter()
            .filter(|s| s.owner_household_id.is_some())
            .count(),
        n,
        "nothing sold but by a confirmed claim"
    );
    for h in &households {
        let limit = store
            .selection_household(sel.id, *h)
            .await
            .unwrap()
            .unwrap()
            .limit;
        let owned: i64 = states
            .iter()
            .filter(|s| s.owner_household_id == Some(*h))
            .map(|s| s.area.0)
            .sum();
        assert!(owned <= limit.unwrap().0, "household {h} over its limit");
    }
    let events = store.board_events(pid, 0, 1000).await.unwrap();
    assert_eq!(events.len(), confirmed.len());
    assert!(
        events.iter().zip(1..).all(|(e, i)| e.seq == i),
        "board numbers without gaps"
    );
    assert_eq!(store.board_seq(pid).await.unwrap(), confirmed.len() as i64);
    let mut seqs: Vec<i64> = confirmed.iter().map(|c| c.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=confirmed.len() as i64).collect::<Vec<_>>());
    // A taken unit is refused with its name; the refusal changes nothing.
    let head = store.audit_head().await.unwrap();
    let free_household = households
        .iter()
        .find(|h| !confirmed.iter().any(|c| c.household_id == **h));
    if let Some(h) = free_household {
        let r = store
            .claim(&Actor::user("t"), sel.id, *h, vec![sold[0]], &user, true)
            .await
            .unwrap();
        assert!(matches!(r, Err(ClaimRefusal::Taken(_))), "{r:?}");
    }
    assert_eq!(store.audit_head().await.unwrap(), head);
    store.verify_audit().await.unwrap().unwrap();
}

/// Waves and the window decide whose turn it is; on selection day only the household being called
/// is confirmed, and three calls send an absent one to the end.
pub async fn the_selection_day_queue_and_turns_are_enforced(store: Arc<dyn Store>) {
    use yongxin_domain::selection::{ClaimRefusal, QueueAction, SelectionMode, Wave};
    let (pid, households, user) = project_in_selection(&*store).await;
    let now = Utc::now();
    let units = store.unit_states(pid).await.unwrap();
    let c_units: Vec<i64> = units
        .iter()
        .filter(|u| u.layout == "C")
        .map(|u| u.id)
        .collect();
    let order_of = |sel: i64, h: HouseholdId| {
        let store = store.clone();
        async move {
            store
                .selection_household(sel, h)
                .await
                .unwrap()
                .unwrap()
                .order
        }
    };
    let bad = store
        .create_selection(
            &Actor::user("t"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: SelectionMode::Online,
                starts_at: now,
                ends_at: now - Duration::hours(1),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap();
    assert!(bad.is_err());
    let online = store
        .create_selection(
            &Actor::user("t"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: SelectionMode::Online,
                starts_at: now - Duration::hours(1),
                ends_at: now + Duration::hours(2),
                waves: vec![
                    Wave {
                        from_order: 1,
                        to_order: 6,
                        opens_at: now - Duration::hours(1),
                    },
                    Wave {
                        from_order: 7,
                        to_order: 12,
                        opens_at: now + Duration::hours(1),
                    },
                ],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let (mut late, mut early) = (None, None);
    for h in &households {
        if order_of(online.id, *h).await > 6 {
            late = Some(*h);
        } else {
            early = Some(*h);
        }
    }
    let r = store
        .claim(
            &Actor::user("t"),
            online.id,
            late.unwrap(),
            vec![c_units[0]],
            &user,
            true,
        )
        .await
        .unwrap();
    assert!(matches!(r, Err(ClaimRefusal::NotYourTurn(_))), "{r:?}");
    let r = store
        .claim(
            &Actor::user("t"),
            online.id,
            HouseholdId(999_999),
            vec![c_units[0]],
            &user,
            true,
        )
        .await
        .unwrap();
    assert_eq!(r, Err(ClaimRefusal::NotListed));
    let r = store
        .claim(
            &Actor::user("t"),
            online.id,
            early.unwrap(),
            vec![-1],
            &user,
            true,
        )
        .await
        .unwrap();
    assert!(matches!(r, Err(ClaimRefusal::BadUnits(_))), "{r:?}");

    let day = store
        .create_selection(
            &Actor::user("t"),
            yongxin_store::NewSelection {
                project_id: pid,
                mode: SelectionMode::Onsite,
                starts_at: now - Duration::hours(1),
                ends_at: now + Duration::hours(8),
                waves: vec![],
                time_limit_seconds: 300,
                return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let queue = day.queue.clone().unwrap();
    let first = HouseholdId(queue.current().unwrap().household_id);
    let second = HouseholdId(queue.entries[1].household_id);
    let r = store
        .claim(
            &Actor::user("t"),
            day.id,
            second,
            vec![c_units[1]],
            &user,
            true,
        )
        .await
        .unwrap();
    assert_eq!(r, Err(ClaimRefusal::NotCalled));
    assert!(
        store
            .queue_action(&Actor::user("t"), day.id, QueueAction::Skip)
            .await
            .unwrap()
            .is_err(),
        "not before three calls"
    );
    for _ in 0..3 {
        store
            .queue_action(&Actor::user("t"), day.id, QueueAction::Call)
            .await
            .unwrap()
            .unwrap();
    }
    let q = store
        .queue_action(&Actor::user("t"), day.id, QueueAction::Skip)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.current().unwrap().household_id, second.get());
    assert_eq!(q.entries.last().unwrap().household_id, first.get());
    // Called, but not at the desk: refused; called and present: confirmed.
    let r = store
        .claim(
            &Actor::user("t"),
            day.id,
            second,
            vec![c_units[1]],
            &user,
            true,
        )
        .await
        .unwrap();
    assert_eq!(r, Err(ClaimRefusal::NotPresent));
    for action in [QueueAction::Call, QueueAction::Present] {
        store
            .queue_action(&Actor::user("t"), day.id, action)
            .await
            .unwrap()
            .unwrap();
    }
    let returned = store
        .claim(
            &Actor::user("t"),
            day.id,
            second,
            vec![c_units[1]],
            &user,
            true,
        )
        .await
        .unwrap()
        .unwrap();
    // Returned within the window: the unit is free, the household at the desk again.
    let back = store
        .return_claim(&Actor::user("t"), day.id, returned.id, "点错了")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(back.returned && back.corrected.is_some());
    assert_eq!(
        store
            .return_claim(&Actor::user("t"), day.id, returned.id, "再退")
            .await
            .unwrap()
            .unwrap(),
        Err(yongxin_domain::selection::ReturnRefusal::Released)
    );
    assert!(store
        .return_claim(&Actor::user("t"), day.id + 1, returned.id, "别的选房")
        .await
        .unwrap()
        .is_none());
    let c = store
        .claim(
            &Actor::user("t"),
            day.id,
            second,
            vec![c_units[1]],
            &user,
            true,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(c.on_behalf);
    // Signed: no return any more.
    let signed = store
        .sign_claim(&Actor::user("t"), day.id, c.id)
        .await
        .unwrap()
        .unwrap();
    assert!(signed.signed_at.is_some());
    assert_eq!(
        store
            .return_claim(&Actor::user("t"), day.id, c.id, "签字后")
            .await
            .unwrap()
            .unwrap(),
        Err(yongxin_domain::selection::ReturnRefusal::Signed)
    );
    let after = store
        .selection(day.id)
        .await
        .unwrap()
        .unwrap()
        .queue
        .unwrap();
    assert_ne!(after.current().unwrap().household_id, second.get());
    assert_eq!(store.household_claims(pid, second).await.unwrap().len(), 2);
    let events = store.board_events(pid, 0, 100).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec![
            "queue", "queue", "queue", "queue", "queue", "queue", "sold", "released", "queue",
            "sold"
        ],
        "a return frees the units, then tells who is at the desk"
    );

    // Agreements: each step recorded.
    let a = store
        .record_agreement(
            &Actor::user("t"),
            pid,
            second,
            yongxin_store::AgreementStep::Signed,
            now.date_naive(),
        )
        .await
        .unwrap();
    assert_eq!(a.signed_on, Some(now.date_naive()));
    let a = store
        .record_agreement(
            &Actor::user("t"),
            pid,
            second,
            yongxin_store::AgreementStep::Keys,
            now.date_naive(),
        )
        .await
        .unwrap();
    assert_eq!(
        (a.signed_on, a.keys_on, a.moved_out_on),
        (Some(now.date_naive()), Some(now.date_naive()), None)
    );
    assert_eq!(store.agreements(pid).await.unwrap().len(), 1);
    store.verify_audit().await.unwrap().unwrap();
}
