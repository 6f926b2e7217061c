//! The Videos API: `initializeUpload`, the part uploads, `finalizeUpload`, and
//! `GET /rest/videos/<urn>`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};

use super::auth;
use super::errors;
use super::state::{
    signature, Part, Shared, Video, VideoStatus, MAX_VIDEO_BYTES, MIN_VIDEO_BYTES, PART_BYTES,
};
use crate::record::MediaHasher;

/// Bytes kept to recognise an MP4.
const HEAD_LEN: usize = 12;
/// How long upload URLs are said to live, in milliseconds.
const URL_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// The `action` query parameter.
pub(crate) fn action(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.into_owned())
}

/// The `sig` query parameter of an upload URL.
pub(crate) fn sig(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "sig")
        .map(|(_, v)| v.into_owned())
}

/// Parses a JSON request body, answering LinkedIn's 400 when it is not JSON.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body)
        .map_err(|_| errors::bad_request("The request body is not valid JSON"))
}

/// `POST /rest/videos?action=…`.
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
    match action(query.as_deref()).as_deref() {
        Some("initializeUpload") => initialize(&shared, &member, &request),
        Some("finalizeUpload") => finalize(&shared, &member, &request),
        _ => errors::bad_request("Unsupported action: use initializeUpload or finalizeUpload"),
    }
}

fn initialize(shared: &Shared, member: &super::state::Member, request: &Value) -> Response {
    let init = &request["initializeUploadRequest"];
    let Some(owner) = init["owner"].as_str() else {
        return errors::invalid_input(400, "/initializeUploadRequest/owner", "Field is required");
    };
    let Some(size) = init["fileSizeBytes"].as_u64() else {
        return errors::invalid_input(
            400,
            "/initializeUploadRequest/fileSizeBytes",
            "Field is required and must be a number",
        );
    };
    for flag in ["uploadCaptions", "uploadThumbnail"] {
        if init[flag].as_bool() == Some(true) {
            return errors::invalid_input(
                400,
                &format!("/initializeUploadRequest/{flag}"),
                "The fake serves no caption or thumbnail uploads",
            );
        }
    }
    if !(MIN_VIDEO_BYTES..=MAX_VIDEO_BYTES).contains(&size) {
        return errors::invalid_input(
            400,
            "/initializeUploadRequest/fileSizeBytes",
            &format!("Video size must be between {MIN_VIDEO_BYTES} and {MAX_VIDEO_BYTES} bytes"),
        );
    }
    let mut inner = shared.lock();
    if !inner.may_act_as(member, owner) {
        return errors::access_denied(&format!(
            "Not enough permissions to access: videos.CREATE for owner {owner}"
        ));
    }
    let n = inner.next();
    let id = format!("D4E10AQ{n:010}");
    let urn = format!("urn:li:video:{id}");
    let sig = signature();
    let mut parts = Vec::new();
    let mut first = 0;
    while first < size {
        let last = (first + PART_BYTES).min(size) - 1;
        parts.push(Part {
            first,
            last,
            etag: None,
            sha256: None,
        });
        first = last + 1;
    }
    let instructions: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut url = shared.root.clone();
            url.set_path(&format!("/dms-uploads/video/{id}/part/{i}"));
            url.set_query(Some(&format!("sig={sig}")));
            json!({ "uploadUrl": url.as_str(), "firstByte": p.first, "lastByte": p.last })
        })
        .collect();
    let upload_token = format!("ut{:016x}", rand::random::<u64>());
    inner.videos.insert(
        urn.clone(),
        Video {
            owner: owner.to_string(),
            upload_token: upload_token.clone(),
            signature: sig,
            parts,
            next_part: 0,
            hasher: MediaHasher::default(),
            head: Vec::new(),
            status: VideoStatus::WaitingUpload,
            will_fail: false,
            received: None,
            processing_until: None,
        },
    );
    Json(json!({
        "value": {
            "uploadUrlsExpireAt": chrono::Utc::now().timestamp_millis() + URL_LIFETIME_MS,
            "video": urn,
            "uploadInstructions": instructions,
            "uploadToken": upload_token,
        }
    }))
    .into_response()
}

