//! Checks every [`AccountDirectory`] and [`UsageStore`] must pass.
//!
//! Plain async functions, object_store style: a store crate calls
//! [`run_directory_checks`] and [`run_usage_checks`] (or single checks) against its own
//! store. Each check uses its own account names and explicit `now` values, so all of
//! them can run one after another on one store, and none sleeps. Each panics with a
//! sentence saying what went wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{
    Account, AccountDirectory, Admission, ApiKeyHash, Connection, Plan, Profile, SocialAccount,
    StoreError, Usage, UsageRequest, UsageStore,
};

/// Runs every directory check, in order, on `dir`.
pub async fn run_directory_checks(dir: &dyn AccountDirectory) {
    upsert_then_find_by_name_and_api_key(dir).await;
    api_key_expiry_and_plan_round_trip(dir).await;
    profiles_and_connections_round_trip(dir).await;
    upsert_replaces_the_account(dir).await;
    remove_deletes_the_account(dir).await;
    save_connection_creates_and_replaces(dir).await;
}

/// Runs every usage check, in order, on `store`.
pub async fn run_usage_checks(store: Arc<dyn UsageStore>) {
    first_admit_counts_one(store.as_ref()).await;
    monthly_limit_admits_exactly_the_limit(store.as_ref()).await;
    concurrent_admits_are_exact(std::slice::from_ref(&store), "usage-concurrent").await;
    daily_limit_per_social_account(store.as_ref()).await;
    refused_daily_does_not_consume_other_accounts(store.as_ref()).await;
    without_daily_limit_only_the_month_counts(store.as_ref()).await;
    new_day_resets_daily_but_not_month(store.as_ref()).await;
    new_month_resets_the_month(store.as_ref()).await;
    accounts_are_isolated(store.as_ref()).await;
    current_reads_without_counting(store.as_ref()).await;
}

// ---------------------------------------------------------------------------------------
// Sample data

/// A UTC instant; panics on an impossible date (a bug in the check itself).
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    match Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single() {
        Some(t) => t,
        None => panic!("the store checks used an impossible date {y}-{mo}-{d} {h}:{mi}:{s}"),
    }
}

/// A social account on `platform` named `account_name`.
pub fn social(platform: &str, account_name: &str) -> SocialAccount {
    let platform_name = match platform {
        "tiktok" => "TikTok",
        "instagram" => "Instagram",
        "linkedin" => "LinkedIn",
        other => other,
    };
    SocialAccount {
        platform: platform.to_string(),
        platform_name: platform_name.to_string(),
        account_name: account_name.to_string(),
    }
}

/// A connection with every field set: both tokens, an expiry with sub-second precision
/// and two attributes.
pub fn full_connection(account_name: &str, token: &str) -> Connection {
    let mut c = Connection::new(account_name, token)
        .with_attribute("user_id", format!("{account_name}-id"))
        .with_attribute("author_urn", format!("urn:li:person:{account_name}"));
    c.refresh_token = Some(SecretString::from(format!("{token}-refresh")));
    c.expires_at = Some(utc(2031, 7, 14, 9, 30, 15) + Duration::milliseconds(250));
    c
}

/// An account named `name` with API key `key`, two profiles (`main` with TikTok and
/// Instagram, `brand` with LinkedIn), a plan with a daily limit and a key expiry.
pub fn sample_account(name: &str, key: &str) -> Account {
    let mut main = Profile {
        username: "main".to_string(),
        ..Profile::default()
    };
    main.connections.insert(
        "tiktok".to_string(),
        full_connection(&format!("{name}_tt"), &format!("tok-{name}-tt")),
    );
    // A minimal connection: no refresh token, no expiry, no attributes.
    main.connections.insert(
        "instagram".to_string(),
        Connection::new(format!("{name}_ig"), format!("tok-{name}-ig")),
    );
    let mut brand = Profile {
        username: "brand".to_string(),
        ..Profile::default()
    };
    brand.connections.insert(
        "linkedin".to_string(),
        full_connection(&format!("{name}_li"), &format!("tok-{name}-li")),
    );
    Account {
        name: name.to_string(),
        api_key_hash: Some(ApiKeyHash::of(key)),
        api_key_expires_at: Some(utc(2030, 1, 2, 3, 4, 5) + Duration::microseconds(123_456)),
        plan: Plan {
            monthly_uploads: 120,
            daily_uploads_per_account: Some(5),
        },
        profiles: BTreeMap::from([("main".to_string(), main), ("brand".to_string(), brand)]),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what} failed: {err}"),
    }
}

