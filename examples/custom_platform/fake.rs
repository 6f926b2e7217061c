//! A strict fake of Postbox for the tests: it refuses what the real API would refuse
//! (a missing or unknown token, an unknown media id, a caption over 280 characters, a
//! visibility it does not know, media that is neither MP4 nor JPEG/PNG), records
//! every post with the size and SHA-256 of the bytes it received, and takes the
//! testkit's injected faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fanout_core::Connection;
use fanout_testkit::faults::apply_faults;
use fanout_testkit::{
    ErrorCase, FakePlatform, FakeServer, Fault, Faults, MediaHasher, OptionCase, OptionMedia,
    PlatformError, PublishLog, PublishedPost, ReceivedMedia,
};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::publisher::{ID, MAX_CAPTION_CHARS};

/// The fake Postbox API on a loopback port.
pub struct FakePostbox {
    server: FakeServer,
    state: Arc<Shared>,
    faults: Faults,
}

#[derive(Default)]
struct Shared {
    /// Access token → the account it belongs to.
    tokens: Mutex<HashMap<String, String>>,
    /// Media id → (owner, what was received).
    media: Mutex<HashMap<String, (String, ReceivedMedia)>>,
    posts: PublishLog,
    next_id: Mutex<u64>,
}

impl Shared {
    fn next(&self, prefix: &str) -> String {
        let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("{prefix}{n}")
    }

    /// The account of the request's bearer token, or the 401 Postbox answers.
    fn account(&self, headers: &HeaderMap) -> Result<String, Box<Response>> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        token.and_then(|t| tokens.get(t).cloned()).ok_or_else(|| {
            Box::new(error(
                401,
                "token_expired",
                "The access token is not valid.",
            ))
        })
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

impl FakePostbox {
    /// Starts the fake.
    pub async fn spawn() -> std::io::Result<Self> {
        let state = Arc::new(Shared::default());
        let faults = Faults::default();
        let app = Router::new()
            .route(
                "/v1/media",
                // Postbox takes files up to 512 MiB.
                post(upload).layer(axum::extract::DefaultBodyLimit::max(512 << 20)),
            )
            .route("/v1/posts", post(create_post))
            .with_state(Arc::clone(&state))
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                apply_faults,
            ));
        Ok(Self {
            server: FakeServer::spawn(app).await?,
            state,
            faults,
        })
    }
}

async fn upload(State(state): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let account = match state.account(&headers) {
        Ok(account) => account,
        Err(refused) => return *refused,
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(content_type, "video/mp4" | "image/jpeg" | "image/png") {
        return error(
            415,
            "unsupported_media",
            "Only MP4 videos and JPEG or PNG photos.",
        );
    }
    // Hashed as it arrives: the fake holds no file in memory, however large.
    let mut hasher = MediaHasher::default();
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(chunk) => hasher.update(&chunk),
            Err(_) => return error(400, "invalid", "The upload broke off."),
        }
    }
    if hasher.size() == 0 {
        return error(400, "invalid", "The file is empty.");
    }
    let id = state.next("m");
    state
        .media
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), (account, hasher.finish()));
    (StatusCode::CREATED, Json(json!({"media_id": id}))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPost {
    caption: String,
    media_ids: Vec<String>,
    visibility: String,
}

async fn create_post(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let account = match state.account(&headers) {
        Ok(account) => account,
        Err(refused) => return *refused,
    };
    let Ok(new) = serde_json::from_slice::<NewPost>(&body) else {
        return error(400, "invalid", "The body is not a post.");
    };
    if new.caption.chars().count() > MAX_CAPTION_CHARS {
        return error(400, "invalid", "The caption is longer than 280 characters.");
    }
    if !matches!(new.visibility.as_str(), "public" | "private") {
        return error(400, "invalid", "Unknown visibility.");
    }
    if new.media_ids.is_empty() || new.media_ids.len() > 4 {
        return error(400, "invalid", "A post has 1 to 4 media.");
    }
    let mut received = Vec::new();
    {
        let media = state.media.lock().unwrap_or_else(|e| e.into_inner());
        for id in &new.media_ids {
            match media.get(id) {
                Some((owner, got)) if *owner == account => received.push(got.clone()),
                _ => return error(400, "invalid", "Unknown media id."),
            }
        }
    }
    let id = state.next("p");
    state.posts.push(PublishedPost {
        id: id.clone(),
        account,
        caption: new.caption,
        media: received,
        options: json!({"visibility": new.visibility}),
    });
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

impl FakePlatform for FakePostbox {
    fn platform(&self) -> &'static str {
        ID
    }

    fn base_url(&self) -> Url {
        self.server.base_url()
    }

    fn connection(&self, account_name: &str) -> Connection {
        let token = format!("pbx-{}", self.state.next("t"));
        self.state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), account_name.to_string());
        Connection::new(account_name, token)
    }

    fn published(&self) -> Vec<PublishedPost> {
        self.state.posts.all()
    }

    fn publish_route(&self) -> &'static str {
        "/v1/posts"
    }

    fn first_route(&self) -> &'static str {
        "/v1/media"
    }

    fn error_response(&self, error: PlatformError) -> (u16, Value) {
        let (status, code) = match error {
            PlatformError::ExpiredToken => (401, "token_expired"),
            PlatformError::RateLimited { .. } => (429, "rate_limited"),
            PlatformError::ServerError => (503, "unavailable"),
        };
        (
            status,
            json!({"error": {"code": code, "message": "Postbox says no."}}),
        )
    }

    fn inject(&self, fault: Fault) {
        self.faults.inject(fault);
    }

    fn clear_faults(&self) {
        self.faults.clear();
    }

    fn option_cases(&self) -> Vec<OptionCase> {
        vec![
            OptionCase::new(
                OptionMedia::Video,
                &[("postbox_visibility", "private")],
                &[("/visibility", json!("private"))],
            ),
            OptionCase::new(
                OptionMedia::Photos(2),
                &[],
                &[("/visibility", json!("public"))],
            ),
        ]
    }

    fn error_cases(&self) -> Vec<ErrorCase> {
        let case = |status, code: &str, kind| ErrorCase {
            route: "/v1/posts",
            status,
            body: json!({"error": {"code": code, "message": "no"}}),
            kind,
        };
        use fanout_core::ErrorKind::*;
        vec![
            case(401, "token_expired", TokenExpired),
            case(429, "rate_limited", RateLimited),
            case(400, "invalid", Rejected),
            case(415, "unsupported_media", MediaRejected),
        ]
    }
}
