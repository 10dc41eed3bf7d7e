//! Meetings (村民会议, 两委会) in SQL: members, sign-in codes, minutes and resolutions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::NewAuditEntry;
use yongxin_store::HouseholdId;
use yongxin_store::{StoreError, StoreResult};

use super::notice::publish_once;
use crate::dialect::write_tx;

use super::optional_code;
use super::{corrupt, Db, DbResult, DbRow, ROW_LOCK};
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::meeting::{
    decide, MeetingError, MeetingKind, QuorumRule, SignInWay, VillagersBasis,
};
use yongxin_domain::Actor;
use yongxin_store::Notice;
use yongxin_store::{Meeting, MeetingMember, MeetingStore, NewMeeting, Resolution};

pub(crate) const MEETING_SELECT: &str = "SELECT m.id, m.kind, m.village_id, v.name AS village_name, m.basis, m.title, m.held_at, m.place, m.agenda, m.minutes, \
     m.code_expires_at, m.minutes_notice_id, m.created_by, \
     (SELECT COUNT(*) FROM meeting_members mm WHERE mm.meeting_id = m.id) AS members, \
     (SELECT COUNT(*) FROM meeting_members mm WHERE mm.meeting_id = m.id AND mm.signed_in_at IS NOT NULL) AS present \
     FROM meetings m LEFT JOIN villages v ON v.id = m.village_id";

/// A row of [`MEETING_SELECT`].
#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    #[sqlx(try_from = "String")]
    kind: MeetingKind,
    village_id: Option<i64>,
    village_name: Option<String>,
    basis: Option<String>,
    title: String,
    held_at: DateTime<Utc>,
    place: String,
    agenda: String,
    minutes: Option<String>,
    members: i64,
    present: i64,
    code_expires_at: Option<DateTime<Utc>>,
    minutes_notice_id: Option<i64>,
    created_by: String,
}

/// Reads a row of [`MEETING_SELECT`].
pub(crate) fn meeting_from(row: &DbRow) -> StoreResult<Meeting> {
    let r = MeetingRow::from_row(row).db()?;
    Ok(Meeting {
        id: r.id,
        kind: r.kind,
        village_id: r.village_id,
        village_name: r.village_name,
        basis: optional_code(r.basis)?,
        title: r.title,
        held_at: r.held_at,
        place: r.place,
        agenda: r.agenda,
        minutes: r.minutes,
        members: r.members,
        present: r.present,
        code_expires_at: r.code_expires_at,
        minutes_notice_id: r.minutes_notice_id,
        created_by: r.created_by,
    })
}

/// A row of `meeting_resolutions`.
#[derive(sqlx::FromRow)]
struct ResolutionRow {
    id: i64,
    text: String,
    votes_for: i64,
    against: i64,
    abstain: i64,
    members: i64,
    present: i64,
    passed: i64,
    rule: String,
    created_by: String,
    created_at: DateTime<Utc>,
}

/// Reads a row of `meeting_resolutions`.
pub(crate) fn resolution_from(row: &DbRow) -> StoreResult<Resolution> {
    let r = ResolutionRow::from_row(row).db()?;
    Ok(Resolution {
        id: r.id,
        text: r.text,
        votes_for: r.votes_for,
        against: r.against,
        abstain: r.abstain,
        members: r.members,
        present: r.present,
        passed: r.passed != 0,
        rule: r.rule,
        created_by: r.created_by,
        created_at: r.created_at,
    })
}

