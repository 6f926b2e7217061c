//! LinkedIn's OAuth flows against the fake: refresh, authorization URL, code exchange.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{post, setup_with, Setup};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    AuthorizationRequest, Connection, ErrorKind, PostMedia, TokenError, TokenErrorKind,
};
use fanout_linkedin::LinkedInConfig;
use fanout_testkit::fakes::linkedin::{FakeLinkedIn, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault, FaultKind};
use serde_json::json;

const REDIRECT: &str = "https://app.example.com/api/connect/linkedin/callback";

fn with_client(config: &mut LinkedInConfig) {
    config.oauth_base_url = config.base_url.clone();
    config.client_id = Some(DEFAULT_CLIENT_ID.to_string());
    config.client_secret = Some(SecretString::from(DEFAULT_CLIENT_SECRET.to_string()));
}

async fn setup() -> Setup {
    setup_with(with_client).await
}

fn provider(s: &Setup) -> &dyn fanout_core::TokenProvider {
    fanout_core::Publisher::tokens(&s.publisher).expect("LinkedIn refreshes tokens")
}

fn refresh_token(c: &Connection) -> &str {
    c.refresh_token
        .as_ref()
        .expect("a refresh token")
        .expose_secret()
}

/// Publishes a photo post with `connection` and checks the fake received its bytes.
async fn publish_photo(s: &Setup, connection: &Connection) {
    let file = spooled_jpeg(s.dir.path(), 4096, 7).await;
    let p = post(PostMedia::Photos(vec![Arc::clone(&file)]), None, &[]);
    let receipt = s
        .publish(&p, connection)
        .await
        .expect("the post is published");
    let published = s.fake.published();
    let last = published.last().expect("a post");
    assert_eq!(receipt.get("post_id"), Some(&json!(last.id)));
    assert_eq!(last.account, connection.account_name);
    assert_eq!(last.media[0].sha256, file.sha256_hex());
}

#[tokio::test]
async fn refresh_returns_working_tokens_and_keeps_the_account() {
    let s = setup().await;
    let stale = s
        .fake
        .refreshable_connection("acme", Utc::now() + Duration::minutes(1));
    s.fake.expire_access_token(stale.access_token());
    let err = s
        .publish(
            &post(
                PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 2048, 1).await]),
                None,
                &[],
            ),
            &stale,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenExpired);

    let before = Utc::now();
    let fresh = provider(&s)
        .refresh(&stale)
        .await
        .expect("the refresh works");
    assert_eq!(s.fake.refresh_calls(), 1);
    assert_ne!(fresh.access_token(), stale.access_token());
    assert_eq!(fresh.account_name, "acme");
    assert_eq!(fresh.attributes, stale.attributes);
    // LinkedIn answers the same refresh token; it keeps working.
    assert_eq!(refresh_token(&fresh), refresh_token(&stale));
    let expires = fresh.expires_at.expect("an expiry");
    let sixty_days = Duration::days(60);
    assert!(
        expires >= before + sixty_days - Duration::seconds(5),
        "{expires}"
    );
    assert!(expires <= Utc::now() + sixty_days, "{expires}");

    publish_photo(&s, &fresh).await;
    let again = provider(&s)
        .refresh(&fresh)
        .await
        .expect("a second refresh works");
    assert_eq!(s.fake.refresh_calls(), 2);
    publish_photo(&s, &again).await;
}

#[tokio::test]
async fn a_rotated_refresh_token_is_kept_and_the_old_one_refused() {
    let s = setup().await;
    s.fake.set_rotate_refresh_tokens(true);
    let stale = s.fake.refreshable_connection("acme", Utc::now());
    let fresh = provider(&s)
        .refresh(&stale)
        .await
        .expect("the refresh works");
    assert_ne!(refresh_token(&fresh), refresh_token(&stale));
    publish_photo(&s, &fresh).await;

    let err = provider(&s).refresh(&stale).await.unwrap_err();
    assert_eq!(
        err,
        TokenError::refused(
            "LinkedIn refused the grant (invalid_grant: The provided authorization grant or \
             refresh token is invalid, expired or revoked): it expired (a year after the \
             member connected) or was revoked; reconnect the LinkedIn account."
        )
    );
    provider(&s)
        .refresh(&fresh)
        .await
        .expect("the rotated token works");
}

