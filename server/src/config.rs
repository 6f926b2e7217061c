//! The ready server's configuration: a TOML file named by `FANOUT_CONFIG`, every key
//! overridable by an environment variable (`FANOUT_ADDR` for `addr`,
//! `FANOUT_STORE__PATH` for `store.path`, `FANOUT_STORE__URL` for a PostgreSQL
//! store's URL).
//!
//! Unknown keys are refused with the key's name and the nearest valid one (a typo such
//! as `sandox = false` must not leave a server in sandbox mode). With a config file,
//! sandbox mode is on only when the file (or `FANOUT_SANDBOX`) says `sandbox = true`;
//! with no file at all it is on, so the first run needs nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use fanout_core::{Connection, Plan};

pub use crate::limits::{HttpConfig, RateLimitConfig};

/// Every top-level key of [`Config`] (environment variables are read for these only).
const TOP_LEVEL_KEYS: &[&str] = &[
    "addr",
    "public_base_url",
    "jwt_secret",
    "sandbox",
    "max_upload_bytes",
    "publish_timeout_secs",
    "media_link_ttl_secs",
    "token_refresh_margin_secs",
    "spool_dir",
    "store",
    "media",
    "jobs",
    "plans",
    "accounts",
    "accounts_owned",
    "reconnect_hint",
    "http",
    "rate_limit",
    "fetch",
    "platforms",
];

/// The environment variable naming the TOML config file.
pub const CONFIG_FILE_VAR: &str = "FANOUT_CONFIG";

/// Everything the ready server reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the server listens.
    #[serde(default = "defaults::addr")]
    pub addr: String,
    /// The base of hosted-media links platforms fetch; defaults to `http://<addr>`.
    #[serde(default)]
    pub public_base_url: Option<url::Url>,
    /// Secret for HS256 Bearer tokens.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// Run the fake platforms in-process and point the publishers at them. Off unless
    /// the file says so; on when there is no config file at all.
    #[serde(default)]
    pub sandbox: bool,
    /// Largest request body accepted (413 beyond it).
    #[serde(default = "defaults::max_upload_bytes")]
    pub max_upload_bytes: u64,
    /// How long one platform may take, in seconds.
    #[serde(default = "defaults::publish_timeout_secs")]
    pub publish_timeout_secs: u64,
    /// How long a hosted-media link lives at most, in seconds.
    #[serde(default = "defaults::media_link_ttl_secs")]
    pub media_link_ttl_secs: u64,
    /// Access tokens expiring within this many seconds are refreshed before publishing.
    #[serde(default = "defaults::token_refresh_margin_secs")]
    pub token_refresh_margin_secs: u64,
    /// Where uploads are spooled (the system temp directory by default), in a
    /// `fanout-spool-<pid>` directory per process.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// The account, usage and job store.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where the media of accepted posts is kept until their jobs no longer need it.
    /// Unset: a `fanout-media` directory beside the SQLite file, or, with the store in
    /// memory (where no job survives a restart either), a scratch directory in the
    /// spool directory, removed when the server stops (or, after a crash, at the next
    /// start).
    #[serde(default)]
    pub media: Option<MediaConfig>,
    /// Jobs: how long synchronous uploads wait, leases, retries, shutdown.
    #[serde(default)]
    pub jobs: JobsConfig,
    /// Plans by name.
    #[serde(default)]
    pub plans: BTreeMap<String, Plan>,
    /// Accounts seeded into the store at start-up (upsert).
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// The config owns the accounts: an account in the store that is not in
    /// `[[accounts]]` cannot authenticate (its API key and its tokens are refused), so
    /// removing an account from the file and restarting disables it. Its stored data
    /// stays; putting it back in the file enables it again. Off by default (accounts
    /// are only added and updated). The sandbox's demo account counts as configured
    /// while it is seeded.
    #[serde(default)]
    pub accounts_owned: bool,
    /// The sentence the envelope adds after a platform's "session has expired": how
    /// to reconnect in your product. upload-post's wording by default; `""` for none.
    #[serde(default = "defaults::reconnect_hint")]
    pub reconnect_hint: String,
    /// Connections and requests: timeouts, caps, shutdown grace (`[http]`).
    #[serde(default)]
    pub http: HttpConfig,
    /// Request budgets and the failed-authentication throttle (`[rate_limit]`).
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Media given as URLs: which addresses may be fetched, per-request totals, the
    /// slowest rate accepted (`[fetch]`).
    #[serde(default)]
    pub fetch: FetchConfig,
    /// Per-platform settings (`[platforms.tiktok]` …), read by each platform crate.
    #[serde(default)]
    pub platforms: BTreeMap<String, figment::value::Value>,
}

