//! What the durable job model costs: jobs per second through submit → run →
//! completed, and the latency it adds to one small synchronous upload.
//!
//! ```sh
//! cargo run --release -p fanout-benches --bin jobs
//! ```
//!
//! Everything runs in this process: the ready server in sandbox mode (the three
//! in-process fakes answer at once: no delay is injected), the uploading clients and,
//! for the last column, the three publishers called directly. Uploads are a 96 KiB MP4
//! (LinkedIn refuses videos under 75 KiB) to TikTok, Instagram and LinkedIn. The
//! publishers poll every [`POLL_INTERVAL_MS`] ms (the Instagram and LinkedIn fakes
//! answer "processing" to the first status read), the same in every column, so the
//! figures are fanout's own cost, not a poll interval.
//!
//! 1. Throughput, with the production storage (`[store] kind = "sqlite"`, `[media]
//!    kind = "local"`, both in a temporary directory) and with both in memory:
//!    - sync: [`JOBS`] uploads from [`CLIENTS`] concurrent clients, each answered with
//!      the final envelope;
//!    - async: [`JOBS`] uploads with `async_upload=true` from [`CLIENTS`] clients, then
//!      `GET /api/uploadposts/status?request_id=` until every job is `completed`.
//! 2. Latency of one sync upload, [`LATENCY_SAMPLES`] requests one after another: the
//!    server with SQLite + local media, the server with memory store + memory media,
//!    and the three publishers' `publish` calls alone (concurrently, configured as the
//!    sandbox server configures them, against fresh sandbox fakes, with a spooled
//!    file: the pre-job path minus HTTP, parsing and admission).
//!
//! Takes about ten seconds. Exits non-zero if any upload fails.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fanout_benches::{job_status, start_with, upload_file_with, BenchServer, Storage, PLATFORMS};
use fanout_core::{FormFields, MediaHost, Post, PostMedia, PublishContext, Publisher};
use fanout_instagram::{InstagramConfig, InstagramPublisher};
use fanout_linkedin::{LinkedInConfig, LinkedInPublisher};
use fanout_server::Sandbox;
use fanout_testkit::{FakePlatform, MediaServer};
use fanout_tiktok::{TikTokConfig, TikTokPublisher};
use futures::{StreamExt, TryStreamExt};

type BoxError = Box<dyn std::error::Error>;

/// Size of the uploaded video: small, but above LinkedIn's 75 KiB minimum.
const VIDEO_BYTES: u64 = 96 * 1024;
/// Jobs per throughput run. The sandbox TikTok publisher allows 600 `init` calls a
/// minute per token (a burst of 600): one server takes at most
/// `2 * JOBS + WARMUP + LATENCY_SAMPLES` uploads, which stays under it.
const JOBS: usize = 200;
/// Concurrent clients in the throughput runs.
const CLIENTS: usize = 4;
/// Sequential sync uploads per latency column.
const LATENCY_SAMPLES: usize = 50;
/// Uploads before anything is measured (connections, first token use, SQLite pages).
const WARMUP: usize = 5;
/// The publishers' status poll interval, server and direct calls alike.
const POLL_INTERVAL_MS: u64 = 1;
/// How often the async run re-reads the status of jobs not completed yet.
const STATUS_POLL: Duration = Duration::from_millis(2);

fn platform_settings() -> String {
    PLATFORMS
        .iter()
        .map(|p| format!("[platforms.{p}]\npoll_interval_ms = {POLL_INTERVAL_MS}\n"))
        .collect()
}

/// One sync upload; an error unless every platform published.
async fn sync_upload(
    client: &reqwest::Client,
    base_url: &str,
    video: &Path,
) -> Result<(), BoxError> {
    let (status, body) = upload_file_with(client, base_url, video, &PLATFORMS, &[]).await?;
    if status != 200 {
        return Err(format!("sync upload answered {status}: {body}").into());
    }
    for p in PLATFORMS {
        if body["results"][p]["success"] != true {
            return Err(format!("sync upload: {p} did not publish: {body}").into());
        }
    }
    Ok(())
}

/// One async upload; its request id.
async fn async_upload(
    client: &reqwest::Client,
    base_url: &str,
    video: &Path,
) -> Result<String, BoxError> {
    let fields = [("async_upload", "true")];
    let (status, body) = upload_file_with(client, base_url, video, &PLATFORMS, &fields).await?;
    match (status, body["request_id"].as_str()) {
        (200, Some(id)) => Ok(id.to_string()),
        _ => Err(format!("async upload answered {status}: {body}").into()),
    }
}

