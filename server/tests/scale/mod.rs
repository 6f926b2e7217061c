//! Several `fanout` processes on one PostgreSQL schema and one media directory (or one
//! S3 bucket, [`s3`]), with the platform fakes outside them: what `scale_out.rs` runs.
//!
//! Each [`Cluster`] has a PostgreSQL schema of its own (random name, dropped with the
//! cluster), a temporary directory for the shared media and the config files, and
//! the three testkit fakes, started by the test as real platforms would be
//! (`sandbox = false`), so every instance publishes to the same fakes and the fakes
//! count every post. Instance 3 starts first; every instance's `public_base_url` is
//! instance 3's address (the load balancer, here), so media links minted anywhere are
//! fetched from instance 3.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{SecondsFormat, Utc};
use fanout_core::secrecy::ExposeSecret;
use fanout_core::Connection;
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::FakePlatform;
use serde_json::Value;
use tokio_postgres::NoTls;

use crate::support;

pub mod s3;

/// The API key of account `acme`.
pub const KEY: &str = "ak_acme";
/// TikTok's OAuth client.
pub const TT_CLIENT: &str = "tt-client";
pub const TT_SECRET: &str = "tt-secret";
/// `[jobs] poll_ms`.
pub const RUNNER_POLL_MS: u64 = 100;
/// `[jobs] lease_secs`: how long a dead instance's claim on a job lasts.
pub const LEASE_SECS: u64 = 2;
/// `[platforms.*] poll_interval_ms`.
pub const PLATFORM_POLL_MS: u64 = 20;
/// The longest any wait may take before the test fails (an upper bound only).
pub const WITHIN: Duration = Duration::from_secs(60);
/// How often a condition is polled.
pub const EVERY: Duration = Duration::from_millis(50);

/// Where the tests find PostgreSQL.
pub fn postgres_url() -> String {
    std::env::var("FANOUT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A raw connection for the test's own SQL.
pub async fn raw() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&postgres_url(), NoTls)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "PostgreSQL does not answer at {} ({err}): start it (pg_isready -h \
                 127.0.0.1), with user postgres (trust) and database test, or set \
                 FANOUT_TEST_POSTGRES_URL",
                postgres_url()
            )
        });
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A schema of its own for one test, dropped (with everything in it) on drop.
pub struct TestSchema {
    pub name: String,
}

impl TestSchema {
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Self {
            name: format!("fanout_scale_{}_{nanos:x}", std::process::id()),
        }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&postgres_url(), NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client.batch_execute(&sql).await.map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// The three platforms, each accepting account `acme`'s tokens.
pub struct Fakes {
    pub tiktok: FakeTikTok,
    pub instagram: FakeInstagram,
    pub linkedin: FakeLinkedIn,
}

impl Fakes {
    pub async fn start() -> Self {
        let fakes = Self {
            tiktok: FakeTikTok::spawn().await.unwrap(),
            instagram: FakeInstagram::spawn().await.unwrap(),
            linkedin: FakeLinkedIn::spawn().await.unwrap(),
        };
        fakes.tiktok.set_client(TT_CLIENT, TT_SECRET);
        fakes.tiktok.accept_token("tt-acme", "acme_tt");
        fakes.instagram.accept_token("ig-acme", "acme_ig");
        fakes.linkedin.accept_token("li-acme", "Acme Inc");
        fakes
    }

    pub fn fake(&self, platform: &str) -> &dyn FakePlatform {
        match platform {
            "tiktok" => &self.tiktok,
            "instagram" => &self.instagram,
            "linkedin" => &self.linkedin,
            other => panic!("no fake for {other}"),
        }
    }

    /// Posts published so far on TikTok, Instagram and LinkedIn.
    pub fn posts(&self) -> [usize; 3] {
        ["tiktok", "instagram", "linkedin"].map(|p| self.fake(p).published().len())
    }
}

/// What differs between the tests' clusters.
pub struct Setup {
    /// `[plans.pro]`'s body (account `acme`'s plan).
    pub plan: String,
    /// Profile `main`'s TikTok connection; `None`: the fixed token `tt-acme`.
    pub tiktok: Option<Connection>,
    /// More TOML (plans, accounts) appended to the config.
    pub extra: String,
    /// Where the instances keep media.
    pub media: Media,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            plan: "monthly_uploads = 1000".to_string(),
            tiktok: None,
            extra: String::new(),
            media: Media::SharedDirectory,
        }
    }
}

/// Where a cluster keeps media.
pub enum Media {
    /// One directory of the cluster's, given to every instance.
    SharedDirectory,
    /// A bucket of S3-compatible storage ([`s3::Moto`]); no directory is shared.
    S3 {
        /// The storage's endpoint.
        endpoint: String,
        /// The bucket (it must exist).
        bucket: String,
    },
}

/// Three instances on one schema and one media directory (or bucket).
pub struct Cluster {
    pub fakes: Fakes,
    pub instances: Vec<Instance>,
    pub dir: tempfile::TempDir,
    pub schema: TestSchema,
    setup: Setup,
}

impl Cluster {
    /// Starts the fakes and three instances (instance 3 first: its address is every
    /// instance's `public_base_url`); checks `/healthz` and `/readyz` on each.
    pub async fn start(fakes: Fakes, setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Self {
            fakes,
            instances: Vec::new(),
            dir,
            schema: TestSchema::new(),
            setup,
        };
        let third = cluster.start_instance(3, None);
        let public = third.base_url.clone();
        let first = cluster.start_instance(1, Some(&public));
        let second = cluster.start_instance(2, Some(&public));
        cluster.instances = vec![first, second, third];
        for instance in &cluster.instances {
            for path in ["/healthz", "/readyz"] {
                let response = reqwest::get(format!("{}{path}", instance.base_url))
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{path} of {}", instance.base_url);
            }
        }
        cluster
    }

