//! The media route (headers, byte ranges, `HEAD`, expired links), mounting under a
//! prefix, and what unknown routes and methods answer.

use std::sync::Arc;

use fanout_core::MediaFile;
use serde_json::json;

use super::harness::*;
use super::Serve;

fn fail(message: &str) -> serde_json::Value {
    json!({"success": false, "message": message})
}

/// An unknown media token is a JSON 404.
pub async fn unknown_media_token_is_a_json_404(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (status, _, json) =
        json_answer(h.http.raw("GET", "/media/deadbeef", &[], Vec::new()).await).await;
    assert_eq!(status, 404);
    assert_eq!(json, fail("Media not found or link expired"));
}

/// A hosted file is served whole (200) or by one byte range (206, `Content-Range`),
/// always with `Content-Length`, its type, `Cache-Control: no-store` and
/// `Accept-Ranges: bytes`; `HEAD` answers the same headers without a body; a range past
/// the end is 416; a released link is a JSON 404.
pub async fn media_is_served_whole_by_range_and_by_head(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let bytes = mp4(100_000);
    let file = MediaFile::from_bytes(h.spool.path(), bytes.clone(), Some("v.mp4".into()))
        .await
        .unwrap();
    let hosted = h.engine.media_host().host(Arc::new(file)).await.unwrap();
    let url = hosted.url().to_string();
    let prefix = format!("{}/media/", h.http.base());
    assert!(url.starts_with(&prefix), "{url}");
    let path = &url[h.http.base().len()..];

    let check = |response: &reqwest::Response, status: u16, len: usize, range: Option<&str>| {
        let headers = response.headers();
        assert_eq!(response.status().as_u16(), status, "{headers:?}");
        assert_eq!(headers["content-length"], len.to_string().as_str());
        assert_eq!(headers["content-type"], "video/mp4");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["accept-ranges"], "bytes");
        assert!(headers.get("transfer-encoding").is_none(), "{headers:?}");
        assert_eq!(
            headers.get("content-range").map(|v| v.to_str().unwrap()),
            range
        );
    };
    let whole = h.http.raw("GET", path, &[], Vec::new()).await;
    check(&whole, 200, 100_000, None);
    assert_eq!(whole.bytes().await.unwrap(), bytes);

    for (range, from, to) in [
        ("bytes=100-199", 100, 200),
        ("bytes=99990-", 99_990, 100_000),
        ("bytes=-10", 99_990, 100_000),
        ("bytes=99000-200000", 99_000, 100_000),
    ] {
        let part = h
            .http
            .raw("GET", path, &[("range", range)], Vec::new())
            .await;
        let content_range = format!("bytes {from}-{}/100000", to - 1);
        check(&part, 206, to - from, Some(&content_range));
        assert_eq!(part.bytes().await.unwrap(), bytes[from..to], "{range}");
    }
    // Several ranges, or another unit: the header is ignored.
    for range in ["bytes=0-1,5-6", "items=0-1"] {
        let ignored = h
            .http
            .raw("GET", path, &[("range", range)], Vec::new())
            .await;
        check(&ignored, 200, 100_000, None);
        assert_eq!(ignored.bytes().await.unwrap().len(), 100_000);
    }
    let past = h
        .http
        .raw("GET", path, &[("range", "bytes=100000-")], Vec::new())
        .await;
    assert_eq!(past.headers()["content-range"], "bytes */100000");
    assert_eq!(
        json_answer(past).await.2,
        fail("Range not satisfiable: the file has 100000 bytes")
    );

    let head = h.http.raw("HEAD", path, &[], Vec::new()).await;
    check(&head, 200, 100_000, None);
    assert!(head.bytes().await.unwrap().is_empty());
    let head = h
        .http
        .raw("HEAD", path, &[("range", "bytes=0-9")], Vec::new())
        .await;
    check(&head, 206, 10, Some("bytes 0-9/100000"));
    assert!(head.bytes().await.unwrap().is_empty());

    drop(hosted);
    let (status, _, json) = json_answer(h.http.raw("GET", path, &[], Vec::new()).await).await;
    assert_eq!(
        (status, json),
        (404, fail("Media not found or link expired"))
    );
}

