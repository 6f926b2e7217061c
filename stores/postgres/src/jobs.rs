//! [`JobStore`] on PostgreSQL: each job whole as JSON in `jobs.job`, beside copies of
//! the fields the queries filter and sort on.
//!
//! - `insert` under an idempotency key takes a transaction-scoped advisory lock on
//!   (schema, account, key) before it looks for an earlier job, so of concurrent
//!   inserts with one key (on any instance) exactly one creates a job and the others
//!   get it back. The request id and job id are unique columns: `ON CONFLICT DO
//!   NOTHING` refuses a duplicate without a race.
//! - `update` is one `UPDATE … WHERE job_id = $1 AND version = $2`: a compare-and-swap
//!   that PostgreSQL's row lock makes exact across instances. Claiming a job is such
//!   an update setting the lease, so a job is claimed by one instance, and a lapsed
//!   lease is taken over by whoever updates first from the version it read.
//! - `due` reads with `FOR UPDATE SKIP LOCKED`: a job another instance is claiming at
//!   that moment is skipped rather than offered to a claim that would lose.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use fanout_core::{Insert, Job, JobStore, StoreError};
use tokio_postgres::Row as PgRow;

use crate::codec::{count_from_sql, count_to_sql, nanos, opt_nanos, sql_limit};
use crate::errors::{corrupt, failed};
use crate::schema::LOCK_CLASS;
use crate::store::{column, execute, query, query_opt, Params, PostgresStore};

/// The columns of one `jobs` row, ready to bind.
struct Row {
    job_id: String,
    account: String,
    request_id: String,
    idempotency_key: Option<String>,
    created_at: i64,
    due_at: Option<i64>,
    lease_until: Option<i64>,
    cancelled: bool,
    started_at: Option<i64>,
    scheduled_at: Option<i64>,
    media_expires_at: Option<i64>,
    media_deleted: bool,
    platform_count: i64,
    version: i64,
    json: String,
}

impl Row {
    /// The row for `job` as it will be stored.
    fn of(job: &Job) -> Result<Self, StoreError> {
        let json = serde_json::to_string(job).map_err(|err| {
            StoreError::other(format!(
                "the PostgreSQL store could not write job {} as JSON: {err} — this is a bug \
                 in fanout; nothing was stored",
                job.job_id
            ))
        })?;
        let platforms = u64::try_from(job.platforms.len()).unwrap_or(u64::MAX);
        Ok(Self {
            job_id: job.job_id.clone(),
            account: job.account.clone(),
            request_id: job.request_id.clone(),
            idempotency_key: job.idempotency_key.clone(),
            created_at: nanos(&job.created_at, "a creation time of")?,
            due_at: opt_nanos(job.due_at.as_ref(), "a due time of")?,
            lease_until: opt_nanos(job.lease.as_ref().map(|l| &l.until), "a lease until")?,
            cancelled: job.cancelled,
            started_at: opt_nanos(job.started_at.as_ref(), "a start time of")?,
            scheduled_at: opt_nanos(job.scheduled_at.as_ref(), "a scheduled time of")?,
            media_expires_at: opt_nanos(job.media_expires_at.as_ref(), "a media expiry of")?,
            media_deleted: job.media_deleted,
            platform_count: count_to_sql(platforms, "a platform count of")?,
            version: count_to_sql(job.version, "a job version of")?,
            json,
        })
    }

    /// The parameters `$1` to `$15`, in column order.
    fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 15] {
        [
            &self.job_id,
            &self.account,
            &self.request_id,
            &self.idempotency_key,
            &self.created_at,
            &self.due_at,
            &self.lease_until,
            &self.cancelled,
            &self.started_at,
            &self.scheduled_at,
            &self.media_expires_at,
            &self.media_deleted,
            &self.platform_count,
            &self.version,
            &self.json,
        ]
    }
}

/// The columns a query reads back: `job_id, version, job`.
const READ: &str = "SELECT job_id, version, job::TEXT FROM jobs";

