//! The one error type a publisher returns: a category plus the sentence a person reads.

use std::time::Duration;

/// What kind of failure a [`PublishError`] is.
///
/// The engine and the retry helper decide by kind; people read the message.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The access token expired or was revoked: the account must be reconnected.
    TokenExpired,
    /// The platform asked us to slow down.
    RateLimited,
    /// The platform (or its published limits) refuses this media.
    MediaRejected,
    /// The platform refused the post for another stated reason.
    Rejected,
    /// A failure that provably did not publish anything (connection refused, 5xx, …):
    /// safe to retry.
    Transient,
    /// A publishing call may have reached the platform but its answer was lost: the
    /// post may exist. Never retried blindly.
    OutcomeUnknown,
    /// The platform did not finish within the configured time budget.
    TimedOut,
    /// The profile has no connected account on this platform.
    NotConnected,
    /// A bug: the publisher panicked or broke an invariant.
    Internal,
}

/// A publisher's failure for one platform, carrying the sentence shown to people.
///
/// The message never contains a token, a cookie or a signed URL.
///
/// ```
/// use fanout_core::{ErrorKind, PublishError};
/// let err = PublishError::token_expired("LinkedIn");
/// assert_eq!(err.kind(), ErrorKind::TokenExpired);
/// assert!(err.to_string().starts_with("Your LinkedIn session has expired."));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PublishError {
    kind: ErrorKind,
    message: String,
    retry_after: Option<Duration>,
}

impl PublishError {
    /// An error of `kind` with the given sentence.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The platform's token expired or was revoked and the account must be
    /// reconnected. How to reconnect depends on the product: the HTTP envelope adds
    /// `EngineSettings::reconnect_hint` after this sentence.
    pub fn token_expired(platform: &str) -> Self {
        Self::new(
            ErrorKind::TokenExpired,
            format!(
                "Your {platform} session has expired. Please reconnect your {platform} account."
            ),
        )
    }

    /// The platform rate-limited us; `retry_after` when the platform said how long.
    pub fn rate_limited(platform: &str, retry_after: Option<Duration>) -> Self {
        let message = match retry_after {
            Some(wait) => format!(
                "Rate limited by {platform}, retry after {}.",
                human_duration(wait)
            ),
            None => format!("Rate limited by {platform}, retry later."),
        };
        Self {
            kind: ErrorKind::RateLimited,
            message,
            retry_after,
        }
    }

    /// The media is outside what the platform accepts.
    pub fn media_rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::MediaRejected, message)
    }

    /// The platform refused the post for a stated reason.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Rejected, message)
    }

    /// A failure that did not publish anything and may be retried.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// A publishing call whose outcome is unknown.
    pub fn outcome_unknown(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OutcomeUnknown, message)
    }

    /// The platform did not finish within `after`.
    pub fn timed_out(platform: &str, after: Duration) -> Self {
        Self::new(
            ErrorKind::TimedOut,
            format!(
                "{platform} did not answer within {}; the post may still appear. \
                 Check the account before uploading again.",
                human_duration(after)
            ),
        )
    }

    /// The profile has no account connected on this platform.
    pub fn not_connected(platform: &str) -> Self {
        Self::new(
            ErrorKind::NotConnected,
            format!(
                "No {platform} account is connected to this profile. \
                 Connect your {platform} account and try again."
            ),
        )
    }

    /// The publisher itself failed (a bug); other platforms are unaffected.
    pub fn internal(platform: &str) -> Self {
        Self::new(
            ErrorKind::Internal,
            format!("The {platform} publisher failed unexpectedly; the other platforms were not affected."),
        )
    }

    /// Attaches the wait the platform asked for.
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// The failure's category.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The sentence a person reads.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How long the platform asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether repeating the failed step is safe and may help.
    ///
    /// Only [`ErrorKind::Transient`] and [`ErrorKind::RateLimited`] are: both mean the
    /// platform did not act on the request.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Transient | ErrorKind::RateLimited)
    }
}

/// `300 ms`, `1 second`, `42 seconds`, `5 minutes`.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", d.as_millis())
    } else if secs < 120.0 {
        let n = secs.ceil() as u64;
        format!("{n} second{}", if n == 1 { "" } else { "s" })
    } else {
        format!("{} minutes", (secs / 60.0).ceil() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_expired_reads_like_the_seed() {
        assert_eq!(
            PublishError::token_expired("LinkedIn").to_string(),
            "Your LinkedIn session has expired. Please reconnect your LinkedIn account."
        );
    }

    #[test]
    fn only_transient_and_rate_limited_are_retryable() {
        assert!(PublishError::transient("x").is_retryable());
        assert!(PublishError::rate_limited("TikTok", None).is_retryable());
        assert!(!PublishError::outcome_unknown("x").is_retryable());
        assert!(!PublishError::rejected("x").is_retryable());
        assert!(!PublishError::token_expired("TikTok").is_retryable());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_millis(1500)), "2 seconds");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 minutes");
    }

    #[test]
    fn rate_limited_names_platform_and_wait() {
        let err = PublishError::rate_limited("TikTok", Some(Duration::from_secs(30)));
        assert_eq!(
            err.to_string(),
            "Rate limited by TikTok, retry after 30 seconds."
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    }
}
