//! Posts as jobs: async and sync answers, request ids, idempotency, schedules (list,
//! edit, cancel), status, history and retry.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use fanout_core::{AccountDirectory, Connection};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::harness::*;
use super::Serve;

fn form(extra: &[(&str, &str)], platforms: &[&str]) -> (String, Vec<u8>) {
    let mut fields = vec![("user", "main"), ("title", "Hello")];
    fields.extend_from_slice(extra);
    for p in platforms {
        fields.push(("platform[]", p));
    }
    multipart(&fields, &[("video", "clip.mp4", mp4(5000))])
}

async fn post_upload(
    h: &Harness,
    f: (String, Vec<u8>),
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    call(&h.http, "POST", "/api/upload", headers, Some(&f.0), f.1).await
}

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `async_upload=true`: the background answer at once, with `X-Request-Id`; status by request id and by job id follows the job to `completed`.
pub async fn async_upload_answers_at_once_and_status_follows_to_completed(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (status, headers, body) = post_upload(
        &h,
        form(&[("async_upload", "true")], &["alpha", "beta"]),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let request_id = body["request_id"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({
            "success": true,
            "message": "Upload initiated successfully in background.",
            "request_id": request_id,
            "total_platforms": 2,
        })
    );
    assert_eq!(headers["x-request-id"], request_id.as_str());
    let done = status_until(&h.http, &request_id, |s| s["status"] == "completed").await;
    assert_eq!(done["request_id"], request_id.as_str());
    assert_eq!(done["completed"], 2);
    assert_eq!(done["total"], 2);
    assert!(done["last_update"].as_str().unwrap().ends_with('Z'));
    let results = done["results"].as_array().unwrap();
    assert_eq!(results[0]["platform"], "alpha");
    assert_eq!(results[0]["status"], "completed");
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[0]["post_id"], "alpha-Hello");
    assert!(results[0]["upload_timestamp"].is_string());
    assert_eq!(results[1]["platform"], "beta");
    assert_eq!(h.alpha.calls(), 1);
    assert_eq!(h.beta.calls(), 1);
    // The job id works as well.
    let job_id = done["job_id"].as_str().unwrap();
    let (status, by_job) = get(&h.http, &format!("/api/uploadposts/status?job_id={job_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_job["request_id"], request_id.as_str());
}

/// A synchronous upload keeps the envelope; a client's request id (field or header) is echoed, and a reused one is 409.
pub async fn sync_upload_keeps_the_envelope_and_echoes_a_client_request_id(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (status, headers, body) = post_upload(
        &h,
        form(&[("request_id", "client-req-1")], &["alpha", "gamma"]),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-request-id"], "client-req-1");
    assert_eq!(body["success"], true);
    assert_eq!(body["results"]["alpha"]["success"], true);
    assert_eq!(body["results"]["gamma"]["success"], false);
    assert_eq!(body["usage"]["count"], 1);
    // The header works too, and a reused id is refused.
    let (status, headers, _) = post_upload(
        &h,
        form(&[], &["alpha"]),
        &[("x-request-id", "client-req-2")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-request-id"], "client-req-2");
    let (status, _, body) = post_upload(
        &h,
        form(&[], &["alpha"]),
        &[("x-request-id", "client-req-2")],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["message"],
        "request_id client-req-2 is already in use by another upload; send a new one"
    );
    let (_, done) = get(&h.http, "/api/uploadposts/status?request_id=client-req-1").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["results"][1]["status"], "failed");
    assert_eq!(
        done["results"][1]["error"],
        "No Gamma account is connected to this profile. Connect your Gamma account and try again.",
        "{done}"
    );
}

/// Status needs an id (400), answers 404 `not_found` for unknown and other accounts' jobs, and 401 without a valid key.
pub async fn status_needs_an_id_and_hides_other_accounts_jobs(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (status, body) = get(&h.http, "/api/uploadposts/status").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"success": false, "message": "request_id or job_id is required"})
    );
    let (status, body) = get(&h.http, "/api/uploadposts/status?request_id=nope").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"success": false, "message": "Job not found", "status": "not_found"})
    );
    // Another account's job is not found either.
    let (_, _, body) = post_upload(&h, form(&[("async_upload", "true")], &["alpha"]), &[]).await;
    let request_id = body["request_id"].as_str().unwrap().to_string();
    let mut other = h.directory.find_by_name("acme").await.unwrap().unwrap();
    other.name = "other".into();
    other.api_key_hash = Some(fanout_core::ApiKeyHash::of("ak_other"));
    h.directory.upsert(other).await.unwrap();
    let (status, _, body) = call(
        &h.http,
        "GET",
        &format!("/api/uploadposts/status?request_id={request_id}"),
        &[("authorization", "Apikey ak_other")],
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(
        status, 404,
        "another account's job must not be found: {body}"
    );
    assert_eq!(body["status"], "not_found");
    let (status, _, body) = call(
        &h.http,
        "GET",
        "/api/uploadposts/status?job_id=x",
        &[("authorization", "Apikey wrong")],
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Invalid API key");
}

/// One idempotency key publishes and counts once, sequentially and for five concurrent duplicates.
pub async fn one_idempotency_key_publishes_and_counts_once(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let key = [("idempotency-key", "key-seq")];
    let (status, _, first) = post_upload(&h, form(&[], &["alpha"]), &key).await;
    assert_eq!(status, 200, "{first}");
    let (status, headers, second) = post_upload(&h, form(&[], &["alpha"]), &key).await;
    assert_eq!(status, 200);
    assert_eq!(second, first, "the duplicate answers like the first");
    assert_eq!(h.alpha.calls(), 1);
    assert_eq!(second["usage"]["count"], 1);
    let (_, _, other) = post_upload(&h, form(&[], &["alpha"]), &[]).await;
    assert_eq!(other["usage"]["count"], 2, "a new key counts again");
    let (_, done) = get(
        &h.http,
        &format!(
            "/api/uploadposts/status?request_id={}",
            headers["x-request-id"].to_str().unwrap()
        ),
    )
    .await;
    assert_eq!(done["status"], "completed");

    // Five at once with one key (X-Idempotency-Key): one publish, one count.
    let key = [("x-idempotency-key", "key-concurrent")];
    let answers =
        futures::future::join_all((0..5).map(|_| post_upload(&h, form(&[], &["beta"]), &key)))
            .await;
    let ids: Vec<String> = answers
        .iter()
        .map(|(status, headers, body)| {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body["usage"]["count"], 3, "{body}");
            headers["x-request-id"].to_str().unwrap().to_string()
        })
        .collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    assert_eq!(h.beta.calls(), 1);
}

