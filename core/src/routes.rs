//! fanout's HTTP surface, described once: every route's method and path, the request
//! headers and query fields it reads, how it reads its body, and one [`dispatch`] that
//! turns a request into the engine call and its [`Reply`].
//!
//! An adapter (axum, actix-web) registers each entry of [`ROUTES`] with its framework,
//! hands [`dispatch`] a [`RouteRequest`] (the route, the path parameters, the raw query
//! string, the headers named in [`REQUEST_HEADERS`] and the body as a byte stream) and
//! writes the [`Reply`] back: a status, headers and either complete bytes or a sized
//! stream. It holds no other logic, so two adapters cannot answer differently.
//!
//! | method | path | route |
//! |---|---|---|
//! | `POST` | `/api/upload` | [`Route::UploadVideo`] |
//! | `POST` | `/api/upload_photos` | [`Route::UploadPhotos`] |
//! | `GET` | `/media/{token}` | [`Route::Media`] |
//! | `GET` | `/api/connect/{platform}` | [`Route::ConnectStart`] |
//! | `GET` | `/api/connect/{platform}/callback` | [`Route::ConnectCallback`] |
//! | `GET` | `/api/uploadposts/status` | [`Route::Status`] |
//! | `GET` | `/api/uploadposts/history` | [`Route::History`] |
//! | `GET` | `/api/uploadposts/schedule` | [`Route::ScheduleList`] |
//! | `DELETE` | `/api/uploadposts/schedule/{job_id}` | [`Route::ScheduleCancel`] |
//! | `PATCH` | `/api/uploadposts/schedule/{job_id}` | [`Route::ScheduleEdit`] |
//! | `POST` | `/api/uploadposts/posts/retry` | [`Route::Retry`] |
//! | `GET` | `/healthz` | [`Route::Health`] |
//! | `GET` | `/readyz` | [`Route::Ready`] |
//!
//! Paths are relative to wherever the routes are mounted (`/` or a prefix such as
//! `/fanout`); `public_base_url` must then end with that prefix, since media links and
//! OAuth callbacks are built on it.

use std::collections::HashMap;
use std::fmt::Display;
use std::io;
use std::ops::Range;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::json;

use crate::api_error::{ApiError, ApiResponse};
use crate::engine::{Endpoint, Engine, UploadRequest};

/// The largest body the JSON routes (schedule edit, retry) read; beyond it they answer
/// 413 before anything else.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// One route of the HTTP surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /api/upload`: one video to many platforms.
    UploadVideo,
    /// `POST /api/upload_photos`: one or more photos to many platforms.
    UploadPhotos,
    /// `GET /media/{token}`: hosted media that platforms pull (ranges allowed).
    Media,
    /// `GET /api/connect/{platform}?user=<profile>`: 302 to the platform's consent page.
    ConnectStart,
    /// `GET /api/connect/{platform}/callback`: the OAuth callback.
    ConnectCallback,
    /// `GET /api/uploadposts/status?request_id=…` or `?job_id=…`.
    Status,
    /// `GET /api/uploadposts/history?page=&limit=`.
    History,
    /// `GET /api/uploadposts/schedule`: scheduled posts that have not started.
    ScheduleList,
    /// `DELETE /api/uploadposts/schedule/{job_id}`: cancels one, refunding its upload.
    ScheduleCancel,
    /// `PATCH /api/uploadposts/schedule/{job_id}`: edits its date, zone, title, caption.
    ScheduleEdit,
    /// `POST /api/uploadposts/posts/retry`: re-runs the failed platforms of a job.
    Retry,
    /// `GET /healthz`: the process is up (for load balancers' liveness checks).
    Health,
    /// `GET /readyz`: the stores answer and their schema is current; 503 otherwise.
    Ready,
}

