//! The keys every `[platforms.<name>]` table shares, flattened into each platform's
//! config, with that platform's defaults.

use std::marker::PhantomData;
use std::time::Duration;

use fanout_core::secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::client::{Platform, Session};
use crate::oauth::OAuthClient;
use crate::polling::Polling;
use crate::retry::RetryPolicy;

/// A platform's defaults for the shared keys. Implemented by each platform's config
/// type, which names itself as the `D` of its [`PlatformConfig`].
pub trait PlatformDefaults {
    /// `base_url`: the API host.
    const BASE_URL: &'static str;
    /// `oauth_base_url`: the host of the authorization page.
    const OAUTH_BASE_URL: &'static str;
    /// `scopes` asked for when connecting an account.
    const SCOPES: &'static [&'static str];
    /// `request_timeout_secs`.
    const REQUEST_TIMEOUT_SECS: u64 = 60;
    /// `poll_interval_ms`.
    const POLL_INTERVAL_MS: u64 = 2000;
    /// `poll_budget_secs`.
    const POLL_BUDGET_SECS: u64 = 300;
    /// `background_budget_secs`.
    const BACKGROUND_BUDGET_SECS: u64 = 3600;
    /// `max_attempts`.
    const MAX_ATTEMPTS: u32 = 4;
    /// `initial_backoff_ms`.
    const INITIAL_BACKOFF_MS: u64 = 500;
}

/// The keys every platform table has: hosts, app credentials, timeouts, poll and
/// retry budgets. A platform's config holds it as a `#[serde(flatten)]` field (so the
/// keys stay at the table's top level) and derefs to it; a missing key takes `D`'s
/// default. `Debug` never shows `client_secret`.
///
/// ```
/// use fanout_kit::{PlatformConfig, PlatformDefaults};
/// struct Example;
/// impl PlatformDefaults for Example {
///     const BASE_URL: &'static str = "https://api.example.com/v1";
///     const OAUTH_BASE_URL: &'static str = "https://example.com/";
///     const SCOPES: &'static [&'static str] = &["post"];
///     const POLL_BUDGET_SECS: u64 = 120;
/// }
/// let config: PlatformConfig<Example> =
///     serde_json::from_value(serde_json::json!({"poll_interval_ms": 5})).unwrap();
/// assert_eq!(config.poll_interval_ms, 5);
/// assert_eq!(config.poll_budget_secs, 120);
/// assert_eq!(config.api_base().as_str(), "https://api.example.com/v1/");
/// ```
#[derive(Deserialize)]
#[serde(default, bound = "D: PlatformDefaults")]
pub struct PlatformConfig<D> {
    /// The API host; request paths are joined under it (a path prefix is kept).
    pub base_url: Url,
    /// The host of the authorization page.
    pub oauth_base_url: Url,
    /// The platform app's client id, for connecting accounts and refreshing tokens
    /// (not used to publish).
    pub client_id: Option<String>,
    /// The platform app's client secret (hidden in `Debug`).
    pub client_secret: Option<SecretString>,
    /// Scopes asked for when connecting an account.
    pub scopes: Vec<String>,
    /// Longest wait for one API call, in seconds (uploads get one more second per MiB).
    pub request_timeout_secs: u64,
    /// First wait between status polls, in milliseconds.
    pub poll_interval_ms: u64,
    /// Longest wait for the platform to process an upload within one publish (or one
    /// follow-up), in seconds, before answering `"status": "PROCESSING"` with a
    /// follow-up.
    pub poll_budget_secs: u64,
    /// The platform's further wait, in seconds (see its config's docs).
    pub background_budget_secs: u64,
    /// Attempts in total for a step that is safe to repeat.
    pub max_attempts: u32,
    /// Wait before the first retry of a safe step, in milliseconds; it doubles.
    pub initial_backoff_ms: u64,
    #[serde(skip)]
    defaults: PhantomData<fn() -> D>,
}

impl<D: PlatformDefaults> Default for PlatformConfig<D> {
    fn default() -> Self {
        Self {
            base_url: parse_default(D::BASE_URL),
            oauth_base_url: parse_default(D::OAUTH_BASE_URL),
            client_id: None,
            client_secret: None,
            scopes: D::SCOPES.iter().map(|s| (*s).to_string()).collect(),
            request_timeout_secs: D::REQUEST_TIMEOUT_SECS,
            poll_interval_ms: D::POLL_INTERVAL_MS,
            poll_budget_secs: D::POLL_BUDGET_SECS,
            background_budget_secs: D::BACKGROUND_BUDGET_SECS,
            max_attempts: D::MAX_ATTEMPTS,
            initial_backoff_ms: D::INITIAL_BACKOFF_MS,
            defaults: PhantomData,
        }
    }
}

