//! `status/fetch`: polling a post until TikTok has published it.

use std::time::{Duration, Instant};

use fanout_core::{ErrorKind, PublishError, Receipt};
use serde::Deserialize;
use serde_json::json;

use crate::client::Api;
use crate::errors;

/// How long to wait between status polls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Polling {
    /// First wait; doubles up to four times this.
    pub(crate) interval: Duration,
    /// Longest total wait before answering.
    pub(crate) budget: Duration,
    /// Longest further wait, in a background task, once the answer said `PROCESSING`.
    pub(crate) background_budget: Duration,
}

/// `data` of a status fetch.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PostStatus {
    /// `PROCESSING_UPLOAD`, `PROCESSING_DOWNLOAD`, `SEND_TO_USER_INBOX`,
    /// `PUBLISH_COMPLETE` or `FAILED`.
    #[serde(default)]
    pub(crate) status: String,
    /// Why it failed, when `FAILED`.
    #[serde(default)]
    pub(crate) fail_reason: Option<String>,
    /// Bytes TikTok received so far (`FILE_UPLOAD`).
    #[serde(default)]
    pub(crate) uploaded_bytes: Option<u64>,
}

/// `POST /v2/post/publish/status/fetch/`, retried when refused or lost.
pub(crate) async fn fetch(api: &Api<'_>, publish_id: &str) -> Result<PostStatus, PublishError> {
    api.safe(
        "v2/post/publish/status/fetch/",
        Some(&json!({ "publish_id": publish_id })),
        "the status fetch",
    )
    .await
}

/// Polls until the post is published (`PUBLISH_COMPLETE`), sent to the inbox (a
/// draft) or failed; `Ok(None)` when the budget ended while TikTok still processes it.
///
/// Receipt: `{"publish_id", "status": "PUBLISH_SUCCESS"}` (or `"SEND_TO_USER_INBOX"`
/// for a draft).
pub(crate) async fn wait_until_published(
    api: &Api<'_>,
    publish_id: &str,
    interval: Duration,
    budget: Duration,
) -> Result<Option<Receipt>, PublishError> {
    let started = Instant::now();
    let mut wait = interval;
    loop {
        let status = fetch(api, publish_id).await?;
        let done = |status: &str| {
            Ok(Some(
                Receipt::new()
                    .with("publish_id", publish_id)
                    .with("status", status),
            ))
        };
        match status.status.as_str() {
            "PUBLISH_COMPLETE" => return done("PUBLISH_SUCCESS"),
            "SEND_TO_USER_INBOX" => return done("SEND_TO_USER_INBOX"),
            "FAILED" => {
                return Err(errors::from_fail_reason(
                    status.fail_reason.as_deref().unwrap_or_default(),
                ))
            }
            "PROCESSING_UPLOAD" | "PROCESSING_DOWNLOAD" => {}
            other => {
                tracing::debug!(
                    status = other,
                    "tiktok reported an unexpected status; polling on"
                );
            }
        }
        if started.elapsed() + wait > budget {
            return Ok(None);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(interval * 4);
    }
}

/// Waits for the post within `polling.budget`. When TikTok is still processing the
/// accepted upload at the end, answers `{"publish_id", "status": "PROCESSING"}` at once
/// (TikTok publishes on its own; posting again would duplicate it) and goes on polling
/// in a detached task for `polling.background_budget`, keeping `keep_alive` (the
/// hosted photo links TikTok may still pull) until then, and logging the outcome.
/// The warning of a post TikTok accepted but whose status fanout could not read.
const REFUSED_WHILE_CHECKING: &str = "TikTok accepted the post but refused the token while \
fanout checked on it, so its final status is unknown here; reconnect the TikTok account \
before the next upload.";

pub(crate) async fn finish<K: Send + 'static>(
    api: &Api<'_>,
    publish_id: &str,
    polling: Polling,
    keep_alive: K,
) -> Result<Receipt, PublishError> {
    match wait_until_published(api, publish_id, polling.interval, polling.budget).await {
        Ok(Some(receipt)) => return Ok(receipt),
        Ok(None) => {}
        // TikTok accepted the post and publishes it on its own: a token refused while
        // only checking on it must not read as "reconnect and publish again", which
        // would post twice.
        Err(err) if err.kind() == ErrorKind::TokenExpired => {
            return Ok(Receipt::new()
                .with("publish_id", publish_id)
                .with("status", "PROCESSING")
                .with("warnings", vec![REFUSED_WHILE_CHECKING.to_string()]))
        }
        Err(err) => return Err(err),
    }
    tracing::info!(
        publish_id,
        "tiktok is still processing the post; answering PROCESSING and polling on in the \
         background"
    );
    let detached = api.detach();
    let id = publish_id.to_string();
    tokio::spawn(async move {
        let api = detached.api();
        let outcome =
            wait_until_published(&api, &id, polling.interval, polling.background_budget).await;
        drop(keep_alive);
        match outcome {
            Ok(Some(receipt)) => tracing::info!(
                publish_id = %id,
                status = ?receipt.get("status"),
                "tiktok finished processing the post"
            ),
            Ok(None) => tracing::warn!(
                publish_id = %id,
                budget_secs = polling.background_budget.as_secs(),
                "tiktok was still processing the post when the background budget ended"
            ),
            Err(error) => tracing::warn!(
                publish_id = %id,
                %error,
                "tiktok did not publish the post after processing"
            ),
        }
    });
    Ok(Receipt::new()
        .with("publish_id", publish_id)
        .with("status", "PROCESSING"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reads_with_missing_fields() {
        let s: PostStatus =
            serde_json::from_value(json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 5}))
                .unwrap();
        assert_eq!(s.uploaded_bytes, Some(5));
        assert!(s.fail_reason.is_none());
    }
}
