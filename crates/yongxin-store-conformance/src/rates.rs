//! The three rates (三率), counted as cases move and agreeing with the cases themselves.

use super::*;

/// Response, resolution and satisfaction counts per group, judged against each case's deadlines.
pub async fn the_three_rates_count_what_was_on_time(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let now = Utc::now();
    let day = Duration::days(1);
    let hour = Duration::hours(1);
    let case = |category: &str,
                created: chrono::DateTime<Utc>,
                history: Vec<(chrono::DateTime<Utc>, AppealAction)>| {
        let mut appeal = new_appeal(category, "测试", None, None);
        appeal.created_at = created;
        appeal.contact_due = created + day;
        appeal.resolution_due = created + day * 5;
        yongxin_store::ImportedAppeal {
            appeal,
            submitted_by: "r".into(),
            history: history
                .into_iter()
                .map(|(at, a)| (at, "c".to_owned(), a))
                .collect(),
        }
    };
    let t0 = now - day * 20;
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let dispatched = |t: chrono::DateTime<Utc>| {
        vec![
            (t + hour, AppealAction::Accept),
            (
                t + hour * 2,
                AppealAction::Assign {
                    department: Some("科".into()),
                    cadre: None,
                },
            ),
        ]
    };
    let mut on_time = dispatched(t0);
    on_time.extend([
        (t0 + hour * 3, AppealAction::Contact),
        (
            t0 + day * 2,
            AppealAction::Answer {
                reply: "好".into()
            },
        ),
        (
            t0 + day * 3,
            AppealAction::Rate {
                rating: Rating::Satisfied,
                reason: None,
            },
        ),
    ]);
    let mut late = dispatched(t0);
    late.extend([
        (t0 + day * 2, AppealAction::Contact),
        (
            t0 + day * 9,
            AppealAction::Answer {
                reply: "好".into()
            },
        ),
        (
            t0 + day * 10,
            AppealAction::Rate {
                rating: Rating::Dissatisfied,
                reason: None,
            },
        ),
    ]);
    let imported = vec![
        case("noise", t0, on_time),
        case("noise", t0, late),
        case(
            "noise",
            t0,
            vec![(
                t0 + hour,
                AppealAction::Decline {
                    reason: "不属于".into(),
                },
            )],
        ),
        case("noise", now - day * 2, dispatched(now - day * 2)),
        case("water", now - hour, vec![]),
        case("water", now - day * 40, vec![]),
    ];
    store
        .import_appeals(
            &Actor::user("admin"),
            imported,
            AppealPolicy { reopen_limit: 0 },
        )
        .await
        .unwrap();
    let rows = store
        .appeal_stats(StatsGroup::Category, today - day * 30, today, now)
        .await
        .unwrap();
    let noise = rows.iter().find(|r| r.key == "noise").unwrap().counts;
    assert_eq!(
        (
            noise.total,
            noise.contact_due,
            noise.contacted_on_time,
            noise.resolution_due,
            noise.answered_on_time,
            noise.rated,
            noise.satisfied
        ),
        (4, 3, 1, 2, 1, 2, 1),
        "{noise:?}"
    );
    assert_eq!(noise.response_rate(), Some(1.0 / 3.0));
    let water = rows.iter().find(|r| r.key == "water").unwrap().counts;
    assert_eq!(
        (water.total, water.contact_due, water.resolution_due),
        (1, 0, 0),
        "the 40-day-old case is outside the period"
    );
    let by_village = store
        .appeal_stats(StatsGroup::Village, today - day * 30, today, now)
        .await
        .unwrap();
    assert_eq!(by_village.iter().map(|r| r.counts.total).sum::<i64>(), 5);
    for g in [StatsGroup::Grid, StatsGroup::Department, StatsGroup::Cadre] {
        assert_eq!(
            store
                .appeal_stats(g, today - day * 30, today, now)
                .await
                .unwrap()
                .iter()
                .map(|r| r.counts.total)
                .sum::<i64>(),
            5
        );
    }
}

