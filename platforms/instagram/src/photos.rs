//! Photos: one image container, or a carousel of 2–10 item containers; Instagram pulls
//! each JPEG from the media host.

use std::sync::Arc;

use fanout_core::{FormFields, HostedMedia, MediaFile, MediaHost, PublishError, Receipt};
use reqwest::Method;

use crate::client::{checked_id, Graph};
use crate::container::{self, IdAnswer, Polling};
use crate::errors::PLATFORM;

/// Most items in a carousel.
pub(crate) const MAX_CAROUSEL_ITEMS: usize = 10;

/// Publishes `files` as one photo or a carousel. The hosted links stay alive until the
/// publish call has finished.
pub(crate) async fn publish_photos(
    graph: &Graph<'_>,
    media_host: &dyn MediaHost,
    polling: Polling,
    user_id: &str,
    caption: &str,
    fields: &FormFields,
    files: &[Arc<MediaFile>],
) -> Result<Receipt, PublishError> {
    check_files(files)?;
    let mut hosted: Vec<HostedMedia> = Vec::with_capacity(files.len());
    let media_path = format!("{user_id}/media");
    let container = if let [file] = files {
        let link = media_host.host(Arc::clone(file)).await?;
        let mut params = vec![("image_url", link.url().to_string())];
        hosted.push(link);
        if !caption.is_empty() {
            params.push(("caption", caption.to_string()));
        }
        if let Some(alt) = fields.get_trimmed("instagram_alt_text") {
            params.push(("alt_text", alt.to_string()));
        }
        create(graph, &media_path, &params, "the photo container creation").await?
    } else {
        let mut children = Vec::with_capacity(files.len());
        for file in files {
            let link = media_host.host(Arc::clone(file)).await?;
            let params = [
                ("image_url", link.url().to_string()),
                ("is_carousel_item", "true".to_string()),
            ];
            hosted.push(link);
            children.push(create(graph, &media_path, &params, "a carousel item creation").await?);
        }
        for child in &children {
            container::wait_until_finished(graph, child, polling).await?;
        }
        let mut params = vec![
            ("media_type", "CAROUSEL".to_string()),
            ("children", children.join(",")),
        ];
        if !caption.is_empty() {
            params.push(("caption", caption.to_string()));
        }
        create(
            graph,
            &media_path,
            &params,
            "the carousel container creation",
        )
        .await?
    };
    container::wait_until_finished(graph, &container, polling).await?;
    let receipt = container::publish(graph, user_id, &container).await;
    drop(hosted);
    receipt
}

async fn create(
    graph: &Graph<'_>,
    path: &str,
    params: &[(&str, String)],
    what: &str,
) -> Result<String, PublishError> {
    let answer: IdAnswer = graph.safe(Method::POST, path, params, what).await?;
    Ok(checked_id(&answer.id, "container id")?.to_string())
}

/// JPEG only, 1–10 of them: refused before any network call otherwise.
fn check_files(files: &[Arc<MediaFile>]) -> Result<(), PublishError> {
    if files.is_empty() || files.len() > MAX_CAROUSEL_ITEMS {
        return Err(PublishError::media_rejected(format!(
            "{PLATFORM} takes 1 to {MAX_CAROUSEL_ITEMS} photos in one post; {} were sent.",
            files.len()
        )));
    }
    if let Some((i, file)) = files
        .iter()
        .enumerate()
        .find(|(_, f)| f.content_type() != "image/jpeg")
    {
        return Err(PublishError::media_rejected(format!(
            "{PLATFORM} accepts only JPEG photos; photo {} is {}. Convert it to JPEG and upload \
             again.",
            i + 1,
            file.content_type()
        )));
    }
    Ok(())
}
