//! End to end against the strict fake: chunked video, photos, privacy, error mapping,
//! lost answers, the init throttle, and publishes killed at each checkpoint then
//! resumed.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use fanout_core::{
    async_trait, Connection, ErrorKind, FormFields, MediaFile, Post, PostMedia, Progress,
    PublishContext, PublishError, Publisher, Receipt,
};
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::{png_bytes, spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault, FaultKind, MediaServer};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};
use serde_json::{json, Value};

const MIB: usize = 1024 * 1024;

struct Setup {
    fake: FakeTikTok,
    media: MediaServer,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    Setup {
        fake: FakeTikTok::spawn().await.expect("the fake starts"),
        media: MediaServer::spawn().await.expect("the media server starts"),
        dir: tempfile::tempdir().expect("a temporary directory"),
    }
}

fn post(media: PostMedia, fields: &[(&str, &str)]) -> Post {
    Post {
        title: "Hello TikTok".into(),
        description: Some("A longer description".into()),
        media,
        fields: FormFields::from_pairs(fields.iter().copied()),
    }
}

async fn publish(
    s: &Setup,
    publisher: &TikTokPublisher,
    post: &Post,
    connection: &Connection,
) -> Result<Receipt, PublishError> {
    let host = s.media.host();
    publisher
        .publish(PublishContext::new(post, connection, host.as_ref()))
        .await
}

fn publisher_with(fake: &FakeTikTok, change: impl FnOnce(&mut TikTokConfig)) -> TikTokPublisher {
    let mut config = common::config(fake);
    change(&mut config);
    TikTokPublisher::new(config)
}

fn error_fault(route: &str, status: StatusCode, code: &str, message: &str) -> Fault {
    Fault::respond(
        route,
        status,
        json!({"data": {}, "error": {"code": code, "message": message, "log_id": "202401"}}),
    )
}

#[tokio::test]
async fn a_twelve_mib_video_goes_up_in_two_chunks_with_the_forms_settings() {
    let s = setup().await;
    let publisher = publisher_with(&s.fake, |c| c.chunk_size_bytes = 5 * MIB as u64);
    let file = spooled_mp4(s.dir.path(), 12 * MIB).await;
    let post = post(
        PostMedia::Video(Arc::clone(&file)),
        &[
            ("privacy_level", "SELF_ONLY"),
            ("disable_duet", "true"),
            ("disable_comment", "false"),
        ],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("alice"))
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        receipt.fields(),
        json!({"publish_id": posts[0].id, "status": "PUBLISH_SUCCESS"})
            .as_object()
            .unwrap()
    );
    assert_eq!(posts[0].account, "alice");
    assert_eq!(posts[0].caption, "Hello TikTok");
    assert_eq!(posts[0].media.len(), 1);
    assert_eq!(posts[0].media[0].size, file.len());
    assert_eq!(posts[0].media[0].sha256, file.sha256_hex());
    assert_eq!(
        posts[0].options,
        json!({"title": "Hello TikTok", "privacy_level": "SELF_ONLY",
               "disable_duet": true, "disable_comment": false})
    );
    assert_eq!(s.fake.chunk_requests(), 2);
    assert_eq!(s.fake.init_calls(), 1);
}

#[tokio::test]
async fn photos_are_pulled_in_order_with_cover_and_description() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let mut files: Vec<Arc<MediaFile>> = Vec::new();
    for i in 0..3u8 {
        files.push(spooled_jpeg(s.dir.path(), 30_000 + i as usize, i).await);
    }
    let post = post(
        PostMedia::Photos(files.clone()),
        &[("photo_cover_index", "2"), ("auto_add_music", "true")],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("bob"))
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.get("publish_id"), Some(&json!(posts[0].id)));
    assert_eq!(receipt.get("status"), Some(&json!("PUBLISH_SUCCESS")));
    let got: Vec<_> = posts[0]
        .media
        .iter()
        .map(|m| (m.size, m.sha256.clone()))
        .collect();
    let want: Vec<_> = files.iter().map(|f| (f.len(), f.sha256_hex())).collect();
    assert_eq!(got, want);
    assert_eq!(
        posts[0].options,
        json!({"title": "Hello TikTok", "description": "A longer description",
               "privacy_level": "PUBLIC_TO_EVERYONE", "auto_add_music": true})
    );
}

