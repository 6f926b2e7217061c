//! [`TikTokPublisher`]: the [`Publisher`] for TikTok.

use std::time::Duration;

use fanout_core::{
    async_trait, Capabilities, Connection, PhotoLimits, PostMedia, PublishContext, PublishError,
    Publisher, Receipt, TokenProvider, VideoLimits,
};
use fanout_kit::Throttle;
use serde_json::Value;

use crate::client::Api;
use crate::config::TikTokConfig;
use crate::creator;
use crate::errors::{PLATFORM, TIKTOK};
use crate::oauth::TikTokTokens;
use crate::options::{Options, FIRST_COMMENT_WARNING};
use crate::photos::{self, MAX_PHOTOS, MAX_PHOTO_DESCRIPTION_CHARS};
use crate::resume;
use crate::video::{self, MAX_VIDEO_TITLE_CHARS};

/// Largest video TikTok accepts, in bytes (4 GB).
pub const MAX_VIDEO_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Largest photo TikTok accepts, in bytes (20 MB).
pub const MAX_PHOTO_BYTES: u64 = 20 * 1024 * 1024;

/// Publishes Direct Post videos and photo posts to TikTok.
///
/// The form's TikTok fields are checked first (see the crate docs for each and where
/// it goes); then every publish reads `creator_info/query`: the form's `privacy_level`
/// must be one of the creator's `privacy_level_options` (the first option when
/// absent).
///
/// Titles: up to 2200 characters for a video (the caption), 90 for photos (whose
/// description may have 4000); `max_title_chars` in the capabilities is the video
/// limit, the photo limit is checked before any call.
///
/// Receipt: `{"publish_id": <TikTok's publish id>, "status": "PUBLISH_SUCCESS"}`
/// (`"SEND_TO_USER_INBOX"` for a draft, `"PROCESSING"` with a follow-up for
/// [`Publisher::resume`] when the poll budget ended first), plus
/// `"warnings": [<sentence>]` when a first comment was asked for. Checkpoints and what
/// `resume` does from each are in the crate docs.
///
/// ```
/// use fanout_core::Publisher;
/// use fanout_tiktok::{TikTokConfig, TikTokPublisher};
/// let publisher = TikTokPublisher::new(TikTokConfig::default());
/// assert_eq!(publisher.id(), "tiktok");
/// assert_eq!(publisher.capabilities().photos.unwrap().max_count, 35);
/// ```
#[derive(Debug)]
pub struct TikTokPublisher {
    config: TikTokConfig,
    http: reqwest::Client,
    init_throttle: Throttle,
    tokens: TikTokTokens,
}

impl TikTokPublisher {
    /// A publisher with its own HTTP client.
    pub fn new(config: TikTokConfig) -> Self {
        Self::with_client(config, fanout_kit::http_client())
    }

    /// A publisher using `http` (shared connection pool, proxies, test clients).
    pub fn with_client(config: TikTokConfig, http: reqwest::Client) -> Self {
        Self {
            init_throttle: Throttle::per_minute(PLATFORM, config.init_calls_per_minute),
            tokens: TikTokTokens::new(config.clone(), http.clone()),
            config,
            http,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &TikTokConfig {
        &self.config
    }

    fn api<'a>(&'a self, connection: &Connection) -> Api<'a> {
        Api {
            session: self
                .config
                .session(TIKTOK, &self.http, connection.access_token()),
            init_throttle: &self.init_throttle,
            throttle_wait: Duration::from_secs(self.config.throttle_max_wait_secs),
        }
    }
}

#[async_trait]
impl Publisher for TikTokPublisher {
    fn id(&self) -> &'static str {
        "tiktok"
    }

    fn display_name(&self) -> &'static str {
        PLATFORM
    }

    fn tokens(&self) -> Option<&dyn TokenProvider> {
        Some(&self.tokens)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_video(VideoLimits {
                min_bytes: 1,
                max_bytes: MAX_VIDEO_BYTES,
                formats: vec!["video/mp4", "video/quicktime", "video/webm"],
            })
            .with_photos(PhotoLimits {
                min_count: 1,
                max_count: MAX_PHOTOS,
                max_bytes_each: MAX_PHOTO_BYTES,
                formats: vec!["image/jpeg", "image/webp"],
            })
            .with_max_title_chars(MAX_VIDEO_TITLE_CHARS)
            .with_max_description_chars(MAX_PHOTO_DESCRIPTION_CHARS)
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        // Every option is checked before any call.
        let options = Options::parse(&ctx.post.fields)?;
        let api = self.api(ctx.connection);
        let creator = creator::query(&api).await?;
        let receipt = match &ctx.post.media {
            PostMedia::Video(file) => {
                video::publish_video(
                    &api,
                    self.config.polling(),
                    self.config.chunk_size_bytes,
                    &ctx,
                    &options,
                    &creator,
                    file,
                )
                .await
            }
            PostMedia::Photos(files) => {
                photos::publish_photos(&api, self.config.polling(), &ctx, &options, &creator, files)
                    .await
            }
        }?;
        Ok(with_warnings(receipt, options.first_comment.is_some()))
    }

    /// Continues a publish from its checkpoint (see the crate docs): never a second
    /// `init`; a post TikTok has is polled for at most `background_budget_secs`, an
    /// interrupted video upload goes on from where TikTok stopped, and the
    /// `initializing` checkpoint answers [`fanout_core::unknown_outcome`].
    async fn resume(
        &self,
        ctx: PublishContext<'_>,
        checkpoint: &Value,
    ) -> Result<Receipt, PublishError> {
        let api = self.api(ctx.connection);
        let receipt = resume::resume(&api, self.config.polling(), &ctx, checkpoint).await?;
        // The options were checked when the publish started.
        let first_comment = Options::parse(&ctx.post.fields)
            .map(|o| o.first_comment.is_some())
            .unwrap_or(false);
        Ok(with_warnings(receipt, first_comment))
    }
}

/// Adds the first-comment warning when one was asked for: TikTok's Content Posting API
/// has no comment endpoint.
fn with_warnings(receipt: Receipt, first_comment: bool) -> Receipt {
    if first_comment {
        receipt.with("warnings", vec![FIRST_COMMENT_WARNING])
    } else {
        receipt
    }
}
