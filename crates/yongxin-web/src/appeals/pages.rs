//! Appeal pages: filing (signed in, anonymous, or at the desk), the list, one case with the
//! actions the viewer may take, and public tracking by case number and phone.

use crate::http::extract::{CsrfForm, Ids};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yongxin_domain::appeal::{parse_appeal_number, AppealAction, AppealStatus, Channel, Rating};
use yongxin_domain::calendar::Card;
use yongxin_domain::catalogue::{Category, QuestionKind};
use yongxin_domain::Actor;
use yongxin_domain::NewAuditEntry;
use yongxin_domain::Permission;
use yongxin_store::AppealId;
use yongxin_store::{Appeal, AppealEvent, AppealQuery, PhotoRef, User};

use super::{act, intake, sees, ActionInput, IntakeInput, ListQuery};
use crate::catalogue::category_name;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Lang;
use crate::http::page::{render, Chrome};
use crate::http::params::parse_opt_id;
use crate::http::upload::FormWithFiles;
use crate::AppState;

/// A category as a form shows it.
pub struct CategoryOption {
    code: String,
    name: String,
    group: String,
    /// Its extra questions, each with what was typed.
    questions: Vec<QuestionField>,
}

/// An extra question as a form shows it, with the answer typed so far.
pub struct QuestionField {
    code: String,
    label: String,
    kind: &'static str,
    required: bool,
    choices: Vec<(String, String)>,
    /// The answer typed (several for multiple choice).
    values: Vec<String>,
}

impl QuestionField {
    /// The single answer typed.
    pub fn value(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or_default()
    }

    /// Whether a choice was picked.
    pub fn has(&self, key: &str) -> bool {
        self.values.iter().any(|v| v == key)
    }
}

#[derive(Template)]
#[template(path = "appeal_new.html")]
struct NewAppealPage {
    c: Chrome,
    categories: Vec<CategoryOption>,
    selected: String,
    desk: bool,
    needs_contact: bool,
    error: Option<String>,
    /// What was typed, kept through a change of category and any refusal.
    draft: AppealForm,
}

/// Query of the form.
#[derive(Deserialize)]
pub struct NewQuery {
    category: Option<String>,
}

/// The form with every category's questions (the script shows the chosen one's without a
/// reload; without it, "change category" posts the form back with everything typed kept).
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    draft: AppealForm,
) -> Result<Response, AppError> {
    let cats: Vec<Category> = state
        .store
        .categories()
        .await?
        .into_iter()
        .filter(|(_, active)| *active)
        .map(|(c, _)| c)
        .collect();
    let selected = cats
        .iter()
        .find(|c| c.code == draft.category)
        .map(|c| c.code.clone())
        .unwrap_or_default();
    let categories = cats
        .iter()
        .map(|cat| CategoryOption {
            code: cat.code.clone(),
            name: category_name(cat, ctx.lang),
            group: cat.group.clone(),
            questions: cat
                .questions
                .iter()
                .map(|q| QuestionField {
                    code: q.code.clone(),
                    label: if ctx.lang == Lang::En {
                        q.label_en.clone()
                    } else {
                        q.label_zh.clone()
                    },
                    kind: match q.kind {
                        QuestionKind::String => "string",
                        QuestionKind::Number => "number",
                        QuestionKind::Datetime => "datetime",
                        QuestionKind::Text => "text",
                        QuestionKind::SingleChoice => "single",
                        QuestionKind::MultiChoice => "multi",
                    },
                    required: q.required,
                    choices: q
                        .choices
                        .iter()
                        .map(|c| (c.key.clone(), c.name.clone()))
                        .collect(),
                    values: if cat.code == selected {
                        draft.answers.0.get(&q.code).cloned().unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        })
        .collect();
    let user = ctx.user.as_ref();
    let page = NewAppealPage {
        c: Chrome::new(ctx, "appeal.new_title"),
        categories,
        selected,
        desk: user.is_some_and(|u| u.role.is_cadre()),
        needs_contact: user.is_none_or(|u| u.role.is_cadre()),
        error,
        draft,
    };
    let mut res = render(&page)?;
    if page.error.is_some() {
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

/// `GET /appeals/new`: anyone (anonymous residents give name and phone).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn new_appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let draft = AppealForm {
        category: q.category.unwrap_or_default(),
        ..AppealForm::default()
    };
    form_page(&state, &ctx, None, draft).await
}

/// The appeal form. Everything is read as text (a flattened form cannot read numbers) and
/// checked by intake, which names the field at fault.
#[derive(Debug, Default, Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    category: String,
    /// `category`: only show the chosen category's questions, keeping what was typed.
    intent: Option<String>,
    urgency: Option<String>,
    channel: Option<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    address: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    #[serde(flatten)]
    answers: CategoryAnswers,
}

impl AppealForm {
    /// A field as typed, for the form shown again.
    pub fn typed<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or_default()
    }
}

/// 附加问题: answers to the category's own questions, a field `answer.CODE` each (repeated for
/// several choices), by code.
#[derive(Debug, Default, Clone)]
pub struct CategoryAnswers(std::collections::BTreeMap<String, Vec<String>>);

impl<'de> Deserialize<'de> for CategoryAnswers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut answers = std::collections::BTreeMap::new();
        crate::http::extract::data_named_fields(d, |name, values| {
            if let Some(code) = name.strip_prefix("answer.") {
                answers.insert(code.to_owned(), values);
            }
        })?;
        Ok(Self(answers))
    }
}

/// `POST /appeals/new`: form fields, with `answer.CODE` for extra questions (repeated for
/// multiple choice). A refusal shows the form again with everything typed and the reason in
/// plain words; photos must be chosen again (a browser never refills a file field).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormWithFiles<AppealForm>,
) -> Result<Response, AppError> {
    let f = form.fields;
    if f.intent.as_deref() == Some("category") {
        return form_page(&state, &ctx, None, f).await;
    }
    let input = IntakeInput {
        category: f.category.clone(),
        urgency: f.urgency.clone(),
        channel: f.channel.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        address: f.address.clone(),
        contact_name: f.contact_name.clone(),
        contact_phone: f.contact_phone.clone(),
        contact_email: f.contact_email.clone(),
        answers: f.answers.0.clone(),
        photos: form.photos,
        ..IntakeInput::default()
    };
    match intake(&state, &ctx, input, Channel::Web).await {
        Ok(a) if ctx.user.is_some() => {
            Ok(Redirect::to(&format!("/appeals/{}", a.id)).into_response())
        }
        Ok(a) => render(&SubmittedPage {
            c: Chrome::new(&ctx, "appeal.submitted_title"),
            tracking_code: state.tracking_code(&a.number).await?,
            number: a.number,
        }),
        Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => {
            form_page(&state, &ctx, Some(e.in_words(ctx.lang.catalog())), f).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "appeal_submitted.html")]
struct SubmittedPage {
    c: Chrome,
    number: String,
    tracking_code: String,
}

/// A row of the appeal list.
pub struct AppealRow {
    id: AppealId,
    number: String,
    title: String,
    category: String,
    status: String,
    status_code: &'static str,
    village: String,
    due: String,
    card: &'static str,
}

/// A list row for a case, showing `due` as its deadline.
fn appeal_row(
    card: Card,
    c: &Chrome,
    cats: &crate::CatalogueEntries,
    lang: Lang,
    a: &Appeal,
    due: chrono::DateTime<chrono::Utc>,
) -> AppealRow {
    AppealRow {
        id: a.id,
        number: a.number.clone(),
        title: a.title.clone(),
        category: cats
            .iter()
            .find(|(cat, _)| cat.code == a.category)
            .map(|(cat, _)| category_name(cat, lang))
            .unwrap_or_else(|| a.category.clone()),
        status: c
            .t(&format!("appeal.status.{}", a.status.code()))
            .to_owned(),
        status_code: a.status.code(),
        village: a.village_name.clone().unwrap_or_default(),
        due: yongxin_domain::time::display_local(due),
        card: card_code(card),
    }
}

fn card_code(card: Card) -> &'static str {
    match card {
        Card::None => "",
        Card::Yellow => "yellow",
        Card::Red => "red",
    }
}

