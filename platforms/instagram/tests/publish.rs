//! End-to-end publishing against the strict fake: what Instagram received, what the
//! receipt says, and how failures read.

mod common;

use std::sync::Arc;

use fanout_core::{
    Connection, ErrorKind, FormFields, MediaFile, Post, PostMedia, PublishContext, PublishError,
    Publisher, Receipt,
};
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::media::{png_bytes, spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault, FaultKind, MediaServer, PublishedPost};
use reqwest::StatusCode;
use serde_json::json;

struct Env {
    fake: FakeInstagram,
    media: MediaServer,
    dir: tempfile::TempDir,
}

async fn env() -> Env {
    Env {
        fake: FakeInstagram::spawn().await.expect("the fake starts"),
        media: MediaServer::spawn().await.expect("the media server starts"),
        dir: tempfile::tempdir().expect("a temporary directory"),
    }
}

fn post(title: &str, media: PostMedia, fields: &[(&str, &str)]) -> Post {
    Post {
        title: title.to_string(),
        description: None,
        media,
        fields: FormFields::from_pairs(fields.iter().copied()),
    }
}

async fn publish_as(
    env: &Env,
    post: &Post,
    connection: &Connection,
) -> Result<Receipt, PublishError> {
    let publisher = common::publisher(&env.fake);
    let host = env.media.host();
    publisher
        .publish(PublishContext::new(post, connection, host.as_ref()))
        .await
}

async fn publish(env: &Env, post: &Post, account: &str) -> Result<Receipt, PublishError> {
    let connection = env.fake.connection(account);
    publish_as(env, post, &connection).await
}

fn only_post(env: &Env) -> PublishedPost {
    let posts = env.fake.published();
    assert_eq!(posts.len(), 1, "{posts:?}");
    posts.into_iter().next().expect("one post")
}

fn field<'a>(receipt: &'a Receipt, key: &str) -> Option<&'a str> {
    receipt.get(key).and_then(|v| v.as_str())
}

#[tokio::test]
async fn a_reel_is_uploaded_whole_and_published_once() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 3 * 1024 * 1024 + 17).await;
    let post = post(
        "Sunset #fanout",
        PostMedia::Video(Arc::clone(&file)),
        &[("share_to_feed", "true")],
    );
    let receipt = publish(&env, &post, "reels-account").await.unwrap();
    let published = only_post(&env);
    assert_eq!(published.account, "reels-account");
    assert_eq!(published.caption, "Sunset #fanout");
    assert_eq!(published.media.len(), 1);
    assert_eq!(published.media[0].size, file.len());
    assert_eq!(published.media[0].sha256, file.sha256_hex());
    assert_eq!(published.options["media_type"], json!("REELS"));
    assert_eq!(published.options["upload_type"], json!("resumable"));
    assert_eq!(published.options["share_to_feed"], json!("true"));
    assert_eq!(field(&receipt, "media_id"), Some(published.id.as_str()));
    assert!(field(&receipt, "container_id").is_some_and(|id| id.starts_with("1790")));
    assert_eq!(receipt.fields().len(), 2);
    assert_eq!(env.fake.upload_requests(), 1);
}

#[tokio::test]
async fn a_story_carries_no_caption() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 100_000).await;
    let post = post(
        "ignored",
        PostMedia::Video(file),
        &[("media_type", "stories")],
    );
    publish(&env, &post, "stories").await.unwrap();
    let published = only_post(&env);
    assert_eq!(published.options["media_type"], json!("STORIES"));
    assert_eq!(published.caption, "");
}

#[tokio::test]
async fn an_interrupted_upload_resumes_from_the_reported_offset() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 2 * 1024 * 1024 + 5).await;
    env.fake.interrupt_next_upload_after(700_001);
    let post = post("resumed", PostMedia::Video(Arc::clone(&file)), &[]);
    publish(&env, &post, "resume").await.unwrap();
    let published = only_post(&env);
    assert_eq!(published.media[0].size, file.len());
    assert_eq!(published.media[0].sha256, file.sha256_hex());
    assert_eq!(
        env.fake.upload_requests(),
        2,
        "one cut request, one resumed request"
    );
}

