//! Framework-agnostic request bodies: `multipart/form-data` (file parts spooled to disk
//! as they arrive) and `application/x-www-form-urlencoded` (every medium a URL).

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Future, Stream, StreamExt};

use crate::api_error::ApiError;
use crate::media::{MediaFile, SpoolError};
use crate::post::FormFields;

/// Limits applied while reading a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// The whole body, files included; beyond it the answer is 413.
    pub max_upload_bytes: u64,
    /// One text field.
    pub max_text_field_bytes: usize,
    /// Number of parts or pairs.
    pub max_fields: usize,
    /// Longest wait for the next piece of the body; a stalled upload gets 408.
    pub idle_timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            max_text_field_bytes: 64 * 1024,
            max_fields: 1000,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// A medium as the client sent it: a spooled file part, or a URL string.
#[derive(Debug, Clone)]
pub enum MediaSource {
    /// A file part, already on disk.
    File(Arc<MediaFile>),
    /// A URL, to be fetched (or handed to a platform that pulls).
    Url(String),
}

/// A parsed request body.
#[derive(Debug, Default)]
pub struct ParsedForm {
    /// Every text field, in order (media fields sent as URLs are not repeated here).
    pub fields: FormFields,
    /// `video` parts.
    pub video: Vec<MediaSource>,
    /// `photos[]` (or `photos`) parts, in order.
    pub photos: Vec<MediaSource>,
}

/// Which form field carries media.
fn media_slot<'a>(form: &'a mut ParsedForm, name: &str) -> Option<&'a mut Vec<MediaSource>> {
    match name {
        "video" => Some(&mut form.video),
        "photos[]" | "photos" => Some(&mut form.photos),
        _ => None,
    }
}

fn too_large(limits: &BodyLimits) -> ApiError {
    ApiError::new(
        413,
        format!(
            "Upload too large: the limit is {} bytes",
            limits.max_upload_bytes
        ),
    )
}

/// Reads a request body into a [`ParsedForm`].
///
/// File parts are spooled into `spool_dir` as they arrive. Errors are the contract's
/// JSON errors: 413 past `max_upload_bytes`, 415 for a body that is neither multipart
/// nor URL-encoded, 400 for a malformed or truncated body.
pub async fn parse_body<S, E>(
    content_type: Option<&str>,
    body: S,
    limits: &BodyLimits,
    spool_dir: &Path,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let exceeded = Arc::new(AtomicBool::new(false));
    let stalled = Arc::new(AtomicBool::new(false));
    let body = CappedBody {
        inner: body,
        remaining: limits.max_upload_bytes,
        exceeded: Arc::clone(&exceeded),
        idle_timeout: limits.idle_timeout,
        idle: Box::pin(tokio::time::sleep(limits.idle_timeout)),
        stalled: Arc::clone(&stalled),
        ended: false,
    };
    let content_type = content_type.map(str::trim).unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parsed = match essence.as_str() {
        "multipart/form-data" => parse_multipart(content_type, body, limits, spool_dir).await,
        "application/x-www-form-urlencoded" => parse_urlencoded(body, limits).await,
        "" => parse_urlencoded(body, limits)
            .await
            .map_err(|_| unsupported()),
        _ => Err(unsupported()),
    };
    if exceeded.load(Ordering::SeqCst) {
        return Err(too_large(limits));
    }
    if stalled.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            408,
            format!(
                "The upload stalled: no data arrived for {} seconds",
                limits.idle_timeout.as_secs()
            ),
        ));
    }
    parsed
}

fn unsupported() -> ApiError {
    ApiError::new(
        415,
        "Unsupported body: send multipart/form-data (or application/x-www-form-urlencoded when every medium is a URL)",
    )
}

fn malformed(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Malformed multipart body: {reason}"))
}

async fn parse_multipart<S, E>(
    content_type: &str,
    body: CappedBody<S>,
    limits: &BodyLimits,
    spool_dir: &Path,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let mut multipart = multer::Multipart::new(body, boundary);
    let mut form = ParsedForm::default();
    let mut count = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        count += 1;
        if count > limits.max_fields {
            return Err(ApiError::bad_request(format!(
                "Too many form fields: at most {} are accepted",
                limits.max_fields
            )));
        }
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let declared = field.content_type().map(|m| m.essence_str().to_string());
            let file = MediaFile::spool(
                spool_dir,
                &mut field,
                limits.max_upload_bytes,
                Some(file_name.clone()),
                declared,
            )
            .await
            .map_err(|e| match e {
                SpoolError::TooLarge { .. } => too_large(limits),
                SpoolError::Source(reason) => malformed(reason),
                SpoolError::Io(err) => {
                    ApiError::internal("Could not store the upload on the server", &err)
                }
            })?;
            if file.is_empty() && file_name.is_empty() {
                continue; // an empty file input: nothing was chosen
            }
            match media_slot(&mut form, &name) {
                Some(slot) => slot.push(MediaSource::File(Arc::new(file))),
                None => continue, // a file in a field fanout does not use: dropped
            }
        } else {
            let text = read_text(&mut field, &name, limits).await?;
            push_text(&mut form, name, text);
        }
    }
    Ok(form)
}

