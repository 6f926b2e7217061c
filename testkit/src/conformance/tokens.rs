//! Token checks: tokens keep working, for every publisher against its own fake.
//!
//! They run only when the publisher has a [`TokenProvider`] (client credentials
//! configured) and the fake hands out refreshable connections
//! ([`crate::FakePlatform::refreshable_connection`] is `Some`). The engine checks build an
//! [`Engine`] over in-memory stores with only the publisher under test, store one
//! connection, and drive `POST /api/upload` (or `/api/upload_photos`) through
//! [`Engine::handle_upload`] with a multipart body, exactly as an adapter would.
//!
//! What they prove: a refresh through the provider yields tokens that publish; a token
//! expiring within the margin is refreshed before publishing and written back; a token
//! the platform refuses is refreshed once and the upload succeeds; twenty concurrent
//! uploads share one refresh; a definitive refusal asks for reconnection and marks the
//! connection; a 503 from the token endpoint is transient and keeps every token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use fanout_core::secrecy::ExposeSecret;
use fanout_core::{
    Account, AccountDirectory, ApiKeyHash, Connection, Endpoint, Engine, EngineSettings,
    MemoryDirectory, MemoryUsage, Plan, Profile, PublishContext, PublishError, TokenProvider,
    UploadRequest, NEEDS_RECONNECT,
};
use serde_json::{json, Value};

use super::{posts_for, sample_for, Harness};
use crate::faults::Fault;
use crate::media::{jpeg_bytes, mp4_bytes};
use crate::record::ReceivedMedia;
use crate::PlatformError;

/// The API key of the account the engine checks upload for.
const API_KEY: &str = "ak_conformance_tokens";
/// The account the engine checks upload for.
const ACCOUNT: &str = "conformance-tokens";
/// The profile (`user`) holding the connection.
pub(super) const PROFILE: &str = "main";
/// The engine's refresh margin in these checks.
const MARGIN: Duration = Duration::from_secs(300);
/// How many uploads the single-flight check sends at once.
const CONCURRENT_UPLOADS: usize = 20;

/// Runs every token check, in order; each returns at once when the publisher or the
/// fake cannot refresh tokens.
pub async fn run_token_checks(h: &Harness<'_>) {
    refreshed_tokens_publish(h).await;
    expiring_token_is_refreshed_before_publishing(h).await;
    refused_token_is_refreshed_once_and_the_upload_succeeds(h).await;
    concurrent_uploads_share_one_refresh(h).await;
    revoked_refresh_token_asks_for_reconnection(h).await;
    transient_refresh_failure_keeps_every_token(h).await;
}

/// The provider and a refreshable connection for `account`, expiring in `expires_in`;
/// `None` when the publisher or the fake cannot refresh tokens.
fn refreshable<'h>(
    h: &'h Harness<'_>,
    account: &str,
    expires_in: chrono::Duration,
) -> Option<(&'h dyn TokenProvider, Connection)> {
    let provider = h.publisher.tokens()?;
    let connection = h
        .fake
        .refreshable_connection(account, Utc::now() + expires_in)?;
    assert!(
        !h.fake.token_route().is_empty(),
        "{}: the fake hands out refreshable connections but names no token_route()",
        h.publisher.id()
    );
    assert!(
        connection.refresh_token.is_some(),
        "{}: the fake's refreshable connection carries no refresh token",
        h.publisher.id()
    );
    h.fake.clear_faults();
    Some((provider, connection))
}

fn refresh_token(connection: &Connection) -> String {
    connection
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_string())
        .unwrap_or_default()
}

/// Checks the fake holds exactly `count` posts for `account`, each with exactly the
/// media `want` (sizes and SHA-256).
fn assert_posts(h: &Harness<'_>, account: &str, count: usize, want: &[ReceivedMedia]) {
    let posts = posts_for(h, account);
    assert_eq!(
        posts.len(),
        count,
        "{}: expected {count} post(s) for {account}, the fake has {}",
        h.publisher.id(),
        posts.len()
    );
    for post in posts {
        assert_eq!(
            post.media,
            want,
            "{}: the bytes the fake received for {account} do not hash to the uploaded media",
            h.publisher.id()
        );
    }
}

