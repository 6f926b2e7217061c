//! `[platforms.tiktok]`: where the Content Posting API lives and how patiently to talk
//! to it.

use std::time::Duration;

use fanout_core::secrecy::SecretString;
use fanout_core::RetryPolicy;
use serde::Deserialize;
use url::Url;

/// The Content Posting API host used unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://open.tiktokapis.com/";
/// The host of TikTok's authorization page used unless configured otherwise.
pub const DEFAULT_OAUTH_BASE_URL: &str = "https://www.tiktok.com/";
/// The scopes asked for when connecting an account unless configured otherwise.
pub const DEFAULT_SCOPES: [&str; 3] = ["user.info.basic", "video.publish", "video.upload"];
/// The chunk size used unless configured otherwise: 10 MiB.
pub const DEFAULT_CHUNK_SIZE_BYTES: u64 = 10 * 1024 * 1024;

/// Settings of the TikTok publisher, filled by figment from `[platforms.tiktok]`.
///
/// Every field has a default, so an empty table works. `Debug` never shows
/// `client_secret`.
///
/// ```
/// use fanout_tiktok::TikTokConfig;
/// let config = TikTokConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://open.tiktokapis.com/");
/// assert_eq!(config.chunk_size_bytes, 10 * 1024 * 1024);
/// assert_eq!(config.init_calls_per_minute, 6);
/// ```
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct TikTokConfig {
    /// API base (`https://open.tiktokapis.com/`); `v2/post/publish/...` is joined under
    /// it.
    pub base_url: Url,
    /// The TikTok app's client key (TikTok's `client_key`), for connecting accounts and
    /// refreshing tokens (not used to publish).
    pub client_id: Option<String>,
    /// The TikTok app's client secret (hidden in `Debug`).
    pub client_secret: Option<SecretString>,
    /// Host of TikTok's authorization page (`https://www.tiktok.com/`);
    /// `v2/auth/authorize/` is joined under it. The token endpoint is
    /// `v2/oauth/token/` under `base_url`.
    pub oauth_base_url: Url,
    /// Scopes asked for when connecting an account (`user.info.basic`, `video.publish`,
    /// `video.upload`); sent comma-separated.
    pub scopes: Vec<String>,
    /// Preferred size of one uploaded chunk, in bytes. It is kept inside TikTok's
    /// 5 MiB – 64 MB rule (values outside are clamped); a video smaller than one chunk
    /// is sent whole.
    pub chunk_size_bytes: u64,
    /// Longest wait for one API call, in seconds (chunk uploads get one more second per
    /// MiB).
    pub request_timeout_secs: u64,
    /// First wait between status polls, in milliseconds; it doubles up to four times
    /// this value.
    pub poll_interval_ms: u64,
    /// Longest time to wait for a post to be published before answering, in seconds.
    /// When TikTok is still processing the accepted upload then, the answer is
    /// `"status": "PROCESSING"` with a follow-up: the engine calls `resume` later, which
    /// polls again (nothing runs in the background).
    pub poll_budget_secs: u64,
    /// Longest further wait, in seconds: in a publish, for TikTok to pull every photo
    /// once the poll budget ended (the hosted links live until it has, or until this
    /// wait ends); in each `resume`, for the post to be published before answering
    /// `PROCESSING` with a follow-up again. Default 300 (under the engine's ten-minute
    /// publish timeout).
    pub background_budget_secs: u64,
    /// Attempts in total for a step that is safe to repeat.
    pub max_attempts: u32,
    /// Wait before the first retry of a safe step, in milliseconds; it doubles.
    pub initial_backoff_ms: u64,
    /// `init` calls allowed per access token per minute (TikTok's documented 6).
    pub init_calls_per_minute: u32,
    /// Longest wait for a free `init` slot before failing as rate limited, in seconds.
    pub throttle_max_wait_secs: u64,
}

impl Default for TikTokConfig {
    fn default() -> Self {
        Self {
            base_url: Url::parse(DEFAULT_BASE_URL)
                .unwrap_or_else(|_| unreachable!("the default base URL is valid")),
            client_id: None,
            client_secret: None,
            oauth_base_url: Url::parse(DEFAULT_OAUTH_BASE_URL)
                .unwrap_or_else(|_| unreachable!("the default OAuth base URL is valid")),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            chunk_size_bytes: DEFAULT_CHUNK_SIZE_BYTES,
            request_timeout_secs: 60,
            poll_interval_ms: 2000,
            poll_budget_secs: 120,
            background_budget_secs: 300,
            max_attempts: 4,
            initial_backoff_ms: 500,
            init_calls_per_minute: 6,
            throttle_max_wait_secs: 10,
        }
    }
}

impl TikTokConfig {
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
        with_trailing_slash(&self.base_url)
    }

    /// `oauth_base_url` with a trailing `/`.
    pub(crate) fn oauth_base(&self) -> Url {
        with_trailing_slash(&self.oauth_base_url)
    }
}

fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

impl std::fmt::Debug for TikTokConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokConfig")
            .field("base_url", &self.base_url.as_str())
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("oauth_base_url", &self.oauth_base_url.as_str())
            .field("scopes", &self.scopes)
            .field("chunk_size_bytes", &self.chunk_size_bytes)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("poll_budget_secs", &self.poll_budget_secs)
            .field("background_budget_secs", &self.background_budget_secs)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("init_calls_per_minute", &self.init_calls_per_minute)
            .field("throttle_max_wait_secs", &self.throttle_max_wait_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let config = TikTokConfig {
            client_secret: Some(SecretString::from("tt-secret-123".to_string())),
            ..TikTokConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("tt-secret-123"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn partial_tables_keep_defaults() {
        let config: TikTokConfig =
            serde_json::from_value(serde_json::json!({"poll_interval_ms": 5})).unwrap();
        assert_eq!(config.poll_interval_ms, 5);
        assert_eq!(config.poll_budget_secs, 120);
        assert_eq!(config.background_budget_secs, 300);
        assert_eq!(config.request_timeout_secs, 60);
        assert_eq!(config.max_attempts, 4);
        assert_eq!(config.initial_backoff_ms, 500);
        assert_eq!(config.chunk_size_bytes, DEFAULT_CHUNK_SIZE_BYTES);
        assert_eq!(config.oauth_base_url.as_str(), "https://www.tiktok.com/");
        assert_eq!(
            config.scopes,
            ["user.info.basic", "video.publish", "video.upload"]
        );
    }

    #[test]
    fn base_keeps_a_path_prefix() {
        let config = TikTokConfig {
            base_url: Url::parse("http://127.0.0.1:9/prefix").unwrap(),
            ..TikTokConfig::default()
        };
        assert_eq!(
            config.api_base().join("v2/x/").unwrap().as_str(),
            "http://127.0.0.1:9/prefix/v2/x/"
        );
    }
}
