//! A strict fake of LinkedIn's versioned Posts, Videos and Images APIs and of
//! `GET /v2/userinfo`, with the upload URLs it hands out served on the same host.
//!
//! Every route is behind the shared fault middleware. What it enforces, as LinkedIn
//! does:
//! - `Authorization: Bearer <token>` of a known member everywhere; tokens starting
//!   with `expired` answer 401 `EXPIRED_ACCESS_TOKEN`, with `revoked` 401
//!   `REVOKED_ACCESS_TOKEN`, unknown ones 401 `INVALID_ACCESS_TOKEN`;
//! - on `/rest` calls, an active `LinkedIn-Version` (426 `VERSION_MISSING` /
//!   `NONEXISTENT_VERSION` otherwise) and `X-Restli-Protocol-Version: 2.0.0` (400);
//! - owners and authors are the token's member (`urn:li:person:<id>`) or an
//!   organization it administers (one per account by default, see
//!   [`FakeLinkedIn::organization_id`]); anything else answers 403 `ACCESS_DENIED`;
//! - videos of 75 KB – 5 GB in parts of 4,194,304 bytes (the last one the remainder);
//!   each part must carry exactly its bytes, in part order, and answers an `ETag`;
//!   `finalizeUpload` needs the upload token and every ETag in order; a finalized video
//!   reads `PROCESSING` at least once, then `AVAILABLE` (or `PROCESSING_FAILED` when
//!   it is not an MP4);
//! - images are JPG, PNG or GIF (recognised from their bytes);
//! - a post needs an escaped "little text" `commentary` of at most 3000 characters,
//!   `visibility` `PUBLIC`/`CONNECTIONS`/`LOGGED_IN`, `lifecycleState: PUBLISHED`,
//!   `MAIN_FEED` distribution, and media the author owns and that is ready (a video
//!   `AVAILABLE`, images uploaded; 2–20 images in `multiImage`), else 422 with
//!   `errorDetails.inputErrors`; past the daily member limit it answers 429.
//!
//! - a post's `isReshareDisabledByAuthor` is a boolean and each `altText` at most 4086
//!   characters;
//! - a comment (`POST /rest/socialActions/<encoded post urn>/comments`) needs an
//!   encoded urn of an existing post, an `actor` the member may act as, `object` (when
//!   given) equal to the post, and an escaped little-text `message.text` of 1–1250
//!   characters; comments are
//!   kept ([`FakeLinkedIn::comments`]).
//!
//! A post answers 201 with an empty body and `x-restli-id: urn:li:share:<n>`.
//!
//! `GET /rest/posts?q=author&author=<encoded urn>` (the Posts API's author finder)
//! lists an author's posts newest first. As on LinkedIn, reading a member's own posts
//! needs the partner-only `r_member_social` scope, so person authors answer 403
//! `ACCESS_DENIED` unless [`FakeLinkedIn::set_member_post_reads`] says the app has it;
//! pages the member administers are listed.
//!
//! The OAuth endpoints (`GET /oauth/v2/authorization`, `POST /oauth/v2/accessToken`)
//! are served on the same host (point `oauth_base_url` at [`FakeLinkedIn::base_url`]);
//! they accept the app [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`] unless
//! [`FakeLinkedIn::set_client`] says otherwise. Tokens they issue work on every API
//! route for the member they belong to. See the `oauth` module docs for what they
//! check.

// Helpers hand ready-made error responses back to their handler.
#![allow(clippy::result_large_err)]

mod auth;
mod comments;
mod errors;
mod images;
mod oauth;
mod posts;
mod state;
mod videos;

use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use fanout_core::Connection;
use serde_json::{json, Value};
use url::Url;

use crate::fake::{ErrorCase, FakePlatform, OptionCase, OptionMedia, PlatformError};
use crate::faults::{apply_faults, Faults};
use crate::server::FakeServer;
use state::{Member, Shared};

pub use comments::MAX_COMMENT_CHARS;
pub use posts::{MAX_ALT_TEXT_CHARS, MAX_COMMENTARY_CHARS};
pub use state::{FakeComment, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_DAILY_POSTS};

/// The fake LinkedIn API on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct FakeLinkedIn {
    shared: Arc<Shared>,
    _server: FakeServer,
}

