//! fanout publisher for the TikTok Content Posting API (Direct Post).
//!
//! - Every publish starts with `creator_info/query`; the requested `privacy_level`
//!   must be one the creator may use.
//! - Videos go up with `FILE_UPLOAD`: `video/init`, then one `PUT` per chunk streamed
//!   from the spooled file ([`ChunkPlan`]), then `status/fetch` until
//!   `PUBLISH_COMPLETE`.
//! - Photos (JPEG or WebP, 1–35) are pulled by TikTok from the media host after
//!   `content/init`; the links live until the status poll ends.
//! - `init` calls are throttled per access token (6 a minute by default); refused calls
//!   (429, 5xx, no connection) are retried, a photo post whose answer was lost is not.
//!
//! Receipt: `{"publish_id": <publish id>, "status": "PUBLISH_SUCCESS"}`.
#![forbid(unsafe_code)]

mod chunks;
mod client;
mod config;
mod creator;
mod errors;
mod photos;
mod publisher;
mod status;
mod video;

pub use chunks::{ChunkPlan, MAX_CHUNKS, MAX_CHUNK_BYTES, MAX_LAST_CHUNK_BYTES, MIN_CHUNK_BYTES};
pub use config::{TikTokConfig, DEFAULT_BASE_URL, DEFAULT_CHUNK_SIZE_BYTES};
pub use photos::{MAX_PHOTOS, MAX_PHOTO_DESCRIPTION_CHARS, MAX_PHOTO_TITLE_CHARS};
pub use publisher::{TikTokPublisher, MAX_PHOTO_BYTES, MAX_VIDEO_BYTES};
pub use video::MAX_VIDEO_TITLE_CHARS;
