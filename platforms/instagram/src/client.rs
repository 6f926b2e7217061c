//! One publish's conversation with the Graph API: authenticated calls with Graph's
//! parameters, throttled per access token, on the kit's [`Session`].

use std::sync::Arc;

use fanout_core::PublishError;
use fanout_kit::{CallError, Session, Throttle};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::errors::{INSTAGRAM, PLATFORM};

/// The Graph session of one publish (or resume), with the per-token quota of calls.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    /// Client, versioned base URL, token, timeout and retry policy.
    pub(crate) session: Session,
    /// The per-token quota of Graph calls.
    pub(crate) throttle: Arc<Throttle>,
}

impl Api {
    /// One call: `params` go in the query for GET and in a form body for POST. Each
    /// call first takes a slot of the per-token quota (a full quota is refused with
    /// HTTP 429's meaning, not sent).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<T, CallError> {
        let url = self.session.url(path).map_err(CallError::NotReceived)?;
        self.throttle
            .acquire(self.session.token(), self.session.retry().max_retry_after)
            .await
            .map_err(|error| CallError::Refused { status: 429, error })?;
        let request = self.session.request(method.clone(), url);
        let request = if method == Method::GET {
            request.query(params)
        } else {
            request.form(params)
        };
        let answer = self.session.send(request, what).await?;
        answer.json().ok_or_else(|| CallError::Refused {
            status: answer.status,
            error: INSTAGRAM.unreadable(what),
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
        self.session
            .safe(|| self.call(method.clone(), path, params, what))
            .await
    }
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
