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

/// A form (`application/x-www-form-urlencoded`) read only once its `csrf` field matches the
/// token of the request's session: the one way handlers read forms, so a new form handler is
/// protected by construction. `T` is the form's fields (a struct, or the pairs of a form whose
/// fields repeat); the token itself need not be one of them.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = req
            .extensions()
            .get::<crate::context::Ctx>()
            .cloned()
            .ok_or_else(|| AppError::internal("request context missing"))?;
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::too_large()
                } else {
                    AppError::bad_request(e.body_text())
                }
            })?;
        let token = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ctx.check_csrf(&token)?;
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|e| AppError::invalid_param(&field_of(&e.to_string(), "form")))
    }
}

/// The fields of a form whose fields repeat (checkboxes, one input per household), in order.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// The first value of a field, empty when it is missing.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of a field, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl From<Vec<(String, String)>> for FormFields {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
}

impl std::ops::Deref for FormFields {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl IntoIterator for FormFields {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
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
