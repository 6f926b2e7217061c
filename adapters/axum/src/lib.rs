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
#![forbid(unsafe_code)]

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::Router;
use fanout_core::routes::{self, Method, ReplyBody, RequestHeaders, Route, RouteRequest};
use fanout_core::Engine;

/// Every route of [`fanout_core::routes::ROUTES`], built from the engine and nothing
/// else. `GET` routes answer `HEAD` too.
pub fn router(engine: Engine) -> Router {
    let mut router = Router::new();
    for spec in &routes::ROUTES {
        let filter = match spec.method {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Patch => MethodFilter::PATCH,
            Method::Delete => MethodFilter::DELETE,
        };
        let route = spec.route;
        let handler = move |state, params, request| handle(route, state, params, request);
        // Routes that share a path merge into one method router.
        router = router.route(spec.path, on(filter, handler));
    }
    router.with_state(engine)
}

async fn handle(
    route: Route,
    State(engine): State<Engine>,
    Path(params): Path<Vec<(String, String)>>,
    request: Request,
) -> Response {
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
    let reply = routes::dispatch(&engine, request).await;
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
