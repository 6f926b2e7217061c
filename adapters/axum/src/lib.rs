//! fanout-axum: an axum [`Router`] serving fanout's upload endpoints and media route.
//!
//! The router holds no business logic: it hands the raw body stream and two headers to
//! [`fanout_core::Engine`] and writes the engine's answer.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/upload` | one video to many platforms |
//! | `POST /api/upload_photos` | one or more photos to many platforms |
//! | `GET /media/{token}` | hosted media that platforms pull (unguessable, expiring links) |
//! | `GET /api/connect/{platform}?user=<profile>` | starts connecting an account: 302 to the platform's authorization page |
//! | `GET /api/connect/{platform}/callback` | the OAuth callback: stores the connection on the profile |
//!
//! Mount it beside your own routes:
//!
//! ```no_run
//! # async fn run(engine: fanout_core::Engine) -> std::io::Result<()> {
//! let app = axum::Router::new()
//!     .route("/healthz", axum::routing::get(|| async { "ok" }))
//!     .merge(fanout_axum::router(engine));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
#![forbid(unsafe_code)]

use axum::body::Body;
use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fanout_core::{ApiError, ApiResponse, Endpoint, Engine, UploadRequest};

/// The routes, built from the engine and nothing else.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/api/upload", post(upload_video))
        .route("/api/upload_photos", post(upload_photos))
        .route("/media/{token}", get(media))
        .route("/api/connect/{platform}", get(connect_start))
        .route("/api/connect/{platform}/callback", get(connect_finish))
        // The engine enforces its own cap (`max_upload_bytes`) while streaming.
        .layer(DefaultBodyLimit::disable())
        .with_state(engine)
}

async fn upload_video(State(engine): State<Engine>, request: Request) -> Response {
    upload(engine, Endpoint::Video, request).await
}

async fn upload_photos(State(engine): State<Engine>, request: Request) -> Response {
    upload(engine, Endpoint::Photos, request).await
}

async fn upload(engine: Engine, endpoint: Endpoint, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = engine
        .handle_upload(
            endpoint,
            UploadRequest {
                authorization: header_text(&parts.headers, header::AUTHORIZATION),
                content_type: header_text(&parts.headers, header::CONTENT_TYPE),
                body: body.into_data_stream(),
            },
        )
        .await;
    json_response(answer)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn json_response(answer: ApiResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(answer.body)).into_response()
}

async fn connect_start(
    State(engine): State<Engine>,
    Path(platform): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorization = header_text(&headers, header::AUTHORIZATION);
    match engine
        .connect_start(
            authorization.as_deref(),
            &platform,
            query.get("user").map(String::as_str),
        )
        .await
    {
        Err(err) => json_response(err.into()),
        Ok(redirect) => {
            let url = redirect.authorization_url.to_string();
            (
                StatusCode::FOUND,
                [(header::LOCATION, url.clone())],
                Json(serde_json::json!({"success": true, "authorization_url": url})),
            )
                .into_response()
        }
    }
}

async fn connect_finish(
    State(engine): State<Engine>,
    Path(platform): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).map(String::as_str);
    match engine
        .connect_finish(&platform, field("code"), field("state"), field("error"))
        .await
    {
        Ok(body) => json_response(ApiResponse { status: 200, body }),
        Err(err) => json_response(err.into()),
    }
}

async fn media(State(engine): State<Engine>, Path(token): Path<String>) -> Response {
    match engine.media_host().resolve(&token) {
        None => json_response(ApiError::new(404, "Media not found or link expired").into()),
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.content_type().to_string()),
                (header::CONTENT_LENGTH, file.len().to_string()),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            Body::from_stream(file.stream()),
        )
            .into_response(),
    }
}
