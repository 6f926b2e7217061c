//! The `Publisher` trait: one implementation per platform.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::accounts::Connection;
use crate::error::PublishError;
use crate::media_host::MediaHost;
use crate::post::Post;
use crate::tokens::TokenProvider;

/// Publishes posts to one platform. Object-safe; used as `Arc<dyn Publisher>`.
///
/// The engine checks a post against [`Publisher::capabilities`] before calling
/// [`Publisher::publish`], so an implementation may rely on the media kind being
/// supported and counts, sizes and formats being within its declared limits.
///
/// A minimal publisher:
///
/// ```
/// use async_trait::async_trait;
/// use fanout_core::{Capabilities, PublishContext, PublishError, Publisher, Receipt};
///
/// struct Echo;
///
/// #[async_trait]
/// impl Publisher for Echo {
///     fn id(&self) -> &'static str { "echo" }
///     fn display_name(&self) -> &'static str { "Echo" }
///     fn capabilities(&self) -> Capabilities { Capabilities::default() }
///     async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
///         Ok(Receipt::new().with("post_id", ctx.post.title.clone()))
///     }
/// }
/// ```
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// The platform's id as clients name it in `platform[]` (`"tiktok"`).
    fn id(&self) -> &'static str;

    /// The platform's name as people write it (`"TikTok"`).
    fn display_name(&self) -> &'static str;

    /// What the platform accepts.
    fn capabilities(&self) -> Capabilities;

    /// The platform's OAuth operations, when this publisher supports them. The engine
    /// then refreshes tokens before they expire and after a platform refuses one.
    fn tokens(&self) -> Option<&dyn TokenProvider> {
        None
    }

    /// Publishes one post for one connected account.
    ///
    /// Implementations must not repeat a publishing call whose outcome is unknown, and
    /// must never put a token or signed URL into an error message.
    ///
    /// Return [`crate::ErrorKind::TokenExpired`] only when nothing was published: the
    /// engine then refreshes the token and calls `publish` once more. A token refused
    /// after the platform accepted the post (say, on a status check) is not an expired
    /// token for the engine: answer with what is known (e.g. `"status": "PROCESSING"`)
    /// instead.
    ///
    /// Before each call that may create something on the platform, and after each call
    /// that returned an id worth keeping, call [`PublishContext::checkpoint`] with what
    /// [`Publisher::resume`] would need to find out how far the publish got. When the
    /// platform is still processing at the end of the poll budget, answer with a
    /// receipt carrying `"status": "PROCESSING"` and a [`Receipt::with_follow_up`]
    /// checkpoint: the engine records the receipt and calls [`Publisher::resume`] later
    /// (never a detached task: follow-ups are durable and survive restarts).
    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError>;

    /// Continues a publish from its last checkpoint: a follow-up the publisher asked
    /// for, or a publish that was in flight when fanout stopped.
    ///
    /// Implementations find out what the platform did from the ids in `checkpoint` (a
    /// status check), finish what is safe to finish, and never repeat a publishing call
    /// whose outcome is unknown. The default answers
    /// [`crate::ErrorKind::OutcomeUnknown`] with [`unknown_outcome`]'s sentence.
    async fn resume(
        &self,
        ctx: PublishContext<'_>,
        checkpoint: &Value,
    ) -> Result<Receipt, PublishError> {
        let _ = (ctx, checkpoint);
        Err(unknown_outcome(self.display_name()))
    }
}

/// The failure of a publish that was in flight when fanout stopped and that cannot be
/// resolved: the post may or may not exist, so it is not published again.
///
/// ```
/// let err = fanout_core::unknown_outcome("TikTok");
/// assert_eq!(err.kind(), fanout_core::ErrorKind::OutcomeUnknown);
/// assert!(err.message().starts_with("fanout stopped while publishing to TikTok"));
/// ```
pub fn unknown_outcome(platform: &str) -> PublishError {
    PublishError::outcome_unknown(format!(
        "fanout stopped while publishing to {platform}, so the outcome is unknown: the post \
         may or may not have been published. Check the {platform} account before retrying."
    ))
}

/// Where a publisher records how far a publish got (see [`PublishContext::checkpoint`]).
#[async_trait]
pub trait Progress: Send + Sync {
    /// Durably records `state` as the publish's latest checkpoint, replacing the last.
    async fn checkpoint(&self, state: Value) -> Result<(), PublishError>;
}

/// Keeps nothing: for publishes outside a job (tests, direct calls).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

#[async_trait]
impl Progress for NoProgress {
    async fn checkpoint(&self, _state: Value) -> Result<(), PublishError> {
        Ok(())
    }
}

/// Everything a publisher gets for one publish.
#[non_exhaustive]
pub struct PublishContext<'a> {
    /// The post, with this platform's overrides applied.
    pub post: &'a Post,
    /// The profile's connection to this platform (tokens, account ids).
    pub connection: &'a Connection,
    /// Turns a spooled file into a URL the platform can pull.
    pub media_host: &'a dyn MediaHost,
    /// Where checkpoints go ([`NoProgress`] unless the engine runs a job).
    pub progress: &'a dyn Progress,
}

