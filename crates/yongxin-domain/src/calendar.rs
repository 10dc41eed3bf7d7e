//! 工作日历: which days are working days, and deadlines counted in them.
//!
//! A year's calendar lists its public holidays and its make-up workdays (调休: a Saturday or Sunday
//! worked in exchange for a longer holiday), as the State Council publishes them each November.
//! Years not loaded fall back to Monday–Friday, and [`WorkingCalendar::covers`] says so, so the
//! interface can warn an administrator to load the next year in time.
//!
//! File format (TOML), one file per year:
//! ```toml
//! year = 2026
//! holidays = ["01-01..01-03", "02-15..02-23"]   # days off: "MM-DD" or an inclusive range
//! workdays = ["01-04", "02-14"]                 # Saturdays and Sundays that are worked
//! ```

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::Deserialize;

use crate::time::shanghai;

/// The official calendars shipped with yongxin.
pub const OFFICIAL_YEARS: [(i32, &str); 2] = [
    (2025, include_str!("../calendars/2025.toml")),
    (2026, include_str!("../calendars/2026.toml")),
];

/// Why a calendar file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not the TOML the format asks for.
    #[error("not a calendar file: {0}")]
    Format(String),
    /// The year is outside 2000–2100.
    #[error("year {0} is out of range")]
    Year(i32),
    /// An entry is not `MM-DD` or `MM-DD..MM-DD`, or names a date that does not exist.
    #[error("{list}: \"{entry}\" is not a real date or range in {year}")]
    Date {
        /// `holidays` or `workdays`.
        list: &'static str,
        /// The entry as written.
        entry: String,
        /// The file's year.
        year: i32,
    },
    /// A range whose end is before its start.
    #[error("{list}: \"{entry}\" ends before it starts")]
    Reversed {
        /// `holidays` or `workdays`.
        list: &'static str,
        /// The entry as written.
        entry: String,
    },
    /// A make-up workday that is not a Saturday or Sunday.
    #[error("workdays: {0} is not a Saturday or Sunday")]
    NotWeekend(NaiveDate),
    /// A day listed both as a holiday and as a workday.
    #[error("{0} is listed both as a holiday and as a workday")]
    Both(NaiveDate),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    year: i32,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
}

/// One year's holidays and make-up workdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    year: i32,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

fn expand(
    list: &'static str,
    year: i32,
    entries: &[String],
) -> Result<BTreeSet<NaiveDate>, CalendarError> {
    let date = |s: &str, entry: &str| {
        let bad = || CalendarError::Date {
            list,
            entry: entry.to_owned(),
            year,
        };
        let (m, d) = s.trim().split_once('-').ok_or_else(bad)?;
        let (m, d): (u32, u32) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
        NaiveDate::from_ymd_opt(year, m, d).ok_or_else(bad)
    };
    let mut days = BTreeSet::new();
    for entry in entries {
        let (start, end) = match entry.split_once("..") {
            Some((a, b)) => (date(a, entry)?, date(b, entry)?),
            None => {
                let d = date(entry, entry)?;
                (d, d)
            }
        };
        if end < start {
            return Err(CalendarError::Reversed {
                list,
                entry: entry.clone(),
            });
        }
        let mut d = start;
        while d <= end {
            days.insert(d);
            d += Duration::days(1);
        }
    }
    Ok(days)
}

impl YearCalendar {
    /// Reads a calendar file.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| CalendarError::Format(e.message().to_owned()))?;
        if !(2000..=2100).contains(&file.year) {
            return Err(CalendarError::Year(file.year));
        }
        let holidays = expand("holidays", file.year, &file.holidays)?;
        let workdays = expand("workdays", file.year, &file.workdays)?;
        if let Some(d) = workdays.iter().find(|d| !is_weekend(**d)) {
            return Err(CalendarError::NotWeekend(*d));
        }
        if let Some(d) = workdays.intersection(&holidays).next() {
            return Err(CalendarError::Both(*d));
        }
        Ok(Self {
            year: file.year,
            holidays,
            workdays,
        })
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Days off, in order.
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// Make-up workdays, in order.
    pub fn workdays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.workdays.iter().copied()
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Deadline state of a case against one deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Card {
    /// More than a working day left.
    None,
    /// 黄牌: the deadline falls today or on the next working day.
    Yellow,
    /// 红牌: the deadline has passed.
    Red,
}

code_enum! {
    /// A card that is announced to a case's handler (a `Card` other than none).
    CardColour {
        /// 黄牌
        Yellow = "yellow",
        /// 红牌
        Red = "red",
    }
}

impl Card {
    /// The card to announce, if any.
    pub fn colour(self) -> Option<CardColour> {
        match self {
            Card::None => None,
            Card::Yellow => Some(CardColour::Yellow),
            Card::Red => Some(CardColour::Red),
        }
    }
}

/// The calendar of every loaded year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    years: BTreeMap<i32, YearCalendar>,
}

