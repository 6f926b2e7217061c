//! Posts are jobs, through the real server: scheduled posts fire once (also across a
//! restart) and cancelled ones never; a server killed with SIGKILL in the middle of a
//! job never publishes a platform twice; one idempotency key publishes and counts
//! once; a sync upload past `sync_timeout_secs` answers in the background shape and
//! still completes; SIGTERM lets a running job finish within the grace period, or
//! leaves it for the next start.
//!
//! The platforms are the testkit fakes, started by the test apart from fanout
//! (`sandbox = false`, as a real platform would be), so they outlive restarts and
//! count every post. Tests that need a separate OS process (SIGKILL, SIGTERM) run the
//! `fanout` binary of this package on a config file. Every wait polls a condition
//! with a deadline; durations come from the `[jobs]` config below.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use fanout_core::{unknown_outcome, JobRef, PlatformState};
use fanout_server::Config;
use fanout_server::{App, RunningServer};
use fanout_testkit::fakes::instagram::FakeInstagram;
use fanout_testkit::fakes::linkedin::FakeLinkedIn;
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::media::mp4_bytes;
use fanout_testkit::{FakePlatform, Fault, FaultKind, ReceivedMedia};
use serde_json::{json, Value};
use support::{get, job_status, titled_video_form, wait_finished, wait_for};

const KEY: &str = "ak_acme";
const PLATFORMS: [&str; 3] = ["tiktok", "instagram", "linkedin"];
/// `[jobs] poll_ms`: how often the runner looks for due jobs.
const RUNNER_POLL_MS: u64 = 100;
/// `[jobs] lease_secs`: how long a dead runner's claim on a job lasts.
const LEASE_SECS: u64 = 2;
/// `[platforms.*] poll_interval_ms`: how often the publishers read a post's status.
const PLATFORM_POLL_MS: u64 = 20;
/// The longest any wait below may take before the test fails (an upper bound only:
/// every wait ends as soon as its condition holds).
const WITHIN: Duration = Duration::from_secs(30);
/// How often the tests read a status.
const EVERY: Duration = Duration::from_millis(25);
/// What an async upload (or a sync one past `sync_timeout_secs`) answers.
const BACKGROUND: &str = "Upload initiated successfully in background.";

fn runner_poll() -> Duration {
    Duration::from_millis(RUNNER_POLL_MS)
}

/// The three platforms, each accepting the tokens of account `acme`.
struct Fakes {
    tiktok: FakeTikTok,
    instagram: FakeInstagram,
    linkedin: FakeLinkedIn,
}

impl Fakes {
    async fn start() -> Self {
        let fakes = Self {
            tiktok: FakeTikTok::spawn().await.unwrap(),
            instagram: FakeInstagram::spawn().await.unwrap(),
            linkedin: FakeLinkedIn::spawn().await.unwrap(),
        };
        fakes.tiktok.accept_token("tt-acme", "acme_tt");
        fakes.instagram.accept_token("ig-acme", "acme_ig");
        fakes.linkedin.accept_token("li-acme", "Acme Inc");
        fakes
    }

    fn all(&self) -> [&dyn FakePlatform; 3] {
        [&self.tiktok, &self.instagram, &self.linkedin]
    }

    fn fake(&self, platform: &str) -> &dyn FakePlatform {
        match platform {
            "tiktok" => &self.tiktok,
            "instagram" => &self.instagram,
            "linkedin" => &self.linkedin,
            other => panic!("no fake for {other}"),
        }
    }

    /// Posts published so far on TikTok, Instagram and LinkedIn.
    fn posts(&self) -> [usize; 3] {
        self.all().map(|fake| fake.published().len())
    }
}

/// Where the server keeps jobs and their media.
#[derive(Clone, Copy)]
enum Store<'a> {
    /// In memory (lost when the server stops).
    Memory,
    /// `fanout.db` and `media/` in this directory (kept across restarts).
    Files(&'a Path),
}

