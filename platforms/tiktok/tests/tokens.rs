//! TikTok's OAuth against the strict fake: refresh with rotation, revocation,
//! transient failures, missing credentials, the authorization URL and the full code
//! flow, each ending with a publish where the tokens should work.

mod common;

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{Duration as ChronoDuration, Utc};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    AuthorizationRequest, Connection, ErrorKind, FormFields, Post, PostMedia, PublishContext,
    Publisher, TokenError, TokenErrorKind,
};
use fanout_testkit::fakes::tiktok::{FakeTikTok, FAKE_CLIENT_KEY, FAKE_CLIENT_SECRET};
use fanout_testkit::media::spooled_mp4;
use fanout_testkit::{FakePlatform, Fault, FaultKind, MediaServer, ReceivedMedia};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};
use serde_json::json;
use url::Url;

const REDIRECT: &str = "https://fanout.example/api/connect/tiktok/callback";

fn config(fake: &FakeTikTok) -> TikTokConfig {
    let mut config = common::config(fake);
    config.client_id = Some(FAKE_CLIENT_KEY.to_string());
    config.client_secret = Some(SecretString::from(FAKE_CLIENT_SECRET.to_string()));
    config.oauth_base_url = fake.base_url();
    config
}

fn publisher(fake: &FakeTikTok) -> TikTokPublisher {
    TikTokPublisher::new(config(fake))
}

/// Publishes a small video with `connection` and checks the fake recorded it for
/// `account` with the exact bytes.
async fn publish_works(publisher: &TikTokPublisher, fake: &FakeTikTok, connection: &Connection) {
    let media = MediaServer::spawn().await.expect("the media server starts");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = spooled_mp4(dir.path(), 300 * 1024).await;
    let post = Post {
        title: "After a refresh".into(),
        description: None,
        media: PostMedia::Video(file.clone()),
        fields: FormFields::from_pairs([("privacy_level", "SELF_ONLY")]),
    };
    let host = media.host();
    let before = fake.published().len();
    let receipt = publisher
        .publish(PublishContext::new(&post, connection, host.as_ref()))
        .await
        .expect("publishing with the new tokens works");
    let published = fake.published();
    assert_eq!(published.len(), before + 1);
    let last = published.last().expect("one post");
    assert_eq!(receipt.get("publish_id"), Some(&json!(last.id)));
    assert_eq!(last.account, connection.account_name);
    let bytes = std::fs::read(file.path().expect("a spooled file")).expect("the spooled file");
    assert_eq!(last.media, vec![ReceivedMedia::of(&bytes)]);
}

fn refresh_token(connection: &Connection) -> String {
    connection
        .refresh_token
        .as_ref()
        .expect("a refresh token")
        .expose_secret()
        .to_string()
}

#[tokio::test]
async fn refresh_returns_working_rotated_tokens_timed_from_expires_in() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    fake.set_access_token_lifetime(7200);
    let publisher = publisher(&fake);
    let old = fake.refreshable_connection("creator_ann", Utc::now() + ChronoDuration::minutes(1));
    fake.expire_access_token(old.access_token());
    let provider = publisher.tokens().expect("TikTok refreshes tokens");

    let before = Utc::now();
    let new = provider.refresh(&old).await.expect("the refresh works");
    let after = Utc::now();
    assert_eq!(fake.refresh_calls(), 1);
    assert_eq!(new.account_name, "creator_ann");
    assert_eq!(new.attributes, old.attributes);
    assert_ne!(new.access_token(), old.access_token());
    assert!(new.access_token().starts_with("act."));
    assert_ne!(refresh_token(&new), refresh_token(&old), "TikTok rotates");
    let expires_at = new.expires_at.expect("an expiry");
    assert!(expires_at >= before + ChronoDuration::seconds(7200));
    assert!(expires_at <= after + ChronoDuration::seconds(7200));

    // The old access token is expired; the new one publishes.
    let err = publisher_publish_err(&publisher, &old).await;
    assert_eq!(err, ErrorKind::TokenExpired);
    publish_works(&publisher, &fake, &new).await;

    // The rotated-away refresh token is refused for good.
    let err = provider
        .refresh(&old)
        .await
        .expect_err("the old refresh token is spent");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "wrong kind: {err:?}");
    let message = err.message();
    assert_eq!(
        message,
        "TikTok refused to refresh the account's token (invalid_grant: Refresh token is \
         invalid or expired): the refresh token expired or was revoked. Reconnect the TikTok \
         account."
    );
    assert!(!message.contains(&refresh_token(&old)));
    // The new refresh token still works, once more.
    let newer = provider
        .refresh(&new)
        .await
        .expect("the new refresh token works");
    publish_works(&publisher, &fake, &newer).await;
    assert_eq!(fake.refresh_calls(), 3);
}

