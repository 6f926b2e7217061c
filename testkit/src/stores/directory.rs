//! Checks every [`AccountDirectory`] must pass, and the sample accounts they use.

use std::collections::BTreeMap;

use chrono::Duration;
use fanout_core::secrecy::{ExposeSecret, SecretString};
use fanout_core::{Account, AccountDirectory, ApiKeyHash, Connection, Plan, Profile};

use super::{ok, utc};

/// Runs every directory check, in order, on `dir`.
pub async fn run_directory_checks(dir: &dyn AccountDirectory) {
    upsert_then_find_by_name_and_api_key(dir).await;
    api_key_expiry_and_plan_round_trip(dir).await;
    profiles_and_connections_round_trip(dir).await;
    upsert_replaces_the_account(dir).await;
    remove_deletes_the_account(dir).await;
    save_connection_creates_and_replaces(dir).await;
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

// ---------------------------------------------------------------------------------------
// Checks

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
