//! The tables and their versions: `fanout_schema_migrations` lists every migration
//! applied, and the highest is the schema's version.
//!
//! [`migrate`] runs at start-up in one transaction under an advisory lock keyed by the
//! schema, so several instances starting at once migrate once and the others find the
//! work done. A schema whose version is newer than [`SCHEMA_VERSION`] was written by a
//! newer fanout and is refused before anything is touched.

use deadpool_postgres::Object;
use fanout_core::StoreError;

use crate::errors::failed;
use crate::store::column;

/// The schema version this crate writes and reads. A schema with a newer version was
/// written by a newer fanout and is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// The first key of the advisory locks this crate takes (`"fano"` in ASCII); the
/// second is a hash of what is locked.
pub(crate) const LOCK_CLASS: i32 = 0x6661_6e6f;

/// Migration `i` takes the schema from version `i` to `i + 1`: a description and SQL.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "accounts, profiles, connections, usage counters, jobs and connection attempts",
        "
    CREATE TABLE accounts (
        name                      TEXT PRIMARY KEY,
        api_key_hash              TEXT UNIQUE,            -- lowercase hex SHA-256, or NULL
        api_key_expires_at        TEXT,                   -- RFC 3339 UTC, or NULL
        monthly_uploads           BIGINT NOT NULL,
        daily_uploads_per_account BIGINT                  -- NULL: no daily limit
    );

    CREATE TABLE profiles (
        account  TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
        username TEXT NOT NULL,
        PRIMARY KEY (account, username)
    );

    -- Tokens are stored as given: this table holds credentials.
    CREATE TABLE connections (
        account       TEXT NOT NULL,
        profile       TEXT NOT NULL,
        platform      TEXT NOT NULL,
        account_name  TEXT NOT NULL,
        access_token  TEXT NOT NULL,
        refresh_token TEXT,
        expires_at    TEXT,                               -- RFC 3339 UTC, or NULL
        attributes    JSONB NOT NULL DEFAULT '{}',        -- object of strings
        PRIMARY KEY (account, profile, platform),
        FOREIGN KEY (account, profile)
            REFERENCES profiles (account, username) ON DELETE CASCADE
    );

    -- key '' is the month's counter (period_start = month start); other keys are
    -- social accounts' daily counters (period_start = day start).
    CREATE TABLE usage_counters (
        account      TEXT NOT NULL,
        period_start TIMESTAMPTZ NOT NULL,
        key          TEXT NOT NULL,
        count        BIGINT NOT NULL CHECK (count >= 0),
        PRIMARY KEY (account, period_start, key)
    );

    -- The whole job is the JSON in `job` (json keeps its text as written); the other
    -- columns copy the fields the queries filter and sort on. Times are nanoseconds
    -- since the Unix epoch. `version` is the compare-and-swap counter.
    CREATE TABLE jobs (
        job_id              TEXT PRIMARY KEY,
        account             TEXT NOT NULL,
        request_id          TEXT NOT NULL,
        idempotency_key     TEXT,
        created_at_ns       BIGINT NOT NULL,
        due_at_ns           BIGINT,
        lease_until_ns      BIGINT,
        cancelled           BOOLEAN NOT NULL,
        started_at_ns       BIGINT,
        scheduled_at_ns     BIGINT,
        media_expires_at_ns BIGINT,
        media_deleted       BOOLEAN NOT NULL,
        platform_count      BIGINT NOT NULL,
        version             BIGINT NOT NULL,
        job                 JSON NOT NULL,
        UNIQUE (account, request_id)
    );

    CREATE INDEX jobs_by_idempotency_key ON jobs (account, idempotency_key, created_at_ns)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX jobs_by_account_newest ON jobs (account, created_at_ns DESC, job_id DESC);
    CREATE INDEX jobs_due ON jobs (due_at_ns, job_id)
        WHERE due_at_ns IS NOT NULL AND NOT cancelled;
    CREATE INDEX jobs_scheduled ON jobs (account, scheduled_at_ns, job_id)
        WHERE scheduled_at_ns IS NOT NULL AND started_at_ns IS NULL AND NOT cancelled;
    CREATE INDEX jobs_media_expiry ON jobs (media_expires_at_ns, job_id)
        WHERE media_expires_at_ns IS NOT NULL AND NOT media_deleted;

    -- OAuth attempts waiting for their callback; `attempt` holds the PKCE verifier.
    CREATE TABLE connect_states (
        state         TEXT PRIMARY KEY,
        attempt       JSON NOT NULL,                      -- the ConnectAttempt
        expires_at_ns BIGINT NOT NULL
    );

    CREATE INDEX connect_states_by_expiry ON connect_states (expires_at_ns);
    ",
    ),
    (
        "media links shared by every instance",
        "
    -- Live media links: the SHA-256 of each token (never the token), the medium's
    -- place in the shared media store, and the link's expiry (ns since the epoch).
    CREATE TABLE media_links (
        token_hash    TEXT PRIMARY KEY,
        media_key     TEXT NOT NULL,
        media_len     BIGINT NOT NULL CHECK (media_len >= 0),
        media_sha256  TEXT NOT NULL,
        content_type  TEXT NOT NULL,
        file_name     TEXT,
        expires_at_ns BIGINT NOT NULL
    );

    CREATE INDEX media_links_by_expiry ON media_links (expires_at_ns);
    ",
    ),
];

/// The table listing the migrations applied.
const CREATE_VERSIONS: &str = "
    CREATE TABLE IF NOT EXISTS fanout_schema_migrations (
        version     BIGINT PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )";

/// What [`migrate`] found wrong.
pub(crate) enum MigrateError {
    /// PostgreSQL failed.
    Store(StoreError),
    /// The schema was written by a newer fanout.
    TooNew(i64),
}

impl From<StoreError> for MigrateError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// Brings the schema (`schema`, created when missing, or the connection's current
/// one) to [`SCHEMA_VERSION`]; returns the version found before.
pub(crate) async fn migrate(
    client: &mut Object,
    schema: Option<&str>,
) -> Result<i64, MigrateError> {
    let what = "migrate its tables";
    let tx = client.transaction().await.map_err(|e| failed(what, e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(COALESCE($2::TEXT, current_schema()::TEXT, '')))",
        &[&LOCK_CLASS, &schema],
    )
    .await
    .map_err(|e| failed(what, e))?;
    if let Some(schema) = schema {
        // `schema` passed `valid_schema_name`: plain lowercase letters, digits and `_`.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .map_err(|e| failed(what, e))?;
    }
    tx.batch_execute(CREATE_VERSIONS)
        .await
        .map_err(|e| failed(what, e))?;
    let found = read_version(&tx).await?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(found));
    }
    let from = usize::try_from(found).unwrap_or(0);
    for (index, (description, sql)) in MIGRATIONS.iter().enumerate().skip(from) {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let step = format!("migrate its tables to version {version} ({description})");
        tx.batch_execute(sql).await.map_err(|e| failed(&step, e))?;
        tx.execute(
            "INSERT INTO fanout_schema_migrations (version, description) VALUES ($1, $2)",
            &[&version, description],
        )
        .await
        .map_err(|e| failed(&step, e))?;
    }
    tx.commit().await.map_err(|e| failed(what, e))?;
    Ok(found)
}

/// The schema's version: the highest migration applied, 0 for none.
pub(crate) async fn read_version(
    client: &impl deadpool_postgres::GenericClient,
) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM fanout_schema_migrations",
            &[],
        )
        .await
        .map_err(|e| failed("read its schema version", e))?;
    column(&row, 0, "schema version")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_a_migration() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }
}