#[tokio::test]
async fn a_privacy_level_the_creator_cannot_use_fails_naming_the_allowed_ones() {
    let s = setup().await;
    s.fake
        .set_privacy_level_options(&["FOLLOWER_OF_CREATOR", "SELF_ONLY"]);
    let publisher = common::publisher(&s.fake);
    let file = spooled_mp4(s.dir.path(), 100_000).await;
    let post = post(
        PostMedia::Video(file),
        &[("privacy_level", "PUBLIC_TO_EVERYONE")],
    );
    let err = publish(&s, &publisher, &post, &s.fake.connection("carol"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "TikTok does not allow the privacy level \"PUBLIC_TO_EVERYONE\" for this account; \
         choose one of: FOLLOWER_OF_CREATOR, SELF_ONLY."
    );
    assert_eq!(s.fake.init_calls(), 0);
    assert_eq!(s.fake.chunk_requests(), 0);
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn without_a_privacy_level_the_creators_first_option_is_used() {
    let s = setup().await;
    s.fake.set_privacy_level_options(&["SELF_ONLY"]);
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 100_000).await),
        &[],
    );
    publish(&s, &publisher, &post, &s.fake.connection("dan"))
        .await
        .unwrap();
    assert_eq!(s.fake.published()[0].options["privacy_level"], "SELF_ONLY");
}

#[tokio::test]
async fn a_photo_title_over_90_characters_is_refused_before_any_call() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let mut post = post(
        PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 1000, 1).await]),
        &[],
    );
    post.title = "x".repeat(91);
    let err = publish(&s, &publisher, &post, &s.fake.connection("erin"))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "TikTok photo titles are at most 90 characters; this one has 91. Shorten it and upload \
         again."
    );
    assert_eq!(s.fake.init_calls(), 0);
}

#[tokio::test]
async fn a_png_photo_fails_as_media_rejected() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let png = MediaFile::from_bytes(s.dir.path(), png_bytes(5000), None)
        .await
        .unwrap();
    let post = post(PostMedia::Photos(vec![Arc::new(png)]), &[]);
    let err = publish(&s, &publisher, &post, &s.fake.connection("fay"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MediaRejected);
    assert_eq!(
        err.message(),
        "TikTok rejected the media: its format is not supported. Send an MP4, MOV or WebM \
         video, or JPEG or WebP photos."
    );
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn an_error_code_in_an_http_200_is_an_error() {
    let s = setup().await;
    s.fake.inject(error_fault(
        "/video/init/",
        StatusCode::OK,
        "spam_risk_too_many_posts",
        "Too many posts",
    ));
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 100_000).await),
        &[],
    );
    let err = publish(&s, &publisher, &post, &s.fake.connection("gus"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "TikTok refused the post: this account has reached its daily posting limit. Try again \
         tomorrow."
    );
    assert_eq!(s.fake.chunk_requests(), 0);
}

