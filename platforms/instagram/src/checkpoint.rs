//! What a publish records of its progress ([`Checkpoint`]), and the [`Journal`] that
//! records it through [`fanout_core::PublishContext::checkpoint`].
//!
//! A checkpoint is plain JSON: `{"version": 1, "stage": "<stage>", "user_id", <the
//! stage's ids>, "first_comment"?, "warnings"?, "waiting_since"?}`. It holds ids,
//! the caption and options of a carousel, never a token or a hosted media URL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use fanout_core::{Progress, PublishError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::checked_id;
use crate::errors::PLATFORM;

/// The format of the checkpoints this crate writes.
pub(crate) const VERSION: u32 = 1;

/// How far one publish got, as recorded before each creating call and after each call
/// that returned an id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    /// [`VERSION`].
    pub(crate) version: u32,
    /// Where the publish stands, with the ids known so far.
    #[serde(flatten)]
    pub(crate) stage: Stage,
    /// The IG user id owning the containers.
    pub(crate) user_id: String,
    /// The comment to post once the post is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_comment: Option<String>,
    /// Warnings known so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    /// When the first `PROCESSING` answer was given (follow-ups only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) waiting_since: Option<DateTime<Utc>>,
}

/// The stages of a publish, in order; each names the ids known at that point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub(crate) enum Stage {
    /// A video or photo container, or the carousel item after `children_ids`, is being
    /// created; its id is not known yet.
    Creating {
        /// The carousel items created so far, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        children_ids: Vec<String>,
    },
    /// The video container exists; its bytes are being uploaded to `upload_url`.
    Uploading {
        /// The video container.
        container_id: String,
        /// Where the resumable upload goes (no token in it).
        upload_url: String,
    },
    /// The container's media is in; Instagram processes it.
    Processing {
        /// The container to wait for and publish.
        container_id: String,
    },
    /// Every carousel item exists; Instagram processes them.
    ProcessingItems {
        /// The item containers, in order.
        children_ids: Vec<String>,
        /// The carousel container's parameters (caption, collaborators, location).
        carousel: Vec<(String, String)>,
    },
    /// The carousel container is being created from finished `children_ids`.
    CreatingCarousel {
        /// The item containers, in order.
        children_ids: Vec<String>,
        /// The carousel container's parameters.
        carousel: Vec<(String, String)>,
    },
    /// `media_publish` is being sent for `container_id`.
    Publishing {
        /// The finished container.
        container_id: String,
    },
    /// The post is live.
    Published {
        /// The published container.
        container_id: String,
        /// The media id, unless the publish answer was lost.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_id: Option<String>,
    },
    /// The first comment is being posted on `media_id`.
    Commenting {
        /// The published container.
        container_id: String,
        /// The live post.
        media_id: String,
    },
    /// The first comment was answered: posted (`comment_id`) or refused (a warning).
    Commented {
        /// The published container.
        container_id: String,
        /// The live post.
        media_id: String,
        /// The comment, when Instagram took it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment_id: Option<String>,
    },
}

impl Stage {
    /// The stage name as recorded (`"publishing"`), for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Stage::Creating { .. } => "creating",
            Stage::Uploading { .. } => "uploading",
            Stage::Processing { .. } => "processing",
            Stage::ProcessingItems { .. } => "processing_items",
            Stage::CreatingCarousel { .. } => "creating_carousel",
            Stage::Publishing { .. } => "publishing",
            Stage::Published { .. } => "published",
            Stage::Commenting { .. } => "commenting",
            Stage::Commented { .. } => "commented",
        }
    }

    /// The stage of waiting for `target`.
    pub(crate) fn waiting_for(target: &Target) -> Self {
        match target {
            Target::Container(id) => Stage::Processing {
                container_id: id.clone(),
            },
            Target::Carousel { children, params } => Stage::ProcessingItems {
                children_ids: children.clone(),
                carousel: params.clone(),
            },
        }
    }

    /// Every id of the stage, to be checked before any goes into a path.
    fn ids(&self) -> Vec<&str> {
        match self {
            Stage::Creating { children_ids }
            | Stage::ProcessingItems { children_ids, .. }
            | Stage::CreatingCarousel { children_ids, .. } => {
                children_ids.iter().map(String::as_str).collect()
            }
            Stage::Uploading { container_id, .. }
            | Stage::Processing { container_id }
            | Stage::Publishing { container_id } => vec![container_id],
            Stage::Published {
                container_id,
                media_id,
            } => std::iter::once(container_id.as_str())
                .chain(media_id.as_deref())
                .collect(),
            Stage::Commenting {
                container_id,
                media_id,
            } => vec![container_id, media_id],
            Stage::Commented {
                container_id,
                media_id,
                comment_id,
            } => [container_id.as_str(), media_id.as_str()]
                .into_iter()
                .chain(comment_id.as_deref())
                .collect(),
        }
    }
}

