//! Work that runs beside the requests: delivering the notification outbox, recording deadlines
//! that have passed (for the three rates) and closing answers nobody rated in time. Every node may run it; the store's leases keep two nodes from sending the
//! same message at once.

use std::sync::Arc;
use yongxin_domain::Actor;
use yongxin_store::AppealId;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use yongxin_domain::appeal::AppealAction;
use yongxin_store::{OutboxMessage, StoreError};

use crate::http::i18n::Lang;
use crate::AppState;

/// A message ready to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Outbox id; real senders pass it on as the idempotency key, so a message resent after a
    /// crash between sending and recording is recognised by the gateway or mail server.
    pub id: i64,
    /// `sms:PHONE`, `user:ID` or `email:ADDRESS`.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Text.
    pub body: String,
}

/// A way messages leave the system (an SMTP relay, an SMS gateway, the log).
#[async_trait]
pub trait MessageSender: Send + Sync + 'static {
    /// Sends one message; an error is retried later.
    async fn send(&self, message: &Delivery) -> Result<(), String>;
}

/// The default sender: writes each message to the application log.
#[derive(Debug, Default)]
pub struct LogSender;

#[async_trait]
impl MessageSender for LogSender {
    async fn send(&self, m: &Delivery) -> Result<(), String> {
        // At debug level: without a gateway every message would land here, and a new user's
        // terminal running the demo would fill with hundreds of them.
        tracing::debug!(message.id = m.id, message.recipient = %m.recipient, message.subject = %m.subject, "notification: {}", m.body);
        Ok(())
    }
}

/// Sends `sms:` messages through an HTTP SMS gateway. The gateway is named by a
/// URL template whose `{phone}`, `{text}` and `{id}` are filled in (percent-encoded), for example
/// `http://10.1.1.5/sms/send?to={phone}&msg={text}&ref={id}`; any 2xx answer counts as accepted.
/// `{id}` lets the gateway drop a message it has already taken, so a resend after a crash between
/// sending and recording does not reach the phone twice.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    template: String,
    http: reqwest::Client,
}

impl SmsGateway {
    /// A gateway for a URL template; refused unless it is http(s) and names `{phone}` and `{text}`.
    pub fn new(template: &str) -> Result<Self, String> {
        if !(template.starts_with("http://") || template.starts_with("https://"))
            || !template.contains("{phone}")
            || !template.contains("{text}")
        {
            return Err("the SMS gateway URL must start with http:// or https:// and contain {phone} and {text}".into());
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            template: template.to_owned(),
            http,
        })
    }
}

#[async_trait]
impl MessageSender for SmsGateway {
    async fn send(&self, m: &Delivery) -> Result<(), String> {
        let Some(phone) = m.recipient.strip_prefix("sms:") else {
            return Err(format!("not a phone number: {}", m.recipient));
        };
        let url = self
            .template
            .replace("{phone}", &crate::http::context::percent_encode(phone))
            .replace("{text}", &crate::http::context::percent_encode(&m.body))
            .replace("{id}", &m.id.to_string());
        let res = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("SMS gateway unreachable: {e}"))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("SMS gateway answered {}", res.status()))
        }
    }
}

/// Sends `email:` messages through an SMTP relay, named by a URL `smtp://[user:password@]host[:port]`
/// (port 25 by default; plain SMTP, as office relays on an intranet speak it). Each message's
/// `Message-ID` is made from its outbox id, so a message resent after a crash between handing it
/// to the relay and recording it carries the same id and mail systems can drop the repeat.
#[derive(Clone)]
pub struct SmtpRelay {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    domain: String,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRelay")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpRelay {
    /// A relay for a URL and a sender address (`name@example.cn` or `名字 <name@example.cn>`);
    /// refused with the reason if either cannot be used.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let shape = "the SMTP URL must look like smtp://host:25 or smtp://user:password@host:587";
        let parsed = url::Url::parse(url).map_err(|_| shape.to_owned())?;
        let host = match parsed.host_str() {
            Some(h) if parsed.scheme() == "smtp" && !h.is_empty() => h.to_owned(),
            _ => return Err(shape.into()),
        };
        let from: lettre::message::Mailbox = from
            .parse()
            .map_err(|e| format!("the sender address {from:?} cannot be used: {e}"))?;
        let mut builder =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host)
                .port(parsed.port().unwrap_or(25))
                .timeout(Some(std::time::Duration::from_secs(20)));
        if !parsed.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    decode(parsed.username()),
                    decode(parsed.password().unwrap_or_default()),
                ));
        }
        let transport = builder.build();
        Ok(Self {
            domain: from.email.domain().to_owned(),
            transport,
            from,
        })
    }
}

