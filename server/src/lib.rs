//! fanout-server: the ready server. Reads [`Config`], opens the store, seeds accounts,
//! builds the publishers (pointed at in-process fakes in sandbox mode) and serves the
//! axum router until Ctrl-C or SIGTERM, finishing requests in flight. With the `actix`
//! feature the same server can be served by actix-web instead (`App::serve_actix`,
//! `App::spawn_actix`, `run_actix`).
//!
//! ```no_run
//! # async fn run() -> Result<(), fanout_server::ServerError> {
//! let config = fanout_server::Config::load()?;
//! let app = fanout_server::App::build(config).await?;
//! println!("listening on {}", app.base_url());
//! app.serve(fanout_server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "actix")]
mod actix;
pub mod config;
mod gate;
mod limits;
mod listener;
mod middleware;
mod owned;
mod platforms;
#[cfg(feature = "sandbox")]
mod sandbox;
#[cfg(not(feature = "sandbox"))]
#[path = "no_sandbox.rs"]
mod sandbox;
pub mod secrets;
mod seed;
mod stores;
mod sweep;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fanout_core::{Engine, EngineSettings};
use tokio::net::TcpListener;

#[cfg(feature = "actix")]
pub use actix::run_actix;
pub use config::{Config, ConfigError, ConfigErrorKind};
pub use sandbox::Sandbox;

