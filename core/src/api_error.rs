//! Request-level failures: an HTTP status and the message the client shows.

use serde_json::json;

/// A request that fails as a whole (any status but 200), answered as
/// `{"success": false, "message": "<why>"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// The message, exactly as the contract words it.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }

    /// 500, with a short description that holds no secret. The cause goes to the log.
    pub fn internal(message: impl Into<String>, cause: &dyn std::fmt::Display) -> Self {
        let message = message.into();
        tracing::error!(%cause, "{message}");
        Self::new(500, message)
    }

    /// The response body.
    pub fn body(&self) -> serde_json::Value {
        json!({"success": false, "message": self.message})
    }
}

/// What the engine answers: an HTTP status, a JSON body and a few headers (such as
/// `X-Request-Id`). Adapters write it as is.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// HTTP status code.
    pub status: u16,
    /// The JSON body.
    pub body: serde_json::Value,
    /// Extra response headers, name and value.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiResponse {
    /// A response with no extra headers.
    pub fn new(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// One header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl From<ApiError> for ApiResponse {
    fn from(err: ApiError) -> Self {
        Self::new(err.status, err.body())
    }
}
