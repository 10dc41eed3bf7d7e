//! The JSON API under `/api/v1`, signed in by session cookie or `Authorization: Bearer TOKEN`.
//! Its OpenAPI 3 document is generated from these handlers and types and served at
//! `/api/v1/openapi.json`.

use crate::http::extract::{ApiQuery, Ids};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yongxin_domain::id_number::mask_id_number;
use yongxin_domain::phone::mask_phone;
use yongxin_store::{Grid, HouseholdSummary, Village};

use crate::http::api::{ErrorBody, ErrorDto};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::pages::registry::{household_in_scope, record_full_view, HouseholdListQuery};
use crate::AppState;

/// The generated OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "yongxin API",
        version = "1",
        description = "用心: the JSON API of yongxin. Authenticate with a session cookie or `Authorization: Bearer TOKEN` (`yongxin user token NAME`). Errors are `{\"error\":{\"code\":…,\"message\":…}}`."
    ),
    paths(
        list_villages,
        list_grids,
        list_households,
        get_household,
        crate::api_appeals::list_categories,
        crate::api_appeals::create_appeal,
        crate::api_appeals::list_appeals,
        crate::api_appeals::get_appeal,
        crate::api_appeals::appeal_action,
        crate::api_appeals::appeal_stats,
        crate::api_notices::list_notices,
        crate::api_notices::get_notice,
        crate::api_notices::create_objection,
        crate::api_consultations::list_consultations,
        crate::api_consultations::get_consultation,
        crate::api_consultations::submit_answer,
        crate::api_consultations::consultation_results,
        crate::api_meetings::list_meetings,
        crate::api_meetings::get_meeting,
        crate::api_resettlement::list_projects,
        crate::api_resettlement::get_project,
        crate::api_resettlement::project_households,
        crate::api_resettlement::get_entitlement,
        crate::api_resettlement::create_registration,
        crate::api_resettlement::freeze_lottery,
        crate::api_resettlement::draw_lottery,
        crate::api_resettlement::recommit_lottery,
        crate::api_resettlement::lottery_proof,
        crate::api_selection::list_selections,
        crate::api_selection::create_claim,
        crate::api_selection::selection_units
    ),
    components(schemas(
        VillageDto,
        GridDto,
        HouseholdDto,
        HouseholdListDto,
        HouseholdDetailDto,
        MemberDto,
        ErrorDto,
        ErrorBody
    ))
)]
pub struct ApiDoc;

/// The API's routes; `photo_body` is the body limit of the requests that may carry photos.
pub fn routes(photo_body: usize) -> crate::http::routes::Routes {
    let photos = photo_body;
    crate::http::routes::Routes::new()
        .get("/api/v1/openapi.json", openapi)
        .get("/api/v1/villages", list_villages)
        .get("/api/v1/categories", crate::api_appeals::list_categories)
        .get("/api/v1/grids", list_grids)
        .get("/api/v1/households", list_households)
        .get("/api/v1/households/{id}", get_household)
        .get_post_limited(
            "/api/v1/appeals",
            crate::api_appeals::list_appeals,
            crate::api_appeals::create_appeal,
            photos,
        )
        .get("/api/v1/appeals/stats", crate::api_appeals::appeal_stats)
        .get("/api/v1/notices", crate::api_notices::list_notices)
        .get("/api/v1/notices/{id}", crate::api_notices::get_notice)
        .post(
            "/api/v1/notices/{id}/objections",
            crate::api_notices::create_objection,
        )
        .get(
            "/api/v1/consultations",
            crate::api_consultations::list_consultations,
        )
        .get(
            "/api/v1/consultations/{id}",
            crate::api_consultations::get_consultation,
        )
        .post(
            "/api/v1/consultations/{id}/answers",
            crate::api_consultations::submit_answer,
        )
        .get(
            "/api/v1/consultations/{id}/results",
            crate::api_consultations::consultation_results,
        )
        .get("/api/v1/meetings", crate::api_meetings::list_meetings)
        .get("/api/v1/meetings/{id}", crate::api_meetings::get_meeting)
        .get("/api/v1/projects", crate::api_resettlement::list_projects)
        .get(
            "/api/v1/projects/{id}",
            crate::api_resettlement::get_project,
        )
        .get(
            "/api/v1/projects/{id}/households",
            crate::api_resettlement::project_households,
        )
        .get(
            "/api/v1/projects/{id}/households/{household_id}/entitlement",
            crate::api_resettlement::get_entitlement,
        )
        .post(
            "/api/v1/projects/{id}/registrations",
            crate::api_resettlement::create_registration,
        )
        .post(
            "/api/v1/projects/{id}/lottery/freeze",
            crate::api_resettlement::freeze_lottery,
        )
        .post(
            "/api/v1/projects/{id}/lottery/draw",
            crate::api_resettlement::draw_lottery,
        )
        .post(
            "/api/v1/projects/{id}/lottery/commitment",
            crate::api_resettlement::recommit_lottery,
        )
        .get(
            "/api/v1/projects/{id}/lottery/proof",
            crate::api_resettlement::lottery_proof,
        )
        .get("/api/v1/selections", crate::api_selection::list_selections)
        .post(
            "/api/v1/selections/{id}/claims",
            crate::api_selection::create_claim,
        )
        .get(
            "/api/v1/selections/{id}/units",
            crate::api_selection::selection_units,
        )
        .get("/api/v1/appeals/{id}", crate::api_appeals::get_appeal)
        .post_limited(
            "/api/v1/appeals/{id}/actions",
            crate::api_appeals::appeal_action,
            photos,
        )
}

