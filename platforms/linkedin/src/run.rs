//! One publish (or resume) under way, [`Run`], and its stages, each recorded before it
//! calls LinkedIn to create something and after LinkedIn answered an id: uploading,
//! waiting for the video, creating the post, commenting. Shared by `publish` (from the
//! start) and `resume` (from a checkpoint, see `resume.rs`).

use std::time::Duration;

use chrono::Utc;
use fanout_core::{ErrorKind, Post, PostMedia, PublishContext, PublishError, Receipt};
use fanout_kit::Polling;
use serde_json::json;

use crate::author;
use crate::checkpoint::{receipt, Checkpoint, PendingPost};
use crate::client::Api;
use crate::comment;
use crate::commentary::commentary;
use crate::errors::PLATFORM;
use crate::options::Options;
use crate::photos;
use crate::posts;
use crate::video::{self, Readiness};

/// Everything the form decides, checked before any network call: the options and the
/// commentary.
pub(crate) fn prepare(post: &Post) -> Result<(Options, String), PublishError> {
    let options = Options::parse(&post.fields)?;
    if let PostMedia::Photos(files) = &post.media {
        options.check_alt_text_count(files.len())?;
    }
    Ok((options, commentary(post)))
}

/// One publish (or resume) under way: the API session, where checkpoints go, and the
/// patience for a processing video.
pub(crate) struct Run<'r> {
    /// The API session.
    pub(crate) api: Api,
    pub(crate) ctx: &'r PublishContext<'r>,
    /// The wait for `AVAILABLE` within one call (`poll_budget_secs`).
    pub(crate) polling: Polling,
    /// How long after the upload a processing video is still waited for, through
    /// follow-ups (`background_budget_secs`).
    pub(crate) follow_up_budget: Duration,
}

