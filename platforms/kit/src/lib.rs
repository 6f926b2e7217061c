//! fanout-kit: what every platform crate needs besides its own API, so a platform
//! crate holds only what is specific to its platform.
//!
//! - [`PlatformConfig`]: the keys every `[platforms.<name>]` table shares (`base_url`,
//!   `oauth_base_url`, `client_id`, `client_secret` hidden in `Debug`, `scopes`,
//!   timeouts, poll and retry budgets), flattened into the platform's config with the
//!   platform's [`PlatformDefaults`].
//! - [`Session`]: the HTTP session of one publish. Every call ends as an [`Answer`] or
//!   a [`CallError`] that keeps whether the platform may have acted on it: refused
//!   (it answered an error), not received (nothing was sent), or lost (sent, no
//!   answer). [`Idempotence`] decides what a lost answer means.
//! - [`RetryPolicy`]: the one backoff loop, with a hook between attempts
//!   ([`RetryPolicy::run_with`]) for uploads that ask the platform how far they got.
//! - [`Polling`]: status polls within a budget.
//! - [`OAuthClient`], [`TokenAnswer`], [`expires_at`]: token endpoint calls and what
//!   their answers do to a connection.
//! - [`Throttle`]: per-token quotas, with governor.
//!
//! A platform crate depends on `fanout-core` (the `Publisher` trait) and this crate;
//! this crate depends on `fanout-core` only.
#![forbid(unsafe_code)]

mod client;
mod config;
mod oauth;
mod polling;
mod retry;
mod throttle;

pub use client::{http_client, retry_after, Answer, CallError, Idempotence, Platform, Session};
pub use config::{with_trailing_slash, PlatformConfig, PlatformDefaults};
pub use oauth::{expires_at, NoAnswer, OAuthClient, Reply, TokenAnswer};
pub use polling::Polling;
pub use retry::RetryPolicy;
pub use throttle::Throttle;

/// Cuts a platform's message to a readable length and strips anything that looks like
/// a credential or a URL (re-exported from `fanout_core::http`).
pub use fanout_core::http::sanitize_platform_message;
