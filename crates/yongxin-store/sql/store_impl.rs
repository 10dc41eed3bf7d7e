// The SQL implementation of `Store` shared by the SQLite and PostgreSQL backends.
//
// This file is not a module of yongxin-store (which never names a database type): each backend
// crate `include!`s it after defining `Db` (its sqlx database), `StoreImpl` (its store type with a
// `pool` field), `read_audit_head` / `write_audit_head` (how a write reads the chain head, holding
// it until commit, and moves it), `insert_audit_rows` / `upsert_tallies` (how a write's audit rows
// and rates' counters are written: now, or with the rest of a group commit), `with_submission_event`
// (a new case's insert extended to write its submission event in the same round trip),
// `create_plain_appeal` (how a case without photos is filed; `create_appeal_portable` is the
// portable way), `ROW_LOCK` /
// `CLAIM_LOCK` (the locking suffixes of reads in a
// write), `NAME_PARTIAL_INDEX` (whether queries must name a partial index), `db_err` (its
// driver-error translation) and the macro `write_tx!(self, |conn| { … Ok((value, audit_entries)) })`,
// which runs the block on a connection inside a write transaction, appends the returned entries to
// the record with `append_audit`, commits, and yields the value. How it does so is the backend's
// business: PostgreSQL opens a transaction per call; SQLite hands the block to its group-commit
// writer. The SQL here is portable: `$n`
// placeholders, named constraints, explicit ORDER BY with a tiebreaker; what must differ lives in
// the backend's own lib.rs.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{QueryBuilder, Row};
use yongxin_domain::appeal::{
    appeal_number, tally_moves, AppealAction, AppealError, AppealPolicy, AppealStatus, CaseFacts,
    Channel, Lapsed, Notice as AppealNotice, Rating, SettledTally, Urgency,
};
use yongxin_domain::audit::GENESIS_HASH;
use yongxin_domain::catalogue::Category;
use yongxin_domain::registry::{flags_to_codes, parse_flags, Relation, Sex, VillageKind};
use yongxin_domain::roster::{HouseholdRecord, RegistryLookup};
use yongxin_domain::{AuditEntry, NewAuditEntry, Role, Scope};
use yongxin_store::{
    ApiToken, Appeal, AppealEvent, AppealPage, AppealQuery, AppealScope, AppealSearchDoc, Grid,
    HouseholdDetail, HouseholdPage, HouseholdQuery, HouseholdSummary, ImportSummary,
    ImportedAppeal, Member, NewAppeal, NewGrid, NewPhoto, NewUser, NewVillage, Open311Key,
    OutboxMessage, PhotoRef, PoolStats, RosterEntry, SignInFailures, StatsGroup, StatsRow, Store,
    StoreError, StoreResult, SupervisionNotice, User, Village,
};

type DbConn = <Db as sqlx::Database>::Connection;
type DbRow = <Db as sqlx::Database>::Row;

trait DbResult<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(db_err)
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("stored {what} not understood: {value}"))
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.village_id, u.household_id, u.email, u.disabled_at";

const HOUSEHOLD_SELECT: &str =
    "SELECT h.id, h.key, h.address, h.village_id, v.name AS village_name, h.grid_id, \
     g.name AS grid_name, COALESCE(r.name, '') AS head_name, r.phone AS head_phone, \
     COALESCE(r.id_number, '') AS head_id_number, \
     (SELECT COUNT(*) FROM residents m WHERE m.household_id = h.id) AS member_count \
     FROM households h JOIN villages v ON v.id = h.village_id JOIN grids g ON g.id = h.grid_id \
     LEFT JOIN residents r ON r.id = h.head_resident_id";

const GRID_SELECT: &str = "SELECT g.id, g.village_id, v.name AS village_name, g.code, g.name, g.cadre_user_id, \
     g.cadre_name, g.cadre_phone, (SELECT COUNT(*) FROM households h WHERE h.grid_id = g.id) AS household_count \
     FROM grids g JOIN villages v ON v.id = g.village_id";

const MEMBER_COLUMNS: &str =
    "r.id, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.relation, r.registered_since, r.flags";

fn user_from(row: &DbRow) -> StoreResult<User> {
    let role: String = row.try_get("role").db()?;
    Ok(User {
        id: row.try_get("id").db()?,
        username: row.try_get("username").db()?,
        display_name: row.try_get("display_name").db()?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        village_id: row.try_get("village_id").db()?,
        household_id: row.try_get("household_id").db()?,
        grid_ids: Vec::new(),
        email: row.try_get("email").db()?,
        disabled: row
            .try_get::<Option<DateTime<Utc>>, _>("disabled_at")
            .db()?
            .is_some(),
    })
}

/// Revokes every live API token of a user inside a write; how many.
async fn revoke_tokens_in(tx: &mut DbConn, user_id: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(Utc::now())
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(done.rows_affected())
}

fn grid_from(row: &DbRow) -> StoreResult<Grid> {
    Ok(Grid {
        id: row.try_get("id").db()?,
        village_id: row.try_get("village_id").db()?,
        village_name: row.try_get("village_name").db()?,
        code: row.try_get("code").db()?,
        name: row.try_get("name").db()?,
        cadre_user_id: row.try_get("cadre_user_id").db()?,
        cadre_name: row.try_get("cadre_name").db()?,
        cadre_phone: row.try_get("cadre_phone").db()?,
        household_count: row.try_get("household_count").db()?,
    })
}

fn household_from(row: &DbRow) -> StoreResult<HouseholdSummary> {
    Ok(HouseholdSummary {
        id: row.try_get("id").db()?,
        key: row.try_get("key").db()?,
        address: row.try_get("address").db()?,
        village_id: row.try_get("village_id").db()?,
        village_name: row.try_get("village_name").db()?,
        grid_id: row.try_get("grid_id").db()?,
        grid_name: row.try_get("grid_name").db()?,
        head_name: row.try_get("head_name").db()?,
        head_phone: row.try_get("head_phone").db()?,
        head_id_number: row.try_get("head_id_number").db()?,
        member_count: row.try_get("member_count").db()?,
    })
}

fn member_from(row: &DbRow) -> StoreResult<Member> {
    let sex: String = row.try_get("sex").db()?;
    let relation: String = row.try_get("relation").db()?;
    let flags: String = row.try_get("flags").db()?;
    Ok(Member {
        id: row.try_get("id").db()?,
        name: row.try_get("name").db()?,
        sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex", &sex))?,
        birth_date: row.try_get::<NaiveDate, _>("birth_date").db()?,
        id_number: row.try_get("id_number").db()?,
        phone: row.try_get("phone").db()?,
        relation: Relation::parse(&relation).ok_or_else(|| corrupt("relation", &relation))?,
        registered_since: row
            .try_get::<Option<NaiveDate>, _>("registered_since")
            .db()?,
        flags: parse_flags(&flags).map_err(|f| corrupt("flag", &f))?,
    })
}

fn audit_from(row: &DbRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq").db()?,
        at: row.try_get::<DateTime<Utc>, _>("at").db()?,
        actor: row.try_get("actor").db()?,
        action: row.try_get("action").db()?,
        entity: row.try_get("entity").db()?,
        summary: row.try_get("summary").db()?,
        digest: row.try_get("digest").db()?,
        prev_hash: row.try_get("prev_hash").db()?,
        hash: row.try_get("hash").db()?,
    })
}

/// Appends entries after the locked head, in the caller's transaction.
async fn append_audit(
    tx: &mut DbConn,
    entries: Vec<NewAuditEntry>,
) -> StoreResult<Vec<AuditEntry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let head = read_audit_head(tx).await?;
    let (sealed, (seq, hash)) = seal_entries(head, entries, Utc::now());
    insert_audit_rows(tx, &sealed).await?;
    write_audit_head(tx, seq, &hash).await?;
    Ok(sealed)
}

/// Seals entries onto the chain after `head`; answers them and the new head.
fn seal_entries(
    head: (i64, String),
    entries: Vec<NewAuditEntry>,
    at: DateTime<Utc>,
) -> (Vec<AuditEntry>, (i64, String)) {
    let (mut seq, mut prev) = head;
    let mut sealed = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let e = entry.seal(seq, at, &prev);
        prev.clone_from(&e.hash);
        sealed.push(e);
    }
    (sealed, (seq, prev))
}

