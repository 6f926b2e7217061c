//! The engine: authenticate, validate, admit, then publish to every platform at once
//! and collect one envelope.

mod checks;
mod connect;
mod fetch;
mod tokens;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::Stream;
use secrecy::SecretString;
use serde_json::{json, Map, Value};

use crate::accounts::{AccountDirectory, Connection};
use crate::api_error::{ApiError, ApiResponse};
use crate::auth::Authenticator;
use crate::error::{ErrorKind, PublishError};
use crate::form::{parse_body, BodyLimits};
use crate::media_host::MediaHost;
use crate::post::Post;
use crate::publisher::{PublishContext, Publisher};
use crate::usage::{Admission, SocialAccount, UsageRequest, UsageStore};

pub use connect::ConnectRedirect;
pub use tokens::NEEDS_RECONNECT;
pub use validate::Endpoint;

use tokens::{ConnectionKey, TokenKeeper};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Limits on request bodies (413 beyond `max_upload_bytes`).
    pub body_limits: BodyLimits,
    /// How long one platform may take before it fails with a timeout.
    pub publish_timeout: Duration,
    /// How long fetching a medium given as a URL may take.
    pub url_fetch_timeout: Duration,
    /// Where uploads are spooled; the system temp directory when `None`.
    pub spool_dir: Option<PathBuf>,
    /// Secret for HS256 Bearer tokens; without it Bearer tokens are refused.
    pub jwt_secret: Option<SecretString>,
    /// Access tokens expiring within this margin are refreshed before publishing.
    pub token_refresh_margin: Duration,
    /// Public base URL of this server: OAuth callbacks are
    /// `<public_base_url>/api/connect/<platform>/callback`.
    pub public_base_url: Option<url::Url>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            body_limits: BodyLimits::default(),
            publish_timeout: Duration::from_secs(600),
            url_fetch_timeout: Duration::from_secs(120),
            spool_dir: None,
            jwt_secret: None,
            token_refresh_margin: Duration::from_secs(300),
            public_base_url: None,
        }
    }
}

/// One upload request as an adapter hands it over: two headers and the body stream.
pub struct UploadRequest<S> {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: S,
}

/// Publishes uploads to every requested platform concurrently. Cheap to clone.
///
/// Each platform runs in its own task with its own timeout: one failing, slow or
/// panicking publisher never changes the others' results. The engine itself never
/// repeats a publish (a repeat could post twice); publishers retry their own safe
/// steps.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    publishers: HashMap<&'static str, Arc<dyn Publisher>>,
    directory: Arc<dyn AccountDirectory>,
    usage: Arc<dyn UsageStore>,
    media_host: Arc<dyn MediaHost>,
    auth: Authenticator,
    settings: EngineSettings,
    http: reqwest::Client,
    tokens: Arc<TokenKeeper>,
    connects: connect::Attempts,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut platforms: Vec<_> = self.inner.publishers.keys().collect();
        platforms.sort();
        f.debug_struct("Engine")
            .field("platforms", &platforms)
            .finish()
    }
}

/// Builds an [`Engine`].
pub struct EngineBuilder {
    publishers: Vec<Arc<dyn Publisher>>,
    directory: Arc<dyn AccountDirectory>,
    usage: Arc<dyn UsageStore>,
    media_host: Arc<dyn MediaHost>,
    settings: EngineSettings,
}

impl EngineBuilder {
    /// Adds a platform. A later publisher with the same id replaces an earlier one.
    pub fn publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publishers.push(publisher);
        self
    }

    /// Replaces the settings.
    pub fn settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Finishes the engine.
    pub fn build(self) -> Engine {
        let auth = Authenticator::new(self.settings.jwt_secret.as_ref());
        let http = reqwest::Client::builder()
            .timeout(self.settings.url_fetch_timeout)
            .build()
            .unwrap_or_default();
        let tokens = Arc::new(TokenKeeper::new(
            Arc::clone(&self.directory),
            self.settings.token_refresh_margin,
        ));
        Engine {
            inner: Arc::new(Inner {
                tokens,
                connects: connect::Attempts::default(),
                publishers: self.publishers.into_iter().map(|p| (p.id(), p)).collect(),
                directory: self.directory,
                usage: self.usage,
                media_host: self.media_host,
                auth,
                settings: self.settings,
                http,
            }),
        }
    }
}

impl Engine {
    /// Starts an engine over its three stores.
    pub fn builder(
        directory: Arc<dyn AccountDirectory>,
        usage: Arc<dyn UsageStore>,
        media_host: Arc<dyn MediaHost>,
    ) -> EngineBuilder {
        EngineBuilder {
            publishers: Vec::new(),
            directory,
            usage,
            media_host,
            settings: EngineSettings::default(),
        }
    }

    /// The media host, for the adapter's media route.
    pub fn media_host(&self) -> &Arc<dyn MediaHost> {
        &self.inner.media_host
    }

    /// The account directory.
    pub fn directory(&self) -> &Arc<dyn AccountDirectory> {
        &self.inner.directory
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// Handles `POST /api/upload` or `POST /api/upload_photos` from headers and a body
    /// stream, returning the status and JSON body to write. Never panics; temporary
    /// files are gone when this returns.
    pub async fn handle_upload<S, E>(
        &self,
        endpoint: Endpoint,
        request: UploadRequest<S>,
    ) -> ApiResponse
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        match self.upload(endpoint, request).await {
            Ok(body) => ApiResponse { status: 200, body },
            Err(err) => err.into(),
        }
    }

