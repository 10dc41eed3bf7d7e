//! Open311 GeoReport v2 under `/open311/v2/`: discovery, services (the catalogue, with the extra
//! questions as attributes), service requests (appeals) and tokens, each as `.json` or `.xml`.
//!
//! Choices where the standard leaves room: the service request id is the appeal's case number
//! (案件编号) and so is the token, since a request is created at once; `jurisdiction_id` is
//! ignored (one jurisdiction per server) and an empty one is the same as none; `phone` is
//! required, because residents hear of their case by SMS. `GET requests` shows what the public
//! list shows (category, status, village, dates: no description, since a title is the
//! resident's own words, no address, notes, coordinates or photo), except to the client that
//! relayed a request, which with its `api_key` sees that request in full, its `media_url` the
//! address of the appeal's first photo without location metadata. A `media_url`
//! given with a new request is not fetched: the office's intranet has no way out.

use crate::http::extract::Ids;
use crate::http::wire::{respond, Format, Node};
use std::collections::BTreeMap;
use yongxin_store::AppealId;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use yongxin_domain::appeal::{parse_appeal_number, AppealStatus};
use yongxin_store::{AppealQuery, AppealScope, AppealSearchDoc, Open311Key};

use super::{intake, IntakeInput};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

/// The routes under `/open311/v2/`.
pub fn routes() -> crate::http::routes::Routes {
    crate::http::routes::Routes::new()
        .get_post("/open311/v2/{file}", top_level, post_request)
        .get("/open311/v2/services/{file}", service_definition)
        .get("/open311/v2/requests/{file}", one_request)
        .get("/open311/v2/tokens/{file}", token)
}

/// Splits `services.json` into its name and format; any other extension is not found.
fn parse_file(file: &str) -> Result<(&str, Format), AppError> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok((name, Format::Json)),
        Some((name, "xml")) => Ok((name, Format::Xml)),
        Some(_) => Err(AppError::not_found()),
        None => Ok((file, Format::Json)),
    }
}

/// W3C datetime with the Shanghai offset, as the standard asks (`2026-11-27T09:30:00+08:00`).
fn w3c(t: DateTime<Utc>) -> String {
    t.with_timezone(&yongxin_domain::time::shanghai())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Every name=value pair of a form body or query string, in order.
fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw).into_owned().collect()
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The client whose key is given, or 403.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn client(state: &AppState, key: Option<&str>) -> Result<Open311Key, AppError> {
    let Some(key) = key else {
        return Err(AppError::open311_key());
    };
    state
        .store
        .open311_key(&crate::http::auth::token_hash(key))
        .await?
        .ok_or_else(AppError::open311_key)
}

/// Whose requests a reader sees in full: with a key, those its client relayed (recorded as
/// filed by `open311:NAME`); without one, none. A wrong key is 403.
struct Reader(Option<String>);

impl Reader {
    async fn of(state: &AppState, query: &[(String, String)]) -> Result<Self, AppError> {
        match first(query, "api_key") {
            Some(k) => Ok(Self(Some(format!(
                "open311:{}",
                client(state, Some(k)).await?.name
            )))),
            None => Ok(Self(None)),
        }
    }

    fn sees_in_full(&self, d: &AppealSearchDoc) -> bool {
        self.0.as_deref() == Some(d.submitted_by.as_str())
    }
}

/// This server's address as the client reached it (HTTPS as the cookies decide it).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let https = crate::http::context::is_secure(&state.settings, headers);
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// The date of the last change to this interface's behaviour.
const CHANGESET: &str = "2026-11-27T00:00:00+08:00";