#[tokio::test]
async fn a_revoked_refresh_token_is_refused_without_leaking_it() {
    let s = setup().await;
    let conn = s.fake.refreshable_connection("acme", Utc::now());
    s.fake.revoke_refresh_token(refresh_token(&conn));
    let err = provider(&s).refresh(&conn).await.unwrap_err();
    assert_eq!(err.kind(), TokenErrorKind::Refused, "{err:?}");
    let message = err.message();
    assert!(
        message.contains("reconnect the LinkedIn account"),
        "{message}"
    );
    assert!(!message.contains(refresh_token(&conn)), "{message}");
    assert!(!message.contains(DEFAULT_CLIENT_SECRET), "{message}");
    assert_eq!(s.fake.refresh_calls(), 1);
}

#[tokio::test]
async fn server_errors_and_lost_connections_are_transient() {
    let s = setup().await;
    let conn = s.fake.refreshable_connection("acme", Utc::now());
    s.fake.inject(Fault::respond(
        "/oauth/v2/accessToken",
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "temporarily_unavailable", "error_description": "Try later"}),
    ));
    let err = provider(&s).refresh(&conn).await.unwrap_err();
    assert_eq!(
        err,
        TokenError::transient(
            "LinkedIn's token endpoint gave HTTP 503: Try later; every token was kept, try \
             again in a few minutes."
        )
    );

    s.fake.inject(Fault::on(
        "/oauth/v2/accessToken",
        FaultKind::DropConnection,
    ));
    let err = provider(&s).refresh(&conn).await.unwrap_err();
    assert_eq!(err.kind(), TokenErrorKind::Transient, "{err:?}");
    let message = err.message();
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains(refresh_token(&conn)), "{message}");

    s.fake.inject(Fault::respond(
        "/oauth/v2/accessToken",
        StatusCode::TOO_MANY_REQUESTS,
        json!({"status": 429, "code": "TOO_MANY_REQUESTS", "message": "Throttled"}),
    ));
    assert!(matches!(
        provider(&s).refresh(&conn).await,
        Err(e) if e.kind() == TokenErrorKind::Transient
    ));
    // Every token was kept: the same refresh token still works.
    provider(&s)
        .refresh(&conn)
        .await
        .expect("the refresh token still works");
}

#[tokio::test]
async fn missing_or_wrong_client_credentials_are_unsupported() {
    let s = setup_with(|c| c.oauth_base_url = c.base_url.clone()).await;
    let conn = s.fake.refreshable_connection("acme", Utc::now());
    let err = provider(&s).refresh(&conn).await.unwrap_err();
    assert_eq!(
        err,
        TokenError::unsupported(
            "LinkedIn tokens cannot be obtained or refreshed without the app's credentials; \
             set `platforms.linkedin.client_id` and `platforms.linkedin.client_secret` (from \
             the app's Auth tab in the LinkedIn Developer Portal)."
        )
    );
    let request = AuthorizationRequest {
        redirect_uri: REDIRECT,
        state: "st",
        code_challenge: None,
    };
    assert!(matches!(
        provider(&s).authorization_url(&request),
        Err(e) if e.kind() == TokenErrorKind::Unsupported
    ));
    assert_eq!(s.fake.refresh_calls(), 0, "nothing was sent");

    let s = setup().await;
    s.fake.set_client(DEFAULT_CLIENT_ID, "another-secret");
    let conn = s.fake.refreshable_connection("acme", Utc::now());
    let err = provider(&s).refresh(&conn).await.unwrap_err();
    assert_eq!(err.kind(), TokenErrorKind::Unsupported, "{err:?}");
    let message = err.message();
    assert!(message.contains("invalid_client"), "{message}");
    assert!(
        message.contains("platforms.linkedin.client_secret"),
        "{message}"
    );

    let no_refresh = s.fake.connection("acme");
    assert!(matches!(
        provider(&s).refresh(&no_refresh).await,
        Err(e) if e.kind() == TokenErrorKind::Unsupported
    ));
}

