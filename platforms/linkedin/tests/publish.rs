//! The publisher against the strict fake: what arrives, who posts, what retries.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{post, setup, setup_with};
use fanout_core::{Connection, ErrorKind, MediaFile, PostMedia};
use fanout_testkit::media::{png_bytes, spooled_jpeg, spooled_mp4};
use fanout_testkit::{FakePlatform, Fault, FaultKind};
use serde_json::json;

const RECONNECT: &str =
    "Your LinkedIn session has expired. Please reconnect your LinkedIn account.";

async fn png(dir: &std::path::Path) -> Arc<MediaFile> {
    Arc::new(
        MediaFile::from_bytes(dir, png_bytes(30_000), Some("p.png".into()))
            .await
            .expect("the sample spools"),
    )
}

#[tokio::test]
async fn a_video_arrives_whole_with_an_escaped_commentary() {
    let s = setup().await;
    let file = spooled_mp4(s.dir.path(), 9 * 1024 * 1024 + 77).await;
    let conn = s.fake.connection("Acme Inc");
    let p = post(
        PostMedia::Video(Arc::clone(&file)),
        Some("C# tips (part 1) @team #rust"),
        &[("visibility", "connections")],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    let published = &posts[0];
    assert_eq!(receipt.get("post_id"), Some(&json!(published.id)));
    assert!(
        published.id.starts_with("urn:li:share:"),
        "{}",
        published.id
    );
    assert_eq!(published.account, "Acme Inc");
    assert_eq!(published.caption, r"C\# tips \(part 1\) \@team \#rust");
    assert_eq!(published.media.len(), 1);
    assert_eq!(published.media[0].size, file.len());
    assert_eq!(published.media[0].sha256, file.sha256_hex());
    let o = &published.options;
    assert_eq!(o["author"], json!(s.fake.person_urn("Acme Inc")));
    assert_eq!(o["visibility"], "CONNECTIONS");
    assert_eq!(o["lifecycleState"], "PUBLISHED");
    assert_eq!(o["isReshareDisabledByAuthor"], false);
    assert_eq!(
        o["distribution"],
        json!({"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []})
    );
    assert_eq!(o["content"]["media"]["title"], "Launch day");
    assert!(o["content"]["media"]["id"]
        .as_str()
        .unwrap()
        .starts_with("urn:li:video:"));
}

#[tokio::test]
async fn the_title_is_the_commentary_without_a_description() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    s.publish(&p, &conn).await.unwrap();
    assert_eq!(s.fake.published()[0].caption, "Launch day");
    assert_eq!(s.fake.published()[0].options["visibility"], "PUBLIC");
}

#[tokio::test]
async fn one_image_is_a_media_post_with_alt_text() {
    let s = setup().await;
    let file = png(s.dir.path()).await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Photos(vec![Arc::clone(&file)]),
        None,
        &[("linkedin_alt_text", "A chart")],
    );
    s.publish(&p, &conn).await.unwrap();
    let published = &s.fake.published()[0];
    assert_eq!(published.media[0].sha256, file.sha256_hex());
    let media = &published.options["content"]["media"];
    assert_eq!(media["altText"], "A chart");
    assert!(media["id"].as_str().unwrap().starts_with("urn:li:image:"));
    assert!(published.options["content"].get("multiImage").is_none());
}

#[tokio::test]
async fn several_images_keep_their_order_and_alt_texts() {
    let s = setup().await;
    let mut files = Vec::new();
    for i in 0..3u8 {
        files.push(spooled_jpeg(s.dir.path(), 20_000 + usize::from(i) * 10, i + 1).await);
    }
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Photos(files.clone()),
        Some("three"),
        &[
            ("linkedin_alt_text", "one"),
            ("linkedin_alt_text", "two"),
            ("linkedin_alt_text", "three"),
        ],
    );
    s.publish(&p, &conn).await.unwrap();
    let published = &s.fake.published()[0];
    let got: Vec<_> = published.media.iter().map(|m| m.sha256.clone()).collect();
    let want: Vec<_> = files.iter().map(|f| f.sha256_hex()).collect();
    assert_eq!(got, want);
    let images = published.options["content"]["multiImage"]["images"]
        .as_array()
        .unwrap();
    let alts: Vec<_> = images.iter().map(|i| i["altText"].clone()).collect();
    assert_eq!(alts, vec![json!("one"), json!("two"), json!("three")]);
}

