//! `status/fetch`: polling a post until TikTok has published it.

use std::time::{Duration, Instant};

use fanout_core::{PublishError, Receipt};
use serde::Deserialize;
use serde_json::json;

use crate::client::Api;
use crate::errors::{self, PLATFORM};

/// How long to wait between status polls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Polling {
    /// First wait; doubles up to four times this.
    pub(crate) interval: Duration,
    /// Longest total wait.
    pub(crate) budget: Duration,
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

/// Polls until the post is published (`PUBLISH_COMPLETE`), failed, or out of budget.
///
/// Receipt: `{"publish_id", "status": "PUBLISH_SUCCESS"}` (or `"SEND_TO_USER_INBOX"`
/// for a draft).
pub(crate) async fn wait_until_published(
    api: &Api<'_>,
    publish_id: &str,
    polling: Polling,
) -> Result<Receipt, PublishError> {
    let started = Instant::now();
    let mut wait = polling.interval;
    loop {
        let status = fetch(api, publish_id).await?;
        let done = |status: &str| {
            Ok(Receipt::new()
                .with("publish_id", publish_id)
                .with("status", status))
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
        if started.elapsed() + wait > polling.budget {
            return Err(PublishError::timed_out(PLATFORM, polling.budget));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(polling.interval * 4);
    }
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
