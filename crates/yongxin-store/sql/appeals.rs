//! Appeals in SQL: filing (with the one list of a new case's values), handling, photos, imports,
//! searches and the three rates read from their counters.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::appeal::{
    appeal_number, AppealAction, AppealError, AppealPolicy, AppealStatus, CaseFacts, Channel,
    Lapsed, Notice as AppealNotice, Rating, SettledTally, Urgency,
};
use yongxin_domain::NewAuditEntry;
use yongxin_store::{
    Appeal, AppealEvent, AppealPage, AppealQuery, AppealScope, ImportedAppeal, NewAppeal, NewPhoto,
    PhotoRef, StatsGroup, StatsRow, StoreError, StoreResult,
};
use yongxin_store::{AppealId, HouseholdId};

use super::push_list;
use super::rates::{move_tallies, rate_group_sql, tally_rows, RateSubject, TallyRow};
use super::{
    corrupt, fetch_page, fetch_page_closed, like_pattern, optional_code, Db, DbConn, DbResult,
    DbRow, Dialect, NAME_PARTIAL_INDEX, ROW_LOCK,
};
use crate::dialect::write_tx;
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::Actor;
use yongxin_store::AppealStore;

pub(crate) const APPEAL_SELECT: &str = "SELECT a.id, a.category_code, a.urgency, a.channel, a.status, a.title, a.description, a.answers, \
     a.address, a.latitude, a.longitude, a.village_id, v.name AS village_name, a.grid_id, a.household_id, \
     a.resident_user_id, a.contact_name, a.contact_phone, a.contact_email, a.department, a.cadre_user_id, c.display_name AS cadre_name, \
     a.reopen_count, a.merged_into, a.reply, a.rating, a.created_at, a.contact_due, a.resolution_due, a.contacted_at, \
     a.answered_at, a.rated_at, a.closed_at, a.updated_at \
     FROM appeals a LEFT JOIN villages v ON v.id = a.village_id LEFT JOIN users c ON c.id = a.cadre_user_id";

/// A row of [`APPEAL_SELECT`], codes and answers as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AppealRow {
    id: AppealId,
    category_code: String,
    #[sqlx(try_from = "String")]
    urgency: Urgency,
    #[sqlx(try_from = "String")]
    channel: Channel,
    #[sqlx(try_from = "String")]
    status: AppealStatus,
    title: String,
    description: String,
    answers: String,
    address: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    village_id: Option<i64>,
    village_name: Option<String>,
    grid_id: Option<i64>,
    household_id: Option<HouseholdId>,
    resident_user_id: Option<i64>,
    contact_name: String,
    contact_phone: String,
    contact_email: Option<String>,
    department: Option<String>,
    cadre_user_id: Option<i64>,
    cadre_name: Option<String>,
    reopen_count: i64,
    merged_into: Option<i64>,
    reply: Option<String>,
    rating: Option<String>,
    created_at: DateTime<Utc>,
    contact_due: DateTime<Utc>,
    resolution_due: DateTime<Utc>,
    contacted_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    rated_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<AppealRow> for Appeal {
    type Error = StoreError;

    fn try_from(r: AppealRow) -> StoreResult<Self> {
        Ok(Appeal {
            id: r.id,
            number: appeal_number(r.id.0, r.created_at),
            category: r.category_code,
            urgency: r.urgency,
            channel: r.channel,
            status: r.status,
            title: r.title,
            description: r.description,
            answers: serde_json::from_str(&r.answers)
                .map_err(|_| corrupt("answers", &r.answers))?,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            village_id: r.village_id,
            village_name: r.village_name,
            grid_id: r.grid_id,
            household_id: r.household_id,
            resident_user_id: r.resident_user_id,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            contact_email: r.contact_email,
            department: r.department,
            cadre_user_id: r.cadre_user_id,
            cadre_name: r.cadre_name,
            reopen_count: r.reopen_count,
            merged_into: r.merged_into,
            reply: r.reply,
            rating: optional_code(r.rating)?,
            created_at: r.created_at,
            contact_due: r.contact_due,
            resolution_due: r.resolution_due,
            contacted_at: r.contacted_at,
            answered_at: r.answered_at,
            rated_at: r.rated_at,
            closed_at: r.closed_at,
            updated_at: r.updated_at,
        })
    }
}

/// Reads a row of [`APPEAL_SELECT`].
pub(crate) fn appeal_from(row: &DbRow) -> StoreResult<Appeal> {
    AppealRow::from_row(row).db()?.try_into()
}

