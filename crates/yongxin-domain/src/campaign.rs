//! Door-to-door campaigns (入户走访): cadres visiting every target household of a drive. Owns the
//! kinds of campaign and of visit outcome, the rules of a campaign (when a household counts as
//! reached, when a household never at home goes to its village officer), a household's progress
//! from its visits, who may correct a visit, the fingerprint that tells a replayed visit from a
//! different one under the same client id, the walking order and the burn-down.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::consultation::GivenAnswer;
use crate::time::shanghai;
use crate::Role;

code_enum! {
    /// What a campaign is for.
    CampaignKind {
        /// 政策宣讲: explaining a policy.
        Policy = ("policy", "政策宣讲"),
        /// 登记: registering households (for house selection, …).
        Registration = ("registration", "入户登记"),
        /// 排查: prevention and inspection (straw burning, white moth, epidemic checks).
        Inspection = ("inspection", "排查巡查"),
        /// 调查: a survey.
        Survey = ("survey", "走访调查"),
        /// 其他
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// What came of knocking on a door.
    VisitOutcome {
        /// 见到: someone of the household was met.
        Met = ("met", "见到本户"),
        /// 不在家: nobody at home.
        NotHome = ("not_home", "不在家"),
        /// 拒绝: the household would not talk.
        Refused = ("refused", "拒绝"),
        /// 已搬离: the household has moved away.
        Moved = ("moved", "已搬离"),
        /// 查无此户: no such household at the address.
        NoSuchHousehold = ("no_such_household", "查无此户"),
    }
}

code_enum! {
    /// How a campaign's households get their cadre.
    AssignmentWay {
        /// 按网格: each household to its grid's cadre.
        Grid = ("grid", "按网格"),
        /// 手工: by hand, a list at a time.
        Hand = ("hand", "手工分配"),
    }
}

/// The longest title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// The longest note on a visit.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// The longest reason for a correction.
pub const MAX_REASON_CHARS: usize = 500;
/// Most concerns raised in one visit.
pub const MAX_CONCERNS: usize = 5;
/// The longest campaign, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Most not-at-home attempts a campaign may ask for before escalating.
pub const MAX_ESCALATE_AFTER: u32 = 10;
/// How long the cadre who recorded a visit may correct it alone.
pub const OWN_CORRECTION_HOURS: i64 = 24;
/// How far ahead of the server's clock a phone's clock may run before a visit's time is refused.
pub const CLOCK_SKEW_MINUTES: i64 = 10;

/// Why a campaign, a visit or a correction was refused. Each names the field a person fixes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    /// A required field is empty.
    #[error("{field} is required")]
    Required {
        /// Which.
        field: &'static str,
    },
    /// A text is too long.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// Which.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// The period ends before it starts or is longer than a year.
    #[error("the period must end on or after its start and last at most {MAX_PERIOD_DAYS} days")]
    Period,
    /// The escalation count is out of range.
    #[error("escalation after 1 to {MAX_ESCALATE_AFTER} attempts")]
    EscalateAfter,
    /// A visit's time is outside the campaign's period or in the future.
    #[error("the visit's time is outside the campaign's period or in the future")]
    VisitedAt,
    /// Answers, members or concerns given for an outcome that has none.
    #[error("{field} can only be given when the household was met")]
    NotMet {
        /// Which.
        field: &'static str,
    },
    /// Too many concerns.
    #[error("at most {MAX_CONCERNS} concerns in one visit")]
    TooManyConcerns,
    /// A client id that is not 8 to 64 letters, digits and dashes.
    #[error("client_id must be 8 to 64 letters, digits or dashes")]
    ClientId,
    /// A target that selects nothing, or a list of keys of which some are unknown.
    #[error("the target selects no household")]
    EmptyTarget,
}

impl CampaignError {
    /// The message-catalog key that explains the error to a person.
    pub fn message_key(&self) -> &'static str {
        match self {
            CampaignError::Required { .. } => "campaign.error.required",
            CampaignError::TooLong { .. } => "campaign.error.too_long",
            CampaignError::Period => "campaign.error.period",
            CampaignError::EscalateAfter => "campaign.error.escalate_after",
            CampaignError::VisitedAt => "campaign.error.visited_at",
            CampaignError::NotMet { .. } => "campaign.error.not_met",
            CampaignError::TooManyConcerns => "campaign.error.too_many_concerns",
            CampaignError::ClientId => "campaign.error.client_id",
            CampaignError::EmptyTarget => "campaign.error.empty_target",
        }
    }

    /// The field of a form or request the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            CampaignError::Required { field }
            | CampaignError::TooLong { field, .. }
            | CampaignError::NotMet { field } => field,
            CampaignError::Period => "ends_on",
            CampaignError::EscalateAfter => "escalate_after",
            CampaignError::VisitedAt => "visited_at",
            CampaignError::TooManyConcerns => "concerns",
            CampaignError::ClientId => "client_id",
            CampaignError::EmptyTarget => "target",
        }
    }
}

