//! `[platforms.linkedin]`: where LinkedIn lives and how patiently to talk to it.

use std::time::Duration;

use fanout_core::secrecy::SecretString;
use fanout_core::RetryPolicy;
use serde::Deserialize;
use url::Url;

/// The API host used unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.linkedin.com/";
/// The OAuth host used unless configured otherwise.
pub const DEFAULT_OAUTH_BASE_URL: &str = "https://www.linkedin.com/";
/// The `LinkedIn-Version` sent unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "202510";
/// Largest video sent unless configured otherwise: LinkedIn's 500 MB (some accounts
/// may post up to 5 GB; raise `max_video_bytes` for them).
pub const DEFAULT_MAX_VIDEO_BYTES: u64 = 500 * 1024 * 1024;
/// Posts per member per day unless configured otherwise. LinkedIn does not publish
/// its standard limits (they show in the Developer Portal's analytics); 150 posts a
/// day per member is the figure commonly reported for member posting.
pub const DEFAULT_DAILY_POST_LIMIT: u32 = 150;

/// The scopes asked for when connecting an account unless configured otherwise:
/// OpenID Connect (`openid`, `profile`, so the member's id can be read) and posting as
/// the member (`w_member_social`).
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "w_member_social"];

/// How long after its upload a still-processing video is waited for through follow-ups,
/// unless configured otherwise (an hour).
pub const DEFAULT_BACKGROUND_BUDGET_SECS: u64 = 3600;

/// Settings of the LinkedIn publisher, filled by figment from `[platforms.linkedin]`.
///
/// Every field has a default, so an empty table works. `Debug` never shows
/// `client_secret`.
///
/// ```
/// use fanout_linkedin::LinkedInConfig;
/// let config = LinkedInConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://api.linkedin.com/");
/// assert_eq!(config.api_version, "202510");
/// assert_eq!(config.daily_post_limit, 150);
/// ```
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct LinkedInConfig {
    /// The API host (`https://api.linkedin.com/`); `rest/…` and `v2/userinfo` are
    /// joined under it.
    pub base_url: Url,
    /// The OAuth host (`https://www.linkedin.com/`): the authorization page
    /// (`oauth/v2/authorization`) and the token endpoint (`oauth/v2/accessToken`).
    pub oauth_base_url: Url,
    /// The scopes asked for when connecting an account ([`DEFAULT_SCOPES`]); add
    /// `w_organization_social` to post as pages.
    pub scopes: Vec<String>,
    /// Sent as `LinkedIn-Version` (`YYYYMM`).
    pub api_version: String,
    /// The LinkedIn app's client id, for connecting accounts and refreshing tokens
    /// (not used to publish).
    pub client_id: Option<String>,
    /// The LinkedIn app's client secret (hidden in `Debug`).
    pub client_secret: Option<SecretString>,
    /// Longest wait for one API call, in seconds (uploads get one more second per MiB).
    pub request_timeout_secs: u64,
    /// Wait between video status polls, in milliseconds.
    pub poll_interval_ms: u64,
    /// Longest time to wait for a video to be `AVAILABLE`, in seconds.
    pub poll_budget_secs: u64,
    /// How long after its upload a video still processing is waited for, in seconds:
    /// follow-ups (`resume`, each polling up to `poll_budget_secs`) answer
    /// `PROCESSING` until then, and fail with nothing posted afterwards.
    pub background_budget_secs: u64,
    /// Attempts in total for a step that is safe to repeat.
    pub max_attempts: u32,
    /// Wait before the first retry of a safe step, in milliseconds; it doubles.
    pub initial_backoff_ms: u64,
    /// Posts allowed per access token per day, enforced before anything is sent.
    pub daily_post_limit: u32,
    /// Largest video accepted, in bytes.
    pub max_video_bytes: u64,
}

impl Default for LinkedInConfig {
    fn default() -> Self {
        Self {
            base_url: parse_default(DEFAULT_BASE_URL),
            oauth_base_url: parse_default(DEFAULT_OAUTH_BASE_URL),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            api_version: DEFAULT_API_VERSION.to_string(),
            client_id: None,
            client_secret: None,
            request_timeout_secs: 60,
            poll_interval_ms: 2000,
            poll_budget_secs: 300,
            background_budget_secs: DEFAULT_BACKGROUND_BUDGET_SECS,
            max_attempts: 4,
            initial_backoff_ms: 500,
            daily_post_limit: DEFAULT_DAILY_POST_LIMIT,
            max_video_bytes: DEFAULT_MAX_VIDEO_BYTES,
        }
    }
}

fn parse_default(url: &str) -> Url {
    // The defaults above are valid URLs.
    Url::parse(url).unwrap_or_else(|_| unreachable!("default URL {url} is valid"))
}

impl LinkedInConfig {
    /// The retry policy for safe steps.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            ..RetryPolicy::default()
        }
    }

    /// `base_url` with a trailing `/`, so joins keep any path prefix.
    pub(crate) fn api_base(&self) -> Url {
        let mut url = self.base_url.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url
    }

    /// `oauth_base_url` with a trailing `/`, so joins keep any path prefix.
    pub(crate) fn oauth_base(&self) -> Url {
        let mut url = self.oauth_base_url.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url
    }
}

impl std::fmt::Debug for LinkedInConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInConfig")
            .field("base_url", &self.base_url.as_str())
            .field("oauth_base_url", &self.oauth_base_url.as_str())
            .field("scopes", &self.scopes)
            .field("api_version", &self.api_version)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("poll_budget_secs", &self.poll_budget_secs)
            .field("background_budget_secs", &self.background_budget_secs)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("daily_post_limit", &self.daily_post_limit)
            .field("max_video_bytes", &self.max_video_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let config = LinkedInConfig {
            client_secret: Some(SecretString::from("li-secret-123".to_string())),
            ..LinkedInConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("li-secret-123"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn partial_tables_keep_defaults() {
        let config: LinkedInConfig = serde_json::from_value(serde_json::json!({
            "poll_interval_ms": 5,
            "max_video_bytes": 5_368_709_120u64,
        }))
        .unwrap();
        assert_eq!(config.poll_interval_ms, 5);
        assert_eq!(config.max_video_bytes, 5_368_709_120);
        assert_eq!(config.poll_budget_secs, 300);
        assert_eq!(config.background_budget_secs, 3600);
        assert_eq!(config.request_timeout_secs, 60);
        assert_eq!(config.max_attempts, 4);
        assert_eq!(config.initial_backoff_ms, 500);
        assert_eq!(config.oauth_base_url.as_str(), "https://www.linkedin.com/");
        assert_eq!(config.scopes, ["openid", "profile", "w_member_social"]);
    }

    #[test]
    fn api_base_keeps_a_prefix() {
        let config = LinkedInConfig {
            base_url: Url::parse("http://127.0.0.1:9/prefix").unwrap(),
            ..LinkedInConfig::default()
        };
        assert_eq!(
            config.api_base().join("rest/posts").unwrap().as_str(),
            "http://127.0.0.1:9/prefix/rest/posts"
        );
    }
}