/// `GET /open311/v2/discovery|services|requests.{format}`.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn top_level(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Ids(file): Ids<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (name, format) = parse_file(&file)?;
    let query = pairs(query.unwrap_or_default().as_bytes());
    match name {
        "discovery" => Ok(discovery(&state, &headers, format).await?),
        "services" => services(&state, &ctx, format).await,
        "requests" => requests(&state, &headers, format, &query).await,
        _ => Err(AppError::not_found()),
    }
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn discovery(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, AppError> {
    let office = state.store.subdistrict().await?.unwrap_or_default();
    let node = Node::Map(vec![
        ("changeset", Node::string(CHANGESET)),
        ("contact", Node::Text(format!("{office} 群众工作服务平台"))),
        (
            "key_service",
            Node::string("API keys are issued by the office's administrators (/admin/open311)."),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Map(vec![
                    (
                        "specification",
                        Node::string("http://wiki.open311.org/GeoReport_v2"),
                    ),
                    (
                        "url",
                        Node::Text(format!("{}/open311/v2", base_url(state, headers))),
                    ),
                    ("changeset", Node::string(CHANGESET)),
                    ("type", Node::string("production")),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![Node::string("application/json"), Node::string("text/xml")],
                        ),
                    ),
                ])],
            ),
        ),
    ]);
    Ok(respond(StatusCode::OK, format, "discovery", &node))
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn services(state: &AppState, ctx: &Ctx, format: Format) -> Result<Response, AppError> {
    let cats = state.categories().await?;
    let list = cats
        .iter()
        .filter(|(_, active)| *active)
        .map(|(cat, _)| {
            Node::Map(vec![
                ("service_code", Node::string(&cat.code)),
                (
                    "service_name",
                    Node::Text(crate::catalogue::category_name(cat, ctx.lang)),
                ),
                ("description", Node::string(&cat.description)),
                ("metadata", Node::Bool(!cat.questions.is_empty())),
                ("type", Node::string("realtime")),
                ("keywords", Node::string("")),
                ("group", Node::string(&cat.group)),
            ])
        })
        .collect();
    Ok(respond(
        StatusCode::OK,
        format,
        "services",
        &Node::List("service", list),
    ))
}

/// `GET /open311/v2/services/{code}.{format}`: the extra questions as attributes.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn service_definition(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(file): Ids<String>,
) -> Result<Response, AppError> {
    let (code, format) = parse_file(&file)?;
    let cats = state.categories().await?;
    let (cat, _) = cats
        .iter()
        .find(|(cat, active)| *active && cat.code == code)
        .ok_or_else(|| AppError::unknown_service(code))?;
    let attributes = cat
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let datatype = q.kind.open311();
            let label = match ctx.lang {
                crate::http::i18n::Lang::En => q.label_en.clone(),
                _ => q.label_zh.clone(),
            };
            let values = q
                .choices
                .iter()
                .map(|o| {
                    Node::Map(vec![
                        ("key", Node::string(&o.key)),
                        ("name", Node::string(&o.name)),
                    ])
                })
                .collect();
            Node::Map(vec![
                ("variable", Node::Bool(true)),
                ("code", Node::string(&q.code)),
                ("datatype", Node::string(datatype)),
                ("required", Node::Bool(q.required)),
                ("datatype_description", Node::string("")),
                ("order", Node::Int(i as i64 + 1)),
                ("description", Node::Text(label)),
                ("values", Node::List("value", values)),
            ])
        })
        .collect();
    let node = Node::Map(vec![
        ("service_code", Node::string(&cat.code)),
        ("attributes", Node::List("attribute", attributes)),
    ]);
    Ok(respond(StatusCode::OK, format, "service_definition", &node))
}