async fn openapi() -> Response {
    // Built once: the document depends on nothing but the code.
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> =
        std::sync::LazyLock::new(openapi_document);
    Json(&*DOCUMENT).into_response()
}

/// The OpenAPI document with the answers every operation may give besides its own: 400 where it
/// takes a query or a body, 404 where its path names something, 413, 415 and 422 where it takes a
/// body, 500 and 503 everywhere, all in the one error shape the extractors and the error
/// middleware guarantee.
pub fn openapi_document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let error = serde_json::json!({
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorDto" } } }
    });
    let described = |status: &str| {
        let mut e = error.clone();
        e["description"] = serde_json::Value::from(match status {
            "400" => "Bad request: a parameter or the body does not read",
            "404" => "Not found (also any id that is not one)",
            "413" => "The body is larger than the route takes",
            "415" => "The body is not JSON",
            "422" => "A field of the body is missing or of the wrong type",
            "500" => "The server failed",
            _ => "The database cannot be reached",
        });
        e
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let has_body = op.contains_key("requestBody");
            let has_query = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let mut add = vec!["500", "503"];
            if has_body || has_query {
                add.push("400");
            }
            if path.contains('{') {
                add.push("404");
            }
            if has_body {
                add.extend(["413", "415", "422"]);
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(r) = responses.as_object_mut() {
                for status in add {
                    r.entry(status).or_insert_with(|| described(status));
                }
            }
        }
    }
    doc
}

/// A village (村) or community (社区).
#[derive(Serialize, ToSchema)]
pub struct VillageDto {
    id: i64,
    code: String,
    name: String,
    /// `village` or `community`.
    kind: String,
    grid_count: i64,
    household_count: i64,
    resident_count: i64,
}

impl From<Village> for VillageDto {
    fn from(v: Village) -> Self {
        Self {
            id: v.id,
            code: v.code,
            name: v.name,
            kind: v.kind.code().to_owned(),
            grid_count: v.grid_count,
            household_count: v.household_count,
            resident_count: v.resident_count,
        }
    }
}

/// A grid (网格) and its responsible cadre.
#[derive(Serialize, ToSchema)]
pub struct GridDto {
    id: i64,
    village_id: i64,
    village_name: String,
    code: String,
    name: String,
    cadre_name: String,
    /// The cadre's duty phone.
    cadre_phone: Option<String>,
    household_count: i64,
}

impl From<Grid> for GridDto {
    fn from(g: Grid) -> Self {
        Self {
            id: g.id,
            village_id: g.village_id,
            village_name: g.village_name,
            code: g.code,
            name: g.name,
            cadre_name: g.cadre_name,
            cadre_phone: g.cadre_phone,
            household_count: g.household_count,
        }
    }
}

/// A household (户), personal data masked.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDto {
    id: i64,
    key: String,
    address: String,
    village_id: i64,
    village_name: String,
    grid_id: i64,
    grid_name: String,
    head_name: String,
    /// Masked: the province and the check character (`37***************X`).
    head_id_number: String,
    /// Masked: `138****5678`.
    head_phone: Option<String>,
    member_count: i64,
}

impl From<&HouseholdSummary> for HouseholdDto {
    fn from(h: &HouseholdSummary) -> Self {
        Self {
            id: h.id,
            key: h.key.clone(),
            address: h.address.clone(),
            village_id: h.village_id,
            village_name: h.village_name.clone(),
            grid_id: h.grid_id,
            grid_name: h.grid_name.clone(),
            head_name: h.head_name.clone(),
            head_id_number: mask_id_number(&h.head_id_number),
            head_phone: h.head_phone.as_deref().map(mask_phone),
            member_count: h.member_count,
        }
    }
}

