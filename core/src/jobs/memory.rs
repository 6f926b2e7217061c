//! [`MemoryJobStore`]: jobs in a map behind one lock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Insert, Job, JobStore};
use crate::accounts::StoreError;

/// A [`JobStore`] in memory: a real implementation (the shared store checks run
/// against it), lost when dropped. For tests and embedders who need no durability.
#[derive(Debug, Default)]
pub struct MemoryJobStore {
    jobs: Mutex<HashMap<String, Job>>,
}

impl MemoryJobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<String, Job>>, StoreError> {
        self.jobs
            .lock()
            .map_err(|_| StoreError::other("the in-memory job store is poisoned"))
    }
}

fn newest_first(a: &Job, b: &Job) -> std::cmp::Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| b.job_id.cmp(&a.job_id))
}

#[async_trait]
impl JobStore for MemoryJobStore {
    async fn insert(&self, job: &Job, key_window: Duration) -> Result<Insert, StoreError> {
        let mut jobs = self.lock()?;
        if let Some(key) = &job.idempotency_key {
            // No lower bound when the window reaches before the calendar's start.
            let since = chrono::Duration::from_std(key_window)
                .ok()
                .and_then(|window| job.created_at.checked_sub_signed(window));
            let first = jobs
                .values()
                .filter(|j| {
                    j.account == job.account
                        && j.idempotency_key.as_deref() == Some(key)
                        && since.is_none_or(|since| j.created_at > since)
                })
                .min_by(|a, b| {
                    a.created_at
                        .cmp(&b.created_at)
                        .then_with(|| a.job_id.cmp(&b.job_id))
                });
            if let Some(first) = first {
                return Ok(Insert::DuplicateKey(Box::new(first.clone())));
            }
        }
        if jobs
            .values()
            .any(|j| j.account == job.account && j.request_id == job.request_id)
            || jobs.contains_key(&job.job_id)
        {
            return Ok(Insert::RequestIdTaken);
        }
        jobs.insert(job.job_id.clone(), job.clone());
        Ok(Insert::Created)
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        Ok(self.lock()?.get(job_id).cloned())
    }

    async fn find_by_request_id(
        &self,
        account: &str,
        request_id: &str,
    ) -> Result<Option<Job>, StoreError> {
        Ok(self
            .lock()?
            .values()
            .find(|j| j.account == account && j.request_id == request_id)
            .cloned())
    }

    async fn update(&self, job: &mut Job) -> Result<bool, StoreError> {
        let mut jobs = self.lock()?;
        let Some(stored) = jobs.get_mut(&job.job_id) else {
            return Ok(false);
        };
        if stored.version != job.version {
            return Ok(false);
        }
        job.version += 1;
        *stored = job.clone();
        Ok(true)
    }

    async fn delete(&self, job_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.remove(job_id).is_some())
    }

    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError> {
        let jobs = self.lock()?;
        let mut due: Vec<Job> = jobs
            .values()
            .filter(|j| {
                !j.cancelled
                    && j.due_at.is_some_and(|at| at <= now)
                    && j.lease.as_ref().is_none_or(|lease| lease.until <= now)
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| {
            a.due_at
                .cmp(&b.due_at)
                .then_with(|| a.job_id.cmp(&b.job_id))
        });
        due.truncate(limit);
        Ok(due)
    }

    async fn history(
        &self,
        account: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Job>, StoreError> {
        let jobs = self.lock()?;
        let mut mine: Vec<&Job> = jobs.values().filter(|j| j.account == account).collect();
        mine.sort_by(|a, b| newest_first(a, b));
        Ok(mine
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    async fn count(&self, account: &str) -> Result<(u64, u64), StoreError> {
        let jobs = self.lock()?;
        let mine = jobs.values().filter(|j| j.account == account);
        let (mut count, mut platforms) = (0u64, 0u64);
        for job in mine {
            count += 1;
            platforms += job.platforms.len() as u64;
        }
        Ok((count, platforms))
    }

    async fn scheduled(&self, account: &str) -> Result<Vec<Job>, StoreError> {
        let jobs = self.lock()?;
        let mut scheduled: Vec<Job> = jobs
            .values()
            .filter(|j| {
                j.account == account
                    && j.scheduled_at.is_some()
                    && j.started_at.is_none()
                    && !j.cancelled
            })
            .cloned()
            .collect();
        scheduled.sort_by(|a, b| {
            a.scheduled_at
                .cmp(&b.scheduled_at)
                .then_with(|| a.job_id.cmp(&b.job_id))
        });
        Ok(scheduled)
    }

    async fn media_expired(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let jobs = self.lock()?;
        let mut expired: Vec<Job> = jobs
            .values()
            .filter(|j| !j.media_deleted && j.media_expires_at.is_some_and(|at| at <= now))
            .cloned()
            .collect();
        expired.sort_by_key(|j| j.media_expires_at);
        expired.truncate(limit);
        Ok(expired)
    }
}
