//! The JSON API of consultations (征求意见): the list, one consultation with its questions and
//! options (with ids), a household's answer, and the results.

use crate::http::extract::{ApiJson, Ids};
use std::collections::BTreeMap;
use yongxin_store::{HouseholdId, ProjectId};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yongxin_domain::consultation::GivenAnswer;
use yongxin_store::Consultation;

use super::{answer, results_view, state_code, visible_results, AnswerRequest};
use crate::http::api::local;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_consultations,
    get_consultation,
    submit_answer,
    consultation_results
))]
pub(super) struct ConsultationsApi;

/// A consultation. Times are RFC 3339 with the Asia/Shanghai offset.
#[derive(Serialize, ToSchema)]
pub struct ConsultationDto {
    id: i64,
    title: String,
    background: String,
    /// A notice explaining it.
    notice_id: Option<i64>,
    /// `subdistrict`, `villages` or `project`: whose households are asked.
    scope: String,
    village_ids: Vec<i64>,
    project_id: Option<i64>,
    opens_at: String,
    closes_at: String,
    /// `upcoming`, `open` or `closed`.
    state: String,
    /// The notice its results were published as.
    result_notice_id: Option<i64>,
    /// Questions (on a single consultation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    questions: Option<Vec<QuestionDto>>,
}

/// A question.
#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    id: i64,
    /// `single`, `multiple`, `ranking` or `text`.
    kind: String,
    prompt: String,
    /// Most options a `multiple` answer may pick.
    max_choices: Option<u32>,
    required: bool,
    options: Vec<OptionDto>,
}

/// An option of a question.
#[derive(Serialize, ToSchema)]
pub struct OptionDto {
    id: i64,
    label: String,
}

impl ConsultationDto {
    fn new(k: Consultation, with_questions: bool) -> Self {
        Self {
            state: state_code(&k, Utc::now()).into(),
            questions: with_questions.then(|| {
                k.questions
                    .iter()
                    .map(|q| QuestionDto {
                        id: q.id,
                        kind: q.kind.code().into(),
                        prompt: q.prompt.clone(),
                        max_choices: q.max_choices,
                        required: q.required,
                        options: q
                            .options
                            .iter()
                            .map(|(id, label)| OptionDto {
                                id: *id,
                                label: label.clone(),
                            })
                            .collect(),
                    })
                    .collect()
            }),
            id: k.id,
            title: k.title,
            background: k.background,
            notice_id: k.notice_id,
            scope: k.scope.code().into(),
            village_ids: k.village_ids,
            project_id: k.project_id.map(ProjectId::get),
            opens_at: local(k.opens_at),
            closes_at: local(k.closes_at),
            result_notice_id: k.result_notice_id,
        }
    }
}

/// Every consultation, newest opening first. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/consultations", tag = "crate::api_consultations", responses((status = 200, body = Vec<ConsultationDto>)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_consultations(
    State(state): State<AppState>,
) -> Result<Json<Vec<ConsultationDto>>, AppError> {
    Ok(Json(
        state
            .store
            .consultations()
            .await?
            .into_iter()
            .map(|k| ConsultationDto::new(k, false))
            .collect(),
    ))
}

/// One consultation with its questions and their options, each with its id. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/consultations/{id}", tag = "crate::api_consultations", params(("id" = i64, Path, description = "Consultation id")), responses((status = 200, body = ConsultationDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_consultation(
    State(state): State<AppState>,
    Ids(id): Ids<i64>,
) -> Result<Json<ConsultationDto>, AppError> {
    let k = state
        .store
        .consultation(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(ConsultationDto::new(k, true)))
}

/// A household's answer.
#[derive(Deserialize, ToSchema)]
pub struct NewAnswerDto {
    /// The household (a resident's own if omitted; required for staff).
    household_id: Option<i64>,
    /// The member answering, whom the head names (the head when omitted).
    resident_id: Option<i64>,
    /// Staff only: `in_person` (default) or `meeting`.
    channel: Option<String>,
    /// By question id: an option id (single choice), option ids (multiple choice; ranking, first
    /// preferred first) or a text.
    #[schema(value_type = Object)]
    answers: BTreeMap<String, GivenAnswer>,
}

