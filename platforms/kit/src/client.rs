//! The HTTP session of one publish, and what became of each call: answered, refused,
//! not received, or sent with its answer lost.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fanout_core::PublishError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use url::Url;

use crate::retry::RetryPolicy;

/// What the kit needs to know to speak for a platform.
#[derive(Debug, Clone, Copy)]
pub struct Platform {
    /// The name people read (`"TikTok"`).
    pub name: &'static str,
    /// Its config table (`"tiktok"` for `[platforms.tiktok]`), named in messages about
    /// settings to fix.
    pub key: &'static str,
    /// The platform crate's one mapping of an error answer (status, headers, body) to
    /// the error a person reads.
    pub parse_error: fn(u16, &HeaderMap, &[u8]) -> PublishError,
}

impl Platform {
    /// "`<Platform>` had a temporary problem (HTTP `status`); try again in a few
    /// minutes." (`Transient`).
    pub fn temporary(&self, status: u16) -> PublishError {
        PublishError::transient(format!(
            "{} had a temporary problem (HTTP {status}); try again in a few minutes.",
            self.name
        ))
    }

    /// An answer to `what` that could not be read (`Transient`).
    pub fn unreadable(&self, what: &str) -> PublishError {
        PublishError::transient(format!(
            "{} sent an answer to {what} that could not be read; try again in a few minutes.",
            self.name
        ))
    }

    /// The error of an answer that says nothing but its status: 401 is an expired
    /// token, 429 a rate limit (honouring `Retry-After`), 5xx temporary, anything else
    /// a refusal.
    pub fn from_status(&self, status: u16, headers: &HeaderMap) -> PublishError {
        match status {
            401 => PublishError::token_expired(self.name),
            429 => PublishError::rate_limited(self.name, retry_after(headers)),
            s if s >= 500 => self.temporary(s),
            s => PublishError::rejected(format!(
                "{} refused the request (HTTP {s}) without saying why; try again later.",
                self.name
            )),
        }
    }
}

/// Whether repeating a request could publish twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Repeating it is harmless (an upload part, a status poll, a read).
    Safe,
    /// It may create a post (a publish call): a lost answer means the outcome is unknown.
    Publishing,
}

/// Why one call failed, keeping whether the platform may have acted on it.
#[derive(Debug)]
pub enum CallError {
    /// The platform answered with an error status (or an error in a success
    /// envelope): it refused the request. `error` is the platform's own mapping. A 5xx
    /// of a publishing call may still have acted: callers decide by `status`.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The mapped error.
        error: PublishError,
    },
    /// The request never reached the platform: it could not be built, no connection
    /// was made, or a quota kept it back. Nothing happened; `error` says why.
    NotReceived(PublishError),
    /// The request was sent but no answer arrived: the platform may have acted on it.
    Lost {
        /// The platform's name, for the message.
        platform: &'static str,
    },
}

impl CallError {
    /// Classifies a transport failure: a connection never made is
    /// [`CallError::NotReceived`], anything else [`CallError::Lost`]. The URL is left
    /// out: upload URLs are signed.
    pub fn transport(platform: &'static str, err: &reqwest::Error) -> Self {
        if err.is_connect() {
            return CallError::NotReceived(PublishError::transient(format!(
                "Could not connect to {platform}; nothing was sent. Try again in a few minutes."
            )));
        }
        CallError::Lost { platform }
    }

    /// The error a person reads, given whether the call could publish: a lost answer
    /// is `Transient` for a safe call and `OutcomeUnknown` for a publishing one.
    pub fn into_error(self, idempotence: Idempotence) -> PublishError {
        match self {
            CallError::Refused { error, .. } | CallError::NotReceived(error) => error,
            CallError::Lost { platform } => match idempotence {
                Idempotence::Safe => PublishError::transient(format!(
                    "The connection to {platform} failed mid-request; try again in a few minutes."
                )),
                Idempotence::Publishing => PublishError::outcome_unknown(format!(
                    "The connection to {platform} was lost before it answered, so the post may \
                     or may not have been published. Check the {platform} account before \
                     uploading again."
                )),
            },
        }
    }
}

/// A successful (2xx) answer.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body (small JSON, or empty).
    pub body: Bytes,
}

