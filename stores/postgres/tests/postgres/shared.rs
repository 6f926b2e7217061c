//! What several instances share beyond the store traits: the connection lock around a
//! token refresh, media links, and readiness.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    AccountDirectory, Connection, JobStore, MediaLink, MediaLinkStore, StoreErrorKind, StoredMedia,
};
use fanout_postgres::{PostgresStore, SCHEMA_VERSION};
use fanout_testkit::stores::sample_account;

use super::support::{raw, url, TestSchema};

/// Polls `condition` every 10 ms until it holds, failing after 20 s with `what`.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

/// Whether a session named `application` waits for an advisory lock right now.
async fn waits_for_a_lock(application: &str) -> bool {
    raw()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE application_name = $1 AND wait_event_type = 'Lock'
               AND wait_event = 'advisory'",
            &[&application],
        )
        .await
        .map(|row| row.get::<_, i64>(0) > 0)
        .unwrap_or(false)
}

/// A store on `schema` reporting `application` to the server.
async fn open_named(schema: &TestSchema, application: &str) -> PostgresStore {
    PostgresStore::connect(&url(), schema.options(1).with_application_name(application))
        .await
        .expect("a store")
}

/// Instance B's lock on a connection waits while instance A holds it (B's session is
/// seen waiting on the server) and is granted once A's lock is dropped; another
/// connection is not held up; a bounded wait fails as unavailable; and a dropped lock
/// leaves nothing behind in a pool of one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lock_waits_for_the_holder_on_another_instance() {
    let schema = TestSchema::new();
    let a = schema.open(1).await;
    let b_name = format!("{}_b", schema.name());
    let b = Arc::new(open_named(&schema, &b_name).await);

    let held = a
        .lock_connection("acme", "main", "tiktok")
        .await
        .expect("A's lock");
    let granted = Arc::new(AtomicBool::new(false));
    let waiter = {
        let (b, granted) = (b.clone(), granted.clone());
        tokio::spawn(async move {
            let lock = b.lock_connection("acme", "main", "tiktok").await;
            granted.store(true, Ordering::SeqCst);
            lock
        })
    };
    eventually("B waits for A's lock", || waits_for_a_lock(&b_name)).await;
    assert!(!granted.load(Ordering::SeqCst), "B got the lock A holds");

    // Other connections, and the same names on another schema, are not held up.
    let other = a
        .lock_connection("acme", "main", "instagram")
        .await
        .expect("a lock on another connection");
    let elsewhere = TestSchema::new();
    drop(
        elsewhere
            .open(1)
            .await
            .lock_connection("acme", "main", "tiktok")
            .await
            .expect("the same connection in another schema"),
    );
    drop(other);

    // A bounded wait gives up as unavailable, saying why.
    let impatient = PostgresStore::connect(
        &url(),
        schema
            .options(1)
            .with_lock_timeout(StdDuration::from_millis(200)),
    )
    .await
    .expect("a store");
    let err = impatient
        .lock_connection("acme", "main", "tiktok")
        .await
        .expect_err("A still holds the lock");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("another instance"), "{err}");
    assert!(!granted.load(Ordering::SeqCst), "B got the lock A holds");

    drop(held);
    eventually("B gets the lock A dropped", || {
        let granted = granted.clone();
        async move { granted.load(Ordering::SeqCst) }
    })
    .await;
    let b_lock = waiter.await.expect("B's task").expect("B's lock");
    drop(b_lock);
    // Nothing stayed locked: A (pool of one) locks again at once, and so does the
    // impatient store.
    drop(
        a.lock_connection("acme", "main", "tiktok")
            .await
            .expect("A locks again"),
    );
    drop(
        impatient
            .lock_connection("acme", "main", "tiktok")
            .await
            .expect("the impatient store locks once it is free"),
    );
    // And the pools still answer ordinary queries.
    a.schema_version().await.expect("A's pool works");
    b.schema_version().await.expect("B's pool works");
}

