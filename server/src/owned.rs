//! `accounts_owned = true`: the config owns the accounts. The engine sees the store
//! through [`OwnedDirectory`], which hides every account the config does not name, so
//! an account removed from the file is disabled from the next start on: its API key
//! and its Bearer tokens are refused and its jobs no longer run, while its stored
//! data stays (naming it again enables it again).

use std::collections::HashSet;
use std::sync::Arc;

use fanout_core::{
    async_trait, Account, AccountDirectory, ApiKeyHash, Connection, ConnectionLock, StoreError,
};

/// An account directory that shows only the accounts in `names`; writes to other
/// accounts are refused.
pub(crate) struct OwnedDirectory {
    inner: Arc<dyn AccountDirectory>,
    names: HashSet<String>,
}

impl OwnedDirectory {
    /// `inner`, showing only the accounts named in `names`.
    pub(crate) fn new(inner: Arc<dyn AccountDirectory>, names: HashSet<String>) -> Self {
        Self { inner, names }
    }

    fn owned(&self, account: Option<Account>) -> Option<Account> {
        account.filter(|a| self.names.contains(&a.name))
    }

    fn check(&self, name: &str) -> Result<(), StoreError> {
        if self.names.contains(name) {
            Ok(())
        } else {
            Err(StoreError::not_found(format!(
                "account `{name}` is not in the configuration (accounts_owned = true)"
            )))
        }
    }
}

#[async_trait]
impl AccountDirectory for OwnedDirectory {
    async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError> {
        Ok(self.owned(self.inner.find_by_api_key(hash).await?))
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        if !self.names.contains(name) {
            return Ok(None);
        }
        self.inner.find_by_name(name).await
    }

    async fn upsert(&self, account: Account) -> Result<(), StoreError> {
        self.check(&account.name)?;
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
        self.check(account)?;
        self.inner
            .save_connection(account, profile, platform, connection)
            .await
    }

    async fn lock_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
    ) -> Result<ConnectionLock, StoreError> {
        self.inner.lock_connection(account, profile, platform).await
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.inner.ready().await
    }
}
