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
//!
//! OAuth, as TikTok's: `GET /v2/auth/authorize/` checks `client_key`, `response_type=code`,
//! an absolute `redirect_uri` without query, known comma-separated `scope`s, a `state`
//! (and `code_challenge` with `code_challenge_method=S256` when given), then approves at
//! once: `302` to `redirect_uri?code=…&scopes=…&state=…` for a new fake account. `POST
//! /v2/oauth/token/` takes a form-urlencoded body with `client_key`, `client_secret`
//! ([`FAKE_CLIENT_KEY`] / [`FAKE_CLIENT_SECRET`] unless [`FakeTikTok::set_client`]) and
//! `grant_type=authorization_code` (`code` single-use, same `redirect_uri`, the PKCE
//! `code_verifier` when the authorization had a challenge) or `refresh_token` (the old
//! refresh token stops working: TikTok rotates them). It answers `access_token`,
//! `expires_in`, `open_id`, `refresh_token`, `refresh_expires_in`, `scope`,
//! `token_type`, or TikTok's OAuth error `{"error", "error_description", "log_id"}`
//! (`invalid_grant` with HTTP 200, `invalid_client` with 401). `GET /v2/user/info/`
//! answers the token's `open_id` and `display_name` (the account name). Issued access
//! tokens publish for their account.

// Helpers hand ready-made error responses back to their handler.
#![allow(clippy::result_large_err)]

mod api;
mod errors;
mod oauth;
mod pull;
mod state;
mod upload;

use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use fanout_core::Connection;
use serde_json::{json, Value};
use url::Url;

use crate::fake::{ErrorCase, FakePlatform, OptionCase, OptionMedia, PlatformError};
use crate::faults::{apply_faults, Faults};
use crate::record::PublishedPost;
use crate::server::FakeServer;
pub use state::ALL_PRIVACY_LEVELS;
use state::{Grant, Shared};

/// The client key the fake's OAuth endpoints accept until [`FakeTikTok::set_client`].
pub const FAKE_CLIENT_KEY: &str = "fake-tiktok-client-key";
/// The client secret the fake's OAuth endpoints accept until [`FakeTikTok::set_client`].
pub const FAKE_CLIENT_SECRET: &str = "fake-tiktok-client-secret";

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
            .route("/v2/auth/authorize/", get(oauth::authorize))
            .route("/v2/oauth/token/", post(oauth::token))
            .route("/v2/user/info/", get(oauth::user_info))
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

    /// Accepts `token` for the account `account_name` (the same account, with the same
    /// `open_id`, as earlier tokens for that name: a post one token created is the
    /// post another token of that account checks on).
    pub fn accept_token(&self, token: &str, account_name: &str) {
        let mut inner = self.shared.lock();
        let account = inner.account_named(account_name);
        inner.oauth.accept(token, account);
    }

    /// Sets the client key and secret the OAuth endpoints accept (default
    /// [`FAKE_CLIENT_KEY`] / [`FAKE_CLIENT_SECRET`]).
    pub fn set_client(&self, client_id: &str, client_secret: &str) {
        self.shared
            .lock()
            .oauth
            .set_client(client_id, client_secret);
    }

    /// A connection for the account `account_name` with a new access token, a refresh
    /// token the token endpoint accepts (once), `expires_at` and the `open_id`
    /// attribute.
    pub fn refreshable_connection(
        &self,
        account_name: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Connection {
        let mut inner = self.shared.lock();
        let account = inner.account_named(account_name);
        let access = inner.oauth.issue_access(account.clone());
        let refresh = inner.oauth.issue_refresh(Grant {
            account: account.clone(),
            scope: "user.info.basic,video.publish,video.upload".to_string(),
        });
        drop(inner);
        let mut connection =
            Connection::new(account_name, access).with_attribute("open_id", account.open_id);
        connection.refresh_token = Some(fanout_core::secrecy::SecretString::from(refresh));
        connection.expires_at = Some(expires_at);
        connection
    }

    /// From now on the fake answers `token` as expired (401 `access_token_invalid`).
    pub fn expire_access_token(&self, token: &str) {
        self.shared.lock().oauth.expire(token);
    }

    /// From now on the token endpoint refuses `token` (`invalid_grant`).
    pub fn revoke_refresh_token(&self, token: &str) {
        self.shared.lock().oauth.revoke(token);
    }

    /// How many `grant_type=refresh_token` requests reached the token endpoint.
    pub fn refresh_calls(&self) -> usize {
        self.shared.lock().oauth.refresh_calls()
    }

    /// Sets `expires_in` of the access tokens the token endpoint issues (default
    /// 86400 seconds).
    pub fn set_access_token_lifetime(&self, secs: u64) {
        self.shared.lock().access_token_lifetime_secs = secs;
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

    fn connection(&self, account_name: &str) -> Connection {
        let mut inner = self.shared.lock();
        let account = inner.account_named(account_name);
        let token = inner.oauth.issue_access(account);
        drop(inner);
        Connection::new(account_name, token)
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

    super::forward_oauth!(FakeTikTok, "/v2/oauth/token/");

    fn option_cases(&self) -> Vec<OptionCase> {
        let case = OptionCase::new;
        vec![
            case(
                OptionMedia::Video,
                &[
                    ("privacy_level", "SELF_ONLY"),
                    ("disable_comment", "true"),
                    ("disable_duet", "false"),
                ],
                &[
                    ("/privacy_level", json!("SELF_ONLY")),
                    ("/disable_comment", json!(true)),
                    ("/disable_duet", json!(false)),
                ],
            ),
            case(
                OptionMedia::Video,
                &[("privacy_level", "FOLLOWER_OF_CREATOR")],
                &[("/privacy_level", json!("FOLLOWER_OF_CREATOR"))],
            ),
            case(
                OptionMedia::Photos(2),
                &[("auto_add_music", "true"), ("photo_cover_index", "1")],
                &[("/auto_add_music", json!(true))],
            ),
        ]
    }

    fn error_cases(&self) -> Vec<ErrorCase> {
        use fanout_core::ErrorKind::{
            MediaRejected, RateLimited, Rejected, TokenExpired, Transient,
        };
        let route = self.first_route();
        [
            (401, "access_token_invalid", TokenExpired),
            (403, "scope_not_authorized", Rejected),
            (429, "rate_limit_exceeded", RateLimited),
            (403, "spam_risk_too_many_posts", Rejected),
            (403, "spam_risk_user_banned_from_posting", Rejected),
            (403, "reached_active_user_cap", Rejected),
            (
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                Rejected,
            ),
            (403, "url_ownership_unverified", Rejected),
            (400, "privacy_level_option_mismatch", Rejected),
            (400, "invalid_params", Rejected),
            (400, "file_format_check_failed", MediaRejected),
            (400, "duration_check_failed", MediaRejected),
            (400, "frame_rate_check_failed", MediaRejected),
            (400, "picture_size_check_failed", MediaRejected),
            (500, "internal_error", Transient),
        ]
        .into_iter()
        .map(|(status, code, kind)| ErrorCase {
            route,
            status,
            body: errors::body(code, "conformance error"),
            kind,
        })
        .collect()
    }

    fn hold_processing(&self, at_least: std::time::Duration) -> bool {
        self.set_processing_delay(at_least);
        true
    }
}