/// A row of `appeal_events`.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    status_from: Option<String>,
    #[sqlx(try_from = "String")]
    status_to: AppealStatus,
    text: Option<String>,
    visible: i64,
}

/// Reads a row of `appeal_events`.
pub(crate) fn event_from(row: &DbRow) -> StoreResult<AppealEvent> {
    let r = EventRow::from_row(row).db()?;
    Ok(AppealEvent {
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        status_from: optional_code(r.status_from)?,
        status_to: r.status_to,
        text: r.text,
        visible: r.visible != 0,
    })
}

pub(crate) const FACTS_SELECT: &str = "SELECT status, reopen_count, department, cadre_user_id, contacted_at, answered_at, rated_at, closed_at, \
     reply, rating, merged_into, id, village_id, grid_id, category_code, created_at, contact_due, resolution_due, contact_lapsed, \
     resolution_lapsed FROM appeals";

/// The columns of [`FACTS_SELECT`] that make a case's facts.
#[derive(sqlx::FromRow)]
struct FactsRow {
    #[sqlx(try_from = "String")]
    status: AppealStatus,
    reopen_count: i64,
    department: Option<String>,
    cadre_user_id: Option<i64>,
    contacted_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    rated_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    reply: Option<String>,
    rating: Option<String>,
    merged_into: Option<i64>,
}

/// Reads a case's facts from a row of [`FACTS_SELECT`].
pub(crate) fn facts_from(row: &DbRow) -> StoreResult<CaseFacts> {
    let r = FactsRow::from_row(row).db()?;
    Ok(CaseFacts {
        status: r.status,
        reopen_count: u32::try_from(r.reopen_count).unwrap_or(u32::MAX),
        department: r.department,
        cadre: r.cadre_user_id,
        contacted_at: r.contacted_at,
        answered_at: r.answered_at,
        rated_at: r.rated_at,
        closed_at: r.closed_at,
        reply: r.reply,
        rating: optional_code(r.rating)?,
        merged_into: r.merged_into,
    })
}

/// Open cases (of alias `a`) past their contact deadline ($1) with the passing not yet recorded;
/// the terms match the partial index `appeals_contact_unlapsed_idx`.
pub(crate) const CONTACT_UNLAPSED: (&str, &str) = (
    "appeals_contact_unlapsed_idx",
    "a.contact_lapsed = 0 AND a.contacted_at IS NULL AND a.status NOT IN ('declined', 'merged') AND a.contact_due < $1",
);
/// The same for the resolution deadline.
pub(crate) const RESOLUTION_UNLAPSED: (&str, &str) = (
    "appeals_resolution_unlapsed_idx",
    "a.resolution_lapsed = 0 AND a.answered_at IS NULL AND a.status NOT IN ('declined', 'merged') AND a.resolution_due < $1",
);

/// `appeals a`, through the partial index where the backend needs telling (`NAME_PARTIAL_INDEX`).
pub(crate) fn appeals_through(index: &str) -> String {
    if NAME_PARTIAL_INDEX {
        format!("appeals a INDEXED BY {index}")
    } else {
        "appeals a".to_owned()
    }
}

