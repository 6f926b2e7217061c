//! The resumable-upload host: `POST`/`GET /ig-api-upload/v21.0/<container id>`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::json;

use super::errors;
use super::state::{Account, Kind, Phase, Shared};
use crate::record::MediaHasher;

/// Bytes kept to recognise the video format.
const HEAD_LEN: usize = 12;

fn auth_error(message: &str) -> Response {
    errors::upload(StatusCode::UNAUTHORIZED, false, "AuthError", message)
}

fn refused(message: &str) -> Response {
    errors::upload(
        StatusCode::BAD_REQUEST,
        false,
        "ProcessingFailedError",
        message,
    )
}

/// `Authorization: OAuth <token>` of the container's owner.
fn authenticate(shared: &Shared, headers: &HeaderMap, id: &str) -> Result<Account, Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("OAuth "))
    else {
        return Err(auth_error(
            "An Authorization: OAuth <token> header is required.",
        ));
    };
    if token.starts_with("expired") {
        return Err(auth_error(
            "Error validating access token: Session has expired.",
        ));
    }
    let inner = shared.lock();
    let Some(account) = inner.oauth.account(token).cloned() else {
        return Err(auth_error("Invalid OAuth access token."));
    };
    match inner.containers.get(id) {
        Some(c) if c.account.user_id == account.user_id && matches!(c.kind, Kind::Video) => {
            Ok(account)
        }
        _ => Err(refused(&format!(
            "No video container {id} awaits an upload."
        ))),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `GET`: how many bytes arrived (`file_offset`), to resume from.
pub(crate) async fn progress(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authenticate(&shared, &headers, &id) {
        return r;
    }
    let inner = shared.lock();
    let Some(container) = inner.containers.get(&id) else {
        return refused("unknown container");
    };
    if container.phase != Phase::AwaitingUpload {
        return Json(json!({
            "id": id,
            "file_offset": container.upload.file_size.unwrap_or_default(),
            "file_size": container.upload.file_size,
        }))
        .into_response();
    }
    let Some(hasher) = container.upload.hasher.as_ref() else {
        let streaming = container.upload.file_size.is_some();
        if streaming {
            return errors::upload(
                StatusCode::CONFLICT,
                true,
                "UploadInProgress",
                "An upload request is still streaming; try again shortly.",
            );
        }
        return Json(json!({ "id": id, "file_offset": 0 })).into_response();
    };
    Json(json!({
        "id": id,
        "file_offset": hasher.size(),
        "file_size": container.upload.file_size,
    }))
    .into_response()
}

/// Puts an in-flight upload's hash back into its container, even when the request is
/// dropped half way.
struct Streaming {
    shared: Arc<Shared>,
    id: String,
    hasher: Option<MediaHasher>,
    head: Vec<u8>,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if let Some(c) = inner.containers.get_mut(&self.id) {
            c.upload.hasher = self.hasher.take();
            c.upload.head = std::mem::take(&mut self.head);
        }
    }
}

/// `POST`: bytes from `offset`, `file_size` in total, streamed into the hash.
pub(crate) async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(r) = authenticate(&shared, &headers, &id) {
        return r;
    }
    let (Some(offset), Some(file_size)) = (
        header_u64(&headers, "offset"),
        header_u64(&headers, "file_size"),
    ) else {
        return refused("The offset and file_size headers are required.");
    };
    if file_size == 0 || offset > file_size {
        return refused(&format!(
            "offset {offset} is outside a file of {file_size} bytes."
        ));
    }
    let (mut upload, interrupt_after) = {
        let mut inner = shared.lock();
        inner.upload_requests += 1;
        let interrupt_after = inner.interrupt_upload_after.take();
        let Some(container) = inner.containers.get_mut(&id) else {
            return refused("unknown container");
        };
        if container.phase != Phase::AwaitingUpload {
            return refused(&format!("The container {id} already has its video."));
        }
        if container
            .upload
            .file_size
            .is_some_and(|declared| declared != file_size)
        {
            return refused(&format!(
                "file_size {file_size} differs from the {} bytes declared before.",
                container.upload.file_size.unwrap_or_default()
            ));
        }
        let hasher = match container.upload.hasher.take() {
            Some(hasher) => hasher,
            None if container.upload.file_size.is_none() => MediaHasher::default(),
            None => {
                return errors::upload(
                    StatusCode::CONFLICT,
                    true,
                    "UploadInProgress",
                    "Another upload request is streaming into this container.",
                )
            }
        };
        container.upload.file_size = Some(file_size);
        let received = hasher.size();
        let head = std::mem::take(&mut container.upload.head);
        if offset != received {
            container.upload.hasher = Some(hasher);
            container.upload.head = head;
            return refused(&format!(
                "offset {offset} does not match the {received} bytes received so far."
            ));
        }
        (
            Streaming {
                shared: Arc::clone(&shared),
                id: id.clone(),
                hasher: Some(hasher),
                head,
            },
            interrupt_after,
        )
    };
    let mut stream = body.into_data_stream();
    let mut sent_in_request: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client went away; what arrived stays, to resume from.
            return refused("The upload was interrupted.");
        };
        let Some(hasher) = upload.hasher.as_mut() else {
            return refused("The upload state was lost.");
        };
        let room = file_size - hasher.size();
        if chunk.len() as u64 > room {
            return refused(&format!(
                "The body is longer than file_size - offset ({} bytes).",
                file_size - offset
            ));
        }
        let mut piece = &chunk[..];
        if let Some(limit) = interrupt_after {
            let left = limit.saturating_sub(sent_in_request) as usize;
            if piece.len() >= left {
                piece = &piece[..left];
                feed(&mut upload, piece);
                return errors::upload(
                    StatusCode::SERVICE_UNAVAILABLE,
                    true,
                    "ServiceUnavailable",
                    "The upload was interrupted; resume from the reported offset.",
                );
            }
        }
        sent_in_request += piece.len() as u64;
        feed(&mut upload, piece);
    }
    let received = upload
        .hasher
        .as_ref()
        .map(MediaHasher::size)
        .unwrap_or_default();
    if received != file_size {
        return refused(&format!(
            "The body had {} bytes; file_size - offset is {}.",
            received - offset,
            file_size - offset
        ));
    }
    let hasher = upload.hasher.take().unwrap_or_default();
    let is_video = looks_like_video(&upload.head);
    drop(upload);
    let mut inner = shared.lock();
    if let Some(container) = inner.containers.get_mut(&id) {
        if is_video {
            container.media = Some(hasher.finish());
            container.phase = Phase::Processing;
        } else {
            container.phase =
                Phase::Error("Unsupported video format; use MP4 or MOV (2207026)".to_string());
        }
    }
    Json(json!({ "success": true, "message": "Upload successful." })).into_response()
}

fn feed(upload: &mut Streaming, bytes: &[u8]) {
    if upload.head.len() < HEAD_LEN {
        let take = (HEAD_LEN - upload.head.len()).min(bytes.len());
        upload.head.extend_from_slice(&bytes[..take]);
    }
    if let Some(hasher) = upload.hasher.as_mut() {
        hasher.update(bytes);
    }
}

/// MP4 and MOV files start with a box whose type is one of these.
fn looks_like_video(head: &[u8]) -> bool {
    head.len() >= 8 && matches!(&head[4..8], b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free")
}
