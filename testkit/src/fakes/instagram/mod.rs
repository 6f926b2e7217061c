//! A strict fake of Instagram's Graph API content publishing, with the resumable-upload
//! host on the same server.
//!
//! Graph routes live under `/v21.0` ([`FakeInstagram::base_url`]); uploads under
//! `/ig-api-upload/v21.0/<container id>` ([`FakeInstagram::upload_base_url`]). Every
//! route is behind the shared fault middleware.
//!
//! What it enforces, as Graph does: a known token (`Authorization: Bearer` or the
//! `access_token` parameter) of the IG user in the path; tokens starting with
//! `expired` answer code 190 subcode 463; unknown or foreign ids answer code 100
//! subcode 33; uploads need `Authorization: OAuth <token>`, `offset` equal to the bytes
//! received so far, a constant `file_size` and exactly `file_size - offset` body bytes;
//! photos are pulled and must be JPEG (≤ 8 MB); carousels take 2–10 finished
//! `is_carousel_item` children; captions ≤ 2200 characters; a container reads
//! `IN_PROGRESS` at least once after its media is complete, then `FINISHED`;
//! `media_publish` before that answers 9007/2207027, a second time answers code 100,
//! and past the daily cap answers 9/2207042. Creation options are checked in Graph's
//! shapes and only on the media they belong to (`share_to_feed`, `cover_url`,
//! `audio_name`, `thumb_offset` on reels; `alt_text` on images; `collaborators` and
//! `location_id` not on stories or carousel items; `user_tags` a JSON array, with `x`
//! and `y` in 0–1 on images) and recorded in `PublishedPost.options` (a carousel's
//! items under `items`). `POST /<media id>/comments` takes a `message` on a published
//! post of the token's account.
//!
//! Facebook Login: `GET /v21.0/dialog/oauth` ([`FakeInstagram::oauth_base_url`])
//! checks `client_id`, `response_type=code`, an absolute `redirect_uri`, a `scope`
//! with `instagram_basic` and `instagram_content_publish`, and a `state`, connects a
//! new account (`connected_<n>`) and answers `302` to
//! `redirect_uri?code=<code>&state=<state>`. `GET|POST /v21.0/oauth/access_token`
//! checks `client_id`/`client_secret` ([`FAKE_CLIENT_ID`]/[`FAKE_CLIENT_SECRET`] unless
//! [`FakeInstagram::set_client`]) and exchanges a single-use code bound to its
//! `redirect_uri` for a short-lived user token, or (`grant_type=fb_exchange_token`) a
//! live user token for a new long-lived one (60 days); the old user token stops
//! working. `GET /v21.0/me/accounts` with a user token answers the account's Page with
//! a fresh Page token (accepted for publishing) and its `instagram_business_account`.

// Helpers hand ready-made error responses back to their handler; they are rare.
#![allow(clippy::result_large_err)]

mod errors;
mod graph;
mod oauth;
mod pull;
mod state;
mod upload;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use fanout_core::secrecy::SecretString;
use fanout_core::Connection;
use serde_json::{json, Value};
use url::Url;

use crate::fake::{ErrorCase, FakePlatform, OptionCase, OptionMedia, PlatformError};
use crate::faults::{apply_faults, Faults};
use crate::server::FakeServer;
use state::Shared;

/// The API version the fake serves.
pub const VERSION: &str = "v21.0";
/// The app id the fake's OAuth routes accept unless [`FakeInstagram::set_client`].
pub const FAKE_CLIENT_ID: &str = "fake-instagram-app-id";
/// The app secret the fake's token endpoint accepts unless [`FakeInstagram::set_client`].
pub const FAKE_CLIENT_SECRET: &str = "fake-instagram-app-secret";

/// The fake Instagram API on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct FakeInstagram {
    shared: Arc<Shared>,
    _server: FakeServer,
}

