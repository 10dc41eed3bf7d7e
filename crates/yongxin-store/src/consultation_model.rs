//! Records of consultations (征求意见): their questions, households' answers and the results.

use crate::id::{HouseholdId, ProjectId};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use yongxin_domain::consultation::{AnswerChannel, GivenAnswer, Question, QuestionDraft};
use yongxin_domain::notice::ScopeKind;

/// A consultation to create, already checked.
#[derive(Debug, Clone)]
pub struct NewConsultation {
    /// Title.
    pub title: String,
    /// Background (text).
    pub background: String,
    /// A notice that explains it, if any.
    pub notice_id: Option<i64>,
    /// Who is asked: the subdistrict's households, chosen villages' or a project's.
    pub scope: ScopeKind,
    /// The villages (scope `villages`).
    pub village_ids: Vec<i64>,
    /// The project (scope `project`).
    pub project_id: Option<ProjectId>,
    /// Opens.
    pub opens_at: DateTime<Utc>,
    /// Closes.
    pub closes_at: DateTime<Utc>,
    /// Questions, in order.
    pub questions: Vec<QuestionDraft>,
}

/// A stored consultation with its questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Consultation {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Background.
    pub background: String,
    /// Explaining notice.
    pub notice_id: Option<i64>,
    /// Who is asked.
    #[sqlx(try_from = "String")]
    pub scope: ScopeKind,
    /// The villages (scope `villages`).
    #[sqlx(skip)]
    pub village_ids: Vec<i64>,
    /// The project (scope `project`).
    pub project_id: Option<ProjectId>,
    /// Opens.
    pub opens_at: DateTime<Utc>,
    /// Closes.
    pub closes_at: DateTime<Utc>,
    /// The notice its results were published as.
    pub result_notice_id: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// Questions, in order.
    #[sqlx(skip)]
    pub questions: Vec<Question>,
}

/// A household's answer to submit.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    /// The household answering.
    pub household_id: HouseholdId,
    /// The member answering (the head when none is named).
    pub resident_id: Option<i64>,
    /// How it was given.
    pub channel: AnswerChannel,
    /// The user who submitted or recorded it.
    pub recorded_by: i64,
    /// When.
    pub answered_at: DateTime<Utc>,
    /// Answers by question id.
    pub given: BTreeMap<i64, GivenAnswer>,
}

/// A household's current answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentAnswer {
    /// Answer id.
    pub id: i64,
    /// How it was given.
    pub channel: AnswerChannel,
    /// Who submitted or recorded it.
    pub recorded_by: String,
    /// When.
    pub answered_at: DateTime<Utc>,
    /// Answers by question id.
    pub given: BTreeMap<i64, GivenAnswer>,
}

/// The results of a consultation, from current answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsultationResults {
    /// Households asked.
    pub eligible: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Per village: id, name, households asked, answered.
    pub villages: Vec<(i64, String, i64, i64)>,
    /// Option counts: question, option, rank (rankings only), village, households.
    pub counts: Vec<(i64, i64, Option<i64>, i64, i64)>,
    /// Free-text answers: question, village name, text.
    pub texts: Vec<(i64, String, String)>,
}
