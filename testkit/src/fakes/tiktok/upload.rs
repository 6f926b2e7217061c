//! The upload URL: `PUT /upload/<upload id>?upload_token=…`, one chunk per request.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::errors;
use super::state::{Phase, Shared};
use crate::record::{MediaHasher, ReceivedMedia};

/// Bytes kept to recognise the video format.
const HEAD_LEN: usize = 12;

/// Parses `bytes <first>-<last>/<total>`.
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last, total) = (
        first.trim().parse().ok()?,
        last.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (first <= last && last < total).then_some((first, last, total))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A chunk being streamed: on drop without commit, the upload goes back to the hash it
/// had before the chunk (a chunk is all or nothing).
struct Streaming {
    shared: Arc<Shared>,
    publish_id: String,
    before: Option<(MediaHasher, Vec<u8>)>,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if let Some((hasher, head)) = self.before.take() {
            let mut inner = self.shared.lock();
            if let Some(upload) = inner
                .posts
                .get_mut(&self.publish_id)
                .and_then(|p| p.upload.as_mut())
            {
                upload.hasher = Some(hasher);
                upload.head = head;
            }
        }
    }
}

/// The expected next chunk of an upload: `(first, last, total)`.
fn expected(received: u64, chunk_size: u64, count: u64, total: u64) -> (u64, u64, u64) {
    let index = received / chunk_size.max(1);
    let last = if index + 1 >= count {
        total - 1
    } else {
        received + chunk_size - 1
    };
    (received, last, total)
}

/// `PUT`: one chunk, streamed into the upload's hash.
pub(crate) async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(upload_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = query
        .as_deref()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "upload_token")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let unknown = || {
        errors::error(
            StatusCode::NOT_FOUND,
            "invalid_params",
            "The upload URL is invalid or has expired.",
        )
    };
    let content_type = header_str(&headers, header::CONTENT_TYPE).unwrap_or_default();
    if !content_type.starts_with("video/") {
        return errors::invalid_upload(
            StatusCode::BAD_REQUEST,
            "Content-Type must be the video's MIME type (video/mp4, video/quicktime or video/webm).",
        );
    }
    let Some((first, last, total)) =
        header_str(&headers, header::CONTENT_RANGE).and_then(parse_content_range)
    else {
        return errors::invalid_upload(
            StatusCode::BAD_REQUEST,
            "Content-Range must read bytes <first>-<last>/<total>.",
        );
    };
    let length = last - first + 1;
    let declared: Option<u64> =
        header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    if declared != Some(length) {
        return errors::invalid_upload(
            StatusCode::BAD_REQUEST,
            "Content-Length must be present and equal the size of the Content-Range.",
        );
    }
    let (publish_id, mut streaming, mut hasher, mut head) = {
        let mut inner = shared.lock();
        inner.chunk_requests += 1;
        let Some(publish_id) = inner.uploads.get(&upload_id).cloned() else {
            return unknown();
        };
        let Some(post) = inner.posts.get_mut(&publish_id) else {
            return unknown();
        };
        let phase = post.phase.clone();
        let Some(upload) = post.upload.as_mut().filter(|u| u.token == token) else {
            return unknown();
        };
        if phase != Phase::Uploading {
            return errors::invalid_upload(
                StatusCode::BAD_REQUEST,
                "Every chunk of this upload has already been received.",
            );
        }
        let want = expected(
            upload.received,
            upload.chunk_size,
            upload.total_chunk_count,
            upload.video_size,
        );
        if (first, last, total) != want {
            return errors::invalid_upload(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &format!(
                    "Content-Range bytes {first}-{last}/{total} is not the next chunk; expected \
                     bytes {}-{}/{}.",
                    want.0, want.1, want.2
                ),
            );
        }
        let Some(hasher) = upload.hasher.take() else {
            return errors::invalid_upload(
                StatusCode::CONFLICT,
                "Another chunk of this upload is still being received.",
            );
        };
        let head = std::mem::take(&mut upload.head);
        let streaming = Streaming {
            shared: Arc::clone(&shared),
            publish_id: publish_id.clone(),
            before: Some((hasher.clone(), head.clone())),
        };
        (publish_id, streaming, hasher, head)
    };
    let mut got: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(piece) = stream.next().await {
        let Ok(piece) = piece else {
            return errors::invalid_upload(StatusCode::BAD_REQUEST, "The chunk was interrupted.");
        };
        got += piece.len() as u64;
        if got > length {
            return errors::invalid_upload(
                StatusCode::BAD_REQUEST,
                "The body is longer than the Content-Range.",
            );
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(piece.len());
            head.extend_from_slice(&piece[..take]);
        }
        hasher.update(&piece);
    }
    if got != length {
        return errors::invalid_upload(
            StatusCode::BAD_REQUEST,
            &format!("The body had {got} bytes; the Content-Range names {length}."),
        );
    }
    // Commit the chunk.
    streaming.before = None;
    let complete = last + 1 == total;
    let mut inner = shared.lock();
    let processing_delay = inner.processing_delay;
    let Some(post) = inner.posts.get_mut(&publish_id) else {
        return unknown();
    };
    let Some(upload) = post.upload.as_mut() else {
        return unknown();
    };
    upload.received = last + 1;
    if !complete {
        upload.hasher = Some(hasher);
        upload.head = head;
        return StatusCode::PARTIAL_CONTENT.into_response();
    }
    if looks_like_video(&head) {
        post.phase = Phase::Processing(std::time::Instant::now() + processing_delay);
        let media: ReceivedMedia = hasher.finish();
        shared.record(&publish_id, post, vec![media]);
    } else {
        post.phase = Phase::Failed("file_format_check_failed".to_string());
    }
    StatusCode::CREATED.into_response()
}

/// MP4/MOV start with a box whose type is one of these; WebM with the EBML magic.
fn looks_like_video(head: &[u8]) -> bool {
    let iso =
        head.len() >= 8 && matches!(&head[4..8], b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free");
    iso || head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}