/// Writes a case's new facts over `before`, moving its tally in the rates' counters with them.
pub(crate) async fn write_facts(
    tx: &mut DbConn,
    id: AppealId,
    s: &RateSubject,
    before: &CaseFacts,
    f: &CaseFacts,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    move_tallies(tx, s, Some((before, s.lapsed)), (f, s.lapsed)).await?;
    sqlx::query(
        "UPDATE appeals SET status = $1, reopen_count = $2, department = $3, cadre_user_id = $4, contacted_at = $5, \
         answered_at = $6, rated_at = $7, closed_at = $8, reply = $9, rating = $10, merged_into = $11, updated_at = $12 WHERE id = $13",
    )
    .bind(f.status.code())
    .bind(i64::from(f.reopen_count))
    .bind(&f.department)
    .bind(f.cadre)
    .bind(f.contacted_at)
    .bind(f.answered_at)
    .bind(f.rated_at)
    .bind(f.closed_at)
    .bind(&f.reply)
    .bind(f.rating.map(Rating::code))
    .bind(f.merged_into)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

/// Inserts a new case as submitted; returns its id and its answers as stored (JSON).
pub(crate) async fn insert_appeal(
    tx: &mut DbConn,
    a: &NewAppeal,
) -> StoreResult<(AppealId, String)> {
    insert_appeal_as(tx, a, INSERT_APPEAL, None).await
}

/// Inserts a new case with its submission event by `actor`, in one round trip.
pub(crate) async fn insert_submitted_appeal(
    tx: &mut DbConn,
    a: &NewAppeal,
    actor: &str,
) -> StoreResult<(AppealId, String)> {
    insert_appeal_as(tx, a, &insert_appeal_with_event(), Some(actor)).await
}

/// A new case's row; answers `id`. Its values are [`new_appeal_values`], `$1` first.
pub(crate) const INSERT_APPEAL: &str = "INSERT INTO appeals (category_code, urgency, channel, status, title, description, answers, address, latitude, \
     longitude, village_id, grid_id, household_id, resident_user_id, contact_name, contact_phone, department, \
     reopen_count, created_at, contact_due, resolution_due, updated_at, contact_email) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, $18, $19, $20, $21, $22) RETURNING id";

/// How many values [`INSERT_APPEAL`] takes.
pub(crate) const NEW_APPEAL_PARAMS: usize = 22;
/// The parameter of [`INSERT_APPEAL`] holding the new case's status.
const STATUS_PARAM: usize = 4;
/// The parameter of [`INSERT_APPEAL`] holding the time it was filed.
const CREATED_AT_PARAM: usize = 18;

/// A value bound to a parameter, of the kinds a new case's row holds. Both drivers bind it (sqlx,
/// and rusqlite on SQLite's direct path), so a row's values are listed once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SqlValue<'a> {
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// A real number or NULL.
    OptReal(Option<f64>),
    /// A time, stored as UTC.
    Time(DateTime<Utc>),
}

/// The values of [`INSERT_APPEAL`] for a case, `$1` first; `answers` is its answers as JSON.
pub(crate) fn new_appeal_values<'a>(
    a: &'a NewAppeal,
    answers: &'a str,
) -> [SqlValue<'a>; NEW_APPEAL_PARAMS] {
    use SqlValue::{OptInt, OptReal, OptText, Text, Time};
    [
        Text(&a.category),
        Text(a.urgency.code()),
        Text(a.channel.code()),
        Text(AppealStatus::Submitted.code()),
        Text(&a.title),
        Text(&a.description),
        Text(answers),
        Text(&a.address),
        OptReal(a.latitude),
        OptReal(a.longitude),
        OptInt(a.village_id),
        OptInt(a.grid_id),
        OptInt(a.household_id.map(HouseholdId::get)),
        OptInt(a.resident_user_id),
        Text(&a.contact_name),
        Text(&a.contact_phone),
        Text(&a.department),
        Time(a.created_at),
        Time(a.contact_due),
        Time(a.resolution_due),
        Time(a.created_at),
        OptText(a.contact_email.as_deref()),
    ]
}

/// [`INSERT_APPEAL`] followed, in the same statement, by the case's submission event, whose actor
/// is the parameter after the case's values.
pub(crate) fn insert_appeal_with_event() -> String {
    StoreImpl::insert_with_child(
        INSERT_APPEAL,
        "appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible)",
        &|id| {
            format!(
                "{id}, ${CREATED_AT_PARAM}, ${}, 'submit', NULL, ${STATUS_PARAM}, NULL, 1",
                NEW_APPEAL_PARAMS + 1
            )
        },
    )
}

pub(crate) async fn insert_appeal_as(
    tx: &mut DbConn,
    a: &NewAppeal,
    sql: &str,
    actor: Option<&str>,
) -> StoreResult<(AppealId, String)> {
    let answers = serde_json::to_string(&a.answers).map_err(StoreError::internal)?;
    let mut query = sqlx::query(sql);
    for value in new_appeal_values(a, &answers) {
        query = match value {
            SqlValue::Text(v) => query.bind(v),
            SqlValue::OptText(v) => query.bind(v),
            SqlValue::OptInt(v) => query.bind(v),
            SqlValue::OptReal(v) => query.bind(v),
            SqlValue::Time(v) => query.bind(v),
        };
    }
    if let Some(actor) = actor {
        query = query.bind(actor);
    }
    // Every statement runs only if the rows are all read.
    let rows = query.fetch_all(&mut *tx).await.db()?;
    let id = match rows.first() {
        Some(row) => <(AppealId,)>::from_row(row).db()?.0,
        None => return Err(StoreError::internal("no id for the new case")),
    };
    StoreImpl::add_tallies_at_commit(tx, new_case_tallies(a)).await?;
    Ok((id, answers))
}

