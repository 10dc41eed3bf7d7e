//! The registry in SQL: the subdistrict, villages, grids, households and their members.

use super::push_list;
use super::{corrupt, fetch_page, like_pattern, Db, DbResult, DbRow};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use sqlx::{FromRow, QueryBuilder};
use yongxin_domain::registry::{flags_to_codes, parse_flags, Relation, Sex};
use yongxin_domain::roster::{HouseholdRecord, RegistryLookup};
use yongxin_domain::Actor;
use yongxin_domain::{IdNumber, NewAuditEntry, Phone, Scope};
use yongxin_store::HouseholdId;
use yongxin_store::RegistryStore;
use yongxin_store::{
    Grid, HouseholdDetail, HouseholdPage, HouseholdQuery, HouseholdSummary, ImportSummary, Member,
    NewGrid, NewVillage, RosterEntry, StoreError, StoreResult, Village,
};

use crate::dialect::write_tx;

pub(crate) const HOUSEHOLD_SELECT: &str =
    "SELECT h.id, h.key, h.address, h.village_id, v.name AS village_name, h.grid_id, \
     g.name AS grid_name, COALESCE(r.name, '') AS head_name, r.phone AS head_phone, \
     r.id_number AS head_id_number, \
     (SELECT COUNT(*) FROM residents m WHERE m.household_id = h.id) AS member_count \
     FROM households h JOIN villages v ON v.id = h.village_id JOIN grids g ON g.id = h.grid_id \
     LEFT JOIN residents r ON r.id = h.head_resident_id";

pub(crate) const GRID_SELECT: &str = "SELECT g.id, g.village_id, v.name AS village_name, g.code, g.name, g.cadre_user_id, \
     g.cadre_name, g.cadre_phone, (SELECT COUNT(*) FROM households h WHERE h.grid_id = g.id) AS household_count \
     FROM grids g JOIN villages v ON v.id = g.village_id";

pub(crate) const MEMBER_COLUMNS: &str =
    "r.id, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.relation, r.registered_since, r.flags";

/// A member's row of `MEMBER_COLUMNS`, codes as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    id: i64,
    name: String,
    sex: String,
    birth_date: NaiveDate,
    id_number: String,
    phone: Option<String>,
    relation: String,
    registered_since: Option<NaiveDate>,
    flags: String,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(r: MemberRow) -> StoreResult<Self> {
        Ok(Member {
            id: r.id,
            name: r.name,
            sex: Sex::parse(&r.sex).ok_or_else(|| corrupt("sex", &r.sex))?,
            birth_date: r.birth_date,
            id_number: stored_id_number(&r.id_number)?,
            phone: r.phone.as_deref().map(stored_phone).transpose()?,
            relation: Relation::parse(&r.relation)
                .ok_or_else(|| corrupt("relation", &r.relation))?,
            registered_since: r.registered_since,
            flags: parse_flags(&r.flags).map_err(|f| corrupt("flag", &f))?,
        })
    }
}

/// An identity number as stored: checked when it was written, so one that does not read is a
/// fault. The message names the field, never the number.
fn stored_id_number(text: &str) -> StoreResult<IdNumber> {
    IdNumber::parse(text).map_err(|_| corrupt("identity number", "(not shown)"))
}

/// A phone number as stored, checked like [`stored_id_number`].
fn stored_phone(text: &str) -> StoreResult<Phone> {
    Phone::parse(text).map_err(|_| corrupt("phone number", "(not shown)"))
}

/// A row of `HOUSEHOLD_SELECT`, the head's numbers as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct HouseholdRow {
    id: HouseholdId,
    key: String,
    address: String,
    village_id: i64,
    village_name: String,
    grid_id: i64,
    grid_name: String,
    head_name: String,
    head_phone: Option<String>,
    head_id_number: Option<String>,
    member_count: i64,
}

/// Reads a row of `HOUSEHOLD_SELECT` among other columns.
pub(crate) fn household_from(row: &DbRow) -> StoreResult<HouseholdSummary> {
    HouseholdRow::from_row(row).db()?.try_into()
}

impl TryFrom<HouseholdRow> for HouseholdSummary {
    type Error = StoreError;

