//! Running one claimed job: every unsettled platform at once, each outcome (and each
//! publisher checkpoint) written to the store as it arrives, under a lease renewed
//! while the job runs. Writes compare the job's version, so a runner that lost its
//! lease (another instance took the job over) stops instead of publishing twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::submit::{failure_result, to_chrono};
use super::tokens::ConnectionKey;
use super::{checks, run_isolated, Attempt, Engine, Ready};
use crate::error::{ErrorKind, PublishError};
use crate::jobs::{Job, PlatformState};
use crate::post::PostMedia;
use crate::publisher::{unknown_outcome, Progress, Receipt};

/// The job as this run last wrote it; every write goes through here.
struct Writer {
    engine: Engine,
    job: Mutex<Job>,
    lost: AtomicBool,
}

/// This run may no longer write the job: another runner took it over, or the store
/// refused every attempt.
#[derive(Debug)]
struct Lost;

impl Writer {
    /// Applies `change` to a copy of the job and stores it (compare-and-swap on the
    /// version).
    async fn write(&self, change: impl FnOnce(&mut Job)) -> Result<Job, Lost> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(Lost);
        }
        let mut job = self.job.lock().await;
        let mut next = job.clone();
        change(&mut next);
        next.updated_at = Utc::now();
        let jobs = &self.engine.inner.jobs;
        let mut attempts = 0;
        let stored = loop {
            match jobs.update(&mut next).await {
                Ok(stored) => break stored,
                Err(err) if attempts < 3 => {
                    attempts += 1;
                    tracing::warn!(%err, job_id = %next.job_id, "writing a job failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempts)).await;
                }
                Err(err) => {
                    tracing::error!(%err, job_id = %next.job_id, "the job store refused a write; this run stops");
                    break false;
                }
            }
        };
        if !stored {
            tracing::warn!(job_id = %next.job_id, "the job changed under this run (its lease was taken over); stopping");
            self.lost.store(true, Ordering::SeqCst);
            return Err(Lost);
        }
        *job = next.clone();
        self.engine.inner.job_written.notify_waiters();
        Ok(next)
    }

    async fn snapshot(&self) -> Job {
        self.job.lock().await.clone()
    }
}

/// Checkpoints of one platform, written into the job.
pub(super) struct JobProgress {
    writer: Arc<Writer>,
    platform: String,
    /// The last checkpoint stored by this run (a retry after a token refresh resumes
    /// from it, not from the one the run started with).
    latest: std::sync::Mutex<Option<Value>>,
}

impl JobProgress {
    /// The last checkpoint this run stored, if any.
    pub(super) fn latest(&self) -> Option<Value> {
        self.latest.lock().ok().and_then(|latest| latest.clone())
    }
}

#[async_trait]
impl Progress for JobProgress {
    async fn checkpoint(&self, state: Value) -> Result<(), PublishError> {
        let platform = self.platform.clone();
        let stored = state.clone();
        self.writer
            .write(move |job| {
                if let Some(run) = job.platform_mut(&platform) {
                    run.checkpoint = Some(state);
                }
            })
            .await
            .map(|_| {
                if let Ok(mut latest) = self.latest.lock() {
                    *latest = Some(stored);
                }
            })
            .map_err(|Lost| {
                PublishError::new(
                    ErrorKind::Internal,
                    "fanout could not record this publish's progress and stopped it before \
                     its next step; the job will be resumed from its last record.",
                )
            })
    }
}

/// `{"success": true, <receipt fields>}`.
pub(crate) fn success_result(receipt: Receipt) -> Value {
    let mut fields = Map::new();
    fields.insert("success".into(), Value::Bool(true));
    for (k, v) in receipt.into_fields() {
        if k != "success" {
            fields.insert(k, v);
        }
    }
    Value::Object(fields)
}

impl Engine {
    /// Runs `job` (already leased by this engine) in the background, tracked so that
    /// shutdown can wait for it.
    pub(crate) fn spawn_run(&self, job: Job) {
        let engine = self.clone();
        let abort = self.inner.abort_runs.clone();
        self.inner.running.spawn(async move {
            let job_id = job.job_id.clone();
            tokio::select! {
                () = engine.run_job(job) => {}
                () = abort.cancelled() => {
                    tracing::warn!(%job_id, "shutdown grace ended: the job is left for the next start");
                }
            }
        });
    }

