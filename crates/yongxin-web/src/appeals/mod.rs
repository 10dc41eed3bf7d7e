//! Appeal intake and actions as every channel shares them (pages, JSON API, Open311): who may do
//! what, turning input into domain values, and errors in the user's language.

mod api;
pub mod open311;
mod pages;

use crate::http::context::percent_encode;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::routes::BodyLimits;
use crate::http::routes::Routes;
use crate::AppState;
use serde::Deserialize;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa::ToSchema;
use yongxin_domain::appeal::AppealAction;
use yongxin_domain::appeal::AppealStatus;
use yongxin_domain::appeal::Channel;
use yongxin_domain::appeal::Rating;
use yongxin_domain::catalogue::Category;
use yongxin_domain::Actor;
use yongxin_domain::Permission;
use yongxin_store::Appeal;
use yongxin_store::AppealQuery;
use yongxin_store::User;
use yongxin_store::{AppealId, HouseholdId};

use chrono::Utc;
use yongxin_domain::appeal::check_text;
use yongxin_domain::appeal::AppealError;
use yongxin_domain::appeal::Urgency;
use yongxin_domain::calendar::start_of_day;
use yongxin_domain::catalogue::AnswerError;
use yongxin_domain::scorecard::{ScoreFigure, ScoreGroup};
use yongxin_domain::Email;
use yongxin_domain::Phone;
use yongxin_domain::Role;
use yongxin_domain::Scope;
use yongxin_store::AppealPage;
use yongxin_store::AppealScope;
use yongxin_store::FigureFilter;
use yongxin_store::NewAppeal;

use crate::http::i18n::Catalog;

/// What someone asks for, before any check.
#[derive(Debug, Clone, Default)]
pub struct IntakeInput {
    /// Category code.
    pub category: String,
    /// `normal` or `urgent` (default normal).
    pub urgency: Option<String>,
    /// Channel code, for desk entry; residents always use `web`.
    pub channel: Option<String>,
    /// Short title (default: the start of the description).
    pub title: Option<String>,
    /// What happened.
    pub description: String,
    /// Answers to the category's extra questions.
    pub answers: BTreeMap<String, Vec<String>>,
    /// Where.
    pub address: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Contact name (required unless a signed-in resident).
    pub contact_name: Option<String>,
    /// Contact phone (required unless a signed-in resident with a phone on record).
    pub contact_phone: Option<String>,
    /// Contact e-mail: when given, notifications go there instead of by SMS.
    pub contact_email: Option<String>,
    /// Household key, for desk entry on behalf of a registered household.
    pub household_id: Option<HouseholdId>,
    /// The Open311 client that relays it (channel `open311`, recorded as `open311:NAME`).
    pub client: Option<String>,
    /// Photos of what happened.
    pub photos: Vec<crate::http::upload::Upload>,
}

/// Which appeals a user sees: those where the registry part of their scope is, and those they
/// handle (a cadre) or filed (a resident).
pub fn scope_of(user: &User) -> Option<AppealScope> {
    let own = || AppealScope::Cadre {
        grids: Vec::new(),
        user_id: user.id,
    };
    Some(match user.scope() {
        Scope::Subdistrict => AppealScope::All,
        Scope::Village(v) => AppealScope::Village(v),
        Scope::Grids(grids) => AppealScope::Cadre {
            grids,
            user_id: user.id,
        },
        Scope::Nothing if user.role.may(Permission::WorkInOffice) => own(),
        Scope::Household(_) | Scope::Nothing => AppealScope::Resident {
            user_id: user.id,
            household_id: user.household_id,
        },
    })
}

/// The list filters every channel offers (pages, JSON API, export), as the user typed them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListFilters<'a> {
    /// Words to search for.
    pub q: Option<&'a str>,
    /// Status code.
    pub status: Option<&'a str>,
    /// Category code.
    pub category: Option<&'a str>,
    /// Village id.
    pub village: Option<&'a str>,
    /// Only open cases past a deadline they have not met.
    pub overdue: bool,
    /// First day of the period (YYYY-MM-DD, Shanghai).
    pub from: Option<&'a str>,
    /// Last day of the period, included.
    pub to: Option<&'a str>,
    /// Only the cases behind this scorecard figure (the period is then the scorecard's).
    pub figure: Option<&'a str>,
    /// The scorecard's grouping.
    pub group_by: Option<&'a str>,
    /// The group's key (empty: cases with none).
    pub key: Option<&'a str>,
}