/// A new case's first move in the rates' counters.
pub(crate) fn new_case_tallies(a: &NewAppeal) -> Vec<TallyRow> {
    tally_rows(
        &RateSubject::of_new(a),
        None,
        (
            &CaseFacts::new(Some(a.department.clone())),
            Lapsed::default(),
        ),
    )
}

/// The record's entry for a new case.
pub(crate) fn appeal_created_entry(
    actor: String,
    id: AppealId,
    a: &NewAppeal,
    answers: &str,
    photos: Vec<serde_json::Value>,
) -> NewAuditEntry {
    NewAuditEntry::new(
        actor,
        "appeal.create",
        format!("appeal:{id}"),
        format!("{} {}", appeal_number(id.0, a.created_at), a.category),
        &serde_json::json!({
            "category": a.category, "urgency": a.urgency.code(), "channel": a.channel.code(), "title": a.title,
            "description": a.description, "answers": answers, "address": a.address, "contact_name": a.contact_name,
            "contact_phone": a.contact_phone, "contact_email": a.contact_email, "household_id": a.household_id, "resident_user_id": a.resident_user_id,
            "photos": photos
        }),
    )
}

/// Files a case with photos the portable way: a statement at a time in the backend's write
/// transaction.
pub(crate) async fn create_appeal_portable(
    store: &StoreImpl,
    actor: String,
    a: NewAppeal,
    photos: Vec<NewPhoto>,
) -> StoreResult<Appeal> {
    write_tx!(store, |tx| {
        let (appeal, entry) = file_appeal(tx, &actor, a, &photos).await?;
        Ok((appeal, vec![entry]))
    })
}

/// Files a case with its photos inside a write, the portable way; answers it and its record entry.
pub(crate) async fn file_appeal(
    tx: &mut DbConn,
    actor: &str,
    a: NewAppeal,
    photos: &[NewPhoto],
) -> StoreResult<(Appeal, NewAuditEntry)> {
    let (id, answers) = insert_submitted_appeal(tx, &a, actor).await?;
    let recorded = insert_photos(tx, id, None, photos, a.created_at).await?;
    let village_name: Option<String> = match a.village_id {
        Some(v) => sqlx::query_scalar("SELECT name FROM villages WHERE id = $1")
            .bind(v)
            .fetch_optional(&mut *tx)
            .await
            .db()?,
        None => None,
    };
    let entry = appeal_created_entry(actor.to_string(), id, &a, &answers, recorded);
    Ok((Appeal::submitted(id, a, village_name), entry))
}

/// A new case's times as PostgreSQL keeps them (microseconds), so that the case answered is the
/// case stored on either database.
pub(crate) fn to_the_microsecond(mut a: NewAppeal) -> NewAppeal {
    for t in [&mut a.created_at, &mut a.contact_due, &mut a.resolution_due] {
        *t = chrono::SubsecRound::trunc_subsecs(*t, 6);
    }
    a
}

pub(crate) async fn appeal_in(tx: &mut DbConn, id: AppealId) -> StoreResult<Appeal> {
    let sql = format!("{APPEAL_SELECT} WHERE a.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("appeal {id}"),
        })?;
    appeal_from(&row)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
pub(crate) async fn insert_event(
    tx: &mut DbConn,
    appeal_id: AppealId,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    from: Option<AppealStatus>,
    to: AppealStatus,
    text: Option<&str>,
    visible: bool,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(appeal_id)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(from.map(AppealStatus::code))
    .bind(to.code())
    .bind(text)
    .bind(i64::from(visible))
    .fetch_one(&mut *tx)
    .await
    .db()
}

