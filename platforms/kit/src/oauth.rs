//! The HTTP side of a platform's OAuth: token endpoint calls and account lookups, the
//! token fields every token answer carries, and `expires_at` from `expires_in`.
//!
//! What an error answer means differs per platform (its codes, its sentences): each
//! platform crate maps [`Reply`]s and [`NoAnswer`]s to [`fanout_core::TokenError`]s in
//! its `oauth.rs` ([`NoAnswer::transient`] keeps the transport error as the source).

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use fanout_core::secrecy::SecretString;
use fanout_core::{Connection, TokenError};
use reqwest::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

/// Why an OAuth call brought no answer back: nothing changed, every token is kept.
///
/// It keeps the transport error, without its URL (a token call's URL may carry a
/// token or a client secret), for [`NoAnswer::transient`] to attach as the source.
#[derive(Debug)]
pub struct NoAnswer {
    /// The call timed out.
    pub timed_out: bool,
    /// No connection was made: nothing was sent.
    pub not_connected: bool,
    error: reqwest::Error,
}

impl NoAnswer {
    fn of(err: reqwest::Error) -> Self {
        Self {
            timed_out: err.is_timeout(),
            not_connected: err.is_connect(),
            error: err.without_url(),
        }
    }

    /// A [`fanout_core::TokenErrorKind::Transient`] error reading `message`, with the
    /// transport error (URL removed) as its [`std::error::Error::source`].
    pub fn transient(self, message: impl Into<String>) -> TokenError {
        TokenError::transient(message).with_source(self.error)
    }

    /// "timed out", "could not connect" or "the connection failed".
    pub fn why(&self) -> &'static str {
        if self.timed_out {
            "timed out"
        } else if self.not_connected {
            "could not connect"
        } else {
            "the connection failed"
        }
    }

    /// The sentence a publish call's transport failure reads as ("Could not connect
    /// to `<platform>`; nothing was sent. …" or "The connection to `<platform>` failed
    /// mid-request; …").
    pub fn sentence(&self, platform: &str) -> String {
        if self.not_connected {
            format!(
                "Could not connect to {platform}; nothing was sent. Try again in a few minutes."
            )
        } else {
            format!("The connection to {platform} failed mid-request; try again in a few minutes.")
        }
    }
}

/// An OAuth endpoint's answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The OAuth calls of one platform app: the shared HTTP client and the call timeout.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    timeout: Duration,
}

impl OAuthClient {
    /// Calls over `http`, each at most `timeout`.
    pub fn new(http: reqwest::Client, timeout: Duration) -> Self {
        Self { http, timeout }
    }

    /// `POST url` with `form` URL-encoded (`Content-Type:
    /// application/x-www-form-urlencoded`) and `headers` besides.
    pub async fn post_form(
        &self,
        url: Url,
        form: &[(&str, &str)],
        headers: &[(HeaderName, &'static str)],
    ) -> Result<Reply, NoAnswer> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .timeout(self.timeout)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        Self::reply(request).await
    }

    /// `GET url` with `Authorization: Bearer <access_token>`.
    pub async fn get(&self, url: Url, access_token: &str) -> Result<Reply, NoAnswer> {
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, format!("Bearer {access_token}"))
            .timeout(self.timeout);
        Self::reply(request).await
    }

    async fn reply(request: reqwest::RequestBuilder) -> Result<Reply, NoAnswer> {
        let response = request.send().await.map_err(NoAnswer::of)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(NoAnswer::of)?;
        if !(200..300).contains(&status) {
            tracing::debug!(status, "oauth call answered an error");
        }
        Ok(Reply { status, body })
    }
}

/// The token fields of a token endpoint's answer. `Debug` never shows the tokens.
#[derive(Clone, Deserialize)]
pub struct TokenAnswer {
    /// The new access token (never empty once read by [`TokenAnswer::parse`]).
    pub access_token: String,
    /// A refresh token, when the answer carries one.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds, when the answer says.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl TokenAnswer {
    /// Reads a token answer; `None` unless it is JSON with a non-empty
    /// `access_token`.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body)
            .ok()
            .filter(|a| !a.access_token.is_empty())
    }

    /// `now + expires_in` ([`expires_at`]).
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        expires_at(self.expires_in)
    }

    /// `connection` with these tokens: the new access token, the new refresh token
    /// when the answer has one (rotated), else the old one, and `expires_at`. Name and
    /// attributes are kept.
    pub fn renew(self, connection: &Connection) -> Connection {
        let mut renewed = connection.clone();
        renewed.expires_at = self.expires_at();
        renewed.access_token = SecretString::from(self.access_token);
        if let Some(rotated) = self.refresh_token.filter(|t| !t.is_empty()) {
            renewed.refresh_token = Some(SecretString::from(rotated));
        }
        renewed
    }

    /// A new connection of `account_name` with these tokens and `expires_at`.
    pub fn connect(self, account_name: impl Into<String>) -> Connection {
        let expires_at = self.expires_at();
        let mut connection = Connection::new(account_name, self.access_token);
        connection.refresh_token = self
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        connection.expires_at = expires_at;
        connection
    }
}