/// Whether the job is completed with every platform published; an error if it
/// ended any other way.
async fn is_completed(
    client: &reqwest::Client,
    base_url: &str,
    request_id: &str,
) -> Result<bool, BoxError> {
    let (status, body) = job_status(client, base_url, request_id).await?;
    if status != 200 {
        return Err(format!("status of {request_id} answered {status}: {body}").into());
    }
    match body["status"].as_str() {
        Some("completed") => {
            let results = body["results"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            // Each item's `status` is the platform's run state, unless the receipt
            // has a `status` of its own (TikTok's `PUBLISH_SUCCESS`): count `success`.
            let published = body["completed"] == PLATFORMS.len()
                && results.len() == PLATFORMS.len()
                && results.iter().all(|r| r["success"] == true);
            if published {
                Ok(true)
            } else {
                Err(format!("job {request_id} completed without every platform: {body}").into())
            }
        }
        Some("pending" | "in_progress") => Ok(false),
        _ => Err(format!("job {request_id} ended badly: {body}").into()),
    }
}

struct Throughput {
    sync_jobs_per_sec: f64,
    async_accepted_per_sec: f64,
    async_jobs_per_sec: f64,
}

async fn throughput(server: &BenchServer, video: &Path) -> Result<Throughput, BoxError> {
    let client = reqwest::Client::new();
    let base_url = server.base_url.as_str();
    let started = Instant::now();
    futures::stream::iter(0..JOBS)
        .map(|_| sync_upload(&client, base_url, video))
        .buffer_unordered(CLIENTS)
        .try_collect::<()>()
        .await?;
    let sync_elapsed = started.elapsed();

    let started = Instant::now();
    let mut pending: Vec<String> = futures::stream::iter(0..JOBS)
        .map(|_| async_upload(&client, base_url, video))
        .buffer_unordered(CLIENTS)
        .try_collect()
        .await?;
    let accepted = started.elapsed();
    while !pending.is_empty() {
        let done: Vec<bool> = futures::stream::iter(pending.iter())
            .map(|id| is_completed(&client, base_url, id))
            .buffered(CLIENTS)
            .try_collect()
            .await?;
        let mut done = done.into_iter();
        pending.retain(|_| !done.next().unwrap_or(false));
        if !pending.is_empty() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "{} async jobs still not completed after 60 s",
                    pending.len()
                )
                .into());
            }
            tokio::time::sleep(STATUS_POLL).await;
        }
    }
    let async_elapsed = started.elapsed();
    Ok(Throughput {
        sync_jobs_per_sec: JOBS as f64 / sync_elapsed.as_secs_f64(),
        async_accepted_per_sec: JOBS as f64 / accepted.as_secs_f64(),
        async_jobs_per_sec: JOBS as f64 / async_elapsed.as_secs_f64(),
    })
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy)]
struct Latency {
    p50: f64,
    p99: f64,
    mean: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        // Nearest rank.
        let rank = |p: f64| {
            let index = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            samples[index.clamp(1, samples.len()) - 1].as_secs_f64() * 1000.0
        };
        let total: Duration = samples.iter().sum();
        Self {
            p50: rank(50.0),
            p99: rank(99.0),
            mean: total.as_secs_f64() * 1000.0 / samples.len() as f64,
        }
    }
}

/// Times `WARMUP` then `LATENCY_SAMPLES` sequential runs of `once`.
async fn time_sequential<F, Fut>(mut once: F) -> Result<Latency, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), BoxError>>,
{
    for _ in 0..WARMUP {
        once().await?;
    }
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        once().await?;
        samples.push(started.elapsed());
    }
    Ok(Latency::of(samples))
}

async fn server_latency(server: &BenchServer, video: &Path) -> Result<Latency, BoxError> {
    let client = reqwest::Client::new();
    time_sequential(|| sync_upload(&client, &server.base_url, video)).await
}

/// The three publishers, configured as the sandbox server configures them, pointed at
/// `sandbox`'s fakes.
fn publishers(sandbox: &Sandbox) -> Vec<(Arc<dyn Publisher>, &dyn FakePlatform)> {
    let mut tiktok = TikTokConfig::default();
    tiktok.base_url = sandbox.tiktok.base_url();
    tiktok.poll_interval_ms = POLL_INTERVAL_MS;
    tiktok.init_calls_per_minute = 600;
    let mut instagram = InstagramConfig::default();
    instagram.base_url = sandbox.instagram.base_url();
    instagram.upload_base_url = sandbox.instagram.upload_base_url();
    instagram.poll_interval_ms = POLL_INTERVAL_MS;
    instagram.calls_per_hour = 100_000;
    let mut linkedin = LinkedInConfig::default();
    linkedin.base_url = sandbox.linkedin.base_url();
    linkedin.poll_interval_ms = POLL_INTERVAL_MS;
    linkedin.daily_post_limit = 100_000;
    vec![
        (Arc::new(TikTokPublisher::new(tiktok)), &sandbox.tiktok),
        (
            Arc::new(InstagramPublisher::new(instagram)),
            &sandbox.instagram,
        ),
        (
            Arc::new(LinkedInPublisher::new(linkedin)),
            &sandbox.linkedin,
        ),
    ]
}

