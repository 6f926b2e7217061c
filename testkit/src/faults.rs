//! Fault injection shared by every fake: errors, slowness and dropped connections.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What an injected fault does to a matching request.
#[derive(Debug, Clone)]
pub enum FaultKind {
    /// Answer with this status, headers and JSON body instead of the real handler.
    Respond {
        /// HTTP status.
        status: StatusCode,
        /// Extra headers (e.g. `retry-after`).
        headers: Vec<(String, String)>,
        /// The platform's error body.
        body: serde_json::Value,
    },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection without answering; the handler never runs.
    DropConnection,
    /// Run the handler (so its effect is committed), then close the connection without
    /// answering: the client cannot know the outcome.
    DropAfterCommit,
}

/// One injected fault: which requests it matches and how many times it fires.
#[derive(Debug, Clone)]
pub struct Fault {
    path_contains: String,
    kind: FaultKind,
    remaining: Option<u32>,
}

impl Fault {
    /// A fault on requests whose path contains `path_contains` (`""` matches all),
    /// firing once.
    pub fn on(path_contains: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            path_contains: path_contains.into(),
            kind,
            remaining: Some(1),
        }
    }

    /// Fires `n` times instead of once.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Fires on every matching request until cleared.
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }

    /// Shorthand: answer with `status` and `body`.
    pub fn respond(
        path_contains: impl Into<String>,
        status: StatusCode,
        body: serde_json::Value,
    ) -> Self {
        Self::on(
            path_contains,
            FaultKind::Respond {
                status,
                headers: Vec::new(),
                body,
            },
        )
    }

    /// Adds a response header to a [`FaultKind::Respond`] fault.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let FaultKind::Respond { headers, .. } = &mut self.kind {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// The faults armed on one fake; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    armed: Arc<Mutex<Vec<Fault>>>,
}

impl Faults {
    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.push(fault);
        }
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.clear();
        }
    }

    /// Takes the first armed fault matching `path`, counting one firing.
    fn take(&self, path: &str) -> Option<FaultKind> {
        let mut armed = self.armed.lock().ok()?;
        let index = armed.iter().position(|f| path.contains(&f.path_contains))?;
        let kind = armed[index].kind.clone();
        match &mut armed[index].remaining {
            None => {}
            Some(n) if *n <= 1 => {
                armed.remove(index);
            }
            Some(n) => *n -= 1,
        }
        Some(kind)
    }
}

/// A panic payload that closes the connection. `resume_unwind` skips the panic hook,
/// so nothing is printed; the server task drops the socket.
struct DroppedConnection;

/// axum middleware applying [`Faults`]; every fake installs it with
/// `axum::middleware::from_fn_with_state(faults, apply_faults)`.
pub async fn apply_faults(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    match faults.take(&path) {
        None => next.run(request).await,
        Some(FaultKind::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
        Some(FaultKind::Respond {
            status,
            headers,
            body,
        }) => {
            let mut response = (status, axum::Json(body)).into_response();
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Some(FaultKind::DropConnection) => {
            drop(request);
            std::panic::resume_unwind(Box::new(DroppedConnection))
        }
        Some(FaultKind::DropAfterCommit) => {
            let response = next.run(request).await;
            // Drain the answer so the handler's work is complete, then drop it.
            let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            std::panic::resume_unwind(Box::new(DroppedConnection))
        }
    }
}
