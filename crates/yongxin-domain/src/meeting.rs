//! Meetings (会议): their kinds, who their members are, and the quorum and majority rules of the
//! Organic Law of Villagers' Committees (村民委员会组织法) and the Party's rules, checked, never
//! assumed — an inquorate meeting adopts nothing.

code_enum! {
    /// What kind of meeting.
    MeetingKind {
        /// 村两委会议: the village Party branch committee and villagers' committee.
        VillageCommittee = ("village_committee", "村两委会议"),
        /// 党员大会: the village's Party members.
        PartyMembers = ("party_members", "党员大会"),
        /// 村民代表会议: the villagers' representatives.
        Representatives = ("representatives", "村民代表会议"),
        /// 村民会议: the villagers (adults, or one representative per household).
        Villagers = ("villagers", "村民会议"),
        /// 听证会: a hearing.
        Hearing = ("hearing", "听证会"),
    }
}

code_enum! {
    /// How a member signed in at a meeting.
    SignInWay {
        /// Confirmed at the door by a cadre.
        Door = "door",
        /// With the code shown in the hall, on their own phone.
        Code = "code",
    }
}

code_enum! {
    /// Who a villagers' meeting counts: its adult villagers, or one representative per household.
    VillagersBasis {
        /// 本村十八周岁以上村民.
        Adults = ("adults", "十八周岁以上村民"),
        /// 本村户代表.
        Households = ("households", "户代表"),
    }
}

/// Which rule decides whether a meeting is quorate and a resolution passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumRule {
    /// 村民代表会议: at least two thirds of the representatives present; a decision needs more
    /// than half of those present (组织法第二十六条、第二十七条).
    Representatives,
    /// 村民会议 of adult villagers: more than half present; a decision needs more than half of
    /// those present (组织法第二十二条).
    VillagersAdults,
    /// 村民会议 of household representatives: at least two thirds present; a decision needs more
    /// than half of those present (组织法第二十二条).
    VillagersHouseholds,
    /// 党员大会: more than half of the members present; a decision needs more than half of the
    /// members who should attend (应到会党员过半数).
    PartyMembers,
    /// 村两委会议: more than half of the members present; a decision needs more than half of all
    /// members (少数服从多数, 全体成员过半数).
    Committee,
    /// 听证会: no quorum; what it records is advice, counted against those present.
    Hearing,
}

impl QuorumRule {
    /// The rule a meeting follows.
    pub fn of(kind: MeetingKind, basis: Option<VillagersBasis>) -> Self {
        match kind {
            MeetingKind::Representatives => QuorumRule::Representatives,
            MeetingKind::Villagers => match basis {
                Some(VillagersBasis::Households) => QuorumRule::VillagersHouseholds,
                _ => QuorumRule::VillagersAdults,
            },
            MeetingKind::PartyMembers => QuorumRule::PartyMembers,
            MeetingKind::VillageCommittee => QuorumRule::Committee,
            MeetingKind::Hearing => QuorumRule::Hearing,
        }
    }

    /// The stable code, also the message-catalog key of the rule's wording.
    pub fn code(self) -> &'static str {
        match self {
            QuorumRule::Representatives => "representatives",
            QuorumRule::VillagersAdults => "villagers_adults",
            QuorumRule::VillagersHouseholds => "villagers_households",
            QuorumRule::PartyMembers => "party_members",
            QuorumRule::Committee => "committee",
            QuorumRule::Hearing => "hearing",
        }
    }

    /// Whether `present` of `members` make the meeting valid.
    pub fn quorate(self, members: u32, present: u32) -> bool {
        let (m, p) = (u64::from(members), u64::from(present));
        match self {
            QuorumRule::Representatives | QuorumRule::VillagersHouseholds => {
                m > 0 && p * 3 >= m * 2
            }
            QuorumRule::VillagersAdults | QuorumRule::PartyMembers | QuorumRule::Committee => {
                p * 2 > m
            }
            QuorumRule::Hearing => p > 0,
        }
    }

    /// Whether `votes_for` carry a resolution of a meeting of `members` with `present`.
    pub fn passes(self, members: u32, present: u32, votes_for: u32) -> bool {
        let f = u64::from(votes_for);
        match self {
            QuorumRule::PartyMembers | QuorumRule::Committee => f * 2 > u64::from(members),
            _ => f * 2 > u64::from(present),
        }
    }
}

/// Why a resolution was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    /// Not enough members present.
    #[error("the meeting is not quorate ({present} of {members} present)")]
    Inquorate {
        /// Members.
        members: u32,
        /// Present.
        present: u32,
    },
    /// More votes than members present.
    #[error("{votes} votes but only {present} present")]
    TooManyVotes {
        /// For + against + abstaining.
        votes: u32,
        /// Present.
        present: u32,
    },
    /// The text is empty or too long.
    #[error("the resolution's text is empty or too long")]
    Text,
}

impl MeetingError {
    /// The message-catalog key that explains the error to a person.
    pub fn message_key(&self) -> &'static str {
        match self {
            MeetingError::Inquorate { .. } => "meeting.error.inquorate",
            MeetingError::TooManyVotes { .. } => "meeting.error.too_many_votes",
            MeetingError::Text => "meeting.error.text",
        }
    }
}

/// A resolution's outcome as the rule decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// For.
    pub votes_for: u32,
    /// Against.
    pub against: u32,
    /// Abstaining.
    pub abstain: u32,
    /// Whether it passed.
    pub passed: bool,
}

