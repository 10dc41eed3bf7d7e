//! 考核: a scorecard per cadre, department, village or grid for a period — what the office owes
//! residents, counted so that each figure is a number of cases (or visits, or households) anyone
//! can list and recount. The rates' parts are the three rates' own definitions
//! ([`crate::appeal::RateCounts`]); what is added here is reopening, overdue cases, working days
//! to answer, supervision and the door-to-door work.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::appeal::RateCounts;
use crate::calendar::WorkingCalendar;
use crate::time::shanghai;

code_enum! {
    /// What a scorecard is grouped by.
    ScoreGroup {
        /// 承办人: the cadre handling the case (the visitor, for visits).
        Cadre = "cadre",
        /// 承办部门
        Department = "department",
        /// 村（社区）
        Village = "village",
        /// 网格
        Grid = "grid",
    }
}

code_enum! {
    /// A figure of a scorecard that is a number of cases: the appeals list shows the cases behind
    /// it (`figure=` with the period and the group), so the number can be recounted by hand.
    ScoreFigure {
        /// 受理件数: filed in the period.
        Received = "received",
        /// 应联系: of those, contact due by now or made.
        ContactDue = "contact_due",
        /// 按时联系: contacted no later than the contact deadline.
        ContactedOnTime = "contacted_on_time",
        /// 应办结: answer due by now or given.
        ResolutionDue = "resolution_due",
        /// 按时办结: answered no later than the resolution deadline.
        AnsweredOnTime = "answered_on_time",
        /// 已答复: answered at least once.
        Answered = "answered",
        /// 已评价
        Rated = "rated",
        /// 满意: satisfied or basically satisfied.
        Satisfied = "satisfied",
        /// 重办: reopened at least once by a dissatisfied rating.
        Reopened = "reopened",
        /// 当前超期: open now, a deadline it still waits on passed (whenever filed).
        Overdue = "overdue",
        /// 被督办: a supervision notice issued on it in the period (whenever filed).
        Supervised = "supervised",
        /// 督办逾期答复: of those, a notice answered after its due time or not answered by it.
        SupervisedLate = "supervised_late",
    }
}

impl ScoreFigure {
    /// Whether the period selects cases by their filing (else by the notice, or not at all).
    pub fn by_filing(self) -> bool {
        !matches!(
            self,
            ScoreFigure::Overdue | ScoreFigure::Supervised | ScoreFigure::SupervisedLate
        )
    }
}

/// The figures of one group over a period, as counted by the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScoreCounts {
    /// The three rates' counts of the cases filed in the period.
    pub rates: RateCounts,
    /// Of those, reopened at least once.
    pub reopened: i64,
    /// Open now and past a deadline they wait on (any filing date).
    pub overdue: i64,
    /// Cases given a supervision notice in the period.
    pub supervised: i64,
    /// Of those, with a notice answered late or still unanswered past its due time.
    pub supervised_late: i64,
    /// Visits recorded in the period (current ones).
    pub visits: i64,
    /// Campaign households reached in the period.
    pub households_reached: i64,
    /// Households a cadre confirmed as informed of a notice in the period (in person).
    pub informed_in_person: i64,
    /// Working days from filing to the (current) answer, summed over the answered cases filed in
    /// the period; divided by `answered_spans` for the average.
    pub answer_working_days: i64,
    /// The answered cases summed in `answer_working_days`.
    pub answered_spans: i64,
}

impl ScoreCounts {
    /// The figure's count.
    pub fn figure(&self, f: ScoreFigure) -> i64 {
        let r = &self.rates;
        match f {
            ScoreFigure::Received => r.total,
            ScoreFigure::ContactDue => r.contact_due,
            ScoreFigure::ContactedOnTime => r.contacted_on_time,
            ScoreFigure::ResolutionDue => r.resolution_due,
            ScoreFigure::AnsweredOnTime => r.answered_on_time,
            ScoreFigure::Answered => r.answered,
            ScoreFigure::Rated => r.rated,
            ScoreFigure::Satisfied => r.satisfied,
            ScoreFigure::Reopened => self.reopened,
            ScoreFigure::Overdue => self.overdue,
            ScoreFigure::Supervised => self.supervised,
            ScoreFigure::SupervisedLate => self.supervised_late,
        }
    }

    /// 重办率: reopened among the cases filed.
    pub fn reopened_share(&self) -> Option<f64> {
        (self.rates.total > 0).then(|| self.reopened as f64 / self.rates.total as f64)
    }

    /// 平均办结用时: working days from filing to answer, on average (one decimal is enough).
    pub fn average_working_days(&self) -> Option<f64> {
        (self.answered_spans > 0)
            .then(|| self.answer_working_days as f64 / self.answered_spans as f64)
    }