/// `POST /open311/v2/requests.{format}`: form-encoded; `api_key` in the body or the query.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn post_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(file): Ids<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, AppError> {
    let (name, format) = parse_file(&file)?;
    if name != "requests" {
        return Err(AppError::not_found());
    }
    let form = parse_request_form(&body, query.unwrap_or_default().as_bytes());
    let key = client(&state, form.api_key()).await?;
    let code = form
        .service_code()
        .ok_or_else(|| AppError::invalid_param("service_code"))?;
    let cats = state.categories().await?;
    if !cats.iter().any(|(cat, active)| *active && cat.code == code) {
        return Err(AppError::unknown_service(code));
    }
    let request = form.details().map_err(|e| match e {
        FormError::InvalidParam(name) => AppError::invalid_param(&name),
        FormError::LocationRequired => {
            AppError::bad_request(ctx.lang.catalog().t("open311.location_required"))
        }
    })?;
    let input = IntakeInput {
        category: code.to_owned(),
        description: request.description,
        answers: request.answers,
        address: request.address,
        latitude: request.latitude,
        longitude: request.longitude,
        contact_name: Some(request.contact_name),
        contact_phone: request.phone,
        contact_email: request.email,
        client: Some(key.name.clone()),
        ..IntakeInput::default()
    };
    let appeal = intake(
        &state,
        &ctx,
        input,
        yongxin_domain::appeal::Channel::Open311,
    )
    .await?;
    let node = Node::List(
        "request",
        vec![Node::Map(vec![
            ("service_request_id", Node::Text(appeal.number.clone())),
            ("service_notice", Node::Null),
            ("account_id", Node::Null),
        ])],
    );
    Ok(respond(StatusCode::OK, format, "service_requests", &node))
}

/// A service request as posted: the name=value pairs of the form body, then of the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestForm {
    pairs: Vec<(String, String)>,
}

/// What a posted service request says, once its fields are read.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDetails {
    /// `description`, trimmed (empty when not given; intake refuses that).
    pub description: String,
    /// Answers to the category's questions: `attribute[code]` (or `attribute[code][]`, repeated
    /// for several values) by code, values trimmed, empty ones left out.
    pub answers: BTreeMap<String, Vec<String>>,
    /// `address_string`, else `address_id`.
    pub address: Option<String>,
    /// `lat`.
    pub latitude: Option<f64>,
    /// `long`.
    pub longitude: Option<f64>,
    /// `last_name` and `first_name` as a name is written: family name first without a space
    /// when both are Chinese, else given name first.
    pub contact_name: String,
    /// `phone`.
    pub phone: Option<String>,
    /// `email`.
    pub email: Option<String>,
}

/// Why a posted service request's fields were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A field that is malformed: its name.
    InvalidParam(String),
    /// Neither an address nor both coordinates.
    LocationRequired,
}

/// Reads a `POST requests` body and query string (both form-encoded); the body's fields come
/// first, so the body wins where a field is given twice.
pub fn parse_request_form(body: &[u8], query: &[u8]) -> RequestForm {
    let mut all = pairs(body);
    all.extend(pairs(query));
    RequestForm { pairs: all }
}

impl RequestForm {
    /// `api_key`.
    pub fn api_key(&self) -> Option<&str> {
        first(&self.pairs, "api_key")
    }

    /// `service_code`.
    pub fn service_code(&self) -> Option<&str> {
        first(&self.pairs, "service_code")
    }

    /// The request's fields, checked in the order the standard lists them; the first problem.
    pub fn details(&self) -> Result<RequestDetails, FormError> {
        let form = &self.pairs;
        let coordinate = |name: &str| -> Result<Option<f64>, FormError> {
            first(form, name)
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| FormError::InvalidParam(name.to_owned()))
                })
                .transpose()
        };
        let (latitude, longitude) = (coordinate("lat")?, coordinate("long")?);
        let address = first(form, "address_string").or(first(form, "address_id"));
        if address.is_none() && (latitude.is_none() || longitude.is_none()) {
            return Err(FormError::LocationRequired);
        }
        let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in form {
            let Some(rest) = k.strip_prefix("attribute[") else {
                continue;
            };
            let code = rest
                .strip_suffix("][]")
                .or_else(|| rest.strip_suffix(']'))
                .ok_or_else(|| FormError::InvalidParam(k.clone()))?;
            if !v.trim().is_empty() {
                answers
                    .entry(code.to_owned())
                    .or_default()
                    .push(v.trim().to_owned());
            }
        }
        let (given, family) = (first(form, "first_name"), first(form, "last_name"));
        let contact_name = match (family, given) {
            (Some(f), Some(g))
                if f.chars()
                    .chain(g.chars())
                    .all(yongxin_search::grams::is_han) =>
            {
                format!("{f}{g}")
            }
            (Some(f), Some(g)) => format!("{g} {f}"),
            (f, g) => f.or(g).unwrap_or_default().to_owned(),
        };
        Ok(RequestDetails {
            description: first(form, "description").unwrap_or_default().to_owned(),
            answers,
            address: address.map(str::to_owned),
            latitude,
            longitude,
            contact_name,
            phone: first(form, "phone").map(str::to_owned),
            email: first(form, "email").map(str::to_owned),
        })
    }
}

