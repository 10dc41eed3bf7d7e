//! Notices (公告, 公示): publishing, corrections, attachments, who was informed, objections and the Atom feed, with the JSON API.

mod api;
mod pages;

use crate::appeals::prepare_intake;
use crate::appeals::IntakeInput;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::params::parse_opt_id;
use crate::http::routes::BodyLimits;
use crate::http::routes::Routes;
use crate::AppState;
use chrono::DateTime;
use chrono::Utc;
use yongxin_domain::notice::checked_text;
use yongxin_domain::notice::objections_open;
use yongxin_domain::notice::CheckedNotice;
use yongxin_domain::notice::NoticeDraft;
use yongxin_domain::notice::NoticeError;
use yongxin_domain::notice::NoticeKind;
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::notice::MAX_REASON_CHARS;
use yongxin_domain::notice::MAX_TITLE_CHARS;
use yongxin_domain::Actor;
use yongxin_store::Notice;
use yongxin_store::NoticeQuery;
use yongxin_store::User;
use yongxin_store::{HouseholdId, ProjectId};

/// The area's routes.
pub(crate) fn routes(limits: &BodyLimits) -> Routes {
    Routes::new()
        .get_post("/notices", pages::list, pages::create)
        .get("/notices.atom", pages::feed)
        .get("/notices/new", pages::new_notice)
        .get("/notices/{id}", pages::show)
        .get("/notices/{id}/history", pages::history)
        .get_post("/notices/{id}/correct", pages::correct_form, pages::correct)
        .post_limited(
            "/notices/{id}/attachments",
            pages::attach,
            limits.attachment,
        )
        .get("/notices/{id}/files/{token}", pages::file)
        .post("/notices/{id}/objections", pages::create_objection)
        .get("/notices/{id}/coverage", pages::coverage)
        .post("/notices/{id}/informed", pages::confirm_informed)
        .get("/api/v1/notices", api::list_notices)
        .get("/api/v1/notices/{id}", api::get_notice)
        .post("/api/v1/notices/{id}/objections", api::create_objection)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::NoticesApi as utoipa::OpenApi>::openapi()
}

/// A progress notice to publish now, for what another area has produced (a consultation's
/// results, a meeting's minutes): titled and addressed as given, checked as composed text.
pub fn progress_draft(
    (scope, village_ids, project_id): (ScopeKind, Vec<i64>, Option<i64>),
    title: String,
    body: String,
    c: &Catalog,
) -> Result<CheckedNotice, AppError> {
    NoticeDraft {
        kind: NoticeKind::Progress,
        scope,
        village_ids,
        project_id,
        title: title.chars().take(MAX_TITLE_CHARS).collect(),
        body,
        publish_at: Utc::now(),
        end_at: None,
        objections_until: None,
    }
    .composed()
    .map_err(|e| notice_error(&e, c))
}

/// Whether a user sees a notice: anyone once it is published, cadres before.
pub fn visible(notice: &Notice, user: Option<&User>, now: DateTime<Utc>) -> bool {
    yongxin_domain::notice::visible(
        notice.publish_at,
        user.is_some_and(|u| u.role.is_cadre()),
        now,
    )
}

pub(crate) async fn names(
    state: &AppState,
) -> Result<(Vec<(i64, String)>, Vec<(ProjectId, String)>), AppError> {
    let villages = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let projects = state
        .store
        .projects()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    Ok((villages, projects))
}

/// A notice query from the list's filters: published ones only, unless a cadre asks.
pub fn notice_query(
    ctx: &Ctx,
    village: Option<&str>,
    project: Option<&str>,
    kind: Option<&str>,
    page: Option<&str>,
    per_page: u32,
) -> Result<NoticeQuery, AppError> {
    let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(NoticeKind::parse(k).ok_or_else(|| AppError::invalid_param("kind"))?),
    };
    let page = parse_opt_id(page, "page")?.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::invalid_param("page"));
    }
    let cadre = ctx.user.as_ref().is_some_and(|u| u.role.is_cadre());
    Ok(NoticeQuery {
        published_by: (!cadre).then(Utc::now),
        village_id: parse_opt_id(village, "village")?,
        project_id: parse_opt_id(project, "project")?,
        kind,
        page: page as u32,
        per_page,
    })
}

/// What an objection carries, from the page or the API.
pub struct ObjectionInput {
    /// Why.
    pub reason: String,
    /// The household (staff filing on its behalf).
    pub household_id: Option<HouseholdId>,
    /// Who to call back (staff filing on someone's behalf, or a resident with another number).
    pub contact_name: Option<String>,
    /// Their phone.
    pub contact_phone: Option<String>,
}

