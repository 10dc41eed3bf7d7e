//! Scorecards in SQL: each figure is one condition on a case (`push_figure`), used both to count
//! it per group and to list the cases behind it, so a figure and its list cannot disagree. The
//! three rates' conditions are the counters' own (`SettledTally` and the deadlines lapsed since
//! the sweep), so a scorecard's rates equal the rates page's for the same cases. Also the weekly
//! reports kept once their week is over.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::calendar::start_of_day;
use yongxin_domain::scorecard::{ScoreCounts, ScoreFigure, ScoreGroup};
use yongxin_domain::time::shanghai;
use yongxin_domain::{Actor, NewAuditEntry};
use yongxin_store::{
    AnswerSpan, AppealQuery, AppealScope, CardBoard, FigureFilter, HotKey, ScorecardRow,
    ScorecardStore, StoreResult,
};

use super::{Db, DbResult};
use crate::dialect::write_tx;
use crate::StoreImpl;

/// The case is still alive for the rates (not declined or merged).
const LIVE: &str = "a.status NOT IN ('declined', 'merged')";
/// Still waiting on its handler (open and not answered), named so the status index finds them.
pub(crate) const WAITING: &str =
    "a.status IN ('submitted', 'accepted', 'assigned', 'contacted', 'in_progress')";

/// The group key of a case, as text.
fn case_key(group: ScoreGroup) -> &'static str {
    match group {
        ScoreGroup::Cadre => "COALESCE(CAST(a.cadre_user_id AS TEXT), '')",
        ScoreGroup::Department => "COALESCE(a.department, '')",
        ScoreGroup::Village => "COALESCE(CAST(a.village_id AS TEXT), '')",
        ScoreGroup::Grid => "COALESCE(CAST(a.grid_id AS TEXT), '')",
    }
}

/// The instants of the Shanghai days `from` to `to`, both included.
fn span(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        start_of_day(from),
        start_of_day(to + chrono::Duration::days(1)),
    )
}

/// Pushes the condition of `figure` on the case `a` (the period of filing is the caller's; the
/// period of notices is `period`).
pub(crate) fn push_figure(
    qb: &mut QueryBuilder<'static, Db>,
    figure: ScoreFigure,
    (period, now): ((DateTime<Utc>, DateTime<Utc>), DateTime<Utc>),
) {
    match figure {
        ScoreFigure::Received => {
            qb.push("1 = 1");
        }
        ScoreFigure::ContactDue => {
            qb.push(format!(
                "(a.contacted_at IS NOT NULL OR ({LIVE} AND (a.contact_lapsed = 1 OR a.contact_due < "
            ))
            .push_bind(now)
            .push(")))");
        }
        ScoreFigure::ContactedOnTime => {
            qb.push("(a.contacted_at IS NOT NULL AND a.contacted_at <= a.contact_due)");
        }
        ScoreFigure::ResolutionDue => {
            qb.push(format!(
                "(a.answered_at IS NOT NULL OR ({LIVE} AND (a.resolution_lapsed = 1 OR a.resolution_due < "
            ))
            .push_bind(now)
            .push(")))");
        }
        ScoreFigure::AnsweredOnTime => {
            qb.push("(a.answered_at IS NOT NULL AND a.answered_at <= a.resolution_due)");
        }
        ScoreFigure::Answered => {
            qb.push("(a.answered_at IS NOT NULL OR a.rating IS NOT NULL)");
        }
        ScoreFigure::Rated => {
            qb.push("a.rating IS NOT NULL");
        }
        ScoreFigure::Satisfied => {
            qb.push("a.rating IN ('satisfied', 'basically_satisfied')");
        }
        ScoreFigure::Reopened => {
            qb.push("a.reopen_count > 0");
        }
        ScoreFigure::Overdue => {
            qb.push(format!(
                "({WAITING} AND ((a.contacted_at IS NULL AND a.contact_due < "
            ))
            .push_bind(now)
            .push(") OR (a.answered_at IS NULL AND a.resolution_due < ")
            .push_bind(now)
            .push(")))");
        }
        ScoreFigure::Supervised | ScoreFigure::SupervisedLate => {
            qb.push("EXISTS (SELECT 1 FROM supervision_notices n WHERE n.appeal_id = a.id AND n.issued_at >= ")
                .push_bind(period.0)
                .push(" AND n.issued_at < ")
                .push_bind(period.1);
            if figure == ScoreFigure::SupervisedLate {
                qb.push(" AND ((n.answered_at IS NOT NULL AND n.answered_at > n.due_at) OR (n.answered_at IS NULL AND n.due_at < ")
                    .push_bind(now)
                    .push("))");
            }
            qb.push(")");
        }
    }
}

