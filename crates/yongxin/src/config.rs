//! One typed configuration: defaults, then the TOML file, then `YONGXIN_` environment variables,
//! then command-line flags. Unknown keys in the file are errors; secrets are never printed.

use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;
use yongxin_web::security::Rate;
use yongxin_web::{Lang, WebSettings};

/// The settings of every command.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Database URL (`sqlite://…` or `postgres://…`).
    pub database_url: Option<String>,
    /// Address the server listens on.
    pub listen: String,
    /// The address residents reach the server at (`http://10.1.1.2:8080`), for the links in
    /// messages; unset, `http://` and the listen address.
    pub public_url: Option<String>,
    /// Default interface language (`zh-CN` or `en`).
    pub lang: String,
    /// Mark cookies Secure: true, false, or unset to follow X-Forwarded-Proto.
    pub secure_cookies: Option<bool>,
    /// Session length in hours.
    pub session_hours: i64,
    /// Largest upload in MiB.
    pub max_upload_mb: usize,
    /// Log filter (`info`, `yongxin=debug`, …).
    pub log: String,
    /// How many times a dissatisfied rating may reopen an appeal (重办).
    pub appeal_reopen_limit: u32,
    /// Days after which an answered appeal nobody rated closes by itself.
    pub appeal_auto_close_days: i64,
    /// HTTP SMS gateway URL template with {phone}, {text} and {id}; unset: messages go to the log.
    pub sms_gateway_url: Option<String>,
    /// SMTP relay, `smtp://[user:password@]host[:port]`; unset: e-mail goes to the log.
    pub smtp_url: Option<String>,
    /// The sender address of notification e-mail.
    pub smtp_from: String,
    /// Directory of this node's full-text index (derived data; default `state_dir/search`, else
    /// beside the SQLite file, else `yongxin-search` in the working directory).
    pub search_dir: Option<String>,
    /// Directory of what belongs to this node and not to the database (the search index); each
    /// node of a PostgreSQL installation needs its own.
    pub state_dir: Option<String>,
    /// Largest photo of an appeal, a note or a reply, in MiB.
    pub photo_max_mb: usize,
    /// Largest file attached to a notice (PDF, image, .xlsx), in MiB.
    pub attachment_max_mb: usize,
    /// Days an API token lasts after it is issued.
    pub api_token_days: i64,
    /// A separate address for `/metrics` and `/healthz` (no sign-in); unset, `/metrics` is served
    /// on the main address to administrators only.
    pub metrics_listen: Option<String>,
    /// Sign-in attempts per minute from one client address.
    pub sign_in_per_minute: u32,
    /// Password checks running at once on this node (each holds ~19 MiB for tens of ms).
    pub password_checks_at_once: usize,
    /// Appeals filed without an account per hour from one client address.
    pub anonymous_appeals_per_hour: u32,
    /// Appeals filed without an account per day for one phone number.
    pub anonymous_appeals_per_phone_per_day: u32,
    /// Case look-ups at /track per hour from one client address.
    pub track_per_hour: u32,
    /// Wrong answers at /track for one case per hour before it refuses every answer.
    pub track_failures_per_case_per_hour: u32,
    /// Where the server puts a daily backup of the SQLite database (`yongxin backup`); unset:
    /// none is taken by the server.
    pub backup_dir: Option<String>,
    /// The hour of the day (Asia/Shanghai, 0–23) the daily backup is taken.
    pub backup_hour: u32,
    /// Daily backups kept in `backup_dir`; older ones are removed.
    pub backup_keep: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            lang: "zh-CN".into(),
            secure_cookies: None,
            session_hours: 12,
            max_upload_mb: 20,
            log: "info".into(),
            appeal_reopen_limit: 2,
            appeal_auto_close_days: 7,
            sms_gateway_url: None,
            smtp_url: None,
            smtp_from: "yongxin@localhost.localdomain".into(),
            search_dir: None,
            state_dir: None,
            photo_max_mb: 10,
            attachment_max_mb: 20,
            api_token_days: 90,
            metrics_listen: None,
            sign_in_per_minute: 30,
            password_checks_at_once: 4,
            anonymous_appeals_per_hour: 10,
            anonymous_appeals_per_phone_per_day: 5,
            track_per_hour: 60,
            track_failures_per_case_per_hour: 5,
            backup_dir: None,
            backup_hour: 2,
            backup_keep: 14,
        }
    }
}

