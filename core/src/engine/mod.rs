//! The engine: authenticate, validate, admit, store the post as a job, then publish to
//! every platform at once and record one outcome per platform.
//!
//! Modules: `submit` turns a request into a job; `run` runs one claimed job;
//! `runner` claims due jobs and sweeps media; `queries` answers status, history,
//! schedule and retry; `schedule` parses `scheduled_date`; `connect` is OAuth;
//! `tokens` keeps tokens fresh.

mod builder;
mod checks;
mod connect;
mod fetch;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod outbound;
mod queries;
mod run;
mod runner;
mod schedule;
mod submit;
mod tokens;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use secrecy::SecretString;

use crate::accounts::{AccountDirectory, Connection};
use crate::api_error::ApiResponse;
use crate::auth::Authenticator;
use crate::connect_state::ConnectStateStore;
use crate::error::{ErrorKind, PublishError};
use crate::form::BodyLimits;
use crate::jobs::JobStore;
use crate::media_host::MediaHost;
use crate::media_store::MediaStore;
use crate::post::Post;
use crate::publisher::{PublishContext, Publisher};
use crate::usage::UsageStore;

pub use builder::{BuildError, EngineBuilder};
pub use connect::ConnectRedirect;
pub use outbound::{FetchSettings, InvalidCidr, IpCidr};
pub use queries::{HistoryItem, HistoryPage, JobRef, ScheduleEdit};
pub use runner::RunnerHandle;
pub use submit::{Submission, Submitted};
pub use tokens::NEEDS_RECONNECT;
pub use validate::Endpoint;

use tokens::{ConnectionKey, TokenKeeper};

/// Engine settings. Every duration comes from configuration so tests can use seconds.
///
/// It will grow: start from [`EngineSettings::default`] and change what you need.
///
/// ```
/// use std::time::Duration;
/// let mut settings = fanout_core::EngineSettings::default();
/// settings.sync_timeout = Duration::from_secs(5);
/// assert_eq!(settings.retry_window, Duration::from_secs(86_400));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineSettings {
    /// Limits on request bodies (413 beyond `max_upload_bytes`).
    pub body_limits: BodyLimits,
    /// How long one platform may take before it fails with a timeout.
    pub publish_timeout: Duration,
    /// How long fetching a medium given as a URL may take in all (redirects and body).
    pub url_fetch_timeout: Duration,
    /// How media given as URLs are fetched: which addresses, how many URLs and bytes
    /// per request, the slowest rate accepted.
    pub fetch: FetchSettings,
    /// Where uploads are spooled; the system temp directory when `None`.
    pub spool_dir: Option<PathBuf>,
    /// Secret for HS256 Bearer tokens; without it Bearer tokens are refused.
    pub jwt_secret: Option<SecretString>,
    /// Access tokens expiring within this margin are refreshed before publishing.
    pub token_refresh_margin: Duration,
    /// How long a media link (`<public_base_url>/media/<token>`) a platform pulls
    /// from stays valid at most (`media_link_ttl_secs`, one hour).
    pub media_link_ttl: Duration,
    /// How long a synchronous upload waits for its job before answering with the
    /// background shape (`sync_timeout_secs`, 59 s).
    pub sync_timeout: Duration,
    /// How long after a job finished its failed platforms may be retried, and its media
    /// kept (`retry_window_secs`, one day).
    pub retry_window: Duration,
    /// How long an idempotency key holds (24 h).
    pub idempotency_window: Duration,
    /// How long a runner's claim on a job lasts unless renewed (`job_lease_secs`,
    /// 60 s); a job whose lease lapsed (its process died) is taken up again.
    pub job_lease: Duration,
    /// How often the runner looks for due jobs (`runner_poll_ms`, 1 s).
    pub runner_poll_interval: Duration,
    /// How long after a platform answered `PROCESSING` (and a first follow-up did not
    /// finish) the next follow-up runs (`follow_up_delay_secs`, 30 s).
    pub follow_up_delay: Duration,
    /// How far ahead `scheduled_date` may be, in days (365).
    pub max_schedule_days: i64,
    /// How many jobs one runner runs at once.
    pub max_running_jobs: usize,
    /// How many OAuth connection attempts one account may have pending (5): starting
    /// one more makes its oldest give way.
    pub max_pending_connects_per_account: usize,
    /// How many OAuth connection attempts this process keeps pending in all (10 000):
    /// past it, `GET /api/connect/…` answers 503 until some finish or expire.
    pub max_pending_connects: usize,
    /// What the envelope adds after a platform's "session has expired" sentence: how
    /// to reconnect in your product (`reconnect_hint`; upload-post's wording by
    /// default, `None` for nothing).
    pub reconnect_hint: Option<String>,
}

