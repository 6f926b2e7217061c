//! In-memory account directory, for tests and embedding.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

use super::{Account, AccountDirectory, ApiKeyHash, Connection, Profile, StoreError};

/// An [`AccountDirectory`] held in memory. Cheap to create; lost on exit.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    accounts: RwLock<HashMap<String, Account>>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, HashMap<String, Account>>, StoreError> {
        self.accounts
            .read()
            .map_err(|_| StoreError::other("the in-memory account directory is poisoned"))
    }

    fn write(
        &self,
    ) -> Result<std::sync::RwLockWriteGuard<'_, HashMap<String, Account>>, StoreError> {
        self.accounts
            .write()
            .map_err(|_| StoreError::other("the in-memory account directory is poisoned"))
    }
}

#[async_trait]
impl AccountDirectory for MemoryDirectory {
    async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError> {
        Ok(self
            .read()?
            .values()
            .find(|a| a.api_key_hash.is_some_and(|h| h.ct_matches(hash)))
            .cloned())
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        Ok(self.read()?.get(name).cloned())
    }

    async fn upsert(&self, account: Account) -> Result<(), StoreError> {
        self.write()?.insert(account.name.clone(), account);
        Ok(())
    }

    async fn remove(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.write()?.remove(name).is_some())
    }

    async fn save_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
        connection: Connection,
    ) -> Result<(), StoreError> {
        let mut accounts = self.write()?;
        let acc = accounts
            .get_mut(account)
            .ok_or_else(|| StoreError::not_found(format!("no account named {account}")))?;
        acc.profiles
            .entry(profile.to_string())
            .or_insert_with(|| Profile {
                username: profile.to_string(),
                ..Profile::default()
            })
            .connections
            .insert(platform.to_string(), connection);
        Ok(())
    }
}
