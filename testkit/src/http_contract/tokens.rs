//! Tokens and connections over HTTP: refresh before expiry, after a refusal, once for
//! many concurrent uploads, definitive versus transient refresh failures; and the
//! connect redirect (302 with `Location` and a JSON body) and callback.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    async_trait, Account, AccountDirectory, ApiKeyHash, AuthorizationRequest, Capabilities,
    Connection, Engine, EngineSettings, MemoryDirectory, MemoryUsage, Plan, Profile,
    PublishContext, PublishError, Publisher, Receipt, TokenError, TokenProvider, VideoLimits,
    NEEDS_RECONNECT,
};
use serde_json::json;

use super::harness::{apikey, mp4, multipart, send, start, Http, API_KEY};
use super::{Serve, Served};

/// How the fake OAuth server behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Works,
    Refuses,
    Unreachable,
}

/// A platform whose access tokens are valid while in `valid`, and whose refresh
/// tokens rotate: each refresh token works once.
struct Platform {
    valid: Mutex<HashSet<String>>,
    refresh_tokens: Mutex<HashSet<String>>,
    refreshes: AtomicUsize,
    publishes: AtomicUsize,
    mode: Mutex<Mode>,
    challenge: Mutex<Option<String>>,
    /// The callback URL the engine must send: `<public_base_url>api/connect/alpha/callback`.
    redirect_uri: Mutex<String>,
}

impl Platform {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            valid: Mutex::new(HashSet::from(["at-0".to_string()])),
            refresh_tokens: Mutex::new(HashSet::from(["rt-0".to_string()])),
            refreshes: AtomicUsize::new(0),
            publishes: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Works),
            challenge: Mutex::new(None),
            redirect_uri: Mutex::new(String::new()),
        })
    }
}

struct Tokened(Arc<Platform>);

#[async_trait]
impl TokenProvider for Platform {
    async fn refresh(&self, connection: &Connection) -> Result<Connection, TokenError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        match *self.mode.lock().unwrap() {
            Mode::Refuses => return Err(TokenError::refused("invalid_grant")),
            Mode::Unreachable => return Err(TokenError::transient("connection refused")),
            Mode::Works => {}
        }
        let presented = connection
            .refresh_token
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_string();
        if !self.refresh_tokens.lock().unwrap().remove(&presented) {
            return Err(TokenError::refused(
                "invalid_grant: refresh token already used",
            ));
        }
        let (access, refresh) = (format!("at-{n}"), format!("rt-{n}"));
        self.valid.lock().unwrap().insert(access.clone());
        self.refresh_tokens.lock().unwrap().insert(refresh.clone());
        let mut fresh = connection.clone();
        fresh.access_token = SecretString::from(access);
        fresh.refresh_token = Some(SecretString::from(refresh));
        fresh.expires_at = Some(Utc::now() + chrono::Duration::hours(2));
        Ok(fresh)
    }
    fn authorization_url(&self, r: &AuthorizationRequest<'_>) -> Result<url::Url, TokenError> {
        *self.challenge.lock().unwrap() = r.code_challenge.map(str::to_string);
        let mut url = url::Url::parse("https://auth.alpha.test/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", "alpha-client")
            .append_pair("redirect_uri", r.redirect_uri)
            .append_pair("state", r.state)
            .append_pair("code_challenge", r.code_challenge.unwrap_or(""));
        Ok(url)
    }
    fn supports_pkce(&self) -> bool {
        true
    }
    async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<Connection, TokenError> {
        use base64::Engine as _;
        use sha2::Digest as _;
        let challenge = verifier.map(|v| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(v.as_bytes()))
        });
        if code != "good-code"
            || redirect_uri != *self.redirect_uri.lock().unwrap()
            || challenge != *self.challenge.lock().unwrap()
        {
            return Err(TokenError::refused("invalid_grant"));
        }
        self.valid.lock().unwrap().insert("at-connected".into());
        let mut connection = Connection::new("alpha_person", "at-connected");
        connection.refresh_token = Some(SecretString::from("rt-connected".to_string()));
        Ok(connection)
    }
}

