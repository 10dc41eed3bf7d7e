//! `/api/v1/appeals`: intake, search, one case, and actions.

use crate::http::extract::{ApiJson, ApiQuery, Ids};
use std::collections::BTreeMap;
use yongxin_store::{AppealId, HouseholdId};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yongxin_domain::appeal::Channel;
use yongxin_domain::email::mask_email;
use yongxin_domain::phone::mask_phone;
use yongxin_domain::Permission;
use yongxin_store::{Appeal, AppealEvent, PhotoRef};

use super::{act, intake, three_rates, ActionInput, IntakeInput, StatsDto, StatsParams};
use crate::http::api::{local, ErrorDto};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::params::parse_opt_id;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(create_appeal, list_appeals, get_appeal, appeal_action, appeal_stats))]
pub(super) struct AppealsApi;

/// An answer to an extra question: one value, or several for multiple choice.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

/// A new appeal.
#[derive(Deserialize, ToSchema)]
pub struct NewAppealDto {
    /// Category code (see the catalogue).
    category: String,
    /// `normal` (default) or `urgent`.
    urgency: Option<String>,
    /// For desk entry by cadres: `phone`, `walk_in`, `visit`, `letter`, `api` (default `api`).
    channel: Option<String>,
    /// Short title; defaults to the start of the description.
    title: Option<String>,
    /// What happened, at most 4,000 characters.
    description: String,
    /// Answers to the category's extra questions, by question code.
    #[serde(default)]
    #[schema(value_type = Object)]
    answers: BTreeMap<String, AnswerValue>,
    /// Where.
    address: Option<String>,
    /// Latitude (WGS 84).
    latitude: Option<f64>,
    /// Longitude (WGS 84).
    longitude: Option<f64>,
    /// Who to call back (required unless a resident files for themself).
    contact_name: Option<String>,
    /// 11-digit mobile number (required unless the resident has one on record).
    contact_phone: Option<String>,
    /// E-mail address; when given, the resident is told of acceptance, reply and closing by
    /// e-mail instead of SMS.
    contact_email: Option<String>,
    /// The household the appeal concerns (desk entry).
    household_id: Option<i64>,
    /// Up to three photos (JPEG, PNG or WebP), each base64-encoded; location metadata is
    /// removed before anyone but staff sees them.
    #[serde(default)]
    photos: Vec<String>,
}

/// A photo of an appeal, a note or a reply.
#[derive(Serialize, ToSchema)]
pub struct PhotoDto {
    /// Where it is served (without location metadata).
    url: String,
    /// Where staff see the upload as it came (recorded).
    original_url: Option<String>,
    content_type: String,
    size: i64,
    /// The note or reply it belongs to (its position in `events`); absent: the appeal itself.
    event: Option<usize>,
}

/// Base64 photos of a JSON body.
fn decoded(photos: &[String]) -> Result<Vec<crate::http::upload::Upload>, AppError> {
    use base64::Engine;
    photos
        .iter()
        .map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p.trim())
                .map(|bytes| crate::http::upload::Upload { bytes })
                .map_err(|_| AppError::invalid_param("photos"))
        })
        .collect()
}

/// A step of a case's history.
#[derive(Serialize, ToSchema)]
pub struct AppealEventDto {
    at: String,
    actor: String,
    action: String,
    status: String,
    text: Option<String>,
    visible: bool,
}

/// An appeal (诉求). The contact phone is masked.
#[derive(Serialize, ToSchema)]
pub struct AppealDto {
    id: i64,
    /// 案件编号: used with the phone's last four digits to track the case.
    number: String,
    category: String,
    urgency: String,
    channel: String,
    /// submitted, accepted, declined, assigned, contacted, in_progress, answered, closed, merged.
    status: String,
    title: String,
    description: String,
    #[schema(value_type = Object)]
    answers: BTreeMap<String, Vec<String>>,
    address: String,
    village_id: Option<i64>,
    village_name: Option<String>,
    department: Option<String>,
    cadre_name: Option<String>,
    contact_name: String,
    contact_phone: String,
    /// Masked, as the phone.
    contact_email: Option<String>,
    reopen_count: i64,
    merged_into: Option<i64>,
    reply: Option<String>,
    rating: Option<String>,
    created_at: String,
    contact_due: String,
    resolution_due: String,
    contacted_at: Option<String>,
    answered_at: Option<String>,
    closed_at: Option<String>,
    /// History; residents see only the steps shown to them.
    events: Vec<AppealEventDto>,
    /// Photos of the appeal and of its notes and replies (those the caller sees).
    photos: Vec<PhotoDto>,
}

