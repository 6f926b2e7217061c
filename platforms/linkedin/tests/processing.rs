//! Durable publishes: a video LinkedIn still processes when the polling budget ends
//! answers `PROCESSING` with a follow-up (nothing runs in the background), and `resume`
//! finishes it once; every stage is checkpointed, and a publish killed at any
//! checkpoint resumes into exactly one post, or an honest unknown outcome.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use common::{post, setup, setup_with, Setup};
use fanout_core::{
    async_trait, Connection, ErrorKind, Post, PostMedia, Progress, PublishContext, PublishError,
    Publisher, Receipt,
};
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault, FaultKind, PublishedPost};
use serde_json::{json, Value};

const COMMENT_UNKNOWN: &str = "The post was published, but fanout stopped while sending the \
                               first comment, so LinkedIn may or may not have it. Check the \
                               post and add the comment by hand if it is missing.";
const COMMENT_NOT_SENT: &str = "The post was published, but the first comment was not sent \
                                because fanout could not record its progress. Add the comment \
                                on LinkedIn by hand if it matters.";

/// A [`Progress`] that records every checkpoint. It can fail the `fail_at`-th call
/// (from 1), or never return from the `kill_at`-th one, as if fanout were killed while
/// storing it: after the write landed (`stored`) or before.
#[derive(Default)]
struct Recorder {
    kill_at: Option<(usize, bool)>,
    fail_at: Option<usize>,
    calls: AtomicUsize,
    killed: AtomicBool,
    seen: Mutex<Vec<Value>>,
}

impl Recorder {
    fn killing_at(n: usize, stored: bool) -> Self {
        Self {
            kill_at: Some((n, stored)),
            ..Self::default()
        }
    }

    fn failing_at(n: usize) -> Self {
        Self {
            fail_at: Some(n),
            ..Self::default()
        }
    }

    fn seen(&self) -> Vec<Value> {
        self.seen.lock().expect("the lock is not poisoned").clone()
    }

