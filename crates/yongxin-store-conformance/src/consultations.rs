//! Consultations: results counted by the village of each answer.

use super::*;

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
