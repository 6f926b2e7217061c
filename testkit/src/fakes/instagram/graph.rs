//! The Graph routes: `/me`, container creation and status, publishing, quota.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::errors;
use super::pull::pull_image;
use super::state::{new_id, Account, Container, Kind, Phase, Shared, Upload};
use crate::fakes::oauth::Refusal;
use crate::record::PublishedPost;

/// Longest caption, in characters.
const MAX_CAPTION_CHARS: usize = 2200;
/// Largest Graph form body the fake reads (these are small; media never comes here).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Request parameters, from the query string and a form body, as Graph takes them.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Reads the query and, for form bodies, the body.
pub(crate) async fn params(
    query: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Params, Response> {
    let mut map: HashMap<String, String> = HashMap::new();
    if let Some(query) = query {
        map.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| errors::invalid_param("The request body is too large or unreadable"))?;
        map.extend(url::form_urlencoded::parse(&bytes).into_owned());
    }
    Ok(Params(map))
}

/// The request's token: `Authorization: Bearer`, else the `access_token` parameter.
pub(crate) fn request_token<'a>(
    headers: &'a HeaderMap,
    params: &'a Params,
) -> Result<&'a str, Response> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| params.get("access_token"))
        .ok_or_else(|| {
            errors::graph(
                StatusCode::BAD_REQUEST,
                2500,
                None,
                "An active access token must be used to query information about the current \
                 user.",
            )
        })
}

/// The account of the request's token (`Authorization: Bearer` or `access_token`).
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Account, Response> {
    let token = request_token(headers, params)?;
    shared
        .lock()
        .oauth
        .authenticate(token)
        .map_err(|refusal| match refusal {
            Refusal::Expired => errors::expired_token(),
            _ => errors::invalid_token(),
        })
}

/// Authenticates and checks the path's IG user id is the token's.
fn owner(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    user_id: &str,
) -> Result<Account, Response> {
    let account = authenticate(shared, headers, params)?;
    if account.user_id != user_id {
        return Err(errors::no_such_object(user_id));
    }
    Ok(account)
}

/// `GET /me?fields=user_id,username`.
pub(crate) async fn me(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match authenticate(&shared, &headers, &params) {
        Ok(account) => Json(json!({
            "user_id": account.user_id,
            "username": account.name,
            "id": account.user_id,
        }))
        .into_response(),
        Err(r) => r,
    }
}

/// `GET /<ig-user-id>/content_publishing_limit?fields=quota_usage,config`.
pub(crate) async fn publishing_limit(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = owner(&shared, &headers, &params, &user_id) {
        return r;
    }
    let inner = shared.lock();
    let used = inner.published_count.get(&user_id).copied().unwrap_or(0);
    Json(json!({
        "data": [{
            "quota_usage": used,
            "config": { "quota_total": inner.quota_total, "quota_duration": 86400 }
        }]
    }))
    .into_response()
}

/// `GET /<container id>?fields=…`: `id`, `status_code`, `status`.
pub(crate) async fn container_status(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let account = match authenticate(&shared, &headers, &params) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let fields: Vec<String> = params
        .get("fields")
        .unwrap_or("id")
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if let Some(bad) = fields
        .iter()
        .find(|f| !matches!(f.as_str(), "id" | "status_code" | "status"))
    {
        return errors::invalid_param(&format!("Tried accessing nonexisting field ({bad})"));
    }
    let mut inner = shared.lock();
    let Some(container) = inner
        .containers
        .get_mut(&id)
        .filter(|c| c.account.user_id == account.user_id)
    else {
        return errors::no_such_object(&id);
    };
    let (code, text) = match &container.phase {
        Phase::AwaitingUpload => (
            "IN_PROGRESS",
            "In Progress: waiting for the upload".to_string(),
        ),
        Phase::Processing => {
            if container.in_progress_reads > 1 {
                container.in_progress_reads -= 1;
            } else {
                container.phase = Phase::Finished;
            }
            (
                "IN_PROGRESS",
                "In Progress: processing the media".to_string(),
            )
        }
        Phase::Finished => ("FINISHED", "Finished: ready to publish".to_string()),
        Phase::Error(why) => ("ERROR", format!("Error: {why}")),
        Phase::Published(_) => ("PUBLISHED", "Published".to_string()),
    };
    let mut answer = Map::new();
    answer.insert("id".into(), json!(id));
    if fields.iter().any(|f| f == "status_code") {
        answer.insert("status_code".into(), json!(code));
    }
    if fields.iter().any(|f| f == "status") {
        answer.insert("status".into(), json!(text));
    }
    Json(Value::Object(answer)).into_response()
}

