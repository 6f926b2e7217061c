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
//! # Form fields and where they go
//!
//! Every field is checked before anything is sent; a value LinkedIn cannot take fails
//! LinkedIn alone with a sentence naming the field and what it accepts.
//!
//! | Field | Accepted | Goes to |
//! |---|---|---|
//! | `linkedin_title` / `linkedin_description` | text (applied by the engine) | the video's `content.media.title` / the `commentary` (escaped "little text"; the title when there is no description) |
//! | `visibility` (or `linkedin_visibility`, `linkedinVisibility`, the most specific wins) | `PUBLIC` (default), `CONNECTIONS`, `LOGGED_IN`, any case | `visibility` |
//! | `target_linkedin_page_id` | a numeric page id or `urn:li:organization:<id>` | `author` (and every upload's `owner`, the comment's `actor`) |
//! | `linkedin_alt_text` | one text for all images, or one per image in order; ≤ [`MAX_ALT_TEXT_CHARS`] characters | `content.media.altText` / `content.multiImage.images[i].altText` |
//! | `linkedin_disable_reshare` | `true`/`false` (default `false`) | `isReshareDisabledByAuthor` |
//! | `linkedin_first_comment`, else `first_comment` | ≤ [`MAX_COMMENT_CHARS`] characters | `message.text` (escaped little text) of `POST /rest/socialActions/<encoded post urn>/comments`, as the post's author, after the post exists |
//!
//! # Receipt
//!
//! `{"post_id": <post urn>}`, plus `"warnings": ["…"]` when the first comment failed
//! (it never fails the post). When the video is still `PROCESSING` after
//! `poll_budget_secs`, the answer is `{"status": "PROCESSING", "video_id": <video
//! urn>}` with a follow-up ([`fanout_core::Receipt::with_follow_up`]): nothing runs in
//! the background; the engine calls `resume` later, which waits up to
//! `poll_budget_secs` again and either creates the post or answers `PROCESSING` with
//! the same follow-up. Once `background_budget_secs` have passed since the upload, the
//! publish fails ([`fanout_core::ErrorKind::TimedOut`], nothing posted).
//!
//! # Checkpoints and resume
//!
//! Before each call that creates something on LinkedIn and right after each answered
//! id, the publish records a checkpoint ([`fanout_core::PublishContext::checkpoint`];
//! when that fails, it stops before the next such call). A checkpoint is JSON tagged by
//! `"stage"`; `resume` first finds out what LinkedIn did, then finishes what is safe:
//!
//! | `stage` | Recorded | `resume` |
//! |---|---|---|
//! | `registering_video` | before the video's `initializeUpload` | starts over (a registered video is not a post) |
//! | `video_registered` (`video`, `author`) | after `initializeUpload` answered the urn | reads the video's status: `PROCESSING`/`AVAILABLE` (finalized) → continues as `video_uploaded`; `PROCESSING_FAILED` → fails; otherwise starts over |
//! | `uploading_images` (`images`) | before the first image's `initializeUpload`, then after each (the urns so far) | starts over |
//! | `video_uploaded` (`video`, `post`, `uploaded_at`) | after `finalizeUpload`; also the `PROCESSING` follow-up | polls the video, then creates the post, or answers `PROCESSING` again |
//! | `posting` (`post`: body, author, first comment) | before `POST /rest/posts` | LinkedIn has no idempotency key for posts: looks for the post among the author's 20 newest (the Posts API finder, `GET /rest/posts?q=author`) by its media urns; found → continues as `posted`; not found, or the finder refused (member posts need the partner scope `r_member_social`) → [`fanout_core::unknown_outcome`], never a second post |
//! | `posted` (`post_id`, `author`, `first_comment`) | after the post answered its urn | posts the first comment, if any |
//! | `commenting` (`post_id`) | before the first comment | the post succeeded; a warning says the comment may or may not be there (never a second comment) |
//! | `done` (`post_id`, `warnings`) | after the first comment | answers the receipt |
//!
//! Once the post exists, a checkpoint that cannot be recorded never fails the publish:
//! the first comment is then not sent and a warning says so. `resume` passes no daily
//! quota (the publish it continues did).
//!
//! # Connecting accounts and keeping tokens working
//!
//! What a team registers, in the LinkedIn Developer Portal:
//! - an app (with a LinkedIn page as its company), with the products "Share on
//!   LinkedIn" (scope `w_member_social`) and "Sign In with LinkedIn using OpenID
//!   Connect" (`openid`, `profile`); to post as pages, the Community Management API
//!   (`w_organization_social`, add it to `scopes`);
//! - under Auth, the redirect URL of the connect callback, e.g.
//!   `https://<your host>/api/connect/linkedin/callback` (LinkedIn compares it
//!   exactly);
//! - refresh tokens exist only for apps LinkedIn approved for programmatic refresh
//!   tokens; without them an account is reconnected when its 60-day token expires.
//!
//! Config keys (`[platforms.linkedin]`): `client_id`, `client_secret` (both needed to
//! connect and refresh; missing, the flows answer
//! [`fanout_core::TokenErrorKind::Unsupported`] naming them), `oauth_base_url` (`https://www.linkedin.com/`, the authorization page
//! `oauth/v2/authorization` and the token endpoint `oauth/v2/accessToken`), `scopes`
//! ([`DEFAULT_SCOPES`]), and `base_url` for the API (`v2/userinfo` names the connected
//! member).
//!
//! Token behaviour ([`LinkedInTokens`], returned by `Publisher::tokens`): access
//! tokens last 60 days (`expires_at = now + expires_in`); a refresh sends
//! `grant_type=refresh_token` with the client credentials and keeps the refresh token
//! LinkedIn answers (the same one: it lasts a year from the original consent, a
//! refresh does not extend it). `invalid_grant` (expired or revoked) means the account
//! must be reconnected; 5xx, 429 and network errors keep every token. The
//! authorization URL carries `response_type=code`, `client_id`, `redirect_uri`,
//! `state` and `scope`; LinkedIn's web flow takes no PKCE. A connected account is named
//! after the member's name and carries `author_urn = urn:li:person:<sub>`.
#![forbid(unsafe_code)]

mod author;
mod checkpoint;
mod client;
mod comment;
mod commentary;
mod config;
mod errors;
mod oauth;
mod options;
mod photos;
mod posts;
mod publisher;
mod resume;
mod run;
mod video;

pub use commentary::{escape_little_text, RESERVED};
pub use config::{
    LinkedInConfig, DEFAULT_API_VERSION, DEFAULT_BACKGROUND_BUDGET_SECS, DEFAULT_BASE_URL,
    DEFAULT_DAILY_POST_LIMIT, DEFAULT_MAX_VIDEO_BYTES, DEFAULT_OAUTH_BASE_URL, DEFAULT_SCOPES,
};
pub use oauth::LinkedInTokens;
pub use options::{MAX_ALT_TEXT_CHARS, MAX_COMMENT_CHARS};
pub use publisher::{
    LinkedInPublisher, MAX_COMMENTARY_CHARS, MAX_IMAGES, MAX_PHOTO_BYTES, MIN_VIDEO_BYTES,
};
