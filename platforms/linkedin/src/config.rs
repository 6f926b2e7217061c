//! `[platforms.linkedin]`: where LinkedIn lives and how patiently to talk to it.

use std::ops::{Deref, DerefMut};

use fanout_kit::{PlatformConfig, PlatformDefaults};
use serde::Deserialize;

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
/// Every key has a default, so an empty table works. The keys every platform shares
/// are in [`PlatformConfig`] (flattened: they stay at the table's top level, and the
/// config derefs to them), with LinkedIn's meaning:
///
/// - `base_url` (`https://api.linkedin.com/`): `rest/…` and `v2/userinfo` are joined
///   under it;
/// - `oauth_base_url` (`https://www.linkedin.com/`): the authorization page
///   (`oauth/v2/authorization`) and the token endpoint (`oauth/v2/accessToken`);
/// - `client_id` and `client_secret` (hidden in `Debug`), for connecting accounts and
///   refreshing tokens (not used to publish);
/// - `scopes` ([`DEFAULT_SCOPES`]); add `w_organization_social` to post as pages;
/// - `request_timeout_secs` (60; uploads get one more second per MiB), `max_attempts`
///   (4) and `initial_backoff_ms` (500) for safe steps;
/// - `poll_interval_ms` (2000, a steady pace) and `poll_budget_secs` (300): the wait
///   for a video to be `AVAILABLE` within one publish (or one follow-up);
/// - `background_budget_secs` ([`DEFAULT_BACKGROUND_BUDGET_SECS`]): how long after its
///   upload a video still processing is waited for; follow-ups (`resume`, each polling
///   up to `poll_budget_secs`) answer `PROCESSING` until then, and fail with nothing
///   posted afterwards.
///
/// ```
/// use fanout_linkedin::LinkedInConfig;
/// let config = LinkedInConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://api.linkedin.com/");
/// assert_eq!(config.api_version, "202510");
/// assert_eq!(config.daily_post_limit, 150);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
#[serde(default)]
pub struct LinkedInConfig {
    /// The keys every platform shares (see above).
    #[serde(flatten)]
    pub common: PlatformConfig<LinkedInConfig>,
    /// Sent as `LinkedIn-Version` (`YYYYMM`).
    pub api_version: String,
    /// Posts allowed per access token per day, enforced before anything is sent.
    pub daily_post_limit: u32,
    /// Largest video accepted, in bytes.
    pub max_video_bytes: u64,
}

impl PlatformDefaults for LinkedInConfig {
    const BASE_URL: &'static str = DEFAULT_BASE_URL;
    const OAUTH_BASE_URL: &'static str = DEFAULT_OAUTH_BASE_URL;
    const SCOPES: &'static [&'static str] = DEFAULT_SCOPES;
    const POLL_INTERVAL_MS: u64 = 2000;
    const POLL_BUDGET_SECS: u64 = 300;
    const BACKGROUND_BUDGET_SECS: u64 = DEFAULT_BACKGROUND_BUDGET_SECS;
}

impl Default for LinkedInConfig {
    fn default() -> Self {
        Self {
            common: PlatformConfig::default(),
            api_version: DEFAULT_API_VERSION.to_string(),
            daily_post_limit: DEFAULT_DAILY_POST_LIMIT,
            max_video_bytes: DEFAULT_MAX_VIDEO_BYTES,
        }
    }
}

impl Deref for LinkedInConfig {
    type Target = PlatformConfig<LinkedInConfig>;

    fn deref(&self) -> &Self::Target {
        &self.common
    }
}

impl DerefMut for LinkedInConfig {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.common
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::secrecy::SecretString;

    #[test]
    fn debug_hides_the_secret() {
        let mut config = LinkedInConfig::default();
        config.common.client_secret = Some(SecretString::from("li-secret-123".to_string()));
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
        assert_eq!(config.api_version, DEFAULT_API_VERSION);
        assert_eq!(config.daily_post_limit, DEFAULT_DAILY_POST_LIMIT);
    }

    #[test]
    fn every_documented_key_is_read() {
        let config: LinkedInConfig = serde_json::from_value(serde_json::json!({
            "base_url": "http://127.0.0.1:9/prefix",
            "oauth_base_url": "http://127.0.0.1:8/",
            "client_id": "id",
            "client_secret": "s",
            "scopes": ["openid"],
            "api_version": "202401",
            "request_timeout_secs": 1,
            "poll_interval_ms": 2,
            "poll_budget_secs": 3,
            "background_budget_secs": 4,
            "max_attempts": 5,
            "initial_backoff_ms": 6,
            "daily_post_limit": 7,
            "max_video_bytes": 8,
        }))
        .unwrap();
        assert_eq!(
            config.api_base().join("rest/posts").unwrap().as_str(),
            "http://127.0.0.1:9/prefix/rest/posts"
        );
        assert_eq!(config.oauth_base().as_str(), "http://127.0.0.1:8/");
        assert_eq!(config.credentials().map(|c| c.0), Some("id"));
        assert_eq!(config.scopes, ["openid"]);
        assert_eq!(config.api_version, "202401");
        assert_eq!(
            (
                config.request_timeout_secs,
                config.poll_interval_ms,
                config.poll_budget_secs,
                config.background_budget_secs,
                config.max_attempts,
                config.initial_backoff_ms,
            ),
            (1, 2, 3, 4, 5, 6)
        );
        assert_eq!((config.daily_post_limit, config.max_video_bytes), (7, 8));
    }
}
