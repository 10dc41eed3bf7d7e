//! 工作台: the desk of leaders, staff and village officers — what needs them today. Red and
//! yellow cards counted by department and cadre (each count opens `/supervision` filtered to
//! them), the three rates this month against last month with a 12-week trend, hot issues this
//! week against last week, campaigns under way with their burn-down, projects by phase. A village
//! officer's desk is their village's.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use yongxin_domain::appeal::RateCounts;
use yongxin_domain::calendar::Card;
use yongxin_domain::scorecard::monday_of;
use yongxin_domain::{Permission, Scope};
use yongxin_store::{StatsGroup, User};

use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::params::href;
use crate::AppState;

/// Weeks in the trend.
pub const TREND_WEEKS: i64 = 12;
/// Lines of hot issues.
const HOT_LINES: usize = 6;

/// Cards of one cadre (or of a department's cases with no cadre).
pub struct CadreCards {
    /// Name (or “none”).
    pub name: String,
    /// Red cards.
    pub red: usize,
    /// Yellow cards.
    pub yellow: usize,
    /// The supervision list of these cases.
    pub href: String,
}

/// Cards of one department, and of each of its cadres.
pub struct CardLine {
    /// Department (or “none”).
    pub department: String,
    /// Red cards.
    pub red: usize,
    /// Yellow cards.
    pub yellow: usize,
    /// The supervision list of the department's cases.
    pub href: String,
    /// Its cadres, the most red first.
    pub cadres: Vec<CadreCards>,
}

/// The three rates and the coverage of a period, as shown.
pub struct RatesLine {
    /// The period, in words.
    pub label: String,
    /// Cases.
    pub total: i64,
    /// 响应率, 办结率, 满意率, 回访覆盖率 as percentages (— without cases).
    pub rates: [String; 4],
}

/// A week of the trend.
pub struct WeekLine {
    /// Its Monday (`11-02`).
    pub label: String,
    /// The rates.
    pub line: RatesLine,
}

/// A hot issue: a category or place, this week and last.
pub struct HotLine {
    /// Its name.
    pub label: String,
    /// Cases in the last 7 days.
    pub this_week: i64,
    /// In the 7 days before.
    pub last_week: i64,
}

/// A campaign under way.
pub struct CampaignLine {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Households reached of the target.
    pub reached: i64,
    /// Households to visit.
    pub target: i64,
    /// The burn-down chart.
    pub chart: String,
}

/// The desk.
pub struct Desk {
    /// What the desk covers (the subdistrict or a village).
    pub scope: String,
    /// Cards by department and cadre.
    pub cards: Vec<CardLine>,
    /// Red cards in all.
    pub red: usize,
    /// Yellow cards in all.
    pub yellow: usize,
    /// This month, last month.
    pub months: Vec<RatesLine>,
    /// The trend chart.
    pub trend_chart: String,
    /// The trend's numbers.
    pub trend: Vec<WeekLine>,
    /// Hot issues: categories, then places, each with its title.
    pub hot: Vec<(String, Vec<HotLine>)>,
    /// Campaigns under way.
    pub campaigns: Vec<CampaignLine>,
    /// Projects by phase: the phase and its projects (id, name).
    pub projects: Vec<(String, Vec<(i64, String)>)>,
}

/// Whether `user` has a desk.
pub fn has_desk(user: &User) -> bool {
    user.role.may(Permission::ReadSupervision) || user.role.may(Permission::DispatchVillageAppeals)
}