#[tokio::test]
async fn posts_as_a_page_the_member_administers() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.set_organizations("acme", &["424242"]);
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[("target_linkedin_page_id", "424242")],
    );
    s.publish(&p, &conn).await.unwrap();
    assert_eq!(
        s.fake.published()[0].options["author"],
        "urn:li:organization:424242"
    );
    let photo = post(
        PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 10_000, 1).await]),
        None,
        &[("target_linkedin_page_id", "urn:li:organization:424242")],
    );
    s.publish(&photo, &conn).await.unwrap();
    assert_eq!(
        s.fake.published()[1].options["author"],
        "urn:li:organization:424242"
    );
}

#[tokio::test]
async fn a_page_the_member_does_not_administer_is_refused_with_the_scope_sentence() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[("target_linkedin_page_id", "999")],
    );
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "LinkedIn refused the post: the connected account lacks permission for it. Reconnect \
         the LinkedIn account with the w_member_social scope (w_organization_social to post as \
         a page), or check that it is an admin of the page."
    );
    assert!(s.fake.published().is_empty());
    assert_eq!(s.fake.videos_initialized(), 0);
}

#[tokio::test]
async fn without_author_urn_the_member_comes_from_userinfo() {
    let s = setup().await;
    s.fake.accept_token("tok-userinfo", "Sandbox Inc");
    let conn = Connection::new("Sandbox Inc", "tok-userinfo");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    s.publish(&p, &conn).await.unwrap();
    let published = &s.fake.published()[0];
    assert_eq!(
        published.options["author"],
        json!(s.fake.person_urn("Sandbox Inc"))
    );
    assert_eq!(published.account, "Sandbox Inc");
}

#[tokio::test]
async fn expired_revoked_and_unknown_tokens_read_as_reconnect() {
    let s = setup().await;
    let urn = s.fake.person_urn("acme");
    for token in ["expired-1", "revoked-1", "never-issued"] {
        let conn = Connection::new("acme", token).with_attribute("author_urn", urn.clone());
        let p = post(
            PostMedia::Photos(vec![spooled_jpeg(s.dir.path(), 10_000, 1).await]),
            None,
            &[],
        );
        let err = s.publish(&p, &conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenExpired, "{token}");
        assert_eq!(err.message(), RECONNECT, "{token}");
    }
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn a_429_on_the_post_call_is_waited_out_and_retried() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let (_, body) = s
        .fake
        .error_response(fanout_testkit::PlatformError::RateLimited {
            retry_after_secs: 1,
        });
    s.fake.inject(
        Fault::respond("/rest/posts", StatusCode::TOO_MANY_REQUESTS, body)
            .with_header("retry-after", "1"),
    );
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let started = std::time::Instant::now();
    s.publish(&p, &conn).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(s.fake.published().len(), 1);
}

#[tokio::test]
async fn a_503_on_the_post_call_is_retried() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.inject(Fault::respond(
        "/rest/posts",
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"status": 503, "message": "Service Unavailable"}),
    ));
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    s.publish(&p, &conn).await.unwrap();
    assert_eq!(s.fake.published().len(), 1);
}

#[tokio::test]
async fn a_500_on_the_post_call_is_not_repeated() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.inject(
        Fault::respond(
            "/rest/posts",
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": 500, "message": "Internal Server Error"}),
        )
        .times(1),
    );
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(
        err.message(),
        "LinkedIn failed (HTTP 500) while creating the post, so it may or may not have been \
         published. Check the LinkedIn account before uploading again."
    );
    // Not retried: a retry would have succeeded against the fake.
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn a_dropped_post_call_is_an_unknown_outcome_and_not_repeated() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake
        .inject(Fault::on("/rest/posts", FaultKind::DropAfterCommit));
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(
        err.message(),
        "The connection to LinkedIn was lost before it answered, so the post may or may not \
         have been published. Check the LinkedIn account before uploading again."
    );
    assert_eq!(s.fake.published().len(), 1);
}

