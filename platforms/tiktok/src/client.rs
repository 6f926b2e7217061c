//! One publish's conversation with the Content Posting API: authenticated JSON calls
//! reading TikTok's envelope, and throttled `init` calls.

use std::time::Duration;

use fanout_core::PublishError;
use fanout_kit::{CallError, Idempotence, Session, Throttle};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::errors::{self, ApiError, TIKTOK};

/// The `Content-Type` TikTok asks for on JSON calls.
const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// TikTok's answer envelope: `{"data": …, "error": {"code": "ok", …}}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    error: Option<ApiError>,
}

/// The API session of one publish, with the per-token quota of `init` calls.
pub(crate) struct Api<'a> {
    /// Client, base URL, token, timeout and retry policy.
    pub(crate) session: Session,
    /// The per-token quota of `init` calls.
    pub(crate) init_throttle: &'a Throttle,
    /// Longest wait for a free `init` slot.
    pub(crate) throttle_wait: Duration,
}

impl Api<'_> {
    /// One `POST` with a JSON body (or none); returns the answer's `data`. An HTTP 200
    /// whose envelope carries an error code is refused like any error status.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, CallError> {
        let url = self.session.url(path).map_err(CallError::NotReceived)?;
        let mut request = self
            .session
            .request(Method::POST, url)
            .header(CONTENT_TYPE, JSON_CONTENT_TYPE);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let answer = self.session.send(request, what).await?;
        let status = answer.status;
        let refused = |error| CallError::Refused { status, error };
        let envelope: Envelope = answer
            .json()
            .ok_or_else(|| refused(TIKTOK.unreadable(what)))?;
        if envelope.error.as_ref().is_some_and(|e| !e.is_ok()) {
            let error = errors::from_response(status, &answer.headers, &answer.body);
            tracing::debug!(what, kind = ?error.kind(), "tiktok refused a call with HTTP 200");
            return Err(refused(error));
        }
        serde_json::from_value(envelope.data.unwrap_or(Value::Null))
            .map_err(|_| refused(TIKTOK.unreadable(what)))
    }

    /// A call that cannot publish anything (a query, a status fetch), retried when
    /// TikTok refused it (429, 5xx) or never got it.
    pub(crate) async fn safe<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, PublishError> {
        self.session.safe(|| self.call(path, body, what)).await
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
        self.session
            .retry()
            .run(|| async {
                let acquired = self
                    .init_throttle
                    .acquire(self.session.token(), self.throttle_wait)
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
