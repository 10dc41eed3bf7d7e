//! Door-to-door campaigns: targets, assignment, visits once per client id, escalation,
//! corrections, concerns filed as cases in the visit's write, and coverage.

use super::*;
use std::collections::BTreeMap;
use yongxin_domain::campaign::{
    visit_fingerprint, AssignmentWay, CampaignKind, CorrectionRefusal, Corrector, Period, Rules,
    Target, VisitContent, VisitOutcome,
};
use yongxin_domain::consultation::{parse_questions, GivenAnswer};
use yongxin_store::{
    CampaignForm, CampaignHouseholdQuery, CoverageBy, NewCampaign, NewVisit, VisitCorrection,
    VisitRecorded, VisitRefusal,
};

/// A visit of `household` by `cadre` at `at`, its fingerprint computed as the web computes it.
fn visit(
    client_id: &str,
    household: HouseholdId,
    cadre: i64,
    at: chrono::DateTime<Utc>,
    outcome: VisitOutcome,
    answers: BTreeMap<i64, GivenAnswer>,
) -> NewVisit {
    let fingerprint = visit_fingerprint(&VisitContent {
        household_id: household.get(),
        visited_at: at,
        outcome,
        members: &[],
        answers: &answers,
        note: "",
        concerns: &[],
        photos: &[],
    });
    NewVisit {
        client_id: client_id.into(),
        fingerprint,
        household_id: household,
        cadre_user_id: cadre,
        scope_covers: false,
        visited_at: at,
        outcome,
        members: vec![],
        answers,
        note: String::new(),
        concerns: vec![],
        photos: vec![],
    }
}

