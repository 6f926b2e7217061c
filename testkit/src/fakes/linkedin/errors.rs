//! LinkedIn's error answers, as the fake sends them:
//! `{"status", "serviceErrorCode", "code", "message"}`, plus `errorDetails` for
//! validation failures.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The plain error body.
pub(crate) fn body(status: u16, service_code: u32, code: &str, message: &str) -> Value {
    json!({
        "status": status,
        "serviceErrorCode": service_code,
        "code": code,
        "message": message,
    })
}

fn respond(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// 401 `EXPIRED_ACCESS_TOKEN`.
pub(crate) fn expired_body() -> Value {
    body(
        401,
        65601,
        "EXPIRED_ACCESS_TOKEN",
        "The token used in the request has expired",
    )
}

/// 401 for a token starting with `expired`.
pub(crate) fn expired_token() -> Response {
    respond(401, expired_body())
}

/// 401 for a token starting with `revoked`.
pub(crate) fn revoked_token() -> Response {
    respond(
        401,
        body(
            401,
            65601,
            "REVOKED_ACCESS_TOKEN",
            "The token used in the request has been revoked by the user",
        ),
    )
}

/// 401 for a missing or unknown token.
pub(crate) fn invalid_token() -> Response {
    respond(
        401,
        body(401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    )
}

/// 426 without a `LinkedIn-Version` header.
pub(crate) fn version_missing() -> Response {
    respond(
        426,
        body(
            426,
            0,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the \
             LinkedIn-Version header.",
        ),
    )
}

/// 426 for a version LinkedIn does not serve.
pub(crate) fn version_inactive(version: &str) -> Response {
    respond(
        426,
        body(
            426,
            0,
            "NONEXISTENT_VERSION",
            &format!("Requested version {version} is not active"),
        ),
    )
}

/// 400 without `X-Restli-Protocol-Version: 2.0.0`.
pub(crate) fn protocol_missing() -> Response {
    respond(
        400,
        body(
            400,
            100,
            "ILLEGAL_ARGUMENT",
            "Rest.li protocol version 2.0.0 is required: send X-Restli-Protocol-Version: 2.0.0",
        ),
    )
}

/// 403 `ACCESS_DENIED`.
pub(crate) fn access_denied(message: &str) -> Response {
    respond(403, body(403, 100, "ACCESS_DENIED", message))
}

/// 400 with a plain message.
pub(crate) fn bad_request(message: &str) -> Response {
    respond(400, body(400, 100, "BAD_REQUEST", message))
}

/// 404 for an unknown resource.
pub(crate) fn not_found(message: &str) -> Response {
    respond(404, body(404, 100, "NOT_FOUND", message))
}

/// A validation failure with `errorDetails.inputErrors` (422, or 400 when `status`
/// says so).
pub(crate) fn invalid_input(status: u16, field_path: &str, description: &str) -> Response {
    respond(
        status,
        json!({
            "status": status,
            "code": if status == 422 { "UNPROCESSABLE_ENTITY" } else { "BAD_REQUEST" },
            "message": format!("ERROR :: {field_path} :: {description}"),
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "errorDetails": {
                "inputErrors": [{
                    "description": description,
                    "input": { "inputPath": { "fieldPath": field_path } },
                    "code": "INVALID_VALUE",
                }]
            },
        }),
    )
}

/// 429 body for the daily member limit.
pub(crate) fn throttled_body() -> Value {
    body(
        429,
        101,
        "TOO_MANY_REQUESTS",
        "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
    )
}

/// 429 for the daily member limit.
pub(crate) fn throttled() -> Response {
    respond(429, throttled_body())
}

/// 500 body.
pub(crate) fn server_error_body() -> Value {
    body(500, 0, "INTERNAL_SERVER_ERROR", "Internal Server Error")
}
