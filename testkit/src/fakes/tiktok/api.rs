//! The JSON routes: creator info, the three `init`s and the status fetch.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::errors;
use super::pull;
use super::state::{new_publish_id, random_hex, Account, Phase, PostState, Shared, Upload};
use crate::fakes::oauth::Refusal;

/// Largest JSON body the fake reads (media never comes here).
const MAX_JSON_BYTES: usize = 64 * 1024;
/// Smallest chunk (a smaller video is sent whole).
pub(crate) const MIN_CHUNK: u64 = 5 * 1024 * 1024;
/// Largest chunk but the last.
pub(crate) const MAX_CHUNK: u64 = 64 * 1024 * 1024;
/// Largest last chunk.
pub(crate) const MAX_LAST_CHUNK: u64 = 128 * 1024 * 1024;
/// Most chunks.
pub(crate) const MAX_CHUNKS: u64 = 1000;
/// Largest video.
pub(crate) const MAX_VIDEO: u64 = 4 * 1024 * 1024 * 1024;
/// Longest video title.
const MAX_VIDEO_TITLE: usize = 2200;
/// Longest photo title.
const MAX_PHOTO_TITLE: usize = 90;
/// Longest photo description.
const MAX_PHOTO_DESCRIPTION: usize = 4000;
/// Most photos in a post.
pub(crate) const MAX_PHOTOS: usize = 35;

const VIDEO_POST_INFO: &[&str] = &[
    "title",
    "privacy_level",
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "video_cover_timestamp_ms",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
];
const PHOTO_POST_INFO: &[&str] = &[
    "title",
    "description",
    "privacy_level",
    "disable_comment",
    "auto_add_music",
    "brand_content_toggle",
    "brand_organic_toggle",
];

/// `Authorization: Bearer <known token>`; tokens starting with `expired` are expired.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Account, Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(errors::token(errors::INVALID_TOKEN));
    };
    shared
        .lock()
        .oauth
        .authenticate(token)
        .map_err(|refusal| match refusal {
            Refusal::Expired => errors::token(errors::EXPIRED_TOKEN),
            _ => errors::token(errors::INVALID_TOKEN),
        })
}

/// `Content-Type: application/json; charset=UTF-8`.
fn check_json_type(headers: &HeaderMap) -> Result<(), Response> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let is_json = parts.next() == Some("application/json");
    let utf8 = parts.any(|p| p.replace(' ', "") == "charset=utf-8");
    if is_json && utf8 {
        Ok(())
    } else {
        Err(errors::invalid_params(
            "Content-Type must be application/json; charset=UTF-8.",
        ))
    }
}

/// Authenticates, checks the content type and reads the JSON object body (`None` when
/// empty and `allow_empty`).
async fn request(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    allow_empty: bool,
) -> Result<(Account, Map<String, Value>), Response> {
    let account = authenticate(shared, headers)?;
    check_json_type(headers)?;
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| errors::invalid_params("The request body is too large or unreadable."))?;
    if bytes.is_empty() && allow_empty {
        return Ok((account, Map::new()));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok((account, map)),
        _ => Err(errors::invalid_params(
            "The request body is not a well-formed JSON object.",
        )),
    }
}

fn object<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a Map<String, Value>, Response> {
    map.get(name).and_then(Value::as_object).ok_or_else(|| {
        errors::invalid_params(&format!("{name} is required and must be an object."))
    })
}

fn u64_field(map: &Map<String, Value>, name: &str) -> Result<u64, Response> {
    map.get(name).and_then(Value::as_u64).ok_or_else(|| {
        errors::invalid_params(&format!("{name} is required and must be an integer."))
    })
}

fn str_field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, Response> {
    map.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| errors::invalid_params(&format!("{name} is required and must be a string.")))
}

