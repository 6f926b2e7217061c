//! Two processes on one file: admits stay exact across them.
//!
//! The test re-runs its own binary as a second process (the ignored test
//! `second_process`), meets it at a start line (two marker files), and has both
//! processes admit concurrently against one monthly limit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fanout_core::{Admission, UsageRequest, UsageStore};
use fanout_sqlite::SqliteStore;
use fanout_testkit::stores::{social, utc};

const DB_ENV: &str = "FANOUT_SQLITE_SECOND_PROCESS_DB";
const ACCOUNT: &str = "two-processes";
const LIMIT: u64 = 100;
const PER_PROCESS: usize = 80;

/// Runs `PER_PROCESS` concurrent admits; returns the counts of the admitted ones.
async fn admit_many(store: Arc<SqliteStore>) -> Vec<u64> {
    let now = utc(2026, 6, 1, 12, 0, 0);
    let tasks: Vec<_> = (0..PER_PROCESS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let socials = [social("tiktok", &format!("proc_tt_{}", i % 4))];
                let req = UsageRequest {
                    account: ACCOUNT,
                    now,
                    monthly_limit: LIMIT,
                    daily_limit: Some(1_000),
                    social_accounts: &socials,
                };
                store.admit(&req).await
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        let answer = match task.await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => panic!("an admit failed: {err}"),
            Err(err) => panic!("an admit task failed: {err}"),
        };
        match answer {
            Admission::Admitted(usage) => counts.push(usage.count),
            Admission::MonthlyLimitReached { limit } => assert_eq!(limit, LIMIT),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    counts
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "the other process never reached the start line ({})",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the second process of two_processes_share_limits_exactly; run by it"]
async fn second_process() {
    let db = std::env::var(DB_ENV).expect("started by two_processes_share_limits_exactly");
    let db = Path::new(&db);
    let store = Arc::new(SqliteStore::open(db).unwrap());
    std::fs::write(db.with_extension("ready"), b"").unwrap();
    wait_for(&db.with_extension("go"));
    let counts = admit_many(store).await;
    println!("ADMITTED {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_limits_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanout.db");
    let store = Arc::new(SqliteStore::open(&db).unwrap());

    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "second_process", "--nocapture"])
        .env(DB_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&db.with_extension("ready"));
    std::fs::write(db.with_extension("go"), b"").unwrap();
    let mine = admit_many(store.clone()).await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the second process failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ADMITTED "))
        .unwrap_or_else(|| panic!("the second process reported nothing: {stdout}"));
    let theirs: Vec<u64> = line
        .trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();

    let mut all: Vec<u64> = mine.iter().chain(&theirs).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=LIMIT).collect::<Vec<_>>(),
        "160 admits from two processes against a limit of 100 (this process got {mine:?}, \
         the other {theirs:?})"
    );
    let usage = store
        .current(ACCOUNT, utc(2026, 6, 1, 12, 0, 0), LIMIT)
        .await
        .unwrap();
    assert_eq!(usage.count, LIMIT);
}
