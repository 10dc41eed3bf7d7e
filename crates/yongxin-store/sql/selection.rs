//! House selection (选房) in SQL. A claim takes its locks in one order — on selection day the
//! selection row (its queue), then the household's list row, the apartments by id, the project row
//! (for the board's sequence number) and, at the end, the audit head — so concurrent claims on
//! PostgreSQL wait for each other instead of deadlocking; an apartment's owner is set by a
//! conditional update that must touch every apartment claimed, or the whole claim is undone.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::NewAuditEntry;
use yongxin_store::{Conflict, StoreError, StoreResult, User};
use yongxin_store::{HouseholdId, ProjectId};

use super::resettlement::{
    current_policy, insert_result, json_err, latest_assessment, locked_project, now_micros,
    registration_in,
};
use crate::dialect::write_tx;

use super::push_list;
use super::{Db, DbConn, DbResult, DbRow, JsonText, ROW_LOCK};
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::money::Qty;
use yongxin_domain::resettlement::entitlement::compute;
use yongxin_domain::resettlement::entitlement::ChosenUnit;
use yongxin_domain::resettlement::Phase;
use yongxin_domain::selection::{
    check_limit, check_return, check_turn, check_unit_ids, still_to_choose, ClaimRefusal, Queue,
    QueueAction, QueueRefusal, ReturnRefusal, SelectionMode, SetupError,
};
use yongxin_domain::Actor;
use yongxin_store::{
    Agreement, AgreementStep, BoardEvent, Claim, ClaimedUnit, ListedHousehold, NewSelection,
    Selection, SelectionStore, UnitState,
};

pub(crate) const SELECTION_SELECT: &str = "SELECT s.id, s.project_id, s.mode, s.starts_at, s.ends_at, s.waves, s.time_limit_seconds, s.return_seconds, s.queue, s.households FROM selections s";

pub(crate) const CLAIM_COLUMNS: &str = "c.id, c.selection_id, c.household_id, c.units, c.total_area, c.by_name, c.on_behalf, c.created_at, c.corrected_at, c.correction_reason, c.correction_kind, c.signed_at";

/// A row of [`SELECTION_SELECT`].
#[derive(sqlx::FromRow)]
struct SelectionRow {
    id: i64,
    project_id: ProjectId,
    #[sqlx(try_from = "String")]
    mode: SelectionMode,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    waves: JsonText<Vec<yongxin_domain::selection::Wave>>,
    time_limit_seconds: i64,
    return_seconds: i64,
    queue: Option<JsonText<Queue>>,
    households: i64,
}

/// Reads a row of [`SELECTION_SELECT`].
pub(crate) fn selection_from(row: &DbRow) -> StoreResult<Selection> {
    let r = SelectionRow::from_row(row).db()?;
    Ok(Selection {
        id: r.id,
        project_id: r.project_id,
        mode: r.mode,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        waves: r.waves.0,
        time_limit_seconds: r.time_limit_seconds,
        return_seconds: r.return_seconds,
        queue: r.queue.map(|q| q.0),
        households: r.households,
    })
}

/// A unit asked for, with its owner as it stands.
#[derive(sqlx::FromRow)]
struct OwnedUnit {
    #[sqlx(flatten)]
    unit: ClaimedUnit,
    owner_household_id: Option<HouseholdId>,
}

pub(crate) async fn selection_in(
    tx: &mut DbConn,
    id: i64,
    lock: bool,
) -> StoreResult<Option<Selection>> {
    let sql = format!(
        "{SELECTION_SELECT} WHERE s.id = $1{}",
        if lock { ROW_LOCK } else { "" }
    );
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .as_ref()
        .map(selection_from)
        .transpose()
}

/// Appends a board event: its number is taken from the project row, locked until the commit, so
/// numbers follow commit order and have no gaps.
pub(crate) async fn board_event(
    tx: &mut DbConn,
    project_id: ProjectId,
    kind: &str,
    payload: &serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE projects SET board_seq = board_seq + 1 WHERE id = $1 RETURNING board_seq",
    )
    .bind(project_id)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    sqlx::query(
        "INSERT INTO board_events (project_id, seq, kind, payload, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(project_id)
    .bind(seq)
    .bind(kind)
    .bind(payload.to_string())
    .bind(at)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(seq)
}

