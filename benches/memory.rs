//! Memory does not grow with file size: a 1 GiB video sent to all three sandbox
//! platforms, with the server, the three fakes and the uploading client all in this
//! process. Prints the peak resident memory (VmHWM) and the throughput. The server
//! keeps jobs in SQLite and their media in a local directory (the production default),
//! both in a temporary directory. Exits non-zero above the 100 MiB budget.
//!
//! `cargo run --release -p fanout-benches --bin memory [-- <MiB>]`

use std::time::Instant;

use fanout_benches::{start, upload_file, PLATFORMS};

/// LinkedIn accepts 5 GB videos for some accounts (500 MB by default): the bench
/// raises the limit so all three platforms take the whole file.
const PLATFORM_SETTINGS: &str = r#"
[platforms.linkedin]
max_video_bytes = 5368709120
"#;

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1024);
    let size = mib * 1024 * 1024;
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("big.mp4");
    fanout_testkit::media::write_mp4_file(&video, size)?;
    let before = vm_hwm_kib().unwrap_or(0);

    let server = start(PLATFORM_SETTINGS).await?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let (status, body) = upload_file(&client, &server.base_url, &video, &PLATFORMS).await?;
    let elapsed = started.elapsed();
    if status != 200 {
        return Err(format!("upload failed with {status}: {body}").into());
    }
    let mut all_ok = true;
    for p in PLATFORMS {
        let ok = body["results"][p]["success"] == true;
        all_ok &= ok;
        println!(
            "{p:>9}: {}",
            if ok {
                "published".to_string()
            } else {
                body["results"][p].to_string()
            }
        );
    }
    let peak = vm_hwm_kib().unwrap_or(0);
    let bytes_moved = size as f64 * (1.0 + PLATFORMS.len() as f64);
    println!("video size        : {mib} MiB");
    println!("elapsed           : {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput        : {:.0} MiB/s received, {:.0} MiB/s moved in total (upload + 3 platforms)",
        mib as f64 / elapsed.as_secs_f64(),
        bytes_moved / 1048576.0 / elapsed.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM)  : {:.1} MiB (before the server started: {:.1} MiB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    println!(
        "budget            : 100 MiB -> {}",
        if peak < 100 * 1024 {
            "within"
        } else {
            "EXCEEDED"
        }
    );
    // `exit` skips destructors: remove the server's files and the video first.
    server.stop().await?;
    dir.close()?;
    if !all_ok || peak >= 100 * 1024 {
        std::process::exit(1);
    }
    Ok(())
}