/// A campaign over the first village, by grid, with a one-question form, walked from the cadres'
/// first visit to the escalation of a household never at home and a correction.
pub async fn a_campaign_is_walked_to_every_household(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let actor = Actor::user("staff");
    let villages = store.villages().await.unwrap();
    let village = &villages[0];
    let today = yongxin_domain::campaign::local_day(Utc::now());
    let now = Utc::now();
    let period = Period::new(today - Duration::days(5), today + Duration::days(5)).unwrap();
    let campaign = store
        .create_campaign(
            &actor,
            NewCampaign {
                title: "政策宣讲".into(),
                kind: CampaignKind::Policy,
                description: "讲解安置政策".into(),
                period,
                notice_id: None,
                project_id: None,
                form: CampaignForm::New(Box::new(yongxin_store::NewConsultation {
                    title: "政策宣讲（走访表）".into(),
                    background: "讲解安置政策".into(),
                    notice_id: None,
                    scope: yongxin_domain::notice::ScopeKind::Subdistrict,
                    village_ids: vec![],
                    project_id: None,
                    opens_at: period.start(),
                    closes_at: period.end(),
                    questions: parse_questions("单选：是否了解政策\n- 了解\n- 不了解").unwrap(),
                })),
                assignment: AssignmentWay::Grid,
                target: Target::Villages(villages.iter().map(|v| v.id).collect()),
                rules: Rules::default(),
            },
        )
        .await
        .unwrap();
    let totals = store.campaign_totals(campaign.id, None).await.unwrap();
    assert_eq!(
        totals.target,
        villages.iter().map(|v| v.household_count).sum::<i64>()
    );
    assert_eq!(
        (totals.reached, totals.settled, totals.unassigned),
        (0, 0, 0)
    );
    let form = store
        .consultation(campaign.consultation_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    let q = &form.questions[0];

    // Each household went to its grid's cadre.
    let grids = store.grids(Some(village.id)).await.unwrap();
    let grid = &grids[0];
    let cadre = grid.cadre_user_id.unwrap();
    let mine = store
        .campaign_households(
            campaign.id,
            &CampaignHouseholdQuery {
                cadre_user_id: Some(cadre),
                page: 1,
                per_page: 500,
                ..CampaignHouseholdQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(mine.total >= 3, "the first grid has households");
    assert!(mine.rows.iter().all(|h| h.grid_id == grid.id));
    let (first, second, third) = (
        mine.rows[0].household_id,
        mine.rows[1].household_id,
        mine.rows[2].household_id,
    );

    // A visit is stored once; its replay answers the same visit; other content under its id is
    // refused.
    let answers = BTreeMap::from([(q.id, GivenAnswer::Option(q.options[0].0))]);
    let met = visit(
        "client-0001",
        first,
        cadre,
        now - Duration::hours(1),
        VisitOutcome::Met,
        answers.clone(),
    );
    let Ok(VisitRecorded::Stored(stored)) = store
        .record_visit(&actor, campaign.id, met.clone())
        .await
        .unwrap()
    else {
        panic!("stored")
    };
    assert_eq!(stored.outcome, VisitOutcome::Met);
    assert_eq!(stored.answers, answers);
    let Ok(VisitRecorded::Replayed(again)) = store
        .record_visit(&actor, campaign.id, met.clone())
        .await
        .unwrap()
    else {
        panic!("replayed")
    };
    assert_eq!(again.id, stored.id);
    let mut changed = met.clone();
    changed.outcome = VisitOutcome::Refused;
    changed.answers = BTreeMap::new();
    changed.fingerprint = "different".into();
    assert_eq!(
        store
            .record_visit(&actor, campaign.id, changed)
            .await
            .unwrap(),
        Err(VisitRefusal::ClientIdReused)
    );
    assert_eq!(
        store
            .household_visits(campaign.id, first)
            .await
            .unwrap()
            .len(),
        1
    );
    // The answer is the household's answer to the form.
    let results = store.consultation_results(form.id).await.unwrap();
    assert_eq!(results.answered, 1);

    // A household of another grid is not this cadre's; answers the form does not have are
    // refused; neither writes anything.
    let other_grid = store
        .campaign_households(
            campaign.id,
            &CampaignHouseholdQuery {
                grid_id: Some(store.grids(Some(villages[1].id)).await.unwrap()[0].id),
                page: 1,
                per_page: 1,
                ..CampaignHouseholdQuery::default()
            },
        )
        .await
        .unwrap()
        .rows[0]
        .household_id;
    let elsewhere = visit(
        "client-0002",
        other_grid,
        cadre,
        now,
        VisitOutcome::Met,
        BTreeMap::new(),
    );
    assert_eq!(
        store
            .record_visit(&actor, campaign.id, elsewhere)
            .await
            .unwrap(),
        Err(VisitRefusal::NotAssigned)
    );
    let wrong = visit(
        "client-0003",
        second,
        cadre,
        now,
        VisitOutcome::Met,
        BTreeMap::from([(q.id, GivenAnswer::Option(999_999))]),
    );
    assert!(matches!(
        store
            .record_visit(&actor, campaign.id, wrong)
            .await
            .unwrap(),
        Err(VisitRefusal::Answer(_))
    ));

    // A concern becomes a case in the visit's write; a case that cannot be filed takes the visit
    // with it.
    let mut with_concern = visit(
        "client-0004",
        second,
        cadre,
        now,
        VisitOutcome::Met,
        BTreeMap::new(),
    );
    let mut concern = new_appeal("noise", "夜里施工太吵", Some(village.id), None);
    concern.channel = yongxin_domain::appeal::Channel::Visit;
    concern.household_id = Some(second);
    let mut broken = concern.clone();
    broken.category = "no-such-category".into();
    with_concern.concerns = vec![broken];
    let head = store.audit_head().await.unwrap();
    assert!(store
        .record_visit(&actor, campaign.id, with_concern.clone())
        .await
        .is_err());
    assert_eq!(store.audit_head().await.unwrap(), head);
    assert!(store
        .household_visits(campaign.id, second)
        .await
        .unwrap()
        .is_empty());
    with_concern.concerns = vec![concern];
    let Ok(VisitRecorded::Stored(v)) = store
        .record_visit(&actor, campaign.id, with_concern)
        .await
        .unwrap()
    else {
        panic!("stored")
    };
    assert_eq!(v.appeals.len(), 1);
    let (case, _) = store.appeal(v.appeals[0].0).await.unwrap();
    assert_eq!(case.channel, yongxin_domain::appeal::Channel::Visit);
    assert_eq!(case.household_id, Some(second));
    let source = store.appeal_visit(case.id).await.unwrap().unwrap();
    assert_eq!((source.campaign_id, source.visit_id), (campaign.id, v.id));
    assert_eq!(store.campaign_concerns(campaign.id).await.unwrap().len(), 1);

    // Not at home on three different days: the household goes to its village officer.
    for (i, days_ago) in [3, 2, 1].into_iter().enumerate() {
        let away = visit(
            &format!("client-away-{i}"),
            third,
            cadre,
            now - Duration::days(days_ago),
            VisitOutcome::NotHome,
            BTreeMap::new(),
        );
        store
            .record_visit(&actor, campaign.id, away)
            .await
            .unwrap()
            .unwrap();
    }
    let h = store
        .campaign_household(campaign.id, third)
        .await
        .unwrap()
        .unwrap();
    assert!(h.escalated && !h.settled);
    assert_eq!((h.attempts, h.not_home_days), (3, 3));
    let officer = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::VillageOfficer && u.village_id == Some(village.id))
        .unwrap();
    assert_eq!(h.cadre_user_id, Some(officer.id));
    let history = store
        .campaign_assignments(campaign.id, third)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(),
        vec!["grid", "escalated"]
    );
    // The officer finds them at home.
    let found = visit(
        "client-found",
        third,
        officer.id,
        now,
        VisitOutcome::Met,
        BTreeMap::new(),
    );
    store
        .record_visit(&actor, campaign.id, found)
        .await
        .unwrap()
        .unwrap();
    let h = store
        .campaign_household(campaign.id, third)
        .await
        .unwrap()
        .unwrap();
    assert!(h.settled && h.met && !h.escalated);

    // Totals and coverage agree.
    let totals = store.campaign_totals(campaign.id, None).await.unwrap();
    assert_eq!((totals.reached, totals.met, totals.settled), (3, 3, 3));
    assert_eq!(totals.escalated, 0);
    assert_eq!(totals.visits, 1 + 1 + 3 + 1);
    let by_grid = store
        .campaign_coverage(campaign.id, CoverageBy::Grid, None)
        .await
        .unwrap();
    assert_eq!(by_grid.len(), store.grids(None).await.unwrap().len());
    assert_eq!(
        by_grid.iter().map(|g| g.totals.target).sum::<i64>(),
        totals.target
    );
    assert_eq!(by_grid[0].key, grid.id.to_string());
    assert_eq!(by_grid[0].totals.reached, 3);
    let by_village = store
        .campaign_coverage(campaign.id, CoverageBy::Village, None)
        .await
        .unwrap();
    assert_eq!(by_village.len(), villages.len());
    assert_eq!(by_village[0].name, village.name);
    assert_eq!(by_village[0].totals.reached, 3);
    let by_cadre = store
        .campaign_coverage(campaign.id, CoverageBy::Cadre, Some(cadre))
        .await
        .unwrap();
    assert_eq!(by_cadre.len(), 1);
    assert_eq!(
        by_cadre[0].totals.reached, 2,
        "the third went to the officer"
    );
    let by_day = store
        .campaign_coverage(campaign.id, CoverageBy::Day, None)
        .await
        .unwrap();
    assert_eq!(by_day.len(), 6, "five days past and today");
    assert_eq!(by_day.iter().map(|d| d.totals.reached).sum::<i64>(), 3);
    assert_eq!(by_day[0].totals.target, totals.target);
    let settled = store.campaign_settled_per_day(campaign.id).await.unwrap();
    assert_eq!(settled.values().sum::<i64>(), 3);

    // Corrections: the recorder within a day; the officer later with a reason; the visit
    // replaced stays as history.
    let stranger = Corrector {
        user_id: officer.id + 1000,
        role: Role::GridWorker,
        village_id: None,
    };
    let correction = |by| VisitCorrection {
        by,
        reason: String::new(),
        visited_at: now - Duration::hours(1),
        outcome: VisitOutcome::Refused,
        members: vec![],
        answers: BTreeMap::new(),
        note: "其实拒绝了".into(),
    };
    assert_eq!(
        store
            .correct_visit(&actor, campaign.id, stored.id, correction(stranger))
            .await
            .unwrap(),
        Err(VisitRefusal::Correction(CorrectionRefusal::NotAllowed))
    );
    let by_recorder = Corrector {
        user_id: cadre,
        role: Role::GridWorker,
        village_id: None,
    };
    let corrected = store
        .correct_visit(&actor, campaign.id, stored.id, correction(by_recorder))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(corrected.corrects_id, Some(stored.id));
    assert_eq!(
        store
            .correct_visit(&actor, campaign.id, stored.id, correction(by_recorder))
            .await
            .unwrap(),
        Err(VisitRefusal::Superseded)
    );
    let history = store.household_visits(campaign.id, first).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history.iter().find(|v| v.id == stored.id).unwrap().current);
    let h = store
        .campaign_household(campaign.id, first)
        .await
        .unwrap()
        .unwrap();
    assert!(
        h.refused && !h.settled,
        "a refusal does not reach by default"
    );
    let totals = store.campaign_totals(campaign.id, None).await.unwrap();
    assert_eq!(totals.reached, 2);

    // Reassigning a cadre's open households moves those and no settled one.
    let open_before = store
        .campaign_totals(campaign.id, Some(cadre))
        .await
        .unwrap();
    let moved = store
        .reassign_open_households(&actor, campaign.id, cadre, officer.id)
        .await
        .unwrap();
    assert_eq!(moved as i64, open_before.left());
    let after = store
        .campaign_totals(campaign.id, Some(cadre))
        .await
        .unwrap();
    assert_eq!((after.target, after.left()), (open_before.settled, 0));
    // Every change is in a valid record.
    store.verify_audit().await.unwrap().unwrap();
}