/// The first and last days a period without bounds covers.
const EARLIEST: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => chrono::NaiveDate::MIN,
};
const LATEST: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2999, 12, 31) {
    Some(d) => d,
    None => chrono::NaiveDate::MAX,
};

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

impl ListFilters<'_> {
    /// The query within what `user` sees.
    pub fn query(&self, user: &User, page: i64, per_page: i64) -> Result<AppealQuery, AppError> {
        let scope = scope_of(user).ok_or_else(AppError::forbidden)?;
        let status = match given(self.status) {
            Some(s) => {
                Some(AppealStatus::parse(s).ok_or_else(|| AppError::invalid_param("status"))?)
            }
            None => None,
        };
        let day = |v: Option<&str>, name: &str| match given(v) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::invalid_param(name)),
        };
        let from = day(self.from, "from")?;
        let to = day(self.to, "to")?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(AppError::invalid_param("to"));
            }
        }
        let figure = match given(self.figure) {
            None => None,
            Some(f) => {
                let figure =
                    ScoreFigure::parse(f).ok_or_else(|| AppError::invalid_param("figure"))?;
                let group = match given(self.group_by) {
                    None => None,
                    Some(g) => Some((
                        ScoreGroup::parse(g).ok_or_else(|| AppError::invalid_param("group_by"))?,
                        self.key.map(str::trim).unwrap_or_default().to_owned(),
                    )),
                };
                let now = Utc::now();
                Some(FigureFilter {
                    figure,
                    group,
                    // Without a period, all time (bounds a text column compares correctly too).
                    period: (
                        start_of_day(from.unwrap_or(EARLIEST)),
                        start_of_day(to.unwrap_or(LATEST) + chrono::Duration::days(1)),
                    ),
                    now,
                })
            }
        };
        // With a figure, the period is the figure's (filing, or the notices for supervision).
        let filed = |d: Option<chrono::NaiveDate>| d.filter(|_| figure.is_none());
        let (from, to) = (filed(from), filed(to));
        Ok(AppealQuery {
            scope,
            status,
            statuses: Vec::new(),
            category: given(self.category).map(str::to_owned),
            village_id: crate::http::params::parse_opt_id(self.village, "village")?,
            text: given(self.q).map(str::to_owned),
            due_before: self.overdue.then(Utc::now),
            created_from: from.map(start_of_day),
            created_before: to.map(|t| start_of_day(t + chrono::Duration::days(1))),
            figure,
            page,
            per_page,
        })
    }
}

/// Finds appeals: ranked by the full-text index when there is text to search for and the index
/// is built, otherwise (and if the index fails) by the database, newest first. `staff` searches
/// internal notes too.
pub async fn find(state: &AppState, q: &AppealQuery, staff: bool) -> Result<AppealPage, AppError> {
    // The index knows nothing of scorecard figures: the cases behind one come from the database.
    if let Some(index) = state.search.as_ref().filter(|_| q.figure.is_none()) {
        match index.search(q, staff).await {
            Ok(Some(hits)) => {
                let appeals = state.store.appeals_by_ids(&hits.ids).await?;
                return Ok(AppealPage {
                    appeals,
                    total: hits.total,
                    page: q.page,
                    per_page: q.per_page,
                });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "search index failed; asking the database"),
        }
    }
    Ok(state.store.search_appeals(q).await?)
}

/// A case and its events, loaded for a user: one the user does not see is "not found", exactly
/// like one that does not exist, so probing ids tells nothing. Every handler that takes a case
/// by id loads it here.
pub async fn appeal_in_scope(
    state: &AppState,
    user: &User,
    id: AppealId,
) -> Result<(Appeal, Vec<yongxin_store::AppealEvent>), AppError> {
    let (appeal, events) = state.store.appeal(id).await?;
    if !sees(user, &appeal) {
        return Err(AppError::not_found());
    }
    Ok((appeal, events))
}

/// Whether an appeal is within what a user sees.
pub fn sees(user: &User, a: &Appeal) -> bool {
    match scope_of(user) {
        Some(AppealScope::All) => true,
        Some(AppealScope::Village(v)) => a.village_id == Some(v),
        Some(AppealScope::Cadre { grids, user_id }) => {
            a.cadre_user_id == Some(user_id) || a.grid_id.is_some_and(|g| grids.contains(&g))
        }
        Some(AppealScope::Resident {
            user_id,
            household_id,
        }) => {
            a.resident_user_id == Some(user_id)
                || (household_id.is_some() && a.household_id == household_id)
        }
        None => false,
    }
}

