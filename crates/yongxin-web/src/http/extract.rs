//! The extractors handlers read requests through, so that a bad request gets the same clear,
//! translated answer on every route: [`Ids`] for ids in the path (anything that is not one is
//! "not found"), [`ApiJson`] for JSON bodies and [`ApiQuery`] for query strings (the field at
//! fault named, in the documented `{"error":…}` shape under `/api/`).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::http::error::AppError;

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
/// protected by construction. `T` is a struct of the form's fields (a field that repeats, such
/// as a checkbox list, reads into a `Vec`); the token itself need not be one of them.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = context_of(&req)?;
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| unreadable_body(e.status(), e.body_text()))?;
        checked_form(&ctx, &body).map(CsrfForm)
    }
}

/// The context the middleware attached to the request.
pub(crate) fn context_of(req: &Request) -> Result<crate::http::context::Ctx, AppError> {
    req.extensions()
        .get::<crate::http::context::Ctx>()
        .cloned()
        .ok_or_else(|| AppError::internal("request context missing"))
}

/// A body that could not be read: too large (413), or not a form (400).
pub(crate) fn unreadable_body(status: StatusCode, text: String) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::too_large()
    } else {
        AppError::bad_request(text)
    }
}

/// A form body whose `csrf` field matches the session's token, read as `T`; nothing is read
/// before the token is checked.
pub(crate) fn checked_form<T: DeserializeOwned>(
    ctx: &crate::http::context::Ctx,
    body: &[u8],
) -> Result<T, AppError> {
    let token = form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    ctx.check_csrf(&token)?;
    read_form(body)
}

/// A form body read as `T`; a field that does not read is named (400).
pub(crate) fn read_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_html_form::from_bytes(body)
        .map_err(|e| AppError::invalid_param(&field_of(&e.to_string(), "form")))
}

/// A form that is only a button: nothing but its CSRF token is read.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct Button {}

/// Reads fields whose names come from data rather than from the form's code (`answer.CODE`
/// for a category's questions, `q7` for a consultation's): a type flattened into a typed form
/// (`#[serde(flatten)]`) calls this from its `Deserialize`, and `take` keeps the names it
/// knows. A name given once has one value, a repeated one (checkboxes) all of them, in order.
pub fn data_named_fields<'de, D>(
    deserializer: D,
    mut take: impl FnMut(&str, Vec<String>),
) -> Result<(), D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Fields<F>(F);

    impl<'de, F: FnMut(&str, Vec<String>)> serde::de::Visitor<'de> for Fields<F> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("form fields")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            while let Some((name, OneOrMany(values))) = map.next_entry::<String, OneOrMany>()? {
                (self.0)(&name, values);
            }
            Ok(())
        }
    }

    deserializer.deserialize_map(Fields(&mut take))
}

/// A field's values: one, or several when the field repeats.
struct OneOrMany(Vec<String>);

impl<'de> serde::Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Values;

        impl<'de> serde::de::Visitor<'de> for Values {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or several")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    values.push(v);
                }
                Ok(OneOrMany(values))
            }
        }

        d.deserialize_any(Values)
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
            Err(e) => Err(AppError::invalid_param(&field_of(&e.body_text(), "query"))),
        }
    }
}

/// The query string of a page's GET form, read as a form is (repeated fields into `Vec`); a
/// field that does not read is named (400).
#[derive(Debug, Clone, Default)]
pub struct PageQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for PageQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        read_form(parts.uri.query().unwrap_or_default().as_bytes()).map(PageQuery)
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
    use super::{data_named_fields, field_of, read_form};
    use std::collections::BTreeMap;

    /// Fields named `answer.CODE`, as a category's questions are.
    #[derive(Debug, Default)]
    struct Answers(BTreeMap<String, Vec<String>>);

    impl<'de> serde::Deserialize<'de> for Answers {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let mut answers = BTreeMap::new();
            data_named_fields(d, |name, values| {
                if let Some(code) = name.strip_prefix("answer.") {
                    answers.insert(code.to_owned(), values);
                }
            })?;
            Ok(Self(answers))
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Appeal {
        #[serde(default)]
        title: String,
        #[serde(flatten)]
        answers: Answers,
    }

    #[test]
    fn fields_named_by_data_read_beside_fixed_ones() {
        let form: Appeal = read_form(
            b"csrf=x&title=%E8%B7%AF%E7%81%AF&answer.where=north&answer.kinds=a&answer.kinds=b",
        )
        .expect("reads");
        assert_eq!(form.title, "路灯");
        assert_eq!(form.answers.0["where"], vec!["north"]);
        assert_eq!(form.answers.0["kinds"], vec!["a", "b"]);
        assert_eq!(form.answers.0.len(), 2, "csrf and title are not answers");
        let form: Appeal = read_form(b"").expect("an empty form reads");
        assert!(form.title.is_empty() && form.answers.0.is_empty());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Boxes {
        #[serde(default)]
        unit: Vec<String>,
        #[serde(default)]
        members: Option<String>,
    }

    #[test]
    fn repeated_fields_read_into_lists_and_a_missing_field_is_told_from_an_empty_one() {
        let one: Boxes = read_form(b"unit=7").expect("reads");
        assert_eq!(one.unit, vec!["7"]);
        let many: Boxes = read_form(b"unit=7&unit=9&members=").expect("reads");
        assert_eq!(many.unit, vec!["7", "9"]);
        assert_eq!(many.members.as_deref(), Some(""));
        let none: Boxes = read_form(b"").expect("reads");
        assert!(none.unit.is_empty() && none.members.is_none());
    }

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