/// A page of households.
#[derive(Serialize, ToSchema)]
pub struct HouseholdListDto {
    households: Vec<HouseholdDto>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// A household member.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    id: i64,
    name: String,
    /// `male` or `female`.
    sex: String,
    /// `YYYY-MM-DD` in a full view; `YYYY-**-**` when masked.
    birth_date: String,
    /// `head`, `spouse`, `child`, `parent`, `grandchild`, `child_in_law`, `sibling`, `other`.
    relation: String,
    /// Masked unless `full=true` was asked for and allowed.
    id_number: String,
    /// Masked unless `full=true` was asked for and allowed.
    phone: Option<String>,
    registered_since: Option<String>,
    flags: Vec<String>,
}

/// A household with its members and grid.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDetailDto {
    household: HouseholdDto,
    members: Vec<MemberDto>,
    grid: GridDto,
    /// Whether identity numbers and phones are shown in full (and the view recorded).
    full: bool,
}

/// Query of `GET /api/v1/households`.
#[derive(Deserialize, IntoParams)]
pub struct HouseholdsParams {
    /// Part of a member's name or the address, the household key, or the last four digits of a
    /// member's phone or identity number.
    q: Option<String>,
    /// Village id.
    village: Option<String>,
    /// Grid id.
    grid: Option<String>,
    /// Page from 1.
    page: Option<String>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<String>,
}

/// Query of `GET /api/v1/households/{id}`.
#[derive(Deserialize, IntoParams)]
pub struct DetailParams {
    /// `true` for unmasked identity numbers and phones (recorded; not for department staff).
    full: Option<bool>,
}

/// Villages and communities.
#[utoipa::path(get, path = "/api/v1/villages", responses((status = 200, body = [VillageDto]), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
pub async fn list_villages(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<VillageDto>>, AppError> {
    ctx.cadre()?;
    Ok(Json(
        state
            .store
            .villages()
            .await?
            .into_iter()
            .map(VillageDto::from)
            .collect(),
    ))
}

/// Grids with their responsible cadres.
#[utoipa::path(get, path = "/api/v1/grids", responses((status = 200, body = [GridDto]), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
pub async fn list_grids(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<GridDto>>, AppError> {
    ctx.cadre()?;
    Ok(Json(
        state
            .store
            .grids(None)
            .await?
            .into_iter()
            .map(GridDto::from)
            .collect(),
    ))
}

/// Households within the caller's scope, paged and searchable.
#[utoipa::path(get, path = "/api/v1/households", params(HouseholdsParams), responses((status = 200, body = HouseholdListDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto)))]
pub async fn list_households(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<HouseholdsParams>,
) -> Result<Json<HouseholdListDto>, AppError> {
    let user = ctx.user()?;
    let q = HouseholdListQuery {
        q: p.q,
        village: p.village,
        grid: p.grid,
        page: p.page,
        per_page: p.per_page,
    }
    .to_store_query(user)?;
    let page = state.store.search_households(&q).await?;
    Ok(Json(HouseholdListDto {
        households: page.households.iter().map(HouseholdDto::from).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One household with members, if within the caller's scope.
#[utoipa::path(get, path = "/api/v1/households/{id}", params(("id" = i64, Path, description = "Household id"), DetailParams), responses((status = 200, body = HouseholdDetailDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
pub async fn get_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiQuery(p): ApiQuery<DetailParams>,
) -> Result<Json<HouseholdDetailDto>, AppError> {
    let user = ctx.user()?;
    let detail = household_in_scope(&state, user, id).await?;
    let full = p.full.unwrap_or(false);
    if full {
        record_full_view(&state, user, &detail).await?;
    }
    let members = detail
        .members
        .iter()
        .map(|m| MemberDto {
            id: m.id,
            name: m.name.clone(),
            sex: m.sex.code().to_owned(),
            // A masked view shows the year only: with the date, the masked number could be rebuilt.
            birth_date: if full {
                m.birth_date.to_string()
            } else {
                yongxin_domain::id_number::mask_birth_date(m.birth_date)
            },
            relation: m.relation.code().to_owned(),
            id_number: if full {
                m.id_number.clone()
            } else {
                mask_id_number(&m.id_number)
            },
            phone: m
                .phone
                .as_deref()
                .map(|p| if full { p.to_owned() } else { mask_phone(p) }),
            registered_since: m.registered_since.map(|d| d.to_string()),
            flags: m.flags.iter().map(|f| f.code().to_owned()).collect(),
        })
        .collect();
    Ok(Json(HouseholdDetailDto {
        household: HouseholdDto::from(&detail.summary),
        members,
        grid: GridDto::from(detail.grid),
        full,
    }))
}
