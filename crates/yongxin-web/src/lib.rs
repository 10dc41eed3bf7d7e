//! The HTTP interface of yongxin: server-rendered pages, the JSON API under `/api/v1`, static
//! assets, `/healthz` and `/metrics`.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it on a listener,
//! so tests run the real application on port 0.
#![forbid(unsafe_code)]

pub mod api;
pub mod api_appeals;
pub mod api_consultations;
pub mod api_meetings;
pub mod api_notices;
pub mod api_resettlement;
pub mod api_selection;
pub mod appeals;
pub mod auth;
pub mod background;
pub mod board;
pub mod context;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod metrics;
pub mod open311;
pub mod pages;
pub mod resettlement;
pub mod roster_io;
pub mod security;
pub mod upload;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use yongxin_domain::appeal::AppealPolicy;
use yongxin_domain::calendar::WorkingCalendar;
use yongxin_store::Store;

pub use error::AppError;
pub use i18n::Lang;

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
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub settings: Arc<WebSettings>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The working-day calendar: the official years and those loaded by administrators.
    pub calendar: Arc<std::sync::RwLock<WorkingCalendar>>,
    /// The service catalogue as last read, and when; every intake needs it, so it is read from the
    /// database at most once a minute (a change reaches every node within that minute).
    catalogue: Arc<std::sync::RwLock<Option<(std::time::Instant, CatalogueEntries)>>>,
    /// This node's full-text index of appeals; without one, text searches ask the database.
    pub search: Option<yongxin_search::AppealIndex>,
    /// API tokens (by hash) recently presented, with their users: every API request names one,
    /// and reading it is a round trip to the database that costs more than the request's own
    /// work. An account changed through this node is forgotten at once; other nodes and the
    /// command line are seen within [`API_TOKEN_TTL`].
    api_tokens: Arc<std::sync::Mutex<HashMap<String, (std::time::Instant, yongxin_store::User)>>>,
    /// The live boards' feeds of this node.
    pub board: Arc<board::BoardHub>,
    /// What this node knows is sold, to refuse claims for it without asking the database.
    pub sold: Arc<api_selection::SoldUnits>,
    /// This node's rate limits and the bound on password checks.
    pub guards: Arc<security::Guards>,
    /// The installation's secret keying tracking codes, read from the database once.
    tracking_secret: Arc<tokio::sync::OnceCell<String>>,
}

/// How long this node trusts what it read of an API token.
pub const API_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most API tokens remembered at once; past it the memory starts afresh.
const API_TOKENS_REMEMBERED: usize = 4096;

/// Categories with whether each is active, in display order.
pub type CatalogueEntries = Arc<Vec<(yongxin_domain::catalogue::Category, bool)>>;

impl AppState {
    /// State over a store.
    pub fn new(store: Arc<dyn Store>, settings: WebSettings) -> Self {
        Self {
            guards: Arc::new(security::Guards::new(settings.limits.clone())),
            tracking_secret: Arc::default(),
            store,
            settings: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::default()),
            calendar: Arc::new(std::sync::RwLock::new(WorkingCalendar::official())),
            catalogue: Arc::new(std::sync::RwLock::new(None)),
            search: None,
            api_tokens: Arc::default(),
            board: Arc::default(),
            sold: Arc::default(),
        }
    }

    /// The same state with a full-text index (kept current by [`background::spawn`]).
    pub fn with_search(mut self, index: yongxin_search::AppealIndex) -> Self {
        self.search = Some(index);
        self
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
        if let Ok(tokens) = self.api_tokens.lock() {
            if let Some((at, user)) = tokens.get(token_hash) {
                if at.elapsed() < API_TOKEN_TTL {
                    return Ok(Some(user.clone()));
                }
            }
        }
        let user = self
            .store
            .api_token_user(token_hash, chrono::Utc::now())
            .await?;
        if let (Some(u), Ok(mut tokens)) = (&user, self.api_tokens.lock()) {
            if tokens.len() >= API_TOKENS_REMEMBERED {
                tokens.clear();
            }
            tokens.insert(
                token_hash.to_owned(),
                (std::time::Instant::now(), u.clone()),
            );
        }
        Ok(user)
    }

    /// The secret keying tracking codes (the same on every node: it lives in the database).
    pub async fn tracking_secret(&self) -> Result<String, AppError> {
        self.tracking_secret
            .get_or_try_init(|| self.store.server_secret("tracking"))
            .await
            .cloned()
            .map_err(AppError::from)
    }

    /// The tracking code of a case (查询码).
    pub async fn tracking_code(&self, number: &str) -> Result<String, AppError> {
        Ok(yongxin_domain::appeal::tracking_code(
            &self.tracking_secret().await?,
            number,
        ))
    }

    /// Forgets every API token's user after an account changed through this node.
    pub fn forget_api_tokens(&self) {
        if let Ok(mut tokens) = self.api_tokens.lock() {
            tokens.clear();
        }
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
        let mut calendar = WorkingCalendar::official();
        for (year, source) in self.store.calendar_years().await? {
            match yongxin_domain::calendar::YearCalendar::parse(&source) {
                Ok(y) => calendar.load(y),
                Err(e) => {
                    tracing::error!(calendar.year = year, error.message = %e, "stored calendar not understood")
                }
            }
        }
        if let Ok(mut c) = self.calendar.write() {
            *c = calendar;
        }
        Ok(())
    }

    /// A copy of the current calendar.
    pub fn calendar(&self) -> WorkingCalendar {
        self.calendar
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|_| WorkingCalendar::official())
    }
}

