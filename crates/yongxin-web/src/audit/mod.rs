//! The tamper-evident record (留痕) as administrators and leaders read it, and its head
//! published each week as a notice, which anyone can later hold the record against.

mod pages;

use chrono::{DateTime, Utc};
use yongxin_domain::Actor;
use yongxin_store::{Notice, Store, StoreError};

use crate::http::routes::Routes;

/// Publishes this ISO week's notice of the record's head, once: answers the notice and whether it
/// was published now (`false`: this week's was already, by this node or another).
pub async fn publish_head(
    store: &dyn Store,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Notice, bool), StoreError> {
    let week = yongxin_domain::audit::iso_week(yongxin_domain::campaign::local_day(now));
    let (seq, hash) = store
        .audit_head()
        .await?
        .unwrap_or((0, yongxin_domain::audit::GENESIS_HASH.to_owned()));
    let draft = yongxin_domain::audit::head_notice(&week, seq, &hash, now)
        .checked()
        .map_err(StoreError::internal)?;
    match store
        .publish_audit_head(actor, &week, (seq, &hash), draft.clone())
        .await
    {
        // Another node published the week's notice at the same moment: that one stands.
        Err(StoreError::Conflict { .. }) => {
            store
                .publish_audit_head(actor, &week, (seq, &hash), draft)
                .await
        }
        other => other,
    }
}

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new().get("/audit", pages::audit)
}
