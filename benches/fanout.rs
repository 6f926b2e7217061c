//! Fan-out is concurrent: three platforms that each take 200 ms answer in about
//! 200 ms, not 600.
//!
//! Each fake delays its publishing call by 200 ms (fault injection). `one_request`
//! publishes to all three platforms in one request; `three_requests_in_sequence`
//! publishes to each in turn, the time a sequential implementation would take.

// criterion_group! generates a public function without documentation.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fanout_benches::{start, upload_file, PLATFORMS};
use fanout_testkit::{FakePlatform, Fault, FaultKind};

const LATENCY: Duration = Duration::from_millis(200);

/// Status polls every 10 ms, so the figure is the platforms' latency, not the poll
/// interval.
const FAST_POLLS: &str = r#"
[platforms.tiktok]
poll_interval_ms = 10
[platforms.instagram]
poll_interval_ms = 10
[platforms.linkedin]
poll_interval_ms = 10
"#;

fn fan_out(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let video = dir.path().join("clip.mp4");
    fanout_testkit::media::write_mp4_file(&video, 200_000).expect("writing the sample video");
    let server = runtime
        .block_on(start(FAST_POLLS))
        .expect("the sandbox server starts");
    let fakes: [&dyn FakePlatform; 3] = [
        &server.sandbox.tiktok,
        &server.sandbox.instagram,
        &server.sandbox.linkedin,
    ];
    // The fakes model each platform's own daily caps; a benchmark posts far more.
    server.sandbox.instagram.set_publishing_quota(u64::MAX / 2);
    server.sandbox.linkedin.set_daily_post_limit(u32::MAX);
    for fake in fakes {
        fake.inject(Fault::on(fake.publish_route(), FaultKind::Delay(LATENCY)).always());
    }
    let client = reqwest::Client::new();
    let run = |platforms: &[&str]| {
        runtime.block_on(async {
            let (status, body) = upload_file(&client, &server.base_url, &video, platforms)
                .await
                .expect("the upload completes");
            assert_eq!(status, 200, "{body}");
            for p in platforms {
                assert_eq!(body["results"][p]["success"], true, "{p}: {body}");
            }
        })
    };

    let mut group = c.benchmark_group("fan_out_200ms_each");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("one_request_three_platforms", |b| {
        b.iter(|| run(&PLATFORMS))
    });
    group.bench_function("three_requests_in_sequence", |b| {
        b.iter(|| {
            for p in PLATFORMS {
                run(&[p]);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
