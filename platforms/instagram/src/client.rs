//! One publish's conversation with the Graph API: authenticated calls, error mapping,
//! throttling and retries of safe steps.

use std::sync::Arc;
use std::time::Duration;

use fanout_core::http::{transport_error, Idempotence};
use fanout_core::{PublishError, RetryPolicy, Throttle};
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::errors::{self, PLATFORM};

/// Why one call failed, keeping whether the platform may have acted on it.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Instagram answered with an error: it did not act on the request.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The mapped error.
        error: PublishError,
    },
    /// No answer arrived (the request may have reached Instagram unless the connection
    /// was never made).
    NoAnswer(reqwest::Error),
}

/// The graph session of one publish (or resume): client, base URL, token and
/// policies.
#[derive(Clone)]
pub(crate) struct Graph {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    /// The access token: only ever put into an `Authorization` header.
    pub(crate) token: Arc<str>,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) throttle: Arc<Throttle>,
}

impl Graph {
    /// The URL of `path` under the versioned base.
    pub(crate) fn url(&self, path: &str) -> Result<Url, PublishError> {
        self.base.join(path).map_err(|_| {
            PublishError::rejected(format!(
                "The {PLATFORM} base URL cannot be combined with a request path; check \
                 `platforms.instagram.base_url`."
            ))
        })
    }

    /// One call: `params` go in the query for GET and in a form body for POST.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<T, CallError> {
        let url = self
            .url(path)
            .map_err(|error| CallError::Answered { status: 0, error })?;
        self.throttle
            .acquire(&self.token, self.retry.max_retry_after)
            .await
            .map_err(|error| CallError::Answered { status: 429, error })?;
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .timeout(self.timeout);
        request = if method == Method::GET {
            request.query(params)
        } else {
            request.form(params)
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(
                    what,
                    connect = err.is_connect(),
                    "instagram call failed without an answer"
                );
                return Err(CallError::NoAnswer(err));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return Err(CallError::NoAnswer(err)),
        };
        if !status.is_success() {
            let error = errors::from_graph(status.as_u16(), &headers, &body);
            tracing::debug!(what, status = status.as_u16(), kind = ?error.kind(), "instagram refused a call");
            return Err(CallError::Answered {
                status: status.as_u16(),
                error,
            });
        }
        serde_json::from_slice(&body).map_err(|_| CallError::Answered {
            status: status.as_u16(),
            error: errors::unreadable(what),
        })
    }

    /// A call that cannot publish anything (a read, a container creation), retried
    /// under the retry policy when Instagram refused it or never got it.
    pub(crate) async fn safe<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<T, PublishError> {
        self.retry
            .run(|| async {
                self.call(method.clone(), path, params, what)
                    .await
                    .map_err(|e| e.into_error(Idempotence::Safe))
            })
            .await
    }
}

impl CallError {
    /// The error a person reads, given whether the call could publish.
    pub(crate) fn into_error(self, idempotence: Idempotence) -> PublishError {
        match self {
            CallError::Answered { error, .. } => error,
            CallError::NoAnswer(err) => transport_error(PLATFORM, &err, idempotence),
        }
    }
}

/// Maps a transport failure of a request that is not a Graph call (the upload).
pub(crate) fn transport(err: &reqwest::Error) -> PublishError {
    transport_error(PLATFORM, err, Idempotence::Safe)
}

/// Checks that an id from a connection or an answer is safe to put in a path.
pub(crate) fn checked_id<'s>(id: &'s str, what: &str) -> Result<&'s str, PublishError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(PublishError::rejected(format!(
            "The {PLATFORM} {what} is not a valid id; reconnect the {PLATFORM} account."
        )))
    }
}