#[tokio::test]
async fn a_carousel_keeps_photo_order_and_one_photo_takes_alt_text() {
    let env = env().await;
    let mut files: Vec<Arc<MediaFile>> = Vec::new();
    for i in 0..3 {
        files.push(spooled_jpeg(env.dir.path(), 30_000 + i * 100, i as u8 + 1).await);
    }
    let receipt = publish(
        &env,
        &post("three", PostMedia::Photos(files.clone()), &[]),
        "carousel",
    )
    .await
    .unwrap();
    let published = only_post(&env);
    let got: Vec<_> = published.media.iter().map(|m| m.sha256.clone()).collect();
    let want: Vec<_> = files.iter().map(|f| f.sha256_hex()).collect();
    assert_eq!(got, want);
    assert_eq!(published.caption, "three");
    assert_eq!(published.options["media_type"], json!("CAROUSEL"));
    assert_eq!(field(&receipt, "media_id"), Some(published.id.as_str()));
    // Three items and the carousel itself.
    assert_eq!(env.fake.containers_created(), 4);

    let single = spooled_jpeg(env.dir.path(), 20_000, 9).await;
    publish(
        &env,
        &post(
            "one",
            PostMedia::Photos(vec![Arc::clone(&single)]),
            &[("instagram_alt_text", "A red bicycle")],
        ),
        "single",
    )
    .await
    .unwrap();
    let posts = env.fake.published();
    let last = posts.last().unwrap();
    assert_eq!(last.account, "single");
    assert_eq!(last.options["alt_text"], json!("A red bicycle"));
    assert_eq!(last.media[0].sha256, single.sha256_hex());
}

#[tokio::test]
async fn a_lost_publish_answer_reads_the_container_and_does_not_publish_again() {
    let env = env().await;
    env.fake
        .inject(Fault::on("/media_publish", FaultKind::DropAfterCommit));
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let receipt = publish(&env, &post("lost", PostMedia::Video(file), &[]), "lost")
        .await
        .unwrap();
    let published = only_post(&env);
    assert_eq!(published.account, "lost");
    assert!(field(&receipt, "container_id").is_some());
    assert_eq!(
        receipt.get("media_id"),
        None,
        "the media id was in the lost answer"
    );
}

#[tokio::test]
async fn a_server_error_on_publish_is_an_unknown_outcome_not_a_retry() {
    let env = env().await;
    let (status, body) = env
        .fake
        .error_response(fanout_testkit::PlatformError::ServerError);
    env.fake.inject(Fault::respond(
        "/media_publish",
        StatusCode::from_u16(status).unwrap(),
        body,
    ));
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let err = publish(&env, &post("5xx", PostMedia::Video(file), &[]), "five")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(
        err.message(),
        "Instagram failed while publishing (HTTP 500), so the post may or may not have been \
         published. Check the Instagram account before uploading again."
    );
    // The fault fired once; a repeat would have published.
    assert!(env.fake.published().is_empty());
}

#[tokio::test]
async fn a_rate_limited_publish_call_is_retried_after_the_wait() {
    let env = env().await;
    env.fake.inject(
        Fault::respond(
            "/media_publish",
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "(#4) Application request limit reached",
                             "type": "OAuthException", "code": 4}}),
        )
        .with_header("retry-after", "0"),
    );
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    publish(&env, &post("429", PostMedia::Video(file), &[]), "limited")
        .await
        .unwrap();
    assert_eq!(only_post(&env).account, "limited");
}