impl<'a> PublishContext<'a> {
    /// Bundles the parts of one publish; checkpoints go nowhere
    /// ([`PublishContext::with_progress`] changes that).
    pub fn new(post: &'a Post, connection: &'a Connection, media_host: &'a dyn MediaHost) -> Self {
        Self {
            post,
            connection,
            media_host,
            progress: &NoProgress,
        }
    }

    /// The same context recording checkpoints in `progress`.
    pub fn with_progress(mut self, progress: &'a dyn Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Durably records how far the publish got (the platform's ids so far), so that
    /// [`Publisher::resume`] can find out what happened if fanout stops mid-publish.
    /// Returns once the checkpoint is stored; an error means it could not be, and the
    /// publish should stop before its next publishing call. Once the post is live, a
    /// failed checkpoint must not turn it into a failure: answer the receipt, skip
    /// what is left (a first comment) and say so in a warning.
    pub async fn checkpoint(&self, state: Value) -> Result<(), PublishError> {
        self.progress.checkpoint(state).await
    }
}

/// What a platform accepts. Platform differences are data, checked before any network
/// call.
///
/// It will grow: build it with [`Capabilities::new`] and the `with_` methods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Video limits, or `None` when the platform takes no video.
    pub video: Option<VideoLimits>,
    /// Photo limits, or `None` when the platform takes no photos.
    pub photos: Option<PhotoLimits>,
    /// Longest title, in characters, when the platform limits it.
    pub max_title_chars: Option<usize>,
    /// Longest description / caption, in characters, when the platform limits it.
    pub max_description_chars: Option<usize>,
}

impl Capabilities {
    /// Accepts nothing yet: add what the platform takes with the `with_` methods.
    ///
    /// ```
    /// use fanout_core::{Capabilities, PhotoLimits, VideoLimits};
    /// let caps = Capabilities::new()
    ///     .with_video(VideoLimits { min_bytes: 1, max_bytes: 1 << 30, formats: vec!["video/mp4"] })
    ///     .with_photos(PhotoLimits { min_count: 1, max_count: 4, max_bytes_each: 8 << 20, formats: vec![] })
    ///     .with_max_title_chars(280);
    /// assert_eq!(caps.max_title_chars, Some(280));
    /// assert!(caps.max_description_chars.is_none());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes video within `limits`.
    pub fn with_video(mut self, limits: VideoLimits) -> Self {
        self.video = Some(limits);
        self
    }

    /// Takes photos within `limits`.
    pub fn with_photos(mut self, limits: PhotoLimits) -> Self {
        self.photos = Some(limits);
        self
    }

    /// Titles of at most `chars` characters.
    pub fn with_max_title_chars(mut self, chars: usize) -> Self {
        self.max_title_chars = Some(chars);
        self
    }

    /// Descriptions (captions) of at most `chars` characters.
    pub fn with_max_description_chars(mut self, chars: usize) -> Self {
        self.max_description_chars = Some(chars);
        self
    }
}

/// Video limits of a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoLimits {
    /// Smallest accepted file, in bytes.
    pub min_bytes: u64,
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Accepted MIME types (`video/mp4`, …); empty means any `video/*`.
    pub formats: Vec<&'static str>,
}

/// Photo limits of a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Fewest photos in one post.
    pub min_count: usize,
    /// Most photos in one post.
    pub max_count: usize,
    /// Largest accepted photo, in bytes.
    pub max_bytes_each: u64,
    /// Accepted MIME types (`image/jpeg`, …); empty means any `image/*`.
    pub formats: Vec<&'static str>,
}

/// The ids a platform returned for a published post; they become the fields of
/// `results.<platform>` beside `"success": true`.
///
/// ```
/// use fanout_core::Receipt;
/// let receipt = Receipt::new().with("publish_id", "123").with("status", "PUBLISH_SUCCESS");
/// assert_eq!(receipt.get("status").and_then(|v| v.as_str()), Some("PUBLISH_SUCCESS"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Receipt {
    fields: Map<String, Value>,
    follow_up: Option<Value>,
}

impl Receipt {
    /// An empty receipt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one field (`"success"` is reserved and set by the engine).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// One field's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// All fields.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Consumes the receipt into its fields.
    pub fn into_fields(self) -> Map<String, Value> {
        self.fields
    }

    /// Asks the engine to call [`Publisher::resume`] with `checkpoint` later: the
    /// platform accepted the post and still works on it. Not shown to clients.
    ///
    /// ```
    /// use fanout_core::Receipt;
    /// let receipt = Receipt::new()
    ///     .with("status", "PROCESSING")
    ///     .with_follow_up(serde_json::json!({"container_id": "17890"}));
    /// assert_eq!(receipt.follow_up().unwrap()["container_id"], "17890");
    /// assert!(receipt.get("container_id").is_none());
    /// ```
    pub fn with_follow_up(mut self, checkpoint: Value) -> Self {
        self.follow_up = Some(checkpoint);
        self
    }

    /// The follow-up checkpoint, when the publish is not finished.
    pub fn follow_up(&self) -> Option<&Value> {
        self.follow_up.as_ref()
    }

    /// Takes the follow-up checkpoint out of the receipt.
    pub fn take_follow_up(&mut self) -> Option<Value> {
        self.follow_up.take()
    }
}
