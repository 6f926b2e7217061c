//! Media sent as URLs: fetched through the guarded client ([`super::outbound`]) into
//! the spool, within the request's budget (how many URLs, how many bytes in all).
//! Fetching happens after the usage check; the caller gives the count back when it
//! fails.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::outbound::{Failure, Outbound};
use super::validate::MediaPlan;
use crate::api_error::ApiError;
use crate::form::MediaSource;
use crate::media::{MediaFile, SpoolError};
use crate::post::PostMedia;

/// The plan's media when every one is a file already (nothing to fetch).
pub(crate) fn files_only(plan: &MediaPlan) -> Option<PostMedia> {
    let file = |source: &MediaSource| match source {
        MediaSource::File(file) => Some(Arc::clone(file)),
        MediaSource::Url(_) => None,
    };
    Some(match plan {
        MediaPlan::Video(source) => PostMedia::Video(file(source)?),
        MediaPlan::Photos(sources) => {
            PostMedia::Photos(sources.iter().map(file).collect::<Option<_>>()?)
        }
    })
}

/// Refuses a plan with more URLs than one request may give (400), before anything is
/// counted or fetched.
pub(crate) fn check_count(plan: &MediaPlan, outbound: &Outbound) -> Result<(), ApiError> {
    let sources = match plan {
        MediaPlan::Video(source) => std::slice::from_ref(source),
        MediaPlan::Photos(sources) => sources.as_slice(),
    };
    let urls = sources
        .iter()
        .filter(|s| matches!(s, MediaSource::Url(_)))
        .count();
    let max = outbound.settings().max_urls;
    if urls > max {
        return Err(ApiError::bad_request(format!(
            "A request may give at most {max} media as URLs; this one gives {urls}"
        )));
    }
    Ok(())
}

/// Turns every URL of the plan into a spooled file; all of them together may bring
/// at most `max_total_bytes`.
pub(crate) async fn resolve_media(
    outbound: &Outbound,
    plan: MediaPlan,
    dir: &Path,
    max_total_bytes: u64,
) -> Result<PostMedia, ApiError> {
    let mut budget = Budget {
        limit: max_total_bytes,
        left: max_total_bytes,
    };
    Ok(match plan {
        MediaPlan::Video(source) => {
            PostMedia::Video(resolve(outbound, source, "video", dir, &mut budget).await?)
        }
        MediaPlan::Photos(sources) => {
            let mut files = Vec::with_capacity(sources.len());
            for (index, source) in sources.into_iter().enumerate() {
                let what = format!("photo {}", index + 1);
                files.push(resolve(outbound, source, &what, dir, &mut budget).await?);
            }
            PostMedia::Photos(files)
        }
    })
}

/// Bytes the request's URLs may still bring.
struct Budget {
    limit: u64,
    left: u64,
}

async fn resolve(
    outbound: &Outbound,
    source: MediaSource,
    what: &str,
    dir: &Path,
    budget: &mut Budget,
) -> Result<Arc<MediaFile>, ApiError> {
    let raw = match source {
        MediaSource::File(file) => return Ok(file),
        MediaSource::Url(raw) => raw,
    };
    // Every hop, and the body, within the fetch timeout in all.
    tokio::time::timeout(
        outbound.timeout(),
        fetch_url(outbound, &raw, what, dir, budget),
    )
    .await
    .unwrap_or_else(|_| Err(failure_error(outbound, what, Failure::TimedOut)))
}

/// Fetches `raw` into a spooled file, within what is left of `budget`.
async fn fetch_url(
    outbound: &Outbound,
    raw: &str,
    what: &str,
    dir: &Path,
    budget: &mut Budget,
) -> Result<Arc<MediaFile>, ApiError> {
    let failed = |failure| failure_error(outbound, what, failure);
    let too_large = || {
        ApiError::new(
            413,
            format!(
                "The {what} could not be fetched: the media of one request may bring at most {} bytes in all",
                budget.limit
            ),
        )
    };
    let fetched = outbound.get(raw).await.map_err(failed)?;
    if fetched
        .response
        .content_length()
        .is_some_and(|len| len > budget.left)
    {
        return Err(too_large());
    }
    let declared = fetched
        .response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let name = fetched
        .url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let seen = Arc::new(Mutex::new(None));
    let body = outbound.body(fetched.response, Arc::clone(&seen));
    let file = MediaFile::spool(dir, body, budget.left, name, declared)
        .await
        .map_err(|e| match e {
            SpoolError::TooLarge { .. } => too_large(),
            SpoolError::Source(_) => {
                let failure = seen.lock().ok().and_then(|s| *s);
                failed(failure.unwrap_or(Failure::Unreachable))
            }
            SpoolError::Io(err) => {
                ApiError::internal("Could not store the upload on the server", &err)
            }
        })?;
    budget.left = budget.left.saturating_sub(file.len());
    Ok(Arc::new(file))
}

/// One sentence per class of failure; none names a port, a path or the transport's
/// error text, so answers cannot be used to tell closed ports from open ones.
fn failure_error(outbound: &Outbound, what: &str, failure: Failure) -> ApiError {
    let settings = outbound.settings();
    ApiError::bad_request(match failure {
        Failure::NotHttp => format!("The {what} must be a file or an http(s) URL"),
        Failure::Credentials => format!(
            "The {what} could not be fetched: URLs with a user name or password are not accepted"
        ),
        Failure::AddressRefused => format!(
            "The {what} could not be fetched: its URL leads to an address this server does not fetch from"
        ),
        Failure::TooManyRedirects => format!(
            "The {what} could not be fetched: its URL redirects more than {} times",
            settings.max_redirects
        ),
        Failure::TooSlow => format!(
            "The {what} could not be fetched: it arrived slower than {} bytes per second",
            settings.min_bytes_per_sec
        ),
        Failure::TimedOut => format!(
            "The {what} could not be fetched: it took longer than {} seconds",
            outbound.timeout().as_secs()
        ),
        Failure::Unreachable => format!(
            "The {what} could not be fetched from its URL; check that it is publicly reachable and answers with the file"
        ),
    })
}