#[tokio::test]
async fn init_refusals_map_to_their_kinds() {
    let cases = [
        (
            StatusCode::FORBIDDEN,
            "unaudited_client_can_only_post_to_private_accounts",
            ErrorKind::Rejected,
        ),
        (
            StatusCode::FORBIDDEN,
            "reached_active_user_cap",
            ErrorKind::Rejected,
        ),
        (
            StatusCode::BAD_REQUEST,
            "privacy_level_option_mismatch",
            ErrorKind::Rejected,
        ),
        (
            StatusCode::UNAUTHORIZED,
            "scope_not_authorized",
            ErrorKind::Rejected,
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_params",
            ErrorKind::Rejected,
        ),
        (
            StatusCode::BAD_REQUEST,
            "file_format_check_failed",
            ErrorKind::MediaRejected,
        ),
        (
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
            ErrorKind::TokenExpired,
        ),
    ];
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    for (status, code, kind) in cases {
        s.fake.clear_faults();
        s.fake
            .inject(error_fault("/init/", status, code, "details"));
        let post = post(
            PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
            &[],
        );
        let err = publish(&s, &publisher, &post, &s.fake.connection("hal"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{code}: {err}");
    }
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn internal_errors_on_init_and_chunks_are_retried() {
    let s = setup().await;
    s.fake.inject(error_fault(
        "/video/init/",
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "x",
    ));
    s.fake.inject(
        error_fault(
            "/upload/",
            StatusCode::SERVICE_UNAVAILABLE,
            "internal_error",
            "x",
        )
        .times(2),
    );
    let publisher = publisher_with(&s.fake, |c| c.chunk_size_bytes = 5 * MIB as u64);
    let file = spooled_mp4(s.dir.path(), 11 * MIB).await;
    publish(
        &s,
        &publisher,
        &post(PostMedia::Video(Arc::clone(&file)), &[]),
        &s.fake.connection("ida"),
    )
    .await
    .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media[0].sha256, file.sha256_hex());
    assert_eq!(
        s.fake.init_calls(),
        1,
        "the refused init never reached the handler"
    );
}

#[tokio::test]
async fn a_lost_chunk_answer_is_checked_not_resent() {
    let s = setup().await;
    // The first of two chunks arrives but its answer is lost.
    s.fake
        .inject(Fault::on("/upload/", FaultKind::DropAfterCommit));
    let publisher = publisher_with(&s.fake, |c| c.chunk_size_bytes = 5 * MIB as u64);
    let file = spooled_mp4(s.dir.path(), 10 * MIB + 7).await;
    publish(
        &s,
        &publisher,
        &post(PostMedia::Video(Arc::clone(&file)), &[]),
        &s.fake.connection("jo"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.fake.chunk_requests(),
        2,
        "the received chunk was sent again"
    );
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media[0].size, file.len());
    assert_eq!(posts[0].media[0].sha256, file.sha256_hex());
}

#[tokio::test]
async fn a_dropped_chunk_is_sent_again() {
    let s = setup().await;
    s.fake
        .inject(Fault::on("/upload/", FaultKind::DropConnection));
    let publisher = common::publisher(&s.fake);
    let file = spooled_mp4(s.dir.path(), 300_000).await;
    publish(
        &s,
        &publisher,
        &post(PostMedia::Video(Arc::clone(&file)), &[]),
        &s.fake.connection("kim"),
    )
    .await
    .unwrap();
    assert_eq!(s.fake.published()[0].media[0].sha256, file.sha256_hex());
}

#[tokio::test]
async fn a_lost_photo_post_answer_is_an_unknown_outcome_and_not_repeated() {
    let s = setup().await;
    s.fake
        .inject(Fault::on("/content/init/", FaultKind::DropAfterCommit));
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 2000, 1).await]),
        &[],
    );
    let err = publish(&s, &publisher, &post, &s.fake.connection("lee"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(s.fake.init_calls(), 1);
}

#[tokio::test]
async fn a_rate_limited_init_waits_for_retry_after() {
    let s = setup().await;
    s.fake.inject(
        error_fault(
            "/content/init/",
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            "x",
        )
        .with_header("retry-after", "1"),
    );
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 2000, 1).await]),
        &[],
    );
    let started = std::time::Instant::now();
    publish(&s, &publisher, &post, &s.fake.connection("max"))
        .await
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(s.fake.published().len(), 1);
}

#[tokio::test]
async fn the_init_quota_is_kept_per_token_before_any_call() {
    let s = setup().await;
    let publisher = publisher_with(&s.fake, |c| {
        c.init_calls_per_minute = 1;
        c.throttle_max_wait_secs = 0;
    });
    let connection = s.fake.connection("ned");
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    publish(&s, &publisher, &post, &connection).await.unwrap();
    let err = publish(&s, &publisher, &post, &connection)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.message()
            .starts_with("Rate limited by TikTok, retry after"),
        "{err}"
    );
    assert_eq!(s.fake.init_calls(), 1);
    // Another account has its own quota.
    publish(&s, &publisher, &post, &s.fake.connection("other"))
        .await
        .unwrap();
    assert_eq!(s.fake.published().len(), 2);
}

#[tokio::test]
async fn a_post_that_never_finishes_within_the_budget_answers_processing() {
    // Changed in issue 3: past the budget the answer is a success saying PROCESSING,
    // never an error inviting the client to post again.
    let s = setup().await;
    s.fake.inject(
        Fault::respond(
            "/status/fetch/",
            StatusCode::OK,
            json!({"data": {"status": "PROCESSING_UPLOAD"}, "error": {"code": "ok", "message": "", "log_id": "1"}}),
        )
        .always(),
    );
    let publisher = publisher_with(&s.fake, |c| {
        c.poll_budget_secs = 1;
        c.background_budget_secs = 0;
    });
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    let started = std::time::Instant::now();
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("oz"))
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let id = receipt
        .get("publish_id")
        .and_then(|v| v.as_str())
        .unwrap()
        .to_string();
    assert!(id.starts_with("v_pub_file~"), "{id}");
    assert_eq!(
        receipt.follow_up(),
        Some(&json!({"stage": "processing", "publish_id": id}))
    );
    assert_eq!(
        serde_json::Value::Object(receipt.into_fields()),
        json!({"publish_id": id, "status": "PROCESSING"})
    );
    assert_eq!(s.fake.init_calls(), 1);
}

