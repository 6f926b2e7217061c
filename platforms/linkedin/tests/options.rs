//! LinkedIn's form fields reach the post where LinkedIn expects them, and a value
//! LinkedIn cannot take fails at once, before any byte is sent.

mod common;

use std::sync::Arc;

use common::{post, setup};
use fanout_core::{ErrorKind, MediaFile, PostMedia};
use fanout_testkit::media::{jpeg_bytes, spooled_mp4};
use fanout_testkit::FakePlatform;
use serde_json::json;

async fn jpeg(dir: &std::path::Path, seed: u8) -> Arc<MediaFile> {
    Arc::new(
        MediaFile::from_bytes(dir, jpeg_bytes(20_000, seed), Some("p.jpg".into()))
            .await
            .expect("the sample spools"),
    )
}

#[tokio::test]
async fn every_option_arrives_in_the_post_body() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let org = s.fake.organization_id("acme");
    let images = vec![jpeg(s.dir.path(), 1).await, jpeg(s.dir.path(), 2).await];
    let p = post(
        PostMedia::Photos(images.clone()),
        Some("Two cats"),
        &[
            ("visibility", "PUBLIC"),
            ("linkedin_visibility", "logged_in"),
            ("linkedin_disable_reshare", "true"),
            ("target_linkedin_page_id", org.as_str()),
            ("linkedin_alt_text", "a grey cat"),
            ("linkedin_alt_text", "a black cat"),
        ],
    );
    let receipt = s.publish(&p, &conn).await.unwrap();
    let posts = s.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.get("post_id"), Some(&json!(posts[0].id)));
    assert_eq!(receipt.get("warnings"), None);
    let o = &posts[0].options;
    assert_eq!(o["visibility"], "LOGGED_IN");
    assert_eq!(o["isReshareDisabledByAuthor"], true);
    assert_eq!(o["author"], json!(format!("urn:li:organization:{org}")));
    let entries = o["content"]["multiImage"]["images"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["altText"], "a grey cat");
    assert_eq!(entries[1]["altText"], "a black cat");
    for (i, file) in images.iter().enumerate() {
        assert_eq!(posts[0].media[i].sha256, file.sha256_hex());
    }
}

#[tokio::test]
async fn reshare_stays_enabled_by_default_and_camel_case_visibility_works() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let p = post(
        PostMedia::Video(spooled_mp4(s.dir.path(), 200_000).await),
        None,
        &[
            ("linkedinVisibility", "Connections"),
            ("linkedin_disable_reshare", "false"),
        ],
    );
    s.publish(&p, &conn).await.unwrap();
    let o = &s.fake.published()[0].options;
    assert_eq!(o["visibility"], "CONNECTIONS");
    assert_eq!(o["isReshareDisabledByAuthor"], false);
    assert_eq!(o["author"], json!(s.fake.person_urn("acme")));
}

#[tokio::test]
async fn invalid_options_fail_before_anything_is_sent() {
    let s = setup().await;
    let conn = s.fake.connection("acme");
    let one = vec![jpeg(s.dir.path(), 1).await];
    let long_alt = "z".repeat(4087);
    let long_comment = "c".repeat(1251);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("linkedin_disable_reshare", "sometimes")],
            "`linkedin_disable_reshare` must be true or false for LinkedIn; got \"sometimes\".",
        ),
        (
            vec![("linkedin_visibility", "friends")],
            "`visibility` must be PUBLIC, CONNECTIONS or LOGGED_IN for LinkedIn; got \"friends\".",
        ),
        (
            vec![("linkedin_alt_text", long_alt.as_str())],
            "`linkedin_alt_text` number 1 is longer than LinkedIn's 4086 characters; shorten it.",
        ),
        (
            vec![("linkedin_alt_text", "a"), ("linkedin_alt_text", "b")],
            "`linkedin_alt_text` was given 2 times for 1 image(s); give one text for all images \
             or at most one per image.",
        ),
        (
            vec![("linkedin_first_comment", long_comment.as_str())],
            "The first comment (`linkedin_first_comment` or `first_comment`) has 1251 \
             characters; LinkedIn takes at most 1250.",
        ),
        (
            vec![("target_linkedin_page_id", "acme")],
            "`target_linkedin_page_id` must be the numeric id of a LinkedIn page (as in \
             urn:li:organization:12345); got \"acme\".",
        ),
    ];
    for (fields, message) in cases {
        let p = post(PostMedia::Photos(one.clone()), None, &fields);
        let err = s.publish(&p, &conn).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{fields:?}");
        assert_eq!(err.message(), message);
    }
    assert_eq!(s.fake.images_initialized(), 0);
    assert!(s.fake.published().is_empty());
}
