//! Processing past the poll budget answers `PROCESSING` with a follow-up checkpoint and
//! posts nothing on its own; `resume` with the follow-up finishes the post, exactly
//! once. A publish stopped at any checkpoint (fanout killed) resumes from its last
//! record to exactly one post, and never comments twice.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{env, field, post, publish_with, Env};
use fanout_core::{
    async_trait, ErrorKind, MediaFile, Post, PostMedia, Progress, PublishContext, PublishError,
    Publisher, Receipt,
};
use fanout_instagram::InstagramPublisher;
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Notify;

const LOST_MEDIA_ID: &str = "The post is live, but Instagram's answer with its media id was \
                             lost, so the first comment was not posted; add it on Instagram by \
                             hand.";
const COMMENT_UNKNOWN: &str = "The post is live, but fanout stopped while posting the first \
                               comment, so it may or may not be there; check the post on \
                               Instagram and add the comment by hand only if it is missing.";
const UNRECORDED: &str = "The post is live, but fanout could not record its progress, so the \
                          first comment was not posted; add it on Instagram by hand.";

/// What the [`Recorder`] does at one checkpoint.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Fanout is killed while recording checkpoint `n` (1-based): the checkpoint is
    /// `stored` or not, and the call never returns.
    Stop { n: usize, stored: bool },
    /// Recording checkpoint `n` fails.
    Fail(usize),
}

/// A [`Progress`] that keeps every checkpoint and can simulate a kill or a store
/// failure at one of them.
#[derive(Default)]
struct Recorder {
    at: Option<At>,
    calls: AtomicUsize,
    stored: Mutex<Vec<Value>>,
    stopped: Notify,
}

impl Recorder {
    fn stopping(n: usize, stored: bool) -> Self {
        Self {
            at: Some(At::Stop { n, stored }),
            ..Self::default()
        }
    }

    fn failing(n: usize) -> Self {
        Self {
            at: Some(At::Fail(n)),
            ..Self::default()
        }
    }

    fn stored(&self) -> Vec<Value> {
        self.stored.lock().expect("the checkpoints").clone()
    }

