//! Connecting accounts and keeping their tokens fresh, through the ready server and the
//! sandbox fakes' real OAuth endpoints.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use chrono::Utc;
use fanout_core::{AccountDirectory, Connection};
use fanout_server::Config;
use fanout_server::{App, RunningServer, Sandbox};
use fanout_testkit::media::mp4_bytes;
use fanout_testkit::FakePlatform;
use support::{config, post, video_form};

const PLATFORMS: [&str; 3] = ["tiktok", "instagram", "linkedin"];

async fn app() -> (App, Arc<Sandbox>, Arc<dyn AccountDirectory>) {
    let mut config = Config::from_toml(&config("monthly_uploads = 1000", "li-token-acme")).unwrap();
    config.addr = "127.0.0.1:0".into();
    let app = App::build(config).await.unwrap();
    let sandbox = app.sandbox().unwrap();
    let directory = Arc::clone(app.engine().directory());
    (app, sandbox, directory)
}

fn fake<'a>(sandbox: &'a Sandbox, platform: &str) -> &'a dyn FakePlatform {
    match platform {
        "tiktok" => &sandbox.tiktok,
        "instagram" => &sandbox.instagram,
        _ => &sandbox.linkedin,
    }
}

/// A connection for `acme` on `platform` that the fake can refresh, expiring in `expires_in`.
fn refreshable(sandbox: &Sandbox, platform: &str, expires_in: chrono::Duration) -> Connection {
    let account = match platform {
        "tiktok" => "acme_tt",
        "instagram" => "acme_ig",
        _ => "Acme Inc",
    };
    fake(sandbox, platform)
        .refreshable_connection(account, Utc::now() + expires_in)
        .expect("every sandbox fake issues refreshable connections")
}

fn refresh_calls(sandbox: &Sandbox, platform: &str) -> usize {
    fake(sandbox, platform).refresh_calls()
}

async fn stored(directory: &Arc<dyn AccountDirectory>, platform: &str) -> Connection {
    directory
        .find_by_name("acme")
        .await
        .unwrap()
        .unwrap()
        .profiles["main"]
        .connections[platform]
        .clone()
}

async fn upload(server: &RunningServer, platforms: &[&str]) -> serde_json::Value {
    let (status, body) = post(
        server.base_url(),
        "/api/upload",
        "ak_acme",
        video_form(mp4_bytes(120_000), platforms),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn connecting_each_platform_stores_a_connection_that_publishes() {
    let (app, sandbox, directory) = app().await;
    let server = app.spawn();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for platform in PLATFORMS {
        let start = client
            .get(format!(
                "{}/api/connect/{platform}?user=brand",
                server.base_url()
            ))
            .header("authorization", "Apikey ak_acme")
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 302, "{platform}");
        let authorize = start.headers()["location"].to_str().unwrap().to_string();
        // The platform's authorization page (the fake approves at once).
        let approved = client.get(&authorize).send().await.unwrap();
        assert_eq!(
            approved.status(),
            302,
            "{platform}: {}",
            approved.text().await.unwrap_or_default()
        );
        let callback = approved.headers()["location"].to_str().unwrap().to_string();
        assert!(
            callback.starts_with(&format!(
                "{}/api/connect/{platform}/callback?",
                server.base_url()
            )),
            "{callback}"
        );
        let done = client.get(&callback).send().await.unwrap();
        assert_eq!(done.status(), 200, "{platform}");
        let body: serde_json::Value = done.json().await.unwrap();
        assert_eq!(body["success"], true, "{body}");
        assert_eq!(body["user"], "brand");
        assert_eq!(body["platform"], platform);
    }
    let profile = directory
        .find_by_name("acme")
        .await
        .unwrap()
        .unwrap()
        .profiles["brand"]
        .clone();
    assert_eq!(profile.connections.len(), 3);

    let form = video_form(mp4_bytes(150_000), &PLATFORMS);
    let form = form.text("user", "brand");
    let (status, body) = post(server.base_url(), "/api/upload", "ak_acme", form).await;
    assert_eq!(status, 200, "{body}");
    for platform in PLATFORMS {
        assert_eq!(
            body["results"][platform]["success"], true,
            "{platform}: {body}"
        );
        assert_eq!(fake(&sandbox, platform).published().len(), 1, "{platform}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn tokens_about_to_expire_are_refreshed_and_written_back() {
    let (app, sandbox, directory) = app().await;
    for platform in PLATFORMS {
        let connection = refreshable(&sandbox, platform, chrono::Duration::seconds(60));
        directory
            .save_connection("acme", "main", platform, connection)
            .await
            .unwrap();
    }
    let before: Vec<String> = {
        let mut v = Vec::new();
        for p in PLATFORMS {
            v.push(stored(&directory, p).await.access_token().to_string());
        }
        v
    };
    let server = app.spawn();
    let body = upload(&server, &PLATFORMS).await;
    for (platform, old) in PLATFORMS.iter().zip(before) {
        assert_eq!(
            body["results"][platform]["success"], true,
            "{platform}: {body}"
        );
        assert_eq!(refresh_calls(&sandbox, platform), 1, "{platform}");
        let saved = stored(&directory, platform).await;
        assert_ne!(
            saved.access_token(),
            old,
            "{platform}: the new token is stored"
        );
        assert!(
            saved.expires_at.unwrap() > Utc::now() + chrono::Duration::minutes(30),
            "{platform}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_upload_succeeds() {
    let (app, sandbox, directory) = app().await;
    let connection = refreshable(&sandbox, "linkedin", chrono::Duration::days(30));
    sandbox
        .linkedin
        .expire_access_token(connection.access_token());
    directory
        .save_connection("acme", "main", "linkedin", connection)
        .await
        .unwrap();
    let server = app.spawn();
    let body = upload(&server, &["linkedin"]).await;
    assert_eq!(body["results"]["linkedin"]["success"], true, "{body}");
    assert_eq!(sandbox.linkedin.refresh_calls(), 1);
    assert_eq!(sandbox.linkedin.published().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_uploads_share_one_tiktok_refresh() {
    let (app, sandbox, directory) = app().await;
    let connection = refreshable(&sandbox, "tiktok", chrono::Duration::seconds(30));
    directory
        .save_connection("acme", "main", "tiktok", connection)
        .await
        .unwrap();
    let server = Arc::new(app.spawn());
    let mut uploads = Vec::new();
    for _ in 0..20 {
        let server = Arc::clone(&server);
        uploads.push(tokio::spawn(
            async move { upload(&server, &["tiktok"]).await },
        ));
    }
    for u in uploads {
        let body = u.await.unwrap();
        assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    }
    assert_eq!(
        sandbox.tiktok.refresh_calls(),
        1,
        "TikTok rotates refresh tokens: one refresh only"
    );
    assert_eq!(sandbox.tiktok.published().len(), 20);
}
