//! The job runner: claims due jobs (scheduled posts whose time came, follow-ups, jobs
//! whose runner died) under a lease, and deletes media no job needs any more. Stops
//! claiming on shutdown and gives running jobs a grace period.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::submit::to_chrono;
use super::Engine;
use crate::jobs::Lease;

/// How many jobs one sweep deletes media of.
const MEDIA_SWEEP_BATCH: usize = 32;

/// A running job runner (see [`Engine::start_runner`]). Stop it with
/// [`RunnerHandle::shutdown`]; dropping it stops claiming but does not wait.
#[derive(Debug)]
pub struct RunnerHandle {
    engine: Engine,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Engine {
    /// Starts the job runner in the background: every `runner_poll_interval` it claims
    /// due jobs (up to `max_running_jobs` at once) and deletes the media of jobs past
    /// their retry window. Uploads submitted to this engine start at once without
    /// waiting for it; the runner is what fires scheduled posts, continues follow-ups
    /// and takes over jobs whose process died.
    pub fn start_runner(&self) -> RunnerHandle {
        let stop = CancellationToken::new();
        let engine = self.clone();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                engine.claim_due().await;
                engine.sweep_media().await;
                tokio::select! {
                    () = stopped.cancelled() => break,
                    () = tokio::time::sleep(engine.inner.settings.runner_poll_interval) => {}
                }
            }
        });
        RunnerHandle {
            engine: self.clone(),
            stop,
            task: Some(task),
        }
    }

    /// Claims and starts every due job there is room for.
    async fn claim_due(&self) {
        let inner = &self.inner;
        let room = inner
            .settings
            .max_running_jobs
            .saturating_sub(inner.running.len());
        if room == 0 {
            return;
        }
        let now = Utc::now();
        let due = match inner.jobs.due(now, room).await {
            Ok(due) => due,
            Err(err) => {
                tracing::error!(%err, "could not read due jobs");
                return;
            }
        };
        for mut job in due {
            job.lease = Some(Lease {
                owner: inner.runner_id.clone(),
                until: now + to_chrono(inner.settings.job_lease),
            });
            job.started_at.get_or_insert(now);
            job.updated_at = now;
            match inner.jobs.update(&mut job).await {
                Ok(true) => {
                    tracing::info!(job_id = %job.job_id, "claimed a due job");
                    inner.job_written.notify_waiters();
                    self.spawn_run(job);
                }
                Ok(false) => {} // another runner claimed it first
                Err(err) => tracing::error!(%err, "could not claim a job"),
            }
        }
    }

    /// Deletes the media of jobs that can no longer need it: marked first (so a retry
    /// racing the sweep finds the media gone rather than half-deleted), then deleted.
    async fn sweep_media(&self) {
        let inner = &self.inner;
        let expired = match inner
            .jobs
            .media_expired(Utc::now(), MEDIA_SWEEP_BATCH)
            .await
        {
            Ok(expired) => expired,
            Err(err) => {
                tracing::error!(%err, "could not read jobs whose media expired");
                return;
            }
        };
        for mut job in expired {
            job.media_deleted = true;
            job.media_expires_at = None;
            match inner.jobs.update(&mut job).await {
                Ok(true) => {
                    if let Err(err) = inner.media_store.delete_job(&job.job_id).await {
                        tracing::error!(%err, job_id = %job.job_id, "could not delete a job's media");
                    }
                }
                Ok(false) => {}
                Err(err) => tracing::error!(%err, "could not mark a job's media deleted"),
            }
        }
    }
}

impl RunnerHandle {
    /// Stops claiming jobs, then waits up to `grace` for every running job of this
    /// engine; jobs still running then are stopped where they are and left for the
    /// next start (their leases lapse). Returns whether every job finished in time.
    pub async fn shutdown(mut self, grace: Duration) -> bool {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let running = &self.engine.inner.running;
        running.close();
        let finished = tokio::time::timeout(grace, running.wait()).await.is_ok();
        if !finished {
            tracing::warn!(
                still_running = running.len(),
                ?grace,
                "shutdown grace ended; stopping the jobs still running"
            );
            self.engine.inner.abort_runs.cancel();
            running.wait().await;
        }
        finished
    }
}

impl Drop for RunnerHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
