//! [`AccountDirectory::lock_connection`] on PostgreSQL: a session-level advisory lock
//! per (schema, account, profile, platform), held on a connection of its own.
//!
//! The connection is detached from the pool before the lock is asked for, and the
//! [`ConnectionLock`] owns it: dropping the lock closes that connection, and the server
//! releases a session's advisory locks when the session ends. So a lock never goes
//! back into the pool, whether the refresh finished, failed, panicked or the wait was
//! abandoned. While a lock is held (or waited for) its connection is one beyond the
//! pool's size.
//!
//! The key is `hashtextextended` (64 bits) of the four names; two connections whose
//! keys collide only take turns. The wait is bounded twice: by the server
//! (`lock_timeout`, [`crate::PostgresOptions::lock_timeout`]) and, should the server
//! stop answering, by the client a few seconds later.

use std::time::Duration;

use deadpool_postgres::Object;
use fanout_core::{ConnectionLock, StoreError};
use tokio_postgres::error::SqlState;

use crate::errors::failed;
use crate::store::PostgresStore;

/// How much longer than the server's `lock_timeout` the client waits for an answer.
const CLIENT_MARGIN: Duration = Duration::from_secs(5);

/// Waits for and takes the advisory lock of one connection (see the module docs).
pub(crate) async fn lock_connection(
    store: &PostgresStore,
    account: &str,
    profile: &str,
    platform: &str,
) -> Result<ConnectionLock, StoreError> {
    let what = format!("lock the {platform} connection of {account}/{profile} for a token refresh");
    let pooled = store.client(&what).await?;
    // From here on the session is this function's, then the lock's: it is closed on
    // drop instead of going back to the pool.
    let session = Object::take(pooled);
    let timeout = store.lock_timeout();
    let millis = timeout.as_millis().clamp(1, i32::MAX as u128);
    let locked = tokio::time::timeout(timeout + CLIENT_MARGIN, async {
        // A number formatted by us: nothing from the caller goes into this statement.
        session
            .batch_execute(&format!("SET lock_timeout = {millis}"))
            .await?;
        session
            .execute(
                "SELECT pg_advisory_lock(hashtextextended(concat_ws(chr(31), 'connection',
                     COALESCE($1::TEXT, current_schema()::TEXT, ''), $2::TEXT, $3::TEXT,
                     $4::TEXT), 0))",
                &[&store.schema(), &account, &profile, &platform],
            )
            .await
    })
    .await;
    match locked {
        Ok(Ok(_)) => Ok(ConnectionLock::held(session)),
        Ok(Err(err)) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
            Err(StoreError::unavailable(format!(
                "the PostgreSQL store could not {what}: another instance has been refreshing \
                 it for more than {} s — its refresh may be stuck; retry later, or raise the \
                 store's lock timeout",
                timeout.as_secs()
            ))
            .with_source(err))
        }
        Ok(Err(err)) => Err(failed(&what, err)),
        Err(_) => Err(StoreError::unavailable(format!(
            "the PostgreSQL store could not {what}: the database at {} did not answer within \
             {} s — check that it is up and reachable",
            store.target(),
            (timeout + CLIENT_MARGIN).as_secs()
        ))),
    }
}
