//! One publish's conversation with LinkedIn: authenticated, versioned calls, error
//! mapping and retries of safe steps.

use std::time::Duration;

use bytes::Bytes;
use fanout_core::http::{transport_error, Idempotence};
use fanout_core::{PublishError, RetryPolicy};
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::errors::{self, PLATFORM};

/// Sent on every call.
const RESTLI_PROTOCOL: &str = "2.0.0";

/// Why one call failed, keeping whether LinkedIn may have acted on it.
#[derive(Debug)]
pub(crate) enum CallError {
    /// LinkedIn answered with an error status.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The mapped error.
        error: PublishError,
    },
    /// No answer arrived (the request may have reached LinkedIn unless the connection
    /// was never made).
    NoAnswer(reqwest::Error),
    /// The call could not even be built.
    Local(PublishError),
}

impl CallError {
    /// The error a person reads, given whether the call could publish.
    pub(crate) fn into_error(self, idempotence: Idempotence) -> PublishError {
        match self {
            CallError::Answered { error, .. } | CallError::Local(error) => error,
            CallError::NoAnswer(err) => transport_error(PLATFORM, &err, idempotence),
        }
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Its headers.
    pub(crate) headers: HeaderMap,
    /// Its body (small JSON, or empty).
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body as `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, PublishError> {
        serde_json::from_slice(&self.body).map_err(|_| errors::unreadable(what))
    }
}

/// The API session of one publish: client, base URL, token, version and policies.
pub(crate) struct Api<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) base: Url,
    pub(crate) token: &'a str,
    pub(crate) version: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
}

impl Api<'_> {
    /// The URL of `path` (with its query) under the base.
    pub(crate) fn url(&self, path: &str) -> Result<Url, PublishError> {
        self.base.join(path).map_err(|_| {
            PublishError::rejected(format!(
                "The {PLATFORM} base URL cannot be combined with a request path; check \
                 `platforms.linkedin.base_url`."
            ))
        })
    }

    /// A request carrying the token and the versioning headers.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header("LinkedIn-Version", self.version)
            .header("X-Restli-Protocol-Version", RESTLI_PROTOCOL)
            .timeout(self.timeout)
    }

    /// Sends `request`; a non-2xx answer becomes [`CallError::Answered`].
    pub(crate) async fn send(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Answer, CallError> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(
                    what,
                    connect = err.is_connect(),
                    "linkedin call failed without an answer"
                );
                return Err(CallError::NoAnswer(err.without_url()));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|err| CallError::NoAnswer(err.without_url()))?;
        if !(200..300).contains(&status) {
            let error = errors::from_response(status, &headers, &body);
            tracing::debug!(what, status, kind = ?error.kind(), "linkedin refused a call");
            return Err(CallError::Answered { status, error });
        }
        Ok(Answer { headers, body })
    }

    /// One call to `path` with an optional JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Answer, CallError> {
        let url = self.url(path).map_err(CallError::Local)?;
        let mut request = self.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request, what).await
    }

    /// A call that cannot publish anything (a read, an upload registration, a
    /// finalization), retried under the retry policy when it failed transiently.
    pub(crate) async fn safe(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Answer, PublishError> {
        self.retry
            .run(|| async {
                self.call(method.clone(), path, body, what)
                    .await
                    .map_err(|e| e.into_error(Idempotence::Safe))
            })
            .await
    }

    /// An upload URL LinkedIn handed out, checked before the token is sent to it: it
    /// must be on the API's host or on linkedin.com.
    pub(crate) fn upload_url(&self, raw: &str) -> Result<Url, PublishError> {
        let url = Url::parse(raw).map_err(|_| errors::unreadable("the upload instructions"))?;
        let host = url.host_str().unwrap_or("");
        let trusted = (url.origin() == self.base.origin())
            || (url.scheme() == "https"
                && (host == "linkedin.com" || host.ends_with(".linkedin.com")));
        if trusted {
            Ok(url)
        } else {
            Err(PublishError::rejected(format!(
                "{PLATFORM} gave an upload address outside linkedin.com; nothing was uploaded. \
                 Check `platforms.linkedin.base_url`."
            )))
        }
    }

    /// The timeout of an upload of `len` bytes: the call timeout plus a second per MiB.
    pub(crate) fn upload_timeout(&self, len: u64) -> Duration {
        self.timeout + Duration::from_secs(len.div_ceil(1024 * 1024))
    }
}

/// A URN as one URL path segment (`:` and every other reserved byte encoded).
pub(crate) fn encode_urn(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(http: &reqwest::Client) -> Api<'_> {
        Api {
            http,
            base: Url::parse("http://127.0.0.1:9/").unwrap(),
            token: "t",
            version: "202510",
            timeout: Duration::from_secs(1),
            retry: RetryPolicy::never(),
        }
    }

    #[test]
    fn urns_are_encoded_for_paths() {
        assert_eq!(
            encode_urn("urn:li:video:C5F10AQ"),
            "urn%3Ali%3Avideo%3AC5F10AQ"
        );
    }

    #[test]
    fn the_token_only_goes_to_linkedin_upload_hosts() {
        let http = reqwest::Client::new();
        let api = api(&http);
        assert!(api.upload_url("http://127.0.0.1:9/dms-uploads/x").is_ok());
        assert!(api
            .upload_url("https://www.linkedin.com/dms-uploads/x?sig=1")
            .is_ok());
        let err = api.upload_url("https://evil.example/x").unwrap_err();
        assert_eq!(
            err.message(),
            "LinkedIn gave an upload address outside linkedin.com; nothing was uploaded. \
             Check `platforms.linkedin.base_url`."
        );
        assert!(api.upload_url("http://www.linkedin.com/x").is_err());
        assert!(api
            .upload_url("https://linkedin.com.evil.example/x")
            .is_err());
    }
}
