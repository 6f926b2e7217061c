//! The Posts API: `POST /rest/posts`, validated as LinkedIn does, recorded on success;
//! and the finder of an author's posts, `GET /rest/posts?q=author&author=<urn>`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth;
use super::errors;
use super::state::{Inner, Member, Shared, VideoStatus};
use super::videos::json_body;
use crate::record::{PublishedPost, ReceivedMedia};

/// Longest commentary, in characters (after unescaping).
pub const MAX_COMMENTARY_CHARS: usize = 3000;
/// The characters "little text" reserves; each must be escaped with a backslash.
pub(crate) const RESERVED: &[char] = &[
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];
/// Longest `altText`, in characters.
pub const MAX_ALT_TEXT_CHARS: usize = 4086;
/// Most images in a multi-image post.
const MAX_IMAGES: usize = 20;
/// Posts per page of the author finder unless `count` says otherwise.
const DEFAULT_FIND_COUNT: usize = 10;
/// Most posts per page of the author finder.
const MAX_FIND_COUNT: usize = 100;

/// Unescapes little text; `Err(position)` at the first reserved character that is
/// not escaped (or a backslash escaping nothing reserved).
pub(crate) fn unescape_little_text(text: &str) -> Result<String, usize> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some((_, next)) if RESERVED.contains(&next) => out.push(next),
                _ => return Err(i),
            }
        } else if RESERVED.contains(&c) {
            return Err(i);
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `POST /rest/posts`: 201, empty body, `x-restli-id: urn:li:share:<n>`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let member = match auth::rest_call(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let post = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut inner = shared.lock();
    let (commentary, media) = match validate(&mut inner, &member, &post) {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let limit = inner.daily_post_limit;
    let today = inner.posts_today.entry(member.name.clone()).or_insert(0);
    if *today >= limit {
        return errors::throttled();
    }
    *today += 1;
    let n = inner.next();
    let id = format!("urn:li:share:{}", 7_300_000_000_000_000_000u64 + n);
    inner.posts.insert(id.clone(), author_of(&post));
    drop(inner);
    shared.log.push(PublishedPost {
        id: id.clone(),
        account: member.name,
        caption: commentary,
        media,
        options: post,
    });
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-restli-id", value);
    }
    response
}

/// `GET /rest/posts?q=author&author=<encoded urn>[&count=…][&start=…][&sortBy=…]`: the
/// author's posts, newest first, as `{"paging": {"start", "count", "links", "total"},
/// "elements": [<post as created, plus its "id">]}`.
///
/// As on LinkedIn, the author must be the member or a page it administers (403
/// otherwise), and reading a member's own posts needs `r_member_social`, a scope
/// LinkedIn grants only to approved partners: person authors answer 403
/// `ACCESS_DENIED` unless [`super::FakeLinkedIn::set_member_post_reads`] allows them.
/// The urn must be URL-encoded; `count` is 1–100 (10 by default), `sortBy` is
/// `LAST_MODIFIED` (default) or `CREATED` (the same order here: posts are never
/// edited).
pub(crate) async fn find_by_author(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let member = match auth::rest_call(&shared, &headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let raw = query.unwrap_or_default();
    let params: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("q") != Some("author") {
        return errors::bad_request("Unsupported finder: use q=author");
    }
    let Some(author) = param("author") else {
        return errors::bad_request("The author finder needs the author parameter");
    };
    let encoded = raw
        .split('&')
        .filter_map(|pair| pair.strip_prefix("author="))
        .all(|value| !value.contains(':'));
    if !encoded {
        return errors::bad_request("URNs in a query must be URL-encoded (':' as %3A)");
    }
    let count = match param("count").map(str::parse::<usize>) {
        None => DEFAULT_FIND_COUNT,
        Some(Ok(n)) if (1..=MAX_FIND_COUNT).contains(&n) => n,
        Some(_) => {
            return errors::bad_request(&format!("count must be 1 to {MAX_FIND_COUNT}"));
        }
    };
    let Ok(start) = param("start").unwrap_or("0").parse::<usize>() else {
        return errors::bad_request("start must be a number");
    };
    if !matches!(param("sortBy"), None | Some("LAST_MODIFIED" | "CREATED")) {
        return errors::bad_request("sortBy must be LAST_MODIFIED or CREATED");
    }
    let mut inner = shared.lock();
    let allowed = inner.may_act_as(&member, author)
        && (!author.starts_with("urn:li:person:") || inner.member_post_reads);
    drop(inner);
    if !allowed {
        return errors::access_denied(&format!(
            "Not enough permissions to access: partnerApiPostsExternal.FINDER-author.20251001 \
             for {author}"
        ));
    }
    let posts: Vec<Value> = shared
        .log
        .all()
        .into_iter()
        .rev()
        .filter(|p| p.options["author"].as_str() == Some(author))
        .map(|p| {
            let mut element = p.options;
            element["id"] = json!(p.id);
            element
        })
        .collect();
    let total = posts.len();
    let elements: Vec<Value> = posts.into_iter().skip(start).take(count).collect();
    Json(json!({
        "paging": { "start": start, "count": count, "links": [], "total": total },
        "elements": elements,
    }))
    .into_response()
}

fn author_of(post: &Value) -> String {
    post["author"].as_str().unwrap_or_default().to_string()
}

/// Checks a post; answers the commentary as received and the media in order.
fn validate(
    inner: &mut Inner,
    member: &Member,
    post: &Value,
) -> Result<(String, Vec<ReceivedMedia>), Response> {
    let Some(author) = post["author"].as_str() else {
        return Err(errors::invalid_input(422, "/author", "Field is required"));
    };
    if !inner.may_act_as(member, author) {
        return Err(errors::access_denied(&format!(
            "Not enough permissions to access: partnerApiPostsExternal.CREATE.20251001 \
             as {author}"
        )));
    }
    let Some(commentary) = post["commentary"].as_str() else {
        return Err(errors::invalid_input(
            422,
            "/commentary",
            "Field is required",
        ));
    };
    match unescape_little_text(commentary) {
        Err(at) => {
            return Err(errors::invalid_input(
                422,
                "/commentary",
                &format!("Reserved character at byte {at} is not escaped"),
            ))
        }
        Ok(text) if text.chars().count() > MAX_COMMENTARY_CHARS => {
            return Err(errors::invalid_input(
                422,
                "/commentary",
                &format!("Commentary is longer than {MAX_COMMENTARY_CHARS} characters"),
            ))
        }
        Ok(_) => {}
    }
    if !matches!(
        post["visibility"].as_str(),
        Some("PUBLIC" | "CONNECTIONS" | "LOGGED_IN")
    ) {
        return Err(errors::invalid_input(
            422,
            "/visibility",
            "Must be one of PUBLIC, CONNECTIONS, LOGGED_IN",
        ));
    }
    if post["lifecycleState"].as_str() != Some("PUBLISHED") {
        return Err(errors::invalid_input(
            422,
            "/lifecycleState",
            "Must be PUBLISHED",
        ));
    }
    if !matches!(
        post.get("isReshareDisabledByAuthor"),
        None | Some(Value::Bool(_))
    ) {
        return Err(errors::invalid_input(
            422,
            "/isReshareDisabledByAuthor",
            "Must be a boolean",
        ));
    }
    if post["distribution"]["feedDistribution"].as_str() != Some("MAIN_FEED") {
        return Err(errors::invalid_input(
            422,
            "/distribution/feedDistribution",
            "Must be MAIN_FEED",
        ));
    }
    let content = &post["content"];
    let media = match (content.get("media"), content.get("multiImage")) {
        (Some(media), None) => {
            let Some(id) = media["id"].as_str() else {
                return Err(errors::invalid_input(
                    422,
                    "/content/media/id",
                    "Field is required",
                ));
            };
            check_alt_text(media, "/content/media/altText")?;
            vec![media_of(inner, author, id, "/content/media/id")?]
        }
        (None, Some(multi)) => {
            let images = multi["images"].as_array().cloned().unwrap_or_default();
            if !(2..=MAX_IMAGES).contains(&images.len()) {
                return Err(errors::invalid_input(
                    422,
                    "/content/multiImage/images",
                    &format!("A multi-image post takes 2 to {MAX_IMAGES} images"),
                ));
            }
            let mut media = Vec::new();
            for (i, image) in images.iter().enumerate() {
                let path = format!("/content/multiImage/images/{i}/id");
                let id = image["id"].as_str().unwrap_or("");
                if !id.starts_with("urn:li:image:") {
                    return Err(errors::invalid_input(422, &path, "Must be an image urn"));
                }
                check_alt_text(image, &format!("/content/multiImage/images/{i}/altText"))?;
                media.push(media_of(inner, author, id, &path)?);
            }
            media
        }
        _ => {
            return Err(errors::invalid_input(
                422,
                "/content",
                "Exactly one of media or multiImage is required",
            ))
        }
    };
    Ok((commentary.to_string(), media))
}

/// `altText`, when present, is a string of at most [`MAX_ALT_TEXT_CHARS`] characters.
fn check_alt_text(entry: &Value, path: &str) -> Result<(), Response> {
    match entry.get("altText") {
        None => Ok(()),
        Some(Value::String(text)) if text.chars().count() <= MAX_ALT_TEXT_CHARS => Ok(()),
        Some(_) => Err(errors::invalid_input(
            422,
            path,
            &format!("Must be a string of at most {MAX_ALT_TEXT_CHARS} characters"),
        )),
    }
}

/// The received bytes of a video or image the author owns and that is ready.
fn media_of(inner: &Inner, author: &str, id: &str, path: &str) -> Result<ReceivedMedia, Response> {
    let found = if let Some(video) = inner.videos.get(id) {
        if video.status != VideoStatus::Available {
            return Err(errors::invalid_input(
                422,
                path,
                &format!("Video {id} is {}, not AVAILABLE", video.status.as_str()),
            ));
        }
        Some((video.owner.as_str(), video.received.clone()))
    } else {
        inner
            .images
            .get(id)
            .map(|image| (image.owner.as_str(), image.received.clone()))
    };
    match found {
        None => Err(errors::invalid_input(
            422,
            path,
            &format!("{id} does not exist"),
        )),
        Some((owner, _)) if owner != author => Err(errors::invalid_input(
            422,
            path,
            &format!("{id} belongs to another owner than the post's author"),
        )),
        Some((_, None)) => Err(errors::invalid_input(
            422,
            path,
            &format!("{id} was never uploaded"),
        )),
        Some((_, Some(received))) => Ok(received),
    }
}

#[cfg(test)]
mod tests {
    use super::unescape_little_text;

    #[test]
    fn little_text_needs_escapes() {
        assert_eq!(
            unescape_little_text(r"a \#b \(c\)").as_deref(),
            Ok("a #b (c)")
        );
        assert_eq!(unescape_little_text(r"\\").as_deref(), Ok("\\"));
        assert_eq!(unescape_little_text("a #b"), Err(2));
        assert_eq!(unescape_little_text(r"a \q"), Err(2));
        assert_eq!(unescape_little_text("trailing \\"), Err(9));
    }
}