/// A job read back: the JSON, with the version column (the one `update` compares).
fn decode(row: &PgRow) -> Result<Job, StoreError> {
    let job_id: String = column(row, 0, "job id")?;
    let what = format!("job {job_id}");
    let version: i64 = column(row, 1, &what)?;
    let json: String = column(row, 2, &what)?;
    let mut job: Job = serde_json::from_str(&json).map_err(|err| {
        corrupt(format_args!(
            "job {job_id} (its JSON does not read as a job at line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    job.version = count_from_sql(version, &format!("version of job {job_id}"))?;
    Ok(job)
}

/// Runs a [`READ`] query and decodes every row.
async fn read_jobs(
    client: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    what: &str,
) -> Result<Vec<Job>, StoreError> {
    query(client, sql, params, what)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Runs a [`READ`] query expected to find at most one job.
async fn read_job(
    client: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    what: &str,
) -> Result<Option<Job>, StoreError> {
    Ok(read_jobs(client, sql, params, what)
        .await?
        .into_iter()
        .next())
}

/// `limit` as `LIMIT` takes it.
fn limit_of(limit: usize) -> i64 {
    sql_limit(u64::try_from(limit).unwrap_or(u64::MAX))
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn ready(&self) -> Result<(), StoreError> {
        self.check_ready().await
    }

    async fn insert(&self, job: &Job, key_window: Duration) -> Result<Insert, StoreError> {
        let row = Row::of(job)?;
        // Jobs created after `since` count as duplicates; no bound when the window
        // reaches past the times this store keeps.
        let since = chrono::Duration::from_std(key_window)
            .ok()
            .and_then(|window| job.created_at.checked_sub_signed(window))
            .and_then(|t| t.timestamp_nanos_opt());
        let what = format!("store job {} of account {}", row.job_id, row.account);
        let mut client = self.client(&what).await?;
        let tx = client.transaction().await.map_err(|e| failed(&what, e))?;
        if let Some(key) = &row.idempotency_key {
            // One holder at a time per (schema, account, key), until this transaction
            // ends; a waiter then sees the job the holder committed.
            execute(
                &tx,
                "SELECT pg_advisory_xact_lock($1,
                     hashtext(COALESCE(current_schema()::TEXT, '') || chr(31) || $2::TEXT
                              || chr(31) || $3::TEXT))",
                &[&LOCK_CLASS, &row.account, key],
                &what,
            )
            .await?;
            let first = read_job(
                &tx,
                &format!(
                    "{READ} WHERE account = $1 AND idempotency_key = $2
                     AND ($3::BIGINT IS NULL OR created_at_ns > $3::BIGINT)
                     ORDER BY created_at_ns, job_id LIMIT 1"
                ),
                &[&row.account, key, &since],
                &what,
            )
            .await?;
            if let Some(first) = first {
                tx.rollback().await.map_err(|e| failed(&what, e))?;
                return Ok(Insert::DuplicateKey(Box::new(first)));
            }
        }
        let inserted = execute(
            &tx,
            "INSERT INTO jobs (job_id, account, request_id, idempotency_key, created_at_ns,
                 due_at_ns, lease_until_ns, cancelled, started_at_ns, scheduled_at_ns,
                 media_expires_at_ns, media_deleted, platform_count, version, job)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                     $15::TEXT::JSON)
             ON CONFLICT DO NOTHING",
            &row.params(),
            &what,
        )
        .await?;
        tx.commit().await.map_err(|e| failed(&what, e))?;
        Ok(if inserted == 1 {
            Insert::Created
        } else {
            Insert::RequestIdTaken
        })
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        let what = format!("read job {job_id}");
        let client = self.client(&what).await?;
        read_job(
            &client,
            &format!("{READ} WHERE job_id = $1"),
            &[&job_id],
            &what,
        )
        .await
    }

    async fn find_by_request_id(
        &self,
        account: &str,
        request_id: &str,
    ) -> Result<Option<Job>, StoreError> {
        let what = format!("look up a job of account {account} by request id");
        let client = self.client(&what).await?;
        read_job(
            &client,
            &format!("{READ} WHERE account = $1 AND request_id = $2"),
            &[&account, &request_id],
            &what,
        )
        .await
    }

    async fn update(&self, job: &mut Job) -> Result<bool, StoreError> {
        let expected = count_to_sql(job.version, "a job version of")?;
        let Some(next) = job.version.checked_add(1) else {
            return Err(StoreError::corrupt(format!(
                "the PostgreSQL store cannot update job {}: its version {} is at the \
                 largest value — the job was written outside fanout; fix that row",
                job.job_id, job.version
            )));
        };
        // The stored JSON carries the new version; `job` itself changes only on success.
        let mut written = job.clone();
        written.version = next;
        let row = Row::of(&written)?;
        let what = format!("update job {}", row.job_id);
        let client = self.client(&what).await?;
        let params = row.params();
        let mut all: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params.to_vec();
        all.push(&expected);
        let changed = execute(
            &client,
            "UPDATE jobs SET account = $2, request_id = $3, idempotency_key = $4,
                 created_at_ns = $5, due_at_ns = $6, lease_until_ns = $7, cancelled = $8,
                 started_at_ns = $9, scheduled_at_ns = $10, media_expires_at_ns = $11,
                 media_deleted = $12, platform_count = $13, version = $14,
                 job = $15::TEXT::JSON
             WHERE job_id = $1 AND version = $16",
            &all,
            &what,
        )
        .await?;
        let wrote = changed == 1;
        if wrote {
            job.version = next;
        }
        Ok(wrote)
    }

    async fn delete(&self, job_id: &str) -> Result<bool, StoreError> {
        let what = format!("delete job {job_id}");
        let client = self.client(&what).await?;
        let deleted = execute(
            &client,
            "DELETE FROM jobs WHERE job_id = $1",
            &[&job_id],
            &what,
        )
        .await?;
        Ok(deleted > 0)
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        let what = "list the jobs due to run";
        let now = nanos(&now, "a due time of")?;
        let client = self.client(what).await?;
        read_jobs(
            &client,
            &format!(
                "{READ} WHERE due_at_ns IS NOT NULL AND due_at_ns <= $1 AND NOT cancelled
                 AND (lease_until_ns IS NULL OR lease_until_ns <= $1)
                 ORDER BY due_at_ns, job_id LIMIT $2
                 FOR UPDATE SKIP LOCKED"
            ),
            &[&now, &limit_of(limit)],
            what,
        )
        .await
    }

    async fn history(
        &self,
        account: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Job>, StoreError> {
        let what = format!("list the jobs of account {account}");
        let client = self.client(&what).await?;
        read_jobs(
            &client,
            &format!(
                "{READ} WHERE account = $1
                 ORDER BY created_at_ns DESC, job_id DESC LIMIT $2 OFFSET $3"
            ),
            &[&account, &sql_limit(limit), &sql_limit(offset)],
            &what,
        )
        .await
    }

    async fn count(&self, account: &str) -> Result<(u64, u64), StoreError> {
        let what = format!("count the jobs of account {account}");
        let client = self.client(&what).await?;
        let row = query_opt(
            &client,
            "SELECT COUNT(*)::BIGINT, COALESCE(SUM(platform_count), 0)::BIGINT FROM jobs
             WHERE account = $1",
            &[&account],
            &what,
        )
        .await?
        .ok_or_else(|| StoreError::other(format!("could not {what}: no answer")))?;
        let jobs: i64 = column(&row, 0, &what)?;
        let platforms: i64 = column(&row, 1, &what)?;
        Ok((
            count_from_sql(jobs, &format!("job count of account {account}"))?,
            count_from_sql(platforms, &format!("platform count of account {account}"))?,
        ))
    }

    async fn scheduled(&self, account: &str) -> Result<Vec<Job>, StoreError> {
        let what = format!("list the scheduled jobs of account {account}");
        let client = self.client(&what).await?;
        read_jobs(
            &client,
            &format!(
                "{READ} WHERE account = $1 AND scheduled_at_ns IS NOT NULL
                 AND started_at_ns IS NULL AND NOT cancelled
                 ORDER BY scheduled_at_ns, job_id"
            ),
            &[&account],
            &what,
        )
        .await
    }

    async fn media_expired(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let what = "list the jobs whose media expired";
        let now = nanos(&now, "a media expiry of")?;
        let client = self.client(what).await?;
        read_jobs(
            &client,
            &format!(
                "{READ} WHERE media_expires_at_ns IS NOT NULL AND media_expires_at_ns <= $1
                 AND NOT media_deleted
                 ORDER BY media_expires_at_ns, job_id LIMIT $2"
            ),
            &[&now, &limit_of(limit)],
            what,
        )
        .await
    }
}