/// upload-post's reconnect wording, [`EngineSettings::reconnect_hint`]'s default.
pub const UPLOAD_POST_RECONNECT_HINT: &str =
    "Go to Manage Users, remove the account, and connect it again.";

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            body_limits: BodyLimits::default(),
            publish_timeout: Duration::from_secs(600),
            url_fetch_timeout: Duration::from_secs(120),
            fetch: FetchSettings::default(),
            spool_dir: None,
            jwt_secret: None,
            token_refresh_margin: Duration::from_secs(300),
            media_link_ttl: Duration::from_secs(3600),
            sync_timeout: Duration::from_secs(59),
            retry_window: Duration::from_secs(86_400),
            idempotency_window: Duration::from_secs(86_400),
            job_lease: Duration::from_secs(60),
            runner_poll_interval: Duration::from_secs(1),
            follow_up_delay: Duration::from_secs(30),
            max_schedule_days: 365,
            max_running_jobs: 32,
            max_pending_connects_per_account: 5,
            max_pending_connects: 10_000,
            reconnect_hint: Some(UPLOAD_POST_RECONNECT_HINT.to_string()),
        }
    }
}

/// One upload request as an adapter hands it over: a few headers and the body stream.
pub struct UploadRequest<S> {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `X-Request-Id` header, if any (the form's `request_id` field wins).
    pub request_id: Option<String>,
    /// The `Idempotency-Key` (or `X-Idempotency-Key`) header, if any.
    pub idempotency_key: Option<String>,
    /// The `Content-Length` header, if any: past `max_upload_bytes` the answer is 413
    /// before the body is read, and it sets the upload's total deadline.
    pub content_length: Option<u64>,
    /// The raw body.
    pub body: S,
}

impl<S> UploadRequest<S> {
    /// A request with only a body; set the headers' fields as needed.
    pub fn new(body: S) -> Self {
        Self {
            authorization: None,
            content_type: None,
            request_id: None,
            idempotency_key: None,
            content_length: None,
            body,
        }
    }
}

/// Publishes uploads to every requested platform concurrently, as durable jobs. Cheap
/// to clone.
///
/// Each platform runs in its own task with its own timeout: one failing, slow or
/// panicking publisher never changes the others' results. The engine itself never
/// repeats a publish (a repeat could post twice); publishers retry their own safe
/// steps, and a publish interrupted by a crash is resumed from its checkpoint or
/// failed honestly.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    publishers: HashMap<&'static str, Arc<dyn Publisher>>,
    directory: Arc<dyn AccountDirectory>,
    usage: Arc<dyn UsageStore>,
    media_host: Arc<dyn MediaHost>,
    public_base_url: url::Url,
    jobs: Arc<dyn JobStore>,
    media_store: MediaStore,
    connect_states: Arc<dyn ConnectStateStore>,
    /// The connection attempts this process started and that may still finish.
    pending_connects: crate::connect_state::PendingAttempts,
    auth: Authenticator,
    settings: EngineSettings,
    /// The guarded client for media given as URLs.
    outbound: outbound::Outbound,
    tokens: Arc<TokenKeeper>,
    /// This engine's name in job leases.
    runner_id: String,
    /// Every job run of this engine (local submissions and claimed jobs).
    running: tokio_util::task::TaskTracker,
    /// Woken whenever this engine writes a job, so local waiters need not poll.
    job_written: tokio::sync::Notify,
    /// Cancelled when shutdown's grace period ends: running jobs stop where they are
    /// (their leases lapse and the next start resumes them).
    abort_runs: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut platforms: Vec<_> = self.inner.publishers.keys().collect();
        platforms.sort();
        f.debug_struct("Engine")
            .field("platforms", &platforms)
            .field("runner_id", &self.inner.runner_id)
            .finish()
    }
}

impl Engine {
    /// Starts an engine over the account directory and the usage counters; every other
    /// part has a default (see [`EngineBuilder`]) except the public base URL, which
    /// [`EngineBuilder::public_base_url`] must give.
    pub fn builder(
        directory: Arc<dyn AccountDirectory>,
        usage: Arc<dyn UsageStore>,
    ) -> EngineBuilder {
        EngineBuilder::new(directory, usage)
    }

