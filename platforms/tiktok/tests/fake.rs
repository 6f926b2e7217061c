//! The fake's strictness, with raw requests: what TikTok rejects, it rejects, in
//! TikTok's body shape.

use std::time::Duration;

use fanout_core::MediaFile;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::{mp4_bytes, png_bytes};
use fanout_testkit::{FakePlatform, MediaServer};
use serde_json::{json, Value};

const JSON: &str = "application/json; charset=UTF-8";
const MIB: u64 = 1024 * 1024;

struct Raw {
    fake: FakeTikTok,
    http: reqwest::Client,
    token: String,
}

async fn raw() -> Raw {
    let fake = FakeTikTok::spawn().await.expect("the fake starts");
    let token = fake.connection("raw").access_token().to_string();
    Raw {
        fake,
        http: reqwest::Client::new(),
        token,
    }
}

impl Raw {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.fake.base_url().join(path).expect("a valid path"))
            .bearer_auth(&self.token)
            .header("content-type", JSON)
            .body(body.to_string())
            .send()
            .await
            .expect("the fake answers");
        read(response).await
    }

    async fn init(&self, size: u64, chunk: u64, count: u64) -> (u16, Value) {
        self.post(
            "v2/post/publish/video/init/",
            json!({
                "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
                "source_info": {"source": "FILE_UPLOAD", "video_size": size,
                                "chunk_size": chunk, "total_chunk_count": count},
            }),
        )
        .await
    }

    async fn status(&self, publish_id: &str) -> Value {
        let (status, body) = self
            .post(
                "v2/post/publish/status/fetch/",
                json!({"publish_id": publish_id}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a readable body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

fn put(raw: &Raw, url: &str, range: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    raw.http
        .put(url)
        .header("content-type", "video/mp4")
        .header("content-range", range)
        .body(bytes)
}

#[tokio::test]
async fn success_bodies_carry_code_ok_and_the_creators_options() {
    let r = raw().await;
    let (status, body) = r
        .post("v2/post/publish/creator_info/query/", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["error"]["code"], "ok");
    assert_eq!(body["error"]["message"], "");
    assert!(body["error"]["log_id"]
        .as_str()
        .is_some_and(|l| !l.is_empty()));
    assert_eq!(
        body["data"]["privacy_level_options"],
        json!([
            "PUBLIC_TO_EVERYONE",
            "MUTUAL_FOLLOW_FRIENDS",
            "FOLLOWER_OF_CREATOR",
            "SELF_ONLY"
        ])
    );
    assert_eq!(body["data"]["creator_username"], "raw");
}

#[tokio::test]
async fn unknown_and_expired_tokens_are_access_token_invalid() {
    let r = raw().await;
    for (token, message) in [
        (
            "nope",
            "The access token is invalid or not found in the request.",
        ),
        (
            "expired-123",
            "Access token is expired. Please refresh the token and retry.",
        ),
    ] {
        let response = r
            .http
            .post(
                r.fake
                    .base_url()
                    .join("v2/post/publish/creator_info/query/")
                    .unwrap(),
            )
            .bearer_auth(token)
            .header("content-type", JSON)
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 401);
        assert_eq!(code(&body), "access_token_invalid");
        assert_eq!(body["error"]["message"], message);
    }
}

#[tokio::test]
async fn json_calls_need_the_json_content_type_and_well_formed_bodies() {
    let r = raw().await;
    let url = r
        .fake
        .base_url()
        .join("v2/post/publish/video/init/")
        .unwrap();
    let response = r
        .http
        .post(url.clone())
        .bearer_auth(&r.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (400, "invalid_params"));
    assert_eq!(
        body["error"]["message"],
        "Content-Type must be application/json; charset=UTF-8."
    );
    let response = r
        .http
        .post(url)
        .bearer_auth(&r.token)
        .header("content-type", JSON)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (400, "invalid_params"));
    let (status, body) = r
        .post(
            "v2/post/publish/video/init/",
            json!({"post_info": {"title": "t", "privacy_level": "SELF_ONLY", "colour": "red"},
                   "source_info": {"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1}}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_params"));
    assert_eq!(
        body["error"]["message"],
        "post_info.colour is not a recognised field."
    );
    assert_eq!(r.fake.init_calls(), 1);
}

#[tokio::test]
async fn chunk_math_is_enforced_at_init() {
    let r = raw().await;
    for (size, chunk, count) in [
        (4 * MIB, 2 * MIB, 2),     // under 5 MB must be whole
        (12 * MIB, 5 * MIB, 3),    // count must be rounded down
        (12 * MIB, 4 * MIB, 3),    // chunk below 5 MiB
        (200 * MIB, 100 * MIB, 2), // chunk above 64 MiB
        (100 * MIB, 64 * MIB, 1),  // over 64 MB in one chunk
    ] {
        let (status, body) = r.init(size, chunk, count).await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_params"),
            "{size}/{chunk}/{count}: {body}"
        );
    }
    let (status, body) = r.init(12 * MIB, 5 * MIB, 2).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["publish_id"]
        .as_str()
        .unwrap()
        .starts_with("v_pub_file~"));
}

#[tokio::test]
async fn a_privacy_level_outside_the_options_is_a_mismatch() {
    let r = raw().await;
    r.fake.set_privacy_level_options(&["SELF_ONLY"]);
    let (status, body) = r
        .post(
            "v2/post/publish/video/init/",
            json!({"post_info": {"privacy_level": "PUBLIC_TO_EVERYONE"},
                   "source_info": {"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1}}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "privacy_level_option_mismatch")
    );
}

#[tokio::test]
async fn chunks_must_come_in_order_with_matching_headers() {
    let r = raw().await;
    let size = 11 * MIB;
    let (_, body) = r.init(size, 5 * MIB, 2).await;
    let url = body["data"]["upload_url"].as_str().unwrap().to_string();
    let publish_id = body["data"]["publish_id"].as_str().unwrap().to_string();
    let video = mp4_bytes(size as usize);
    let first = video[..5 * MIB as usize].to_vec();

    // The second chunk first: not the next range.
    let response = put(
        &r,
        &url,
        &format!("bytes {}-{}/{size}", 5 * MIB, size - 1),
        video[5 * MIB as usize..].to_vec(),
    )
    .send()
    .await
    .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (416, "invalid_file_upload"));
    assert_eq!(
        body["error"]["message"],
        format!(
            "Content-Range bytes {}-{}/{size} is not the next chunk; expected bytes 0-{}/{size}.",
            5 * MIB,
            size - 1,
            5 * MIB - 1
        )
    );
    // No Content-Type.
    let response = r
        .http
        .put(&url)
        .header("content-range", format!("bytes 0-{}/{size}", 5 * MIB - 1))
        .body(first.clone())
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (400, "invalid_file_upload"));
    // No Content-Length (a streamed body goes chunked).
    let stream =
        futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(first.clone()))]);
    let response = r
        .http
        .put(&url)
        .header("content-type", "video/mp4")
        .header("content-range", format!("bytes 0-{}/{size}", 5 * MIB - 1))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (400, "invalid_file_upload"));
    assert_eq!(
        body["error"]["message"],
        "Content-Length must be present and equal the size of the Content-Range."
    );
    // A wrong upload token.
    let forged = url.replace("upload_token=", "upload_token=00");
    let response = put(
        &r,
        &forged,
        &format!("bytes 0-{}/{size}", 5 * MIB - 1),
        first.clone(),
    )
    .send()
    .await
    .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (404, "invalid_params"));
    assert_eq!(r.status(&publish_id).await["data"]["uploaded_bytes"], 0);

    // In order: 206 then 201, and the status follows.
    let response = put(&r, &url, &format!("bytes 0-{}/{size}", 5 * MIB - 1), first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 206);
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "PROCESSING_UPLOAD"
    );
    let response = put(
        &r,
        &url,
        &format!("bytes {}-{}/{size}", 5 * MIB, size - 1),
        video[5 * MIB as usize..].to_vec(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body = r.status(&publish_id).await;
    assert_eq!(body["data"]["status"], "PROCESSING_UPLOAD");
    assert_eq!(body["data"]["uploaded_bytes"], size);
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "PUBLISH_COMPLETE"
    );
    let posts = r.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, publish_id);
    assert_eq!(posts[0].account, "raw");
    assert_eq!(
        posts[0].media[0].sha256,
        fanout_testkit::ReceivedMedia::of(&video).sha256
    );
}