/// The commented example printed by `yongxin config example`.
pub const EXAMPLE: &str = r#"# yongxin.toml: every key is optional; the values shown are the defaults.
# Environment variables override the file: YONGXIN_DATABASE_URL, YONGXIN_LISTEN,
# YONGXIN_PUBLIC_URL, YONGXIN_LANG,
# YONGXIN_SECURE_COOKIES, YONGXIN_SESSION_HOURS, YONGXIN_MAX_UPLOAD_MB, YONGXIN_LOG,
# YONGXIN_APPEAL_REOPEN_LIMIT, YONGXIN_SEARCH_DIR, YONGXIN_PHOTO_MAX_MB,
# YONGXIN_ATTACHMENT_MAX_MB, YONGXIN_API_TOKEN_DAYS, YONGXIN_METRICS_LISTEN.

# Where data is kept: sqlite://PATH (one file, the default kind) or postgres://USER@HOST/DB.
# database_url = "sqlite://yongxin.db"

# Address and port the web interface listens on.
listen = "127.0.0.1:8080"

# The address residents and cadres reach this server at, for the links in messages (a rating link
# in the SMS that answers a case). Unset: "http://" and the listen address.
# public_url = "http://10.1.1.2:8080"

# Interface language when the browser names none: "zh-CN" or "en".
lang = "zh-CN"

# Mark cookies Secure. Leave unset to do so whenever a proxy says the request came over HTTPS
# (X-Forwarded-Proto: https); set true when yongxin is only ever reached over HTTPS.
# secure_cookies = true

# Hours a sign-in lasts.
session_hours = 12

# Largest roster upload, in MiB.
max_upload_mb = 20

# Largest photo (JPEG, PNG or WebP) of an appeal, a note or a reply, in MiB; three each at most.
photo_max_mb = 10

# Largest file (PDF, image or .xlsx) attached to a notice, in MiB.
attachment_max_mb = 20

# Log filter, as RUST_LOG: "info", "warn", "yongxin_web=debug".
log = "info"

# How many times a dissatisfied rating reopens an appeal (重办) before it closes anyway.
appeal_reopen_limit = 2

# Days after which an answered appeal nobody rated closes by itself.
appeal_auto_close_days = 7

# Residents' notifications go out through an HTTP SMS gateway: a URL whose {phone}, {text} and {id}
# are filled in (any 2xx answer counts as sent). Unset, every notification is written to the log.
# sms_gateway_url = "http://10.1.1.5/sms/send?to={phone}&msg={text}&ref={id}"

# Residents who give an e-mail address, and cadres with one on their account (/admin/users), are
# written to through this SMTP relay (plain SMTP; port 25 unless given). Unset: to the log.
# smtp_url = "smtp://notify:secret@10.1.1.6:25"
# smtp_from = "用心街道办 <notify@jiedao.example.cn>"

# What belongs to this node rather than to the database (the search index). Each app node of a
# PostgreSQL installation needs its own; a directory another running node holds is refused.
# state_dir = "/var/lib/yongxin"
# This node's full-text index of appeals: derived data, rebuilt from the database when missing
# (`yongxin search reindex`). Default: state_dir/search, else beside the SQLite file
# (yongxin.db.search), else ./yongxin-search.
# search_dir = "/var/lib/yongxin/search"

