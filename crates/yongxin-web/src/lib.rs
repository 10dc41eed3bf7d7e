//! The HTTP interface of yongxin: server-rendered pages, the JSON API under `/api/v1`, static
//! assets, `/healthz` and `/metrics`.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it on a listener,
//! so tests run the real application on port 0.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod appeals;
pub mod audit;
pub mod background;
pub mod calendar;
pub mod campaigns;
pub mod catalogue;
pub mod consultations;
#[doc(hidden)]
pub mod fuzzing;
pub mod home;
pub mod http;
pub mod meetings;
pub mod notices;
pub mod openapi;
pub mod outbox;
pub mod registry;
pub mod reports;
pub mod resettlement;
pub mod scorecards;
pub mod selection;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use yongxin_domain::appeal::AppealPolicy;
use yongxin_domain::calendar::WorkingCalendar;
use yongxin_store::Store;

pub use http::error::AppError;
pub use http::i18n::Lang;
// The paths outside users (the binary, tests, benchmarks) name.
pub use http::{auth, context, error, i18n, metrics, security};

/// Settings of the web interface.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies Secure: `Some(true)` always, `Some(false)` never, `None` when the request came
    /// through a proxy that says it was HTTPS (`X-Forwarded-Proto: https`).
    pub secure_cookies: Option<bool>,
    /// How long a session lasts without signing in again.
    pub session_hours: i64,
    /// Largest accepted upload (roster files), in bytes.
    pub max_upload_bytes: usize,
    /// Language when neither a cookie nor the browser names one.
    pub default_lang: Lang,
    /// How appeals are handled (reopen limit).
    pub appeal_policy: AppealPolicy,
    /// Days after which an answer nobody rated closes by itself.
    pub appeal_auto_close_days: i64,
    /// Largest photo, in bytes.
    pub photo_max_bytes: usize,
    /// Largest file attached to a notice, in bytes.
    pub attachment_max_bytes: usize,
    /// Days an API token lasts after it is issued.
    pub api_token_days: i64,
    /// Rate limits of anonymous and abusable paths.
    pub limits: security::Limits,
    /// Whether `/metrics` is served on the main address (to administrators); false when it has
    /// a listen address of its own.
    pub metrics_on_main: bool,
    /// The address residents reach the server at, for links in messages; `None`: the links are
    /// paths only.
    pub public_url: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            secure_cookies: None,
            session_hours: 12,
            max_upload_bytes: 20 * 1024 * 1024,
            default_lang: Lang::ZhCn,
            appeal_policy: AppealPolicy::default(),
            appeal_auto_close_days: 7,
            photo_max_bytes: 10 * 1024 * 1024,
            attachment_max_bytes: 20 * 1024 * 1024,
            api_token_days: 90,
            limits: security::Limits::default(),
            metrics_on_main: true,
            public_url: None,
        }
    }
}

/// Shared state of every handler: one pointer, so that the copies every request makes (each
/// layer and extractor takes its own) cost one count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Clone)]
pub struct Shared {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub settings: Arc<WebSettings>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The working-day calendar: the official years and those loaded by administrators. Shared,
    /// not copied: every intake computes deadlines with it.
    calendar: Arc<std::sync::RwLock<Arc<WorkingCalendar>>>,
    /// The service catalogue as last read, and when; every intake needs it, so it is read from the
    /// database at most once a minute (a change reaches every node within that minute).
    catalogue: Arc<std::sync::RwLock<Option<(std::time::Instant, CatalogueEntries)>>>,
    /// This node's full-text index of appeals; without one, text searches ask the database.
    pub search: Option<yongxin_search::AppealIndex>,
    /// API tokens (by hash) recently presented, with their users: every API request names one,
    /// and reading it is a round trip to the database that costs more than the request's own
    /// work. An account changed through this node is forgotten at once; other nodes and the
    /// command line are seen within [`API_TOKEN_TTL`].
    api_tokens: Arc<RecentUsers>,
    /// Sessions (by hash) recently presented, with their users, for the same reason: reading one
    /// cost an authenticated page 100 µs of CPU, twenty times what the rest of its layers do. A
    /// session ended through this node (signing out, an account changed) is forgotten at once;
    /// one ended elsewhere stops working within [`API_TOKEN_TTL`].
    sessions: Arc<RecentUsers>,
    /// The live boards' feeds of this node.
    pub board: Arc<selection::board::BoardHub>,
    /// What this node knows is sold, to refuse claims for it without asking the database.
    pub sold: Arc<selection::SoldUnits>,
    /// This node's rate limits and the bound on password checks.
    pub guards: Arc<security::Guards>,
    /// The installation's secret key (tracking codes, CSRF tokens), read from the database once.
    installation_key: Arc<tokio::sync::OnceCell<String>>,
}

