//! One publish's conversation with the Content Posting API: authenticated JSON calls,
//! reading TikTok's envelope, throttling `init` calls and retrying safe steps.

use std::time::Duration;

use fanout_core::http::{transport_error, Idempotence};
use fanout_core::{PublishError, RetryPolicy, Throttle};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::errors::{self, ApiError, PLATFORM};

/// The `Content-Type` TikTok asks for on JSON calls.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Why one call failed, keeping whether TikTok may have acted on it.
#[derive(Debug)]
pub(crate) enum CallError {
    /// TikTok answered with an error: it did not act on the request.
    Answered(PublishError),
    /// No answer arrived (the request may have reached TikTok unless the connection was
    /// never made).
    NoAnswer(reqwest::Error),
}

impl CallError {
    /// The error a person reads, given whether the call could publish.
    pub(crate) fn into_error(self, idempotence: Idempotence) -> PublishError {
        match self {
            CallError::Answered(error) => error,
            CallError::NoAnswer(err) => transport_error(PLATFORM, &err, idempotence),
        }
    }
}

/// TikTok's answer envelope: `{"data": …, "error": {"code": "ok", …}}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    error: Option<ApiError>,
}

/// The API session of one publish: client, base URL, token and policies.
pub(crate) struct Api<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) base: Url,
    pub(crate) token: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    /// The per-token quota of `init` calls.
    pub(crate) init_throttle: &'a Throttle,
    pub(crate) throttle_wait: Duration,
}

impl Api<'_> {
    fn url(&self, path: &str) -> Result<Url, PublishError> {
        self.base.join(path).map_err(|_| {
            PublishError::rejected(format!(
                "The {PLATFORM} base URL cannot be combined with a request path; check \
                 `platforms.tiktok.base_url`."
            ))
        })
    }

    /// One `POST` with a JSON body (or none); returns the answer's `data`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, CallError> {
        let url = self.url(path).map_err(CallError::Answered)?;
        let mut request = self
            .http
            .post(url)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(
                    what,
                    connect = err.is_connect(),
                    "tiktok call got no answer"
                );
                return Err(CallError::NoAnswer(err));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(CallError::NoAnswer)?;
        let envelope: Option<Envelope> = serde_json::from_slice(&bytes).ok();
        let error_ok = envelope
            .as_ref()
            .is_some_and(|e| e.error.as_ref().is_none_or(ApiError::is_ok));
        if !status.is_success() || !error_ok {
            if status.is_success() && envelope.is_none() {
                return Err(CallError::Answered(errors::unreadable(what)));
            }
            let error = errors::from_response(status.as_u16(), &headers, &bytes);
            tracing::debug!(what, status = status.as_u16(), kind = ?error.kind(), "tiktok refused a call");
            return Err(CallError::Answered(error));
        }
        let data = envelope.and_then(|e| e.data).unwrap_or(Value::Null);
        serde_json::from_value(data).map_err(|_| CallError::Answered(errors::unreadable(what)))
    }

    /// A call that cannot publish anything (a query, a status fetch), retried when
    /// TikTok refused it (429, 5xx) or never got it.
    pub(crate) async fn safe<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, PublishError> {
        self.retry
            .run(|| async {
                self.call(path, body, what)
                    .await
                    .map_err(|e| e.into_error(Idempotence::Safe))
            })
            .await
    }

    /// An `init` call: each attempt takes a slot of the per-token quota first (a full
    /// quota fails at once, not retried). Refused attempts (429, 5xx, no connection)
    /// are retried; a lost answer is retried only when `idempotence` is
    /// [`Idempotence::Safe`].
    pub(crate) async fn init<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        what: &str,
        idempotence: Idempotence,
    ) -> Result<T, PublishError> {
        self.retry
            .run(|| async {
                let acquired = self
                    .init_throttle
                    .acquire(self.token, self.throttle_wait)
                    .await;
                if let Err(full) = acquired {
                    // Ok(Err(..)) ends the retries: waiting longer is the caller's call.
                    return Ok(Err(full));
                }
                self.call(path, Some(body), what)
                    .await
                    .map(Ok)
                    .map_err(|e| e.into_error(idempotence))
            })
            .await?
    }
}
