//! fanout publisher for the TikTok Content Posting API (Direct Post).
//!
//! - Every publish first checks the form's TikTok fields (below; a bad value fails
//!   TikTok alone, before any call), then reads `creator_info/query`; the requested
//!   `privacy_level` must be one the creator may use.
//! - Videos go up with `FILE_UPLOAD`: `video/init` (drafts: `inbox/video/init`), then
//!   one `PUT` per chunk streamed by range from the post's file ([`ChunkPlan`]), then
//!   `status/fetch` until `PUBLISH_COMPLETE` (drafts: `SEND_TO_USER_INBOX`).
//! - Photos (JPEG or WebP, 1–35) are pulled by TikTok from the media host after
//!   `content/init`. TikTok pulls only the URLs given to `content/init`, so the links
//!   live until TikTok reports every byte pulled (`downloaded_bytes`), past the poll
//!   budget if need be, for at most `background_budget_secs` more.
//! - `init` calls are throttled per access token (6 a minute by default); refused calls
//!   (429, 5xx, no connection) are retried, a photo post whose answer was lost is not.
//! - When `poll_budget_secs` ends while TikTok still processes an accepted post, the
//!   answer is a success with `"status": "PROCESSING"` and a follow-up checkpoint:
//!   TikTok publishes on its own, and the engine calls `resume` later (nothing runs in
//!   the background). A status that cannot be read after TikTok accepted the post (a
//!   refused token, TikTok unavailable) is answered the same way, never with an error
//!   that would invite publishing again.
//!
//! ## Checkpoints and resume
//!
//! Every publish records how far it got with `PublishContext::checkpoint`, as
//! `{"stage": …}` plus TikTok's ids; `resume` starts from the last one and never sends
//! a second `init`:
//!
//! | `stage` | Recorded | `resume` |
//! |---|---|---|
//! | `initializing` | right before `video/init`, `inbox/video/init` or `content/init`; a failure to record it stops the publish | `unknown_outcome("TikTok")` (`OutcomeUnknown`): the post may or may not exist |
//! | `uploading` (`publish_id`, `upload_url`, the chunk plan, `sent_bytes`) | once `video/init` answered, and after each chunk but the last; a failure to record it stops the upload before the next chunk | reads `status/fetch`: published, draft or `FAILED` is the answer; an incomplete upload goes on from TikTok's `uploaded_bytes` with the post's video (same upload URL, the next chunks in order: chunks of one upload never make a second post; an expired URL fails with TikTok's sentence), then polls |
//! | `pulling` (`publish_id`) | once `content/init` answered | polls; no link is hosted again (TikTok would never see it): a pull that failed reads "TikTok could not download the photos: the links fanout hosted for them ended before TikTok pulled them …" (`Transient`: nothing was published) |
//! | `processing` (`publish_id`) | after the last chunk, or once TikTok pulled every photo; the follow-up of every `PROCESSING` answer | polls |
//!
//! Checkpoints after the last publishing call (`pulling`, `processing`) are logged
//! when they cannot be recorded, and the publish goes on: TikTok publishes either way.
//! `resume` polls for at most `background_budget_secs`, then answers `PROCESSING`
//! with a follow-up again; its receipts are those of `publish`. The `uploading`
//! checkpoint carries the upload URL, a secret for an hour: it is redacted from
//! `Debug` and logs, and must not be shown to clients.
//!
//! ## Options (form fields) and where they go
//!
//! | Field | Accepted values | Sent as |
//! |---|---|---|
//! | `privacy_level` | `PUBLIC_TO_EVERYONE`, `MUTUAL_FOLLOW_FRIENDS`, `FOLLOWER_OF_CREATOR`, `SELF_ONLY`, and among the creator's `privacy_level_options`; default: the creator's first option | `post_info.privacy_level` (Direct Post only) |
//! | `disable_comment` | true/false (forced true when the creator turned comments off) | `post_info.disable_comment` |
//! | `disable_duet`, `disable_stitch` | true/false (forced likewise) | `post_info.disable_duet` / `disable_stitch` (video) |
//! | `cover_timestamp` (or `video_cover_timestamp_ms`) | whole milliseconds | `post_info.video_cover_timestamp_ms` (video) |
//! | `brand_content_toggle`, `brand_organic_toggle` | true/false; branded content cannot be `SELF_ONLY` | `post_info.brand_content_toggle` / `brand_organic_toggle` |
//! | `is_aigc` | true/false | `post_info.is_aigc` (video) |
//! | `auto_add_music` | true/false | `post_info.auto_add_music` (photos) |
//! | `photo_cover_index` | 0 to photos − 1, default 0 | `source_info.photo_cover_index` (photos) |
//! | `post_mode` / `tiktok_upload_to_draft` (aliases `upload_to_draft`, `is_draft`) | `DIRECT_POST` or `MEDIA_UPLOAD` / true/false | a draft: video to `inbox/video/init` with `source_info` only; photos with `post_mode: MEDIA_UPLOAD` and only title and description |
//! | `tiktok_first_comment` / `first_comment` | text | not sent: TikTok's API has no comment endpoint; the receipt gets a warning |
//!
//! `tiktok_title` / `tiktok_description` are applied by the engine before the
//! publisher runs (the title is the video caption; photos have both).
//!
//! Receipt: `{"publish_id": <publish id>, "status": "PUBLISH_SUCCESS"}`
//! (`"SEND_TO_USER_INBOX"` for a draft, `"PROCESSING"` with a follow-up past the poll
//! budget), plus
//! `"warnings": ["TikTok's API does not allow posting comments, …"]` when a first
//! comment was asked for.
//!
//! ## Connecting accounts and keeping tokens fresh
//!
//! What a team registers on developers.tiktok.com: an app with the products Login Kit
//! and Content Posting API (Direct Post), the scopes `user.info.basic`,
//! `video.publish` and `video.upload`, and the redirect URL of fanout's callback
//! (`https://<your host>/api/connect/tiktok/callback`, static, https). Until TikTok has
//! audited the app, it may post only privately (`SELF_ONLY`).
//!
//! Config keys (`[platforms.tiktok]`): `client_id` (the app's **client key**),
//! `client_secret`, and optionally `base_url` (API and token endpoint host,
//! `https://open.tiktokapis.com/`), `oauth_base_url` (authorization page host,
//! `https://www.tiktok.com/`) and `scopes` (default the three above).
//!
//! Token behaviour ([`TikTokTokens`], returned by `Publisher::tokens`): connecting sends
//! the person to `www.tiktok.com/v2/auth/authorize/` (client key, comma-separated
//! scopes, redirect URI, state; no PKCE for a web server app) and exchanges the code at
//! `POST /v2/oauth/token/`; the connection is named by the account's `display_name`
//! (`/v2/user/info/`, else its `open_id`) and carries the `open_id` attribute. A refresh
//! (`grant_type=refresh_token`) returns a new access token and a **rotated** refresh
//! token (the old one stops working, so the new one must be stored before use);
//! `expires_at` is `now + expires_in` from the answer (TikTok's lifetimes have changed
//! over time). `invalid_grant` (even with HTTP 200) means the account must be
//! reconnected; a network error, 429 or 5xx keeps every token; missing or refused app
//! credentials name the config keys to fix.
#![forbid(unsafe_code)]

mod checkpoint;
mod chunks;
mod client;
mod config;
mod creator;
mod errors;
mod finish;
mod oauth;
mod options;
mod photos;
mod publisher;
mod resume;
mod video;

pub use chunks::{ChunkPlan, MAX_CHUNKS, MAX_CHUNK_BYTES, MAX_LAST_CHUNK_BYTES, MIN_CHUNK_BYTES};
pub use config::{
    TikTokConfig, DEFAULT_BASE_URL, DEFAULT_CHUNK_SIZE_BYTES, DEFAULT_OAUTH_BASE_URL,
    DEFAULT_SCOPES,
};
pub use oauth::TikTokTokens;
pub use photos::{MAX_PHOTOS, MAX_PHOTO_DESCRIPTION_CHARS, MAX_PHOTO_TITLE_CHARS};
pub use publisher::{TikTokPublisher, MAX_PHOTO_BYTES, MAX_VIDEO_BYTES};
pub use video::MAX_VIDEO_TITLE_CHARS;