#[tokio::test]
async fn the_authorization_url_names_the_app_redirect_scopes_and_state() {
    let s = setup_with(|c| {
        c.client_id = Some("app-123".into());
        c.client_secret = Some(SecretString::from("s".to_string()));
    })
    .await;
    let url = provider(&s)
        .authorization_url(&AuthorizationRequest {
            redirect_uri: REDIRECT,
            state: "state-xyz",
            code_challenge: Some("ignored"),
        })
        .unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("www.linkedin.com"));
    assert_eq!(url.path(), "/oauth/v2/authorization");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("response_type", "code"),
            ("client_id", "app-123"),
            ("redirect_uri", REDIRECT),
            ("state", "state-xyz"),
            ("scope", "openid profile w_member_social"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert!(!provider(&s).supports_pkce());
    assert!(!url.as_str().contains("code_challenge"));
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// Follows the authorization page by hand: its 302 and the callback's query.
async fn approve(s: &Setup, redirect_uri: &str, state: &str) -> HashMap<String, String> {
    let url = provider(s)
        .authorization_url(&AuthorizationRequest {
            redirect_uri,
            state,
            code_challenge: None,
        })
        .expect("an authorization URL");
    let answer = no_redirects().get(url).send().await.expect("an answer");
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"]
        .to_str()
        .expect("a location")
        .to_string();
    let back = url::Url::parse(&location).expect("a URL");
    assert_eq!(
        format!(
            "{}://{}{}",
            back.scheme(),
            back.host_str().expect("a host"),
            back.path()
        ),
        redirect_uri
    );
    back.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn the_full_code_flow_connects_an_account_that_can_publish() {
    let s = setup().await;
    let query = approve(&s, REDIRECT, "state-1").await;
    assert_eq!(query["state"], "state-1");
    let code = &query["code"];

    let before = Utc::now();
    let conn = provider(&s)
        .exchange_code(code, REDIRECT, None)
        .await
        .expect("the code is exchanged");
    let name = FakeLinkedIn::authorized_member_name(1);
    assert_eq!(conn.account_name, name);
    assert_eq!(
        conn.attribute("author_urn"),
        Some(s.fake.person_urn(&name).as_str())
    );
    assert!(conn.refresh_token.is_some());
    let expires = conn.expires_at.expect("an expiry");
    assert!(expires >= before + Duration::days(60) - Duration::seconds(5));

    let file = spooled_mp4(s.dir.path(), 300 * 1024).await;
    let p = post(PostMedia::Video(Arc::clone(&file)), Some("Hello"), &[]);
    s.publish(&p, &conn)
        .await
        .expect("the new account publishes");
    let published = s.fake.published();
    assert_eq!(published[0].account, name);
    assert_eq!(published[0].media[0].sha256, file.sha256_hex());
    assert_eq!(published[0].options["author"], s.fake.person_urn(&name));

    // The code works once.
    let err = provider(&s)
        .exchange_code(code, REDIRECT, None)
        .await
        .unwrap_err();
    assert!(
        err.kind() == TokenErrorKind::Refused && err.message().contains("invalid_grant"),
        "{err:?}"
    );

    // The refresh token of the new connection works too.
    let fresh = provider(&s).refresh(&conn).await.expect("refresh");
    publish_photo(&s, &fresh).await;
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let s = setup().await;
    let query = approve(&s, REDIRECT, "st").await;
    let err = provider(&s)
        .exchange_code(&query["code"], "https://evil.example.com/callback", None)
        .await
        .unwrap_err();
    assert!(
        err.kind() == TokenErrorKind::Refused && err.message().contains("invalid_request"),
        "{err:?}"
    );
    // ... and it is spent.
    assert!(matches!(
        provider(&s)
            .exchange_code(&query["code"], REDIRECT, None)
            .await,
        Err(e) if e.kind() == TokenErrorKind::Refused
    ));
}

#[tokio::test]
async fn the_authorization_page_checks_what_it_is_given() {
    let s = setup().await;
    let base = s.fake.base_url().join("oauth/v2/authorization").unwrap();
    let client = no_redirects();
    let ask = |pairs: &[(&str, &str)]| {
        let mut url = base.clone();
        url.query_pairs_mut().extend_pairs(pairs.iter().copied());
        client.get(url).send()
    };
    let good = [
        ("response_type", "code"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
        ("scope", "openid profile w_member_social"),
    ];
    let with = |key: &str, value: &str| -> Vec<(String, String)> {
        good.iter()
            .map(|(k, v)| (k.to_string(), if *k == key { value } else { v }.to_string()))
            .collect()
    };
    let send = |pairs: Vec<(String, String)>| {
        let mut url = base.clone();
        url.query_pairs_mut().extend_pairs(pairs);
        client.get(url).send()
    };
    assert_eq!(ask(&good).await.unwrap().status(), 302);
    assert_eq!(send(with("client_id", "nope")).await.unwrap().status(), 400);
    assert_eq!(
        send(with("redirect_uri", "/relative"))
            .await
            .unwrap()
            .status(),
        400
    );
    for (key, value, error) in [
        ("response_type", "token", "unsupported_response_type"),
        ("scope", "openid w_everything", "invalid_scope"),
        ("scope", "", "invalid_scope"),
        ("state", "", "invalid_request"),
    ] {
        let answer = send(with(key, value)).await.unwrap();
        assert_eq!(answer.status(), 302, "{key}={value}");
        let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
        let q: HashMap<String, String> = location.query_pairs().into_owned().collect();
        assert_eq!(q["error"], error, "{key}={value}");
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn the_token_endpoint_is_strict() {
    let s = setup().await;
    let url = s.fake.base_url().join("oauth/v2/accessToken").unwrap();
    let conn = s.fake.refreshable_connection("acme", Utc::now());
    let client = reqwest::Client::new();
    // JSON instead of a form.
    let answer = client
        .post(url.clone())
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let form = |pairs: &[(&str, &str)]| {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().copied())
            .finish();
        client
            .post(url.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let answer = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token(&conn)),
        ("client_id", DEFAULT_CLIENT_ID),
    ])
    .await
    .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        json!({"error": "invalid_request", "error_description": "A required parameter \"client_secret\" is missing"})
    );
    let answer = form(&[
        ("grant_type", "password"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
    ])
    .await
    .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let answer = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token(&conn)),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
    ])
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["expires_in"], 60 * 24 * 3600);
    assert_eq!(body["refresh_token"], refresh_token(&conn));
    let left = body["refresh_token_expires_in"].as_i64().unwrap();
    assert!(left <= 365 * 24 * 3600 && left > 364 * 24 * 3600, "{left}");
    assert_eq!(body["scope"], "openid profile w_member_social");
}

#[tokio::test]
async fn the_member_lookup_after_the_exchange_maps_its_failures() {
    let s = setup().await;
    let query = approve(&s, REDIRECT, "st").await;
    s.fake.inject(Fault::respond(
        "/v2/userinfo",
        StatusCode::BAD_GATEWAY,
        json!({"status": 502, "code": "BAD_GATEWAY", "message": "down"}),
    ));
    let err = provider(&s)
        .exchange_code(&query["code"], REDIRECT, None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TokenError::transient(
            "LinkedIn could not say who connected (HTTP 502); try connecting again in a few \
             minutes."
        )
    );

    let query = approve(&s, REDIRECT, "st").await;
    s.fake.inject(Fault::respond(
        "/v2/userinfo",
        StatusCode::FORBIDDEN,
        json!({"status": 403, "code": "ACCESS_DENIED", "message": "Not enough permissions"}),
    ));
    let err = provider(&s)
        .exchange_code(&query["code"], REDIRECT, None)
        .await
        .unwrap_err();
    assert!(
        err.kind() == TokenErrorKind::Refused
            && err.message().contains("openid and profile scopes"),
        "{err:?}"
    );
}