#[tokio::test]
async fn a_failed_status_reads_as_the_reason() {
    let s = setup().await;
    s.fake.inject(Fault::respond(
        "/status/fetch/",
        StatusCode::OK,
        json!({"data": {"status": "FAILED", "fail_reason": "duration_check_failed"},
               "error": {"code": "ok", "message": "", "log_id": "1"}}),
    ));
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    let err = publish(&s, &publisher, &post, &s.fake.connection("pat"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MediaRejected);
    assert_eq!(
        err.message(),
        "TikTok rejected the media: its duration is outside what this creator may post. Trim \
         the video and try again."
    );
}

#[tokio::test]
async fn an_expired_token_reads_as_reconnect() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    let err = publish(&s, &publisher, &post, &Connection::new("x", "expired-abc"))
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::token_expired("TikTok"));
    let err = publish(&s, &publisher, &post, &Connection::new("x", "never-issued"))
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::token_expired("TikTok"));
}

#[tokio::test]
async fn a_token_refused_after_the_upload_reads_as_processing_not_reconnect() {
    // Once the last chunk is in, TikTok publishes on its own: a 401 on the status check
    // must not read as "expired token", which makes the engine refresh and publish again.
    let s = setup().await;
    let publisher = publisher_with(&s.fake, |_| {});
    let file = spooled_mp4(s.dir.path(), 300_000).await;
    let post = post(PostMedia::Video(Arc::clone(&file)), &[]);
    s.fake.inject(
        error_fault(
            "/v2/post/publish/status/fetch/",
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )
        .always(),
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("acme"))
        .await
        .expect("an accepted upload is not a failure");
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    assert!(receipt.get("publish_id").is_some());
    assert_eq!(
        receipt.get("warnings"),
        Some(&json!(["TikTok accepted the post but refused the token while fanout checked on it, so its final status is unknown here; reconnect the TikTok account before the next upload."]))
    );
    let id = receipt.get("publish_id").and_then(Value::as_str).unwrap();
    assert_eq!(
        receipt.follow_up(),
        Some(&json!({"stage": "processing", "publish_id": id}))
    );
    s.fake.clear_faults();
}

#[tokio::test]
async fn a_transient_status_failure_after_the_upload_answers_processing_with_a_follow_up() {
    // The upload is complete, so TikTok publishes: an error here would invite a second
    // post. The follow-up reads the status later.
    let s = setup().await;
    s.fake.inject(
        error_fault(
            "/status/fetch/",
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong.",
        )
        .times(4),
    );
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    let connection = s.fake.connection("uma");
    let receipt = publish(&s, &publisher, &post, &connection).await.unwrap();
    let id = s.fake.published()[0].id.clone();
    assert_eq!(
        Value::Object(receipt.fields().clone()),
        json!({"publish_id": id, "status": "PROCESSING"})
    );
    let checkpoint = receipt.follow_up().cloned().unwrap();
    assert_eq!(checkpoint, json!({"stage": "processing", "publish_id": id}));
    let done = resume(
        &s,
        &publisher,
        &post,
        &connection,
        &checkpoint,
        &Recorder::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        Value::Object(done.into_fields()),
        json!({"publish_id": id, "status": "PUBLISH_SUCCESS"})
    );
    assert_eq!(s.fake.published().len(), 1);
}

/// A [`Progress`] that records checkpoints and can play a process killed at one of
/// them: the `n`th checkpoint (1-based) never returns, stored first or not.
struct Recorder {
    log: Mutex<Vec<Value>>,
    calls: Mutex<usize>,
    kill: Option<(usize, bool)>,
    killed: tokio::sync::Notify,
}