    /// The counts of two groups together.
    pub fn plus(self, o: Self) -> Self {
        Self {
            rates: self.rates.plus(o.rates),
            reopened: self.reopened + o.reopened,
            overdue: self.overdue + o.overdue,
            supervised: self.supervised + o.supervised,
            supervised_late: self.supervised_late + o.supervised_late,
            visits: self.visits + o.visits,
            households_reached: self.households_reached + o.households_reached,
            informed_in_person: self.informed_in_person + o.informed_in_person,
            answer_working_days: self.answer_working_days + o.answer_working_days,
            answered_spans: self.answered_spans + o.answered_spans,
        }
    }
}

/// Working days from a case's filing to its answer: the working days after the filing day up to
/// and including the answer's day, in Shanghai (answered the day it was filed: 0).
pub fn working_days_to_answer(
    calendar: &WorkingCalendar,
    filed: DateTime<Utc>,
    answered: DateTime<Utc>,
) -> i64 {
    let day = |t: DateTime<Utc>| t.with_timezone(&shanghai()).date_naive();
    i64::from(calendar.working_days_between(day(filed), day(answered)))
}

/// The Monday of the week holding `day`.
pub fn monday_of(day: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The Monday of an ISO week written `2026-W49` (as [`crate::audit::iso_week`] writes it).
pub fn parse_iso_week(s: &str) -> Option<chrono::NaiveDate> {
    let (year, week) = s.trim().split_once("-W")?;
    let (year, week) = (year.parse::<i32>().ok()?, week.parse::<u32>().ok()?);
    chrono::NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn working_days_skip_the_weekend_and_holidays() {
        let calendar = WorkingCalendar::official();
        // Friday 2025-09-26 10:00 in Shanghai.
        let filed = Utc.with_ymd_and_hms(2025, 9, 26, 2, 0, 0).unwrap();
        let days =
            |d: i64| working_days_to_answer(&calendar, filed, filed + chrono::Duration::days(d));
        assert_eq!(days(0), 0, "the same day");
        assert_eq!(days(1), 0, "Saturday");
        assert_eq!(days(2), 1, "Sunday 09-28 is a make-up working day");
        assert_eq!(days(3), 2, "Monday");
        // 2025-10-01..08 is the National Day holiday: Thursday 10-09 is the next working day
        // after Tuesday 09-30 (and Saturday 10-11 a make-up working day).
        assert_eq!(
            days(13),
            4,
            "Thursday 10-09: Sun 09-28, Mon, Tue, then none until Thu"
        );
    }

    #[test]
    fn iso_weeks_are_read_back_as_their_monday() {
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a day");
        assert_eq!(parse_iso_week("2026-W49"), Some(monday));
        assert_eq!(crate::audit::iso_week(monday), "2026-W49");
        assert_eq!(monday_of(monday + chrono::Duration::days(6)), monday);
        // 2026 has 53 ISO weeks (it begins on a Thursday); 2025 does not.
        assert!(parse_iso_week("2026-W53").is_some());
        assert_eq!(parse_iso_week("2025-W53"), None);
        for bad in ["", "2026", "2026-49", "2026-W0", "2026-Wx", "W49"] {
            assert_eq!(parse_iso_week(bad), None, "{bad}");
        }
    }

    #[test]
    fn figures_and_shares_come_from_the_counts() {
        let c = ScoreCounts {
            rates: RateCounts {
                total: 10,
                answered: 8,
                rated: 4,
                satisfied: 3,
                ..RateCounts::default()
            },
            reopened: 2,
            answer_working_days: 12,
            answered_spans: 8,
            ..ScoreCounts::default()
        };
        assert_eq!(c.figure(ScoreFigure::Received), 10);
        assert_eq!(c.figure(ScoreFigure::Satisfied), 3);
        assert_eq!(c.reopened_share(), Some(0.2));
        assert_eq!(c.average_working_days(), Some(1.5));
        assert_eq!(ScoreCounts::default().average_working_days(), None);
        assert_eq!(ScoreCounts::default().reopened_share(), None);
        assert_eq!(c.plus(c).figure(ScoreFigure::Reopened), 4);
        assert!(ScoreFigure::Received.by_filing() && !ScoreFigure::Overdue.by_filing());
        assert_eq!(
            ScoreFigure::parse("supervised_late"),
            Some(ScoreFigure::SupervisedLate)
        );
        assert_eq!(ScoreGroup::parse("grid"), Some(ScoreGroup::Grid));
    }
}