/// A config with `sandbox = false`, account `acme` (key [`KEY`]) whose profile `main`
/// is connected to the three fakes, the publishers pointed at them, and `jobs` as the
/// `[jobs]` table.
fn config_toml(fakes: &Fakes, store: Store<'_>, jobs: &str) -> String {
    let store = match store {
        Store::Memory => "[store]\nkind = \"memory\"\n[media]\nkind = \"memory\"\n".to_string(),
        Store::Files(dir) => format!(
            "[store]\nkind = \"sqlite\"\npath = \"{}\"\n[media]\nkind = \"local\"\npath = \"{}\"\n",
            dir.join("fanout.db").display(),
            dir.join("media").display()
        ),
    };
    format!(
        r#"
addr = "127.0.0.1:0"
sandbox = false
{store}
[jobs]
{jobs}
[plans.pro]
monthly_uploads = 100
[[accounts]]
name = "acme"
api_key = "{KEY}"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "acme_tt"
access_token = "tt-acme"
[accounts.profiles.connections.instagram]
account_name = "acme_ig"
access_token = "ig-acme"
[accounts.profiles.connections.linkedin]
account_name = "Acme Inc"
access_token = "li-acme"
[platforms.tiktok]
base_url = "{tiktok}"
poll_interval_ms = {PLATFORM_POLL_MS}
init_calls_per_minute = 600
[platforms.instagram]
base_url = "{instagram}"
upload_base_url = "{instagram_upload}"
poll_interval_ms = {PLATFORM_POLL_MS}
[platforms.linkedin]
base_url = "{linkedin}"
poll_interval_ms = {PLATFORM_POLL_MS}
"#,
        tiktok = fakes.tiktok.base_url(),
        instagram = fakes.instagram.base_url(),
        instagram_upload = fakes.instagram.upload_base_url(),
        linkedin = fakes.linkedin.base_url(),
    )
}

/// Builds and starts fanout in this process.
async fn start(toml: &str) -> RunningServer {
    let app = App::build(Config::from_toml(toml).unwrap()).await.unwrap();
    assert!(app.sandbox().is_none());
    app.spawn()
}

/// One answer of `POST /api/upload`.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    /// The `X-Request-Id` header.
    request_id: Option<String>,
    body: Value,
}

async fn upload(base: &str, headers: &[(&str, &str)], form: reqwest::multipart::Form) -> Answer {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/upload"))
        .header("authorization", format!("Apikey {KEY}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    Answer {
        status,
        request_id,
        body: response.json().await.unwrap(),
    }
}

/// A `scheduled_date` `secs` seconds from now, to the second (as fanout echoes it).
fn seconds_ahead(secs: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The status item of `platform` in a status answer.
fn item<'a>(status: &'a Value, platform: &str) -> &'a Value {
    status["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {status}"))
        .iter()
        .find(|r| r["platform"] == platform)
        .unwrap_or_else(|| panic!("no {platform} in {status}"))
}

/// How the platform's publisher names it in sentences.
fn display_name(platform: &str) -> &'static str {
    match platform {
        "tiktok" => "TikTok",
        "instagram" => "Instagram",
        "linkedin" => "LinkedIn",
        other => panic!("no display name for {other}"),
    }
}

