//! OAuth token operations of a platform: refresh, authorization URL, code exchange.
//!
//! A publisher that can refresh its platform's tokens returns a [`TokenProvider`] from
//! [`crate::Publisher::tokens`]. The engine uses it to refresh a token that expires
//! within a margin before publishing, and once after a platform refused a token; new
//! tokens are written back to the account directory at once.

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use crate::accounts::Connection;

/// What kind of failure a [`TokenError`] is: the engine decides by kind (ask for a
/// reconnection, try again later, or carry on without refreshing), people read the
/// message.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenErrorKind {
    /// The platform definitively refused (`invalid_grant`, revoked, refresh token
    /// expired): the account must be reconnected. Never retried.
    Refused,
    /// The refresh did not happen (network error, 5xx, 429): every token stays as it
    /// was and a later attempt may succeed.
    Transient,
    /// The platform cannot do this (no refresh tokens, no client credentials
    /// configured).
    Unsupported,
}

/// Why a token operation failed: a kind, the sentence a person reads (never a token
/// or a secret), and the underlying error, if any, as its
/// [`std::error::Error::source`].
///
/// It is cheap to clone (the source is shared), so one refresh outcome can be
/// handed to every caller waiting on it. Two errors are equal when their kinds and
/// messages are; sources are not compared.
///
/// ```
/// use fanout_core::{TokenError, TokenErrorKind};
/// let io = std::io::Error::other("connection reset");
/// let err = TokenError::transient("TikTok did not answer; try again later.").with_source(io);
/// assert_eq!(err.kind(), TokenErrorKind::Transient);
/// assert_eq!(err.to_string(), "TikTok did not answer; try again later.");
/// assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "connection reset");
/// ```
#[derive(Debug, Clone)]
pub struct TokenError {
    kind: TokenErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TokenError {
    /// An error of `kind` with the given sentence and no source.
    pub fn new(kind: TokenErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// [`TokenErrorKind::Refused`].
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::Refused, message)
    }

    /// [`TokenErrorKind::Transient`].
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::Transient, message)
    }

    /// [`TokenErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::Unsupported, message)
    }

    /// The same error with `source` as its cause. The source must not carry a token
    /// or a secret either (strip URLs with credentials in them first).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// Its kind.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }

    /// The sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for TokenError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for TokenError {}

/// What starting an OAuth authorization needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest<'a> {
    /// Where the platform sends the user back (the callback route).
    pub redirect_uri: &'a str,
    /// The opaque, unguessable state the callback must return.
    pub state: &'a str,
    /// The PKCE S256 code challenge, for platforms that support PKCE.
    pub code_challenge: Option<&'a str>,
}

/// OAuth operations of one platform, against its configured OAuth host.
#[async_trait]
pub trait TokenProvider: Send + Sync {
    /// Exchanges `connection`'s refresh token for new tokens. The result keeps the
    /// connection's `account_name` and attributes, carries the new access token, the
    /// new refresh token when the platform rotated it (else the old one), and
    /// `expires_at` computed from the answer's `expires_in`.
    async fn refresh(&self, connection: &Connection) -> Result<Connection, TokenError>;

    /// The URL to send a person to, to connect an account.
    fn authorization_url(&self, request: &AuthorizationRequest<'_>) -> Result<Url, TokenError>;

    /// Whether [`TokenProvider::authorization_url`] takes a PKCE challenge.
    fn supports_pkce(&self) -> bool;

    /// Exchanges an authorization code for a new connection (tokens, expiry, and the
    /// platform ids the publisher needs, with `account_name` set to the account's name
    /// on the platform when it can be read, else its id).
    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<Connection, TokenError>;
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn token_errors_carry_kind_message_and_source() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
        let err = TokenError::transient("The platform did not answer; try again.").with_source(io);
        assert_eq!(err.kind(), TokenErrorKind::Transient);
        assert_eq!(err.message(), "The platform did not answer; try again.");
        assert_eq!(err.to_string(), err.message());
        let source = err.source().expect("a source");
        assert_eq!(source.to_string(), "timed out");
        // The concrete cause can be read back, also from a clone sharing it.
        let shared = err.clone();
        let io = shared
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io error");
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

        assert_eq!(TokenError::refused("no").kind(), TokenErrorKind::Refused);
        assert_eq!(
            TokenError::unsupported("no").kind(),
            TokenErrorKind::Unsupported
        );
        assert!(TokenError::refused("no").source().is_none());
    }

    #[test]
    fn token_errors_compare_kind_and_message_not_source() {
        let with = TokenError::refused("invalid_grant").with_source("revoked");
        assert_eq!(with, TokenError::refused("invalid_grant"));
        assert_ne!(with, TokenError::transient("invalid_grant"));
        assert_ne!(with, TokenError::refused("invalid_request"));
    }
}
