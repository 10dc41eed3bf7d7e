//! The working-day calendars (法定节假日与调休): loading a year's official file.

mod pages;

use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new().get_post("/admin/calendar", pages::show, pages::load)
}
