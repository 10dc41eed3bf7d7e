//! The SQL of the store, shared by the SQLite and PostgreSQL backends.
//!
//! These files are modules of each backend crate (`#[path = "../../yongxin-store/sql/mod.rs"] mod
//! sql;`), compiled once for each database and formatted and checked like any other module; the
//! store crate itself never names a database. What a backend must supply is the [`Dialect`] trait,
//! implemented by its store type, and the macro `write_tx!(self, |conn| { … Ok((value,
//! audit_entries)) })` in its `dialect` module, which runs the block on a connection inside a
//! write transaction, appends the returned entries to the record with [`audit::append_audit`],
//! commits, and yields the value. How it does so is the backend's business: PostgreSQL opens a
//! transaction per call; SQLite hands the block to its group-commit writer.
//!
//! The SQL here is portable: `$n` placeholders, named constraints, explicit ORDER BY with a
//! tiebreaker. One module per aggregate, each implementing that aggregate's store trait.

pub(crate) mod accounts;
pub(crate) mod appeals;
pub(crate) mod audit;
pub(crate) mod campaign;
pub(crate) mod catalogue;
pub(crate) mod consultation;
pub(crate) mod feed;
pub(crate) mod meeting;
pub(crate) mod notice;
pub(crate) mod open311;
pub(crate) mod outbox;
pub(crate) mod rates;
pub(crate) mod registry;
pub(crate) mod resettlement;
pub(crate) mod scorecards;
pub(crate) mod selection;
pub(crate) mod supervision;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use yongxin_domain::AuditEntry;
use yongxin_store::{Appeal, NewAppeal, PoolStats, Store, StoreError, StoreResult};

use self::rates::TallyRow;

use crate::StoreImpl;

/// What differs between the two databases, supplied by each backend's store type. Everything else
/// about a query is the same text on both.
pub(crate) trait Dialect {
    /// The sqlx database.
    type Db: sqlx::Database;
    /// `sqlite` or `postgres`, for `/metrics` and the logs.
    const BACKEND: &'static str;
    /// Appended to a read inside a write whose rows must not change before the write commits.
    /// PostgreSQL locks them (`FOR UPDATE`); SQLite needs nothing, since a write already holds the
    /// database's only write lock.
    const ROW_LOCK: &'static str;
    /// Appended to the outbox's claim of due messages. Several PostgreSQL nodes drain one outbox,
    /// each taking rows the others have not locked (`FOR UPDATE SKIP LOCKED`); SQLite has one
    /// writer.
    const CLAIM_LOCK: &'static str;
    /// Whether queries must name the small partial index they depend on (`INDEXED BY`): SQLite's
    /// planner, without statistics, prefers a wide index on a column the query also filters by;
    /// PostgreSQL's finds them by itself and has no such clause.
    const NAME_PARTIAL_INDEX: bool;

    /// Translates a driver error. The two report a broken constraint differently (SQLite in the
    /// message, PostgreSQL by its name).
    fn db_err(e: sqlx::Error) -> StoreError;
    /// The audit chain's head, held by the write until it commits: PostgreSQL locks its row, the
    /// serialisation point of several nodes; SQLite's batch read it once under its write lock.
    async fn read_audit_head(tx: &mut DbConn) -> StoreResult<(i64, String)>;
    /// Moves the head the write holds.
    async fn write_audit_head(tx: &mut DbConn, seq: i64, hash: &str) -> StoreResult<()>;
    /// A write's sealed audit rows, on disk by the time the write's commit is and possibly not
    /// before: PostgreSQL inserts them now; SQLite's group commit holds them and writes the whole
    /// batch's with one statement just before it commits. Nothing reads them inside a write.
    async fn write_audit_rows_at_commit(tx: &mut DbConn, entries: &[AuditEntry])
        -> StoreResult<()>;
    /// A write's differences to the three rates' counters, on disk by the time its commit is, in
    /// the same way (SQLite sums a batch's per counter row).
    async fn add_tallies_at_commit(tx: &mut DbConn, rows: Vec<TallyRow>) -> StoreResult<()>;
    /// One statement that runs `insert` (which answers the new row's `id`) and then inserts a row
    /// of `child`, whose values `child_values` spells given the SQL expression of that id. SQLite
    /// runs two statements of one query and has `last_insert_rowid()`; PostgreSQL chains them in a
    /// `WITH`. Either way a new case and its first event cost one round trip.
    fn insert_with_child(
        insert: &str,
        child: &str,
        child_values: &dyn Fn(&str) -> String,
    ) -> String;
    /// Files a case without photos, the busiest write there is. SQLite runs it as a direct write
    /// on its writer's thread (see its `writer`); PostgreSQL the portable way,
    /// [`appeals::create_appeal_portable`].
    async fn create_plain_appeal(&self, actor: String, appeal: NewAppeal) -> StoreResult<Appeal>;
}

/// The backend's sqlx database.
pub(crate) type Db = <StoreImpl as Dialect>::Db;
pub(crate) const BACKEND: &str = <StoreImpl as Dialect>::BACKEND;
pub(crate) const ROW_LOCK: &str = <StoreImpl as Dialect>::ROW_LOCK;
pub(crate) const CLAIM_LOCK: &str = <StoreImpl as Dialect>::CLAIM_LOCK;
pub(crate) const NAME_PARTIAL_INDEX: bool = <StoreImpl as Dialect>::NAME_PARTIAL_INDEX;

