//! Consultations (征求意见): the list and page, creating one from plain-text questions, answering
//! (a resident for their household online, a cadre on a household's behalf in person or at a
//! meeting), the results, and publishing them as a notice.

use crate::http::extract::{Button, CsrfForm, Ids};
use yongxin_domain::Permission;
use yongxin_store::ProjectId;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use yongxin_domain::consultation::{
    answers_open, checked_len, parse_questions, ConsultationError, MAX_BACKGROUND_CHARS,
    MAX_TITLE_CHARS,
};
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::Role;
use yongxin_store::{Consultation, NewConsultation};

use super::answer;
use super::consultation_error;
use super::form::{answers_from_form, question_views, QuestionFields, QuestionView};
use super::found;
use super::publish_results;
use super::results_view;
use super::state_code;
use super::visible_results;
use super::AnswerRequest;
use super::ResultsView;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::format::percent;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::http::params::{local_time, parse_opt_id as opt_id};
use crate::notices::names;
use crate::AppState;

#[derive(Template)]
#[template(path = "consultations.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<(i64, String, String, String, String)>,
    may_create: bool,
}

/// `GET /consultations`: anyone.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let now = Utc::now();
    let c = Chrome::new(&ctx, "consultation.list_title");
    let show = yongxin_domain::time::display_local;
    let rows = state
        .store
        .consultations()
        .await?
        .into_iter()
        .map(|k| {
            let st = c
                .t(&format!("consultation.state.{}", state_code(&k, now)))
                .to_owned();
            (k.id, k.title, show(k.opens_at), show(k.closes_at), st)
        })
        .collect();
    render(&ListPage {
        may_create: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role.may(Permission::RunConsultation)),
        rows,
        c,
    })
}

#[derive(Template)]
#[template(path = "consultation_form.html")]
struct FormPage {
    c: Chrome,
    f: CreateForm,
    villages: Vec<(i64, String)>,
    projects: Vec<(ProjectId, String)>,
    error: Option<String>,
}

/// The creation form as posted.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct CreateForm {
    csrf: String,
    title: String,
    background: String,
    notice: String,
    scope: String,
    villages: Vec<String>,
    project: String,
    opens_at: String,
    closes_at: String,
    questions: String,
}

impl CreateForm {
    fn has_village(&self, id: &i64) -> bool {
        self.villages.iter().any(|v| v.trim() == id.to_string())
    }

