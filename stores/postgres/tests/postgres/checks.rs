//! The shared store checks from `fanout_testkit::stores`, against PostgreSQL.

use std::sync::Arc;

use fanout_core::{AccountDirectory, ConnectStateStore, JobStore, StoreErrorKind};
use fanout_testkit::stores::{
    concurrent_inserts_with_one_key_create_one, concurrent_takes_have_one_winner,
    concurrent_updates_from_one_version_one_wins, run_connect_state_checks, run_directory_checks,
    run_job_checks, run_usage_checks, sample_account,
};

use super::support::TestSchema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_directory_checks() {
    let schema = TestSchema::new();
    let store = schema.open(4).await;
    run_directory_checks(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_usage_checks() {
    let schema = TestSchema::new();
    let store = schema.open(8).await;
    run_usage_checks(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_job_checks() {
    let schema = TestSchema::new();
    let store = schema.open(8).await;
    run_job_checks(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_connect_state_checks() {
    let schema = TestSchema::new();
    let store = schema.open(4).await;
    run_connect_state_checks(&store).await;
}

/// Two stores on one schema are two pools, as two instances would have: the races for
/// an idempotency key, a job version and a connection state each have one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_schema_race_exactly() {
    let schema = TestSchema::new();
    let stores = schema.instances(2, 8).await;
    let jobs: Vec<Arc<dyn JobStore>> = stores
        .iter()
        .map(|s| s.clone() as Arc<dyn JobStore>)
        .collect();
    concurrent_inserts_with_one_key_create_one(&jobs, "two-stores-insert").await;
    concurrent_updates_from_one_version_one_wins(&jobs, "two-stores-update").await;
    let states: Vec<&dyn ConnectStateStore> = stores
        .iter()
        .map(|s| s.as_ref() as &dyn ConnectStateStore)
        .collect();
    concurrent_takes_have_one_winner(&states, "two-stores-state").await;
}

/// An API key already held by another account is a conflict, and the message names
/// neither the key nor its hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_of_another_account_is_a_conflict() {
    let schema = TestSchema::new();
    let store = schema.open(2).await;
    let first = sample_account("pg-conflict-a", "ak_pg_conflict_secret");
    let second = sample_account("pg-conflict-b", "ak_pg_conflict_secret");
    store.upsert(first).await.expect("the first account");
    let hash = fanout_core::ApiKeyHash::of("ak_pg_conflict_secret").to_hex();
    let err = store
        .upsert(second)
        .await
        .expect_err("a second account with the same API key");
    assert_eq!(err.kind(), StoreErrorKind::Conflict, "{err}");
    let shown = err.to_string();
    assert!(shown.contains("pg-conflict-b"), "{shown}");
    assert!(!shown.contains("ak_pg_conflict_secret"), "{shown}");
    assert!(!shown.contains(&hash), "{shown}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the PostgreSQL error is kept as the source"
    );
}