/// The backend's driver-error translation.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    StoreImpl::db_err(e)
}

pub(crate) type DbConn = <Db as sqlx::Database>::Connection;
pub(crate) type DbRow = <Db as sqlx::Database>::Row;

/// Driver errors of the backend, translated.
pub(crate) trait DbResult<T> {
    /// Translates the error.
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(db_err)
    }
}

/// A stored value the code does not understand (a code from a newer version, or tampering).
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::internal(format!("stored {what} not understood: {value}"))
}

/// A column holding JSON as text (both backends store it as TEXT), decoded into `T` as it is read.
#[derive(Debug)]
pub(crate) struct JsonText<T>(pub T);

impl<T> sqlx::Type<Db> for JsonText<T> {
    fn type_info() -> <Db as sqlx::Database>::TypeInfo {
        <String as sqlx::Type<Db>>::type_info()
    }

    fn compatible(ty: &<Db as sqlx::Database>::TypeInfo) -> bool {
        <String as sqlx::Type<Db>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned> sqlx::Decode<'r, Db> for JsonText<T> {
    fn decode(
        value: <Db as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, Db>>::decode(value)?;
        Ok(JsonText(serde_json::from_str(text)?))
    }
}

/// Reads a code that may be NULL: `TryFrom<String>` of the code's type, for a column that
/// `#[sqlx(try_from)]` cannot read (it has no way to say "or NULL").
pub(crate) fn optional_code<T>(code: Option<String>) -> StoreResult<Option<T>>
where
    T: TryFrom<String, Error = yongxin_domain::UnknownCode>,
{
    code.map(T::try_from)
        .transpose()
        .map_err(StoreError::internal)
}

/// Binds each value, separated by commas: the inside of `IN (…)` or `VALUES (…)`. The caller writes
/// the brackets, and keeps an empty list out of the statement.
pub(crate) fn push_list<T>(qb: &mut QueryBuilder<'static, Db>, values: impl IntoIterator<Item = T>)
where
    T: 'static + sqlx::Encode<'static, Db> + sqlx::Type<Db> + Send,
{
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v);
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
pub(crate) fn like_pattern(text: &str) -> String {
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

/// How the database at `pool` stands against `migrator`.
pub(crate) async fn migration_state(
    pool: &sqlx::Pool<Db>,
    migrator: &sqlx::migrate::Migrator,
) -> StoreResult<yongxin_store::MigrationState> {
    let applied: Vec<i64> = match sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
    {
        Ok(v) => v,
        // A new database has no table yet (SQLite: "no such table", PostgreSQL: "does not exist").
        Err(sqlx::Error::Database(e))
            if e.message().contains("no such table") || e.message().contains("does not exist") =>
        {
            Vec::new()
        }
        Err(e) => return Err(db_err(e)),
    };
    Ok(yongxin_store::MigrationState {
        applied: applied.len(),
        pending: migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count(),
        unknown: applied
            .into_iter()
            .filter(|v| !migrator.iter().any(|m| m.version == *v))
            .collect(),
    })
}

/// One page of a filtered search: the total over all pages, then the rows of the page asked for
/// (page from 1, at most 500 rows). `sql` is (the FROM clause the count uses, the full SELECT, the
/// ORDER BY terms); `filters` appends the same WHERE clause to both.
pub(crate) async fn fetch_page<T>(
    pool: &sqlx::Pool<Db>,
    sql: (&str, &str, &str),
    filters: impl Fn(&mut QueryBuilder<'static, Db>),
    paging: (i64, i64),
) -> StoreResult<(Vec<T>, i64, i64, i64)>
where
    T: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
{
    fetch_page_closed(pool, sql, "", filters, paging).await
}

/// [`fetch_page`] with `close` after the page's `LIMIT … OFFSET …`: a select that picks its page
/// in a subquery (`… WHERE a.id IN (SELECT a.id FROM … ORDER BY … LIMIT … OFFSET …`) closes it
/// and orders the page again.
pub(crate) async fn fetch_page_closed<T>(
    pool: &sqlx::Pool<Db>,
    sql: (&str, &str, &str),
    close: &str,
    filters: impl Fn(&mut QueryBuilder<'static, Db>),
    (page, per_page): (i64, i64),
) -> StoreResult<(Vec<T>, i64, i64, i64)>
where
    T: for<'r> sqlx::FromRow<'r, DbRow> + Send + Unpin,
{
    let (from, select_sql, order) = sql;
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let mut count = QueryBuilder::<Db>::new(format!("SELECT COUNT(*) AS n {from}"));
    filters(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await.db()?;
    let mut select = QueryBuilder::<Db>::new(select_sql);
    filters(&mut select);
    select
        .push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(per_page)
        .push(" OFFSET ")
        .push_bind((page - 1) * per_page)
        .push(close);
    let rows = select.build_query_as().fetch_all(pool).await.db()?;
    Ok((rows, total, page, per_page))
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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
        Ok(())
    }
}
