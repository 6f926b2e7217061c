//! [`JobStore`] on SQLite: each job whole as JSON in `jobs.job`, beside copies of the
//! fields the queries filter and sort on.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction: the write lock is taken before
//! the first read, so the idempotency-key and request-id checks of `insert` and the
//! version comparison of `update` hold across connections, clones and processes.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use fanout_core::{Insert, Job, JobStore, StoreError};
use rusqlite::{params, Connection, Params, Transaction, TransactionBehavior};

use crate::codec::{count_from_sql, count_to_sql};
use crate::errors::{corrupt, failed};
use crate::store::SqliteStore;

/// A time as an indexed column holds it: RFC 3339, UTC, `Z`, always nine fractional
/// digits, so that text order is time order (for years 0 to 9999).
/// [`crate::codec::time_to_text`] drops trailing zero digits and does not sort.
pub(crate) fn sortable_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The columns of one `jobs` row, ready to bind.
struct Row {
    job_id: String,
    account: String,
    request_id: String,
    idempotency_key: Option<String>,
    created_at: String,
    due_at: Option<String>,
    lease_until: Option<String>,
    cancelled: bool,
    started_at: Option<String>,
    scheduled_at: Option<String>,
    media_expires_at: Option<String>,
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
                "the SQLite store could not write job {} as JSON: {err} — this is a bug \
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
            created_at: sortable_time(&job.created_at),
            due_at: job.due_at.as_ref().map(sortable_time),
            lease_until: job.lease.as_ref().map(|l| sortable_time(&l.until)),
            cancelled: job.cancelled,
            started_at: job.started_at.as_ref().map(sortable_time),
            scheduled_at: job.scheduled_at.as_ref().map(sortable_time),
            media_expires_at: job.media_expires_at.as_ref().map(sortable_time),
            media_deleted: job.media_deleted,
            platform_count: count_to_sql(platforms, "a platform count of")?,
            version: count_to_sql(job.version, "a job version of")?,
            json,
        })
    }
}

/// The columns a query reads back: `job_id, version, job`.
const READ: &str = "SELECT job_id, version, job FROM jobs";

/// A job read back: the JSON, with the version column (the one `update` compares).
fn decode(job_id: &str, version: i64, json: &str) -> Result<Job, StoreError> {
    let mut job: Job = serde_json::from_str(json).map_err(|err| {
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
fn read_jobs<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<(String, i64, String)> = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(|e| failed(what, e))?;
    rows.iter()
        .map(|(id, version, json)| decode(id, *version, json))
        .collect()
}

/// Runs a [`READ`] query expected to find at most one job.
fn read_job<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
) -> Result<Option<Job>, StoreError> {
    Ok(read_jobs(conn, sql, params, what)?.into_iter().next())
}

fn write_tx<'c>(conn: &'c mut Connection, what: &str) -> Result<Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failed(what, e))
}