/// The card a case shows now: against the contact deadline until contacted, then against the
/// resolution deadline until answered.
pub fn current_card(calendar: &yongxin_domain::calendar::WorkingCalendar, a: &Appeal) -> Card {
    let [(_, contact), (_, resolution)] =
        yongxin_domain::appeal::deadline_cards(calendar, chrono::Utc::now(), &a.deadline_clock());
    contact.max(resolution)
}

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    c: Chrome,
    rows: Vec<AppealRow>,
    statuses: Vec<(&'static str, String)>,
    status: String,
    categories: Vec<(String, String)>,
    category: String,
    villages: Vec<(String, String)>,
    village: String,
    from: String,
    to: String,
    q: String,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    overdue: bool,
    export_href: String,
    export_csv_href: String,
}

/// `GET /appeals`: signed in; each role sees its scope (a resident, their own).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let page = parse_opt_id(p.page.as_deref(), "page")?.unwrap_or(1).max(1);
    let q = p.to_query(user, page, 20)?;
    let status = q.status;
    let found = super::find(&state, &q, user.role.may(Permission::ReadInternalNotes)).await?;
    let cats = state.categories().await?;
    let c = Chrome::new(
        &ctx,
        if !user.role.may(Permission::WorkInOffice) {
            "appeal.my_title"
        } else {
            "appeal.list_title"
        },
    );
    let calendar = state.calendar();
    // Yellow and red cards are the office's measure of itself, not words for the resident.
    let office = user.role.may(Permission::WorkInOffice);
    let rows = found
        .appeals
        .iter()
        .map(|a| {
            appeal_row(
                if office {
                    current_card(&calendar, a)
                } else {
                    Card::None
                },
                &c,
                &cats,
                ctx.lang,
                a,
                a.resolution_due,
            )
        })
        .collect();
    let pages = ((found.total + 19) / 20).max(1);
    let villages = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id.to_string(), v.name))
        .collect();
    render(&AppealsPage {
        statuses: AppealStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.code(),
                    c.t(&format!("appeal.status.{}", s.code())).to_owned(),
                )
            })
            .collect(),
        status: status.map(|s| s.code().to_owned()).unwrap_or_default(),
        categories: cats
            .iter()
            .map(|(cat, _)| (cat.code.clone(), category_name(cat, ctx.lang)))
            .collect(),
        category: q.category.clone().unwrap_or_default(),
        villages,
        village: q.village_id.map(|v| v.to_string()).unwrap_or_default(),
        from: p.from.clone().unwrap_or_default(),
        to: p.to.clone().unwrap_or_default(),
        q: q.text.clone().unwrap_or_default(),
        rows,
        total: found.total,
        page,
        pages,
        prev_href: (page > 1).then(|| p.href("/appeals", page - 1)),
        next_href: (page < pages).then(|| p.href("/appeals", page + 1)),
        overdue: q.due_before.is_some(),
        export_href: p.href("/appeals/export.xlsx", 1),
        export_csv_href: p.href("/appeals/export.csv", 1),
        c,
    })
}

/// A step of the history as shown.
pub struct EventRow {
    at: String,
    action: String,
    status: String,
    text: String,
    actor: String,
    internal: bool,
    /// Tokens of its photos.
    photos: Vec<String>,
}

/// Tokens of the photos of one event (`None`: of the appeal itself).
fn photo_tokens(photos: &[PhotoRef], event: Option<i64>) -> Vec<String> {
    photos
        .iter()
        .filter(|p| p.event_id == event)
        .map(|p| p.token.clone())
        .collect()
}

