//! The conformance suite: behaviour every backend must show, run against SQLite in every
//! `cargo test` and against PostgreSQL when `YONGXIN_TEST_POSTGRES_URL` is set.
//!
//! A backend's test file calls [`conformance_tests!`] with an async expression that yields a
//! fresh, migrated, empty store or a [`Fresh`] (or `None`), and any attributes every test gets.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::sync::Arc;
use yongxin_domain::Actor;

use chrono::{Duration, Utc};
use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::registry::{Relation, VillageKind};
use yongxin_domain::roster::HouseholdRecord;
use yongxin_domain::{NewAuditEntry, Role, Scope};

use yongxin_domain::appeal::{
    AppealAction, AppealError, AppealPolicy, AppealStatus, Channel, Rating, Urgency,
};
use yongxin_domain::calendar::WorkingCalendar;
use yongxin_domain::catalogue::default_catalogue;
use yongxin_domain::resettlement::entitlement::MeasuredStructure;
use yongxin_domain::resettlement::policy::{Policy, StructureKind, EXAMPLE_TOML};
use yongxin_domain::resettlement::{Phase, PhaseError, ResettlementError};

use yongxin_store::{AppealId, HouseholdId, ProjectId};
use yongxin_store::{
    AppealQuery, AppealScope, Conflict, HouseholdQuery, NewAppeal, NewUser, NewVillage, StatsGroup,
    Store, StoreError,
};

