//! fanout-axum: an axum [`Router`] serving fanout's HTTP surface.
//!
//! The routes, the headers and query fields they read and what they answer are
//! described once in [`fanout_core::routes`]; this crate registers that table with
//! axum and translates requests and replies, nothing more (the actix-web adapter does
//! the same, and one contract suite in `fanout-testkit` runs against both).
//!
//! | route | what |
//! |---|---|
//! | `POST /api/upload` | one video to many platforms |
//! | `POST /api/upload_photos` | one or more photos to many platforms |
//! | `GET /media/{token}` | hosted media that platforms pull (unguessable, expiring links; byte ranges) |
//! | `GET /api/connect/{platform}?user=<profile>` | starts connecting an account: 302 to the platform's authorization page |
//! | `GET /api/connect/{platform}/callback` | the OAuth callback: stores the connection on the profile |
//! | `GET /api/uploadposts/status?request_id=…` or `?job_id=…` | one job's status |
//! | `GET /api/uploadposts/history?page=&limit=` | one item per platform per job, newest first |
//! | `GET /api/uploadposts/schedule` | scheduled posts that have not started |
//! | `DELETE /api/uploadposts/schedule/{job_id}` | cancels one (its upload is given back) |
//! | `PATCH /api/uploadposts/schedule/{job_id}` | edits its date, time zone, title or caption |
//! | `POST /api/uploadposts/posts/retry` | re-runs the failed platforms of a finished job |
//! | `GET /healthz`, `GET /readyz` | liveness, and readiness of the stores (503 with a reason) |
//!
//! Mount it beside your own routes, at the root or under a prefix (then
//! `public_base_url` ends with that prefix: media links and OAuth callbacks are built
//! on it):
//!
//! ```no_run
//! # async fn run(engine: fanout_core::Engine) -> std::io::Result<()> {
//! let app = axum::Router::new()
//!     .route("/healthz", axum::routing::get(|| async { "ok" }))
//!     .nest("/fanout", fanout_axum::router(engine));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Every answer is JSON in the contract's error shape, the router's own too: an unknown
//! path is a JSON 404 (the router's fallback, which a nested router keeps), a known path
//! with another method a JSON 405 with `Allow`, an overlong request target a JSON 414
//! and too many or too large headers a JSON 431 ([`fanout_core::routes::check_head`]).
//! Every response carries `X-Content-Type-Options: nosniff`. (Past hyper's own limits
//! — a target over 64 KiB, more than 100 headers, a header section over its buffer —
//! hyper answers by itself before any router runs.)
#![forbid(unsafe_code)]

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use fanout_core::routes::{self, Method, Reply, ReplyBody, RequestHeaders, Route, RouteRequest};
use fanout_core::Engine;

/// Every route of [`fanout_core::routes::ROUTES`], built from the engine and nothing
/// else. `GET` routes answer `HEAD` too.
///
/// The router has a fallback (the JSON 404): to merge it into a router that has its
/// own, nest it under a prefix or drop one with `Router::reset_fallback`.
pub fn router(engine: Engine) -> Router {
    let mut router = Router::new();
    let mut specs = routes::ROUTES.iter().peekable();
    // Routes that share a path are adjacent in the table and become one method router,
    // whose fallback is the JSON 405.
    while let Some(first) = specs.next() {
        let mut methods = MethodRouter::new();
        let mut spec = Some(first);
        while let Some(current) = spec {
            let filter = match current.method {
                Method::Get => MethodFilter::GET,
                Method::Post => MethodFilter::POST,
                Method::Patch => MethodFilter::PATCH,
                Method::Delete => MethodFilter::DELETE,
            };
            let route = current.route;
            methods = methods.on(filter, move |state, params, request| {
                handle(route, state, params, request)
            });
            spec = specs.next_if(|next| next.path == first.path);
        }
        let path = first.path;
        methods =
            methods.fallback(move || async move { response(routes::method_not_allowed(path)) });
        router = router.route(path, methods);
    }
    router
        .fallback(|| async { response(routes::not_found()) })
        .layer(middleware::from_fn(guard))
        .with_state(engine)
}

/// Before routing: the request head's limits (414, 431). After: the headers every
/// response carries.
async fn guard(request: Request, next: Next) -> Response {
    let target = request.uri().path_and_query().map_or("", |t| t.as_str());
    let headers = request.headers().iter();
    if let Some(reply) =
        routes::check_head(target, headers.map(|(n, v)| (n.as_str(), v.as_bytes())))
    {
        return response(reply);
    }
    let mut answer = next.run(request).await;
    for (name, value) in routes::RESPONSE_HEADERS {
        answer.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    answer
}

async fn handle(
    route: Route,
    State(engine): State<Engine>,
    params: Result<Path<Vec<(String, String)>>, PathRejection>,
    request: Request,
) -> Response {
    let Ok(Path(params)) = params else {
        return response(routes::malformed_path());
    };
    let (parts, body) = request.into_parts();
    let headers = RequestHeaders::from_fn(|name| {
        let value = parts.headers.get(name)?.to_str().ok()?;
        Some(value.to_string())
    });
    let request = RouteRequest {
        route,
        params,
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body: body.into_data_stream(),
    };
    response(routes::dispatch(&engine, request).await)
}

/// Writes core's reply as an axum response.
fn response(reply: Reply) -> Response {
    let mut response = match reply.body {
        ReplyBody::Full(bytes) => Response::new(Body::from(bytes)),
        ReplyBody::Stream { len, stream } => {
            let mut response = Response::new(Body::from_stream(stream));
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
            response
        }
    };
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
