//! Campaign pages: the list, creating one, its progress (coverage, burn-down, concerns), its
//! households and their assignment, the phone page cadres walk with (and its plain-form
//! fallback), the walk sheet and its exports, a visit and its correction, and the service worker
//! that keeps the phone page when the signal drops.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use yongxin_domain::campaign::{
    burn_down, checked_text, local_day, walking_order, AssignmentWay, CampaignError, CampaignKind,
    Corrector, Period, Rules, Target, VisitOutcome, MAX_DESCRIPTION_CHARS, MAX_NOTE_CHARS,
    MAX_REASON_CHARS, MAX_TITLE_CHARS,
};
use yongxin_domain::consultation::parse_questions;
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::{Permission, ResidentFlag, Role};
use yongxin_store::{
    Campaign, CampaignForm, CampaignHousehold, CampaignHouseholdQuery, CampaignTotals, CoverageBy,
    HouseholdId, NewCampaign, NewConsultation, ProjectId, User, Visit, VisitCorrection,
    VisitRecorded,
};

use super::{campaign_error, campaign_for, record, CampaignAccess, ConcernInput, VisitInput};
use crate::consultations::form::{answers_from_form, question_views, QuestionFields, QuestionView};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::{CsrfForm, Ids, PageQuery};
use crate::http::format::percent;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::http::params::parse_opt_id as opt_id;
use crate::http::sheet::SheetFormat;
use crate::http::upload::FormWithFiles;
use crate::AppState;

/// A campaign's counts as the pages show them.
pub struct Counts {
    target: i64,
    reached: i64,
    reached_share: String,
    met: i64,
    refused: i64,
    escalated: i64,
    left: i64,
    visits: i64,
    unassigned: i64,
}

impl Counts {
    fn new(t: &CampaignTotals) -> Self {
        Self {
            target: t.target,
            reached: t.reached,
            reached_share: percent(t.reached, t.target),
            met: t.met,
            refused: t.refused,
            escalated: t.escalated,
            left: t.left(),
            visits: t.visits,
            unassigned: t.unassigned,
        }
    }
}

fn kind_name(c: &Catalog, k: CampaignKind) -> String {
    c.t(&format!("campaign.kind.{}", k.code())).to_owned()
}

fn outcome_name(c: &Catalog, o: VisitOutcome) -> String {
    c.t(&format!("campaign.outcome.{}", o.code())).to_owned()
}

fn period_text(k: &Campaign) -> String {
    format!("{} – {}", k.starts_on, k.ends_on)
}

fn state_key(k: &Campaign) -> &'static str {
    let today = local_day(Utc::now());
    if today < k.starts_on {
        "campaign.state.upcoming"
    } else if today > k.ends_on {
        "campaign.state.ended"
    } else {
        "campaign.state.running"
    }
}

/// One campaign in the list.
struct ListRow {
    id: i64,
    title: String,
    kind: String,
    period: String,
    state: String,
    n: Counts,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<ListRow>,
    whole: bool,
    may_create: bool,
}

/// `GET /campaigns`: those who run campaigns see every campaign; a cadre their own households'.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.cadre()?;
    let whole = user.role.may(Permission::RunCampaign);
    if !whole && !user.role.may(Permission::VisitHouseholds) {
        return Err(AppError::forbidden());
    }
    let c = Chrome::new(&ctx, "campaign.list_title");
    let rows = state
        .store
        .campaigns((!whole).then_some(user.id))
        .await?
        .into_iter()
        .map(|s| ListRow {
            id: s.campaign.id,
            kind: kind_name(c.catalog, s.campaign.kind),
            period: period_text(&s.campaign),
            state: c.t(state_key(&s.campaign)).to_owned(),
            title: s.campaign.title,
            n: Counts::new(&s.totals),
        })
        .collect();
    render(&ListPage {
        may_create: whole,
        whole,
        rows,
        c,
    })
}

/// The creation form as posted.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct CreateForm {
    title: String,
    kind: String,
    description: String,
    starts_on: String,
    ends_on: String,
    notice: String,
    project: String,
    /// `none`, `consultation` or `new`.
    form: String,
    consultation: String,
    questions: String,
    /// `grid` or `hand`.
    assignment: String,
    /// `villages`, `grids`, `flag`, `project` or `households`.
    target: String,
    villages: Vec<String>,
    grids: Vec<String>,
    flag: String,
    target_project: String,
    /// Household keys, one per line (or the uploaded file's first column).
    keys: String,
    escalate_after: String,
    reached_on_refused: String,
    open_to_scope: String,
}

impl CreateForm {
    fn has_village(&self, id: &i64) -> bool {
        self.villages.iter().any(|v| v.trim() == id.to_string())
    }

    fn has_grid(&self, id: &i64) -> bool {
        self.grids.iter().any(|v| v.trim() == id.to_string())
    }
}

fn ids(values: &[String], name: &str) -> Result<Vec<i64>, AppError> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().parse().map_err(|_| AppError::invalid_param(name)))
        .collect()
}

fn date(value: &str, field: &'static str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| AppError::invalid_param(field))
}