/// Checks `post_info`: only `allowed` fields, booleans typed, title length, privacy.
fn check_post_info(
    shared: &Shared,
    info: &Map<String, Value>,
    allowed: &[&str],
    max_title: usize,
    privacy_required: bool,
) -> Result<String, Response> {
    if let Some(unknown) = info.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(errors::invalid_params(&format!(
            "post_info.{unknown} is not a recognised field."
        )));
    }
    for (name, value) in info {
        let ok = match name.as_str() {
            "title" | "description" | "privacy_level" => value.is_string(),
            "video_cover_timestamp_ms" => value.is_u64(),
            _ => value.is_boolean(),
        };
        if !ok {
            return Err(errors::invalid_params(&format!(
                "post_info.{name} has the wrong type."
            )));
        }
    }
    let title = info
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if title.chars().count() > max_title {
        return Err(errors::invalid_params(&format!(
            "post_info.title is longer than {max_title} characters."
        )));
    }
    if let Some(description) = info.get("description").and_then(Value::as_str) {
        if description.chars().count() > MAX_PHOTO_DESCRIPTION {
            return Err(errors::invalid_params(&format!(
                "post_info.description is longer than {MAX_PHOTO_DESCRIPTION} characters."
            )));
        }
    }
    let branded = info.get("brand_content_toggle") == Some(&Value::Bool(true));
    if branded && info.get("privacy_level").and_then(Value::as_str) == Some("SELF_ONLY") {
        return Err(errors::invalid_params(
            "Branded content (brand_content_toggle) cannot be posted with privacy_level SELF_ONLY.",
        ));
    }
    match info.get("privacy_level").and_then(Value::as_str) {
        None if privacy_required => Err(errors::invalid_params(
            "post_info.privacy_level is required.",
        )),
        None => Ok(title.to_string()),
        Some(level) => {
            if shared.lock().privacy_options.iter().any(|o| o == level) {
                Ok(title.to_string())
            } else {
                Err(errors::error(
                    StatusCode::BAD_REQUEST,
                    "privacy_level_option_mismatch",
                    "The privacy_level is not among the privacy_level_options of this creator.",
                ))
            }
        }
    }
}

/// The chunk rules of the media transfer guide; `Err` says which one is broken.
pub(crate) fn check_chunks(video_size: u64, chunk_size: u64, count: u64) -> Result<(), String> {
    if video_size == 0 || video_size > MAX_VIDEO {
        return Err(format!(
            "video_size must be between 1 and {MAX_VIDEO} bytes."
        ));
    }
    if video_size < MIN_CHUNK {
        if chunk_size != video_size || count != 1 {
            return Err(
                "A video under 5 MB must be sent whole: chunk_size = video_size, total_chunk_count = 1."
                    .to_string(),
            );
        }
        return Ok(());
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size) || chunk_size > video_size {
        return Err(format!(
            "chunk_size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes and at most video_size."
        ));
    }
    if count != video_size / chunk_size {
        return Err(format!(
            "total_chunk_count must be video_size / chunk_size rounded down ({}).",
            video_size / chunk_size
        ));
    }
    if !(1..=MAX_CHUNKS).contains(&count) {
        return Err(format!(
            "total_chunk_count must be between 1 and {MAX_CHUNKS}."
        ));
    }
    if video_size > MAX_CHUNK && count < 2 {
        return Err("A video over 64 MB must be sent in several chunks.".to_string());
    }
    if video_size - (count - 1) * chunk_size > MAX_LAST_CHUNK {
        return Err(format!(
            "The last chunk would exceed {MAX_LAST_CHUNK} bytes."
        ));
    }
    Ok(())
}

/// `POST /v2/post/publish/creator_info/query/`.
pub(crate) async fn creator_info(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let account = match request(&shared, &headers, body, true).await {
        Ok((account, _)) => account,
        Err(r) => return r,
    };
    let options = shared.lock().privacy_options.clone();
    errors::ok(json!({
        "creator_avatar_url": format!("https://p16.tiktokcdn.test/{}.jpeg", account.open_id),
        "creator_username": account.name,
        "creator_nickname": account.name,
        "privacy_level_options": options,
        "comment_disabled": false,
        "duet_disabled": false,
        "stitch_disabled": false,
        "max_video_post_duration_sec": 600,
    }))
}