/// Which store holds accounts and usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// One SQLite file (the default; nothing to install).
    Sqlite {
        /// The database file.
        #[serde(default = "defaults::sqlite_path")]
        path: PathBuf,
    },
    /// PostgreSQL: one database (and schema) shared by every instance, so limits,
    /// jobs, OAuth attempts, media links and token refreshes hold across them.
    Postgres {
        /// `postgres://user:password@host:5432/database` (a secret: it may carry the
        /// password; `FANOUT_STORE__URL` sets it from the environment).
        url: StoreUrl,
        /// Most connections this instance keeps open; the database's
        /// `max_connections` must cover every instance's pool together.
        #[serde(default = "defaults::pool_size")]
        pool_size: usize,
        /// The schema to keep the tables in (created when missing); unset, the
        /// connection's `search_path` (normally `public`).
        #[serde(default)]
        schema: Option<String>,
    },
    /// In memory; lost on exit.
    Memory,
}

/// A database URL, hidden in `Debug` (it may carry a password).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// A URL as written.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL as written, password included: only for opening the store.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                write!(f, "{:?}", url.as_str())
            }
            Ok(url) => write!(f, "{:?}", url.as_str()),
            Err(_) => f.write_str("\"(a store URL, hidden)\""),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self::Sqlite {
            path: defaults::sqlite_path(),
        }
    }
}

/// Where job media lives (`[media]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum MediaConfig {
    /// A local directory. Several processes on one machine or one shared volume can
    /// use the same one.
    Local {
        /// The directory.
        #[serde(default = "defaults::media_path")]
        path: PathBuf,
    },
    /// S3 or S3-compatible storage (MinIO, R2, …), for instances on several machines.
    /// Credentials come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, …), never from this file. Needs a
    /// fanout built with the `s3` feature.
    S3 {
        /// The bucket.
        bucket: String,
        /// The endpoint of S3-compatible storage (`http://minio:9000`); unset, AWS.
        #[serde(default)]
        endpoint: Option<String>,
        /// The region; unset, `AWS_DEFAULT_REGION` or `us-east-1`.
        #[serde(default)]
        region: Option<String>,
    },
    /// In memory: every byte of every pending post is held in RAM. Tests only.
    Memory,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self::Local {
            path: defaults::media_path(),
        }
    }
}

/// Durable posts (`[jobs]`); every duration in seconds unless named `_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// How long a synchronous upload waits for its job before answering with the
    /// background shape.
    #[serde(default = "defaults::sync_timeout_secs")]
    pub sync_timeout_secs: u64,
    /// How long after a job finished its failed platforms can be retried (and its
    /// media is kept).
    #[serde(default = "defaults::retry_window_secs")]
    pub retry_window_secs: u64,
    /// How long a runner's claim on a job lasts unless renewed; after a crash, jobs
    /// are taken up again once their lease lapsed.
    #[serde(default = "defaults::job_lease_secs")]
    pub lease_secs: u64,
    /// How often the runner looks for due jobs, in milliseconds.
    #[serde(default = "defaults::runner_poll_ms")]
    pub poll_ms: u64,
    /// How long to wait before following up a platform still processing.
    #[serde(default = "defaults::follow_up_delay_secs")]
    pub follow_up_delay_secs: u64,
    /// On SIGTERM: how long running jobs may take to finish before they are left for
    /// the next start.
    #[serde(default = "defaults::shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            sync_timeout_secs: defaults::sync_timeout_secs(),
            retry_window_secs: defaults::retry_window_secs(),
            lease_secs: defaults::job_lease_secs(),
            poll_ms: defaults::runner_poll_ms(),
            follow_up_delay_secs: defaults::follow_up_delay_secs(),
            shutdown_grace_secs: defaults::shutdown_grace_secs(),
        }
    }
}