/// Targets by grid, by flag, by project and by a list; hand assignment; a cadre's campaigns.
pub async fn campaign_targets_and_hand_assignment(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let actor = Actor::user("staff");
    let today = yongxin_domain::campaign::local_day(Utc::now());
    let period = Period::new(today, today + Duration::days(9)).unwrap();
    let grids = store.grids(None).await.unwrap();
    let create = |target: Target, assignment| NewCampaign {
        title: "秸秆禁烧".into(),
        kind: CampaignKind::Inspection,
        description: "检查".into(),
        period,
        notice_id: None,
        project_id: None,
        form: CampaignForm::None,
        assignment,
        target,
        rules: Rules::default(),
    };
    let by_grid = store
        .create_campaign(
            &actor,
            create(Target::Grids(vec![grids[1].id]), AssignmentWay::Hand),
        )
        .await
        .unwrap();
    let t = store.campaign_totals(by_grid.id, None).await.unwrap();
    assert_eq!(t.target, grids[1].household_count);
    assert_eq!(t.unassigned, t.target, "by hand: nobody yet");
    // Nothing selected: refused, nothing written.
    let head = store.audit_head().await.unwrap();
    let err = store
        .create_campaign(
            &actor,
            create(Target::Households(vec![]), AssignmentWay::Grid),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { ref field, .. } if field == "target"),
        "{err:?}"
    );
    assert_eq!(store.audit_head().await.unwrap(), head);
    assert_eq!(store.campaigns(None).await.unwrap().len(), 1);

    // Flags: the households with a member so flagged.
    let flagged = store
        .create_campaign(
            &actor,
            create(
                Target::Flag {
                    flag: yongxin_domain::ResidentFlag::PartyMember,
                    villages: vec![],
                },
                AssignmentWay::Grid,
            ),
        )
        .await;
    let roster = store.roster().await.unwrap();
    let expected: std::collections::BTreeSet<&str> = roster
        .iter()
        .filter(|r| {
            r.member
                .flags
                .contains(&yongxin_domain::ResidentFlag::PartyMember)
        })
        .map(|r| r.household_key.as_str())
        .collect();
    match flagged {
        Ok(k) => {
            let t = store.campaign_totals(k.id, None).await.unwrap();
            assert_eq!(t.target as usize, expected.len());
        }
        Err(e) => assert!(expected.is_empty(), "{e:?}"),
    }

    // A list by hand, then assigned to a cadre by hand.
    let page = store
        .campaign_households(
            by_grid.id,
            &CampaignHouseholdQuery {
                page: 1,
                per_page: 3,
                ..CampaignHouseholdQuery::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<HouseholdId> = page.rows.iter().map(|h| h.household_id).collect();
    let listed = store
        .create_campaign(
            &actor,
            create(
                Target::Households(ids.iter().map(|h| h.get()).collect()),
                AssignmentWay::Hand,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        store.campaign_totals(listed.id, None).await.unwrap().target,
        3
    );
    let cadre = grids[0].cadre_user_id.unwrap();
    let n = store
        .assign_campaign_households(&actor, listed.id, &ids[..2], Some(cadre))
        .await
        .unwrap();
    assert_eq!(n, 2);
    // Again: nothing changes hands.
    assert_eq!(
        store
            .assign_campaign_households(&actor, listed.id, &ids[..2], Some(cadre))
            .await
            .unwrap(),
        0
    );
    // A household outside the campaign: refused whole.
    let outside = HouseholdId(ids[0].get() + 100_000);
    assert!(store
        .assign_campaign_households(&actor, listed.id, &[ids[2], outside], Some(cadre))
        .await
        .is_err());
    let mine = store.campaigns(Some(cadre)).await.unwrap();
    let listed_for_cadre = mine.iter().find(|k| k.campaign.id == listed.id).unwrap();
    assert_eq!(listed_for_cadre.totals.target, 2);
    assert!(
        mine.iter().all(|k| k.campaign.id != by_grid.id),
        "a campaign without households of theirs is not listed for a cadre"
    );
    let all = store.campaigns(None).await.unwrap();
    assert!(all.len() >= 2);
}
