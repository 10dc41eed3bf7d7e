//! 考核: scorecards per cadre, department, village and grid for any period — the page, its
//! export and `GET /api/v1/scorecards`. Every figure that counts cases links to the appeals list
//! of exactly those cases (`figure=`), so a cadre can recount their own numbers; the definitions
//! are printed beside them. Staff, leaders and administrators read every group; other cadres
//! read their own row.

mod api;
mod pages;

use chrono::{Datelike, NaiveDate, Utc};
use yongxin_domain::scorecard::{working_days_to_answer, ScoreCounts, ScoreFigure, ScoreGroup};
use yongxin_domain::Permission;
use yongxin_store::User;

use crate::http::error::AppError;
use crate::http::params::href;
use crate::http::routes::Routes;
use crate::AppState;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/scorecards", pages::scorecards)
        .get("/api/v1/scorecards", api::scorecards)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::ScorecardsApi as utoipa::OpenApi>::openapi()
}

/// The longest period one scorecard covers.
const MOST_DAYS: i64 = 366;

/// One group's scorecard, working days to answer included.
pub(crate) struct Scorecard {
    /// The group's key (empty: cases with none).
    pub key: String,
    /// Its name.
    pub label: String,
    /// The figures.
    pub counts: ScoreCounts,
}

/// The period asked for: the days given, or this month so far; at most a year.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let today = yongxin_domain::campaign::local_day(Utc::now());
    let day = |v: Option<&str>, name: &str, default: NaiveDate| match v
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(default),
        Some(s) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| AppError::invalid_param(name))
        }
    };
    let from = day(from, "from", today.with_day(1).unwrap_or(today))?;
    let to = day(to, "to", today)?;
    if to < from || (to - from).num_days() >= MOST_DAYS {
        return Err(AppError::invalid_param("to"));
    }
    Ok((from, to))
}

/// The grouping asked for (by cadre when none).
pub(crate) fn group(code: Option<&str>) -> Result<ScoreGroup, AppError> {
    match code.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(ScoreGroup::Cadre),
        Some(c) => ScoreGroup::parse(c).ok_or_else(|| AppError::invalid_param("group_by")),
    }
}

/// The scorecards `user` may read, and the whole office's (or their own) total: every group for
/// those who read all scorecards; for any other cadre their own row by cadre, and nothing else.
pub(crate) async fn scorecards(
    state: &AppState,
    user: &User,
    group: ScoreGroup,
    days: (NaiveDate, NaiveDate),
) -> Result<(Vec<Scorecard>, Scorecard), AppError> {
    let all = user.role.may(Permission::ReadAllScorecards);
    let own_row = user.role.may(Permission::WorkInOffice) && group == ScoreGroup::Cadre;
    if !(all || own_row) {
        return Err(AppError::forbidden());
    }
    let own = user.id.to_string();
    let mut cards = scorecards_of(state, group, days, Utc::now()).await?;
    if !all {
        cards.retain(|c| c.key == own);
        if cards.is_empty() {
            cards.push(Scorecard {
                key: own,
                label: user.display_name.clone(),
                counts: ScoreCounts::default(),
            });
        }
    }
    let total = total_of(&cards);
    Ok((cards, total))
}

/// The scorecards of every group, judged at `at` (deadlines passed by then), working days to
/// answer included.
pub(crate) async fn scorecards_of(
    state: &AppState,
    group: ScoreGroup,
    (from, to): (NaiveDate, NaiveDate),
    at: chrono::DateTime<Utc>,
) -> Result<Vec<Scorecard>, AppError> {
    let rows = state.store.scorecards(group, from, to, at).await?;
    let calendar = state.calendar();
    let mut days: std::collections::HashMap<String, (i64, i64)> = Default::default();
    for s in state.store.answer_spans(group, from, to).await? {
        let e = days.entry(s.key).or_default();
        e.0 += working_days_to_answer(&calendar, s.created_at, s.answered_at);
        e.1 += 1;
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (sum, n) = days.get(&r.key).copied().unwrap_or_default();
            Scorecard {
                counts: ScoreCounts {
                    answer_working_days: sum,
                    answered_spans: n,
                    ..r.counts
                },
                key: r.key,
                label: r.label,
            }
        })
        .collect())
}

/// The rows together.
pub(crate) fn total_of(cards: &[Scorecard]) -> Scorecard {
    Scorecard {
        key: String::new(),
        label: String::new(),
        counts: cards
            .iter()
            .fold(ScoreCounts::default(), |acc, c| acc.plus(c.counts)),
    }
}

/// The list of the cases behind a figure (`path` is `/appeals` or `/api/v1/appeals`); for the
/// whole office when `key` is `None`.
pub(crate) fn figure_href(
    path: &str,
    figure: ScoreFigure,
    group: ScoreGroup,
    key: Option<&str>,
    (from, to): (NaiveDate, NaiveDate),
) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    let (group_by, key) = match key {
        Some(k) => (group.code(), k),
        None => ("", ""),
    };
    // An empty key (cases with no cadre, say) still names the group: `key=` is kept.
    let mut s = href(
        path,
        &[
            ("figure", figure.code()),
            ("group_by", group_by),
            ("from", &from),
            ("to", &to),
        ],
    );
    if !group_by.is_empty() {
        s.push_str("&key=");
        s.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
    }
    s
}
