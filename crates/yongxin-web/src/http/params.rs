//! Reading a form's or a query's plain values: optional ids, local times.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::http::error::AppError;

/// Reads an optional numeric id from a query parameter; empty means absent.
pub fn parse_opt_id<T: std::str::FromStr>(
    value: Option<&str>,
    name: &str,
) -> Result<Option<T>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid_param(name)),
    }
}

/// A local (Asia/Shanghai) time from a form's `datetime-local` field; empty is none.
pub fn local_time(value: &str, field: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M"))
        .map_err(|_| AppError::invalid_param(field))?;
    naive
        .and_local_timezone(yongxin_domain::time::shanghai())
        .single()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| AppError::invalid_param(field))
}

/// A list's address with its filters (empty ones left out), for pagers and export links.
pub fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = path.to_owned();
    let mut sep = '?';
    for (name, value) in pairs {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        s.push(sep);
        s.push_str(name);
        s.push('=');
        s.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        sep = '&';
    }
    s
}
