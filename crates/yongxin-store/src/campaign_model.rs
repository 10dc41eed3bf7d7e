//! Records of door-to-door campaigns (入户走访): campaigns, their households and progress,
//! assignments, visits and coverage.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yongxin_domain::campaign::{
    AssignmentWay, CampaignKind, CorrectionRefusal, Period, Rules, Target, VisitOutcome,
};
use yongxin_domain::consultation::{ConsultationError, GivenAnswer};

use crate::id::{AppealId, HouseholdId, ProjectId};
use crate::{NewAppeal, NewConsultation, NewPhoto};

/// Where a campaign's visit form comes from.
#[derive(Debug, Clone)]
pub enum CampaignForm {
    /// No form: visits record the outcome and a note.
    None,
    /// An existing consultation's questions; answers at the door are its answers in person.
    Consultation(i64),
    /// Questions written for the campaign: a consultation created with it.
    New(Box<NewConsultation>),
}

/// A campaign to create, already checked.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Title.
    pub title: String,
    /// What it is for.
    pub kind: CampaignKind,
    /// What the cadres explain or ask (text).
    pub description: String,
    /// Its days.
    pub period: Period,
    /// The notice it explains; households reached are marked informed of it.
    pub notice_id: Option<i64>,
    /// The project it serves (registration drives).
    pub project_id: Option<ProjectId>,
    /// The visit form.
    pub form: CampaignForm,
    /// How households get their cadre.
    pub assignment: AssignmentWay,
    /// Which households.
    pub target: Target,
    /// Its rules.
    pub rules: Rules,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Campaign {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// What it is for.
    #[sqlx(try_from = "String")]
    pub kind: CampaignKind,
    /// Description.
    pub description: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// The notice it explains.
    pub notice_id: Option<i64>,
    /// The project it serves.
    pub project_id: Option<ProjectId>,
    /// The consultation whose questions are its visit form.
    pub consultation_id: Option<i64>,
    /// How households get their cadre.
    #[sqlx(try_from = "String")]
    pub assignment: AssignmentWay,
    /// How its households were chosen (`villages`, `grids`, `flag`, `project`, `households`).
    pub target_kind: String,
    /// Not-at-home days before escalation.
    pub escalate_after: i64,
    /// Whether a refusal counts as reached.
    pub reached_on_refused: bool,
    /// Whether any cadre may visit households within their scope.
    pub open_to_scope: bool,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Campaign {
    /// Its days.
    pub fn period(&self) -> Period {
        Period {
            starts_on: self.starts_on,
            ends_on: self.ends_on,
        }
    }

    /// Its rules.
    pub fn rules(&self) -> Rules {
        Rules {
            escalate_after: u32::try_from(self.escalate_after).unwrap_or(u32::MAX),
            reached_on_refused: self.reached_on_refused,
            open_to_scope: self.open_to_scope,
        }
    }
}

/// Counts over some of a campaign's households.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, sqlx::FromRow)]
pub struct CampaignTotals {
    /// Households to visit.
    pub target: i64,
    /// Of those, reached (met, or refused where that counts).
    pub reached: i64,
    /// Met.
    pub met: i64,
    /// Refused and never met.
    pub refused: i64,
    /// Not at home on the campaign's count of days, not reached: with their village officer.
    pub escalated: i64,
    /// Nothing more to do (reached, or found gone).
    pub settled: i64,
    /// Visits made (current ones).
    pub visits: i64,
    /// Households with no cadre.
    pub unassigned: i64,
}

impl CampaignTotals {
    /// Households still to settle.
    pub fn left(&self) -> i64 {
        self.target - self.settled
    }
}

/// A campaign with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignSummary {
    /// The campaign.
    pub campaign: Campaign,
    /// Its counts (over one cadre's households when listed for a cadre).
    pub totals: CampaignTotals,
}

