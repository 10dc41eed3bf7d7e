//! Meetings (会议): holding one with members drawn from the registry, signing members in at the
//! door or by the one-time code shown at the meeting, minutes, resolutions decided by the quorum
//! and majority rules, and publishing minutes and resolutions as a notice.

use crate::http::extract::{Button, CsrfForm, Ids};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use yongxin_domain::meeting::SignInWay;
use yongxin_domain::meeting::{MeetingError, MeetingKind, QuorumRule, VillagersBasis};
use yongxin_domain::Permission;
use yongxin_domain::Scope;
use yongxin_store::{Meeting, MeetingMember, NewMeeting, Resolution, StoreError, User};

use super::found;
use super::meeting_in_scope;
use super::meeting_reach;
use super::publish_minutes;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::http::params::{local_time, parse_opt_id as opt_id};
use crate::AppState;
use serde::Deserialize;

use yongxin_domain::meeting::{
    MAX_SIGN_IN_CODE_TRIES as MAX_CODE_TRIES, SIGN_IN_CODE_HOURS as CODE_HOURS,
};

/// The error of a refused resolution, in the user's language.
pub fn meeting_error(e: &MeetingError, c: &Catalog) -> AppError {
    AppError::bad_request(match e {
        MeetingError::Inquorate { members, present } => c.format(
            e.message_key(),
            &[
                ("members", members.to_string()),
                ("present", present.to_string()),
            ],
        ),
        MeetingError::TooManyVotes { votes, present } => c.format(
            e.message_key(),
            &[
                ("votes", votes.to_string()),
                ("present", present.to_string()),
            ],
        ),
        MeetingError::Text => c.t(e.message_key()).to_owned(),
    })
}

/// An organiser reaches a meeting of the village of their scope (village officers) or any (the
/// subdistrict's staff).
fn organises(user: &User, m: &Meeting) -> bool {
    user.role.may(Permission::OrganiseMeeting) && organises_in(user, m.village_id)
}

/// Whether the user's scope holds meetings of this village (`None`: the subdistrict's own).
fn organises_in(user: &User, village_id: Option<i64>) -> bool {
    yongxin_domain::meeting::organises_in(&user.scope(), village_id)
}

/// The organiser posting a form about a meeting (checked: signed in, reach; the token was checked
/// by the form's extractor), and the meeting.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn organiser_form(state: &AppState, ctx: &Ctx, id: i64) -> Result<(User, Meeting), AppError> {
    let user = ctx.cadre()?.clone();
    let m = meeting_in_scope(state, &user, id).await?;
    if !organises(&user, &m) {
        return Err(AppError::forbidden());
    }
    Ok((user, m))
}

#[derive(Template)]
#[template(path = "meetings.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<(Meeting, String, String)>,
    may_create: bool,
}

/// `GET /meetings`: cadres.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let c = Chrome::new(&ctx, "meeting.list_title");
    let reach = meeting_reach(&state, &user).await?;
    let rows = state
        .store
        .meetings()
        .await?
        .into_iter()
        .filter(|m| reach.sees(m))
        .map(|m| {
            let kind = c.t(&format!("meeting.kind.{}", m.kind.code())).to_owned();
            let at = yongxin_domain::time::display_local(m.held_at);
            (m, kind, at)
        })
        .collect();
    render(&ListPage {
        may_create: user.role.may(Permission::OrganiseMeeting),
        rows,
        c,
    })
}

