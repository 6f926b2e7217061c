//! Photos: one image container, or a carousel of 2–10 item containers; Instagram pulls
//! each JPEG from the media host.

use std::sync::Arc;

use fanout_core::{HostedMedia, MediaFile, MediaHost, PublishError};
use reqwest::Method;

use crate::checkpoint::{Journal, Stage, Target};
use crate::client::{checked_id, Api};
use crate::container::IdAnswer;
use crate::errors::PLATFORM;
use crate::options::{Options, Surface};

/// Most items in a carousel.
pub(crate) const MAX_CAROUSEL_ITEMS: usize = 10;

/// Creates the container for `files` (one photo or a photo story), or the carousel
/// items, whose carousel container is created once they are finished
/// ([`Target::Carousel`]). Returns it with the hosted links, which must stay alive until
/// the post is published.
///
/// `made` are carousel items a stopped publish already created (see
/// [`Stage::Creating`]): only the items after them are created. A checkpoint is recorded
/// before each creation and once every id is in.
pub(crate) async fn create(
    api: &Api,
    media_host: &dyn MediaHost,
    journal: &Journal<'_>,
    caption: &str,
    options: &Options,
    files: &[Arc<MediaFile>],
    made: Vec<String>,
) -> Result<(Target, Vec<HostedMedia>), PublishError> {
    check_files(files)?;
    if made.len() > files.len() || (files.len() == 1 && !made.is_empty()) {
        // Not a checkpoint of this post's media.
        return Err(fanout_core::unknown_outcome(PLATFORM));
    }
    let mut hosted: Vec<HostedMedia> = Vec::with_capacity(files.len());
    let media_path = format!("{}/media", journal.user_id);
    if let [file] = files {
        journal
            .record(Stage::Creating { children_ids: made })
            .await?;
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
        let id = create_one(api, &media_path, &params, "the photo container creation").await?;
        let target = Target::Container(id);
        journal.record(Stage::waiting_for(&target)).await?;
        return Ok((target, hosted));
    }
    let mut children = made;
    for (index, file) in files.iter().enumerate().skip(children.len()) {
        journal
            .record(Stage::Creating {
                children_ids: children.clone(),
            })
            .await?;
        let link = media_host.host(Arc::clone(file)).await?;
        let mut params = vec![
            ("image_url", link.url().to_string()),
            ("is_carousel_item", "true".to_string()),
        ];
        hosted.push(link);
        options.photo_params(index, &mut params);
        children.push(create_one(api, &media_path, &params, "a carousel item creation").await?);
    }
    let target = Target::Carousel {
        children,
        params: carousel_params(caption, options),
    };
    journal.record(Stage::waiting_for(&target)).await?;
    Ok((target, hosted))
}

/// The carousel container's parameters, without `children`.
fn carousel_params(caption: &str, options: &Options) -> Vec<(String, String)> {
    let mut params = vec![("media_type", "CAROUSEL".to_string())];
    if !caption.is_empty() {
        params.push(("caption", caption.to_string()));
    }
    options.feed_params(&mut params);
    params
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// Creates the carousel container for finished `children`.
pub(crate) async fn create_carousel(
    api: &Api,
    user_id: &str,
    children: &[String],
    params: &[(String, String)],
) -> Result<String, PublishError> {
    let mut params: Vec<(&str, String)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect();
    params.push(("children", children.join(",")));
    create_one(
        api,
        &format!("{user_id}/media"),
        &params,
        "the carousel container creation",
    )
    .await
}

async fn create_one(
    api: &Api,
    path: &str,
    params: &[(&str, String)],
    what: &str,
) -> Result<String, PublishError> {
    let answer: IdAnswer = api.safe(Method::POST, path, params, what).await?;
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