fn found(account: Option<Account>, what: &str) -> Account {
    match account {
        Some(account) => account,
        None => panic!("{what} found no account, but one was stored"),
    }
}

fn secret(s: &Option<SecretString>) -> Option<&str> {
    s.as_ref().map(|s| s.expose_secret())
}

/// Panics unless `actual` is field for field the same account as `expected`,
/// tokens included.
pub fn assert_same_account(expected: &Account, actual: &Account, context: &str) {
    let name = &expected.name;
    assert_eq!(
        actual.name, expected.name,
        "{context}: account name differs"
    );
    assert!(
        actual.api_key_hash == expected.api_key_hash,
        "{context}: the API key hash of {name} did not round-trip"
    );
    assert_eq!(
        actual.api_key_expires_at, expected.api_key_expires_at,
        "{context}: the API key expiry of {name} did not round-trip"
    );
    assert_eq!(
        actual.plan, expected.plan,
        "{context}: the plan of {name} did not round-trip"
    );
    let keys = |a: &Account| a.profiles.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(actual),
        keys(expected),
        "{context}: the profiles of {name} differ"
    );
    for (key, want) in &expected.profiles {
        let Some(got) = actual.profiles.get(key) else {
            continue;
        };
        assert_eq!(
            got.username, want.username,
            "{context}: profile {key} of {name} has the wrong username"
        );
        let platforms = |p: &Profile| p.connections.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            platforms(got),
            platforms(want),
            "{context}: the connected platforms of profile {key} of {name} differ"
        );
        for (platform, w) in &want.connections {
            if let Some(g) = got.connections.get(platform) {
                assert_same_connection(w, g, &format!("{context}: {name}/{key}/{platform}"));
            }
        }
    }
}

/// Panics unless two connections agree on every field, tokens included.
pub fn assert_same_connection(expected: &Connection, actual: &Connection, context: &str) {
    assert_eq!(
        actual.account_name, expected.account_name,
        "{context}: account_name did not round-trip"
    );
    assert!(
        actual.access_token() == expected.access_token(),
        "{context}: the access token did not round-trip"
    );
    assert!(
        secret(&actual.refresh_token) == secret(&expected.refresh_token),
        "{context}: the refresh token did not round-trip"
    );
    assert_eq!(
        actual.expires_at, expected.expires_at,
        "{context}: expires_at did not round-trip"
    );
    assert_eq!(
        actual.attributes, expected.attributes,
        "{context}: the attributes did not round-trip"
    );
}

fn request<'a>(
    account: &'a str,
    now: DateTime<Utc>,
    monthly_limit: u64,
    daily_limit: Option<u64>,
    social_accounts: &'a [SocialAccount],
) -> UsageRequest<'a> {
    UsageRequest {
        account,
        now,
        monthly_limit,
        daily_limit,
        social_accounts,
    }
}

async fn admit(store: &dyn UsageStore, req: &UsageRequest<'_>) -> Admission {
    ok(
        store.admit(req).await,
        &format!("admit for account {} at {}", req.account, req.now),
    )
}

async fn admitted(store: &dyn UsageStore, req: &UsageRequest<'_>, what: &str) -> Usage {
    match admit(store, req).await {
        Admission::Admitted(usage) => usage,
        other => panic!("{what}: expected the request to be admitted, got {other:?}"),
    }
}

async fn current(store: &dyn UsageStore, account: &str, now: DateTime<Utc>, limit: u64) -> Usage {
    ok(
        store.current(account, now, limit).await,
        &format!("current usage of account {account}"),
    )
}

