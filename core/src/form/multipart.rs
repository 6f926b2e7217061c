//! `multipart/form-data` with multer: file parts spooled as they arrive, text parts
//! read under their caps, and every part's headers bounded.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::Stream;

use super::body::{Guard, GuardedBody, Preamble};
use super::{
    field_too_long, malformed, push_text, too_large, truncate, BodyLimits, MediaSource, ParsedForm,
    TextBudget,
};
use crate::api_error::ApiError;
use crate::media::{MediaFile, SpoolError};

/// What a part's boundary line may add to its headers: `--`, a boundary of at most 70
/// characters (RFC 2046), transport padding and line ends.
const BOUNDARY_LINE_ALLOWANCE: u64 = 256;

/// The longest file name kept (in characters); longer ones are cut.
const MAX_FILE_NAME_CHARS: usize = 255;

/// The media field names (files up to `max_upload_bytes`).
const MEDIA_FIELDS: [&str; 3] = ["video", "photos[]", "photos"];

pub(super) async fn parse_multipart<S, E>(
    content_type: &str,
    body: GuardedBody<S>,
    guard: Arc<Guard>,
    limits: &BodyLimits,
    spool_dir: &Path,
) -> Result<ParsedForm, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    if boundary.len() > 70 {
        return Err(malformed("the boundary is longer than 70 characters"));
    }
    let body = body.with_preamble(Preamble::new(&boundary, limits.max_preamble_bytes));
    let text_cap = limits.max_text_field_bytes as u64;
    let mut size_limit = multer::SizeLimit::new()
        .whole_stream(limits.max_upload_bytes)
        .per_field(text_cap);
    for name in MEDIA_FIELDS {
        size_limit = size_limit.for_field(name, limits.max_upload_bytes);
    }
    let constraints = multer::Constraints::new().size_limit(size_limit);
    let mut multipart = multer::Multipart::with_constraints(body, boundary, constraints);
    let mut form = ParsedForm::default();
    let mut budget = TextBudget::new(limits);
    let header_window = limits.max_part_header_bytes as u64 + BOUNDARY_LINE_ALLOWANCE;
    let mut window = header_window + limits.max_preamble_bytes as u64;
    let mut count = 0usize;
    loop {
        // Whatever arrives while multer looks for the next part's headers is bounded.
        guard.open_window(window);
        let next = multipart.next_field().await;
        guard.close_window();
        window = header_window;
        let Some(mut field) = next.map_err(|e| multer_error(e, limits))? else {
            break;
        };
        count += 1;
        if count > limits.max_fields {
            return Err(too_many_fields(limits));
        }
        let part = Part::of(field.headers());
        if part.name_len > limits.max_field_name_bytes {
            return Err(ApiError::new(
                413,
                format!(
                    "A form field name is longer than {} bytes",
                    limits.max_field_name_bytes
                ),
            ));
        }
        let Some(name) = part.name else {
            drain(&mut field, limits).await?; // a part without a usable name: ignored
            continue;
        };
        let media = MEDIA_FIELDS.contains(&name.as_str());
        if part.file_name.is_some() || (media && part.binary) {
            if !media {
                drain(&mut field, limits).await?; // a file fanout does not use: dropped
                continue;
            }
            let file_name = part.file_name.unwrap_or_default();
            let declared = field.content_type().map(|m| m.essence_str().to_string());
            let file = MediaFile::spool(
                spool_dir,
                &mut field,
                limits.max_upload_bytes,
                Some(file_name.clone()).filter(|n| !n.is_empty()),
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
            if let Some(slot) = super::media_slot(&mut form, &name) {
                slot.push(MediaSource::File(Arc::new(file)));
            }
        } else {
            let text = read_text(&mut field, &name, limits, &mut budget).await?;
            push_text(&mut form, name, text);
        }
    }
    Ok(form)
}

fn too_many_fields(limits: &BodyLimits) -> ApiError {
    ApiError::new(
        413,
        format!(
            "Too many form fields: at most {} are accepted",
            limits.max_fields
        ),
    )
}

