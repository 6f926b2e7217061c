//! The fake refuses what Instagram refuses: raw requests, exact answers.

use fanout_core::MediaFile;
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::media::{jpeg_bytes, mp4_bytes, png_bytes};
use fanout_testkit::{FakePlatform, MediaServer};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use std::sync::Arc;

struct Raw {
    fake: FakeInstagram,
    http: Client,
    token: String,
    user: String,
}

async fn raw() -> Raw {
    let fake = FakeInstagram::spawn().await.expect("the fake starts");
    let connection = fake.connection("raw");
    Raw {
        token: connection.access_token().to_string(),
        user: connection
            .attribute("user_id")
            .expect("a user id")
            .to_string(),
        fake,
        http: Client::new(),
    }
}

impl Raw {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fake.base_url())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .form(form)
            .send()
            .await
            .expect("the fake answers")
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .expect("the fake answers")
    }

    async fn publish(&self, id: &str) -> Response {
        self.post(
            &format!("{}/media_publish", self.user),
            &[("creation_id", id)],
        )
        .await
    }

    async fn status_code(&self, id: &str) -> String {
        let body = json_of(self.get(id, &[("fields", "status_code")]).await).await;
        body["status_code"]
            .as_str()
            .expect("a status code")
            .to_string()
    }

    async fn video_container(&self) -> (String, String) {
        let body = json_of(
            self.post(
                &format!("{}/media", self.user),
                &[("media_type", "REELS"), ("upload_type", "resumable")],
            )
            .await,
        )
        .await;
        (
            body["id"].as_str().expect("an id").to_string(),
            body["uri"].as_str().expect("a uri").to_string(),
        )
    }

    async fn upload(
        &self,
        uri: &str,
        auth: &str,
        offset: u64,
        size: u64,
        body: Vec<u8>,
    ) -> Response {
        self.http
            .post(uri)
            .header("authorization", auth)
            .header("offset", offset.to_string())
            .header("file_size", size.to_string())
            .body(body)
            .send()
            .await
            .expect("the fake answers")
    }
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("a JSON answer")
}

