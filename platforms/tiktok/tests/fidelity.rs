//! Issue 3, TikTok: every form option reaches the right place of the API call, drafts
//! go to the inbox, a first comment becomes a warning, and a post still processing past
//! the budget answers `PROCESSING` with a follow-up that `resume` finishes (photos
//! stay pullable until TikTok has them).

mod common;

use std::sync::Arc;
use std::time::Duration;

use fanout_core::{
    Connection, ErrorKind, FormFields, MediaFile, Post, PostMedia, PublishContext, PublishError,
    Publisher, Receipt,
};
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, MediaServer};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};
use serde_json::{json, Value};

const COMMENT_WARNING: &str = "TikTok's API does not allow posting comments, so the first \
     comment was not posted; add it in the TikTok app if you want it.";

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
        title: "Fidelity".into(),
        description: Some("All the options".into()),
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

fn receipt_json(receipt: Receipt) -> Value {
    Value::Object(receipt.into_fields())
}

async fn photos(s: &Setup, n: u8) -> Vec<Arc<MediaFile>> {
    let mut files = Vec::new();
    for i in 0..n {
        files.push(spooled_jpeg(s.dir.path(), 20_000 + i as usize * 7, i).await);
    }
    files
}

fn hashes(files: &[Arc<MediaFile>]) -> Vec<(u64, String)> {
    files.iter().map(|f| (f.len(), f.sha256_hex())).collect()
}

fn received(post: &fanout_testkit::PublishedPost) -> Vec<(u64, String)> {
    post.media
        .iter()
        .map(|m| (m.size, m.sha256.clone()))
        .collect()
}

#[tokio::test]
async fn every_video_option_arrives_in_post_info() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let file = spooled_mp4(s.dir.path(), 50_000).await;
    let post = post(
        PostMedia::Video(Arc::clone(&file)),
        &[
            ("privacy_level", "FOLLOWER_OF_CREATOR"),
            ("disable_comment", "true"),
            ("disable_duet", "false"),
            ("disable_stitch", "true"),
            ("cover_timestamp", "2500"),
            ("brand_content_toggle", "true"),
            ("brand_organic_toggle", "false"),
            ("is_aigc", "true"),
            // Photo-only fields are not sent for a video.
            ("auto_add_music", "true"),
            ("photo_cover_index", "3"),
        ],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("vera"))
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        receipt_json(receipt),
        json!({"publish_id": posts[0].id, "status": "PUBLISH_SUCCESS"})
    );
    assert_eq!(
        posts[0].options,
        json!({
            "title": "Fidelity",
            "privacy_level": "FOLLOWER_OF_CREATOR",
            "disable_comment": true,
            "disable_duet": false,
            "disable_stitch": true,
            "video_cover_timestamp_ms": 2500,
            "brand_content_toggle": true,
            "brand_organic_toggle": false,
            "is_aigc": true,
        })
    );
    assert_eq!(received(&posts[0]), hashes(&[file]));
    let inits = s.fake.init_requests();
    assert_eq!(inits.len(), 1);
    assert_eq!(
        inits[0]["source_info"],
        json!({"source": "FILE_UPLOAD", "video_size": 50_000, "chunk_size": 50_000,
               "total_chunk_count": 1})
    );
}