/// multer's errors in the contract's shape: its size limits are 413s, the rest 400s.
fn multer_error(err: multer::Error, limits: &BodyLimits) -> ApiError {
    match err {
        multer::Error::FieldSizeExceeded { limit, field_name } => {
            field_too_long(field_name.as_deref().unwrap_or(""), limit)
        }
        multer::Error::StreamSizeExceeded { .. } => too_large(limits),
        other => malformed(other),
    }
}

/// Reads and discards a part (its size is capped by multer's per-field limit).
async fn drain(field: &mut multer::Field<'static>, limits: &BodyLimits) -> Result<(), ApiError> {
    while field
        .chunk()
        .await
        .map_err(|e| multer_error(e, limits))?
        .is_some()
    {}
    Ok(())
}

async fn read_text(
    field: &mut multer::Field<'static>,
    name: &str,
    limits: &BodyLimits,
    budget: &mut TextBudget,
) -> Result<String, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multer_error(e, limits))? {
        if buf.len() + chunk.len() > limits.max_text_field_bytes {
            return Err(field_too_long(name, limits.max_text_field_bytes as u64));
        }
        budget.take(chunk.len())?;
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec()).map_err(|_| {
        ApiError::bad_request(format!(
            "Form field `{}` is not valid UTF-8",
            truncate(name)
        ))
    })
}

/// What a part's headers say about it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Part {
    /// The `name` parameter, when it is valid UTF-8.
    name: Option<String>,
    /// The `name` parameter's length in bytes (0 when absent).
    name_len: usize,
    /// The file name from `filename*` (RFC 8187) or `filename` (any bytes, read
    /// leniently): present means the part is a file.
    file_name: Option<String>,
    /// A `Content-Type` that is not `text/*`.
    binary: bool,
}

impl Part {
    fn of(headers: &http::HeaderMap) -> Self {
        let mut part = Self {
            binary: headers
                .get(http::header::CONTENT_TYPE)
                .map(|v| v.as_bytes())
                .is_some_and(|v| {
                    let v = v.trim_ascii();
                    !v.is_empty() && !v.to_ascii_lowercase().starts_with(b"text/")
                }),
            ..Self::default()
        };
        let Some(disposition) = headers.get(http::header::CONTENT_DISPOSITION) else {
            return part;
        };
        let mut plain_file_name = None;
        let mut extended_file_name = None;
        for (key, value) in parameters(disposition.as_bytes()) {
            if key.eq_ignore_ascii_case(b"name") {
                part.name_len = value.len();
                part.name = String::from_utf8(value.into_owned()).ok();
            } else if key.eq_ignore_ascii_case(b"filename") {
                plain_file_name = Some(String::from_utf8_lossy(&value).into_owned());
            } else if key.eq_ignore_ascii_case(b"filename*") {
                extended_file_name = Some(extended_value(&value));
            }
        }
        part.file_name = extended_file_name
            .or(plain_file_name)
            .map(|name| name.chars().take(MAX_FILE_NAME_CHARS).collect());
        part
    }
}

/// The `key=value` parameters after the disposition type, values unquoted
/// (`\"` unescaped). Unquoted values run to the next `;`.
fn parameters(header: &[u8]) -> Vec<(&[u8], Cow<'_, [u8]>)> {
    let mut out = Vec::new();
    let mut rest = match header.iter().position(|b| *b == b';') {
        Some(i) => &header[i + 1..],
        None => return out,
    };
    loop {
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            return out;
        }
        let key_end = rest
            .iter()
            .position(|b| *b == b'=' || *b == b';')
            .unwrap_or(rest.len());
        let key = rest[..key_end].trim_ascii();
        if key_end == rest.len() || rest[key_end] == b';' {
            rest = rest.get(key_end + 1..).unwrap_or(&[]);
            continue; // a parameter without a value
        }
        rest = rest[key_end + 1..].trim_ascii_start();
        let value: Cow<'_, [u8]>;
        if let Some(quoted) = rest.strip_prefix(b"\"") {
            let mut unescaped: Option<Vec<u8>> = None;
            let mut i = 0;
            let mut end = quoted.len();
            while i < quoted.len() {
                match quoted[i] {
                    b'\\' if i + 1 < quoted.len() => {
                        let buf = unescaped.get_or_insert_with(|| quoted[..i].to_vec());
                        buf.push(quoted[i + 1]);
                        i += 2;
                        continue;
                    }
                    b'"' => {
                        end = i;
                        break;
                    }
                    b => {
                        if let Some(buf) = unescaped.as_mut() {
                            buf.push(b);
                        }
                    }
                }
                i += 1;
            }
            value = match unescaped {
                Some(buf) => Cow::Owned(buf),
                None => Cow::Borrowed(&quoted[..end]),
            };
            rest = quoted.get(end + 1..).unwrap_or(&[]);
            rest = match rest.iter().position(|b| *b == b';') {
                Some(i) => &rest[i + 1..],
                None => &[],
            };
        } else {
            let end = rest.iter().position(|b| *b == b';').unwrap_or(rest.len());
            value = Cow::Borrowed(rest[..end].trim_ascii());
            rest = rest.get(end + 1..).unwrap_or(&[]);
        }
        out.push((key, value));
    }
}