fn assert_eq_dbg<T: PartialEq + Debug>(actual: T, expected: T, what: &str) {
    assert!(
        actual == expected,
        "{what}: expected {expected:?}, got {actual:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Directory checks

/// Upsert, then find by name and by API key hash; a wrong hash or name finds nothing.
pub async fn upsert_then_find_by_name_and_api_key(dir: &dyn AccountDirectory) {
    let account = sample_account("dir-find", "ak_dir_find");
    ok(dir.upsert(account.clone()).await, "upsert of dir-find");

    let by_name = found(
        ok(dir.find_by_name("dir-find").await, "find_by_name(dir-find)"),
        "find_by_name(dir-find)",
    );
    assert_same_account(&account, &by_name, "find_by_name after upsert");

    let by_key = found(
        ok(
            dir.find_by_api_key(&ApiKeyHash::of("ak_dir_find")).await,
            "find_by_api_key(dir-find's key)",
        ),
        "find_by_api_key(dir-find's key)",
    );
    assert_same_account(&account, &by_key, "find_by_api_key after upsert");

    let wrong = ok(
        dir.find_by_api_key(&ApiKeyHash::of("ak_dir_find_wrong"))
            .await,
        "find_by_api_key(a wrong key)",
    );
    assert!(
        wrong.is_none(),
        "find_by_api_key with a wrong key's hash found account {:?}",
        wrong.map(|a| a.name)
    );
    let nobody = ok(
        dir.find_by_name("dir-find-nobody").await,
        "find_by_name(an unknown name)",
    );
    assert!(
        nobody.is_none(),
        "find_by_name of an unknown name found an account"
    );
}

/// An API key expiry (with sub-second precision) and the plan round-trip; so does an
/// account without key, expiry, daily limit or profiles.
pub async fn api_key_expiry_and_plan_round_trip(dir: &dyn AccountDirectory) {
    let mut with_key = sample_account("dir-plan-a", "ak_dir_plan_a");
    with_key.api_key_expires_at = Some(utc(2027, 2, 28, 23, 59, 59) + Duration::nanoseconds(7));
    with_key.plan = Plan {
        monthly_uploads: 1_000_000,
        daily_uploads_per_account: Some(25),
    };
    ok(dir.upsert(with_key.clone()).await, "upsert of dir-plan-a");
    let back = found(
        ok(
            dir.find_by_api_key(&ApiKeyHash::of("ak_dir_plan_a")).await,
            "find_by_api_key(dir-plan-a)",
        ),
        "find_by_api_key(dir-plan-a)",
    );
    assert_same_account(&with_key, &back, "API key expiry and plan");

    let bare = Account {
        name: "dir-plan-bare".to_string(),
        api_key_hash: None,
        api_key_expires_at: None,
        plan: Plan {
            monthly_uploads: 0,
            daily_uploads_per_account: None,
        },
        profiles: BTreeMap::new(),
    };
    ok(dir.upsert(bare.clone()).await, "upsert of dir-plan-bare");
    let back = found(
        ok(
            dir.find_by_name("dir-plan-bare").await,
            "find_by_name(dir-plan-bare)",
        ),
        "find_by_name(dir-plan-bare)",
    );
    assert_same_account(&bare, &back, "an account without key, expiry or profiles");
}

/// Profiles and connections round-trip: both tokens, expiry and attributes; a
/// connection with none of the optional fields stays without them.
pub async fn profiles_and_connections_round_trip(dir: &dyn AccountDirectory) {
    let account = sample_account("dir-conn", "ak_dir_conn");
    ok(dir.upsert(account.clone()).await, "upsert of dir-conn");
    let back = found(
        ok(dir.find_by_name("dir-conn").await, "find_by_name(dir-conn)"),
        "find_by_name(dir-conn)",
    );
    assert_same_account(&account, &back, "profiles and connections");
    let Some(tt) = back
        .profiles
        .get("main")
        .and_then(|p| p.connections.get("tiktok"))
    else {
        panic!("dir-conn's main profile lost its tiktok connection");
    };
    assert_eq!(tt.access_token(), "tok-dir-conn-tt");
    assert_eq!(secret(&tt.refresh_token), Some("tok-dir-conn-tt-refresh"));
    assert_eq!(tt.attribute("user_id"), Some("dir-conn_tt-id"));
    let Some(ig) = back
        .profiles
        .get("main")
        .and_then(|p| p.connections.get("instagram"))
    else {
        panic!("dir-conn's main profile lost its instagram connection");
    };
    assert!(
        ig.refresh_token.is_none() && ig.expires_at.is_none() && ig.attributes.is_empty(),
        "a connection stored without refresh token, expiry or attributes came back with some"
    );
}

/// A second upsert replaces the account whole: a profile left out is gone, the plan and
/// the API key are the new ones, and the old key finds nothing.
pub async fn upsert_replaces_the_account(dir: &dyn AccountDirectory) {
    let first = sample_account("dir-replace", "ak_dir_replace_old");
    ok(dir.upsert(first).await, "first upsert of dir-replace");

    let mut second = sample_account("dir-replace", "ak_dir_replace_new");
    second.profiles.remove("brand");
    if let Some(main) = second.profiles.get_mut("main") {
        main.connections.remove("instagram");
        main.connections.insert(
            "tiktok".to_string(),
            Connection::new("dir-replace_tt2", "tok-dir-replace-tt2"),
        );
    }
    second.plan = Plan {
        monthly_uploads: 7,
        daily_uploads_per_account: None,
    };
    second.api_key_expires_at = None;
    ok(
        dir.upsert(second.clone()).await,
        "second upsert of dir-replace",
    );

    let back = found(
        ok(
            dir.find_by_name("dir-replace").await,
            "find_by_name(dir-replace)",
        ),
        "find_by_name(dir-replace)",
    );
    assert!(
        !back.profiles.contains_key("brand"),
        "a profile removed from the new version of the account is still there after upsert"
    );
    assert_same_account(&second, &back, "after a replacing upsert");

    let old = ok(
        dir.find_by_api_key(&ApiKeyHash::of("ak_dir_replace_old"))
            .await,
        "find_by_api_key(the replaced key)",
    );
    assert!(
        old.is_none(),
        "the API key replaced by an upsert still finds the account"
    );
    let new = found(
        ok(
            dir.find_by_api_key(&ApiKeyHash::of("ak_dir_replace_new"))
                .await,
            "find_by_api_key(the new key)",
        ),
        "find_by_api_key(the new key)",
    );
    assert_same_account(&second, &new, "found by the new key");
}

/// Remove deletes the account (by name and by key) and says whether there was one.
pub async fn remove_deletes_the_account(dir: &dyn AccountDirectory) {
    ok(
        dir.upsert(sample_account("dir-remove", "ak_dir_remove"))
            .await,
        "upsert of dir-remove",
    );
    ok(
        dir.upsert(sample_account("dir-remove-keep", "ak_dir_remove_keep"))
            .await,
        "upsert of dir-remove-keep",
    );
    assert!(
        ok(dir.remove("dir-remove").await, "remove(dir-remove)"),
        "remove of an existing account answered false"
    );
    assert!(
        ok(
            dir.find_by_name("dir-remove").await,
            "find_by_name(dir-remove)"
        )
        .is_none(),
        "a removed account is still found by name"
    );
    assert!(
        ok(
            dir.find_by_api_key(&ApiKeyHash::of("ak_dir_remove")).await,
            "find_by_api_key(dir-remove)"
        )
        .is_none(),
        "a removed account is still found by its API key"
    );
    assert!(
        !ok(dir.remove("dir-remove").await, "second remove(dir-remove)"),
        "remove of an account that is gone answered true"
    );
    let kept = found(
        ok(
            dir.find_by_name("dir-remove-keep").await,
            "find_by_name(dir-remove-keep)",
        ),
        "find_by_name(dir-remove-keep)",
    );
    assert_same_account(
        &sample_account("dir-remove-keep", "ak_dir_remove_keep"),
        &kept,
        "another account after a remove",
    );
}

/// `save_connection` replaces one connection, creates a missing profile, leaves the
/// other connections alone, is visible to the next `find_*`, and fails for an unknown
/// account.
pub async fn save_connection_creates_and_replaces(dir: &dyn AccountDirectory) {
    let mut expected = sample_account("dir-save", "ak_dir_save");
    ok(dir.upsert(expected.clone()).await, "upsert of dir-save");

    // Replace one connection of an existing profile (a token refresh).
    let mut refreshed = full_connection("dir-save_tt", "tok-dir-save-tt-refreshed");
    refreshed.expires_at = Some(utc(2032, 1, 1, 0, 0, 0));
    ok(
        dir.save_connection("dir-save", "main", "tiktok", refreshed.clone())
            .await,
        "save_connection(dir-save/main/tiktok)",
    );
    // A new connection on an existing profile.
    let linkedin = Connection::new("dir-save_li_main", "tok-dir-save-li-main")
        .with_attribute("author_urn", "urn:li:organization:42");
    ok(
        dir.save_connection("dir-save", "main", "linkedin", linkedin.clone())
            .await,
        "save_connection(dir-save/main/linkedin)",
    );
    // A connection on a profile that does not exist yet.
    let fresh = full_connection("dir-save_new_ig", "tok-dir-save-new-ig");
    ok(
        dir.save_connection("dir-save", "newcomer", "instagram", fresh.clone())
            .await,
        "save_connection(dir-save/newcomer/instagram)",
    );

    if let Some(main) = expected.profiles.get_mut("main") {
        main.connections.insert("tiktok".to_string(), refreshed);
        main.connections.insert("linkedin".to_string(), linkedin);
    }
    let mut newcomer = Profile {
        username: "newcomer".to_string(),
        ..Profile::default()
    };
    newcomer.connections.insert("instagram".to_string(), fresh);
    expected.profiles.insert("newcomer".to_string(), newcomer);

    let by_name = found(
        ok(dir.find_by_name("dir-save").await, "find_by_name(dir-save)"),
        "find_by_name(dir-save)",
    );
    assert_same_account(&expected, &by_name, "after save_connection (by name)");
    let by_key = found(
        ok(
            dir.find_by_api_key(&ApiKeyHash::of("ak_dir_save")).await,
            "find_by_api_key(dir-save)",
        ),
        "find_by_api_key(dir-save)",
    );
    assert_same_account(&expected, &by_key, "after save_connection (by API key)");

    let unknown = dir
        .save_connection(
            "dir-save-nobody",
            "main",
            "tiktok",
            Connection::new("x", "tok-x"),
        )
        .await;
    assert!(
        unknown.is_err(),
        "save_connection for an account that does not exist succeeded"
    );
    assert!(
        ok(
            dir.find_by_name("dir-save-nobody").await,
            "find_by_name(dir-save-nobody)"
        )
        .is_none(),
        "save_connection for an unknown account created that account"
    );
}

// ---------------------------------------------------------------------------------------
// Usage checks

/// The first admit of a month counts 1, and `last_reset` is the start of the UTC month.
pub async fn first_admit_counts_one(store: &dyn UsageStore) {
    let socials = [social("tiktok", "first_tt")];
    let now = utc(2026, 3, 17, 10, 20, 30);
    let usage = admitted(
        store,
        &request("usage-first", now, 10, Some(5), &socials),
        "the first admit of usage-first",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 1,
            limit: 10,
            last_reset: utc(2026, 3, 1, 0, 0, 0),
        },
        "the usage after the first admit",
    );
}

/// With a monthly limit of N, N admits count 1..=N and the next is refused with
/// `MonthlyLimitReached` without being counted.
pub async fn monthly_limit_admits_exactly_the_limit(store: &dyn UsageStore) {
    let socials = [social("instagram", "monthly_ig")];
    let now = utc(2026, 4, 10, 12, 0, 0);
    for n in 1..=3 {
        let usage = admitted(
            store,
            &request("usage-monthly", now, 3, None, &socials),
            &format!("admit {n} of 3"),
        )
        .await;
        assert_eq_dbg(usage.count, n, &format!("the count after admit {n} of 3"));
    }
    for attempt in 0..2 {
        let refused = admit(store, &request("usage-monthly", now, 3, None, &socials)).await;
        assert_eq_dbg(
            refused,
            Admission::MonthlyLimitReached { limit: 3 },
            &format!("admit past a monthly limit of 3 (attempt {attempt})"),
        );
    }
    assert_eq_dbg(
        current(store, "usage-monthly", now, 3).await.count,
        3,
        "the count after refused admits (a refusal must not count)",
    );
}

/// 60 concurrent admits (tokio tasks, spread round-robin over `stores`, which must all
/// share one set of counters) against a monthly limit of 20: exactly 20 are admitted,
/// with counts 1..=20 each seen once, 40 are refused, and the final count is 20.
/// `account` must be unused.
pub async fn concurrent_admits_are_exact(stores: &[Arc<dyn UsageStore>], account: &str) {
    assert!(
        !stores.is_empty(),
        "concurrent_admits_are_exact needs a store"
    );
    let now = utc(2026, 5, 20, 8, 0, 0);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = stores[i % stores.len()].clone();
        let account = account.to_string();
        tasks.push(tokio::spawn(async move {
            let socials = [social("tiktok", &format!("concurrent_tt_{}", i % 3))];
            store
                .admit(&request(&account, now, 20, Some(1_000), &socials))
                .await
        }));
    }
    let mut counts = BTreeSet::new();
    let mut refused = 0;
    for task in tasks {
        let answer = match task.await {
            Ok(answer) => ok(answer, "a concurrent admit"),
            Err(err) => panic!("a concurrent admit task panicked or was cancelled: {err}"),
        };
        match answer {
            Admission::Admitted(usage) => {
                assert!(
                    counts.insert(usage.count),
                    "two concurrent admits were both given count {}",
                    usage.count
                );
            }
            Admission::MonthlyLimitReached { limit: 20 } => refused += 1,
            other => panic!("a concurrent admit answered {other:?}"),
        }
    }
    assert_eq_dbg(
        counts.len(),
        20,
        "admitted requests of 60 concurrent ones against a limit of 20",
    );
    assert_eq_dbg(
        counts,
        (1..=20).collect(),
        "the counts given to the admitted requests",
    );
    assert_eq_dbg(refused, 40, "refused requests of 60 concurrent ones");
    assert_eq_dbg(
        current(stores[0].as_ref(), account, now, 20).await.count,
        20,
        "the final count after 60 concurrent admits against a limit of 20",
    );
}

