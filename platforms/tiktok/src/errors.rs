//! The one place TikTok's error answers become [`PublishError`]s.
//!
//! Every TikTok answer carries `{"error": {"code", "message", "log_id"}}`; `code` is
//! `"ok"` on success, and an HTTP 200 with any other code is an error. A failed post
//! reads `{"data": {"status": "FAILED", "fail_reason": …}}` on the status fetch.

use fanout_core::PublishError;
use fanout_kit::{retry_after, sanitize_platform_message, Platform};
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// The platform's name as people write it.
pub(crate) const PLATFORM: &str = "TikTok";

/// TikTok for the kit's HTTP session: its name, its config table, its error mapping.
pub(crate) const TIKTOK: Platform = Platform {
    name: PLATFORM,
    key: "tiktok",
    parse_error: from_response,
};

/// TikTok's error object.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ApiError {
    /// `"ok"` on success, else the error code (`access_token_invalid`, …).
    #[serde(default)]
    pub(crate) code: String,
    /// What went wrong, in TikTok's words.
    #[serde(default)]
    pub(crate) message: String,
    /// TikTok's id of the request, for their support.
    #[serde(default)]
    pub(crate) log_id: String,
}

impl ApiError {
    /// Whether this is the success marker.
    pub(crate) fn is_ok(&self) -> bool {
        self.code.is_empty() || self.code == "ok"
    }
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ApiError>,
}

/// Maps an answer (any status) whose body is not a success to a [`PublishError`].
pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> PublishError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    match parsed.error.filter(|e| !e.is_ok()) {
        Some(error) => from_code(status, headers, &error),
        None => TIKTOK.from_status(status, headers),
    }
}

/// Maps TikTok's error `code` (with the HTTP status it came with).
pub(crate) fn from_code(status: u16, headers: &HeaderMap, error: &ApiError) -> PublishError {
    if error.log_id.is_empty() {
        tracing::debug!(code = %error.code, status, "tiktok answered an error");
    } else {
        tracing::debug!(code = %error.code, status, log_id = %error.log_id, "tiktok answered an error");
    }
    let shown = sanitize_platform_message(&error.message);
    let shown = shown.trim_end_matches('.');
    let detail = if shown.is_empty() {
        String::new()
    } else {
        format!(" ({shown})")
    };
    match error.code.as_str() {
        "access_token_invalid" => PublishError::token_expired(PLATFORM),
        "rate_limit_exceeded" => PublishError::rate_limited(PLATFORM, retry_after(headers)),
        "scope_not_authorized" | "scope_permission_missed" => PublishError::rejected(format!(
            "{PLATFORM} refused the post: the connected account did not allow this app to post \
             videos (the video.publish permission). Reconnect the {PLATFORM} account and allow \
             posting."
        )),
        "privacy_level_option_mismatch" => PublishError::rejected(format!(
            "{PLATFORM} refused the privacy level: it is not one this creator may use{detail}. \
             Choose one of the creator's privacy levels and upload again."
        )),
        "unaudited_client_can_only_post_to_private_accounts" => PublishError::rejected(format!(
            "{PLATFORM} lets this app post only privately until it passes TikTok's audit: set \
             privacy_level to SELF_ONLY on a private account, or have the app audited."
        )),
        "url_ownership_unverified" => PublishError::rejected(format!(
            "{PLATFORM} refused to pull the media: the domain of the media URL is not verified \
             for this app. Verify the media host's domain (public_base_url) in the TikTok \
             developer portal, then upload again."
        )),
        "reached_active_user_cap" => PublishError::rejected(format!(
            "{PLATFORM} refused the post: this app has reached its daily cap of accounts that \
             may post. Try again tomorrow."
        )),
        "invalid_params" => PublishError::rejected(format!(
            "{PLATFORM} rejected a parameter of the post{detail}. Correct it and upload again."
        )),
        "internal_error" => TIKTOK.temporary(status),
        code => match media_problem(code) {
            Some(error) => error,
            None => match spam_problem(code) {
                Some(error) => error,
                None => other(status, headers, code, &detail),
            },
        },
    }
}

