//! Resettlement (拆迁安置) pages: the projects, a project's phase and the forms that move it
//! (policy, results 公示, lottery), its households, one household's calculation line by line
//! (printable; the resident's own view too) with registration and assessment, the registration
//! dashboard, and the public lottery page with its proof.

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::Button;
use crate::http::extract::CsrfForm;
use crate::http::extract::Ids;
use crate::http::i18n::Catalog;
use crate::http::page::render;
use crate::http::page::Chrome;
use crate::AppState;
use askama::Template;
use axum::extract::Query;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Redirect;
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::money::Qty;
use yongxin_domain::resettlement::entitlement::eligible_members;
use yongxin_domain::resettlement::entitlement::CountedFixture;
use yongxin_domain::resettlement::entitlement::EligibleMember;
use yongxin_domain::resettlement::entitlement::EntitlementLine;
use yongxin_domain::resettlement::entitlement::HouseholdInputs;
use yongxin_domain::resettlement::entitlement::LineGroup;
use yongxin_domain::resettlement::entitlement::MeasuredStructure;
use yongxin_domain::resettlement::entitlement::MemberFacts;
use yongxin_domain::resettlement::masked_name;
use yongxin_domain::resettlement::policy::Policy;
use yongxin_domain::resettlement::policy::StructureKind;
use yongxin_domain::resettlement::policy::EXAMPLE_TOML;
use yongxin_domain::resettlement::Phase;
use yongxin_domain::resettlement::ResettlementError;
use yongxin_domain::time::display_local;
use yongxin_domain::Permission;
use yongxin_store::EntitlementRecord;
use yongxin_store::HouseholdDetail;
use yongxin_store::LotteryState;
use yongxin_store::NewProject;
use yongxin_store::PhaseChange;
use yongxin_store::PolicyVersion;
use yongxin_store::ProjectDetail;
use yongxin_store::ProjectHousehold;
use yongxin_store::Registration;
use yongxin_store::RegistrationCoverage;
use yongxin_store::RegistrationDay;
use yongxin_store::StoreError;
use yongxin_store::User;
use yongxin_store::{HouseholdId, ProjectId};

use super as act;
use crate::http::format::percent;

/// `GET /projects`: every project with its phase; a resident sees links to their own calculation.
#[derive(Template)]
#[template(path = "resettlement_projects.html")]
struct ProjectsPage {
    c: Chrome,
    projects: Vec<(ProjectDetail, Option<HouseholdId>)>,
    manager: bool,
    online: Vec<(ProjectId, i64)>,
}

/// `GET /projects`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn projects(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let own_village = match user.household_id {
        Some(h) if !user.role.is_cadre() => {
            Some(state.store.household(h).await?.summary.village_id)
        }
        _ => None,
    };
    let mut projects = Vec::new();
    for p in state.store.projects().await? {
        let detail = act::project(&state, p.id).await?;
        let own = own_village
            .filter(|v| detail.project.village_ids.contains(v))
            .and(user.household_id);
        projects.push((detail, own));
    }
    // A household sees the link to an online selection only when it is on its list: a link
    // that answers "not on the list" is a dead end.
    let mut online = Vec::new();
    for s in state.store.selections(None).await? {
        if s.mode != yongxin_domain::selection::SelectionMode::Online
            || s.ends_at <= chrono::Utc::now()
        {
            continue;
        }
        let listed = match user.household_id.filter(|_| !user.role.is_cadre()) {
            Some(h) => state.store.selection_household(s.id, h).await?.is_some(),
            None => true,
        };
        if listed {
            online.push((s.project_id, s.id));
        }
    }
    render(&ProjectsPage {
        c: Chrome::new(&ctx, "resettlement.projects_title"),
        projects,
        online,
        manager: user.role.may(Permission::RunResettlement),
    })
}

#[derive(Template)]
#[template(path = "resettlement_project.html")]
struct ProjectPage {
    c: Chrome,
    p: ProjectDetail,
    villages: String,
    phases: Vec<(Phase, bool)>,
    changes: Vec<(PhaseChange, String)>,
    policies: Vec<(PolicyVersion, String)>,
    units: usize,
    lottery: Option<LotteryState>,
    manager: bool,
    assessor: bool,
    next: Option<Phase>,
    policy_text: String,
    error: Option<String>,
    selections: Vec<yongxin_store::Selection>,
}

