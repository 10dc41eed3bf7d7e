//! Records of meetings (会议): members drawn from the registry, attendance, minutes, resolutions.

use crate::id::HouseholdId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use yongxin_domain::meeting::{MeetingKind, SignInWay, VillagersBasis};

/// A meeting to hold.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    /// Kind.
    pub kind: MeetingKind,
    /// The village it belongs to (none: a hearing of the whole subdistrict).
    pub village_id: Option<i64>,
    /// Whom a villagers' meeting counts.
    pub basis: Option<VillagersBasis>,
    /// Title.
    pub title: String,
    /// When.
    pub held_at: DateTime<Utc>,
    /// Where.
    pub place: String,
    /// Agenda (议程).
    pub agenda: String,
    /// For a committee meeting or a hearing: the members' identity numbers.
    pub member_id_numbers: Vec<String>,
}

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meeting {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: MeetingKind,
    /// Village.
    pub village_id: Option<i64>,
    /// Village name.
    pub village_name: Option<String>,
    /// Whom a villagers' meeting counts.
    pub basis: Option<VillagersBasis>,
    /// Title.
    pub title: String,
    /// When.
    pub held_at: DateTime<Utc>,
    /// Where.
    pub place: String,
    /// Agenda.
    pub agenda: String,
    /// Minutes (会议记录), once written.
    pub minutes: Option<String>,
    /// Members (应到).
    pub members: i64,
    /// Present (实到).
    pub present: i64,
    /// Until when the sign-in code shown at the meeting works.
    pub code_expires_at: Option<DateTime<Utc>>,
    /// The notice the minutes and resolutions were published as.
    pub minutes_notice_id: Option<i64>,
    /// Who created it.
    pub created_by: String,
}

/// A member and whether they signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingMember {
    /// Resident.
    pub resident_id: i64,
    /// Their household.
    pub household_id: HouseholdId,
    /// Name.
    pub name: String,
    /// `door` (signed in by a cadre) or `code` (by their phone), and when.
    pub signed_in: Option<(SignInWay, DateTime<Utc>)>,
}

/// A resolution (决议) with its vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// Id.
    pub id: i64,
    /// What was decided.
    pub text: String,
    /// For.
    pub votes_for: i64,
    /// Against.
    pub against: i64,
    /// Abstaining.
    pub abstain: i64,
    /// Members then.
    pub members: i64,
    /// Present then.
    pub present: i64,
    /// Whether it passed.
    pub passed: bool,
    /// The rule applied (`QuorumRule::code`).
    pub rule: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}