fn message_of(e: &AppealError, c: &Catalog) -> String {
    match e {
        AppealError::NotAllowed { action, status } => c.format(
            "appeal.error.not_allowed",
            &[
                ("action", c.t(&format!("appeal.action.{action}")).to_owned()),
                (
                    "status",
                    c.t(&format!("appeal.status.{}", status.code())).to_owned(),
                ),
            ],
        ),
        AppealError::Required { field } => c.format(
            "appeal.error.required",
            &[("field", c.t(&format!("appeal.field.{field}")).to_owned())],
        ),
        AppealError::TooLong { field, max } => c.format(
            "appeal.error.too_long",
            &[
                ("field", c.t(&format!("appeal.field.{field}")).to_owned()),
                ("max", max.to_string()),
            ],
        ),
        AppealError::NoAssignee => c.t("appeal.error.no_assignee").to_owned(),
        AppealError::MergeIntoSelf => c.t("appeal.error.merge_self").to_owned(),
    }
}

/// The lifecycle's refusal as a 400 in the user's language (409 when the state forbids it).
pub fn lifecycle_error(e: &AppealError, c: &Catalog) -> AppError {
    let mut err = AppError::bad_request(message_of(e, c));
    if matches!(e, AppealError::NotAllowed { .. }) {
        err.status = axum::http::StatusCode::CONFLICT;
    }
    err
}