    /// Instance `n` (1, 2 or 3).
    pub fn instance(&self, n: usize) -> &Instance {
        &self.instances[n - 1]
    }

    /// Instance `n`'s base URL.
    pub fn url(&self, n: usize) -> String {
        self.instance(n).base_url.clone()
    }

    fn start_instance(&self, n: usize, public_base_url: Option<&str>) -> Instance {
        let toml = self.config_toml(public_base_url);
        let path = self.dir.path().join(format!("fanout-{n}.toml"));
        std::fs::write(&path, toml).unwrap();
        // Warnings, and each claim of a due job (tests count them).
        let log = "warn,fanout_core::engine::runner=info";
        match self.setup.media {
            Media::SharedDirectory => Instance::start_logging(&path, self.dir.path(), log),
            Media::S3 { .. } => {
                Instance::start_with_env(&path, self.dir.path(), log, &s3::CREDENTIALS)
            }
        }
    }

    fn config_toml(&self, public_base_url: Option<&str>) -> String {
        let fakes = &self.fakes;
        let public = public_base_url
            .map(|url| format!("public_base_url = \"{url}/\"\n"))
            .unwrap_or_default();
        let tiktok = match &self.setup.tiktok {
            None => "account_name = \"acme_tt\"\naccess_token = \"tt-acme\"\n".to_string(),
            Some(c) => {
                let mut toml = format!(
                    "account_name = \"{}\"\naccess_token = \"{}\"\n",
                    c.account_name,
                    c.access_token()
                );
                if let Some(refresh) = &c.refresh_token {
                    toml.push_str(&format!(
                        "refresh_token = \"{}\"\n",
                        refresh.expose_secret()
                    ));
                }
                if let Some(at) = c.expires_at {
                    toml.push_str(&format!("expires_at = \"{}\"\n", at.to_rfc3339()));
                }
                for (key, value) in &c.attributes {
                    toml.push_str(&format!("{key} = \"{value}\"\n"));
                }
                toml
            }
        };
        format!(
            r#"
addr = "127.0.0.1:0"
sandbox = false
{public}
[store]
kind = "postgres"
url = "{url}"
pool_size = 8
schema = "{schema}"
{media}
[jobs]
poll_ms = {RUNNER_POLL_MS}
lease_secs = {LEASE_SECS}
shutdown_grace_secs = 1
[plans.pro]
{plan}
[[accounts]]
name = "acme"
api_key = "{KEY}"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
{tiktok}
[accounts.profiles.connections.instagram]
account_name = "acme_ig"
access_token = "ig-acme"
[accounts.profiles.connections.linkedin]
account_name = "Acme Inc"
access_token = "li-acme"
{extra}
[platforms.tiktok]
base_url = "{tiktok_url}"
oauth_base_url = "{tiktok_url}"
client_id = "{TT_CLIENT}"
client_secret = "{TT_SECRET}"
poll_interval_ms = {PLATFORM_POLL_MS}
init_calls_per_minute = 6000
[platforms.instagram]
base_url = "{instagram}"
upload_base_url = "{instagram_upload}"
poll_interval_ms = {PLATFORM_POLL_MS}
[platforms.linkedin]
base_url = "{linkedin}"
poll_interval_ms = {PLATFORM_POLL_MS}
"#,
            url = postgres_url(),
            schema = self.schema.name,
            media = match &self.setup.media {
                Media::SharedDirectory => format!(
                    "[media]\nkind = \"local\"\npath = \"{}\"",
                    self.dir.path().join("media").display()
                ),
                Media::S3 { endpoint, bucket } => format!(
                    "[media]\nkind = \"s3\"\nbucket = \"{bucket}\"\nendpoint = \"{endpoint}\"\nregion = \"us-east-1\""
                ),
            },
            plan = self.setup.plan,
            extra = self.setup.extra,
            tiktok_url = fakes.tiktok.base_url(),
            instagram = fakes.instagram.base_url(),
            instagram_upload = fakes.instagram.upload_base_url(),
            linkedin = fakes.linkedin.base_url(),
        )
    }
}

/// One `fanout` process.
pub use crate::support::process::FanoutProcess as Instance;

/// `POST {base}{path}` with `Apikey {key}`: status, `X-Request-Id` and JSON body.
pub async fn post(
    base: &str,
    path: &str,
    key: &str,
    form: reqwest::multipart::Form,
) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("authorization", format!("Apikey {key}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    (status, request_id, response.json().await.unwrap())
}

/// `GET /api/uploadposts/status?{query}` on `base` for [`KEY`], which must answer 200.
pub async fn job_status(base: &str, query: &str) -> Value {
    support::job_status(base, KEY, query).await
}

/// [`support::wait_for`] with this cluster's [`WITHIN`] and [`EVERY`].
pub async fn wait_for<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    support::wait_for(what, WITHIN, EVERY, check).await
}

/// Follows a job's status on `base` until it finished; its last answer.
pub async fn wait_finished(base: &str, query: &str) -> Value {
    support::wait_finished(base, KEY, query, WITHIN, EVERY).await
}

/// The status item of `platform` in a status answer.
pub fn item<'a>(status: &'a Value, platform: &str) -> &'a Value {
    status["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {status}"))
        .iter()
        .find(|r| r["platform"] == platform)
        .unwrap_or_else(|| panic!("no {platform} in {status}"))
}

/// A `scheduled_date` `secs` seconds from now, to the second.
pub fn seconds_ahead(secs: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The directory of the shared media.
pub fn media_dir(cluster: &Cluster) -> PathBuf {
    cluster.dir.path().join("media")
}
