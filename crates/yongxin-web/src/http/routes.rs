//! The route table: every route is registered through [`Routes`], which records its method and
//! path as it adds it to the router. Tests walk the table (every POST route must refuse a form
//! without its CSRF token and change nothing), so a new route cannot escape them.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// `GET` or `POST`.
    pub method: Method,
    /// The path pattern (`/notices/{id}`).
    pub path: &'static str,
    /// The handler's Rust path, so that moving handlers between modules can be checked route by
    /// route.
    pub handler: &'static str,
}

/// A router being built, with the table of what it holds.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteEntry>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn record(mut self, path: &'static str, entries: &[(Method, &'static str)]) -> Self {
        self.table
            .extend(entries.iter().map(|(method, handler)| RouteEntry {
                method: method.clone(),
                path,
                handler,
            }));
        self
    }

    /// A page or resource read with GET.
    pub fn get<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, get(handler));
        self.record(path, &[(Method::GET, std::any::type_name::<H>())])
    }

    /// A form or API action sent with POST.
    pub fn post<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.record(path, &[(Method::POST, std::any::type_name::<H>())])
    }

    /// A POST taking a larger body than forms do (photos, attachments, rosters).
    pub fn post_limited<H, T>(mut self, path: &'static str, handler: H, limit: usize) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self
            .router
            .route(path, post(handler).layer(DefaultBodyLimit::max(limit)));
        self.record(path, &[(Method::POST, std::any::type_name::<H>())])
    }

    /// A page with its form: GET shows it, POST sends it.
    pub fn get_post<G, TG, P, TP>(mut self, path: &'static str, page: G, form: P) -> Self
    where
        G: Handler<TG, AppState>,
        TG: 'static,
        P: Handler<TP, AppState>,
        TP: 'static,
    {
        self.router = self.router.route(path, get(page).post(form));
        self.record(
            path,
            &[
                (Method::GET, std::any::type_name::<G>()),
                (Method::POST, std::any::type_name::<P>()),
            ],
        )
    }

    /// [`Routes::get_post`] whose POST takes a larger body.
    pub fn get_post_limited<G, TG, P, TP>(
        mut self,
        path: &'static str,
        page: G,
        form: P,
        limit: usize,
    ) -> Self
    where
        G: Handler<TG, AppState>,
        TG: 'static,
        P: Handler<TP, AppState>,
        TP: 'static,
    {
        self.router = self.router.route(
            path,
            get(page).post(form).layer(DefaultBodyLimit::max(limit)),
        );
        self.record(
            path,
            &[
                (Method::GET, std::any::type_name::<G>()),
                (Method::POST, std::any::type_name::<P>()),
            ],
        )
    }

    /// Adds another table's routes.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// The router and its table.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteEntry>) {
        (self.router, self.table)
    }
}

/// The body limits of the routes that take more than a form: photos (three, base64-encoded when
/// they come as JSON, and the rest of the form), a notice's attachment, a roster. Everything else
/// is a form or a JSON document.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Requests that may carry photos.
    pub photo: usize,
    /// A notice's attachment.
    pub attachment: usize,
    /// A roster upload.
    pub roster: usize,
}

impl BodyLimits {
    /// The limits the settings imply.
    pub fn of(settings: &crate::WebSettings) -> Self {
        Self {
            photo: yongxin_domain::photo::MAX_PHOTOS * settings.photo_max_bytes * 4 / 3 + (1 << 20),
            attachment: settings.attachment_max_bytes + (1 << 20),
            roster: settings.max_upload_bytes + (1 << 20),
        }
    }
}
