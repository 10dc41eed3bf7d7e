//! Notices (公告, 公示): the public list and page, publishing and correcting, attached files,
//! objections to a 公示, who has been informed (宣传到户) and the Atom feed.

use crate::http::extract::{CsrfForm, Ids};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use yongxin_domain::notice::{
    attachment_name, checked_text, line_diff, objections_open, AttachmentKind, DiffLine,
    NoticeDraft, NoticeKind, NoticeState, ScopeKind, MAX_BODY_CHARS, MAX_REASON_CHARS,
    MAX_TITLE_CHARS,
};
use yongxin_domain::Permission;
use yongxin_domain::Role;
use yongxin_store::{AppealId, HouseholdId, ProjectId};
use yongxin_store::{
    CoverageRow, HouseholdSummary, InformedHow, NewAttachment, Notice, NoticeAttachment,
    NoticeQuery, User,
};

use super::{addresses, names, notice_error, notice_query, object, viewable, ObjectionInput};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::http::params::{local_time, parse_opt_id};
use crate::http::upload::FormWithFiles;
use crate::AppState;

/// A notice as its page and list show it.
struct NoticeView {
    n: Notice,
    kind: String,
    state: String,
    state_code: &'static str,
    publish_at: String,
    end_at: Option<String>,
    objections_until: Option<String>,
    objections_open: bool,
    scope: String,
    paragraphs: Vec<String>,
}

/// The name listed for `id`, or the id itself when it is not listed.
fn name_of<I: PartialEq + std::fmt::Display>(list: &[(I, String)], id: I) -> String {
    list.iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| id.to_string(), |(_, name)| name.clone())
}

impl NoticeView {
    fn new(
        n: Notice,
        c: &Catalog,
        villages: &[(i64, String)],
        projects: &[(ProjectId, String)],
    ) -> Self {
        let show = yongxin_domain::time::display_local;
        let now = Utc::now();
        let state = NoticeState::at(n.publish_at, n.end_at, now);
        let scope = match n.scope {
            ScopeKind::Subdistrict => c.t("notice.scope.subdistrict").to_owned(),
            ScopeKind::Villages => c.join(n.village_ids.iter().map(|v| name_of(villages, *v))),
            ScopeKind::Project => n
                .project_id
                .map(|p| name_of(projects, p))
                .unwrap_or_default(),
        };
        Self {
            kind: c.t(&format!("notice.kind.{}", n.kind.code())).to_owned(),
            state: c.t(&format!("notice.state.{}", state.code())).to_owned(),
            state_code: state.code(),
            publish_at: show(n.publish_at),
            end_at: n.end_at.map(show),
            objections_until: n.objections_until.map(show),
            objections_open: objections_open(n.kind, n.publish_at, n.objections_until, now).is_ok(),
            scope,
            paragraphs: n
                .body
                .split("\n\n")
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            n,
        }
    }
}

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    village: Option<String>,
    project: Option<String>,
    kind: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage {
    c: Chrome,
    notices: Vec<NoticeView>,
    page: u32,
    pages: i64,
    may_publish: bool,
    villages: Vec<(i64, String)>,
    projects: Vec<(ProjectId, String)>,
    kinds: Vec<(&'static str, String)>,
    filter: ListFilter,
}

/// The filters as chosen, for the form and the pager's links.
#[derive(Default)]
struct ListFilter {
    village: Option<i64>,
    project: Option<ProjectId>,
    kind: String,
}

impl ListFilter {
    fn village_is(&self, id: &i64) -> bool {
        self.village == Some(*id)
    }

    fn project_is(&self, id: &ProjectId) -> bool {
        self.project == Some(*id)
    }

    fn link(&self, page: u32) -> String {
        let mut q = format!("/notices?page={page}");
        if let Some(v) = self.village {
            q.push_str(&format!("&village={v}"));
        }
        if let Some(p) = self.project {
            q.push_str(&format!("&project={p}"));
        }
        if !self.kind.is_empty() {
            q.push_str(&format!("&kind={}", self.kind));
        }
        q
    }
}

/// `GET /notices`: anyone.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let query = notice_query(
        &ctx,
        q.village.as_deref(),
        q.project.as_deref(),
        q.kind.as_deref(),
        q.page.as_deref(),
        20,
    )?;
    let found = state.store.notices(&query).await?;
    let (villages, projects) = names(&state).await?;
    let c = Chrome::new(&ctx, "notice.list_title");
    let notices = found
        .notices
        .into_iter()
        .map(|n| NoticeView::new(n, c.catalog, &villages, &projects))
        .collect();
    let kinds = NoticeKind::ALL
        .iter()
        .map(|k| {
            (
                k.code(),
                c.t(&format!("notice.kind.{}", k.code())).to_owned(),
            )
        })
        .collect();
    render(&ListPage {
        may_publish: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role.may(Permission::PublishNotice)),
        page: query.page,
        pages: ((found.total + 19) / 20).max(1),
        filter: ListFilter {
            village: query.village_id,
            project: query.project_id,
            kind: query.kind.map(|k| k.code().to_owned()).unwrap_or_default(),
        },
        notices,
        villages,
        projects,
        kinds,
        c,
    })
}