fn parse_default(url: &str) -> Url {
    // Each platform's defaults are valid URLs.
    Url::parse(url).unwrap_or_else(|_| unreachable!("default URL {url} is valid"))
}

impl<D> Clone for PlatformConfig<D> {
    fn clone(&self) -> Self {
        Self {
            base_url: self.base_url.clone(),
            oauth_base_url: self.oauth_base_url.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            scopes: self.scopes.clone(),
            request_timeout_secs: self.request_timeout_secs,
            poll_interval_ms: self.poll_interval_ms,
            poll_budget_secs: self.poll_budget_secs,
            background_budget_secs: self.background_budget_secs,
            max_attempts: self.max_attempts,
            initial_backoff_ms: self.initial_backoff_ms,
            defaults: PhantomData,
        }
    }
}

impl<D> std::fmt::Debug for PlatformConfig<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformConfig")
            .field("base_url", &self.base_url.as_str())
            .field("oauth_base_url", &self.oauth_base_url.as_str())
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("poll_budget_secs", &self.poll_budget_secs)
            .field("background_budget_secs", &self.background_budget_secs)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .finish()
    }
}

impl<D> PlatformConfig<D> {
    /// The retry policy for safe steps (`max_attempts`, at least 1, and
    /// `initial_backoff_ms`).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            ..RetryPolicy::default()
        }
    }

    /// `request_timeout_secs` (at least a second).
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// The status polls: every `poll_interval_ms` (at least 1), doubling up to four
    /// times that, within `poll_budget_secs`; `background_budget_secs` besides.
    pub fn polling(&self) -> Polling {
        Polling::doubling(
            Duration::from_millis(self.poll_interval_ms.max(1)),
            Duration::from_secs(self.poll_budget_secs),
            Duration::from_secs(self.background_budget_secs),
        )
    }

    /// `base_url` with a trailing `/`, so joins keep any path prefix.
    pub fn api_base(&self) -> Url {
        with_trailing_slash(&self.base_url)
    }

    /// `oauth_base_url` with a trailing `/`.
    pub fn oauth_base(&self) -> Url {
        with_trailing_slash(&self.oauth_base_url)
    }

    /// The app's `client_id`, trimmed, when one is configured.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    /// The app's `client_id` and `client_secret`, when both are configured (and not
    /// blank).
    pub fn credentials(&self) -> Option<(&str, &SecretString)> {
        let secret = self
            .client_secret
            .as_ref()
            .filter(|s| !s.expose_secret().trim().is_empty())?;
        Some((self.client_id()?, secret))
    }

    /// The HTTP session of one publish with the access token `token`: `api_base()`,
    /// the request timeout and the retry policy.
    pub fn session(&self, platform: Platform, http: &reqwest::Client, token: &str) -> Session {
        Session::new(platform, http.clone(), self.api_base(), token)
            .with_timeout(self.request_timeout())
            .with_retry(self.retry_policy())
    }

    /// The OAuth calls of the app, with the request timeout.
    pub fn oauth_client(&self, http: &reqwest::Client) -> OAuthClient {
        OAuthClient::new(http.clone(), self.request_timeout())
    }
}

/// `url` with a trailing `/` on its path, so joins keep its last segment.
pub fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Test;
    impl PlatformDefaults for Test {
        const BASE_URL: &'static str = "https://api.test/";
        const OAUTH_BASE_URL: &'static str = "https://www.test/";
        const SCOPES: &'static [&'static str] = &["a", "b"];
        const POLL_INTERVAL_MS: u64 = 3000;
    }

    #[test]
    fn every_key_is_read_and_missing_ones_take_the_platforms_defaults() {
        let config: PlatformConfig<Test> = serde_json::from_value(serde_json::json!({
            "base_url": "http://127.0.0.1:9/prefix",
            "client_id": " id ",
            "client_secret": "s3cret",
            "max_attempts": 0,
        }))
        .unwrap();
        assert_eq!(config.api_base().as_str(), "http://127.0.0.1:9/prefix/");
        assert_eq!(config.oauth_base().as_str(), "https://www.test/");
        assert_eq!(config.scopes, ["a", "b"]);
        assert_eq!(config.poll_interval_ms, 3000);
        assert_eq!(config.poll_budget_secs, 300);
        assert_eq!(config.retry_policy().max_attempts, 1);
        assert_eq!(config.credentials().map(|c| c.0), Some("id"));
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("[redacted]"),
            "{shown}"
        );
        let blank = PlatformConfig::<Test> {
            client_secret: Some(SecretString::from(" ".to_string())),
            ..config.clone()
        };
        assert!(blank.credentials().is_none());
        assert_eq!(blank.client_id(), Some("id"));
    }
}