/// How long this node trusts what it read of an API token or a session.
pub const API_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most API tokens (or sessions) remembered at once; past it the memory starts afresh.
const USERS_REMEMBERED: usize = 4096;

/// Users recently found by a token's hash (an API token's or a session's), each trusted for
/// [`API_TOKEN_TTL`] after it was read.
#[derive(Default)]
pub struct RecentUsers(
    std::sync::Mutex<HashMap<String, (std::time::Instant, yongxin_store::User)>>,
);

impl RecentUsers {
    /// The remembered user, or the one `read` finds, remembered if there is one.
    async fn get_or_read<F, R>(
        &self,
        token_hash: &str,
        read: F,
    ) -> Result<Option<yongxin_store::User>, yongxin_store::StoreError>
    where
        F: FnOnce() -> R,
        R: std::future::Future<
            Output = Result<Option<yongxin_store::User>, yongxin_store::StoreError>,
        >,
    {
        if let Some(user) = self.get(token_hash) {
            return Ok(Some(user));
        }
        let user = read().await?;
        if let Some(u) = &user {
            self.remember(token_hash, u);
        }
        Ok(user)
    }

    fn get(&self, token_hash: &str) -> Option<yongxin_store::User> {
        let users = self.0.lock().ok()?;
        let (at, user) = users.get(token_hash)?;
        (at.elapsed() < API_TOKEN_TTL).then(|| user.clone())
    }

    fn remember(&self, token_hash: &str, user: &yongxin_store::User) {
        if let Ok(mut users) = self.0.lock() {
            // Past the bound the memory starts afresh: a flood of valid tokens costs reads, not
            // memory.
            if users.len() >= USERS_REMEMBERED {
                users.clear();
            }
            users.insert(
                token_hash.to_owned(),
                (std::time::Instant::now(), user.clone()),
            );
        }
    }

    fn forget(&self, token_hash: &str) {
        if let Ok(mut users) = self.0.lock() {
            users.remove(token_hash);
        }
    }

    fn clear(&self) {
        if let Ok(mut users) = self.0.lock() {
            users.clear();
        }
    }
}

/// Categories with whether each is active, in display order.
pub type CatalogueEntries = Arc<Vec<(yongxin_domain::catalogue::Category, bool)>>;

