//! From an accepted post to the answer: `status/fetch` polled until TikTok has
//! published it, and the answer once polling stops. Nothing here runs after the
//! publish returns: a post still processing is answered `PROCESSING` with a follow-up
//! checkpoint, and `resume` polls again.

use std::ops::ControlFlow;
use std::time::Instant;

use fanout_core::{ErrorKind, PublishError, Receipt};
use fanout_kit::Polling;
use serde::Deserialize;
use serde_json::json;

use crate::checkpoint::Checkpoint;
use crate::client::Api;
use crate::errors;

/// `data` of a status fetch.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Bytes TikTok pulled so far (`PULL_FROM_URL`).
    #[serde(default)]
    pub(crate) downloaded_bytes: Option<u64>,
}

impl PostStatus {
    /// Whether TikTok has pulled all `total` bytes of the photos (when it does not say
    /// how many it has, whether it is past `PROCESSING_DOWNLOAD`).
    pub(crate) fn pulled(&self, total: u64) -> bool {
        match self.downloaded_bytes {
            Some(n) => n >= total,
            None => self.status != "PROCESSING_DOWNLOAD",
        }
    }
}

/// Where a post stands once polling stopped.
#[derive(Debug)]
pub(crate) enum Polled {
    /// Published (`"status": "PUBLISH_SUCCESS"`) or sent to the inbox (a draft).
    Done(Receipt),
    /// `FAILED`, with TikTok's `fail_reason` (empty when it gave none).
    Failed(String),
    /// Still processing (the last status read).
    Pending(PostStatus),
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

/// What one status read says: done, failed, or `None` while TikTok works on it.
pub(crate) fn settled(publish_id: &str, status: &PostStatus) -> Option<Polled> {
    let done = |status: &str| {
        Some(Polled::Done(
            Receipt::new()
                .with("publish_id", publish_id)
                .with("status", status),
        ))
    };
    match status.status.as_str() {
        "PUBLISH_COMPLETE" => done("PUBLISH_SUCCESS"),
        "SEND_TO_USER_INBOX" => done("SEND_TO_USER_INBOX"),
        "FAILED" => Some(Polled::Failed(
            status.fail_reason.clone().unwrap_or_default(),
        )),
        "PROCESSING_UPLOAD" | "PROCESSING_DOWNLOAD" => None,
        other => {
            tracing::debug!(
                status = other,
                "tiktok reported an unexpected status; polling on"
            );
            None
        }
    }
}

/// Polls until the post is published, sent to the inbox (a draft) or failed, until
/// `enough` holds for a status read, or until the next wait would pass `deadline`.
/// Reads the status at least once.
pub(crate) async fn poll(
    api: &Api<'_>,
    publish_id: &str,
    polling: Polling,
    deadline: Instant,
    enough: impl Fn(&PostStatus) -> bool,
) -> Result<Polled, PublishError> {
    let polled = polling
        .until(deadline, || async {
            let status = fetch(api, publish_id).await?;
            Ok(match settled(publish_id, &status) {
                Some(polled) => ControlFlow::Break(polled),
                None if enough(&status) => ControlFlow::Break(Polled::Pending(status)),
                None => ControlFlow::Continue(status),
            })
        })
        .await?;
    Ok(match polled {
        ControlFlow::Break(polled) => polled,
        ControlFlow::Continue(status) => Polled::Pending(status),
    })
}

/// The warning of a post TikTok accepted but whose status fanout could not read.
const REFUSED_WHILE_CHECKING: &str = "TikTok accepted the post but refused the token while \
fanout checked on it, so its final status is unknown here; reconnect the TikTok account \
before the next upload.";

/// `{"publish_id", "status": "PROCESSING"}`, asking for `resume` with `follow_up`.
pub(crate) fn processing(publish_id: &str, follow_up: &Checkpoint) -> Receipt {
    Receipt::new()
        .with("publish_id", publish_id)
        .with("status", "PROCESSING")
        .with_follow_up(follow_up.to_value())
}

/// The answer for a post TikTok accepted, once polling stopped:
///
/// - published or in the inbox: that receipt;
/// - `FAILED`: the error its `fail_reason` maps to;
/// - still processing: `{"publish_id", "status": "PROCESSING"}` with `follow_up`, so
///   the engine calls `resume` later (TikTok publishes on its own; posting again would
///   duplicate the post);
/// - the status could not be read (token refused, TikTok unavailable): the same
///   `PROCESSING` answer with its follow-up, since the post exists and an error would
///   invite publishing it again; a refused token adds a warning saying so.
///
/// Other errors (a status fetch TikTok refused for another reason) are returned.
pub(crate) fn answer(
    polled: Result<Polled, PublishError>,
    publish_id: &str,
    follow_up: &Checkpoint,
) -> Result<Receipt, PublishError> {
    match polled {
        Ok(Polled::Done(receipt)) => Ok(receipt),
        Ok(Polled::Failed(reason)) => Err(errors::from_fail_reason(&reason)),
        Ok(Polled::Pending(_)) => {
            tracing::info!(
                publish_id,
                "tiktok is still processing the post; answering PROCESSING with a follow-up"
            );
            Ok(processing(publish_id, follow_up))
        }
        Err(err) if err.kind() == ErrorKind::TokenExpired => Ok(processing(publish_id, follow_up)
            .with("warnings", vec![REFUSED_WHILE_CHECKING.to_string()])),
        Err(err) if err.is_retryable() => {
            tracing::warn!(
                publish_id,
                %err,
                "could not read the status of an accepted tiktok post; answering PROCESSING \
                 with a follow-up"
            );
            Ok(processing(publish_id, follow_up))
        }
        Err(err) => Err(err),
    }
}

/// Polls an accepted post until `deadline`, then answers with [`answer`].
pub(crate) async fn finish(
    api: &Api<'_>,
    publish_id: &str,
    polling: Polling,
    deadline: Instant,
    follow_up: &Checkpoint,
) -> Result<Receipt, PublishError> {
    let polled = poll(api, publish_id, polling, deadline, |_| false).await;
    answer(polled, publish_id, follow_up)
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
        assert!(s.downloaded_bytes.is_none());
    }