/// The HTTP methods the routes use. A `GET` route answers `HEAD` as well (the same
/// status and headers, no body), as axum does on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (and `HEAD`).
    Get,
    /// `POST`.
    Post,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// How a route reads its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    /// Not at all.
    Ignored,
    /// Streamed into the engine, which enforces `max_upload_bytes` as it reads: never
    /// buffer it (uploads can be gigabytes).
    Upload,
    /// A JSON object of at most [`JSON_BODY_LIMIT`] bytes.
    Json,
}

/// One entry of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Which route.
    pub route: Route,
    /// Its method.
    pub method: Method,
    /// Its path, with `{name}` parameters (the syntax of axum 0.8 and actix-web 4).
    pub path: &'static str,
    /// The query fields it reads.
    pub query: &'static [&'static str],
    /// How it reads its body.
    pub body: BodyUse,
}

const fn spec(
    route: Route,
    method: Method,
    path: &'static str,
    query: &'static [&'static str],
    body: BodyUse,
) -> RouteSpec {
    RouteSpec {
        route,
        method,
        path,
        query,
        body,
    }
}

/// Every route, in [`Route`]'s order. Entries that share a path are adjacent.
#[rustfmt::skip]
pub const ROUTES: [RouteSpec; 13] = [
    spec(Route::UploadVideo,     Method::Post,   "/api/upload",                        &[],                         BodyUse::Upload),
    spec(Route::UploadPhotos,    Method::Post,   "/api/upload_photos",                 &[],                         BodyUse::Upload),
    spec(Route::Media,           Method::Get,    "/media/{token}",                     &[],                         BodyUse::Ignored),
    spec(Route::ConnectStart,    Method::Get,    "/api/connect/{platform}",            &["user"],                   BodyUse::Ignored),
    spec(Route::ConnectCallback, Method::Get,    "/api/connect/{platform}/callback",   &["code", "state", "error"], BodyUse::Ignored),
    spec(Route::Status,          Method::Get,    "/api/uploadposts/status",            &["request_id", "job_id"],   BodyUse::Ignored),
    spec(Route::History,         Method::Get,    "/api/uploadposts/history",           &["page", "limit"],          BodyUse::Ignored),
    spec(Route::ScheduleList,    Method::Get,    "/api/uploadposts/schedule",          &[],                         BodyUse::Ignored),
    spec(Route::ScheduleCancel,  Method::Delete, "/api/uploadposts/schedule/{job_id}", &[],                         BodyUse::Ignored),
    spec(Route::ScheduleEdit,    Method::Patch,  "/api/uploadposts/schedule/{job_id}", &[],                         BodyUse::Json),
    spec(Route::Retry,           Method::Post,   "/api/uploadposts/posts/retry",       &[],                         BodyUse::Json),
    spec(Route::Health,          Method::Get,    "/healthz",                           &[],                         BodyUse::Ignored),
    spec(Route::Ready,           Method::Get,    "/readyz",                            &[],                         BodyUse::Ignored),
];

impl Route {
    /// This route's entry in [`ROUTES`].
    pub fn spec(self) -> &'static RouteSpec {
        // The table lists the routes in the enum's order (a test checks it).
        &ROUTES[self as usize]
    }
}

/// The request headers the routes read, lower case. Adapters pass these and no others.
pub const REQUEST_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "x-request-id",
    "idempotency-key",
    "x-idempotency-key",
    "range",
    "content-length",
];

/// Headers every response carries, whoever answered it: [`dispatch`] adds them to its
/// replies, and the adapters to everything else they send (their own 404s, 405s…).
pub const RESPONSE_HEADERS: [(&str, &str); 1] = [("x-content-type-options", "nosniff")];

/// The longest request target (path and query) the routes take, in bytes: longer is a
/// JSON 414 ([`check_head`]).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most request headers the routes take: more is a JSON 431 ([`check_head`]).
/// The HTTP servers have their own, higher, limits (hyper 100, actix-web 96), past
/// which they answer 431 themselves, with an empty body.
pub const MAX_HEADER_COUNT: usize = 64;