    fn stages(&self) -> Vec<String> {
        self.stored()
            .iter()
            .map(|c| c["stage"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

fn store_failed() -> PublishError {
    PublishError::new(ErrorKind::Internal, "the job store is unavailable")
}

#[async_trait]
impl Progress for Recorder {
    async fn checkpoint(&self, state: Value) -> Result<(), PublishError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.at {
            Some(At::Stop { n: at, stored }) if at == n => {
                if stored {
                    self.stored.lock().expect("the checkpoints").push(state);
                }
                self.stopped.notify_one();
                std::future::pending().await
            }
            Some(At::Fail(at)) if at == n => Err(store_failed()),
            _ => {
                self.stored.lock().expect("the checkpoints").push(state);
                Ok(())
            }
        }
    }
}

/// Publishes with `recorder`; `None` when the recorder stopped the publish, whose
/// future is then dropped mid-flight, as a kill would.
async fn publish_recorded(
    env: &Env,
    publisher: &InstagramPublisher,
    post: &Post,
    account: &str,
    recorder: &Recorder,
) -> Option<Result<Receipt, PublishError>> {
    let connection = env.fake.connection(account);
    let host = env.media.host();
    let ctx = PublishContext::new(post, &connection, host.as_ref()).with_progress(recorder);
    let publishing = publisher.publish(ctx);
    let raced = async {
        tokio::select! {
            outcome = publishing => Some(outcome),
            () = recorder.stopped.notified() => None,
        }
    };
    tokio::time::timeout(Duration::from_secs(30), raced)
        .await
        .expect("the publish neither finished nor stopped within 30 seconds")
}

/// Resumes from `checkpoint`, following up while the answer asks for it.
async fn resume_to_the_end(
    env: &Env,
    publisher: &InstagramPublisher,
    post: &Post,
    account: &str,
    checkpoint: Value,
    recorder: &Recorder,
) -> Result<(Receipt, usize), PublishError> {
    let connection = env.fake.connection(account);
    let host = env.media.host();
    let mut checkpoint = checkpoint;
    for follow_ups in 0..200 {
        let ctx = PublishContext::new(post, &connection, host.as_ref()).with_progress(recorder);
        let mut receipt = publisher.resume(ctx, &checkpoint).await?;
        match receipt.take_follow_up() {
            Some(next) => {
                assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
                checkpoint = next;
            }
            None => return Ok((receipt, follow_ups)),
        }
    }
    panic!("still PROCESSING after 200 follow-ups");
}

fn fields(receipt: &Receipt) -> Value {
    Value::Object(receipt.fields().clone())
}

/// Answers after one status read per call: each follow-up polls once.
fn impatient(env: &Env) -> InstagramPublisher {
    InstagramPublisher::new({
        let mut config = common::config(&env.fake);
        config.poll_budget_secs = 0;
        config.poll_interval_ms = 2;
        config
    })
}

// --- Follow-ups -------------------------------------------------------------------

#[tokio::test]
async fn a_reel_still_processing_answers_processing_with_a_follow_up_and_resume_publishes_once() {
    let env = env().await;
    env.fake.set_processing_reads(6);
    let file = spooled_mp4(env.dir.path(), 150_000).await;
    let post = post(
        "Slow reel",
        PostMedia::Video(Arc::clone(&file)),
        &[("first_comment", "later")],
    );
    let publisher = impatient(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow").await.unwrap();
    let container = field(&receipt, "container_id").expect("the container id");
    assert!(container.starts_with("1790"));
    assert_eq!(
        fields(&receipt),
        json!({"container_id": container, "status": "PROCESSING"})
    );
    let follow_up = receipt.follow_up().cloned().expect("a follow-up");
    let since = follow_up["waiting_since"].as_str().expect("waiting_since");
    since
        .parse::<chrono::DateTime<chrono::Utc>>()
        .expect("an RFC 3339 time");
    assert_eq!(
        follow_up,
        json!({"version": 1, "stage": "processing", "user_id": env.fake.ig_user_id("slow"),
               "container_id": container, "first_comment": "later", "waiting_since": since})
    );
    // Nothing detached goes on publishing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(env.fake.published().is_empty(), "published without resume");

    // Each follow-up reads once: 5 more IN_PROGRESS reads, then FINISHED.
    let connection = env.fake.connection("slow");
    let host = env.media.host();
    let mut checkpoint = follow_up.clone();
    let mut answers = Vec::new();
    let receipt = loop {
        let ctx = PublishContext::new(&post, &connection, host.as_ref());
        let mut receipt = publisher.resume(ctx, &checkpoint).await.unwrap();
        match receipt.take_follow_up() {
            Some(next) => {
                assert_eq!(
                    next, follow_up,
                    "the same follow-up, the same waiting_since"
                );
                answers.push(fields(&receipt));
                checkpoint = next;
            }
            None => break receipt,
        }
    };
    assert_eq!(
        answers,
        vec![json!({"container_id": container, "status": "PROCESSING"}); 5]
    );
    let published = env.fake.published();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].account, "slow");
    assert_eq!(published[0].caption, "Slow reel");
    assert_eq!(published[0].media[0].size, file.len());
    assert_eq!(published[0].media[0].sha256, file.sha256_hex());
    let comment_id = field(&receipt, "comment_id").expect("the comment id");
    assert!(comment_id.starts_with("1780"));
    assert_eq!(
        fields(&receipt),
        json!({"container_id": container, "media_id": published[0].id, "comment_id": comment_id})
    );
    assert_eq!(
        env.fake.comments(),
        vec![(published[0].id.clone(), "later".to_string())]
    );
}

#[tokio::test]
async fn a_photo_still_processing_is_published_by_its_follow_up() {
    let env = env().await;
    env.fake.set_processing_reads(4);
    let photo = spooled_jpeg(env.dir.path(), 12_000, 7).await;
    let post = post(
        "Slow photo",
        PostMedia::Photos(vec![Arc::clone(&photo)]),
        &[],
    );
    let publisher = impatient(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow-photo")
        .await
        .unwrap();
    assert_eq!(field(&receipt, "status"), Some("PROCESSING"));
    let follow_up = receipt.follow_up().cloned().expect("a follow-up");
    assert_eq!(follow_up["stage"], json!("processing"));
    assert_eq!(
        follow_up["container_id"],
        json!(field(&receipt, "container_id"))
    );
    assert!(env.fake.published().is_empty());
    let (receipt, follow_ups) = resume_to_the_end(
        &env,
        &publisher,
        &post,
        "slow-photo",
        follow_up,
        &Recorder::default(),
    )
    .await
    .unwrap();
    assert_eq!(follow_ups, 3);
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].media[0].sha256, photo.sha256_hex());
    assert_eq!(field(&receipt, "media_id"), Some(published[0].id.as_str()));
}

#[tokio::test]
async fn within_the_budget_the_answer_is_the_published_post() {
    let env = env().await;
    env.fake.set_processing_reads(3);
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let post = post("quick", PostMedia::Video(file), &[]);
    let receipt = common::publish(&env, &post, "quick").await.unwrap();
    assert!(receipt.get("status").is_none());
    assert!(receipt.follow_up().is_none());
    assert_eq!(
        field(&receipt, "media_id"),
        Some(env.fake.published()[0].id.as_str())
    );
}

#[tokio::test]
async fn carousel_items_still_processing_follow_up_to_one_carousel() {
    let env = env().await;
    env.fake.set_processing_reads(5);
    let a = spooled_jpeg(env.dir.path(), 9_000, 1).await;
    let b = spooled_jpeg(env.dir.path(), 9_500, 2).await;
    let c = spooled_jpeg(env.dir.path(), 10_000, 3).await;
    let post = post(
        "Slow carousel",
        PostMedia::Photos(vec![Arc::clone(&a), Arc::clone(&b), Arc::clone(&c)]),
        &[("collaborators", "friend")],
    );
    let publisher = impatient(&env);
    let receipt = publish_with(&env, &publisher, &post, "slow-carousel")
        .await
        .unwrap();
    let children = receipt.get("children_ids").cloned().expect("children");
    assert_eq!(children.as_array().map(Vec::len), Some(3), "{receipt:?}");
    assert_eq!(
        fields(&receipt),
        json!({"children_ids": children, "status": "PROCESSING"})
    );
    let follow_up = receipt.follow_up().cloned().expect("a follow-up");
    assert_eq!(
        follow_up,
        json!({"version": 1, "stage": "processing_items",
               "user_id": env.fake.ig_user_id("slow-carousel"), "children_ids": children,
               "carousel": [["media_type", "CAROUSEL"], ["caption", "Slow carousel"],
                            ["collaborators", "[\"friend\"]"]],
               "waiting_since": follow_up["waiting_since"]})
    );
    assert_eq!(
        env.fake.containers_created(),
        3,
        "no carousel container yet"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(env.fake.published().is_empty());
    let (receipt, _) = resume_to_the_end(
        &env,
        &publisher,
        &post,
        "slow-carousel",
        follow_up,
        &Recorder::default(),
    )
    .await
    .unwrap();
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(env.fake.containers_created(), 4, "one carousel container");
    assert_eq!(field(&receipt, "media_id"), Some(published[0].id.as_str()));
    assert_eq!(published[0].caption, "Slow carousel");
    assert_eq!(published[0].options["collaborators"], json!("[\"friend\"]"));
    let hashes: Vec<&str> = published[0]
        .media
        .iter()
        .map(|m| m.sha256.as_str())
        .collect();
    assert_eq!(hashes, vec![a.sha256_hex(), b.sha256_hex(), c.sha256_hex()]);
}

#[tokio::test]
async fn follow_ups_end_with_nothing_posted_once_their_budget_is_spent() {
    let env = env().await;
    env.fake.set_processing_reads(1_000);
    let file = spooled_mp4(env.dir.path(), 20_000).await;
    let post = post("Never done", PostMedia::Video(file), &[]);
    let publisher = InstagramPublisher::new({
        let mut config = common::config(&env.fake);
        config.poll_budget_secs = 0;
        config.background_budget_secs = 60;
        config
    });
    let receipt = publish_with(&env, &publisher, &post, "never")
        .await
        .unwrap();
    let mut follow_up = receipt.follow_up().cloned().expect("a follow-up");
    let connection = env.fake.connection("never");
    let host = env.media.host();
    let ctx = || PublishContext::new(&post, &connection, host.as_ref());
    // Within the budget: PROCESSING again.
    let receipt = publisher.resume(ctx(), &follow_up).await.unwrap();
    assert_eq!(receipt.follow_up(), Some(&follow_up));
    // Two hours later.
    let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    follow_up["waiting_since"] = json!(two_hours_ago);
    let err = publisher.resume(ctx(), &follow_up).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.message(),
        "Instagram was still processing the upload 2 hours after fanout first answered \
         PROCESSING, so it was not published and nothing was posted; upload again."
    );
    assert!(env.fake.published().is_empty());
}

// --- Checkpoints --------------------------------------------------------------------

const REEL_STAGES: [&str; 7] = [
    "creating",
    "uploading",
    "processing",
    "publishing",
    "published",
    "commenting",
    "commented",
];

const CAROUSEL_STAGES: [&str; 9] = [
    "creating",
    "creating",
    "processing_items",
    "creating_carousel",
    "processing",
    "publishing",
    "published",
    "commenting",
    "commented",
];

#[tokio::test]
async fn a_reel_records_each_stage_with_its_ids() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 40_000).await;
    let post = post(
        "Whole",
        PostMedia::Video(file),
        &[("first_comment", "first!")],
    );
    let recorder = Recorder::default();
    let receipt = publish_recorded(
        &env,
        &common::publisher(&env.fake),
        &post,
        "whole",
        &recorder,
    )
    .await
    .expect("not stopped")
    .unwrap();
    let user = env.fake.ig_user_id("whole");
    let container = field(&receipt, "container_id").unwrap();
    let media = field(&receipt, "media_id").unwrap();
    let comment = field(&receipt, "comment_id").unwrap();
    let upload_url = format!(
        "{}ig-api-upload/v21.0/{container}",
        env.fake.upload_base_url()
    );
    let base = |stage: &str| json!({"version": 1, "stage": stage, "user_id": user, "first_comment": "first!"});
    let with = |stage: &str, ids: Value| {
        let mut value = base(stage);
        for (k, v) in ids.as_object().unwrap() {
            value[k] = v.clone();
        }
        value
    };
    assert_eq!(
        recorder.stored(),
        vec![
            base("creating"),
            with(
                "uploading",
                json!({"container_id": container, "upload_url": upload_url})
            ),
            with("processing", json!({"container_id": container})),
            with("publishing", json!({"container_id": container})),
            with(
                "published",
                json!({"container_id": container, "media_id": media})
            ),
            with(
                "commenting",
                json!({"container_id": container, "media_id": media})
            ),
            with(
                "commented",
                json!({"container_id": container, "media_id": media, "comment_id": comment})
            ),
        ]
    );
}