impl FakeLinkedIn {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn spawn() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let root = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(Shared::new(root));
        let app = Router::new()
            .route("/v2/userinfo", get(auth::userinfo))
            .route("/oauth/v2/authorization", get(oauth::authorize))
            .route("/oauth/v2/accessToken", post(oauth::access_token))
            .route("/rest/videos", post(videos::action_call))
            .route("/rest/videos/{urn}", get(videos::status))
            .route("/rest/images", post(images::action_call))
            .route(
                "/rest/posts",
                post(posts::create).get(posts::find_by_author),
            )
            .route("/rest/socialActions/{urn}/comments", post(comments::create))
            .route(
                "/dms-uploads/video/{id}/part/{index}",
                put(videos::upload_part),
            )
            .route("/dms-uploads/image/{id}", put(images::upload))
            .fallback(unknown_path)
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

    /// The API host, `http://127.0.0.1:<port>/` (point `base_url` here).
    pub fn base_url(&self) -> Url {
        self.shared.root.clone()
    }

    /// Accepts `token` for the member `account_name`; the member's person id is
    /// derived from the name ([`FakeLinkedIn::person_urn`]).
    pub fn accept_token(&self, token: &str, account_name: &str) {
        let member = Member::named(account_name);
        self.shared.lock().oauth.accept(token, member);
    }

    /// `urn:li:person:<id>` of the member `account_name`.
    pub fn person_urn(&self, account_name: &str) -> String {
        format!("urn:li:person:{}", state::person_id(account_name))
    }

    /// The id of the first organization `account_name` administers (by default one
    /// derived from the name).
    pub fn organization_id(&self, account_name: &str) -> String {
        self.shared
            .lock()
            .organizations_of(account_name)
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces the organizations `account_name` administers.
    pub fn set_organizations(&self, account_name: &str, organization_ids: &[&str]) {
        self.shared.lock().organizations.insert(
            account_name.to_string(),
            organization_ids.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// Sets the daily per-member post limit (150 by default).
    pub fn set_daily_post_limit(&self, posts: u32) {
        self.shared.lock().daily_post_limit = posts;
    }

    /// How many times a finalized video reads `PROCESSING` before it is ready (1 by
    /// default; at least 1).
    pub fn set_processing_reads(&self, reads: u32) {
        self.shared.lock().processing_reads = reads.max(1);
    }

    /// Keeps every video finalized from now on in `PROCESSING` for at least `wait`
    /// (on top of [`FakeLinkedIn::set_processing_reads`]); `None` turns it off.
    pub fn set_processing_time(&self, wait: Option<std::time::Duration>) {
        self.shared.lock().processing_time = wait;
    }

    /// Whether the author finder (`GET /rest/posts?q=author`) lists a member's own
    /// posts, as for an app LinkedIn granted `r_member_social` (by default it answers
    /// 403 `ACCESS_DENIED`; pages are always listed to their admins).
    pub fn set_member_post_reads(&self, allowed: bool) {
        self.shared.lock().member_post_reads = allowed;
    }

    /// Every comment taken so far, in order.
    pub fn comments(&self) -> Vec<FakeComment> {
        self.shared.lock().comments.clone()
    }

    /// Makes the next finalized video end in `PROCESSING_FAILED`.
    pub fn fail_next_processing(&self) {
        self.shared.lock().fail_next_processing = true;
    }

    /// How many videos were initialized so far.
    pub fn videos_initialized(&self) -> usize {
        self.shared.lock().videos.len()
    }

    /// How many images were initialized so far.
    pub fn images_initialized(&self) -> usize {
        self.shared.lock().images.len()
    }

    /// Sets the app credentials the OAuth endpoints accept (by default
    /// [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`]).
    pub fn set_client(&self, client_id: &str, client_secret: &str) {
        self.shared
            .lock()
            .oauth
            .set_client(client_id, client_secret);
    }

    /// A connection for the member `account_name` (attributes as
    /// [`FakePlatform::connection`]) with an access token, a refresh token valid for a
    /// year, and `expires_at` as given (the fake does not enforce it: use
    /// [`FakeLinkedIn::expire_access_token`] to make the access token fail).
    pub fn refreshable_connection(
        &self,
        account_name: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Connection {
        let mut connection = FakePlatform::connection(self, account_name);
        let refresh = self.shared.lock().oauth.issue_refresh(state::RefreshGrant {
            member: Member::named(account_name),
            scope: "openid profile w_member_social".to_string(),
            expires_at: chrono::Utc::now() + chrono::Duration::seconds(oauth::REFRESH_TOKEN_SECS),
        });
        connection.refresh_token = Some(refresh.into());
        connection.expires_at = Some(expires_at);
        connection
    }

    /// From now on the API answers `token` with 401 `EXPIRED_ACCESS_TOKEN`.
    pub fn expire_access_token(&self, token: &str) {
        self.shared.lock().oauth.expire(token);
    }

    /// From now on the token endpoint answers `token` with `invalid_grant`.
    pub fn revoke_refresh_token(&self, token: &str) {
        self.shared.lock().oauth.revoke(token);
    }

    /// Whether a refresh replaces the refresh token (the old one then stops working).
    /// LinkedIn does not rotate (the default, `false`): it answers the same refresh
    /// token, which keeps the lifetime of the original consent.
    pub fn set_rotate_refresh_tokens(&self, rotate: bool) {
        self.shared.lock().oauth.set_rotate(rotate);
    }

    /// How many `grant_type=refresh_token` requests reached the token endpoint.
    pub fn refresh_calls(&self) -> usize {
        self.shared.lock().oauth.refresh_calls()
    }

    /// The member name the `n`-th approval of the authorization page connects
    /// (`Connected Member <n>`, from 1), for [`FakeLinkedIn::person_urn`].
    pub fn authorized_member_name(n: u64) -> String {
        format!("Connected Member {n}")
    }

    /// The fault switchboard (shared with the server).
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }
}

async fn unknown_path() -> axum::response::Response {
    errors::not_found("No resource is served at this path")
}

impl FakePlatform for FakeLinkedIn {
    fn platform(&self) -> &'static str {
        "linkedin"
    }

    fn connection(&self, account_name: &str) -> Connection {
        let token = self
            .shared
            .lock()
            .oauth
            .issue_access(Member::named(account_name));
        Connection::new(account_name, token)
            .with_attribute("author_urn", self.person_urn(account_name))
    }

    fn publish_route(&self) -> &'static str {
        "/rest/posts"
    }

    fn first_route(&self) -> &'static str {
        "/rest/videos"
    }

