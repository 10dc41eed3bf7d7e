//! 通知发送记录: the messages the office sends, as administrators see them — every notification
//! the outbox holds or has sent, recipient masked, filterable and exportable. Composing a message
//! is `background`'s; this area only shows it.

mod pages;

use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new().get("/admin/outbox", pages::outbox)
}
