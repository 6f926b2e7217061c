//! The conformance suite: plain async functions every publisher must pass against its
//! fake. A platform crate runs them all with [`run_all`]; a plugin author does the same
//! with their own [`FakePlatform`].
//!
//! Each check panics with a sentence saying what went wrong. The token checks (see
//! [`tokens`]) run only when the publisher has a [`fanout_core::TokenProvider`] and the
//! fake hands out refreshable connections.
//! The fidelity checks (see [`fidelity`]: options carried, every mapped error code,
//! limits refused before upload, processing past the budget) run the cases the fake
//! lists through [`FakePlatform::option_cases`], [`FakePlatform::error_cases`] and
//! [`FakePlatform::hold_processing`], and skip what it does not list.

use std::path::Path;
use std::sync::Arc;

use fanout_core::{
    ErrorKind, FormFields, MediaFile, MediaHost, Post, PostMedia, PublishContext, PublishError,
    Publisher, Receipt,
};
use serde_json::Value;

use crate::fake::{FakePlatform, PlatformError};
use crate::faults::{Fault, FaultKind};
use crate::media::{spooled_jpeg, spooled_mp4};
use crate::media_server::MediaServer;

pub mod fidelity;
pub mod tokens;

/// What the checks run against.
pub struct Harness<'a> {
    /// The publisher under test, pointed at `fake` (an `Arc`, so the token checks can
    /// hand it to an [`fanout_core::Engine`]).
    pub publisher: Arc<dyn Publisher>,
    /// The platform's fake.
    pub fake: &'a dyn FakePlatform,
    /// A media host the fake can pull from.
    pub media_host: Arc<dyn MediaHost>,
    /// Where sample media is spooled.
    pub dir: &'a Path,
}

/// Size of the sample video: big enough that chunked protocols use several parts.
pub const SAMPLE_VIDEO_BYTES: usize = 12 * 1024 * 1024 + 12_345;

/// Runs every check, in order, each against a clean fake (faults cleared).
///
/// Configure the publisher with the fake's client credentials (and its OAuth base URL)
/// so that [`Publisher::tokens`] is `Some`: the token checks are skipped otherwise.
pub async fn run_all(publisher: Arc<dyn Publisher>, fake: &dyn FakePlatform) {
    let media = match MediaServer::spawn().await {
        Ok(media) => media,
        Err(err) => panic!("could not start the conformance media server: {err}"),
    };
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("could not create a temporary directory: {err}"),
    };
    let h = Harness {
        publisher,
        fake,
        media_host: media.host(),
        dir: dir.path(),
    };
    capabilities_are_consistent(&h);
    publishes_a_video(&h).await;
    publishes_photos(&h).await;
    expired_token_reads_as_reconnect(&h).await;
    rate_limited_first_call_is_retried(&h).await;
    server_error_on_first_call_is_retried(&h).await;
    lost_publish_answer_never_publishes_twice(&h).await;
    tokens::run_token_checks(&h).await;
    fidelity::run_fidelity_checks(&h).await;
}

/// Builds a post of `media` with a fixed title.
pub fn post(media: PostMedia, fields: FormFields) -> Post {
    Post {
        title: "fanout conformance title".to_string(),
        description: Some("fanout conformance description".to_string()),
        media,
        fields,
    }
}

/// Publishes `post` for `account` through the harness.
pub async fn publish(h: &Harness<'_>, post: &Post, account: &str) -> Result<Receipt, PublishError> {
    let connection = h.fake.connection(account);
    h.publisher
        .publish(PublishContext::new(
            post,
            &connection,
            h.media_host.as_ref(),
        ))
        .await
}

/// Resumes a publish of `post` for `account` from `checkpoint` through the harness.
pub async fn resume(
    h: &Harness<'_>,
    post: &Post,
    account: &str,
    checkpoint: &serde_json::Value,
) -> Result<Receipt, PublishError> {
    let connection = h.fake.connection(account);
    h.publisher
        .resume(
            PublishContext::new(post, &connection, h.media_host.as_ref()),
            checkpoint,
        )
        .await
}

fn posts_for(h: &Harness<'_>, account: &str) -> Vec<crate::record::PublishedPost> {
    h.fake
        .published()
        .into_iter()
        .filter(|p| p.account == account)
        .collect()
}

