//! The shared store checks against the in-memory reference stores.

use std::sync::Arc;

use fanout_core::{MemoryDirectory, MemoryUsage, UsageStore};
use fanout_testkit::stores::{concurrent_admits_are_exact, run_directory_checks, run_usage_checks};

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