/// Checks a text's length, and that it is there when required; answers it trimmed.
pub fn checked_text(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, CampaignError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(CampaignError::Required { field });
    }
    if text.chars().count() > max {
        return Err(CampaignError::TooLong { field, max });
    }
    Ok(text.to_owned())
}

/// A campaign's days, in Shanghai: both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub starts_on: NaiveDate,
    /// The last day.
    pub ends_on: NaiveDate,
}

impl Period {
    /// A period of at most [`MAX_PERIOD_DAYS`] days, ending on or after its start.
    pub fn new(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<Self, CampaignError> {
        let days = (ends_on - starts_on).num_days();
        if !(0..MAX_PERIOD_DAYS).contains(&days) {
            return Err(CampaignError::Period);
        }
        Ok(Self { starts_on, ends_on })
    }

    /// The first instant of the first day.
    pub fn start(self) -> DateTime<Utc> {
        local_midnight(self.starts_on)
    }

    /// The first instant after the last day.
    pub fn end(self) -> DateTime<Utc> {
        local_midnight(self.ends_on + Duration::days(1))
    }

    /// The days, first to last.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.starts_on
            .iter_days()
            .take_while(move |d| *d <= self.ends_on)
    }

    /// Whether a visit said to have happened at `at` is believable on `now`: within the period,
    /// and not later than the server's clock (a phone's clock may run a little ahead).
    pub fn admits_visit(self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), CampaignError> {
        if at < self.start() || at >= self.end() || at > now + Duration::minutes(CLOCK_SKEW_MINUTES)
        {
            return Err(CampaignError::VisitedAt);
        }
        Ok(())
    }
}

/// The day an instant falls on in Shanghai.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&shanghai()).date_naive()
}

fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        // Invariant: a fixed offset maps every local time to exactly one instant.
        .expect("a fixed offset has no gaps")
}

/// A campaign's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Not-at-home visits, on different days, after which the household goes to its village
    /// officer (default 3).
    pub escalate_after: u32,
    /// Whether a household that refused counts as reached (it was told, if not heard).
    pub reached_on_refused: bool,
    /// Whether any cadre may visit the households within their scope, not only those assigned.
    pub open_to_scope: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            escalate_after: 3,
            reached_on_refused: false,
            open_to_scope: false,
        }
    }
}

impl Rules {
    /// Checks the escalation count.
    pub fn checked(self) -> Result<Self, CampaignError> {
        if !(1..=MAX_ESCALATE_AFTER).contains(&self.escalate_after) {
            return Err(CampaignError::EscalateAfter);
        }
        Ok(self)
    }

    /// Whether a visit with this outcome reaches the household.
    pub fn reaches(self, outcome: VisitOutcome) -> bool {
        match outcome {
            VisitOutcome::Met => true,
            VisitOutcome::Refused => self.reached_on_refused,
            VisitOutcome::NotHome | VisitOutcome::Moved | VisitOutcome::NoSuchHousehold => false,
        }
    }
}

/// Which households a campaign visits (走访对象), before they are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every household of these villages.
    Villages(Vec<i64>),
    /// Every household of these grids.
    Grids(Vec<i64>),
    /// Households with a member carrying a registry flag (低保, 残疾, …), in these villages (or
    /// all when none are named).
    Flag {
        /// The flag.
        flag: crate::ResidentFlag,
        /// Villages, or none for the whole subdistrict.
        villages: Vec<i64>,
    },
    /// A resettlement project's households.
    Project(i64),
    /// Households named one by one (an uploaded list of keys, already looked up).
    Households(Vec<i64>),
}

