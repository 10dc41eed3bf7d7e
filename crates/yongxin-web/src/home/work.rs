//! 我的工作: a cadre's own work, the home page of whoever handles cases — the cases assigned to
//! them in five tabs (超期, 临期, 待联系, 办理中, 待回访; one tab per case, the rule is the domain's
//! `work_focus`), sorted by the deadline each card names, and the door-to-door visits still due.
//! Village officers and staff who take ratings by phone also find the answered cases of their
//! scope waiting for a call (回访) under 待回访.

use chrono::{DateTime, Utc};
use yongxin_domain::appeal::{work_focus, AppealStatus, Deadline, WorkTab};
use yongxin_domain::Permission;
use yongxin_store::{AppealQuery, AppealScope, User};

use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::AppState;

/// Most cases read for one cadre's list: a grid worker holds tens, a busy desk a few hundred.
const MOST_CASES: i64 = 2000;
/// Most answered cases of a scope listed for calls.
const MOST_CALLS: i64 = 200;

/// The tabs, in the order shown.
pub const TABS: [WorkTab; 5] = [
    WorkTab::Overdue,
    WorkTab::NearDeadline,
    WorkTab::ToContact,
    WorkTab::InProgress,
    WorkTab::ToFollowUp,
];

/// One case on the list.
pub struct WorkCard {
    /// Case id.
    pub id: i64,
    /// Case number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Village and address.
    pub place: String,
    /// Status, in words.
    pub status: String,
    /// Which deadline the card is about, when it falls, and how far off or how long ago, in
    /// words (“联系时限 12-08 10:00 · 已超过 3 小时”); empty for an answered case.
    pub deadline: String,
    /// Whether that deadline has passed.
    pub passed: bool,
    /// For a call to take a rating: someone else's case (the handler never rates their own).
    pub call: bool,
    /// What the card is sorted by.
    sort_at: DateTime<Utc>,
}

/// A tab: its code, its name and how many cases it holds.
pub struct TabCount {
    /// `overdue`, `near`, …
    pub code: &'static str,
    /// Its name.
    pub label: String,
    /// Cases in it.
    pub count: usize,
    /// Whether it is the one shown.
    pub current: bool,
}

/// A campaign with doors still to knock on.
pub struct VisitsDue {
    /// Campaign id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Households of this cadre still to settle.
    pub open: i64,
    /// The last day.
    pub ends_on: String,
}

/// A cadre's work, as the home page shows it.
pub struct MyWork {
    /// The tabs with their counts.
    pub tabs: Vec<TabCount>,
    /// The cases of the tab shown.
    pub cards: Vec<WorkCard>,
    /// The campaigns with visits due.
    pub visits: Vec<VisitsDue>,
}

/// “3 小时”, “2 天 4 小时”, “15 分钟”: a span in words, to the nearest unit that matters.
pub fn span_words(c: &Catalog, span: chrono::Duration) -> String {
    let minutes = span.num_minutes().abs();
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    let n = |key: &str, n: i64| c.format(key, &[("n", n.to_string())]);
    match (days, hours) {
        (0, 0) => n("work.minutes", mins.max(1)),
        (0, h) => n("work.hours", h),
        (d, 0) => n("work.days", d),
        (d, h) => format!("{} {}", n("work.days", d), n("work.hours", h)),
    }
}

/// The words of a deadline on a card.
fn deadline_words(c: &Catalog, now: DateTime<Utc>, which: Deadline, at: DateTime<Utc>) -> String {
    let name = c.t(match which {
        Deadline::Contact => "appeal.contact_due",
        Deadline::Resolution => "appeal.resolution_due",
    });
    let distance = if at < now {
        c.format("work.passed", &[("span", span_words(c, now - at))])
    } else {
        c.format("work.left", &[("span", span_words(c, at - now))])
    };
    format!(
        "{name} {} · {distance}",
        yongxin_domain::time::display_local(at)
    )
}