impl Recorder {
    /// Records every checkpoint and never hangs.
    fn new() -> Self {
        Self {
            log: Mutex::new(Vec::new()),
            calls: Mutex::new(0),
            kill: None,
            killed: tokio::sync::Notify::new(),
        }
    }

    /// Hangs forever at the `n`th checkpoint, after storing it when `stored`.
    fn killing_at(n: usize, stored: bool) -> Self {
        Self {
            kill: Some((n, stored)),
            ..Self::new()
        }
    }

    fn checkpoints(&self) -> Vec<Value> {
        lock(&self.log).clone()
    }

    fn stages(&self) -> Vec<String> {
        self.checkpoints()
            .iter()
            .map(|c| c["stage"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn last(&self) -> Value {
        self.checkpoints().last().cloned().expect("a checkpoint")
    }
}

/// The value behind `mutex`, even after a panicking test thread.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl Progress for Recorder {
    async fn checkpoint(&self, state: Value) -> Result<(), PublishError> {
        let n = {
            let mut calls = lock(&self.calls);
            *calls += 1;
            *calls
        };
        match self.kill {
            Some((at, stored)) if at == n => {
                if stored {
                    lock(&self.log).push(state);
                }
                self.killed.notify_one();
                std::future::pending::<()>().await;
            }
            _ => lock(&self.log).push(state),
        }
        Ok(())
    }
}

/// Publishes with `recorder` and drops the publish (a kill) once it hangs at its
/// checkpoint; `None` then, the receipt or error when it never hung.
async fn publish_until_killed(
    s: &Setup,
    publisher: &TikTokPublisher,
    post: &Post,
    connection: &Connection,
    recorder: &Recorder,
) -> Option<Result<Receipt, PublishError>> {
    let host = s.media.host();
    let ctx = PublishContext::new(post, connection, host.as_ref()).with_progress(recorder);
    let run = async {
        tokio::select! {
            outcome = publisher.publish(ctx) => Some(outcome),
            () = recorder.killed.notified() => None,
        }
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the publish ended or hung at its checkpoint")
}

/// Resumes `post` from `checkpoint`, recording into `recorder`.
async fn resume(
    s: &Setup,
    publisher: &TikTokPublisher,
    post: &Post,
    connection: &Connection,
    checkpoint: &Value,
    recorder: &Recorder,
) -> Result<Receipt, PublishError> {
    let host = s.media.host();
    let ctx = PublishContext::new(post, connection, host.as_ref()).with_progress(recorder);
    publisher.resume(ctx, checkpoint).await
}

const UNKNOWN: &str = "fanout stopped while publishing to TikTok, so the outcome is unknown: \
     the post may or may not have been published. Check the TikTok account before retrying.";

#[tokio::test]
async fn a_video_publish_records_each_stage() {
    let s = setup().await;
    let publisher = publisher_with(&s.fake, |c| c.chunk_size_bytes = 5 * MIB as u64);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 12 * MIB).await),
        &[],
    );
    let recorder = Recorder::new();
    let receipt = publish_until_killed(&s, &publisher, &post, &s.fake.connection("vic"), &recorder)
        .await
        .expect("never killed")
        .unwrap();
    let id = receipt.get("publish_id").and_then(Value::as_str).unwrap();
    assert!(receipt.follow_up().is_none());
    let checkpoints = recorder.checkpoints();
    assert_eq!(checkpoints.len(), 4, "{checkpoints:?}");
    assert_eq!(checkpoints[0], json!({"stage": "initializing"}));
    let upload_url = checkpoints[1]["upload_url"].as_str().unwrap();
    assert!(upload_url.contains("upload_token="), "{upload_url}");
    let uploading = |sent: usize| {
        json!({"stage": "uploading", "publish_id": id, "upload_url": upload_url,
               "video_size": 12 * MIB, "chunk_size": 5 * MIB, "total_chunk_count": 2,
               "sent_bytes": sent})
    };
    assert_eq!(checkpoints[1], uploading(0));
    assert_eq!(checkpoints[2], uploading(5 * MIB));
    assert_eq!(
        checkpoints[3],
        json!({"stage": "processing", "publish_id": id})
    );
}