#[async_trait]
impl MessageSender for SmtpRelay {
    async fn send(&self, m: &Delivery) -> Result<(), String> {
        use lettre::AsyncTransport;
        let to = m
            .recipient
            .strip_prefix("email:")
            .ok_or_else(|| format!("not an e-mail address: {}", m.recipient))?;
        let to: lettre::message::Mailbox =
            to.parse().map_err(|e| format!("cannot mail {to}: {e}"))?;
        let mail = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<outbox.{}@{}>", m.id, self.domain)))
            .body(m.body.clone())
            .map_err(|e| format!("cannot write the mail: {e}"))?;
        self.transport
            .send(mail)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP relay: {e}"))
    }
}

/// Picks each message's way out by its recipient: `sms:` to the SMS gateway, `email:` to the SMTP
/// relay, when configured; anything without a configured way (and `user:` recipients with no
/// e-mail address) goes to the log, so nothing waits for a sender that does not exist.
#[derive(Debug, Default)]
pub struct Postroom {
    /// The SMS gateway, if any.
    pub sms: Option<SmsGateway>,
    /// The SMTP relay, if any.
    pub mail: Option<SmtpRelay>,
}

#[async_trait]
impl MessageSender for Postroom {
    async fn send(&self, m: &Delivery) -> Result<(), String> {
        match (&self.sms, &self.mail) {
            (Some(sms), _) if m.recipient.starts_with("sms:") => sms.send(m).await,
            (_, Some(mail)) if m.recipient.starts_with("email:") => mail.send(m).await,
            _ => LogSender.send(m).await,
        }
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Delivered.
    pub sent: u64,
    /// Failed, to be retried.
    pub failed: u64,
}

/// How long a claimed message stays hidden from other senders.
const LEASE_SECONDS: i64 = 120;

/// Exponential backoff: 30 s, 1 min, 2 min … at most an hour.
pub fn retry_delay(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 7)).unwrap_or(7);
    Duration::seconds((30_i64 << exp).min(3600))
}

/// Whether a composed answer notice carries its live rating link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingLink {
    /// The link itself: the message goes to the resident.
    Live,
    /// A placeholder: the message is shown to staff, who must not hold a resident's link.
    Hidden,
}

/// Writes a message out; `appeals` holds the cases of the batch it came in, read together.
pub async fn compose(
    state: &AppState,
    m: &OutboxMessage,
    appeals: &std::collections::HashMap<AppealId, yongxin_store::Appeal>,
    rating_link: RatingLink,
) -> Result<Delivery, StoreError> {
    let c = Lang::ZhCn.catalog();
    let (number, title) = match m.appeal_id {
        Some(id) => match appeals.get(&id) {
            Some(a) => (a.number.clone(), a.title.clone()),
            None => (id.to_string(), String::new()),
        },
        None => (String::new(), String::new()),
    };
    // An answer notice carries the rating link, good for one rating while this notice is the
    // case's latest answer (see `rating_token`).
    let link = match (m.kind.as_str(), m.appeal_id.and_then(|id| appeals.get(&id))) {
        ("resident_answered", Some(_)) if rating_link == RatingLink::Hidden => {
            c.t("outbox.link_hidden").to_owned()
        }
        ("resident_answered", Some(a)) => {
            let secret = match state.installation_key().await {
                Ok(k) => k.to_owned(),
                Err(_) => state.store.server_secret("tracking").await?,
            };
            let token = yongxin_domain::appeal::rating_token(&secret, &a.number, m.id);
            let base = state.settings.public_url.as_deref().unwrap_or_default();
            format!("{}/track/r/{token}", base.trim_end_matches('/'))
        }
        _ => String::new(),
    };
    let params = [("number", number), ("title", title), ("link", link)];
    // A cadre is written to at the address on their account now, so an address an admin adds
    // later reaches messages still waiting.
    let mut recipient = m.recipient.clone();
    if let Some(id) = m
        .recipient
        .strip_prefix("user:")
        .and_then(|i| i.parse().ok())
    {
        if let Ok(Some(user)) = state.store.user(id).await {
            if let Some(email) = user.email {
                recipient = format!("email:{email}");
            }
        }
    }
    Ok(Delivery {
        id: m.id,
        recipient,
        subject: c.format("notify.subject", &params),
        body: c.format(&format!("notify.{}", m.kind), &params),
    })
}

/// Delivers what is due now, once.
pub async fn drain_outbox(
    state: &AppState,
    sender: &dyn MessageSender,
    now: DateTime<Utc>,
) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    loop {
        let batch = state
            .store
            .claim_messages(now, now + Duration::seconds(LEASE_SECONDS), 100)
            .await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let ids: Vec<AppealId> = batch.iter().filter_map(|m| m.appeal_id).collect();
        let appeals = state
            .store
            .appeals_by_ids(&ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        for m in &batch {
            let delivery = compose(state, m, &appeals, RatingLink::Live).await?;
            match sender.send(&delivery).await {
                Ok(()) => {
                    state.store.message_sent(m.id, Utc::now()).await?;
                    report.sent += 1;
                }
                Err(e) => {
                    tracing::warn!(message.id = m.id, message.attempts = m.attempts + 1, error.message = %e, "notification not delivered");
                    state
                        .store
                        .message_failed(m.id, &e, now + retry_delay(m.attempts))
                        .await?;
                    report.failed += 1;
                }
            }
        }
    }
}