#[async_trait]
impl Publisher for Tokened {
    fn id(&self) -> &'static str {
        "alpha"
    }
    fn display_name(&self) -> &'static str {
        "Alpha"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_video(VideoLimits {
            min_bytes: 1,
            max_bytes: 1 << 30,
            formats: vec![],
        })
    }
    fn tokens(&self) -> Option<&dyn TokenProvider> {
        Some(self.0.as_ref())
    }
    async fn publish(&self, ctx: PublishContext<'_>) -> Result<Receipt, PublishError> {
        if !self
            .0
            .valid
            .lock()
            .unwrap()
            .contains(ctx.connection.access_token())
        {
            return Err(PublishError::token_expired("Alpha"));
        }
        self.0.publishes.fetch_add(1, Ordering::SeqCst);
        Ok(Receipt::new().with("post_id", ctx.connection.access_token().to_string()))
    }
}

struct Setup {
    http: Http,
    directory: Arc<MemoryDirectory>,
    platform: Arc<Platform>,
    _served: Served,
}

async fn setup(serve: Serve, expires_in: chrono::Duration, access_token: &str) -> Setup {
    setup_with(serve, expires_in, access_token, EngineSettings::default()).await
}

async fn setup_with(
    serve: Serve,
    expires_in: chrono::Duration,
    access_token: &str,
    settings: EngineSettings,
) -> Setup {
    let platform = Platform::new();
    let directory = Arc::new(MemoryDirectory::new());
    let mut connection = Connection::new("acme_alpha", access_token);
    connection.refresh_token = Some(SecretString::from("rt-0".to_string()));
    connection.expires_at = Some(Utc::now() + expires_in);
    let profile = Profile {
        username: "main".into(),
        connections: BTreeMap::from([("alpha".to_string(), connection)]),
    };
    directory
        .upsert(Account {
            name: "acme".into(),
            api_key_hash: Some(ApiKeyHash::of(API_KEY)),
            api_key_expires_at: None,
            plan: Plan {
                monthly_uploads: 1000,
                daily_uploads_per_account: None,
            },
            profiles: BTreeMap::from([("main".to_string(), profile)]),
        })
        .await
        .unwrap();
    let (http, _engine, served) = start(serve, "", |public| {
        *platform.redirect_uri.lock().unwrap() = format!("{public}api/connect/alpha/callback");
        Engine::builder(directory.clone(), Arc::new(MemoryUsage::new()))
            .public_base_url(public)
            .publisher(Arc::new(Tokened(platform.clone())))
            .settings(settings)
            .build()
            .expect("the engine builds")
    });
    Setup {
        http,
        directory,
        platform,
        _served: served,
    }
}

async fn upload(http: &Http) -> serde_json::Value {
    let (ct, body) = multipart(
        &[("user", "main"), ("title", "t"), ("platform[]", "alpha")],
        &[("video", "v.mp4", mp4(1000))],
    );
    let (status, json) = send(http, "/api/upload", Some(&apikey()), Some(&ct), body).await;
    assert_eq!(status, 200, "{json}");
    json["results"]["alpha"].clone()
}

async fn stored(directory: &MemoryDirectory) -> Connection {
    directory
        .find_by_name("acme")
        .await
        .unwrap()
        .unwrap()
        .profiles["main"]
        .connections["alpha"]
        .clone()
}

/// A token expiring within the margin is refreshed before publishing, and the rotated tokens are stored.
pub async fn a_token_expiring_within_the_margin_is_refreshed_first_and_saved(serve: Serve) {
    let s = setup(serve, chrono::Duration::minutes(1), "at-0").await;
    assert_eq!(
        upload(&s.http).await,
        json!({"success": true, "post_id": "at-1"})
    );
    assert_eq!(s.platform.refreshes.load(Ordering::SeqCst), 1);
    let saved = stored(&s.directory).await;
    assert_eq!(saved.access_token(), "at-1");
    assert_eq!(
        saved.refresh_token.as_ref().unwrap().expose_secret(),
        "rt-1",
        "the rotated refresh token is stored"
    );
    // The next upload uses the stored token: no second refresh.
    assert_eq!(
        upload(&s.http).await,
        json!({"success": true, "post_id": "at-1"})
    );
    assert_eq!(s.platform.refreshes.load(Ordering::SeqCst), 1);
}