/// A daily limit of 5 per social account admits 5; the 6th is refused naming the first
/// social account (in request order) at its limit, and nothing is counted.
pub async fn daily_limit_per_social_account(store: &dyn UsageStore) {
    let tt = social("tiktok", "daily_tt");
    let ig = social("instagram", "daily_ig");
    let both = [tt.clone(), ig.clone()];
    let now = utc(2026, 6, 3, 9, 0, 0);
    for n in 1..=5 {
        let usage = admitted(
            store,
            &request(
                "usage-daily",
                now + Duration::minutes(n),
                100,
                Some(5),
                &both,
            ),
            &format!("daily admit {n} of 5"),
        )
        .await;
        assert_eq_dbg(
            usage.count,
            n as u64,
            "the monthly count during daily admits",
        );
    }
    let later = now + Duration::hours(10);
    assert_eq_dbg(
        admit(store, &request("usage-daily", later, 100, Some(5), &both)).await,
        Admission::DailyLimitReached {
            limit: 5,
            social_account: tt.clone(),
        },
        "the 6th admit of the day to two social accounts at a daily limit of 5",
    );
    // A fresh account first in the request: the refusal names the first one at its limit.
    let fresh = social("linkedin", "daily_li");
    let order = [fresh.clone(), ig.clone(), tt];
    assert_eq_dbg(
        admit(store, &request("usage-daily", later, 100, Some(5), &order)).await,
        Admission::DailyLimitReached {
            limit: 5,
            social_account: ig,
        },
        "an admit whose second social account is at its daily limit",
    );
    assert_eq_dbg(
        current(store, "usage-daily", later, 100).await.count,
        5,
        "the monthly count after daily refusals (a refusal must not count)",
    );
    // The fresh account was not consumed by the refused request: it still has 5.
    let fresh_only = [fresh];
    for n in 1..=5 {
        admitted(
            store,
            &request("usage-daily", later, 100, Some(5), &fresh_only),
            &format!("admit {n} of 5 to a social account named in refused requests"),
        )
        .await;
    }
    assert!(
        matches!(
            admit(
                store,
                &request("usage-daily", later, 100, Some(5), &fresh_only)
            )
            .await,
            Admission::DailyLimitReached { limit: 5, .. }
        ),
        "a 6th admit to one social account at a daily limit of 5 was not refused"
    );
}

