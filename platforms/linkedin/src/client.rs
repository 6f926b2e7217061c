//! One publish's conversation with LinkedIn: authenticated, versioned calls on the
//! kit's [`Session`], and the checks on what LinkedIn hands back.

use fanout_core::PublishError;
use fanout_kit::{Answer, CallError, Session};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::errors::{self, PLATFORM};

/// Sent on every call.
const RESTLI_PROTOCOL: &str = "2.0.0";

/// The API session of one publish: client, base URL, token, version headers and
/// policies.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    /// Client, base URL, token, timeout, retry policy and the versioning headers.
    pub(crate) session: Session,
}

impl Api {
    /// The session of `LinkedIn-Version: version` on `session`.
    pub(crate) fn new(session: Session, version: &str) -> Self {
        let session = match HeaderValue::from_str(version) {
            Ok(version) => {
                session.with_header(HeaderName::from_static("linkedin-version"), version)
            }
            // Not a header value: LinkedIn answers 426, naming `api_version`.
            Err(_) => session,
        };
        let session = session.with_header(
            HeaderName::from_static("x-restli-protocol-version"),
            HeaderValue::from_static(RESTLI_PROTOCOL),
        );
        Self { session }
    }

    /// The URL of `path` (with its query) under the base.
    pub(crate) fn url(&self, path: &str) -> Result<Url, PublishError> {
        self.session.url(path)
    }

    /// A request carrying the token and the versioning headers.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.session.request(method, url)
    }

    /// Sends `request`; a non-2xx answer becomes [`CallError::Refused`].
    pub(crate) async fn send(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Answer, CallError> {
        self.session.send(request, what).await
    }

    /// One call to `path` with an optional JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Answer, CallError> {
        let url = self.url(path).map_err(CallError::NotReceived)?;
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
        self.session
            .safe(|| self.call(method.clone(), path, body, what))
            .await
    }

    /// An upload URL LinkedIn handed out, checked before the token is sent to it: it
    /// must be on the API's host or on linkedin.com.
    pub(crate) fn upload_url(&self, raw: &str) -> Result<Url, PublishError> {
        let url = Url::parse(raw).map_err(|_| errors::unreadable("the upload instructions"))?;
        let host = url.host_str().unwrap_or("");
        let trusted = (url.origin() == self.session.base().origin())
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
}

/// Reading LinkedIn's successful answers.
pub(crate) trait Read {
    /// The body as `T`, or the error of an answer to `what` that could not be read.
    fn read<T: DeserializeOwned>(&self, what: &str) -> Result<T, PublishError>;
}

impl Read for Answer {
    fn read<T: DeserializeOwned>(&self, what: &str) -> Result<T, PublishError> {
        self.json().ok_or_else(|| errors::unreadable(what))
    }
}

/// A URN as one URL path segment (`:` and every other reserved byte encoded).
pub(crate) fn encode_urn(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::LINKEDIN;

    fn api() -> Api {
        let session = Session::new(
            LINKEDIN,
            reqwest::Client::new(),
            Url::parse("http://127.0.0.1:9/").unwrap(),
            "t",
        );
        Api::new(session, "202510")
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
        let api = api();
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