/// Household keys from the form's text (one per line) or an uploaded sheet (the first column;
/// a header row naming 户号 or key is skipped): all known, or every unknown one with its row.
async fn keyed_households(
    state: &AppState,
    c: &Catalog,
    f: &CreateForm,
    files: &[(String, String, Vec<u8>)],
) -> Result<Vec<i64>, AppError> {
    let rows: Vec<(usize, String)> = match files.iter().find(|(name, _, _)| name == "keys_file") {
        Some((_, _, bytes)) => crate::registry::roster_io::read_table(bytes)
            .map_err(|issues| {
                AppError::bad_request(
                    issues
                        .iter()
                        .map(|i| crate::registry::roster_io::issue_message(i, c))
                        .collect::<Vec<_>>()
                        .join("；"),
                )
            })?
            .into_iter()
            .enumerate()
            .map(|(i, cells)| (i + 1, cells.into_iter().next().unwrap_or_default()))
            .filter(|(i, key)| !(*i == 1 && matches!(key.trim(), "户号" | "key" | "Key")))
            .collect(),
        None => f
            .keys
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.to_owned()))
            .collect(),
    };
    let rows: Vec<(usize, String)> = rows
        .into_iter()
        .map(|(i, k)| (i, k.trim().to_owned()))
        .filter(|(_, k)| !k.is_empty())
        .collect();
    let keys: Vec<String> = rows.iter().map(|(_, k)| k.clone()).collect();
    let found = state.store.household_ids_by_key(&keys).await?;
    let unknown: Vec<String> = rows
        .iter()
        .filter(|(_, k)| !found.contains_key(k))
        .map(|(row, k)| {
            c.format(
                "campaign.error.unknown_key",
                &[("row", row.to_string()), ("key", k.clone())],
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::bad_request(unknown.join("；")));
    }
    let mut ids: Vec<i64> = found.values().map(|h| h.get()).collect();
    ids.sort_unstable();
    Ok(ids)
}

async fn checked_campaign(
    state: &AppState,
    c: &Catalog,
    f: &CreateForm,
    files: &[(String, String, Vec<u8>)],
) -> Result<NewCampaign, AppError> {
    let bad = |e: CampaignError| campaign_error(&e, c);
    let title = checked_text("title", &f.title, MAX_TITLE_CHARS, true).map_err(bad)?;
    let description =
        checked_text("description", &f.description, MAX_DESCRIPTION_CHARS, false).map_err(bad)?;
    let kind = CampaignKind::parse(&f.kind).ok_or_else(|| AppError::invalid_param("kind"))?;
    let period = Period::new(
        date(&f.starts_on, "starts_on")?,
        date(&f.ends_on, "ends_on")?,
    )
    .map_err(bad)?;
    let assignment =
        AssignmentWay::parse(&f.assignment).ok_or_else(|| AppError::invalid_param("assignment"))?;
    let target = match f.target.trim() {
        "villages" => Target::Villages(ids(&f.villages, "villages")?),
        "grids" => Target::Grids(ids(&f.grids, "grids")?),
        "flag" => Target::Flag {
            flag: ResidentFlag::parse(&f.flag).ok_or_else(|| AppError::invalid_param("flag"))?,
            villages: ids(&f.villages, "villages")?,
        },
        "project" => Target::Project(
            opt_id::<i64>(Some(&f.target_project), "target_project")?
                .ok_or_else(|| AppError::invalid_param("target_project"))?,
        ),
        "households" => Target::Households(keyed_households(state, c, f, files).await?),
        _ => return Err(AppError::invalid_param("target")),
    }
    .checked()
    .map_err(bad)?;
    let escalate_after = match f.escalate_after.trim() {
        "" => Rules::default().escalate_after,
        n => n.parse().map_err(|_| bad(CampaignError::EscalateAfter))?,
    };
    let rules = Rules {
        escalate_after,
        reached_on_refused: !f.reached_on_refused.trim().is_empty(),
        open_to_scope: !f.open_to_scope.trim().is_empty(),
    }
    .checked()
    .map_err(bad)?;
    let notice_id = opt_id(Some(&f.notice), "notice")?;
    let project_id: Option<ProjectId> = opt_id(Some(&f.project), "project")?;
    let form = match f.form.trim() {
        "" | "none" => CampaignForm::None,
        "consultation" => CampaignForm::Consultation(
            opt_id(Some(&f.consultation), "consultation")?
                .ok_or_else(|| AppError::invalid_param("consultation"))?,
        ),
        "new" => CampaignForm::New(Box::new(NewConsultation {
            title: c.format("campaign.form_title", &[("title", title.clone())]),
            background: if description.is_empty() {
                title.clone()
            } else {
                description.clone()
            },
            notice_id,
            scope: ScopeKind::Subdistrict,
            village_ids: vec![],
            project_id: None,
            opens_at: period.start(),
            closes_at: period.end(),
            questions: parse_questions(&f.questions)
                .map_err(|e| crate::consultations::consultation_error(&e, c))?,
        })),
        _ => return Err(AppError::invalid_param("form")),
    };
    Ok(NewCampaign {
        title,
        kind,
        description,
        period,
        notice_id,
        project_id,
        form,
        assignment,
        target,
        rules,
    })
}