#[tokio::test]
async fn every_photo_option_arrives_in_post_info_and_source_info() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let files = photos(&s, 3).await;
    let post = post(
        PostMedia::Photos(files.clone()),
        &[
            ("privacy_level", "mutual_follow_friends"),
            ("disable_comment", "false"),
            ("auto_add_music", "true"),
            ("brand_content_toggle", "false"),
            ("brand_organic_toggle", "true"),
            ("photo_cover_index", "1"),
            ("post_mode", "DIRECT_POST"),
            // Video-only fields are not sent for photos.
            ("disable_duet", "true"),
            ("cover_timestamp", "10"),
            ("is_aigc", "true"),
        ],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("pia"))
        .await
        .unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        receipt_json(receipt),
        json!({"publish_id": posts[0].id, "status": "PUBLISH_SUCCESS"})
    );
    assert_eq!(
        posts[0].options,
        json!({
            "title": "Fidelity",
            "description": "All the options",
            "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
            "disable_comment": false,
            "auto_add_music": true,
            "brand_content_toggle": false,
            "brand_organic_toggle": true,
        })
    );
    assert_eq!(received(&posts[0]), hashes(&files));
    let init = &s.fake.init_requests()[0];
    assert_eq!(init["media_type"], "PHOTO");
    assert_eq!(init["post_mode"], "DIRECT_POST");
    assert_eq!(init["source_info"]["source"], "PULL_FROM_URL");
    assert_eq!(init["source_info"]["photo_cover_index"], 1);
    assert_eq!(
        init["source_info"]["photo_images"].as_array().map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn a_video_draft_goes_to_the_inbox_with_source_info_only() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let file = spooled_mp4(s.dir.path(), 40_000).await;
    let post = post(
        PostMedia::Video(Arc::clone(&file)),
        &[("tiktok_upload_to_draft", "true"), ("disable_duet", "true")],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("dora"))
        .await
        .unwrap();
    assert!(s.fake.published().is_empty(), "a draft is not published");
    let drafts = s.fake.drafts();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].account, "dora");
    assert_eq!(received(&drafts[0]), hashes(&[file]));
    assert_eq!(
        receipt_json(receipt),
        json!({"publish_id": drafts[0].id, "status": "SEND_TO_USER_INBOX"})
    );
    assert_eq!(
        s.fake.init_requests(),
        vec![
            json!({"source_info": {"source": "FILE_UPLOAD", "video_size": 40_000,
                                    "chunk_size": 40_000, "total_chunk_count": 1}})
        ]
    );
}

#[tokio::test]
async fn a_photo_draft_uses_media_upload_with_title_and_description_only() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let files = photos(&s, 2).await;
    let post = post(
        PostMedia::Photos(files.clone()),
        &[
            ("post_mode", "MEDIA_UPLOAD"),
            ("privacy_level", "SELF_ONLY"),
        ],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("pam"))
        .await
        .unwrap();
    assert!(s.fake.published().is_empty());
    let drafts = s.fake.drafts();
    assert_eq!(drafts.len(), 1);
    assert_eq!(received(&drafts[0]), hashes(&files));
    assert_eq!(
        drafts[0].options,
        json!({"title": "Fidelity", "description": "All the options"})
    );
    assert_eq!(s.fake.init_requests()[0]["post_mode"], "MEDIA_UPLOAD");
    assert_eq!(
        receipt_json(receipt),
        json!({"publish_id": drafts[0].id, "status": "SEND_TO_USER_INBOX"})
    );
}

#[tokio::test]
async fn invalid_options_fail_before_any_call_naming_the_field_and_values() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let file = spooled_mp4(s.dir.path(), 10_000).await;
    let cases: &[(&str, &str, &str)] = &[
        (
            "privacy_level",
            "EVERYONE",
            "TikTok: `privacy_level` must be one of PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, \
             FOLLOWER_OF_CREATOR, SELF_ONLY, got \"EVERYONE\".",
        ),
        (
            "disable_comment",
            "sometimes",
            "TikTok: `disable_comment` must be true or false, got \"sometimes\".",
        ),
        (
            "disable_duet",
            "2",
            "TikTok: `disable_duet` must be true or false, got \"2\".",
        ),
        (
            "disable_stitch",
            "y",
            "TikTok: `disable_stitch` must be true or false, got \"y\".",
        ),
        (
            "brand_content_toggle",
            "on",
            "TikTok: `brand_content_toggle` must be true or false, got \"on\".",
        ),
        (
            "brand_organic_toggle",
            "off",
            "TikTok: `brand_organic_toggle` must be true or false, got \"off\".",
        ),
        (
            "is_aigc",
            "ai",
            "TikTok: `is_aigc` must be true or false, got \"ai\".",
        ),
        (
            "auto_add_music",
            "music",
            "TikTok: `auto_add_music` must be true or false, got \"music\".",
        ),
        (
            "tiktok_upload_to_draft",
            "draft",
            "TikTok: `tiktok_upload_to_draft` must be true or false, got \"draft\".",
        ),
        (
            "post_mode",
            "SCHEDULED",
            "TikTok: `post_mode` must be DIRECT_POST or MEDIA_UPLOAD, got \"SCHEDULED\".",
        ),
    ];
    // A token the fake never issued: any call would fail as "reconnect", so the field
    // error proves no call was made.
    let nobody = Connection::new("nobody", "never-issued");
    for (field, value, message) in cases {
        let post = post(PostMedia::Video(Arc::clone(&file)), &[(field, value)]);
        let err = publish(&s, &publisher, &post, &nobody).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{field}");
        assert_eq!(err.message(), *message, "{field}");
    }
    for field in ["cover_timestamp", "photo_cover_index"] {
        let post = post(PostMedia::Video(Arc::clone(&file)), &[(field, "-1")]);
        let err = publish(&s, &publisher, &post, &nobody).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{field}");
        assert!(
            err.message()
                .starts_with(&format!("TikTok: `{field}` must be ")),
            "{err}"
        );
    }
    let post = post(
        PostMedia::Video(Arc::clone(&file)),
        &[
            ("post_mode", "DIRECT_POST"),
            ("tiktok_upload_to_draft", "true"),
        ],
    );
    let err = publish(&s, &publisher, &post, &nobody).await.unwrap_err();
    assert!(err.message().contains("contradicts"), "{err}");
    assert_eq!(s.fake.init_calls(), 0);
    assert_eq!(s.fake.chunk_requests(), 0);
}

