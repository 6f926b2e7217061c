//! Pulling a photo from its URL, hashing it as it streams (never buffered whole).

use axum::response::Response;
use futures::StreamExt;

use super::errors;
use crate::record::{MediaHasher, ReceivedMedia};

/// Largest photo Instagram takes.
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Subcode: the media could not be fetched or is not an accepted format.
const SUBCODE_FETCH: i64 = 2_207_052;
/// Subcode: the image is too large.
const SUBCODE_TOO_LARGE: i64 = 2_207_004;

/// Fetches `url`, checks it is a JPEG of at most 8 MB, and records its size and hash.
pub(crate) async fn pull_image(
    http: &reqwest::Client,
    url: &str,
) -> Result<ReceivedMedia, Response> {
    let fetch_failed = || {
        errors::media(
            SUBCODE_FETCH,
            "Media download has failed. The media URI doesn't meet our requirements.",
        )
    };
    let parsed = url::Url::parse(url)
        .map_err(|_| errors::invalid_param("The parameter image_url is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(errors::invalid_param(
            "The parameter image_url must be http or https",
        ));
    }
    let response = http.get(parsed).send().await.map_err(|_| fetch_failed())?;
    if !response.status().is_success() {
        return Err(fetch_failed());
    }
    let mut hasher = MediaHasher::default();
    let mut head: Vec<u8> = Vec::with_capacity(3);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| fetch_failed())?;
        if head.len() < 3 {
            let take = (3 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        if hasher.size() > MAX_IMAGE_BYTES {
            return Err(errors::media(
                SUBCODE_TOO_LARGE,
                "The image size is too large.",
            ));
        }
    }
    if head != [0xFF, 0xD8, 0xFF] {
        return Err(errors::media(
            SUBCODE_FETCH,
            "Only JPEG images are accepted as media; the fetched file is not a JPEG.",
        ));
    }
    Ok(hasher.finish())
}
