//! `/admin/outbox`: the page and its export (`?format=xlsx|csv`, the same filters).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::Permission;
use yongxin_store::{AppealId, OutboxEntry, OutboxFilter, OutboxState};

use crate::background::{compose, RatingLink};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::http::params::{href, parse_opt_id};
use crate::http::sheet::{download, requested};
use crate::AppState;

/// Rows on one page.
const PER_PAGE: i64 = 50;
/// Rows in one export.
const EXPORT_ROWS: i64 = 20_000;

/// The page's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutboxQuery {
    state: String,
    channel: String,
    kind: String,
    appeal: String,
    page: Option<i64>,
    format: Option<String>,
}

impl OutboxQuery {
    fn filter(&self) -> Result<OutboxFilter, AppError> {
        let state = match self.state.trim() {
            "" => None,
            s => Some(OutboxState::parse(s).ok_or_else(|| AppError::invalid_param("state"))?),
        };
        let channel = match self.channel.trim() {
            "" => None,
            c @ ("sms" | "email" | "user") => Some(c.to_owned()),
            _ => return Err(AppError::invalid_param("channel")),
        };
        let kind = match self.kind.trim() {
            "" => None,
            k if KINDS.contains(&k) => Some(k.to_owned()),
            _ => return Err(AppError::invalid_param("kind")),
        };
        Ok(OutboxFilter {
            state,
            channel,
            kind,
            appeal_id: parse_opt_id::<i64>(Some(&self.appeal), "appeal")?.map(AppealId),
        })
    }

    fn href(&self, page: Option<i64>, format: Option<&str>) -> String {
        let page = page.map(|p| p.to_string()).unwrap_or_default();
        href(
            "/admin/outbox",
            &[
                ("state", &self.state),
                ("channel", &self.channel),
                ("kind", &self.kind),
                ("appeal", &self.appeal),
                ("page", &page),
                ("format", format.unwrap_or_default()),
            ],
        )
    }
}

/// The kinds of message the office sends (`notify.*` in the catalogs).
const KINDS: [&str; 9] = [
    "resident_accepted",
    "resident_declined",
    "resident_answered",
    "resident_closed",
    "resident_merged",
    "cadre_assigned",
    "cadre_yellow_card",
    "cadre_red_card",
    "cadre_supervised",
];

