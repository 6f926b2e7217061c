//! Retrying steps that are safe to repeat, with exponential backoff.

use std::future::Future;
use std::time::Duration;

use crate::error::PublishError;

/// How a safe step is retried.
///
/// Use it only for steps a repeat cannot turn into a second post: a request the
/// platform refused or never received, an upload part, a status poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Runs `step` until it succeeds, fails with a non-retryable error, or attempts run
    /// out. Errors that are [`PublishError::is_retryable`] are retried after the
    /// backoff, or after the platform's `Retry-After` when it gave one that fits.
    ///
    /// ```
    /// # tokio_test_block(async {
    /// use fanout_core::{PublishError, RetryPolicy};
    /// use std::time::Duration;
    /// let policy = RetryPolicy { initial_backoff: Duration::ZERO, ..RetryPolicy::default() };
    /// let mut calls = 0;
    /// let out = policy.run(|| { calls += 1; let n = calls; async move {
    ///     if n < 3 { Err(PublishError::transient("busy")) } else { Ok(n) }
    /// }}).await;
    /// assert_eq!(out, Ok(3));
    /// # });
    /// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
    /// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn run<T, F, Fut>(&self, mut step: F) -> Result<T, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, PublishError>>,
    {
        let mut backoff = self.initial_backoff;
        let mut attempt = 1;
        loop {
            match step().await {
                Ok(value) => return Ok(value),
                Err(err) if !err.is_retryable() || attempt >= self.max_attempts => return Err(err),
                Err(err) => {
                    let wait = match err.retry_after() {
                        Some(wait) if wait > self.max_retry_after => return Err(err),
                        Some(wait) => wait,
                        None => backoff,
                    };
                    tracing::debug!(attempt, ?wait, error = %err, "retrying a safe step");
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }

    #[tokio::test]
    async fn does_not_retry_an_unknown_outcome() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = fast()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(PublishError::outcome_unknown("lost"))
            })
            .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = fast()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(PublishError::transient("503"))
            })
            .await;
        assert_eq!(out.unwrap_err().message(), "503");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_budget_ends_retries() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = fast()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(PublishError::rate_limited(
                    "TikTok",
                    Some(Duration::from_secs(3600)),
                ))
            })
            .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
