//! The first comment: `POST /<media id>/comments` with `message`, once the post is live.

use fanout_core::PublishError;
use fanout_kit::{CallError, Idempotence};
use reqwest::Method;

use crate::client::{checked_id, Api};
use crate::container::IdAnswer;
use crate::errors::PLATFORM;

/// Posts `message` as a comment on `media_id` and returns the comment id.
///
/// A refused call (429, rate-limit codes) or one that never connected is retried; a 5xx
/// or a lost answer is not, as the comment may exist: a comment posted twice is worse
/// than a warning.
pub(crate) async fn post(api: &Api, media_id: &str, message: &str) -> Result<String, PublishError> {
    let path = format!("{}/comments", checked_id(media_id, "media id")?);
    let params = [("message", message.to_string())];
    api.session
        .retry()
        .run(|| async {
            match api
                .call::<IdAnswer>(Method::POST, &path, &params, "the first comment")
                .await
            {
                Ok(answer) => Ok(answer.id),
                Err(CallError::Refused { status, error }) if status < 500 => Err(error),
                Err(CallError::NotReceived(error)) => Err(error),
                Err(CallError::Refused { status, .. }) => Err(PublishError::outcome_unknown(
                    format!("{PLATFORM} failed while posting it (HTTP {status})"),
                )),
                Err(lost) => Err(lost.into_error(Idempotence::Publishing)),
            }
        })
        .await
}

/// The warning for a first comment that could not be posted.
pub(crate) fn failed(error: &PublishError) -> String {
    let why = error.message().trim_end_matches('.');
    format!(
        "The post is live, but {PLATFORM} did not take the first comment ({why}); add it on \
         {PLATFORM} by hand."
    )
}
