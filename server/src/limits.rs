//! The `[http]` and `[rate_limit]` tables: how long clients may take, how many may be
//! served at once, and how many requests (and failed logins) they may make.
//!
//! ```toml
//! [http]
//! header_read_timeout_secs = 20   # a request head (and the wait for the next one on a
//!                                 # kept-alive connection) must arrive within this
//! body_idle_timeout_secs = 60     # an upload body that sends nothing this long fails
//! min_upload_bytes_per_sec = 1048576  # a body must arrive within body_idle_timeout_secs
//!                                 # + its Content-Length (else max_upload_bytes) at this
//!                                 # rate, else 408; 0 turns this total deadline off
//! max_connections = 512           # beyond it: 503 + Retry-After, connection closed
//! max_in_flight_uploads = 64      # uploads at once; beyond it: 503 + Retry-After
//! busy_retry_after_secs = 5       # the Retry-After of those 503s
//! shutdown_grace_secs = 30        # SIGTERM: requests in flight get this long
//!
//! [rate_limit]
//! requests_per_minute = 600       # every account's request budget per 60 s window
//! failed_auth_limit = 10          # failed authentications per client address …
//! failed_auth_block_secs = 300    # … then 429 for this long
//! [rate_limit.plans]
//! pro = 1200                      # the budget of accounts on plan `pro`
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Connections and requests (`[http]`); durations in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// A request head must arrive within this long of the connection opening, and
    /// on a kept-alive connection within this long of the previous answer (so it is
    /// also the keep-alive idle timeout). HTTP/1 only; actix-web applies it as its
    /// `client_request_timeout` and `keep_alive`.
    #[serde(default = "defaults::header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
    /// An upload body that sends nothing for this long fails (408).
    #[serde(default = "defaults::body_idle_timeout_secs")]
    pub body_idle_timeout_secs: u64,
    /// The slowest upload accepted, in bytes per second: a body must arrive within
    /// `body_idle_timeout_secs` plus its `Content-Length` (else `max_upload_bytes`) at
    /// this rate, else 408 — however steadily it trickles. `0` turns it off.
    #[serde(default = "defaults::min_upload_bytes_per_sec")]
    pub min_upload_bytes_per_sec: u64,
    /// Connections served at once. Connections beyond it are answered `503` with
    /// `Retry-After` and closed; keep it well below the process's open-file limit.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: usize,
    /// Uploads (`POST /api/upload`, `/api/upload_photos`) handled at once; more
    /// are answered `503` with `Retry-After` before their bodies are read.
    #[serde(default = "defaults::max_in_flight_uploads")]
    pub max_in_flight_uploads: usize,
    /// The `Retry-After` of the `503` answers above, in seconds.
    #[serde(default = "defaults::busy_retry_after_secs")]
    pub busy_retry_after_secs: u64,
    /// On SIGTERM the server stops accepting at once and gives requests in flight
    /// this long; then their connections are closed and the process goes on to stop.
    #[serde(default = "defaults::shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
    /// Address blocks of the load balancers or reverse proxies in front of this
    /// server (`["10.0.0.0/8"]`). A request whose TCP peer is in one of them is taken
    /// to come from the right-most `X-Forwarded-For` address that is not: that is the
    /// address the failed-authentication throttle counts and the access log shows.
    /// Empty by default: `X-Forwarded-For` is ignored (anyone could send it), and
    /// behind a proxy every client would share the proxy's address.
    #[serde(default)]
    pub trusted_proxies: Vec<fanout_core::IpCidr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: defaults::header_read_timeout_secs(),
            body_idle_timeout_secs: defaults::body_idle_timeout_secs(),
            min_upload_bytes_per_sec: defaults::min_upload_bytes_per_sec(),
            max_connections: defaults::max_connections(),
            max_in_flight_uploads: defaults::max_in_flight_uploads(),
            busy_retry_after_secs: defaults::busy_retry_after_secs(),
            shutdown_grace_secs: defaults::shutdown_grace_secs(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// `header_read_timeout_secs` as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// `shutdown_grace_secs` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let positive = [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_idle_timeout_secs", self.body_idle_timeout_secs),
            ("max_connections", self.max_connections as u64),
            ("max_in_flight_uploads", self.max_in_flight_uploads as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("[http] {key} must be greater than 0"));
            }
        }
        Ok(())
    }
}

/// Request budgets and the failed-authentication throttle (`[rate_limit]`).
///
/// The budget model: every account may make `requests_per_minute` requests (its
/// plan's entry in `plans` when there is one) per window of 60 seconds that starts
/// with its first request; beyond it, `429` with `Retry-After` until the window
/// ends. Every authenticated answer carries `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the Unix time the window ends),
/// as upload-post's do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per account per minute, unless its plan has an entry in `plans`.
    #[serde(default = "defaults::requests_per_minute")]
    pub requests_per_minute: u32,
    /// Requests per minute by plan name (a plan of `[plans]`).
    #[serde(default)]
    pub plans: BTreeMap<String, u32>,
    /// Failed authentications (answers 401) one client address may cause before it
    /// is blocked; the count recovers one failure per `failed_auth_block_secs /
    /// failed_auth_limit`.
    #[serde(default = "defaults::failed_auth_limit")]
    pub failed_auth_limit: u32,
    /// How long a blocked client address is answered `429` (with `Retry-After`).
    #[serde(default = "defaults::failed_auth_block_secs")]
    pub failed_auth_block_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: defaults::requests_per_minute(),
            plans: BTreeMap::new(),
            failed_auth_limit: defaults::failed_auth_limit(),
            failed_auth_block_secs: defaults::failed_auth_block_secs(),
        }
    }
}

impl RateLimitConfig {
    pub(crate) fn check(&self, plans: &BTreeMap<String, fanout_core::Plan>) -> Result<(), String> {
        if self.requests_per_minute == 0 {
            return Err("[rate_limit] requests_per_minute must be greater than 0".into());
        }
        if self.failed_auth_limit == 0 || self.failed_auth_block_secs == 0 {
            return Err(
                "[rate_limit] failed_auth_limit and failed_auth_block_secs must be greater than 0"
                    .into(),
            );
        }
        for (plan, limit) in &self.plans {
            if !plans.contains_key(plan) {
                return Err(format!(
                    "[rate_limit.plans] names plan `{plan}`, which is not defined; add [plans.{plan}]"
                ));
            }
            if *limit == 0 {
                return Err(format!("[rate_limit.plans] {plan} must be greater than 0"));
            }
        }
        Ok(())
    }
}

mod defaults {
    pub fn header_read_timeout_secs() -> u64 {
        20
    }
    pub fn body_idle_timeout_secs() -> u64 {
        60
    }
    pub fn min_upload_bytes_per_sec() -> u64 {
        1024 * 1024
    }
    pub fn max_connections() -> usize {
        512
    }
    pub fn max_in_flight_uploads() -> usize {
        64
    }
    pub fn busy_retry_after_secs() -> u64 {
        5
    }
    pub fn shutdown_grace_secs() -> u64 {
        30
    }
    pub fn requests_per_minute() -> u32 {
        600
    }
    pub fn failed_auth_limit() -> u32 {
        10
    }
    pub fn failed_auth_block_secs() -> u64 {
        300
    }
}