/// How media given as URLs is fetched (`[fetch]`).
///
/// Only global unicast addresses are fetched unless `allow` lists more blocks
/// (`allow = ["127.0.0.0/8"]`); unset, the sandbox allows loopback and a real server
/// nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Address blocks fetched from besides global ones (CIDR, e.g. `10.0.0.0/8`).
    #[serde(default)]
    pub allow: Option<Vec<fanout_core::IpCidr>>,
    /// How many media one request may give as URLs (35).
    #[serde(default)]
    pub max_urls: Option<usize>,
    /// How many bytes the URLs of one request may bring in all (`max_upload_bytes`).
    #[serde(default)]
    pub max_total_bytes: Option<u64>,
    /// The slowest transfer accepted, in bytes per second over each window (16384).
    #[serde(default)]
    pub min_bytes_per_sec: Option<u64>,
    /// The window that rate is measured over, and the longest wait for an answer (10).
    #[serde(default)]
    pub rate_window_secs: Option<u64>,
    /// How many redirects one URL may take (5).
    #[serde(default)]
    pub max_redirects: Option<usize>,
    /// How long one URL may take in all (120).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

impl FetchConfig {
    /// The engine's settings from this table; `sandbox` allows loopback when `allow`
    /// is unset.
    pub fn settings(&self, sandbox: bool) -> fanout_core::FetchSettings {
        let mut settings = fanout_core::FetchSettings::default();
        settings.allow = match &self.allow {
            Some(allow) => allow.clone(),
            None if sandbox => fanout_core::IpCidr::loopback(),
            None => Vec::new(),
        };
        settings.max_urls = self.max_urls.unwrap_or(settings.max_urls);
        settings.max_total_bytes = self.max_total_bytes.or(settings.max_total_bytes);
        settings.min_bytes_per_sec = self.min_bytes_per_sec.unwrap_or(settings.min_bytes_per_sec);
        if let Some(secs) = self.rate_window_secs {
            settings.rate_window = std::time::Duration::from_secs(secs.max(1));
        }
        settings.max_redirects = self.max_redirects.unwrap_or(settings.max_redirects);
        settings
    }
}

/// An account to seed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Unique name (the `sub` of its JWTs).
    pub name: String,
    /// Its API key (stored hashed).
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Name of a plan in `[plans]`.
    pub plan: String,
    /// When the API key stops working.
    #[serde(default)]
    pub api_key_expires_at: Option<DateTime<Utc>>,
    /// Its profiles.
    #[serde(default)]
    pub profiles: Vec<ProfileConfig>,
}

/// A profile to seed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// The profile's username (the form's `user`).
    pub username: String,
    /// Connected accounts by platform id.
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
}

/// What kind of config problem a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A key no table has (a typo): the message names the nearest valid key.
    UnknownKey,
    /// A required key is missing.
    Missing,
    /// A value has the wrong type or is out of range, or settings contradict each other.
    Invalid,
    /// The config file could not be read or parsed.
    Unreadable,
    /// A secret is a known placeholder or too short to be safe outside sandbox mode.
    Insecure,
    /// The config asks for something this build does not contain (a cargo feature).
    Unsupported,
}