/// `now + expires_in`, when a platform said how long a token lives (a positive number
/// of seconds). `None` when it did not, or when the instant cannot be represented (a
/// lifetime of billions of years is no expiry): never a panic.
pub fn expires_at(expires_in: Option<i64>) -> Option<DateTime<Utc>> {
    let secs = expires_in.filter(|s| *s > 0)?;
    Utc::now().checked_add_signed(chrono::TimeDelta::try_seconds(secs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_without_an_answer_keeps_the_transport_error_without_its_url() {
        use fanout_core::TokenErrorKind;
        use std::error::Error as _;

        // A port nobody listens on: the connection is refused.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let client = OAuthClient::new(
            reqwest::Client::builder().no_proxy().build().unwrap(),
            Duration::from_secs(5),
        );
        let url = Url::parse(&format!("http://{addr}/token?client_secret=s3cret")).unwrap();
        let no_answer = client.get(url, "t0ken").await.expect_err("nobody listens");
        assert!(no_answer.not_connected, "{no_answer:?}");
        let err = no_answer.transient("The platform did not answer; try again.");
        assert_eq!(err.kind(), TokenErrorKind::Transient);
        assert_eq!(err.message(), "The platform did not answer; try again.");
        let source = err
            .source()
            .and_then(|s| s.downcast_ref::<reqwest::Error>())
            .expect("the reqwest error is the source");
        assert!(source.is_connect());
        assert!(source.url().is_none());
        let shown = format!("{err:?} {source}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken"),
            "{shown}"
        );
    }

    #[test]
    fn expires_at_is_now_plus_expires_in_and_never_panics() {
        let at = expires_at(Some(3600)).unwrap();
        let left = (at - Utc::now()).num_seconds();
        assert!((3598..=3600).contains(&left), "{left}");
        assert_eq!(expires_at(None), None);
        assert_eq!(expires_at(Some(0)), None);
        assert_eq!(expires_at(Some(-5)), None);
        // Past chrono's range: no expiry rather than a panic.
        assert_eq!(expires_at(Some(i64::MAX)), None);
        assert_eq!(expires_at(Some(i64::MAX / 1000)), None);
        assert_eq!(expires_at(Some(9_000_000_000_000)), None);
        // Far but representable.
        assert!(expires_at(Some(100 * 365 * 86_400)).is_some());
    }

    #[test]
    fn answers_without_an_access_token_are_not_read() {
        assert!(TokenAnswer::parse(br#"{"access_token": ""}"#).is_none());
        assert!(TokenAnswer::parse(b"<html>").is_none());
        let answer =
            TokenAnswer::parse(br#"{"access_token": "a1", "expires_in": 9223372036854775807}"#)
                .unwrap();
        assert_eq!(answer.expires_at(), None);
        assert!(!format!("{answer:?}").contains("a1"));
    }

    #[test]
    fn renewing_rotates_the_refresh_token_only_when_one_came() {
        let mut old = Connection::new("acct", "old-access").with_attribute("open_id", "o1");
        old.refresh_token = Some(SecretString::from("old-refresh".to_string()));
        let same = TokenAnswer::parse(br#"{"access_token": "new", "refresh_token": ""}"#)
            .unwrap()
            .renew(&old);
        assert_eq!(same.access_token(), "new");
        assert_eq!(same.attribute("open_id"), Some("o1"));
        assert!(same.expires_at.is_none());
        use fanout_core::secrecy::ExposeSecret;
        assert_eq!(
            same.refresh_token.as_ref().map(|t| t.expose_secret()),
            Some("old-refresh")
        );
        let rotated = TokenAnswer::parse(
            br#"{"access_token": "new", "refresh_token": "r2", "expires_in": 60}"#,
        )
        .unwrap()
        .renew(&old);
        assert_eq!(
            rotated.refresh_token.as_ref().map(|t| t.expose_secret()),
            Some("r2")
        );
        assert!(rotated.expires_at.is_some());
        let fresh = TokenAnswer::parse(br#"{"access_token": "a"}"#)
            .unwrap()
            .connect("name");
        assert_eq!(fresh.account_name, "name");
        assert!(fresh.refresh_token.is_none());
    }
}
