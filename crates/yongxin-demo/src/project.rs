//! 项目推进: the one way a resettlement project is taken through its phases outside the office's
//! own pages, step by step through the store as the office would take it. The demo, the tests and
//! the benchmarks all build their projects here, so a change to a phase's rules is met once.

use futures_util::stream::{self, TryStreamExt};
use yongxin_domain::money::Qty;
use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
use yongxin_domain::resettlement::entitlement::{
    eligible_members, entitled_area, CountedFixture, HouseholdInputs, MeasuredStructure,
    MemberFacts,
};
use yongxin_domain::resettlement::policy::{Policy, StructureKind, EXAMPLE_TOML};
use yongxin_domain::resettlement::{Phase, ResettlementError};
use yongxin_domain::{Actor, Role};
use yongxin_store::{
    HouseholdId, HouseholdSummary, ProjectId, Store, StoreError, StoreResult, User,
};

use crate::{households_of, lottery_parties};

/// How far a project is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// 选房登记: the policy published, the households registered.
    Registration,
    /// 结果公示: assessed and the results published, their objection window closed.
    Results,
    /// 摇号: the list frozen and drawn.
    Drawn,
    /// 选房: moved on to selection (no selection created).
    Selection,
}

/// What the households register.
#[derive(Debug, Clone, Copy)]
pub enum Registering<'a> {
    /// What the demo's households choose: combinations of layouts that use most of each one's
    /// entitlement, registered in person by its grid cadre (the demo resident online); about one
    /// household in seventeen has not registered, so the dashboard shows who.
    Fitting,
    /// This combination for every household, or its first layout where the whole is over the
    /// household's limit, registered in person by `by` (a cadre).
    Combination {
        /// The layouts.
        layouts: &'a [&'a str],
        /// Who registers them.
        by: &'a User,
    },
}

/// A project and how to take it on.
#[derive(Debug, Clone)]
pub struct ProjectPlan<'a> {
    /// The project, created already.
    pub project: ProjectId,
    /// Who acts in the record.
    pub actor: Actor,
    /// What the households register.
    pub registering: Registering<'a>,
    /// With `Registering::Combination`, a household left unregistered and assessed from nothing.
    pub unregistered: Option<HouseholdId>,
    /// Whether every household is assessed with measured structures and fixtures (the demo's)
    /// rather than from its members alone.
    pub measured: bool,
    /// The public seed drawn on the day.
    pub seed: &'a str,
    /// When the office acts: notices are dated back from here.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// What taking a project on did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRun {
    /// The project's households in key order.
    pub households: Vec<HouseholdId>,
    /// How many registered.
    pub registered: usize,
    /// The results 公示, once published.
    pub results_notice: Option<i64>,
    /// Apartments in the policy's catalogue.
    pub units: usize,
}

/// Takes a project in preparation through its phases to `stage`.
pub async fn take_project(
    store: &dyn Store,
    plan: &ProjectPlan<'_>,
    stage: Stage,
) -> StoreResult<ProjectRun> {
    let pid = plan.project;
    let project = store
        .project(pid)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("project {pid}"),
        })?;
    let policy = Policy::from_toml(EXAMPLE_TOML).map_err(StoreError::internal)?;
    let published = |kind, title: String, body: String, days_ago: i64| {
        notice(plan, kind, title, body, days_ago)
            .composed()
            .map_err(StoreError::internal)
    };
    store
        .publish_policy(
            &plan.actor,
            pid,
            EXAMPLE_TOML,
            published(
                NoticeKind::Policy,
                format!("{}（第 1 版）", policy.title),
                yongxin_domain::resettlement::policy_text(
                    &policy,
                    &format!("/projects/{pid}/policy/{}/source.toml", policy.version),
                ),
                60,
            )?,
        )
        .await?
        .map_err(refused("policy"))?;
    move_to(
        store,
        plan,
        Phase::Registration,
        "政策宣讲完毕，开始选房登记",
    )
    .await?;
    let households = households_of(store, Some(&project.project.village_ids)).await?;
    let registered = register(store, plan, &policy, &households).await?;
    let mut run = ProjectRun {
        households: households.iter().map(|h| h.id).collect(),
        registered,
        results_notice: None,
        units: policy.units().len(),
    };
    if stage == Stage::Registration {
        return Ok(run);
    }

    move_to(store, plan, Phase::Assessment, "登记基本完成，入户评估").await?;
    assess(store, plan, &policy, &households).await?;
    let rows: Vec<_> = store
        .all_project_households(pid)
        .await?
        .into_iter()
        .map(yongxin_store::ProjectHousehold::published)
        .collect();
    let name = &project.project.name;
    let body = yongxin_domain::resettlement::results_text(name, policy.version, &rows);
    let results = store
        .publish_results(
            &plan.actor,
            pid,
            published(
                NoticeKind::Publication,
                format!("{name}入户评估结果公示"),
                body,
                8,
            )?,
        )
        .await?
        .map_err(refused("results"))?;
    run.results_notice = results.results_notice_id;
    if stage == Stage::Results {
        return Ok(run);
    }

    move_to(store, plan, Phase::Lottery, "公示期满，异议已全部答复").await?;
    let (commitment, reveals) = lottery_parties(1);
    store
        .freeze_lottery(
            &plan.actor,
            pid,
            "选房当日由公证员现场摇出六位数字，当场录入并公布摇号结果。",
            &commitment,
            notice(
                plan,
                NoticeKind::Progress,
                format!("{name}摇号名单冻结公告"),
                String::new(),
                2,
            ),
        )
        .await?
        .map_err(refused("freeze"))?;
    store
        .draw_lottery(&plan.actor, pid, plan.seed, &reveals, None)
        .await?
        .map_err(refused("draw"))?;
    if stage == Stage::Drawn {
        return Ok(run);
    }

    move_to(store, plan, Phase::Selection, "摇号完成，进入选房").await?;
    Ok(run)
}