impl Answer {
    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The HTTP session of one publish (or resume) with a platform: the shared client, the
/// API base, the access token, the call timeout, the retry policy and headers every
/// call carries. Cheap to clone. `Debug` never shows the token.
#[derive(Clone)]
pub struct Session {
    platform: Platform,
    http: reqwest::Client,
    base: Url,
    token: Arc<str>,
    timeout: Duration,
    retry: RetryPolicy,
    headers: HeaderMap,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("platform", &self.platform.name)
            .field("base", &self.base.as_str())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session with `platform` at `base` (paths are joined under it: end it with a
    /// `/`), authenticating with `token`; a 60-second timeout and the default retry
    /// policy until set otherwise ([`crate::PlatformConfig::session`] sets both from
    /// the config).
    pub fn new(platform: Platform, http: reqwest::Client, base: Url, token: &str) -> Self {
        Self {
            platform,
            http,
            base,
            token: Arc::from(token),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            headers: HeaderMap::new(),
        }
    }

    /// Sets the timeout of one call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy of safe calls.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Adds a header every request of [`Session::request`] carries (an API version).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The API base.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The retry policy of safe calls.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The access token, for a per-token quota key or a platform's own authorization
    /// header. Never log it or put it in a message.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The timeout of an upload of `len` bytes: the call timeout plus a second per MiB.
    pub fn upload_timeout(&self, len: u64) -> Duration {
        self.timeout + Duration::from_secs(len / (1024 * 1024))
    }

    /// The URL of `path` (with its query) under the base.
    pub fn url(&self, path: &str) -> Result<Url, PublishError> {
        self.base.join(path).map_err(|_| {
            PublishError::rejected(format!(
                "The {} base URL cannot be combined with a request path; check \
                 `platforms.{}.base_url`.",
                self.platform.name, self.platform.key
            ))
        })
    }

    /// A request with `Authorization: Bearer <token>`, the session's headers and the
    /// call timeout.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.request_as("Bearer", method, url)
    }

    /// [`Session::request`] with another authorization scheme (`OAuth <token>`).
    pub fn request_as(&self, scheme: &str, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, format!("{scheme} {}", self.token))
            .headers(self.headers.clone())
            .timeout(self.timeout)
    }

    /// A request with the call timeout only: no token, no session headers (for an
    /// upload URL that carries its own signature).
    pub fn anonymous(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url).timeout(self.timeout)
    }

    /// Sends `request` (about `what`, for logs) and classifies the outcome: a 2xx is
    /// the [`Answer`]; any other status is [`CallError::Refused`] with the platform's
    /// mapping; a transport failure is [`CallError::NotReceived`] or
    /// [`CallError::Lost`].
    pub async fn send(&self, request: RequestBuilder, what: &str) -> Result<Answer, CallError> {
        let name = self.platform.name;
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(
                    platform = name,
                    what,
                    connect = err.is_connect(),
                    "call got no answer"
                );
                return Err(CallError::transport(name, &err));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|err| CallError::transport(name, &err))?;
        if !(200..300).contains(&status) {
            let error = (self.platform.parse_error)(status, &headers, &body);
            tracing::debug!(platform = name, what, status, kind = ?error.kind(), "call refused");
            return Err(CallError::Refused { status, error });
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Runs a call that cannot publish anything (a read, an upload part, a
    /// registration) under the retry policy: retried when the platform refused it
    /// with a retryable error or never received it, or when its answer was lost.
    pub async fn safe<T, F, Fut>(&self, mut call: F) -> Result<T, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        self.retry
            .run(|| {
                let attempt = call();
                async move { attempt.await.map_err(|e| e.into_error(Idempotence::Safe)) }
            })
            .await
    }
}

/// The HTTP client a publisher makes for itself when none is given: a 10-second
/// connect timeout (each call has its own timeout).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// Parses a `Retry-After` header given in seconds (the form platforms use).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::ErrorKind;

    fn parse(status: u16, _: &HeaderMap, _: &[u8]) -> PublishError {
        PublishError::rejected(format!("mapped {status}"))
    }

    const X: Platform = Platform {
        name: "X",
        key: "x",
        parse_error: parse,
    };

    fn session(base: &str) -> Session {
        Session::new(
            X,
            reqwest::Client::new(),
            Url::parse(base).unwrap(),
            "t0k3n",
        )
        .with_retry(RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        })
    }

    #[test]
    fn a_lost_answer_is_unknown_only_for_a_publishing_call() {
        let lost = || CallError::Lost { platform: "X" };
        assert_eq!(
            lost().into_error(Idempotence::Safe).kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            lost().into_error(Idempotence::Publishing).kind(),
            ErrorKind::OutcomeUnknown
        );
    }

    #[test]
    fn statuses_alone_map_by_kind() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        assert_eq!(
            X.from_status(429, &headers).retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            X.from_status(401, &headers),
            PublishError::token_expired("X")
        );
        assert_eq!(X.from_status(502, &headers).kind(), ErrorKind::Transient);
        assert_eq!(
            X.from_status(404, &headers).message(),
            "X refused the request (HTTP 404) without saying why; try again later."
        );
    }

    #[test]
    fn urls_keep_the_base_and_debug_hides_the_token() {
        let s = session("http://127.0.0.1:9/v1/");
        assert_eq!(
            s.url("a/b?c=1").unwrap().as_str(),
            "http://127.0.0.1:9/v1/a/b?c=1"
        );
        assert!(!format!("{s:?}").contains("t0k3n"));
        assert_eq!(s.upload_timeout(3 * 1024 * 1024), Duration::from_secs(63));
    }

    #[tokio::test]
    async fn a_connection_never_made_is_not_received_and_retried_when_safe() {
        // Port 9 (discard) is closed on loopback: the connection is refused.
        let s = &session("http://127.0.0.1:9/");
        let calls = std::sync::atomic::AtomicU32::new(0);
        let err = s
            .safe(|| {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let request = s.request(Method::GET, s.url("x").unwrap());
                async move { s.send(request, "a read").await }
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Could not connect to X; nothing was sent. Try again in a few minutes."
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
    }
}
