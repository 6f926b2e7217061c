//! The tables, their version (`PRAGMA user_version`) and the connection settings.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tracing::warn;

/// The schema version this crate writes and reads (`PRAGMA user_version`). A file with
/// a newer version was written by a newer fanout and is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// How long a statement waits for another connection's (or process's) lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: accounts, profiles, connections, usage counters.
    "
    CREATE TABLE accounts (
        name                      TEXT PRIMARY KEY NOT NULL,
        api_key_hash              TEXT UNIQUE,            -- lowercase hex SHA-256, or NULL
        api_key_expires_at        TEXT,                   -- RFC 3339 UTC, or NULL
        monthly_uploads           INTEGER NOT NULL,
        daily_uploads_per_account INTEGER                 -- NULL: no daily limit
    ) STRICT;

    CREATE TABLE profiles (
        account  TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
        username TEXT NOT NULL,
        PRIMARY KEY (account, username)
    ) STRICT, WITHOUT ROWID;

    -- Tokens are stored as given: this file holds credentials.
    CREATE TABLE connections (
        account       TEXT NOT NULL,
        profile       TEXT NOT NULL,
        platform      TEXT NOT NULL,
        account_name  TEXT NOT NULL,
        access_token  TEXT NOT NULL,
        refresh_token TEXT,
        expires_at    TEXT,                               -- RFC 3339 UTC, or NULL
        attributes    TEXT NOT NULL DEFAULT '{}',         -- JSON object of strings
        PRIMARY KEY (account, profile, platform),
        FOREIGN KEY (account, profile)
            REFERENCES profiles(account, username) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;

    -- key '' is the month's counter (period_start = month start); other keys are
    -- social accounts' daily counters (period_start = day start).
    CREATE TABLE usage_counters (
        account      TEXT NOT NULL,
        period_start TEXT NOT NULL,                       -- RFC 3339 UTC
        key          TEXT NOT NULL,
        count        INTEGER NOT NULL,
        PRIMARY KEY (account, period_start, key)
    ) STRICT, WITHOUT ROWID;
    ",
    // 1 -> 2: jobs and pending connection attempts.
    "
    -- The whole job is the JSON in `job`; the other columns copy the fields the
    -- queries filter and sort on. Times are RFC 3339 UTC with nine fractional digits,
    -- so text order is time order. `version` is the compare-and-swap counter.
    CREATE TABLE jobs (
        job_id           TEXT PRIMARY KEY NOT NULL,
        account          TEXT NOT NULL,
        request_id       TEXT NOT NULL,
        idempotency_key  TEXT,
        created_at       TEXT NOT NULL,
        due_at           TEXT,
        lease_until      TEXT,
        cancelled        INTEGER NOT NULL,                -- 0 or 1
        started_at       TEXT,
        scheduled_at     TEXT,
        media_expires_at TEXT,
        media_deleted    INTEGER NOT NULL,                -- 0 or 1
        platform_count   INTEGER NOT NULL,
        version          INTEGER NOT NULL,
        job              TEXT NOT NULL,                   -- the Job as JSON
        UNIQUE (account, request_id)
    ) STRICT;

    CREATE INDEX jobs_by_idempotency_key ON jobs (account, idempotency_key, created_at)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX jobs_by_account_newest ON jobs (account, created_at DESC, job_id DESC);
    CREATE INDEX jobs_due ON jobs (due_at, job_id)
        WHERE due_at IS NOT NULL AND cancelled = 0;
    CREATE INDEX jobs_scheduled ON jobs (account, scheduled_at, job_id)
        WHERE scheduled_at IS NOT NULL AND started_at IS NULL AND cancelled = 0;
    CREATE INDEX jobs_media_expiry ON jobs (media_expires_at, job_id)
        WHERE media_expires_at IS NOT NULL AND media_deleted = 0;

    -- OAuth attempts waiting for their callback; `attempt` holds the PKCE verifier.
    CREATE TABLE connect_states (
        state      TEXT PRIMARY KEY NOT NULL,
        attempt    TEXT NOT NULL,                         -- the ConnectAttempt as JSON
        expires_at TEXT NOT NULL                          -- RFC 3339 UTC, nine digits
    ) STRICT, WITHOUT ROWID;

    CREATE INDEX connect_states_by_expiry ON connect_states (expires_at);
    ",
];

/// Applies the connection settings: busy timeout, foreign keys, WAL (for files),
/// `synchronous=NORMAL`.
pub(crate) fn configure(conn: &Connection, file_backed: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if file_backed {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            warn!(
                journal_mode = %mode,
                "the SQLite store could not switch to WAL; concurrent readers will wait \
                 for writers"
            );
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// What [`migrate`] found wrong.
pub(crate) enum MigrateError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The file was written by a newer fanout.
    TooNew(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

/// Brings the schema to [`SCHEMA_VERSION`] inside one `BEGIN IMMEDIATE` transaction,
/// so two processes opening a new file at once create it once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(version));
    }
    let from = usize::try_from(version).unwrap_or(0);
    for sql in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(sql)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_a_migration() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }

    #[test]
    fn migrating_twice_is_harmless_and_sets_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        configure(&conn, false).unwrap();
        assert!(migrate(&mut conn).is_ok());
        assert!(migrate(&mut conn).is_ok());
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(MigrateError::TooNew(v)) if v == SCHEMA_VERSION + 1
        ));
    }
}