/// `POST /<ig-user-id>/media`: creates a container.
pub(crate) async fn create_container(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let account = match owner(&shared, &headers, &params, &user_id) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caption = params.get("caption").unwrap_or_default().to_string();
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return errors::invalid_param(&format!(
            "Param caption must be at most {MAX_CAPTION_CHARS} characters long."
        ));
    }
    if let Some(share) = params.get("share_to_feed") {
        if share != "true" && share != "false" {
            return errors::invalid_param("Param share_to_feed must be a boolean");
        }
    }
    let carousel_item = match params.get("is_carousel_item") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return errors::invalid_param("Param is_carousel_item must be a boolean"),
    };
    let media_type = params.get("media_type").map(str::to_string);
    if let Err(r) = check_options(&params, media_type.as_deref(), carousel_item) {
        return r;
    }
    let mut options = Map::new();
    for (name, value) in &params.0 {
        if !matches!(
            name.as_str(),
            "access_token" | "caption" | "image_url" | "video_url"
        ) {
            options.insert(name.clone(), json!(value));
        }
    }
    let built = match media_type.as_deref() {
        Some("REELS" | "STORIES" | "VIDEO") if params.get("image_url").is_none() => {
            if params.get("upload_type") != Some("resumable") {
                return errors::invalid_param(
                    "Param upload_type must be resumable (this fake does not pull video_url)",
                );
            }
            if carousel_item {
                return errors::invalid_param("Reels cannot be carousel items");
            }
            (Kind::Video, Phase::AwaitingUpload, None)
        }
        None | Some("IMAGE" | "STORIES") => {
            let Some(url) = params.get("image_url") else {
                return errors::invalid_param("The parameter image_url is required");
            };
            match pull_image(&shared.http, url).await {
                Ok(media) => (
                    Kind::Image { carousel_item },
                    Phase::Processing,
                    Some(media),
                ),
                Err(r) => return r,
            }
        }
        Some("CAROUSEL") => match carousel(&shared, &account, params.get("children")) {
            Ok(children) => (Kind::Carousel(children), Phase::Processing, None),
            Err(r) => return r,
        },
        Some(other) => {
            return errors::invalid_param(&format!("The parameter media_type ({other}) is invalid"))
        }
    };
    let (kind, phase, media) = built;
    let id = new_id("1790");
    let mut inner = shared.lock();
    let processing_reads = inner.processing_reads;
    if let Kind::Carousel(children) = &kind {
        for child in children {
            if let Some(c) = inner.containers.get_mut(child) {
                c.used_in_carousel = true;
            }
        }
    }
    inner.containers.insert(
        id.clone(),
        Container {
            account,
            kind: kind.clone(),
            caption,
            options,
            phase,
            media,
            upload: Upload::default(),
            used_in_carousel: false,
            in_progress_reads: processing_reads,
        },
    );
    let mut answer = json!({ "id": id });
    if matches!(kind, Kind::Video) {
        answer["uri"] = json!(format!("{}ig-api-upload/v21.0/{id}", shared.root));
    }
    Json(answer).into_response()
}

