//! The [`Gate`] as axum middleware: translates the request for it, answers its
//! refusals, and adds its headers to every answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::gate::{Gate, Incoming};

const X_REQUEST_ID: &str = "x-request-id";

/// `axum::middleware::from_fn_with_state(gate, middleware::gate)`.
pub(crate) async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    // Owned: the request's body is not `Sync`, so no borrow of it may cross an await.
    let (peer, forwarded_for, authorization, request_id, method, path) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            header("x-forwarded-for"),
            header(AUTHORIZATION.as_str()),
            header(X_REQUEST_ID),
            request.method().as_str().to_string(),
            request.uri().path().to_string(),
        )
    };
    let (ticket, refusal) = {
        let incoming = Incoming {
            method: &method,
            path: &path,
            peer,
            forwarded_for: forwarded_for.as_deref(),
            authorization: authorization.as_deref(),
            request_id: request_id.as_deref(),
        };
        gate.admit(&incoming).await
    };
    let mut response = match refusal {
        Some(refusal) => {
            let mut response = Response::new(Body::from(refusal.body));
            *response.status_mut() =
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            for (name, value) in refusal.headers {
                insert(headers, name, &value);
            }
            response
        }
        None => next.run(request).await,
    };
    for (name, value) in gate.answer_headers(&ticket) {
        if !response.headers().contains_key(name) {
            insert(response.headers_mut(), name, &value);
        }
    }
    let request_id = response
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&ticket.request_id)
        .to_string();
    let bytes = response.body().size_hint().exact();
    gate.finish(ticket, response.status().as_u16(), bytes, &request_id);
    response
}

fn insert(headers: &mut axum::http::HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}