fn event_rows(
    c: &Chrome,
    events: &[AppealEvent],
    resident: bool,
    photos: &[PhotoRef],
    names: Option<&crate::http::page::ActorNames>,
) -> Vec<EventRow> {
    events
        .iter()
        .filter(|e| e.visible || !resident)
        .map(|e| EventRow {
            photos: photo_tokens(photos, Some(e.id)),
            at: yongxin_domain::time::display_local(e.at),
            action: c.t(&format!("appeal.action.{}", e.action)).to_owned(),
            status: c
                .t(&format!("appeal.status.{}", e.status_to.code()))
                .to_owned(),
            text: e.text.clone().unwrap_or_default(),
            actor: match names {
                Some(n) if !resident => n.name(&e.actor),
                _ => String::new(),
            },
            internal: !e.visible,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "appeal.html")]
struct AppealPage {
    c: Chrome,
    a: Appeal,
    /// Whether the viewer handles the case and may call the resident.
    may_call: bool,
    /// The resident's number in full, after the handler asked to call.
    call_phone: Option<String>,
    /// 查询码, for the resident or for the desk to tell a caller.
    tracking_code: String,
    /// Tokens of the appeal's own photos.
    photos: Vec<String>,
    /// Staff may open the originals.
    staff: bool,
    category: String,
    status: String,
    card: &'static str,
    created: String,
    contact_due: String,
    resolution_due: String,
    phone: String,
    events: Vec<EventRow>,
    actions: Vec<&'static str>,
    /// Cadres who may handle it, grouped by village (the office's staff apart): group, and each
    /// cadre's id, name and whether they are pre-selected (the grid worker of the case's place).
    cadres: Vec<CadreGroup>,
    /// The catalogue's departments, and whether each is the case's now.
    departments: Vec<(String, bool)>,
    answers: Vec<(String, String)>,
    notices: Vec<NoticeRow>,
    may_supervise: bool,
    may_answer_notice: bool,
    /// The 公示 this case objects to, if it is an objection: id and title.
    objects_to: Option<(i64, String)>,
    /// The door-to-door visit it was raised at, for cadres: the campaign, its title, the visit
    /// and when.
    raised_at: Option<(i64, String, i64, String)>,
}

/// A group of cadres on the dispatch form: its name, and each cadre's id, name and whether chosen.
type CadreGroup = (String, Vec<(i64, String, bool)>);

/// Whom a case can be dispatched to: the cadres who handle cases, grouped by village with the
/// office's staff apart, the grid worker of the case's place pre-selected; and the catalogue's
/// departments, the case's own selected.
async fn dispatch_choices(
    state: &AppState,
    a: &Appeal,
    c: &crate::http::i18n::Catalog,
) -> Result<(Vec<CadreGroup>, Vec<(String, bool)>), AppError> {
    let villages: std::collections::HashMap<i64, String> = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let grid_cadre = match a.grid_id {
        Some(g) => state
            .store
            .grids(None)
            .await?
            .into_iter()
            .find(|x| x.id == g)
            .and_then(|x| x.cadre_user_id),
        None => None,
    };
    let preselected = a.cadre_user_id.or(grid_cadre);
    let mut groups: std::collections::BTreeMap<(bool, String), Vec<_>> =
        std::collections::BTreeMap::new();
    for u in state.store.users().await? {
        if !u.role.may(Permission::HandleAppeals) || u.disabled {
            continue;
        }
        // The office's own staff first, then the villages by name.
        let group = match u.village_id.and_then(|v| villages.get(&v)) {
            Some(name) => (true, name.clone()),
            None => (false, c.t("appeal.office_staff").to_owned()),
        };
        groups
            .entry(group)
            .or_default()
            .push((u.id, u.display_name, Some(u.id) == preselected));
    }
    let mut departments: Vec<String> = state
        .categories()
        .await?
        .iter()
        .map(|(cat, _)| cat.department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    let current = a.department.clone().unwrap_or_default();
    Ok((
        groups
            .into_iter()
            .map(|((_, name), list)| (name, list))
            .collect(),
        departments
            .into_iter()
            .map(|d| {
                let selected = d == current;
                (d, selected)
            })
            .collect(),
    ))
}

/// A supervision notice as shown.
pub struct NoticeRow {
    id: i64,
    issued: String,
    issued_by: String,
    due: String,
    text: String,
    answer: Option<String>,
    answered: String,
}

fn notice_rows(notices: Vec<yongxin_store::SupervisionNotice>) -> Vec<NoticeRow> {
    notices
        .into_iter()
        .map(|n| NoticeRow {
            id: n.id,
            issued: yongxin_domain::time::display_local(n.issued_at),
            issued_by: n.issued_by,
            due: yongxin_domain::time::display_local(n.due_at),
            text: n.text,
            answered: n
                .answered_at
                .map(yongxin_domain::time::display_local)
                .unwrap_or_default(),
            answer: n.answer,
        })
        .collect()
}

/// The actions the viewer may take on the case as it stands.
fn actions_for(user: &User, a: &Appeal) -> Vec<&'static str> {
    let dispatcher = super::dispatcher(user, a);
    let handler = a.cadre_user_id == Some(user.id) || dispatcher;
    yongxin_domain::appeal::offered_actions(
        a.status,
        dispatcher,
        handler,
        (
            user.role.may(Permission::RateAppeal),
            user.role.may(Permission::RecordRatingCall) && a.cadre_user_id != Some(user.id),
        ),
    )
}

/// Query of the case page: `call=1` shows the handler the number to call.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    call: Option<String>,
}

