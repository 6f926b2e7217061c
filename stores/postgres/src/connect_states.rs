//! [`ConnectStateStore`] on PostgreSQL: pending OAuth attempts in `connect_states`, as
//! JSON beside their expiry.
//!
//! `take` is one `DELETE … RETURNING`: of any number of callers racing for one state
//! (on any instance) exactly one gets the row. The rows hold PKCE verifiers: no state,
//! verifier or JSON error text is put into an error message.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fanout_core::{ConnectAttempt, ConnectStateStore, StoreError};

use crate::codec::{from_nanos, nanos};
use crate::errors::{corrupt, failed};
use crate::store::{column, execute, query_opt, PostgresStore};

#[async_trait]
impl ConnectStateStore for PostgresStore {
    /// Keeps `attempt` under `state` (replacing an attempt already kept under it), and
    /// drops the attempts that expired by the system clock.
    async fn put(
        &self,
        state: &str,
        attempt: &ConnectAttempt,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(attempt).map_err(|err| {
            StoreError::other(format!(
                "the PostgreSQL store could not write a {} connection attempt as JSON: \
                 {err} — this is a bug in fanout; nothing was stored",
                attempt.platform
            ))
        })?;
        let what = format!("keep a {} connection attempt", attempt.platform);
        let expires_at = nanos(&expires_at, "a connection attempt expiring at")?;
        let now = nanos(&Utc::now(), "the time")?;
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        execute(
            &tx,
            "DELETE FROM connect_states WHERE expires_at_ns <= $1",
            &[&now],
            &what,
        )
        .await?;
        execute(
            &tx,
            "INSERT INTO connect_states (state, attempt, expires_at_ns)
             VALUES ($1, $2::TEXT::JSON, $3)
             ON CONFLICT (state) DO UPDATE
             SET attempt = excluded.attempt, expires_at_ns = excluded.expires_at_ns",
            &[&state, &json, &expires_at],
            &what,
        )
        .await?;
        tx.commit().await.map_err(|e| failed(&what, e))
    }

    async fn take(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectAttempt>, StoreError> {
        let what = "take a connection attempt";
        let client = self.client(what).await?;
        let row = query_opt(
            &client,
            "DELETE FROM connect_states WHERE state = $1
             RETURNING attempt::TEXT, expires_at_ns",
            &[&state],
            what,
        )
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let json: String = column(&row, 0, "connection attempt")?;
        let expires_at: i64 = column(&row, 1, "connection attempt expiry")?;
        // Removed either way: an expired attempt is gone once asked for.
        if from_nanos(expires_at) <= now {
            return Ok(None);
        }
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|_| corrupt("connection attempt (its JSON does not read as one)"))
    }
}
