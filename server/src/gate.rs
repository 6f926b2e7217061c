//! What every request passes before and after the engine, whatever HTTP server runs
//! it: its request id, the failed-authentication throttle per client address, the
//! account's request budget (`X-RateLimit-*`), the cap on uploads in flight, and the
//! access log line. [`crate::middleware`] (axum) and [`crate::actix`] only translate.
//!
//! - **Request id**: every answer carries `X-Request-Id`: the engine's when it set one
//!   (an upload's, which its job carries: the client's `request_id` field or header,
//!   or the job id), else the client's `X-Request-Id` when it is 1 to 128 visible
//!   ASCII characters, else a random 32-hex-digit id. The access log shows the same.
//! - **Failed authentication**: every `401` counts against the client address (the
//!   peer of the TCP connection, or behind a proxy listed in `[http] trusted_proxies`
//!   the right-most `X-Forwarded-For` address that is not a trusted proxy). After `failed_auth_limit` of them (recovering one per
//!   `failed_auth_block_secs / failed_auth_limit`), the address is answered `429` with
//!   `Retry-After` for `failed_auth_block_secs`, whatever it sends. Requests that
//!   authenticate are never delayed; the check is one map lookup.
//! - **Request budget**: see [`crate::config::RateLimitConfig`].
//! - **Uploads in flight**: beyond `[http] max_in_flight_uploads`, `503` with
//!   `Retry-After`, before the body is read.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fanout_core::auth::Authenticator;
use fanout_core::AccountDirectory;
use governor::clock::DefaultClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use rand::RngCore;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

/// The longest request id kept.
const MAX_REQUEST_ID_LEN: usize = 128;
/// The budget window.
const WINDOW: Duration = Duration::from_secs(60);
/// Past this many entries, expired blocks and budget windows are dropped.
const PRUNE_ABOVE: usize = 4096;

type FailureLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// The request-level policies of one server.
pub(crate) struct Gate {
    authenticator: Authenticator,
    directory: Arc<dyn AccountDirectory>,
    failures: FailureLimiter,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    block_for: Duration,
    default_budget: u32,
    budget_by_account: HashMap<String, u32>,
    windows: Mutex<HashMap<String, Window>>,
    uploads: Arc<Semaphore>,
    busy_retry_after_secs: u64,
    /// `[http] trusted_proxies`: whose `X-Forwarded-For` is believed.
    trusted_proxies: Vec<fanout_core::IpCidr>,
}

/// One account's current budget window.
struct Window {
    started: Instant,
    used: u32,
}

/// What a request looks like to the gate.
pub(crate) struct Incoming<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The TCP peer's address.
    pub peer: Option<IpAddr>,
    /// The `X-Forwarded-For` header, trusted only from `[http] trusted_proxies`.
    pub forwarded_for: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `X-Request-Id` header.
    pub request_id: Option<&'a str>,
}

/// A request let through (or refused), until its answer is written and logged.
pub(crate) struct Ticket {
    started: Instant,
    method: String,
    path: String,
    peer: Option<IpAddr>,
    /// The request id answered and logged unless the engine answers its own.
    pub request_id: String,
    account: Option<String>,
    rate: Option<RateHeaders>,
    _upload: Option<OwnedSemaphorePermit>,
}

/// An answer the gate gives instead of the engine.
pub(crate) struct Refusal {
    /// Its status.
    pub status: u16,
    /// Its JSON body.
    pub body: String,
    /// Headers besides `Content-Type` and those of [`Gate::answer_headers`].
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Clone, Copy)]
struct RateHeaders {
    limit: u32,
    remaining: u32,
    reset_unix: u64,
}

impl Gate {
    /// The gate of a server with `config`, authenticating against `directory` (the
    /// engine's).
    pub(crate) fn new(config: &Config, directory: Arc<dyn AccountDirectory>) -> Self {
        let rate = &config.rate_limit;
        let limit = NonZeroU32::new(rate.failed_auth_limit).unwrap_or(NonZeroU32::MIN);
        let block_for = Duration::from_secs(rate.failed_auth_block_secs.max(1));
        let quota = Quota::with_period(block_for / limit.get())
            .unwrap_or_else(|| Quota::per_second(limit))
            .allow_burst(limit);
        let budget_by_account = config
            .accounts
            .iter()
            .filter_map(|a| Some((a.name.clone(), *rate.plans.get(&a.plan)?)))
            .collect();
        Self {
            authenticator: Authenticator::new(config.jwt_secret.as_ref()),
            directory,
            failures: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            blocked: Mutex::new(HashMap::new()),
            block_for,
            default_budget: rate.requests_per_minute.max(1),
            budget_by_account,
            windows: Mutex::new(HashMap::new()),
            uploads: Arc::new(Semaphore::new(config.http.max_in_flight_uploads.max(1))),
            busy_retry_after_secs: config.http.busy_retry_after_secs,
            trusted_proxies: config.http.trusted_proxies.clone(),
        }
    }

