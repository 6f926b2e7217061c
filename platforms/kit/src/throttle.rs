//! Outgoing-call rate limiting per connected account, with governor.

use std::num::NonZeroU32;
use std::time::Duration;

use fanout_core::PublishError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

/// Keeps calls to one platform inside its published quota for each access token.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use fanout_kit::Throttle;
/// use std::time::Duration;
/// let init_calls = Throttle::per_minute("TikTok", 6);
/// for _ in 0..6 {
///     init_calls.acquire("token-a", Duration::ZERO).await.unwrap();
/// }
/// let err = init_calls.acquire("token-a", Duration::ZERO).await.unwrap_err();
/// assert!(err.to_string().starts_with("Rate limited by TikTok, retry after"));
/// init_calls.acquire("token-b", Duration::ZERO).await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct Throttle {
    platform: &'static str,
    limiter: DefaultKeyedRateLimiter<[u8; 16]>,
    clock: DefaultClock,
}

impl Throttle {
    /// At most `per_minute` calls per minute per token, with the whole minute's calls
    /// available as a burst. `0` is treated as 1.
    pub fn per_minute(platform: &'static str, per_minute: u32) -> Self {
        Self::with_quota(platform, Quota::per_minute(nonzero(per_minute)))
    }

    /// At most `per_hour` calls per hour per token, as a burst. `0` is treated as 1.
    pub fn per_hour(platform: &'static str, per_hour: u32) -> Self {
        Self::with_quota(platform, Quota::per_hour(nonzero(per_hour)))
    }

    /// At most `per_day` calls per day per token, as a burst. `0` is treated as 1.
    pub fn per_day(platform: &'static str, per_day: u32) -> Self {
        let n = nonzero(per_day);
        let period = Duration::from_secs(86_400) / n.get();
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_hour(n))
            .allow_burst(n);
        Self::with_quota(platform, quota)
    }

    fn with_quota(platform: &'static str, quota: Quota) -> Self {
        Self {
            platform,
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Waits for a call slot for `token`, at most `max_wait`. When the wait would be
    /// longer, fails at once with "Rate limited by `<Platform>`, retry after …".
    pub async fn acquire(&self, token: &str, max_wait: Duration) -> Result<(), PublishError> {
        // Keys are a hash of the token: the limiter never holds a credential.
        let key: [u8; 16] = Sha256::digest(token.as_bytes())[..16]
            .try_into()
            .unwrap_or([0; 16]);
        loop {
            match self.limiter.check_key(&key) {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    if wait > max_wait {
                        return Err(PublishError::rate_limited(self.platform, Some(wait)));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hourly_and_daily_quotas_are_bursts_per_token() {
        for throttle in [Throttle::per_hour("X", 2), Throttle::per_day("X", 2)] {
            throttle.acquire("a", Duration::ZERO).await.unwrap();
            throttle.acquire("a", Duration::ZERO).await.unwrap();
            assert!(throttle.acquire("a", Duration::ZERO).await.is_err());
            throttle.acquire("b", Duration::ZERO).await.unwrap();
        }
    }
}
