//! The home page: what the signed-in person has to do, or the way in for everyone else.

pub(crate) mod desk;
mod pages;
pub(crate) mod work;

use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new().get("/", pages::home)
}
