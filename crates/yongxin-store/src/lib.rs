//! The storage interface of yongxin: the store traits, one per aggregate, their error type and
//! the records they read and write. The conformance suite every backend passes is the
//! `yongxin-store-conformance` crate; the demo loaders are `yongxin-demo`.
//!
//! Backends (SQLite, PostgreSQL) live in their own crates; nothing here names a database type.
#![forbid(unsafe_code)]

mod appeal_model;
mod campaign_model;
mod consultation_model;
mod error;
mod id;
mod meeting_model;
mod model;
mod notice_model;
mod policy_cache;
mod resettlement_model;
mod selection_model;

pub use appeal_model::*;
pub use campaign_model::*;
pub use consultation_model::*;
pub use error::{Cause, Conflict, StoreError};
pub use id::*;
pub use meeting_model::*;
pub use model::*;
pub use notice_model::*;
pub use policy_cache::parsed_policy;
pub use resettlement_model::*;
pub use selection_model::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use yongxin_domain::appeal::Deadline;
use yongxin_domain::appeal::{AppealAction, AppealError, AppealPolicy};
use yongxin_domain::audit::{AuditChainError, VerifiedChain};
use yongxin_domain::calendar::CardColour;
use yongxin_domain::catalogue::Category;
use yongxin_domain::meeting::SignInWay;
use yongxin_domain::notice::{CheckedNotice, NoticeDraft};
use yongxin_domain::resettlement::entitlement::HouseholdInputs;
use yongxin_domain::resettlement::{Phase, ResettlementError};
use yongxin_domain::roster::{HouseholdRecord, RegistryLookup};
use yongxin_domain::selection::{ClaimRefusal, Queue, QueueRefusal};
use yongxin_domain::{Actor, AuditEntry, NewAuditEntry};

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The registry (户籍): the subdistrict, its villages and grids, households and their members.
#[async_trait]
pub trait RegistryStore: Send + Sync + 'static {
    /// The subdistrict's name, if the registry has been set up.
    async fn subdistrict(&self) -> StoreResult<Option<String>>;
    /// Names the subdistrict (街道).
    async fn set_subdistrict(&self, actor: &Actor, name: &str) -> StoreResult<()>;
    /// Adds a village or community.
    async fn create_village(&self, actor: &Actor, village: NewVillage) -> StoreResult<Village>;
    /// Adds a grid to a village.
    async fn create_grid(&self, actor: &Actor, grid: NewGrid) -> StoreResult<Grid>;
    /// Makes a user the grid's responsible cadre.
    async fn assign_grid_cadre(&self, actor: &Actor, grid_id: i64, user_id: i64)
        -> StoreResult<()>;
    /// Villages with their counts, by code.
    async fn villages(&self) -> StoreResult<Vec<Village>>;
    /// Grids (of one village, or all), by code.
    async fn grids(&self, village_id: Option<i64>) -> StoreResult<Vec<Grid>>;
    /// What roster validation needs to know of the registry.
    async fn registry_lookup(&self) -> StoreResult<RegistryLookup>;
    /// Stores validated households all-or-nothing: a household whose key exists is updated and its
    /// members replaced by the roster's.
    async fn import_households(
        &self,
        actor: &Actor,
        households: &[HouseholdRecord],
    ) -> StoreResult<ImportSummary>;
    /// A page of households matching a query, within a scope.
    async fn search_households(&self, query: &HouseholdQuery) -> StoreResult<HouseholdPage>;
    /// One household with its members and its grid's cadre.
    async fn household(&self, id: HouseholdId) -> StoreResult<HouseholdDetail>;
    /// Every resident with their household, in roster order, for export.
    async fn roster(&self) -> StoreResult<Vec<RosterEntry>>;
    /// The members of these households (id and name, in roster order), for a cadre's list of
    /// the doors they knock on.
    async fn members_of(
        &self,
        households: &[HouseholdId],
    ) -> StoreResult<std::collections::HashMap<HouseholdId, Vec<(i64, String)>>>;
    /// The ids of the households with these keys (户号); keys not found are absent.
    async fn household_ids_by_key(
        &self,
        keys: &[String],
    ) -> StoreResult<std::collections::HashMap<String, HouseholdId>>;
}

