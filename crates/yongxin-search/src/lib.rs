//! 全文检索: the full-text index of appeals, kept in a directory of each app node.
//!
//! The index is derived data. The database is the truth; each node follows the audit chain (which
//! both backends append in commit order) and re-indexes every appeal an entry touches, so a case
//! created or changed on any node is findable on every node about a second later. The last
//! sequence indexed is stored in the index's own commit, so a restart resumes where it stopped;
//! a missing index, or one written by another version of this schema, is rebuilt from the
//! database (`yongxin search reindex` does the same on demand).
//!
//! The index holds the filters of the appeal list too (status, category, village, scope, period,
//! open deadlines), so a ranked, filtered, paged search is one index query; the page's rows are
//! then read from the database by id.

#![warn(missing_docs)]

pub mod grams;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use yongxin_domain::appeal::AppealStatus;
use yongxin_store::{
    AppealFeed, AppealId, AppealQuery, AppealScope, AppealSearchDoc, HouseholdId, StoreError,
};

use crate::grams::{query_units, GramTokenizer};

/// Bumped whenever the schema or the tokenizer changes: an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 2;

/// How much the writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 48 * 1024 * 1024;

/// The least time between two passes that indexed something: a case is findable this much
/// later at most, and a busy intake makes a few index commits a second, not one per case.
const PASS_GAP: Duration = Duration::from_millis(500);

/// How many appeals are read from the database at once.
const BATCH: i64 = 1000;

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Another running node (or command) holds the index directory.
    #[error("the search index directory {0} is in use by another running yongxin (a server on this machine, or another node sharing the directory): give each node its own `search_dir` or `state_dir`")]
    Locked(PathBuf),
    /// The index itself.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Reading the database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file system.
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    /// A blocking task did not finish.
    #[error("search index task: {0}")]
    Task(String),
}

/// Result of index operations.
pub type SearchResult<T> = Result<T, SearchError>;

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    body: Field,
    internal: Field,
    status: Field,
    category: Field,
    village: Field,
    grid: Field,
    cadre: Field,
    resident: Field,
    household: Field,
    created: Field,
    contact_open_due: Field,
    resolution_open_due: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(GramTokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let int = NumericOptions::default().set_indexed();
    let fields = Fields {
        id: b.add_i64_field("id", NumericOptions::default().set_indexed().set_fast()),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text.clone()),
        internal: b.add_text_field("internal", text),
        status: b.add_text_field("status", STRING),
        category: b.add_text_field("category", STRING),
        village: b.add_i64_field("village", int.clone()),
        grid: b.add_i64_field("grid", int.clone()),
        cadre: b.add_i64_field("cadre", int.clone()),
        resident: b.add_i64_field("resident", int.clone()),
        household: b.add_i64_field("household", int.clone()),
        created: b.add_i64_field("created", int.clone()),
        contact_open_due: b.add_i64_field("contact_open_due", int.clone()),
        resolution_open_due: b.add_i64_field("resolution_open_due", int),
    };
    (b.build(), fields)
}

/// How far the index has followed the audit chain: the last sequence indexed and its hash,
/// which ties the index to the database it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checkpoint {
    seq: i64,
    hash: String,
}

impl Checkpoint {
    /// What the commit payload says: the schema version and the checkpoint.
    fn payload(&self) -> String {
        format!(
            "yongxin-search v{SCHEMA_VERSION} seq={} hash={}",
            self.seq, self.hash
        )
    }

    fn parse(p: &str) -> Option<Self> {
        let rest = p.strip_prefix(&format!("yongxin-search v{SCHEMA_VERSION} seq="))?;
        let (seq, hash) = rest.split_once(" hash=")?;
        Some(Self {
            seq: seq.parse().ok()?,
            hash: hash.to_owned(),
        })
    }
}

/// A page of search results: appeal ids, best first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hits {
    /// Appeal ids of the page, best first.
    pub ids: Vec<AppealId>,
    /// Matches over all pages.
    pub total: i64,
}

struct Inner {
    dir: PathBuf,
    /// The directory's lock, held while the index is open: released when the file closes.
    _lock: std::fs::File,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// How far the index has followed the chain; `None` until it has been built.
    through: Mutex<Option<Checkpoint>>,
    /// Whether the checkpoint has been found in this database (or the index built from it).
    ready: std::sync::atomic::AtomicBool,
}