/// Ids, names and capabilities are well formed.
pub fn capabilities_are_consistent(h: &Harness<'_>) {
    let p = &h.publisher;
    assert!(
        !p.id().is_empty() && p.id().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "publisher id {:?} must be lowercase ascii",
        p.id()
    );
    assert_eq!(
        p.id(),
        h.fake.platform(),
        "publisher and fake disagree on the platform"
    );
    assert!(!p.display_name().is_empty(), "display name is empty");
    let caps = p.capabilities();
    assert!(
        caps.video.is_some() || caps.photos.is_some(),
        "{} supports neither video nor photos",
        p.id()
    );
    if let Some(video) = &caps.video {
        assert!(
            video.min_bytes <= video.max_bytes,
            "video min_bytes > max_bytes"
        );
    }
    if let Some(photos) = &caps.photos {
        assert!(
            1 <= photos.min_count && photos.min_count <= photos.max_count,
            "photo counts are inconsistent: {photos:?}"
        );
    }
}

/// A video is published once, and the bytes the fake received hash to the file.
pub async fn publishes_a_video(h: &Harness<'_>) {
    if h.publisher.capabilities().video.is_none() {
        return;
    }
    h.fake.clear_faults();
    let file = spooled_mp4(h.dir, SAMPLE_VIDEO_BYTES).await;
    let post = post(PostMedia::Video(Arc::clone(&file)), FormFields::default());
    let receipt = publish(h, &post, "conformance-video")
        .await
        .unwrap_or_else(|e| panic!("{}: publishing a video failed: {e}", h.publisher.id()));
    assert!(!receipt.fields().is_empty(), "the receipt carries no ids");
    let posts = posts_for(h, "conformance-video");
    assert_eq!(
        posts.len(),
        1,
        "expected exactly one post, the fake has {posts:?}"
    );
    assert_eq!(posts[0].media.len(), 1, "a video post has one medium");
    assert_eq!(
        posts[0].media[0].size,
        file.len(),
        "received size differs from the file"
    );
    assert_eq!(
        posts[0].media[0].sha256,
        file.sha256_hex(),
        "the bytes the fake received do not hash to the uploaded file"
    );
    assert_receipt_names(h, &receipt, &posts[0].id);
}

/// Photos are published in order, and each one's bytes hash to its file.
pub async fn publishes_photos(h: &Harness<'_>) {
    let Some(limits) = h.publisher.capabilities().photos else {
        return;
    };
    h.fake.clear_faults();
    let mut counts = vec![limits.min_count.max(2).min(limits.max_count)];
    if limits.min_count <= 1 {
        counts.push(1);
    }
    for (round, count) in counts.into_iter().enumerate() {
        let mut files: Vec<Arc<MediaFile>> = Vec::new();
        for i in 0..count {
            files.push(spooled_jpeg(h.dir, 50_000 + i * 1000, i as u8 + 1).await);
        }
        let account = format!("conformance-photos-{round}");
        let post = post(PostMedia::Photos(files.clone()), FormFields::default());
        let receipt = publish(h, &post, &account).await.unwrap_or_else(|e| {
            panic!(
                "{}: publishing {count} photo(s) failed: {e}",
                h.publisher.id()
            )
        });
        let posts = posts_for(h, &account);
        assert_eq!(
            posts.len(),
            1,
            "expected one post of {count} photos, got {posts:?}"
        );
        let got: Vec<(u64, String)> = posts[0]
            .media
            .iter()
            .map(|m| (m.size, m.sha256.clone()))
            .collect();
        let want: Vec<(u64, String)> = files.iter().map(|f| (f.len(), f.sha256_hex())).collect();
        assert_eq!(
            got, want,
            "the photos the fake received differ from the files sent"
        );
        assert_receipt_names(h, &receipt, &posts[0].id);
    }
}

fn assert_receipt_names(h: &Harness<'_>, receipt: &Receipt, id: &str) {
    let mentions = receipt
        .fields()
        .values()
        .any(|v| matches!(v, Value::String(s) if s == id));
    assert!(
        mentions,
        "{}: the receipt {:?} does not carry the id {id:?} the platform returned",
        h.publisher.id(),
        receipt.fields()
    );
}