#[derive(Template)]
#[template(path = "meeting_form.html")]
struct FormPage {
    c: Chrome,
    /// The villages the user holds meetings of.
    villages: Vec<(i64, String)>,
    /// Whether the user also holds the subdistrict's own (hearings without a village).
    whole_subdistrict: bool,
    kinds: Vec<(&'static str, String)>,
    form: MeetingForm,
    error: Option<String>,
}

/// The new-meeting form, kept as typed so a refused one is shown again as it was.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MeetingForm {
    kind: String,
    village: String,
    basis: String,
    title: String,
    held_at: String,
    place: String,
    agenda: String,
    /// ID numbers of the members, separated by spaces, commas or new lines.
    members: String,
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    form: MeetingForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let c = Chrome::new(ctx, "meeting.new_title");
    let kinds = MeetingKind::ALL
        .iter()
        .map(|k| {
            (
                k.code(),
                c.t(&format!("meeting.kind.{}", k.code())).to_owned(),
            )
        })
        .collect();
    let user = ctx.cadre()?;
    let villages = state
        .store
        .villages()
        .await?
        .into_iter()
        .filter(|v| organises_in(user, Some(v.id)))
        .map(|v| (v.id, v.name))
        .collect();
    let mut response = render(&FormPage {
        whole_subdistrict: organises_in(user, None),
        c,
        villages,
        kinds,
        form,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /meetings/new`: organisers.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn new_meeting(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OrganiseMeeting)?;
    // A village officer's meetings are their village's: it is chosen already.
    let village = match user.scope() {
        Scope::Village(v) => v.to_string(),
        _ => String::new(),
    };
    form_page(
        &state,
        &ctx,
        MeetingForm {
            kind: "representatives".into(),
            village,
            ..MeetingForm::default()
        },
        None,
    )
    .await
}

/// `POST /meetings`: organisers (village officers for their own village).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<MeetingForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OrganiseMeeting)?.clone();
    let c = ctx.lang.catalog();
    let kind = MeetingKind::parse(&form.kind).ok_or_else(|| AppError::invalid_param("kind"))?;
    let village_id = opt_id(Some(&form.village), "village")?;
    let refuse = |key: &str| Some(c.t(key).to_owned());
    let error = if kind != MeetingKind::Hearing && village_id.is_none() {
        refuse("meeting.error.village_required")
    } else if !organises_in(&user, village_id) {
        return Err(AppError::forbidden());
    } else if form.title.trim().is_empty() || form.title.chars().count() > 200 {
        refuse("meeting.error.title")
    } else if form.agenda.trim().is_empty() || form.agenda.chars().count() > 20_000 {
        refuse("meeting.error.agenda")
    } else {
        None
    };
    if error.is_some() {
        return form_page(&state, &ctx, form, error).await;
    }
    let basis = (kind == MeetingKind::Villagers)
        .then(|| VillagersBasis::parse(&form.basis).unwrap_or(VillagersBasis::Adults));
    let held_at = local_time(&form.held_at, "held_at")?.unwrap_or_else(Utc::now);
    let new = NewMeeting {
        kind,
        village_id,
        basis,
        title: form.title.trim().to_owned(),
        held_at,
        place: form.place.trim().chars().take(200).collect(),
        agenda: form.agenda.trim().to_owned(),
        member_id_numbers: form
            .members
            .split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '，')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    match state.store.create_meeting(&user.actor(), new).await {
        Ok(m) => Ok(Redirect::to(&format!("/meetings/{}", m.id)).into_response()),
        Err(StoreError::Invalid { field, .. }) if field == "members" => {
            form_page(&state, &ctx, form, refuse("meeting.error.no_members")).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct ShowPage {
    c: Chrome,
    m: Meeting,
    kind: String,
    held_at: String,
    rule: String,
    quorate: bool,
    members: Vec<MeetingMember>,
    resolutions: Vec<(Resolution, String)>,
    organiser: bool,
    code: Option<String>,
    code_until: Option<String>,
    message: Option<String>,
}

/// `GET /meetings/{id}`: cadres.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    if let Some(format) = crate::http::sheet::requested(q.format.as_deref())? {
        // The attendance list (签到表): every member, whether and how they signed in, and when.
        let m = meeting_in_scope(&state, &user, id).await?;
        let c = ctx.lang.catalog();
        let mut table = vec![[
            "field.person_name",
            "meeting.signed_in_label",
            "meeting.col.signed_in_at",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect::<Vec<_>>()];
        for mm in state.store.meeting_members(id).await? {
            let (how, at) = match mm.signed_in {
                Some((how, at)) => (
                    c.t(&format!("meeting.how.{}", how.code())).to_owned(),
                    yongxin_domain::time::display_local(at),
                ),
                None => (c.t("meeting.absent").to_owned(), String::new()),
            };
            table.push(vec![mm.name, how, at]);
        }
        return crate::http::sheet::download(
            &table,
            format,
            &format!("meeting-{}-attendance", m.id),
        );
    }
    show_page(&state, &ctx, id, None, None).await
}

/// Query of a meeting's page: `format=xlsx|csv` for its attendance list.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    format: Option<String>,
}

#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn show_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    code: Option<String>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let m = meeting_in_scope(state, &user, id).await?;
    let rule = QuorumRule::of(m.kind, m.basis);
    let mut c = Chrome::new(ctx, "meeting.title");
    c.title = m.title.clone();
    let quorate = rule.quorate(
        u32::try_from(m.members).unwrap_or(u32::MAX),
        u32::try_from(m.present).unwrap_or(u32::MAX),
    );
    let resolutions = state
        .store
        .resolutions(id)
        .await?
        .into_iter()
        .map(|r| {
            let rule = c.t(&format!("meeting.rule.{}", r.rule)).to_owned();
            (r, rule)
        })
        .collect();
    render(&ShowPage {
        kind: c.t(&format!("meeting.kind.{}", m.kind.code())).to_owned(),
        held_at: yongxin_domain::time::display_local(m.held_at),
        rule: c.t(&format!("meeting.rule.{}", rule.code())).to_owned(),
        quorate,
        members: state.store.meeting_members(id).await?,
        resolutions,
        organiser: organises(&user, &m),
        code_until: m
            .code_expires_at
            .filter(|t| *t > Utc::now())
            .map(yongxin_domain::time::display_local),
        code,
        message,
        m,
        c,
    })
}

/// A member signed in at the door.
#[derive(Debug, Deserialize)]
pub struct AttendanceForm {
    #[serde(default)]
    resident_id: String,
}

/// `POST /meetings/{id}/attendance`: cadres at the door sign a member in.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn sign_in_at_door(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<AttendanceForm>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let resident: i64 = form
        .resident_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("resident_id"))?;
    let m = meeting_in_scope(&state, &user, id).await?;
    open_for_sign_in(&m, ctx.lang.catalog())?;
    // The organisers, or the cadre whose scope holds the member's household, sign in at the
    // door: padding attendance would change the quorum.
    if !organises(&user, &m) {
        let member = state
            .store
            .meeting_members(id)
            .await?
            .into_iter()
            .find(|mm| mm.resident_id == resident)
            .ok_or_else(AppError::not_found)?;
        crate::registry::household_in_scope(&state, &user, member.household_id).await?;
    }
    state
        .store
        .sign_in_member(&user.actor(), id, resident, SignInWay::Door, Utc::now())
        .await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}

/// Members sign in from twelve hours before the meeting until a day after it began.
fn open_for_sign_in(m: &Meeting, c: &Catalog) -> Result<(), AppError> {
    if !yongxin_domain::meeting::sign_in_open(m.held_at, Utc::now()) {
        return Err(AppError::bad_request(c.t("meeting.error.not_now")));
    }
    Ok(())
}

/// `POST /meetings/{id}/code`: organisers show a new six-digit code at the meeting; members type
/// it on their phones. Only its hash is kept.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn new_code(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let (user, _) = organiser_form(&state, &ctx, id).await?;
    let token = crate::http::auth::random_token();
    let number = u32::from_str_radix(&token[..8], 16).unwrap_or(0) % 1_000_000;
    let code = format!("{number:06}");
    state
        .store
        .set_sign_in_code(
            &user.actor(),
            id,
            &crate::http::auth::token_hash(&format!("{id}:{code}")),
            Utc::now() + Duration::hours(CODE_HOURS),
        )
        .await?;
    show_page(&state, &ctx, id, Some(code), None).await
}

#[derive(Template)]
#[template(path = "meeting_sign_in.html")]
struct SignInPage {
    c: Chrome,
    id: i64,
    title: String,
    message: Option<String>,
    error: Option<String>,
}

/// `GET /meetings/{id}/sign-in`: a signed-in member types the code shown at the meeting.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn sign_in_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    ctx.user()?;
    let m = found(&state, id).await?;
    render(&SignInPage {
        c: Chrome::new(&ctx, "meeting.sign_in_title"),
        id,
        title: m.title,
        message: None,
        error: None,
    })
}

/// The code a member types.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /meetings/{id}/sign-in`: the member of the user's household the meeting counts (by
/// name when it counts several), if the code is right and current.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn sign_in_with_code(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let m = found(&state, id).await?;
    let c = ctx.lang.catalog();
    let page = |message: Option<String>, error: Option<String>| {
        let mut response = render(&SignInPage {
            c: Chrome::new(&ctx, "meeting.sign_in_title"),
            id,
            title: m.title.clone(),
            message,
            error: error.clone(),
        })?;
        if error.is_some() {
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        }
        Ok::<_, AppError>(response)
    };
    if let Err(e) = open_for_sign_in(&m, c) {
        return page(None, Some(e.in_words(c)));
    }
    // Six digits could be guessed: a user gets a few tries per meeting while a code is valid.
    // Every try is recorded before it is judged, so tries sent at once are all counted.
    let tries_key = format!("meeting:{id}");
    let since = Utc::now() - Duration::hours(CODE_HOURS);
    state
        .store
        .record_sign_in_failure(&user.username, &tries_key, Utc::now())
        .await?;
    let tries = state
        .store
        .sign_in_failures(&user.username, &tries_key, since)
        .await?;
    if tries.count > MAX_CODE_TRIES {
        return Err(AppError::too_many_attempts(CODE_HOURS * 60));
    }

    let typed = crate::http::auth::token_hash(&format!("{id}:{}", form.code.trim()));
    let valid = state
        .store
        .sign_in_code(id)
        .await?
        .is_some_and(|(hash, until)| {
            until > Utc::now()
                && crate::http::context::constant_time_eq(hash.as_bytes(), typed.as_bytes())
        });
    if !valid {
        return page(None, Some(c.t("meeting.error.code").to_owned()));
    }
    let members = state.store.meeting_members(id).await?;
    let own: Vec<&MeetingMember> = members
        .iter()
        .filter(|mm| Some(mm.household_id) == user.household_id)
        .collect();
    let member = match own.as_slice() {
        [one] => Some(*one),
        several => several
            .iter()
            .copied()
            .find(|mm| mm.name == user.display_name),
    };
    let Some(member) = member else {
        return page(None, Some(c.t("meeting.error.not_member").to_owned()));
    };
    state
        .store
        .sign_in_member(
            &user.actor(),
            id,
            member.resident_id,
            SignInWay::Code,
            Utc::now(),
        )
        .await?;
    state
        .store
        .clear_sign_in_failures(&user.username, &tries_key)
        .await?;
    page(
        Some(c.format("meeting.signed_in", &[("name", member.name.clone())])),
        None,
    )
}

/// The minutes as written.
#[derive(Debug, Deserialize)]
pub struct MinutesForm {
    #[serde(default)]
    minutes: String,
}

/// `POST /meetings/{id}/minutes`: organisers.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn minutes(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<MinutesForm>,
) -> Result<Response, AppError> {
    let (user, _) = organiser_form(&state, &ctx, id).await?;
    let text = form.minutes;
    if text.trim().is_empty() || text.chars().count() > 50_000 {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("meeting.error.minutes"),
        ));
    }
    state
        .store
        .save_minutes(&user.actor(), id, text.trim())
        .await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}

