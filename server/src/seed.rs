//! Seeding the accounts of the config into the store (upsert).

use std::collections::BTreeMap;

use fanout_core::secrecy::ExposeSecret;
use fanout_core::{Account, AccountDirectory, ApiKeyHash, Config, Plan, Profile, StoreError};

use crate::sandbox::Sandbox;

/// Upserts every configured account; in sandbox mode with none configured, the demo
/// account. In sandbox mode every configured access token is registered with the fakes.
pub(crate) async fn accounts(
    config: &Config,
    directory: &dyn AccountDirectory,
    sandbox: Option<&Sandbox>,
) -> Result<(), StoreError> {
    let mut accounts = Vec::new();
    for seed in &config.accounts {
        let plan: Plan = config.plans.get(&seed.plan).copied().ok_or_else(|| {
            StoreError(format!("account `{}` names an undefined plan", seed.name))
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
    if let Some(sandbox) = sandbox {
        if accounts.is_empty() {
            accounts.push(sandbox.demo_account());
        }
        for account in &accounts {
            for profile in account.profiles.values() {
                for (platform, connection) in &profile.connections {
                    sandbox.accept(platform, connection);
                }
            }
        }
    }
    for account in accounts {
        directory.upsert(account).await?;
    }
    Ok(())
}
