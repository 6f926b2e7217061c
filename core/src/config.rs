//! Configuration: a TOML file named by `FANOUT_CONFIG`, every key overridable by an
//! environment variable (`FANOUT_ADDR` for `addr`, `FANOUT_STORE__PATH` for
//! `store.path`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::accounts::{Connection, Plan};

/// The environment variable naming the TOML config file.
pub const CONFIG_FILE_VAR: &str = "FANOUT_CONFIG";

/// Everything the ready server reads.
#[derive(Debug, Clone, Deserialize)]
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
    /// Run the fake platforms in-process and point the publishers at them.
    #[serde(default = "defaults::sandbox")]
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
    /// Where uploads are spooled (the system temp directory by default).
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// The account, usage and job store.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where the media of accepted posts is kept until their jobs no longer need it.
    /// Unset: a `fanout-media` directory beside the SQLite file, or, with the store in
    /// memory (where no job survives a restart either), a temporary directory removed
    /// when the server stops.
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
    /// Per-platform settings (`[platforms.tiktok]` …), read by each platform crate.
    #[serde(default)]
    pub platforms: BTreeMap<String, figment::value::Value>,
}

/// Which store holds accounts and usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreConfig {
    /// One SQLite file (the default; nothing to install).
    Sqlite {
        /// The database file.
        #[serde(default = "defaults::sqlite_path")]
        path: PathBuf,
    },
    /// In memory; lost on exit.
    Memory,
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
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MediaConfig {
    /// A local directory. Several processes on one machine or one shared volume can
    /// use the same one.
    Local {
        /// The directory.
        #[serde(default = "defaults::media_path")]
        path: PathBuf,
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

/// An account to seed.
#[derive(Debug, Clone, Deserialize)]
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
pub struct ProfileConfig {
    /// The profile's username (the form's `user`).
    pub username: String,
    /// Connected accounts by platform id.
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
}

/// A config problem, with what to change.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads `$FANOUT_CONFIG` (when set) and `FANOUT_*` environment variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment())
    }

    /// The figment [`Config::load`] reads: the file, then the environment.
    pub fn figment() -> Figment {
        let mut figment = Figment::new();
        if let Ok(path) = std::env::var(CONFIG_FILE_VAR) {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(Env::prefixed("FANOUT_").ignore(&["config"]).split("__"))
    }

    /// Extracts and checks a config from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
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
            .map_err(|e| ConfigError(format!("[platforms.{name}]: {e}")))
    }

    fn check(&self) -> Result<(), ConfigError> {
        for account in &self.accounts {
            if !self.plans.contains_key(&account.plan) {
                return Err(ConfigError(format!(
                    "account `{}` names plan `{}`, which is not defined; add [plans.{}]",
                    account.name, account.plan, account.plan
                )));
            }
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError(
                "max_upload_bytes must be greater than 0".into(),
            ));
        }
        Ok(())
    }
}

mod defaults {
    use std::path::PathBuf;

    pub fn addr() -> String {
        "127.0.0.1:8080".into()
    }
    pub fn sandbox() -> bool {
        true
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
    fn defaults_are_sandbox_and_sqlite() {
        let c = Config::from_toml("").unwrap();
        assert!(c.sandbox);
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(
            c.store,
            StoreConfig::Sqlite {
                path: "fanout.db".into()
            }
        );
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
}
