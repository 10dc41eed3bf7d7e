//! 热点: what is rising this week against the four before it, and appeals that repeat.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

/// One case as hot-issue detection needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMark {
    /// Case id.
    pub id: i64,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// Category code.
    pub category: String,
    /// Village, if known.
    pub village: Option<String>,
    /// Household, if known.
    pub household_id: Option<i64>,
    /// Address as written.
    pub address: String,
    /// Whether it is still open (only open cases can be merged).
    pub open: bool,
}

/// A key whose count this week stands out.
#[derive(Debug, Clone, PartialEq)]
pub struct Rising {
    /// The category code or village name.
    pub key: String,
    /// Cases in the last 7 days.
    pub this_week: i64,
    /// Average per week over the 4 weeks before.
    pub weekly_average: f64,
}

/// Counts per key in the last 7 days and the 28 before, and keeps those at least 3 this week and
/// at least 1.5 times their earlier weekly average (a key new this week counts as rising).
pub fn rising(
    cases: &[CaseMark],
    now: DateTime<Utc>,
    key: impl Fn(&CaseMark) -> Option<String>,
) -> Vec<Rising> {
    let week = Duration::days(7);
    let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in cases {
        let Some(k) = key(c) else { continue };
        let age = now - c.created_at;
        if age < Duration::zero() || age >= week * 5 {
            continue;
        }
        let entry = counts.entry(k).or_default();
        if age < week {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let mut out: Vec<Rising> = counts
        .into_iter()
        .map(|(key, (this_week, before))| Rising {
            key,
            this_week,
            weekly_average: before as f64 / 4.0,
        })
        .filter(|r| r.this_week >= 3 && r.this_week as f64 >= 1.5 * r.weekly_average)
        .collect();
    out.sort_by(|a, b| {
        let ra = a.this_week as f64 / a.weekly_average.max(0.25);
        let rb = b.this_week as f64 / b.weekly_average.max(0.25);
        rb.total_cmp(&ra).then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// Why cases were grouped as repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RepeatKind {
    /// The same household filed them.
    Household,
    /// The same category at the same address.
    Place,
}

/// Cases that look like one matter raised again, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatGroup {
    /// Why they were grouped.
    pub kind: RepeatKind,
    /// The household id or `category@address`.
    pub key: String,
    /// Case ids, oldest first.
    pub ids: Vec<i64>,
}

/// When a case was filed, and its id.
type Filed = (DateTime<Utc>, i64);

/// Open cases of the last 30 days from one household in one category, or in one category at one
/// address, more than one of them: candidates for 并单.
pub fn repeats(cases: &[CaseMark], now: DateTime<Utc>) -> Vec<RepeatGroup> {
    let since = now - Duration::days(30);
    let mut groups: BTreeMap<(RepeatKind, String), Vec<Filed>> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.open && c.created_at >= since) {
        if let Some(h) = c.household_id {
            groups
                .entry((RepeatKind::Household, format!("{h}:{}", c.category)))
                .or_default()
                .push((c.created_at, c.id));
        }
        let address = c.address.trim();
        if !address.is_empty() {
            groups
                .entry((RepeatKind::Place, format!("{}@{address}", c.category)))
                .or_default()
                .push((c.created_at, c.id));
        }
    }
    groups
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|((kind, key), mut v)| {
            v.sort();
            RepeatGroup {
                kind,
                key,
                ids: v.into_iter().map(|(_, id)| id).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn mark(
        id: i64,
        days_ago: i64,
        category: &str,
        village: &str,
        household: Option<i64>,
        address: &str,
    ) -> CaseMark {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
            .single()
            .expect("t");
        CaseMark {
            id,
            created_at: now - Duration::days(days_ago) - Duration::hours(1),
            category: category.into(),
            village: Some(village.into()),
            household_id: household,
            address: address.into(),
            open: true,
        }
    }

    #[test]
    fn a_category_rising_this_week_is_found_and_a_steady_one_is_not() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
            .single()
            .expect("t");
        let mut cases = Vec::new();
        let mut id = 0;
        let mut add = |n: usize, days_ago: i64, category: &str| {
            for _ in 0..n {
                id += 1;
                cases.push(mark(id, days_ago, category, "东坞村", None, ""));
            }
        };
        add(9, 2, "heating"); // 9 this week
        add(4, 10, "heating"); // 4 over the four weeks before: 1 a week
        add(5, 3, "noise"); // 5 this week
        add(20, 12, "noise"); // 5 a week before: steady
        add(3, 1, "gas"); // new this week
        add(2, 1, "water"); // too few
        let r = rising(&cases, now, |c| Some(c.category.clone()));
        let keys: Vec<&str> = r.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, vec!["gas", "heating"]);
        assert_eq!((r[1].this_week, r[1].weekly_average), (9, 1.0));
        let by_village = rising(&cases, now, |c| c.village.clone());
        assert_eq!(by_village.len(), 1, "19 this week against 6 a week");
    }

    #[test]
    fn repeats_group_by_household_and_by_place_within_30_days() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
            .single()
            .expect("t");
        let mut closed = mark(6, 3, "noise", "v", Some(2), "后街2号");
        closed.open = false;
        let cases = vec![
            mark(1, 20, "heating", "v", Some(7), "前街1号"),
            mark(2, 2, "heating", "v", Some(7), "前街1号"),
            mark(3, 45, "heating", "v", Some(7), "前街1号"),
            mark(4, 5, "noise", "v", Some(9), "市场路口"),
            mark(5, 1, "noise", "v", Some(8), "市场路口"),
            closed,
            mark(7, 1, "water", "v", Some(7), "前街1号"),
        ];
        let groups = repeats(&cases, now);
        assert_eq!(
            groups,
            vec![
                RepeatGroup {
                    kind: RepeatKind::Household,
                    key: "7:heating".into(),
                    ids: vec![1, 2]
                },
                RepeatGroup {
                    kind: RepeatKind::Place,
                    key: "heating@前街1号".into(),
                    ids: vec![1, 2]
                },
                RepeatGroup {
                    kind: RepeatKind::Place,
                    key: "noise@市场路口".into(),
                    ids: vec![4, 5]
                },
            ]
        );
    }
}
