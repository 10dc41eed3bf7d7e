//! Records of selection (选房): selections, claims, apartments with their owners, the board's
//! events and agreements.

use crate::id::{HouseholdId, ProjectId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yongxin_domain::money::Qty;
use yongxin_domain::selection::{Queue, SelectionMode, Wave};

/// A selection to set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSelection {
    /// Project.
    pub project_id: ProjectId,
    /// On selection day or online.
    pub mode: SelectionMode,
    /// Window start.
    pub starts_at: DateTime<Utc>,
    /// Window end.
    pub ends_at: DateTime<Utc>,
    /// Waves (online; empty: everyone from the start).
    pub waves: Vec<Wave>,
    /// Selection day: seconds per household (default 300).
    pub time_limit_seconds: i64,
    /// Selection day: seconds the operator may return a confirmed choice (default 120).
    pub return_seconds: i64,
}

/// A selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: ProjectId,
    /// Mode.
    pub mode: SelectionMode,
    /// Window start.
    pub starts_at: DateTime<Utc>,
    /// Window end.
    pub ends_at: DateTime<Utc>,
    /// Waves.
    pub waves: Vec<Wave>,
    /// Seconds per household on selection day.
    pub time_limit_seconds: i64,
    /// Seconds the operator may return a confirmed choice, before the slip is signed.
    pub return_seconds: i64,
    /// The selection-day queue.
    pub queue: Option<Queue>,
    /// Households on its list.
    pub households: i64,
}

/// An apartment with its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct UnitState {
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
    /// Area m².
    #[sqlx(try_from = "i64")]
    pub area: Qty,
    /// The household that owns it.
    pub owner_household_id: Option<HouseholdId>,
    /// When it was sold.
    pub sold_at: Option<DateTime<Utc>>,
}

/// A unit in a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct ClaimedUnit {
    /// Id.
    pub id: i64,
    /// Building name.
    pub building_name: String,
    /// Unit number.
    pub number: String,
    /// Layout code.
    pub layout: String,
    /// Area m².
    #[sqlx(try_from = "i64")]
    pub area: Qty,
}

/// A confirmed claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// Id.
    pub id: i64,
    /// Selection.
    pub selection_id: i64,
    /// Household.
    pub household_id: HouseholdId,
    /// The units.
    pub units: Vec<ClaimedUnit>,
    /// Their area.
    pub total_area: Qty,
    /// Who confirmed it.
    pub by_name: String,
    /// Staff on the household's behalf.
    pub on_behalf: bool,
    /// When.
    pub at: DateTime<Utc>,
    /// The board event it made.
    pub seq: i64,
    /// The correction that released it: when and why.
    pub corrected: Option<(DateTime<Utc>, String)>,
    /// Whether that release was the operator's return (退回) within the window rather than an
    /// administrator's correction.
    pub returned: bool,
    /// When the household signed the slip: the end of the return window.
    pub signed_at: Option<DateTime<Utc>>,
}

/// A household on a selection's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedHousehold {
    /// Lottery order.
    pub order: i64,
    /// The most area it may own (`None`: no limit).
    pub limit: Option<Qty>,
    /// Selection day: when it declined the rest of its combination (放弃剩余), and why.
    pub declined: Option<(DateTime<Utc>, String)>,
}

/// One change the board shows, in commit order per project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BoardEvent {
    /// Sequence number in the project, from 1, without gaps.
    pub seq: i64,
    /// `sold`, `queue`.
    pub kind: String,
    /// JSON.
    pub payload: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A household's agreement and handover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Agreement {
    /// Household.
    pub household_id: HouseholdId,
    /// 签约日期
    pub signed_on: Option<NaiveDate>,
    /// 搬离日期
    pub moved_out_on: Option<NaiveDate>,
    /// 交钥匙日期
    pub keys_on: Option<NaiveDate>,
}

/// Which step of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStep {
    /// 签约
    Signed,
    /// 搬离
    MovedOut,
    /// 交钥匙
    Keys,
}
