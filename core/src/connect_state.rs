//! Pending OAuth connection attempts, kept in a store so a restart (or, with a shared
//! store, another instance) can finish them. Each state works once, for ten minutes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

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

/// The pending attempts this process started, per account and in total, so a client
/// that starts connections and never finishes them cannot grow the store without end.
///
/// An account keeps its newest attempts: starting one more makes its oldest give way
/// (someone clicking "connect" again wants the new one). Past the total, new attempts
/// are refused until old ones finish or expire.
#[derive(Debug)]
pub(crate) struct PendingAttempts {
    per_account: usize,
    total: usize,
    inner: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// Per account, its attempts' states and expiries, oldest first.
    by_account: HashMap<String, VecDeque<(String, Instant)>>,
    count: usize,
}

impl Pending {
    /// Drops `account`'s expired attempts.
    fn expire(&mut self, account: &str, now: Instant) {
        if let Some(queue) = self.by_account.get_mut(account) {
            let before = queue.len();
            queue.retain(|(_, expires)| *expires > now);
            self.count -= before - queue.len();
            if queue.is_empty() {
                self.by_account.remove(account);
            }
        }
    }

    /// Drops every expired attempt.
    fn expire_all(&mut self, now: Instant) {
        let mut count = 0;
        self.by_account.retain(|_, queue| {
            queue.retain(|(_, expires)| *expires > now);
            count += queue.len();
            !queue.is_empty()
        });
        self.count = count;
    }
}

/// Too many connection attempts are pending on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyPending;

impl PendingAttempts {
    /// At most `per_account` attempts per account (at least 1) and `total` in all.
    pub(crate) fn new(per_account: usize, total: usize) -> Self {
        Self {
            per_account: per_account.max(1),
            total,
            inner: Mutex::new(Pending::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // The counts stay consistent under any panic: keep going.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records attempt `state` of `account`, live until `expires`. Answers the state
    /// of the account's oldest attempt when it had to give way (remove it from the
    /// store), or [`TooManyPending`].
    pub(crate) fn admit(
        &self,
        account: &str,
        state: &str,
        expires: Instant,
    ) -> Result<Option<String>, TooManyPending> {
        let now = Instant::now();
        let mut pending = self.lock();
        pending.expire(account, now);
        let full = pending.by_account.get(account).map_or(0, VecDeque::len) >= self.per_account;
        if !full && pending.count >= self.total {
            pending.expire_all(now);
            if pending.count >= self.total {
                return Err(TooManyPending);
            }
        }
        let queue = pending.by_account.entry(account.to_string()).or_default();
        queue.push_back((state.to_string(), expires));
        let evicted = if queue.len() > self.per_account {
            queue.pop_front().map(|(state, _)| state)
        } else {
            None
        };
        if evicted.is_none() {
            pending.count += 1;
        }
        Ok(evicted)
    }

    /// Forgets attempt `state` of `account` (it finished, or never got stored).
    pub(crate) fn release(&self, account: &str, state: &str) {
        let mut pending = self.lock();
        if let Some(queue) = pending.by_account.get_mut(account) {
            if let Some(at) = queue.iter().position(|(s, _)| s == state) {
                queue.remove(at);
                let empty = queue.is_empty();
                pending.count -= 1;
                if empty {
                    pending.by_account.remove(account);
                }
            }
        }
    }

    /// How many attempts are recorded (expired ones included until they are swept).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_account_keeps_its_newest_attempts() {
        let pending = PendingAttempts::new(2, 100);
        let later = Instant::now() + Duration::from_secs(600);
        assert_eq!(pending.admit("a", "s1", later), Ok(None));
        assert_eq!(pending.admit("a", "s2", later), Ok(None));
        assert_eq!(pending.admit("a", "s3", later), Ok(Some("s1".into())));
        assert_eq!(pending.admit("b", "t1", later), Ok(None));
        assert_eq!(pending.len(), 3);
        pending.release("a", "s2");
        pending.release("a", "s1"); // already gone: nothing happens
        assert_eq!(pending.len(), 2);
    }

    #[test]
    fn the_total_is_bounded_until_attempts_expire() {
        let pending = PendingAttempts::new(5, 3);
        let later = Instant::now() + Duration::from_secs(600);
        for account in ["a", "b", "c"] {
            assert_eq!(pending.admit(account, "s", later), Ok(None));
        }
        assert_eq!(pending.admit("d", "s", later), Err(TooManyPending));
        assert_eq!(pending.admit("a", "s2", later), Err(TooManyPending));
        let pending = PendingAttempts::new(5, 3);
        let soon = Instant::now();
        for account in ["a", "b", "c"] {
            assert_eq!(pending.admit(account, "s", soon), Ok(None));
        }
        // All three have expired: room again.
        assert_eq!(pending.admit("d", "s", later), Ok(None));
        assert_eq!(pending.len(), 1);
    }
}