/// `POST /v2/post/publish/video/init/` (Direct Post).
pub(crate) async fn video_init(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    init_upload(&shared, &headers, body, false).await
}

/// `POST /v2/post/publish/inbox/video/init/` (draft: `source_info` only).
pub(crate) async fn inbox_video_init(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    init_upload(&shared, &headers, body, true).await
}

async fn init_upload(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    body: Body,
    draft: bool,
) -> Response {
    let (account, map) = match request(shared, headers, body, false).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    shared.lock().init_calls += 1;
    match start_upload(shared, account, &map, draft) {
        Ok(r) | Err(r) => r,
    }
}

fn start_upload(
    shared: &Arc<Shared>,
    account: Account,
    map: &Map<String, Value>,
    draft: bool,
) -> Result<Response, Response> {
    let (title, options) = if draft {
        if map.contains_key("post_info") {
            return Err(errors::invalid_params(
                "post_info is not accepted by the inbox upload; send source_info only.",
            ));
        }
        (String::new(), Value::Object(Map::new()))
    } else {
        let info = object(map, "post_info")?;
        let title = check_post_info(shared, info, VIDEO_POST_INFO, MAX_VIDEO_TITLE, true)?;
        (title, Value::Object(info.clone()))
    };
    let source = object(map, "source_info")?;
    match str_field(source, "source")? {
        "FILE_UPLOAD" => {}
        "PULL_FROM_URL" => {
            return Err(errors::error(
                StatusCode::FORBIDDEN,
                "url_ownership_unverified",
                "The domain of video_url is not verified for this client.",
            ))
        }
        other => {
            return Err(errors::invalid_params(&format!(
                "source_info.source {other:?} is not FILE_UPLOAD or PULL_FROM_URL."
            )))
        }
    }
    let video_size = u64_field(source, "video_size")?;
    let chunk_size = u64_field(source, "chunk_size")?;
    let count = u64_field(source, "total_chunk_count")?;
    check_chunks(video_size, chunk_size, count).map_err(|m| errors::invalid_params(&m))?;
    let publish_id = new_publish_id("file");
    shared.lock().init_bodies.push(Value::Object(map.clone()));
    let upload_id = random_hex(12);
    let token = random_hex(16);
    let mut upload_url = shared.root.clone();
    upload_url.set_path(&format!("/upload/{upload_id}"));
    upload_url.set_query(Some(&format!("upload_token={token}")));
    let mut inner = shared.lock();
    inner.uploads.insert(upload_id, publish_id.clone());
    inner.posts.insert(
        publish_id.clone(),
        PostState {
            account,
            title,
            options,
            draft,
            photos: false,
            phase: Phase::Uploading,
            upload: Some(Upload {
                token,
                video_size,
                chunk_size,
                total_chunk_count: count,
                received: 0,
                hasher: Some(Default::default()),
                head: Vec::new(),
            }),
            downloaded: 0,
        },
    );
    Ok(errors::ok(json!({
        "publish_id": publish_id,
        "upload_url": upload_url.as_str(),
    })))
}

/// `POST /v2/post/publish/content/init/` (photos, pulled from their URLs).
pub(crate) async fn content_init(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (account, map) = match request(&shared, &headers, body, false).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    shared.lock().init_calls += 1;
    match start_photos(&shared, account, &map) {
        Ok(r) | Err(r) => r,
    }
}

