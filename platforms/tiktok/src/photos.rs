//! Photos: `content/init` with `PULL_FROM_URL` (TikTok pulls them from the media host),
//! then the status poll.

use std::sync::Arc;

use fanout_core::http::Idempotence;
use fanout_core::{HostedMedia, MediaFile, MediaHost, Post, PublishError, Receipt};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::client::Api;
use crate::creator::{self, CreatorInfo};
use crate::errors::PLATFORM;
use crate::options::Options;
use crate::status::{self, Polling};

/// Longest photo post title TikTok accepts, in characters.
pub const MAX_PHOTO_TITLE_CHARS: usize = 90;
/// Longest photo post description TikTok accepts, in characters.
pub const MAX_PHOTO_DESCRIPTION_CHARS: usize = 4000;
/// Most photos in one post.
pub const MAX_PHOTOS: usize = 35;

/// `data` of `content/init`.
#[derive(Debug, Deserialize)]
struct ContentInit {
    publish_id: String,
}

/// Publishes `files` as one Direct Post photo post.
///
/// The hosted links stay alive until TikTok is done with the post (in a background task
/// when the answer is `PROCESSING`): TikTok may pull late.
pub(crate) async fn publish_photos(
    api: &Api<'_>,
    polling: Polling,
    media_host: &dyn MediaHost,
    post: &Post,
    options: &Options,
    creator: &CreatorInfo,
    files: &[Arc<MediaFile>],
) -> Result<Receipt, PublishError> {
    let title = post.title.trim();
    creator::check_len("photo titles are", title, MAX_PHOTO_TITLE_CHARS)?;
    let description = post.description.as_deref().map(str::trim).unwrap_or("");
    creator::check_len(
        "photo descriptions are",
        description,
        MAX_PHOTO_DESCRIPTION_CHARS,
    )?;
    if files.is_empty() || files.len() > MAX_PHOTOS {
        return Err(PublishError::media_rejected(format!(
            "{PLATFORM} photo posts take 1 to {MAX_PHOTOS} photos; this one has {}.",
            files.len()
        )));
    }
    let cover = options.photo_cover_index.unwrap_or(0);
    if cover >= files.len() as u64 {
        return Err(PublishError::rejected(format!(
            "{PLATFORM}: `photo_cover_index` must name one of the {} photos (0 to {}), got {cover}.",
            files.len(),
            files.len() - 1
        )));
    }
    let post_info = post_info(title, description, options, creator)?;
    let mut hosted: Vec<HostedMedia> = Vec::with_capacity(files.len());
    for file in files {
        hosted.push(media_host.host(Arc::clone(file)).await?);
    }
    let urls: Vec<&str> = hosted.iter().map(|h| h.url().as_str()).collect();
    let body = json!({
        "media_type": "PHOTO",
        "post_mode": if options.draft { "MEDIA_UPLOAD" } else { "DIRECT_POST" },
        "post_info": post_info,
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_cover_index": cover,
            "photo_images": urls,
        },
    });
    // This call publishes: a lost answer is reported, never repeated.
    let init: ContentInit = api
        .init(
            "v2/post/publish/content/init/",
            &body,
            "the photo post",
            Idempotence::Publishing,
        )
        .await?;
    // The links live until TikTok has pulled (in the background past the budget).
    status::finish(api, &init.publish_id, polling, hosted).await
}

/// `post_info` of a photo post: title and description only for a draft, every setting
/// for a Direct Post.
fn post_info(
    title: &str,
    description: &str,
    options: &Options,
    creator: &CreatorInfo,
) -> Result<Value, PublishError> {
    let mut info = Map::new();
    info.insert("title".into(), Value::from(title));
    if !description.is_empty() {
        info.insert("description".into(), Value::from(description));
    }
    if options.draft {
        return Ok(Value::Object(info));
    }
    let privacy = creator::privacy_level(options.privacy_level.as_deref(), creator)?;
    options.check_branded_privacy(Some(&privacy))?;
    info.insert("privacy_level".into(), Value::from(privacy));
    creator::put_bool(
        &mut info,
        "disable_comment",
        options.disable_comment,
        creator.comment_disabled,
    );
    creator::put_bool(&mut info, "auto_add_music", options.auto_add_music, false);
    creator::put_bool(
        &mut info,
        "brand_content_toggle",
        options.brand_content_toggle,
        false,
    );
    creator::put_bool(
        &mut info,
        "brand_organic_toggle",
        options.brand_organic_toggle,
        false,
    );
    Ok(Value::Object(info))
}