/// The appeal index of this node.
#[derive(Clone)]
pub struct AppealIndex {
    inner: Arc<Inner>,
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for AppealIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppealIndex")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while indexing leaves the writer usable; the next pass re-indexes what it missed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppealIndex {
    /// Opens the index in `dir`, creating it (empty, to be built) if it is missing or of another
    /// version. Fails with [`SearchError::Locked`] when another process holds it.
    pub fn open(dir: &Path) -> SearchResult<Self> {
        let (schema, fields) = schema();
        std::fs::create_dir_all(dir)?;
        // The whole directory is this node's: taken before anything in it is read or removed, so
        // a second node pointed at it stops here instead of rebuilding the index under the first.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("node.lock"))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(|_| SearchError::Locked(dir.to_owned()))?;
        // The index in a folder of its own: only it is ever removed, never what else the
        // directory holds.
        let dir = &dir.join("index");
        std::fs::create_dir_all(dir)?;
        let existing = Index::open_in_dir(dir).ok().and_then(|index| {
            let meta = index.load_metas().ok()?;
            let through = meta.payload.as_deref().and_then(Checkpoint::parse)?;
            (index.schema() == schema).then_some((index, through))
        });
        let (index, through) = match existing {
            Some((index, through)) => (index, Some(through)),
            None => {
                // Derived data of another version (or half-built): start again.
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                (Index::create_in_dir(dir, schema)?, None)
            }
        };
        index
            .tokenizers()
            .register(GramTokenizer::NAME, GramTokenizer);
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => SearchError::Locked(dir.to_owned()),
                e => SearchError::Index(e),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                _lock: lock,
                reader,
                writer: Mutex::new(writer),
                fields,
                through: Mutex::new(through),
                ready: std::sync::atomic::AtomicBool::new(false),
            }),
            wake: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Whether the index has been built from this database and can answer searches.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The last audit sequence whose changes are searchable.
    pub fn indexed_through(&self) -> Option<i64> {
        lock(&self.inner.through).as_ref().map(|c| c.seq)
    }

    /// Checks that the index was built from this database (its checkpoint is in this audit
    /// chain); if so it can answer at once and only needs to catch up.
    pub async fn resume(&self, store: &dyn AppealFeed) -> SearchResult<bool> {
        let Some(checkpoint) = lock(&self.inner.through).clone() else {
            return Ok(false);
        };
        let found = if checkpoint.seq == 0 {
            checkpoint.hash == yongxin_domain::audit::GENESIS_HASH
        } else {
            store
                .audit_entries(checkpoint.seq - 1, 1)
                .await?
                .first()
                .is_some_and(|e| e.seq == checkpoint.seq && e.hash == checkpoint.hash)
        };
        self.inner
            .ready
            .store(found, std::sync::atomic::Ordering::Release);
        Ok(found)
    }

    /// Asks the follower to look for changes now (after a write through this node).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Rebuilds the index from every appeal in the database; returns how many were indexed.
    pub async fn rebuild(&self, store: &dyn AppealFeed) -> SearchResult<usize> {
        // Changes committed after this point are picked up by the follower from here on.
        let head = match store.audit_head().await? {
            Some((seq, hash)) => Checkpoint { seq, hash },
            None => Checkpoint {
                seq: 0,
                hash: yongxin_domain::audit::GENESIS_HASH.to_owned(),
            },
        };
        let inner = self.inner.clone();
        blocking(move || {
            lock(&inner.writer).delete_all_documents()?;
            Ok(())
        })
        .await?;
        let mut after = AppealId(0);
        let mut count = 0;
        loop {
            let ids = store.appeal_ids_after(after, BATCH).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            let docs = store.appeal_search_docs(&ids).await?;
            count += docs.len();
            let inner = self.inner.clone();
            blocking(move || {
                let writer = lock(&inner.writer);
                for doc in &docs {
                    writer.add_document(inner.document(doc))?;
                }
                Ok(())
            })
            .await?;
        }
        self.commit(head).await?;
        Ok(count)
    }

    /// Indexes the appeals changed since the last pass; returns how many were re-indexed.
    pub async fn catch_up(&self, store: &dyn AppealFeed) -> SearchResult<usize> {
        let Some(mut through) = self.indexed_through().filter(|_| self.is_ready()) else {
            return Ok(0);
        };
        let mut count = 0;
        loop {
            let (ids, last) = store.appeal_changes(through, 5000).await?;
            let Some(last) = last else { break };
            let docs = store.appeal_search_docs(&ids).await?;
            count += ids.len();
            let inner = self.inner.clone();
            blocking(move || {
                let writer = lock(&inner.writer);
                for id in ids {
                    writer.delete_term(Term::from_field_i64(inner.fields.id, id.get()));
                }
                for doc in &docs {
                    writer.add_document(inner.document(doc))?;
                }
                Ok(())
            })
            .await?;
            through = last.0;
            self.commit(Checkpoint {
                seq: last.0,
                hash: last.1,
            })
            .await?;
        }
        Ok(count)
    }

    async fn commit(&self, checkpoint: Checkpoint) -> SearchResult<()> {
        let inner = self.inner.clone();
        blocking(move || {
            let mut writer = lock(&inner.writer);
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&checkpoint.payload());
            prepared.commit()?;
            inner.reader.reload()?;
            *lock(&inner.through) = Some(checkpoint);
            inner
                .ready
                .store(true, std::sync::atomic::Ordering::Release);
            Ok(())
        })
        .await
    }

    /// Keeps the index current: builds it if needed, then follows the database, looking every
    /// `every` and whenever [`nudge`](Self::nudge)d. Runs until the task is dropped.
    pub async fn follow(self, store: Arc<dyn AppealFeed>, every: Duration) {
        let resumed = match self.resume(&*store).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the search index against the database");
                false
            }
        };
        if !resumed {
            let started = std::time::Instant::now();
            match self.rebuild(&*store).await {
                Ok(n) => tracing::info!(
                    appeals = n,
                    seconds = started.elapsed().as_secs_f64(),
                    "search index built"
                ),
                Err(e) => tracing::error!(error = %e, "building the search index failed"),
            }
        }
        loop {
            let mut indexed = 0;
            if !self.is_ready() {
                if let Err(e) = self.rebuild(&*store).await {
                    tracing::error!(error = %e, "building the search index failed");
                }
            } else {
                match self.catch_up(&*store).await {
                    Ok(n) => indexed = n,
                    Err(e) => tracing::warn!(error = %e, "search index update failed; retrying"),
                }
            }
            // Each pass ends in a commit, which writes a segment that must later be merged: under
            // a stream of new cases, a pass per nudge spent a quarter of the server's CPU on the
            // index. Changes arriving within the gap are taken together by the next pass.
            if indexed > 0 {
                tokio::time::sleep(PASS_GAP).await;
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Searches: `None` when there is no text to search for or the index is not built yet (the
    /// caller then asks the database). `staff` also searches internal notes.
    pub async fn search(&self, q: &AppealQuery, staff: bool) -> SearchResult<Option<Hits>> {
        if !self.is_ready() {
            return Ok(None);
        }
        let Some(query) = self.inner.query(q, staff) else {
            return Ok(None);
        };
        let per_page = q.per_page.max(1) as usize;
        let offset = (q.page.max(1) as usize - 1) * per_page;
        let inner = self.inner.clone();
        blocking(move || {
            let searcher = inner.reader.searcher();
            let (top, total) = searcher.search(
                &query,
                &(
                    TopDocs::with_limit(per_page)
                        .and_offset(offset)
                        .order_by_score(),
                    Count,
                ),
            )?;
            // One id column per segment, opened once for all its hits.
            let mut columns = std::collections::HashMap::new();
            let mut ids = Vec::with_capacity(top.len());
            for (_, address) in top {
                let column = match columns.entry(address.segment_ord) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        searcher
                            .segment_reader(address.segment_ord)
                            .fast_fields()
                            .i64("id")?,
                    ),
                };
                if let Some(id) = column.first(address.doc_id) {
                    ids.push(AppealId(id));
                }
            }
            Ok(Some(Hits {
                ids,
                total: total as i64,
            }))
        })
        .await
    }

    /// How many appeals the index holds.
    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    /// Whether the index holds no appeal.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> SearchResult<T> + Send + 'static,
) -> SearchResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
}

