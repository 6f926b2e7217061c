//! Reels and stories from a file: container, one streamed resumable upload, wait,
//! publish.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fanout_core::{MediaFile, PublishError};
use fanout_kit::{Idempotence, Session};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use url::Url;

use crate::checkpoint::{Journal, Stage};
use crate::client::{checked_id, Api};
use crate::container::IdAnswer;
use crate::errors::{INSTAGRAM, PLATFORM};
use crate::options::{Options, Surface};

/// Where and how to upload.
#[derive(Debug, Clone)]
pub(crate) struct UploadTarget {
    /// The configured resumable-upload host, with a trailing `/`.
    pub(crate) upload_base: Url,
    /// The API version for the built upload path (`v21.0`).
    pub(crate) version: Option<String>,
}

/// Creates the reel (or story) container for `file` and uploads it whole; returns the
/// container id, ready to be waited for and published. Records [`Stage::Creating`]
/// before the creation, [`Stage::Uploading`] once the id is in and
/// [`Stage::Processing`] once the bytes are.
pub(crate) async fn create_and_upload(
    api: &Api,
    target: &UploadTarget,
    journal: &Journal<'_>,
    caption: &str,
    options: &Options,
    file: &Arc<MediaFile>,
) -> Result<String, PublishError> {
    let params = container_params(caption, options);
    journal
        .record(Stage::Creating {
            children_ids: Vec::new(),
        })
        .await?;
    let created: IdAnswer = api
        .safe(
            Method::POST,
            &format!("{}/media", journal.user_id),
            &params,
            "the video container creation",
        )
        .await?;
    let container = checked_id(&created.id, "container id")?.to_string();
    let url = upload_url(target, &container, created.uri.as_deref())?;
    journal
        .record(Stage::Uploading {
            container_id: container.clone(),
            upload_url: url.to_string(),
        })
        .await?;
    upload(&api.session, &url, file, 0).await?;
    journal
        .record(Stage::Processing {
            container_id: container.clone(),
        })
        .await?;
    Ok(container)
}

/// Finishes the upload into `container` that a stopped publish began: asks the upload
/// host how many bytes it has and sends the rest (nothing when it has them all). Only
/// the configured upload host gets the token, whatever `recorded_url` says.
pub(crate) async fn resume_upload(
    api: &Api,
    target: &UploadTarget,
    container: &str,
    recorded_url: &str,
    file: &Arc<MediaFile>,
) -> Result<(), PublishError> {
    let url = upload_url(target, container, Some(recorded_url))?;
    let session = &api.session;
    let offset = session.safe(|| received(session, &url)).await?;
    match offset.cmp(&file.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => upload(session, &url, file, offset).await,
        std::cmp::Ordering::Greater => Err(too_many_bytes()),
    }
}

fn too_many_bytes() -> PublishError {
    PublishError::transient(format!(
        "{PLATFORM} reported more bytes received than the video has; upload again."
    ))
}

/// The container parameters for a video: a story takes none of the feed options.
pub(crate) fn container_params(caption: &str, options: &Options) -> Vec<(&'static str, String)> {
    if options.surface() == Surface::Story {
        return vec![
            ("media_type", "STORIES".to_string()),
            ("upload_type", "resumable".to_string()),
        ];
    }
    let mut params = vec![
        ("media_type", "REELS".to_string()),
        ("upload_type", "resumable".to_string()),
    ];
    if !caption.is_empty() {
        params.push(("caption", caption.to_string()));
    }
    options.reel_params(&mut params);
    params
}

/// The upload URL: the container's own `uri` when it is on the configured upload host,
/// else `<upload_base_url>/ig-api-upload/<version>/<container id>`.
pub(crate) fn upload_url(
    target: &UploadTarget,
    container: &str,
    uri: Option<&str>,
) -> Result<Url, PublishError> {
    let base = &target.upload_base;
    if let Some(uri) = uri.and_then(|u| Url::parse(u).ok()) {
        // The token goes with the upload: only to the configured host.
        if uri.origin() == base.origin() {
            return Ok(uri);
        }
        tracing::warn!("instagram named an upload host other than the configured one; ignoring it");
    }
    let path = match &target.version {
        Some(version) => format!("ig-api-upload/{version}/{container}"),
        None => format!("ig-api-upload/{container}"),
    };
    base.join(&path).map_err(|_| {
        PublishError::rejected(format!(
            "The {PLATFORM} upload URL cannot be built; check `platforms.instagram.upload_base_url`."
        ))
    })
}

/// The upload host's answer to a status read.
#[derive(Debug, Deserialize)]
struct UploadProgress {
    #[serde(default)]
    file_offset: Option<u64>,
    #[serde(default)]
    offset: Option<u64>,
}

