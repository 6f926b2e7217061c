//! [`fanout_core::Publisher::resume`] for Instagram: from the last checkpoint, find out
//! what Instagram did and finish what is safe to finish.
//!
//! Only `media_publish` makes a post, and it is only ever sent for a container whose
//! id was recorded ([`Stage::Publishing`]) before the call. A container is published at
//! most once, so its id is the post's idempotency key. Everything before it (item,
//! video, photo and carousel containers) is invisible until published and expires
//! after 24 hours: a creation whose answer was lost leaves at most an orphan container
//! nobody publishes, so it is safe to create another.

use fanout_core::{PostMedia, PublishContext, PublishError, Receipt};
use serde_json::Value;

use crate::checkpoint::{Checkpoint, Journal, Stage, Target};
use crate::container;
use crate::errors::PLATFORM;
use crate::finish::{self, live, receipt};
use crate::run::{Prepared, Run};
use crate::video;

/// Continues the publish recorded in `checkpoint` (see the crate docs for each stage).
pub(crate) async fn resume(
    run: &Run,
    ctx: PublishContext<'_>,
    checkpoint: &Value,
) -> Result<Receipt, PublishError> {
    let checkpoint = Checkpoint::parse(checkpoint)?;
    let (mut journal, stage) = Journal::resuming(ctx.progress, checkpoint);
    tracing::info!(stage = stage.name(), "instagram resumes a publish");
    match stage {
        // The creation in flight left at most an orphan container: create it again.
        Stage::Creating { children_ids } => recreate(run, &ctx, journal, children_ids).await,
        // A carousel container may exist, and it may have taken the items: start again
        // from new items (Instagram pulls the photos again from new links).
        Stage::CreatingCarousel { .. } => {
            if !matches!(&ctx.post.media, PostMedia::Photos(files) if files.len() > 1) {
                return Err(fanout_core::unknown_outcome(PLATFORM));
            }
            recreate(run, &ctx, journal, Vec::new()).await
        }
        // The container exists; the upload host knows how much of the video it has.
        Stage::Uploading {
            container_id,
            upload_url,
        } => {
            let PostMedia::Video(file) = &ctx.post.media else {
                return Err(fanout_core::unknown_outcome(PLATFORM));
            };
            video::resume_upload(&run.api, &run.upload, &container_id, &upload_url, file).await?;
            journal
                .record(Stage::Processing {
                    container_id: container_id.clone(),
                })
                .await?;
            let job = run.finish_job(journal, Vec::new());
            finish::finish(job, Target::Container(container_id)).await
        }
        // Waiting for Instagram, or a publish call that may or may not have gone
        // through: the container's status decides (`PUBLISHED` is the live post,
        // `FINISHED` is published now, `IN_PROGRESS` answers PROCESSING again, `ERROR`
        // and `EXPIRED` fail).
        Stage::Processing { container_id } | Stage::Publishing { container_id } => {
            let job = run.finish_job(journal, Vec::new());
            finish::finish(job, Target::Container(container_id)).await
        }
        Stage::ProcessingItems {
            children_ids,
            carousel,
        } => {
            let job = run.finish_job(journal, Vec::new());
            let target = Target::Carousel {
                children: children_ids,
                params: carousel,
            };
            finish::finish(job, target).await
        }
        // Live, and the comment provably not sent yet (`commenting` comes first).
        Stage::Published {
            container_id,
            media_id,
        } => {
            let job = run.finish_job(journal, Vec::new());
            Ok(live(job, container_id, media_id).await)
        }
        // Live; the comment may or may not exist: a warning, never a second comment.
        Stage::Commenting {
            container_id,
            media_id,
        } => {
            journal.warnings.push(format!(
                "The post is live, but fanout stopped while posting the first comment, so it \
                 may or may not be there; check the post on {PLATFORM} and add the comment by \
                 hand only if it is missing."
            ));
            let commented = Stage::Commented {
                container_id: container_id.clone(),
                media_id: media_id.clone(),
                comment_id: None,
            };
            let _ = journal.record(commented).await;
            Ok(receipt(
                container_id,
                Some(media_id),
                None,
                &journal.warnings,
            ))
        }
        // Everything was done; only the answer was lost.
        Stage::Commented {
            container_id,
            media_id,
            comment_id,
        } => Ok(receipt(
            container_id,
            Some(media_id),
            comment_id,
            &journal.warnings,
        )),
    }
}

/// Creates the post's container(s) again from `ctx.post` (hosting photos again), after
/// `made` carousel items, and finishes the publish.
async fn recreate(
    run: &Run,
    ctx: &PublishContext<'_>,
    journal: Journal<'_>,
    made: Vec<String>,
) -> Result<Receipt, PublishError> {
    // The first comment and warnings come from the checkpoint; caption and options
    // from the post, as the first attempt read them.
    let prepared = Prepared::from(ctx.post)?;
    container::check_publishing_quota(&run.api, &journal.user_id).await?;
    let (target, hosted) = run.create(ctx, &journal, &prepared, made).await?;
    finish::finish(run.finish_job(journal, hosted), target).await
}
