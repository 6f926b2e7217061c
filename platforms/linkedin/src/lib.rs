//! fanout publisher for the LinkedIn Posts, Videos and Images APIs (the versioned
//! `/rest` APIs).
//!
//! - Videos are registered (`initializeUpload`), sent part by part straight from the
//!   spooled file, finalized with the parts' ETags, and polled until `AVAILABLE`.
//! - Images (one, or 2–20 in a multi-image post) are registered and uploaded one by
//!   one.
//! - The post (`POST /rest/posts`) is repeated only when LinkedIn provably did not
//!   take it (no connection, 429, 503); a lost answer reads as an unknown outcome.
//! - Every call carries `Authorization: Bearer`, `LinkedIn-Version` and
//!   `X-Restli-Protocol-Version: 2.0.0`.
//!
//! Receipt: `{"post_id": <post urn>}`. See [`LinkedInPublisher`] for the form fields.
#![forbid(unsafe_code)]

mod author;
mod client;
mod commentary;
mod config;
mod errors;
mod photos;
mod posts;
mod publisher;
mod video;

pub use commentary::{escape_little_text, RESERVED};
pub use config::{
    LinkedInConfig, DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_DAILY_POST_LIMIT,
    DEFAULT_MAX_VIDEO_BYTES, DEFAULT_OAUTH_BASE_URL,
};
pub use publisher::{
    LinkedInPublisher, MAX_COMMENTARY_CHARS, MAX_IMAGES, MAX_PHOTO_BYTES, MIN_VIDEO_BYTES,
};