#[derive(Template)]
#[template(path = "notice.html")]
struct ShowPage {
    c: Chrome,
    v: NoticeView,
    attachments: Vec<NoticeAttachment>,
    informed: Option<String>,
    may_publish: bool,
    may_object: bool,
    on_behalf: bool,
    objections: Vec<(AppealId, String, String)>,
    message: Option<String>,
}

/// `GET /notices/{id}`: anyone once published. A signed-in member of a household the notice
/// addresses is recorded as informed by reading it.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    show_page(&state, &ctx, id, None).await
}

#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn show_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    message: Option<String>,
) -> Result<Response, AppError> {
    let notice = viewable(state, ctx, id).await?;
    let now = Utc::now();
    let mut informed = None;
    if let Some(u) = ctx.user.as_ref().filter(|u| u.role == Role::Resident) {
        if let Some(h) = u.household_id {
            informed = state.store.informed(id, h).await?;
            // Only the first reading is a change worth a write.
            if informed.is_none()
                && notice.publish_at <= now
                && addresses(
                    state,
                    &notice,
                    state.store.household(h).await?.summary.village_id,
                )
                .await?
            {
                state
                    .store
                    .mark_informed(&u.actor(), id, h, InformedHow::Read, u.id, now)
                    .await?;
                informed = state.store.informed(id, h).await?;
            }
        }
    }
    let c = Chrome::new(ctx, "notice.title");
    let informed = informed.map(|i| {
        c.catalog.format(
            &format!("notice.informed_{}", i.how.code()),
            &[("at", yongxin_domain::time::display_local(i.at))],
        )
    });
    // Office staff see the objections they could open (the counts are public).
    let staff = ctx
        .user
        .as_ref()
        .filter(|u| u.role.may(Permission::WorkInOffice));
    let objections = if let Some(user) = staff {
        state
            .store
            .objections(id)
            .await?
            .into_iter()
            .filter(|a| crate::appeals::sees(user, a))
            .map(|a| {
                let status = c
                    .t(&format!("appeal.status.{}", a.status.code()))
                    .to_owned();
                (a.id, a.number, status)
            })
            .collect()
    } else {
        Vec::new()
    };
    let (villages, projects) = names(state).await?;
    let mut c = c;
    c.title = notice.title.clone();
    let v = NoticeView::new(notice, c.catalog, &villages, &projects);
    render(&ShowPage {
        attachments: state.store.notice_attachments(id).await?,
        informed,
        may_publish: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role.may(Permission::PublishNotice)),
        may_object: v.objections_open && ctx.user.is_some(),
        on_behalf: staff.is_some(),
        objections,
        message,
        v,
        c,
    })
}

#[derive(Template)]
#[template(path = "notice_form.html")]
struct FormPage {
    c: Chrome,
    correcting: Option<i64>,
    form: DraftForm,
    villages: Vec<(i64, String)>,
    projects: Vec<(ProjectId, String)>,
    kinds: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// A notice form as posted (also the correction form, which uses title, body and reason).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct DraftForm {
    csrf: String,
    kind: String,
    scope: String,
    villages: Vec<String>,
    project: String,
    title: String,
    body: String,
    publish_at: String,
    end_at: String,
    objections_until: String,
    reason: String,
}

impl DraftForm {
    fn has_village(&self, id: &i64) -> bool {
        self.villages.iter().any(|v| v.trim() == id.to_string())
    }
}