/// The answer recorded.
#[derive(Serialize, ToSchema)]
pub struct AnswerDto {
    answer_id: i64,
    household_id: Option<i64>,
}

/// Records a household's answer, replacing its earlier one: a resident for their own household
/// online, staff on a household's behalf (recorded as given in person or at a meeting, by them).
#[utoipa::path(post, path = "/api/v1/consultations/{id}/answers", tag = "crate::api_consultations", params(("id" = i64, Path, description = "Consultation id")), request_body = NewAnswerDto, responses((status = 201, body = AnswerDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn submit_answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiJson(body): ApiJson<NewAnswerDto>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let mut given = BTreeMap::new();
    for (k, v) in body.answers {
        let qid: i64 = k
            .trim()
            .parse()
            .map_err(|_| AppError::invalid_param("answers"))?;
        given.insert(qid, v);
    }
    let c = ctx.lang.catalog();
    let request = AnswerRequest {
        household_id: body.household_id.map(HouseholdId),
        resident_id: body.resident_id,
        channel: body.channel.as_deref(),
        given,
    };
    let answer_id = answer(&state, &user, id, request, c).await?;
    Ok((
        StatusCode::CREATED,
        Json(AnswerDto {
            answer_id,
            household_id: body
                .household_id
                .or(user.household_id.map(HouseholdId::get)),
        }),
    )
        .into_response())
}

/// Results from the households' current answers.
#[derive(Serialize, ToSchema)]
pub struct ResultsDto {
    eligible: i64,
    answered: i64,
    /// Answered ÷ eligible (0 when nobody is asked).
    turnout: f64,
    villages: Vec<VillageTurnoutDto>,
    questions: Vec<QuestionResultDto>,
}

/// Turnout of one village.
#[derive(Serialize, ToSchema)]
pub struct VillageTurnoutDto {
    id: i64,
    name: String,
    eligible: i64,
    answered: i64,
}

/// One question's counts.
#[derive(Serialize, ToSchema)]
pub struct QuestionResultDto {
    id: i64,
    kind: String,
    prompt: String,
    options: Vec<OptionResultDto>,
    /// Free-text answers (for those who run consultations only: they may name people).
    texts: Vec<String>,
}

/// One option's count (for a ranking: households that put it first) and its count per village.
#[derive(Serialize, ToSchema)]
pub struct OptionResultDto {
    id: i64,
    label: String,
    count: i64,
    /// Count ÷ households that answered.
    share: f64,
    /// Village id → count.
    #[schema(value_type = Object)]
    by_village: BTreeMap<String, i64>,
}

/// Counts and shares per option, by village, and turnout against the households asked. Staff.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/results", tag = "crate::api_consultations", params(("id" = i64, Path, description = "Consultation id")), responses((status = 200, body = ResultsDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn consultation_results(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Json<ResultsDto>, AppError> {
    let user = ctx.cadre()?.clone();
    let k = state
        .store
        .consultation(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let r = results_view(
        &k,
        &visible_results(&user, state.store.consultation_results(id).await?),
    );
    let ratio = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Json(ResultsDto {
        turnout: ratio(r.answered, r.eligible),
        villages: r
            .villages
            .iter()
            .map(|v| VillageTurnoutDto {
                id: v.0,
                name: v.1.clone(),
                eligible: v.2,
                answered: v.3,
            })
            .collect(),
        questions: r
            .questions
            .iter()
            .map(|q| QuestionResultDto {
                id: q.q.id,
                kind: q.q.kind.code().into(),
                prompt: q.q.prompt.clone(),
                options: q
                    .options
                    .iter()
                    .map(|o| OptionResultDto {
                        id: o.0,
                        label: o.1.clone(),
                        count: o.2,
                        share: ratio(o.2, r.answered),
                        by_village: r
                            .villages
                            .iter()
                            .zip(&o.5)
                            .map(|(v, n)| (v.0.to_string(), *n))
                            .collect(),
                    })
                    .collect(),
                texts: q.texts.iter().map(|t| t.1.clone()).collect(),
            })
            .collect(),
        eligible: r.eligible,
        answered: r.answered,
    }))
}