/// A request refused for one social account's daily limit does not consume the other
/// social accounts' daily counters.
pub async fn refused_daily_does_not_consume_other_accounts(store: &dyn UsageStore) {
    let a = social("tiktok", "refused_a");
    let b = social("instagram", "refused_b");
    let now = utc(2026, 7, 8, 15, 0, 0);
    for n in 1..=2 {
        admitted(
            store,
            &request("usage-refused", now, 100, Some(2), std::slice::from_ref(&a)),
            &format!("admit {n} of 2 to social account A"),
        )
        .await;
    }
    let b_then_a = [b.clone(), a.clone()];
    for _ in 0..3 {
        assert_eq_dbg(
            admit(
                store,
                &request("usage-refused", now, 100, Some(2), &b_then_a),
            )
            .await,
            Admission::DailyLimitReached {
                limit: 2,
                social_account: a.clone(),
            },
            "an admit to B and A when A is at its daily limit",
        );
    }
    let only_b = [b.clone()];
    for n in 1..=2 {
        admitted(
            store,
            &request("usage-refused", now, 100, Some(2), &only_b),
            &format!("admit {n} of 2 to social account B after refusals that named B"),
        )
        .await;
    }
    assert_eq_dbg(
        admit(store, &request("usage-refused", now, 100, Some(2), &only_b)).await,
        Admission::DailyLimitReached {
            limit: 2,
            social_account: b,
        },
        "the 3rd admit to B at a daily limit of 2",
    );
    assert_eq_dbg(
        current(store, "usage-refused", now, 100).await.count,
        4,
        "the monthly count (2 to A, 2 to B, refusals not counted)",
    );
}