/// The largest header section the routes take (names and values together, in bytes):
/// larger is a JSON 431 ([`check_head`]). Below the servers' own buffers (hyper about
/// 400 KiB, actix-web 128 KiB).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// What an adapter asks before routing a request, given the request target (path and
/// query) and the headers' names and values: `Some` JSON 414 when the target is longer
/// than [`MAX_URI_BYTES`], `Some` JSON 431 when there are more than
/// [`MAX_HEADER_COUNT`] headers or their names and values take more than
/// [`MAX_HEADER_BYTES`]; `None` when the request may go on.
///
/// ```
/// use fanout_core::routes::check_head;
/// let headers = [("host", &b"fanout"[..]), ("accept", b"*/*")];
/// assert!(check_head("/api/upload", headers).is_none());
/// let long = format!("/api/upload?{}", "a".repeat(9000));
/// assert_eq!(check_head(&long, headers).map(|r| r.status), Some(414));
/// let many = vec![("x-pad", &b"1"[..]); 65];
/// assert_eq!(check_head("/", many).map(|r| r.status), Some(431));
/// ```
pub fn check_head<'a>(
    target: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Option<Reply> {
    let uri_len = target.len();
    let (header_count, header_bytes) = headers
        .into_iter()
        .fold((0, 0), |(count, bytes), (name, value)| {
            (count + 1, bytes + name.len() + value.len())
        });
    if uri_len > MAX_URI_BYTES {
        return Some(
            ApiError::new(
                414,
                format!("Request URI too long: the limit is {MAX_URI_BYTES} bytes"),
            )
            .into(),
        );
    }
    if header_count > MAX_HEADER_COUNT || header_bytes > MAX_HEADER_BYTES {
        return Some(
            ApiError::new(
                431,
                format!(
                    "Request headers too large: at most {MAX_HEADER_COUNT} headers of {MAX_HEADER_BYTES} bytes together"
                ),
            )
            .into(),
        );
    }
    None
}

/// The JSON 404 for a path no route serves.
pub fn not_found() -> Reply {
    ApiError::new(404, "Not found").into()
}

/// The JSON 405 for a method route `path` (a [`RouteSpec::path`]) does not take, with
/// `Allow` listing those it does (`GET` routes take `HEAD` too).
pub fn method_not_allowed(path: &str) -> Reply {
    let mut allowed: Vec<&str> = Vec::new();
    for spec in ROUTES.iter().filter(|spec| spec.path == path) {
        allowed.push(spec.method.as_str());
        if spec.method == Method::Get {
            allowed.push("HEAD");
        }
    }
    let mut reply = Reply::from(ApiError::new(405, "Method not allowed"));
    reply.headers.push(("allow", allowed.join(",")));
    reply
}

/// The JSON 400 for a request path whose parameters cannot be read (percent-encoded
/// bytes that are not UTF-8).
pub fn malformed_path() -> Reply {
    ApiError::bad_request("Malformed request path").into()
}

/// The values of the [`REQUEST_HEADERS`] a request carried (valid UTF-8 only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    values: [Option<String>; REQUEST_HEADERS.len()],
}

impl RequestHeaders {
    /// Reads each of [`REQUEST_HEADERS`] through `get` (given the lower-case name).
    pub fn from_fn(mut get: impl FnMut(&'static str) -> Option<String>) -> Self {
        Self {
            values: REQUEST_HEADERS.map(&mut get),
        }
    }

    /// One header's value, by its name in any case; `None` for a name outside
    /// [`REQUEST_HEADERS`].
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = REQUEST_HEADERS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name))?;
        self.values[index].as_deref()
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }
}