/// Statuses the standard calls `open` or `closed`.
fn statuses_called(word: &str) -> Result<Vec<AppealStatus>, AppError> {
    let mut out = Vec::new();
    for w in word.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w != "open" && w != "closed" {
            return Err(AppError::invalid_param("status"));
        }
        out.extend(AppealStatus::ALL.iter().filter(|s| s.open311() == w));
    }
    Ok(out)
}

fn w3c_param(pairs: &[(String, String)], name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    first(pairs, name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::invalid_param(name))
        })
        .transpose()
}

/// `GET /open311/v2/requests.{format}` with `service_request_id`, `service_code`, `start_date`,
/// `end_date`, `status`, `page` and `page_size` (default 100, at most 1000); without dates, the
/// last 90 days.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn requests(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
    query: &[(String, String)],
) -> Result<Response, AppError> {
    let reader = Reader::of(state, query).await?;
    let docs = if let Some(ids) = first(query, "service_request_id") {
        let asked: Vec<&str> = ids.split(',').map(str::trim).collect();
        let ids: Vec<AppealId> = asked
            .iter()
            .filter_map(|n| parse_appeal_number(n).map(|(_, id)| AppealId(id)))
            .collect();
        // Only a request asked for by its whole number answers: a guessed id with another date
        // must not be turned into the real number.
        let mut docs = state.store.appeal_search_docs(&ids).await?;
        docs.retain(|d| asked.contains(&d.appeal.number.as_str()));
        docs
    } else {
        let number = |name: &str, default: i64, max: i64| -> Result<i64, AppError> {
            match first(query, name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| AppError::invalid_param(name)),
            }
        };
        let (start, end) = (
            w3c_param(query, "start_date")?,
            w3c_param(query, "end_date")?,
        );
        let start = match (start, end) {
            (None, None) => Some(Utc::now() - chrono::Duration::days(90)),
            (s, _) => s,
        };
        let q = AppealQuery {
            statuses: first(query, "status")
                .map(statuses_called)
                .transpose()?
                .unwrap_or_default(),
            category: first(query, "service_code").map(str::to_owned),
            created_from: start,
            created_before: end,
            page: number("page", 1, i64::MAX)?,
            ..AppealQuery::within(AppealScope::All, number("page_size", 100, 1000)?)
        };
        let page = state.store.search_appeals(&q).await?;
        let ids: Vec<AppealId> = page.appeals.iter().map(|a| a.id).collect();
        state.store.appeal_search_docs(&ids).await?
    };
    let cats = state.categories().await?;
    let ids: Vec<AppealId> = docs
        .iter()
        .filter(|d| reader.sees_in_full(d))
        .map(|d| d.appeal.id)
        .collect();
    let photos = if ids.is_empty() {
        Vec::new()
    } else {
        state.store.photos_of_appeals(&ids).await?
    };
    let base = base_url(state, headers);
    let list = docs
        .iter()
        .map(|d| {
            let full = reader.sees_in_full(d);
            let media = media_url(&base, &photos, d.appeal.id).filter(|_| full);
            request_node(d, &cats, full, media)
        })
        .collect();
    Ok(respond(
        StatusCode::OK,
        format,
        "service_requests",
        &Node::List("request", list),
    ))
}

/// The address of the appeal's first photo (without location metadata), among `photos` (those
/// keyed clients may see).
fn media_url(
    base: &str,
    photos: &[yongxin_store::PhotoRef],
    appeal_id: AppealId,
) -> Option<String> {
    photos
        .iter()
        .find(|p| p.appeal_id == appeal_id && p.event_id.is_none())
        .map(|p| format!("{base}/photos/{}", p.token))
}