/// One message as listed.
struct OutboxRow {
    id: i64,
    created: String,
    appeal: Option<(i64, String)>,
    kind: String,
    recipient: String,
    channel: String,
    text: String,
    attempts: i64,
    state: OutboxState,
    state_label: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    c: Chrome,
    q: OutboxQuery,
    kinds: Vec<(&'static str, String)>,
    states: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    rows: Vec<OutboxRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    xlsx_href: String,
    csv_href: String,
}

/// The rows of one page: each message written out as it was (or will be) sent, the rating link's
/// token left out (an administrator holding it could rate in the resident's name).
async fn rows(
    state: &AppState,
    c: &crate::http::i18n::Catalog,
    entries: Vec<OutboxEntry>,
) -> Result<Vec<OutboxRow>, AppError> {
    let ids: Vec<AppealId> = entries.iter().filter_map(|e| e.appeal_id).collect();
    let appeals: std::collections::HashMap<AppealId, yongxin_store::Appeal> = state
        .store
        .appeals_by_ids(&ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let message = yongxin_store::OutboxMessage {
            id: e.id,
            appeal_id: e.appeal_id,
            kind: e.kind.clone(),
            recipient: e.recipient.clone(),
            attempts: e.attempts,
        };
        let sent = compose(state, &message, &appeals, RatingLink::Hidden).await?;
        let (body, recipient) = (sent.body, sent.recipient);
        let channel = recipient.split(':').next().unwrap_or_default().to_owned();
        let state_now = OutboxState::of(&e);
        let detail = match state_now {
            OutboxState::Sent => e
                .sent_at
                .map(yongxin_domain::time::display_local)
                .unwrap_or_default(),
            _ => {
                let next = yongxin_domain::time::display_local(e.next_attempt_at);
                match &e.last_error {
                    Some(err) => format!("{next} · {err}"),
                    None => next,
                }
            }
        };
        out.push(OutboxRow {
            id: e.id,
            created: yongxin_domain::time::display_local(e.created_at),
            appeal: e
                .appeal_id
                .and_then(|id| appeals.get(&id))
                .map(|a| (a.id.0, a.number.clone())),
            kind: c.t(&format!("outbox.kind.{}", e.kind)).to_owned(),
            recipient: masked(state, &recipient).await?,
            channel: c.t(&format!("outbox.channel.{channel}")).to_owned(),
            text: body,
            attempts: e.attempts,
            state: state_now,
            state_label: c
                .t(&format!("outbox.state.{}", state_now.code()))
                .to_owned(),
            detail,
        });
    }
    Ok(out)
}

/// A recipient as the page shows it: a phone or address masked, a cadre by name.
async fn masked(state: &AppState, recipient: &str) -> Result<String, AppError> {
    Ok(match recipient.split_once(':') {
        Some(("sms", phone)) => yongxin_domain::phone::mask_phone(phone),
        Some(("email", address)) => yongxin_domain::email::mask_email(address),
        Some(("user", id)) => match id.parse().ok() {
            Some(id) => state
                .store
                .user(id)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default(),
            None => String::new(),
        },
        _ => String::new(),
    })
}

/// `GET /admin/outbox?state=&channel=&kind=&appeal=&page=&format=`: administrators.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn outbox(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ReadOutbox)?;
    let filter = q.filter()?;
    let c = ctx.lang.catalog();
    if let Some(format) = requested(q.format.as_deref())? {
        let (entries, _) = state.store.outbox_entries(&filter, EXPORT_ROWS, 0).await?;
        let mut table = vec![[
            "outbox.col.id",
            "outbox.col.created",
            "outbox.col.appeal",
            "outbox.col.kind",
            "outbox.col.channel",
            "outbox.col.recipient",
            "outbox.col.text",
            "outbox.col.attempts",
            "outbox.col.state",
            "outbox.col.detail",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect::<Vec<_>>()];
        for r in rows(&state, c, entries).await? {
            table.push(vec![
                r.id.to_string(),
                r.created,
                r.appeal.map(|(_, n)| n).unwrap_or_default(),
                r.kind,
                r.channel,
                r.recipient,
                r.text,
                r.attempts.to_string(),
                r.state_label,
                r.detail,
            ]);
        }
        return download(&table, format, "outbox");
    }
    let page = q.page.unwrap_or(1).max(1);
    let (entries, total) = state
        .store
        .outbox_entries(&filter, PER_PAGE, (page - 1) * PER_PAGE)
        .await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let rows = rows(&state, c, entries).await?;
    render(&OutboxPage {
        c: Chrome::new(&ctx, "outbox.title"),
        kinds: KINDS
            .iter()
            .map(|k| (*k, c.t(&format!("outbox.kind.{k}")).to_owned()))
            .collect(),
        states: OutboxState::ALL
            .iter()
            .map(|s| {
                (
                    s.code(),
                    c.t(&format!("outbox.state.{}", s.code())).to_owned(),
                )
            })
            .collect(),
        channels: ["sms", "email", "user"]
            .iter()
            .map(|k| (*k, c.t(&format!("outbox.channel.{k}")).to_owned()))
            .collect(),
        rows,
        total,
        page,
        pages,
        prev_href: (page > 1).then(|| q.href(Some(page - 1), None)),
        next_href: (page < pages).then(|| q.href(Some(page + 1), None)),
        xlsx_href: q.href(None, Some("xlsx")),
        csv_href: q.href(None, Some("csv")),
        q,
    })
}