#[tokio::test]
async fn a_carousel_records_each_item_and_the_carousel() {
    let env = env().await;
    let a = spooled_jpeg(env.dir.path(), 9_000, 1).await;
    let b = spooled_jpeg(env.dir.path(), 9_500, 2).await;
    let post = post("Carousel", PostMedia::Photos(vec![a, b]), &[]);
    let recorder = Recorder::default();
    let receipt = publish_recorded(
        &env,
        &common::publisher(&env.fake),
        &post,
        "items",
        &recorder,
    )
    .await
    .expect("not stopped")
    .unwrap();
    assert_eq!(recorder.stages(), CAROUSEL_STAGES[..7].to_vec());
    let stored = recorder.stored();
    let children = stored[2]["children_ids"].clone();
    let user = env.fake.ig_user_id("items");
    let carousel = json!([["media_type", "CAROUSEL"], ["caption", "Carousel"]]);
    let container = field(&receipt, "container_id").unwrap();
    assert_eq!(
        stored,
        vec![
            json!({"version": 1, "stage": "creating", "user_id": user}),
            json!({"version": 1, "stage": "creating", "user_id": user,
                   "children_ids": [children[0]]}),
            json!({"version": 1, "stage": "processing_items", "user_id": user,
                   "children_ids": children, "carousel": carousel}),
            json!({"version": 1, "stage": "creating_carousel", "user_id": user,
                   "children_ids": children, "carousel": carousel}),
            json!({"version": 1, "stage": "processing", "user_id": user,
                   "container_id": container}),
            json!({"version": 1, "stage": "publishing", "user_id": user,
                   "container_id": container}),
            json!({"version": 1, "stage": "published", "user_id": user,
                   "container_id": container, "media_id": field(&receipt, "media_id")}),
        ]
    );
}