/// Generates one `#[tokio::test]` per conformance check.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr $(, #[$attr:meta])*) => {
        $crate::conformance_tests!(@each $make; [$(#[$attr])*];
            empty_store_has_no_registry_and_a_valid_record,
            registry_round_trips_and_searches,
            scopes_limit_what_a_search_returns,
            reimport_replaces_members,
            conflicts_and_missing_rows_are_typed,
            users_sessions_and_tokens,
            sign_in_failures_are_counted_per_account_and_address,
            every_change_is_recorded_in_a_valid_chain,
            concurrent_writers_keep_one_chain,
            a_failed_write_leaves_concurrent_writes_intact,
            failed_intakes_leave_the_intakes_beside_them_intact,
            consultation_results_keep_the_village_of_the_answer,
            catalogue_and_calendars_round_trip,
            an_appeal_follows_its_lifecycle_to_the_end,
            a_refused_action_changes_nothing,
            appeal_searches_respect_scope_and_filters,
            concurrent_actions_on_one_case_apply_once,
            imported_histories_are_replayed_through_the_lifecycle,
            the_three_rates_count_what_was_on_time,
            the_kept_rates_agree_with_the_cases_themselves,
            the_outbox_hands_each_message_to_one_sender_until_delivered,
            supervision_notices_are_tracked_to_their_answer,
            photos_are_kept_with_their_appeal_and_events,
            a_resettlement_project_moves_through_its_phases,
            concurrent_claims_never_sell_a_unit_twice,
            the_selection_day_queue_and_turns_are_enforced
        );
    };
    (@each $make:expr; $attrs:tt; $($name:ident),+) => {
        $(
            $crate::conformance_tests!(@one $make; $attrs; $name);
        )+
    };
    (@one $make:expr; [$(#[$attr:meta])*]; $name:ident) => {
        #[tokio::test]
        $(#[$attr])*
        async fn $name() {
            let Some(fresh) = $make.await else { return };
            let $crate::Fresh { store, keep: _keep } = fresh.into();
            $crate::$name(store).await;
        }
    };
}

/// A store for one check, with what must live as long as it (the temporary directory of a file).
pub struct Fresh {
    /// The store, migrated and empty.
    pub store: Arc<dyn Store>,
    /// Dropped when the check ends.
    pub keep: Option<Box<dyn std::any::Any + Send>>,
}

impl From<Arc<dyn Store>> for Fresh {
    fn from(store: Arc<dyn Store>) -> Self {
        Fresh { store, keep: None }
    }
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

async fn seeded(store: &dyn Store) -> yongxin_domain::demo::DemoSubdistrict {
    let demo = generate(42, DemoSize::SMALL);
    yongxin_demo::load(store, &demo, HASH).await.unwrap();
    demo
}

fn query(scope: Scope) -> HouseholdQuery {
    HouseholdQuery {
        scope,
        village_id: None,
        grid_id: None,
        text: None,
        page: 1,
        per_page: 20,
    }
}

/// A new store is empty and its record verifies.
pub async fn empty_store_has_no_registry_and_a_valid_record(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert_eq!(store.subdistrict().await.unwrap(), None);
    assert!(store.villages().await.unwrap().is_empty());
    assert_eq!(store.audit_head().await.unwrap(), None);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 0);
}

/// What goes in comes out, and every kind of search finds it.
pub async fn registry_round_trips_and_searches(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    assert_eq!(
        store.subdistrict().await.unwrap().as_deref(),
        Some("示范街道")
    );
    let villages = store.villages().await.unwrap();
    assert_eq!(villages.len(), demo.villages.len());
    assert_eq!(villages[0].code, "V01");
    assert_eq!(villages[0].kind, VillageKind::Village);
    let per_village = demo.households.iter().filter(|h| h.village == 0).count() as i64;
    assert_eq!(villages[0].household_count, per_village);
    assert_eq!(
        villages.iter().map(|v| v.resident_count).sum::<i64>(),
        demo.resident_count() as i64
    );
    let grids = store.grids(Some(villages[0].id)).await.unwrap();
    assert_eq!(grids.len(), demo.villages[0].grids.len());
    assert_eq!(grids[0].cadre_name, demo.villages[0].grids[0].cadre_name);
    assert!(grids[0].cadre_user_id.is_some());

    let all = store
        .search_households(&query(Scope::Subdistrict))
        .await
        .unwrap();
    assert_eq!(all.total, demo.households.len() as i64);
    assert_eq!(all.households.len(), 20.min(demo.households.len()));

    let target = &demo.households[3];
    let member = target.members.last().unwrap();
    let find = |text: String| {
        let store = store.clone();
        async move {
            let mut q = query(Scope::Subdistrict);
            q.text = Some(text);
            store.search_households(&q).await.unwrap()
        }
    };
    for text in [
        member.name.clone(),
        target.address.clone(),
        member.id_number.last4().to_owned(),
        target.key.clone(),
    ] {
        let page = find(text.clone()).await;
        assert!(
            page.households.iter().any(|h| h.key == target.key),
            "search {text} misses {}",
            target.key
        );
    }
    if let Some(phone) = target.members.iter().find_map(|m| m.phone.clone()) {
        let page = find(phone.last4().to_owned()).await;
        assert!(page.households.iter().any(|h| h.key == target.key));
    }
    assert_eq!(find("不存在的名字".into()).await.total, 0);

    let mut paged = query(Scope::Subdistrict);
    paged.per_page = 2;
    paged.page = 2;
    let page2 = store.search_households(&paged).await.unwrap();
    assert_eq!(page2.households.len(), 2);
    assert_eq!(page2.households[0].id, all.households[2].id);

    let id = all
        .households
        .iter()
        .find(|h| h.key == target.key)
        .map(|h| h.id);
    let id = match id {
        Some(id) => id,
        None => find(target.key.clone()).await.households[0].id,
    };
    let detail = store.household(id).await.unwrap();
    assert_eq!(detail.members.len(), target.members.len());
    assert_eq!(detail.members[0].relation, Relation::Head);
    assert_eq!(detail.summary.head_name, target.members[0].name);
    assert_eq!(detail.members[0].id_number, target.members[0].id_number);
    // Records keep the numbers as checked values whose printed form is masked, so a record
    // written to a log does not carry them.
    let printed = format!("{detail:?}");
    assert!(!printed.contains(target.members[0].id_number.as_str()));
    assert!(printed.contains(&target.members[0].id_number.masked()));
    assert_eq!(detail.members[0].flags, target.members[0].flags);
    assert_eq!(
        detail.grid.cadre_name,
        demo.villages[target.village].grids[target.grid].cadre_name
    );

    let roster = store.roster().await.unwrap();
    assert_eq!(roster.len(), demo.resident_count());
    assert_eq!(roster[0].household_key, demo.households[0].key);
}

/// Village, grid and household scopes see only their part.
pub async fn scopes_limit_what_a_search_returns(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let villages = store.villages().await.unwrap();
    let v2 = &villages[1];
    let page = store
        .search_households(&query(Scope::Village(v2.id)))
        .await
        .unwrap();
    assert_eq!(
        page.total,
        demo.households.iter().filter(|h| h.village == 1).count() as i64
    );
    assert!(page.households.iter().all(|h| h.village_id == v2.id));

    let grid = &store.grids(Some(v2.id)).await.unwrap()[0];
    let page = store
        .search_households(&query(Scope::Grids(vec![grid.id])))
        .await
        .unwrap();
    assert!(page.total > 0);
    assert!(page.households.iter().all(|h| h.grid_id == grid.id));

    let one = page.households[0].id;
    let page = store
        .search_households(&query(Scope::Household(one.get())))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(
        store
            .search_households(&query(Scope::Nothing))
            .await
            .unwrap()
            .total,
        0
    );

    // A filter outside the scope finds nothing rather than widening it.
    let mut q = query(Scope::Village(v2.id));
    q.village_id = Some(villages[0].id);
    assert_eq!(store.search_households(&q).await.unwrap().total, 0);
}

/// Importing a known household key replaces its members.
pub async fn reimport_replaces_members(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let lookup = store.registry_lookup().await.unwrap();
    let h = &demo.households[0];
    let village_id = lookup.villages[&demo.villages[0].code];
    let grid_id = lookup.grids[&(village_id, demo.villages[0].grids[0].code.clone())];
    let head_only = HouseholdRecord {
        key: h.key.clone(),
        village_id,
        grid_id,
        address: "新地址8号".into(),
        members: vec![h.members[0].clone()],
    };
    let before = store.audit_head().await.unwrap().unwrap().0;
    let summary = store
        .import_households(&Actor::user("admin"), &[head_only])
        .await
        .unwrap();
    assert_eq!(
        (
            summary.households_created,
            summary.households_updated,
            summary.residents
        ),
        (0, 1, 1)
    );
    let mut q = query(Scope::Subdistrict);
    q.text = Some(h.key.clone());
    let found = store.search_households(&q).await.unwrap();
    let detail = store.household(found.households[0].id).await.unwrap();
    assert_eq!(detail.members.len(), 1);
    assert_eq!(detail.summary.address, "新地址8号");
    assert!(store.audit_head().await.unwrap().unwrap().0 > before);
    assert_eq!(
        store.registry_lookup().await.unwrap().registered_ids.len(),
        demo.resident_count() - h.members.len() + 1
    );
}

/// Unique rules and missing rows surface as typed errors.
pub async fn conflicts_and_missing_rows_are_typed(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let dup = store
        .create_village(
            &Actor::user("admin"),
            NewVillage {
                code: "V01".into(),
                name: "另一个村".into(),
                kind: VillageKind::Village,
            },
        )
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict { conflict: Conflict::Duplicate { table }, source: Some(_) }) if table == "villages"),
        "the same conflict on every backend, with the driver's error kept: {dup:?}"
    );
    let dup = store
        .create_user(
            &Actor::user("admin"),
            NewUser {
                username: "admin".into(),
                display_name: "x".into(),
                role: Role::Admin,
                password_hash: HASH.into(),
                village_id: None,
                household_id: None,
            },
        )
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict { conflict: Conflict::Duplicate { table }, .. }) if table == "users"),
        "{dup:?}"
    );
    assert!(matches!(
        store.household(HouseholdId(987_654)).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Users, sessions and API tokens.
pub async fn users_sessions_and_tokens(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let (grid_user, hash) = store.user_credentials("grid").await.unwrap().unwrap();
    assert_eq!(hash, HASH);
    assert_eq!(grid_user.role, Role::GridWorker);
    assert_eq!(grid_user.grid_ids.len(), 1);
    assert!(matches!(grid_user.scope(), Scope::Grids(_)));
    let (resident, _) = store.user_credentials("resident").await.unwrap().unwrap();
    assert!(matches!(resident.scope(), Scope::Household(_)));
    let (village, _) = store.user_credentials("village").await.unwrap().unwrap();
    assert!(matches!(village.scope(), Scope::Village(_)));
    assert!(store.user_credentials("nobody").await.unwrap().is_none());

    store
        .set_password(&Actor::user("admin"), grid_user.id, "new-hash")
        .await
        .unwrap();
    assert_eq!(
        store.user_credentials("grid").await.unwrap().unwrap().1,
        "new-hash"
    );

    let now = Utc::now();
    store
        .create_session("tok-live", grid_user.id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session("tok-old", grid_user.id, now - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .session_user("tok-live", now)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(grid_user.id)
    );
    assert_eq!(store.session_user("tok-old", now).await.unwrap(), None);
    store.delete_session("tok-live").await.unwrap();
    assert_eq!(store.session_user("tok-live", now).await.unwrap(), None);

    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-hash",
            now + Duration::days(90),
        )
        .await
        .unwrap();
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-old",
            now - Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .api_token_user("api-hash", now)
            .await
            .unwrap()
            .map(|u| u.username),
        Some("resident".into())
    );
    assert_eq!(store.api_token_user("other", now).await.unwrap(), None);
    assert_eq!(
        store.api_token_user("api-old", now).await.unwrap(),
        None,
        "an expired token opens nothing"
    );
    assert_eq!(store.api_tokens(resident.id).await.unwrap().len(), 2);
    let live = store.live_api_token_counts(now).await.unwrap();
    assert_eq!(
        live.get(&resident.id),
        Some(&1),
        "the expired one is not counted"
    );

    // Revoking ends every live token; a password change and disabling do too.
    assert_eq!(
        store
            .revoke_api_tokens(&Actor::user("admin"), resident.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.api_token_user("api-hash", now).await.unwrap(), None);
    assert!(store
        .api_tokens(resident.id)
        .await
        .unwrap()
        .iter()
        .all(|t| t.revoked_at.is_some()));
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-2",
            now + Duration::days(1),
        )
        .await
        .unwrap();
    store
        .set_password(&Actor::user("admin"), resident.id, "another-hash")
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-2", now).await.unwrap(), None);
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-3",
            now + Duration::days(1),
        )
        .await
        .unwrap();
    store
        .create_session("tok-res", resident.id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .set_user_disabled(&Actor::user("admin"), resident.id, true)
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-3", now).await.unwrap(), None);
    assert_eq!(store.session_user("tok-res", now).await.unwrap(), None);
    assert!(store.user_credentials("resident").await.unwrap().is_none());
    assert!(store.user(resident.id).await.unwrap().unwrap().disabled);
    // A token given while disabled would come to life when the account is enabled again.
    assert!(store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-4",
            now + Duration::days(1)
        )
        .await
        .is_err());
    store
        .set_user_disabled(&Actor::user("admin"), resident.id, false)
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-4", now).await.unwrap(), None);
    assert!(store.user_credentials("resident").await.unwrap().is_some());
    assert_eq!(store.server_secret("tracking").await.unwrap().len(), 64);
    assert!(store.server_secret("nothing").await.is_err());

    assert!(store.users().await.unwrap().len() >= 6);
}

