//! [`LinkedInPublisher`]: the [`Publisher`] for LinkedIn.

use std::time::Duration;

use fanout_core::{
    async_trait, Capabilities, PhotoLimits, PublishContext, PublishError, Publisher, Receipt,
    TokenProvider, VideoLimits,
};
use fanout_kit::Throttle;
use serde_json::Value;

use crate::checkpoint::Checkpoint;
use crate::client::Api;
use crate::config::LinkedInConfig;
use crate::errors::{LINKEDIN, PLATFORM};
use crate::oauth::LinkedInTokens;
use crate::run::{prepare, Run};

/// Longest commentary LinkedIn accepts, in characters.
pub const MAX_COMMENTARY_CHARS: usize = 3000;
/// Smallest video LinkedIn accepts (75 KB).
pub const MIN_VIDEO_BYTES: u64 = 75 * 1024;
/// Most images in one post.
pub const MAX_IMAGES: usize = 20;
/// Largest image this publisher sends. LinkedIn limits images to 36 megapixels rather
/// than to a size; this bound keeps an upload reasonable.
pub const MAX_PHOTO_BYTES: u64 = 36 * 1024 * 1024;
/// Longest wait for a slot of the daily post quota before failing.
const THROTTLE_MAX_WAIT: Duration = Duration::from_secs(2);

/// Publishes videos, single images and multi-image posts to LinkedIn.
///
/// - The commentary is the post's description when given, else its title, escaped for
///   LinkedIn's "little text"; a video's title is the post's title.
/// - The author is `urn:li:organization:<id>` when the form has
///   `target_linkedin_page_id`; else the connection's `author_urn` attribute; else
///   `urn:li:person:<sub>` from `GET /v2/userinfo` (OpenID Connect, `openid` scope).
/// - The form fields (visibility, page, alternative texts, resharing, first comment)
///   are described in the [crate docs](crate); all are checked before anything is sent,
///   as is the daily post quota (`daily_post_limit` per token).
/// - A failed first comment is a warning on the receipt, never a failure.
/// - Every stage is checkpointed, and [`Publisher::resume`] finishes a publish from its
///   last checkpoint without ever sending a post twice (see the [crate docs](crate)).
///
/// Receipt: `{"post_id": "urn:li:share:…"}` (or `urn:li:ugcPost:…`), with
/// `"warnings"` when the first comment failed; `{"status": "PROCESSING", "video_id"}`
/// with a follow-up when the video was still processing at the end of
/// `poll_budget_secs` (the engine then calls [`Publisher::resume`], which creates the
/// post once the video is available).
///
/// ```
/// use fanout_core::Publisher;
/// use fanout_linkedin::{LinkedInConfig, LinkedInPublisher};
/// let publisher = LinkedInPublisher::new(LinkedInConfig::default());
/// assert_eq!(publisher.id(), "linkedin");
/// assert_eq!(publisher.capabilities().photos.unwrap().max_count, 20);
/// ```
#[derive(Debug)]
pub struct LinkedInPublisher {
    config: LinkedInConfig,
    http: reqwest::Client,
    throttle: Throttle,
    tokens: LinkedInTokens,
}

impl LinkedInPublisher {
    /// A publisher with its own HTTP client.
    pub fn new(config: LinkedInConfig) -> Self {
        Self::with_client(config, fanout_kit::http_client())
    }

    /// A publisher using `http` (shared connection pool, proxies, test clients).
    pub fn with_client(config: LinkedInConfig, http: reqwest::Client) -> Self {
        let throttle = Throttle::per_day(PLATFORM, config.daily_post_limit);
        let tokens = LinkedInTokens::new(config.clone(), http.clone());
        Self {
            config,
            http,
            throttle,
            tokens,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &LinkedInConfig {
        &self.config
    }

    /// One publish (or resume) with `ctx`.
    fn run<'r>(&'r self, ctx: &'r PublishContext<'r>) -> Run<'r> {
        Run {
            api: Api::new(
                self.config
                    .session(LINKEDIN, &self.http, ctx.connection.access_token()),
                &self.config.api_version,
            ),
            ctx,
            polling: self.config.polling(),
            follow_up_budget: Duration::from_secs(self.config.background_budget_secs),
        }
    }
}

#[async_trait]
impl Publisher for LinkedInPublisher {
    fn id(&self) -> &'static str {
        "linkedin"
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
                min_bytes: MIN_VIDEO_BYTES,
                max_bytes: self.config.max_video_bytes.max(MIN_VIDEO_BYTES),
                formats: vec!["video/mp4"],
            })
            .with_photos(PhotoLimits {
                min_count: 1,
                max_count: MAX_IMAGES,
                max_bytes_each: MAX_PHOTO_BYTES,
                formats: vec!["image/jpeg", "image/png", "image/gif"],
            })
            // The title becomes the commentary when there is no description.
            .with_max_title_chars(MAX_COMMENTARY_CHARS)
            .with_max_description_chars(MAX_COMMENTARY_CHARS)
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        // Everything the form decides is checked before any network call.
        let (options, commentary) = prepare(ctx.post)?;
        self.throttle
            .acquire(ctx.connection.access_token(), THROTTLE_MAX_WAIT)
            .await?;
        self.run(&ctx).start(&options, &commentary).await
    }

    /// Continues from a checkpoint this publisher recorded (see the [crate
    /// docs](crate) for what each stage does); one it did not record answers
    /// [`fanout_core::unknown_outcome`].
    async fn resume(
        &self,
        ctx: PublishContext<'_>,
        checkpoint: &Value,
    ) -> Result<Receipt, PublishError> {
        let checkpoint = Checkpoint::from_value(checkpoint)?;
        self.run(&ctx).resume(checkpoint).await
    }
}