fn start_photos(
    shared: &Arc<Shared>,
    account: Account,
    map: &Map<String, Value>,
) -> Result<Response, Response> {
    if str_field(map, "media_type")? != "PHOTO" {
        return Err(errors::invalid_params("media_type must be PHOTO."));
    }
    let draft = match str_field(map, "post_mode")? {
        "DIRECT_POST" => false,
        "MEDIA_UPLOAD" => true,
        _ => {
            return Err(errors::invalid_params(
                "post_mode must be DIRECT_POST or MEDIA_UPLOAD.",
            ))
        }
    };
    let info = object(map, "post_info")?;
    let title = check_post_info(shared, info, PHOTO_POST_INFO, MAX_PHOTO_TITLE, !draft)?;
    let source = object(map, "source_info")?;
    if str_field(source, "source")? != "PULL_FROM_URL" {
        return Err(errors::invalid_params(
            "Photos are only accepted with source PULL_FROM_URL.",
        ));
    }
    let images = source
        .get("photo_images")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            errors::invalid_params("source_info.photo_images must be an array of URLs.")
        })?;
    if images.is_empty() || images.len() > MAX_PHOTOS {
        return Err(errors::invalid_params(&format!(
            "source_info.photo_images must hold 1 to {MAX_PHOTOS} URLs."
        )));
    }
    let mut urls = Vec::with_capacity(images.len());
    for image in images {
        let url = image
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                errors::invalid_params("Every photo_images entry must be an http(s) URL.")
            })?;
        urls.push(url);
    }
    let cover = u64_field(source, "photo_cover_index")?;
    if cover >= urls.len() as u64 {
        return Err(errors::invalid_params(
            "source_info.photo_cover_index is outside photo_images.",
        ));
    }
    let publish_id = new_publish_id("url");
    shared.lock().init_bodies.push(Value::Object(map.clone()));
    shared.lock().posts.insert(
        publish_id.clone(),
        PostState {
            account,
            title,
            options: Value::Object(info.clone()),
            draft,
            photos: true,
            phase: Phase::Downloading,
            upload: None,
            downloaded: 0,
        },
    );
    tokio::spawn(pull::pull_photos(
        Arc::clone(shared),
        publish_id.clone(),
        urls,
    ));
    Ok(errors::ok(json!({ "publish_id": publish_id })))
}

/// `POST /v2/post/publish/status/fetch/`.
pub(crate) async fn status_fetch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (account, map) = match request(&shared, &headers, body, false).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let publish_id = match str_field(&map, "publish_id") {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    let Some(post) = inner
        .posts
        .get_mut(publish_id)
        .filter(|p| p.account.open_id == account.open_id)
    else {
        return errors::invalid_params(
            "The publish_id is invalid or does not belong to this user.",
        );
    };
    let processing = if post.photos {
        "PROCESSING_DOWNLOAD"
    } else {
        "PROCESSING_UPLOAD"
    };
    let mut data = json!({});
    let status = match post.phase.clone() {
        Phase::Uploading => processing.to_string(),
        Phase::Downloading => processing.to_string(),
        Phase::Processing(ready_at) => {
            if std::time::Instant::now() >= ready_at {
                post.phase = if post.draft {
                    Phase::Inbox
                } else {
                    Phase::Complete
                };
            }
            processing.to_string()
        }
        Phase::Complete => {
            data["publicaly_available_post_id"] = json!([]);
            "PUBLISH_COMPLETE".to_string()
        }
        Phase::Inbox => "SEND_TO_USER_INBOX".to_string(),
        Phase::Failed(reason) => {
            data["fail_reason"] = json!(reason);
            "FAILED".to_string()
        }
    };
    data["status"] = json!(status);
    match &post.upload {
        Some(upload) => data["uploaded_bytes"] = json!(upload.received),
        None => data["downloaded_bytes"] = json!(post.downloaded),
    }
    drop(inner);
    errors::ok(data)
}

/// Anything else: TikTok's 404.
pub(crate) async fn unknown_path() -> Response {
    errors::error(
        StatusCode::NOT_FOUND,
        "invalid_params",
        "The requested path does not exist.",
    )
}