/// An expired token fails with the reconnect sentence and publishes nothing.
pub async fn expired_token_reads_as_reconnect(h: &Harness<'_>) {
    h.fake.clear_faults();
    let before = h.fake.published().len();
    let file = sample_for(h).await;
    let connection = h.fake.expired_connection();
    let err = h
        .publisher
        .publish(PublishContext::new(
            &file,
            &connection,
            h.media_host.as_ref(),
        ))
        .await
        .expect_err("an expired token must fail");
    assert_eq!(
        err.kind(),
        ErrorKind::TokenExpired,
        "wrong kind for an expired token: {err}"
    );
    assert_eq!(
        err.message(),
        PublishError::token_expired(h.publisher.display_name()).message()
    );
    assert_eq!(
        h.fake.published().len(),
        before,
        "an expired token published something"
    );
}

async fn sample_for(h: &Harness<'_>) -> Post {
    let caps = h.publisher.capabilities();
    let media = if caps.video.is_some() {
        PostMedia::Video(spooled_mp4(h.dir, 200_000).await)
    } else {
        let count = caps.photos.map(|p| p.min_count).unwrap_or(1);
        let mut files = Vec::new();
        for i in 0..count {
            files.push(spooled_jpeg(h.dir, 40_000, i as u8).await);
        }
        PostMedia::Photos(files)
    };
    post(media, FormFields::default())
}

/// The media the fake should record for `post`: each file's size and SHA-256, in order.
fn expected_media(post: &Post) -> Vec<crate::record::ReceivedMedia> {
    let files: Vec<&Arc<MediaFile>> = match &post.media {
        PostMedia::Video(file) => vec![file],
        PostMedia::Photos(files) => files.iter().collect(),
    };
    files
        .into_iter()
        .map(|f| crate::record::ReceivedMedia {
            size: f.len(),
            sha256: f.sha256_hex(),
        })
        .collect()
}

fn inject_error(h: &Harness<'_>, route: &str, error: PlatformError) {
    let (status, body) = h.fake.error_response(error);
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut fault = Fault::respond(route, status, body);
    if let PlatformError::RateLimited { retry_after_secs } = error {
        fault = fault.with_header("retry-after", &retry_after_secs.to_string());
    }
    h.fake.inject(fault);
}

/// A 429 with `Retry-After: 1` on the first call is waited out and retried: the
/// refused request did nothing, so repeating it cannot publish twice.
pub async fn rate_limited_first_call_is_retried(h: &Harness<'_>) {
    h.fake.clear_faults();
    inject_error(
        h,
        h.fake.first_route(),
        PlatformError::RateLimited {
            retry_after_secs: 1,
        },
    );
    let post = sample_for(h).await;
    publish(h, &post, "conformance-429")
        .await
        .unwrap_or_else(|e| panic!("{}: a single 429 was not retried: {e}", h.publisher.id()));
    assert_eq!(posts_for(h, "conformance-429").len(), 1);
    h.fake.clear_faults();
}

/// A 5xx on the first call is retried with backoff.
pub async fn server_error_on_first_call_is_retried(h: &Harness<'_>) {
    h.fake.clear_faults();
    inject_error(h, h.fake.first_route(), PlatformError::ServerError);
    let post = sample_for(h).await;
    publish(h, &post, "conformance-5xx")
        .await
        .unwrap_or_else(|e| panic!("{}: a single 5xx was not retried: {e}", h.publisher.id()));
    assert_eq!(posts_for(h, "conformance-5xx").len(), 1);
    h.fake.clear_faults();
}

/// When the answer to the publishing call is lost after the platform committed the
/// post, the publisher never publishes a second time: it either finds out the post
/// exists (success) or reports an unknown outcome.
pub async fn lost_publish_answer_never_publishes_twice(h: &Harness<'_>) {
    h.fake.clear_faults();
    h.fake.inject(Fault::on(
        h.fake.publish_route(),
        FaultKind::DropAfterCommit,
    ));
    let post = sample_for(h).await;
    let outcome = publish(h, &post, "conformance-lost").await;
    h.fake.clear_faults();
    let posts = posts_for(h, "conformance-lost");
    assert_eq!(
        posts.len(),
        1,
        "{}: a lost publish answer led to {} posts",
        h.publisher.id(),
        posts.len()
    );
    if let Err(err) = outcome {
        assert_eq!(
            err.kind(),
            ErrorKind::OutcomeUnknown,
            "a lost publish answer must read as an unknown outcome, got: {err}"
        );
    }
}