/// Closes answered cases nobody rated within `days` days (自动办结).
pub async fn auto_close(
    state: &AppState,
    now: DateTime<Utc>,
    days: i64,
) -> Result<u64, StoreError> {
    let mut closed = 0;
    for id in state
        .store
        .unrated_answered_before(now - Duration::days(days), 1000)
        .await?
    {
        if state
            .store
            .act_on_appeal(
                &Actor::system("auto-close"),
                id,
                AppealAction::AutoClose,
                state.settings.appeal_policy,
            )
            .await?
            .is_ok()
        {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Announces yellow and red cards (黄牌, 红牌) to the handling cadre, each once per case, deadline
/// and card; returns how many it queued. A red card is announced up to a week after the deadline
/// passed, so an outage does not swallow it, but cases that were long overdue before (an imported
/// history) are for the supervision list, not for the cadre's inbox all at once.
pub async fn announce_cards(state: &AppState, now: DateTime<Utc>) -> Result<u64, StoreError> {
    use yongxin_domain::appeal::deadline_cards;
    use yongxin_domain::calendar::end_of_day;
    let calendar = state.calendar();
    let today = now
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let horizon = end_of_day(calendar.add_working_days(today, 1));
    let mut queued = 0;
    for (a, had) in state
        .store
        .card_candidates(now - Duration::days(7), horizon)
        .await?
    {
        for (deadline, card) in deadline_cards(&calendar, now, &a.deadline_clock()) {
            let Some(card) = card.colour() else {
                continue;
            };
            if had.contains(&(deadline, card)) {
                continue;
            }
            if state.store.notify_card(a.id, deadline, card, now).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// How often the search index looks for changes made through other nodes (changes made through
/// this one wake it at once): with the time to index them, a case is findable within 2 seconds.
pub const SEARCH_FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(700);

/// Runs the background work every `every` until the process ends.
pub fn spawn(state: AppState, sender: Arc<dyn MessageSender>, every: std::time::Duration) {
    if let Some(index) = state.search.clone() {
        tokio::spawn(index.follow(state.store.clone(), SEARCH_FOLLOW_EVERY));
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        // The week whose head this node has seen published; the store decides once per week.
        let mut published_week = String::new();
        // The week whose previous week's report this node has seen kept.
        let mut reported_week = String::new();
        loop {
            tick.tick().await;
            let now = Utc::now();
            let week = yongxin_domain::audit::iso_week(yongxin_domain::campaign::local_day(now));
            if week != published_week {
                match crate::audit::publish_head(
                    &*state.store,
                    &Actor::system("audit-publish"),
                    now,
                )
                .await
                {
                    Ok((notice, true)) => {
                        tracing::info!(notice.id = notice.id, week = %week, "audit head published");
                        published_week = week;
                    }
                    Ok((_, false)) => published_week = week,
                    Err(e) => {
                        tracing::error!(error.message = %e, "publishing the audit head failed")
                    }
                }
            }
            if let Err(e) = drain_outbox(&state, &*sender, now).await {
                tracing::error!(error.message = %e, "outbox pass failed");
            }
            match state.store.lapse_deadlines(now).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deadlines.recorded = n, "lapsed deadlines recorded"),
                Err(e) => tracing::error!(error.message = %e, "recording lapsed deadlines failed"),
            }
            match announce_cards(&state, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(cards.queued = n, "yellow and red cards announced"),
                Err(e) => tracing::error!(error.message = %e, "announcing cards failed"),
            }
            match auto_close(&state, now, state.settings.appeal_auto_close_days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(appeals.closed = n, "unrated answers closed"),
                Err(e) => tracing::error!(error.message = %e, "auto-close pass failed"),
            }
            // Last week's report, kept as of its end once the week is over (after this tick's
            // deadlines are recorded, so it reads them).
            let week = yongxin_domain::audit::iso_week(yongxin_domain::campaign::local_day(now));
            if week != reported_week {
                match crate::reports::keep_last_week(&state).await {
                    Ok(kept) => {
                        tracing::debug!(report.week = %kept, "weekly report kept");
                        reported_week = week;
                    }
                    Err(e) => {
                        tracing::error!(error.message = %e, "keeping the weekly report failed")
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<i64> = (0..9).map(|a| retry_delay(a).num_seconds()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