/// How coverage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageBy {
    /// By village.
    Village,
    /// By grid.
    Grid,
    /// By assigned cadre.
    Cadre,
    /// By the day households were reached.
    Day,
}

impl CoverageBy {
    /// Reads `village`, `grid`, `cadre` or `day`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "village" => CoverageBy::Village,
            "grid" => CoverageBy::Grid,
            "cadre" => CoverageBy::Cadre,
            "day" => CoverageBy::Day,
            _ => return None,
        })
    }
}

/// One group of a campaign's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageGroup {
    /// The village's, grid's or cadre's id (empty for households without a cadre), or the day.
    pub key: String,
    /// Its name, or the day.
    pub name: String,
    /// The counts. For a day: `target` is the households not yet reached when it began,
    /// `reached` and `met` those reached and met that day, `settled` those settled that day.
    pub totals: CampaignTotals,
}

/// Which of a campaign's households to list.
#[derive(Debug, Clone, Default)]
pub struct CampaignHouseholdQuery {
    /// Only this cadre's.
    pub cadre_user_id: Option<i64>,
    /// Only those not reached.
    pub unreached: bool,
    /// Only those still to settle.
    pub open: bool,
    /// Only those escalated.
    pub escalated: bool,
    /// Only this village's.
    pub village_id: Option<i64>,
    /// Only this grid's.
    pub grid_id: Option<i64>,
    /// Only within these grids (a grid worker's scope), when given.
    pub within_grids: Option<Vec<i64>>,
    /// Page, from 1.
    pub page: i64,
    /// Rows per page (at most 500).
    pub per_page: i64,
}

/// One of a campaign's households with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CampaignHousehold {
    /// The household.
    pub household_id: HouseholdId,
    /// Its key (户号).
    pub key: String,
    /// Its address.
    pub address: String,
    /// Village.
    pub village_id: i64,
    /// Village name.
    pub village_name: String,
    /// Grid.
    pub grid_id: i64,
    /// Grid code, which walking order sorts by.
    pub grid_code: String,
    /// Grid name.
    pub grid_name: String,
    /// The head's name.
    pub head_name: Option<String>,
    /// The cadre assigned.
    pub cadre_user_id: Option<i64>,
    /// Their name.
    pub cadre_name: Option<String>,
    /// Visits made.
    pub attempts: i64,
    /// Days nobody was at home.
    pub not_home_days: i64,
    /// The latest outcome.
    #[sqlx(try_from = "OptionalOutcome")]
    pub last_outcome: Option<VisitOutcome>,
    /// When the latest visit happened.
    pub last_visit_at: Option<DateTime<Utc>>,
    /// When reached.
    pub reached_at: Option<DateTime<Utc>>,
    /// Met.
    pub met: bool,
    /// Refused, never met.
    pub refused: bool,
    /// Nothing more to do.
    pub settled: bool,
    /// With the village officer.
    pub escalated: bool,
}

/// A stored outcome code that may be NULL, read as `Option<VisitOutcome>`.
#[derive(Debug, Clone, sqlx::Type)]
#[sqlx(transparent)]
pub struct OptionalOutcome(Option<String>);

impl TryFrom<OptionalOutcome> for Option<VisitOutcome> {
    type Error = yongxin_domain::UnknownCode;

    fn try_from(code: OptionalOutcome) -> Result<Self, Self::Error> {
        code.0.map(VisitOutcome::try_from).transpose()
    }
}