impl FakeInstagram {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn spawn() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let root = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(Shared::new(root));
        let graph = Router::new()
            .route("/me", get(graph::me))
            .route("/me/accounts", get(oauth::accounts))
            .route("/dialog/oauth", get(oauth::dialog))
            .route(
                "/oauth/access_token",
                get(oauth::access_token).post(oauth::access_token),
            )
            .route("/{id}", get(graph::container_status))
            .route("/{id}/media", post(graph::create_container))
            .route("/{id}/media_publish", post(graph::media_publish))
            .route("/{id}/comments", post(graph::comment))
            .route(
                "/{id}/content_publishing_limit",
                get(graph::publishing_limit),
            )
            .fallback(graph::unknown_path);
        let app = Router::new()
            .nest(&format!("/{VERSION}"), graph)
            .route(
                &format!("/ig-api-upload/{VERSION}/{{id}}"),
                post(upload::receive).get(upload::progress),
            )
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

    /// The Graph base, `http://127.0.0.1:<port>/v21.0/`.
    pub fn base_url(&self) -> Url {
        let mut url = self.shared.root.clone();
        url.set_path(&format!("/{VERSION}/"));
        url
    }

    /// The upload host, `http://127.0.0.1:<port>/` (uploads go to
    /// `ig-api-upload/v21.0/<container id>` under it).
    pub fn upload_base_url(&self) -> Url {
        self.shared.root.clone()
    }

    /// Accepts `token` for the account `account_name` (created on first use).
    pub fn accept_token(&self, token: &str, account_name: &str) {
        let mut inner = self.shared.lock();
        let user_id = inner.user_id(account_name);
        let account = state::Account {
            name: account_name.to_string(),
            user_id,
        };
        inner.oauth.accept(token, account);
    }

    /// The IG user id of `account_name` (created on first use).
    pub fn ig_user_id(&self, account_name: &str) -> String {
        self.shared.lock().user_id(account_name)
    }

    /// Sets every account's daily publishing cap (100 by default).
    pub fn set_publishing_quota(&self, total: u64) {
        self.shared.lock().quota_total = total;
    }

    /// Makes the next upload request stop after `bytes` body bytes with a retriable
    /// 503; the bytes received so far are kept, so the upload can resume.
    pub fn interrupt_next_upload_after(&self, bytes: u64) {
        self.shared.lock().interrupt_upload_after = Some(bytes);
    }

    /// Makes every container answer `IN_PROGRESS` to this many status reads once its
    /// media is complete (1 by default), to model slow processing.
    pub fn set_processing_reads(&self, reads: u32) {
        self.shared.lock().processing_reads = reads.max(1);
    }

    /// Every comment posted, as (media id, message), in order.
    pub fn comments(&self) -> Vec<(String, String)> {
        self.shared.lock().comments.clone()
    }

    /// How many containers were created so far.
    pub fn containers_created(&self) -> usize {
        self.shared.lock().containers.len()
    }

    /// How many upload requests arrived so far.
    pub fn upload_requests(&self) -> u64 {
        self.shared.lock().upload_requests
    }

    /// The login dialog base, `http://127.0.0.1:<port>/v21.0/` (the dialog is
    /// `dialog/oauth` under it; the token endpoint is `oauth/access_token` under
    /// [`FakeInstagram::base_url`], the same place).
    pub fn oauth_base_url(&self) -> Url {
        FakeInstagram::base_url(self)
    }

    /// Sets the app credentials the OAuth routes accept.
    pub fn set_client(&self, client_id: &str, client_secret: &str) {
        self.shared
            .lock()
            .oauth
            .set_client(client_id, client_secret);
    }

    /// A connection of `account_name` as a login leaves it: a Page token as access
    /// token, a long-lived user token as refresh token, `expires_at`, and `user_id`.
    pub fn refreshable_connection(
        &self,
        account_name: &str,
        expires_at: DateTime<Utc>,
    ) -> Connection {
        let mut inner = self.shared.lock();
        let user_token = inner.oauth.issue_refresh(account_name.to_string());
        let page_token = oauth::issue_page_token(&mut inner, account_name);
        let user_id = inner.user_id(account_name);
        let mut connection =
            Connection::new(account_name, page_token).with_attribute("user_id", user_id);
        connection.refresh_token = Some(SecretString::from(user_token));
        connection.expires_at = Some(expires_at);
        connection
    }

    /// Makes the fake answer `token` (Page or user token) as expired (code 190,
    /// subcode 463), for publishing and for `fb_exchange_token`.
    pub fn expire_access_token(&self, token: &str) {
        self.shared.lock().oauth.expire(token);
    }

