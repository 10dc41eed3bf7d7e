//! Records of resettlement (拆迁安置): a project's phase, policy versions, the apartment
//! catalogue, assessments and computed results, registrations and the lottery.

use crate::id::{HouseholdId, ProjectId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yongxin_domain::money::{Fen, Qty};
use yongxin_domain::resettlement::entitlement::{
    ChosenUnit, Entitlement, HouseholdInputs, MemberFacts,
};
use yongxin_domain::resettlement::Phase;

use crate::{HouseholdSummary, Member, Project};

/// A project with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDetail {
    /// The project.
    pub project: Project,
    /// Its phase.
    pub phase: Phase,
    /// The results 公示, once published.
    pub results_notice_id: Option<i64>,
    /// Whether the lottery list is frozen.
    pub frozen: bool,
}

/// A phase change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PhaseChange {
    /// From.
    #[sqlx(try_from = "String")]
    pub from: Phase,
    /// To.
    #[sqlx(try_from = "String")]
    pub to: Phase,
    /// Why, or what moved it.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A published policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PolicyVersion {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: ProjectId,
    /// Version number.
    #[sqlx(try_from = "i64")]
    pub version: u32,
    /// 标题
    pub title: String,
    /// 施行日期
    pub effective: NaiveDate,
    /// The TOML as published.
    pub source: String,
    /// The notice that published it.
    pub notice_id: Option<i64>,
    /// Who published it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An apartment of a project's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectUnit {
    /// Id.
    pub id: i64,
    /// Building code.
    pub building: String,
    /// Building name.
    pub building_name: String,
    /// Unit number.
    pub number: String,
    /// Floor.
    pub floor: i64,
    /// Layout code.
    pub layout: String,
    /// Floor area m².
    #[sqlx(try_from = "i64")]
    pub area: Qty,
}

/// An assessment (入户评估) as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Id.
    pub id: i64,
    /// Household.
    pub household_id: HouseholdId,
    /// What was assessed.
    pub inputs: HouseholdInputs,
    /// The reason of a correction.
    pub reason: Option<String>,
    /// Who.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A computed result with everything it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntitlementRecord {
    /// Id.
    pub id: i64,
    /// Household.
    pub household_id: HouseholdId,
    /// Policy version.
    pub policy_version: u32,
    /// The assessment read.
    pub assessment_id: i64,
    /// Units priced (registered layouts, later the chosen apartments).
    pub chosen: Vec<ChosenUnit>,
    /// Signing date, once signed.
    pub signed_on: Option<NaiveDate>,
    /// The result.
    pub result: Entitlement,
    /// What produced it (评估, 选房登记, 更正: reason).
    pub reason: String,
    /// Who.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Whether it is the household's current result.
    pub current: bool,
}

/// A household's registration (选房登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// Household.
    pub household_id: HouseholdId,
    /// The layout codes of the preferred combination.
    pub layouts: Vec<String>,
    /// Their total area.
    pub total_area: Qty,
    /// Registered in person by a cadre (otherwise online by a member).
    pub in_person: bool,
    /// The user who registered it.
    pub by_user_id: i64,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One row of a project's household list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectHousehold {
    /// The household.
    pub household: HouseholdSummary,
    /// Σ weights of the current result.
    pub eligible_persons: Option<Qty>,
    /// Entitled area of the current result.
    pub entitled_area: Option<Qty>,
    /// Compensation of the current result.
    pub compensation: Option<Fen>,
    /// Net amount of the current result.
    pub net: Option<Fen>,
    /// Registered layouts.
    pub registered: Option<Vec<String>>,
    /// Order in the lottery, once drawn.
    pub lottery_order: Option<i64>,
}

impl ProjectHousehold {
    /// The household's line in the results 公示.
    pub fn published(self) -> yongxin_domain::resettlement::PublishedResult {
        yongxin_domain::resettlement::PublishedResult {
            household_key: self.household.key,
            village: self.household.village_name,
            head_name: self.household.head_name,
            eligible_persons: self.eligible_persons.unwrap_or_default(),
            entitled_area: self.entitled_area.unwrap_or_default(),
            compensation: self.compensation.unwrap_or_default(),
        }
    }
}

/// Registration progress of one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RegistrationCoverage {
    /// Village.
    pub village_id: i64,
    /// Its name.
    pub village_name: String,
    /// Households of the project in it.
    pub households: i64,
    /// Registered.
    pub registered: i64,
    /// Of which in person.
    pub in_person: i64,
}

/// Registrations made by one person on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationDay {
    /// Shanghai date.
    pub day: NaiveDate,
    /// Who registered.
    pub by_name: String,
    /// Whether in person (a cadre) or online.
    pub in_person: bool,
    /// How many.
    pub count: i64,
}

/// The lottery of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotteryState {
    /// The frozen list, canonical.
    pub list: Vec<String>,
    /// Its hash.
    pub list_sha256: String,
    /// How the seed will be fixed.
    pub seed_rule: String,
    /// The parties' commitments the next draw's seed is derived from (none for a lottery frozen
    /// before commitments existed).
    pub seed_commitment: Option<yongxin_domain::lottery::SeedCommitment>,
    /// The freeze notice.
    pub notice_id: Option<i64>,
    /// Who froze it.
    pub frozen_by: String,
    /// When.
    pub frozen_at: DateTime<Utc>,
    /// Every draw, oldest first; the last one stands.
    pub draws: Vec<LotteryDraw>,
}

/// One draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LotteryDraw {
    /// The seed.
    pub seed: String,
    /// The proof as published (JSON).
    pub proof: String,
    /// Why it was drawn again (redraws only).
    pub reason: Option<String>,
    /// Who.
    pub drawn_by: String,
    /// When.
    pub drawn_at: DateTime<Utc>,
}

/// A registry member as eligibility reads them.
impl From<&Member> for MemberFacts {
    fn from(m: &Member) -> Self {
        MemberFacts {
            resident_id: m.id,
            name: m.name.clone(),
            birth_date: m.birth_date,
            registered_since: m.registered_since,
            flags: m.flags.clone(),
        }
    }
}
