//! The tamper-evident record (留痕) as administrators and leaders read it.

mod pages;

use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new().get("/audit", pages::audit)
}
