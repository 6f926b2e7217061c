//! [`LinkedInPublisher`]: the [`Publisher`] for LinkedIn.

use std::time::Duration;

use fanout_core::secrecy::SecretString;
use fanout_core::{
    async_trait, Capabilities, Connection, PhotoLimits, PostMedia, PublishContext, PublishError,
    Publisher, Receipt, Throttle, TokenProvider, VideoLimits,
};
use serde_json::{json, Value};

use crate::author;
use crate::background::Finish;
use crate::client::Api;
use crate::commentary::commentary;
use crate::comments;
use crate::config::LinkedInConfig;
use crate::errors::PLATFORM;
use crate::oauth::LinkedInTokens;
use crate::options::Options;
use crate::photos;
use crate::posts;
use crate::video::{self, Polling, Readiness};

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
///
/// Receipt: `{"post_id": "urn:li:share:…"}` (or `urn:li:ugcPost:…`), with
/// `"warnings"` when the first comment failed; `{"status": "PROCESSING", "video_id"}`
/// when the video was still processing at the end of `poll_budget_secs` (the post is
/// then created by a detached task).
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
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self::with_client(config, http)
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

    fn api<'a>(&'a self, connection: &'a Connection) -> Api<'a> {
        Api {
            http: &self.http,
            base: self.config.api_base(),
            token: connection.access_token(),
            version: &self.config.api_version,
            timeout: Duration::from_secs(self.config.request_timeout_secs.max(1)),
            retry: self.config.retry_policy(),
        }
    }

    fn polling(&self) -> Polling {
        Polling {
            interval: Duration::from_millis(self.config.poll_interval_ms.max(1)),
            budget: Duration::from_secs(self.config.poll_budget_secs),
        }
    }

    /// Hands a video that is still processing to a detached task that posts it once
    /// `AVAILABLE` (within `background_budget_secs`).
    fn finish_later(
        &self,
        connection: &Connection,
        video: String,
        body: Value,
        author: String,
        first_comment: Option<&str>,
    ) {
        tracing::info!(
            platform = "linkedin",
            %video,
            "video still processing; the post will be created when it is available"
        );
        Finish {
            http: self.http.clone(),
            base: self.config.api_base(),
            token: SecretString::from(connection.access_token().to_string()),
            version: self.config.api_version.clone(),
            timeout: Duration::from_secs(self.config.request_timeout_secs.max(1)),
            retry: self.config.retry_policy(),
            polling: Polling {
                budget: Duration::from_secs(self.config.background_budget_secs),
                ..self.polling()
            },
            video,
            body,
            author,
            first_comment: first_comment.map(str::to_string),
        }
        .spawn();
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
        Capabilities {
            video: Some(VideoLimits {
                min_bytes: MIN_VIDEO_BYTES,
                max_bytes: self.config.max_video_bytes.max(MIN_VIDEO_BYTES),
                formats: vec!["video/mp4"],
            }),
            photos: Some(PhotoLimits {
                min_count: 1,
                max_count: MAX_IMAGES,
                max_bytes_each: MAX_PHOTO_BYTES,
                formats: vec!["image/jpeg", "image/png", "image/gif"],
            }),
            // The title becomes the commentary when there is no description.
            max_title_chars: Some(MAX_COMMENTARY_CHARS),
            max_description_chars: Some(MAX_COMMENTARY_CHARS),
        }
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        let post = ctx.post;
        // Everything the form decides is checked before any network call.
        let options = Options::parse(&post.fields)?;
        if let PostMedia::Photos(files) = &post.media {
            options.check_alt_text_count(files.len())?;
        }
        let commentary = commentary(post);
        self.throttle
            .acquire(ctx.connection.access_token(), THROTTLE_MAX_WAIT)
            .await?;

        let api = self.api(ctx.connection);
        let author = author::resolve(&api, ctx.connection, options.page.clone()).await?;
        let comment = options.first_comment.as_deref();
        match &post.media {
            PostMedia::Video(file) => {
                let urn = video::upload(&api, file, &author).await?;
                let content = json!({ "media": { "title": post.title, "id": urn } });
                let body = posts::body(&author, &commentary, &options, content);
                match video::wait_until_available(&api, &urn, self.polling()).await? {
                    Readiness::Available => {}
                    Readiness::StillProcessing => {
                        self.finish_later(ctx.connection, urn.clone(), body, author, comment);
                        return Ok(Receipt::new()
                            .with("status", "PROCESSING")
                            .with("video_id", urn));
                    }
                }
                let (post_id, warnings) = create_and_comment(&api, &body, &author, comment).await?;
                Ok(receipt(post_id, warnings))
            }
            PostMedia::Photos(files) => {
                let urns = photos::upload(&api, files, &author).await?;
                let given: Vec<&str> = options.alt_texts.iter().map(String::as_str).collect();
                let content = photos::content(&urns, &photos::alt_texts(&given, urns.len()));
                let body = posts::body(&author, &commentary, &options, content);
                let (post_id, warnings) = create_and_comment(&api, &body, &author, comment).await?;
                Ok(receipt(post_id, warnings))
            }
        }
    }
}

/// Creates the post, then its first comment; answers the post urn and the warnings
/// (a failed comment never fails the post).
pub(crate) async fn create_and_comment(
    api: &Api<'_>,
    body: &Value,
    author: &str,
    first_comment: Option<&str>,
) -> Result<(String, Vec<String>), PublishError> {
    let post_id = posts::create(api, body).await?;
    tracing::info!(platform = "linkedin", %post_id, "published");
    let mut warnings = Vec::new();
    if let Some(text) = first_comment {
        match comments::post_first_comment(api, &post_id, author, text).await {
            Ok(comment_id) => {
                tracing::info!(platform = "linkedin", %post_id, ?comment_id, "first comment posted")
            }
            Err(err) => {
                tracing::warn!(platform = "linkedin", %post_id, error = %err, "first comment failed");
                warnings.push(comments::warning(&err));
            }
        }
    }
    Ok((post_id, warnings))
}

/// `{"post_id"}`, plus `"warnings"` when there are any.
fn receipt(post_id: String, warnings: Vec<String>) -> Receipt {
    let receipt = Receipt::new().with("post_id", post_id);
    if warnings.is_empty() {
        receipt
    } else {
        receipt.with("warnings", warnings)
    }
}