#[tokio::test]
async fn a_video_publish_killed_at_any_checkpoint_resumes_to_one_post_or_an_unknown_outcome() {
    let s = setup().await;
    let publisher = publisher_with(&s.fake, |c| c.chunk_size_bytes = 5 * MIB as u64);
    let file = spooled_mp4(s.dir.path(), 12 * MIB).await;
    let post = post(PostMedia::Video(Arc::clone(&file)), &[]);
    // (checkpoint killed at, stored before the kill, the stage resumed from, chunk PUTs
    // after the resume, the checkpoints the resume records; a post at the end unless
    // resumed from "initializing")
    let cases: [(usize, bool, &str, u64, &[&str]); 7] = [
        (1, true, "initializing", 0, &[]),
        // init answered, its checkpoint lost: the upload exists but never completes.
        (2, false, "initializing", 0, &[]),
        (
            2,
            true,
            "uploading",
            2,
            &["uploading", "uploading", "processing"],
        ),
        // Killed between the chunks: only the second goes up on resume.
        (3, true, "uploading", 1, &["uploading", "processing"]),
        (3, false, "uploading", 1, &["uploading", "processing"]),
        // Every chunk in, the "processing" checkpoint lost: TikTok has it all.
        (4, false, "uploading", 0, &["processing"]),
        (4, true, "processing", 0, &[]),
    ];
    for (i, (at, stored, stage, puts_after, stages)) in cases.into_iter().enumerate() {
        let posted = stage != "initializing";
        let account = format!("kill-video-{i}");
        let connection = s.fake.connection(&account);
        let before = s.fake.published().len();
        let inits = s.fake.init_calls();
        let recorder = Recorder::killing_at(at, stored);
        let case = format!("killed at checkpoint {at} (stored: {stored})");
        assert!(
            publish_until_killed(&s, &publisher, &post, &connection, &recorder)
                .await
                .is_none(),
            "{case}: not killed"
        );
        let checkpoint = recorder.last();
        assert_eq!(checkpoint["stage"], json!(stage), "{case}");
        let puts = s.fake.chunk_requests();
        let again = Recorder::new();
        let outcome = resume(&s, &publisher, &post, &connection, &checkpoint, &again).await;
        assert_eq!(
            s.fake.init_calls(),
            inits + u64::from(at > 1),
            "{case}: inits"
        );
        assert_eq!(
            s.fake.chunk_requests() - puts,
            puts_after,
            "{case}: chunk PUTs"
        );
        let published = s.fake.published();
        if !posted {
            let err = outcome.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{case}");
            assert_eq!(err.message(), UNKNOWN, "{case}");
            assert_eq!(published.len(), before, "{case}: nothing was posted");
            assert!(again.checkpoints().is_empty(), "{case}");
            continue;
        }
        let receipt = outcome.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(published.len(), before + 1, "{case}: exactly one post");
        let post_id = &published.last().unwrap().id;
        assert_eq!(published.last().unwrap().account, account);
        assert_eq!(
            published.last().unwrap().media[0].sha256,
            file.sha256_hex(),
            "{case}"
        );
        assert!(receipt.follow_up().is_none(), "{case}");
        assert_eq!(
            Value::Object(receipt.into_fields()),
            json!({"publish_id": post_id, "status": "PUBLISH_SUCCESS"}),
            "{case}"
        );
        assert_eq!(again.stages(), stages, "{case}");
    }
}

