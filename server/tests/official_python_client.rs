//! Wire compatibility: the official upload-post Python client (PyPI `upload-post`,
//! pinned in tests/python/requirements.txt) against a running fanout server, with only
//! its BASE_URL changed. `scripts/test` installs the client and sets FANOUT_PYTHON.
//!
//! The script (tests/python/official_client.py) runs in modes: `uploads` (a video and
//! photos, as files and as URLs), `jobs` (an async upload followed with `get_status`,
//! a scheduled upload listed, edited and cancelled, the history) and `retry` (an async
//! upload with one platform failing, then `retry_post`). It prints every answer as
//! JSON; the assertions are here. Each test runs twice: the server served by axum and
//! by actix-web.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use axum::routing::get;
use fanout_testkit::media::{jpeg_bytes, mp4_bytes};
use fanout_testkit::{FakePlatform, FakeServer, Fault, PlatformError, ReceivedMedia};
use serde_json::{json, Value};
use support::*;

fn python() -> String {
    std::env::var("FANOUT_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/official_client.py")
}

/// The python to run the script with, after checking it has the client.
fn python_with_client() -> String {
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
    python
}

/// Runs the script in `mode` against `base_url` (API key `ak_acme`) and parses the JSON
/// it prints.
async fn run_script(python: &str, mode: &str, base_url: &str, rest: &[String]) -> Value {
    let mut args: Vec<String> = vec![
        script().display().to_string(),
        mode.into(),
        base_url.into(),
        "ak_acme".into(),
    ];
    args.extend_from_slice(rest);
    let python = python.to_string();
    let output = tokio::task::spawn_blocking(move || Command::new(python).args(&args).output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "the client failed ({mode}): {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// One test per host framework, each running `body(host)`.
macro_rules! on_both_hosts {
    ($body:ident: $axum:ident, $actix:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $axum() {
            $body(Host::Axum).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $actix() {
            $body(Host::Actix).await;
        }
    };
}

on_both_hosts!(uploads_a_video_and_photos:
    the_official_python_client_uploads_a_video_and_photos,
    the_official_python_client_uploads_a_video_and_photos_through_actix);

on_both_hosts!(follows_async_scheduled_and_retried_jobs:
    the_official_python_client_follows_async_scheduled_and_retried_jobs,
    the_official_python_client_follows_async_scheduled_and_retried_jobs_through_actix);

async fn uploads_a_video_and_photos(host: Host) {
    let python = python_with_client();
    let server = start_on(host, &config("monthly_uploads = 120", "li-token-acme")).await;
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

    let out = run_script(
        &python,
        "uploads",
        &server.base_url,
        &[
            dir.path().join("clip.mp4").display().to_string(),
            dir.path().join("one.jpg").display().to_string(),
            dir.path().join("two.jpg").display().to_string(),
            format!("{}one.jpg", origin.base_url()),
            format!("{}two.jpg", origin.base_url()),
        ],
    )
    .await;
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

/// What an async upload, and a retry, answer.
const BACKGROUND: &str = "Upload initiated successfully in background.";
/// LinkedIn's failure for an access token it refuses as expired (no refresh token).
const LINKEDIN_RECONNECT: &str = "Your LinkedIn session has expired. Please reconnect your \
                                  LinkedIn account. Go to Manage Users, remove the account, \
                                  and connect it again.";
/// The fields of `GET /api/uploadposts/status`, sorted.
const STATUS_FIELDS: [&str; 7] = [
    "completed",
    "job_id",
    "last_update",
    "request_id",
    "results",
    "status",
    "total",
];
/// The fields of one `GET /api/uploadposts/history` item, sorted.
const HISTORY_FIELDS: [&str; 15] = [
    "error_message",
    "is_async",
    "job_id",
    "media_size_bytes",
    "media_type",
    "platform",
    "platform_post_id",
    "post_title",
    "post_url",
    "profile_username",
    "request_id",
    "request_total_platforms",
    "status",
    "success",
    "upload_timestamp",
];

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

async fn follows_async_scheduled_and_retried_jobs(host: Host) {
    let python = python_with_client();
    // Job media in memory: nothing is left on disk by this test.
    let toml = format!(
        "{}\n[media]\nkind = \"memory\"\n",
        config("monthly_uploads = 120", "li-token-acme")
    );
    let server = start_on(host, &toml).await;
    let dir = tempfile::tempdir().unwrap();
    let video = mp4_bytes(300_000);
    std::fs::write(dir.path().join("clip.mp4"), &video).unwrap();
    let clip = [dir.path().join("clip.mp4").display().to_string()];
    let video_len = video.len() as u64;

    let out = run_script(&python, "jobs", &server.base_url, &clip).await;

    // async_upload=True answers at once; get_status follows the job until it completed.
    let request_id = text(&out["async"]["request_id"]).to_string();
    assert_eq!(
        out["async"],
        json!({"success": true, "message": BACKGROUND, "request_id": request_id, "total_platforms": 3})
    );
    let status = &out["async_status"];
    assert_eq!(keys(status), STATUS_FIELDS, "{status}");
    let async_job = text(&status["job_id"]).to_string();
    assert_eq!(status["request_id"], request_id.as_str());
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["completed"], 3);
    assert_eq!(status["total"], 3);
    assert!(text(&status["last_update"]).ends_with('Z'), "{status}");
    let results = status["results"].as_array().unwrap();
    let platforms: Vec<&str> = results.iter().map(|r| text(&r["platform"])).collect();
    assert_eq!(platforms, ["tiktok", "instagram", "linkedin"]);
    for item in results {
        assert_eq!(item["success"], true, "{item}");
        assert!(item["upload_timestamp"].is_string(), "{item}");
    }
    assert_eq!(
        keys(&results[0]),
        [
            "platform",
            "platform_status",
            "publish_id",
            "status",
            "success",
            "upload_timestamp"
        ]
    );
    assert_eq!(
        keys(&results[1]),
        [
            "container_id",
            "media_id",
            "platform",
            "status",
            "success",
            "upload_timestamp"
        ]
    );
    assert_eq!(
        keys(&results[2]),
        [
            "platform",
            "post_id",
            "status",
            "success",
            "upload_timestamp"
        ]
    );
    // `status` is fanout's state; TikTok's own word is `platform_status`.
    assert_eq!(results[0]["status"], "completed", "{}", results[0]);
    assert_eq!(
        results[0]["platform_status"], "PUBLISH_SUCCESS",
        "{}",
        results[0]
    );
    assert_eq!(results[1]["status"], "completed", "{}", results[1]);
    assert_eq!(results[2]["status"], "completed", "{}", results[2]);

    // scheduled_date: 202 with the job id, listed, moved, cancelled, gone.
    let job_id = text(&out["scheduled"]["job_id"]).to_string();
    let date = out["scheduled_date"].clone();
    assert_eq!(
        out["scheduled"],
        json!({"success": true, "job_id": job_id, "scheduled_date": date})
    );
    let listed = json!({
        "job_id": job_id,
        "scheduled_date": date,
        "timezone": "UTC",
        "profile_username": "main",
        "platforms": ["tiktok"],
        "title": "Later",
    });
    assert_eq!(
        out["listed"],
        json!({"success": true, "scheduled_posts": [listed]})
    );
    let moved = json!({
        "job_id": job_id,
        "scheduled_date": out["new_date"],
        "timezone": "Europe/Madrid",
        "profile_username": "main",
        "platforms": ["tiktok"],
        "title": "Later",
    });
    let mut edited = moved.clone();
    edited["success"] = json!(true);
    edited["caption"] = Value::Null;
    assert_eq!(out["edited"], edited);
    assert_eq!(
        out["listed_after_edit"],
        json!({"success": true, "scheduled_posts": [moved]})
    );
    assert_eq!(
        out["cancelled"],
        json!({"success": true, "job_id": job_id, "credits_refunded": 1})
    );
    let cancelled = &out["cancelled_status"];
    assert_eq!(keys(cancelled), STATUS_FIELDS, "{cancelled}");
    assert_eq!(cancelled["job_id"], job_id.as_str());
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["completed"], 0);
    assert_eq!(cancelled["total"], 1);
    assert_eq!(
        cancelled["results"],
        json!([{"platform": "tiktok", "status": "queued"}])
    );
    assert_eq!(
        out["listed_after_cancel"],
        json!({"success": true, "scheduled_posts": []})
    );

    // get_history: one item per platform per job, newest job first.
    let history = &out["history"];
    assert_eq!(keys(history), ["history", "limit", "page", "total"]);
    assert_eq!(history["total"], 4);
    assert_eq!(history["page"], 1);
    assert_eq!(history["limit"], 20);
    let items = history["history"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{history}");
    for item in items {
        assert_eq!(keys(item), HISTORY_FIELDS, "{item}");
        assert_eq!(item["profile_username"], "main");
        assert_eq!(item["media_type"], "video");
        assert_eq!(item["media_size_bytes"], video_len);
    }
    assert_eq!(
        items[0],
        json!({
            "profile_username": "main",
            "platform": "tiktok",
            "media_type": "video",
            "upload_timestamp": null,
            "success": false,
            "platform_post_id": null,
            "post_url": null,
            "error_message": null,
            "media_size_bytes": video_len,
            "post_title": "Later",
            "is_async": false,
            "job_id": job_id,
            "request_id": job_id,
            "request_total_platforms": 1,
            "status": "queued",
        })
    );
    for (item, platform) in items[1..].iter().zip(["tiktok", "instagram", "linkedin"]) {
        assert_eq!(item["platform"], platform);
        assert_eq!(item["job_id"], async_job.as_str());
        assert_eq!(item["request_id"], request_id.as_str());
        assert_eq!(item["status"], "completed");
        assert_eq!(item["success"], true);
        assert_eq!(item["is_async"], true);
        assert_eq!(item["post_title"], "In the background");
        assert_eq!(item["request_total_platforms"], 3);
        assert_eq!(item["error_message"], Value::Null);
        assert!(item["platform_post_id"].is_string(), "{item}");
        assert!(item["upload_timestamp"].is_string(), "{item}");
    }

    // retry_post: LinkedIn refuses the token once, so the job finishes with LinkedIn
    // failed; the retry runs LinkedIn alone, which then publishes.
    let linkedin = &server.sandbox.linkedin;
    let (code, body) = linkedin.error_response(PlatformError::ExpiredToken);
    linkedin.inject(Fault::respond(
        linkedin.first_route(),
        StatusCode::from_u16(code).unwrap(),
        body,
    ));
    let out = run_script(&python, "retry", &server.base_url, &clip).await;
    let request_id = text(&out["upload"]["request_id"]).to_string();
    let background = json!({"success": true, "message": BACKGROUND, "request_id": request_id, "total_platforms": 3});
    assert_eq!(out["upload"], background);
    let failed = &out["failed_status"];
    assert_eq!(keys(failed), STATUS_FIELDS, "{failed}");
    assert_eq!(
        failed["status"], "completed",
        "two of three published: {failed}"
    );
    assert_eq!(failed["completed"], 3);
    assert_eq!(failed["total"], 3);
    let before = failed["results"].as_array().unwrap();
    assert_eq!(
        keys(&before[2]),
        ["error", "platform", "status", "success", "upload_timestamp"]
    );
    assert_eq!(before[2]["platform"], "linkedin");
    assert_eq!(before[2]["status"], "failed");
    assert_eq!(before[2]["success"], false);
    assert_eq!(before[2]["error"], LINKEDIN_RECONNECT);
    assert_eq!(out["retry"], background);
    let retried = &out["retried_status"];
    assert_eq!(keys(retried), STATUS_FIELDS, "{retried}");
    assert_eq!(retried["job_id"], failed["job_id"]);
    assert_eq!(retried["status"], "completed");
    assert_eq!(retried["completed"], 3);
    assert_eq!(retried["total"], 3);
    let after = retried["results"].as_array().unwrap();
    assert_eq!(
        after[..2],
        before[..2],
        "only the failed platform runs again"
    );
    assert_eq!(
        keys(&after[2]),
        [
            "platform",
            "post_id",
            "status",
            "success",
            "upload_timestamp"
        ]
    );
    assert_eq!(after[2]["platform"], "linkedin");
    assert_eq!(after[2]["status"], "completed");
    assert_eq!(after[2]["success"], true);

    // Published: the async job and the retried one, once each; the cancelled post never.
    let fakes: [&dyn FakePlatform; 3] = [
        &server.sandbox.tiktok,
        &server.sandbox.instagram,
        &server.sandbox.linkedin,
    ];
    for fake in fakes {
        let posts = fake.published();
        assert_eq!(posts.len(), 2, "{}", fake.platform());
        for post in posts {
            assert_eq!(
                post.media,
                vec![ReceivedMedia::of(&video)],
                "{}",
                fake.platform()
            );
        }
    }
    // Counted: the async upload and the retried one (a retry counts nothing; the
    // cancelled upload was given back), and this one.
    let (status, body) = post(
        &server.base_url,
        "/api/upload",
        "ak_acme",
        video_form(video.clone(), &["tiktok"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usage"]["count"], 3, "{body}");
    server.stop().await;
}
