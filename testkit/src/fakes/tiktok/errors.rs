//! TikTok's answer envelope, as the fake sends it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn log_id() -> String {
    format!("2024{:020}", rand::random::<u64>())
}

/// `{"data": {}, "error": {"code", "message", "log_id"}}`.
pub(crate) fn body(code: &str, message: &str) -> Value {
    json!({
        "data": {},
        "error": { "code": code, "message": message, "log_id": log_id() },
    })
}

/// An error answer.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(body(code, message))).into_response()
}

/// A success answer carrying `data`.
pub(crate) fn ok(data: Value) -> Response {
    Json(json!({
        "data": data,
        "error": { "code": "ok", "message": "", "log_id": log_id() },
    }))
    .into_response()
}

/// HTTP 400 `invalid_params`.
pub(crate) fn invalid_params(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_params", message)
}

/// HTTP 400 `invalid_file_upload` (or another status for upload problems).
pub(crate) fn invalid_upload(status: StatusCode, message: &str) -> Response {
    error(status, "invalid_file_upload", message)
}

/// The message of an unknown token.
pub(crate) const INVALID_TOKEN: &str = "The access token is invalid or not found in the request.";
/// The message of an expired token.
pub(crate) const EXPIRED_TOKEN: &str =
    "Access token is expired. Please refresh the token and retry.";

/// HTTP 401 `access_token_invalid`.
pub(crate) fn token(message: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, "access_token_invalid", message)
}