/// The largest body of a route that takes no files: forms and JSON documents (a notice of
/// 300,000 characters fits).
pub const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    // Each route takes what it needs and no more: three photos, base64-encoded when they come as
    // JSON, and the rest of the form; a notice's attachment alone; a roster. Everything else is
    // a form or a JSON document.
    let settings = &state.settings;
    let photo_body = DefaultBodyLimit::max(
        yongxin_domain::photo::MAX_PHOTOS * settings.photo_max_bytes * 4 / 3 + (1 << 20),
    );
    let attachment_body = DefaultBodyLimit::max(settings.attachment_max_bytes + (1 << 20));
    let roster_body = DefaultBodyLimit::max(settings.max_upload_bytes + (1 << 20));
    let api_photo_body =
        yongxin_domain::photo::MAX_PHOTOS * settings.photo_max_bytes * 4 / 3 + (1 << 20);
    Router::new()
        .route("/", get(pages::home::home))
        .route(
            "/sign-in",
            get(pages::session::sign_in_page).post(pages::session::sign_in),
        )
        .route("/sign-out", post(pages::session::sign_out))
        .route("/lang", get(pages::session::switch_language))
        .route(
            "/notices",
            get(pages::notices::list).post(pages::notices::create),
        )
        .route("/notices.atom", get(pages::notices::feed))
        .route("/notices/new", get(pages::notices::new_notice))
        .route("/notices/{id}", get(pages::notices::show))
        .route("/notices/{id}/history", get(pages::notices::history))
        .route(
            "/notices/{id}/correct",
            get(pages::notices::correct_form).post(pages::notices::correct),
        )
        .route(
            "/notices/{id}/attachments",
            post(pages::notices::attach).layer(attachment_body),
        )
        .route("/notices/{id}/files/{token}", get(pages::notices::file))
        .route(
            "/notices/{id}/objections",
            post(pages::notices::create_objection),
        )
        .route("/notices/{id}/coverage", get(pages::notices::coverage))
        .route(
            "/notices/{id}/informed",
            post(pages::notices::confirm_informed),
        )
        .route(
            "/consultations",
            get(pages::consultations::list).post(pages::consultations::create),
        )
        .route(
            "/consultations/new",
            get(pages::consultations::new_consultation),
        )
        .route("/consultations/{id}", get(pages::consultations::show))
        .route(
            "/consultations/{id}/answers",
            post(pages::consultations::submit),
        )
        .route(
            "/consultations/{id}/results",
            get(pages::consultations::results),
        )
        .route(
            "/consultations/{id}/publish",
            post(pages::consultations::publish),
        )
        .route(
            "/meetings",
            get(pages::meetings::list).post(pages::meetings::create),
        )
        .route("/meetings/new", get(pages::meetings::new_meeting))
        .route("/meetings/{id}", get(pages::meetings::show))
        .route(
            "/meetings/{id}/attendance",
            post(pages::meetings::sign_in_at_door),
        )
        .route("/meetings/{id}/code", post(pages::meetings::new_code))
        .route(
            "/meetings/{id}/sign-in",
            get(pages::meetings::sign_in_form).post(pages::meetings::sign_in_with_code),
        )
        .route("/meetings/{id}/minutes", post(pages::meetings::minutes))
        .route(
            "/meetings/{id}/resolutions",
            post(pages::meetings::resolution),
        )
        .route("/meetings/{id}/publish", post(pages::meetings::publish))
        .route("/projects", get(pages::resettlement::projects))
        .route("/projects/{id}", get(pages::resettlement::project))
        .route(
            "/projects/{id}/phase",
            post(pages::resettlement::move_phase),
        )
        .route(
            "/projects/{id}/policy",
            post(pages::resettlement::publish_policy),
        )
        .route(
            "/projects/{id}/results",
            post(pages::resettlement::publish_results),
        )
        .route(
            "/projects/{id}/households",
            get(pages::resettlement::households),
        )
        .route(
            "/projects/{id}/households/{hid}",
            get(pages::resettlement::household),
        )
        .route(
            "/projects/{id}/households/{hid}/registration",
            post(pages::resettlement::register),
        )
        .route(
            "/projects/{id}/households/{hid}/assessment",
            post(pages::resettlement::assess),
        )
        .route(
            "/projects/{id}/registrations",
            get(pages::resettlement::registrations),
        )
        .route("/projects/{id}/lottery", get(pages::resettlement::lottery))
        .route(
            "/projects/{id}/lottery/proof.json",
            get(pages::resettlement::proof),
        )
        .route(
            "/projects/{id}/lottery/freeze",
            post(pages::resettlement::freeze),
        )
        .route(
            "/projects/{id}/lottery/draw",
            post(pages::resettlement::draw),
        )
        .route("/projects/{id}/selections", post(pages::selection::create))
        .route("/projects/{id}/board", get(pages::selection::board))
        .route(
            "/projects/{id}/board/events",
            get(pages::selection::board_events),
        )
        .route(
            "/projects/{id}/agreements",
            get(pages::selection::agreements).post(pages::selection::record),
        )
        .route(
            "/projects/{id}/agreements.xlsx",
            get(pages::selection::export),
        )
        .route("/selections/{id}/operator", get(pages::selection::operator))
        .route(
            "/selections/{id}/choose",
            get(pages::selection::choose_page).post(pages::selection::choose),
        )
        .route("/selections/{id}/queue", post(pages::selection::queue))
        .route("/selections/{id}/confirm", post(pages::selection::confirm))
        .route(
            "/selections/{id}/claims/{claim}/slip",
            get(pages::selection::slip),
        )
        .route(
            "/selections/{id}/claims/{claim}/correct",
            post(pages::selection::correct),
        )
        .route(
            "/admin/projects",
            get(pages::projects::show).post(pages::projects::create),
        )
        .route("/appeals", get(pages::appeals::list))
        .route("/appeals/stats", get(pages::appeals::stats))
        .route("/appeals/hot", get(pages::appeals::hot))
        .route("/appeals/export.xlsx", get(pages::appeals::export))
        .route("/supervision", get(pages::appeals::supervision))
        .route(
            "/supervision/{notice}/answer",
            post(pages::appeals::answer_notice),
        )
        .route("/appeals/{id}/supervise", post(pages::appeals::supervise))
        .route(
            "/appeals/new",
            get(pages::appeals::new_appeal)
                .post(pages::appeals::create_appeal)
                .layer(photo_body),
        )
        .route("/appeals/{id}", get(pages::appeals::show))
        .route(
            "/appeals/{id}/action",
            post(pages::appeals::action).layer(photo_body),
        )
        .route("/track", get(pages::appeals::track))
        .route(
            "/admin/categories",
            get(pages::categories::show).post(pages::categories::save),
        )
        .route("/public/appeals", get(pages::appeals::public_list))
        .route(
            "/admin/open311",
            get(pages::open311_keys::show).post(pages::open311_keys::add),
        )
        .route(
            "/admin/open311/{id}/revoke",
            post(pages::open311_keys::revoke),
        )
        .route(
            "/admin/calendar",
            get(pages::calendar::show).post(pages::calendar::load),
        )
        .route("/villages", get(pages::registry::villages))
        .route("/grids", get(pages::registry::grids))
        .route("/households", get(pages::registry::households))
        .route("/households/{id}", get(pages::registry::household))
        .route("/audit", get(pages::admin::audit))
        .route("/admin/users", get(pages::admin::users))
        .route("/admin/users/{id}/email", post(pages::admin::set_email))
        .route(
            "/admin/users/{id}/tokens/revoke",
            post(pages::admin::revoke_tokens),
        )
        .route(
            "/admin/users/{id}/disabled",
            post(pages::admin::set_disabled),
        )
        .route(
            "/admin/import",
            get(pages::admin::import_page)
                .post(pages::admin::import_upload)
                .layer(roster_body),
        )
        .route("/admin/export", get(pages::admin::export))
        .merge(api::routes(api_photo_body))
        .merge(open311::routes())
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::render_for_admins))
        .route("/static/{file}", get(pages::assets::asset))
        .route("/photos/{token}", get(pages::appeals::photo))
        .route(
            "/photos/{token}/original",
            get(pages::appeals::photo_original),
        )
        .fallback(pages::not_found)
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
