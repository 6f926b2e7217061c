//! Token refresh and account connection (Facebook Login) against the strict fake.

mod common;

use chrono::{Duration, Utc};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    AuthorizationRequest, Connection, PostMedia, PublishContext, Publisher, TokenError,
    TokenErrorKind,
};
use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_testkit::fakes::instagram::{FakeInstagram, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET};
use fanout_testkit::media::spooled_jpeg;
use fanout_testkit::{FakePlatform, Fault, FaultKind};
use reqwest::StatusCode;
use serde_json::json;

fn config(fake: &FakeInstagram) -> InstagramConfig {
    let mut config = common::config(fake);
    config.client_id = Some(FAKE_CLIENT_ID.to_string());
    config.client_secret = Some(SecretString::from(FAKE_CLIENT_SECRET.to_string()));
    config.oauth_base_url = fake.oauth_base_url();
    config
}

fn publisher(fake: &FakeInstagram) -> InstagramPublisher {
    InstagramPublisher::new(config(fake))
}

async fn refresh(p: &InstagramPublisher, c: &Connection) -> Result<Connection, TokenError> {
    p.tokens()
        .expect("instagram refreshes tokens")
        .refresh(c)
        .await
}

/// Publishes one photo with `connection`; the media id on success.
async fn publish_photo(env: &common::Env, connection: &Connection) -> Result<String, String> {
    let p = common::publisher(&env.fake);
    let file = spooled_jpeg(env.dir.path(), 20_000, 7).await;
    let post = common::post("hello", PostMedia::Photos(vec![file.clone()]), &[]);
    let host = env.media.host();
    let receipt = p
        .publish(PublishContext::new(&post, connection, host.as_ref()))
        .await
        .map_err(|e| e.to_string())?;
    let published = env.fake.published();
    let last = published.last().expect("a post");
    assert_eq!(last.media[0].sha256, file.sha256_hex());
    assert_eq!(last.account, connection.account_name);
    Ok(receipt
        .get("media_id")
        .and_then(|v| v.as_str())
        .expect("media id")
        .to_string())
}

#[tokio::test]
async fn refresh_returns_working_tokens_and_keeps_the_account() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let old = env
        .fake
        .refreshable_connection("shop", Utc::now() + Duration::minutes(5));
    env.fake.expire_access_token(old.access_token());
    let new = refresh(&p, &old).await.expect("refreshed");
    assert_eq!(env.fake.refresh_calls(), 1);
    assert_eq!(new.account_name, "shop");
    assert_eq!(new.attribute("user_id"), old.attribute("user_id"));
    assert_ne!(new.access_token(), old.access_token());
    let new_refresh = new.refresh_token.as_ref().expect("refresh token");
    assert_ne!(
        new_refresh.expose_secret(),
        old.refresh_token.as_ref().expect("old").expose_secret()
    );
    let expires = new.expires_at.expect("expiry") - Utc::now();
    assert!(
        expires > Duration::days(59) && expires <= Duration::days(60),
        "{expires:?}"
    );
    let err = publish_photo(&env, &old)
        .await
        .expect_err("old token expired");
    assert!(err.contains("reconnect"), "{err}");
    publish_photo(&env, &new)
        .await
        .expect("published with the new token");
}

#[tokio::test]
async fn the_old_refresh_token_is_refused_after_rotation() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let old = env.fake.refreshable_connection("shop", Utc::now());
    refresh(&p, &old).await.expect("refreshed");
    let err = refresh(&p, &old).await.expect_err("rotated away");
    assert_eq!(
        err,
        TokenError::refused(
            "Instagram refused to refresh the login: the login is no longer valid or was \
             revoked (Invalid OAuth access token - Cannot parse access token). Reconnect the \
             Instagram account."
        )
    );
}

