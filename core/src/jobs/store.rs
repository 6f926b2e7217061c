//! The [`JobStore`] trait: where jobs live.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Job;
use crate::accounts::StoreError;

/// The outcome of [`JobStore::insert`].
#[derive(Debug, Clone, PartialEq)]
pub enum Insert {
    /// The job was stored.
    Created,
    /// The account already has a job with this idempotency key, created within the
    /// idempotency window: nothing was stored; here is the first job.
    DuplicateKey(Box<Job>),
    /// The account already has a job with this request id: nothing was stored.
    RequestIdTaken,
}

/// Where jobs live. Implementations: [`super::MemoryJobStore`], `fanout-sqlite`.
///
/// A store keeps each job whole (it is plain serde data) and indexes the few fields the
/// queries below need. Every write of an existing job goes through
/// [`JobStore::update`], which compares [`Job::version`]: two writers can never both
/// win, which is how a job is claimed once and how a runner that lost its lease finds
/// out. The shared checks in `fanout_testkit::stores` hold every implementation to
/// this contract.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Stores a new job (its `version` is kept as given, normally 0).
    ///
    /// Atomically with the insert: when the job has an idempotency key and the same
    /// account has a job with that key created after `job.created_at - key_window`,
    /// nothing is stored and the earlier job is returned; when the account already has
    /// a job with the same request id, nothing is stored either.
    async fn insert(&self, job: &Job, key_window: Duration) -> Result<Insert, StoreError>;

    /// The job with this job id.
    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError>;

    /// The account's job with this request id.
    async fn find_by_request_id(
        &self,
        account: &str,
        request_id: &str,
    ) -> Result<Option<Job>, StoreError>;

    /// Replaces the stored job with `job` when the stored version equals
    /// `job.version`, then bumps both; `Ok(false)` (and nothing written) when another
    /// writer changed it first, or it is gone.
    async fn update(&self, job: &mut Job) -> Result<bool, StoreError>;

    /// Deletes a job (an admission that was refused after insert); `Ok(false)` when
    /// there was none.
    async fn delete(&self, job_id: &str) -> Result<bool, StoreError>;

    /// Up to `limit` jobs a runner may claim at `now`, earliest due first: `due_at` at
    /// or before `now`, not cancelled, and no lease or a lapsed one. Claiming is an
    /// [`JobStore::update`] that sets the lease.
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError>;

    /// The account's jobs, newest first (`created_at`, then `job_id`), `offset` jobs
    /// skipped, at most `limit`.
    async fn history(&self, account: &str, offset: u64, limit: u64)
        -> Result<Vec<Job>, StoreError>;

    /// How many jobs the account has, and how many platforms they count together
    /// (history lists one item per platform per job).
    async fn count(&self, account: &str) -> Result<(u64, u64), StoreError>;

    /// The account's scheduled jobs that have not started and were not cancelled,
    /// soonest first.
    async fn scheduled(&self, account: &str) -> Result<Vec<Job>, StoreError>;

    /// Up to `limit` jobs whose media may be deleted at `now`: `media_expires_at` at or
    /// before `now` and media not deleted yet.
    async fn media_expired(&self, now: DateTime<Utc>, limit: usize)
        -> Result<Vec<Job>, StoreError>;

    /// Whether the store answers and its schema is current (what `GET /readyz`
    /// reports). The default, for stores in memory, is always ready.
    async fn ready(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