/// Checks a carousel's `children`: 2–10 finished, unused image items of this account.
fn carousel(
    shared: &Shared,
    account: &Account,
    children: Option<&str>,
) -> Result<Vec<String>, Response> {
    let Some(children) = children else {
        return Err(errors::invalid_param("The parameter children is required"));
    };
    let ids: Vec<String> = children
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if !(2..=10).contains(&ids.len()) {
        return Err(errors::invalid_param(&format!(
            "A carousel takes 2 to 10 children; {} were given",
            ids.len()
        )));
    }
    let inner = shared.lock();
    for id in &ids {
        let Some(child) = inner
            .containers
            .get(id)
            .filter(|c| c.account.user_id == account.user_id)
        else {
            return Err(errors::no_such_object(id));
        };
        if !matches!(
            child.kind,
            Kind::Image {
                carousel_item: true
            }
        ) {
            return Err(errors::invalid_param(&format!(
                "Child {id} was not created with is_carousel_item=true"
            )));
        }
        if child.used_in_carousel {
            return Err(errors::invalid_param(&format!(
                "Child {id} is already in a carousel"
            )));
        }
        if child.phase != Phase::Finished {
            return Err(errors::not_ready());
        }
    }
    Ok(ids)
}

/// `POST /<ig-user-id>/media_publish` with `creation_id`.
pub(crate) async fn media_publish(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let account = match owner(&shared, &headers, &params, &user_id) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(id) = params.get("creation_id").map(str::to_string) else {
        return errors::invalid_param("The parameter creation_id is required");
    };
    let mut inner = shared.lock();
    let used = inner.published_count.get(&user_id).copied().unwrap_or(0);
    let quota = inner.quota_total;
    let Some(container) = inner
        .containers
        .get(&id)
        .filter(|c| c.account.user_id == account.user_id)
    else {
        return errors::no_such_object(&id);
    };
    match &container.phase {
        Phase::Finished => {}
        Phase::Published(_) => {
            return errors::invalid_param(&format!("The container {id} has already been published"))
        }
        Phase::Error(_) => {
            return errors::media(
                2_207_001,
                "The media could not be published: processing failed",
            )
        }
        Phase::AwaitingUpload | Phase::Processing => return errors::not_ready(),
    }
    if matches!(
        container.kind,
        Kind::Image {
            carousel_item: true
        }
    ) {
        return errors::invalid_param("A carousel item cannot be published on its own");
    }
    if used >= quota {
        return errors::publishing_limit();
    }
    let media = match &container.kind {
        Kind::Carousel(children) => children
            .iter()
            .filter_map(|c| inner.containers.get(c).and_then(|c| c.media.clone()))
            .collect(),
        _ => container.media.clone().into_iter().collect(),
    };
    let mut options = container.options.clone();
    if let Kind::Carousel(children) = &container.kind {
        let items: Vec<Value> = children
            .iter()
            .filter_map(|c| inner.containers.get(c))
            .map(|c| Value::Object(c.options.clone()))
            .collect();
        options.insert("items".into(), Value::Array(items));
    }
    let media_id = new_id("1800");
    let post = PublishedPost {
        id: media_id.clone(),
        account: container.account.name.clone(),
        caption: container.caption.clone(),
        media,
        options: Value::Object(options),
    };
    if let Some(container) = inner.containers.get_mut(&id) {
        container.phase = Phase::Published(media_id.clone());
    }
    *inner.published_count.entry(user_id).or_insert(0) += 1;
    drop(inner);
    shared.log.push(post);
    Json(json!({ "id": media_id })).into_response()
}