#[tokio::test]
async fn a_photo_publish_killed_at_any_checkpoint_resumes_to_one_post_or_says_what_happened() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let files = vec![
        spooled_jpeg(s.dir.path(), 30_000, 1).await,
        spooled_jpeg(s.dir.path(), 31_000, 2).await,
    ];
    let post = post(PostMedia::Photos(files.clone()), &[("first_comment", "hi")]);
    let warning = json!([
        "TikTok's API does not allow posting comments, so the first \
         comment was not posted; add it in the TikTok app if you want it."
    ]);

    // Killed at the first checkpoint, before content/init: nothing was sent, but the
    // checkpoint cannot tell, so the outcome is unknown (never a second init).
    let connection = s.fake.connection("kill-photos-1");
    let recorder = Recorder::killing_at(1, true);
    assert!(
        publish_until_killed(&s, &publisher, &post, &connection, &recorder)
            .await
            .is_none()
    );
    assert_eq!(recorder.checkpoints(), [json!({"stage": "initializing"})]);
    let err = resume(
        &s,
        &publisher,
        &post,
        &connection,
        &recorder.last(),
        &Recorder::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(err.message(), UNKNOWN);
    assert_eq!(s.fake.init_calls(), 0);

    // Killed once content/init answered, its checkpoint lost: the post exists but the
    // checkpoint says "initializing": unknown, never posted again. (TikTok pulls late
    // here, so its pull fails on the links that died with the publish.)
    s.fake.set_pull_delay(Duration::from_millis(300));
    let connection = s.fake.connection("kill-photos-2");
    let recorder = Recorder::killing_at(2, false);
    assert!(
        publish_until_killed(&s, &publisher, &post, &connection, &recorder)
            .await
            .is_none()
    );
    let err = resume(
        &s,
        &publisher,
        &post,
        &connection,
        &recorder.last(),
        &Recorder::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message(), UNKNOWN);
    assert_eq!(s.fake.init_calls(), 1);

    // Killed at "pulling", before TikTok pulled: the links died with the publish, and
    // links hosted again would be URLs TikTok never sees; resume reads the failure.
    let connection = s.fake.connection("kill-photos-3");
    let recorder = Recorder::killing_at(2, true);
    let before = s.fake.published().len();
    assert!(
        publish_until_killed(&s, &publisher, &post, &connection, &recorder)
            .await
            .is_none()
    );
    let checkpoint = recorder.last();
    assert_eq!(checkpoint["stage"], json!("pulling"));
    let id = checkpoint["publish_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("v_pub_url~"), "{id}");
    let err = resume(
        &s,
        &publisher,
        &post,
        &connection,
        &checkpoint,
        &Recorder::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(
        err.message().starts_with(
            "TikTok could not download the photos: the links fanout hosted for them ended"
        ),
        "{err}"
    );
    assert_eq!(s.fake.published().len(), before);
    assert_eq!(s.fake.init_calls(), 2);
    s.fake.set_pull_delay(Duration::ZERO);

    s.fake.set_processing_delay(Duration::from_millis(200));
    // Killed at "processing": TikTok has every photo; resume finds the post.
    let connection = s.fake.connection("kill-photos-4");
    let recorder = Recorder::killing_at(3, true);
    assert!(
        publish_until_killed(&s, &publisher, &post, &connection, &recorder)
            .await
            .is_none()
    );
    assert_eq!(recorder.stages(), ["initializing", "pulling", "processing"]);
    let checkpoint = recorder.last();
    let id = checkpoint["publish_id"].as_str().unwrap().to_string();
    let receipt = resume(
        &s,
        &publisher,
        &post,
        &connection,
        &checkpoint,
        &Recorder::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        Value::Object(receipt.into_fields()),
        json!({"publish_id": id, "status": "PUBLISH_SUCCESS", "warnings": warning})
    );
    let published = s.fake.published();
    assert_eq!(published.len(), before + 1);
    assert_eq!(published.last().unwrap().id, id);
    let got: Vec<_> = published
        .last()
        .unwrap()
        .media
        .iter()
        .map(|m| m.sha256.clone())
        .collect();
    let want: Vec<_> = files.iter().map(|f| f.sha256_hex()).collect();
    assert_eq!(got, want);
    assert_eq!(s.fake.init_calls(), 3);
}

#[tokio::test]
async fn a_checkpoint_that_cannot_be_stored_stops_before_the_init() {
    struct Refusing;
    #[async_trait]
    impl Progress for Refusing {
        async fn checkpoint(&self, _state: Value) -> Result<(), PublishError> {
            Err(PublishError::transient("the job store is unavailable"))
        }
    }
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let host = s.media.host();
    let connection = s.fake.connection("wes");
    for media in [
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 20_000, 3).await]),
    ] {
        let post = post(media, &[]);
        let ctx = PublishContext::new(&post, &connection, host.as_ref()).with_progress(&Refusing);
        let err = publisher.publish(ctx).await.unwrap_err();
        assert_eq!(err.message(), "the job store is unavailable");
    }
    assert_eq!(s.fake.init_calls(), 0);
}

#[tokio::test]
async fn an_unreadable_checkpoint_is_an_unknown_outcome() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[],
    );
    let connection = s.fake.connection("xan");
    for checkpoint in [json!({"container_id": "1"}), json!({"stage": "uploading"})] {
        let err = resume(
            &s,
            &publisher,
            &post,
            &connection,
            &checkpoint,
            &Recorder::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
        assert_eq!(err.message(), UNKNOWN);
    }
    assert_eq!(s.fake.init_calls(), 0);
}
