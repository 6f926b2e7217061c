//! Photos: `content/init` with `PULL_FROM_URL` (TikTok pulls them from the media host),
//! then the status poll, with the links alive until TikTok has pulled every photo.

use std::sync::Arc;
use std::time::Instant;

use fanout_core::{HostedMedia, MediaFile, PublishContext, PublishError, Receipt};
use fanout_kit::Idempotence;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::checkpoint::{self, Checkpoint};
use crate::client::Api;
use crate::creator::{self, CreatorInfo};
use crate::errors::PLATFORM;
use crate::options::Options;
use fanout_kit::Polling;

use crate::finish::{self, Polled};

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

/// Publishes `files` as one Direct Post photo post (or a draft: `MEDIA_UPLOAD`).
///
/// TikTok pulls the photos from the links given to `content/init`, and only from
/// those: links hosted again later would be URLs it never sees. So the links stay
/// alive until TikTok has pulled every photo (`downloaded_bytes`), even past the poll
/// budget, for at most `background_budget` more; only then may the answer be
/// `PROCESSING` (with a follow-up `resume` needs no links for).
///
/// Checkpoints: `initializing` before `content/init` (which publishes), `pulling` once
/// it answered, `processing` once TikTok has pulled every photo.
pub(crate) async fn publish_photos(
    api: &Api<'_>,
    polling: Polling,
    ctx: &PublishContext<'_>,
    options: &Options,
    creator: &CreatorInfo,
    files: &[Arc<MediaFile>],
) -> Result<Receipt, PublishError> {
    let post = ctx.post;
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
        hosted.push(ctx.media_host.host(Arc::clone(file)).await?);
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
    checkpoint::record(ctx, &Checkpoint::Initializing).await?;
    // This call publishes: a lost answer is reported, never repeated.
    let init: ContentInit = api
        .init(
            "v2/post/publish/content/init/",
            &body,
            "the photo post",
            Idempotence::Publishing,
        )
        .await?;
    let publish_id = init.publish_id.as_str();
    checkpoint::note(ctx, &Checkpoint::pulling(publish_id)).await;
    let total = total_bytes(files);
    let started = Instant::now();
    let pull_deadline = started + polling.budget + polling.background_budget;
    let polled = finish::poll(api, publish_id, polling, pull_deadline, |s| s.pulled(total)).await;
    let pulled = match &polled {
        Ok(Polled::Pending(status)) => status.pulled(total),
        _ => false,
    };
    if !pulled {
        if matches!(polled, Ok(Polled::Pending(_))) {
            tracing::warn!(
                publish_id,
                "tiktok had not pulled every photo when the wait for it ended; the links end now"
            );
        }
        // The links end with this call.
        return finish::answer(polled, publish_id, &Checkpoint::pulling(publish_id));
    }
    // TikTok has every photo: the links are no longer needed.
    drop(hosted);
    let follow_up = Checkpoint::processing(publish_id);
    checkpoint::note(ctx, &follow_up).await;
    let deadline = started + polling.budget;
    if Instant::now() >= deadline {
        return Ok(finish::processing(publish_id, &follow_up));
    }
    finish::finish(api, publish_id, polling, deadline, &follow_up).await
}

/// The bytes of all `files`, which TikTok reports as `downloaded_bytes` once pulled.
pub(crate) fn total_bytes(files: &[Arc<MediaFile>]) -> u64 {
    files.iter().map(|f| f.len()).sum()
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
