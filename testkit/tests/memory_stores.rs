//! The shared store checks against the in-memory reference stores.

use std::sync::Arc;

use fanout_core::{
    JobStore, MemoryConnectStates, MemoryDirectory, MemoryJobStore, MemoryUsage, UsageStore,
};
use fanout_testkit::stores::{
    concurrent_admits_are_exact, concurrent_inserts_with_one_key_create_one,
    concurrent_takes_have_one_winner, concurrent_updates_from_one_version_one_wins,
    run_connect_state_checks, run_directory_checks, run_job_checks, run_usage_checks,
};

#[tokio::test]
async fn memory_directory_passes_the_directory_checks() {
    run_directory_checks(&MemoryDirectory::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_usage_passes_the_usage_checks() {
    run_usage_checks(Arc::new(MemoryUsage::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_usage_concurrent_admits_on_a_shared_store() {
    let store: Arc<dyn UsageStore> = Arc::new(MemoryUsage::new());
    concurrent_admits_are_exact(&[store.clone(), store], "memory-two-handles").await;
}

/// The checks can fail: two separate in-memory stores do not share counters, so the
/// concurrency check over them must panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "two concurrent admits were both given count")]
async fn the_concurrency_check_catches_unshared_counters() {
    let a: Arc<dyn UsageStore> = Arc::new(MemoryUsage::new());
    let b: Arc<dyn UsageStore> = Arc::new(MemoryUsage::new());
    concurrent_admits_are_exact(&[a, b], "memory-unshared").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_jobs_pass_the_job_checks() {
    run_job_checks(Arc::new(MemoryJobStore::new())).await;
}

#[tokio::test]
async fn memory_connect_states_pass_the_connect_state_checks() {
    run_connect_state_checks(&MemoryConnectStates::new()).await;
}

/// The job concurrency checks can fail: two separate in-memory stores each create the
/// job with the shared key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "jobs created by 20 concurrent inserts with one idempotency key")]
async fn the_insert_race_check_catches_unshared_jobs() {
    let a: Arc<dyn JobStore> = Arc::new(MemoryJobStore::new());
    let b: Arc<dyn JobStore> = Arc::new(MemoryJobStore::new());
    concurrent_inserts_with_one_key_create_one(&[a, b], "memory-unshared-insert").await;
}

/// ... and two separate stores each accept an update from the same version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "updates that won of 20 concurrent ones from one version")]
async fn the_update_race_check_catches_unshared_jobs() {
    let a: Arc<dyn JobStore> = Arc::new(MemoryJobStore::new());
    let b: Arc<dyn JobStore> = Arc::new(MemoryJobStore::new());
    // The job is inserted into the first store only; give the second its own copy.
    let job = fanout_testkit::stores::sample_job(
        "memory-unshared-update",
        "memory-unshared-update-job",
        fanout_testkit::stores::utc(2026, 3, 7, 12, 0, 0),
    );
    b.insert(&job, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    concurrent_updates_from_one_version_one_wins(&[a, b], "memory-unshared-update").await;
}

/// ... and two separate connect-state stores that each hold the state hand it out
/// twice.
#[tokio::test]
#[should_panic(expected = "the attempts 20 concurrent takes of one state got")]
async fn the_take_race_check_catches_unshared_states() {
    let a = MemoryConnectStates::new();
    let b = MemoryConnectStates::new();
    let attempt = fanout_testkit::stores::sample_attempt("cs-concurrent", "tiktok");
    fanout_core::ConnectStateStore::put(
        &b,
        "cs-unshared",
        &attempt,
        fanout_testkit::stores::utc(2100, 1, 1, 0, 10, 0),
    )
    .await
    .unwrap();
    concurrent_takes_have_one_winner(&[&a, &b], "cs-unshared").await;
}