/// One kind of post stopped at each checkpoint in turn.
struct Flow {
    stages: &'static [&'static str],
    /// Containers Instagram holds in the end, when stopped at `n` (stored or not).
    containers: fn(usize, bool) -> usize,
}

impl Flow {
    /// The 1-based number of the checkpoint named `stage`.
    fn at(&self, stage: &str) -> usize {
        self.stages
            .iter()
            .position(|s| *s == stage)
            .expect("a stage of this flow")
            + 1
    }
}

const REEL: Flow = Flow {
    stages: &REEL_STAGES,
    // Stopped before recording `uploading`: the first container is an orphan.
    containers: |n, stored| match (n, stored) {
        (1, false) => 0,
        (2, false) => 2,
        _ => 1,
    },
};

const CAROUSEL: Flow = Flow {
    stages: &CAROUSEL_STAGES,
    containers: |n, stored| match (n, stored) {
        (1, false) => 0,
        // An item created but not recorded is an orphan; the resume makes another.
        (2, false) | (3, false) => 4,
        // The carousel container may exist and hold the items: new items, new carousel.
        (4, true) => 5,
        (5, false) => 6,
        _ => 3,
    },
};

/// Publishes `media` with a first comment, kills fanout at checkpoint `n` (the
/// checkpoint `stored` or not), resumes from the last stored checkpoint, and checks
/// that exactly one post exists, with one comment at most, and what the receipt says.
async fn stopped_at(flow: &Flow, n: usize, stored: bool, photos: bool) {
    let case = format!(
        "stopped at checkpoint {n} ({}, {})",
        flow.stages[n - 1],
        if stored { "stored" } else { "not stored" }
    );
    let env = env().await;
    let files: Vec<Arc<MediaFile>> = if photos {
        vec![
            spooled_jpeg(env.dir.path(), 9_000, 1).await,
            spooled_jpeg(env.dir.path(), 9_500, 2).await,
        ]
    } else {
        vec![spooled_mp4(env.dir.path(), 60_000).await]
    };
    let media = if photos {
        PostMedia::Photos(files.clone())
    } else {
        PostMedia::Video(Arc::clone(&files[0]))
    };
    let post = post("Stopped", media, &[("first_comment", "first!")]);
    let publisher = common::publisher(&env.fake);

    let killed = Recorder::stopping(n, stored);
    let outcome = publish_recorded(&env, &publisher, &post, "stopped", &killed).await;
    assert!(outcome.is_none(), "{case}: the publish was not stopped");
    let kept = if stored { n } else { n - 1 };
    assert_eq!(killed.stages(), flow.stages[..kept].to_vec(), "{case}");
    let publish_sent = n >= flow.at("published");
    assert_eq!(
        env.fake.published().len(),
        usize::from(publish_sent),
        "{case}: posts when stopped"
    );

    let Some(last) = killed.stored().pop() else {
        // Stopped before anything was recorded: nothing reached Instagram.
        assert_eq!(env.fake.containers_created(), 0, "{case}");
        return;
    };
    let (receipt, _) = resume_to_the_end(
        &env,
        &publisher,
        &post,
        "stopped",
        last.clone(),
        &Recorder::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: the resume failed: {e}"));

    let posts = env.fake.published();
    assert_eq!(posts.len(), 1, "{case}: {posts:?}");
    let live = &posts[0];
    assert_eq!(live.account, "stopped", "{case}");
    assert_eq!(live.caption, "Stopped", "{case}");
    let hashes: Vec<String> = live.media.iter().map(|m| m.sha256.clone()).collect();
    let sent: Vec<String> = files.iter().map(|f| f.sha256_hex()).collect();
    assert_eq!(hashes, sent, "{case}: the media");
    assert_eq!(
        env.fake.containers_created(),
        (flow.containers)(n, stored),
        "{case}: containers"
    );
    if !photos {
        assert_eq!(env.fake.upload_requests(), 1, "{case}: uploads");
    }

    // The publish call went through but its id was never recorded.
    let answer_lost = n == flow.at("published") && !stored;
    let last_stage = last["stage"].as_str().expect("a stage");
    let comment_unknown = last_stage == "commenting";
    let comment_never_sent = answer_lost || (n == flow.at("commenting") && stored);
    let comments = env.fake.comments();
    if comment_never_sent {
        assert!(comments.is_empty(), "{case}: {comments:?}");
    } else {
        assert_eq!(
            comments,
            vec![(live.id.clone(), "first!".to_string())],
            "{case}"
        );
    }

    let container = field(&receipt, "container_id").expect("a container id");
    if let Some(recorded) = last.get("container_id") {
        assert_eq!(recorded, &json!(container), "{case}");
    }
    assert!(container.starts_with("1790"), "{case}");
    let mut expected = json!({ "container_id": container });
    if !answer_lost {
        expected["media_id"] = json!(live.id);
    }
    if !comment_never_sent && !comment_unknown {
        let comment_id = match last.get("comment_id") {
            Some(recorded) => recorded.clone(),
            None => json!(field(&receipt, "comment_id").expect("a comment id")),
        };
        assert!(
            comment_id.as_str().is_some_and(|id| id.starts_with("1780")),
            "{case}"
        );
        expected["comment_id"] = comment_id;
    }
    if answer_lost {
        expected["warnings"] = json!([LOST_MEDIA_ID]);
    }
    if comment_unknown {
        expected["warnings"] = json!([COMMENT_UNKNOWN]);
    }
    assert_eq!(fields(&receipt), expected, "{case}");
}

#[tokio::test]
async fn a_reel_stopped_at_any_checkpoint_resumes_to_exactly_one_post() {
    for n in 1..=REEL.stages.len() {
        for stored in [true, false] {
            stopped_at(&REEL, n, stored, false).await;
        }
    }
}

#[tokio::test]
async fn a_carousel_stopped_at_any_checkpoint_resumes_to_exactly_one_post() {
    for n in 1..=CAROUSEL.stages.len() {
        for stored in [true, false] {
            stopped_at(&CAROUSEL, n, stored, true).await;
        }
    }
}

#[tokio::test]
async fn a_checkpoint_that_cannot_be_stored_stops_before_the_next_call() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 30_000).await;
    let post = post(
        "Unrecorded",
        PostMedia::Video(file),
        &[("first_comment", "hi")],
    );
    let publisher = common::publisher(&env.fake);
    // `publishing` cannot be stored: media_publish is not sent.
    let recorder = Recorder::failing(REEL.at("publishing"));
    let err = publish_recorded(&env, &publisher, &post, "unrecorded", &recorder)
        .await
        .expect("not stopped")
        .unwrap_err();
    assert_eq!(err, store_failed());
    assert!(env.fake.published().is_empty());
    assert_eq!(env.fake.containers_created(), 1);

    // `published` cannot be stored: the post is live, so the answer is the post, and
    // the first comment is not sent.
    let recorder = Recorder::failing(REEL.at("published"));
    let receipt = publish_recorded(&env, &publisher, &post, "unrecorded", &recorder)
        .await
        .expect("not stopped")
        .unwrap();
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        fields(&receipt),
        json!({"container_id": field(&receipt, "container_id"), "media_id": published[0].id,
               "warnings": [UNRECORDED]})
    );
    assert!(env.fake.comments().is_empty());
}

