//! What every fake platform offers the conformance suite.

use chrono::{DateTime, Utc};
use fanout_core::Connection;
use serde_json::Value;
use url::Url;

use crate::faults::Fault;
use crate::record::PublishedPost;

/// The media of an [`OptionCase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionMedia {
    /// One sample video.
    Video,
    /// This many sample JPEG photos.
    Photos(usize),
}

/// Form fields to publish with, and where the fake must have recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionCase {
    /// What the post carries.
    pub media: OptionMedia,
    /// Form fields, as a client sends them (`("privacy_level", "SELF_ONLY")`).
    pub fields: Vec<(String, String)>,
    /// JSON pointers into [`PublishedPost::options`] and the value each must hold.
    pub expect: Vec<(String, Value)>,
}

impl OptionCase {
    /// A case of `media` with `fields`, expecting each `(pointer, value)` of `expect`.
    pub fn new(media: OptionMedia, fields: &[(&str, &str)], expect: &[(&str, Value)]) -> Self {
        Self {
            media,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            expect: expect
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// A platform error answer and the [`fanout_core::ErrorKind`] the publisher must map it to.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCase {
    /// A path fragment matching the call that answers it (for a [`Fault::respond`]).
    pub route: &'static str,
    /// HTTP status of the answer.
    pub status: u16,
    /// The platform's own error body.
    pub body: Value,
    /// The kind the publish must fail with.
    pub kind: fanout_core::ErrorKind,
}

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

    /// A connection for a new account `account_name` whose refresh token the fake's
    /// token endpoint accepts: an access token the API accepts, a refresh token,
    /// `expires_at` as given, and the attributes the publisher needs.
    ///
    /// `None` (the default) when the fake serves no token endpoint; the conformance
    /// token checks are then skipped. A fake that returns `Some` must also implement
    /// [`FakePlatform::expire_access_token`], [`FakePlatform::revoke_refresh_token`],
    /// [`FakePlatform::refresh_calls`] and [`FakePlatform::token_route`].
    fn refreshable_connection(
        &self,
        _account_name: &str,
        _expires_at: DateTime<Utc>,
    ) -> Option<Connection> {
        None
    }

    /// From now on the API refuses the access token `token` as expired (the platform's
    /// own expired-token answer). Does nothing by default.
    fn expire_access_token(&self, _token: &str) {}

    /// From now on the token endpoint refuses the refresh token `token` definitively
    /// (`invalid_grant`, revoked). Does nothing by default.
    fn revoke_refresh_token(&self, _token: &str) {}

    /// How many refresh requests reached the token endpoint so far (requests a fault
    /// answered instead are not counted). `0` by default.
    fn refresh_calls(&self) -> usize {
        0
    }

    /// A path fragment matching the fake's token endpoint, for fault injection
    /// (`"/oauth/token"`). Empty by default, which fakes without a token endpoint
    /// keep; the token checks refuse an empty one.
    fn token_route(&self) -> &'static str {
        ""
    }

    /// Representative form options and where the fake records them. Empty by default:
    /// the options check is then skipped.
    fn option_cases(&self) -> Vec<OptionCase> {
        Vec::new()
    }

    /// Every platform error code the publisher maps, each as an answer on one route.
    /// Empty by default: the error-code check is then skipped.
    fn error_cases(&self) -> Vec<ErrorCase> {
        Vec::new()
    }

    /// Keeps every post published from now on in processing for at least `at_least`
    /// after its media is complete; `Duration::ZERO` restores the fake's default.
    /// Returns whether the fake can (`false` by default: the processing check is then
    /// skipped).
    fn hold_processing(&self, _at_least: std::time::Duration) -> bool {
        false
    }
}
