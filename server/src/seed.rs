//! Seeding the accounts of the config into the store, at every start.
//!
//! The config is where the operator says who may use the server; the store is where
//! the server keeps what it learns while running. Seeding merges the two without
//! losing either:
//!
//! - an account missing from the store is inserted as configured;
//! - for a stored account, the fields the operator owns — the API key (its hash), the
//!   key's expiry and the plan — are set from the config, so changing them and
//!   restarting takes effect;
//! - configured profiles and connections the stored account lacks are added;
//! - everything else stored is kept: profiles and connections made at run time
//!   (through `/api/connect` or [`AccountDirectory::save_connection`]) and the tokens
//!   of every stored connection, which may have been refreshed (TikTok rotates refresh
//!   tokens, so the configured ones stop working after the first refresh).
//!
//! A stored connection is never overwritten, whatever the config says about it. To
//! replace its tokens the operator reconnects the account (`/api/connect/<platform>`,
//! which stores the new tokens) or removes the stored connection (or the account) from
//! the store, after which the next start seeds the configured one again. Accounts that
//! are no longer configured stay in the store; with `accounts_owned = true` they are
//! disabled (see [`crate::owned`]).
//!
//! The sandbox's demo account (`Apikey sandbox-key`) is seeded only in sandbox mode
//! with no accounts configured, and removed at every other start.
//!
//! In sandbox mode the fakes start empty at every start, so every access token the
//! seeded accounts will use — the stored ones included — is registered with them.

use std::collections::BTreeMap;

use fanout_core::secrecy::ExposeSecret;
use fanout_core::{Account, AccountDirectory, ApiKeyHash, Plan, Profile, StoreError};

use crate::config::Config;
use crate::SANDBOX_ACCOUNT;

use crate::sandbox::Sandbox;

/// Seeds every configured account (in sandbox mode with none configured, the demo
/// account) as the module documentation describes: missing accounts, profiles and
/// connections are added, the API key, its expiry and the plan follow the config, and
/// nothing stored is removed or overwritten. In sandbox mode every access token of the
/// seeded accounts, stored or configured, is registered with the fakes.
///
/// The demo account exists only while it is seeded: in any other run (sandbox off,
/// or accounts configured) a stored demo account is removed, so its well-known key
/// never works outside the sandbox. Returns the names of the seeded accounts.
pub(crate) async fn accounts(
    config: &Config,
    directory: &dyn AccountDirectory,
    sandbox: Option<&Sandbox>,
) -> Result<Vec<String>, StoreError> {
    let mut configured = configured_accounts(config)?;
    if let Some(sandbox) = sandbox {
        if configured.is_empty() {
            configured.push(sandbox.demo_account());
        }
    }
    if !configured.iter().any(|a| a.name == SANDBOX_ACCOUNT)
        && directory.remove(SANDBOX_ACCOUNT).await?
    {
        tracing::info!(
            account = SANDBOX_ACCOUNT,
            "removed the sandbox's demo account: it exists only while the sandbox seeds it"
        );
    }
    let names = configured.iter().map(|a| a.name.clone()).collect();
    for account in configured {
        let seeded = match directory.find_by_name(&account.name).await? {
            None => {
                directory.upsert(account.clone()).await?;
                account
            }
            Some(stored) => merge_into(directory, stored, account).await?,
        };
        if let Some(sandbox) = sandbox {
            for profile in seeded.profiles.values() {
                for (platform, connection) in &profile.connections {
                    sandbox.accept(platform, connection);
                }
            }
        }
    }
    Ok(names)
}

/// The accounts as the config describes them.
fn configured_accounts(config: &Config) -> Result<Vec<Account>, StoreError> {
    let mut accounts = Vec::new();
    for seed in &config.accounts {
        let plan: Plan = config.plans.get(&seed.plan).copied().ok_or_else(|| {
            StoreError::invalid(format!("account `{}` names an undefined plan", seed.name))
        })?;
        let profiles: BTreeMap<String, Profile> = seed
            .profiles
            .iter()
            .map(|p| {
                (
                    p.username.clone(),
                    Profile {
                        username: p.username.clone(),
                        connections: p.connections.clone(),
                    },
                )
            })
            .collect();
        accounts.push(Account {
            name: seed.name.clone(),
            api_key_hash: seed
                .api_key
                .as_ref()
                .map(|k| ApiKeyHash::of(k.expose_secret())),
            api_key_expires_at: seed.api_key_expires_at,
            plan,
            profiles,
        });
    }
    Ok(accounts)
}

