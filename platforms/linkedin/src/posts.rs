//! `POST /rest/posts`: the publishing call. Retried only when LinkedIn provably did
//! not take it (no connection, 429, 503); a lost answer is an unknown outcome.

use fanout_core::http::{transport_error, Idempotence};
use fanout_core::PublishError;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{Api, CallError};
use crate::errors::PLATFORM;
use crate::options::Options;

/// Visibilities LinkedIn accepts.
const VISIBILITIES: [&str; 3] = ["PUBLIC", "CONNECTIONS", "LOGGED_IN"];

/// The `visibility` form field (case-insensitive), `PUBLIC` when absent.
pub(crate) fn visibility(value: Option<&str>) -> Result<&'static str, PublishError> {
    let Some(value) = value else {
        return Ok("PUBLIC");
    };
    let upper = value.to_ascii_uppercase();
    VISIBILITIES
        .into_iter()
        .find(|v| *v == upper)
        .ok_or_else(|| {
            PublishError::rejected(format!(
                "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for {PLATFORM}; got \"{}\".",
                value.chars().take(40).collect::<String>()
            ))
        })
}

/// The post body.
pub(crate) fn body(author: &str, commentary: &str, options: &Options, content: Value) -> Value {
    json!({
        "author": author,
        "commentary": commentary,
        "visibility": options.visibility,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": content,
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": options.disable_reshare,
    })
}

/// Creates the post; answers its urn (`x-restli-id`).
pub(crate) async fn create(api: &Api<'_>, body: &Value) -> Result<String, PublishError> {
    api.retry
        .run(|| async {
            match api
                .call(Method::POST, "rest/posts", Some(body), "the post")
                .await
            {
                Ok(answer) => answer
                    .headers
                    .get("x-restli-id")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| v.starts_with("urn:li:"))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        PublishError::outcome_unknown(format!(
                            "{PLATFORM} accepted the post but did not say its id; check the \
                             {PLATFORM} account before uploading again."
                        ))
                    }),
                // Refused before anything was created: safe to repeat.
                Err(CallError::Answered { status, error }) if status == 429 || status == 503 => {
                    Err(error)
                }
                Err(CallError::Answered { status, .. }) if status >= 500 => {
                    Err(PublishError::outcome_unknown(format!(
                        "{PLATFORM} failed (HTTP {status}) while creating the post, so it may or \
                         may not have been published. Check the {PLATFORM} account before \
                         uploading again."
                    )))
                }
                Err(CallError::NoAnswer(err)) => {
                    Err(transport_error(PLATFORM, &err, Idempotence::Publishing))
                }
                Err(other) => Err(other.into_error(Idempotence::Publishing)),
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_defaults_to_public_and_is_checked() {
        assert_eq!(visibility(None).unwrap(), "PUBLIC");
        assert_eq!(visibility(Some("connections")).unwrap(), "CONNECTIONS");
        assert_eq!(visibility(Some("LOGGED_IN")).unwrap(), "LOGGED_IN");
        assert_eq!(
            visibility(Some("friends")).unwrap_err().message(),
            "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for LinkedIn; got \"friends\"."
        );
    }
}
