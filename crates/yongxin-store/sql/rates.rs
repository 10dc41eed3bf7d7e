//! The three rates' counters (`appeal_rates`): which rows a case's move changes, and writing them.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::appeal::{tally_moves, CaseFacts, Lapsed, SettledTally};
use yongxin_store::{NewAppeal, StatsGroup, StoreResult};

use super::{Db, DbConn, DbResult, DbRow, Dialect};
use crate::StoreImpl;
use sqlx::FromRow;

/// What of a case places it in the three rates' counters and does not change as it is handled.
pub(crate) struct RateSubject {
    pub(crate) village_id: Option<i64>,
    pub(crate) grid_id: Option<i64>,
    pub(crate) category: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) contact_due: DateTime<Utc>,
    pub(crate) resolution_due: DateTime<Utc>,
    pub(crate) lapsed: Lapsed,
}

/// The columns of `FACTS_SELECT` that make a [`RateSubject`].
#[derive(sqlx::FromRow)]
struct SubjectRow {
    village_id: Option<i64>,
    grid_id: Option<i64>,
    category_code: String,
    created_at: DateTime<Utc>,
    contact_due: DateTime<Utc>,
    resolution_due: DateTime<Utc>,
    contact_lapsed: i64,
    resolution_lapsed: i64,
}

impl RateSubject {
    pub(crate) fn of_new(a: &NewAppeal) -> Self {
        Self {
            village_id: a.village_id,
            grid_id: a.grid_id,
            category: a.category.clone(),
            created_at: a.created_at,
            contact_due: a.contact_due,
            resolution_due: a.resolution_due,
            lapsed: Lapsed::default(),
        }
    }

    /// Read from a row of `FACTS_SELECT`.
    pub(crate) fn from_row(row: &DbRow) -> StoreResult<Self> {
        let r = SubjectRow::from_row(row).db()?;
        Ok(Self {
            village_id: r.village_id,
            grid_id: r.grid_id,
            category: r.category_code,
            created_at: r.created_at,
            contact_due: r.contact_due,
            resolution_due: r.resolution_due,
            lapsed: Lapsed {
                contact: r.contact_lapsed != 0,
                resolution: r.resolution_lapsed != 0,
            },
        })
    }

    /// The case's key under each of `RATE_GROUPS`, as the `key` column and `rate_key_sql` spell it.
    pub(crate) fn keys(&self, f: &CaseFacts) -> [String; 5] {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            id(self.village_id),
            id(self.grid_id),
            self.category.clone(),
            f.department.clone().unwrap_or_default(),
            id(f.cadre),
        ]
    }
}

/// The groups the three rates are kept by, in the order of `RateSubject::keys`.
pub(crate) const RATE_GROUPS: [StatsGroup; 5] = [
    StatsGroup::Village,
    StatsGroup::Grid,
    StatsGroup::Category,
    StatsGroup::Department,
    StatsGroup::Cadre,
];

/// A group's `dim` code and the SQL that spells an appeal's key in it (`a.` columns).
pub(crate) fn rate_group_sql(group: StatsGroup) -> (&'static str, &'static str) {
    match group {
        StatsGroup::Village => ("village", "COALESCE(CAST(a.village_id AS TEXT), '')"),
        StatsGroup::Grid => ("grid", "COALESCE(CAST(a.grid_id AS TEXT), '')"),
        StatsGroup::Category => ("category", "a.category_code"),
        StatsGroup::Department => ("department", "COALESCE(a.department, '')"),
        StatsGroup::Cadre => ("cadre", "COALESCE(CAST(a.cadre_user_id AS TEXT), '')"),
    }
}

/// Moves a case's tally in the rates' counters from what it was (`None` for a new case) to what
/// it is, with one statement.
pub(crate) async fn move_tallies(
    tx: &mut DbConn,
    s: &RateSubject,
    before: Option<(&CaseFacts, Lapsed)>,
    after: (&CaseFacts, Lapsed),
) -> StoreResult<()> {
    let rows = tally_rows(s, before, after);
    if rows.is_empty() {
        return Ok(());
    }
    StoreImpl::add_tallies_at_commit(tx, rows).await
}

/// The counter rows a move of a case's tally changes, with the difference to each.
pub(crate) fn tally_rows(
    s: &RateSubject,
    before: Option<(&CaseFacts, Lapsed)>,
    after: (&CaseFacts, Lapsed),
) -> Vec<TallyRow> {
    let old = before.map(|(f, l)| {
        (
            s.keys(f),
            SettledTally::of(s.contact_due, s.resolution_due, f, l),
        )
    });
    let new = (
        s.keys(after.0),
        SettledTally::of(s.contact_due, s.resolution_due, after.0, after.1),
    );
    let moves = tally_moves(old.as_ref().map(|(k, t)| (k, *t)), (&new.0, new.1));
    let day = s
        .created_at
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    moves
        .into_iter()
        .map(|(i, key, d)| (rate_group_sql(RATE_GROUPS[i]).0, key, day, d))
        .collect()
}

/// A change to one row of the rates' counters: group code, key, day, difference.
pub(crate) type TallyRow = (&'static str, String, NaiveDate, SettledTally);

/// Adds differences to the rates' counters, a thousand rows per statement; no two rows may name
/// the same counter row (PostgreSQL refuses to change a row twice in one statement).
pub(crate) async fn upsert_tallies_now(tx: &mut DbConn, rows: &[TallyRow]) -> StoreResult<()> {
    for chunk in rows.chunks(1000) {
        upsert_tally_chunk(tx, chunk).await?;
    }
    Ok(())
}

/// The counters' insert, before its values.
pub(crate) const TALLY_INSERT: &str = "INSERT INTO appeal_rates (dim, key, day, total, contact_due, contacted_on_time, resolution_due, answered_on_time, answered, rated, satisfied) ";
/// Adds to a counter row that exists instead of inserting it.
pub(crate) const TALLY_ON_CONFLICT: &str = " ON CONFLICT (dim, key, day) DO UPDATE SET total = appeal_rates.total + excluded.total, \
     contact_due = appeal_rates.contact_due + excluded.contact_due, \
     contacted_on_time = appeal_rates.contacted_on_time + excluded.contacted_on_time, \
     resolution_due = appeal_rates.resolution_due + excluded.resolution_due, \
     answered_on_time = appeal_rates.answered_on_time + excluded.answered_on_time, \
     answered = appeal_rates.answered + excluded.answered, rated = appeal_rates.rated + excluded.rated, satisfied = appeal_rates.satisfied + excluded.satisfied";

pub(crate) async fn upsert_tally_chunk(tx: &mut DbConn, rows: &[TallyRow]) -> StoreResult<()> {
    let mut qb = QueryBuilder::<Db>::new(TALLY_INSERT);
    qb.push_values(rows, |mut row, (dim, key, day, d)| {
        row.push_bind(*dim)
            .push_bind(key.as_str())
            .push_bind(*day)
            .push_bind(d.total)
            .push_bind(d.contact_due)
            .push_bind(d.contacted_on_time)
            .push_bind(d.resolution_due)
            .push_bind(d.answered_on_time)
            .push_bind(d.answered)
            .push_bind(d.rated)
            .push_bind(d.satisfied);
    });
    qb.push(TALLY_ON_CONFLICT);
    qb.build().execute(&mut *tx).await.db()?;
    Ok(())
}