impl WorkingCalendar {
    /// The calendar with the official years shipped with yongxin.
    pub fn official() -> Self {
        let mut c = Self::default();
        for (_, text) in OFFICIAL_YEARS {
            // Shipped files are checked by a test; a failure here is a build defect.
            c.load(YearCalendar::parse(text).expect("shipped calendar is valid"));
        }
        c
    }

    /// The official years with the years administrators stored over them (year, file); the
    /// files that do not read are returned with why, and left out.
    pub fn with_stored(stored: &[(i32, String)]) -> (Self, Vec<(i32, CalendarError)>) {
        let mut c = Self::official();
        let mut refused = Vec::new();
        for (year, source) in stored {
            match YearCalendar::parse(source) {
                Ok(y) => c.load(y),
                Err(e) => refused.push((*year, e)),
            }
        }
        (c, refused)
    }

    /// Adds or replaces a year.
    pub fn load(&mut self, year: YearCalendar) {
        self.years.insert(year.year, year);
    }

    /// The loaded years.
    pub fn years(&self) -> impl Iterator<Item = &YearCalendar> {
        self.years.values()
    }

    /// Whether the date's year has been loaded (otherwise only weekends are known).
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.years.contains_key(&d.year())
    }

    /// Whether a date is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.years.get(&d.year()) {
            Some(y) if y.workdays.contains(&d) => true,
            Some(y) if y.holidays.contains(&d) => false,
            _ => !is_weekend(d),
        }
    }

    /// The `n`th working day after `from` (`from` itself not counted; `n = 0` gives `from`).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 if `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// `hours` of working time after `from`: the clock runs on working days only, so 24 hours from
    /// the afternoon before a holiday end in the afternoon of the first working day after it. Time
    /// filed on a day off starts counting when the next working day begins.
    pub fn working_time_after(&self, from: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        let mut left = Duration::hours(i64::from(hours));
        let mut t = from;
        loop {
            let day = t.with_timezone(&shanghai()).date_naive();
            let next_day = start_of_day(day + Duration::days(1));
            if self.is_working_day(day) {
                let available = next_day - t;
                if left <= available {
                    return t + left;
                }
                left -= available;
            }
            t = next_day;
        }
    }

    /// 办结时限: the end (24:00 Shanghai time) of the `n`th working day after the day of
    /// submission; the day of submission is not counted, as 12345 hotlines count it.
    pub fn resolution_deadline(&self, submitted_at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let local_day = submitted_at.with_timezone(&shanghai()).date_naive();
        let last = self.add_working_days(local_day, n.max(1));
        end_of_day(last)
    }

    /// Yellow on the deadline's day or the working day before it, red once it has passed.
    pub fn card(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> Card {
        if now > deadline {
            return Card::Red;
        }
        let today = now.with_timezone(&shanghai()).date_naive();
        let due = deadline.with_timezone(&shanghai()).date_naive();
        if due <= self.add_working_days(today, 1) {
            Card::Yellow
        } else {
            Card::None
        }
    }
}

/// The first instant of a day in Shanghai.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    end_of_day(day - Duration::days(1)) + Duration::seconds(1)
}

