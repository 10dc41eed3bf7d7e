//! Records of appeals (诉求) the store reads and writes.

use crate::id::{AppealId, HouseholdId};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yongxin_domain::appeal::{AppealAction, AppealStatus, Channel, Rating, Urgency};

/// An appeal to store, already checked at the edge.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    /// Category code.
    pub category: String,
    /// Urgency.
    pub urgency: Urgency,
    /// How it arrived.
    pub channel: Channel,
    /// Short title.
    pub title: String,
    /// What the resident wrote.
    pub description: String,
    /// Answers to the category's extra questions.
    pub answers: BTreeMap<String, Vec<String>>,
    /// Where (free text).
    pub address: String,
    /// Latitude, if given (Open311).
    pub latitude: Option<f64>,
    /// Longitude, if given.
    pub longitude: Option<f64>,
    /// Village, if known.
    pub village_id: Option<i64>,
    /// Grid, if known.
    pub grid_id: Option<i64>,
    /// Household, if known.
    pub household_id: Option<HouseholdId>,
    /// The resident's account, if signed in.
    pub resident_user_id: Option<i64>,
    /// Contact name.
    pub contact_name: String,
    /// Contact phone (valid mobile number).
    pub contact_phone: String,
    /// Contact e-mail (checked address); when given, the resident is told by e-mail, not SMS.
    pub contact_email: Option<String>,
    /// Department it goes to by default.
    pub department: String,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// Contact due.
    pub contact_due: DateTime<Utc>,
    /// Answer due.
    pub resolution_due: DateTime<Utc>,
}

impl Appeal {
    /// What of the case decides its deadline cards.
    pub fn deadline_clock(&self) -> yongxin_domain::appeal::DeadlineClock {
        yongxin_domain::appeal::DeadlineClock {
            status: self.status,
            started_at: self.created_at,
            contacted_at: self.contacted_at,
            contact_due: self.contact_due,
            answered_at: self.answered_at,
            resolution_due: self.resolution_due,
        }
    }
}

/// A stored appeal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appeal {
    /// Id.
    pub id: AppealId,
    /// 案件编号.
    pub number: String,
    /// Category code.
    pub category: String,
    /// Urgency.
    pub urgency: Urgency,
    /// Channel.
    pub channel: Channel,
    /// Status.
    pub status: AppealStatus,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Extra answers.
    pub answers: BTreeMap<String, Vec<String>>,
    /// Address.
    pub address: String,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Village.
    pub village_id: Option<i64>,
    /// Village name.
    pub village_name: Option<String>,
    /// Grid.
    pub grid_id: Option<i64>,
    /// Household.
    pub household_id: Option<HouseholdId>,
    /// Resident account.
    pub resident_user_id: Option<i64>,
    /// Contact name.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: String,
    /// Contact e-mail.
    pub contact_email: Option<String>,
    /// Department handling it.
    pub department: Option<String>,
    /// Cadre handling it.
    pub cadre_user_id: Option<i64>,
    /// That cadre's name.
    pub cadre_name: Option<String>,
    /// Times reopened.
    pub reopen_count: i64,
    /// The case it was merged into.
    pub merged_into: Option<i64>,
    /// The written reply.
    pub reply: Option<String>,
    /// The resident's rating.
    pub rating: Option<Rating>,
    /// Submitted.
    pub created_at: DateTime<Utc>,
    /// Contact due.
    pub contact_due: DateTime<Utc>,
    /// Answer due.
    pub resolution_due: DateTime<Utc>,
    /// First contact.
    pub contacted_at: Option<DateTime<Utc>>,
    /// Answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// Rated.
    pub rated_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Appeal {
    /// A case as it stands the moment it is filed as `id`, built from what was written rather
    /// than read back.
    pub fn submitted(id: AppealId, a: NewAppeal, village_name: Option<String>) -> Self {
        Self {
            id,
            number: yongxin_domain::appeal::appeal_number(id.0, a.created_at),
            category: a.category,
            urgency: a.urgency,
            channel: a.channel,
            status: AppealStatus::Submitted,
            title: a.title,
            description: a.description,
            answers: a.answers,
            address: a.address,
            latitude: a.latitude,
            longitude: a.longitude,
            village_id: a.village_id,
            village_name,
            grid_id: a.grid_id,
            household_id: a.household_id,
            resident_user_id: a.resident_user_id,
            contact_name: a.contact_name,
            contact_phone: a.contact_phone,
            contact_email: a.contact_email,
            department: Some(a.department),
            cadre_user_id: None,
            cadre_name: None,
            reopen_count: 0,
            merged_into: None,
            reply: None,
            rating: None,
            created_at: a.created_at,
            contact_due: a.contact_due,
            resolution_due: a.resolution_due,
            contacted_at: None,
            answered_at: None,
            rated_at: None,
            closed_at: None,
            updated_at: a.created_at,
        }
    }
}

