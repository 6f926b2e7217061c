//! Shared set-up for fanout's benchmarks: a sandbox server on a loopback port, and an
//! upload client that streams files from disk.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use fanout_core::Config;
use fanout_server::{App, RunningServer, Sandbox};

/// The account every benchmark uses.
pub const API_KEY: &str = "ak_bench";

/// The three platforms.
pub const PLATFORMS: [&str; 3] = ["tiktok", "instagram", "linkedin"];

/// A sandbox server running in this process; stops when dropped.
pub struct BenchServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The fakes.
    pub sandbox: Arc<Sandbox>,
    _server: RunningServer,
}

/// The benchmark config: sandbox, in-memory store, a plan that never runs out, and
/// `extra` TOML appended (platform settings).
pub fn config_toml(extra: &str) -> String {
    format!(
        r#"
sandbox = true
max_upload_bytes = 8589934592
[store]
kind = "memory"
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
"#
    )
}

/// Starts a sandbox server from [`config_toml`].
pub async fn start(extra: &str) -> Result<BenchServer, Box<dyn std::error::Error>> {
    let mut config = Config::from_toml(&config_toml(extra))?;
    config.addr = "127.0.0.1:0".into();
    let server = App::build(config).await?.spawn();
    let sandbox = Arc::clone(
        server
            .sandbox()
            .ok_or("the bench server must run in sandbox mode")?,
    );
    Ok(BenchServer {
        base_url: server.base_url().to_string(),
        sandbox,
        _server: server,
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
    let file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    let mut form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "fanout benchmark")
        .part(
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