fn term_i64(field: Field, v: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_i64(field, v),
        IndexRecordOption::Basic,
    ))
}

fn term_text(field: Field, v: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, v),
        IndexRecordOption::Basic,
    ))
}

fn below(field: Field, t: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Unbounded,
        Bound::Excluded(Term::from_field_i64(field, t)),
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// The statuses in which no deadline is running any more.
const SETTLED: [AppealStatus; 4] = [
    AppealStatus::Declined,
    AppealStatus::Closed,
    AppealStatus::Merged,
    AppealStatus::Answered,
];

impl Inner {
    fn document(&self, d: &AppealSearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let a = &d.appeal;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.id, a.id.get());
        doc.add_text(f.title, &a.title);
        doc.add_text(f.body, &a.description);
        doc.add_text(f.body, &a.address);
        for note in &d.public_notes {
            doc.add_text(f.body, note);
        }
        if let Some(reply) = a
            .reply
            .as_deref()
            .filter(|r| !d.public_notes.iter().any(|n| n == r))
        {
            doc.add_text(f.body, reply);
        }
        for note in &d.internal_notes {
            doc.add_text(f.internal, note);
        }
        // Staff look cases up by who filed them. The phone is indexed as lists show it (masked,
        // and its last four digits), so a search cannot confirm a guessed full number.
        doc.add_text(f.internal, &a.contact_name);
        doc.add_text(
            f.internal,
            yongxin_domain::phone::mask_phone(&a.contact_phone),
        );
        doc.add_text(f.status, a.status.code());
        doc.add_text(f.category, &a.category);
        let none = -1;
        doc.add_i64(f.village, a.village_id.unwrap_or(none));
        doc.add_i64(f.grid, a.grid_id.unwrap_or(none));
        doc.add_i64(f.cadre, a.cadre_user_id.unwrap_or(none));
        doc.add_i64(f.resident, a.resident_user_id.unwrap_or(none));
        doc.add_i64(f.household, a.household_id.map_or(none, HouseholdId::get));
        doc.add_i64(f.created, a.created_at.timestamp());
        let open_due =
            |done: bool, due: DateTime<Utc>| if done { i64::MAX } else { due.timestamp() };
        doc.add_i64(
            f.contact_open_due,
            open_due(a.contacted_at.is_some(), a.contact_due),
        );
        doc.add_i64(
            f.resolution_open_due,
            open_due(a.answered_at.is_some(), a.resolution_due),
        );
        doc
    }

    /// The index query for a list query, or `None` when it has no text to search for. The
    /// filters mirror `push_appeal_filters` of the SQL implementation; a test compares them.
    fn query(&self, q: &AppealQuery, staff: bool) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let units = query_units(q.text.as_deref().unwrap_or(""));
        if units.is_empty() {
            return None;
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text_fields: Vec<(Field, f32)> = if staff {
            vec![(f.title, 2.0), (f.body, 1.0), (f.internal, 0.5)]
        } else {
            vec![(f.title, 2.0), (f.body, 1.0)]
        };
        for unit in &units {
            let terms = unit.terms();
            let per_field = text_fields
                .iter()
                .map(|&(field, boost)| {
                    let q: Box<dyn Query> = if terms.len() == 1 {
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, &terms[0]),
                            IndexRecordOption::WithFreqs,
                        ))
                    } else {
                        Box::new(PhraseQuery::new(
                            terms
                                .iter()
                                .map(|t| Term::from_field_text(field, t))
                                .collect(),
                        ))
                    };
                    Box::new(BoostQuery::new(q, boost)) as Box<dyn Query>
                })
                .collect();
            must.push((Occur::Must, any_of(per_field)));
        }
        match &q.scope {
            AppealScope::All => {}
            AppealScope::Village(v) => must.push((Occur::Must, term_i64(f.village, *v))),
            AppealScope::Cadre { grids, user_id } => {
                let mut either = vec![term_i64(f.cadre, *user_id)];
                either.extend(grids.iter().map(|g| term_i64(f.grid, *g)));
                must.push((Occur::Must, any_of(either)));
            }
            AppealScope::Resident {
                user_id,
                household_id,
            } => {
                let mut either = vec![term_i64(f.resident, *user_id)];
                either.extend(household_id.iter().map(|h| term_i64(f.household, h.get())));
                must.push((Occur::Must, any_of(either)));
            }
        }
        if let Some(s) = q.status {
            must.push((Occur::Must, term_text(f.status, s.code())));
        }
        if !q.statuses.is_empty() {
            let any = q
                .statuses
                .iter()
                .map(|s| term_text(f.status, s.code()))
                .collect();
            must.push((Occur::Must, any_of(any)));
        }
        if let Some(c) = &q.category {
            must.push((Occur::Must, term_text(f.category, c)));
        }
        if let Some(v) = q.village_id {
            must.push((Occur::Must, term_i64(f.village, v)));
        }
        if q.created_from.is_some() || q.created_before.is_some() {
            let lower = q.created_from.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.created, t.timestamp()))
            });
            let upper = q.created_before.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.created, t.timestamp()))
            });
            must.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        if let Some(t) = q.due_before {
            for s in SETTLED {
                must.push((Occur::MustNot, term_text(f.status, s.code())));
            }
            let t = t.timestamp();
            must.push((
                Occur::Must,
                any_of(vec![
                    below(f.contact_open_due, t),
                    below(f.resolution_open_due, t),
                ]),
            ));
        }
        Some(Box::new(BooleanQuery::new(must)))
    }
}
