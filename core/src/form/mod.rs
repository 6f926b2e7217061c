//! Framework-agnostic request bodies: `multipart/form-data` (file parts spooled to disk
//! as they arrive) and `application/x-www-form-urlencoded` (every medium a URL).
//!
//! Every parser is linear and bounded ([`BodyLimits`]): the body as a whole, each text
//! field, all text together, the number of fields, a field name, a multipart part's
//! headers and the preamble before the first boundary have caps, and a body past any
//! of them is refused at once (413) without reading the rest. A body that stalls, or
//! that arrives slower than the total deadline allows, is refused with 408.
//!
//! Modules: `body` (the capped, timed body stream), `multipart` (multer, parts and
//! their `Content-Disposition`).

mod body;
mod multipart;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use crate::api_error::ApiError;
use crate::media::MediaFile;
use crate::post::FormFields;

use body::{Guard, GuardedBody, Stop};

/// Limits applied while reading a body. Start from [`BodyLimits::default`] and change
/// what you need.
///
/// ```
/// let mut limits = fanout_core::form::BodyLimits::default();
/// limits.max_upload_bytes = 100 * 1024 * 1024;
/// // The slowest a whole upload of the largest size may take.
/// assert_eq!(
///     limits.total_deadline(None).as_secs(),
///     60 + 100 * 1024 * 1024 / limits.min_upload_rate
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyLimits {
    /// The whole body, files included; beyond it the answer is 413 (at once when the
    /// request declares a larger `Content-Length`).
    pub max_upload_bytes: u64,
    /// One text field (64 KiB); beyond it 413.
    pub max_text_field_bytes: usize,
    /// All text fields together, and a whole URL-encoded body (1 MiB); beyond it 413.
    pub max_text_bytes: usize,
    /// Number of parts or pairs (256); beyond it 413.
    pub max_fields: usize,
    /// A field's name, in bytes (256); beyond it 413.
    pub max_field_name_bytes: usize,
    /// The headers of one multipart part (8 KiB); beyond it 413.
    pub max_part_header_bytes: usize,
    /// What may come before a multipart body's first boundary (4 KiB); beyond it 413.
    pub max_preamble_bytes: usize,
    /// Longest wait for the next piece of the body; a stalled upload gets 408.
    pub idle_timeout: Duration,
    /// The slowest accepted upload, in bytes per second (1 MiB/s): a body must arrive
    /// within [`BodyLimits::total_deadline`], else 408. `0` turns the deadline off.
    pub min_upload_rate: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            max_text_field_bytes: 64 * 1024,
            max_text_bytes: 1024 * 1024,
            max_fields: 256,
            max_field_name_bytes: 256,
            max_part_header_bytes: 8 * 1024,
            max_preamble_bytes: 4 * 1024,
            idle_timeout: Duration::from_secs(60),
            min_upload_rate: 1024 * 1024,
        }
    }
}

