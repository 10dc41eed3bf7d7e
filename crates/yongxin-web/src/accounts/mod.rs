//! Accounts: who may come in, as whom, and in which language; the users administrators manage
//! and the keys of outside platforms.

mod manage;
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
        .get_post("/admin/users", pages::users, manage::create)
        .post("/admin/users/residents", manage::residents)
        .post("/admin/users/{id}/role", manage::set_role)
        .post("/admin/users/{id}/reset", manage::reset)
        .post("/admin/grids/handover", manage::handover)
        .get_post("/activate", manage::activate_page, manage::activate)
        .post("/admin/users/{id}/email", pages::set_email)
        .post("/admin/users/{id}/tokens/revoke", pages::revoke_tokens)
        .post("/admin/users/{id}/disabled", pages::set_disabled)
}
