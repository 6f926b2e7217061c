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
//! | `GET /api/uploadposts/status?request_id=…` or `?job_id=…` | one job's status |
//! | `GET /api/uploadposts/history?page=&limit=` | one item per platform per job, newest first |
//! | `GET /api/uploadposts/schedule` | scheduled posts that have not started |
//! | `DELETE /api/uploadposts/schedule/{job_id}` | cancels one (its upload is given back) |
//! | `PATCH /api/uploadposts/schedule/{job_id}` | edits its date, time zone, title or caption |
//! | `POST /api/uploadposts/posts/retry` | re-runs the failed platforms of a finished job |
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

use axum::body::{Body, Bytes};
use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use fanout_core::{ApiError, ApiResponse, Endpoint, Engine, UploadRequest};

/// The largest JSON body the schedule-edit and retry routes read.
const JSON_BODY_LIMIT: usize = 64 * 1024;

/// The routes, built from the engine and nothing else.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/api/upload", post(upload_video))
        .route("/api/upload_photos", post(upload_photos))
        .route("/media/{token}", get(media))
        .route("/api/connect/{platform}", get(connect_start))
        .route("/api/connect/{platform}/callback", get(connect_finish))
        .route("/api/uploadposts/status", get(status))
        .route("/api/uploadposts/history", get(history))
        .route("/api/uploadposts/schedule", get(schedule_list))
        .route(
            "/api/uploadposts/schedule/{job_id}",
            patch(schedule_edit)
                .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
                .delete(schedule_cancel),
        )
        .route(
            "/api/uploadposts/posts/retry",
            post(retry).layer(DefaultBodyLimit::max(JSON_BODY_LIMIT)),
        )
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
                request_id: header_text(&parts.headers, X_REQUEST_ID),
                idempotency_key: header_text(&parts.headers, IDEMPOTENCY_KEY)
                    .or_else(|| header_text(&parts.headers, X_IDEMPOTENCY_KEY)),
                body: body.into_data_stream(),
            },
        )
        .await;
    json_response(answer)
}

const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");
const IDEMPOTENCY_KEY: header::HeaderName = header::HeaderName::from_static("idempotency-key");
const X_IDEMPOTENCY_KEY: header::HeaderName = header::HeaderName::from_static("x-idempotency-key");

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn json_response(answer: ApiResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(answer.body)).into_response();
    for (name, value) in answer.headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    header_text(headers, header::AUTHORIZATION)
}

async fn status(
    State(engine): State<Engine>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let field = |name: &str| query.get(name).map(String::as_str);
    json_response(
        engine
            .handle_status(
                authorization(&headers).as_deref(),
                field("request_id"),
                field("job_id"),
            )
            .await,
    )
}

async fn history(
    State(engine): State<Engine>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let field = |name: &str| query.get(name).map(String::as_str);
    json_response(
        engine
            .handle_history(
                authorization(&headers).as_deref(),
                field("page"),
                field("limit"),
            )
            .await,
    )
}

async fn schedule_list(State(engine): State<Engine>, headers: HeaderMap) -> Response {
    json_response(
        engine
            .handle_schedule_list(authorization(&headers).as_deref())
            .await,
    )
}

async fn schedule_cancel(
    State(engine): State<Engine>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    json_response(
        engine
            .handle_schedule_cancel(authorization(&headers).as_deref(), &job_id)
            .await,
    )
}

async fn schedule_edit(
    State(engine): State<Engine>,
    Path(job_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    json_response(
        engine
            .handle_schedule_edit(authorization(&headers).as_deref(), &job_id, &body)
            .await,
    )
}

async fn retry(State(engine): State<Engine>, headers: HeaderMap, body: Bytes) -> Response {
    json_response(
        engine
            .handle_retry(authorization(&headers).as_deref(), &body)
            .await,
    )
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
        Ok(body) => json_response(ApiResponse::new(200, body)),
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
