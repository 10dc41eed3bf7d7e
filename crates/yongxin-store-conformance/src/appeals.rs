//! Appeals: intake, the catalogue and calendars, the lifecycle, searches, imported histories and photos.

use super::*;

/// Cases filed at the same moment as a case that cannot be stored (its village does not exist)
/// and as other writes are stored whole, with their submission event, their record entry and
/// their count in the rates; the failed case leaves nothing behind. (On SQLite the cases and the
/// other writes share one commit, run by two different means.)
pub async fn failed_intakes_leave_the_intakes_beside_them_intact(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let village = store
        .create_village(
            &Actor::user("t"),
            NewVillage {
                code: "V1".into(),
                name: "前街村".into(),
                kind: VillageKind::Village,
            },
        )
        .await
        .unwrap();
    let before = store.verify_audit().await.unwrap().unwrap().entries;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let village_id = if i % 3 == 1 { 999_999 } else { village.id };
                match i % 3 {
                    2 => store
                        .create_village(
                            &Actor::user("t"),
                            NewVillage {
                                code: format!("W{i:02}"),
                                name: format!("村{i:02}"),
                                kind: VillageKind::Village,
                            },
                        )
                        .await
                        .map(|_| None),
                    _ => store
                        .create_appeal(
                            &Actor::user("t"),
                            new_appeal("noise", &format!("噪音{i}"), Some(village_id), None),
                        )
                        .await
                        .map(Some),
                }
            })
        })
        .collect();
    let mut filed = Vec::new();
    let (mut villages, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Some(appeal)) => filed.push(appeal),
            Ok(None) => villages += 1,
            Err(StoreError::Invalid { .. }) => refused += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((filed.len(), refused, villages), (10, 10, 10));
    for appeal in &filed {
        let (stored, events) = store.appeal(appeal.id).await.unwrap();
        assert_eq!(&stored, appeal, "the case answered is the case stored");
        assert_eq!(stored.village_name.as_deref(), Some("前街村"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "submit");
    }
    let all = store
        .search_appeals(&AppealQuery::within(AppealScope::All, 1))
        .await
        .unwrap();
    assert_eq!(all.total, 10, "the refused cases left no row");
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(
        verified.entries,
        before + 20,
        "only what was stored is recorded"
    );
    let now = Utc::now();
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let rows = store
        .appeal_stats(
            StatsGroup::Village,
            today - chrono::Days::new(1),
            today,
            now,
        )
        .await
        .unwrap();
    let counted: i64 = rows.iter().map(|r| r.counts.total).sum();
    assert_eq!(counted, 10, "only stored cases are counted: {rows:?}");
}

/// Categories keep their order, definition and state; calendar files are kept by year.
pub async fn catalogue_and_calendars_round_trip(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let cats = store.categories().await.unwrap();
    assert_eq!(cats.len(), default_catalogue().len());
    assert_eq!(cats[0].0, default_catalogue()[0]);
    assert!(cats.iter().all(|(_, active)| *active));
    let mut noise = cats[1].0.clone();
    noise.name_en = "Noise nuisance".into();
    store
        .save_category(&Actor::user("admin"), &noise, 1, false)
        .await
        .unwrap();
    let cats = store.categories().await.unwrap();
    assert_eq!(cats.len(), default_catalogue().len());
    assert_eq!(
        (cats[1].0.name_en.as_str(), cats[1].1),
        ("Noise nuisance", false)
    );
    store
        .save_calendar_year(&Actor::user("admin"), 2027, "year = 2027")
        .await
        .unwrap();
    store
        .save_calendar_year(
            &Actor::user("admin"),
            2027,
            "year = 2027\nholidays = [\"01-01\"]",
        )
        .await
        .unwrap();
    assert_eq!(
        store.calendar_years().await.unwrap(),
        vec![(2027, "year = 2027\nholidays = [\"01-01\"]".to_owned())]
    );
}

