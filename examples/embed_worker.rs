//! Embedding fanout without HTTP: a background worker takes file paths from its own
//! queue, publishes each file with the typed API ([`Engine::submit`], then
//! [`Engine::wait`]) and reports what every platform answered.
//!
//! `cargo run --example embed_worker` runs it offline against the strict fake TikTok of
//! `fanout-testkit`; a real worker points `TikTokConfig::base_url` at nothing (the
//! default is TikTok's API) and takes its accounts from its own store.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fanout_core::{
    Account, AccountDirectory, Engine, FormFields, MediaFile, MediaKind, MemoryDirectory,
    MemoryUsage, Plan, PlatformState, Profile, Submission,
};
use fanout_testkit::fakes::tiktok::FakeTikTok;
use fanout_testkit::FakePlatform;
use fanout_tiktok::{TikTokConfig, TikTokPublisher};
use tokio::sync::mpsc;

/// What the worker reports for one file: per platform, fanout's state and the result
/// object (the post id on success, the reason on failure).
type Report = Vec<(String, PlatformState, serde_json::Value)>;

/// Publishes one file from disk to every platform of profile `main`.
async fn publish_file(
    engine: &Engine,
    spool: &Path,
    path: &Path,
) -> Result<Report, Box<dyn Error>> {
    // The file is copied into fanout's spool (the original is left alone); a byte
    // stream works as well: `MediaFile::spool(dir, stream, max_bytes, name, None)`.
    let video = MediaFile::spool_file(spool, path, 4 << 30).await?;
    let mut submission = Submission::new("worker", "main", MediaKind::Video, vec![Arc::new(video)]);
    let title = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    submission.fields = FormFields::from_pairs([("title", title.unwrap_or_default())]);
    submission.platforms = vec!["tiktok".into()];
    // The same key twice publishes once: safe to re-queue after a crash.
    submission.idempotency_key = Some(path.display().to_string());
    let submitted = engine.submit(submission).await?;
    let job = engine
        .wait(&submitted.job.job_id, Duration::from_secs(60))
        .await?;
    Ok(job
        .platforms
        .into_iter()
        .map(|run| (run.platform, run.state, run.result.unwrap_or_default()))
        .collect())
}

/// Starts the fake platform and the engine, queues `count` files and lets the worker
/// publish them. Returns the worker's reports and the fake, to look at what it got.
async fn run(count: usize) -> Result<(Vec<Report>, FakeTikTok), Box<dyn Error>> {
    let tiktok = FakeTikTok::spawn().await?;
    let mut config = TikTokConfig::default();
    config.base_url = tiktok.base_url();

    let directory = Arc::new(MemoryDirectory::new());
    let mut profile = Profile {
        username: "main".into(),
        connections: Default::default(),
    };
    profile
        .connections
        .insert("tiktok".into(), tiktok.connection("worker-tiktok"));
    directory
        .upsert(Account {
            name: "worker".into(),
            api_key_hash: None, // no HTTP, no key
            api_key_expires_at: None,
            plan: Plan {
                monthly_uploads: 1000,
                daily_uploads_per_account: None,
            },
            profiles: [("main".to_string(), profile)].into(),
        })
        .await?;

    let engine = Engine::builder(directory, Arc::new(MemoryUsage::new()))
        // Where platforms that pull media (TikTok photos) would fetch it from.
        .public_base_url("http://127.0.0.1:8080/".parse()?)
        .publisher(Arc::new(TikTokPublisher::new(config)))
        .build()?;
    // Runs scheduled posts and follow-ups; submitted posts start at once anyway.
    let runner = engine.start_runner();

    let spool = tempfile::tempdir()?;
    let (queue, mut incoming) = mpsc::channel::<PathBuf>(16);
    let worker = {
        let engine = engine.clone();
        let spool = spool.path().to_path_buf();
        tokio::spawn(async move {
            let mut reports = Vec::new();
            while let Some(path) = incoming.recv().await {
                match publish_file(&engine, &spool, &path).await {
                    Ok(report) => reports.push(report),
                    Err(err) => eprintln!("{}: {err}", path.display()),
                }
            }
            reports
        })
    };

    let files = tempfile::tempdir()?;
    for n in 0..count {
        let path = files.path().join(format!("clip-{n}.mp4"));
        tokio::fs::write(&path, fanout_testkit::media::mp4_bytes(64 * 1024 + n)).await?;
        queue.send(path).await?;
    }
    drop(queue); // the worker stops when its queue is empty and closed
    let reports = worker.await?;
    runner.shutdown(Duration::from_secs(5)).await;
    Ok((reports, tiktok))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (reports, tiktok) = run(2).await?;
    for report in &reports {
        for (platform, state, result) in report {
            println!("{platform}: {state:?} {result}");
        }
    }
    println!("the fake TikTok holds {} posts", tiktok.published().len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_worker_publishes_each_queued_file_once() {
        let (reports, tiktok) = run(2).await.unwrap();
        assert_eq!(reports.len(), 2);
        for report in &reports {
            let [(platform, state, result)] = &report[..] else {
                panic!("one platform: {report:?}")
            };
            assert_eq!(platform, "tiktok");
            assert_eq!(*state, PlatformState::Completed, "{result}");
            assert_eq!(result["success"], true);
        }
        let published = tiktok.published();
        assert_eq!(published.len(), 2);
        let mut captions: Vec<_> = published.iter().map(|p| p.caption.as_str()).collect();
        captions.sort();
        assert_eq!(captions, ["clip-0", "clip-1"]);
        // The bytes TikTok received are the files' bytes.
        let mut sizes: Vec<_> = published.iter().map(|p| p.media[0].size).collect();
        sizes.sort();
        assert_eq!(sizes, [64 * 1024, 64 * 1024 + 1]);
        let expected =
            fanout_testkit::ReceivedMedia::of(&fanout_testkit::media::mp4_bytes(64 * 1024));
        assert!(published
            .iter()
            .any(|p| p.media[0].sha256 == expected.sha256));
    }
}
