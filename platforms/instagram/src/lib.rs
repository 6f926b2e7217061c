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
//! # Options
//!
//! Form fields are parsed and checked before any call; a value Instagram cannot take
//! fails Instagram alone with a sentence naming the field and what it accepts.
//!
//! | form field | Graph parameter | where it goes |
//! |---|---|---|
//! | `media_type` | `media_type` | `REELS` (default) or `STORIES` for a video; `IMAGE` (default) or `STORIES` (one photo) for photos |
//! | `share_to_feed` (bool) | `share_to_feed` | reel container |
//! | `collaborators` (comma list or JSON array, ≤ 3) | `collaborators` (JSON array) | reel, photo and carousel containers |
//! | `cover_url` (http(s) URL) | `cover_url` | reel container |
//! | `audio_name` | `audio_name` | reel container |
//! | `user_tags` (JSON `[{"username","x","y","media_index"}]`, or a comma list for reels) | `user_tags` | reel container (usernames only); photo or carousel item `media_index` (default 0), `x`/`y` in 0–1 required |
//! | `location_id` (digits) | `location_id` | reel, photo and carousel containers |
//! | `thumb_offset` (ms) | `thumb_offset` | reel container |
//! | `instagram_alt_text` | `alt_text` | the photo, or every carousel item |
//! | `instagram_first_comment`, else `first_comment` (≤ 2200 chars) | `message` of `POST /<media id>/comments` | after publishing |
//!
//! The caption is the post's title (`instagram_title` already applied by the engine).
//! Stories take no caption, feed options or comments; options that do not apply to the
//! chosen media are validated but not sent.
//!
//! # Receipt
//!
//! `{"container_id", "media_id"}`, plus `"comment_id"` when a first comment was posted;
//! `media_id` is absent only when the publish answer was lost and the container reads
//! `PUBLISHED`. A first comment that fails (or cannot be posted, as on stories) never
//! fails the post: the receipt gets `"warnings": ["<sentence>"]`.
//!
//! When `poll_budget_secs` ends while Instagram still processes the container, the
//! answer is `{"container_id", "status": "PROCESSING"}` (for a carousel whose items are
//! still processing, `{"children_ids": [...], "status": "PROCESSING"}`) and a detached
//! task keeps polling for up to `background_budget_secs` (default 3600), creates the
//! carousel container if needed, publishes (and comments), and logs the outcome by id
//! only, never a token or URL.
#![forbid(unsafe_code)]

mod client;
mod comment;
mod config;
mod container;
mod errors;
mod finish;
mod options;
mod photos;
mod publisher;
mod video;

pub use config::{InstagramConfig, DEFAULT_BASE_URL, DEFAULT_UPLOAD_BASE_URL};
pub use publisher::InstagramPublisher;