    /// Makes the fake answer the user token `token` as revoked (code 190, subcode 458).
    pub fn revoke_refresh_token(&self, token: &str) {
        self.shared.lock().oauth.revoke(token);
    }

    /// How many `fb_exchange_token` calls (refreshes) arrived so far.
    pub fn refresh_calls(&self) -> usize {
        self.shared.lock().oauth.refresh_calls()
    }

    /// The fault switchboard (shared with the server).
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }
}

impl FakePlatform for FakeInstagram {
    fn platform(&self) -> &'static str {
        "instagram"
    }

    fn connection(&self, account_name: &str) -> Connection {
        let token = format!("IGQ{:032x}", rand::random::<u128>());
        self.accept_token(&token, account_name);
        Connection::new(account_name, token)
            .with_attribute("user_id", self.ig_user_id(account_name))
    }

    fn publish_route(&self) -> &'static str {
        "/media_publish"
    }

    fn first_route(&self) -> &'static str {
        "/content_publishing_limit"
    }

    fn error_response(&self, error: PlatformError) -> (u16, Value) {
        match error {
            PlatformError::ExpiredToken => (
                400,
                errors::graph_body(
                    190,
                    Some(463),
                    "Error validating access token: Session has expired.",
                ),
            ),
            PlatformError::RateLimited { .. } => (
                429,
                errors::graph_body(4, None, "(#4) Application request limit reached"),
            ),
            PlatformError::ServerError => (
                500,
                errors::graph_body(
                    2,
                    None,
                    "An unexpected error has occurred. Please retry your request later.",
                ),
            ),
        }
    }

    super::forward_oauth!(FakeInstagram, "/oauth/access_token");

    fn option_cases(&self) -> Vec<OptionCase> {
        vec![
            OptionCase::new(
                OptionMedia::Video,
                &[
                    ("share_to_feed", "false"),
                    ("location_id", "110843418940484"),
                    ("thumb_offset", "2500"),
                ],
                &[
                    ("/media_type", json!("REELS")),
                    ("/share_to_feed", json!("false")),
                    ("/location_id", json!("110843418940484")),
                    ("/thumb_offset", json!("2500")),
                ],
            ),
            OptionCase::new(
                OptionMedia::Photos(1),
                &[
                    ("location_id", "42"),
                    ("instagram_alt_text", "A red bicycle"),
                ],
                &[
                    ("/location_id", json!("42")),
                    ("/alt_text", json!("A red bicycle")),
                ],
            ),
            OptionCase::new(
                OptionMedia::Photos(2),
                &[("collaborators", "partner"), ("location_id", "7")],
                &[
                    ("/media_type", json!("CAROUSEL")),
                    ("/collaborators", json!("[\"partner\"]")),
                    ("/location_id", json!("7")),
                ],
            ),
        ]
    }

    fn error_cases(&self) -> Vec<ErrorCase> {
        use fanout_core::ErrorKind::{
            MediaRejected, RateLimited, Rejected, TokenExpired, Transient,
        };
        let route = self.first_route();
        [
            (400, 190, Some(463), TokenExpired),
            (400, 190, Some(460), TokenExpired),
            (400, 190, Some(467), TokenExpired),
            (400, 4, None, RateLimited),
            (400, 17, None, RateLimited),
            (400, 32, None, RateLimited),
            (400, 613, None, RateLimited),
            (400, 80002, None, RateLimited),
            (400, 9, Some(2_207_042), RateLimited),
            (400, 100, None, Rejected),
            (400, 2_207_026, None, MediaRejected),
            (400, 9004, Some(2_207_052), MediaRejected),
            (500, 1, None, Transient),
            (500, 2, None, Transient),
        ]
        .into_iter()
        .map(|(status, code, subcode, kind)| ErrorCase {
            route,
            status,
            body: errors::graph_body(code, subcode, "conformance error"),
            kind,
        })
        .collect()
    }

    /// Instagram's processing is counted in status reads: the publisher reads at most
    /// once a millisecond, so one read per millisecond of `at_least` holds long enough.
    fn hold_processing(&self, at_least: std::time::Duration) -> bool {
        let reads = u32::try_from(at_least.as_millis()).unwrap_or(u32::MAX);
        self.set_processing_reads(reads);
        true
    }
}
