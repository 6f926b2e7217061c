//! fanout publisher for Instagram Graph API content publishing.
//!
//! - Reels and stories are uploaded from the spooled file through the resumable-upload
//!   host in one streamed request, then published.
//! - Photos (one, or a carousel of 2–10) are pulled by Instagram from the media host.
//! - Before anything is uploaded the account's publishing quota is read
//!   (`content_publishing_limit`); a spent quota fails at once.
//! - The publish call (`media_publish`) is never repeated blindly: when its answer is
//!   lost, the container's `status_code` tells whether the post is live.
//!
//! Receipt: `{"container_id": <container id>, "media_id": <media id>}`; `media_id` is
//! absent only when the publish answer was lost and the container reads `PUBLISHED`.
#![forbid(unsafe_code)]

mod client;
mod config;
mod container;
mod errors;
mod photos;
mod publisher;
mod video;

pub use config::{InstagramConfig, DEFAULT_BASE_URL, DEFAULT_UPLOAD_BASE_URL};
pub use publisher::InstagramPublisher;
