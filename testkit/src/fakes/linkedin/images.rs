//! The Images API: `initializeUpload` and the image upload URL.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};

use super::auth;
use super::errors;
use super::state::{signature, Image, Member, Shared, MAX_IMAGE_BYTES};
use super::videos::{action, json_body, sig};
use crate::record::MediaHasher;

/// Bytes kept to recognise the image format.
const HEAD_LEN: usize = 8;

/// `POST /rest/images?action=initializeUpload`.
pub(crate) async fn action_call(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let member = match auth::rest_call(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let request = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if action(query.as_deref()).as_deref() != Some("initializeUpload") {
        return errors::bad_request("Unsupported action: use initializeUpload");
    }
    initialize(&shared, &member, &request)
}

fn initialize(shared: &Shared, member: &Member, request: &Value) -> Response {
    let Some(owner) = request["initializeUploadRequest"]["owner"].as_str() else {
        return errors::invalid_input(400, "/initializeUploadRequest/owner", "Field is required");
    };
    let mut inner = shared.lock();
    if !inner.may_act_as(member, owner) {
        return errors::access_denied(&format!(
            "Not enough permissions to access: images.CREATE for owner {owner}"
        ));
    }
    let n = inner.next();
    let id = format!("D4E10AQ{n:010}");
    let urn = format!("urn:li:image:{id}");
    let sig = signature();
    let mut url = shared.root.clone();
    url.set_path(&format!("/dms-uploads/image/{id}"));
    url.set_query(Some(&format!("sig={sig}")));
    inner.images.insert(
        urn.clone(),
        Image {
            owner: owner.to_string(),
            signature: sig,
            received: None,
        },
    );
    Json(json!({
        "value": {
            "uploadUrlExpiresAt": chrono::Utc::now().timestamp_millis() + 24 * 3600 * 1000,
            "uploadUrl": url.as_str(),
            "image": urn,
        }
    }))
    .into_response()
}

/// Whether the first bytes are a JPEG, PNG or GIF.
fn is_supported_image(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A])
        || head.starts_with(b"GIF87a")
        || head.starts_with(b"GIF89a")
}

/// `PUT /dms-uploads/image/<id>?sig=…`: the whole image, a JPEG, PNG or GIF.
pub(crate) async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let member = match auth::member(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let urn = format!("urn:li:image:{id}");
    {
        let mut guard = shared.lock();
        let inner = &mut *guard;
        let Some((owner, signature)) = inner
            .images
            .get(&urn)
            .map(|i| (i.owner.clone(), i.signature.clone()))
        else {
            return errors::not_found("No upload awaits at this URL");
        };
        if !inner.may_act_as(&member, &owner) {
            return errors::access_denied("Not enough permissions to upload this image");
        }
        if sig(query.as_deref()).as_deref() != Some(signature.as_str()) {
            return errors::access_denied("The upload URL signature is invalid");
        }
    }
    let mut hasher = MediaHasher::default();
    let mut head = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return errors::bad_request("The image upload was interrupted");
        };
        if hasher.size() + chunk.len() as u64 > MAX_IMAGE_BYTES {
            return errors::bad_request(&format!(
                "The image is larger than {MAX_IMAGE_BYTES} bytes"
            ));
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
    }
    if !is_supported_image(&head) {
        return errors::bad_request("Unsupported image format: upload a JPG, PNG or GIF");
    }
    let mut inner = shared.lock();
    match inner.images.get_mut(&urn) {
        Some(image) => {
            image.received = Some(hasher.finish());
            StatusCode::CREATED.into_response()
        }
        None => errors::not_found("No upload awaits at this URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::is_supported_image;

    #[test]
    fn sniffs_jpeg_png_gif_only() {
        assert!(is_supported_image(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(is_supported_image(b"\x89PNG\r\n\x1a\n"));
        assert!(is_supported_image(b"GIF89a.."));
        assert!(!is_supported_image(b"RIFF\0\0\0\0WEBP"));
        assert!(!is_supported_image(b""));
    }
}
