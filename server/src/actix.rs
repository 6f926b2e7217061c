//! The same server served by actix-web (the `actix` feature): the config, stores,
//! sandbox, engine and job runner of [`App`] are unchanged; only the HTTP server
//! differs.
//!
//! actix-web runs requests on worker threads of its own, each a single-threaded
//! runtime. The routes are mounted with [`fanout_actix::scope_on`] and the runtime that
//! calls [`App::serve_actix`], so the engine's side of every request — and the jobs it
//! starts — runs there, beside the job runner, and outlives the workers at shutdown.

use std::future::Future;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use fanout_core::Engine;
use tokio::net::TcpListener;
use tokio::runtime::Handle;

use crate::config::HttpConfig;
use crate::gate::{Gate, Incoming};
use crate::{shutdown_signal, start, App, RunningServer, ServerError};

impl App {
    /// [`App::serve`] on actix-web: runs the job runner and serves until `shutdown`
    /// completes; then stops taking requests and claiming jobs, finishes the requests
    /// in flight, and gives running jobs `[jobs] shutdown_grace_secs` to finish.
    ///
    /// Call it on the runtime the engine's work should run on (the `#[tokio::main]`
    /// one); actix-web's own signal handling is off, `shutdown` alone stops it.
    ///
    /// The limits of `[http]` apply as actix-web offers them: the header-read timeout
    /// is its `client_request_timeout` and `keep_alive`, `max_connections` is split
    /// between its workers (beyond it, connections wait to be accepted), and
    /// `shutdown_grace_secs` is its `shutdown_timeout`. Request ids, the
    /// failed-authentication throttle, budgets, the upload cap and the access log are
    /// the same as on axum.
    pub async fn serve_actix(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let gate = self.gate.clone();
        let http = self.http.clone();
        self.serve_with(|listener, engine| serve(listener, engine, gate, http, shutdown))
            .await
    }

    /// [`App::spawn`] on actix-web: serves in a background task until the returned
    /// handle is stopped or dropped.
    pub fn spawn_actix(self) -> RunningServer {
        self.spawn_with(|app, stopped| {
            app.serve_actix(async move {
                let _ = stopped.await;
            })
        })
    }
}

/// Loads the config, starts the server on actix-web, prints where it listens and
/// serves until Ctrl-C or SIGTERM: [`crate::run`] with actix-web as the HTTP server.
/// What `cargo run --example server_actix` runs.
pub async fn run_actix() -> Result<(), ServerError> {
    let app = start().await?;
    println!("served by actix-web");
    app.serve_actix(shutdown_signal()).await?;
    println!("fanout stopped");
    Ok(())
}

/// Serves every route at the root of `listener` until `shutdown`, giving the requests
/// in flight `[http] shutdown_grace_secs` (as the axum path does).
async fn serve(
    listener: TcpListener,
    engine: Engine,
    gate: Arc<Gate>,
    http: HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let runtime = Handle::current();
    let listener = listener.into_std()?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gate = web::Data::from(gate);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(gate.clone())
            .wrap(actix_web::middleware::from_fn(through_gate))
            .service(fanout_actix::scope_on("", engine.clone(), runtime.clone()))
    })
    .workers(workers)
    .max_connections(http.max_connections.div_ceil(workers).max(1))
    .client_request_timeout(http.header_read_timeout())
    .keep_alive(http.header_read_timeout())
    .shutdown_signal(shutdown)
    .shutdown_timeout(http.shutdown_grace_secs)
    .listen(listener)?
    .run();
    server.await
}

/// The [`Gate`] as actix-web middleware (what [`crate::middleware::gate`] is for axum).
async fn through_gate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let Some(gate) = request.app_data::<web::Data<Gate>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(AUTHORIZATION.as_str());
    let forwarded_for = header("x-forwarded-for");
    let request_id = header("x-request-id");
    let method = request.method().as_str().to_string();
    let path = request.path().to_string();
    let incoming = Incoming {
        method: &method,
        path: &path,
        peer: request.peer_addr().map(|a| a.ip()),
        forwarded_for: forwarded_for.as_deref(),
        authorization: authorization.as_deref(),
        request_id: request_id.as_deref(),
    };
    let (ticket, refusal) = gate.admit(&incoming).await;
    let mut response = match refusal {
        Some(refusal) => {
            let mut answer = HttpResponse::build(
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            );
            answer.insert_header((CONTENT_TYPE, "application/json"));
            for header in refusal.headers {
                answer.insert_header(header);
            }
            request
                .into_response(answer.body(refusal.body))
                .map_into_right_body()
        }
        None => next.call(request).await?.map_into_left_body(),
    };
    for (name, value) in gate.answer_headers(&ticket) {
        if !response.headers().contains_key(name) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
        }
    }
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&ticket.request_id)
        .to_string();
    let bytes = match response.response().body().size() {
        actix_web::body::BodySize::Sized(n) => Some(n),
        _ => None,
    };
    let status = response.status().as_u16();
    gate.finish(ticket, status, bytes, &request_id);
    Ok(response)
}
