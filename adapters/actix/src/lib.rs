//! fanout-actix: fanout's HTTP surface on actix-web 4.
//!
//! The routes, the headers and query fields they read and what they answer are
//! described once in [`fanout_core::routes`]; this crate registers that table with
//! actix-web and translates requests and replies, nothing more. It answers exactly as
//! `fanout-axum` does: one contract suite in `fanout-testkit` runs against both.
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
//! Mount it beside your own routes, at the root (`scope("", engine)`) or under a
//! prefix (then `public_base_url` ends with that prefix: media links and OAuth
//! callbacks are built on it). A server that runs the engine's job runner on its main
//! runtime mounts it with [`scope_on`], passing that runtime:
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//!
//! # async fn run(engine: fanout_core::Engine) -> std::io::Result<()> {
//! let runtime = tokio::runtime::Handle::current();
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/healthz", web::get().to(|| async { "ok" }))
//!         .service(fanout_actix::scope_on("/fanout", engine.clone(), runtime.clone()))
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await
//! # }
//! ```
//!
//! Every answer is JSON in the contract's error shape, the scope's own too: an unknown
//! path under the scope is a JSON 404 (its default service), a known path with another
//! method a JSON 405 with `Allow`, an overlong request target a JSON 414 and too many or
//! too large headers a JSON 431 ([`fanout_core::routes::check_head`]). Every response
//! carries `X-Content-Type-Options: nosniff`. (Past actix-web's own limits — more than
//! 96 headers, a head over its 128 KiB buffer — it answers by itself before any
//! service runs.)
//!
//! actix-web's request body is not `Send`, while the engine reads uploads from a `Send`
//! stream (it may hand them to other tasks): each request's body is forwarded chunk by
//! chunk through a bounded channel, so the client is read only as fast as the engine
//! reads, the engine's size cap stops the upload early, and nothing is buffered whole.
//!
//! Each actix-web worker is a single-threaded runtime, and the jobs an upload starts
//! run on the runtime that accepted it. [`scope_on`] runs the engine's side of every
//! request on a runtime of your choice instead (typically the `#[tokio::main]` one, where
//! the engine's job runner and its graceful shutdown live), so jobs neither share a
//! worker thread with requests nor stop with the workers.
#![forbid(unsafe_code)]

use std::pin::pin;

use actix_web::body::SizedStream;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use fanout_core::routes::{self, Method, Reply, ReplyBody, RequestHeaders, Route, RouteRequest};
use fanout_core::{ApiError, Engine};
use futures::future::{self, Either};
use futures::StreamExt;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

/// How many body chunks may wait between actix-web and the engine.
const BRIDGE_CHUNKS: usize = 4;

/// Every route of [`fanout_core::routes::ROUTES`] under `prefix` (`""` for the root,
/// else e.g. `"/fanout"`), built from the engine and nothing else. `GET` routes answer
/// `HEAD` too. The engine's side of each request runs on the worker that accepted it.
pub fn scope(prefix: &str, engine: Engine) -> Scope {
    build(prefix, engine, None)
}

/// The same routes, with the engine's side of each request (and the jobs it starts)
/// spawned on `runtime`; the worker only forwards the body and writes the reply. A
/// request whose client goes away is cancelled on `runtime` too.
pub fn scope_on(prefix: &str, engine: Engine, runtime: Handle) -> Scope {
    build(prefix, engine, Some(runtime))
}

fn build(prefix: &str, engine: Engine, runtime: Option<Handle>) -> Scope {
    let mut scope = web::scope(prefix);
    let mut specs = routes::ROUTES.iter().peekable();
    // Routes that share a path are adjacent in the table and become one resource, so
    // a known path with another method answers 405.
    while let Some(first) = specs.next() {
        let mut resource = web::resource(first.path);
        let mut spec = Some(first);
        while let Some(current) = spec {
            let methods: &[HttpMethod] = match current.method {
                Method::Get => &[HttpMethod::GET, HttpMethod::HEAD],
                Method::Post => &[HttpMethod::POST],
                Method::Patch => &[HttpMethod::PATCH],
                Method::Delete => &[HttpMethod::DELETE],
            };
            for method in methods {
                let (engine, runtime, route) = (engine.clone(), runtime.clone(), current.route);
                resource = resource.route(web::method(method.clone()).to(
                    move |request: HttpRequest, payload: web::Payload| {
                        handle(engine.clone(), runtime.clone(), route, request, payload)
                    },
                ));
            }
            spec = specs.next_if(|next| next.path == first.path);
        }
        let path = first.path;
        resource = resource.default_service(web::to(move |request: HttpRequest| async move {
            write(head_error(&request).unwrap_or_else(|| routes::method_not_allowed(path)))
        }));
        scope = scope.service(resource);
    }
    scope.default_service(web::to(|request: HttpRequest| async move {
        write(head_error(&request).unwrap_or_else(routes::not_found))
    }))
}

/// The request head's limits (414, 431), checked before anything else.
fn head_error(request: &HttpRequest) -> Option<Reply> {
    let target = request.uri().path_and_query().map_or("", |t| t.as_str());
    let headers = request.headers().iter();
    routes::check_head(target, headers.map(|(n, v)| (n.as_str(), v.as_bytes())))
}

async fn handle(
    engine: Engine,
    runtime: Option<Handle>,
    route: Route,
    request: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    if let Some(reply) = head_error(&request) {
        return write(reply);
    }
    let (sender, mut receiver) = mpsc::channel(BRIDGE_CHUNKS);
    let forward = async move {
        while let Some(chunk) = payload.next().await {
            let failed = chunk.is_err();
            let chunk = chunk.map_err(|e| e.to_string());
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    };
    let headers = RequestHeaders::from_fn(|name| {
        let value = request.headers().get(name)?.to_str().ok()?;
        Some(value.to_string())
    });
    let params = request
        .match_info()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let request = RouteRequest {
        route,
        params,
        query: request.query_string().to_string(),
        headers,
        body: futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)),
    };
    let answer = async move {
        let Some(runtime) = runtime else {
            return routes::dispatch(&engine, request).await;
        };
        let task = runtime.spawn(async move { routes::dispatch(&engine, request).await });
        AbortOnDropHandle::new(task)
            .await
            .unwrap_or_else(|e| ApiError::internal("The request failed unexpectedly", &e).into())
    };
    // The body is forwarded while the engine answers; once it has answered, whatever
    // the client still sends is not read.
    let reply = match future::select(pin!(answer), pin!(forward)).await {
        Either::Left((reply, _)) => reply,
        Either::Right(((), answer)) => answer.await,
    };
    write(reply)
}

/// Writes core's reply as an actix-web response, with the headers every response
/// carries.
fn write(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.insert_header((name, value));
        }
    }
    for (name, value) in routes::RESPONSE_HEADERS {
        response.insert_header((name, value));
    }
    match reply.body {
        ReplyBody::Full(bytes) => response.body(bytes),
        ReplyBody::Stream { len, stream } => response.body(SizedStream::new(len, stream)),
    }
}