async fn error_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = json_of(response).await;
    (status, body["error"].clone())
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let r = raw().await;
    let path = format!("{}/content_publishing_limit", r.user);
    let none = r.http.get(r.url(&path)).send().await.unwrap();
    let (status, error) = error_of(none).await;
    assert_eq!((status, error["code"].clone()), (400, json!(2500)));

    let unknown = r
        .http
        .get(r.url(&path))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(unknown).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], json!(190));
    assert_eq!(error["type"], json!("OAuthException"));

    let expired = r
        .http
        .get(r.url(&path))
        .bearer_auth("expired-x")
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(expired).await;
    assert_eq!(status, 400);
    assert_eq!(
        (error["code"].clone(), error["error_subcode"].clone()),
        (json!(190), json!(463))
    );

    // Another account's token cannot use this IG user.
    let other = r.fake.connection("other");
    let foreign = r
        .http
        .get(r.url(&path))
        .bearer_auth(other.access_token())
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(foreign).await;
    assert_eq!(status, 400);
    assert_eq!(
        (error["code"].clone(), error["error_subcode"].clone()),
        (json!(100), json!(33))
    );

    // The access_token parameter works as well as the header.
    let by_param = r
        .http
        .get(r.url(&path))
        .query(&[
            ("access_token", r.token.as_str()),
            ("fields", "quota_usage,config"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(by_param.status(), 200);
    assert_eq!(
        json_of(by_param).await,
        json!({"data": [{"quota_usage": 0, "config": {"quota_total": 100, "quota_duration": 86400}}]})
    );
}

#[tokio::test]
async fn me_names_the_ig_user() {
    let r = raw().await;
    let body = json_of(r.get("me", &[("fields", "user_id,username")]).await).await;
    assert_eq!(body["user_id"], json!(r.user));
    assert_eq!(body["username"], json!("raw"));
}

#[tokio::test]
async fn a_video_container_goes_through_its_life_cycle_once() {
    let r = raw().await;
    let (id, uri) = r.video_container().await;
    assert_eq!(
        uri,
        format!("{}ig-api-upload/v21.0/{id}", r.fake.upload_base_url())
    );
    assert_eq!(r.status_code(&id).await, "IN_PROGRESS");

    let (status, error) = error_of(r.publish(&id).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        (error["code"].clone(), error["error_subcode"].clone()),
        (json!(9007), json!(2207027))
    );

    let bytes = mp4_bytes(10_000);
    let oauth = format!("OAuth {}", r.token);
    let bearer = format!("Bearer {}", r.token);
    // Wrong scheme, wrong offset, short body, changed size: all refused.
    assert_eq!(
        r.upload(&uri, &bearer, 0, 10_000, bytes.clone())
            .await
            .status(),
        401
    );
    assert_eq!(
        r.upload(&uri, &oauth, 5, 10_000, bytes[5..].to_vec())
            .await
            .status(),
        400
    );
    let short = r
        .upload(&uri, &oauth, 0, 10_000, bytes[..4000].to_vec())
        .await;
    assert_eq!(short.status(), 400);
    assert_eq!(
        json_of(short).await["debug_info"]["retriable"],
        json!(false)
    );
    // The short body's bytes were kept: resume from 4000.
    let progress = r
        .http
        .get(&uri)
        .header("authorization", &oauth)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(progress).await["file_offset"], json!(4000));
    assert_eq!(
        r.upload(&uri, &oauth, 4000, 20_000, bytes[4000..].to_vec())
            .await
            .status(),
        400
    );
    let too_long = r.upload(&uri, &oauth, 4000, 10_000, bytes.clone()).await;
    assert_eq!(too_long.status(), 400);
    let done = r
        .upload(&uri, &oauth, 4000, 10_000, bytes[4000..].to_vec())
        .await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        json_of(done).await,
        json!({"success": true, "message": "Upload successful."})
    );

    // IN_PROGRESS at least once after the upload, then FINISHED.
    assert_eq!(r.status_code(&id).await, "IN_PROGRESS");
    assert_eq!(r.status_code(&id).await, "FINISHED");
    let published = json_of(r.publish(&id).await).await;
    let media_id = published["id"].as_str().unwrap().to_string();
    assert_eq!(r.status_code(&id).await, "PUBLISHED");
    let (status, error) = error_of(r.publish(&id).await).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));

    let posts = r.fake.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, media_id);
    assert_eq!(posts[0].account, "raw");
    let whole = fanout_testkit::ReceivedMedia::of(&bytes);
    assert_eq!(posts[0].media, vec![whole]);
}

#[tokio::test]
async fn containers_of_other_accounts_and_unknown_fields_are_refused() {
    let r = raw().await;
    let (id, _) = r.video_container().await;
    let other = r.fake.connection("other");
    let foreign = r
        .http
        .get(r.url(&id))
        .bearer_auth(other.access_token())
        .query(&[("fields", "status_code")])
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(foreign).await;
    assert_eq!(
        (
            status,
            error["code"].clone(),
            error["error_subcode"].clone()
        ),
        (400, json!(100), json!(33))
    );
    let (status, error) = error_of(r.get("1790000", &[("fields", "status_code")]).await).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
    let (status, error) = error_of(r.get(&id, &[("fields", "status_code,owner")]).await).await;
    assert_eq!((status, error["code"].clone()), (400, json!(100)));
    assert_eq!(
        error["message"],
        json!("(#100) Tried accessing nonexisting field (owner)")
    );
}