/// `GET /appeals/{id}`: within scope.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<AppealId>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (a, events) = super::appeal_in_scope(&state, user, id).await?;
    // Tap-to-call: the handler alone, while the case is open, sees the resident's number in full
    // — only after asking, and the asking is recorded.
    let may_call = a.cadre_user_id == Some(user.id) && a.status.is_open();
    let call_phone = if may_call && q.call.as_deref() == Some("1") {
        state
            .store
            .record(vec![NewAuditEntry::new(
                user.actor(),
                "appeal.contact_view",
                format!("appeal:{}", a.id),
                format!(
                    "{} {}",
                    a.number,
                    yongxin_domain::phone::mask_phone(&a.contact_phone)
                ),
                &serde_json::json!({ "purpose": "call" }),
            )])
            .await?;
        Some(a.contact_phone.clone())
    } else {
        None
    };
    let resident = !user.role.may(Permission::ReadInternalNotes);
    let photos = state.store.appeal_photos(a.id).await?;
    let c = Chrome::new(&ctx, "appeal.title");
    let cats = state.categories().await?;
    let cat = cats
        .iter()
        .find(|(cat, _)| cat.code == a.category)
        .map(|(cat, _)| cat.clone());
    let answers = cat
        .as_ref()
        .map(|cat| {
            cat.questions
                .iter()
                .filter_map(|q| {
                    a.answers.get(&q.code).map(|v| {
                        let label = if ctx.lang == Lang::En {
                            q.label_en.clone()
                        } else {
                            q.label_zh.clone()
                        };
                        let shown = v
                            .iter()
                            .map(|x| {
                                q.choices
                                    .iter()
                                    .find(|ch| &ch.key == x)
                                    .map(|ch| ch.name.clone())
                                    .unwrap_or_else(|| x.clone())
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        (label, shown)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let actions = actions_for(user, &a);
    let (cadres, departments) = if actions.contains(&"assign") || actions.contains(&"transfer") {
        dispatch_choices(&state, &a, c.catalog).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let notices = if resident {
        Vec::new()
    } else {
        notice_rows(state.store.supervision_notices(a.id).await?)
    };
    let may_supervise = user.role.may(Permission::Supervise) && a.status.is_open();
    let may_answer_notice =
        a.cadre_user_id == Some(user.id) || user.role.may(Permission::AnswerAnySupervision);
    let objects_to = state.store.objected_notice(a.id).await?;
    let raised_at = if user.role.is_cadre() {
        state.store.appeal_visit(a.id).await?.map(|v| {
            (
                v.campaign_id,
                v.campaign_title,
                v.visit_id,
                yongxin_domain::time::display_local(v.visited_at),
            )
        })
    } else {
        None
    };
    render(&AppealPage {
        may_call,
        call_phone,
        raised_at,
        // The code is the resident's key (to track, and to rate without an account): shown to the
        // resident and to whoever took the case at the desk to tell the caller — not to the
        // handler, who must not be able to rate their own work.
        tracking_code: if !user.role.is_cadre()
            || events.first().is_some_and(|e| e.actor == user.username)
        {
            state.tracking_code(&a.number).await?
        } else {
            String::new()
        },
        objects_to,
        notices,
        may_supervise,
        may_answer_notice,
        category: cat
            .as_ref()
            .map(|cat| category_name(cat, ctx.lang))
            .unwrap_or_else(|| a.category.clone()),
        status: c
            .t(&format!("appeal.status.{}", a.status.code()))
            .to_owned(),
        card: if user.role.may(Permission::WorkInOffice) {
            card_code(current_card(&state.calendar(), &a))
        } else {
            ""
        },
        created: yongxin_domain::time::display_local(a.created_at),
        contact_due: yongxin_domain::time::display_local(a.contact_due),
        resolution_due: yongxin_domain::time::display_local(a.resolution_due),
        phone: match &a.contact_email {
            Some(e) => format!(
                "{} {}",
                yongxin_domain::phone::mask_phone(&a.contact_phone),
                yongxin_domain::email::mask_email(e)
            ),
            None => yongxin_domain::phone::mask_phone(&a.contact_phone),
        },
        events: event_rows(
            &c,
            &events,
            resident,
            &photos,
            Some(&crate::http::page::ActorNames::load(&state, ctx.lang.catalog()).await?),
        ),
        photos: photo_tokens(&photos, None),
        staff: !resident,
        actions,
        cadres,
        departments,
        answers,
        a,
        c,
    })
}

/// The action form.
#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
    reason: Option<String>,
    department: Option<String>,
    cadre_id: Option<String>,
    text: Option<String>,
    visible: Option<String>,
    reply: Option<String>,
    rating: Option<String>,
    into: Option<String>,
    called_at: Option<String>,
}

/// `POST /appeals/{id}/action`.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn action(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<AppealId>,
    form: FormWithFiles<ActionForm>,
) -> Result<Response, AppError> {
    let f = form.fields;
    // The form asks why of a dissatisfied rating (the API leaves it to the client).
    if (f.action == "rate" || f.action == "rate_by_call")
        && f.rating.as_deref() == Some("dissatisfied")
        && f.reason.as_deref().is_none_or(|r| r.trim().is_empty())
    {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("appeal.rate_reason_required"),
        ));
    }
    let input = ActionInput {
        action: f.action,
        reason: f.reason,
        department: f.department,
        cadre_id: parse_opt_id(f.cadre_id.as_deref(), "cadre_id")?,
        text: f.text,
        visible: Some(f.visible.is_some()),
        reply: f.reply,
        rating: f.rating,
        into: parse_opt_id(f.into.as_deref(), "into")?,
        called_at: f.called_at,
        photos: form.photos,
    };
    act(&state, &ctx, id, input).await?;
    Ok(Redirect::to(&format!("/appeals/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    c: Chrome,
    number: String,
    /// The tracking code typed, kept in the rating form so the look-up can be checked again
    /// (empty when the case was found by the phone's digits: a rating needs the code).
    code: String,
    /// The rating link's token, when the case was opened through it (then it stands for the code).
    token: String,
    found: Option<(Appeal, String, Vec<EventRow>)>,
    not_found: bool,
    /// Why the case cannot be looked up now.
    locked: Option<String>,
    /// After a rating: what happens next, in plain words.
    next: Option<String>,
    /// A rating refused: why.
    error: Option<String>,
}

/// Query of the tracking page: the number and either the tracking code or the phone's last four
/// digits (`last4`, the older form's field, is still read).
#[derive(Deserialize)]
pub struct TrackQuery {
    number: Option<String>,
    code: Option<String>,
    last4: Option<String>,
}

/// What a look-up by number and answer found.
enum Lookup {
    /// Not both given: the form, nothing judged.
    NotAsked,
    /// The case, and whether it was found by its tracking code (not the phone's digits).
    Found(Box<Appeal>, Vec<AppealEvent>, bool),
    /// No case with that number and answer.
    NotFound,
    /// Too many wrong answers for this case: wait this many minutes.
    Locked(i64),
}

/// Finds a case by its number and its tracking code or the phone's last four digits, counting
/// the look-up against the client's and the case's limits.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn look_up(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    answer: &str,
) -> Result<Lookup, AppError> {
    if number.is_empty() || answer.is_empty() {
        return Ok(Lookup::NotAsked);
    }
    let g = &state.guards;
    let client = ctx.client_key().unwrap_or_default();
    g.track
        .hit(&client, g.limits.track_per_address)
        .map_err(|wait| AppError::rate_limited(crate::http::security::minutes(wait)))?;
    let Some((date, id)) = parse_appeal_number(number) else {
        return Ok(Lookup::NotFound);
    };
    // Every look-up counts as a failure until it is found right, so guesses sent at once are all
    // counted before any is judged.
    let case_key = id.to_string();
    if let Err(wait) = g
        .track_failures
        .hit(&case_key, g.limits.track_failures_per_case)
    {
        return Ok(Lookup::Locked(crate::http::security::minutes(wait)));
    }
    let secret = state.installation_key().await?;
    if let Ok((a, events)) = state.store.appeal(AppealId(id)).await {
        let same_day = a
            .created_at
            .with_timezone(&yongxin_domain::time::shanghai())
            .date_naive()
            == date;
        let by_phone = answer.len() == 4
            && answer.bytes().all(|b| b.is_ascii_digit())
            && a.contact_phone.ends_with(answer);
        let by_code = yongxin_domain::appeal::tracking_code_matches(secret, &a.number, answer);
        if same_day && (by_phone || by_code) {
            g.track_failures.forget(&case_key);
            return Ok(Lookup::Found(Box::new(a), events, by_code));
        }
    }
    Ok(Lookup::NotFound)
}

/// The tracking page for a look-up's result.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn track_page(
    state: &AppState,
    c: Chrome,
    (number, code, token): (String, String, String),
    lookup: Lookup,
    next: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let mut code_ok = false;
    let (found, not_found, locked, status) = match lookup {
        Lookup::NotAsked => (None, false, None, None),
        Lookup::NotFound => (None, true, None, Some(axum::http::StatusCode::NOT_FOUND)),
        Lookup::Locked(minutes) => (
            None,
            false,
            Some(
                c.catalog
                    .format("appeal.track_locked", &[("minutes", minutes.to_string())]),
            ),
            Some(axum::http::StatusCode::TOO_MANY_REQUESTS),
        ),
        Lookup::Found(a, events, by_code) => {
            code_ok = by_code;
            let label = c
                .t(&format!("appeal.status.{}", a.status.code()))
                .to_owned();
            let photos = state.store.appeal_photos(a.id).await?;
            let rows = event_rows(&c, &events, true, &photos, None);
            (Some((*a, label, rows)), false, None, None)
        }
    };
    let status = status.or(error
        .is_some()
        .then_some(axum::http::StatusCode::BAD_REQUEST));
    let mut res = render(&TrackPage {
        c,
        number,
        code: if code_ok { code } else { String::new() },
        token,
        not_found,
        found,
        locked,
        next,
        error,
    })?;
    if let Some(s) = status {
        *res.status_mut() = s;
    }
    Ok(res)
}

/// `GET /track?number=&code=`: anyone with the case number and its tracking code or the
/// phone's last four digits. Each client address has so many look-ups an hour, and a case that
/// has seen a few wrong answers refuses every answer for a while, so neither four digits nor a
/// code can be found by trying. A number alone (the confirmation page's link) only fills the form.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn track(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TrackQuery>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&ctx, "appeal.track_title");
    let number = yongxin_domain::appeal::typed_number(q.number.as_deref().unwrap_or_default());
    let answer = q
        .code
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or(q.last4.clone())
        .unwrap_or_default()
        .trim()
        .to_owned();
    let lookup = look_up(&state, &ctx, &number, &answer).await?;
    track_page(
        &state,
        c,
        (number, answer, String::new()),
        lookup,
        None,
        None,
    )
    .await
}

/// A rating from the tracking page: the look-up again, the rating, and why when dissatisfied.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrackRatingForm {
    number: String,
    code: String,
    /// The rating link's token, instead of the number and code.
    token: String,
    rating: String,
    reason: String,
}

/// `POST /track/rate`: the resident rates an answered case found by its number and tracking code
/// (or phone digits), without an account. A dissatisfied rating must say why; the page then says
/// what happens next (the case goes back to its handler with a new deadline, or is closed).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn track_rate(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<TrackRatingForm>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&ctx, "appeal.track_title");
    // Staff do not rate in a resident's name (a phone follow-up is recorded as such in the office).
    if ctx.user.as_ref().is_some_and(|u| u.role.is_cadre()) {
        return Err(AppError::forbidden());
    }
    let token = f.token.trim().to_owned();
    let (number, answer, lookup) = if token.is_empty() {
        let number = yongxin_domain::appeal::typed_number(&f.number);
        let answer = f.code.trim().to_owned();
        let lookup = look_up(&state, &ctx, &number, &answer).await?;
        (number, answer, lookup)
    } else {
        match look_up_link(&state, &ctx, &token).await? {
            LinkLookup::Open(lookup) => (String::new(), String::new(), lookup),
            LinkLookup::Spent(number) => {
                let why = c.t("appeal.rating_link_spent").to_owned();
                let keys = (number, String::new(), String::new());
                return track_page(&state, c, keys, Lookup::NotAsked, None, Some(why)).await;
            }
        }
    };
    let keys = (number.clone(), answer.clone(), token.clone());
    let Lookup::Found(a, _, by_code) = &lookup else {
        return track_page(&state, c, keys, lookup, None, None).await;
    };
    // Four digits of a phone are enough to read a case, not to close it.
    if !by_code {
        let why = c.t("appeal.rate_needs_code").to_owned();
        return track_page(&state, c, keys, lookup, None, Some(why)).await;
    }
    let rating = Rating::parse(f.rating.trim())
        .ok_or_else(|| AppError::bad_request(c.t("appeal.rate_choose")));
    let reason = f.reason.trim().to_owned();
    let refusal = match &rating {
        Err(_) => Some(c.t("appeal.rate_choose").to_owned()),
        Ok(Rating::Dissatisfied) if reason.is_empty() => {
            Some(c.t("appeal.rate_reason_required").to_owned())
        }
        _ if a.status != AppealStatus::Answered => Some(c.t("appeal.rate_not_now").to_owned()),
        _ => None,
    };
    if let Some(why) = refusal {
        return track_page(&state, c, keys, lookup, None, Some(why)).await;
    }
    let rating = rating?;
    let actor = Actor::tracked(&yongxin_domain::phone::mask_phone(&a.contact_phone));
    let rated = state
        .store
        .act_on_appeal(
            &actor,
            a.id,
            AppealAction::Rate {
                rating,
                reason: Some(reason).filter(|r| !r.is_empty()),
            },
            state.settings.appeal_policy,
        )
        .await?
        .map_err(|e| super::lifecycle_error(&e, c.catalog))?;
    state.nudge_search();
    let next = if rated.status == AppealStatus::Closed {
        if rating == Rating::Dissatisfied {
            c.t("appeal.rated_closed_dissatisfied").to_owned()
        } else {
            c.t("appeal.rated_thanks").to_owned()
        }
    } else {
        c.catalog.format(
            "appeal.rated_reopened",
            &[(
                "due",
                yongxin_domain::time::display_local(rated.resolution_due),
            )],
        )
    };
    let lookup = match state.store.appeal(a.id).await {
        Ok((a, events)) => Lookup::Found(Box::new(a), events, true),
        Err(_) => Lookup::NotAsked,
    };
    track_page(&state, c, keys, lookup, Some(next), None).await
}

/// What a rating link found.
enum LinkLookup {
    /// The case, or not found.
    Open(Lookup),
    /// A true link already used, or from an earlier answer: the case's number, for the form.
    Spent(String),
}

/// Finds the case a rating link names, counting the look-up against the client's limit. The link
/// opens the case only while the notice it came in is the case's latest answer and the case
/// awaits its rating, so it is good for one rating.
async fn look_up_link(state: &AppState, ctx: &Ctx, token: &str) -> Result<LinkLookup, AppError> {
    let g = &state.guards;
    let client = ctx.client_key().unwrap_or_default();
    g.track
        .hit(&client, g.limits.track_per_address)
        .map_err(|wait| AppError::rate_limited(crate::http::security::minutes(wait)))?;
    let not_found = Ok(LinkLookup::Open(Lookup::NotFound));
    let Some(message_id) = yongxin_domain::appeal::rating_token_message(token) else {
        return not_found;
    };
    let Some((id, latest)) = state.store.rating_link(message_id).await? else {
        return not_found;
    };
    let Ok((a, events)) = state.store.appeal(id).await else {
        return not_found;
    };
    let secret = state.installation_key().await?;
    if !yongxin_domain::appeal::rating_token_matches(secret, &a.number, token) {
        return not_found;
    }
    if !latest || a.status != AppealStatus::Answered {
        return Ok(LinkLookup::Spent(a.number));
    }
    Ok(LinkLookup::Open(Lookup::Found(Box::new(a), events, true)))
}

/// `GET /track/r/{token}`: the rating link an answer notice carries (SMS or e-mail): the case and
/// its rating form, without an account or a typed code.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn track_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(token): Ids<String>,
) -> Result<Response, AppError> {
    let c = Chrome::new(&ctx, "appeal.track_title");
    match look_up_link(&state, &ctx, &token).await? {
        LinkLookup::Open(lookup) => {
            let keys = (String::new(), String::new(), token);
            track_page(&state, c, keys, lookup, None, None).await
        }
        LinkLookup::Spent(number) => {
            let why = c.t("appeal.rating_link_spent").to_owned();
            let keys = (number, String::new(), String::new());
            track_page(&state, c, keys, Lookup::NotAsked, None, Some(why)).await
        }
    }
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    c: Chrome,
    s: super::StatsDto,
}

/// `GET /appeals/stats`: cadres.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn stats(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<super::StatsParams>,
) -> Result<Response, AppError> {
    let s = super::three_rates(&state, &ctx, &p).await?;
    render(&StatsPage {
        c: Chrome::new(&ctx, "stats.title"),
        s,
    })
}