async fn publisher_publish_err(publisher: &TikTokPublisher, connection: &Connection) -> ErrorKind {
    let media = MediaServer::spawn().await.expect("the media server starts");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let post = Post {
        title: "x".into(),
        description: None,
        media: PostMedia::Video(spooled_mp4(dir.path(), 1024).await),
        fields: FormFields::default(),
    };
    let host = media.host();
    publisher
        .publish(PublishContext::new(&post, connection, host.as_ref()))
        .await
        .expect_err("the publish fails")
        .kind()
}

#[tokio::test]
async fn a_revoked_refresh_token_is_refused() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let connection = fake.refreshable_connection("creator_bo", Utc::now());
    fake.revoke_refresh_token(&refresh_token(&connection));
    let err = publisher
        .tokens()
        .expect("a provider")
        .refresh(&connection)
        .await
        .expect_err("revoked");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "{err:?}");
    assert_eq!(fake.refresh_calls(), 1);
}

#[tokio::test]
async fn invalid_grant_is_refused_whatever_the_http_status() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let connection = fake.refreshable_connection("creator_cy", Utc::now());
    fake.inject(Fault::respond(
        "/v2/oauth/token/",
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_grant", "error_description": "Refresh token revoked.", "log_id": "1"}),
    ));
    let err = publisher
        .tokens()
        .expect("a provider")
        .refresh(&connection)
        .await;
    assert!(
        matches!(&err, Err(e) if e.kind() == TokenErrorKind::Refused),
        "{err:?}"
    );
    // The refusal came from the fault: the real refresh token was not spent.
    publisher
        .tokens()
        .expect("a provider")
        .refresh(&connection)
        .await
        .expect("the refresh token is still live");
}

#[tokio::test]
async fn server_errors_and_lost_connections_are_transient_and_spend_nothing() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let provider = publisher.tokens().expect("a provider");
    let connection = fake.refreshable_connection("creator_di", Utc::now());

    let (status, body) = fake.error_response(fanout_testkit::PlatformError::ServerError);
    fake.inject(Fault::respond(
        "/v2/oauth/token/",
        StatusCode::from_u16(status).expect("a status"),
        body,
    ));
    let err = provider.refresh(&connection).await.expect_err("a 5xx");
    assert_eq!(
        err,
        TokenError::transient(
            "TikTok's token endpoint failed (internal_error: Something went wrong. Please try \
             again later): the tokens are unchanged; try again later."
        )
    );

    fake.inject(Fault::respond(
        "/v2/oauth/token/",
        StatusCode::SERVICE_UNAVAILABLE,
        json!({}),
    ));
    let err = provider.refresh(&connection).await.expect_err("a bare 503");
    assert_eq!(
        err,
        TokenError::transient(
            "TikTok's token endpoint answered HTTP 503: the tokens are unchanged; try again \
             later."
        )
    );

    fake.inject(Fault::on("/v2/oauth/token/", FaultKind::DropConnection));
    let err = provider.refresh(&connection).await.expect_err("no answer");
    assert!(
        err.kind() == TokenErrorKind::Transient && err.message().contains("did not answer"),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("127.0.0.1"), "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the transport error is kept as the source"
    );

    fake.inject(Fault::respond(
        "/v2/oauth/token/",
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "rate_limit_exceeded", "error_description": "Slow down.", "log_id": "2"}),
    ));
    let err = provider.refresh(&connection).await.expect_err("a 429");
    assert_eq!(err.kind(), TokenErrorKind::Transient, "{err:?}");

    // None of those spent the refresh token.
    let new = provider.refresh(&connection).await.expect("it still works");
    publish_works(&publisher, &fake, &new).await;
}

