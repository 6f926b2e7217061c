//! The suite's setup: an engine over in-memory stores with scripted publishers, served
//! by the adapter under test on a real loopback socket, and a client for it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fanout_core::{
    async_trait, Account, AccountDirectory, ApiKeyHash, Capabilities, Connection, Engine,
    EngineSettings, MemoryDirectory, MemoryUsage, PhotoLimits, Plan, Profile, PublishContext,
    PublishError, Publisher, Receipt, VideoLimits,
};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::Digest;
use url::Url;

use super::{Serve, Served};

/// The API key of account `acme`.
pub const API_KEY: &str = "ak_test_key";
/// The secret Bearer JWTs are signed with.
pub const JWT_SECRET: &str = "jwt-test-secret";

/// A publisher whose behaviour is chosen by the connection's access token: `ok`
/// succeeds, `expired…` fails as an expired token, `panic` panics, `slow` sleeps, and
/// `pull` fetches each file through its hosted link (the adapter's media route) and
/// answers the SHA-256 of what it got.
#[derive(Debug)]
pub struct Scripted {
    /// The platform id.
    pub id: &'static str,
    /// The display name.
    pub name: &'static str,
    calls: AtomicUsize,
}

impl Scripted {
    /// A publisher for platform `id`, shown as `name`.
    pub fn new(id: &'static str, name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            id,
            name,
            calls: AtomicUsize::new(0),
        })
    }

    /// How many times `publish` was called.
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
        Capabilities::new()
            .with_video(VideoLimits {
                min_bytes: 1,
                max_bytes: 1 << 30,
                formats: vec!["video/mp4"],
            })
            .with_photos(PhotoLimits {
                min_count: 1,
                max_count: 3,
                max_bytes_each: 1 << 20,
                formats: vec!["image/jpeg"],
            })
            .with_max_title_chars(100)
    }
    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let files = ctx.post.media.files();
        match ctx.connection.access_token() {
            t if t.starts_with("expired") => Err(PublishError::token_expired(self.name)),
            "panic" => panic!("scripted publisher panics"),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(Receipt::new())
            }
            "pull" => {
                let mut pulled = Vec::new();
                for file in files {
                    let hosted = ctx.media_host.host(Arc::clone(file)).await?;
                    let response = reqwest::Client::builder()
                        .no_proxy()
                        .build()
                        .map_err(|e| PublishError::transient(format!("pull: {e}")))?
                        .get(hosted.url().clone())
                        .send()
                        .await
                        .map_err(|e| PublishError::transient(format!("pull: {e}")))?;
                    let status = response.status().as_u16();
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| PublishError::transient(format!("pull: {e}")))?;
                    if status != 200 {
                        return Err(PublishError::rejected(format!("pull answered {status}")));
                    }
                    pulled.push(hex::encode(sha2::Sha256::digest(&bytes)));
                }
                Ok(Receipt::new()
                    .with("post_id", format!("{}-{}", self.id, ctx.post.title))
                    .with("pulled_sha256", pulled))
            }
            _ => Ok(Receipt::new()
                .with("post_id", format!("{}-{}", self.id, ctx.post.title))
                .with("bytes", files.iter().map(|f| f.len()).sum::<u64>())
                .with("sha256", files[0].sha256_hex())),
        }
    }
}

/// A client for the server under test: its base URL (with the mount prefix, no
/// trailing slash) and a `reqwest` client that follows no redirects. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// A client for the server at `base`.
    pub fn new(base: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("a reqwest client builds");
        Self {
            client,
            base: base.into().trim_end_matches('/').to_string(),
        }
    }

    /// The base URL: `http://127.0.0.1:<port><prefix>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `method path` with `headers` and `body`, answered as it came.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body).send().await.expect("the server answers")
    }
}

/// Serves `build(public_base_url)` with `serve` under `prefix` on a fresh loopback
/// port; `public_base_url` is `http://127.0.0.1:<port><prefix>/`.
pub fn start(
    serve: Serve,
    prefix: &'static str,
    build: impl FnOnce(Url) -> Engine,
) -> (Http, Engine, Served) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    let http = Http::new(format!("http://{addr}{prefix}"));
    let public = Url::parse(&format!("{}/", http.base())).expect("a base URL");
    let engine = build(public);
    let served = serve(listener, prefix, engine.clone());
    (http, engine, served)
}

/// The standard setup: account `acme` (key [`API_KEY`]) with profile `main`, whose
/// alpha and beta connections carry the tokens below; gamma is never connected.
#[derive(Debug)]
pub struct Harness {
    /// The client.
    pub http: Http,
    /// The engine being served.
    pub engine: Engine,
    /// The accounts.
    pub directory: Arc<MemoryDirectory>,
    /// Platform alpha (display name Alpha).
    pub alpha: Arc<Scripted>,
    /// Platform beta.
    pub beta: Arc<Scripted>,
    /// Platform gamma (not connected).
    pub gamma: Arc<Scripted>,
    /// The spool directory.
    pub spool: tempfile::TempDir,
    /// The media store's directory.
    pub media: tempfile::TempDir,
    _served: Served,
}

