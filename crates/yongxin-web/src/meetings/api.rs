//! The JSON API of meetings (会议): the list and one meeting with its attendance, the rule that
//! applies and its resolutions. Staff only.

use crate::http::extract::Ids;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use yongxin_domain::meeting::QuorumRule;
use yongxin_store::Meeting;

use crate::http::api::local;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_meetings, get_meeting))]
pub(super) struct MeetingsApi;

/// A meeting. Times are RFC 3339 with the Asia/Shanghai offset.
#[derive(Serialize, ToSchema)]
pub struct MeetingDto {
    id: i64,
    /// `village_committee`, `party_members`, `representatives`, `villagers` or `hearing`.
    kind: String,
    village_id: Option<i64>,
    /// For a villagers' meeting: `adults` or `households`.
    basis: Option<String>,
    title: String,
    held_at: String,
    place: String,
    agenda: String,
    minutes: Option<String>,
    /// Members who should attend.
    members: i64,
    /// Members signed in.
    present: i64,
    /// The quorum and majority rule applied (`representatives`, `villagers_adults`, …).
    rule: String,
    /// Whether those present make the meeting valid.
    quorate: bool,
    /// The notice its minutes were published as.
    minutes_notice_id: Option<i64>,
    /// Resolutions (on a single meeting only).
    #[serde(skip_serializing_if = "Option::is_none")]
    resolutions: Option<Vec<ResolutionDto>>,
}

/// A resolution and its vote.
#[derive(Serialize, ToSchema)]
pub struct ResolutionDto {
    id: i64,
    text: String,
    votes_for: i64,
    against: i64,
    abstain: i64,
    members: i64,
    present: i64,
    passed: bool,
    rule: String,
}

impl MeetingDto {
    fn new(m: Meeting) -> Self {
        let rule = QuorumRule::of(m.kind, m.basis);
        Self {
            quorate: rule.quorate(
                u32::try_from(m.members).unwrap_or(u32::MAX),
                u32::try_from(m.present).unwrap_or(u32::MAX),
            ),
            rule: rule.code().into(),
            id: m.id,
            kind: m.kind.code().into(),
            village_id: m.village_id,
            basis: m.basis.map(|b| b.code().into()),
            title: m.title,
            held_at: local(m.held_at),
            place: m.place,
            agenda: m.agenda,
            minutes: m.minutes,
            members: m.members,
            present: m.present,
            minutes_notice_id: m.minutes_notice_id,
            resolutions: None,
        }
    }
}

/// Every meeting, latest first. Staff.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "crate::api_meetings", responses((status = 200, body = Vec<MeetingDto>), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_meetings(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<MeetingDto>>, AppError> {
    let user = ctx.cadre()?;
    let reach = super::meeting_reach(&state, user).await?;
    Ok(Json(
        state
            .store
            .meetings()
            .await?
            .into_iter()
            .filter(|m| reach.sees(m))
            .map(MeetingDto::new)
            .collect(),
    ))
}

/// One meeting with its resolutions. Staff.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "crate::api_meetings", params(("id" = i64, Path, description = "Meeting id")), responses((status = 200, body = MeetingDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_meeting(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Json<MeetingDto>, AppError> {
    let user = ctx.cadre()?;
    let m = super::meeting_in_scope(&state, user, id).await?;
    let resolutions = state
        .store
        .resolutions(id)
        .await?
        .into_iter()
        .map(|r| ResolutionDto {
            id: r.id,
            text: r.text,
            votes_for: r.votes_for,
            against: r.against,
            abstain: r.abstain,
            members: r.members,
            present: r.present,
            passed: r.passed,
            rule: r.rule,
        })
        .collect();
    let mut dto = MeetingDto::new(m);
    dto.resolutions = Some(resolutions);
    Ok(Json(dto))
}