/// The three rates' kept counters agree with the cases themselves, judged by the definitions,
/// whatever the cases went through: reassignment, transfer, reopening, decline, merging.
pub async fn the_kept_rates_agree_with_the_cases_themselves(store: Arc<dyn Store>) {
    use yongxin_domain::appeal::{RateCounts, SettledTally};
    let demo = seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid_user, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let p = AppealPolicy::default();
    let villages = store.villages().await.unwrap();
    let grids = store.grids(None).await.unwrap();
    assert!(!grids.is_empty() && !villages.is_empty() && !demo.villages.is_empty());
    let mut ids = Vec::new();
    for (n, (category, text)) in [
        ("noise", "夜间施工"),
        ("roads", "路灯不亮"),
        ("power", "停电"),
        ("noise", "广场舞"),
        ("roads", "坑洼"),
        ("power", "电压低"),
    ]
    .into_iter()
    .enumerate()
    {
        let g = &grids[n % grids.len()];
        let mut a = new_appeal(category, text, Some(g.village_id), None);
        a.grid_id = Some(g.id);
        ids.push(store.create_appeal(&Actor::user("r"), a).await.unwrap().id);
    }
    let act = |id: AppealId, action: AppealAction| acted(store.clone(), id, action, p);
    let assign = |cadre: Option<i64>| AppealAction::Assign {
        department: Some("城管科".into()),
        cadre,
    };
    // 0: reassigned by transfer, contacted, answered, rated dissatisfied (reopened), answered, rated.
    act(ids[0], AppealAction::Accept).await;
    act(ids[0], assign(Some(grid_user.id))).await;
    act(
        ids[0],
        AppealAction::Transfer {
            reason: "转交".into(),
            department: Some("住建科".into()),
            cadre: None,
        },
    )
    .await;
    act(ids[0], AppealAction::Contact).await;
    act(
        ids[0],
        AppealAction::Answer {
            reply: "已处理".into(),
        },
    )
    .await;
    act(
        ids[0],
        AppealAction::Rate {
            rating: Rating::Dissatisfied,
            reason: None,
        },
    )
    .await;
    act(
        ids[0],
        AppealAction::Answer {
            reply: "再处理".into(),
        },
    )
    .await;
    act(
        ids[0],
        AppealAction::Rate {
            rating: Rating::Satisfied,
            reason: None,
        },
    )
    .await;
    // 1: declined. 2: merged into 3. 3: contacted only. 4: answered, basically satisfied. 5: new.
    act(
        ids[1],
        AppealAction::Decline {
            reason: "不属于".into(),
        },
    )
    .await;
    act(ids[2], AppealAction::Accept).await;
    act(ids[2], AppealAction::Merge { into: ids[3].get() }).await;
    act(ids[3], AppealAction::Accept).await;
    act(ids[3], assign(Some(grid_user.id))).await;
    act(ids[3], AppealAction::Contact).await;
    act(ids[4], AppealAction::Accept).await;
    act(ids[4], assign(None)).await;
    act(
        ids[4],
        AppealAction::Answer {
            reply: "好".into()
        },
    )
    .await;
    act(
        ids[4],
        AppealAction::Rate {
            rating: Rating::BasicallySatisfied,
            reason: None,
        },
    )
    .await;

    let now = Utc::now();
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    // Judged now, a week on when every open deadline has passed, and again once the sweep has
    // recorded those deadlines as lapsed (twice: the second finds nothing left to record).
    for (at, sweep) in [
        (now, false),
        (now + Duration::days(8), false),
        (now + Duration::days(8), true),
        (now + Duration::days(9), true),
    ] {
        if sweep {
            let recorded = store.lapse_deadlines(at).await.unwrap();
            assert_eq!(
                recorded > 0,
                at == now + Duration::days(8),
                "recorded {recorded}"
            );
        }
        for group in [
            StatsGroup::Village,
            StatsGroup::Grid,
            StatsGroup::Category,
            StatsGroup::Department,
            StatsGroup::Cadre,
        ] {
            let mut expected: std::collections::BTreeMap<String, RateCounts> = Default::default();
            for id in &ids {
                let (a, _) = store.appeal(*id).await.unwrap();
                let key = match group {
                    StatsGroup::Village => a.village_id.map(|v| v.to_string()).unwrap_or_default(),
                    StatsGroup::Grid => a.grid_id.map(|v| v.to_string()).unwrap_or_default(),
                    StatsGroup::Category => a.category.clone(),
                    StatsGroup::Department => a.department.clone().unwrap_or_default(),
                    StatsGroup::Cadre => a.cadre_user_id.map(|v| v.to_string()).unwrap_or_default(),
                };
                let live = !matches!(a.status, AppealStatus::Declined | AppealStatus::Merged);
                let flag = |b: bool| i64::from(b);
                let e = expected.entry(key).or_default();
                e.total += 1;
                e.contact_due += flag(a.contacted_at.is_some() || (a.contact_due < at && live));
                e.contacted_on_time += flag(a.contacted_at.is_some_and(|t| t <= a.contact_due));
                e.resolution_due +=
                    flag(a.answered_at.is_some() || (a.resolution_due < at && live));
                e.answered_on_time += flag(a.answered_at.is_some_and(|t| t <= a.resolution_due));
                e.answered += flag(a.answered_at.is_some() || a.rating.is_some());
                e.rated += flag(a.rating.is_some());
                e.satisfied += flag(matches!(
                    a.rating,
                    Some(Rating::Satisfied | Rating::BasicallySatisfied)
                ));
            }
            let got: std::collections::BTreeMap<String, RateCounts> = store
                .appeal_stats(group, today - Duration::days(1), today, at)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.key, r.counts))
                .collect();
            assert_eq!(got, expected, "{group:?} at {at}");
        }
    }
    let before_today = store
        .appeal_stats(
            StatsGroup::Category,
            today - Duration::days(9),
            today - Duration::days(1),
            now,
        )
        .await
        .unwrap();
    assert!(
        before_today.is_empty(),
        "no case was filed before today: {before_today:?}"
    );
    assert_eq!(SettledTally::default().at(0, 0), RateCounts::default());
}

