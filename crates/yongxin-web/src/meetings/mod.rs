//! Meetings (村民会议, 两委会): members drawn from the registry, sign-in at the door or with the code shown in the hall, minutes and resolutions decided by the quorum rules, published as a notice, with the JSON API.

mod api;
mod pages;

use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::routes::Routes;
use crate::AppState;
use yongxin_domain::meeting::QuorumRule;
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::Actor;
use yongxin_domain::Permission;
use yongxin_domain::Scope;
use yongxin_store::Meeting;
use yongxin_store::User;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get_post("/meetings", pages::list, pages::create)
        .get("/meetings/new", pages::new_meeting)
        .get("/meetings/{id}", pages::show)
        .post("/meetings/{id}/attendance", pages::sign_in_at_door)
        .post("/meetings/{id}/code", pages::new_code)
        .get_post(
            "/meetings/{id}/sign-in",
            pages::sign_in_form,
            pages::sign_in_with_code,
        )
        .post("/meetings/{id}/minutes", pages::minutes)
        .post("/meetings/{id}/resolutions", pages::resolution)
        .post("/meetings/{id}/publish", pages::publish)
        .get("/api/v1/meetings", api::list_meetings)
        .get("/api/v1/meetings/{id}", api::get_meeting)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::MeetingsApi as utoipa::OpenApi>::openapi()
}

/// The villages whose meetings a user may see: every one (`None`), their village, the villages of
/// their grids, or none.
pub async fn meeting_reach(state: &AppState, user: &User) -> Result<MeetingReach, AppError> {
    Ok(MeetingReach(match user.scope() {
        Scope::Subdistrict => None,
        Scope::Village(v) => Some(vec![v]),
        Scope::Grids(grids) => Some(
            state
                .store
                .grids(None)
                .await?
                .into_iter()
                .filter(|g| grids.contains(&g.id))
                .map(|g| g.village_id)
                .collect(),
        ),
        Scope::Household(_) | Scope::Nothing => Some(Vec::new()),
    }))
}

/// A meeting, loaded for a cadre who sees it; any other is "not found".
pub async fn meeting_in_scope(state: &AppState, user: &User, id: i64) -> Result<Meeting, AppError> {
    let m = found(state, id).await?;
    if user.role.may(Permission::WorkInOffice) && meeting_reach(state, user).await?.sees(&m) {
        Ok(m)
    } else {
        Err(AppError::not_found())
    }
}

/// Publishes a meeting's minutes and resolutions as a notice, and records it on the meeting.
pub async fn publish_minutes(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    m: &Meeting,
    c: &Catalog,
) -> Result<yongxin_store::Notice, AppError> {
    let Some(minutes) = &m.minutes else {
        return Err(AppError::bad_request(c.t("meeting.error.no_minutes")));
    };
    let rule = QuorumRule::of(m.kind, m.basis);
    let mut body = c.format(
        "meeting.notice_intro",
        &[
            (
                "kind",
                c.t(&format!("meeting.kind.{}", m.kind.code())).to_owned(),
            ),
            ("at", yongxin_domain::time::display_local(m.held_at)),
            ("place", m.place.clone()),
            ("members", m.members.to_string()),
            ("present", m.present.to_string()),
        ],
    );
    body.push_str(&format!(
        "\n\n{}\n\n{}",
        c.t(&format!("meeting.rule.{}", rule.code())),
        minutes
    ));
    for r in store.resolutions(m.id).await? {
        body.push_str(&format!(
            "\n\n{}：{}（{} {}，{} {}，{} {}）",
            c.t(if r.passed {
                "meeting.passed"
            } else {
                "meeting.failed"
            }),
            r.text,
            c.t("meeting.for"),
            r.votes_for,
            c.t("meeting.against"),
            r.against,
            c.t("meeting.abstain"),
            r.abstain
        ));
    }
    let scope = if m.village_id.is_some() {
        ScopeKind::Villages
    } else {
        ScopeKind::Subdistrict
    };
    let draft = crate::notices::progress_draft(
        (scope, m.village_id.into_iter().collect(), None),
        c.format("meeting.notice_title", &[("title", m.title.clone())]),
        body,
        c,
    )?;
    let notice = store.publish_minutes_notice(actor, m.id, draft).await?;
    Ok(notice)
}

/// The villages whose meetings a cadre sees: all (`None`) for the subdistrict's staff, else
/// the village of their scope or of their grids. A meeting's members are named in full, so a
/// cadre sees only the meetings of the villages they work in, and the subdistrict's own.
pub struct MeetingReach(Option<Vec<i64>>);

impl MeetingReach {
    /// Whether the cadre sees this meeting.
    pub fn sees(&self, m: &Meeting) -> bool {
        match (&self.0, m.village_id) {
            (None, _) | (_, None) => true,
            (Some(villages), Some(v)) => villages.contains(&v),
        }
    }
}

async fn found(state: &AppState, id: i64) -> Result<Meeting, AppError> {
    state
        .store
        .meeting(id)
        .await?
        .ok_or_else(AppError::not_found)
}