/// A config problem: its kind, a sentence saying what to change, and the underlying
/// error (figment's, a URL parser's…) as its [`std::error::Error::source`].
///
/// ```
/// let err = fanout_server::Config::from_toml("sandox = false").unwrap_err();
/// assert_eq!(err.kind(), fanout_server::ConfigErrorKind::UnknownKey);
/// assert!(err.to_string().contains("did you mean `sandbox`?"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {message}")]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ConfigError {
    /// An error of `kind` with the given sentence.
    pub fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// [`ConfigErrorKind::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Invalid, message)
    }

    /// [`ConfigErrorKind::Insecure`].
    pub fn insecure(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Insecure, message)
    }

    /// [`ConfigErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Unsupported, message)
    }

    /// The same error with `source` as its cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Its kind.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The sentence (without the "invalid configuration: " prefix).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Config {
    /// Reads `$FANOUT_CONFIG` (when set) and `FANOUT_*` environment variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment())
    }

    /// The figment [`Config::load`] reads: the file, then the environment. Without a
    /// file, `sandbox` defaults to `true`.
    pub fn figment() -> Figment {
        let mut figment = Figment::new();
        match std::env::var(CONFIG_FILE_VAR) {
            Ok(path) => figment = figment.merge(Toml::file_exact(path)),
            Err(_) => figment = figment.merge(Serialized::default("sandbox", true)),
        }
        // The environment is shared with other programs (FANOUT_PYTHON, say): only
        // variables naming a key of this config are read.
        let env = Env::prefixed("FANOUT_")
            .filter(|key| {
                let top = key.as_str().split("__").next().unwrap_or_default();
                TOP_LEVEL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
            })
            .split("__");
        figment.merge(env)
    }

    /// Extracts and checks a config from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(explain)?;
        config.check()?;
        Ok(config)
    }

    /// Parses a TOML string (with no environment overrides).
    pub fn from_toml(toml: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(toml)))
    }

    /// The settings of platform `name` as `T` (`[platforms.<name>]`); an absent
    /// section reads as empty, so `T`'s serde defaults fill it.
    pub fn platform<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let section = self
            .platforms
            .get(name)
            .cloned()
            .unwrap_or_else(|| figment::value::Value::from(figment::value::Dict::new()));
        Figment::from(Serialized::defaults(section))
            .extract()
            .map_err(|e| ConfigError::invalid(format!("[platforms.{name}]: {e}")).with_source(e))
    }

    fn check(&self) -> Result<(), ConfigError> {
        for account in &self.accounts {
            if !self.plans.contains_key(&account.plan) {
                return Err(ConfigError::invalid(format!(
                    "account `{}` names plan `{}`, which is not defined; add [plans.{}]",
                    account.name, account.plan, account.plan
                )));
            }
        }
        if matches!(self.media, Some(MediaConfig::S3 { .. })) && !cfg!(feature = "s3") {
            return Err(ConfigError::unsupported(
                "[media] kind = \"s3\" needs a fanout built with the `s3` feature \
                 (cargo build -p fanout-server --features s3); or use kind = \"local\" \
                 with a directory every instance shares",
            ));
        }
        if let StoreConfig::Postgres { pool_size: 0, .. } = self.store {
            return Err(ConfigError::invalid("[store] pool_size must be at least 1"));
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError::invalid(
                "max_upload_bytes must be greater than 0",
            ));
        }
        self.http.check().map_err(ConfigError::invalid)?;
        self.rate_limit
            .check(&self.plans)
            .map_err(ConfigError::invalid)?;
        Ok(())
    }
}

/// Words figment's errors for people: an unknown key names the nearest valid one.
fn explain(errors: figment::Error) -> ConfigError {
    use figment::error::Kind;
    let kind = match &errors.kind {
        Kind::UnknownField(..) => ConfigErrorKind::UnknownKey,
        Kind::MissingField(..) => ConfigErrorKind::Missing,
        Kind::Message(..) => ConfigErrorKind::Unreadable,
        _ => ConfigErrorKind::Invalid,
    };
    let source = errors.clone();
    let sentences: Vec<String> = errors
        .into_iter()
        .map(|error| {
            let at = |path: &[String]| {
                if path.is_empty() {
                    String::new()
                } else {
                    format!(" in [{}]", path.join("."))
                }
            };
            match &error.kind {
                figment::error::Kind::UnknownField(key, expected) => {
                    // The path sometimes ends with the key itself.
                    let mut path = error.path.clone();
                    if path.last() == Some(key) {
                        path.pop();
                    }
                    let at = at(&path);
                    let nearest = expected
                        .iter()
                        .min_by_key(|valid| strsim::levenshtein(key, valid))
                        .map(|valid| format!("; did you mean `{valid}`?"))
                        .unwrap_or_default();
                    format!("unknown key `{key}`{at}{nearest}")
                }
                _ => format!("{error}{}", at(&error.path)),
            }
        })
        .collect();
    ConfigError::new(kind, sentences.join("; ")).with_source(source)
}

mod defaults {
    pub fn reconnect_hint() -> String {
        fanout_core::UPLOAD_POST_RECONNECT_HINT.to_string()
    }