    fn try_from(r: HouseholdRow) -> StoreResult<Self> {
        Ok(HouseholdSummary {
            id: r.id,
            key: r.key,
            address: r.address,
            village_id: r.village_id,
            village_name: r.village_name,
            grid_id: r.grid_id,
            grid_name: r.grid_name,
            head_name: r.head_name,
            head_phone: r.head_phone.as_deref().map(stored_phone).transpose()?,
            head_id_number: r
                .head_id_number
                .as_deref()
                .map(stored_id_number)
                .transpose()?,
            member_count: r.member_count,
        })
    }
}

/// A roster line: a member's row and their household's.
#[derive(sqlx::FromRow)]
struct RosterRow {
    household_key: String,
    village_name: String,
    grid_code: String,
    address: String,
    #[sqlx(flatten)]
    member: MemberRow,
}

pub(crate) fn push_household_filters(qb: &mut QueryBuilder<'static, Db>, q: &HouseholdQuery) {
    qb.push(" WHERE 1 = 1");
    match &q.scope {
        Scope::Subdistrict => {}
        Scope::Village(v) => {
            qb.push(" AND h.village_id = ").push_bind(*v);
        }
        Scope::Grids(gs) => {
            qb.push(" AND h.grid_id IN (");
            push_list(qb, gs.iter().copied());
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

#[async_trait]
impl RegistryStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn subdistrict(&self) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT name FROM subdistrict WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn set_subdistrict(&self, actor: &Actor, name: &str) -> StoreResult<()> {
        let (actor, name) = (actor.to_string(), name.to_owned());
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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_village(&self, actor: &Actor, v: NewVillage) -> StoreResult<Village> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO villages (code, name, kind) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&v.code)
            .bind(&v.name)
            .bind(v.kind.code())
            .fetch_one(&mut *tx)
            .await
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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_grid(&self, actor: &Actor, g: NewGrid) -> StoreResult<Grid> {
        let actor = actor.to_string();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                        "INSERT INTO grids (village_id, code, name, cadre_name, cadre_phone) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(g.village_id)
                    .bind(&g.code)
                    .bind(&g.name)
                    .bind(&g.cadre_name)
                    .bind(&g.cadre_phone)
                    .fetch_one(&mut *tx)
                    .await
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
        sqlx::query_as(&sql)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, fields(grid_id, user_id), err(level = "debug"))]
    async fn assign_grid_cadre(
        &self,
        actor: &Actor,
        grid_id: i64,
        user_id: i64,
    ) -> StoreResult<()> {
        let actor = actor.to_string();
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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn villages(&self) -> StoreResult<Vec<Village>> {
        sqlx::query_as(
            "SELECT v.id, v.code, v.name, v.kind, \
             (SELECT COUNT(*) FROM grids g WHERE g.village_id = v.id) AS grid_count, \
             (SELECT COUNT(*) FROM households h WHERE h.village_id = v.id) AS household_count, \
             (SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id WHERE h.village_id = v.id) AS resident_count \
             FROM villages v ORDER BY v.code, v.id",
        )
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(village_id), err(level = "debug"))]
    async fn grids(&self, village_id: Option<i64>) -> StoreResult<Vec<Grid>> {
        match village_id {
            Some(v) => {
                let sql = format!("{GRID_SELECT} WHERE g.village_id = $1 ORDER BY g.code, g.id");
                sqlx::query_as(&sql).bind(v).fetch_all(&self.pool).await
            }
            None => {
                let sql = format!("{GRID_SELECT} ORDER BY g.code, g.id");
                sqlx::query_as(&sql).fetch_all(&self.pool).await
            }
        }
        .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn registry_lookup(&self) -> StoreResult<RegistryLookup> {
        let mut lookup = RegistryLookup::default();
        let villages: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, code, name FROM villages ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .db()?;
        for (id, code, name) in villages {
            lookup.villages.insert(code, id);
            lookup.villages.insert(name, id);
        }
        let grids: Vec<(i64, i64, String, String)> =
            sqlx::query_as("SELECT id, village_id, code, name FROM grids ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .db()?;
        for (id, village, code, name) in grids {
            lookup.grids.insert((village, code), id);
            lookup.grids.insert((village, name), id);
        }
        lookup.registered_ids = sqlx::query_as(
            "SELECT r.id_number, h.key FROM residents r JOIN households h ON h.id = r.household_id ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?
        .into_iter()
        .collect();
        Ok(lookup)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn import_households(
        &self,
        actor: &Actor,
        households: &[HouseholdRecord],
    ) -> StoreResult<ImportSummary> {
        let actor = actor.to_string();
        let households = households.to_vec();
        write_tx!(self, |tx| {
            let now = Utc::now();
            let mut summary = ImportSummary::default();
            let mut ids = Vec::with_capacity(households.len());
            // First every household row, emptied of members, so a resident may move between
            // households of the same roster without tripping the unique identity number.
            for h in &households {
                let existing: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM households WHERE key = $1")
                        .bind(&h.key)
                        .fetch_optional(&mut *tx)
                        .await
                        .db()?;
                let id: i64 = match existing {
                    Some(id) => {
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
                        sqlx::query_scalar(
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
                    let resident_id: i64 = sqlx::query_scalar(
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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn search_households(&self, q: &HouseholdQuery) -> StoreResult<HouseholdPage> {
        let (rows, total, page, per_page) = fetch_page::<HouseholdRow>(
            &self.pool,
            ("FROM households h", HOUSEHOLD_SELECT, "h.key, h.id"),
            |qb| push_household_filters(qb, q),
            (q.page, q.per_page),
        )
        .await?;
        Ok(HouseholdPage {
            households: rows
                .into_iter()
                .map(HouseholdSummary::try_from)
                .collect::<StoreResult<_>>()?,
            total,
            page,
            per_page,
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn household(&self, id: HouseholdId) -> StoreResult<HouseholdDetail> {
        let sql = format!("{HOUSEHOLD_SELECT} WHERE h.id = $1");
        let summary: HouseholdSummary = sqlx::query_as::<_, HouseholdRow>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("household {id}"),
            })?
            .try_into()?;
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM residents r WHERE r.household_id = $1 ORDER BY r.position, r.id");
        let members = sqlx::query_as::<_, MemberRow>(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .map(Member::try_from)
            .collect::<StoreResult<_>>()?;
        let sql = format!("{GRID_SELECT} WHERE g.id = $1");
        let grid = sqlx::query_as(&sql)
            .bind(summary.grid_id)
            .fetch_one(&self.pool)
            .await
            .db()?;
        Ok(HouseholdDetail {
            summary,
            members,
            grid,
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn members_of(
        &self,
        households: &[HouseholdId],
    ) -> StoreResult<std::collections::HashMap<HouseholdId, Vec<(i64, String)>>> {
        let mut found: std::collections::HashMap<HouseholdId, Vec<(i64, String)>> =
            std::collections::HashMap::new();
        for chunk in households.chunks(1_000) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT household_id, id, name FROM residents WHERE household_id IN (",
            );
            super::push_list(&mut qb, chunk.to_vec());
            qb.push(") ORDER BY household_id, position");
            let rows: Vec<(HouseholdId, i64, String)> =
                qb.build_query_as().fetch_all(&self.pool).await.db()?;
            for (h, id, name) in rows {
                found.entry(h).or_default().push((id, name));
            }
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn household_ids_by_key(
        &self,
        keys: &[String],
    ) -> StoreResult<std::collections::HashMap<String, HouseholdId>> {
        let mut found = std::collections::HashMap::new();
        // In pieces: both databases bind fewer parameters than a subdistrict has households.
        for chunk in keys.chunks(1_000) {
            let mut qb = QueryBuilder::<Db>::new("SELECT key, id FROM households WHERE key IN (");
            super::push_list(&mut qb, chunk.to_vec());
            qb.push(")");
            let rows: Vec<(String, HouseholdId)> =
                qb.build_query_as().fetch_all(&self.pool).await.db()?;
            found.extend(rows);
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn roster(&self) -> StoreResult<Vec<RosterEntry>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, h.key AS household_key, v.name AS village_name, g.code AS grid_code, h.address \
             FROM residents r JOIN households h ON h.id = r.household_id JOIN villages v ON v.id = h.village_id \
             JOIN grids g ON g.id = h.grid_id ORDER BY h.key, h.id, r.position, r.id"
        );
        sqlx::query_as::<_, RosterRow>(&sql)
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .map(|r| {
                Ok(RosterEntry {
                    household_key: r.household_key,
                    village_name: r.village_name,
                    grid_code: r.grid_code,
                    address: r.address,
                    member: r.member.try_into()?,
                })
            })
            .collect()
    }
}