impl AppealDto {
    fn new(a: Appeal, events: &[AppealEvent], resident: bool) -> Self {
        Self {
            id: a.id.get(),
            number: a.number,
            category: a.category,
            urgency: a.urgency.code().to_owned(),
            channel: a.channel.code().to_owned(),
            status: a.status.code().to_owned(),
            title: a.title,
            description: a.description,
            answers: a.answers,
            address: a.address,
            village_id: a.village_id,
            village_name: a.village_name,
            department: a.department,
            cadre_name: a.cadre_name,
            contact_name: a.contact_name,
            contact_phone: mask_phone(&a.contact_phone),
            contact_email: a.contact_email.as_deref().map(mask_email),
            reopen_count: a.reopen_count,
            merged_into: a.merged_into,
            reply: a.reply,
            rating: a.rating.map(|r| r.code().to_owned()),
            created_at: local(a.created_at),
            contact_due: local(a.contact_due),
            resolution_due: local(a.resolution_due),
            contacted_at: a.contacted_at.map(local),
            answered_at: a.answered_at.map(local),
            closed_at: a.closed_at.map(local),
            events: events
                .iter()
                .filter(|e| e.visible || !resident)
                .map(|e| AppealEventDto {
                    at: local(e.at),
                    actor: if resident && e.actor != "resident" {
                        String::new()
                    } else {
                        e.actor.clone()
                    },
                    action: e.action.clone(),
                    status: e.status_to.code().to_owned(),
                    text: e.text.clone(),
                    visible: e.visible,
                })
                .collect(),
            photos: Vec::new(),
        }
    }

    /// Adds the photos the caller sees: those of the appeal and of the events listed.
    fn with_photos(mut self, photos: &[PhotoRef], events: &[AppealEvent], resident: bool) -> Self {
        let shown: Vec<&AppealEvent> = events.iter().filter(|e| e.visible || !resident).collect();
        self.photos = photos
            .iter()
            .filter_map(|p| {
                let event = match p.event_id {
                    None => None,
                    Some(id) => Some(shown.iter().position(|e| e.id == id)?),
                };
                Some(PhotoDto {
                    url: format!("/photos/{}", p.token),
                    original_url: (!resident).then(|| format!("/photos/{}/original", p.token)),
                    content_type: p.content_type.clone(),
                    size: p.size,
                    event,
                })
            })
            .collect();
        self
    }
}

/// A page of appeals.
#[derive(Serialize, ToSchema)]
pub struct AppealListDto {
    appeals: Vec<AppealDto>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// Query of `GET /api/v1/appeals`.
#[derive(Deserialize, IntoParams)]
pub struct AppealsParams {
    /// Words to find in the title, description, address, notes and reply (ranked when given).
    q: Option<String>,
    /// Status code.
    status: Option<String>,
    /// Category code.
    category: Option<String>,
    /// Village id.
    village: Option<String>,
    /// Page from 1.
    page: Option<String>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<String>,
    /// `true`: only open cases past a deadline they have not met.
    overdue: Option<bool>,
    /// Submitted on or after this day (YYYY-MM-DD, Shanghai).
    from: Option<String>,
    /// Submitted on or before this day (YYYY-MM-DD, Shanghai).
    to: Option<String>,
    /// Only the cases behind a scorecard figure (`received`, `contacted_on_time`, `satisfied`,
    /// `overdue`, `supervised`, …; see `/api/v1/scorecards`); `from` and `to` are then the
    /// scorecard's period.
    figure: Option<String>,
    /// With `figure`: the scorecard's grouping (`cadre`, `department`, `village`, `grid`).
    group_by: Option<String>,
    /// With `group_by`: the group's key (empty: the cases with none).
    key: Option<String>,
}

/// An action on an appeal.
#[derive(Deserialize, ToSchema)]
pub struct AppealActionDto {
    /// accept, decline, assign, transfer, return, contact, note, answer, rate, rate_by_call (a
    /// rating the resident gave on the phone, recorded by a cadre who is not the handler), merge.
    action: String,
    /// decline, transfer, return.
    reason: Option<String>,
    /// assign, transfer.
    department: Option<String>,
    /// assign, transfer: the cadre's user id.
    cadre_id: Option<i64>,
    /// note.
    text: Option<String>,
    /// note: shown to the resident.
    visible: Option<bool>,
    /// answer: the written reply.
    reply: Option<String>,
    /// rate, rate_by_call: satisfied, basically_satisfied, dissatisfied.
    rating: Option<String>,
    /// rate_by_call: when the resident was called (RFC 3339; now when omitted).
    called_at: Option<String>,
    /// merge: the case this one joins.
    into: Option<i64>,
    /// note, answer: up to three photos, each base64-encoded.
    #[serde(default)]
    photos: Vec<String>,
}

/// File an appeal.
#[utoipa::path(post, path = "/api/v1/appeals", tag = "crate::api_appeals", request_body = NewAppealDto, responses((status = 201, body = AppealDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewAppealDto>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let resident = !user.role.may(Permission::ReadInternalNotes);
    let with_photos = !body.photos.is_empty();
    let input = IntakeInput {
        category: body.category,
        urgency: body.urgency,
        channel: body.channel,
        title: body.title,
        description: body.description,
        answers: body
            .answers
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    match v {
                        AnswerValue::One(s) => vec![s],
                        AnswerValue::Many(m) => m,
                    },
                )
            })
            .collect(),
        address: body.address,
        latitude: body.latitude,
        longitude: body.longitude,
        contact_name: body.contact_name,
        contact_phone: body.contact_phone,
        contact_email: body.contact_email,
        household_id: body.household_id.map(HouseholdId),
        client: None,
        photos: decoded(&body.photos)?,
    };
    let appeal = intake(&state, &ctx, input, Channel::Api).await?;
    // A new case's history is its submission, written with it; no need to read it back.
    let events = [AppealEvent {
        id: 0,
        at: appeal.created_at,
        actor: user.username.clone(),
        action: "submit".into(),
        status_from: None,
        status_to: appeal.status,
        text: None,
        visible: true,
    }];
    // A case filed without photos has none: no need to ask the database.
    let photos = if with_photos {
        state.store.appeal_photos(appeal.id).await?
    } else {
        Vec::new()
    };
    Ok((
        StatusCode::CREATED,
        Json(AppealDto::new(appeal, &events, resident).with_photos(&photos, &events, resident)),
    )
        .into_response())
}