/// Stores photos of an appeal (or of one of its events); returns what the audit entry records.
pub(crate) async fn insert_photos(
    tx: &mut DbConn,
    appeal_id: AppealId,
    event_id: Option<i64>,
    photos: &[NewPhoto],
    at: DateTime<Utc>,
) -> StoreResult<Vec<serde_json::Value>> {
    let mut recorded = Vec::new();
    for p in photos {
        sqlx::query("INSERT INTO photos (appeal_id, event_id, token, content_type, bytes, original, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(appeal_id)
            .bind(event_id)
            .bind(&p.token)
            .bind(&p.content_type)
            // The column of the cleaned copy is left empty: a photo is kept once.
            .bind(Vec::<u8>::new())
            .bind(&p.original)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?;
        recorded.push(serde_json::json!({
            "content_type": p.content_type,
            "original_sha256": yongxin_domain::photo::sha256_hex(&p.original),
        }));
    }
    Ok(recorded)
}

pub(crate) const PHOTO_SELECT: &str = "SELECT id, appeal_id, event_id, token, content_type, CAST(LENGTH(original) AS BIGINT) AS size FROM photos";

/// A group's sums of the rates' counters, as `appeal_stats` reads them (NULL where a sum is of
/// nothing).
#[derive(sqlx::FromRow)]
struct RatesRow {
    k: String,
    label: String,
    total: Option<i64>,
    contact_due: Option<i64>,
    contacted_on_time: Option<i64>,
    resolution_due: Option<i64>,
    answered_on_time: Option<i64>,
    answered: Option<i64>,
    rated: Option<i64>,
    satisfied: Option<i64>,
}

/// A photo's row with its bytes.
#[derive(sqlx::FromRow)]
struct PhotoWithBytes {
    #[sqlx(flatten)]
    photo: PhotoRef,
    data: Vec<u8>,
}

pub(crate) fn push_appeal_filters(qb: &mut QueryBuilder<'static, Db>, q: &AppealQuery) {
    qb.push(" WHERE 1 = 1");
    match &q.scope {
        AppealScope::All => {}
        AppealScope::Village(v) => {
            qb.push(" AND a.village_id = ").push_bind(*v);
        }
        AppealScope::Cadre { grids, user_id } => {
            qb.push(" AND (a.cadre_user_id = ").push_bind(*user_id);
            if !grids.is_empty() {
                qb.push(" OR a.grid_id IN (");
                push_list(qb, grids.iter().copied());
                qb.push(")");
            }
            qb.push(")");
        }
        AppealScope::Resident {
            user_id,
            household_id,
        } => {
            qb.push(" AND (a.resident_user_id = ").push_bind(*user_id);
            if let Some(h) = household_id {
                qb.push(" OR a.household_id = ").push_bind(*h);
            }
            qb.push(")");
        }
    }
    if let Some(s) = q.status {
        qb.push(" AND a.status = ").push_bind(s.code());
    }
    if !q.statuses.is_empty() {
        qb.push(" AND a.status IN (");
        push_list(qb, q.statuses.iter().map(|s| s.code()));
        qb.push(")");
    }
    if let Some(c) = &q.category {
        qb.push(" AND a.category_code = ").push_bind(c.clone());
    }
    if let Some(v) = q.village_id {
        qb.push(" AND a.village_id = ").push_bind(v);
    }
    if let Some(from) = q.created_from {
        qb.push(" AND a.created_at >= ").push_bind(from);
    }
    if let Some(to) = q.created_before {
        qb.push(" AND a.created_at < ").push_bind(to);
    }
    if let Some(f) = &q.figure {
        super::scorecards::push_figure_filter(qb, f);
    }
    if let Some(t) = q.due_before {
        // The waiting statuses named, not the others excluded: the status index then finds them
        // among a million closed cases.
        qb.push(format!(
            " AND {} AND ((a.contacted_at IS NULL AND a.contact_due < ",
            super::scorecards::WAITING
        ))
        .push_bind(t)
        .push(") OR (a.answered_at IS NULL AND a.resolution_due < ")
        .push_bind(t)
        .push("))");
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = like_pattern(text);
        qb.push(" AND (a.title LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\'");
        qb.push(" OR a.description LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\'");
        qb.push(" OR a.address LIKE ")
            .push_bind(like)
            .push(" ESCAPE '\\')");
    }
}

#[async_trait]
impl AppealStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_appeal_with_photos(
        &self,
        actor: &Actor,
        a: NewAppeal,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Appeal> {
        let actor = actor.to_string();
        let a = to_the_microsecond(a);
        if photos.is_empty() {
            self.create_plain_appeal(actor, a).await
        } else {
            create_appeal_portable(self, actor, a, photos).await
        }
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn appeal(&self, id: AppealId) -> StoreResult<(Appeal, Vec<AppealEvent>)> {
        let sql = format!("{APPEAL_SELECT} WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("appeal {id}"),
            })?;
        let appeal = appeal_from(&row)?;
        let events = sqlx::query(
            "SELECT id, at, actor, action, status_from, status_to, text, visible FROM appeal_events WHERE appeal_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok((
            appeal,
            events.iter().map(event_from).collect::<StoreResult<_>>()?,
        ))
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn act_on_appeal_with_photos(
        &self,
        actor: &Actor,
        id: AppealId,
        action: AppealAction,
        policy: AppealPolicy,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Result<Appeal, AppealError>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let sql = format!("{FACTS_SELECT} WHERE id = $1{ROW_LOCK}");
            let row = sqlx::query(&sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("appeal {id}"),
                })?;
            let before = facts_from(&row)?;
            let mut facts = before.clone();
            let from = facts.status;
            let now = Utc::now();
            let transition = match facts.act(id.0, &action, &policy, now) {
                Ok(t) => t,
                Err(refused) => return Ok((Err(refused), Vec::new())),
            };
            write_facts(tx, id, &RateSubject::from_row(&row)?, &before, &facts, now).await?;
            let (text, visible) = action.event_text();
            let event_id = insert_event(
                tx,
                id,
                now,
                &actor,
                action.code(),
                Some(from),
                facts.status,
                text.as_deref(),
                visible,
            )
            .await?;
            let recorded = insert_photos(tx, id, Some(event_id), &photos, now).await?;
            let appeal = appeal_in(tx, id).await?;
            for notice in &transition.notices {
                let recipient = match notice {
                    AppealNotice::CadreAssigned => match appeal.cadre_user_id {
                        Some(c) => format!("user:{c}"),
                        None => continue,
                    },
                    _ => match &appeal.contact_email {
                        Some(email) => format!("email:{email}"),
                        None => format!("sms:{}", appeal.contact_phone),
                    },
                };
                let kind = serde_json::to_value(notice)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                sqlx::query(
                    "INSERT INTO outbox (appeal_id, kind, recipient, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $5)",
                )
                .bind(id)
                .bind(kind)
                .bind(recipient)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            let entry = NewAuditEntry::new(
                actor,
                format!("appeal.{}", action.code()),
                format!("appeal:{id}"),
                format!(
                    "{} {} → {}",
                    appeal.number,
                    from.code(),
                    facts.status.code()
                ),
                &serde_json::json!({ "action": action.code(), "from": from.code(), "to": facts.status.code(), "text": text, "visible": visible, "department": facts.department, "cadre": facts.cadre, "photos": recorded }),
            );
            Ok((Ok(appeal), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn import_appeals(
        &self,
        actor: &Actor,
        appeals: Vec<ImportedAppeal>,
        policy: AppealPolicy,
    ) -> StoreResult<u64> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let mut entries = Vec::with_capacity(appeals.len());
            for imported in appeals {
                let a = imported.appeal;
                let (id, _) = insert_appeal(tx, &a).await?;
                // The history is replayed through the lifecycle, so an import can hold nothing a
                // case could not have gone through. Its events go in with one statement.
                let fresh = CaseFacts::new(Some(a.department.clone()));
                let mut facts = fresh.clone();
                let mut last = a.created_at;
                let mut events = vec![(
                    a.created_at,
                    imported.submitted_by.clone(),
                    "submit",
                    None,
                    AppealStatus::Submitted,
                    None,
                    true,
                )];
                for (at, who, action) in &imported.history {
                    let from = facts.status;
                    facts
                        .act(id.0, action, &policy, *at)
                        .map_err(|e| StoreError::Invalid {
                            field: format!("history of {}", a.title),
                            reason: e.to_string(),
                        })?;
                    let (text, visible) = action.event_text();
                    events.push((
                        *at,
                        who.clone(),
                        action.code(),
                        Some(from),
                        facts.status,
                        text,
                        visible,
                    ));
                    last = *at;
                }
                let mut qb = QueryBuilder::<Db>::new("INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible) ");
                qb.push_values(
                    events,
                    |mut row, (at, who, action, from, to, text, visible)| {
                        row.push_bind(id)
                            .push_bind(at)
                            .push_bind(who)
                            .push_bind(action)
                            .push_bind(from.map(AppealStatus::code))
                            .push_bind(to.code())
                            .push_bind(text)
                            .push_bind(i64::from(visible));
                    },
                );
                qb.build().execute(&mut *tx).await.db()?;
                write_facts(tx, id, &RateSubject::of_new(&a), &fresh, &facts, last).await?;
                entries.push(NewAuditEntry::new(
                    actor.clone(),
                    "appeal.import",
                    format!("appeal:{id}"),
                    format!("{} {}", appeal_number(id.0, a.created_at), facts.status.code()),
                    &serde_json::json!({ "category": a.category, "title": a.title, "description": a.description, "status": facts.status.code(), "steps": imported.history.len() }),
                ));
            }
            let n = entries.len() as u64;
            Ok((n, entries))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn appeal_stats(
        &self,
        group: StatsGroup,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<StatsRow>> {
        let (dim, key) = rate_group_sql(group);
        let (label, join, order) = match group {
            StatsGroup::Village => ("COALESCE(v.name, '')", "LEFT JOIN villages v ON CAST(v.id AS TEXT) = t.k", "label, t.k"),
            // A grid is named with its village unless its own name already says it; grids follow
            // their codes (第一, 第二 … sort wrongly as text).
            StatsGroup::Grid => (
                "COALESCE(CASE WHEN g.name LIKE gv.name || '%' THEN g.name ELSE gv.name || ' ' || g.name END, '')",
                "LEFT JOIN grids g ON CAST(g.id AS TEXT) = t.k LEFT JOIN villages gv ON gv.id = g.village_id",
                "gv.name, g.code, t.k",
            ),
            StatsGroup::Category | StatsGroup::Department => ("t.k", "", "label, t.k"),
            StatsGroup::Cadre => ("COALESCE(u.display_name, '')", "LEFT JOIN users u ON CAST(u.id AS TEXT) = t.k", "label, t.k"),
        };
        // The kept counters of the period's days, then the cases whose deadline has passed since
        // the sweep last recorded lapsed deadlines, found through the partial indexes.
        let sql = format!(
            "SELECT t.*, {label} AS label FROM (SELECT r.key AS k, CAST(SUM(r.total) AS BIGINT) AS total, \
             CAST(SUM(r.contact_due) AS BIGINT) AS contact_due, CAST(SUM(r.contacted_on_time) AS BIGINT) AS contacted_on_time, \
             CAST(SUM(r.resolution_due) AS BIGINT) AS resolution_due, CAST(SUM(r.answered_on_time) AS BIGINT) AS answered_on_time, \
             CAST(SUM(r.answered) AS BIGINT) AS answered, CAST(SUM(r.rated) AS BIGINT) AS rated, CAST(SUM(r.satisfied) AS BIGINT) AS satisfied FROM appeal_rates r \
             WHERE r.dim = $1 AND r.day >= $2 AND r.day <= $3 GROUP BY r.key HAVING SUM(r.total) > 0) t {join} ORDER BY {order}"
        );
        let rows: Vec<RatesRow> = sqlx::query_as(&sql)
            .bind(dim)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let (start, end) = (
            yongxin_domain::calendar::start_of_day(from),
            yongxin_domain::calendar::start_of_day(to + chrono::Duration::days(1)),
        );
        let mut overdue: HashMap<String, (i64, i64)> = HashMap::new();
        for ((index, unlapsed), contact) in [(CONTACT_UNLAPSED, true), (RESOLUTION_UNLAPSED, false)]
        {
            let from = appeals_through(index);
            let sql = format!(
                "SELECT {key} AS k, COUNT(*) AS n FROM {from} WHERE {unlapsed} AND a.created_at >= $2 AND a.created_at < $3 GROUP BY {key}"
            );
            let counts: Vec<(String, i64)> = sqlx::query_as(&sql)
                .bind(now)
                .bind(start)
                .bind(end)
                .fetch_all(&self.pool)
                .await
                .db()?;
            for (k, n) in counts {
                let e = overdue.entry(k).or_default();
                if contact {
                    e.0 += n;
                } else {
                    e.1 += n;
                }
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let (contact_overdue, resolution_overdue) =
                    overdue.get(&r.k).copied().unwrap_or_default();
                let n = Option::unwrap_or_default;
                let kept = SettledTally {
                    total: n(r.total),
                    contact_due: n(r.contact_due),
                    contacted_on_time: n(r.contacted_on_time),
                    resolution_due: n(r.resolution_due),
                    answered_on_time: n(r.answered_on_time),
                    answered: n(r.answered),
                    rated: n(r.rated),
                    satisfied: n(r.satisfied),
                };
                StatsRow {
                    key: r.k,
                    label: r.label,
                    counts: kept.at(contact_overdue, resolution_overdue),
                }
            })
            .collect())
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn public_cases(
        &self,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        after: AppealId,
        limit: i64,
    ) -> StoreResult<Vec<yongxin_store::PublicCase>> {
        sqlx::query_as(
            "SELECT id, category_code, created_at, contact_due, contacted_at, resolution_due, answered_at, status, rating FROM appeals \
             WHERE created_at >= $1 AND created_at < $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(from)
        .bind(to)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn unrated_answered_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<AppealId>> {
        sqlx::query_scalar("SELECT id FROM appeals WHERE status = 'answered' AND answered_at < $1 ORDER BY id LIMIT $2")
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn search_appeals(&self, q: &AppealQuery) -> StoreResult<AppealPage> {
        // Confined to the cases still waiting (the overdue list, the supervision list): the page
        // is picked through the waiting cases' covering index and only its rows are read, where
        // the planner would read a hundred thousand waiting cases' rows to sort them.
        let waiting_only = q.due_before.is_some()
            || q.figure
                .as_ref()
                .is_some_and(|f| f.figure == yongxin_domain::scorecard::ScoreFigure::Overdue);
        let (rows, total, page, per_page) = if waiting_only {
            let from = format!("FROM {}", appeals_through("appeals_waiting_idx"));
            fetch_page_closed::<AppealRow>(
                &self.pool,
                (
                    &from,
                    &format!("{APPEAL_SELECT} WHERE a.id IN (SELECT a.id {from}"),
                    "a.id DESC",
                ),
                ") ORDER BY a.id DESC",
                |qb| push_appeal_filters(qb, q),
                (q.page, q.per_page),
            )
            .await?
        } else {
            fetch_page::<AppealRow>(
                &self.pool,
                ("FROM appeals a", APPEAL_SELECT, "a.id DESC"),
                |qb| push_appeal_filters(qb, q),
                (q.page, q.per_page),
            )
            .await?
        };
        Ok(AppealPage {
            appeals: rows
                .into_iter()
                .map(Appeal::try_from)
                .collect::<StoreResult<_>>()?,
            total,
            page,
            per_page,
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn photos_of_appeals(&self, appeal_ids: &[AppealId]) -> StoreResult<Vec<PhotoRef>> {
        if appeal_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(format!("{PHOTO_SELECT} WHERE appeal_id IN ("));
        push_list(&mut qb, appeal_ids.iter().copied());
        qb.push(") ORDER BY appeal_id, id");
        qb.build_query_as().fetch_all(&self.pool).await.db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn photo(&self, token: &str) -> StoreResult<Option<(PhotoRef, Vec<u8>)>> {
        let sql = "SELECT id, appeal_id, event_id, token, content_type, CAST(LENGTH(original) AS BIGINT) AS size, original AS data FROM photos WHERE token = $1";
        let Some(row) = sqlx::query(sql)
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .db()?
        else {
            return Ok(None);
        };
        let PhotoWithBytes { photo, data } = PhotoWithBytes::from_row(&row).db()?;
        Ok(Some((photo, data)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The numbers of the `$n` parameters a statement names.
    fn parameters(sql: &str) -> BTreeSet<usize> {
        let mut found = BTreeSet::new();
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            rest = &rest[at + 1..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                found.insert(n);
            }
        }
        found
    }

    #[test]
    fn a_new_case_binds_one_value_to_each_parameter_of_its_insert() {
        assert_eq!(
            parameters(INSERT_APPEAL),
            (1..=NEW_APPEAL_PARAMS).collect::<BTreeSet<_>>()
        );
        assert_eq!(
            parameters(&insert_appeal_with_event()),
            (1..=NEW_APPEAL_PARAMS + 1).collect::<BTreeSet<_>>(),
            "the event adds the actor and nothing else"
        );
    }

    #[test]
    fn the_event_reads_the_status_and_time_of_the_case() {
        let now = Utc::now();
        let a = NewAppeal {
            category: "road".into(),
            urgency: Urgency::Normal,
            channel: Channel::Web,
            title: "路灯".into(),
            description: "路灯不亮".into(),
            answers: Default::default(),
            address: "前街1号".into(),
            latitude: Some(36.1),
            longitude: None,
            village_id: Some(3),
            grid_id: None,
            household_id: Some(HouseholdId(9)),
            resident_user_id: None,
            contact_name: "张三".into(),
            contact_phone: "13912345678".into(),
            contact_email: Some("z@example.cn".into()),
            department: "城管办".into(),
            created_at: now,
            contact_due: now + chrono::Duration::hours(24),
            resolution_due: now + chrono::Duration::days(5),
        };
        let values = new_appeal_values(&a, "{}");
        assert_eq!(values[STATUS_PARAM - 1], SqlValue::Text("submitted"));
        assert_eq!(values[CREATED_AT_PARAM - 1], SqlValue::Time(now));
        assert_eq!(values[0], SqlValue::Text(a.category.as_str()));
        assert_eq!(
            values[NEW_APPEAL_PARAMS - 1],
            SqlValue::OptText(a.contact_email.as_deref())
        );
    }
}