/// A token the platform refuses is refreshed once and the publish retried.
pub async fn a_refused_token_is_refreshed_once_and_the_publish_retried(serve: Serve) {
    // Not expiring by its date, but the platform no longer accepts it.
    let s = setup(serve, chrono::Duration::days(30), "at-revoked").await;
    assert_eq!(
        upload(&s.http).await,
        json!({"success": true, "post_id": "at-1"})
    );
    assert_eq!(s.platform.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(s.platform.publishes.load(Ordering::SeqCst), 1);
    assert_eq!(stored(&s.directory).await.access_token(), "at-1");
}

/// Twenty concurrent uploads share one refresh.
pub async fn twenty_concurrent_uploads_refresh_once(serve: Serve) {
    let s = setup(serve, chrono::Duration::seconds(10), "at-0").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let http = s.http.clone();
        tasks.push(tokio::spawn(async move { upload(&http).await }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap(),
            json!({"success": true, "post_id": "at-1"})
        );
    }
    assert_eq!(
        s.platform.refreshes.load(Ordering::SeqCst),
        1,
        "single flight: one refresh"
    );
    assert_eq!(s.platform.publishes.load(Ordering::SeqCst), 20);
}

/// A definitive refusal marks the connection for reconnection and stops further refreshes.
pub async fn a_definitive_refusal_asks_for_reconnection_and_stops_further_calls(serve: Serve) {
    let s = setup(serve, chrono::Duration::minutes(1), "at-0").await;
    *s.platform.mode.lock().unwrap() = Mode::Refuses;
    let reconnect = json!({"success": false, "error": "Your Alpha session has expired. Please reconnect your Alpha account. Go to Manage Users, remove the account, and connect it again."});
    assert_eq!(upload(&s.http).await, reconnect);
    assert_eq!(
        stored(&s.directory).await.attribute(NEEDS_RECONNECT),
        Some("true")
    );
    assert_eq!(upload(&s.http).await, reconnect);
    assert_eq!(
        s.platform.refreshes.load(Ordering::SeqCst),
        1,
        "no refresh after a definitive refusal"
    );
    assert_eq!(s.platform.publishes.load(Ordering::SeqCst), 0);
}

/// A transient refresh failure keeps every token, and the kept refresh token works later.
pub async fn a_transient_refresh_failure_keeps_every_token(serve: Serve) {
    let s = setup(serve, chrono::Duration::minutes(1), "at-0").await;
    *s.platform.mode.lock().unwrap() = Mode::Unreachable;
    assert_eq!(
        upload(&s.http).await,
        json!({"success": false, "error": "Could not refresh the Alpha access token (connection refused); every token was kept. Try again in a few minutes."})
    );
    let saved = stored(&s.directory).await;
    assert_eq!(saved.access_token(), "at-0");
    assert_eq!(
        saved.refresh_token.as_ref().unwrap().expose_secret(),
        "rt-0"
    );
    assert_eq!(saved.attribute(NEEDS_RECONNECT), None);
    // Once the platform is back, the kept refresh token works.
    *s.platform.mode.lock().unwrap() = Mode::Works;
    assert_eq!(
        upload(&s.http).await,
        json!({"success": true, "post_id": "at-2"})
    );
}

/// `GET uri` with an optional `Authorization`: the status, the `Location` header and
/// the JSON body.
async fn get(
    http: &Http,
    uri: &str,
    auth: Option<&str>,
) -> (u16, Option<String>, serde_json::Value) {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    let (status, headers, body) =
        super::harness::json_answer(http.raw("GET", uri, &headers, Vec::new()).await).await;
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, body)
}

