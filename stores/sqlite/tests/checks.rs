//! The shared store checks from `fanout_testkit::stores`, against SQLite.

use std::sync::Arc;

use fanout_sqlite::SqliteStore;
use fanout_testkit::stores::{run_directory_checks, run_usage_checks};

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
async fn one_file_store_passes_both_sets_of_checks() {
    // Directory and usage share the file (as the server uses them).
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("fanout.db")).unwrap());
    run_directory_checks(store.as_ref()).await;
    run_usage_checks(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_passes_both_sets_of_checks() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    run_directory_checks(store.as_ref()).await;
    run_usage_checks(store).await;
}
