//! Scale-out: three `fanout` processes on one PostgreSQL schema and one shared media
//! directory, behind what would be a load balancer (every instance's
//! `public_base_url` is instance 3). Limits are exact across them, a job runs once
//! whichever instance takes it, a killed instance's job is finished by another, a
//! scheduled job fires once, an OAuth connect started on one instance completes on
//! another, a media link minted by one is served by another, and twenty uploads over
//! three instances refresh an expired token once. With the media in an S3 bucket
//! (moto's server on loopback) instead of a shared directory, a killed instance's
//! job is published by the others from the bucket.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (user `postgres`, database `test`, trust; or
//! `FANOUT_TEST_POSTGRES_URL`); each test has a schema of its own, dropped at its end.
//! The platforms are the testkit fakes, outside the servers (`sandbox = false`), so
//! they count every post whichever instance made it. Every wait polls a condition.

#![allow(clippy::unwrap_used)]

mod scale;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use fanout_core::secrecy::ExposeSecret;
use fanout_core::AccountDirectory;
use fanout_postgres::{PostgresOptions, PostgresStore};
use fanout_testkit::media::{jpeg_bytes, mp4_bytes};
use fanout_testkit::{FakePlatform, ReceivedMedia};
use scale::s3::Moto;
use scale::{
    item, job_status, post, postgres_url, seconds_ahead, wait_finished, wait_for, Cluster, Fakes,
    Media, Setup, KEY,
};
use support::titled_video_form;

/// The size of the test videos: above LinkedIn's 77 KB minimum.
const VIDEO_BYTES: usize = 100_000;

/// `POST /api/upload` of `video` titled `title` to `platforms`, with `fields`, on
/// `base` as account `acme`: status, `X-Request-Id` and JSON body.
async fn upload_video(
    base: &str,
    video: &[u8],
    title: &str,
    platforms: &[&str],
    fields: &[(&str, &str)],
) -> (u16, Option<String>, serde_json::Value) {
    let form = titled_video_form(video, title, platforms, fields);
    post(base, "/api/upload", KEY, form).await
}

