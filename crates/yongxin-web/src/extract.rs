//! The extractors handlers read requests through, so that a bad request gets the same clear,
//! translated answer on every route: [`Ids`] for ids in the path (anything that is not one is
//! "not found"), [`ApiJson`] for JSON bodies and [`ApiQuery`] for query strings (the field at
//! fault named, in the documented `{"error":…}` shape under `/api/`).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Path parameters (ids, tokens): a value that does not parse answers 404 like an id that does
/// not exist, so probing tells nothing and every route answers alike.
#[derive(Debug, Clone, Copy)]
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Ids(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(AppError::not_found()),
            Err(e) => Err(AppError::internal(e)),
        }
    }
}

/// A JSON body: malformed JSON is 400, a field missing or of the wrong type 422 naming it, a
/// body that is not JSON 415, one too large 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_rejection(&e)),
        }
    }
}

fn json_rejection(e: &JsonRejection) -> AppError {
    match e {
        JsonRejection::JsonDataError(e) => {
            AppError::unprocessable_field(&field_of(&e.body_text(), "body"))
        }
        JsonRejection::JsonSyntaxError(_) => AppError::bad_json(),
        JsonRejection::MissingJsonContentType(_) => AppError::json_content_type(),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::too_large()
        }
        _ => AppError::bad_json(),
    }
}

/// Query parameters: a value that does not read names the parameter (400).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(AppError::invalid_param(&field_of(&e.body_text(), "query")))
            }
            Err(e) => Err(AppError::invalid_param(&field_of(&e.body_text(), "query"))),
        }
    }
}

/// The field a serde message is about: axum reports `path.to.field: what is wrong`, or
/// `` missing field `name` ``; anything else is reported as `whole` (the body or the query).
fn field_of(message: &str, whole: &str) -> String {
    let detail = message
        .rsplit_once("target type: ")
        .map_or(message, |(_, d)| d);
    let detail = detail
        .rsplit_once("query string: ")
        .map_or(detail, |(_, d)| d);
    if let Some(rest) = detail.split("missing field `").nth(1) {
        if let Some(name) = rest.split('`').next() {
            return name.to_owned();
        }
    }
    if let Some(rest) = detail.split("unknown field `").nth(1) {
        if let Some(name) = rest.split('`').next() {
            return name.to_owned();
        }
    }
    match detail.split_once(": ") {
        Some((path, _))
            if !path.is_empty()
                && path.len() <= 64
                && path
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']')) =>
        {
            path.to_owned()
        }
        _ => whole.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn the_field_at_fault_is_named() {
        assert_eq!(
            field_of("Failed to deserialize the JSON body into the target type: missing field `category` at line 1 column 2", "body"),
            "category"
        );
        assert_eq!(
            field_of("Failed to deserialize the JSON body into the target type: unit_ids[0]: invalid type: string \"a\", expected i64 at line 1 column 30", "body"),
            "unit_ids[0]"
        );
        assert_eq!(
            field_of("Failed to deserialize query string: overdue: provided string was not `true` or `false`", "query"),
            "overdue"
        );
        assert_eq!(field_of("something else entirely", "query"), "query");
    }
}
