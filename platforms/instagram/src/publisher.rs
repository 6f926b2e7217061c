//! [`InstagramPublisher`]: the [`Publisher`] for Instagram.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use fanout_core::{
    async_trait, Capabilities, Connection, HostedMedia, PhotoLimits, Post, PostMedia,
    PublishContext, PublishError, Publisher, Receipt, Throttle, TokenProvider, VideoLimits,
};
use governor::Quota;
use reqwest::Method;

use crate::checkpoint::Journal;
use crate::client::{checked_id, Graph};
use crate::config::InstagramConfig;
use crate::container::{self, Polling};
use crate::errors::PLATFORM;
use crate::finish::{self, Finish};
use crate::oauth::InstagramTokens;
use crate::options::{Options, Surface};
use crate::photos::{self, Target, MAX_CAROUSEL_ITEMS};
use crate::resume;
use crate::video::{self, UploadTarget};

/// Longest caption Instagram accepts, in characters.
pub const MAX_CAPTION_CHARS: usize = 2200;
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
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self::with_client(config, http)
    }

    /// A publisher using `http` (shared connection pool, proxies, test clients).
    pub fn with_client(config: InstagramConfig, http: reqwest::Client) -> Self {
        let per_hour = NonZeroU32::new(config.calls_per_hour.max(1)).unwrap_or(NonZeroU32::MIN);
        let throttle = Throttle::with_quota(PLATFORM, Quota::per_hour(per_hour));
        Self {
            tokens: InstagramTokens::new(config.clone(), http.clone()),
            config,
            http,
            throttle: Arc::new(throttle),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &InstagramConfig {
        &self.config
    }

    pub(crate) fn graph(&self, connection: &Connection) -> Graph {
        Graph {
            http: self.http.clone(),
            base: self.config.graph_base(),
            token: Arc::from(connection.access_token()),
            timeout: Duration::from_secs(self.config.request_timeout_secs.max(1)),
            retry: self.config.retry_policy(),
            throttle: Arc::clone(&self.throttle),
        }
    }

    fn polling(&self) -> Polling {
        Polling {
            interval: Duration::from_millis(self.config.poll_interval_ms.max(1)),
            budget: Duration::from_secs(self.config.poll_budget_secs),
        }
    }
}

/// `GET /me?fields=user_id,username`.
#[derive(Debug, serde::Deserialize)]
struct Me {
    #[serde(default)]
    user_id: Option<serde_json::Value>,
}

async fn ig_user_id(graph: &Graph, connection: &Connection) -> Result<String, PublishError> {
    if let Some(id) = connection.attribute("user_id") {
        return Ok(checked_id(id, "user id")?.to_string());
    }
    let me: Me = graph
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
        Capabilities {
            video: Some(VideoLimits {
                min_bytes: 1,
                max_bytes: MAX_VIDEO_BYTES,
                formats: vec!["video/mp4", "video/quicktime"],
            }),
            photos: Some(PhotoLimits {
                min_count: 1,
                max_count: MAX_CAROUSEL_ITEMS,
                max_bytes_each: MAX_PHOTO_BYTES,
                formats: vec!["image/jpeg"],
            }),
            max_title_chars: Some(MAX_CAPTION_CHARS),
            max_description_chars: None,
        }
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        let prepared = Prepared::from(ctx.post)?;
        let graph = self.graph(ctx.connection);
        let user_id = ig_user_id(&graph, ctx.connection).await?;
        container::check_publishing_quota(&graph, &user_id).await?;
        let journal = Journal::new(
            ctx.progress,
            user_id,
            prepared.first_comment.clone(),
            prepared.warnings.clone(),
        );
        let (target, hosted) = self
            .create(&graph, &ctx, &journal, &prepared, Vec::new())
            .await?;
        finish::finish(self.finish_job(graph, journal, hosted), target).await
    }

    async fn resume(
        &self,
        ctx: PublishContext<'_>,
        checkpoint: &serde_json::Value,
    ) -> Result<Receipt, PublishError> {
        resume::resume(self, ctx, checkpoint).await
    }
}

/// What a post asks of Instagram, read and checked before any call.
pub(crate) struct Prepared<'p> {
    /// The caption (the post's title, trimmed).
    pub(crate) caption: &'p str,
    /// The parsed form options.
    pub(crate) options: Options,
    /// The comment to post once live (never on a story).
    pub(crate) first_comment: Option<String>,
    /// Warnings known before any call.
    pub(crate) warnings: Vec<String>,
}

impl<'p> Prepared<'p> {
    /// Checks the caption and parses the options of `post`.
    pub(crate) fn from(post: &'p Post) -> Result<Self, PublishError> {
        let caption = post.title.trim();
        let chars = caption.chars().count();
        if chars > MAX_CAPTION_CHARS {
            return Err(PublishError::rejected(format!(
                "{PLATFORM} captions are at most {MAX_CAPTION_CHARS} characters; this one has \
                 {chars}. Shorten it and upload again."
            )));
        }
        let photo_count = match &post.media {
            PostMedia::Video(_) => 0,
            PostMedia::Photos(files) => files.len(),
        };
        let options = Options::parse(&post.fields, photo_count)?;
        let mut warnings = Vec::new();
        let mut first_comment = options.first_comment.clone();
        if first_comment.is_some() && options.surface() == Surface::Story {
            first_comment = None;
            warnings.push(format!(
                "{PLATFORM} stories do not take comments, so the first comment was not posted."
            ));
        }
        Ok(Self {
            caption,
            options,
            first_comment,
            warnings,
        })
    }
}

impl InstagramPublisher {
    /// Creates the container (uploading a video, hosting photos) of `ctx.post`, with a
    /// checkpoint before each creating call; `made` are carousel items a stopped publish
    /// already created.
    pub(crate) async fn create(
        &self,
        graph: &Graph,
        ctx: &PublishContext<'_>,
        journal: &Journal<'_>,
        prepared: &Prepared<'_>,
        made: Vec<String>,
    ) -> Result<(Target, Vec<HostedMedia>), PublishError> {
        match &ctx.post.media {
            PostMedia::Video(_) if !made.is_empty() => Err(fanout_core::unknown_outcome(PLATFORM)),
            PostMedia::Video(file) => {
                let container = video::create_and_upload(
                    graph,
                    &self.upload_target(),
                    journal,
                    prepared.caption,
                    &prepared.options,
                    file,
                )
                .await?;
                Ok((Target::Container(container), Vec::new()))
            }
            PostMedia::Photos(files) => {
                photos::create(
                    graph,
                    ctx.media_host,
                    journal,
                    prepared.caption,
                    &prepared.options,
                    files,
                    made,
                )
                .await
            }
        }
    }

    /// Where videos are uploaded.
    pub(crate) fn upload_target(&self) -> UploadTarget<'_> {
        UploadTarget {
            upload_base: &self.config.upload_base_url,
            version: self.config.version(),
        }
    }

    /// The rest of a publish: wait, publish, comment, or answer `PROCESSING`.
    pub(crate) fn finish_job<'a>(
        &self,
        graph: Graph,
        journal: Journal<'a>,
        hosted: Vec<HostedMedia>,
    ) -> Finish<'a> {
        Finish {
            graph,
            polling: self.polling(),
            follow_up_budget: Duration::from_secs(self.config.background_budget_secs),
            journal,
            hosted,
        }
    }
}