    fn checked(&self, c: &Catalog) -> Result<NewConsultation, AppError> {
        let err = |e: ConsultationError| consultation_error(&e, c);
        let title = checked_len("title", &self.title, MAX_TITLE_CHARS).map_err(err)?;
        let background =
            checked_len("background", &self.background, MAX_BACKGROUND_CHARS).map_err(err)?;
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
        let project_id = opt_id(Some(&self.project), "project")?;
        let empty_scope = match scope {
            ScopeKind::Subdistrict => false,
            ScopeKind::Villages => village_ids.is_empty(),
            ScopeKind::Project => project_id.is_none(),
        };
        if empty_scope {
            return Err(AppError::bad_request(c.t("notice.error.empty_scope")));
        }
        let opens_at = local_time(&self.opens_at, "opens_at")?.unwrap_or_else(Utc::now);
        let closes_at = local_time(&self.closes_at, "closes_at")?
            .ok_or_else(|| err(ConsultationError::Required { field: "closes_at" }))?;
        if closes_at <= opens_at {
            return Err(err(ConsultationError::CloseBeforeOpen));
        }
        Ok(NewConsultation {
            title,
            background,
            notice_id: opt_id(Some(&self.notice), "notice")?,
            village_ids: if scope == ScopeKind::Villages {
                village_ids
            } else {
                vec![]
            },
            project_id: if scope == ScopeKind::Project {
                project_id
            } else {
                None
            },
            scope,
            opens_at,
            closes_at,
            questions: parse_questions(&self.questions).map_err(err)?,
        })
    }
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    f: CreateForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (villages, projects) = names(state).await?;
    let mut response = render(&FormPage {
        c: Chrome::new(ctx, "consultation.new_title"),
        f,
        villages,
        projects,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /consultations/new`: publishers.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn new_consultation(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, AppError> {
    ctx.require(Permission::RunConsultation)?;
    let f = CreateForm {
        scope: "subdistrict".into(),
        questions: ctx
            .lang
            .catalog()
            .t("consultation.example_questions")
            .to_owned(),
        ..CreateForm::default()
    };
    form_page(&state, &ctx, f, None).await
}

/// `POST /consultations`: publishers.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunConsultation)?.clone();
    let c = ctx.lang.catalog();
    let new = match f.checked(c) {
        Ok(n) => n,
        Err(e) => return form_page(&state, &ctx, f, Some(e.in_words(c))).await,
    };
    let created = state.store.create_consultation(&user.actor(), new).await?;
    Ok(Redirect::to(&format!("/consultations/{}", created.id)).into_response())
}

#[derive(Template)]
#[template(path = "consultation.html")]
struct ShowPage {
    c: Chrome,
    k: Consultation,
    state: String,
    opens_at: String,
    closes_at: String,
    questions: Vec<QuestionView>,
    answered: Option<String>,
    may_answer: bool,
    staff: bool,
    message: Option<String>,
}

/// `GET /consultations/{id}`: anyone; the household's own answer and the form for those who may
/// answer.
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
    let k = found(state, id).await?;
    let now = Utc::now();
    let mut c = Chrome::new(ctx, "consultation.title");
    c.title = k.title.clone();
    let resident_household = ctx
        .user
        .as_ref()
        .filter(|u| u.role == Role::Resident)
        .and_then(|u| u.household_id);
    let current = match resident_household {
        Some(h) => state.store.current_answer(id, h).await?,
        None => None,
    };
    let answered = current.as_ref().map(|a| {
        c.catalog.format(
            &format!("consultation.answered_{}", a.channel.code()),
            &[
                ("at", yongxin_domain::time::display_local(a.answered_at)),
                ("by", a.recorded_by.clone()),
            ],
        )
    });
    let open = answers_open(k.opens_at, k.closes_at, now).is_ok();
    let staff = ctx.user.as_ref().is_some_and(|u| u.role.is_cadre());
    let show = yongxin_domain::time::display_local;
    render(&ShowPage {
        questions: question_views(c.catalog, &k, current.as_ref().map(|a| &a.given)),
        state: c
            .t(&format!("consultation.state.{}", state_code(&k, now)))
            .to_owned(),
        opens_at: show(k.opens_at),
        closes_at: show(k.closes_at),
        answered,
        may_answer: open && (resident_household.is_some() || staff),
        staff,
        message,
        k,
        c,
    })
}

/// A household's answers as the page posts them: who answers, and the questions' own fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    channel: String,
    #[serde(flatten)]
    questions: QuestionFields,
}

/// `POST /consultations/{id}/answers`: residents for their household, cadres on a household's
/// behalf.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let given_or_none = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let k = found(&state, id).await?;
    let given = answers_from_form(&k, &form.questions)?;
    let household_id = opt_id(given_or_none(&form.household_id).as_deref(), "household_id")?;
    let c = ctx.lang.catalog();
    let resident_id = opt_id(given_or_none(&form.resident_id).as_deref(), "resident_id")?;
    let channel = given_or_none(&form.channel);
    let request = AnswerRequest {
        household_id,
        resident_id,
        channel: channel.as_deref(),
        given,
    };
    answer(&state, &user, id, request, c).await?;
    show_page(
        &state,
        &ctx,
        id,
        Some(c.t("consultation.thanks").to_owned()),
    )
    .await
}

#[derive(Template)]
#[template(path = "consultation_results.html")]
struct ResultsPage {
    c: Chrome,
    k: Consultation,
    r: ResultsView,
    turnout: String,
    may_publish: bool,
}

/// `GET /consultations/{id}/results`: cadres (free-text answers included).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn results(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let k = found(&state, id).await?;
    let r = results_view(
        &k,
        &visible_results(&user, state.store.consultation_results(id).await?),
    );
    if let Some(format) = crate::http::sheet::requested(q.format.as_deref())? {
        // One row per option: the question, the option, the count, its share, the mean place
        // (rankings), then one column per village; the free-text answers after.
        let c = ctx.lang.catalog();
        let mut header: Vec<String> = [
            "consultation.col.question",
            "consultation.col.option",
            "consultation.col.count",
            "consultation.col.share",
            "consultation.col.mean_place",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect();
        header.extend(r.villages.iter().map(|v| v.1.clone()));
        let width = header.len();
        let mut table = vec![header];
        for question in &r.questions {
            for (_, label, count, share, mean, by_village) in &question.options {
                let mut row = vec![
                    question.q.prompt.clone(),
                    label.clone(),
                    count.to_string(),
                    share.clone(),
                    mean.clone(),
                ];
                row.extend(by_village.iter().map(ToString::to_string));
                table.push(row);
            }
            for (village, text) in &question.texts {
                table.push(vec![
                    question.q.prompt.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{village}: {text}"),
                ]);
            }
        }
        let width = table.iter().map(Vec::len).max().unwrap_or(width);
        for row in &mut table {
            row.resize(width, String::new());
        }
        return crate::http::sheet::download(&table, format, &format!("consultation-{id}-results"));
    }
    let mut c = Chrome::new(&ctx, "consultation.results_title");
    c.title = format!("{} · {}", k.title, c.title);
    render(&ResultsPage {
        turnout: percent(r.answered, r.eligible),
        may_publish: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role.may(Permission::RunConsultation)),
        k,
        r,
        c,
    })
}

/// Query of the results: `format=xlsx|csv` for the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResultsQuery {
    format: Option<String>,
}

/// `POST /consultations/{id}/publish`: publishers, once it has closed; the results become a
/// notice to the same households.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunConsultation)?.clone();
    let k = found(&state, id).await?;
    let c = ctx.lang.catalog();
    if Utc::now() < k.closes_at {
        return Err(AppError::bad_request(c.t("consultation.error.not_closed")));
    }
    if let Some(n) = k.result_notice_id {
        return Ok(Redirect::to(&format!("/notices/{n}")).into_response());
    }
    let notice = publish_results(&*state.store, &user.actor(), &k, c).await?;
    Ok(Redirect::to(&format!("/notices/{}", notice.id)).into_response())
}
