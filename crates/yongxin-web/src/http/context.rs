//! What every request carries: its language, the signed-in user (from the session cookie or an
//! API bearer token), and the CSRF token its forms must echo.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use yongxin_store::User;

use crate::http::auth::{random_token, token_hash};
use crate::http::error::AppError;
use crate::http::i18n::Lang;
use crate::AppState;

/// Cookie holding the session token.
pub const SESSION_COOKIE: &str = "yongxin_session";
/// Cookie holding a random value that anonymous forms' CSRF token is derived from. The token
/// itself never sits in a cookie: a signed-in user's token is derived from the session, so a
/// cookie planted by someone else (a sibling subdomain, a shared intranet proxy) is useless.
pub const CSRF_COOKIE: &str = "yongxin_csrf";
/// Cookie remembering the chosen language.
pub const LANG_COOKIE: &str = "yongxin_lang";

/// The request's context, put in its extensions by [`attach_context`].
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Language to answer in.
    pub lang: Lang,
    /// The signed-in user.
    pub user: Option<User>,
    /// The token forms must echo.
    pub csrf: String,
    /// Path and query of the request, for the language switch and sign-in redirects.
    pub path: String,
    /// Whether cookies must be marked Secure.
    pub secure: bool,
    /// The client's address (the connection's peer), for the limits of anonymous requests.
    pub peer: Option<std::net::IpAddr>,
}

impl Ctx {
    /// The key this client's requests are limited by ([`crate::http::security::client_key`]); `None`
    /// when the connection's address is unknown.
    pub fn client_key(&self) -> Option<String> {
        self.peer.map(crate::http::security::client_key)
    }

    /// The signed-in user, or 401 (a redirect to sign-in for pages).
    pub fn user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or_else(AppError::unauthorized)
    }

    /// The signed-in user if they work in the office (any role but resident).
    pub fn cadre(&self) -> Result<&User, AppError> {
        self.require(yongxin_domain::Permission::WorkInOffice)
    }

    /// The signed-in user if their role holds `permission` (the domain's one table).
    pub fn require(&self, permission: yongxin_domain::Permission) -> Result<&User, AppError> {
        let u = self.user()?;
        if u.role.may(permission) {
            Ok(u)
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Whether the signed-in user's role holds `permission`.
    pub fn may(&self, permission: yongxin_domain::Permission) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.may(permission))
    }

    /// Checks a form's echoed CSRF token.
    pub fn check_csrf(&self, echoed: &str) -> Result<(), AppError> {
        use subtle_eq::eq;
        if !self.csrf.is_empty() && eq(self.csrf.as_bytes(), echoed.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::csrf())
        }
    }

    /// The actor name written into the audit record.
    pub fn actor(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_else(|| "anonymous".into())
    }

    /// Builds a Set-Cookie value with the attributes every yongxin cookie has.
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
    }
}

/// The CSRF token forms must echo: a hash, keyed by the installation's secret, of what the
/// browser holds in an HttpOnly cookie (the session token once signed in, else a random value).
/// Only a page this server rendered for that browser carries it; someone who plants the cookie
/// from a sibling site knows its value but not the key, so cannot compute the token.
pub fn csrf_token(key: &str, kind: &str, secret: &str) -> String {
    token_hash(&format!("yongxin-csrf-v2\n{key}\n{kind}\n{secret}"))
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle_eq::eq(a, b)
}

mod subtle_eq {
    /// Compares in time independent of where the inputs differ.
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::internal("request context missing"))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Percent-encodes a value for a query string.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether the request came over HTTPS (as configured, or as the proxy says).
pub fn is_secure(settings: &crate::WebSettings, headers: &HeaderMap) -> bool {
    settings.secure_cookies.unwrap_or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https")
    })
}

/// Resolves the context of every request before its handler runs.
pub async fn attach_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let lang = cookie_value(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(Lang::parse)
        })
        .unwrap_or(state.settings.default_lang);
    let secure = is_secure(&state.settings, headers);
    let existing_csrf = cookie_value(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 64)
        .map(str::to_owned);
    let session = cookie_value(headers, SESSION_COOKIE).map(str::to_owned);
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();

    let mut user = None;
    let mut lookup_failed = false;
    if let Some(token) = &bearer {
        match state.api_token_user(&token_hash(token)).await {
            Ok(u) => user = u,
            Err(e) => {
                tracing::error!(error.message = %e, "api token lookup failed");
                lookup_failed = true;
            }
        }
    } else if let Some(token) = &session {
        match state.session_user(&token_hash(token)).await {
            Ok(u) => user = u,
            Err(e) => {
                tracing::error!(error.message = %e, "session lookup failed");
                lookup_failed = true;
            }
        }
    }
    // A bearer token is an API client: it sends no forms, so it gets no CSRF cookie (and the
    // server spends no random bytes or header on it).
    let new_csrf = (existing_csrf.is_none() && bearer.is_none()).then(random_token);
    // Without the key (the database unreachable before it was first read) no form could be
    // checked; the token is then the hash without it, which only fails the form to come.
    let key = state.installation_key().await.unwrap_or_default();
    let csrf = match (&user, &session) {
        (Some(_), Some(session)) => csrf_token(key, "session", session),
        _ => existing_csrf
            .as_deref()
            .or(new_csrf.as_deref())
            .map(|nonce| csrf_token(key, "anonymous", nonce))
            .unwrap_or_default(),
    };
    let ctx = Ctx {
        lang,
        user,
        csrf,
        path,
        secure,
        peer,
    };
    req.extensions_mut().insert(ctx.clone());
    if lookup_failed {
        use axum::response::IntoResponse;
        let mut res =
            AppError::from(yongxin_store::StoreError::unavailable("session store")).into_response();
        res.extensions_mut().insert(ctx);
        return res;
    }
    let mut res = next.run(req).await;
    res.extensions_mut().insert(ctx.clone());
    if let Some(token) = new_csrf {
        if let Ok(v) = HeaderValue::from_str(&ctx.cookie(CSRF_COOKIE, &token, 60 * 60 * 24 * 30)) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}
