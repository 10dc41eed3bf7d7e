//! Consultations (征求意见): the list and page, creating one from plain-text questions, answering
//! (a resident for their household online, a cadre on a household's behalf in person or at a
//! meeting), the results, and publishing them as a notice.

use crate::http::extract::{Button, CsrfForm, Ids};
use std::collections::BTreeMap;
use yongxin_domain::Actor;
use yongxin_domain::Permission;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use yongxin_domain::consultation::{
    answers_open, checked_len, parse_questions, AnswerChannel, ConsultationError, GivenAnswer,
    Question, QuestionKind, MAX_BACKGROUND_CHARS, MAX_TITLE_CHARS,
};
use yongxin_domain::notice::ScopeKind;
use yongxin_domain::Role;
use yongxin_store::{Consultation, ConsultationResults, NewAnswer, NewConsultation, User};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::format::percent;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::http::params::{local_time, parse_opt_id as opt_id};
use crate::notices::names;
use crate::AppState;

/// The error of a refused consultation or answer, in the user's language.
pub fn consultation_error(e: &ConsultationError, c: &Catalog) -> AppError {
    let message = match e {
        ConsultationError::Line { line, reason } => c.format(
            "consultation.error.line",
            &[
                ("line", line.to_string()),
                ("reason", c.t(reason).to_owned()),
            ],
        ),
        ConsultationError::Required { field } | ConsultationError::TooLong { field, .. } => c
            .format(
                e.message_key(),
                &[
                    (
                        "field",
                        c.t(&format!("consultation.field.{field}")).to_owned(),
                    ),
                    (
                        "max",
                        match e {
                            ConsultationError::TooLong { max, .. } => max.to_string(),
                            _ => String::new(),
                        },
                    ),
                ],
            ),
        ConsultationError::TooManyChoices { max, .. } => {
            c.format(e.message_key(), &[("max", max.to_string())])
        }
        _ => c.t(e.message_key()).to_owned(),
    };
    if matches!(e, ConsultationError::NotEligible) {
        AppError::refused(message)
    } else {
        AppError::bad_request(message)
    }
}

/// `open`, `upcoming` or `closed`.
pub fn state_code(c: &Consultation, now: DateTime<Utc>) -> &'static str {
    if now < c.opens_at {
        "upcoming"
    } else if now < c.closes_at {
        "open"
    } else {
        "closed"
    }
}

#[derive(Template)]
#[template(path = "consultations.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<(i64, String, String, String, String)>,
    may_create: bool,
}