    /// The client's address: the TCP peer, unless the peer is a trusted proxy; then
    /// the right-most `X-Forwarded-For` address that is not a trusted proxy (the
    /// left part of the header is whatever the client wrote, so it is never believed
    /// past the first untrusted hop).
    fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|c| c.contains(*ip));
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        let Some(header) = forwarded_for else {
            return Some(peer);
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if trusted(&ip) => client = ip,
                Ok(ip) => return Some(ip),
                // A hop that is not an address: stop at the last one that was.
                Err(_) => break,
            }
        }
        Some(client)
    }

    /// Checks a request before the engine sees it: the ticket to finish it with, and
    /// the answer to give instead of the engine's when it is refused.
    pub(crate) async fn admit(&self, request: &Incoming<'_>) -> (Ticket, Option<Refusal>) {
        let request_id = match request.request_id.map(str::trim) {
            Some(id) if valid_request_id(id) => id.to_string(),
            _ => random_id(),
        };
        let mut ticket = Ticket {
            started: Instant::now(),
            method: request.method.to_string(),
            path: request.path.to_string(),
            peer: self.client(request.peer, request.forwarded_for),
            request_id,
            account: None,
            rate: None,
            _upload: None,
        };
        if let Some(wait) = ticket.peer.and_then(|ip| self.blocked_for(ip)) {
            let secs = wait.as_secs().max(1);
            return (
                ticket,
                Some(refusal(
                    429,
                    format!(
                        "Too many failed authentications from this address; try again in {secs} seconds"
                    ),
                    secs,
                )),
            );
        }
        if request.authorization.is_some() {
            let account = self
                .authenticator
                .authenticate(
                    self.directory.as_ref(),
                    request.authorization,
                    chrono::Utc::now(),
                )
                .await
                .ok();
            if let Some(account) = account {
                let (rate, over) = self.spend(&account.name);
                ticket.account = Some(account.name);
                ticket.rate = Some(rate);
                if over {
                    let secs = rate.reset_unix.saturating_sub(unix_now()).max(1);
                    return (
                        ticket,
                        Some(refusal(
                            429,
                            format!(
                                "Too many requests: the limit is {} per minute; try again in {secs} seconds",
                                rate.limit
                            ),
                            secs,
                        )),
                    );
                }
            }
        }
        if is_upload(request.method, request.path) {
            match self.uploads.clone().try_acquire_owned() {
                Ok(permit) => ticket._upload = Some(permit),
                Err(_) => {
                    return (
                        ticket,
                        Some(refusal(
                            503,
                            "The server is busy with other uploads; try again shortly".into(),
                            self.busy_retry_after_secs,
                        )),
                    )
                }
            }
        }
        (ticket, None)
    }

    /// The headers every answer gets (those it lacks): `X-Request-Id` and, for a
    /// known account, `X-RateLimit-*`. Call before [`Gate::finish`].
    pub(crate) fn answer_headers(&self, ticket: &Ticket) -> Vec<(&'static str, String)> {
        let mut headers = vec![("x-request-id", ticket.request_id.clone())];
        if let Some(rate) = ticket.rate {
            headers.push(("x-ratelimit-limit", rate.limit.to_string()));
            headers.push(("x-ratelimit-remaining", rate.remaining.to_string()));
            headers.push(("x-ratelimit-reset", rate.reset_unix.to_string()));
        }
        headers
    }

    /// Records the answer: a `401` counts against the client address; writes the
    /// access log line. `request_id` is the id the answer carries, `bytes` its body's
    /// length when known.
    pub(crate) fn finish(&self, ticket: Ticket, status: u16, bytes: Option<u64>, request_id: &str) {
        if status == 401 {
            if let Some(ip) = ticket.peer {
                self.failed(ip);
            }
        }
        tracing::info!(
            target: "fanout::access",
            method = %ticket.method,
            path = %ticket.path,
            status,
            bytes,
            duration_ms = ticket.started.elapsed().as_secs_f64() * 1000.0,
            account = %ticket.account.as_deref().unwrap_or("-"),
            request_id = %request_id,
            client = %ticket.peer.map_or_else(|| "-".to_string(), |ip| ip.to_string()),
            "request"
        );
    }

    /// How long `ip` stays blocked, if it is.
    fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&ip)?;
        until.checked_duration_since(Instant::now())
    }

    /// One failed authentication from `ip`: blocks it once its allowance is spent.
    fn failed(&self, ip: IpAddr) {
        let spent = match self.failures.check_key(&ip) {
            Ok(state) => state.remaining_burst_capacity() == 0,
            Err(_) => true,
        };
        if !spent {
            return;
        }
        let Ok(mut blocked) = self.blocked.lock() else {
            return;
        };
        let now = Instant::now();
        if blocked.len() > PRUNE_ABOVE {
            blocked.retain(|_, until| *until > now);
            self.failures.retain_recent();
        }
        blocked.insert(ip, now + self.block_for);
        tracing::warn!(client = %ip, "too many failed authentications: blocked for {:?}", self.block_for);
    }

    /// Counts one request against `account`'s budget: what is left of it, and whether
    /// this request is past it.
    fn spend(&self, account: &str) -> (RateHeaders, bool) {
        let limit = self
            .budget_by_account
            .get(account)
            .copied()
            .unwrap_or(self.default_budget);
        let now = Instant::now();
        let unix = unix_now();
        let Ok(mut windows) = self.windows.lock() else {
            let rate = RateHeaders {
                limit,
                remaining: limit,
                reset_unix: unix + WINDOW.as_secs(),
            };
            return (rate, false);
        };
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry(account.to_string()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let before = window.used;
        window.used = window.used.saturating_add(1);
        let left = WINDOW.saturating_sub(now.duration_since(window.started));
        let rate = RateHeaders {
            limit,
            remaining: limit.saturating_sub(window.used),
            reset_unix: unix + left.as_secs() + u64::from(left.subsec_nanos() > 0),
        };
        (rate, before >= limit)
    }
}

/// A JSON refusal with `Retry-After`.
fn refusal(status: u16, message: String, retry_after_secs: u64) -> Refusal {
    Refusal {
        status,
        body: json!({"success": false, "message": message}).to_string(),
        headers: vec![("retry-after", retry_after_secs.to_string())],
    }
}

/// Whether a request is an upload (its body is streamed into the engine).
fn is_upload(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("POST") && matches!(path, "/api/upload" | "/api/upload_photos")
}

/// 1 to 128 visible ASCII characters (what the engine accepts as a request id).
fn valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A random 32-hex-digit id.
fn random_id() -> String {
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
