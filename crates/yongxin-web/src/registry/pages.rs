//! Registry pages: villages, grids, the household list and a household with its members.
//!
//! Lists always mask identity numbers and phones. The full values appear only on a household
//! page opened with `?full=1` by a role allowed to see them, and every such view is written to
//! the audit record before the page is sent.

use super::{export_file, household_in_scope, import_roster, record_full_view, HouseholdListQuery};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::Ids;
use crate::http::page::render;
use crate::http::page::Chrome;
use crate::http::sheet::SheetFormat;
use crate::registry::roster_io::issue_message;
use crate::AppState;
use askama::Template;
use axum::extract::Query;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::roster::Column;
use yongxin_domain::Permission;
use yongxin_domain::{IdNumber, Phone};
use yongxin_store::Grid;
use yongxin_store::HouseholdId;
use yongxin_store::HouseholdSummary;
use yongxin_store::ImportSummary;
use yongxin_store::Village;

use crate::http::context::percent_encode;
use crate::http::params::parse_opt_id;

#[derive(Template)]
#[template(path = "villages.html")]
struct VillagesPage {
    c: Chrome,
    villages: Vec<Village>,
}

/// `GET /villages`: cadres.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn villages(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.cadre()?;
    let villages = state.store.villages().await?;
    render(&VillagesPage {
        c: Chrome::new(&ctx, "villages.title"),
        villages,
    })
}

#[derive(Template)]
#[template(path = "grids.html")]
struct GridsPage {
    c: Chrome,
    grids: Vec<Grid>,
}

/// Query of the grid list.
#[derive(Deserialize)]
pub struct GridQuery {
    village: Option<String>,
}

/// `GET /grids`: cadres.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn grids(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<GridQuery>,
) -> Result<Response, AppError> {
    ctx.cadre()?;
    let village = parse_opt_id(q.village.as_deref(), "village")?;
    let grids = state.store.grids(village).await?;
    render(&GridsPage {
        c: Chrome::new(&ctx, "grids.title"),
        grids,
    })
}

/// A household list row with personal data masked.
pub struct HouseholdRow {
    /// Id.
    pub id: HouseholdId,
    /// 户号
    pub key: String,
    /// Head's name.
    pub head_name: String,
    /// Masked identity number.
    pub id_masked: String,
    /// Masked phone.
    pub phone_masked: String,
    /// Address.
    pub address: String,
    /// Village name.
    pub village: String,
    /// Grid name.
    pub grid: String,
    /// Members.
    pub members: i64,
}

impl From<&HouseholdSummary> for HouseholdRow {
    fn from(h: &HouseholdSummary) -> Self {
        Self {
            id: h.id,
            key: h.key.clone(),
            head_name: h.head_name.clone(),
            id_masked: h
                .head_id_number
                .as_ref()
                .map(IdNumber::masked)
                .unwrap_or_default(),
            phone_masked: h.head_phone.as_ref().map(Phone::masked).unwrap_or_default(),
            address: h.address.clone(),
            village: h.village_name.clone(),
            grid: h.grid_name.clone(),
            members: h.member_count,
        }
    }
}

#[derive(Template)]
#[template(path = "households.html")]
struct HouseholdsPage {
    c: Chrome,
    rows: Vec<HouseholdRow>,
    villages: Vec<Village>,
    q: String,
    village: i64,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// `GET /households`: signed in; each role sees its scope (a resident, their own household).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn households(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HouseholdListQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let query = q.to_store_query(user)?;
    let page = state.store.search_households(&query).await?;
    let villages = if user.role.is_cadre() {
        state.store.villages().await?
    } else {
        Vec::new()
    };
    let pages = ((page.total + page.per_page - 1) / page.per_page).max(1);
    let href = |p: i64| {
        let mut s = format!("/households?page={p}");
        if let Some(text) = &query.text {
            s.push_str(&format!("&q={}", percent_encode(text)));
        }
        if let Some(v) = query.village_id {
            s.push_str(&format!("&village={v}"));
        }
        if let Some(g) = query.grid_id {
            s.push_str(&format!("&grid={g}"));
        }
        s
    };
    render(&HouseholdsPage {
        c: Chrome::new(
            &ctx,
            if user.role.is_cadre() {
                "households.title"
            } else {
                "nav.my_household"
            },
        ),
        rows: page.households.iter().map(HouseholdRow::from).collect(),
        villages,
        q: query.text.clone().unwrap_or_default(),
        village: query.village_id.unwrap_or(0),
        total: page.total,
        page: page.page,
        pages,
        prev_href: (page.page > 1).then(|| href(page.page - 1)),
        next_href: (page.page < pages).then(|| href(page.page + 1)),
    })
}

