//! The one place errors become HTTP responses.
//!
//! Policy: handlers return [`AppError`]; it carries a status, a stable code and message
//! parameters, never internal details. [`render_errors`] (a middleware, because only it knows the
//! request's language and whether the client wants JSON) turns it into a page for browsers, or
//! `{"error":{"code":"…","message":"…"}}` under `/api/`. Server errors are logged here, once.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use yongxin_store::StoreError;

use crate::http::context::Ctx;
use crate::http::page::render_error_page;

/// An error a handler returns.
#[derive(Debug, Clone)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable code; the message is the catalog's `error.<code>`.
    pub code: &'static str,
    /// Values for the message's placeholders.
    pub params: Vec<(&'static str, String)>,
    /// What went wrong underneath a server error, for the log (never shown).
    cause: Option<std::sync::Arc<str>>,
    /// A domain refusal's own sentence, the message's `{detail}` (boxed: errors stay small).
    detail: Option<Box<Detail>>,
}

/// A domain refusal's sentence: the domain's Chinese, and the catalog key with its values that
/// says the same in another language (the Chinese stands where the catalog has no such key, and
/// for an empty key: a sentence the domain has only as written, such as a policy file's error).
#[derive(Debug, Clone)]
struct Detail {
    zh: String,
    key: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Detail {
    fn text(&self, catalog: &crate::http::i18n::Catalog) -> String {
        if catalog.lang() == crate::http::i18n::Lang::ZhCn || catalog.t(self.key) == self.key {
            return self.zh.clone();
        }
        // A value marked `@key` is itself said by the catalog (a phase's name).
        let params: Vec<(&str, String)> = self
            .params
            .iter()
            .map(|(name, value)| match value.strip_prefix('@') {
                Some(key) => (*name, catalog.t(key).to_owned()),
                None => (*name, value.clone()),
            })
            .collect();
        catalog.format(self.key, &params)
    }
}

impl AppError {
    fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            params: Vec::new(),
            cause: None,
            detail: None,
        }
    }

    /// Keeps what went wrong for the log line [`render_errors`] writes.
    fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string().into());
        self
    }

    /// The request needs a signed-in user.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }

    /// The user's role or scope does not reach this.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }

    /// Nothing here.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }

    /// 403 for an Open311 request without a valid API key.
    pub fn open311_key() -> Self {
        Self::new(StatusCode::FORBIDDEN, "open311_key")
    }

    /// 404 for a service code that is not in the catalogue.
    pub fn unknown_service(code: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknown_service").with("code", code.to_owned())
    }

    /// 404 for a service request (case number) that does not exist.
    pub fn unknown_request(number: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknown_request").with("number", number.to_owned())
    }

    /// The form's CSRF token is missing or wrong.
    pub fn csrf() -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf")
    }

    /// Input the user must correct; `detail` is already in the user's language.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request").with("detail", detail.into())
    }

    /// Refused for a reason the user should read; `detail` is already in the user's language.
    pub fn refused(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "refused").with("detail", detail.into())
    }

    /// A parameter that is not what it should be.
    pub fn invalid_param(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_param").with("name", name.to_owned())
    }

    /// Too many failed sign-ins.
    pub fn too_many_attempts(minutes: i64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            .with("minutes", minutes.to_string())
    }

    /// A JSON body that is not JSON.
    pub fn bad_json() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_json")
    }

    /// A JSON body whose field is missing or of the wrong type.
    pub fn unprocessable_field(field: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").with("name", field.to_owned())
    }

    /// Input refused for what a field holds; `detail` is already in the user's language.
    pub fn invalid_input(field: &str, detail: String) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
            .with("name", field.to_owned())
            .with("detail", detail)
    }

    /// A refused visit or correction: not the caller's household or correction 403, a client id
    /// reused or a visit already corrected 409, input 422 naming the field.
    pub fn from_visit_refusal(
        r: &yongxin_store::VisitRefusal,
        c: &crate::http::i18n::Catalog,
    ) -> Self {
        use yongxin_domain::campaign::CorrectionRefusal;
        use yongxin_store::VisitRefusal as R;
        let detail = |key: &str| c.t(key).to_owned();
        match r {
            R::NotAssigned => Self::refused(detail("campaign.error.not_assigned")),
            R::Correction(CorrectionRefusal::NotAllowed) => {
                Self::refused(detail("campaign.error.correction_not_allowed"))
            }
            R::Correction(CorrectionRefusal::ReasonRequired) => {
                Self::invalid_input("reason", detail("campaign.error.reason_required"))
            }
            R::ClientIdReused => Self::new(StatusCode::CONFLICT, "refused")
                .with("detail", detail("campaign.error.client_id_reused")),
            R::Superseded => Self::new(StatusCode::CONFLICT, "refused")
                .with("detail", detail("campaign.error.superseded")),
            R::Answer(e) => Self::invalid_input(
                "answers",
                crate::consultations::consultation_error(e, c).in_words(c),
            ),
            R::NoForm => Self::invalid_input("answers", detail("campaign.error.no_form")),
            R::NotAMember => Self::invalid_input("members", detail("campaign.error.not_a_member")),
        }
    }

    /// A body that should be JSON and says it is something else.
    pub fn json_content_type() -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "json_content_type")
    }

    /// A body larger than the route takes.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    }

    /// A method the route does not answer.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    }

    /// The error for a bare status that a layer below the handlers answered with (a body limit,
    /// a method the route lacks), so that it is rendered like every other.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::json_content_type(),
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::FORBIDDEN => Self::forbidden(),
            s if s.is_server_error() => Self::new(s, "internal"),
            s => Self::new(s, "bad_request").with("detail", s.to_string()),
        }
    }

    /// Too many requests of one kind from one client (or for one phone or case).
    pub fn rate_limited(minutes: i64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            .with("minutes", minutes.to_string())
    }

    /// The node is at its limit of expensive work (password checks); try again shortly.
    pub fn busy() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy")
    }

    /// An unexpected failure; logged once when it is answered, shown without detail.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal").caused_by(message)
    }

    /// Adds a message parameter.
    pub fn with(mut self, name: &'static str, value: String) -> Self {
        self.params.push((name, value));
        self
    }

    /// A refusal's sentence: `zh` as the domain wrote it, `key` and `params` for the catalog.
    fn with_detail(
        mut self,
        zh: impl std::fmt::Display,
        (key, params): (&'static str, Vec<(&'static str, String)>),
    ) -> Self {
        self.detail = Some(Box::new(Detail {
            zh: zh.to_string(),
            key,
            params,
        }));
        self
    }

    /// The message's values, the refusal's sentence in the catalog's language among them.
    fn params_in(&self, catalog: &crate::http::i18n::Catalog) -> Vec<(&'static str, String)> {
        let mut params = self.params.clone();
        if let Some(d) = &self.detail {
            params.push(("detail", d.text(catalog)));
        }
        params
    }

    /// The message in a catalog's language.
    pub fn message(&self, catalog: &crate::http::i18n::Catalog) -> String {
        catalog.format(&format!("error.{}", self.code), &self.params_in(catalog))
    }

    /// The message for a person at a form: a refusal's own sentence without the technical
    /// "bad request" framing around it.
    pub fn in_words(&self, catalog: &crate::http::i18n::Catalog) -> String {
        let params = self.params_in(catalog);
        match (self.code, params.iter().find(|(k, _)| *k == "detail")) {
            ("bad_request" | "invalid_input" | "refused", Some((_, detail))) => detail.clone(),
            _ => self.message(catalog),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => AppError::not_found(),
            StoreError::Conflict { .. } => AppError::new(StatusCode::CONFLICT, "conflict"),
            StoreError::Invalid { field, .. } => AppError::invalid_param(&field),
            StoreError::Unavailable(m) => {
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable").caused_by(m)
            }
            StoreError::Internal(m) => AppError::internal(m),
        }
    }
}