/// Checks the creation options as Graph does: each on the media it belongs to, in the
/// shape Graph takes.
fn check_options(
    params: &Params,
    media_type: Option<&str>,
    carousel_item: bool,
) -> Result<(), Response> {
    let reel = media_type == Some("REELS");
    let story = media_type == Some("STORIES");
    let video = reel || (story && params.get("image_url").is_none());
    let image = !video && media_type != Some("CAROUSEL");
    let only = |name: &str, allowed: bool, on: &str| -> Result<(), Response> {
        if params.get(name).is_some() && !allowed {
            return Err(errors::invalid_param(&format!(
                "Param {name} is only supported for {on}"
            )));
        }
        Ok(())
    };
    only("share_to_feed", reel, "REELS")?;
    only("cover_url", reel, "REELS")?;
    only("audio_name", reel, "REELS")?;
    only("thumb_offset", reel, "REELS")?;
    only("alt_text", image && !story, "images")?;
    only(
        "collaborators",
        !story && !carousel_item,
        "feed posts and reels",
    )?;
    only(
        "location_id",
        !story && !carousel_item,
        "feed posts and reels",
    )?;
    only(
        "user_tags",
        !story && media_type != Some("CAROUSEL"),
        "images and reels",
    )?;
    if let Some(raw) = params.get("collaborators") {
        let ok = serde_json::from_str::<Vec<String>>(raw)
            .is_ok_and(|names| names.len() <= 3 && names.iter().all(|n| !n.is_empty()));
        if !ok {
            return Err(errors::invalid_param(
                "Param collaborators must be an array of at most 3 usernames",
            ));
        }
    }
    if let Some(raw) = params.get("user_tags") {
        let Ok(tags) = serde_json::from_str::<Vec<Map<String, Value>>>(raw) else {
            return Err(errors::invalid_param(
                "Param user_tags must be an array of objects",
            ));
        };
        for (i, tag) in tags.iter().enumerate() {
            if !tag.get("username").is_some_and(Value::is_string) {
                return Err(errors::invalid_param(&format!(
                    "Param user_tags[{i}]['username'] must be a string"
                )));
            }
            if image {
                for axis in ["x", "y"] {
                    let ok = tag
                        .get(axis)
                        .and_then(Value::as_f64)
                        .is_some_and(|v| (0.0..=1.0).contains(&v));
                    if !ok {
                        return Err(errors::invalid_param(&format!(
                            "Param user_tags[{i}]['{axis}'] must be a number between 0 and 1"
                        )));
                    }
                }
            }
        }
    }
    if let Some(id) = params.get("location_id") {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(errors::invalid_param(
                "Param location_id must be a valid ID",
            ));
        }
    }
    if let Some(offset) = params.get("thumb_offset") {
        if offset.parse::<u64>().is_err() {
            return Err(errors::invalid_param(
                "Param thumb_offset must be an integer",
            ));
        }
    }
    if let Some(url) = params.get("cover_url") {
        if url::Url::parse(url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
            return Err(errors::invalid_param("Param cover_url must be a valid URL"));
        }
    }
    Ok(())
}

/// Longest comment, in characters.
const MAX_COMMENT_CHARS: usize = 2200;

/// `POST /<media id>/comments` with `message`: comments on a published post of the
/// token's account.
pub(crate) async fn comment(
    State(shared): State<Arc<Shared>>,
    Path(media_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let account = match authenticate(&shared, &headers, &params) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let message = params.get("message").unwrap_or_default().to_string();
    if message.trim().is_empty() {
        return errors::invalid_param("The parameter message is required");
    }
    if message.chars().count() > MAX_COMMENT_CHARS {
        return errors::invalid_param(&format!(
            "Param message must be at most {MAX_COMMENT_CHARS} characters long."
        ));
    }
    let mut inner = shared.lock();
    let live = inner.containers.values().any(|c| {
        c.account.user_id == account.user_id && c.phase == Phase::Published(media_id.clone())
    });
    if !live {
        return errors::no_such_object(&media_id);
    }
    inner.comments.push((media_id, message));
    Json(json!({ "id": new_id("1780") })).into_response()
}

/// Any other Graph path.
pub(crate) async fn unknown_path() -> Response {
    errors::graph(
        StatusCode::BAD_REQUEST,
        2500,
        None,
        "Unknown path components",
    )
}