/// The demo account seeded when sandbox mode has no accounts configured.
pub const SANDBOX_ACCOUNT: &str = "sandbox";
/// The demo account's API key.
pub const SANDBOX_API_KEY: &str = "sandbox-key";
/// The demo account's profile (the form's `user`).
pub const SANDBOX_PROFILE: &str = "main";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened or seeded.
    #[error("the account store failed: {0}")]
    Store(#[from] fanout_core::StoreError),
    /// Binding or serving failed.
    #[error("could not listen on {addr}: {source} — is another process using that address?")]
    Bind {
        /// The configured address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built server: bound, wired, not yet serving.
pub struct App {
    router: axum::Router,
    listener: TcpListener,
    local_addr: SocketAddr,
    engine: Engine,
    sandbox: Option<Arc<Sandbox>>,
    shutdown_grace: Duration,
    /// Connections and requests: timeouts, caps, the HTTP shutdown grace.
    http: config::HttpConfig,
    /// Request ids, the failed-authentication throttle, budgets, the access log.
    #[cfg_attr(not(feature = "actix"), allow(dead_code))]
    gate: Arc<gate::Gate>,
    /// The scratch media directory of a memory store (removed after serving).
    media_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("local_addr", &self.local_addr)
            .field("sandbox", &self.sandbox.is_some())
            .finish()
    }
}

impl App {
    /// Binds `config.addr` and wires everything.
    ///
    /// Outside sandbox mode, placeholder secrets and a short `jwt_secret` are refused
    /// first ([`secrets::check`]).
    pub async fn build(config: Config) -> Result<Self, ServerError> {
        secrets::check(&config)?;
        let listener =
            TcpListener::bind(&config.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.addr.clone(),
                    source,
                })?;
        let local_addr = listener.local_addr()?;
        let public_base_url = match &config.public_base_url {
            Some(url) => url.clone(),
            None => url::Url::parse(&format!("http://{local_addr}/")).map_err(|e| {
                ConfigError::invalid(format!("public_base_url: {e}")).with_source(e)
            })?,
        };
        // Before any file is created: a build without the sandbox refuses it here.
        let sandbox = if config.sandbox {
            Some(Arc::new(Sandbox::start().await?))
        } else {
            None
        };
        let spool_base = config.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
        let stores = stores::open(&config.store, config.media.as_ref(), &spool_base).await?;
        let media_dir = stores.media_dir;
        let directory = stores.directory;
        let seeded = seed::accounts(&config, directory.as_ref(), sandbox.as_deref()).await?;
        let directory: Arc<dyn fanout_core::AccountDirectory> = if config.accounts_owned {
            Arc::new(owned::OwnedDirectory::new(
                directory,
                seeded.into_iter().collect(),
            ))
        } else {
            directory
        };
        let publishers = platforms::build(&config, sandbox.as_deref())?;
        let mut settings = EngineSettings::default();
        settings.body_limits.max_upload_bytes = config.max_upload_bytes;
        settings.publish_timeout = Duration::from_secs(config.publish_timeout_secs);
        settings.spool_dir = Some(sweep::prepare(&spool_base).map_err(|e| {
            ConfigError::invalid(format!(
                "spool_dir: could not create a spool directory in {}: {e}",
                spool_base.display()
            ))
        })?);
        settings.body_limits.idle_timeout = Duration::from_secs(config.http.body_idle_timeout_secs);
        settings.body_limits.min_upload_rate = config.http.min_upload_bytes_per_sec;
        settings.jwt_secret = config.jwt_secret.clone();
        let hint = config.reconnect_hint.trim();
        settings.reconnect_hint = (!hint.is_empty()).then(|| hint.to_string());
        settings.token_refresh_margin = Duration::from_secs(config.token_refresh_margin_secs);
        settings.media_link_ttl = Duration::from_secs(config.media_link_ttl_secs);
        settings.fetch = config.fetch.settings(config.sandbox);
        if let Some(secs) = config.fetch.timeout_secs {
            settings.url_fetch_timeout = Duration::from_secs(secs.max(1));
        }
        let jobs = &config.jobs;
        settings.sync_timeout = Duration::from_secs(jobs.sync_timeout_secs);
        settings.retry_window = Duration::from_secs(jobs.retry_window_secs);
        settings.job_lease = Duration::from_secs(jobs.lease_secs.max(1));
        settings.runner_poll_interval = Duration::from_millis(jobs.poll_ms.max(10));
        settings.follow_up_delay = Duration::from_secs(jobs.follow_up_delay_secs);
        let shutdown_grace = Duration::from_secs(jobs.shutdown_grace_secs);
        let mut builder = Engine::builder(directory, stores.usage)
            .public_base_url(public_base_url)
            .settings(settings)
            .jobs(stores.jobs)
            .connect_states(stores.connect_states)
            .media_store(stores.media);
        if let Some(links) = stores.media_links {
            builder = builder.media_links(links);
        }
        for publisher in publishers {
            builder = builder.publisher(publisher);
        }
        let engine = builder
            .build()
            .map_err(|e| ConfigError::invalid(e.to_string()).with_source(e))?;
        let gate = Arc::new(gate::Gate::new(&config, engine.directory().clone()));
        Ok(Self {
            router: fanout_axum::router(engine.clone()).layer(
                axum::middleware::from_fn_with_state(gate.clone(), middleware::gate),
            ),
            gate,
            http: config.http.clone(),
            listener,
            local_addr,
            engine,
            sandbox,
            shutdown_grace,
            media_dir,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<bound address>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The engine (for tests and embedding).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The in-process fakes, in sandbox mode (shared: they live as long as any clone).
    pub fn sandbox(&self) -> Option<Arc<Sandbox>> {
        self.sandbox.clone()
    }

    /// Serves in a background task until the returned handle is stopped or dropped:
    /// the way tests, benchmarks and embedders run a server beside their own code.
    pub fn spawn(self) -> RunningServer {
        self.spawn_with(|app, stopped| {
            app.serve(async move {
                let _ = stopped.await;
            })
        })
    }

    /// Spawns `serve(self, stopped)`, where `stopped` completes when the returned
    /// handle is stopped or dropped.
    fn spawn_with<F>(
        self,
        serve: impl FnOnce(Self, tokio::sync::oneshot::Receiver<()>) -> F,
    ) -> RunningServer
    where
        F: Future<Output = Result<(), ServerError>> + Send + 'static,
    {
        let base_url = self.base_url();
        let sandbox = self.sandbox();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(self, stopped));
        RunningServer {
            base_url,
            sandbox,
            stop: Some(stop),
            task,
        }
    }

    /// Runs the job runner and serves until `shutdown` completes; then stops taking
    /// requests and claiming jobs, gives the requests in flight `[http]
    /// shutdown_grace_secs` to finish (then closes their connections), and gives
    /// running jobs `[jobs] shutdown_grace_secs` (the rest resume at the next start).
    /// Connections are served with the limits of `[http]`.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let router = self.router.clone();
        let http = self.http.clone();
        self.serve_with(|listener, _engine| async move {
            listener::serve(listener, router, &http, shutdown).await
        })
        .await
    }

    /// Starts the job runner, serves the listener with `serve` until that returns, then
    /// gives running jobs their grace and releases the sandbox and the media directory:
    /// what every host framework shares.
    async fn serve_with<F>(
        self,
        serve: impl FnOnce(TcpListener, Engine) -> F,
    ) -> Result<(), ServerError>
    where
        F: Future<Output = std::io::Result<()>>,
    {
        let Self {
            listener,
            sandbox,
            engine,
            shutdown_grace,
            media_dir,
            ..
        } = self;
        let runner = engine.start_runner();
        let served = serve(listener, engine).await;
        if !runner.shutdown(shutdown_grace).await {
            tracing::warn!(
                "some jobs were still running at shutdown; they resume at the next start"
            );
        }
        drop(sandbox);
        drop(media_dir);
        served?;
        Ok(())
    }
}

/// A server serving in a background task (see [`App::spawn`]); it is asked to stop
/// when this is dropped.
pub struct RunningServer {
    base_url: String,
    sandbox: Option<Arc<Sandbox>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl RunningServer {
    /// `http://<bound address>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The in-process fakes, in sandbox mode.
    pub fn sandbox(&self) -> Option<&Arc<Sandbox>> {
        self.sandbox.as_ref()
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn trigger_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts down gracefully (requests in flight finish) and waits until it has.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        self.trigger_stop();
        self.wait().await
    }

    /// Waits until the server has stopped (after [`RunningServer::trigger_stop`]).
    pub async fn wait(&mut self) -> Result<(), ServerError> {
        match (&mut self.task).await {
            Ok(outcome) => outcome,
            Err(join_error) => Err(ServerError::Io(std::io::Error::other(
                join_error.to_string(),
            ))),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.trigger_stop();
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Loads the config, starts the server, prints where it listens and serves until
/// Ctrl-C or SIGTERM. What `cargo run --example server` runs.
pub async fn run() -> Result<(), ServerError> {
    start().await?.serve(shutdown_signal()).await?;
    println!("fanout stopped");
    Ok(())
}

/// Sets up logging, loads the config, builds the server and prints where it listens
/// (and, in sandbox mode, the demo credentials).
async fn start() -> Result<App, ServerError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let config = Config::load()?;
    let sandbox = config.sandbox;
    let seeded_demo = config.accounts.is_empty();
    let app = App::build(config).await?;
    println!("fanout listening on {}", app.base_url());
    if sandbox {
        println!("sandbox mode: TikTok, Instagram and LinkedIn are in-process fakes; nothing leaves this machine");
        if seeded_demo {
            println!(
                "demo account: Authorization: Apikey {SANDBOX_API_KEY}, user={SANDBOX_PROFILE}"
            );
        }
    }
    Ok(app)
}
