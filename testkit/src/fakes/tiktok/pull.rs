//! Pulling photos from their URLs in the background, hashing them as they stream (never
//! buffered whole).

use std::sync::Arc;

use futures::StreamExt;
use url::Url;

use super::state::{Phase, Shared};
use crate::record::{MediaHasher, ReceivedMedia};

/// Largest photo TikTok takes.
const MAX_PHOTO_BYTES: u64 = 20 * 1024 * 1024;

/// Pulls every photo of `publish_id` in order; the post fails with TikTok's
/// `fail_reason` on the first problem, else is recorded and moves on to processing.
pub(crate) async fn pull_photos(shared: Arc<Shared>, publish_id: String, urls: Vec<Url>) {
    let delay = shared.lock().pull_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut media = Vec::with_capacity(urls.len());
    for url in urls {
        match pull(&shared, &publish_id, url).await {
            Ok(received) => media.push(received),
            Err(reason) => {
                set_phase(&shared, &publish_id, Phase::Failed(reason.to_string()));
                return;
            }
        }
    }
    let mut inner = shared.lock();
    let ready_at = std::time::Instant::now() + inner.processing_delay;
    if let Some(post) = inner.posts.get_mut(&publish_id) {
        post.phase = Phase::Processing(ready_at);
        shared.record(&publish_id, post, media);
    }
}

fn set_phase(shared: &Shared, publish_id: &str, phase: Phase) {
    if let Some(post) = shared.lock().posts.get_mut(publish_id) {
        post.phase = phase;
    }
}

/// One photo: JPEG or WebP, at most 20 MB.
async fn pull(shared: &Shared, publish_id: &str, url: Url) -> Result<ReceivedMedia, &'static str> {
    let response = shared
        .http
        .get(url)
        .send()
        .await
        .map_err(|_| "photo_pull_failed")?;
    if !response.status().is_success() {
        return Err("photo_pull_failed");
    }
    let mut hasher = MediaHasher::default();
    let mut head: Vec<u8> = Vec::with_capacity(12);
    let mut body = response.bytes_stream();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|_| "photo_pull_failed")?;
        if head.len() < 12 {
            let take = (12 - head.len()).min(piece.len());
            head.extend_from_slice(&piece[..take]);
        }
        hasher.update(&piece);
        if hasher.size() > MAX_PHOTO_BYTES {
            return Err("picture_size_check_failed");
        }
        if let Some(post) = shared.lock().posts.get_mut(publish_id) {
            post.downloaded += piece.len() as u64;
        }
    }
    let jpeg = head.starts_with(&[0xFF, 0xD8, 0xFF]);
    let webp = head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP";
    if !(jpeg || webp) {
        return Err("file_format_check_failed");
    }
    Ok(hasher.finish())
}