/// Resettlement refusals: input the user must correct is 422, the project's state 409; the
/// detail is the domain's zh-CN sentence, which the English catalog quotes.
impl From<yongxin_domain::resettlement::ResettlementError> for AppError {
    fn from(e: yongxin_domain::resettlement::ResettlementError) -> Self {
        use yongxin_domain::resettlement::ResettlementError as R;
        let (status, code) = match &e {
            R::Policy(_) | R::Entitlement(_) | R::Lottery(_) | R::PolicyVersion { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "resettlement.invalid")
            }
            R::NotInProject => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "resettlement.not_in_project",
            ),
            _ => (StatusCode::CONFLICT, "resettlement.state"),
        };
        AppError::new(status, code).with_detail(&e, refusal::resettlement(&e))
    }
}

/// Claim refusals: a unit taken is 409, a wrong or too large choice 422, not the household's
/// turn 403; the detail is the domain's zh-CN sentence.
impl From<yongxin_domain::selection::ClaimRefusal> for AppError {
    fn from(e: yongxin_domain::selection::ClaimRefusal) -> Self {
        use yongxin_domain::selection::ClaimRefusal as C;
        let (status, code) = match &e {
            C::Taken(_) => (StatusCode::CONFLICT, "selection.taken"),
            C::OverLimit { .. } | C::BadUnits(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "selection.invalid")
            }
            C::NotYourTurn(_) | C::Closed(_) | C::NotListed | C::NotCalled | C::NotPresent => {
                (StatusCode::FORBIDDEN, "selection.not_your_turn")
            }
        };
        AppError::new(status, code).with_detail(&e, refusal::claim(&e))
    }
}