#[derive(Template)]
#[template(path = "campaign_form.html")]
struct FormPage {
    c: Chrome,
    f: CreateForm,
    kinds: Vec<(&'static str, String)>,
    flags: Vec<(&'static str, String)>,
    villages: Vec<(i64, String)>,
    grids: Vec<(i64, String)>,
    projects: Vec<(ProjectId, String)>,
    notices: Vec<(i64, String)>,
    consultations: Vec<(i64, String)>,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    f: CreateForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (villages, projects) = crate::notices::names(state).await?;
    let c = Chrome::new(ctx, "campaign.new_title");
    let grids = state
        .store
        .grids(None)
        .await?
        .into_iter()
        .map(|g| (g.id, format!("{} · {}", g.village_name, g.name)))
        .collect();
    let notices = state
        .store
        .notices(&yongxin_store::NoticeQuery {
            page: 1,
            per_page: 200,
            ..yongxin_store::NoticeQuery::default()
        })
        .await?
        .notices
        .into_iter()
        .map(|n| (n.id, n.title))
        .collect();
    let consultations = state
        .store
        .consultations()
        .await?
        .into_iter()
        .map(|k| (k.id, k.title))
        .collect();
    let kinds = CampaignKind::ALL
        .iter()
        .map(|k| (k.code(), kind_name(c.catalog, *k)))
        .collect();
    let flags = ResidentFlag::ALL
        .iter()
        .map(|f| {
            (
                f.code(),
                c.catalog.t(&format!("flag.{}", f.code())).to_owned(),
            )
        })
        .collect();
    let mut response = render(&FormPage {
        c,
        f,
        kinds,
        flags,
        villages,
        grids,
        projects,
        notices,
        consultations,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /campaigns/new`: those who run campaigns.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn new_campaign(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::RunCampaign)?;
    let today = local_day(Utc::now());
    let f = CreateForm {
        kind: "policy".into(),
        starts_on: today.to_string(),
        ends_on: (today + chrono::Duration::days(9)).to_string(),
        form: "none".into(),
        assignment: "grid".into(),
        target: "villages".into(),
        escalate_after: Rules::default().escalate_after.to_string(),
        questions: ctx
            .lang
            .catalog()
            .t("campaign.example_questions")
            .to_owned(),
        ..CreateForm::default()
    };
    form_page(&state, &ctx, f, None).await
}

/// `POST /campaigns`: those who run campaigns; a list of household keys may come as a file.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormWithFiles<CreateForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunCampaign)?.clone();
    let c = ctx.lang.catalog();
    let f = form.fields;
    let new = match checked_campaign(&state, c, &f, &form.files).await {
        Ok(n) => n,
        Err(e) => return form_page(&state, &ctx, f, Some(e.in_words(c))).await,
    };
    match state.store.create_campaign(&user.actor(), new).await {
        Ok(created) => Ok(Redirect::to(&format!("/campaigns/{}", created.id)).into_response()),
        Err(yongxin_store::StoreError::Invalid { field, .. }) => {
            let message = c.format(
                "campaign.error.invalid_field",
                &[("field", c.t(&format!("campaign.field.{field}")).to_owned())],
            );
            form_page(&state, &ctx, f, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One group of coverage as a table row.
struct GroupRow {
    name: String,
    n: Counts,
}

/// One day of the burn-down as a table row.
struct DayRow {
    day: String,
    left: String,
    pace: i64,
    reached: i64,
}

/// A concern raised at the door, as listed.
struct ConcernRow {
    appeal_id: i64,
    number: String,
    title: String,
    address: String,
    status: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct ShowPage {
    c: Chrome,
    k: Campaign,
    kind: String,
    state: String,
    n: Counts,
    whole: bool,
    may_visit: bool,
    chart: String,
    days: Vec<DayRow>,
    /// By village, then by grid: the heading's key and the rows.
    coverage: Vec<(&'static str, Vec<GroupRow>)>,
    cadres: Vec<(String, GroupRow)>,
    concerns: Vec<ConcernRow>,
    rules: String,
}

/// `GET /campaigns/{id}`: its progress, over the whole for those who run campaigns, over a
/// cadre's own households for a cadre.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let access = campaign_for(&state, user, id).await?;
    let k = access.campaign.clone();
    let mut c = Chrome::new(&ctx, "campaign.title");
    c.title = k.title.clone();
    let totals = state.store.campaign_totals(id, access.cadre).await?;
    let group = |by| state.store.campaign_coverage(id, by, access.cadre);
    let rows = |groups: Vec<yongxin_store::CoverageGroup>| -> Vec<GroupRow> {
        groups
            .into_iter()
            .map(|g| GroupRow {
                name: g.name,
                n: Counts::new(&g.totals),
            })
            .collect()
    };
    let villages = rows(group(CoverageBy::Village).await?);
    let grids = rows(group(CoverageBy::Grid).await?);
    let cadres = if access.cadre.is_none() {
        group(CoverageBy::Cadre)
            .await?
            .into_iter()
            .map(|g| {
                (
                    g.key.clone(),
                    GroupRow {
                        name: if g.key.is_empty() {
                            c.t("campaign.unassigned").to_owned()
                        } else {
                            g.name
                        },
                        n: Counts::new(&g.totals),
                    },
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let today = local_day(Utc::now());
    let settled = if access.cadre.is_none() {
        state.store.campaign_settled_per_day(id).await?
    } else {
        BTreeMap::new()
    };
    let by_day: BTreeMap<String, i64> = group(CoverageBy::Day)
        .await?
        .into_iter()
        .map(|g| (g.key, g.totals.reached))
        .collect();
    let burn = burn_down(totals.target, k.period(), &settled, today);
    let chart = super::burn_down::svg(
        "burn",
        &burn,
        totals.target,
        c.t("campaign.burn_down"),
        &c.catalog.format(
            "campaign.burn_down_desc",
            &[
                ("target", totals.target.to_string()),
                ("left", totals.left().to_string()),
            ],
        ),
    );
    let days = burn
        .iter()
        .map(|b| DayRow {
            day: b.day.to_string(),
            left: b.left.map(|l| l.to_string()).unwrap_or_default(),
            pace: b.pace,
            reached: by_day.get(&b.day.to_string()).copied().unwrap_or(0),
        })
        .collect();
    let concerns = if access.cadre.is_none() {
        state
            .store
            .campaign_concerns(id)
            .await?
            .into_iter()
            .map(|x| ConcernRow {
                appeal_id: x.appeal_id.get(),
                number: yongxin_domain::appeal::appeal_number(x.appeal_id.get(), x.created_at),
                title: x.title,
                address: x.address,
                status: c.t(&format!("appeal.status.{}", x.status)).to_owned(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let rules = c.catalog.format(
        if k.reached_on_refused {
            "campaign.rules_refused"
        } else {
            "campaign.rules_met"
        },
        &[("n", k.escalate_after.to_string())],
    );
    render(&ShowPage {
        kind: kind_name(c.catalog, k.kind),
        state: c.t(state_key(&k)).to_owned(),
        n: Counts::new(&totals),
        whole: access.cadre.is_none(),
        // Visits are taken within the campaign's days only.
        may_visit: user.role.may(Permission::VisitHouseholds)
            && state_key(&k) != "campaign.state.ended",
        chart,
        days,
        coverage: vec![
            ("campaign.by_village", villages),
            ("campaign.by_grid", grids),
        ],
        cadres,
        concerns,
        rules,
        k,
        c,
    })
}

/// The households page's filters.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct HouseholdsQuery {
    cadre: String,
    village: String,
    grid: String,
    /// `unreached` (default), `open`, `escalated` or `all`.
    show: String,
    household: String,
    page: String,
    /// `xlsx` or `csv`: every household the filters select, as a file.
    format: String,
}

/// A household row as the pages list it.
pub struct HouseholdRow {
    id: i64,
    key: String,
    address: String,
    place: String,
    head: String,
    cadre: String,
    attempts: i64,
    last: String,
    escalated: bool,
    settled: bool,
}

fn household_row(c: &Catalog, h: &CampaignHousehold) -> HouseholdRow {
    HouseholdRow {
        id: h.household_id.get(),
        key: h.key.clone(),
        address: h.address.clone(),
        place: format!("{} · {}", h.village_name, h.grid_name),
        head: h.head_name.clone().unwrap_or_default(),
        cadre: h
            .cadre_name
            .clone()
            .unwrap_or_else(|| c.t("campaign.unassigned").to_owned()),
        attempts: h.attempts,
        last: match (h.last_outcome, h.last_visit_at) {
            (Some(o), Some(at)) => format!(
                "{} {}",
                outcome_name(c, o),
                yongxin_domain::time::display_local(at)
            ),
            _ => String::new(),
        },
        escalated: h.escalated,
        settled: h.settled,
    }
}

/// A visit as listed.
pub struct VisitRow {
    id: i64,
    at: String,
    outcome: String,
    cadre: String,
    note: String,
    current: bool,
    appeals: Vec<(i64, String)>,
}

fn visit_row(c: &Catalog, v: &Visit) -> VisitRow {
    VisitRow {
        id: v.id,
        at: yongxin_domain::time::display_local(v.visited_at),
        outcome: outcome_name(c, v.outcome),
        cadre: v.cadre_name.clone(),
        note: v.note.clone(),
        current: v.current,
        appeals: v
            .appeals
            .iter()
            .map(|(id, n)| (id.get(), n.clone()))
            .collect(),
    }
}

/// One household's visits and assignments: its name, the visits, and each assignment's cadre,
/// reason, actor and time.
type HouseholdHistory = (String, Vec<VisitRow>, Vec<(String, String, String, String)>);

#[derive(Template)]
#[template(path = "campaign_households.html")]
struct HouseholdsPage {
    c: Chrome,
    k: Campaign,
    q: HouseholdsQuery,
    rows: Vec<HouseholdRow>,
    total: i64,
    page: i64,
    pages: i64,
    whole: bool,
    cadres: Vec<(i64, String)>,
    villages: Vec<(i64, String)>,
    history: Option<HouseholdHistory>,
    message: Option<String>,
}

/// The cadres a campaign's households may go to: everyone who visits households.
async fn visiting_cadres(state: &AppState) -> Result<Vec<User>, AppError> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && u.role.may(Permission::VisitHouseholds))
        .collect())
}

async fn households_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: HouseholdsQuery,
    message: Option<String>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let access = campaign_for(state, user, id).await?;
    let mut c = Chrome::new(ctx, "campaign.households_title");
    c.title = format!("{} · {}", access.campaign.title, c.title);
    let page: i64 = opt_id(Some(&q.page), "page")?.unwrap_or(1);
    let show = q.show.trim();
    let query = CampaignHouseholdQuery {
        cadre_user_id: access.cadre.or(opt_id(Some(&q.cadre), "cadre")?),
        unreached: matches!(show, "" | "unreached"),
        open: show == "open",
        escalated: show == "escalated",
        village_id: opt_id(Some(&q.village), "village")?,
        grid_id: opt_id(Some(&q.grid), "grid")?,
        page,
        per_page: 100,
        ..CampaignHouseholdQuery::default()
    };
    if let Some(format) = crate::http::sheet::requested(Some(&q.format))? {
        let rows = every_household(state, id, query).await?;
        let table = households_table(c.catalog, &rows);
        return crate::http::sheet::download(&table, format, &format!("campaign-{id}-households"));
    }
    let listed = state.store.campaign_households(id, &query).await?;
    let history = match opt_id::<HouseholdId>(Some(&q.household), "household")? {
        Some(h) => {
            let place = state
                .store
                .campaign_household(id, h)
                .await?
                .ok_or_else(AppError::not_found)?;
            if access
                .cadre
                .is_some_and(|me| place.cadre_user_id != Some(me))
            {
                return Err(AppError::forbidden());
            }
            let visits = state.store.household_visits(id, h).await?;
            let assignments = state
                .store
                .campaign_assignments(id, h)
                .await?
                .into_iter()
                .map(|(who, why, by, at)| {
                    (
                        who.unwrap_or_else(|| c.t("campaign.unassigned").to_owned()),
                        c.t(&format!("campaign.why.{why}")).to_owned(),
                        by,
                        yongxin_domain::time::display_local(at),
                    )
                })
                .collect();
            Some((
                format!("{} {}", place.key, place.address),
                visits.iter().map(|v| visit_row(c.catalog, v)).collect(),
                assignments,
            ))
        }
        None => None,
    };
    let whole = access.cadre.is_none();
    let cadres = if whole {
        visiting_cadres(state)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let villages = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    render(&HouseholdsPage {
        rows: listed
            .rows
            .iter()
            .map(|h| household_row(c.catalog, h))
            .collect(),
        total: listed.total,
        page: listed.page,
        pages: (listed.total + listed.per_page - 1) / listed.per_page.max(1),
        k: access.campaign,
        q,
        whole,
        cadres,
        villages,
        history,
        message,
        c,
    })
}

/// `GET /campaigns/{id}/households`: the households still to reach (or all, open, escalated),
/// with their cadre and attempts; those who run campaigns assign them here.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn households(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    PageQuery(q): PageQuery<HouseholdsQuery>,
) -> Result<Response, AppError> {
    households_page(&state, &ctx, id, q, None).await
}

/// Households ticked to give to a cadre.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AssignForm {
    households: Vec<String>,
    cadre: String,
}

async fn cadre_who_visits(state: &AppState, id: &str, name: &str) -> Result<i64, AppError> {
    let id: i64 = opt_id(Some(id), name)?.ok_or_else(|| AppError::invalid_param(name))?;
    visiting_cadres(state)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .map(|u| u.id)
        .ok_or_else(|| AppError::invalid_param(name))
}

/// `POST /campaigns/{id}/assign`: those who run campaigns give ticked households to a cadre.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<AssignForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunCampaign)?.clone();
    campaign_for(&state, &user, id).await?;
    let cadre = cadre_who_visits(&state, &f.cadre, "cadre").await?;
    let households: Vec<HouseholdId> = ids(&f.households, "households")?
        .into_iter()
        .map(HouseholdId)
        .collect();
    if households.is_empty() {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("campaign.error.none_ticked"),
        ));
    }
    let n = state
        .store
        .assign_campaign_households(&user.actor(), id, &households, Some(cadre))
        .await?;
    households_moved(&state, &ctx, id, n).await
}

/// The households page after `n` households changed hands.
async fn households_moved(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    n: u64,
) -> Result<Response, AppError> {
    let message = ctx
        .lang
        .catalog()
        .format("campaign.assigned", &[("n", n.to_string())]);
    households_page(state, ctx, id, HouseholdsQuery::default(), Some(message)).await
}

/// A cadre's open households to hand to another.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReassignForm {
    from: String,
    to: String,
}

/// `POST /campaigns/{id}/reassign`: every household a cadre has still to settle goes to another.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn reassign(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ReassignForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunCampaign)?.clone();
    campaign_for(&state, &user, id).await?;
    let from: i64 =
        opt_id(Some(&f.from), "from")?.ok_or_else(|| AppError::invalid_param("from"))?;
    let to = cadre_who_visits(&state, &f.to, "to").await?;
    let n = state
        .store
        .reassign_open_households(&user.actor(), id, from, to)
        .await?;
    households_moved(&state, &ctx, id, n).await
}

/// A household on the phone page.
#[derive(Clone)]
pub struct WalkRow {
    id: i64,
    key: String,
    address: String,
    head: String,
    grid: String,
    attempts: i64,
    last: String,
    settled: bool,
    escalated: bool,
    /// Members as `id:name` pairs joined by `|`, for the script's member boxes.
    members: String,
}

#[derive(Template)]
#[template(path = "campaign_walk.html")]
struct WalkPage {
    c: Chrome,
    k: Campaign,
    rows: Vec<WalkRow>,
    open: usize,
    questions: Vec<QuestionView>,
    outcomes: Vec<(&'static str, String)>,
    /// The outcomes of a door that opened, whose buttons come after the form.
    talked: [&'static str; 2],
    categories: Vec<(String, String)>,
    /// The household the plain form is for (without the script).
    chosen: Option<WalkRow>,
    members: Vec<(i64, String)>,
    client_id: String,
    /// When this form was opened, which the plain form sends as the visit's time.
    opened_at: String,
    saved: Option<String>,
}

/// The phone page's query: a household chosen (without the script), the one just saved.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct WalkQuery {
    household: String,
    saved: String,
}

/// Every household of a campaign a query selects, page after page.
async fn every_household(
    state: &AppState,
    id: i64,
    mut query: CampaignHouseholdQuery,
) -> Result<Vec<CampaignHousehold>, AppError> {
    let mut all = Vec::new();
    query.per_page = 500;
    query.page = 1;
    loop {
        let p = state.store.campaign_households(id, &query).await?;
        let done = p.rows.len() < 500;
        all.extend(p.rows);
        if done {
            return Ok(all);
        }
        query.page += 1;
    }
}

/// A campaign's households as a table for .xlsx and .csv.
fn households_table(c: &Catalog, rows: &[CampaignHousehold]) -> Vec<Vec<String>> {
    let mut table = vec![[
        "campaign.col.cadre",
        "campaign.col.village",
        "campaign.col.grid",
        "campaign.col.key",
        "campaign.col.address",
        "campaign.col.head",
        "campaign.col.attempts",
        "campaign.col.not_home_days",
        "campaign.col.last",
        "campaign.col.escalated",
    ]
    .iter()
    .map(|k| c.t(k).to_owned())
    .collect::<Vec<_>>()];
    for h in rows {
        let r = household_row(c, h);
        table.push(vec![
            r.cadre,
            h.village_name.clone(),
            h.grid_name.clone(),
            r.key,
            r.address,
            r.head,
            r.attempts.to_string(),
            h.not_home_days.to_string(),
            r.last,
            if r.escalated {
                c.t("campaign.yes").to_owned()
            } else {
                String::new()
            },
        ]);
    }
    table
}

/// The cadre's households in walking order: grid, then address as a person walks it.
async fn walk_rows(
    state: &AppState,
    c: &Catalog,
    k: &Campaign,
    user: &User,
) -> Result<Vec<WalkRow>, AppError> {
    let mut all = every_household(
        state,
        k.id,
        CampaignHouseholdQuery {
            cadre_user_id: Some(user.id),
            ..CampaignHouseholdQuery::default()
        },
    )
    .await?;
    all.sort_by(|a, b| {
        a.settled
            .cmp(&b.settled)
            .then_with(|| a.grid_code.cmp(&b.grid_code))
            .then_with(|| walking_order(&a.address, &b.address))
    });
    let members = state
        .store
        .members_of(&all.iter().map(|h| h.household_id).collect::<Vec<_>>())
        .await?;
    Ok(all
        .iter()
        .map(|h| {
            let r = household_row(c, h);
            WalkRow {
                id: r.id,
                key: r.key,
                address: r.address,
                head: r.head,
                grid: h.grid_name.clone(),
                attempts: r.attempts,
                last: r.last,
                settled: r.settled,
                escalated: r.escalated,
                members: members
                    .get(&h.household_id)
                    .map(|m| {
                        m.iter()
                            .map(|(id, name)| format!("{id}:{}", name.replace(['|', ':'], " ")))
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// `GET /campaigns/{id}/walk`: the phone page of a cadre who visits: their households in
/// walking order and the visit form. With its script it works offline; without, choosing a
/// household opens the form for it.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn walk(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    PageQuery(q): PageQuery<WalkQuery>,
) -> Result<Response, AppError> {
    walk_page(&state, &ctx, id, q).await
}

async fn walk_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: WalkQuery,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::VisitHouseholds)?;
    let access = campaign_for(state, user, id).await?;
    let k = access.campaign;
    let mut c = Chrome::new(ctx, "campaign.walk_title");
    c.title = format!("{} · {}", k.title, c.title);
    let rows = walk_rows(state, c.catalog, &k, user).await?;
    let chosen_id: Option<i64> = opt_id(Some(&q.household), "household")?;
    let chosen = match chosen_id {
        Some(h) => Some(
            rows.iter()
                .find(|r| r.id == h)
                .cloned()
                .ok_or_else(AppError::forbidden)?,
        ),
        None => None,
    };
    let members = chosen
        .as_ref()
        .map(|r| {
            r.members
                .split('|')
                .filter_map(|m| m.split_once(':'))
                .filter_map(|(id, name)| Some((id.parse().ok()?, name.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let questions = match k.consultation_id {
        Some(form) => match state.store.consultation(form).await? {
            Some(form) => question_views(c.catalog, &form, None),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let categories = state
        .categories()
        .await?
        .iter()
        .filter(|(_, active)| *active)
        .map(|(cat, _)| {
            let name = if c.lang == crate::http::i18n::Lang::En {
                &cat.name_en
            } else {
                &cat.name_zh
            };
            (cat.code.clone(), name.clone())
        })
        .collect();
    let outcomes = VisitOutcome::ALL
        .iter()
        .map(|o| (o.code(), outcome_name(c.catalog, *o)))
        .collect();
    let saved = Some(q.saved.trim().to_owned()).filter(|s| !s.is_empty());
    let mut response = render(&WalkPage {
        open: rows.iter().filter(|r| !r.settled).count(),
        rows,
        questions,
        outcomes,
        talked: [VisitOutcome::Met.code(), VisitOutcome::Refused.code()],
        categories,
        chosen,
        members,
        // A fresh id for this form: posting it twice (a double tap, a resend) stores one visit.
        client_id: crate::http::auth::random_token(),
        opened_at: Utc::now().to_rfc3339(),
        saved,
        k,
        c,
    })?;
    // The service worker keeps its own copy; the browser's cache must not serve a stale list.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    Ok(response)
}

/// A visit posted by the phone page's plain form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WalkForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    household_id: String,
    /// When the form was opened at the door (RFC 3339): the visit's time, the same however often
    /// the form is sent.
    #[serde(default)]
    visited_at: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    concern_category: String,
    #[serde(default)]
    concern_description: String,
    #[serde(flatten)]
    questions: QuestionFields,
}

/// `POST /campaigns/{id}/walk`: a visit from the plain form, recorded at the time it arrives.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn walk_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    form: FormWithFiles<WalkForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::VisitHouseholds)?;
    let access = campaign_for(&state, user, id).await?;
    let f = form.fields;
    let household: HouseholdId = opt_id(Some(&f.household_id), "household_id")?
        .ok_or_else(|| AppError::invalid_param("household_id"))?;
    let answers = match access.campaign.consultation_id {
        Some(k) if f.outcome.trim() == "met" => {
            let form = state
                .store
                .consultation(k)
                .await?
                .ok_or_else(AppError::not_found)?;
            answers_from_form(&form, &f.questions)?
                .into_iter()
                .filter(|(_, a)| !matches!(a, yongxin_domain::consultation::GivenAnswer::Options(o) if o.is_empty()))
                .collect()
        }
        _ => BTreeMap::new(),
    };
    let concerns = if f.concern_description.trim().is_empty() {
        Vec::new()
    } else {
        vec![ConcernInput {
            category: f.concern_category.clone(),
            description: f.concern_description.clone(),
            contact_phone: None,
        }]
    };
    let input = VisitInput {
        client_id: f.client_id.clone(),
        household_id: household,
        visited_at: match f.visited_at.trim() {
            "" => Utc::now(),
            t => chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::invalid_param("visited_at"))?,
        },
        outcome: f.outcome.clone(),
        members: ids(&f.members, "members")?,
        answers,
        note: f.note.clone(),
        concerns,
        photos: form.photos,
    };
    let visit = match record(&state, &ctx, &access, input).await? {
        VisitRecorded::Stored(v) | VisitRecorded::Replayed(v) => v,
    };
    let key = state
        .store
        .campaign_household(id, visit.household_id)
        .await?
        .map(|h| h.key)
        .unwrap_or_default();
    Ok(Redirect::to(&format!("/campaigns/{id}/walk?saved={key}")).into_response())
}

/// The walk sheet's query.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SheetQuery {
    cadre: String,
    format: String,
}

#[derive(Template)]
#[template(path = "campaign_sheet.html")]
struct SheetPage {
    c: Chrome,
    k: Campaign,
    groups: Vec<(String, Vec<HouseholdRow>)>,
    cadre: String,
}

/// `GET /campaigns/{id}/sheet`: the unreached households by cadre, to print and walk with
/// (走访清单), or as .xlsx or .csv (`format=`).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn sheet(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    PageQuery(q): PageQuery<SheetQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let access = campaign_for(&state, user, id).await?;
    let k = access.campaign;
    let c = ctx.lang.catalog();
    let mut rows = every_household(
        &state,
        id,
        CampaignHouseholdQuery {
            cadre_user_id: access.cadre.or(opt_id(Some(&q.cadre), "cadre")?),
            unreached: true,
            ..CampaignHouseholdQuery::default()
        },
    )
    .await?;
    rows.sort_by(|a, b| {
        a.cadre_name
            .cmp(&b.cadre_name)
            .then_with(|| a.grid_code.cmp(&b.grid_code))
            .then_with(|| walking_order(&a.address, &b.address))
    });
    if let Some(format) = SheetFormat::parse(&q.format) {
        let table = households_table(c, &rows);
        return crate::http::sheet::download(&table, format, &format!("campaign-{id}-unreached"));
    }
    let mut groups: Vec<(String, Vec<HouseholdRow>)> = Vec::new();
    for h in &rows {
        let r = household_row(c, h);
        match groups.last_mut() {
            Some((name, list)) if *name == r.cadre => list.push(r),
            _ => groups.push((r.cadre.clone(), vec![r])),
        }
    }
    let mut chrome = Chrome::new(&ctx, "campaign.sheet_title");
    chrome.title = format!("{} · {}", k.title, chrome.title);
    render(&SheetPage {
        c: chrome,
        cadre: q.cadre,
        k,
        groups,
    })
}

#[derive(Template)]
#[template(path = "campaign_visit.html")]
struct VisitPage {
    c: Chrome,
    k: Campaign,
    v: Visit,
    row: VisitRow,
    household: String,
    members: Vec<String>,
    answers: Vec<(String, String)>,
    photos: Vec<String>,
    may_correct: bool,
    outcomes: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// A visit with the campaign it belongs to, loaded for a user: those who run campaigns, the cadre
/// who recorded it, and the village officer of its household.
async fn visit_for(
    state: &AppState,
    user: &User,
    id: i64,
    visit_id: i64,
) -> Result<(CampaignAccess, Visit, CampaignHousehold), AppError> {
    let access = campaign_for(state, user, id).await?;
    let v = state
        .store
        .visit(id, visit_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let h = state
        .store
        .campaign_household(id, v.household_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let officer_here = user.role == Role::VillageOfficer && user.village_id == Some(h.village_id);
    if access.cadre.is_some() && v.cadre_user_id != user.id && !officer_here {
        return Err(AppError::forbidden());
    }
    Ok((access, v, h))
}

async fn visit_page(
    state: &AppState,
    ctx: &Ctx,
    (id, visit_id): (i64, i64),
    error: Option<String>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (access, v, h) = visit_for(state, user, id, visit_id).await?;
    let mut c = Chrome::new(ctx, "campaign.visit_title");
    c.title = format!("{} · {}", access.campaign.title, c.title);
    let detail = state.store.household(v.household_id).await?;
    let members = detail
        .members
        .iter()
        .filter(|m| v.members.contains(&m.id))
        .map(|m| m.name.clone())
        .collect();
    let answers = match access.campaign.consultation_id {
        Some(form) => match state.store.consultation(form).await? {
            Some(form) => form
                .questions
                .iter()
                .filter_map(|q| {
                    let given = v.answers.get(&q.id)?;
                    let label = |o: &i64| {
                        q.options
                            .iter()
                            .find(|(id, _)| id == o)
                            .map(|(_, l)| l.clone())
                            .unwrap_or_default()
                    };
                    use yongxin_domain::consultation::GivenAnswer as G;
                    let text = match given {
                        G::Option(o) => label(o),
                        G::Options(os) => ctx.lang.catalog().join(os.iter().map(label)),
                        G::Text(t) => t.clone(),
                    };
                    Some((q.prompt.clone(), text))
                })
                .collect(),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let may_correct = v.current
        && yongxin_domain::campaign::may_correct(
            corrector(user),
            yongxin_domain::campaign::Recorded {
                cadre_user_id: v.cadre_user_id,
                received_at: v.received_at,
                village_id: h.village_id,
            },
            Utc::now(),
            "with a reason",
        )
        .is_ok();
    let photos = v
        .photos
        .iter()
        .map(|(_, token)| format!("/campaigns/{id}/visits/{}/photos/{token}", v.id))
        .collect();
    render(&VisitPage {
        row: visit_row(c.catalog, &v),
        household: format!("{} {}", h.key, h.address),
        members,
        answers,
        photos,
        may_correct,
        outcomes: VisitOutcome::ALL
            .iter()
            .map(|o| (o.code(), outcome_name(c.catalog, *o)))
            .collect(),
        error,
        k: access.campaign,
        v,
        c,
    })
}

fn corrector(user: &User) -> Corrector {
    Corrector {
        user_id: user.id,
        role: user.role,
        village_id: user.village_id,
    }
}

/// `GET /campaigns/{id}/visits/{visit_id}`: a visit, its cases and photos, and the correction
/// form for who may correct it.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, visit_id)): Ids<(i64, i64)>,
) -> Result<Response, AppError> {
    visit_page(&state, &ctx, (id, visit_id), None).await
}

/// A correction as posted.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CorrectForm {
    outcome: String,
    note: String,
    reason: String,
}

/// `POST /campaigns/{id}/visits/{visit_id}/correct`: the cadre who recorded it within a day, or
/// the household's village officer with a reason, replaces a visit's outcome and note (its
/// answers and members stay as recorded).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn correct(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, visit_id)): Ids<(i64, i64)>,
    CsrfForm(f): CsrfForm<CorrectForm>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let c = ctx.lang.catalog();
    let (_, v, _) = visit_for(&state, &user, id, visit_id).await?;
    let bad = |e: CampaignError| campaign_error(&e, c);
    let outcome = VisitOutcome::parse(&f.outcome)
        .ok_or_else(|| AppError::invalid_input("outcome", c.t("campaign.error.outcome").into()))?;
    let note = checked_text("note", &f.note, MAX_NOTE_CHARS, false).map_err(bad)?;
    let reason = checked_text("reason", &f.reason, MAX_REASON_CHARS, false).map_err(bad)?;
    let talked = matches!(outcome, VisitOutcome::Met | VisitOutcome::Refused);
    let correction = VisitCorrection {
        by: corrector(&user),
        reason,
        visited_at: v.visited_at,
        outcome,
        members: if talked {
            v.members.clone()
        } else {
            Vec::new()
        },
        answers: if outcome == VisitOutcome::Met {
            v.answers.clone()
        } else {
            BTreeMap::new()
        },
        note,
    };
    match state
        .store
        .correct_visit(&user.actor(), id, visit_id, correction)
        .await?
    {
        Ok(new) => Ok(Redirect::to(&format!("/campaigns/{id}/visits/{}", new.id)).into_response()),
        Err(r) => {
            let e = AppError::from_visit_refusal(&r, c);
            if e.status == axum::http::StatusCode::FORBIDDEN {
                return Err(e);
            }
            let mut page = visit_page(&state, &ctx, (id, visit_id), Some(e.in_words(c))).await?;
            *page.status_mut() = e.status;
            Ok(page)
        }
    }
}

/// `GET /campaigns/{id}/visits/{visit_id}/photos/{token}`: a visit's photo, cleaned of its
/// location as it is served, for those who may see the visit.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, visit_id, token)): Ids<(i64, i64, String)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    visit_for(&state, user, id, visit_id).await?;
    let (kind, upload) = state
        .store
        .visit_photo(visit_id, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let clean = yongxin_domain::photo::clean(&upload, usize::MAX).map_err(|e| {
        tracing::warn!(visit.id = visit_id, error.message = %e, "stored photo does not clean");
        AppError::not_found()
    })?;
    Ok(crate::http::upload::photo_response(&kind, clean.bytes))
}

const SERVICE_WORKER: &str = include_str!("../../static/walk-sw.js");

/// `GET /campaigns/sw.js`: the service worker that keeps the phone page and its assets, so a
/// cadre can reload it where there is no signal. It lives here so that its scope is
/// `/campaigns/`.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SERVICE_WORKER,
    )
        .into_response()
}