/// One step in a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppealEvent {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Action code (`submit`, `accept`, …).
    pub action: String,
    /// Status before.
    pub status_from: Option<AppealStatus>,
    /// Status after.
    pub status_to: AppealStatus,
    /// Note, reply or reason.
    pub text: Option<String>,
    /// Whether the resident sees it.
    pub visible: bool,
}

/// Which appeals a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealScope {
    /// All of them.
    All,
    /// Those of one village.
    Village(i64),
    /// Those in these grids or assigned to this cadre.
    Cadre {
        /// The cadre's grids.
        grids: Vec<i64>,
        /// The cadre's user id.
        user_id: i64,
    },
    /// A resident's own (filed by the account or for the household).
    Resident {
        /// The account.
        user_id: i64,
        /// The household.
        household_id: Option<HouseholdId>,
    },
}

/// A search of appeals.
#[derive(Debug, Clone)]
pub struct AppealQuery {
    /// Scope.
    pub scope: AppealScope,
    /// Only this status.
    pub status: Option<AppealStatus>,
    /// Only these statuses (none: any).
    pub statuses: Vec<AppealStatus>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this village.
    pub village_id: Option<i64>,
    /// Text in title, description or address.
    pub text: Option<String>,
    /// Only open cases with a deadline still to meet that falls before this instant (the
    /// supervision list: overdue when it is now).
    pub due_before: Option<DateTime<Utc>>,
    /// Only cases submitted at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Only cases submitted before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Only the cases behind one figure of a scorecard.
    pub figure: Option<FigureFilter>,
    /// Page from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl AppealQuery {
    /// Every case within `scope`, newest first, one page of `per_page`; set the filters wanted.
    pub fn within(scope: AppealScope, per_page: i64) -> Self {
        Self {
            scope,
            status: None,
            statuses: Vec::new(),
            category: None,
            village_id: None,
            text: None,
            due_before: None,
            created_from: None,
            created_before: None,
            figure: None,
            page: 1,
            per_page,
        }
    }
}

/// What the full-text index holds of one appeal: the case as it stands and the text of its
/// events, split by whether the resident sees them (internal notes are searched for staff only).
#[derive(Debug, Clone)]
pub struct AppealSearchDoc {
    /// The case.
    pub appeal: Appeal,
    /// Notes, replies and reasons the resident sees.
    pub public_notes: Vec<String>,
    /// Internal notes.
    pub internal_notes: Vec<String>,
    /// Who filed it, as the record names them (`open311:CLIENT` for a relaying platform).
    pub submitted_by: String,
}

/// A page of appeals.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealPage {
    /// Rows.
    pub appeals: Vec<Appeal>,
    /// Matches over all pages.
    pub total: i64,
    /// Page.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// An appeal with its whole history, for demos and migrations from other systems.
#[derive(Debug, Clone)]
pub struct ImportedAppeal {
    /// The appeal as submitted.
    pub appeal: NewAppeal,
    /// Who submitted it (the history's first actor).
    pub submitted_by: String,
    /// What was done to it, in order: when, by whom, what.
    pub history: Vec<(DateTime<Utc>, String, AppealAction)>,
}

/// How the three rates are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// By village or community.
    Village,
    /// By grid (网格).
    Grid,
    /// By category.
    Category,
    /// By department.
    Department,
    /// By handling cadre.
    Cadre,
}

impl StatsGroup {
    /// Reads `village`, `category`, `department` or `cadre`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "village" => Some(Self::Village),
            "grid" => Some(Self::Grid),
            "category" => Some(Self::Category),
            "department" => Some(Self::Department),
            "cadre" => Some(Self::Cadre),
            _ => None,
        }
    }
}

/// The three rates' counts for one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsRow {
    /// The group's key (id or code; empty when the cases have none).
    pub key: String,
    /// The group's name.
    pub label: String,
    /// The counts.
    pub counts: yongxin_domain::appeal::RateCounts,
}

/// A notification waiting in the outbox (written in the same transaction as its cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OutboxMessage {
    /// Id; senders pass it on as the idempotency key.
    pub id: i64,
    /// The case it is about.
    pub appeal_id: Option<AppealId>,
    /// What happened (`resident_accepted`, `cadre_assigned`, …).
    pub kind: String,
    /// `sms:PHONE`, `user:ID` or `email:ADDRESS`.
    pub recipient: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// One message of the outbox as the administrators' page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OutboxEntry {
    /// Id.
    pub id: i64,
    /// The case it is about.
    pub appeal_id: Option<AppealId>,
    /// What happened (`resident_answered`, `cadre_red_card`, …).
    pub kind: String,
    /// `sms:PHONE`, `user:ID` or `email:ADDRESS` (the page masks it).
    pub recipient: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it is tried (again).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// Where a message of the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Not delivered, never failed.
    Waiting,
    /// Not delivered, failed at least once.
    Failing,
    /// Delivered.
    Sent,
}

