//! fanout publisher for Instagram Graph API content publishing.
//!
//! - Reels and stories are uploaded from the spooled file through the resumable-upload
//!   host in one streamed request, then published.
//! - Photos (one, or a carousel of 2–10) are pulled by Instagram from the media host.
//! - Before anything is uploaded the account's publishing quota is read
//!   (`content_publishing_limit`); a spent quota fails at once.
//! - The publish call (`media_publish`) is never repeated blindly: when its answer is
//!   lost, the container's `status_code` tells whether the post is live.
//! - Every step is checkpointed, so a publish stopped at any point (fanout killed)
//!   resumes to exactly one post (see [Checkpoints and resume](#checkpoints-and-resume)).
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
//! still processing, `{"children_ids": [...], "status": "PROCESSING"}`, plus
//! `"warnings"` when there are some) with a follow-up checkpoint
//! ([`fanout_core::Receipt::with_follow_up`]). Nothing keeps running after the answer:
//! the engine calls [`fanout_core::Publisher::resume`] with the follow-up later, which
//! polls again for up to `poll_budget_secs`, creates the carousel container if needed,
//! publishes and comments, or answers `PROCESSING` with the same follow-up again.
//! Follow-ups end `background_budget_secs` (default 3600) after the first `PROCESSING`
//! answer with a `TimedOut` error; the container was never published, so nothing was
//! posted.
//!
//! # Checkpoints and resume
//!
//! Before each call that creates something on Instagram (a container, a carousel item,
//! the carousel container, `media_publish`, the first comment) and after each such call
//! returned its id, the publish records a checkpoint
//! ([`fanout_core::PublishContext::checkpoint`]); when one cannot be recorded, the
//! publish stops before its next creating call (once the post is live it answers with
//! the post instead, and skips the comment with a warning). A checkpoint is JSON:
//! `{"version": 1, "stage", "user_id", <ids>, "first_comment"?, "warnings"?,
//! "waiting_since"?}`, with ids and the carousel's caption and options, never a token
//! or a hosted media URL. [`fanout_core::Publisher::resume`] continues from the last
//! one:
//!
//! | `stage` (ids) | recorded | resume |
//! |---|---|---|
//! | `creating` (`children_ids` so far) | before a video, photo or carousel item container is created | creates it again (hosting the photos again) and goes on: the one in flight, if Instagram made it, is an orphan |
//! | `uploading` (`container_id`, `upload_url`) | once the video container exists | asks the upload host how many bytes it has and sends the rest |
//! | `processing` (`container_id`) | once the media is in (the follow-up of a `PROCESSING` answer) | waits, publishes, comments |
//! | `processing_items` (`children_ids`, `carousel`) | once every carousel item exists (a follow-up too) | waits for the items, creates the carousel container, publishes |
//! | `creating_carousel` (`children_ids`, `carousel`) | before the carousel container is created | creates new items from the post's photos (hosted again) and a new carousel: the one in flight may exist and hold the old items |
//! | `publishing` (`container_id`) | before `media_publish` | reads the container: `PUBLISHED` is the live post (no `media_id`; the first comment becomes a warning), `FINISHED` is published now, `IN_PROGRESS` waits, `ERROR`/`EXPIRED` fail |
//! | `published` (`container_id`, `media_id`?) | once `media_publish` answered | posts the first comment (it provably was not sent) |
//! | `commenting` (`container_id`, `media_id`) | before the first comment | a warning that the comment may or may not exist; never a second comment |
//! | `commented` (`container_id`, `media_id`, `comment_id`?) | once the comment was answered | the receipt |
//!
//! Why creating again is safe: only `media_publish` makes a post, and it is sent only
//! for a container whose id was recorded first. A container publishes at most once, so
//! its id is the post's idempotency key; a refused `media_publish` is checked against
//! the container's status, so a resume racing an earlier call that went through reads
//! as the live post. A container whose creation answer was lost is invisible, never
//! published by anyone, and expires after 24 hours. Instagram fetches a photo while
//! creating its container (a failed fetch is the creation's answer), so links are
//! hosted again only when a container is created again; creating the carousel from
//! finished items needs no pulls. A checkpoint this crate did not write, or that does
//! not match the post's media, is [`fanout_core::unknown_outcome`]. A publish stopped
//! before its first checkpoint had only read (account, quota).
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
//! password changed) or a refused code is [`fanout_core::TokenErrorKind::Refused`]
//! (reconnect); 5xx, 429, rate-limit codes, bad app credentials and lost connections
//! are `Transient` and keep every token; without `client_id`/`client_secret` every
//! operation is `Unsupported`. A user token that expired cannot be exchanged, so the
//! engine must refresh before `expires_at`.
#![forbid(unsafe_code)]

mod checkpoint;
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
mod resume;
mod run;
mod video;

pub use config::{
    InstagramConfig, DEFAULT_BASE_URL, DEFAULT_OAUTH_BASE_URL, DEFAULT_SCOPES,
    DEFAULT_UPLOAD_BASE_URL,
};
pub use oauth::InstagramTokens;
pub use publisher::InstagramPublisher;