/// The last instant of a Shanghai calendar day, in UTC.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let next = day + Duration::days(1);
    let midnight = next.and_time(NaiveTime::MIN);
    // Shanghai has a fixed offset, so local midnight is never ambiguous.
    let local = shanghai()
        .from_local_datetime(&midnight)
        .single()
        .expect("fixed offset");
    local.with_timezone(&Utc) - Duration::seconds(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn at(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
        shanghai()
            .with_ymd_and_hms(y, m, day, h, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn working_time_stops_on_days_off() {
        let c = WorkingCalendar::official();
        // Friday 15:00 + 24 h: nine hours on Friday, fifteen on Monday.
        assert_eq!(
            c.working_time_after(at(2026, 12, 4, 15), 24),
            at(2026, 12, 7, 15)
        );
        // Filed on Saturday: counting starts on Monday; one working day is the whole of it.
        assert_eq!(
            c.working_time_after(at(2026, 12, 5, 10), 24),
            start_of_day(d(2026, 12, 8))
        );
        // Within a working day it is the clock.
        assert_eq!(
            c.working_time_after(at(2026, 12, 7, 9), 2),
            at(2026, 12, 7, 11)
        );
        // The afternoon before the National Day holiday: due on the first working day after it.
        assert_eq!(
            c.working_time_after(at(2026, 9, 30, 10), 24),
            at(2026, 10, 8, 10)
        );
        assert_eq!(
            c.working_time_after(at(2026, 9, 30, 10), 0),
            at(2026, 9, 30, 10)
        );
    }

    #[test]
    fn shipped_years_parse_and_have_248_working_days_each() {
        let c = WorkingCalendar::official();
        for (year, _) in OFFICIAL_YEARS {
            let mut n = 0;
            let mut day = d(year, 1, 1);
            while day.year() == year {
                if c.is_working_day(day) {
                    n += 1;
                }
                day += Duration::days(1);
            }
            assert_eq!(n, 248, "{year}");
        }
    }

    #[test]
    fn holidays_weekends_and_make_up_days() {
        let c = WorkingCalendar::official();
        assert!(!c.is_working_day(d(2026, 10, 1)), "National Day");
        assert!(
            !c.is_working_day(d(2026, 10, 3)),
            "a Saturday inside the holiday"
        );
        assert!(c.is_working_day(d(2026, 10, 10)), "make-up Saturday");
        assert!(c.is_working_day(d(2026, 9, 20)), "make-up Sunday");
        assert!(!c.is_working_day(d(2026, 9, 19)), "an ordinary Saturday");
        assert!(c.is_working_day(d(2026, 9, 18)), "an ordinary Friday");
        assert!(
            !c.is_working_day(d(2025, 10, 8)),
            "2025's longer National Day"
        );
        assert!(
            c.is_working_day(d(2025, 1, 26)),
            "Spring Festival make-up Sunday"
        );
    }

    #[test]
    fn adding_working_days_across_holiday_boundaries() {
        let c = WorkingCalendar::official();
        let cases = [
            // from, n, expected
            (d(2026, 9, 30), 1, d(2026, 10, 8)), // over National Day (Oct 1–7)
            (d(2026, 9, 18), 1, d(2026, 9, 20)), // Friday → make-up Sunday
            (d(2026, 9, 24), 1, d(2026, 9, 28)), // Mid-Autumn Fri–Sun, then Monday
            (d(2026, 2, 13), 1, d(2026, 2, 14)), // Friday → make-up Saturday
            (d(2026, 2, 13), 2, d(2026, 2, 24)), // then over the Spring Festival
            (d(2026, 2, 24), 4, d(2026, 2, 28)), // Tue + 4 → make-up Saturday
            (d(2025, 12, 31), 1, d(2026, 1, 4)), // New Year, into the next year's make-up Sunday
            (d(2025, 1, 24), 1, d(2025, 1, 26)),
            (d(2025, 1, 24), 3, d(2025, 2, 5)), // Jan 27, then Spring Festival to Feb 4
            (d(2025, 9, 30), 5, d(2025, 10, 14)), // Oct 9, 10, 11 (Sat make-up), 13, 14
            (d(2026, 5, 1), 5, d(2026, 5, 11)), // inside Labour Day: 6, 7, 8, 9 (Sat), 11
            (d(2026, 6, 18), 1, d(2026, 6, 22)), // Dragon Boat Fri–Sun
            (d(2026, 3, 2), 0, d(2026, 3, 2)),
            (d(2026, 3, 6), 5, d(2026, 3, 13)), // an ordinary week
        ];
        for (from, n, want) in cases {
            assert_eq!(c.add_working_days(from, n), want, "{from} + {n}");
        }
    }

    #[test]
    fn every_day_of_the_shipped_years_round_trips() {
        let c = WorkingCalendar::official();
        let mut day = d(2025, 1, 1);
        while day.year() <= 2026 {
            for n in 0..12 {
                let due = c.add_working_days(day, n);
                assert_eq!(c.working_days_between(day, due), n, "{day} + {n}");
                if n > 0 {
                    assert!(c.is_working_day(due));
                    assert!(due > c.add_working_days(day, n - 1));
                }
            }
            day += Duration::days(1);
        }
    }

    #[test]
    fn unknown_years_count_weekdays_only() {
        let c = WorkingCalendar::official();
        assert!(!c.covers(d(2027, 1, 1)));
        assert!(c.covers(d(2026, 12, 31)));
        assert_eq!(
            c.add_working_days(d(2026, 12, 31), 1),
            d(2027, 1, 1),
            "2027 not loaded yet"
        );
        assert_eq!(c.add_working_days(d(2027, 1, 1), 1), d(2027, 1, 4));
    }

    #[test]
    fn resolution_deadlines_end_at_local_midnight() {
        let c = WorkingCalendar::official();
        // Submitted on the evening of 30 September 2026: 5 working days are Oct 8, 9, 10 (Sat
        // make-up), 12, 13; the deadline is the end of 13 October, Shanghai time.
        let due = c.resolution_deadline(at(2026, 9, 30, 20), 5);
        assert_eq!(due, at(2026, 10, 14, 0) - Duration::seconds(1));
        // 00:30 on 3 March in Shanghai is still 2 March in UTC; the local day counts.
        assert_eq!(
            c.resolution_deadline(at(2026, 3, 3, 0) + Duration::minutes(30), 1),
            end_of_day(d(2026, 3, 4))
        );
    }

    #[test]
    fn cards_turn_yellow_a_working_day_before_and_red_after() {
        let c = WorkingCalendar::official();
        let deadline = end_of_day(d(2026, 10, 8)); // Thursday after National Day
        assert_eq!(c.card(at(2026, 9, 28, 9), deadline), Card::None);
        // On 30 September the next working day is 8 October: yellow already.
        assert_eq!(c.card(at(2026, 9, 30, 9), deadline), Card::Yellow);
        assert_eq!(c.card(at(2026, 10, 8, 23), deadline), Card::Yellow);
        assert_eq!(c.card(at(2026, 10, 9, 0), deadline), Card::Red);
    }

    #[test]
    fn bad_calendar_files_are_refused_with_the_entry() {
        let cases = [
            ("year = 2027\nholidays = [\"02-30\"]", "02-30"),
            ("year = 2027\nholidays = [\"10-08..10-01\"]", "ends before"),
            (
                "year = 2027\nworkdays = [\"01-05\"]",
                "not a Saturday or Sunday",
            ),
            (
                "year = 2027\nholidays = [\"01-02\"]\nworkdays = [\"01-02\"]",
                "both",
            ),
            ("year = 2027\nholidays = [\"1st of May\"]", "1st of May"),
            ("holidays = []", "year"),
            ("year = 1900", "out of range"),
            ("year = 2027\nextra = 1", "extra"),
        ];
        for (text, expect) in cases {
            let err = YearCalendar::parse(text).expect_err(text).to_string();
            assert!(err.contains(expect), "{text}: {err}");
        }
        let ok = YearCalendar::parse(
            "year = 2027\nholidays = [\"01-01\", \"02-16..02-22\"]\nworkdays = [\"02-07\"]",
        )
        .expect("valid");
        assert_eq!(ok.holidays().count(), 8);
        let mut c = WorkingCalendar::official();
        c.load(ok);
        assert!(c.covers(d(2027, 2, 16)));
        assert!(c.is_working_day(d(2027, 2, 7)));
    }
}
