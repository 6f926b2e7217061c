//! Status polling with a budget: read until the platform is done, or until the next
//! wait would pass a deadline.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use fanout_core::PublishError;

/// How often to read a status, and for how long.
///
/// Filled from the config's `poll_interval_ms`, `poll_budget_secs` and
/// `background_budget_secs` ([`crate::PlatformConfig::polling`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// First wait between reads.
    pub interval: Duration,
    /// Longest wait between reads: the wait doubles up to it (equal to `interval` for
    /// a steady pace).
    pub max_interval: Duration,
    /// Longest wait within one publish (or one follow-up) before answering
    /// `PROCESSING`.
    pub budget: Duration,
    /// The platform's further budget (`background_budget_secs`): how long follow-ups
    /// keep waiting, or how long a platform may still pull hosted media.
    pub background_budget: Duration,
}

impl Polling {
    /// Reads every `interval`, doubling the wait up to four times `interval`.
    pub fn doubling(interval: Duration, budget: Duration, background_budget: Duration) -> Self {
        Self {
            interval,
            max_interval: interval.saturating_mul(4),
            budget,
            background_budget,
        }
    }

    /// The same budgets at a steady pace: every wait is `interval`.
    pub fn steady(self) -> Self {
        Self {
            max_interval: self.interval,
            ..self
        }
    }

    /// `budget` from now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.budget
    }

    /// Calls `read` until it answers `Break(done)`, or until the next wait would pass
    /// `deadline`; then answers `Continue` with the last read's value. Reads at least
    /// once; an error of `read` ends the polling.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use std::ops::ControlFlow;
    /// use std::time::{Duration, Instant};
    /// use fanout_kit::Polling;
    /// let polling = Polling::doubling(Duration::from_millis(1), Duration::ZERO, Duration::ZERO);
    /// let mut reads = 0;
    /// let out = polling
    ///     .until(Instant::now() + Duration::from_secs(5), || {
    ///         reads += 1;
    ///         let n = reads;
    ///         async move {
    ///             Ok::<_, fanout_core::PublishError>(if n < 3 {
    ///                 ControlFlow::Continue("PROCESSING")
    ///             } else {
    ///                 ControlFlow::Break("FINISHED")
    ///             })
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(out, Ok(ControlFlow::Break("FINISHED")));
    /// // Past the deadline: one read, then its value.
    /// let out = polling
    ///     .until(Instant::now(), || async { Ok::<ControlFlow<(), _>, _>(ControlFlow::Continue(7)) })
    ///     .await;
    /// assert_eq!(out, Ok(ControlFlow::Continue(7)));
    /// # });
    /// ```
    pub async fn until<T, S, F, Fut>(
        &self,
        deadline: Instant,
        mut read: F,
    ) -> Result<ControlFlow<T, S>, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<ControlFlow<T, S>, PublishError>>,
    {
        let mut wait = self.interval;
        loop {
            let pending = match read().await? {
                ControlFlow::Break(done) => return Ok(ControlFlow::Break(done)),
                ControlFlow::Continue(pending) => pending,
            };
            if Instant::now() + wait > deadline {
                return Ok(ControlFlow::Continue(pending));
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2).min(self.max_interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn waits_double_up_to_the_cap_or_stay_steady() {
        let polling = Polling::doubling(
            Duration::from_millis(10),
            Duration::from_millis(200),
            Duration::ZERO,
        );
        // Doubling: reads at 0, 10, 30, 70, 110, 150, 190 ms; steady: every 10 ms.
        // Sleeps may run late, which only means fewer reads.
        for (polling, fewest, most) in [(polling, 4, 7), (polling.steady(), 10, 21)] {
            let reads = AtomicU32::new(0);
            let out = polling
                .until(polling.deadline(), || async {
                    reads.fetch_add(1, Ordering::SeqCst);
                    Ok::<ControlFlow<()>, _>(ControlFlow::Continue(()))
                })
                .await;
            assert_eq!(out, Ok(ControlFlow::Continue(())));
            let reads = reads.load(Ordering::SeqCst);
            assert!((fewest..=most).contains(&reads), "{reads} reads");
        }
    }

    #[tokio::test]
    async fn an_error_ends_the_polling() {
        let polling = Polling::doubling(Duration::ZERO, Duration::from_secs(5), Duration::ZERO);
        let out: Result<ControlFlow<(), ()>, _> = polling
            .until(polling.deadline(), || async {
                Err(PublishError::media_rejected("ERROR"))
            })
            .await;
        assert_eq!(out.unwrap_err().message(), "ERROR");
    }
}
