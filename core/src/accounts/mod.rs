//! Accounts, API keys, plans, profiles and their connected social accounts.

mod memory;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use memory::MemoryDirectory;

/// An account: who holds an API key, which plan it is on, and its profiles.
#[derive(Debug, Clone)]
pub struct Account {
    /// Unique account name (the `sub` of its JWTs).
    pub name: String,
    /// Hash of the account's API key, when it has one.
    pub api_key_hash: Option<ApiKeyHash>,
    /// When the API key stops working, if ever.
    pub api_key_expires_at: Option<DateTime<Utc>>,
    /// The usage plan.
    pub plan: Plan,
    /// Profiles by username (the form's `user`).
    pub profiles: BTreeMap<String, Profile>,
}

/// Usage limits of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Accepted upload requests per UTC calendar month.
    pub monthly_uploads: u64,
    /// Uploads per UTC day to any one connected social account, when limited.
    #[serde(default)]
    pub daily_uploads_per_account: Option<u64>,
}

/// A profile (the form's `user`) and its connected social accounts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    /// The profile's username.
    pub username: String,
    /// Connected accounts, by platform id (`"tiktok"`).
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
}

/// A connected social account: its name and credentials on one platform.
///
/// `Debug` never shows tokens. `Serialize` does write them, for durable stores only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connection {
    /// The account's name on the platform, shown in limit messages.
    pub account_name: String,
    /// The OAuth access token.
    #[serde(serialize_with = "expose")]
    pub access_token: SecretString,
    /// The OAuth refresh token, when the platform issued one.
    #[serde(default, serialize_with = "expose_opt")]
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, when known.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Platform-specific ids, e.g. Instagram's `user_id`, LinkedIn's `author_urn`.
    #[serde(flatten)]
    pub attributes: BTreeMap<String, String>,
}

impl Connection {
    /// A connection with only a name and an access token.
    pub fn new(account_name: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            account_name: account_name.into(),
            access_token: SecretString::from(access_token.into()),
            refresh_token: None,
            expires_at: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Adds a platform-specific attribute.
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// The access token, for the `Authorization` header only.
    pub fn access_token(&self) -> &str {
        self.access_token.expose_secret()
    }

    /// One platform-specific attribute.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

fn expose<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

fn expose_opt<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_some(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

/// SHA-256 of an API key. Keys are stored only as this hash and compared in constant
/// time.
///
/// ```
/// use fanout_core::ApiKeyHash;
/// let hash = ApiKeyHash::of("ak_secret");
/// assert!(hash.matches("ak_secret"));
/// assert!(!hash.matches("ak_other"));
/// assert_eq!(ApiKeyHash::from_hex(&hash.to_hex()), Some(hash));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKeyHash([u8; 32]);

impl ApiKeyHash {
    /// Hashes a key.
    pub fn of(key: &str) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }

    /// Whether `key` hashes to this value, compared in constant time.
    pub fn matches(&self, key: &str) -> bool {
        self.ct_matches(&Self::of(key))
    }

    /// Constant-time equality with another hash.
    pub fn ct_matches(&self, other: &ApiKeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Lowercase hex, for storage.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses [`ApiKeyHash::to_hex`]'s output.
    pub fn from_hex(hex_str: &str) -> Option<Self> {
        let bytes = hex::decode(hex_str).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl std::fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

/// What kind of failure a [`StoreError`] is: callers decide by kind (retry an
/// unavailable store, alert on a corrupt one), people read the message.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// What was asked for does not exist.
    NotFound,
    /// The write conflicts with what is stored (a unique key, a concurrent writer).
    Conflict,
    /// The store cannot be reached or is busy right now; retrying may work.
    Unavailable,
    /// What is stored cannot be read back (changed outside fanout, damaged).
    Corrupt,
    /// The request or the configuration is wrong; retrying will not help.
    Invalid,
    /// Anything else.
    Other,
}

/// A store failed: a kind, a sentence saying which store, what and why (never a
/// secret), and the underlying error as its [`std::error::Error::source`].
///
/// ```
/// use fanout_core::{StoreError, StoreErrorKind};
/// let io = std::io::Error::other("disk full");
/// let err = StoreError::unavailable("could not write the job").with_source(io);
/// assert_eq!(err.kind(), StoreErrorKind::Unavailable);
/// assert_eq!(err.to_string(), "could not write the job");
/// assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error of `kind` with the given sentence.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// [`StoreErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::NotFound, message)
    }

    /// [`StoreErrorKind::Conflict`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Conflict, message)
    }

    /// [`StoreErrorKind::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Unavailable, message)
    }