/// Sends `n` async uploads of a small video to LinkedIn for `key`, spread round-robin
/// over the three instances, all at once; the statuses answered.
async fn round_robin_uploads(cluster: &Cluster, key: &str, n: usize) -> Vec<u16> {
    let video = mp4_bytes(VIDEO_BYTES);
    let mut tasks = Vec::new();
    for i in 0..n {
        let base = cluster.url(i % 3 + 1);
        let (video, key) = (video.clone(), key.to_string());
        tasks.push(tokio::spawn(async move {
            let form = titled_video_form(
                &video,
                &format!("limit {i}"),
                &["linkedin"],
                &[("async_upload", "true")],
            );
            let (status, _, body) = post(&base, "/api/upload", &key, form).await;
            assert!(status == 200 || status == 429, "{status}: {body}");
            status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// 60 concurrent uploads round-robin over three instances: a monthly limit of 20
/// accepts exactly 20 (40 × 429), and a daily per-account limit of 20 likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_are_exact_across_three_instances() {
    let setup = Setup {
        plan: "monthly_uploads = 20".to_string(),
        extra: r#"
[plans.daily]
monthly_uploads = 1000
daily_uploads_per_account = 20
[[accounts]]
name = "daily"
api_key = "ak_daily"
plan = "daily"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.linkedin]
account_name = "Daily Inc"
access_token = "li-daily"
"#
        .to_string(),
        ..Setup::default()
    };
    let fakes = Fakes::start().await;
    fakes.linkedin.accept_token("li-daily", "Daily Inc");
    let cluster = Cluster::start(fakes, setup).await;

    let monthly = round_robin_uploads(&cluster, KEY, 60).await;
    assert_eq!(
        (count(&monthly, 200), count(&monthly, 429)),
        (20, 40),
        "monthly: {monthly:?}"
    );
    let daily = round_robin_uploads(&cluster, "ak_daily", 60).await;
    assert_eq!(
        (count(&daily, 200), count(&daily, 429)),
        (20, 40),
        "daily: {daily:?}"
    );
    // The accepted jobs all publish, once each.
    wait_for("40 LinkedIn posts", || async {
        let posts = cluster.fakes.linkedin.published().len();
        if posts >= 40 {
            Ok(())
        } else {
            Err(format!("{posts} posts"))
        }
    })
    .await;
    let mut titles = BTreeMap::new();
    for post in cluster.fakes.linkedin.published() {
        *titles.entry((post.account, post.caption)).or_insert(0) += 1;
    }
    assert_eq!(titles.len(), 40, "{titles:?}");
    assert!(titles.values().all(|n| *n == 1), "{titles:?}");
}

/// 30 jobs submitted to instance 1 for a moment just ahead, with all three instances'
/// runners polling: every job completes and every platform got each post exactly
/// once. Then one idempotency key sent to all three instances at once makes one job.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_jobs_from_one_instance_run_once_over_three() {
    let cluster = Cluster::start(Fakes::start().await, Setup::default()).await;
    let video = mp4_bytes(VIDEO_BYTES);
    let platforms = ["tiktok", "instagram", "linkedin"];
    // Submitted all at once, due 3 s ahead (at least 2 s: the date is to the second).
    let at = seconds_ahead(3);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let form = titled_video_form(
            &video,
            &format!("job {i:02}"),
            &platforms,
            &[("async_upload", "true"), ("scheduled_date", &at)],
        );
        let base = cluster.url(1);
        tasks.push(tokio::spawn(async move {
            post(&base, "/api/upload", KEY, form).await
        }));
    }
    let mut request_ids = Vec::new();
    for task in tasks {
        let (status, request_id, body) = task.await.unwrap();
        assert_eq!(status, 202, "scheduled: {body}");
        request_ids.push(request_id.unwrap());
    }
    for (i, request_id) in request_ids.iter().enumerate() {
        // Read from any instance: the jobs are shared.
        let done =
            wait_finished(&cluster.url(i % 3 + 1), &format!("request_id={request_id}")).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    // Each job was claimed once, by whichever runner got to it first (which ones did
    // is up to timing, so only the total is asserted).
    let claims: Vec<usize> = cluster
        .instances
        .iter()
        .map(|i| i.output().matches("claimed a due job").count())
        .collect();
    assert_eq!(
        claims.iter().sum::<usize>(),
        30,
        "claims per instance: {claims:?}"
    );
    println!("claims per instance: {claims:?}");
    for platform in platforms {
        let mut titles = BTreeMap::new();
        for post in cluster.fakes.fake(platform).published() {
            *titles.entry(post.caption).or_insert(0) += 1;
        }
        assert_eq!(titles.len(), 30, "{platform}: {titles:?}");
        assert!(
            titles.values().all(|n| *n == 1),
            "{platform} published a job twice: {titles:?}"
        );
    }

    // One idempotency key sent six times at once, two requests to each instance:
    // one job, one post per platform, every answer naming the same request id.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let form = titled_video_form(
            &video,
            "idempotent",
            &platforms,
            &[("async_upload", "true")],
        );
        let base = cluster.url(i % 3 + 1);
        tasks.push(tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("{base}/api/upload"))
                .header("authorization", format!("Apikey {KEY}"))
                .header("idempotency-key", "one-key-three-instances")
                .multipart(form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }));
    }
    let mut request_ids = std::collections::BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        request_ids.insert(body["request_id"].as_str().unwrap().to_string());
    }
    assert_eq!(request_ids.len(), 1, "{request_ids:?}");
    let request_id = request_ids.into_iter().next().unwrap();
    let done = wait_finished(&cluster.url(2), &format!("request_id={request_id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    for platform in platforms {
        let copies = cluster
            .fakes
            .fake(platform)
            .published()
            .into_iter()
            .filter(|p| p.caption == "idempotent")
            .count();
        assert_eq!(copies, 1, "{platform}");
    }
}