/// A page of a campaign's households.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignHouseholdPage {
    /// The rows.
    pub rows: Vec<CampaignHousehold>,
    /// Rows over all pages.
    pub total: i64,
    /// This page.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// A visit to record, checked by the caller (times, texts, the concerns' appeals).
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The phone's id of the visit.
    pub client_id: String,
    /// Digest of the content ([`yongxin_domain::campaign::visit_fingerprint`]).
    pub fingerprint: String,
    /// The household.
    pub household_id: HouseholdId,
    /// The cadre recording it.
    pub cadre_user_id: i64,
    /// Whether the cadre's scope covers the household (for campaigns open to scope).
    pub scope_covers: bool,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// What came of it.
    pub outcome: VisitOutcome,
    /// Residents met (ids of the household's members).
    pub members: Vec<i64>,
    /// Answers to the form, by question id.
    pub answers: BTreeMap<i64, GivenAnswer>,
    /// The note.
    pub note: String,
    /// Concerns raised, each a case to file (channel `visit`).
    pub concerns: Vec<NewAppeal>,
    /// Photos.
    pub photos: Vec<NewPhoto>,
}

/// A correction of a visit (更正), checked by the caller.
#[derive(Debug, Clone)]
pub struct VisitCorrection {
    /// Who corrects it.
    pub by: yongxin_domain::campaign::Corrector,
    /// Why (required of a village officer).
    pub reason: String,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// What came of it.
    pub outcome: VisitOutcome,
    /// Residents met.
    pub members: Vec<i64>,
    /// Answers to the form.
    pub answers: BTreeMap<i64, GivenAnswer>,
    /// The note.
    pub note: String,
}

/// A stored visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    /// Id.
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The household.
    pub household_id: HouseholdId,
    /// The cadre who recorded it.
    pub cadre_user_id: i64,
    /// Their name.
    pub cadre_name: String,
    /// The phone's id.
    pub client_id: String,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// When it reached the server.
    pub received_at: DateTime<Utc>,
    /// What came of it.
    pub outcome: VisitOutcome,
    /// Residents met.
    pub members: Vec<i64>,
    /// Answers to the form.
    pub answers: BTreeMap<i64, GivenAnswer>,
    /// The note.
    pub note: String,
    /// Whether it stands (not replaced by a correction).
    pub current: bool,
    /// The visit it corrects.
    pub corrects_id: Option<i64>,
    /// Why it was corrected.
    pub correction_reason: Option<String>,
    /// Cases filed from its concerns: id and number.
    pub appeals: Vec<(AppealId, String)>,
    /// Its photos: id and token.
    pub photos: Vec<(i64, String)>,
}

/// What became of a visit sent.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitRecorded {
    /// Stored now.
    Stored(Visit),
    /// Stored before under the same client id with the same content: nothing written.
    Replayed(Visit),
}

/// Why a visit or a correction was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitRefusal {
    /// The household is not the caller's to visit in this campaign (or not in it at all).
    #[error("the household is not assigned to you in this campaign")]
    NotAssigned,
    /// The client id was used for a different visit.
    #[error("the client id was used for a different visit")]
    ClientIdReused,
    /// The answers do not fit the form.
    #[error("answers: {0}")]
    Answer(ConsultationError),
    /// Answers were given but the campaign has no form.
    #[error("the campaign has no visit form")]
    NoForm,
    /// A member named is not of the household.
    #[error("a member named is not of the household")]
    NotAMember,
    /// The correction is not allowed.
    #[error("{0}")]
    Correction(CorrectionRefusal),
    /// The visit was corrected already; correct the correction.
    #[error("the visit was replaced by a correction")]
    Superseded,
}

/// A concern raised at a door, with its case as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct VisitConcern {
    /// The visit.
    pub visit_id: i64,
    /// The household.
    pub household_id: HouseholdId,
    /// Its address.
    pub address: String,
    /// The case.
    pub appeal_id: AppealId,
    /// The case's title.
    pub title: String,
    /// The case's category code.
    pub category: String,
    /// The case's status code.
    pub status: String,
    /// When the case was filed.
    pub created_at: DateTime<Utc>,
}

/// Where an appeal came from when it was raised at a door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct VisitSource {
    /// The campaign.
    pub campaign_id: i64,
    /// Its title.
    pub campaign_title: String,
    /// The visit.
    pub visit_id: i64,
    /// When the visit happened.
    pub visited_at: DateTime<Utc>,
}
