//! The fake's strictness, checked with raw requests: it must refuse what LinkedIn
//! refuses, or the publisher's tests prove nothing.

use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::media::{jpeg_bytes, mp4_bytes};
use fanout_testkit::FakePlatform;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

struct Raw {
    fake: FakeLinkedIn,
    http: reqwest::Client,
    token: String,
    author: String,
}

async fn raw() -> Raw {
    let fake = FakeLinkedIn::spawn().await.expect("the fake starts");
    let conn = fake.connection("acme");
    Raw {
        author: fake.person_urn("acme"),
        token: conn.access_token().to_string(),
        http: reqwest::Client::new(),
        fake,
    }
}

impl Raw {
    fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(
            method,
            self.fake
                .base_url()
                .join(path)
                .expect("the fake answers as documented"),
        )
    }

    fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path)
            .bearer_auth(&self.token)
            .header("LinkedIn-Version", "202510")
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    async fn init_video(&self, size: u64) -> Value {
        let r = self
            .api(Method::POST, "rest/videos?action=initializeUpload")
            .json(
                &json!({"initializeUploadRequest": {"owner": self.author, "fileSizeBytes": size,
                "uploadCaptions": false, "uploadThumbnail": false}}),
            )
            .send()
            .await
            .expect("the fake answers as documented");
        assert_eq!(r.status(), 200);
        r.json::<Value>()
            .await
            .expect("the fake answers as documented")["value"]
            .clone()
    }

    async fn put(&self, url: &str, bytes: Vec<u8>) -> Response {
        self.http
            .put(url)
            .bearer_auth(&self.token)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("the fake answers as documented")
    }

    /// Uploads every part of `bytes` in order; answers the ETags.
    async fn upload_parts(&self, value: &Value, bytes: &[u8]) -> Vec<String> {
        let mut etags = Vec::new();
        for part in value["uploadInstructions"]
            .as_array()
            .expect("the fake answers as documented")
        {
            let (a, b) = (
                part["firstByte"]
                    .as_u64()
                    .expect("the fake answers as documented") as usize,
                part["lastByte"]
                    .as_u64()
                    .expect("the fake answers as documented") as usize,
            );
            let r = self
                .put(
                    part["uploadUrl"]
                        .as_str()
                        .expect("the fake answers as documented"),
                    bytes[a..=b].to_vec(),
                )
                .await;
            assert_eq!(r.status(), 200);
            etags.push(
                r.headers()["etag"]
                    .to_str()
                    .expect("the fake answers as documented")
                    .to_string(),
            );
        }
        etags
    }

    async fn finalize(&self, value: &Value, etags: &[String]) -> Response {
        self.api(Method::POST, "rest/videos?action=finalizeUpload")
            .json(&json!({"finalizeUploadRequest": {"video": value["video"],
                "uploadToken": value["uploadToken"], "uploadedPartIds": etags}}))
            .send()
            .await
            .expect("the fake answers as documented")
    }

    async fn status(&self, urn: &str) -> Value {
        let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
        let r = self
            .api(Method::GET, &format!("rest/videos/{encoded}"))
            .send()
            .await
            .expect("the fake answers as documented");
        assert_eq!(r.status(), 200);
        r.json().await.expect("the fake answers as documented")
    }

    async fn available_video(&self) -> String {
        let bytes = mp4_bytes(100_000);
        let value = self.init_video(bytes.len() as u64).await;
        let etags = self.upload_parts(&value, &bytes).await;
        assert_eq!(self.finalize(&value, &etags).await.status(), 200);
        let urn = value["video"]
            .as_str()
            .expect("the fake answers as documented")
            .to_string();
        assert_eq!(self.status(&urn).await["status"], "PROCESSING");
        assert_eq!(self.status(&urn).await["status"], "AVAILABLE");
        urn
    }

    async fn image(&self, bytes: Vec<u8>) -> (String, Response) {
        let r = self
            .api(Method::POST, "rest/images?action=initializeUpload")
            .json(&json!({"initializeUploadRequest": {"owner": self.author}}))
            .send()
            .await
            .expect("the fake answers as documented");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("the fake answers as documented");
        let put = self
            .put(
                v["value"]["uploadUrl"]
                    .as_str()
                    .expect("the fake answers as documented"),
                bytes,
            )
            .await;
        (
            v["value"]["image"]
                .as_str()
                .expect("the fake answers as documented")
                .to_string(),
            put,
        )
    }

    fn post_body(&self, content: Value) -> Value {
        json!({
            "author": self.author,
            "commentary": "hello",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "content": content,
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        })
    }

    async fn post(&self, body: &Value) -> Response {
        self.api(Method::POST, "rest/posts")
            .json(body)
            .send()
            .await
            .expect("the fake answers as documented")
    }
}

async fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn input_error(r: Response) -> (u16, String, String) {
    let (status, body) = json_of(r).await;
    let e = &body["errorDetails"]["inputErrors"][0];
    (
        status,
        e["input"]["inputPath"]["fieldPath"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        e["description"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn versioning_headers_are_required() {
    let r = raw().await;
    let path = "rest/images?action=initializeUpload";
    let body = json!({"initializeUploadRequest": {"owner": r.author}});
    let resp = r
        .bare(Method::POST, path)
        .bearer_auth(&r.token)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp).await,
        (
            426,
            json!({"status": 426, "serviceErrorCode": 0, "code": "VERSION_MISSING",
                   "message": "A version must be present. Please specify a version by adding the LinkedIn-Version header."})
        )
    );
    let resp = r
        .bare(Method::POST, path)
        .bearer_auth(&r.token)
        .header("LinkedIn-Version", "201901")
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, b) = json_of(resp).await;
    assert_eq!(
        (status, b["code"].clone()),
        (426, json!("NONEXISTENT_VERSION"))
    );
    let resp = r
        .bare(Method::POST, path)
        .bearer_auth(&r.token)
        .header("LinkedIn-Version", "202510")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, b) = json_of(resp).await;
    assert_eq!(
        (status, b["code"].clone()),
        (400, json!("ILLEGAL_ARGUMENT"))
    );
    assert_eq!(r.fake.images_initialized(), 0);
}

