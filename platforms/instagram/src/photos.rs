//! Photos: one image container, or a carousel of 2–10 item containers; Instagram pulls
//! each JPEG from the media host.

use std::sync::Arc;

use fanout_core::{HostedMedia, MediaFile, MediaHost, PublishError};
use reqwest::Method;

use crate::client::{checked_id, Graph};
use crate::container::{self, IdAnswer, Polling};
use crate::errors::PLATFORM;
use crate::options::{Options, Surface};

/// Most items in a carousel.
pub(crate) const MAX_CAROUSEL_ITEMS: usize = 10;

/// Creates the container for `files` (one photo, a photo story, or a carousel whose
/// items are waited for first). Returns the container id and the hosted links, which
/// must stay alive until the container is published.
pub(crate) async fn create(
    graph: &Graph,
    media_host: &dyn MediaHost,
    polling: Polling,
    user_id: &str,
    caption: &str,
    options: &Options,
    files: &[Arc<MediaFile>],
) -> Result<(String, Vec<HostedMedia>), PublishError> {
    check_files(files)?;
    let mut hosted: Vec<HostedMedia> = Vec::with_capacity(files.len());
    let media_path = format!("{user_id}/media");
    let container = if let [file] = files {
        let link = media_host.host(Arc::clone(file)).await?;
        let mut params = vec![("image_url", link.url().to_string())];
        hosted.push(link);
        if options.surface() == Surface::Story {
            params.push(("media_type", "STORIES".to_string()));
        } else {
            if !caption.is_empty() {
                params.push(("caption", caption.to_string()));
            }
            options.photo_params(0, &mut params);
            options.feed_params(&mut params);
        }
        create_one(graph, &media_path, &params, "the photo container creation").await?
    } else {
        let mut children = Vec::with_capacity(files.len());
        for (index, file) in files.iter().enumerate() {
            let link = media_host.host(Arc::clone(file)).await?;
            let mut params = vec![
                ("image_url", link.url().to_string()),
                ("is_carousel_item", "true".to_string()),
            ];
            hosted.push(link);
            options.photo_params(index, &mut params);
            children
                .push(create_one(graph, &media_path, &params, "a carousel item creation").await?);
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
        options.feed_params(&mut params);
        create_one(
            graph,
            &media_path,
            &params,
            "the carousel container creation",
        )
        .await?
    };
    Ok((container, hosted))
}

async fn create_one(
    graph: &Graph,
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
