//! Images: `initializeUpload` per image ([`register`]), then a `PUT` of its bytes
//! streamed from disk ([`send`]).

use std::sync::Arc;

use fanout_core::{MediaFile, PublishError};
use fanout_kit::Idempotence;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::{Api, Read};

#[derive(Debug, Deserialize)]
struct InitAnswer {
    value: InitValue,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitValue {
    upload_url: String,
    image: String,
}

/// An image LinkedIn registered (`initializeUpload`): its urn and where its bytes go.
#[derive(Debug)]
pub(crate) struct Registration {
    /// The image urn (`urn:li:image:…`).
    pub(crate) image: String,
    upload_url: String,
}

/// Registers one image owned by `owner` (`initializeUpload`); its bytes are sent by
/// [`send`].
pub(crate) async fn register(api: &Api, owner: &str) -> Result<Registration, PublishError> {
    let init = json!({ "initializeUploadRequest": { "owner": owner } });
    let init: InitAnswer = api
        .safe(
            Method::POST,
            "rest/images?action=initializeUpload",
            Some(&init),
            "the image registration",
        )
        .await?
        .read("the image registration")?;
    Ok(Registration {
        image: init.value.image,
        upload_url: init.value.upload_url,
    })
}

/// `PUT`s the bytes of a registered image, streamed from disk (idempotent, so
/// transient failures are retried).
pub(crate) async fn send(
    api: &Api,
    file: &Arc<MediaFile>,
    registration: &Registration,
) -> Result<(), PublishError> {
    let url = api.upload_url(&registration.upload_url)?;
    let len = file.len();
    api.session
        .retry()
        .run(|| async {
            let request = api
                .request(Method::PUT, url.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, len)
                .timeout(api.session.upload_timeout(len))
                .body(reqwest::Body::wrap_stream(file.stream()));
            api.send(request, "an image")
                .await
                .map(|_| ())
                .map_err(|e| e.into_error(Idempotence::Safe))
        })
        .await
}

/// The alternative texts from the form: the i-th value goes to the i-th image; a
/// single value goes to every image.
pub(crate) fn alt_texts(values: &[&str], count: usize) -> Vec<Option<String>> {
    (0..count)
        .map(|i| {
            let value = if values.len() == 1 {
                values.first()
            } else {
                values.get(i)
            };
            value
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        })
        .collect()
}

/// `{"id", "altText"}` for one image (`altText` only when given).
pub(crate) fn image_entry(urn: &str, alt_text: Option<&str>) -> Value {
    let mut entry = json!({ "id": urn });
    if let Some(alt) = alt_text {
        entry["altText"] = json!(alt);
    }
    entry
}

/// The post's `content` for these images: `media` for one, `multiImage` for 2–20.
pub(crate) fn content(urns: &[String], alt_texts: &[Option<String>]) -> Value {
    let entries: Vec<Value> = urns
        .iter()
        .enumerate()
        .map(|(i, urn)| image_entry(urn, alt_texts.get(i).and_then(|a| a.as_deref())))
        .collect();
    match entries.as_slice() {
        [one] => json!({ "media": one }),
        _ => json!({ "multiImage": { "images": entries } }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_image_is_media_several_are_multi_image() {
        let one = content(&["urn:li:image:1".into()], &[Some("a cat".into())]);
        assert_eq!(
            one,
            json!({"media": {"id": "urn:li:image:1", "altText": "a cat"}})
        );
        let two = content(
            &["urn:li:image:1".into(), "urn:li:image:2".into()],
            &[None, None],
        );
        assert_eq!(
            two,
            json!({"multiImage": {"images": [{"id": "urn:li:image:1"}, {"id": "urn:li:image:2"}]}})
        );
    }

    #[test]
    fn alt_texts_by_position_or_shared() {
        assert_eq!(
            alt_texts(&["x"], 3),
            vec![Some("x".into()), Some("x".into()), Some("x".into())]
        );
        assert_eq!(
            alt_texts(&["a", " ", "c"], 3),
            vec![Some("a".into()), None, Some("c".into())]
        );
        assert_eq!(alt_texts(&[], 2), vec![None, None]);
        assert_eq!(
            alt_texts(&["a", "b"], 3),
            vec![Some("a".into()), Some("b".into()), None]
        );
    }
}
