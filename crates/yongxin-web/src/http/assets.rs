//! Static assets, compiled into the binary: nothing is fetched from elsewhere.

use crate::http::extract::Ids;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::http::error::AppError;

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const BOARD_JS: &str = include_str!("../../static/board.js");
const PICKER_JS: &str = include_str!("../../static/picker.js");
const WALK_JS: &str = include_str!("../../static/walk.js");
const ICON_SVG: &str = include_str!("../../static/icon.svg");

/// `GET /favicon.ico`, which browsers ask for by themselves: the icon pages name (SVG).
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON_SVG,
    )
        .into_response()
}

/// `GET /static/{file}`.
pub async fn asset(Ids(file): Ids<String>) -> Result<Response, AppError> {
    let (body, kind) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "board.js" => (BOARD_JS, "text/javascript; charset=utf-8"),
        "picker.js" => (PICKER_JS, "text/javascript; charset=utf-8"),
        "walk.js" => (WALK_JS, "text/javascript; charset=utf-8"),
        "icon.svg" => (ICON_SVG, "image/svg+xml"),
        _ => return Err(AppError::not_found()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response())
}