/// kill -9 the instance running a job in the middle: another instance takes it up
/// once the lease lapsed and finishes it, nothing posted twice; a job scheduled on the
/// killed instance fires once on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_s_job_is_finished_by_another() {
    let fakes = Fakes::start().await;
    // Instagram's container stays IN_PROGRESS for 30 reads; LinkedIn's video stays
    // PROCESSING for 3 s: the job is in flight for a while on both.
    fakes.instagram.set_processing_reads(30);
    fakes
        .linkedin
        .set_processing_time(Some(Duration::from_secs(3)));
    let mut cluster = Cluster::start(fakes, Setup::default()).await;
    let video = mp4_bytes(VIDEO_BYTES);
    // Runs on instance 1, which accepted it.
    let (status, request_id, body) = upload_video(
        &cluster.url(1),
        &video,
        "killed",
        &["instagram", "linkedin"],
        &[("async_upload", "true")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let running = format!("request_id={}", request_id.unwrap());
    // Scheduled on instance 1 a few seconds ahead: it fires on whichever is up.
    let (status, request_id, body) = upload_video(
        &cluster.url(1),
        &video,
        "scheduled",
        &["tiktok"],
        &[
            ("async_upload", "true"),
            ("scheduled_date", &seconds_ahead(4)),
        ],
    )
    .await;
    assert_eq!(status, 202, "scheduled: {body}");
    let scheduled = format!("request_id={}", request_id.unwrap());

    let base = cluster.url(2);
    let fakes = &cluster.fakes;
    wait_for("both platforms in flight", || async {
        let status = job_status(&base, &running).await;
        let in_flight = ["instagram", "linkedin"]
            .iter()
            .all(|p| item(&status, p)["status"] == "processing")
            && fakes.instagram.containers_created() >= 1
            && fakes.linkedin.videos_initialized() >= 1;
        if in_flight {
            Ok(())
        } else {
            Err(status.to_string())
        }
    })
    .await;
    cluster.instances[0].kill9();
    assert_eq!(cluster.fakes.posts(), [0, 0, 0]);

    let done = wait_finished(&cluster.url(2), &running).await;
    assert_eq!(done["status"], "completed", "{done}");
    for platform in ["instagram", "linkedin"] {
        assert_eq!(item(&done, platform)["success"], true, "{done}");
        let posts = cluster.fakes.fake(platform).published();
        assert_eq!(posts.len(), 1, "{platform} published once");
        assert_eq!(posts[0].media, vec![ReceivedMedia::of(&video)]);
    }
    let fired = wait_finished(&cluster.url(3), &scheduled).await;
    assert_eq!(fired["status"], "completed", "{fired}");
    assert_eq!(cluster.fakes.tiktok.published().len(), 1, "fired once");
    // Nothing more happens once both are done.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(scale::RUNNER_POLL_MS)).await;
        assert_eq!(cluster.fakes.posts(), [1, 1, 1]);
    }
}

