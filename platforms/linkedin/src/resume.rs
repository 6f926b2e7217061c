//! `resume`: a publish continued from its last checkpoint, either the follow-up of a
//! `PROCESSING` receipt or a publish that was in flight when fanout stopped. Each
//! stage first finds out what LinkedIn did, then finishes what is safe; a post whose
//! creation may have reached LinkedIn is never sent again.

use fanout_core::{PublishError, Receipt};

use crate::checkpoint::{receipt, Checkpoint, PendingPost};
use crate::comment;
use crate::errors::PLATFORM;
use crate::posts;
use crate::run::{prepare, Run};
use crate::video;

impl Run<'_> {
    /// Continues from `checkpoint` (see the [crate docs](crate) for each stage).
    pub(crate) async fn resume(&self, checkpoint: Checkpoint) -> Result<Receipt, PublishError> {
        match checkpoint {
            // Registered media are not a post: nothing of it exists yet.
            Checkpoint::RegisteringVideo | Checkpoint::UploadingImages { .. } => {
                tracing::info!(
                    platform = "linkedin",
                    "resuming before the post: starting over"
                );
                self.start_over().await
            }
            Checkpoint::VideoRegistered { video, author } => {
                match video::status(&self.api, &video).await?.as_str() {
                    // Finalized: only the post is missing.
                    "PROCESSING" | "AVAILABLE" => {
                        let (options, commentary) = prepare(self.ctx.post)?;
                        self.video_uploaded(video, author, &options, &commentary)
                            .await
                    }
                    "PROCESSING_FAILED" => Err(video::processing_failed()),
                    // WAITING_UPLOAD: the parts never all arrived.
                    _ => self.start_over().await,
                }
            }
            Checkpoint::VideoUploaded {
                video,
                post,
                uploaded_at,
            } => self.when_available(video, post, uploaded_at).await,
            Checkpoint::Posting { post } => self.find_post(post).await,
            Checkpoint::Posted {
                post_id,
                author,
                first_comment,
            } => Ok(self
                .finish(post_id, &author, first_comment.as_deref())
                .await),
            // The comment may have been taken: a second one could double it.
            Checkpoint::Commenting { post_id } => {
                Ok(self.done(post_id, vec![comment::unknown_warning()]).await)
            }
            Checkpoint::Done { post_id, warnings } => Ok(receipt(post_id, warnings)),
        }
    }

    /// The whole publish again (the throttle was passed by the first attempt).
    async fn start_over(&self) -> Result<Receipt, PublishError> {
        let (options, commentary) = prepare(self.ctx.post)?;
        self.start(&options, &commentary).await
    }

    /// The post creation was in flight: LinkedIn has no idempotency key for posts, so
    /// the only way to know is to find the post among the author's; when it cannot be
    /// found the outcome stays unknown (the post is never sent blindly again).
    async fn find_post(&self, post: PendingPost) -> Result<Receipt, PublishError> {
        let media = posts::media_of(&post.body["content"]);
        match posts::find(&self.api, &post.author, &media).await {
            Ok(Some(post_id)) => {
                tracing::info!(platform = "linkedin", %post_id, "found the post in flight");
                Ok(self
                    .finish(post_id, &post.author, post.first_comment.as_deref())
                    .await)
            }
            Ok(None) => {
                tracing::warn!(
                    platform = "linkedin",
                    "the post in flight is not among the author's newest posts; not sent again"
                );
                Err(fanout_core::unknown_outcome(PLATFORM))
            }
            Err(err) => {
                tracing::warn!(
                    platform = "linkedin",
                    error = %err,
                    "could not look for the post in flight; not sent again"
                );
                Err(fanout_core::unknown_outcome(PLATFORM))
            }
        }
    }
}