/// A resolution and its vote; the counts are read as the form gives them so a bad one is named.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolutionForm {
    text: String,
    votes_for: String,
    against: String,
    abstain: String,
}

/// `POST /meetings/{id}/resolutions`: organisers record a resolution and its vote; the rule
/// decides it, and an inquorate meeting adopts nothing.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn resolution(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<ResolutionForm>,
) -> Result<Response, AppError> {
    let (user, _) = organiser_form(&state, &ctx, id).await?;
    let c = ctx.lang.catalog();
    let text = &form.text;
    if text.trim().is_empty() || text.chars().count() > 2_000 {
        return Err(meeting_error(&MeetingError::Text, c));
    }
    let count = |value: &str, name: &str| {
        value
            .trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid_param(name))
    };
    let votes = (
        count(&form.votes_for, "votes_for")?,
        count(&form.against, "against")?,
        count(&form.abstain, "abstain")?,
    );
    let r = state
        .store
        .add_resolution(&user.actor(), id, text.trim(), votes)
        .await?
        .map_err(|e| meeting_error(&e, c))?;
    let outcome = c
        .t(if r.passed {
            "meeting.passed"
        } else {
            "meeting.failed"
        })
        .to_owned();
    show_page(&state, &ctx, id, None, Some(outcome)).await
}

/// `POST /meetings/{id}/publish`: organisers publish the minutes and resolutions as a notice to
/// the meeting's village (or the subdistrict).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let (user, m) = organiser_form(&state, &ctx, id).await?;
    let c = ctx.lang.catalog();
    if let Some(n) = m.minutes_notice_id {
        return Ok(Redirect::to(&format!("/notices/{n}")).into_response());
    }
    let notice = publish_minutes(&*state.store, &user.actor(), &m, c).await?;
    Ok(Redirect::to(&format!("/notices/{}", notice.id)).into_response())
}