/// A share as a percentage with one decimal, or — without cases.
pub fn share(r: Option<f64>) -> String {
    r.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// The rates of a period as shown.
pub fn rates_line(label: String, r: &RateCounts) -> RatesLine {
    RatesLine {
        label,
        total: r.total,
        rates: [
            share(r.response_rate()),
            share(r.resolution_rate()),
            share(r.satisfaction_rate()),
            share(r.rating_coverage()),
        ],
    }
}

/// The three rates' counts of the cases filed on the days `from`–`to` within the desk's village
/// (or everywhere).
pub async fn rates_of(
    state: &AppState,
    village: Option<i64>,
    (from, to): (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
) -> Result<RateCounts, AppError> {
    let rows = state
        .store
        .appeal_stats(StatsGroup::Village, from, to, now)
        .await?;
    let key = village.map(|v| v.to_string());
    Ok(rows
        .into_iter()
        .filter(|r| key.as_ref().is_none_or(|k| *k == r.key))
        .fold(RateCounts::default(), |acc, r| acc.plus(r.counts)))
}

/// The three rates of each of the `TREND_WEEKS` weeks ending with the week holding `today`, by
/// the Monday of each, judged at `now`.
pub async fn weekly_rates(
    state: &AppState,
    village: Option<i64>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, RateCounts)>, AppError> {
    let this_monday = monday_of(today);
    let mut weeks = Vec::new();
    for back in (0..TREND_WEEKS).rev() {
        let monday = this_monday - Duration::weeks(back);
        let r = rates_of(state, village, (monday, monday + Duration::days(6)), now).await?;
        weeks.push((monday, r));
    }
    Ok(weeks)
}

/// The trend's lines and its chart (`id` keeps its element ids unique on the page).
pub fn trend_chart(
    c: &Catalog,
    weeks: &[(NaiveDate, RateCounts)],
    id: &str,
) -> (Vec<WeekLine>, String) {
    let labels: Vec<String> = weeks
        .iter()
        .map(|(m, _)| m.format("%m-%d").to_string())
        .collect();
    let series: Vec<Vec<Option<f64>>> = vec![
        weeks.iter().map(|(_, r)| r.response_rate()).collect(),
        weeks.iter().map(|(_, r)| r.resolution_rate()).collect(),
        weeks.iter().map(|(_, r)| r.satisfaction_rate()).collect(),
    ];
    let last = weeks.last().map(|(_, r)| *r).unwrap_or_default();
    let description = c.format(
        "desk.trend_desc",
        &[
            ("weeks", weeks.len().to_string()),
            ("response", share(last.response_rate())),
            ("resolution", share(last.resolution_rate())),
            ("satisfaction", share(last.satisfaction_rate())),
        ],
    );
    let chart =
        crate::http::chart::shares_svg(id, c.t("desk.trend"), &description, &labels, &series);
    let lines = weeks
        .iter()
        .zip(labels)
        .map(|((_, r), label)| WeekLine {
            line: rates_line(label.clone(), r),
            label,
        })
        .collect();
    (lines, chart)
}

/// Hot issues of the last 7 days (Shanghai) up to `now` — the day under way and the 6 before, or
/// the 7 days ending at `now` when it is midnight, as for a finished week's report — and the 7
/// days before those, per key, the biggest this week first (then last week's), at most
/// [`HOT_LINES`]. Whole days, so the office-wide counts are the rates' daily counters.
pub async fn hot(
    state: &AppState,
    by: yongxin_store::HotKey,
    village: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64, i64)>, AppError> {
    let last_day = (now - Duration::nanoseconds(1))
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let day = |back: i64| yongxin_domain::calendar::start_of_day(last_day - Duration::days(back));
    let mut rows = state
        .store
        .hot_counts(by, village, (day(13), day(6), now))
        .await?;
    rows.sort_by(|x, y| (y.1, y.2, &x.0).cmp(&(x.1, x.2, &y.0)));
    rows.truncate(HOT_LINES);
    Ok(rows)
}

/// The desk of `user` at `now`.
pub async fn desk(
    state: &AppState,
    c: &Catalog,
    user: &User,
    now: DateTime<Utc>,
) -> Result<Desk, AppError> {
    let village = match user.scope() {
        Scope::Village(v) => Some(v),
        _ => None,
    };
    let villages = state.store.villages().await?;
    let village_name =
        village.and_then(|v| villages.iter().find(|x| x.id == v).map(|x| x.name.clone()));
    let scope = match &village_name {
        Some(n) => n.clone(),
        None => state.store.subdistrict().await?.unwrap_or_default(),
    };

    // Cards by department, and within each by cadre; the most red first. Red cards are counted
    // by the database; yellow ones judged here (the calendar's), among the few cases due soon.
    let now_day = yongxin_domain::campaign::local_day(now);
    let calendar = state.calendar();
    let horizon = yongxin_domain::calendar::end_of_day(calendar.add_working_days(now_day, 1));
    let within = crate::appeals::scope_of(user).ok_or_else(AppError::forbidden)?;
    // The desk's three heaviest reads, side by side.
    let places = if village.is_some() {
        yongxin_store::HotKey::Address
    } else {
        yongxin_store::HotKey::Village
    };
    let (board, hot_category_counts, hot_place_counts) = tokio::try_join!(
        async { Ok::<_, AppError>(state.store.card_board(&within, now, horizon).await?) },
        hot(state, yongxin_store::HotKey::Category, village, now),
        hot(state, places, village, now),
    )?;
    let names: std::collections::HashMap<i64, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let none = c.t("stats.none").to_owned();
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    let mut by: BTreeMap<String, BTreeMap<String, CadreCards>> = BTreeMap::new();
    let mut count = |department: &str, cadre: Option<i64>, red: usize, yellow: usize| {
        let key = cadre.map(|i| i.to_string()).unwrap_or_default();
        let e = by
            .entry(department.to_owned())
            .or_default()
            .entry(key.clone())
            .or_insert_with(|| CadreCards {
                name: cadre
                    .and_then(|i| names.get(&i).cloned())
                    .unwrap_or_else(|| none.clone()),
                red: 0,
                yellow: 0,
                href: href(
                    "/supervision",
                    &[
                        ("department", &or_dash(department)),
                        ("cadre", &or_dash(&key)),
                    ],
                ),
            });
        e.red += red;
        e.yellow += yellow;
    };
    for (department, cadre, n) in &board.red {
        count(department, *cadre, usize::try_from(*n).unwrap_or(0), 0);
    }
    for (department, cadre, clock) in &board.near {
        let cards = yongxin_domain::appeal::deadline_cards(&calendar, now, clock);
        if cards[0].1.max(cards[1].1) == Card::Yellow {
            count(department, *cadre, 0, 1);
        }
    }
    let most_red = |a: (usize, usize), b: (usize, usize)| (b.0, b.1).cmp(&(a.0, a.1));
    let mut cards: Vec<CardLine> = by
        .into_iter()
        .map(|(department, cadres)| {
            let mut cadres: Vec<CadreCards> = cadres.into_values().collect();
            cadres.sort_by(|a, b| {
                most_red((a.red, a.yellow), (b.red, b.yellow)).then(a.name.cmp(&b.name))
            });
            CardLine {
                red: cadres.iter().map(|x| x.red).sum(),
                yellow: cadres.iter().map(|x| x.yellow).sum(),
                href: href("/supervision", &[("department", &or_dash(&department))]),
                department: if department.is_empty() {
                    none.clone()
                } else {
                    department
                },
                cadres,
            }
        })
        .collect();
    cards.sort_by(|a, b| {
        most_red((a.red, a.yellow), (b.red, b.yellow)).then(a.department.cmp(&b.department))
    });
    let (red, yellow) = cards
        .iter()
        .fold((0, 0), |(r, y), l| (r + l.red, y + l.yellow));

    // This month against last month, and the trend.
    let today = yongxin_domain::campaign::local_day(now);
    let first = today.with_day(1).unwrap_or(today);
    let last_first = (first - Duration::days(1)).with_day(1).unwrap_or(first);
    let this_month = rates_of(state, village, (first, today), now).await?;
    let last_month = rates_of(state, village, (last_first, first - Duration::days(1)), now).await?;
    let months = vec![
        rates_line(c.t("desk.this_month").to_owned(), &this_month),
        rates_line(c.t("desk.last_month").to_owned(), &last_month),
    ];
    let weeks = weekly_rates(state, village, today, now).await?;
    let (trend, trend_chart) = trend_chart(c, &weeks, "trend");

    // Hot issues this week against last, within the desk's village.
    let cats = state.categories().await?;
    let category = |code: &str| {
        cats.iter()
            .find(|(cat, _)| cat.code == code)
            .map(|(cat, _)| crate::catalogue::category_name(cat, c.lang()))
            .unwrap_or_else(|| code.to_owned())
    };
    let line = |(label, this_week, last_week): (String, i64, i64)| HotLine {
        label,
        this_week,
        last_week,
    };
    let hot_categories: Vec<HotLine> = hot_category_counts
        .into_iter()
        .map(|(k, a, b)| line((category(&k), a, b)))
        .collect();
    // Places: the village on the subdistrict's desk; the address on a village's.
    let hot_places: Vec<HotLine> = hot_place_counts.into_iter().map(line).collect();

    // Campaigns under way, each with its burn-down.
    let mut campaigns = Vec::new();
    for s in state.store.campaigns(None).await? {
        let k = &s.campaign;
        if !(k.starts_on <= today && today <= k.ends_on) {
            continue;
        }
        let settled = state.store.campaign_settled_per_day(k.id).await?;
        let burn =
            yongxin_domain::campaign::burn_down(s.totals.target, k.period(), &settled, today);
        let chart = crate::campaigns::burn_down::svg(
            &format!("burn-{}", k.id),
            &burn,
            s.totals.target,
            &format!("{} · {}", c.t("campaign.burn_down"), k.title),
            &c.format(
                "campaign.burn_down_desc",
                &[
                    ("target", s.totals.target.to_string()),
                    ("left", s.totals.left().to_string()),
                ],
            ),
        );
        campaigns.push(CampaignLine {
            id: k.id,
            title: k.title.clone(),
            reached: s.totals.reached,
            target: s.totals.target,
            chart,
        });
    }

    // Projects by phase, in the phases' order.
    let mut phases: BTreeMap<usize, (String, Vec<(i64, String)>)> = BTreeMap::new();
    for p in state.store.projects().await? {
        let Some(d) = state.store.project(p.id).await? else {
            continue;
        };
        if village.is_some_and(|v| !d.project.village_ids.contains(&v)) {
            continue;
        }
        let order = yongxin_domain::resettlement::Phase::ALL
            .iter()
            .position(|x| *x == d.phase)
            .unwrap_or(0);
        phases
            .entry(order)
            .or_insert_with(|| {
                (
                    c.t(&format!("resettlement.phase_name.{}", d.phase.code()))
                        .to_owned(),
                    Vec::new(),
                )
            })
            .1
            .push((d.project.id.get(), d.project.name.clone()));
    }
    Ok(Desk {
        scope,
        cards,
        red,
        yellow,
        months,
        trend_chart,
        trend,
        hot: vec![
            (c.t("desk.hot_categories").to_owned(), hot_categories),
            (c.t("desk.hot_places").to_owned(), hot_places),
        ],
        campaigns,
        projects: phases.into_values().collect(),
    })
}