fn finalize(shared: &Shared, member: &super::state::Member, request: &Value) -> Response {
    let fin = &request["finalizeUploadRequest"];
    let Some(urn) = fin["video"].as_str() else {
        return errors::invalid_input(400, "/finalizeUploadRequest/video", "Field is required");
    };
    let ids: Option<Vec<&str>> = fin["uploadedPartIds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let Some(ids) = ids else {
        return errors::invalid_input(
            400,
            "/finalizeUploadRequest/uploadedPartIds",
            "Field is required",
        );
    };
    let mut guard = shared.lock();
    let inner = &mut *guard;
    let fail_next = inner.fail_next_processing;
    let reads = inner.processing_reads;
    let processing_until = inner
        .processing_time
        .map(|wait| std::time::Instant::now() + wait);
    let Some(owner) = inner.videos.get(urn).map(|v| v.owner.clone()) else {
        return errors::not_found(&format!("Video {urn} does not exist"));
    };
    if !inner.may_act_as(member, &owner) {
        return errors::access_denied(&format!(
            "Not enough permissions to access: videos.FINALIZE for {urn}"
        ));
    }
    let Some(video) = inner.videos.get_mut(urn) else {
        return errors::not_found(&format!("Video {urn} does not exist"));
    };
    if fin["uploadToken"].as_str() != Some(video.upload_token.as_str()) {
        return errors::invalid_input(
            400,
            "/finalizeUploadRequest/uploadToken",
            "The upload token does not match the one given at initializeUpload",
        );
    }
    let expected: Vec<Option<&str>> = video.parts.iter().map(|p| p.etag.as_deref()).collect();
    if let Some(missing) = expected.iter().position(Option::is_none) {
        return errors::invalid_input(
            400,
            "/finalizeUploadRequest/uploadedPartIds",
            &format!("Part {missing} of {} was never uploaded", video.parts.len()),
        );
    }
    let expected: Vec<&str> = expected.into_iter().flatten().collect();
    if ids != expected {
        return errors::invalid_input(
            400,
            "/finalizeUploadRequest/uploadedPartIds",
            "uploadedPartIds must list every part's ETag, in part order",
        );
    }
    if video.status == VideoStatus::WaitingUpload {
        video.will_fail = fail_next || video.head.get(4..8) != Some(b"ftyp".as_slice());
        video.status = VideoStatus::Processing(reads);
        video.processing_until = processing_until;
        video.received = Some(video.hasher.clone().finish());
        inner.fail_next_processing = false;
    }
    StatusCode::OK.into_response()
}