#[tokio::test]
async fn branded_content_cannot_be_private() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    let post = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        &[
            ("brand_content_toggle", "true"),
            ("privacy_level", "SELF_ONLY"),
        ],
    );
    let err = publish(&s, &publisher, &post, &s.fake.connection("bo"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "TikTok does not allow branded content (`brand_content_toggle` true) to be private \
         (`privacy_level` SELF_ONLY); choose PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS or \
         FOLLOWER_OF_CREATOR, or turn the toggle off."
    );
    // The creator's default is SELF_ONLY: refused the same way, before the init.
    s.fake.set_privacy_level_options(&["SELF_ONLY"]);
    let post = post_with(&s, &[("brand_content_toggle", "true")]).await;
    let err = publish(&s, &publisher, &post, &s.fake.connection("bo"))
        .await
        .unwrap_err();
    assert!(err.message().contains("SELF_ONLY"), "{err}");
    assert_eq!(s.fake.init_calls(), 0);
}

async fn post_with(s: &Setup, fields: &[(&str, &str)]) -> Post {
    post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 10_000).await),
        fields,
    )
}

#[tokio::test]
async fn a_first_comment_is_a_warning_on_a_successful_post() {
    let s = setup().await;
    let publisher = common::publisher(&s.fake);
    for fields in [
        vec![("first_comment", "hello")],
        vec![("first_comment", ""), ("tiktok_first_comment", "hi tiktok")],
    ] {
        let post = post_with(&s, &fields).await;
        let receipt = publish(&s, &publisher, &post, &s.fake.connection("cam"))
            .await
            .unwrap();
        let id = s.fake.published().last().map(|p| p.id.clone()).unwrap();
        assert_eq!(
            receipt_json(receipt),
            json!({"publish_id": id, "status": "PUBLISH_SUCCESS", "warnings": [COMMENT_WARNING]})
        );
    }
    // Photos too; a blank comment is no comment.
    let post = post(
        PostMedia::Photos(photos(&s, 1).await),
        &[("tiktok_first_comment", "photo comment")],
    );
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("cam"))
        .await
        .unwrap();
    assert_eq!(receipt.get("warnings"), Some(&json!([COMMENT_WARNING])));
    let post = post_with(&s, &[("first_comment", "   ")]).await;
    let receipt = publish(&s, &publisher, &post, &s.fake.connection("cam"))
        .await
        .unwrap();
    assert_eq!(receipt.get("warnings"), None);
    assert_eq!(s.fake.published().len(), 4);
}

/// Resumes `post` from `checkpoint` for `connection`.
async fn resume(
    s: &Setup,
    publisher: &TikTokPublisher,
    post: &Post,
    connection: &Connection,
    checkpoint: &Value,
) -> Result<Receipt, PublishError> {
    let host = s.media.host();
    publisher
        .resume(
            PublishContext::new(post, connection, host.as_ref()),
            checkpoint,
        )
        .await
}

/// Follows `receipt`'s follow-ups (as the engine does, a little later each time) until
/// one answers without; at most five seconds.
async fn follow_up(
    s: &Setup,
    publisher: &TikTokPublisher,
    post: &Post,
    connection: &Connection,
    mut receipt: Receipt,
) -> Result<Receipt, PublishError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Some(checkpoint) = receipt.take_follow_up() {
        assert!(tokio::time::Instant::now() < deadline, "still following up");
        tokio::time::sleep(Duration::from_millis(20)).await;
        receipt = resume(s, publisher, post, connection, &checkpoint).await?;
    }
    Ok(receipt)
}