fn answer_messages(errors: &[AnswerError], category: &Category, c: &Catalog) -> String {
    errors
        .iter()
        .map(|e| {
            let label = category
                .questions
                .iter()
                .find(|q| q.code == e.question)
                .map(|q| {
                    if c.lang() == crate::http::i18n::Lang::En {
                        q.label_en.clone()
                    } else {
                        q.label_zh.clone()
                    }
                })
                .unwrap_or_else(|| e.question.clone());
            c.format(
                &format!("appeal.answer.{}", e.reason.code()),
                &[("question", label)],
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks and stores a new appeal from any channel.
pub async fn intake(
    state: &AppState,
    ctx: &Ctx,
    input: IntakeInput,
    default_channel: Channel,
) -> Result<Appeal, AppError> {
    let (actor, appeal, photos) = prepare_intake(state, ctx, input, default_channel, None).await?;
    let appeal = state
        .store
        .create_appeal_with_photos(&actor, appeal, photos)
        .await?;
    state.nudge_search();
    Ok(appeal)
}

/// The limits of an appeal filed without an account, by its client address and by the phone
/// number it gives: `check` refuses early when one is used up, before any work; `count` counts
/// the appeal once it is accepted, so a resident correcting a refused form loses nothing.
fn anonymous_intake_limit(
    state: &AppState,
    ctx: &Ctx,
    phone: &Phone,
    count: bool,
) -> Result<(), AppError> {
    let g = &state.guards;
    let refuse = |wait| AppError::rate_limited(crate::http::security::minutes(wait));
    let limit = |limiter: &crate::http::security::RateLimiter, key: &str, rate| {
        if count {
            limiter.hit(key, rate)
        } else {
            limiter.check(key, rate)
        }
    };
    if let Some(client) = ctx.client_key() {
        limit(
            &g.intake_by_address,
            &client,
            g.limits.anonymous_appeals_per_address,
        )
        .map_err(refuse)?;
    }
    limit(
        &g.intake_by_phone,
        phone.as_str(),
        g.limits.anonymous_appeals_per_phone,
    )
    .map_err(refuse)
}

/// Checks a new appeal from any channel: answers who files it, the appeal and its photos. The
/// category is the input's, among the active ones, unless the caller fixes it (an objection).
pub async fn prepare_intake(
    state: &AppState,
    ctx: &Ctx,
    input: IntakeInput,
    default_channel: Channel,
    fixed_category: Option<yongxin_domain::catalogue::Category>,
) -> Result<(Actor, NewAppeal, Vec<yongxin_store::NewPhoto>), AppError> {
    let c = ctx.lang.catalog();
    let category = match fixed_category {
        Some(category) => category,
        None => state
            .categories()
            .await?
            .iter()
            .find(|(cat, active)| *active && cat.code == input.category.trim())
            .map(|(cat, _)| cat.clone())
            .ok_or_else(|| {
                AppError::bad_request(c.format(
                    "appeal.error.unknown_category",
                    &[("code", input.category.clone())],
                ))
            })?,
    };
    let urgency = match input
        .urgency
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        None => Urgency::Normal,
        Some(u) => Urgency::parse(u).ok_or_else(|| AppError::invalid_param("urgency"))?,
    };
    let user = ctx.user.as_ref().filter(|_| input.client.is_none());
    let channel = match (
        user.map(|u| u.role),
        input
            .channel
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    ) {
        (Some(r), Some(ch)) if r.is_cadre() => {
            Channel::parse(ch).ok_or_else(|| AppError::invalid_param("channel"))?
        }
        (Some(Role::Resident), _) => Channel::Web,
        (None, _) if input.client.is_some() => Channel::Open311,
        (None, _) => Channel::Anonymous,
        _ => default_channel,
    };
    let description = input.description.trim().to_owned();
    check_text("description", &description, true).map_err(|e| lifecycle_error(&e, c))?;
    let title = input
        .title
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| description.chars().take(30).collect());
    if title.chars().count() > 100 {
        return Err(AppError::bad_request(
            c.format("appeal.error.title_too_long", &[("max", "100".into())]),
        ));
    }
    let address = input.address.unwrap_or_default().trim().to_owned();
    if address.chars().count() > 200 {
        return Err(AppError::bad_request(
            c.format("appeal.error.address_too_long", &[("max", "200".into())]),
        ));
    }
    let answers = category
        .check_answers(&input.answers)
        .map_err(|errs| AppError::bad_request(answer_messages(&errs, &category, c)))?;

    // A signed-in resident files for their own household with the phone on record unless they
    // give another; everyone else must say who to call back.
    let mut household_id = input
        .household_id
        .filter(|_| user.is_some_and(|u| u.role.is_cadre()));
    let mut resident_user_id = None;
    let mut name = input.contact_name.unwrap_or_default().trim().to_owned();
    let mut phone_text = input.contact_phone.unwrap_or_default().trim().to_owned();
    if let Some(u) = user.filter(|u| u.role == Role::Resident) {
        resident_user_id = Some(u.id);
        household_id = u.household_id;
        if name.is_empty() {
            name = u.display_name.clone();
        }
        if phone_text.is_empty() {
            if let Some(h) = u.household_id {
                let detail = state.store.household(h).await?;
                phone_text = detail
                    .members
                    .iter()
                    .find_map(|m| m.phone.as_ref().map(|p| p.as_str().to_owned()))
                    .unwrap_or_default();
            }
        }
    }
    if name.is_empty() {
        return Err(AppError::bad_request(c.t("appeal.error.name_required")));
    }
    if name.chars().count() > 50 {
        return Err(AppError::bad_request(
            c.format("appeal.error.name_too_long", &[("max", "50".into())]),
        ));
    }
    let phone =
        Phone::parse(&phone_text).map_err(|_| AppError::bad_request(c.t("appeal.error.phone")))?;
    let anonymous = user.is_none() && input.client.is_none();
    if anonymous {
        anonymous_intake_limit(state, ctx, &phone, false)?;
    }
    let email = match given(input.contact_email.as_deref()) {
        None => None,
        Some(e) => {
            Some(Email::parse(e).map_err(|_| AppError::bad_request(c.t("appeal.error.email")))?)
        }
    };
    let (mut village_id, mut grid_id) = (None, None);
    if let Some(h) = household_id {
        // A cadre files only for households of their own part of the registry.
        let detail = match user {
            Some(u) => crate::registry::household_in_scope(state, u, h).await?,
            None => state.store.household(h).await?,
        };
        village_id = Some(detail.summary.village_id);
        grid_id = Some(detail.summary.grid_id);
    }
    let now = Utc::now();
    let due = category.deadlines(urgency, now, &state.calendar());
    let actor = match (&input.client, user) {
        (Some(client), _) => Actor::platform(client),
        (None, Some(u)) => u.actor(),
        (None, None) => Actor::anonymous(&phone.masked()),
    };
    let photos = crate::http::upload::photos(&input.photos, state.settings.photo_max_bytes, c)?;
    if anonymous {
        anonymous_intake_limit(state, ctx, &phone, true)?;
    }
    Ok((
        actor,
        NewAppeal {
            category: category.code.clone(),
            urgency,
            channel,
            title,
            description,
            answers,
            address,
            latitude: input
                .latitude
                .filter(|l| l.is_finite() && (-90.0..=90.0).contains(l)),
            longitude: input
                .longitude
                .filter(|l| l.is_finite() && (-180.0..=180.0).contains(l)),
            village_id,
            grid_id,
            household_id,
            resident_user_id,
            contact_name: name,
            contact_phone: phone.as_str().to_owned(),
            contact_email: email.map(|e| e.as_str().to_owned()),
            department: category.department.clone(),
            created_at: now,
            contact_due: due.contact_due,
            resolution_due: due.resolution_due,
        },
        photos,
    ))
}

/// What an action request carries, before any check.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// Action code.
    pub action: String,
    /// Reason (decline, transfer, return).
    pub reason: Option<String>,
    /// Department (assign, transfer).
    pub department: Option<String>,
    /// Cadre user id (assign, transfer).
    pub cadre_id: Option<i64>,
    /// Note text.
    pub text: Option<String>,
    /// Whether a note is shown to the resident.
    pub visible: Option<bool>,
    /// Reply (answer).
    pub reply: Option<String>,
    /// Rating code (rate).
    pub rating: Option<String>,
    /// Target case (merge).
    pub into: Option<i64>,
    /// When the resident was called (rate_by_call): RFC 3339 or a local `datetime-local`; now
    /// when empty.
    pub called_at: Option<String>,
    /// Photos (note, answer).
    pub photos: Vec<crate::http::upload::Upload>,
}

/// When a rating call was made: the time given (RFC 3339, or local as a form sends it), or now;
/// never in the future, never before the answer it rates.
fn called_at(
    given: Option<&str>,
    answered_at: Option<chrono::DateTime<Utc>>,
) -> Result<chrono::DateTime<Utc>, AppError> {
    let now = Utc::now();
    let at = match given.map(str::trim).filter(|t| !t.is_empty()) {
        None => now,
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => crate::http::params::local_time(t, "called_at")?
                .ok_or_else(|| AppError::invalid_param("called_at"))?,
        },
    };
    let too_early = answered_at.is_some_and(|a| at < a - chrono::Duration::minutes(1));
    if at > now + chrono::Duration::minutes(5) || too_early {
        return Err(AppError::invalid_param("called_at"));
    }
    Ok(at)
}