#[tokio::test]
async fn missing_or_wrong_client_credentials_are_unsupported() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let connection = fake.refreshable_connection("creator_ed", Utc::now());
    let bare = TikTokPublisher::new(common::config(&fake));
    let provider = bare.tokens().expect("a provider");
    let expected = TokenError::unsupported(
        "TikTok tokens cannot be refreshed or accounts connected: no TikTok app credentials \
         are configured. Set `platforms.tiktok.client_id` (the app's client key) and \
         `platforms.tiktok.client_secret`.",
    );
    assert_eq!(
        provider.refresh(&connection).await.expect_err("no creds"),
        expected
    );
    assert_eq!(
        provider
            .exchange_code("code", REDIRECT, None)
            .await
            .expect_err("no creds"),
        expected
    );
    let request = AuthorizationRequest {
        redirect_uri: REDIRECT,
        state: "s",
        code_challenge: None,
    };
    assert_eq!(
        provider.authorization_url(&request).expect_err("no key"),
        expected
    );
    assert_eq!(fake.refresh_calls(), 0, "nothing was sent");

    fake.set_client("another-key", "another-secret");
    let err = publisher(&fake)
        .tokens()
        .expect("a provider")
        .refresh(&connection)
        .await
        .expect_err("wrong credentials");
    assert_eq!(
        err,
        TokenError::unsupported(
            "TikTok refused the app's credentials (invalid_client: Client key or secret is \
             invalid). Check `platforms.tiktok.client_id` (the app's client key) and \
             `platforms.tiktok.client_secret`."
        )
    );
    assert!(!format!("{err:?}").contains(FAKE_CLIENT_SECRET));
}

#[tokio::test]
async fn the_authorization_url_names_the_app_scopes_redirect_and_state() {
    let provider_config = {
        let mut config = TikTokConfig::default();
        config.client_id = Some("ck_123".into());
        config.client_secret = Some(SecretString::from("secret".to_string()));
        config
    };
    let publisher = TikTokPublisher::new(provider_config);
    let provider = publisher.tokens().expect("a provider");
    assert!(!provider.supports_pkce());
    let url = provider
        .authorization_url(&AuthorizationRequest {
            redirect_uri: REDIRECT,
            state: "st&ate",
            code_challenge: None,
        })
        .expect("a URL");
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("www.tiktok.com"));
    assert_eq!(url.path(), "/v2/auth/authorize/");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = [
        ("client_key", "ck_123"),
        ("response_type", "code"),
        ("scope", "user.info.basic,video.publish,video.upload"),
        ("redirect_uri", REDIRECT),
        ("state", "st&ate"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(query, expected);
    assert!(!url.as_str().contains("secret"));
}

/// Follows the authorization URL on the fake without following its redirect: the code.
async fn authorize(url: &Url) -> (StatusCode, HashMap<String, String>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let response = client
        .get(url.clone())
        .send()
        .await
        .expect("the fake answers");
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let query = Url::parse(&location)
        .map(|l| {
            assert_eq!(
                format!(
                    "{}://{}{}",
                    l.scheme(),
                    l.host_str().unwrap_or(""),
                    l.path()
                ),
                REDIRECT
            );
            l.query_pairs().into_owned().collect()
        })
        .unwrap_or_default();
    (status, query)
}

#[tokio::test]
async fn the_code_flow_connects_an_account_that_publishes() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let provider = publisher.tokens().expect("a provider");
    let url = provider
        .authorization_url(&AuthorizationRequest {
            redirect_uri: REDIRECT,
            state: "state-42",
            code_challenge: None,
        })
        .expect("a URL");
    assert_eq!(url.path(), "/v2/auth/authorize/");
    let (status, query) = authorize(&url).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(query.get("state").map(String::as_str), Some("state-42"));
    assert_eq!(
        query.get("scopes").map(String::as_str),
        Some("user.info.basic,video.publish,video.upload")
    );
    let code = query.get("code").expect("a code").clone();

    let before = Utc::now();
    let connection = provider
        .exchange_code(&code, REDIRECT, None)
        .await
        .expect("the exchange works");
    assert!(
        connection.account_name.starts_with("creator_"),
        "{}",
        connection.account_name
    );
    assert!(connection
        .attribute("open_id")
        .is_some_and(|id| id.starts_with("-000")));
    assert!(connection.refresh_token.is_some());
    let expires_at = connection.expires_at.expect("an expiry");
    assert!(expires_at >= before + ChronoDuration::seconds(86_400));
    assert!(expires_at <= Utc::now() + ChronoDuration::seconds(86_400));
    publish_works(&publisher, &fake, &connection).await;

    // Single use.
    let err = provider
        .exchange_code(&code, REDIRECT, None)
        .await
        .expect_err("a code works once");
    assert_eq!(
        err,
        TokenError::refused(
            "TikTok refused the authorization code (invalid_grant: Authorization code is \
             expired or was already used): it expired or was already used. Connect the TikTok \
             account again."
        )
    );

    // The connected account's refresh token works too.
    let refreshed = provider.refresh(&connection).await.expect("refreshable");
    assert_eq!(refreshed.account_name, connection.account_name);
    publish_works(&publisher, &fake, &refreshed).await;
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri_and_pkce_verifier() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let provider = publisher.tokens().expect("a provider");
    let request = AuthorizationRequest {
        redirect_uri: REDIRECT,
        state: "s1",
        code_challenge: None,
    };
    let (_, query) = authorize(&provider.authorization_url(&request).expect("a URL")).await;
    let err = provider
        .exchange_code(&query["code"], "https://evil.example/cb", None)
        .await
        .expect_err("another redirect_uri");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "{err:?}");

    // RFC 7636's example pair.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let pkce = AuthorizationRequest {
        redirect_uri: REDIRECT,
        state: "s2",
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    };
    let url = provider.authorization_url(&pkce).expect("a URL");
    assert!(url
        .query_pairs()
        .any(|(k, v)| k == "code_challenge_method" && v == "S256"));
    let (_, query) = authorize(&url).await;
    let err = provider
        .exchange_code(&query["code"], REDIRECT, Some("wrong-verifier"))
        .await
        .expect_err("a wrong verifier");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "{err:?}");
    let (_, query) = authorize(&url).await;
    provider
        .exchange_code(&query["code"], REDIRECT, Some(verifier))
        .await
        .expect("the right verifier");
}

