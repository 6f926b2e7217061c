//! Shared set-up for fanout's benchmarks: a sandbox server on a loopback port, and an
//! upload client that streams files from disk.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use fanout_server::Config;
use fanout_server::{App, RunningServer, Sandbox};

/// The account every benchmark uses.
pub const API_KEY: &str = "ak_bench";

/// The three platforms.
pub const PLATFORMS: [&str; 3] = ["tiktok", "instagram", "linkedin"];

/// Where the bench server keeps accounts, jobs and job media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// The production default: `[store] kind = "sqlite"` and `[media] kind = "local"`,
    /// both in a temporary directory removed when the server is.
    Durable,
    /// `[store] kind = "memory"` and `[media] kind = "memory"` (every byte of every
    /// pending post in RAM: small uploads only).
    Memory,
}

impl Storage {
    /// How the bench output names it.
    pub fn label(self) -> &'static str {
        match self {
            Storage::Durable => "sqlite store + local media dir",
            Storage::Memory => "memory store + memory media",
        }
    }
}

/// A sandbox server running in this process; stops when dropped (see
/// [`BenchServer::stop`] to wait for it).
pub struct BenchServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The fakes.
    pub sandbox: Arc<Sandbox>,
    server: RunningServer,
    /// Holds the SQLite file and the media directory; removed after the server.
    dir: tempfile::TempDir,
}

impl BenchServer {
    /// Shuts the server down gracefully, waits for it, then removes its files.
    pub async fn stop(self) -> Result<(), Box<dyn std::error::Error>> {
        let BenchServer { server, dir, .. } = self;
        server.stop().await?;
        dir.close()?;
        Ok(())
    }
}

/// A TOML basic string holding `path`.
fn toml_path(path: &Path) -> String {
    // A JSON string literal is a valid TOML basic string.
    serde_json::Value::String(path.to_string_lossy().into_owned()).to_string()
}

/// The `[store]`, `[media]` and `[jobs]` sections for `storage`, files under `dir`.
fn storage_toml(storage: Storage, dir: &Path) -> String {
    let jobs = "[jobs]\npoll_ms = 10\n";
    match storage {
        Storage::Durable => format!(
            "[store]\nkind = \"sqlite\"\npath = {}\n[media]\nkind = \"local\"\npath = {}\n{jobs}",
            toml_path(&dir.join("fanout.db")),
            toml_path(&dir.join("media")),
        ),
        Storage::Memory => {
            format!("[store]\nkind = \"memory\"\n[media]\nkind = \"memory\"\n{jobs}")
        }
    }
}

/// The benchmark config: sandbox, `storage` (files under `dir`), a plan and a request
/// budget that never run out, and `extra` TOML appended (platform settings).
pub fn config_toml(storage: Storage, dir: &Path, extra: &str) -> String {
    let storage = storage_toml(storage, dir);
    format!(
        r#"
sandbox = true
max_upload_bytes = 8589934592
spool_dir = {spool}
{storage}
[rate_limit]
requests_per_minute = 4000000000
[plans.bench]
monthly_uploads = 100000000
[[accounts]]
name = "bench"
api_key = "{API_KEY}"
plan = "bench"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "bench_tt"
access_token = "bench-tiktok"
[accounts.profiles.connections.instagram]
account_name = "bench_ig"
access_token = "bench-instagram"
[accounts.profiles.connections.linkedin]
account_name = "Bench Inc"
access_token = "bench-linkedin"
{extra}
"#,
        spool = toml_path(dir),
    )
}

/// Starts a sandbox server from [`config_toml`] with the production default storage
/// ([`Storage::Durable`]) in a temporary directory.
pub async fn start(extra: &str) -> Result<BenchServer, Box<dyn std::error::Error>> {
    start_with(Storage::Durable, extra).await
}

/// Starts a sandbox server from [`config_toml`] with `storage`; its files (SQLite
/// database, media, spooled uploads) live in a temporary directory.
pub async fn start_with(
    storage: Storage,
    extra: &str,
) -> Result<BenchServer, Box<dyn std::error::Error>> {
    let dir = tempfile::Builder::new().prefix("fanout-bench-").tempdir()?;
    let mut config = Config::from_toml(&config_toml(storage, dir.path(), extra))?;
    config.addr = "127.0.0.1:0".into();
    let server = App::build(config).await?.spawn();
    let sandbox = Arc::clone(
        server
            .sandbox()
            .ok_or("the bench server must run in sandbox mode")?,
    );
    // The fakes model each platform's own daily caps; a benchmark posts far more.
    sandbox.instagram.set_publishing_quota(u64::MAX / 2);
    sandbox.linkedin.set_daily_post_limit(u32::MAX);
    Ok(BenchServer {
        base_url: server.base_url().to_string(),
        sandbox,
        server,
        dir,
    })
}

/// Uploads the video at `path` to `platforms`, streaming it from disk, and returns the
/// status and JSON body.
pub async fn upload_file(
    client: &reqwest::Client,
    base_url: &str,
    path: &Path,
    platforms: &[&str],
) -> Result<(u16, serde_json::Value), Box<dyn std::error::Error>> {
    upload_file_with(client, base_url, path, platforms, &[]).await
}

/// [`upload_file`] with more form fields (`("async_upload", "true")`).
pub async fn upload_file_with(
    client: &reqwest::Client,
    base_url: &str,
    path: &Path,
    platforms: &[&str],
    fields: &[(&str, &str)],
) -> Result<(u16, serde_json::Value), Box<dyn std::error::Error>> {
    let file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    let mut form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "fanout benchmark");
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form = form.part(
        "video",
        reqwest::multipart::Part::stream_with_length(body, len).file_name("bench.mp4"),
    );
    for p in platforms {
        form = form.text("platform[]", p.to_string());
    }
    let response = client
        .post(format!("{base_url}/api/upload"))
        .header("authorization", format!("Apikey {API_KEY}"))
        .multipart(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// `GET /api/uploadposts/status?request_id=<id>`: the status and JSON body.
pub async fn job_status(
    client: &reqwest::Client,
    base_url: &str,
    request_id: &str,
) -> Result<(u16, serde_json::Value), Box<dyn std::error::Error>> {
    let response = client
        .get(format!("{base_url}/api/uploadposts/status"))
        .query(&[("request_id", request_id)])
        .header("authorization", format!("Apikey {API_KEY}"))
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}