impl AppState {
    /// State over a store.
    pub fn new(store: Arc<dyn Store>, settings: WebSettings) -> Self {
        Self(Arc::new(Shared {
            guards: Arc::new(security::Guards::new(settings.limits.clone())),
            installation_key: Arc::default(),
            store,
            settings: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::default()),
            calendar: Arc::new(std::sync::RwLock::new(
                Arc::new(WorkingCalendar::official()),
            )),
            catalogue: Arc::new(std::sync::RwLock::new(None)),
            search: None,
            api_tokens: Arc::default(),
            sessions: Arc::default(),
            board: Arc::default(),
            sold: Arc::default(),
        }))
    }

    /// The same state with a full-text index (kept current by [`background::spawn`]).
    pub fn with_search(self, index: yongxin_search::AppealIndex) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.search = Some(index);
        Self(Arc::new(shared))
    }

    /// Tells the index follower that this node just changed an appeal.
    pub fn nudge_search(&self) {
        if let Some(index) = &self.search {
            index.nudge();
        }
    }

    /// The user an API token (by its hash) belongs to, from memory if read in the last
    /// [`API_TOKEN_TTL`]. Unknown tokens are not remembered, so guessing costs no memory.
    pub async fn api_token_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<yongxin_store::User>, yongxin_store::StoreError> {
        self.api_tokens
            .get_or_read(token_hash, || {
                self.store.api_token_user(token_hash, chrono::Utc::now())
            })
            .await
    }

    /// The user of a live session (by its token's hash), from memory if read in the last
    /// [`API_TOKEN_TTL`]. Unknown sessions are not remembered.
    pub async fn session_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<yongxin_store::User>, yongxin_store::StoreError> {
        self.sessions
            .get_or_read(token_hash, || {
                self.store.session_user(token_hash, chrono::Utc::now())
            })
            .await
    }

    /// Ends a session: in the database, and in this node's memory at once.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), yongxin_store::StoreError> {
        self.store.delete_session(token_hash).await?;
        self.sessions.forget(token_hash);
        Ok(())
    }

    /// The installation's secret key: the same on every node (it lives in the database, made
    /// once by the migrations under the name `tracking`, its first use), unknown outside it.
    /// Keys tracking codes and CSRF tokens, each with its own prefix.
    pub async fn installation_key(&self) -> Result<&str, AppError> {
        self.installation_key
            .get_or_try_init(|| self.store.server_secret("tracking"))
            .await
            .map(String::as_str)
            .map_err(AppError::from)
    }

    /// The tracking code of a case (查询码).
    pub async fn tracking_code(&self, number: &str) -> Result<String, AppError> {
        Ok(yongxin_domain::appeal::tracking_code(
            self.installation_key().await?,
            number,
        ))
    }

    /// Forgets every API token's and session's user after an account changed through this node.
    pub fn forget_accounts(&self) {
        self.api_tokens.clear();
        self.sessions.clear();
    }

    /// Drops the cached catalogue after a change made through this node.
    pub fn forget_catalogue(&self) {
        if let Ok(mut cache) = self.catalogue.write() {
            *cache = None;
        }
    }

    /// The service catalogue, from a cache no older than a minute.
    pub async fn categories(&self) -> Result<CatalogueEntries, yongxin_store::StoreError> {
        if let Ok(cache) = self.catalogue.read() {
            if let Some((at, entries)) = cache.as_ref() {
                if at.elapsed() < std::time::Duration::from_secs(60) {
                    return Ok(entries.clone());
                }
            }
        }
        let entries: CatalogueEntries = Arc::new(self.store.categories().await?);
        if let Ok(mut cache) = self.catalogue.write() {
            *cache = Some((std::time::Instant::now(), entries.clone()));
        }
        Ok(entries)
    }

    /// Reloads the calendar years administrators stored (on top of the official ones).
    pub async fn refresh_calendar(&self) -> Result<(), yongxin_store::StoreError> {
        let (calendar, refused) = WorkingCalendar::with_stored(&self.store.calendar_years().await?);
        for (year, e) in refused {
            tracing::error!(calendar.year = year, error.message = %e, "stored calendar not understood");
        }
        if let Ok(mut c) = self.calendar.write() {
            *c = Arc::new(calendar);
        }
        Ok(())
    }

    /// The current calendar.
    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        self.calendar
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|_| Arc::new(WorkingCalendar::official()))
    }
}

/// The largest body of a route that takes no files: forms and JSON documents (a notice of
/// 300,000 characters fits).
pub const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Every route of the application, as registered, with the table of its methods and paths.
pub fn route_table(state: &AppState) -> (Router<AppState>, Vec<http::routes::RouteEntry>) {
    let limits = http::routes::BodyLimits::of(&state.settings);
    http::routes::Routes::new()
        .merge(home::routes())
        .merge(accounts::routes())
        .merge(calendar::routes())
        .merge(audit::routes())
        .merge(registry::routes(&limits))
        .merge(catalogue::routes())
        .merge(appeals::routes(&limits))
        .merge(notices::routes(&limits))
        .merge(consultations::routes())
        .merge(meetings::routes())
        .merge(campaigns::routes(&limits))
        .merge(resettlement::routes())
        .merge(selection::routes())
        .merge(outbox::routes())
        .merge(scorecards::routes())
        .merge(reports::routes())
        .merge(openapi::routes())
        .merge(http::infra_routes())
        .into_parts()
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let (routes, _) = route_table(&state);
    with_layers(routes.fallback(http::page::not_found), state)
}

/// The layers every request passes through, over `routes`: the body limit, the request's
/// context (language, who is signed in, CSRF), rendered errors, security headers and metrics.
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), context::attach_context))
        .layer(from_fn(error::render_errors))
        .layer(from_fn_with_state(state.clone(), security::headers))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Serves the application until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
