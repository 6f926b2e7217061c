//! The Comments API: `POST /rest/socialActions/<url-encoded post urn>/comments` with
//! `actor` and `message.text` (escaped "little text", at most 1250 characters once
//! unescaped), validated as LinkedIn does, recorded on success.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::auth;
use super::errors;
use super::posts::unescape_little_text;
use super::state::{FakeComment, Shared};
use super::videos::json_body;

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1250;

/// `POST /rest/socialActions/<urn>/comments`: 201 with the comment and its urn in
/// `x-restli-id`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Path(post_urn): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let member = match auth::rest_call(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let raw = uri
        .path()
        .trim_start_matches("/rest/socialActions/")
        .trim_end_matches("/comments");
    if raw.contains(':') {
        return errors::bad_request("URNs in a path must be URL-encoded (':' as %3A)");
    }
    let request = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(actor) = request["actor"].as_str() else {
        return errors::invalid_input(422, "/actor", "Field is required");
    };
    if let Some(object) = request.get("object") {
        if object.as_str() != Some(post_urn.as_str()) {
            return errors::invalid_input(422, "/object", "Must be the urn in the path");
        }
    }
    let text = match request["message"]["text"].as_str() {
        Some(text) if !text.trim().is_empty() => text,
        _ => return errors::invalid_input(422, "/message/text", "Field is required"),
    };
    let unescaped = match unescape_little_text(text) {
        Ok(unescaped) => unescaped,
        Err(at) => {
            return errors::invalid_input(
                422,
                "/message/text",
                &format!("Reserved character at byte {at} is not escaped"),
            )
        }
    };
    if unescaped.chars().count() > MAX_COMMENT_CHARS {
        return errors::invalid_input(
            422,
            "/message/text",
            &format!("A comment is at most {MAX_COMMENT_CHARS} characters"),
        );
    }
    let mut inner = shared.lock();
    if !inner.may_act_as(&member, actor) {
        return errors::access_denied(&format!(
            "Not enough permissions to access: comments.CREATE as {actor}"
        ));
    }
    if !inner.posts.contains_key(&post_urn) {
        return errors::not_found(&format!("{post_urn} does not exist"));
    }
    let n = inner.next();
    let id = format!(
        "urn:li:comment:({post_urn},{})",
        7_400_000_000_000_000_000u64 + n
    );
    inner.comments.push(FakeComment {
        id: id.clone(),
        post_id: post_urn.clone(),
        actor: actor.to_string(),
        text: text.to_string(),
    });
    drop(inner);
    let mut response = (
        StatusCode::CREATED,
        Json(json!({
            "actor": actor,
            "object": post_urn,
            "message": { "text": text },
            "commentUrn": id,
        })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-restli-id", value);
    }
    response
}