/// Reads the statuses of `query` for `times` runner polls, asserting each time that
/// the job still reads `expected` and the fakes still count `posts`: nothing more
/// happens to a job that is done with.
async fn stays(base: &str, query: &str, expected: &str, fakes: &Fakes, posts: [usize; 3]) {
    for _ in 0..5 {
        let status = job_status(base, KEY, query).await;
        assert_eq!(status["status"], expected, "{status}");
        assert_eq!(fakes.posts(), posts, "{status}");
        tokio::time::sleep(runner_poll()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_job_fires_once_and_a_cancelled_one_never_fires() {
    let fakes = Fakes::start().await;
    let server = start(&config_toml(
        &fakes,
        Store::Memory,
        &format!("poll_ms = {RUNNER_POLL_MS}"),
    ))
    .await;
    let base = server.base_url();
    let video = mp4_bytes(150_000);
    let when = seconds_ahead(3);

    let fired = upload(
        base,
        &[],
        titled_video_form(&video, "Fires", &PLATFORMS, &[("scheduled_date", &when)]),
    )
    .await;
    assert_eq!(fired.status, 202, "{fired:?}");
    let fired_id = fired.body["job_id"].as_str().unwrap().to_string();
    assert_eq!(
        fired.body,
        json!({"success": true, "job_id": fired_id, "scheduled_date": when})
    );
    let kept = upload(
        base,
        &[],
        titled_video_form(
            &video,
            "Cancelled",
            &PLATFORMS,
            &[("scheduled_date", &when)],
        ),
    )
    .await;
    assert_eq!(kept.status, 202, "{kept:?}");
    let cancelled_id = kept.body["job_id"].as_str().unwrap().to_string();

    let (code, listed) = get(base, "/api/uploadposts/schedule", KEY).await;
    assert_eq!(code, 200, "{listed}");
    let mut ids: Vec<&str> = listed["scheduled_posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["job_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![fired_id.as_str(), cancelled_id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "{listed}");

    let response = reqwest::Client::new()
        .delete(format!("{base}/api/uploadposts/schedule/{cancelled_id}"))
        .header("authorization", format!("Apikey {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": true, "job_id": cancelled_id, "credits_refunded": 1})
    );

    let fired_query = format!("job_id={fired_id}");
    let cancelled_query = format!("job_id={cancelled_id}");
    assert_eq!(
        job_status(base, KEY, &fired_query).await["status"],
        "scheduled"
    );
    assert_eq!(
        job_status(base, KEY, &cancelled_query).await["status"],
        "cancelled"
    );
    assert_eq!(fakes.posts(), [0, 0, 0], "nothing fires before its time");

    let done = wait_finished(base, KEY, &fired_query, WITHIN, EVERY).await;
    assert_eq!(done["status"], "completed", "{done}");
    for platform in PLATFORMS {
        let item = item(&done, platform);
        assert_eq!(item["success"], true, "{item}");
        let at = item["upload_timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).unwrap()
                >= chrono::DateTime::parse_from_rfc3339(&when).unwrap(),
            "{platform} published at {at}, before its time {when}"
        );
    }
    for fake in fakes.all() {
        let posts = fake.published();
        assert_eq!(posts.len(), 1, "{}", fake.platform());
        assert_eq!(posts[0].media, vec![ReceivedMedia::of(&video)]);
    }
    // Past both jobs' time: the fired one is not fired again, the cancelled one never.
    stays(base, &fired_query, "completed", &fakes, [1, 1, 1]).await;
    stays(base, &cancelled_query, "cancelled", &fakes, [1, 1, 1]).await;
    let (_, listed) = get(base, "/api/uploadposts/schedule", KEY).await;
    assert_eq!(listed, json!({"success": true, "scheduled_posts": []}));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_job_fires_once_across_a_restart() {
    let fakes = Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let toml = config_toml(
        &fakes,
        Store::Files(dir.path()),
        &format!("poll_ms = {RUNNER_POLL_MS}\nlease_secs = {LEASE_SECS}"),
    );
    let video = mp4_bytes(150_000);
    let when = seconds_ahead(3);

    let server = start(&toml).await;
    let scheduled = upload(
        server.base_url(),
        &[],
        titled_video_form(
            &video,
            "Across a restart",
            &PLATFORMS,
            &[("scheduled_date", &when)],
        ),
    )
    .await;
    assert_eq!(scheduled.status, 202, "{scheduled:?}");
    let job_id = scheduled.body["job_id"].as_str().unwrap().to_string();
    let query = format!("job_id={job_id}");
    server.stop().await.unwrap();
    assert_eq!(
        fakes.posts(),
        [0, 0, 0],
        "the first server stopped before its time"
    );

    // A new server on the same SQLite file and media directory.
    let server = start(&toml).await;
    let base = server.base_url();
    let status = job_status(base, KEY, &query).await;
    assert_eq!(status["status"], "scheduled", "{status}");
    let (_, listed) = get(base, "/api/uploadposts/schedule", KEY).await;
    assert_eq!(listed["scheduled_posts"][0]["job_id"], job_id.as_str());

    let done = wait_finished(base, KEY, &query, WITHIN, EVERY).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completed"], 3, "{done}");
    for fake in fakes.all() {
        let posts = fake.published();
        assert_eq!(posts.len(), 1, "{}", fake.platform());
        assert_eq!(
            posts[0].media,
            vec![ReceivedMedia::of(&video)],
            "the media kept across the restart"
        );
    }
    stays(base, &query, "completed", &fakes, [1, 1, 1]).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_publishes_and_counts_once() {
    let fakes = Fakes::start().await;
    let server = start(&config_toml(&fakes, Store::Memory, "")).await;
    let base = server.base_url();
    let video = mp4_bytes(150_000);

    // Sent twice, one after the other: the second answer is the first.
    let first = upload(
        base,
        &[("Idempotency-Key", "order-1")],
        titled_video_form(&video, "Once", &PLATFORMS, &[]),
    )
    .await;
    assert_eq!(first.status, 200, "{first:?}");
    for platform in PLATFORMS {
        assert_eq!(
            first.body["results"][platform]["success"], true,
            "{first:?}"
        );
    }
    assert_eq!(first.body["usage"]["count"], 1, "{first:?}");
    assert!(first.request_id.is_some(), "{first:?}");
    let again = upload(
        base,
        &[("Idempotency-Key", "order-1")],
        titled_video_form(&video, "Once", &PLATFORMS, &[]),
    )
    .await;
    assert_eq!(again, first);
    assert_eq!(fakes.posts(), [1, 1, 1]);

    // Five at once with one key (under either header name): one post, one count.
    let answers = five_at_once(base, &video).await;
    let one = &answers[0];
    assert_eq!(one.status, 200, "{one:?}");
    assert_eq!(one.body["usage"]["count"], 2, "{one:?}");
    for platform in PLATFORMS {
        assert_eq!(one.body["results"][platform]["success"], true, "{one:?}");
    }
    assert!(one.request_id.is_some(), "{one:?}");
    assert_ne!(one.request_id, first.request_id);
    for answer in &answers {
        assert_eq!(answer, one);
    }
    assert_eq!(fakes.posts(), [2, 2, 2]);

    // Without a key, the next upload is the third counted.
    let third = upload(
        base,
        &[],
        titled_video_form(&video, "Third", &PLATFORMS, &[]),
    )
    .await;
    assert_eq!(third.status, 200, "{third:?}");
    assert_eq!(third.body["usage"]["count"], 3, "{third:?}");
    assert_eq!(fakes.posts(), [3, 3, 3]);
    server.stop().await.unwrap();
}

/// Five concurrent uploads with the key `order-2`, alternating `Idempotency-Key` and
/// `X-Idempotency-Key`.
async fn five_at_once(base: &str, video: &[u8]) -> Vec<Answer> {
    let mut tasks = Vec::new();
    for i in 0..5 {
        let base = base.to_string();
        let form = titled_video_form(video, "Once, concurrently", &PLATFORMS, &[]);
        let header = if i % 2 == 0 {
            "Idempotency-Key"
        } else {
            "X-Idempotency-Key"
        };
        tasks.push(tokio::spawn(async move {
            upload(&base, &[(header, "order-2")], form).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_upload_past_the_sync_timeout_answers_in_the_background_and_completes() {
    const SYNC_TIMEOUT_SECS: u64 = 1;
    let fakes = Fakes::start().await;
    // TikTok keeps the video processing well past the sync timeout.
    fakes
        .tiktok
        .set_processing_delay(Duration::from_secs(3 * SYNC_TIMEOUT_SECS));
    let server = start(&config_toml(
        &fakes,
        Store::Memory,
        &format!("sync_timeout_secs = {SYNC_TIMEOUT_SECS}\npoll_ms = {RUNNER_POLL_MS}"),
    ))
    .await;
    let base = server.base_url();
    let video = mp4_bytes(150_000);

    let started = std::time::Instant::now();
    let answer = upload(
        base,
        &[],
        titled_video_form(&video, "Slow", &["tiktok", "linkedin"], &[]),
    )
    .await;
    let waited = started.elapsed();
    assert_eq!(answer.status, 200, "{answer:?}");
    let request_id = answer.request_id.clone().unwrap();
    assert_eq!(
        answer.body,
        json!({
            "success": true,
            "message": BACKGROUND,
            "request_id": request_id,
            "total_platforms": 2,
        })
    );
    assert!(
        waited >= Duration::from_secs(SYNC_TIMEOUT_SECS),
        "answered after {waited:?}, before the sync timeout"
    );

    let done = wait_finished(
        base,
        KEY,
        &format!("request_id={request_id}"),
        WITHIN,
        EVERY,
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completed"], 2, "{done}");
    assert_eq!(done["total"], 2, "{done}");
    assert_eq!(item(&done, "tiktok")["success"], true, "{done}");
    assert!(item(&done, "tiktok")["publish_id"].is_string(), "{done}");
    assert_eq!(item(&done, "linkedin")["success"], true, "{done}");
    assert_eq!(fakes.posts(), [1, 0, 1]);
    server.stop().await.unwrap();
}

/// The checks of a finished job after a crash: every platform published exactly once,
/// or failed honestly with the unknown-outcome sentence (and then published at most
/// once); never twice.
fn assert_never_twice(done: &Value, fakes: &Fakes) {
    for platform in PLATFORMS {
        let item = item(done, platform);
        let posts = fakes.fake(platform).published().len();
        if item["success"] == true {
            assert_eq!(posts, 1, "{platform} published exactly once: {item}");
        } else {
            assert_eq!(
                item["error"],
                unknown_outcome(display_name(platform)).message(),
                "{platform} failed honestly: {item}"
            );
            assert!(posts <= 1, "{platform} never published twice: {item}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_in_the_middle_of_a_job_never_publishes_twice() {
    let fakes = Fakes::start().await;
    // TikTok: `video/init` hangs, so TikTok is in flight with nothing answered when
    // fanout dies: the post may or may not exist, and must not be sent again.
    fakes.tiktok.inject(Fault::on(
        "/video/init/",
        FaultKind::Delay(Duration::from_secs(300)),
    ));
    // Instagram: the container stays IN_PROGRESS for 30 status reads (the publisher
    // backs off to 4 × poll_interval_ms between reads: ~2 s).
    fakes.instagram.set_processing_reads(30);
    // LinkedIn: the video stays PROCESSING for 3 s after its upload.
    fakes
        .linkedin
        .set_processing_time(Some(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_toml(
            &fakes,
            Store::Files(dir.path()),
            &format!("poll_ms = {RUNNER_POLL_MS}\nlease_secs = {LEASE_SECS}"),
        ),
    );

    let mut first = ServerProcess::start(&config, dir.path());
    let video = mp4_bytes(300_000);
    let accepted = upload(
        &first.base_url,
        &[],
        titled_video_form(&video, "Killed", &PLATFORMS, &[("async_upload", "true")]),
    )
    .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let request_id = accepted.request_id.clone().unwrap();
    assert_eq!(
        accepted.body,
        json!({"success": true, "message": BACKGROUND, "request_id": request_id, "total_platforms": 3})
    );
    let query = format!("request_id={request_id}");

    // In the middle: every platform processing, Instagram's container and LinkedIn's
    // video created on the platforms, nothing published yet.
    let base = first.base_url.clone();
    wait_for("every platform in flight", WITHIN, EVERY, || async {
        let status = job_status(&base, KEY, &query).await;
        let in_flight = PLATFORMS
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
    first.kill9();
    assert_eq!(fakes.posts(), [0, 0, 0], "{}", first.output());

    // Started again on the same SQLite file and media directory: once the dead
    // process's lease lapsed, the job is taken up again.
    let second = ServerProcess::start(&config, dir.path());
    let done = wait_finished(&second.base_url, KEY, &query, WITHIN, EVERY).await;
    assert_never_twice(&done, &fakes);
    // TikTok's init was in flight: honestly unknown, never sent again.
    let tiktok = item(&done, "tiktok");
    assert_eq!(tiktok["status"], "failed", "{done}");
    assert_eq!(
        tiktok["error"],
        unknown_outcome("TikTok").message(),
        "{done}"
    );
    // Instagram and LinkedIn had recorded how far they got: resumed, published once.
    for platform in ["instagram", "linkedin"] {
        let item = item(&done, platform);
        assert_eq!(item["status"], "completed", "{done}\n{}", second.output());
        assert_eq!(item["success"], true, "{done}");
        let posts = fakes.fake(platform).published();
        assert_eq!(posts[0].media, vec![ReceivedMedia::of(&video)]);
    }
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(fakes.posts(), [0, 1, 1]);
    stays(&second.base_url, &query, "completed", &fakes, [0, 1, 1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_a_running_job_finish_within_the_grace_period() {
    const GRACE_SECS: u64 = 10;
    let fakes = Fakes::start().await;
    // TikTok processes for 2 s once it has the video: well within the grace period.
    fakes.tiktok.set_processing_delay(Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let toml = config_toml(
        &fakes,
        Store::Files(dir.path()),
        &format!(
            "poll_ms = {RUNNER_POLL_MS}\nlease_secs = {LEASE_SECS}\nshutdown_grace_secs = {GRACE_SECS}"
        ),
    );
    let config = write_config(dir.path(), &toml);
    let mut server = ServerProcess::start(&config, dir.path());
    let video = mp4_bytes(150_000);
    let request_id =
        upload_async_and_wait_for_tiktok(&server.base_url, &video, &["tiktok", "linkedin"], &fakes)
            .await;

    server.sigterm();
    let exit = server
        .wait_exit(Duration::from_secs(GRACE_SECS) + WITHIN)
        .await;
    assert!(exit.success(), "{exit:?}\n{}", server.output());

    // What the stopped server left in the store: the job finished, published once.
    let job = stored_job(&toml, &request_id).await;
    assert!(job.finished_at.is_some(), "{job:?}\n{}", server.output());
    for run in &job.platforms {
        assert_eq!(run.state, PlatformState::Completed, "{run:?}");
        assert!(run.succeeded(), "{run:?}");
    }
    assert_eq!(fakes.posts(), [1, 0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_leaves_a_job_longer_than_the_grace_period_for_the_next_start() {
    const GRACE_SECS: u64 = 1;
    let fakes = Fakes::start().await;
    // TikTok processes for 5 s once it has the video: longer than the grace period.
    fakes.tiktok.set_processing_delay(Duration::from_secs(5));
    let dir = tempfile::tempdir().unwrap();
    let toml = config_toml(
        &fakes,
        Store::Files(dir.path()),
        &format!(
            "poll_ms = {RUNNER_POLL_MS}\nlease_secs = {LEASE_SECS}\nshutdown_grace_secs = {GRACE_SECS}"
        ),
    );
    let config = write_config(dir.path(), &toml);
    let mut server = ServerProcess::start(&config, dir.path());
    let video = mp4_bytes(150_000);
    let request_id =
        upload_async_and_wait_for_tiktok(&server.base_url, &video, &["tiktok"], &fakes).await;

    server.sigterm();
    let exit = server
        .wait_exit(Duration::from_secs(GRACE_SECS) + WITHIN)
        .await;
    assert!(exit.success(), "{exit:?}\n{}", server.output());
    let job = stored_job(&toml, &request_id).await;
    assert!(job.finished_at.is_none(), "left running: {job:?}");
    assert_eq!(job.platforms[0].state, PlatformState::Processing, "{job:?}");

    // The next start takes it up (once the lease lapsed) and finishes it: TikTok's
    // post is the one it already had, not a second one.
    let next = start(&toml).await;
    let done = wait_finished(
        next.base_url(),
        KEY,
        &format!("request_id={request_id}"),
        WITHIN,
        EVERY,
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(item(&done, "tiktok")["success"], true, "{done}");
    assert_eq!(fakes.posts(), [1, 0, 0]);
    next.stop().await.unwrap();
}

/// An async upload to `platforms`; waits until TikTok has every byte of the video
/// (it then processes it) and the job is in progress. The request id.
async fn upload_async_and_wait_for_tiktok(
    base: &str,
    video: &[u8],
    platforms: &[&str],
    fakes: &Fakes,
) -> String {
    let accepted = upload(
        base,
        &[],
        titled_video_form(video, "Stopping", platforms, &[("async_upload", "true")]),
    )
    .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let request_id = accepted.request_id.clone().unwrap();
    let query = format!("request_id={request_id}");
    wait_for("TikTok processing the video", WITHIN, EVERY, || async {
        let status = job_status(base, KEY, &query).await;
        if fakes.tiktok.published().len() == 1 && status["status"] == "in_progress" {
            Ok(())
        } else {
            Err(status.to_string())
        }
    })
    .await;
    request_id
}

/// The job of `request_id` as stored, read without running anything (no runner, no
/// listener serving).
async fn stored_job(toml: &str, request_id: &str) -> fanout_core::Job {
    let app = App::build(Config::from_toml(toml).unwrap()).await.unwrap();
    app.engine()
        .job("acme", &JobRef::RequestId(request_id.to_string()))
        .await
        .unwrap()
        .unwrap()
}

fn write_config(dir: &Path, toml: &str) -> PathBuf {
    let path = dir.join("fanout.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// The `fanout` binary as its own OS process.
use support::process::FanoutProcess as ServerProcess;

/// In `GET /api/uploadposts/status`, each result's `status` is the platform's state
/// (`queued`, `processing`, `completed`, `failed`); the receipt's own status word
/// (TikTok's `PUBLISH_SUCCESS`) is kept as `platform_status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_items_show_the_platform_state_not_the_receipt_status() {
    let fakes = Fakes::start().await;
    let server = start(&config_toml(&fakes, Store::Memory, "")).await;
    let answer = upload(
        server.base_url(),
        &[],
        titled_video_form(&mp4_bytes(150_000), "State", &["tiktok"], &[]),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.body["results"]["tiktok"]["status"],
        "PUBLISH_SUCCESS"
    );
    let status = job_status(
        server.base_url(),
        KEY,
        &format!("request_id={}", answer.request_id.unwrap()),
    )
    .await;
    assert_eq!(item(&status, "tiktok")["status"], "completed", "{status}");
    assert_eq!(
        item(&status, "tiktok")["platform_status"],
        "PUBLISH_SUCCESS",
        "{status}"
    );
    server.stop().await.unwrap();
}
