//! Containers: waiting until one is `FINISHED`, and publishing it exactly once.

use std::ops::ControlFlow;

use fanout_core::{ErrorKind, PublishError, Receipt};
use fanout_kit::{sanitize_platform_message, CallError, Idempotence, Polling};
use reqwest::Method;
use serde::Deserialize;

use crate::client::Api;
use crate::errors::PLATFORM;

/// `GET /<container id>?fields=status_code,status`.
#[derive(Debug, Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// An answer carrying an id (`media`, `media_publish`).
#[derive(Debug, Deserialize)]
pub(crate) struct IdAnswer {
    /// The new object's id.
    pub(crate) id: String,
    /// The resumable-upload URL, when the container takes an upload.
    #[serde(default)]
    pub(crate) uri: Option<String>,
}

async fn status_code(api: &Api, container: &str) -> Result<ContainerStatus, PublishError> {
    api.safe(
        Method::GET,
        container,
        &[("fields", "status_code,status".to_string())],
        "the container status check",
    )
    .await
}

/// How a wait for a container ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// `FINISHED`: ready to publish.
    Finished,
    /// Still `IN_PROGRESS` when the budget ended.
    StillProcessing,
    /// `PUBLISHED`: the post is live already (a resumed publish whose `media_publish`
    /// went through before fanout stopped).
    Published,
}

/// Polls `container` until it is `FINISHED` or `PUBLISHED`, or the budget ends while it
/// still processes; `ERROR` and `EXPIRED` are errors.
pub(crate) async fn wait(
    api: &Api,
    container: &str,
    polling: Polling,
) -> Result<Waited, PublishError> {
    let waited = polling
        .until(polling.deadline(), || async {
            let status = status_code(api, container).await?;
            let detail = status
                .status
                .as_deref()
                .map(sanitize_platform_message)
                .unwrap_or_else(|| "no reason given".to_string());
            match status.status_code.as_deref() {
                Some("FINISHED") => Ok(ControlFlow::Break(Waited::Finished)),
                Some("PUBLISHED") => Ok(ControlFlow::Break(Waited::Published)),
                Some("ERROR") => Err(PublishError::media_rejected(format!(
                    "{PLATFORM} could not process the media ({detail}). Check that it is a JPEG \
                     photo or an MP4/MOV video within Instagram's limits, then upload again."
                ))),
                Some("EXPIRED") => Err(PublishError::rejected(format!(
                    "The {PLATFORM} upload expired before it was published (containers last 24 \
                     hours); upload again."
                ))),
                _ => Ok(ControlFlow::Continue(())),
            }
        })
        .await?;
    Ok(match waited {
        ControlFlow::Break(waited) => waited,
        ControlFlow::Continue(()) => Waited::StillProcessing,
    })
}

/// `POST /<ig-user-id>/media_publish` for `container`, never repeated blindly.
///
/// A refusal (429, rate-limit codes, "not ready yet") is retried under the retry
/// policy: Instagram did not act on it. When the answer is lost or a 5xx leaves the
/// outcome open, the container's `status_code` decides: `PUBLISHED` is success (the
/// receipt then has only `container_id`, as the media id was in the lost answer);
/// anything else is an unknown outcome. A refusal of a parameter (code 100, as for a
/// container published already) is checked the same way, so a resumed publish racing
/// an earlier one that went through reads as the live post, not as a failure.
pub(crate) async fn publish(
    api: &Api,
    user_id: &str,
    container: &str,
) -> Result<Receipt, PublishError> {
    let path = format!("{user_id}/media_publish");
    let params = [("creation_id", container.to_string())];
    let outcome = api
        .session
        .retry()
        .run(|| async {
            match api
                .call::<IdAnswer>(Method::POST, &path, &params, "the publish call")
                .await
            {
                Ok(answer) => Ok(Ok(answer)),
                // Refused before anything happened, or never sent: safe to repeat.
                Err(CallError::Refused { status, error }) if status < 500 => Err(error),
                Err(CallError::NotReceived(error)) => Err(error),
                Err(open) => Ok(Err(open)),
            }
        })
        .await;
    match outcome {
        Ok(Ok(answer)) => Ok(Receipt::new()
            .with("container_id", container)
            .with("media_id", answer.id)),
        Ok(Err(open)) => recover(api, container, open).await,
        Err(refused) if refused.kind() == ErrorKind::Rejected => {
            if is_published(api, container).await {
                tracing::info!("instagram refused the publish call of a published container");
                return Ok(Receipt::new().with("container_id", container));
            }
            Err(refused)
        }
        Err(refused) => Err(refused),
    }
}

/// Whether `container` reads `PUBLISHED` (a failed read says no).
async fn is_published(api: &Api, container: &str) -> bool {
    status_code(api, container)
        .await
        .is_ok_and(|status| status.status_code.as_deref() == Some("PUBLISHED"))
}

/// The publish call's outcome is open: read the container instead of publishing again.
async fn recover(api: &Api, container: &str, open: CallError) -> Result<Receipt, PublishError> {
    let unknown = match open {
        CallError::Refused { status, .. } => PublishError::outcome_unknown(format!(
            "{PLATFORM} failed while publishing (HTTP {status}), so the post may or may not have \
             been published. Check the {PLATFORM} account before uploading again."
        )),
        lost => lost.into_error(Idempotence::Publishing),
    };
    if is_published(api, container).await {
        tracing::info!("instagram publish answer was lost, but the container is published");
        return Ok(Receipt::new().with("container_id", container));
    }
    Err(unknown)
}

/// `GET /<ig-user-id>/content_publishing_limit?fields=quota_usage,config`.
#[derive(Debug, Deserialize)]
struct PublishingLimit {
    #[serde(default)]
    data: Vec<LimitEntry>,
}

#[derive(Debug, Deserialize)]
struct LimitEntry {
    #[serde(default)]
    quota_usage: u64,
    #[serde(default)]
    config: Option<LimitConfig>,
}

#[derive(Debug, Deserialize)]
struct LimitConfig {
    quota_total: u64,
}

/// Fails with the daily-cap error when the account has no publishing quota left.
pub(crate) async fn check_publishing_quota(api: &Api, user_id: &str) -> Result<(), PublishError> {
    let limit: PublishingLimit = api
        .safe(
            Method::GET,
            &format!("{user_id}/content_publishing_limit"),
            &[("fields", "quota_usage,config".to_string())],
            "the publishing limit check",
        )
        .await?;
    for entry in limit.data {
        if let Some(config) = entry.config {
            if entry.quota_usage >= config.quota_total {
                return Err(crate::errors::publishing_cap_reached(Some((
                    entry.quota_usage,
                    config.quota_total,
                ))));
            }
        }
    }
    Ok(())
}
