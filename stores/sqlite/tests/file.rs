//! What only a file gives: restarts, several stores (processes) on one file, WAL,
//! the schema version, and the wording of failures.

use std::sync::Arc;

use fanout_core::{
    AccountDirectory, Admission, ApiKeyHash, Connection, Plan, StoreErrorKind, Usage, UsageRequest,
    UsageStore,
};
use fanout_sqlite::{SqliteStore, SCHEMA_VERSION};
use fanout_testkit::stores::{
    assert_same_account, concurrent_admits_are_exact, sample_account, social, utc,
};

fn request<'a>(
    account: &'a str,
    socials: &'a [fanout_core::SocialAccount],
    monthly: u64,
    daily: Option<u64>,
) -> UsageRequest<'a> {
    UsageRequest {
        account,
        now: utc(2026, 2, 10, 11, 0, 0),
        monthly_limit: monthly,
        daily_limit: daily,
        social_accounts: socials,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_accounts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let socials = [social("tiktok", "restart_tt")];
    let account = sample_account("restart", "ak_restart");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.upsert(account.clone()).await.unwrap();
        for n in 1..=3 {
            match store
                .admit(&request("restart", &socials, 4, Some(3)))
                .await
                .unwrap()
            {
                Admission::Admitted(usage) => assert_eq!(usage.count, n),
                other => panic!("admit {n} before the restart: {other:?}"),
            }
        }
    } // dropped: the connection is closed

    let store = SqliteStore::open(&path).unwrap();
    let back = store
        .find_by_api_key(&ApiKeyHash::of("ak_restart"))
        .await
        .unwrap()
        .expect("the account is still there after a restart");
    assert_same_account(&account, &back, "after a restart");
    assert_eq!(
        store
            .current("restart", utc(2026, 2, 10, 11, 0, 0), 4)
            .await
            .unwrap(),
        Usage {
            count: 3,
            limit: 4,
            last_reset: utc(2026, 2, 1, 0, 0, 0),
        }
    );
    // The daily counter survived too: the 4th upload of the day is refused.
    assert_eq!(
        store
            .admit(&request("restart", &socials, 4, Some(3)))
            .await
            .unwrap(),
        Admission::DailyLimitReached {
            limit: 3,
            social_account: socials[0].clone(),
        }
    );
    // And the month's: with no daily limit, one more fits, then the month is full.
    assert!(matches!(
        store
            .admit(&request("restart", &socials, 4, None))
            .await
            .unwrap(),
        Admission::Admitted(Usage { count: 4, .. })
    ));
    assert_eq!(
        store
            .admit(&request("restart", &socials, 4, None))
            .await
            .unwrap(),
        Admission::MonthlyLimitReached { limit: 4 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_share_limits_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let a: Arc<dyn UsageStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let b: Arc<dyn UsageStore> = Arc::new(SqliteStore::open(&path).unwrap());
    // 60 concurrent admits, alternating between the two stores, limit 20.
    concurrent_admits_are_exact(&[a.clone(), b.clone()], "two-stores").await;
    // Both see the same count.
    let now = utc(2026, 5, 20, 8, 0, 0);
    assert_eq!(a.current("two-stores", now, 20).await.unwrap().count, 20);
    assert_eq!(b.current("two-stores", now, 20).await.unwrap().count, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_see_each_others_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    a.upsert(sample_account("shared", "ak_shared"))
        .await
        .unwrap();
    let refreshed = Connection::new("shared_tt", "tok-refreshed");
    b.save_connection("shared", "main", "tiktok", refreshed)
        .await
        .unwrap();
    let seen = a.find_by_name("shared").await.unwrap().unwrap();
    assert_eq!(
        seen.profiles["main"].connections["tiktok"].access_token(),
        "tok-refreshed"
    );
    assert!(b.remove("shared").await.unwrap());
    assert!(a.find_by_name("shared").await.unwrap().is_none());
}

#[tokio::test]
async fn the_file_is_in_wal_mode_with_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    store.upsert(sample_account("wal", "ak_wal")).await.unwrap();

    // A second, plain connection reads what the file says about itself.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert!(
        dir.path().join("fanout.db-wal").exists(),
        "a write left no -wal file beside the database"
    );
    // Connection settings of the store's own connection are per connection; check the
    // stored rows instead: the API key is kept only as its hash.
    let stored: String = raw
        .query_row(
            "SELECT api_key_hash FROM accounts WHERE name = 'wal'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, ApiKeyHash::of("ak_wal").to_hex());
}

#[tokio::test]
async fn a_file_from_a_newer_fanout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(raw);
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the SQLite store at {} has schema version {}, newer than this fanout \
             understands ({SCHEMA_VERSION}) — upgrade fanout or open another file",
            path.display(),
            SCHEMA_VERSION + 1
        )
    );
}