/// Without a daily limit, only the monthly limit applies.
pub async fn without_daily_limit_only_the_month_counts(store: &dyn UsageStore) {
    let socials = [social("tiktok", "nodaily_tt")];
    let now = utc(2026, 8, 1, 0, 0, 0);
    for n in 1..=12 {
        let usage = admitted(
            store,
            &request("usage-nodaily", now, 12, None, &socials),
            &format!("admit {n} of 12 without a daily limit"),
        )
        .await;
        assert_eq_dbg(usage.count, n, "the count without a daily limit");
    }
    assert_eq_dbg(
        admit(store, &request("usage-nodaily", now, 12, None, &socials)).await,
        Admission::MonthlyLimitReached { limit: 12 },
        "the 13th admit at a monthly limit of 12 without a daily limit",
    );
}

/// A new UTC day resets the daily counters but not the month.
pub async fn new_day_resets_daily_but_not_month(store: &dyn UsageStore) {
    let socials = [social("linkedin", "newday_li")];
    let evening = utc(2026, 9, 14, 23, 59, 59);
    for _ in 0..2 {
        admitted(
            store,
            &request("usage-newday", evening, 100, Some(2), &socials),
            "an admit before midnight",
        )
        .await;
    }
    assert!(
        matches!(
            admit(
                store,
                &request("usage-newday", evening, 100, Some(2), &socials)
            )
            .await,
            Admission::DailyLimitReached { limit: 2, .. }
        ),
        "the 3rd admit of the day at a daily limit of 2 was not refused"
    );
    let midnight = utc(2026, 9, 15, 0, 0, 0);
    let usage = admitted(
        store,
        &request("usage-newday", midnight, 100, Some(2), &socials),
        "the first admit of the next UTC day",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 3,
            limit: 100,
            last_reset: utc(2026, 9, 1, 0, 0, 0),
        },
        "the usage after a new day (the month goes on counting)",
    );
}