impl Target {
    /// The stable code of the way households are chosen.
    pub fn code(&self) -> &'static str {
        match self {
            Target::Villages(_) => "villages",
            Target::Grids(_) => "grids",
            Target::Flag { .. } => "flag",
            Target::Project(_) => "project",
            Target::Households(_) => "households",
        }
    }

    /// Refuses a target that can select nothing.
    pub fn checked(self) -> Result<Self, CampaignError> {
        let empty = match &self {
            Target::Villages(v) | Target::Grids(v) | Target::Households(v) => v.is_empty(),
            Target::Flag { .. } | Target::Project(_) => false,
        };
        if empty {
            return Err(CampaignError::EmptyTarget);
        }
        Ok(self)
    }
}

/// A visit, as far as a household's progress is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitFact {
    /// What came of it.
    pub outcome: VisitOutcome,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
}

/// Where a household stands in a campaign, from its current visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Visits made.
    pub attempts: u32,
    /// Distinct days nobody was at home.
    pub not_home_days: u32,
    /// The latest visit's outcome.
    pub last_outcome: Option<VisitOutcome>,
    /// When the latest visit happened.
    pub last_visit_at: Option<DateTime<Utc>>,
    /// When the household was first reached.
    pub reached_at: Option<DateTime<Utc>>,
    /// Whether someone of the household was met.
    pub met: bool,
    /// Whether the household refused (and was never met).
    pub refused: bool,
    /// Nothing more to do: reached, or the latest visit found the household gone.
    pub settled: bool,
    /// When it was settled: when reached, else when found gone.
    pub settled_at: Option<DateTime<Utc>>,
    /// Not reached after the rules' count of not-at-home days: its village officer's now.
    pub escalated: bool,
}

impl Progress {
    /// The day the household was reached, in Shanghai.
    pub fn reached_on(&self) -> Option<NaiveDate> {
        self.reached_at.map(local_day)
    }

    /// The day the household was settled, in Shanghai.
    pub fn settled_on(&self) -> Option<NaiveDate> {
        self.settled_at.map(local_day)
    }
}

/// A household's progress from its visits (in any order).
pub fn progress(visits: &[VisitFact], rules: Rules) -> Progress {
    let mut ordered: Vec<VisitFact> = visits.to_vec();
    ordered.sort_by_key(|v| v.visited_at);
    let mut p = Progress::default();
    let mut away_days = BTreeSet::new();
    for v in &ordered {
        p.attempts += 1;
        p.last_outcome = Some(v.outcome);
        p.last_visit_at = Some(v.visited_at);
        match v.outcome {
            VisitOutcome::Met => p.met = true,
            VisitOutcome::Refused => p.refused = true,
            VisitOutcome::NotHome => {
                away_days.insert(local_day(v.visited_at));
            }
            VisitOutcome::Moved | VisitOutcome::NoSuchHousehold => {}
        }
        if p.reached_at.is_none() && rules.reaches(v.outcome) {
            p.reached_at = Some(v.visited_at);
        }
    }
    p.refused &= !p.met;
    p.not_home_days = u32::try_from(away_days.len()).unwrap_or(u32::MAX);
    let gone = matches!(
        p.last_outcome,
        Some(VisitOutcome::Moved | VisitOutcome::NoSuchHousehold)
    );
    p.settled_at = p.reached_at.or(if gone { p.last_visit_at } else { None });
    p.settled = p.settled_at.is_some();
    p.escalated = !p.settled && p.not_home_days >= rules.escalate_after;
    p
}

/// The cadre asking to correct a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrector {
    /// Their user id.
    pub user_id: i64,
    /// Their role.
    pub role: Role,
    /// Their village (village officers).
    pub village_id: Option<i64>,
}

/// The visit to be corrected, as far as the rule is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Who recorded it.
    pub cadre_user_id: i64,
    /// When it reached the server.
    pub received_at: DateTime<Utc>,
    /// The household's village.
    pub village_id: i64,
}

/// Why a correction was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionRefusal {
    /// Neither the cadre who recorded it (in time) nor the household's village officer.
    #[error("only the cadre who recorded a visit, within 24 hours, or the village officer may correct it")]
    NotAllowed,
    /// The village officer must say why.
    #[error("a correction by the village officer needs a reason")]
    ReasonRequired,
}