/// From submission through a dissatisfied rating and reopening to a satisfied close.
pub async fn an_appeal_follows_its_lifecycle_to_the_end(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (resident, _) = store.user_credentials("resident").await.unwrap().unwrap();
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let created = store
        .create_appeal(
            &Actor::user("resident"),
            new_appeal(
                "noise",
                "楼下商铺夜间噪音扰民",
                None,
                Some((resident.id, resident.household_id.unwrap())),
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.status, AppealStatus::Submitted);
    assert!(created.number.ends_with(&format!("{:06}", created.id)));
    assert_eq!(created.answers["source"], vec!["construction".to_owned()]);
    let (stored, submitted) = store.appeal(created.id).await.unwrap();
    assert_eq!(stored, created, "what creation answers is what is stored");
    assert_eq!(submitted.len(), 1);
    assert_eq!(
        (
            submitted[0].action.as_str(),
            submitted[0].actor.as_str(),
            submitted[0].at,
            submitted[0].status_from,
            submitted[0].status_to,
            submitted[0].visible
        ),
        (
            "submit",
            "resident",
            created.created_at,
            None,
            AppealStatus::Submitted,
            true
        ),
        "written with the case"
    );
    let village = store.villages().await.unwrap()[0].clone();
    let mut placed = new_appeal("noise", "广场舞", Some(village.id), None);
    placed.latitude = Some(36.651_2);
    placed.longitude = Some(117.120_9);
    placed.contact_email = Some("li@example.cn".into());
    let placed = store
        .create_appeal(&Actor::user("desk"), placed)
        .await
        .unwrap();
    assert_eq!(placed.village_name.as_deref(), Some(village.name.as_str()));
    assert_eq!(store.appeal(placed.id).await.unwrap().0, placed);
    let policy = AppealPolicy::default();
    let steps = [
        ("staff", AppealAction::Accept, AppealStatus::Accepted),
        (
            "staff",
            AppealAction::Assign {
                department: None,
                cadre: Some(grid.id),
            },
            AppealStatus::Assigned,
        ),
        ("grid", AppealAction::Contact, AppealStatus::Contacted),
        (
            "grid",
            AppealAction::Note {
                text: "已到现场查看".into(),
                visible: true,
            },
            AppealStatus::InProgress,
        ),
        (
            "grid",
            AppealAction::Answer {
                reply: "已责令商铺整改".into(),
            },
            AppealStatus::Answered,
        ),
        (
            "resident",
            AppealAction::Rate {
                rating: Rating::Dissatisfied,
                reason: None,
            },
            AppealStatus::Assigned,
        ),
        (
            "grid",
            AppealAction::Answer {
                reply: "已安装隔音设施".into(),
            },
            AppealStatus::Answered,
        ),
        (
            "resident",
            AppealAction::Rate {
                rating: Rating::Satisfied,
                reason: None,
            },
            AppealStatus::Closed,
        ),
    ];
    for (actor, action, expect) in steps {
        let code = action.code();
        let a = store
            .act_on_appeal(&Actor::user(actor), created.id, action, policy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.status, expect, "after {code}");
    }
    let (a, events) = store.appeal(created.id).await.unwrap();
    assert_eq!(a.reopen_count, 1);
    assert_eq!(a.rating, Some(Rating::Satisfied));
    assert_eq!(a.reply.as_deref(), Some("已安装隔音设施"));
    assert_eq!(a.cadre_user_id, Some(grid.id));
    assert_eq!(a.cadre_name.as_deref(), Some(grid.display_name.as_str()));
    assert!(a.contacted_at.is_some() && a.answered_at.is_some() && a.closed_at.is_some());
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["submit", "accept", "assign", "contact", "note", "answer", "rate", "answer", "rate"]
    );
    assert_eq!(events[4].text.as_deref(), Some("已到现场查看"));
    assert!(events[4].visible);
    assert_eq!(events[6].status_to, AppealStatus::Assigned);
    let recorded = store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(
        recorded
            .iter()
            .filter(|e| e.entity == format!("appeal:{}", created.id))
            .count(),
        9
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// An action the case does not allow leaves the case, its history and the record untouched.
pub async fn a_refused_action_changes_nothing(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let a = store
        .create_appeal(
            &Actor::user("anonymous"),
            new_appeal("water", "停水三天", None, None),
        )
        .await
        .unwrap();
    let head = store.audit_head().await.unwrap();
    let refused = store
        .act_on_appeal(
            &Actor::user("grid"),
            a.id,
            AppealAction::Answer {
                reply: "好".into()
            },
            AppealPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(AppealError::NotAllowed {
            action: "answer",
            status: AppealStatus::Submitted
        })
    );
    let refused = store
        .act_on_appeal(
            &Actor::user("staff"),
            a.id,
            AppealAction::Decline { reason: " ".into() },
            AppealPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(AppealError::Required { field: "reason" }));
    assert_eq!(store.audit_head().await.unwrap(), head);
    let (after, events) = store.appeal(a.id).await.unwrap();
    assert_eq!(after, a);
    assert_eq!(events.len(), 1);
    assert!(matches!(
        store
            .act_on_appeal(
                &Actor::user("x"),
                AppealId(987_654),
                AppealAction::Accept,
                AppealPolicy::default()
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let bad_cadre = store
        .act_on_appeal(
            &Actor::user("staff"),
            a.id,
            AppealAction::Accept,
            AppealPolicy::default(),
        )
        .await
        .unwrap();
    assert!(bad_cadre.is_ok());
    let assign = store
        .act_on_appeal(
            &Actor::user("staff"),
            a.id,
            AppealAction::Assign {
                department: None,
                cadre: Some(987_654),
            },
            AppealPolicy::default(),
        )
        .await;
    assert!(
        matches!(assign, Err(StoreError::Invalid { .. })),
        "{assign:?}"
    );
    assert_eq!(
        store.appeal(a.id).await.unwrap().0.status,
        AppealStatus::Accepted
    );
}

/// Scopes, filters, text and paging.
pub async fn appeal_searches_respect_scope_and_filters(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let villages = store.villages().await.unwrap();
    let (v1, v2) = (villages[0].id, villages[1].id);
    let (resident, _) = store.user_credentials("resident").await.unwrap().unwrap();
    let mine = Some((resident.id, resident.household_id.unwrap()));
    store
        .create_appeal(
            &Actor::user("resident"),
            new_appeal("noise", "夜间施工噪音", Some(v1), mine),
        )
        .await
        .unwrap();
    store
        .create_appeal(
            &Actor::user("x"),
            new_appeal("water", "自来水管漏水", Some(v1), None),
        )
        .await
        .unwrap();
    for i in 0..5 {
        store
            .create_appeal(
                &Actor::user("x"),
                new_appeal("heating", &format!("暖气不热{i}"), Some(v2), None),
            )
            .await
            .unwrap();
    }
    let q = |scope: AppealScope| AppealQuery::within(scope, 20);
    assert_eq!(
        store
            .search_appeals(&q(AppealScope::All))
            .await
            .unwrap()
            .total,
        7
    );
    assert_eq!(
        store
            .search_appeals(&q(AppealScope::Village(v1)))
            .await
            .unwrap()
            .total,
        2
    );
    let own = store
        .search_appeals(&q(AppealScope::Resident {
            user_id: resident.id,
            household_id: resident.household_id,
        }))
        .await
        .unwrap();
    assert_eq!((own.total, own.appeals[0].category.as_str()), (1, "noise"));
    assert_eq!(
        store
            .search_appeals(&q(AppealScope::Cadre {
                grids: vec![],
                user_id: 987
            }))
            .await
            .unwrap()
            .total,
        0
    );
    let mut text = q(AppealScope::All);
    text.text = Some("噪音".into());
    assert_eq!(store.search_appeals(&text).await.unwrap().total, 1);
    let mut cat = q(AppealScope::All);
    cat.category = Some("heating".into());
    cat.per_page = 2;
    cat.page = 3;
    let page = store.search_appeals(&cat).await.unwrap();
    assert_eq!((page.total, page.appeals.len()), (5, 1));
    let mut status = q(AppealScope::All);
    status.status = Some(AppealStatus::Accepted);
    assert_eq!(store.search_appeals(&status).await.unwrap().total, 0);
    let all = store.search_appeals(&q(AppealScope::All)).await.unwrap();
    assert!(
        all.appeals.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
}

/// Ten dispatchers accepting one case at once: it is accepted once.
pub async fn concurrent_actions_on_one_case_apply_once(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let a = store
        .create_appeal(
            &Actor::user("x"),
            new_appeal("roads", "井盖丢失", None, None),
        )
        .await
        .unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .act_on_appeal(
                        &Actor::user("staff"),
                        a.id,
                        AppealAction::Accept,
                        AppealPolicy::default(),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(store.appeal(a.id).await.unwrap().1.len(), 2);
}

/// Demo and migrated appeals go through the lifecycle; one impossible history stores nothing.
pub async fn imported_histories_are_replayed_through_the_lifecycle(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    with_catalogue(&*store).await;
    let until = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let appeals =
        yongxin_domain::demo_appeals::generate_appeals(3, demo.households.len(), until, 300);
    let stored = yongxin_demo::load_appeals(
        &*store,
        &demo,
        &appeals,
        AppealPolicy::default(),
        &WorkingCalendar::official(),
    )
    .await
    .unwrap();
    assert_eq!(stored, 300);
    let q = |status: Option<AppealStatus>| AppealQuery {
        status,
        ..AppealQuery::within(AppealScope::All, 1)
    };
    assert_eq!(store.search_appeals(&q(None)).await.unwrap().total, 300);
    assert!(
        store
            .search_appeals(&q(Some(AppealStatus::Closed)))
            .await
            .unwrap()
            .total
            > 150
    );
    let closed = store
        .search_appeals(&q(Some(AppealStatus::Closed)))
        .await
        .unwrap()
        .appeals
        .remove(0);
    let (a, events) = store.appeal(closed.id).await.unwrap();
    assert!(a.closed_at.is_some() && events.len() >= 2 && events[0].action == "submit");
    assert!(store.verify_audit().await.unwrap().is_ok());

    let head = store.audit_head().await.unwrap();
    let mut bad = yongxin_store::ImportedAppeal {
        appeal: new_appeal("water", "停水", None, None),
        submitted_by: "x".into(),
        history: vec![(
            Utc::now(),
            "grid".into(),
            AppealAction::Answer {
                reply: "好".into()
            },
        )],
    };
    let good = yongxin_store::ImportedAppeal {
        appeal: new_appeal("water", "停水二", None, None),
        submitted_by: "x".into(),
        history: vec![],
    };
    let err = store
        .import_appeals(
            &Actor::user("admin"),
            vec![good.clone(), bad.clone()],
            AppealPolicy::default(),
        )
        .await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })), "{err:?}");
    assert_eq!(
        store.search_appeals(&q(None)).await.unwrap().total,
        300,
        "nothing of the failed import stays"
    );
    assert_eq!(store.audit_head().await.unwrap(), head);
    bad.history.clear();
    assert_eq!(
        store
            .import_appeals(
                &Actor::user("admin"),
                vec![good, bad],
                AppealPolicy::default()
            )
            .await
            .unwrap(),
        2
    );
}

fn photo(token: &str, fill: u8) -> yongxin_store::NewPhoto {
    yongxin_store::NewPhoto {
        token: token.into(),
        content_type: "image/jpeg".into(),
        original: vec![fill; 1200],
    }
}

/// Photos are stored once, in the transaction of their appeal or event, found by token, and a
/// refused action stores none.
pub async fn photos_are_kept_with_their_appeal_and_events(store: Arc<dyn Store>) {
    with_catalogue(&*store).await;
    let a = store
        .create_appeal_with_photos(
            &Actor::user("anonymous"),
            new_appeal("water", "水管爆裂", None, None),
            vec![photo("t1", 1), photo("t2", 2)],
        )
        .await
        .unwrap();
    let refused = store
        .act_on_appeal_with_photos(
            &Actor::user("grid"),
            a.id,
            AppealAction::Note {
                text: "现场照片".into(),
                visible: true,
            },
            AppealPolicy::default(),
            vec![photo("t-refused", 3)],
        )
        .await
        .unwrap();
    assert!(refused.is_err(), "a note on a submitted case is refused");
    assert!(store.photo("t-refused").await.unwrap().is_none());
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: Some("水务".into()),
            cadre: None,
        },
    ] {
        store
            .act_on_appeal(&Actor::user("staff"), a.id, action, AppealPolicy::default())
            .await
            .unwrap()
            .unwrap();
    }
    store
        .act_on_appeal_with_photos(
            &Actor::user("staff"),
            a.id,
            AppealAction::Note {
                text: "现场照片".into(),
                visible: true,
            },
            AppealPolicy::default(),
            vec![photo("t3", 3)],
        )
        .await
        .unwrap()
        .unwrap();
    let (_, events) = store.appeal(a.id).await.unwrap();
    let photos = store.appeal_photos(a.id).await.unwrap();
    assert_eq!(
        photos.iter().map(|p| p.token.as_str()).collect::<Vec<_>>(),
        vec!["t1", "t2", "t3"]
    );
    assert_eq!(photos[0].event_id, None);
    assert_eq!(photos[2].event_id, events.last().map(|e| e.id));
    assert_eq!(photos[0].size, 1200);
    let (p, original) = store.photo("t2").await.unwrap().unwrap();
    assert_eq!((p.appeal_id, original), (a.id, vec![2; 1200]));
    assert!(store.photo("nope").await.unwrap().is_none());
    let plain = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "无照片", None, None))
        .await
        .unwrap();
    let both = store.photos_of_appeals(&[plain.id, a.id]).await.unwrap();
    assert_eq!(
        both.iter()
            .map(|p| (p.appeal_id, p.token.as_str()))
            .collect::<Vec<_>>(),
        vec![(a.id, "t1"), (a.id, "t2"), (a.id, "t3")],
        "one query for a page of appeals"
    );
    assert!(store.photos_of_appeals(&[]).await.unwrap().is_empty());
    assert!(store.verify_audit().await.unwrap().is_ok());
}