/// `GET /appeals/export.xlsx`: cadres; the filtered list as a spreadsheet (contact phones masked).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    export_as(state, ctx, p, crate::http::sheet::SheetFormat::Xlsx).await
}

/// `GET /appeals/export.csv`: the same as .csv.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    export_as(state, ctx, p, crate::http::sheet::SheetFormat::Csv).await
}

async fn export_as(
    state: AppState,
    ctx: Ctx,
    p: ListQuery,
    format: crate::http::sheet::SheetFormat,
) -> Result<Response, AppError> {
    let user = ctx.cadre()?;
    let c = ctx.lang.catalog();
    let cats = state.categories().await?;
    let mut table = vec![[
        "appeal.number",
        "appeal.field_title",
        "appeal.category",
        "appeal.status_label",
        "field.village",
        "appeal.department",
        "appeal.created",
        "appeal.resolution_due",
        "appeal.rating_label",
    ]
    .iter()
    .map(|k| c.t(k).to_owned())
    .collect::<Vec<_>>()];
    let mut page = 1;
    loop {
        let q = p.to_query(user, page, 500)?;
        let found = super::find(&state, &q, user.role.may(Permission::ReadInternalNotes)).await?;
        let done = found.appeals.len() < 500 || page >= 200;
        for a in found.appeals {
            table.push(vec![
                a.number.clone(),
                a.title.clone(),
                cats.iter()
                    .find(|(cat, _)| cat.code == a.category)
                    .map(|(cat, _)| category_name(cat, ctx.lang))
                    .unwrap_or(a.category.clone()),
                c.t(&format!("appeal.status.{}", a.status.code()))
                    .to_owned(),
                a.village_name.clone().unwrap_or_default(),
                a.department.clone().unwrap_or_default(),
                yongxin_domain::time::display_local(a.created_at),
                yongxin_domain::time::display_local(a.resolution_due),
                a.rating
                    .map(|r| c.t(&format!("appeal.rating.{}", r.code())).to_owned())
                    .unwrap_or_default(),
            ]);
        }
        if done {
            break;
        }
        page += 1;
    }
    crate::http::sheet::download(&table, format, "appeals")
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    c: Chrome,
    /// The page's cases by department and cadre: the group's heading and its rows.
    groups: Vec<(String, Vec<AppealRow>)>,
    red: usize,
    yellow: usize,
    /// The filters as given, and the choices.
    q: SupervisionQuery,
    departments: Vec<String>,
    cadres: Vec<(String, String)>,
    notices: Vec<(AppealId, NoticeRow)>,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    xlsx_href: String,
    csv_href: String,
}