/// Decides a resolution: refused if the meeting is inquorate or the votes exceed those present.
pub fn decide(
    rule: QuorumRule,
    members: u32,
    present: u32,
    (votes_for, against, abstain): (u32, u32, u32),
) -> Result<Tally, MeetingError> {
    if !rule.quorate(members, present) {
        return Err(MeetingError::Inquorate { members, present });
    }
    let votes = votes_for.saturating_add(against).saturating_add(abstain);
    if votes > present {
        return Err(MeetingError::TooManyVotes { votes, present });
    }
    Ok(Tally {
        votes_for,
        against,
        abstain,
        passed: rule.passes(members, present, votes_for),
    })
}

/// How long the sign-in code shown at a meeting works, in hours.
pub const SIGN_IN_CODE_HOURS: i64 = 3;

/// Wrong codes a member may type for one meeting while a code works.
pub const MAX_SIGN_IN_CODE_TRIES: i64 = 5;

/// Whether someone whose registry scope is `scope` organises meetings of `village_id` (`None`:
/// the subdistrict's own): the office for every meeting, a village officer for their village's.
pub fn organises_in(scope: &crate::Scope, village_id: Option<i64>) -> bool {
    match scope {
        crate::Scope::Subdistrict => true,
        crate::Scope::Village(v) => village_id == Some(*v),
        crate::Scope::Grids(_) | crate::Scope::Household(_) | crate::Scope::Nothing => false,
    }
}

/// Whether members may sign in to a meeting held at `held_at`: from twelve hours before to a
/// day after.
pub fn sign_in_open(
    held_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    use chrono::Duration;
    now >= held_at - Duration::hours(12) && now <= held_at + Duration::hours(24)
}

#[cfg(test)]
mod organising_tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::Scope;

    #[test]
    fn the_office_organises_every_meeting_and_an_officer_their_village_s() {
        assert!(organises_in(&Scope::Subdistrict, None));
        assert!(organises_in(&Scope::Subdistrict, Some(4)));
        assert!(organises_in(&Scope::Village(4), Some(4)));
        assert!(!organises_in(&Scope::Village(4), Some(5)));
        assert!(!organises_in(&Scope::Village(4), None));
        assert!(!organises_in(&Scope::Grids(vec![1]), Some(4)));
    }

    #[test]
    fn members_sign_in_from_half_a_day_before_to_a_day_after() {
        let held = Utc::now();
        assert!(!sign_in_open(held, held - Duration::hours(13)));
        assert!(sign_in_open(held, held - Duration::hours(12)));
        assert!(sign_in_open(held, held + Duration::hours(24)));
        assert!(!sign_in_open(held, held + Duration::hours(25)));
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn representatives_need_two_thirds_and_a_majority_of_those_present() {
        let r = QuorumRule::of(MeetingKind::Representatives, None);
        assert!(!r.quorate(30, 19));
        assert!(r.quorate(30, 20), "exactly two thirds is enough");
        assert!(!r.quorate(31, 20));
        assert!(r.quorate(31, 21));
        assert!(!r.quorate(0, 0));
        assert!(!r.passes(30, 20, 10), "half is not more than half");
        assert!(r.passes(30, 20, 11));
    }

    #[test]
    fn villagers_count_adults_by_half_or_households_by_two_thirds() {
        let adults = QuorumRule::of(MeetingKind::Villagers, Some(VillagersBasis::Adults));
        assert!(!adults.quorate(1000, 500));
        assert!(adults.quorate(1000, 501));
        let households = QuorumRule::of(MeetingKind::Villagers, Some(VillagersBasis::Households));
        assert!(!households.quorate(300, 199));
        assert!(households.quorate(300, 200));
        assert!(households.passes(300, 200, 101));
        assert!(!households.passes(300, 200, 100));
    }

    #[test]
    fn party_and_committee_decide_by_all_members() {
        let p = QuorumRule::of(MeetingKind::PartyMembers, None);
        assert!(!p.quorate(40, 20) && p.quorate(40, 21));
        assert!(
            !p.passes(40, 30, 20),
            "half of the members is not enough, however many are present"
        );
        assert!(p.passes(40, 21, 21));
        let c = QuorumRule::of(MeetingKind::VillageCommittee, None);
        assert!(c.quorate(7, 4) && !c.quorate(7, 3));
        assert!(c.passes(7, 5, 4) && !c.passes(7, 6, 3));
        let h = QuorumRule::of(MeetingKind::Hearing, None);
        assert!(h.quorate(0, 12) && !h.quorate(10, 0));
    }

    #[test]
    fn an_inquorate_meeting_decides_nothing_and_votes_fit_those_present() {
        let r = QuorumRule::Representatives;
        assert_eq!(
            decide(r, 30, 19, (19, 0, 0)),
            Err(MeetingError::Inquorate {
                members: 30,
                present: 19
            })
        );
        assert_eq!(
            decide(r, 30, 20, (15, 5, 1)),
            Err(MeetingError::TooManyVotes {
                votes: 21,
                present: 20
            })
        );
        assert_eq!(
            decide(r, 30, 20, (11, 6, 3)),
            Ok(Tally {
                votes_for: 11,
                against: 6,
                abstain: 3,
                passed: true
            })
        );
        assert!(!decide(r, 30, 20, (10, 6, 4)).unwrap().passed);
        assert_eq!(
            decide(r, 30, 20, (u32::MAX, 1, 0)),
            Err(MeetingError::TooManyVotes {
                votes: u32::MAX,
                present: 20
            })
        );
    }
}