    /// Whether the engine can take work: its account directory and job store answer
    /// and their schemas are current. `GET /readyz` answers 503 with the error's
    /// sentence otherwise.
    pub async fn ready(&self) -> Result<(), crate::StoreError> {
        self.inner.directory.ready().await?;
        self.inner.jobs.ready().await
    }

    /// The URL under which this server is reached (ends with `/`).
    pub fn public_base_url(&self) -> &url::Url {
        &self.inner.public_base_url
    }

    /// The media host, for the adapter's media route.
    pub fn media_host(&self) -> &Arc<dyn MediaHost> {
        &self.inner.media_host
    }

    /// The account directory.
    pub fn directory(&self) -> &Arc<dyn AccountDirectory> {
        &self.inner.directory
    }

    /// The job store.
    pub fn jobs(&self) -> &Arc<dyn JobStore> {
        &self.inner.jobs
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// Handles `POST /api/upload` or `POST /api/upload_photos` from headers and a body
    /// stream, returning the status, JSON body and `X-Request-Id` to write. Never
    /// panics; temporary files are gone when this returns (the job's media is in the
    /// media store).
    pub async fn handle_upload<S, E>(
        &self,
        endpoint: Endpoint,
        request: UploadRequest<S>,
    ) -> ApiResponse
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        submit::handle_upload(self, endpoint, request).await
    }
}

/// Everything one publish needs.
struct Ready {
    publisher: Arc<dyn Publisher>,
    connection: Connection,
    key: ConnectionKey,
    post: Post,
}

/// What to ask of the publisher.
#[derive(Clone)]
enum Attempt {
    /// A fresh publish.
    Publish,
    /// Continue from a checkpoint (a follow-up, or a publish a crash interrupted).
    Resume(serde_json::Value),
}

/// Runs one publish (or resume) in its own task: a panic or a timeout becomes that
/// platform's error and nothing else. Tokens are refreshed first when they are about
/// to expire, and once more when the platform refuses one (a refused request did
/// nothing, so asking again cannot post twice).
async fn run_isolated(
    Ready {
        publisher,
        connection,
        key,
        post,
    }: Ready,
    attempt: Attempt,
    media_host: Arc<dyn MediaHost>,
    tokens: Arc<TokenKeeper>,
    progress: Arc<run::JobProgress>,
    timeout: Duration,
) -> Result<crate::publisher::Receipt, PublishError> {
    let name = publisher.display_name();
    let task_publisher = Arc::clone(&publisher);
    // Aborted when dropped: a run that lost its lease or was stopped at shutdown takes
    // its publisher call down with it.
    let mut task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        let publisher = task_publisher;
        let call = |connection: Connection| {
            let publisher = Arc::clone(&publisher);
            let media_host = Arc::clone(&media_host);
            let progress = Arc::clone(&progress);
            let post = &post;
            let attempt = attempt.clone();
            async move {
                let ctx = PublishContext::new(post, &connection, media_host.as_ref())
                    .with_progress(progress.as_ref());
                match &attempt {
                    Attempt::Publish => publisher.publish(ctx).await,
                    // After a refusal and refresh, go on from the furthest checkpoint.
                    Attempt::Resume(first) => {
                        let checkpoint = progress.latest().unwrap_or_else(|| first.clone());
                        publisher.resume(ctx, &checkpoint).await
                    }
                }
            }
        };
        let connection = tokens.before_publish(&key, &publisher, connection).await?;
        let first = call(connection.clone()).await;
        match first {
            Err(err) if err.kind() == ErrorKind::TokenExpired => {
                match tokens.after_refusal(&key, &publisher, &connection).await {
                    None => Err(err),
                    Some(Err(refresh_error)) => Err(refresh_error),
                    Some(Ok(fresh)) => call(fresh).await,
                }
            }
            other => other,
        }
    }));
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join_error)) => {
            tracing::error!(platform = publisher.id(), %join_error, "publisher task failed");
            Err(PublishError::internal(name))
        }
        Err(_) => {
            task.abort();
            tracing::warn!(platform = publisher.id(), ?timeout, "publisher timed out");
            Err(PublishError::timed_out(name, timeout))
        }
    }
}