/// Filters of the supervision list: department (`-`: none), cadre id (`-`: none), card.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SupervisionQuery {
    department: String,
    cadre: String,
    card: String,
    page: Option<i64>,
    format: Option<String>,
}

impl SupervisionQuery {
    fn href(&self, page: Option<i64>, format: Option<&str>) -> String {
        let page = page.map(|p| p.to_string()).unwrap_or_default();
        crate::http::params::href(
            "/supervision",
            &[
                ("department", &self.department),
                ("cadre", &self.cadre),
                ("card", &self.card),
                ("page", &page),
                ("format", format.unwrap_or_default()),
            ],
        )
    }

    fn keeps(&self, k: &super::CardedCase) -> Result<bool, AppError> {
        let a = &k.appeal;
        let department = match self.department.trim() {
            "" => true,
            "-" => a.department.as_deref().unwrap_or_default().is_empty(),
            d => a.department.as_deref() == Some(d),
        };
        let cadre = match self.cadre.trim() {
            "" => true,
            "-" => a.cadre_user_id.is_none(),
            id => {
                a.cadre_user_id == Some(id.parse().map_err(|_| AppError::invalid_param("cadre"))?)
            }
        };
        let card = match self.card.trim() {
            "" => true,
            "red" => k.card == Card::Red,
            "yellow" => k.card == Card::Yellow,
            _ => return Err(AppError::invalid_param("card")),
        };
        Ok(department && cadre && card)
    }
}

/// Rows of the supervision list on one page.
const SUPERVISION_PAGE: usize = 50;