#[tokio::test]
async fn the_fake_refuses_bad_authorization_requests() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let base = fake.base_url();
    let good = [
        ("client_key", FAKE_CLIENT_KEY),
        ("response_type", "code"),
        ("scope", "video.publish"),
        ("redirect_uri", REDIRECT),
        ("state", "s"),
    ];
    for (drop, replace) in [
        ("client_key", Some("nope")),
        ("response_type", Some("token")),
        ("scope", Some("video.delete")),
        ("redirect_uri", Some("not a url")),
        ("state", None),
    ] {
        let mut url = base.join("v2/auth/authorize/").expect("a URL");
        for (k, v) in good {
            if k != drop {
                url.query_pairs_mut().append_pair(k, v);
            } else if let Some(other) = replace {
                url.query_pairs_mut().append_pair(k, other);
            }
        }
        let (status, query) = authorize(&url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{drop}");
        assert!(query.is_empty(), "{drop}");
    }
}

#[tokio::test]
async fn without_user_info_the_connection_is_named_by_its_open_id() {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let publisher = publisher(&fake);
    let provider = publisher.tokens().expect("a provider");
    let request = AuthorizationRequest {
        redirect_uri: REDIRECT,
        state: "s",
        code_challenge: None,
    };
    let (_, query) = authorize(&provider.authorization_url(&request).expect("a URL")).await;
    fake.inject(Fault::respond(
        "/v2/user/info/",
        StatusCode::UNAUTHORIZED,
        json!({"data": {}, "error": {"code": "scope_not_authorized", "message": "", "log_id": "3"}}),
    ));
    let connection = provider
        .exchange_code(&query["code"], REDIRECT, None)
        .await
        .expect("the exchange works");
    let open_id = connection.attribute("open_id").expect("an open_id");
    assert_eq!(connection.account_name, open_id);
}

#[test]
fn the_provider_debug_hides_the_secret() {
    let publisher = TikTokPublisher::new({
        let mut config = TikTokConfig::default();
        config.client_id = Some("ck".into());
        config.client_secret = Some(SecretString::from("tt-very-secret".to_string()));
        config
    });
    let shown = format!("{publisher:?}");
    assert!(!shown.contains("tt-very-secret"), "{shown}");
    assert!(shown.contains("oauth"), "{shown}");
}