fn request_node(
    d: &AppealSearchDoc,
    cats: &crate::CatalogueEntries,
    full: bool,
    media: Option<String>,
) -> Node {
    let a = &d.appeal;
    let service_name = cats
        .iter()
        .find(|(c, _)| c.code == a.category)
        .map_or(a.category.clone(), |(c, _)| c.name_zh.clone());
    let (description, address, lat, long) = if full {
        (
            Node::string(&a.description),
            Node::string(&a.address),
            a.latitude.map_or(Node::Null, Node::Float),
            a.longitude.map_or(Node::Null, Node::Float),
        )
    } else {
        (
            Node::Null,
            Node::opt(a.village_name.clone()),
            Node::Null,
            Node::Null,
        )
    };
    Node::Map(vec![
        ("service_request_id", Node::string(&a.number)),
        ("status", Node::string(a.status.open311())),
        // Notes are for the resident and the relaying platform, not for anyone without a key.
        (
            "status_notes",
            if full {
                Node::opt(d.public_notes.last().cloned())
            } else {
                Node::Null
            },
        ),
        ("service_name", Node::Text(service_name)),
        ("service_code", Node::string(&a.category)),
        ("description", description),
        ("agency_responsible", Node::opt(a.department.clone())),
        ("service_notice", Node::Null),
        ("requested_datetime", Node::Text(w3c(a.created_at))),
        ("updated_datetime", Node::Text(w3c(a.updated_at))),
        ("expected_datetime", Node::Text(w3c(a.resolution_due))),
        ("address", address),
        ("address_id", Node::Null),
        ("zipcode", Node::Null),
        ("lat", lat),
        ("long", long),
        ("media_url", Node::opt(media)),
    ])
}

/// `GET /open311/v2/requests/{id}.{format}`.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn one_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Ids(file): Ids<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (number, format) = parse_file(&file)?;
    let (_, id) = parse_appeal_number(number).ok_or_else(|| AppError::unknown_request(number))?;
    let id = AppealId(id);
    let query = pairs(query.unwrap_or_default().as_bytes());
    let reader = Reader::of(&state, &query).await?;
    let docs = state.store.appeal_search_docs(&[id]).await?;
    let doc = docs
        .first()
        .filter(|d| d.appeal.number == number)
        .ok_or_else(|| AppError::unknown_request(number))?;
    let full = reader.sees_in_full(doc);
    let cats = state.categories().await?;
    let photos = if full {
        state.store.appeal_photos(id).await?
    } else {
        Vec::new()
    };
    let media = media_url(&base_url(&state, &headers), &photos, id);
    Ok(respond(
        StatusCode::OK,
        format,
        "service_requests",
        &Node::List("request", vec![request_node(doc, &cats, full, media)]),
    ))
}

/// `GET /open311/v2/tokens/{token}.{format}`: the token is the case number.
#[tracing::instrument(skip_all, err(level = "debug"))]
async fn token(
    State(state): State<AppState>,
    Ids(file): Ids<String>,
) -> Result<Response, AppError> {
    let (token, format) = parse_file(&file)?;
    let (_, id) = parse_appeal_number(token).ok_or_else(|| AppError::unknown_request(token))?;
    let found = state.store.appeals_by_ids(&[AppealId(id)]).await?;
    let a = found
        .first()
        .filter(|a| a.number == token)
        .ok_or_else(|| AppError::unknown_request(token))?;
    let node = Node::List(
        "request",
        vec![Node::Map(vec![
            ("service_request_id", Node::string(&a.number)),
            ("token", Node::string(token)),
        ])],
    );
    Ok(respond(StatusCode::OK, format, "service_requests", &node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_name_their_format() {
        assert_eq!(
            parse_file("services.json").expect("json"),
            ("services", Format::Json)
        );
        assert_eq!(
            parse_file("requests.xml").expect("xml"),
            ("requests", Format::Xml)
        );
        assert!(parse_file("requests.csv").is_err());
    }
}
