//! `[platforms.instagram]`: where the Graph API lives and how patiently to talk to it.

use std::time::Duration;

use fanout_core::secrecy::SecretString;
use fanout_core::RetryPolicy;
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
/// Every field has a default, so an empty table works. `Debug` never shows
/// `client_secret`.
///
/// ```
/// use fanout_instagram::InstagramConfig;
/// let config = InstagramConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://graph.facebook.com/v21.0/");
/// assert_eq!(config.poll_interval_ms, 3000);
/// ```
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct InstagramConfig {
    /// Graph API base, version included (`https://graph.facebook.com/v21.0/`). Relative
    /// paths are joined under it, so the version prefix is kept.
    pub base_url: Url,
    /// The resumable-upload host (`https://rupload.facebook.com/`); uploads go to
    /// `ig-api-upload/<version>/<container id>` under it, the version being the last
    /// path segment of `base_url`, unless the container's answer names its own `uri`
    /// on this same host.
    pub upload_base_url: Url,
    /// The Meta app id, for token refresh and account connection (not used to publish).
    pub client_id: Option<String>,
    /// The Meta app secret (hidden in `Debug`).
    pub client_secret: Option<SecretString>,
    /// The Facebook Login dialog base, version included
    /// (`https://www.facebook.com/v21.0/`); the dialog is `dialog/oauth` under it. The
    /// token endpoint is `oauth/access_token` under `base_url`.
    pub oauth_base_url: Url,
    /// The permissions asked for when connecting an account (see [`DEFAULT_SCOPES`]).
    pub scopes: Vec<String>,
    /// Longest wait for one Graph call, in seconds (uploads get one more second per MiB).
    pub request_timeout_secs: u64,
    /// First wait between container status polls, in milliseconds; it doubles up to
    /// four times this value.
    pub poll_interval_ms: u64,
    /// Longest time one publish (or one follow-up) waits for a container to be
    /// `FINISHED` before answering, in seconds. Past it the answer is `"status":
    /// "PROCESSING"` with a follow-up, and the engine resumes the publish later.
    pub poll_budget_secs: u64,
    /// Longest time follow-ups keep waiting for a container still processing, counted
    /// from the first `PROCESSING` answer, in seconds. Past it the follow-up fails
    /// (`TimedOut`) without publishing: nothing was posted.
    pub background_budget_secs: u64,
    /// Attempts in total for a step that is safe to repeat.
    pub max_attempts: u32,
    /// Wait before the first retry of a safe step, in milliseconds; it doubles.
    pub initial_backoff_ms: u64,
    /// Graph calls allowed per access token per hour (Instagram's documented 200).
    pub calls_per_hour: u32,
}

impl Default for InstagramConfig {
    fn default() -> Self {
        Self {
            base_url: parse_default(DEFAULT_BASE_URL),
            upload_base_url: parse_default(DEFAULT_UPLOAD_BASE_URL),
            client_id: None,
            client_secret: None,
            oauth_base_url: parse_default(DEFAULT_OAUTH_BASE_URL),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            request_timeout_secs: 60,
            poll_interval_ms: 3000,
            poll_budget_secs: 300,
            background_budget_secs: 3600,
            max_attempts: 4,
            initial_backoff_ms: 500,
            calls_per_hour: 200,
        }
    }
}

fn parse_default(url: &str) -> Url {
    // The defaults above are valid URLs.
    Url::parse(url).unwrap_or_else(|_| unreachable!("default URL {url} is valid"))
}

impl InstagramConfig {
    /// The retry policy for safe steps.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            ..RetryPolicy::default()
        }
    }

    /// `base_url` with a trailing `/`, so joins keep the version segment.
    pub(crate) fn graph_base(&self) -> Url {
        with_trailing_slash(&self.base_url)
    }

    /// The API version: the last path segment of `base_url` (`v21.0`), if any.
    pub(crate) fn version(&self) -> Option<String> {
        self.base_url
            .path_segments()?
            .rfind(|s| !s.is_empty())
            .map(str::to_string)
    }
}

pub(crate) fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

impl std::fmt::Debug for InstagramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstagramConfig")
            .field("base_url", &self.base_url.as_str())
            .field("upload_base_url", &self.upload_base_url.as_str())
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("oauth_base_url", &self.oauth_base_url.as_str())
            .field("scopes", &self.scopes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("poll_budget_secs", &self.poll_budget_secs)
            .field("background_budget_secs", &self.background_budget_secs)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("calls_per_hour", &self.calls_per_hour)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let config = InstagramConfig {
            client_secret: Some(SecretString::from("app-secret-123".to_string())),
            ..InstagramConfig::default()
        };
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
        assert_eq!(
            config.upload_base_url.as_str(),
            "https://rupload.facebook.com/"
        );
    }

    #[test]
    fn version_and_trailing_slash() {
        let config = InstagramConfig {
            base_url: Url::parse("http://127.0.0.1:9/v21.0").unwrap(),
            ..InstagramConfig::default()
        };
        assert_eq!(config.version().as_deref(), Some("v21.0"));
        assert_eq!(
            config.graph_base().join("1/media").unwrap().as_str(),
            "http://127.0.0.1:9/v21.0/1/media"
        );
    }
}