/// Whether a cadre may correct a recorded visit at `now` (更正): the cadre who recorded it within
/// [`OWN_CORRECTION_HOURS`] of recording it; later, or someone else's, only the household's
/// village officer, with a reason.
pub fn may_correct(
    by: Corrector,
    visit: Recorded,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), CorrectionRefusal> {
    let own_in_time = by.user_id == visit.cadre_user_id
        && now - visit.received_at <= Duration::hours(OWN_CORRECTION_HOURS);
    if own_in_time {
        return Ok(());
    }
    if by.role == Role::VillageOfficer && by.village_id == Some(visit.village_id) {
        return if reason.trim().is_empty() {
            Err(CorrectionRefusal::ReasonRequired)
        } else {
            Ok(())
        };
    }
    Err(CorrectionRefusal::NotAllowed)
}

/// Checks a client-generated visit id: 8 to 64 ASCII letters, digits and dashes (a UUID is one).
pub fn checked_client_id(id: &str) -> Result<&str, CampaignError> {
    let ok =
        (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(CampaignError::ClientId)
    }
}

/// What a visit says, as the fingerprint sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitContent<'a> {
    /// The household.
    pub household_id: i64,
    /// When it happened.
    pub visited_at: DateTime<Utc>,
    /// What came of it.
    pub outcome: VisitOutcome,
    /// Residents met.
    pub members: &'a [i64],
    /// Answers to the form, by question id.
    pub answers: &'a BTreeMap<i64, GivenAnswer>,
    /// The note.
    pub note: &'a str,
    /// Concerns raised: category code and description.
    pub concerns: &'a [(String, String)],
    /// SHA-256 of each photo, in order.
    pub photos: &'a [String],
}

/// A digest of a visit's content: the same for a replay of the same visit, different for
/// anything else sent under its client id. Times count to the microsecond (what both databases
/// keep), member order does not count, texts count trimmed.
pub fn visit_fingerprint(c: &VisitContent<'_>) -> String {
    let mut members: Vec<i64> = c.members.to_vec();
    members.sort_unstable();
    members.dedup();
    let at = c
        .visited_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let concerns: Vec<(&str, &str)> = c
        .concerns
        .iter()
        .map(|(k, d)| (k.trim(), d.trim()))
        .collect();
    let canonical = serde_json::json!({
        "household_id": c.household_id,
        "visited_at": at,
        "outcome": c.outcome.code(),
        "members": members,
        "answers": c.answers,
        "note": c.note.trim(),
        "concerns": concerns,
        "photos": c.photos,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Orders addresses as a person walks them: numbers inside compared as numbers, so 3组2号 comes
/// before 3组12号.
pub fn walking_order(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            // Equal as walked (3组2号, 3组02号): any order, but always the same one.
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let m = take_number(&mut x);
                let n = take_number(&mut y);
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                match m.len().cmp(&n.len()).then_with(|| m.cmp(n)) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            (Some(p), Some(q)) => {
                match p.cmp(&q) {
                    Ordering::Equal => {}
                    other => return other,
                }
                x.next();
                y.next();
            }
        }
    }
}

fn take_number(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut s = String::new();
    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
        s.push(c);
        it.next();
    }
    s
}

/// One day of a burn-down (燃尽图): households still to settle at the end of the day, and the
/// even pace from the whole target on the eve of the first day to none at the end of the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurnDay {
    /// The day.
    pub day: NaiveDate,
    /// Households left at its end; `None` for days still to come.
    pub left: Option<i64>,
    /// Households the even pace would leave at its end (rounded up).
    pub pace: i64,
}

