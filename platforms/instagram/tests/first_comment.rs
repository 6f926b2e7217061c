//! The first comment goes through `POST /<media id>/comments` after publishing; when it
//! fails, the post still succeeds with a warning.

mod common;

use std::sync::Arc;

use common::{env, field, post, publish};
use fanout_core::PostMedia;
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_first_comment_is_posted_on_the_published_media() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 40_000).await;
    let post = post(
        "With a comment",
        PostMedia::Video(file),
        &[("first_comment", "Link in bio #fanout")],
    );
    let receipt = publish(&env, &post, "commenter").await.unwrap();
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        env.fake.comments(),
        vec![(published[0].id.clone(), "Link in bio #fanout".to_string())]
    );
    assert!(field(&receipt, "comment_id").is_some_and(|id| id.starts_with("1780")));
    assert!(receipt.get("warnings").is_none());
}

#[tokio::test]
async fn the_platform_specific_comment_wins() {
    let env = env().await;
    let photo = spooled_jpeg(env.dir.path(), 8_000, 9).await;
    let post = post(
        "Photo",
        PostMedia::Photos(vec![photo]),
        &[
            ("first_comment", "generic"),
            ("instagram_first_comment", "for Instagram"),
        ],
    );
    publish(&env, &post, "commenter").await.unwrap();
    let comments = env.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].1, "for Instagram");
}

#[tokio::test]
async fn a_refused_comment_is_a_warning_on_a_successful_post() {
    let env = env().await;
    env.fake.inject(
        Fault::respond(
            "/comments",
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "(#100) Comments are turned off for this media",
                             "type": "OAuthException", "code": 100, "fbtrace_id": "Ax"}}),
        )
        .always(),
    );
    let file = spooled_mp4(env.dir.path(), 30_000).await;
    let post = post(
        "Comment refused",
        PostMedia::Video(Arc::clone(&file)),
        &[("first_comment", "hello")],
    );
    let receipt = publish(&env, &post, "refused").await.unwrap();
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(field(&receipt, "media_id"), Some(published[0].id.as_str()));
    assert!(env.fake.comments().is_empty());
    let warnings = receipt.get("warnings").expect("a warning");
    let warnings = warnings.as_array().expect("an array");
    assert_eq!(warnings.len(), 1);
    let warning = warnings[0].as_str().expect("a string");
    assert!(
        warning.starts_with("The post is live, but Instagram did not take the first comment ("),
        "{warning}"
    );
    assert!(
        warning.ends_with("); add it on Instagram by hand."),
        "{warning}"
    );
    assert!(receipt.get("comment_id").is_none());
}

#[tokio::test]
async fn a_server_error_on_the_comment_is_not_repeated() {
    let env = env().await;
    let (status, body) = env
        .fake
        .error_response(fanout_testkit::PlatformError::ServerError);
    env.fake.inject(Fault::respond(
        "/comments",
        StatusCode::from_u16(status).unwrap(),
        body,
    ));
    let file = spooled_mp4(env.dir.path(), 30_000).await;
    let post = post("5xx", PostMedia::Video(file), &[("first_comment", "once")]);
    let receipt = publish(&env, &post, "five").await.unwrap();
    assert_eq!(env.fake.published().len(), 1);
    // The fault fired once; a repeat would have reached the fake and commented.
    assert!(env.fake.comments().is_empty());
    assert_eq!(
        receipt.get("warnings"),
        Some(&json!([
            "The post is live, but Instagram did not take the first comment (Instagram failed \
             while posting it (HTTP 500)); add it on Instagram by hand."
        ]))
    );
}

#[tokio::test]
async fn a_story_cannot_take_a_comment() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 30_000).await;
    let post = post(
        "",
        PostMedia::Video(file),
        &[("media_type", "STORIES"), ("first_comment", "hi")],
    );
    let receipt = publish(&env, &post, "story").await.unwrap();
    assert_eq!(env.fake.published().len(), 1);
    assert!(env.fake.comments().is_empty());
    assert_eq!(
        receipt.get("warnings"),
        Some(&json!([
            "Instagram stories do not take comments, so the first comment was not posted."
        ]))
    );
}

#[tokio::test]
async fn the_fake_comment_endpoint_is_strict() {
    let env = env().await;
    let connection = env.fake.connection("strict-comments");
    let http = reqwest::Client::new();
    let url = |id: &str| format!("{}{id}/comments", env.fake.base_url());
    // Unknown media.
    let response = http
        .post(url("1800000000000"))
        .bearer_auth(connection.access_token())
        .form(&[("message", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["error_subcode"], json!(33));
    // A published post of another account, and a missing message.
    let file = spooled_mp4(env.dir.path(), 10_000).await;
    publish(&env, &post("x", PostMedia::Video(file), &[]), "owner")
        .await
        .unwrap();
    let media_id = env.fake.published()[0].id.clone();
    let response = http
        .post(url(&media_id))
        .bearer_auth(connection.access_token())
        .form(&[("message", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let owner = env.fake.connection("owner");
    let response = http
        .post(url(&media_id))
        .bearer_auth(owner.access_token())
        .form(&[("message", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        json!("(#100) The parameter message is required")
    );
    // No token.
    let response = http
        .post(url(&media_id))
        .form(&[("message", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(env.fake.comments().is_empty());
    let response = http
        .post(url(&media_id))
        .bearer_auth(owner.access_token())
        .form(&[("message", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(env.fake.comments(), vec![(media_id, "hi".to_string())]);
}

#[tokio::test]
async fn without_the_media_id_the_comment_becomes_a_warning() {
    let env = env().await;
    env.fake.inject(Fault::on(
        "/media_publish",
        fanout_testkit::FaultKind::DropAfterCommit,
    ));
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let post = post("lost", PostMedia::Video(file), &[("first_comment", "hi")]);
    let receipt = publish(&env, &post, "lost").await.unwrap();
    assert_eq!(env.fake.published().len(), 1);
    assert!(receipt.get("media_id").is_none());
    assert!(env.fake.comments().is_empty());
    assert_eq!(
        receipt.get("warnings"),
        Some(&json!([
            "The post is live, but Instagram's answer with its media id was lost, so the first \
             comment was not posted; add it on Instagram by hand."
        ]))
    );
}