#[tokio::test]
async fn a_spent_publishing_quota_fails_before_any_upload() {
    let env = env().await;
    env.fake.set_publishing_quota(1);
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let connection = env.fake.connection("capped");
    let first = post("first", PostMedia::Video(Arc::clone(&file)), &[]);
    publish_as(&env, &first, &connection).await.unwrap();
    let containers = env.fake.containers_created();
    let uploads = env.fake.upload_requests();
    let err = publish_as(&env, &first, &connection).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        err.message(),
        "Rate limited by Instagram: this account has reached its daily publishing cap (1 of 1 \
         posts in the last 24 hours). Nothing was uploaded; try again in 24 hours."
    );
    assert_eq!(env.fake.containers_created(), containers);
    assert_eq!(env.fake.upload_requests(), uploads);
    assert_eq!(env.fake.published().len(), 1);
}

#[tokio::test]
async fn the_publishing_cap_reached_at_publish_time_is_not_retried() {
    let env = env().await;
    env.fake.inject(Fault::respond(
        "/media_publish",
        StatusCode::BAD_REQUEST,
        json!({"error": {"message": "Application request limit reached", "type": "OAuthException",
                         "code": 9, "error_subcode": 2207042}}),
    ));
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let err = publish(&env, &post("cap", PostMedia::Video(file), &[]), "cap")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.message().contains("daily publishing cap"), "{err}");
    assert!(env.fake.published().is_empty());
}

#[tokio::test]
async fn an_expired_token_asks_to_reconnect_and_creates_nothing() {
    let env = env().await;
    let connection = Connection::new("old", "expired-token-1")
        .with_attribute("user_id", env.fake.ig_user_id("old"));
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let err = publish_as(&env, &post("x", PostMedia::Video(file), &[]), &connection)
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::token_expired("Instagram"));
    assert_eq!(env.fake.containers_created(), 0);
}

#[tokio::test]
async fn without_a_user_id_attribute_the_account_is_looked_up() {
    let env = env().await;
    env.fake.accept_token("IGQ-lookup-token", "lookup");
    let connection = Connection::new("lookup", "IGQ-lookup-token");
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    publish_as(&env, &post("me", PostMedia::Video(file), &[]), &connection)
        .await
        .unwrap();
    assert_eq!(only_post(&env).account, "lookup");
}

#[tokio::test]
async fn refusals_before_the_network() {
    let env = env().await;
    let long = "x".repeat(2201);
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let err = publish(&env, &post(&long, PostMedia::Video(file), &[]), "long")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "Instagram captions are at most 2200 characters; this one has 2201. Shorten it and \
         upload again."
    );
    let png = Arc::new(
        MediaFile::from_bytes(env.dir.path(), png_bytes(5000), None)
            .await
            .unwrap(),
    );
    let err = publish(&env, &post("png", PostMedia::Photos(vec![png]), &[]), "png")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MediaRejected);
    assert_eq!(
        err.message(),
        "Instagram accepts only JPEG photos; photo 1 is image/png. Convert it to JPEG and \
         upload again."
    );
    let file = spooled_mp4(env.dir.path(), 50_000).await;
    let err = publish(
        &env,
        &post("bad", PostMedia::Video(file), &[("media_type", "IMAGE")]),
        "bad-type",
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(env.fake.containers_created(), 0);
}

#[tokio::test]
async fn a_video_instagram_cannot_process_reads_as_media_rejected() {
    let env = env().await;
    // PNG bytes sent as a video: the fake accepts the upload, then reports ERROR.
    let not_video = Arc::new(
        MediaFile::from_bytes(env.dir.path(), png_bytes(40_000), None)
            .await
            .unwrap(),
    );
    let err = publish(&env, &post("png", PostMedia::Video(not_video), &[]), "err")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MediaRejected);
    assert_eq!(
        err.message(),
        "Instagram could not process the media (Error: Unsupported video format; use MP4 or MOV \
         (2207026)). Check that it is a JPEG photo or an MP4/MOV video within Instagram's \
         limits, then upload again."
    );
    assert!(env.fake.published().is_empty());
}

