//! From a container whose media is in to a live post: wait, publish, comment; or, when
//! the wait budget ends while Instagram still processes, answer `PROCESSING` with a
//! follow-up checkpoint for [`fanout_core::Publisher::resume`]. Nothing runs detached.

use std::time::Duration;

use chrono::Utc;
use fanout_core::{ErrorKind, HostedMedia, PublishError, Receipt};
use fanout_kit::Polling;
use serde_json::json;

use crate::checkpoint::{human, Journal, Stage, Target};
use crate::client::Api;
use crate::comment;
use crate::container::{self, Waited};
use crate::errors::PLATFORM;
use crate::photos;

/// Everything needed to finish one post.
pub(crate) struct Finish<'a> {
    /// The Graph session.
    pub(crate) api: Api,
    /// The wait before answering `PROCESSING`.
    pub(crate) polling: Polling,
    /// How long follow-ups keep waiting, counted from the first `PROCESSING` answer.
    pub(crate) follow_up_budget: Duration,
    /// Where checkpoints go, with the user id, first comment and warnings.
    pub(crate) journal: Journal<'a>,
    /// Hosted links Instagram may still pull; released once the publish call returned
    /// (or when the answer is `PROCESSING`).
    pub(crate) hosted: Vec<HostedMedia>,
}

/// How waiting for a target ended.
enum Ready {
    /// A `FINISHED` container to publish.
    ToPublish(String),
    /// A container already `PUBLISHED` (a resumed publish).
    Live(String),
    /// Still processing at the end of the budget.
    Waiting(Target),
}

/// Waits for `target`, then publishes it (and comments); past the budget, answers
/// `{"container_id" (or "children_ids"), "status": "PROCESSING"}` with a follow-up.
pub(crate) async fn finish(mut job: Finish<'_>, target: Target) -> Result<Receipt, PublishError> {
    match advance(&job, target).await? {
        Ready::ToPublish(container) => publish_and_comment(job, container).await,
        Ready::Live(container) => {
            job.hosted.clear();
            let published = Stage::Published {
                container_id: container.clone(),
                media_id: None,
            };
            // The post is live either way; without its media id nothing else is sent.
            let _ = job.journal.record(published).await;
            Ok(live(job, container, None).await)
        }
        Ready::Waiting(target) => processing(job, target),
    }
}

/// The `PROCESSING` answer, or the end of the follow-ups once their budget is spent.
fn processing(mut job: Finish<'_>, target: Target) -> Result<Receipt, PublishError> {
    job.hosted.clear();
    let now = Utc::now();
    let since = *job.journal.waiting_since.get_or_insert(now);
    let waited = (now - since).to_std().unwrap_or_default();
    if waited > job.follow_up_budget {
        tracing::warn!(
            budget_secs = job.follow_up_budget.as_secs(),
            "instagram was still processing when the follow-up budget ended; not published"
        );
        return Err(PublishError::new(
            ErrorKind::TimedOut,
            format!(
                "{PLATFORM} was still processing the upload {} after fanout first answered \
                 PROCESSING, so it was not published and nothing was posted; upload again.",
                human(waited)
            ),
        ));
    }
    let follow_up = job.journal.value(Stage::waiting_for(&target))?;
    let mut receipt = match &target {
        Target::Container(id) => Receipt::new().with("container_id", id.clone()),
        Target::Carousel { children, .. } => Receipt::new().with("children_ids", json!(children)),
    };
    receipt = receipt.with("status", "PROCESSING");
    if !job.journal.warnings.is_empty() {
        receipt = receipt.with("warnings", json!(job.journal.warnings));
    }
    tracing::info!("instagram is still processing; the engine follows up later");
    Ok(receipt.with_follow_up(follow_up))
}

