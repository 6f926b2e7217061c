//! `POST /rest/posts`: the publishing call. Retried only when LinkedIn provably did
//! not take it (no connection, 429, 503); a lost answer is an unknown outcome. And the
//! Posts API's author finder, which tells whether a post whose answer was lost exists.

use fanout_core::PublishError;
use fanout_kit::{CallError, Idempotence};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{encode_urn, Api, Read};
use crate::errors::PLATFORM;
use crate::options::Options;

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
pub(crate) async fn create(api: &Api, body: &Value) -> Result<String, PublishError> {
    api.session
        .retry()
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
                Err(CallError::Refused { status, error }) if status == 429 || status == 503 => {
                    Err(error)
                }
                Err(CallError::Refused { status, .. }) if status >= 500 => {
                    Err(PublishError::outcome_unknown(format!(
                        "{PLATFORM} failed (HTTP {status}) while creating the post, so it may or \
                         may not have been published. Check the {PLATFORM} account before \
                         uploading again."
                    )))
                }
                Err(other) => Err(other.into_error(Idempotence::Publishing)),
            }
        })
        .await
}

/// How many of the author's newest posts [`find`] looks through.
const FIND_COUNT: usize = 20;

/// A page of the author finder.
#[derive(Debug, Deserialize)]
struct Found {
    #[serde(default)]
    elements: Vec<FoundPost>,
}

/// One post of the author finder.
#[derive(Debug, Deserialize)]
struct FoundPost {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    content: Value,
}

/// The media urns a post's `content` carries (`media.id`, `multiImage.images[].id`).
pub(crate) fn media_of(content: &Value) -> Vec<String> {
    let single = content["media"]["id"].as_str().into_iter();
    let multi = content["multiImage"]["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|image| image["id"].as_str());
    single.chain(multi).map(str::to_string).collect()
}

/// Looks among `author`'s newest posts for the one carrying any of `media` with the
/// Posts API's author finder (`GET /rest/posts?q=author&author=<urn>&sortBy=CREATED`);
/// the media urns were registered by this publish, so no other post carries them.
///
/// `Ok(None)` proves nothing (the finder may lag, or list other posts first); an error
/// is common for members, whose posts only apps granted the partner scope
/// `r_member_social` may read (pages need `r_organization_social`).
pub(crate) async fn find(
    api: &Api,
    author: &str,
    media: &[String],
) -> Result<Option<String>, PublishError> {
    let url = api.url(&format!(
        "rest/posts?q=author&author={}&count={FIND_COUNT}&sortBy=CREATED",
        encode_urn(author)
    ))?;
    let answer = api
        .session
        .safe(|| {
            let request = api
                .request(Method::GET, url.clone())
                .header("X-RestLi-Method", "FINDER");
            api.send(request, "the post lookup")
        })
        .await?;
    let found: Found = answer.read("the post lookup")?;
    Ok(found
        .elements
        .into_iter()
        .find(|post| media_of(&post.content).iter().any(|m| media.contains(m)))
        .and_then(|post| post.id)
        .filter(|id| id.starts_with("urn:li:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_urns_of_single_and_multi_image_content() {
        assert_eq!(
            media_of(&json!({"media": {"title": "t", "id": "urn:li:video:1"}})),
            ["urn:li:video:1"]
        );
        assert_eq!(
            media_of(&json!({"multiImage": {"images": [
                {"id": "urn:li:image:1"}, {"id": "urn:li:image:2", "altText": "x"}
            ]}})),
            ["urn:li:image:1", "urn:li:image:2"]
        );
        assert!(media_of(&json!({"article": {"source": "https://example.com"}})).is_empty());
    }
}