/// A new UTC month resets the monthly count, and `last_reset` moves to its start.
pub async fn new_month_resets_the_month(store: &dyn UsageStore) {
    let socials = [social("tiktok", "newmonth_tt")];
    let end = utc(2026, 10, 31, 23, 59, 59);
    for _ in 0..2 {
        admitted(
            store,
            &request("usage-newmonth", end, 2, None, &socials),
            "an admit at the end of the month",
        )
        .await;
    }
    assert_eq_dbg(
        admit(store, &request("usage-newmonth", end, 2, None, &socials)).await,
        Admission::MonthlyLimitReached { limit: 2 },
        "the 3rd admit at a monthly limit of 2",
    );
    let start = utc(2026, 11, 1, 0, 0, 0);
    let usage = admitted(
        store,
        &request("usage-newmonth", start, 2, None, &socials),
        "the first admit of the next UTC month",
    )
    .await;
    assert_eq_dbg(
        usage,
        Usage {
            count: 1,
            limit: 2,
            last_reset: start,
        },
        "the usage after a new month",
    );
    assert_eq_dbg(
        current(store, "usage-newmonth", end, 2).await,
        Usage {
            count: 2,
            limit: 2,
            last_reset: utc(2026, 10, 1, 0, 0, 0),
        },
        "the previous month's usage after the new month began",
    );
}