/// Writes sealed audit entries, a thousand rows per statement.
async fn insert_audit_rows_now(tx: &mut DbConn, entries: &[AuditEntry]) -> StoreResult<()> {
    for chunk in entries.chunks(1000) {
        let mut qb = QueryBuilder::<Db>::new("INSERT INTO audit_log (seq, at, actor, action, entity, summary, digest, prev_hash, hash) ");
        qb.push_values(chunk, |mut row, e| {
            row.push_bind(e.seq)
                .push_bind(e.at)
                .push_bind(e.actor.as_str())
                .push_bind(e.action.as_str())
                .push_bind(e.entity.as_str())
                .push_bind(e.summary.as_str())
                .push_bind(e.digest.as_str())
                .push_bind(e.prev_hash.as_str())
                .push_bind(e.hash.as_str());
        });
        qb.build().execute(&mut *tx).await.db()?;
    }
    Ok(())
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn push_household_filters(qb: &mut QueryBuilder<'static, Db>, q: &HouseholdQuery) {
    qb.push(" WHERE 1 = 1");
    match &q.scope {
        Scope::Subdistrict => {}
        Scope::Village(v) => {
            qb.push(" AND h.village_id = ").push_bind(*v);
        }
        Scope::Grids(gs) => {
            qb.push(" AND h.grid_id IN (");
            let mut list = qb.separated(", ");
            for g in gs {
                list.push_bind(*g);
            }
            qb.push(")");
        }
        Scope::Household(h) => {
            qb.push(" AND h.id = ").push_bind(*h);
        }
        Scope::Nothing => {
            qb.push(" AND 1 = 0");
        }
    }
    if let Some(v) = q.village_id {
        qb.push(" AND h.village_id = ").push_bind(v);
    }
    if let Some(g) = q.grid_id {
        qb.push(" AND h.grid_id = ").push_bind(g);
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = like_pattern(text);
        qb.push(" AND (h.key = ").push_bind(text.to_owned());
        qb.push(" OR h.address LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\'");
        qb.push(" OR h.id IN (SELECT s.household_id FROM residents s WHERE s.name LIKE ")
            .push_bind(like)
            .push(" ESCAPE '\\'");
        let last4 = text.to_ascii_uppercase();
        if last4.len() == 4 && last4.bytes().all(|b| b.is_ascii_digit() || b == b'X') {
            qb.push(" OR s.id_last4 = ").push_bind(last4.clone());
            qb.push(" OR s.phone_last4 = ").push_bind(last4);
        }
        qb.push("))");
    }
}

const APPEAL_SELECT: &str = "SELECT a.id, a.category_code, a.urgency, a.channel, a.status, a.title, a.description, a.answers, \
     a.address, a.latitude, a.longitude, a.village_id, v.name AS village_name, a.grid_id, a.household_id, \
     a.resident_user_id, a.contact_name, a.contact_phone, a.contact_email, a.department, a.cadre_user_id, c.display_name AS cadre_name, \
     a.reopen_count, a.merged_into, a.reply, a.rating, a.created_at, a.contact_due, a.resolution_due, a.contacted_at, \
     a.answered_at, a.rated_at, a.closed_at, a.updated_at \
     FROM appeals a LEFT JOIN villages v ON v.id = a.village_id LEFT JOIN users c ON c.id = a.cadre_user_id";

fn appeal_from(row: &DbRow) -> StoreResult<Appeal> {
    let code = |col: &str| -> StoreResult<String> { row.try_get(col).db() };
    let urgency = code("urgency")?;
    let channel = code("channel")?;
    let status = code("status")?;
    let answers: String = code("answers")?;
    let rating: Option<String> = row.try_get("rating").db()?;
    let id: i64 = row.try_get("id").db()?;
    let created_at: DateTime<Utc> = row.try_get("created_at").db()?;
    Ok(Appeal {
        id,
        number: appeal_number(id, created_at),
        category: code("category_code")?,
        urgency: Urgency::parse(&urgency).ok_or_else(|| corrupt("urgency", &urgency))?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        status: AppealStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        title: code("title")?,
        description: code("description")?,
        answers: serde_json::from_str(&answers).map_err(|_| corrupt("answers", &answers))?,
        address: code("address")?,
        latitude: row.try_get("latitude").db()?,
        longitude: row.try_get("longitude").db()?,
        village_id: row.try_get("village_id").db()?,
        village_name: row.try_get("village_name").db()?,
        grid_id: row.try_get("grid_id").db()?,
        household_id: row.try_get("household_id").db()?,
        resident_user_id: row.try_get("resident_user_id").db()?,
        contact_name: code("contact_name")?,
        contact_phone: code("contact_phone")?,
        contact_email: row.try_get("contact_email").db()?,
        department: row.try_get("department").db()?,
        cadre_user_id: row.try_get("cadre_user_id").db()?,
        cadre_name: row.try_get("cadre_name").db()?,
        reopen_count: row.try_get("reopen_count").db()?,
        merged_into: row.try_get("merged_into").db()?,
        reply: row.try_get("reply").db()?,
        rating: match rating {
            Some(r) => Some(Rating::parse(&r).ok_or_else(|| corrupt("rating", &r))?),
            None => None,
        },
        created_at,
        contact_due: row.try_get("contact_due").db()?,
        resolution_due: row.try_get("resolution_due").db()?,
        contacted_at: row.try_get("contacted_at").db()?,
        answered_at: row.try_get("answered_at").db()?,
        rated_at: row.try_get("rated_at").db()?,
        closed_at: row.try_get("closed_at").db()?,
        updated_at: row.try_get("updated_at").db()?,
    })
}

fn open311_key_from(row: &DbRow) -> StoreResult<Open311Key> {
    Ok(Open311Key {
        id: row.try_get("id").db()?,
        name: row.try_get("name").db()?,
        created_by: row.try_get("created_by").db()?,
        created_at: row.try_get("created_at").db()?,
        revoked_at: row.try_get("revoked_at").db()?,
    })
}

fn event_from(row: &DbRow) -> StoreResult<AppealEvent> {
    let from: Option<String> = row.try_get("status_from").db()?;
    let to: String = row.try_get("status_to").db()?;
    let visible: i64 = row.try_get("visible").db()?;
    Ok(AppealEvent {
        id: row.try_get("id").db()?,
        at: row.try_get("at").db()?,
        actor: row.try_get("actor").db()?,
        action: row.try_get("action").db()?,
        status_from: match from {
            Some(f) => Some(AppealStatus::parse(&f).ok_or_else(|| corrupt("status", &f))?),
            None => None,
        },
        status_to: AppealStatus::parse(&to).ok_or_else(|| corrupt("status", &to))?,
        text: row.try_get("text").db()?,
        visible: visible != 0,
    })
}

const FACTS_SELECT: &str = "SELECT status, reopen_count, department, cadre_user_id, contacted_at, answered_at, rated_at, closed_at, \
     reply, rating, merged_into, id, village_id, grid_id, category_code, created_at, contact_due, resolution_due, contact_lapsed, \
     resolution_lapsed FROM appeals";

/// What of a case places it in the three rates' counters and does not change as it is handled.
struct RateSubject {
    village_id: Option<i64>,
    grid_id: Option<i64>,
    category: String,
    created_at: DateTime<Utc>,
    contact_due: DateTime<Utc>,
    resolution_due: DateTime<Utc>,
    lapsed: Lapsed,
}

impl RateSubject {
    fn of_new(a: &NewAppeal) -> Self {
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
    fn from_row(row: &DbRow) -> StoreResult<Self> {
        Ok(Self {
            village_id: row.try_get("village_id").db()?,
            grid_id: row.try_get("grid_id").db()?,
            category: row.try_get("category_code").db()?,
            created_at: row.try_get("created_at").db()?,
            contact_due: row.try_get("contact_due").db()?,
            resolution_due: row.try_get("resolution_due").db()?,
            lapsed: Lapsed {
                contact: row.try_get::<i64, _>("contact_lapsed").db()? != 0,
                resolution: row.try_get::<i64, _>("resolution_lapsed").db()? != 0,
            },
        })
    }

    /// The case's key under each of `RATE_GROUPS`, as the `key` column and `rate_key_sql` spell it.
    fn keys(&self, f: &CaseFacts) -> [String; 5] {
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
const RATE_GROUPS: [StatsGroup; 5] = [
    StatsGroup::Village,
    StatsGroup::Grid,
    StatsGroup::Category,
    StatsGroup::Department,
    StatsGroup::Cadre,
];

/// A group's `dim` code and the SQL that spells an appeal's key in it (`a.` columns).
fn rate_group_sql(group: StatsGroup) -> (&'static str, &'static str) {
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
async fn move_tallies(
    tx: &mut DbConn,
    s: &RateSubject,
    before: Option<(&CaseFacts, Lapsed)>,
    after: (&CaseFacts, Lapsed),
) -> StoreResult<()> {
    let rows = tally_rows(s, before, after);
    if rows.is_empty() {
        return Ok(());
    }
    upsert_tallies(tx, rows).await
}

/// The counter rows a move of a case's tally changes, with the difference to each.
fn tally_rows(
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
type TallyRow = (&'static str, String, NaiveDate, SettledTally);

/// Adds differences to the rates' counters, a thousand rows per statement; no two rows may name
/// the same counter row (PostgreSQL refuses to change a row twice in one statement).
async fn upsert_tallies_now(tx: &mut DbConn, rows: &[TallyRow]) -> StoreResult<()> {
    for chunk in rows.chunks(1000) {
        upsert_tally_chunk(tx, chunk).await?;
    }
    Ok(())
}

async fn upsert_tally_chunk(tx: &mut DbConn, rows: &[TallyRow]) -> StoreResult<()> {
    let mut qb = QueryBuilder::<Db>::new(
        "INSERT INTO appeal_rates (dim, key, day, total, contact_due, contacted_on_time, resolution_due, answered_on_time, rated, satisfied) ",
    );
    qb.push_values(rows, |mut row, (dim, key, day, d)| {
        row.push_bind(*dim)
            .push_bind(key.as_str())
            .push_bind(*day)
            .push_bind(d.total)
            .push_bind(d.contact_due)
            .push_bind(d.contacted_on_time)
            .push_bind(d.resolution_due)
            .push_bind(d.answered_on_time)
            .push_bind(d.rated)
            .push_bind(d.satisfied);
    });
    qb.push(
        " ON CONFLICT (dim, key, day) DO UPDATE SET total = appeal_rates.total + excluded.total, \
         contact_due = appeal_rates.contact_due + excluded.contact_due, \
         contacted_on_time = appeal_rates.contacted_on_time + excluded.contacted_on_time, \
         resolution_due = appeal_rates.resolution_due + excluded.resolution_due, \
         answered_on_time = appeal_rates.answered_on_time + excluded.answered_on_time, \
         rated = appeal_rates.rated + excluded.rated, satisfied = appeal_rates.satisfied + excluded.satisfied",
    );
    qb.build().execute(&mut *tx).await.db()?;
    Ok(())
}

fn facts_from(row: &DbRow) -> StoreResult<CaseFacts> {
    let status: String = row.try_get("status").db()?;
    let rating: Option<String> = row.try_get("rating").db()?;
    let reopen_count: i64 = row.try_get("reopen_count").db()?;
    Ok(CaseFacts {
        status: AppealStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        reopen_count: u32::try_from(reopen_count).unwrap_or(u32::MAX),
        department: row.try_get("department").db()?,
        cadre: row.try_get("cadre_user_id").db()?,
        contacted_at: row.try_get("contacted_at").db()?,
        answered_at: row.try_get("answered_at").db()?,
        rated_at: row.try_get("rated_at").db()?,
        closed_at: row.try_get("closed_at").db()?,
        reply: row.try_get("reply").db()?,
        rating: match rating {
            Some(r) => Some(Rating::parse(&r).ok_or_else(|| corrupt("rating", &r))?),
            None => None,
        },
        merged_into: row.try_get("merged_into").db()?,
    })
}

/// Open cases (of alias `a`) past their contact deadline ($1) with the passing not yet recorded;
/// the terms match the partial index `appeals_contact_unlapsed_idx`.
const CONTACT_UNLAPSED: (&str, &str) = (
    "appeals_contact_unlapsed_idx",
    "a.contact_lapsed = 0 AND a.contacted_at IS NULL AND a.status NOT IN ('declined', 'merged') AND a.contact_due < $1",
);
/// The same for the resolution deadline.
const RESOLUTION_UNLAPSED: (&str, &str) = (
    "appeals_resolution_unlapsed_idx",
    "a.resolution_lapsed = 0 AND a.answered_at IS NULL AND a.status NOT IN ('declined', 'merged') AND a.resolution_due < $1",
);

/// `appeals a`, through the partial index where the backend needs telling (`NAME_PARTIAL_INDEX`).
fn appeals_through(index: &str) -> String {
    if NAME_PARTIAL_INDEX {
        format!("appeals a INDEXED BY {index}")
    } else {
        "appeals a".to_owned()
    }
}

/// Writes a case's new facts over `before`, moving its tally in the rates' counters with them.
async fn write_facts(
    tx: &mut DbConn,
    id: i64,
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

const SUPERVISION_SELECT: &str =
    "SELECT id, appeal_id, issued_by, issued_at, due_at, text, answered_by, answered_at, answer FROM supervision_notices";

fn supervision_from(row: &DbRow) -> StoreResult<SupervisionNotice> {
    Ok(SupervisionNotice {
        id: row.try_get("id").db()?,
        appeal_id: row.try_get("appeal_id").db()?,
        issued_by: row.try_get("issued_by").db()?,
        issued_at: row.try_get("issued_at").db()?,
        due_at: row.try_get("due_at").db()?,
        text: row.try_get("text").db()?,
        answered_by: row.try_get("answered_by").db()?,
        answered_at: row.try_get("answered_at").db()?,
        answer: row.try_get("answer").db()?,
    })
}

async fn supervision_in(tx: &mut DbConn, id: i64) -> StoreResult<SupervisionNotice> {
    let sql = format!("{SUPERVISION_SELECT} WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("supervision notice {id}"),
        })?;
    supervision_from(&row)
}

/// Inserts a new case as submitted; returns its id and its answers as stored (JSON).
async fn insert_appeal(tx: &mut DbConn, a: &NewAppeal) -> StoreResult<(i64, String)> {
    insert_appeal_as(tx, a, INSERT_APPEAL, None).await
}

/// Inserts a new case with its submission event by `actor`, in one round trip (the event's SQL is
/// the backend's `with_submission_event`, reading the case's parameters $4 and $18 and `actor` as $23).
async fn insert_submitted_appeal(
    tx: &mut DbConn,
    a: &NewAppeal,
    actor: &str,
) -> StoreResult<(i64, String)> {
    insert_appeal_as(tx, a, &with_submission_event(INSERT_APPEAL), Some(actor)).await
}

/// A new case's row; answers `id`.
const INSERT_APPEAL: &str = "INSERT INTO appeals (category_code, urgency, channel, status, title, description, answers, address, latitude, \
     longitude, village_id, grid_id, household_id, resident_user_id, contact_name, contact_phone, department, \
     reopen_count, created_at, contact_due, resolution_due, updated_at, contact_email) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, $18, $19, $20, $21, $22) RETURNING id";

async fn insert_appeal_as(
    tx: &mut DbConn,
    a: &NewAppeal,
    sql: &str,
    actor: Option<&str>,
) -> StoreResult<(i64, String)> {
    let answers =
        serde_json::to_string(&a.answers).map_err(|e| StoreError::Internal(e.to_string()))?;
    let mut query = sqlx::query(sql)
        .bind(&a.category)
        .bind(a.urgency.code())
        .bind(a.channel.code())
        .bind(AppealStatus::Submitted.code())
        .bind(&a.title)
        .bind(&a.description)
        .bind(&answers)
        .bind(&a.address)
        .bind(a.latitude)
        .bind(a.longitude)
        .bind(a.village_id)
        .bind(a.grid_id)
        .bind(a.household_id)
        .bind(a.resident_user_id)
        .bind(&a.contact_name)
        .bind(&a.contact_phone)
        .bind(&a.department)
        .bind(a.created_at)
        .bind(a.contact_due)
        .bind(a.resolution_due)
        .bind(a.created_at)
        .bind(&a.contact_email);
    if let Some(actor) = actor {
        query = query.bind(actor);
    }
    // Every statement runs only if the rows are all read.
    let rows = query.fetch_all(&mut *tx).await.db()?;
    let id: i64 = rows
        .first()
        .ok_or_else(|| StoreError::Internal("no id for the new case".into()))?
        .try_get("id")
        .db()?;
    upsert_tallies(tx, new_case_tallies(a)).await?;
    Ok((id, answers))
}

/// A new case's first move in the rates' counters.
fn new_case_tallies(a: &NewAppeal) -> Vec<TallyRow> {
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
fn appeal_created_entry(
    actor: String,
    id: i64,
    a: &NewAppeal,
    answers: &str,
    photos: Vec<serde_json::Value>,
) -> NewAuditEntry {
    NewAuditEntry::new(
        actor,
        "appeal.create",
        format!("appeal:{id}"),
        format!("{} {}", appeal_number(id, a.created_at), a.category),
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
async fn create_appeal_portable(
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
async fn file_appeal(
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
    let entry = appeal_created_entry(actor.to_owned(), id, &a, &answers, recorded);
    Ok((Appeal::submitted(id, a, village_name), entry))
}

/// A new case's times as PostgreSQL keeps them (microseconds), so that the case answered is the
/// case stored on either database.
fn to_the_microsecond(mut a: NewAppeal) -> NewAppeal {
    for t in [&mut a.created_at, &mut a.contact_due, &mut a.resolution_due] {
        *t = chrono::SubsecRound::trunc_subsecs(*t, 6);
    }
    a
}

async fn appeal_in(tx: &mut DbConn, id: i64) -> StoreResult<Appeal> {
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
async fn insert_event(
    tx: &mut DbConn,
    appeal_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    from: Option<AppealStatus>,
    to: AppealStatus,
    text: Option<&str>,
    visible: bool,
) -> StoreResult<i64> {
    sqlx::query(
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
    .db()?
    .try_get("id")
    .db()
}

/// Stores photos of an appeal (or of one of its events); returns what the audit entry records.
async fn insert_photos(
    tx: &mut DbConn,
    appeal_id: i64,
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

const PHOTO_SELECT: &str = "SELECT id, appeal_id, event_id, token, content_type, CAST(LENGTH(original) AS BIGINT) AS size FROM photos";

fn photo_from(row: &DbRow) -> StoreResult<PhotoRef> {
    Ok(PhotoRef {
        id: row.try_get("id").db()?,
        appeal_id: row.try_get("appeal_id").db()?,
        event_id: row.try_get("event_id").db()?,
        token: row.try_get("token").db()?,
        content_type: row.try_get("content_type").db()?,
        size: row.try_get("size").db()?,
    })
}

fn push_appeal_filters(qb: &mut QueryBuilder<'static, Db>, q: &AppealQuery) {
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
                let mut list = qb.separated(", ");
                for g in grids {
                    list.push_bind(*g);
                }
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
        let mut list = qb.separated(", ");
        for s in &q.statuses {
            list.push_bind(s.code());
        }
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
    if let Some(t) = q.due_before {
        qb.push(" AND a.status NOT IN ('declined', 'closed', 'merged', 'answered') AND ((a.contacted_at IS NULL AND a.contact_due < ")
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

/// One page of a filtered search: the total over all pages, then the rows of the page asked for
/// (page from 1, at most 500 rows). `sql` is (the FROM clause the count uses, the full SELECT, the
/// ORDER BY terms); `filters` appends the same WHERE clause to both.
async fn fetch_page<T>(
    pool: &sqlx::Pool<Db>,
    sql: (&str, &str, &str),
    filters: impl Fn(&mut QueryBuilder<'static, Db>),
    (page, per_page): (i64, i64),
    map: fn(&DbRow) -> StoreResult<T>,
) -> StoreResult<(Vec<T>, i64, i64, i64)> {
    let (from, select_sql, order) = sql;
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let mut count = QueryBuilder::<Db>::new(format!("SELECT COUNT(*) AS n {from}"));
    filters(&mut count);
    let total: i64 = count
        .build()
        .fetch_one(pool)
        .await
        .db()?
        .try_get("n")
        .db()?;
    let mut select = QueryBuilder::<Db>::new(select_sql);
    filters(&mut select);
    select
        .push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(per_page)
        .push(" OFFSET ")
        .push_bind((page - 1) * per_page);
    let rows = select.build().fetch_all(pool).await.db()?;
    Ok((
        rows.iter().map(map).collect::<StoreResult<_>>()?,
        total,
        page,
        per_page,
    ))
}

impl StoreImpl {
    async fn load_grid_ids(&self, mut user: User) -> StoreResult<User> {
        user.grid_ids = sqlx::query("SELECT id FROM grids WHERE cadre_user_id = $1 ORDER BY id")
            .bind(user.id)
            .fetch_all(&self.pool)
            .await
            .db()?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<_, _>>()
            .db()?;
        Ok(user)
    }

    async fn user_where(
        &self,
        sql_tail: &str,
        value: &str,
        now: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} {sql_tail}");
        let mut query = sqlx::query(&sql).bind(value.to_owned());
        if let Some(now) = now {
            query = query.bind(now);
        }
        match query.fetch_optional(&self.pool).await.db()? {
            Some(row) => Ok(Some(self.load_grid_ids(user_from(&row)?).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl Store for StoreImpl {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
        Ok(())
    }

    async fn subdistrict(&self) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT name FROM subdistrict WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|r| r.try_get("name")).transpose().db()
    }

    async fn set_subdistrict(&self, actor: &str, name: &str) -> StoreResult<()> {
        let (actor, name) = (actor.to_owned(), name.to_owned());
        write_tx!(self, |tx| {
            sqlx::query(
                    "INSERT INTO subdistrict (id, name) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                )
                .bind(&name)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "subdistrict.set",
                "subdistrict:1",
                name.clone(),
                &serde_json::json!({ "name": name }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn create_village(&self, actor: &str, v: NewVillage) -> StoreResult<Village> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO villages (code, name, kind) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&v.code)
            .bind(&v.name)
            .bind(v.kind.code())
            .fetch_one(&mut *tx)
            .await
            .db()?
            .try_get("id")
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "village.create",
                format!("village:{id}"),
                format!("{} {}", v.code, v.name),
                &serde_json::json!({ "code": v.code, "name": v.name, "kind": v.kind.code() }),
            );
            let village = Village {
                id,
                code: v.code,
                name: v.name,
                kind: v.kind,
                grid_count: 0,
                household_count: 0,
                resident_count: 0,
            };
            Ok((village, vec![entry]))
        })
    }

    async fn create_grid(&self, actor: &str, g: NewGrid) -> StoreResult<Grid> {
        let actor = actor.to_owned();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query(
                        "INSERT INTO grids (village_id, code, name, cadre_name, cadre_phone) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(g.village_id)
                    .bind(&g.code)
                    .bind(&g.name)
                    .bind(&g.cadre_name)
                    .bind(&g.cadre_phone)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?
                    .try_get("id")
                    .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "grid.create",
                format!("grid:{id}"),
                format!("{} {}", g.code, g.name),
                &serde_json::json!({ "village_id": g.village_id, "code": g.code, "name": g.name, "cadre_name": g.cadre_name, "cadre_phone": g.cadre_phone }),
            );
            Ok((id, vec![entry]))
        })?;
        let sql = format!("{GRID_SELECT} WHERE g.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .db()?;
        grid_from(&row)
    }

    async fn assign_grid_cadre(&self, actor: &str, grid_id: i64, user_id: i64) -> StoreResult<()> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE grids SET cadre_user_id = $1 WHERE id = $2")
                .bind(user_id)
                .bind(grid_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("grid {grid_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "grid.assign_cadre",
                format!("grid:{grid_id}"),
                format!("user:{user_id}"),
                &serde_json::json!({ "user_id": user_id }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn villages(&self) -> StoreResult<Vec<Village>> {
        let rows = sqlx::query(
            "SELECT v.id, v.code, v.name, v.kind, \
             (SELECT COUNT(*) FROM grids g WHERE g.village_id = v.id) AS grid_count, \
             (SELECT COUNT(*) FROM households h WHERE h.village_id = v.id) AS household_count, \
             (SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id WHERE h.village_id = v.id) AS resident_count \
             FROM villages v ORDER BY v.code, v.id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").db()?;
                Ok(Village {
                    id: row.try_get("id").db()?,
                    code: row.try_get("code").db()?,
                    name: row.try_get("name").db()?,
                    kind: VillageKind::parse(&kind)
                        .ok_or_else(|| corrupt("village kind", &kind))?,
                    grid_count: row.try_get("grid_count").db()?,
                    household_count: row.try_get("household_count").db()?,
                    resident_count: row.try_get("resident_count").db()?,
                })
            })
            .collect()
    }

    async fn grids(&self, village_id: Option<i64>) -> StoreResult<Vec<Grid>> {
        let rows = match village_id {
            Some(v) => {
                let sql = format!("{GRID_SELECT} WHERE g.village_id = $1 ORDER BY g.code, g.id");
                sqlx::query(&sql).bind(v).fetch_all(&self.pool).await
            }
            None => {
                let sql = format!("{GRID_SELECT} ORDER BY g.code, g.id");
                sqlx::query(&sql).fetch_all(&self.pool).await
            }
        }
        .db()?;
        rows.iter().map(grid_from).collect()
    }

    async fn registry_lookup(&self) -> StoreResult<RegistryLookup> {
        let mut lookup = RegistryLookup::default();
        for row in sqlx::query("SELECT id, code, name FROM villages ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .db()?
        {
            let id: i64 = row.try_get("id").db()?;
            lookup.villages.insert(row.try_get("code").db()?, id);
            lookup.villages.insert(row.try_get("name").db()?, id);
        }
        for row in sqlx::query("SELECT id, village_id, code, name FROM grids ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .db()?
        {
            let id: i64 = row.try_get("id").db()?;
            let village: i64 = row.try_get("village_id").db()?;
            lookup
                .grids
                .insert((village, row.try_get("code").db()?), id);
            lookup
                .grids
                .insert((village, row.try_get("name").db()?), id);
        }
        for row in sqlx::query("SELECT r.id_number, h.key FROM residents r JOIN households h ON h.id = r.household_id ORDER BY r.id")
            .fetch_all(&self.pool)
            .await
            .db()?
        {
            lookup.registered_ids.insert(row.try_get("id_number").db()?, row.try_get("key").db()?);
        }
        Ok(lookup)
    }

    async fn import_households(
        &self,
        actor: &str,
        households: &[HouseholdRecord],
    ) -> StoreResult<ImportSummary> {
        let actor = actor.to_owned();
        let households = households.to_vec();
        write_tx!(self, |tx| {
            let now = Utc::now();
            let mut summary = ImportSummary::default();
            let mut ids = Vec::with_capacity(households.len());
            // First every household row, emptied of members, so a resident may move between
            // households of the same roster without tripping the unique identity number.
            for h in &households {
                let existing = sqlx::query("SELECT id FROM households WHERE key = $1")
                    .bind(&h.key)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
                let id: i64 = match existing {
                    Some(row) => {
                        let id: i64 = row.try_get("id").db()?;
                        sqlx::query("UPDATE households SET village_id = $1, grid_id = $2, address = $3, head_resident_id = NULL, updated_at = $4 WHERE id = $5")
                                .bind(h.village_id)
                                .bind(h.grid_id)
                                .bind(&h.address)
                                .bind(now)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .db()?;
                        sqlx::query("DELETE FROM residents WHERE household_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .db()?;
                        summary.households_updated += 1;
                        id
                    }
                    None => {
                        summary.households_created += 1;
                        sqlx::query(
                                "INSERT INTO households (key, village_id, grid_id, address, created_at, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                            )
                            .bind(&h.key)
                            .bind(h.village_id)
                            .bind(h.grid_id)
                            .bind(&h.address)
                            .bind(now)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await
                            .db()?
                            .try_get("id")
                            .db()?
                    }
                };
                ids.push(id);
            }
            let mut entries = Vec::with_capacity(households.len());
            for (h, id) in households.iter().zip(ids) {
                let mut head_id: Option<i64> = None;
                let mut changed = Vec::with_capacity(h.members.len());
                for (position, m) in h.members.iter().enumerate() {
                    let phone = m.phone.as_ref().map(|p| p.as_str().to_owned());
                    let phone_last4 = m.phone.as_ref().map(|p| p.last4().to_owned());
                    let flags = flags_to_codes(&m.flags);
                    let resident_id: i64 = sqlx::query(
                            "INSERT INTO residents (household_id, position, name, sex, birth_date, id_number, id_last4, phone, \
                             phone_last4, relation, registered_since, flags) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                        )
                        .bind(id)
                        .bind(position as i64)
                        .bind(&m.name)
                        .bind(m.sex.code())
                        .bind(m.birth_date)
                        .bind(m.id_number.as_str())
                        .bind(m.id_number.last4())
                        .bind(&phone)
                        .bind(&phone_last4)
                        .bind(m.relation.code())
                        .bind(m.registered_since)
                        .bind(&flags)
                        .fetch_one(&mut *tx)
                        .await
                        .db()?
                        .try_get("id")
                        .db()?;
                    if m.relation == Relation::Head && head_id.is_none() {
                        head_id = Some(resident_id);
                    }
                    summary.residents += 1;
                    changed.push(serde_json::json!([
                        m.name,
                        m.sex.code(),
                        m.birth_date.to_string(),
                        m.id_number.as_str(),
                        phone,
                        m.relation.code(),
                        m.registered_since.map(|d| d.to_string()),
                        flags
                    ]));
                }
                sqlx::query("UPDATE households SET head_resident_id = $1 WHERE id = $2")
                    .bind(head_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                entries.push(NewAuditEntry::new(
                    actor.clone(),
                    "household.import",
                    format!("household:{id}"),
                    format!("{} ({})", h.key, h.members.len()),
                    &serde_json::json!({
                        "key": h.key, "village_id": h.village_id, "grid_id": h.grid_id,
                        "address": h.address, "members": changed
                    }),
                ));
            }
            Ok((summary, entries))
        })
    }

    async fn search_households(&self, q: &HouseholdQuery) -> StoreResult<HouseholdPage> {
        let (households, total, page, per_page) = fetch_page(
            &self.pool,
            ("FROM households h", HOUSEHOLD_SELECT, "h.key, h.id"),
            |qb| push_household_filters(qb, q),
            (q.page, q.per_page),
            household_from,
        )
        .await?;
        Ok(HouseholdPage {
            households,
            total,
            page,
            per_page,
        })
    }

    async fn household(&self, id: i64) -> StoreResult<HouseholdDetail> {
        let sql = format!("{HOUSEHOLD_SELECT} WHERE h.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("household {id}"),
            })?;
        let summary = household_from(&row)?;
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM residents r WHERE r.household_id = $1 ORDER BY r.position, r.id");
        let members = sqlx::query(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let members = members
            .iter()
            .map(member_from)
            .collect::<StoreResult<_>>()?;
        let sql = format!("{GRID_SELECT} WHERE g.id = $1");
        let grid = grid_from(
            &sqlx::query(&sql)
                .bind(summary.grid_id)
                .fetch_one(&self.pool)
                .await
                .db()?,
        )?;
        Ok(HouseholdDetail {
            summary,
            members,
            grid,
        })
    }

    async fn roster(&self) -> StoreResult<Vec<RosterEntry>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, h.key AS household_key, v.name AS village_name, g.code AS grid_code, h.address \
             FROM residents r JOIN households h ON h.id = r.household_id JOIN villages v ON v.id = h.village_id \
             JOIN grids g ON g.id = h.grid_id ORDER BY h.key, h.id, r.position, r.id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        rows.iter()
            .map(|row| {
                Ok(RosterEntry {
                    household_key: row.try_get("household_key").db()?,
                    village_name: row.try_get("village_name").db()?,
                    grid_code: row.try_get("grid_code").db()?,
                    address: row.try_get("address").db()?,
                    member: member_from(row)?,
                })
            })
            .collect()
    }

    async fn create_user(&self, actor: &str, u: NewUser) -> StoreResult<User> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query(
                    "INSERT INTO users (username, display_name, role, password_hash, village_id, household_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&u.username)
                .bind(&u.display_name)
                .bind(u.role.code())
                .bind(&u.password_hash)
                .bind(u.village_id)
                .bind(u.household_id)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("id")
                .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "user.create",
                format!("user:{id}"),
                format!("{} ({})", u.username, u.role.code()),
                &serde_json::json!({ "username": u.username, "display_name": u.display_name, "role": u.role.code(), "village_id": u.village_id, "household_id": u.household_id }),
            );
            let user = User {
                id,
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                village_id: u.village_id,
                household_id: u.household_id,
                grid_ids: vec![],
                email: None,
                disabled: false,
            };
            Ok((user, vec![entry]))
        })
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        // A disabled account signs in with no password.
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1 AND u.disabled_at IS NULL");
        let Some(row) = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .db()?
        else {
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash").db()?;
        Ok(Some((self.load_grid_ids(user_from(&row)?).await?, hash)))
    }

    async fn set_password(
        &self,
        actor: &str,
        user_id: i64,
        password_hash: &str,
    ) -> StoreResult<()> {
        let (actor, hash) = (actor.to_owned(), password_hash.to_owned());
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            // Every session and API token of the user ends with the old password.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "user.set_password",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "tokens_revoked": revoked }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn set_user_email(
        &self,
        actor: &str,
        user_id: i64,
        email: Option<&str>,
    ) -> StoreResult<()> {
        let (actor, email) = (actor.to_owned(), email.map(str::to_owned));
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(&email)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "user.set_email",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "email": email }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        match sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
        {
            Some(row) => Ok(Some(self.load_grid_ids(user_from(&row)?).await?)),
            None => Ok(None),
        }
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username, u.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        let mut grids: HashMap<i64, Vec<i64>> = HashMap::new();
        for row in sqlx::query(
            "SELECT id, cadre_user_id FROM grids WHERE cadre_user_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?
        {
            grids
                .entry(row.try_get("cadre_user_id").db()?)
                .or_default()
                .push(row.try_get("id").db()?);
        }
        rows.iter()
            .map(|r| {
                let mut u = user_from(r)?;
                u.grid_ids = grids.remove(&u.id).unwrap_or_default();
                Ok(u)
            })
            .collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        write_tx!(self, |tx| {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(&token_hash)
                .bind(user_id)
                .bind(Utc::now())
                .bind(expires_at)
                .execute(&mut *tx)
                .await
                .db()?;
            // Expired sessions are swept as new ones open, so the table never grows without bound.
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.user_where("FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL", token_hash, Some(now))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&token_hash)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn create_api_token(
        &self,
        actor: &str,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (actor, hash) = (actor.to_owned(), token_hash.to_owned());
        write_tx!(self, |tx| {
            // A disabled account gets none: enabling it again must not bring one to life.
            let inserted = sqlx::query(
                "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) \
                 SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND disabled_at IS NULL",
            )
            .bind(&hash)
            .bind(user_id)
            .bind(Utc::now())
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::Invalid {
                    field: "user".into(),
                    reason: format!("user {user_id} does not exist or is disabled"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "user.create_token",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "token_hash": hash, "expires_at": expires_at }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.user_where(
            "FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
            token_hash,
            Some(now),
        )
        .await
    }

    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, token_hash")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    created_at: r.try_get("created_at").db()?,
                    expires_at: r.try_get("expires_at").db()?,
                    revoked_at: r.try_get("revoked_at").db()?,
                })
            })
            .collect()
    }

    async fn live_api_token_counts(&self, now: DateTime<Utc>) -> StoreResult<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT user_id, COUNT(*) FROM api_tokens \
             WHERE revoked_at IS NULL AND expires_at > $1 GROUP BY user_id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().collect())
    }

    async fn revoke_api_tokens(&self, actor: &str, user_id: i64) -> StoreResult<u64> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "user.revoke_tokens",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "revoked": revoked }),
            );
            Ok((revoked, vec![entry]))
        })
    }

    async fn set_user_disabled(
        &self,
        actor: &str,
        user_id: i64,
        disabled: bool,
    ) -> StoreResult<()> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let at = disabled.then(Utc::now);
            let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
                .bind(at)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            let mut revoked = 0;
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            }
            let action = if disabled {
                "user.disable"
            } else {
                "user.enable"
            };
            let entry = NewAuditEntry::new(
                actor,
                action,
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "tokens_revoked": revoked }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn server_secret(&self, name: &str) -> StoreResult<String> {
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        match row {
            Some(r) => r.try_get("value").db(),
            None => Err(StoreError::NotFound {
                what: format!("server secret {name}"),
            }),
        }
    }

    async fn sign_in_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<SignInFailures> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last_at FROM sign_in_failures WHERE username = $1 AND address = $2 AND at > $3",
        )
        .bind(username)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(SignInFailures {
            count: row.try_get("n").db()?,
            last_at: row.try_get::<Option<DateTime<Utc>>, _>("last_at").db()?,
        })
    }

    async fn record_sign_in_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (username, address) = (username.to_owned(), address.to_owned());
        write_tx!(self, |tx| {
            sqlx::query("INSERT INTO sign_in_failures (username, address, at) VALUES ($1, $2, $3)")
                .bind(&username)
                .bind(&address)
                .bind(at)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn clear_sign_in_failures(&self, username: &str, address: &str) -> StoreResult<()> {
        let (username, address) = (username.to_owned(), address.to_owned());
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sign_in_failures WHERE username = $1 AND address = $2")
                .bind(&username)
                .bind(&address)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn categories(&self) -> StoreResult<Vec<(Category, bool)>> {
        let rows =
            sqlx::query("SELECT code, definition, active FROM categories ORDER BY position, code")
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.iter()
            .map(|r| {
                let definition: String = r.try_get("definition").db()?;
                let active: i64 = r.try_get("active").db()?;
                let category: Category = serde_json::from_str(&definition)
                    .map_err(|_| corrupt("category", &definition))?;
                Ok((category, active != 0))
            })
            .collect()
    }

    async fn save_category(
        &self,
        actor: &str,
        category: &Category,
        position: i64,
        active: bool,
    ) -> StoreResult<()> {
        let actor = actor.to_owned();
        let definition =
            serde_json::to_string(category).map_err(|e| StoreError::Internal(e.to_string()))?;
        let code = category.code.clone();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO categories (code, position, definition, active) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET position = excluded.position, definition = excluded.definition, active = excluded.active",
            )
            .bind(&code)
            .bind(position)
            .bind(&definition)
            .bind(i64::from(active))
            .execute(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "category.save",
                format!("category:{code}"),
                code.clone(),
                &serde_json::json!({ "definition": definition, "position": position, "active": active }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn calendar_years(&self) -> StoreResult<Vec<(i32, String)>> {
        let rows = sqlx::query("SELECT year, source FROM calendar_years ORDER BY year")
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter()
            .map(|r| {
                let year: i64 = r.try_get("year").db()?;
                Ok((
                    i32::try_from(year).map_err(|_| corrupt("year", &year.to_string()))?,
                    r.try_get("source").db()?,
                ))
            })
            .collect()
    }

    async fn save_calendar_year(&self, actor: &str, year: i32, source: &str) -> StoreResult<()> {
        let (actor, source) = (actor.to_owned(), source.to_owned());
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO calendar_years (year, source, loaded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = excluded.loaded_at",
            )
            .bind(i64::from(year))
            .bind(&source)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "calendar.load",
                format!("calendar:{year}"),
                year.to_string(),
                &serde_json::json!({ "source": source }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn create_appeal_with_photos(
        &self,
        actor: &str,
        a: NewAppeal,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Appeal> {
        let actor = actor.to_owned();
        let a = to_the_microsecond(a);
        if photos.is_empty() {
            create_plain_appeal(self, actor, a).await
        } else {
            create_appeal_portable(self, actor, a, photos).await
        }
    }

    async fn appeal(&self, id: i64) -> StoreResult<(Appeal, Vec<AppealEvent>)> {
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

    async fn act_on_appeal_with_photos(
        &self,
        actor: &str,
        id: i64,
        action: AppealAction,
        policy: AppealPolicy,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Result<Appeal, AppealError>> {
        let actor = actor.to_owned();
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
            let transition = match facts.act(id, &action, &policy, now) {
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

    async fn import_appeals(
        &self,
        actor: &str,
        appeals: Vec<ImportedAppeal>,
        policy: AppealPolicy,
    ) -> StoreResult<u64> {
        let actor = actor.to_owned();
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
                        .act(id, action, &policy, *at)
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
                    format!("{} {}", appeal_number(id, a.created_at), facts.status.code()),
                    &serde_json::json!({ "category": a.category, "title": a.title, "description": a.description, "status": facts.status.code(), "steps": imported.history.len() }),
                ));
            }
            let n = entries.len() as u64;
            Ok((n, entries))
        })
    }

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
             CAST(SUM(r.rated) AS BIGINT) AS rated, CAST(SUM(r.satisfied) AS BIGINT) AS satisfied FROM appeal_rates r \
             WHERE r.dim = $1 AND r.day >= $2 AND r.day <= $3 GROUP BY r.key HAVING SUM(r.total) > 0) t {join} ORDER BY {order}"
        );
        let rows = sqlx::query(&sql)
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
            for r in sqlx::query(&sql)
                .bind(now)
                .bind(start)
                .bind(end)
                .fetch_all(&self.pool)
                .await
                .db()?
            {
                let n: i64 = r.try_get("n").db()?;
                let e = overdue.entry(r.try_get("k").db()?).or_default();
                if contact {
                    e.0 += n;
                } else {
                    e.1 += n;
                }
            }
        }
        rows.iter()
            .map(|r| {
                let n = |c: &str| -> StoreResult<i64> {
                    r.try_get::<Option<i64>, _>(c).db().map(|v| v.unwrap_or(0))
                };
                let key: String = r.try_get("k").db()?;
                let (contact_overdue, resolution_overdue) =
                    overdue.get(&key).copied().unwrap_or_default();
                let kept = SettledTally {
                    total: n("total")?,
                    contact_due: n("contact_due")?,
                    contacted_on_time: n("contacted_on_time")?,
                    resolution_due: n("resolution_due")?,
                    answered_on_time: n("answered_on_time")?,
                    rated: n("rated")?,
                    satisfied: n("satisfied")?,
                };
                Ok(StatsRow {
                    key,
                    label: r.try_get("label").db()?,
                    counts: kept.at(contact_overdue, resolution_overdue),
                })
            })
            .collect()
    }

    async fn card_candidates(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(Appeal, Vec<(String, String)>)>> {
        let mut found: std::collections::BTreeMap<i64, Appeal> = std::collections::BTreeMap::new();
        // A deadline whose red card has been announced has nothing more to announce, so each pass
        // reads only the cases still approaching or newly past a deadline.
        for (index, waiting, deadline) in [
            ("appeals_uncontacted_due_idx", "a.contacted_at IS NULL AND a.cadre_user_id IS NOT NULL AND a.contact_due >= $1 AND a.contact_due < $2", "contact"),
            ("appeals_unanswered_due_idx", "a.answered_at IS NULL AND a.cadre_user_id IS NOT NULL AND a.resolution_due >= $1 AND a.resolution_due < $2", "resolution"),
        ] {
            let select = APPEAL_SELECT.replace("FROM appeals a", &format!("FROM {}", appeals_through(index)));
            let sql = format!(
                "{select} WHERE {waiting} AND a.status NOT IN ('answered', 'closed', 'declined', 'merged') \
                 AND NOT EXISTS (SELECT 1 FROM card_notices n WHERE n.appeal_id = a.id AND n.deadline = '{deadline}' AND n.card = 'red')"
            );
            for row in sqlx::query(&sql).bind(from).bind(until).fetch_all(&self.pool).await.db()? {
                let a = appeal_from(&row)?;
                found.insert(a.id, a);
            }
        }
        let mut had: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        let ids: Vec<i64> = found.keys().copied().collect();
        for chunk in ids.chunks(500) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT appeal_id, deadline, card FROM card_notices WHERE appeal_id IN (",
            );
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            qb.push(")");
            for row in qb.build().fetch_all(&self.pool).await.db()? {
                had.entry(row.try_get("appeal_id").db()?)
                    .or_default()
                    .push((row.try_get("deadline").db()?, row.try_get("card").db()?));
            }
        }
        Ok(found
            .into_values()
            .map(|a| {
                let h = had.remove(&a.id).unwrap_or_default();
                (a, h)
            })
            .collect())
    }

    async fn notify_card(
        &self,
        appeal_id: i64,
        deadline: &str,
        card: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if !matches!(deadline, "contact" | "resolution") || !matches!(card, "yellow" | "red") {
            return Err(StoreError::Invalid {
                field: "card".into(),
                reason: format!("{deadline} {card}"),
            });
        }
        let (deadline, card) = (deadline.to_owned(), card.to_owned());
        write_tx!(self, |tx| {
            let cadre: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT cadre_user_id FROM appeals WHERE id = $1{ROW_LOCK}"
            ))
            .bind(appeal_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?
            .flatten();
            let Some(cadre) = cadre else {
                return Ok((false, Vec::new()));
            };
            let recorded = sqlx::query(
                "INSERT INTO card_notices (appeal_id, deadline, card, noticed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (appeal_id, deadline, card) DO NOTHING",
            )
            .bind(appeal_id)
            .bind(&deadline)
            .bind(&card)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if recorded == 0 {
                return Ok((false, Vec::new()));
            }
            sqlx::query("INSERT INTO outbox (appeal_id, kind, recipient, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $5)")
                .bind(appeal_id)
                .bind(format!("cadre_{card}_card"))
                .bind(format!("user:{cadre}"))
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                "system:cards",
                "appeal.card",
                format!("appeal:{appeal_id}"),
                format!("{card} {deadline}"),
                &serde_json::json!({ "deadline": deadline, "card": card, "cadre": cadre }),
            );
            Ok((true, vec![entry]))
        })
    }

    async fn lapse_deadlines(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut recorded = 0;
        loop {
            // A few hundred at a time, so no write holds the lock for long.
            let n: u64 = write_tx!(self, |tx| {
                let mut n = 0;
                for ((index, unlapsed), column) in [
                    (CONTACT_UNLAPSED, "contact_lapsed"),
                    (RESOLUTION_UNLAPSED, "resolution_lapsed"),
                ] {
                    let facts_from_index = FACTS_SELECT
                        .replace("FROM appeals", &format!("FROM {}", appeals_through(index)));
                    let sql = format!("{facts_from_index} WHERE {unlapsed} LIMIT 300{CLAIM_LOCK}");
                    let rows = sqlx::query(&sql).bind(now).fetch_all(&mut *tx).await.db()?;
                    if rows.is_empty() {
                        continue;
                    }
                    let mut qb = QueryBuilder::<Db>::new(format!(
                        "UPDATE appeals SET {column} = 1 WHERE id IN ("
                    ));
                    let mut ids = qb.separated(", ");
                    for row in &rows {
                        let subject = RateSubject::from_row(row)?;
                        let facts = facts_from(row)?;
                        let mut lapsed = subject.lapsed;
                        if column == "contact_lapsed" {
                            lapsed.contact = true;
                        } else {
                            lapsed.resolution = true;
                        }
                        move_tallies(
                            tx,
                            &subject,
                            Some((&facts, subject.lapsed)),
                            (&facts, lapsed),
                        )
                        .await?;
                        ids.push_bind(row.try_get::<i64, _>("id").db()?);
                        n += 1;
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await.db()?;
                }
                Ok((n, Vec::new()))
            })?;
            if n == 0 {
                return Ok(recorded);
            }
            recorded += n;
        }
    }

    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        write_tx!(self, |tx| {
            let sql = format!(
                "UPDATE outbox SET next_attempt_at = $1 WHERE id IN \
                 (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $2 ORDER BY id LIMIT $3{CLAIM_LOCK}) \
                 RETURNING id, appeal_id, kind, recipient, attempts"
            );
            let rows = sqlx::query(&sql)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await
                .db()?;
            let mut messages = rows
                .iter()
                .map(|r| {
                    Ok(OutboxMessage {
                        id: r.try_get("id").db()?,
                        appeal_id: r.try_get("appeal_id").db()?,
                        kind: r.try_get("kind").db()?,
                        recipient: r.try_get("recipient").db()?,
                        attempts: r.try_get("attempts").db()?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            messages.sort_by_key(|m| m.id);
            Ok((messages, Vec::new()))
        })
    }

    async fn message_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        write_tx!(self, |tx| {
            sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn message_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(500).collect();
        write_tx!(self, |tx| {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(&error)
                .bind(retry_at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    async fn pending_messages(&self) -> StoreResult<i64> {
        sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .db()?
            .try_get("n")
            .db()
    }

    async fn unrated_answered_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM appeals WHERE status = 'answered' AND answered_at < $1 ORDER BY id LIMIT $2")
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(|r| r.try_get("id").db()).collect()
    }

    async fn issue_supervision(
        &self,
        actor: &str,
        appeal_id: i64,
        text: &str,
        due_at: DateTime<Utc>,
    ) -> StoreResult<SupervisionNotice> {
        let (actor, text) = (actor.to_owned(), text.to_owned());
        write_tx!(self, |tx| {
            let appeal = appeal_in(tx, appeal_id).await?;
            let now = Utc::now();
            let id: i64 = sqlx::query("INSERT INTO supervision_notices (appeal_id, issued_by, issued_at, due_at, text) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(appeal_id)
                .bind(&actor)
                .bind(now)
                .bind(due_at)
                .bind(&text)
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("id")
                .db()?;
            if let Some(cadre) = appeal.cadre_user_id {
                sqlx::query("INSERT INTO outbox (appeal_id, kind, recipient, created_at, attempts, next_attempt_at) VALUES ($1, 'cadre_supervised', $2, $3, 0, $4)")
                    .bind(appeal_id)
                    .bind(format!("user:{cadre}"))
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            let notice = supervision_in(tx, id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "supervision.issue",
                format!("appeal:{appeal_id}"),
                format!("{} 督办 #{id}", appeal.number),
                &serde_json::json!({ "notice": id, "text": text, "due_at": due_at.to_rfc3339() }),
            );
            Ok((notice, vec![entry]))
        })
    }

    async fn answer_supervision(
        &self,
        actor: &str,
        notice_id: i64,
        answer: &str,
    ) -> StoreResult<SupervisionNotice> {
        let (actor, answer) = (actor.to_owned(), answer.to_owned());
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE supervision_notices SET answered_by = $1, answered_at = $2, answer = $3 WHERE id = $4 AND answered_at IS NULL")
                .bind(&actor)
                .bind(Utc::now())
                .bind(&answer)
                .bind(notice_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let notice = supervision_in(tx, notice_id).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict {
                    what: format!("answer of supervision notice {notice_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "supervision.answer",
                format!("appeal:{}", notice.appeal_id),
                format!("督办 #{notice_id}"),
                &serde_json::json!({ "notice": notice_id, "answer": answer }),
            );
            Ok((notice, vec![entry]))
        })
    }

    async fn supervision_notices(&self, appeal_id: i64) -> StoreResult<Vec<SupervisionNotice>> {
        let sql = format!("{SUPERVISION_SELECT} WHERE appeal_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(appeal_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(supervision_from).collect()
    }

    async fn open_supervision_notices(&self, limit: i64) -> StoreResult<Vec<SupervisionNotice>> {
        let sql =
            format!("{SUPERVISION_SELECT} WHERE answered_at IS NULL ORDER BY due_at, id LIMIT $1");
        let rows = sqlx::query(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(supervision_from).collect()
    }

    async fn case_marks(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<yongxin_domain::hot::CaseMark>> {
        let rows = sqlx::query(
            "SELECT a.id, a.created_at, a.category_code, v.name AS village_name, a.household_id, a.address, a.status \
             FROM appeals a LEFT JOIN villages v ON v.id = a.village_id WHERE a.created_at >= $1 ORDER BY a.id LIMIT 200000",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status").db()?;
                Ok(yongxin_domain::hot::CaseMark {
                    id: r.try_get("id").db()?,
                    created_at: r.try_get("created_at").db()?,
                    category: r.try_get("category_code").db()?,
                    village: r.try_get("village_name").db()?,
                    household_id: r.try_get("household_id").db()?,
                    address: r.try_get("address").db()?,
                    open: AppealStatus::parse(&status)
                        .is_some_and(|s| s.is_open() && s != AppealStatus::Answered),
                })
            })
            .collect()
    }

    async fn search_appeals(&self, q: &AppealQuery) -> StoreResult<AppealPage> {
        let (appeals, total, page, per_page) = fetch_page(
            &self.pool,
            ("FROM appeals a", APPEAL_SELECT, "a.id DESC"),
            |qb| push_appeal_filters(qb, q),
            (q.page, q.per_page),
            appeal_from,
        )
        .await?;
        Ok(AppealPage {
            appeals,
            total,
            page,
            per_page,
        })
    }

    async fn record(&self, entries: Vec<NewAuditEntry>) -> StoreResult<Vec<AuditEntry>> {
        // Appended here rather than returned, because the caller wants the sealed entries back.
        write_tx!(self, |tx| {
            let sealed = append_audit(tx, entries).await?;
            Ok((sealed, Vec::new()))
        })
    }

    async fn audit_entries(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, entity, summary, digest, prev_hash, hash FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(audit_from).collect()
    }

    async fn recent_audit_entries(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, entity, summary, digest, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .db()?;
        let seq: i64 = row.try_get("seq").db()?;
        let hash: String = row.try_get("hash").db()?;
        Ok((seq > 0 || hash != GENESIS_HASH).then_some((seq, hash)))
    }

    async fn create_open311_key(
        &self,
        actor: &str,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<Open311Key> {
        let (actor, name, hash) = (actor.to_owned(), name.to_owned(), key_hash.to_owned());
        write_tx!(self, |tx| {
            let now = Utc::now();
            let id: i64 = sqlx::query("INSERT INTO open311_keys (name, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(&name)
                .bind(&hash)
                .bind(&actor)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("id")
                .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "open311.key_add",
                format!("open311_key:{id}"),
                name.clone(),
                &serde_json::json!({ "name": name, "key_hash": hash }),
            );
            Ok((
                Open311Key {
                    id,
                    name: name.clone(),
                    created_by: actor.clone(),
                    created_at: now,
                    revoked_at: None,
                },
                vec![entry],
            ))
        })
    }

    async fn open311_keys(&self) -> StoreResult<Vec<Open311Key>> {
        let rows = sqlx::query("SELECT id, name, created_by, created_at, revoked_at FROM open311_keys ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(open311_key_from).collect()
    }

    async fn open311_key(&self, key_hash: &str) -> StoreResult<Option<Open311Key>> {
        let row = sqlx::query("SELECT id, name, created_by, created_at, revoked_at FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(open311_key_from).transpose()
    }

    async fn revoke_open311_key(&self, actor: &str, id: i64) -> StoreResult<()> {
        let actor = actor.to_owned();
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE open311_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(Utc::now())
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound {
                    what: format!("open311 key {id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor.clone(),
                "open311.key_revoke",
                format!("open311_key:{id}"),
                "",
                &serde_json::json!({ "id": id }),
            );
            Ok(((), vec![entry]))
        })
    }

    async fn photos_of_appeals(&self, appeal_ids: &[i64]) -> StoreResult<Vec<PhotoRef>> {
        if appeal_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(format!("{PHOTO_SELECT} WHERE appeal_id IN ("));
        let mut ids = qb.separated(", ");
        for id in appeal_ids {
            ids.push_bind(*id);
        }
        qb.push(") ORDER BY appeal_id, id");
        let rows = qb.build().fetch_all(&self.pool).await.db()?;
        rows.iter().map(photo_from).collect()
    }

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
        Ok(Some((photo_from(&row)?, row.try_get("data").db()?)))
    }

    async fn appeal_changes(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<(Vec<i64>, Option<(i64, String)>)> {
        let rows = sqlx::query(
            "SELECT seq, entity, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut ids = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last = None;
        for row in &rows {
            let seq: i64 = row.try_get("seq").db()?;
            let entity: String = row.try_get("entity").db()?;
            if let Some(id) = entity
                .strip_prefix("appeal:")
                .and_then(|id| id.parse::<i64>().ok())
            {
                if seen.insert(id) {
                    ids.push(id);
                }
            }
            last = Some((seq, row.try_get("hash").db()?));
        }
        Ok((ids, last))
    }

    async fn appeal_ids_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM appeals WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(|r| r.try_get("id").db()).collect()
    }

    async fn appeals_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Appeal>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<'static, Db> = QueryBuilder::new(APPEAL_SELECT);
        qb.push(" WHERE a.id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&self.pool).await.db()?;
        let mut found: HashMap<i64, Appeal> = HashMap::new();
        for row in &rows {
            let appeal = appeal_from(row)?;
            found.insert(appeal.id, appeal);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn appeal_search_docs(&self, ids: &[i64]) -> StoreResult<Vec<AppealSearchDoc>> {
        let appeals = self.appeals_by_ids(ids).await?;
        if appeals.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<'static, Db> =
            QueryBuilder::new("SELECT appeal_id, actor, action, text, visible FROM appeal_events WHERE (text IS NOT NULL OR action = 'submit') AND appeal_id IN (");
        let mut list = qb.separated(", ");
        for a in &appeals {
            list.push_bind(a.id);
        }
        qb.push(") ORDER BY id");
        let rows = qb.build().fetch_all(&self.pool).await.db()?;
        let mut notes: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
        let mut submitters: HashMap<i64, String> = HashMap::new();
        for row in &rows {
            let id: i64 = row.try_get("appeal_id").db()?;
            let action: String = row.try_get("action").db()?;
            if action == "submit" {
                submitters.insert(id, row.try_get("actor").db()?);
            }
            let Some(text): Option<String> = row.try_get("text").db()? else {
                continue;
            };
            let visible: i64 = row.try_get("visible").db()?;
            let entry = notes.entry(id).or_default();
            if visible != 0 {
                entry.0.push(text)
            } else {
                entry.1.push(text)
            }
        }
        Ok(appeals
            .into_iter()
            .map(|appeal| {
                let (public_notes, internal_notes) = notes.remove(&appeal.id).unwrap_or_default();
                AppealSearchDoc {
                    submitted_by: submitters.remove(&appeal.id).unwrap_or_default(),
                    appeal,
                    public_notes,
                    internal_notes,
                }
            })
            .collect())
    }
}