/// Each Graph error answered on container creation, as a person reads it.
#[tokio::test]
async fn graph_errors_on_container_creation_map_to_their_kind() {
    let env = env().await;
    let cases = [
        (
            json!({"error": {"message": "(#100) Param caption is invalid", "type": "OAuthException", "code": 100}}),
            ErrorKind::Rejected,
            "Instagram rejected a parameter of the post: (#100) Param caption is invalid. Correct it and upload again.",
        ),
        (
            json!({"error": {"message": "Media download has failed.", "type": "OAuthException", "code": 9004, "error_subcode": 2207052}}),
            ErrorKind::MediaRejected,
            "Instagram rejected the media: Media download has failed. Check the format (JPEG photos, MP4/MOV video) and size, then upload again.",
        ),
        (
            json!({"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190, "error_subcode": 460}}),
            ErrorKind::TokenExpired,
            "Your Instagram session has expired. Please reconnect your Instagram account.",
        ),
    ];
    for (body, kind, message) in cases {
        env.fake.clear_faults();
        env.fake
            .inject(Fault::respond("/media", StatusCode::BAD_REQUEST, body).always());
        let file = spooled_mp4(env.dir.path(), 10_000).await;
        let err = publish(&env, &post("x", PostMedia::Video(file), &[]), "errs")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(err.message(), message);
    }
    // Transient codes are retried until the attempts run out, then reported.
    env.fake.clear_faults();
    env.fake.inject(
        Fault::respond(
            "/media",
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": {"message": "Please retry", "type": "OAuthException", "code": 1}}),
        )
        .times(4),
    );
    let file = spooled_mp4(env.dir.path(), 10_000).await;
    let err = publish(&env, &post("x", PostMedia::Video(file), &[]), "errs")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(env.fake.containers_created(), 0);
    assert!(env.fake.published().is_empty());
}

#[tokio::test]
async fn a_container_that_never_finishes_answers_processing_within_the_budget() {
    let env = env().await;
    // Every status read says IN_PROGRESS.
    env.fake.inject(
        Fault::respond(
            "/v21.0/1790",
            StatusCode::OK,
            json!({"status_code": "IN_PROGRESS", "status": "In Progress"}),
        )
        .always(),
    );
    let publisher = fanout_instagram::InstagramPublisher::new({
        let mut config = common::config(&env.fake);
        config.poll_budget_secs = 1;
        config.poll_interval_ms = 50;
        config.background_budget_secs = 0;
        config
    });
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let post = post("slow", PostMedia::Video(file), &[]);
    let connection = env.fake.connection("slow");
    let host = env.media.host();
    let started = std::time::Instant::now();
    let receipt = publisher
        .publish(PublishContext::new(&post, &connection, host.as_ref()))
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    // Not an error inviting a second upload: the accepted upload is still processing.
    assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
    let container = field(&receipt, "container_id").unwrap();
    assert!(container.starts_with("1790"));
    assert_eq!(receipt.fields().len(), 2);
    // The engine resumes from the follow-up; nothing goes on in the background.
    let follow_up = receipt.follow_up().expect("a follow-up");
    assert_eq!(follow_up["stage"], json!("processing"));
    assert_eq!(follow_up["container_id"], json!(container));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(env.fake.published().is_empty());
}

#[tokio::test]
async fn a_dropped_publish_call_that_did_not_publish_is_an_unknown_outcome() {
    let env = env().await;
    // The connection closes before Instagram acts: the container stays FINISHED.
    env.fake
        .inject(Fault::on("/media_publish", FaultKind::DropConnection));
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let err = publish(
        &env,
        &post("dropped", PostMedia::Video(file), &[]),
        "dropped",
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(
        err.message(),
        "The connection to Instagram was lost before it answered, so the post may or may not \
         have been published. Check the Instagram account before uploading again."
    );
    // Not repeated: a second call would have published.
    assert!(env.fake.published().is_empty());
}
