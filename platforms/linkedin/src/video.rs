//! Videos: `initializeUpload`, each part `PUT` from the spooled file by range,
//! `finalizeUpload` with the ETags in order, then status polls until `AVAILABLE`.

use std::ops::ControlFlow;
use std::sync::Arc;

use fanout_core::{MediaFile, PublishError};
use fanout_kit::{Idempotence, Polling};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::client::{encode_urn, Api, Read};
use crate::errors::{unreadable, PLATFORM};

#[derive(Debug, Deserialize)]
struct InitAnswer {
    value: InitValue,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitValue {
    video: String,
    #[serde(default)]
    upload_token: String,
    upload_instructions: Vec<Instruction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Instruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

#[derive(Debug, Deserialize)]
struct VideoStatus {
    #[serde(default)]
    status: String,
}

/// Whether a finalized video can be posted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// `AVAILABLE`: it can be posted.
    Available,
    /// Still `PROCESSING` when the polling budget ended.
    StillProcessing,
}

/// A video LinkedIn registered (`initializeUpload`): its urn and where its parts go.
#[derive(Debug)]
pub(crate) struct Registration {
    /// The video urn (`urn:li:video:…`).
    pub(crate) video: String,
    upload_token: String,
    upload_instructions: Vec<Instruction>,
}

/// Registers `file` as a video owned by `owner` (`initializeUpload`); the parts are
/// sent by [`send`].
pub(crate) async fn register(
    api: &Api,
    file: &Arc<MediaFile>,
    owner: &str,
) -> Result<Registration, PublishError> {
    let init = json!({
        "initializeUploadRequest": {
            "owner": owner,
            "fileSizeBytes": file.len(),
            "uploadCaptions": false,
            "uploadThumbnail": false,
        }
    });
    let init: InitAnswer = api
        .safe(
            Method::POST,
            "rest/videos?action=initializeUpload",
            Some(&init),
            "the video registration",
        )
        .await?
        .read("the video registration")?;
    let value = init.value;
    check_instructions(&value.upload_instructions, file.len())?;
    Ok(Registration {
        video: value.video,
        upload_token: value.upload_token,
        upload_instructions: value.upload_instructions,
    })
}

/// Sends every part of a registered video and finalizes it (the video may still be
/// processing afterwards: see [`wait_until_available`]).
pub(crate) async fn send(
    api: &Api,
    file: &Arc<MediaFile>,
    registration: &Registration,
) -> Result<(), PublishError> {
    let parts = &registration.upload_instructions;
    let mut etags = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let url = api.upload_url(&part.upload_url)?;
        etags.push(put_part(api, file, &url, part, index).await?);
    }
    let finalize = json!({
        "finalizeUploadRequest": {
            "video": registration.video,
            "uploadToken": registration.upload_token,
            "uploadedPartIds": etags,
        }
    });
    api.safe(
        Method::POST,
        "rest/videos?action=finalizeUpload",
        Some(&finalize),
        "the video finalization",
    )
    .await?;
    Ok(())
}

/// The parts must cover the file exactly, in order.
fn check_instructions(parts: &[Instruction], len: u64) -> Result<(), PublishError> {
    let mut next = 0;
    for part in parts {
        if part.first_byte != next || part.last_byte < part.first_byte || part.last_byte >= len {
            return Err(unreadable("the upload instructions"));
        }
        next = part.last_byte + 1;
    }
    if next == len {
        Ok(())
    } else {
        Err(unreadable("the upload instructions"))
    }
}

/// `PUT`s bytes `first_byte..=last_byte`, streamed from disk; answers the part's ETag.
/// A part is idempotent, so transient failures are retried.
async fn put_part(
    api: &Api,
    file: &Arc<MediaFile>,
    url: &Url,
    part: &Instruction,
    index: usize,
) -> Result<String, PublishError> {
    let len = part.last_byte - part.first_byte + 1;
    api.session
        .retry()
        .run(|| async {
            let body =
                reqwest::Body::wrap_stream(file.stream_range(part.first_byte..part.last_byte + 1));
            let request = api
                .request(Method::PUT, url.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, len)
                .timeout(api.session.upload_timeout(len))
                .body(body);
            let answer = api
                .send(request, "a video part")
                .await
                .map_err(|e| e.into_error(Idempotence::Safe))?;
            answer
                .headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    PublishError::transient(format!(
                        "{PLATFORM} took part {} of the video without confirming it (no ETag); \
                         try again.",
                        index + 1
                    ))
                })
        })
        .await
}

/// LinkedIn's status of a video (`GET /rest/videos/<urn>`): `WAITING_UPLOAD`,
/// `PROCESSING`, `AVAILABLE` or `PROCESSING_FAILED`.
pub(crate) async fn status(api: &Api, urn: &str) -> Result<String, PublishError> {
    let path = format!("rest/videos/{}", encode_urn(urn));
    Ok(api
        .safe(Method::GET, &path, None, "the video status")
        .await?
        .read::<VideoStatus>("the video status")?
        .status)
}

/// The error of a video LinkedIn could not process.
pub(crate) fn processing_failed() -> PublishError {
    PublishError::media_rejected(format!(
        "{PLATFORM} could not process the video (PROCESSING_FAILED); nothing was posted. \
         Check that it is an MP4 of 3 seconds to 30 minutes and upload it again."
    ))
}

/// Polls `GET /rest/videos/<urn>` at `polling`'s steady pace until `AVAILABLE` or the
/// budget ends (at least one read); a failed processing is an error.
pub(crate) async fn wait_until_available(
    api: &Api,
    urn: &str,
    polling: Polling,
) -> Result<Readiness, PublishError> {
    let polling = polling.steady();
    let polled = polling
        .until(polling.deadline(), || async {
            // A poll that keeps failing transiently says nothing about the video: keep
            // asking until the budget ends.
            let status = match status(api, urn).await {
                Ok(status) => status,
                Err(err) if err.is_retryable() => {
                    tracing::debug!(platform = "linkedin", kind = ?err.kind(), "status poll failed");
                    String::new()
                }
                Err(err) => return Err(err),
            };
            match status.as_str() {
                "AVAILABLE" => Ok(ControlFlow::Break(())),
                "PROCESSING_FAILED" => Err(processing_failed()),
                _ => Ok(ControlFlow::Continue(())),
            }
        })
        .await?;
    Ok(match polled {
        ControlFlow::Break(()) => Readiness::Available,
        ControlFlow::Continue(()) => Readiness::StillProcessing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Instruction {
        Instruction {
            upload_url: String::new(),
            first_byte: first,
            last_byte: last,
        }
    }

    #[test]
    fn instructions_must_cover_the_file_in_order() {
        assert!(check_instructions(&[part(0, 9), part(10, 14)], 15).is_ok());
        assert!(check_instructions(&[part(0, 9)], 15).is_err());
        assert!(check_instructions(&[part(10, 14), part(0, 9)], 15).is_err());
        assert!(check_instructions(&[part(0, 9), part(9, 14)], 15).is_err());
        assert!(check_instructions(&[part(0, 15)], 15).is_err());
        assert!(check_instructions(&[], 15).is_err());
    }
}
