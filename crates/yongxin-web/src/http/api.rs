//! What every part of the JSON API shares: the error document and how times are written.

use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorDto {
    error: ErrorBody,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code (`unauthorized`, `forbidden`, `not_found`, `invalid_param`, …).
    code: String,
    /// Message in the request's language.
    message: String,
}

/// A time as the API writes it: RFC 3339 with the Asia/Shanghai offset.
pub(crate) fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&yongxin_domain::time::shanghai())
        .to_rfc3339()
}