    /// [`StoreErrorKind::Corrupt`].
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Corrupt, message)
    }

    /// [`StoreErrorKind::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Invalid, message)
    }

    /// [`StoreErrorKind::Other`].
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Other, message)
    }

    /// The same error with `source` as its cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Wraps any error with a sentence of context ([`StoreErrorKind::Other`]).
    pub fn wrap(context: &str, err: impl std::fmt::Display) -> Self {
        Self::other(format!("{context}: {err}"))
    }

    /// Its kind.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Held while one connection's tokens are refreshed: until it is dropped, no other
/// holder of a lock on the same connection (in any process on the same store) gets
/// one. See [`AccountDirectory::lock_connection`].
pub struct ConnectionLock {
    _held: Option<Box<dyn Send>>,
}

impl ConnectionLock {
    /// No store-wide lock: enough for stores only one process uses (the engine
    /// already refreshes each connection once at a time within a process).
    pub fn in_process() -> Self {
        Self { _held: None }
    }

    /// A lock released when `held` is dropped (e.g. a database transaction holding an
    /// advisory lock).
    pub fn held(held: impl Send + 'static) -> Self {
        Self {
            _held: Some(Box::new(held)),
        }
    }
}

impl std::fmt::Debug for ConnectionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self._held.is_some() {
            "ConnectionLock(held)"
        } else {
            "ConnectionLock(in process)"
        })
    }
}

/// Where accounts live. Implementations: [`MemoryDirectory`], `fanout-sqlite`,
/// `fanout-postgres`.
#[async_trait]
pub trait AccountDirectory: Send + Sync + 'static {
    /// The account whose API key hashes to `hash`.
    async fn find_by_api_key(&self, hash: &ApiKeyHash) -> Result<Option<Account>, StoreError>;

    /// The account named `name`.
    async fn find_by_name(&self, name: &str) -> Result<Option<Account>, StoreError>;

    /// Creates or replaces an account, its profiles and their connections.
    async fn upsert(&self, account: Account) -> Result<(), StoreError>;

    /// Removes an account; `Ok(false)` when there was none.
    async fn remove(&self, name: &str) -> Result<bool, StoreError>;

    /// Stores (creates or replaces) one connection of one profile, e.g. after a token
    /// refresh or an OAuth callback. The profile is created when missing.
    async fn save_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
        connection: Connection,
    ) -> Result<(), StoreError>;

    /// Locks one connection for a token refresh across every process sharing this
    /// store, waiting for a holder to finish. The engine re-reads the connection once
    /// it holds the lock, so twenty uploads on three instances refresh a token once
    /// and no rotated refresh token is lost. The default is [`ConnectionLock::in_process`],
    /// right for stores a single process uses.
    async fn lock_connection(
        &self,
        account: &str,
        profile: &str,
        platform: &str,
    ) -> Result<ConnectionLock, StoreError> {
        let _ = (account, profile, platform);
        Ok(ConnectionLock::in_process())
    }
    /// Whether the store answers and its schema is the one this code expects (what
    /// `GET /readyz` reports). The default, for stores in memory, is always ready.
    async fn ready(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_debug_hides_tokens() {
        let mut c = Connection::new("acme", "tok_secret_123");
        c.refresh_token = Some(SecretString::from("refresh_secret".to_string()));
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok_secret_123"), "{shown}");
        assert!(!shown.contains("refresh_secret"), "{shown}");
    }

    #[test]
    fn connection_round_trips_with_attributes() {
        let c = Connection::new("acme", "tok").with_attribute("user_id", "1784");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["access_token"], "tok");
        assert_eq!(json["user_id"], "1784");
        let back: Connection = serde_json::from_value(json).unwrap();
        assert_eq!(back.attribute("user_id"), Some("1784"));
        assert_eq!(back.access_token(), "tok");
    }
}