#[tokio::test]
async fn photos_are_pulled_checked_and_carousels_are_strict() {
    let r = raw().await;
    let media = MediaServer::spawn().await.unwrap();
    let host = media.host();
    let dir = tempfile::tempdir().unwrap();
    let jpeg = |seed: u8| {
        let dir = dir.path().to_path_buf();
        async move {
            Arc::new(
                MediaFile::from_bytes(&dir, jpeg_bytes(20_000, seed), None)
                    .await
                    .unwrap(),
            )
        }
    };
    let media_path = format!("{}/media", r.user);

    let png = Arc::new(
        MediaFile::from_bytes(dir.path(), png_bytes(5000), None)
            .await
            .unwrap(),
    );
    let png_link = host.host(png).await.unwrap();
    let (status, error) = error_of(
        r.post(&media_path, &[("image_url", png_link.url().as_str())])
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["error_subcode"], json!(2207052));

    let gone = format!("{}missing.jpg", png_link.url());
    let (_, error) = error_of(r.post(&media_path, &[("image_url", gone.as_str())]).await).await;
    assert_eq!(error["error_subcode"], json!(2207052));

    let mut links = Vec::new();
    let mut items = Vec::new();
    for seed in 1..=3 {
        let link = host.host(jpeg(seed).await).await.unwrap();
        let body = json_of(
            r.post(
                &media_path,
                &[
                    ("image_url", link.url().as_str()),
                    ("is_carousel_item", "true"),
                ],
            )
            .await,
        )
        .await;
        items.push(body["id"].as_str().unwrap().to_string());
        links.push(link);
    }
    let single = host.host(jpeg(9).await).await.unwrap();
    let lone = json_of(
        r.post(&media_path, &[("image_url", single.url().as_str())])
            .await,
    )
    .await;
    let lone = lone["id"].as_str().unwrap().to_string();

    let carousel = |children: String| {
        let path = media_path.clone();
        let r = &r;
        async move {
            r.post(
                &path,
                &[("media_type", "CAROUSEL"), ("children", children.as_str())],
            )
            .await
        }
    };
    // Children not yet finished.
    let (_, error) = error_of(carousel(items.join(",")).await).await;
    assert_eq!(error["code"], json!(9007));
    for id in items.iter().chain([&lone]) {
        assert_eq!(r.status_code(id).await, "IN_PROGRESS");
        assert_eq!(r.status_code(id).await, "FINISHED");
    }
    let (_, error) = error_of(carousel(items[0].clone()).await).await;
    assert_eq!(error["code"], json!(100), "one child is too few");
    let (_, error) = error_of(carousel(format!("{},{lone}", items[0])).await).await;
    assert_eq!(error["code"], json!(100), "a child must be a carousel item");
    let long = "x".repeat(2201);
    let (_, error) = error_of(
        r.post(
            &media_path,
            &[
                ("media_type", "CAROUSEL"),
                ("children", items.join(",").as_str()),
                ("caption", long.as_str()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        error["message"],
        json!("(#100) Param caption must be at most 2200 characters long.")
    );
    let made = json_of(carousel(items.join(",")).await).await;
    let id = made["id"].as_str().unwrap().to_string();
    // A carousel item cannot be published on its own.
    let publish_path = format!("{}/media_publish", r.user);
    let (_, error) = error_of(
        r.post(&publish_path, &[("creation_id", items[0].as_str())])
            .await,
    )
    .await;
    assert_eq!(error["code"], json!(100));
    assert_eq!(r.status_code(&id).await, "IN_PROGRESS");
    assert_eq!(r.status_code(&id).await, "FINISHED");
    r.fake.set_publishing_quota(0);
    let (_, error) = error_of(r.post(&publish_path, &[("creation_id", id.as_str())]).await).await;
    assert_eq!(
        (error["code"].clone(), error["error_subcode"].clone()),
        (json!(9), json!(2207042))
    );
    r.fake.set_publishing_quota(5);
    let published = r.post(&publish_path, &[("creation_id", id.as_str())]).await;
    assert_eq!(published.status(), 200);
    let posts = r.fake.published();
    let want: Vec<_> = (1..=3)
        .map(|s| fanout_testkit::ReceivedMedia::of(&jpeg_bytes(20_000, s)))
        .collect();
    assert_eq!(posts[0].media, want);
    drop(links);
}
