//! What a publish records as it goes ([`fanout_core::PublishContext::checkpoint`]), so
//! that `resume` can find out how far it got. Stored as JSON tagged by `"stage"`; see
//! the [crate docs](crate) for what each stage means to `resume`.

use fanout_core::{PublishError, Receipt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::PLATFORM;

/// How far one publish got, with the ids LinkedIn answered so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub(crate) enum Checkpoint {
    /// About to register the video (`initializeUpload`); nothing of the post exists.
    RegisteringVideo,
    /// The video is registered; its parts may or may not be sent and finalized.
    VideoRegistered {
        /// The video urn.
        video: String,
        /// The post's author (the video's owner).
        author: String,
    },
    /// Registering and uploading images: before the first registration (none yet),
    /// then after each (the last one may not hold its bytes yet).
    UploadingImages {
        /// The image urns registered so far, in order.
        images: Vec<String>,
    },
    /// The video is uploaded and finalized, and LinkedIn may still be processing it;
    /// the post was not sent. The follow-up of a `PROCESSING` receipt.
    VideoUploaded {
        /// The video urn.
        video: String,
        /// The post to create once the video is `AVAILABLE`.
        post: PendingPost,
        /// When the upload was finalized (Unix seconds), for `background_budget_secs`.
        uploaded_at: i64,
    },
    /// `POST /rest/posts` is about to be sent, or was sent and its answer not recorded.
    Posting {
        /// The post being created.
        post: PendingPost,
    },
    /// The post exists; its first comment (if any) was not sent.
    Posted {
        /// The post urn.
        post_id: String,
        /// The post's author (the comment's actor).
        author: String,
        /// The first comment still to post.
        first_comment: Option<String>,
    },
    /// The first comment is about to be sent, or was sent and its answer not recorded.
    Commenting {
        /// The post urn.
        post_id: String,
    },
    /// Finished, after a first comment was tried.
    Done {
        /// The post urn.
        post_id: String,
        /// The receipt's warnings.
        warnings: Vec<String>,
    },
}

/// A post ready to send, with what follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingPost {
    /// The `POST /rest/posts` body.
    pub(crate) body: Value,
    /// The post's author (the comment's actor).
    pub(crate) author: String,
    /// The first comment, if any.
    pub(crate) first_comment: Option<String>,
}

impl Checkpoint {
    /// The checkpoint as stored.
    pub(crate) fn to_value(&self) -> Result<Value, PublishError> {
        serde_json::to_value(self).map_err(|_| PublishError::internal(PLATFORM))
    }

    /// Reads a stored checkpoint; one this publisher did not write cannot tell what
    /// happened, so it reads as an unknown outcome.
    pub(crate) fn from_value(value: &Value) -> Result<Self, PublishError> {
        Self::deserialize(value).map_err(|err| {
            tracing::warn!(platform = "linkedin", error = %err, "unreadable checkpoint");
            fanout_core::unknown_outcome(PLATFORM)
        })
    }
}

/// `{"post_id"}`, plus `"warnings"` when there are any.
pub(crate) fn receipt(post_id: String, warnings: Vec<String>) -> Receipt {
    let receipt = Receipt::new().with("post_id", post_id);
    if warnings.is_empty() {
        receipt
    } else {
        receipt.with("warnings", warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stages_are_tagged_snake_case() {
        let value = Checkpoint::VideoRegistered {
            video: "urn:li:video:1".into(),
            author: "urn:li:person:p1".into(),
        }
        .to_value()
        .unwrap();
        assert_eq!(
            value,
            json!({"stage": "video_registered", "video": "urn:li:video:1", "author": "urn:li:person:p1"})
        );
        assert_eq!(
            Checkpoint::RegisteringVideo.to_value().unwrap(),
            json!({"stage": "registering_video"})
        );
        let posting = Checkpoint::Posting {
            post: PendingPost {
                body: json!({"author": "urn:li:person:p1"}),
                author: "urn:li:person:p1".into(),
                first_comment: None,
            },
        };
        assert_eq!(
            Checkpoint::from_value(&posting.to_value().unwrap()).unwrap(),
            posting
        );
    }

    #[test]
    fn a_foreign_checkpoint_is_an_unknown_outcome() {
        let err = Checkpoint::from_value(&json!({"container_id": "17890"})).unwrap_err();
        assert_eq!(err, fanout_core::unknown_outcome("LinkedIn"));
    }
}