/// A scheduled post: 202, listed, edited, refused a past date, cancelled with its upload refunded; a second cancel is 409, an unknown job 404.
pub async fn scheduled_posts_are_listed_edited_cancelled_and_refunded(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let when = in_minutes(30);
    let (status, headers, body) = post_upload(
        &h,
        form(
            &[("scheduled_date", &when), ("timezone", "Europe/Madrid")],
            &["alpha", "beta"],
        ),
        &[],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let job_id = body["job_id"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({"success": true, "job_id": job_id, "scheduled_date": when})
    );
    assert!(headers.contains_key("x-request-id"));
    let (status, listed) = get(&h.http, "/api/uploadposts/schedule").await;
    assert_eq!(status, 200);
    assert_eq!(
        listed,
        json!({"success": true, "scheduled_posts": [{
            "job_id": job_id,
            "scheduled_date": when,
            "timezone": "Europe/Madrid",
            "profile_username": "main",
            "platforms": ["alpha", "beta"],
            "title": "Hello",
        }]})
    );
    let (_, status_body) = get(&h.http, &format!("/api/uploadposts/status?job_id={job_id}")).await;
    assert_eq!(status_body["status"], "scheduled");
    assert_eq!(status_body["results"][0]["status"], "queued");

    // Edit: a new date (wall time in the zone), title and caption.
    let edit = json!({"scheduled_date": "2027-06-01T12:00:00", "title": "New title", "caption": "New caption"});
    let (status, _, edited) = call_json(
        &h.http,
        "PATCH",
        &format!("/api/uploadposts/schedule/{job_id}"),
        serde_json::to_vec(&edit).unwrap(),
    )
    .await;
    // 2027-06-01 may be more than 365 days ahead of the machine's clock in some years;
    // it is not today (2026-12): summer time in Madrid is UTC+2.
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["scheduled_date"], "2027-06-01T10:00:00Z");
    assert_eq!(edited["title"], "New title");
    assert_eq!(edited["caption"], "New caption");

    // A past date is refused with the rule's sentence.
    let (status, _, refused) = call_json(
        &h.http,
        "PATCH",
        &format!("/api/uploadposts/schedule/{job_id}"),
        br#"{"scheduled_date": "2020-01-01T00:00:00Z"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(refused["message"], "scheduled_date must be in the future");

    // Cancel gives the upload back.
    let (status, _, cancelled) = call(
        &h.http,
        "DELETE",
        &format!("/api/uploadposts/schedule/{job_id}"),
        &[],
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        cancelled,
        json!({"success": true, "job_id": job_id, "credits_refunded": 1})
    );
    let (_, listed) = get(&h.http, "/api/uploadposts/schedule").await;
    assert_eq!(listed["scheduled_posts"], json!([]));
    let (_, _, next) = post_upload(&h, form(&[], &["alpha"]), &[]).await;
    assert_eq!(
        next["usage"]["count"], 1,
        "the cancelled upload was given back"
    );
    let (status, _, again) = call(
        &h.http,
        "DELETE",
        &format!("/api/uploadposts/schedule/{job_id}"),
        &[],
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    let (status, _, unknown) = call(
        &h.http,
        "DELETE",
        "/api/uploadposts/schedule/nope",
        &[],
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(unknown["message"], "Job not found");
    assert_eq!(h.beta.calls(), 0, "a cancelled post never runs");
}

/// Schedule dates in the past, too far ahead, unparsable or in an unknown zone are 400 with the rule's sentence.
pub async fn schedule_dates_outside_the_rules_are_refused(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    for (date, zone, message) in [
        (
            "2020-01-01T00:00:00Z",
            None,
            "scheduled_date must be in the future",
        ),
        (
            &*in_minutes(60 * 24 * 400),
            None,
            "scheduled_date must be at most 365 days ahead",
        ),
        (
            "tomorrow at noon",
            None,
            "Invalid scheduled_date: use ISO 8601, e.g. 2027-01-01T10:00:00Z",
        ),
        (
            &*in_minutes(60),
            Some("Nowhere/City"),
            "Invalid timezone: Nowhere/City is not an IANA time zone name (e.g. Europe/Madrid)",
        ),
    ] {
        let mut extra = vec![("scheduled_date", date)];
        if let Some(zone) = zone {
            extra.push(("timezone", zone));
        }
        let (status, _, body) = post_upload(&h, form(&extra, &["alpha"]), &[]).await;
        assert_eq!(status, 400, "{date}: {body}");
        assert_eq!(body["message"], message);
    }
    assert_eq!(h.alpha.calls(), 0);
}

/// A scheduled post fires once when due, under the job runner.
pub async fn a_scheduled_post_fires_once_when_due(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let runner = h.engine.start_runner();
    let when =
        (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let (status, _, body) =
        post_upload(&h, form(&[("scheduled_date", &when)], &["alpha"]), &[]).await;
    assert_eq!(status, 202, "{body}");
    let job_id = body["job_id"].as_str().unwrap().to_string();
    assert_eq!(h.alpha.calls(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, s) = get(&h.http, &format!("/api/uploadposts/status?job_id={job_id}")).await;
        if s["status"] == "completed" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never fired: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A few more runner rounds do not fire it again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.alpha.calls(), 1);
    assert!(runner.shutdown(Duration::from_secs(5)).await);
}

/// History: one item per platform per job, newest first, paged; bad `limit` and `page` are 400.
pub async fn history_lists_one_item_per_platform_newest_first(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let (_, _, first) =
        post_upload(&h, form(&[("request_id", "h1")], &["alpha", "gamma"]), &[]).await;
    assert_eq!(first["success"], true);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, _, second) = post_upload(
        &h,
        form(&[("request_id", "h2"), ("async_upload", "true")], &["beta"]),
        &[],
    )
    .await;
    assert_eq!(second["request_id"], "h2");
    status_until(&h.http, "h2", |s| s["status"] == "completed").await;
    let (status, page) = get(&h.http, "/api/uploadposts/history?page=1&limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 1);
    assert_eq!(page["limit"], 10);
    let items = page["history"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["request_id"], "h2");
    assert_eq!(items[0]["platform"], "beta");
    assert_eq!(items[0]["is_async"], true);
    assert_eq!(items[0]["success"], true);
    assert_eq!(items[0]["platform_post_id"], "beta-Hello");
    assert_eq!(items[0]["media_type"], "video");
    assert_eq!(items[0]["media_size_bytes"], 5000);
    assert_eq!(items[0]["post_title"], "Hello");
    assert_eq!(items[0]["profile_username"], "main");
    assert_eq!(items[0]["request_total_platforms"], 1);
    assert_eq!(items[1]["request_id"], "h1");
    assert_eq!(items[1]["platform"], "alpha");
    assert_eq!(items[1]["is_async"], false);
    assert_eq!(items[2]["platform"], "gamma");
    assert_eq!(items[2]["success"], false);
    assert!(items[2]["error_message"]
        .as_str()
        .unwrap()
        .contains("Gamma"));
    assert_eq!(items[2]["platform_post_id"], Value::Null);
    // Pages cut across jobs.
    for (page, limit) in [(2, 10)] {
        let (_, body) = get(
            &h.http,
            &format!("/api/uploadposts/history?page={page}&limit={limit}"),
        )
        .await;
        assert_eq!(body["history"], json!([]));
    }
    for (query, message) in [
        ("limit=15", "Invalid limit"),
        ("limit=abc", "Invalid limit"),
        ("page=0", "Invalid page"),
        ("page=-1", "Invalid page"),
    ] {
        let (status, body) = get(&h.http, &format!("/api/uploadposts/history?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body, json!({"success": false, "message": message}));
    }
}

/// Retry re-runs only the failed platforms and counts nothing; nothing left to retry is 409; bad bodies 400; unknown 404.
pub async fn retry_reruns_only_the_failed_platforms_and_counts_nothing(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            beta_token: "expired-beta",
            ..Setup::default()
        },
    )
    .await;
    let (_, _, first) =
        post_upload(&h, form(&[("request_id", "r1")], &["alpha", "beta"]), &[]).await;
    assert_eq!(first["results"]["alpha"]["success"], true);
    assert_eq!(first["results"]["beta"]["success"], false, "{first}");
    assert_eq!(h.alpha.calls(), 1);
    // The person reconnects Beta, then retries.
    h.directory
        .save_connection("acme", "main", "beta", Connection::new("acme_beta", "ok"))
        .await
        .unwrap();
    let (status, headers, body) = call_json(
        &h.http,
        "POST",
        "/api/uploadposts/posts/retry",
        br#"{"request_id": "r1"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "success": true,
            "message": "Upload initiated successfully in background.",
            "request_id": "r1",
            "total_platforms": 2,
        })
    );
    assert_eq!(headers["x-request-id"], "r1");
    let done = status_until(&h.http, "r1", |s| {
        s["status"] == "completed" && s["completed"] == 2
    })
    .await;
    assert_eq!(done["results"][1]["success"], true, "{done}");
    assert_eq!(
        h.alpha.calls(),
        1,
        "the platform that succeeded is not published again"
    );
    let (_, _, next) = post_upload(&h, form(&[], &["alpha"]), &[]).await;
    assert_eq!(next["usage"]["count"], 2, "the retry counted nothing");
    let (status, _, nothing) = call_json(
        &h.http,
        "POST",
        "/api/uploadposts/posts/retry",
        br#"{"request_id": "r1"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        nothing["message"],
        "Nothing to retry: every platform of this job succeeded"
    );
    for (body, code, message) in [
        (&br#"{}"#[..], 400, "request_id or job_id is required"),
        (&b"not json"[..], 400, "The body must be a JSON object"),
    ] {
        let (status, _, answer) = call_json(
            &h.http,
            "POST",
            "/api/uploadposts/posts/retry",
            body.to_vec(),
        )
        .await;
        assert_eq!(status, code);
        assert_eq!(answer["message"], message);
    }
    let (status, _, unknown) = call_json(
        &h.http,
        "POST",
        "/api/uploadposts/posts/retry",
        br#"{"job_id": "nope"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(unknown["status"], "not_found");
}

/// The JSON routes (schedule edit, retry) read at most 64 KiB: past it, a JSON 413.
pub async fn json_bodies_past_the_limit_are_413(serve: Serve) {
    let h = harness(serve, Setup::default()).await;
    let big = format!("{{\"request_id\": \"{}\"}}", "x".repeat(70 * 1024)).into_bytes();
    for (method, path) in [
        ("POST", "/api/uploadposts/posts/retry"),
        ("PATCH", "/api/uploadposts/schedule/some-job"),
    ] {
        let (status, _, body) = call_json(&h.http, method, path, big.clone()).await;
        assert_eq!(
            (status, body),
            (
                413,
                json!({"success": false, "message": "Body too large: the limit is 65536 bytes"})
            ),
            "{method} {path}"
        );
    }
    // Just under the limit is read (and answered by the engine).
    let fits = format!("{{\"job_id\": \"{}\"}}", "x".repeat(60 * 1024)).into_bytes();
    let (status, _, body) = call_json(&h.http, "POST", "/api/uploadposts/posts/retry", fits).await;
    assert_eq!(status, 404, "{body}");
}

/// A synchronous upload past the sync timeout answers in the background shape while the job goes on.
pub async fn a_slow_platform_past_the_sync_timeout_answers_in_the_background_shape(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            beta_token: "slow",
            timeout: Duration::from_secs(60),
            sync_timeout: Duration::from_millis(300),
            ..Setup::default()
        },
    )
    .await;
    let (status, headers, body) = post_upload(&h, form(&[], &["alpha", "beta"]), &[]).await;
    assert_eq!(status, 200, "{body}");
    let request_id = headers["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({
            "success": true,
            "message": "Upload initiated successfully in background.",
            "request_id": request_id,
            "total_platforms": 2,
        })
    );
    let running = status_until(&h.http, &request_id, |s| {
        s["results"][0]["status"] == "completed"
    })
    .await;
    assert_eq!(running["status"], "in_progress");
    assert_eq!(running["results"][1]["status"], "processing");
    assert_eq!(running["completed"], 1);
}