/// `GET /supervision?department=&cadre=&card=&page=&format=`: leaders, administrators and
/// department staff; every open case in the viewer's scope that is overdue (red) or near its
/// deadline (yellow), grouped by department and cadre, paged, and exported with the same filters.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn supervision(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SupervisionQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ReadSupervision)?;
    let format = crate::http::sheet::requested(q.format.as_deref())?;
    let all = super::carded_cases(&state, user).await?;
    let mut departments: Vec<String> = all
        .iter()
        .filter_map(|k| k.appeal.department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    let mut cadres: Vec<(String, String)> = all
        .iter()
        .filter_map(|k| {
            Some((
                k.appeal.cadre_user_id?.to_string(),
                k.appeal.cadre_name.clone()?,
            ))
        })
        .collect();
    cadres.sort_by(|a, b| a.1.cmp(&b.1));
    cadres.dedup();
    let mut kept = Vec::new();
    for k in all {
        if q.keeps(&k)? {
            kept.push(k);
        }
    }
    // By department and cadre, red first within each, then by the deadline.
    kept.sort_by(|a, b| {
        let key = |k: &super::CardedCase| {
            (
                k.appeal.department.clone().unwrap_or_default(),
                k.appeal.cadre_name.clone().unwrap_or_default(),
                std::cmp::Reverse(k.card),
                k.deadline.1,
            )
        };
        key(a).cmp(&key(b))
    });
    let cats = state.categories().await?;
    let c = Chrome::new(&ctx, "supervision.title");
    let none = c.t("stats.none").to_owned();
    let deadline_name = |d: yongxin_domain::appeal::Deadline| match d {
        yongxin_domain::appeal::Deadline::Contact => c.t("appeal.contact_due"),
        yongxin_domain::appeal::Deadline::Resolution => c.t("appeal.resolution_due"),
    };
    if let Some(format) = format {
        let mut table = vec![[
            "appeal.department",
            "appeal.cadre",
            "appeal.number",
            "appeal.field_title",
            "appeal.category",
            "appeal.status_label",
            "field.village",
            "supervision.card",
            "supervision.deadline",
            "supervision.due",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect::<Vec<_>>()];
        for k in &kept {
            let r = appeal_row(k.card, &c, &cats, ctx.lang, &k.appeal, k.deadline.1);
            table.push(vec![
                k.appeal.department.clone().unwrap_or_else(|| none.clone()),
                k.appeal.cadre_name.clone().unwrap_or_else(|| none.clone()),
                r.number,
                r.title,
                r.category,
                r.status,
                r.village,
                c.card_label(r.card),
                deadline_name(k.deadline.0).to_owned(),
                r.due,
            ]);
        }
        return crate::http::sheet::download(&table, format, "supervision");
    }
    let red = kept.iter().filter(|k| k.card == Card::Red).count();
    let yellow = kept.len() - red;
    let pages = kept.len().div_ceil(SUPERVISION_PAGE).max(1) as i64;
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let mut groups: Vec<(String, Vec<AppealRow>)> = Vec::new();
    for k in kept
        .iter()
        .skip((page as usize - 1) * SUPERVISION_PAGE)
        .take(SUPERVISION_PAGE)
    {
        let heading = format!(
            "{} · {}",
            k.appeal.department.clone().unwrap_or_else(|| none.clone()),
            k.appeal.cadre_name.clone().unwrap_or_else(|| none.clone())
        );
        let row = appeal_row(k.card, &c, &cats, ctx.lang, &k.appeal, k.deadline.1);
        match groups.last_mut() {
            Some((h, rows)) if *h == heading => rows.push(row),
            _ => groups.push((heading, vec![row])),
        }
    }
    let mut notices = Vec::new();
    if page == 1 {
        for n in state.store.open_supervision_notices(200).await? {
            if let Ok((a, _)) = state.store.appeal(n.appeal_id).await {
                if sees(user, &a) {
                    notices.extend(notice_rows(vec![n]).into_iter().map(|row| (a.id, row)));
                }
            }
        }
    }
    render(&SupervisionPage {
        c,
        groups,
        red,
        yellow,
        departments,
        cadres,
        notices,
        page,
        pages,
        prev_href: (page > 1).then(|| q.href(Some(page - 1), None)),
        next_href: (page < pages).then(|| q.href(Some(page + 1), None)),
        xlsx_href: q.href(None, Some("xlsx")),
        csv_href: q.href(None, Some("csv")),
        q,
    })
}

/// The form issuing a 督办单.
#[derive(Deserialize)]
pub struct SuperviseForm {
    text: String,
    days: Option<String>,
}

/// `POST /appeals/{id}/supervise`: leaders and administrators.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn supervise(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<AppealId>,
    CsrfForm(f): CsrfForm<SuperviseForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::Supervise)?.clone();
    super::appeal_in_scope(&state, &user, id).await?;
    let c = ctx.lang.catalog();
    yongxin_domain::appeal::check_text("note", &f.text, true)
        .map_err(|e| super::lifecycle_error(&e, c))?;
    let days = yongxin_domain::appeal::supervision_days(f.days.as_deref())
        .ok_or_else(|| AppError::invalid_param("days"))?;
    let due = state
        .calendar()
        .resolution_deadline(chrono::Utc::now(), days);
    state
        .store
        .issue_supervision(&user.actor(), id, f.text.trim(), due)
        .await?;
    Ok(Redirect::to(&format!("/appeals/{id}")).into_response())
}

/// The form answering a 督办单.
#[derive(Deserialize)]
pub struct NoticeAnswerForm {
    answer: String,
    appeal: String,
}

/// `POST /supervision/{notice}/answer`: the case's handler, department staff or administrators.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn answer_notice(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(notice): Ids<i64>,
    CsrfForm(f): CsrfForm<NoticeAnswerForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let appeal_id: AppealId = f
        .appeal
        .parse()
        .map_err(|_| AppError::invalid_param("appeal"))?;
    let (a, _) = super::appeal_in_scope(&state, &user, appeal_id).await?;
    if !state
        .store
        .supervision_notices(appeal_id)
        .await?
        .iter()
        .any(|n| n.id == notice)
    {
        return Err(AppError::not_found());
    }
    if !(a.cadre_user_id == Some(user.id) || user.role.may(Permission::AnswerAnySupervision)) {
        return Err(AppError::forbidden());
    }
    let c = ctx.lang.catalog();
    yongxin_domain::appeal::check_text("reply", &f.answer, true)
        .map_err(|e| super::lifecycle_error(&e, c))?;
    state
        .store
        .answer_supervision(&user.actor(), notice, f.answer.trim())
        .await?;
    Ok(Redirect::to(&format!("/appeals/{appeal_id}")).into_response())
}

/// A repeat group as shown.
pub struct RepeatRow {
    kind: &'static str,
    label: String,
    first: (i64, String),
    others: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "hot.html")]
struct HotPage {
    c: Chrome,
    categories: Vec<(String, i64, String)>,
    villages: Vec<(String, i64, String)>,
    repeats: Vec<RepeatRow>,
    may_merge: bool,
}

/// `GET /appeals/hot`: cadres; categories and places rising this week, and repeats to merge.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn hot(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    use yongxin_domain::hot::{repeats, rising, RepeatKind};
    let user = ctx.cadre()?.clone();
    let now = chrono::Utc::now();
    let marks = state
        .store
        .case_marks(now - chrono::Duration::days(35))
        .await?;
    let cats = state.categories().await?;
    let name = |code: &str| {
        cats.iter()
            .find(|(c, _)| c.code == code)
            .map(|(c, _)| category_name(c, ctx.lang))
            .unwrap_or_else(|| code.to_owned())
    };
    let fmt = |r: yongxin_domain::hot::Rising, label: String| {
        (label, r.this_week, format!("{:.1}", r.weekly_average))
    };
    let categories = rising(&marks, now, |m| Some(m.category.clone()))
        .into_iter()
        .map(|r| {
            let l = name(&r.key);
            fmt(r, l)
        })
        .collect();
    let villages = rising(&marks, now, |m| m.village.clone())
        .into_iter()
        .map(|r| {
            let l = r.key.clone();
            fmt(r, l)
        })
        .collect();
    let numbers: std::collections::HashMap<i64, chrono::DateTime<chrono::Utc>> =
        marks.iter().map(|m| (m.id, m.created_at)).collect();
    let number = |id: i64| {
        (
            id,
            numbers
                .get(&id)
                .map(|t| yongxin_domain::appeal::appeal_number(id, *t))
                .unwrap_or_default(),
        )
    };
    let groups: Vec<_> = repeats(&marks, now).into_iter().take(100).collect();
    // Trends are counts; the repeated cases are numbers and places. Those a user could not open
    // are not named: the whole subdistrict's to those who dispatch it, the rest their own part.
    let visible: std::collections::HashSet<i64> = if user.role.may(Permission::ReadHotIssues) {
        groups.iter().flat_map(|g| g.ids.iter().copied()).collect()
    } else {
        let ids: Vec<AppealId> = groups
            .iter()
            .flat_map(|g| g.ids.iter().copied().map(AppealId))
            .collect();
        state
            .store
            .appeals_by_ids(&ids)
            .await?
            .iter()
            .filter(|a| super::sees(&user, a))
            .map(|a| a.id.get())
            .collect()
    };
    let mut rows = Vec::new();
    for mut g in groups {
        g.ids.retain(|id| visible.contains(id));
        let (kind, label) = match g.kind {
            RepeatKind::Household => (
                "hot.same_household",
                g.key
                    .split_once(':')
                    .map(|(_, c)| name(c))
                    .unwrap_or_default(),
            ),
            RepeatKind::Place => (
                "hot.same_place",
                g.key
                    .split_once('@')
                    .map(|(c, a)| format!("{} · {a}", name(c)))
                    .unwrap_or_default(),
            ),
        };
        let mut ids = g.ids.into_iter();
        let Some(first) = ids.next() else { continue };
        rows.push(RepeatRow {
            kind,
            label,
            first: number(first),
            others: ids.map(number).collect(),
        });
    }
    let may_merge = user.role.may(Permission::DispatchAllAppeals);
    render(&HotPage {
        c: Chrome::new(&ctx, "hot.title"),
        categories,
        villages,
        repeats: rows,
        may_merge,
    })
}