#[tokio::test]
async fn checkpoints_that_are_not_this_posts_are_unknown_outcomes() {
    let env = env().await;
    let photo = spooled_jpeg(env.dir.path(), 9_000, 1).await;
    let post = post("Photo", PostMedia::Photos(vec![photo]), &[]);
    let publisher = common::publisher(&env.fake);
    let user = env.fake.ig_user_id("foreign");
    for checkpoint in [
        json!({"publish_id": "v_pub_1"}),
        json!({"version": 1, "stage": "processing", "user_id": user, "container_id": "a/../b"}),
        // A video's upload, for a photo post.
        json!({"version": 1, "stage": "uploading", "user_id": user, "container_id": "1790",
               "upload_url": "https://rupload.facebook.com/ig-api-upload/v21.0/1790"}),
        // Carousel items, for a single photo.
        json!({"version": 1, "stage": "creating", "user_id": user, "children_ids": ["1790"]}),
    ] {
        let connection = env.fake.connection("foreign");
        let host = env.media.host();
        let ctx = PublishContext::new(&post, &connection, host.as_ref());
        let err = publisher.resume(ctx, &checkpoint).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{checkpoint}");
        assert_eq!(
            err.message(),
            "fanout stopped while publishing to Instagram, so the outcome is unknown: the post \
             may or may not have been published. Check the Instagram account before retrying.",
            "{checkpoint}"
        );
    }
    assert_eq!(env.fake.containers_created(), 0);
    assert!(env.fake.published().is_empty());
}

