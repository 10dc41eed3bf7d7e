//! What protects the application from the outside as a whole: the security headers every answer
//! carries, the rate limits of what anyone may do without an account, and the bound on password
//! checks running at once.
//!
//! The limits live in each node's memory: a flood is refused before it reaches the database, and
//! a restart forgets at most one window of counts. With several nodes each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// How many requests a client may make of one kind in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed in the window.
    pub count: u32,
    /// The window.
    pub per: Duration,
}

impl Rate {
    /// `count` per minute.
    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            per: Duration::from_secs(60),
        }
    }

    /// `count` per hour.
    pub const fn per_hour(count: u32) -> Self {
        Self {
            count,
            per: Duration::from_secs(3600),
        }
    }

    /// `count` per day.
    pub const fn per_day(count: u32) -> Self {
        Self {
            count,
            per: Duration::from_secs(24 * 3600),
        }
    }
}

/// The configurable limits of anonymous and abusable paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Sign-in attempts per client address.
    pub sign_in_per_address: Rate,
    /// Password checks (Argon2id, ~19 MiB each) running at once on this node.
    pub password_checks_at_once: usize,
    /// Appeals filed without an account, per client address.
    pub anonymous_appeals_per_address: Rate,
    /// Appeals filed without an account, per phone number given.
    pub anonymous_appeals_per_phone: Rate,
    /// Look-ups at `/track`, per client address.
    pub track_per_address: Rate,
    /// Wrong answers at `/track` for one case before it refuses every answer for a while.
    pub track_failures_per_case: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sign_in_per_address: Rate::per_minute(30),
            password_checks_at_once: 4,
            anonymous_appeals_per_address: Rate::per_hour(10),
            anonymous_appeals_per_phone: Rate::per_day(5),
            track_per_address: Rate::per_hour(60),
            track_failures_per_case: Rate::per_hour(5),
        }
    }
}

/// Most keys one limiter remembers; past it, windows that have ended are forgotten first.
const MAX_KEYS: usize = 100_000;

/// Counts events per key in fixed windows.
#[derive(Debug, Default)]
pub struct RateLimiter {
    /// Per key: when its window began, its length, and the events counted in it.
    windows: Mutex<HashMap<String, (Instant, Duration, u32)>>,
}

impl RateLimiter {
    /// Counts one event for `key`; refuses it, with the time until the window ends, when the key
    /// has used its rate.
    pub fn hit(&self, key: &str, rate: Rate) -> Result<(), Duration> {
        self.count(key, rate, true)
    }

    /// Whether `key` still has room, without counting anything.
    pub fn check(&self, key: &str, rate: Rate) -> Result<(), Duration> {
        self.count(key, rate, false)
    }

    fn count(&self, key: &str, rate: Rate, add: bool) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
            // Each window ends by its own length, whatever the rate of the key asking now.
            windows.retain(|_, (start, per, _)| now.duration_since(*start) < *per);
            if windows.len() >= MAX_KEYS / 4 * 3 {
                // Only a flood from more clients than this could fill it; forgetting is safer
                // than growing without bound, and clearing (rather than sweeping again for the
                // next new key) keeps each event's cost constant.
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, rate.per, 0));
        if now.duration_since(entry.0) >= entry.1 {
            *entry = (now, rate.per, 0);
        }
        if entry.2 >= rate.count {
            return Err(entry.1.saturating_sub(now.duration_since(entry.0)));
        }
        if add {
            entry.2 += 1;
        }
        Ok(())
    }

    /// Forgets a key (a right answer clears its failures).
    pub fn forget(&self, key: &str) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.remove(key);
        }
    }
}

/// The key a client address is limited by: an IPv4 address, or the /64 network of an IPv6 one
/// (one subscriber is given a whole /64, so single addresses would be free to change).
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// This node's limiters and the bound on password checks.
#[derive(Debug)]
pub struct Guards {
    /// The limits in force.
    pub limits: Limits,
    /// Sign-in attempts by address.
    pub sign_in: RateLimiter,
    /// Anonymous appeals by client address.
    pub intake_by_address: RateLimiter,
    /// Anonymous appeals by the phone number they give (apart, so that a flood of addresses
    /// cannot push the phones' day-long windows out).
    pub intake_by_phone: RateLimiter,
    /// Track look-ups by address.
    pub track: RateLimiter,
    /// Wrong track answers by case.
    pub track_failures: RateLimiter,
    /// Password checks running at once.
    pub password_checks: tokio::sync::Semaphore,
}

