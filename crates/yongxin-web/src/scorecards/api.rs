//! `GET /api/v1/scorecards`: the scorecards as JSON, each figure with the API list of its cases.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yongxin_domain::scorecard::{ScoreFigure, ScoreGroup};

use super::{figure_href, group, period, scorecards as read, Scorecard};
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::ApiQuery;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(scorecards))]
pub(super) struct ScorecardsApi;

/// Query of `GET /api/v1/scorecards`.
#[derive(Deserialize, IntoParams)]
pub struct ScorecardParams {
    /// `cadre` (default), `department`, `village` or `grid`.
    group_by: Option<String>,
    /// First day (YYYY-MM-DD, Asia/Shanghai); default the first of this month.
    from: Option<String>,
    /// Last day, included (at most 366 days after `from`); default today.
    to: Option<String>,
}

/// One group's scorecard. Counts of cases are over the cases filed in the period unless said;
/// `cases` names, for each such count, the `GET /api/v1/appeals` query listing exactly them.
#[derive(Serialize, ToSchema)]
pub struct ScorecardDto {
    /// User, village or grid id, or the department's name; empty for cases with none (absent
    /// in the total).
    key: String,
    label: String,
    /// 受理: cases filed.
    received: i64,
    /// Contact due by now or made.
    contact_due: i64,
    /// Contacted no later than the contact deadline.
    contacted_on_time: i64,
    /// 响应率 (按时联系率), 0–1.
    response_rate: Option<f64>,
    /// Answer due by now or given.
    resolution_due: i64,
    /// Answered no later than the resolution deadline.
    answered_on_time: i64,
    /// 办结率 (按时办结率), 0–1.
    resolution_rate: Option<f64>,
    /// Answered at least once.
    answered: i64,
    /// Rated.
    rated: i64,
    /// Satisfied or basically satisfied.
    satisfied: i64,
    /// 满意率: satisfied ÷ rated, 0–1.
    satisfaction_rate: Option<f64>,
    /// 回访覆盖率: rated ÷ answered, 0–1.
    rating_coverage: Option<f64>,
    /// 重办: reopened by a dissatisfied rating.
    reopened: i64,
    /// Reopened ÷ received, 0–1.
    reopened_share: Option<f64>,
    /// Open now and past a deadline they wait on (whenever filed).
    overdue: i64,
    /// Working days from filing to the current answer, on average.
    average_working_days_to_answer: Option<f64>,
    /// Cases given a supervision notice in the period (whenever filed).
    supervised: i64,
    /// Of those, with a notice answered late or unanswered past its due time.
    supervised_late: i64,
    /// Door-to-door visits made in the period (by cadre, village or grid of the household).
    visits: i64,
    /// Campaign households reached in the period.
    households_reached: i64,
    /// Households a cadre confirmed as informed of a notice in the period.
    informed_in_person: i64,
    /// For each count of cases above, by its name: the API query listing those cases.
    cases: BTreeMap<String, String>,
}

/// The scorecards of a period.
#[derive(Serialize, ToSchema)]
pub struct ScorecardsDto {
    group_by: String,
    from: String,
    to: String,
    /// What each figure counts, in the caller's language.
    definitions: BTreeMap<String, String>,
    rows: Vec<ScorecardDto>,
    /// The rows together.
    total: ScorecardDto,
}

fn dto(
    s: &Scorecard,
    group: ScoreGroup,
    days: (chrono::NaiveDate, chrono::NaiveDate),
    total: bool,
) -> ScorecardDto {
    let c = &s.counts;
    let r = &c.rates;
    let cases = ScoreFigure::ALL
        .iter()
        .map(|f| {
            let key = (!total).then_some(s.key.as_str());
            (
                f.code().to_owned(),
                figure_href("/api/v1/appeals", *f, group, key, days),
            )
        })
        .collect();
    ScorecardDto {
        key: s.key.clone(),
        label: s.label.clone(),
        received: r.total,
        contact_due: r.contact_due,
        contacted_on_time: r.contacted_on_time,
        response_rate: r.response_rate(),
        resolution_due: r.resolution_due,
        answered_on_time: r.answered_on_time,
        resolution_rate: r.resolution_rate(),
        answered: r.answered,
        rated: r.rated,
        satisfied: r.satisfied,
        satisfaction_rate: r.satisfaction_rate(),
        rating_coverage: r.rating_coverage(),
        reopened: c.reopened,
        reopened_share: c.reopened_share(),
        overdue: c.overdue,
        average_working_days_to_answer: c.average_working_days(),
        supervised: c.supervised,
        supervised_late: c.supervised_late,
        visits: c.visits,
        households_reached: c.households_reached,
        informed_in_person: c.informed_in_person,
        cases,
    }
}

/// Scorecards per cadre, department, village or grid for a period. Staff, leaders and
/// administrators read every group; other cadres their own row by cadre.
#[utoipa::path(get, path = "/api/v1/scorecards", tag = "crate::api_appeals", params(ScorecardParams), responses((status = 200, body = ScorecardsDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn scorecards(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<ScorecardParams>,
) -> Result<Json<ScorecardsDto>, AppError> {
    let user = ctx.user()?;
    let g = group(p.group_by.as_deref())?;
    let days = period(p.from.as_deref(), p.to.as_deref())?;
    let (rows, total) = read(&state, user, g, days).await?;
    let c = ctx.lang.catalog();
    Ok(Json(ScorecardsDto {
        group_by: g.code().to_owned(),
        from: days.0.to_string(),
        to: days.1.to_string(),
        definitions: super::pages::DEFINED
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    c.t(&format!("scorecard.define.{k}")).to_owned(),
                )
            })
            .collect(),
        rows: rows.iter().map(|s| dto(s, g, days, false)).collect(),
        total: dto(&total, g, days, true),
    }))
}