/// A count or offset as SQLite's `LIMIT` / `OFFSET` takes it (larger means all).
fn sql_limit(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn ready(&self) -> Result<(), StoreError> {
        self.check_ready().await
    }

    async fn insert(&self, job: &Job, key_window: Duration) -> Result<Insert, StoreError> {
        let row = Row::of(job)?;
        // Jobs created after `since` count as duplicates; no bound when the window
        // reaches past the start of time.
        let since = chrono::Duration::from_std(key_window)
            .ok()
            .and_then(|window| job.created_at.checked_sub_signed(window))
            .map(|t| sortable_time(&t));
        self.with_conn(move |conn| {
            let what = format!("store job {} of account {}", row.job_id, row.account);
            let tx = write_tx(conn, &what)?;
            if let Some(key) = &row.idempotency_key {
                let first = read_job(
                    &tx,
                    &format!(
                        "{READ} WHERE account = ?1 AND idempotency_key = ?2
                         AND (?3 IS NULL OR created_at > ?3)
                         ORDER BY created_at, job_id LIMIT 1"
                    ),
                    params![row.account, key, since],
                    &what,
                )?;
                if let Some(first) = first {
                    return Ok(Insert::DuplicateKey(Box::new(first)));
                }
            }
            let taken: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM jobs
                     WHERE (account = ?1 AND request_id = ?2) OR job_id = ?3)",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![row.account, row.request_id, row.job_id], |r| {
                        r.get(0)
                    })
                })
                .map_err(|e| failed(&what, e))?;
            if taken {
                return Ok(Insert::RequestIdTaken);
            }
            tx.prepare_cached(
                "INSERT INTO jobs (job_id, account, request_id, idempotency_key, created_at,
                     due_at, lease_until, cancelled, started_at, scheduled_at,
                     media_expires_at, media_deleted, platform_count, version, job)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.job_id,
                    row.account,
                    row.request_id,
                    row.idempotency_key,
                    row.created_at,
                    row.due_at,
                    row.lease_until,
                    row.cancelled,
                    row.started_at,
                    row.scheduled_at,
                    row.media_expires_at,
                    row.media_deleted,
                    row.platform_count,
                    row.version,
                    row.json,
                ])
            })
            .map_err(|e| failed(&what, e))?;
            tx.commit().map_err(|e| failed(&what, e))?;
            Ok(Insert::Created)
        })
        .await
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        let job_id = job_id.to_string();
        self.with_conn(move |conn| {
            read_job(
                conn,
                &format!("{READ} WHERE job_id = ?1"),
                [&job_id],
                &format!("read job {job_id}"),
            )
        })
        .await
    }

    async fn find_by_request_id(
        &self,
        account: &str,
        request_id: &str,
    ) -> Result<Option<Job>, StoreError> {
        let (account, request_id) = (account.to_string(), request_id.to_string());
        self.with_conn(move |conn| {
            read_job(
                conn,
                &format!("{READ} WHERE account = ?1 AND request_id = ?2"),
                [&account, &request_id],
                &format!("look up a job of account {account} by request id"),
            )
        })
        .await
    }

    async fn update(&self, job: &mut Job) -> Result<bool, StoreError> {
        let expected = count_to_sql(job.version, "a job version of")?;
        let Some(next) = job.version.checked_add(1) else {
            return Err(StoreError::corrupt(format!(
                "the SQLite store cannot update job {}: its version {} is at the largest \
                 value — the job was written outside fanout; fix that row",
                job.job_id, job.version
            )));
        };
        // The stored JSON carries the new version; `job` itself changes only on success.
        let mut written = job.clone();
        written.version = next;
        let row = Row::of(&written)?;
        let wrote = self
            .with_conn(move |conn| {
                let what = format!("update job {}", row.job_id);
                let tx = write_tx(conn, &what)?;
                let changed = tx
                    .prepare_cached(
                        "UPDATE jobs SET account = ?2, request_id = ?3, idempotency_key = ?4,
                             created_at = ?5, due_at = ?6, lease_until = ?7, cancelled = ?8,
                             started_at = ?9, scheduled_at = ?10, media_expires_at = ?11,
                             media_deleted = ?12, platform_count = ?13, version = ?14,
                             job = ?15
                         WHERE job_id = ?1 AND version = ?16",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            row.job_id,
                            row.account,
                            row.request_id,
                            row.idempotency_key,
                            row.created_at,
                            row.due_at,
                            row.lease_until,
                            row.cancelled,
                            row.started_at,
                            row.scheduled_at,
                            row.media_expires_at,
                            row.media_deleted,
                            row.platform_count,
                            row.version,
                            row.json,
                            expected,
                        ])
                    })
                    .map_err(|e| failed(&what, e))?;
                tx.commit().map_err(|e| failed(&what, e))?;
                Ok(changed == 1)
            })
            .await?;
        if wrote {
            job.version = next;
        }
        Ok(wrote)
    }

    async fn delete(&self, job_id: &str) -> Result<bool, StoreError> {
        let job_id = job_id.to_string();
        self.with_conn(move |conn| {
            let what = format!("delete job {job_id}");
            let tx = write_tx(conn, &what)?;
            let deleted = tx
                .execute("DELETE FROM jobs WHERE job_id = ?1", [&job_id])
                .map_err(|e| failed(&what, e))?;
            tx.commit().map_err(|e| failed(&what, e))?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        let now = sortable_time(&now);
        let limit = sql_limit(u64::try_from(limit).unwrap_or(u64::MAX));
        self.with_conn(move |conn| {
            read_jobs(
                conn,
                &format!(
                    "{READ} WHERE due_at IS NOT NULL AND due_at <= ?1 AND cancelled = 0
                     AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY due_at, job_id LIMIT ?2"
                ),
                params![now, limit],
                "list the jobs due to run",
            )
        })
        .await
    }

    async fn history(
        &self,
        account: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Job>, StoreError> {
        let account = account.to_string();
        let (offset, limit) = (sql_limit(offset), sql_limit(limit));
        self.with_conn(move |conn| {
            read_jobs(
                conn,
                &format!(
                    "{READ} WHERE account = ?1
                     ORDER BY created_at DESC, job_id DESC LIMIT ?2 OFFSET ?3"
                ),
                params![account, limit, offset],
                &format!("list the jobs of account {account}"),
            )
        })
        .await
    }

    async fn count(&self, account: &str) -> Result<(u64, u64), StoreError> {
        let account = account.to_string();
        self.with_conn(move |conn| {
            let what = format!("count the jobs of account {account}");
            let (jobs, platforms): (i64, i64) = conn
                .prepare_cached(
                    "SELECT COUNT(*), COALESCE(SUM(platform_count), 0) FROM jobs
                     WHERE account = ?1",
                )
                .and_then(|mut stmt| stmt.query_row([&account], |r| Ok((r.get(0)?, r.get(1)?))))
                .map_err(|e| failed(&what, e))?;
            Ok((
                count_from_sql(jobs, &format!("job count of account {account}"))?,
                count_from_sql(platforms, &format!("platform count of account {account}"))?,
            ))
        })
        .await
    }

    async fn scheduled(&self, account: &str) -> Result<Vec<Job>, StoreError> {
        let account = account.to_string();
        self.with_conn(move |conn| {
            read_jobs(
                conn,
                &format!(
                    "{READ} WHERE account = ?1 AND scheduled_at IS NOT NULL
                     AND started_at IS NULL AND cancelled = 0
                     ORDER BY scheduled_at, job_id"
                ),
                [&account],
                &format!("list the scheduled jobs of account {account}"),
            )
        })
        .await
    }

    async fn media_expired(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let now = sortable_time(&now);
        let limit = sql_limit(u64::try_from(limit).unwrap_or(u64::MAX));
        self.with_conn(move |conn| {
            read_jobs(
                conn,
                &format!(
                    "{READ} WHERE media_expires_at IS NOT NULL AND media_expires_at <= ?1
                     AND media_deleted = 0
                     ORDER BY media_expires_at, job_id LIMIT ?2"
                ),
                params![now, limit],
                "list the jobs whose media expired",
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sortable_times_sort_as_text_like_the_times() {
        let whole = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let times = [
            whole,
            whole + chrono::Duration::nanoseconds(1),
            whole + chrono::Duration::milliseconds(500),
            whole + chrono::Duration::seconds(1),
            Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
        ];
        for pair in times.windows(2) {
            assert!(
                sortable_time(&pair[0]) < sortable_time(&pair[1]),
                "{} should sort before {}",
                sortable_time(&pair[0]),
                sortable_time(&pair[1])
            );
        }
        assert_eq!(sortable_time(&whole), "2026-01-01T00:00:00.000000000Z");
    }
}