/// One request as an adapter hands it over.
#[derive(Debug)]
pub struct RouteRequest<S> {
    /// The route the framework matched.
    pub route: Route,
    /// The path parameters the framework matched, by name (decoded).
    pub params: Vec<(String, String)>,
    /// The raw query string, without `?` (empty when there is none).
    pub query: String,
    /// The headers the routes read.
    pub headers: RequestHeaders,
    /// The body, as it arrives.
    pub body: S,
}

/// What to write back: a status, headers, and the body.
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, name and value (valid header values only). `Content-Length`
    /// is not among them: it follows from the body.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: ReplyBody,
}

/// A reply's body.
pub enum ReplyBody {
    /// Complete bytes (the JSON answers).
    Full(Bytes),
    /// A file, streamed: exactly `len` bytes. Write it with `Content-Length: len`,
    /// never buffered.
    Stream {
        /// How many bytes the stream yields.
        len: u64,
        /// The bytes.
        stream: BoxStream<'static, io::Result<Bytes>>,
    },
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            ReplyBody::Full(bytes) => format!("{} bytes", bytes.len()),
            ReplyBody::Stream { len, .. } => format!("a stream of {len} bytes"),
        };
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl From<ApiResponse> for Reply {
    /// The engine's JSON answer, with `Content-Type: application/json` and the
    /// [`RESPONSE_HEADERS`].
    fn from(answer: ApiResponse) -> Self {
        let mut headers = vec![("content-type", "application/json".to_string())];
        headers.extend(RESPONSE_HEADERS.map(|(name, value)| (name, value.to_string())));
        headers.extend(
            answer
                .headers
                .into_iter()
                .filter(|(_, value)| http::HeaderValue::from_str(value).is_ok()),
        );
        Self {
            status: answer.status,
            headers,
            body: ReplyBody::Full(Bytes::from(answer.body.to_string())),
        }
    }
}

impl From<ApiError> for Reply {
    fn from(err: ApiError) -> Self {
        ApiResponse::from(err).into()
    }
}

/// Answers one request: reads what `request.route` needs, calls the engine, and says
/// what to write back. Upload bodies are streamed into the engine (which enforces
/// `max_upload_bytes`); JSON bodies are read up to [`JSON_BODY_LIMIT`]; other bodies
/// are not read.
pub async fn dispatch<S, E>(engine: &Engine, request: RouteRequest<S>) -> Reply
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: Display + Send + 'static,
{
    let RouteRequest {
        route,
        params,
        query,
        headers,
        body,
    } = request;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    let query: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| query.get(name).map(String::as_str);
    let auth = headers.get("authorization");
    let answer = match route {
        Route::UploadVideo | Route::UploadPhotos => {
            let endpoint = match route {
                Route::UploadPhotos => Endpoint::Photos,
                _ => Endpoint::Video,
            };
            let upload = UploadRequest {
                authorization: headers.owned("authorization"),
                content_type: headers.owned("content-type"),
                request_id: headers.owned("x-request-id"),
                idempotency_key: headers
                    .owned("idempotency-key")
                    .or_else(|| headers.owned("x-idempotency-key")),
                content_length: headers
                    .get("content-length")
                    .and_then(|len| len.trim().parse().ok()),
                body,
            };
            engine.handle_upload(endpoint, upload).await
        }
        Route::Media => return media(engine, param("token"), headers.get("range")).await,
        Route::ConnectStart => match engine
            .connect_start(auth, param("platform"), field("user"))
            .await
        {
            Ok(redirect) => {
                let url = redirect.authorization_url.to_string();
                ApiResponse::new(302, json!({"success": true, "authorization_url": url}))
                    .with_header("location", url)
            }
            // Too many attempts pending: they expire or complete within minutes.
            Err(err) if err.status == 503 => {
                ApiResponse::from(err).with_header("retry-after", "60")
            }
            Err(err) => err.into(),
        },
        Route::ConnectCallback => match engine
            .connect_finish(
                param("platform"),
                field("code"),
                field("state"),
                field("error"),
            )
            .await
        {
            Ok(body) => ApiResponse::new(200, body),
            Err(err) => err.into(),
        },
        Route::Status => {
            engine
                .handle_status(auth, field("request_id"), field("job_id"))
                .await
        }
        Route::History => {
            engine
                .handle_history(auth, field("page"), field("limit"))
                .await
        }
        Route::ScheduleList => engine.handle_schedule_list(auth).await,
        Route::ScheduleCancel => engine.handle_schedule_cancel(auth, param("job_id")).await,
        Route::ScheduleEdit => match read_json_body(body).await {
            Ok(body) => {
                engine
                    .handle_schedule_edit(auth, param("job_id"), &body)
                    .await
            }
            Err(err) => err.into(),
        },
        Route::Retry => match read_json_body(body).await {
            Ok(body) => engine.handle_retry(auth, &body).await,
            Err(err) => err.into(),
        },
        Route::Health => ApiResponse::new(200, json!({"status": "ok"})),
        Route::Ready => match engine.ready().await {
            Ok(()) => ApiResponse::new(200, json!({"status": "ready"})),
            Err(reason) => ApiResponse::new(
                503,
                json!({"status": "not_ready", "reason": reason.to_string()}),
            ),
        },
    };
    answer.into()
}

