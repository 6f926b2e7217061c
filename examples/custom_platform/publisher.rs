//! The Postbox publisher: what a plugin author writes, against `fanout_core`'s public
//! API and the `fanout_kit` toolkit only.
//!
//! Postbox is a made-up platform with a two-step API, like most real ones:
//!
//! 1. `POST /v1/media` with the raw bytes of one file → `201 {"media_id": "…"}`
//!    (safe to repeat: an unused medium is discarded by the platform);
//! 2. `POST /v1/posts` with `{"caption", "media_ids", "visibility"}` → `201 {"id": "…"}`
//!    (this call publishes: it is never repeated blindly).
//!
//! Errors are `{"error": {"code", "message"}}` with a status; `401` means the token is
//! no longer valid, `429` carries `Retry-After`.

use std::sync::Arc;

use async_trait::async_trait;
use fanout_core::{
    Capabilities, ErrorKind, MediaFile, PhotoLimits, PublishContext, PublishError, Publisher,
    Receipt, VideoLimits,
};
use fanout_kit::{
    http_client, retry_after, sanitize_platform_message, CallError, Idempotence, Platform,
    PlatformConfig, PlatformDefaults, Session,
};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The platform's id, as clients name it in `platform[]`.
pub const ID: &str = "postbox";
/// Its name, as people write it.
pub const NAME: &str = "Postbox";
/// The form field choosing who sees the post (`public`, the default, or `private`).
pub const VISIBILITY_FIELD: &str = "postbox_visibility";
/// The longest caption Postbox takes.
pub const MAX_CAPTION_CHARS: usize = 280;

/// `[platforms.postbox]`: only the keys every platform shares (`base_url`, timeouts,
/// retry budgets…), with Postbox's defaults.
pub type PostboxConfig = PlatformConfig<PostboxDefaults>;

/// Postbox's defaults for the shared keys.
#[derive(Debug)]
pub struct PostboxDefaults;

impl PlatformDefaults for PostboxDefaults {
    const BASE_URL: &'static str = "https://api.postbox.example/";
    const OAUTH_BASE_URL: &'static str = "https://postbox.example/";
    const SCOPES: &'static [&'static str] = &["post"];
}

/// How fanout speaks for Postbox: its name, its config table and its error mapping.
const PLATFORM: Platform = Platform {
    name: NAME,
    key: ID,
    parse_error,
};

/// Publishes to Postbox.
#[derive(Debug, Clone)]
pub struct PostboxPublisher {
    config: PostboxConfig,
    http: reqwest::Client,
}

impl PostboxPublisher {
    /// A publisher with `config` (point `config.base_url` at a fake in tests).
    pub fn new(config: PostboxConfig) -> Self {
        Self {
            config,
            http: http_client(),
        }
    }

    /// Step 1: uploads one file, answering its media id. Retried by the session's
    /// policy, since it cannot publish anything.
    async fn upload(
        &self,
        session: &Session,
        file: &Arc<MediaFile>,
    ) -> Result<String, PublishError> {
        #[derive(Deserialize)]
        struct Uploaded {
            media_id: String,
        }
        let url = session.url("v1/media")?;
        let answer = session
            .safe(|| {
                let request = session
                    .request(Method::POST, url.clone())
                    .timeout(session.upload_timeout(file.len()))
                    .header(CONTENT_TYPE, file.content_type())
                    .body(reqwest::Body::wrap_stream(file.stream()));
                session.send(request, "the media upload")
            })
            .await?;
        answer
            .json::<Uploaded>()
            .map(|u| u.media_id)
            .ok_or_else(|| PLATFORM.unreadable("the media upload"))
    }

    /// Step 2: publishes the post. A refusal or a request that never arrived is
    /// retried (nothing was published); a lost answer is reported as an unknown
    /// outcome, never repeated.
    async fn create_post(
        &self,
        session: &Session,
        caption: &str,
        media_ids: &[String],
        visibility: &str,
    ) -> Result<String, PublishError> {
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let url = session.url("v1/posts")?;
        let body = json!({"caption": caption, "media_ids": media_ids, "visibility": visibility});
        let answer = session
            .retry()
            .run(|| {
                let request = session.request(Method::POST, url.clone()).json(&body);
                async move {
                    // Refused or never received: retryable as the error says. Lost:
                    // an unknown outcome, which is never retried.
                    session
                        .send(request, "the post")
                        .await
                        .map_err(|err: CallError| err.into_error(Idempotence::Publishing))
                }
            })
            .await?;
        answer
            .json::<Created>()
            .map(|c| c.id)
            .ok_or_else(|| PLATFORM.unreadable("the post"))
    }
}

#[async_trait]
impl Publisher for PostboxPublisher {
    fn id(&self) -> &'static str {
        ID
    }

    fn display_name(&self) -> &'static str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_video(VideoLimits {
                min_bytes: 1,
                max_bytes: 512 << 20,
                formats: vec!["video/mp4"],
            })
            .with_photos(PhotoLimits {
                min_count: 1,
                max_count: 4,
                max_bytes_each: 8 << 20,
                formats: vec!["image/jpeg", "image/png"],
            })
            .with_max_title_chars(MAX_CAPTION_CHARS)
    }

    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        let visibility = match ctx.post.fields.get_trimmed(VISIBILITY_FIELD) {
            None | Some("public") => "public",
            Some("private") => "private",
            Some(other) => {
                return Err(PublishError::rejected(format!(
                    "{VISIBILITY_FIELD} must be public or private, not {:?}",
                    sanitize_platform_message(other)
                )))
            }
        };
        let token = ctx.connection.access_token();
        let session = self.config.session(PLATFORM, &self.http, token);
        let mut media_ids = Vec::new();
        for file in ctx.post.media.files() {
            media_ids.push(self.upload(&session, file).await?);
        }
        // What a resume would need: the post call is next and must not be repeated.
        ctx.checkpoint(json!({"stage": "posting", "media_ids": media_ids}))
            .await?;
        let id = self
            .create_post(&session, &ctx.post.title, &media_ids, visibility)
            .await?;
        Ok(Receipt::new().with("post_id", id))
    }
}

/// Postbox's error answers, mapped once: the kind decides what fanout does (reconnect,
/// wait, retry, give up), the sentence is what a person reads.
fn parse_error(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> PublishError {
    #[derive(Deserialize)]
    struct Envelope {
        error: Detail,
    }
    #[derive(Deserialize)]
    struct Detail {
        code: String,
        #[serde(default)]
        message: String,
    }
    let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(body) else {
        return PLATFORM.from_status(status, headers);
    };
    let said = sanitize_platform_message(&error.message);
    match (status, error.code.as_str()) {
        (401, _) | (_, "token_expired") => PublishError::token_expired(NAME),
        (429, _) | (_, "rate_limited") => PublishError::rate_limited(NAME, retry_after(headers)),
        (s, _) if s >= 500 => PLATFORM.temporary(s),
        (_, "unsupported_media") => PublishError::new(
            ErrorKind::MediaRejected,
            format!("{NAME} refused the media: {said}"),
        ),
        _ => PublishError::rejected(format!("{NAME} refused the post: {said}")),
    }
}
