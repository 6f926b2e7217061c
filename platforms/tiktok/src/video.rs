//! Video from a file: `video/init` with `FILE_UPLOAD`, one streamed `PUT` per chunk,
//! then the status poll; and the same upload continued by `resume`.

use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use fanout_core::{MediaFile, PublishContext, PublishError, Receipt};
use fanout_kit::{Idempotence, Polling};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::checkpoint::{self, Checkpoint};
use crate::chunks::ChunkPlan;
use crate::client::Api;
use crate::creator::{self, CreatorInfo};
use crate::errors::TIKTOK;
use crate::finish;
use crate::options::Options;

/// Longest video title (the caption) TikTok accepts, in characters.
pub const MAX_VIDEO_TITLE_CHARS: usize = 2200;

/// `data` of `video/init`.
#[derive(Debug, Deserialize)]
struct VideoInit {
    publish_id: String,
    #[serde(default)]
    upload_url: Option<String>,
}

/// Publishes `file` as a Direct Post video, or uploads it to the creator's inbox as a
/// draft (`options.draft`: `inbox/video/init`, `source_info` only).
///
/// Checkpoints: `initializing` before the init, `uploading` once TikTok answered it and
/// after each chunk but the last, `processing` after the last chunk (the one that lets
/// TikTok publish).
pub(crate) async fn publish_video(
    api: &Api<'_>,
    polling: Polling,
    preferred_chunk: u64,
    ctx: &PublishContext<'_>,
    options: &Options,
    creator: &CreatorInfo,
    file: &Arc<MediaFile>,
) -> Result<Receipt, PublishError> {
    let plan = ChunkPlan::new(file.len(), preferred_chunk);
    let source_info = json!({
        "source": "FILE_UPLOAD",
        "video_size": plan.video_size,
        "chunk_size": plan.chunk_size,
        "total_chunk_count": plan.total_chunk_count,
    });
    let (path, body) = if options.draft {
        (
            "v2/post/publish/inbox/video/init/",
            json!({ "source_info": source_info }),
        )
    } else {
        let title = ctx.post.title.trim();
        creator::check_len("video titles are", title, MAX_VIDEO_TITLE_CHARS)?;
        (
            "v2/post/publish/video/init/",
            json!({
                "post_info": post_info(title, options, creator)?,
                "source_info": source_info,
            }),
        )
    };
    checkpoint::record(ctx, &Checkpoint::Initializing).await?;
    // Nothing is published before every byte is uploaded, so an init whose answer was
    // lost is safe to repeat: the orphaned upload never completes.
    let init: VideoInit = api
        .init(path, &body, "the video upload start", Idempotence::Safe)
        .await?;
    let upload_url = init
        .upload_url
        .as_deref()
        .and_then(parse_upload_url)
        .ok_or_else(|| TIKTOK.unreadable("the video upload start"))?;
    let publish_id = init.publish_id.as_str();
    checkpoint::record(
        ctx,
        &Checkpoint::uploading(publish_id, &upload_url, &plan, 0),
    )
    .await?;
    upload_chunks(api, ctx, &upload_url, file, &plan, 0, publish_id).await?;
    let follow_up = Checkpoint::processing(publish_id);
    checkpoint::note(ctx, &follow_up).await;
    finish::finish(api, publish_id, polling, polling.deadline(), &follow_up).await
}

