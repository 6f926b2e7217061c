//! The shared store checks from `fanout_testkit::stores`, against SQLite.

use std::sync::Arc;

use fanout_core::{ConnectStateStore, JobStore};
use fanout_sqlite::SqliteStore;
use fanout_testkit::stores::{
    concurrent_inserts_with_one_key_create_one, concurrent_takes_have_one_winner,
    concurrent_updates_from_one_version_one_wins, run_connect_state_checks, run_directory_checks,
    run_job_checks, run_usage_checks,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_passes_the_directory_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("fanout.db")).unwrap();
    run_directory_checks(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_passes_the_usage_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("fanout.db")).unwrap();
    run_usage_checks(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_passes_the_job_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("fanout.db")).unwrap();
    run_job_checks(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_passes_the_connect_state_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("fanout.db")).unwrap();
    run_connect_state_checks(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_file_store_passes_every_set_of_checks() {
    // Every store shares the file (as the server uses them).
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("fanout.db")).unwrap());
    run_directory_checks(store.as_ref()).await;
    run_usage_checks(store.clone()).await;
    run_job_checks(store.clone()).await;
    run_connect_state_checks(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_passes_every_set_of_checks() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    run_directory_checks(store.as_ref()).await;
    run_usage_checks(store.clone()).await;
    run_job_checks(store.clone()).await;
    run_connect_state_checks(store.as_ref()).await;
}

/// Two stores on one file are two connections, as two processes would be: the races
/// for an idempotency key, a job version and a connection state each have one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_race_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let b = Arc::new(SqliteStore::open(&path).unwrap());
    let jobs: [Arc<dyn JobStore>; 2] = [a.clone(), b.clone()];
    concurrent_inserts_with_one_key_create_one(&jobs, "two-stores-insert").await;
    concurrent_updates_from_one_version_one_wins(&jobs, "two-stores-update").await;
    let states: [&dyn ConnectStateStore; 2] = [a.as_ref(), b.as_ref()];
    concurrent_takes_have_one_winner(&states, "two-stores-state").await;
}