/// A refresh through the provider returns the account's connection with new tokens
/// that publish (the bytes the fake received hash to the file).
pub async fn refreshed_tokens_publish(h: &Harness<'_>) {
    let account = "conformance-token-refresh";
    let Some((provider, old)) = refreshable(h, account, chrono::Duration::minutes(1)) else {
        return;
    };
    let id = h.publisher.id();
    let before = h.fake.refresh_calls();
    let fresh = provider
        .refresh(&old)
        .await
        .unwrap_or_else(|e| panic!("{id}: refreshing a valid refresh token failed: {e}"));
    assert_eq!(
        h.fake.refresh_calls(),
        before + 1,
        "{id}: one refresh must make one call to the token endpoint"
    );
    assert_eq!(
        fresh.account_name, old.account_name,
        "{id}: a refresh must keep the account name"
    );
    assert_ne!(
        fresh.access_token(),
        old.access_token(),
        "{id}: a refresh must return a new access token"
    );
    assert!(
        fresh.refresh_token.is_some(),
        "{id}: a refresh must keep (or rotate) the refresh token"
    );
    assert!(
        fresh.expires_at.is_some_and(|at| at > Utc::now() + MARGIN),
        "{id}: the new access token's expiry {:?} is not beyond the refresh margin",
        fresh.expires_at
    );
    let post = sample_for(h).await;
    let want = super::expected_media(&post);
    let receipt = h
        .publisher
        .publish(PublishContext::new(&post, &fresh, h.media_host.as_ref()))
        .await
        .unwrap_or_else(|e| panic!("{id}: publishing with refreshed tokens failed: {e}"));
    assert!(
        !receipt.fields().is_empty(),
        "{id}: the receipt carries no ids"
    );
    assert_posts(h, account, 1, &want);
}

/// An engine over in-memory stores with only the publisher under test, and one account
/// whose profile [`PROFILE`] holds `connection`.
pub(super) async fn engine_with(
    h: &Harness<'_>,
    connection: Connection,
) -> (Engine, Arc<MemoryDirectory>) {
    let directory = Arc::new(MemoryDirectory::new());
    let profile = Profile {
        username: PROFILE.to_string(),
        connections: BTreeMap::from([(h.publisher.id().to_string(), connection)]),
    };
    let account = Account {
        name: ACCOUNT.to_string(),
        api_key_hash: Some(ApiKeyHash::of(API_KEY)),
        api_key_expires_at: None,
        plan: Plan {
            monthly_uploads: 1000,
            daily_uploads_per_account: None,
        },
        profiles: BTreeMap::from([(PROFILE.to_string(), profile)]),
    };
    if let Err(err) = directory.upsert(account).await {
        panic!("could not store the conformance account: {err}");
    }
    let mut settings = EngineSettings::default();
    settings.spool_dir = Some(h.dir.to_path_buf());
    settings.token_refresh_margin = MARGIN;
    let engine = Engine::builder(
        Arc::clone(&directory) as Arc<dyn AccountDirectory>,
        Arc::new(MemoryUsage::new()),
    )
    // Media links come from the conformance media host; connect is not exercised.
    .public_base_url(url::Url::parse("http://127.0.0.1/").expect("a literal URL"))
    .media_host(Arc::clone(&h.media_host))
    .publisher(Arc::clone(&h.publisher))
    .settings(settings)
    .build()
    .unwrap_or_else(|err| panic!("the conformance engine does not build: {err}"));
    (engine, directory)
}

