//! Opening a store: a fresh schema migrates, a second open changes nothing, concurrent
//! opens migrate once, a newer schema and bad settings are refused clearly.

use fanout_core::{AccountDirectory, StoreErrorKind};
use fanout_postgres::{PostgresOptions, PostgresStore, SCHEMA_VERSION};
use fanout_testkit::stores::sample_account;

use super::support::{raw, url, TestSchema};

/// The rows of the schema's migration table: (version, applied_at as text).
async fn applied(schema: &TestSchema) -> Vec<(i64, String)> {
    raw()
        .await
        .query(
            &format!(
                "SELECT version, applied_at::TEXT FROM \"{}\".fanout_schema_migrations
                 ORDER BY version",
                schema.name()
            ),
            &[],
        )
        .await
        .expect("the migration table")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_schema_migrates_and_a_second_open_changes_nothing() {
    let schema = TestSchema::new();
    let first = schema.open(2).await;
    assert_eq!(first.schema(), Some(schema.name()));
    assert_eq!(
        first.schema_version().await.expect("version"),
        SCHEMA_VERSION
    );
    first.check_ready().await.expect("ready");
    let versions = applied(&schema).await;
    assert_eq!(
        versions.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
    first
        .upsert(sample_account("pg-migrate", "ak_pg_migrate"))
        .await
        .expect("an account");

    let second = schema.open(2).await;
    assert_eq!(
        applied(&schema).await,
        versions,
        "a second open migrated again"
    );
    assert!(
        second
            .find_by_name("pg-migrate")
            .await
            .expect("a read")
            .is_some(),
        "the second open lost the data"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_fresh_schema_migrate_once() {
    let schema = TestSchema::new();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let options = schema.options(1);
        tasks.push(tokio::spawn(async move {
            PostgresStore::connect(&url(), options).await
        }));
    }
    for task in tasks {
        task.await
            .expect("an open task")
            .expect("a concurrent open");
    }
    assert_eq!(applied(&schema).await.len() as i64, SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let schema = TestSchema::new();
    drop(schema.open(1).await);
    let newer = SCHEMA_VERSION + 1;
    raw()
        .await
        .execute(
            &format!(
                "INSERT INTO \"{}\".fanout_schema_migrations (version, description)
                 VALUES ($1, 'from a newer fanout')",
                schema.name()
            ),
            &[&newer],
        )
        .await
        .expect("a newer version row");
    let err = PostgresStore::connect(&url(), schema.options(1))
        .await
        .expect_err("a schema newer than the code");
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    let shown = err.to_string();
    for part in [
        format!("schema version {newer}"),
        format!("newer than this fanout understands ({SCHEMA_VERSION})"),
        format!("schema {}", schema.name()),
        "upgrade fanout".to_string(),
    ] {
        assert!(shown.contains(&part), "{part:?} missing from: {shown}");
    }
    assert_eq!(
        applied(&schema).await.len() as i64,
        newer,
        "nothing was touched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_clearly() {
    let err = PostgresStore::connect(&url(), PostgresOptions::default().with_schema("Bad-Name"))
        .await
        .expect_err("a bad schema name");
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("Bad-Name"), "{err}");

    let err = PostgresStore::connect(&url(), PostgresOptions::default().with_pool_size(0))
        .await
        .expect_err("a pool of 0");
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");

    let err = PostgresStore::connect(
        "postgres://a:pw-secret@localhost:notaport/db",
        PostgresOptions::default(),
    )
    .await
    .expect_err("a URL that does not parse");
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    assert!(!err.to_string().contains("pw-secret"), "{err}");
}

/// A server that does not answer is unavailable, and the message names where it
/// looked but never the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable_without_the_password() {
    let err = PostgresStore::connect(
        "postgres://fanout:hunter2-secret@127.0.0.1:1/fanout",
        PostgresOptions::default()
            .with_connect_timeout(std::time::Duration::from_secs(2))
            .with_schema("fanout"),
    )
    .await
    .expect_err("nothing listens on port 1");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");
    let shown = err.to_string();
    assert!(shown.contains("fanout@127.0.0.1:1/fanout"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}