/// Reads a tab code; anything else is the first tab that holds cases.
pub fn parse_tab(code: Option<&str>) -> Option<WorkTab> {
    code.and_then(WorkTab::parse)
}

/// The work of `user` at `now`, the tab `wanted` shown (or the first with cases in it).
pub async fn my_work(
    state: &AppState,
    c: &Catalog,
    user: &User,
    now: DateTime<Utc>,
    wanted: Option<WorkTab>,
) -> Result<MyWork, AppError> {
    let calendar = state.calendar();
    let mut q = AppealQuery::within(
        AppealScope::Cadre {
            grids: Vec::new(),
            user_id: user.id,
        },
        MOST_CASES,
    );
    q.statuses = vec![
        AppealStatus::Assigned,
        AppealStatus::Contacted,
        AppealStatus::InProgress,
        AppealStatus::Answered,
    ];
    let mut all: Vec<(WorkTab, WorkCard)> = Vec::new();
    let card = |a: &yongxin_store::Appeal, call: bool| -> Option<(WorkTab, WorkCard)> {
        let focus = work_focus(&calendar, now, &a.deadline_clock())?;
        let (deadline, passed, sort_at) = match focus.deadline {
            Some((which, at)) => (deadline_words(c, now, which, at), at < now, at),
            None => (
                c.format(
                    "work.answered_at",
                    &[(
                        "at",
                        a.answered_at
                            .map(yongxin_domain::time::display_local)
                            .unwrap_or_default(),
                    )],
                ),
                false,
                a.answered_at.unwrap_or(a.created_at),
            ),
        };
        let place = [
            a.village_name.clone().unwrap_or_default(),
            a.address.clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        Some((
            focus.tab,
            WorkCard {
                id: a.id.0,
                number: a.number.clone(),
                title: a.title.clone(),
                place,
                status: c
                    .t(&format!("appeal.status.{}", a.status.code()))
                    .to_owned(),
                deadline,
                passed,
                call,
                sort_at,
            },
        ))
    };
    for a in state.store.search_appeals(&q).await?.appeals {
        all.extend(card(&a, false));
    }
    // Whoever records ratings taken by phone calls back the answered cases of their scope that
    // others handled, the oldest answer first (it closes unrated soonest).
    if user.role.may(Permission::RecordRatingCall) {
        if let Some(scope) = crate::appeals::scope_of(user) {
            let mut q = AppealQuery::within(scope, MOST_CALLS);
            q.status = Some(AppealStatus::Answered);
            for a in state.store.search_appeals(&q).await?.appeals {
                if a.cadre_user_id != Some(user.id) {
                    all.extend(card(&a, true));
                }
            }
        }
    }
    let count = |t: WorkTab| all.iter().filter(|(tab, _)| *tab == t).count();
    let current = wanted
        .or_else(|| TABS.into_iter().find(|t| count(*t) > 0))
        .unwrap_or(WorkTab::ToContact);
    let tabs = TABS
        .into_iter()
        .map(|t| TabCount {
            code: t.code(),
            label: c.t(&format!("work.tab.{}", t.code())).to_owned(),
            count: count(t),
            current: t == current,
        })
        .collect();
    let mut cards: Vec<WorkCard> = all
        .into_iter()
        .filter(|(t, _)| *t == current)
        .map(|(_, card)| card)
        .collect();
    cards.sort_by_key(|w| (w.call, w.sort_at));
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let visits = if user.role.may(Permission::VisitHouseholds) {
        state
            .store
            .campaigns(Some(user.id))
            .await?
            .into_iter()
            .filter(|s| s.campaign.starts_on <= today && today <= s.campaign.ends_on)
            .filter(|s| s.totals.target > s.totals.settled)
            .map(|s| VisitsDue {
                id: s.campaign.id,
                title: s.campaign.title,
                open: s.totals.target - s.totals.settled,
                ends_on: s.campaign.ends_on.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(MyWork {
        tabs,
        cards,
        visits,
    })
}