/// A file part of a form: field name, file name, bytes.
type FormFile = (&'static str, String, Vec<u8>);

/// A multipart upload for the publisher under test: the endpoint, the content type,
/// the body, and the media the fake should receive.
fn upload_form(h: &Harness<'_>) -> (Endpoint, String, Bytes, Vec<ReceivedMedia>) {
    const BOUNDARY: &str = "fanoutConformanceTokens7MA4YWxk";
    let caps = h.publisher.capabilities();
    let (endpoint, files): (Endpoint, Vec<FormFile>) = if caps.video.is_some() {
        (
            Endpoint::Video,
            vec![("video", "clip.mp4".to_string(), mp4_bytes(200_000))],
        )
    } else {
        let count = caps.photos.map(|p| p.min_count).unwrap_or(1);
        let files = (0..count)
            .map(|i| {
                (
                    "photos[]",
                    format!("photo-{i}.jpg"),
                    jpeg_bytes(40_000, i as u8 + 1),
                )
            })
            .collect();
        (Endpoint::Photos, files)
    };
    let mut body = Vec::new();
    for (name, value) in [
        ("user", PROFILE),
        ("title", "fanout conformance title"),
        ("platform[]", h.publisher.id()),
    ] {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let mut want = Vec::new();
    for (name, file_name, bytes) in &files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
        want.push(ReceivedMedia::of(bytes));
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (
        endpoint,
        format!("multipart/form-data; boundary={BOUNDARY}"),
        Bytes::from(body),
        want,
    )
}

/// Uploads `body` through `engine` and returns this platform's result.
pub(super) async fn upload(
    engine: &Engine,
    id: &str,
    endpoint: Endpoint,
    content_type: &str,
    body: Bytes,
) -> Value {
    let mut request =
        UploadRequest::new(futures::stream::iter([Ok::<Bytes, std::io::Error>(body)]));
    request.authorization = Some(format!("Apikey {API_KEY}"));
    request.content_type = Some(content_type.to_string());
    let response = engine.handle_upload(endpoint, request).await;
    assert_eq!(
        response.status, 200,
        "{id}: the upload was refused as a whole: {}",
        response.body
    );
    response.body["results"][id].clone()
}

/// The connection the engine's directory holds now.
async fn stored(h: &Harness<'_>, directory: &MemoryDirectory) -> Connection {
    let id = h.publisher.id();
    let account = match directory.find_by_name(ACCOUNT).await {
        Ok(Some(account)) => account,
        Ok(None) => panic!("{id}: the conformance account disappeared from the directory"),
        Err(err) => panic!("{id}: could not read the directory: {err}"),
    };
    match account
        .profiles
        .get(PROFILE)
        .and_then(|p| p.connections.get(id))
    {
        Some(connection) => connection.clone(),
        None => panic!("{id}: the directory lost the {id} connection"),
    }
}

fn assert_success(h: &Harness<'_>, result: &Value, what: &str) {
    assert_eq!(
        result["success"],
        json!(true),
        "{}: {what}: the upload failed: {result}",
        h.publisher.id()
    );
}

/// A connection whose access token expires within the engine's margin is refreshed
/// before publishing: one refresh, success, the directory holds the new tokens, and
/// the next upload uses them without refreshing again.
pub async fn expiring_token_is_refreshed_before_publishing(h: &Harness<'_>) {
    let account = "conformance-token-margin";
    let Some((_, old)) = refreshable(h, account, chrono::Duration::minutes(1)) else {
        return;
    };
    let id = h.publisher.id();
    let (engine, directory) = engine_with(h, old.clone()).await;
    let (endpoint, content_type, body, want) = upload_form(h);
    let before = h.fake.refresh_calls();
    let result = upload(&engine, id, endpoint, &content_type, body.clone()).await;
    assert_success(h, &result, "a token expiring within the margin");
    assert_eq!(
        h.fake.refresh_calls(),
        before + 1,
        "{id}: a token expiring within the margin must be refreshed once before publishing"
    );
    let saved = stored(h, &directory).await;
    assert_ne!(
        saved.access_token(),
        old.access_token(),
        "{id}: the directory must hold the new access token after a refresh"
    );
    assert!(
        saved.expires_at.is_some_and(|at| at > Utc::now() + MARGIN),
        "{id}: the stored expiry {:?} is not beyond the refresh margin",
        saved.expires_at
    );
    assert_eq!(saved.attribute(NEEDS_RECONNECT), None);
    assert_posts(h, account, 1, &want);

    // The stored tokens work: the next upload publishes without another refresh.
    let result = upload(&engine, id, endpoint, &content_type, body).await;
    assert_success(h, &result, "an upload after the refresh");
    assert_eq!(
        h.fake.refresh_calls(),
        before + 1,
        "{id}: the refreshed, stored token must be used without refreshing again"
    );
    assert_posts(h, account, 2, &want);
}

/// A connection whose access token the platform refuses (not yet due by its date) is
/// refreshed once after the refusal, the refused step is retried, and the upload
/// succeeds with exactly one post.
pub async fn refused_token_is_refreshed_once_and_the_upload_succeeds(h: &Harness<'_>) {
    let account = "conformance-token-refused";
    let Some((_, old)) = refreshable(h, account, chrono::Duration::days(30)) else {
        return;
    };
    let id = h.publisher.id();
    h.fake.expire_access_token(old.access_token());
    let (engine, directory) = engine_with(h, old.clone()).await;
    let (endpoint, content_type, body, want) = upload_form(h);
    let before = h.fake.refresh_calls();
    let result = upload(&engine, id, endpoint, &content_type, body).await;
    assert_success(h, &result, "a token the platform refused");
    assert_eq!(
        h.fake.refresh_calls(),
        before + 1,
        "{id}: a refused token must be refreshed exactly once"
    );
    assert_ne!(
        stored(h, &directory).await.access_token(),
        old.access_token(),
        "{id}: the directory must hold the new access token after a refresh"
    );
    assert_posts(h, account, 1, &want);
}

/// Twenty concurrent uploads for one connection expiring within the margin share a
/// single refresh (single flight) and all succeed.
pub async fn concurrent_uploads_share_one_refresh(h: &Harness<'_>) {
    let account = "conformance-token-concurrent";
    let Some((_, old)) = refreshable(h, account, chrono::Duration::seconds(30)) else {
        return;
    };
    let id = h.publisher.id();
    let (engine, directory) = engine_with(h, old.clone()).await;
    let (endpoint, content_type, body, want) = upload_form(h);
    let before = h.fake.refresh_calls();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_UPLOADS {
        let engine = engine.clone();
        let content_type = content_type.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            upload(&engine, id, endpoint, &content_type, body).await
        }));
    }
    for task in tasks {
        match task.await {
            Ok(result) => assert_success(h, &result, "one of twenty concurrent uploads"),
            Err(err) => panic!("{id}: a concurrent upload panicked: {err}"),
        }
    }
    assert_eq!(
        h.fake.refresh_calls(),
        before + 1,
        "{id}: {CONCURRENT_UPLOADS} concurrent uploads must share exactly one refresh"
    );
    assert_ne!(
        stored(h, &directory).await.access_token(),
        old.access_token(),
        "{id}: the directory must hold the new access token after a refresh"
    );
    assert_posts(h, account, CONCURRENT_UPLOADS, &want);
}

