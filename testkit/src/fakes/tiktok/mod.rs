//! A strict fake of TikTok's Content Posting API (Direct Post, drafts, photos), with
//! the upload URL served on the same loopback server.
//!
//! Routes, as the real API: `POST /v2/post/publish/creator_info/query/`,
//! `/v2/post/publish/video/init/`, `/v2/post/publish/inbox/video/init/`,
//! `/v2/post/publish/content/init/`, `/v2/post/publish/status/fetch/`, and the upload
//! URL it hands out, `PUT /upload/<upload id>?upload_token=<secret>`. Every route is
//! behind the shared fault middleware.
//!
//! What it enforces, as TikTok does: `Authorization: Bearer <known token>` (unknown →
//! 401 `access_token_invalid`; a token starting with `expired` → the same code with
//! the expired message); `Content-Type: application/json; charset=UTF-8` and a JSON
//! object with the documented fields only; `privacy_level` among the creator's options
//! (all four unless [`FakeTikTok::set_privacy_level_options`]); the chunk rules
//! (5 MiB – 64 MiB chunks, `total_chunk_count` = ⌊size / chunk⌋, last chunk ≤ 128 MiB,
//! ≤ 1000 chunks, a video under 5 MiB whole); chunk `PUT`s with a `video/*`
//! `Content-Type`, the next expected `Content-Range` and a matching `Content-Length`;
//! photos pulled in the background, JPEG or WebP only (sniffed), ≤ 35, title ≤ 90.
//! Errors use TikTok's `{"data": {}, "error": {"code", "message", "log_id"}}` body.
//!
//! Branded content (`brand_content_toggle: true`) with `privacy_level: SELF_ONLY` is
//! refused with `invalid_params`, as TikTok does.
//!
//! Life cycle: a post reads `PROCESSING_UPLOAD` (`PROCESSING_DOWNLOAD` for photos)
//! until its media is complete and at least once after (and, with
//! [`FakeTikTok::set_processing_delay`], until that delay has passed), then
//! `PUBLISH_COMPLETE` (`SEND_TO_USER_INBOX` for drafts). It is recorded once, when its
//! media is complete: in the published log, or in [`FakeTikTok::drafts`] for a draft.
//! Every accepted `init` body is kept ([`FakeTikTok::init_requests`]).
//!
//! TikTok's Content Posting API has no comment endpoint, so neither has the fake.

// Helpers hand ready-made error responses back to their handler.
#![allow(clippy::result_large_err)]

mod api;
mod errors;
mod pull;
mod state;
mod upload;

use std::sync::Arc;

use axum::routing::{post, put};
use axum::Router;
use fanout_core::Connection;
use serde_json::Value;
use url::Url;

use crate::fake::{FakePlatform, PlatformError};
use crate::faults::{apply_faults, Fault, Faults};
use crate::record::PublishedPost;
use crate::server::FakeServer;
pub use state::ALL_PRIVACY_LEVELS;
use state::{random_hex, Account, Shared};

/// The fake TikTok API on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct FakeTikTok {
    shared: Arc<Shared>,
    _server: FakeServer,
}

impl FakeTikTok {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn spawn() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let root = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(Shared::new(root));
        let app = Router::new()
            .route(
                "/v2/post/publish/creator_info/query/",
                post(api::creator_info),
            )
            .route("/v2/post/publish/video/init/", post(api::video_init))
            .route(
                "/v2/post/publish/inbox/video/init/",
                post(api::inbox_video_init),
            )
            .route("/v2/post/publish/content/init/", post(api::content_init))
            .route("/v2/post/publish/status/fetch/", post(api::status_fetch))
            .route("/upload/{upload_id}", put(upload::receive))
            .fallback(api::unknown_path)
            .with_state(Arc::clone(&shared))
            .layer(axum::middleware::from_fn_with_state(
                shared.faults.clone(),
                apply_faults,
            ));
        let server = FakeServer::serve(listener, app).await?;
        Ok(Self {
            shared,
            _server: server,
        })
    }

    /// The API base, `http://127.0.0.1:<port>/` (point `TikTokConfig::base_url` here).
    pub fn base_url(&self) -> Url {
        self.shared.root.clone()
    }

    /// Accepts `token` for the account `account_name`.
    pub fn accept_token(&self, token: &str, account_name: &str) {
        let open_id = format!("-000{}", random_hex(12));
        self.shared.lock().tokens.insert(
            token.to_string(),
            Account {
                name: account_name.to_string(),
                open_id,
            },
        );
    }

    /// Sets the privacy levels every creator may use (all four by default).
    pub fn set_privacy_level_options(&self, options: &[&str]) {
        self.shared.lock().privacy_options = options.iter().map(|s| s.to_string()).collect();
    }

    /// How many `init` calls (video, inbox, content) reached their handler with a valid
    /// token and body shape.
    pub fn init_calls(&self) -> u64 {
        self.shared.lock().init_calls
    }

    /// How many chunk `PUT`s reached the upload handler.
    pub fn chunk_requests(&self) -> u64 {
        self.shared.lock().chunk_requests
    }

    /// Keeps every post in processing (`PROCESSING_UPLOAD` / `PROCESSING_DOWNLOAD`) for
    /// `delay` after its media is complete (default: none; one more status read).
    pub fn set_processing_delay(&self, delay: std::time::Duration) {
        self.shared.lock().processing_delay = delay;
    }

    /// Makes TikTok wait `delay` after `content/init` before pulling the photos (default:
    /// none), so a test can prove the links stay alive after the publisher returned.
    pub fn set_pull_delay(&self, delay: std::time::Duration) {
        self.shared.lock().pull_delay = delay;
    }

    /// The JSON bodies of the accepted `init` calls (video, inbox, content), in order:
    /// where each option arrived (`post_info`, `source_info`, `post_mode`).
    pub fn init_requests(&self) -> Vec<Value> {
        self.shared.lock().init_bodies.clone()
    }

    /// Drafts whose media is complete (`MEDIA_UPLOAD` photos, inbox videos): recorded
    /// like published posts, `options` being the `post_info` received (`{}` for inbox
    /// videos). They never appear in [`FakePlatform::published`].
    pub fn drafts(&self) -> Vec<PublishedPost> {
        self.shared.drafts.all()
    }

    /// The fault switchboard (shared with the server).
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }
}

impl FakePlatform for FakeTikTok {
    fn platform(&self) -> &'static str {
        "tiktok"
    }

    fn base_url(&self) -> Url {
        FakeTikTok::base_url(self)
    }

    fn connection(&self, account_name: &str) -> Connection {
        let token = format!("act.{}", random_hex(24));
        self.accept_token(&token, account_name);
        Connection::new(account_name, token)
    }

    fn published(&self) -> Vec<PublishedPost> {
        self.shared.log.all()
    }

    fn publish_route(&self) -> &'static str {
        "/upload/"
    }

    fn first_route(&self) -> &'static str {
        "/creator_info/query/"
    }

    fn error_response(&self, error: PlatformError) -> (u16, Value) {
        match error {
            PlatformError::ExpiredToken => (
                401,
                errors::body("access_token_invalid", errors::EXPIRED_TOKEN),
            ),
            PlatformError::RateLimited { .. } => (
                429,
                errors::body(
                    "rate_limit_exceeded",
                    "The API rate limit was exceeded. Please try again later.",
                ),
            ),
            PlatformError::ServerError => (
                500,
                errors::body(
                    "internal_error",
                    "Something went wrong. Please try again later.",
                ),
            ),
        }
    }

    fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    fn clear_faults(&self) {
        self.shared.faults.clear();
    }
}
