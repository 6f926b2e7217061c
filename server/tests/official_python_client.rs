//! Wire compatibility: the official upload-post Python client (PyPI `upload-post`,
//! pinned in tests/python/requirements.txt) against a running fanout server, with only
//! its BASE_URL changed. `scripts/test` installs the client and sets FANOUT_PYTHON.

mod support;

use std::path::PathBuf;
use std::process::Command;

use axum::routing::get;
use fanout_testkit::media::{jpeg_bytes, mp4_bytes};
use fanout_testkit::{FakePlatform, FakeServer, ReceivedMedia};
use support::*;

fn python() -> String {
    std::env::var("FANOUT_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/official_client.py")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_uploads_a_video_and_photos() {
    let python = python();
    let probe = Command::new(&python)
        .args(["-c", "import upload_post"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "the upload-post Python client is not importable with `{python}`: run the suite with \
         ./scripts/test (it installs tests/python/requirements.txt into .venv-client), or set \
         FANOUT_PYTHON to a python that has `pip install upload-post==2.13.0`"
    );

    let server = start(&config("monthly_uploads = 120", "li-token-acme")).await;
    let dir = tempfile::tempdir().unwrap();
    let video = mp4_bytes(2_000_000);
    let photos = [jpeg_bytes(80_000, 1), jpeg_bytes(60_000, 2)];
    std::fs::write(dir.path().join("clip.mp4"), &video).unwrap();
    std::fs::write(dir.path().join("one.jpg"), &photos[0]).unwrap();
    std::fs::write(dir.path().join("two.jpg"), &photos[1]).unwrap();

    // Photos given as URLs: the client then sends application/x-www-form-urlencoded.
    let (p1, p2) = (photos[0].clone(), photos[1].clone());
    let origin = FakeServer::spawn(
        axum::Router::new()
            .route("/one.jpg", get(move || async move { p1 }))
            .route("/two.jpg", get(move || async move { p2 })),
    )
    .await
    .unwrap();

    let args: Vec<String> = vec![
        script().display().to_string(),
        server.base_url.clone(),
        "ak_acme".into(),
        dir.path().join("clip.mp4").display().to_string(),
        dir.path().join("one.jpg").display().to_string(),
        dir.path().join("two.jpg").display().to_string(),
        format!("{}one.jpg", origin.base_url()),
        format!("{}two.jpg", origin.base_url()),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(&args).output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "the client failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    let out: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for call in ["video", "photos", "photo_urls"] {
        assert_eq!(out[call]["success"], true, "{call}: {out}");
        for platform in ["tiktok", "instagram", "linkedin"] {
            assert_eq!(
                out[call]["results"][platform]["success"], true,
                "{call}/{platform}: {out}"
            );
        }
    }
    assert_eq!(
        out["video"]["results"]["tiktok"]["status"],
        "PUBLISH_SUCCESS"
    );
    assert!(out["video"]["results"]["instagram"]["container_id"].is_string());
    assert!(out["video"]["results"]["linkedin"]["post_id"].is_string());
    assert_eq!(out["photo_urls"]["usage"]["count"], 3);

    // What each platform received is byte-for-byte what the client sent.
    let video_hash = ReceivedMedia::of(&video);
    let photo_hashes: Vec<ReceivedMedia> = photos.iter().map(|p| ReceivedMedia::of(p)).collect();
    let fakes: [&dyn FakePlatform; 3] = [
        &server.sandbox.tiktok,
        &server.sandbox.instagram,
        &server.sandbox.linkedin,
    ];
    for fake in fakes {
        let posts = fake.published();
        assert_eq!(posts.len(), 3, "{}", fake.platform());
        assert_eq!(
            posts[0].media,
            vec![video_hash.clone()],
            "{}",
            fake.platform()
        );
        assert_eq!(posts[1].media, photo_hashes, "{}", fake.platform());
        assert_eq!(posts[2].media, photo_hashes, "{}", fake.platform());
    }
    server.stop().await;
}