/// An RFC 8187 extended value, `charset'language'percent-encoded`, as text: UTF-8 and
/// ISO-8859-1 decoded, anything else read leniently as UTF-8.
fn extended_value(value: &[u8]) -> String {
    let mut pieces = value.splitn(3, |b| *b == b'\'');
    let (charset, encoded) = match (pieces.next(), pieces.next(), pieces.next()) {
        (Some(charset), Some(_language), Some(encoded)) => (charset, encoded),
        _ => (&b""[..], value),
    };
    let bytes: Vec<u8> = percent_decode(encoded);
    if charset.eq_ignore_ascii_case(b"iso-8859-1") {
        bytes.iter().map(|b| char::from(*b)).collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn percent_decode(encoded: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            if let (Some(hi), Some(lo)) = (
                encoded.get(i + 1).and_then(|b| hex(*b)),
                encoded.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(encoded[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(disposition: &[u8], content_type: Option<&str>) -> Part {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_DISPOSITION,
            http::HeaderValue::from_bytes(disposition).unwrap(),
        );
        if let Some(ct) = content_type {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_str(ct).unwrap(),
            );
        }
        Part::of(&headers)
    }

    #[test]
    fn dispositions() {
        let p = part(b"form-data; name=\"video\"; filename=\"a b.mp4\"", None);
        assert_eq!(p.name.as_deref(), Some("video"));
        assert_eq!(p.file_name.as_deref(), Some("a b.mp4"));
        assert!(!p.binary);

        let p = part(b"form-data; name=title", Some("text/plain; charset=utf-8"));
        assert_eq!(
            (p.name.as_deref(), p.file_name, p.binary),
            (Some("title"), None, false)
        );

        // RFC 8187 wins over the plain name; a plain name may be any bytes.
        let p = part(
            b"form-data; name=\"video\"; filename=\"x.mp4\"; filename*=UTF-8''%E2%82%AC%20rates.mp4",
            None,
        );
        assert_eq!(p.file_name.as_deref(), Some("€ rates.mp4"));
        let p = part(
            b"form-data; filename*=iso-8859-1'en'%A3.mp4; name=\"video\"",
            None,
        );
        assert_eq!(p.file_name.as_deref(), Some("£.mp4"));
        assert_eq!(p.name.as_deref(), Some("video"));
        let p = part(b"form-data; name=\"video\"; filename=\"caf\xe9.mp4\"", None);
        assert_eq!(p.file_name.as_deref(), Some("caf\u{fffd}.mp4"));

        // Quoted values keep `;` and unescape `\"`.
        let p = part(
            br#"form-data; name="a;b\"c"; filename="""#,
            Some("video/mp4"),
        );
        assert_eq!(p.name.as_deref(), Some("a;b\"c"));
        assert_eq!(p.file_name.as_deref(), Some(""));
        assert!(p.binary);

        // A name that is not UTF-8 is no name, but its length counts.
        let p = part(b"form-data; name=\"\xff\xfe\"", None);
        assert_eq!((p.name, p.name_len), (None, 2));

        // Garbage does not panic.
        for raw in [
            &b"form-data; ="[..],
            b";;;",
            b"form-data; name=\"",
            b"; filename*=''%",
        ] {
            let _ = part(raw, None);
        }
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode(b"a%20b%zz%4"), b"a b%zz%4");
        assert_eq!(percent_decode(b"%41%4a"), b"AJ");
    }
}