/// A confirmed choice the operator can no longer return (signed, too late, released): 409, the
/// detail says that only an administrator's correction applies now.
impl From<yongxin_domain::selection::ReturnRefusal> for AppError {
    fn from(e: yongxin_domain::selection::ReturnRefusal) -> Self {
        AppError::new(StatusCode::CONFLICT, "selection.too_late")
            .with_detail(&e, refusal::give_back(&e))
    }
}

/// A selection that cannot be set up: the project's state (409) or the window (422).
impl From<yongxin_domain::selection::SetupError> for AppError {
    fn from(e: yongxin_domain::selection::SetupError) -> Self {
        use yongxin_domain::selection::SetupError as S;
        let status = match &e {
            S::Window(_) => StatusCode::UNPROCESSABLE_ENTITY,
            S::Phase | S::NotDrawn => StatusCode::CONFLICT,
        };
        AppError::new(status, "resettlement.state").with_detail(&e, refusal::setup(&e))
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{} ({}): {cause}", self.code, self.status),
            None => write!(f, "{} ({})", self.code, self.status),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders any [`AppError`] a handler returned, in the request's language.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let wants_json = path.starts_with("/api/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("application/json"));
    let res = next.run(req).await;
    let err = match res.extensions().get::<AppError>().cloned() {
        Some(err) => {
            if err.status.is_server_error() {
                tracing::error!(http.path = %path, error.code = err.code, error.message = err.cause.as_deref().unwrap_or(""), "server error");
            }
            err
        }
        None if res.status().is_server_error() => {
            tracing::error!(http.path = %path, http.status = res.status().as_u16(), "server error");
            if path.starts_with("/api/") {
                AppError::for_status(res.status())
            } else {
                return res;
            }
        }
        // Under the API every answer is documented: a bare error status from below the handlers
        // (body limit, method) becomes the JSON error too.
        None if path.starts_with("/api/") && res.status().as_u16() >= 400 => {
            AppError::for_status(res.status())
        }
        None => return res,
    };
    // The context middleware runs inside this one and leaves its findings on the response.
    let ctx = res.extensions().get::<Ctx>().cloned().unwrap_or_default();
    let catalog = ctx.lang.catalog();
    if path.starts_with("/open311/") {
        return crate::http::wire::error_response(&path, err.status, err.message(catalog));
    }
    if wants_json {
        let body =
            serde_json::json!({ "error": { "code": err.code, "message": err.message(catalog) } });
        return (err.status, axum::Json(body)).into_response();
    }
    if err.status == StatusCode::UNAUTHORIZED {
        let next = crate::http::context::percent_encode(&target);
        return Redirect::to(&format!("/sign-in?next={next}")).into_response();
    }
    render_error_page(&ctx, &err)
}

/// The catalog keys of the domain's refusals (`refusal.*`), with their values: what lets a
/// refusal be said in English. A value the domain holds only in Chinese (a phase's name, a
/// house's number) is looked up by its code where it has one.
mod refusal {
    use yongxin_domain::resettlement::entitlement::EntitlementError as E;
    use yongxin_domain::resettlement::{Phase, PhaseError, ResettlementError as R};
    use yongxin_domain::selection::{ClaimRefusal as C, ReturnRefusal, SetupError};

    type Said = (&'static str, Vec<(&'static str, String)>);

    fn plain(key: &'static str) -> Said {
        (key, Vec::new())
    }

    /// A phase's name from its Chinese one, as a catalog key (`@…`) for the `{phase}` value.
    fn phase(zh: &str) -> String {
        Phase::ALL.iter().find(|p| p.zh() == zh).map_or_else(
            || zh.to_owned(),
            |p| format!("@resettlement.phase_name.{}", p.code()),
        )
    }