/// Merges `configured` into the `stored` account and writes only what changed; returns
/// the account as stored afterwards.
///
/// A restart with an unchanged config writes nothing, so it cannot race with another
/// instance on the same store refreshing a token. When only connections are missing
/// they are saved one by one; the whole account is rewritten (from the copy just read)
/// only when a field the operator owns changed or a profile is missing.
async fn merge_into(
    directory: &dyn AccountDirectory,
    stored: Account,
    configured: Account,
) -> Result<Account, StoreError> {
    let owned_changed = !same_key(stored.api_key_hash, configured.api_key_hash)
        || stored.api_key_expires_at != configured.api_key_expires_at
        || stored.plan != configured.plan;
    let mut merged = stored;
    merged.api_key_hash = configured.api_key_hash;
    merged.api_key_expires_at = configured.api_key_expires_at;
    merged.plan = configured.plan;

    let mut profile_added = false;
    let mut missing_connections = Vec::new();
    for (username, profile) in configured.profiles {
        let kept = merged.profiles.entry(username.clone()).or_insert_with(|| {
            profile_added = true;
            Profile {
                username: username.clone(),
                connections: BTreeMap::new(),
            }
        });
        for (platform, connection) in profile.connections {
            match kept.connections.get(&platform) {
                Some(existing) => {
                    if existing.access_token() != connection.access_token() {
                        tracing::info!(
                            account = %merged.name,
                            profile = %username,
                            platform = %platform,
                            "the stored connection differs from the configured one (it may \
                             have been refreshed or reconnected) and is kept; to use the \
                             configured one, remove the stored connection or reconnect"
                        );
                    }
                }
                None => {
                    kept.connections
                        .insert(platform.clone(), connection.clone());
                    missing_connections.push((username.clone(), platform, connection));
                }
            }
        }
    }

    if owned_changed || profile_added {
        directory.upsert(merged.clone()).await?;
    } else {
        for (profile, platform, connection) in missing_connections {
            directory
                .save_connection(&merged.name, &profile, &platform, connection)
                .await?;
        }
    }
    Ok(merged)
}