/// A member row, masked unless the full view was asked for and allowed.
pub struct MemberRow {
    /// 姓名
    pub name: String,
    /// 与户主关系 (translated)
    pub relation: String,
    /// 性别 (translated)
    pub sex: String,
    /// 出生日期
    pub birth_date: String,
    /// Identity number, masked or full.
    pub id_number: String,
    /// Phone, masked or full.
    pub phone: String,
    /// Flags (Chinese names).
    pub flags: String,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    c: Chrome,
    h: HouseholdRow,
    grid: Grid,
    members: Vec<MemberRow>,
    full: bool,
    may_view_full: bool,
}

/// Query of the household page.
#[derive(Deserialize)]
pub struct FullQuery {
    full: Option<String>,
}

/// `GET /households/{id}`: in scope; `?full=1` shows unmasked values and is recorded.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn household(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<HouseholdId>,
    Query(q): Query<FullQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let detail = household_in_scope(&state, user, id).await?;
    let full = q.full.as_deref().is_some_and(|v| v == "1" || v == "true");
    if full {
        record_full_view(&state, user, &detail).await?;
    }
    let c = Chrome::new(&ctx, "household.title");
    let members = detail
        .members
        .iter()
        .map(|m| MemberRow {
            name: m.name.clone(),
            relation: c.t(&format!("relation.{}", m.relation.code())).to_owned(),
            sex: c.t(&format!("sex.{}", m.sex.code())).to_owned(),
            // A masked view shows the year only: with the date, the masked number could be rebuilt.
            birth_date: if full {
                m.birth_date.to_string()
            } else {
                yongxin_domain::id_number::mask_birth_date(m.birth_date)
            },
            id_number: m.id_number.shown(full),
            phone: m.phone.as_ref().map(|p| p.shown(full)).unwrap_or_default(),
            flags: m
                .flags
                .iter()
                .map(|f| c.t(&format!("flag.{}", f.code())).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    render(&HouseholdPage {
        h: HouseholdRow::from(&detail.summary),
        grid: detail.grid,
        members,
        full,
        may_view_full: user.role.may_view_full_personal_data(),
        c,
    })
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    columns: Vec<(&'static str, &'static str, bool)>,
    issues: Vec<String>,
    summary: Option<ImportSummary>,
}

fn import_page_with(ctx: &Ctx, issues: Vec<String>, summary: Option<ImportSummary>) -> ImportPage {
    ImportPage {
        c: Chrome::new(ctx, "import.title"),
        columns: Column::ALL
            .iter()
            .map(|c| (c.header(), c.code(), c.required()))
            .collect(),
        issues,
        summary,
    }
}

/// `GET /admin/import`: admins.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn import_page(ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageUsers)?;
    render(&import_page_with(&ctx, Vec::new(), None))
}

/// `POST /admin/import` (multipart: `csrf`, `file`): admins.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn import_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    form: crate::http::upload::FormWithFiles<crate::http::extract::Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageUsers)?.clone();
    let file = form
        .files
        .into_iter()
        .find(|(name, _, _)| name == "file")
        .map(|(_, _, bytes)| bytes)
        .unwrap_or_default();
    if file.is_empty() {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("import.no_file"),
        ));
    }
    let catalog = ctx.lang.catalog();
    match import_roster(&*state.store, &user.actor(), &file).await? {
        Ok(summary) => render(&import_page_with(&ctx, Vec::new(), Some(summary))),
        Err(issues) => {
            let messages = issues.iter().map(|i| issue_message(i, catalog)).collect();
            let mut res = render(&import_page_with(&ctx, messages, None))?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

/// Query of the export.
#[derive(Deserialize)]
pub struct ExportQuery {
    what: String,
    format: Option<String>,
    full: Option<String>,
}

/// `GET /admin/export?what=households|residents&format=xlsx|csv&full=1`: admins.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageUsers)?;
    let format = SheetFormat::parse(q.format.as_deref().unwrap_or("xlsx"))
        .ok_or_else(|| AppError::invalid_param("format"))?;
    let full = q.full.as_deref().is_some_and(|v| v == "1" || v == "true");
    let bytes = export_file(
        &*state.store,
        &user.actor(),
        &q.what,
        format,
        full,
        ctx.lang.catalog(),
    )
    .await?;
    let name = format!("attachment; filename=\"{}.{}\"", q.what, format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