    /// What a phase does not allow, from the domain's closed set of sentences.
    fn not_allowed(what: &str) -> &'static str {
        match what {
            "不接受选房登记" => "refusal.what_registration",
            "摇号名单已冻结，不再接受选房登记" => {
                "refusal.what_registration_frozen"
            }
            "政策尚未公布，不能评估" => "refusal.what_assessment_no_policy",
            "评估结果已公示，修改须作为更正并写明原因" => {
                "refusal.what_assessment_published"
            }
            "不能冻结摇号名单" => "refusal.what_freeze",
            "不能摇号" => "refusal.what_draw",
            "不能重新登记承诺" => "refusal.what_recommit",
            _ => "refusal.what_other",
        }
    }

    pub fn resettlement(e: &R) -> Said {
        match e {
            R::Phase(PhaseError::NotNext { from, next }) => (
                "refusal.phase_not_next",
                vec![("from", phase(from)), ("next", phase(next))],
            ),
            R::Phase(PhaseError::Last) => plain("refusal.phase_last"),
            R::Phase(PhaseError::NotAllowed { phase: p, what }) => (
                "refusal.phase_not_allowed",
                vec![
                    ("phase", phase(p)),
                    ("what", format!("@{}", not_allowed(what))),
                ],
            ),
            R::Policy(_) | R::Lottery(_) => ("", Vec::new()),
            R::Entitlement(e) => entitlement(e),
            R::NoPolicy => plain("refusal.no_policy"),
            R::PolicyVersion { expected, given } => (
                "refusal.policy_version",
                vec![
                    ("expected", expected.to_string()),
                    ("given", given.to_string()),
                ],
            ),
            R::NotInProject => plain("refusal.not_in_project"),
            R::MovedByAction(p, _) => ("refusal.moved_by_action", vec![("phase", phase(p))]),
            R::Unassessed(n) => ("refusal.unassessed", vec![("n", n.to_string())]),
            R::ObjectionsOpen(n) => ("refusal.objections_open", vec![("n", n.to_string())]),
            R::ObjectionWindowOpen(until) => (
                "refusal.objection_window_open",
                vec![("until", until.clone())],
            ),
            R::NobodyRegistered => plain("refusal.nobody_registered"),
            R::AlreadyFrozen(at) => ("refusal.already_frozen", vec![("at", at.clone())]),
            R::NotFrozen => plain("refusal.not_frozen"),
            R::AlreadyDrawn => plain("refusal.already_drawn"),
            R::NotDrawn => plain("refusal.not_drawn"),
            R::CommitmentSpent => plain("refusal.commitment_spent"),
            R::CommitmentUnused => plain("refusal.commitment_unused"),
        }
    }

    pub fn entitlement(e: &E) -> Said {
        match e {
            E::UnknownStructure(kind, condition) => (
                "refusal.unknown_structure",
                vec![
                    ("kind", (*kind).to_owned()),
                    ("condition", condition.clone()),
                ],
            ),
            E::UnknownFixture(code) => ("refusal.unknown_fixture", vec![("code", code.clone())]),
            E::UnknownLayout(code) => ("refusal.unknown_layout", vec![("code", code.clone())]),
            E::Negative => plain("refusal.negative"),
            E::TooLarge => plain("refusal.too_large"),
            E::OverLimit { chosen, limit } => (
                "refusal.over_limit",
                vec![("chosen", chosen.clone()), ("limit", limit.clone())],
            ),
            E::Empty => plain("refusal.no_layout"),
        }
    }

    pub fn claim(e: &C) -> Said {
        match e {
            C::Taken(units) => ("refusal.taken", vec![("units", units.clone())]),
            C::OverLimit { chosen, limit } => (
                "refusal.claim_over_limit",
                vec![("chosen", chosen.clone()), ("limit", limit.clone())],
            ),
            C::BadUnits(why) => ("refusal.bad_units", vec![("why", why.clone())]),
            C::NotYourTurn(why) => ("refusal.not_your_turn", vec![("why", why.clone())]),
            C::Closed(at) => ("refusal.closed", vec![("at", at.clone())]),
            C::NotListed => plain("refusal.not_listed"),
            C::NotCalled => plain("refusal.not_called"),
            C::NotPresent => plain("refusal.not_present"),
        }
    }

    pub fn give_back(e: &ReturnRefusal) -> Said {
        match e {
            ReturnRefusal::Signed => plain("refusal.return_signed"),
            ReturnRefusal::TooLate(s) => {
                ("refusal.return_too_late", vec![("seconds", s.to_string())])
            }
            ReturnRefusal::Released => plain("refusal.return_released"),
            ReturnRefusal::NotAtDesk => plain("refusal.return_not_at_desk"),
            ReturnRefusal::NextAtDesk => plain("refusal.return_next_at_desk"),
        }
    }

    pub fn setup(e: &SetupError) -> Said {
        match e {
            SetupError::Phase => plain("refusal.setup_phase"),
            SetupError::NotDrawn => plain("refusal.not_drawn"),
            SetupError::Window(_) => ("", Vec::new()),
        }
    }
}