impl Guards {
    /// Guards with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            password_checks: tokio::sync::Semaphore::new(limits.password_checks_at_once.max(1)),
            limits,
            sign_in: RateLimiter::default(),
            intake_by_address: RateLimiter::default(),
            intake_by_phone: RateLimiter::default(),
            track: RateLimiter::default(),
            track_failures: RateLimiter::default(),
        }
    }
}

/// Minutes to tell a person to wait, rounded up, at least one.
pub fn minutes(wait: Duration) -> i64 {
    i64::try_from(wait.as_secs().div_ceil(60))
        .unwrap_or(i64::MAX)
        .max(1)
}

/// The Content-Security-Policy of every answer: everything from this server, no inline script,
/// never framed. Inline style attributes stay allowed (templates set widths of bars with them).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every answer; HSTS only when the request came over HTTPS, since
/// on a plain-HTTP intranet it would lock browsers out.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let secure = crate::http::context::is_secure(&state.settings, req.headers());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(self)",
    );
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if secure {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limiter_refuses_past_its_rate_and_forgets_on_request() {
        let l = RateLimiter::default();
        let rate = Rate::per_minute(3);
        for _ in 0..3 {
            assert!(l.hit("a", rate).is_ok());
        }
        let wait = l.hit("a", rate).expect_err("fourth");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(l.check("a", rate).is_err());
        assert!(l.hit("b", rate).is_ok(), "keys are separate");
        l.forget("a");
        assert!(l.hit("a", rate).is_ok());
    }

    /// A full limiter forgot every window shorter than the asking key's rate: an address
    /// hitting it after an hour wiped the phones' day-long counts.
    #[test]
    fn a_sweep_keeps_the_windows_that_have_not_ended() {
        let l = RateLimiter::default();
        let day = Rate::per_day(1);
        l.hit("phone", day).expect("first");
        let brief = Rate {
            count: 1,
            per: Duration::from_millis(1),
        };
        for i in 0..MAX_KEYS {
            let _ = l.hit(&i.to_string(), brief);
        }
        std::thread::sleep(Duration::from_millis(5));
        assert!(l.hit("newcomer", brief).is_ok());
        assert!(
            l.check("phone", day).is_err(),
            "the day-long window is still counted"
        );
    }

    #[test]
    fn an_ipv6_client_is_its_network() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: std::net::IpAddr = "2001:db8:1:2:ffff::9".parse().expect("v6");
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key(a), "2001:db8:1:2::/64");
        let mapped: std::net::IpAddr = "::ffff:10.0.0.7".parse().expect("mapped");
        assert_eq!(client_key(mapped), "10.0.0.7");
    }

    #[test]
    fn a_window_that_ended_starts_again() {
        let l = RateLimiter::default();
        let rate = Rate {
            count: 1,
            per: Duration::from_millis(20),
        };
        assert!(l.hit("a", rate).is_ok());
        assert!(l.hit("a", rate).is_err());
        std::thread::sleep(Duration::from_millis(25));
        assert!(l.hit("a", rate).is_ok());
    }

    #[test]
    fn checking_counts_nothing() {
        let l = RateLimiter::default();
        let rate = Rate::per_minute(1);
        for _ in 0..5 {
            assert!(l.check("a", rate).is_ok());
        }
        assert!(l.hit("a", rate).is_ok());
        assert!(l.check("a", rate).is_err());
    }

    #[test]
    fn waits_are_told_in_whole_minutes() {
        assert_eq!(minutes(Duration::from_secs(1)), 1);
        assert_eq!(minutes(Duration::from_secs(61)), 2);
        assert_eq!(minutes(Duration::ZERO), 1);
    }
}