/// The desk's red and yellow cards and hot issues, read from the counts the database keeps,
/// agree with the cases themselves judged by the definitions: before and after the sweep records
/// lapsed deadlines, and after overdue cases are contacted, answered, moved and declined.
pub async fn the_desks_counts_agree_with_the_cases_themselves(store: Arc<dyn Store>) {
    use std::collections::BTreeMap;
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid_user, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let (village_user, _) = store.user_credentials("village").await.unwrap().unwrap();
    let p = AppealPolicy::default();
    let grids = store.grids(None).await.unwrap();
    let villages: Vec<i64> = grids.iter().map(|g| g.village_id).collect();
    // Whole seconds: PostgreSQL keeps microseconds, and a deadline on the horizon must compare
    // the same in the database and here.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0);
    let day = Duration::days(1);
    let mut ids = Vec::new();
    // Cases filed over three weeks, in two villages and none, each due a day and five days on.
    for n in 0..24_i64 {
        let category = ["noise", "roads", "power"][(n % 3) as usize];
        let g = &grids[(n % 2) as usize % grids.len()];
        let mut a = new_appeal(category, "测试", (n % 5 != 4).then_some(g.village_id), None);
        a.grid_id = a.village_id.map(|_| g.id);
        a.created_at = now - Duration::days(n % 19) - Duration::hours(n);
        a.contact_due = a.created_at + day;
        a.resolution_due = a.created_at + day * 5;
        ids.push(store.create_appeal(&Actor::user("r"), a).await.unwrap().id);
    }
    let act = |id: AppealId, action: AppealAction| acted(store.clone(), id, action, p);
    let assign = |department: &str, cadre: Option<i64>| AppealAction::Assign {
        department: Some(department.into()),
        cadre,
    };
    for (i, id) in ids.iter().enumerate() {
        match i % 6 {
            0 => {}
            1 => {
                act(*id, AppealAction::Accept).await;
            }
            2 => {
                act(*id, AppealAction::Accept).await;
                act(*id, assign("城管科", Some(grid_user.id))).await;
            }
            3 => {
                act(*id, AppealAction::Accept).await;
                act(*id, assign("住建科", Some(village_user.id))).await;
                act(*id, AppealAction::Contact).await;
            }
            4 => {
                act(*id, AppealAction::Accept).await;
                act(*id, assign("住建科", None)).await;
            }
            _ => {
                act(*id, AppealAction::Accept).await;
                act(*id, assign("城管科", Some(grid_user.id))).await;
                act(*id, AppealAction::Contact).await;
                act(
                    *id,
                    AppealAction::Answer {
                        reply: "好".into()
                    },
                )
                .await;
            }
        }
    }

    let scopes = [
        AppealScope::All,
        AppealScope::Village(villages[0]),
        AppealScope::Village(*villages.last().unwrap()),
        AppealScope::Cadre {
            grids: vec![grids[0].id],
            user_id: grid_user.id,
        },
    ];
    let check = |at: chrono::DateTime<Utc>, when: &'static str| {
        let store = store.clone();
        let scopes = scopes.clone();
        let ids = ids.clone();
        async move {
            let horizon = at + day;
            let mut cases = Vec::new();
            for id in &ids {
                cases.push(store.appeal(*id).await.unwrap().0);
            }
            for scope in &scopes {
                let board = store.card_board(scope, at, horizon).await.unwrap();
                let mut red: BTreeMap<(String, Option<i64>), i64> = BTreeMap::new();
                let mut near: BTreeMap<(String, Option<i64>), usize> = BTreeMap::new();
                for a in &cases {
                    let in_scope = match scope {
                        AppealScope::All => true,
                        AppealScope::Village(v) => a.village_id == Some(*v),
                        AppealScope::Cadre { grids, user_id } => {
                            a.cadre_user_id == Some(*user_id)
                                || a.grid_id.is_some_and(|g| grids.contains(&g))
                        }
                        AppealScope::Resident { .. } => false,
                    };
                    let waiting = matches!(
                        a.status,
                        AppealStatus::Submitted
                            | AppealStatus::Accepted
                            | AppealStatus::Assigned
                            | AppealStatus::Contacted
                            | AppealStatus::InProgress
                    );
                    if !in_scope || !waiting {
                        continue;
                    }
                    let key = (a.department.clone().unwrap_or_default(), a.cadre_user_id);
                    let open_contact = a.contacted_at.is_none().then_some(a.contact_due);
                    let open_answer = a.answered_at.is_none().then_some(a.resolution_due);
                    let open = [open_contact, open_answer];
                    if open.iter().flatten().any(|due| *due < at) {
                        *red.entry(key.clone()).or_default() += 1;
                    }
                    if open
                        .iter()
                        .flatten()
                        .any(|due| *due >= at && *due < horizon)
                    {
                        *near.entry(key).or_default() += 1;
                    }
                }
                let got_red: BTreeMap<(String, Option<i64>), i64> = board
                    .red
                    .iter()
                    .map(|(d, c, n)| ((d.clone(), *c), *n))
                    .collect();
                assert_eq!(got_red, red, "red cards of {scope:?} {when}");
                let mut got_near: BTreeMap<(String, Option<i64>), usize> = BTreeMap::new();
                for (d, c, _) in &board.near {
                    *got_near.entry((d.clone(), *c)).or_default() += 1;
                }
                assert_eq!(got_near, near, "yellow candidates of {scope:?} {when}");
            }
            // Hot issues: the 7 whole days before today, and today so far.
            let today = at
                .with_timezone(&yongxin_domain::time::shanghai())
                .date_naive();
            let start =
                |back: i64| yongxin_domain::calendar::start_of_day(today - Duration::days(back));
            for by in [
                yongxin_store::HotKey::Category,
                yongxin_store::HotKey::Village,
            ] {
                let (from, middle) = (start(13), start(6));
                let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
                let names: BTreeMap<i64, String> = store
                    .villages()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|v| (v.id, v.name))
                    .collect();
                for a in cases
                    .iter()
                    .filter(|a| a.created_at >= from && a.created_at < at)
                {
                    let key = match by {
                        yongxin_store::HotKey::Category => a.category.clone(),
                        _ => a
                            .village_id
                            .and_then(|v| names.get(&v).cloned())
                            .unwrap_or_default(),
                    };
                    if key.is_empty() {
                        continue;
                    }
                    let e = expected.entry(key).or_default();
                    if a.created_at >= middle {
                        e.0 += 1;
                    } else {
                        e.1 += 1;
                    }
                }
                let got: BTreeMap<String, (i64, i64)> = store
                    .hot_counts(by, None, (from, middle, at))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(k, this, last)| (k, (this, last)))
                    .collect();
                assert_eq!(got, expected, "hot issues by {by:?} {when}");
                assert!(expected.values().map(|e| e.0 + e.1).sum::<i64>() > 0);
            }
        }
    };

    check(now, "before any sweep").await;
    assert!(store.lapse_deadlines(now).await.unwrap() > 0);
    check(now, "after the sweep").await;
    check(now + day * 2, "two days on, not swept").await;
    assert!(store.lapse_deadlines(now + day * 2).await.unwrap() > 0);
    check(now + day * 2, "two days on, swept").await;

    // Overdue cases handled: contacted, answered, moved to another cadre and department,
    // declined; each leaves or moves its count.
    let mut moved = 0;
    for (i, id) in ids.iter().enumerate() {
        let (a, _) = store.appeal(*id).await.unwrap();
        let overdue = a.contacted_at.is_none() && a.contact_due < now;
        match (i % 6, overdue) {
            (2, true) if moved % 2 == 0 => {
                act(*id, AppealAction::Contact).await;
                moved += 1;
            }
            (2, true) => {
                act(
                    *id,
                    AppealAction::Transfer {
                        reason: "转交".into(),
                        department: Some("住建科".into()),
                        cadre: Some(village_user.id),
                    },
                )
                .await;
                moved += 1;
            }
            (3, _) => {
                act(
                    *id,
                    AppealAction::Answer {
                        reply: "好".into()
                    },
                )
                .await;
            }
            (0, true) => {
                act(
                    *id,
                    AppealAction::Decline {
                        reason: "不属于".into(),
                    },
                )
                .await;
            }
            _ => {}
        }
    }
    assert!(moved >= 2, "moved {moved}");
    check(now + day * 2, "after handling").await;
    check(now + day * 9, "nine days on, not swept").await;
    store.lapse_deadlines(now + day * 9).await.unwrap();
    check(now + day * 9, "nine days on, swept").await;
}

/// `action` applied to the case `id` by a cadre; it must be allowed.
async fn acted(
    store: Arc<dyn Store>,
    id: AppealId,
    action: AppealAction,
    p: AppealPolicy,
) -> yongxin_store::Appeal {
    store
        .act_on_appeal(&Actor::user("c"), id, action, p)
        .await
        .unwrap()
        .unwrap()
}