/// A refresh token the platform definitively refuses gives the reconnect sentence,
/// marks the stored connection [`NEEDS_RECONNECT`], publishes nothing, and stops
/// further refresh attempts.
pub async fn revoked_refresh_token_asks_for_reconnection(h: &Harness<'_>) {
    let account = "conformance-token-revoked";
    let Some((_, old)) = refreshable(h, account, chrono::Duration::minutes(1)) else {
        return;
    };
    let id = h.publisher.id();
    h.fake.revoke_refresh_token(&refresh_token(&old));
    let (engine, directory) = engine_with(h, old).await;
    let (endpoint, content_type, body, _) = upload_form(h);
    let reconnect = json!({
        "success": false,
        "error": format!(
            "{} {}",
            PublishError::token_expired(h.publisher.display_name()).message(),
            fanout_core::UPLOAD_POST_RECONNECT_HINT
        ),
    });
    let result = upload(&engine, id, endpoint, &content_type, body.clone()).await;
    assert_eq!(
        result, reconnect,
        "{id}: a revoked refresh token must give the reconnect sentence"
    );
    assert_eq!(
        stored(h, &directory).await.attribute(NEEDS_RECONNECT),
        Some("true"),
        "{id}: a definitively refused refresh must mark the connection {NEEDS_RECONNECT}"
    );
    let calls = h.fake.refresh_calls();
    let result = upload(&engine, id, endpoint, &content_type, body).await;
    assert_eq!(
        result, reconnect,
        "{id}: a connection needing reconnection must keep giving the reconnect sentence"
    );
    assert_eq!(
        h.fake.refresh_calls(),
        calls,
        "{id}: no refresh may be tried once the connection needs reconnection"
    );
    assert_posts(h, account, 0, &[]);
}

/// A 503 from the token endpoint during a needed refresh is transient: the upload
/// fails with the "try again" sentence, every stored token is kept, and once the
/// endpoint is back the kept refresh token works.
pub async fn transient_refresh_failure_keeps_every_token(h: &Harness<'_>) {
    let account = "conformance-token-transient";
    let Some((_, old)) = refreshable(h, account, chrono::Duration::minutes(1)) else {
        return;
    };
    let id = h.publisher.id();
    let (engine, directory) = engine_with(h, old.clone()).await;
    let (endpoint, content_type, body, want) = upload_form(h);
    let (_, error_body) = h.fake.error_response(PlatformError::ServerError);
    h.fake.inject(
        Fault::respond(
            h.fake.token_route(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            error_body,
        )
        .always(),
    );
    let result = upload(&engine, id, endpoint, &content_type, body.clone()).await;
    h.fake.clear_faults();
    let name = h.publisher.display_name();
    let message = result["error"].as_str().unwrap_or_default();
    let prefix = format!("Could not refresh the {name} access token (");
    let suffix = "); every token was kept. Try again in a few minutes.";
    assert!(
        result["success"] == json!(false)
            && message.starts_with(&prefix)
            && message.ends_with(suffix),
        "{id}: a 503 from the token endpoint must read as {prefix}…{suffix}, got {result}"
    );
    for secret in [old.access_token().to_string(), refresh_token(&old)] {
        assert!(
            !message.contains(&secret),
            "{id}: the transient refresh failure shows a token: {message}"
        );
    }
    let saved = stored(h, &directory).await;
    assert_eq!(
        saved.access_token(),
        old.access_token(),
        "{id}: a transient refresh failure must keep the access token"
    );
    assert_eq!(
        refresh_token(&saved),
        refresh_token(&old),
        "{id}: a transient refresh failure must keep the refresh token"
    );
    assert_eq!(
        saved.expires_at, old.expires_at,
        "{id}: a transient refresh failure must keep the expiry"
    );
    assert_eq!(
        saved.attribute(NEEDS_RECONNECT),
        None,
        "{id}: a transient refresh failure must not ask for reconnection"
    );
    assert_posts(h, account, 0, &[]);

    // The kept refresh token works once the token endpoint is back.
    let result = upload(&engine, id, endpoint, &content_type, body).await;
    assert_success(h, &result, "an upload after the token endpoint recovered");
    assert_posts(h, account, 1, &want);
}
