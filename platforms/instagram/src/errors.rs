//! The one place Instagram's error answers become [`PublishError`]s.
//!
//! Graph answers `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`;
//! the resumable-upload host answers `{"debug_info": {"retriable", "type", "message"}}`.

use std::time::Duration;

use fanout_core::{ErrorKind, PublishError};
use fanout_kit::{retry_after, sanitize_platform_message, Platform};
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// The platform's name as people write it.
pub(crate) const PLATFORM: &str = "Instagram";

/// Instagram for the kit: its name, its config table and its error mapping.
pub(crate) const INSTAGRAM: Platform = Platform {
    name: PLATFORM,
    key: "instagram",
    parse_error: from_response,
};

/// How long the daily publishing cap lasts; also stops the retry helper from waiting.
const PUBLISHING_CAP_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Subcode: the account reached its publishing limit.
pub(crate) const SUBCODE_PUBLISHING_LIMIT: i64 = 2_207_042;
/// Subcode: the container is not ready to be published.
pub(crate) const SUBCODE_NOT_READY: i64 = 2_207_027;
/// Code: the container is not ready to be published.
pub(crate) const CODE_NOT_READY: i64 = 9007;

#[derive(Debug, Default, Deserialize)]
struct GraphBody {
    error: Option<GraphError>,
    debug_info: Option<DebugInfo>,
}

