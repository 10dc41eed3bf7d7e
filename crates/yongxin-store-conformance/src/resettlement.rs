//! Resettlement (拆迁安置): a project through its phases.

use super::*;

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
