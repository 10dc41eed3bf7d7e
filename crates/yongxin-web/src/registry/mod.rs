//! The registry (户籍): villages, grids, households and their members. Lists always mask
//! identity numbers and phones; the full values appear only to a role allowed to see them, and
//! every such view is recorded before it is shown. Rosters are imported all-or-nothing.

mod api;
mod pages;
pub mod roster_io;

use crate::http::error::AppError;
use crate::http::params::parse_opt_id;
use crate::http::sheet::write_table;
use crate::http::sheet::SheetFormat;
use crate::registry::roster_io::households_table;
use crate::registry::roster_io::read_roster;
use crate::registry::roster_io::residents_table;
use crate::AppState;
use serde::Deserialize;
use yongxin_domain::roster::validate;
use yongxin_domain::Actor;
use yongxin_domain::NewAuditEntry;
use yongxin_store::HouseholdDetail;
use yongxin_store::HouseholdId;
use yongxin_store::HouseholdQuery;
use yongxin_store::ImportSummary;
use yongxin_store::User;

use crate::http::routes::BodyLimits;
use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes(limits: &BodyLimits) -> Routes {
    Routes::new()
        .get("/villages", pages::villages)
        .get("/grids", pages::grids)
        .get("/households", pages::households)
        .get("/households/{id}", pages::household)
        .get_post_limited(
            "/admin/import",
            pages::import_page,
            pages::import_upload,
            limits.roster,
        )
        .get("/admin/export", pages::export)
        .get("/api/v1/villages", api::list_villages)
        .get("/api/v1/grids", api::list_grids)
        .get("/api/v1/households", api::list_households)
        .get("/api/v1/households/{id}", api::get_household)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::RegistryApi as utoipa::OpenApi>::openapi()
}

/// Query of the household list (also used by the API).
#[derive(Deserialize, Default)]
pub struct HouseholdListQuery {
    /// Search text.
    pub q: Option<String>,
    /// Village id.
    pub village: Option<String>,
    /// Grid id.
    pub grid: Option<String>,
    /// Page from 1.
    pub page: Option<String>,
    /// Rows per page (at most 100).
    pub per_page: Option<String>,
}

impl HouseholdListQuery {
    /// Turns the parameters into a store query within the user's scope.
    pub fn to_store_query(&self, user: &User) -> Result<HouseholdQuery, AppError> {
        let page = parse_opt_id(self.page.as_deref(), "page")?.unwrap_or(1);
        let per_page = parse_opt_id(self.per_page.as_deref(), "per_page")?.unwrap_or(20);
        if page < 1 {
            return Err(AppError::invalid_param("page"));
        }
        if !(1..=100).contains(&per_page) {
            return Err(AppError::invalid_param("per_page"));
        }
        Ok(HouseholdQuery {
            scope: user.scope(),
            village_id: parse_opt_id(self.village.as_deref(), "village")?,
            grid_id: parse_opt_id(self.grid.as_deref(), "grid")?,
            text: self.q.clone().filter(|t| !t.trim().is_empty()),
            page,
            per_page,
        })
    }
}

/// Loads a household for a user: one outside the user's scope is "not found", exactly like one
/// that does not exist, so probing ids tells nothing.
pub async fn household_in_scope(
    state: &AppState,
    user: &User,
    id: HouseholdId,
) -> Result<HouseholdDetail, AppError> {
    let detail = state.store.household(id).await?;
    let s = &detail.summary;
    if user.scope().covers(s.village_id, s.grid_id, s.id.get()) {
        Ok(detail)
    } else {
        Err(AppError::not_found())
    }
}

/// Writes the full view of a household's personal data to the record; call before showing it.
pub async fn record_full_view(
    state: &AppState,
    user: &User,
    detail: &HouseholdDetail,
) -> Result<(), AppError> {
    if !user.role.may_view_full_personal_data() {
        return Err(AppError::forbidden());
    }
    state
        .store
        .record(vec![NewAuditEntry::new(
            &user.username,
            "household.view_full",
            format!("household:{}", detail.summary.id),
            format!("{} ({})", detail.summary.key, detail.members.len()),
            &serde_json::json!({ "residents": detail.members.iter().map(|m| m.id).collect::<Vec<_>>() }),
        )])
        .await?;
    Ok(())
}

/// Validates and imports a roster all-or-nothing; shared by the upload and the command line.
pub async fn import_roster(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    bytes: &[u8],
) -> Result<Result<ImportSummary, Vec<yongxin_domain::roster::RosterIssue>>, AppError> {
    let rows = match read_roster(bytes) {
        Ok(rows) => rows,
        Err(issues) => return Ok(Err(issues)),
    };
    let lookup = store.registry_lookup().await?;
    match validate(&rows, &lookup) {
        Ok(households) => Ok(Ok(store.import_households(actor, &households).await?)),
        Err(issues) => Ok(Err(issues)),
    }
}

/// Builds an export file; a full (unmasked) export is recorded.
pub async fn export_file(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    what: &str,
    format: SheetFormat,
    full: bool,
    catalog: &crate::http::i18n::Catalog,
) -> Result<Vec<u8>, AppError> {
    let table = match what {
        "residents" => residents_table(&store.roster().await?, full, catalog.lang()),
        "households" => {
            let mut all = Vec::new();
            let mut page = 1;
            loop {
                let q = HouseholdQuery {
                    scope: yongxin_domain::Scope::Subdistrict,
                    village_id: None,
                    grid_id: None,
                    text: None,
                    page,
                    per_page: 500,
                };
                let p = store.search_households(&q).await?;
                let done = p.households.len() < 500;
                all.extend(p.households);
                if done {
                    break;
                }
                page += 1;
            }
            households_table(&all, full, catalog)
        }
        _ => return Err(AppError::invalid_param("what")),
    };
    if full {
        store
            .record(vec![NewAuditEntry::new(
                actor,
                "registry.export_full",
                format!("export:{what}"),
                format!("{} rows", table.len() - 1),
                &serde_json::json!({ "what": what, "rows": table.len() - 1 }),
            )])
            .await?;
    }
    write_table(&table, format).map_err(AppError::internal)
}