/// Files an objection to a 公示 as an appeal linked to it: a resident for their own household, a
/// cadre on a household's behalf (recorded as the cadre).
pub async fn object(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    input: ObjectionInput,
) -> Result<yongxin_store::Appeal, AppError> {
    let user = ctx.user()?.clone();
    let notice = viewable(state, ctx, id).await?;
    let c = ctx.lang.catalog();
    let reason =
        checked_text("reason", &input.reason, MAX_REASON_CHARS).map_err(|e| notice_error(&e, c))?;
    objections_open(
        notice.kind,
        notice.publish_at,
        notice.objections_until,
        Utc::now(),
    )
    .map_err(|e| notice_error(&e, c))?;
    // The household objecting must be one the notice addresses: a cadre's in their scope, a
    // resident's their own.
    let household = if user.role.is_cadre() {
        let h = input
            .household_id
            .ok_or_else(|| AppError::bad_request(c.t("notice.error.household_required")))?;
        crate::registry::household_in_scope(state, &user, h).await?
    } else {
        let h = user
            .household_id
            .ok_or_else(|| AppError::refused(c.t("notice.error.objection_not_addressed")))?;
        state.store.household(h).await?
    };
    if !addresses(state, &notice, household.summary.village_id).await? {
        return Err(AppError::refused(
            c.t("notice.error.objection_not_addressed"),
        ));
    }
    let category = objection_category(state).await?;
    let intake = IntakeInput {
        category: category.code.clone(),
        channel: Some(
            if user.role.is_cadre() {
                "walk_in"
            } else {
                "web"
            }
            .into(),
        ),
        title: Some(
            c.format("notice.objection_title", &[("title", notice.title.clone())])
                .chars()
                .take(100)
                .collect(),
        ),
        description: reason,
        household_id: input.household_id,
        contact_name: input.contact_name,
        contact_phone: input.contact_phone,
        ..IntakeInput::default()
    };
    let (actor, appeal, _) = prepare_intake(
        state,
        ctx,
        intake,
        yongxin_domain::appeal::Channel::Web,
        Some(category),
    )
    .await?;
    let appeal = state
        .store
        .create_objection(&actor, id, appeal)
        .await?
        .map_err(|e| notice_error(&e, c))?;
    state.nudge_search();
    Ok(appeal)
}

/// The error of a refused draft, correction or objection, in the user's language.
pub fn notice_error(e: &NoticeError, c: &Catalog) -> AppError {
    let field = |f: &str| c.t(&format!("notice.field.{f}")).to_owned();
    AppError::bad_request(match e {
        NoticeError::Required { field: f } => c.format(e.message_key(), &[("field", field(f))]),
        NoticeError::TooLong { field: f, max } => c.format(
            e.message_key(),
            &[("field", field(f)), ("max", max.to_string())],
        ),
        _ => c.t(e.message_key()).to_owned(),
    })
}

async fn viewable(state: &AppState, ctx: &Ctx, id: i64) -> Result<Notice, AppError> {
    let notice = state
        .store
        .notice(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !visible(&notice, ctx.user.as_ref(), Utc::now()) {
        return Err(AppError::not_found());
    }
    Ok(notice)
}

/// Whether a notice addresses the households of a village: every village, its own villages, or
/// the villages its project covers.
async fn addresses(state: &AppState, notice: &Notice, village: i64) -> Result<bool, AppError> {
    Ok(match notice.scope {
        ScopeKind::Subdistrict => true,
        ScopeKind::Villages => notice.village_ids.contains(&village),
        ScopeKind::Project => state
            .store
            .projects()
            .await?
            .iter()
            .any(|p| Some(p.id) == notice.project_id && p.village_ids.contains(&village)),
    })
}

/// The objection category, stored (inactive, so the intake form does not offer it) the first
/// time an objection is filed.
async fn objection_category(
    state: &AppState,
) -> Result<yongxin_domain::catalogue::Category, AppError> {
    use yongxin_domain::catalogue::{objection_category, OBJECTION_CATEGORY};
    let categories = state.categories().await?;
    if let Some((cat, _)) = categories
        .iter()
        .find(|(c, _)| c.code == OBJECTION_CATEGORY)
    {
        return Ok(cat.clone());
    }
    let cat = objection_category();
    state
        .store
        .save_category(
            &Actor::user("system"),
            &cat,
            categories.len() as i64 + 1000,
            false,
        )
        .await?;
    state.forget_catalogue();
    Ok(cat)
}