    fn error_response(&self, error: PlatformError) -> (u16, Value) {
        match error {
            PlatformError::ExpiredToken => (401, errors::expired_body()),
            PlatformError::RateLimited { .. } => (429, errors::throttled_body()),
            PlatformError::ServerError => (500, errors::server_error_body()),
        }
    }

    super::forward_oauth!(FakeLinkedIn, "/oauth/v2/accessToken");

    fn option_cases(&self) -> Vec<OptionCase> {
        vec![
            OptionCase::new(
                OptionMedia::Video,
                &[
                    ("linkedinVisibility", "Connections"),
                    ("linkedin_disable_reshare", "false"),
                ],
                &[
                    ("/visibility", json!("CONNECTIONS")),
                    ("/isReshareDisabledByAuthor", json!(false)),
                ],
            ),
            OptionCase::new(
                OptionMedia::Photos(2),
                &[
                    ("linkedin_visibility", "logged_in"),
                    ("linkedin_disable_reshare", "true"),
                    ("linkedin_alt_text", "a grey cat"),
                ],
                &[
                    ("/visibility", json!("LOGGED_IN")),
                    ("/isReshareDisabledByAuthor", json!(true)),
                    ("/content/multiImage/images/0/altText", json!("a grey cat")),
                ],
            ),
            OptionCase::new(
                OptionMedia::Photos(1),
                &[("visibility", "PUBLIC")],
                &[("/visibility", json!("PUBLIC"))],
            ),
        ]
    }

    fn error_cases(&self) -> Vec<ErrorCase> {
        use fanout_core::ErrorKind::{RateLimited, Rejected, TokenExpired, Transient};
        let route = self.first_route();
        let validation = json!({
            "status": 422,
            "code": "UNPROCESSABLE_ENTITY",
            "message": "ERROR :: /commentary :: too long",
            "errorDetails": {"inputErrors": [{
                "description": "too long",
                "input": {"inputPath": {"fieldPath": "/commentary"}},
                "code": "INVALID_VALUE",
            }]},
        });
        let case = |status, body, kind| ErrorCase {
            route,
            status,
            body,
            kind,
        };
        vec![
            case(401, errors::expired_body(), TokenExpired),
            case(
                401,
                errors::body(401, 65601, "REVOKED_ACCESS_TOKEN", "revoked"),
                TokenExpired,
            ),
            case(
                401,
                errors::body(401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
                TokenExpired,
            ),
            case(
                403,
                errors::body(403, 100, "ACCESS_DENIED", "Not enough permissions"),
                Rejected,
            ),
            case(422, validation, Rejected),
            case(
                400,
                errors::body(400, 100, "BAD_REQUEST", "bad request"),
                Rejected,
            ),
            case(429, errors::throttled_body(), RateLimited),
            case(500, errors::server_error_body(), Transient),
            case(
                503,
                errors::body(503, 0, "SERVICE_UNAVAILABLE", "Service Unavailable"),
                Transient,
            ),
        ]
    }

    fn hold_processing(&self, at_least: std::time::Duration) -> bool {
        self.set_processing_time((!at_least.is_zero()).then_some(at_least));
        true
    }
}