/// Whether the user dispatches this case: the whole subdistrict's, or their own village's.
pub fn dispatcher(user: &User, a: &Appeal) -> bool {
    yongxin_domain::appeal::dispatches(user.role, user.village_id, a.village_id)
}

/// Applies an action after checking that this user may take it on this case.
pub async fn act(
    state: &AppState,
    ctx: &Ctx,
    id: AppealId,
    input: ActionInput,
) -> Result<Appeal, AppError> {
    let c = ctx.lang.catalog();
    let user = ctx.user()?;
    let (appeal, _) = appeal_in_scope(state, user, id).await?;
    let text = |v: Option<String>| v.unwrap_or_default().trim().to_owned();
    let action = match input.action.trim() {
        "accept" => AppealAction::Accept,
        "decline" => AppealAction::Decline {
            reason: text(input.reason),
        },
        "assign" => AppealAction::Assign {
            department: input.department.filter(|d| !d.trim().is_empty()),
            cadre: input.cadre_id,
        },
        "transfer" => AppealAction::Transfer {
            reason: text(input.reason),
            department: input.department.filter(|d| !d.trim().is_empty()),
            cadre: input.cadre_id,
        },
        "return" => AppealAction::Return {
            reason: text(input.reason),
        },
        "contact" => AppealAction::Contact,
        "note" => AppealAction::Note {
            text: text(input.text),
            visible: input.visible.unwrap_or(false),
        },
        "answer" => AppealAction::Answer {
            reply: text(input.reply),
        },
        "rate" => AppealAction::Rate {
            rating: input
                .rating
                .as_deref()
                .and_then(Rating::parse)
                .ok_or_else(|| AppError::invalid_param("rating"))?,
            reason: Some(text(input.reason)).filter(|r| !r.is_empty()),
        },
        "rate_by_call" => AppealAction::RateByCall {
            rating: input
                .rating
                .as_deref()
                .and_then(Rating::parse)
                .ok_or_else(|| AppError::invalid_param("rating"))?,
            reason: Some(text(input.reason)).filter(|r| !r.is_empty()),
            called_at: called_at(input.called_at.as_deref(), appeal.answered_at)?,
        },
        "merge" => AppealAction::Merge {
            into: input.into.ok_or_else(|| AppError::invalid_param("into"))?,
        },
        _ => return Err(AppError::invalid_param("action")),
    };
    let handler = appeal.cadre_user_id == Some(user.id);
    let allowed = match &action {
        AppealAction::Accept
        | AppealAction::Decline { .. }
        | AppealAction::Assign { .. }
        | AppealAction::Merge { .. } => dispatcher(user, &appeal),
        AppealAction::Transfer { .. } | AppealAction::Return { .. } => {
            dispatcher(user, &appeal) || handler
        }
        AppealAction::Contact | AppealAction::Note { .. } | AppealAction::Answer { .. } => {
            dispatcher(user, &appeal) || handler
        }
        AppealAction::Rate { .. } => user.role.may(Permission::RateAppeal),
        // The handler never rates their own work, not even as the one who called.
        AppealAction::RateByCall { .. } => user.role.may(Permission::RecordRatingCall) && !handler,
        AppealAction::AutoClose => false,
    };
    if !allowed {
        return Err(AppError::forbidden());
    }
    if !input.photos.is_empty()
        && !matches!(
            action,
            AppealAction::Note { .. } | AppealAction::Answer { .. }
        )
    {
        return Err(AppError::bad_request(c.t("photo.not_here")));
    }
    let photos = crate::http::upload::photos(&input.photos, state.settings.photo_max_bytes, c)?;
    if let AppealAction::Merge { into } = &action {
        let (target, _) = state
            .store
            .appeal(AppealId(*into))
            .await
            .map_err(|_| AppError::invalid_param("into"))?;
        // A case goes only into one its user could see and dispatch: otherwise merging would
        // confirm that a case exists and move a resident's case out of sight.
        if !sees(user, &target) || !dispatcher(user, &target) {
            return Err(AppError::invalid_param("into"));
        }
        if !target.status.is_open() || target.status == AppealStatus::Merged {
            return Err(AppError::invalid_param("into"));
        }
    }
    // A department comes from the catalogue's list, not free text: a misspelt one would route the
    // case nowhere.
    if let AppealAction::Assign {
        department: Some(d),
        ..
    }
    | AppealAction::Transfer {
        department: Some(d),
        ..
    } = &action
    {
        let known = state
            .categories()
            .await?
            .iter()
            .any(|(cat, _)| cat.department == d.trim());
        if !known {
            return Err(AppError::invalid_param("department"));
        }
    }
    if let Some(cadre) = match &action {
        AppealAction::Assign { cadre, .. } | AppealAction::Transfer { cadre, .. } => *cadre,
        _ => None,
    } {
        let handles = state
            .store
            .user(cadre)
            .await?
            .is_some_and(|u| u.role.may(Permission::HandleAppeals) && !u.disabled);
        if !handles {
            return Err(AppError::invalid_param("cadre_id"));
        }
    }
    match state
        .store
        .act_on_appeal_with_photos(
            &user.actor(),
            id,
            action,
            state.settings.appeal_policy,
            photos,
        )
        .await?
    {
        Ok(a) => {
            state.nudge_search();
            Ok(a)
        }
        Err(e) => Err(lifecycle_error(&e, c)),
    }
}