    use std::path::PathBuf;

    pub fn addr() -> String {
        "127.0.0.1:8080".into()
    }
    pub fn max_upload_bytes() -> u64 {
        4 * 1024 * 1024 * 1024
    }
    pub fn publish_timeout_secs() -> u64 {
        600
    }
    pub fn media_link_ttl_secs() -> u64 {
        3600
    }
    pub fn token_refresh_margin_secs() -> u64 {
        300
    }
    pub fn sqlite_path() -> PathBuf {
        PathBuf::from("fanout.db")
    }
    pub fn pool_size() -> usize {
        16
    }
    pub fn media_path() -> PathBuf {
        PathBuf::from("fanout-media")
    }
    pub fn sync_timeout_secs() -> u64 {
        59
    }
    pub fn retry_window_secs() -> u64 {
        86_400
    }
    pub fn job_lease_secs() -> u64 {
        60
    }
    pub fn runner_poll_ms() -> u64 {
        1000
    }
    pub fn follow_up_delay_secs() -> u64 {
        30
    }
    pub fn shutdown_grace_secs() -> u64 {
        30
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
addr = "127.0.0.1:9999"
jwt_secret = "s3cret"
sandbox = false
max_upload_bytes = 1000

[store]
kind = "memory"

[plans.pro]
monthly_uploads = 120
daily_uploads_per_account = 5

[[accounts]]
name = "acme"
api_key = "ak_1"
plan = "pro"
api_key_expires_at = "2027-01-01T00:00:00Z"

[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.instagram]
account_name = "acme_ig"
access_token = "tok"
user_id = "1784"

[platforms.linkedin]
base_url = "http://127.0.0.1:1/"
"#;

    #[test]
    fn reads_the_documented_shape() {
        let c = Config::from_toml(SAMPLE).unwrap();
        assert_eq!(c.addr, "127.0.0.1:9999");
        assert!(!c.sandbox);
        assert_eq!(c.store, StoreConfig::Memory);
        assert_eq!(c.plans["pro"].daily_uploads_per_account, Some(5));
        let ig = &c.accounts[0].profiles[0].connections["instagram"];
        assert_eq!(ig.account_name, "acme_ig");
        assert_eq!(ig.attribute("user_id"), Some("1784"));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn a_file_turns_sandbox_on_only_when_it_says_so() {
        assert!(!Config::from_toml("").unwrap().sandbox);
        assert!(Config::from_toml("sandbox = true").unwrap().sandbox);
    }

    #[test]
    fn unknown_keys_name_the_nearest_valid_one() {
        let err = Config::from_toml("sandox = false").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid configuration: unknown key `sandox`; did you mean `sandbox`?"
        );
        let err = Config::from_toml("[store]\nkind = \"sqlite\"\npaht = \"x.db\"")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid configuration: unknown key `paht` in [store]; did you mean `path`?"
        );
        let err = Config::from_toml("[jobs]\nsync_timeout = 5")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid configuration: unknown key `sync_timeout` in [jobs]; did you mean `sync_timeout_secs`?"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn without_a_file_the_sandbox_is_on() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let c = Config::load().map_err(|e| e.to_string())?;
            assert!(c.sandbox);
            jail.create_file("fanout.toml", "addr = \"127.0.0.1:1\"")?;
            jail.set_env("FANOUT_CONFIG", "fanout.toml");
            let c = Config::load().map_err(|e| e.to_string())?;
            assert!(
                !c.sandbox,
                "a file that does not say sandbox = true runs for real"
            );
            Ok(())
        });
    }

    #[test]
    fn every_top_level_key_is_listed_for_the_environment() {
        let mut dict = figment::value::Dict::new();
        dict.insert("not_a_key".into(), figment::value::Value::from(1u8));
        let errors = Figment::from(Serialized::defaults(dict))
            .extract::<Config>()
            .unwrap_err();
        let expected = errors
            .into_iter()
            .find_map(|e| match e.kind {
                figment::error::Kind::UnknownField(_, expected) => Some(expected),
                _ => None,
            })
            .expect("an unknown key is refused");
        let mut fields: Vec<&str> = expected.to_vec();
        let mut listed: Vec<&str> = TOP_LEVEL_KEYS.to_vec();
        fields.sort_unstable();
        listed.sort_unstable();
        assert_eq!(fields, listed);
    }

    #[test]
    fn defaults_are_sqlite() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(
            c.store,
            StoreConfig::Sqlite {
                path: "fanout.db".into()
            }
        );
    }

    #[test]
    fn reads_a_postgres_store_and_hides_its_password() {
        let c = Config::from_toml(
            "[store]\nkind = \"postgres\"\nurl = \"postgres://fanout:pw-secret@db:5432/fanout\"\n\
             schema = \"fanout\"\n[media]\nkind = \"local\"\npath = \"/shared/media\"",
        )
        .unwrap();
        assert_eq!(
            c.store,
            StoreConfig::Postgres {
                url: StoreUrl::new("postgres://fanout:pw-secret@db:5432/fanout"),
                pool_size: 16,
                schema: Some("fanout".into()),
            }
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw-secret"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
        let err = Config::from_toml(
            "[store]\nkind = \"postgres\"\nurl = \"postgres://db/x\"\npool_sise = 4",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid configuration: unknown key `pool_sise` in [store]; did you mean `pool_size`?"
        );
    }

    #[test]
    fn s3_media_is_read_and_needs_the_feature() {
        let toml =
            "[media]\nkind = \"s3\"\nbucket = \"fanout\"\nendpoint = \"http://127.0.0.1:9000\"";
        let read = Config::from_toml(toml);
        if cfg!(feature = "s3") {
            assert_eq!(
                read.unwrap().media,
                Some(MediaConfig::S3 {
                    bucket: "fanout".into(),
                    endpoint: Some("http://127.0.0.1:9000".into()),
                    region: None,
                })
            );
        } else {
            let err = read.unwrap_err().to_string();
            assert!(err.contains("`s3` feature"), "{err}");
        }
    }

    #[test]
    fn unknown_plan_is_explained() {
        let err = Config::from_toml("[[accounts]]\nname = \"a\"\nplan = \"gold\"\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("plan `gold`, which is not defined"),
            "{err}"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn environment_overrides_file_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("fanout.toml", SAMPLE)?;
            jail.set_env("FANOUT_CONFIG", "fanout.toml");
            jail.set_env("FANOUT_ADDR", "0.0.0.0:7000");
            jail.set_env("FANOUT_STORE__KIND", "sqlite");
            jail.set_env("FANOUT_STORE__PATH", "other.db");
            let c = Config::load().map_err(|e| e.to_string())?;
            assert_eq!(c.addr, "0.0.0.0:7000");
            assert_eq!(
                c.store,
                StoreConfig::Sqlite {
                    path: "other.db".into()
                }
            );
            assert_eq!(c.max_upload_bytes, 1000);
            Ok(())
        });
    }

    #[test]
    fn errors_say_their_kind_and_keep_their_source() {
        let unknown = Config::from_toml("sandox = false").unwrap_err();
        assert_eq!(unknown.kind(), ConfigErrorKind::UnknownKey);
        assert!(std::error::Error::source(&unknown).is_some());
        let wrong_type = Config::from_toml("max_upload_bytes = \"lots\"").unwrap_err();
        assert_eq!(wrong_type.kind(), ConfigErrorKind::Invalid);
        let no_plan =
            Config::from_toml("[[accounts]]\nname = \"a\"\nplan = \"gold\"\n").unwrap_err();
        assert_eq!(no_plan.kind(), ConfigErrorKind::Invalid);
        assert_eq!(
            no_plan.message(),
            "account `a` names plan `gold`, which is not defined; add [plans.gold]"
        );
        if !cfg!(feature = "s3") {
            let s3 = Config::from_toml("[media]\nkind = \"s3\"\nbucket = \"b\"\n").unwrap_err();
            assert_eq!(s3.kind(), ConfigErrorKind::Unsupported, "{s3}");
        }
        let placeholder = crate::secrets::check(
            &Config::from_toml("sandbox = false\njwt_secret = \"change-me\"").unwrap(),
        )
        .unwrap_err();
        assert_eq!(placeholder.kind(), ConfigErrorKind::Insecure);
    }
}