# A daily backup by the server itself (SQLite): a consistent copy, checked and gzipped, into this
# directory at backup_hour (Asia/Shanghai), the newest backup_keep kept (`yongxin backup`).
# Unset: the server takes none; run `yongxin backup --out DIR --keep N` from cron instead.
# backup_dir = "/var/backups/yongxin"
backup_hour = 2
backup_keep = 14

# Days an API token (`yongxin user token NAME`) lasts. A password change, disabling the account,
# `yongxin user token NAME --revoke-all` or the button at /admin/users ends tokens earlier.
api_token_days = 90

# /metrics (Prometheus) on an address of its own, without sign-in, for the monitoring system.
# Unset: /metrics is served on the main address to signed-in administrators only.
# metrics_listen = "127.0.0.1:9100"

# Limits against floods and guessing (per client address unless said; each node counts its own).
# A refused request gets HTTP 429 with a message saying how long to wait.
sign_in_per_minute = 30
# Password checks at once; more wait their turn (each check holds about 19 MiB briefly).
password_checks_at_once = 4
anonymous_appeals_per_hour = 10
# Per phone number given, whatever the address.
anonymous_appeals_per_phone_per_day = 5
track_per_hour = 60
# Wrong answers for one case, from anyone; then even the right answer waits out the hour.
track_failures_per_case_per_hour = 5
"#;

