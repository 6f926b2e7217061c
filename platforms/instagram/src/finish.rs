//! From a container whose media is in to a live post: wait, publish, comment; or, when
//! the wait budget ends while Instagram still processes, answer `PROCESSING` and finish
//! in a detached task.

use std::time::Duration;

use fanout_core::{HostedMedia, PublishError, Receipt};
use serde_json::json;

use crate::client::Graph;
use crate::comment;
use crate::container::{self, Polling, Waited};
use crate::errors::PLATFORM;
use crate::photos::{self, Target};

/// Everything needed to finish one post, owned so a detached task can carry it.
pub(crate) struct Finish {
    /// The Graph session.
    pub(crate) graph: Graph,
    /// The IG user id.
    pub(crate) user_id: String,
    /// What to wait for and publish.
    pub(crate) target: Target,
    /// The wait before answering.
    pub(crate) polling: Polling,
    /// The longer wait of the detached task.
    pub(crate) background_budget: Duration,
    /// The comment to post once live.
    pub(crate) first_comment: Option<String>,
    /// Warnings known before publishing.
    pub(crate) warnings: Vec<String>,
    /// Hosted links Instagram may still pull; released when done.
    pub(crate) hosted: Vec<HostedMedia>,
}

/// Waits for the container, then publishes it (and comments); past the budget, answers
/// `{"container_id" (or "children_ids"), "status": "PROCESSING"}` and finishes in the
/// background.
pub(crate) async fn finish(mut job: Finish) -> Result<Receipt, PublishError> {
    match advance(&mut job).await? {
        Some(container) => publish_and_comment(job, container).await,
        None => {
            let mut receipt = match &job.target {
                Target::Container(id) => Receipt::new().with("container_id", id.clone()),
                Target::Carousel { children, .. } => {
                    Receipt::new().with("children_ids", json!(children))
                }
            };
            receipt = receipt.with("status", "PROCESSING");
            if !job.warnings.is_empty() {
                receipt = receipt.with("warnings", json!(job.warnings));
            }
            tracing::info!("instagram is still processing; publishing continues in the background");
            tokio::spawn(background(job));
            Ok(receipt)
        }
    }
}

/// Waits (within `job.polling`) until there is a finished container to publish:
/// `Some(id)`, or `None` when the budget ended first. A carousel container is created
/// once its items are finished, and `job.target` then names it.
async fn advance(job: &mut Finish) -> Result<Option<String>, PublishError> {
    if let Target::Carousel { children, params } = &job.target {
        for child in children {
            if container::wait(&job.graph, child, job.polling).await? == Waited::StillProcessing {
                return Ok(None);
            }
        }
        let id = photos::create_carousel(&job.graph, &job.user_id, children, params).await?;
        job.target = Target::Container(id);
    }
    let Target::Container(id) = &job.target else {
        return Ok(None);
    };
    match container::wait(&job.graph, id, job.polling).await? {
        Waited::Finished => Ok(Some(id.clone())),
        Waited::StillProcessing => Ok(None),
    }
}

async fn publish_and_comment(job: Finish, container: String) -> Result<Receipt, PublishError> {
    let mut warnings = job.warnings;
    let published = container::publish(&job.graph, &job.user_id, &container).await;
    drop(job.hosted);
    let mut receipt = published?;
    if let Some(message) = job.first_comment.as_deref() {
        match receipt
            .get("media_id")
            .and_then(|v| v.as_str())
            .map(str::to_string)
        {
            Some(media_id) => match comment::post(&job.graph, &media_id, message).await {
                Ok(id) => receipt = receipt.with("comment_id", id),
                Err(error) => {
                    tracing::warn!(kind = ?error.kind(), "instagram refused the first comment");
                    warnings.push(comment::failed(&error));
                }
            },
            None => warnings.push(format!(
                "The post is live, but {PLATFORM}'s answer with its media id was lost, so the \
                 first comment was not posted; add it on {PLATFORM} by hand."
            )),
        }
    }
    if !warnings.is_empty() {
        receipt = receipt.with("warnings", json!(warnings));
    }
    Ok(receipt)
}

/// The detached rest of a publish: wait up to the background budget, publish, comment,
/// and log the outcome (ids and kinds only, never a token or URL).
async fn background(mut job: Finish) {
    job.polling.budget = job.background_budget;
    let outcome = match advance(&mut job).await {
        Ok(Some(container)) => publish_and_comment(job, container).await.map(Some),
        Ok(None) => Ok(None),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(Some(receipt)) => tracing::info!(
            container = receipt
                .get("container_id")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown"),
            media_id = receipt
                .get("media_id")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown"),
            "instagram post published in the background"
        ),
        Ok(None) => tracing::warn!(
            "instagram was still processing when the background budget ended; not published"
        ),
        Err(error) => tracing::warn!(
            kind = ?error.kind(),
            message = error.message(),
            "instagram background publish failed"
        ),
    }
}
