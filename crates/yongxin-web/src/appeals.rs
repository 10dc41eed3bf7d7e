//! Appeal intake and actions as every channel shares them (pages, JSON API, Open311): who may do
//! what, turning input into domain values, and errors in the user's language.

use std::collections::BTreeMap;
use yongxin_domain::Actor;
use yongxin_domain::Permission;

use chrono::Utc;
use yongxin_domain::appeal::{
    check_text, AppealAction, AppealError, AppealStatus, Channel, Rating, Urgency,
};
use yongxin_domain::calendar::start_of_day;
use yongxin_domain::catalogue::{AnswerError, Category};
use yongxin_domain::{Email, Phone, Role, Scope};
use yongxin_store::{Appeal, AppealPage, AppealQuery, AppealScope, NewAppeal, User};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::AppState;

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
    pub household_id: Option<i64>,
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
}

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
            page,
            per_page,
        })
    }
}

/// Finds appeals: ranked by the full-text index when there is text to search for and the index
/// is built, otherwise (and if the index fails) by the database, newest first. `staff` searches
/// internal notes too.
pub async fn find(state: &AppState, q: &AppealQuery, staff: bool) -> Result<AppealPage, AppError> {
    if let Some(index) = &state.search {
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
    id: i64,
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
    let err = AppError::bad_request(message_of(e, c));
    if matches!(e, AppealError::NotAllowed { .. }) {
        AppError {
            status: axum::http::StatusCode::CONFLICT,
            ..err
        }
    } else {
        err
    }
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
                    .find_map(|m| m.phone.clone())
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
    /// Photos (note, answer).
    pub photos: Vec<crate::http::upload::Upload>,
}

/// Whether the user dispatches this case: the whole subdistrict's, or their own village's.
pub fn dispatcher(user: &User, a: &Appeal) -> bool {
    user.role.may(Permission::DispatchAllAppeals)
        || (user.role.may(Permission::DispatchVillageAppeals)
            && user.village_id.is_some()
            && a.village_id == user.village_id)
}

/// Applies an action after checking that this user may take it on this case.
pub async fn act(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
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
            .appeal(*into)
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