impl Config {
    /// Loads the configuration in order of precedence.
    pub fn load(file: Option<&Path>, database_url_flag: Option<&str>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Self::from_toml(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Self::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        if let Some(url) = database_url_flag {
            config.database_url = Some(url.to_owned());
        }
        config.check()?;
        Ok(config)
    }

    /// Parses a TOML file's text over the defaults.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Applies `YONGXIN_*` variables found by `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = get("YONGXIN_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("YONGXIN_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("YONGXIN_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("YONGXIN_LANG") {
            self.lang = v;
        }
        if let Some(v) = get("YONGXIN_SECURE_COOKIES") {
            self.secure_cookies = Some(
                v.parse()
                    .context("YONGXIN_SECURE_COOKIES must be true or false")?,
            );
        }
        if let Some(v) = get("YONGXIN_SESSION_HOURS") {
            self.session_hours = v
                .parse()
                .context("YONGXIN_SESSION_HOURS must be a whole number")?;
        }
        if let Some(v) = get("YONGXIN_MAX_UPLOAD_MB") {
            self.max_upload_mb = v
                .parse()
                .context("YONGXIN_MAX_UPLOAD_MB must be a whole number")?;
        }
        if let Some(v) = get("YONGXIN_LOG") {
            self.log = v;
        }
        if let Some(v) = get("YONGXIN_SMS_GATEWAY_URL") {
            self.sms_gateway_url = Some(v);
        }
        if let Some(v) = get("YONGXIN_SMTP_URL") {
            self.smtp_url = Some(v);
        }
        if let Some(v) = get("YONGXIN_SMTP_FROM") {
            self.smtp_from = v;
        }
        if let Some(v) = get("YONGXIN_PHOTO_MAX_MB") {
            self.photo_max_mb = v
                .parse()
                .context("YONGXIN_PHOTO_MAX_MB must be a whole number")?;
        }
        if let Some(v) = get("YONGXIN_ATTACHMENT_MAX_MB") {
            self.attachment_max_mb = v
                .parse()
                .context("YONGXIN_ATTACHMENT_MAX_MB must be a whole number")?;
        }
        if let Some(v) = get("YONGXIN_API_TOKEN_DAYS") {
            self.api_token_days = v
                .parse()
                .context("YONGXIN_API_TOKEN_DAYS must be a whole number")?;
        }
        if let Some(v) = get("YONGXIN_METRICS_LISTEN") {
            self.metrics_listen = Some(v);
        }
        if let Some(v) = get("YONGXIN_SEARCH_DIR") {
            self.search_dir = Some(v);
        }
        if let Some(v) = get("YONGXIN_STATE_DIR") {
            self.state_dir = Some(v);
        }
        if let Some(v) = get("YONGXIN_BACKUP_DIR") {
            self.backup_dir = Some(v);
        }
        if let Some(v) = get("YONGXIN_APPEAL_REOPEN_LIMIT") {
            self.appeal_reopen_limit = v
                .parse()
                .context("YONGXIN_APPEAL_REOPEN_LIMIT must be a whole number")?;
        }
        Ok(())
    }

    fn check(&self) -> anyhow::Result<()> {
        if Lang::parse(&self.lang).is_none() {
            bail!("lang must be zh-CN or en, not {:?}", self.lang);
        }
        if !(1..=100).contains(&self.photo_max_mb) {
            bail!("photo_max_mb must be between 1 and 100");
        }
        if !(1..=200).contains(&self.attachment_max_mb) {
            bail!("attachment_max_mb must be between 1 and 200");
        }
        if !(1..=3650).contains(&self.api_token_days) {
            bail!("api_token_days must be between 1 and 3650");
        }
        if !(1..=256).contains(&self.password_checks_at_once) {
            bail!("password_checks_at_once must be between 1 and 256");
        }
        for (name, n) in [
            ("sign_in_per_minute", self.sign_in_per_minute),
            (
                "anonymous_appeals_per_hour",
                self.anonymous_appeals_per_hour,
            ),
            (
                "anonymous_appeals_per_phone_per_day",
                self.anonymous_appeals_per_phone_per_day,
            ),
            ("track_per_hour", self.track_per_hour),
            (
                "track_failures_per_case_per_hour",
                self.track_failures_per_case_per_hour,
            ),
        ] {
            if n == 0 {
                bail!("{name} must be at least 1");
            }
        }
        if let Some(addr) = &self.metrics_listen {
            addr.parse::<std::net::SocketAddr>()
                .with_context(|| format!("metrics_listen {addr:?} is not an address:port"))?;
        }
        if self.backup_hour > 23 {
            bail!("backup_hour must be between 0 and 23 (an hour of the day, Asia/Shanghai)");
        }
        if !(1..=3650).contains(&self.backup_keep) {
            bail!("backup_keep must be between 1 and 3650");
        }
        if self.backup_dir.is_some()
            && matches!(
                self.database_url
                    .as_deref()
                    .map(crate::database::DatabaseUrl::parse),
                Some(Ok(crate::database::DatabaseUrl::Postgres(_)))
            )
        {
            bail!(
                "backup_dir applies to SQLite only: back PostgreSQL up with pg_dump or pgBackRest"
            );
        }
        if !(1..=24 * 90).contains(&self.session_hours) {
            bail!("session_hours must be between 1 and 2160");
        }
        if let Some(url) = &self.database_url {
            crate::database::DatabaseUrl::parse(url)?;
        }
        self.message_sender()?;
        Ok(())
    }

    /// The interface language.
    pub fn lang(&self) -> Lang {
        Lang::parse(&self.lang).unwrap_or_default()
    }

    /// Where notifications go: SMS to the gateway and e-mail to the relay when configured, the
    /// rest to the log.
    pub fn message_sender(
        &self,
    ) -> anyhow::Result<std::sync::Arc<dyn yongxin_web::background::MessageSender>> {
        use yongxin_web::background::{Postroom, SmsGateway, SmtpRelay};
        let sms = self
            .sms_gateway_url
            .as_deref()
            .map(SmsGateway::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("sms_gateway_url: {e}"))?;
        let mail = self
            .smtp_url
            .as_deref()
            .map(|url| SmtpRelay::new(url, &self.smtp_from))
            .transpose()
            .map_err(|e| anyhow::anyhow!("smtp_url / smtp_from: {e}"))?;
        if sms.is_none() || mail.is_none() {
            // Said once here; each message without a way out is logged at debug level only.
            tracing::info!(
                sms = sms.is_some(),
                mail = mail.is_some(),
                "notifications without a configured SMS gateway or mail relay are only logged (RUST_LOG=yongxin_web=debug shows them)"
            );
        }
        Ok(std::sync::Arc::new(Postroom { sms, mail }))
    }

    /// Where this node keeps its full-text index.
    pub fn search_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.search_dir {
            return dir.into();
        }
        if let Some(dir) = &self.state_dir {
            return std::path::Path::new(dir).join("search");
        }
        match self
            .database_url
            .as_deref()
            .map(crate::database::DatabaseUrl::parse)
        {
            Some(Ok(crate::database::DatabaseUrl::Sqlite(url))) => {
                let path = url.trim_start_matches("sqlite://");
                let path = path.split('?').next().unwrap_or(path);
                format!("{path}.search").into()
            }
            _ => "yongxin-search".into(),
        }
    }

    /// Settings for the web crate.
    pub fn web_settings(&self) -> WebSettings {
        WebSettings {
            secure_cookies: self.secure_cookies,
            session_hours: self.session_hours,
            max_upload_bytes: self.max_upload_mb * 1024 * 1024,
            default_lang: self.lang(),
            appeal_policy: yongxin_domain::appeal::AppealPolicy {
                reopen_limit: self.appeal_reopen_limit,
            },
            appeal_auto_close_days: self.appeal_auto_close_days,
            photo_max_bytes: self.photo_max_mb * 1024 * 1024,
            attachment_max_bytes: self.attachment_max_mb * 1024 * 1024,
            api_token_days: self.api_token_days,
            metrics_on_main: self.metrics_listen.is_none(),
            public_url: Some(
                self.public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", self.listen)),
            ),
            limits: yongxin_web::security::Limits {
                sign_in_per_address: Rate::per_minute(self.sign_in_per_minute),
                password_checks_at_once: self.password_checks_at_once,
                anonymous_appeals_per_address: Rate::per_hour(self.anonymous_appeals_per_hour),
                anonymous_appeals_per_phone: Rate::per_day(
                    self.anonymous_appeals_per_phone_per_day,
                ),
                track_per_address: Rate::per_hour(self.track_per_hour),
                track_failures_per_case: Rate::per_hour(self.track_failures_per_case_per_hour),
            },
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` or the configured filter.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        assert_eq!(
            Config::from_toml(EXAMPLE).expect("example"),
            Config::default()
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            Config::from_toml("listen = \"0.0.0.0:80\"\ncolour = \"red\"").expect_err("unknown");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = Config::from_toml("listen = \"0.0.0.0:80\"\nsession_hours = 4").expect("toml");
        c.apply_env(|k| match k {
            "YONGXIN_LISTEN" => Some("127.0.0.1:9000".into()),
            "YONGXIN_LANG" => Some("en".into()),
            _ => None,
        })
        .expect("env");
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.session_hours, 4);
        assert_eq!(c.lang(), Lang::En);
        assert!(c
            .apply_env(|k| (k == "YONGXIN_SESSION_HOURS").then(|| "many".into()))
            .is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        let c = Config {
            lang: "fr".into(),
            ..Config::default()
        };
        assert!(c.check().is_err());
        let c = Config {
            database_url: Some("mysql://x".into()),
            ..Config::default()
        };
        assert!(c.check().is_err());
        for (url, from) in [
            ("http://10.1.1.6", "a@b.cn"),
            ("smtp://", "a@b.cn"),
            ("smtp://10.1.1.6", "not an address"),
        ] {
            let c = Config {
                smtp_url: Some(url.into()),
                smtp_from: from.into(),
                ..Config::default()
            };
            assert!(c.check().is_err(), "{url} {from}");
        }
        let c = Config {
            smtp_url: Some("smtp://user:p%40ss@10.1.1.6:587".into()),
            smtp_from: "用心街道办 <notify@jiedao.example.cn>".into(),
            ..Config::default()
        };
        assert!(c.check().is_ok());
    }
}
