//! [`EngineBuilder`]: the parts of an engine, checked once when it is built.

use std::collections::HashMap;
use std::sync::Arc;

use url::Url;

use super::tokens::TokenKeeper;
use super::{outbound, submit, Engine, EngineSettings, Inner};
use crate::accounts::AccountDirectory;
use crate::auth::Authenticator;
use crate::connect_state::{ConnectStateStore, MemoryConnectStates};
use crate::jobs::{JobStore, MemoryJobStore};
use crate::media_host::{LocalMediaHost, MediaHost};
use crate::media_links::MediaLinkStore;
use crate::media_store::MediaStore;
use crate::publisher::Publisher;
use crate::usage::UsageStore;

/// Why [`EngineBuilder::build`] refused to build an engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No [`EngineBuilder::public_base_url`] was given.
    #[error(
        "the engine needs a public base URL (EngineBuilder::public_base_url): media links \
         and OAuth callbacks are built on it — give the URL under which this server is \
         reached, e.g. https://fanout.example.com/"
    )]
    MissingPublicBaseUrl,
    /// The public base URL is not an `http` or `https` URL without query and fragment.
    #[error(
        "the public base URL {url} cannot be used: {reason} — give an http(s) URL such as \
         https://fanout.example.com/ or https://example.com/fanout/"
    )]
    InvalidPublicBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two publishers answered the same [`Publisher::id`].
    #[error(
        "two publishers have the id `{id}` — each platform may be added once; remove one \
         of them or give the other its own id"
    )]
    DuplicatePublisher {
        /// The id both publishers answered.
        id: &'static str,
    },
    /// The HTTP client that fetches media given as URLs could not be built.
    #[error(
        "could not build the HTTP client that fetches media URLs: {source} — check the \
         system's TLS set-up"
    )]
    HttpClient {
        /// What the HTTP library said.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// Builds an [`Engine`]: the account directory and usage counters (given to
/// [`Engine::builder`]), the public base URL, the publishers, and optionally the stores
/// for jobs, their media and OAuth attempts (in memory by default) and a media host
/// (links served by the adapter's media route by default).
///
/// ```
/// use std::sync::Arc;
/// use fanout_core::{BuildError, Engine, MemoryDirectory, MemoryUsage};
///
/// let engine = Engine::builder(Arc::new(MemoryDirectory::new()), Arc::new(MemoryUsage::new()))
///     .public_base_url("https://fanout.example.com/".parse().unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(engine.public_base_url().as_str(), "https://fanout.example.com/");
///
/// let err = Engine::builder(Arc::new(MemoryDirectory::new()), Arc::new(MemoryUsage::new()))
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, BuildError::MissingPublicBaseUrl));
/// ```
pub struct EngineBuilder {
    publishers: Vec<Arc<dyn Publisher>>,
    directory: Arc<dyn AccountDirectory>,
    usage: Arc<dyn UsageStore>,
    public_base_url: Option<Url>,
    media_host: Option<Arc<dyn MediaHost>>,
    media_links: Option<Arc<dyn MediaLinkStore>>,
    jobs: Arc<dyn JobStore>,
    media_store: MediaStore,
    connect_states: Arc<dyn ConnectStateStore>,
    settings: EngineSettings,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let platforms: Vec<_> = self.publishers.iter().map(|p| p.id()).collect();
        f.debug_struct("EngineBuilder")
            .field("platforms", &platforms)
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(Url::as_str),
            )
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    pub(super) fn new(directory: Arc<dyn AccountDirectory>, usage: Arc<dyn UsageStore>) -> Self {
        Self {
            publishers: Vec::new(),
            directory,
            usage,
            public_base_url: None,
            media_host: None,
            media_links: None,
            jobs: Arc::new(MemoryJobStore::new()),
            media_store: MediaStore::in_memory(),
            connect_states: Arc::new(MemoryConnectStates::new()),
            settings: EngineSettings::default(),
        }
    }

    /// The URL under which this server is reached, the one place it is given: media
    /// links are `<public_base_url>media/<token>` and OAuth callbacks
    /// `<public_base_url>api/connect/<platform>/callback`. When the routes are mounted
    /// under a prefix, the URL ends with that prefix.
    pub fn public_base_url(mut self, url: Url) -> Self {
        self.public_base_url = Some(url);
        self
    }

    /// Adds a platform. Each id may be added once ([`BuildError::DuplicatePublisher`]).
    pub fn publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publishers.push(publisher);
        self
    }

    /// Replaces the settings.
    pub fn settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Serves media links through `host` (e.g. a CDN) instead of the built-in
    /// [`LocalMediaHost`] on the public base URL.
    pub fn media_host(mut self, host: Arc<dyn MediaHost>) -> Self {
        self.media_host = Some(host);
        self
    }

    /// Shares the built-in media host's links through `links`, so that every instance
    /// on the same stores (and the same [`EngineBuilder::media_store`]) serves a link
    /// any of them minted. Without it links are served by the instance that made them.
    pub fn media_links(mut self, links: Arc<dyn MediaLinkStore>) -> Self {
        self.media_links = Some(links);
        self
    }

    /// Where jobs live ([`MemoryJobStore`] by default: nothing survives a restart).
    pub fn jobs(mut self, jobs: Arc<dyn JobStore>) -> Self {
        self.jobs = jobs;
        self
    }

    /// Where the media of jobs live ([`MediaStore::in_memory`] by default, which holds
    /// every byte in memory: give a durable one, e.g. [`MediaStore::local`]).
    pub fn media_store(mut self, media_store: MediaStore) -> Self {
        self.media_store = media_store;
        self
    }

    /// Where pending OAuth connection attempts live ([`MemoryConnectStates`] by
    /// default).
    pub fn connect_states(mut self, connect_states: Arc<dyn ConnectStateStore>) -> Self {
        self.connect_states = connect_states;
        self
    }

    /// Checks the parts and finishes the engine: a public base URL is required and must
    /// be http(s) without query or fragment; each publisher id may appear once.
    pub fn build(self) -> Result<Engine, BuildError> {
        let public_base_url = checked_base_url(self.public_base_url)?;
        let mut publishers: HashMap<&'static str, Arc<dyn Publisher>> = HashMap::new();
        for publisher in self.publishers {
            let id = publisher.id();
            if publishers.insert(id, publisher).is_some() {
                return Err(BuildError::DuplicatePublisher { id });
            }
        }
        let outbound =
            outbound::Outbound::new(&self.settings.fetch, self.settings.url_fetch_timeout)
                .map_err(|e| BuildError::HttpClient { source: e.into() })?;
        let ttl = self.settings.media_link_ttl;
        let media_host: Arc<dyn MediaHost> = match (self.media_host, self.media_links) {
            (Some(host), _) => host,
            (None, Some(links)) => Arc::new(LocalMediaHost::shared(
                public_base_url.clone(),
                ttl,
                links,
                self.media_store.clone(),
            )),
            (None, None) => Arc::new(LocalMediaHost::new(public_base_url.clone(), ttl)),
        };
        let tokens = Arc::new(TokenKeeper::new(
            Arc::clone(&self.directory),
            self.settings.token_refresh_margin,
        ));
        Ok(Engine {
            inner: Arc::new(Inner {
                tokens,
                publishers,
                directory: self.directory,
                usage: self.usage,
                media_host,
                public_base_url,
                jobs: self.jobs,
                media_store: self.media_store,
                connect_states: self.connect_states,
                pending_connects: crate::connect_state::PendingAttempts::new(
                    self.settings.max_pending_connects_per_account,
                    self.settings.max_pending_connects,
                ),
                auth: Authenticator::new(self.settings.jwt_secret.as_ref()),
                settings: self.settings,
                outbound,
                runner_id: submit::random_id(),
                running: tokio_util::task::TaskTracker::new(),
                job_written: tokio::sync::Notify::new(),
                abort_runs: tokio_util::sync::CancellationToken::new(),
            }),
        })
    }
}