/// Appeals within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/appeals", tag = "crate::api_appeals", params(AppealsParams), responses((status = 200, body = AppealListDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_appeals(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<AppealsParams>,
) -> Result<Json<AppealListDto>, AppError> {
    let user = ctx.user()?;
    let page = parse_opt_id(p.page.as_deref(), "page")?.unwrap_or(1);
    let per_page = parse_opt_id(p.per_page.as_deref(), "per_page")?.unwrap_or(20);
    if page < 1 {
        return Err(AppError::invalid_param("page"));
    }
    if !(1..=100).contains(&per_page) {
        return Err(AppError::invalid_param("per_page"));
    }
    let q = super::ListFilters {
        q: p.q.as_deref(),
        status: p.status.as_deref(),
        category: p.category.as_deref(),
        village: p.village.as_deref(),
        overdue: p.overdue.unwrap_or(false),
        from: p.from.as_deref(),
        to: p.to.as_deref(),
        figure: p.figure.as_deref(),
        group_by: p.group_by.as_deref(),
        key: p.key.as_deref(),
    }
    .query(user, page, per_page)?;
    let resident = !user.role.may(Permission::ReadInternalNotes);
    let found = super::find(&state, &q, !resident).await?;
    Ok(Json(AppealListDto {
        appeals: found
            .appeals
            .into_iter()
            .map(|a| AppealDto::new(a, &[], resident))
            .collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

/// One appeal with its history.
#[utoipa::path(get, path = "/api/v1/appeals/{id}", tag = "crate::api_appeals", params(("id" = i64, Path, description = "Appeal id")), responses((status = 200, body = AppealDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<AppealId>,
) -> Result<Json<AppealDto>, AppError> {
    let user = ctx.user()?;
    let (appeal, events) = super::appeal_in_scope(&state, user, id).await?;
    let resident = !user.role.may(Permission::ReadInternalNotes);
    let photos = state.store.appeal_photos(id).await?;
    Ok(Json(
        AppealDto::new(appeal, &events, resident).with_photos(&photos, &events, resident),
    ))
}

/// Take an action on an appeal: what the case allows and the caller's role permits.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/actions", tag = "crate::api_appeals", params(("id" = i64, Path, description = "Appeal id")), request_body = AppealActionDto, responses((status = 200, body = AppealDto), (status = 400, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto, description = "The case's status does not allow the action")))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn appeal_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<AppealId>,
    ApiJson(body): ApiJson<AppealActionDto>,
) -> Result<Json<AppealDto>, AppError> {
    let input = ActionInput {
        action: body.action,
        reason: body.reason,
        department: body.department,
        cadre_id: body.cadre_id,
        text: body.text,
        visible: body.visible,
        reply: body.reply,
        rating: body.rating,
        into: body.into,
        called_at: body.called_at,
        photos: decoded(&body.photos)?,
    };
    let appeal = act(&state, &ctx, id, input).await?;
    let (appeal, events) = state.store.appeal(appeal.id).await?;
    let resident = ctx
        .user
        .as_ref()
        .is_some_and(|u| !u.role.may(Permission::ReadInternalNotes));
    let photos = state.store.appeal_photos(id).await?;
    Ok(Json(
        AppealDto::new(appeal, &events, resident).with_photos(&photos, &events, resident),
    ))
}

/// The three rates (三率) by village, category, department or cadre for a period.
#[utoipa::path(get, path = "/api/v1/appeals/stats", tag = "crate::api_appeals", params(StatsParams), responses((status = 200, body = StatsDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn appeal_stats(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<StatsDto>, AppError> {
    Ok(Json(three_rates(&state, &ctx, &p).await?))
}