/// Twenty concurrent refreshes of one expired token over three instances, each done
/// the engine's way (lock, re-read, refresh only when nobody did, save): one refresh,
/// and the rotated refresh token is what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_refreshes_over_three_instances_refresh_once() {
    let schema = TestSchema::new();
    let stores = schema.instances(3, 4).await;
    let mut account = sample_account("pg-refresh", "ak_pg_refresh");
    let mut stale = Connection::new("pg_refresh_tt", "access-1");
    stale.refresh_token = Some(SecretString::from("refresh-1".to_string()));
    stale.expires_at = Some(Utc::now() - Duration::minutes(1));
    account
        .profiles
        .get_mut("main")
        .expect("the main profile")
        .connections
        .insert("tiktok".to_string(), stale.clone());
    stores[0].upsert(account).await.expect("the account");

    let refreshes = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 3].clone();
        let (stale, refreshes) = (stale.clone(), refreshes.clone());
        tasks.push(tokio::spawn(async move {
            let _lock = store
                .lock_connection("pg-refresh", "main", "tiktok")
                .await
                .expect("the lock");
            let stored = store
                .find_by_name("pg-refresh")
                .await
                .expect("a read")
                .expect("the account")
                .profiles["main"]
                .connections["tiktok"]
                .clone();
            if stored.access_token() != stale.access_token() {
                return stored; // another instance refreshed it
            }
            // The platform rotates the refresh token: "refresh-1" works once.
            assert_eq!(
                stored.refresh_token.as_ref().map(|t| t.expose_secret()),
                Some("refresh-1"),
                "a refresh used a spent refresh token"
            );
            refreshes.fetch_add(1, Ordering::SeqCst);
            let mut fresh = Connection::new("pg_refresh_tt", "access-2");
            fresh.refresh_token = Some(SecretString::from("refresh-2".to_string()));
            fresh.expires_at = Some(Utc::now() + Duration::hours(1));
            store
                .save_connection("pg-refresh", "main", "tiktok", fresh.clone())
                .await
                .expect("the save");
            fresh
        }));
    }
    for task in tasks {
        let used = task.await.expect("a refresh task");
        assert_eq!(used.access_token(), "access-2");
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1, "refreshes");
    let stored = stores[2]
        .find_by_name("pg-refresh")
        .await
        .expect("a read")
        .expect("the account")
        .profiles["main"]
        .connections["tiktok"]
        .clone();
    assert_eq!(
        stored.refresh_token.as_ref().map(|t| t.expose_secret()),
        Some("refresh-2"),
        "the rotated refresh token was lost"
    );
}

fn link(token: &str, expires_in: Duration) -> MediaLink {
    MediaLink {
        token_hash: MediaLink::hash_token(token),
        media: StoredMedia {
            key: format!("jobs/j-{token}/0"),
            len: 3_000_000_000,
            sha256: "ab".repeat(32),
            content_type: "video/mp4".to_string(),
            file_name: Some("clip.mp4".to_string()),
        },
        expires_at: Utc::now() + expires_in,
    }
}

async fn link_rows(schema: &TestSchema) -> i64 {
    raw()
        .await
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".media_links", schema.name()),
            &[],
        )
        .await
        .expect("a count")
        .get(0)
}

/// A link inserted by one instance is found by another, whole; not after it expired;
/// not after it was removed; expired rows are swept by the next insert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_link_minted_by_one_instance_is_found_by_another() {
    let schema = TestSchema::new();
    let stores = schema.instances(2, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let minted = link("tok-1", Duration::minutes(10));
    a.insert_link(minted.clone()).await.expect("an insert");
    let found = b
        .find_link(&minted.token_hash, Utc::now())
        .await
        .expect("a find");
    assert_eq!(found.as_ref(), Some(&minted));
    assert!(
        b.find_link(&MediaLink::hash_token("other"), Utc::now())
            .await
            .expect("a find")
            .is_none(),
        "an unknown token"
    );
    assert!(
        b.find_link(&minted.token_hash, minted.expires_at)
            .await
            .expect("a find")
            .is_none(),
        "a link at its expiry"
    );
    b.remove_link(&minted.token_hash).await.expect("a remove");
    assert!(a
        .find_link(&minted.token_hash, Utc::now())
        .await
        .expect("a find")
        .is_none());
    b.remove_link(&minted.token_hash)
        .await
        .expect("removing a missing link succeeds");

    a.insert_link(link("tok-old", -Duration::seconds(1)))
        .await
        .expect("an insert");
    assert_eq!(link_rows(&schema).await, 1);
    b.insert_link(link("tok-new", Duration::minutes(1)))
        .await
        .expect("an insert");
    assert_eq!(
        link_rows(&schema).await,
        1,
        "the expired link was not swept"
    );
}

/// Ready on both traits while the schema is current; an error naming both versions
/// once the schema's version was bumped by hand (as a newer fanout would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_until_the_schema_version_changes() {
    let schema = TestSchema::new();
    let store = schema.open(2).await;
    AccountDirectory::ready(&store)
        .await
        .expect("directory ready");
    JobStore::ready(&store).await.expect("jobs ready");
    let newer = SCHEMA_VERSION + 1;
    raw()
        .await
        .execute(
            &format!(
                "INSERT INTO \"{}\".fanout_schema_migrations (version, description)
                 VALUES ($1, 'by hand')",
                schema.name()
            ),
            &[&newer],
        )
        .await
        .expect("a version row");
    for err in [
        AccountDirectory::ready(&store)
            .await
            .expect_err("directory"),
        JobStore::ready(&store).await.expect_err("jobs"),
    ] {
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("schema version {newer}")),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("needs {SCHEMA_VERSION}")),
            "{shown}"
        );
    }
}