/// Sends the file from `offset` on in one streamed request; after a transient failure,
/// asks the host how much arrived (between the retry policy's attempts) and sends the
/// rest.
async fn upload(
    session: &Session,
    url: &Url,
    file: &Arc<MediaFile>,
    offset: u64,
) -> Result<(), PublishError> {
    let offset = AtomicU64::new(offset);
    session
        .retry()
        .run_with(
            || send_from(session, url, file, offset.load(Ordering::SeqCst)),
            || async {
                tracing::debug!("instagram upload interrupted; resuming");
                let received = session.safe(|| received(session, url)).await?;
                if received > file.len() {
                    return Err(too_many_bytes());
                }
                offset.store(received, Ordering::SeqCst);
                Ok(if received == file.len() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .await
}

/// `POST <upload url>` with the bytes from `offset` on, streamed from disk.
async fn send_from(
    session: &Session,
    url: &Url,
    file: &Arc<MediaFile>,
    offset: u64,
) -> Result<(), PublishError> {
    let len = file.len();
    let remaining = len - offset;
    let request = session
        .request_as("OAuth", Method::POST, url.clone())
        .header("offset", offset.to_string())
        .header("file_size", len.to_string())
        .header(CONTENT_LENGTH, remaining.to_string())
        .header(CONTENT_TYPE, "application/octet-stream")
        .timeout(session.upload_timeout(remaining))
        .body(reqwest::Body::wrap_stream(file.stream_range(offset..len)));
    let answer = session
        .send(request, "the video upload")
        .await
        .map_err(|e| e.into_error(Idempotence::Safe))?;
    let answer: serde_json::Value = answer
        .json()
        .ok_or_else(|| INSTAGRAM.unreadable("the video upload"))?;
    if answer.get("success").and_then(|s| s.as_bool()) == Some(false) {
        return Err(PublishError::transient(format!(
            "{PLATFORM} did not accept the video upload; try again in a few minutes."
        )));
    }
    Ok(())
}

/// `GET <upload url>`: how many bytes the host has.
async fn received(session: &Session, url: &Url) -> Result<u64, fanout_kit::CallError> {
    let what = "the upload status check";
    let request = session.request_as("OAuth", Method::GET, url.clone());
    let answer = session.send(request, what).await?;
    let progress: Option<UploadProgress> = answer.json();
    progress
        .and_then(|p| p.file_offset.or(p.offset))
        .ok_or_else(|| fanout_kit::CallError::Refused {
            status: answer.status,
            error: INSTAGRAM.unreadable(what),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &Url) -> UploadTarget {
        UploadTarget {
            upload_base: base.clone(),
            version: Some("v21.0".into()),
        }
    }

    #[test]
    fn upload_url_prefers_the_containers_uri_on_the_configured_host() {
        let base = Url::parse("https://rupload.facebook.com/").unwrap();
        let t = target(&base);
        assert_eq!(
            upload_url(&t, "42", None).unwrap().as_str(),
            "https://rupload.facebook.com/ig-api-upload/v21.0/42"
        );
        assert_eq!(
            upload_url(
                &t,
                "42",
                Some("https://rupload.facebook.com/ig-api-upload/v22.0/42")
            )
            .unwrap()
            .as_str(),
            "https://rupload.facebook.com/ig-api-upload/v22.0/42"
        );
        assert_eq!(
            upload_url(&t, "42", Some("https://evil.test/steal"))
                .unwrap()
                .as_str(),
            "https://rupload.facebook.com/ig-api-upload/v21.0/42"
        );
    }

    #[test]
    fn container_params_follow_the_form() {
        let parse = |pairs: &[(&str, &str)]| {
            Options::parse(
                &fanout_core::FormFields::from_pairs(pairs.iter().copied()),
                0,
            )
            .unwrap()
        };
        let params = container_params(
            "hello",
            &parse(&[("media_type", "stories"), ("share_to_feed", "true")]),
        );
        assert_eq!(
            params,
            vec![
                ("media_type", "STORIES".to_string()),
                ("upload_type", "resumable".to_string())
            ]
        );
        let params = container_params(
            "hello",
            &parse(&[
                ("share_to_feed", "false"),
                ("collaborators", "ann,bob"),
                ("cover_url", "https://example.com/c.jpg"),
                ("audio_name", "Song"),
                ("user_tags", "carl"),
                ("location_id", "123"),
                ("thumb_offset", "1500"),
            ]),
        );
        assert_eq!(
            params,
            vec![
                ("media_type", "REELS".to_string()),
                ("upload_type", "resumable".to_string()),
                ("caption", "hello".to_string()),
                ("share_to_feed", "false".to_string()),
                ("collaborators", r#"["ann","bob"]"#.to_string()),
                ("cover_url", "https://example.com/c.jpg".to_string()),
                ("audio_name", "Song".to_string()),
                ("user_tags", r#"[{"username":"carl"}]"#.to_string()),
                ("location_id", "123".to_string()),
                ("thumb_offset", "1500".to_string()),
            ]
        );
    }
}