/// Waits (within `job.polling`) until there is a container to publish, or one already
/// live. A carousel container is created once its items are finished, with a
/// checkpoint before the creation and once its id is in.
async fn advance(job: &Finish<'_>, target: Target) -> Result<Ready, PublishError> {
    let container = match target {
        Target::Container(id) => id,
        Target::Carousel { children, params } => {
            for child in &children {
                match container::wait(&job.api, child, job.polling).await? {
                    Waited::Finished => {}
                    Waited::StillProcessing => {
                        return Ok(Ready::Waiting(Target::Carousel { children, params }))
                    }
                    // An item is never published on its own.
                    Waited::Published => return Err(fanout_core::unknown_outcome(PLATFORM)),
                }
            }
            job.journal
                .record(Stage::CreatingCarousel {
                    children_ids: children.clone(),
                    carousel: params.clone(),
                })
                .await?;
            let id =
                photos::create_carousel(&job.api, &job.journal.user_id, &children, &params).await?;
            job.journal
                .record(Stage::Processing {
                    container_id: id.clone(),
                })
                .await?;
            id
        }
    };
    Ok(
        match container::wait(&job.api, &container, job.polling).await? {
            Waited::Finished => Ready::ToPublish(container),
            Waited::Published => Ready::Live(container),
            Waited::StillProcessing => Ready::Waiting(Target::Container(container)),
        },
    )
}

/// Publishes `container` (recording [`Stage::Publishing`] first and
/// [`Stage::Published`] after), then posts the first comment.
async fn publish_and_comment(
    mut job: Finish<'_>,
    container: String,
) -> Result<Receipt, PublishError> {
    job.journal
        .record(Stage::Publishing {
            container_id: container.clone(),
        })
        .await?;
    let published = container::publish(&job.api, &job.journal.user_id, &container).await;
    job.hosted.clear();
    let receipt = published?;
    let media_id = receipt
        .get("media_id")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let recorded = job
        .journal
        .record(Stage::Published {
            container_id: container.clone(),
            media_id: media_id.clone(),
        })
        .await;
    if recorded.is_err() && job.journal.first_comment.take().is_some() {
        // The post is live: not an error, but no further call either.
        job.journal.warnings.push(unrecorded());
    }
    Ok(live(job, container, media_id).await)
}

/// The rest of a live post: the first comment (when wanted and possible), then the
/// receipt `{"container_id", "media_id"?, "comment_id"?, "warnings"?}`.
///
/// The comment is posted only when no earlier attempt can have posted it: callers
/// pass a journal whose `first_comment` is still wanted, and [`Stage::Commenting`] is
/// recorded before the call.
pub(crate) async fn live(
    mut job: Finish<'_>,
    container: String,
    media_id: Option<String>,
) -> Receipt {
    let mut comment_id = None;
    // The comment stays in the journal, so later checkpoints still show it.
    match (job.journal.first_comment.clone(), media_id.as_deref()) {
        (None, _) => {}
        (Some(_), None) => job.journal.warnings.push(format!(
            "The post is live, but {PLATFORM}'s answer with its media id was lost, so the \
             first comment was not posted; add it on {PLATFORM} by hand."
        )),
        (Some(message), Some(media_id)) => {
            let commenting = Stage::Commenting {
                container_id: container.clone(),
                media_id: media_id.to_string(),
            };
            if job.journal.record(commenting).await.is_err() {
                job.journal.warnings.push(unrecorded());
            } else {
                match comment::post(&job.api, media_id, &message).await {
                    Ok(id) => comment_id = Some(id),
                    Err(error) => {
                        tracing::warn!(kind = ?error.kind(), "instagram refused the first comment");
                        job.journal.warnings.push(comment::failed(&error));
                    }
                }
                let commented = Stage::Commented {
                    container_id: container.clone(),
                    media_id: media_id.to_string(),
                    comment_id: comment_id.clone(),
                };
                // Nothing follows: a checkpoint that cannot be stored changes nothing.
                let _ = job.journal.record(commented).await;
            }
        }
    }
    receipt(container, media_id, comment_id, &job.journal.warnings)
}

/// The final receipt of a live post.
pub(crate) fn receipt(
    container: String,
    media_id: Option<String>,
    comment_id: Option<String>,
    warnings: &[String],
) -> Receipt {
    let mut receipt = Receipt::new().with("container_id", container);
    if let Some(id) = media_id {
        receipt = receipt.with("media_id", id);
    }
    if let Some(id) = comment_id {
        receipt = receipt.with("comment_id", id);
    }
    if !warnings.is_empty() {
        receipt = receipt.with("warnings", json!(warnings));
    }
    receipt
}

/// The warning for a first comment skipped because progress could not be recorded.
fn unrecorded() -> String {
    format!(
        "The post is live, but fanout could not record its progress, so the first comment \
         was not posted; add it on {PLATFORM} by hand."
    )
}
