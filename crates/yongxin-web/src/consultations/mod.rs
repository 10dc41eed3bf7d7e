//! Consultations (征求意见): questions written as plain text, answers online or on a household's behalf (one current answer per household), results and publishing them as a notice, with the JSON API.

mod api;
pub(crate) mod form;
mod pages;

use crate::http::error::AppError;
use crate::http::format::percent;
use crate::http::i18n::Catalog;
use crate::http::routes::Routes;
use crate::AppState;
use chrono::DateTime;
use chrono::Utc;
use std::collections::BTreeMap;
use yongxin_domain::consultation::AnswerChannel;
use yongxin_domain::consultation::ConsultationError;
use yongxin_domain::consultation::GivenAnswer;
use yongxin_domain::consultation::Question;
use yongxin_domain::consultation::{tally_option, QuestionKind};
use yongxin_domain::Actor;
use yongxin_domain::Permission;
use yongxin_domain::Role;
use yongxin_store::Consultation;
use yongxin_store::ConsultationResults;
use yongxin_store::NewAnswer;
use yongxin_store::User;
use yongxin_store::{HouseholdId, ProjectId};

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get_post("/consultations", pages::list, pages::create)
        .get("/consultations/new", pages::new_consultation)
        .get("/consultations/{id}", pages::show)
        .post("/consultations/{id}/answers", pages::submit)
        .get("/consultations/{id}/results", pages::results)
        .post("/consultations/{id}/publish", pages::publish)
        .get("/api/v1/consultations", api::list_consultations)
        .get("/api/v1/consultations/{id}", api::get_consultation)
        .post("/api/v1/consultations/{id}/answers", api::submit_answer)
        .get(
            "/api/v1/consultations/{id}/results",
            api::consultation_results,
        )
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::ConsultationsApi as utoipa::OpenApi>::openapi()
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

/// Shapes a consultation's results.
pub fn results_view(k: &Consultation, r: &ConsultationResults) -> ResultsView {
    let villages: Vec<(i64, String, i64, i64, String)> = r
        .villages
        .iter()
        .map(|(id, name, e, a)| (*id, name.clone(), *e, *a, percent(*a, *e)))
        .collect();
    let village_ids: Vec<i64> = villages.iter().map(|v| v.0).collect();
    let questions = k
        .questions
        .iter()
        .map(|q| {
            let options = q
                .options
                .iter()
                .map(|(oid, label)| {
                    let t = tally_option(q, *oid, &r.counts, &village_ids);
                    let mean_place = match (q.kind, t.mean_place) {
                        (QuestionKind::Ranking, Some(m)) => format!("{m:.2}"),
                        (QuestionKind::Ranking, None) => "—".into(),
                        _ => String::new(),
                    };
                    (
                        *oid,
                        label.clone(),
                        t.total,
                        percent(t.total, r.answered),
                        mean_place,
                        t.by_village,
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

/// `open`, `upcoming` or `closed`.
pub fn state_code(c: &Consultation, now: DateTime<Utc>) -> &'static str {
    yongxin_domain::consultation::window_state(c.opens_at, c.closes_at, now)
}

/// Results as a user may see them: free-text answers (which may name people) only for those who
/// run consultations.
pub fn visible_results(user: &User, mut r: ConsultationResults) -> ConsultationResults {
    if !user.role.may(Permission::RunConsultation) {
        r.texts.clear();
    }
    r
}

/// An answer as a page or the API hands it over.
pub struct AnswerRequest<'a> {
    /// The household (a resident's own when none).
    pub household_id: Option<HouseholdId>,
    /// The member answering, named by the head.
    pub resident_id: Option<i64>,
    /// Staff: `in_person` or `meeting`.
    pub channel: Option<&'a str>,
    /// Answers by question id.
    pub given: BTreeMap<i64, GivenAnswer>,
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
        (
            k.scope,
            k.village_ids.clone(),
            k.project_id.map(ProjectId::get),
        ),
        c.format("consultation.result_title", &[("title", k.title.clone())]),
        results_text(&r, c),
        c,
    )?;
    let notice = store.publish_results_notice(actor, k.id, draft).await?;
    Ok(notice)
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

async fn found(state: &AppState, id: i64) -> Result<Consultation, AppError> {
    state
        .store
        .consultation(id)
        .await?
        .ok_or_else(AppError::not_found)
}