/// Failed sign-ins count per account and address, and clear.
pub async fn sign_in_failures_are_counted_per_account_and_address(store: Arc<dyn Store>) {
    let now = Utc::now();
    for i in 0..3 {
        store
            .record_sign_in_failure("admin", "10.0.0.1", now - Duration::minutes(i))
            .await
            .unwrap();
    }
    store
        .record_sign_in_failure("admin", "10.0.0.2", now)
        .await
        .unwrap();
    store
        .record_sign_in_failure("admin", "10.0.0.1", now - Duration::hours(2))
        .await
        .unwrap();
    let f = store
        .sign_in_failures("admin", "10.0.0.1", now - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(f.count, 3);
    assert!(f.last_at.is_some());
    store
        .clear_sign_in_failures("admin", "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(
        store
            .sign_in_failures("admin", "10.0.0.1", now - Duration::days(1))
            .await
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        store
            .sign_in_failures("admin", "10.0.0.2", now - Duration::days(1))
            .await
            .unwrap()
            .count,
        1
    );
}

/// Every change leaves an entry; the chain verifies and the head matches.
pub async fn every_change_is_recorded_in_a_valid_chain(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let (head_seq, head_hash) = store.audit_head().await.unwrap().unwrap();
    // subdistrict + villages + grids (grid, cadre user, assignment) + households + 5 users
    let grids: usize = demo.villages.iter().map(|v| v.grids.len()).sum();
    let expected = 1 + demo.villages.len() + 3 * grids + demo.households.len() + 5;
    assert_eq!(head_seq, expected as i64);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, expected as u64);
    assert_eq!(verified.head_hash, head_hash);

    let recorded = store
        .record(vec![
            NewAuditEntry::new(
                "admin",
                "resident.view_full",
                "household:1",
                "viewed",
                &serde_json::json!({}),
            ),
            NewAuditEntry::new(
                "admin",
                "resident.view_full",
                "household:2",
                "viewed",
                &serde_json::json!({}),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(recorded[0].seq, head_seq + 1);
    assert_eq!(recorded[0].prev_hash, head_hash);
    assert_eq!(recorded[1].prev_hash, recorded[0].hash);
    let recent = store.recent_audit_entries(2).await.unwrap();
    assert_eq!(recent[0].seq, head_seq + 2);
    assert_eq!(recent[0], recorded[1]);
    let imports = store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(
        imports
            .iter()
            .filter(|e| e.action == "household.import")
            .count(),
        demo.households.len()
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// Many writers at once still make one unbroken chain.
pub async fn concurrent_writers_keep_one_chain(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record(vec![NewAuditEntry::new(
                        "t",
                        "test.write",
                        format!("n:{i}"),
                        "",
                        &serde_json::json!(i),
                    )])
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 40);
}

/// Writes that fail (here: duplicate codes) change nothing and leave the writes committed beside
/// them, and the record, intact.
pub async fn a_failed_write_leaves_concurrent_writes_intact(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                // Every third village reuses the code of the one before it.
                let code = if i % 3 == 2 {
                    format!("C{:02}", i - 1)
                } else {
                    format!("C{i:02}")
                };
                store
                    .create_village(
                        &Actor::user("t"),
                        NewVillage {
                            code,
                            name: format!("村{i:02}"),
                            kind: VillageKind::Village,
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    // Which of a pair wins depends on arrival order; exactly one of each pair does.
    assert_eq!((ok, conflicts), (20, 10));
    let villages = store.villages().await.unwrap();
    assert_eq!(villages.len(), 20);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 20, "only committed writes are recorded");
}

/// A household that moves to another village after answering is still counted where it answered,
/// and its members' replacement by a roster import leaves its answer standing.
pub async fn consultation_results_keep_the_village_of_the_answer(store: Arc<dyn Store>) {
    use yongxin_domain::consultation::{parse_questions, AnswerChannel, GivenAnswer};
    let demo = seeded(&*store).await;
    let now = Utc::now();
    let k = store
        .create_consultation(
            &Actor::user("t"),
            yongxin_store::NewConsultation {
                title: "选址".into(),
                background: "背景".into(),
                notice_id: None,
                scope: yongxin_domain::notice::ScopeKind::Subdistrict,
                village_ids: vec![],
                project_id: None,
                opens_at: now - chrono::Duration::hours(1),
                closes_at: now + chrono::Duration::days(1),
                questions: parse_questions("单选：选址\n- 甲\n- 乙").unwrap(),
            },
        )
        .await
        .unwrap();
    let lookup = store.registry_lookup().await.unwrap();
    let h = &demo.households[0];
    let first = lookup.villages[&demo.villages[0].code];
    let second = lookup.villages[&demo.villages[1].code];
    let mut q = query(Scope::Subdistrict);
    q.text = Some(h.key.clone());
    let household = store.search_households(&q).await.unwrap().households[0].clone();
    assert_eq!(household.village_id, first);
    let user = store.users().await.unwrap()[0].id;
    let mut given = std::collections::BTreeMap::new();
    given.insert(
        k.questions[0].id,
        GivenAnswer::Option(k.questions[0].options[1].0),
    );
    store
        .submit_answer(
            &Actor::user("t"),
            k.id,
            yongxin_store::NewAnswer {
                household_id: household.id,
                resident_id: None,
                channel: AnswerChannel::InPerson,
                recorded_by: user,
                answered_at: now,
                given,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let before = store.consultation_results(k.id).await.unwrap();
    // The household moves to the second village, and its members are replaced.
    let moved = HouseholdRecord {
        key: h.key.clone(),
        village_id: second,
        grid_id: lookup.grids[&(second, demo.villages[1].grids[0].code.clone())],
        address: "新村1号".into(),
        members: vec![h.members[0].clone()],
    };
    store
        .import_households(&Actor::user("admin"), &[moved])
        .await
        .unwrap();
    assert_eq!(
        store
            .household(household.id)
            .await
            .unwrap()
            .summary
            .village_id,
        second
    );
    let after = store.consultation_results(k.id).await.unwrap();
    let answered_in = |r: &yongxin_store::ConsultationResults, v: i64| {
        r.villages.iter().find(|x| x.0 == v).map_or(0, |x| x.3)
    };
    assert_eq!(
        (answered_in(&after, first), answered_in(&after, second)),
        (1, 0),
        "counted where it answered"
    );
    assert_eq!(after.counts, before.counts);
    assert_eq!(after.answered, 1);
    assert!(store
        .current_answer(k.id, household.id)
        .await
        .unwrap()
        .is_some());
}

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

async fn with_catalogue(store: &dyn Store) {
    for (i, c) in default_catalogue().iter().enumerate() {
        store
            .save_category(&Actor::user("admin"), c, i as i64, true)
            .await
            .unwrap();
    }
}

fn new_appeal(
    category: &str,
    description: &str,
    village_id: Option<i64>,
    resident: Option<(i64, HouseholdId)>,
) -> NewAppeal {
    let cat = default_catalogue()
        .into_iter()
        .find(|c| c.code == category)
        .unwrap();
    let now = Utc::now();
    let due = cat.deadlines(Urgency::Normal, now, &WorkingCalendar::official());
    let mut answers = std::collections::BTreeMap::new();
    for q in cat.questions.iter().filter(|q| q.required) {
        let value = q
            .choices
            .first()
            .map(|c| c.key.clone())
            .unwrap_or_else(|| "和园小区".into());
        answers.insert(q.code.clone(), vec![value]);
    }
    NewAppeal {
        category: category.into(),
        urgency: Urgency::Normal,
        channel: Channel::Web,
        title: description.chars().take(12).collect(),
        description: description.into(),
        answers,
        address: "前街1号".into(),
        latitude: None,
        longitude: None,
        village_id,
        grid_id: None,
        household_id: resident.map(|r| r.1),
        resident_user_id: resident.map(|r| r.0),
        contact_name: "张三".into(),
        contact_phone: "13912345678".into(),
        contact_email: None,
        department: cat.department,
        created_at: now,
        contact_due: due.contact_due,
        resolution_due: due.resolution_due,
    }
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
    let act = |id: AppealId, action: AppealAction| {
        let store = store.clone();
        async move {
            store
                .act_on_appeal(&Actor::user("c"), id, action, p)
                .await
                .unwrap()
                .unwrap()
        }
    };
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

/// Notices of a case wait in the outbox; claims lease them, failures come back later, delivered
/// ones are gone, and concurrent senders never get the same message.
pub async fn the_outbox_hands_each_message_to_one_sender_until_delivered(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let a = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "路灯", None, None))
        .await
        .unwrap();
    let p = AppealPolicy::default();
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: None,
            cadre: Some(grid.id),
        },
        AppealAction::Answer {
            reply: "修好了".into(),
        },
    ] {
        store
            .act_on_appeal(&Actor::user("staff"), a.id, action, p)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(store.pending_messages().await.unwrap(), 3);
    let now = Utc::now();
    let claimed = store
        .claim_messages(now, now + Duration::minutes(5), 10)
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = claimed
        .iter()
        .map(|m| (m.kind.as_str(), m.recipient.as_str()))
        .collect();
    let cadre = format!("user:{}", grid.id);
    assert_eq!(
        kinds,
        vec![
            ("resident_accepted", "sms:13912345678"),
            ("cadre_assigned", cadre.as_str()),
            ("resident_answered", "sms:13912345678")
        ]
    );
    assert!(
        store
            .claim_messages(now, now + Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store.message_sent(claimed[0].id, now).await.unwrap();
    store
        .message_failed(claimed[1].id, "gateway down", now + Duration::seconds(30))
        .await
        .unwrap();
    let later = now + Duration::minutes(1);
    let again = store
        .claim_messages(later, later + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
        vec![(claimed[1].id, 1)],
        "the failed one is retried; the third is still leased"
    );
    assert_eq!(store.pending_messages().await.unwrap(), 2);

    // Two senders at once split the due messages between them.
    let far = now + Duration::hours(1);
    let (x, y) = tokio::join!(
        store.claim_messages(far, far + Duration::minutes(5), 1),
        store.claim_messages(far, far + Duration::minutes(5), 1)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.len() + y.len(), 2);
    assert_ne!(x[0].id, y[0].id);

    assert!(store
        .unrated_answered_before(now + Duration::days(1), 10)
        .await
        .unwrap()
        .contains(&a.id));
    assert!(store
        .unrated_answered_before(now - Duration::days(1), 10)
        .await
        .unwrap()
        .is_empty());

    // A resident who gave an e-mail address is told by e-mail; a cadre's address is kept on
    // their account, read back with it, and can be cleared.
    let mut by_mail = new_appeal("roads", "井盖缺失", None, None);
    by_mail.contact_email = Some("zhang.san@example.cn".into());
    let b = store
        .create_appeal(&Actor::user("x"), by_mail)
        .await
        .unwrap();
    assert_eq!(b.contact_email.as_deref(), Some("zhang.san@example.cn"));
    store
        .act_on_appeal(&Actor::user("staff"), b.id, AppealAction::Accept, p)
        .await
        .unwrap()
        .unwrap();
    let mailed = store
        .claim_messages(far, far + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        mailed
            .iter()
            .map(|m| (m.kind.as_str(), m.recipient.as_str()))
            .collect::<Vec<_>>(),
        vec![("resident_accepted", "email:zhang.san@example.cn")]
    );
    store
        .set_user_email(&Actor::user("admin"), grid.id, Some("wangge@example.cn"))
        .await
        .unwrap();
    let read = store.user(grid.id).await.unwrap().unwrap();
    assert_eq!(read.email.as_deref(), Some("wangge@example.cn"));
    assert!(!read.grid_ids.is_empty(), "read with its grids");
    store
        .set_user_email(&Actor::user("admin"), grid.id, None)
        .await
        .unwrap();
    assert_eq!(store.user(grid.id).await.unwrap().unwrap().email, None);
    assert!(store.user(i64::MAX).await.unwrap().is_none());
    assert!(matches!(
        store
            .set_user_email(&Actor::user("admin"), i64::MAX, None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A 督办单 is issued, notifies the handler, appears as open, and is answered once.
pub async fn supervision_notices_are_tracked_to_their_answer(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let a = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "路灯", None, None))
        .await
        .unwrap();
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: None,
            cadre: Some(grid.id),
        },
    ] {
        store
            .act_on_appeal(&Actor::user("staff"), a.id, action, AppealPolicy::default())
            .await
            .unwrap()
            .unwrap();
    }
    let before = store.pending_messages().await.unwrap();
    let due = Utc::now() + Duration::days(2);
    let n = store
        .issue_supervision(&Actor::user("leader"), a.id, "请于两日内办结并报告", due)
        .await
        .unwrap();
    assert_eq!(
        (n.appeal_id, n.issued_by.as_str(), n.answered_at),
        (a.id, "leader", None)
    );
    assert_eq!(
        store.pending_messages().await.unwrap(),
        before + 1,
        "the handler hears of it"
    );
    assert_eq!(
        store.open_supervision_notices(10).await.unwrap(),
        vec![n.clone()]
    );
    let answered = store
        .answer_supervision(&Actor::user("grid"), n.id, "已办结")
        .await
        .unwrap();
    assert_eq!(
        (answered.answered_by.as_deref(), answered.answer.as_deref()),
        (Some("grid"), Some("已办结"))
    );
    assert!(store.open_supervision_notices(10).await.unwrap().is_empty());
    assert!(matches!(
        store
            .answer_supervision(&Actor::user("grid"), n.id, "再答")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.supervision_notices(a.id).await.unwrap(),
        vec![answered]
    );
    assert!(matches!(
        store
            .issue_supervision(&Actor::user("leader"), AppealId(987_654), "x", due)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.verify_audit().await.unwrap().is_ok());
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

/// A resettlement project from policy to draw: each phase allows what it should, every refusal
/// changes nothing, corrections keep the old result as history, and the draw's proof verifies.
pub async fn a_resettlement_project_moves_through_its_phases(store: Arc<dyn Store>) {
    let s = PhasesStory::start(store).await;
    nothing_is_allowed_before_a_policy(&s).await;
    a_policy_is_published_once_per_version(&s).await;
    phases_move_one_at_a_time(&s).await;
    registration_refuses_a_combination_over_the_limit(&s).await;
    assessments_after_the_results_are_corrections_with_a_reason(&s).await;
    let (commitment, reveals) = the_list_is_frozen_and_drawn_once(&s).await;
    a_redraw_needs_new_commitments(&s, &commitment, &reveals).await;
    s.store.verify_audit().await.unwrap().unwrap();
}

/// The project the phases story follows: two villages of the seeded subdistrict (twelve
/// households), the first household and an account that registers in person.
struct PhasesStory {
    store: Arc<dyn Store>,
    pid: ProjectId,
    hid: HouseholdId,
    households: Vec<HouseholdId>,
    user: yongxin_store::User,
}

impl PhasesStory {
    async fn start(store: Arc<dyn Store>) -> Self {
        seeded(&*store).await;
        let villages = store.villages().await.unwrap();
        let pid = store
            .create_project(
                &Actor::user("t"),
                yongxin_store::NewProject {
                    code: "P1".into(),
                    name: "两村整合".into(),
                    village_ids: vec![villages[0].id, villages[1].id],
                },
            )
            .await
            .unwrap()
            .id;
        let user = store.users().await.unwrap().into_iter().next().unwrap();
        let (households, total) = store.project_households(pid, 1, 100, false).await.unwrap();
        assert_eq!(total, 12);
        Self {
            pid,
            hid: households[0].household.id,
            households: households.iter().map(|h| h.household.id).collect(),
            user,
            store,
        }
    }

    /// A 公示 to the project published eight days ago, its objection window closed yesterday.
    fn draft(&self, title: &str) -> yongxin_domain::notice::NoticeDraft {
        use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
        NoticeDraft {
            kind: NoticeKind::Publication,
            scope: ScopeKind::Project,
            village_ids: vec![],
            project_id: Some(self.pid.get()),
            title: title.into(),
            body: "正文".into(),
            publish_at: Utc::now() - Duration::days(8),
            end_at: None,
            objections_until: Some(Utc::now() - Duration::days(1)),
        }
    }

    async fn head(&self) -> Option<(i64, String)> {
        self.store.audit_head().await.unwrap()
    }
}

/// Nothing before a policy.
async fn nothing_is_allowed_before_a_policy(s: &PhasesStory) {
    let (store, pid, hid, user) = (&s.store, s.pid, s.hid, &s.user);
    let before = s.head().await;
    let r = store
        .register(&Actor::user("t"), pid, hid, vec!["C".into()], user, true)
        .await
        .unwrap();
    assert!(
        matches!(
            r,
            Err(ResettlementError::Phase(PhaseError::NotAllowed { .. }))
        ),
        "{r:?}"
    );
    assert_eq!(s.head().await, before);
}

/// A policy is published once per version; a broken one is refused whole.
async fn a_policy_is_published_once_per_version(s: &PhasesStory) {
    let (store, pid) = (&s.store, s.pid);
    let v1 = store
        .publish_policy(
            &Actor::user("t"),
            pid,
            EXAMPLE_TOML,
            s.draft("政策").checked().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v1.version, 1);
    let policy = Policy::from_toml(EXAMPLE_TOML).unwrap();
    assert_eq!(
        store.project_units(pid).await.unwrap().len(),
        policy.units().len()
    );
    assert_eq!(
        store.project(pid).await.unwrap().unwrap().phase,
        Phase::PolicyPublished
    );
    let before = s.head().await;
    let again = store
        .publish_policy(
            &Actor::user("t"),
            pid,
            EXAMPLE_TOML,
            s.draft("政策").checked().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        again,
        Err(ResettlementError::PolicyVersion {
            expected: 2,
            given: 1
        })
    );
    let broken = EXAMPLE_TOML
        .replace("from = \"10\"", "from = \"5\"")
        .replace("version = 1", "version = 2");
    let refused = store
        .publish_policy(
            &Actor::user("t"),
            pid,
            &broken,
            s.draft("政策").checked().unwrap(),
        )
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        refused.to_string().contains("price.band[1].from"),
        "{refused}"
    );
    assert_eq!(s.head().await, before);
    assert_eq!(store.policy_versions(pid).await.unwrap().len(), 1);
}

/// Phases move one at a time; the lottery waits for the results.
async fn phases_move_one_at_a_time(s: &PhasesStory) {
    let (store, pid) = (&s.store, s.pid);
    assert!(store
        .move_phase(&Actor::user("t"), pid, Phase::Lottery, "")
        .await
        .unwrap()
        .is_err());
    store
        .move_phase(&Actor::user("t"), pid, Phase::Registration, "开始登记")
        .await
        .unwrap()
        .unwrap();
}

/// Registration: a combination over the limit is refused and leaves nothing behind.
async fn registration_refuses_a_combination_over_the_limit(s: &PhasesStory) {
    let (store, pid, hid, user) = (&s.store, s.pid, s.hid, &s.user);
    let before = s.head().await;
    let over = store
        .register(
            &Actor::user("t"),
            pid,
            hid,
            vec!["E".into(), "E".into(), "E".into()],
            user,
            true,
        )
        .await
        .unwrap();
    assert!(
        matches!(over, Err(ResettlementError::Entitlement(_))),
        "{over:?}"
    );
    assert_eq!(s.head().await, before);
    assert!(store.assessment(pid, hid).await.unwrap().is_none());
    for h in &s.households {
        let reg = store
            .register(
                &Actor::user("t"),
                pid,
                *h,
                vec!["C".into()],
                user,
                h.get() % 2 == 0,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reg.total_area.short(), "90");
    }
    let coverage = store.registration_coverage(pid).await.unwrap();
    assert_eq!(coverage.iter().map(|c| c.registered).sum::<i64>(), 12);
    assert_eq!(
        store
            .registration_days(pid)
            .await
            .unwrap()
            .iter()
            .map(|d| d.count)
            .sum::<i64>(),
        12
    );
    assert_eq!(
        store.project_households(pid, 1, 100, true).await.unwrap().1,
        0
    );
}

/// Assessment, then the results: after them only corrections with a reason.
async fn assessments_after_the_results_are_corrections_with_a_reason(s: &PhasesStory) {
    let (store, pid, hid) = (&s.store, s.pid, s.hid);
    store
        .move_phase(&Actor::user("t"), pid, Phase::Assessment, "")
        .await
        .unwrap()
        .unwrap();
    let mut inputs = store.assessment(pid, hid).await.unwrap().unwrap().inputs;
    inputs.structures.push(MeasuredStructure {
        kind: StructureKind::BrickConcrete,
        condition: "一等".into(),
        area: "100".parse().unwrap(),
    });
    let first = store
        .save_assessment(&Actor::user("t"), pid, hid, inputs.clone(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.chosen.len(), 1, "the registered layout is priced");
    assert!(first
        .result
        .lines
        .iter()
        .any(|l| l.code == "structure:brick_concrete" && l.amount.to_string() == "138000.00"));
    let before = s.head().await;
    let mut unknown = inputs.clone();
    unknown.structures[0].condition = "九等".into();
    assert!(store
        .save_assessment(&Actor::user("t"), pid, hid, unknown, None)
        .await
        .unwrap()
        .is_err());
    assert_eq!(s.head().await, before);
    store
        .publish_results(
            &Actor::user("t"),
            pid,
            s.draft("结果公示").checked().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let detail = store.project(pid).await.unwrap().unwrap();
    assert_eq!(detail.phase, Phase::ResultsPublication);
    assert!(detail.results_notice_id.is_some());
    inputs.structures[0].area = "101.5".parse().unwrap();
    let plain = store
        .save_assessment(&Actor::user("t"), pid, hid, inputs.clone(), None)
        .await
        .unwrap();
    assert!(
        matches!(plain, Err(ResettlementError::Phase(_))),
        "{plain:?}"
    );
    let corrected = store
        .save_assessment(
            &Actor::user("t"),
            pid,
            hid,
            inputs,
            Some("异议复核：重新丈量".into()),
        )
        .await
        .unwrap()
        .unwrap();
    let history = store.entitlement_history(pid, hid).await.unwrap();
    assert!(history.len() >= 3);
    assert_eq!(history.iter().filter(|r| r.current).count(), 1);
    assert!(history.iter().any(|r| r.id == first.id && !r.current));
    assert_eq!(
        store.entitlement(pid, hid).await.unwrap().unwrap(),
        corrected
    );
    assert!(corrected.reason.contains("重新丈量"));
}

/// The lottery: freeze, no registration after it, one draw unless a reason is given. Answers
/// the commitment and the values revealed.
async fn the_list_is_frozen_and_drawn_once(
    s: &PhasesStory,
) -> (
    yongxin_domain::lottery::SeedCommitment,
    Vec<yongxin_domain::lottery::Reveal>,
) {
    let (store, pid, hid, user) = (&s.store, s.pid, s.hid, &s.user);
    store
        .move_phase(&Actor::user("t"), pid, Phase::Lottery, "")
        .await
        .unwrap()
        .unwrap();
    let (commitment, reveals) = yongxin_demo::lottery_parties(1);
    let bad_seed = store
        .draw_lottery(&Actor::user("t"), pid, "123456", &reveals, None)
        .await
        .unwrap();
    assert_eq!(bad_seed, Err(ResettlementError::NotFrozen));
    let frozen = store
        .freeze_lottery(
            &Actor::user("t"),
            pid,
            "现场摇出六位数字",
            &commitment,
            s.draft("冻结"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frozen.list.len(), 12);
    assert_eq!(
        frozen.list_sha256,
        yongxin_domain::lottery::list_sha256(&frozen.list)
    );
    assert!(matches!(
        store
            .freeze_lottery(&Actor::user("t"), pid, "x", &commitment, s.draft("冻结"))
            .await
            .unwrap(),
        Err(ResettlementError::AlreadyFrozen(_))
    ));
    let late = store
        .register(&Actor::user("t"), pid, hid, vec!["D".into()], user, true)
        .await
        .unwrap();
    assert!(late.unwrap_err().to_string().contains("冻结"));
    assert_eq!(
        store.registration(pid, hid).await.unwrap().unwrap().layouts,
        vec!["C".to_owned()]
    );
    assert!(matches!(
        store
            .draw_lottery(&Actor::user("t"), pid, "12345", &reveals, None)
            .await
            .unwrap(),
        Err(ResettlementError::Lottery(_))
    ));
    let mut wrong = reveals.clone();
    wrong[1].secret.push('!');
    assert!(matches!(
        store
            .draw_lottery(&Actor::user("t"), pid, "123456", &wrong, None)
            .await
            .unwrap(),
        Err(ResettlementError::Lottery(_))
    ));
    assert!(store
        .move_phase(&Actor::user("t"), pid, Phase::Selection, "")
        .await
        .unwrap()
        .is_err());
    let drawn = store
        .draw_lottery(&Actor::user("t"), pid, "123456", &reveals, None)
        .await
        .unwrap()
        .unwrap();
    let proof: yongxin_domain::lottery::Proof =
        serde_json::from_str(&drawn.draws[0].proof).unwrap();
    proof.verify().unwrap();
    proof
        .verify_published(&frozen.list_sha256, &commitment)
        .unwrap();
    assert_eq!(proof.list_sha256, frozen.list_sha256);
    assert_eq!(
        store
            .draw_lottery(&Actor::user("t"), pid, "654321", &reveals, None)
            .await
            .unwrap(),
        Err(ResettlementError::AlreadyDrawn)
    );
    (commitment, reveals)
}

/// The values are out: a redraw needs new commitments, registered and published first; then
/// every household has its order and the project moves on to selection.
async fn a_redraw_needs_new_commitments(
    s: &PhasesStory,
    commitment: &yongxin_domain::lottery::SeedCommitment,
    reveals: &[yongxin_domain::lottery::Reveal],
) {
    let (store, pid) = (&s.store, s.pid);
    assert_eq!(
        store
            .draw_lottery(
                &Actor::user("t"),
                pid,
                "654321",
                reveals,
                Some("公证员未到场".into())
            )
            .await
            .unwrap(),
        Err(ResettlementError::CommitmentSpent)
    );
    // The revealed values again, in another order, are no new commitment.
    let mut reordered = commitment.parties().to_vec();
    reordered.reverse();
    let reordered = yongxin_domain::lottery::SeedCommitment::new(reordered).unwrap();
    assert_eq!(
        store
            .recommit_lottery(&Actor::user("t"), pid, &reordered, s.draft("重新登记承诺"))
            .await
            .unwrap()
            .map(|_| ()),
        Err(ResettlementError::CommitmentSpent)
    );
    let (second, second_reveals) = yongxin_demo::lottery_parties(2);
    let recommitted = store
        .recommit_lottery(&Actor::user("t"), pid, &second, s.draft("重新登记承诺"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        recommitted.seed_rule.starts_with("现场摇出六位数字\n"),
        "how the number is drawn stays: {}",
        recommitted.seed_rule
    );
    let redrawn = store
        .draw_lottery(
            &Actor::user("t"),
            pid,
            "654321",
            &second_reveals,
            Some("公证员未到场".into()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(redrawn.draws.len(), 2);
    assert_eq!(redrawn.draws[1].reason.as_deref(), Some("公证员未到场"));
    let (rows, _) = store.project_households(pid, 1, 100, false).await.unwrap();
    let mut orders: Vec<i64> = rows.iter().map(|r| r.lottery_order.unwrap()).collect();
    orders.sort_unstable();
    assert_eq!(orders, (1..=12).collect::<Vec<_>>());
    store
        .move_phase(&Actor::user("t"), pid, Phase::Selection, "开始选房")
        .await
        .unwrap()
        .unwrap();
    let changes = store.phase_changes(pid).await.unwrap();
    assert_eq!(changes.last().unwrap().to, Phase::Selection);
    assert_eq!(changes.len(), 6);
}

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
