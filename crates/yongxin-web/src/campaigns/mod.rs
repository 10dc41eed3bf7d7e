//! Door-to-door campaigns (入户走访): creating one over a target of households, assigning them,
//! the cadre's phone page that works without a connection (its script and service worker), visits
//! recorded once per client id with the concerns raised filed as cases, corrections, coverage and
//! the burn-down, the walk sheet and its exports, and the JSON API.

mod api;
pub(crate) mod burn_down;
mod pages;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use yongxin_domain::appeal::{check_text, Channel, Urgency};
use yongxin_domain::campaign::{
    checked_client_id, checked_text, visit_fingerprint, CampaignError, VisitContent, VisitOutcome,
    MAX_CONCERNS, MAX_NOTE_CHARS,
};
use yongxin_domain::consultation::GivenAnswer;
use yongxin_domain::{Permission, Phone};
use yongxin_store::{Campaign, HouseholdId, NewAppeal, NewVisit, User, VisitRecorded};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::routes::{BodyLimits, Routes};
use crate::AppState;

/// The area's routes.
pub(crate) fn routes(limits: &BodyLimits) -> Routes {
    Routes::new()
        .get_post_limited("/campaigns", pages::list, pages::create, limits.roster)
        .get("/campaigns/new", pages::new_campaign)
        .get("/campaigns/sw.js", pages::service_worker)
        .get("/campaigns/{id}", pages::show)
        .get("/campaigns/{id}/households", pages::households)
        .post("/campaigns/{id}/assign", pages::assign)
        .post("/campaigns/{id}/reassign", pages::reassign)
        .get_post_limited(
            "/campaigns/{id}/walk",
            pages::walk,
            pages::walk_visit,
            limits.photo,
        )
        .get("/campaigns/{id}/sheet", pages::sheet)
        .get("/campaigns/{id}/visits/{visit_id}", pages::visit)
        .post("/campaigns/{id}/visits/{visit_id}/correct", pages::correct)
        .get(
            "/campaigns/{id}/visits/{visit_id}/photos/{token}",
            pages::photo,
        )
        .get("/api/v1/campaigns", api::list_campaigns)
        .get("/api/v1/campaigns/{id}", api::get_campaign)
        .post_limited(
            "/api/v1/campaigns/{id}/visits",
            api::record_visit,
            limits.photo,
        )
        .get("/api/v1/campaigns/{id}/coverage", api::coverage)
        .get("/api/v1/campaigns/{id}/unreached", api::unreached)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::CampaignsApi as utoipa::OpenApi>::openapi()
}

/// A campaign as one user may see it: the whole of it for those who run campaigns, else the
/// households assigned to them (and, when the campaign is open to scope, those their scope
/// covers, which they may visit though the counts stay their own).
pub struct CampaignAccess {
    /// The campaign.
    pub campaign: Campaign,
    /// `None`: everything; `Some(id)`: only this cadre's households and numbers.
    pub cadre: Option<i64>,
}