/// `GET /consultations`: anyone.
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
    projects: Vec<(i64, String)>,
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
pub async fn new_consultation(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, AppError> {
    ctx.require(Permission::RunConsultation)?;
    let f = CreateForm {
        scope: "subdistrict".into(),
        questions: "单选：您倾向的安置区选址？\n- 东坞村北\n- 西坪村东\n多选(2)：您需要的户型面积？\n- 90平方米\n- 120平方米\n- 140平方米\n填空：其他意见和建议".into(),
        ..CreateForm::default()
    };
    form_page(&state, &ctx, f, None).await
}

/// `POST /consultations`: publishers.
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

async fn found(state: &AppState, id: i64) -> Result<Consultation, AppError> {
    state
        .store
        .consultation(id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// A question as the answer form shows it.
struct QuestionView {
    q: Question,
    kind: String,
    hint: String,
    /// Options with whether the current answer picked them, and their rank in it.
    options: Vec<(i64, String, bool, Option<usize>)>,
    text: String,
}

impl QuestionView {
    fn place_selected(&self, rank: &Option<usize>, place: usize) -> bool {
        *rank == Some(place)
    }
}

fn question_views(
    c: &Catalog,
    k: &Consultation,
    current: Option<&BTreeMap<i64, GivenAnswer>>,
) -> Vec<QuestionView> {
    k.questions
        .iter()
        .map(|q| {
            let given = current.and_then(|g| g.get(&q.id));
            let picked = |o: i64| match given {
                Some(GivenAnswer::Option(x)) => (*x == o, None),
                Some(GivenAnswer::Options(list)) => (
                    list.contains(&o),
                    list.iter().position(|x| *x == o).map(|p| p + 1),
                ),
                _ => (false, None),
            };
            QuestionView {
                kind: c
                    .t(&format!("consultation.kind.{}", q.kind.code()))
                    .to_owned(),
                hint: match q.kind {
                    QuestionKind::Multiple => c.format(
                        "consultation.hint_multiple",
                        &[("max", q.max_choices.unwrap_or(0).to_string())],
                    ),
                    QuestionKind::Ranking => c.t("consultation.hint_ranking").to_owned(),
                    _ => String::new(),
                },
                options: q
                    .options
                    .iter()
                    .map(|(id, label)| {
                        let (p, rank) = picked(*id);
                        (*id, label.clone(), p, rank)
                    })
                    .collect(),
                text: match given {
                    Some(GivenAnswer::Text(t)) => t.clone(),
                    _ => String::new(),
                },
                q: q.clone(),
            }
        })
        .collect()
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
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    show_page(&state, &ctx, id, None).await
}

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

/// Reads a form's answers: `q{id}` for a single choice, repeated for multiple choices, free text;
/// `r{question}_{option}` = place for a ranking.
fn answers_from_form(
    k: &Consultation,
    form: &QuestionFields,
) -> Result<BTreeMap<i64, GivenAnswer>, AppError> {
    let mut given = BTreeMap::new();
    for q in &k.questions {
        let name = format!("q{}", q.id);
        let values: Vec<&str> = form
            .answers
            .get(&q.id)
            .into_iter()
            .flatten()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let id = |v: &str| v.parse::<i64>().map_err(|_| AppError::invalid_param(&name));
        match q.kind {
            QuestionKind::Single => {
                if let Some(v) = values.first() {
                    given.insert(q.id, GivenAnswer::Option(id(v)?));
                }
            }
            QuestionKind::Multiple => {
                given.insert(
                    q.id,
                    GivenAnswer::Options(values.iter().map(|v| id(v)).collect::<Result<_, _>>()?),
                );
            }
            QuestionKind::Text => {
                if let Some(v) = values.first() {
                    given.insert(q.id, GivenAnswer::Text((*v).to_owned()));
                }
            }
            QuestionKind::Ranking => {
                let mut ranked: Vec<(u32, i64)> = Vec::new();
                for (oid, _) in &q.options {
                    let field = format!("r{}_{oid}", q.id);
                    if let Some(v) = form
                        .places
                        .get(&(q.id, *oid))
                        .filter(|v| !v.trim().is_empty())
                    {
                        let place: u32 = v
                            .trim()
                            .parse()
                            .map_err(|_| AppError::invalid_param(&field))?;
                        ranked.push((place, *oid));
                    }
                }
                ranked.sort_unstable();
                given.insert(
                    q.id,
                    GivenAnswer::Options(ranked.into_iter().map(|(_, o)| o).collect()),
                );
            }
        }
    }
    Ok(given)
}

/// An answer as a page or the API hands it over.
pub struct AnswerRequest<'a> {
    /// The household (a resident's own when none).
    pub household_id: Option<i64>,
    /// The member answering, named by the head.
    pub resident_id: Option<i64>,
    /// Staff: `in_person` or `meeting`.
    pub channel: Option<&'a str>,
    /// Answers by question id.
    pub given: BTreeMap<i64, GivenAnswer>,
}

/// Who answers for which household, and how: a resident online for their own household; a cadre
/// on a household's behalf (in scope) in person or at a meeting.
pub async fn answer(
    state: &AppState,
    user: &User,
    id: i64,
    a: AnswerRequest<'_>,
    c: &Catalog,
) -> Result<i64, AppError> {
    let AnswerRequest {
        household_id,
        resident_id,
        channel,
        given,
    } = a;
    let (household_id, channel) = if user.role == Role::Resident {
        let own = user.household_id.ok_or_else(AppError::forbidden)?;
        if household_id.is_some_and(|h| h != own) {
            return Err(AppError::forbidden());
        }
        (own, AnswerChannel::Online)
    } else {
        let h = household_id
            .ok_or_else(|| AppError::bad_request(c.t("notice.error.household_required")))?;
        crate::registry::household_in_scope(state, user, h).await?;
        let channel = match channel.map(str::trim).filter(|s| !s.is_empty()) {
            None => AnswerChannel::InPerson,
            Some(ch) => AnswerChannel::parse(ch)
                .filter(|c| *c != AnswerChannel::Online)
                .ok_or_else(|| AppError::invalid_param("channel"))?,
        };
        (h, channel)
    };
    found(state, id).await?;
    state
        .store
        .submit_answer(
            &user.actor(),
            id,
            NewAnswer {
                household_id,
                resident_id,
                channel,
                recorded_by: user.id,
                answered_at: Utc::now(),
                given,
            },
        )
        .await?
        .map_err(|e| consultation_error(&e, c))
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

/// The fields a consultation's questions give its page: `q{question}` holds the options picked
/// (repeated for several) or the text typed; `r{question}_{option}` the place given to an option
/// of a ranking.
#[derive(Debug, Default)]
pub struct QuestionFields {
    answers: BTreeMap<i64, Vec<String>>,
    places: BTreeMap<(i64, i64), String>,
}

impl<'de> serde::Deserialize<'de> for QuestionFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut fields = Self::default();
        crate::http::extract::data_named_fields(d, |name, values| {
            if let Some(q) = name.strip_prefix('q').and_then(|q| q.parse().ok()) {
                fields.answers.insert(q, values);
            } else if let Some((q, o)) = name.strip_prefix('r').and_then(|r| r.split_once('_')) {
                if let (Ok(q), Ok(o), Some(v)) = (q.parse(), o.parse(), values.into_iter().next()) {
                    fields.places.insert((q, o), v);
                }
            }
        })?;
        Ok(fields)
    }
}

/// `POST /consultations/{id}/answers`: residents for their household, cadres on a household's
/// behalf.
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

/// Results shaped for people: per question, per option, the count and share overall and by
/// village.
pub struct ResultsView {
    /// Households asked.
    pub eligible: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Villages: id, name, asked, answered, turnout in per cent.
    pub villages: Vec<(i64, String, i64, i64, String)>,
    /// Questions with their option rows.
    pub questions: Vec<QuestionResult>,
}

/// One question's results.
pub struct QuestionResult {
    /// The question.
    pub q: Question,
    /// Option id, label, households (first place for a ranking), share of answering households,
    /// mean place (rankings), households by village (same order as `ResultsView::villages`).
    pub options: Vec<(i64, String, i64, String, String, Vec<i64>)>,
    /// Free-text answers: village, text.
    pub texts: Vec<(String, String)>,
}

/// Results as a user may see them: free-text answers (which may name people) only for those who
/// run consultations.
pub fn visible_results(user: &User, mut r: ConsultationResults) -> ConsultationResults {
    if !user.role.may(Permission::RunConsultation) {
        r.texts.clear();
    }
    r
}

/// Shapes a consultation's results.
pub fn results_view(k: &Consultation, r: &ConsultationResults) -> ResultsView {
    let villages: Vec<(i64, String, i64, i64, String)> = r
        .villages
        .iter()
        .map(|(id, name, e, a)| (*id, name.clone(), *e, *a, percent(*a, *e)))
        .collect();
    let questions = k
        .questions
        .iter()
        .map(|q| {
            let options = q
                .options
                .iter()
                .map(|(oid, label)| {
                    let rows: Vec<&(i64, i64, Option<i64>, i64, i64)> = r
                        .counts
                        .iter()
                        .filter(|c| c.0 == q.id && c.1 == *oid)
                        .collect();
                    // A ranking counts the households that put the option first.
                    let counted: Vec<&(i64, i64, Option<i64>, i64, i64)> = rows
                        .iter()
                        .copied()
                        .filter(|row| q.kind != QuestionKind::Ranking || row.2 == Some(1))
                        .collect();
                    let total: i64 = counted.iter().map(|c| c.4).sum();
                    let by_village = villages
                        .iter()
                        .map(|v| counted.iter().filter(|c| c.3 == v.0).map(|c| c.4).sum())
                        .collect();
                    let mean_place = if q.kind == QuestionKind::Ranking {
                        let (n, sum) = rows
                            .iter()
                            .fold((0, 0), |(n, s), c| (n + c.4, s + c.4 * c.2.unwrap_or(0)));
                        if n == 0 {
                            "—".into()
                        } else {
                            format!("{:.2}", sum as f64 / n as f64)
                        }
                    } else {
                        String::new()
                    };
                    (
                        *oid,
                        label.clone(),
                        total,
                        percent(total, r.answered),
                        mean_place,
                        by_village,
                    )
                })
                .collect();
            QuestionResult {
                texts: r
                    .texts
                    .iter()
                    .filter(|t| t.0 == q.id)
                    .map(|t| (t.1.clone(), t.2.clone()))
                    .collect(),
                options,
                q: q.clone(),
            }
        })
        .collect();
    ResultsView {
        eligible: r.eligible,
        answered: r.answered,
        villages,
        questions,
    }
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
pub async fn results(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?.clone();
    let k = found(&state, id).await?;
    let r = results_view(
        &k,
        &visible_results(&user, state.store.consultation_results(id).await?),
    );
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

/// The results in words, as the published notice says them (no free text: it may name people).
fn results_text(r: &ResultsView, c: &Catalog) -> String {
    let mut out = c.format(
        "consultation.result_intro",
        &[
            ("eligible", r.eligible.to_string()),
            ("answered", r.answered.to_string()),
            ("turnout", percent(r.answered, r.eligible)),
        ],
    );
    for v in &r.villages {
        out.push_str(&format!("\n{}：{} / {}（{}）", v.1, v.3, v.2, v.4));
    }
    for q in &r.questions {
        if q.q.kind == QuestionKind::Text {
            continue;
        }
        out.push_str(&format!("\n\n{}", q.q.prompt));
        for o in &q.options {
            if q.q.kind == QuestionKind::Ranking {
                out.push_str(&format!(
                    "\n· {}：{} {}，{} {}",
                    o.1,
                    c.t("consultation.first_place"),
                    o.2,
                    c.t("consultation.mean_place"),
                    o.4
                ));
            } else {
                out.push_str(&format!("\n· {}：{}（{}）", o.1, o.2, o.3));
            }
        }
    }
    out
}

/// `POST /consultations/{id}/publish`: publishers, once it has closed; the results become a
/// notice to the same households.
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

/// Publishes a consultation's results as a notice to the same households, and records it.
pub async fn publish_results(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    k: &Consultation,
    c: &Catalog,
) -> Result<yongxin_store::Notice, AppError> {
    let r = results_view(k, &store.consultation_results(k.id).await?);
    let draft = crate::notices::progress_draft(
        (k.scope, k.village_ids.clone(), k.project_id),
        c.format("consultation.result_title", &[("title", k.title.clone())]),
        results_text(&r, c),
        c,
    )?;
    let notice = store.publish_results_notice(actor, k.id, draft).await?;
    Ok(notice)
}