/// One account's counters (monthly and daily) do not affect another's, even for social
/// accounts of the same name.
pub async fn accounts_are_isolated(store: &dyn UsageStore) {
    let socials = [social("instagram", "shared_ig")];
    let now = utc(2026, 12, 24, 18, 0, 0);
    admitted(
        store,
        &request("usage-iso-a", now, 1, Some(1), &socials),
        "the first admit of account A",
    )
    .await;
    assert_eq_dbg(
        admit(store, &request("usage-iso-a", now, 1, Some(1), &socials)).await,
        Admission::MonthlyLimitReached { limit: 1 },
        "the 2nd admit of account A at a monthly limit of 1",
    );
    assert_eq_dbg(
        admit(store, &request("usage-iso-a", now, 5, Some(1), &socials)).await,
        Admission::DailyLimitReached {
            limit: 1,
            social_account: socials[0].clone(),
        },
        "the 2nd admit of account A at a daily limit of 1",
    );
    let usage = admitted(
        store,
        &request("usage-iso-b", now, 1, Some(1), &socials),
        "the first admit of account B, with the same social account name, after A's limits",
    )
    .await;
    assert_eq_dbg(usage.count, 1, "account B's count");
    assert_eq_dbg(
        current(store, "usage-iso-a", now, 1).await.count,
        1,
        "account A's count after B's admit",
    );
}

/// `current` reads the month's usage without counting.
pub async fn current_reads_without_counting(store: &dyn UsageStore) {
    let now = utc(2027, 1, 15, 12, 30, 0);
    let january = utc(2027, 1, 1, 0, 0, 0);
    for _ in 0..3 {
        assert_eq_dbg(
            current(store, "usage-current", now, 50).await,
            Usage {
                count: 0,
                limit: 50,
                last_reset: january,
            },
            "current usage of an account that never uploaded",
        );
    }
    let socials = [social("tiktok", "current_tt")];
    admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "an admit after reading current usage",
    )
    .await;
    for _ in 0..3 {
        assert_eq_dbg(
            current(store, "usage-current", now, 77).await,
            Usage {
                count: 1,
                limit: 77,
                last_reset: january,
            },
            "current usage after one admit (the limit is the one asked with)",
        );
    }
    let usage = admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "the second admit",
    )
    .await;
    assert_eq_dbg(usage.count, 2, "the count after reads and two admits");
    // Reading did not count against the daily limit either: one more fits, then none.
    admitted(
        store,
        &request("usage-current", now, 50, Some(3), &socials),
        "the third admit at a daily limit of 3",
    )
    .await;
    assert!(
        matches!(
            admit(store, &request("usage-current", now, 50, Some(3), &socials)).await,
            Admission::DailyLimitReached { limit: 3, .. }
        ),
        "the 4th admit at a daily limit of 3 was not refused"
    );
}