async fn read_text(
    field: &mut multer::Field<'static>,
    name: &str,
    limits: &BodyLimits,
) -> Result<String, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        if buf.len() + chunk.len() > limits.max_text_field_bytes {
            return Err(ApiError::bad_request(format!(
                "Form field `{}` is longer than {} bytes",
                truncate(name),
                limits.max_text_field_bytes
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec()).map_err(|_| {
        ApiError::bad_request(format!(
            "Form field `{}` is not valid UTF-8",
            truncate(name)
        ))
    })
}

fn truncate(name: &str) -> String {
    name.chars().take(64).collect()
}

fn push_text(form: &mut ParsedForm, name: String, value: String) {
    match media_slot(form, &name) {
        Some(slot) => {
            if !value.trim().is_empty() {
                slot.push(MediaSource::Url(value.trim().to_string()));
            }
        }
        None => form.fields.push(name, value),
    }
}

async fn parse_urlencoded<S, E>(
    mut body: CappedBody<S>,
    limits: &BodyLimits,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let cap = limits
        .max_text_field_bytes
        .saturating_mul(16)
        .min(usize::try_from(limits.max_upload_bytes).unwrap_or(usize::MAX));
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("Could not read the request body: {e}")))?;
        if buf.len() + chunk.len() > cap {
            return Err(ApiError::new(
                413,
                format!("URL-encoded form too large: the limit is {cap} bytes; send files as multipart/form-data"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    let mut form = ParsedForm::default();
    for (count, (name, value)) in form_urlencoded::parse(&buf).enumerate() {
        if count >= limits.max_fields {
            return Err(ApiError::bad_request(format!(
                "Too many form fields: at most {} are accepted",
                limits.max_fields
            )));
        }
        if value.len() > limits.max_text_field_bytes {
            return Err(ApiError::bad_request(format!(
                "Form field `{}` is longer than {} bytes",
                truncate(&name),
                limits.max_text_field_bytes
            )));
        }
        push_text(&mut form, name.into_owned(), value.into_owned());
    }
    Ok(form)
}

/// A body stream that ends with an error once more than `remaining` bytes arrive, or
/// when nothing arrives for `idle_timeout`, and says which through its flags.
///
/// It also never reports the end of the body in the same poll of its reader that
/// brought data: after the last chunk it answers `Pending` once (waking itself), then
/// `None`. multer 3.1 checks for the end of the stream without re-reading what the
/// same call just buffered, so a body whose bytes and end arrive together right after
/// a `Pending` (the usual case when the body crosses threads, as in the actix-web
/// adapter) was refused as "incomplete multipart stream".
struct CappedBody<S> {
    inner: S,
    remaining: u64,
    exceeded: Arc<AtomicBool>,
    idle_timeout: Duration,
    idle: Pin<Box<tokio::time::Sleep>>,
    stalled: Arc<AtomicBool>,
    /// Whether the inner stream has ended (reported on the next poll).
    ended: bool,
}

/// The error a [`CappedBody`] yields.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("the body is larger than the upload limit")]
    TooLarge,
    #[error("the body stalled")]
    Stalled,
    #[error("the body could not be read: {0}")]
    Read(String),
}

impl<S, E> Stream for CappedBody<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.exceeded.load(Ordering::SeqCst) || self.stalled.load(Ordering::SeqCst) {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let deadline = tokio::time::Instant::now() + self.idle_timeout;
                self.idle.as_mut().reset(deadline);
                let len = chunk.len() as u64;
                if len > self.remaining {
                    self.exceeded.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(BodyError::TooLarge)));
                }
                self.remaining -= len;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::Read(e.to_string())))),
            Poll::Ready(None) if self.ended => Poll::Ready(None),
            Poll::Ready(None) => {
                self.ended = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.stalled.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(BodyError::Stalled)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn body(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static {
        stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
    }

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[tokio::test]
    async fn multipart_with_repeated_fields_and_url_media() {
        let dir = tempfile::tempdir().unwrap();
        let raw: &'static [u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"platform[]\"\r\n\r\ntiktok\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"platform[]\"\r\n\r\nlinkedin\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photos[]\"\r\n\r\nhttps://example.test/a.jpg\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photos[]\"; filename=\"b.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0abc\r\n\
--XyZ--\r\n";
        let form = parse_body(
            Some(CT),
            body(vec![raw]),
            &BodyLimits::default(),
            dir.path(),
        )
        .await
        .unwrap();
        assert_eq!(form.fields.get("title"), Some("Hello"));
        assert_eq!(
            form.fields.get_all("platform[]").collect::<Vec<_>>(),
            vec!["tiktok", "linkedin"]
        );
        assert_eq!(form.photos.len(), 2);
        assert!(
            matches!(&form.photos[0], MediaSource::Url(u) if u == "https://example.test/a.jpg")
        );
        match &form.photos[1] {
            MediaSource::File(f) => {
                assert_eq!(f.len(), 7);
                assert_eq!(f.content_type(), "image/jpeg");
                assert_eq!(f.file_name(), Some("b.jpg"));
            }
            other => panic!("expected a file, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn truncated_multipart_is_a_400() {
        let dir = tempfile::tempdir().unwrap();
        let raw: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\nabcdef";
        let err = parse_body(
            Some(CT),
            body(vec![raw]),
            &BodyLimits::default(),
            dir.path(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message.starts_with("Malformed multipart body: "),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn oversized_body_is_a_413_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let head: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\n";
        let chunk: &'static [u8] = &[7u8; 4096];
        let limits = BodyLimits {
            max_upload_bytes: 10_000,
            ..BodyLimits::default()
        };
        let err = parse_body(
            Some(CT),
            body(vec![head, chunk, chunk, chunk, chunk]),
            &limits,
            dir.path(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 413);
        assert_eq!(err.message, "Upload too large: the limit is 10000 bytes");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the partial spool file must be gone"
        );
    }

    #[tokio::test]
    async fn urlencoded_media_are_urls() {
        let dir = tempfile::tempdir().unwrap();
        let raw: &'static [u8] =
            b"user=main&title=Hi+there&platform%5B%5D=tiktok&video=https%3A%2F%2Fcdn.test%2Fv.mp4";
        let form = parse_body(
            Some("application/x-www-form-urlencoded"),
            body(vec![raw]),
            &BodyLimits::default(),
            dir.path(),
        )
        .await
        .unwrap();
        assert_eq!(form.fields.get("title"), Some("Hi there"));
        assert_eq!(form.fields.get("platform[]"), Some("tiktok"));
        assert!(matches!(&form.video[..], [MediaSource::Url(u)] if u == "https://cdn.test/v.mp4"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_a_408_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let head: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\nabc";
        let stalled = body(vec![head]).chain(stream::pending());
        let err = parse_body(Some(CT), stalled, &BodyLimits::default(), dir.path())
            .await
            .unwrap_err();
        assert_eq!(err.status, 408);
        assert_eq!(
            err.message,
            "The upload stalled: no data arrived for 60 seconds"
        );
    }

    /// Pending, then the whole body, then its end: multer alone refuses this.
    #[tokio::test]
    async fn a_body_whose_bytes_and_end_arrive_together_after_a_wait_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let whole: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--XyZ--\r\n";
        let mut polls = 0;
        let late = stream::poll_fn(move |cx| {
            polls += 1;
            match polls {
                1 => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                2 => Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from_static(whole)))),
                _ => Poll::Ready(None),
            }
        });
        let form = parse_body(Some(CT), late, &BodyLimits::default(), dir.path())
            .await
            .unwrap();
        assert_eq!(form.fields.get("title"), Some("Hi"));
    }

    #[tokio::test]
    async fn json_is_unsupported() {
        let dir = tempfile::tempdir().unwrap();
        let err = parse_body(
            Some("application/json"),
            body(vec![b"{}"]),
            &BodyLimits::default(),
            dir.path(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 415);
    }

    #[tokio::test]
    async fn missing_boundary_is_a_400() {
        let dir = tempfile::tempdir().unwrap();
        let err = parse_body(
            Some("multipart/form-data"),
            body(vec![b""]),
            &BodyLimits::default(),
            dir.path(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 400);
    }
}
