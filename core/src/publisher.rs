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
    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError>;
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
}

impl<'a> PublishContext<'a> {
    /// Bundles the parts of one publish.
    pub fn new(post: &'a Post, connection: &'a Connection, media_host: &'a dyn MediaHost) -> Self {
        Self {
            post,
            connection,
            media_host,
        }
    }
}

/// What a platform accepts. Platform differences are data, checked before any network
/// call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}