/// Pushes ` AND …` selecting the cases behind a figure (for the appeals list).
pub(crate) fn push_figure_filter(qb: &mut QueryBuilder<'static, Db>, f: &FigureFilter) {
    if f.figure.by_filing() {
        qb.push(" AND a.created_at >= ")
            .push_bind(f.period.0)
            .push(" AND a.created_at < ")
            .push_bind(f.period.1);
    }
    qb.push(" AND ");
    push_figure(qb, f.figure, (f.period, f.now));
    if let Some((group, key)) = &f.group {
        let column = match group {
            ScoreGroup::Cadre => "a.cadre_user_id",
            ScoreGroup::Department => "a.department",
            ScoreGroup::Village => "a.village_id",
            ScoreGroup::Grid => "a.grid_id",
        };
        match (group, key.as_str()) {
            (_, "") => {
                qb.push(format!(" AND {column} IS NULL"));
            }
            (ScoreGroup::Department, name) => {
                qb.push(format!(" AND {column} = "))
                    .push_bind(name.to_owned());
            }
            (_, id) => {
                // A key that is not an id selects nothing rather than everything.
                qb.push(format!(" AND {column} = "))
                    .push_bind(id.parse::<i64>().unwrap_or(-1));
            }
        }
    }
}

/// The figures counted per case among those filed in the period, in the order of the query.
const FILED: [ScoreFigure; 8] = [
    ScoreFigure::ContactDue,
    ScoreFigure::ContactedOnTime,
    ScoreFigure::ResolutionDue,
    ScoreFigure::AnsweredOnTime,
    ScoreFigure::Answered,
    ScoreFigure::Rated,
    ScoreFigure::Satisfied,
    ScoreFigure::Reopened,
];

/// Rows of `(key, n)`.
type Counted = Vec<(String, i64)>;