/// The area's routes.
pub(crate) fn routes(limits: &BodyLimits) -> Routes {
    Routes::new()
        .get("/appeals", pages::list)
        .get("/appeals/stats", pages::stats)
        .get("/appeals/hot", pages::hot)
        .get("/appeals/export.xlsx", pages::export)
        .get("/appeals/export.csv", pages::export_csv)
        .get("/supervision", pages::supervision)
        .post("/supervision/{notice}/answer", pages::answer_notice)
        .post("/appeals/{id}/supervise", pages::supervise)
        .get_post_limited(
            "/appeals/new",
            pages::new_appeal,
            pages::create_appeal,
            limits.photo,
        )
        .get("/appeals/{id}", pages::show)
        .post_limited("/appeals/{id}/action", pages::action, limits.photo)
        .get("/track", pages::track)
        .post("/track/rate", pages::track_rate)
        .get("/track/r/{token}", pages::track_link)
        .get("/public/appeals", pages::public_list)
        .get("/public/appeals.csv", pages::public_csv)
        .get("/photos/{token}", pages::photo)
        .get("/photos/{token}/original", pages::photo_original)
        .get_post_limited(
            "/api/v1/appeals",
            api::list_appeals,
            api::create_appeal,
            limits.photo,
        )
        .get("/api/v1/appeals/stats", api::appeal_stats)
        .get("/api/v1/appeals/{id}", api::get_appeal)
        .post_limited(
            "/api/v1/appeals/{id}/actions",
            api::appeal_action,
            limits.photo,
        )
        .merge(open311::routes())
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::AppealsApi as utoipa::OpenApi>::openapi()
}

