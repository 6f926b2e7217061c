//! Starting a real server on a loopback port for end-to-end tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod process;

use std::sync::Arc;

use fanout_server::Config;
use fanout_server::{App, RunningServer, Sandbox};

pub struct Running {
    pub base_url: String,
    pub sandbox: Arc<Sandbox>,
    pub server: RunningServer,
}

impl Running {
    /// Asks the server to stop and waits until it has.
    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}

/// The HTTP server a test's server is served by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `App::spawn`.
    Axum,
    /// `App::spawn_actix`.
    Actix,
}

/// Starts a sandbox server from `toml` (addr is forced to an ephemeral port).
pub async fn start(toml: &str) -> Running {
    start_on(Host::Axum, toml).await
}

/// [`start`], served by `host`.
pub async fn start_on(host: Host, toml: &str) -> Running {
    let mut config = Config::from_toml(toml).unwrap();
    config.addr = "127.0.0.1:0".into();
    let app = App::build(config).await.unwrap();
    let server = match host {
        Host::Axum => app.spawn(),
        Host::Actix => app.spawn_actix(),
    };
    Running {
        base_url: server.base_url().to_string(),
        sandbox: Arc::clone(server.sandbox().expect("sandbox mode")),
        server,
    }
}

/// A config: sandbox, in-memory store, account `acme` (key `ak_acme`) with profile
/// `main` connected to all three platforms; `linkedin_token` lets a test expire it.
pub fn config(plan: &str, linkedin_token: &str) -> String {
    format!(
        r#"
sandbox = true
[store]
kind = "memory"
[plans.pro]
{plan}
[[accounts]]
name = "acme"
api_key = "ak_acme"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "acme_tt"
access_token = "tt-token-acme"
[accounts.profiles.connections.instagram]
account_name = "acme_ig"
access_token = "ig-token-acme"
[accounts.profiles.connections.linkedin]
account_name = "Acme Inc"
access_token = "{linkedin_token}"
"#
    )
}

pub fn video_form(bytes: Vec<u8>, platforms: &[&str]) -> reqwest::multipart::Form {
    titled_video_form(&bytes, "fanout end to end", platforms, &[])
}

/// A video form for profile `main` titled `title`, to `platforms`, with any other
/// form `fields` (`async_upload`, `scheduled_date`…).
pub fn titled_video_form(
    video: &[u8],
    title: &str,
    platforms: &[&str],
    fields: &[(&str, &str)],
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", title.to_string())
        .part(
            "video",
            reqwest::multipart::Part::bytes(video.to_vec()).file_name("clip.mp4"),
        );
    for p in platforms {
        form = form.text("platform[]", p.to_string());
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

pub async fn post(
    base: &str,
    path: &str,
    key: &str,
    form: reqwest::multipart::Form,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("authorization", format!("Apikey {key}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Polls `check` every `every` until it answers `Some`, and returns that; panics naming
/// `what` (and the last thing `check` saw, through `last`) once `within` has passed.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    within: std::time::Duration,
    every: std::time::Duration,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(done) => return done,
            Err(last) => {
                if tokio::time::Instant::now() >= deadline {
                    panic!("{what}: not within {within:?}; last seen: {last}");
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// `GET {base}{path}` with `Authorization: Apikey {key}`: status and JSON body.
pub async fn get(base: &str, path: &str, key: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("authorization", format!("Apikey {key}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// `GET /api/uploadposts/status?{query}` (`request_id=…` or `job_id=…`), which must
/// answer 200.
pub async fn job_status(base: &str, key: &str, query: &str) -> serde_json::Value {
    let (status, body) = get(base, &format!("/api/uploadposts/status?{query}"), key).await;
    assert_eq!(status, 200, "status of {query}: {body}");
    body
}

/// Follows `GET /api/uploadposts/status?{query}` every `every` until the job has
/// finished (`completed`, `failed` or `cancelled`); its last answer.
pub async fn wait_finished(
    base: &str,
    key: &str,
    query: &str,
    within: std::time::Duration,
    every: std::time::Duration,
) -> serde_json::Value {
    wait_for(&format!("job {query} finished"), within, every, || async {
        let body = job_status(base, key, query).await;
        match body["status"].as_str() {
            Some("completed" | "failed" | "cancelled") => Ok(body),
            _ => Err(body.to_string()),
        }
    })
    .await
}
