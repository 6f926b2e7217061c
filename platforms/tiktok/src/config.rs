//! `[platforms.tiktok]`: where the Content Posting API lives and how patiently to talk
//! to it.

use std::ops::{Deref, DerefMut};

use fanout_kit::{PlatformConfig, PlatformDefaults};
use serde::Deserialize;

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
/// Every key has a default, so an empty table works. The keys every platform shares
/// are in [`PlatformConfig`] (flattened: they stay at the table's top level, and the
/// config derefs to them), with TikTok's meaning:
///
/// - `base_url` (`https://open.tiktokapis.com/`): `v2/post/publish/...` and the token
///   endpoint `v2/oauth/token/` are joined under it;
/// - `oauth_base_url` (`https://www.tiktok.com/`): the authorization page
///   `v2/auth/authorize/`;
/// - `client_id` (TikTok's **client key**) and `client_secret`, for connecting accounts
///   and refreshing tokens (not used to publish; the secret is hidden in `Debug`);
/// - `scopes` (`user.info.basic`, `video.publish`, `video.upload`), sent
///   comma-separated;
/// - `request_timeout_secs` (60; chunk uploads get one more second per MiB),
///   `max_attempts` (4) and `initial_backoff_ms` (500) for safe steps;
/// - `poll_interval_ms` (2000, doubling up to four times that) and `poll_budget_secs`
///   (120): when TikTok is still processing the accepted upload then, the answer is
///   `"status": "PROCESSING"` with a follow-up, and the engine calls `resume` later;
/// - `background_budget_secs` (300, under the engine's ten-minute publish timeout):
///   in a publish, how much longer the photo links live for TikTok to pull them once
///   the poll budget ended; in each `resume`, how long it polls before answering
///   `PROCESSING` again.
///
/// ```
/// use fanout_tiktok::TikTokConfig;
/// let config = TikTokConfig::default();
/// assert_eq!(config.base_url.as_str(), "https://open.tiktokapis.com/");
/// assert_eq!(config.chunk_size_bytes, 10 * 1024 * 1024);
/// assert_eq!(config.init_calls_per_minute, 6);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
#[serde(default)]
pub struct TikTokConfig {
    /// The keys every platform shares (see above).
    #[serde(flatten)]
    pub common: PlatformConfig<TikTokConfig>,
    /// Preferred size of one uploaded chunk, in bytes. It is kept inside TikTok's
    /// 5 MiB – 64 MB rule (values outside are clamped); a video smaller than one chunk
    /// is sent whole.
    pub chunk_size_bytes: u64,
    /// `init` calls allowed per access token per minute (TikTok's documented 6).
    pub init_calls_per_minute: u32,
    /// Longest wait for a free `init` slot before failing as rate limited, in seconds.
    pub throttle_max_wait_secs: u64,
}

impl PlatformDefaults for TikTokConfig {
    const BASE_URL: &'static str = DEFAULT_BASE_URL;
    const OAUTH_BASE_URL: &'static str = DEFAULT_OAUTH_BASE_URL;
    const SCOPES: &'static [&'static str] = &DEFAULT_SCOPES;
    const POLL_BUDGET_SECS: u64 = 120;
    const BACKGROUND_BUDGET_SECS: u64 = 300;
}

impl Default for TikTokConfig {
    fn default() -> Self {
        Self {
            common: PlatformConfig::default(),
            chunk_size_bytes: DEFAULT_CHUNK_SIZE_BYTES,
            init_calls_per_minute: 6,
            throttle_max_wait_secs: 10,
        }
    }
}

impl Deref for TikTokConfig {
    type Target = PlatformConfig<TikTokConfig>;

    fn deref(&self) -> &Self::Target {
        &self.common
    }
}

impl DerefMut for TikTokConfig {
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
        let mut config = TikTokConfig::default();
        config.common.client_secret = Some(SecretString::from("tt-secret-123".to_string()));
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
    fn every_documented_key_is_read() {
        let config: TikTokConfig = serde_json::from_value(serde_json::json!({
            "base_url": "http://127.0.0.1:9/prefix",
            "oauth_base_url": "http://127.0.0.1:8/",
            "client_id": "ck",
            "client_secret": "cs",
            "scopes": ["video.upload"],
            "request_timeout_secs": 1,
            "poll_interval_ms": 2,
            "poll_budget_secs": 3,
            "background_budget_secs": 4,
            "max_attempts": 5,
            "initial_backoff_ms": 6,
            "chunk_size_bytes": 7,
            "init_calls_per_minute": 8,
            "throttle_max_wait_secs": 9,
        }))
        .unwrap();
        assert_eq!(
            config.api_base().join("v2/x/").unwrap().as_str(),
            "http://127.0.0.1:9/prefix/v2/x/"
        );
        assert_eq!(config.oauth_base_url.as_str(), "http://127.0.0.1:8/");
        assert_eq!(config.credentials().map(|c| c.0), Some("ck"));
        assert_eq!(config.scopes, ["video.upload"]);
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
        assert_eq!(
            (
                config.chunk_size_bytes,
                config.init_calls_per_minute,
                config.throttle_max_wait_secs
            ),
            (7, 8, 9)
        );
    }
}
