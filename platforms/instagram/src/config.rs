//! `[platforms.instagram]`: where the Graph API lives and how patiently to talk to it.

use std::ops::{Deref, DerefMut};

use fanout_kit::{with_trailing_slash, PlatformConfig, PlatformDefaults};
use serde::Deserialize;
use url::Url;

/// The Graph API host and version used unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0/";
/// The resumable-upload host used unless configured otherwise.
pub const DEFAULT_UPLOAD_BASE_URL: &str = "https://rupload.facebook.com/";
/// The Facebook Login dialog host and version used unless configured otherwise.
pub const DEFAULT_OAUTH_BASE_URL: &str = "https://www.facebook.com/v21.0/";
/// The permissions asked for when connecting an account, unless configured otherwise:
/// publishing, first comments, and finding the Instagram account behind a Page.
pub const DEFAULT_SCOPES: &[&str] = &[
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
];

/// Settings of the Instagram publisher, filled by figment from `[platforms.instagram]`.
///
/// Every key has a default, so an empty table works. The keys every platform shares
/// are in [`PlatformConfig`] (flattened: they stay at the table's top level, and the
/// config derefs to them), with Instagram's meaning:
///
/// - `base_url` (`https://graph.facebook.com/v21.0/`): the Graph API base, version
///   included; relative paths and the token endpoint `oauth/access_token` are joined
///   under it, so the version prefix is kept;
/// - `oauth_base_url` (`https://www.facebook.com/v21.0/`): the Facebook Login dialog
///   base, version included; the dialog is `dialog/oauth` under it;
/// - `client_id` (the Meta app id) and `client_secret` (the app secret, hidden in
///   `Debug`), for token refresh and account connection (not used to publish);
/// - `scopes`: the permissions asked for when connecting an account (see
///   [`DEFAULT_SCOPES`]);
/// - `request_timeout_secs` (60; uploads get one more second per MiB), `max_attempts`
///   (4) and `initial_backoff_ms` (500) for safe steps;
/// - `poll_interval_ms` (3000, doubling up to four times that) and `poll_budget_secs`
///   (300): how long one publish (or one follow-up) waits for a container to be
///   `FINISHED`; past it the answer is `"status": "PROCESSING"` with a follow-up, and
///   the engine resumes the publish later;
/// - `background_budget_secs` (3600): how long follow-ups keep waiting for a container
///   still processing, counted from the first `PROCESSING` answer; past it the
///   follow-up fails (`TimedOut`) without publishing: nothing was posted.
///
/// ```
/// use fanout_instagram::InstagramConfig;
/// let config = InstagramConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://graph.facebook.com/v21.0/");
/// assert_eq!(config.poll_interval_ms, 3000);
/// assert_eq!(config.calls_per_hour, 200);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
#[serde(default)]
pub struct InstagramConfig {
    /// The keys every platform shares (see above).
    #[serde(flatten)]
    pub common: PlatformConfig<InstagramConfig>,
    /// The resumable-upload host (`https://rupload.facebook.com/`); uploads go to
    /// `ig-api-upload/<version>/<container id>` under it, the version being the last
    /// path segment of `base_url`, unless the container's answer names its own `uri`
    /// on this same host.
    pub upload_base_url: Url,
    /// Graph calls allowed per access token per hour (Instagram's documented 200).
    pub calls_per_hour: u32,
}

impl PlatformDefaults for InstagramConfig {
    const BASE_URL: &'static str = DEFAULT_BASE_URL;
    const OAUTH_BASE_URL: &'static str = DEFAULT_OAUTH_BASE_URL;
    const SCOPES: &'static [&'static str] = DEFAULT_SCOPES;
    const POLL_INTERVAL_MS: u64 = 3000;
}

impl Default for InstagramConfig {
    fn default() -> Self {
        Self {
            common: PlatformConfig::default(),
            upload_base_url: Url::parse(DEFAULT_UPLOAD_BASE_URL)
                .unwrap_or_else(|_| unreachable!("the default upload URL is valid")),
            calls_per_hour: 200,
        }
    }
}

impl Deref for InstagramConfig {
    type Target = PlatformConfig<InstagramConfig>;

    fn deref(&self) -> &Self::Target {
        &self.common
    }
}

impl DerefMut for InstagramConfig {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.common
    }
}

impl InstagramConfig {
    /// The API version: the last path segment of `base_url` (`v21.0`), if any.
    pub(crate) fn version(&self) -> Option<String> {
        self.base_url
            .path_segments()?
            .rfind(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// `upload_base_url` with a trailing `/`, so joins keep any path prefix.
    pub(crate) fn upload_base(&self) -> Url {
        with_trailing_slash(&self.upload_base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::secrecy::SecretString;

    #[test]
    fn debug_hides_the_secret() {
        let mut config = InstagramConfig::default();
        config.common.client_secret = Some(SecretString::from("app-secret-123".to_string()));
        let shown = format!("{config:?}");
        assert!(!shown.contains("app-secret-123"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn partial_tables_keep_defaults() {
        let config: InstagramConfig =
            serde_json::from_value(serde_json::json!({"poll_interval_ms": 5})).unwrap();
        assert_eq!(config.poll_interval_ms, 5);
        assert_eq!(config.poll_budget_secs, 300);
        assert_eq!(config.background_budget_secs, 3600);
        assert_eq!(config.max_attempts, 4);
        assert_eq!(config.calls_per_hour, 200);
        assert_eq!(
            config.upload_base_url.as_str(),
            "https://rupload.facebook.com/"
        );
        assert_eq!(config.scopes, DEFAULT_SCOPES);
    }

    #[test]
    fn every_documented_key_is_read() {
        let config: InstagramConfig = serde_json::from_value(serde_json::json!({
            "base_url": "http://127.0.0.1:9/v21.0",
            "upload_base_url": "http://127.0.0.1:7/",
            "oauth_base_url": "http://127.0.0.1:8/",
            "client_id": "app",
            "client_secret": "s",
            "scopes": ["instagram_basic"],
            "request_timeout_secs": 1,
            "poll_interval_ms": 2,
            "poll_budget_secs": 3,
            "background_budget_secs": 4,
            "max_attempts": 5,
            "initial_backoff_ms": 6,
            "calls_per_hour": 7,
        }))
        .unwrap();
        assert_eq!(config.version().as_deref(), Some("v21.0"));
        assert_eq!(
            config.api_base().join("1/media").unwrap().as_str(),
            "http://127.0.0.1:9/v21.0/1/media"
        );
        assert_eq!(config.upload_base().as_str(), "http://127.0.0.1:7/");
        assert_eq!(config.oauth_base().as_str(), "http://127.0.0.1:8/");
        assert_eq!(config.credentials().map(|c| c.0), Some("app"));
        assert_eq!(config.scopes, ["instagram_basic"]);
        assert_eq!(
            (
                config.request_timeout_secs,
                config.poll_interval_ms,
                config.poll_budget_secs,
                config.background_budget_secs,
                config.max_attempts,
                config.initial_backoff_ms,
                config.calls_per_hour,
            ),
            (1, 2, 3, 4, 5, 6, 7)
        );
    }
}
