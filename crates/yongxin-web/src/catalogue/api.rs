//! The service catalogue's JSON API: the categories a case may be filed under.

use crate::http::error::AppError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_categories),
    components(schemas(CategoryDto, QuestionDto, ChoiceDto, DeadlinesDto))
)]
pub(super) struct CatalogueApi;

/// Deadlines of one urgency.
#[derive(Serialize, ToSchema)]
pub struct DeadlinesDto {
    /// 联系时限: hours to first contact.
    contact_hours: u32,
    /// 办结时限: working days to the answer.
    resolution_days: u32,
}

/// A choice of a choice question: `key` is what an answer sends.
#[derive(Serialize, ToSchema)]
pub struct ChoiceDto {
    key: String,
    name: String,
}

/// An extra question of a category; `answers` of a new appeal are keyed by its `code`.
#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    code: String,
    label_zh: String,
    label_en: String,
    /// `string`, `number`, `datetime`, `text`, `single_choice` or `multi_choice` (one answer, or
    /// a list of keys).
    kind: String,
    required: bool,
    choices: Vec<ChoiceDto>,
}

/// A category appeals can be filed under (诉求类别).
#[derive(Serialize, ToSchema)]
pub struct CategoryDto {
    code: String,
    group: String,
    name_zh: String,
    name_en: String,
    description: String,
    /// The department new cases go to.
    department: String,
    normal: DeadlinesDto,
    urgent: DeadlinesDto,
    questions: Vec<QuestionDto>,
}

/// `GET /api/v1/categories`: the categories an appeal may be filed under, with their deadlines
/// and the extra questions each requires. Public, like Open311's service list.
#[utoipa::path(get, path = "/api/v1/categories", tag = "crate::api_appeals", responses((status = 200, body = [CategoryDto])))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategoryDto>>, AppError> {
    Ok(Json(
        state
            .categories()
            .await?
            .iter()
            .filter(|(_, active)| *active)
            .map(|(c, _)| CategoryDto::from(c))
            .collect(),
    ))
}

impl From<&yongxin_domain::catalogue::Category> for CategoryDto {
    fn from(c: &yongxin_domain::catalogue::Category) -> Self {
        let deadlines = |d: &yongxin_domain::catalogue::Deadlines| DeadlinesDto {
            contact_hours: d.contact_hours,
            resolution_days: d.resolution_days,
        };
        Self {
            code: c.code.clone(),
            group: c.group.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            description: c.description.clone(),
            department: c.department.clone(),
            normal: deadlines(&c.normal),
            urgent: deadlines(&c.urgent),
            questions: c
                .questions
                .iter()
                .map(|q| QuestionDto {
                    code: q.code.clone(),
                    label_zh: q.label_zh.clone(),
                    label_en: q.label_en.clone(),
                    kind: serde_json::to_value(q.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    required: q.required,
                    choices: q
                        .choices
                        .iter()
                        .map(|ch| ChoiceDto {
                            key: ch.key.clone(),
                            name: ch.name.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