    #[test]
    fn photos_are_pulled_when_every_byte_arrived_or_the_download_is_over() {
        let status = |status: &str, downloaded: Option<u64>| PostStatus {
            status: status.into(),
            downloaded_bytes: downloaded,
            ..PostStatus::default()
        };
        assert!(!status("PROCESSING_DOWNLOAD", Some(10)).pulled(11));
        assert!(status("PROCESSING_DOWNLOAD", Some(11)).pulled(11));
        assert!(!status("PROCESSING_DOWNLOAD", None).pulled(11));
        assert!(status("PUBLISH_COMPLETE", None).pulled(11));
    }

    #[test]
    fn pending_and_unreadable_statuses_answer_processing_with_the_follow_up() {
        let follow_up = Checkpoint::processing("p1");
        let receipt = answer(Ok(Polled::Pending(PostStatus::default())), "p1", &follow_up).unwrap();
        assert_eq!(
            serde_json::Value::Object(receipt.fields().clone()),
            json!({"publish_id": "p1", "status": "PROCESSING"})
        );
        assert_eq!(
            receipt.follow_up(),
            Some(&json!({"stage": "processing", "publish_id": "p1"}))
        );
        let receipt = answer(
            Err(PublishError::transient("TikTok had a temporary problem")),
            "p1",
            &follow_up,
        )
        .unwrap();
        assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
        assert!(receipt.follow_up().is_some());
        let receipt = answer(Err(PublishError::token_expired("TikTok")), "p1", &follow_up).unwrap();
        assert_eq!(
            receipt.get("warnings"),
            Some(&json!([REFUSED_WHILE_CHECKING]))
        );
        let err = answer(
            Ok(Polled::Failed("duration_check_failed".into())),
            "p1",
            &follow_up,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MediaRejected);
        let err = answer(Err(PublishError::rejected("no")), "p1", &follow_up).unwrap_err();
        assert_eq!(err.message(), "no");
    }
}
