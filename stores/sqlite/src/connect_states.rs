//! [`ConnectStateStore`] on SQLite: pending OAuth attempts in `connect_states`, as
//! JSON beside their expiry.
//!
//! `take` is one `DELETE … RETURNING` inside a `BEGIN IMMEDIATE` transaction, so of
//! any number of callers racing for one state (on clones, other stores on the file, or
//! other processes) exactly one gets the row. The rows hold PKCE verifiers: no state,
//! verifier or JSON error text is put into an error message.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fanout_core::{ConnectAttempt, ConnectStateStore, StoreError};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::codec::time_from_text;
use crate::errors::{corrupt, failed};
use crate::jobs::sortable_time;
use crate::store::SqliteStore;

#[async_trait]
impl ConnectStateStore for SqliteStore {
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
                "the SQLite store could not write a {} connection attempt as JSON: {err} — \
                 this is a bug in fanout; nothing was stored",
                attempt.platform
            ))
        })?;
        let state = state.to_string();
        let expires_at = sortable_time(&expires_at);
        let now = sortable_time(&Utc::now());
        let what = format!("keep a {} connection attempt", attempt.platform);
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| failed(&what, e))?;
            tx.prepare_cached("DELETE FROM connect_states WHERE expires_at <= ?1")
                .and_then(|mut stmt| stmt.execute([&now]))
                .map_err(|e| failed(&what, e))?;
            tx.prepare_cached(
                "INSERT INTO connect_states (state, attempt, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (state) DO UPDATE
                 SET attempt = excluded.attempt, expires_at = excluded.expires_at",
            )
            .and_then(|mut stmt| stmt.execute(params![state, json, expires_at]))
            .map_err(|e| failed(&what, e))?;
            tx.commit().map_err(|e| failed(&what, e))
        })
        .await
    }

    async fn take(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConnectAttempt>, StoreError> {
        let state = state.to_string();
        let taken = self
            .with_conn(move |conn| {
                let what = "take a connection attempt";
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| failed(what, e))?;
                let row: Option<(String, String)> = tx
                    .prepare_cached(
                        "DELETE FROM connect_states WHERE state = ?1
                         RETURNING attempt, expires_at",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_row([&state], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .map_err(|e| failed(what, e))?;
                tx.commit().map_err(|e| failed(what, e))?;
                Ok(row)
            })
            .await?;
        let Some((json, expires_at)) = taken else {
            return Ok(None);
        };
        // Removed either way: an expired attempt is gone once asked for.
        if time_from_text(&expires_at, "connection attempt expiry")? <= now {
            return Ok(None);
        }
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|_| corrupt("connection attempt (its JSON does not read as one)"))
    }
}
