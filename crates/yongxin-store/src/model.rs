//! Records the store reads and writes.

use crate::id::HouseholdId;
use chrono::NaiveDate;
use serde::Serialize;
use yongxin_domain::id_number::IdNumber;
use yongxin_domain::phone::Phone;
use yongxin_domain::registry::{Relation, ResidentFlag, Sex, VillageKind};
use yongxin_domain::{Role, Scope};

/// A database's schema against this build's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationState {
    /// Migrations applied already.
    pub applied: usize,
    /// This build's migrations not yet applied.
    pub pending: usize,
    /// Versions applied by a newer build, unknown to this one.
    pub unknown: Vec<i64>,
}

/// Connection pool figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Of those, idle.
    pub idle: u32,
}

/// A village (村) or community (社区) to add.
#[derive(Debug, Clone)]
pub struct NewVillage {
    /// Short unique code.
    pub code: String,
    /// Unique name.
    pub name: String,
    /// Village or community.
    pub kind: VillageKind,
}

/// A village or community with its counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct Village {
    /// Id.
    pub id: i64,
    /// Short unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Village or community.
    #[sqlx(try_from = "String")]
    pub kind: VillageKind,
    /// Grids in it.
    pub grid_count: i64,
    /// Households in it.
    pub household_count: i64,
    /// Residents in it.
    pub resident_count: i64,
}

/// A grid (网格) to add.
#[derive(Debug, Clone)]
pub struct NewGrid {
    /// The village it belongs to.
    pub village_id: i64,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The responsible cadre's name (网格员), shown to every household of the grid.
    pub cadre_name: String,
    /// The cadre's work phone, shown to households (it is a public duty number, not personal data).
    pub cadre_phone: Option<String>,
}

/// A grid with its responsible cadre.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct Grid {
    /// Id.
    pub id: i64,
    /// Its village.
    pub village_id: i64,
    /// Its village's name.
    pub village_name: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The cadre's user account, when they have one.
    pub cadre_user_id: Option<i64>,
    /// The cadre's name.
    pub cadre_name: String,
    /// The cadre's work phone.
    pub cadre_phone: Option<String>,
    /// Households in it.
    pub household_count: i64,
}

/// What a household search asks for.
#[derive(Debug, Clone)]
pub struct HouseholdQuery {
    /// Only households the asker may see.
    pub scope: Scope,
    /// Only this village.
    pub village_id: Option<i64>,
    /// Only this grid.
    pub grid_id: Option<i64>,
    /// Text: part of a member's name or the address, or the last four digits of a member's phone
    /// or identity number.
    pub text: Option<String>,
    /// Page number from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// A household as lists show it. Phone and identity number are whole here, as checked values
/// whose `Debug` is masked; the web masks them for display. Not `Serialize`, so that no JSON
/// carries them by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdSummary {
    /// Id.
    pub id: HouseholdId,
    /// 户号
    pub key: String,
    /// 地址
    pub address: String,
    /// Village id.
    pub village_id: i64,
    /// Village name.
    pub village_name: String,
    /// Grid id.
    pub grid_id: i64,
    /// Grid name.
    pub grid_name: String,
    /// Head's name.
    pub head_name: String,
    /// Head's phone.
    pub head_phone: Option<Phone>,
    /// Head's identity number (none for a household without a head on record).
    pub head_id_number: Option<IdNumber>,
    /// Number of members.
    pub member_count: i64,
}

/// One page of a household search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdPage {
    /// The rows.
    pub households: Vec<HouseholdSummary>,
    /// Matches over all pages.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// A household member as stored; not `Serialize`, like [`HouseholdSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Id.
    pub id: i64,
    /// 姓名
    pub name: String,
    /// 性别
    pub sex: Sex,
    /// 出生日期
    pub birth_date: NaiveDate,
    /// 身份证号
    pub id_number: IdNumber,
    /// 手机号
    pub phone: Option<Phone>,
    /// 与户主关系
    pub relation: Relation,
    /// 户籍登记日期
    pub registered_since: Option<NaiveDate>,
    /// 人员标记
    pub flags: Vec<ResidentFlag>,
}

/// A household with its members and the grid that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdDetail {
    /// The summary line.
    pub summary: HouseholdSummary,
    /// Members, the head first.
    pub members: Vec<Member>,
    /// Its grid and responsible cadre.
    pub grid: Grid,
}

/// One resident with their household, as the roster layout needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// 户号
    pub household_key: String,
    /// Village name.
    pub village_name: String,
    /// Grid code.
    pub grid_code: String,
    /// 地址
    pub address: String,
    /// The resident.
    pub member: Member,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Households added.
    pub households_created: u64,
    /// Households whose members were replaced.
    pub households_updated: u64,
    /// Residents written.
    pub residents: u64,
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique sign-in name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// For a village officer: their village.
    pub village_id: Option<i64>,
    /// For a resident: their household.
    pub household_id: Option<HouseholdId>,
}

/// A one-time code for an account, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCode {
    /// SHA-256 of the code as typed, normalised.
    pub code_hash: String,
    /// `activation` or `reset`.
    pub reset: bool,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// For a village officer: their village.
    pub village_id: Option<i64>,
    /// For a resident: their household.
    pub household_id: Option<HouseholdId>,
    /// For a grid worker: the grids they are responsible for.
    #[sqlx(skip)]
    pub grid_ids: Vec<i64>,
    /// Where their notifications (new assignments, cards) are e-mailed, if anywhere.
    pub email: Option<String>,
    /// Whether an administrator disabled the account (it can no longer sign in or use tokens).
    pub disabled: bool,
}

/// An API token as an administrator sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    /// Issued.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Stops working (tokens issued before expiry existed got 90 days from issue).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Revoked, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl User {
    /// The user as the actor of a change.
    pub fn actor(&self) -> yongxin_domain::Actor {
        yongxin_domain::Actor::user(&self.username)
    }

    /// The part of the registry this user may see.
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Admin | Role::Leader | Role::DepartmentStaff => Scope::Subdistrict,
            Role::VillageOfficer => self.village_id.map_or(Scope::Nothing, Scope::Village),
            Role::GridWorker if !self.grid_ids.is_empty() => Scope::Grids(self.grid_ids.clone()),
            Role::GridWorker => Scope::Nothing,
            Role::Resident => self
                .household_id
                .map_or(Scope::Nothing, |h| Scope::Household(h.0)),
        }
    }
}

/// Failed sign-ins of one account from one address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInFailures {
    /// How many since the time asked about.
    #[sqlx(rename = "n")]
    pub count: i64,
    /// The latest.
    pub last_at: Option<chrono::DateTime<chrono::Utc>>,
}
