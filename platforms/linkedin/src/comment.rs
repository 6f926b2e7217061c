//! The first comment: `POST /rest/socialActions/<encoded post urn>/comments`, after
//! the post exists. Its text is escaped "little text", like the commentary (LinkedIn
//! cuts a comment at an unescaped reserved character). A failure never fails the
//! post; it becomes a warning.

use fanout_core::PublishError;
use fanout_kit::{CallError, Idempotence};
use reqwest::Method;
use serde_json::json;

use crate::client::{encode_urn, Api};
use crate::commentary::escape_little_text;
use crate::errors::PLATFORM;

/// Comments `text` on `post_urn` as `actor`; answers the comment's urn when LinkedIn
/// says it. Repeated only when LinkedIn provably did not take it (429, 503).
pub(crate) async fn post(
    api: &Api,
    post_urn: &str,
    actor: &str,
    text: &str,
) -> Result<Option<String>, PublishError> {
    let path = format!("rest/socialActions/{}/comments", encode_urn(post_urn));
    let body = json!({
        "actor": actor,
        "object": post_urn,
        "message": { "text": escape_little_text(text) },
    });
    api.session
        .retry()
        .run(|| async {
            match api
                .call(Method::POST, &path, Some(&body), "the first comment")
                .await
            {
                Ok(answer) => Ok(answer
                    .headers
                    .get("x-restli-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)),
                Err(CallError::Refused { status, error }) if status == 429 || status == 503 => {
                    Err(error)
                }
                Err(CallError::Refused { error, .. }) => {
                    Err(PublishError::rejected(error.message().to_string()))
                }
                Err(other) => Err(other.into_error(Idempotence::Publishing)),
            }
        })
        .await
}

/// The warning a person reads when the first comment failed.
pub(crate) fn failed(error: &PublishError) -> String {
    format!(
        "The post was published, but {PLATFORM} did not take the first comment: {} Add the \
         comment on {PLATFORM} by hand if it matters.",
        error.message()
    )
}

/// The warning a person reads when the first comment was not sent because fanout
/// could not record its progress.
pub(crate) fn not_sent_warning() -> String {
    format!(
        "The post was published, but the first comment was not sent because fanout could \
         not record its progress. Add the comment on {PLATFORM} by hand if it matters."
    )
}

/// The warning a person reads when fanout stopped while the first comment was sent.
pub(crate) fn unknown_warning() -> String {
    format!(
        "The post was published, but fanout stopped while sending the first comment, so \
         {PLATFORM} may or may not have it. Check the post and add the comment by hand if \
         it is missing."
    )
}
