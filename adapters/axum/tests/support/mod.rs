//! Shared test setup: an engine over in-memory stores with scripted publishers.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use fanout_core::{
    async_trait, Account, AccountDirectory, ApiKeyHash, Capabilities, Connection, Engine,
    EngineSettings, LocalMediaHost, MemoryDirectory, MemoryUsage, PhotoLimits, Plan, Profile,
    PublishContext, PublishError, Publisher, Receipt, VideoLimits,
};
use serde_json::Value;
use tower::ServiceExt;

pub const API_KEY: &str = "ak_test_key";
pub const JWT_SECRET: &str = "jwt-test-secret";

/// A publisher whose behaviour is chosen by the connection's access token:
/// `ok` succeeds, `expired…` fails as an expired token, `panic` panics, `slow` sleeps.
pub struct Scripted {
    pub id: &'static str,
    pub name: &'static str,
    pub calls: AtomicUsize,
    pub max_video_bytes: u64,
}

impl Scripted {
    pub fn new(id: &'static str, name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            id,
            name,
            calls: AtomicUsize::new(0),
            max_video_bytes: 1 << 30,
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Publisher for Scripted {
    fn id(&self) -> &'static str {
        self.id
    }
    fn display_name(&self) -> &'static str {
        self.name
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            video: Some(VideoLimits {
                min_bytes: 1,
                max_bytes: self.max_video_bytes,
                formats: vec!["video/mp4"],
            }),
            photos: Some(PhotoLimits {
                min_count: 1,
                max_count: 3,
                max_bytes_each: 1 << 20,
                formats: vec!["image/jpeg"],
            }),
            max_title_chars: Some(100),
            max_description_chars: None,
        }
    }
    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match ctx.connection.access_token() {
            t if t.starts_with("expired") => Err(PublishError::token_expired(self.name)),
            "panic" => panic!("scripted publisher panics"),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(Receipt::new())
            }
            _ => {
                let files = ctx.post.media.files();
                Ok(Receipt::new()
                    .with("post_id", format!("{}-{}", self.id, ctx.post.title))
                    .with("bytes", files.iter().map(|f| f.len()).sum::<u64>())
                    .with("sha256", files[0].sha256_hex()))
            }
        }
    }
}

pub struct Harness {
    pub app: Router,
    pub engine: Engine,
    pub directory: Arc<MemoryDirectory>,
    pub alpha: Arc<Scripted>,
    pub beta: Arc<Scripted>,
    pub gamma: Arc<Scripted>,
    pub spool: tempfile::TempDir,
    /// The media store's directory.
    pub media: tempfile::TempDir,
}

pub struct Setup {
    pub plan: Plan,
    pub max_upload_bytes: u64,
    pub timeout: Duration,
    /// Token of each connection of profile `main` (alpha, beta); gamma is never connected.
    pub alpha_token: &'static str,
    pub beta_token: &'static str,
    /// How long a synchronous upload waits for its job.
    pub sync_timeout: Duration,
    /// How long failed platforms can be retried (and media kept).
    pub retry_window: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            plan: Plan {
                monthly_uploads: 100,
                daily_uploads_per_account: None,
            },
            max_upload_bytes: 1 << 20,
            timeout: Duration::from_secs(5),
            alpha_token: "ok",
            beta_token: "ok",
            sync_timeout: Duration::from_secs(59),
            retry_window: Duration::from_secs(86_400),
        }
    }
}

pub async fn harness(setup: Setup) -> Harness {
    let directory = Arc::new(MemoryDirectory::new());
    let mut connections = BTreeMap::new();
    connections.insert(
        "alpha".to_string(),
        Connection::new("acme_alpha", setup.alpha_token),
    );
    connections.insert(
        "beta".to_string(),
        Connection::new("acme_beta", setup.beta_token),
    );
    let mut profiles = BTreeMap::new();
    profiles.insert(
        "main".to_string(),
        Profile {
            username: "main".into(),
            connections,
        },
    );
    directory
        .upsert(Account {
            name: "acme".into(),
            api_key_hash: Some(ApiKeyHash::of(API_KEY)),
            api_key_expires_at: None,
            plan: setup.plan,
            profiles,
        })
        .await
        .unwrap();
    let alpha = Scripted::new("alpha", "Alpha");
    let beta = Scripted::new("beta", "Beta");
    let gamma = Scripted::new("gamma", "Gamma");
    let spool = tempfile::tempdir().unwrap();
    let media = tempfile::tempdir().unwrap();
    let mut settings = EngineSettings::default();
    settings.body_limits.max_upload_bytes = setup.max_upload_bytes;
    settings.publish_timeout = setup.timeout;
    settings.spool_dir = Some(spool.path().to_path_buf());
    settings.jwt_secret = Some(JWT_SECRET.to_string().into());
    settings.runner_poll_interval = Duration::from_millis(20);
    settings.sync_timeout = setup.sync_timeout;
    settings.retry_window = setup.retry_window;
    let media_host = Arc::new(LocalMediaHost::new(
        "http://127.0.0.1:9/".parse().unwrap(),
        Duration::from_secs(60),
    ));
    let engine = Engine::builder(directory.clone(), Arc::new(MemoryUsage::new()), media_host)
        .publisher(alpha.clone())
        .publisher(beta.clone())
        .publisher(gamma.clone())
        .settings(settings)
        .media_store(fanout_core::MediaStore::local(media.path()).unwrap())
        .build();
    Harness {
        app: fanout_axum::router(engine.clone()),
        engine,
        directory,
        alpha,
        beta,
        gamma,
        spool,
        media,
    }
}

/// An MP4-looking file of `len` bytes.
pub fn mp4(len: usize) -> Vec<u8> {
    fanout_testkit::media::mp4_bytes(len)
}

/// A multipart body: text fields, then file parts `(field, file name, bytes)`.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "fanoutTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A valid video form for profile `main` to `platforms`.
pub fn video_form(platforms: &[&str]) -> (String, Vec<u8>) {
    let mut fields = vec![("user", "main"), ("title", "Hello")];
    for p in platforms {
        fields.push(("platform[]", p));
    }
    multipart(&fields, &[("video", "clip.mp4", mp4(5000))])
}

pub async fn send(
    app: &Router,
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = Request::post(path);
    if let Some(auth) = authorization {
        request = request.header("authorization", auth);
    }
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

pub fn apikey() -> String {
    format!("Apikey {API_KEY}")
}

pub async fn upload(h: &Harness, form: (String, Vec<u8>)) -> (u16, Value) {
    send(
        &h.app,
        "/api/upload",
        Some(&apikey()),
        Some(&form.0),
        form.1,
    )
    .await
}

/// Any request: method, path, extra headers (the API key is added unless they carry an
/// `authorization`), optional body;
/// answers the status, the headers and the JSON body.
pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, axum::http::HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    {
        request = request.header("authorization", apikey());
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    (status, headers, json)
}

/// `GET path` with the API key.
pub async fn get(app: &Router, path: &str) -> (u16, Value) {
    let (status, _, body) = call(app, "GET", path, &[], None, Vec::new()).await;
    (status, body)
}

/// Polls `GET /api/uploadposts/status?request_id=<id>` until `done` holds (5 s at most).
pub async fn status_until(app: &Router, request_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = get(
            app,
            &format!("/api/uploadposts/status?request_id={request_id}"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How many media objects the harness's media store holds (files under `media/`).
pub fn stored_media_files(h: &Harness) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() {
                            count(&path)
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(h.media.path())
}
