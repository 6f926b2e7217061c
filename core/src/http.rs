//! Helpers platform crates share for talking HTTP to a platform.

use std::time::Duration;

use crate::error::PublishError;

/// Whether repeating a request could publish twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Repeating it is harmless (an upload part, a status poll, a read).
    Safe,
    /// It may create a post (a publish call): a lost answer means the outcome is unknown.
    Publishing,
}

/// Turns a transport failure (no HTTP answer) into a [`PublishError`].
///
/// A connection that was never made is transient whatever the request. Any other
/// failure of a publishing call is [`crate::ErrorKind::OutcomeUnknown`]. The URL is
/// left out of the message: upload URLs are signed.
pub fn transport_error(platform: &str, err: &reqwest::Error, request: Idempotence) -> PublishError {
    if err.is_connect() {
        return PublishError::transient(format!(
            "Could not connect to {platform}; nothing was sent. Try again in a few minutes."
        ));
    }
    match request {
        Idempotence::Safe => PublishError::transient(format!(
            "The connection to {platform} failed mid-request; try again in a few minutes."
        )),
        Idempotence::Publishing => PublishError::outcome_unknown(format!(
            "The connection to {platform} was lost before it answered, so the post may or may \
             not have been published. Check the {platform} account before uploading again."
        )),
    }
}

/// Parses a `Retry-After` header given in seconds (the form platforms use).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Cuts a platform's message to a readable length and strips anything that looks like
/// a credential or a URL, so it can be shown to people.
///
/// ```
/// use fanout_core::http::sanitize_platform_message;
/// assert_eq!(
///     sanitize_platform_message("bad token EAAB123 at https://x.test/?sig=abc"),
///     "bad token EAAB123 at [url]"
/// );
/// ```
pub fn sanitize_platform_message(message: &str) -> String {
    let cleaned: Vec<String> = message
        .split_whitespace()
        .map(|word| {
            if word.contains("://") {
                "[url]".to_string()
            } else if word.to_ascii_lowercase().contains("token=")
                || word.to_ascii_lowercase().starts_with("bearer")
            {
                "[redacted]".to_string()
            } else {
                word.to_string()
            }
        })
        .collect();
    let joined = cleaned.join(" ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}…")
    } else {
        joined
    }
}