#[tokio::test]
async fn a_png_photo_fails_with_file_format_check_failed() {
    let r = raw().await;
    let media = MediaServer::spawn().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = std::sync::Arc::new(
        MediaFile::from_bytes(dir.path(), png_bytes(4000), None)
            .await
            .unwrap(),
    );
    let hosted = media.host().host(png).await.unwrap();
    let (status, body) = r
        .post(
            "v2/post/publish/content/init/",
            json!({"media_type": "PHOTO", "post_mode": "DIRECT_POST",
                   "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
                   "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                                   "photo_images": [hosted.url().as_str()]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let publish_id = body["data"]["publish_id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..200 {
        last = r.status(&publish_id).await;
        if last["data"]["status"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(last["data"]["status"], "FAILED", "{last}");
    assert_eq!(last["data"]["fail_reason"], "file_format_check_failed");
    assert_eq!(code(&last), "ok");
    assert!(r.fake.published().is_empty());
}

#[tokio::test]
async fn photo_posts_are_checked_for_count_title_and_cover() {
    let r = raw().await;
    let url = "http://127.0.0.1:9/media/x.jpg";
    let body = |title: &str, images: Vec<&str>, cover: u64| {
        json!({"media_type": "PHOTO", "post_mode": "DIRECT_POST",
               "post_info": {"title": title, "privacy_level": "SELF_ONLY"},
               "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": cover, "photo_images": images}})
    };
    for (b, why) in [
        (body(&"x".repeat(91), vec![url], 0), "title over 90"),
        (body("t", vec![url; 36], 0), "36 photos"),
        (body("t", vec![], 0), "no photo"),
        (body("t", vec![url], 1), "cover outside"),
        (body("t", vec!["ftp://x/y.jpg"], 0), "not http"),
    ] {
        let (status, answer) = r.post("v2/post/publish/content/init/", b).await;
        assert_eq!(
            (status, code(&answer)),
            (400, "invalid_params"),
            "{why}: {answer}"
        );
    }
}

#[tokio::test]
async fn unknown_publish_ids_and_paths_answer_tiktok_errors() {
    let r = raw().await;
    let (status, body) = r
        .post(
            "v2/post/publish/status/fetch/",
            json!({"publish_id": "v_pub_file~nope"}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_params"));
    let (status, body) = r.post("v2/post/publish/nothing/", json!({})).await;
    assert_eq!((status, code(&body)), (404, "invalid_params"));
}

#[tokio::test]
async fn pull_from_url_video_is_unverified() {
    let r = raw().await;
    let (status, body) = r
        .post(
            "v2/post/publish/video/init/",
            json!({"post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
                   "source_info": {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.1:9/v.mp4"}}),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "url_ownership_unverified"));
}

#[tokio::test]
async fn branded_content_cannot_be_private_and_options_are_typed() {
    let r = raw().await;
    let source = json!({"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10,
                        "total_chunk_count": 1});
    let (status, body) = r
        .post(
            "v2/post/publish/video/init/",
            json!({"post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": true},
                   "source_info": source}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_params"));
    assert_eq!(
        body["error"]["message"],
        "Branded content (brand_content_toggle) cannot be posted with privacy_level SELF_ONLY."
    );
    for (name, value) in [
        ("video_cover_timestamp_ms", json!("1500")),
        ("is_aigc", json!("true")),
        ("disable_duet", json!(1)),
    ] {
        let (status, body) = r
            .post(
                "v2/post/publish/video/init/",
                json!({"post_info": {"privacy_level": "SELF_ONLY", name: value},
                       "source_info": source}),
            )
            .await;
        assert_eq!((status, code(&body)), (400, "invalid_params"), "{name}");
        assert_eq!(
            body["error"]["message"],
            format!("post_info.{name} has the wrong type."),
        );
    }
    assert!(r.fake.init_requests().is_empty());
    // The same toggle with a public level is accepted and its body kept.
    let accepted = json!({"post_info": {"privacy_level": "PUBLIC_TO_EVERYONE",
                                        "brand_content_toggle": true},
                          "source_info": source});
    let (status, _) = r
        .post("v2/post/publish/video/init/", accepted.clone())
        .await;
    assert_eq!(status, 200);
    assert_eq!(r.fake.init_requests(), vec![accepted]);
}

#[tokio::test]
async fn inbox_drafts_are_recorded_as_drafts_not_posts() {
    let r = raw().await;
    let bytes = mp4_bytes(1000);
    let (status, body) = r
        .post(
            "v2/post/publish/inbox/video/init/",
            json!({"source_info": {"source": "FILE_UPLOAD", "video_size": 1000,
                                   "chunk_size": 1000, "total_chunk_count": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let url = body["data"]["upload_url"].as_str().unwrap().to_string();
    let publish_id = body["data"]["publish_id"].as_str().unwrap().to_string();
    let response = put(&r, &url, "bytes 0-999/1000", bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "PROCESSING_UPLOAD"
    );
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "SEND_TO_USER_INBOX"
    );
    assert!(r.fake.published().is_empty());
    let drafts = r.fake.drafts();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].id, publish_id);
    assert_eq!(drafts[0].account, "raw");
    assert_eq!(drafts[0].media[0].size, 1000);
}

#[tokio::test]
async fn a_processing_delay_keeps_the_post_processing() {
    let r = raw().await;
    r.fake.set_processing_delay(Duration::from_millis(300));
    let (_, body) = r.init(1000, 1000, 1).await;
    let url = body["data"]["upload_url"].as_str().unwrap().to_string();
    let publish_id = body["data"]["publish_id"].as_str().unwrap().to_string();
    let response = put(&r, &url, "bytes 0-999/1000", mp4_bytes(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    for _ in 0..3 {
        assert_eq!(
            r.status(&publish_id).await["data"]["status"],
            "PROCESSING_UPLOAD"
        );
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "PROCESSING_UPLOAD"
    );
    assert_eq!(
        r.status(&publish_id).await["data"]["status"],
        "PUBLISH_COMPLETE"
    );
}
