//! Graph's and the upload host's error answers, as the fake sends them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Graph's error body: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
pub(crate) fn graph_body(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": format!("A{:016x}", rand::random::<u64>()),
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if code == 1 || code == 2 {
        error["is_transient"] = json!(true);
    }
    json!({ "error": error })
}

/// A Graph error answer.
pub(crate) fn graph(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: &str,
) -> Response {
    (status, Json(graph_body(code, subcode, message))).into_response()
}

/// HTTP 400, code 100: an invalid parameter.
pub(crate) fn invalid_param(message: &str) -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        100,
        None,
        &format!("(#100) {message}"),
    )
}

/// HTTP 400, code 100 subcode 33: an object that does not exist for this token.
pub(crate) fn no_such_object(id: &str) -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        100,
        Some(33),
        &format!(
            "Unsupported request. Object with ID '{id}' does not exist, cannot be loaded due to \
             missing permissions, or does not support this operation."
        ),
    )
}

/// HTTP 400, code 190 subcode 463: the token expired.
pub(crate) fn expired_token() -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        190,
        Some(463),
        "Error validating access token: Session has expired.",
    )
}

/// HTTP 400, code 190: the token is unknown.
pub(crate) fn invalid_token() -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        190,
        None,
        "Invalid OAuth access token - Cannot parse access token",
    )
}

/// HTTP 400, code 9007 subcode 2207027: the container is not finished.
pub(crate) fn not_ready() -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        9007,
        Some(2_207_027),
        "The media is not ready for publishing, please wait for a moment",
    )
}

/// HTTP 400, code 9 subcode 2207042: the daily publishing cap is reached.
pub(crate) fn publishing_limit() -> Response {
    graph(
        StatusCode::BAD_REQUEST,
        9,
        Some(2_207_042),
        "Application request limit reached",
    )
}

/// HTTP 400, code 9004 and a media subcode: the media is refused.
pub(crate) fn media(subcode: i64, message: &str) -> Response {
    graph(StatusCode::BAD_REQUEST, 9004, Some(subcode), message)
}

/// The upload host's error: `{"debug_info": {"retriable", "type", "message"}}`.
pub(crate) fn upload(status: StatusCode, retriable: bool, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "debug_info": { "retriable": retriable, "type": kind, "message": message }
        })),
    )
        .into_response()
}
