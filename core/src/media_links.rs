//! Media links shared by every instance on one store: a link minted by the instance
//! that runs a publish is served by whichever instance the platform's fetch reaches.
//!
//! Only a hash of each link's token is stored (the token is a bearer secret), beside
//! the medium's place in the shared [`crate::MediaStore`] and the link's expiry.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::accounts::StoreError;
use crate::jobs::StoredMedia;

/// One live media link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLink {
    /// SHA-256 of the link's token, lowercase hex ([`MediaLink::hash_token`]).
    pub token_hash: String,
    /// The medium the link serves, in the shared media store.
    pub media: StoredMedia,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

impl MediaLink {
    /// The stored form of a link token.
    ///
    /// ```
    /// let hash = fanout_core::MediaLink::hash_token("abc");
    /// assert_eq!(hash.len(), 64);
    /// assert_ne!(hash, "abc");
    /// ```
    pub fn hash_token(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }
}

/// Where live media links are kept so any instance can serve them. Implementations:
/// [`MemoryMediaLinks`] (one process), `fanout-sqlite`, `fanout-postgres`.
#[async_trait]
pub trait MediaLinkStore: Send + Sync + 'static {
    /// Stores a new link (a token hash is never reused).
    async fn insert_link(&self, link: MediaLink) -> Result<(), StoreError>;

    /// The link whose token hashes to `token_hash`, unless it expired before `now`.
    async fn find_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MediaLink>, StoreError>;

    /// Removes a link (the publish that needed it ended); removing a missing link
    /// succeeds. Expired links may be removed along the way.
    async fn remove_link(&self, token_hash: &str) -> Result<(), StoreError>;
}

/// Media links in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryMediaLinks {
    links: Mutex<HashMap<String, MediaLink>>,
}

impl MemoryMediaLinks {
    /// No links yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn links(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, MediaLink>>, StoreError> {
        self.links
            .lock()
            .map_err(|_| StoreError::unavailable("the in-memory media links are unavailable"))
    }
}

#[async_trait]
impl MediaLinkStore for MemoryMediaLinks {
    async fn insert_link(&self, link: MediaLink) -> Result<(), StoreError> {
        let mut links = self.links()?;
        let now = Utc::now();
        links.retain(|_, l| l.expires_at > now);
        links.insert(link.token_hash.clone(), link);
        Ok(())
    }

    async fn find_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MediaLink>, StoreError> {
        Ok(self
            .links()?
            .get(token_hash)
            .filter(|l| l.expires_at > now)
            .cloned())
    }

    async fn remove_link(&self, token_hash: &str) -> Result<(), StoreError> {
        self.links()?.remove(token_hash);
        Ok(())
    }
}
