//! The HTTP machinery every area's pages and API go through: the request context (language,
//! signed-in user, CSRF token), the extractors that are the only way a handler reads a request,
//! the one mapping of errors to responses, security headers and rate limits, uploads, the
//! message catalogs, the route table, metrics. Nothing here knows an area.

pub mod api;
pub mod assets;
pub mod auth;
pub mod chart;
pub mod context;
pub mod error;
pub mod extract;
pub mod format;
pub mod i18n;
pub mod metrics;
pub mod page;
pub mod params;
pub mod routes;
pub mod security;
pub mod sheet;
pub mod upload;
pub mod wire;

/// The routes every node serves whatever the areas: health, metrics and the compiled-in assets.
pub(crate) fn infra_routes() -> routes::Routes {
    routes::Routes::new()
        .get("/healthz", metrics::healthz)
        .get("/metrics", metrics::render_for_admins)
        .get("/static/{file}", assets::asset)
        .get("/favicon.ico", assets::favicon)
}