/// A case as the public sees it: no names, phones, addresses or free text.
pub struct PublicRow {
    date: String,
    category: String,
    village: String,
    status: String,
}

#[derive(Template)]
#[template(path = "public_appeals.html")]
struct PublicPage {
    c: Chrome,
    rows: Vec<PublicRow>,
    rates: super::StatsDto,
    page: i64,
    pages: i64,
}

/// `GET /public/appeals`: anyone; recent cases anonymised, and the three rates of the past year by
/// category.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn public_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = parse_opt_id(p.page.as_deref(), "page")?.unwrap_or(1).max(1);
    let q = AppealQuery {
        page,
        ..AppealQuery::within(yongxin_store::AppealScope::All, 50)
    };
    let found = state.store.search_appeals(&q).await?;
    let cats = state.categories().await?;
    let c = Chrome::new(&ctx, "public.title");
    let rows = found
        .appeals
        .iter()
        .map(|a| PublicRow {
            date: a
                .created_at
                .with_timezone(&yongxin_domain::time::shanghai())
                .format("%Y-%m-%d")
                .to_string(),
            category: cats
                .iter()
                .find(|(cat, _)| cat.code == a.category)
                .map(|(cat, _)| category_name(cat, ctx.lang))
                .unwrap_or_else(|| a.category.clone()),
            village: a.village_name.clone().unwrap_or_default(),
            status: c
                .t(&format!("appeal.status.{}", a.status.code()))
                .to_owned(),
        })
        .collect();
    let rates = super::public_rates(&state, &ctx).await?;
    render(&PublicPage {
        rows,
        rates,
        page,
        pages: ((found.total + 49) / 50).max(1),
        c,
    })
}

/// How often one client address may download the public case list (it reads a year of cases).
const PUBLIC_EXPORTS_PER_HOUR: u32 = 10;

/// `GET /public/appeals.csv`: the cases behind the public three rates — the past year's, one row
/// each with its category, the day it was filed, its deadlines and when they were met, its status
/// and rating, and nothing that names anyone — headed by the instant it was taken (`as_of`), so
/// `tools/verify_rates.py` can recompute the rates from it as of that instant. Anyone may
/// download it, a few times an hour per address.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn public_csv(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(client) = ctx.client_key() {
        state
            .guards
            .track
            .hit(
                &format!("public-export:{client}"),
                crate::http::security::Rate::per_hour(PUBLIC_EXPORTS_PER_HOUR),
            )
            .map_err(|wait| AppError::rate_limited(crate::http::security::minutes(wait)))?;
    }
    let now = chrono::Utc::now();
    let today = yongxin_domain::campaign::local_day(now);
    let (from, to) =
        yongxin_domain::appeal::stats_period(today, None, None).map_err(AppError::invalid_param)?;
    let period = (
        yongxin_domain::calendar::start_of_day(from),
        yongxin_domain::calendar::start_of_day(to + chrono::Duration::days(1)),
    );
    // One form for every time (UTC, microseconds, Z), so comparing the text compares the instants.
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut table = vec![
        vec![
            "as_of".to_owned(),
            time(now),
            "from".to_owned(),
            from.to_string(),
            "to".to_owned(),
            to.to_string(),
            // Every row of a CSV has as many fields as the header.
            String::new(),
            String::new(),
        ],
        [
            "category",
            "filed_on",
            "contact_due",
            "contacted_at",
            "resolution_due",
            "answered_at",
            "status",
            "rating",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
    ];
    let mut after = AppealId(0);
    loop {
        let page = state.store.public_cases(period, after, 5000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for c in page {
            table.push(vec![
                c.category_code,
                yongxin_domain::campaign::local_day(c.created_at).to_string(),
                time(c.contact_due),
                c.contacted_at.map(time).unwrap_or_default(),
                time(c.resolution_due),
                c.answered_at.map(time).unwrap_or_default(),
                c.status,
                c.rating.unwrap_or_default(),
            ]);
        }
    }
    let bytes = crate::http::sheet::write_table(&table, crate::http::sheet::SheetFormat::Csv)
        .map_err(AppError::internal)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"appeals-{from}-{to}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /photos/{token}`: the photo without location metadata, for anyone given its address
/// (addresses are random and shown only to those who see the case).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn photo(
    State(state): State<AppState>,
    Ids(token): Ids<String>,
) -> Result<Response, AppError> {
    let (p, upload) = state
        .store
        .photo(&token)
        .await?
        .ok_or_else(AppError::not_found)?;
    // Every metadata block of every embedded image goes, whatever the cleaner of the day the
    // photo was uploaded on left in.
    let clean = yongxin_domain::photo::clean(&upload, usize::MAX).map_err(|e| {
        tracing::warn!(photo.id = p.id, error.message = %e, "stored photo does not clean");
        AppError::not_found()
    })?;
    Ok(crate::http::upload::photo_response(
        &p.content_type,
        clean.bytes,
    ))
}

/// `GET /photos/{token}/original`: the upload as it came, location and all, for staff who see
/// the case; each view is recorded.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn photo_original(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(token): Ids<String>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if !user.role.is_cadre() {
        return Err(AppError::forbidden());
    }
    let (p, bytes) = state
        .store
        .photo(&token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (a, _) = super::appeal_in_scope(&state, user, p.appeal_id).await?;
    state
        .store
        .record(vec![yongxin_domain::NewAuditEntry::new(
            user.username.clone(),
            "photo.view_original",
            format!("appeal:{}", a.id),
            format!("{} photo {}", a.number, p.id),
            &serde_json::json!({ "photo": p.id }),
        )])
        .await?;
    let kind = yongxin_domain::photo::PhotoKind::sniff(&bytes)
        .map_or("application/octet-stream", |k| k.content_type());
    Ok(crate::http::upload::photo_response(kind, bytes))
}