#[tokio::test]
async fn a_video_still_processing_past_the_budget_answers_processing_then_resume_finishes_it() {
    let s = setup().await;
    s.fake.set_processing_delay(Duration::from_millis(400));
    let publisher = publisher_with(&s.fake, |c| c.poll_budget_secs = 0);
    let file = spooled_mp4(s.dir.path(), 30_000).await;
    let post = post(PostMedia::Video(Arc::clone(&file)), &[]);
    let connection = s.fake.connection("pat");
    let receipt = publish(&s, &publisher, &post, &connection).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(
        posts.len(),
        1,
        "the upload is complete; TikTok publishes it"
    );
    let id = posts[0].id.clone();
    assert_eq!(
        receipt.follow_up(),
        Some(&json!({"stage": "processing", "publish_id": id}))
    );
    assert_eq!(
        receipt_json(receipt.clone()),
        json!({"publish_id": id, "status": "PROCESSING"})
    );
    assert_eq!(received(&posts[0]), hashes(&[file]));
    let done = follow_up(&s, &publisher, &post, &connection, receipt)
        .await
        .unwrap();
    assert_eq!(
        receipt_json(done),
        json!({"publish_id": id, "status": "PUBLISH_SUCCESS"})
    );
    assert_eq!(s.fake.published().len(), 1);
    assert_eq!(s.fake.init_calls(), 1);
}

#[tokio::test]
async fn photos_pulled_late_keep_their_links_then_answer_processing_with_a_follow_up() {
    let s = setup().await;
    // TikTok pulls only after the poll budget (0 s) has ended: the links must live on.
    s.fake.set_pull_delay(Duration::from_millis(300));
    s.fake.set_processing_delay(Duration::from_millis(300));
    let publisher = publisher_with(&s.fake, |c| c.poll_budget_secs = 0);
    let files = photos(&s, 2).await;
    let post = post(PostMedia::Photos(files.clone()), &[("first_comment", "hi")]);
    let connection = s.fake.connection("quin");
    let receipt = publish(&s, &publisher, &post, &connection).await.unwrap();
    let id = receipt
        .get("publish_id")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert_eq!(
        receipt.follow_up(),
        Some(&json!({"stage": "processing", "publish_id": id}))
    );
    assert_eq!(
        receipt_json(receipt.clone()),
        json!({"publish_id": id, "status": "PROCESSING", "warnings": [COMMENT_WARNING]})
    );
    // The follow-up needs no links: TikTok has every photo.
    let done = follow_up(&s, &publisher, &post, &connection, receipt)
        .await
        .unwrap();
    assert_eq!(
        receipt_json(done),
        json!({"publish_id": id, "status": "PUBLISH_SUCCESS", "warnings": [COMMENT_WARNING]})
    );
    // TikTok pulled both photos through the links fanout kept alive past the budget.
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, id);
    assert_eq!(received(&posts[0]), hashes(&files));
    assert_eq!(s.fake.init_calls(), 1);
}

#[tokio::test]
async fn without_a_background_budget_a_late_pull_fails_and_the_follow_up_says_so() {
    // The control for the test above: the links live at most the poll budget plus the
    // background budget, so a pull after both ended finds nothing; the follow-up reads
    // TikTok's failure, and nothing is hosted or posted again.
    let s = setup().await;
    s.fake.set_pull_delay(Duration::from_millis(200));
    let publisher = publisher_with(&s.fake, |c| {
        c.poll_budget_secs = 0;
        c.background_budget_secs = 0;
    });
    let post = post(PostMedia::Photos(photos(&s, 1).await), &[]);
    let connection = s.fake.connection("rex");
    let receipt = publish(&s, &publisher, &post, &connection).await.unwrap();
    let id = receipt
        .get("publish_id")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert_eq!(
        receipt_json(receipt.clone()),
        json!({"publish_id": id, "status": "PROCESSING"})
    );
    assert_eq!(
        receipt.follow_up(),
        Some(&json!({"stage": "pulling", "publish_id": id}))
    );
    let err = follow_up(&s, &publisher, &post, &connection, receipt)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        err.message(),
        "TikTok could not download the photos: the links fanout hosted for them ended \
         before TikTok pulled them (fanout stopped, or background_budget_secs passed), or \
         the media host is not reachable from the internet. Nothing was published; upload \
         again."
    );
    assert!(s.fake.published().is_empty());
    assert_eq!(s.fake.init_calls(), 1);
}