    fn stages(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|c| c["stage"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    fn last(&self) -> Option<Value> {
        self.seen().last().cloned()
    }
}

#[async_trait]
impl Progress for Recorder {
    async fn checkpoint(&self, state: Value) -> Result<(), PublishError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(n) {
            return Err(PublishError::transient("The job store is unavailable."));
        }
        match self.kill_at {
            Some((at, stored)) if at == n => {
                if stored {
                    self.seen
                        .lock()
                        .expect("the lock is not poisoned")
                        .push(state);
                }
                self.killed.store(true, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
            _ => self
                .seen
                .lock()
                .expect("the lock is not poisoned")
                .push(state),
        }
        Ok(())
    }
}

async fn publish_with(
    s: &Setup,
    p: &Post,
    conn: &Connection,
    progress: &dyn Progress,
) -> Result<Receipt, PublishError> {
    let host = s.media.host();
    s.publisher
        .publish(PublishContext::new(p, conn, host.as_ref()).with_progress(progress))
        .await
}

async fn resume_with(
    s: &Setup,
    p: &Post,
    conn: &Connection,
    progress: &dyn Progress,
    checkpoint: &Value,
) -> Result<Receipt, PublishError> {
    let host = s.media.host();
    s.publisher
        .resume(
            PublishContext::new(p, conn, host.as_ref()).with_progress(progress),
            checkpoint,
        )
        .await
}

fn posts_of(s: &Setup, account: &str) -> Vec<PublishedPost> {
    s.fake
        .published()
        .into_iter()
        .filter(|p| p.account == account)
        .collect()
}

fn comments_on(s: &Setup, post_id: &str) -> usize {
    s.fake
        .comments()
        .iter()
        .filter(|c| c.post_id == post_id)
        .count()
}

/// Waits `wait`, then asserts the fake still has no post for `account`.
async fn nothing_posted_after(s: &Setup, account: &str, wait: Duration) {
    tokio::time::sleep(wait).await;
    assert!(
        posts_of(s, account).is_empty(),
        "something posted on its own"
    );
}

#[tokio::test]
async fn past_the_budget_the_answer_is_processing_with_a_follow_up_and_resume_posts_once() {
    let s = setup_with(|c| c.poll_budget_secs = 0).await;
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
    let progress = Recorder::default();
    let mut receipt = publish_with(&s, &p, &conn, &progress).await.unwrap();
    assert_eq!(receipt.fields().len(), 2, "{receipt:?}");
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    let video = receipt.get("video_id").and_then(|v| v.as_str()).unwrap();
    assert!(video.starts_with("urn:li:video:"), "{video}");
    let video = video.to_string();
    assert_eq!(
        progress.stages(),
        ["registering_video", "video_registered", "video_uploaded"]
    );
    let follow_up = receipt.take_follow_up().expect("a follow-up");
    assert_eq!(Some(&follow_up), progress.seen().last());
    let author = s.fake.person_urn("acme");
    assert_eq!(follow_up["stage"], "video_uploaded");
    assert_eq!(follow_up["video"], json!(video));
    assert_eq!(follow_up["post"]["author"], json!(author));
    assert_eq!(follow_up["post"]["first_comment"], "more soon");
    assert_eq!(
        follow_up["post"]["body"]["content"]["media"]["id"],
        json!(video)
    );
    assert_eq!(follow_up["post"]["body"]["commentary"], r"Later \#today");
    assert_eq!(
        progress.seen()[1],
        json!({"stage": "video_registered", "video": video, "author": author})
    );

    // Nothing runs in the background.
    nothing_posted_after(&s, "acme", Duration::from_millis(400)).await;

    let resumed = Recorder::default();
    let receipt = resume_with(&s, &p, &conn, &resumed, &follow_up)
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        receipt,
        fanout_core::Receipt::new().with("post_id", posts[0].id.clone())
    );
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
    assert_eq!(
        resumed.stages(),
        ["posting", "posted", "commenting", "done"]
    );
    assert_eq!(
        resumed.last(),
        Some(json!({"stage": "done", "post_id": posts[0].id, "warnings": []}))
    );
}

#[tokio::test]
async fn a_follow_up_still_processing_answers_the_same_follow_up() {
    let s = setup_with(|c| c.poll_budget_secs = 0).await;
    // Reads 1 (publish) and 2 (first resume) say PROCESSING, read 3 AVAILABLE.
    s.fake.set_processing_reads(2);
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let mut first = publish_with(&s, &p, &conn, &Recorder::default())
        .await
        .unwrap();
    let follow_up = first.take_follow_up().expect("a follow-up");
    let mut second = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap();
    assert_eq!(second.take_follow_up(), Some(follow_up.clone()));
    assert_eq!(second, first);
    assert!(s.fake.published().is_empty());
    let done = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(done.follow_up(), None);
    assert_eq!(done.get("post_id"), Some(&json!(posts[0].id)));
}

#[tokio::test]
async fn follow_ups_give_up_after_the_background_budget() {
    let s = setup_with(|c| {
        c.poll_budget_secs = 0;
        c.background_budget_secs = 3600;
    })
    .await;
    s.fake.set_processing_reads(2);
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let mut receipt = publish_with(&s, &p, &conn, &Recorder::default())
        .await
        .unwrap();
    let mut follow_up = receipt.take_follow_up().expect("a follow-up");
    // The upload was an hour ago.
    let uploaded_at = follow_up["uploaded_at"].as_i64().unwrap();
    follow_up["uploaded_at"] = json!(uploaded_at - 3600);
    let err = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.message(),
        "LinkedIn was still processing the video 1 hour after the upload, so fanout stopped \
         waiting and nothing was posted. Upload the video again."
    );
    nothing_posted_after(&s, "acme", Duration::from_millis(100)).await;
}

#[tokio::test]
async fn failing_status_polls_do_not_fail_an_accepted_upload() {
    let s = setup_with(|c| c.poll_budget_secs = 0).await;
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
    let mut receipt = publish_with(&s, &p, &conn, &Recorder::default())
        .await
        .unwrap();
    assert_eq!(receipt.get("status"), Some(&json!("PROCESSING")));
    let follow_up = receipt.take_follow_up().expect("a follow-up");
    let mut again = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap();
    assert_eq!(again.take_follow_up(), Some(follow_up.clone()));
    assert!(s.fake.published().is_empty());
    s.fake.clear_faults();
    // The first status read that reaches the fake says PROCESSING, the next AVAILABLE.
    let mut again = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap();
    assert_eq!(again.take_follow_up(), Some(follow_up.clone()));
    let done = resume_with(&s, &p, &conn, &Recorder::default(), &follow_up)
        .await
        .unwrap();
    assert_eq!(s.fake.published().len(), 1);
    assert_eq!(
        s.fake.published()[0].options["content"]["media"]["id"],
        receipt.get("video_id").cloned().unwrap()
    );
    assert_eq!(done.get("post_id"), Some(&json!(s.fake.published()[0].id)));
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
    assert_eq!(receipt.follow_up(), None);
}

// ---------------------------------------------------------------------------------
// Killed at every checkpoint, then resumed.
// ---------------------------------------------------------------------------------

/// How long a publish gets to reach the checkpoint it is killed at; then it is dropped.
const KILL_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Video,
    Images,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Author {
    /// The member: the author finder needs `r_member_social`, which the app lacks.
    Member,
    /// A page the member administers: the author finder lists its posts.
    Page,
}

/// The checkpoints of an uninterrupted publish with a first comment.
fn stages(media: Media) -> [&'static str; 7] {
    match media {
        Media::Video => [
            "registering_video",
            "video_registered",
            "video_uploaded",
            "posting",
            "posted",
            "commenting",
            "done",
        ],
        // Two images: before the first registration, then after each.
        Media::Images => [
            "uploading_images",
            "uploading_images",
            "uploading_images",
            "posting",
            "posted",
            "commenting",
            "done",
        ],
    }
}

async fn killed_post(s: &Setup, media: Media, author: Author, account: &str) -> Post {
    let media = match media {
        Media::Video => PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        Media::Images => PostMedia::Photos(vec![
            spooled_jpeg(s.dir.path(), 40_000, 1).await,
            spooled_jpeg(s.dir.path(), 40_100, 2).await,
        ]),
    };
    let org = s.fake.organization_id(account);
    let mut fields = vec![("first_comment", "more soon")];
    if author == Author::Page {
        fields.push(("target_linkedin_page_id", org.as_str()));
    }
    post(media, Some("Killed #midway"), &fields)
}

/// Publishes, killing the publish at checkpoint `n` (stored or not), then resumes from
/// the last recorded checkpoint and checks the one post (or the honest unknown).
async fn kill_and_resume(s: &Setup, media: Media, author: Author, n: usize, stored: bool) {
    let case = format!("{media:?} as {author:?}, killed at checkpoint {n} (stored: {stored})");
    let account = format!("kill-{media:?}-{author:?}-{n}-{stored}");
    let conn = s.fake.connection(&account);
    let p = killed_post(s, media, author, &account).await;
    let all = stages(media);

    let progress = Recorder::killing_at(n, stored);
    let outcome = tokio::time::timeout(KILL_AFTER, publish_with(s, &p, &conn, &progress)).await;
    if !progress.killed.load(Ordering::SeqCst) {
        // Past the last checkpoint: nothing to kill, the publish finished.
        assert_eq!(n, all.len() + 1, "{case}: never reached the checkpoint");
        let receipt = outcome
            .expect("the publish finishes")
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let posts = posts_of(s, &account);
        assert_eq!(posts.len(), 1, "{case}");
        assert_eq!(receipt, Receipt::new().with("post_id", posts[0].id.clone()));
        assert_eq!(progress.stages(), all, "{case}");
        return;
    }
    assert!(
        outcome.is_err(),
        "{case}: the publish went on after the kill"
    );
    let recorded = if stored { n } else { n - 1 };
    assert_eq!(progress.stages(), all[..recorded], "{case}");
    // Calls made before the kill.
    let post_sent = n > 4;
    let comment_sent = n > 6;
    let Some(last) = progress.last() else {
        // Killed before anything was recorded: there is nothing to resume.
        assert!(posts_of(s, &account).is_empty(), "{case}");
        return;
    };
    let stage = last["stage"].as_str().expect("a stage").to_string();
    assert_eq!(
        posts_of(s, &account).len(),
        usize::from(post_sent),
        "{case}"
    );

    let resumed = Recorder::default();
    let outcome = resume_with(s, &p, &conn, &resumed, &last).await;
    let posts = posts_of(s, &account);
    let finder_finds = author == Author::Page && post_sent;
    if stage == "posting" && !finder_finds {
        assert_eq!(
            outcome,
            Err(fanout_core::unknown_outcome("LinkedIn")),
            "{case}"
        );
        assert_eq!(posts.len(), usize::from(post_sent), "{case}");
        if let Some(post) = posts.first() {
            assert_eq!(comments_on(s, &post.id), 0, "{case}");
        }
        assert!(resumed.seen().is_empty(), "{case}");
        return;
    }
    let receipt = outcome.unwrap_or_else(|e| panic!("{case}: resume failed: {e}"));
    assert_eq!(posts.len(), 1, "{case}: {posts:?}");
    let post = &posts[0];
    assert_eq!(post.caption, r"Killed \#midway", "{case}");
    let want = if stage == "commenting" {
        Receipt::new()
            .with("post_id", post.id.clone())
            .with("warnings", vec![COMMENT_UNKNOWN])
    } else {
        Receipt::new().with("post_id", post.id.clone())
    };
    assert_eq!(receipt, want, "{case}");
    let comments = if stage == "commenting" {
        usize::from(comment_sent)
    } else {
        1
    };
    assert_eq!(comments_on(s, &post.id), comments, "{case}");
    let tail = match stage.as_str() {
        "video_uploaded" => vec!["posting", "posted", "commenting", "done"],
        "posting" | "posted" => vec!["posted", "commenting", "done"],
        "commenting" => vec!["done"],
        "done" => vec![],
        _ => all.to_vec(),
    };
    if stage == "video_registered" {
        // Finalized before the kill: only the post was missing, the video is reused;
        // otherwise the upload starts over.
        let reused = post.options["content"]["media"]["id"] == last["video"];
        assert_eq!(reused, !stored, "{case}");
        let resumed_stages = resumed.stages();
        let want: &[&str] = if stored { &all } else { &all[2..] };
        assert_eq!(resumed_stages, want, "{case}");
    } else {
        assert_eq!(resumed.stages(), tail, "{case}");
    }
}

/// Every checkpoint, stored or not, for `media` by `author`, all at once.
async fn kill_everywhere(media: Media, author: Author) {
    let s = setup().await;
    let runs = (1..=stages(media).len() + 1).flat_map(|n| [(n, true), (n, false)]);
    futures::future::join_all(
        runs.map(|(n, stored)| kill_and_resume(&s, media, author, n, stored)),
    )
    .await;
}

#[tokio::test]
async fn a_video_killed_at_any_checkpoint_resumes_once_as_a_page() {
    kill_everywhere(Media::Video, Author::Page).await;
}

#[tokio::test]
async fn a_video_killed_at_any_checkpoint_resumes_once_as_a_member() {
    kill_everywhere(Media::Video, Author::Member).await;
}

#[tokio::test]
async fn images_killed_at_any_checkpoint_resume_once_as_a_page() {
    kill_everywhere(Media::Images, Author::Page).await;
}

#[tokio::test]
async fn images_killed_at_any_checkpoint_resume_once_as_a_member() {
    kill_everywhere(Media::Images, Author::Member).await;
}

// ---------------------------------------------------------------------------------
// Lost answers, failing checkpoints, foreign checkpoints.
// ---------------------------------------------------------------------------------

/// The post is taken but its answer lost: the publish reads as an unknown outcome,
/// and resume finds the post when the author finder may list the author's posts.
#[tokio::test]
async fn a_lost_post_answer_is_resolved_by_the_author_finder_when_it_may_read() {
    for (name, page, member_reads, found) in [
        ("page", true, false, true),
        ("member", false, false, false),
        ("member-partner", false, true, true),
    ] {
        let s = setup().await;
        s.fake.set_member_post_reads(member_reads);
        let conn = s.fake.connection(name);
        let org = s.fake.organization_id(name);
        let mut fields = vec![("first_comment", "more soon")];
        if page {
            fields.push(("target_linkedin_page_id", org.as_str()));
        }
        let p = post(
            PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 40_000, 3).await]),
            None,
            &fields,
        );
        s.fake
            .inject(Fault::on("/rest/posts", FaultKind::DropAfterCommit));
        let progress = Recorder::default();
        let err = publish_with(&s, &p, &conn, &progress).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{name}: {err}");
        assert_eq!(s.fake.published().len(), 1, "{name}");
        let last = progress.last().unwrap();
        assert_eq!(last["stage"], "posting", "{name}");
        let outcome = resume_with(&s, &p, &conn, &Recorder::default(), &last).await;
        let posts = s.fake.published();
        assert_eq!(posts.len(), 1, "{name}");
        if found {
            assert_eq!(
                outcome,
                Ok(Receipt::new().with("post_id", posts[0].id.clone())),
                "{name}"
            );
            assert_eq!(comments_on(&s, &posts[0].id), 1, "{name}");
        } else {
            assert_eq!(
                outcome,
                Err(fanout_core::unknown_outcome("LinkedIn")),
                "{name}"
            );
            assert_eq!(comments_on(&s, &posts[0].id), 0, "{name}");
        }
    }
}