/// Connecting: a 302 whose `Location` is the body's `authorization_url` (state, PKCE, callback on `public_base_url`); the callback stores the connection; the state works once.
pub async fn connecting_an_account_redirects_then_stores_the_connection(serve: Serve) {
    let s = setup(serve, chrono::Duration::days(1), "at-0").await;
    let (status, location, body) =
        get(&s.http, "/api/connect/alpha?user=brand", Some(&apikey())).await;
    assert_eq!(status, 302, "{body}");
    let location = url::Url::parse(&location.unwrap()).unwrap();
    assert_eq!(body["authorization_url"], location.as_str());
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        query["redirect_uri"],
        format!("{}/api/connect/alpha/callback", s.http.base())
    );
    assert_eq!(query["state"].len(), 43);
    assert_eq!(query["code_challenge"].len(), 43, "PKCE S256 challenge");

    let callback = format!(
        "/api/connect/alpha/callback?code=good-code&state={}",
        query["state"]
    );
    let (status, _, body) = get(&s.http, &callback, None).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"success": true, "platform": "alpha", "user": "brand", "account_name": "alpha_person"})
        )
    );
    let account = s.directory.find_by_name("acme").await.unwrap().unwrap();
    assert_eq!(
        account.profiles["brand"].connections["alpha"].access_token(),
        "at-connected"
    );

    // The state works once.
    let (status, _, body) = get(&s.http, &callback, None).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "message": "Unknown or expired connection attempt; start again from /api/connect/alpha"})
        )
    );
}

/// Connect errors: 401 without a key, 400 without a user, 404 for an unknown platform, 400 for a refused code.
pub async fn connect_errors_are_clear(serve: Serve) {
    let s = setup(serve, chrono::Duration::days(1), "at-0").await;
    let (status, _, body) = get(&s.http, "/api/connect/alpha?user=main", None).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"success": false, "message": "Authorization header required"})
        )
    );
    let (status, _, body) = get(&s.http, "/api/connect/alpha", Some(&apikey())).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "message": "Username required"})
        )
    );
    let (status, _, body) = get(&s.http, "/api/connect/myspace?user=main", Some(&apikey())).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"success": false, "message": "Invalid platforms: myspace"})
        )
    );

    let (_, location, _) = get(&s.http, "/api/connect/alpha?user=main", Some(&apikey())).await;
    let location = url::Url::parse(&location.unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let (status, _, body) = get(
        &s.http,
        &format!("/api/connect/alpha/callback?code=stolen&state={state}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "message": "Alpha refused the connection: invalid_grant. Start again from the beginning."})
        )
    );
}

/// The `state` of a connect redirect.
fn state_of(location: Option<String>) -> String {
    let location = url::Url::parse(&location.expect("a Location")).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string()
}

/// Pending connection attempts are bounded: a `user` over 256 bytes is a 400; an
/// account keeps its five newest attempts (the oldest stops working when a sixth
/// starts), and the newest still completes.
pub async fn pending_connect_attempts_are_bounded(serve: Serve) {
    let s = setup(serve, chrono::Duration::days(1), "at-0").await;
    let long = "u".repeat(257);
    let (status, _, body) = get(
        &s.http,
        &format!("/api/connect/alpha?user={long}"),
        Some(&apikey()),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "message": "Username too long: at most 256 bytes"})
        )
    );
    let mut states = Vec::new();
    for _ in 0..6 {
        let (status, location, body) =
            get(&s.http, "/api/connect/alpha?user=main", Some(&apikey())).await;
        assert_eq!(status, 302, "{body}");
        states.push(state_of(location));
    }
    let (status, _, body) = get(
        &s.http,
        &format!(
            "/api/connect/alpha/callback?code=good-code&state={}",
            states[0]
        ),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"success": false, "message": "Unknown or expired connection attempt; start again from /api/connect/alpha"})
        )
    );
    let (status, _, body) = get(
        &s.http,
        &format!(
            "/api/connect/alpha/callback?code=good-code&state={}",
            states[5]
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Past the pending-connect cap the answer is 503 with `Retry-After`, in the JSON
/// error shape.
pub async fn too_many_pending_connects_is_503_with_retry_after(serve: Serve) {
    let mut settings = EngineSettings::default();
    settings.max_pending_connects = 1;
    let s = setup_with(serve, chrono::Duration::days(1), "at-0", settings).await;
    let key = apikey();
    let first = s
        .http
        .raw(
            "GET",
            "/api/connect/alpha?user=one",
            &[("authorization", &key)],
            Vec::new(),
        )
        .await;
    assert_eq!(first.status().as_u16(), 302);
    let second = s
        .http
        .raw(
            "GET",
            "/api/connect/alpha?user=two",
            &[("authorization", &key)],
            Vec::new(),
        )
        .await;
    assert_eq!(second.status().as_u16(), 503);
    assert_eq!(second.headers()["retry-after"], "60");
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": false, "message": "Too many connection attempts are pending; try again in a few minutes"})
    );
}