#[tokio::test]
async fn failed_and_lost_parts_are_resent_and_the_bytes_still_match() {
    let s = setup().await;
    let file = spooled_mp4(s.dir.path(), 9 * 1024 * 1024).await;
    let conn = s.fake.connection("acme");
    s.fake.inject(Fault::respond(
        "/part/1",
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"status": 500, "message": "oops"}),
    ));
    s.fake
        .inject(Fault::on("/part/2", FaultKind::DropAfterCommit));
    s.fake
        .inject(Fault::on("/rest/videos/", FaultKind::DropConnection));
    let p = post(PostMedia::Video(Arc::clone(&file)), None, &[]);
    s.publish(&p, &conn).await.unwrap();
    let published = &s.fake.published()[0];
    assert_eq!(published.media[0].sha256, file.sha256_hex());
    assert_eq!(published.media[0].size, file.len());
}

#[tokio::test]
async fn processing_failed_reads_as_rejected_media() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.fail_next_processing();
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[],
    );
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MediaRejected);
    assert_eq!(
        err.message(),
        "LinkedIn could not process the video (PROCESSING_FAILED); nothing was posted. Check \
         that it is an MP4 of 3 seconds to 30 minutes and upload it again."
    );
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn the_daily_quota_refuses_before_any_call() {
    let s = setup_with(|c| c.daily_post_limit = 1).await;
    let conn = s.fake.connection("acme");
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    s.publish(&p, &conn).await.unwrap();
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        err.message()
            .starts_with("Rate limited by LinkedIn, retry after "),
        "{err}"
    );
    assert_eq!(s.fake.images_initialized(), 1);
    // Another member's token has its own quota.
    s.publish(&p, &s.fake.connection("other")).await.unwrap();
}

#[tokio::test]
async fn linkedins_daily_limit_reads_as_rate_limited() {
    let s = setup().await;
    s.fake.set_daily_post_limit(0);
    let conn = s.fake.connection("acme");
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.message(), "Rate limited by LinkedIn, retry later.");
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn bad_form_fields_are_refused_before_any_call() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let media = PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await);
    let err = s
        .publish(
            &post(media.clone(), None, &[("visibility", "friends")]),
            &conn,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for LinkedIn; got \"friends\"."
    );
    let err = s
        .publish(
            &post(media, None, &[("target_linkedin_page_id", "acme-page")]),
            &conn,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(s.fake.videos_initialized(), 0);
}

#[tokio::test]
async fn an_inactive_api_version_says_what_to_configure() {
    let s = setup_with(|c| c.api_version = "201901".into()).await;
    let conn = s.fake.connection("acme");
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "LinkedIn no longer serves the configured API version (Requested version 201901 is \
         not active). Set `platforms.linkedin.api_version` to an active version (YYYYMM)."
    );
}

#[tokio::test]
async fn a_validation_error_on_the_post_shows_field_and_reason() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.inject(Fault::respond(
        "/rest/posts",
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"status": 422, "code": "UNPROCESSABLE_ENTITY", "message": "ERROR",
               "errorDetails": {"inputErrors": [{"description": "Text is too long",
                   "input": {"inputPath": {"fieldPath": "/commentary"}}, "code": "INVALID_VALUE"}]}}),
    ));
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(
        err.message(),
        "LinkedIn rejected the post: /commentary: Text is too long. Fix it and upload again."
    );
    assert!(s.fake.published().is_empty());
}

#[tokio::test]
async fn errors_never_show_the_token() {
    let s = setup().await;
    let conn = Connection::new("acme", "expired-SECRET-TOKEN-123")
        .with_attribute("author_urn", s.fake.person_urn("acme"));
    let p = post(PostMedia::Photos(vec![png(s.dir.path()).await]), None, &[]);
    let err = s.publish(&p, &conn).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("SECRET-TOKEN"));
}