#[tokio::test]
async fn an_unopenable_path_says_which_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("fanout.db");
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    assert!(std::error::Error::source(&err).is_some());
    let err = err.to_string();
    let prefix = format!("could not open the SQLite store at {}: ", path.display());
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        err.ends_with("— check the path is writable and its directory exists"),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert!(std::error::Error::source(&err).is_some());
    let err = err.to_string();
    assert!(
        err.starts_with(&format!(
            "could not open the SQLite store at {}: ",
            path.display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("the file is damaged or not a fanout database; restore it from a backup"),
        "{err}"
    );
}

#[tokio::test]
async fn a_duplicate_api_key_is_refused_without_showing_secrets() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .upsert(sample_account("dup-a", "ak_dup"))
        .await
        .unwrap();
    let err = store
        .upsert(sample_account("dup-b", "ak_dup"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    let err = err.to_string();
    assert!(
        err.starts_with("the SQLite store could not store account dup-b: "),
        "{err}"
    );
    assert!(
        err.contains("UNIQUE constraint failed: accounts.api_key_hash"),
        "{err}"
    );
    assert!(!err.contains(&ApiKeyHash::of("ak_dup").to_hex()), "{err}");
    assert!(!err.contains("tok-dup-b"), "{err}");
    // The failed upsert left nothing behind.
    assert!(store.find_by_name("dup-b").await.unwrap().is_none());
    assert!(store.find_by_name("dup-a").await.unwrap().is_some());
}

#[tokio::test]
async fn save_connection_for_an_unknown_account_says_so() {
    let store = SqliteStore::open_in_memory().unwrap();
    let err = store
        .save_connection("ghost", "main", "tiktok", Connection::new("g", "tok-ghost"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "could not save the tiktok connection: no account named ghost — create the \
         account first"
    );
}

#[tokio::test]
async fn a_limit_beyond_sqlite_integers_is_refused_with_a_reason() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut account = sample_account("huge", "ak_huge");
    account.plan = Plan {
        monthly_uploads: u64::MAX,
        daily_uploads_per_account: None,
    };
    let err = store.upsert(account).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the SQLite store cannot hold a monthly limit of {}: it is above {} — use a \
             smaller value",
            u64::MAX,
            i64::MAX
        )
    );
}

#[tokio::test]
async fn debug_shows_the_path_and_no_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let store = SqliteStore::open(&path).unwrap();
    store.upsert(sample_account("dbg", "ak_dbg")).await.unwrap();
    let shown = format!("{store:?}");
    assert!(shown.starts_with("SqliteStore"), "{shown}");
    assert!(shown.contains("fanout.db"), "{shown}");
    assert!(!shown.contains("tok-dbg"), "{shown}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .upsert(sample_account("perm", "ak_perm"))
        .await
        .unwrap();
    for file in ["fanout.db", "fanout.db-wal"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
    }
}

#[tokio::test]
async fn the_path_memory_opens_an_in_memory_store() {
    let store = SqliteStore::open(":memory:").unwrap();
    assert_eq!(store.path(), None);
    assert!(
        !std::path::Path::new(":memory:").exists(),
        "opening :memory: created a file"
    );
    store.upsert(sample_account("mem", "ak_mem")).await.unwrap();
    assert!(store.find_by_name("mem").await.unwrap().is_some());
}

#[tokio::test]
async fn readiness_follows_the_files_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanout.db");
    let store = SqliteStore::open(&path).unwrap();
    assert!(AccountDirectory::ready(&store).await.is_ok());
    assert!(fanout_core::JobStore::ready(&store).await.is_ok());
    // Another process upgrades the file under this one.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = AccountDirectory::ready(&store).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    assert_eq!(
        err.to_string(),
        format!(
            "the SQLite store's schema is version {}, this fanout uses {SCHEMA_VERSION} — \
             restart with the fanout version that matches the file",
            SCHEMA_VERSION + 1
        )
    );
}
