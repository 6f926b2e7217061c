//! Token refresh through the engine: before expiry, after a refusal, once for many
//! concurrent uploads, and definitive versus transient refresh failures.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    async_trait, Account, AccountDirectory, ApiKeyHash, AuthorizationRequest, Capabilities,
    Connection, Engine, EngineSettings, LocalMediaHost, MemoryDirectory, MemoryUsage, Plan,
    Profile, PublishContext, PublishError, Publisher, Receipt, TokenError, TokenProvider,
    VideoLimits, NEEDS_RECONNECT,
};
use serde_json::json;
use support::{mp4, multipart, send};

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
}

impl Platform {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            valid: Mutex::new(HashSet::from(["at-0".to_string()])),
            refresh_tokens: Mutex::new(HashSet::from(["rt-0".to_string()])),
            refreshes: AtomicUsize::new(0),
            publishes: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Works),
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
            Mode::Refuses => return Err(TokenError::Refused("invalid_grant".into())),
            Mode::Unreachable => return Err(TokenError::Transient("connection refused".into())),
            Mode::Works => {}
        }
        let presented = connection
            .refresh_token
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_string();
        if !self.refresh_tokens.lock().unwrap().remove(&presented) {
            return Err(TokenError::Refused(
                "invalid_grant: refresh token already used".into(),
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
    fn authorization_url(&self, _: &AuthorizationRequest<'_>) -> Result<url::Url, TokenError> {
        Err(TokenError::Unsupported("not in this test".into()))
    }
    fn supports_pkce(&self) -> bool {
        false
    }
    async fn exchange_code(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Connection, TokenError> {
        Err(TokenError::Unsupported("not in this test".into()))
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
        Capabilities {
            video: Some(VideoLimits {
                min_bytes: 1,
                max_bytes: 1 << 30,
                formats: vec![],
            }),
            ..Capabilities::default()
        }
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
    app: axum::Router,
    directory: Arc<MemoryDirectory>,
    platform: Arc<Platform>,
}

async fn setup(expires_in: chrono::Duration, access_token: &str) -> Setup {
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
            api_key_hash: Some(ApiKeyHash::of(support::API_KEY)),
            api_key_expires_at: None,
            plan: Plan {
                monthly_uploads: 1000,
                daily_uploads_per_account: None,
            },
            profiles: BTreeMap::from([("main".to_string(), profile)]),
        })
        .await
        .unwrap();
    let engine = Engine::builder(
        directory.clone(),
        Arc::new(MemoryUsage::new()),
        Arc::new(LocalMediaHost::new(
            "http://127.0.0.1:9/".parse().unwrap(),
            Duration::from_secs(60),
        )),
    )
    .publisher(Arc::new(Tokened(platform.clone())))
    .settings(EngineSettings::default())
    .build();
    Setup {
        app: fanout_axum::router(engine),
        directory,
        platform,
    }
}

async fn upload(app: &axum::Router) -> serde_json::Value {
    let (ct, body) = multipart(
        &[("user", "main"), ("title", "t"), ("platform[]", "alpha")],
        &[("video", "v.mp4", mp4(1000))],
    );
    let (status, json) = send(
        app,
        "/api/upload",
        Some(&support::apikey()),
        Some(&ct),
        body,
    )
    .await;
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

#[tokio::test]
async fn a_token_expiring_within_the_margin_is_refreshed_first_and_saved() {
    let s = setup(chrono::Duration::minutes(1), "at-0").await;
    assert_eq!(
        upload(&s.app).await,
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
        upload(&s.app).await,
        json!({"success": true, "post_id": "at-1"})
    );
    assert_eq!(s.platform.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_publish_retried() {
    // Not expiring by its date, but the platform no longer accepts it.
    let s = setup(chrono::Duration::days(30), "at-revoked").await;
    assert_eq!(
        upload(&s.app).await,
        json!({"success": true, "post_id": "at-1"})
    );
    assert_eq!(s.platform.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(s.platform.publishes.load(Ordering::SeqCst), 1);
    assert_eq!(stored(&s.directory).await.access_token(), "at-1");
}

#[tokio::test]
async fn twenty_concurrent_uploads_refresh_once() {
    let s = setup(chrono::Duration::seconds(10), "at-0").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = s.app.clone();
        tasks.push(tokio::spawn(async move { upload(&app).await }));
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

#[tokio::test]
async fn a_definitive_refusal_asks_for_reconnection_and_stops_further_calls() {
    let s = setup(chrono::Duration::minutes(1), "at-0").await;
    *s.platform.mode.lock().unwrap() = Mode::Refuses;
    let reconnect = json!({"success": false, "error": "Your Alpha session has expired. Please reconnect your Alpha account. Go to Manage Users, remove the account, and connect it again."});
    assert_eq!(upload(&s.app).await, reconnect);
    assert_eq!(
        stored(&s.directory).await.attribute(NEEDS_RECONNECT),
        Some("true")
    );
    assert_eq!(upload(&s.app).await, reconnect);
    assert_eq!(
        s.platform.refreshes.load(Ordering::SeqCst),
        1,
        "no refresh after a definitive refusal"
    );
    assert_eq!(s.platform.publishes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_every_token() {
    let s = setup(chrono::Duration::minutes(1), "at-0").await;
    *s.platform.mode.lock().unwrap() = Mode::Unreachable;
    assert_eq!(
        upload(&s.app).await,
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
        upload(&s.app).await,
        json!({"success": true, "post_id": "at-2"})
    );
}