/// The public base URL, checked and ending with `/` (so relative joins keep a prefix).
fn checked_base_url(url: Option<Url>) -> Result<Url, BuildError> {
    let mut url = url.ok_or(BuildError::MissingPublicBaseUrl)?;
    let invalid = |url: &Url, reason| BuildError::InvalidPublicBaseUrl {
        url: url.to_string(),
        reason,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&url, "only http and https are served"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(&url, "it has a query or a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(&url, "it carries credentials"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryDirectory, MemoryUsage};

    fn builder() -> EngineBuilder {
        Engine::builder(
            Arc::new(MemoryDirectory::new()),
            Arc::new(MemoryUsage::new()),
        )
    }

    #[test]
    fn the_base_url_gets_a_trailing_slash_and_keeps_its_prefix() {
        let engine = builder()
            .public_base_url("https://example.com/fanout".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            engine.public_base_url().as_str(),
            "https://example.com/fanout/"
        );
    }

    #[test]
    fn unusable_base_urls_are_refused_with_the_reason() {
        for (url, reason) in [
            ("ftp://example.com/", "only http and https are served"),
            ("https://example.com/?a=1", "it has a query or a fragment"),
            ("https://u:p@example.com/", "it carries credentials"),
        ] {
            let err = builder()
                .public_base_url(url.parse().unwrap())
                .build()
                .unwrap_err();
            assert!(
                matches!(&err, BuildError::InvalidPublicBaseUrl { reason: r, .. } if *r == reason),
                "{url}: {err}"
            );
            assert!(err.to_string().contains(reason), "{err}");
        }
    }

    struct Named(&'static str);

    #[async_trait::async_trait]
    impl Publisher for Named {
        fn id(&self) -> &'static str {
            self.0
        }
        fn display_name(&self) -> &'static str {
            self.0
        }
        fn capabilities(&self) -> crate::Capabilities {
            crate::Capabilities::default()
        }
        async fn publish(
            &self,
            _: crate::PublishContext<'_>,
        ) -> Result<crate::Receipt, crate::PublishError> {
            Err(crate::PublishError::rejected("not used"))
        }
    }

    #[test]
    fn a_publisher_id_may_be_added_once() {
        let err = builder()
            .public_base_url("http://127.0.0.1:1/".parse().unwrap())
            .publisher(Arc::new(Named("alpha")))
            .publisher(Arc::new(Named("beta")))
            .publisher(Arc::new(Named("alpha")))
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            BuildError::DuplicatePublisher { id: "alpha" }
        ));
        assert_eq!(
            err.to_string(),
            "two publishers have the id `alpha` — each platform may be added once; remove \
             one of them or give the other its own id"
        );
    }

    #[test]
    fn settings_are_kept() {
        let settings = EngineSettings {
            url_fetch_timeout: std::time::Duration::from_secs(7),
            media_link_ttl: std::time::Duration::from_secs(9),
            ..EngineSettings::default()
        };
        let engine = builder()
            .public_base_url("http://127.0.0.1:1/".parse().unwrap())
            .settings(settings)
            .build()
            .unwrap();
        assert_eq!(
            engine.settings().url_fetch_timeout,
            std::time::Duration::from_secs(7)
        );
        assert_eq!(
            engine.settings().media_link_ttl,
            std::time::Duration::from_secs(9)
        );
    }
}