/// Mounted under `/fanout/v1` (with `public_base_url` ending there), everything works
/// through the prefix — uploads whose platform pulls the media through the prefixed
/// media route, status, history, connect — and nothing is served at the root.
pub async fn everything_works_under_a_prefix(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            prefix: "/fanout/v1",
            alpha_token: "pull",
            ..Setup::default()
        },
    )
    .await;
    assert!(h.http.base().ends_with("/fanout/v1"), "{}", h.http.base());
    let video = mp4(300_000);
    let sha = crate::ReceivedMedia::of(&video).sha256;
    let (ct, body) = multipart(
        &[
            ("user", "main"),
            ("title", "Hello"),
            ("platform[]", "alpha"),
            ("request_id", "prefixed-1"),
        ],
        &[("video", "clip.mp4", video)],
    );
    let (status, json) = send(&h.http, "/api/upload", Some(&apikey()), Some(&ct), body).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["results"]["alpha"]["pulled_sha256"], json!([sha]));

    let photos = [
        crate::media::jpeg_bytes(3000, 1),
        crate::media::jpeg_bytes(4000, 2),
    ];
    let shas: Vec<String> = photos
        .iter()
        .map(|p| crate::ReceivedMedia::of(p).sha256)
        .collect();
    let (ct, body) = multipart(
        &[("user", "main"), ("title", "Two"), ("platform[]", "alpha")],
        &[
            ("photos[]", "a.jpg", photos[0].clone()),
            ("photos[]", "b.jpg", photos[1].clone()),
        ],
    );
    let (status, json) = send(
        &h.http,
        "/api/upload_photos",
        Some(&apikey()),
        Some(&ct),
        body,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["results"]["alpha"]["pulled_sha256"], json!(shas));

    let done = status_until(&h.http, "prefixed-1", |s| s["status"] == "completed").await;
    assert_eq!(done["results"][0]["post_id"], "alpha-Hello");
    let (status, page) = get(&h.http, "/api/uploadposts/history").await;
    assert_eq!((status, page["total"].clone()), (200, json!(2)));
    let (status, _, json) = json_answer(
        h.http
            .raw(
                "GET",
                "/api/connect/alpha?user=main",
                &[("authorization", &apikey())],
                Vec::new(),
            )
            .await,
    )
    .await;
    // Scripted platforms have no OAuth: the connect route answers, through the prefix.
    assert_eq!(
        (status, json),
        (501, fail("Connecting Alpha accounts is not supported"))
    );
    let (status, _, json) =
        json_answer(h.http.raw("GET", "/media/deadbeef", &[], Vec::new()).await).await;
    assert_eq!(
        (status, json),
        (404, fail("Media not found or link expired"))
    );

    let root = Http::new(h.http.base().trim_end_matches("/fanout/v1"));
    for path in ["/api/uploadposts/history", "/media/deadbeef"] {
        let response = root
            .raw("GET", path, &[("authorization", &apikey())], Vec::new())
            .await;
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }
}

/// An unknown path is 404 and a known path with another method 405; `HEAD` of a `GET`
/// route answers its headers (with the full `Content-Length`) and no body.
pub async fn unknown_routes_and_methods(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let key = apikey();
    for (method, path, status) in [
        ("GET", "/api/nope", 404),
        ("GET", "/api/uploadposts/schedule/x/y", 404),
        ("GET", "/api/upload", 405),
        ("PUT", "/api/uploadposts/schedule/x", 405),
        ("POST", "/api/uploadposts/status", 405),
        ("DELETE", "/media/deadbeef", 405),
    ] {
        let response = h
            .http
            .raw(method, path, &[("authorization", &key)], Vec::new())
            .await;
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
    }
    let get = h
        .http
        .raw(
            "GET",
            "/api/uploadposts/schedule",
            &[("authorization", &key)],
            Vec::new(),
        )
        .await;
    let expected = get.bytes().await.unwrap().len();
    let head = h
        .http
        .raw(
            "HEAD",
            "/api/uploadposts/schedule",
            &[("authorization", &key)],
            Vec::new(),
        )
        .await;
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert_eq!(
        head.headers()["content-length"],
        expected.to_string().as_str()
    );
    assert!(head.bytes().await.unwrap().is_empty());
}

/// `GET /healthz` and `GET /readyz` answer load balancers without a key: the process is
/// up, the stores are ready.
pub async fn health_and_readiness_need_no_key(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    assert_eq!(
        get(&h.http, "/healthz").await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        get(&h.http, "/readyz").await,
        (200, json!({"status": "ready"}))
    );
}
