//! Per-platform form fields reach Instagram where Graph expects them; bad values fail
//! Instagram alone before anything is sent.

mod common;

use std::sync::Arc;

use common::{env, field, post, publish};
use fanout_core::{ErrorKind, PostMedia};
use fanout_testkit::media::{spooled_jpeg, spooled_mp4};
use fanout_testkit::FakePlatform;
use serde_json::{json, Value};

fn only_options(env: &common::Env) -> Value {
    let posts = env.fake.published();
    assert_eq!(posts.len(), 1, "{posts:?}");
    posts[0].options.clone()
}

#[tokio::test]
async fn every_reel_option_reaches_the_reel_container() {
    let env = env().await;
    let file = spooled_mp4(env.dir.path(), 64_000).await;
    let post = post(
        "Reel with options",
        PostMedia::Video(Arc::clone(&file)),
        &[
            ("media_type", "reels"),
            ("share_to_feed", "false"),
            ("collaborators", "@ann, bob_b"),
            ("cover_url", "https://cdn.example.com/cover.jpg"),
            ("audio_name", "Original tune"),
            ("user_tags", "carl,dee"),
            ("location_id", "110843418940484"),
            ("thumb_offset", "2500"),
            ("instagram_alt_text", "photos only"),
        ],
    );
    let receipt = publish(&env, &post, "reel-options").await.unwrap();
    let published = env.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].media[0].sha256, file.sha256_hex());
    assert_eq!(field(&receipt, "media_id"), Some(published[0].id.as_str()));
    assert_eq!(
        published[0].options,
        json!({
            "media_type": "REELS",
            "upload_type": "resumable",
            "share_to_feed": "false",
            "collaborators": "[\"ann\",\"bob_b\"]",
            "cover_url": "https://cdn.example.com/cover.jpg",
            "audio_name": "Original tune",
            "user_tags": "[{\"username\":\"carl\"},{\"username\":\"dee\"}]",
            "location_id": "110843418940484",
            "thumb_offset": "2500",
        })
    );
}