/// Maps a `FAILED` status's `fail_reason`.
pub(crate) fn from_fail_reason(reason: &str) -> PublishError {
    let reason = sanitize_platform_message(reason);
    if let Some(error) = media_problem(&reason).or_else(|| spam_problem(&reason)) {
        return error;
    }
    match reason.as_str() {
        "auth_removed" | "access_token_invalid" => PublishError::token_expired(PLATFORM),
        "video_pull_failed" | "photo_pull_failed" => PublishError::rejected(format!(
            "{PLATFORM} could not download the media from the media host; make sure \
             public_base_url is reachable from the internet, then upload again."
        )),
        "publish_cancelled" => PublishError::rejected(format!(
            "The {PLATFORM} post was cancelled before it was published; upload again if it \
             should appear."
        )),
        "" => PublishError::rejected(format!(
            "{PLATFORM} could not publish the post and gave no reason; upload again."
        )),
        other => PublishError::rejected(format!(
            "{PLATFORM} could not publish the post (reason: {other}); correct it and upload \
             again."
        )),
    }
}

/// The media-check codes (from an error or a `fail_reason`).
fn media_problem(code: &str) -> Option<PublishError> {
    let what = match code {
        "file_format_check_failed" => {
            "its format is not supported. Send an MP4, MOV or WebM video, or JPEG or WebP photos"
        }
        "duration_check_failed" => {
            "its duration is outside what this creator may post. Trim the video and try again"
        }
        "frame_rate_check_failed" => {
            "its frame rate is not supported (23 to 60 frames per second). Re-encode the video"
        }
        "picture_size_check_failed" => {
            "its picture size is not supported (photos up to 1080p, videos at least 360 pixels \
             high and wide). Resize it"
        }
        "invalid_file_upload" => {
            "the uploaded file does not meet TikTok's specifications. Check the file and upload \
             it again"
        }
        _ => return None,
    };
    Some(PublishError::media_rejected(format!(
        "{PLATFORM} rejected the media: {what}."
    )))
}

/// The `spam_risk_*` family.
fn spam_problem(code: &str) -> Option<PublishError> {
    let message = match code {
        "spam_risk_too_many_posts" => format!(
            "{PLATFORM} refused the post: this account has reached its daily posting limit. \
             Try again tomorrow."
        ),
        "spam_risk_user_banned_from_posting" => format!(
            "{PLATFORM} refused the post: this account is currently banned from posting. Check \
             the account in the TikTok app."
        ),
        "spam_risk_too_many_pending_share" => format!(
            "{PLATFORM} refused the post: this account has too many posts waiting to be \
             reviewed. Try again later."
        ),
        c if c.starts_with("spam_risk") => format!(
            "{PLATFORM} refused the post as a spam risk. Wait before posting again and check the \
             account in the TikTok app."
        ),
        _ => return None,
    };
    Some(PublishError::rejected(message))
}