/// Whether two optional key hashes are the same, compared in constant time.
fn same_key(a: Option<ApiKeyHash>, b: Option<ApiKeyHash>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.ct_matches(&b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use fanout_core::async_trait;
    use fanout_core::{Connection, MemoryDirectory};

    use super::*;

    /// A memory directory that counts writes.
    #[derive(Default)]
    struct Counting {
        inner: MemoryDirectory,
        upserts: AtomicUsize,
        saves: AtomicUsize,
    }

    #[async_trait]
    impl AccountDirectory for Counting {
        async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError> {
            self.inner.find_by_api_key(hash).await
        }
        async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
            self.inner.find_by_name(name).await
        }
        async fn upsert(&self, account: Account) -> Result<(), StoreError> {
            self.upserts.fetch_add(1, Ordering::SeqCst);
            self.inner.upsert(account).await
        }
        async fn remove(&self, name: &str) -> Result<bool, StoreError> {
            self.inner.remove(name).await
        }
        async fn save_connection(
            &self,
            account: &str,
            profile: &str,
            platform: &str,
            connection: Connection,
        ) -> Result<(), StoreError> {
            self.saves.fetch_add(1, Ordering::SeqCst);
            self.inner
                .save_connection(account, profile, platform, connection)
                .await
        }
    }

    fn config(extra: &str) -> Config {
        Config::from_toml(&format!(
            r#"
[store]
kind = "memory"
[plans.pro]
monthly_uploads = 10
[[accounts]]
name = "acme"
api_key = "ak_acme"
plan = "pro"
[[accounts.profiles]]
username = "main"
[accounts.profiles.connections.tiktok]
account_name = "acme_tt"
access_token = "tt-configured"
{extra}
"#
        ))
        .unwrap()
    }

    async fn acme(directory: &Counting) -> Account {
        directory.find_by_name("acme").await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn an_unchanged_config_writes_nothing_and_keeps_learned_tokens() {
        let directory = Counting::default();
        accounts(&config(""), &directory, None).await.unwrap();
        assert_eq!(directory.upserts.load(Ordering::SeqCst), 1);
        directory
            .save_connection(
                "acme",
                "main",
                "tiktok",
                Connection::new("acme_tt", "tt-refreshed"),
            )
            .await
            .unwrap();
        let writes = directory.saves.load(Ordering::SeqCst);
        accounts(&config(""), &directory, None).await.unwrap();
        assert_eq!(directory.upserts.load(Ordering::SeqCst), 1);
        assert_eq!(directory.saves.load(Ordering::SeqCst), writes);
        let account = acme(&directory).await;
        assert_eq!(
            account.profiles["main"].connections["tiktok"].access_token(),
            "tt-refreshed"
        );
    }

    #[tokio::test]
    async fn missing_connections_and_profiles_are_added_beside_the_stored_ones() {
        let directory = Counting::default();
        accounts(&config(""), &directory, None).await.unwrap();
        directory
            .save_connection(
                "acme",
                "main",
                "tiktok",
                Connection::new("acme_tt", "tt-refreshed"),
            )
            .await
            .unwrap();
        directory
            .save_connection(
                "acme",
                "runtime",
                "linkedin",
                Connection::new("Acme", "li-rt"),
            )
            .await
            .unwrap();

        // A connection missing on a stored profile: saved alone, no rewrite.
        let linkedin = r#"
[accounts.profiles.connections.linkedin]
account_name = "Acme Inc"
access_token = "li-configured"
"#;
        accounts(&config(linkedin), &directory, None).await.unwrap();
        assert_eq!(directory.upserts.load(Ordering::SeqCst), 1);
        let account = acme(&directory).await;
        let main = &account.profiles["main"].connections;
        assert_eq!(main["tiktok"].access_token(), "tt-refreshed");
        assert_eq!(main["linkedin"].access_token(), "li-configured");

        // A missing profile: the account is rewritten with everything stored kept.
        let brand = format!(
            r#"{linkedin}
[[accounts.profiles]]
username = "brand"
"#
        );
        accounts(&config(&brand), &directory, None).await.unwrap();
        assert_eq!(directory.upserts.load(Ordering::SeqCst), 2);
        let account = acme(&directory).await;
        assert_eq!(
            account.profiles.keys().collect::<Vec<_>>(),
            ["brand", "main", "runtime"]
        );
        assert!(account.profiles["brand"].connections.is_empty());
        assert_eq!(
            account.profiles["main"].connections["tiktok"].access_token(),
            "tt-refreshed"
        );
        assert_eq!(
            account.profiles["runtime"].connections["linkedin"].access_token(),
            "li-rt"
        );
    }

    #[tokio::test]
    async fn the_operator_owns_the_key_its_expiry_and_the_plan() {
        let directory = Counting::default();
        accounts(&config(""), &directory, None).await.unwrap();
        directory
            .save_connection(
                "acme",
                "main",
                "tiktok",
                Connection::new("acme_tt", "tt-refreshed"),
            )
            .await
            .unwrap();
        let mut config = config("");
        config.accounts[0].api_key = Some("ak_new".to_string().into());
        config.accounts[0].api_key_expires_at = Some(chrono::DateTime::UNIX_EPOCH);
        config.plans.get_mut("pro").unwrap().monthly_uploads = 25;
        accounts(&config, &directory, None).await.unwrap();
        let account = acme(&directory).await;
        assert!(account.api_key_hash.unwrap().matches("ak_new"));
        assert_eq!(
            account.api_key_expires_at,
            Some(chrono::DateTime::UNIX_EPOCH)
        );
        assert_eq!(account.plan.monthly_uploads, 25);
        assert_eq!(
            account.profiles["main"].connections["tiktok"].access_token(),
            "tt-refreshed"
        );
    }
}
