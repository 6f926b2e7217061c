//! What every fake platform offers the conformance suite.

use fanout_core::Connection;
use serde_json::Value;
use url::Url;

use crate::faults::Fault;
use crate::record::PublishedPost;

/// The error a fake can be asked to answer with, in its platform's own body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformError {
    /// The access token expired.
    ExpiredToken,
    /// Too many requests, with `Retry-After: <secs>`.
    RateLimited {
        /// Seconds in the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// A 5xx server error.
    ServerError,
}

/// A strict fake of one platform's API, running on a loopback port.
///
/// Implemented by every fake in this crate; a plugin author implements it for their
/// own fake to run [`crate::conformance`].
pub trait FakePlatform: Send + Sync {
    /// The platform id (`"tiktok"`).
    fn platform(&self) -> &'static str;

    /// Where the fake's API is served; point the publisher's base URL here.
    fn base_url(&self) -> Url;

    /// A connection the fake accepts, for an account it knows as `account_name`.
    fn connection(&self, account_name: &str) -> Connection;

    /// A connection whose access token the fake answers as expired.
    fn expired_connection(&self) -> Connection {
        let mut connection = self.connection("expired-account");
        connection.access_token =
            fanout_core::secrecy::SecretString::from("expired-token-conformance".to_string());
        connection
    }

    /// Every post the fake published, in order.
    fn published(&self) -> Vec<PublishedPost>;

    /// A path fragment matching the call that creates (publishes) the post.
    fn publish_route(&self) -> &'static str;

    /// A path fragment matching the first call a publish makes.
    fn first_route(&self) -> &'static str;

    /// The platform's own answer for `error`: status and JSON body.
    fn error_response(&self, error: PlatformError) -> (u16, Value);

    /// Arms a fault.
    fn inject(&self, fault: Fault);

    /// Disarms every fault.
    fn clear_faults(&self);
}