impl BodyLimits {
    /// How long a whole body may take to arrive: the idle timeout, plus the declared
    /// length (`Content-Length`, at most `max_upload_bytes`; `max_upload_bytes` when
    /// none is declared) at `min_upload_rate`. The idle timeout still applies on top:
    /// a body that stalls is refused sooner.
    pub fn total_deadline(&self, declared_len: Option<u64>) -> Duration {
        if self.min_upload_rate == 0 {
            return Duration::MAX;
        }
        let len = declared_len
            .unwrap_or(self.max_upload_bytes)
            .min(self.max_upload_bytes);
        let secs = len.div_ceil(self.min_upload_rate);
        self.idle_timeout.saturating_add(Duration::from_secs(secs))
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

fn field_too_long(name: &str, limit: u64) -> ApiError {
    ApiError::new(
        413,
        format!(
            "Form field `{}` is longer than {limit} bytes",
            truncate(name)
        ),
    )
}

/// What the text fields of one body may still take.
struct TextBudget {
    left: usize,
    limit: usize,
}

impl TextBudget {
    fn new(limits: &BodyLimits) -> Self {
        Self {
            left: limits.max_text_bytes,
            limit: limits.max_text_bytes,
        }
    }

    fn take(&mut self, len: usize) -> Result<(), ApiError> {
        self.left = self.left.checked_sub(len).ok_or_else(|| {
            ApiError::new(
                413,
                format!(
                    "Too much text: the form fields may hold {} bytes together",
                    self.limit
                ),
            )
        })?;
        Ok(())
    }
}

/// Reads a request body into a [`ParsedForm`].
///
/// File parts are spooled into `spool_dir` as they arrive. `declared_len` is the
/// request's `Content-Length`, if any: past `max_upload_bytes` the answer is 413 before
/// a byte is read, and it sets the total deadline ([`BodyLimits::total_deadline`]).
/// Errors are the contract's JSON errors: 413 past any cap of [`BodyLimits`], 408 for
/// a body that stalls or arrives too slowly, 415 for a body that is neither multipart
/// nor URL-encoded, 400 for a malformed or truncated body.
pub async fn parse_body<S, E>(
    content_type: Option<&str>,
    declared_len: Option<u64>,
    body: S,
    limits: &BodyLimits,
    spool_dir: &Path,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    if declared_len.is_some_and(|len| len > limits.max_upload_bytes) {
        return Err(too_large(limits));
    }
    let guard = Guard::new();
    let total = limits.total_deadline(declared_len);
    let body = GuardedBody::new(
        body,
        Arc::clone(&guard),
        limits.max_upload_bytes,
        limits.idle_timeout,
        total,
    );
    let content_type = content_type.map(str::trim).unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parsed = match essence.as_str() {
        "multipart/form-data" => {
            multipart::parse_multipart(content_type, body, Arc::clone(&guard), limits, spool_dir)
                .await
        }
        "application/x-www-form-urlencoded" => parse_urlencoded(body, limits).await,
        "" => parse_urlencoded(body, limits)
            .await
            .map_err(|_| unsupported()),
        _ => Err(unsupported()),
    };
    match guard.stopped() {
        None => parsed,
        Some(Stop::TooLarge) => Err(too_large(limits)),
        Some(Stop::Stalled) => Err(ApiError::new(
            408,
            format!(
                "The upload stalled: no data arrived for {} seconds",
                limits.idle_timeout.as_secs()
            ),
        )),
        Some(Stop::TooSlow) => Err(ApiError::new(
            408,
            format!(
                "The upload was too slow: it must arrive within {} seconds (at least {} bytes per second)",
                total.as_secs(),
                limits.min_upload_rate
            ),
        )),
        Some(Stop::PartHeaders) => Err(ApiError::new(
            413,
            format!(
                "Multipart part headers are longer than {} bytes",
                limits.max_part_header_bytes
            ),
        )),
        Some(Stop::Preamble) => Err(ApiError::new(
            413,
            format!(
                "Malformed multipart body: no boundary within the first {} bytes",
                limits.max_preamble_bytes
            ),
        )),
    }
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

/// A field name as shown in a message: at most 64 characters.
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
    mut body: GuardedBody<S>,
    limits: &BodyLimits,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let cap = limits
        .max_text_bytes
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
            return Err(ApiError::new(
                413,
                format!(
                    "Too many form fields: at most {} are accepted",
                    limits.max_fields
                ),
            ));
        }
        if name.len() > limits.max_field_name_bytes {
            return Err(ApiError::new(
                413,
                format!(
                    "A form field name is longer than {} bytes",
                    limits.max_field_name_bytes
                ),
            ));
        }
        if value.len() > limits.max_text_field_bytes {
            return Err(field_too_long(&name, limits.max_text_field_bytes as u64));
        }
        push_text(&mut form, name.into_owned(), value.into_owned());
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use std::task::Poll;

    fn body(
        parts: Vec<&'static [u8]>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static {
        stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
    }

    const CT: &str = "multipart/form-data; boundary=XyZ";

    /// Parses `body`, sent as `content_type`, with the default limits (spooling into a
    /// directory removed afterwards).
    async fn parse(
        content_type: &str,
        body: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static,
    ) -> Result<ParsedForm, ApiError> {
        let dir = tempfile::tempdir().unwrap();
        let limits = BodyLimits::default();
        parse_body(Some(content_type), None, body, &limits, dir.path()).await
    }

    #[tokio::test]
    async fn multipart_with_repeated_fields_and_url_media() {
        let raw: &'static [u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"platform[]\"\r\n\r\ntiktok\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"platform[]\"\r\n\r\nlinkedin\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photos[]\"\r\n\r\nhttps://example.test/a.jpg\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"photos[]\"; filename=\"b.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0abc\r\n\
--XyZ--\r\n";
        let form = parse(CT, body(vec![raw])).await.unwrap();
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
        let raw: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\nabcdef";
        let err = parse(CT, body(vec![raw])).await.unwrap_err();
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
            None,
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
        let raw: &'static [u8] =
            b"user=main&title=Hi+there&platform%5B%5D=tiktok&video=https%3A%2F%2Fcdn.test%2Fv.mp4";
        let form = parse("application/x-www-form-urlencoded", body(vec![raw]))
            .await
            .unwrap();
        assert_eq!(form.fields.get("title"), Some("Hi there"));
        assert_eq!(form.fields.get("platform[]"), Some("tiktok"));
        assert!(matches!(&form.video[..], [MediaSource::Url(u)] if u == "https://cdn.test/v.mp4"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_a_408_not_a_hang() {
        let head: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\nabc";
        let stalled = body(vec![head]).chain(stream::pending());
        let err = parse(CT, stalled).await.unwrap_err();
        assert_eq!(err.status, 408);
        assert_eq!(
            err.message,
            "The upload stalled: no data arrived for 60 seconds"
        );
    }

    /// Pending, then the whole body, then its end: multer alone refuses this.
    #[tokio::test]
    async fn a_body_whose_bytes_and_end_arrive_together_after_a_wait_is_read() {
        let whole: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--XyZ--\r\n";
        let late = cut_body(vec![(true, Bytes::from_static(whole))]);
        let form = parse(CT, late).await.unwrap();
        assert_eq!(form.fields.get("title"), Some("Hi"));
    }

    #[tokio::test]
    async fn json_is_unsupported() {
        let err = parse("application/json", body(vec![b"{}"]))
            .await
            .unwrap_err();
        assert_eq!(err.status, 415);
    }

    #[tokio::test]
    async fn missing_boundary_is_a_400() {
        let err = parse("multipart/form-data", body(vec![b""]))
            .await
            .unwrap_err();
        assert_eq!(err.status, 400);
    }

    /// A body of `len` bytes `byte`, in 8 KiB chunks, after `head`; counts how many
    /// chunks were pulled.
    fn endless(
        head: &'static [u8],
        byte: u8,
        pulled: Arc<std::sync::atomic::AtomicUsize>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static {
        let chunk = Bytes::from(vec![byte; 8 * 1024]);
        stream::iter([Ok(Bytes::from_static(head))]).chain(stream::repeat_with(move || {
            pulled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(chunk.clone())
        }))
    }

    #[tokio::test]
    async fn part_headers_that_never_end_are_a_413_after_a_few_kilobytes() {
        let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let head: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\nX-Pad: ";
        let err = parse(CT, endless(head, b'a', Arc::clone(&pulled)))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (413, "Multipart part headers are longer than 8192 bytes")
        );
        // The preamble's 4 KiB and the headers' 8 KiB, and the spare piece.
        assert!(pulled.load(std::sync::atomic::Ordering::SeqCst) <= 4);

        // The same after a first, complete part.
        let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let head: &'static [u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\nX-Pad: ";
        let err = parse(CT, endless(head, b'a', Arc::clone(&pulled)))
            .await
            .unwrap_err();
        assert_eq!(err.status, 413, "{}", err.message);
        // The headers' 8 KiB, the spare piece, and one chunk read ahead while the
        // first part was read.
        assert!(pulled.load(std::sync::atomic::Ordering::SeqCst) <= 5);
    }

    #[tokio::test]
    async fn a_boundary_that_never_comes_is_a_413_after_the_preamble_cap() {
        let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let err = parse(CT, endless(b"", b'-', Arc::clone(&pulled)))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (
                413,
                "Malformed multipart body: no boundary within the first 4096 bytes"
            )
        );
        assert!(pulled.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }

    fn text_parts(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut raw = Vec::new();
        for (name, value) in fields {
            raw.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        raw.extend_from_slice(b"--XyZ--\r\n");
        raw
    }

    async fn parse_raw(raw: Vec<u8>, limits: &BodyLimits) -> Result<ParsedForm, ApiError> {
        let dir = tempfile::tempdir().unwrap();
        let body = stream::iter([Ok::<_, std::io::Error>(Bytes::from(raw))]);
        parse_body(Some(CT), None, body, limits, dir.path()).await
    }

    #[tokio::test]
    async fn counts_names_and_text_have_caps() {
        let limits = BodyLimits::default();
        let many: Vec<(&str, &str)> = vec![("a", "b"); 257];
        let err = parse_raw(text_parts(&many), &limits).await.unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (413, "Too many form fields: at most 256 are accepted")
        );
        let long_name = "n".repeat(257);
        let err = parse_raw(text_parts(&[(&long_name, "x")]), &limits)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (413, "A form field name is longer than 256 bytes")
        );
        let big = "v".repeat(64 * 1024 + 1);
        let err = parse_raw(text_parts(&[("title", &big)]), &limits)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (413, "Form field `title` is longer than 65536 bytes")
        );
        let full = "v".repeat(64 * 1024);
        let seventeen: Vec<(&str, &str)> = vec![("description", full.as_str()); 17];
        let err = parse_raw(text_parts(&seventeen), &limits)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (
                413,
                "Too much text: the form fields may hold 1048576 bytes together"
            )
        );
        let sixteen: Vec<(&str, &str)> = vec![("description", full.as_str()); 15];
        assert!(parse_raw(text_parts(&sixteen), &limits).await.is_ok());

        let encoded = format!("{}=1", "n".repeat(257));
        let dir = tempfile::tempdir().unwrap();
        let err = parse_body(
            Some("application/x-www-form-urlencoded"),
            None,
            stream::iter([Ok::<_, std::io::Error>(Bytes::from(encoded))]),
            &limits,
            dir.path(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 413);
    }

    #[tokio::test]
    async fn file_names_that_are_not_utf8_or_extended_keep_the_file_a_file() {
        for disposition in [
            &b"form-data; name=\"video\"; filename=\"clip\xe9.mp4\""[..],
            b"form-data; name=\"video\"; filename*=UTF-8''%E2%82%AC.mp4",
            b"form-data; filename*=utf-8''x.mp4; name=\"video\"",
        ] {
            let mut raw = b"--XyZ\r\nContent-Disposition: ".to_vec();
            raw.extend_from_slice(disposition);
            raw.extend_from_slice(
                b"\r\nContent-Type: video/mp4\r\n\r\n\x00\xff\xfe binary\r\n--XyZ--\r\n",
            );
            let form = parse_raw(raw, &BodyLimits::default()).await.unwrap();
            match &form.video[..] {
                [MediaSource::File(file)] => assert_eq!(file.len(), 10),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(disposition)),
            }
        }
        let raw = b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename*=UTF-8''%E2%82%AC.mp4\r\n\r\nx\r\n--XyZ--\r\n".to_vec();
        let form = parse_raw(raw, &BodyLimits::default()).await.unwrap();
        let [MediaSource::File(file)] = &form.video[..] else {
            panic!("a file")
        };
        assert_eq!(file.file_name(), Some("€.mp4"));
    }

    #[tokio::test]
    async fn files_in_unused_fields_are_dropped_unspooled() {
        let dir = tempfile::tempdir().unwrap();
        let raw: &'static [u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"t.jpg\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--XyZ--\r\n";
        let form = parse(CT, body(vec![raw])).await.unwrap();
        assert_eq!(form.fields.get("title"), Some("Hi"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_declared_length_past_the_cap_is_a_413_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let limits = BodyLimits {
            max_upload_bytes: 1000,
            ..BodyLimits::default()
        };
        let never = stream::poll_fn(|_| -> Poll<Option<Result<Bytes, std::io::Error>>> {
            panic!("the body must not be read")
        });
        let err = parse_body(Some(CT), Some(1001), never, &limits, dir.path())
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (413, "Upload too large: the limit is 1000 bytes")
        );
    }

    /// One byte every half second never stalls, and still ends at the total deadline:
    /// the idle timeout plus the declared length at the minimum rate.
    #[tokio::test(start_paused = true)]
    async fn a_trickling_upload_is_a_408_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let limits = BodyLimits {
            max_upload_bytes: 10_000,
            idle_timeout: Duration::from_secs(2),
            min_upload_rate: 1000,
            ..BodyLimits::default()
        };
        assert_eq!(limits.total_deadline(Some(3000)), Duration::from_secs(5));
        assert_eq!(limits.total_deadline(None), Duration::from_secs(12));
        let head: &'static [u8] =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\n";
        let trickle = body(vec![head]).chain(Box::pin(stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some((Ok(Bytes::from_static(b"x")), ()))
        })));
        let started = tokio::time::Instant::now();
        let err = parse_body(Some(CT), Some(3000), trickle, &limits, dir.path())
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.message.as_str()),
            (
                408,
                "The upload was too slow: it must arrive within 5 seconds (at least 1000 bytes per second)"
            )
        );
        assert_eq!(started.elapsed().as_secs(), 5);
    }

    /// A body as the official Python client sends it: text fields, then two files.
    fn client_like_body() -> Bytes {
        let mut raw = Vec::new();
        for (name, value) in [
            ("title", "Hello"),
            ("user", "acme"),
            ("platform[]", "tiktok"),
            ("platform[]", "instagram"),
            ("platform[]", "linkedin"),
        ] {
            raw.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (i, len) in [80_000usize, 60_000].into_iter().enumerate() {
            raw.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"photos[]\"; filename=\"p{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                    .as_bytes(),
            );
            raw.extend(std::iter::repeat_n(b'j', len));
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"--XyZ--\r\n");
        Bytes::from(raw)
    }

    /// `chunks` in order, each `(wait_first, bytes)`: a wait answers `Pending` once.
    fn cut_body(
        chunks: Vec<(bool, Bytes)>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static {
        let mut chunks = chunks.into_iter();
        let mut waiting: Option<Bytes> = None;
        stream::poll_fn(move |cx| {
            if let Some(chunk) = waiting.take() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            match chunks.next() {
                Some((true, chunk)) => {
                    waiting = Some(chunk);
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some((false, chunk)) => Poll::Ready(Some(Ok(chunk))),
                None => Poll::Ready(None),
            }
        })
    }

    /// The cut that made the Python client's upload through actix-web fail with "part
    /// headers are longer than 8192 bytes": a wait, then a first chunk larger than the
    /// header window. multer reads that chunk while looking for the first boundary,
    /// then reads once more before it looks at it.
    #[tokio::test]
    async fn a_wait_then_large_chunks_is_read() {
        let raw = client_like_body();
        let chunks = vec![(true, raw.slice(..62_787)), (false, raw.slice(62_787..))];
        let form = parse(CT, cut_body(chunks)).await.unwrap();
        assert_eq!(form.fields.get_all("platform[]").count(), 3);
        assert_eq!(form.photos.len(), 2);
    }

    /// Whatever the cut and the waits, a legitimate body is read whole.
    #[tokio::test]
    async fn any_cut_of_a_client_body_is_read() {
        let raw = client_like_body();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..120 {
            let max = [700usize, 9_000, 70_000, 200_000][round % 4];
            let mut chunks = Vec::new();
            let mut at = 0;
            while at < raw.len() {
                let len = (next() as usize % max + 1).min(raw.len() - at);
                chunks.push((next() % 3 == 0, raw.slice(at..at + len)));
                at += len;
            }
            let form = parse(CT, cut_body(chunks))
                .await
                .unwrap_or_else(|e| panic!("round {round} (chunks up to {max}): {}", e.message));
            assert_eq!(form.photos.len(), 2, "round {round}");
            let [MediaSource::File(first), MediaSource::File(second)] = &form.photos[..] else {
                panic!("two files in round {round}")
            };
            assert_eq!(
                (first.len(), second.len()),
                (80_000, 60_000),
                "round {round}"
            );
        }
    }
}