/// The three `Publisher::publish` calls alone, concurrently, per upload.
async fn publishers_latency(dir: &Path) -> Result<Latency, BoxError> {
    let sandbox = Sandbox::start().await?;
    sandbox.instagram.set_publishing_quota(u64::MAX / 2);
    sandbox.linkedin.set_daily_post_limit(u32::MAX);
    let media = MediaServer::spawn().await?;
    let media_host: Arc<dyn MediaHost> = media.host();
    let video = fanout_testkit::media::spooled_mp4(dir, VIDEO_BYTES as usize).await;
    let post = Post {
        title: "fanout benchmark".to_string(),
        description: None,
        media: PostMedia::Video(video),
        fields: FormFields::from_pairs([("title", "fanout benchmark")]),
    };
    let targets: Vec<_> = publishers(&sandbox)
        .into_iter()
        .map(|(publisher, fake)| (publisher, fake.connection("bench_raw")))
        .collect();
    let latency = time_sequential(|| {
        let calls = targets.iter().map(|(publisher, connection)| {
            let ctx = PublishContext::new(&post, connection, media_host.as_ref());
            async move {
                publisher
                    .publish(ctx)
                    .await
                    .map_err(|e| format!("{} failed: {}", publisher.id(), e.message()))
            }
        });
        async move {
            for outcome in futures::future::join_all(calls).await {
                outcome?;
            }
            Ok(())
        }
    })
    .await?;
    Ok(latency)
}

fn ms(v: f64) -> String {
    format!("{v:>8.2} ms")
}

fn diff(a: Latency, b: Latency) -> String {
    format!(
        "{:>+8.2} ms {:>+8.2} ms {:>+8.2} ms",
        a.p50 - b.p50,
        a.p99 - b.p99,
        a.mean - b.mean
    )
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let began = Instant::now();
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("clip.mp4");
    fanout_testkit::media::write_mp4_file(&video, VIDEO_BYTES)?;
    let settings = platform_settings();

    let mut rows = Vec::new();
    let mut latencies = Vec::new();
    for storage in [Storage::Durable, Storage::Memory] {
        let server = start_with(storage, &settings).await?;
        let latency = server_latency(&server, &video).await?;
        let jobs = throughput(&server, &video).await?;
        server.stop().await?;
        rows.push((storage, jobs));
        latencies.push((storage, latency));
    }
    let direct = publishers_latency(dir.path()).await?;

    println!(
        "fanout jobs bench: {} KiB MP4 to {} (sandbox fakes, no injected delay; publisher poll interval {POLL_INTERVAL_MS} ms)",
        VIDEO_BYTES / 1024,
        PLATFORMS.join(" + ")
    );
    println!();
    println!("Throughput, submit -> run -> completed over HTTP ({JOBS} jobs, {CLIENTS} concurrent clients)");
    println!(
        "  {:<32} {:>14} {:>18} {:>18}",
        "storage", "sync jobs/s", "async accepted/s", "async completed/s"
    );
    for (storage, t) in &rows {
        println!(
            "  {:<32} {:>14.1} {:>18.1} {:>18.1}",
            storage.label(),
            t.sync_jobs_per_sec,
            t.async_accepted_per_sec,
            t.async_jobs_per_sec
        );
    }
    println!("  (async completed/s: from the first async submit until status polling saw every job completed)");
    println!();
    println!(
        "Latency of one sync upload ({LATENCY_SAMPLES} sequential requests after {WARMUP} warm-up)"
    );
    println!(
        "  {:<46} {:>11} {:>11} {:>11}",
        "path", "p50", "p99", "mean"
    );
    let durable = latencies[0].1;
    let memory = latencies[1].1;
    for (label, l) in [
        ("server, sqlite store + local media (default)", durable),
        ("server, memory store + memory media", memory),
        ("3 x Publisher::publish alone, concurrently", direct),
    ] {
        println!("  {label:<46} {} {} {}", ms(l.p50), ms(l.p99), ms(l.mean));
    }
    println!();
    println!(
        "Added latency (difference of each figure)\n  {:<46} {:>11} {:>11} {:>11}",
        "", "p50", "p99", "mean"
    );
    for (label, slower, faster) in [
        (
            "sqlite + local media over memory (durability)",
            durable,
            memory,
        ),
        ("memory server over publishers (HTTP, jobs)", memory, direct),
        ("default server over publishers (total)", durable, direct),
    ] {
        println!("  {label:<46} {}", diff(slower, faster));
    }
    println!();
    println!("total bench time: {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}
