//! Accounts: who may come in, as whom, and in which language; the users administrators manage
//! and the keys of outside platforms.

mod pages;

use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get_post("/sign-in", pages::sign_in_page, pages::sign_in)
        .post("/sign-out", pages::sign_out)
        .get("/lang", pages::switch_language)
        .get_post(
            "/admin/open311",
            pages::open311_keys,
            pages::add_open311_key,
        )
        .post("/admin/open311/{id}/revoke", pages::revoke_open311_key)
        .get("/admin/users", pages::users)
        .post("/admin/users/{id}/email", pages::set_email)
        .post("/admin/users/{id}/tokens/revoke", pages::revoke_tokens)
        .post("/admin/users/{id}/disabled", pages::set_disabled)
}