/// Media is deleted when every platform published, kept for the retry window otherwise, then a late retry is 409.
pub async fn media_is_kept_exactly_as_long_as_a_job_may_need_it(serve: Serve) {
    let h = harness(
        serve,
        Setup {
            beta_token: "expired-beta",
            retry_window: Duration::from_secs(1),
            ..Setup::default()
        },
    )
    .await;
    // Every platform published: the media is deleted as the job ends.
    let (_, _, body) = post_upload(&h, form(&[], &["alpha"]), &[]).await;
    assert_eq!(body["results"]["alpha"]["success"], true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stored_media_files(&h) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the media of a published job stayed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A failed platform: kept for the retry window, then swept by the runner.
    let (_, _, body) = post_upload(&h, form(&[("request_id", "m1")], &["beta"]), &[]).await;
    assert_eq!(body["results"]["beta"]["success"], false);
    assert_eq!(stored_media_files(&h), 1, "kept for a retry");
    let runner = h.engine.start_runner();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stored_media_files(&h) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the media outlived the retry window"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _, late) = call_json(
        &h.http,
        "POST",
        "/api/uploadposts/posts/retry",
        br#"{"request_id": "m1"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        late["message"],
        "The retry window of this job has passed and its media is gone; upload it again"
    );
    assert!(runner.shutdown(Duration::from_secs(5)).await);
}