#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn project_page(
    state: &AppState,
    ctx: &Ctx,
    id: ProjectId,
    policy_text: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?;
    let p = act::project(state, id).await?;
    let all_villages = state.store.villages().await?;
    let villages = p
        .project
        .village_ids
        .iter()
        .filter_map(|v| {
            all_villages
                .iter()
                .find(|x| x.id == *v)
                .map(|x| x.name.clone())
        })
        .collect::<Vec<_>>();
    let villages = ctx.lang.catalog().join(villages);
    let rank = |ph: Phase| Phase::ALL.iter().position(|x| *x == ph).unwrap_or(0);
    let phases = Phase::ALL
        .iter()
        .map(|ph| (*ph, rank(*ph) <= rank(p.phase)))
        .collect();
    let names = crate::http::page::ActorNames::load(state, ctx.lang.catalog()).await?;
    let changes = state
        .store
        .phase_changes(id)
        .await?
        .into_iter()
        .map(|mut ch| {
            ch.actor = names.name(&ch.actor);
            let at = display_local(ch.at);
            (ch, at)
        })
        .collect();
    let policies: Vec<(PolicyVersion, String)> = state
        .store
        .policy_versions(id)
        .await?
        .into_iter()
        .map(|v| {
            let at = display_local(v.created_at);
            (v, at)
        })
        .collect();
    let policy_text = policy_text.unwrap_or_else(|| match policies.last() {
        Some((v, _)) => {
            yongxin_domain::resettlement::policy::bump_version(&v.source, v.version + 1)
        }
        None => EXAMPLE_TOML.to_owned(),
    });
    let units = state.store.project_units(id).await?.len();
    let lottery = state.store.lottery(id).await?;
    let mut c = Chrome::new(ctx, "resettlement.project_title");
    c.title = p.project.name.clone();
    let next = p.phase.next();
    let mut response = render(&ProjectPage {
        c,
        villages,
        phases,
        changes,
        policies,
        units,
        lottery,
        manager: user.role.may(Permission::RunResettlement),
        assessor: user.role.may(Permission::AssessHouseholds),
        next,
        policy_text,
        error: error.clone(),
        selections: state.store.selections(Some(id)).await?,
        p,
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// `GET /projects/{id}`: cadres.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn project(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    project_page(&state, &ctx, id, None, None).await
}

/// A manager's form about a project: signed in with the right role (the token was checked by the
/// form's extractor).
fn manager_form(ctx: &Ctx) -> Result<User, AppError> {
    let user = ctx.require(Permission::RunResettlement)?.clone();
    Ok(user)
}

/// The phase form: where to, and why.
#[derive(Deserialize)]
pub struct PhaseForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// `POST /projects/{id}/phase`: moves to the next phase.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn move_phase(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<PhaseForm>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    let to = Phase::parse(&form.to).ok_or_else(|| AppError::invalid_param("to"))?;
    let reason = form.reason.trim().chars().take(500).collect::<String>();
    state
        .store
        .move_phase(&user.actor(), id, to, &reason)
        .await??;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

/// A policy version's TOML as typed.
#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    source: String,
}