/// An unknown code: by its status when that says enough (401, 429, 5xx).
fn other(status: u16, headers: &HeaderMap, code: &str, detail: &str) -> PublishError {
    match status {
        401 | 429 | 500.. => TIKTOK.from_status(status, headers),
        _ => PublishError::rejected(format!(
            "{PLATFORM} refused the post (error {}){detail}.",
            sanitize_platform_message(code)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanout_core::ErrorKind;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use serde_json::json;
    use std::time::Duration;

    fn answer(status: u16, code: &str, message: &str) -> PublishError {
        let body =
            json!({"data": {}, "error": {"code": code, "message": message, "log_id": "20240101"}});
        from_response(status, &HeaderMap::new(), body.to_string().as_bytes())
    }

    #[test]
    fn access_token_invalid_is_the_reconnect_sentence() {
        assert_eq!(
            answer(401, "access_token_invalid", "The access token is invalid"),
            PublishError::token_expired("TikTok")
        );
        // HTTP 200 with an error code is still an error.
        assert_eq!(
            answer(200, "access_token_invalid", ""),
            PublishError::token_expired("TikTok")
        );
    }

    #[test]
    fn rate_limit_honours_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let body = json!({"error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x"}});
        let err = from_response(429, &headers, body.to_string().as_bytes());
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            err.message(),
            "Rate limited by TikTok, retry after 7 seconds."
        );
        let err = from_response(429, &HeaderMap::new(), b"not json");
        assert_eq!(err.message(), "Rate limited by TikTok, retry later.");
    }

    #[test]
    fn refusals_say_what_to_do() {
        let cases = [
            ("spam_risk_too_many_posts", "TikTok refused the post: this account has reached its daily posting limit. Try again tomorrow."),
            ("spam_risk_user_banned_from_posting", "TikTok refused the post: this account is currently banned from posting. Check the account in the TikTok app."),
            ("spam_risk_text", "TikTok refused the post as a spam risk. Wait before posting again and check the account in the TikTok app."),
            ("reached_active_user_cap", "TikTok refused the post: this app has reached its daily cap of accounts that may post. Try again tomorrow."),
            ("unaudited_client_can_only_post_to_private_accounts", "TikTok lets this app post only privately until it passes TikTok's audit: set privacy_level to SELF_ONLY on a private account, or have the app audited."),
            ("url_ownership_unverified", "TikTok refused to pull the media: the domain of the media URL is not verified for this app. Verify the media host's domain (public_base_url) in the TikTok developer portal, then upload again."),
            ("scope_not_authorized", "TikTok refused the post: the connected account did not allow this app to post videos (the video.publish permission). Reconnect the TikTok account and allow posting."),
        ];
        for (code, want) in cases {
            let err = answer(403, code, "ignored details");
            assert_eq!(err.kind(), ErrorKind::Rejected, "{code}");
            assert_eq!(err.message(), want, "{code}");
        }
    }

    #[test]
    fn parameter_problems_quote_tiktok_without_urls() {
        let err = answer(
            400,
            "privacy_level_option_mismatch",
            "privacy_level is not allowed.",
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert_eq!(
            err.message(),
            "TikTok refused the privacy level: it is not one this creator may use \
             (privacy_level is not allowed). Choose one of the creator's privacy levels and \
             upload again."
        );
        let err = answer(
            400,
            "invalid_params",
            "photo_images https://media.test/x?sig=abc is invalid",
        );
        assert_eq!(
            err.message(),
            "TikTok rejected a parameter of the post (photo_images [url] is invalid). Correct \
             it and upload again."
        );
    }

    #[test]
    fn media_checks_are_media_rejected() {
        for (code, fragment) in [
            ("file_format_check_failed", "format is not supported"),
            ("duration_check_failed", "duration"),
            ("frame_rate_check_failed", "frame rate"),
            ("picture_size_check_failed", "picture size"),
        ] {
            let err = answer(400, code, "");
            assert_eq!(err.kind(), ErrorKind::MediaRejected, "{code}");
            assert!(
                err.message().starts_with("TikTok rejected the media: "),
                "{err}"
            );
            assert!(err.message().contains(fragment), "{code}: {err}");
            assert_eq!(from_fail_reason(code).kind(), ErrorKind::MediaRejected);
        }
    }

    #[test]
    fn internal_errors_and_5xx_are_transient() {
        let err = answer(500, "internal_error", "Something went wrong");
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert_eq!(
            err.message(),
            "TikTok had a temporary problem (HTTP 500); try again in a few minutes."
        );
        assert_eq!(
            from_response(503, &HeaderMap::new(), b"<html>").kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            answer(200, "internal_error", "").kind(),
            ErrorKind::Transient
        );
    }

    #[test]
    fn unknown_codes_fall_back_on_the_status() {
        assert_eq!(
            answer(401, "some_new_code", "x"),
            PublishError::token_expired("TikTok")
        );
        assert_eq!(
            answer(502, "some_new_code", "x").kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            answer(400, "some_new_code", "bad thing").message(),
            "TikTok refused the post (error some_new_code) (bad thing)."
        );
        assert_eq!(
            from_response(404, &HeaderMap::new(), b"").message(),
            "TikTok refused the request (HTTP 404) without saying why; try again later."
        );
    }

    #[test]
    fn fail_reasons_read_as_sentences() {
        assert_eq!(
            from_fail_reason("auth_removed"),
            PublishError::token_expired("TikTok")
        );
        assert_eq!(
            from_fail_reason("photo_pull_failed").message(),
            "TikTok could not download the media from the media host; make sure \
             public_base_url is reachable from the internet, then upload again."
        );
        assert_eq!(
            from_fail_reason("spam_risk_too_many_posts").kind(),
            ErrorKind::Rejected
        );
        assert_eq!(
            from_fail_reason("something_else").message(),
            "TikTok could not publish the post (reason: something_else); correct it and \
             upload again."
        );
    }
}