/// Reads a JSON route's body: 413 past [`JSON_BODY_LIMIT`], 400 if it breaks off.
async fn read_json_body<S, E>(mut body: S) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut read = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("The body could not be read: {e}")))?;
        if read.len() + chunk.len() > JSON_BODY_LIMIT {
            return Err(ApiError::new(
                413,
                format!("Body too large: the limit is {JSON_BODY_LIMIT} bytes"),
            ));
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read)
}

/// `GET /media/{token}`: the whole file (200) or one byte range (206); 416 for a range
/// that starts past the end; a JSON 404 once the link is gone.
async fn media(engine: &Engine, token: &str, range: Option<&str>) -> Reply {
    let Some(file) = engine.media_host().resolve(token).await else {
        return ApiError::new(404, "Media not found or link expired").into();
    };
    let len = file.len();
    let mut headers = vec![
        ("content-type", file.content_type().to_string()),
        ("cache-control", "no-store".to_string()),
        ("accept-ranges", "bytes".to_string()),
    ];
    headers.extend(RESPONSE_HEADERS.map(|(name, value)| (name, value.to_string())));
    let (status, bytes) = match range.map(|r| byte_range(r, len)) {
        None | Some(RangeAnswer::Whole) => (200, 0..len),
        Some(RangeAnswer::Part(bytes)) => {
            headers.push((
                "content-range",
                format!("bytes {}-{}/{len}", bytes.start, bytes.end - 1),
            ));
            (206, bytes)
        }
        Some(RangeAnswer::Unsatisfiable) => {
            let mut reply = Reply::from(ApiError::new(
                416,
                format!("Range not satisfiable: the file has {len} bytes"),
            ));
            reply
                .headers
                .push(("content-range", format!("bytes */{len}")));
            return reply;
        }
    };
    Reply {
        status,
        headers,
        body: ReplyBody::Stream {
            len: bytes.end - bytes.start,
            stream: file.stream_range(bytes),
        },
    }
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAnswer {
    /// Not a single byte range fanout serves (another unit, several ranges, bad
    /// syntax): the header is ignored and the whole file sent.
    Whole,
    /// One satisfiable range.
    Part(Range<u64>),
    /// A range that starts at or past the end (or an empty suffix).
    Unsatisfiable,
}

fn byte_range(header: &str, len: u64) -> RangeAnswer {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        match number(end) {
            None => return RangeAnswer::Whole,
            Some(0) => return RangeAnswer::Unsatisfiable,
            Some(suffix) => len.saturating_sub(suffix)..len,
        }
    } else {
        let Some(first) = number(start) else {
            return RangeAnswer::Whole;
        };
        let last = if end.is_empty() {
            u64::MAX
        } else {
            match number(end) {
                Some(last) if last >= first => last,
                _ => return RangeAnswer::Whole,
            }
        };
        if first >= len {
            return RangeAnswer::Unsatisfiable;
        }
        first..last.saturating_add(1).min(len)
    };
    if range.is_empty() {
        RangeAnswer::Unsatisfiable
    } else {
        RangeAnswer::Part(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges() {
        use RangeAnswer::*;
        let cases: [(&str, RangeAnswer); 13] = [
            ("bytes=0-99", Part(0..100)),
            ("bytes=10-", Part(10..1000)),
            ("bytes=-100", Part(900..1000)),
            ("bytes=-5000", Part(0..1000)),
            ("bytes=990-5000", Part(990..1000)),
            ("bytes=999-999", Part(999..1000)),
            ("bytes=1000-", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=5-1", Whole),
            ("bytes=0-1,5-6", Whole),
            ("items=0-1", Whole),
            ("bytes=x-1", Whole),
            ("bytes=", Whole),
        ];
        for (header, answer) in cases {
            assert_eq!(byte_range(header, 1000), answer, "{header}");
        }
        assert_eq!(byte_range("bytes=0-", 0), Unsatisfiable);
    }

    #[test]
    fn the_table_has_one_entry_per_route_and_groups_paths() {
        for spec in &ROUTES {
            assert_eq!(spec.route.spec(), spec);
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, spec) in ROUTES.iter().enumerate() {
            if i > 0 && ROUTES[i - 1].path == spec.path {
                continue;
            }
            assert!(!seen.contains(&spec.path), "{} is split", spec.path);
            seen.push(spec.path);
        }
    }

    #[test]
    fn headers_are_read_by_name_in_any_case() {
        let headers = RequestHeaders::from_fn(|name| (name == "range").then(|| "x".into()));
        assert_eq!(headers.get("Range"), Some("x"));
        assert_eq!(headers.get("authorization"), None);
        assert_eq!(headers.get("cookie"), None);
    }

    /// A directory that answers nothing: what a store that went away looks like.
    struct Unreachable;

    #[async_trait::async_trait]
    impl crate::AccountDirectory for Unreachable {
        async fn find_by_api_key(
            &self,
            _: &crate::ApiKeyHash,
        ) -> Result<Option<crate::Account>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn find_by_name(&self, _: &str) -> Result<Option<crate::Account>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn upsert(&self, _: crate::Account) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn remove(&self, _: &str) -> Result<bool, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn save_connection(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: crate::Connection,
        ) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn ready(&self) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable(
                "the PostgreSQL store at 127.0.0.1:5432 does not answer",
            ))
        }
    }

    async fn get(engine: &Engine, route: Route) -> (u16, serde_json::Value) {
        let body = futures::stream::empty::<Result<Bytes, std::io::Error>>();
        let reply = dispatch(
            engine,
            RouteRequest {
                route,
                params: Vec::new(),
                query: String::new(),
                headers: RequestHeaders::from_fn(|_| None),
                body,
            },
        )
        .await;
        let ReplyBody::Full(bytes) = reply.body else {
            panic!("a JSON body")
        };
        (reply.status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn readyz_is_503_with_the_reason_while_the_store_is_down_and_healthz_stays_200() {
        let engine = Engine::builder(
            std::sync::Arc::new(Unreachable),
            std::sync::Arc::new(crate::MemoryUsage::new()),
        )
        .public_base_url("http://127.0.0.1:1/".parse().unwrap())
        .build()
        .unwrap();
        assert_eq!(
            get(&engine, Route::Ready).await,
            (
                503,
                json!({"status": "not_ready", "reason": "the PostgreSQL store at 127.0.0.1:5432 does not answer"})
            )
        );
        assert_eq!(
            get(&engine, Route::Health).await,
            (200, json!({"status": "ok"}))
        );
    }
}