#[tokio::test]
async fn tokens_are_checked() {
    let r = raw().await;
    let resp = r
        .bare(Method::GET, "v2/userinfo")
        .bearer_auth("expired-abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp).await,
        (
            401,
            json!({"status": 401, "serviceErrorCode": 65601, "code": "EXPIRED_ACCESS_TOKEN",
                   "message": "The token used in the request has expired"})
        )
    );
    let resp = r.bare(Method::GET, "v2/userinfo").send().await.unwrap();
    let (status, b) = json_of(resp).await;
    assert_eq!(
        (status, b["code"].clone()),
        (401, json!("INVALID_ACCESS_TOKEN"))
    );
    let resp = r
        .bare(Method::GET, "v2/userinfo")
        .bearer_auth("unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = r
        .bare(Method::GET, "v2/userinfo")
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap();
    let (status, b) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(
        format!("urn:li:person:{}", b["sub"].as_str().unwrap()),
        r.author
    );
}

#[tokio::test]
async fn owners_must_be_the_member_or_its_page() {
    let r = raw().await;
    let other = r.fake.person_urn("someone-else");
    let resp = r
        .api(Method::POST, "rest/videos?action=initializeUpload")
        .json(&json!({"initializeUploadRequest": {"owner": other, "fileSizeBytes": 100_000}}))
        .send()
        .await
        .unwrap();
    let (status, b) = json_of(resp).await;
    assert_eq!((status, b["code"].clone()), (403, json!("ACCESS_DENIED")));
    let org = format!("urn:li:organization:{}", r.fake.organization_id("acme"));
    let resp = r
        .api(Method::POST, "rest/images?action=initializeUpload")
        .json(&json!({"initializeUploadRequest": {"owner": org}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn parts_are_4_mib_with_the_remainder_last() {
    let r = raw().await;
    let size = 2 * 4_194_304 + 1000;
    let value = r.init_video(size).await;
    let parts: Vec<(u64, u64)> = value["uploadInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["firstByte"].as_u64().unwrap(),
                p["lastByte"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        vec![
            (0, 4_194_303),
            (4_194_304, 8_388_607),
            (8_388_608, size - 1)
        ]
    );
    let url = value["uploadInstructions"][0]["uploadUrl"]
        .as_str()
        .unwrap();
    assert!(url.starts_with(r.fake.base_url().as_str()), "{url}");
    let too_small = r
        .api(Method::POST, "rest/videos?action=initializeUpload")
        .json(&json!({"initializeUploadRequest": {"owner": r.author, "fileSizeBytes": 1000}}))
        .send()
        .await
        .unwrap();
    let (status, path, _) = input_error(too_small).await;
    assert_eq!(
        (status, path.as_str()),
        (400, "/initializeUploadRequest/fileSizeBytes")
    );
}

#[tokio::test]
async fn parts_must_be_exact_in_order_and_signed() {
    let r = raw().await;
    let bytes = mp4_bytes(4_194_304 + 5000);
    let value = r.init_video(bytes.len() as u64).await;
    let url0 = value["uploadInstructions"][0]["uploadUrl"]
        .as_str()
        .unwrap();
    let url1 = value["uploadInstructions"][1]["uploadUrl"]
        .as_str()
        .unwrap();
    // Out of order.
    let resp = r.put(url1, bytes[4_194_304..].to_vec()).await;
    let (status, b) = json_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(
        b["message"],
        "Part 1 arrived before part 0; upload parts in order"
    );
    // Too short, too long.
    assert_eq!(r.put(url0, bytes[..4_194_303].to_vec()).await.status(), 400);
    assert_eq!(r.put(url0, bytes[..4_194_305].to_vec()).await.status(), 400);
    // A wrong signature.
    let forged = url0.replace("sig=", "sig=0");
    assert_eq!(
        r.put(&forged, bytes[..4_194_304].to_vec()).await.status(),
        403
    );
    // No token.
    let resp = r
        .http
        .put(url0)
        .body(bytes[..4_194_304].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The right bytes; an identical repeat is fine, different bytes are not.
    let ok = r.put(url0, bytes[..4_194_304].to_vec()).await;
    assert_eq!(ok.status(), 200);
    let etag = ok.headers()["etag"].clone();
    let again = r.put(url0, bytes[..4_194_304].to_vec()).await;
    assert_eq!(
        (again.status().as_u16(), again.headers()["etag"].clone()),
        (200, etag)
    );
    let mut other = bytes[..4_194_304].to_vec();
    other[100] ^= 1;
    assert_eq!(r.put(url0, other).await.status(), 400);
}

#[tokio::test]
async fn finalize_needs_every_etag_in_order() {
    let r = raw().await;
    let bytes = mp4_bytes(4_194_304 + 5000);
    let value = r.init_video(bytes.len() as u64).await;
    let first = value["uploadInstructions"][0]["uploadUrl"]
        .as_str()
        .unwrap();
    let e0 = r.put(first, bytes[..4_194_304].to_vec()).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let (status, path, description) =
        input_error(r.finalize(&value, std::slice::from_ref(&e0)).await).await;
    assert_eq!(
        (status, path.as_str(), description.as_str()),
        (
            400,
            "/finalizeUploadRequest/uploadedPartIds",
            "Part 1 of 2 was never uploaded"
        )
    );
    let second = value["uploadInstructions"][1]["uploadUrl"]
        .as_str()
        .unwrap();
    let e1 = r.put(second, bytes[4_194_304..].to_vec()).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        r.finalize(&value, &[e1.clone(), e0.clone()]).await.status(),
        400
    );
    let mut wrong_token = value.clone();
    wrong_token["uploadToken"] = json!("nope");
    assert_eq!(
        r.finalize(&wrong_token, &[e0.clone(), e1.clone()])
            .await
            .status(),
        400
    );
    assert_eq!(r.finalize(&value, &[e0, e1]).await.status(), 200);
}

#[tokio::test]
async fn a_video_urn_in_a_path_must_be_encoded() {
    let r = raw().await;
    let value = r.init_video(100_000).await;
    let urn = value["video"].as_str().unwrap();
    let resp = r
        .api(Method::GET, &format!("rest/videos/{urn}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(r.status(urn).await["status"], "WAITING_UPLOAD");
}

#[tokio::test]
async fn a_non_mp4_fails_processing() {
    let r = raw().await;
    let bytes = jpeg_bytes(100_000, 1);
    let value = r.init_video(bytes.len() as u64).await;
    let etags = r.upload_parts(&value, &bytes).await;
    assert_eq!(r.finalize(&value, &etags).await.status(), 200);
    let urn = value["video"].as_str().unwrap();
    assert_eq!(r.status(urn).await["status"], "PROCESSING");
    assert_eq!(r.status(urn).await["status"], "PROCESSING_FAILED");
}

#[tokio::test]
async fn a_post_needs_an_available_video() {
    let r = raw().await;
    let value = r.init_video(100_000).await;
    let urn = value["video"].as_str().unwrap();
    let (status, path, description) = input_error(
        r.post(&r.post_body(json!({"media": {"title": "t", "id": urn}})))
            .await,
    )
    .await;
    assert_eq!(
        (status, path.as_str(), description.as_str()),
        (
            422,
            "/content/media/id",
            format!("Video {urn} is WAITING_UPLOAD, not AVAILABLE").as_str()
        )
    );
    let ready = r.available_video().await;
    let resp = r
        .post(&r.post_body(json!({"media": {"title": "t", "id": ready}})))
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.headers()["x-restli-id"].to_str().unwrap().to_string();
    assert!(id.starts_with("urn:li:share:"));
    assert!(resp.bytes().await.unwrap().is_empty());
    let published = r.fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].id, id);
    assert_eq!(published[0].account, "acme");
    assert_eq!(published[0].media[0].size, 100_000);
}

#[tokio::test]
async fn images_must_be_jpg_png_or_gif() {
    let r = raw().await;
    let (_, put) = r.image(b"RIFF\0\0\0\0WEBPVP8 ....".to_vec()).await;
    let (status, b) = json_of(put).await;
    assert_eq!(
        (status, b["message"].clone()),
        (
            400,
            json!("Unsupported image format: upload a JPG, PNG or GIF")
        )
    );
    let (_, put) = r.image(b"GIF89a-rest-of-a-gif".to_vec()).await;
    assert_eq!(put.status(), 201);
}

#[tokio::test]
async fn multi_image_takes_2_to_20_uploaded_images() {
    let r = raw().await;
    let (a, _) = r.image(jpeg_bytes(1000, 1)).await;
    let (b, _) = r.image(jpeg_bytes(1000, 2)).await;
    let one = r.post_body(json!({"multiImage": {"images": [{"id": a}]}}));
    let (status, path, _) = input_error(r.post(&one).await).await;
    assert_eq!((status, path.as_str()), (422, "/content/multiImage/images"));
    let many: Vec<Value> = (0..21).map(|_| json!({"id": a})).collect();
    let (status, _, _) = input_error(
        r.post(&r.post_body(json!({"multiImage": {"images": many}})))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    let unknown =
        r.post_body(json!({"multiImage": {"images": [{"id": a}, {"id": "urn:li:image:nope"}]}}));
    let (status, path, description) = input_error(r.post(&unknown).await).await;
    assert_eq!(
        (status, path.as_str(), description.as_str()),
        (
            422,
            "/content/multiImage/images/1/id",
            "urn:li:image:nope does not exist"
        )
    );
    let (never_uploaded, _) = {
        let resp = r
            .api(Method::POST, "rest/images?action=initializeUpload")
            .json(&json!({"initializeUploadRequest": {"owner": r.author}}))
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        (v["value"]["image"].as_str().unwrap().to_string(), ())
    };
    let pending =
        r.post_body(json!({"multiImage": {"images": [{"id": a}, {"id": never_uploaded}]}}));
    assert_eq!(r.post(&pending).await.status(), 422);
    let ok = r.post_body(json!({"multiImage": {"images": [{"id": b}, {"id": a}]}}));
    assert_eq!(r.post(&ok).await.status(), 201);
    let media = &r.fake.published()[0].media;
    assert_eq!(
        media[0],
        fanout_testkit::ReceivedMedia::of(&jpeg_bytes(1000, 2))
    );
    assert_eq!(
        media[1],
        fanout_testkit::ReceivedMedia::of(&jpeg_bytes(1000, 1))
    );
}

#[tokio::test]
async fn post_fields_are_validated() {
    let r = raw().await;
    let (image, _) = r.image(jpeg_bytes(1000, 1)).await;
    let content = json!({"media": {"id": image}});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("visibility", json!("FRIENDS"), "/visibility"),
        ("lifecycleState", json!("DRAFT"), "/lifecycleState"),
        ("commentary", json!("unescaped #hashtag"), "/commentary"),
        ("commentary", json!("x".repeat(3001)), "/commentary"),
    ];
    for (field, value, path) in cases {
        let mut body = r.post_body(content.clone());
        body[field] = value;
        let (status, got, _) = input_error(r.post(&body).await).await;
        assert_eq!((status, got.as_str()), (422, path), "{field}");
    }
    let mut escaped = r.post_body(content.clone());
    escaped["commentary"] = json!(r"escaped \#hashtag \(ok\)");
    assert_eq!(r.post(&escaped).await.status(), 201);
    let mut foreign = r.post_body(content);
    foreign["author"] = json!("urn:li:organization:1");
    let (status, b) = json_of(r.post(&foreign).await).await;
    assert_eq!((status, b["code"].clone()), (403, json!("ACCESS_DENIED")));
    assert_eq!(r.fake.published().len(), 1);
    assert_eq!(r.fake.published()[0].caption, r"escaped \#hashtag \(ok\)");
}

#[tokio::test]
async fn the_daily_member_limit_answers_429() {
    let r = raw().await;
    r.fake.set_daily_post_limit(1);
    let (image, _) = r.image(jpeg_bytes(1000, 1)).await;
    let body = r.post_body(json!({"media": {"id": image}}));
    assert_eq!(r.post(&body).await.status(), 201);
    let (status, b) = json_of(r.post(&body).await).await;
    assert_eq!(
        (status, b["code"].clone()),
        (429, json!("TOO_MANY_REQUESTS"))
    );
}

#[tokio::test]
async fn reshare_flag_and_alt_texts_are_validated() {
    let r = raw().await;
    let (a, _) = r.image(jpeg_bytes(1000, 1)).await;
    let (b, _) = r.image(jpeg_bytes(1000, 2)).await;
    let mut body = r.post_body(json!({"media": {"id": a}}));
    body["isReshareDisabledByAuthor"] = json!("yes");
    let (status, path, _) = input_error(r.post(&body).await).await;
    assert_eq!((status, path.as_str()), (422, "/isReshareDisabledByAuthor"));
    let long = "a".repeat(4087);
    let body = r.post_body(json!({"media": {"id": a, "altText": long}}));
    let (status, path, _) = input_error(r.post(&body).await).await;
    assert_eq!((status, path.as_str()), (422, "/content/media/altText"));
    let body = r.post_body(json!({"multiImage": {"images": [
        {"id": a, "altText": "ok"}, {"id": b, "altText": 5}]}}));
    let (status, path, _) = input_error(r.post(&body).await).await;
    assert_eq!(
        (status, path.as_str()),
        (422, "/content/multiImage/images/1/altText")
    );
    assert!(r.fake.published().is_empty());
    let mut body = r.post_body(json!({"media": {"id": a, "altText": "a".repeat(4086)}}));
    body["isReshareDisabledByAuthor"] = json!(true);
    assert_eq!(r.post(&body).await.status(), 201);
    assert_eq!(
        r.fake.published()[0].options["isReshareDisabledByAuthor"],
        json!(true)
    );
}

fn encoded(urn: &str) -> String {
    urn.replace(':', "%3A")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace(',', "%2C")
}

#[tokio::test]
async fn comments_need_an_existing_post_an_actor_and_text() {
    let r = raw().await;
    let (image, _) = r.image(jpeg_bytes(1000, 1)).await;
    let created = r.post(&r.post_body(json!({"media": {"id": image}}))).await;
    assert_eq!(created.status(), 201);
    let post = created.headers()["x-restli-id"]
        .to_str()
        .expect("the fake answers as documented")
        .to_string();
    let comment = |path: String, body: Value| r.api(Method::POST, &path).json(&body).send();
    let path = format!("rest/socialActions/{}/comments", encoded(&post));
    let good =
        json!({"actor": r.author, "object": post, "message": {"text": r"first \#1 \(yay\)"}});

    // An unencoded urn in the path.
    let bad = comment(format!("rest/socialActions/{post}/comments"), good.clone())
        .await
        .expect("the fake answers");
    assert_eq!(bad.status(), 400);
    // Missing actor, text, wrong object, too long, foreign actor, unknown post.
    let cases: Vec<(Value, &str)> = vec![
        (json!({"message": {"text": "x"}}), "/actor"),
        (
            json!({"actor": r.author, "message": {"text": " "}}),
            "/message/text",
        ),
        (
            json!({"actor": r.author, "object": "urn:li:share:1", "message": {"text": "x"}}),
            "/object",
        ),
        (
            json!({"actor": r.author, "message": {"text": "x".repeat(1251)}}),
            "/message/text",
        ),
        (
            json!({"actor": r.author, "message": {"text": "unescaped #tag"}}),
            "/message/text",
        ),
    ];
    for (body, want) in cases {
        let (status, got, _) =
            input_error(comment(path.clone(), body).await.expect("the fake answers")).await;
        assert_eq!((status, got.as_str()), (422, want));
    }
    let foreign = json!({"actor": "urn:li:organization:1", "message": {"text": "x"}});
    let (status, b) = json_of(
        comment(path.clone(), foreign)
            .await
            .expect("the fake answers"),
    )
    .await;
    assert_eq!((status, b["code"].clone()), (403, json!("ACCESS_DENIED")));
    let unknown = format!("rest/socialActions/{}/comments", encoded("urn:li:share:42"));
    let (status, _) = json_of(
        comment(
            unknown,
            json!({"actor": r.author, "message": {"text": "x"}}),
        )
        .await
        .expect("the fake answers"),
    )
    .await;
    assert_eq!(status, 404);
    assert!(r.fake.comments().is_empty());

    let ok = comment(path, good).await.expect("the fake answers");
    assert_eq!(ok.status(), 201);
    let id = ok.headers()["x-restli-id"]
        .to_str()
        .expect("the fake answers as documented")
        .to_string();
    let comments = r.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].id, id);
    assert!(id.starts_with(&format!("urn:li:comment:({post},")), "{id}");
    assert_eq!(comments[0].post_id, post);
    assert_eq!(comments[0].actor, r.author);
    assert_eq!(comments[0].text, r"first \#1 \(yay\)");
}

#[tokio::test]
async fn a_processing_time_holds_the_video_in_processing() {
    let r = raw().await;
    r.fake
        .set_processing_time(Some(std::time::Duration::from_millis(300)));
    let bytes = mp4_bytes(200_000);
    let value = r.init_video(bytes.len() as u64).await;
    let etags = r.upload_parts(&value, &bytes).await;
    assert_eq!(r.finalize(&value, &etags).await.status(), 200);
    let urn = value["video"].as_str().expect("a urn");
    for _ in 0..5 {
        assert_eq!(r.status(urn).await["status"], "PROCESSING");
    }
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert_eq!(r.status(urn).await["status"], "AVAILABLE");
}

#[tokio::test]
async fn the_author_finder_lists_posts_newest_first_to_those_who_may_read_them() {
    let r = raw().await;
    let (first, _) = r.image(jpeg_bytes(1000, 1)).await;
    let (second, _) = r.image(jpeg_bytes(1000, 2)).await;
    let mut ids = Vec::new();
    for image in [&first, &second] {
        let created = r.post(&r.post_body(json!({"media": {"id": image}}))).await;
        assert_eq!(created.status(), 201);
        ids.push(
            created.headers()["x-restli-id"]
                .to_str()
                .expect("the fake answers as documented")
                .to_string(),
        );
    }
    let find = |query: String| {
        r.api(Method::GET, &format!("rest/posts?{query}"))
            .header("X-RestLi-Method", "FINDER")
            .send()
    };
    let me = encoded(&r.author);

    // Reading a member's posts needs r_member_social, which apps lack by default.
    let (status, body) = json_of(find(format!("q=author&author={me}")).await.unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "ACCESS_DENIED");

    r.fake.set_member_post_reads(true);
    let (status, body) = json_of(
        find(format!("q=author&author={me}&count=10&sortBy=CREATED"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["paging"],
        json!({"start": 0, "count": 10, "links": [], "total": 2})
    );
    let elements = body["elements"].as_array().expect("a list");
    assert_eq!(elements.len(), 2);
    assert_eq!(elements[0]["id"], json!(ids[1]));
    assert_eq!(elements[0]["content"]["media"]["id"], json!(second));
    assert_eq!(elements[0]["author"], json!(r.author));
    assert_eq!(elements[1]["id"], json!(ids[0]));
    let (_, body) = json_of(
        find(format!("q=author&author={me}&count=1&start=1"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["elements"][0]["id"], json!(ids[0]));
    assert_eq!(body["elements"].as_array().map(Vec::len), Some(1));

    // Someone else's posts, a raw urn, a missing finder, a bad count.
    let other = encoded(&r.fake.person_urn("someone else"));
    let cases = [
        (format!("q=author&author={other}"), 403),
        (format!("q=author&author={}", r.author), 400),
        (format!("author={me}"), 400),
        (format!("q=author&author={me}&count=101"), 400),
        (format!("q=author&author={me}&sortBy=NEWEST"), 400),
        ("q=author".to_string(), 400),
    ];
    for (query, want) in cases {
        let (status, _) = json_of(find(query.clone()).await.unwrap()).await;
        assert_eq!(status, want, "{query}");
    }

    // A page the member administers is listed (r_organization_social).
    r.fake.set_member_post_reads(false);
    let org = encoded(&format!(
        "urn:li:organization:{}",
        r.fake.organization_id("acme")
    ));
    let (status, body) = json_of(find(format!("q=author&author={org}")).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["elements"], json!([]));
}