impl Run<'_> {
    /// Records `checkpoint`; an error means the next publishing call must not be made.
    pub(crate) async fn save(&self, checkpoint: &Checkpoint) -> Result<(), PublishError> {
        self.ctx.checkpoint(checkpoint.to_value()?).await
    }

    /// Everything from the start: the author, the upload, the post, its comment.
    pub(crate) async fn start(
        &self,
        options: &Options,
        commentary: &str,
    ) -> Result<Receipt, PublishError> {
        let author = author::resolve(&self.api, self.ctx.connection, options.page.clone()).await?;
        match &self.ctx.post.media {
            PostMedia::Video(file) => {
                self.save(&Checkpoint::RegisteringVideo).await?;
                let registration = video::register(&self.api, file, &author).await?;
                self.save(&Checkpoint::VideoRegistered {
                    video: registration.video.clone(),
                    author: author.clone(),
                })
                .await?;
                video::send(&self.api, file, &registration).await?;
                self.video_uploaded(registration.video, author, options, commentary)
                    .await
            }
            PostMedia::Photos(files) => {
                let mut images = Vec::with_capacity(files.len());
                // Before the first registration; each later one is preceded by the
                // checkpoint naming the image registered before it.
                self.save(&Checkpoint::UploadingImages {
                    images: images.clone(),
                })
                .await?;
                for file in files {
                    let registration = photos::register(&self.api, &author).await?;
                    images.push(registration.image.clone());
                    self.save(&Checkpoint::UploadingImages {
                        images: images.clone(),
                    })
                    .await?;
                    photos::send(&self.api, file, &registration).await?;
                }
                let given: Vec<&str> = options.alt_texts.iter().map(String::as_str).collect();
                let alt_texts = photos::alt_texts(&given, images.len());
                let content = photos::content(&images, &alt_texts);
                let body = posts::body(&author, commentary, options, content);
                self.create(PendingPost {
                    body,
                    author,
                    first_comment: options.first_comment.clone(),
                })
                .await
            }
        }
    }

    /// A finalized video: records it with the post to create, then waits for it.
    pub(crate) async fn video_uploaded(
        &self,
        video: String,
        author: String,
        options: &Options,
        commentary: &str,
    ) -> Result<Receipt, PublishError> {
        let content = json!({ "media": { "title": self.ctx.post.title, "id": video } });
        let post = PendingPost {
            body: posts::body(&author, commentary, options, content),
            author,
            first_comment: options.first_comment.clone(),
        };
        let uploaded_at = Utc::now().timestamp();
        self.save(&Checkpoint::VideoUploaded {
            video: video.clone(),
            post: post.clone(),
            uploaded_at,
        })
        .await?;
        self.when_available(video, post, uploaded_at).await
    }

    /// Waits (within `poll_budget_secs`) for the video to be `AVAILABLE`, then creates
    /// the post. Still processing: `{"status": "PROCESSING", "video_id"}` with this
    /// stage as the follow-up, or, once `background_budget_secs` have passed since the
    /// upload, a [`ErrorKind::TimedOut`] error (nothing was posted).
    pub(crate) async fn when_available(
        &self,
        video: String,
        post: PendingPost,
        uploaded_at: i64,
    ) -> Result<Receipt, PublishError> {
        match video::wait_until_available(&self.api, &video, self.polling).await? {
            Readiness::Available => self.create(post).await,
            Readiness::StillProcessing => {
                let waited = Utc::now().timestamp().saturating_sub(uploaded_at).max(0);
                let budget = self.follow_up_budget.as_secs();
                if u64::try_from(waited).unwrap_or(0) >= budget {
                    tracing::warn!(
                        platform = "linkedin",
                        %video,
                        waited,
                        "video still processing after the follow-up budget; not posted"
                    );
                    return Err(gave_up(budget));
                }
                tracing::info!(
                    platform = "linkedin",
                    %video,
                    "video still processing; the post follows when it is available"
                );
                let follow_up = Checkpoint::VideoUploaded {
                    video: video.clone(),
                    post,
                    uploaded_at,
                }
                .to_value()?;
                Ok(Receipt::new()
                    .with("status", "PROCESSING")
                    .with("video_id", video)
                    .with_follow_up(follow_up))
            }
        }
    }

    /// Records the post as in flight, creates it, then its first comment.
    pub(crate) async fn create(&self, post: PendingPost) -> Result<Receipt, PublishError> {
        self.save(&Checkpoint::Posting { post: post.clone() })
            .await?;
        let post_id = posts::create(&self.api, &post.body).await?;
        tracing::info!(platform = "linkedin", %post_id, "published");
        Ok(self
            .finish(post_id, &post.author, post.first_comment.as_deref())
            .await)
    }

    /// The post exists: records it, then posts the first comment, recorded before and
    /// after. Never fails: a failed comment, or one whose progress could not be
    /// recorded (it is then not sent), is a warning.
    pub(crate) async fn finish(
        &self,
        post_id: String,
        author: &str,
        first_comment: Option<&str>,
    ) -> Receipt {
        let posted = self
            .save(&Checkpoint::Posted {
                post_id: post_id.clone(),
                author: author.to_string(),
                first_comment: first_comment.map(str::to_string),
            })
            .await;
        let Some(text) = first_comment else {
            if let Err(err) = posted {
                tracing::warn!(platform = "linkedin", %post_id, error = %err, "checkpoint failed");
            }
            return receipt(post_id, Vec::new());
        };
        let recorded = match posted {
            Ok(()) => {
                self.save(&Checkpoint::Commenting {
                    post_id: post_id.clone(),
                })
                .await
            }
            Err(err) => Err(err),
        };
        if let Err(err) = recorded {
            tracing::warn!(
                platform = "linkedin",
                %post_id,
                error = %err,
                "checkpoint failed; the first comment is not sent"
            );
            return receipt(post_id, vec![comment::not_sent_warning()]);
        }
        let mut warnings = Vec::new();
        match comment::post(&self.api, &post_id, author, text).await {
            Ok(comment_id) => {
                tracing::info!(platform = "linkedin", %post_id, ?comment_id, "first comment posted")
            }
            Err(err) => {
                tracing::warn!(platform = "linkedin", %post_id, error = %err, "first comment failed");
                warnings.push(comment::failed(&err));
            }
        }
        self.done(post_id, warnings).await
    }

    /// Records the end of a publish whose first comment was tried; answers its receipt.
    pub(crate) async fn done(&self, post_id: String, warnings: Vec<String>) -> Receipt {
        let done = Checkpoint::Done {
            post_id: post_id.clone(),
            warnings: warnings.clone(),
        };
        if let Err(err) = self.save(&done).await {
            tracing::warn!(platform = "linkedin", %post_id, error = %err, "checkpoint failed");
        }
        receipt(post_id, warnings)
    }
}

/// The error of a video still processing `budget_secs` after its upload.
fn gave_up(budget_secs: u64) -> PublishError {
    PublishError::new(
        ErrorKind::TimedOut,
        format!(
            "{PLATFORM} was still processing the video {} after the upload, so fanout stopped \
             waiting and nothing was posted. Upload the video again.",
            human_secs(budget_secs)
        ),
    )
}

/// `0 seconds`, `1 second`, `90 seconds`, `5 minutes`, `1 hour`, `2 hours`.
fn human_secs(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_read_in_whole_units() {
        assert_eq!(human_secs(0), "0 seconds");
        assert_eq!(human_secs(1), "1 second");
        assert_eq!(human_secs(90), "90 seconds");
        assert_eq!(human_secs(300), "5 minutes");
        assert_eq!(human_secs(3600), "1 hour");
        assert_eq!(human_secs(7200), "2 hours");
    }

    #[test]
    fn giving_up_says_nothing_was_posted() {
        let err = gave_up(3600);
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(
            err.message(),
            "LinkedIn was still processing the video 1 hour after the upload, so fanout \
             stopped waiting and nothing was posted. Upload the video again."
        );
    }
}
