//! The audit record (留痕): the newest entries and verifying the whole chain.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::AuditEntry;
use yongxin_domain::Permission;

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::AppState;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    head_seq: i64,
    head_hash: String,
    entries: Vec<(AuditEntry, String, String)>,
    verified: Option<Result<u64, String>>,
}

/// Query of the audit page.
#[derive(Deserialize)]
pub struct VerifyQuery {
    verify: Option<String>,
}

/// `GET /audit`: admins and leaders; `?verify=1` recomputes the whole chain.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ReadAudit)?;
    let (head_seq, head_hash) = state
        .store
        .audit_head()
        .await?
        .unwrap_or((0, yongxin_domain::audit::GENESIS_HASH.to_owned()));
    let entries = state
        .store
        .recent_audit_entries(50)
        .await?
        .into_iter()
        .map(|e| {
            let at = yongxin_domain::time::display_local(e.at);
            let short = e.hash.chars().take(12).collect();
            (e, at, short)
        })
        .collect();
    let verified = if q.verify.is_some() {
        Some(
            state
                .store
                .verify_audit()
                .await?
                .map(|v| v.entries)
                .map_err(|e| e.to_string()),
        )
    } else {
        None
    };
    render(&AuditPage {
        c: Chrome::new(&ctx, "audit.title"),
        head_seq,
        head_hash,
        entries,
        verified,
    })
}