    async fn upload<S, E>(
        &self,
        endpoint: Endpoint,
        request: UploadRequest<S>,
    ) -> Result<Value, ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let inner = &self.inner;
        let now = Utc::now();
        let account = inner
            .auth
            .authenticate(
                inner.directory.as_ref(),
                request.authorization.as_deref(),
                now,
            )
            .await?;
        let spool_dir = inner
            .settings
            .spool_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let form = parse_body(
            request.content_type.as_deref(),
            request.body,
            &inner.settings.body_limits,
            &spool_dir,
        )
        .await?;
        let valid = validate::validate(endpoint, form, &account, |name| {
            inner.publishers.contains_key(name)
        })?;
        let media = fetch::resolve_media(
            &inner.http,
            valid.media,
            &spool_dir,
            inner.settings.body_limits.max_upload_bytes,
        )
        .await?;

        // Who will be published to: requested, connected, and whose checks pass.
        let mut plans: Vec<PlatformPlan> = Vec::new();
        let mut social_accounts = Vec::new();
        for name in &valid.platforms {
            let Some(publisher) = inner.publishers.get(name.as_str()) else {
                continue;
            };
            let planned = match valid.profile.connections.get(name.as_str()) {
                None => Err(PublishError::not_connected(publisher.display_name())),
                Some(connection) => {
                    let post = checks::post_for(publisher.id(), &valid.fields, &media);
                    checks::check_capabilities(publisher.as_ref(), &post).map(|()| {
                        social_accounts.push(SocialAccount {
                            platform: publisher.id().to_string(),
                            platform_name: publisher.display_name().to_string(),
                            account_name: connection.account_name.clone(),
                        });
                        Ready {
                            publisher: Arc::clone(publisher),
                            connection: connection.clone(),
                            key: ConnectionKey {
                                account: account.name.clone(),
                                profile: valid.profile_key.clone(),
                                platform: publisher.id().to_string(),
                            },
                            post,
                        }
                    })
                }
            };
            plans.push((publisher.id(), planned));
        }

        let admission = inner
            .usage
            .admit(&UsageRequest {
                account: &account.name,
                now,
                monthly_limit: account.plan.monthly_uploads,
                daily_limit: account.plan.daily_uploads_per_account,
                social_accounts: &social_accounts,
            })
            .await
            .map_err(|e| {
                ApiError::internal("The usage store is unavailable; try again later", &e)
            })?;
        let usage = match admission {
            Admission::Admitted(usage) => usage,
            Admission::MonthlyLimitReached { limit } => {
                return Err(ApiError::new(
                    429,
                    format!("You have reached your monthly limit of {limit} uploads"),
                ))
            }
            Admission::DailyLimitReached {
                limit,
                social_account,
            } => {
                return Err(ApiError::new(
                    429,
                    format!(
                        "You have reached the daily limit of {limit} uploads for: {} ({})",
                        social_account.platform_name, social_account.account_name
                    ),
                ))
            }
        };

        let results = self.publish_all(plans).await;
        Ok(json!({
            "success": true,
            "results": results,
            "usage": usage,
        }))
    }

    async fn publish_all(&self, plans: Vec<PlatformPlan>) -> Map<String, Value> {
        let timeout = self.inner.settings.publish_timeout;
        let tasks = plans.into_iter().map(|(id, planned)| {
            let media_host = Arc::clone(&self.inner.media_host);
            let tokens = Arc::clone(&self.inner.tokens);
            async move {
                let outcome = match planned {
                    Err(err) => Err(err),
                    Ok(ready) => run_isolated(ready, media_host, tokens, timeout).await,
                };
                (id, outcome)
            }
        });
        let mut results = Map::new();
        for (id, outcome) in futures::future::join_all(tasks).await {
            let value = match outcome {
                Ok(receipt) => {
                    let mut fields = Map::new();
                    fields.insert("success".into(), Value::Bool(true));
                    for (k, v) in receipt.into_fields() {
                        if k != "success" {
                            fields.insert(k, v);
                        }
                    }
                    Value::Object(fields)
                }
                Err(err) => json!({"success": false, "error": err.message()}),
            };
            results.insert(id.to_string(), value);
        }
        results
    }
}

/// One requested platform: ready to publish, or already failed (not connected, or
/// outside the platform's limits).
type PlatformPlan = (&'static str, Result<Ready, PublishError>);

/// Everything one publish needs.
struct Ready {
    publisher: Arc<dyn Publisher>,
    connection: Connection,
    key: ConnectionKey,
    post: Post,
}

/// Runs one publish in its own task: a panic or a timeout becomes that platform's
/// error and nothing else. Tokens are refreshed first when they are about to expire,
/// and once more when the platform refuses one (a refused request did nothing, so
/// publishing again cannot post twice).
async fn run_isolated(
    Ready {
        publisher,
        connection,
        key,
        post,
    }: Ready,
    media_host: Arc<dyn MediaHost>,
    tokens: Arc<TokenKeeper>,
    timeout: Duration,
) -> Result<crate::publisher::Receipt, PublishError> {
    let name = publisher.display_name();
    let task_publisher = Arc::clone(&publisher);
    let mut task = tokio::spawn(async move {
        let publisher = task_publisher;
        let connection = tokens.before_publish(&key, &publisher, connection).await?;
        let first = publisher
            .publish(PublishContext::new(&post, &connection, media_host.as_ref()))
            .await;
        match first {
            Err(err) if err.kind() == ErrorKind::TokenExpired => {
                match tokens.after_refusal(&key, &publisher, &connection).await {
                    None => Err(err),
                    Some(Err(refresh_error)) => Err(refresh_error),
                    Some(Ok(fresh)) => {
                        publisher
                            .publish(PublishContext::new(&post, &fresh, media_host.as_ref()))
                            .await
                    }
                }
            }
            other => other,
        }
    });
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