/// Graph's error object.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    error_user_msg: Option<String>,
    #[serde(default)]
    is_transient: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct DebugInfo {
    #[serde(default)]
    retriable: Option<bool>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The error for the daily publishing cap, reached with `used` of `total` posts.
pub(crate) fn publishing_cap_reached(detail: Option<(u64, u64)>) -> PublishError {
    let count = match detail {
        Some((used, total)) => format!(" ({used} of {total} posts in the last 24 hours)"),
        None => String::new(),
    };
    PublishError::new(
        ErrorKind::RateLimited,
        format!(
            "Rate limited by {PLATFORM}: this account has reached its daily publishing cap{count}. \
             Nothing was uploaded; try again in 24 hours."
        ),
    )
    .with_retry_after(Some(PUBLISHING_CAP_WINDOW))
}

/// Maps an answer with a non-success `status` (of Graph or of the resumable-upload
/// host) to a [`PublishError`].
pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> PublishError {
    let parsed: GraphBody = serde_json::from_slice(body).unwrap_or_default();
    match (parsed.error, parsed.debug_info) {
        (Some(error), _) => from_graph_error(status, headers, &error),
        (None, Some(info)) => from_debug_info(status, &info),
        (None, None) => INSTAGRAM.from_status(status, headers),
    }
}

fn from_graph_error(status: u16, headers: &HeaderMap, error: &GraphError) -> PublishError {
    let code = error.code.unwrap_or_default();
    let subcode = error.error_subcode.unwrap_or_default();
    let shown = sanitize_platform_message(
        error
            .error_user_msg
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(&error.message),
    );
    let shown = shown.trim_end_matches('.');
    let media_family = |n: i64| (2_207_000..2_208_000).contains(&n);
    match code {
        190 => PublishError::token_expired(PLATFORM),
        4 | 17 | 32 | 613 | 80002 => PublishError::rate_limited(PLATFORM, retry_after(headers)),
        9 if subcode == SUBCODE_PUBLISHING_LIMIT => publishing_cap_reached(None),
        _ if subcode == SUBCODE_PUBLISHING_LIMIT => publishing_cap_reached(None),
        _ if code == CODE_NOT_READY || subcode == SUBCODE_NOT_READY => {
            PublishError::transient(format!(
                "{PLATFORM} has not finished processing the media yet ({shown}); try again in a \
                 few minutes."
            ))
        }
        100 if !media_family(subcode) => PublishError::rejected(format!(
            "{PLATFORM} rejected a parameter of the post: {shown}. Correct it and upload again."
        )),
        _ if media_family(code) || media_family(subcode) => PublishError::media_rejected(format!(
            "{PLATFORM} rejected the media: {shown}. Check the format (JPEG photos, MP4/MOV \
             video) and size, then upload again."
        )),
        1 | 2 => INSTAGRAM.temporary(status),
        _ if error.is_transient == Some(true) || status >= 500 => INSTAGRAM.temporary(status),
        10 | 200..=299 => PublishError::rejected(format!(
            "{PLATFORM} refused permission to publish: {shown}. Reconnect the account and grant \
             the content publishing permission."
        )),
        _ => PublishError::rejected(format!(
            "{PLATFORM} refused the post (error {code}): {shown}."
        )),
    }
}

fn from_debug_info(status: u16, info: &DebugInfo) -> PublishError {
    let kind = info.kind.as_deref().unwrap_or_default();
    if status == 401 || kind.contains("Auth") || kind.contains("OAuth") {
        return PublishError::token_expired(PLATFORM);
    }
    if info.retriable == Some(true) || status >= 500 {
        return INSTAGRAM.temporary(status);
    }
    let shown = sanitize_platform_message(info.message.as_deref().unwrap_or("no reason given"));
    PublishError::media_rejected(format!(
        "{PLATFORM} refused the video upload: {shown}. Upload the video again."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use serde_json::json;

    fn graph(status: u16, error: serde_json::Value) -> PublishError {
        from_response(
            status,
            &HeaderMap::new(),
            json!({ "error": error }).to_string().as_bytes(),
        )
    }

    #[test]
    fn code_190_is_token_expired_whatever_the_subcode() {
        for subcode in [json!(463), json!(460), json!(467), json!(null)] {
            let err = graph(
                400,
                json!({"message": "Error validating access token", "type": "OAuthException",
                       "code": 190, "error_subcode": subcode, "fbtrace_id": "A1"}),
            );
            assert_eq!(err, PublishError::token_expired("Instagram"));
        }
    }

    #[test]
    fn rate_limit_codes_honour_retry_after() {
        for code in [4, 17, 32, 613, 80002] {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
            let body = json!({"error": {"message": "Application request limit reached",
                                        "type": "OAuthException", "code": code}});
            let err = from_response(400, &headers, body.to_string().as_bytes());
            assert_eq!(err.kind(), ErrorKind::RateLimited, "code {code}");
            assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
            assert_eq!(
                err.message(),
                "Rate limited by Instagram, retry after 7 seconds."
            );
        }
        let err = graph(400, json!({"message": "x", "code": 17}));
        assert_eq!(err.message(), "Rate limited by Instagram, retry later.");
        assert_eq!(err.retry_after(), None);
    }

    #[test]
    fn publishing_limit_names_the_daily_cap_and_is_not_retried_soon() {
        let err = graph(
            400,
            json!({"message": "Application request limit reached", "type": "OAuthException",
                   "code": 9, "error_subcode": 2207042}),
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(
            err.message(),
            "Rate limited by Instagram: this account has reached its daily publishing cap. \
             Nothing was uploaded; try again in 24 hours."
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn code_100_names_the_parameter_sanitized() {
        let err = graph(
            400,
            json!({"message": "(#100) Param caption must be at most 2200 characters long. see https://x.test/?access_token=abc",
                   "type": "OAuthException", "code": 100}),
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert_eq!(
            err.message(),
            "Instagram rejected a parameter of the post: (#100) Param caption must be at most \
             2200 characters long. see [url]. Correct it and upload again."
        );
    }

    #[test]
    fn media_family_is_media_rejected() {
        for (code, subcode) in [
            (9004, 2207052),
            (2207026, 0),
            (100, 2207026),
            (36003, 2207009),
        ] {
            let err = graph(
                400,
                json!({"message": "Media download has failed.", "code": code,
                       "error_subcode": subcode, "error_user_msg": "The media could not be fetched"}),
            );
            assert_eq!(err.kind(), ErrorKind::MediaRejected, "{code}/{subcode}");
            assert_eq!(
                err.message(),
                "Instagram rejected the media: The media could not be fetched. Check the format \
                 (JPEG photos, MP4/MOV video) and size, then upload again."
            );
        }
    }

    #[test]
    fn codes_1_2_and_5xx_are_transient() {
        for (status, code) in [(500, 1), (500, 2), (400, 1), (503, 0)] {
            let err = graph(
                status,
                json!({"message": "An unexpected error has occurred", "code": code}),
            );
            assert_eq!(err.kind(), ErrorKind::Transient, "{status}/{code}");
            assert!(err.is_retryable());
            assert_eq!(
                err.message(),
                format!("Instagram had a temporary problem (HTTP {status}); try again in a few minutes.")
            );
        }
        let err = from_response(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!(err.kind(), ErrorKind::Transient);
    }

    #[test]
    fn not_ready_is_transient() {
        let err = graph(
            400,
            json!({"message": "The media is not ready for publishing, please wait for a moment",
                   "code": 9007, "error_subcode": 2207027}),
        );
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert!(err
            .message()
            .starts_with("Instagram has not finished processing the media yet"));
    }

    #[test]
    fn permission_and_unknown_codes_are_rejected() {
        let err = graph(
            403,
            json!({"message": "(#10) Application does not have permission", "code": 10}),
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert!(err
            .message()
            .starts_with("Instagram refused permission to publish"));
        let err = graph(400, json!({"message": "Something odd", "code": 24}));
        assert_eq!(
            err.message(),
            "Instagram refused the post (error 24): Something odd."
        );
    }

    #[test]
    fn upload_host_answers() {
        let h = HeaderMap::new();
        let retriable = json!({"debug_info": {"retriable": true, "type": "ServerError", "message": "try later"}});
        assert_eq!(
            from_response(503, &h, retriable.to_string().as_bytes()).kind(),
            ErrorKind::Transient
        );
        let auth =
            json!({"debug_info": {"retriable": false, "type": "AuthError", "message": "bad"}});
        assert_eq!(
            from_response(401, &h, auth.to_string().as_bytes()),
            PublishError::token_expired("Instagram")
        );
        let bad = json!({"debug_info": {"retriable": false, "type": "ProcessingFailedError",
                                        "message": "offset 5 does not match 0 bytes received"}});
        let err = from_response(400, &h, bad.to_string().as_bytes());
        assert_eq!(err.kind(), ErrorKind::MediaRejected);
        assert_eq!(
            err.message(),
            "Instagram refused the video upload: offset 5 does not match 0 bytes received. Upload the video again."
        );
    }

    #[test]
    fn bare_statuses() {
        let h = HeaderMap::new();
        assert_eq!(
            from_response(401, &h, b""),
            PublishError::token_expired("Instagram")
        );
        assert_eq!(from_response(429, &h, b"").kind(), ErrorKind::RateLimited);
        assert_eq!(
            from_response(418, &h, b"").message(),
            "Instagram refused the request (HTTP 418) without saying why; try again later."
        );
    }
}