/// `GET /rest/videos/<url-encoded urn>`.
pub(crate) async fn status(
    State(shared): State<Arc<Shared>>,
    Path(urn): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let member = match auth::rest_call(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if uri.path().trim_start_matches("/rest/videos/").contains(':') {
        return errors::bad_request("URNs in a path must be URL-encoded (':' as %3A)");
    }
    let mut inner = shared.lock();
    let Some(owner) = inner.videos.get(&urn).map(|v| v.owner.clone()) else {
        return errors::not_found(&format!("Video {urn} does not exist"));
    };
    if !inner.may_act_as(&member, &owner) {
        return errors::access_denied(&format!("Not enough permissions to access: {urn}"));
    }
    let Some(video) = inner.videos.get_mut(&urn) else {
        return errors::not_found(&format!("Video {urn} does not exist"));
    };
    let shown = video.status.clone();
    let held = video
        .processing_until
        .is_some_and(|until| std::time::Instant::now() < until);
    video.status = match &video.status {
        VideoStatus::Processing(n) if held => VideoStatus::Processing(n.saturating_sub(1)),
        VideoStatus::Processing(n) if *n > 1 => VideoStatus::Processing(n - 1),
        VideoStatus::Processing(_) if video.will_fail => VideoStatus::ProcessingFailed,
        VideoStatus::Processing(_) => VideoStatus::Available,
        other => other.clone(),
    };
    let shown = if matches!(shown, VideoStatus::Processing(0)) && !held {
        video.status.clone()
    } else {
        shown
    };
    let mut answer = json!({
        "id": urn,
        "owner": video.owner,
        "status": shown.as_str(),
    });
    if shown == VideoStatus::ProcessingFailed {
        answer["processingFailureReason"] = json!("The file is not a video LinkedIn can read");
    }
    Json(answer).into_response()
}

/// `PUT /dms-uploads/video/<id>/part/<index>?sig=…`: exactly the instructed bytes,
/// in part order; a repeat of a received part is accepted when identical.
pub(crate) async fn upload_part(
    State(shared): State<Arc<Shared>>,
    Path((id, index)): Path<(String, usize)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let member = match auth::member(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let urn = format!("urn:li:video:{id}");
    let (part, append, mut whole) = {
        let mut guard = shared.lock();
        let inner = &mut *guard;
        let Some(owner) = inner.videos.get(&urn).map(|v| v.owner.clone()) else {
            return errors::not_found("No upload awaits at this URL");
        };
        if !inner.may_act_as(&member, &owner) {
            return errors::access_denied("Not enough permissions to upload this video");
        }
        let Some(video) = inner.videos.get(&urn) else {
            return errors::not_found("No upload awaits at this URL");
        };
        if sig(query.as_deref()).as_deref() != Some(video.signature.as_str()) {
            return errors::access_denied("The upload URL signature is invalid");
        }
        if video.status != VideoStatus::WaitingUpload {
            return errors::bad_request("This video was already finalized");
        }
        let Some(part) = video.parts.get(index).cloned() else {
            return errors::not_found("No such part");
        };
        if index > video.next_part {
            return errors::bad_request(&format!(
                "Part {index} arrived before part {}; upload parts in order",
                video.next_part
            ));
        }
        (part, index == video.next_part, video.hasher.clone())
    };
    let mut this_part = MediaHasher::default();
    let mut head = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return errors::bad_request("The part upload was interrupted");
        };
        if this_part.size() + chunk.len() as u64 > part.len() {
            return part_length_error(index, &part, this_part.size() + chunk.len() as u64);
        }
        if index == 0 && head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        this_part.update(&chunk);
        if append {
            whole.update(&chunk);
        }
    }
    if this_part.size() != part.len() {
        return part_length_error(index, &part, this_part.size());
    }
    let sha = this_part.finish().sha256;
    let mut inner = shared.lock();
    let Some(video) = inner.videos.get_mut(&urn) else {
        return errors::not_found("No upload awaits at this URL");
    };
    if append && video.next_part == index && video.status == VideoStatus::WaitingUpload {
        let etag = format!("/ambry-video/signedId__{id}-{index}-{}", &sha[..12]);
        video.parts[index].etag = Some(etag);
        video.parts[index].sha256 = Some(sha.clone());
        video.hasher = whole;
        video.next_part += 1;
        if index == 0 {
            video.head = head;
        }
    }
    let stored = &video.parts[index];
    match (&stored.sha256, &stored.etag) {
        (Some(stored_sha), Some(etag)) if *stored_sha == sha => {
            ([(header::ETAG, etag.clone())], StatusCode::OK).into_response()
        }
        _ => errors::bad_request(&format!(
            "Part {index} was already received with different bytes"
        )),
    }
}

fn part_length_error(index: usize, part: &Part, got: u64) -> Response {
    errors::bad_request(&format!(
        "Part {index} must be exactly {} bytes (bytes {}-{} of the file), not {got}",
        part.len(),
        part.first,
        part.last
    ))
}
