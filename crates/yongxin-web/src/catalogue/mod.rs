//! The service catalogue (服务目录): categories, their questions and deadlines, edited by
//! administrators and read by every intake channel.

mod api;
mod pages;

use yongxin_domain::catalogue::Category;

use crate::http::i18n::Lang;
use crate::http::routes::Routes;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get_post("/admin/categories", pages::show, pages::save)
        .get("/api/v1/categories", api::list_categories)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::CatalogueApi as utoipa::OpenApi>::openapi()
}

/// A category's name in the reader's language.
pub fn category_name(c: &Category, lang: Lang) -> String {
    if lang == Lang::En {
        c.name_en.clone()
    } else {
        c.name_zh.clone()
    }
}
