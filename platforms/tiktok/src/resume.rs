//! `resume`: finding out what became of a publish from its last checkpoint, and
//! finishing what is safe to finish. It never sends a second `init`.
//!
//! What it does for each stage is the crate docs' "Checkpoints and resume" table.
//! Polling lasts at most `background_budget_secs`; a post still processing then is
//! answered `PROCESSING` with a follow-up again.

use std::sync::Arc;
use std::time::Instant;

use fanout_core::{unknown_outcome, MediaFile, PostMedia, PublishContext, PublishError, Receipt};
use serde_json::Value;

use crate::checkpoint::{self, Checkpoint};
use crate::chunks::ChunkPlan;
use crate::client::Api;
use crate::errors::PLATFORM;
use crate::photos::total_bytes;
use fanout_kit::Polling;

use crate::finish::{self, Polled};
use crate::video::{parse_upload_url, upload_chunks};

/// The failure of a photo post whose links ended before TikTok pulled the photos.
const PULL_ENDED: &str = "TikTok could not download the photos: the links fanout hosted \
for them ended before TikTok pulled them (fanout stopped, or background_budget_secs \
passed), or the media host is not reachable from the internet. Nothing was published; \
upload again.";

/// Continues the publish recorded in `checkpoint` (see the module docs).
pub(crate) async fn resume(
    api: &Api<'_>,
    polling: Polling,
    ctx: &PublishContext<'_>,
    checkpoint: &Value,
) -> Result<Receipt, PublishError> {
    let Some(checkpoint) = Checkpoint::from_value(checkpoint) else {
        tracing::warn!("a tiktok checkpoint could not be read; the outcome is unknown");
        return Err(unknown_outcome(PLATFORM));
    };
    let deadline = Instant::now() + polling.background_budget;
    match &checkpoint {
        // The init may have reached TikTok: never a second one.
        Checkpoint::Initializing => Err(unknown_outcome(PLATFORM)),
        Checkpoint::Uploading {
            publish_id,
            upload_url,
            video_size,
            chunk_size,
            total_chunk_count,
            ..
        } => {
            let plan = ChunkPlan {
                video_size: *video_size,
                chunk_size: *chunk_size,
                total_chunk_count: *total_chunk_count,
            };
            resume_upload(
                api,
                polling,
                ctx,
                &checkpoint,
                publish_id,
                upload_url,
                &plan,
            )
            .await
        }
        Checkpoint::Pulling { publish_id } => {
            let total = match &ctx.post.media {
                PostMedia::Photos(files) => total_bytes(files),
                PostMedia::Video(_) => u64::MAX,
            };
            let polled = finish::poll(api, publish_id, polling, deadline, |_| false).await;
            let follow_up = match &polled {
                Ok(Polled::Pending(status)) if status.pulled(total) => {
                    let follow_up = Checkpoint::processing(publish_id);
                    checkpoint::note(ctx, &follow_up).await;
                    follow_up
                }
                _ => checkpoint.clone(),
            };
            match polled {
                Ok(Polled::Failed(reason)) if reason == "photo_pull_failed" => {
                    Err(PublishError::transient(PULL_ENDED))
                }
                polled => finish::answer(polled, publish_id, &follow_up),
            }
        }
        Checkpoint::Processing { publish_id } => {
            finish::finish(api, publish_id, polling, deadline, &checkpoint).await
        }
    }
}

/// Resumes a video upload: the status says whether TikTok has the whole video; if not,
/// the remaining chunks go up from `uploaded_bytes`.
async fn resume_upload(
    api: &Api<'_>,
    polling: Polling,
    ctx: &PublishContext<'_>,
    checkpoint: &Checkpoint,
    publish_id: &str,
    upload_url: &str,
    plan: &ChunkPlan,
) -> Result<Receipt, PublishError> {
    let status = match finish::fetch(api, publish_id).await {
        Ok(status) => status,
        Err(err) => return finish::answer(Err(err), publish_id, checkpoint),
    };
    if let Some(polled) = finish::settled(publish_id, &status) {
        return finish::answer(Ok(polled), publish_id, checkpoint);
    }
    let Some(received) = status.uploaded_bytes else {
        // Without it, an upload that is complete and one that is not look alike.
        tracing::warn!(
            publish_id,
            "tiktok did not say how much of the video it received; the outcome is unknown"
        );
        return Err(unknown_outcome(PLATFORM));
    };
    if received < plan.video_size {
        let file = video_of(ctx, plan)?;
        let next = next_chunk(plan, received)?;
        let url = parse_upload_url(upload_url).ok_or_else(|| {
            PublishError::rejected(format!(
                "The {PLATFORM} upload could not be continued: its upload URL was not \
                 recorded readably. Nothing was published; upload again."
            ))
        })?;
        tracing::info!(
            publish_id,
            received,
            next,
            "continuing an interrupted tiktok upload"
        );
        checkpoint::record(
            ctx,
            &Checkpoint::uploading(publish_id, &url, plan, received),
        )
        .await?;
        upload_chunks(api, ctx, &url, file, plan, next, publish_id).await?;
    }
    let follow_up = Checkpoint::processing(publish_id);
    checkpoint::note(ctx, &follow_up).await;
    let deadline = Instant::now() + polling.background_budget;
    finish::finish(api, publish_id, polling, deadline, &follow_up).await
}

/// The post's video, when it is the one the upload was started with.
fn video_of<'a>(
    ctx: &'a PublishContext<'_>,
    plan: &ChunkPlan,
) -> Result<&'a Arc<MediaFile>, PublishError> {
    match &ctx.post.media {
        PostMedia::Video(file) if file.len() == plan.video_size => Ok(file),
        _ => Err(PublishError::rejected(format!(
            "The {PLATFORM} upload could not be continued: the video kept for this post is \
             not the one the upload was started with. Nothing was published; upload again."
        ))),
    }
}

/// The chunk that starts at `received`; TikTok only keeps whole chunks.
fn next_chunk(plan: &ChunkPlan, received: u64) -> Result<u64, PublishError> {
    let index = received / plan.chunk_size.max(1);
    if index < plan.total_chunk_count && plan.range(index).start == received {
        return Ok(index);
    }
    Err(PublishError::rejected(format!(
        "The {PLATFORM} upload could not be continued: TikTok holds {received} bytes, which \
         is not where a chunk starts. Nothing was published; upload again."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_chunk_starts_where_tiktok_stopped() {
        const MIB: u64 = 1024 * 1024;
        let plan = ChunkPlan::new(12 * MIB, 5 * MIB);
        assert_eq!(next_chunk(&plan, 0).unwrap(), 0);
        assert_eq!(next_chunk(&plan, 5 * MIB).unwrap(), 1);
        let err = next_chunk(&plan, 7 * MIB).unwrap_err();
        assert_eq!(
            err.message(),
            "The TikTok upload could not be continued: TikTok holds 7340032 bytes, which is \
             not where a chunk starts. Nothing was published; upload again."
        );
        // The last chunk takes the remainder: 10 MiB is inside it.
        assert!(next_chunk(&plan, 10 * MIB).is_err());
    }
}
