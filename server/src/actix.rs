//! The same server served by actix-web (the `actix` feature): the config, stores,
//! sandbox, engine and job runner of [`App`] are unchanged; only the HTTP server
//! differs.
//!
//! actix-web runs requests on worker threads of its own, each a single-threaded
//! runtime. The routes are mounted with [`fanout_actix::scope_on`] and the runtime that
//! calls [`App::serve_actix`], so the engine's side of every request — and the jobs it
//! starts — runs there, beside the job runner, and outlives the workers at shutdown.

use std::future::Future;

use fanout_core::Engine;
use tokio::net::TcpListener;
use tokio::runtime::Handle;

use crate::{shutdown_signal, start, App, RunningServer, ServerError};

impl App {
    /// [`App::serve`] on actix-web: runs the job runner and serves until `shutdown`
    /// completes; then stops taking requests and claiming jobs, finishes the requests
    /// in flight, and gives running jobs `[jobs] shutdown_grace_secs` to finish.
    ///
    /// Call it on the runtime the engine's work should run on (the `#[tokio::main]`
    /// one); actix-web's own signal handling is off, `shutdown` alone stops it.
    pub async fn serve_actix(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        self.serve_with(|listener, engine| serve(listener, engine, shutdown))
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

/// Serves every route at the root of `listener` until `shutdown`, waiting for the
/// requests in flight however long they take (as the axum path does).
async fn serve(
    listener: TcpListener,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let runtime = Handle::current();
    let listener = listener.into_std()?;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().service(fanout_actix::scope_on("", engine.clone(), runtime.clone()))
    })
    .shutdown_signal(shutdown)
    .shutdown_timeout(u64::MAX)
    .listen(listener)?
    .run();
    server.await
}
