//! Reels and stories from a file: container, one streamed resumable upload, wait,
//! publish.

use std::sync::Arc;
use std::time::Duration;

use fanout_core::{MediaFile, PublishError};
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use url::Url;

use crate::checkpoint::{Journal, Stage};
use crate::client::{checked_id, transport, Graph};
use crate::container::IdAnswer;
use crate::errors::{self, PLATFORM};
use crate::options::{Options, Surface};

/// Where and how to upload.
pub(crate) struct UploadTarget<'a> {
    /// The configured resumable-upload host.
    pub(crate) upload_base: &'a Url,
    /// The API version for the built upload path (`v21.0`).
    pub(crate) version: Option<String>,
}

/// Creates the reel (or story) container for `file` and uploads it whole; returns the
/// container id, ready to be waited for and published. Records [`Stage::Creating`]
/// before the creation, [`Stage::Uploading`] once the id is in and
/// [`Stage::Processing`] once the bytes are.
pub(crate) async fn create_and_upload(
    graph: &Graph,
    target: &UploadTarget<'_>,
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
    let created: IdAnswer = graph
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
    upload(graph, &url, file, 0).await?;
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
    graph: &Graph,
    target: &UploadTarget<'_>,
    container: &str,
    recorded_url: &str,
    file: &Arc<MediaFile>,
) -> Result<(), PublishError> {
    let url = upload_url(target, container, Some(recorded_url))?;
    let offset = graph.retry.run(|| received(graph, &url)).await?;
    match offset.cmp(&file.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => upload(graph, &url, file, offset).await,
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
    target: &UploadTarget<'_>,
    container: &str,
    uri: Option<&str>,
) -> Result<Url, PublishError> {
    let base = crate::config::with_trailing_slash(target.upload_base);
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
/// asks the host how much arrived and sends the rest.
async fn upload(
    graph: &Graph,
    url: &Url,
    file: &Arc<MediaFile>,
    mut offset: u64,
) -> Result<(), PublishError> {
    let mut backoff = graph.retry.initial_backoff;
    let mut attempt = 1;
    loop {
        let error = match send_from(graph, url, file, offset).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if !error.is_retryable() || attempt >= graph.retry.max_attempts {
            return Err(error);
        }
        let wait = match error.retry_after() {
            Some(wait) if wait > graph.retry.max_retry_after => return Err(error),
            Some(wait) => wait,
            None => backoff,
        };
        tracing::debug!(attempt, ?wait, "instagram upload interrupted; resuming");
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(graph.retry.max_backoff);
        attempt += 1;
        offset = graph.retry.run(|| received(graph, url)).await?;
        if offset > file.len() {
            return Err(too_many_bytes());
        }
        if offset == file.len() {
            return Ok(());
        }
    }
}

fn oauth(graph: &Graph) -> String {
    format!("OAuth {}", graph.token)
}

/// `POST <upload url>` with the bytes from `offset` on, streamed from disk.
async fn send_from(
    graph: &Graph,
    url: &Url,
    file: &Arc<MediaFile>,
    offset: u64,
) -> Result<(), PublishError> {
    let len = file.len();
    let remaining = len - offset;
    // A generous timeout: the request timeout plus one second per MiB.
    let timeout = graph.timeout + Duration::from_secs(remaining / (1024 * 1024));
    let response = graph
        .http
        .post(url.clone())
        .header(AUTHORIZATION, oauth(graph))
        .header("offset", offset.to_string())
        .header("file_size", len.to_string())
        .header(CONTENT_LENGTH, remaining.to_string())
        .header(CONTENT_TYPE, "application/octet-stream")
        .timeout(timeout)
        .body(reqwest::Body::wrap_stream(file.stream_range(offset..len)))
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| transport(&e))?;
    if !status.is_success() {
        return Err(errors::from_upload(status.as_u16(), &headers, &body));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| errors::unreadable("the video upload"))?;
    if answer.get("success").and_then(|s| s.as_bool()) == Some(false) {
        return Err(PublishError::transient(format!(
            "{PLATFORM} did not accept the video upload; try again in a few minutes."
        )));
    }
    Ok(())
}

/// `GET <upload url>`: how many bytes the host has.
async fn received(graph: &Graph, url: &Url) -> Result<u64, PublishError> {
    let response = graph
        .http
        .get(url.clone())
        .header(AUTHORIZATION, oauth(graph))
        .timeout(graph.timeout)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| transport(&e))?;
    if !status.is_success() {
        return Err(errors::from_upload(status.as_u16(), &headers, &body));
    }
    let progress: UploadProgress =
        serde_json::from_slice(&body).map_err(|_| errors::unreadable("the upload status check"))?;
    progress
        .file_offset
        .or(progress.offset)
        .ok_or_else(|| errors::unreadable("the upload status check"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &Url) -> UploadTarget<'_> {
        UploadTarget {
            upload_base: base,
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
