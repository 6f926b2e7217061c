//! Finishing a post in a detached task when the video is still processing after the
//! polling budget: keep polling (up to `background_budget_secs`), then create the post
//! and its first comment, and log the outcome (never a token or URL).

use std::time::Duration;

use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::RetryPolicy;
use serde_json::Value;
use url::Url;

use crate::client::Api;
use crate::publisher::create_and_comment;
use crate::video::{self, Polling, Readiness};

/// Everything the detached task needs, owned.
pub(crate) struct Finish {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) token: SecretString,
    pub(crate) version: String,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) polling: Polling,
    /// The video urn.
    pub(crate) video: String,
    /// The post body, ready to send.
    pub(crate) body: Value,
    /// The post's author (the comment's actor).
    pub(crate) author: String,
    /// The first comment, if any.
    pub(crate) first_comment: Option<String>,
}

impl Finish {
    /// Runs the rest of the publish in a detached task.
    pub(crate) fn spawn(self) {
        tokio::spawn(self.run());
    }

    async fn run(self) {
        let api = Api {
            http: &self.http,
            base: self.base.clone(),
            token: self.token.expose_secret(),
            version: &self.version,
            timeout: self.timeout,
            retry: self.retry.clone(),
        };
        let video = self.video.as_str();
        match video::wait_until_available(&api, video, self.polling).await {
            Ok(Readiness::Available) => {}
            Ok(Readiness::StillProcessing) => {
                tracing::warn!(
                    platform = "linkedin",
                    video,
                    budget_secs = self.polling.budget.as_secs(),
                    "video still processing after the background budget; not posted"
                );
                return;
            }
            Err(err) => {
                tracing::warn!(platform = "linkedin", video, error = %err, "video not posted");
                return;
            }
        }
        match create_and_comment(
            &api,
            &self.body,
            &self.author,
            self.first_comment.as_deref(),
        )
        .await
        {
            Ok((post_id, warnings)) => tracing::info!(
                platform = "linkedin",
                video,
                %post_id,
                ?warnings,
                "published after processing"
            ),
            Err(err) => {
                tracing::warn!(platform = "linkedin", video, error = %err, "post after processing failed")
            }
        }
    }
}