/// What [`harness`] varies.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Account `acme`'s plan.
    pub plan: Plan,
    /// `max_upload_bytes`.
    pub max_upload_bytes: u64,
    /// The per-platform publish timeout.
    pub timeout: Duration,
    /// Token of profile `main`'s alpha connection (see [`Scripted`]).
    pub alpha_token: &'static str,
    /// Token of profile `main`'s beta connection.
    pub beta_token: &'static str,
    /// How long a synchronous upload waits for its job.
    pub sync_timeout: Duration,
    /// How long failed platforms can be retried (and media kept).
    pub retry_window: Duration,
    /// Where the routes are mounted: `""` for the root, else e.g. `"/fanout"`.
    pub prefix: &'static str,
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
            prefix: "",
        }
    }
}

/// Builds the standard setup and serves it with `serve`.
pub async fn harness(serve: Serve, setup: Setup) -> Harness {
    let directory = Arc::new(MemoryDirectory::new());
    let connections = BTreeMap::from([
        (
            "alpha".to_string(),
            Connection::new("acme_alpha", setup.alpha_token),
        ),
        (
            "beta".to_string(),
            Connection::new("acme_beta", setup.beta_token),
        ),
    ]);
    let profile = Profile {
        username: "main".into(),
        connections,
    };
    directory
        .upsert(Account {
            name: "acme".into(),
            api_key_hash: Some(ApiKeyHash::of(API_KEY)),
            api_key_expires_at: None,
            plan: setup.plan,
            profiles: BTreeMap::from([("main".to_string(), profile)]),
        })
        .await
        .expect("the account is stored");
    let alpha = Scripted::new("alpha", "Alpha");
    let beta = Scripted::new("beta", "Beta");
    let gamma = Scripted::new("gamma", "Gamma");
    let spool = tempfile::tempdir().expect("a spool directory");
    let media = tempfile::tempdir().expect("a media directory");
    let mut settings = EngineSettings::default();
    settings.body_limits.max_upload_bytes = setup.max_upload_bytes;
    settings.publish_timeout = setup.timeout;
    settings.spool_dir = Some(spool.path().to_path_buf());
    settings.jwt_secret = Some(JWT_SECRET.to_string().into());
    settings.runner_poll_interval = Duration::from_millis(20);
    settings.sync_timeout = setup.sync_timeout;
    settings.retry_window = setup.retry_window;
    let media_store = fanout_core::MediaStore::local(media.path()).expect("a media store");
    let (http, engine, served) = start(serve, setup.prefix, |public| {
        Engine::builder(directory.clone(), Arc::new(MemoryUsage::new()))
            .public_base_url(public)
            .publisher(alpha.clone())
            .publisher(beta.clone())
            .publisher(gamma.clone())
            .settings(settings)
            .media_store(media_store)
            .build()
            .expect("the engine builds")
    });
    Harness {
        http,
        engine,
        directory,
        alpha,
        beta,
        gamma,
        spool,
        media,
        _served: served,
    }
}

/// An MP4-looking file of `len` bytes.
pub fn mp4(len: usize) -> Vec<u8> {
    crate::media::mp4_bytes(len)
}

/// A multipart body: text fields, then file parts `(field, file name, bytes)`; answers
/// the `Content-Type` and the body.
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

/// `Apikey <API_KEY>`.
pub fn apikey() -> String {
    format!("Apikey {API_KEY}")
}

/// Reads a JSON answer: the status, the headers and the body (which must be JSON).
pub async fn json_answer(response: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    if !bytes.is_empty() {
        assert_eq!(
            headers["content-type"], "application/json",
            "{status}: {json}"
        );
    }
    (status, headers, json)
}

/// `POST path` with an optional `Authorization` and `Content-Type`; answers the status
/// and the JSON body.
pub async fn send(
    http: &Http,
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut headers = Vec::new();
    if let Some(auth) = authorization {
        headers.push(("authorization", auth));
    }
    if let Some(ct) = content_type {
        headers.push(("content-type", ct));
    }
    let (status, _, json) = json_answer(http.raw("POST", path, &headers, body).await).await;
    (status, json)
}

/// Uploads `form` to `/api/upload` with the API key.
pub async fn upload(h: &Harness, form: (String, Vec<u8>)) -> (u16, Value) {
    send(
        &h.http,
        "/api/upload",
        Some(&apikey()),
        Some(&form.0),
        form.1,
    )
    .await
}

/// Any request: method, path, extra headers (the API key is added unless they carry an
/// `authorization`), optional body; answers the status, the headers and the JSON body.
pub async fn call(
    http: &Http,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, HeaderMap, Value) {
    let key = apikey();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    {
        all.push(("authorization", &key));
    }
    if let Some(ct) = content_type {
        all.push(("content-type", ct));
    }
    json_answer(http.raw(method, path, &all, body).await).await
}

/// [`call`] with a JSON body and no extra headers.
pub async fn call_json(
    http: &Http,
    method: &str,
    path: &str,
    body: impl Into<Vec<u8>>,
) -> (u16, HeaderMap, Value) {
    call(
        http,
        method,
        path,
        &[],
        Some("application/json"),
        body.into(),
    )
    .await
}

/// `GET path` with the API key.
pub async fn get(http: &Http, path: &str) -> (u16, Value) {
    let (status, _, body) = call(http, "GET", path, &[], None, Vec::new()).await;
    (status, body)
}

/// Polls `GET /api/uploadposts/status?request_id=<id>` until `done` holds (5 s at most).
pub async fn status_until(http: &Http, request_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = get(
            http,
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

/// How many media objects the harness's media store holds (files under its directory).
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