impl DraftForm {
    fn draft(&self) -> Result<NoticeDraft, AppError> {
        let kind = NoticeKind::parse(&self.kind).ok_or_else(|| AppError::invalid_param("kind"))?;
        let scope =
            ScopeKind::parse(&self.scope).ok_or_else(|| AppError::invalid_param("scope"))?;
        let village_ids = self
            .villages
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| AppError::invalid_param("villages"))
            })
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(NoticeDraft {
            kind,
            scope,
            village_ids,
            project_id: parse_opt_id(Some(&self.project), "project")?,
            title: self.title.clone(),
            body: self.body.clone(),
            publish_at: local_time(&self.publish_at, "publish_at")?.unwrap_or_else(Utc::now),
            end_at: local_time(&self.end_at, "end_at")?,
            objections_until: local_time(&self.objections_until, "objections_until")?,
        })
    }
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    correcting: Option<i64>,
    form: DraftForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (villages, projects) = names(state).await?;
    let c = Chrome::new(
        ctx,
        if correcting.is_some() {
            "notice.correct_title"
        } else {
            "notice.new_title"
        },
    );
    let kinds = NoticeKind::ALL
        .iter()
        .map(|k| {
            (
                k.code(),
                c.t(&format!("notice.kind.{}", k.code())).to_owned(),
            )
        })
        .collect();
    let mut response = render(&FormPage {
        c,
        correcting,
        form,
        villages,
        projects,
        kinds,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /notices/new`: publishers.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn new_notice(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::PublishNotice)?;
    let form = DraftForm {
        kind: "policy".into(),
        scope: "subdistrict".into(),
        ..DraftForm::default()
    };
    form_page(&state, &ctx, None, form, None).await
}

/// `POST /notices`: publishers.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::PublishNotice)?.clone();
    let c = ctx.lang.catalog();
    let draft = match form
        .draft()
        .and_then(|d| d.checked_at(Utc::now()).map_err(|e| notice_error(&e, c)))
    {
        Ok(d) => d,
        Err(e) => return form_page(&state, &ctx, None, form, Some(e.in_words(c))).await,
    };
    let notice = state.store.create_notice(&user.actor(), draft).await?;
    Ok(Redirect::to(&format!("/notices/{}", notice.id)).into_response())
}

/// `GET /notices/{id}/correct`: publishers.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn correct_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    ctx.require(Permission::PublishNotice)?;
    let n = viewable(&state, &ctx, id).await?;
    let form = DraftForm {
        title: n.title,
        body: n.body,
        ..DraftForm::default()
    };
    form_page(&state, &ctx, Some(id), form, None).await
}

/// `POST /notices/{id}/correct`: publishers; a new version with the reason, the old kept.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn correct(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::PublishNotice)?.clone();
    viewable(&state, &ctx, id).await?;
    let c = ctx.lang.catalog();
    let checked = checked_text("title", &form.title, MAX_TITLE_CHARS)
        .and_then(|t| Ok((t, checked_text("body", &form.body, MAX_BODY_CHARS)?)))
        .and_then(|(t, b)| {
            Ok((
                t,
                b,
                checked_text("reason", &form.reason, MAX_REASON_CHARS)?,
            ))
        });
    let (title, body, reason) = match checked {
        Ok(v) => v,
        Err(e) => {
            let message = notice_error(&e, c).message(c);
            return form_page(&state, &ctx, Some(id), form, Some(message)).await;
        }
    };
    state
        .store
        .correct_notice(&user.actor(), id, &title, &body, &reason)
        .await?;
    Ok(Redirect::to(&format!("/notices/{id}/history")).into_response())
}

#[derive(Template)]
#[template(path = "notice_history.html")]
struct HistoryPage {
    c: Chrome,
    id: i64,
    versions: Vec<VersionView>,
}

struct VersionView {
    version: i64,
    title: String,
    author: String,
    at: String,
    reason: Option<String>,
    title_changed: Option<String>,
    diff: Vec<(&'static str, String)>,
}

/// `GET /notices/{id}/history`: whoever sees the notice; every version, each with what it
/// changed.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    let notice = viewable(&state, &ctx, id).await?;
    let versions = state.store.notice_versions(id).await?;
    let names = crate::http::page::ActorNames::load(&state, ctx.lang.catalog()).await?;
    let mut views = Vec::with_capacity(versions.len());
    let mut previous: Option<&yongxin_store::NoticeVersion> = None;
    for v in &versions {
        let diff = line_diff(previous.map_or("", |p| p.body.as_str()), &v.body)
            .into_iter()
            .map(|l| match l {
                DiffLine::Same(s) => ("same", s),
                DiffLine::Removed(s) => ("removed", s),
                DiffLine::Added(s) => ("added", s),
            })
            .collect();
        views.push(VersionView {
            version: v.version,
            title: v.title.clone(),
            author: names.name(&v.author),
            at: yongxin_domain::time::display_local(v.at),
            reason: v.reason.clone(),
            title_changed: previous
                .filter(|p| p.title != v.title)
                .map(|p| p.title.clone()),
            diff,
        });
        previous = Some(v);
    }
    views.reverse();
    let mut c = Chrome::new(&ctx, "notice.history_title");
    c.title = format!("{} · {}", notice.title, c.title);
    render(&HistoryPage {
        c,
        id,
        versions: views,
    })
}

/// `POST /notices/{id}/attachments`: publishers; a PDF, image or .xlsx, told by its content.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn attach(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    form: FormWithFiles<crate::http::extract::Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::PublishNotice)?.clone();
    viewable(&state, &ctx, id).await?;
    let c = ctx.lang.catalog();
    let Some((_, file_name, bytes)) = form.files.into_iter().find(|(f, _, _)| f == "file") else {
        return Err(AppError::bad_request(c.t("notice.error.no_file")));
    };
    let max = state.settings.attachment_max_bytes;
    if bytes.len() > max {
        return Err(AppError::bad_request(c.format(
            "notice.error.file_too_large",
            &[("max", (max / (1024 * 1024)).to_string())],
        )));
    }
    let kind = AttachmentKind::sniff(&bytes)
        .ok_or_else(|| AppError::bad_request(c.t("notice.error.file_kind")))?;
    // A notice is public: an image goes out without the location and camera data of any image
    // embedded in it, and nothing of the upload is kept beside it.
    let bytes = if kind.content_type().starts_with("image/") {
        yongxin_domain::photo::clean(&bytes, max)
            .map_err(|_| AppError::bad_request(c.t("notice.error.file_kind")))?
            .bytes
    } else {
        bytes
    };
    state
        .store
        .add_notice_attachment(
            &user.actor(),
            id,
            NewAttachment {
                token: crate::http::auth::random_token()[..32].to_owned(),
                name: attachment_name(&file_name, kind),
                content_type: kind.content_type().to_owned(),
                bytes,
            },
        )
        .await?;
    Ok(Redirect::to(&format!("/notices/{id}")).into_response())
}

/// `GET /notices/{id}/files/{token}`: whoever sees the notice.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, token)): Ids<(i64, String)>,
) -> Result<Response, AppError> {
    viewable(&state, &ctx, id).await?;
    let (a, bytes) = state
        .store
        .notice_attachment(id, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    // Images are shown in the page (cleaned again, which mends images stored before the cleaner
    // knew of embedded images); documents are downloaded under their name.
    let (disposition, bytes) = if a.content_type.starts_with("image/") {
        let clean =
            yongxin_domain::photo::clean(&bytes, usize::MAX).map_err(|_| AppError::not_found())?;
        ("inline", clean.bytes)
    } else {
        ("attachment", bytes)
    };
    let encoded = crate::http::context::percent_encode(&a.name);
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{encoded}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// An objection as posted.
#[derive(Debug, Default, Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    reason: String,
    household_id: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
}

/// `POST /notices/{id}/objections`: signed-in residents and cadres, while the window is open.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn create_objection(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ObjectionForm>,
) -> Result<Response, AppError> {
    ctx.user()?;
    let household_id = parse_opt_id(f.household_id.as_deref(), "household_id")?;
    let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let appeal = object(
        &state,
        &ctx,
        id,
        ObjectionInput {
            reason: f.reason,
            household_id,
            contact_name: given(f.contact_name),
            contact_phone: given(f.contact_phone),
        },
    )
    .await?;
    let c = ctx.lang.catalog();
    let message = c.format("notice.objection_filed", &[("number", appeal.number)]);
    show_page(&state, &ctx, id, Some(message)).await
}

#[derive(Template)]
#[template(path = "notice_coverage.html")]
struct CoveragePage {
    c: Chrome,
    id: i64,
    rows: Vec<CoverageRow>,
    total: (i64, i64),
    uninformed: Vec<HouseholdSummary>,
    uninformed_total: i64,
    page: u32,
    pages: i64,
}

/// The coverage query.
#[derive(Debug, Default, Deserialize)]
pub struct CoverageQuery {
    page: Option<String>,
    /// `xlsx` or `csv`: the households still to inform, all of them, as a file.
    format: Option<String>,
}

/// `GET /notices/{id}/coverage`: cadres; informed households per grid of their reach, and the
/// households still to inform (宣传到户).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn coverage(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let notice = viewable(&state, &ctx, id).await?;
    let (village, grids) = user
        .scope()
        .coverage_reach()
        .ok_or_else(AppError::forbidden)?;
    let rows: Vec<CoverageRow> = state
        .store
        .notice_coverage(&notice)
        .await?
        .into_iter()
        .filter(|r| {
            village.is_none_or(|v| v == r.village_id)
                && grids.as_ref().is_none_or(|g| g.contains(&r.grid_id))
        })
        .collect();
    let total = rows
        .iter()
        .fold((0, 0), |(h, i), r| (h + r.households, i + r.informed));
    if let Some(format) = crate::http::sheet::requested(q.format.as_deref())? {
        let c = ctx.lang.catalog();
        let mut table = vec![crate::http::sheet::households_header(c)];
        for page in 1.. {
            let batch = state
                .store
                .uninformed_households(&notice, village, grids.clone(), page, 1000)
                .await?;
            let done = batch.len() < 1000;
            table.extend(
                batch
                    .into_iter()
                    .map(|h| vec![h.village_name, h.grid_name, h.key, h.head_name, h.address]),
            );
            if done {
                break;
            }
        }
        return crate::http::sheet::download(&table, format, &format!("notice-{id}-uninformed"));
    }
    let page = parse_opt_id(q.page.as_deref(), "page")?
        .unwrap_or(1)
        .clamp(1, 100_000) as u32;
    let uninformed = state
        .store
        .uninformed_households(&notice, village, grids, page, 50)
        .await?;
    let uninformed_total = total.0 - total.1;
    let mut c = Chrome::new(&ctx, "notice.coverage_title");
    c.title = format!("{} · {}", notice.title, c.title);
    render(&CoveragePage {
        c,
        id,
        rows,
        total,
        pages: ((uninformed_total + 49) / 50).max(1),
        uninformed_total,
        uninformed,
        page,
    })
}

/// A cadre's confirmation that a household was told in person.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    household_id: String,
}

/// `POST /notices/{id}/informed`: cadres, for households in their scope that the notice
/// addresses.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn confirm_informed(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let household_id: HouseholdId = f
        .household_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("household_id"))?;
    confirm(&state, &ctx, &user, id, household_id).await?;
    Ok(Redirect::to(&format!("/notices/{id}/coverage")).into_response())
}

/// Records a cadre's in-person confirmation; answers whether it was news.
#[tracing::instrument(skip_all, fields(id, household_id), err(level = "debug"))]
pub async fn confirm(
    state: &AppState,
    ctx: &Ctx,
    user: &User,
    id: i64,
    household_id: HouseholdId,
) -> Result<bool, AppError> {
    let notice = viewable(state, ctx, id).await?;
    let household = crate::registry::household_in_scope(state, user, household_id).await?;
    if !addresses(state, &notice, household.summary.village_id).await? {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("notice.error.not_addressed"),
        ));
    }
    Ok(state
        .store
        .mark_informed(
            &user.actor(),
            id,
            household_id,
            InformedHow::Confirmed,
            user.id,
            Utc::now(),
        )
        .await?)
}

/// The feed's filters.
#[derive(Debug, Default, Deserialize)]
pub struct FeedQuery {
    village: Option<String>,
    project: Option<String>,
}

/// `GET /notices.atom`: the 50 latest published notices, optionally of one village's or
/// project's scope, as an Atom feed.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn feed(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let query = NoticeQuery {
        published_by: Some(Utc::now()),
        village_id: parse_opt_id(q.village.as_deref(), "village")?,
        project_id: parse_opt_id(q.project.as_deref(), "project")?,
        kind: None,
        page: 1,
        per_page: 50,
    };
    let found = state.store.notices(&query).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .unwrap_or("localhost");
    let base = format!("http://{host}");
    let updated = found
        .notices
        .iter()
        .map(|n| n.updated_at.max(n.publish_at))
        .max()
        .unwrap_or_else(Utc::now);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "<title>{}</title>\n<id>urn:yongxin:notices:{}:{}</id>\n<link rel=\"self\" href=\"{base}/notices.atom\"/>\n<updated>{}</updated>\n",
        escape(ctx.lang.catalog().t("notice.feed_title")),
        query.village_id.map_or_else(|| "all".into(), |v| format!("village-{v}")),
        query.project_id.map_or_else(|| "all".into(), |p| format!("project-{p}")),
        updated.to_rfc3339()
    ));
    for n in &found.notices {
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>urn:yongxin:notice:{}</id>\n<link href=\"{base}/notices/{}\"/>\n<published>{}</published>\n<updated>{}</updated>\n<author><name>{}</name></author>\n<category term=\"{}\"/>\n<content type=\"text\">{}</content>\n</entry>\n",
            escape(&n.title),
            n.id,
            n.id,
            n.publish_at.to_rfc3339(),
            n.updated_at.max(n.publish_at).to_rfc3339(),
            escape(&n.created_by),
            n.kind.code(),
            escape(&n.body),
        ));
    }
    xml.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// Escapes text for XML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::http::wire::escape(s, &mut out);
    out
}