/// Loads a campaign for a user: those who run campaigns see all of it, cadres who visit see
/// their own part; anyone else is refused.
pub async fn campaign_for(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<CampaignAccess, AppError> {
    let cadre = if user.role.may(Permission::RunCampaign) {
        None
    } else if user.role.may(Permission::VisitHouseholds) {
        Some(user.id)
    } else {
        return Err(AppError::forbidden());
    };
    let campaign = state
        .store
        .campaign(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(CampaignAccess { campaign, cadre })
}

/// A concern raised at the door, as sent.
#[derive(Debug, Clone, Default)]
pub struct ConcernInput {
    /// Category code.
    pub category: String,
    /// What the household raised.
    pub description: String,
    /// Whom to call back (the household's phone on record when empty).
    pub contact_phone: Option<String>,
}

/// A visit as a phone or a form sends it, before any check.
#[derive(Debug, Clone)]
pub struct VisitInput {
    /// The phone's id of the visit.
    pub client_id: String,
    /// The household.
    pub household_id: HouseholdId,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// Outcome code.
    pub outcome: String,
    /// Residents met.
    pub members: Vec<i64>,
    /// Answers by question id.
    pub answers: BTreeMap<i64, GivenAnswer>,
    /// The note.
    pub note: String,
    /// Concerns raised.
    pub concerns: Vec<ConcernInput>,
    /// Photos.
    pub photos: Vec<crate::http::upload::Upload>,
}

/// A refused campaign input as a 422 naming its field, in the user's language.
pub fn campaign_error(e: &CampaignError, c: &Catalog) -> AppError {
    let field = e.field();
    let detail = c.format(
        e.message_key(),
        &[
            ("field", c.t(&format!("campaign.field.{field}")).to_owned()),
            (
                "max",
                match e {
                    CampaignError::TooLong { max, .. } => max.to_string(),
                    _ => String::new(),
                },
            ),
        ],
    );
    AppError::invalid_input(field, detail)
}

/// Checks a visit and records it: the household assigned to the caller (the store decides,
/// inside its write), the time within the campaign's period, the answers against the form, each
/// concern a valid case filed for the household (all or none).
pub async fn record(
    state: &AppState,
    ctx: &Ctx,
    access: &CampaignAccess,
    input: VisitInput,
) -> Result<VisitRecorded, AppError> {
    let c = ctx.lang.catalog();
    let user = ctx.require(Permission::VisitHouseholds)?;
    let k = &access.campaign;
    let bad = |e: CampaignError| campaign_error(&e, c);
    let client_id = checked_client_id(input.client_id.trim())
        .map_err(bad)?
        .to_owned();
    let outcome = VisitOutcome::parse(&input.outcome)
        .ok_or_else(|| AppError::invalid_input("outcome", c.t("campaign.error.outcome").into()))?;
    k.period()
        .admits_visit(input.visited_at, Utc::now())
        .map_err(bad)?;
    let note = checked_text("note", &input.note, MAX_NOTE_CHARS, false).map_err(bad)?;
    let talked = matches!(outcome, VisitOutcome::Met | VisitOutcome::Refused);
    if !talked && !input.members.is_empty() {
        return Err(bad(CampaignError::NotMet { field: "members" }));
    }
    if outcome != VisitOutcome::Met && !input.answers.is_empty() {
        return Err(bad(CampaignError::NotMet { field: "answers" }));
    }
    if !talked && !input.concerns.is_empty() {
        return Err(bad(CampaignError::NotMet { field: "concerns" }));
    }
    if input.concerns.len() > MAX_CONCERNS {
        return Err(bad(CampaignError::TooManyConcerns));
    }
    let photos = crate::http::upload::photos(&input.photos, state.settings.photo_max_bytes, c)?;
    let concerns = concern_appeals(state, c, input.household_id, &input.concerns).await?;
    let concern_texts: Vec<(String, String)> = input
        .concerns
        .iter()
        .map(|k| (k.category.clone(), k.description.clone()))
        .collect();
    let digests: Vec<String> = input
        .photos
        .iter()
        .map(|p| yongxin_domain::photo::sha256_hex(&p.bytes))
        .collect();
    let visited_at = chrono::SubsecRound::trunc_subsecs(input.visited_at, 6);
    let fingerprint = visit_fingerprint(&VisitContent {
        household_id: input.household_id.get(),
        visited_at,
        outcome,
        members: &input.members,
        answers: &input.answers,
        note: &note,
        concerns: &concern_texts,
        photos: &digests,
    });
    // Only a campaign open to scope asks where the household is; every other visit is decided
    // by the assignment alone, inside the store's write.
    let scope_covers = k.open_to_scope
        && match state
            .store
            .campaign_household(k.id, input.household_id)
            .await?
        {
            Some(h) => user
                .scope()
                .covers(h.village_id, h.grid_id, h.household_id.get()),
            None => false,
        };
    let mut members = input.members.clone();
    members.sort_unstable();
    members.dedup();
    let visit = NewVisit {
        client_id,
        fingerprint,
        household_id: input.household_id,
        cadre_user_id: user.id,
        scope_covers,
        visited_at,
        outcome,
        members,
        answers: input.answers,
        note,
        concerns,
        photos,
    };
    let recorded = match state
        .store
        .record_visit(&user.actor(), k.id, visit.clone())
        .await
    {
        // Two copies of one visit raced past each other on two nodes: the second finds the
        // first now.
        Err(yongxin_store::StoreError::Conflict { .. }) => {
            state.store.record_visit(&user.actor(), k.id, visit).await?
        }
        other => other?,
    };
    recorded.map_err(|r| AppError::from_visit_refusal(&r, c))
}

/// Each concern as a case for the household: an active category, a description, a phone to call
/// back (the one given, else the household's on record).
async fn concern_appeals(
    state: &AppState,
    c: &Catalog,
    household_id: HouseholdId,
    concerns: &[ConcernInput],
) -> Result<Vec<NewAppeal>, AppError> {
    if concerns.is_empty() {
        return Ok(Vec::new());
    }
    let household = state.store.household(household_id).await?;
    let categories = state.categories().await?;
    let now = Utc::now();
    let calendar = state.calendar();
    let on_record = household
        .members
        .iter()
        .find_map(|m| m.phone.as_ref().map(|p| p.as_str().to_owned()));
    let head = household
        .members
        .first()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    concerns
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let field = |name: &str| format!("concerns[{i}].{name}");
            let category = categories
                .iter()
                .find(|(cat, active)| *active && cat.code == k.category.trim())
                .map(|(cat, _)| cat.clone())
                .ok_or_else(|| {
                    AppError::invalid_input(
                        &field("category"),
                        c.format(
                            "appeal.error.unknown_category",
                            &[("code", k.category.clone())],
                        ),
                    )
                })?;
            let description = k.description.trim().to_owned();
            check_text("description", &description, true).map_err(|_| {
                AppError::invalid_input(
                    &field("description"),
                    c.t("campaign.error.concern_description").into(),
                )
            })?;
            let phone_text = k
                .contact_phone
                .clone()
                .filter(|p| !p.trim().is_empty())
                .or_else(|| on_record.clone())
                .unwrap_or_default();
            let phone = Phone::parse(&phone_text).map_err(|_| {
                AppError::invalid_input(&field("contact_phone"), c.t("appeal.error.phone").into())
            })?;
            let due = category.deadlines(Urgency::Normal, now, &calendar);
            Ok(NewAppeal {
                category: category.code.clone(),
                urgency: Urgency::Normal,
                channel: Channel::Visit,
                title: description.chars().take(30).collect(),
                description,
                answers: BTreeMap::new(),
                address: household.summary.address.clone(),
                latitude: None,
                longitude: None,
                village_id: Some(household.summary.village_id),
                grid_id: Some(household.summary.grid_id),
                household_id: Some(household_id),
                resident_user_id: None,
                contact_name: head.clone(),
                contact_phone: phone.as_str().to_owned(),
                contact_email: None,
                department: category.department.clone(),
                created_at: now,
                contact_due: due.contact_due,
                resolution_due: due.resolution_due,
            })
        })
        .collect()
}
