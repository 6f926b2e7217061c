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
//!
//! # Connecting accounts and keeping tokens working
//!
//! This publisher speaks the Instagram API with Facebook Login. A team registers a Meta
//! app (type Business) with the Facebook Login for Business and Instagram products, adds
//! the callback URL (`…/api/connect/instagram/callback` of the server) to the valid
//! OAuth redirect URIs, and gets the permissions in [`DEFAULT_SCOPES`] approved
//! (`instagram_basic`, `instagram_content_publish`, `instagram_manage_comments`,
//! `pages_show_list`, `pages_read_engagement`, `business_management`). Each Instagram
//! account must be a professional account linked to a Facebook Page the connecting
//! person manages.
//!
//! Config keys in `[platforms.instagram]`: `client_id` (the app id) and `client_secret`
//! (the app secret) are needed to connect and refresh; `oauth_base_url` (login dialog,
//! default `https://www.facebook.com/v21.0/`), `base_url` (Graph and its token endpoint
//! `oauth/access_token`, default `https://graph.facebook.com/v21.0/`),
//! `upload_base_url` and `scopes` have defaults.
//!
//! [`InstagramTokens`] (from [`fanout_core::Publisher::tokens`]): connecting sends the
//! person to `dialog/oauth` (no PKCE: Facebook documents it only for its OIDC flow,
//! still in testing), exchanges the code for a user token, exchanges that for a
//! long-lived one (`grant_type=fb_exchange_token`, about 60 days) and reads the Page
//! token and Instagram account from `me/accounts`. The connection's access token is the
//! Page token, its refresh token the long-lived user token, `expires_at` the user
//! token's expiry, and `user_id` the IG user id. Refreshing exchanges the user token
//! for a new long-lived one and reads the Page token again. Code 190 (expired, revoked,
//! password changed) or a refused code is [`fanout_core::TokenError::Refused`]
//! (reconnect); 5xx, 429, rate-limit codes, bad app credentials and lost connections
//! are `Transient` and keep every token; without `client_id`/`client_secret` every
//! operation is `Unsupported`. A user token that expired cannot be exchanged, so the
//! engine must refresh before `expires_at`.
#![forbid(unsafe_code)]

mod client;
mod comment;
mod config;
mod container;
mod errors;
mod finish;
mod oauth;
mod options;
mod photos;
mod publisher;
mod video;

pub use config::{
    InstagramConfig, DEFAULT_BASE_URL, DEFAULT_OAUTH_BASE_URL, DEFAULT_SCOPES,
    DEFAULT_UPLOAD_BASE_URL,
};
pub use oauth::InstagramTokens;
pub use publisher::InstagramPublisher;