#[async_trait]
impl MeetingStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_meeting(&self, actor: &Actor, m: NewMeeting) -> StoreResult<Meeting> {
        let actor = actor.to_string();
        let held_at = chrono::SubsecRound::trunc_subsecs(m.held_at, 6);
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO meetings (kind, village_id, basis, title, held_at, place, agenda, minutes, code_hash, code_expires_at, minutes_notice_id, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL, NULL, $8, $9) RETURNING id",
            )
            .bind(m.kind.code())
            .bind(m.village_id)
            .bind(m.basis.map(|b| b.code()))
            .bind(&m.title)
            .bind(held_at)
            .bind(&m.place)
            .bind(&m.agenda)
            .bind(&actor)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let mut qb = QueryBuilder::<Db>::new("INSERT INTO meeting_members (meeting_id, resident_id, household_id, name, signed_in_how, signed_in_at) SELECT ");
            qb.push_bind(id).push(", r.id, r.household_id, r.name, NULL, NULL FROM residents r JOIN households h ON h.id = r.household_id WHERE ");
            let flag = |qb: &mut QueryBuilder<'static, Db>, code: &'static str| {
                qb.push("(',' || r.flags || ',') LIKE ")
                    .push_bind(format!("%,{code},%"));
            };
            match (m.kind, m.basis) {
                (MeetingKind::Representatives, _) => flag(&mut qb, "representative"),
                (MeetingKind::PartyMembers, _) => flag(&mut qb, "party_member"),
                (MeetingKind::Villagers, Some(VillagersBasis::Households)) => {
                    qb.push("r.id = h.head_resident_id");
                }
                (MeetingKind::Villagers, _) => {
                    let day = held_at
                        .with_timezone(&yongxin_domain::time::shanghai())
                        .date_naive();
                    // Eighteen years before the day (a day of 29 February counts back to 28 February).
                    let adult = day
                        .checked_sub_months(chrono::Months::new(18 * 12))
                        .unwrap_or(day);
                    qb.push("r.birth_date <= ").push_bind(adult);
                }
                (MeetingKind::VillageCommittee | MeetingKind::Hearing, _) => {
                    qb.push("r.id_number IN (''");
                    for n in &m.member_id_numbers {
                        qb.push(", ").push_bind(n.trim().to_owned());
                    }
                    qb.push(")");
                }
            }
            if let Some(v) = m.village_id {
                qb.push(" AND h.village_id = ").push_bind(v);
            }
            let drawn = qb.build().execute(&mut *tx).await.db()?.rows_affected();
            if drawn == 0 && m.kind != MeetingKind::Hearing {
                return Err(StoreError::Invalid {
                    field: "members".into(),
                    reason: "the registry gives this meeting no members".into(),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "meeting.create",
                format!("meeting:{id}"),
                format!("{} {}", m.kind.zh(), m.title),
                &serde_json::json!({
                    "kind": m.kind.code(), "village_id": m.village_id, "basis": m.basis.map(|b| b.code()), "title": m.title,
                    "held_at": held_at, "place": m.place, "agenda": m.agenda, "members": drawn
                }),
            );
            let sql = format!("{MEETING_SELECT} WHERE m.id = $1");
            let row = sqlx::query(&sql).bind(id).fetch_one(&mut *tx).await.db()?;
            Ok((meeting_from(&row)?, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn meeting(&self, id: i64) -> StoreResult<Option<Meeting>> {
        let sql = format!("{MEETING_SELECT} WHERE m.id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .as_ref()
            .map(meeting_from)
            .transpose()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn meetings(&self) -> StoreResult<Vec<Meeting>> {
        let sql = format!("{MEETING_SELECT} ORDER BY m.held_at DESC, m.id DESC");
        sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .db()?
            .iter()
            .map(meeting_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn meeting_members(&self, id: i64) -> StoreResult<Vec<MeetingMember>> {
        type MemberRow = (
            i64,
            HouseholdId,
            String,
            Option<String>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<MemberRow> = sqlx::query_as("SELECT resident_id, household_id, name, signed_in_how, signed_in_at FROM meeting_members WHERE meeting_id = $1 ORDER BY household_id, resident_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.into_iter()
            .map(|(resident_id, household_id, name, how, at)| {
                Ok(MeetingMember {
                    resident_id,
                    household_id,
                    name,
                    signed_in: optional_code(how)?.zip(at),
                })
            })
            .collect::<StoreResult<_>>()
    }

    #[tracing::instrument(skip_all, fields(meeting_id, resident_id), err(level = "debug"))]
    async fn sign_in_member(
        &self,
        actor: &Actor,
        meeting_id: i64,
        resident_id: i64,
        how: SignInWay,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (actor, how) = (actor.to_string(), how.code());
        write_tx!(self, |tx| {
            let member: Option<Option<String>> = sqlx::query_scalar(&format!("SELECT signed_in_how FROM meeting_members WHERE meeting_id = $1 AND resident_id = $2{ROW_LOCK}"))
                .bind(meeting_id)
                .bind(resident_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            match member {
                None => Err(StoreError::NotFound {
                    what: format!("member {resident_id} of meeting {meeting_id}"),
                }),
                Some(Some(_)) => Ok((false, Vec::new())),
                Some(None) => {
                    sqlx::query("UPDATE meeting_members SET signed_in_how = $1, signed_in_at = $2 WHERE meeting_id = $3 AND resident_id = $4")
                        .bind(how)
                        .bind(at)
                        .bind(meeting_id)
                        .bind(resident_id)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    let entry = NewAuditEntry::new(
                        actor,
                        "meeting.sign_in",
                        format!("meeting:{meeting_id}"),
                        format!("resident:{resident_id} {how}"),
                        &serde_json::json!({ "resident_id": resident_id, "how": how }),
                    );
                    Ok((true, vec![entry]))
                }
            }
        })
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn set_sign_in_code(
        &self,
        actor: &Actor,
        meeting_id: i64,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (actor, code_hash) = (actor.to_string(), code_hash.to_owned());
        write_tx!(self, |tx| {
            let changed = sqlx::query(
                "UPDATE meetings SET code_hash = $1, code_expires_at = $2 WHERE id = $3",
            )
            .bind(&code_hash)
            .bind(expires_at)
            .bind(meeting_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound {
                    what: format!("meeting {meeting_id}"),
                });
            }
            // The code itself is not recorded: only that one was issued, and until when.
            let entry = NewAuditEntry::new(
                actor,
                "meeting.code",
                format!("meeting:{meeting_id}"),
                "sign-in code",
                &serde_json::json!({ "expires_at": expires_at }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn sign_in_code(&self, meeting_id: i64) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        let row: Option<(Option<String>, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT code_hash, code_expires_at FROM meetings WHERE id = $1")
                .bind(meeting_id)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        Ok(row.and_then(|(hash, until)| hash.zip(until)))
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn save_minutes(&self, actor: &Actor, meeting_id: i64, minutes: &str) -> StoreResult<()> {
        let (actor, minutes) = (actor.to_string(), minutes.to_owned());
        write_tx!(self, |tx| {
            let changed = sqlx::query("UPDATE meetings SET minutes = $1 WHERE id = $2")
                .bind(&minutes)
                .bind(meeting_id)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound {
                    what: format!("meeting {meeting_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "meeting.minutes",
                format!("meeting:{meeting_id}"),
                "minutes",
                &serde_json::json!({ "minutes": minutes }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn add_resolution(
        &self,
        actor: &Actor,
        meeting_id: i64,
        text: &str,
        votes: (u32, u32, u32),
    ) -> StoreResult<Result<Resolution, MeetingError>> {
        let (actor, text) = (actor.to_string(), text.to_owned());
        write_tx!(self, |tx| {
            let sql = format!("SELECT kind, basis FROM meetings WHERE id = $1{ROW_LOCK}");
            let (kind, basis): (String, Option<String>) = sqlx::query_as(&sql)
                .bind(meeting_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("meeting {meeting_id}"),
                })?;
            let rule = QuorumRule::of(
                MeetingKind::parse(&kind).ok_or_else(|| corrupt("meeting kind", &kind))?,
                basis.as_deref().and_then(VillagersBasis::parse),
            );
            let (members, present): (i64, i64) = sqlx::query_as("SELECT COUNT(*) AS members, COUNT(signed_in_at) AS present FROM meeting_members WHERE meeting_id = $1").bind(meeting_id).fetch_one(&mut *tx).await.db()?;
            let (m, p) = (
                u32::try_from(members).unwrap_or(u32::MAX),
                u32::try_from(present).unwrap_or(u32::MAX),
            );
            let tally = match decide(rule, m, p, votes) {
                Ok(t) => t,
                Err(e) => return Ok((Err(e), Vec::new())),
            };
            let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO meeting_resolutions (meeting_id, text, votes_for, against, abstain, members, present, passed, rule, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(meeting_id)
            .bind(&text)
            .bind(i64::from(tally.votes_for))
            .bind(i64::from(tally.against))
            .bind(i64::from(tally.abstain))
            .bind(members)
            .bind(present)
            .bind(i64::from(tally.passed))
            .bind(rule.code())
            .bind(&actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "meeting.resolution",
                format!("meeting:{meeting_id}"),
                format!(
                    "{} {}",
                    if tally.passed { "passed" } else { "failed" },
                    text.chars().take(40).collect::<String>()
                ),
                &serde_json::json!({ "text": text, "for": tally.votes_for, "against": tally.against, "abstain": tally.abstain, "members": members, "present": present, "passed": tally.passed, "rule": rule.code() }),
            );
            let resolution = Resolution {
                id,
                text,
                votes_for: i64::from(tally.votes_for),
                against: i64::from(tally.against),
                abstain: i64::from(tally.abstain),
                members,
                present,
                passed: tally.passed,
                rule: rule.code().into(),
                created_by: actor,
                created_at: now,
            };
            Ok((Ok(resolution), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn resolutions(&self, meeting_id: i64) -> StoreResult<Vec<Resolution>> {
        sqlx::query("SELECT id, text, votes_for, against, abstain, members, present, passed, rule, created_by, created_at FROM meeting_resolutions WHERE meeting_id = $1 ORDER BY id")
            .bind(meeting_id)
            .fetch_all(&self.pool)
            .await
            .db()?
            .iter()
            .map(resolution_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(meeting_id), err(level = "debug"))]
    async fn publish_minutes_notice(
        &self,
        actor: &Actor,
        meeting_id: i64,
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<Notice> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            publish_once(
                tx,
                &actor,
                ("meetings", "minutes_notice_id", meeting_id),
                "meeting.publish",
                draft,
            )
            .await
        })
    }
}
