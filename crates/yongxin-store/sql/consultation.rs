//! Consultations (征求意见) in SQL: questions, answers (the current one per household) and results.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::NewAuditEntry;
use yongxin_store::HouseholdId;
use yongxin_store::{StoreError, StoreResult};

use super::notice::{publish_once, push_scope_grids};
use crate::dialect::write_tx;

use std::collections::BTreeMap;

use super::{corrupt, Db, DbConn, DbResult, DbRow, ROW_LOCK};
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::consultation::{
    age_band, answers_open, check_answers, AnswerChannel, ConsultationError, GivenAnswer, Question,
    QuestionKind,
};
use yongxin_domain::Actor;
use yongxin_store::Notice;
use yongxin_store::{
    Consultation, ConsultationResults, ConsultationStore, CurrentAnswer, NewAnswer, NewConsultation,
};

pub(crate) const CONSULTATION_SELECT: &str = "SELECT id, title, background, notice_id, scope, project_id, opens_at, closes_at, result_notice_id, created_by FROM consultations";

/// Reads a row of [`CONSULTATION_SELECT`] (villages and questions are read after).
pub(crate) fn consultation_from(row: &DbRow) -> StoreResult<Consultation> {
    Consultation::from_row(row).db()
}

/// Reads a consultation with its villages and questions, on any executor of the backend.
pub(crate) async fn consultation_in(
    conn: &mut DbConn,
    id: i64,
) -> StoreResult<Option<Consultation>> {
    let sql = format!("{CONSULTATION_SELECT} WHERE id = $1");
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .db()?
    else {
        return Ok(None);
    };
    let mut c = consultation_from(&row)?;
    c.village_ids = sqlx::query_scalar("SELECT village_id FROM consultation_villages WHERE consultation_id = $1 ORDER BY village_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .db()?;
    type QuestionRow = (i64, String, String, Option<i64>, i64);
    let questions: Vec<QuestionRow> = sqlx::query_as("SELECT id, kind, prompt, max_choices, required FROM consultation_questions WHERE consultation_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .db()?;
    let options: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT o.id, o.question_id, o.label FROM consultation_options o JOIN consultation_questions q ON q.id = o.question_id \
         WHERE q.consultation_id = $1 ORDER BY o.question_id, o.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .db()?;
    let mut by_question: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (option, question, label) in options {
        by_question
            .entry(question)
            .or_default()
            .push((option, label));
    }
    for (qid, kind, prompt, max, required) in questions {
        c.questions.push(Question {
            id: qid,
            kind: QuestionKind::parse(&kind).ok_or_else(|| corrupt("question kind", &kind))?,
            prompt,
            options: by_question.remove(&qid).unwrap_or_default(),
            max_choices: max.and_then(|m| u32::try_from(m).ok()),
            required: required != 0,
        });
    }
    Ok(Some(c))
}

/// Writes a consultation with its villages and questions inside a write (a campaign's visit form
/// is one); answers it and its record entry.
pub(crate) async fn insert_consultation(
    tx: &mut DbConn,
    actor: &str,
    c: &NewConsultation,
) -> StoreResult<(Consultation, NewAuditEntry)> {
    let trunc = |t: DateTime<Utc>| chrono::SubsecRound::trunc_subsecs(t, 6);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO consultations (title, background, notice_id, scope, project_id, opens_at, closes_at, result_notice_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9) RETURNING id",
    )
    .bind(&c.title)
    .bind(&c.background)
    .bind(c.notice_id)
    .bind(c.scope.code())
    .bind(c.project_id)
    .bind(trunc(c.opens_at))
    .bind(trunc(c.closes_at))
    .bind(actor)
    .bind(Utc::now())
    .fetch_one(&mut *tx)
    .await
    .db()?;
    for v in &c.village_ids {
        sqlx::query(
            "INSERT INTO consultation_villages (consultation_id, village_id) VALUES ($1, $2)",
        )
        .bind(id)
        .bind(*v)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    for (position, q) in c.questions.iter().enumerate() {
        let qid: i64 = sqlx::query_scalar(
            "INSERT INTO consultation_questions (consultation_id, position, kind, prompt, max_choices, required) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(position as i64)
        .bind(q.kind.code())
        .bind(&q.prompt)
        .bind(q.max_choices.map(i64::from))
        .bind(i64::from(q.required))
        .fetch_one(&mut *tx)
        .await
        .db()?;
        for (i, label) in q.options.iter().enumerate() {
            sqlx::query("INSERT INTO consultation_options (question_id, position, label) VALUES ($1, $2, $3)")
                .bind(qid)
                .bind(i as i64)
                .bind(label)
                .execute(&mut *tx)
                .await
                .db()?;
        }
    }
    let entry = NewAuditEntry::new(
        actor.to_owned(),
        "consultation.create",
        format!("consultation:{id}"),
        c.title.clone(),
        &serde_json::json!({
            "title": c.title, "background": c.background, "scope": c.scope.code(), "villages": c.village_ids, "project": c.project_id,
            "opens_at": c.opens_at, "closes_at": c.closes_at,
            "questions": c.questions.iter().map(|q| serde_json::json!({"kind": q.kind.code(), "prompt": q.prompt, "options": q.options, "max": q.max_choices, "required": q.required})).collect::<Vec<_>>()
        }),
    );
    let created = consultation_in(tx, id)
        .await?
        .ok_or_else(|| StoreError::internal("consultation vanished"))?;
    Ok((created, entry))
}

/// Records a household's answer inside a write, replacing its current one (a visit's answers are
/// one). A refusal comes before anything is written. Answers the answer's id and its record entry.
pub(crate) async fn record_answer(
    tx: &mut DbConn,
    actor: &str,
    consultation_id: i64,
    a: NewAnswer,
) -> StoreResult<Result<(i64, NewAuditEntry), ConsultationError>> {
    let answered_at = chrono::SubsecRound::trunc_subsecs(a.answered_at, 6);
    let c = consultation_in(tx, consultation_id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("consultation {consultation_id}"),
        })?;
    if let Err(e) = answers_open(c.opens_at, c.closes_at, answered_at) {
        return Ok(Err(e));
    }
    let items = match check_answers(&c.questions, &a.given) {
        Ok(items) => items,
        Err(e) => return Ok(Err(e)),
    };
    // The household's row serialises its answers (PostgreSQL locks it; SQLite has one writer).
    let sql =
        format!("SELECT village_id, head_resident_id FROM households WHERE id = $1{ROW_LOCK}");
    let (village_id, head_resident_id): (i64, Option<i64>) = sqlx::query_as(&sql)
        .bind(a.household_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("household {}", a.household_id),
        })?;
    let mut scoped = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM households h WHERE h.id = ");
    scoped.push_bind(a.household_id);
    push_scope_grids(
        &mut scoped,
        c.scope,
        ("consultation_villages", "consultation_id", c.id),
        c.project_id,
    );
    let in_scope: i64 = scoped.build_query_scalar().fetch_one(&mut *tx).await.db()?;
    if in_scope == 0 {
        return Ok(Err(ConsultationError::NotEligible));
    }
    let resident_id: Option<i64> = match a.resident_id {
        Some(r) => {
            let member: Option<i64> =
                sqlx::query_scalar("SELECT id FROM residents WHERE id = $1 AND household_id = $2")
                    .bind(r)
                    .bind(a.household_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            Some(member.ok_or_else(|| StoreError::Invalid {
                field: "resident_id".into(),
                reason: "not a member of the household".into(),
            })?)
        }
        None => head_resident_id,
    };
    let band = match resident_id {
        Some(r) => {
            let birth: Option<NaiveDate> =
                sqlx::query_scalar("SELECT birth_date FROM residents WHERE id = $1")
                    .bind(r)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            birth.map(|b| {
                age_band(
                    b,
                    answered_at
                        .with_timezone(&yongxin_domain::time::shanghai())
                        .date_naive(),
                )
            })
        }
        None => None,
    };
    let replaced: Option<i64> = sqlx::query_scalar("SELECT id FROM consultation_answers WHERE consultation_id = $1 AND household_id = $2 AND current = 1")
        .bind(consultation_id)
        .bind(a.household_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    if let Some(old) = replaced {
        sqlx::query("UPDATE consultation_answers SET current = 0 WHERE id = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("UPDATE consultation_answer_items SET current = 0 WHERE answer_id = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    let answer_id: i64 = sqlx::query_scalar(
        "INSERT INTO consultation_answers (consultation_id, household_id, resident_id, village_id, age_band, channel, recorded_by, answered_at, current) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) RETURNING id",
    )
    .bind(consultation_id)
    .bind(a.household_id)
    .bind(resident_id)
    .bind(village_id)
    .bind(band)
    .bind(a.channel.code())
    .bind(a.recorded_by)
    .bind(answered_at)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let mut qb = QueryBuilder::<Db>::new("INSERT INTO consultation_answer_items (answer_id, consultation_id, question_id, option_id, rank, text, village_id, current) ");
    qb.push_values(&items, |mut row, item| {
        row.push_bind(answer_id)
            .push_bind(consultation_id)
            .push_bind(item.question_id)
            .push_bind(item.option_id)
            .push_bind(item.rank.map(i64::from))
            .push_bind(item.text.clone())
            .push_bind(village_id)
            .push_bind(1_i64);
    });
    if !items.is_empty() {
        qb.build().execute(&mut *tx).await.db()?;
    }
    let entry = NewAuditEntry::new(
        actor.to_owned(),
        if replaced.is_some() {
            "consultation.answer_change"
        } else {
            "consultation.answer"
        },
        format!("consultation:{consultation_id}"),
        format!("household:{} {}", a.household_id, a.channel.code()),
        &serde_json::json!({ "household_id": a.household_id, "resident_id": resident_id, "channel": a.channel.code(), "recorded_by": a.recorded_by, "answers": a.given, "replaces": replaced }),
    );
    Ok(Ok((answer_id, entry)))
}

#[async_trait]
impl ConsultationStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_consultation(
        &self,
        actor: &Actor,
        c: NewConsultation,
    ) -> StoreResult<Consultation> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let (created, entry) = insert_consultation(tx, &actor, &c).await?;
            Ok((created, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn consultation(&self, id: i64) -> StoreResult<Option<Consultation>> {
        let mut conn = self.pool.acquire().await.db()?;
        consultation_in(&mut conn, id).await
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn consultations(&self) -> StoreResult<Vec<Consultation>> {
        let sql = format!("{CONSULTATION_SELECT} ORDER BY opens_at DESC, id DESC");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        rows.iter().map(consultation_from).collect()
    }

    #[tracing::instrument(skip_all, fields(consultation_id), err(level = "debug"))]
    async fn submit_answer(
        &self,
        actor: &Actor,
        consultation_id: i64,
        a: NewAnswer,
    ) -> StoreResult<Result<i64, ConsultationError>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            Ok(match record_answer(tx, &actor, consultation_id, a).await? {
                Ok((answer_id, entry)) => (Ok(answer_id), vec![entry]),
                Err(refused) => (Err(refused), Vec::new()),
            })
        })
    }

    #[tracing::instrument(skip_all, fields(consultation_id, household_id), err(level = "debug"))]
    async fn current_answer(
        &self,
        consultation_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<CurrentAnswer>> {
        let Some((id, channel, recorded_by, answered_at)): Option<(i64, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT a.id, a.channel, u.username, a.answered_at FROM consultation_answers a JOIN users u ON u.id = a.recorded_by \
             WHERE a.consultation_id = $1 AND a.household_id = $2 AND a.current = 1",
        )
        .bind(consultation_id)
        .bind(household_id)
        .fetch_optional(&self.pool)
        .await
        .db()?
        else {
            return Ok(None);
        };
        let items: Vec<(i64, Option<i64>, Option<String>, String)> = sqlx::query_as("SELECT i.question_id, i.option_id, i.text, q.kind FROM consultation_answer_items i JOIN consultation_questions q ON q.id = i.question_id WHERE i.answer_id = $1 ORDER BY i.question_id, i.rank, i.option_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let mut given: BTreeMap<i64, GivenAnswer> = BTreeMap::new();
        for (qid, option, text, kind) in items {
            match (kind.as_str(), option, text) {
                ("single", Some(o), _) => {
                    given.insert(qid, GivenAnswer::Option(o));
                }
                (_, Some(o), _) => {
                    if let GivenAnswer::Options(list) = given
                        .entry(qid)
                        .or_insert_with(|| GivenAnswer::Options(Vec::new()))
                    {
                        list.push(o);
                    }
                }
                (_, None, Some(t)) => {
                    given.insert(qid, GivenAnswer::Text(t));
                }
                _ => {}
            }
        }
        Ok(Some(CurrentAnswer {
            id,
            channel: AnswerChannel::parse(&channel)
                .ok_or_else(|| corrupt("answer channel", &channel))?,
            recorded_by,
            answered_at,
            given,
        }))
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn consultation_results(&self, id: i64) -> StoreResult<ConsultationResults> {
        let c = self
            .consultation(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("consultation {id}"),
            })?;
        let mut eligible = QueryBuilder::<Db>::new(
            "SELECT h.village_id, COUNT(*) AS n FROM households h WHERE 1 = 1",
        );
        push_scope_grids(
            &mut eligible,
            c.scope,
            ("consultation_villages", "consultation_id", c.id),
            c.project_id,
        );
        eligible.push(" GROUP BY h.village_id");
        let eligible_by: HashMap<i64, i64> = eligible
            .build_query_as::<(i64, i64)>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect();
        let answered_by: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>("SELECT village_id, COUNT(*) AS n FROM consultation_answers WHERE consultation_id = $1 AND current = 1 GROUP BY village_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect();
        let villages: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM villages ORDER BY code")
                .fetch_all(&self.pool)
                .await
                .db()?;
        let mut by_village = Vec::new();
        for (vid, name) in villages {
            if let Some(e) = eligible_by.get(&vid) {
                by_village.push((vid, name, *e, answered_by.get(&vid).copied().unwrap_or(0)));
            }
        }
        let counts = sqlx::query_as(
            "SELECT question_id, option_id, rank, village_id, COUNT(*) AS n FROM consultation_answer_items \
             WHERE consultation_id = $1 AND current = 1 AND option_id IS NOT NULL GROUP BY question_id, option_id, rank, village_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let texts = sqlx::query_as(
            "SELECT i.question_id, v.name, i.text FROM consultation_answer_items i JOIN villages v ON v.id = i.village_id \
             WHERE i.consultation_id = $1 AND i.current = 1 AND i.text IS NOT NULL ORDER BY i.question_id, i.answer_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(ConsultationResults {
            eligible: eligible_by.values().sum(),
            answered: by_village.iter().map(|v| v.3).sum(),
            villages: by_village,
            counts,
            texts,
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn publish_results_notice(
        &self,
        actor: &Actor,
        id: i64,
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<Notice> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            publish_once(
                tx,
                &actor,
                ("consultations", "result_notice_id", id),
                "consultation.publish_results",
                draft,
            )
            .await
        })
    }
}
