//! The first comment goes through LinkedIn's Comments API after the post; a failed
//! comment is a warning on a successful result, never a failure.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{post, setup};
use fanout_core::{MediaFile, PostMedia};
use fanout_testkit::media::png_bytes;
use fanout_testkit::{FakePlatform, Fault};
use serde_json::json;

async fn png(dir: &std::path::Path) -> Arc<MediaFile> {
    Arc::new(
        MediaFile::from_bytes(dir, png_bytes(30_000), Some("p.png".into()))
            .await
            .expect("the sample spools"),
    )
}

#[tokio::test]
async fn the_first_comment_is_posted_on_the_new_post_by_its_author() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[(
            "first_comment",
            "Link in comments: https://example.com/#x (v2)",
        )],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.fields().len(), 1, "{receipt:?}");
    assert_eq!(receipt.get("post_id"), Some(&json!(posts[0].id)));
    let comments = s.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].post_id, posts[0].id);
    assert_eq!(comments[0].actor, s.fake.person_urn("acme"));
    // Escaped little text, as the commentary.
    assert_eq!(
        comments[0].text,
        r"Link in comments: https://example.com/\#x \(v2\)"
    );
}

#[tokio::test]
async fn the_linkedin_comment_wins_and_a_page_comments_as_itself() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let org = s.fake.organization_id("acme");
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[
            ("first_comment", "generic"),
            ("linkedin_first_comment", "for LinkedIn"),
            ("target_linkedin_page_id", org.as_str()),
        ],
    );
    s.publish(&p, &conn).await.unwrap();
    let comments = s.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, "for LinkedIn");
    assert_eq!(comments[0].actor, format!("urn:li:organization:{org}"));
}

#[tokio::test]
async fn without_a_first_comment_nothing_is_commented() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[("first_comment", "   ")],
    );
    s.publish(&p, &conn).await.unwrap();
    assert_eq!(s.fake.published().len(), 1);
    assert!(s.fake.comments().is_empty());
}

#[tokio::test]
async fn a_failed_comment_is_a_warning_and_is_not_repeated() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    // One 500: repeating a comment that may have been taken could double it.
    s.fake.inject(Fault::respond(
        "/comments",
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"status": 500, "code": "INTERNAL_SERVER_ERROR", "message": "boom"}),
    ));
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[("linkedin_first_comment", "hello")],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.get("post_id"), Some(&json!(posts[0].id)));
    assert_eq!(
        receipt.get("warnings"),
        Some(&json!([
            "The post was published, but LinkedIn did not take the first comment: LinkedIn \
             had a temporary problem (HTTP 500); try again in a few minutes. Add the comment \
             on LinkedIn by hand if it matters."
        ]))
    );
    assert!(s.fake.comments().is_empty());
}

#[tokio::test]
async fn a_refused_comment_says_why() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.inject(Fault::respond(
        "/comments",
        StatusCode::FORBIDDEN,
        json!({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
               "message": "Not enough permissions to access: comments.CREATE"}),
    ));
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[("first_comment", "hello")],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    assert!(receipt.get("post_id").is_some());
    let warnings = receipt.get("warnings").and_then(|w| w.as_array()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0],
        "The post was published, but LinkedIn did not take the first comment: LinkedIn \
         refused the post: the connected account lacks permission for it. Reconnect the \
         LinkedIn account with the w_member_social scope (w_organization_social to post as a \
         page), or check that it is an admin of the page. Add the comment on LinkedIn by hand \
         if it matters."
    );
    assert_eq!(s.fake.published().len(), 1);
}

#[tokio::test]
async fn a_throttled_comment_is_retried() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    s.fake.inject(
        Fault::respond(
            "/comments",
            StatusCode::TOO_MANY_REQUESTS,
            json!({"status": 429, "code": "TOO_MANY_REQUESTS", "message": "slow down"}),
        )
        .with_header("retry-after", "0"),
    );
    let p = post(
        PostMedia::Photos(vec![png(s.dir.path()).await]),
        None,
        &[("first_comment", "hello")],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    assert_eq!(receipt.get("warnings"), None);
    assert_eq!(s.fake.comments().len(), 1);
}
