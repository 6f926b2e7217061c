//! The whole path over real sockets: the server in sandbox mode, the real publishers,
//! the strict fakes.

mod support;

use chrono::{Datelike, Utc};
use fanout_testkit::media::{jpeg_bytes, mp4_bytes};
use fanout_testkit::{FakePlatform, ReceivedMedia};
use serde_json::json;
use support::*;

const PRO: &str = "monthly_uploads = 120";
const ALL: [&str; 3] = ["tiktok", "instagram", "linkedin"];

fn month_start() -> String {
    let now = Utc::now();
    format!("{:04}-{:02}-01T00:00:00.000Z", now.year(), now.month())
}

#[tokio::test]
async fn a_video_reaches_all_three_platforms_intact() {
    let server = start(&config(PRO, "li-token-acme")).await;
    let video = mp4_bytes(6 * 1024 * 1024 + 777);
    let expected = ReceivedMedia::of(&video);
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(video, &ALL),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let tiktok = &body["results"]["tiktok"];
    assert_eq!(tiktok["success"], true, "{body}");
    assert_eq!(tiktok["status"], "PUBLISH_SUCCESS");
    assert!(tiktok["publish_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    let instagram = &body["results"]["instagram"];
    assert_eq!(instagram["success"], true, "{body}");
    assert!(instagram["container_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    let linkedin = &body["results"]["linkedin"];
    assert_eq!(linkedin["success"], true, "{body}");
    assert!(linkedin["post_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("urn:li:")));
    assert_eq!(
        body["usage"],
        json!({"count": 1, "limit": 120, "last_reset": month_start()})
    );

    // Every fake received exactly the uploaded bytes.
    let fakes: [&dyn FakePlatform; 3] = [
        &server.sandbox.tiktok,
        &server.sandbox.instagram,
        &server.sandbox.linkedin,
    ];
    for fake in fakes {
        let posts = fake.published();
        assert_eq!(posts.len(), 1, "{}: {posts:?}", fake.platform());
        assert_eq!(
            posts[0].media,
            vec![expected.clone()],
            "{}",
            fake.platform()
        );
        assert_eq!(
            posts[0].account,
            match fake.platform() {
                "tiktok" => "acme_tt",
                "instagram" => "acme_ig",
                _ => "Acme Inc",
            }
        );
    }
    assert_eq!(
        tiktok["publish_id"],
        server.sandbox.tiktok.published()[0].id.as_str()
    );
    assert_eq!(
        linkedin["post_id"],
        server.sandbox.linkedin.published()[0].id.as_str()
    );
    server.stop().await;
}

#[tokio::test]
async fn photos_reach_all_three_platforms_intact() {
    let server = start(&config(PRO, "li-token-acme")).await;
    let photos = [jpeg_bytes(120_000, 1), jpeg_bytes(90_000, 2)];
    let mut form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "two photos");
    for (i, photo) in photos.iter().enumerate() {
        form = form.part(
            "photos[]",
            reqwest::multipart::Part::bytes(photo.clone()).file_name(format!("p{i}.jpg")),
        );
    }
    for p in ALL {
        form = form.text("platform[]", p);
    }
    let (status, body) = post(&server.base_url, "/api/upload_photos", "ak_acme", form).await;
    assert_eq!(status, 200, "{body}");
    for p in ALL {
        assert_eq!(body["results"][p]["success"], true, "{p}: {body}");
    }
    let expected: Vec<ReceivedMedia> = photos.iter().map(|p| ReceivedMedia::of(p)).collect();
    let fakes: [&dyn FakePlatform; 3] = [
        &server.sandbox.tiktok,
        &server.sandbox.instagram,
        &server.sandbox.linkedin,
    ];
    for fake in fakes {
        let posts = fake.published();
        assert_eq!(posts.len(), 1, "{}", fake.platform());
        assert_eq!(posts[0].media, expected, "{}", fake.platform());
    }
    server.stop().await;
}

#[tokio::test]
async fn an_expired_linkedin_token_fails_linkedin_alone() {
    let server = start(&config(PRO, "expired-li-token")).await;
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(mp4_bytes(300_000), &["tiktok", "linkedin"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    assert_eq!(
        body["results"]["linkedin"],
        json!({"success": false, "error": "Your LinkedIn session has expired. Please reconnect your LinkedIn account. Go to Manage Users, remove the account, and connect it again."})
    );
    assert!(server.sandbox.linkedin.published().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_reconnect_hint_is_the_operators_sentence() {
    // Top-level keys must precede the tables of the shared config.
    let toml = format!(
        "reconnect_hint = \"Open Settings → Connections to reconnect.\"\n{}",
        config(PRO, "expired-li-token")
    );
    let server = start(&toml).await;
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(mp4_bytes(300_000), &["linkedin"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"]["linkedin"],
        json!({"success": false, "error": "Your LinkedIn session has expired. Please reconnect your LinkedIn account. Open Settings → Connections to reconnect."})
    );
    server.stop().await;
}

#[tokio::test]
async fn the_sixth_upload_of_the_day_names_the_platform_and_account() {
    let server = start(&config(
        "monthly_uploads = 120\ndaily_uploads_per_account = 5",
        "li-token-acme",
    ))
    .await;
    for n in 1..=5 {
        let (status, body) = post(
            &server.base_url,
            "/api/upload",
            "ak_acme",
            video_form(mp4_bytes(100_000), &["tiktok"]),
        )
        .await;
        assert_eq!(status, 200, "upload {n}: {body}");
    }
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(mp4_bytes(100_000), &["tiktok"]),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            429,
            json!({"success": false, "message": "You have reached the daily limit of 5 uploads for: TikTok (acme_tt)"})
        )
    );
    assert_eq!(server.sandbox.tiktok.published().len(), 5);
    server.stop().await;
}

#[tokio::test]
async fn a_platform_the_profile_never_connected_fails_alone() {
    let toml = config(PRO, "li-token-acme").replace(
        "[accounts.profiles.connections.instagram]\naccount_name = \"acme_ig\"\naccess_token = \"ig-token-acme\"\n",
        "",
    );
    let server = start(&toml).await;
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(mp4_bytes(200_000), &ALL),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true);
    assert_eq!(body["results"]["linkedin"]["success"], true);
    assert_eq!(
        body["results"]["instagram"],
        json!({"success": false, "error": "No Instagram account is connected to this profile. Connect your Instagram account and try again."})
    );
    server.stop().await;
}