    async fn run_job(&self, job: Job) {
        let writer = Arc::new(Writer {
            engine: self.clone(),
            job: Mutex::new(job),
            lost: AtomicBool::new(false),
        });
        let lease = self.inner.settings.job_lease;
        let renewer = {
            let writer = Arc::clone(&writer);
            let owner = self.inner.runner_id.clone();
            tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let renewed = writer
                        .write(|job| {
                            if let Some(held) = job.lease.as_mut().filter(|l| l.owner == owner) {
                                held.until = Utc::now() + to_chrono(lease);
                            }
                        })
                        .await;
                    if renewed.is_err() {
                        break;
                    }
                }
            }))
        };
        let snapshot = writer.snapshot().await;
        let platforms: Vec<String> = snapshot
            .platforms
            .iter()
            .filter(|p| !p.state.is_settled())
            .map(|p| p.platform.clone())
            .collect();
        let runs = platforms
            .into_iter()
            .map(|platform| self.run_platform(Arc::clone(&writer), platform));
        futures::future::join_all(runs).await;
        drop(renewer);
        let retry_window = to_chrono(self.inner.settings.retry_window);
        let follow_up = to_chrono(self.inner.settings.follow_up_delay);
        let finished = writer
            .write(|job| {
                let now = Utc::now();
                job.lease = None;
                if job.platforms.iter().all(|p| p.state.is_settled()) {
                    job.due_at = None;
                    job.finished_at = Some(now);
                    let all_published = job
                        .platforms
                        .iter()
                        .all(|p| p.state == PlatformState::Completed);
                    if all_published {
                        // Nothing can need the media any more: deleted right below,
                        // without waiting for the runner's sweep.
                        job.media_deleted = true;
                        job.media_expires_at = None;
                    } else {
                        job.media_expires_at = Some(now + retry_window);
                    }
                } else {
                    job.due_at = Some(now + follow_up);
                }
            })
            .await;
        if let Ok(job) = finished {
            tracing::info!(job_id = %job.job_id, status = job.status(Utc::now()).as_str(), "job run ended");
            if job.media_deleted {
                if let Err(err) = self.inner.media_store.delete_job(&job.job_id).await {
                    tracing::error!(%err, job_id = %job.job_id, "could not delete a finished job's media");
                }
            }
        }
    }

    /// Publishes (or resumes, or honestly fails) one platform of the job.
    async fn run_platform(&self, writer: Arc<Writer>, platform: String) {
        let job = writer.snapshot().await;
        let Some(run) = job.platform(&platform).cloned() else {
            return;
        };
        let attempt = match (run.state, run.checkpoint) {
            (PlatformState::Queued, _) => {
                let started = writer
                    .write(|job| {
                        if let Some(run) = job.platform_mut(&platform) {
                            run.state = PlatformState::Processing;
                            run.result = None;
                            run.checkpoint = None;
                        }
                    })
                    .await;
                if started.is_err() {
                    return;
                }
                Attempt::Publish
            }
            (PlatformState::Processing, Some(checkpoint)) => Attempt::Resume(checkpoint),
            (PlatformState::Processing, None) => {
                // In flight when fanout stopped, and nothing was recorded: the post may
                // exist. Never publish blindly again.
                let name = self
                    .inner
                    .publishers
                    .get(platform.as_str())
                    .map_or(platform.as_str(), |p| p.display_name());
                let _ = self
                    .settle(&writer, &platform, Err(unknown_outcome(name)))
                    .await;
                return;
            }
            _ => return,
        };
        let mut outcome = self.attempt(&writer, &job, &platform, attempt).await;
        let mut follow_ups_left = 1;
        loop {
            match outcome {
                Ok(mut receipt) => match receipt.take_follow_up() {
                    None => {
                        let _ = self.settle(&writer, &platform, Ok(receipt)).await;
                        return;
                    }
                    Some(_)
                        if Utc::now() - job.created_at
                            > to_chrono(self.inner.settings.retry_window) =>
                    {
                        let name = self
                            .inner
                            .publishers
                            .get(platform.as_str())
                            .map_or(platform.as_str(), |p| p.display_name());
                        let gave_up = PublishError::new(
                            ErrorKind::TimedOut,
                            format!(
                                "{name} accepted the post but was still processing it when \
                                 fanout stopped following it up; check the {name} account."
                            ),
                        );
                        let _ = self.settle(&writer, &platform, Err(gave_up)).await;
                        return;
                    }
                    Some(checkpoint) => {
                        let shown = success_result(receipt);
                        let recorded = writer
                            .write(|job| {
                                if let Some(run) = job.platform_mut(&platform) {
                                    run.state = PlatformState::Processing;
                                    run.result = Some(shown);
                                    run.checkpoint = Some(checkpoint.clone());
                                }
                            })
                            .await;
                        if recorded.is_err() || follow_ups_left == 0 {
                            // The next run (after follow_up_delay) continues.
                            return;
                        }
                        follow_ups_left -= 1;
                        outcome = self
                            .attempt(&writer, &job, &platform, Attempt::Resume(checkpoint))
                            .await;
                    }
                },
                Err(err) => {
                    let _ = self.settle(&writer, &platform, Err(err)).await;
                    return;
                }
            }
        }
    }

    /// One call to the publisher for `platform`, with the connection as stored now.
    async fn attempt(
        &self,
        writer: &Arc<Writer>,
        job: &Job,
        platform: &str,
        attempt: Attempt,
    ) -> Result<Receipt, PublishError> {
        let inner = &self.inner;
        let Some(publisher) = inner.publishers.get(platform) else {
            return Err(PublishError::rejected(format!(
                "{platform} is no longer configured on this server."
            )));
        };
        let name = publisher.display_name();
        let account = inner
            .directory
            .find_by_name(&job.account)
            .await
            .map_err(|e| {
                tracing::error!(%e, "the account store failed while running a job");
                PublishError::transient("The account store is unavailable; retry this post later.")
            })?
            .ok_or_else(|| {
                PublishError::rejected("The fanout account of this post no longer exists.")
            })?;
        let connection = account
            .profiles
            .get(&job.profile)
            .and_then(|p| p.connections.get(platform))
            .cloned()
            .ok_or_else(|| PublishError::not_connected(name))?;
        let mut files = Vec::with_capacity(job.media.len());
        for stored in &job.media {
            files.push(inner.media_store.open(stored).map_err(|e| {
                tracing::error!(%e, "a stored medium could not be opened");
                PublishError::new(
                    ErrorKind::Internal,
                    "The media of this post could not be read from the media store.",
                )
            })?);
        }
        let media = match job.media_kind {
            crate::jobs::MediaKind::Video => match files.first() {
                Some(file) => PostMedia::Video(Arc::clone(file)),
                None => {
                    return Err(PublishError::new(
                        ErrorKind::Internal,
                        "The video of this post is missing from the media store.",
                    ))
                }
            },
            crate::jobs::MediaKind::Photo => PostMedia::Photos(files),
        };
        let post = checks::post_for(publisher.id(), &job.fields, &media);
        let ready = Ready {
            publisher: Arc::clone(publisher),
            connection,
            key: ConnectionKey {
                account: job.account.clone(),
                profile: job.profile.clone(),
                platform: publisher.id().to_string(),
            },
            post,
        };
        let progress = Arc::new(JobProgress {
            writer: Arc::clone(writer),
            platform: platform.to_string(),
            latest: std::sync::Mutex::new(None),
        });
        run_isolated(
            ready,
            attempt,
            Arc::clone(&inner.media_host),
            Arc::clone(&inner.tokens),
            progress,
            inner.settings.publish_timeout,
        )
        .await
    }

    /// Records a platform's final outcome.
    async fn settle(
        &self,
        writer: &Writer,
        platform: &str,
        outcome: Result<Receipt, PublishError>,
    ) -> Result<Job, Lost> {
        let (state, result) = match outcome {
            Ok(receipt) => (PlatformState::Completed, success_result(receipt)),
            Err(err) => {
                tracing::info!(platform, kind = ?err.kind(), "platform failed");
                (
                    PlatformState::Failed,
                    failure_result(&err, self.inner.settings.reconnect_hint.as_deref()),
                )
            }
        };
        writer
            .write(|job| {
                if let Some(run) = job.platform_mut(platform) {
                    run.state = state;
                    run.result = Some(result);
                    run.upload_timestamp = Some(Utc::now());
                }
            })
            .await
    }
}