/// The upload URL TikTok handed out, when it is an http(s) URL.
pub(crate) fn parse_upload_url(url: &str) -> Option<Url> {
    Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Sends chunks `first..` of `plan` in order. Before every chunk but the first sent
/// here, records the `uploading` checkpoint with the bytes TikTok confirmed (a failure
/// to record it stops the upload: the last chunk publishes).
pub(crate) async fn upload_chunks(
    api: &Api<'_>,
    ctx: &PublishContext<'_>,
    upload_url: &Url,
    file: &Arc<MediaFile>,
    plan: &ChunkPlan,
    first: u64,
    publish_id: &str,
) -> Result<(), PublishError> {
    for index in first..plan.total_chunk_count {
        if index > first {
            let sent = plan.range(index).start;
            let progress = Checkpoint::uploading(publish_id, upload_url, plan, sent);
            checkpoint::record(ctx, &progress).await?;
        }
        send_chunk(api, upload_url, file, plan, index, publish_id).await?;
    }
    Ok(())
}

/// `post_info` of a Direct Post video from the title, the options and the creator's
/// settings.
fn post_info(title: &str, options: &Options, creator: &CreatorInfo) -> Result<Value, PublishError> {
    let privacy = creator::privacy_level(options.privacy_level.as_deref(), creator)?;
    options.check_branded_privacy(Some(&privacy))?;
    let mut info = Map::new();
    info.insert("title".into(), Value::from(title));
    info.insert("privacy_level".into(), Value::from(privacy));
    creator::put_bool(
        &mut info,
        "disable_comment",
        options.disable_comment,
        creator.comment_disabled,
    );
    creator::put_bool(
        &mut info,
        "disable_duet",
        options.disable_duet,
        creator.duet_disabled,
    );
    creator::put_bool(
        &mut info,
        "disable_stitch",
        options.disable_stitch,
        creator.stitch_disabled,
    );
    if let Some(ms) = options.cover_timestamp_ms {
        info.insert("video_cover_timestamp_ms".into(), Value::from(ms));
    }
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
    creator::put_bool(&mut info, "is_aigc", options.is_aigc, false);
    Ok(Value::Object(info))
}

/// Sends chunk `index`, retrying transient failures. Before a retry, the status fetch
/// tells whether the chunk arrived after all (its answer may have been lost), so a
/// chunk TikTok already has is never sent twice.
async fn send_chunk(
    api: &Api<'_>,
    url: &Url,
    file: &Arc<MediaFile>,
    plan: &ChunkPlan,
    index: u64,
    publish_id: &str,
) -> Result<(), PublishError> {
    let range = plan.range(index);
    api.session
        .retry()
        .run_with(
            || put_chunk(api, url, file, range.clone(), plan.video_size),
            || async {
                let arrived = finish::fetch(api, publish_id)
                    .await
                    .is_ok_and(|progress| progress.uploaded_bytes.is_some_and(|n| n >= range.end));
                Ok(if arrived {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .await
}

/// `PUT <upload_url>` with one chunk streamed from the spooled file (the URL carries
/// its own upload token: no `Authorization`).
async fn put_chunk(
    api: &Api<'_>,
    url: &Url,
    file: &Arc<MediaFile>,
    range: Range<u64>,
    total: u64,
) -> Result<(), PublishError> {
    let len = range.end - range.start;
    let content_range = format!(
        "bytes {}-{}/{total}",
        range.start,
        range.end.saturating_sub(1)
    );
    let request = api
        .session
        .anonymous(Method::PUT, url.clone())
        .header(CONTENT_TYPE, file.content_type())
        .header(CONTENT_LENGTH, len.to_string())
        .header(CONTENT_RANGE, content_range)
        .timeout(api.session.upload_timeout(len))
        .body(reqwest::Body::wrap_stream(file.stream_range(range)));
    api.session
        .send(request, "a video chunk")
        .await
        .map(|_| ())
        .map_err(|e| e.into_error(Idempotence::Safe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::FormFields;

    #[test]
    fn post_info_carries_the_forms_settings() {
        let creator = CreatorInfo {
            privacy_level_options: vec!["SELF_ONLY".into(), "PUBLIC_TO_EVERYONE".into()],
            stitch_disabled: true,
            ..CreatorInfo::default()
        };
        let options = Options::parse(&FormFields::from_pairs([
            ("privacy_level", "PUBLIC_TO_EVERYONE"),
            ("disable_comment", "true"),
            ("cover_timestamp", "1500"),
            ("is_aigc", "1"),
            ("brand_content_toggle", "true"),
        ]))
        .unwrap();
        assert_eq!(
            post_info("hello", &options, &creator).unwrap(),
            json!({
                "title": "hello",
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "disable_comment": true,
                "disable_stitch": true,
                "video_cover_timestamp_ms": 1500,
                "brand_content_toggle": true,
                "is_aigc": true,
            })
        );
    }

    #[test]
    fn branded_content_cannot_default_to_private() {
        let creator = CreatorInfo {
            privacy_level_options: vec!["SELF_ONLY".into()],
            ..CreatorInfo::default()
        };
        let options =
            Options::parse(&FormFields::from_pairs([("brand_content_toggle", "true")])).unwrap();
        let err = post_info("hello", &options, &creator).unwrap_err();
        assert!(err.message().contains("`brand_content_toggle`"), "{err}");
    }
}