/// A notice to the project, published `days_ago`; a 公示 takes objections for seven days (the
/// results, published eight days ago, closed theirs yesterday).
fn notice(
    plan: &ProjectPlan<'_>,
    kind: NoticeKind,
    title: String,
    body: String,
    days_ago: i64,
) -> NoticeDraft {
    let published = plan.now - chrono::Duration::days(days_ago);
    NoticeDraft {
        kind,
        scope: ScopeKind::Project,
        village_ids: Vec::new(),
        project_id: Some(plan.project.get()),
        title,
        body,
        publish_at: published,
        end_at: None,
        objections_until: (kind == NoticeKind::Publication)
            .then(|| published + chrono::Duration::days(7)),
    }
}

fn refused(what: &'static str) -> impl Fn(ResettlementError) -> StoreError {
    move |e| StoreError::Invalid {
        field: what.into(),
        reason: e.to_string(),
    }
}

async fn move_to(
    store: &dyn Store,
    plan: &ProjectPlan<'_>,
    to: Phase,
    reason: &str,
) -> StoreResult<()> {
    store
        .move_phase(&plan.actor, plan.project, to, reason)
        .await?
        .map_err(refused("phase"))?;
    Ok(())
}

/// Registers the households as the plan says; answers how many registered.
async fn register(
    store: &dyn Store,
    plan: &ProjectPlan<'_>,
    policy: &Policy,
    households: &[HouseholdSummary],
) -> StoreResult<usize> {
    let pid = plan.project;
    match plan.registering {
        Registering::Combination { layouts, by } => {
            let mut registered = 0;
            for h in households
                .iter()
                .filter(|h| Some(h.id) != plan.unregistered)
            {
                let whole: Vec<String> = layouts.iter().map(|l| (*l).to_owned()).collect();
                let first = layouts.iter().take(1).map(|l| (*l).to_owned()).collect();
                // A household too small for the whole combination registers its first layout.
                if store
                    .register(&plan.actor, pid, h.id, whole, by, true)
                    .await?
                    .is_err()
                {
                    store
                        .register(&plan.actor, pid, h.id, first, by, true)
                        .await?
                        .map_err(refused("registration"))?;
                }
                registered += 1;
            }
            Ok(registered)
        }
        Registering::Fitting => {
            let users = store.users().await?;
            let cadre_of = |grid: i64| {
                users
                    .iter()
                    .find(|u| u.role == Role::GridWorker && u.grid_ids.contains(&grid))
            };
            let resident = users.iter().find(|u| u.role == Role::Resident);
            let registering: Vec<(&HouseholdSummary, &User, bool)> = households
                .iter()
                .filter(|h| h.id.get() % 17 != 5)
                .filter_map(
                    |h| match resident.filter(|r| r.household_id == Some(h.id)) {
                        Some(r) => Some((h, r, false)),
                        None => cadre_of(h.grid_id).map(|c| (h, c, true)),
                    },
                )
                .collect();
            stream::iter(registering.iter().map(Ok::<_, StoreError>))
                .map_ok(|(h, by, in_person)| async move {
                    let detail = store.household(h.id).await?;
                    let facts: Vec<MemberFacts> =
                        detail.members.iter().map(MemberFacts::from).collect();
                    // The demo's policy and registry give no household an area beyond the bound.
                    let Ok((_, area)) = entitled_area(policy, &eligible_members(policy, &facts))
                    else {
                        return Ok(0usize);
                    };
                    let layouts = fitting_layouts(policy, area, h.id.get());
                    if layouts.is_empty() {
                        return Ok(0usize);
                    }
                    store
                        .register(&plan.actor, pid, h.id, layouts, by, *in_person)
                        .await?
                        .map_err(refused("registration"))?;
                    Ok(1)
                })
                .try_buffer_unordered(16)
                .try_fold(0, |n, one| async move { Ok(n + one) })
                .await
        }
    }
}

