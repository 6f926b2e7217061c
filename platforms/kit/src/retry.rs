//! The one backoff loop: retrying steps that are safe to repeat, with exponential
//! backoff and an optional hook between attempts.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

use fanout_core::PublishError;

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
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use fanout_core::PublishError;
    /// use fanout_kit::RetryPolicy;
    /// use std::time::Duration;
    /// let policy = RetryPolicy { initial_backoff: Duration::ZERO, ..RetryPolicy::default() };
    /// let mut calls = 0;
    /// let out = policy.run(|| { calls += 1; let n = calls; async move {
    ///     if n < 3 { Err(PublishError::transient("busy")) } else { Ok(n) }
    /// }}).await;
    /// assert_eq!(out, Ok(3));
    /// # });
    /// ```
    pub async fn run<T, F, Fut>(&self, step: F) -> Result<T, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, PublishError>>,
    {
        self.run_with(step, || async { Ok(ControlFlow::Continue(())) })
            .await
    }

    /// [`RetryPolicy::run`] with `between` called after each wait, before the next
    /// attempt: it may end the loop with a value (`Break`, e.g. a status read shows
    /// the part arrived after all), fail it, or let the next attempt go (`Continue`;
    /// it may first update what the step sends, e.g. the offset to resume from).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use std::ops::ControlFlow;
    /// use fanout_core::PublishError;
    /// use fanout_kit::RetryPolicy;
    /// use std::time::Duration;
    /// let policy = RetryPolicy { initial_backoff: Duration::ZERO, ..RetryPolicy::default() };
    /// let out = policy
    ///     .run_with(
    ///         || async { Err::<&str, _>(PublishError::transient("the answer was lost")) },
    ///         || async { Ok(ControlFlow::Break("it arrived")) },
    ///     )
    ///     .await;
    /// assert_eq!(out, Ok("it arrived"));
    /// # });
    /// ```
    pub async fn run_with<T, F, Fut, H, HFut>(
        &self,
        mut step: F,
        mut between: H,
    ) -> Result<T, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, PublishError>>,
        H: FnMut() -> HFut,
        HFut: Future<Output = Result<ControlFlow<T>, PublishError>>,
    {
        let mut backoff = self.initial_backoff;
        let mut attempt = 1;
        loop {
            let err = match step().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if !err.is_retryable() || attempt >= self.max_attempts {
                return Err(err);
            }
            let wait = match err.retry_after() {
                Some(wait) if wait > self.max_retry_after => return Err(err),
                Some(wait) => wait,
                None => backoff,
            };
            tracing::debug!(attempt, ?wait, error = %err, "retrying a safe step");
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2).min(self.max_backoff);
            attempt += 1;
            if let ControlFlow::Break(value) = between().await? {
                return Ok(value);
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

    #[tokio::test]
    async fn the_hook_runs_between_attempts_and_may_fail_or_end_the_loop() {
        let steps = AtomicU32::new(0);
        let hooks = AtomicU32::new(0);
        let out: Result<(), _> = fast()
            .run_with(
                || async {
                    steps.fetch_add(1, Ordering::SeqCst);
                    Err(PublishError::transient("cut"))
                },
                || async {
                    if hooks.fetch_add(1, Ordering::SeqCst) == 1 {
                        Err(PublishError::rejected(
                            "the host has more bytes than the file",
                        ))
                    } else {
                        Ok(ControlFlow::Continue(()))
                    }
                },
            )
            .await;
        assert_eq!(
            out.unwrap_err().message(),
            "the host has more bytes than the file"
        );
        assert_eq!(steps.load(Ordering::SeqCst), 2);
        assert_eq!(hooks.load(Ordering::SeqCst), 2);
        // No hook after the last attempt or a final error.
        let hooks = AtomicU32::new(0);
        let _ = fast()
            .run_with(
                || async { Err::<(), _>(PublishError::rejected("no")) },
                || async {
                    hooks.fetch_add(1, Ordering::SeqCst);
                    Ok(ControlFlow::Continue(()))
                },
            )
            .await;
        assert_eq!(hooks.load(Ordering::SeqCst), 0);
    }
}
