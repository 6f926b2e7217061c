//! Checkpoints: how far a publish got, recorded through
//! [`fanout_core::PublishContext::checkpoint`] so that `resume` can find out what
//! TikTok did.
//!
//! As JSON, `{"stage": "initializing" | "uploading" | "pulling" | "processing", …}`
//! plus what that stage knows; the crate docs say when each is recorded and what
//! `resume` does with it.

use fanout_core::{PublishContext, PublishError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chunks::ChunkPlan;

/// How far one publish got.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub(crate) enum Checkpoint {
    /// An `init` call is about to be sent: nothing is known of the post.
    Initializing,
    /// `video/init` answered; the chunks are going up.
    Uploading {
        /// TikTok's id of the post.
        publish_id: String,
        /// Where the chunks go. A secret for an hour (it carries an upload token):
        /// never logged or shown.
        upload_url: String,
        /// The whole video, in bytes.
        video_size: u64,
        /// The size of every chunk but the last, in bytes (as declared to TikTok).
        chunk_size: u64,
        /// How many chunks were declared.
        total_chunk_count: u64,
        /// Bytes TikTok had confirmed when this checkpoint was taken.
        sent_bytes: u64,
    },
    /// `content/init` answered; TikTok pulls the photos from the links fanout hosts.
    Pulling {
        /// TikTok's id of the post.
        publish_id: String,
    },
    /// TikTok has all the media and publishes the post on its own.
    Processing {
        /// TikTok's id of the post.
        publish_id: String,
    },
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checkpoint::Initializing => f.write_str("Initializing"),
            Checkpoint::Uploading {
                publish_id,
                sent_bytes,
                video_size,
                ..
            } => f
                .debug_struct("Uploading")
                .field("publish_id", publish_id)
                .field("upload_url", &"[redacted]")
                .field("sent_bytes", sent_bytes)
                .field("video_size", video_size)
                .finish_non_exhaustive(),
            Checkpoint::Pulling { publish_id } => f
                .debug_struct("Pulling")
                .field("publish_id", publish_id)
                .finish(),
            Checkpoint::Processing { publish_id } => f
                .debug_struct("Processing")
                .field("publish_id", publish_id)
                .finish(),
        }
    }
}

impl Checkpoint {
    /// The `uploading` checkpoint of `publish_id` with `sent_bytes` confirmed.
    pub(crate) fn uploading(
        publish_id: &str,
        upload_url: &url::Url,
        plan: &ChunkPlan,
        sent_bytes: u64,
    ) -> Self {
        Checkpoint::Uploading {
            publish_id: publish_id.to_string(),
            upload_url: upload_url.as_str().to_string(),
            video_size: plan.video_size,
            chunk_size: plan.chunk_size,
            total_chunk_count: plan.total_chunk_count,
            sent_bytes,
        }
    }

    /// The `processing` checkpoint of `publish_id`.
    pub(crate) fn processing(publish_id: &str) -> Self {
        Checkpoint::Processing {
            publish_id: publish_id.to_string(),
        }
    }

    /// The `pulling` checkpoint of `publish_id`.
    pub(crate) fn pulling(publish_id: &str) -> Self {
        Checkpoint::Pulling {
            publish_id: publish_id.to_string(),
        }
    }

    /// As JSON.
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads a checkpoint this publisher recorded; `None` for anything else.
    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        Checkpoint::deserialize(value).ok()
    }
}

/// Records `checkpoint` before a call that may publish: an error stops the publish
/// before that call.
pub(crate) async fn record(
    ctx: &PublishContext<'_>,
    checkpoint: &Checkpoint,
) -> Result<(), PublishError> {
    ctx.checkpoint(checkpoint.to_value()).await
}

/// Records `checkpoint` once TikTok has everything it needs to publish on its own. No
/// publishing call follows, so a failure to record it changes nothing TikTok does: it
/// is logged, and the publish goes on with its status checks (`resume` from the
/// previous checkpoint finds out the same).
pub(crate) async fn note(ctx: &PublishContext<'_>, checkpoint: &Checkpoint) {
    if let Err(error) = record(ctx, checkpoint).await {
        tracing::warn!(
            ?checkpoint,
            %error,
            "could not record a tiktok checkpoint after the post was accepted; going on"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stages_read_back_and_hide_the_upload_url() {
        let plan = ChunkPlan::new(12 * 1024 * 1024, 5 * 1024 * 1024);
        let url = url::Url::parse("https://upload.test/v?upload_token=s3cret").unwrap();
        let uploading = Checkpoint::uploading("v_pub_1", &url, &plan, 5 * 1024 * 1024);
        let value = uploading.to_value();
        assert_eq!(
            value,
            json!({"stage": "uploading", "publish_id": "v_pub_1",
                   "upload_url": "https://upload.test/v?upload_token=s3cret",
                   "video_size": 12_582_912, "chunk_size": 5_242_880,
                   "total_chunk_count": 2, "sent_bytes": 5_242_880})
        );
        assert_eq!(Checkpoint::from_value(&value), Some(uploading.clone()));
        assert!(!format!("{uploading:?}").contains("s3cret"));
        assert_eq!(
            Checkpoint::Initializing.to_value(),
            json!({"stage": "initializing"})
        );
        assert_eq!(
            Checkpoint::processing("p").to_value(),
            json!({"stage": "processing", "publish_id": "p"})
        );
        assert_eq!(
            Checkpoint::from_value(&json!({"stage": "pulling", "publish_id": "p"})),
            Some(Checkpoint::pulling("p"))
        );
        assert_eq!(Checkpoint::from_value(&json!({"container_id": "1"})), None);
        assert_eq!(Checkpoint::from_value(&json!({"stage": "uploading"})), None);
    }
}
