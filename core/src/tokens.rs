//! OAuth token operations of a platform: refresh, authorization URL, code exchange.
//!
//! A publisher that can refresh its platform's tokens returns a [`TokenProvider`] from
//! [`crate::Publisher::tokens`]. The engine uses it to refresh a token that expires
//! within a margin before publishing, and once after a platform refused a token; new
//! tokens are written back to the account directory at once.

use async_trait::async_trait;
use url::Url;

use crate::accounts::Connection;

/// Why a token operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The platform definitively refused (`invalid_grant`, revoked, refresh token
    /// expired): the account must be reconnected. Never retried.
    #[error("{0}")]
    Refused(String),
    /// The refresh did not happen (network error, 5xx, 429): every token stays as it
    /// was and a later attempt may succeed.
    #[error("{0}")]
    Transient(String),
    /// The platform cannot do this (no refresh tokens, no client credentials
    /// configured).
    #[error("{0}")]
    Unsupported(String),
}

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