#[tokio::test]
async fn a_revoked_login_is_refused() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let c = env.fake.refreshable_connection("shop", Utc::now());
    let user_token = c
        .refresh_token
        .as_ref()
        .expect("rt")
        .expose_secret()
        .to_string();
    env.fake.revoke_refresh_token(&user_token);
    let err = refresh(&p, &c).await.expect_err("revoked");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "not refused: {err:?}");
    let msg = err.message();
    assert!(
        msg.contains("the app was removed from the account"),
        "{msg}"
    );
    assert!(
        !msg.contains(&user_token) && !msg.contains(FAKE_CLIENT_SECRET),
        "{msg}"
    );
}

#[tokio::test]
async fn server_errors_and_lost_connections_are_transient() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let c = env.fake.refreshable_connection("shop", Utc::now());
    env.fake.inject(Fault::respond(
        "/oauth/access_token",
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": {"message": "An unexpected error has occurred.", "type": "OAuthException", "code": 2, "is_transient": true}}),
    ));
    let err = refresh(&p, &c).await.expect_err("5xx");
    assert_eq!(
        err,
        TokenError::transient(
            "Instagram could not refresh the login right now (An unexpected error has \
             occurred.); every token was kept, try again later."
        )
    );
    env.fake
        .inject(Fault::on("/oauth/access_token", FaultKind::DropConnection));
    let err = refresh(&p, &c).await.expect_err("dropped");
    assert_eq!(err.kind(), TokenErrorKind::Transient, "{err:?}");
    // Nothing was rotated: the same tokens still refresh.
    refresh(&p, &c).await.expect("refreshed after the failures");
}

#[tokio::test]
async fn missing_or_wrong_credentials() {
    let env = common::env().await;
    let p = InstagramPublisher::new(common::config(&env.fake));
    let c = env.fake.refreshable_connection("shop", Utc::now());
    let err = refresh(&p, &c).await.expect_err("no credentials");
    assert_eq!(
        err,
        TokenError::unsupported(
            "Instagram tokens cannot be refreshed or accounts connected without the Meta \
             app's credentials; set `platforms.instagram.client_id` and \
             `platforms.instagram.client_secret`."
        )
    );
    assert_eq!(env.fake.refresh_calls(), 0);
    env.fake.set_client(FAKE_CLIENT_ID, "another-secret");
    let err = refresh(&publisher(&env.fake), &c).await.expect_err("bad");
    assert_eq!(
        err.kind(),
        TokenErrorKind::Transient,
        "not transient: {err:?}"
    );
    let msg = err.message();
    assert!(msg.contains("Error validating client secret."), "{msg}");
    assert!(!msg.contains(FAKE_CLIENT_SECRET), "{msg}");
}

#[tokio::test]
async fn authorization_url_names_the_dialog_and_its_parameters() {
    let p = InstagramPublisher::new({
        let mut config = InstagramConfig::default();
        config.client_id = Some("1234".to_string());
        config
    });
    let tokens = p.tokens().expect("tokens");
    assert!(!tokens.supports_pkce());
    let url = tokens
        .authorization_url(&AuthorizationRequest {
            redirect_uri: "https://app.example/cb?x=1",
            state: "st8",
            code_challenge: None,
        })
        .expect("url");
    assert_eq!(url.host_str(), Some("www.facebook.com"));
    assert_eq!(url.path(), "/v21.0/dialog/oauth");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let pairs = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        query,
        vec![
            pairs("client_id", "1234"),
            pairs("redirect_uri", "https://app.example/cb?x=1"),
            pairs("state", "st8"),
            pairs("response_type", "code"),
            pairs(
                "scope",
                "instagram_basic,instagram_content_publish,instagram_manage_comments,\
                 pages_show_list,pages_read_engagement,business_management"
            ),
        ]
    );
}