impl Checkpoint {
    /// Reads a checkpoint this crate wrote. Anything else (another format, an id that
    /// is not an id) cannot say what Instagram did: the outcome is unknown.
    pub(crate) fn parse(value: &Value) -> Result<Self, PublishError> {
        let checkpoint: Checkpoint = serde_json::from_value(value.clone()).map_err(|_| {
            tracing::warn!("instagram cannot read the checkpoint it was asked to resume");
            fanout_core::unknown_outcome(PLATFORM)
        })?;
        let ids_ok = std::iter::once(checkpoint.user_id.as_str())
            .chain(checkpoint.stage.ids())
            .all(|id| checked_id(id, "id").is_ok());
        if checkpoint.version != VERSION || !ids_ok {
            tracing::warn!(
                version = checkpoint.version,
                "instagram cannot resume from this checkpoint"
            );
            return Err(fanout_core::unknown_outcome(PLATFORM));
        }
        Ok(checkpoint)
    }
}

/// Records checkpoints of one publish (or resume): the stage plus what every stage
/// carries (user id, first comment, warnings).
pub(crate) struct Journal<'a> {
    progress: &'a dyn Progress,
    /// The IG user id.
    pub(crate) user_id: String,
    /// The comment to post once live.
    pub(crate) first_comment: Option<String>,
    /// Warnings so far; the receipt shows them.
    pub(crate) warnings: Vec<String>,
    /// When the first `PROCESSING` answer was given, on a follow-up.
    pub(crate) waiting_since: Option<DateTime<Utc>>,
}

impl<'a> Journal<'a> {
    /// A journal of a new publish.
    pub(crate) fn new(
        progress: &'a dyn Progress,
        user_id: String,
        first_comment: Option<String>,
        warnings: Vec<String>,
    ) -> Self {
        Self {
            progress,
            user_id,
            first_comment,
            warnings,
            waiting_since: None,
        }
    }

    /// The journal continuing `checkpoint`; returns it with the checkpoint's stage.
    pub(crate) fn resuming(progress: &'a dyn Progress, checkpoint: Checkpoint) -> (Self, Stage) {
        let journal = Self {
            progress,
            user_id: checkpoint.user_id,
            first_comment: checkpoint.first_comment,
            warnings: checkpoint.warnings,
            waiting_since: checkpoint.waiting_since,
        };
        (journal, checkpoint.stage)
    }

    /// The checkpoint of `stage` as JSON.
    pub(crate) fn value(&self, stage: Stage) -> Result<Value, PublishError> {
        let checkpoint = Checkpoint {
            version: VERSION,
            stage,
            user_id: self.user_id.clone(),
            first_comment: self.first_comment.clone(),
            warnings: self.warnings.clone(),
            waiting_since: self.waiting_since,
        };
        serde_json::to_value(checkpoint).map_err(|_| PublishError::internal(PLATFORM))
    }

    /// Durably records `stage`; an error means the publish must stop before its next
    /// creating call.
    pub(crate) async fn record(&self, stage: Stage) -> Result<(), PublishError> {
        let name = stage.name();
        let value = self.value(stage)?;
        self.progress.checkpoint(value).await.inspect_err(|error| {
            tracing::warn!(stage = name, kind = ?error.kind(), "instagram checkpoint not recorded");
        })
    }
}

/// `42 seconds`, `5 minutes`, `2 hours`.
pub(crate) fn human(wait: Duration) -> String {
    let secs = wait.as_secs();
    let (n, unit) = match secs {
        0..=119 => (secs, "second"),
        120..=7199 => (secs / 60, "minute"),
        _ => (secs / 3600, "hour"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// What to wait for and publish.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A container whose media is in.
    Container(String),
    /// Carousel items; once all are finished, the carousel container is created from
    /// `params` plus `children`.
    Carousel {
        /// The item container ids, in order.
        children: Vec<String>,
        /// The carousel container's parameters (without `children`).
        params: Vec<(String, String)>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stages_read_back_as_written() {
        let checkpoint = Checkpoint {
            version: VERSION,
            stage: Stage::ProcessingItems {
                children_ids: vec!["1790".into(), "1791".into()],
                carousel: vec![("caption".into(), "hi".into())],
            },
            user_id: "17841".into(),
            first_comment: Some("first".into()),
            warnings: vec![],
            waiting_since: None,
        };
        let value = serde_json::to_value(&checkpoint).unwrap();
        assert_eq!(
            value,
            json!({"version": 1, "stage": "processing_items", "user_id": "17841",
                   "children_ids": ["1790", "1791"], "carousel": [["caption", "hi"]],
                   "first_comment": "first"})
        );
        assert_eq!(Checkpoint::parse(&value).unwrap(), checkpoint);
    }

    #[test]
    fn foreign_or_tampered_checkpoints_are_unknown_outcomes() {
        for value in [
            json!({"publish_id": "x"}),
            json!({"version": 2, "stage": "processing", "user_id": "1", "container_id": "2"}),
            json!({"version": 1, "stage": "processing", "user_id": "1", "container_id": "../me"}),
            json!({"version": 1, "stage": "shipping", "user_id": "1"}),
        ] {
            let err = Checkpoint::parse(&value).unwrap_err();
            assert_eq!(err, fanout_core::unknown_outcome("Instagram"), "{value}");
        }
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(1)), "1 second");
        assert_eq!(human(Duration::from_secs(90)), "90 seconds");
        assert_eq!(human(Duration::from_secs(3600)), "60 minutes");
        assert_eq!(human(Duration::from_secs(7200)), "2 hours");
    }
}