#[tokio::test]
async fn a_resumed_publish_racing_one_that_went_through_reads_the_live_post() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 30_000).await;
    let post = post("Raced", PostMedia::Video(file), &[("first_comment", "hi")]);
    let publisher = common::publisher(&env.fake);
    // media_publish went through; `published` was never recorded.
    let killed = Recorder::stopping(REEL.at("published"), false);
    assert!(publish_recorded(&env, &publisher, &post, "raced", &killed)
        .await
        .is_none());
    let last = killed.stored().pop().unwrap();
    assert_eq!(last["stage"], json!("publishing"));
    let container = last["container_id"].as_str().unwrap().to_string();
    // The first status read still says FINISHED (Instagram had not caught up): the
    // second media_publish is refused as already published, and the status decides.
    env.fake.inject(Fault::respond(
        format!("/v21.0/{container}"),
        StatusCode::OK,
        json!({"id": container, "status_code": "FINISHED", "status": "Finished"}),
    ));
    let (receipt, _) =
        resume_to_the_end(&env, &publisher, &post, "raced", last, &Recorder::default())
            .await
            .unwrap();
    assert_eq!(env.fake.published().len(), 1);
    assert_eq!(
        fields(&receipt),
        json!({"container_id": container, "warnings": [LOST_MEDIA_ID]})
    );
    assert!(env.fake.comments().is_empty());
}
