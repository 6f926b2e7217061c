//! A file written by an older fanout is migrated when opened, keeping what it holds.

use chrono::Duration as Span;
use fanout_core::{AccountDirectory, ApiKeyHash, Insert, JobStore, UsageStore};
use fanout_sqlite::{SqliteStore, SCHEMA_VERSION};
use fanout_testkit::stores::{sample_job, utc};

/// The schema of version 1 exactly as fanout wrote it, frozen here: the test must
/// keep describing old files even when the current migrations change.
const VERSION_1: &str = "
    CREATE TABLE accounts (
        name                      TEXT PRIMARY KEY NOT NULL,
        api_key_hash              TEXT UNIQUE,
        api_key_expires_at        TEXT,
        monthly_uploads           INTEGER NOT NULL,
        daily_uploads_per_account INTEGER
    ) STRICT;
    CREATE TABLE profiles (
        account  TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
        username TEXT NOT NULL,
        PRIMARY KEY (account, username)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE connections (
        account       TEXT NOT NULL,
        profile       TEXT NOT NULL,
        platform      TEXT NOT NULL,
        account_name  TEXT NOT NULL,
        access_token  TEXT NOT NULL,
        refresh_token TEXT,
        expires_at    TEXT,
        attributes    TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (account, profile, platform),
        FOREIGN KEY (account, profile)
            REFERENCES profiles(account, username) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE usage_counters (
        account      TEXT NOT NULL,
        period_start TEXT NOT NULL,
        key          TEXT NOT NULL,
        count        INTEGER NOT NULL,
        PRIMARY KEY (account, period_start, key)
    ) STRICT, WITHOUT ROWID;
    PRAGMA user_version = 1;
";

/// One account (`:hash` is its API key hash) with a profile, a connection and this
/// month's usage, written as version 1 would.
const VERSION_1_ROWS: &str = "
    INSERT INTO accounts VALUES
        ('old', :hash, '2030-01-02T03:04:05.5Z', 120, 5);
    INSERT INTO profiles VALUES ('old', 'main');
    INSERT INTO connections VALUES
        ('old', 'main', 'tiktok', 'old_tt', 'tok-old', 'tok-old-refresh',
         '2031-07-14T09:30:15Z', '{\"user_id\":\"old-id\"}');
    INSERT INTO usage_counters VALUES ('old', '2026-02-01T00:00:00Z', '', 3);
";

#[tokio::test]
async fn a_version_1_file_migrates_to_the_current_version_keeping_its_accounts() {
    assert_eq!(
        SCHEMA_VERSION, 2,
        "this test describes the 1 -> 2 migration"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(VERSION_1).unwrap();
        let hash = ApiKeyHash::of("ak_old").to_hex();
        for statement in VERSION_1_ROWS.split(';').filter(|s| !s.trim().is_empty()) {
            let mut stmt = raw.prepare(statement).unwrap();
            if stmt.parameter_index(":hash").unwrap().is_some() {
                stmt.execute(rusqlite::named_params! {":hash": hash})
                    .unwrap();
            } else {
                stmt.execute([]).unwrap();
            }
        }
    }

    let store = SqliteStore::open(&path).unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);

    let account = store
        .find_by_name("old")
        .await
        .unwrap()
        .expect("the version-1 account is still there");
    let by_key = store
        .find_by_api_key(&ApiKeyHash::of("ak_old"))
        .await
        .unwrap()
        .expect("the version-1 account is found by its API key");
    assert_eq!(by_key.name, "old");
    assert_eq!(account.plan.monthly_uploads, 120);
    assert_eq!(account.plan.daily_uploads_per_account, Some(5));
    assert_eq!(
        account.api_key_expires_at,
        Some(utc(2030, 1, 2, 3, 4, 5) + Span::milliseconds(500))
    );
    let tiktok = &account.profiles["main"].connections["tiktok"];
    assert_eq!(tiktok.account_name, "old_tt");
    assert_eq!(tiktok.access_token(), "tok-old");
    assert_eq!(tiktok.attribute("user_id"), Some("old-id"));
    let now = utc(2026, 2, 10, 12, 0, 0);
    assert_eq!(store.current("old", now, 120).await.unwrap().count, 3);

    // The new tables work.
    let job = sample_job("old", "job-after-migration", now);
    assert_eq!(
        store
            .insert(&job, std::time::Duration::from_secs(3600))
            .await
            .unwrap(),
        Insert::Created
    );
    assert_eq!(store.get("job-after-migration").await.unwrap(), Some(job));

    // Opening again migrates nothing more.
    drop(store);
    let again = SqliteStore::open(&path).unwrap();
    assert!(again.find_by_name("old").await.unwrap().is_some());
    assert_eq!(again.count("old").await.unwrap(), (1, 1));
}