#[async_trait]
impl ScorecardStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn scorecards(
        &self,
        group: ScoreGroup,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<ScorecardRow>> {
        let period = span(from, to);
        let key = case_key(group);
        let mut cards: BTreeMap<String, ScoreCounts> = BTreeMap::new();

        let mut filed = QueryBuilder::<Db>::new(format!("SELECT {key} AS k, COUNT(*) AS total"));
        for (i, figure) in FILED.into_iter().enumerate() {
            filed.push(", CAST(SUM(CASE WHEN ");
            push_figure(&mut filed, figure, (period, now));
            filed.push(format!(" THEN 1 ELSE 0 END) AS BIGINT) AS f{i}"));
        }
        filed
            .push(" FROM appeals a WHERE a.created_at >= ")
            .push_bind(period.0)
            .push(" AND a.created_at < ")
            .push_bind(period.1)
            .push(format!(" GROUP BY {key}"));
        type FiledRow = (String, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<FiledRow> = filed.build_query_as().fetch_all(&self.pool).await.db()?;
        for (k, total, cd, cot, rd, aot, answered, rated, satisfied, reopened) in rows {
            let c = cards.entry(k).or_default();
            c.rates.total = total;
            c.rates.contact_due = cd;
            c.rates.contacted_on_time = cot;
            c.rates.resolution_due = rd;
            c.rates.answered_on_time = aot;
            c.rates.answered = answered;
            c.rates.rated = rated;
            c.rates.satisfied = satisfied;
            c.reopened = reopened;
        }

        let text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
        let kept = match group {
            ScoreGroup::Grid => None,
            _ => self.overdue_now(None, now).await?,
        };
        let rows: Counted = match kept {
            Some(tallies) => tallies
                .into_iter()
                .map(|t| match group {
                    ScoreGroup::Department => (t.department, t.cases),
                    ScoreGroup::Cadre => (text(t.cadre), t.cases),
                    _ => (text(t.village), t.cases),
                })
                .collect(),
            None => {
                let mut overdue = QueryBuilder::<Db>::new(format!(
                    "SELECT {key} AS k, COUNT(*) AS n FROM appeals a WHERE "
                ));
                push_figure(&mut overdue, ScoreFigure::Overdue, (period, now));
                overdue.push(format!(" GROUP BY {key}"));
                overdue.build_query_as().fetch_all(&self.pool).await.db()?
            }
        };
        for (k, n) in rows.into_iter().filter(|(_, n)| *n != 0) {
            cards.entry(k).or_default().overdue += n;
        }

        let mut supervised = QueryBuilder::<Db>::new(format!(
            "SELECT {key} AS k, COUNT(DISTINCT a.id) AS n, COUNT(DISTINCT CASE WHEN \
             (n.answered_at IS NOT NULL AND n.answered_at > n.due_at) OR (n.answered_at IS NULL AND n.due_at < "
        ));
        supervised
            .push_bind(now)
            .push(
                ") THEN a.id END) AS late FROM supervision_notices n JOIN appeals a ON a.id = n.appeal_id \
                 WHERE n.issued_at >= ",
            )
            .push_bind(period.0)
            .push(" AND n.issued_at < ")
            .push_bind(period.1)
            .push(format!(" GROUP BY {key}"));
        let rows: Vec<(String, i64, i64)> = supervised
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .db()?;
        for (k, n, late) in rows {
            let c = cards.entry(k).or_default();
            c.supervised = n;
            c.supervised_late = late;
        }

        // The door-to-door work has no department.
        if group != ScoreGroup::Department {
            let (visit_key, reached_key, informed_key) = match group {
                ScoreGroup::Cadre => (
                    "CAST(v.cadre_user_id AS TEXT)",
                    "COALESCE(CAST(ch.cadre_user_id AS TEXT), '')",
                    "CAST(i.by_user_id AS TEXT)",
                ),
                ScoreGroup::Village => (
                    "CAST(h.village_id AS TEXT)",
                    "CAST(ch.village_id AS TEXT)",
                    "CAST(h.village_id AS TEXT)",
                ),
                _ => (
                    "CAST(h.grid_id AS TEXT)",
                    "CAST(ch.grid_id AS TEXT)",
                    "CAST(h.grid_id AS TEXT)",
                ),
            };
            let queries = [
                format!(
                    "SELECT {visit_key} AS k, COUNT(*) AS n FROM visits v JOIN households h ON h.id = v.household_id \
                     WHERE v.current = 1 AND v.visited_at >= $1 AND v.visited_at < $2 GROUP BY {visit_key}"
                ),
                format!(
                    "SELECT {reached_key} AS k, COUNT(*) AS n FROM campaign_households ch \
                     WHERE ch.reached_at >= $1 AND ch.reached_at < $2 GROUP BY {reached_key}"
                ),
                format!(
                    "SELECT {informed_key} AS k, COUNT(*) AS n FROM notice_informed i JOIN households h ON h.id = i.household_id \
                     WHERE i.how = 'confirmed' AND i.at >= $1 AND i.at < $2 GROUP BY {informed_key}"
                ),
            ];
            for (i, sql) in queries.iter().enumerate() {
                let rows: Counted = sqlx::query_as(sql)
                    .bind(period.0)
                    .bind(period.1)
                    .fetch_all(&self.pool)
                    .await
                    .db()?;
                for (k, n) in rows {
                    let c = cards.entry(k).or_default();
                    match i {
                        0 => c.visits = n,
                        1 => c.households_reached = n,
                        _ => c.informed_in_person = n,
                    }
                }
            }
        }

        let names: BTreeMap<String, String> = match group {
            ScoreGroup::Department => BTreeMap::new(),
            ScoreGroup::Cadre => {
                sqlx::query_as("SELECT CAST(id AS TEXT) AS k, display_name FROM users")
                    .fetch_all(&self.pool)
                    .await
                    .db()?
                    .into_iter()
                    .collect()
            }
            ScoreGroup::Village => sqlx::query_as("SELECT CAST(id AS TEXT) AS k, name FROM villages")
                .fetch_all(&self.pool)
                .await
                .db()?
                .into_iter()
                .collect(),
            ScoreGroup::Grid => sqlx::query_as(
                "SELECT CAST(g.id AS TEXT) AS k, CASE WHEN g.name LIKE v.name || '%' THEN g.name ELSE v.name || ' ' || g.name END \
                 FROM grids g JOIN villages v ON v.id = g.village_id",
            )
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect(),
        };
        let mut rows: Vec<ScorecardRow> = cards
            .into_iter()
            .map(|(key, counts)| ScorecardRow {
                label: match group {
                    ScoreGroup::Department => key.clone(),
                    _ => names.get(&key).cloned().unwrap_or_default(),
                },
                key,
                counts,
            })
            .collect();
        // Named groups by name; the cases with no group last.
        rows.sort_by(|a, b| {
            (a.key.is_empty(), &a.label, &a.key).cmp(&(b.key.is_empty(), &b.label, &b.key))
        });
        Ok(rows)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn card_board(
        &self,
        scope: &AppealScope,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
    ) -> StoreResult<CardBoard> {
        let (red, near) = tokio::try_join!(
            self.red_cards(scope, now),
            self.near_candidates(scope, now, horizon)
        )?;
        Ok(CardBoard { red, near })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn hot_counts(
        &self,
        by: HotKey,
        village_id: Option<i64>,
        (from, middle, to): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let day_of = |t: DateTime<Utc>| t.with_timezone(&shanghai()).date_naive();
        let last_day = day_of(to);
        let dim = match by {
            HotKey::Category => Some("category"),
            HotKey::Village => Some("village"),
            HotKey::Address => None,
        };
        // Whole days office-wide are the three rates' counters' own (cases filed per day and
        // category or village); only the day under way is counted from the cases.
        let whole_days = village_id.is_none()
            && start_of_day(day_of(from)) == from
            && start_of_day(day_of(middle)) == middle
            && middle <= start_of_day(last_day);
        let Some(dim) = dim.filter(|_| whole_days) else {
            return self
                .hot_counts_of_cases(by, village_id, (from, middle, to))
                .await;
        };
        let counted: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT r.key, CAST(SUM(CASE WHEN r.day >= $1 THEN r.total ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN r.day < $1 THEN r.total ELSE 0 END) AS BIGINT) FROM appeal_rates r \
             WHERE r.dim = $2 AND r.day >= $3 AND r.day < $4 AND r.key <> '' GROUP BY r.key",
        )
        .bind(day_of(middle))
        .bind(dim)
        .bind(day_of(from))
        .bind(last_day)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let today = start_of_day(last_day);
        let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let names: std::collections::HashMap<String, String> = match by {
            HotKey::Village => sqlx::query_as("SELECT CAST(id AS TEXT), name FROM villages")
                .fetch_all(&self.pool)
                .await
                .db()?
                .into_iter()
                .collect(),
            _ => Default::default(),
        };
        for (key, this, last) in counted {
            let key = match by {
                HotKey::Village => names.get(&key).cloned().unwrap_or_default(),
                _ => key,
            };
            let e = counts.entry(key).or_default();
            e.0 += this;
            e.1 += last;
        }
        if today < to {
            for (key, this, _) in self
                .hot_counts_of_cases(by, None, (today, today, to))
                .await?
            {
                counts.entry(key).or_default().0 += this;
            }
        }
        counts.retain(|k, _| !k.is_empty());
        Ok(counts
            .into_iter()
            .map(|(k, (this, last))| (k, this, last))
            .collect())
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn answer_spans(
        &self,
        group: ScoreGroup,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AnswerSpan>> {
        let (start, end) = span(from, to);
        let key = case_key(group);
        sqlx::query_as(&format!(
            "SELECT {key} AS key, a.created_at, a.answered_at FROM appeals a \
             WHERE a.created_at >= $1 AND a.created_at < $2 AND a.answered_at IS NOT NULL"
        ))
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn kept_weekly_report(&self, week: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT report FROM weekly_reports WHERE week = $1")
            .bind(week)
            .fetch_optional(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn keep_weekly_report(
        &self,
        actor: &Actor,
        week: &str,
        report: &str,
    ) -> StoreResult<String> {
        let (actor, week, report) = (actor.to_string(), week.to_owned(), report.to_owned());
        write_tx!(self, |tx| {
            let kept: Option<String> =
                sqlx::query_scalar("SELECT report FROM weekly_reports WHERE week = $1")
                    .bind(&week)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            if let Some(kept) = kept {
                return Ok((kept, Vec::new()));
            }
            let now = Utc::now();
            sqlx::query("INSERT INTO weekly_reports (week, report, kept_at) VALUES ($1, $2, $3)")
                .bind(&week)
                .bind(&report)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "report.weekly",
                format!("weekly_report:{week}"),
                format!("周报 {week}"),
                &serde_json::json!({ "week": week, "report": report }),
            );
            Ok((report.clone(), vec![entry]))
        })
    }
}

/// How close to the store's clock an instant must be to be judged as the present.
const PRESENT: chrono::Duration = chrono::Duration::minutes(1);

/// Waiting cases overdue now with one department, cadre and village.
struct OverdueTally {
    department: String,
    cadre: Option<i64>,
    village: Option<i64>,
    cases: i64,
}

/// Red and yellow cards, overdue counts and hot issues.
impl StoreImpl {
    /// Red cards per department and cadre: the waiting cases overdue at `now`, from
    /// [`Self::overdue_now`] office-wide and for a village judged now, else counted from the
    /// cases.
    async fn red_cards(
        &self,
        scope: &AppealScope,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Option<i64>, i64)>> {
        let village = match scope {
            AppealScope::All => None,
            AppealScope::Village(v) => Some(*v),
            _ => return self.red_cards_of_cases(scope, now).await,
        };
        let Some(tallies) = self.overdue_now(village, now).await? else {
            return self.red_cards_of_cases(scope, now).await;
        };
        let mut red: BTreeMap<(String, Option<i64>), i64> = BTreeMap::new();
        for t in tallies {
            *red.entry((t.department, t.cadre)).or_default() += t.cases;
        }
        Ok(red
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((d, c), n)| (d, c, n))
            .collect())
    }

    /// The waiting cases overdue at `now` per department, cadre and village (of one village when
    /// given), when `now` is the present (within [`PRESENT`] of the store's clock; `None` for
    /// another instant): the counts the database keeps of cases overdue as recorded by the sweep
    /// (`overdue_counts`, migration 0027), plus the few whose deadline passed since, found
    /// through the partial indexes of unlapsed deadlines. The sum is the overdue figure's count,
    /// read without touching the hundred thousand overdue cases an office with a backlog holds.
    async fn overdue_now(
        &self,
        village: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<OverdueTally>>> {
        // The sweep records deadlines lapsed before its own present; judged at an earlier
        // instant, the counts would hold cases not yet overdue then.
        if now < Utc::now() - PRESENT {
            return Ok(None);
        }
        let in_village = |column: &str, param: &str| {
            village
                .map(|_| format!(" AND {column} = {param}"))
                .unwrap_or_default()
        };
        let recorded_sql = format!(
            "SELECT department, cadre_user_id, village_id, CAST(SUM(cases) AS BIGINT) FROM overdue_counts \
             WHERE cases <> 0{} GROUP BY department, cadre_user_id, village_id",
            in_village("village_id", "$1")
        );
        // A case overdue by one deadline as recorded is counted above, whatever the other.
        let arm = |(index, unlapsed): (&str, &str), other_recorded: &str| {
            format!(
                "SELECT a.id, COALESCE(a.department, '') AS d, COALESCE(a.cadre_user_id, 0) AS c, \
                 COALESCE(a.village_id, 0) AS v FROM {} WHERE {unlapsed} AND {WAITING} AND NOT ({other_recorded}){}",
                super::appeals::appeals_through(index),
                in_village("a.village_id", "$2")
            )
        };
        let fresh_sql = format!(
            "SELECT f.d, f.c, f.v, COUNT(*) FROM ({} UNION {}) f GROUP BY f.d, f.c, f.v",
            arm(
                super::appeals::CONTACT_UNLAPSED,
                "a.resolution_lapsed = 1 AND a.answered_at IS NULL"
            ),
            arm(
                super::appeals::RESOLUTION_UNLAPSED,
                "a.contact_lapsed = 1 AND a.contacted_at IS NULL"
            ),
        );
        type Row = (String, i64, i64, i64);
        let mut recorded = sqlx::query_as::<_, Row>(&recorded_sql);
        let mut fresh = sqlx::query_as::<_, Row>(&fresh_sql).bind(now);
        if let Some(v) = village {
            recorded = recorded.bind(v);
            fresh = fresh.bind(v);
        }
        let (recorded, fresh) =
            tokio::try_join!(recorded.fetch_all(&self.pool), fresh.fetch_all(&self.pool),).db()?;
        let some = |id: i64| Some(id).filter(|id| *id != 0);
        Ok(Some(
            recorded
                .into_iter()
                .chain(fresh)
                .map(|(department, cadre, village, cases)| OverdueTally {
                    department,
                    cadre: some(cadre),
                    village: some(village),
                    cases,
                })
                .collect(),
        ))
    }

    /// Red cards counted from the cases (any scope).
    async fn red_cards_of_cases(
        &self,
        scope: &AppealScope,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Option<i64>, i64)>> {
        let within = AppealQuery::within(scope.clone(), 1);
        // Through the waiting cases' covering index, even when a village's own index would look
        // more selective: a village holds a hundred thousand closed cases.
        let from = super::appeals::appeals_through("appeals_waiting_idx");
        let mut red = QueryBuilder::<Db>::new(format!(
            "SELECT COALESCE(a.department, '') AS d, a.cadre_user_id AS c, COUNT(*) AS n FROM {from}"
        ));
        super::appeals::push_appeal_filters(&mut red, &within);
        red.push(" AND ");
        push_figure(&mut red, ScoreFigure::Overdue, ((now, now), now));
        red.push(" GROUP BY COALESCE(a.department, ''), a.cadre_user_id");
        red.build_query_as().fetch_all(&self.pool).await.db()
    }

    /// The waiting cases with an open deadline in `[now, horizon)`, with their clocks: the
    /// candidates for a yellow card, found through the partial indexes of unlapsed deadlines
    /// (a deadline still ahead has not lapsed).
    async fn near_candidates(
        &self,
        scope: &AppealScope,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Option<i64>, yongxin_domain::appeal::DeadlineClock)>> {
        let within = AppealQuery::within(scope.clone(), 1);
        let mut near = QueryBuilder::<Db>::new("");
        for (i, ((index, unlapsed), due)) in [
            (super::appeals::CONTACT_UNLAPSED, "a.contact_due"),
            (super::appeals::RESOLUTION_UNLAPSED, "a.resolution_due"),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                near.push(" UNION ");
            }
            near.push(format!(
                "SELECT a.id, COALESCE(a.department, '') AS d, a.cadre_user_id AS c, a.status, a.created_at, \
                 a.contacted_at, a.contact_due, a.answered_at, a.resolution_due FROM {}",
                super::appeals::appeals_through(index)
            ));
            super::appeals::push_appeal_filters(&mut near, &within);
            // The index's own terms, its deadline before the horizon instead of before now.
            let terms = unlapsed
                .split(" AND ")
                .filter(|t| !t.contains("$1"))
                .collect::<Vec<_>>()
                .join(" AND ");
            near.push(format!(" AND {terms} AND {WAITING} AND {due} >= "))
                .push_bind(now)
                .push(format!(" AND {due} < "))
                .push_bind(horizon);
        }
        type NearRow = (
            i64,
            String,
            Option<i64>,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            DateTime<Utc>,
        );
        let rows: Vec<NearRow> = near.build_query_as().fetch_all(&self.pool).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(_, d, c, status, created, contacted, contact_due, answered, resolution_due)| {
                    Some((
                        d,
                        c,
                        yongxin_domain::appeal::DeadlineClock {
                            status: yongxin_domain::appeal::AppealStatus::parse(&status)?,
                            started_at: created,
                            contacted_at: contacted,
                            contact_due,
                            answered_at: answered,
                            resolution_due,
                        },
                    ))
                },
            )
            .collect())
    }

    /// Cases filed per key in `[middle, to)` and `[from, middle)`, counted from the cases.
    async fn hot_counts_of_cases(
        &self,
        by: HotKey,
        village_id: Option<i64>,
        (from, middle, to): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let key = match by {
            HotKey::Category => "a.category_code",
            HotKey::Village => "COALESCE(v.name, '')",
            HotKey::Address => "a.address",
        };
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {key} AS k, CAST(SUM(CASE WHEN a.created_at >= "
        ));
        q.push_bind(middle)
            .push(" THEN 1 ELSE 0 END) AS BIGINT) AS this_week, CAST(SUM(CASE WHEN a.created_at < ")
            .push_bind(middle)
            .push(
                " THEN 1 ELSE 0 END) AS BIGINT) AS last_week FROM appeals a LEFT JOIN villages v ON v.id = a.village_id \
                 WHERE a.created_at >= ",
            )
            .push_bind(from)
            .push(" AND a.created_at < ")
            .push_bind(to);
        if let Some(v) = village_id {
            q.push(" AND a.village_id = ").push_bind(v);
        }
        q.push(format!(" AND {key} <> '' GROUP BY {key}"));
        q.build_query_as().fetch_all(&self.pool).await.db()
    }
}
