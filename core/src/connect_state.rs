//! Pending OAuth connection attempts, kept in a store so a restart (or, with a shared
//! store, another instance) can finish them. Each state works once, for ten minutes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::StoreError;

/// A connection attempt waiting for the platform's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAttempt {
    /// The fanout account that started it.
    pub account: String,
    /// The profile the connection will be stored on.
    pub profile: String,
    /// Platform id.
    pub platform: String,
    /// The PKCE verifier, when the platform takes PKCE.
    pub code_verifier: Option<String>,
    /// The redirect URI sent to the platform (the code exchange repeats it).
    pub redirect_uri: String,
}

/// Where pending attempts live. Implementations: [`MemoryConnectStates`],
/// `fanout-sqlite`.
#[async_trait]
pub trait ConnectStateStore: Send + Sync + 'static {
    /// Keeps `attempt` under `state` until `expires_at`. Implementations may drop
    /// attempts that expired.
    async fn put(
        &self,
        state: &str,
        attempt: &ConnectAttempt,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Removes the attempt for `state` and returns it if it was live at `now`: a state
    /// works once, even when two callbacks race.
    async fn take(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectAttempt>, StoreError>;
}

/// A [`ConnectStateStore`] in memory: attempts are lost on restart.
#[derive(Debug, Default)]
pub struct MemoryConnectStates {
    by_state: Mutex<HashMap<String, (ConnectAttempt, DateTime<Utc>)>>,
}

impl MemoryConnectStates {
    /// No attempts.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> StoreError {
    StoreError::other("the in-memory connect states are poisoned")
}

#[async_trait]
impl ConnectStateStore for MemoryConnectStates {
    async fn put(
        &self,
        state: &str,
        attempt: &ConnectAttempt,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut by_state = self.by_state.lock().map_err(|_| poisoned())?;
        let now = Utc::now();
        by_state.retain(|_, (_, expires)| *expires > now);
        by_state.insert(state.to_string(), (attempt.clone(), expires_at));
        Ok(())
    }

    async fn take(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectAttempt>, StoreError> {
        let mut by_state = self.by_state.lock().map_err(|_| poisoned())?;
        Ok(by_state
            .remove(state)
            .filter(|(_, expires)| *expires > now)
            .map(|(attempt, _)| attempt))
    }
}