/// Accounts: users, sessions, API tokens, sign-in failures and the installation's secrets.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Adds a user.
    async fn create_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User>;
    /// A user and their password hash, by user name.
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// Replaces a user's password hash.
    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
    ) -> StoreResult<()>;
    /// Sets or clears the address a user's notifications are e-mailed to.
    async fn set_user_email(
        &self,
        actor: &Actor,
        user_id: i64,
        email: Option<&str>,
    ) -> StoreResult<()>;
    /// One user, by id.
    async fn user(&self, id: i64) -> StoreResult<Option<User>>;
    /// Every user, by name.
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// Opens a session for a user; the store keeps only the token's hash.
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user of a live session.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>)
        -> StoreResult<Option<User>>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Issues an API token for a user, valid until `expires_at`; the store keeps only its hash.
    async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user a live API token belongs to: not expired at `now`, not revoked, the account not
    /// disabled.
    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// A user's API tokens, live or not, oldest first.
    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    /// How many API tokens still work at `now`, by user id (users without one left out).
    async fn live_api_token_counts(
        &self,
        now: DateTime<Utc>,
    ) -> StoreResult<std::collections::HashMap<i64, i64>>;
    /// Revokes every live API token of a user; how many were.
    async fn revoke_api_tokens(&self, actor: &Actor, user_id: i64) -> StoreResult<u64>;
    /// Issues a one-time code (激活码 for a new account, 重置码 for a reset) for a user, replacing
    /// any unused one; a reset also ends the old password, the sessions and the API tokens at
    /// once. Only the code's hash is kept.
    async fn issue_account_code(
        &self,
        actor: &Actor,
        user_id: i64,
        code: &AccountCode,
    ) -> StoreResult<()>;
    /// Sets the password of the enabled account named `username` whose live code has this hash,
    /// and spends the code (sessions and tokens end); false, changing nothing, when there is none.
    async fn redeem_account_code(
        &self,
        username: &str,
        code_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Changes a user's role and the part of the registry it serves (a village for a village
    /// officer, a household for a resident).
    async fn set_user_role(
        &self,
        actor: &Actor,
        user_id: i64,
        role: yongxin_domain::Role,
        village_id: Option<i64>,
        household_id: Option<HouseholdId>,
    ) -> StoreResult<()>;
    /// Creates accounts, each with its activation code, in one write (residents of a village in
    /// bulk): all or none.
    async fn create_accounts(
        &self,
        actor: &Actor,
        accounts: Vec<(NewUser, AccountCode)>,
    ) -> StoreResult<Vec<User>>;
    /// Disables an account (its sessions end and its tokens are revoked) or enables it again.
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
    ) -> StoreResult<()>;
    /// A secret of this installation, made once by the migrations (`tracking`: keys the tracking
    /// codes of cases).
    async fn server_secret(&self, name: &str) -> StoreResult<String>;
    /// Failed sign-ins of an account from an address since a time.
    async fn sign_in_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<SignInFailures>;
    /// Counts a failed sign-in.
    async fn record_sign_in_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets failed sign-ins after a success.
    async fn clear_sign_in_failures(&self, username: &str, address: &str) -> StoreResult<()>;
}

/// The service catalogue and the working-day calendars.
#[async_trait]
pub trait CatalogueStore: Send + Sync + 'static {
    /// The service catalogue, in display order (inactive categories too).
    async fn categories(&self) -> StoreResult<Vec<(Category, bool)>>;
    /// Adds or replaces a category (by code).
    async fn save_category(
        &self,
        actor: &Actor,
        category: &Category,
        position: i64,
        active: bool,
    ) -> StoreResult<()>;
    /// The calendar files loaded, by year.
    async fn calendar_years(&self) -> StoreResult<Vec<(i32, String)>>;
    /// Adds or replaces a year's calendar file (already checked).
    async fn save_calendar_year(&self, actor: &Actor, year: i32, source: &str) -> StoreResult<()>;
}