impl OutboxState {
    /// Every state, in the page's order.
    pub const ALL: [Self; 3] = [Self::Waiting, Self::Failing, Self::Sent];

    /// The code in URLs.
    pub fn code(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Failing => "failing",
            Self::Sent => "sent",
        }
    }

    /// The state of a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state of an entry.
    pub fn of(e: &OutboxEntry) -> Self {
        match (e.sent_at, e.attempts) {
            (Some(_), _) => Self::Sent,
            (None, 0) => Self::Waiting,
            (None, _) => Self::Failing,
        }
    }
}

/// Which messages of the outbox a page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxFilter {
    /// Only in this state.
    pub state: Option<OutboxState>,
    /// Only to this channel (`sms`, `email`, `user`).
    pub channel: Option<String>,
    /// Only of this kind.
    pub kind: Option<String>,
    /// Only about this case.
    pub appeal_id: Option<AppealId>,
}

/// One group's scorecard (考核) over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScorecardRow {
    /// The group's key: user, village or grid id, or the department's name; empty for cases
    /// with none.
    pub key: String,
    /// The group's name.
    pub label: String,
    /// The figures (working days to answer left at zero: the calendar is the caller's).
    pub counts: yongxin_domain::scorecard::ScoreCounts,
}

/// The cases behind one figure of a scorecard: which figure, for which group, over which period,
/// judged when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFilter {
    /// The figure.
    pub figure: yongxin_domain::scorecard::ScoreFigure,
    /// The group and its key (empty: cases with none); `None` for every group.
    pub group: Option<(yongxin_domain::scorecard::ScoreGroup, String)>,
    /// The period: filing for most figures, notices for supervision, none for overdue.
    pub period: (DateTime<Utc>, DateTime<Utc>),
    /// When the figure is judged (deadlines passed by then).
    pub now: DateTime<Utc>,
}

/// An answered case's filing and answer, for the working days to answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerSpan {
    /// The group's key.
    pub key: String,
    /// Filed.
    pub created_at: DateTime<Utc>,
    /// Answered (the current answer).
    pub answered_at: DateTime<Utc>,
}

/// The desk's cards, counted by the store (see `ScorecardStore::card_board`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardBoard {
    /// Department (empty: none), cadre, and how many red cards.
    pub red: Vec<(String, Option<i64>, i64)>,
    /// Department, cadre, and the clock of a case whose deadline falls before the horizon.
    pub near: Vec<(String, Option<i64>, yongxin_domain::appeal::DeadlineClock)>,
}

/// What hot issues are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotKey {
    /// Category code.
    Category,
    /// Village name.
    Village,
    /// Address as written.
    Address,
}

/// 督办单: a supervision notice on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SupervisionNotice {
    /// Id.
    pub id: i64,
    /// The case.
    pub appeal_id: AppealId,
    /// Who issued it.
    pub issued_by: String,
    /// When.
    pub issued_at: DateTime<Utc>,
    /// When the answer is due.
    pub due_at: DateTime<Utc>,
    /// What is asked.
    pub text: String,
    /// Who answered.
    pub answered_by: Option<String>,
    /// When.
    pub answered_at: Option<DateTime<Utc>>,
    /// The answer.
    pub answer: Option<String>,
}

/// An Open311 client and its API key (kept only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Open311Key {
    /// Id.
    pub id: i64,
    /// The client's name, as the administrator gave it.
    pub name: String,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A photo to attach to an appeal, a note or a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    /// The random token of its address.
    pub token: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The upload as it came (checked to be a photo that cleans), kept once: what everyone sees
    /// is cleaned from it when served, so a better cleaner also mends photos stored before it.
    pub original: Vec<u8>,
}

/// A stored photo, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PhotoRef {
    /// Id.
    pub id: i64,
    /// The case.
    pub appeal_id: AppealId,
    /// The note or reply it belongs to; `None`: the appeal itself.
    pub event_id: Option<i64>,
    /// The random token of its address.
    pub token: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes (of the image without metadata).
    pub size: i64,
}

/// What the three rates count of a case, and nothing that names anyone: its public row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PublicCase {
    /// Id (for paging; not published).
    pub id: AppealId,
    /// Category code.
    pub category_code: String,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// Contact due.
    pub contact_due: DateTime<Utc>,
    /// When contacted.
    pub contacted_at: Option<DateTime<Utc>>,
    /// Answer due.
    pub resolution_due: DateTime<Utc>,
    /// When answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// Status code.
    pub status: String,
    /// Rating code.
    pub rating: Option<String>,
}