/// `POST /projects/{id}/policy`: publishes the next policy version; a refused policy comes back
/// with the field and the reason, the text kept.
pub async fn publish_policy(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(PolicyForm { source }): CsrfForm<PolicyForm>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    match act::publish_policy(&state, &user, id, &source).await {
        Ok(_) => Ok(Redirect::to(&format!("/projects/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.code.starts_with("resettlement") => {
            let message = e.in_words(ctx.lang.catalog());
            project_page(&state, &ctx, id, Some(source), Some(message)).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /projects/{id}/results`: publishes the results 公示.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn publish_results(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    let p = act::publish_results(&state, &user, id).await?;
    let to = p
        .results_notice_id
        .map_or_else(|| format!("/projects/{id}"), |n| format!("/notices/{n}"));
    Ok(Redirect::to(&to).into_response())
}

/// The freeze form: how the number is drawn, and the parties' commitments one a line.
#[derive(Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    seed_rule: String,
    #[serde(default)]
    commitments: String,
}

/// `POST /projects/{id}/lottery/freeze`.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn freeze(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<FreezeForm>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    let parties = act::parties_from_lines(&form.commitments)?;
    act::freeze(&state, &user, id, &form.seed_rule, parties).await?;
    Ok(Redirect::to(&format!("/projects/{id}/lottery")).into_response())
}

/// `POST /projects/{id}/lottery/commitment`: new commitments before a redraw.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn recommit(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<FreezeForm>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    let parties = act::parties_from_lines(&form.commitments)?;
    act::recommit(&state, &user, id, parties).await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

/// The public number, each committed party's secret in the order of the commitment, and the
/// reason of a redraw.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DrawForm {
    seed: String,
    secret: Vec<String>,
    reason: String,
}

/// `POST /projects/{id}/lottery/draw`.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn draw(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<DrawForm>,
) -> Result<Response, AppError> {
    let user = manager_form(&ctx)?;
    let reason = Some(form.reason).filter(|r| !r.trim().is_empty());
    // One `secret` field per committed party, in the order of the commitment; a missing one is
    // an empty reveal, which the store refuses as not matching its commitment.
    let parties = state
        .store
        .lottery(id)
        .await?
        .and_then(|l| l.seed_commitment)
        .map(|c| c.parties().to_vec())
        .unwrap_or_default();
    let reveals: Vec<yongxin_domain::lottery::Reveal> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| yongxin_domain::lottery::Reveal {
            party: p.party.clone(),
            secret: form.secret.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    state
        .store
        .draw_lottery(&user.actor(), id, form.seed.trim(), &reveals, reason)
        .await??;
    Ok(Redirect::to(&format!("/projects/{id}/lottery")).into_response())
}

/// Paging and filter of the household list.
#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<u32>,
    missing: Option<String>,
}

#[derive(Template)]
#[template(path = "resettlement_households.html")]
struct HouseholdsPage {
    c: Chrome,
    p: ProjectDetail,
    rows: Vec<(ProjectHousehold, String)>,
    total: i64,
    page: u32,
    pages: u32,
    missing: bool,
}

const PER_PAGE: u32 = 100;

/// `GET /projects/{id}/households`: department staff, leaders, administrators.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn households(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = act::project(&state, id).await?;
    let missing = q.missing.as_deref() == Some("1");
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = state
        .store
        .project_households(p.project.id, page, PER_PAGE, missing)
        .await?;
    let rows = with_masked_heads(rows);
    let c = Chrome::for_project(&ctx, "resettlement.households_title", &p.project.name);
    render(&HouseholdsPage {
        c,
        rows,
        total,
        page,
        pages: u32::try_from((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
            .unwrap_or(1)
            .max(1),
        missing,
        p,
    })
}

/// A line as the page shows it.
pub struct LineView {
    line: EntitlementLine,
}

#[derive(Template)]
#[template(path = "resettlement_household.html")]
struct HouseholdPage {
    c: Chrome,
    /// The current policy's title, named beside its version.
    policy_title: String,
    p: ProjectDetail,
    h: HouseholdDetail,
    head: String,
    current: Option<EntitlementRecord>,
    lines: Vec<LineView>,
    history: Vec<(EntitlementRecord, String)>,
    registration: Option<(Registration, String)>,
    layouts: Vec<(String, String, String)>,
    slots: Vec<String>,
    assessor: bool,
    may_register: bool,
    structures_text: String,
    fixtures_text: String,
    members_text: String,
    kinds: String,
    fixture_codes: String,
    needs_reason: bool,
    phase_name: String,
}

fn structures_text(inputs: &HouseholdInputs) -> String {
    inputs
        .structures
        .iter()
        .map(|s| format!("{} {} {}", s.kind.zh(), s.condition, s.area.short()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn fixtures_text(inputs: &HouseholdInputs) -> String {
    inputs
        .fixtures
        .iter()
        .map(|f| format!("{} {}", f.code, f.quantity.short()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The members as the form shows them, a line each (`姓名｜权重｜依据`; `|` in English, which
/// the form takes as well).
fn members_text(catalog: &Catalog, members: &[EligibleMember]) -> String {
    let bar = if catalog.lang() == crate::http::i18n::Lang::ZhCn {
        "｜"
    } else {
        " | "
    };
    members
        .iter()
        .map(|m| {
            format!(
                "{}{bar}{}{bar}{}",
                m.name,
                m.weight.short(),
                super::words::member_basis(catalog, m)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn facts(h: &HouseholdDetail) -> Vec<MemberFacts> {
    h.members.iter().map(MemberFacts::from).collect()
}

/// `GET /projects/{id}/policy/{version}/source.toml`: a published policy version's
/// machine-readable text, public like its notice, for anyone to recompute a household's result.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn policy_source(
    State(state): State<AppState>,
    Ids((id, version)): Ids<(ProjectId, u32)>,
) -> Result<Response, AppError> {
    let p = act::project(&state, id).await?;
    let v = state
        .store
        .policy_versions(p.project.id)
        .await?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or_else(AppError::not_found)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"policy-v{version}.toml\""),
            ),
        ],
        v.source,
    )
        .into_response())
}

/// `GET /projects/{id}/households/{hid}`: the calculation line by line, for the household's
/// members and cadres whose scope reaches it.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn household(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, hid)): Ids<(ProjectId, HouseholdId)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let p = act::project(&state, id).await?;
    let h = act::household(&state, &user, &p, hid).await?;
    let pid = p.project.id;
    let policy = act::current_policy(&state, pid).await?;
    let current = act::current_result(&state, pid, h.summary.id, &[]).await?.0;
    let names = crate::http::page::ActorNames::load(&state, ctx.lang.catalog()).await?;
    let assessment = state.store.assessment(pid, h.summary.id).await?;
    let registration = state.store.registration(pid, h.summary.id).await?;
    let history = state
        .store
        .entitlement_history(pid, h.summary.id)
        .await?
        .into_iter()
        .rev()
        .map(|mut r| {
            r.created_by = names.name(&r.created_by);
            let at = display_local(r.created_at);
            (r, at)
        })
        .collect();
    let inputs = assessment
        .map(|a| a.inputs)
        .unwrap_or_else(|| HouseholdInputs {
            members: policy
                .as_ref()
                .map(|pol| eligible_members(pol, &facts(&h)))
                .unwrap_or_default(),
            ..HouseholdInputs::default()
        });
    let layouts = policy
        .as_ref()
        .map(|pol| {
            pol.layouts
                .iter()
                .map(|l| (l.code.clone(), l.name.clone(), l.area.short()))
                .collect()
        })
        .unwrap_or_default();
    let catalog = ctx.lang.catalog();
    // The form takes a kind by its Chinese name or its code: each language is shown its own.
    let kinds = catalog.join(StructureKind::ALL.iter().map(|k| {
        if catalog.lang() == crate::http::i18n::Lang::ZhCn {
            k.zh()
        } else {
            k.code()
        }
    }));
    let fixture_codes = policy
        .as_ref()
        .map(|pol| {
            pol.fixtures
                .iter()
                .map(|f| {
                    catalog.format(
                        "entitlement.fixture_hint",
                        &[
                            ("code", f.code.clone()),
                            ("name", f.name.clone()),
                            ("unit", f.unit.clone()),
                        ],
                    )
                })
                .collect::<Vec<_>>()
        })
        .map(|hints| catalog.join(hints))
        .unwrap_or_default();
    let mut c = Chrome::new(&ctx, "resettlement.household_title");
    c.title = format!("{} · {}", p.project.name, h.summary.key);
    let lines = current
        .as_ref()
        .map(|r| {
            r.result
                .lines
                .iter()
                .cloned()
                .map(|line| LineView { line })
                .collect()
        })
        .unwrap_or_default();
    render(&HouseholdPage {
        c,
        policy_title: policy.as_ref().map(|p| p.title.clone()).unwrap_or_default(),
        head: masked_name(&h.summary.head_name),
        lines,
        history,
        slots: {
            let mut slots = registration
                .as_ref()
                .map(|r| r.layouts.clone())
                .unwrap_or_default();
            slots.resize(slots.len().max(4), String::new());
            slots
        },
        registration: registration.map(|r| {
            let at = display_local(r.at);
            (r, at)
        }),
        layouts,
        assessor: user.role.may(Permission::AssessHouseholds),
        may_register: p.phase.check_registration(p.frozen).is_ok(),
        structures_text: structures_text(&inputs),
        fixtures_text: fixtures_text(&inputs),
        members_text: members_text(catalog, &inputs.members),
        kinds,
        fixture_codes,
        needs_reason: p.phase.check_assessment(None).is_err(),
        phase_name: ctx
            .lang
            .catalog()
            .t(&format!("resettlement.phase_name.{}", p.phase.code()))
            .to_owned(),
        current,
        h,
        p,
    })
}

/// The layouts a household registers for: one `layout` field per apartment, repeated.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegistrationForm {
    layout: Vec<String>,
}

/// `POST /projects/{id}/households/{hid}/registration`: a member online, a cadre in person.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, hid)): Ids<(ProjectId, HouseholdId)>,
    CsrfForm(form): CsrfForm<RegistrationForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let layouts = form
        .layout
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .collect();
    act::register(&state, &user, id, hid, layouts).await?;
    Ok(Redirect::to(&format!("/projects/{id}/households/{hid}")).into_response())
}

/// The assessment form: structures `结构 成新 面积`, fixtures `代码 数量`, members
/// `姓名｜权重｜依据`, one per line; a correction of the members needs a reason.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssessmentForm {
    structures: String,
    fixtures: String,
    /// Missing (not empty) when the form carries measurements only.
    members: Option<String>,
    reason: String,
}

/// Reads the assessment form's lines.
fn read_assessment(
    catalog: &Catalog,
    form: &AssessmentForm,
    policy: &Policy,
) -> Result<HouseholdInputs, AppError> {
    // A refusal names the field and the line, in the reader's language.
    let refuse = |field: &str, line: usize, reason: String| {
        AppError::bad_request(catalog.format(
            "entitlement.error_line",
            &[
                ("field", catalog.t(field).to_owned()),
                ("line", line.to_string()),
                ("reason", reason),
            ],
        ))
    };
    let qty = |s: &str, field: &str, line: usize| {
        s.parse::<Qty>().map_err(|_| {
            refuse(
                field,
                line,
                catalog.format("entitlement.error_number", &[("value", s.to_owned())]),
            )
        })
    };
    let mut inputs = HouseholdInputs::default();
    for (i, l) in form
        .structures
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = l.split_whitespace().collect();
        let [kind, condition, area] = parts[..] else {
            return Err(refuse(
                "entitlement.field_structures",
                i + 1,
                catalog.t("entitlement.error_structure_line").to_owned(),
            ));
        };
        let kind = StructureKind::parse(kind).ok_or_else(|| {
            refuse(
                "entitlement.field_structures",
                i + 1,
                catalog.format(
                    "entitlement.error_structure_kind",
                    &[("kind", kind.to_owned())],
                ),
            )
        })?;
        inputs.structures.push(MeasuredStructure {
            kind,
            condition: condition.to_owned(),
            area: qty(area, "entitlement.field_structures", i + 1)?,
        });
    }
    for (i, l) in form
        .fixtures
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = l.split_whitespace().collect();
        let [code, quantity] = parts[..] else {
            return Err(refuse(
                "entitlement.field_fixtures",
                i + 1,
                catalog.t("entitlement.error_fixture_line").to_owned(),
            ));
        };
        let code = policy
            .fixtures
            .iter()
            .find(|f| f.code == code || f.name == code)
            .map(|f| f.code.clone())
            .unwrap_or_else(|| code.to_owned());
        inputs.fixtures.push(CountedFixture {
            code,
            quantity: qty(quantity, "entitlement.field_fixtures", i + 1)?,
        });
    }
    for (i, l) in form
        .members
        .as_deref()
        .unwrap_or_default()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = l.splitn(3, ['｜', '|']).map(str::trim).collect();
        let [name, weight, basis] = parts[..] else {
            return Err(refuse(
                "entitlement.field_members",
                i + 1,
                catalog.t("entitlement.error_member_line").to_owned(),
            ));
        };
        inputs.members.push(EligibleMember {
            resident_id: None,
            name: name.to_owned(),
            weight: qty(weight, "entitlement.field_members", i + 1)?,
            basis: basis.to_owned(),
            why: Default::default(),
        });
    }
    Ok(inputs)
}

/// `POST /projects/{id}/households/{hid}/assessment`: department staff, leaders, administrators.
/// Members that differ from what the registry gives are a correction and need a reason.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn assess(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, hid)): Ids<(ProjectId, HouseholdId)>,
    CsrfForm(form): CsrfForm<AssessmentForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::AssessHouseholds)?.clone();
    let p = act::project(&state, id).await?;
    let h = act::household(&state, &user, &p, hid).await?;
    let policy = act::current_policy(&state, p.project.id)
        .await?
        .ok_or(ResettlementError::NoPolicy)?;
    let catalog = ctx.lang.catalog();
    let mut inputs = read_assessment(catalog, &form, &policy)?;
    // Members typed as the registry gives them keep their registry ids.
    let derived = eligible_members(&policy, &facts(&h));
    // A form without the members field (a script, a tablet form of measurements only) keeps
    // the members as the registry gives them.
    if form.members.is_none() {
        inputs.members = derived.clone();
    }
    for m in &mut inputs.members {
        if let Some(d) = derived.iter().find(|d| {
            d.name == m.name
                && d.weight == m.weight
                && (d.basis == m.basis || super::words::member_basis(catalog, d) == m.basis)
        }) {
            // As the registry gives it, in whatever language the form showed it.
            *m = d.clone();
        }
    }
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    if inputs.members != derived && reason.is_none() {
        return Err(AppError::bad_request(
            catalog.t("entitlement.error_correction_reason"),
        ));
    }
    state
        .store
        .save_assessment(&user.actor(), p.project.id, h.summary.id, inputs, reason)
        .await??;
    Ok(Redirect::to(&format!(
        "/projects/{}/households/{}",
        p.project.id, h.summary.id
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "resettlement_registrations.html")]
struct RegistrationsPage {
    c: Chrome,
    p: ProjectDetail,
    coverage: Vec<(RegistrationCoverage, String)>,
    total: (i64, i64, String),
    days: Vec<RegistrationDay>,
    missing: Vec<(ProjectHousehold, String)>,
    missing_total: i64,
}

/// `GET /projects/{id}/registrations`: coverage by village, registrations per day and person,
/// and who is still missing. Department staff, leaders, administrators.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn registrations(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    Query(q): Query<RegistrationsQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = act::project(&state, id).await?;
    if let Some(format) = crate::http::sheet::requested(q.format.as_deref())? {
        // Every household still to register (未登记户): the list cadres take to the doors. Heads
        // are masked as on the page.
        let c = ctx.lang.catalog();
        let mut table = vec![crate::http::sheet::households_header(c)];
        for page in 1.. {
            let (rows, _) = state
                .store
                .project_households(p.project.id, page, 1000, true)
                .await?;
            let done = rows.len() < 1000;
            for (r, head) in with_masked_heads(rows) {
                table.push(crate::http::sheet::household_row(r.household, head));
            }
            if done {
                break;
            }
        }
        return crate::http::sheet::download(
            &table,
            format,
            &format!("project-{}-unregistered", p.project.id),
        );
    }
    let coverage: Vec<RegistrationCoverage> =
        state.store.registration_coverage(p.project.id).await?;
    let (h, r) = coverage
        .iter()
        .fold((0, 0), |(h, r), c| (h + c.households, r + c.registered));
    let coverage = coverage
        .into_iter()
        .map(|c| {
            let pc = percent(c.registered, c.households);
            (c, pc)
        })
        .collect();
    let days = state.store.registration_days(p.project.id).await?;
    let (missing, missing_total) = state
        .store
        .project_households(p.project.id, 1, PER_PAGE, true)
        .await?;
    let missing = with_masked_heads(missing);
    let c = Chrome::for_project(&ctx, "resettlement.registrations_title", &p.project.name);
    render(&RegistrationsPage {
        c,
        coverage,
        total: (h, r, percent(r, h)),
        days,
        missing,
        missing_total,
        p,
    })
}

/// Query of the registrations page: `format=xlsx|csv` for the households still to register.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegistrationsQuery {
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "resettlement_lottery.html")]
struct LotteryPage {
    c: Chrome,
    p: ProjectDetail,
    lottery: Option<LotteryState>,
    frozen_at: String,
    draws: Vec<(String, String, Option<String>, String)>,
    order: Vec<(usize, String)>,
    manager: bool,
}

/// `GET /projects/{id}/lottery`: public, like the notices that announce it.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn lottery(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    let p = act::project(&state, id).await?;
    let lottery = state.store.lottery(p.project.id).await?;
    let frozen_at = lottery
        .as_ref()
        .map(|l| display_local(l.frozen_at))
        .unwrap_or_default();
    let draws = lottery
        .as_ref()
        .map(|l| {
            l.draws
                .iter()
                .map(|d| {
                    (
                        d.seed.clone(),
                        display_local(d.drawn_at),
                        d.reason.clone(),
                        d.drawn_by.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let order = match lottery.as_ref().and_then(|l| l.draws.last()) {
        Some(d) => serde_json::from_str::<yongxin_domain::lottery::Proof>(&d.proof)
            .map_err(AppError::internal)?
            .order
            .into_iter()
            .enumerate()
            .map(|(i, k)| (i + 1, k))
            .collect(),
        None => Vec::new(),
    };
    let c = Chrome::for_project(&ctx, "resettlement.lottery_title", &p.project.name);
    render(&LotteryPage {
        c,
        manager: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role.may(Permission::RunResettlement)),
        lottery,
        frozen_at,
        draws,
        order,
        p,
    })
}

/// `GET /projects/{id}/lottery/proof.json`: the standing proof, public.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn proof(
    State(state): State<AppState>,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    super::proof_download(&state, id).await
}

/// Whether a line's group starts here (for the group headings of the table).
pub fn group_starts(lines: &[LineView], i: &usize) -> bool {
    *i == 0 || lines[*i - 1].line.group != lines[*i].line.group
}

/// The total of a group, for its heading.
pub fn group_total(record: &EntitlementRecord, g: &LineGroup) -> String {
    let t = record.result.totals;
    match g {
        LineGroup::Compensation => t.compensation,
        LineGroup::Purchase => t.purchase,
        LineGroup::CashForUnused => t.cash_for_unused,
    }
    .grouped()
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectAdminPage {
    c: Chrome,
    projects: Vec<(String, String, String)>,
    villages: Vec<(i64, String)>,
    error: Option<String>,
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn project_admin_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let villages: Vec<(i64, String)> = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let name_of = |id: &i64| {
        villages
            .iter()
            .find(|(v, _)| v == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    let projects = state
        .store
        .projects()
        .await?
        .into_iter()
        .map(|p| {
            (
                p.code,
                p.name,
                ctx.lang.catalog().join(p.village_ids.iter().map(name_of)),
            )
        })
        .collect();
    let mut response = render(&ProjectAdminPage {
        c: Chrome::new(ctx, "project.title"),
        projects,
        villages,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /admin/projects`: leaders and administrators.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn project_admin(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageProjects)?;
    project_admin_page(&state, &ctx, None).await
}

/// A new project: its code, its name and the villages it covers (one box each).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProjectForm {
    code: String,
    name: String,
    villages: Vec<String>,
}

/// `POST /admin/projects`: leaders and administrators.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_project(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ProjectForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageProjects)?.clone();
    let c = ctx.lang.catalog();
    let (code, name) = (form.code.trim().to_owned(), form.name.trim().to_owned());
    let villages = form
        .villages
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| AppError::invalid_param("villages"))
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let valid_code = !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
    if !valid_code || name.is_empty() || name.chars().count() > 100 || villages.is_empty() {
        return project_admin_page(&state, &ctx, Some(c.t("project.error.form").to_owned())).await;
    }
    match state
        .store
        .create_project(
            &user.actor(),
            NewProject {
                code,
                name,
                village_ids: villages,
            },
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/projects").into_response()),
        Err(StoreError::Conflict { .. }) => {
            project_admin_page(&state, &ctx, Some(c.t("project.error.taken").to_owned())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A project's household rows with each head's name masked, as the office's lists show them.
fn with_masked_heads(
    rows: Vec<yongxin_store::ProjectHousehold>,
) -> Vec<(yongxin_store::ProjectHousehold, String)> {
    rows.into_iter()
        .map(|r| {
            let head = masked_name(&r.household.head_name);
            (r, head)
        })
        .collect()
}
