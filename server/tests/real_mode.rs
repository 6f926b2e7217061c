//! `sandbox = false`: the publishers follow `[platforms.<name>]` to any server that
//! speaks the platform's API. Here those servers are the testkit fakes, started apart
//! from the fanout server as a real platform would be.

mod support;

use fanout_server::App;
use fanout_server::Config;
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::mp4_bytes;
use fanout_testkit::{FakePlatform, ReceivedMedia};
use support::{post, video_form};

#[tokio::test]
async fn without_sandbox_the_configured_base_urls_are_used() {
    let tiktok = FakeTikTok::spawn().await.unwrap();
    let instagram = FakeInstagram::spawn().await.unwrap();
    let linkedin = FakeLinkedIn::spawn().await.unwrap();
    tiktok.accept_token("tt-real", "acme_tt");
    instagram.accept_token("ig-real", "acme_ig");
    linkedin.accept_token("li-real", "Acme Inc");
    let toml = format!(
        r#"
addr = "127.0.0.1:0"
sandbox = false
[store]
kind = "memory"
[plans.pro]
monthly_uploads = 10
[[accounts]]
name = "acme"
api_key = "ak_acme"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "acme_tt"
access_token = "tt-real"
[accounts.profiles.connections.instagram]
account_name = "acme_ig"
access_token = "ig-real"
[accounts.profiles.connections.linkedin]
account_name = "Acme Inc"
access_token = "li-real"
[platforms.tiktok]
base_url = "{}"
poll_interval_ms = 10
client_id = "tt-client"
client_secret = "tt-secret"
[platforms.instagram]
base_url = "{}"
upload_base_url = "{}"
poll_interval_ms = 10
[platforms.linkedin]
base_url = "{}"
poll_interval_ms = 10
"#,
        tiktok.base_url(),
        instagram.base_url(),
        instagram.upload_base_url(),
        linkedin.base_url(),
    );
    let server = App::build(Config::from_toml(&toml).unwrap()).await.unwrap();
    assert!(server.sandbox().is_none());
    let server = server.spawn();
    let video = mp4_bytes(300_000);
    let (status, body) = post(
        server.base_url(),
        "/api/upload",
        "ak_acme",
        video_form(video.clone(), &["tiktok", "instagram", "linkedin"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for p in ["tiktok", "instagram", "linkedin"] {
        assert_eq!(body["results"][p]["success"], true, "{p}: {body}");
    }
    let fakes: [&dyn FakePlatform; 3] = [&tiktok, &instagram, &linkedin];
    for fake in fakes {
        let posts = fake.published();
        assert_eq!(posts.len(), 1, "{}", fake.platform());
        assert_eq!(posts[0].media, vec![ReceivedMedia::of(&video)]);
    }
    server.stop().await.unwrap();
}
