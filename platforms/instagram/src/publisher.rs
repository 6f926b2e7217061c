//! [`InstagramPublisher`]: the [`Publisher`] for Instagram.

use std::sync::Arc;
use std::time::Duration;

use fanout_core::{
    async_trait, Capabilities, Connection, PhotoLimits, PublishContext, PublishError, Publisher,
    Receipt, TokenProvider, VideoLimits,
};
use fanout_kit::Throttle;
use reqwest::Method;

use crate::checkpoint::Journal;
use crate::client::{checked_id, Api};
use crate::config::InstagramConfig;
use crate::container;
use crate::errors::{INSTAGRAM, PLATFORM};
use crate::finish;
use crate::oauth::InstagramTokens;
use crate::photos::MAX_CAROUSEL_ITEMS;
use crate::resume;
use crate::run::{Prepared, Run, MAX_CAPTION_CHARS};
use crate::video::UploadTarget;

/// Largest photo Instagram accepts, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 8 * 1024 * 1024;
/// Largest video this publisher sends through the resumable upload, in bytes.
pub const MAX_VIDEO_BYTES: u64 = 1024 * 1024 * 1024;

/// Publishes reels, stories, photos and carousels to Instagram.
///
/// The caption is the post's title. The IG user id is the connection's `user_id`
/// attribute; when a connection lacks it, `GET /me?fields=user_id,username` (Instagram
/// API with Instagram Login) supplies it.
///
/// ```
/// use fanout_core::Publisher;
/// use fanout_instagram::{InstagramConfig, InstagramPublisher};
/// let publisher = InstagramPublisher::new(InstagramConfig::default());
/// assert_eq!(publisher.id(), "instagram");
/// assert_eq!(publisher.capabilities().photos.unwrap().max_count, 10);
/// ```
#[derive(Debug)]
pub struct InstagramPublisher {
    config: InstagramConfig,
    http: reqwest::Client,
    throttle: Arc<Throttle>,
    tokens: InstagramTokens,
}

impl InstagramPublisher {
    /// A publisher with its own HTTP client.
    pub fn new(config: InstagramConfig) -> Self {
        Self::with_client(config, fanout_kit::http_client())
    }

    /// A publisher using `http` (shared connection pool, proxies, test clients).
    pub fn with_client(config: InstagramConfig, http: reqwest::Client) -> Self {
        Self {
            throttle: Arc::new(Throttle::per_hour(PLATFORM, config.calls_per_hour)),
            tokens: InstagramTokens::new(config.clone(), http.clone()),
            config,
            http,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &InstagramConfig {
        &self.config
    }

    /// One publish (or resume) with `connection`'s token.
    fn run(&self, connection: &Connection) -> Run {
        Run {
            api: Api {
                session: self
                    .config
                    .session(INSTAGRAM, &self.http, connection.access_token()),
                throttle: Arc::clone(&self.throttle),
            },
            upload: UploadTarget {
                upload_base: self.config.upload_base(),
                version: self.config.version(),
            },
            polling: self.config.polling(),
            follow_up_budget: Duration::from_secs(self.config.background_budget_secs),
        }
    }
}

/// `GET /me?fields=user_id,username`.
#[derive(Debug, serde::Deserialize)]
struct Me {
    #[serde(default)]
    user_id: Option<serde_json::Value>,
}

async fn ig_user_id(api: &Api, connection: &Connection) -> Result<String, PublishError> {
    if let Some(id) = connection.attribute("user_id") {
        return Ok(checked_id(id, "user id")?.to_string());
    }
    let me: Me = api
        .safe(
            Method::GET,
            "me",
            &[("fields", "user_id,username".to_string())],
            "the account lookup",
        )
        .await?;
    let id = match me.user_id {
        Some(serde_json::Value::String(id)) => id,
        Some(serde_json::Value::Number(id)) => id.to_string(),
        _ => {
            return Err(PublishError::rejected(format!(
                "{PLATFORM} did not say which professional account this token belongs to; \
                 reconnect the {PLATFORM} account."
            )))
        }
    };
    Ok(checked_id(&id, "user id")?.to_string())
}

#[async_trait]
impl Publisher for InstagramPublisher {
    fn id(&self) -> &'static str {
        "instagram"
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
                formats: vec!["video/mp4", "video/quicktime"],
            })
            .with_photos(PhotoLimits {
                min_count: 1,
                max_count: MAX_CAROUSEL_ITEMS,
                max_bytes_each: MAX_PHOTO_BYTES,
                formats: vec!["image/jpeg"],
            })
            .with_max_title_chars(MAX_CAPTION_CHARS)
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        let prepared = Prepared::from(ctx.post)?;
        let run = self.run(ctx.connection);
        let user_id = ig_user_id(&run.api, ctx.connection).await?;
        container::check_publishing_quota(&run.api, &user_id).await?;
        let journal = Journal::new(
            ctx.progress,
            user_id,
            prepared.first_comment.clone(),
            prepared.warnings.clone(),
        );
        let (target, hosted) = run.create(&ctx, &journal, &prepared, Vec::new()).await?;
        finish::finish(run.finish_job(journal, hosted), target).await
    }

    async fn resume(
        &self,
        ctx: PublishContext<'_>,
        checkpoint: &serde_json::Value,
    ) -> Result<Receipt, PublishError> {
        resume::resume(&self.run(ctx.connection), ctx, checkpoint).await
    }
}