#[tokio::test]
async fn the_code_flow_connects_an_account_that_publishes() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let tokens = p.tokens().expect("tokens");
    let redirect = "http://127.0.0.1:9/callback";
    let url = tokens
        .authorization_url(&AuthorizationRequest {
            redirect_uri: redirect,
            state: "state-42",
            code_challenge: None,
        })
        .expect("url");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = http.get(url).send().await.expect("dialog answers");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().expect("ascii");
    let back = url::Url::parse(location).expect("location");
    assert_eq!(back.path(), "/callback");
    let get = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(get("state").as_deref(), Some("state-42"));
    let code = get("code").expect("code");

    // Bound to the redirect URI: a different one is refused, and the code is spent.
    let err = tokens
        .exchange_code(&code, "http://127.0.0.1:9/other", None)
        .await
        .expect_err("wrong redirect");
    assert_eq!(err.kind(), TokenErrorKind::Refused, "{err:?}");
    let answer = http
        .get(
            tokens
                .authorization_url(&AuthorizationRequest {
                    redirect_uri: redirect,
                    state: "state-43",
                    code_challenge: None,
                })
                .expect("url"),
        )
        .send()
        .await
        .expect("dialog answers");
    let back = url::Url::parse(answer.headers()["location"].to_str().expect("ascii")).expect("url");
    let code = back
        .query_pairs()
        .find(|(n, _)| n == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let connection = tokens
        .exchange_code(&code, redirect, None)
        .await
        .expect("connected");
    assert_eq!(connection.account_name, "connected_2");
    assert_eq!(
        connection.attribute("user_id").map(str::to_string),
        Some(env.fake.ig_user_id("connected_2"))
    );
    assert!(connection.refresh_token.is_some());
    let expires = connection.expires_at.expect("expiry") - Utc::now();
    assert!(expires > Duration::days(59), "{expires:?}");
    let again = tokens.exchange_code(&code, redirect, None).await;
    assert!(
        matches!(&again, Err(e) if e.kind() == TokenErrorKind::Refused),
        "{again:?}"
    );
    publish_photo(&env, &connection).await.expect("published");
}

#[tokio::test]
async fn the_dialog_checks_its_parameters() {
    let env = common::env().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = env.fake.oauth_base_url().join("dialog/oauth").expect("url");
    let good = [
        ("client_id", FAKE_CLIENT_ID),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
        ("response_type", "code"),
        ("scope", "instagram_basic,instagram_content_publish"),
        ("state", "s"),
    ];
    for (skip, status) in [
        ("client_id", 400),
        ("redirect_uri", 400),
        ("response_type", 400),
        ("scope", 400),
        ("state", 400),
        ("", 302),
    ] {
        let query: Vec<_> = good.iter().filter(|(k, _)| *k != skip).collect();
        let answer = http
            .get(base.clone())
            .query(&query)
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status().as_u16(), status, "without {skip}");
    }
}

#[tokio::test]
async fn a_rate_limited_token_endpoint_is_transient() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let c = env.fake.refreshable_connection("shop", Utc::now());
    env.fake.inject(
        Fault::respond(
            "/oauth/access_token",
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}}),
        )
        .with_header("retry-after", "1"),
    );
    let err = refresh(&p, &c).await.expect_err("429");
    assert_eq!(
        err,
        TokenError::transient(
            "Instagram could not refresh the login right now ((#4) Application request limit \
             reached); every token was kept, try again later."
        )
    );
}

#[tokio::test]
async fn a_lost_page_lookup_keeps_the_new_login_and_the_old_page_token() {
    let env = common::env().await;
    let p = publisher(&env.fake);
    let old = env.fake.refreshable_connection("shop", Utc::now());
    env.fake
        .inject(Fault::on("/me/accounts", FaultKind::DropConnection));
    let before = Utc::now();
    let new = refresh(&p, &old).await.expect("the new user token is kept");
    assert_eq!(new.access_token(), old.access_token());
    let old_user = old.refresh_token.as_ref().expect("rt").expose_secret();
    let new_user = new.refresh_token.as_ref().expect("rt").expose_secret();
    assert_ne!(new_user, old_user);
    let due = new.expires_at.expect("expiry");
    assert!(
        due >= before && due <= Utc::now(),
        "due for another refresh at once"
    );
    // The kept user token refreshes again; the old Page token still publishes.
    let again = refresh(&p, &new).await.expect("refreshed again");
    assert_ne!(again.access_token(), old.access_token());
    assert_eq!(env.fake.refresh_calls(), 2);
    publish_photo(&env, &new)
        .await
        .expect("old page token works");
    publish_photo(&env, &again)
        .await
        .expect("new page token works");
}