/// Query of the three rates.
#[derive(Deserialize, IntoParams)]
pub struct StatsParams {
    /// `village` (default), `grid`, `category`, `department` or `cadre`.
    group_by: Option<String>,
    /// First day, `YYYY-MM-DD` (Shanghai); default a year ago.
    from: Option<String>,
    /// Last day included, `YYYY-MM-DD`; default today.
    to: Option<String>,
}

/// The three rates of one group.
#[derive(Serialize, ToSchema)]
pub struct StatsRowDto {
    key: String,
    /// The group's name.
    pub label: String,
    /// Cases.
    pub total: i64,
    contact_due: i64,
    contacted_on_time: i64,
    resolution_due: i64,
    answered_on_time: i64,
    /// Cases answered at least once (answered now, or rated).
    answered: i64,
    rated: i64,
    satisfied: i64,
    /// 响应率, 0–1; absent without cases.
    pub response_rate: Option<f64>,
    /// 办结率, 0–1.
    pub resolution_rate: Option<f64>,
    /// 满意率, 0–1.
    pub satisfaction_rate: Option<f64>,
    /// 回访覆盖率: rated ÷ answered, 0–1 — how many answers the satisfaction rate speaks for.
    pub rating_coverage: Option<f64>,
}

/// The three rates for a period.
#[derive(Serialize, ToSchema)]
pub struct StatsDto {
    /// The grouping.
    pub group_by: String,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// How each rate is computed, in the request's language.
    /// The definitions.
    pub definitions: BTreeMap<String, String>,
    /// One row per group.
    pub rows: Vec<StatsRowDto>,
    /// All groups together.
    pub overall: StatsRowDto,
}

impl StatsDto {
    /// The definitions in the order the rates are shown: response, resolution, satisfaction.
    pub fn definitions_in_order(&self) -> Vec<&str> {
        [
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "rating_coverage",
        ]
        .iter()
        .filter_map(|k| self.definitions.get(*k).map(String::as_str))
        .collect()
    }
}

fn stats_row(key: String, label: String, c: yongxin_domain::appeal::RateCounts) -> StatsRowDto {
    StatsRowDto {
        key,
        label,
        total: c.total,
        contact_due: c.contact_due,
        contacted_on_time: c.contacted_on_time,
        resolution_due: c.resolution_due,
        answered_on_time: c.answered_on_time,
        answered: c.answered,
        rated: c.rated,
        satisfied: c.satisfied,
        response_rate: c.response_rate(),
        resolution_rate: c.resolution_rate(),
        satisfaction_rate: c.satisfaction_rate(),
        rating_coverage: c.rating_coverage(),
    }
}

/// Computes the three rates for cadres; shared by the API and the page.
pub async fn three_rates(
    state: &AppState,
    ctx: &Ctx,
    p: &StatsParams,
) -> Result<StatsDto, AppError> {
    ctx.cadre()?;
    rates_for(state, ctx, p).await
}

/// The past year's rates by category, which anyone may see (they name no one).
pub async fn public_rates(state: &AppState, ctx: &Ctx) -> Result<StatsDto, AppError> {
    rates_for(
        state,
        ctx,
        &StatsParams {
            group_by: Some("category".into()),
            from: None,
            to: None,
        },
    )
    .await
}

async fn rates_for(state: &AppState, ctx: &Ctx, p: &StatsParams) -> Result<StatsDto, AppError> {
    let group_code = p
        .group_by
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| "village".into());
    let group = yongxin_store::StatsGroup::parse(&group_code)
        .ok_or_else(|| AppError::invalid_param("group_by"))?;
    let today = chrono::Utc::now()
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let (from, to) =
        yongxin_domain::appeal::stats_period(today, p.from.as_deref(), p.to.as_deref())
            .map_err(AppError::invalid_param)?;
    let rows = state
        .store
        .appeal_stats(group, from, to, chrono::Utc::now())
        .await?;
    let c = ctx.lang.catalog();
    let cats = state.categories().await?;
    let mut overall = yongxin_domain::appeal::RateCounts::default();
    let rows = rows
        .into_iter()
        .map(|r| {
            overall = overall.plus(r.counts);
            let label = match group {
                yongxin_store::StatsGroup::Category => cats
                    .iter()
                    .find(|(cat, _)| cat.code == r.key)
                    .map(|(cat, _)| {
                        if ctx.lang == crate::http::i18n::Lang::En {
                            cat.name_en.clone()
                        } else {
                            cat.name_zh.clone()
                        }
                    })
                    .unwrap_or(r.label),
                _ if r.label.is_empty() => c.t("stats.none").to_owned(),
                _ => r.label,
            };
            stats_row(r.key, label, r.counts)
        })
        .collect();
    let definitions = [
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "rating_coverage",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), c.t(&format!("stats.define.{k}")).to_owned()))
    .collect();
    Ok(StatsDto {
        group_by: group_code,
        from: from.to_string(),
        to: to.to_string(),
        definitions,
        rows,
        overall: stats_row(String::new(), c.t("stats.overall").to_owned(), overall),
    })
}