/// The burn-down of a campaign of `target` households over `period`, from the households settled
/// on each day, up to `today` (days after it have no count).
pub fn burn_down(
    target: i64,
    period: Period,
    settled_per_day: &BTreeMap<NaiveDate, i64>,
    today: NaiveDate,
) -> Vec<BurnDay> {
    let days = (period.ends_on - period.starts_on).num_days() + 1;
    let mut left = target
        - settled_per_day
            .range(..period.starts_on)
            .map(|(_, n)| n)
            .sum::<i64>();
    period
        .days()
        .enumerate()
        .map(|(i, day)| {
            left -= settled_per_day.get(&day).copied().unwrap_or(0);
            let done = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            // Rounded up: the pace is met only when no more than this is left.
            let pace = (target * (days - done) + days - 1) / days;
            BurnDay {
                day,
                left: (day <= today).then_some(left.max(0)),
                pace,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        // Shanghai hour on a day of March 2027.
        shanghai()
            .with_ymd_and_hms(2027, 3, day, hour, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc)
    }

    fn visit(outcome: VisitOutcome, day: u32, hour: u32) -> VisitFact {
        VisitFact {
            outcome,
            visited_at: at(day, hour),
        }
    }

    #[test]
    fn codes_round_trip_and_read_chinese() {
        for k in CampaignKind::ALL {
            assert_eq!(CampaignKind::parse(k.code()), Some(*k));
            assert_eq!(CampaignKind::parse(k.zh()), Some(*k));
        }
        for o in VisitOutcome::ALL {
            assert_eq!(VisitOutcome::parse(o.code()), Some(*o));
        }
        assert_eq!(VisitOutcome::parse("gone"), None);
    }

    #[test]
    fn met_reaches_and_refused_only_when_the_rules_say_so() {
        let strict = Rules::default();
        let lenient = Rules {
            reached_on_refused: true,
            ..strict
        };
        assert!(strict.reaches(VisitOutcome::Met));
        assert!(!strict.reaches(VisitOutcome::Refused));
        assert!(lenient.reaches(VisitOutcome::Refused));
        for o in [
            VisitOutcome::NotHome,
            VisitOutcome::Moved,
            VisitOutcome::NoSuchHousehold,
        ] {
            assert!(!lenient.reaches(o), "{o:?}");
        }
    }

    #[test]
    fn not_home_escalates_only_on_different_days() {
        let rules = Rules::default();
        // Three knocks on one day are one day away.
        let same_day = [
            visit(VisitOutcome::NotHome, 2, 9),
            visit(VisitOutcome::NotHome, 2, 14),
            visit(VisitOutcome::NotHome, 2, 19),
        ];
        let p = progress(&same_day, rules);
        assert_eq!((p.attempts, p.not_home_days), (3, 1));
        assert!(!p.escalated && !p.settled);
        // Three days away: escalated.
        let three_days = [
            visit(VisitOutcome::NotHome, 2, 9),
            visit(VisitOutcome::NotHome, 3, 9),
            visit(VisitOutcome::NotHome, 5, 20),
        ];
        let p = progress(&three_days, rules);
        assert_eq!(p.not_home_days, 3);
        assert!(p.escalated);
        // Two are not enough by default, but are when the campaign says 2.
        assert!(!progress(&three_days[..2], rules).escalated);
        assert!(
            progress(
                &three_days[..2],
                Rules {
                    escalate_after: 2,
                    ..rules
                }
            )
            .escalated
        );
    }

    #[test]
    fn a_household_found_after_escalation_is_reached_that_day() {
        let visits = [
            visit(VisitOutcome::NotHome, 2, 9),
            visit(VisitOutcome::NotHome, 3, 9),
            visit(VisitOutcome::Met, 6, 21),
            visit(VisitOutcome::NotHome, 4, 9),
        ];
        let p = progress(&visits, Rules::default());
        assert!(p.met && p.settled && !p.escalated && !p.refused);
        assert_eq!(p.reached_at, Some(at(6, 21)));
        assert_eq!(p.last_outcome, Some(VisitOutcome::Met));
        assert_eq!(p.attempts, 4);
    }

    #[test]
    fn the_day_reached_is_the_day_in_shanghai() {
        // 23:30 in Shanghai on the 2nd is 15:30 UTC on the 2nd; 00:30 on the 3rd is 16:30 UTC on
        // the 2nd, but a Shanghai day later.
        let late = progress(&[visit(VisitOutcome::Met, 2, 23)], Rules::default());
        assert_eq!(late.reached_on(), NaiveDate::from_ymd_opt(2027, 3, 2));
        let early = progress(&[visit(VisitOutcome::Met, 3, 0)], Rules::default());
        assert_eq!(early.reached_on(), NaiveDate::from_ymd_opt(2027, 3, 3));
    }

    #[test]
    fn refusal_settles_only_under_the_lenient_rule_and_met_outranks_it() {
        let refused = [visit(VisitOutcome::Refused, 2, 10)];
        let strict = progress(&refused, Rules::default());
        assert!(strict.refused && !strict.settled && strict.reached_at.is_none());
        let lenient = progress(
            &refused,
            Rules {
                reached_on_refused: true,
                ..Rules::default()
            },
        );
        assert!(lenient.settled && lenient.reached_at.is_some());
        let later_met = progress(
            &[refused[0], visit(VisitOutcome::Met, 4, 10)],
            Rules::default(),
        );
        assert!(later_met.met && !later_met.refused);
    }

    #[test]
    fn a_household_gone_is_settled_but_not_reached() {
        for o in [VisitOutcome::Moved, VisitOutcome::NoSuchHousehold] {
            let p = progress(&[visit(o, 2, 10)], Rules::default());
            assert!(p.settled && p.reached_at.is_none() && !p.met, "{o:?}");
            assert_eq!(p.settled_at, Some(at(2, 10)));
        }
        // Found again later: what the latest visit says counts.
        let back = progress(
            &[
                visit(VisitOutcome::Moved, 2, 10),
                visit(VisitOutcome::NotHome, 3, 10),
            ],
            Rules::default(),
        );
        assert!(!back.settled);
        assert_eq!(progress(&[], Rules::default()), Progress::default());
    }

    #[test]
    fn periods_hold_their_days_in_shanghai() {
        let d = |n| NaiveDate::from_ymd_opt(2027, 3, n).expect("day");
        let p = Period::new(d(2), d(4)).expect("period");
        assert_eq!(p.days().count(), 3);
        let now = at(10, 0);
        assert_eq!(p.admits_visit(at(2, 0), now), Ok(()));
        assert_eq!(p.admits_visit(at(4, 23), now), Ok(()));
        assert_eq!(
            p.admits_visit(at(1, 23), now),
            Err(CampaignError::VisitedAt)
        );
        assert_eq!(p.admits_visit(at(5, 0), now), Err(CampaignError::VisitedAt));
        // Not later than the server's clock, a few minutes' skew allowed.
        assert_eq!(
            p.admits_visit(at(3, 10), at(3, 10) - Duration::minutes(5)),
            Ok(())
        );
        assert_eq!(
            p.admits_visit(at(3, 10), at(3, 9)),
            Err(CampaignError::VisitedAt)
        );
        assert_eq!(Period::new(d(4), d(2)), Err(CampaignError::Period));
        assert!(Period::new(d(1), d(1) + Duration::days(MAX_PERIOD_DAYS)).is_err());
        assert!(Period::new(d(1), d(1) + Duration::days(MAX_PERIOD_DAYS - 1)).is_ok());
    }

    #[test]
    fn corrections_by_the_recorder_in_time_or_the_village_officer_with_a_reason() {
        let recorded = Recorded {
            cadre_user_id: 7,
            received_at: at(2, 10),
            village_id: 3,
        };
        let grid = Corrector {
            user_id: 7,
            role: Role::GridWorker,
            village_id: None,
        };
        let other = Corrector { user_id: 8, ..grid };
        let officer = Corrector {
            user_id: 9,
            role: Role::VillageOfficer,
            village_id: Some(3),
        };
        let elsewhere = Corrector {
            village_id: Some(4),
            ..officer
        };
        assert_eq!(may_correct(grid, recorded, at(3, 10), ""), Ok(()));
        assert_eq!(
            may_correct(grid, recorded, at(3, 11), "late"),
            Err(CorrectionRefusal::NotAllowed)
        );
        assert_eq!(
            may_correct(other, recorded, at(2, 11), "mine now"),
            Err(CorrectionRefusal::NotAllowed)
        );
        assert_eq!(
            may_correct(officer, recorded, at(9, 10), " "),
            Err(CorrectionRefusal::ReasonRequired)
        );
        assert_eq!(may_correct(officer, recorded, at(9, 10), "核实"), Ok(()));
        assert_eq!(
            may_correct(elsewhere, recorded, at(9, 10), "核实"),
            Err(CorrectionRefusal::NotAllowed)
        );
    }

    #[test]
    fn client_ids_are_short_plain_tokens() {
        assert!(checked_client_id("6f1c2b1e-8d1a-4a5e-9a57-0b7b0c1d2e3f").is_ok());
        assert!(checked_client_id("abcdefgh").is_ok());
        for bad in [
            "short",
            "has space in it",
            "引号引号引号引号",
            &"a".repeat(65),
        ] {
            assert_eq!(
                checked_client_id(bad),
                Err(CampaignError::ClientId),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_replay_has_the_same_fingerprint_and_any_change_another() {
        let answers = BTreeMap::from([(1, GivenAnswer::Option(4))]);
        let concerns = vec![("road".to_owned(), "路灯坏了".to_owned())];
        let base = VisitContent {
            household_id: 5,
            visited_at: at(2, 10),
            outcome: VisitOutcome::Met,
            members: &[3, 1],
            answers: &answers,
            note: "好",
            concerns: &concerns,
            photos: &[],
        };
        let f = visit_fingerprint(&base);
        assert_eq!(f.len(), 64);
        // The same visit, members in another order, note padded: the same.
        let replay = VisitContent {
            members: &[1, 3, 3],
            note: " 好 ",
            ..base.clone()
        };
        assert_eq!(visit_fingerprint(&replay), f);
        let other_answers = BTreeMap::from([(1, GivenAnswer::Option(5))]);
        let changes = [
            VisitContent {
                household_id: 6,
                ..base.clone()
            },
            VisitContent {
                visited_at: at(2, 10) + Duration::microseconds(1),
                ..base.clone()
            },
            VisitContent {
                outcome: VisitOutcome::Refused,
                ..base.clone()
            },
            VisitContent {
                members: &[1],
                ..base.clone()
            },
            VisitContent {
                answers: &other_answers,
                ..base.clone()
            },
            VisitContent {
                note: "不好",
                ..base.clone()
            },
            VisitContent {
                concerns: &[],
                ..base.clone()
            },
            VisitContent {
                photos: &["ab".to_owned()],
                ..base.clone()
            },
        ];
        for c in &changes {
            assert_ne!(visit_fingerprint(c), f, "{c:?}");
        }
    }

    #[test]
    fn addresses_walk_in_number_order() {
        let mut a = vec![
            "3组12号",
            "3组2号",
            "10组1号",
            "3组02号",
            "2组9号",
            "东街1号",
            "3组2号之一",
        ];
        a.sort_by(|x, y| walking_order(x, y));
        assert_eq!(
            a,
            vec![
                "2组9号",
                "3组02号",
                "3组2号",
                "3组2号之一",
                "3组12号",
                "10组1号",
                "东街1号"
            ]
        );
        assert_eq!(walking_order("a", "a"), Ordering::Equal);
    }

    #[test]
    fn the_burn_down_counts_what_is_left_and_the_even_pace() {
        let d = |n| NaiveDate::from_ymd_opt(2027, 3, n).expect("day");
        let period = Period::new(d(1), d(4)).expect("period");
        let settled = BTreeMap::from([(d(1), 30), (d(2), 10), (d(3), 45)]);
        let days = burn_down(100, period, &settled, d(3));
        let left: Vec<Option<i64>> = days.iter().map(|b| b.left).collect();
        assert_eq!(left, vec![Some(70), Some(60), Some(15), None]);
        let pace: Vec<i64> = days.iter().map(|b| b.pace).collect();
        assert_eq!(pace, vec![75, 50, 25, 0]);
        // Households settled before the first day (a late start) are already gone; never below 0.
        let early = BTreeMap::from([(d(1) - Duration::days(1), 5), (d(1), 200)]);
        let days = burn_down(100, period, &early, d(4));
        assert_eq!(days[0].left, Some(0));
        // An uneven pace rounds up.
        let three = burn_down(
            10,
            Period::new(d(1), d(3)).expect("p"),
            &BTreeMap::new(),
            d(1),
        );
        assert_eq!(
            three.iter().map(|b| b.pace).collect::<Vec<_>>(),
            vec![7, 4, 0]
        );
    }

    #[test]
    fn errors_name_their_field() {
        assert_eq!(
            checked_text("title", "  ", 10, true),
            Err(CampaignError::Required { field: "title" })
        );
        assert_eq!(checked_text("note", "", 10, false), Ok(String::new()));
        assert_eq!(
            checked_text("note", "一二三", 2, false),
            Err(CampaignError::TooLong {
                field: "note",
                max: 2
            })
        );
        assert_eq!(CampaignError::Period.field(), "ends_on");
        assert_eq!(
            CampaignError::NotMet { field: "answers" }.field(),
            "answers"
        );
        assert!(Rules {
            escalate_after: 0,
            ..Rules::default()
        }
        .checked()
        .is_err());
        assert!(Rules {
            escalate_after: 11,
            ..Rules::default()
        }
        .checked()
        .is_err());
        assert!(Rules::default().checked().is_ok());
        assert_eq!(
            Target::Villages(vec![]).checked(),
            Err(CampaignError::EmptyTarget)
        );
        assert!(Target::Project(1).checked().is_ok());
    }
}