/// Appeals (诉求): filing, handling, photos, imports, searches and the three rates.
#[async_trait]
pub trait AppealStore: Send + Sync + 'static {
    /// Stores a new appeal with its first event.
    async fn create_appeal(&self, actor: &Actor, appeal: NewAppeal) -> StoreResult<Appeal> {
        self.create_appeal_with_photos(actor, appeal, Vec::new())
            .await
    }
    /// Files an appeal with photos, all in one transaction.
    async fn create_appeal_with_photos(
        &self,
        actor: &Actor,
        appeal: NewAppeal,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Appeal>;
    /// One appeal with its history, oldest first.
    async fn appeal(&self, id: AppealId) -> StoreResult<(Appeal, Vec<AppealEvent>)>;
    /// Applies an action to an appeal as its current state allows, in one transaction with its
    /// event, notification messages and audit entry. A refusal by the lifecycle changes nothing.
    async fn act_on_appeal(
        &self,
        actor: &Actor,
        id: AppealId,
        action: AppealAction,
        policy: AppealPolicy,
    ) -> StoreResult<Result<Appeal, AppealError>> {
        self.act_on_appeal_with_photos(actor, id, action, policy, Vec::new())
            .await
    }
    /// The same, with photos for the action's event (a note or a reply), in the same transaction.
    async fn act_on_appeal_with_photos(
        &self,
        actor: &Actor,
        id: AppealId,
        action: AppealAction,
        policy: AppealPolicy,
        photos: Vec<NewPhoto>,
    ) -> StoreResult<Result<Appeal, AppealError>>;
    /// The photos of an appeal and its events, in order.
    async fn appeal_photos(&self, appeal_id: AppealId) -> StoreResult<Vec<PhotoRef>> {
        self.photos_of_appeals(&[appeal_id]).await
    }
    /// The photos of several appeals and their events, with one query, by appeal and in order.
    async fn photos_of_appeals(&self, appeal_ids: &[AppealId]) -> StoreResult<Vec<PhotoRef>>;
    /// A photo by its token, as it was uploaded (callers clean it before showing it to anyone but
    /// staff).
    async fn photo(&self, token: &str) -> StoreResult<Option<(PhotoRef, Vec<u8>)>>;
    /// Stores appeals with their histories in one transaction, replaying each history through the
    /// lifecycle (a history it refuses fails the whole import). One audit entry per appeal.
    async fn import_appeals(
        &self,
        actor: &Actor,
        appeals: Vec<ImportedAppeal>,
        policy: AppealPolicy,
    ) -> StoreResult<u64>;
    /// The three rates' counts of cases filed from the Shanghai day `from` to the day `to`, both
    /// included, grouped, judged at `now`.
    async fn appeal_stats(
        &self,
        group: StatsGroup,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<StatsRow>>;
    /// The facts behind the three rates of the cases filed in `[from, to)`, after `after` in id
    /// order: no one's name, address or words, only what the rates count.
    async fn public_cases(
        &self,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        after: AppealId,
        limit: i64,
    ) -> StoreResult<Vec<PublicCase>>;
    /// Answered cases nobody rated, answered before `cutoff` (to close automatically).
    async fn unrated_answered_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<AppealId>>;
    /// A page of appeals, newest first.
    async fn search_appeals(&self, query: &AppealQuery) -> StoreResult<AppealPage>;
}

/// Deadlines lapsing, card notices (黄牌/红牌) and supervision notices (督办单).
#[async_trait]
pub trait SupervisionStore: Send + Sync + 'static {
    /// Waiting cases with a cadre whose contact deadline (not contacted) or resolution deadline (not
    /// answered) falls in `[from, until)` and has not had its red card announced, each with the card
    /// notices it has had, as
    /// `(deadline, card)`.
    async fn card_candidates(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(Appeal, Vec<(Deadline, CardColour)>)>>;
    /// Records a card notice (黄牌/红牌) on a case and queues its message to the case's cadre, once
    /// per case, deadline and card; false when it was recorded before or the case has no cadre.
    async fn notify_card(
        &self,
        appeal_id: AppealId,
        deadline: Deadline,
        card: CardColour,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Records, on the cases and in the rates' counters, the deadlines that have passed by `now`
    /// while the case waited; returns how many it recorded. Every node may run it.
    async fn lapse_deadlines(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Issues a supervision notice (督办单) on a case; its handler is notified.
    async fn issue_supervision(
        &self,
        actor: &Actor,
        appeal_id: AppealId,
        text: &str,
        due_at: DateTime<Utc>,
    ) -> StoreResult<SupervisionNotice>;
    /// Answers a supervision notice; answering twice is a conflict.
    async fn answer_supervision(
        &self,
        actor: &Actor,
        notice_id: i64,
        answer: &str,
    ) -> StoreResult<SupervisionNotice>;
    /// The notices of a case, oldest first.
    async fn supervision_notices(&self, appeal_id: AppealId)
        -> StoreResult<Vec<SupervisionNotice>>;
    /// Notices not yet answered, oldest due first.
    async fn open_supervision_notices(&self, limit: i64) -> StoreResult<Vec<SupervisionNotice>>;
    /// What hot-issue detection needs of every case filed since `since` (at most 200,000).
    async fn case_marks(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<yongxin_domain::hot::CaseMark>>;
}

/// The outbox: messages to residents and cadres, delivered by whichever node claims them.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Claims up to `limit` messages due by `now` for one sender, hiding them from other
    /// senders until `lease_until` (so a crashed sender's messages come back later).
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Marks a message delivered.
    async fn message_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt and when to try again.
    async fn message_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Messages not yet delivered.
    async fn pending_messages(&self) -> StoreResult<i64>;
    /// The messages a filter selects, newest first, one page, and how many it selects in all.
    async fn outbox_entries(
        &self,
        filter: &OutboxFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OutboxEntry>, i64)>;
    /// What a rating link names: the case of an answer notice, and whether that notice is still
    /// the case's latest (a link from an earlier answer is spent). `None` for any other message.
    async fn rating_link(&self, message_id: i64) -> StoreResult<Option<(AppealId, bool)>>;
}

/// The keys of Open311 clients.
#[async_trait]
pub trait Open311KeyStore: Send + Sync + 'static {
    /// Issues an Open311 API key for a client (the caller keeps the key, the store its hash).
    async fn create_open311_key(
        &self,
        actor: &Actor,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<Open311Key>;
    /// Every Open311 key, newest first.
    async fn open311_keys(&self) -> StoreResult<Vec<Open311Key>>;
    /// The unrevoked key with this hash.
    async fn open311_key(&self, key_hash: &str) -> StoreResult<Option<Open311Key>>;
    /// Revokes a key.
    async fn revoke_open311_key(&self, actor: &Actor, id: i64) -> StoreResult<()>;
}

/// The feed the search index follows: the audit chain, read for the appeals it touched, in
/// commit order, and what the index holds of them.
#[async_trait]
pub trait AppealFeed: AuditLog {
    /// Appeals touched by audit entries after `after_seq`, in order of first touch, and the
    /// sequence and hash of the last entry read (`None` when there was nothing after it). The
    /// chain is appended in commit order on both backends, so a reader following it misses no
    /// change, and the hash tells it later that it followed this database and no other.
    async fn appeal_changes(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<(Vec<AppealId>, Option<(i64, String)>)>;
    /// Up to `limit` appeal ids above `after_id`, ascending (for rebuilding derived data).
    async fn appeal_ids_after(&self, after_id: AppealId, limit: i64) -> StoreResult<Vec<AppealId>>;
    /// These appeals, in the order of `ids`; unknown ids are left out.
    async fn appeals_by_ids(&self, ids: &[AppealId]) -> StoreResult<Vec<Appeal>>;
    /// What the full-text index holds of these appeals; unknown ids are left out.
    async fn appeal_search_docs(&self, ids: &[AppealId]) -> StoreResult<Vec<AppealSearchDoc>>;
}

/// The tamper-evident record (留痕): entries that stand alone, reading the chain, verifying it.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends entries that stand alone (a full view of personal data, a sign-in).
    async fn record(&self, entries: Vec<NewAuditEntry>) -> StoreResult<Vec<AuditEntry>>;
    /// Entries after a sequence number, oldest first.
    async fn audit_entries(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The newest entries, newest first.
    async fn recent_audit_entries(&self, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The head the store keeps beside the record: last sequence and hash.
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Recomputes the whole chain.
    async fn verify_audit(&self) -> StoreResult<Result<VerifiedChain, AuditChainError>> {
        self.verify_audit_with(yongxin_domain::audit::ChainVerifier::default())
            .await
    }
    /// Recomputes the whole chain, looking for a head published earlier on the way.
    async fn verify_audit_against(
        &self,
        published_head: &str,
    ) -> StoreResult<Result<VerifiedChain, AuditChainError>> {
        self.verify_audit_with(yongxin_domain::audit::ChainVerifier::looking_for(
            published_head,
        ))
        .await
    }
    /// Streams the whole chain through a verifier.
    async fn verify_audit_with(
        &self,
        mut verifier: yongxin_domain::audit::ChainVerifier,
    ) -> StoreResult<Result<VerifiedChain, AuditChainError>> {
        let mut after = 0;
        loop {
            let batch = self.audit_entries(after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in &batch {
                if let Err(err) = verifier.push(e) {
                    return Ok(Err(err));
                }
            }
        }
        let head = self.audit_head().await?;
        Ok(verifier.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))))
    }
}

/// Everything yongxin keeps. Every method that changes data appends its audit entries in the same
/// transaction, so a change and its record are committed or lost together.
#[async_trait]
pub trait Store:
    RegistryStore
    + AccountStore
    + CatalogueStore
    + AppealStore
    + SupervisionStore
    + OutboxStore
    + Open311KeyStore
    + AppealFeed
    + AuditLog
    + NoticeStore
    + ConsultationStore
    + MeetingStore
    + ResettlementStore
    + SelectionStore
    + CampaignStore
    + ScorecardStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Connection pool figures for `/metrics`.
    fn pool_stats(&self) -> PoolStats;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// 考核: scorecards over a period, and the weekly reports kept once their week is over.
#[async_trait]
pub trait ScorecardStore: Send + Sync + 'static {
    /// The scorecards of the Shanghai days `from` to `to` (both included), grouped, judged at
    /// `now`: the cases filed then (each figure as [`FigureFilter`] lists them), the cases
    /// overdue now, supervised then, and the visits, households reached and informed then.
    async fn scorecards(
        &self,
        group: yongxin_domain::scorecard::ScoreGroup,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<ScorecardRow>>;
    /// The desk's cards of the cases within `scope` waiting on their handlers: per department
    /// and cadre, how many are past a deadline they wait on at `now` (red); and, to judge yellow
    /// (the calendar is the caller's), the clocks of those with a deadline between `now` and
    /// `horizon`.
    async fn card_board(
        &self,
        scope: &AppealScope,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
    ) -> StoreResult<CardBoard>;
    /// Cases filed per key (category, village name or address; within a village when given):
    /// in `[middle, to)` and in `[from, middle)` — hot issues this week against last.
    async fn hot_counts(
        &self,
        by: HotKey,
        village_id: Option<i64>,
        weeks: (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
    ) -> StoreResult<Vec<(String, i64, i64)>>;
    /// Filing and answer of every answered case filed in the period, with its group's key.
    async fn answer_spans(
        &self,
        group: yongxin_domain::scorecard::ScoreGroup,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> StoreResult<Vec<AnswerSpan>>;
    /// The weekly report kept for an ISO week (`2026-W49`), as it was first produced.
    async fn kept_weekly_report(&self, week: &str) -> StoreResult<Option<String>>;
    /// Keeps a finished week's report unless one is kept already; answers the kept one (so two
    /// nodes producing it at once keep the same). Recorded with its digest.
    async fn keep_weekly_report(
        &self,
        actor: &Actor,
        week: &str,
        report: &str,
    ) -> StoreResult<String>;
}

/// Notices (公告, 公示), the projects they may address, objections and informed households.
#[async_trait]
pub trait NoticeStore: Send + Sync + 'static {
    /// Creates a project.
    async fn create_project(&self, actor: &Actor, project: NewProject) -> StoreResult<Project>;
    /// Every project, by code.
    async fn projects(&self) -> StoreResult<Vec<Project>>;
    /// Publishes a checked draft as version 1.
    async fn create_notice(
        &self,
        actor: &Actor,
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<Notice>;
    /// Publishes the record's head for an ISO week (`2026-W50`) as a notice, once per week: if the
    /// week was published already, answers that notice and `false`, writing nothing.
    async fn publish_audit_head(
        &self,
        actor: &Actor,
        week: &str,
        head: (i64, &str),
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<(Notice, bool)>;
    /// The heads published, newest week first: week, sequence, hash, notice.
    async fn published_audit_heads(&self) -> StoreResult<Vec<(String, i64, String, i64)>>;
    /// Corrects a notice's title and text as a new version; the old one stays in its history.
    async fn correct_notice(
        &self,
        actor: &Actor,
        id: i64,
        title: &str,
        body: &str,
        reason: &str,
    ) -> StoreResult<Notice>;
    /// One notice.
    async fn notice(&self, id: i64) -> StoreResult<Option<Notice>>;
    /// A notice's versions, oldest first.
    async fn notice_versions(&self, id: i64) -> StoreResult<Vec<NoticeVersion>>;
    /// A page of notices, newest publication first.
    async fn notices(&self, query: &NoticeQuery) -> StoreResult<NoticePage>;
    /// Attaches a file.
    async fn add_notice_attachment(
        &self,
        actor: &Actor,
        notice_id: i64,
        file: NewAttachment,
    ) -> StoreResult<NoticeAttachment>;
    /// A notice's files, in the order attached.
    async fn notice_attachments(&self, notice_id: i64) -> StoreResult<Vec<NoticeAttachment>>;
    /// One file with its content.
    async fn notice_attachment(
        &self,
        notice_id: i64,
        token: &str,
    ) -> StoreResult<Option<(NoticeAttachment, Vec<u8>)>>;
    /// Records that a household was informed, unless it already was; answers whether this was
    /// news. `by` is the reading member's or the confirming cadre's user id.
    async fn mark_informed(
        &self,
        actor: &Actor,
        notice_id: i64,
        household_id: HouseholdId,
        how: InformedHow,
        by: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Whether, how and by whom a household was informed.
    async fn informed(
        &self,
        notice_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Informed>>;
    /// Households addressed and informed, per grid, in village and grid order (the caller has
    /// the notice already).
    async fn notice_coverage(&self, notice: &Notice) -> StoreResult<Vec<CoverageRow>>;
    /// A page of the households addressed and not yet informed (宣传到户), optionally of one
    /// village or of some grids, by household key. How many there are is the coverage's
    /// households less its informed ones: not counted again here.
    async fn uninformed_households(
        &self,
        notice: &Notice,
        village_id: Option<i64>,
        grid_ids: Option<Vec<i64>>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Vec<HouseholdSummary>>;
    /// Files an objection (异议) to a 公示 as an appeal linked to it, if its window is open at the
    /// appeal's time; checked in the same transaction as the filing.
    async fn create_objection(
        &self,
        actor: &Actor,
        notice_id: i64,
        appeal: NewAppeal,
    ) -> StoreResult<Result<Appeal, yongxin_domain::notice::NoticeError>>;
    /// The objections to a notice, oldest first.
    async fn objections(&self, notice_id: i64) -> StoreResult<Vec<Appeal>>;
    /// The notice an appeal objects to, if it is an objection.
    async fn objected_notice(&self, appeal_id: AppealId) -> StoreResult<Option<(i64, String)>>;
}

/// Consultations (征求意见): questions to the households of a population, one current answer per
/// household, results.
#[async_trait]
pub trait ConsultationStore: Send + Sync + 'static {
    /// Creates a consultation with its questions.
    async fn create_consultation(
        &self,
        actor: &Actor,
        c: NewConsultation,
    ) -> StoreResult<Consultation>;
    /// One consultation with its questions.
    async fn consultation(&self, id: i64) -> StoreResult<Option<Consultation>>;
    /// Every consultation, newest opening first (without questions).
    async fn consultations(&self) -> StoreResult<Vec<Consultation>>;
    /// Records a household's answer, replacing its current one, if the consultation is open at
    /// the answer's time, the household is asked and the answers fit the questions; the village
    /// and the answering member's age band are kept with it. One current answer per household is
    /// enforced by the database.
    async fn submit_answer(
        &self,
        actor: &Actor,
        consultation_id: i64,
        answer: NewAnswer,
    ) -> StoreResult<Result<i64, yongxin_domain::consultation::ConsultationError>>;
    /// A household's current answer.
    async fn current_answer(
        &self,
        consultation_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<CurrentAnswer>>;
    /// Results from the current answers.
    async fn consultation_results(&self, id: i64) -> StoreResult<ConsultationResults>;
    /// Publishes the results as a notice (a checked draft) and records it on the consultation,
    /// once: if they were published already, answers that notice and writes nothing.
    async fn publish_results_notice(
        &self,
        actor: &Actor,
        id: i64,
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<Notice>;
}

/// Door-to-door campaigns (入户走访): target households and who visits them, visits (each
/// concern raised filed as a case in the same write), corrections, and coverage.
#[async_trait]
pub trait CampaignStore: Send + Sync + 'static {
    /// Creates a campaign: resolves its target to households as the registry stands, assigns
    /// them by grid (to each grid's cadre) or leaves them for assignment by hand, and creates its
    /// visit form when written for it, all in one write. A target naming no household is
    /// `Invalid { field: "target" }`.
    async fn create_campaign(&self, actor: &Actor, campaign: NewCampaign) -> StoreResult<Campaign>;
    /// One campaign.
    async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>>;
    /// Every campaign with its counts, latest start first; for a cadre, only the campaigns with
    /// households assigned to them, counted over those.
    async fn campaigns(&self, cadre_user_id: Option<i64>) -> StoreResult<Vec<CampaignSummary>>;
    /// A campaign's counts, over one cadre's households when given.
    async fn campaign_totals(
        &self,
        id: i64,
        cadre_user_id: Option<i64>,
    ) -> StoreResult<CampaignTotals>;
    /// Coverage grouped by village, grid, cadre or day (within one cadre's households when
    /// given).
    async fn campaign_coverage(
        &self,
        id: i64,
        by: CoverageBy,
        cadre_user_id: Option<i64>,
    ) -> StoreResult<Vec<CoverageGroup>>;
    /// Households settled per day (the burn-down's data).
    async fn campaign_settled_per_day(
        &self,
        id: i64,
    ) -> StoreResult<std::collections::BTreeMap<chrono::NaiveDate, i64>>;
    /// A page of a campaign's households, by grid code and household key.
    async fn campaign_households(
        &self,
        id: i64,
        query: &CampaignHouseholdQuery,
    ) -> StoreResult<CampaignHouseholdPage>;
    /// One household's place in a campaign.
    async fn campaign_household(
        &self,
        id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<CampaignHousehold>>;
    /// Assigns households to a cadre (or to nobody) by hand, keeping the history; households not
    /// in the campaign are `Invalid { field: "households" }`. Answers how many changed hands.
    async fn assign_campaign_households(
        &self,
        actor: &Actor,
        id: i64,
        household_ids: &[HouseholdId],
        cadre_user_id: Option<i64>,
    ) -> StoreResult<u64>;
    /// Hands every household a cadre has still to settle to another (someone fell ill). Answers
    /// how many.
    async fn reassign_open_households(
        &self,
        actor: &Actor,
        id: i64,
        from_user_id: i64,
        to_user_id: i64,
    ) -> StoreResult<u64>;
    /// A household's assignments, oldest first: cadre (name), why, by whom, when.
    async fn campaign_assignments(
        &self,
        id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<(Option<String>, String, String, DateTime<Utc>)>>;
    /// Records a visit, once per client id: the same content again is `Replayed` and writes
    /// nothing; other content under that id is refused. The household must be assigned to the
    /// cadre (or within their scope, if the campaign is open to scope). Its answers are the
    /// household's answer to the form, its concerns are filed as cases linked to it, the
    /// household's progress is recomputed, escalated to its village officer when the rules say
    /// so, and a household reached is marked informed of the campaign's notice, all in one write.
    async fn record_visit(
        &self,
        actor: &Actor,
        campaign_id: i64,
        visit: NewVisit,
    ) -> StoreResult<Result<VisitRecorded, VisitRefusal>>;
    /// Replaces a current visit by a corrected one (the rule is the domain's `may_correct`); the
    /// visit replaced stays as history. Answers the new visit.
    async fn correct_visit(
        &self,
        actor: &Actor,
        campaign_id: i64,
        visit_id: i64,
        correction: VisitCorrection,
    ) -> StoreResult<Result<Visit, VisitRefusal>>;
    /// One visit of a campaign.
    async fn visit(&self, campaign_id: i64, visit_id: i64) -> StoreResult<Option<Visit>>;
    /// A household's visits in a campaign, corrections included, oldest first.
    async fn household_visits(
        &self,
        campaign_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<Visit>>;
    /// A visit photo's upload, by visit and token.
    async fn visit_photo(
        &self,
        visit_id: i64,
        token: &str,
    ) -> StoreResult<Option<(String, Vec<u8>)>>;
    /// The concerns raised in a campaign's visits, with their cases as they stand, latest first.
    async fn campaign_concerns(&self, id: i64) -> StoreResult<Vec<VisitConcern>>;
    /// The visit a case was raised at, if it was.
    async fn appeal_visit(&self, appeal_id: AppealId) -> StoreResult<Option<VisitSource>>;
}

/// Meetings (会议): members drawn from the registry, attendance, minutes and resolutions decided by
/// the quorum and majority rules.
#[async_trait]
pub trait MeetingStore: Send + Sync + 'static {
    /// Creates a meeting and draws its members from the registry as it stands: the village's
    /// representatives or Party members by their flags, its adults (18 or over on the day) or its
    /// household heads, or the residents named by identity number. No members (but for a
    /// hearing) is `Invalid { field: "members" }`.
    async fn create_meeting(&self, actor: &Actor, meeting: NewMeeting) -> StoreResult<Meeting>;
    /// One meeting.
    async fn meeting(&self, id: i64) -> StoreResult<Option<Meeting>>;
    /// Every meeting, latest first.
    async fn meetings(&self) -> StoreResult<Vec<Meeting>>;
    /// A meeting's members, by household and name.
    async fn meeting_members(&self, id: i64) -> StoreResult<Vec<MeetingMember>>;
    /// Signs a member in (`door` by a cadre, `code` by their phone); answers whether this was
    /// news. Not a member: `NotFound`.
    async fn sign_in_member(
        &self,
        actor: &Actor,
        meeting_id: i64,
        resident_id: i64,
        how: SignInWay,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Sets the sign-in code shown at the meeting (its hash) and until when it works.
    async fn set_sign_in_code(
        &self,
        actor: &Actor,
        meeting_id: i64,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The sign-in code's hash and expiry.
    async fn sign_in_code(&self, meeting_id: i64) -> StoreResult<Option<(String, DateTime<Utc>)>>;
    /// Writes the minutes.
    async fn save_minutes(&self, actor: &Actor, meeting_id: i64, minutes: &str) -> StoreResult<()>;
    /// Records a resolution with its vote, decided by the meeting's rule on its members and
    /// those present now, in one transaction; an inquorate meeting adopts nothing.
    async fn add_resolution(
        &self,
        actor: &Actor,
        meeting_id: i64,
        text: &str,
        votes: (u32, u32, u32),
    ) -> StoreResult<Result<Resolution, yongxin_domain::meeting::MeetingError>>;
    /// A meeting's resolutions, in order.
    async fn resolutions(&self, meeting_id: i64) -> StoreResult<Vec<Resolution>>;
    /// Publishes the minutes and resolutions as a notice (a checked draft) and records it on the
    /// meeting, once: if they were published already, answers that notice and writes nothing.
    async fn publish_minutes_notice(
        &self,
        actor: &Actor,
        meeting_id: i64,
        draft: yongxin_domain::notice::CheckedNotice,
    ) -> StoreResult<Notice>;
}

/// Resettlement (拆迁安置): phases, policy versions, assessments and results, registrations and the
/// lottery. Refusals the user can act on come back as `Ok(Err(ResettlementError))`, having changed
/// nothing.
#[async_trait]
pub trait ResettlementStore: Send + Sync + 'static {
    /// A project with its phase.
    async fn project(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>>;
    /// A project's phase changes, oldest first.
    async fn phase_changes(&self, project_id: ProjectId) -> StoreResult<Vec<PhaseChange>>;
    /// Moves a project to the next phase (not into the phases an action moves into).
    async fn move_phase(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        to: Phase,
        reason: &str,
    ) -> StoreResult<Result<ProjectDetail, ResettlementError>>;
    /// Publishes a checked policy (the next version) with its notice, and the catalogue of
    /// apartments it describes; a project in preparation moves to 政策公布.
    async fn publish_policy(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        source: &str,
        notice: CheckedNotice,
    ) -> StoreResult<Result<PolicyVersion, ResettlementError>>;
    /// A project's policy versions, oldest first.
    async fn policy_versions(&self, project_id: ProjectId) -> StoreResult<Vec<PolicyVersion>>;
    /// A project's apartments, by building and number.
    async fn project_units(&self, project_id: ProjectId) -> StoreResult<Vec<ProjectUnit>>;
    /// Saves an assessment and the result computed from it under the current policy (with the
    /// registered layouts, if any). After the results are published only as a correction with a
    /// reason.
    async fn save_assessment(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        inputs: HouseholdInputs,
        correction: Option<String>,
    ) -> StoreResult<Result<EntitlementRecord, ResettlementError>>;
    /// A household's latest assessment.
    async fn assessment(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Assessment>>;
    /// Every result of a household, oldest first (the last current one is the household's).
    async fn entitlement_history(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<EntitlementRecord>>;
    /// A household's current result.
    async fn entitlement(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<EntitlementRecord>>;
    /// Registers (or re-registers) a household's preferred layouts, checked against its
    /// entitlement; a household never assessed gets its members assessed from the registry.
    async fn register(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        layouts: Vec<String>,
        by: &User,
        in_person: bool,
    ) -> StoreResult<Result<Registration, ResettlementError>>;
    /// A household's registration.
    async fn registration(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Registration>>;
    /// A page of the project's households with their results, by household key; and how many.
    async fn project_households(
        &self,
        project_id: ProjectId,
        page: u32,
        per_page: u32,
        unregistered_only: bool,
    ) -> StoreResult<(Vec<ProjectHousehold>, i64)>;
    /// Every household of the project with its result, by household key.
    async fn all_project_households(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<ProjectHousehold>> {
        let mut out = Vec::new();
        for page in 1.. {
            let (rows, total) = self
                .project_households(project_id, page, 500, false)
                .await?;
            let done =
                rows.is_empty() || out.len() + rows.len() >= usize::try_from(total).unwrap_or(0);
            out.extend(rows);
            if done {
                break;
            }
        }
        Ok(out)
    }
    /// Registration progress by village.
    async fn registration_coverage(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<RegistrationCoverage>>;
    /// Registrations per Shanghai day and person, newest day first.
    async fn registration_days(&self, project_id: ProjectId) -> StoreResult<Vec<RegistrationDay>>;
    /// Publishes the results 公示 (every household assessed) and moves to 结果公示.
    async fn publish_results(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        notice: CheckedNotice,
    ) -> StoreResult<Result<ProjectDetail, ResettlementError>>;
    /// Freezes the registered list and publishes it with the seed rule.
    async fn freeze_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        seed_rule: &str,
        commitment: &yongxin_domain::lottery::SeedCommitment,
        notice: NoticeDraft,
    ) -> StoreResult<Result<LotteryState, ResettlementError>>;
    /// Draws: with a commitment, `seed` is the six digits drawn in public and the parties reveal
    /// their values (the seed is derived from both); a lottery frozen before commitments existed
    /// takes a plain seed. A second draw needs a reason, and a commitment not yet revealed.
    async fn draw_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        seed: &str,
        reveals: &[yongxin_domain::lottery::Reveal],
        redraw_reason: Option<String>,
    ) -> StoreResult<Result<LotteryState, ResettlementError>>;
    /// Replaces a commitment whose values a draw revealed, before a redraw; published as a notice.
    async fn recommit_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        commitment: &yongxin_domain::lottery::SeedCommitment,
        notice: NoticeDraft,
    ) -> StoreResult<Result<LotteryState, ResettlementError>>;
    /// The lottery, once frozen.
    async fn lottery(&self, project_id: ProjectId) -> StoreResult<Option<LotteryState>>;
}

/// Selection (选房): selections with their lists, claims decided in the database (an apartment's
/// owner is set once), the board's event log, the selection-day queue and agreements.
#[async_trait]
pub trait SelectionStore: Send + Sync + 'static {
    /// Sets up a selection for a drawn project in the selection phase: its list (lottery order and
    /// limit of every household drawn) is fixed now.
    async fn create_selection(
        &self,
        actor: &Actor,
        s: NewSelection,
    ) -> StoreResult<Result<Selection, yongxin_domain::selection::SetupError>>;
    /// Selections, of one project or all, newest first.
    async fn selections(&self, project_id: Option<ProjectId>) -> StoreResult<Vec<Selection>>;
    /// One selection.
    async fn selection(&self, id: i64) -> StoreResult<Option<Selection>>;
    /// A household's place on a selection's list: order, limit and any decline.
    async fn selection_household(
        &self,
        selection_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<ListedHousehold>>;
    /// Claims units for a household: confirmed in one transaction (units free, within the limit,
    /// the household's turn) or refused with the reason, changing nothing.
    async fn claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        household_id: HouseholdId,
        unit_ids: Vec<i64>,
        by: &User,
        on_behalf: bool,
    ) -> StoreResult<Result<Claim, ClaimRefusal>>;
    /// Corrects a confirmed claim (administrators, with a reason): its apartments become
    /// available again, the board is told, the claim keeps the correction. `None`: no such claim,
    /// or corrected already.
    async fn correct_claim(
        &self,
        actor: &Actor,
        claim_id: i64,
        reason: &str,
    ) -> StoreResult<Option<Claim>>;
    /// Selection day: the operator returns (退回) a confirmed choice within the selection's return
    /// window, before the slip is signed, with a reason: its apartments become available, the
    /// household stays at the desk, the board and the record are told. `None`: no such claim in
    /// this selection.
    async fn return_claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        claim_id: i64,
        reason: &str,
    ) -> StoreResult<Option<Result<Claim, yongxin_domain::selection::ReturnRefusal>>>;
    /// The household signed the slip of a claim (签字): its return window ends. `None`: no such
    /// claim in this selection, or released already.
    async fn sign_claim(
        &self,
        actor: &Actor,
        selection_id: i64,
        claim_id: i64,
    ) -> StoreResult<Option<Claim>>;
    /// Selection day: the household at the desk declines the rest of its combination (放弃剩余),
    /// with its reason; the queue moves on. Refused unless it is the household being called and
    /// present.
    async fn decline_rest(
        &self,
        actor: &Actor,
        selection_id: i64,
        household_id: HouseholdId,
        reason: &str,
    ) -> StoreResult<Result<Queue, ClaimRefusal>>;
    /// One claim.
    async fn claim_record(&self, id: i64) -> StoreResult<Option<Claim>>;
    /// A household's claims in a project, oldest first.
    async fn household_claims(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<Claim>>;
    /// Every apartment of a project with its state, by id.
    async fn unit_states(&self, project_id: ProjectId) -> StoreResult<Vec<UnitState>>;
    /// The board's events after `after`, in order, at most `limit`.
    async fn board_events(
        &self,
        project_id: ProjectId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<BoardEvent>>;
    /// The last board event's number (0: none).
    async fn board_seq(&self, project_id: ProjectId) -> StoreResult<i64>;
    /// Applies an operator's action to the selection-day queue (a confirmation is a claim).
    async fn queue_action(
        &self,
        actor: &Actor,
        selection_id: i64,
        action: yongxin_domain::selection::QueueAction,
    ) -> StoreResult<Result<Queue, QueueRefusal>>;
    /// Records a step of a household's agreement.
    async fn record_agreement(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        step: AgreementStep,
        on: chrono::NaiveDate,
    ) -> StoreResult<Agreement>;
    /// Agreements of a project's households.
    async fn agreements(&self, project_id: ProjectId) -> StoreResult<Vec<Agreement>>;
}
