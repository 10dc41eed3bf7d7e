//! The JSON API of notices (公告, 公示): the public list and one notice, objections to a 公示,
//! and a cadre's in-person confirmation that a household was informed.

use crate::http::extract::{ApiJson, ApiQuery, Ids};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yongxin_store::Notice;
use yongxin_store::{HouseholdId, ProjectId};

use super::{notice_query, object, visible, ObjectionInput};
use crate::http::api::local as rfc3339;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_notices, get_notice, create_objection))]
pub(super) struct NoticesApi;

/// A notice. Times are RFC 3339 with the Asia/Shanghai offset.
#[derive(Serialize, ToSchema)]
pub struct NoticeDto {
    id: i64,
    /// `policy`, `progress` or `publication` (公示).
    kind: String,
    /// `subdistrict`, `villages` or `project`.
    scope: String,
    village_ids: Vec<i64>,
    project_id: Option<i64>,
    title: String,
    body: String,
    publish_at: String,
    end_at: Option<String>,
    /// Until when objections are taken (公示 only).
    objections_until: Option<String>,
    /// `scheduled`, `current` or `ended`.
    state: String,
    /// Whether objections are taken now.
    objections_open: bool,
    objections: i64,
    /// Settled: answered, declined with a reason, or merged (all count for the lottery gate).
    objections_answered: i64,
    /// 1 unless corrected.
    version: i64,
    url: String,
    /// Attached files (on a single notice only).
    #[serde(skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<AttachmentDto>>,
}

/// A file attached to a notice.
#[derive(Serialize, ToSchema)]
pub struct AttachmentDto {
    name: String,
    content_type: String,
    size: i64,
    url: String,
}

impl NoticeDto {
    fn new(n: Notice) -> Self {
        let now = Utc::now();
        Self {
            kind: n.kind.code().into(),
            scope: n.scope.code().into(),
            state: yongxin_domain::notice::NoticeState::at(n.publish_at, n.end_at, now)
                .code()
                .into(),
            objections_open: yongxin_domain::notice::objections_open(
                n.kind,
                n.publish_at,
                n.objections_until,
                now,
            )
            .is_ok(),
            url: format!("/notices/{}", n.id),
            id: n.id,
            village_ids: n.village_ids,
            project_id: n.project_id.map(ProjectId::get),
            title: n.title,
            body: n.body,
            publish_at: rfc3339(n.publish_at),
            end_at: n.end_at.map(rfc3339),
            objections_until: n.objections_until.map(rfc3339),
            objections: n.objections,
            objections_answered: n.objections_answered,
            version: n.version,
            attachments: None,
        }
    }
}

/// A page of notices.
#[derive(Serialize, ToSchema)]
pub struct NoticeListDto {
    notices: Vec<NoticeDto>,
    total: i64,
    page: u32,
    per_page: u32,
}

/// Filters of the notice list.
#[derive(Deserialize, IntoParams)]
pub struct NoticesParams {
    /// Notices addressing this village (the subdistrict's, the village's and its projects').
    village: Option<String>,
    /// Notices of this project.
    project: Option<String>,
    /// `policy`, `progress` or `publication`.
    kind: Option<String>,
    /// From 1.
    page: Option<String>,
    /// 1–100, default 20.
    per_page: Option<String>,
}

/// Published notices, newest first (cadres also see scheduled ones). No sign-in needed.
#[utoipa::path(get, path = "/api/v1/notices", tag = "crate::api_notices", params(NoticesParams), responses((status = 200, body = NoticeListDto), (status = 400, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_notices(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<NoticesParams>,
) -> Result<Json<NoticeListDto>, AppError> {
    let per_page = match p
        .per_page
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 20,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| AppError::invalid_param("per_page"))?,
    };
    let query = notice_query(
        &ctx,
        p.village.as_deref(),
        p.project.as_deref(),
        p.kind.as_deref(),
        p.page.as_deref(),
        per_page,
    )?;
    let found = state.store.notices(&query).await?;
    Ok(Json(NoticeListDto {
        notices: found.notices.into_iter().map(NoticeDto::new).collect(),
        total: found.total,
        page: query.page,
        per_page,
    }))
}

/// One notice with its attachments. No sign-in needed once it is published.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "crate::api_notices", params(("id" = i64, Path, description = "Notice id")), responses((status = 200, body = NoticeDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_notice(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Json<NoticeDto>, AppError> {
    let notice = state
        .store
        .notice(id)
        .await?
        .filter(|n| visible(n, ctx.user.as_ref(), Utc::now()))
        .ok_or_else(AppError::not_found)?;
    let attachments = state
        .store
        .notice_attachments(id)
        .await?
        .into_iter()
        .map(|a| AttachmentDto {
            url: format!("/notices/{id}/files/{}", a.token),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
        })
        .collect();
    let mut dto = NoticeDto::new(notice);
    dto.attachments = Some(attachments);
    Ok(Json(dto))
}

/// An objection to a 公示.
#[derive(Deserialize, ToSchema)]
pub struct NewObjectionDto {
    /// Why (at most 2,000 characters).
    reason: String,
    /// The household objecting (required when staff file on its behalf).
    household_id: Option<i64>,
    /// Who to call back (required when staff file on someone's behalf).
    contact_name: Option<String>,
    /// Their mobile number.
    contact_phone: Option<String>,
}

/// The appeal an objection became.
#[derive(Serialize, ToSchema)]
pub struct ObjectionDto {
    appeal_id: i64,
    number: String,
    notice_id: i64,
    url: String,
}

/// Files an objection (异议) while the 公示's window is open: a resident for their own household,
/// staff on a household's behalf (recorded as the staff member). It becomes an appeal linked to
/// the notice.
#[utoipa::path(post, path = "/api/v1/notices/{id}/objections", tag = "crate::api_notices", params(("id" = i64, Path, description = "Notice id")), request_body = NewObjectionDto, responses((status = 201, body = ObjectionDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn create_objection(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiJson(body): ApiJson<NewObjectionDto>,
) -> Result<Response, AppError> {
    ctx.user()?;
    let appeal = object(
        &state,
        &ctx,
        id,
        ObjectionInput {
            reason: body.reason,
            household_id: body.household_id.map(HouseholdId),
            contact_name: body.contact_name,
            contact_phone: body.contact_phone,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ObjectionDto {
            url: format!("/appeals/{}", appeal.id),
            appeal_id: appeal.id.get(),
            number: appeal.number,
            notice_id: id,
        }),
    )
        .into_response())
}
