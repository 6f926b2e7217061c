//! A video LinkedIn still processes when the polling budget ends: the answer is
//! `PROCESSING` with the video's urn, and a detached task creates the post once the
//! video is available.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{post, setup_with};
use fanout_core::PostMedia;
use fanout_testkit::media::spooled_mp4;
use fanout_testkit::{FakePlatform, Fault};
use serde_json::json;

/// Waits (up to 5 s) until the fake has `n` posts.
async fn until_posts(fake: &fanout_testkit::fakes::linkedin::FakeLinkedIn, n: usize) {
    for _ in 0..500 {
        if fake.published().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fake never got {n} post(s)");
}

#[tokio::test]
async fn past_the_budget_the_answer_is_processing_and_the_post_follows_once() {
    let s = setup_with(|c| {
        c.poll_budget_secs = 0;
        c.background_budget_secs = 10;
    })
    .await;
    s.fake.set_processing_time(Some(Duration::from_millis(300)));
    let file = spooled_mp4(s.dir.path(), 300_000).await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(file.clone()),
        Some("Later #today"),
        &[
            ("visibility", "CONNECTIONS"),
            ("first_comment", "more soon"),
        ],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    assert_eq!(receipt.fields().len(), 2, "{receipt:?}");
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    let video = receipt.get("video_id").and_then(|v| v.as_str()).unwrap();
    assert!(video.starts_with("urn:li:video:"), "{video}");
    assert!(s.fake.published().is_empty());

    until_posts(&s.fake, 1).await;
    // Give a duplicate the time to show up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].options["content"]["media"]["id"], json!(video));
    assert_eq!(posts[0].options["visibility"], "CONNECTIONS");
    assert_eq!(posts[0].caption, r"Later \#today");
    assert_eq!(posts[0].media[0].sha256, file.sha256_hex());
    assert_eq!(posts[0].media[0].size, file.len());
    assert_eq!(s.fake.videos_initialized(), 1);
    let comments = s.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].post_id, posts[0].id);
    assert_eq!(comments[0].text, "more soon");
}

#[tokio::test]
async fn the_background_task_gives_up_after_its_own_budget() {
    let s = setup_with(|c| {
        c.poll_budget_secs = 0;
        c.background_budget_secs = 0;
    })
    .await;
    // Reads 1 and 2 say PROCESSING, read 3 AVAILABLE: only a task that ignored its
    // budget would get there.
    s.fake.set_processing_reads(2);
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn failing_status_polls_do_not_fail_an_accepted_upload() {
    let s = setup_with(|c| {
        c.poll_budget_secs = 0;
        c.background_budget_secs = 10;
    })
    .await;
    s.fake.inject(
        Fault::respond(
            "/rest/videos/urn",
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": 500, "code": "INTERNAL_SERVER_ERROR", "message": "boom"}),
        )
        .always(),
    );
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    assert!(s.fake.published().is_empty());
    s.fake.clear_faults();
    until_posts(&s.fake, 1).await;
    assert_eq!(
        s.fake.published()[0].options["content"]["media"]["id"],
        receipt.get("video_id").cloned().unwrap()
    );
}

#[tokio::test]
async fn within_the_budget_the_post_is_created_at_once() {
    let s = setup_with(|c| c.poll_budget_secs = 5).await;
    s.fake.set_processing_time(Some(Duration::from_millis(50)));
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.get("post_id"), Some(&json!(posts[0].id)));
    assert_eq!(receipt.get("status"), None);
}
