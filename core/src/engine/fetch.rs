//! Media sent as URLs: fetched (streamed into the spool, with the upload cap).

use std::path::Path;
use std::sync::Arc;

use futures::TryStreamExt;

use super::validate::MediaPlan;
use crate::api_error::ApiError;
use crate::form::MediaSource;
use crate::media::{MediaFile, SpoolError};
use crate::post::PostMedia;

/// Turns every URL of the plan into a spooled file.
pub(crate) async fn resolve_media(
    http: &reqwest::Client,
    plan: MediaPlan,
    dir: &Path,
    max_bytes: u64,
) -> Result<PostMedia, ApiError> {
    Ok(match plan {
        MediaPlan::Video(source) => {
            PostMedia::Video(resolve(http, source, "video", dir, max_bytes).await?)
        }
        MediaPlan::Photos(sources) => {
            let mut files = Vec::with_capacity(sources.len());
            for (index, source) in sources.into_iter().enumerate() {
                let what = format!("photo {}", index + 1);
                files.push(resolve(http, source, &what, dir, max_bytes).await?);
            }
            PostMedia::Photos(files)
        }
    })
}

async fn resolve(
    http: &reqwest::Client,
    source: MediaSource,
    what: &str,
    dir: &Path,
    max_bytes: u64,
) -> Result<Arc<MediaFile>, ApiError> {
    let raw = match source {
        MediaSource::File(file) => return Ok(file),
        MediaSource::Url(raw) => raw,
    };
    let url = url::Url::parse(&raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError::bad_request(format!("The {what} must be a file or an http(s) URL"))
        })?;
    let failed = |reason: String| {
        ApiError::bad_request(format!("Could not fetch the {what} from its URL: {reason}"))
    };
    let response = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(str::to_string);
    let stream = Box::pin(response.bytes_stream().map_err(|e| e.without_url()));
    let file = MediaFile::spool(dir, stream, max_bytes, name, declared)
        .await
        .map_err(|e| match e {
            SpoolError::TooLarge { limit } => {
                ApiError::new(413, format!("Upload too large: the limit is {limit} bytes"))
            }
            SpoolError::Source(reason) => failed(reason),
            SpoolError::Io(err) => {
                ApiError::internal("Could not store the upload on the server", &err)
            }
        })?;
    Ok(Arc::new(file))
}