#[tokio::test]
async fn a_photo_takes_alt_text_tags_collaborators_and_location() {
    let env = env().await;
    let photo = spooled_jpeg(env.dir.path(), 30_000, 1).await;
    let post = post(
        "One photo",
        PostMedia::Photos(vec![Arc::clone(&photo)]),
        &[
            ("media_type", "IMAGE"),
            ("instagram_alt_text", "A red bicycle"),
            ("user_tags", r#"[{"username":"@rider","x":0.25,"y":0.75}]"#),
            ("collaborators", r#"["shop"]"#),
            ("location_id", "42"),
            ("share_to_feed", "true"),
        ],
    );
    publish(&env, &post, "photo-options").await.unwrap();
    let published = env.fake.published();
    assert_eq!(published[0].media[0].sha256, photo.sha256_hex());
    assert_eq!(
        only_options(&env),
        json!({
            "alt_text": "A red bicycle",
            "user_tags": "[{\"username\":\"rider\",\"x\":0.25,\"y\":0.75}]",
            "collaborators": "[\"shop\"]",
            "location_id": "42",
        })
    );
}

#[tokio::test]
async fn carousel_items_get_alt_text_and_their_own_tags() {
    let env = env().await;
    let a = spooled_jpeg(env.dir.path(), 10_000, 2).await;
    let b = spooled_jpeg(env.dir.path(), 11_000, 3).await;
    let post = post(
        "Two photos",
        PostMedia::Photos(vec![Arc::clone(&a), Arc::clone(&b)]),
        &[
            ("instagram_alt_text", "Shelf"),
            (
                "user_tags",
                r#"[{"username":"second","x":0.5,"y":0.5,"media_index":1}]"#,
            ),
            ("collaborators", "partner"),
            ("location_id", "7"),
        ],
    );
    publish(&env, &post, "carousel-options").await.unwrap();
    let options = only_options(&env);
    assert_eq!(options["media_type"], json!("CAROUSEL"));
    assert_eq!(options["collaborators"], json!("[\"partner\"]"));
    assert_eq!(options["location_id"], json!("7"));
    assert!(options.get("alt_text").is_none());
    let items = options["items"].as_array().expect("items recorded");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["alt_text"], json!("Shelf"));
    assert_eq!(items[1]["alt_text"], json!("Shelf"));
    assert!(items[0].get("user_tags").is_none());
    assert_eq!(
        items[1]["user_tags"],
        json!("[{\"username\":\"second\",\"x\":0.5,\"y\":0.5}]")
    );
    let media: Vec<String> = env.fake.published()[0]
        .media
        .iter()
        .map(|m| m.sha256.clone())
        .collect();
    assert_eq!(media, vec![a.sha256_hex(), b.sha256_hex()]);
}

#[tokio::test]
async fn a_photo_story_takes_no_feed_options() {
    let env = env().await;
    let photo = spooled_jpeg(env.dir.path(), 9_000, 4).await;
    let post = post(
        "story caption",
        PostMedia::Photos(vec![photo]),
        &[
            ("media_type", "STORIES"),
            ("instagram_alt_text", "alt"),
            ("collaborators", "ann"),
        ],
    );
    publish(&env, &post, "photo-story").await.unwrap();
    assert_eq!(only_options(&env), json!({"media_type": "STORIES"}));
    assert_eq!(env.fake.published()[0].caption, "");
}

/// Form fields, whether the media is a video, the expected message.
type Case = (&'static [(&'static str, &'static str)], bool, &'static str);

#[tokio::test]
async fn invalid_values_fail_at_once_naming_the_field() {
    let cases: &[Case] = &[
        (
            &[("media_type", "CAROUSEL")],
            true,
            "Instagram cannot take `media_type` \"CAROUSEL\": a video is published as REELS or \
             STORIES. Fix the field and upload again.",
        ),
        (
            &[("share_to_feed", "sometimes")],
            true,
            "Instagram cannot take `share_to_feed` \"sometimes\": it must be true or false. Fix \
             the field and upload again.",
        ),
        (
            &[("thumb_offset", "-3")],
            true,
            "Instagram cannot take `thumb_offset` \"-3\": it must be a whole number of \
             milliseconds from the start of the video. Fix the field and upload again.",
        ),
        (
            &[("cover_url", "not a url")],
            true,
            "Instagram cannot take `cover_url` \"not a url\": it must be a public http(s) URL \
             of a JPEG image. Fix the field and upload again.",
        ),
        (
            &[("location_id", "Paris")],
            true,
            "Instagram cannot take `location_id` \"Paris\": it must be the numeric id of a \
             Facebook location page. Fix the field and upload again.",
        ),
        (
            &[("collaborators", "a,b,c,d")],
            true,
            "Instagram takes at most 3 collaborators; `collaborators` names 4. Remove some and \
             upload again.",
        ),
        (
            &[("user_tags", "alice")],
            false,
            "Instagram cannot take `user_tags` \"alice\": send a JSON array like \
             [{\"username\":\"name\",\"x\":0.5,\"y\":0.5}] (x and y between 0 and 1 for \
             photos). Fix the field and upload again.",
        ),
        (
            &[("media_type", "REELS")],
            false,
            "Instagram cannot take `media_type` \"REELS\": photos are published as IMAGE or \
             STORIES. Fix the field and upload again.",
        ),
    ];
    let env = env().await;
    for (fields, video, message) in cases {
        let media = if *video {
            PostMedia::Video(spooled_mp4(env.dir.path(), 5_000).await)
        } else {
            PostMedia::Photos(vec![spooled_jpeg(env.dir.path(), 5_000, 5).await])
        };
        let err = publish(&env, &post("x", media, fields), "invalid")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{fields:?}");
        assert_eq!(err.message(), *message, "{fields:?}");
    }
    assert_eq!(env.fake.containers_created(), 0);
    assert_eq!(env.fake.upload_requests(), 0);
    assert!(env.fake.published().is_empty());
}

/// The fake refuses what Graph refuses, even from a client that skips the checks.
#[tokio::test]
async fn the_fake_refuses_options_on_the_wrong_media_or_in_the_wrong_shape() {
    let env = env().await;
    let connection = env.fake.connection("raw-options");
    let user = connection.attribute("user_id").unwrap().to_string();
    let http = reqwest::Client::new();
    let url = format!("{}{user}/media", env.fake.base_url());
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("media_type", "STORIES"),
                ("upload_type", "resumable"),
                ("share_to_feed", "true"),
            ],
            "(#100) Param share_to_feed is only supported for REELS",
        ),
        (
            &[
                ("media_type", "REELS"),
                ("upload_type", "resumable"),
                ("collaborators", "[\"a\",\"b\",\"c\",\"d\"]"),
            ],
            "(#100) Param collaborators must be an array of at most 3 usernames",
        ),
        (
            &[
                ("media_type", "REELS"),
                ("upload_type", "resumable"),
                ("collaborators", "a,b"),
            ],
            "(#100) Param collaborators must be an array of at most 3 usernames",
        ),
        (
            &[
                ("media_type", "REELS"),
                ("upload_type", "resumable"),
                ("thumb_offset", "1.5"),
            ],
            "(#100) Param thumb_offset must be an integer",
        ),
        (
            &[
                ("media_type", "REELS"),
                ("upload_type", "resumable"),
                ("alt_text", "x"),
            ],
            "(#100) Param alt_text is only supported for images",
        ),
        (
            &[
                ("image_url", "http://127.0.0.1:9/x.jpg"),
                ("user_tags", "[{\"username\":\"a\",\"x\":2,\"y\":0}]"),
            ],
            "(#100) Param user_tags[0]['x'] must be a number between 0 and 1",
        ),
        (
            &[
                ("media_type", "REELS"),
                ("upload_type", "resumable"),
                ("location_id", "abc"),
            ],
            "(#100) Param location_id must be a valid ID",
        ),
    ];
    for (form, message) in cases {
        let response = http
            .post(&url)
            .bearer_auth(connection.access_token())
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!(100), "{form:?}");
        assert_eq!(body["error"]["message"], json!(message), "{form:?}");
    }
    assert_eq!(env.fake.containers_created(), 0);
}