/// A checkpoint that cannot be stored stops the publish before its next publishing
/// call; once the post exists it never fails the publish.
#[tokio::test]
async fn a_failed_checkpoint_stops_before_the_next_publishing_call() {
    let s = setup().await;
    for n in 1..=7 {
        let account = format!("fail-{n}");
        let conn = s.fake.connection(&account);
        let p = post(
            PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
            None,
            &[("first_comment", "more soon")],
        );
        let videos_before = s.fake.videos_initialized();
        let progress = Recorder::failing_at(n);
        let outcome = publish_with(&s, &p, &conn, &progress).await;
        let posts = posts_of(&s, &account);
        match n {
            1..=4 => {
                assert_eq!(
                    outcome,
                    Err(PublishError::transient("The job store is unavailable.")),
                    "checkpoint {n}"
                );
                assert!(posts.is_empty(), "checkpoint {n}");
                if n == 1 {
                    assert_eq!(s.fake.videos_initialized(), videos_before);
                }
            }
            5 | 6 => {
                assert_eq!(posts.len(), 1, "checkpoint {n}");
                assert_eq!(
                    outcome,
                    Ok(Receipt::new()
                        .with("post_id", posts[0].id.clone())
                        .with("warnings", vec![COMMENT_NOT_SENT])),
                    "checkpoint {n}"
                );
                assert_eq!(comments_on(&s, &posts[0].id), 0, "checkpoint {n}");
            }
            _ => {
                assert_eq!(posts.len(), 1, "checkpoint {n}");
                assert_eq!(
                    outcome,
                    Ok(Receipt::new().with("post_id", posts[0].id.clone())),
                    "checkpoint {n}"
                );
                assert_eq!(comments_on(&s, &posts[0].id), 1, "checkpoint {n}");
            }
        }
    }
}

#[tokio::test]
async fn a_checkpoint_of_another_publisher_is_an_unknown_outcome() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let err = resume_with(
        &s,
        &p,
        &conn,
        &Recorder::default(),
        &json!({"container_id": "17890"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err, fanout_core::unknown_outcome("LinkedIn"));
    assert_eq!(s.fake.videos_initialized(), 0);
    assert!(s.fake.published().is_empty());
}