/// An OAuth connect started on instance 1 completes when its callback reaches
/// instance 2; a photo published by instance 1 is fetched by the platform through
/// instance 3 (the public base URL), which serves the link instance 1 minted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oauth_callbacks_and_media_links_work_on_any_instance() {
    let cluster = Cluster::start(Fakes::start().await, Setup::default()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let begin = client
        .get(format!("{}/api/connect/tiktok?user=brand", cluster.url(1)))
        .header("authorization", format!("Apikey {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(begin.status(), 302);
    let authorize = begin.headers()["location"].to_str().unwrap().to_string();
    let approved = client.get(&authorize).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let callback = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    // The load balancer sends the callback to instance 2.
    let mut on_two = url::Url::parse(&cluster.url(2)).unwrap();
    on_two.set_path(callback.path());
    on_two.set_query(callback.query());
    let done = client.get(on_two.as_str()).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let done: serde_json::Value = done.json().await.unwrap();
    assert_eq!(done["success"], true, "{done}");
    assert_eq!(done["user"], "brand");

    // The new connection publishes through instance 3.
    let video = mp4_bytes(VIDEO_BYTES);
    let form = reqwest::multipart::Form::new()
        .text("user", "brand")
        .text("title", "brand video")
        .text("platform[]", "tiktok")
        .part(
            "video",
            reqwest::multipart::Part::bytes(video.clone()).file_name("clip.mp4"),
        );
    let (status, _, body) = post(&cluster.url(3), "/api/upload", KEY, form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");

    // Instagram fetches photos from their media links: minted by instance 1 (a sync
    // upload runs where it was accepted), fetched from instance 3.
    let photo = jpeg_bytes(60_000, 7);
    let form = reqwest::multipart::Form::new()
        .text("user", "main")
        .text("title", "shared link")
        .text("platform[]", "instagram")
        .part(
            "photos[]",
            reqwest::multipart::Part::bytes(photo.clone()).file_name("p.jpg"),
        );
    let (status, _, body) = post(&cluster.url(1), "/api/upload_photos", KEY, form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["instagram"]["success"], true, "{body}");
    let posts = cluster.fakes.instagram.published();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media, vec![ReceivedMedia::of(&photo)]);
}

/// Media in an S3 bucket (moto's server on loopback), no directory shared: a job
/// accepted by instance 1, which is killed before it is due, is published by the
/// others from the bucket. The 12 MB video goes up in 5 MiB parts and is read back by
/// range (TikTok and LinkedIn in chunks, Instagram through instance 3's media link);
/// every platform gets exactly its bytes, and the objects are deleted once the job is
/// done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_in_an_s3_bucket_serve_every_instance() {
    let moto = Moto::start();
    let bucket = "fanout-media";
    moto.create_bucket(bucket).await;
    let setup = Setup {
        media: Media::S3 {
            endpoint: moto.endpoint.clone(),
            bucket: bucket.to_string(),
        },
        ..Setup::default()
    };
    let mut cluster = Cluster::start(Fakes::start().await, setup).await;
    let video = mp4_bytes(12 << 20);
    let platforms = ["tiktok", "instagram", "linkedin"];
    let (status, request_id, body) = upload_video(
        &cluster.url(1),
        &video,
        "from the bucket",
        &platforms,
        &[
            ("async_upload", "true"),
            ("scheduled_date", &seconds_ahead(3)),
        ],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let job = format!("request_id={}", request_id.unwrap());
    let kept = moto.keys(bucket, "jobs/").await;
    assert_eq!(kept.len(), 1, "the video is kept in the bucket: {kept:?}");
    assert!(
        !cluster.dir.path().join("media").exists(),
        "and nowhere on disk"
    );
    cluster.instances[0].kill9();

    let done = wait_finished(&cluster.url(2), &job).await;
    assert_eq!(done["status"], "completed", "{done}");
    for platform in platforms {
        assert_eq!(item(&done, platform)["success"], true, "{done}");
        let posts = cluster.fakes.fake(platform).published();
        assert_eq!(posts.len(), 1, "{platform} published once");
        assert_eq!(
            posts[0].media,
            vec![ReceivedMedia::of(&video)],
            "{platform}"
        );
    }
    wait_for("the job's media deleted from the bucket", || async {
        let left = moto.keys(bucket, "jobs/").await;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;
}

/// Twenty concurrent uploads over three instances on one expired TikTok token: one
/// refresh, every upload published, and the rotated refresh token is what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_uploads_over_three_instances_refresh_an_expired_token_once() {
    let fakes = Fakes::start().await;
    let expired = fakes
        .tiktok
        .refreshable_connection("acme_tt", Utc::now() - chrono::Duration::hours(1));
    let setup = Setup {
        tiktok: Some(expired.clone()),
        ..Setup::default()
    };
    let cluster = Cluster::start(fakes, setup).await;
    let video = mp4_bytes(VIDEO_BYTES);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = cluster.url(i % 3 + 1);
        let video = video.clone();
        tasks.push(tokio::spawn(async move {
            let form = titled_video_form(&video, &format!("refresh {i}"), &["tiktok"], &[]);
            post(&base, "/api/upload", KEY, form).await
        }));
    }
    for task in tasks {
        let (status, _, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"]["tiktok"]["success"], true, "{body}");
    }
    assert_eq!(cluster.fakes.tiktok.refresh_calls(), 1, "refreshes");
    assert_eq!(cluster.fakes.tiktok.published().len(), 20);

    let store = PostgresStore::connect(
        &postgres_url(),
        PostgresOptions::default()
            .with_pool_size(1)
            .with_schema(cluster.schema.name.clone()),
    )
    .await
    .unwrap();
    let stored = store.find_by_name("acme").await.unwrap().unwrap().profiles["main"].connections
        ["tiktok"]
        .clone();
    assert_ne!(stored.access_token(), expired.access_token());
    let refresh = |c: &fanout_core::Connection| {
        c.refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_string())
    };
    assert!(refresh(&stored).is_some());
    assert_ne!(
        refresh(&stored),
        refresh(&expired),
        "the rotated refresh token was lost"
    );
    store.close();
}