/// Assesses as the plan says: every household measured, or only the unregistered one from
/// nothing (the others' results then come from their members alone).
async fn assess(
    store: &dyn Store,
    plan: &ProjectPlan<'_>,
    policy: &Policy,
    households: &[HouseholdSummary],
) -> StoreResult<()> {
    let pid = plan.project;
    if !plan.measured {
        if let Some(h) = plan.unregistered {
            store
                .save_assessment(&plan.actor, pid, h, HouseholdInputs::default(), None)
                .await?
                .map_err(refused("assessment"))?;
        }
        return Ok(());
    }
    stream::iter(households.iter().map(Ok::<_, StoreError>))
        .try_for_each_concurrent(16, |h| async move {
            let mut inputs = match store.assessment(pid, h.id).await? {
                Some(a) => a.inputs,
                None => {
                    let detail = store.household(h.id).await?;
                    let facts: Vec<MemberFacts> =
                        detail.members.iter().map(MemberFacts::from).collect();
                    HouseholdInputs {
                        members: eligible_members(policy, &facts),
                        ..Default::default()
                    }
                }
            };
            measure(&mut inputs, h.id.get());
            store
                .save_assessment(&plan.actor, pid, h.id, inputs, None)
                .await?
                .map_err(refused("assessment"))?;
            Ok(())
        })
        .await
}

/// Measured areas and counts that vary with the household, deterministically.
fn measure(inputs: &mut HouseholdInputs, k: i64) {
    const CONDITIONS: [(StructureKind, &str); 4] = [
        (StructureKind::BrickConcrete, "一等"),
        (StructureKind::BrickConcrete, "二等"),
        (StructureKind::BrickWood, "一等"),
        (StructureKind::BrickWood, "二等"),
    ];
    let (kind, condition) = CONDITIONS[usize::try_from(k % 4).unwrap_or(0)];
    inputs.structures = vec![MeasuredStructure {
        kind,
        condition: condition.into(),
        area: Qty(9_000 + (k * 7_919) % 15_000),
    }];
    if k % 3 == 0 {
        inputs.structures.push(MeasuredStructure {
            kind: StructureKind::Simple,
            condition: "一般".into(),
            area: Qty(1_200 + (k * 131) % 2_500),
        });
    }
    inputs.fixtures = vec![CountedFixture {
        code: "yard".into(),
        quantity: Qty(3_000 + (k * 577) % 9_000),
    }];
    if k % 2 == 0 {
        inputs.fixtures.push(CountedFixture {
            code: "well".into(),
            quantity: Qty::whole(1),
        });
    }
    inputs.fixtures.push(CountedFixture {
        code: "tree_large".into(),
        quantity: Qty::whole(k % 6),
    });
    inputs.fixtures.push(CountedFixture {
        code: "tree_small".into(),
        quantity: Qty::whole((k * 3) % 11),
    });
}

/// A household's preferred layouts as the demo registers them: combinations of one to three
/// layouts within the limit, picked by the household's id among those that use most of the
/// entitlement.
fn fitting_layouts(policy: &Policy, entitled: Qty, pick: i64) -> Vec<String> {
    let limit =
        yongxin_domain::resettlement::entitlement::limit_area(policy, entitled).unwrap_or(entitled);
    let layouts = &policy.layouts;
    let mut combos: Vec<(Qty, Vec<String>)> = Vec::new();
    for (i, a) in layouts.iter().enumerate() {
        combos.push((a.area, vec![a.code.clone()]));
        for (j, b) in layouts.iter().enumerate().skip(i) {
            combos.push((a.area + b.area, vec![a.code.clone(), b.code.clone()]));
            for c in layouts.iter().skip(j) {
                combos.push((
                    a.area + b.area + c.area,
                    vec![a.code.clone(), b.code.clone(), c.code.clone()],
                ));
            }
        }
    }
    combos.retain(|(area, _)| *area <= limit);
    let best = combos.iter().map(|(a, _)| *a).max().unwrap_or(Qty::ZERO);
    let mut near: Vec<&(Qty, Vec<String>)> = combos
        .iter()
        .filter(|(a, _)| *a + Qty::whole(30) >= best.min(entitled))
        .collect();
    // Families rarely take three flats when one or two will do.
    if near.iter().any(|(_, c)| c.len() <= 2) {
        near.retain(|(_, c)| c.len() <= 2);
    }
    match near.len() {
        0 => Vec::new(),
        n => near[usize::try_from(pick).unwrap_or(0) % n].1.clone(),
    }
}