/// A resident's own answered cases, waiting for their rating, newest first.
pub async fn waiting_for_rating(
    state: &AppState,
    user: &yongxin_store::User,
) -> Result<Vec<Appeal>, AppError> {
    let q = ListQuery {
        status: Some(AppealStatus::Answered.code().to_owned()),
        ..ListQuery::default()
    }
    .to_query(user, 1, 20)?;
    Ok(crate::appeals::find(state, &q, false).await?.appeals)
}

/// Query of the list (and of its export).
#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    village: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    figure: Option<String>,
    group_by: Option<String>,
    key: Option<String>,
    page: Option<String>,
}

impl ListQuery {
    /// The list (or `path`) with these filters at another page.
    fn href(&self, path: &str, page: i64) -> String {
        let mut s = format!("{path}?page={page}");
        for (name, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("category", &self.category),
            ("village", &self.village),
            ("overdue", &self.overdue),
            ("from", &self.from),
            ("to", &self.to),
            ("figure", &self.figure),
            ("group_by", &self.group_by),
            ("key", &self.key),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                s.push_str(&format!("&{name}={}", percent_encode(v)));
            }
        }
        s
    }

    fn to_query(&self, user: &User, page: i64, per_page: i64) -> Result<AppealQuery, AppError> {
        ListFilters {
            q: self.q.as_deref(),
            status: self.status.as_deref(),
            category: self.category.as_deref(),
            village: self.village.as_deref(),
            overdue: self
                .overdue
                .as_deref()
                .is_some_and(|v| v == "1" || v == "true"),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            figure: self.figure.as_deref(),
            group_by: self.group_by.as_deref(),
            key: self.key.as_deref(),
        }
        .query(user, page, per_page)
    }
}

/// A case carrying a card (黄牌, 红牌) now, with the deadline the card is about.
pub(crate) struct CardedCase {
    /// The case.
    pub appeal: Appeal,
    /// Yellow or red.
    pub card: yongxin_domain::calendar::Card,
    /// The deadline the card is about and when it falls.
    pub deadline: (yongxin_domain::appeal::Deadline, chrono::DateTime<Utc>),
}

/// The most cases the desk and the supervision list read at once.
pub(crate) const MOST_CARDED: i64 = 5000;

/// The cases within `user`'s scope carrying a card now: red first, then yellow, each by the
/// deadline its card is about (the earlier one when both deadlines carry it).
pub(crate) async fn carded_cases(
    state: &AppState,
    user: &User,
) -> Result<Vec<CardedCase>, AppError> {
    use yongxin_domain::appeal::{deadline_cards, Deadline};
    use yongxin_domain::calendar::Card;
    let calendar = state.calendar();
    let now = Utc::now();
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    // Everything due before the end of the next working day can carry a card.
    let horizon = yongxin_domain::calendar::end_of_day(calendar.add_working_days(today, 1));
    let q = AppealQuery {
        due_before: Some(horizon),
        ..AppealQuery::within(scope_of(user).ok_or_else(AppError::forbidden)?, MOST_CARDED)
    };
    let mut cases: Vec<CardedCase> = state
        .store
        .search_appeals(&q)
        .await?
        .appeals
        .into_iter()
        .filter_map(|a| {
            let cards = deadline_cards(&calendar, now, &a.deadline_clock());
            let card = cards[0].1.max(cards[1].1);
            if card == Card::None {
                return None;
            }
            let deadline = cards
                .iter()
                .filter(|(_, c)| *c == card)
                .map(|(d, _)| match d {
                    Deadline::Contact => (*d, a.contact_due),
                    Deadline::Resolution => (*d, a.resolution_due),
                })
                .min_by_key(|(_, at)| *at)?;
            Some(CardedCase {
                appeal: a,
                card,
                deadline,
            })
        })
        .collect();
    cases.sort_by_key(|k| (std::cmp::Reverse(k.card), k.deadline.1));
    Ok(cases)
}