/// A row of [`CLAIM_COLUMNS`].
#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    selection_id: i64,
    household_id: HouseholdId,
    units: JsonText<Vec<ClaimedUnit>>,
    total_area: i64,
    by_name: String,
    on_behalf: i64,
    created_at: DateTime<Utc>,
    corrected_at: Option<DateTime<Utc>>,
    correction_reason: Option<String>,
    correction_kind: Option<String>,
    signed_at: Option<DateTime<Utc>>,
}

/// Reads a row of [`CLAIM_COLUMNS`].
pub(crate) fn claim_from(row: &DbRow) -> StoreResult<Claim> {
    let r = ClaimRow::from_row(row).db()?;
    Ok(Claim {
        id: r.id,
        selection_id: r.selection_id,
        household_id: r.household_id,
        units: r.units.0,
        total_area: Qty(r.total_area),
        by_name: r.by_name,
        on_behalf: r.on_behalf == 1,
        at: r.created_at,
        seq: 0,
        corrected: r.corrected_at.zip(r.correction_reason),
        returned: r.correction_kind.as_deref() == Some("return"),
        signed_at: r.signed_at,
    })
}

pub(crate) async fn claim_in(
    tx: &mut DbConn,
    claim_id: i64,
    lock: bool,
) -> StoreResult<Option<Claim>> {
    let sql = format!(
        "SELECT {CLAIM_COLUMNS} FROM claims c WHERE c.id = $1{}",
        if lock { ROW_LOCK } else { "" }
    );
    sqlx::query(&sql)
        .bind(claim_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .as_ref()
        .map(claim_from)
        .transpose()
}

/// Whether a household has chosen its whole registered combination (or, unregistered, anything):
/// on selection day it stays at the desk until it has, or declines the rest.
pub(crate) async fn combination_chosen(
    tx: &mut DbConn,
    project_id: ProjectId,
    household_id: HouseholdId,
) -> StoreResult<bool> {
    let registered = registration_in(tx, project_id, household_id)
        .await?
        .map(|r| r.layouts)
        .unwrap_or_default();
    let owned: Vec<String> = sqlx::query_scalar(
        "SELECT layout FROM project_units WHERE project_id = $1 AND owner_household_id = $2",
    )
    .bind(project_id)
    .bind(household_id)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    Ok(still_to_choose(&registered, owned.iter().map(String::as_str)).is_empty())
}

/// Releases a claim's apartments (an administrator's correction, or the operator's return within
/// the window) and keeps the release on the claim; on selection day the household is called next
/// (a correction) or stays at the desk (a return). Answers the board event's number.
pub(crate) async fn release_claim(
    tx: &mut DbConn,
    actor: &str,
    claim: &mut Claim,
    reason: &str,
    returned: bool,
    now: DateTime<Utc>,
) -> StoreResult<(i64, NewAuditEntry)> {
    let project_id: ProjectId =
        sqlx::query_scalar("SELECT project_id FROM selections WHERE id = $1")
            .bind(claim.selection_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
    sqlx::query("UPDATE project_units SET owner_household_id = NULL, claim_id = NULL, sold_at = NULL WHERE project_id = $1 AND claim_id = $2")
        .bind(project_id)
        .bind(claim.id)
        .execute(&mut *tx)
        .await
        .db()?;
    // The board is told who is at the desk after it is told the units are free.
    let mut reopened = None;
    // Held already (callers lock the selection row first).
    let queue: Option<String> = sqlx::query_scalar("SELECT queue FROM selections WHERE id = $1")
        .bind(claim.selection_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    if let Some(q) = queue {
        let mut q: Queue = serde_json::from_str(&q).map_err(json_err)?;
        q.reopen(claim.household_id.0, returned);
        sqlx::query("UPDATE selections SET queue = $1 WHERE id = $2")
            .bind(serde_json::to_string(&q).map_err(json_err)?)
            .bind(claim.selection_id)
            .execute(&mut *tx)
            .await
            .db()?;
        // The board shows who is at the desk again.
        let limit: i64 =
            sqlx::query_scalar("SELECT time_limit_seconds FROM selections WHERE id = $1")
                .bind(claim.selection_id)
                .fetch_one(&mut *tx)
                .await
                .db()?;
        let current = q.current().map(|e| serde_json::json!({"order": e.order, "calls": e.calls, "seconds_left": e.seconds_left(limit, now)}));
        reopened = Some(
            serde_json::json!({"type": "queue", "selection_id": claim.selection_id, "action": "reopen", "current": current}),
        );
        // A household returned at the desk no longer counts as having declined anything.
        sqlx::query("UPDATE selection_households SET declined_at = NULL, decline_reason = NULL, declined_by = NULL WHERE selection_id = $1 AND household_id = $2")
            .bind(claim.selection_id)
            .bind(claim.household_id)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    sqlx::query("UPDATE claims SET corrected_at = $1, correction_reason = $2, corrected_by = $3, correction_kind = $4 WHERE id = $5")
        .bind(now)
        .bind(reason)
        .bind(actor)
        .bind(returned.then_some("return"))
        .bind(claim.id)
        .execute(&mut *tx)
        .await
        .db()?;
    let how = if returned { "return" } else { "correct" };
    let payload = serde_json::json!({
        "type": "released", "selection_id": claim.selection_id, "reason": reason, "how": how,
        "units": claim.units.iter().map(|u| serde_json::json!({"id": u.id, "layout": u.layout})).collect::<Vec<_>>(),
    });
    let seq = board_event(tx, project_id, "released", &payload, now).await?;
    if let Some(queue) = reopened {
        board_event(tx, project_id, "queue", &queue, now).await?;
    }
    let entry = NewAuditEntry::new(
        actor.to_string(),
        if returned {
            "claim.return"
        } else {
            "claim.correct"
        },
        format!("household:{}", claim.household_id),
        format!("claim:{}", claim.id),
        &serde_json::json!({ "claim_id": claim.id, "units": claim.units.iter().map(|u| u.id).collect::<Vec<_>>(), "reason": reason, "board_seq": seq }),
    );
    claim.corrected = Some((now, reason.to_owned()));
    claim.returned = returned;
    claim.seq = seq;
    Ok((seq, entry))
}

#[async_trait]
impl SelectionStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_selection(
        &self,
        actor: &Actor,
        s: NewSelection,
    ) -> StoreResult<Result<Selection, SetupError>> {
        if let Err(e) = yongxin_domain::selection::check_waves((s.starts_at, s.ends_at), &s.waves) {
            return Ok(Err(SetupError::Window(e)));
        }
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let project = locked_project(tx, s.project_id).await?;
            if project.phase != Phase::Selection {
                return Ok((Err(SetupError::Phase), vec![]));
            }
            let orders: Vec<(i64, i64)> = sqlx::query_as("SELECT household_id, lottery_order FROM lottery_orders WHERE project_id = $1 ORDER BY lottery_order")
                .bind(s.project_id)
                .fetch_all(&mut *tx)
                .await
                .db()?;
            if orders.is_empty() {
                return Ok((Err(SetupError::NotDrawn), vec![]));
            }
            let Some(policy) = current_policy(tx, s.project_id).await? else {
                return Ok((Err(SetupError::NotDrawn), vec![]));
            };
            let band = policy.band_limit();
            let areas: Vec<(i64, i64)> = sqlx::query_as("SELECT household_id, entitled_area FROM entitlement_results WHERE project_id = $1 AND current = 1").bind(s.project_id).fetch_all(&mut *tx).await.db()?;
            let areas: HashMap<i64, i64> = areas.into_iter().collect();
            // Households that have chosen their whole combination already (online) are not
            // called again; one that chose a part is called for the rest.
            let owned: Vec<(i64, String)> = sqlx::query_as("SELECT owner_household_id, layout FROM project_units WHERE project_id = $1 AND owner_household_id IS NOT NULL")
                .bind(s.project_id)
                .fetch_all(&mut *tx)
                .await
                .db()?;
            let mut owned_layouts: HashMap<i64, Vec<String>> = HashMap::new();
            for (h, layout) in owned {
                owned_layouts.entry(h).or_default().push(layout);
            }
            let registered: Vec<(i64, String)> = sqlx::query_as(
                "SELECT household_id, layouts FROM registrations WHERE project_id = $1",
            )
            .bind(s.project_id)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            let mut registered_layouts: HashMap<i64, Vec<String>> = HashMap::new();
            for (h, layouts) in registered {
                registered_layouts.insert(h, serde_json::from_str(&layouts).map_err(json_err)?);
            }
            let queue = (s.mode == SelectionMode::Onsite).then(|| {
                let mut q = Queue::new(orders.clone());
                for e in &mut q.entries {
                    e.done = owned_layouts.get(&e.household_id).is_some_and(|owned| {
                        still_to_choose(
                            registered_layouts
                                .get(&e.household_id)
                                .map_or(&[][..], Vec::as_slice),
                            owned.iter().map(String::as_str),
                        )
                        .is_empty()
                    });
                }
                q
            });
            let now = now_micros();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO selections (project_id, mode, starts_at, ends_at, waves, time_limit_seconds, queue, households, created_by, created_at, return_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(s.project_id)
            .bind(s.mode.code())
            .bind(chrono::SubsecRound::trunc_subsecs(s.starts_at, 6))
            .bind(chrono::SubsecRound::trunc_subsecs(s.ends_at, 6))
            .bind(serde_json::to_string(&s.waves).map_err(json_err)?)
            .bind(s.time_limit_seconds)
            .bind(queue.as_ref().map(serde_json::to_string).transpose().map_err(json_err)?)
            .bind(orders.len() as i64)
            .bind(&actor)
            .bind(now)
            .bind(s.return_seconds)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            for chunk in orders.chunks(1000) {
                let mut qb = QueryBuilder::<Db>::new("INSERT INTO selection_households (selection_id, household_id, lottery_order, limit_area) ");
                qb.push_values(chunk, |mut b, (household, order)| {
                    let entitled = Qty(areas.get(household).copied().unwrap_or(0));
                    b.push_bind(id)
                        .push_bind(*household)
                        .push_bind(*order)
                        .push_bind(band.map(|band| (entitled + band).0));
                });
                qb.build().execute(&mut *tx).await.db()?;
            }
            let entry = NewAuditEntry::new(
                actor.clone(),
                "selection.create",
                format!("project:{}", s.project_id),
                s.mode.zh().to_owned(),
                &serde_json::json!({ "selection_id": id, "mode": s.mode.code(), "starts_at": s.starts_at, "ends_at": s.ends_at, "waves": s.waves, "households": orders.len() }),
            );
            let created = selection_in(tx, id, false)
                .await?
                .ok_or_else(|| StoreError::internal("selection vanished"))?;
            Ok((Ok(created), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn selections(&self, project_id: Option<ProjectId>) -> StoreResult<Vec<Selection>> {
        let sql = format!(
            "{SELECTION_SELECT} WHERE ($1 IS NULL OR s.project_id = $1) ORDER BY s.id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(project_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(selection_from).collect()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn selection(&self, id: i64) -> StoreResult<Option<Selection>> {
        let mut conn = self.pool.acquire().await.db()?;
        selection_in(&mut conn, id, false).await
    }

    #[tracing::instrument(skip_all, fields(selection_id, household_id), err(level = "debug"))]
    async fn selection_household(
        &self,
        selection_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<ListedHousehold>> {
        type Row = (i64, Option<i64>, Option<DateTime<Utc>>, Option<String>);
        let row: Option<Row> = sqlx::query_as("SELECT lottery_order, limit_area, declined_at, decline_reason FROM selection_households WHERE selection_id = $1 AND household_id = $2")
            .bind(selection_id)
            .bind(household_id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(row.map(|(order, limit, at, reason)| ListedHousehold {
            order,
            limit: limit.map(Qty),
            declined: at.zip(reason),
        }))
    }

    #[tracing::instrument(skip_all, fields(selection_id, household_id), err(level = "debug"))]
    async fn claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        household_id: HouseholdId,
        unit_ids: Vec<i64>,
        by: &User,
        on_behalf: bool,
    ) -> StoreResult<Result<Claim, ClaimRefusal>> {
        if let Err(e) = check_unit_ids(&unit_ids) {
            return Ok(Err(e));
        }
        let (actor, by_id, by_name) = (actor.to_string(), by.id, by.display_name.clone());
        let mut ids = unit_ids;
        ids.sort_unstable();
        let result = write_tx!(self, |tx| {
            let now = now_micros();
            let mut sel = selection_in(tx, selection_id, false)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("selection {selection_id}"),
                })?;
            // On selection day the queue is read again under the selection row's lock, taken
            // before the household's as the operator's other actions take it, so a confirmation
            // and a decline or call at the same moment do not overwrite each other's queue.
            if sel.queue.is_some() {
                sel = selection_in(tx, selection_id, true)
                    .await?
                    .ok_or_else(|| StoreError::internal("selection vanished"))?;
            }
            let sql = format!("SELECT lottery_order, limit_area FROM selection_households WHERE selection_id = $1 AND household_id = $2{ROW_LOCK}");
            let listed: Option<(i64, Option<i64>)> = sqlx::query_as(&sql)
                .bind(selection_id)
                .bind(household_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            let Some((order, limit)) = listed else {
                return Ok((Err(ClaimRefusal::NotListed), vec![]));
            };
            if let Err(e) = check_turn((sel.starts_at, sel.ends_at), &sel.waves, order, now) {
                return Ok((Err(e), vec![]));
            }
            let mut queue = sel.queue.clone();
            // On selection day a household chooses at the desk, where the operator confirms
            // for the household being called; a member's own claim from a phone is refused.
            if let Some(q) = &queue {
                if !on_behalf {
                    return Ok((Err(ClaimRefusal::NotCalled), vec![]));
                }
                if let Err(e) = q.may_confirm(household_id.0) {
                    return Ok((Err(e), vec![]));
                }
            }
            let mut qb = QueryBuilder::<Db>::new("SELECT id, building_name, number, layout, area, owner_household_id FROM project_units WHERE project_id = ");
            qb.push_bind(sel.project_id).push(" AND id IN (");
            push_list(&mut qb, ids.iter().copied());
            qb.push(") ORDER BY id").push(ROW_LOCK);
            let rows: Vec<OwnedUnit> = qb.build_query_as().fetch_all(&mut *tx).await.db()?;
            if rows.len() != ids.len() {
                return Ok((
                    Err(ClaimRefusal::BadUnits("不是本项目的房源".into())),
                    vec![],
                ));
            }
            let mut units = Vec::new();
            for OwnedUnit {
                unit,
                owner_household_id,
            } in rows
            {
                if owner_household_id.is_some() {
                    return Ok((
                        Err(ClaimRefusal::Taken(format!(
                            "{} {}",
                            unit.building_name, unit.number
                        ))),
                        vec![],
                    ));
                }
                units.push(unit);
            }
            let owned: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(area), 0) AS BIGINT) FROM project_units WHERE project_id = $1 AND owner_household_id = $2")
                .bind(sel.project_id)
                .bind(household_id)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            let areas: Vec<Qty> = units.iter().map(|u| u.area).collect();
            if let Some(limit) = limit {
                if let Err(e) = check_limit(Qty(owned), &areas, Qty(limit)) {
                    return Ok((Err(e), vec![]));
                }
            }
            let total: Qty = areas.iter().copied().sum();
            let units_json = serde_json::to_string(&units).map_err(json_err)?;
            let claim_id: i64 = sqlx::query_scalar("INSERT INTO claims (selection_id, household_id, units, total_area, by_user_id, by_name, on_behalf, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(selection_id)
                .bind(household_id)
                .bind(&units_json)
                .bind(total.0)
                .bind(by_id)
                .bind(&by_name)
                .bind(i64::from(on_behalf))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            let mut qb = QueryBuilder::<Db>::new("UPDATE project_units SET owner_household_id = ");
            qb.push_bind(household_id)
                .push(", claim_id = ")
                .push_bind(claim_id)
                .push(", sold_at = ")
                .push_bind(now);
            qb.push(" WHERE owner_household_id IS NULL AND project_id = ")
                .push_bind(sel.project_id)
                .push(" AND id IN (");
            push_list(&mut qb, ids.iter().copied());
            qb.push(")");
            let updated = qb.build().execute(&mut *tx).await.db()?.rows_affected();
            if updated != ids.len() as u64 {
                // Someone else's claim committed first: undo this one entirely.
                return Err(StoreError::conflict(Conflict::ClaimLostRace));
            }
            // The household stays at the desk until its whole combination is chosen.
            if let Some(q) = &mut queue {
                if combination_chosen(tx, sel.project_id, household_id).await? {
                    q.apply(QueueAction::Finish, now)
                        .map_err(StoreError::internal)?;
                }
                sqlx::query("UPDATE selections SET queue = $1 WHERE id = $2")
                    .bind(serde_json::to_string(q).map_err(json_err)?)
                    .bind(selection_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            let payload = serde_json::json!({
                "type": "sold", "selection_id": selection_id, "order": order,
                "units": units.iter().map(|u| serde_json::json!({"id": u.id, "layout": u.layout})).collect::<Vec<_>>(),
                "next": queue.as_ref().and_then(|q| q.current().map(|e| e.order)),
            });
            let seq = board_event(tx, sel.project_id, "sold", &payload, now).await?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                if on_behalf {
                    "claim.confirm_on_behalf"
                } else {
                    "claim.confirm"
                },
                format!("household:{household_id}"),
                format!("selection:{selection_id}"),
                &serde_json::json!({ "claim_id": claim_id, "units": ids, "total_area": total, "by_user_id": by_id, "on_behalf": on_behalf, "board_seq": seq }),
            );
            Ok((
                Ok(Claim {
                    id: claim_id,
                    selection_id,
                    household_id,
                    units,
                    total_area: total,
                    by_name: by_name.clone(),
                    on_behalf,
                    at: now,
                    seq,
                    corrected: None,
                    returned: false,
                    signed_at: None,
                }),
                vec![entry],
            ))
        });
        match result {
            Err(StoreError::Conflict {
                conflict: Conflict::ClaimLostRace,
                ..
            }) => Ok(Err(ClaimRefusal::Taken("所选房源".into()))),
            other => other,
        }
    }

    #[tracing::instrument(skip_all, fields(claim_id), err(level = "debug"))]
    async fn correct_claim(
        &self,
        actor: &Actor,
        claim_id: i64,
        reason: &str,
    ) -> StoreResult<Option<Claim>> {
        let (actor, reason) = (actor.to_string(), reason.trim().to_owned());
        write_tx!(self, |tx| {
            // The selection row first, then the claim, then its apartments: the order a claim
            // on selection day takes them in.
            let Some(selection_id) = claim_in(tx, claim_id, false).await?.map(|c| c.selection_id)
            else {
                return Ok((None, vec![]));
            };
            selection_in(tx, selection_id, true).await?;
            let Some(mut claim) = claim_in(tx, claim_id, true).await? else {
                return Ok((None, vec![]));
            };
            if claim.corrected.is_some() {
                return Ok((None, vec![]));
            }
            let (_, entry) =
                release_claim(tx, &actor, &mut claim, &reason, false, now_micros()).await?;
            Ok((Some(claim), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(selection_id, claim_id), err(level = "debug"))]
    async fn return_claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        claim_id: i64,
        reason: &str,
    ) -> StoreResult<Option<Result<Claim, ReturnRefusal>>> {
        let (actor, reason) = (actor.to_string(), reason.trim().to_owned());
        write_tx!(self, |tx| {
            let Some(sel) = selection_in(tx, selection_id, true).await? else {
                return Ok((None, vec![]));
            };
            let Some(mut claim) = claim_in(tx, claim_id, true)
                .await?
                .filter(|c| c.selection_id == selection_id)
            else {
                return Ok((None, vec![]));
            };
            let now = now_micros();
            if let Err(e) = check_return(
                claim.at,
                claim.signed_at.is_some(),
                claim.corrected.is_some(),
                sel.return_seconds,
                now,
            ) {
                return Ok((Some(Err(e)), vec![]));
            }
            let Some(queue) = sel.queue.as_ref().filter(|_| claim.on_behalf) else {
                return Ok((Some(Err(ReturnRefusal::NotAtDesk)), vec![]));
            };
            if queue
                .current()
                .is_some_and(|e| e.household_id != claim.household_id.0 && e.present_at.is_some())
            {
                return Ok((Some(Err(ReturnRefusal::NextAtDesk)), vec![]));
            }
            let (_, entry) = release_claim(tx, &actor, &mut claim, &reason, true, now).await?;
            Ok((Some(Ok(claim)), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(selection_id, claim_id), err(level = "debug"))]
    async fn sign_claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        claim_id: i64,
    ) -> StoreResult<Option<Claim>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let Some(mut claim) = claim_in(tx, claim_id, true)
                .await?
                .filter(|c| c.selection_id == selection_id && c.corrected.is_none())
            else {
                return Ok((None, vec![]));
            };
            if claim.signed_at.is_some() {
                return Ok((Some(claim), vec![]));
            }
            let now = now_micros();
            // The slip lists every unit the household has in the selection: its signature
            // covers all of them, so none can be returned afterwards.
            sqlx::query("UPDATE claims SET signed_at = $1 WHERE selection_id = $2 AND household_id = $3 AND signed_at IS NULL AND corrected_at IS NULL")
                .bind(now)
                .bind(selection_id)
                .bind(claim.household_id)
                .execute(&mut *tx)
                .await
                .db()?;
            claim.signed_at = Some(now);
            let entry = NewAuditEntry::new(
                actor.clone(),
                "claim.sign",
                format!("household:{}", claim.household_id),
                format!("claim:{claim_id}"),
                &serde_json::json!({ "claim_id": claim_id, "selection_id": selection_id }),
            );
            Ok((Some(claim), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(selection_id, household_id), err(level = "debug"))]
    async fn decline_rest(
        &self,
        actor: &Actor,
        selection_id: i64,
        household_id: HouseholdId,
        reason: &str,
    ) -> StoreResult<Result<Queue, ClaimRefusal>> {
        let (actor, reason) = (actor.to_string(), reason.trim().to_owned());
        write_tx!(self, |tx| {
            let sel = selection_in(tx, selection_id, true).await?.ok_or_else(|| {
                StoreError::NotFound {
                    what: format!("selection {selection_id}"),
                }
            })?;
            let Some(mut queue) = sel.queue else {
                return Ok((Err(ClaimRefusal::NotCalled), vec![]));
            };
            if let Err(e) = queue.may_confirm(household_id.0) {
                return Ok((Err(e), vec![]));
            }
            let now = now_micros();
            queue
                .apply(QueueAction::Finish, now)
                .map_err(StoreError::internal)?;
            sqlx::query("UPDATE selections SET queue = $1 WHERE id = $2")
                .bind(serde_json::to_string(&queue).map_err(json_err)?)
                .bind(selection_id)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("UPDATE selection_households SET declined_at = $1, decline_reason = $2, declined_by = $3 WHERE selection_id = $4 AND household_id = $5")
                .bind(now)
                .bind(&reason)
                .bind(&actor)
                .bind(selection_id)
                .bind(household_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let current = queue
                .current()
                .map(|e| serde_json::json!({"order": e.order, "calls": e.calls, "seconds_left": e.seconds_left(sel.time_limit_seconds, now)}));
            let seq = board_event(tx, sel.project_id, "queue", &serde_json::json!({"type": "queue", "selection_id": selection_id, "action": "decline", "current": current}), now).await?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "selection.decline",
                format!("household:{household_id}"),
                format!("selection:{selection_id}"),
                &serde_json::json!({ "reason": reason, "board_seq": seq }),
            );
            Ok((Ok(queue), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn claim_record(&self, id: i64) -> StoreResult<Option<Claim>> {
        let mut conn = self.pool.acquire().await.db()?;
        claim_in(&mut conn, id, false).await
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn household_claims(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<Claim>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLAIM_COLUMNS} FROM claims c JOIN selections s ON s.id = c.selection_id \
             WHERE s.project_id = $1 AND c.household_id = $2 ORDER BY c.id"
        ))
        .bind(project_id)
        .bind(household_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(claim_from).collect()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn unit_states(&self, project_id: ProjectId) -> StoreResult<Vec<UnitState>> {
        sqlx::query_as("SELECT id, building, building_name, number, floor, layout, area, owner_household_id, sold_at FROM project_units WHERE project_id = $1 ORDER BY id")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn board_events(
        &self,
        project_id: ProjectId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<BoardEvent>> {
        sqlx::query_as("SELECT seq, kind, payload, at FROM board_events WHERE project_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(project_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn board_seq(&self, project_id: ProjectId) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT board_seq FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        Ok(seq.unwrap_or(0))
    }

    #[tracing::instrument(skip_all, fields(selection_id), err(level = "debug"))]
    async fn queue_action(
        &self,
        actor: &Actor,
        selection_id: i64,
        action: QueueAction,
    ) -> StoreResult<Result<Queue, QueueRefusal>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let sel = selection_in(tx, selection_id, true).await?.ok_or_else(|| {
                StoreError::NotFound {
                    what: format!("selection {selection_id}"),
                }
            })?;
            let Some(mut queue) = sel.queue else {
                return Ok((Err(QueueRefusal::NoQueue), vec![]));
            };
            if action == QueueAction::Finish {
                return Ok((Err(QueueRefusal::FinishesByChoosing), vec![]));
            }
            let before = queue.current().cloned();
            let now = now_micros();
            if let Err(e) = queue.apply(action, now) {
                return Ok((Err(QueueRefusal::Rule(e)), vec![]));
            }
            sqlx::query("UPDATE selections SET queue = $1 WHERE id = $2")
                .bind(serde_json::to_string(&queue).map_err(json_err)?)
                .bind(selection_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let current = queue
                .current()
                .map(|e| serde_json::json!({"order": e.order, "calls": e.calls, "seconds_left": e.seconds_left(sel.time_limit_seconds, now)}));
            let seq = board_event(tx, sel.project_id, "queue", &serde_json::json!({"type": "queue", "selection_id": selection_id, "action": action, "current": current}), now).await?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "selection.queue",
                format!("selection:{selection_id}"),
                format!("{action:?}"),
                &serde_json::json!({ "action": action, "household_id": before.map(|b| b.household_id), "board_seq": seq }),
            );
            Ok((Ok(queue), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn record_agreement(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        step: AgreementStep,
        on: NaiveDate,
    ) -> StoreResult<Agreement> {
        let actor = actor.to_string();
        let column = match step {
            AgreementStep::Signed => "signed_on",
            AgreementStep::MovedOut => "moved_out_on",
            AgreementStep::Keys => "keys_on",
        };
        write_tx!(self, |tx| {
            let now = now_micros();
            sqlx::query("INSERT INTO agreements (project_id, household_id, updated_by, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, household_id) DO NOTHING")
                .bind(project_id)
                .bind(household_id)
                .bind(&actor)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query(&format!("UPDATE agreements SET {column} = $1, updated_by = $2, updated_at = $3 WHERE project_id = $4 AND household_id = $5"))
                .bind(on)
                .bind(&actor)
                .bind(now)
                .bind(project_id)
                .bind(household_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let row: (Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as("SELECT signed_on, moved_out_on, keys_on FROM agreements WHERE project_id = $1 AND household_id = $2")
                .bind(project_id)
                .bind(household_id)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            let mut entries = vec![NewAuditEntry::new(
                actor.clone(),
                "agreement.record",
                format!("household:{household_id}"),
                column.to_owned(),
                &serde_json::json!({ "project_id": project_id, column: on }),
            )];
            // Signing fixes the early-signing reward: the result is computed again with the
            // apartments the household chose and the signing date.
            if step == AgreementStep::Signed {
                if let (Some(policy), Some(a)) = (
                    current_policy(tx, project_id).await?,
                    latest_assessment(tx, project_id, household_id).await?,
                ) {
                    let owned: Vec<(String, String, i64)> = sqlx::query_as("SELECT building_name, number, area FROM project_units WHERE project_id = $1 AND owner_household_id = $2 ORDER BY id")
                        .bind(project_id)
                        .bind(household_id)
                        .fetch_all(&mut *tx)
                        .await
                        .db()?;
                    let chosen: Vec<ChosenUnit> = owned
                        .into_iter()
                        .map(|(b, n, area)| ChosenUnit::apartment(&b, &n, Qty(area)))
                        .collect();
                    if let Ok(result) = compute(&policy, &a.inputs, &chosen, Some(on)) {
                        let (_, entry) = insert_result(
                            tx,
                            &actor,
                            project_id,
                            household_id,
                            a.id,
                            (chosen, Some(on)),
                            result,
                            "签约",
                        )
                        .await?;
                        entries.push(entry);
                    }
                }
            }
            Ok((
                Agreement {
                    household_id,
                    signed_on: row.0,
                    moved_out_on: row.1,
                    keys_on: row.2,
                },
                entries,
            ))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn agreements(&self, project_id: ProjectId) -> StoreResult<Vec<Agreement>> {
        let rows: Vec<(HouseholdId, Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as("SELECT household_id, signed_on, moved_out_on, keys_on FROM agreements WHERE project_id = $1 ORDER BY household_id")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        Ok(rows
            .into_iter()
            .map(
                |(household_id, signed_on, moved_out_on, keys_on)| Agreement {
                    household_id,
                    signed_on,
                    moved_out_on,
                    keys_on,
                },
            )
            .collect())
    }
}
