//! The OpenAPI 3 document of the JSON API under `/api/v1` (signed in by session cookie or
//! `Authorization: Bearer TOKEN`): each API area declares its part next to its handlers; here
//! they are merged, the answers every operation may give are added, and the whole is served at
//! `/api/v1/openapi.json`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

use crate::http::api::{ErrorBody, ErrorDto};

/// The generated OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "yongxin API",
        version = "1",
        description = "用心: the JSON API of yongxin. Authenticate with a session cookie or `Authorization: Bearer TOKEN` (`yongxin user token NAME`). Errors are `{\"error\":{\"code\":…,\"message\":…}}`."
    ),
    components(schemas(ErrorDto, ErrorBody))
)]
pub struct ApiDoc;

/// The document of every area. `merge` keeps the first of two schemas with one name; the order
/// is the one that keeps the document as it was.
fn merged() -> utoipa::openapi::OpenApi {
    let mut api = ApiDoc::openapi();
    for part in [
        crate::registry::openapi(),
        crate::notices::openapi(),
        crate::consultations::openapi(),
        crate::meetings::openapi(),
        crate::campaigns::openapi(),
        crate::resettlement::openapi(),
        crate::selection::openapi(),
        crate::catalogue::openapi(),
        crate::appeals::openapi(),
        crate::scorecards::openapi(),
    ] {
        api.merge(part);
    }
    api
}

/// The document's route.
pub(crate) fn routes() -> crate::http::routes::Routes {
    crate::http::routes::Routes::new().get("/api/v1/openapi.json", openapi)
}

async fn openapi() -> Response {
    // Built once: the document depends on nothing but the code.
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> =
        std::sync::LazyLock::new(openapi_document);
    Json(&*DOCUMENT).into_response()
}

/// The OpenAPI document with the answers every operation may give besides its own: 400 where it
/// takes a query or a body, 404 where its path names something, 413, 415 and 422 where it takes a
/// body, 500 and 503 everywhere, all in the one error shape the extractors and the error
/// middleware guarantee.
pub fn openapi_document() -> serde_json::Value {
    let mut doc = serde_json::to_value(merged()).unwrap_or_default();
    let error = serde_json::json!({
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorDto" } } }
    });
    let described = |status: &str| {
        let mut e = error.clone();
        e["description"] = serde_json::Value::from(match status {
            "400" => "Bad request: a parameter or the body does not read",
            "404" => "Not found (also any id that is not one)",
            "413" => "The body is larger than the route takes",
            "415" => "The body is not JSON",
            "422" => "A field of the body is missing or of the wrong type",
            "500" => "The server failed",
            _ => "The database cannot be reached",
        });
        e
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let has_body = op.contains_key("requestBody");
            let has_query = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let mut add = vec!["500", "503"];
            if has_body || has_query {
                add.push("400");
            }
            if path.contains('{') {
                add.push("404");
            }
            if has_body {
                add.extend(["413", "415", "422"]);
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(r) = responses.as_object_mut() {
                for status in add {
                    r.entry(status).or_insert_with(|| described(status));
                }
            }
        }
    }
    doc
}
